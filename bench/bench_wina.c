/* bench_wina — time WINA's sparse product for one token at a time (decoding);
 * driven by bench/wina.py.
 *
 *   bench_wina W.npy X.npy Y_OUT.npy --sparsity S [--repeat N]
 *
 * W (out x n) and X (tokens x n) are float32.  Per token: the WINA mask
 * (top-k of |x_i| ||W[:, i]||, k = n - floor(S n)), then the product reading
 * only the kept rows of W^T (pk_wina_sparse_linear).  Loading, the column
 * norms and the transpose are not timed; mask + product are.  Prints
 * {"seconds": [...], "tokens": T, "n": n, "out": o, "kept": k}; writes Y. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/io.h"
#include "probkit/wina.h"

static int usage(void)
{
    fputs("usage: bench_wina W.npy X.npy Y_OUT.npy --sparsity S [--repeat N]\n", stderr);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 6 || strcmp(argv[4], "--sparsity"))
        return usage();
    double s = atof(argv[5]);
    int repeat = argc >= 8 && !strcmp(argv[6], "--repeat") ? atoi(argv[7]) : 5;
    if (!(s >= 0 && s < 1) || repeat < 1)
        return usage();
    pk_err err = {0};
    pk_array *W = NULL, *X = NULL, *Y = NULL;
    int st = pk_npy_read(argv[1], &W, &err);
    if (!st)
        st = pk_npy_read(argv[2], &X, &err);
    if (st) {
        fprintf(stderr, "bench_wina: %s\n", err.msg);
        return 1;
    }
    if (W->dtype != PK_DTYPE_F32 || X->dtype != PK_DTYPE_F32 || W->ndim != 2 || X->ndim != 2 ||
        W->shape[1] != X->shape[1]) {
        fprintf(stderr, "bench_wina: want float32 W (out x n) and X (tokens x n)\n");
        return 1;
    }
    int64_t o = W->shape[0], n = W->shape[1], T = X->shape[0], k = pk_wina_keep_count(n, s);
    const float *w = W->data, *x = X->data;
    float *Wt = malloc((size_t)(n * o) * sizeof *Wt);
    double *cn = malloc((size_t)n * sizeof *cn);
    uint8_t *mask = malloc((size_t)n);
    Y = pk_array_new(PK_DTYPE_F32, 2, (int64_t[]){T, o});
    if (!Wt || !cn || !mask || !Y) {
        fprintf(stderr, "bench_wina: out of memory\n");
        return 1;
    }
    for (int64_t i = 0; i < o; i++)
        for (int64_t j = 0; j < n; j++)
            Wt[j * o + i] = w[i * n + j];
    pk_wina_column_norms(w, o, n, cn, NULL);
    float *y = Y->data;
    printf("{\"seconds\": [");
    for (int r = 0; r < repeat; r++) {
        double t0 = pk_time_now();
        for (int64_t t = 0; t < T; t++) {
            pk_wina_topk_mask(x + t * n, 1, n, cn, k, mask, NULL);
            pk_wina_sparse_linear(x + t * n, mask, 1, n, Wt, NULL, o, y + t * o, NULL);
        }
        printf("%s%.17g", r ? ", " : "", pk_time_now() - t0);
    }
    printf("], \"tokens\": %lld, \"n\": %lld, \"out\": %lld, \"kept\": %lld}\n", (long long)T, (long long)n,
           (long long)o, (long long)k);
    st = pk_npy_write(argv[3], Y, &err);
    if (st)
        fprintf(stderr, "bench_wina: %s\n", err.msg);
    pk_array_free(W);
    pk_array_free(X);
    pk_array_free(Y);
    free(Wt);
    free(cn);
    free(mask);
    return st ? 1 : 0;
}
