/* iLA-SDP: beats the Peng-Wei SDP when covariances differ, recovers well-separated clusters
 * with equal covariances exactly, rejects bad input. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/cluster.h"

/* two clusters in d dims, centres 0 and delta e_1, covariances I and s2 I */
static void gen(pk_rng *r, size_t n, size_t d, double delta, double s2, double *X, int32_t *y)
{
    for (size_t i = 0; i < n; i++) {
        y[i] = (int32_t)(i % 2);
        double sd = y[i] ? sqrt(s2) : 1.0;
        for (size_t t = 0; t < d; t++)
            X[i * d + t] = sd * pk_rng_normal(r) + (t == 0 && y[i] ? delta : 0);
    }
}

int main(void)
{
    /* n x n eigenproblems of n <= 80: threaded BLAS only adds overhead here */
    openblas_set_num_threads(1);
    pk_rng rng;
    pk_rng_seed(&rng, 21);
    size_t n = 80, d = 4;
    double *X = malloc(n * d * sizeof(double));
    int32_t *y = malloc(n * sizeof(int32_t));
    double e_sdp = 0, e_ila = 0;
    int reps = 4;
    for (int rep = 0; rep < reps; rep++) {
        gen(&rng, n, d, 3.0, 6.0, X, y);
        pk_mat Xm = pk_mat_view(X, n, d);
        pk_sdp_params sp = pk_sdp_params_default(2);
        pk_sdp_result *s = NULL;
        pk_ilasdp_result *r = NULL;
        pk_err err;
        PK_CHECK_OK(pk_sdp_kmeans(&Xm, &sp, &rng, &s, &err));
        pk_ilasdp_params ip = pk_ilasdp_params_default(2);
        ip.init_labels = s ? s->labels : NULL;
        PK_CHECK_OK(pk_ilasdp(&Xm, &ip, &rng, &r, &err));
        if (s && r) {
            double a, b;
            pk_cluster_error(y, s->labels, n, &a);
            pk_cluster_error(y, r->labels, n, &b);
            e_sdp += a / reps;
            e_ila += b / reps;
            PK_CHECK(isfinite(r->loglik));
            PK_CHECK(r->n_outer >= 1);
        }
        pk_sdp_result_free(s);
        pk_ilasdp_result_free(r);
    }
    fprintf(stderr, "heterogeneous (I vs 6I): error SDP %.3f, iLA-SDP %.3f\n", e_sdp, e_ila);
    PK_CHECK(e_ila < e_sdp);
    /* equal covariances, well separated: both exact */
    {
        gen(&rng, n, d, 6.0, 1.0, X, y);
        pk_mat Xm = pk_mat_view(X, n, d);
        pk_ilasdp_params ip = pk_ilasdp_params_default(2);
        pk_ilasdp_result *r = NULL;
        PK_CHECK_OK(pk_ilasdp(&Xm, &ip, &rng, &r, NULL));
        if (r) {
            double e;
            pk_cluster_error(y, r->labels, n, &e);
            PK_CHECK(e == 0);
            PK_CHECK(r->converged);
        }
        pk_ilasdp_result_free(r);
    }
    /* bad input */
    {
        pk_mat Xm = pk_mat_view(X, n, d);
        pk_ilasdp_params ip = pk_ilasdp_params_default(1);
        pk_ilasdp_result *r = NULL;
        pk_err err;
        PK_CHECK(pk_ilasdp(&Xm, &ip, &rng, &r, &err) == PK_EINVAL && r == NULL);
        int32_t *bad = calloc(n, sizeof(int32_t));
        bad[0] = 1; /* cluster 1 has a single point */
        ip = pk_ilasdp_params_default(2);
        ip.init_labels = bad;
        PK_CHECK(pk_ilasdp(&Xm, &ip, &rng, &r, &err) == PK_EINVAL && r == NULL);
        PK_CHECK(strstr(err.msg, "need >= 2") != NULL);
        free(bad);
        X[3] = NAN;
        ip.init_labels = NULL;
        PK_CHECK(pk_ilasdp(&Xm, &ip, &rng, &r, &err) == PK_EDOM);
    }
    free(X);
    free(y);
    return pk_test_done();
}
