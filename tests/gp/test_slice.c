/* Slice sampler moments on known targets; Spearmint sweeps stay in the prior's
 * support and match its posterior (quadrature) and keep mixing on noiseless data. */
#include <math.h>
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/gp.h"

/* correlated Gaussian: mean (1, -2), var (1, 4), corr 0.8 */
static double gauss2(const double *x, void *ctx)
{
    (void)ctx;
    double r = 0.8, a = x[0] - 1.0, b = (x[1] + 2.0) / 2.0;
    return -0.5 * (a * a - 2 * r * a * b + b * b) / (1 - r * r);
}

/* Gamma(3, 1) on x > 0: mean 3, variance 3 */
static double gamma3(const double *x, void *ctx)
{
    (void)ctx;
    return x[0] > 0 ? 2.0 * log(x[0]) - x[0] : -INFINITY;
}

/* Spearmint's posterior, sampled by pk_gp_spearmint_sweep: moments against
 * quadrature on a problem small enough to integrate (two observations in one
 * dimension: four hyperparameters), and mixing on noiseless data, where
 * Spearmint's joint natural-scale update freezes the mean. */
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

static void spearmint_posterior(void)
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
        return;
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
        PK_CHECK_OK(pk_gp_spearmint_sweep(gp, &s, &rng));
    for (int b = 0; b < NB; b++) {
        bm[0][b] = bm[1][b] = bm[2][b] = 0;
        for (int it = 0; it < BL; it++) {
            if (pk_gp_spearmint_sweep(gp, &s, &rng))
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
                PK_CHECK_OK(pk_gp_spearmint_sweep(g2, &s2, &rng));
            double ms[200], mu, var;
            for (int it = 0; it < 200; it++) {
                PK_CHECK_OK(pk_gp_spearmint_sweep(g2, &s2, &rng));
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
    }

int main(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 11);
    const size_t ns = 20000;
    double *s0 = malloc(ns * sizeof *s0), *s1 = malloc(ns * sizeof *s1);
    for (int compwise = 0; compwise < 2; compwise++) {
        double x[2] = {0, 0};
        for (size_t i = 0; i < ns; i++) {
            PK_CHECK(pk_gp_slice_sample(x, 2, gauss2, NULL, 1.0, compwise, 100, &rng) == PK_OK);
            s0[i] = x[0];
            s1[i] = x[1];
        }
        double m0, v0, m1, v1;
        pk_mean_var(s0, ns, &m0, &v0);
        pk_mean_var(s1, ns, &m1, &v1);
        double ess = ns / 20.0; /* conservative: the chain is autocorrelated */
        PK_CHECK_MSG(fabs(m0 - 1.0) < 5 * sqrt(1.0 / ess), "compwise %d mean0 %g", compwise, m0);
        PK_CHECK_MSG(fabs(m1 + 2.0) < 5 * sqrt(4.0 / ess), "compwise %d mean1 %g", compwise, m1);
        PK_CHECK_MSG(fabs(v0 - 1.0) < 5 * sqrt(2.0 / ess), "compwise %d var0 %g", compwise, v0);
        PK_CHECK_MSG(fabs(v1 - 4.0) < 5 * 4.0 * sqrt(2.0 / ess), "compwise %d var1 %g", compwise, v1);
        double cov = 0;
        for (size_t i = 0; i < ns; i++)
            cov += (s0[i] - m0) * (s1[i] - m1);
        cov /= (double)(ns - 1);
        PK_CHECK_MSG(fabs(cov / sqrt(v0 * v1) - 0.8) < 0.05, "corr %g", cov / sqrt(v0 * v1));
    }
    double x = 1.0;
    for (size_t i = 0; i < ns; i++) {
        PK_CHECK(pk_gp_slice_sample(&x, 1, gamma3, NULL, 2.0, 1, 100, &rng) == PK_OK);
        s0[i] = x;
    }
    double m, v;
    pk_mean_var(s0, ns, &m, &v);
    PK_CHECK_MSG(fabs(m - 3.0) < 5 * sqrt(3.0 / (ns / 10.0)), "gamma mean %g", m);
    PK_CHECK_MSG(fabs(v - 3.0) < 0.3, "gamma var %g", v);
    double bad = -1.0;
    PK_CHECK(pk_gp_slice_sample(&bad, 1, gamma3, NULL, 1.0, 1, 10, &rng) == PK_EDOM);

    /* Spearmint sweeps on a 2-d problem */
    size_t n = 15, d = 2;
    pk_mat *X = pk_mat_new(n, d);
    double y[15];
    for (size_t i = 0; i < n; i++) {
        double a = pk_rng_uniform(&rng), b = pk_rng_uniform(&rng);
        *pk_mat_at(X, i, 0) = a;
        *pk_mat_at(X, i, 1) = b;
        y[i] = sin(6 * a) + b * b;
    }
    pk_gp *gp = pk_gp_new(pk_gp_kernel_new(PK_GP_KERNEL_MATERN52, d, 1, 0), PK_GP_MEAN_CONSTANT);
    PK_CHECK_OK(pk_gp_set_data(gp, X, y, NULL));
    pk_gp_spearmint_state st;
    pk_gp_spearmint_init(&st, d, y, n);
    double ymin = y[0], ymax = y[0];
    for (size_t i = 0; i < n; i++) {
        ymin = fmin(ymin, y[i]);
        ymax = fmax(ymax, y[i]);
    }
    PK_CHECK(isfinite(pk_gp_spearmint_log_prior(&st, ymin, ymax)));
    double ls_mean = 0, ls1_mean = 0;
    int nsweep = 200;
    for (int it = 0; it < nsweep; it++) {
        PK_CHECK_OK(pk_gp_spearmint_sweep(gp, &st, &rng));
        PK_CHECK(isfinite(pk_gp_spearmint_log_prior(&st, ymin, ymax)));
        ls_mean += st.ls[0] / nsweep;
        ls1_mean += st.ls[1] / nsweep;
    }
    PK_CHECK(st.ls[0] > 0 && st.ls[0] <= 2 && st.ls[1] > 0 && st.ls[1] <= 2);
    PK_CHECK(st.mean >= ymin && st.mean <= ymax);
    /* the x0 direction oscillates (sin 6x), x1 is smooth (x^2): shorter length scale along x0 */
    PK_CHECK_MSG(ls_mean < ls1_mean && ls_mean < 0.7, "mean ls0 %g, ls1 %g", ls_mean, ls1_mean);
    fprintf(stderr, "spearmint sweeps: mean length scales %.3f (sin 6x), %.3f (x^2)\n", ls_mean, ls1_mean);
    pk_gp_spearmint_state out = st;
    out.ls[0] = 2.5;
    PK_CHECK(pk_gp_spearmint_log_prior(&out, ymin, ymax) == -INFINITY);
    out = st;
    out.mean = ymax + 1;
    PK_CHECK(pk_gp_spearmint_log_prior(&out, ymin, ymax) == -INFINITY);
    pk_gp_free(gp);
    pk_mat_free(X);
    free(s0);
    free(s1);
    spearmint_posterior();
    return pk_test_done();
}
