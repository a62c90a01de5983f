/* Calibration metrics and the reliability curve. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_internal.h"
#include "probkit/metrics.h"

int pk_calib_check(const double *p, const double *y, const double *ptrue, size_t n, pk_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (!(p[i] >= 0.0 && p[i] <= 1.0))
            return pk_err_set(err, PK_EDOM, "p[%zu] = %g is not a probability in [0, 1]", i, p[i]);
        if (!(y[i] == 0.0 || y[i] == 1.0))
            return pk_err_set(err, PK_EDOM, "y[%zu] = %g is not a 0/1 label", i, y[i]);
        if (ptrue && !(ptrue[i] >= 0.0 && ptrue[i] <= 1.0))
            return pk_err_set(err, PK_EDOM, "p_true[%zu] = %g is not a probability in [0, 1]", i, ptrue[i]);
    }
    return PK_OK;
}

static int cmp_idx_val(const void *a, const void *b, void *ctx)
{
    const double *v = ctx;
    double x = v[*(const size_t *)a], y = v[*(const size_t *)b];
    if (x < y)
        return -1;
    if (x > y)
        return 1;
    /* stable tie-break by index so results do not depend on qsort */
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    return (i > j) - (i < j);
}

/* A tiny merge sort of indices by value (qsort_r is not portable C11). */
static void msort(size_t *idx, size_t *tmp, size_t n, const double *v)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    msort(idx, tmp, h, v);
    msort(idx + h, tmp, n - h, v);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = cmp_idx_val(&idx[j], &idx[i], (void *)v) < 0 ? idx[j++] : idx[i++];
    while (i < h)
        tmp[k++] = idx[i++];
    while (j < n)
        tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
}

int pk_metrics_argsort(const double *v, size_t n, size_t **out)
{
    size_t *idx = malloc((n ? n : 1) * sizeof *idx), *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!idx || !tmp) {
        free(idx);
        free(tmp);
        return PK_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    msort(idx, tmp, n, v);
    free(tmp);
    *out = idx;
    return PK_OK;
}

int pk_rank_average(const double *x, size_t n, double *r)
{
    size_t *idx;
    if (pk_metrics_argsort(x, n, &idx))
        return PK_ENOMEM;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && x[idx[j + 1]] == x[idx[i]])
            j++;
        double avg = 0.5 * ((double)i + (double)j) + 1.0;
        for (size_t k = i; k <= j; k++)
            r[idx[k]] = avg;
        i = j + 1;
    }
    free(idx);
    return PK_OK;
}

int pk_roc_auc(const double *score, const double *y, size_t n, double *auc, pk_err *err)
{
    size_t npos = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(score[i]))
            return pk_err_set(err, PK_EDOM, "score[%zu] = %g is not finite", i, score[i]);
        if (!(y[i] == 0.0 || y[i] == 1.0))
            return pk_err_set(err, PK_EDOM, "y[%zu] = %g is not a 0/1 label", i, y[i]);
        npos += y[i] == 1.0;
    }
    if (npos == 0 || npos == n)
        return pk_err_set(err, PK_EDOM, "AUC needs both classes; all %zu labels are %d", n, npos ? 1 : 0);
    double *r = malloc(n * sizeof *r);
    if (!r)
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    if (pk_rank_average(score, n, r)) {
        free(r);
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    }
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        if (y[i] == 1.0)
            s += r[i];
    free(r);
    double np = (double)npos, nn = (double)(n - npos);
    *auc = (s - np * (np + 1.0) / 2.0) / (np * nn);
    return PK_OK;
}

/* Equal-width bin of p in nbins bins; a value on an inner edge goes to the
 * lower bin (numpy.searchsorted(edges[1:-1], p, 'left'), as sklearn). */
static size_t width_bin(double p, size_t nbins)
{
    for (size_t b = 0; b + 1 < nbins; b++) {
        double edge = (double)(b + 1) / (double)nbins;
        if (p <= edge)
            return b;
    }
    return nbins - 1;
}

int pk_calib_compute(const double *p, const double *y, const double *ptrue, size_t n, size_t nbins,
                     pk_calib_metrics *out, pk_err *err)
{
    if (n == 0)
        return pk_err_set(err, PK_EINVAL, "no predictions");
    if (nbins == 0)
        return pk_err_set(err, PK_EINVAL, "nbins must be >= 1");
    int st = pk_calib_check(p, y, ptrue, n, err);
    if (st)
        return st;
    memset(out, 0, sizeof *out);
    out->n = n;
    out->nbins = nbins;
    double *sp = calloc(nbins, sizeof *sp), *sy = calloc(nbins, sizeof *sy);
    size_t *cnt = calloc(nbins, sizeof *cnt), *idx = NULL;
    if (!sp || !sy || !cnt || pk_metrics_argsort(p, n, &idx)) {
        free(sp);
        free(sy);
        free(cnt);
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    }
    double brier = 0, nll = 0, mse = 0, ybar = 0;
    for (size_t i = 0; i < n; i++) {
        size_t b = width_bin(p[i], nbins);
        sp[b] += p[i];
        sy[b] += y[i];
        cnt[b]++;
        brier += (p[i] - y[i]) * (p[i] - y[i]);
        double q = fmin(fmax(p[i], 1e-15), 1.0 - 1e-15);
        nll -= y[i] == 1.0 ? log(q) : log1p(-q);
        if (ptrue)
            mse += (p[i] - ptrue[i]) * (p[i] - ptrue[i]);
        ybar += y[i];
    }
    double ece = 0, mce = 0;
    for (size_t b = 0; b < nbins; b++) {
        if (!cnt[b])
            continue;
        double gap = fabs(sy[b] / (double)cnt[b] - sp[b] / (double)cnt[b]);
        ece += (double)cnt[b] / (double)n * gap;
        mce = fmax(mce, gap);
    }
    /* Equal-mass bins: consecutive runs of the sorted predictions, sizes differing by at most one. */
    double ecem = 0;
    size_t used = 0;
    for (size_t b = 0; b < nbins; b++) {
        size_t lo = b * n / nbins, hi = (b + 1) * n / nbins;
        if (hi <= lo)
            continue;
        double a = 0, c = 0;
        for (size_t k = lo; k < hi; k++) {
            a += p[idx[k]];
            c += y[idx[k]];
        }
        ecem += fabs(c - a) / (double)(hi - lo);
        used++;
    }
    double cum = 0, ks = 0;
    for (size_t k = 0; k < n; k++) {
        cum += y[idx[k]] - p[idx[k]];
        ks = fmax(ks, fabs(cum));
    }
    out->ece = ece;
    out->mce = mce;
    out->ece_mass = ecem / (double)used;
    out->ks = ks / (double)n;
    out->brier = brier / (double)n;
    out->nll = nll / (double)n;
    out->mse_true = ptrue ? mse / (double)n : NAN;
    out->base_rate = ybar / (double)n;
    out->auc = NAN;
    if (ybar > 0 && ybar < (double)n)
        pk_roc_auc(p, y, n, &out->auc, NULL);
    free(sp);
    free(sy);
    free(cnt);
    free(idx);
    return PK_OK;
}

int pk_calib_curve(const double *p, const double *y, size_t n, size_t nbins, int quantile, double *prob_true,
                   double *prob_pred, size_t *count, size_t *nout, pk_err *err)
{
    if (n == 0 || nbins == 0)
        return pk_err_set(err, PK_EINVAL, "calibration curve needs n >= 1 and nbins >= 1");
    int st = pk_calib_check(p, y, NULL, n, err);
    if (st)
        return st;
    double *edges = malloc((nbins + 1) * sizeof *edges), *sp = calloc(nbins, sizeof *sp),
           *sy = calloc(nbins, sizeof *sy);
    size_t *cnt = calloc(nbins, sizeof *cnt), *idx = NULL;
    if (!edges || !sp || !sy || !cnt || (quantile && pk_metrics_argsort(p, n, &idx))) {
        free(edges);
        free(sp);
        free(sy);
        free(cnt);
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    }
    for (size_t b = 0; b <= nbins; b++) {
        if (!quantile) {
            edges[b] = (double)b / (double)nbins;
        } else {
            /* numpy.percentile's default linear interpolation */
            double pos = (double)b / (double)nbins * (double)(n - 1);
            size_t lo = (size_t)floor(pos);
            size_t hi = lo + 1 < n ? lo + 1 : lo;
            double f = pos - (double)lo;
            edges[b] = p[idx[lo]] + f * (p[idx[hi]] - p[idx[lo]]);
        }
    }
    for (size_t i = 0; i < n; i++) {
        size_t b = 0;
        while (b + 1 < nbins && p[i] > edges[b + 1])
            b++;
        sp[b] += p[i];
        sy[b] += y[i];
        cnt[b]++;
    }
    size_t k = 0;
    for (size_t b = 0; b < nbins; b++) {
        if (!cnt[b])
            continue;
        prob_true[k] = sy[b] / (double)cnt[b];
        prob_pred[k] = sp[b] / (double)cnt[b];
        if (count)
            count[k] = cnt[b];
        k++;
    }
    *nout = k;
    free(edges);
    free(sp);
    free(sy);
    free(cnt);
    free(idx);
    return PK_OK;
}
