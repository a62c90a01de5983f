/* Embedding geometry: cosine-similarity statistics, capacity formulas,
 * random and optimised packings (Guha, "Representational Capacity"). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/metrics.h"

static int row_norms(const void *E, int isf, size_t n, size_t d, double *inv, pk_err *err)
{
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < d; j++) {
            double v = isf ? (double)((const float *)E)[i * d + j] : ((const double *)E)[i * d + j];
            if (!isfinite(v))
                return pk_err_set(err, PK_EDOM, "row %zu, column %zu: %g is not finite", i, j, v);
            s += v * v;
        }
        if (s == 0)
            return pk_err_set(err, PK_EDOM, "row %zu is all zeros: its direction is undefined", i);
        inv[i] = 1 / sqrt(s);
    }
    return PK_OK;
}

static double cosine(const void *E, int isf, size_t d, const double *inv, size_t i, size_t j)
{
    double s = 0;
    if (isf) {
        const float *a = (const float *)E + i * d, *b = (const float *)E + j * d;
        for (size_t t = 0; t < d; t++)
            s += (double)a[t] * (double)b[t];
    } else {
        const double *a = (const double *)E + i * d, *b = (const double *)E + j * d;
        for (size_t t = 0; t < d; t++)
            s += a[t] * b[t];
    }
    return s * inv[i] * inv[j];
}

static int stats(const void *E, int isf, size_t n, size_t d, uint64_t max_pairs, pk_rng *rng, pk_cosine_stats *out,
                 pk_err *err)
{
    memset(out, 0, sizeof *out);
    if (n < 2 || d < 1)
        return pk_err_set(err, PK_EINVAL, "need at least 2 rows and 1 column, got %zu x %zu", n, d);
    double *inv = malloc(n * sizeof *inv);
    if (!inv)
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    int st = row_norms(E, isf, n, d, inv, err);
    if (st) {
        free(inv);
        return st;
    }
    uint64_t all = (uint64_t)n * (n - 1) / 2;
    /* Welford over the pairs */
    double mean = 0, m2 = 0, mx = 0;
    uint64_t cnt = 0;
    if (max_pairs == 0 || all <= max_pairs) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++) {
                double c = cosine(E, isf, d, inv, i, j), dl = c - mean;
                cnt++;
                mean += dl / (double)cnt;
                m2 += dl * (c - mean);
                mx = fmax(mx, fabs(c));
            }
    } else {
        if (!rng) {
            free(inv);
            return pk_err_set(err, PK_EINVAL, "sampling %llu of %llu pairs needs a random generator",
                              (unsigned long long)max_pairs, (unsigned long long)all);
        }
        for (uint64_t s = 0; s < max_pairs; s++) {
            size_t i = (size_t)pk_rng_below(rng, n), j = (size_t)pk_rng_below(rng, n - 1);
            if (j >= i)
                j++;
            double c = cosine(E, isf, d, inv, i, j), dl = c - mean;
            cnt++;
            mean += dl / (double)cnt;
            m2 += dl * (c - mean);
            mx = fmax(mx, fabs(c));
        }
        out->sampled = 1;
    }
    free(inv);
    out->n = n;
    out->d = d;
    out->pairs = cnt;
    out->mean = mean;
    out->sd = cnt > 1 ? sqrt(m2 / (double)(cnt - 1)) : 0;
    out->max_abs = mx;
    out->eps = out->mean + 2 * out->sd;
    return PK_OK;
}

int pk_cosine_stats_compute(const double *E, size_t n, size_t d, uint64_t max_pairs, pk_rng *rng,
                            pk_cosine_stats *out, pk_err *err)
{
    return stats(E, 0, n, d, max_pairs, rng, out, err);
}

int pk_cosine_stats_compute_f(const float *E, size_t n, size_t d, uint64_t max_pairs, pk_rng *rng,
                              pk_cosine_stats *out, pk_err *err)
{
    return stats(E, 1, n, d, max_pairs, rng, out, err);
}

double pk_capacity_jl(double d, double eps, double C)
{
    return exp(eps * eps * d / C);
}

double pk_capacity_adjusted(double d, double eps, double C)
{
    return d * exp(eps * eps * d / C);
}

double pk_capacity_paper(double d, double eps)
{
    const double C = 0.45809143, a = 1.0668005, b = 1.44738666, c = 0.97197234;
    /* in logs: ln k = (ln d + (eps^2 d^c / C)^(1/b)) / a */
    return exp((log(d) + pow(eps * eps * pow(d, c) / C, 1 / b)) / a);
}

/* unit rows of a k x d matrix */
static void normalise_rows(const double *V, double *U, double *norm, size_t k, size_t d)
{
    for (size_t i = 0; i < k; i++) {
        double s = sqrt(cblas_ddot((int)d, V + i * d, 1, V + i * d, 1));
        norm[i] = s > 0 ? s : 1e-300;
        for (size_t t = 0; t < d; t++)
            U[i * d + t] = V[i * d + t] / norm[i];
    }
}

static double max_offdiag(const double *G, size_t k)
{
    double m = 0;
    for (size_t i = 0; i < k; i++)
        for (size_t j = i + 1; j < k; j++)
            m = fmax(m, fabs(G[i * k + j]));
    return m;
}

int pk_packing_random(size_t d, size_t k, size_t trials, pk_rng *rng, double *eps, pk_err *err)
{
    if (d < 1 || k < 2 || trials < 1)
        return pk_err_set(err, PK_EINVAL, "need d >= 1, k >= 2, trials >= 1 (got %zu, %zu, %zu)", d, k, trials);
    /* float storage and sgemm (the authors' sweep runs in float16); the Gram matrix is
     * formed a block of rows at a time, so k = 32000 needs 256 k floats, not k^2 */
    const size_t bs = k < 256 ? k : 256;
    float *U = malloc(k * d * sizeof *U), *G = malloc(bs * k * sizeof *G);
    double *row = malloc(d * sizeof *row);
    if (!U || !G || !row) {
        free(U);
        free(G);
        free(row);
        return pk_err_set(err, PK_ENOMEM, "out of memory (k = %zu, d = %zu)", k, d);
    }
    double best = INFINITY;
    for (size_t t = 0; t < trials; t++) {
        for (size_t i = 0; i < k; i++) {
            double s = 0;
            for (size_t c = 0; c < d; c++) {
                row[c] = pk_rng_normal(rng);
                s += row[c] * row[c];
            }
            s = s > 0 ? 1 / sqrt(s) : 0;
            for (size_t c = 0; c < d; c++)
                U[i * d + c] = (float)(row[c] * s);
        }
        double worst = 0;
        for (size_t r0 = 0; r0 < k; r0 += bs) {
            size_t m = k - r0 < bs ? k - r0 : bs, w = k - r0;
            /* rows r0..r0+m against rows r0..k: the upper triangle */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)w, (int)d, 1.0f, U + r0 * d, (int)d,
                        U + r0 * d, (int)d, 0.0f, G, (int)w);
            for (size_t i = 0; i < m; i++)
                for (size_t j = i + 1; j < w; j++)
                    worst = fmax(worst, fabsf(G[i * w + j]));
        }
        best = fmin(best, worst);
    }
    *eps = best;
    free(U);
    free(G);
    free(row);
    return PK_OK;
}

int pk_packing_optimize(size_t d, size_t k, size_t steps, int power, pk_rng *rng, double *eps, pk_err *err)
{
    if (d < 1 || k < 2 || power < 2 || power > 64)
        return pk_err_set(err, PK_EINVAL, "need d >= 1, k >= 2, power in [2, 64] (got %zu, %zu, %d)", d, k, power);
    size_t kd = k * d;
    double *V = malloc(kd * sizeof *V), *U = malloc(kd * sizeof *U), *G = malloc(k * k * sizeof *G),
           *GU = malloc(kd * sizeof *GU), *m1 = calloc(kd, sizeof *m1), *m2 = calloc(kd, sizeof *m2),
           *nr = malloc(k * sizeof *nr);
    if (!V || !U || !G || !GU || !m1 || !m2 || !nr) {
        free(V);
        free(U);
        free(G);
        free(GU);
        free(m1);
        free(m2);
        free(nr);
        return pk_err_set(err, PK_ENOMEM, "out of memory (k = %zu)", k);
    }
    for (size_t i = 0; i < kd; i++)
        V[i] = pk_rng_normal(rng);
    const double lr = 0.005, b1 = 0.9, b2 = 0.999, ae = 1e-8;
    double b1t = 1, b2t = 1;
    for (size_t s = 0; s < steps; s++) {
        normalise_rows(V, U, nr, k, d);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)k, (int)k, (int)d, 1.0, U, (int)d, U, (int)d, 0.0,
                    G, (int)k);
        /* W_ij = p |g|^(p-1) sign(g) off the diagonal; dL/dU = 2 W U (W symmetric) */
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < k; j++) {
                double g = G[i * k + j], a = fabs(g), q = 1;
                for (int e = 1; e < power; e++) /* integer power: pow() dominated the run time */
                    q *= a;
                G[i * k + j] = i == j ? 0.0 : 2.0 * power * copysign(q, g);
            }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)k, (int)d, (int)k, 1.0, G, (int)k, U, (int)d, 0.0,
                    GU, (int)d);
        /* through the normalisation: dL/dv = (I - u u^T) dL/du / |v| */
        for (size_t i = 0; i < k; i++) {
            double dot = cblas_ddot((int)d, GU + i * d, 1, U + i * d, 1);
            for (size_t t = 0; t < d; t++)
                GU[i * d + t] = (GU[i * d + t] - dot * U[i * d + t]) / nr[i];
        }
        b1t *= b1;
        b2t *= b2;
        for (size_t i = 0; i < kd; i++) {
            m1[i] = b1 * m1[i] + (1 - b1) * GU[i];
            m2[i] = b2 * m2[i] + (1 - b2) * GU[i] * GU[i];
            V[i] -= lr * (m1[i] / (1 - b1t)) / (sqrt(m2[i] / (1 - b2t)) + ae);
        }
    }
    normalise_rows(V, U, nr, k, d);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)k, (int)d, 1.0, U, (int)d, 0.0, G, (int)k);
    *eps = max_offdiag(G, k);
    free(V);
    free(U);
    free(G);
    free(GU);
    free(m1);
    free(m2);
    free(nr);
    return PK_OK;
}

double pk_capacity_fit_C(const double *k, const double *d, const double *eps, size_t m, int adjusted, double *rmse)
{
    /* eps ~ s sqrt(x): linear least squares in s = sqrt(C) */
    double num = 0, den = 0;
    for (size_t i = 0; i < m; i++) {
        double x = adjusted ? log(k[i] / d[i]) / d[i] : log(k[i]) / d[i];
        if (!(x > 0))
            continue;
        num += eps[i] * sqrt(x);
        den += x;
    }
    double s = den > 0 ? num / den : NAN;
    if (rmse) {
        double e2 = 0;
        size_t c = 0;
        for (size_t i = 0; i < m; i++) {
            double x = adjusted ? log(k[i] / d[i]) / d[i] : log(k[i]) / d[i];
            if (!(x > 0))
                continue;
            e2 += (eps[i] - s * sqrt(x)) * (eps[i] - s * sqrt(x));
            c++;
        }
        *rmse = c ? sqrt(e2 / (double)c) : NAN;
    }
    return s * s;
}
