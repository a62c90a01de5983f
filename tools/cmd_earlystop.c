/* probkit earlystop — when would each stopping rule have halted this training run? */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "probkit/io.h"
#include "probkit/metrics.h"

static const char *HELP =
    "usage: probkit earlystop LOG.csv [options]\n\n"
    "Replays a training log (one row per epoch) through early-stopping rules and\n"
    "reports, for each, the epoch it stops at, the best epoch seen by then (the\n"
    "model restored), the regret against the run's best validation loss and the\n"
    "cost (share of epochs trained).  Rules: Prechelt's GL_a, PQ_a and UP_s (strips\n"
    "of --strip epochs), patience, and the correlated-indicators rule (\"Early\n"
    "stopping by correlating online indicators\"): halt when at least --quorum of\n"
    "the --coi indicators are on and have been on together over the last --window\n"
    "epochs (mean pairwise correlation >= --rmin).\n\n"
    "options:\n"
    "  --val COL        validation loss column (default: val_loss, then val)\n"
    "  --train COL      training loss column (default: train_loss, then train)\n"
    "  --strip K        strip length (default 5)\n"
    "  --rules LIST     default GL1,GL2,GL5,PQ0.5,PQ0.75,PQ2,UP2,UP3,P5,P10\n"
    "                   (GLa, PQa, UPs, Pn = patience n)\n"
    "  --coi LIST       indicators of the correlated rule (default GL2,PQ0.75,UP2)\n"
    "  --quorum Q       (default 2)   --window W (default 10)   --rmin R (default 0.5)\n"
    "  --json           machine-readable output\n";

static int parse_rule(const char *s, pk_es_kind *k, double *p)
{
    size_t off;
    if (!strncmp(s, "GL", 2)) {
        *k = PK_ES_GL;
        off = 2;
    } else if (!strncmp(s, "PQ", 2)) {
        *k = PK_ES_PQ;
        off = 2;
    } else if (!strncmp(s, "UP", 2)) {
        *k = PK_ES_UP;
        off = 2;
    } else if (s[0] == 'P') {
        *k = PK_ES_PATIENCE;
        off = 1;
    } else {
        return -1;
    }
    return pk_cli_parse_double(s + off, p) || !(*p > 0) ? -1 : 0;
}

static int col_of(const pk_table *t, const char *want, const char *d1, const char *d2)
{
    if (want)
        return pk_table_find(t, want);
    int c = pk_table_find(t, d1);
    return c >= 0 ? c : pk_table_find(t, d2);
}

static int cmd_main(int argc, char **argv)
{
    const char *cmd = "earlystop", *file = NULL, *vcol = NULL, *tcol = NULL,
               *rules = "GL1,GL2,GL5,PQ0.5,PQ0.75,PQ2,UP2,UP3,P5,P10", *coi = "GL2,PQ0.75,UP2";
    long strip = 5, quorum = 2, window = 10;
    double rmin = 0.5;
    int json = 0;
    const pk_cli_opt opts[] = {
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {"--val", PK_CLI_STR, &vcol, 0, 0, NULL},
        {"--train", PK_CLI_STR, &tcol, 0, 0, NULL},
        {"--rules", PK_CLI_STR, &rules, 0, 0, NULL},
        {"--coi", PK_CLI_STR, &coi, 0, 0, NULL},
        {"--strip", PK_CLI_LONG, &strip, 1, 1000, NULL},
        {"--quorum", PK_CLI_LONG, &quorum, 1, 64, NULL},
        {"--window", PK_CLI_LONG, &window, 1, 100000, NULL},
        {"--rmin", PK_CLI_DOUBLE, &rmin, -1, 1, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(cmd, HELP, argc, argv, opts, &file, 1, NULL);
    if (prc >= 0)
        return prc;
    if (!file)
        return pk_cli_usage(cmd, "no input file");
    pk_es_kind rk[64], ck[16];
    double rp[64], cp[16];
    char rn[64][24], cn[16][24];
    size_t nr = 0, nc = 0;
    for (int pass = 0; pass < 2; pass++) {
        char b[512];
        snprintf(b, sizeof b, "%s", pass ? coi : rules);
        for (char *t = strtok(b, ","); t; t = strtok(NULL, ",")) {
            pk_es_kind k;
            double p;
            if (parse_rule(t, &k, &p) || (pass ? nc >= 16 : nr >= 64))
                return pk_cli_usage(cmd, "%s: bad rule '%s' (GLa, PQa, UPs or Pn)", pass ? "--coi" : "--rules", t);
            if (pass) {
                ck[nc] = k;
                cp[nc] = p;
                snprintf(cn[nc++], sizeof cn[0], "%s", t);
            } else {
                rk[nr] = k;
                rp[nr] = p;
                snprintf(rn[nr++], sizeof rn[0], "%s", t);
            }
        }
    }
    if ((size_t)quorum > nc)
        return pk_cli_usage(cmd, "--quorum %ld exceeds the %zu --coi indicators", quorum, nc);
    pk_err err;
    pk_err_clear(&err);
    pk_csv_opts o = pk_csv_opts_default();
    pk_table *t = NULL;
    int st = pk_csv_read(file, &o, &t, &err);
    if (st)
        return pk_cli_fail_status(cmd, st, &err);
    int cv = col_of(t, vcol, "val_loss", "val"), ct = col_of(t, tcol, "train_loss", "train");
    size_t n = t->nrows;
    double *val = malloc((n ? n : 1) * sizeof *val), *tr = malloc((n ? n : 1) * sizeof *tr);
    int *ind = malloc((n ? n : 1) * 16 * sizeof *ind), *one = malloc((n ? n : 1) * sizeof *one), rc = PK_EXIT_OK;
    if (!val || !tr || !ind || !one) {
        rc = pk_cli_fail(cmd, "out of memory");
        goto done;
    }
    if (cv < 0) {
        rc = pk_cli_fail(cmd, "%s: no validation loss column '%s'", file, vcol ? vcol : "val_loss/val");
        goto done;
    }
    if (tcol && ct < 0) {
        rc = pk_cli_fail(cmd, "%s: no column '%s'", file, tcol);
        goto done;
    }
    if (n < 2) {
        rc = pk_cli_fail(cmd, "%s: %zu epochs; need at least 2", file, n);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        val[i] = t->values[i * t->ncols + (size_t)cv];
        tr[i] = ct >= 0 ? t->values[i * t->ncols + (size_t)ct] : NAN;
    }
    const double *trp = ct >= 0 ? tr : NULL;
    /* validate everything before the first line of output */
    for (size_t i = 0; i < n; i++) {
        if (!(val[i] > 0) || !isfinite(val[i])) {
            rc = pk_cli_fail(cmd, "%s: data row %zu: validation loss %g must be finite and > 0", file, i + 1, val[i]);
            goto done;
        }
        if (trp && (!(tr[i] > 0) || !isfinite(tr[i]))) {
            rc = pk_cli_fail(cmd, "%s: data row %zu: training loss %g must be finite and > 0", file, i + 1, tr[i]);
            goto done;
        }
    }
    if (json)
        printf("{\"file\": \"%s\", \"epochs\": %zu, \"strip\": %ld, \"rules\": [", file, n, strip);
    else
        printf("%s: %zu epochs, strip %ld\n%-22s %6s %10s %12s %10s %6s\n", file, n, strip, "rule", "stop", "restored",
               "val@restored", "regret %", "cost");
    int first = 1;
    for (size_t r = 0; r <= nr; r++) {
        size_t stop;
        char name[96];
        if (r < nr) {
            if (rk[r] == PK_ES_PQ && !trp) {
                if (!json)
                    printf("%-22s (needs the training loss column)\n", rn[r]);
                continue;
            }
            if ((st = pk_es_indicator(rk[r], rp[r], (size_t)strip, val, trp, n, one, &err))) {
                rc = pk_cli_fail(cmd, "%s: %s", file, err.msg);
                goto done;
            }
            stop = pk_es_first(one, n);
            memcpy(name, rn[r], sizeof rn[r]);
        } else {
            for (size_t c = 0; c < nc; c++) {
                if (ck[c] == PK_ES_PQ && !trp) {
                    rc = pk_cli_fail(cmd, "%s: --coi uses PQ, which needs a training loss column", file);
                    goto done;
                }
                if ((st = pk_es_indicator(ck[c], cp[c], (size_t)strip, val, trp, n, ind + c * n, &err))) {
                    rc = pk_cli_fail(cmd, "%s: %s", file, err.msg);
                    goto done;
                }
            }
            pk_es_correlated(ind, nc, n, (size_t)quorum, (size_t)window, rmin, &stop, NULL);
            snprintf(name, sizeof name, "coi(q=%ld,w=%ld)", quorum, window);
        }
        pk_es_outcome oc;
        pk_es_outcome_of(val, n, stop, &oc);
        if (json) {
            printf("%s\n  {\"rule\": \"%s\", \"fired\": %s, \"stop\": %zu, \"restored\": %zu, \"best\": %zu, "
                   "\"val_restored\": %.17g, \"regret_rel\": %.17g, \"cost\": %.17g}",
                   first ? "" : ",", name, stop < n ? "true" : "false", oc.stop, oc.best_seen, oc.best,
                   val[oc.best_seen], oc.regret_rel, oc.cost);
        } else {
            printf("%-22s %6zu%s %9zu %12.6g %10.3f %6.3f\n", name, oc.stop, stop < n ? " " : "*", oc.best_seen,
                   val[oc.best_seen], 100 * oc.regret_rel, oc.cost);
        }
        first = 0;
    }
    if (json) {
        printf("]}\n");
    } else {
        pk_es_outcome oc;
        pk_es_outcome_of(val, n, n, &oc);
        printf("(* = never fired: trained to the end; best epoch of the run: %zu, val %.6g)\n", oc.best,
               val[oc.best]);
    }
done:
    free(val);
    free(tr);
    free(ind);
    free(one);
    pk_table_free(t);
    return rc;
}

const pk_cli_cmd pk_cmd_earlystop = {"earlystop", "replay a training log through early-stopping rules", cmd_main};
