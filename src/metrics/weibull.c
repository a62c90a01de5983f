/* Weibull diagnostics of weight magnitudes: the binned probability-plot
 * protocol of Ding (2026) and a maximum-likelihood fit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/metrics.h"

static inline size_t bin_of(double a)
{
    if (!(a > 0))
        return 0;
    double l = log10(a);
    double pos = (l - PK_WEIBULL_LOG10_LO) / (PK_WEIBULL_LOG10_HI - PK_WEIBULL_LOG10_LO) * PK_WEIBULL_NBINS;
    if (pos < 0)
        return 0;
    if (pos >= PK_WEIBULL_NBINS)
        return PK_WEIBULL_NBINS - 1;
    return (size_t)pos;
}

int pk_weibull_hist_add(uint64_t *counts, const double *w, size_t n, pk_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(w[i]))
            return pk_err_set(err, PK_EDOM, "value %zu (%g) is not finite", i, w[i]);
    for (size_t i = 0; i < n; i++)
        counts[bin_of(fabs(w[i]))]++;
    return PK_OK;
}

int pk_weibull_hist_add_f(uint64_t *counts, const float *w, size_t n, pk_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(w[i]))
            return pk_err_set(err, PK_EDOM, "value %zu (%g) is not finite", i, (double)w[i]);
    for (size_t i = 0; i < n; i++)
        counts[bin_of(fabs((double)w[i]))]++;
    return PK_OK;
}

int pk_weibull_fit_hist(const uint64_t *counts, pk_weibull_fit *out, pk_err *err)
{
    memset(out, 0, sizeof *out);
    uint64_t total = 0;
    for (size_t b = 0; b < PK_WEIBULL_NBINS; b++)
        total += counts[b];
    out->n = total;
    if (total == 0)
        return pk_err_set(err, PK_EINVAL, "no values to fit");
    const double width = (PK_WEIBULL_LOG10_HI - PK_WEIBULL_LOG10_LO) / PK_WEIBULL_NBINS;
    /* weighted sums for the line Y = k X + c */
    double sw = 0, sx = 0, sy = 0;
    uint64_t cum = 0;
    size_t used = 0;
    for (int pass = 0; pass < 2; pass++) {
        double sxx = 0, sxy = 0, syy = 0, xb = pass ? sx / sw : 0, yb = pass ? sy / sw : 0;
        cum = 0;
        for (size_t b = 0; b < PK_WEIBULL_NBINS; b++) {
            cum += counts[b];
            double F = (double)cum / (double)total;
            if (F < 0.1 || F > 0.9 || counts[b] == 0)
                continue;
            double X = (PK_WEIBULL_LOG10_LO + (double)(b + 1) * width) * M_LN10;
            double Y = log(-log1p(-F)), w = (double)counts[b];
            if (!pass) {
                sw += w;
                sx += w * X;
                sy += w * Y;
                used++;
            } else {
                sxx += w * (X - xb) * (X - xb);
                sxy += w * (X - xb) * (Y - yb);
                syy += w * (Y - yb) * (Y - yb);
            }
        }
        if (pass) {
            if (used < 2 || !(sxx > 0))
                return pk_err_set(err, PK_EDOM,
                                  "only %zu histogram bins lie in the middle 80%% of the CDF: the values are "
                                  "(nearly) constant, cannot fit a Weibull",
                                  used);
            double k = sxy / sxx, c = yb - k * xb;
            out->k = k;
            out->lambda = exp(-c / k);
            out->r2 = syy > 0 ? sxy * sxy / (sxx * syy) : 1.0;
            out->nfit = used;
        }
    }
    cum = 0;
    double ks = 0;
    for (size_t b = 0; b < PK_WEIBULL_NBINS; b++) {
        cum += counts[b];
        double x = pow(10.0, PK_WEIBULL_LOG10_LO + (double)(b + 1) * width);
        double Fw = -expm1(-pow(x / out->lambda, out->k));
        ks = fmax(ks, fabs((double)cum / (double)total - Fw));
    }
    out->ks = ks;
    out->nzero = counts[0]; /* an upper bound: the first bin also holds |w| < 1e-12 */
    return PK_OK;
}

int pk_weibull_fit_values(const double *w, size_t n, pk_weibull_fit *out, pk_err *err)
{
    uint64_t *c = calloc(PK_WEIBULL_NBINS, sizeof *c);
    if (!c)
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    int st = pk_weibull_hist_add(c, w, n, err);
    if (!st)
        st = pk_weibull_fit_hist(c, out, err);
    if (!st) {
        uint64_t z = 0;
        for (size_t i = 0; i < n; i++)
            z += w[i] == 0.0;
        out->nzero = z;
    }
    free(c);
    return st;
}

int pk_weibull_mle(const double *x, size_t n, double *k, double *lambda, pk_err *err)
{
    size_t m = 0;
    double *lx = calloc(n ? n : 1, sizeof *lx);
    if (!lx)
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) {
            free(lx);
            return pk_err_set(err, PK_EDOM, "value %zu (%g) is not finite", i, x[i]);
        }
        if (x[i] != 0.0)
            lx[m++] = log(fabs(x[i]));
    }
    double mean = 0, var = 0;
    pk_mean_var(lx, m, &mean, &var);
    if (m < 2 || !(var > 0)) {
        free(lx);
        return pk_err_set(err, PK_EDOM, "need at least 2 distinct non-zero values, got %zu non-zero", m);
    }
    /* Centre the logs (scale invariance of k) to keep x^k in range. */
    for (size_t i = 0; i < m; i++)
        lx[i] -= mean;
    /* g(k) = S1/S0 - 1/k - mean(l) with S_j = sum x^k l^j: increasing in k, one root.
     * Start from the Gumbel moment estimate k = pi / (sd(log x) sqrt 6). */
    double kk = M_PI / (sqrt(var) * sqrt(6.0));
    int ok = 0;
    for (int it = 0; it < 200; it++) {
        double mx = -INFINITY;
        for (size_t i = 0; i < m; i++)
            mx = fmax(mx, kk * lx[i]);
        double s0 = 0, s1 = 0, s2 = 0;
        for (size_t i = 0; i < m; i++) {
            double e = exp(kk * lx[i] - mx);
            s0 += e;
            s1 += e * lx[i];
            s2 += e * lx[i] * lx[i];
        }
        double g = s1 / s0 - 1.0 / kk; /* mean(l) is 0 after centring */
        double dg = s2 / s0 - (s1 / s0) * (s1 / s0) + 1.0 / (kk * kk);
        double kn = kk - g / dg;
        if (kn <= 0)
            kn = kk / 2;
        if (fabs(kn - kk) < 1e-14 * kk) {
            kk = kn;
            ok = 1;
            break;
        }
        kk = kn;
    }
    if (!ok) {
        free(lx);
        return pk_err_set(err, PK_EMAXITER, "Weibull ML fit did not converge");
    }
    /* lambda = (mean |x|^k)^(1/k), computed from the centred logs */
    double mx = -INFINITY;
    for (size_t i = 0; i < m; i++)
        mx = fmax(mx, kk * lx[i]);
    double s0 = 0;
    for (size_t i = 0; i < m; i++)
        s0 += exp(kk * lx[i] - mx);
    *k = kk;
    *lambda = exp(mean + (mx + log(s0 / (double)m)) / kk);
    free(lx);
    return PK_OK;
}

const char *pk_weibull_class(double k)
{
    if (!isfinite(k))
        return "undefined";
    if (k >= 1.17)
        return "transmission";
    if (k >= 1.0)
        return "mild selection";
    return "strong selection";
}
