/* GAMP-RIE: Stieltjes roots against the cubic, density normalisation, the
 * theory curve at the paper's anchors, and GAMP-RIE against the theory at d = 60. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/theory.h"

int main(void)
{
    double re[3], im[3], k = 0.5, D = 0.3;
    PK_CHECK(pk_gamp_cubic_roots(0.1, 0, D, re, im) == PK_EINVAL);
    /* each root satisfies the cubic (complex arithmetic by hand) */
    for (double x = -1; x <= 4; x += 0.37) {
        PK_CHECK_OK(pk_gamp_cubic_roots(x, k, D, re, im));
        double sk = sqrt(k);
        for (int i = 0; i < 3; i++) {
            double a = re[i], b = im[i];
            double a2 = a * a - b * b, b2 = 2 * a * b, a3 = a2 * a - b2 * b, b3 = a2 * b + b2 * a;
            double pr = D * a3 - (x + D * sk) * a2 + (x * sk - k + 1) * a - sk;
            double pi_ = D * b3 - (x + D * sk) * b2 + (x * sk - k + 1) * b;
            PK_CHECK(fabs(pr) < 1e-9 && fabs(pi_) < 1e-9);
        }
    }
    /* the density integrates to 1 and has mean sqrt(kappa) (the mean of S) */
    double m0 = 0, m1 = 0, h = 1e-3;
    for (double x = -3; x < 6; x += h) {
        double r = pk_gamp_density(x, k, D);
        m0 += r * h, m1 += x * r * h;
    }
    PK_CHECK_CLOSE(m0, 1.0, 2e-3, 0);
    PK_CHECK_CLOSE(m1, sqrt(k), 2e-3, 0);
    /* denoising MMSE: ~D for small D, -> prior variance 1 for large D */
    double mm;
    PK_CHECK_OK(pk_gamp_denoise_mmse(k, 1e-4, &mm));
    PK_CHECK(mm < 1e-4 && mm > 0.5e-4);
    PK_CHECK_OK(pk_gamp_denoise_mmse(k, 1e4, &mm));
    PK_CHECK_CLOSE(mm, 1.0, 2e-3, 0);
    /* the paper's anchors (kappa = 0.5, noiseless) */
    const double al[3] = {0.113, 0.231, 0.348}, want[3] = {0.681, 0.301, 0.0416};
    for (int i = 0; i < 3; i++) {
        double e;
        PK_CHECK_OK(pk_gamp_theory(0.5, al[i], 0, &e));
        PK_CHECK_MSG(fabs(e - want[i]) < 0.003, "alpha %g: theory %g paper %g", al[i], e, want[i]);
    }
    double e;
    PK_CHECK_OK(pk_gamp_theory(0.5, 0.40, 0, &e));
    PK_CHECK(e < 1e-10); /* perfect recovery above kappa - kappa^2/2 = 0.375 */
    double en;
    PK_CHECK_OK(pk_gamp_theory(0.5, 0.40, 0.1, &en));
    PK_CHECK(en > 1e-3);

    /* GAMP-RIE at d = 60 against the theory: on the network's own design
     * (damped output channel; it diverged undamped in session 1) and on the
     * Gaussian-equivalent GOE design; at d = 60 the finite-size excess is
     * +0.01..0.06 over seeds at alpha = 0.2 (the authors see +0.026 at d = 100) */
    pk_rng r;
    pk_rng_seed(&r, 5);
    size_t d = 60, m = 30;
    struct {
        pk_gamp_design des;
        double alpha, tol;
        size_t iters;
    } cs[3] = {{PK_GAMP_RANK1, 0.2, 0.08, 100}, {PK_GAMP_RANK1, 0.45, 2e-3, 200}, {PK_GAMP_GOE, 0.2, 0.05, 40}};
    double tr[200];
    pk_mat *S = pk_mat_new(d, d);
    for (int i = 0; i < 3; i++) {
        pk_gamp_problem *p;
        size_t n = (size_t)(cs[i].alpha * d * d);
        PK_CHECK_OK(pk_gamp_problem_new(d, m, n, 0, cs[i].des, &r, &p));
        PK_CHECK_OK(pk_gamp_rie(p, cs[i].iters, 0.5, S, tr));
        double th, got = tr[cs[i].iters - 1];
        PK_CHECK_OK(pk_gamp_theory(0.5, cs[i].alpha, 0, &th));
        PK_CHECK_MSG(fabs(got - th) < cs[i].tol, "design %d alpha %g: GAMP-RIE %g theory %g", (int)cs[i].des,
                     cs[i].alpha, got, th);
        pk_gamp_problem_free(p);
    }
    pk_mat_free(S);
    PK_CHECK(pk_gamp_rie(NULL, 10, 0.5, NULL, NULL) == PK_EINVAL);
    return pk_test_done();
}
