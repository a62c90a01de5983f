/* MCMC diagnostics after Vehtari, Gelman, Simpson, Carpenter & Burkner (2021):
 * rank-normalised split R-hat, bulk and tail ESS, MCSE. */
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/infer.h"

/* Autocovariance of x[0..n) at lag t, biased (divide by n), mean removed. */
static double acov(const double *x, size_t n, double mean, size_t t)
{
    double s = 0;
    for (size_t i = 0; i + t < n; i++)
        s += (x[i] - mean) * (x[i + t] - mean);
    return s / (double)n;
}

/* rho_t = 1 - (W - mean_c acov_c(t)) / var_plus, with acov scaled like the
 * unbiased variance so that rho_0 = 1 when the chains agree. */
static double rho_t(const double *x, size_t m, size_t n, const double *mean, double W, double var_plus, size_t t)
{
    double a = 0;
    for (size_t c = 0; c < m; c++)
        a += acov(x + c * n, n, mean[c], t);
    a = a / (double)m * (double)n / (double)(n - 1);
    return 1.0 - (W - a) / var_plus;
}

/* Multi-chain ESS of m chains of length n stored contiguously in x (m*n). */
static double ess_chains(const double *x, size_t m, size_t n)
{
    if (n < 4)
        return NAN;
    double *mean = malloc(m * sizeof *mean), *var = malloc(m * sizeof *var);
    if (!mean || !var) {
        free(mean);
        free(var);
        return NAN;
    }
    double W = 0, mm = 0;
    for (size_t c = 0; c < m; c++) {
        pk_mean_var(x + c * n, n, &mean[c], &var[c]);
        W += var[c];
        mm += mean[c];
    }
    W /= (double)m;
    mm /= (double)m;
    double B = 0;
    for (size_t c = 0; c < m; c++)
        B += (mean[c] - mm) * (mean[c] - mm);
    B = m > 1 ? B * (double)n / (double)(m - 1) : 0;
    double var_plus = (double)(n - 1) / (double)n * W + B / (double)n;
    if (!(var_plus > 0)) {
        free(mean);
        free(var);
        return NAN; /* constant draws */
    }
    double tau = -1.0, prev = INFINITY;
    size_t t = 0;
    while (t + 1 < n) {
        double pair = rho_t(x, m, n, mean, W, var_plus, t) + rho_t(x, m, n, mean, W, var_plus, t + 1);
        if (pair < 0)
            break;
        if (pair > prev) /* initial monotone sequence */
            pair = prev;
        tau += 2.0 * pair;
        prev = pair;
        t += 2;
    }
    free(mean);
    free(var);
    double N = (double)(m * n);
    double cap = N * log10(N);
    double ess = N / tau;
    return ess > cap ? cap : ess;
}

double pk_infer_ess_basic(const double *x, size_t n, size_t stride)
{
    double *c = malloc(n * sizeof *c);
    if (!c)
        return NAN;
    for (size_t i = 0; i < n; i++)
        c[i] = x[i * stride];
    double e = ess_chains(c, 1, n);
    free(c);
    return e;
}

typedef struct idx_val {
    double v;
    size_t i;
} idx_val;

static int cmp_iv(const void *a, const void *b)
{
    double x = ((const idx_val *)a)->v, y = ((const idx_val *)b)->v;
    return (x > y) - (x < y);
}

/* z-scores of average ranks (Blom offsets), in place over n values. */
static int rank_normalise(double *x, size_t n)
{
    idx_val *iv = malloc(n * sizeof *iv);
    if (!iv)
        return PK_ENOMEM;
    for (size_t i = 0; i < n; i++)
        iv[i] = (idx_val){x[i], i};
    qsort(iv, n, sizeof *iv, cmp_iv);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && iv[j + 1].v == iv[i].v)
            j++;
        double r = 0.5 * (double)(i + j) + 1.0; /* average rank, 1-based */
        double z = gsl_cdf_ugaussian_Pinv((r - 0.375) / ((double)n + 0.25));
        for (size_t k = i; k <= j; k++)
            x[iv[k].i] = z;
        i = j + 1;
    }
    free(iv);
    return PK_OK;
}

static double rhat_chains(const double *x, size_t m, size_t n)
{
    double W = 0, mm = 0, B = 0, *mean = malloc(m * sizeof *mean);
    if (!mean)
        return NAN;
    for (size_t c = 0; c < m; c++) {
        double v;
        pk_mean_var(x + c * n, n, &mean[c], &v);
        W += v;
        mm += mean[c];
    }
    W /= (double)m;
    mm /= (double)m;
    for (size_t c = 0; c < m; c++)
        B += (mean[c] - mm) * (mean[c] - mm);
    free(mean);
    B = m > 1 ? B * (double)n / (double)(m - 1) : 0;
    double vp = (double)(n - 1) / (double)n * W + B / (double)n;
    return W > 0 ? sqrt(vp / W) : NAN;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile_sorted(const double *s, size_t n, double q)
{
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    return s[lo] + (h - (double)lo) * (s[hi] - s[lo]);
}

int pk_infer_diag_compute(const double *x, size_t chains, size_t draws, size_t stride, pk_infer_diag *out)
{
    if (chains < 1 || draws < 4 || !out)
        return PK_EINVAL;
    size_t half = draws / 2, m = 2 * chains, N = m * half, tot = chains * draws;
    double *split = malloc(N * sizeof *split), *work = malloc(N * sizeof *work), *all = malloc(tot * sizeof *all);
    if (!split || !work || !all) {
        free(split);
        free(work);
        free(all);
        return PK_ENOMEM;
    }
    /* split chains: the first and last `half` draws of each chain (odd middle dropped) */
    for (size_t c = 0; c < chains; c++)
        for (size_t i = 0; i < half; i++) {
            split[(2 * c) * half + i] = x[(c * draws + i) * stride];
            split[(2 * c + 1) * half + i] = x[(c * draws + draws - half + i) * stride];
        }
    for (size_t i = 0; i < tot; i++)
        all[i] = x[i * stride];
    int st = pk_all_finite(all, tot) ? PK_OK : PK_EDOM;
    if (st == PK_OK) {
        pk_mean_var(all, tot, &out->mean, &out->sd);
        out->sd = sqrt(out->sd);
        qsort(all, tot, sizeof *all, cmp_d);
        out->q05 = quantile_sorted(all, tot, 0.05);
        out->q50 = quantile_sorted(all, tot, 0.5);
        out->q95 = quantile_sorted(all, tot, 0.95);
        /* bulk: rank-normalised split chains */
        memcpy(work, split, N * sizeof *work);
        rank_normalise(work, N);
        double rb = rhat_chains(work, m, half);
        out->ess_bulk = ess_chains(work, m, half);
        /* folded: |x - median| */
        for (size_t i = 0; i < N; i++)
            work[i] = fabs(split[i] - out->q50);
        rank_normalise(work, N);
        double rf = rhat_chains(work, m, half);
        out->rhat = rb > rf ? rb : rf;
        /* tail: indicator ESS at the 5% and 95% quantiles */
        double e5, e95;
        for (size_t i = 0; i < N; i++)
            work[i] = split[i] <= out->q05;
        e5 = ess_chains(work, m, half);
        for (size_t i = 0; i < N; i++)
            work[i] = split[i] <= out->q95;
        e95 = ess_chains(work, m, half);
        out->ess_tail = e5 < e95 ? e5 : e95;
        double ess_mean = ess_chains(split, m, half);
        out->mcse_mean = out->sd / sqrt(ess_mean);
    }
    free(split);
    free(work);
    free(all);
    return st;
}
