/* fewshot.c — few-shot classification of a query set: the inductive
 * nearest-mean baseline, soft K-means, and the paper's regularised
 * clustering family (K-means, K-modes, their Laplacian versions and
 * LaplacianShot) optimised by alternating prototype and assignment steps. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/fewshot.h"

static const char *const NAMES[PK_FEWSHOT_N_METHODS] = {"proto",  "soft-kmeans", "lapshot", "kmeans",
                                                        "kmodes", "slk-means",   "slk-ms"};

const char *pk_fewshot_method_name(pk_fewshot_method m)
{
    return (unsigned)m < PK_FEWSHOT_N_METHODS ? NAMES[m] : NULL;
}

int pk_fewshot_method_from_name(const char *name, pk_fewshot_method *out)
{
    for (int i = 0; name && i < PK_FEWSHOT_N_METHODS; i++)
        if (!strcmp(name, NAMES[i])) {
            *out = (pk_fewshot_method)i;
            return PK_OK;
        }
    return PK_EINVAL;
}

int pk_fewshot_is_transductive(pk_fewshot_method m) { return m != PK_FEWSHOT_PROTO; }

pk_fewshot_params pk_fewshot_params_default(pk_fewshot_method m)
{
    pk_fewshot_params p = {0};
    p.method = m;
    p.lambda = 0.7;
    p.knn = 2;
    p.affinity = PK_FEWSHOT_AFF_KNN;
    p.sigma = 0;
    p.max_iter = 100;
    p.bound_iter = 600;
    p.tol = 1e-5;
    p.beta = 5.0;
    p.shift_correct = 1;
    p.constrain_support = 1;
    return p;
}

int pk_fewshot_params_check(const pk_fewshot_params *p, pk_err *err)
{
    if (!p)
        return pk_err_set(err, PK_EINVAL, "fewshot: params is NULL");
    if ((unsigned)p->method >= PK_FEWSHOT_N_METHODS)
        return pk_err_set(err, PK_EINVAL, "fewshot: method %d is not one of 0..%d", (int)p->method,
                          PK_FEWSHOT_N_METHODS - 1);
    if (!(p->lambda >= 0) || !isfinite(p->lambda))
        return pk_err_set(err, PK_EINVAL, "fewshot: lambda must be a finite number >= 0 (got %g)", p->lambda);
    if (p->knn < 1)
        return pk_err_set(err, PK_EINVAL, "fewshot: knn must be >= 1 (got %d)", p->knn);
    if (p->affinity != PK_FEWSHOT_AFF_KNN && p->affinity != PK_FEWSHOT_AFF_RBF)
        return pk_err_set(err, PK_EINVAL, "fewshot: affinity must be knn or rbf");
    if (!isfinite(p->sigma))
        return pk_err_set(err, PK_EINVAL, "fewshot: sigma must be finite (<= 0 = estimate)");
    if (p->max_iter < 1 || p->bound_iter < 1)
        return pk_err_set(err, PK_EINVAL, "fewshot: max_iter and bound_iter must be >= 1 (got %d, %d)", p->max_iter,
                          p->bound_iter);
    if (!(p->tol >= 0))
        return pk_err_set(err, PK_EINVAL, "fewshot: tol must be >= 0 (got %g)", p->tol);
    if (!(p->beta > 0) || !isfinite(p->beta))
        return pk_err_set(err, PK_EINVAL, "fewshot: beta must be a finite number > 0 (got %g)", p->beta);
    return PK_OK;
}

void pk_fewshot_result_free(pk_fewshot_result *r)
{
    if (!r)
        return;
    free(r->labels), free(r->proba), free(r->prototypes), free(r->energy);
    free(r);
}

static double sqdist(const double *a, const double *b, size_t d)
{
    double s = 0;
    for (size_t j = 0; j < d; j++) {
        double t = a[j] - b[j];
        s += t * t;
    }
    return s;
}

static void softmax_neg(const double *a, double *z, size_t k, double scale)
{
    double mn = a[0];
    for (size_t c = 1; c < k; c++)
        mn = a[c] < mn ? a[c] : mn;
    double s = 0;
    for (size_t c = 0; c < k; c++)
        s += (z[c] = exp(-scale * (a[c] - mn)));
    for (size_t c = 0; c < k; c++)
        z[c] /= s;
}

static size_t argmin(const double *a, size_t k)
{
    size_t b = 0;
    for (size_t c = 1; c < k; c++)
        if (a[c] < a[b])
            b = c;
    return b;
}

/* The working state of one task: X = [support; query] (n x d), prototypes C (k x d). */
typedef struct task {
    size_t ns, nq, n, k, d;
    double *X, *C, *A, *Z, *W;
    int32_t *fixed;
    double sigma;
} task;

/* prototype costs a_pk: squared distance to a mean, or minus a Gaussian kernel to a mode */
static void unary(task *t, int modes)
{
    double s2 = 2 * t->sigma * t->sigma;
    for (size_t p = 0; p < t->n; p++)
        for (size_t c = 0; c < t->k; c++) {
            double d2 = sqdist(t->X + p * t->d, t->C + c * t->d, t->d);
            t->A[p * t->k + c] = modes ? -exp(-d2 / s2) : d2;
        }
}

/* C_k <- the Z-weighted mean: the exact minimiser of sum_p z_pk |x_p - c|^2 */
static void update_means(task *t)
{
    for (size_t c = 0; c < t->k; c++) {
        double w = 0, *m = t->C + c * t->d;
        for (size_t p = 0; p < t->n; p++)
            w += t->Z[p * t->k + c];
        if (!(w > 1e-300))
            continue; /* an emptied cluster keeps its prototype */
        memset(m, 0, t->d * sizeof *m);
        for (size_t p = 0; p < t->n; p++) {
            double z = t->Z[p * t->k + c] / w;
            if (z != 0)
                for (size_t j = 0; j < t->d; j++)
                    m[j] += z * t->X[p * t->d + j];
        }
    }
}

/* C_k <- a mode of the Z-weighted Gaussian density of the points, by mean shift from the current
 * C_k: each step cannot decrease sum_p z_pk k(x_p, c), so the energy cannot increase. */
static void update_modes(task *t, double *buf)
{
    double s2 = 2 * t->sigma * t->sigma;
    for (size_t c = 0; c < t->k; c++) {
        double *m = t->C + c * t->d;
        for (int it = 0; it < 1000; it++) {
            double tw = 0, shift = 0, scale = 0;
            memset(buf, 0, t->d * sizeof *buf);
            for (size_t p = 0; p < t->n; p++) {
                double z = t->Z[p * t->k + c];
                if (z == 0)
                    continue;
                double w = z * exp(-sqdist(t->X + p * t->d, m, t->d) / s2);
                tw += w;
                for (size_t j = 0; j < t->d; j++)
                    buf[j] += w * t->X[p * t->d + j];
            }
            if (!(tw > 1e-300))
                break;
            for (size_t j = 0; j < t->d; j++) {
                double v = buf[j] / tw;
                shift = fmax(shift, fabs(v - m[j]));
                scale = fmax(scale, fabs(v));
                m[j] = v;
            }
            if (shift <= 1e-5 * fmax(scale, 1e-12)) /* the authors' tolerance */
                break;
        }
    }
}

/* hard assignments: each free row to its cheapest prototype; returns how many changed */
static size_t assign_hard(task *t)
{
    size_t changed = 0;
    for (size_t p = 0; p < t->n; p++) {
        double *z = t->Z + p * t->k;
        size_t b = t->fixed[p] >= 0 ? (size_t)t->fixed[p] : argmin(t->A + p * t->k, t->k);
        if (!(z[b] == 1.0))
            changed++;
        for (size_t c = 0; c < t->k; c++)
            z[c] = c == b;
    }
    return changed;
}

static int check_inputs(const pk_mat *S, const int32_t *ys, size_t k, const pk_mat *Q, pk_err *err)
{
    if (!S || !Q || !ys || !S->data || !Q->data)
        return pk_err_set(err, PK_EINVAL, "fewshot: support, labels and query are required");
    if (S->rows == 0 || Q->rows == 0 || S->cols == 0)
        return pk_err_set(err, PK_EINVAL, "fewshot: empty support (%zu rows) or query (%zu rows)", S->rows, Q->rows);
    if (S->cols != Q->cols)
        return pk_err_set(err, PK_EINVAL, "fewshot: support has %zu features but query has %zu", S->cols, Q->cols);
    if (k == 0)
        return pk_err_set(err, PK_EINVAL, "fewshot: k (number of classes) must be >= 1");
    size_t *cnt = calloc(k, sizeof *cnt);
    if (!cnt)
        return pk_err_set(err, PK_ENOMEM, "fewshot: out of memory");
    int st = PK_OK;
    for (size_t i = 0; i < S->rows && !st; i++) {
        if (ys[i] < 0 || (size_t)ys[i] >= k)
            st = pk_err_set(err, PK_EINVAL, "fewshot: support label %zu is %d, not in [0, %zu)", i, (int)ys[i], k);
        else
            cnt[ys[i]]++;
    }
    for (size_t c = 0; c < k && !st; c++)
        if (!cnt[c])
            st = pk_err_set(err, PK_EINVAL, "fewshot: class %zu has no support row", c);
    free(cnt);
    for (int m = 0; m < 2 && !st; m++) {
        const pk_mat *M = m ? Q : S;
        for (size_t i = 0; i < M->rows && !st; i++)
            for (size_t j = 0; j < M->cols; j++)
                if (!isfinite(*pk_mat_at(M, i, j))) {
                    st = pk_err_set(err, PK_EDOM, "fewshot: %s row %zu column %zu is not finite", m ? "query" : "support",
                                    i, j);
                    break;
                }
    }
    return st;
}

static void task_free(task *t)
{
    free(t->X), free(t->C), free(t->A), free(t->Z), free(t->W), free(t->fixed);
}

static int run_cluster(task *t, const pk_fewshot_params *p, pk_fewshot_result *r, pk_err *err);
static int run_soft_kmeans(task *t, const pk_fewshot_params *p, const int32_t *ys, pk_fewshot_result *r);

int pk_fewshot_predict(const pk_mat *support, const int32_t *support_labels, size_t k, const pk_mat *query,
                       const pk_fewshot_params *p, pk_fewshot_result **out, pk_err *err)
{
    if (!out)
        return pk_err_set(err, PK_EINVAL, "fewshot: out is NULL");
    *out = NULL;
    int st = pk_fewshot_params_check(p, err);
    if (!st)
        st = check_inputs(support, support_labels, k, query, err);
    if (st)
        return st;
    task t = {0};
    t.ns = support->rows, t.nq = query->rows, t.n = t.ns + t.nq, t.k = k, t.d = support->cols;
    pk_fewshot_result *r = calloc(1, sizeof *r);
    t.X = malloc(t.n * t.d * sizeof *t.X);
    t.C = calloc(k * t.d, sizeof *t.C);
    t.A = malloc(t.n * k * sizeof *t.A);
    t.Z = calloc(t.n * k, sizeof *t.Z);
    t.fixed = malloc(t.n * sizeof *t.fixed);
    if (r) {
        r->labels = malloc(t.nq * sizeof *r->labels);
        r->proba = malloc(t.nq * k * sizeof *r->proba);
        r->prototypes = malloc(k * t.d * sizeof *r->prototypes);
        r->energy = calloc((size_t)p->max_iter, sizeof *r->energy);
    }
    if (!r || !t.X || !t.C || !t.A || !t.Z || !t.fixed || !r->labels || !r->proba || !r->prototypes || !r->energy) {
        task_free(&t);
        pk_fewshot_result_free(r);
        return pk_err_set(err, PK_ENOMEM, "fewshot: out of memory (%zu points x %zu features)", t.n, t.d);
    }
    r->n_query = t.nq, r->k = k, r->d = t.d;
    for (size_t i = 0; i < t.ns; i++)
        memcpy(t.X + i * t.d, pk_mat_at(support, i, 0), t.d * sizeof *t.X);
    for (size_t i = 0; i < t.nq; i++)
        memcpy(t.X + (t.ns + i) * t.d, pk_mat_at(query, i, 0), t.d * sizeof *t.X);
    if (pk_fewshot_is_transductive(p->method) && p->shift_correct) {
        /* move the query cloud onto the support cloud: eta = mean(S) - mean(Q) */
        for (size_t j = 0; j < t.d; j++) {
            double ms = 0, mq = 0;
            for (size_t i = 0; i < t.ns; i++)
                ms += t.X[i * t.d + j];
            for (size_t i = t.ns; i < t.n; i++)
                mq += t.X[i * t.d + j];
            double eta = ms / (double)t.ns - mq / (double)t.nq;
            for (size_t i = t.ns; i < t.n; i++)
                t.X[i * t.d + j] += eta;
        }
    }
    /* class means of the support: every method starts from them */
    size_t *cnt = calloc(k, sizeof *cnt);
    if (!cnt) {
        task_free(&t);
        pk_fewshot_result_free(r);
        return pk_err_set(err, PK_ENOMEM, "fewshot: out of memory");
    }
    for (size_t i = 0; i < t.ns; i++) {
        int32_t c = support_labels[i];
        cnt[c]++;
        for (size_t j = 0; j < t.d; j++)
            t.C[c * t.d + j] += t.X[i * t.d + j];
    }
    for (size_t c = 0; c < k; c++)
        for (size_t j = 0; j < t.d; j++)
            t.C[c * t.d + j] /= (double)cnt[c];
    free(cnt);
    for (size_t i = 0; i < t.n; i++)
        t.fixed[i] = i < t.ns && p->constrain_support ? support_labels[i] : -1;

    if (p->method == PK_FEWSHOT_PROTO) {
        unary(&t, 0);
        for (size_t q = 0; q < t.nq; q++) {
            const double *a = t.A + (t.ns + q) * k;
            r->labels[q] = (int32_t)argmin(a, k);
            softmax_neg(a, r->proba + q * k, k, 1.0);
        }
        free(r->energy);
        r->energy = NULL;
        r->converged = 1;
    } else if (p->method == PK_FEWSHOT_SOFTKMEANS) {
        st = run_soft_kmeans(&t, p, support_labels, r);
    } else {
        st = run_cluster(&t, p, r, err);
    }
    if (!st)
        memcpy(r->prototypes, t.C, k * t.d * sizeof *t.C);
    task_free(&t);
    if (st) {
        pk_fewshot_result_free(r);
        return st;
    }
    *out = r;
    return PK_OK;
}

/* EM for an isotropic mixture with fixed variance 1/(2 beta) and equal weights, support rows
 * clamped (Ren et al.'s refinement iterated to convergence); energy = its free energy / beta. */
static int run_soft_kmeans(task *t, const pk_fewshot_params *p, const int32_t *ys, pk_fewshot_result *r)
{
    size_t k = t->k;
    double prev = INFINITY;
    for (int it = 0; it < p->max_iter; it++) {
        unary(t, 0);
        double e = 0;
        for (size_t i = 0; i < t->n; i++) {
            double *z = t->Z + i * k, *a = t->A + i * k;
            if (i < t->ns) {
                for (size_t c = 0; c < k; c++)
                    z[c] = (int32_t)c == ys[i];
                e += a[ys[i]];
                continue;
            }
            softmax_neg(a, z, k, p->beta);
            for (size_t c = 0; c < k; c++)
                e += z[c] * a[c] + (z[c] > 0 ? z[c] * log(z[c]) / p->beta : 0);
        }
        update_means(t);
        r->energy[it] = e;
        r->n_iter = it + 1;
        if (it > 0 && fabs(e - prev) <= p->tol * fmax(fabs(prev), 1e-300)) {
            r->converged = 1;
            break;
        }
        prev = e;
    }
    unary(t, 0);
    for (size_t q = 0; q < t->nq; q++) {
        const double *a = t->A + (t->ns + q) * k;
        softmax_neg(a, r->proba + q * k, k, p->beta);
        r->labels[q] = (int32_t)argmin(a, k);
    }
    return PK_OK;
}

static int run_cluster(task *t, const pk_fewshot_params *p, pk_fewshot_result *r, pk_err *err)
{
    size_t n = t->n, k = t->k;
    pk_fewshot_method m = p->method;
    int modes = m == PK_FEWSHOT_KMODES || m == PK_FEWSHOT_SLK_MS;
    int hard = m == PK_FEWSHOT_KMEANS || m == PK_FEWSHOT_KMODES;
    double lam = hard ? 0.0 : p->lambda;
    int need_w = lam > 0, need_sigma = modes || (need_w && p->affinity == PK_FEWSHOT_AFF_RBF);
    pk_mat Xv = pk_mat_view(t->X, n, t->d);
    double *buf = malloc(t->d * sizeof *buf);
    if (!buf)
        return pk_err_set(err, PK_ENOMEM, "fewshot: out of memory");
    if (need_w || need_sigma) {
        if (n < 2) {
            free(buf);
            return pk_err_set(err, PK_EINVAL, "fewshot: the graph needs at least 2 points");
        }
        t->W = malloc(n * n * sizeof *t->W);
        if (!t->W) {
            free(buf);
            return pk_err_set(err, PK_ENOMEM, "fewshot: out of memory for the %zu x %zu affinity", n, n);
        }
        double md2 = 0;
        int st = pk_fewshot_knn_affinity(&Xv, p->knn, t->W, &md2);
        if (st) {
            free(buf);
            return pk_err_set(err, st, "fewshot: kNN affinity failed");
        }
        t->sigma = p->sigma > 0 ? p->sigma : sqrt(md2);
        if (!(t->sigma > 0))
            t->sigma = 1.0; /* every point repeated: any bandwidth gives the same modes */
        if (need_w && p->affinity == PK_FEWSHOT_AFF_RBF) {
            double s2 = 2 * t->sigma * t->sigma;
            for (size_t a = 0; a < n; a++)
                for (size_t b = 0; b < n; b++)
                    t->W[a * n + b] = exp(-sqdist(t->X + a * t->d, t->X + b * t->d, t->d) / s2);
        }
        if (!need_w) {
            free(t->W);
            t->W = NULL;
        }
    }
    r->sigma = t->sigma;
    /* start: every free point to its nearest support mean (the authors' initial labels) */
    unary(t, modes);
    assign_hard(t);
    double prev = INFINITY;
    for (int it = 0; it < p->max_iter; it++) {
        if (m != PK_FEWSHOT_LAPSHOT) {
            if (modes)
                update_modes(t, buf);
            else
                update_means(t);
        }
        unary(t, modes);
        size_t changed = 0;
        if (hard) {
            changed = assign_hard(t);
        } else {
            int st = pk_fewshot_bound_update(t->A, t->W, n, k, lam, t->fixed, p->bound_iter, p->tol * 0.1, t->Z, NULL,
                                             NULL);
            if (st) {
                free(buf);
                return pk_err_set(err, st, "fewshot: bound update failed");
            }
        }
        double e = pk_fewshot_energy(t->Z, t->A, t->W, n, k, lam);
        r->energy[it] = e;
        r->n_iter = it + 1;
        if (it > 0 && ((hard && changed == 0) || fabs(e - prev) <= p->tol * fmax(fabs(prev), 1e-300))) {
            r->converged = 1;
            break;
        }
        prev = e;
    }
    free(buf);
    for (size_t q = 0; q < t->nq; q++) {
        const double *z = t->Z + (t->ns + q) * k;
        size_t b = 0;
        for (size_t c = 1; c < k; c++)
            if (z[c] > z[b])
                b = c;
        r->labels[q] = (int32_t)b;
        if (hard)
            softmax_neg(t->A + (t->ns + q) * k, r->proba + q * k, k, 1.0);
        else
            memcpy(r->proba + q * k, z, k * sizeof *z);
    }
    return PK_OK;
}
