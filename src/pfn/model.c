/* model.c — the PFN transformer: (x, y) and (x) tokens, attention to the
 * training tokens only, a bar-distribution head; prediction, save, load. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pfn_priv.h"
#include "probkit/io.h"

pk_pfn_config pk_pfn_config_default(int dim)
{
    pk_pfn_config c = {dim, 64, 4, 4, 100, 0};
    return c;
}

int pk_pfn_config_check(const pk_pfn_config *c, pk_err *err)
{
    if (!c)
        return pk_err_set(err, PK_EINVAL, "pfn: config is NULL");
    if (c->dim < 1 || c->dim > 16)
        return pk_err_set(err, PK_EINVAL, "pfn: dim %d must be in 1..16", c->dim);
    if (c->n_layer < 1 || c->n_layer > 32)
        return pk_err_set(err, PK_EINVAL, "pfn: n_layer %d must be in 1..32", c->n_layer);
    if (c->n_head < 1 || c->d_model < 1 || c->d_model % c->n_head || c->d_model > 4096)
        return pk_err_set(err, PK_EINVAL, "pfn: d_model %d must be a positive multiple of n_head %d (<= 4096)",
                          c->d_model, c->n_head);
    if (c->n_buckets < 2 || c->n_buckets > 4096)
        return pk_err_set(err, PK_EINVAL, "pfn: n_buckets %d must be in 2..4096", c->n_buckets);
    if (c->mlp_x != 0 && c->mlp_x != 1)
        return pk_err_set(err, PK_EINVAL, "pfn: mlp_x %d must be 0 or 1", c->mlp_x);
    return PK_OK;
}

pk_nn_tensor *pfn_param(const pk_pfn *m, const char *fmt, int l)
{
    char nm[64];
    snprintf(nm, sizeof nm, fmt, l);
    return pk_nn_params_find(m->params, nm);
}

static int declare(pk_pfn *m)
{
    const pk_pfn_config *c = &m->cfg;
    int64_t C = c->d_model;
    pk_nn_params *p = m->params;
    int bad = !pk_nn_params_add(p, "enc.x.weight", 2, (int64_t[]){C, c->dim}) ||
              !pk_nn_params_add(p, "enc.x.bias", 1, (int64_t[]){C}) ||
              !pk_nn_params_add(p, "enc.y.weight", 2, (int64_t[]){C, 1});
    if (c->mlp_x)
        bad |= !pk_nn_params_add(p, "enc.x2.weight", 2, (int64_t[]){C, C}) ||
               !pk_nn_params_add(p, "enc.x2.bias", 1, (int64_t[]){C});
    for (int l = 0; l < c->n_layer; l++)
        bad |= pk_nn_block_declare(p, l, C) != 0;
    bad |= !pk_nn_params_add(p, "ln_f.weight", 1, (int64_t[]){C}) || !pk_nn_params_add(p, "ln_f.bias", 1, (int64_t[]){C}) ||
           !pk_nn_params_add(p, "head.weight", 2, (int64_t[]){c->n_buckets, C}) ||
           !pk_nn_params_add(p, "head.bias", 1, (int64_t[]){c->n_buckets});
    return bad || pk_nn_params_alloc(p) ? PK_ENOMEM : PK_OK;
}

static int make(const pk_pfn_config *cfg, const double *borders, pk_pfn **out, pk_err *err)
{
    *out = NULL;
    int st = pk_pfn_config_check(cfg, err);
    if (st)
        return st;
    if (!borders)
        return pk_err_set(err, PK_EINVAL, "pfn: bucket borders are NULL");
    for (int b = 0; b <= cfg->n_buckets; b++)
        if (!isfinite(borders[b]) || (b > 0 && !(borders[b] > borders[b - 1])))
            return pk_err_set(err, PK_EINVAL, "pfn: bucket borders must be finite and strictly increasing (at %d)",
                              b);
    pk_pfn *m = calloc(1, sizeof *m);
    if (!m || !(m->params = pk_nn_params_new()) ||
        !(m->borders = malloc((size_t)(cfg->n_buckets + 1) * sizeof *m->borders))) {
        pk_pfn_free(m);
        return pk_err_set(err, PK_ENOMEM, "pfn: out of memory");
    }
    m->cfg = *cfg;
    memcpy(m->borders, borders, (size_t)(cfg->n_buckets + 1) * sizeof *borders);
    if (declare(m)) {
        pk_pfn_free(m);
        return pk_err_set(err, PK_ENOMEM, "pfn: out of memory for the parameters");
    }
    *out = m;
    return PK_OK;
}

int pk_pfn_new(const pk_pfn_config *cfg, const double *borders, pk_rng *rng, pk_pfn **out, pk_err *err)
{
    if (!rng)
        return pk_err_set(err, PK_EINVAL, "pfn: rng is NULL");
    int st = make(cfg, borders, out, err);
    if (st)
        return st;
    pk_nn_params *p = (*out)->params;
    for (size_t i = 0; i < pk_nn_params_count(p); i++) {
        pk_nn_tensor *t = pk_nn_params_get(p, i);
        const char *n = t->name;
        if (!strcmp(n, "enc.x.bias") && cfg->mlp_x)
            pk_nn_init_uniform(t, -4.0f, 4.0f, rng); /* kinks spread over the input range */
        else if (pk_nn_block_init(t, cfg->n_layer, rng)) /* blocks, ln_f, the other biases */
            continue;
        else if (!strcmp(n, "enc.x2.weight"))
            pk_nn_init_normal(t, 0.0f, 1.0f / (float)sqrt((double)cfg->d_model), rng);
        else if (!strcmp(n, "enc.x.weight") && cfg->mlp_x)
            pk_nn_init_normal(t, 0.0f, 4.0f, rng); /* hidden units with varied slopes over [0,1] */
        else if (!strncmp(n, "enc.", 4))
            pk_nn_init_normal(t, 0.0f, 1.0f / (float)sqrt((double)cfg->dim + 1.0), rng);
        else
            pk_nn_init_normal(t, 0.0f, 0.02f, rng); /* the head */
    }
    return PK_OK;
}

void pk_pfn_free(pk_pfn *m)
{
    if (!m)
        return;
    pk_nn_params_free(m->params);
    free(m->borders);
    free(m);
}

const pk_pfn_config *pk_pfn_get_config(const pk_pfn *m) { return &m->cfg; }
const double *pk_pfn_borders(const pk_pfn *m) { return m->borders; }
const pk_pfn_prior *pk_pfn_get_prior(const pk_pfn *m) { return m->has_prior ? &m->prior : NULL; }

/* The prior as one line of text: kind, dim, then its five or three numbers. */
static void prior_format(const pk_pfn_prior *p, char *buf, size_t len)
{
    if (p->kind == PK_PFN_GP)
        snprintf(buf, len, "gp %d %.17g %.17g %.17g", p->dim, p->lengthscale, p->outputscale, p->noise);
    else
        snprintf(buf, len, "gp-hyper %d %.17g %.17g %.17g %.17g %.17g", p->dim, p->ls_mu, p->ls_sd, p->os_shape,
                 p->noise_lo, p->noise_hi);
}

static int prior_parse(const char *s, pk_pfn_prior *p)
{
    char kind[16];
    int used = 0;
    if (sscanf(s, "%15s %d%n", kind, &p->dim, &used) != 2)
        return -1;
    *p = (pk_pfn_prior){.dim = p->dim};
    s += used;
    if (!strcmp(kind, "gp")) {
        p->kind = PK_PFN_GP;
        if (sscanf(s, "%lf %lf %lf%n", &p->lengthscale, &p->outputscale, &p->noise, &used) != 3)
            return -1;
    } else if (!strcmp(kind, "gp-hyper")) {
        p->kind = PK_PFN_GP_HYPER;
        if (sscanf(s, "%lf %lf %lf %lf %lf%n", &p->ls_mu, &p->ls_sd, &p->os_shape, &p->noise_lo, &p->noise_hi,
                   &used) != 5)
            return -1;
    } else {
        return -1;
    }
    return s[used] ? -1 : pk_pfn_prior_check(p, NULL);
}

size_t pk_pfn_num_params(const pk_pfn *m)
{
    size_t s = 0;
    for (size_t i = 0; i < pk_nn_params_count(m->params); i++)
        s += (size_t)pk_nn_params_get(m->params, i)->numel;
    return s;
}

pk_nn_tensor *pfn_forward(pk_nn_ctx *ctx, const pk_pfn *m, const float *x, const float *y, int64_t B, int64_t n,
                          int64_t q)
{
    const pk_pfn_config *c = &m->cfg;
    int64_t T = n + q;
    pk_nn_tensor *xt = pk_nn_input_copy(ctx, 3, (int64_t[]){B, T, c->dim}, x);
    pk_nn_tensor *yt = pk_nn_input(ctx, 3, (int64_t[]){B, T, 1});
    pk_nn_tensor *mask = pk_nn_input(ctx, 2, (int64_t[]){T, T});
    if (!xt || !yt || !mask)
        return NULL;
    /* query tokens carry no y: their y-embedding is zero, and nothing attends to them */
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++)
            yt->data[b * T + t] = t < n ? y[b * n + t] : 0.0f;
    for (int64_t i = 0; i < T; i++)
        for (int64_t j = 0; j < T; j++)
            mask->data[i * T + j] = j < n ? 0.0f : -INFINITY;
    pk_nn_tensor *ex = pk_nn_linear(ctx, xt, pfn_param(m, "enc.x.weight", 0), pfn_param(m, "enc.x.bias", 0));
    if (c->mlp_x)
        ex = pk_nn_linear(ctx, pk_nn_gelu(ctx, ex), pfn_param(m, "enc.x2.weight", 0), pfn_param(m, "enc.x2.bias", 0));
    pk_nn_tensor *h = pk_nn_add(ctx, ex, pk_nn_linear(ctx, yt, pfn_param(m, "enc.y.weight", 0), NULL));
    for (int l = 0; l < c->n_layer; l++)
        h = pk_nn_block_forward(ctx, m->params, l, h, c->n_head, 0, mask, 0.0f);
    h = pk_nn_slice(ctx, h, 1, n, T);
    h = pk_nn_layer_norm(ctx, h, pfn_param(m, "ln_f.weight", 0), pfn_param(m, "ln_f.bias", 0), 1e-5f);
    h = pk_nn_linear(ctx, h, pfn_param(m, "head.weight", 0), pfn_param(m, "head.bias", 0));
    return pk_nn_reshape(ctx, h, 2, (int64_t[]){B * q, c->n_buckets});
}

static int check_rows(const double *v, size_t n, const char *what, pk_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return pk_err_set(err, PK_EDOM, "pfn predict: %s[%zu] is not finite", what, i);
    return PK_OK;
}

int pk_pfn_predict(const pk_pfn *m, const double *X, const double *y, size_t n, const double *Xq, size_t nq,
                   const double *yq, double *logpdf_q, double *mean, double *var, double *logp, pk_err *err)
{
    if (!m || (n && (!X || !y)) || !Xq || nq == 0 || (yq && !logpdf_q))
        return pk_err_set(err, PK_EINVAL, "pfn predict: need a model, query points and consistent outputs");
    if (n + nq > 100000)
        return pk_err_set(err, PK_EINVAL, "pfn predict: %zu training + %zu query points is too many", n, nq);
    const pk_pfn_config *c = &m->cfg;
    size_t d = (size_t)c->dim, nb = (size_t)c->n_buckets;
    int st;
    if ((st = check_rows(X, n * d, "X", err)) || (st = check_rows(y, n, "y", err)) ||
        (st = check_rows(Xq, nq * d, "Xq", err)))
        return st;
    float *xf = malloc((n + nq) * d * sizeof *xf), *yf = malloc((n ? n : 1) * sizeof *yf);
    double *lp = malloc(nb * sizeof *lp);
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    if (!xf || !yf || !lp || !ctx) {
        st = pk_err_set(err, PK_ENOMEM, "pfn predict: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n * d; i++)
        xf[i] = (float)X[i];
    for (size_t i = 0; i < nq * d; i++)
        xf[n * d + i] = (float)Xq[i];
    for (size_t i = 0; i < n; i++)
        yf[i] = (float)y[i];
    pk_nn_ctx_set_grad(ctx, 0);
    pk_nn_ctx_set_train(ctx, 0);
    pk_nn_tensor *out = pfn_forward(ctx, m, xf, yf, 1, (int64_t)n, (int64_t)nq);
    if (!out || pk_nn_ctx_status(ctx)) {
        st = pk_err_set(err, pk_nn_ctx_status(ctx) ? pk_nn_ctx_status(ctx) : PK_ENOMEM, "pfn predict: %s",
                        pk_nn_ctx_error(ctx));
        goto done;
    }
    for (size_t q = 0; q < nq; q++) {
        const float *row = out->data + q * nb;
        double mx = -INFINITY, s = 0;
        for (size_t b = 0; b < nb; b++)
            mx = fmax(mx, (double)row[b]);
        for (size_t b = 0; b < nb; b++)
            s += exp((double)row[b] - mx);
        double lse = mx + log(s);
        for (size_t b = 0; b < nb; b++)
            lp[b] = (double)row[b] - lse;
        if (logp)
            memcpy(logp + q * nb, lp, nb * sizeof *lp);
        if (yq)
            logpdf_q[q] = pk_pfn_bar_logpdf(m->borders, (int)nb, lp, yq[q]);
        pk_pfn_bar_moments(m->borders, (int)nb, lp, mean ? mean + q : NULL, var ? var + q : NULL);
    }
done:
    pk_nn_ctx_free(ctx);
    free(xf);
    free(yf);
    free(lp);
    return st;
}

int pk_pfn_save(const pk_pfn *m, const char *path, pk_err *err)
{
    const pk_pfn_config *c = &m->cfg;
    char v[6][32];
    snprintf(v[5], 32, "%d", c->mlp_x);
    snprintf(v[0], 32, "%d", c->dim);
    snprintf(v[1], 32, "%d", c->d_model);
    snprintf(v[2], 32, "%d", c->n_layer);
    snprintf(v[3], 32, "%d", c->n_head);
    snprintf(v[4], 32, "%d", c->n_buckets);
    /* borders as text with round-trip precision: small, exact, self-describing */
    size_t cap = (size_t)(c->n_buckets + 1) * 26 + 1;
    char *bs = malloc(cap);
    if (!bs)
        return pk_err_set(err, PK_ENOMEM, "pfn save: out of memory");
    size_t off = 0;
    for (int b = 0; b <= c->n_buckets; b++)
        off += (size_t)snprintf(bs + off, cap - off, b ? ",%.17g" : "%.17g", m->borders[b]);
    char pr[256];
    if (m->has_prior)
        prior_format(&m->prior, pr, sizeof pr);
    const char *keys[] = {"format", "version", "dim", "d_model", "n_layer", "n_head", "n_buckets", "mlp_x", "borders", "prior"};
    const char *vals[] = {"probkit-pfn", "1", v[0], v[1], v[2], v[3], v[4], v[5], bs, pr};
    int st = pk_nn_params_save(m->params, path, m->has_prior ? 10 : 9, keys, vals, err);
    free(bs);
    return st;
}

static const char *meta(const pk_tensor_file *f, const char *key)
{
    for (size_t i = 0; i < f->n_meta; i++)
        if (!strcmp(f->meta_keys[i], key))
            return f->meta_values[i];
    return NULL;
}

static int meta_long(const pk_tensor_file *f, const char *path, const char *key, long *out, pk_err *err)
{
    const char *s = meta(f, key);
    char *end = NULL;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || end == s || *end || v < 1 || v > 4096)
        return pk_err_set(err, PK_EFORMAT, "%s: metadata '%s' missing or not an integer in 1..4096", path, key);
    *out = v;
    return PK_OK;
}

int pk_pfn_load(const char *path, pk_pfn **out, pk_err *err)
{
    *out = NULL;
    pk_tensor_file *f = NULL;
    double *borders = NULL;
    int st = pk_safetensors_read(path, &f, err);
    if (st)
        return st;
    const char *fmt = meta(f, "format"), *ver = meta(f, "version"), *bs = meta(f, "borders");
    if (!fmt || strcmp(fmt, "probkit-pfn")) {
        st = pk_err_set(err, PK_EFORMAT, "%s: not a probkit PFN (metadata format != probkit-pfn)", path);
        goto done;
    }
    if (!ver || strcmp(ver, "1")) {
        st = pk_err_set(err, PK_EFORMAT, "%s: PFN format version %s is not supported (want 1)", path,
                        ver ? ver : "(missing)");
        goto done;
    }
    long v[5];
    const char *ks[5] = {"dim", "d_model", "n_layer", "n_head", "n_buckets"};
    for (int i = 0; i < 5; i++)
        if ((st = meta_long(f, path, ks[i], &v[i], err)))
            goto done;
    const char *mx = meta(f, "mlp_x");
    pk_pfn_config c = {(int)v[0], (int)v[1], (int)v[2], (int)v[3], (int)v[4], mx && !strcmp(mx, "1")};
    if (mx && strcmp(mx, "0") && strcmp(mx, "1")) {
        st = pk_err_set(err, PK_EFORMAT, "%s: metadata 'mlp_x' must be 0 or 1", path);
        goto done;
    }
    if ((st = pk_pfn_config_check(&c, err)))
        goto done;
    if (!bs) {
        st = pk_err_set(err, PK_EFORMAT, "%s: bucket borders missing", path);
        goto done;
    }
    if (!(borders = malloc((size_t)(c.n_buckets + 1) * sizeof *borders))) {
        st = pk_err_set(err, PK_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    const char *s = bs;
    for (int b = 0; b <= c.n_buckets; b++) {
        char *end;
        borders[b] = strtod(s, &end);
        if (end == s || (b < c.n_buckets && *end != ',') || (b == c.n_buckets && *end)) {
            st = pk_err_set(err, PK_EFORMAT, "%s: bucket borders metadata is malformed at entry %d", path, b);
            goto done;
        }
        s = end + 1;
    }
    const char *ps = meta(f, "prior");
    pk_pfn_prior prior;
    if (ps && (prior_parse(ps, &prior) || prior.dim != c.dim)) {
        st = pk_err_set(err, PK_EFORMAT, "%s: prior metadata '%s' is malformed", path, ps);
        goto done;
    }
    if ((st = make(&c, borders, out, err)))
        goto done;
    if (ps) {
        (*out)->has_prior = 1;
        (*out)->prior = prior;
    }
    if ((st = pk_nn_params_load((*out)->params, path, err))) {
        pk_pfn_free(*out);
        *out = NULL;
    }
done:
    pk_tensor_file_free(f);
    free(borders);
    return st;
}
