/* bench_metrics — time probkit's calibration metrics and Spearman test on one
 * problem; driven by bench/metrics.py.
 *
 *   bench_metrics calib P.npy Y.npy [--repeat N]      pk_calib_compute (15 bins)
 *   bench_metrics spearman X.npy Y.npy [--repeat N]   pk_spearman
 *
 * Loading is not timed.  Prints one JSON object with "seconds": [...] and the
 * results (%.17g). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/io.h"
#include "probkit/metrics.h"

static int load(const char *path, double **out, size_t *n, pk_err *err)
{
    pk_array *a = NULL;
    int st = pk_npy_read(path, &a, err);
    if (st)
        return st;
    *n = pk_array_numel(a);
    st = pk_array_to_f64(a, out);
    pk_array_free(a);
    return st;
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "calib") && strcmp(argv[1], "spearman"))) {
        fputs("usage: bench_metrics calib|spearman A.npy B.npy [--repeat N]\n", stderr);
        return 2;
    }
    long repeat = 1;
    if (argc >= 6 && !strcmp(argv[4], "--repeat"))
        repeat = atol(argv[5]);
    if (repeat < 1)
        repeat = 1;
    pk_err err;
    pk_err_clear(&err);
    double *a = NULL, *b = NULL;
    size_t na, nb;
    if (load(argv[2], &a, &na, &err) || load(argv[3], &b, &nb, &err)) {
        fprintf(stderr, "bench_metrics: %s\n", err.msg);
        free(a);
        return 1;
    }
    if (na != nb) {
        fprintf(stderr, "bench_metrics: %zu vs %zu values\n", na, nb);
        free(a);
        free(b);
        return 1;
    }
    int calib = !strcmp(argv[1], "calib");
    pk_calib_metrics m;
    pk_spearman_result s;
    printf("{\"what\": \"%s\", \"n\": %zu, \"seconds\": [", argv[1], na);
    for (long r = 0; r < repeat; r++) {
        double t0 = pk_time_now();
        int st = calib ? pk_calib_compute(a, b, NULL, na, 15, &m, &err) : pk_spearman(a, b, na, &s, &err);
        double dt = pk_time_now() - t0;
        if (st) {
            fprintf(stderr, "bench_metrics: %s\n", err.msg);
            free(a);
            free(b);
            return 1;
        }
        printf("%s%.9g", r ? ", " : "", dt);
    }
    if (calib)
        printf("], \"brier\": %.17g, \"nll\": %.17g, \"auc\": %.17g, \"ece\": %.17g}\n", m.brier, m.nll, m.auc, m.ece);
    else
        printf("], \"rho\": %.17g, \"log10_p\": %.17g}\n", s.rho, s.log10_p);
    free(a);
    free(b);
    return 0;
}
