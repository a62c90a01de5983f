/* forward.c — plans, error statistics, and the GPT forward pass with each
 * linear layer's input masked per token by the plan's rule. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wina_internal.h"

#define ALL_SITES 0xFu

int pk_wina_plan_uniform(const pk_wina_model *m, pk_wina_method method, double sparsity, pk_wina_plan **out,
                         pk_err *err)
{
    if (!out)
        return pk_err_set(err, PK_EINVAL, "wina plan: out is NULL");
    *out = NULL;
    if (!m)
        return pk_err_set(err, PK_EINVAL, "wina plan: no model");
    if ((unsigned)method > PK_WINA_WINA)
        return pk_err_set(err, PK_EINVAL, "wina plan: unknown method %d", (int)method);
    if (!(sparsity >= 0 && sparsity < 1))
        return pk_err_set(err, PK_EINVAL, "wina plan: sparsity %g must be in [0, 1)", sparsity);
    pk_wina_plan *p = calloc(1, sizeof *p);
    if (!p || !(p->sparsity = calloc((size_t)m->L * PK_WINA_SITES, sizeof *p->sparsity))) {
        free(p);
        return pk_err_set(err, PK_ENOMEM, "wina plan: out of memory");
    }
    p->method = method;
    p->n_layer = m->L;
    p->norm_sites = ALL_SITES;
    for (int l = 0; l < m->L; l++)
        for (int s = 0; s < PK_WINA_SITES; s++) {
            double v = 0;
            if (method == PK_WINA_TEAL || method == PK_WINA_WINA || (method == PK_WINA_CATS && s == PK_WINA_SITE_MLP_OUT))
                v = sparsity;
            p->sparsity[l * PK_WINA_SITES + s] = v;
        }
    *out = p;
    return PK_OK;
}

void pk_wina_plan_free(pk_wina_plan *p)
{
    if (!p)
        return;
    free(p->sparsity);
    free(p);
}

static const double SITE_WEIGHT[PK_WINA_SITES] = {3, 1, 4, 4}; /* matrix sizes in C^2 */

double pk_wina_plan_weight_sparsity(const pk_wina_plan *p)
{
    if (!p || !p->sparsity || p->n_layer < 1)
        return NAN;
    double num = 0, den = 0;
    for (int l = 0; l < p->n_layer; l++)
        for (int s = 0; s < PK_WINA_SITES; s++) {
            num += SITE_WEIGHT[s] * p->sparsity[l * PK_WINA_SITES + s];
            den += SITE_WEIGHT[s];
        }
    return num / den;
}

pk_wina_stats *pk_wina_stats_new(int n_layer)
{
    if (n_layer < 1)
        return NULL;
    pk_wina_stats *s = calloc(1, sizeof *s);
    size_t n = (size_t)n_layer * PK_WINA_SITES;
    if (!s || !(s->err2 = calloc(4 * n, sizeof *s->err2))) {
        free(s);
        return NULL;
    }
    s->n_layer = n_layer;
    s->ref2 = s->err2 + n;
    s->kept = s->err2 + 2 * n;
    s->total = s->err2 + 3 * n;
    return s;
}

void pk_wina_stats_free(pk_wina_stats *s)
{
    if (!s)
        return;
    free(s->err2);
    free(s);
}

double pk_wina_stats_rel_error(const pk_wina_stats *s, int layer, int site)
{
    if (!s || layer < 0 || layer >= s->n_layer || site < 0 || site >= PK_WINA_SITES)
        return NAN;
    int i = layer * PK_WINA_SITES + site;
    return s->ref2[i] > 0 ? sqrt(s->err2[i] / s->ref2[i]) : NAN;
}

static double sumsq(const pk_nn_tensor *t)
{
    double a = 0;
    for (int64_t i = 0; i < t->numel; i++)
        a += (double)t->data[i] * t->data[i];
    return a;
}

/* W (m * h) + b for the matrix reading `site`: h (..., n) masked per row by the rule at
 * sparsity s; with run->skip the product reads only the kept columns (pk_wina_sparse_linear),
 * else the dense sgemm runs on the masked input.  stats get W's output error. */
static pk_nn_tensor *site_linear(pk_nn_ctx *ctx, const pk_wina_model *m, int l, int site, pk_nn_tensor *h, double s,
                                 wina_run *run)
{
    pk_nn_tensor *W = wina_site_weight(m, l, site), *bias = wina_site_bias(m, l, site);
    pk_wina_stats *stats = run->stats;
    if (!h || (!(s > 0) && !stats))
        return pk_nn_linear(ctx, h, W, bias);
    int64_t n = h->shape[h->ndim - 1], rows = h->numel / n, k = pk_wina_keep_count(n, s), out = W->shape[0];
    const double *cn = run->method == PK_WINA_WINA && (run->norm_sites >> site & 1u) ? m->layer[l].colnorm[site] : NULL;
    pk_nn_tensor *hm = pk_nn_input(ctx, h->ndim, h->shape);
    uint8_t *mask = k < n ? malloc((size_t)h->numel) : NULL;
    if (!hm || (k < n && !mask)) {
        free(mask);
        if (hm)
            run->status = PK_ENOMEM;
        return NULL;
    }
    if (mask)
        pk_wina_topk_mask(h->data, rows, n, cn, k, mask, NULL);
    for (int64_t i = 0; i < h->numel; i++)
        hm->data[i] = !mask || mask[i] ? h->data[i] : 0.0f;
    pk_nn_tensor *y;
    if (run->skip) {
        int64_t shape[PK_NN_MAXDIM];
        memcpy(shape, h->shape, sizeof shape);
        shape[h->ndim - 1] = out;
        y = pk_nn_input(ctx, h->ndim, shape);
        if (y && pk_wina_sparse_linear(h->data, mask, rows, n, m->layer[l].wt[site], bias->data, out, y->data, NULL)) {
            y = NULL;
            run->status = PK_ENOMEM;
        }
    } else {
        y = pk_nn_linear(ctx, hm, W, bias);
    }
    free(mask);
    if (stats && y) {
        pk_nn_tensor *e = pk_nn_linear(ctx, pk_nn_sub(ctx, h, hm), W, NULL), *r = pk_nn_linear(ctx, h, W, NULL);
        if (!e || !r)
            return NULL;
        int i = l * PK_WINA_SITES + site;
        stats->err2[i] += sumsq(e);
        stats->ref2[i] += sumsq(r);
        stats->kept[i] += (double)(rows * k);
        stats->total[i] += (double)(rows * n);
    }
    return y;
}

/* RMSNorm (no gain: folded into the reader) for the centred, rotated stream. */
static pk_nn_tensor *rms_norm(pk_nn_ctx *ctx, pk_nn_tensor *x)
{
    pk_nn_tensor *ms = pk_nn_mean(ctx, pk_nn_unary_op(ctx, x, PK_NN_SQUARE), -1, 1);
    return pk_nn_div(ctx, x, pk_nn_unary_op(ctx, pk_nn_affine(ctx, ms, 1.0f, 1e-5f), PK_NN_SQRT));
}

static pk_nn_tensor *norm_in(pk_nn_ctx *ctx, const pk_wina_model *m, pk_nn_tensor *x, pk_nn_tensor *g,
                             pk_nn_tensor *b)
{
    return m->transformed ? rms_norm(ctx, x) : pk_nn_layer_norm(ctx, x, g, b, 1e-5f);
}

pk_nn_tensor *wina_embed(pk_nn_ctx *ctx, const pk_wina_model *m, const int32_t *tokens, int64_t B, int64_t T)
{
    pk_nn_tensor *x = pk_nn_embedding(ctx, m->wte, tokens, 2, (int64_t[]){B, T});
    return pk_nn_add(ctx, x, pk_nn_slice(ctx, m->wpe, 0, 0, T));
}

pk_nn_tensor *wina_block(pk_nn_ctx *ctx, const pk_wina_model *m, int l, pk_nn_tensor *x, const double *sp,
                         wina_run *run)
{
    if (!x)
        return NULL;
    const wina_layer *y = &m->layer[l];
    int64_t C = m->C;
#define SP(site) (sp ? sp[site] : 0.0)
    pk_nn_tensor *h = norm_in(ctx, m, x, y->ln1_w, y->ln1_b);
    pk_nn_tensor *qkv = site_linear(ctx, m, l, PK_WINA_SITE_QKV, h, SP(PK_WINA_SITE_QKV), run);
    pk_nn_tensor *a = pk_nn_attention(ctx, pk_nn_slice(ctx, qkv, 2, 0, C), pk_nn_slice(ctx, qkv, 2, C, 2 * C),
                                      pk_nn_slice(ctx, qkv, 2, 2 * C, 3 * C), m->H, 1, NULL);
    a = site_linear(ctx, m, l, PK_WINA_SITE_ATTN_OUT, a, SP(PK_WINA_SITE_ATTN_OUT), run);
    x = pk_nn_add(ctx, y->r_attn ? pk_nn_matmul(ctx, x, y->r_attn) : x, a);
    h = norm_in(ctx, m, x, y->ln2_w, y->ln2_b);
    h = pk_nn_unary_op(ctx, site_linear(ctx, m, l, PK_WINA_SITE_FC, h, SP(PK_WINA_SITE_FC), run), PK_NN_GELU_TANH);
    h = site_linear(ctx, m, l, PK_WINA_SITE_MLP_OUT, h, SP(PK_WINA_SITE_MLP_OUT), run);
#undef SP
    return pk_nn_add(ctx, y->r_mlp ? pk_nn_matmul(ctx, x, y->r_mlp) : x, h);
}

pk_nn_tensor *wina_head(pk_nn_ctx *ctx, const pk_wina_model *m, pk_nn_tensor *x)
{
    if (m->transformed)
        return pk_nn_linear(ctx, rms_norm(ctx, x), m->head, m->head_b);
    x = pk_nn_layer_norm(ctx, x, m->lnf_w, m->lnf_b, 1e-5f);
    return pk_nn_linear(ctx, x, m->wte, NULL); /* tied, as pk_nn_gpt_forward */
}

static int check_plan(const pk_wina_model *m, const pk_wina_plan *plan, pk_err *err)
{
    if (!plan)
        return PK_OK;
    if (plan->n_layer != m->L || !plan->sparsity)
        return pk_err_set(err, PK_EINVAL, "wina: plan for %d layers, model has %d", plan->n_layer, m->L);
    for (int i = 0; i < m->L * PK_WINA_SITES; i++)
        if (!(plan->sparsity[i] >= 0 && plan->sparsity[i] < 1))
            return pk_err_set(err, PK_EINVAL, "wina: plan sparsity %d is %g (want [0, 1))", i, plan->sparsity[i]);
    return PK_OK;
}

/* Logits into a context tensor (B, T, V). */
static pk_nn_tensor *forward_ctx(pk_nn_ctx *ctx, const pk_wina_model *m, const pk_wina_plan *plan,
                                 const int32_t *tokens, int64_t B, int64_t T, pk_wina_stats *stats)
{
    pk_nn_tensor *x = wina_embed(ctx, m, tokens, B, T);
    wina_run *run = &(wina_run){plan ? plan->method : PK_WINA_DENSE, plan ? plan->norm_sites : ALL_SITES, stats,
                                plan ? plan->skip_kernel : 0, 0};
    for (int l = 0; l < m->L; l++)
        x = wina_block(ctx, m, l, x, plan ? plan->sparsity + l * PK_WINA_SITES : NULL, run);
    return run->status ? NULL : wina_head(ctx, m, x);
}

static int check_tokens(const pk_wina_model *m, const int32_t *tokens, int64_t B, int64_t T, pk_err *err)
{
    if (!tokens || B < 1 || T < 1 || T > m->T)
        return pk_err_set(err, PK_EINVAL, "wina forward: %lld x %lld tokens (context %d)", (long long)B,
                          (long long)T, m->T);
    for (int64_t i = 0; i < B * T; i++)
        if (tokens[i] < 0 || tokens[i] >= m->V)
            return pk_err_set(err, PK_EINVAL, "wina forward: token %lld is %d, outside [0, %d)", (long long)i,
                              (int)tokens[i], m->V);
    return PK_OK;
}

static pk_nn_ctx *infer_ctx(void)
{
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    if (ctx) {
        pk_nn_ctx_set_grad(ctx, 0);
        pk_nn_ctx_set_train(ctx, 0);
    }
    return ctx;
}

int pk_wina_forward(const pk_wina_model *m, const pk_wina_plan *plan, const int32_t *tokens, int64_t B, int64_t T,
                    float *logits, pk_wina_stats *stats, pk_err *err)
{
    if (!m || !logits)
        return pk_err_set(err, PK_EINVAL, "wina forward: need a model and a logits buffer");
    int st = check_plan(m, plan, err);
    if (st || (st = check_tokens(m, tokens, B, T, err)))
        return st;
    if (stats && stats->n_layer != m->L)
        return pk_err_set(err, PK_EINVAL, "wina forward: stats for %d layers, model has %d", stats->n_layer, m->L);
    pk_nn_ctx *ctx = infer_ctx();
    if (!ctx)
        return pk_err_set(err, PK_ENOMEM, "wina forward: out of memory");
    pk_nn_tensor *lg = forward_ctx(ctx, m, plan, tokens, B, T, stats);
    if (!lg)
        st = pk_err_set(err, pk_nn_ctx_status(ctx) ? pk_nn_ctx_status(ctx) : PK_ENOMEM, "wina forward: %s",
                        pk_nn_ctx_error(ctx));
    else
        memcpy(logits, lg->data, (size_t)lg->numel * sizeof *logits);
    pk_nn_ctx_free(ctx);
    return st;
}

#define EVAL_BATCH 8

int pk_wina_eval(const pk_wina_model *m, const pk_wina_plan *plan, const int32_t *tokens, int64_t n,
                 int64_t max_windows, double *nll, double *acc, pk_wina_stats *stats, pk_err *err)
{
    if (!m || !tokens || !nll || !acc || max_windows < 0)
        return pk_err_set(err, PK_EINVAL, "wina eval: need a model, tokens and outputs");
    int64_t T = m->T, V = m->V, nw = n > 1 ? (n - 1) / T : 0;
    if (max_windows > 0 && nw > max_windows)
        nw = max_windows;
    if (nw < 1)
        return pk_err_set(err, PK_EINVAL, "wina eval: %lld tokens is less than one window of %lld + 1", (long long)n,
                          (long long)T);
    int st = check_plan(m, plan, err);
    if (st)
        return st;
    for (int64_t i = 0; i < nw * T + 1; i++)
        if (tokens[i] < 0 || tokens[i] >= V)
            return pk_err_set(err, PK_EINVAL, "wina eval: token %lld is %d, outside [0, %lld)", (long long)i,
                              (int)tokens[i], (long long)V);
    pk_nn_ctx *ctx = infer_ctx();
    if (!ctx)
        return pk_err_set(err, PK_ENOMEM, "wina eval: out of memory");
    double tot = 0, hit = 0;
    for (int64_t w0 = 0; w0 < nw; w0 += EVAL_BATCH) {
        int64_t nb = nw - w0 < EVAL_BATCH ? nw - w0 : EVAL_BATCH;
        pk_nn_ctx_reset(ctx);
        /* windows are contiguous: window w reads tokens[wT .. wT + T) and predicts one ahead */
        pk_nn_tensor *lg = forward_ctx(ctx, m, plan, tokens + w0 * T, nb, T, stats);
        if (!lg) {
            st = pk_err_set(err, pk_nn_ctx_status(ctx) ? pk_nn_ctx_status(ctx) : PK_ENOMEM, "wina eval: %s",
                            pk_nn_ctx_error(ctx));
            break;
        }
        for (int64_t r = 0; r < nb * T; r++) {
            const float *row = lg->data + r * V;
            int32_t tgt = tokens[w0 * T + r + 1];
            int64_t best = 0;
            for (int64_t v = 1; v < V; v++)
                if (row[v] > row[best])
                    best = v;
            hit += best == tgt;
            tot += pk_logsumexp_f(row, (size_t)V, 1) - row[tgt];
        }
    }
    pk_nn_ctx_free(ctx);
    if (!st) {
        *nll = tot / (double)(nw * T);
        *acc = hit / (double)(nw * T);
    }
    return st;
}
