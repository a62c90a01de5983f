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

    /* GAMP-RIE at d = 60 against the theory */
    pk_rng r;
    pk_rng_seed(&r, 5);
    size_t d = 60, m = 30;
    double alphas[2] = {0.2, 0.45};
    for (int i = 0; i < 2; i++) {
        pk_gamp_problem *p;
        size_t n = (size_t)(alphas[i] * d * d);
        PK_CHECK_OK(pk_gamp_problem_new(d, m, n, 0, PK_GAMP_GOE, &r, &p));
        pk_mat *S = pk_mat_new(d, d);
        double tr[40];
        PK_CHECK_OK(pk_gamp_rie(p, 40, 0, S, tr));
        double th;
        PK_CHECK_OK(pk_gamp_theory(0.5, alphas[i], 0, &th));
        for (int t = 0; t < 40; t += 3) fprintf(stderr, "%d:%.3g ", t, tr[t]);
        fprintf(stderr, "alpha %g: GAMP-RIE %g theory %g\n", alphas[i], tr[39], th);
        PK_CHECK_MSG(fabs(tr[39] - th) < (alphas[i] < 0.4 ? 0.08 : 0.02), "alpha %g: GAMP-RIE %g theory %g", alphas[i], tr[39], th);
        pk_mat_free(S);
        pk_gamp_problem_free(p);
    }
    return pk_test_done();
}
