/* Multi-sample evaluation statistics (pass@k, intervals, tail risk, majority vote). */
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/metrics.h"

double pk_pass_at_k(uint64_t n, uint64_t c, uint64_t k)
{
    if (c > n || k < 1 || k > n)
        return NAN;
    if (n - c < k)
        return 1.0;
    /* C(n-c, k) / C(n, k) = prod_{i = n-c+1}^{n} (1 - k / i) */
    double logq = 0;
    for (uint64_t i = n - c + 1; i <= n; i++)
        logq += log1p(-(double)k / (double)i);
    return -expm1(logq);
}

void pk_wilson_interval(uint64_t x, uint64_t n, double z, double *lo, double *hi)
{
    double nn = (double)n, p = (double)x / nn, z2 = z * z;
    double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
    double half = z / (1 + z2 / nn) * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
    *lo = fmax(0.0, centre - half);
    *hi = fmin(1.0, centre + half);
    if (x == 0)
        *lo = 0;
    if (x == n)
        *hi = 1;
}

void pk_clopper_pearson(uint64_t x, uint64_t n, double alpha, double *lo, double *hi)
{
    *lo = x == 0 ? 0.0 : gsl_cdf_beta_Pinv(alpha / 2, (double)x, (double)(n - x + 1));
    *hi = x == n ? 1.0 : gsl_cdf_beta_Qinv(alpha / 2, (double)(x + 1), (double)(n - x));
}

double pk_tail_risk(double p, double k)
{
    if (!(p >= 0 && p <= 1) || !(k >= 0))
        return NAN;
    if (p == 1)
        return k > 0 ? 1.0 : 0.0;
    return -expm1(k * log1p(-p));
}

double pk_entropy_bits(const double *counts, size_t m)
{
    double t = 0, h = 0;
    for (size_t j = 0; j < m; j++)
        t += counts[j] > 0 ? counts[j] : 0;
    if (t <= 0)
        return 0;
    for (size_t j = 0; j < m; j++)
        if (counts[j] > 0)
            h -= counts[j] / t * log2(counts[j] / t);
    return h;
}

static double plurality(const uint64_t *cnt, const int *correct, size_t m)
{
    uint64_t best = 0;
    size_t ties = 0, good = 0;
    for (size_t j = 0; j < m; j++)
        if (cnt[j] > best) {
            best = cnt[j];
            ties = 1;
            good = correct[j] != 0;
        } else if (cnt[j] == best && best > 0) {
            ties++;
            good += correct[j] != 0;
        }
    return ties ? (double)good / (double)ties : 0.0;
}

int pk_majority_at_k(const uint64_t *counts, const int *correct, size_t m, uint64_t k, size_t nsim, pk_rng *rng,
                     double *prob, pk_err *err)
{
    uint64_t n = 0;
    for (size_t j = 0; j < m; j++)
        n += counts[j];
    if (m == 0 || n == 0)
        return pk_err_set(err, PK_EINVAL, "no samples");
    if (k < 1 || k > n)
        return pk_err_set(err, PK_EINVAL, "k = %llu must be in [1, n = %llu]", (unsigned long long)k,
                          (unsigned long long)n);
    if (k == n) {
        *prob = plurality(counts, correct, m);
        return PK_OK;
    }
    if (nsim == 0 || !rng)
        return pk_err_set(err, PK_EINVAL, "k < n needs Monte Carlo draws and a generator");
    size_t *pool = malloc((size_t)n * sizeof *pool);
    uint64_t *cnt = malloc(m * sizeof *cnt);
    if (!pool || !cnt) {
        free(pool);
        free(cnt);
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    }
    size_t t = 0;
    for (size_t j = 0; j < m; j++)
        for (uint64_t c = 0; c < counts[j]; c++)
            pool[t++] = j;
    double acc = 0;
    for (size_t s = 0; s < nsim; s++) {
        memset(cnt, 0, m * sizeof *cnt);
        /* partial Fisher-Yates: the first k entries are a uniform k-subset */
        for (uint64_t i = 0; i < k; i++) {
            uint64_t r = i + pk_rng_below(rng, n - i);
            size_t tmp = pool[i];
            pool[i] = pool[r];
            pool[r] = tmp;
            cnt[pool[i]]++;
        }
        acc += plurality(cnt, correct, m);
    }
    *prob = acc / (double)nsim;
    free(pool);
    free(cnt);
    return PK_OK;
}
