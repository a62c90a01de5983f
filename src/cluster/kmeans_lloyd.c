/* K-means iterations without bounds: Lloyd (full assignment + mean update) and Sculley's
 * mini-batch updates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kmeans_priv.h"

int km_run_lloyd(km_ws *ws, const pk_kmeans_params *p, double tol_abs, double *C, int32_t *labels, double *dist2,
                 double *work, int *n_iter, int *converged, int64_t *n_dist)
{
    size_t n = ws->n, d = ws->d, k = p->k;
    double *Cnew = work, *counts = work + k * d;
    size_t w = k * d + k, nch = km_nchunks(n);
    double *run = calloc(w, sizeof(double)); /* label sums, updated by the rows that move */
    if (!run)
        return PK_ENOMEM;
    for (size_t i = 0; i < n; i++)
        labels[i] = -1;
    *converged = 0;
    int it, st = PK_OK;
    for (it = 1; it <= p->max_iter; it++) {
        double changed = (double)km_assign_all(ws, C, labels, dist2, 0, 1, n_dist);
        if (pk_red_sum(p->reduce, &changed, 1)) {
            st = PK_EIO;
            break;
        }
        if (it > 1 && changed == 0) {
            *converged = 1;
            break;
        }
        for (size_t ch = 0; ch < nch; ch++)
            for (size_t t = 0; t < w; t++)
                run[t] += ws->part[ch * w + t];
        if (km_update_centers(ws->X, labels, k, dist2, Cnew, counts, C, p->reduce, run, 1)) {
            st = PK_EIO;
            break;
        }
        double shift = km_center_shift(C, Cnew, k, d, NULL);
        memcpy(C, Cnew, k * d * sizeof(double));
        if (shift <= tol_abs) {
            *converged = 1;
            break;
        }
    }
    if (it > p->max_iter)
        it = p->max_iter;
    /* labels matching the returned centres, with exact distances for the inertia */
    if (!st)
        km_assign_all(ws, C, labels, dist2, 1, 0, n_dist);
    free(run);
    *n_iter = it;
    return st;
}

/* Sculley (2010) mini-batch K-means with per-centre learning rates 1/count. max_iter counts epochs. */
int km_run_minibatch(km_ws *ws, const pk_kmeans_params *p, double tol_abs, pk_rng *rng, double *C, int32_t *labels,
                     double *dist2, double *work, int *n_iter, int *converged, int64_t *n_dist)
{
    const pk_mat *X = ws->X;
    size_t n = ws->n, d = ws->d, k = p->k, b = p->batch_size < n ? p->batch_size : n;
    double *Cold = work, *counts = work + k * d;
    size_t *idx = malloc(b * sizeof *idx);
    int32_t *bl = malloc(b * sizeof *bl);
    if (!idx || !bl) {
        free(idx);
        free(bl);
        return PK_ENOMEM;
    }
    memset(counts, 0, k * sizeof(double));
    size_t steps_per_epoch = (n + b - 1) / b;
    *converged = 0;
    int ep, quiet = 0;
    for (ep = 1; ep <= p->max_iter; ep++) {
        memcpy(Cold, C, k * d * sizeof(double));
        for (size_t st = 0; st < steps_per_epoch; st++) {
            for (size_t t = 0; t < b; t++)
                idx[t] = (size_t)pk_rng_below(rng, n);
            km_ws_set_centres(ws, C);
            size_t nblk = (b + 255) / 256;
#if defined(_OPENMP)
#pragma omp parallel for schedule(static)
#endif
            for (size_t q = 0; q < nblk; q++) {
                size_t t0 = q * 256, m = (t0 + 256 < b ? t0 + 256 : b) - t0;
                km_near_rows(ws, idx + t0, m, bl + t0, NULL, NULL);
            }
            *n_dist += (int64_t)(b * k);
            for (size_t t = 0; t < b; t++) {
                const double *x = pk_mat_at(X, idx[t], 0);
                double *c = C + (size_t)bl[t] * d;
                counts[bl[t]] += 1;
                double eta = 1.0 / counts[bl[t]];
                for (size_t q = 0; q < d; q++)
                    c[q] += eta * (x[q] - c[q]);
            }
        }
        double shift = km_center_shift(Cold, C, k, d, NULL);
        /* stochastic shifts: require two quiet epochs in a row */
        quiet = shift <= tol_abs ? quiet + 1 : 0;
        if (quiet >= 2) {
            *converged = 1;
            break;
        }
    }
    if (ep > p->max_iter)
        ep = p->max_iter;
    for (size_t i = 0; i < n; i++)
        labels[i] = -1;
    km_assign_all(ws, C, labels, dist2, 1, 0, n_dist);
    free(idx);
    free(bl);
    *n_iter = ep;
    return PK_OK;
}
