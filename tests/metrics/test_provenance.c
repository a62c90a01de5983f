/* Spearman / permutation / reshuffle tests against scipy and mpmath. */
#include <math.h>
#include <stdlib.h>

#include "fixture.h"
#include "pk_test.h"
#include "probkit/metrics.h"

static int ncases;

static void on_line(const char *name, const double *v, size_t nv, void *ctx)
{
    (void)ctx;
    if (!strcmp(name, "case")) {
        size_t n = (size_t)v[0];
        PK_CHECK(nv == 2 * n + 3);
        if (nv != 2 * n + 3)
            return;
        pk_spearman_result r;
        PK_CHECK_OK(pk_spearman(v + 1, v + 1 + n, n, &r, NULL));
        PK_CHECK_CLOSE(r.rho, v[2 * n + 1], 1e-13, 1e-12);
        PK_CHECK_CLOSE(r.log10_p, v[2 * n + 2], 1e-10, 1e-9);
        ncases++;
    } else if (!strcmp(name, "tp")) {
        PK_CHECK_CLOSE(pk_t_log10_pvalue_two_sided(v[0], v[1]), v[2], 1e-12, 1e-10);
        PK_CHECK_CLOSE(pk_t_log10_pvalue_two_sided(-v[0], v[1]), v[2], 1e-12, 1e-10);
    } else if (!strcmp(name, "betainc")) {
        PK_CHECK_CLOSE(pk_log10_betainc(v[0], v[1], v[2]), v[3], 1e-13, 1e-10);
    }
}

/* Under independence the Spearman p-values are (close to) uniform: check the
 * rejection rate at 0.05 and 0.01 and a coarse histogram over 2000 simulations. */
static void test_null_uniform(void)
{
    pk_rng r;
    pk_rng_seed(&r, 11);
    enum { S = 2000, N = 60 };
    double x[N], y[N];
    int rej05 = 0, rej01 = 0, hist[10] = {0};
    for (int s = 0; s < S; s++) {
        for (int i = 0; i < N; i++) {
            x[i] = i;
            y[i] = pk_rng_normal(&r);
        }
        pk_spearman_result res;
        PK_CHECK_OK(pk_spearman(x, y, N, &res, NULL));
        double p = pow(10, res.log10_p);
        rej05 += p < 0.05;
        rej01 += p < 0.01;
        int b = (int)(p * 10);
        hist[b > 9 ? 9 : b]++;
    }
    /* binomial sd at S = 2000: 0.0049 (5%) and 0.0022 (1%); allow about 3 sd */
    PK_CHECK_MSG(fabs(rej05 / (double)S - 0.05) < 0.015, "size at 5%%: %g", rej05 / (double)S);
    PK_CHECK_MSG(fabs(rej01 / (double)S - 0.01) < 0.007, "size at 1%%: %g", rej01 / (double)S);
    for (int b = 0; b < 10; b++)
        PK_CHECK_MSG(abs(hist[b] - S / 10) < 60, "decile %d holds %d of %d", b, hist[b], S);
}

static void test_permutation(void)
{
    /* n = 5 perfect order: exactly 1 of 120 orders reaches rho = 1 */
    double x[] = {1, 2, 3, 4, 5}, y[] = {10, 20, 30, 40, 50};
    double p;
    int exact = 0;
    pk_rng r;
    pk_rng_seed(&r, 5);
    PK_CHECK_OK(pk_spearman_permutation(x, y, 5, 0, &r, &p, &exact, NULL));
    PK_CHECK(exact == 1);
    PK_CHECK_CLOSE(p, 1.0 / 120.0, 1e-15, 0);
    /* Monte Carlo agrees with the t approximation for a moderate effect at n = 40 */
    double a[40], b[40];
    for (int i = 0; i < 40; i++) {
        a[i] = i;
        b[i] = 0.05 * i + pk_rng_normal(&r);
    }
    pk_spearman_result res;
    PK_CHECK_OK(pk_spearman(a, b, 40, &res, NULL));
    PK_CHECK_OK(pk_spearman_permutation(a, b, 40, 20000, &r, &p, &exact, NULL));
    PK_CHECK(exact == 0);
    double pt = pow(10, res.log10_p_one);
    PK_CHECK_MSG(fabs(p - pt) < 0.01 + 0.15 * pt, "perm %g vs t %g", p, pt);
}

static void test_reshuffle_and_errors(void)
{
    double null[] = {0.1, -0.2, 0.05, 0.0, -0.05};
    pk_reshuffle_result rr;
    PK_CHECK_OK(pk_reshuffle_ztest(1.0, null, 5, &rr, NULL));
    double mean = -0.02, sd = sqrt((0.0144 + 0.0324 + 0.0049 + 0.0004 + 0.0009) / 4);
    PK_CHECK_CLOSE(rr.z, (1.0 - mean) / sd, 1e-12, 1e-12);
    PK_CHECK_CLOSE(rr.p_rank, 1.0 / 6.0, 1e-15, 0);
    PK_CHECK_CLOSE(rr.log10_p_normal, log10(0.5 * erfc(rr.z / M_SQRT2)), 1e-10, 1e-10);
    /* the asymptotic branch joins the erfc branch smoothly */
    double n2[] = {-1, 1};
    PK_CHECK_OK(pk_reshuffle_ztest(29.9999 * M_SQRT2, n2, 2, &rr, NULL));
    double l1 = rr.log10_p_normal;
    PK_CHECK_OK(pk_reshuffle_ztest(30.0001 * M_SQRT2, n2, 2, &rr, NULL));
    PK_CHECK(fabs(rr.log10_p_normal - l1) < 0.004);
    pk_err e;
    PK_CHECK(pk_reshuffle_ztest(1.0, null, 1, &rr, &e) == PK_EINVAL);
    double c[] = {1, 1, 1}, d[] = {1, 2, 3};
    pk_spearman_result s;
    PK_CHECK(pk_spearman(c, d, 3, &s, &e) == PK_EDOM);
    PK_CHECK(pk_spearman(c, d, 2, &s, &e) == PK_EINVAL);
    d[1] = NAN;
    PK_CHECK(pk_spearman(d, c, 3, &s, &e) == PK_EDOM);
    /* extreme evidence: n = 100000 perfectly ordered-with-noise gives log10 p far below -308 */
    enum { N = 20000 };
    double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    pk_rng r;
    pk_rng_seed(&r, 9);
    for (int i = 0; i < N; i++) {
        x[i] = i;
        y[i] = i + 3000.0 * pk_rng_normal(&r);
    }
    PK_CHECK_OK(pk_spearman(x, y, N, &s, NULL));
    PK_CHECK(s.log10_p < -400 && isfinite(s.log10_p));
    PK_CHECK_CLOSE(s.log10_p_one, s.log10_p - log10(2.0), 1e-9, 0);
    free(x);
    free(y);
}

int main(void)
{
    PK_CHECK(fixture_each("provenance.txt", on_line, NULL) == 0);
    PK_CHECK(ncases == 4);
    test_null_uniform();
    test_permutation();
    test_reshuffle_and_errors();
    return pk_test_done();
}
