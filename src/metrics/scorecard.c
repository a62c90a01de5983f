/* Scorecard statistics: divergences with delta-method errors, Z tests,
 * logistic regression, the fairness-constrained subset search, the simulator. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_internal.h"
#include "probkit/scorecard.h"

int pk_divergence_counts(const double *a, const double *b, size_t k, double smooth, pk_divergence *out,
                         double *woe, double *woe_se, pk_err *err)
{
    memset(out, 0, sizeof *out);
    if (k < 2)
        return pk_err_set(err, PK_EINVAL, "need at least 2 bins, got %zu", k);
    if (!(smooth >= 0) || !isfinite(smooth))
        return pk_err_set(err, PK_EINVAL, "smoothing %g must be finite and >= 0", smooth);
    double A = 0, B = 0;
    int zero = 0;
    for (size_t i = 0; i < k; i++) {
        if (!(a[i] >= 0) || !(b[i] >= 0) || !isfinite(a[i]) || !isfinite(b[i]))
            return pk_err_set(err, PK_EINVAL, "bin %zu: counts (%g, %g) must be finite and >= 0", i, a[i], b[i]);
        A += a[i];
        B += b[i];
        zero |= a[i] == 0 || b[i] == 0;
    }
    if (A <= 0 || B <= 0)
        return pk_err_set(err, PK_EINVAL, "one of the two samples is empty (totals %g and %g)", A, B);
    double s = zero ? smooth : 0.0;
    if (zero && s == 0)
        return pk_err_set(err, PK_EDOM, "a bin is empty in one sample and smoothing is 0: the divergence is infinite");
    A += (double)k * s;
    B += (double)k * s;
    out->k = k;
    out->n_p = A;
    out->n_q = B;
    out->smoothed = zero;
    double J = 0, kpq = 0, kqp = 0, js = 0, ma = 0, ma2 = 0, mc = 0, mc2 = 0;
    for (size_t i = 0; i < k; i++) {
        double ai = a[i] + s, bi = b[i] + s, p = ai / A, q = bi / B, w = log(p / q);
        J += (p - q) * w;
        kpq += p * w;
        kqp -= q * w;
        double m = 0.5 * (p + q);
        js += 0.5 * (p * log(p / m) + q * log(q / m));
        double da = w + 1 - q / p, dc = -w + 1 - p / q;
        ma += p * da;
        ma2 += p * da * da;
        mc += q * dc;
        mc2 += q * dc * dc;
        if (woe)
            woe[i] = w;
        if (woe_se)
            woe_se[i] = sqrt(fmax(0.0, 1 / ai - 1 / A + 1 / bi - 1 / B));
    }
    out->jeffreys = J;
    out->jeffreys_se = sqrt(fmax(0.0, (ma2 - ma * ma) / A + (mc2 - mc * mc) / B));
    out->kl_pq = kpq;
    out->kl_qp = kqp;
    out->js = js / M_LN2;
    return PK_OK;
}

double pk_divergence_ztest(const pk_divergence *d, double j0, double *p_value)
{
    double z = (d->jeffreys - j0) / d->jeffreys_se;
    if (p_value)
        *p_value = 0.5 * erfc(z / M_SQRT2);
    return z;
}

int pk_logistic_fit(const double *X, const double *y, size_t n, size_t p, double ridge, double *w, pk_err *err)
{
    if (n == 0 || p == 0)
        return pk_err_set(err, PK_EINVAL, "logistic regression needs n >= 1 rows and p >= 1 columns");
    if (!(ridge >= 0))
        return pk_err_set(err, PK_EINVAL, "ridge %g must be >= 0", ridge);
    for (size_t i = 0; i < n; i++)
        if (!(y[i] == 0 || y[i] == 1))
            return pk_err_set(err, PK_EDOM, "y[%zu] = %g is not a 0/1 label", i, y[i]);
    for (size_t i = 0; i < n * p; i++)
        if (!isfinite(X[i]))
            return pk_err_set(err, PK_EDOM, "X[%zu, %zu] = %g is not finite", i / p, i % p, X[i]);
    memset(w, 0, p * sizeof *w);
    int st = pk_metrics_logreg(X, y, n, p, ridge, w);
    if (st == PK_ESING)
        return pk_err_set(err, st, "logistic regression: singular Hessian (separable data or collinear columns; "
                                   "add a ridge penalty)");
    if (st)
        return pk_err_set(err, st, "logistic regression: %s", pk_strerror(st));
    return PK_OK;
}

int pk_fair_select(const double *iv, const double *fair_iv, const double *fair_se, size_t p, double z, double eps,
                   uint32_t *mask, double *value, pk_err *err)
{
    if (p == 0 || p > 20)
        return pk_err_set(err, PK_EINVAL, "exact subset search handles 1..20 features, got %zu", p);
    *mask = 0;
    *value = -1;
    for (uint32_t m = 0; m < (1u << p); m++) {
        double f = 0, v = 0, se2 = 0;
        for (size_t j = 0; j < p; j++)
            if (m >> j & 1) {
                f += fair_iv[j];
                se2 += fair_se[j] * fair_se[j];
                v += iv[j];
            }
        if (f + z * sqrt(se2) <= eps && v > *value) {
            *value = v;
            *mask = m;
        }
    }
    return PK_OK;
}

