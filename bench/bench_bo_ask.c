/* bench_bo_ask — seconds per ask of the Bayesian optimiser with N completed
 * observations in D dimensions (Hartmann-6 values at uniform random points for
 * D = 6, a sum of sines otherwise), for bench/bo_ask.py.
 *
 * usage: bench_bo_ask METHOD N D REPEATS SEED
 * The first ask (which runs the MCMC burn-in) is timed separately; each timed
 * ask is followed by tell_failed so that N stays fixed.  Prints one JSON object. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probkit/bo.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: bench_bo_ask METHOD N D REPEATS SEED\n");
        return 2;
    }
    int m = pk_bo_method_parse(argv[1]);
    int n = atoi(argv[2]), d = atoi(argv[3]), reps = atoi(argv[4]);
    if (m < 0 || n < 2 || d < 1 || d > 64 || reps < 1) {
        fprintf(stderr, "bench_bo_ask: bad arguments\n");
        return 2;
    }
    pk_bo_params p = pk_bo_params_default();
    p.method = (pk_bo_method)m;
    pk_bo *bo = pk_bo_new((size_t)d, &p, NULL);
    pk_rng rng;
    pk_rng_seed(&rng, strtoull(argv[5], NULL, 10));
    double u[64];
    for (int i = 0; i < n; i++) {
        double y = 0;
        for (int j = 0; j < d; j++)
            u[j] = pk_rng_uniform(&rng);
        if (d == 6)
            y = pk_bo_hartmann6(u);
        else
            for (int j = 0; j < d; j++)
                y += sin(7 * u[j]);
        pk_bo_observe(bo, u, y, 1.0);
    }
    int64_t t;
    pk_bo_ask(bo, &rng, u, &t, NULL);
    double first = pk_bo_last_ask_seconds(bo);
    pk_bo_tell_failed(bo, t);
    double *ts = malloc(2 * (size_t)reps * sizeof *ts), *cs = ts + reps;
    for (int r = 0; r < reps; r++) {
        double c0 = cpu_now();
        pk_bo_ask(bo, &rng, u, &t, NULL);
        cs[r] = cpu_now() - c0;
        ts[r] = pk_bo_last_ask_seconds(bo);
        pk_bo_tell_failed(bo, t);
    }
    qsort(ts, (size_t)reps, sizeof *ts, cmp);
    qsort(cs, (size_t)reps, sizeof *cs, cmp);
    printf("{\"method\": \"%s\", \"n\": %d, \"d\": %d, \"first_ask_s\": %.6f, \"median_ask_s\": %.6f, \"median_ask_cpu_s\": %.6f, \"asks\": [",
           argv[1], n, d, first, ts[reps / 2], cs[reps / 2]);
    for (int r = 0; r < reps; r++)
        printf("%s%.6f", r ? ", " : "", ts[r]);
    printf("]}\n");
    free(ts);
    pk_bo_free(bo);
    return 0;
}
