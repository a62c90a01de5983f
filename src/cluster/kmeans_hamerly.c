/* Hamerly (2010): one upper bound u_i on the distance to the own centre and one lower bound l_i on
 * the distance to every other centre; a point is rescanned only when u_i > max(l_i, s_a/2).
 * Produces Lloyd's labels (up to exact ties).  The float search returns an upper bound on the
 * nearest distance and a lower bound on the second nearest (kmeans_priv.h), which is all the
 * bounds need. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kmeans_priv.h"

/* The rows of one chunk that need a full scan are gathered, searched 4 at a time, then applied
 * in row order (so the chunk deltas, and thus the centres, do not depend on the schedule). */
static void rescan(km_ws *ws, const size_t *rows, size_t m, int32_t *labels, double *u, double *l, double *dist2,
                   double *pa, size_t *changed, int64_t *resc)
{
    const pk_mat *X = ws->X;
    size_t d = ws->d, k = ws->k;
    int32_t lab[KM_CHUNK];
    double hi[KM_CHUNK], lo[KM_CHUNK];
    *resc += (int64_t)km_near_rows(ws, rows, m, lab, hi, lo);
    for (size_t r = 0; r < m; r++) {
        size_t i = rows[r];
        int32_t a = labels[i];
        if (lab[r] != a && a >= 0) {
            (*changed)++;
            if (pa) {
                km_chunk_add(pa, pk_mat_at(X, i, 0), d, k, lab[r], 1.0);
                km_chunk_add(pa, pk_mat_at(X, i, 0), d, k, a, -1.0);
            }
        } else if (a < 0 && pa) {
            km_chunk_add(pa, pk_mat_at(X, i, 0), d, k, lab[r], 1.0);
        }
        double h = hi[r];
        if (lab[r] == a && dist2[i] < h) /* the caller's bound on the distance to the kept centre */
            h = dist2[i];
        labels[i] = lab[r];
        u[i] = sqrt(h);
        l[i] = sqrt(lo[r]);
        dist2[i] = h;
    }
}

int km_run_hamerly(km_ws *ws, const pk_kmeans_params *p, double tol_abs, double *C, int32_t *labels, double *dist2,
                   double *work, int *n_iter, int *converged, int64_t *n_dist)
{
    const pk_mat *X = ws->X;
    size_t n = ws->n, d = ws->d, k = p->k;
    double *Cnew = work, *counts = work + k * d, *s = counts + k, *shift = s + k;
    double *u = malloc(2 * (n ? n : 1) * sizeof(double)), *run = malloc((k * d + k) * sizeof(double));
    if (!u || !run) {
        free(u);
        free(run);
        return PK_ENOMEM;
    }
    double *l = u + n, *part = ws->part;
    int64_t nd = 0, resc = 0;
    size_t nch = km_nchunks(n), w = k * d + k;
    /* initial exact pass: nearest and second nearest; run <- the label sums, kept across
     * iterations and updated through the chunk deltas of the rows that move */
    km_ws_set_centres(ws, C);
    for (size_t i = 0; i < n; i++)
        labels[i] = -1;
    size_t changed0 = 0;
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : changed0, resc)
#endif
    for (size_t ch = 0; ch < nch; ch++) {
        size_t i0 = ch * KM_CHUNK, m = (i0 + KM_CHUNK < n ? i0 + KM_CHUNK : n) - i0, rows[KM_CHUNK];
        for (size_t r = 0; r < m; r++)
            rows[r] = i0 + r;
        memset(part + ch * w, 0, w * sizeof(double));
        rescan(ws, rows, m, labels, u, l, dist2, part + ch * w, &changed0, &resc);
    }
    nd += (int64_t)(n * k);
    memset(run, 0, w * sizeof(double));
    for (size_t ch = 0; ch < nch; ch++)
        for (size_t t = 0; t < w; t++)
            run[t] += part[ch * w + t];
    *converged = 0;
    int it, st = PK_OK;
    for (it = 1; it <= p->max_iter; it++) {
        if (km_update_centers(X, labels, k, dist2, Cnew, counts, C, p->reduce, run, 1)) {
            st = PK_EIO;
            break;
        }
        double tot = km_center_shift(C, Cnew, k, d, shift);
        memcpy(C, Cnew, k * d * sizeof(double));
        km_ws_set_centres(ws, C);
        /* largest and second largest movement */
        double m1 = 0, m2 = 0;
        size_t a1 = 0;
        for (size_t j = 0; j < k; j++) {
            if (shift[j] > m1) {
                m2 = m1;
                m1 = shift[j];
                a1 = j;
            } else if (shift[j] > m2) {
                m2 = shift[j];
            }
        }
        for (size_t j = 0; j < k; j++) {
            double best = INFINITY;
            for (size_t j2 = 0; j2 < k; j2++)
                if (j2 != j) {
                    double dd = pk_sqdist(C + j * d, C + j2 * d, d);
                    if (dd < best)
                        best = dd;
                }
            s[j] = 0.5 * sqrt(best);
        }
        nd += (int64_t)(k * k);
        size_t changed = 0;
        int64_t nd_it = 0;
#if defined(_OPENMP)
#pragma omp parallel for reduction(+ : changed, nd_it, resc) schedule(dynamic, 1)
#endif
        for (size_t ch = 0; ch < nch; ch++) {
            size_t i0 = ch * KM_CHUNK, i1 = i0 + KM_CHUNK < n ? i0 + KM_CHUNK : n, rows[KM_CHUNK], m = 0;
            double *pa = part + ch * w;
            memset(pa, 0, w * sizeof(double));
            for (size_t i = i0; i < i1; i++) {
                int32_t a = labels[i];
                u[i] += shift[a];
                l[i] -= ((size_t)a == a1) ? m2 : m1;
                double lim = s[a] > l[i] ? s[a] : l[i];
                if (u[i] > lim) { /* tighten u: a bound from the float rows reads half the bytes */
                    u[i] = km_dist_upper(ws, i, (size_t)a);
                    nd_it++;
                    dist2[i] = u[i] * u[i];
                    if (u[i] > lim)
                        rows[m++] = i;
                }
            }
            rescan(ws, rows, m, labels, u, l, dist2, pa, &changed, &resc);
            nd_it += (int64_t)(m * (k - 1));
        }
        nd += nd_it;
        for (size_t ch = 0; ch < nch; ch++)
            for (size_t t = 0; t < w; t++)
                run[t] += part[ch * w + t];
        double chg = (double)changed;
        if (pk_red_sum(p->reduce, &chg, 1)) {
            st = PK_EIO;
            break;
        }
        if (chg == 0 || tot <= tol_abs) {
            *converged = 1;
            break;
        }
    }
    if (it > p->max_iter)
        it = p->max_iter;
    free(u);
    free(run);
    ws->rescued += resc;
    *n_iter = it;
    /* exact final assignment and distances: the bounds are not distances */
    if (!st)
        km_assign_all(ws, C, labels, dist2, 1, 0, &nd);
    *n_dist += nd;
    return st;
}
