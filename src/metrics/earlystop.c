/* Early-stopping criteria (Prechelt 1998) and a correlated-indicators halting rule. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/metrics.h"

const char *pk_es_kind_name(pk_es_kind kind)
{
    switch (kind) {
    case PK_ES_GL:
        return "GL";
    case PK_ES_PQ:
        return "PQ";
    case PK_ES_UP:
        return "UP";
    case PK_ES_PATIENCE:
        return "patience";
    }
    return "?";
}

int pk_es_indicator(pk_es_kind kind, double param, size_t strip, const double *val, const double *train, size_t n,
                    int *out, pk_err *err)
{
    if (n == 0)
        return pk_err_set(err, PK_EINVAL, "empty training log");
    if (strip < 1)
        return pk_err_set(err, PK_EINVAL, "strip length must be >= 1");
    if (!(param > 0) || !isfinite(param))
        return pk_err_set(err, PK_EINVAL, "%s threshold %g must be positive", pk_es_kind_name(kind), param);
    if (kind == PK_ES_PQ && !train)
        return pk_err_set(err, PK_EINVAL, "PQ needs the training loss");
    for (size_t t = 0; t < n; t++) {
        if (!(val[t] > 0) || !isfinite(val[t]))
            return pk_err_set(err, PK_EDOM, "validation loss at epoch %zu is %g (must be finite and > 0)", t, val[t]);
        if (train && (!(train[t] > 0) || !isfinite(train[t])))
            return pk_err_set(err, PK_EDOM, "training loss at epoch %zu is %g (must be finite and > 0)", t, train[t]);
    }
    double best = INFINITY;
    size_t since = 0, ups = 0;
    double prev_strip_val = NAN;
    for (size_t t = 0; t < n; t++) {
        if (val[t] < best) {
            best = val[t];
            since = 0;
        } else {
            since++;
        }
        double gl = 100 * (val[t] / best - 1);
        int on = 0, strip_end = (t + 1) % strip == 0;
        switch (kind) {
        case PK_ES_GL:
            on = gl > param;
            break;
        case PK_ES_PQ:
            if (strip_end && t + 1 >= strip) {
                double s = 0, mn = INFINITY;
                for (size_t u = t + 1 - strip; u <= t; u++) {
                    s += train[u];
                    mn = fmin(mn, train[u]);
                }
                double pk = 1000 * (s / ((double)strip * mn) - 1);
                on = pk > 0 ? gl / pk > param : gl > 0;
            } else if (t > 0) {
                on = out[t - 1]; /* hold the decision between strip ends */
            }
            break;
        case PK_ES_UP:
            if (strip_end) {
                if (!isnan(prev_strip_val))
                    ups = val[t] > prev_strip_val ? ups + 1 : 0;
                prev_strip_val = val[t];
                on = (double)ups >= param;
            } else if (t > 0) {
                on = out[t - 1];
            }
            break;
        case PK_ES_PATIENCE:
            on = (double)since >= param;
            break;
        default:
            return pk_err_set(err, PK_EINVAL, "unknown criterion %d", (int)kind);
        }
        out[t] = on;
    }
    return PK_OK;
}

size_t pk_es_first(const int *ind, size_t n)
{
    for (size_t t = 0; t < n; t++)
        if (ind[t])
            return t;
    return n;
}

static double corr01(const int *a, const int *b, size_t lo, size_t hi)
{
    double n = (double)(hi - lo), sa = 0, sb = 0, sab = 0;
    for (size_t t = lo; t < hi; t++) {
        sa += a[t];
        sb += b[t];
        sab += a[t] * b[t];
    }
    double va = sa / n * (1 - sa / n), vb = sb / n * (1 - sb / n);
    if (va <= 0 || vb <= 0) /* a constant series: agreement iff both are constantly on */
        return sa == n && sb == n ? 1.0 : 0.0;
    return (sab / n - sa / n * sb / n) / sqrt(va * vb);
}

int pk_es_correlated(const int *ind, size_t m, size_t n, size_t quorum, size_t window, double rmin, size_t *stop,
                     pk_err *err)
{
    if (m == 0 || n == 0)
        return pk_err_set(err, PK_EINVAL, "no indicators or an empty log");
    if (quorum < 1 || quorum > m)
        return pk_err_set(err, PK_EINVAL, "quorum %zu must be in [1, %zu]", quorum, m);
    if (window < 1)
        return pk_err_set(err, PK_EINVAL, "window must be >= 1");
    size_t *on = malloc(m * sizeof *on);
    if (!on)
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    *stop = n;
    for (size_t t = 0; t < n && *stop == n; t++) {
        size_t k = 0;
        for (size_t i = 0; i < m; i++)
            if (ind[i * n + t])
                on[k++] = i;
        if (k < quorum)
            continue;
        if (k == 1) {
            *stop = t;
            break;
        }
        size_t lo = t + 1 >= window ? t + 1 - window : 0;
        double s = 0;
        size_t np = 0;
        for (size_t a = 0; a < k; a++)
            for (size_t b = a + 1; b < k; b++) {
                s += corr01(ind + on[a] * n, ind + on[b] * n, lo, t + 1);
                np++;
            }
        if (s / (double)np >= rmin)
            *stop = t;
    }
    free(on);
    return PK_OK;
}

void pk_es_outcome_of(const double *val, size_t n, size_t stop, pk_es_outcome *out)
{
    size_t last = stop < n ? stop : n - 1, bs = 0, b = 0;
    for (size_t t = 0; t < n; t++) {
        if (t <= last && val[t] < val[bs])
            bs = t;
        if (val[t] < val[b])
            b = t;
    }
    out->stop = last;
    out->best_seen = bs;
    out->best = b;
    out->regret = val[bs] - val[b];
    out->regret_rel = out->regret / val[b];
    out->cost = (double)(last + 1) / (double)n;
}
