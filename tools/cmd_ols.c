/* probkit ols — ordinary least squares on a CSV table, printed as a regression table. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "probkit/io.h"
#include "probkit/ols.h"
#include "probkit/plot.h"
#include "probkit/rng.h"

static const char *HELP =
    "usage: probkit ols DATA.csv --target COL [options]\n\n"
    "Fits COL ~ (intercept) + predictors by ordinary least squares and prints a\n"
    "regression table: coefficients, standard errors, t statistics, two-sided p\n"
    "values, R^2, adjusted R^2, F test, residual variance, condition number and\n"
    "rank.  Columns that are linear combinations of others are reported as\n"
    "aliased (a warning on stderr) instead of failing.  Categorical predictors\n"
    "are expanded into indicator columns for every level but the first.\n\n"
    "options:\n"
    "  --target COL        response column (required)\n"
    "  --columns A,B,...   predictor columns (default: every other column)\n"
    "  --no-intercept      do not add a constant column\n"
    "  --method qr|svd     pivoted QR (default) or SVD (minimum-norm if rank-deficient)\n"
    "  --missing drop|error  rows with a missing value in a used column are dropped\n"
    "                      (default, count printed) or are an error naming the row\n"
    "  --delimiter C       field separator (default ','; 'tab' for TSV)\n"
    "  --skip-lines N      lines to skip before the header (e.g. 1 for sklearn's boston CSV)\n"
    "  --plot FILE         write residuals vs fitted values as SVG\n"
    "  --identities        also measure the least-squares identities of the Gauss-Markov\n"
    "                      adjunction (X^T r = 0, H = XX^+ idempotent/symmetric, X^+X = I,\n"
    "                      Pythagoras) with random probe vectors (docs/ols.md)\n"
    "  --seed N            seed for those probes (default 42; printed)\n"
    "  --json              machine-readable output (NaN written as null)\n\n"
    "exit status: 0 ok, 1 bad data (names the file, column and row), 2 usage error.\n";

typedef struct design {
    size_t n, p;
    double *X, *y;
    char **names; /* p names */
    size_t dropped;
} design;

static void design_free(design *d)
{
    free(d->X);
    free(d->y);
    if (d->names)
        for (size_t j = 0; j < d->p; j++)
            free(d->names[j]);
    free(d->names);
}

static char *str_dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Predictor column indices from --columns (or all but the target). */
static int pick_columns(const char *cmd, const char *file, const pk_table *t, int target, const char *list,
                        int **cols, size_t *ncols)
{
    int *c = malloc((t->ncols + 1) * sizeof *c);
    if (!c)
        return pk_cli_fail(cmd, "out of memory");
    size_t k = 0;
    if (!list) {
        for (size_t j = 0; j < t->ncols; j++)
            if ((int)j != target)
                c[k++] = (int)j;
    } else {
        char *copy = str_dup(list), *save = NULL;
        if (!copy) {
            free(c);
            return pk_cli_fail(cmd, "out of memory");
        }
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            int j = pk_table_find(t, tok);
            if (j < 0 || j == target || k >= t->ncols) {
                int rc = j < 0    ? pk_cli_fail(cmd, "%s: no column '%s'", file, tok)
                         : j == target ? pk_cli_usage(cmd, "column '%s' is the target; it cannot be a predictor", tok)
                                       : pk_cli_usage(cmd, "--columns lists a column twice");
                free(copy);
                free(c);
                return rc;
            }
            for (size_t q = 0; q < k; q++)
                if (c[q] == j) {
                    free(copy);
                    free(c);
                    return pk_cli_usage(cmd, "--columns lists '%s' twice", tok);
                }
            c[k++] = j;
        }
        free(copy);
    }
    *cols = c;
    *ncols = k;
    return 0;
}

static int build_design(const char *cmd, const char *file, const pk_table *t, int target, const int *cols,
                        size_t ncols, int intercept, int drop_missing, design *d)
{
    memset(d, 0, sizeof *d);
    if (t->categorical[target])
        return pk_cli_fail(cmd, "%s: target column '%s' is not numeric", file, t->names[target]);
    size_t p = intercept ? 1 : 0;
    for (size_t k = 0; k < ncols; k++)
        p += t->categorical[cols[k]] ? (t->nlevels[cols[k]] > 1 ? t->nlevels[cols[k]] - 1 : 0) : 1;
    if (p == 0)
        return pk_cli_usage(cmd, "no predictors: give --columns or keep the intercept");
    d->p = p;
    d->names = calloc(p, sizeof *d->names);
    d->X = malloc((t->nrows ? t->nrows : 1) * p * sizeof *d->X);
    d->y = malloc((t->nrows ? t->nrows : 1) * sizeof *d->y);
    if (!d->names || !d->X || !d->y)
        return pk_cli_fail(cmd, "out of memory");
    size_t q = 0;
    if (intercept)
        d->names[q++] = str_dup("const");
    for (size_t k = 0; k < ncols; k++) {
        int c = cols[k];
        if (!t->categorical[c]) {
            d->names[q++] = str_dup(t->names[c]);
            continue;
        }
        for (size_t l = 1; l < t->nlevels[c]; l++) {
            size_t len = strlen(t->names[c]) + strlen(t->levels[c][l]) + 3;
            d->names[q] = malloc(len);
            if (d->names[q])
                snprintf(d->names[q], len, "%s[%s]", t->names[c], t->levels[c][l]);
            q++;
        }
    }
    for (size_t j = 0; j < p; j++)
        if (!d->names[j])
            return pk_cli_fail(cmd, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < t->nrows; i++) {
        const double *row = t->values + i * t->ncols;
        const char *bad = isnan(row[target]) ? t->names[target] : NULL;
        for (size_t k = 0; k < ncols && !bad; k++)
            if (isnan(row[cols[k]]))
                bad = t->names[cols[k]];
        if (bad) {
            if (!drop_missing)
                return pk_cli_fail(cmd, "%s: data row %zu: column '%s' is missing (use --missing drop)", file, i + 1,
                                   bad);
            d->dropped++;
            continue;
        }
        double *x = d->X + n * p;
        size_t j = 0;
        if (intercept)
            x[j++] = 1.0;
        for (size_t k = 0; k < ncols; k++) {
            int c = cols[k];
            if (!t->categorical[c]) {
                x[j++] = row[c];
                continue;
            }
            for (size_t l = 1; l < t->nlevels[c]; l++)
                x[j++] = row[c] == (double)l ? 1.0 : 0.0;
        }
        d->y[n++] = row[target];
    }
    d->n = n;
    if (n == 0)
        return pk_cli_fail(cmd, "%s: no complete rows left (%zu dropped for missing values)", file, d->dropped);
    return 0;
}

static json_t *jreal(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *jarr(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, jreal(v[i]));
    return a;
}

static const char *ID_NAMES[7] = {"X^T r = 0", "H = XX^+ idempotent", "H symmetric", "X^+ X = I",
                                  "X X^+ X = X", "Pythagoras", "coef = X^+ y"};

static void id_values(const pk_ols_identities *id, double v[7])
{
    v[0] = id->normal_eq;
    v[1] = id->hat_idem;
    v[2] = id->hat_sym;
    v[3] = id->pinv_left;
    v[4] = id->penrose;
    v[5] = id->pythagoras;
    v[6] = id->pinv_coef;
}

static int print_json(const char *file, const char *target, const design *d, const pk_ols *f,
                      const pk_ols_identities *id, uint64_t seed)
{
    json_t *o = json_object(), *names = json_array(), *al = json_array();
    for (size_t j = 0; j < d->p; j++) {
        json_array_append_new(names, json_string(d->names[j]));
        json_array_append_new(al, json_boolean(f->aliased[j]));
    }
    json_object_set_new(o, "file", json_string(file));
    json_object_set_new(o, "target", json_string(target));
    json_object_set_new(o, "method", json_string(f->method == PK_OLS_QR ? "qr" : "svd"));
    json_object_set_new(o, "n", json_integer((json_int_t)f->n));
    json_object_set_new(o, "rows_dropped", json_integer((json_int_t)d->dropped));
    json_object_set_new(o, "columns", names);
    json_object_set_new(o, "coef", jarr(f->coef, f->p));
    json_object_set_new(o, "se", jarr(f->se, f->p));
    json_object_set_new(o, "t", jarr(f->tval, f->p));
    json_object_set_new(o, "p", jarr(f->pval, f->p));
    json_object_set_new(o, "aliased", al);
    json_object_set_new(o, "rank", json_integer((json_int_t)f->rank));
    json_object_set_new(o, "df_resid", jreal(f->df_resid));
    json_object_set_new(o, "r2", jreal(f->r2));
    json_object_set_new(o, "adj_r2", jreal(f->adj_r2));
    json_object_set_new(o, "sigma2", jreal(f->sigma2));
    json_object_set_new(o, "rss", jreal(f->rss));
    json_object_set_new(o, "fstat", jreal(f->fstat));
    json_object_set_new(o, "f_pvalue", jreal(f->f_pvalue));
    json_object_set_new(o, "cond", jreal(f->cond));
    json_object_set_new(o, "loglik", jreal(f->loglik));
    json_object_set_new(o, "aic", jreal(f->aic));
    json_object_set_new(o, "bic", jreal(f->bic));
    if (id) {
        json_t *jo = json_object();
        double v[7];
        id_values(id, v);
        for (int k = 0; k < 7; k++)
            json_object_set_new(jo, ID_NAMES[k], jreal(v[k]));
        json_object_set_new(o, "identities", jo);
        json_object_set_new(o, "seed", json_integer((json_int_t)seed));
    }
    char *s = json_dumps(o, JSON_INDENT(1) | JSON_REAL_PRECISION(17) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s)
        return PK_EXIT_FAIL;
    puts(s);
    free(s);
    return PK_EXIT_OK;
}

static void print_table(const char *file, const char *target, const design *d, const pk_ols *f,
                        const pk_ols_identities *id, uint64_t seed)
{
    printf("OLS: %s ~", target);
    for (size_t j = 0; j < d->p; j++)
        printf(" %s%s", j ? "+ " : "", d->names[j]);
    printf("\ndata: %s, %zu rows used", file, f->n);
    if (d->dropped)
        printf(" (%zu dropped for missing values)", d->dropped);
    printf(", method %s\n\n",
           f->method == PK_OLS_SVD ? "SVD" : f->rank < f->p ? "QR with column pivoting" : "Householder QR");
    size_t w = 8;
    for (size_t j = 0; j < d->p; j++)
        if (strlen(d->names[j]) > w)
            w = strlen(d->names[j]);
    printf("%-*s %14s %12s %9s %10s\n", (int)w, "", "coef", "std err", "t", "P>|t|");
    for (size_t j = 0; j < d->p; j++) {
        if (f->aliased[j] && f->method == PK_OLS_QR) {
            printf("%-*s %14s   (aliased: a linear combination of other columns)\n", (int)w, d->names[j], "-");
            continue;
        }
        printf("%-*s %14.6g %12.4g %9.3f %10.3g%s\n", (int)w, d->names[j], f->coef[j], f->se[j], f->tval[j], f->pval[j],
               f->aliased[j] ? "  (aliased)" : "");
    }
    printf("\nR^2 %.4f   adj. R^2 %.4f   F %.4g (p %.3g)   sigma^2 %.6g   df_resid %.0f\n", f->r2, f->adj_r2, f->fstat,
           f->f_pvalue, f->sigma2, f->df_resid);
    printf("rank %zu of %zu   condition number %.4g   log-likelihood %.6g   AIC %.6g   BIC %.6g\n", f->rank, f->p,
           f->cond, f->loglik, f->aic, f->bic);
    if (id) {
        double v[7];
        id_values(id, v);
        printf("\nleast-squares identities, max relative violation (exact value 0; seed %llu):\n",
               (unsigned long long)seed);
        for (int k = 0; k < 7; k++)
            if (!isnan(v[k]))
                printf("  %-22s %.3g\n", ID_NAMES[k], v[k]);
            else
                printf("  %-22s n/a (rank-deficient)\n", ID_NAMES[k]);
    }
}

static int write_plot(const char *cmd, const char *path, const char *target, const pk_ols *f)
{
    char title[256];
    snprintf(title, sizeof title, "OLS residuals vs fitted (%s)", target);
    pk_plot *pl = pk_plot_new(title, "fitted value", "residual");
    if (!pl)
        return pk_cli_fail(cmd, "out of memory");
    pk_err err;
    int st = pk_plot_scatter(pl, NULL, f->fitted, f->resid, f->n);
    if (st == PK_OK)
        st = pk_plot_hline(pl, NULL, 0.0);
    if (st == PK_OK)
        st = pk_plot_save(pl, path, &err);
    else
        pk_err_set(&err, st, "%s: could not build the plot", path);
    pk_plot_free(pl);
    return st == PK_OK ? 0 : pk_cli_fail_status(cmd, st, &err);
}

static int cmd_main(int argc, char **argv)
{
    const char *cmd = "ols", *file = NULL, *target = NULL, *columns = NULL, *plot = NULL;
    int json = 0, intercept = 1, drop = 1, identities = 0;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    pk_ols_params par = pk_ols_params_default();
    pk_csv_opts copts = pk_csv_opts_default();
    int no_intercept = 0, method = 0, missing = 0;
    long skip = 0;
    const char *delim = NULL;
    const pk_cli_opt opts[] = {
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {"--identities", PK_CLI_FLAG, &identities, 0, 0, NULL},
        {"--no-intercept", PK_CLI_FLAG, &no_intercept, 0, 0, NULL},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {"--target", PK_CLI_STR, &target, 0, 0, NULL},
        {"--columns", PK_CLI_STR, &columns, 0, 0, NULL},
        {"--plot", PK_CLI_STR, &plot, 0, 0, NULL},
        {"--method", PK_CLI_CHOICE, &method, 0, 0, "qr|svd"},
        {"--missing", PK_CLI_CHOICE, &missing, 0, 0, "drop|error"},
        {"--skip-lines", PK_CLI_LONG, &skip, 0, 1000000, NULL},
        {"--delimiter", PK_CLI_STR, &delim, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int rc0 = pk_cli_parse(cmd, HELP, argc, argv, opts, &file, 1, NULL);
    if (rc0 >= 0)
        return rc0;
    intercept = !no_intercept;
    par.method = method == 0 ? PK_OLS_QR : PK_OLS_SVD;
    drop = missing == 0;
    copts.skip_lines = (size_t)skip;
    if (delim) {
        if (!strcmp(delim, "tab"))
            copts.delimiter = '\t';
        else if (strlen(delim) == 1)
            copts.delimiter = delim[0];
        else
            return pk_cli_usage(cmd, "--delimiter takes one character or 'tab', not '%s'", delim);
    }
    if (!file)
        return pk_cli_usage(cmd, "no data file given");
    if (!target)
        return pk_cli_usage(cmd, "--target COL is required");

    pk_err err;
    pk_table *t = NULL;
    int st = pk_csv_read(file, &copts, &t, &err);
    if (st != PK_OK)
        return pk_cli_fail_status(cmd, st, &err);
    int rc = PK_EXIT_OK;
    int *cols = NULL;
    size_t ncols = 0;
    design d;
    memset(&d, 0, sizeof d);
    pk_ols *f = NULL;
    int tc = pk_table_find(t, target);
    if (tc < 0) {
        rc = pk_cli_fail(cmd, "%s: no column '%s' (columns: %s%s)", file, target, t->ncols ? t->names[0] : "",
                         t->ncols > 1 ? ", ..." : "");
        goto out;
    }
    if ((rc = pick_columns(cmd, file, t, tc, columns, &cols, &ncols)) != 0)
        goto out;
    if ((rc = build_design(cmd, file, t, tc, cols, ncols, intercept, drop, &d)) != 0)
        goto out;
    par.allow_rank_deficient = 1;
    par.compute_pinv = identities;
    pk_mat X = pk_mat_view(d.X, d.n, d.p);
    st = pk_ols_fit(&X, d.y, &par, &f, &err);
    if (st != PK_OK) {
        pk_err_prefix(&err, "%s: ", file);
        rc = pk_cli_fail_status(cmd, st, &err);
        goto out;
    }
    if (f->rank < f->p) {
        fprintf(stderr, "probkit ols: warning: %s: the design has rank %zu < %zu columns; aliased:", file, f->rank,
                f->p);
        for (size_t j = 0; j < f->p; j++)
            if (f->aliased[j])
                fprintf(stderr, " %s", d.names[j]);
        fputc('\n', stderr);
    }
    if (plot && (rc = write_plot(cmd, plot, target, f)) != 0)
        goto out;
    pk_ols_identities id;
    if (identities) {
        pk_rng rng;
        pk_rng_seed(&rng, seed);
        st = pk_ols_check_identities(f, &X, d.y, 8, &rng, &id);
        if (st != PK_OK) {
            rc = pk_cli_fail(cmd, "%s: could not measure the identities: %s", file, pk_strerror(st));
            goto out;
        }
    }
    rc = json ? print_json(file, target, &d, f, identities ? &id : NULL, seed)
              : (print_table(file, target, &d, f, identities ? &id : NULL, seed), PK_EXIT_OK);
out:
    pk_ols_free(f);
    design_free(&d);
    free(cols);
    pk_table_free(t);
    return rc;
}

const pk_cli_cmd pk_cmd_ols = {"ols", "ordinary least squares regression table (QR or SVD)", cmd_main};
