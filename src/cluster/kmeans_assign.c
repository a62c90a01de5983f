/* K-means assignment: the per-fit workspace, the certified float nearest-centre search with its
 * double-precision rescue, the full assignment pass with fused centre sums, and the centre update. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kmeans_priv.h"

/* Row norms and (with_float) the float copy, in one pass.  Float is used only where its error
 * bound holds (no overflow, not all-subnormal data); without the copy every search runs in double. */
static void norms_and_float(km_ws *ws, int with_float)
{
    const pk_mat *X = ws->X;
    size_t n = ws->n, d = ws->d;
    float *Xf = with_float ? malloc((n ? n : 1) * d * sizeof(float)) : NULL;
    double xmax = 0;
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) reduction(max : xmax)
#endif
    for (size_t i = 0; i < n; i++) {
        const double *x = pk_mat_at(X, i, 0);
        double s = 0;
        for (size_t t = 0; t < d; t++)
            s += x[t] * x[t];
        ws->xn[i] = s;
        if (s > xmax)
            xmax = s;
        if (Xf && s < 1e30) /* else the copy is dropped below (and a cast could overflow) */
            for (size_t t = 0; t < d; t++)
                Xf[i * d + t] = (float)x[t];
    }
    if (Xf && !(xmax > 1e-30 && xmax < 1e30)) {
        free(Xf);
        Xf = NULL;
    }
    ws->Xf = Xf;
}

int km_ws_init(km_ws *ws, const pk_mat *X, size_t k, int with_float)
{
    size_t n = X->rows, d = X->cols;
    memset(ws, 0, sizeof *ws);
    ws->X = X;
    ws->n = n;
    ws->d = d;
    ws->k = k;
    ws->kp = (k + 7) / 8 * 8;
    ws->margin = (double)(d + 8) * ldexp(1.0, -22);
    ws->near4 = pk_km_pick_near4();
    ws->xn = malloc((n ? n : 1) * sizeof(double));
    ws->Ct = malloc((d + 1) * ws->kp * sizeof(float));
    ws->Cf = malloc(k * d * sizeof(float));
    ws->cnorm = malloc(k * sizeof(double));
    ws->part = malloc(km_nchunks(n ? n : 1) * (k * d + k) * sizeof(double));
    if (!ws->xn || !ws->Ct || !ws->Cf || !ws->cnorm || !ws->part) {
        km_ws_free(ws);
        return PK_ENOMEM;
    }
    if (with_float >= 0)
        norms_and_float(ws, with_float);
    return PK_OK;
}

void km_ws_add_float(km_ws *ws)
{
    if (!ws->Xf)
        norms_and_float(ws, 1);
}

void km_ws_free(km_ws *ws)
{
    if (!ws)
        return;
    free(ws->Xf);
    free(ws->xn);
    free(ws->Ct);
    free(ws->Cf);
    free(ws->cnorm);
    free(ws->part);
    km_ws_free_lowp(ws);
    memset(ws, 0, sizeof *ws);
}

void km_ws_set_centres(km_ws *ws, const double *C)
{
    size_t d = ws->d, k = ws->k, kp = ws->kp;
    float *Ct = ws->Ct, *cn = Ct + d * kp;
    double cnmax = 0;
    memset(Ct, 0, d * kp * sizeof(float));
    for (size_t j = 0; j < k; j++) {
        double s = 0;
        for (size_t t = 0; t < d; t++) {
            Ct[t * kp + j] = ws->Cf[j * d + t] = (float)C[j * d + t];
            s += C[j * d + t] * C[j * d + t];
        }
        cn[j] = (float)s;
        ws->cnorm[j] = sqrt(s);
        if (s > cnmax)
            cnmax = s;
    }
    for (size_t j = k; j < kp; j++)
        cn[j] = INFINITY; /* padding never wins */
    ws->C = C;
    ws->cnmax = cnmax;
}

double km_dist_upper(const km_ws *ws, size_t i, size_t j)
{
    size_t d = ws->d;
    if (!ws->Xf || ws->cnmax >= 1e30)
        return sqrt(pk_sqdist(pk_mat_at(ws->X, i, 0), ws->C + j * d, d));
    const float *x = ws->Xf + i * d, *c = ws->Cf + j * d;
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t t = 0;
    for (; t + 4 <= d; t += 4) {
        float e0 = x[t] - c[t], e1 = x[t + 1] - c[t + 1], e2 = x[t + 2] - c[t + 2], e3 = x[t + 3] - c[t + 3];
        s0 += e0 * e0;
        s1 += e1 * e1;
        s2 += e2 * e2;
        s3 += e3 * e3;
    }
    for (; t < d; t++) {
        float e = x[t] - c[t];
        s0 += e * e;
    }
    double u = ldexp(1.0, -23), f = (double)((s0 + s1) + (s2 + s3));
    return sqrt(f * (1 + (double)(d + 3) * u)) + u * (sqrt(ws->xn[i]) + ws->cnorm[j]);
}

/* Exact double scan of one row: nearest (first index on ties) and second-nearest. */
static void scan_double(const km_ws *ws, size_t i, int32_t *lab, double *b1o, double *b2o)
{
    const double *x = pk_mat_at(ws->X, i, 0);
    double b1 = INFINITY, b2 = INFINITY;
    int32_t j1 = 0;
    for (size_t j = 0; j < ws->k; j++) {
        double dd = pk_sqdist(x, ws->C + j * ws->d, ws->d);
        if (dd < b1) {
            b2 = b1;
            b1 = dd;
            j1 = (int32_t)j;
        } else if (dd < b2) {
            b2 = dd;
        }
    }
    *lab = j1;
    *b1o = b1;
    *b2o = b2;
}

size_t km_near_rows(const km_ws *ws, const size_t *rows, size_t m, int32_t *lab, double *hi, double *lo2)
{
    size_t d = ws->d, rescued = 0;
    const float *cn = ws->Ct + d * ws->kp;
    for (size_t q = 0; q < m; q += 4) {
        size_t mr = m - q < 4 ? m - q : 4;
        if (!ws->Xf || ws->cnmax >= 1e30) {
            for (size_t r = 0; r < mr; r++) {
                double b1, b2;
                scan_double(ws, rows[q + r], &lab[q + r], &b1, &b2);
                if (hi)
                    hi[q + r] = b1;
                if (lo2)
                    lo2[q + r] = b2;
            }
            rescued += mr;
            continue;
        }
        const float *xr[4];
        float xnf[4], f1[4], f2[4];
        int32_t l4[4];
        for (size_t r = 0; r < 4; r++) {
            size_t i = rows[q + (r < mr ? r : mr - 1)]; /* a short block repeats its last row */
            xr[r] = ws->Xf + i * d;
            xnf[r] = (float)ws->xn[i];
        }
        ws->near4(xr, xnf, ws->Ct, cn, ws->kp, d, l4, f1, f2);
        for (size_t r = 0; r < mr; r++) {
            size_t i = rows[q + r];
            double e4 = ws->margin * (ws->xn[i] + ws->cnmax) + 1e-300, g1 = f1[r], g2 = f2[r];
            if (g2 - g1 <= e4) { /* too close to call in float */
                double b1, b2;
                scan_double(ws, i, &lab[q + r], &b1, &b2);
                if (hi)
                    hi[q + r] = b1;
                if (lo2)
                    lo2[q + r] = b2;
                rescued++;
                continue;
            }
            lab[q + r] = l4[r];
            if (hi)
                hi[q + r] = g1 + e4;
            if (lo2)
                lo2[q + r] = g2 - e4 > 0 ? g2 - e4 : 0;
        }
    }
    return rescued;
}

size_t km_chunk_apply(const km_ws *ws, const double *C, size_t i0, size_t m, const int32_t *lab, int32_t *labels,
                      double *dist2, double *a)
{
    const pk_mat *X = ws->X;
    size_t d = ws->d, k = ws->k, changed = 0;
    if (a)
        memset(a, 0, (k * d + k) * sizeof(double));
    for (size_t r = 0; r < m; r++) {
        size_t i = i0 + r;
        int32_t old = labels[i];
        if (dist2)
            dist2[i] = pk_sqdist(pk_mat_at(X, i, 0), C + (size_t)lab[r] * d, d);
        if (old == lab[r])
            continue;
        changed++;
        labels[i] = lab[r];
        if (a) { /* only moved rows are read again in double */
            if (old >= 0)
                km_chunk_add(a, pk_mat_at(X, i, 0), d, k, old, -1.0);
            km_chunk_add(a, pk_mat_at(X, i, 0), d, k, lab[r], 1.0);
        }
    }
    return changed;
}

size_t km_assign_all(km_ws *ws, const double *C, int32_t *labels, double *dist2, int exact, int with_sums,
                     int64_t *n_dist)
{
    size_t n = ws->n, d = ws->d, k = ws->k, changed = 0, w = k * d + k, nch = km_nchunks(n);
    int64_t resc = 0;
    int lowp = 0;
    changed = km_assign_lowp(ws, C, labels, dist2, exact, with_sums, &lowp);
    if (lowp) {
        *n_dist += (int64_t)(n * k);
        return changed;
    }
    km_ws_set_centres(ws, C);
#if defined(_OPENMP)
#pragma omp parallel for reduction(+ : changed, resc) schedule(dynamic, 1)
#endif
    for (size_t ch = 0; ch < nch; ch++) {
        size_t i0 = ch * KM_CHUNK, m = (i0 + KM_CHUNK < n ? i0 + KM_CHUNK : n) - i0;
        size_t rows[KM_CHUNK];
        int32_t lab[KM_CHUNK];
        double *a = with_sums ? ws->part + ch * w : NULL;
        for (size_t r = 0; r < m; r++)
            rows[r] = i0 + r;
        resc += (int64_t)km_near_rows(ws, rows, m, lab, dist2 ? dist2 + i0 : NULL, NULL);
        changed += km_chunk_apply(ws, C, i0, m, lab, labels, exact ? dist2 : NULL, a);
    }
    ws->rescued += resc;
    *n_dist += (int64_t)(n * k);
    return changed;
}

/* C (k x d) <- sum of the rows with each label, counts (k) <- their number: from the nparts
 * partial sums `part` (added in order), or (part NULL) serially in row order. */
static void label_sums(const pk_mat *X, const int32_t *labels, size_t k, const double *part, size_t nparts,
                       double *C, double *counts)
{
    size_t n = X->rows, d = X->cols, w = k * d + k;
    memset(C, 0, k * d * sizeof(double));
    memset(counts, 0, k * sizeof(double));
    if (!part) {
        for (size_t i = 0; i < n; i++) {
            const double *x = pk_mat_at(X, i, 0);
            double *c = C + (size_t)labels[i] * d;
            for (size_t t = 0; t < d; t++)
                c[t] += x[t];
            counts[labels[i]] += 1;
        }
        return;
    }
    for (size_t ch = 0; ch < nparts; ch++) {
        const double *a = part + ch * w;
        for (size_t t = 0; t < k * d; t++)
            C[t] += a[t];
        for (size_t j = 0; j < k; j++)
            counts[j] += a[k * d + j];
    }
}

int km_update_centers(const pk_mat *X, const int32_t *labels, size_t k, double *dist2, double *C, double *counts,
                      const double *Cold, const pk_allreduce *red, const double *part, size_t nparts)
{
    size_t n = X->rows, d = X->cols;
    label_sums(X, labels, k, part, nparts, C, counts);
    if (pk_red_split(red)) {
        /* sums and counts are contiguous in the caller's work buffer: one reduction */
        if (pk_red_sum(red, C, k * d + k))
            return PK_EIO;
        for (size_t j = 0; j < k; j++) {
            if (counts[j] > 0)
                for (size_t t = 0; t < d; t++)
                    C[j * d + t] /= counts[j];
            else /* split rows: the farthest-point refill would need a global arg-max */
                memcpy(C + j * d, Cold + j * d, d * sizeof(double));
        }
        return PK_OK;
    }
    int any_empty = 0;
    for (size_t j = 0; j < k; j++)
        any_empty |= counts[j] == 0;
    if (any_empty) /* the search leaves bounds, the farthest point needs distances */
        for (size_t i = 0; i < n; i++)
            dist2[i] = pk_sqdist(pk_mat_at(X, i, 0), Cold + (size_t)labels[i] * d, d);
    /* an empty cluster takes the point farthest from its centre (as scikit-learn does), which
     * leaves its old cluster's sums */
    for (size_t j = 0; j < k; j++) {
        if (counts[j] > 0)
            continue;
        size_t far = 0;
        double fd = -1;
        for (size_t i = 0; i < n; i++)
            if (dist2[i] > fd && counts[labels[i]] > 1) {
                fd = dist2[i];
                far = i;
            }
        const double *x = pk_mat_at(X, far, 0);
        double *old = C + (size_t)labels[far] * d;
        for (size_t t = 0; t < d; t++) {
            old[t] -= x[t];
            C[j * d + t] = x[t];
        }
        counts[labels[far]] -= 1;
        counts[j] = 1;
    }
    for (size_t j = 0; j < k; j++)
        for (size_t t = 0; t < d; t++)
            C[j * d + t] /= counts[j];
    return PK_OK;
}

double km_center_shift(const double *a, const double *b, size_t k, size_t d, double *per)
{
    double tot = 0;
    for (size_t j = 0; j < k; j++) {
        double s = pk_sqdist(a + j * d, b + j * d, d);
        if (per)
            per[j] = sqrt(s);
        tot += s;
    }
    return tot;
}
