/* Factor analysis / PPCA / logistic regression against scikit-learn and numpy references;
 * SDL (LPGD, BCD) on a small planted problem. */
#include <math.h>
#include <stdlib.h>

#include "../cluster/fixture.h"
#include "pk_test.h"
#include "probkit/latent.h"

int main(void)
{
    json_error_t je;
    json_t *root = json_load_file(PK_FIXTURES "/latent/sklearn.json", 0, &je);
    PK_CHECK(root != NULL);
    if (!root)
        return pk_test_done();
    size_t n = (size_t)json_integer_value(json_object_get(root, "n"));
    size_t d = (size_t)json_integer_value(json_object_get(root, "d"));
    size_t r = (size_t)json_integer_value(json_object_get(root, "r"));
    double *X = fx_doubles(json_object_get(root, "X"), NULL);
    pk_mat Xm = pk_mat_view(X, n, d);
    double *C = malloc(d * d * sizeof(double));
    /* FA: the ML covariance and likelihood are rotation-free; compare those */
    {
        pk_fa_params p = pk_fa_params_default(r);
        p.tol = 1e-13;
        p.max_iter = 50000;
        pk_fa *m = NULL;
        pk_err err;
        PK_CHECK_OK(pk_fa_fit(&Xm, &p, &m, &err));
        double *ref = fx_doubles(json_object_get(root, "fa_cov"), NULL);
        double *t0 = fx_doubles(json_object_get(root, "fa_transform_row0"), NULL);
        if (m) {
            pk_fa_covariance(m, C);
            for (size_t i = 0; i < d * d; i++)
                PK_CHECK_CLOSE(C[i], ref[i], 1e-5, 1e-4);
            double s;
            PK_CHECK_OK(pk_fa_score(m, &Xm, &s));
            PK_CHECK_CLOSE(s, json_number_value(json_object_get(root, "fa_score")), 1e-7, 1e-7);
            PK_CHECK_CLOSE(m->loglik, s, 1e-9, 1e-9);
            double z[8], nz = 0, nr = 0;
            pk_mat row = pk_mat_view(X, 1, d);
            PK_CHECK_OK(pk_fa_transform(m, &row, z));
            for (size_t a = 0; a < r; a++) {
                nz += z[a] * z[a];
                nr += t0[a] * t0[a];
            }
            PK_CHECK_CLOSE(sqrt(nz), sqrt(nr), 1e-5, 1e-4);
            fprintf(stderr, "FA: %d EM iterations, score %.10f\n", m->n_iter, s);
        }
        pk_fa_free(m);
        free(ref);
        free(t0);
    }
    /* PPCA closed form */
    {
        pk_fa *m = NULL;
        PK_CHECK_OK(pk_ppca_fit(&Xm, r, &m, NULL));
        double *ref = fx_doubles(json_object_get(root, "ppca_cov"), NULL);
        if (m) {
            pk_fa_covariance(m, C);
            for (size_t i = 0; i < d * d; i++)
                PK_CHECK_CLOSE(C[i], ref[i], 1e-9, 1e-8);
            PK_CHECK_CLOSE(m->loglik, json_number_value(json_object_get(root, "ppca_score")), 1e-9, 1e-10);
            /* PPCA is the FA optimum only with equal noise: FA must score at least as well */
            pk_fa *f = NULL;
            pk_fa_params p = pk_fa_params_default(r);
            pk_fa_fit(&Xm, &p, &f, NULL);
            if (f)
                PK_CHECK(f->loglik >= m->loglik - 1e-9);
            pk_fa_free(f);
        }
        pk_fa_free(m);
        free(ref);
    }
    /* logistic regression, lambda = 1 == scikit-learn C = 1 */
    {
        int32_t *y = fx_ints(json_object_get(root, "y"), NULL);
        double *rc = fx_doubles(json_object_get(root, "lr_coef"), NULL);
        pk_logreg *lr = NULL;
        PK_CHECK_OK(pk_logreg_fit(&Xm, y, 1.0, 100, &lr, NULL));
        if (lr) {
            for (size_t j = 0; j < d; j++)
                PK_CHECK_CLOSE(lr->coef[j], rc[j], 1e-6, 1e-5);
            PK_CHECK_CLOSE(lr->intercept, json_number_value(json_object_get(root, "lr_intercept")), 1e-6, 1e-5);
        }
        pk_logreg_free(lr);
        y[0] = 3;
        pk_err err;
        PK_CHECK(pk_logreg_fit(&Xm, y, 1.0, 100, &lr, &err) == PK_EINVAL);
        free(y);
        free(rc);
    }
    /* bad input */
    {
        pk_fa *m = NULL;
        pk_err err;
        PK_CHECK(pk_ppca_fit(&Xm, d, &m, &err) == PK_EINVAL && m == NULL);
        X[5] = NAN;
        pk_fa_params p = pk_fa_params_default(r);
        PK_CHECK(pk_fa_fit(&Xm, &p, &m, &err) == PK_EDOM && m == NULL);
    }
    /* SDL on a planted problem: X = H W0' + noise, labels from a direction inside span(W0) */
    {
        pk_rng rng;
        pk_rng_seed(&rng, 8);
        size_t nn = 200, dd = 30, rr = 2;
        double *X2 = malloc(nn * dd * sizeof(double)), *W0 = malloc(dd * rr * sizeof(double));
        double *Za = malloc(nn * sizeof(double)), *pp = malloc(nn * sizeof(double));
        int32_t *yy = malloc(nn * sizeof(int32_t));
        for (size_t i = 0; i < dd * rr; i++)
            W0[i] = pk_rng_normal(&rng);
        for (size_t i = 0; i < nn; i++) {
            double h0 = 3 * pk_rng_normal(&rng), h1 = 3 * pk_rng_normal(&rng);
            for (size_t j = 0; j < dd; j++)
                X2[i * dd + j] = h0 * W0[j * rr] + h1 * W0[j * rr + 1] + 0.5 * pk_rng_normal(&rng);
            Za[i] = pk_rng_normal(&rng);
            double t = h0 - 0.5 * h1 + 1.0 * Za[i];
            yy[i] = pk_rng_uniform(&rng) < 1 / (1 + exp(-t));
        }
        pk_mat Xs = pk_mat_view(X2, nn, dd), Zs = pk_mat_view(Za, nn, 1);
        for (int algo = 0; algo < 2; algo++) {
            pk_sdl_params p = pk_sdl_params_default(rr, 0.1);
            p.algo = (pk_sdl_algo)algo;
            p.max_iter = algo ? 100 : 300;
            pk_sdl *m = NULL;
            pk_err err;
            PK_CHECK_OK(pk_sdl_fit(&Xs, &Zs, yy, &p, &rng, &m, &err));
            if (!m)
                continue;
            PK_CHECK_OK(pk_sdl_predict_proba(m, &Xs, &Zs, pp));
            double acc = 0;
            for (size_t i = 0; i < nn; i++)
                acc += (pp[i] > 0.5) == (yy[i] == 1);
            acc /= (double)nn;
            double f0 = m->objective[0], f1 = m->objective[m->n_iter - 1];
            fprintf(stderr, "SDL %s: train acc %.3f, objective %.4g -> %.4g, gamma %.3f\n", algo ? "BCD" : "LPGD", acc,
                    f0, f1, m->gamma[0]);
            PK_CHECK(acc > 0.75);
            PK_CHECK(f1 < f0);
            PK_CHECK(m->gamma[0] > 0.3); /* the covariate's true coefficient is 1 */
            if (algo == 0) {
                /* LPGD decreases the objective monotonically after the first steps */
                int mono = 1;
                for (int t = 10; t < m->n_iter; t++)
                    if (m->objective[t] > m->objective[t - 1] * (1 + 1e-9) + 1e-9)
                        mono = 0;
                PK_CHECK(mono);
            }
            pk_sdl_free(m);
        }
        pk_sdl_params bad = pk_sdl_params_default(0, 1);
        pk_sdl *m = NULL;
        PK_CHECK(pk_sdl_fit(&Xs, NULL, yy, &bad, &rng, &m, NULL) == PK_EINVAL);
        free(X2);
        free(W0);
        free(Za);
        free(pp);
        free(yy);
    }
    free(C);
    free(X);
    json_decref(root);
    return pk_test_done();
}
