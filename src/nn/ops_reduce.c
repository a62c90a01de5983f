/* ops_reduce.c — sum / mean / max over an axis, whole-tensor sums, and
 * (log-)softmax over the last axis.  Accumulation in double. */
#include <math.h>

#include "nn_internal.h"

enum { RED_SUM, RED_MEAN, RED_MAX };

/* The tensor seen as (outer, n, inner) around `axis`. */
static void split3(const pk_nn_tensor *a, int axis, int64_t *outer, int64_t *n, int64_t *inner)
{
    *outer = nn_prod(a->shape, 0, axis);
    *n = a->shape[axis];
    *inner = nn_prod(a->shape, axis + 1, a->ndim);
}

static void reduce_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    pk_nn_tensor *a = t->src[0];
    int64_t outer = t->iarg[1], n = t->iarg[2], inner = t->iarg[3];
    int kind = (int)t->iarg[0];
    const int32_t *arg = t->aux;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            float g = t->grad[o * inner + i];
            float *ga = a->grad + o * n * inner + i;
            if (kind == RED_MAX) {
                ga[(int64_t)arg[o * inner + i] * inner] += g;
            } else {
                if (kind == RED_MEAN)
                    g /= (float)n;
                for (int64_t j = 0; j < n; j++)
                    ga[j * inner] += g;
            }
        }
}

static pk_nn_tensor *reduce(pk_nn_ctx *ctx, pk_nn_tensor *a, int axis, int keepdim, int kind, const char *fn)
{
    NN_CHECK_IN(ctx, a);
    int ax = nn_axis(a, axis);
    if (ax < 0)
        return nn_fail(ctx, PK_EINVAL, "%s: axis %d out of range for %d axes", fn, axis, a->ndim);
    int64_t outer, n, inner;
    split3(a, ax, &outer, &n, &inner);
    if (kind == RED_MAX && n == 0)
        return nn_fail(ctx, PK_EINVAL, "%s: max over an empty axis", fn);
    int64_t shape[PK_NN_MAXDIM];
    int nd = 0;
    for (int i = 0; i < a->ndim; i++) {
        if (i != ax)
            shape[nd++] = a->shape[i];
        else if (keepdim)
            shape[nd++] = 1;
    }
    if (nd == 0)
        shape[nd++] = 1;
    int ng = nn_any_grad(ctx, a, NULL, NULL);
    pk_nn_tensor *t = nn_tensor(ctx, nd, shape, ng);
    if (!t)
        return NULL;
    int32_t *arg = NULL;
    if (kind == RED_MAX && ng && !(arg = nn_alloc(ctx, (size_t)(outer * inner) * sizeof *arg)))
        return NULL;
NN_OMP(omp parallel for if (outer * n * inner > NN_PAR_MIN) schedule(static))
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const float *x = a->data + o * n * inner + i;
            if (kind == RED_MAX) {
                int64_t best = 0;
                for (int64_t j = 1; j < n; j++)
                    if (x[j * inner] > x[best * inner] || isnan(x[j * inner]))
                        best = j;
                t->data[o * inner + i] = x[best * inner];
                if (arg)
                    arg[o * inner + i] = (int32_t)best;
            } else {
                double s = 0;
                for (int64_t j = 0; j < n; j++)
                    s += x[j * inner];
                t->data[o * inner + i] = (float)(kind == RED_MEAN ? (n ? s / (double)n : NAN) : s);
            }
        }
    if (ng) {
        t->src[0] = a;
        t->iarg[0] = kind;
        t->iarg[1] = outer;
        t->iarg[2] = n;
        t->iarg[3] = inner;
        t->aux = arg;
        t->backward = reduce_backward;
    }
    return t;
}

pk_nn_tensor *pk_nn_sum(pk_nn_ctx *ctx, pk_nn_tensor *a, int axis, int keepdim)
{
    return reduce(ctx, a, axis, keepdim, RED_SUM, "pk_nn_sum");
}
pk_nn_tensor *pk_nn_mean(pk_nn_ctx *ctx, pk_nn_tensor *a, int axis, int keepdim)
{
    return reduce(ctx, a, axis, keepdim, RED_MEAN, "pk_nn_mean");
}
pk_nn_tensor *pk_nn_max(pk_nn_ctx *ctx, pk_nn_tensor *a, int axis, int keepdim)
{
    return reduce(ctx, a, axis, keepdim, RED_MAX, "pk_nn_max");
}

static pk_nn_tensor *flat(pk_nn_ctx *ctx, pk_nn_tensor *a)
{
    NN_CHECK_IN(ctx, a);
    int64_t n = a->numel;
    return pk_nn_reshape(ctx, a, 1, &n);
}

pk_nn_tensor *pk_nn_sum_all(pk_nn_ctx *ctx, pk_nn_tensor *a) { return reduce(ctx, flat(ctx, a), 0, 1, RED_SUM, "pk_nn_sum_all"); }
pk_nn_tensor *pk_nn_mean_all(pk_nn_ctx *ctx, pk_nn_tensor *a) { return reduce(ctx, flat(ctx, a), 0, 1, RED_MEAN, "pk_nn_mean_all"); }

/* ---- softmax ---- */

static void softmax_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    pk_nn_tensor *a = t->src[0];
    int64_t C = a->shape[a->ndim - 1], rows = a->numel / (C ? C : 1);
    int logsm = (int)t->iarg[0];
NN_OMP(omp parallel for if (a->numel > NN_PAR_MIN) schedule(static))
    for (int64_t r = 0; r < rows; r++) {
        const float *y = t->data + r * C, *g = t->grad + r * C;
        float *ga = a->grad + r * C;
        double s = 0;
        if (logsm) { /* dx = g - softmax * sum(g) */
            for (int64_t j = 0; j < C; j++)
                s += g[j];
            for (int64_t j = 0; j < C; j++)
                ga[j] += (float)(g[j] - nn_expf(y[j]) * s);
        } else { /* dx = y * (g - sum(g * y)) */
            for (int64_t j = 0; j < C; j++)
                s += (double)g[j] * y[j];
            for (int64_t j = 0; j < C; j++)
                ga[j] += (float)(y[j] * (g[j] - s));
        }
    }
}

static pk_nn_tensor *softmax_impl(pk_nn_ctx *ctx, pk_nn_tensor *a, int logsm)
{
    NN_CHECK_IN(ctx, a);
    int ng = nn_any_grad(ctx, a, NULL, NULL);
    pk_nn_tensor *t = nn_tensor(ctx, a->ndim, a->shape, ng);
    if (!t)
        return NULL;
    int64_t C = a->shape[a->ndim - 1], rows = C ? a->numel / C : 0;
NN_OMP(omp parallel for if (a->numel > NN_PAR_MIN) schedule(static))
    for (int64_t r = 0; r < rows; r++) {
        const float *x = a->data + r * C;
        float *y = t->data + r * C;
        double lse = nn_logsumexp_row(x, C);
        float fl = (float)lse;
        for (int64_t j = 0; j < C; j++)
            y[j] = logsm ? (float)(x[j] - lse) : nn_expf(x[j] - fl);
    }
    if (ng) {
        t->src[0] = a;
        t->iarg[0] = logsm;
        t->backward = softmax_backward;
    }
    return t;
}

pk_nn_tensor *pk_nn_softmax(pk_nn_ctx *ctx, pk_nn_tensor *a) { return softmax_impl(ctx, a, 0); }
pk_nn_tensor *pk_nn_log_softmax(pk_nn_ctx *ctx, pk_nn_tensor *a) { return softmax_impl(ctx, a, 1); }
