/* Supervised binning (recursive best-gain stumps with a minimum bin share,
 * then monotone WoE merging) and stump boosting on binned features. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_internal.h"
#include "probkit/scorecard.h"

pk_bin_params pk_bin_params_default(void)
{
    pk_bin_params p = {6, 0.05, 50, 1, 0.5};
    return p;
}

const char *pk_bin_params_check(const pk_bin_params *p)
{
    if (p->max_bins < 2 || p->max_bins > 64)
        return "max_bins must be in [2, 64]";
    if (!(p->min_frac > 0 && p->min_frac <= 0.5))
        return "min_frac must be in (0, 0.5]";
    if (p->prebins < 4 || p->prebins > 1000)
        return "prebins must be in [4, 1000]";
    if (!(p->smooth >= 0 && isfinite(p->smooth)))
        return "smooth must be finite and >= 0";
    return NULL;
}

void pk_binning_free(pk_binning *b)
{
    if (!b)
        return;
    free(b->cuts);
    free(b->level_bin);
    free(b->n_good);
    free(b->n_bad);
    free(b->woe);
    free(b->woe_se);
    free(b);
}

size_t pk_binning_index(const pk_binning *b, double x)
{
    if (b->level_bin)
        return x >= 0 && x < (double)b->nlevels && x == floor(x) ? b->level_bin[(size_t)x] : b->other_bin;
    size_t lo = 0, hi = b->nbins - 1; /* first bin whose upper cut >= x */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (x <= b->cuts[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static double seg_ll(double g, double b)
{
    double t = g + b, v = 0;
    if (g > 0)
        v += g * log(g / t);
    if (b > 0)
        v += b * log(b / t);
    return v;
}

/* candidates: positions pos[c] = number of sorted rows with x <= cut[c]; prefix
 * goods/bads at those positions are cg[c], cb[c]. A bin is a range of
 * candidate indices; boundaries are candidate indices (or the ends). */
int pk_binning_fit(const double *x, const double *y, size_t n, const pk_bin_params *params, pk_binning **out,
                   pk_err *err)
{
    *out = NULL;
    pk_bin_params P = params ? *params : pk_bin_params_default();
    const char *msg = pk_bin_params_check(&P);
    if (msg)
        return pk_err_set(err, PK_EINVAL, "%s", msg);
    if (n < 2)
        return pk_err_set(err, PK_EINVAL, "need at least 2 rows, got %zu", n);
    double G = 0, B = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return pk_err_set(err, PK_EDOM, "x[%zu] = %g is not finite (impute missing values first)", i, x[i]);
        if (!(y[i] == 0 || y[i] == 1))
            return pk_err_set(err, PK_EDOM, "y[%zu] = %g is not a 0/1 label", i, y[i]);
        B += y[i];
    }
    G = (double)n - B;
    if (G == 0 || B == 0)
        return pk_err_set(err, PK_EDOM, "the target has a single class (%g goods, %g bads)", G, B);
    size_t *idx;
    if (pk_metrics_argsort(x, n, &idx))
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    size_t nc = 0, cap = P.prebins + 2;
    double *cut = malloc(cap * sizeof *cut), *cg = malloc(cap * sizeof *cg), *cb = malloc(cap * sizeof *cb);
    size_t *pos = malloc(cap * sizeof *pos), *bounds = malloc((P.max_bins + 1) * sizeof *bounds);
    pk_binning *res = calloc(1, sizeof *res);
    int st = PK_OK;
    if (!cut || !cg || !cb || !pos || !bounds || !res) {
        st = pk_err_set(err, PK_ENOMEM, "out of memory");
        goto fail;
    }
    /* candidate cut values at quantiles; a cut sits at the last row of a tie run */
    {
        double g = 0, b = 0;
        size_t k = 0;
        for (size_t q = 1; q < P.prebins; q++) {
            size_t at = q * n / P.prebins; /* rows [0, at) left of the cut, moved to the end of ties */
            if (at == 0)
                continue;
            double v = x[idx[at - 1]];
            while (at < n && x[idx[at]] == v)
                at++;
            if (at >= n || (nc && pos[nc - 1] >= at))
                continue;
            for (; k < at; k++) {
                g += 1 - y[idx[k]];
                b += y[idx[k]];
            }
            cut[nc] = v;
            pos[nc] = at;
            cg[nc] = g;
            cb[nc] = b;
            nc++;
        }
    }
    /* the two ends as pseudo-candidates: index -1 -> position 0, index nc -> n */
    size_t nb = 1, minrows = (size_t)ceil(P.min_frac * (double)n);
    /* bounds hold candidate boundaries in "shifted" form: 0 = start, c + 1 = after cut c, nc + 1 = end */
    bounds[0] = 0;
    bounds[1] = nc + 1;
#define POS(t) ((t) == 0 ? 0 : (t) == nc + 1 ? n : pos[(t) - 1])
#define CG(t) ((t) == 0 ? 0.0 : (t) == nc + 1 ? G : cg[(t) - 1])
#define CB(t) ((t) == 0 ? 0.0 : (t) == nc + 1 ? B : cb[(t) - 1])
    while (nb < P.max_bins) {
        double best = 0;
        size_t bseg = 0, bcut = 0;
        for (size_t s = 0; s < nb; s++) {
            size_t lo = bounds[s], hi = bounds[s + 1];
            double g = CG(hi) - CG(lo), b = CB(hi) - CB(lo), base = seg_ll(g, b);
            for (size_t t = lo + 1; t < hi; t++) {
                if (POS(t) - POS(lo) < minrows || POS(hi) - POS(t) < minrows)
                    continue;
                double gl = CG(t) - CG(lo), bl = CB(t) - CB(lo);
                double gain = seg_ll(gl, bl) + seg_ll(g - gl, b - bl) - base;
                if (gain > best) {
                    best = gain;
                    bseg = s;
                    bcut = t;
                }
            }
        }
        /* stop when the best split is not significant (likelihood-ratio chi^2_1 at 5%) */
        if (2 * best < 3.841)
            break;
        memmove(bounds + bseg + 2, bounds + bseg + 1, (nb - bseg) * sizeof *bounds);
        bounds[bseg + 1] = bcut;
        nb++;
    }
    /* monotone WoE: merge the first adjacent pair that breaks the overall trend */
    while (P.monotone && nb > 2) {
        double wf = log((CG(bounds[1]) + 0.5) / G) - log((CB(bounds[1]) + 0.5) / B);
        double wl = log((CG(bounds[nb]) - CG(bounds[nb - 1]) + 0.5) / G) -
                    log((CB(bounds[nb]) - CB(bounds[nb - 1]) + 0.5) / B);
        double sgn = wl >= wf ? 1 : -1;
        size_t viol = nb;
        double prev = 0;
        for (size_t s = 0; s < nb; s++) {
            double g = CG(bounds[s + 1]) - CG(bounds[s]), b = CB(bounds[s + 1]) - CB(bounds[s]);
            double w = log((g + 0.5) / G) - log((b + 0.5) / B);
            if (s && sgn * (w - prev) < 0) {
                viol = s;
                break;
            }
            prev = w;
        }
        if (viol == nb)
            break;
        memmove(bounds + viol, bounds + viol + 1, (nb - viol) * sizeof *bounds);
        nb--;
    }
    res->nbins = nb;
    res->cuts = malloc(nb * sizeof *res->cuts);
    res->n_good = malloc(nb * sizeof *res->n_good);
    res->n_bad = malloc(nb * sizeof *res->n_bad);
    res->woe = malloc(nb * sizeof *res->woe);
    res->woe_se = malloc(nb * sizeof *res->woe_se);
    if (!res->cuts || !res->n_good || !res->n_bad || !res->woe || !res->woe_se) {
        st = pk_err_set(err, PK_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t s = 0; s < nb; s++) {
        res->cuts[s] = s + 1 < nb ? cut[bounds[s + 1] - 1] : INFINITY;
        res->n_good[s] = CG(bounds[s + 1]) - CG(bounds[s]);
        res->n_bad[s] = CB(bounds[s + 1]) - CB(bounds[s]);
    }
#undef POS
#undef CG
#undef CB
    if (nb < 2) {
        /* no significant split: one bin, IV 0 */
        res->woe[0] = 0;
        res->woe_se[0] = 0;
        memset(&res->div, 0, sizeof res->div);
        res->div.k = 1;
    } else if ((st = pk_divergence_counts(res->n_good, res->n_bad, nb, P.smooth, &res->div, res->woe, res->woe_se,
                                          err))) {
        goto fail;
    }
    free(idx);
    free(cut);
    free(cg);
    free(cb);
    free(pos);
    free(bounds);
    *out = res;
    return PK_OK;
fail:
    free(idx);
    free(cut);
    free(cg);
    free(cb);
    free(pos);
    free(bounds);
    pk_binning_free(res);
    return st;
}

int pk_binning_fit_categorical(const double *codes, size_t nlevels, const double *y, size_t n,
                               const pk_bin_params *params, pk_binning **out, pk_err *err)
{
    *out = NULL;
    if (nlevels < 1)
        return pk_err_set(err, PK_EINVAL, "a categorical feature needs at least one level");
    double *g = calloc(nlevels, sizeof *g), *b = calloc(nlevels, sizeof *b), *key = malloc(nlevels * sizeof *key);
    double *rank = malloc((n ? n : 1) * sizeof *rank);
    size_t *order = NULL, *pos = malloc(nlevels * sizeof *pos);
    int st = PK_OK;
    if (!g || !b || !key || !rank || !pos) {
        st = pk_err_set(err, PK_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(codes[i] >= 0 && codes[i] < (double)nlevels && codes[i] == floor(codes[i]))) {
            st = pk_err_set(err, PK_EDOM, "row %zu: level code %g is not an integer in [0, %zu)", i, codes[i],
                            nlevels);
            goto done;
        }
        if (!(y[i] == 0 || y[i] == 1)) {
            st = pk_err_set(err, PK_EDOM, "y[%zu] = %g is not a 0/1 label", i, y[i]);
            goto done;
        }
        size_t l = (size_t)codes[i];
        g[l] += 1 - y[i];
        b[l] += y[i];
    }
    /* smoothed bad rate orders the levels; absent levels sort last and are remapped below */
    for (size_t l = 0; l < nlevels; l++)
        key[l] = g[l] + b[l] > 0 ? (b[l] + 0.5) / (g[l] + b[l] + 1) : INFINITY;
    if (pk_metrics_argsort(key, nlevels, &order)) {
        st = pk_err_set(err, PK_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t r = 0; r < nlevels; r++)
        pos[order[r]] = r;
    for (size_t i = 0; i < n; i++)
        rank[i] = (double)pos[(size_t)codes[i]];
    pk_bin_params P = params ? *params : pk_bin_params_default();
    P.prebins = 1000; /* every boundary between levels is a candidate */
    pk_binning *res = NULL;
    if ((st = pk_binning_fit(rank, y, n, &P, &res, err)))
        goto done;
    res->level_bin = malloc(nlevels * sizeof *res->level_bin);
    if (!res->level_bin) {
        pk_binning_free(res);
        st = pk_err_set(err, PK_ENOMEM, "out of memory");
        goto done;
    }
    res->nlevels = nlevels;
    res->other_bin = 0;
    for (size_t k = 1; k < res->nbins; k++)
        if (res->n_good[k] + res->n_bad[k] > res->n_good[res->other_bin] + res->n_bad[res->other_bin])
            res->other_bin = k;
    for (size_t l = 0; l < nlevels; l++) {
        size_t k = 0;
        while (k + 1 < res->nbins && (double)pos[l] > res->cuts[k])
            k++;
        res->level_bin[l] = g[l] + b[l] > 0 ? k : res->other_bin;
    }
    *out = res;
done:
    free(g);
    free(b);
    free(key);
    free(rank);
    free(order);
    free(pos);
    return st;
}

int pk_binning_divergence(const pk_binning *b, const double *x, const double *z, size_t n, double smooth,
                          pk_divergence *out, pk_err *err)
{
    if (b->nbins < 2)
        return pk_err_set(err, PK_EINVAL, "a single bin carries no information");
    double *c0 = calloc(b->nbins, sizeof *c0), *c1 = calloc(b->nbins, sizeof *c1);
    if (!c0 || !c1) {
        free(c0);
        free(c1);
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    }
    int st = PK_OK;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !(z[i] == 0 || z[i] == 1)) {
            st = pk_err_set(err, PK_EDOM, "row %zu: x = %g, group = %g (need finite x and a 0/1 group)", i, x[i],
                            z[i]);
            break;
        }
        size_t k = pk_binning_index(b, x[i]);
        if (z[i] == 1)
            c1[k]++;
        else
            c0[k]++;
    }
    if (!st)
        st = pk_divergence_counts(c0, c1, b->nbins, smooth, out, NULL, NULL, err);
    free(c0);
    free(c1);
    return st;
}

int pk_stump_boost(const uint16_t *codes, const size_t *nbins, size_t n, size_t nf, const double *y, size_t rounds,
                   double lr, const uint16_t *test_codes, size_t ntest, double *score, double *test_score,
                   pk_err *err)
{
    if (n == 0 || nf == 0)
        return pk_err_set(err, PK_EINVAL, "no rows or no features");
    if (!(lr > 0 && lr <= 1))
        return pk_err_set(err, PK_EINVAL, "learning rate %g must be in (0, 1]", lr);
    size_t maxb = 0;
    double ybar = 0;
    for (size_t j = 0; j < nf; j++)
        maxb = nbins[j] > maxb ? nbins[j] : maxb;
    for (size_t i = 0; i < n; i++) {
        if (!(y[i] == 0 || y[i] == 1))
            return pk_err_set(err, PK_EDOM, "y[%zu] = %g is not a 0/1 label", i, y[i]);
        ybar += y[i];
        for (size_t j = 0; j < nf; j++)
            if (codes[i * nf + j] >= nbins[j])
                return pk_err_set(err, PK_EINVAL, "row %zu feature %zu: bin %u out of range", i, j,
                                  (unsigned)codes[i * nf + j]);
    }
    ybar /= (double)n;
    if (ybar == 0 || ybar == 1)
        return pk_err_set(err, PK_EDOM, "the target has a single class");
    double *Gs = malloc(maxb * sizeof *Gs), *Hs = malloc(maxb * sizeof *Hs), *pr = malloc(n * sizeof *pr);
    if (!Gs || !Hs || !pr) {
        free(Gs);
        free(Hs);
        free(pr);
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    }
    const double lambda = 1.0, f0 = log(ybar / (1 - ybar));
    for (size_t i = 0; i < n; i++)
        score[i] = f0;
    for (size_t i = 0; i < ntest; i++)
        test_score[i] = f0;
    for (size_t r = 0; r < rounds; r++) {
        double best = 0, wl = 0, wr = 0;
        size_t bj = 0, bt = 0;
        for (size_t i = 0; i < n; i++)
            pr[i] = pk_metrics_sigmoid(score[i]);
        for (size_t j = 0; j < nf; j++) {
            memset(Gs, 0, nbins[j] * sizeof *Gs);
            memset(Hs, 0, nbins[j] * sizeof *Hs);
            for (size_t i = 0; i < n; i++) {
                Gs[codes[i * nf + j]] += y[i] - pr[i];
                Hs[codes[i * nf + j]] += pr[i] * (1 - pr[i]);
            }
            double GT = 0, HT = 0;
            for (size_t b = 0; b < nbins[j]; b++) {
                GT += Gs[b];
                HT += Hs[b];
            }
            double GL = 0, HL = 0;
            for (size_t t = 0; t + 1 < nbins[j]; t++) {
                GL += Gs[t];
                HL += Hs[t];
                double GR = GT - GL, HR = HT - HL;
                double gain = GL * GL / (HL + lambda) + GR * GR / (HR + lambda) - GT * GT / (HT + lambda);
                if (gain > best) {
                    best = gain;
                    bj = j;
                    bt = t;
                    wl = GL / (HL + lambda);
                    wr = GR / (HR + lambda);
                }
            }
        }
        if (best <= 0)
            break;
        for (size_t i = 0; i < n; i++)
            score[i] += lr * (codes[i * nf + bj] <= bt ? wl : wr);
        for (size_t i = 0; i < ntest; i++)
            test_score[i] += lr * (test_codes[i * nf + bj] <= bt ? wl : wr);
    }
    free(Gs);
    free(Hs);
    free(pr);
    return PK_OK;
}
