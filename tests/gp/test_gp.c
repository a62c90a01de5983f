/* Exact GP: marginal likelihood, gradient and predictions against scikit-learn
 * (tests/ref/gp_sklearn.py), gradients against central differences, type-II ML. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/gp.h"

static pk_mat *json_mat(json_t *a)
{
    size_t r = json_array_size(a), c = json_array_size(json_array_get(a, 0));
    pk_mat *m = pk_mat_new(r, c);
    for (size_t i = 0; i < r; i++)
        for (size_t j = 0; j < c; j++)
            *pk_mat_at(m, i, j) = json_real_value(json_array_get(json_array_get(a, i), j));
    return m;
}

static void json_vec(json_t *a, double *v)
{
    for (size_t i = 0; i < json_array_size(a); i++)
        v[i] = json_real_value(json_array_get(a, i));
}

static void fd_gradient_check(pk_gp *gp, const char *what)
{
    size_t nh = pk_gp_nhyper(gp);
    double h[32], g[32], lml;
    pk_gp_get_hyper(gp, h);
    PK_CHECK_OK(pk_gp_log_marginal(gp, &lml, g));
    for (size_t p = 0; p < nh; p++) {
        double e = 1e-5, h0 = h[p], fp, fm;
        h[p] = h0 + e;
        pk_gp_set_hyper(gp, h);
        pk_gp_log_marginal(gp, &fp, NULL);
        h[p] = h0 - e;
        pk_gp_set_hyper(gp, h);
        pk_gp_log_marginal(gp, &fm, NULL);
        h[p] = h0;
        pk_gp_set_hyper(gp, h);
        double fd = (fp - fm) / (2 * e);
        PK_CHECK_MSG(fabs(g[p] - fd) <= 1e-5 + 1e-5 * fabs(fd), "%s: dlml[%zu] %g vs fd %g", what, p, g[p], fd);
    }
}

int main(void)
{
    json_error_t jerr;
    json_t *root = json_load_file(PK_FIXTURES "/gp/sklearn_gp.json", 0, &jerr);
    PK_CHECK(root != NULL);
    if (!root)
        return pk_test_done();
    pk_mat *X = json_mat(json_object_get(root, "X")), *Xs = json_mat(json_object_get(root, "Xs"));
    size_t d = X->cols, m = Xs->rows;
    double y[64], mu[8], var[8], ref[16];
    json_vec(json_object_get(root, "y"), y);
    json_t *cases = json_object_get(root, "cases");
    pk_gp_kernel_type types[] = {PK_GP_KERNEL_SE, PK_GP_KERNEL_MATERN52, PK_GP_KERNEL_MATERN32};
    for (size_t c = 0; c < json_array_size(cases); c++) {
        json_t *cs = json_array_get(cases, c);
        pk_gp *gp = pk_gp_new(pk_gp_kernel_new(types[c], d, 1, 0), PK_GP_MEAN_ZERO);
        pk_gp_set_noise_floor(gp, 0.0);
        double h[8], g[8], lml;
        json_vec(json_object_get(cs, "hyper"), h);
        pk_gp_set_hyper(gp, h);
        PK_CHECK_OK(pk_gp_set_data(gp, X, y, NULL));
        PK_CHECK_OK(pk_gp_log_marginal(gp, &lml, g));
        PK_CHECK_CLOSE(lml, json_real_value(json_object_get(cs, "lml")), 1e-8, 1e-9);
        json_vec(json_object_get(cs, "grad"), ref);
        for (size_t p = 0; p < pk_gp_nhyper(gp); p++)
            PK_CHECK_CLOSE(g[p], ref[p], 1e-7, 1e-7);
        /* sklearn's WhiteKernel puts the noise into the predictive sd */
        PK_CHECK_OK(pk_gp_predict(gp, Xs, mu, var, 1));
        json_vec(json_object_get(cs, "mean"), ref);
        for (size_t j = 0; j < m; j++)
            PK_CHECK_CLOSE(mu[j], ref[j], 1e-9, 1e-8);
        json_vec(json_object_get(cs, "sd"), ref);
        for (size_t j = 0; j < m; j++)
            PK_CHECK_CLOSE(sqrt(var[j]), ref[j], 1e-8, 1e-7);
        pk_gp_free(gp);
    }

    /* constant mean + composite kernel: gradient by central differences */
    pk_gp *gp = pk_gp_new(pk_gp_kernel_combine(PK_GP_KERNEL_SUM, pk_gp_kernel_new(PK_GP_KERNEL_MATERN52, d, 1, 0),
                                               pk_gp_kernel_new(PK_GP_KERNEL_LINEAR, d, 0, 0)),
                          PK_GP_MEAN_CONSTANT);
    PK_CHECK_OK(pk_gp_set_data(gp, X, y, NULL));
    double h[16];
    pk_gp_get_hyper(gp, h);
    h[pk_gp_nhyper(gp) - 1] = 0.3;
    pk_gp_set_hyper(gp, h);
    fd_gradient_check(gp, "matern52+linear, constant mean");

    /* predictive gradient w.r.t. the input */
    double x0[3] = {0.2, -0.4, 0.9}, mean, v, dm[3], dv[3];
    PK_CHECK_OK(pk_gp_predict_dx(gp, x0, &mean, &v, dm, dv));
    pk_mat xv = pk_mat_view(x0, 1, 3);
    double m1, v1;
    pk_gp_predict(gp, &xv, &m1, &v1, 0);
    PK_CHECK_CLOSE(mean, m1, 1e-10, 1e-10);
    PK_CHECK_CLOSE(v, v1, 1e-10, 1e-8);
    for (size_t j = 0; j < 3; j++) {
        double e = 1e-6, t = x0[j], mp, vp, mm, vm;
        x0[j] = t + e;
        pk_gp_predict(gp, &xv, &mp, &vp, 0);
        x0[j] = t - e;
        pk_gp_predict(gp, &xv, &mm, &vm, 0);
        x0[j] = t;
        PK_CHECK_CLOSE(dm[j], (mp - mm) / (2 * e), 1e-6, 1e-5);
        PK_CHECK_CLOSE(dv[j], (vp - vm) / (2 * e), 1e-6, 1e-4);
    }

    /* posterior samples: their mean and variance match the predictive */
    pk_rng rng;
    pk_rng_seed(&rng, 3);
    size_t ns = 4000;
    pk_mat *S = pk_mat_new(ns, m);
    PK_CHECK_OK(pk_gp_sample_posterior(gp, Xs, ns, &rng, S));
    pk_gp_predict(gp, Xs, mu, var, 0);
    for (size_t j = 0; j < m; j++) {
        double col[4000], sm, sv;
        for (size_t r = 0; r < ns; r++)
            col[r] = *pk_mat_at(S, r, j);
        pk_mean_var(col, ns, &sm, &sv);
        PK_CHECK_MSG(fabs(sm - mu[j]) < 5 * sqrt(var[j] / ns), "sample mean %g vs %g", sm, mu[j]);
        PK_CHECK_MSG(fabs(sv / var[j] - 1) < 5 * sqrt(2.0 / ns), "sample var %g vs %g", sv, var[j]);
    }
    pk_mat_free(S);
    pk_gp_free(gp);

    /* type-II ML: at least sklearn's likelihood with the same kernel and restarts */
    gp = pk_gp_new(pk_gp_kernel_new(PK_GP_KERNEL_SE, d, 1, 0), PK_GP_MEAN_ZERO);
    pk_gp_set_noise_floor(gp, 0.0);
    PK_CHECK_OK(pk_gp_set_data(gp, X, y, NULL));
    double lml;
    pk_gp_fit_params fp = pk_gp_fit_params_default();
    fp.restarts = 3;
    PK_CHECK_OK(pk_gp_fit(gp, &fp, &rng, &lml, NULL));
    double sk = json_real_value(json_object_get(root, "fit_lml"));
    PK_CHECK_MSG(lml >= sk - 1e-3, "fit lml %g, sklearn %g", lml, sk);
    double g[8];
    pk_gp_log_marginal(gp, NULL, g);
    for (size_t p = 0; p < pk_gp_nhyper(gp); p++)
        PK_CHECK_MSG(fabs(g[p]) < 1e-3, "gradient at optimum [%zu] = %g", p, g[p]);
    /* work counts: every start evaluates, gradients only at accepted points */
    pk_gp_fit_info fi = pk_gp_last_fit_info(gp);
    PK_CHECK(fi.starts == 4);
    PK_CHECK(fi.gradients >= fi.iterations + fi.starts && fi.gradients <= fi.evaluations);
    /* wild line-search trials (log noise far below the data) may fail to factorise; they are backtracked */
    PK_CHECK_MSG(fi.iterations > 0 && fi.failures < fi.evaluations / 4, "iterations %d failures %d evaluations %d", fi.iterations, fi.failures, fi.evaluations);
    pk_gp_free(gp);

    /* repeated inputs with a tiny noise need jitter; the factor still gives
     * a finite likelihood, and its upper triangle stays zero */
    {
        pk_mat *Xd = pk_mat_new(40, 1);
        double yd[40];
        for (size_t i = 0; i < 40; i++) {
            *pk_mat_at(Xd, i, 0) = (double)(i / 2) / 20.0; /* every input twice */
            yd[i] = sin(6.0 * *pk_mat_at(Xd, i, 0));
        }
        pk_gp *gd = pk_gp_new(pk_gp_kernel_new(PK_GP_KERNEL_SE, 1, 0, 0), PK_GP_MEAN_ZERO);
        pk_gp_set_noise_floor(gd, 0.0);
        double hd[3] = {0.0, log(2.0), -60.0};
        pk_gp_set_hyper(gd, hd);
        PK_CHECK_OK(pk_gp_set_data(gd, Xd, yd, NULL));
        double ld, gdd[3];
        PK_CHECK_OK(pk_gp_log_marginal(gd, &ld, gdd));
        PK_CHECK(isfinite(ld) && isfinite(gdd[0]) && isfinite(gdd[1]));
        const pk_mat *Ld = pk_gp_chol(gd);
        double up = 0.0;
        for (size_t i = 0; i < 40; i++)
            for (size_t j = i + 1; j < 40; j++)
                up += fabs(*pk_mat_at(Ld, i, j));
        PK_CHECK(up == 0.0);
        pk_gp_free(gd);
        pk_mat_free(Xd);
    }

    /* errors */
    gp = pk_gp_new(pk_gp_kernel_new(PK_GP_KERNEL_SE, 2, 1, 0), PK_GP_MEAN_ZERO);
    pk_err err;
    PK_CHECK(pk_gp_set_data(gp, X, y, &err) == PK_ESHAPE);
    PK_CHECK(pk_gp_fit(gp, &fp, &rng, NULL, &err) == PK_EINVAL);
    pk_gp_free(gp);

    pk_mat_free(X);
    pk_mat_free(Xs);
    json_decref(root);
    return pk_test_done();
}
