/* Recalibration maps: temperature scaling, Platt scaling, isotonic regression. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_internal.h"
#include "probkit/metrics.h"

static double logit_clip(double p)
{
    double q = fmin(fmax(p, 1e-12), 1.0 - 1e-12);
    return log(q) - log1p(-q);
}

int pk_recal_kind_parse(const char *name)
{
    if (!strcmp(name, "temperature"))
        return PK_RECAL_TEMPERATURE;
    if (!strcmp(name, "platt"))
        return PK_RECAL_PLATT;
    if (!strcmp(name, "isotonic"))
        return PK_RECAL_ISOTONIC;
    return -1;
}

const char *pk_recal_kind_name(pk_recal_kind k)
{
    return k == PK_RECAL_TEMPERATURE ? "temperature" : k == PK_RECAL_PLATT ? "platt" : "isotonic";
}

void pk_recal_free(pk_recal *r)
{
    if (!r)
        return;
    free(r->kx);
    free(r->ky);
    free(r);
}

/* Temperature: minimise sum softplus(b z) - y b z over the inverse temperature b > 0
 * (a convex 1-D problem; Newton with a positivity guard). */
static int fit_temperature(const double *z, const double *y, size_t n, double *T)
{
    double b = 1.0;
    for (int it = 0; it < 200; it++) {
        double g = 0, h = 0;
        for (size_t i = 0; i < n; i++) {
            double mu = pk_metrics_sigmoid(b * z[i]);
            g += (mu - y[i]) * z[i];
            h += mu * (1 - mu) * z[i] * z[i];
        }
        if (h <= 0)
            return PK_ESING;
        double step = g / h, bn = b - step;
        if (bn <= 0)
            bn = b / 4;
        if (fabs(bn - b) <= 1e-13 * b) {
            b = bn;
            break;
        }
        b = bn;
    }
    *T = 1.0 / b;
    return PK_OK;
}

/* Pool-adjacent-violators on points sorted by x, with x ties merged first (as sklearn). */
static int fit_isotonic(const double *p, const double *y, size_t n, pk_recal *r)
{
    size_t *idx;
    if (pk_metrics_argsort(p, n, &idx))
        return PK_ENOMEM;
    double *bx = malloc(n * sizeof *bx), *by = malloc(n * sizeof *by), *bw = malloc(n * sizeof *bw);
    size_t *first = malloc(n * sizeof *first);
    if (!bx || !by || !bw || !first) {
        free(idx);
        free(bx);
        free(by);
        free(bw);
        free(first);
        return PK_ENOMEM;
    }
    /* unique x with mean y and weight = multiplicity */
    size_t m = 0;
    for (size_t k = 0; k < n;) {
        size_t j = k;
        double s = 0;
        while (j < n && p[idx[j]] == p[idx[k]])
            s += y[idx[j++]];
        bx[m] = p[idx[k]];
        by[m] = s / (double)(j - k);
        bw[m] = (double)(j - k);
        m++;
        k = j;
    }
    /* PAVA with a stack of blocks: (value, weight, first index) */
    double *vv = malloc(m * sizeof *vv), *ww = malloc(m * sizeof *ww);
    if (!vv || !ww) {
        free(idx);
        free(bx);
        free(by);
        free(bw);
        free(first);
        free(vv);
        free(ww);
        return PK_ENOMEM;
    }
    size_t top = 0;
    for (size_t k = 0; k < m; k++) {
        vv[top] = by[k];
        ww[top] = bw[k];
        first[top] = k;
        top++;
        while (top >= 2 && vv[top - 2] >= vv[top - 1]) {
            double w = ww[top - 2] + ww[top - 1];
            vv[top - 2] = (vv[top - 2] * ww[top - 2] + vv[top - 1] * ww[top - 1]) / w;
            ww[top - 2] = w;
            top--;
        }
    }
    /* knots: every unique x with its block value (sklearn keeps them and interpolates) */
    r->kx = malloc(m * sizeof *r->kx);
    r->ky = malloc(m * sizeof *r->ky);
    if (!r->kx || !r->ky) {
        free(idx);
        free(bx);
        free(by);
        free(bw);
        free(first);
        free(vv);
        free(ww);
        return PK_ENOMEM;
    }
    for (size_t b = 0; b < top; b++) {
        size_t end = b + 1 < top ? first[b + 1] : m;
        for (size_t k = first[b]; k < end; k++) {
            r->kx[k] = bx[k];
            r->ky[k] = vv[b];
        }
    }
    r->nknots = m;
    free(idx);
    free(bx);
    free(by);
    free(bw);
    free(first);
    free(vv);
    free(ww);
    return PK_OK;
}

int pk_recal_fit(pk_recal_kind kind, const double *p, const double *y, size_t n, pk_recal **out, pk_err *err)
{
    *out = NULL;
    if (n < 2)
        return pk_err_set(err, PK_EINVAL, "recalibration needs at least 2 predictions, got %zu", n);
    int st = pk_calib_check(p, y, NULL, n, err);
    if (st)
        return st;
    size_t npos = 0;
    for (size_t i = 0; i < n; i++)
        npos += y[i] == 1.0;
    if (npos == 0 || npos == n)
        return pk_err_set(err, PK_EDOM, "recalibration needs both classes; all %zu labels are %d", n, npos ? 1 : 0);
    pk_recal *r = calloc(1, sizeof *r);
    double *z = malloc(n * sizeof *z);
    if (!r || !z) {
        free(r);
        free(z);
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    }
    r->kind = kind;
    r->T = 1;
    for (size_t i = 0; i < n; i++)
        z[i] = logit_clip(p[i]);
    if (kind == PK_RECAL_TEMPERATURE) {
        st = fit_temperature(z, y, n, &r->T);
    } else if (kind == PK_RECAL_PLATT) {
        /* Platt (1999): targets (N+ + 1)/(N+ + 2) and 1/(N- + 2) avoid overfitting the extremes. */
        double *X = malloc(2 * n * sizeof *X), *t = malloc(n * sizeof *t);
        if (!X || !t) {
            st = PK_ENOMEM;
        } else {
            double hi = ((double)npos + 1) / ((double)npos + 2), lo = 1.0 / ((double)(n - npos) + 2);
            for (size_t i = 0; i < n; i++) {
                X[2 * i] = z[i];
                X[2 * i + 1] = 1.0;
                t[i] = y[i] == 1.0 ? hi : lo;
            }
            double w[2] = {1.0, 0.0};
            st = pk_metrics_logreg(X, t, n, 2, 0.0, w);
            r->A = -w[0];
            r->B = -w[1];
        }
        free(X);
        free(t);
    } else if (kind == PK_RECAL_ISOTONIC) {
        st = fit_isotonic(p, y, n, r);
    } else {
        st = PK_EINVAL;
    }
    free(z);
    if (st) {
        pk_recal_free(r);
        return pk_err_set(err, st, "%s recalibration failed: %s", pk_recal_kind_name(kind), pk_strerror(st));
    }
    *out = r;
    return PK_OK;
}

void pk_recal_apply(const pk_recal *r, const double *p, size_t n, double *out)
{
    for (size_t i = 0; i < n; i++) {
        double z = logit_clip(p[i]);
        if (r->kind == PK_RECAL_TEMPERATURE) {
            out[i] = pk_metrics_sigmoid(z / r->T);
        } else if (r->kind == PK_RECAL_PLATT) {
            out[i] = pk_metrics_sigmoid(-(r->A * z + r->B));
        } else {
            double x = p[i];
            size_t m = r->nknots;
            if (x <= r->kx[0]) {
                out[i] = r->ky[0];
            } else if (x >= r->kx[m - 1]) {
                out[i] = r->ky[m - 1];
            } else {
                size_t lo = 0, hi = m - 1; /* kx[lo] < x <= kx[hi] */
                while (hi - lo > 1) {
                    size_t mid = (lo + hi) / 2;
                    if (r->kx[mid] < x)
                        lo = mid;
                    else
                        hi = mid;
                }
                double f = (x - r->kx[lo]) / (r->kx[hi] - r->kx[lo]);
                out[i] = r->ky[lo] + f * (r->ky[hi] - r->ky[lo]);
            }
        }
    }
}

int pk_recal_crossfit(pk_recal_kind kind, const double *p, const double *y, size_t n, size_t folds, pk_rng *rng,
                      double *out, pk_err *err)
{
    if (folds < 2 || folds > n)
        return pk_err_set(err, PK_EINVAL, "folds = %zu must be in [2, n = %zu]", folds, n);
    int st = pk_calib_check(p, y, NULL, n, err);
    if (st)
        return st;
    size_t *perm = malloc(n * sizeof *perm), *fold = malloc(n * sizeof *fold);
    double *tp = malloc(n * sizeof *tp), *ty = malloc(n * sizeof *ty), *hp = malloc(n * sizeof *hp),
           *ho = malloc(n * sizeof *ho);
    if (!perm || !fold || !tp || !ty || !hp || !ho) {
        st = pk_err_set(err, PK_ENOMEM, "out of memory");
        goto done;
    }
    pk_rng_permutation(rng, perm, n);
    for (size_t k = 0; k < n; k++)
        fold[perm[k]] = k % folds;
    for (size_t f = 0; f < folds && !st; f++) {
        size_t nt = 0, nh = 0;
        double ybar = 0;
        for (size_t i = 0; i < n; i++) {
            if (fold[i] == f) {
                hp[nh++] = p[i];
            } else {
                tp[nt] = p[i];
                ty[nt++] = y[i];
                ybar += y[i];
            }
        }
        pk_recal *r = NULL;
        pk_err e2;
        pk_err_clear(&e2);
        int s2 = pk_recal_fit(kind, tp, ty, nt, &r, &e2);
        if (s2 == PK_EDOM || s2 == PK_EINVAL) {
            for (size_t k = 0; k < nh; k++)
                ho[k] = nt ? ybar / (double)nt : 0.5;
        } else if (s2) {
            st = pk_err_set(err, s2, "%s", e2.msg);
            break;
        } else {
            pk_recal_apply(r, hp, nh, ho);
            pk_recal_free(r);
        }
        for (size_t i = 0, k = 0; i < n; i++)
            if (fold[i] == f)
                out[i] = ho[k++];
    }
done:
    free(perm);
    free(fold);
    free(tp);
    free(ty);
    free(hp);
    free(ho);
    return st;
}
