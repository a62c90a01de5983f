/* Multi-sample statistics against exact binomials and scipy. */
#include <math.h>
#include <stdlib.h>

#include "fixture.h"
#include "pk_test.h"
#include "probkit/metrics.h"

static int nfx;

static void on_line(const char *name, const double *v, size_t nv, void *ctx)
{
    (void)ctx;
    if (!strcmp(name, "passk") && nv == 4) {
        PK_CHECK_CLOSE(pk_pass_at_k((uint64_t)v[0], (uint64_t)v[1], (uint64_t)v[2]), v[3], 1e-14, 1e-12);
        nfx++;
    } else if (!strcmp(name, "interval") && nv == 6) {
        double lo, hi;
        pk_clopper_pearson((uint64_t)v[0], (uint64_t)v[1], 0.05, &lo, &hi);
        PK_CHECK_CLOSE(lo, v[2], 1e-10, 1e-8);
        PK_CHECK_CLOSE(hi, v[3], 1e-10, 1e-8);
        pk_wilson_interval((uint64_t)v[0], (uint64_t)v[1], 1.959963984540054, &lo, &hi);
        PK_CHECK_CLOSE(lo, v[4], 1e-12, 1e-10);
        PK_CHECK_CLOSE(hi, v[5], 1e-12, 1e-10);
        nfx++;
    }
}

int main(void)
{
    PK_CHECK(fixture_each("multisample.txt", on_line, NULL) == 0);
    PK_CHECK(nfx == 10);
    PK_CHECK(isnan(pk_pass_at_k(5, 6, 1)));
    PK_CHECK(isnan(pk_pass_at_k(5, 2, 6)));
    /* pass@1 is the plain accuracy */
    PK_CHECK_CLOSE(pk_pass_at_k(37, 11, 1), 11.0 / 37.0, 1e-15, 1e-13);
    /* tail risk and the rule of three: at 0 failures in n, the 95% upper bound is about 3/n */
    PK_CHECK_CLOSE(pk_tail_risk(0.01, 100), 1 - pow(0.99, 100), 1e-15, 1e-13);
    PK_CHECK_CLOSE(pk_tail_risk(0.0, 100), 0.0, 0, 0);
    double lo, hi;
    pk_clopper_pearson(0, 300, 0.10, &lo, &hi); /* one-sided 95% upper bound */
    PK_CHECK_CLOSE(hi, 3.0 / 300, 0, 0.01);
    double c[] = {5, 5, 0}, c1[] = {7};
    PK_CHECK_CLOSE(pk_entropy_bits(c, 3), 1.0, 1e-15, 0);
    PK_CHECK_CLOSE(pk_entropy_bits(c1, 1), 0.0, 0, 0);
    /* majority: answers A (correct) x6, B x4 -> plurality of all 10 is A */
    uint64_t cnt[] = {6, 4};
    int ok[] = {1, 0};
    double p;
    PK_CHECK_OK(pk_majority_at_k(cnt, ok, 2, 10, 0, NULL, &p, NULL));
    PK_CHECK_CLOSE(p, 1.0, 0, 0);
    /* k = 1: majority@1 equals accuracy 0.6; k = 3 without replacement from 6/4:
     * P(at least 2 A) = [C(6,2)C(4,1) + C(6,3)] / C(10,3) = (60 + 20) / 120 */
    pk_rng r;
    pk_rng_seed(&r, 6);
    PK_CHECK_OK(pk_majority_at_k(cnt, ok, 2, 1, 200000, &r, &p, NULL));
    PK_CHECK_CLOSE(p, 0.6, 0.005, 0);
    PK_CHECK_OK(pk_majority_at_k(cnt, ok, 2, 3, 200000, &r, &p, NULL));
    PK_CHECK_CLOSE(p, 80.0 / 120.0, 0.005, 0);
    /* a 2-2 tie splits the credit */
    uint64_t tie[] = {2, 2};
    PK_CHECK_OK(pk_majority_at_k(tie, ok, 2, 4, 0, NULL, &p, NULL));
    PK_CHECK_CLOSE(p, 0.5, 0, 0);
    pk_err e;
    PK_CHECK(pk_majority_at_k(cnt, ok, 2, 11, 10, &r, &p, &e) == PK_EINVAL);
    PK_CHECK(pk_majority_at_k(cnt, ok, 2, 3, 0, &r, &p, &e) == PK_EINVAL);
    return pk_test_done();
}
