/* probkit scorecard — WoE/IV scorecard with standard errors, fairness and drift. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "probkit/io.h"
#include "probkit/metrics.h"
#include "probkit/scorecard.h"

static const char *HELP =
    "usage: probkit scorecard DATA.csv --target COL [options]\n"
    "       probkit scorecard --simulate N --out FILE.csv [--seed S]\n\n"
    "Credit scorecard statistics (\"An Information-Theoretic Framework for Credit\n"
    "Risk Modeling\"): every feature is binned against the 0/1 target by recursive\n"
    "best-gain stumps (minimum bin share, monotone WoE; a text column's levels are\n"
    "first ordered by their bad rate, so its bins are groups of levels), then reported\n"
    "with its Information Value IV = PSI(good, bad) = Jeffreys divergence, the\n"
    "delta-method SE, a one-sided Z test of IV > --iv0, and Jensen-Shannon (bits).\n"
    "A logistic regression on the WoE features gives the model's AUC.\n\n"
    "options:\n"
    "  --target COL      0/1 outcome (1 = default / bad)\n"
    "  --protected COL   0/1 protected attribute: fairness IV per feature and the\n"
    "                    frontier max sum IV s.t. sum fairIV + z SE <= eps (eps = 0,\n"
    "                    then 10 values geometric from the smallest one-feature bound\n"
    "                    to the all-features bound)\n"
    "  --drift FILE      second sample (same columns): PSI per feature on the fitted\n"
    "                    bins with SE and a Z test of PSI > --psi0\n"
    "  --max-bins N      (default 6)   --min-frac F (default 0.05)\n"
    "  --iv0 X           null value of the IV test (default 0.02, 'not predictive')\n"
    "  --psi0 X          null value of the drift test (default 0.1)\n"
    "  --z X             z of the fairness constraint (default 1.645)\n"
    "  --bins            also print every feature's bins (cut, counts, WoE +- SE)\n"
    "  --simulate N      write N rows of the scorecard simulator to --out and exit\n"
    "  --seed N          seed for --simulate (default 42)\n"
    "  --json            machine-readable output\n";

typedef struct feat {
    int col;
    pk_binning *b;
    double fiv, fse;
    pk_divergence drift;
    int has_fair, has_drift;
} feat;

static int simulate(const char *cmd, long n, const char *out, uint64_t seed)
{
    pk_rng r;
    pk_rng_seed(&r, seed);
    double *X = malloc(7 * (size_t)n * sizeof *X), *y = malloc((size_t)n * sizeof *y),
           *a = malloc((size_t)n * sizeof *a), *T = malloc(9 * (size_t)n * sizeof *T);
    int rc = PK_EXIT_OK;
    if (!X || !y || !a || !T) {
        rc = pk_cli_fail(cmd, "out of memory");
    } else {
        pk_credit_simulate(&r, (size_t)n, X, y, a);
        for (long i = 0; i < n; i++) {
            memcpy(T + 9 * i, X + 7 * i, 7 * sizeof *T);
            T[9 * i + 7] = y[i];
            T[9 * i + 8] = a[i];
        }
        const char *names[9];
        for (int j = 0; j < 7; j++)
            names[j] = pk_credit_feature_names[j];
        names[7] = "default";
        names[8] = "protected";
        pk_err err;
        pk_err_clear(&err);
        int st = pk_csv_write(out, (size_t)n, 9, names, T, &err);
        if (st)
            rc = pk_cli_fail_status(cmd, st, &err);
        else
            fprintf(stderr, "wrote %ld simulated applicants to %s (seed %llu)\n", n, out, (unsigned long long)seed);
    }
    free(X);
    free(y);
    free(a);
    free(T);
    return rc;
}

static int get(const char *cmd, const char *file, const pk_table *t, int c, double *v)
{
    for (size_t i = 0; i < t->nrows; i++) {
        v[i] = t->values[i * t->ncols + (size_t)c];
        if (!isfinite(v[i]))
            return pk_cli_fail(cmd, "%s: column '%s', data row %zu: missing value (impute first)", file,
                               t->names[c], i + 1);
    }
    return 0;
}

static int binary(const char *cmd, const char *file, const pk_table *t, int c, double *v)
{
    int rc = get(cmd, file, t, c, v);
    if (rc)
        return rc;
    size_t ones = 0;
    for (size_t i = 0; i < t->nrows; i++) {
        if (!(v[i] == 0 || v[i] == 1))
            return pk_cli_fail(cmd, "%s: column '%s', data row %zu: %g is not 0/1", file, t->names[c], i + 1, v[i]);
        ones += v[i] == 1;
    }
    if (ones == 0 || ones == t->nrows)
        return pk_cli_fail(cmd, "%s: column '%s' has a single class (all %d)", file, t->names[c], ones ? 1 : 0);
    return 0;
}

/* the code of level `name` in column c of t, or nlevels (unseen) */
static double level_code(const pk_table *t, int c, const char *name)
{
    for (size_t l = 0; l < t->nlevels[c]; l++)
        if (!strcmp(t->levels[c][l], name))
            return (double)l;
    return (double)t->nlevels[c];
}

/* a JSON string: quotes, backslashes and control characters escaped */
static void json_str(const char *s)
{
    putchar('"');
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        if (*q == '"' || *q == '\\')
            printf("\\%c", *q);
        else if (*q < 0x20)
            printf("\\u%04x", *q);
        else
            putchar(*q);
    }
    putchar('"');
}

/* the levels of categorical column c that fall in bin k, comma-separated */
static void print_levels(const pk_table *t, int c, const pk_binning *b, size_t k, int json)
{
    int first = 1;
    for (size_t l = 0; l < t->nlevels[c]; l++)
        if (b->level_bin[l] == k) {
            printf("%s", first ? "" : ", ");
            first = 0;
            if (json)
                json_str(t->levels[c][l]);
            else
                printf("%s", t->levels[c][l]);
        }
}

static void jd(double v)
{
    if (isfinite(v))
        printf("%.17g", v);
    else
        printf("null");
}

static int cmd_main(int argc, char **argv)
{
    const char *cmd = "scorecard", *file = NULL, *tcol = NULL, *pcol = NULL, *dfile = NULL, *out = NULL;
    double iv0 = 0.02, psi0 = 0.1, z = 1.645;
    long sim = 0;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    int json = 0, show_bins = 0;
    pk_bin_params P = pk_bin_params_default();
    long max_bins = (long)P.max_bins;
    const pk_cli_opt opts[] = {
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {"--bins", PK_CLI_FLAG, &show_bins, 0, 0, NULL},
        {"--target", PK_CLI_STR, &tcol, 0, 0, NULL},
        {"--protected", PK_CLI_STR, &pcol, 0, 0, NULL},
        {"--drift", PK_CLI_STR, &dfile, 0, 0, NULL},
        {"--out", PK_CLI_STR, &out, 0, 0, NULL},
        {"--max-bins", PK_CLI_LONG, &max_bins, 2, 64, NULL},
        {"--min-frac", PK_CLI_DOUBLE, &P.min_frac, DBL_TRUE_MIN, 0.5, "a number in (0, 0.5]"},
        {"--iv0", PK_CLI_DOUBLE, &iv0, 0, HUGE_VAL, "a number >= 0"},
        {"--psi0", PK_CLI_DOUBLE, &psi0, 0, HUGE_VAL, "a number >= 0"},
        {"--z", PK_CLI_DOUBLE, &z, 0, HUGE_VAL, "a number >= 0"},
        {"--simulate", PK_CLI_LONG, &sim, 10, 100000000, "a row count in [10, 1e8]"},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(cmd, HELP, argc, argv, opts, &file, 1, NULL);
    if (prc >= 0)
        return prc;
    P.max_bins = (size_t)max_bins;
    if (sim) {
        if (!out)
            return pk_cli_usage(cmd, "--simulate needs --out FILE.csv");
        return simulate(cmd, sim, out, seed);
    }
    if (!file)
        return pk_cli_usage(cmd, "no input file");
    if (!tcol)
        return pk_cli_usage(cmd, "--target COL is required");
    pk_err err;
    pk_err_clear(&err);
    pk_csv_opts o = pk_csv_opts_default();
    pk_table *t = NULL, *t2 = NULL;
    int st = pk_csv_read(file, &o, &t, &err);
    if (st)
        return pk_cli_fail_status(cmd, st, &err);
    int rc = PK_EXIT_OK;
    size_t n = t->nrows, nf = 0;
    double *y = malloc((n ? n : 1) * sizeof *y), *g = malloc((n ? n : 1) * sizeof *g),
           *x = malloc((n ? n : 1) * sizeof *x);
    feat *F = calloc(t->ncols, sizeof *F);
    double *Xw = NULL, *w = NULL, *sc = NULL;
    int ct = pk_table_find(t, tcol), cpr = pcol ? pk_table_find(t, pcol) : -1;
    if (!y || !g || !x || !F) {
        rc = pk_cli_fail(cmd, "out of memory");
        goto done;
    }
    if (ct < 0 || (pcol && cpr < 0)) {
        rc = pk_cli_fail(cmd, "%s: no column '%s'", file, ct < 0 ? tcol : pcol);
        goto done;
    }
    if (n < 10) {
        rc = pk_cli_fail(cmd, "%s: %zu data rows; a scorecard needs at least 10", file, n);
        goto done;
    }
    if ((rc = binary(cmd, file, t, ct, y)) || (pcol && (rc = binary(cmd, file, t, cpr, g))))
        goto done;
    if (dfile) {
        if ((st = pk_csv_read(dfile, &o, &t2, &err))) {
            rc = pk_cli_fail_status(cmd, st, &err);
            goto done;
        }
    }
    for (size_t c = 0; c < t->ncols; c++) {
        if ((int)c == ct || (int)c == cpr)
            continue;
        feat *f = &F[nf];
        f->col = (int)c;
        if ((rc = get(cmd, file, t, (int)c, x)))
            goto done;
        st = t->categorical[c] ? pk_binning_fit_categorical(x, t->nlevels[c], y, n, &P, &f->b, &err)
                               : pk_binning_fit(x, y, n, &P, &f->b, &err);
        if (st) {
            rc = pk_cli_fail(cmd, "%s: feature '%s': %s", file, t->names[c], err.msg);
            goto done;
        }
        nf++;
        if (f->b->nbins < 2)
            continue;
        if (pcol && pk_binning_divergence(f->b, x, g, n, P.smooth, &f->drift, NULL) == PK_OK) {
            f->fiv = f->drift.jeffreys;
            f->fse = f->drift.jeffreys_se;
            f->has_fair = 1;
        }
        if (t2) {
            int c2 = pk_table_find(t2, t->names[c]);
            if (c2 < 0 || t2->categorical[c2] != t->categorical[c]) {
                rc = pk_cli_fail(cmd, "%s: no %s column '%s' to compare", dfile,
                                 t->categorical[c] ? "categorical" : "numeric", t->names[c]);
                goto done;
            }
            size_t m = t2->nrows;
            double *c0 = calloc(f->b->nbins, sizeof *c0), *c1 = calloc(f->b->nbins, sizeof *c1);
            if (!c0 || !c1) {
                free(c0);
                free(c1);
                rc = pk_cli_fail(cmd, "out of memory");
                goto done;
            }
            for (size_t i = 0; i < n; i++)
                c0[pk_binning_index(f->b, x[i])]++;
            for (size_t i = 0; i < m; i++) {
                double v = t2->values[i * t2->ncols + (size_t)c2];
                if (!isfinite(v)) {
                    free(c0);
                    free(c1);
                    rc = pk_cli_fail(cmd, "%s: column '%s', data row %zu: missing value", dfile, t->names[c], i + 1);
                    goto done;
                }
                if (t->categorical[c]) /* level codes follow each file's order: match by name */
                    v = level_code(t, (int)c, t2->levels[c2][(size_t)v]);
                c1[pk_binning_index(f->b, v)]++;
            }
            st = pk_divergence_counts(c0, c1, f->b->nbins, P.smooth, &f->drift, NULL, NULL, &err);
            free(c0);
            free(c1);
            if (st) {
                rc = pk_cli_fail(cmd, "%s: feature '%s': %s", dfile, t->names[c], err.msg);
                goto done;
            }
            f->has_drift = 1;
        }
    }
    if (nf == 0) {
        rc = pk_cli_fail(cmd, "%s: no feature columns besides the target", file);
        goto done;
    }
    /* logistic regression on the WoE features (in-sample AUC) */
    Xw = malloc(n * (nf + 1) * sizeof *Xw);
    w = malloc((nf + 1) * sizeof *w);
    sc = malloc(n * sizeof *sc);
    if (!Xw || !w || !sc) {
        rc = pk_cli_fail(cmd, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < nf; j++) {
            double v = t->values[i * t->ncols + (size_t)F[j].col];
            Xw[i * (nf + 1) + j] = F[j].b->woe[pk_binning_index(F[j].b, v)];
        }
        Xw[i * (nf + 1) + nf] = 1;
    }
    double auc = NAN;
    if (pk_logistic_fit(Xw, y, n, nf + 1, 1e-6, w, &err) == PK_OK) {
        for (size_t i = 0; i < n; i++) {
            sc[i] = 0;
            for (size_t j = 0; j <= nf; j++)
                sc[i] += w[j] * Xw[i * (nf + 1) + j];
        }
        pk_roc_auc(sc, y, n, &auc, NULL);
    }
    double *iv = malloc(nf * sizeof *iv), *fi = malloc(nf * sizeof *fi), *fs = malloc(nf * sizeof *fs);
    if (!iv || !fi || !fs) {
        free(iv);
        free(fi);
        free(fs);
        rc = pk_cli_fail(cmd, "out of memory");
        goto done;
    }
    for (size_t j = 0; j < nf; j++) {
        iv[j] = F[j].b->nbins > 1 ? F[j].b->div.jeffreys : 0;
        fi[j] = F[j].fiv;
        fs[j] = F[j].fse;
    }
    if (json) {
        printf("{\"file\": ");
        json_str(file);
        printf(", \"n\": %zu, \"target\": ", n);
        json_str(tcol);
        printf(", \"iv0\": %g, \"auc_lr_woe_in_sample\": ", iv0);
    }
    if (json) {
        jd(auc);
        printf(", \"features\": [");
    } else {
        printf("%s: n = %zu, target '%s', %zu features; IV test H0: IV <= %g\n", file, n, tcol, nf, iv0);
        printf("%-24s %4s %9s %8s %8s %10s %7s%s%s\n", "feature", "bins", "IV(=PSI)", "SE", "z", "p", "JS bits",
               pcol ? "   fairIV   fairSE" : "", dfile ? "  driftPSI  driftSE   z(psi0)" : "");
    }
    for (size_t j = 0; j < nf; j++) {
        const pk_binning *b = F[j].b;
        double pv = NAN, zz = NAN;
        if (b->nbins > 1)
            zz = pk_divergence_ztest(&b->div, iv0, &pv);
        double dz = NAN;
        if (F[j].has_drift)
            dz = pk_divergence_ztest(&F[j].drift, psi0, NULL);
        if (json) {
            printf("%s\n  {\"name\": ", j ? "," : "");
            json_str(t->names[F[j].col]);
            printf(", \"bins\": %zu, \"iv\": ", b->nbins);
            jd(iv[j]);
            printf(", \"iv_se\": ");
            jd(b->nbins > 1 ? b->div.jeffreys_se : NAN);
            printf(", \"z\": ");
            jd(zz);
            printf(", \"p\": ");
            jd(pv);
            printf(", \"js_bits\": ");
            jd(b->nbins > 1 ? b->div.js : NAN);
            if (pcol) {
                printf(", \"fair_iv\": ");
                jd(F[j].has_fair ? fi[j] : NAN);
                printf(", \"fair_se\": ");
                jd(F[j].has_fair ? fs[j] : NAN);
            }
            if (dfile) {
                printf(", \"drift_psi\": ");
                jd(F[j].has_drift ? F[j].drift.jeffreys : NAN);
                printf(", \"drift_se\": ");
                jd(F[j].has_drift ? F[j].drift.jeffreys_se : NAN);
            }
            if (b->level_bin) {
                printf(", \"levels\": [");
                for (size_t k = 0; k < b->nbins; k++) {
                    printf("%s[", k ? ", " : "");
                    print_levels(t, F[j].col, b, k, 1);
                    printf("]");
                }
            } else {
                printf(", \"cuts\": [");
                for (size_t k = 0; k + 1 < b->nbins; k++)
                    printf("%s%.17g", k ? ", " : "", b->cuts[k]);
            }
            printf("], \"woe\": [");
            for (size_t k = 0; k < b->nbins; k++) {
                printf("%s", k ? ", " : "");
                jd(b->nbins > 1 ? b->woe[k] : 0);
            }
            printf("]}");
        } else {
            printf("%-24s %4zu %9.5f %8.5f %8.3f %10.3g %7.4f", t->names[F[j].col], b->nbins, iv[j],
                   b->nbins > 1 ? b->div.jeffreys_se : 0.0, zz, pv, b->nbins > 1 ? b->div.js : 0.0);
            if (pcol)
                printf(" %8.5f %8.5f", fi[j], fs[j]);
            if (dfile)
                printf("  %8.5f %8.5f %9.3f", F[j].has_drift ? F[j].drift.jeffreys : 0.0,
                       F[j].has_drift ? F[j].drift.jeffreys_se : 0.0, dz);
            printf("\n");
            if (show_bins)
                for (size_t k = 0; k < b->nbins; k++) {
                    if (b->level_bin) {
                        printf("    {");
                        print_levels(t, F[j].col, b, k, 0);
                        printf("}\n      ");
                    } else {
                        printf("    x <= %-12.6g", b->cuts[k]);
                    }
                    printf(" good %8.0f bad %7.0f  WoE %8.4f +- %.4f\n", b->n_good[k], b->n_bad[k],
                           b->nbins > 1 ? b->woe[k] : 0.0, b->nbins > 1 ? b->woe_se[k] : 0.0);
                }
        }
    }
    if (json)
        printf("]");
    else
        printf("logistic regression on WoE features: in-sample AUC %.4f\n", auc);
    if (pcol && nf <= 20) {
        /* eps from the smallest single-feature bound to the all-features bound, geometrically:
         * one strongly group-dependent feature would otherwise squash a linear grid */
        double maxf = 0, se2 = 0, lo = INFINITY;
        for (size_t j = 0; j < nf; j++) {
            maxf += fi[j];
            se2 += fs[j] * fs[j];
            if (F[j].has_fair && fi[j] + z * fs[j] > 0)
                lo = fmin(lo, fi[j] + z * fs[j]);
        }
        maxf += z * sqrt(se2);
        if (!(lo < maxf))
            lo = maxf;
        if (json)
            printf(", \"frontier\": {\"z\": %g, \"points\": [", z);
        else
            printf("fairness frontier (max sum IV s.t. sum fairIV + %.3f * sqrt(sum SE^2) <= eps):\n", z);
        for (int k = 0; k <= 10; k++) {
            double eps = k == 0 ? 0 : lo * pow(maxf / lo, (k - 1) / 9.0), val;
            uint32_t mask;
            pk_fair_select(iv, fi, fs, nf, z, eps, &mask, &val, NULL);
            if (json) {
                printf("%s{\"eps\": %.17g, \"iv\": %.17g, \"features\": [", k ? ", " : "", eps, val);
                int first = 1;
                for (size_t j = 0; j < nf; j++)
                    if (mask >> j & 1) {
                        printf("%s", first ? "" : ", ");
                        json_str(t->names[F[j].col]);
                        first = 0;
                    }
                printf("]}");
            } else {
                printf("  eps %8.5f  IV %8.5f  {", eps, val);
                int first = 1;
                for (size_t j = 0; j < nf; j++)
                    if (mask >> j & 1) {
                        printf("%s%s", first ? "" : ", ", t->names[F[j].col]);
                        first = 0;
                    }
                printf("}\n");
            }
        }
        if (json)
            printf("]}");
    }
    if (json)
        printf("}\n");
    free(iv);
    free(fi);
    free(fs);
done:
    for (size_t j = 0; F && j < nf; j++)
        pk_binning_free(F[j].b);
    free(F);
    free(y);
    free(g);
    free(x);
    free(Xw);
    free(w);
    free(sc);
    pk_table_free(t);
    pk_table_free(t2);
    return rc;
}

const pk_cli_cmd pk_cmd_scorecard = {"scorecard", "WoE/IV scorecard with SEs, Z tests, fairness frontier, drift",
                                     cmd_main};
