/* Acquisition functions: EI/PI against Monte Carlo, analytic gradients against
 * central differences, fantasy-EI with no pending points equals plain EI. */
#include <math.h>
#include <stdlib.h>

#include "bo_priv.h"
#include "pk_test.h"

static double f2(const double *x) { return sin(5 * x[0]) + (x[1] - 0.3) * (x[1] - 0.3); }

int main(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 7);
    /* EI and PI against Monte Carlo */
    double mus[3] = {0.3, -0.2, 1.5}, sds[3] = {0.5, 1.2, 0.4}, best = 0.1;
    for (int c = 0; c < 3; c++) {
        size_t M = 400000;
        double s1 = 0, s2 = 0, pi = 0;
        for (size_t i = 0; i < M; i++) {
            double f = mus[c] + sds[c] * pk_rng_normal(&rng), imp = best - f > 0 ? best - f : 0;
            s1 += imp;
            s2 += imp * imp;
            pi += f < best;
        }
        double mean = s1 / M, se = sqrt((s2 / M - mean * mean) / M);
        double ei = pk_bo_ei(mus[c], sds[c], best, NULL, NULL);
        PK_CHECK_MSG(fabs(ei - mean) < 5 * se, "EI %g vs MC %g +- %g", ei, mean, se);
        double p = pk_bo_pi(mus[c], sds[c], best, NULL, NULL);
        PK_CHECK_MSG(fabs(p - pi / M) < 5 * sqrt(p * (1 - p) / M), "PI %g vs MC %g", p, pi / M);
        double dm, ds, e = 1e-6;
        pk_bo_ei(mus[c], sds[c], best, &dm, &ds);
        PK_CHECK_CLOSE(dm, (pk_bo_ei(mus[c] + e, sds[c], best, NULL, NULL) - pk_bo_ei(mus[c] - e, sds[c], best, NULL, NULL)) / (2 * e), 1e-7, 1e-6);
        PK_CHECK_CLOSE(ds, (pk_bo_ei(mus[c], sds[c] + e, best, NULL, NULL) - pk_bo_ei(mus[c], sds[c] - e, best, NULL, NULL)) / (2 * e), 1e-7, 1e-6);
        pk_bo_pi(mus[c], sds[c], best, &dm, &ds);
        PK_CHECK_CLOSE(dm, (pk_bo_pi(mus[c] + e, sds[c], best, NULL, NULL) - pk_bo_pi(mus[c] - e, sds[c], best, NULL, NULL)) / (2 * e), 1e-7, 1e-6);
        PK_CHECK_CLOSE(ds, (pk_bo_pi(mus[c], sds[c] + e, best, NULL, NULL) - pk_bo_pi(mus[c], sds[c] - e, best, NULL, NULL)) / (2 * e), 1e-7, 1e-6);
    }
    PK_CHECK(pk_bo_ei(1.0, 0.0, 0.5, NULL, NULL) == 0.0);
    PK_CHECK_CLOSE(pk_bo_ei(0.2, 0.0, 0.5, NULL, NULL), 0.3, 1e-15, 0);

    /* a model with a few hyperparameter samples */
    size_t n = 12, d = 2, S = 3;
    pk_mat *X = pk_mat_new(n, d);
    double y[12];
    for (size_t i = 0; i < n; i++) {
        *pk_mat_at(X, i, 0) = pk_rng_uniform(&rng);
        *pk_mat_at(X, i, 1) = pk_rng_uniform(&rng);
        y[i] = f2(pk_mat_at(X, i, 0));
    }
    pk_gp_spearmint_state st[3];
    for (size_t s = 0; s < S; s++) {
        pk_gp_spearmint_init(&st[s], d, y, n);
        st[s].ls[0] = 0.3 + 0.1 * s;
        st[s].ls[1] = 0.8 - 0.1 * s;
        st[s].noise = 1e-3 * (s + 1);
    }
    pk_bo_model m = {0};
    PK_CHECK_OK(pk_bo_model_build(&m, X, y, NULL, st, S, 10, &rng));
    m.method = PK_BO_EI_MCMC;
    PK_CHECK(m.F == 1);
    size_t nc = 7;
    pk_mat *C = pk_mat_new(nc, d);
    for (size_t j = 0; j < nc; j++) {
        *pk_mat_at(C, j, 0) = pk_rng_uniform(&rng);
        *pk_mat_at(C, j, 1) = pk_rng_uniform(&rng);
    }
    double acq[7], ref[7] = {0};
    PK_CHECK_OK(pk_bo_model_eval(&m, C, acq));
    /* plain EI averaged over the same samples */
    double ymin = y[0];
    for (size_t i = 1; i < n; i++)
        ymin = fmin(ymin, y[i]);
    for (size_t s = 0; s < S; s++) {
        pk_gp *gp = pk_gp_new(pk_gp_kernel_new(PK_GP_KERNEL_MATERN52, d, 1, 0), PK_GP_MEAN_CONSTANT);
        pk_gp_spearmint_apply(gp, &st[s]);
        pk_gp_set_data(gp, X, y, NULL);
        double mu[7], var[7];
        pk_gp_predict(gp, C, mu, var, 0);
        for (size_t j = 0; j < nc; j++)
            ref[j] += pk_bo_ei(mu[j], sqrt(var[j]), ymin, NULL, NULL) / S;
        pk_gp_free(gp);
    }
    for (size_t j = 0; j < nc; j++)
        PK_CHECK_CLOSE(acq[j], ref[j], 1e-12, 1e-9);
    /* the gradient path agrees with the batch path and with differences */
    for (int method = PK_BO_EI_MCMC; method <= PK_BO_UCB; method++) {
        m.method = (pk_bo_method)method;
        m.kappa = 2.0;
        pk_bo_model_eval(&m, C, acq);
        for (size_t j = 0; j < 3; j++) {
            double x[2] = {*pk_mat_at(C, j, 0), *pk_mat_at(C, j, 1)}, v, g[2];
            PK_CHECK_OK(pk_bo_model_eval_grad(&m, x, &v, g));
            PK_CHECK_CLOSE(v, acq[j], 1e-12, 1e-9);
            for (size_t k = 0; k < d; k++) {
                double e = 1e-6, t = x[k], vp, vm, gg[2];
                x[k] = t + e;
                pk_bo_model_eval_grad(&m, x, &vp, gg);
                x[k] = t - e;
                pk_bo_model_eval_grad(&m, x, &vm, gg);
                x[k] = t;
                PK_CHECK_MSG(fabs(g[k] - (vp - vm) / (2 * e)) < 1e-6 + 1e-4 * fabs(g[k]), "method %d dx%zu %g vs %g",
                             method, k, g[k], (vp - vm) / (2 * e));
            }
        }
    }
    pk_bo_model_free(&m);

    /* with a pending point, EI near it drops (fantasies fill the gap) */
    double xp[2] = {0.5, 0.5};
    pk_mat P = pk_mat_view(xp, 1, 2);
    pk_bo_model m0 = {0}, m1 = {0};
    PK_CHECK_OK(pk_bo_model_build(&m0, X, y, NULL, st, S, 50, &rng));
    PK_CHECK_OK(pk_bo_model_build(&m1, X, y, &P, st, S, 50, &rng));
    m0.method = m1.method = PK_BO_EI_MCMC;
    PK_CHECK(m1.F == 50 && m1.n_aug == n + 1);
    double near[2] = {0.51, 0.49}, v0, v1, g[2];
    pk_bo_model_eval_grad(&m0, near, &v0, g);
    pk_bo_model_eval_grad(&m1, near, &v1, g);
    PK_CHECK_MSG(v1 < v0, "fantasy EI %g should be below EI %g next to a pending point", v1, v0);
    /* gradient with fantasies */
    double x[2] = {0.2, 0.7}, v, gx[2];
    pk_bo_model_eval_grad(&m1, x, &v, gx);
    for (size_t k = 0; k < d; k++) {
        double e = 1e-6, t = x[k], vp, vm, gg[2];
        x[k] = t + e;
        pk_bo_model_eval_grad(&m1, x, &vp, gg);
        x[k] = t - e;
        pk_bo_model_eval_grad(&m1, x, &vm, gg);
        x[k] = t;
        PK_CHECK_CLOSE(gx[k], (vp - vm) / (2 * e), 1e-6, 1e-4);
    }
    pk_bo_model_free(&m0);
    pk_bo_model_free(&m1);
    pk_mat_free(C);
    pk_mat_free(X);
    return pk_test_done();
}
