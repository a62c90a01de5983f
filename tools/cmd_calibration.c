/* probkit calibration — calibration metrics, reliability diagram and recalibration. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "probkit/io.h"
#include "probkit/metrics.h"
#include "probkit/plot.h"

static const char *HELP =
    "usage: probkit calibration PREDS.csv [options]\n\n"
    "Calibration of binary probability predictions (metrics of \"Deep Probability\n"
    "Estimation\", Liu et al.): ECE (equal-width bins weighted by size, and the\n"
    "paper's unweighted equal-mass version), MCE, KS calibration error, Brier,\n"
    "NLL, ROC AUC and, when a column gives the true probabilities, their MSE.\n"
    "With --recal, cross-fitted temperature / Platt / isotonic recalibration is\n"
    "added as extra columns (each row's recalibrated value never saw its label).\n\n"
    "options:\n"
    "  --prob COL     column of predicted probabilities (default: p, prob or pred)\n"
    "  --label COL    column of 0/1 outcomes (default: y or label)\n"
    "  --true COL     column of true probabilities (default: p_true if present)\n"
    "  --bins N       number of bins for ECE / MCE / the diagram (default 15)\n"
    "  --recal LIST   comma list of temperature,platt,isotonic or 'all'\n"
    "  --folds K      cross-fitting folds for --recal (default 5)\n"
    "  --plot FILE    write the reliability diagram (SVG)\n"
    "  --seed N       seed for the fold split (default 42)\n"
    "  --json         machine-readable output\n\n"
    "exit status: 0 ok, 1 bad data (names the column and row), 2 usage error.\n";

static void jnum(double v)
{
    if (isfinite(v))
        printf("%.17g", v);
    else
        printf("null");
}

static int find_col(const pk_table *t, const char *want, const char *const *defaults)
{
    if (want)
        return pk_table_find(t, want);
    for (size_t i = 0; defaults[i]; i++) {
        int c = pk_table_find(t, defaults[i]);
        if (c >= 0)
            return c;
    }
    return -1;
}

static int column(const char *cmd, const char *file, const pk_table *t, int c, double *out)
{
    if (t->categorical[c])
        return pk_cli_fail(cmd, "%s: column '%s' is not numeric", file, t->names[c]);
    for (size_t i = 0; i < t->nrows; i++) {
        out[i] = t->values[i * t->ncols + (size_t)c];
        if (isnan(out[i]))
            return pk_cli_fail(cmd, "%s: column '%s', row %zu: missing value", file, t->names[c], i + 1);
    }
    return 0;
}

static int cmd_main(int argc, char **argv)
{
    const char *cmd = "calibration", *file = NULL, *pcol = NULL, *ycol = NULL, *tcol = NULL, *plot = NULL,
               *recal = NULL;
    long nbins = 15, folds = 5;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    int json = 0;
    const pk_cli_opt opts[] = {
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {"--prob", PK_CLI_STR, &pcol, 0, 0, NULL},
        {"--label", PK_CLI_STR, &ycol, 0, 0, NULL},
        {"--true", PK_CLI_STR, &tcol, 0, 0, NULL},
        {"--plot", PK_CLI_STR, &plot, 0, 0, NULL},
        {"--recal", PK_CLI_STR, &recal, 0, 0, NULL},
        {"--bins", PK_CLI_LONG, &nbins, 1, 1000, NULL},
        {"--folds", PK_CLI_LONG, &folds, 2, 1000, NULL},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(cmd, HELP, argc, argv, opts, &file, 1, NULL);
    if (prc >= 0)
        return prc;
    if (!file)
        return pk_cli_usage(cmd, "no input file");
    int kinds[3], nk = 0;
    if (recal) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", recal);
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            if (!strcmp(tok, "all")) {
                nk = 3;
                kinds[0] = PK_RECAL_TEMPERATURE;
                kinds[1] = PK_RECAL_PLATT;
                kinds[2] = PK_RECAL_ISOTONIC;
                break;
            }
            int k = pk_recal_kind_parse(tok);
            if (k < 0 || nk >= 3)
                return pk_cli_usage(cmd, "--recal: unknown method '%s' (temperature, platt, isotonic, all)", tok);
            kinds[nk++] = k;
        }
    }

    pk_err err;
    pk_err_clear(&err);
    pk_table *t = NULL;
    pk_csv_opts o = pk_csv_opts_default();
    int st = pk_csv_read(file, &o, &t, &err);
    if (st)
        return pk_cli_fail_status(cmd, st, &err);
    static const char *const pdef[] = {"p", "prob", "pred", NULL}, *const ydef[] = {"y", "label", NULL},
                             *const tdef[] = {"p_true", NULL};
    int cp = find_col(t, pcol, pdef), cy = find_col(t, ycol, ydef), ct = find_col(t, tcol, tdef);
    int rc = PK_EXIT_OK;
    size_t n = t->nrows;
    double *p = NULL, *y = NULL, *pt = NULL, *q[3] = {NULL, NULL, NULL};
    if (cp < 0 || cy < 0) {
        rc = pk_cli_fail(cmd, "%s: no %s column '%s'", file, cp < 0 ? "probability" : "label",
                         cp < 0 ? (pcol ? pcol : "p/prob/pred") : (ycol ? ycol : "y/label"));
        goto done;
    }
    if (tcol && ct < 0) {
        rc = pk_cli_fail(cmd, "%s: no column '%s'", file, tcol);
        goto done;
    }
    if (n == 0) {
        rc = pk_cli_fail(cmd, "%s: no data rows", file);
        goto done;
    }
    p = malloc(n * sizeof *p);
    y = malloc(n * sizeof *y);
    pt = ct >= 0 ? malloc(n * sizeof *pt) : NULL;
    for (int k = 0; k < nk; k++)
        q[k] = malloc(n * sizeof *q[k]);
    if (!p || !y || (ct >= 0 && !pt) || (nk > 0 && !q[nk - 1])) {
        rc = pk_cli_fail(cmd, "out of memory");
        goto done;
    }
    if ((rc = column(cmd, file, t, cp, p)) || (rc = column(cmd, file, t, cy, y)) ||
        (pt && (rc = column(cmd, file, t, ct, pt))))
        goto done;
    for (size_t i = 0; i < n; i++) {
        if (!(p[i] >= 0 && p[i] <= 1) || !(y[i] == 0 || y[i] == 1) || (pt && !(pt[i] >= 0 && pt[i] <= 1))) {
            int bad = !(p[i] >= 0 && p[i] <= 1) ? cp : !(y[i] == 0 || y[i] == 1) ? cy : ct;
            rc = pk_cli_fail(cmd, "%s: column '%s', data row %zu: %g is not %s", file, t->names[bad], i + 1,
                             t->values[i * t->ncols + (size_t)bad], bad == cy ? "a 0/1 label" : "a probability in [0, 1]");
            goto done;
        }
    }
    pk_calib_metrics m[4];
    const char *names[4] = {"raw", NULL, NULL, NULL};
    pk_calib_compute(p, y, pt, n, (size_t)nbins, &m[0], NULL);
    pk_rng rng;
    for (int k = 0; k < nk; k++) {
        pk_rng_seed(&rng, seed);
        if ((st = pk_recal_crossfit((pk_recal_kind)kinds[k], p, y, n, (size_t)folds > n ? n : (size_t)folds, &rng,
                                    q[k], &err))) {
            rc = pk_cli_fail_status(cmd, st, &err);
            goto done;
        }
        pk_calib_compute(q[k], y, pt, n, (size_t)nbins, &m[k + 1], NULL);
        names[k + 1] = pk_recal_kind_name((pk_recal_kind)kinds[k]);
    }
    const char *mn[] = {"ece", "ece_mass", "mce", "ks", "brier", "nll", "auc", "mse_true"};
    if (json) {
        printf("{\"file\": \"%s\", \"n\": %zu, \"bins\": %ld, \"base_rate\": %.17g, \"seed\": %llu, \"folds\": %ld,\n"
               " \"models\": {",
               file, n, nbins, m[0].base_rate, (unsigned long long)seed, folds);
        for (int k = 0; k <= nk; k++) {
            const double v[] = {m[k].ece, m[k].ece_mass, m[k].mce, m[k].ks, m[k].brier, m[k].nll, m[k].auc,
                                m[k].mse_true};
            printf("%s\n  \"%s\": {", k ? "," : "", names[k]);
            for (int j = 0; j < 8; j++) {
                printf("%s\"%s\": ", j ? ", " : "", mn[j]);
                jnum(v[j]);
            }
            printf("}");
        }
        printf("}}\n");
    } else {
        printf("%s: n = %zu, base rate %.4f, %ld bins%s", file, n, m[0].base_rate, nbins,
               nk ? "" : "\n");
        if (nk)
            printf(", recalibration cross-fitted with %ld folds, seed %llu\n", folds, (unsigned long long)seed);
        printf("%-10s", "metric");
        for (int k = 0; k <= nk; k++)
            printf(" %12s", names[k]);
        printf("\n");
        for (int j = 0; j < 8; j++) {
            if (j == 7 && !pt)
                break;
            printf("%-10s", mn[j]);
            for (int k = 0; k <= nk; k++) {
                const double v[] = {m[k].ece, m[k].ece_mass, m[k].mce, m[k].ks, m[k].brier, m[k].nll, m[k].auc,
                                    m[k].mse_true};
                printf(" %12.6f", v[j]);
            }
            printf("\n");
        }
    }
    if (plot) {
        pk_plot *pl = pk_plot_new("Reliability diagram", "mean predicted probability", "observed frequency");
        double diag[2] = {0, 1};
        double *cx = malloc((size_t)nbins * sizeof *cx), *cyv = malloc((size_t)nbins * sizeof *cyv);
        if (!pl || !cx || !cyv) {
            pk_plot_free(pl);
            free(cx);
            free(cyv);
            rc = pk_cli_fail(cmd, "out of memory");
            goto done;
        }
        pk_plot_set_xrange(pl, 0, 1);
        pk_plot_set_yrange(pl, 0, 1);
        pk_plot_line(pl, "perfect calibration", diag, diag, 2);
        for (int k = 0; k <= nk; k++) {
            size_t nout = 0;
            pk_calib_curve(k ? q[k - 1] : p, y, n, (size_t)nbins, 0, cyv, cx, NULL, &nout, NULL);
            pk_plot_line(pl, names[k], cx, cyv, nout);
            pk_plot_scatter(pl, NULL, cx, cyv, nout);
        }
        st = pk_plot_save(pl, plot, &err);
        pk_plot_free(pl);
        free(cx);
        free(cyv);
        if (st) {
            rc = pk_cli_fail_status(cmd, st, &err);
            goto done;
        }
        if (!json)
            printf("reliability diagram written to %s\n", plot);
    }
done:
    free(p);
    free(y);
    free(pt);
    for (int k = 0; k < 3; k++)
        free(q[k]);
    pk_table_free(t);
    return rc;
}

const pk_cli_cmd pk_cmd_calibration = {"calibration", "calibration metrics, reliability diagram, recalibration",
                                       cmd_main};
