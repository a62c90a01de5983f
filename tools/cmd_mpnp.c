/* probkit mpnp — neural processes on 1-d GP regression: train a CNP, a
 * latent NP or a Martingale Posterior NP, evaluate context / target
 * log-likelihoods on fresh GP tasks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "probkit/mpnp.h"
#include "probkit/progress.h"

static const char *CMD = "mpnp";
static const char *HELP =
    "usage: probkit mpnp train --out MODEL.safetensors [options]\n"
    "       probkit mpnp eval MODEL.safetensors [options]\n\n"
    "Neural processes for 1-d regression on functions drawn from Gaussian\n"
    "processes: CNP (deterministic), NP (global latent variable, ELBO) and\n"
    "MPNP, the Martingale Posterior Neural Process (Lee et al., ICLR 2023),\n"
    "whose uncertainty comes from generated pseudo contexts: a generator\n"
    "draws n pseudo points (x', y') given the context and the predictive is\n"
    "the mixture over pseudo contexts.  Tasks: x ~ U(-2, 2), 6..49 points,\n"
    "length scale ~ U(0.1, 0.6), output scale ~ U(0.1, 1), noise sd 0.02.\n\n"
    "task options (train and eval):\n"
    "  --kernel K       rbf (default), matern (5/2) or periodic\n"
    "  --t-noise S      add S * StudentT(2.1) noise to y (0; the paper's variant: 0.1)\n"
    "train options:\n"
    "  --model M        cnp, np or mpnp (default mpnp)\n"
    "  --width H        hidden width (64)      --enc-depth L (3)   --dec-depth L (3)\n"
    "  --heads N        generator attention heads (4)\n"
    "  --pseudo N       MPNP pseudo points per pseudo context (16; 0 = the CNP)\n"
    "  --pseudo-space S repr: the generator emits the pseudo points' representations\n"
    "                   (the paper's Figure 1, default); data: it emits points (x', y')\n"
    "                   that are encoded like real ones\n"
    "  --samples K      pseudo contexts / latent draws per training task (5)\n"
    "  --steps N        optimiser steps (2000)   --batch B tasks per step (16)\n"
    "  --lr R           Adam learning rate, cosine-annealed (5e-4)\n"
    "  --seed N         (42)   --json   machine-readable summary on stdout\n"
    "eval options:\n"
    "  --batches N      batches of fresh tasks (100)   --batch B (16)\n"
    "  --samples S      draws for the NP / MPNP mixture (50)\n"
    "  --seed N (42)    --json\n"
    "eval prints the mean log-likelihood per context point and per target\n"
    "point (higher is better) with standard errors over batches.\n\n"
    "exit status: 0 ok, 1 bad model file or failure (names it), 2 usage.\n";

static const char *KERNELS = "rbf|matern|periodic";

static int progress_cb(int step, int steps, double loss, void *user)
{
    pk_progress_update((pk_progress *)user, (uint64_t)step, "loss %.4f", loss);
    (void)steps;
    return 0;
}

static int cmd_train(int argc, char **argv)
{
    const char *out = NULL;
    int kind = PK_MPNP_MPNP, kernel = 0, json = 0, space = 1;
    long width = 64, enc = 3, dec = 3, heads = 4, pseudo = 16, samples = 5, steps = 2000, batch = 16;
    double lr = 5e-4, tnoise = 0;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    const pk_cli_opt opts[] = {
        {"--out", PK_CLI_STR, &out, 0, 0, NULL},
        {"--model", PK_CLI_CHOICE, &kind, 0, 0, "cnp|np|mpnp"},
        {"--kernel", PK_CLI_CHOICE, &kernel, 0, 0, KERNELS},
        {"--t-noise", PK_CLI_DOUBLE, &tnoise, 0, 100, NULL},
        {"--width", PK_CLI_LONG, &width, 4, 1024, NULL},
        {"--enc-depth", PK_CLI_LONG, &enc, 1, 8, NULL},
        {"--dec-depth", PK_CLI_LONG, &dec, 2, 8, NULL},
        {"--heads", PK_CLI_LONG, &heads, 1, 64, NULL},
        {"--pseudo", PK_CLI_LONG, &pseudo, 0, 256, NULL},
        {"--pseudo-space", PK_CLI_CHOICE, &space, 0, 0, "data|repr"},
        {"--samples", PK_CLI_LONG, &samples, 1, 64, NULL},
        {"--steps", PK_CLI_LONG, &steps, 1, 100000000, NULL},
        {"--batch", PK_CLI_LONG, &batch, 1, 1024, NULL},
        {"--lr", PK_CLI_DOUBLE, &lr, 1e-7, 0.5, NULL},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int rc = pk_cli_parse(CMD, HELP, argc, argv, opts, NULL, 0, NULL);
    if (rc >= 0)
        return rc;
    if (!out)
        return pk_cli_usage(CMD, "train needs --out MODEL.safetensors");
    if (width % heads)
        return pk_cli_usage(CMD, "--width %ld must be a multiple of --heads %ld", width, heads);
    pk_mpnp_config cfg = pk_mpnp_config_default((pk_mpnp_kind)kind);
    cfg.width = (int)width, cfg.enc_depth = (int)enc, cfg.dec_depth = (int)dec, cfg.n_head = (int)heads;
    cfg.n_pseudo = (int)pseudo, cfg.n_samples = (int)samples, cfg.pseudo_space = (pk_mpnp_pseudo_space)space;
    pk_mpnp_task_params tp = pk_mpnp_task_params_default((pk_mpnp_kernel)kernel);
    tp.t_noise = tnoise;
    pk_mpnp_train_params trp = pk_mpnp_train_params_default();
    trp.steps = (int)steps, trp.batch = (int)batch, trp.lr = lr;
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    pk_err err = {0};
    pk_mpnp *m = NULL;
    int st = pk_mpnp_new(&cfg, &rng, &m, &err);
    if (st)
        return pk_cli_fail_status(CMD, st, &err);
    fprintf(stderr, "probkit mpnp: %s, %lld parameters, kernel %s, %ld steps x %ld tasks, seed %llu\n",
            pk_mpnp_kind_name(cfg.kind), (long long)pk_mpnp_num_params(m),
            kernel == 0 ? "rbf" : kernel == 1 ? "matern" : "periodic", steps, batch, (unsigned long long)seed);
    pk_progress *pg = json ? NULL : pk_progress_new(stderr, "train", (uint64_t)steps, 0);
    double loss = NAN, t0 = pk_time_now();
    st = pk_mpnp_train(m, &tp, &trp, &rng, pg ? progress_cb : NULL, pg, &loss, &err);
    pk_progress_finish(pg);
    pk_progress_free(pg);
    if (!st)
        st = pk_mpnp_save(m, out, &err);
    long long np = (long long)pk_mpnp_num_params(m);
    pk_mpnp_free(m);
    if (st)
        return pk_cli_fail_status(CMD, st, &err);
    double secs = pk_time_now() - t0;
    if (json)
        printf("{\"model\": \"%s\", \"params\": %lld, \"steps\": %ld, \"batch\": %ld, \"seed\": %llu, "
               "\"final_loss\": %.6f, \"seconds\": %.3f, \"out\": \"%s\"}\n",
               pk_mpnp_kind_name(cfg.kind), np, steps, batch, (unsigned long long)seed, loss, secs, out);
    else
        printf("trained %s in %.1f s (seed %llu); final loss %.4f nats per point; model in %s\n",
               pk_mpnp_kind_name(cfg.kind), secs, (unsigned long long)seed, loss, out);
    return PK_EXIT_OK;
}

static int cmd_eval(int argc, char **argv)
{
    const char *path = NULL;
    int kernel = 0, json = 0;
    long batches = 100, batch = 16, samples = 50;
    double tnoise = 0;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    const pk_cli_opt opts[] = {
        {"--kernel", PK_CLI_CHOICE, &kernel, 0, 0, KERNELS},
        {"--t-noise", PK_CLI_DOUBLE, &tnoise, 0, 100, NULL},
        {"--batches", PK_CLI_LONG, &batches, 1, 1000000, NULL},
        {"--batch", PK_CLI_LONG, &batch, 1, 1024, NULL},
        {"--samples", PK_CLI_LONG, &samples, 1, 1000, NULL},
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
    pk_mpnp *m = NULL;
    int st = pk_mpnp_load(path, &m, &err);
    if (st)
        return pk_cli_fail_status(CMD, st, &err);
    pk_mpnp_task_params tp = pk_mpnp_task_params_default((pk_mpnp_kernel)kernel);
    tp.t_noise = tnoise;
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    pk_mpnp_eval ev;
    st = pk_mpnp_evaluate(m, &tp, (int)batches, (int)batch, (int)samples, &rng, &ev, &err);
    const char *kn = pk_mpnp_kind_name(pk_mpnp_get_config(m)->kind);
    if (st) {
        pk_mpnp_free(m);
        return pk_cli_fail_status(CMD, st, &err);
    }
    if (json) {
        /* standard errors need two batches: null, not NaN, keeps the JSON valid */
        char cse[32] = "null", tse[32] = "null";
        if (isfinite(ev.ctx_se))
            snprintf(cse, sizeof cse, "%.6f", ev.ctx_se);
        if (isfinite(ev.tar_se))
            snprintf(tse, sizeof tse, "%.6f", ev.tar_se);
        printf("{\"file\": \"%s\", \"model\": \"%s\", \"kernel\": \"%s\", \"t_noise\": %g, \"seed\": %llu, "
               "\"tasks\": %d, \"samples\": %ld, \"ctx_ll\": %.6f, \"ctx_se\": %s, \"tar_ll\": %.6f, "
               "\"tar_se\": %s}\n",
               path, kn, kernel == 0 ? "rbf" : kernel == 1 ? "matern" : "periodic", tnoise, (unsigned long long)seed,
               ev.tasks, samples, ev.ctx_ll, cse, ev.tar_ll, tse);
    }
    else
        printf("%s on %d tasks (seed %llu, %ld draws): context ll %.4f +- %.4f, target ll %.4f +- %.4f\n", kn,
               ev.tasks, (unsigned long long)seed, samples, ev.ctx_ll, ev.ctx_se, ev.tar_ll, ev.tar_se);
    pk_mpnp_free(m);
    return PK_EXIT_OK;
}

static int cmd_main(int argc, char **argv)
{
    static const pk_cli_sub subs[] = {
        {"train", cmd_train},
        {"eval", cmd_eval},
        {NULL, NULL},
    };
    return pk_cli_dispatch(CMD, HELP, argc, argv, subs, 1); /* small matrix products */
}

const pk_cli_cmd pk_cmd_mpnp = {"mpnp", "neural processes on GP regression: CNP, NP, Martingale Posterior NP",
                                cmd_main};
