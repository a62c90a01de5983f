/* bench_bo_grid — parallel and cost-aware Bayesian optimisation replayed on a
 * precomputed grid of real trainings (Snoek et al. 2012, section 4.3 and
 * figure 4: online LDA and structured-SVM grids of (error, duration)).
 *
 *   bench_bo_grid GRID.csv KIND METHOD WORKERS FIRST COUNT MAX_EVALS [SEED]
 *
 * KIND names the columns: "lda" (kappa, tau0, batch, perplexity, cpu_seconds:
 * bench/bo_lda_grid.py) or "logreg" (lr, l2, batch, epochs, error, nll,
 * cpu_seconds: `bench_bo_logreg grid`, objective the cross-entropy).  Every
 * axis maps to [0, 1] by the rank of its level (the levels are log- or
 * evenly spaced), the optimiser is told log(objective), and a trial costs the
 * grid's measured CPU seconds.  METHOD is a pk_bo method name (ei-mcmc,
 * ei-per-second, random, ...).  Repeats FIRST .. FIRST+COUNT-1 use rng
 * stream r of SEED (default 42), the same streams for every method.
 *
 * W asynchronous workers on a simulated clock: a free worker asks at once
 * (running trials are pending points, handled by fantasies), the proposal
 * snaps to the nearest untried grid point (Spearmint also chooses among grid
 * candidates), and the trial ends after its measured CPU seconds.  One line
 * per repeat: "repeat time_to_best_1% trials_started trail" (time "inf" when the
 * best 1% -- the ceil(n/100) lowest objectives -- is not reached within
 * MAX_EVALS trials; trail: a hash of the sequence of chosen grid points, to
 * check that two builds or thread counts make the same choices).  bench/bo_grid.py runs the study and writes the JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/bo.h"

#define MAX_N 4096
#define MAX_D 8
#define MAX_W 16

typedef struct {
    size_t n, d;
    double u[MAX_N][MAX_D], y[MAX_N], sec[MAX_N];
    double thr; /* objective of the best 1% */
} grid;

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* rank of v among the sorted distinct values lv[0..nl) */
static double rank01(const double *lv, size_t nl, double v)
{
    for (size_t i = 0; i < nl; i++)
        if (lv[i] == v)
            return nl > 1 ? (double)i / (double)(nl - 1) : 0.5;
    return NAN;
}

static int grid_load(grid *g, const char *path, const char *kind)
{
    size_t d, ycol, ccol, ncol;
    if (!strcmp(kind, "lda")) {
        d = 3, ycol = 3, ccol = 4, ncol = 5;
    } else if (!strcmp(kind, "logreg")) {
        d = 4, ycol = 5, ccol = 6, ncol = 7;
    } else {
        fprintf(stderr, "bench_bo_grid: unknown grid kind '%s' (lda or logreg)\n", kind);
        return 1;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_bo_grid: cannot open %s\n", path);
        return 1;
    }
    static double raw[MAX_N][8];
    char line[512];
    g->n = 0;
    g->d = d;
    int ok = fgets(line, sizeof line, f) != NULL; /* header */
    while (ok && g->n < MAX_N && fgets(line, sizeof line, f)) {
        char *p = line, *e;
        size_t c = 0;
        for (; c < ncol; c++) {
            raw[g->n][c] = strtod(p, &e);
            if (e == p)
                break;
            p = *e == ',' ? e + 1 : e;
        }
        if (c != ncol || !(raw[g->n][ycol] > 0) || !(raw[g->n][ccol] > 0)) {
            fprintf(stderr, "bench_bo_grid: %s line %zu: expected %zu numbers, positive objective and cost\n", path,
                    g->n + 2, ncol);
            ok = 0;
            break;
        }
        g->n++;
    }
    fclose(f);
    if (!ok || g->n < 100)
        return 1;
    for (size_t j = 0; j < d; j++) {
        double lv[MAX_N];
        size_t nl = 0;
        for (size_t i = 0; i < g->n; i++)
            lv[i] = raw[i][j];
        qsort(lv, g->n, sizeof *lv, cmp_dbl);
        for (size_t i = 0; i < g->n; i++)
            if (nl == 0 || lv[i] != lv[nl - 1])
                lv[nl++] = lv[i];
        for (size_t i = 0; i < g->n; i++)
            g->u[i][j] = rank01(lv, nl, raw[i][j]);
    }
    double sorted[MAX_N];
    for (size_t i = 0; i < g->n; i++) {
        g->y[i] = raw[i][ycol];
        g->sec[i] = raw[i][ccol];
        sorted[i] = g->y[i];
    }
    qsort(sorted, g->n, sizeof *sorted, cmp_dbl);
    g->thr = sorted[(g->n + 99) / 100 - 1];
    return 0;
}

static size_t grid_snap(const grid *g, const double *u, const unsigned char *used)
{
    size_t best = 0;
    double bd = INFINITY;
    for (size_t i = 0; i < g->n; i++) {
        if (used[i])
            continue;
        double dd = 0;
        for (size_t j = 0; j < g->d; j++)
            dd += (g->u[i][j] - u[j]) * (g->u[i][j] - u[j]);
        if (dd < bd) {
            bd = dd;
            best = i;
        }
    }
    return best;
}

/* Simulated time at which a finished trial first lies in the best 1%. */
static double simulate(const grid *g, pk_bo_method m, int workers, int max_evals, uint64_t seed, uint64_t stream,
                       int *n_started, uint64_t *trail)
{
    pk_bo_params p = pk_bo_params_default();
    p.method = m;
    /* proposals snap to the grid, so a dense candidate set with light
     * refinement finds the same grid points as Spearmint's 20,000 + 20 at a
     * fraction of the cost (1,000 Sobol points are ~10 per axis in 3-d) */
    p.n_candidates = 1000;
    p.n_refine = 2;
    pk_bo *bo = pk_bo_new(g->d, &p, NULL);
    unsigned char *used = calloc(g->n, 1);
    if (!bo || !used) {
        pk_bo_free(bo);
        free(used);
        return NAN;
    }
    pk_rng rng;
    pk_rng_seed_stream(&rng, seed, stream);
    double fin[MAX_W], now = 0, hit = INFINITY;
    size_t idx[MAX_W];
    int64_t tk[MAX_W];
    int started = 0;
    for (int w = 0; w < workers; w++)
        fin[w] = -1;
    while (!isfinite(hit)) {
        for (int w = 0; w < workers && started < max_evals && (size_t)started < g->n; w++) {
            if (fin[w] >= 0)
                continue;
            double u[MAX_D];
            if (pk_bo_ask(bo, &rng, u, &tk[w], NULL) || pk_bo_tell_failed(bo, tk[w]))
                break;
            idx[w] = grid_snap(g, u, used);
            *trail = (*trail ^ (uint64_t)idx[w]) * 1099511628211ULL; /* FNV-1a of the chosen points */
            used[idx[w]] = 1;
            if (pk_bo_add_pending(bo, g->u[idx[w]], &tk[w]))
                break;
            fin[w] = now + g->sec[idx[w]];
            started++;
        }
        int k = -1;
        for (int w = 0; w < workers; w++)
            if (fin[w] >= 0 && (k < 0 || fin[w] < fin[k]))
                k = w;
        if (k < 0)
            break;
        now = fin[k];
        pk_bo_tell(bo, tk[k], log(g->y[idx[k]]), g->sec[idx[k]]);
        fin[k] = -1;
        if (g->y[idx[k]] <= g->thr)
            hit = now;
    }
    *n_started = started;
    pk_bo_free(bo);
    free(used);
    return hit;
}

int main(int argc, char **argv)
{
    if (argc < 8 || argc > 9) {
        fprintf(stderr, "usage: bench_bo_grid GRID.csv lda|logreg METHOD WORKERS FIRST COUNT MAX_EVALS [SEED]\n");
        return 2;
    }
    int m = pk_bo_method_parse(argv[3]), workers = atoi(argv[4]), first = atoi(argv[5]), count = atoi(argv[6]);
    int max_evals = atoi(argv[7]);
    uint64_t seed = argc == 9 ? strtoull(argv[8], NULL, 10) : 42;
    if (m < 0 || workers < 1 || workers > MAX_W || first < 0 || count < 1 || max_evals < 1) {
        fprintf(stderr, "bench_bo_grid: bad METHOD (%s), WORKERS 1..%d, FIRST >= 0, COUNT >= 1 or MAX_EVALS >= 1\n",
                argv[3], MAX_W);
        return 2;
    }
    static grid g;
    if (grid_load(&g, argv[1], argv[2]))
        return 1;
    printf("# %s: %zu points, %zu axes, best 1%% = objective <= %.6g\n", argv[1], g.n, g.d, g.thr);
    for (int r = first; r < first + count; r++) {
        int started = 0;
        uint64_t trail = 14695981039346656037ULL;
        double h = simulate(&g, (pk_bo_method)m, workers, max_evals, seed, (uint64_t)r, &started, &trail);
        if (isnan(h)) {
            fprintf(stderr, "bench_bo_grid: out of memory\n");
            return 1;
        }
        printf("%d %.6f %d %016llx\n", r, h, started, (unsigned long long)trail);
        fflush(stdout);
    }
    return 0;
}
