/* norm.c — layer norm, batch norm, dropout. */
#include <math.h>

#include "nn_internal.h"

/* ---- layer norm over the last axis: x (R, C) ---- */

static void layernorm_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    pk_nn_tensor *x = t->src[0], *gam = t->src[1], *bet = t->src[2];
    const float *stats = t->aux; /* (R, 2): mean, rstd */
    int64_t C = x->shape[x->ndim - 1], R = C ? x->numel / C : 0;
    /* dx needs per-row sums; dgamma/dbeta need per-column sums over rows,
     * done serially after so the order is fixed. */
    if (x->requires_grad) {
NN_OMP(omp parallel for if (x->numel > NN_PAR_MIN) schedule(static))
        for (int64_t r = 0; r < R; r++) {
            const float *xr = x->data + r * C, *g = t->grad + r * C;
            float *dx = x->grad + r * C;
            double mean = stats[2 * r], rstd = stats[2 * r + 1], s1 = 0, s2 = 0;
            for (int64_t j = 0; j < C; j++) {
                double dn = g[j] * (gam ? gam->data[j] : 1.0f), xh = (xr[j] - mean) * rstd;
                s1 += dn;
                s2 += dn * xh;
            }
            s1 /= (double)C;
            s2 /= (double)C;
            for (int64_t j = 0; j < C; j++) {
                double dn = g[j] * (gam ? gam->data[j] : 1.0f), xh = (xr[j] - mean) * rstd;
                dx[j] += (float)(rstd * (dn - s1 - xh * s2));
            }
        }
    }
    if ((gam && gam->requires_grad) || (bet && bet->requires_grad)) {
NN_OMP(omp parallel for if (x->numel > NN_PAR_MIN) schedule(static))
        for (int64_t j = 0; j < C; j++) {
            double sg = 0, sb = 0;
            for (int64_t r = 0; r < R; r++) {
                double xh = (x->data[r * C + j] - stats[2 * r]) * stats[2 * r + 1];
                sg += t->grad[r * C + j] * xh;
                sb += t->grad[r * C + j];
            }
            if (gam && gam->requires_grad)
                gam->grad[j] += (float)sg;
            if (bet && bet->requires_grad)
                bet->grad[j] += (float)sb;
        }
    }
}

pk_nn_tensor *pk_nn_layer_norm(pk_nn_ctx *ctx, pk_nn_tensor *x, pk_nn_tensor *gamma, pk_nn_tensor *beta, float eps)
{
    NN_CHECK_IN(ctx, x);
    int64_t C = x->shape[x->ndim - 1], R = C ? x->numel / C : 0;
    if ((gamma && gamma->numel != C) || (beta && beta->numel != C))
        return nn_fail(ctx, PK_ESHAPE, "pk_nn_layer_norm: gamma/beta must have %lld values", (long long)C);
    if (!(eps > 0))
        return nn_fail(ctx, PK_EINVAL, "pk_nn_layer_norm: eps must be > 0");
    int ng = nn_any_grad(ctx, x, gamma, beta);
    pk_nn_tensor *t = nn_tensor(ctx, x->ndim, x->shape, ng);
    float *stats = t ? nn_alloc(ctx, (size_t)(2 * (R ? R : 1)) * sizeof(float)) : NULL;
    if (!stats)
        return NULL;
NN_OMP(omp parallel for if (x->numel > NN_PAR_MIN) schedule(static))
    for (int64_t r = 0; r < R; r++) {
        const float *xr = x->data + r * C;
        float *y = t->data + r * C;
        double m = 0, v = 0;
        for (int64_t j = 0; j < C; j++)
            m += xr[j];
        m /= (double)C;
        for (int64_t j = 0; j < C; j++)
            v += (xr[j] - m) * (xr[j] - m);
        v /= (double)C;
        double rstd = 1.0 / sqrt(v + eps);
        for (int64_t j = 0; j < C; j++) {
            double yh = (xr[j] - m) * rstd;
            y[j] = (float)(yh * (gamma ? gamma->data[j] : 1.0f) + (beta ? beta->data[j] : 0.0f));
        }
        stats[2 * r] = (float)m;
        stats[2 * r + 1] = (float)rstd;
    }
    if (ng) {
        t->src[0] = x;
        t->src[1] = gamma;
        t->src[2] = beta;
        t->aux = stats;
        t->backward = layernorm_backward;
    }
    return t;
}

/* ---- batch norm: statistics per channel over (N, H*W) ---- */

static void batchnorm_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    pk_nn_tensor *x = t->src[0], *gam = t->src[1], *bet = t->src[2];
    const float *stats = t->aux;
    int64_t N = x->shape[0], C = x->shape[1], S = nn_prod(x->shape, 2, x->ndim), M = N * S;
    int batch_stats = (int)t->iarg[0];
NN_OMP(omp parallel for if (x->numel > NN_PAR_MIN) schedule(static))
    for (int64_t c = 0; c < C; c++) {
        double mean = stats[2 * c], rstd = stats[2 * c + 1], sg = 0, sgx = 0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t s = 0; s < S; s++) {
                int64_t i = (n * C + c) * S + s;
                sg += t->grad[i];
                sgx += t->grad[i] * (x->data[i] - mean) * rstd;
            }
        double gm = gam ? gam->data[c] : 1.0;
        if (gam && gam->requires_grad)
            gam->grad[c] += (float)sgx;
        if (bet && bet->requires_grad)
            bet->grad[c] += (float)sg;
        if (!x->requires_grad)
            continue;
        for (int64_t n = 0; n < N; n++)
            for (int64_t s = 0; s < S; s++) {
                int64_t i = (n * C + c) * S + s;
                double xh = (x->data[i] - mean) * rstd;
                double d = batch_stats ? gm * rstd * (t->grad[i] - sg / (double)M - xh * sgx / (double)M)
                                       : gm * rstd * t->grad[i];
                x->grad[i] += (float)d;
            }
    }
}

pk_nn_tensor *pk_nn_batch_norm(pk_nn_ctx *ctx, pk_nn_tensor *x, pk_nn_tensor *gamma, pk_nn_tensor *beta,
                               pk_nn_tensor *rmean, pk_nn_tensor *rvar, float momentum, float eps)
{
    NN_CHECK_IN(ctx, x);
    char b1[96];
    if (x->ndim < 2)
        return nn_fail(ctx, PK_ESHAPE, "pk_nn_batch_norm: input %s needs (N, C, ...)", nn_shape_str(x, b1, sizeof b1));
    int64_t N = x->shape[0], C = x->shape[1], S = nn_prod(x->shape, 2, x->ndim), M = N * S;
    if ((gamma && gamma->numel != C) || (beta && beta->numel != C) || (rmean && rmean->numel != C) ||
        (rvar && rvar->numel != C))
        return nn_fail(ctx, PK_ESHAPE, "pk_nn_batch_norm: per-channel tensors must have %lld values", (long long)C);
    if (!(eps > 0) || !(momentum >= 0 && momentum <= 1))
        return nn_fail(ctx, PK_EINVAL, "pk_nn_batch_norm: need eps > 0 and momentum in [0, 1]");
    int batch_stats = ctx->train || !rmean || !rvar;
    if (batch_stats && M < 2)
        return nn_fail(ctx, PK_EINVAL, "pk_nn_batch_norm: batch statistics need more than one value per channel");
    int ng = nn_any_grad(ctx, x, gamma, beta);
    pk_nn_tensor *t = nn_tensor(ctx, x->ndim, x->shape, ng);
    float *stats = t ? nn_alloc(ctx, (size_t)(2 * C) * sizeof(float)) : NULL;
    if (!stats)
        return NULL;
NN_OMP(omp parallel for if (x->numel > NN_PAR_MIN) schedule(static))
    for (int64_t c = 0; c < C; c++) {
        double m, v;
        if (batch_stats) {
            m = 0;
            v = 0;
            for (int64_t n = 0; n < N; n++)
                for (int64_t s = 0; s < S; s++)
                    m += x->data[(n * C + c) * S + s];
            m /= (double)M;
            for (int64_t n = 0; n < N; n++)
                for (int64_t s = 0; s < S; s++) {
                    double d = x->data[(n * C + c) * S + s] - m;
                    v += d * d;
                }
            v /= (double)M;
            if (ctx->train && rmean && rvar) {
                rmean->data[c] = (float)((1 - momentum) * rmean->data[c] + momentum * m);
                rvar->data[c] = (float)((1 - momentum) * rvar->data[c] + momentum * v * (double)M / (double)(M - 1));
            }
        } else {
            m = rmean->data[c];
            v = rvar->data[c];
        }
        double rstd = 1.0 / sqrt(v + eps), g = gamma ? gamma->data[c] : 1.0, b = beta ? beta->data[c] : 0.0;
        stats[2 * c] = (float)m;
        stats[2 * c + 1] = (float)rstd;
        for (int64_t n = 0; n < N; n++)
            for (int64_t s = 0; s < S; s++) {
                int64_t i = (n * C + c) * S + s;
                t->data[i] = (float)((x->data[i] - m) * rstd * g + b);
            }
    }
    if (ng) {
        t->src[0] = x;
        t->src[1] = gamma;
        t->src[2] = beta;
        t->aux = stats;
        t->iarg[0] = batch_stats;
        t->backward = batchnorm_backward;
    }
    return t;
}

/* ---- dropout ---- */

static void dropout_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    pk_nn_tensor *x = t->src[0];
    const float *mask = t->aux; /* 0 or 1/(1-p) */
    for (int64_t i = 0; i < t->numel; i++)
        x->grad[i] += t->grad[i] * mask[i];
}

pk_nn_tensor *pk_nn_dropout(pk_nn_ctx *ctx, pk_nn_tensor *x, float p)
{
    NN_CHECK_IN(ctx, x);
    if (!(p >= 0 && p < 1))
        return nn_fail(ctx, PK_EINVAL, "pk_nn_dropout: p = %g must be in [0, 1)", (double)p);
    if (!ctx->train || p == 0)
        return x;
    if (!ctx->rng)
        return nn_fail(ctx, PK_EINVAL, "pk_nn_dropout: training mode needs a random stream (pk_nn_ctx_set_rng)");
    int ng = nn_any_grad(ctx, x, NULL, NULL);
    pk_nn_tensor *t = nn_tensor(ctx, x->ndim, x->shape, ng);
    float *mask = t ? nn_alloc(ctx, (size_t)x->numel * sizeof(float)) : NULL;
    if (!mask)
        return NULL;
    float keep = 1.0f / (1.0f - p);
    for (int64_t i = 0; i < x->numel; i++) {
        mask[i] = pk_rng_uniform(ctx->rng) < p ? 0.0f : keep;
        t->data[i] = x->data[i] * mask[i];
    }
    if (ng) {
        t->src[0] = x;
        t->aux = mask;
        t->backward = dropout_backward;
    }
    return t;
}
