/* Peng-Wei SDP by ADMM: affine projection, optimum vs CSDP, exact recovery on separated data. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "fixture.h"
#include "pk_test.h"
#include "probkit/cluster.h"
#include "sdp_priv.h"

int main(void)
{
    /* n x n eigenproblems of n <= 80: threaded BLAS only adds overhead here */
    openblas_set_num_threads(1);
    pk_rng rng;
    pk_rng_seed(&rng, 9);
    /* projection: feasible, idempotent, and orthogonal (residual _|_ feasible directions) */
    {
        size_t n = 7, B = 3;
        double M[3 * 49], P[3 * 49], Q[3 * 49], F[3 * 49], work[16];
        for (size_t b = 0; b < B; b++)
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j <= i; j++)
                    M[b * 49 + i * n + j] = M[b * 49 + j * n + i] = pk_rng_normal(&rng);
        memcpy(P, M, sizeof M);
        pk_sdp_proj_affine(P, n, B, 1.0, work);
        double rows[7] = {0};
        for (size_t b = 0; b < B; b++) {
            double tr = 0;
            for (size_t i = 0; i < n; i++) {
                tr += P[b * 49 + i * n + i];
                for (size_t j = 0; j < n; j++)
                    rows[i] += P[b * 49 + i * n + j];
            }
            PK_CHECK_CLOSE(tr, 1.0, 1e-12, 0);
        }
        for (size_t i = 0; i < n; i++)
            PK_CHECK_CLOSE(rows[i], 1.0, 1e-12, 0);
        memcpy(Q, P, sizeof P);
        pk_sdp_proj_affine(Q, n, B, 1.0, work);
        for (size_t i = 0; i < B * 49; i++)
            PK_CHECK_CLOSE(Q[i], P[i], 1e-12, 0);
        /* another feasible point: projection of a different matrix */
        for (size_t i = 0; i < B * 49; i++)
            F[i] = M[(i * 7 + 3) % (B * 49)];
        for (size_t b = 0; b < B; b++) /* symmetrise */
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < i; j++)
                    F[b * 49 + j * n + i] = F[b * 49 + i * n + j];
        pk_sdp_proj_affine(F, n, B, 1.0, work);
        double ip = 0;
        for (size_t i = 0; i < B * 49; i++)
            ip += (M[i] - P[i]) * (F[i] - P[i]);
        PK_CHECK_CLOSE(ip, 0, 1e-10, 0);
    }
    /* optimum against CSDP (tests/ref/cluster_csdp.py) */
    json_error_t je;
    json_t *root = json_load_file(PK_FIXTURES "/cluster/csdp.json", 0, &je);
    PK_CHECK(root != NULL);
    json_t *cases = json_object_get(root, "cases");
    for (size_t c = 0; c < json_array_size(cases); c++) {
        json_t *cs = json_array_get(cases, c);
        size_t n = (size_t)json_integer_value(json_object_get(cs, "n"));
        size_t d = (size_t)json_integer_value(json_object_get(cs, "d"));
        size_t k = (size_t)json_integer_value(json_object_get(cs, "k"));
        double opt = json_number_value(json_object_get(cs, "optimum"));
        double *X = fx_doubles(json_object_get(cs, "X"), NULL);
        pk_mat Xm = pk_mat_view(X, n, d);
        pk_sdp_params p = pk_sdp_params_default(k);
        p.tol = 1e-7;
        p.max_iter = 20000;
        pk_sdp_result *r = NULL;
        pk_err err;
        PK_CHECK_OK(pk_sdp_kmeans(&Xm, &p, &rng, &r, &err));
        if (r) {
            PK_CHECK_MSG(fabs(r->objective - opt) <= 1e-4 * fabs(opt), "case %zu: ADMM %.8g vs CSDP %.8g (%d iters)",
                         c, r->objective, opt, r->n_iter);
            PK_CHECK(r->converged);
            fprintf(stderr, "n=%zu k=%zu: ADMM %.8g CSDP %.8g, %d iterations\n", n, k, r->objective, opt, r->n_iter);
        }
        pk_sdp_result_free(r);
        free(X);
    }
    json_decref(root);
    /* well separated: the relaxation is tight (Z block-diagonal 1/n_k) and labels are exact */
    {
        size_t n = 60, d = 2, k = 3;
        double X[120];
        int32_t y[60];
        for (size_t i = 0; i < n; i++) {
            y[i] = (int32_t)(i % k);
            X[i * d] = 10.0 * (double)y[i] + 0.5 * pk_rng_normal(&rng);
            X[i * d + 1] = 0.5 * pk_rng_normal(&rng) + (y[i] == 2 ? 8 : 0);
        }
        pk_mat Xm = pk_mat_view(X, n, d);
        pk_sdp_params p = pk_sdp_params_default(k);
        pk_sdp_result *r = NULL;
        PK_CHECK_OK(pk_sdp_kmeans(&Xm, &p, &rng, &r, NULL));
        if (r) {
            double e;
            PK_CHECK_OK(pk_cluster_error(y, r->labels, n, &e));
            PK_CHECK(e == 0);
            double maxdev = 0;
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++) {
                    double want = y[i] == y[j] ? 1.0 / 20 : 0;
                    double dv = fabs(r->Z[i * n + j] - want);
                    if (dv > maxdev)
                        maxdev = dv;
                }
            PK_CHECK_MSG(maxdev < 1e-3, "max |Z - Z*| = %g", maxdev);
        }
        pk_sdp_result_free(r);
        /* bad input */
        pk_err err;
        p.k = 1;
        PK_CHECK(pk_sdp_kmeans(&Xm, &p, &rng, &r, &err) == PK_EINVAL && r == NULL);
        p.k = 61;
        PK_CHECK(pk_sdp_kmeans(&Xm, &p, &rng, &r, &err) == PK_EINVAL);
    }
    return pk_test_done();
}
