/* K-means: parameters, seeding (k-means++, random rows), restarts and prediction.  The
 * iterations live in kmeans_lloyd.c / kmeans_hamerly.c, the assignment in kmeans_assign.c. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kmeans_priv.h"
#include "probkit/cluster.h"

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
    if (p->screen != PK_KMEANS_SCREEN_AUTO && p->screen != PK_KMEANS_SCREEN_FLOAT)
        return pk_err_set(err, PK_EINVAL, "kmeans: unknown screen precision %d", (int)p->screen);
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
    size_t k = p->k;
    pk_kmeans *km = calloc(1, sizeof *km);
    double *C = malloc(k * d * sizeof(double)), *work = malloc((k * d + 3 * k) * sizeof(double));
    double *dist2 = malloc((n ? n : 1) * sizeof(double));
    int32_t *lab = malloc((n ? n : 1) * sizeof(int32_t));
    km_ws ws;
    /* Lloyd searches every row in every iteration: worth a bfloat16 copy of X (which then
     * replaces the float one; the few rows it cannot settle go to double) */
    int lowp = p->algo == PK_KMEANS_LLOYD && p->screen == PK_KMEANS_SCREEN_AUTO && km_lowp_available();
    int ws_ok = km_ws_init(&ws, X, k, lowp ? -1 : 1) == PK_OK;
    if (ws_ok && lowp && !km_ws_enable_lowp(&ws)) {
        lowp = 0;
        km_ws_add_float(&ws);
    }
    if (km) {
        km->centers = malloc(k * d * sizeof(double));
        km->labels = malloc((n ? n : 1) * sizeof(int32_t));
    }
    if (!km || !C || !work || !dist2 || !lab || !ws_ok || !km->centers || !km->labels) {
        st = pk_err_set(err, PK_ENOMEM, "kmeans: out of memory (n = %zu, d = %zu, k = %zu)", n, d, k);
        goto fail;
    }
    /* a NaN or infinity makes its row norm non-finite: only then look for the cell to name */
    int finite = 1;
    for (size_t i = 0; i < n; i++)
        finite &= isfinite(ws.xn[i]) != 0;
    if (!finite && (st = pk_cluster_check_finite(X, "kmeans", err)) != PK_OK)
        goto fail;
    km->k = k;
    km->d = d;
    km->n = n;
    km->inertia = INFINITY;
    double mv = 0; /* the tolerance's scale: not needed (one pass over the data saved) when tol = 0 */
    if (p->tol > 0 && pk_red_mean_var(red, X, &mv)) {
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
            st = km_run_lloyd(&ws, p, tol_abs, C, lab, dist2, work, &it, &conv, &km->n_dist);
        else if (p->algo == PK_KMEANS_HAMERLY)
            st = km_run_hamerly(&ws, p, tol_abs, C, lab, dist2, work, &it, &conv, &km->n_dist);
        else
            st = km_run_minibatch(&ws, p, tol_abs, rng, C, lab, dist2, work, &it, &conv, &km->n_dist);
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
        /* a restart must be better beyond rounding: restarts that reach the same partition
         * differ only in the last bits (summation order), and which of them won would then
         * depend on the thread or process count */
        if (inertia < km->inertia * (1 - 1e-12)) {
            km->inertia = inertia;
            km->n_iter = it;
            km->converged = conv;
            memcpy(km->centers, C, k * d * sizeof(double));
            memcpy(km->labels, lab, n * sizeof(int32_t));
        }
    }
    km->n_open = ws.screen_open;
    km->n_double = ws.rescued;
    free(C);
    free(work);
    free(dist2);
    free(lab);
    km_ws_free(&ws);
    *out = km;
    return PK_OK;
fail:
    free(C);
    free(work);
    free(dist2);
    free(lab);
    if (ws_ok)
        km_ws_free(&ws);
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
    km_ws ws;
    if (!dist2 || km_ws_init(&ws, X, km->k, 1)) {
        free(dist2);
        return PK_ENOMEM;
    }
    int64_t nd = 0;
    for (size_t i = 0; i < X->rows; i++)
        labels[i] = -1;
    km_assign_all(&ws, km->centers, labels, dist2, 1, 0, &nd);
    km_ws_free(&ws);
    if (inertia) {
        double s = 0;
        for (size_t i = 0; i < X->rows; i++)
            s += dist2[i];
        *inertia = s;
    }
    free(dist2);
    return PK_OK;
}
