/* bench_cluster — time K-means or GMM-EM iterations on one problem; driven by bench/cluster.py.
 *
 *   bench_cluster kmeans X.npy C0.npy ITERS [lloyd|hamerly]
 *   bench_cluster gmm X.npy W0.npy M0.npy COV0.npy ITERS [REG_COVAR]
 *   bench_cluster sdp X.npy K [TOL]
 *
 * Loading is not timed.  kmeans: one fit from the given centres with tol = 0 and max_iter =
 * ITERS.  gmm: full-covariance EM from the given parameters, timed at ITERS and at 1 iteration;
 * the per-iteration time is the difference / (ITERS - 1), so set-up costs cancel.
 * Prints one JSON object with "seconds" (per iteration), the iteration count and the
 * inertia / mean log-likelihood used to check agreement with the peer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probkit/cluster.h"
#include "probkit/io.h"

/* CPU seconds of the whole process (all threads): robust to other jobs sharing the machine */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int load(const char *path, double **out, int64_t *shape)
{
    pk_array *a = NULL;
    pk_err err;
    int st = pk_npy_read(path, &a, &err);
    if (st) {
        fprintf(stderr, "bench_cluster: %s: %s\n", path, err.msg);
        return st;
    }
    for (int i = 0; i < a->ndim && i < 3; i++)
        shape[i] = a->shape[i];
    st = pk_array_to_f64(a, out);
    pk_array_free(a);
    return st;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && !strcmp(argv[1], "kmeans")) {
        double *X = NULL, *C = NULL;
        int64_t sx[3] = {0}, sc[3] = {0};
        if (load(argv[2], &X, sx) || load(argv[3], &C, sc))
            return 1;
        int iters = atoi(argv[4]);
        pk_mat Xm = pk_mat_view(X, (size_t)sx[0], (size_t)sx[1]);
        pk_kmeans_params p = pk_kmeans_params_default((size_t)sc[0]);
        p.init = PK_KMEANS_INIT_GIVEN;
        p.init_centers = C;
        p.tol = 0;
        p.max_iter = iters;
        p.algo = (argc > 5 && !strcmp(argv[5], "lloyd")) ? PK_KMEANS_LLOYD : PK_KMEANS_HAMERLY;
        if (argc > 6 && !strcmp(argv[6], "float"))
            p.screen = PK_KMEANS_SCREEN_FLOAT;
        pk_rng rng;
        pk_rng_seed(&rng, 1);
        pk_kmeans *km = NULL;
        pk_err err;
        double t0 = pk_time_now(), c0 = cpu_now();
        int st = pk_kmeans_fit(&Xm, &p, &rng, &km, &err);
        double t = pk_time_now() - t0, c = cpu_now() - c0;
        if (st) {
            fprintf(stderr, "bench_cluster: %s\n", err.msg);
            return 1;
        }
        printf("{\"seconds\": %.9g, \"cpu_seconds\": %.9g, \"total\": %.9g, \"n_iter\": %d, \"inertia\": %.17g, "
               "\"n_dist\": %lld, \"n_open\": %lld, \"n_double\": %lld}\n",
               t / km->n_iter, c / km->n_iter, t, km->n_iter, km->inertia, (long long)km->n_dist, (long long)km->n_open, (long long)km->n_double);
        pk_kmeans_free(km);
        free(X);
        free(C);
        return 0;
    }
    if (argc >= 7 && !strcmp(argv[1], "gmm")) {
        double *X = NULL, *W = NULL, *M = NULL, *S = NULL;
        int64_t sx[3] = {0}, sw[3] = {0}, sm[3] = {0}, ss[3] = {0};
        if (load(argv[2], &X, sx) || load(argv[3], &W, sw) || load(argv[4], &M, sm) || load(argv[5], &S, ss))
            return 1;
        int iters = atoi(argv[6]);
        pk_mat Xm = pk_mat_view(X, (size_t)sx[0], (size_t)sx[1]);
        pk_gmm_params p = pk_gmm_params_default((size_t)sw[0]);
        p.init = PK_GMM_INIT_GIVEN;
        p.init_weights = W;
        p.init_means = M;
        p.init_covs = S;
        p.tol = 0;
        if (argc > 7) /* reg_covar (mclust has none: 0) */
            p.reg_covar = atof(argv[7]);
        pk_rng rng;
        pk_rng_seed(&rng, 1);
        double t[2];
        double lb = NAN, c[2] = {0, 0};
        for (int k = 0; k < 2; k++) {
            p.max_iter = k ? iters : 1;
            pk_gmm *g = NULL;
            pk_err err;
            double t0 = pk_time_now(), c0 = cpu_now();
            int st = pk_gmm_fit(&Xm, &p, &rng, &g, &err);
            t[k] = pk_time_now() - t0;
            c[k] = cpu_now() - c0;
            if (st) {
                fprintf(stderr, "bench_cluster: %s\n", err.msg);
                return 1;
            }
            lb = g->lower_bound;
            pk_gmm_free(g);
        }
        printf("{\"seconds\": %.9g, \"cpu_seconds\": %.9g, \"total\": %.9g, \"n_iter\": %d, \"lower_bound\": %.17g}\n",
               (t[1] - t[0]) / (iters - 1), (c[1] - c[0]) / (iters - 1), t[1], iters, lb);
        free(X);
        free(W);
        free(M);
        free(S);
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "sdp")) {
        double *X = NULL;
        int64_t sx[3] = {0};
        if (load(argv[2], &X, sx))
            return 1;
        pk_mat Xm = pk_mat_view(X, (size_t)sx[0], (size_t)sx[1]);
        pk_sdp_params p = pk_sdp_params_default((size_t)atoi(argv[3]));
        if (argc > 4)
            p.tol = atof(argv[4]);
        p.max_iter = 100000;
        pk_rng rng;
        pk_rng_seed(&rng, 1);
        pk_sdp_result *r = NULL;
        pk_err err;
        double t0 = pk_time_now();
        int st = pk_sdp_kmeans(&Xm, &p, &rng, &r, &err);
        double t = pk_time_now() - t0;
        if (st) {
            fprintf(stderr, "bench_cluster: %s\n", err.msg);
            return 1;
        }
        printf("{\"seconds\": %.9g, \"objective\": %.17g, \"n_iter\": %d, \"converged\": %d}\n", t, r->objective,
               r->n_iter, r->converged);
        pk_sdp_result_free(r);
        free(X);
        return 0;
    }
    fputs("usage: bench_cluster kmeans X.npy C0.npy ITERS [lloyd|hamerly]\n"
          "       bench_cluster gmm X.npy W0.npy M0.npy COV0.npy ITERS\n"
          "       bench_cluster sdp X.npy K [TOL]\n",
          stderr);
    return 2;
}
