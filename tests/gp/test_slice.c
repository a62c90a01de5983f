/* Slice sampler moments on known targets; Spearmint sweeps stay in the prior's support. */
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
    return pk_test_done();
}
