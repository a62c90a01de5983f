/* "Model-agnostic Measure of Generalization Difficulty" (Boopathy, Liu, Hwang,
 * Ge, Mohammedsaleh, Fiete): the inductive-bias complexity of a classification
 * task, the information needed to pick a well-generalising hypothesis among
 * band-limited functions on the data manifold, given the training set:
 *   bits = (dim Theta - n D) * [log2 B + log2 D / 2 + log2 C / 2 - log2 eps
 *                               + log2 L_f + log2 W],
 * dim Theta = 2 D C E (E Laplace-Beltrami eigenfunctions on an m-sphere up to
 * frequency M = 2 pi R / delta), L_f = K sqrt(D) / R, and W the Wasserstein
 * distance bound between training and test sets.  Estimators: intrinsic
 * dimension by the Levina-Bickel MLE, class separation delta by the smallest
 * distance between differently labelled points, radius R by the largest norm. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/linalg.h"
#include "probkit/theory.h"

/* log W = (1/2) log(m/6) + (log 2 + (m+1)/2 log pi + log C - lgamma((m+1)/2)) / m
 *         + log R - log(n) / m    (natural logs; C = number of classes) */
static double log_wasserstein(double n, double m, double R, double C)
{
    return 0.5 * log(m / 6) + (log(2.0) + 0.5 * (m + 1) * log(M_PI) + log(C) - lgamma(0.5 * (m + 1))) / m + log(R) -
           log(n) / m;
}

/* number of eigenfunctions with frequency <= M on an m-dimensional sphere:
 * degree K with K (K + m - 1) = M^2, count C(m+K, m) + C(m+K-1, m) (real K) */
static void count_eig(double m, double M, double *K, double *logE)
{
    *K = 0.5 * (sqrt((m - 1) * (m - 1) + 4 * M * M) - (m - 1));
    double l1 = lgamma(m + *K + 1) - lgamma(m + 1) - lgamma(*K + 1);
    double l2 = lgamma(m + *K) - lgamma(m + 1) - lgamma(*K);
    *logE = l1 > l2 ? l1 + log1p(exp(l2 - l1)) : l2 + log1p(exp(l1 - l2));
}

int pk_gendiff_bits(const pk_gendiff_in *in, double *bits, double *log10_bits)
{
    if (!in || !bits || !(in->error > 0) || !(in->n >= 1) || !(in->m >= 1) || !(in->R > 0) || !(in->classes >= 2) ||
        !(in->delta > 0) || !(in->out_dim >= 1) || !(in->B > 0))
        return PK_EINVAL;
    double logW = log_wasserstein(in->n, in->m, in->R, in->classes), K, logE;
    count_eig(in->m, 2 * M_PI * in->R / in->delta, &K, &logE);
    double Lf = K * sqrt(in->out_dim) / in->R;
    double log_dim = log(2 * in->out_dim * in->classes) + logE; /* natural log of dim Theta */
    double dimq = exp(log_dim) - in->n * in->out_dim;
    double ratio = log2(in->B) + 0.5 * log2(in->out_dim) + 0.5 * log2(in->classes) - log2(in->error) + log2(Lf) +
                   logW / M_LN2;
    *bits = dimq * ratio;
    if (log10_bits) {
        /* for huge values keep the log accurate: log10(dim Theta - nD) + log10(ratio) */
        double ld = log_dim / M_LN10 + log10(fmax(1e-300, 1 - in->n * in->out_dim * exp(-log_dim)));
        *log10_bits = ratio > 0 && dimq > 0 ? ld + log10(ratio) : NAN;
    }
    return PK_OK;
}

/* squared distances between rows of A (na x d) and B (nb x d) into D (na x nb) */
static int sqdist(const pk_mat *A, const pk_mat *B, pk_mat *D)
{
    int st = pk_gemm(0, 1, -2.0, A, B, 0.0, D);
    if (st)
        return st;
    double *bb = malloc((B->rows ? B->rows : 1) * sizeof *bb);
    if (!bb)
        return PK_ENOMEM;
    for (size_t j = 0; j < B->rows; j++)
        bb[j] = pk_dot(pk_mat_at(B, j, 0), pk_mat_at(B, j, 0), B->cols);
    for (size_t i = 0; i < A->rows; i++) {
        double a = pk_dot(pk_mat_at(A, i, 0), pk_mat_at(A, i, 0), A->cols);
        for (size_t j = 0; j < B->rows; j++) {
            double v = *pk_mat_at(D, i, j) + a + bb[j];
            *pk_mat_at(D, i, j) = v > 0 ? v : 0;
        }
    }
    free(bb);
    return PK_OK;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* the k + 1 smallest of v[0..n) into out[0..k], ascending (insertion into a
 * short sorted buffer: O(n) for the small k the estimator uses) */
static void smallest(const double *v, size_t n, size_t k, double *out)
{
    size_t have = 0;
    for (size_t t = 0; t < n; t++) {
        double x = v[t];
        if (have == k + 1 && x >= out[k])
            continue;
        size_t pos = have < k + 1 ? have++ : k;
        while (pos > 0 && out[pos - 1] > x) {
            out[pos] = out[pos - 1];
            pos--;
        }
        out[pos] = x;
    }
}

#define LB_CHUNK 64

int pk_levina_bickel(const pk_mat *X, size_t nq, size_t k, pk_rng *rng, double *m)
{
    if (!X || !rng || !m || k < 2 || nq == 0 || X->rows < k + 2)
        return PK_EINVAL;
    size_t n = X->rows, d = X->cols;
    if (nq > n)
        nq = n;
    size_t *idx = malloc(n * sizeof *idx);
    double *xx = malloc(n * sizeof *xx), *nb = malloc(LB_CHUNK * (k + 1) * sizeof *nb);
    pk_mat *Q = pk_mat_new(LB_CHUNK, d), *D = pk_mat_new(LB_CHUNK, n);
    int st = PK_ENOMEM;
    if (!Q || !D || !idx || !xx || !nb)
        goto done;
    for (size_t i = 0; i < n; i++) {
        idx[i] = i;
        xx[i] = pk_dot(pk_mat_at(X, i, 0), pk_mat_at(X, i, 0), d);
    }
    for (size_t i = 0; i < nq; i++) {
        size_t j = i + (size_t)pk_rng_below(rng, n - i), t = idx[i];
        idx[i] = idx[j], idx[j] = t;
    }
    /* mean over queries and j < k of log(T_k / T_j), T_j the j-th neighbour
     * distance (the query itself at distance 0 is skipped); the estimate is its
     * inverse (the pooled form of the authors' code).  Queries go in chunks so
     * the distance block stays small for n = 60,000. */
    double acc = 0;
    size_t cnt = 0;
    for (size_t q0 = 0; q0 < nq; q0 += LB_CHUNK) {
        size_t nc = nq - q0 < LB_CHUNK ? nq - q0 : LB_CHUNK;
        pk_mat Qv = *Q, Dv = *D;
        Qv.rows = nc, Dv.rows = nc;
        for (size_t i = 0; i < nc; i++)
            memcpy(pk_mat_at(Q, i, 0), pk_mat_at(X, idx[q0 + i], 0), d * sizeof(double));
        if ((st = pk_gemm(0, 1, -2.0, &Qv, X, 0.0, &Dv)))
            goto done;
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < nc; i++) {
            double *row = pk_mat_at(D, i, 0), a = xx[idx[q0 + i]];
            for (size_t j = 0; j < n; j++)
                row[j] = fmax(row[j] + a + xx[j], 0.0);
            smallest(row, n, k, nb + i * (k + 1));
        }
        for (size_t i = 0; i < nc; i++) {
            const double *s = nb + i * (k + 1);
            double Tk = sqrt(s[k]);
            for (size_t j = 1; j < k; j++) {
                double Tj = sqrt(s[j]);
                if (Tj > 0 && Tk > 0) {
                    acc += log(Tk / Tj);
                    cnt++;
                }
            }
        }
    }
    if (!cnt || !(acc > 0)) {
        st = PK_EDOM;
        goto done;
    }
    *m = (double)cnt / acc;
    st = PK_OK;
done:
    pk_mat_free(Q), pk_mat_free(D);
    free(idx), free(xx), free(nb);
    return st;
}

int pk_class_separation(const pk_mat *X, const int *labels, size_t ns, double min_dist, pk_rng *rng, double *delta)
{
    if (!X || !labels || !rng || !delta || ns < 2 || !(min_dist >= 0))
        return PK_EINVAL;
    size_t n = X->rows, d = X->cols;
    if (ns > n)
        ns = n;
    pk_mat *S = pk_mat_new(ns, d), *D = pk_mat_new(ns, ns);
    size_t *idx = malloc(n * sizeof *idx);
    int st = PK_ENOMEM;
    if (!S || !D || !idx)
        goto done;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = 0; i < ns; i++) {
        size_t j = i + (size_t)pk_rng_below(rng, n - i), t = idx[i];
        idx[i] = idx[j], idx[j] = t;
        memcpy(pk_mat_at(S, i, 0), pk_mat_at(X, idx[i], 0), d * sizeof(double));
    }
    if ((st = sqdist(S, S, D)))
        goto done;
    /* smallest distance between differently labelled points, ignoring those
     * closer than min_dist (near-duplicates with conflicting labels) */
    double best = INFINITY, m2 = min_dist * min_dist;
    for (size_t i = 0; i < ns; i++)
        for (size_t j = 0; j < i; j++)
            if (labels[idx[i]] != labels[idx[j]] && *pk_mat_at(D, i, j) >= m2 && *pk_mat_at(D, i, j) < best)
                best = *pk_mat_at(D, i, j);
    if (!isfinite(best)) {
        st = PK_EDOM;
        goto done;
    }
    *delta = sqrt(best);
    st = PK_OK;
done:
    pk_mat_free(S), pk_mat_free(D);
    free(idx);
    return st;
}

double pk_data_radius(const pk_mat *X)
{
    double r = 0;
    for (size_t i = 0; X && i < X->rows; i++)
        r = fmax(r, pk_dot(pk_mat_at(X, i, 0), pk_mat_at(X, i, 0), X->cols));
    return sqrt(r);
}

int pk_class_separation_evt(const pk_mat *X, const int *labels, size_t nsamples, size_t k, pk_rng *rng,
                            double *delta)
{
    return pk_class_separation_evt_pop(X, labels, nsamples, k, 0, rng, delta);
}

int pk_class_separation_evt_pop(const pk_mat *X, const int *labels, size_t nsamples, size_t k, double npop,
                                pk_rng *rng, double *delta)
{
    if (!X || !labels || !rng || !delta || k < 10 || nsamples < 2 * k || X->rows < 2 || !(npop >= 0))
        return PK_EINVAL;
    size_t n = X->rows, d = X->cols;
    double *inv = malloc(nsamples * sizeof *inv);
    if (!inv)
        return PK_ENOMEM;
    /* inverse distances of random differently labelled pairs: their upper tail is
     * the lower tail of the distances */
    size_t got = 0, tries = 0, classes = 0;
    int seen[256] = {0};
    for (size_t i = 0; i < n; i++)
        if (labels[i] >= 0 && labels[i] < 256 && !seen[labels[i]]++)
            classes++;
    while (got < nsamples && tries < 50 * nsamples) {
        tries++;
        size_t i = (size_t)pk_rng_below(rng, n), j = (size_t)pk_rng_below(rng, n);
        if (labels[i] == labels[j])
            continue;
        double s = 0;
        const double *a = pk_mat_at(X, i, 0), *b = pk_mat_at(X, j, 0);
        for (size_t c = 0; c < d; c++)
            s += (a[c] - b[c]) * (a[c] - b[c]);
        if (s > 0)
            inv[got++] = 1 / sqrt(s);
    }
    if (got < 2 * k || classes < 2) {
        free(inv);
        return PK_EDOM;
    }
    qsort(inv, got, sizeof *inv, cmpd);
    /* moment estimator of the extreme-value index (Dekkers, Einmahl, de Haan) on
     * the k largest, then extrapolation to all n^2 (1 - 1/classes) pairs */
    double ok = inv[got - k - 1], M1 = 0, M2 = 0;
    for (size_t t = got - k; t < got; t++) {
        double l = log(inv[t]) - log(ok);
        M1 += l, M2 += l * l;
    }
    M1 /= (double)k, M2 /= (double)k;
    double g = M1 + 1 - 0.5 / (1 - M1 * M1 / M2);
    double N = npop > 0 ? npop : (double)n;
    double pairs = N * N * (1 - 1.0 / (double)classes), a = (double)k / (double)got * pairs;
    double ext = fabs(g) > 1e-12 ? (pow(a, g) - 1) / g : log(a);
    double est = 1 / (ext * ok * M1 + ok), smin = 1 / inv[got - 1];
    free(inv);
    *delta = est > 0 && est < smin ? est : smin;
    return PK_OK;
}
