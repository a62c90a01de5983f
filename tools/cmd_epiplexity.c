/* cmd_epiplexity.c — `probkit epiplexity`: split a learner's online code into
 * epiplexity (structure) and time-bounded entropy (noise), from a training log
 * or on the paper's cellular-automaton testbed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "probkit/epiplexity.h"
#include "probkit/io.h"

static const char *HELP =
    "usage: probkit epiplexity curve LOG.csv [--loss-col NAME] [--tokens-col NAME | --tokens N]\n"
    "                                [--final F] [--json]\n"
    "       probkit epiplexity eca --rule R [--observer circulant|mlp] [--train-steps N] [--json] ...\n\n"
    "Epiplexity (Finzi et al. 2026): for a bounded learner, the online (prequential)\n"
    "code of a data stream = time-bounded entropy (the final loss times the tokens:\n"
    "what stays unpredictable) + epiplexity (the area of the training curve above its\n"
    "final level: the structure the learner absorbed).\n\n"
    "curve   reads a training log with a header: the loss column (nats per token of\n"
    "        each batch *before* the update on it; default column `loss`) and the\n"
    "        tokens per step (a column, or --tokens N for all steps; default 1).\n"
    "        --final F is the final model's loss (default: the mean of the last 5%\n"
    "        of steps).  Prints total, entropy and epiplexity in bits.\n"
    "eca     trains an observer online on fresh samples of elementary cellular\n"
    "        automaton rule R (0..255): predict the ring --eca-steps generations after\n"
    "        a state burnt in for --burnin generations.  Options: --width W (default\n"
    "        64), --eca-steps (48), --burnin (1000), --observer circulant (default;\n"
    "        translation-equivariant, --channels C, default 4) or mlp (--hidden H,\n"
    "        default 256), --batch B (64), --train-steps N (2000), --lr (3e-3),\n"
    "        --seed S (42).\n";

static int cmd_curve(int argc, char **argv)
{
    const char *loss_col = "loss", *tok_col = NULL;
    double tokens = 1, final = NAN;
    int json = 0;
    const pk_cli_opt opts[] = {
        {"--loss-col", PK_CLI_STR, &loss_col, 0, 0, NULL},
        {"--tokens-col", PK_CLI_STR, &tok_col, 0, 0, NULL},
        {"--tokens", PK_CLI_DOUBLE, &tokens, 1e-300, 1e300, "a number > 0"},
        {"--final", PK_CLI_DOUBLE, &final, 0, 1e300, "a number >= 0"},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {NULL, PK_CLI_FLAG, NULL, 0, 0, NULL},
    };
    const char *pos[1] = {NULL};
    int npos = 0;
    int rc = pk_cli_parse("epiplexity", HELP, argc, argv, opts, pos, 1, &npos);
    if (rc >= 0)
        return rc;
    if (npos != 1)
        return pk_cli_usage("epiplexity", "curve needs one training log (CSV)");
    pk_err err;
    pk_err_clear(&err);
    pk_csv_opts co = pk_csv_opts_default();
    co.require_numeric = 1;
    pk_table *t = NULL;
    int st = pk_csv_read(pos[0], &co, &t, &err);
    if (st != PK_OK)
        return pk_cli_fail_status("epiplexity", st, &err);
    int lc = pk_table_find(t, loss_col), tc = tok_col ? pk_table_find(t, tok_col) : -1;
    double *loss = NULL, *tok = NULL;
    rc = PK_EXIT_FAIL;
    if (lc < 0) {
        pk_cli_fail("epiplexity", "%s: no column '%s' (use --loss-col)", pos[0], loss_col);
        goto done;
    }
    if (tok_col && tc < 0) {
        pk_cli_fail("epiplexity", "%s: no column '%s'", pos[0], tok_col);
        goto done;
    }
    size_t n = t->nrows;
    if (n == 0) {
        pk_cli_fail("epiplexity", "%s: no rows", pos[0]);
        goto done;
    }
    loss = malloc(n * sizeof *loss);
    tok = malloc(n * sizeof *tok);
    if (!loss || !tok) {
        pk_cli_fail("epiplexity", "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        loss[i] = t->values[i * t->ncols + (size_t)lc];
        tok[i] = tc >= 0 ? t->values[i * t->ncols + (size_t)tc] : tokens;
        if (!isfinite(loss[i]) || loss[i] < 0) {
            pk_cli_fail("epiplexity", "%s: row %zu, column '%s' is not a finite loss >= 0", pos[0], i + 1, loss_col);
            goto done;
        }
        if (!isfinite(tok[i]) || !(tok[i] > 0)) {
            pk_cli_fail("epiplexity", "%s: row %zu: tokens must be > 0", pos[0], i + 1);
            goto done;
        }
    }
    int default_final = isnan(final);
    if (default_final) {
        size_t k = n / 20 ? n / 20 : 1;
        final = 0;
        for (size_t i = n - k; i < n; i++)
            final += loss[i] / (double)k;
    }
    pk_epi_code c;
    st = pk_epi_prequential(loss, tok, n, final, &c, &err);
    if (st != PK_OK) {
        rc = pk_cli_fail_status("epiplexity", st, &err);
        goto done;
    }
    if (json)
        printf("{\"steps\": %zu, \"tokens\": %.17g, \"final_loss\": %.17g, \"total_bits\": %.17g, \"entropy_bits\": "
               "%.17g, \"epiplexity_bits\": %.17g}\n",
               n, c.tokens, c.final_loss, c.total_bits, c.entropy_bits, c.epiplexity_bits);
    else
        printf("%zu steps, %.6g tokens, final loss %.6g nats/token%s\n"
               "prequential code   %.6g bits\n"
               "time-bounded entropy %.6g bits\n"
               "epiplexity         %.6g bits\n",
               n, c.tokens, c.final_loss, default_final ? " (mean of the last 5% of steps)" : "", c.total_bits,
               c.entropy_bits, c.epiplexity_bits);
    rc = PK_EXIT_OK;
done:
    free(loss);
    free(tok);
    pk_table_free(t);
    return rc;
}

static int cmd_eca(int argc, char **argv)
{
    long rule = -1, width = 64, steps = 48, burnin = 1000, channels = 4, hidden = 256, batch = 64, train = 2000;
    double lr = 3e-3;
    int observer = 0, json = 0;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    const pk_cli_opt opts[] = {
        {"--rule", PK_CLI_LONG, &rule, 0, 255, NULL},
        {"--observer", PK_CLI_CHOICE, &observer, 0, 0, "circulant|mlp"},
        {"--width", PK_CLI_LONG, &width, 3, 4096, NULL},
        {"--eca-steps", PK_CLI_LONG, &steps, 0, 1000000, NULL},
        {"--burnin", PK_CLI_LONG, &burnin, 0, 1000000, NULL},
        {"--channels", PK_CLI_LONG, &channels, 1, 64, NULL},
        {"--hidden", PK_CLI_LONG, &hidden, 1, 100000, NULL},
        {"--batch", PK_CLI_LONG, &batch, 1, 100000, NULL},
        {"--train-steps", PK_CLI_LONG, &train, 1, 100000000, NULL},
        {"--lr", PK_CLI_DOUBLE, &lr, 1e-9, 10, NULL},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {NULL, PK_CLI_FLAG, NULL, 0, 0, NULL},
    };
    int rc = pk_cli_parse("epiplexity", HELP, argc, argv, opts, NULL, 0, NULL);
    if (rc >= 0)
        return rc;
    if (rule < 0)
        return pk_cli_usage("epiplexity", "eca needs --rule R (0..255)");
    pk_epi_eca_opts o = pk_epi_eca_opts_default();
    o.observer = observer == 0 ? PK_EPI_CIRCULANT : PK_EPI_MLP;
    o.width = (size_t)width;
    o.steps = (size_t)steps;
    o.burnin = (size_t)burnin;
    o.channels = (size_t)channels;
    o.hidden = (size_t)hidden;
    o.batch = (size_t)batch;
    o.train_steps = (size_t)train;
    o.lr = lr;
    pk_epi_code c;
    pk_err err;
    pk_err_clear(&err);
    if (!json)
        fprintf(stderr, "probkit epiplexity: rule %ld, %s observer, %ld steps of %ld samples, seed %llu\n", rule,
                observer == 0 ? "circulant" : "mlp", train, batch, (unsigned long long)seed);
    int st = pk_epi_eca_run((unsigned)rule, &o, seed, NULL, &c, &err);
    if (st != PK_OK)
        return pk_cli_fail_status("epiplexity", st, &err);
    double per = 1.0 / (double)(o.train_steps * o.batch);
    if (json)
        printf("{\"rule\": %ld, \"observer\": \"%s\", \"seed\": %llu, \"final_loss\": %.17g, \"total_bits\": %.17g, "
               "\"entropy_bits\": %.17g, \"epiplexity_bits\": %.17g, \"entropy_bits_per_sample\": %.17g}\n",
               rule, observer == 0 ? "circulant" : "mlp", (unsigned long long)seed, c.final_loss, c.total_bits,
               c.entropy_bits, c.epiplexity_bits, c.entropy_bits * per);
    else
        printf("rule %ld: final loss %.4f nats/cell, time-bounded entropy %.2f bits per sample, epiplexity %.4g bits\n",
               rule, c.final_loss, c.entropy_bits * per, c.epiplexity_bits);
    return PK_EXIT_OK;
}

static int cmd_main(int argc, char **argv)
{
    static const pk_cli_sub subs[] = {
        {"curve", cmd_curve},
        {"eca", cmd_eca},
        {NULL, NULL},
    };
    return pk_cli_dispatch("epiplexity", HELP, argc, argv, subs, 1); /* the ECA observers are small networks */
}

const pk_cli_cmd pk_cmd_epiplexity = {"epiplexity", "epiplexity vs time-bounded entropy of a learner's online code",
                                      cmd_main};
