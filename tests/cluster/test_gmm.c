/* GMM-EM against scikit-learn 1.2 from identical starting parameters (all four covariance
 * types, 25 iterations), plus sampling, BIC/AIC, warm start and singular-covariance handling. */
#include <math.h>
#include <stdlib.h>

#include "fixture.h"
#include "pk_test.h"
#include "probkit/cluster.h"

int main(void)
{
    json_error_t je;
    json_t *root = json_load_file(PK_FIXTURES "/cluster/sklearn.json", 0, &je);
    PK_CHECK(root != NULL);
    if (!root)
        return pk_test_done();
    size_t n = (size_t)json_integer_value(json_object_get(root, "n"));
    size_t d = (size_t)json_integer_value(json_object_get(root, "d"));
    size_t k = (size_t)json_integer_value(json_object_get(root, "k"));
    double *X = fx_doubles(json_object_get(root, "X"), NULL);
    const char *kw[] = {"gmm_init", "weights", NULL}, *km[] = {"gmm_init", "means", NULL};
    double *w0 = fx_doubles(fx_get(root, kw), NULL), *mu0 = fx_doubles(fx_get(root, km), NULL);
    pk_mat Xm = pk_mat_view(X, n, d);
    pk_rng rng;
    pk_rng_seed(&rng, 3);
    const char *names[] = {"full", "diag", "spherical", "tied"};
    for (int ct = 0; ct < 4; ct++) {
        const char *ki[] = {"gmm", names[ct], "init_covs", NULL};
        const char *kwt[] = {"gmm", names[ct], "weights", NULL}, *kmu[] = {"gmm", names[ct], "means", NULL};
        const char *kcv[] = {"gmm", names[ct], "covs", NULL}, *klb[] = {"gmm", names[ct], "lower_bound", NULL};
        const char *ksc[] = {"gmm", names[ct], "score", NULL}, *kb[] = {"gmm", names[ct], "bic", NULL};
        const char *ka[] = {"gmm", names[ct], "aic", NULL}, *kp[] = {"gmm", names[ct], "proba_row0", NULL};
        size_t ncov = 0;
        double *c0 = fx_doubles(fx_get(root, ki), &ncov), *rw = fx_doubles(fx_get(root, kwt), NULL);
        double *rmu = fx_doubles(fx_get(root, kmu), NULL), *rc = fx_doubles(fx_get(root, kcv), NULL);
        double *rp = fx_doubles(fx_get(root, kp), NULL);
        pk_gmm_params p = pk_gmm_params_default(k);
        p.cov = (pk_gmm_cov)ct;
        p.init = PK_GMM_INIT_GIVEN;
        p.init_weights = w0;
        p.init_means = mu0;
        p.init_covs = c0;
        p.tol = 0;
        p.max_iter = 25;
        pk_gmm *g = NULL;
        pk_err err;
        PK_CHECK_OK(pk_gmm_fit(&Xm, &p, &rng, &g, &err));
        if (g) {
            for (size_t j = 0; j < k; j++)
                PK_CHECK_CLOSE(g->weights[j], rw[j], 1e-8, 1e-7);
            for (size_t j = 0; j < k * d; j++)
                PK_CHECK_CLOSE(g->means[j], rmu[j], 1e-8, 1e-7);
            for (size_t j = 0; j < ncov; j++)
                PK_CHECK_CLOSE(g->covs[j], rc[j], 1e-8, 1e-7);
            PK_CHECK_CLOSE(g->lower_bound, json_number_value(fx_get(root, klb)), 1e-9, 1e-9);
            double s, b, a, pr[8];
            PK_CHECK_OK(pk_gmm_score(g, &Xm, &s));
            PK_CHECK_CLOSE(s, json_number_value(fx_get(root, ksc)), 1e-9, 1e-9);
            PK_CHECK_OK(pk_gmm_bic(g, &Xm, &b));
            PK_CHECK_OK(pk_gmm_aic(g, &Xm, &a));
            PK_CHECK_CLOSE(b, json_number_value(fx_get(root, kb)), 1e-6, 1e-9);
            PK_CHECK_CLOSE(a, json_number_value(fx_get(root, ka)), 1e-6, 1e-9);
            pk_mat row = pk_mat_view(X, 1, d);
            PK_CHECK_OK(pk_gmm_predict_proba(g, &row, pr));
            for (size_t j = 0; j < k; j++)
                PK_CHECK_CLOSE(pr[j], rp[j], 1e-8, 1e-6);
            /* warm start never lowers the likelihood */
            double before = s;
            p.max_iter = 5;
            PK_CHECK_OK(pk_gmm_refit(g, &Xm, &p, &err));
            PK_CHECK_OK(pk_gmm_score(g, &Xm, &s));
            PK_CHECK(s >= before - 1e-12);
        }
        /* sampling: the sample mean matches the mixture mean at 5 sigma-ish tolerance */
        if (g) {
            size_t m = 20000;
            double *S = malloc(m * d * sizeof(double)), mean[3] = {0, 0, 0}, ref[3] = {0, 0, 0};
            PK_CHECK_OK(pk_gmm_sample(g, m, &rng, S, NULL));
            for (size_t i = 0; i < m; i++)
                for (size_t t = 0; t < d; t++)
                    mean[t] += S[i * d + t] / (double)m;
            for (size_t j = 0; j < k; j++)
                for (size_t t = 0; t < d; t++)
                    ref[t] += g->weights[j] * g->means[j * d + t];
            for (size_t t = 0; t < d; t++)
                PK_CHECK_CLOSE(mean[t], ref[t], 0.08, 0);
            free(S);
        }
        pk_gmm_free(g);
        free(c0);
        free(rw);
        free(rmu);
        free(rc);
        free(rp);
    }
    /* default fit (k-means init) on the fixture beats a one-component model in BIC */
    {
        pk_gmm *g3 = NULL, *g1 = NULL;
        pk_gmm_params p = pk_gmm_params_default(3);
        PK_CHECK_OK(pk_gmm_fit(&Xm, &p, &rng, &g3, NULL));
        p.k = 1;
        PK_CHECK_OK(pk_gmm_fit(&Xm, &p, &rng, &g1, NULL));
        double b3 = 0, b1 = 0;
        if (g3 && g1) {
            pk_gmm_bic(g3, &Xm, &b3);
            pk_gmm_bic(g1, &Xm, &b1);
            PK_CHECK(b3 < b1);
            PK_CHECK(g3->converged);
        }
        pk_gmm_free(g3);
        pk_gmm_free(g1);
    }
    /* constant column: reg_covar = 0 must escalate and report, never NaN */
    {
        double Y[60];
        for (int i = 0; i < 30; i++) {
            Y[2 * i] = (double)(i % 7);
            Y[2 * i + 1] = 1.0;
        }
        pk_mat Ym = pk_mat_view(Y, 30, 2);
        pk_gmm_params p = pk_gmm_params_default(2);
        p.reg_covar = 0;
        pk_gmm *g = NULL;
        pk_err err;
        PK_CHECK_OK(pk_gmm_fit(&Ym, &p, &rng, &g, &err));
        if (g) {
            PK_CHECK(g->reg_used > 0);
            PK_CHECK(isfinite(g->lower_bound));
        }
        pk_gmm_free(g);
        /* too few points, NaN */
        p.k = 40;
        PK_CHECK(pk_gmm_fit(&Ym, &p, &rng, &g, &err) == PK_EINVAL && g == NULL);
        p.k = 2;
        Y[5] = NAN;
        PK_CHECK(pk_gmm_fit(&Ym, &p, &rng, &g, &err) == PK_EDOM && g == NULL);
    }
    free(X);
    free(w0);
    free(mu0);
    json_decref(root);
    return pk_test_done();
}
