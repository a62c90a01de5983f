/* model.c — CNP, NP and MPNP: parameters, forward passes and training losses.
 *
 * Shapes: B tasks, S draws per task, R = B*S rows; nc context points, N
 * target points, M pseudo points, H hidden width.  Every forward keeps the
 * draw axis folded into the batch axis so each layer is one sgemm. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpnp_priv.h"

const char *pk_mpnp_kind_name(pk_mpnp_kind k)
{
    return k == PK_MPNP_CNP ? "cnp" : k == PK_MPNP_NP ? "np" : k == PK_MPNP_MPNP ? "mpnp" : "?";
}

int pk_mpnp_kind_parse(const char *name)
{
    if (!name)
        return -1;
    for (int k = PK_MPNP_CNP; k <= PK_MPNP_MPNP; k++)
        if (!strcmp(name, pk_mpnp_kind_name((pk_mpnp_kind)k)))
            return k;
    return -1;
}

pk_mpnp_config pk_mpnp_config_default(pk_mpnp_kind kind)
{
    pk_mpnp_config c = {kind, 64, 3, 3, 4, 16, 5, 0, -2.0, 2.0, PK_MPNP_PSEUDO_REPR};
    return c;
}

int pk_mpnp_config_check(const pk_mpnp_config *c, pk_err *err)
{
    if (!c)
        return pk_err_set(err, PK_EINVAL, "mpnp config: NULL");
    if (c->kind < PK_MPNP_CNP || c->kind > PK_MPNP_MPNP)
        return pk_err_set(err, PK_EINVAL, "mpnp config: unknown kind %d", (int)c->kind);
    if (c->width < 4 || c->width > 1024)
        return pk_err_set(err, PK_EINVAL, "mpnp config: width %d not in 4..1024", c->width);
    if (c->enc_depth < 1 || c->enc_depth > MPNP_MAXL || c->dec_depth < 2 || c->dec_depth > MPNP_MAXL)
        return pk_err_set(err, PK_EINVAL, "mpnp config: enc_depth %d not in 1..8 or dec_depth %d not in 2..8",
                          c->enc_depth, c->dec_depth);
    if (c->n_head < 1 || c->width % c->n_head)
        return pk_err_set(err, PK_EINVAL, "mpnp config: n_head %d does not divide width %d", c->n_head, c->width);
    if (c->n_pseudo < 0 || c->n_pseudo > 256)
        return pk_err_set(err, PK_EINVAL, "mpnp config: n_pseudo %d not in 0..256", c->n_pseudo);
    if (c->n_samples < 1 || c->n_samples > 64)
        return pk_err_set(err, PK_EINVAL, "mpnp config: n_samples %d not in 1..64", c->n_samples);
    if (c->z_dim < 0 || c->z_dim > 1024)
        return pk_err_set(err, PK_EINVAL, "mpnp config: z_dim %d not in 0..1024", c->z_dim);
    if (!(c->x_lo < c->x_hi) || !isfinite(c->x_lo) || !isfinite(c->x_hi))
        return pk_err_set(err, PK_EINVAL, "mpnp config: need finite x_lo < x_hi");
    if (c->pseudo_space != PK_MPNP_PSEUDO_DATA && c->pseudo_space != PK_MPNP_PSEUDO_REPR)
        return pk_err_set(err, PK_EINVAL, "mpnp config: unknown pseudo_space %d", (int)c->pseudo_space);
    return PK_OK;
}

/* ---- parameters ---------------------------------------------------------------- */

static pk_nn_tensor *decl(pk_nn_params *P, int *bad, const char *fmt, int l, const char *what, int64_t r, int64_t c)
{
    char name[64];
    snprintf(name, sizeof name, fmt, l, what);
    pk_nn_tensor *t = c > 0 ? pk_nn_params_add(P, name, 2, (int64_t[]){r, c}) : pk_nn_params_add(P, name, 1, (int64_t[]){r});
    if (!t)
        *bad = 1;
    return t;
}

static void decl_linear(pk_nn_params *P, int *bad, const char *prefix, int l, int64_t out, int64_t in,
                        pk_nn_tensor **w, pk_nn_tensor **b)
{
    char fmt[48];
    snprintf(fmt, sizeof fmt, "%s.%%d.%%s", prefix);
    *w = decl(P, bad, fmt, l, "weight", out, in);
    *b = decl(P, bad, fmt, l, "bias", out, 0);
}

static void decl_mab(pk_nn_params *P, int *bad, const char *prefix, int64_t H, mpnp_mab *a)
{
    char fmt[48];
    snprintf(fmt, sizeof fmt, "%s.%%d.%%s", prefix);
    a->wq = decl(P, bad, fmt, 0, "q.weight", H, H), a->bq = decl(P, bad, fmt, 0, "q.bias", H, 0);
    a->wk = decl(P, bad, fmt, 0, "k.weight", H, H), a->bk = decl(P, bad, fmt, 0, "k.bias", H, 0);
    a->wv = decl(P, bad, fmt, 0, "v.weight", H, H), a->bv = decl(P, bad, fmt, 0, "v.bias", H, 0);
    a->g1 = decl(P, bad, fmt, 0, "ln1.weight", H, 0), a->b1 = decl(P, bad, fmt, 0, "ln1.bias", H, 0);
    a->wo = decl(P, bad, fmt, 0, "ff.weight", H, H), a->bo = decl(P, bad, fmt, 0, "ff.bias", H, 0);
    a->g2 = decl(P, bad, fmt, 0, "ln2.weight", H, 0), a->b2 = decl(P, bad, fmt, 0, "ln2.bias", H, 0);
}

/* torch.nn.Linear's default: weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
static void init_lin(pk_nn_tensor *w, pk_nn_tensor *b, int64_t fan_in, pk_rng *rng)
{
    float bound = (float)(1.0 / sqrt((double)fan_in));
    if (w)
        pk_nn_init_uniform(w, -bound, bound, rng);
    if (b)
        pk_nn_init_uniform(b, -bound, bound, rng);
}

static void init_mab(mpnp_mab *a, int64_t H, pk_rng *rng)
{
    init_lin(a->wq, a->bq, H, rng);
    init_lin(a->wk, a->bk, H, rng);
    init_lin(a->wv, a->bv, H, rng);
    init_lin(a->wo, a->bo, H, rng);
    pk_nn_init_const(a->g1, 1.0f), pk_nn_init_const(a->b1, 0.0f);
    pk_nn_init_const(a->g2, 1.0f), pk_nn_init_const(a->b2, 0.0f);
}

/* Declare (and, with rng, initialise) every parameter of the configuration. */
static int build(const pk_mpnp_config *cfg, pk_rng *rng, pk_mpnp **out, pk_err *err)
{
    int st = pk_mpnp_config_check(cfg, err);
    if (st)
        return st;
    pk_mpnp *m = calloc(1, sizeof *m);
    if (!m || !(m->P = pk_nn_params_new())) {
        free(m);
        return pk_err_set(err, PK_ENOMEM, "mpnp: out of memory");
    }
    m->cfg = *cfg;
    if (m->cfg.z_dim == 0)
        m->cfg.z_dim = m->cfg.width;
    const pk_mpnp_config *c = &m->cfg;
    int64_t H = c->width, Z = c->kind == PK_MPNP_NP ? c->z_dim : 0;
    int bad = 0;
    pk_nn_params *P = m->P;
    for (int l = 0; l < c->enc_depth; l++)
        decl_linear(P, &bad, "enc.pre", l, H, l ? H : 2, &m->enc_w[l], &m->enc_b[l]);
    for (int l = 0; l < 2; l++)
        decl_linear(P, &bad, "enc.post", l, H, H, &m->post_w[l], &m->post_b[l]);
    m->dec_wx = decl(P, &bad, "dec.%d.%s", 0, "x.weight", H, 1);
    m->dec_wr = decl(P, &bad, "dec.%d.%s", 0, "r.weight", H, H);
    if (Z)
        m->dec_wz = decl(P, &bad, "dec.%d.%s", 0, "z.weight", H, Z);
    m->dec_b0 = decl(P, &bad, "dec.%d.%s", 0, "bias", H, 0);
    for (int l = 1; l < c->dec_depth; l++)
        decl_linear(P, &bad, "dec", l, l + 1 == c->dec_depth ? 2 : H, H, &m->dec_w[l], &m->dec_b[l]);
    if (c->kind == PK_MPNP_NP) {
        for (int l = 0; l < c->enc_depth; l++)
            decl_linear(P, &bad, "lat.pre", l, H, l ? H : 2, &m->lat_w[l], &m->lat_b[l]);
        decl_linear(P, &bad, "lat.post", 0, H, H, &m->latp_w[0], &m->latp_b[0]);
        decl_linear(P, &bad, "lat.post", 1, 2 * Z, H, &m->latp_w[1], &m->latp_b[1]);
    }
    /* with no pseudo points an MPNP has exactly a CNP's parameters */
    if (c->kind == PK_MPNP_MPNP && c->n_pseudo > 0) {
        decl_mab(P, &bad, "gen.mab_a", H, &m->gen_a);
        decl_mab(P, &bad, "gen.mab_b", H, &m->gen_b);
        decl_linear(P, &bad, "gen.out", 0, c->pseudo_space == PK_MPNP_PSEUDO_REPR ? H : 2, H, &m->gen_w,
                    &m->gen_b_out);
    }
    if (bad || pk_nn_params_alloc(P)) {
        pk_mpnp_free(m);
        return pk_err_set(err, PK_ENOMEM, "mpnp: out of memory declaring parameters");
    }
    if (rng) {
        for (int l = 0; l < c->enc_depth; l++)
            init_lin(m->enc_w[l], m->enc_b[l], l ? H : 2, rng);
        for (int l = 0; l < 2; l++)
            init_lin(m->post_w[l], m->post_b[l], H, rng);
        int64_t fan = 1 + H + Z;
        init_lin(m->dec_wx, m->dec_b0, fan, rng);
        init_lin(m->dec_wr, NULL, fan, rng);
        init_lin(m->dec_wz, NULL, fan, rng);
        for (int l = 1; l < c->dec_depth; l++)
            init_lin(m->dec_w[l], m->dec_b[l], H, rng);
        if (c->kind == PK_MPNP_NP) {
            for (int l = 0; l < c->enc_depth; l++)
                init_lin(m->lat_w[l], m->lat_b[l], l ? H : 2, rng);
            init_lin(m->latp_w[0], m->latp_b[0], H, rng);
            init_lin(m->latp_w[1], m->latp_b[1], H, rng);
        }
        if (m->gen_w) {
            init_mab(&m->gen_a, H, rng);
            init_mab(&m->gen_b, H, rng);
            init_lin(m->gen_w, m->gen_b_out, H, rng);
        }
    }
    *out = m;
    return PK_OK;
}

int pk_mpnp_new(const pk_mpnp_config *cfg, pk_rng *rng, pk_mpnp **out, pk_err *err)
{
    if (!out || !rng)
        return pk_err_set(err, PK_EINVAL, "mpnp: NULL argument");
    *out = NULL;
    return build(cfg, rng, out, err);
}

/* For the loader: the same parameters, uninitialised. */
int mpnp_build_empty(const pk_mpnp_config *cfg, pk_mpnp **out, pk_err *err);
int mpnp_build_empty(const pk_mpnp_config *cfg, pk_mpnp **out, pk_err *err) { return build(cfg, NULL, out, err); }

void pk_mpnp_free(pk_mpnp *m)
{
    if (!m)
        return;
    pk_nn_params_free(m->P);
    free(m);
}

const pk_mpnp_config *pk_mpnp_get_config(const pk_mpnp *m) { return m ? &m->cfg : NULL; }
pk_nn_params *pk_mpnp_params(pk_mpnp *m) { return m ? m->P : NULL; }
int64_t pk_mpnp_num_params(const pk_mpnp *m) { return m ? pk_nn_params_numel(m->P) : 0; }

/* ---- pieces ------------------------------------------------------------------------ */

/* Linear layers with ReLU between them (none after the last). */
static pk_nn_tensor *mlp(pk_nn_ctx *ctx, pk_nn_tensor *x, pk_nn_tensor *const *w, pk_nn_tensor *const *b, int n)
{
    for (int l = 0; l < n; l++) {
        x = pk_nn_linear(ctx, x, w[l], b[l]);
        if (l + 1 < n)
            x = pk_nn_relu(ctx, x);
    }
    return x;
}

static pk_nn_tensor *mab(pk_nn_ctx *ctx, const mpnp_mab *a, pk_nn_tensor *Q, pk_nn_tensor *K, int n_head)
{
    pk_nn_tensor *q = pk_nn_linear(ctx, Q, a->wq, a->bq);
    pk_nn_tensor *k = pk_nn_linear(ctx, K, a->wk, a->bk);
    pk_nn_tensor *v = pk_nn_linear(ctx, K, a->wv, a->bv);
    pk_nn_tensor *h = pk_nn_layer_norm(ctx, pk_nn_add(ctx, q, pk_nn_attention(ctx, q, k, v, n_head, 0, NULL)), a->g1,
                                       a->b1, 1e-5f);
    return pk_nn_layer_norm(ctx, pk_nn_add(ctx, h, pk_nn_relu(ctx, pk_nn_linear(ctx, h, a->wo, a->bo))), a->g2, a->b2,
                            1e-5f);
}

pk_nn_tensor *pk_mpnp_gauss_logpdf(pk_nn_ctx *ctx, pk_nn_tensor *mu, pk_nn_tensor *sigma, const pk_nn_tensor *y)
{
    pk_nn_tensor *z = pk_nn_div(ctx, pk_nn_sub(ctx, (pk_nn_tensor *)y, mu), sigma);
    pk_nn_tensor *q = pk_nn_affine(ctx, pk_nn_unary_op(ctx, z, PK_NN_SQUARE), -0.5f, (float)(-0.5 * log(2.0 * M_PI)));
    return pk_nn_sub(ctx, q, pk_nn_log(ctx, sigma));
}

/* Rows (R, n, 2) of (x, y) pairs: row r is task r / rep. */
static pk_nn_tensor *xy_input(pk_nn_ctx *ctx, const float *x, const float *y, int stride, int n, int B, int rep)
{
    pk_nn_tensor *t = pk_nn_input(ctx, 3, (int64_t[]){(int64_t)B * rep, n, 2});
    if (!t)
        return NULL;
    for (int r = 0; r < B * rep; r++)
        for (int i = 0; i < n; i++) {
            const size_t o = (size_t)(r / rep) * stride + i;
            t->data[((size_t)r * n + i) * 2] = x[o];
            t->data[((size_t)r * n + i) * 2 + 1] = y ? y[o] : 0.0f;
        }
    return t;
}

static pk_nn_tensor *col_input(pk_nn_ctx *ctx, const float *v, int stride, int n, int B, int rep)
{
    pk_nn_tensor *t = pk_nn_input(ctx, 3, (int64_t[]){(int64_t)B * rep, n, 1});
    if (!t)
        return NULL;
    for (int r = 0; r < B * rep; r++)
        for (int i = 0; i < n; i++)
            t->data[(size_t)r * n + i] = v[(size_t)(r / rep) * stride + i];
    return t;
}

/* Pooled representation post(mean): sum (R, H) over `count` points. */
static pk_nn_tensor *post(pk_nn_ctx *ctx, const pk_mpnp *m, pk_nn_tensor *sum, int count)
{
    return mlp(ctx, pk_nn_affine(ctx, sum, 1.0f / (float)count, 0.0f), m->post_w, m->post_b, 2);
}

/* Decoder: xt (R, N, 1), r (R, H), z (R, Z) or NULL -> mu, sigma (R, N, 1);
 * sigma = 0.1 + 0.9 softplus(.) as in the benchmark code. */
static void decode(pk_nn_ctx *ctx, const pk_mpnp *m, pk_nn_tensor *xt, pk_nn_tensor *r, pk_nn_tensor *z,
                   pk_nn_tensor **mu, pk_nn_tensor **sigma)
{
    int64_t R = xt ? xt->shape[0] : 0, H = m->cfg.width;
    pk_nn_tensor *g = pk_nn_linear(ctx, r, m->dec_wr, m->dec_b0);
    if (z)
        g = pk_nn_add(ctx, g, pk_nn_linear(ctx, z, m->dec_wz, NULL));
    pk_nn_tensor *h = pk_nn_add(ctx, pk_nn_linear(ctx, xt, m->dec_wx, NULL), pk_nn_reshape(ctx, g, 3, (int64_t[]){R, 1, H}));
    for (int l = 1; l < m->cfg.dec_depth; l++)
        h = pk_nn_linear(ctx, pk_nn_relu(ctx, h), m->dec_w[l], m->dec_b[l]);
    *mu = pk_nn_slice(ctx, h, 2, 0, 1);
    *sigma = pk_nn_affine(ctx, pk_nn_softplus(ctx, pk_nn_slice(ctx, h, 2, 1, 2)), 0.9f, 0.1f);
}

/* Latent q(z | set): mu (R, Z), sigma = 0.1 + 0.9 sigmoid(.). */
static void latent(pk_nn_ctx *ctx, const pk_mpnp *m, pk_nn_tensor *xy, pk_nn_tensor **mu, pk_nn_tensor **sigma)
{
    int Z = m->cfg.z_dim;
    pk_nn_tensor *s = pk_nn_mean(ctx, mlp(ctx, xy, m->lat_w, m->lat_b, m->cfg.enc_depth), 1, 0);
    pk_nn_tensor *o = mlp(ctx, s, m->latp_w, m->latp_b, 2);
    *mu = pk_nn_slice(ctx, o, 1, 0, Z);
    *sigma = pk_nn_affine(ctx, pk_nn_sigmoid(ctx, pk_nn_slice(ctx, o, 1, Z, 2 * Z)), 0.9f, 0.1f);
}

static pk_nn_tensor *normal_input(pk_nn_ctx *ctx, int ndim, const int64_t *shape, pk_rng *rng)
{
    pk_nn_tensor *t = pk_nn_input(ctx, ndim, shape);
    if (t)
        for (int64_t i = 0; i < t->numel; i++)
            t->data[i] = (float)pk_rng_normal(rng);
    return t;
}

static int32_t *rep_ids(int B, int S)
{
    int32_t *ids = malloc((size_t)B * S * sizeof *ids);
    if (ids)
        for (int i = 0; i < B * S; i++)
            ids[i] = i / S;
    return ids;
}

/* The generator: context pre-encodings Rc (R, nc, H) and noise -> the
 * pseudo points' representations (R, M, H); in data space also the points
 * themselves (R, M, 2) in *pts (else NULL). */
static pk_nn_tensor *generate(pk_nn_ctx *ctx, const pk_mpnp *m, pk_nn_tensor *Rc, pk_rng *rng, pk_nn_tensor **pts)
{
    *pts = NULL;
    if (!Rc)
        return NULL;
    int64_t R = Rc->shape[0], H = m->cfg.width, M = m->cfg.n_pseudo;
    pk_nn_tensor *eps = normal_input(ctx, 3, (int64_t[]){R, M, H}, rng);
    pk_nn_tensor *h = mab(ctx, &m->gen_a, Rc, eps, m->cfg.n_head);
    pk_nn_tensor *g = pk_nn_linear(ctx, mab(ctx, &m->gen_b, eps, h, m->cfg.n_head), m->gen_w, m->gen_b_out);
    if (m->cfg.pseudo_space == PK_MPNP_PSEUDO_REPR)
        return g;
    float c = (float)(0.5 * (m->cfg.x_lo + m->cfg.x_hi)), half = (float)(0.5 * (m->cfg.x_hi - m->cfg.x_lo));
    pk_nn_tensor *xp = pk_nn_affine(ctx, pk_nn_tanh(ctx, pk_nn_slice(ctx, g, 2, 0, 1)), half, c);
    pk_nn_tensor *parts[2] = {xp, pk_nn_slice(ctx, g, 2, 1, 2)};
    *pts = pk_nn_concat(ctx, 2, parts, 2);
    return mlp(ctx, *pts, m->enc_w, m->enc_b, m->cfg.enc_depth);
}

/* log (1/S) sum_s exp(a[b, s]) for a (B, S) -> (B). */
static pk_nn_tensor *logmeanexp(pk_nn_ctx *ctx, pk_nn_tensor *a)
{
    if (!a)
        return NULL;
    pk_nn_tensor *mx = pk_nn_max(ctx, a, 1, 1);
    pk_nn_tensor *l = pk_nn_log(ctx, pk_nn_mean(ctx, pk_nn_exp(ctx, pk_nn_sub(ctx, a, mx)), 1, 0));
    return pk_nn_add(ctx, l, pk_nn_reshape(ctx, mx, 1, (int64_t[]){a->shape[0]}));
}

/* Sum over points of log N(y | mu, sigma): (R, N, 1) -> (B, S). */
static pk_nn_tensor *task_ll(pk_nn_ctx *ctx, pk_nn_tensor *mu, pk_nn_tensor *sigma, pk_nn_tensor *y, int B, int S)
{
    pk_nn_tensor *ll = pk_nn_sum(ctx, pk_nn_sum(ctx, pk_mpnp_gauss_logpdf(ctx, mu, sigma, y), 2, 0), 1, 0);
    return pk_nn_reshape(ctx, ll, 2, (int64_t[]){B, S});
}

/* ---- forward for prediction ----------------------------------------------------------- */

int mpnp_forward(pk_nn_ctx *ctx, const pk_mpnp *m, const float *xc, const float *yc, int sc, int nc, const float *xt,
                 int st, int N, int B, int S, pk_rng *rng, pk_nn_tensor **mu, pk_nn_tensor **sigma,
                 pk_nn_tensor **pseudo)
{
    const pk_mpnp_config *c = &m->cfg;
    if (c->kind == PK_MPNP_CNP || (c->kind == PK_MPNP_MPNP && c->n_pseudo == 0))
        S = 1;
    pk_nn_tensor *xtt = col_input(ctx, xt, st, N, B, S);
    pk_nn_tensor *xy = xy_input(ctx, xc, yc, sc, nc, B, S);
    pk_nn_tensor *Rc = mlp(ctx, xy, m->enc_w, m->enc_b, c->enc_depth);
    pk_nn_tensor *r = NULL, *z = NULL;
    if (pseudo)
        *pseudo = NULL;
    if (c->kind == PK_MPNP_MPNP && c->n_pseudo > 0) {
        pk_nn_tensor *ps;
        pk_nn_tensor *Rp = generate(ctx, m, Rc, rng, &ps);
        r = post(ctx, m, pk_nn_add(ctx, pk_nn_sum(ctx, Rc, 1, 0), pk_nn_sum(ctx, Rp, 1, 0)), nc + c->n_pseudo);
        if (pseudo)
            *pseudo = ps;
    } else {
        r = post(ctx, m, pk_nn_sum(ctx, Rc, 1, 0), nc);
    }
    if (c->kind == PK_MPNP_NP) {
        pk_nn_tensor *zm, *zs;
        latent(ctx, m, xy, &zm, &zs);
        z = pk_nn_add(ctx, zm, pk_nn_mul(ctx, zs, normal_input(ctx, 2, (int64_t[]){(int64_t)B * S, c->z_dim}, rng)));
    }
    decode(ctx, m, xtt, r, z, mu, sigma);
    return pk_nn_ctx_status(ctx);
}

/* ---- training losses ---------------------------------------------------------------- */

pk_nn_tensor *pk_mpnp_loss(pk_nn_ctx *ctx, const pk_mpnp *m, const pk_mpnp_batch *b, pk_rng *rng)
{
    if (!ctx || !m || !b || !b->x || !rng || b->B < 1 || b->nc < 1 || b->nt < 0)
        return NULL;
    const pk_mpnp_config *c = &m->cfg;
    int B = b->B, nc = b->nc, n = b->nc + b->nt, S = c->n_samples;
    int gen = c->kind == PK_MPNP_MPNP && c->n_pseudo > 0;
    if (!gen && c->kind != PK_MPNP_NP)
        S = 1;
    pk_nn_tensor *x1 = col_input(ctx, b->x, n, n, B, 1), *y1 = col_input(ctx, b->y, n, n, B, 1);
    pk_nn_tensor *xc = xy_input(ctx, b->x, b->y, n, nc, B, 1);
    pk_nn_tensor *Rc = mlp(ctx, xc, m->enc_w, m->enc_b, c->enc_depth);
    pk_nn_tensor *rc = post(ctx, m, pk_nn_sum(ctx, Rc, 1, 0), nc);
    pk_nn_tensor *mu, *sg, *total;
    if (c->kind == PK_MPNP_NP) {
        /* conditional ELBO: z ~ q(z | all points), KL to q(z | context) */
        pk_nn_tensor *qm, *qs, *pm, *ps;
        latent(ctx, m, xy_input(ctx, b->x, b->y, n, n, B, 1), &qm, &qs);
        latent(ctx, m, xc, &pm, &ps);
        int32_t *ids = rep_ids(B, S);
        if (!ids)
            return NULL;
        pk_nn_tensor *z = pk_nn_add(ctx, pk_nn_index_select(ctx, qm, 0, ids, (int64_t)B * S),
                                    pk_nn_mul(ctx, pk_nn_index_select(ctx, qs, 0, ids, (int64_t)B * S),
                                              normal_input(ctx, 2, (int64_t[]){(int64_t)B * S, c->z_dim}, rng)));
        pk_nn_tensor *rr = pk_nn_index_select(ctx, rc, 0, ids, (int64_t)B * S);
        free(ids);
        decode(ctx, m, col_input(ctx, b->x, n, n, B, S), rr, z, &mu, &sg);
        pk_nn_tensor *recon = pk_nn_mean(ctx, task_ll(ctx, mu, sg, col_input(ctx, b->y, n, n, B, S), B, S), 1, 0);
        /* KL(N(qm, qs) || N(pm, ps)) summed over z */
        pk_nn_tensor *ratio = pk_nn_div(ctx, qs, ps);
        pk_nn_tensor *dm = pk_nn_div(ctx, pk_nn_sub(ctx, qm, pm), ps);
        pk_nn_tensor *kl = pk_nn_affine(
            ctx,
            pk_nn_sub(ctx, pk_nn_add(ctx, pk_nn_unary_op(ctx, ratio, PK_NN_SQUARE), pk_nn_unary_op(ctx, dm, PK_NN_SQUARE)),
                      pk_nn_affine(ctx, pk_nn_log(ctx, ratio), 2.0f, 1.0f)),
            0.5f, 0.0f);
        total = pk_nn_sub(ctx, recon, pk_nn_sum(ctx, kl, 1, 0));
    } else {
        decode(ctx, m, x1, rc, NULL, &mu, &sg);
        total = pk_nn_reshape(ctx, task_ll(ctx, mu, sg, y1, B, 1), 1, (int64_t[]){B}); /* L_amort (CNP: all) */
        if (gen) {
            int M = c->n_pseudo;
            int32_t *ids = rep_ids(B, S);
            if (!ids)
                return NULL;
            pk_nn_tensor *RcS = pk_nn_index_select(ctx, Rc, 0, ids, (int64_t)B * S);
            free(ids);
            pk_nn_tensor *ps;
            pk_nn_tensor *Rp = generate(ctx, m, RcS, rng, &ps);
            pk_nn_tensor *sum_p = pk_nn_sum(ctx, Rp, 1, 0);
            pk_nn_tensor *r_mix = post(ctx, m, pk_nn_add(ctx, pk_nn_sum(ctx, RcS, 1, 0), sum_p), nc + M);
            pk_nn_tensor *r_ps = post(ctx, m, sum_p, M);
            pk_nn_tensor *xS = col_input(ctx, b->x, n, n, B, S), *yS = col_input(ctx, b->y, n, n, B, S);
            decode(ctx, m, xS, r_mix, NULL, &mu, &sg);
            pk_nn_tensor *marg = logmeanexp(ctx, task_ll(ctx, mu, sg, yS, B, S));
            decode(ctx, m, xS, r_ps, NULL, &mu, &sg);
            pk_nn_tensor *pseu = logmeanexp(ctx, task_ll(ctx, mu, sg, yS, B, S));
            total = pk_nn_add(ctx, total, pk_nn_add(ctx, marg, pseu));
        }
    }
    return pk_nn_affine(ctx, pk_nn_mean_all(ctx, total), -1.0f / (float)n, 0.0f);
}
