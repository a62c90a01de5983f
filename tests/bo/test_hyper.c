/* The hyperparameter sampler of GP-EI-MCMC: posterior moments against
 * quadrature on a problem small enough to integrate (two observations in one
 * dimension: four hyperparameters), and mixing on noiseless data, where
 * Spearmint's joint natural-scale update freezes the mean. */
#include <math.h>
#include <stdlib.h>

#include "bo_priv.h"
#include "pk_test.h"

static const double X0 = 0.1, X1 = 0.45, Y0 = -0.7, Y1 = 0.7;

static double matern52(double r)
{
    double s = sqrt(5.0) * r;
    return (1 + s + s * s / 3) * exp(-s);
}

/* log posterior (up to a constant) in the sampler's coordinates: mean, log
 * amp2, log noise (Jacobians included), ls in natural units */
static double logpost(double mean, double la, double ln, double ls)
{
    double a = exp(la), nz = exp(ln);
    double d = a * (1 + 1e-6) + nz, o = a * matern52(fabs(X1 - X0) / ls);
    double det = d * d - o * o, r0 = Y0 - mean, r1 = Y1 - mean;
    double quad = (d * r0 * r0 - 2 * o * r0 * r1 + d * r1 * r1) / det;
    double r = 0.1 / nz;
    return -0.5 * log(det) - 0.5 * quad + log(log1p(r * r)) - 0.5 * la * la + la + ln;
}

int main(void)
{
    /* quadrature: midpoint rule on a box holding the posterior's mass */
    enum { NM = 24, NA = 40, NN = 60, NL = 30 };
    double w = 0, em = 0, ea = 0, el = 0;
    for (int i = 0; i < NM; i++) {
        double m = Y0 + (Y1 - Y0) * (i + 0.5) / NM;
        for (int j = 0; j < NA; j++) {
            double la = -9 + 18.0 * (j + 0.5) / NA;
            for (int k = 0; k < NN; k++) {
                double ln = -30 + 33.0 * (k + 0.5) / NN;
                for (int l = 0; l < NL; l++) {
                    double ls = 2.0 * (l + 0.5) / NL, p = exp(logpost(m, la, ln, ls));
                    w += p;
                    em += p * m;
                    ea += p * la;
                    el += p * ls;
                }
            }
        }
    }
    em /= w;
    ea /= w;
    el /= w;

    pk_gp *gp = pk_gp_new(pk_gp_kernel_new(PK_GP_KERNEL_MATERN52, 1, 1, 0), PK_GP_MEAN_CONSTANT);
    pk_mat *X = pk_mat_new(2, 1);
    PK_CHECK(gp && X);
    if (!gp || !X)
        return pk_test_done();
    X->data[0] = X0;
    X->data[1] = X1;
    double y[2] = {Y0, Y1};
    PK_CHECK_OK(pk_gp_set_data(gp, X, y, NULL));
    pk_gp_spearmint_state s;
    pk_gp_spearmint_init(&s, 1, y, 2);
    pk_rng rng;
    pk_rng_seed(&rng, 11);
    /* batch means: 40 batches of 250 sweeps after 500 burn-in */
    enum { NB = 40, BL = 250 };
    double bm[3][NB];
    for (int it = 0; it < 500; it++)
        PK_CHECK_OK(pk_bo_hyper_sweep(gp, &s, &rng));
    for (int b = 0; b < NB; b++) {
        bm[0][b] = bm[1][b] = bm[2][b] = 0;
        for (int it = 0; it < BL; it++) {
            if (pk_bo_hyper_sweep(gp, &s, &rng))
                break;
            bm[0][b] += s.mean / BL;
            bm[1][b] += log(s.amp2) / BL;
            bm[2][b] += s.ls[0] / BL;
        }
    }
    const double ref[3] = {em, ea, el};
    const char *names[3] = {"mean", "log amp2", "length scale"};
    for (int q = 0; q < 3; q++) {
        double mu, var;
        pk_mean_var(bm[q], NB, &mu, &var);
        double se = sqrt(var / NB);
        PK_CHECK_MSG(fabs(mu - ref[q]) < 5 * se + 1e-3, "%s: MCMC %.4f +- %.4f, quadrature %.4f", names[q], mu, se,
                     ref[q]);
    }

    /* mixing on a smooth noiseless function: the mean must keep moving (with
     * the natural-scale joint update its sd over these sweeps was 0.024; here ~0.45) */
    pk_mat *X2 = pk_mat_new(25, 2);
    double y2[25];
    PK_CHECK(X2 != NULL);
    if (X2) {
        for (int i = 0; i < 25; i++) {
            double a = (i % 5) / 4.0, b = (i / 5) / 4.0;
            *pk_mat_at(X2, (size_t)i, 0) = a;
            *pk_mat_at(X2, (size_t)i, 1) = b;
            y2[i] = sin(3 * a) + cos(2 * b) - 1.0;
        }
        pk_gp *g2 = pk_gp_new(pk_gp_kernel_new(PK_GP_KERNEL_MATERN52, 2, 1, 0), PK_GP_MEAN_CONSTANT);
        PK_CHECK(g2 != NULL);
        if (g2 && !pk_gp_set_data(g2, X2, y2, NULL)) {
            pk_gp_spearmint_state s2;
            pk_gp_spearmint_init(&s2, 2, y2, 25);
            for (int it = 0; it < 100; it++)
                PK_CHECK_OK(pk_bo_hyper_sweep(g2, &s2, &rng));
            double ms[200], mu, var;
            for (int it = 0; it < 200; it++) {
                PK_CHECK_OK(pk_bo_hyper_sweep(g2, &s2, &rng));
                ms[it] = s2.mean;
            }
            pk_mean_var(ms, 200, &mu, &var);
            PK_CHECK_MSG(sqrt(var) > 0.1, "the mean hardly moves: sd %.2e over 200 sweeps (noise %.2e)", sqrt(var),
                         s2.noise);
        }
        pk_gp_free(g2);
    }
    pk_mat_free(X2);
    pk_mat_free(X);
    pk_gp_free(gp);
    return pk_test_done();
}
