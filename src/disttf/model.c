/* model.c — the Distribution Transformer: one token per prior component,
 * self-attention among components, cross-attention to the encoded
 * observations, and a head that updates each component's parameters. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtf_priv.h"

pk_dtf_config pk_dtf_config_default(int d, int obs_dim, int K)
{
    pk_dtf_config c = {d, obs_dim, K, 64, 4, 2, 3};
    return c;
}

int pk_dtf_config_check(const pk_dtf_config *c, pk_err *err)
{
    if (!c)
        return pk_err_set(err, PK_EINVAL, "disttf: config is NULL");
    if (c->d < 1 || c->d > PK_DTF_MAXD)
        return pk_err_set(err, PK_EINVAL, "disttf: d %d must be in 1..%d", c->d, PK_DTF_MAXD);
    if (c->obs_dim < 1 || c->obs_dim > 16)
        return pk_err_set(err, PK_EINVAL, "disttf: obs_dim %d must be in 1..16", c->obs_dim);
    if (c->K < 1 || c->K > PK_DTF_MAXK)
        return pk_err_set(err, PK_EINVAL, "disttf: K %d must be in 1..%d", c->K, PK_DTF_MAXK);
    if (c->n_head < 1 || c->d_model < 1 || c->d_model % c->n_head || c->d_model > 1024)
        return pk_err_set(err, PK_EINVAL, "disttf: d_model %d must be a positive multiple of n_head %d (<= 1024)",
                          c->d_model, c->n_head);
    if (c->n_enc < 0 || c->n_enc > 16 || c->n_dec < 1 || c->n_dec > 16)
        return pk_err_set(err, PK_EINVAL, "disttf: n_enc %d must be in 0..16 and n_dec %d in 1..16", c->n_enc,
                          c->n_dec);
    return PK_OK;
}

int dtf_feat(int d) { return 1 + 2 * d + d * (d - 1) / 2; }

pk_nn_tensor *dtf_param(const pk_dtf *m, const char *fmt, int l)
{
    char nm[64];
    snprintf(nm, sizeof nm, fmt, l);
    return pk_nn_params_find(m->params, nm);
}

static int declare(pk_dtf *m)
{
    const pk_dtf_config *c = &m->cfg;
    int64_t C = c->d_model, F = dtf_feat(c->d), P = c->obs_dim;
    pk_nn_params *p = m->params;
    int bad = !pk_nn_params_add(p, "emb.tok.weight", 2, (int64_t[]){C, F}) ||
              !pk_nn_params_add(p, "emb.tok.bias", 1, (int64_t[]){C}) ||
              !pk_nn_params_add(p, "emb.obs.weight", 2, (int64_t[]){C, P}) ||
              !pk_nn_params_add(p, "emb.obs.bias", 1, (int64_t[]){C}) ||
              !pk_nn_params_add(p, "emb.obs2.weight", 2, (int64_t[]){C, C}) ||
              !pk_nn_params_add(p, "emb.obs2.bias", 1, (int64_t[]){C});
    for (int l = 0; l < c->n_dec + c->n_enc; l++)
        bad |= pk_nn_block_declare(p, l, C) != 0;
    for (int l = 0; l < c->n_dec; l++) {
        static const char *nm[] = {"x.%d.ln.weight", "x.%d.ln.bias", "x.%d.q.bias", "x.%d.k.bias", "x.%d.v.bias",
                                   "x.%d.proj.bias"};
        static const char *mat[] = {"x.%d.q.weight", "x.%d.k.weight", "x.%d.v.weight", "x.%d.proj.weight"};
        char buf[64];
        for (int i = 0; i < 6; i++) {
            snprintf(buf, sizeof buf, nm[i], l);
            bad |= !pk_nn_params_add(p, buf, 1, (int64_t[]){C});
        }
        for (int i = 0; i < 4; i++) {
            snprintf(buf, sizeof buf, mat[i], l);
            bad |= !pk_nn_params_add(p, buf, 2, (int64_t[]){C, C});
        }
    }
    bad |= !pk_nn_params_add(p, "enc.ln_f.weight", 1, (int64_t[]){C}) ||
           !pk_nn_params_add(p, "enc.ln_f.bias", 1, (int64_t[]){C}) ||
           !pk_nn_params_add(p, "ln_f.weight", 1, (int64_t[]){C}) ||
           !pk_nn_params_add(p, "ln_f.bias", 1, (int64_t[]){C}) ||
           !pk_nn_params_add(p, "head.weight", 2, (int64_t[]){F, C}) ||
           !pk_nn_params_add(p, "head.bias", 1, (int64_t[]){F});
    return bad || pk_nn_params_alloc(p) ? PK_ENOMEM : PK_OK;
}

int dtf_make(const pk_dtf_config *cfg, pk_dtf **out, pk_err *err)
{
    *out = NULL;
    int st = pk_dtf_config_check(cfg, err);
    if (st)
        return st;
    pk_dtf *m = calloc(1, sizeof *m);
    if (!m || !(m->params = pk_nn_params_new())) {
        free(m);
        return pk_err_set(err, PK_ENOMEM, "disttf: out of memory");
    }
    m->cfg = *cfg;
    if (declare(m)) {
        pk_dtf_free(m);
        return pk_err_set(err, PK_ENOMEM, "disttf: out of memory for the parameters");
    }
    *out = m;
    return PK_OK;
}

int pk_dtf_new(const pk_dtf_config *cfg, pk_rng *rng, pk_dtf **out, pk_err *err)
{
    if (!out)
        return pk_err_set(err, PK_EINVAL, "disttf: out is NULL");
    if (!rng)
        return pk_err_set(err, PK_EINVAL, "disttf: rng is NULL");
    int st = dtf_make(cfg, out, err);
    if (st)
        return st;
    pk_dtf *m = *out;
    int L = cfg->n_dec + cfg->n_enc;
    for (size_t i = 0; i < pk_nn_params_count(m->params); i++) {
        pk_nn_tensor *t = pk_nn_params_get(m->params, i);
        const char *n = t->name;
        size_t len = strlen(n);
        int is_bias = len > 5 && !strcmp(n + len - 5, ".bias");
        if (pk_nn_block_init(t, L, rng))
            continue;
        if (!strcmp(n, "head.weight"))
            pk_nn_init_normal(t, 0.0f, 0.002f, rng); /* start near the identity: posterior ~ prior */
        else if (is_bias)
            pk_nn_init_const(t, 0.0f);
        else if (strstr(n, "ln") && len > 7 && !strcmp(n + len - 7, ".weight"))
            pk_nn_init_const(t, 1.0f);
        else if (!strncmp(n, "emb.", 4))
            pk_nn_init_normal(t, 0.0f, 1.0f / (float)sqrt((double)t->shape[1]), rng);
        else if (strstr(n, ".proj.weight"))
            pk_nn_init_normal(t, 0.0f, 0.02f / (float)sqrt(2.0 * L), rng);
        else
            pk_nn_init_normal(t, 0.0f, 0.02f, rng);
    }
    return PK_OK;
}

void pk_dtf_free(pk_dtf *m)
{
    if (!m)
        return;
    pk_nn_params_free(m->params);
    free(m);
}

const pk_dtf_config *pk_dtf_get_config(const pk_dtf *m) { return &m->cfg; }

size_t pk_dtf_num_params(const pk_dtf *m) { return (size_t)pk_nn_params_numel(m->params); }

void dtf_tokens(const pk_dtf_gmm *g, float *f)
{
    int d = g->d, F = dtf_feat(d);
    for (int k = 0; k < g->K; k++) {
        float *r = f + (size_t)k * F;
        const double *L = g->L + (size_t)k * d * d;
        r[0] = (float)log(g->w[k] > 1e-12 ? g->w[k] : 1e-12);
        for (int i = 0; i < d; i++) {
            r[1 + i] = (float)g->mu[k * d + i];
            r[1 + d + i] = (float)log(L[i * d + i]);
        }
        int o = 1 + 2 * d;
        for (int i = 1; i < d; i++)
            for (int j = 0; j < i; j++)
                r[o++] = (float)L[i * d + j];
    }
}

void dtf_untokens(const float *f, int d, int K, pk_dtf_gmm *g)
{
    int F = dtf_feat(d);
    memset(g, 0, sizeof *g);
    g->d = d, g->K = K;
    double mx = -INFINITY, s = 0;
    for (int k = 0; k < K; k++)
        if (f[(size_t)k * F] > mx)
            mx = f[(size_t)k * F];
    for (int k = 0; k < K; k++)
        s += (g->w[k] = exp(f[(size_t)k * F] - mx));
    for (int k = 0; k < K; k++) {
        const float *r = f + (size_t)k * F;
        double *L = g->L + (size_t)k * d * d;
        g->w[k] /= s;
        for (int i = 0; i < d; i++) {
            g->mu[k * d + i] = r[1 + i];
            double ld = r[1 + d + i];
            L[i * d + i] = exp(ld < -12 ? -12 : ld > 8 ? 8 : ld);
        }
        int o = 1 + 2 * d;
        for (int i = 1; i < d; i++)
            for (int j = 0; j < i; j++)
                L[i * d + j] = r[o++];
    }
}

/* cross-attention of the component tokens h (B, K, C) to the memory (B, n, C) */
static pk_nn_tensor *cross(pk_nn_ctx *ctx, const pk_dtf *m, int l, pk_nn_tensor *h, pk_nn_tensor *mem)
{
    pk_nn_tensor *x = pk_nn_layer_norm(ctx, h, dtf_param(m, "x.%d.ln.weight", l), dtf_param(m, "x.%d.ln.bias", l),
                                       1e-5f);
    pk_nn_tensor *q = pk_nn_linear(ctx, x, dtf_param(m, "x.%d.q.weight", l), dtf_param(m, "x.%d.q.bias", l));
    pk_nn_tensor *k = pk_nn_linear(ctx, mem, dtf_param(m, "x.%d.k.weight", l), dtf_param(m, "x.%d.k.bias", l));
    pk_nn_tensor *v = pk_nn_linear(ctx, mem, dtf_param(m, "x.%d.v.weight", l), dtf_param(m, "x.%d.v.bias", l));
    pk_nn_tensor *a = pk_nn_attention(ctx, q, k, v, m->cfg.n_head, 0, NULL);
    a = pk_nn_linear(ctx, a, dtf_param(m, "x.%d.proj.weight", l), dtf_param(m, "x.%d.proj.bias", l));
    return pk_nn_add(ctx, h, a);
}

pk_nn_tensor *dtf_forward(pk_nn_ctx *ctx, const pk_dtf *m, const float *tok, const float *obs, int64_t B, int64_t n)
{
    const pk_dtf_config *c = &m->cfg;
    int64_t K = c->K, F = dtf_feat(c->d);
    pk_nn_tensor *tt = pk_nn_input_copy(ctx, 3, (int64_t[]){B, K, F}, tok);
    pk_nn_tensor *ot = pk_nn_input_copy(ctx, 3, (int64_t[]){B, n, c->obs_dim}, obs);
    pk_nn_tensor *mem = pk_nn_linear(ctx, ot, dtf_param(m, "emb.obs.weight", 0), dtf_param(m, "emb.obs.bias", 0));
    mem = pk_nn_linear(ctx, pk_nn_gelu(ctx, mem), dtf_param(m, "emb.obs2.weight", 0),
                       dtf_param(m, "emb.obs2.bias", 0));
    for (int l = 0; l < c->n_enc; l++) /* the observations are a set: no mask, no positions */
        mem = pk_nn_block_forward(ctx, m->params, c->n_dec + l, mem, c->n_head, 0, NULL, 0.0f);
    mem = pk_nn_layer_norm(ctx, mem, dtf_param(m, "enc.ln_f.weight", 0), dtf_param(m, "enc.ln_f.bias", 0), 1e-5f);
    pk_nn_tensor *h = pk_nn_linear(ctx, tt, dtf_param(m, "emb.tok.weight", 0), dtf_param(m, "emb.tok.bias", 0));
    for (int l = 0; l < c->n_dec; l++) {
        h = pk_nn_block_forward(ctx, m->params, l, h, c->n_head, 0, NULL, 0.0f);
        h = cross(ctx, m, l, h, mem);
    }
    h = pk_nn_layer_norm(ctx, h, dtf_param(m, "ln_f.weight", 0), dtf_param(m, "ln_f.bias", 0), 1e-5f);
    h = pk_nn_linear(ctx, h, dtf_param(m, "head.weight", 0), dtf_param(m, "head.bias", 0));
    return pk_nn_add(ctx, tt, h); /* the head predicts the change from prior to posterior */
}

/* -mean_b log q_b(theta_b): out (B, K, F) posterior features, theta (B, d) */
pk_nn_tensor *dtf_nll(pk_nn_ctx *ctx, const pk_dtf *m, pk_nn_tensor *out, const float *theta, int64_t B)
{
    int d = m->cfg.d;
    int64_t K = m->cfg.K;
    pk_nn_tensor *th = pk_nn_input_copy(ctx, 3, (int64_t[]){B, 1, d}, theta);
    pk_nn_tensor *lw = pk_nn_log_softmax(ctx, pk_nn_reshape(ctx, pk_nn_slice(ctx, out, 2, 0, 1), 2, (int64_t[]){B, K}));
    pk_nn_tensor *diff = pk_nn_sub(ctx, th, pk_nn_slice(ctx, out, 2, 1, 1 + d));   /* (B, K, d) */
    pk_nn_tensor *logdiag = pk_nn_slice(ctx, out, 2, 1 + d, 1 + 2 * d);            /* (B, K, d) */
    pk_nn_tensor *z[PK_DTF_MAXD], *quad = NULL;
    int o = 1 + 2 * d;
    for (int i = 0; i < d; i++) {
        pk_nn_tensor *r = pk_nn_slice(ctx, diff, 2, i, i + 1);
        for (int j = 0; j < i; j++, o++)
            r = pk_nn_sub(ctx, r, pk_nn_mul(ctx, pk_nn_slice(ctx, out, 2, o, o + 1), z[j]));
        z[i] = pk_nn_mul(ctx, r, pk_nn_exp(ctx, pk_nn_affine(ctx, pk_nn_slice(ctx, logdiag, 2, i, i + 1), -1.0f, 0.0f)));
        pk_nn_tensor *z2 = pk_nn_unary_op(ctx, z[i], PK_NN_SQUARE);
        quad = quad ? pk_nn_add(ctx, quad, z2) : z2;
    }
    pk_nn_tensor *logdet = pk_nn_sum(ctx, logdiag, 2, 1); /* (B, K, 1) */
    pk_nn_tensor *lc = pk_nn_affine(ctx, pk_nn_add(ctx, pk_nn_affine(ctx, quad, 0.5f, 0.0f), logdet), -1.0f,
                                    (float)(-0.5 * d * 1.8378770664093453));
    pk_nn_tensor *a = pk_nn_add(ctx, lw, pk_nn_reshape(ctx, lc, 2, (int64_t[]){B, K}));
    /* log-sum-exp over components as a_0 - log_softmax(a)_0 */
    pk_nn_tensor *lse = pk_nn_sub(ctx, pk_nn_slice(ctx, a, 1, 0, 1), pk_nn_slice(ctx, pk_nn_log_softmax(ctx, a), 1, 0, 1));
    return pk_nn_affine(ctx, pk_nn_mean_all(ctx, lse), -1.0f, 0.0f);
}

int pk_dtf_infer(const pk_dtf *m, const pk_dtf_gmm *priors, const double *obs, int B, int n, pk_dtf_gmm *post,
                 pk_err *err)
{
    if (!m || !priors || !obs || !post || B < 1 || n < 1)
        return pk_err_set(err, PK_EINVAL, "disttf infer: need a model, B >= 1 priors, n >= 1 observations, output");
    const pk_dtf_config *c = &m->cfg;
    int F = dtf_feat(c->d), st;
    for (int b = 0; b < B; b++) {
        if ((st = pk_dtf_gmm_check(priors + b, err)))
            return st;
        if (priors[b].d != c->d || priors[b].K != c->K)
            return pk_err_set(err, PK_EINVAL, "disttf infer: prior %d has d %d, K %d; the network wants d %d, K %d", b,
                              priors[b].d, priors[b].K, c->d, c->K);
    }
    size_t no = (size_t)B * n * c->obs_dim;
    for (size_t i = 0; i < no; i++)
        if (!isfinite(obs[i]))
            return pk_err_set(err, PK_EINVAL, "disttf infer: observation value %zu is not finite", i);
    float *tok = malloc((size_t)B * c->K * F * sizeof *tok), *of = malloc(no * sizeof *of);
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    if (!tok || !of || !ctx) {
        st = pk_err_set(err, PK_ENOMEM, "disttf infer: out of memory");
        goto done;
    }
    for (int b = 0; b < B; b++)
        dtf_tokens(priors + b, tok + (size_t)b * c->K * F);
    for (size_t i = 0; i < no; i++)
        of[i] = (float)obs[i];
    pk_nn_ctx_set_grad(ctx, 0);
    pk_nn_ctx_set_train(ctx, 0);
    pk_nn_tensor *out = dtf_forward(ctx, m, tok, of, B, n);
    if (!out) {
        st = pk_err_set(err, pk_nn_ctx_status(ctx) ? pk_nn_ctx_status(ctx) : PK_ENOMEM, "disttf infer: %s",
                        pk_nn_ctx_error(ctx));
        goto done;
    }
    st = PK_OK;
    for (int b = 0; b < B; b++)
        dtf_untokens(out->data + (size_t)b * c->K * F, c->d, c->K, post + b);
done:
    pk_nn_ctx_free(ctx);
    free(tok);
    free(of);
    return st;
}
