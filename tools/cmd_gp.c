/* probkit gp — fit a Gaussian process to a CSV table, predict from a saved model. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "probkit/gp.h"
#include "probkit/io.h"

static const char *CMD = "gp";
static const char *HELP =
    "usage: probkit gp fit DATA.csv --target COL --out MODEL.json [options]\n"
    "       probkit gp predict MODEL.json DATA.csv [--out PRED.csv] [--json]\n\n"
    "fit: exact GP regression of COL on every other (numeric) column, inputs and\n"
    "target standardised, hyperparameters by type-II maximum likelihood (BFGS\n"
    "from unit scales plus random restarts).  The model file holds the training\n"
    "data and the hyperparameters (JSON, format \"probkit-gp\" version 1).\n"
    "predict: predictive mean and standard deviation (noise included) for each\n"
    "row of DATA.csv (which needs the model's input columns; others are ignored),\n"
    "as CSV columns mean,sd (stdout, or --out written atomically).\n\n"
    "fit options:\n"
    "  --target COL     response column (required)\n"
    "  --kernel K       se, matern12, matern32, matern52 (default), linear, periodic,\n"
    "                   relu, erf (NNGP kernels)\n"
    "  --iso            one length scale for all inputs (default: ARD)\n"
    "  --depth L        NNGP depth (default 3)\n"
    "  --restarts N     random restarts (default 2)\n"
    "  --seed N         seed for the restarts (default 42)\n"
    "  --out FILE       model file (required)\n"
    "  --json           print the fitted hyperparameters as JSON\n\n"
    "exit status: 0 ok, 1 bad data or fit failure (names file/column/row), 2 usage.\n";

static const char *KNAMES[] = {"se", "matern12", "matern32", "matern52", "linear", "periodic", "relu", "erf"};

static int kernel_parse(const char *s)
{
    for (int i = 0; i < 8; i++)
        if (!strcmp(s, KNAMES[i]))
            return i;
    return -1;
}

/* Numeric matrix of the named columns; fails on categorical or missing cells. */
static int columns(const char *file, const pk_table *t, const int *cols, size_t nc, pk_mat **out)
{
    pk_mat *X = pk_mat_new(t->nrows, nc);
    if (!X)
        return pk_cli_fail(CMD, "out of memory");
    for (size_t j = 0; j < nc; j++) {
        if (t->categorical[cols[j]]) {
            pk_mat_free(X);
            return pk_cli_fail(CMD, "%s: column '%s' is not numeric", file, t->names[cols[j]]);
        }
        for (size_t i = 0; i < t->nrows; i++) {
            double v = t->values[i * t->ncols + (size_t)cols[j]];
            if (!isfinite(v)) {
                pk_mat_free(X);
                return pk_cli_fail(CMD, "%s: row %zu, column '%s': missing or not finite", file, i + 2,
                                   t->names[cols[j]]);
            }
            *pk_mat_at(X, i, j) = v;
        }
    }
    *out = X;
    return 0;
}

static int do_fit(int argc, char **argv)
{
    const char *data = NULL, *target = NULL, *out = NULL;
    int kind = PK_GP_KERNEL_MATERN52, iso = 0, json = 0;
    long depth = 3, restarts = 2;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    const pk_cli_opt opts[] = {
        {"--target", PK_CLI_STR, &target, 0, 0, NULL},
        {"--out", PK_CLI_STR, &out, 0, 0, NULL},
        {"--kernel", PK_CLI_CHOICE, &kind, 0, 0, "se|matern12|matern32|matern52|linear|periodic|relu|erf"},
        {"--depth", PK_CLI_LONG, &depth, 1, 64, NULL},
        {"--restarts", PK_CLI_LONG, &restarts, 0, 64, NULL},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {"--iso", PK_CLI_FLAG, &iso, 0, 0, NULL},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(CMD, HELP, argc - 1, argv + 1, opts, &data, 1, NULL);
    if (prc >= 0)
        return prc;
    int ard = !iso;
    if (!data || !target || !out)
        return pk_cli_usage(CMD, "fit needs DATA.csv, --target COL and --out MODEL.json");
    pk_err err;
    pk_table *t = NULL;
    pk_csv_opts o = pk_csv_opts_default();
    if (pk_csv_read(data, &o, &t, &err))
        return pk_cli_fail(CMD, "%s", err.msg);
    int ti = pk_table_find(t, target), rc = 0;
    if (ti < 0) {
        rc = pk_cli_fail(CMD, "%s: no column '%s'", data, target);
        pk_table_free(t);
        return rc;
    }
    size_t n = t->nrows, d = t->ncols - 1;
    int *cols = malloc((d + 1) * sizeof *cols);
    pk_mat *X = NULL, *Y = NULL;
    pk_gp *gp = NULL;
    if (!cols) {
        pk_table_free(t);
        return pk_cli_fail(CMD, "out of memory");
    }
    for (size_t j = 0, k = 0; j < t->ncols; j++)
        if ((int)j != ti)
            cols[k++] = (int)j;
    if (d == 0 || n < 2) {
        rc = pk_cli_fail(CMD, "%s: need at least one input column and two rows", data);
        goto done;
    }
    if ((rc = columns(data, t, cols, d, &X)) || (rc = columns(data, t, &ti, 1, &Y)))
        goto done;
    /* standardise inputs and target */
    double *xm = calloc(2 * d, sizeof *xm), *xs = xm ? xm + d : NULL, ym, yv;
    if (!xm) {
        rc = pk_cli_fail(CMD, "out of memory");
        goto done;
    }
    for (size_t j = 0; j < d; j++) {
        double *col = malloc(n * sizeof *col), var = 0;
        for (size_t i = 0; col && i < n; i++)
            col[i] = *pk_mat_at(X, i, j);
        if (col)
            pk_mean_var(col, n, &xm[j], &var);
        xs[j] = var > 0 ? sqrt(var) : 1.0;
        free(col);
        for (size_t i = 0; i < n; i++)
            *pk_mat_at(X, i, j) = (*pk_mat_at(X, i, j) - xm[j]) / xs[j];
    }
    pk_mean_var(Y->data, n, &ym, &yv);
    double ys = yv > 0 ? sqrt(yv) : 1.0;
    for (size_t i = 0; i < n; i++)
        Y->data[i] = (Y->data[i] - ym) / ys;
    gp = pk_gp_new(pk_gp_kernel_new((pk_gp_kernel_type)kind, d, ard, (int)depth), PK_GP_MEAN_ZERO);
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    pk_gp_fit_params fp = pk_gp_fit_params_default();
    fp.restarts = (int)restarts;
    double lml;
    if (!gp || pk_gp_set_data(gp, X, Y->data, &err) || pk_gp_fit(gp, &fp, &rng, &lml, &err)) {
        rc = pk_cli_fail(CMD, "%s: fit failed: %s", data, gp ? err.msg : "out of memory");
        free(xm);
        goto done;
    }
    size_t nh = pk_gp_nhyper(gp);
    pk_gp_fit_info fi = pk_gp_last_fit_info(gp);
    double h[80];
    pk_gp_get_hyper(gp, h);
    json_t *m = json_object(), *jh = json_array(), *jx = json_array(), *jy = json_array(), *jc = json_array(),
           *jm = json_array(), *js = json_array();
    json_object_set_new(m, "format", json_string("probkit-gp"));
    json_object_set_new(m, "version", json_integer(1));
    json_object_set_new(m, "kernel", json_string(KNAMES[kind]));
    json_object_set_new(m, "ard", json_boolean(ard));
    json_object_set_new(m, "depth", json_integer(depth));
    json_object_set_new(m, "seed", json_integer((json_int_t)seed));
    json_object_set_new(m, "log_marginal_likelihood", json_real(lml));
    for (size_t p = 0; p < nh; p++)
        json_array_append_new(jh, json_real(h[p]));
    for (size_t j = 0; j < d; j++) {
        json_array_append_new(jc, json_string(t->names[cols[j]]));
        json_array_append_new(jm, json_real(xm[j]));
        json_array_append_new(js, json_real(xs[j]));
    }
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_array();
        for (size_t j = 0; j < d; j++)
            json_array_append_new(row, json_real(*pk_mat_at(X, i, j)));
        json_array_append_new(jx, row);
        json_array_append_new(jy, json_real(Y->data[i]));
    }
    json_object_set_new(m, "hyper", jh);
    json_object_set_new(m, "columns", jc);
    json_object_set_new(m, "x_mean", jm);
    json_object_set_new(m, "x_sd", js);
    json_object_set_new(m, "y_mean", json_real(ym));
    json_object_set_new(m, "y_sd", json_real(ys));
    json_object_set_new(m, "X", jx);
    json_object_set_new(m, "y", jy);
    char *txt = json_dumps(m, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (!txt || pk_file_write_atomic(out, txt, strlen(txt), &err))
        rc = pk_cli_fail(CMD, "%s", txt ? err.msg : "out of memory");
    free(txt);
    if (!rc) {
        if (json) {
            printf("{\"log_marginal_likelihood\": %.17g, \"hyper\": {", lml);
            for (size_t p = 0; p < nh; p++) {
                char name[64];
                if (p < pk_gp_kernel_nparams(pk_gp_kernel_const(gp)))
                    pk_gp_kernel_param_name(pk_gp_kernel_const(gp), p, name, sizeof name);
                else
                    snprintf(name, sizeof name, "log_noise");
                printf("%s\"%s\": %.17g", p ? ", " : "", name, h[p]);
            }
            printf("}, \"fit\": {\"starts\": %d, \"iterations\": %d, \"evaluations\": %d, \"gradients\": %d}}\n",
                   fi.starts, fi.iterations, fi.evaluations, fi.gradients);
        } else {
            printf("fitted %s GP on %zu rows x %zu inputs (seed %llu): log marginal likelihood %.6g "
                   "(standardised target)\nL-BFGS: %d starts, %d iterations, %d evaluations (%d with gradient)\n"
                   "model: %s\n",
                   KNAMES[kind], n, d, (unsigned long long)seed, lml, fi.starts, fi.iterations, fi.evaluations,
                   fi.gradients, out);
        }
    }
    json_decref(m);
    free(xm);
done:
    pk_gp_free(gp);
    pk_mat_free(X);
    pk_mat_free(Y);
    free(cols);
    pk_table_free(t);
    return rc;
}

static int do_predict(int argc, char **argv)
{
    const char *out = NULL;
    int json = 0;
    const pk_cli_opt opts[] = {
        {"--out", PK_CLI_STR, &out, 0, 0, NULL},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    const char *pos[2] = {NULL, NULL};
    int prc = pk_cli_parse(CMD, HELP, argc - 1, argv + 1, opts, pos, 2, NULL);
    if (prc >= 0)
        return prc;
    const char *model = pos[0], *data = pos[1];
    if (!model || !data)
        return pk_cli_usage(CMD, "predict needs MODEL.json and DATA.csv");
    json_error_t je;
    json_t *m = json_load_file(model, 0, &je);
    if (!m)
        return pk_cli_fail(CMD, "%s:%d: invalid JSON: %s", model, je.line, je.text);
    int rc = 0, kind = kernel_parse(json_string_value(json_object_get(m, "kernel")) ? json_string_value(json_object_get(m, "kernel")) : "");
    json_t *jc = json_object_get(m, "columns"), *jx = json_object_get(m, "X"), *jy = json_object_get(m, "y"),
           *jh = json_object_get(m, "hyper"), *jm = json_object_get(m, "x_mean"), *js = json_object_get(m, "x_sd");
    const char *fmt = json_string_value(json_object_get(m, "format"));
    size_t d = json_array_size(jc), n = json_array_size(jy);
    if (!fmt || strcmp(fmt, "probkit-gp") || json_integer_value(json_object_get(m, "version")) != 1 || kind < 0 ||
        d == 0 || d > 64 || n == 0 || json_array_size(jx) != n || json_array_size(jm) != d || json_array_size(js) != d) {
        json_decref(m);
        return pk_cli_fail(CMD, "%s: not a probkit-gp version 1 model (or a damaged one)", model);
    }
    pk_gp *gp = pk_gp_new(pk_gp_kernel_new((pk_gp_kernel_type)kind, d, json_is_true(json_object_get(m, "ard")),
                                           (int)json_integer_value(json_object_get(m, "depth"))),
                          PK_GP_MEAN_ZERO);
    pk_mat *X = pk_mat_new(n, d), *Xs = NULL;
    double *y = malloc(n * sizeof *y), *mu = NULL, *var = NULL;
    pk_table *t = NULL;
    pk_err err;
    if (!gp || !X || !y || json_array_size(jh) != pk_gp_nhyper(gp)) {
        rc = pk_cli_fail(CMD, "%s: model does not match its kernel (or out of memory)", model);
        goto done;
    }
    double h[80];
    for (size_t p = 0; p < pk_gp_nhyper(gp); p++)
        h[p] = json_number_value(json_array_get(jh, p));
    pk_gp_set_hyper(gp, h);
    pk_gp_set_noise_floor(gp, 1e-10);
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_array_get(jx, i);
        if (json_array_size(row) != d) {
            rc = pk_cli_fail(CMD, "%s: training row %zu has the wrong length", model, i);
            goto done;
        }
        for (size_t j = 0; j < d; j++)
            *pk_mat_at(X, i, j) = json_number_value(json_array_get(row, j));
        y[i] = json_number_value(json_array_get(jy, i));
    }
    if (pk_gp_set_data(gp, X, y, &err) || pk_gp_update(gp)) {
        rc = pk_cli_fail(CMD, "%s: %s", model, err.msg);
        goto done;
    }
    pk_csv_opts o = pk_csv_opts_default();
    if (pk_csv_read(data, &o, &t, &err)) {
        rc = pk_cli_fail(CMD, "%s", err.msg);
        goto done;
    }
    int cols[64];
    for (size_t j = 0; j < d; j++) {
        const char *cn = json_string_value(json_array_get(jc, j));
        cols[j] = cn ? pk_table_find(t, cn) : -1;
        if (cols[j] < 0) {
            rc = pk_cli_fail(CMD, "%s: no column '%s' (the model's input %zu)", data, cn ? cn : "?", j + 1);
            goto done;
        }
    }
    if ((rc = columns(data, t, cols, d, &Xs)))
        goto done;
    size_t m_rows = Xs->rows;
    for (size_t i = 0; i < m_rows; i++)
        for (size_t j = 0; j < d; j++)
            *pk_mat_at(Xs, i, j) = (*pk_mat_at(Xs, i, j) - json_number_value(json_array_get(jm, j))) /
                                   json_number_value(json_array_get(js, j));
    mu = malloc((m_rows + 1) * 2 * sizeof *mu);
    var = mu ? mu + m_rows + 1 : NULL;
    if (!mu || pk_gp_predict(gp, Xs, mu, var, 1)) {
        rc = pk_cli_fail(CMD, "%s: prediction failed", data);
        goto done;
    }
    double ym = json_number_value(json_object_get(m, "y_mean")), ysd = json_number_value(json_object_get(m, "y_sd"));
    double *outv = malloc(2 * m_rows * sizeof *outv + 1);
    if (!outv) {
        rc = pk_cli_fail(CMD, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < m_rows; i++) {
        outv[2 * i] = ym + ysd * mu[i];
        outv[2 * i + 1] = ysd * sqrt(var[i]);
    }
    const char *names[2] = {"mean", "sd"};
    if (out) {
        if (pk_csv_write(out, m_rows, 2, names, outv, &err))
            rc = pk_cli_fail(CMD, "%s", err.msg);
    } else if (json) {
        printf("[");
        for (size_t i = 0; i < m_rows; i++)
            printf("%s{\"mean\": %.17g, \"sd\": %.17g}", i ? ", " : "", outv[2 * i], outv[2 * i + 1]);
        printf("]\n");
    } else {
        printf("mean,sd\n");
        for (size_t i = 0; i < m_rows; i++)
            printf("%.17g,%.17g\n", outv[2 * i], outv[2 * i + 1]);
    }
    free(outv);
done:
    json_decref(m);
    pk_gp_free(gp);
    pk_mat_free(X);
    pk_mat_free(Xs);
    pk_table_free(t);
    free(y);
    free(mu);
    return rc;
}

static int gp_main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(HELP, argc < 2 ? stderr : stdout);
        return argc < 2 ? PK_EXIT_USAGE : PK_EXIT_OK;
    }
    if (!strcmp(argv[1], "fit"))
        return do_fit(argc, argv);
    if (!strcmp(argv[1], "predict"))
        return do_predict(argc, argv);
    return pk_cli_usage(CMD, "unknown subcommand '%s' (fit, predict)", argv[1]);
}

const pk_cli_cmd pk_cmd_gp = {"gp", "Gaussian-process regression: fit on a CSV table, predict from a saved model",
                              gp_main};
