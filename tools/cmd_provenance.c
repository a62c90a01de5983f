/* probkit provenance — palimpsestic provenance tests (Spearman, permutation, reshuffle z). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "probkit/io.h"
#include "probkit/metrics.h"

static const char *HELP =
    "usage: probkit provenance DATA.csv [options]\n"
    "       probkit provenance --observed X --null NULL.csv [--json]\n\n"
    "Independence tests between a training run's data order and a suspect model\n"
    "(\"Blackbox Model Provenance via Palimpsestic Membership Inference\").  Models\n"
    "memorise late examples more, so a suspect derived from the run gives lower\n"
    "loss to later examples.  The statistic is Spearman's rho between the order\n"
    "and score = -loss, or score = ref_loss - loss when a reference model (trained\n"
    "without this run) is given, which removes per-example difficulty.\n"
    "p-values are reported as log10 so that evidence beyond 1e-308 stays exact.\n\n"
    "options:\n"
    "  --order COL     training position of each example (default: order)\n"
    "  --loss COL      the suspect model's loss per example (default: loss)\n"
    "  --ref COL       a reference model's loss per example (optional)\n"
    "  --perm N        permutations for the permutation test (default 10000;\n"
    "                  exact enumeration when n <= 8; 0 to skip)\n"
    "  --observed X    reshuffle test: the statistic of the real run ...\n"
    "  --null FILE     ... against those of reshuffled runs (first numeric column)\n"
    "  --seed N        seed for the permutations (default 42)\n"
    "  --json          machine-readable output\n";

static int get_col(const char *cmd, const char *file, const pk_table *t, const char *name, double **out)
{
    int c = pk_table_find(t, name);
    if (c < 0)
        return pk_cli_fail(cmd, "%s: no column '%s'", file, name);
    if (t->categorical[c])
        return pk_cli_fail(cmd, "%s: column '%s' is not numeric", file, name);
    double *v = malloc((t->nrows ? t->nrows : 1) * sizeof *v);
    if (!v)
        return pk_cli_fail(cmd, "out of memory");
    for (size_t i = 0; i < t->nrows; i++) {
        v[i] = t->values[i * t->ncols + (size_t)c];
        if (!isfinite(v[i])) {
            free(v);
            return pk_cli_fail(cmd, "%s: column '%s', data row %zu: missing or non-finite value", file, name, i + 1);
        }
    }
    *out = v;
    return 0;
}

static int reshuffle(const char *cmd, double observed, const char *nullfile, int json)
{
    pk_err err;
    pk_err_clear(&err);
    pk_table *t = NULL;
    pk_csv_opts o = pk_csv_opts_default();
    int st = pk_csv_read(nullfile, &o, &t, &err);
    if (st)
        return pk_cli_fail_status(cmd, st, &err);
    int rc = PK_EXIT_OK;
    double *v = NULL;
    if (t->ncols < 1 || t->categorical[0] || (rc = get_col(cmd, nullfile, t, t->names[0], &v))) {
        if (!rc)
            rc = pk_cli_fail(cmd, "%s: the first column must hold the reshuffled statistics", nullfile);
        pk_table_free(t);
        return rc;
    }
    pk_reshuffle_result r;
    st = pk_reshuffle_ztest(observed, v, t->nrows, &r, &err);
    if (st) {
        rc = pk_cli_fail(cmd, "%s: %s", nullfile, err.msg);
    } else if (json) {
        printf("{\"test\": \"reshuffle\", \"observed\": %.17g, \"m\": %zu, \"null_mean\": %.17g, \"null_sd\": %.17g, "
               "\"z\": %.17g, \"log10_p_normal\": %.17g, \"p_rank\": %.17g}\n",
               observed, r.m, r.null_mean, r.null_sd, r.z, r.log10_p_normal, r.p_rank);
    } else {
        printf("reshuffle test: observed %.6g against %zu reshuffled runs (mean %.6g, sd %.6g)\n", observed, r.m,
               r.null_mean, r.null_sd);
        printf("  z = %.4f   log10 p (normal, one-sided) = %.4f   rank p = %.4g\n", r.z, r.log10_p_normal,
               r.p_rank);
    }
    free(v);
    pk_table_free(t);
    return rc;
}

static int cmd_main(int argc, char **argv)
{
    const char *cmd = "provenance", *file = NULL, *ocol = "order", *lcol = "loss", *rcol = NULL, *nullf = NULL;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    long nperm = 10000;
    double observed = NAN;
    int json = 0;
    const pk_cli_opt opts[] = {
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {"--order", PK_CLI_STR, &ocol, 0, 0, NULL},
        {"--loss", PK_CLI_STR, &lcol, 0, 0, NULL},
        {"--ref", PK_CLI_STR, &rcol, 0, 0, NULL},
        {"--null", PK_CLI_STR, &nullf, 0, 0, NULL},
        {"--observed", PK_CLI_DOUBLE, &observed, -HUGE_VAL, HUGE_VAL, "a finite number"},
        {"--perm", PK_CLI_LONG, &nperm, 0, 100000000, NULL},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(cmd, HELP, argc, argv, opts, &file, 1, NULL);
    if (prc >= 0)
        return prc;
    if (nullf || !isnan(observed)) {
        if (!nullf || isnan(observed))
            return pk_cli_usage(cmd, "the reshuffle test needs both --observed and --null");
        return reshuffle(cmd, observed, nullf, json);
    }
    if (!file)
        return pk_cli_usage(cmd, "no input file");
    pk_err err;
    pk_err_clear(&err);
    pk_table *t = NULL;
    pk_csv_opts o = pk_csv_opts_default();
    int st = pk_csv_read(file, &o, &t, &err);
    if (st)
        return pk_cli_fail_status(cmd, st, &err);
    double *ord = NULL, *loss = NULL, *ref = NULL;
    int rc;
    if ((rc = get_col(cmd, file, t, ocol, &ord)) || (rc = get_col(cmd, file, t, lcol, &loss)) ||
        (rcol && (rc = get_col(cmd, file, t, rcol, &ref))))
        goto done;
    size_t n = t->nrows;
    for (size_t i = 0; i < n; i++)
        loss[i] = ref ? ref[i] - loss[i] : -loss[i];
    pk_spearman_result s;
    if ((st = pk_spearman(ord, loss, n, &s, &err))) {
        rc = pk_cli_fail(cmd, "%s: %s", file, err.msg);
        goto done;
    }
    double pperm = NAN;
    int exact = 0;
    if (nperm > 0 || n <= 8) {
        pk_rng rng;
        pk_rng_seed(&rng, seed);
        if ((st = pk_spearman_permutation(ord, loss, n, (size_t)nperm, &rng, &pperm, &exact, &err))) {
            rc = pk_cli_fail(cmd, "%s: %s", file, err.msg);
            goto done;
        }
    }
    if (json) {
        printf("{\"file\": \"%s\", \"n\": %zu, \"score\": \"%s\", \"rho\": %.17g, \"t\": %.17g, "
               "\"log10_p_two_sided\": %.17g, \"log10_p_one_sided\": %.17g, ",
               file, n, ref ? "ref_loss - loss" : "-loss", s.rho, s.t, s.log10_p, s.log10_p_one);
        if (isnan(pperm))
            printf("\"p_perm\": null, ");
        else
            printf("\"p_perm\": %.17g, ", pperm);
        printf("\"perm_exact\": %s, \"nperm\": %llu, \"seed\": %llu}\n", exact ? "true" : "false",
               (unsigned long long)nperm, (unsigned long long)seed);
    } else {
        printf("%s: n = %zu, score = %s\n", file, n, ref ? "ref_loss - loss" : "-loss");
        printf("  Spearman rho      %.6f   (t = %.4f, df = %zu)\n", s.rho, s.t, n - 2);
        printf("  log10 p two-sided %.4f\n  log10 p one-sided %.4f   (H1: later examples have lower loss)\n",
               s.log10_p, s.log10_p_one);
        if (!isnan(pperm))
            printf("  permutation p     %.6g   (%s, seed %llu)\n", pperm,
                   exact ? "exact enumeration" : "Monte Carlo", (unsigned long long)seed);
    }
done:
    free(ord);
    free(loss);
    free(ref);
    pk_table_free(t);
    return rc;
}

const pk_cli_cmd pk_cmd_provenance = {"provenance", "training-order provenance tests (Spearman, permutation, reshuffle)",
                                      cmd_main};
