/* K-means: k-means++ seeding, Lloyd, Hamerly's bounds, mini-batch, restarts. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_priv.h"
#include "probkit/cluster.h"

/* kmeans_kernel.c: nearest centre of 4 rows (see there) */
typedef void (*pk_km_near4_fn)(const double *const *xr, const double *xn, const double *Ct, const double *cn,
                               size_t kp, size_t d, int32_t *lab, double *best);
pk_km_near4_fn pk_km_pick_near4(void);

pk_kmeans_params pk_kmeans_params_default(size_t k)
{
    pk_kmeans_params p;
    memset(&p, 0, sizeof p);
    p.k = k;
    p.n_init = 1;
    p.max_iter = 300;
    p.tol = 1e-4;
    p.algo = PK_KMEANS_HAMERLY;
    p.init = PK_KMEANS_INIT_PP;
    p.batch_size = 1024;
    return p;
}

int pk_kmeans_params_check(const pk_kmeans_params *p, size_t n, size_t d, pk_err *err)
{
    if (!p)
        return pk_err_set(err, PK_EINVAL, "kmeans: no parameters");
    if (p->k < 1)
        return pk_err_set(err, PK_EINVAL, "kmeans: k must be >= 1");
    if (n < p->k)
        return pk_err_set(err, PK_EINVAL, "kmeans: fewer points (%zu) than clusters (k = %zu)", n, p->k);
    if (d < 1)
        return pk_err_set(err, PK_EINVAL, "kmeans: data have no columns");
    if (p->n_init < 1 || p->max_iter < 1)
        return pk_err_set(err, PK_EINVAL, "kmeans: n_init (%d) and max_iter (%d) must be >= 1", p->n_init,
                          p->max_iter);
    if (!(p->tol >= 0))
        return pk_err_set(err, PK_EINVAL, "kmeans: tol must be >= 0");
    if (p->algo != PK_KMEANS_LLOYD && p->algo != PK_KMEANS_HAMERLY && p->algo != PK_KMEANS_MINIBATCH)
        return pk_err_set(err, PK_EINVAL, "kmeans: unknown algorithm %d", (int)p->algo);
    if (p->init == PK_KMEANS_INIT_GIVEN && !p->init_centers)
        return pk_err_set(err, PK_EINVAL, "kmeans: init = given but init_centers is NULL");
    if (p->init != PK_KMEANS_INIT_GIVEN && p->init != PK_KMEANS_INIT_PP && p->init != PK_KMEANS_INIT_RANDOM)
        return pk_err_set(err, PK_EINVAL, "kmeans: unknown init %d", (int)p->init);
    if (p->algo == PK_KMEANS_MINIBATCH && p->batch_size < 1)
        return pk_err_set(err, PK_EINVAL, "kmeans: batch_size must be >= 1");
    return PK_OK;
}

void pk_kmeans_free(pk_kmeans *km)
{
    if (!km)
        return;
    free(km->centers);
    free(km->labels);
    free(km);
}

/* Global row `g` into out (d): its owner copies it, the others contribute zeros. */
static int fetch_row(const pk_mat *X, const pk_allreduce *red, size_t off, size_t g, double *out)
{
    size_t d = X->cols;
    if (g >= off && g < off + X->rows)
        memcpy(out, pk_mat_at(X, g - off, 0), d * sizeof(double));
    else
        memset(out, 0, d * sizeof(double));
    return pk_red_sum(red, out, d);
}

/* k-means++ over rows that may be split across participants: the D^2 draw is located by the
 * participants' partial potentials in rank order, so every participant makes the same choice
 * (and a single participant makes exactly the single-process choice). */
static int plusplus(const pk_mat *X, size_t k, pk_rng *rng, const pk_allreduce *red, double *C)
{
    size_t n = X->rows, d = X->cols, N, off;
    int st = pk_red_rows(red, n, &N, &off);
    if (st)
        return st;
    if (k < 1 || N < k)
        return PK_EINVAL;
    int P = pk_red_split(red) ? red->size : 1, me = pk_red_split(red) ? red->rank : 0;
    double *closest = malloc((n ? n : 1) * sizeof *closest), *pots = malloc((size_t)P * sizeof(double));
    double *cand = malloc(2 * d * sizeof(double)), *bestrow = cand + d;
    if (!closest || !pots || !cand) {
        free(closest);
        free(pots);
        free(cand);
        return PK_ENOMEM;
    }
    size_t trials = 2 + (size_t)log((double)k);
    st = fetch_row(X, red, off, (size_t)pk_rng_below(rng, N), C);
    for (size_t i = 0; i < n; i++)
        closest[i] = pk_sqdist(pk_mat_at(X, i, 0), C, d);
    for (size_t c = 1; !st && c < k; c++) {
        double pl = 0;
        for (size_t i = 0; i < n; i++)
            pl += closest[i];
        memset(pots, 0, (size_t)P * sizeof(double));
        pots[me] = pl;
        st = pk_red_sum(red, pots, (size_t)P);
        double pot = 0;
        for (int q = 0; q < P; q++)
            pot += pots[q];
        double best_pot = INFINITY;
        for (size_t t = 0; !st && t < trials; t++) {
            /* D^2 sampling; a degenerate potential (all points on centres) falls back to uniform */
            size_t g;
            if (pot > 0) {
                double r = pk_rng_uniform(rng) * pot, before = 0;
                int q = 0;
                while (q < P - 1 && before + pots[q] <= r)
                    before += pots[q++];
                double gi = -1; /* the owner fills in the global index */
                if (q == me) {
                    double acc = 0, rr = r - before;
                    size_t idx = n ? n - 1 : 0;
                    for (size_t i = 0; i < n; i++) {
                        acc += closest[i];
                        if (acc > rr) {
                            idx = i;
                            break;
                        }
                    }
                    gi = (double)(off + idx);
                }
                double buf[1] = {q == me ? gi + 1 : 0};
                st = pk_red_sum(red, buf, 1);
                g = (size_t)(buf[0] - 1);
            } else {
                g = (size_t)pk_rng_below(rng, N);
            }
            if (!st)
                st = fetch_row(X, red, off, g, cand);
            double p = 0;
#if defined(_OPENMP)
#pragma omp parallel for reduction(+ : p) schedule(static)
#endif
            for (size_t i = 0; i < n; i++) {
                double dd = pk_sqdist(pk_mat_at(X, i, 0), cand, d);
                p += dd < closest[i] ? dd : closest[i];
            }
            if (!st)
                st = pk_red_sum(red, &p, 1);
            if (p < best_pot) {
                best_pot = p;
                memcpy(bestrow, cand, d * sizeof(double));
            }
        }
        memcpy(C + c * d, bestrow, d * sizeof(double));
        for (size_t i = 0; i < n; i++) {
            double dd = pk_sqdist(pk_mat_at(X, i, 0), bestrow, d);
            if (dd < closest[i])
                closest[i] = dd;
        }
    }
    free(closest);
    free(pots);
    free(cand);
    return st;
}

int pk_kmeans_plusplus(const pk_mat *X, size_t k, pk_rng *rng, double *C)
{
    return X && rng && C ? plusplus(X, k, rng, NULL, C) : PK_EINVAL;
}

/* Centre sums are built in fixed chunks of rows: each chunk's partial sums (k*d sums, then k
 * counts) are added in chunk order, so the result depends neither on the thread count nor on
 * the schedule, and the assignment pass can fill them while the rows are in cache. */
#define KM_CHUNK 2048 /* a multiple of 4 (assign_all's row blocks) */
static size_t km_nchunks(size_t n) { return (n + KM_CHUNK - 1) / KM_CHUNK; }

static inline void chunk_sub(double *a, const double *x, size_t d, size_t k, int32_t j)
{
    double *c = a + (size_t)j * d;
    for (size_t t = 0; t < d; t++)
        c[t] -= x[t];
    a[k * d + (size_t)j] -= 1;
}

static inline void chunk_add(double *a, const double *x, size_t d, size_t k, int32_t j)
{
    double *c = a + (size_t)j * d;
    for (size_t t = 0; t < d; t++)
        c[t] += x[t];
    a[k * d + (size_t)j] += 1;
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

/* Assign every row to its nearest centre; returns the number of changed labels.
 * Distances come from (|x|^2 + |c|^2) - 2 x.c, by the near4 kernel over blocks of 4 rows.
 * xn: the rows' squared norms, or NULL to compute them here.  part (may be NULL): chunk partial
 * sums of the new assignment, for update_centers. */
static size_t assign_all(const pk_mat *X, const double *C, size_t k, int32_t *labels, double *dist2,
                         int64_t *n_dist, const double *xn, double *part)
{
    size_t n = X->rows, d = X->cols, changed = 0, kp = (k + 3) / 4 * 4, w = k * d + k;
    double *Ct = calloc(d * kp + kp, sizeof(double));
    if (!Ct) { /* no scratch: direct distances */
        if (part)
            memset(part, 0, km_nchunks(n) * w * sizeof(double));
        for (size_t i = 0; i < n; i++) {
            const double *x = pk_mat_at(X, i, 0);
            double best = INFINITY;
            int32_t bj = 0;
            for (size_t j = 0; j < k; j++) {
                double dd = pk_sqdist(x, C + j * d, d);
                if (dd < best) {
                    best = dd;
                    bj = (int32_t)j;
                }
            }
            changed += labels[i] != bj;
            labels[i] = bj;
            if (dist2)
                dist2[i] = best;
            if (part)
                chunk_add(part + (i / KM_CHUNK) * w, x, d, k, bj);
        }
        *n_dist += (int64_t)(n * k);
        return changed;
    }
    double *cn = Ct + d * kp;
    for (size_t j = 0; j < k; j++) {
        double s = 0;
        for (size_t t = 0; t < d; t++) {
            Ct[t * kp + j] = C[j * d + t];
            s += C[j * d + t] * C[j * d + t];
        }
        cn[j] = s;
    }
    for (size_t j = k; j < kp; j++)
        cn[j] = INFINITY; /* padding never wins */
    size_t nch = km_nchunks(n);
    pk_km_near4_fn near4 = pk_km_pick_near4();
#if defined(_OPENMP)
#pragma omp parallel for reduction(+ : changed) schedule(dynamic, 1)
#endif
    for (size_t ch = 0; ch < nch; ch++) {
        size_t i1 = (ch + 1) * KM_CHUNK < n ? (ch + 1) * KM_CHUNK : n;
        double *a = part ? part + ch * w : NULL;
        if (a)
            memset(a, 0, w * sizeof(double));
        for (size_t i0 = ch * KM_CHUNK; i0 < i1; i0 += 4) {
            const double *xr[4];
            double xr_n[4], best[4];
            int32_t bj[4];
            for (int r = 0; r < 4; r++) {
                size_t i = i0 + (size_t)r < n ? i0 + (size_t)r : n - 1; /* tail rows repeat the last */
                xr[r] = pk_mat_at(X, i, 0);
                if (xn) {
                    xr_n[r] = xn[i];
                } else {
                    double s = 0;
                    for (size_t t = 0; t < d; t++)
                        s += xr[r][t] * xr[r][t];
                    xr_n[r] = s;
                }
            }
            near4(xr, xr_n, Ct, cn, kp, d, bj, best);
            for (int r = 0; r < 4 && i0 + (size_t)r < n; r++) {
                size_t i = i0 + (size_t)r;
                if (labels[i] != bj[r])
                    changed++;
                labels[i] = bj[r];
                if (dist2)
                    dist2[i] = best[r] > 0 ? best[r] : 0;
                if (a)
                    chunk_add(a, xr[r], d, k, bj[r]);
            }
        }
    }
    free(Ct);
    *n_dist += (int64_t)(n * k);
    return changed;
}

/* New centres as label means; an empty cluster takes the point farthest from its centre
 * (as scikit-learn does), which is then removed from its old cluster's mean. */
static int update_centers(const pk_mat *X, const int32_t *labels, size_t k, const double *dist2, double *C,
                          double *counts, const double *Cold, const pk_allreduce *red, const double *part,
                          size_t nparts)
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

static double center_shift(const double *a, const double *b, size_t k, size_t d, double *per)
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

/* Squared row norms, summed as assign_all would; NULL when memory is short (callers then
 * compute them on the fly). */
static double *row_norms(const pk_mat *X)
{
    size_t n = X->rows, d = X->cols;
    double *xn = malloc((n + 1) * sizeof(double));
    if (!xn)
        return NULL;
#if defined(_OPENMP)
#pragma omp parallel for schedule(static)
#endif
    for (size_t i = 0; i < n; i++) {
        const double *x = pk_mat_at(X, i, 0);
        double s = 0;
        for (size_t t = 0; t < d; t++)
            s += x[t] * x[t];
        xn[i] = s;
    }
    return xn;
}

/* One run from the centres in C (updated in place). */
static int run_lloyd(const pk_mat *X, const pk_kmeans_params *p, double tol_abs, double *C, int32_t *labels,
                     double *dist2, double *work, int *n_iter, int *converged, int64_t *n_dist)
{
    size_t n = X->rows, d = X->cols, k = p->k;
    double *Cnew = work, *counts = work + k * d, *xn = row_norms(X);
    double *part = malloc(km_nchunks(n) * (k * d + k) * sizeof(double)); /* NULL: serial sums */
    for (size_t i = 0; i < n; i++)
        labels[i] = -1;
    *converged = 0;
    int it, st = PK_OK;
    for (it = 1; it <= p->max_iter; it++) {
        double changed = (double)assign_all(X, C, k, labels, dist2, n_dist, xn, part);
        if (pk_red_sum(p->reduce, &changed, 1)) {
            st = PK_EIO;
            break;
        }
        if (it > 1 && changed == 0) {
            *converged = 1;
            break;
        }
        if (update_centers(X, labels, k, dist2, Cnew, counts, C, p->reduce, part, km_nchunks(n))) {
            st = PK_EIO;
            break;
        }
        double shift = center_shift(C, Cnew, k, d, NULL);
        memcpy(C, Cnew, k * d * sizeof(double));
        if (shift <= tol_abs) {
            *converged = 1;
            assign_all(X, C, k, labels, dist2, n_dist, xn, NULL);
            break;
        }
    }
    if (!st && it > p->max_iter) {
        it = p->max_iter;
        assign_all(X, C, k, labels, dist2, n_dist, xn, NULL);
    }
    free(xn);
    free(part);
    *n_iter = it > p->max_iter ? p->max_iter : it;
    return st;
}

/* Centres transposed and padded for the kernels, followed by their squared norms (kp entries).
 * NULL when k is beyond the kernels' range or memory is short: callers fall back to pk_sqdist. */
static double *transpose_centres(const double *C, size_t k, size_t d, size_t *kp_out, double *Ct)
{
    size_t kp = (k + 3) / 4 * 4;
    *kp_out = kp;
    if (!Ct || kp > PK_KM_KPMAX)
        return NULL;
    memset(Ct, 0, (d * kp + kp) * sizeof(double));
    for (size_t j = 0; j < k; j++) {
        double s = 0;
        for (size_t t = 0; t < d; t++) {
            Ct[t * kp + j] = C[j * d + t];
            s += C[j * d + t] * C[j * d + t];
        }
        Ct[d * kp + j] = s;
    }
    return Ct;
}

/* Nearest (b1, j1) and second-nearest (b2) squared distances of x to all k centres. */
static void scan_point(const double *x, double xn, const double *C, size_t k, size_t d, const double *Ct, size_t kp,
                       pk_km_dot1xk_fn dot1xk, double *b1o, int32_t *j1o, double *b2o)
{
    double b1 = INFINITY, b2 = INFINITY, g[PK_KM_KPMAX];
    int32_t j1 = 0;
    if (Ct) {
        dot1xk(x, Ct, kp, d, g);
        if (xn < 0) { /* not cached */
            xn = 0;
            for (size_t t = 0; t < d; t++)
                xn += x[t] * x[t];
        }
    }
    for (size_t j = 0; j < k; j++) {
        double dd = Ct ? xn + Ct[d * kp + j] - 2 * g[j] : pk_sqdist(x, C + j * d, d);
        if (dd < 0)
            dd = 0;
        if (dd < b1) {
            b2 = b1;
            b1 = dd;
            j1 = (int32_t)j;
        } else if (dd < b2) {
            b2 = dd;
        }
    }
    *b1o = b1;
    *j1o = j1;
    *b2o = b2;
}

/* Hamerly (2010): one upper bound u_i on the distance to the own centre and one lower bound l_i on
 * the distance to every other centre; a point is rescanned only when u_i > max(l_i, s_a/2).
 * Produces the same labels as Lloyd (up to exact ties). */
static int run_hamerly(const pk_mat *X, const pk_kmeans_params *p, double tol_abs, double *C, int32_t *labels,
                       double *dist2, double *work, int *n_iter, int *converged, int64_t *n_dist)
{
    size_t n = X->rows, d = X->cols, k = p->k;
    double *Cnew = work, *counts = work + k * d, *s = counts + k, *shift = s + k;
    double *u = malloc(2 * n * sizeof(double));
    if (!u)
        return PK_ENOMEM;
    double *xn = row_norms(X);
    double *l = u + n;
    int64_t nd = 0;
    size_t kp;
    double *Ctbuf = malloc((d * ((k + 3) / 4 * 4) + (k + 3) / 4 * 4) * sizeof(double));
    pk_km_dot1xk_fn dot1xk = pk_km_pick_dot1xk();
    const double *Ct = transpose_centres(C, k, d, &kp, Ctbuf);
    size_t nch = km_nchunks(n), w = k * d + k;
    /* label sums kept across iterations (run), updated by the moved rows only, through chunk
     * deltas in part; both NULL: serial sums from the labels */
    double *part = malloc((nch + 1) * w * sizeof(double)), *run = part ? part + nch * w : NULL;
    /* initial exact pass: nearest and second nearest */
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1)
#endif
    for (size_t ch = 0; ch < nch; ch++) {
        size_t i1 = (ch + 1) * KM_CHUNK < n ? (ch + 1) * KM_CHUNK : n;
        double *pa = part ? part + ch * w : NULL;
        if (pa)
            memset(pa, 0, w * sizeof(double));
        for (size_t i = ch * KM_CHUNK; i < i1; i++) {
            const double *x = pk_mat_at(X, i, 0);
            double b1, b2;
            int32_t j1;
            scan_point(x, xn ? xn[i] : -1, C, k, d, Ct, kp, dot1xk, &b1, &j1, &b2);
            labels[i] = j1;
            u[i] = sqrt(b1);
            l[i] = sqrt(b2);
            dist2[i] = b1;
            if (pa)
                chunk_add(pa, x, d, k, j1);
        }
    }
    nd += (int64_t)(n * k);
    if (run) {
        memset(run, 0, w * sizeof(double));
        for (size_t ch = 0; ch < nch; ch++)
            for (size_t t = 0; t < w; t++)
                run[t] += part[ch * w + t];
    }
    *converged = 0;
    int it;
    for (it = 1; it <= p->max_iter; it++) {
        if (update_centers(X, labels, k, dist2, Cnew, counts, C, p->reduce, run, 1)) {
            free(u);
            free(xn);
            free(part);
            free(Ctbuf);
            return PK_EIO;
        }
        double tot = center_shift(C, Cnew, k, d, shift);
        memcpy(C, Cnew, k * d * sizeof(double));
        Ct = transpose_centres(C, k, d, &kp, Ctbuf);
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
#pragma omp parallel for reduction(+ : changed, nd_it) schedule(dynamic, 1)
#endif
        for (size_t ch = 0; ch < nch; ch++) {
            size_t i1 = (ch + 1) * KM_CHUNK < n ? (ch + 1) * KM_CHUNK : n;
            double *pa = part ? part + ch * w : NULL;
            if (pa)
                memset(pa, 0, w * sizeof(double));
            for (size_t i = ch * KM_CHUNK; i < i1; i++) {
                int32_t a = labels[i];
                const double *x = pk_mat_at(X, i, 0);
                u[i] += shift[a];
                l[i] -= ((size_t)a == a1) ? m2 : m1;
                double m = s[a] > l[i] ? s[a] : l[i];
                if (u[i] > m) {
                    double ua = pk_sqdist(x, C + (size_t)a * d, d);
                    nd_it++;
                    u[i] = sqrt(ua);
                    dist2[i] = ua;
                    if (u[i] > m) {
                        double b1, b2;
                        int32_t j1;
                        scan_point(x, xn ? xn[i] : -1, C, k, d, Ct, kp, dot1xk, &b1, &j1, &b2);
                        nd_it += (int64_t)k - 1;
                        if (j1 != a) {
                            changed++;
                            if (pa) {
                                chunk_add(pa, x, d, k, j1);
                                chunk_sub(pa, x, d, k, a);
                            }
                        }
                        labels[i] = j1;
                        u[i] = sqrt(b1);
                        l[i] = sqrt(b2);
                        dist2[i] = b1;
                    }
                }
            }
        }
        nd += nd_it;
        for (size_t ch = 0; run && ch < nch; ch++)
            for (size_t t = 0; t < w; t++)
                run[t] += part[ch * w + t];
        double ch = (double)changed;
        if (pk_red_sum(p->reduce, &ch, 1)) {
            free(u);
            free(xn);
            free(part);
            free(Ctbuf);
            return PK_EIO;
        }
        if (ch == 0 || tot <= tol_abs) {
            *converged = 1;
            break;
        }
    }
    if (it > p->max_iter)
        it = p->max_iter;
    free(u);
    free(part);
    free(Ctbuf);
    *n_iter = it;
    /* exact final assignment and distances: the bounds are not distances */
    assign_all(X, C, k, labels, dist2, &nd, xn, NULL);
    free(xn);
    *n_dist += nd;
    return PK_OK;
}

/* Sculley (2010) mini-batch K-means with per-centre learning rates 1/count. max_iter counts epochs. */
static int run_minibatch(const pk_mat *X, const pk_kmeans_params *p, double tol_abs, pk_rng *rng, double *C,
                         int32_t *labels, double *dist2, double *work, int *n_iter, int *converged,
                         int64_t *n_dist)
{
    size_t n = X->rows, d = X->cols, k = p->k, b = p->batch_size < n ? p->batch_size : n;
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
    int ep;
    int quiet = 0;
    for (ep = 1; ep <= p->max_iter; ep++) {
        memcpy(Cold, C, k * d * sizeof(double));
        for (size_t st = 0; st < steps_per_epoch; st++) {
            for (size_t t = 0; t < b; t++)
                idx[t] = (size_t)pk_rng_below(rng, n);
#if defined(_OPENMP)
#pragma omp parallel for schedule(static)
#endif
            for (size_t t = 0; t < b; t++) {
                const double *x = pk_mat_at(X, idx[t], 0);
                double best = INFINITY;
                int32_t bj = 0;
                for (size_t j = 0; j < k; j++) {
                    double dd = pk_sqdist(x, C + j * d, d);
                    if (dd < best) {
                        best = dd;
                        bj = (int32_t)j;
                    }
                }
                bl[t] = bj;
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
        double shift = center_shift(Cold, C, k, d, NULL);
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
    assign_all(X, C, k, labels, dist2, n_dist, NULL, NULL);
    free(idx);
    free(bl);
    *n_iter = ep;
    return PK_OK;
}

/* k distinct global rows, uniformly (rejection of repeats; k <= N). */
static int init_random(const pk_mat *X, size_t k, pk_rng *rng, const pk_allreduce *red, double *C)
{
    size_t N, off;
    int st = pk_red_rows(red, X->rows, &N, &off);
    size_t *pick = malloc(k * sizeof *pick);
    if (!pick)
        return PK_ENOMEM;
    for (size_t j = 0; !st && j < k; j++) {
        size_t g;
        int dup;
        do {
            g = (size_t)pk_rng_below(rng, N);
            dup = 0;
            for (size_t q = 0; q < j; q++)
                dup |= pick[q] == g;
        } while (dup);
        pick[j] = g;
        st = fetch_row(X, red, off, g, C + j * X->cols);
    }
    free(pick);
    return st;
}

int pk_kmeans_fit(const pk_mat *X, const pk_kmeans_params *p, pk_rng *rng, pk_kmeans **out, pk_err *err)
{
    if (!X || !out || !rng)
        return pk_err_set(err, PK_EINVAL, "kmeans: NULL argument");
    *out = NULL;
    size_t n = X->rows, d = X->cols, N = n, off = 0;
    const pk_allreduce *red = p ? p->reduce : NULL;
    if (pk_red_rows(red, n, &N, &off))
        return pk_err_set(err, PK_EIO, "kmeans: allreduce failed");
    int st = pk_kmeans_params_check(p, N, d, err);
    if (st)
        return st;
    if (pk_red_split(red) && p->algo == PK_KMEANS_MINIBATCH)
        return pk_err_set(err, PK_ENOTSUP, "kmeans: mini-batch is not available with rows split across processes");
    st = pk_cluster_check_finite(X, "kmeans", err);
    if (st)
        return st;
    size_t k = p->k;
    pk_kmeans *km = calloc(1, sizeof *km);
    double *C = malloc(k * d * sizeof(double)), *work = malloc((k * d + 3 * k) * sizeof(double));
    double *dist2 = malloc((n ? n : 1) * sizeof(double));
    int32_t *lab = malloc((n ? n : 1) * sizeof(int32_t));
    if (km) {
        km->centers = malloc(k * d * sizeof(double));
        km->labels = malloc((n ? n : 1) * sizeof(int32_t));
    }
    if (!km || !C || !work || !dist2 || !lab || !km->centers || !km->labels) {
        st = pk_err_set(err, PK_ENOMEM, "kmeans: out of memory (n = %zu, d = %zu, k = %zu)", n, d, k);
        goto fail;
    }
    km->k = k;
    km->d = d;
    km->n = n;
    km->inertia = INFINITY;
    double mv = 0;
    if (pk_red_mean_var(red, X, &mv)) {
        st = pk_err_set(err, PK_EIO, "kmeans: allreduce failed");
        goto fail;
    }
    double tol_abs = p->tol * mv;
    int n_init = p->init == PK_KMEANS_INIT_GIVEN ? 1 : p->n_init;
    for (int r = 0; r < n_init; r++) {
        if (p->init == PK_KMEANS_INIT_GIVEN)
            memcpy(C, p->init_centers, k * d * sizeof(double));
        else if (p->init == PK_KMEANS_INIT_RANDOM)
            st = init_random(X, k, rng, red, C);
        else
            st = plusplus(X, k, rng, red, C);
        if (st) {
            pk_err_set(err, st, "kmeans: initialisation failed");
            goto fail;
        }
        int it = 0, conv = 0;
        if (p->algo == PK_KMEANS_LLOYD)
            st = run_lloyd(X, p, tol_abs, C, lab, dist2, work, &it, &conv, &km->n_dist);
        else if (p->algo == PK_KMEANS_HAMERLY)
            st = run_hamerly(X, p, tol_abs, C, lab, dist2, work, &it, &conv, &km->n_dist);
        else
            st = run_minibatch(X, p, tol_abs, rng, C, lab, dist2, work, &it, &conv, &km->n_dist);
        if (st) {
            pk_err_set(err, st, st == PK_EIO ? "kmeans: allreduce failed" : "kmeans: out of memory");
            goto fail;
        }
        double inertia = 0;
        for (size_t i = 0; i < n; i++)
            inertia += dist2[i];
        if (pk_red_sum(red, &inertia, 1)) {
            st = pk_err_set(err, PK_EIO, "kmeans: allreduce failed");
            goto fail;
        }
        if (inertia < km->inertia) {
            km->inertia = inertia;
            km->n_iter = it;
            km->converged = conv;
            memcpy(km->centers, C, k * d * sizeof(double));
            memcpy(km->labels, lab, n * sizeof(int32_t));
        }
    }
    free(C);
    free(work);
    free(dist2);
    free(lab);
    *out = km;
    return PK_OK;
fail:
    free(C);
    free(work);
    free(dist2);
    free(lab);
    pk_kmeans_free(km);
    return st;
}

int pk_kmeans_predict(const pk_kmeans *km, const pk_mat *X, int32_t *labels, double *inertia)
{
    if (!km || !X || !labels)
        return PK_EINVAL;
    if (X->cols != km->d)
        return PK_ESHAPE;
    double *dist2 = malloc((X->rows ? X->rows : 1) * sizeof(double));
    if (!dist2)
        return PK_ENOMEM;
    int64_t nd = 0;
    assign_all(X, km->centers, km->k, labels, dist2, &nd, NULL, NULL);
    if (inertia) {
        double s = 0;
        for (size_t i = 0; i < X->rows; i++)
            s += dist2[i];
        *inertia = s;
    }
    free(dist2);
    return PK_OK;
}
