/* probkit pfn — prior-data fitted networks: fit a transformer to a GP prior,
 * check it against the exact posterior predictive, predict from CSV files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "cli.h"
#include "probkit/io.h"
#include "probkit/pfn.h"
#include "probkit/progress.h"

static const char *CMD = "pfn";
static const char *HELP =
    "usage: probkit pfn train --out MODEL.safetensors [options]\n"
    "       probkit pfn eval MODEL.safetensors [--datasets N] [--json]\n"
    "       probkit pfn predict MODEL.safetensors TRAIN.csv QUERY.csv [--out PRED.csv]\n\n"
    "A prior-data fitted network (Mueller et al., ICLR 2022) is a transformer\n"
    "trained on data sets drawn from a prior to output the Bayesian posterior\n"
    "predictive distribution in one forward pass.  The prior here is an RBF\n"
    "Gaussian process on [0,1]^dim, with fixed or random hyperparameters.\n\n"
    "train options:\n"
    "  --dim D            input dimension (default 1)\n"
    "  --prior P          gp (fixed hyperparameters, default) or gp-hyper\n"
    "  --lengthscale L    gp: length scale (0.2)      --outputscale S  (1)\n"
    "  --noise V          gp: noise variance (0.01)\n"
    "  --d-model C        width (64)   --layers L (4)   --heads H (4)\n"
    "  --buckets B        bar-distribution buckets (100)\n"
    "  --x-encoder E      linear (the paper's, default) or mlp (one GELU layer)\n"
    "  --steps N          optimiser steps (2000)      --batch B (32 data sets)\n"
    "  --points T         points per data set (50)    --lr R (1e-3)\n"
    "  --seed N           (42)\n"
    "eval: mean NLL per query point of the PFN against the Bayes predictive (exact\n"
    "  GP; for gp-hyper, hyperparameters integrated by importance sampling) on\n"
    "  fresh data sets from the model's prior, for 0..(points-1) training points.\n"
    "  --datasets N (200)  --queries Q (10)  --is-samples S (2000)  --seed N  --json\n"
    "predict: TRAIN.csv has dim input columns then y; QUERY.csv has dim input\n"
    "  columns (a header row each).  Prints CSV mean,sd,q05,q50,q95 per query row\n"
    "  (stdout, or --out written atomically).\n\n"
    "exit status: 0 ok, 1 bad file or data (names it), 2 usage.\n";

static int progress_cb(int step, int steps, double loss, void *user)
{
    pk_progress_update((pk_progress *)user, (uint64_t)step, "loss %.4f", loss);
    (void)steps;
    return 0;
}

static int cmd_train(int argc, char **argv)
{
    const char *out = NULL;
    long dim = 1, d_model = 64, layers = 4, heads = 4, buckets = 100, steps = 2000, batch = 32, points = 50;
    int prior_kind = 0, xenc = 0;
    double ls = 0.2, os = 1.0, noise = 0.01, lr = 1e-3;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    const pk_cli_opt opts[] = {
        {"--out", PK_CLI_STR, &out, 0, 0, NULL},
        {"--dim", PK_CLI_LONG, &dim, 1, 16, NULL},
        {"--prior", PK_CLI_CHOICE, &prior_kind, 0, 0, "gp|gp-hyper"},
        {"--lengthscale", PK_CLI_DOUBLE, &ls, 1e-6, 1e6, NULL},
        {"--outputscale", PK_CLI_DOUBLE, &os, 1e-6, 1e6, NULL},
        {"--noise", PK_CLI_DOUBLE, &noise, 1e-9, 1e6, NULL},
        {"--d-model", PK_CLI_LONG, &d_model, 4, 4096, NULL},
        {"--layers", PK_CLI_LONG, &layers, 1, 32, NULL},
        {"--heads", PK_CLI_LONG, &heads, 1, 64, NULL},
        {"--buckets", PK_CLI_LONG, &buckets, 2, 4096, NULL},
        {"--x-encoder", PK_CLI_CHOICE, &xenc, 0, 0, "linear|mlp"},
        {"--steps", PK_CLI_LONG, &steps, 1, 100000000, NULL},
        {"--batch", PK_CLI_LONG, &batch, 1, 4096, NULL},
        {"--points", PK_CLI_LONG, &points, 2, 4096, NULL},
        {"--lr", PK_CLI_DOUBLE, &lr, 1e-7, 0.5, NULL},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int rc = pk_cli_parse(CMD, HELP, argc, argv, opts, NULL, 0, NULL);
    if (rc >= 0)
        return rc;
    if (!out)
        return pk_cli_usage(CMD, "train needs --out MODEL.safetensors");
    if (d_model % heads)
        return pk_cli_usage(CMD, "--d-model %ld must be a multiple of --heads %ld", d_model, heads);
    pk_pfn_prior pr = pk_pfn_prior_default((int)dim);
    pr.kind = prior_kind ? PK_PFN_GP_HYPER : PK_PFN_GP;
    pr.lengthscale = ls, pr.outputscale = os, pr.noise = noise;
    pk_pfn_config cfg = {(int)dim, (int)d_model, (int)layers, (int)heads, (int)buckets, xenc};
    pk_pfn_train_params tp = pk_pfn_train_params_default();
    tp.steps = (int)steps, tp.batch = (int)batch, tp.n_points = (int)points, tp.lr = lr;
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    pk_err err = {0};
    double *borders = malloc((size_t)(buckets + 1) * sizeof *borders);
    if (!borders)
        return pk_cli_fail(CMD, "out of memory");
    pk_pfn *m = NULL;
    int st = pk_pfn_borders_from_prior(&pr, (int)buckets, (size_t)buckets * 1000, &rng, borders, &err);
    if (!st)
        st = pk_pfn_new(&cfg, borders, &rng, &m, &err);
    free(borders);
    if (st)
        return pk_cli_fail_status(CMD, st, &err);
    fprintf(stderr, "probkit pfn: %zu parameters, prior %s, %ld steps x %ld data sets of %ld points, seed %llu\n",
            pk_pfn_num_params(m), prior_kind ? "gp-hyper" : "gp", steps, batch, points, (unsigned long long)seed);
    pk_progress *pg = pk_progress_new(stderr, "train", (uint64_t)steps, 0);
    double loss = NAN, t0 = pk_time_now();
    st = pk_pfn_train(m, &pr, &tp, &rng, pg ? progress_cb : NULL, pg, &loss, &err);
    pk_progress_finish(pg);
    pk_progress_free(pg);
    if (!st)
        st = pk_pfn_save(m, out, &err);
    pk_pfn_free(m);
    if (st)
        return pk_cli_fail_status(CMD, st, &err);
    printf("trained in %.1f s; final loss %.4f nats per query point; model in %s\n", pk_time_now() - t0, loss, out);
    return PK_EXIT_OK;
}

static int cmd_eval(int argc, char **argv)
{
    const char *path = NULL;
    long datasets = 200, queries = 10, is_samples = 2000;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    int json = 0;
    const pk_cli_opt opts[] = {
        {"--datasets", PK_CLI_LONG, &datasets, 1, 1000000, NULL},
        {"--queries", PK_CLI_LONG, &queries, 1, 4096, NULL},
        {"--is-samples", PK_CLI_LONG, &is_samples, 1, 10000000, NULL},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int rc = pk_cli_parse(CMD, HELP, argc, argv, opts, &path, 1, NULL);
    if (rc >= 0)
        return rc;
    if (!path)
        return pk_cli_usage(CMD, "eval needs MODEL.safetensors");
    pk_err err = {0};
    pk_pfn *m = NULL;
    int st = pk_pfn_load(path, &m, &err);
    if (st)
        return pk_cli_fail_status(CMD, st, &err);
    if (!pk_pfn_get_prior(m)) {
        pk_pfn_free(m);
        return pk_cli_fail(CMD, "%s: the model records no prior (was it trained by probkit?)", path);
    }
    int ns[] = {0, 1, 2, 5, 10, 20, 40};
    pk_pfn_eval ev[7];
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    st = pk_pfn_evaluate(m, NULL, ns, 7, (int)datasets, (int)queries, (int)is_samples, &rng, ev, &err);
    pk_pfn_free(m);
    if (st)
        return pk_cli_fail_status(CMD, st, &err);
    if (json)
        printf("{\"model\": \"%s\", \"seed\": %llu, \"rows\": [", path, (unsigned long long)seed);
    else
        printf("%8s %10s %10s %10s %9s %11s %11s\n", "n_train", "nll_pfn", "nll_bayes", "diff", "se", "ms_pfn",
               "ms_bayes");
    for (int i = 0; i < 7; i++) {
        if (json)
            printf("%s{\"n_train\": %d, \"nll_pfn\": %.6f, \"nll_bayes\": %.6f, \"nll_plugin\": %.6f, \"se_diff\": %.6f, "
                   "\"sec_pfn\": %.6g, \"sec_bayes\": %.6g}",
                   i ? ", " : "", ev[i].n_train, ev[i].nll_pfn, ev[i].nll_ref, ev[i].nll_plugin, ev[i].se_diff,
                   ev[i].sec_pfn, ev[i].sec_ref);
        else
            printf("%8d %10.4f %10.4f %+10.4f %9.4f %11.3f %11.3f\n", ev[i].n_train, ev[i].nll_pfn, ev[i].nll_ref,
                   ev[i].nll_pfn - ev[i].nll_ref, ev[i].se_diff, 1e3 * ev[i].sec_pfn, 1e3 * ev[i].sec_ref);
    }
    if (json)
        printf("]}\n");
    return PK_EXIT_OK;
}

static int cmd_predict(int argc, char **argv)
{
    const char *pos[3] = {NULL, NULL, NULL}, *outp = NULL;
    int npos = 0;
    const pk_cli_opt opts[] = {{"--out", PK_CLI_STR, &outp, 0, 0, NULL}, {NULL, 0, NULL, 0, 0, NULL}};
    int rc = pk_cli_parse(CMD, HELP, argc, argv, opts, pos, 3, &npos);
    if (rc >= 0)
        return rc;
    if (npos != 3)
        return pk_cli_usage(CMD, "predict needs MODEL.safetensors TRAIN.csv QUERY.csv");
    pk_err err = {0};
    pk_pfn *m = NULL;
    int st = pk_pfn_load(pos[0], &m, &err);
    if (st)
        return pk_cli_fail_status(CMD, st, &err);
    size_t d = (size_t)pk_pfn_get_config(m)->dim, nb = (size_t)pk_pfn_get_config(m)->n_buckets, n = 0, nq = 0;
    double *tr = NULL, *Xq = NULL, *X = NULL, *y = NULL, *mean = NULL, *var = NULL, *logp = NULL;
    rc = PK_EXIT_FAIL;
    if (pk_cli_read_csv_matrix(CMD, pos[1], d + 1, 1, &tr, &n, NULL) ||
        pk_cli_read_csv_matrix(CMD, pos[2], d, 1, &Xq, &nq, NULL))
        goto done;
    if (nq == 0) {
        pk_cli_fail(CMD, "%s: no query rows", pos[2]);
        goto done;
    }
    X = malloc((n ? n : 1) * d * sizeof *X), y = malloc((n ? n : 1) * sizeof *y);
    mean = malloc(nq * sizeof *mean), var = malloc(nq * sizeof *var), logp = malloc(nq * nb * sizeof *logp);
    if (!X || !y || !mean || !var || !logp) {
        pk_cli_fail(CMD, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(X + i * d, tr + i * (d + 1), d * sizeof *X);
        y[i] = tr[i * (d + 1) + d];
    }
    if ((st = pk_pfn_predict(m, X, y, n, Xq, nq, NULL, NULL, mean, var, logp, &err))) {
        pk_cli_fail_status(CMD, st, &err);
        goto done;
    }
    pk_atomic_file af;
    FILE *fp = stdout;
    if (outp) {
        if ((st = pk_atomic_open(&af, outp, &err))) {
            pk_cli_fail_status(CMD, st, &err);
            goto done;
        }
        fp = af.fp;
    }
    fprintf(fp, "mean,sd,q05,q50,q95\n");
    const double *bd = pk_pfn_borders(m);
    for (size_t q = 0; q < nq; q++)
        fprintf(fp, "%.9g,%.9g,%.9g,%.9g,%.9g\n", mean[q], sqrt(var[q]), pk_pfn_bar_quantile(bd, (int)nb, logp + q * nb, 0.05),
                pk_pfn_bar_quantile(bd, (int)nb, logp + q * nb, 0.5), pk_pfn_bar_quantile(bd, (int)nb, logp + q * nb, 0.95));
    if (outp && (st = pk_atomic_commit(&af, &err))) {
        pk_cli_fail_status(CMD, st, &err);
        goto done;
    }
    rc = PK_EXIT_OK;
done:
    pk_pfn_free(m);
    free(tr), free(Xq), free(X), free(y), free(mean), free(var), free(logp);
    return rc;
}

static int cmd_main(int argc, char **argv)
{
    static const pk_cli_sub subs[] = {
        {"train", cmd_train},
        {"eval", cmd_eval},
        {"predict", cmd_predict},
        {NULL, NULL},
    };
    return pk_cli_dispatch(CMD, HELP, argc, argv, subs, 1); /* a PFN's matrix products are small */
}

const pk_cli_cmd pk_cmd_pfn = {"pfn", "prior-data fitted networks: a transformer that does GP inference in one pass",
                               cmd_main};
