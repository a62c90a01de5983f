/* credit — "An Information-Theoretic Framework for Credit Risk Modeling":
 * IV = PSI, delta-method coverage and test size, three encodings' AUCs and
 * the fairness frontier on the simulator (20,000 rows, 7 features). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/io.h"
#include "probkit/metrics.h"
#include "probkit/plot.h"
#include "probkit/scorecard.h"
#include "repro.h"

enum { NF = 7 };

typedef struct data {
    size_t n;
    double *X, *y, *a;
} data;

static int coverage_and_size(pk_repro_ctx *ctx, pk_rng *r, size_t sims)
{
    const double p[] = {0.1, 0.25, 0.3, 0.2, 0.15}, q[] = {0.2, 0.3, 0.25, 0.15, 0.1};
    double J = 0;
    for (int i = 0; i < 5; i++)
        J += (p[i] - q[i]) * log(p[i] / q[i]);
    size_t cover = 0, rej = 0;
    for (size_t s = 0; s < sims; s++) {
        uint64_t cg[5], cb[5];
        pk_rng_multinomial(r, 17000, p, 5, cg);
        pk_rng_multinomial(r, 3000, q, 5, cb);
        double g[5], b[5], pv;
        for (int i = 0; i < 5; i++) {
            g[i] = (double)cg[i];
            b[i] = (double)cb[i];
        }
        pk_divergence d;
        pk_divergence_counts(g, b, 5, 0.5, &d, NULL, NULL, NULL);
        cover += fabs(d.jeffreys - J) <= 1.959964 * d.jeffreys_se;
        pk_divergence_ztest(&d, J, &pv);
        rej += pv < 0.05;
    }
    char scale[96];
    snprintf(scale, sizeof scale, "%zu simulations, 17000 goods / 3000 bads, 5 bins, IV = %.4f", sims, J);
    double cov = (double)cover / (double)sims, size = (double)rej / (double)sims;
    pk_repro_row(ctx, "95% CI coverage of IV (delta method)", cov, 0.95, NAN, NULL, scale,
                 cov >= 0.93 && cov <= 0.97 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    pk_repro_row(ctx, "one-sided Z-test size at alpha 0.05 (H0: IV = true IV)", size, 0.05, NAN, NULL, scale,
                 pk_verdict_le(size, 0.07));
    return PK_OK;
}

static double auc_of(const double *s, const double *y, size_t n)
{
    double a = NAN;
    pk_roc_auc(s, y, n, &a, NULL);
    return a;
}

/* bins of table column c (text columns arrive as level codes) */
static int fit_col(const pk_table *t, int c, const double *x, const double *y, size_t n, pk_binning **b)
{
    return t->categorical[c] ? pk_binning_fit_categorical(x, t->nlevels[c], y, n, NULL, b, NULL)
                             : pk_binning_fit(x, y, n, NULL, b, NULL);
}

/* Every feature binned on all rows: IV with SE, fairness IV against `female`, and the
 * exact frontier over all 2^p feature subsets. */
static int german_iv(pk_repro_ctx *ctx, const pk_table *t, const int *cols, size_t nf, const double *y, int cf)
{
    size_t n = t->nrows;
    double *x = malloc(n * sizeof *x), *g = malloc(n * sizeof *g), *iv = calloc(nf, sizeof *iv),
           *fiv = calloc(nf, sizeof *fiv), *fse = calloc(nf, sizeof *fse), *ivse = calloc(nf, sizeof *ivse);
    size_t *nb = calloc(nf, sizeof *nb), *ord = NULL;
    int st = PK_OK;
    if (!x || !g || !iv || !fiv || !fse || !ivse || !nb) {
        st = PK_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        g[i] = cf >= 0 ? t->values[i * t->ncols + (size_t)cf] : 0;
    for (size_t j = 0; j < nf && !st; j++) {
        pk_binning *b = NULL;
        for (size_t i = 0; i < n; i++)
            x[i] = t->values[i * t->ncols + (size_t)cols[j]];
        if ((st = fit_col(t, cols[j], x, y, n, &b)))
            break;
        nb[j] = b->nbins;
        if (b->nbins > 1) {
            pk_divergence fd;
            iv[j] = b->div.jeffreys;
            ivse[j] = b->div.jeffreys_se;
            if (cf >= 0 && pk_binning_divergence(b, x, g, n, 0.5, &fd, NULL) == PK_OK) {
                fiv[j] = fd.jeffreys;
                fse[j] = fd.jeffreys_se;
            }
        }
        pk_binning_free(b);
    }
    if (st || !(ord = malloc(nf * sizeof *ord))) {
        st = st ? st : PK_ENOMEM;
        goto out;
    }
    for (size_t r = 0; r < nf; r++) { /* insertion sort, largest IV first */
        size_t q = r;
        while (q > 0 && iv[ord[q - 1]] < iv[r]) {
            ord[q] = ord[q - 1];
            q--;
        }
        ord[q] = r;
    }
    for (size_t r = 0; r < nf && r < 6; r++) {
        size_t j = ord[r];
        char m[128];
        snprintf(m, sizeof m, "German Credit: IV of %s (%zu bins; SE %.3f; IV vs female %.3f)", t->names[cols[j]],
                 nb[j], ivse[j], fiv[j]);
        pk_repro_row(ctx, m, iv[j], NAN, NAN, NULL, "all 1000 rows", PK_VERDICT_INFO);
    }
    if (cf >= 0 && nf <= 20) {
        double eps[12], val[12], prev = -1;
        int mono = 1;
        for (int k = 0; k < 12; k++) {
            uint32_t mask;
            eps[k] = k == 0 ? 0 : 0.01 * pow(2, k - 1);
            pk_fair_select(iv, fiv, fse, nf, 1.645, eps[k], &mask, &val[k], NULL);
            mono &= val[k] >= prev;
            prev = val[k];
            pk_repro_log(ctx, "German Credit frontier: eps %.3f -> total IV %.3f (mask 0x%x)", eps[k], val[k], mask);
        }
        pk_repro_row(ctx, "German Credit: frontier monotone in eps (1 = yes)", mono, 1, NAN, NULL,
                     "protected = female, 12 eps values, z = 1.645", mono ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
        pk_repro_row(ctx, "German Credit: max total IV with fairness IV + 1.645 SE <= 0.04", val[3], NAN, NAN, NULL,
                     "exact search over 2^20 feature subsets", PK_VERDICT_INFO);
        pk_plot *pl = pk_plot_new("German Credit: performance-fairness frontier (protected: female)",
                                  "eps (bound on fairness IV + 1.645 SE)", "max total IV of the selected features");
        if (pl) {
            pk_plot_line(pl, "frontier", eps + 1, val + 1, 11);
            pk_plot_scatter(pl, NULL, eps + 1, val + 1, 11);
            pk_repro_plot(ctx, "german_frontier", pl);
            pk_plot_free(pl);
        }
    }
out:
    free(x);
    free(g);
    free(iv);
    free(fiv);
    free(fse);
    free(ivse);
    free(nb);
    free(ord);
    return st;
}

/* The three encodings' test AUCs on a table with a 0/1 `default` column, by
 * 5-fold cross-validation (bins, WoE and models fitted on the training folds). */
static int german(pk_repro_ctx *ctx, pk_rng *r)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/credit/german_credit.csv", pk_repro_data_dir(ctx));
    pk_table *t = NULL;
    pk_csv_opts o = pk_csv_opts_default();
    if (pk_csv_read(path, &o, &t, NULL)) {
        pk_repro_row(ctx, "German Credit: AUCs of the three encodings", NAN, NAN, NAN, NULL,
                     "data missing: run scripts/fetch_german_credit.sh (needs r-cran-caret)", PK_VERDICT_SKIP);
        return PK_OK;
    }
    int cy = pk_table_find(t, "default"), cf = pk_table_find(t, "female");
    size_t n = t->nrows, nf = 0, K = 5;
    int *cols = malloc(t->ncols * sizeof *cols);
    size_t *perm = malloc(n * sizeof *perm), *fold = malloc(n * sizeof *fold);
    double *y = malloc(n * sizeof *y), *x = malloc(n * sizeof *x), *ty = malloc(n * sizeof *ty);
    double *sw = malloc(n * sizeof *sw), *so = malloc(n * sizeof *so), *sb = malloc(n * sizeof *sb);
    int st = PK_OK;
    if (cy < 0 || !cols || !perm || !fold || !y || !x || !ty || !sw || !so || !sb) {
        st = cy < 0 ? PK_EFORMAT : PK_ENOMEM;
        goto out;
    }
    for (size_t c = 0; c < t->ncols; c++)
        if ((int)c != cy && (int)c != cf)
            cols[nf++] = (int)c;
    for (size_t i = 0; i < n; i++)
        y[i] = t->values[i * t->ncols + (size_t)cy];
    pk_rng_permutation(r, perm, n);
    for (size_t k = 0; k < n; k++)
        fold[perm[k]] = k % K;
    for (size_t f = 0; f < K && !st; f++) {
        size_t ntr = 0, nte = 0;
        size_t *tri = malloc(n * sizeof *tri), *tei = malloc(n * sizeof *tei), *nb = malloc(nf * sizeof *nb);
        pk_binning **bins = calloc(nf, sizeof *bins);
        uint16_t *codes = malloc(n * nf * sizeof *codes);
        size_t ncol = 1;
        double *Xw = NULL, *Xo = NULL, *w = NULL, *trs = NULL, *tes = NULL;
        if (!tri || !tei || !nb || !bins || !codes) {
            st = PK_ENOMEM;
            goto fold_done;
        }
        for (size_t i = 0; i < n; i++) {
            if (fold[i] == f)
                tei[nte++] = i;
            else
                tri[ntr++] = i;
        }
        for (size_t i = 0; i < ntr; i++)
            ty[i] = y[tri[i]];
        for (size_t j = 0; j < nf; j++) {
            for (size_t i = 0; i < ntr; i++)
                x[i] = t->values[tri[i] * t->ncols + (size_t)cols[j]];
            if ((st = fit_col(t, cols[j], x, ty, ntr, &bins[j])))
                goto fold_done;
            nb[j] = bins[j]->nbins;
            ncol += nb[j] - 1;
            /* rows in train order, then test order */
            for (size_t i = 0; i < n; i++) {
                size_t row = i < ntr ? tri[i] : tei[i - ntr];
                codes[i * nf + j] = (uint16_t)pk_binning_index(bins[j], t->values[row * t->ncols + (size_t)cols[j]]);
            }
        }
        Xw = malloc(n * (nf + 1) * sizeof *Xw);
        Xo = calloc(n * ncol, sizeof *Xo);
        w = malloc((ncol > nf + 1 ? ncol : nf + 1) * sizeof *w);
        trs = malloc(ntr * sizeof *trs);
        tes = malloc(nte * sizeof *tes);
        if (!Xw || !Xo || !w || !trs || !tes) {
            st = PK_ENOMEM;
            goto fold_done;
        }
        for (size_t i = 0; i < n; i++) {
            size_t c = 0;
            for (size_t j = 0; j < nf; j++) {
                uint16_t b = codes[i * nf + j];
                Xw[i * (nf + 1) + j] = nb[j] > 1 ? bins[j]->woe[b] : 0;
                if (b > 0)
                    Xo[i * ncol + c + b - 1] = 1;
                c += nb[j] - 1;
            }
            Xw[i * (nf + 1) + nf] = 1;
            Xo[i * ncol + ncol - 1] = 1;
        }
        /* a small ridge: dummy-coded categories make WoE and one-hot columns collinear */
        if ((st = pk_logistic_fit(Xw, ty, ntr, nf + 1, 1e-2, w, NULL)))
            goto fold_done;
        for (size_t i = 0; i < nte; i++) {
            double s = 0;
            for (size_t j = 0; j <= nf; j++)
                s += w[j] * Xw[(ntr + i) * (nf + 1) + j];
            sw[tei[i]] = s;
        }
        if ((st = pk_logistic_fit(Xo, ty, ntr, ncol, 1e-2, w, NULL)))
            goto fold_done;
        for (size_t i = 0; i < nte; i++) {
            double s = 0;
            for (size_t c = 0; c < ncol; c++)
                s += w[c] * Xo[(ntr + i) * ncol + c];
            so[tei[i]] = s;
        }
        if ((st = pk_stump_boost(codes, nb, ntr, nf, ty, 300, 0.1, codes + ntr * nf, nte, trs, tes, NULL)))
            goto fold_done;
        for (size_t i = 0; i < nte; i++)
            sb[tei[i]] = tes[i];
    fold_done:
        for (size_t j = 0; bins && j < nf; j++)
            pk_binning_free(bins[j]);
        free(bins);
        free(tri);
        free(tei);
        free(nb);
        free(codes);
        free(Xw);
        free(Xo);
        free(w);
        free(trs);
        free(tes);
    }
    if (!st) {
        double a[3];
        pk_roc_auc(so, y, n, &a[0], NULL);
        pk_roc_auc(sw, y, n, &a[1], NULL);
        pk_roc_auc(sb, y, n, &a[2], NULL);
        char scale[96];
        snprintf(scale, sizeof scale, "German Credit, %zu rows x %zu features, 5-fold CV", n, nf);
        pk_repro_row(ctx, "German Credit: AUC, LR one-hot bins", a[0], NAN, NAN, NULL, scale, PK_VERDICT_INFO);
        pk_repro_row(ctx, "German Credit: AUC, LR on WoE", a[1], NAN, NAN, NULL, scale, PK_VERDICT_INFO);
        pk_repro_row(ctx, "German Credit: AUC, boosted stumps", a[2], NAN, NAN, NULL, scale, PK_VERDICT_INFO);
        double spread = fmax(fmax(a[0], a[1]), a[2]) - fmin(fmin(a[0], a[1]), a[2]);
        pk_repro_row(ctx, "German Credit: AUC spread across encodings", spread, 0.017, NAN, NULL, scale,
                     pk_verdict_le(spread, 0.02));
        st = german_iv(ctx, t, cols, nf, y, cf);
    }
out:
    free(cols);
    free(perm);
    free(fold);
    free(y);
    free(x);
    free(ty);
    free(sw);
    free(so);
    free(sb);
    pk_table_free(t);
    return st;
}

/* bins fitted on the first ntr rows; codes[NF*i + j] = bin of feature j for every row */
static int bin_all(const data *d, size_t ntr, double *col, pk_binning **bins, uint16_t *codes)
{
    for (int j = 0; j < NF; j++) {
        for (size_t i = 0; i < ntr; i++)
            col[i] = d->X[NF * i + j];
        int st = pk_binning_fit(col, d->y, ntr, NULL, &bins[j], NULL);
        if (st)
            return st;
        for (size_t i = 0; i < d->n; i++)
            codes[NF * i + j] = (uint16_t)pk_binning_index(bins[j], d->X[NF * i + j]);
    }
    return PK_OK;
}

/* test AUCs (rows ntr..n) of LR one-hot, LR on WoE and boosted stumps, all on the same bins */
static int encodings(const data *d, size_t ntr, pk_binning *const *bins, const uint16_t *codes, size_t rounds,
                     double auc[3])
{
    size_t n = d->n, nte = n - ntr, ncols = 1, nb[NF];
    for (int j = 0; j < NF; j++) {
        nb[j] = bins[j]->nbins;
        ncols += nb[j] - 1;
    }
    double *Xw = malloc((NF + 1) * n * sizeof *Xw), *Xo = calloc(ncols * n, sizeof *Xo);
    double *w = malloc((ncols > NF + 1 ? ncols : NF + 1) * sizeof *w), *sc = malloc(n * sizeof *sc);
    int st = PK_OK;
    if (!Xw || !Xo || !w || !sc) {
        st = PK_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t c = 0;
        for (int j = 0; j < NF; j++) {
            uint16_t b = codes[NF * i + j];
            Xw[(NF + 1) * i + j] = bins[j]->woe[b];
            if (b > 0) /* first bin of each feature dropped */
                Xo[ncols * i + c + b - 1] = 1;
            c += bins[j]->nbins - 1;
        }
        Xw[(NF + 1) * i + NF] = 1;
        Xo[ncols * i + ncols - 1] = 1;
    }
    if ((st = pk_logistic_fit(Xo, d->y, ntr, ncols, 1e-6, w, NULL)))
        goto out;
    for (size_t i = 0; i < nte; i++) {
        sc[i] = 0;
        for (size_t c = 0; c < ncols; c++)
            sc[i] += w[c] * Xo[ncols * (ntr + i) + c];
    }
    auc[0] = auc_of(sc, d->y + ntr, nte);
    if ((st = pk_logistic_fit(Xw, d->y, ntr, NF + 1, 1e-6, w, NULL)))
        goto out;
    for (size_t i = 0; i < nte; i++) {
        sc[i] = 0;
        for (int j = 0; j <= NF; j++)
            sc[i] += w[j] * Xw[(NF + 1) * (ntr + i) + j];
    }
    auc[1] = auc_of(sc, d->y + ntr, nte);
    /* the training scores land in Xo's storage, no longer needed */
    if ((st = pk_stump_boost(codes, nb, ntr, NF, d->y, rounds, 0.1, codes + NF * ntr, nte, Xo, sc,
                             NULL)))
        goto out;
    auc[2] = auc_of(sc, d->y + ntr, nte);
out:
    free(Xw);
    free(Xo);
    free(w);
    free(sc);
    return st;
}

static int run(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    pk_rng r;
    pk_rng_seed(&r, pk_repro_seed(ctx));
    const size_t n = 20000, ntr = 14000, nte = n - ntr, reps = quick ? 5 : 20, rounds = quick ? 300 : 1000;
    data d = {n, malloc(NF * n * sizeof(double)), malloc(n * sizeof(double)), malloc(n * sizeof(double))};
    double *col = malloc(n * sizeof *col);
    uint16_t *codes = malloc(NF * n * sizeof *codes);
    pk_binning *bins[NF] = {0};
    double iv[NF], fiv[NF], fse[NF], auc[3], sum[3] = {0}, sum2[3] = {0};
    int st = PK_OK;
    if (!d.X || !d.y || !d.a || !col || !codes) {
        st = PK_ENOMEM;
        goto done;
    }
    for (size_t rep = 0; rep < reps; rep++) {
        pk_credit_simulate(&r, n, d.X, d.y, d.a);
        for (int j = 0; j < NF; j++) {
            pk_binning_free(bins[j]);
            bins[j] = NULL;
        }
        if ((st = bin_all(&d, ntr, col, bins, codes)) || (st = encodings(&d, ntr, bins, codes, rounds, auc)))
            goto done;
        pk_repro_log(ctx, "simulated data set %zu: test AUC one-hot %.4f, WoE %.4f, stumps %.4f", rep + 1, auc[0],
                     auc[1], auc[2]);
        for (int m = 0; m < 3; m++) {
            sum[m] += auc[m];
            sum2[m] += auc[m] * auc[m];
        }
        if (rep > 0)
            continue;
        /* the first data set: IV with SE, IV = PSI from scratch, fairness IV, frontier */
        double dr = 0, pr = 0, maxdiff = 0;
        for (size_t i = 0; i < n; i++) {
            dr += d.y[i];
            pr += d.a[i];
        }
        pk_repro_note(ctx, "Simulator (ours, built to the paper's description): %zu applicants, %d features, default "
                           "rate %.3f, protected share %.3f; train %zu / test %zu; %zu simulated data sets.",
                      n, NF, dr / n, pr / n, ntr, nte, reps);
        for (int j = 0; j < NF; j++) {
            const pk_binning *b = bins[j];
            double G = 0, B = 0, psi = 0, s0 = b->div.smoothed ? 0.5 : 0;
            iv[j] = b->nbins > 1 ? b->div.jeffreys : 0;
            for (size_t k = 0; k < b->nbins; k++) {
                G += b->n_good[k] + s0;
                B += b->n_bad[k] + s0;
            }
            for (size_t k = 0; k < b->nbins && b->nbins > 1; k++) {
                double P_ = (b->n_good[k] + s0) / G, Q_ = (b->n_bad[k] + s0) / B;
                psi += (P_ - Q_) * log(P_ / Q_);
            }
            maxdiff = fmax(maxdiff, fabs(psi - iv[j]));
            for (size_t i = 0; i < ntr; i++)
                col[i] = d.X[NF * i + j];
            pk_divergence fd;
            fiv[j] = fse[j] = 0;
            if (b->nbins > 1 && pk_binning_divergence(b, col, d.a, ntr, 0.5, &fd, NULL) == PK_OK) {
                fiv[j] = fd.jeffreys;
                fse[j] = fd.jeffreys_se;
            }
            char m[112];
            snprintf(m, sizeof m, "IV of %s (%zu bins, SE %.4f; fairness IV %.4f +- %.4f)",
                     pk_credit_feature_names[j], b->nbins, b->nbins > 1 ? b->div.jeffreys_se : 0.0, fiv[j], fse[j]);
            pk_repro_row(ctx, m, iv[j], NAN, NAN, NULL, "train 14000 rows", PK_VERDICT_INFO);
        }
        pk_repro_row(ctx, "max |IV - PSI(good, bad)| over features", maxdiff, 1e-12, NAN, NULL, "7 binned features",
                     pk_verdict_le(maxdiff, 1e-12));
        double eps[21], val[21], prev = -1;
        int mono = 1;
        for (int k = 0; k <= 20; k++) {
            uint32_t mask;
            eps[k] = 0.005 * k;
            pk_fair_select(iv, fiv, fse, NF, 1.645, eps[k], &mask, &val[k], NULL);
            mono &= val[k] >= prev;
            prev = val[k];
        }
        pk_repro_row(ctx, "frontier monotone in eps (1 = yes)", mono, 1, NAN, NULL, "21 eps values, z = 1.645",
                     mono ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
        pk_plot *pl = pk_plot_new("Performance-fairness frontier (simulator)", "eps (bound on fairness IV + 1.645 SE)",
                                  "max total IV of the selected features");
        if (pl) {
            pk_plot_line(pl, "frontier", eps, val, 21);
            pk_plot_scatter(pl, NULL, eps, val, 21);
            pk_repro_plot(ctx, "sim_frontier", pl);
            pk_plot_free(pl);
        }
    }
    {
        const char *names[3] = {"test AUC, LR one-hot bins", "test AUC, LR on WoE", "test AUC, boosted stumps"};
        const double paper[3] = {0.839, 0.823, 0.840};
        double mean[3];
        char scale[112];
        for (int m = 0; m < 3; m++) {
            mean[m] = sum[m] / (double)reps;
            double sd = sqrt(fmax(0, sum2[m] / (double)reps - mean[m] * mean[m]) * (double)reps / (double)(reps - 1));
            snprintf(scale, sizeof scale, "mean of %zu simulated data sets (SD %.4f), test %zu rows each%s", reps, sd,
                     nte, m == 2 ? (quick ? ", 300 rounds" : ", 1000 rounds") : "");
            pk_repro_row(ctx, names[m], mean[m], paper[m], NAN, NULL, scale,
                         fabs(mean[m] - paper[m]) <= 0.02 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
        }
        double spread = fmax(fmax(mean[0], mean[1]), mean[2]) - fmin(fmin(mean[0], mean[1]), mean[2]);
        snprintf(scale, sizeof scale, "means of %zu simulated data sets", reps);
        pk_repro_row(ctx, "AUC spread across the three encodings", spread, 0.017, NAN, NULL, scale,
                     pk_verdict_le(spread, 0.02));
        pk_repro_note(ctx, "The paper (section 7.3) describes its simulated data only by size, rates and feature "
                           "names (mortgage amounts, account balances, past due amounts, utilization ratios, "
                           "delinquency history, recent inquiries, trade counts); its data repository is not "
                           "reachable here. Our simulator has exactly those seven features, with every distribution "
                           "and the additive default logit estimated from PiML's SimuCredit_v2 (same first author, "
                           "same 20,000 rows, features and 30/70 race split; tests/ref/metrics_simucredit.py); only "
                           "the intercept is reset to a 15%% default rate. No constant was set from the paper's "
                           "AUCs, so these AUCs are a measurement, not a calibration. The three encodings tie "
                           "(spread %.4f); in the paper LR-WoE trails by 0.016.",
                      spread);
    }
    coverage_and_size(ctx, &r, quick ? 2000 : 10000);
    if ((st = german(ctx, &r)))
        goto done;
    pk_repro_note(ctx, "The frontier is solved exactly by enumerating all 2^p feature subsets (the paper uses a "
                       "mixed-integer programme; with p <= 20 enumeration is exact and needs no solver). German "
                       "Credit (1,000 applicants, 300 bad) comes from Debian's r-cran-caret (GPL >= 2), exported by "
                       "scripts/fetch_german_credit.sh; caret's one-hot columns are folded back into the 13 "
                       "qualitative attributes, whose levels are binned in bad-rate order; the protected attribute "
                       "is female (Personal.Female.*), left out of the features.");
done:
    for (int j = 0; j < NF; j++)
        pk_binning_free(bins[j]);
    free(d.X);
    free(d.y);
    free(d.a);
    free(col);
    free(codes);
    return st;
}

const pk_repro pk_repro_credit = {"credit", PK_REPRO_PARTIAL,
                                  "IV = PSI, delta-method SEs, encodings' AUCs, fairness frontier (simulator)", run};
