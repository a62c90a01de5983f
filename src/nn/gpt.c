/* gpt.c — a GPT-2-style byte-level decoder built from the engine's ops,
 * its versioned safetensors format, sampling and per-token scoring. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn_internal.h"
#include "probkit/io.h"

pk_nn_gpt_config pk_nn_gpt_config_default(void)
{
    pk_nn_gpt_config c = {256, 128, 128, 4, 4, 0.0f};
    return c;
}

int pk_nn_gpt_config_check(const pk_nn_gpt_config *c, pk_err *err)
{
    if (!c)
        return pk_err_set(err, PK_EINVAL, "gpt: config is NULL");
    if (c->vocab < 2 || c->vocab > (1 << 20))
        return pk_err_set(err, PK_EINVAL, "gpt: vocab %d must be in 2..2^20", c->vocab);
    if (c->context < 1 || c->context > 65536)
        return pk_err_set(err, PK_EINVAL, "gpt: context %d must be in 1..65536", c->context);
    if (c->n_layer < 1 || c->n_layer > 64)
        return pk_err_set(err, PK_EINVAL, "gpt: n_layer %d must be in 1..64", c->n_layer);
    if (c->n_head < 1 || c->d_model < 1 || c->d_model % c->n_head || c->d_model > 16384)
        return pk_err_set(err, PK_EINVAL, "gpt: d_model %d must be a positive multiple of n_head %d", c->d_model,
                          c->n_head);
    if (!(c->dropout >= 0 && c->dropout < 1))
        return pk_err_set(err, PK_EINVAL, "gpt: dropout %g must be in [0, 1)", (double)c->dropout);
    return PK_OK;
}

static pk_nn_tensor *P(const pk_nn_gpt *m, const char *fmt, int l)
{
    char nm[64];
    snprintf(nm, sizeof nm, fmt, l);
    return pk_nn_params_find(m->params, nm);
}

int pk_nn_gpt_new(const pk_nn_gpt_config *cfg, pk_rng *rng, pk_nn_gpt **out, pk_err *err)
{
    *out = NULL;
    int st = pk_nn_gpt_config_check(cfg, err);
    if (st)
        return st;
    pk_nn_gpt *m = calloc(1, sizeof *m);
    if (!m || !(m->params = pk_nn_params_new())) {
        free(m);
        return pk_err_set(err, PK_ENOMEM, "gpt: out of memory");
    }
    m->cfg = *cfg;
    pk_nn_params *p = m->params;
    int64_t V = cfg->vocab, T = cfg->context, C = cfg->d_model;
    int bad = !pk_nn_params_add(p, "wte", 2, (int64_t[]){V, C}) || !pk_nn_params_add(p, "wpe", 2, (int64_t[]){T, C});
    for (int l = 0; l < cfg->n_layer; l++)
        bad |= pk_nn_block_declare(p, l, C) != 0;
    bad |= !pk_nn_params_add(p, "ln_f.weight", 1, (int64_t[]){C}) || !pk_nn_params_add(p, "ln_f.bias", 1, (int64_t[]){C});
    if (bad || pk_nn_params_alloc(p)) {
        pk_nn_gpt_free(m);
        return pk_err_set(err, PK_ENOMEM, "gpt: out of memory");
    }
    for (size_t i = 0; i < pk_nn_params_count(p); i++) {
        pk_nn_tensor *t = pk_nn_params_get(p, i);
        if (!pk_nn_block_init(t, cfg->n_layer, rng))
            pk_nn_init_normal(t, 0.0f, 0.02f, rng); /* wte, wpe */
    }
    *out = m;
    return PK_OK;
}

void pk_nn_gpt_free(pk_nn_gpt *m)
{
    if (!m)
        return;
    pk_nn_params_free(m->params);
    free(m);
}

pk_nn_tensor *pk_nn_gpt_forward(pk_nn_ctx *ctx, const pk_nn_gpt *m, const int32_t *tokens, int64_t B, int64_t T)
{
    if (!ctx)
        return NULL;
    if (ctx->err.status)
        return NULL;
    const pk_nn_gpt_config *c = &m->cfg;
    if (B < 1 || T < 1 || T > c->context || !tokens)
        return nn_fail(ctx, PK_EINVAL, "gpt: batch %lld x %lld tokens (context %d)", (long long)B, (long long)T,
                       c->context);
    for (int64_t i = 0; i < B * T; i++)
        if (tokens[i] < 0 || tokens[i] >= c->vocab)
            return nn_fail(ctx, PK_EINVAL, "gpt: token %lld is %d, outside [0, %d)", (long long)i, (int)tokens[i],
                           c->vocab);
    pk_nn_tensor *x = pk_nn_embedding(ctx, P(m, "wte", 0), tokens, 2, (int64_t[]){B, T});
    x = pk_nn_add(ctx, x, pk_nn_slice(ctx, P(m, "wpe", 0), 0, 0, T));
    x = pk_nn_dropout(ctx, x, c->dropout);
    for (int l = 0; l < c->n_layer; l++)
        x = pk_nn_block_forward(ctx, m->params, l, x, c->n_head, 1, NULL, c->dropout);
    x = pk_nn_layer_norm(ctx, x, P(m, "ln_f.weight", 0), P(m, "ln_f.bias", 0), 1e-5f);
    return pk_nn_linear(ctx, x, P(m, "wte", 0), NULL); /* tied output head */
}

pk_nn_tensor *pk_nn_gpt_loss(pk_nn_ctx *ctx, const pk_nn_gpt *m, const int32_t *tokens, int64_t B, int64_t T)
{
    if (!ctx || ctx->err.status)
        return NULL;
    if (B < 1 || T < 1 || !tokens)
        return nn_fail(ctx, PK_EINVAL, "gpt loss: batch %lld x %lld", (long long)B, (long long)T);
    int32_t *in = nn_alloc(ctx, (size_t)(B * T) * sizeof *in), *tg = nn_alloc(ctx, (size_t)(B * T) * sizeof *tg);
    if (!in || !tg)
        return NULL;
    for (int64_t b = 0; b < B; b++) {
        memcpy(in + b * T, tokens + b * (T + 1), (size_t)T * sizeof *in);
        memcpy(tg + b * T, tokens + b * (T + 1) + 1, (size_t)T * sizeof *tg);
    }
    pk_nn_tensor *logits = pk_nn_gpt_forward(ctx, m, in, B, T);
    logits = pk_nn_reshape(ctx, logits, 2, (int64_t[]){B * T, m->cfg.vocab});
    return pk_nn_cross_entropy(ctx, logits, tg, 0.0f);
}

int pk_nn_gpt_save(const pk_nn_gpt *m, const char *path, pk_err *err)
{
    const pk_nn_gpt_config *c = &m->cfg;
    char v[6][32];
    snprintf(v[0], 32, "%d", c->vocab);
    snprintf(v[1], 32, "%d", c->context);
    snprintf(v[2], 32, "%d", c->d_model);
    snprintf(v[3], 32, "%d", c->n_layer);
    snprintf(v[4], 32, "%d", c->n_head);
    snprintf(v[5], 32, "%.9g", (double)c->dropout);
    const char *keys[] = {"format", "version", "vocab", "context", "d_model", "n_layer", "n_head", "dropout"};
    const char *vals[] = {"probkit-gpt", "1", v[0], v[1], v[2], v[3], v[4], v[5]};
    return pk_nn_params_save(m->params, path, 8, keys, vals, err);
}

int pk_nn_gpt_load(const char *path, pk_nn_gpt **out, pk_err *err)
{
    *out = NULL;
    pk_tensor_file *f = NULL;
    int st = pk_safetensors_read(path, &f, err);
    if (st)
        return st;
    const char *fmt = nn_meta(f, "format"), *ver = nn_meta(f, "version"), *dr = nn_meta(f, "dropout");
    pk_nn_gpt_config c;
    long v[5];
    const char *ks[5] = {"vocab", "context", "d_model", "n_layer", "n_head"};
    if (!fmt || strcmp(fmt, "probkit-gpt") || !ver) {
        st = pk_err_set(err, PK_EFORMAT, "%s: not a probkit GPT (metadata format != probkit-gpt)", path);
        goto done;
    }
    if (strcmp(ver, "1")) {
        st = pk_err_set(err, PK_EFORMAT, "%s: GPT format version %s is not supported (want 1)", path, ver);
        goto done;
    }
    for (int i = 0; i < 5; i++)
        if (nn_meta_long(f, ks[i], 1, 1 << 20, &v[i])) {
            st = pk_err_set(err, PK_EFORMAT, "%s: metadata '%s' missing or out of range", path, ks[i]);
            goto done;
        }
    c = (pk_nn_gpt_config){(int)v[0], (int)v[1], (int)v[2], (int)v[3], (int)v[4], dr ? strtof(dr, NULL) : 0.0f};
    pk_rng rng;
    pk_rng_seed(&rng, 0);
    if ((st = pk_nn_gpt_new(&c, &rng, out, err)))
        goto done;
    if ((st = pk_nn_params_load((*out)->params, path, err))) {
        pk_nn_gpt_free(*out);
        *out = NULL;
    }
done:
    pk_tensor_file_free(f);
    return st;
}

/* ---- sampling ---- */

typedef struct cand {
    double p;
    int id;
} cand;

static int cand_desc(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    return x->p < y->p ? 1 : x->p > y->p ? -1 : x->id - y->id;
}

int pk_nn_gpt_sample(const pk_nn_gpt *m, const int32_t *prompt, int64_t n_prompt, int64_t n_new,
                     const pk_nn_sample_params *sp, pk_rng *rng, int32_t *out, pk_err *err)
{
    if (!m || !prompt || n_prompt < 1 || n_new < 0 || !sp || !rng || (n_new && !out))
        return pk_err_set(err, PK_EINVAL, "gpt sample: need a model, a prompt of >= 1 token and an output buffer");
    if (!(sp->temperature > 0) || sp->top_k < 0 || !(sp->top_p > 0 && sp->top_p <= 1))
        return pk_err_set(err, PK_EINVAL, "gpt sample: temperature must be > 0, top_k >= 0, top_p in (0, 1]");
    int64_t T = m->cfg.context, V = m->cfg.vocab, n = n_prompt + n_new;
    int32_t *seq = malloc((size_t)n * sizeof *seq);
    cand *cs = malloc((size_t)V * sizeof *cs);
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    int st = PK_OK;
    if (!seq || !cs || !ctx) {
        st = pk_err_set(err, PK_ENOMEM, "gpt sample: out of memory");
        goto done;
    }
    memcpy(seq, prompt, (size_t)n_prompt * sizeof *seq);
    pk_nn_ctx_set_grad(ctx, 0);
    pk_nn_ctx_set_train(ctx, 0);
    for (int64_t pos = n_prompt; pos < n; pos++) {
        int64_t w = pos < T ? pos : T;
        pk_nn_ctx_reset(ctx);
        pk_nn_tensor *lg = pk_nn_gpt_forward(ctx, m, seq + pos - w, 1, w);
        if (!lg) {
            st = pk_err_set(err, pk_nn_ctx_status(ctx), "gpt sample: %s", pk_nn_ctx_error(ctx));
            goto done;
        }
        const float *row = lg->data + (w - 1) * V;
        double mx = -INFINITY, sum = 0;
        for (int64_t j = 0; j < V; j++)
            if (row[j] / sp->temperature > mx)
                mx = row[j] / sp->temperature;
        for (int64_t j = 0; j < V; j++) {
            cs[j].p = exp(row[j] / sp->temperature - mx);
            cs[j].id = (int)j;
            sum += cs[j].p;
        }
        qsort(cs, (size_t)V, sizeof *cs, cand_desc);
        int64_t keep = sp->top_k > 0 && sp->top_k < V ? sp->top_k : V;
        double acc = 0, kept = 0;
        for (int64_t j = 0; j < keep; j++) { /* top-p: smallest prefix with mass >= top_p */
            acc += cs[j].p / sum;
            if (acc >= sp->top_p) {
                keep = j + 1;
                break;
            }
        }
        for (int64_t j = 0; j < keep; j++)
            kept += cs[j].p;
        double u = pk_rng_uniform(rng) * kept, c = 0;
        int64_t pick = keep - 1;
        for (int64_t j = 0; j < keep; j++) {
            c += cs[j].p;
            if (u < c) {
                pick = j;
                break;
            }
        }
        seq[pos] = cs[pick].id;
        out[pos - n_prompt] = seq[pos];
    }
done:
    free(seq);
    free(cs);
    pk_nn_ctx_free(ctx);
    return st;
}

/* Windows of the scoring pass: tokens [b, e), scoring [first, e). */
typedef struct win {
    int64_t b, e, first;
} win;

#define SCORE_BATCH 16

int pk_nn_gpt_score(const pk_nn_gpt *m, const int32_t *tokens, int64_t n, int64_t stride, double *logp, pk_err *err)
{
    int64_t T = m ? m->cfg.context : 0, V = m ? m->cfg.vocab : 0;
    if (!m || !tokens || !logp || n < 1 || stride < 1 || stride > T)
        return pk_err_set(err, PK_EINVAL, "gpt score: need tokens, n >= 1 and stride in 1..context");
    for (int64_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= V)
            return pk_err_set(err, PK_EINVAL, "gpt score: token %lld is %d, outside [0, %lld)", (long long)i,
                              (int)tokens[i], (long long)V);
    /* Plan the windows first, so that equal-length ones run as one batch. */
    int64_t nw = 0, capw = 64, next = 1;
    win *w = malloc((size_t)capw * sizeof *w);
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    int32_t *buf = malloc((size_t)(SCORE_BATCH * T) * sizeof *buf);
    int st = PK_OK;
    if (!w || !ctx || !buf) {
        st = pk_err_set(err, PK_ENOMEM, "gpt score: out of memory");
        goto done;
    }
    for (int64_t b0 = 0; next < n; b0 += stride) {
        int64_t b = b0 < next - 1 ? b0 : next - 1; /* the window must hold token next-1 */
        int64_t e = b + T < n ? b + T : n;
        if (e <= next)
            continue;
        if (nw == capw) {
            win *nw2 = realloc(w, (size_t)(capw *= 2) * sizeof *w);
            if (!nw2) {
                st = pk_err_set(err, PK_ENOMEM, "gpt score: out of memory");
                goto done;
            }
            w = nw2;
        }
        w[nw++] = (win){b, e, next};
        next = e;
    }
    pk_nn_ctx_set_grad(ctx, 0);
    pk_nn_ctx_set_train(ctx, 0);
    logp[0] = 0;
    for (int64_t i = 0; i < nw;) {
        int64_t len = w[i].e - w[i].b, nb = 0;
        while (i + nb < nw && nb < SCORE_BATCH && w[i + nb].e - w[i + nb].b == len)
            nb++;
        for (int64_t k = 0; k < nb; k++)
            memcpy(buf + k * len, tokens + w[i + k].b, (size_t)len * sizeof *buf);
        pk_nn_ctx_reset(ctx);
        pk_nn_tensor *lg = pk_nn_gpt_forward(ctx, m, buf, nb, len);
        if (!lg) {
            st = pk_err_set(err, pk_nn_ctx_status(ctx), "gpt score: %s", pk_nn_ctx_error(ctx));
            goto done;
        }
        for (int64_t k = 0; k < nb; k++) {
            const win *wk = &w[i + k];
            for (int64_t j = wk->first; j < wk->e; j++) {
                const float *row = lg->data + (k * len + (j - 1 - wk->b)) * V;
                logp[j] = row[tokens[j]] - pk_logsumexp_f(row, (size_t)V, 1);
            }
        }
        i += nb;
    }
done:
    free(w);
    free(buf);
    pk_nn_ctx_free(ctx);
    return st;
}
