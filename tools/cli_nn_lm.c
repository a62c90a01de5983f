/* cli_nn_lm.c — `probkit nn lm`: train the byte-level GPT on a text file,
 * sample from it, score text (bits per byte) against a 5-gram baseline. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_nn_lm.h"
#include "probkit/io.h"
#include "probkit/nn.h"
#include "probkit/progress.h"
#include "probkit/rng.h"

static const char *HELP =
    "usage: probkit nn lm train  [--text FILE] [--out FILE] [options]\n"
    "       probkit nn lm sample --model FILE [--prompt STR] [--n N] [--temperature T] [--top-k K] [--top-p P] [--seed N]\n"
    "       probkit nn lm score  --model FILE --text FILE [--stride S] [--per-token] [--json]\n\n"
    "A GPT-2-style byte-level language model (vocabulary 256).  The default text is\n"
    "DATA/kjv/kjv.txt: the King James Bible from the Debian package bible-kjv, written by\n"
    "  bible -f 'Gen1:1-Rev22:21' > DATA/kjv/kjv.txt   (DATA = $PROBKIT_DATA or <repo>/data).\n"
    "train splits the text into the first 90% (training) and the last 10% (validation), trains\n"
    "with AdamW (cosine schedule, warm-up, gradient clipping at 1), and reports validation bits per\n"
    "byte beside a Witten-Bell 5-gram byte model fitted on the same training split.\n\n"
    "train options:\n"
    "  --steps N        optimiser steps (default 2000)\n"
    "  --batch N        sequences per step (default 16)\n"
    "  --context N      sequence length (default 128)\n"
    "  --d-model N      width (default 128)   --layers N (default 4)   --heads N (default 4)\n"
    "  --lr X           peak learning rate (default 2e-3)\n"
    "  --val-bytes N    validation bytes scored at the end (default 100000; 0 = the whole split)\n"
    "  --eval-every N   estimate validation loss every N steps (default 250)\n"
    "  --out FILE       model file (default gpt.safetensors), written at every evaluation\n"
    "  --seed N         (default 42)   --progress   --json\n"
    "sample: prints the prompt and N (default 200) new bytes; temperature 1, top-k 0 (off), top-p 1 (off).\n"
    "score: per-token log-likelihoods with windows advancing by --stride (default context/2);\n"
    "  --per-token prints 'index<TAB>byte<TAB>log p (nats)' lines.\n";

static int read_text(const char *C, const char *path, uint8_t **buf, size_t *len)
{
    pk_err err = {0};
    int st = pk_file_read_all(path, 0, buf, len, &err);
    if (st)
        return pk_cli_fail_status(C, st, &err);
    if (*len < 2) {
        free(*buf);
        return pk_cli_fail(C, "%s: text too short (%zu bytes)", path, *len);
    }
    return 0;
}

static int32_t *to_tokens(const uint8_t *b, size_t n)
{
    int32_t *t = malloc((n ? n : 1) * sizeof *t);
    for (size_t i = 0; t && i < n; i++)
        t[i] = b[i];
    return t;
}

/* Mean loss on `nwin` fixed random windows of the validation split (a cheap estimate). */
static double val_estimate(const pk_nn_gpt *m, pk_nn_ctx *ctx, const int32_t *val, int64_t nval, int64_t T, int nwin)
{
    pk_rng r;
    pk_rng_seed(&r, 12345);
    int32_t *buf = malloc((size_t)(nwin * (T + 1)) * sizeof *buf);
    if (!buf || nval <= T + 1) {
        free(buf);
        return NAN;
    }
    for (int k = 0; k < nwin; k++)
        memcpy(buf + k * (T + 1), val + pk_rng_below(&r, (uint64_t)(nval - T - 1)), (size_t)(T + 1) * sizeof *buf);
    pk_nn_ctx_reset(ctx);
    pk_nn_ctx_set_grad(ctx, 0);
    pk_nn_ctx_set_train(ctx, 0);
    pk_nn_tensor *l = pk_nn_gpt_loss(ctx, m, buf, nwin, T);
    double v = l ? l->data[0] : NAN;
    pk_nn_ctx_set_grad(ctx, 1);
    pk_nn_ctx_set_train(ctx, 1);
    free(buf);
    return v;
}

static int lm_train(int argc, char **argv)
{
    const char *C = "nn lm train", *out = "gpt.safetensors";
    char deftext[1024];
    snprintf(deftext, sizeof deftext, "%s/kjv/kjv.txt", pk_cli_data_dir());
    const char *text = deftext;
    long steps = 2000, batch = 16, context = 128, dmodel = 128, layers = 4, heads = 4, val_bytes = 100000,
         every = 250;
    double lr = 2e-3;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    int json = 0, force = 0;
    const pk_cli_opt opts[] = {
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {"--progress", PK_CLI_FLAG, &force, 0, 0, NULL},
        {"--steps", PK_CLI_LONG, &steps, 1, (double)(1L << 40), "a positive integer"},
        {"--batch", PK_CLI_LONG, &batch, 1, (double)(1L << 40), "a positive integer"},
        {"--context", PK_CLI_LONG, &context, 1, (double)(1L << 40), "a positive integer"},
        {"--d-model", PK_CLI_LONG, &dmodel, 1, (double)(1L << 40), "a positive integer"},
        {"--layers", PK_CLI_LONG, &layers, 1, (double)(1L << 40), "a positive integer"},
        {"--heads", PK_CLI_LONG, &heads, 1, (double)(1L << 40), "a positive integer"},
        {"--val-bytes", PK_CLI_LONG, &val_bytes, 0, (double)(1L << 40), "a non-negative integer"},
        {"--eval-every", PK_CLI_LONG, &every, 1, (double)(1L << 40), "a positive integer"},
        {"--text", PK_CLI_STR, &text, 0, 0, NULL},
        {"--out", PK_CLI_STR, &out, 0, 0, NULL},
        {"--lr", PK_CLI_DOUBLE, &lr, DBL_TRUE_MIN, HUGE_VAL, "a positive number"},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(C, HELP, argc, argv, opts, NULL, 0, NULL);
    if (prc >= 0)
        return prc;
    pk_nn_gpt_config cfg = {256, (int)context, (int)dmodel, (int)layers, (int)heads, 0.0f};
    pk_err err = {0};
    if (pk_nn_gpt_config_check(&cfg, &err))
        return pk_cli_usage(C, "%s", err.msg);
    uint8_t *raw = NULL;
    size_t n = 0;
    int rc = read_text(C, text, &raw, &n);
    if (rc)
        return rc;
    int64_t ntr = (int64_t)(n * 9 / 10), nval = (int64_t)n - ntr;
    if (ntr <= context + 1 || nval <= context + 1) {
        free(raw);
        return pk_cli_fail(C, "%s: %zu bytes is too short for context %ld", text, n, context);
    }
    int64_t nscore = val_bytes > 0 && val_bytes < nval ? val_bytes : nval;
    fprintf(stderr, "probkit nn lm train: seed %llu, %s: %lld train / %lld validation bytes (%lld scored)\n",
            (unsigned long long)seed, text, (long long)ntr, (long long)nval, (long long)nscore);
    int32_t *tok = to_tokens(raw, n);
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    pk_nn_gpt *m = NULL;
    pk_nn_optim *opt = NULL;
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    int32_t *bt = malloc((size_t)(batch * (context + 1)) * sizeof *bt);
    double *logp = malloc((size_t)nscore * sizeof *logp);
    pk_nn_ngram *ng = NULL;
    pk_progress *pg = NULL;
    pk_nn_optim_params op = pk_nn_optim_params_default(PK_NN_ADAMW);
    op.beta2 = 0.99;
    op.weight_decay = 0.1;
    double t0 = pk_time_now(), tl = NAN, vl = NAN;
    int st;
    if (!tok || !ctx || !bt || !logp) {
        rc = pk_cli_fail(C, "out of memory");
        goto done;
    }
    if ((st = pk_nn_gpt_new(&cfg, &rng, &m, &err)) || !(opt = pk_nn_optim_new(m->params, &op, &err))) {
        rc = pk_cli_fail_status(C, st ? st : err.status, &err);
        goto done;
    }
    pk_nn_ctx_set_rng(ctx, &rng);
    fprintf(stderr, "probkit nn lm train: %lld parameters, d_model %ld, %ld layers, %ld heads, context %ld, batch %ld\n",
            (long long)pk_nn_params_numel(m->params), dmodel, layers, heads, context, batch);
    pg = pk_progress_new(stderr, "lm train", (uint64_t)steps, force);
    double ema = NAN;
    for (long s = 0; s < steps; s++) {
        for (long b = 0; b < batch; b++)
            memcpy(bt + b * (context + 1), tok + pk_rng_below(&rng, (uint64_t)(ntr - context - 1)),
                   (size_t)(context + 1) * sizeof *bt);
        pk_nn_ctx_reset(ctx);
        pk_nn_tensor *loss = pk_nn_gpt_loss(ctx, m, bt, batch, context);
        pk_nn_params_zero_grad(m->params);
        if ((st = pk_nn_backward(ctx, loss))) {
            pk_progress_finish(pg);
            rc = pk_cli_fail(C, "step %ld: %s", s, pk_nn_ctx_error(ctx));
            goto done;
        }
        pk_nn_params_clip_grad_norm(m->params, 1.0);
        pk_nn_optim_step(opt, pk_nn_lr_cosine(s, steps / 20, steps, lr, lr / 10));
        tl = loss->data[0];
        ema = isnan(ema) ? tl : 0.95 * ema + 0.05 * tl;
        pk_progress_update(pg, (uint64_t)s + 1, "loss %.3f (%.3f bpb)", ema, ema / log(2.0));
        if ((s + 1) % every == 0 || s + 1 == steps) {
            vl = val_estimate(m, ctx, tok + ntr, nval, context, 32);
            fprintf(stderr, "step %ld: train loss %.4f, validation estimate %.4f nats (%.3f bpb), %.0f s\n", s + 1,
                    ema, vl, vl / log(2.0), pk_time_now() - t0);
            if ((st = pk_nn_gpt_save(m, out, &err))) {
                rc = pk_cli_fail_status(C, st, &err);
                goto done;
            }
        }
    }
    pk_progress_finish(pg);
    double ttrain = pk_time_now() - t0;
    if ((st = pk_nn_gpt_score(m, tok + ntr, nscore, context / 2, logp, &err))) {
        rc = pk_cli_fail_status(C, st, &err);
        goto done;
    }
    double nll = 0;
    for (int64_t i = 1; i < nscore; i++)
        nll -= logp[i];
    double bpb = nll / (double)(nscore - 1) / log(2.0);
    if ((st = pk_nn_ngram_fit(raw, (size_t)ntr, 5, &ng, &err))) {
        rc = pk_cli_fail_status(C, st, &err);
        goto done;
    }
    double bpb5 = -pk_nn_ngram_score(ng, raw + ntr, (size_t)nscore) / (double)(nscore - 1) / log(2.0);
    fprintf(stderr, "probkit nn lm train: validation %.4f bits/byte (5-gram baseline %.4f) after %ld steps, %.1f s; saved %s\n",
            bpb, bpb5, steps, ttrain, out);
    if (json)
        printf("{\"text\": \"%s\", \"seed\": %llu, \"steps\": %ld, \"batch\": %ld, \"context\": %ld, \"d_model\": %ld, "
               "\"layers\": %ld, \"heads\": %ld, \"parameters\": %lld, \"train_loss\": %.6f, \"val_bytes\": %lld, "
               "\"val_bpb\": %.6f, \"ngram5_bpb\": %.6f, \"train_seconds\": %.2f, \"model\": \"%s\"}\n",
               text, (unsigned long long)seed, steps, batch, context, dmodel, layers, heads,
               (long long)pk_nn_params_numel(m->params), ema, (long long)nscore, bpb, bpb5, ttrain, out);
    else
        printf("val_bpb %.4f ngram5_bpb %.4f\n", bpb, bpb5);
done:
    pk_progress_free(pg);
    pk_nn_ngram_free(ng);
    pk_nn_optim_free(opt);
    pk_nn_gpt_free(m);
    pk_nn_ctx_free(ctx);
    free(bt);
    free(logp);
    free(tok);
    free(raw);
    (void)vl;
    return rc;
}

static int lm_sample(int argc, char **argv)
{
    const char *C = "nn lm sample", *file = NULL, *prompt = "And God said";
    long nnew = 200, topk = 0;
    pk_nn_sample_params sp = {1.0, 0, 1.0};
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    const pk_cli_opt opts[] = {
        {"--model", PK_CLI_STR, &file, 0, 0, NULL},
        {"--prompt", PK_CLI_STR, &prompt, 0, 0, NULL},
        {"--n", PK_CLI_LONG, &nnew, 0, 1000000, NULL},
        {"--top-k", PK_CLI_LONG, &topk, 0, 1 << 20, NULL},
        {"--temperature", PK_CLI_DOUBLE, &sp.temperature, DBL_TRUE_MIN, HUGE_VAL, "a number > 0"},
        {"--top-p", PK_CLI_DOUBLE, &sp.top_p, DBL_TRUE_MIN, 1, "a number in (0, 1]"},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(C, HELP, argc, argv, opts, NULL, 0, NULL);
    if (prc >= 0)
        return prc;
    sp.top_k = (int)topk;
    if (!file)
        return pk_cli_usage(C, "--model is required");
    if (!*prompt)
        return pk_cli_usage(C, "--prompt must not be empty");
    pk_err err = {0};
    pk_nn_gpt *m = NULL;
    int st = pk_nn_gpt_load(file, &m, &err);
    if (st)
        return pk_cli_fail_status(C, st, &err);
    size_t np = strlen(prompt);
    int32_t *pt = to_tokens((const uint8_t *)prompt, np), *outt = malloc((size_t)(nnew ? nnew : 1) * sizeof *outt);
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    fprintf(stderr, "probkit nn lm sample: seed %llu\n", (unsigned long long)seed);
    int rc = PK_EXIT_OK;
    if (!pt || !outt)
        rc = pk_cli_fail(C, "out of memory");
    else if ((st = pk_nn_gpt_sample(m, pt, (int64_t)np, nnew, &sp, &rng, outt, &err)))
        rc = pk_cli_fail_status(C, st, &err);
    else {
        fwrite(prompt, 1, np, stdout);
        for (long i = 0; i < nnew; i++)
            putchar(outt[i]);
        putchar('\n');
    }
    free(pt);
    free(outt);
    pk_nn_gpt_free(m);
    return rc;
}

static int lm_score(int argc, char **argv)
{
    const char *C = "nn lm score", *file = NULL, *text = NULL;
    long stride = 0;
    int json = 0, per_token = 0;
    const pk_cli_opt opts[] = {
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {"--per-token", PK_CLI_FLAG, &per_token, 0, 0, NULL},
        {"--model", PK_CLI_STR, &file, 0, 0, NULL},
        {"--text", PK_CLI_STR, &text, 0, 0, NULL},
        {"--stride", PK_CLI_LONG, &stride, 1, 65536, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(C, HELP, argc, argv, opts, NULL, 0, NULL);
    if (prc >= 0)
        return prc;
    if (!file || !text)
        return pk_cli_usage(C, "--model and --text are required");
    pk_err err = {0};
    pk_nn_gpt *m = NULL;
    int st = pk_nn_gpt_load(file, &m, &err);
    if (st)
        return pk_cli_fail_status(C, st, &err);
    if (stride == 0)
        stride = m->cfg.context / 2 > 0 ? m->cfg.context / 2 : 1;
    if (stride > m->cfg.context) {
        int ctx_len = m->cfg.context;
        pk_nn_gpt_free(m);
        return pk_cli_usage(C, "--stride %ld exceeds the model's context %d", stride, ctx_len);
    }
    uint8_t *raw = NULL;
    size_t n = 0;
    int rc = read_text(C, text, &raw, &n);
    if (rc) {
        pk_nn_gpt_free(m);
        return rc;
    }
    int32_t *tok = to_tokens(raw, n);
    double *logp = malloc(n * sizeof *logp);
    if (!tok || !logp)
        rc = pk_cli_fail(C, "out of memory");
    else if ((st = pk_nn_gpt_score(m, tok, (int64_t)n, stride, logp, &err)))
        rc = pk_cli_fail_status(C, st, &err);
    else {
        double nll = 0;
        for (size_t i = 1; i < n; i++)
            nll -= logp[i];
        if (per_token)
            for (size_t i = 1; i < n; i++)
                printf("%zu\t%d\t%.9g\n", i, raw[i], logp[i]);
        double bpb = nll / (double)(n - 1) / log(2.0);
        if (json)
            printf("{\"model\": \"%s\", \"text\": \"%s\", \"bytes_scored\": %zu, \"stride\": %ld, \"nll_nats\": %.17g, "
                   "\"bits_per_byte\": %.9g}\n",
                   file, text, n - 1, stride, nll, bpb);
        else if (!per_token)
            printf("%s: %zu bytes scored, %.4f bits/byte\n", text, n - 1, bpb);
        else
            fprintf(stderr, "%s: %zu bytes scored, %.4f bits/byte\n", text, n - 1, bpb);
    }
    free(tok);
    free(logp);
    free(raw);
    pk_nn_gpt_free(m);
    return rc;
}

int pk_cli_nn_lm(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(HELP, argc < 2 ? stderr : stdout);
        return argc < 2 ? PK_EXIT_USAGE : PK_EXIT_OK;
    }
    if (!strcmp(argv[1], "train"))
        return lm_train(argc - 1, argv + 1);
    if (!strcmp(argv[1], "sample"))
        return lm_sample(argc - 1, argv + 1);
    if (!strcmp(argv[1], "score"))
        return lm_score(argc - 1, argv + 1);
    return pk_cli_usage("nn lm", "unknown subcommand '%s' (train, sample, score)", argv[1]);
}
