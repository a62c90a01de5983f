/* Embedding geometry: cosine-similarity statistics, capacity formulas,
 * random and optimised packings (Guha, "Representational Capacity"). */
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

static double law_x(double k, double d, int adjusted)
{
    double x = adjusted ? log(k / d) / d : log(k) / d;
    return x > 0 ? x : 0;
}

double pk_capacity_fit_C(const double *k, const double *d, const double *eps, size_t m, int adjusted, double *rmse)
{
    /* eps ~ s sqrt(x): linear least squares in s = sqrt(C); cells with x = 0 are
     * predicted 0 whatever C is, so they count in the error but not in s */
    double num = 0, den = 0;
    for (size_t i = 0; i < m; i++) {
        double x = law_x(k[i], d[i], adjusted);
        num += eps[i] * sqrt(x);
        den += x;
    }
    double s = den > 0 ? num / den : NAN;
    if (rmse) {
        double e2 = 0;
        for (size_t i = 0; i < m; i++) {
            double r = eps[i] - s * sqrt(law_x(k[i], d[i], adjusted));
            e2 += r * r;
        }
        *rmse = m ? sqrt(e2 / (double)m) : NAN;
    }
    return s * s;
}

double pk_capacity_mape(const double *k, const double *d, const double *eps, size_t m, int adjusted, double C)
{
    double sum = 0;
    size_t c = 0;
    for (size_t i = 0; i < m; i++) {
        if (eps[i] == 0)
            continue;
        sum += fabs(eps[i] - sqrt(C * law_x(k[i], d[i], adjusted))) / fabs(eps[i]);
        c++;
    }
    return c ? 100 * sum / (double)c : NAN;
}
