/* bench_ols — time pk_ols_fit on one problem; driven by bench/ols.py.
 *
 *   bench_ols X.npy y.npy [--method qr|svd] [--no-hat] [--repeat N]
 *   bench_ols --generate N P [--seed S] [--method ...] [--repeat N]
 *
 * Loading is not timed; each repeat times one pk_ols_fit with pk_time_now.
 * Prints one JSON object: {"seconds": [...], "coef": [...], "rss": ..,
 * "rank": .., "n": .., "p": .., "method": ".."} (%.17g numbers). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/io.h"
#include "probkit/ols.h"
#include "probkit/rng.h"

static int usage(void)
{
    fputs("usage: bench_ols X.npy y.npy [--method qr|svd] [--no-hat] [--repeat N]\n"
          "       bench_ols --generate N P [--seed S] [--method qr|svd] [--no-hat] [--repeat N]\n",
          stderr);
    return 2;
}

static void jnum(const char *sep, double v)
{
    if (isfinite(v))
        printf("%s%.17g", sep, v);
    else
        printf("%snull", sep);
}

static int load(const char *path, int want_ndim, double **out, int64_t *shape, pk_err *err)
{
    pk_array *a = NULL;
    int st = pk_npy_read(path, &a, err);
    if (st != PK_OK)
        return st;
    if (a->ndim != want_ndim) {
        pk_array_free(a);
        return pk_err_set(err, PK_ESHAPE, "%s: expected %d dimensions, got %d", path, want_ndim, a->ndim);
    }
    for (int d = 0; d < a->ndim; d++)
        shape[d] = a->shape[d];
    st = pk_array_to_f64(a, out);
    pk_array_free(a);
    return st;
}

int main(int argc, char **argv)
{
    const char *xpath = NULL, *ypath = NULL;
    long gen_n = 0, gen_p = 0, repeat = 1;
    unsigned long long seed = 42;
    pk_ols_params par = pk_ols_params_default();
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--generate") && i + 2 < argc) {
            gen_n = atol(argv[++i]);
            gen_p = atol(argv[++i]);
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
            repeat = atol(argv[++i]);
        } else if (!strcmp(argv[i], "--method") && i + 1 < argc) {
            i++;
            if (!strcmp(argv[i], "qr"))
                par.method = PK_OLS_QR;
            else if (!strcmp(argv[i], "svd"))
                par.method = PK_OLS_SVD;
            else
                return usage();
        } else if (!strcmp(argv[i], "--no-hat")) {
            par.compute_hat = 0;
        } else if (argv[i][0] != '-' && !xpath) {
            xpath = argv[i];
        } else if (argv[i][0] != '-' && !ypath) {
            ypath = argv[i];
        } else {
            return usage();
        }
    }
    if (repeat < 1 || repeat > 1000 || (!gen_n && (!xpath || !ypath)) || (gen_n && (gen_n < 1 || gen_p < 1)))
        return usage();

    double *X = NULL, *y = NULL;
    size_t n, p;
    pk_err err;
    pk_err_clear(&err);
    if (gen_n) {
        n = (size_t)gen_n;
        p = (size_t)gen_p;
        X = malloc(n * p * sizeof *X);
        y = malloc(n * sizeof *y);
        if (!X || !y) {
            fprintf(stderr, "bench_ols: out of memory\n");
            return 1;
        }
        pk_rng rng;
        pk_rng_seed(&rng, seed);
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t j = 0; j < p; j++) {
                X[i * p + j] = j == 0 ? 1.0 : pk_rng_normal(&rng);
                s += X[i * p + j] * (double)(j % 7) * 0.5;
            }
            y[i] = s + pk_rng_normal(&rng);
        }
    } else {
        int64_t xs[2] = {0, 0}, ys[1] = {0};
        if (load(xpath, 2, &X, xs, &err) != PK_OK || load(ypath, 1, &y, ys, &err) != PK_OK) {
            fprintf(stderr, "bench_ols: %s\n", err.msg);
            free(X);
            free(y);
            return 1;
        }
        if (xs[0] != ys[0]) {
            fprintf(stderr, "bench_ols: X has %lld rows but y has %lld\n", (long long)xs[0], (long long)ys[0]);
            free(X);
            free(y);
            return 1;
        }
        n = (size_t)xs[0];
        p = (size_t)xs[1];
    }
    pk_mat Xm = pk_mat_view(X, n, p);
    pk_ols *f = NULL;
    printf("{\"method\": \"%s\", \"hat\": %d, \"n\": %zu, \"p\": %zu, \"seconds\": [",
           par.method == PK_OLS_QR ? "qr" : "svd", par.compute_hat, n, p);
    for (long r = 0; r < repeat; r++) {
        pk_ols_free(f);
        f = NULL;
        double t0 = pk_time_now();
        int st = pk_ols_fit(&Xm, y, &par, &f, &err);
        double dt = pk_time_now() - t0;
        if (st != PK_OK) {
            fprintf(stderr, "bench_ols: %s\n", err.msg);
            pk_ols_free(f);
            free(X);
            free(y);
            return 1;
        }
        printf("%s%.9g", r ? ", " : "", dt);
    }
    printf("], \"rank\": %zu, \"rss\": %.17g, \"cond\": %.17g, \"coef\": [", f->rank, f->rss, f->cond);
    for (size_t j = 0; j < p; j++)
        jnum(j ? ", " : "", f->coef[j]);
    printf("], \"se\": [");
    for (size_t j = 0; j < p; j++)
        jnum(j ? ", " : "", f->se[j]);
    printf("]}\n");
    pk_ols_free(f);
    free(X);
    free(y);
    return 0;
}
