/* losses.c — cross-entropy (hard / soft / smoothed), NLL, BCE with logits,
 * MSE, Gaussian NLL.  Each returns the mean as a scalar; sums in double. */
#include <math.h>

#include "nn_internal.h"

static pk_nn_tensor *scalar(pk_nn_ctx *ctx, int ng)
{
    int64_t one = 1;
    return nn_tensor(ctx, 1, &one, ng);
}

static int check_logits(pk_nn_ctx *ctx, const pk_nn_tensor *x, const char *fn)
{
    char b[96];
    if (x->ndim != 2 || x->shape[1] < 1) {
        nn_fail(ctx, PK_ESHAPE, "%s: logits %s must be (N, C)", fn, nn_shape_str(x, b, sizeof b));
        return -1;
    }
    return 0;
}

static int check_labels(pk_nn_ctx *ctx, const int32_t *labels, int64_t N, int64_t C, const char *fn)
{
    if (!labels && N) {
        nn_fail(ctx, PK_EINVAL, "%s: labels are NULL", fn);
        return -1;
    }
    for (int64_t i = 0; i < N; i++)
        if (labels[i] >= C) {
            nn_fail(ctx, PK_EINVAL, "%s: label %lld is %d, not below %lld classes", fn, (long long)i, (int)labels[i],
                    (long long)C);
            return -1;
        }
    return 0;
}

/* ---- cross-entropy with integer labels ---- */

typedef struct ce_saved {
    int32_t *labels;
    float *lse;
    int64_t count;
} ce_saved;

static void ce_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    pk_nn_tensor *x = t->src[0];
    const ce_saved *s = t->aux;
    int64_t N = x->shape[0], C = x->shape[1];
    float eps = t->farg[0];
    double g = t->grad[0] / (double)(s->count ? s->count : 1);
NN_OMP(omp parallel for if (x->numel > NN_PAR_MIN) schedule(static))
    for (int64_t i = 0; i < N; i++) {
        if (s->labels[i] < 0)
            continue;
        const float *xr = x->data + i * C;
        float *gx = x->grad + i * C;
        float q0 = (float)(eps / (double)C), l = s->lse[i], gf = (float)g;
        for (int64_t j = 0; j < C; j++)
            gx[j] += gf * (nn_expf(xr[j] - l) - q0);
        gx[s->labels[i]] -= gf * (1.0f - eps);
    }
}

pk_nn_tensor *pk_nn_cross_entropy(pk_nn_ctx *ctx, pk_nn_tensor *logits, const int32_t *labels, float smoothing)
{
    NN_CHECK_IN(ctx, logits);
    if (check_logits(ctx, logits, __func__))
        return NULL;
    int64_t N = logits->shape[0], C = logits->shape[1];
    if (check_labels(ctx, labels, N, C, __func__))
        return NULL;
    if (!(smoothing >= 0 && smoothing < 1))
        return nn_fail(ctx, PK_EINVAL, "pk_nn_cross_entropy: label smoothing %g must be in [0, 1)", (double)smoothing);
    int ng = nn_any_grad(ctx, logits, NULL, NULL);
    pk_nn_tensor *t = scalar(ctx, ng);
    ce_saved *s = t ? nn_alloc(ctx, sizeof *s) : NULL;
    float *lse = s ? nn_alloc(ctx, (size_t)(N ? N : 1) * sizeof(float)) : NULL;
    int32_t *lab = lse ? nn_alloc(ctx, (size_t)(N ? N : 1) * sizeof(int32_t)) : NULL;
    if (!lab)
        return NULL;
    double total = 0;
    int64_t count = 0;
    for (int64_t i = 0; i < N; i++) {
        lab[i] = labels[i];
        const float *xr = logits->data + i * C;
        double l = nn_logsumexp_row(xr, C);
        lse[i] = (float)l;
        if (labels[i] < 0)
            continue;
        double sx = 0;
        if (smoothing > 0)
            for (int64_t j = 0; j < C; j++)
                sx += xr[j];
        total += l - (1.0 - smoothing) * xr[labels[i]] - smoothing / (double)C * sx;
        count++;
    }
    t->data[0] = (float)(count ? total / (double)count : 0.0);
    if (ng) {
        s->labels = lab;
        s->lse = lse;
        s->count = count;
        t->aux = s;
        t->src[0] = logits;
        t->farg[0] = smoothing;
        t->backward = ce_backward;
    }
    return t;
}

/* ---- soft-label cross-entropy ---- */

static void ces_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    pk_nn_tensor *x = t->src[0], *q = t->src[1];
    const float *lse = t->aux;
    int64_t N = x->shape[0], C = x->shape[1];
    double g = t->grad[0] / (double)N;
    for (int64_t i = 0; i < N; i++) {
        double sq = 0;
        for (int64_t j = 0; j < C; j++)
            sq += q->data[i * C + j];
        for (int64_t j = 0; j < C; j++)
            x->grad[i * C + j] += (float)(g * (exp(x->data[i * C + j] - lse[i]) * sq - q->data[i * C + j]));
    }
}

pk_nn_tensor *pk_nn_cross_entropy_soft(pk_nn_ctx *ctx, pk_nn_tensor *logits, const pk_nn_tensor *target)
{
    NN_CHECK_IN(ctx, logits);
    NN_CHECK_IN(ctx, target);
    if (check_logits(ctx, logits, __func__))
        return NULL;
    if (!nn_same_shape(logits, target))
        return nn_fail(ctx, PK_ESHAPE, "pk_nn_cross_entropy_soft: target shape differs from logits");
    int64_t N = logits->shape[0], C = logits->shape[1];
    if (N == 0)
        return nn_fail(ctx, PK_EINVAL, "pk_nn_cross_entropy_soft: empty batch");
    int ng = nn_any_grad(ctx, logits, NULL, NULL);
    pk_nn_tensor *t = scalar(ctx, ng);
    float *lse = t ? nn_alloc(ctx, (size_t)N * sizeof(float)) : NULL;
    if (!lse)
        return NULL;
    double total = 0;
    for (int64_t i = 0; i < N; i++) {
        const float *xr = logits->data + i * C, *q = target->data + i * C;
        double l = pk_logsumexp_f(xr, (size_t)C, 1);
        lse[i] = (float)l;
        for (int64_t j = 0; j < C; j++)
            if (q[j] != 0)
                total += q[j] * (l - xr[j]);
    }
    t->data[0] = (float)(total / (double)N);
    if (ng) {
        t->aux = lse;
        t->src[0] = logits;
        t->src[1] = (pk_nn_tensor *)target;
        t->backward = ces_backward;
    }
    return t;
}

/* ---- NLL of given log-probabilities ---- */

static void nll_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    pk_nn_tensor *x = t->src[0];
    const int32_t *lab = t->aux;
    int64_t N = x->shape[0], C = x->shape[1], count = t->iarg[0];
    float g = t->grad[0] / (float)(count ? count : 1);
    for (int64_t i = 0; i < N; i++)
        if (lab[i] >= 0)
            x->grad[i * C + lab[i]] -= g;
}

pk_nn_tensor *pk_nn_nll(pk_nn_ctx *ctx, pk_nn_tensor *logp, const int32_t *labels)
{
    NN_CHECK_IN(ctx, logp);
    if (check_logits(ctx, logp, __func__))
        return NULL;
    int64_t N = logp->shape[0], C = logp->shape[1];
    if (check_labels(ctx, labels, N, C, __func__))
        return NULL;
    int ng = nn_any_grad(ctx, logp, NULL, NULL);
    pk_nn_tensor *t = scalar(ctx, ng);
    int32_t *lab = t ? nn_alloc(ctx, (size_t)(N ? N : 1) * sizeof(int32_t)) : NULL;
    if (!lab)
        return NULL;
    double total = 0;
    int64_t count = 0;
    for (int64_t i = 0; i < N; i++) {
        lab[i] = labels[i];
        if (labels[i] >= 0) {
            total -= logp->data[i * C + labels[i]];
            count++;
        }
    }
    t->data[0] = (float)(count ? total / (double)count : 0.0);
    if (ng) {
        t->aux = lab;
        t->iarg[0] = count;
        t->src[0] = logp;
        t->backward = nll_backward;
    }
    return t;
}

/* ---- element-wise losses: BCE with logits, MSE, Gaussian NLL ---- */

enum { EW_BCE, EW_MSE };

static void ew_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    pk_nn_tensor *x = t->src[0], *y = t->src[1];
    int64_t n = x->numel;
    double g = t->grad[0] / (double)n;
    for (int64_t i = 0; i < n; i++) {
        double xi = x->data[i], yi = y->data[i];
        double d = t->iarg[0] == EW_BCE ? (xi >= 0 ? 1.0 / (1.0 + exp(-xi)) : exp(xi) / (1.0 + exp(xi))) - yi
                                        : 2.0 * (xi - yi);
        x->grad[i] += (float)(g * d);
    }
}

static pk_nn_tensor *ew_loss(pk_nn_ctx *ctx, pk_nn_tensor *x, const pk_nn_tensor *y, int kind, const char *fn)
{
    NN_CHECK_IN(ctx, x);
    NN_CHECK_IN(ctx, y);
    char b1[96], b2[96];
    if (!nn_same_shape(x, y))
        return nn_fail(ctx, PK_ESHAPE, "%s: prediction %s and target %s differ", fn, nn_shape_str(x, b1, sizeof b1),
                       nn_shape_str(y, b2, sizeof b2));
    if (x->numel == 0)
        return nn_fail(ctx, PK_EINVAL, "%s: empty input", fn);
    int ng = nn_any_grad(ctx, x, NULL, NULL);
    pk_nn_tensor *t = scalar(ctx, ng);
    if (!t)
        return NULL;
    double total = 0;
    for (int64_t i = 0; i < x->numel; i++) {
        double xi = x->data[i], yi = y->data[i];
        total += kind == EW_BCE ? (xi > 0 ? xi : 0) - xi * yi + log1p(exp(-fabs(xi))) : (xi - yi) * (xi - yi);
    }
    t->data[0] = (float)(total / (double)x->numel);
    if (ng) {
        t->src[0] = x;
        t->src[1] = (pk_nn_tensor *)y;
        t->iarg[0] = kind;
        t->backward = ew_backward;
    }
    return t;
}

pk_nn_tensor *pk_nn_bce_with_logits(pk_nn_ctx *ctx, pk_nn_tensor *logits, const pk_nn_tensor *target)
{
    return ew_loss(ctx, logits, target, EW_BCE, "pk_nn_bce_with_logits");
}

pk_nn_tensor *pk_nn_mse(pk_nn_ctx *ctx, pk_nn_tensor *pred, const pk_nn_tensor *target)
{
    return ew_loss(ctx, pred, target, EW_MSE, "pk_nn_mse");
}

static void gnll_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    pk_nn_tensor *mu = t->src[0], *lv = t->src[1], *y = t->src[2];
    int64_t n = mu->numel;
    double g = t->grad[0] / (double)n;
    for (int64_t i = 0; i < n; i++) {
        double r = y->data[i] - mu->data[i], iv = exp(-(double)lv->data[i]);
        if (mu->requires_grad)
            mu->grad[i] += (float)(-g * r * iv);
        if (lv->requires_grad)
            lv->grad[i] += (float)(g * 0.5 * (1.0 - r * r * iv));
    }
}

pk_nn_tensor *pk_nn_gaussian_nll(pk_nn_ctx *ctx, pk_nn_tensor *mu, pk_nn_tensor *log_var, const pk_nn_tensor *y)
{
    NN_CHECK_IN(ctx, mu);
    NN_CHECK_IN(ctx, log_var);
    NN_CHECK_IN(ctx, y);
    if (!nn_same_shape(mu, log_var) || !nn_same_shape(mu, y))
        return nn_fail(ctx, PK_ESHAPE, "pk_nn_gaussian_nll: mu, log_var and y must have one shape");
    if (mu->numel == 0)
        return nn_fail(ctx, PK_EINVAL, "pk_nn_gaussian_nll: empty input");
    int ng = nn_any_grad(ctx, mu, log_var, NULL);
    pk_nn_tensor *t = scalar(ctx, ng);
    if (!t)
        return NULL;
    double total = 0;
    for (int64_t i = 0; i < mu->numel; i++) {
        double r = y->data[i] - mu->data[i], lv = log_var->data[i];
        total += 0.5 * (1.8378770664093453 + lv + r * r * exp(-lv));
    }
    t->data[0] = (float)(total / (double)mu->numel);
    if (ng) {
        t->src[0] = mu;
        t->src[1] = log_var;
        t->src[2] = (pk_nn_tensor *)y;
        t->backward = gnll_backward;
    }
    return t;
}
