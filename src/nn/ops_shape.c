/* ops_shape.c — reshape (view), permute, concat, slice, index_select / embedding. */
#include <stdlib.h>

#include "nn_internal.h"

pk_nn_tensor *pk_nn_reshape(pk_nn_ctx *ctx, pk_nn_tensor *a, int ndim, const int64_t *shape)
{
    NN_CHECK_IN(ctx, a);
    if (ndim < 1 || ndim > PK_NN_MAXDIM || !shape)
        return nn_fail(ctx, PK_EINVAL, "pk_nn_reshape: 1..%d axes, got %d", PK_NN_MAXDIM, ndim);
    int64_t s[PK_NN_MAXDIM], known = 1;
    int infer = -1;
    for (int i = 0; i < ndim; i++) {
        s[i] = shape[i];
        if (s[i] == -1 && infer < 0)
            infer = i;
        else if (s[i] < 0)
            return nn_fail(ctx, PK_EINVAL, "pk_nn_reshape: bad size %lld", (long long)s[i]);
        else
            known *= s[i];
    }
    if (infer >= 0)
        s[infer] = known ? a->numel / known : 0;
    int64_t n = nn_prod(s, 0, ndim);
    if (n != a->numel) {
        char b[96];
        return nn_fail(ctx, PK_ESHAPE, "pk_nn_reshape: cannot view %s (%lld values) with %lld values",
                       nn_shape_str(a, b, sizeof b), (long long)a->numel, (long long)n);
    }
    return nn_view(ctx, a, ndim, s, 0);
}

/* ---- permute ---- */

typedef struct perm_geom {
    int nd;
    int64_t oshape[PK_NN_MAXDIM], istride[PK_NN_MAXDIM]; /* input stride of each output axis */
} perm_geom;

/* out[i] <-> in[off]: dir 0 gathers (forward), 1 scatters gradient back. */
static void permute_run(const perm_geom *g, int64_t n, const float *in, float *out, int dir)
{
    int64_t idx[PK_NN_MAXDIM] = {0}, off = 0;
    int last = g->nd - 1;
    int64_t len = g->oshape[last], st = g->istride[last];
    for (int64_t i = 0; i < n; i += len) {
        if (dir == 0)
            for (int64_t j = 0; j < len; j++)
                out[i + j] = in[off + j * st];
        else
            for (int64_t j = 0; j < len; j++)
                ((float *)in)[off + j * st] += out[i + j];
        for (int d = last - 1; d >= 0; d--) {
            idx[d]++;
            off += g->istride[d];
            if (idx[d] < g->oshape[d])
                break;
            off -= g->istride[d] * g->oshape[d];
            idx[d] = 0;
        }
    }
}

static void permute_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    if (t->numel)
        permute_run(t->aux, t->numel, t->src[0]->grad, t->grad, 1);
}

pk_nn_tensor *pk_nn_permute(pk_nn_ctx *ctx, pk_nn_tensor *a, const int *perm)
{
    NN_CHECK_IN(ctx, a);
    perm_geom g;
    int seen[PK_NN_MAXDIM] = {0};
    int64_t st[PK_NN_MAXDIM];
    st[a->ndim - 1] = 1;
    for (int i = a->ndim - 2; i >= 0; i--)
        st[i] = st[i + 1] * a->shape[i + 1];
    g.nd = a->ndim;
    for (int i = 0; i < a->ndim; i++) {
        int p = perm ? perm[i] : -1;
        if (p < 0 || p >= a->ndim || seen[p])
            return nn_fail(ctx, PK_EINVAL, "pk_nn_permute: not a permutation of %d axes", a->ndim);
        seen[p] = 1;
        g.oshape[i] = a->shape[p];
        g.istride[i] = st[p];
    }
    int ng = nn_any_grad(ctx, a, NULL, NULL);
    pk_nn_tensor *t = nn_tensor(ctx, a->ndim, g.oshape, ng);
    if (!t)
        return NULL;
    if (t->numel)
        permute_run(&g, t->numel, a->data, t->data, 0);
    if (ng) {
        perm_geom *gs = nn_alloc(ctx, sizeof g);
        if (!gs)
            return NULL;
        *gs = g;
        t->aux = gs;
        t->src[0] = a;
        t->backward = permute_backward;
    }
    return t;
}

pk_nn_tensor *pk_nn_transpose(pk_nn_ctx *ctx, pk_nn_tensor *a, int ax0, int ax1)
{
    NN_CHECK_IN(ctx, a);
    int p[PK_NN_MAXDIM];
    int i0 = nn_axis(a, ax0), i1 = nn_axis(a, ax1);
    if (i0 < 0 || i1 < 0)
        return nn_fail(ctx, PK_EINVAL, "pk_nn_transpose: axes %d, %d out of range for %d axes", ax0, ax1, a->ndim);
    for (int i = 0; i < a->ndim; i++)
        p[i] = i;
    p[i0] = i1;
    p[i1] = i0;
    return pk_nn_permute(ctx, a, p);
}

/* ---- concat / slice: copies of (outer, len, inner) blocks ---- */

static void concat_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    int n = (int)t->iarg[0], ax = (int)t->iarg[1];
    pk_nn_tensor **ts = t->aux;
    int64_t outer = nn_prod(t->shape, 0, ax), inner = nn_prod(t->shape, ax + 1, t->ndim), tot = t->shape[ax];
    int64_t base = 0;
    for (int k = 0; k < n; k++) {
        int64_t len = ts[k]->shape[ax];
        if (ts[k]->requires_grad)
            for (int64_t o = 0; o < outer; o++) {
                const float *g = t->grad + (o * tot + base) * inner;
                float *d = ts[k]->grad + o * len * inner;
                for (int64_t j = 0; j < len * inner; j++)
                    d[j] += g[j];
            }
        base += len;
    }
}

pk_nn_tensor *pk_nn_concat(pk_nn_ctx *ctx, int n, pk_nn_tensor *const *ts, int axis)
{
    if (!ctx)
        return NULL;
    if (n < 1 || !ts)
        return nn_fail(ctx, PK_EINVAL, "pk_nn_concat: need at least one tensor");
    for (int k = 0; k < n; k++)
        NN_CHECK_IN(ctx, ts[k]);
    int ax = nn_axis(ts[0], axis);
    if (ax < 0)
        return nn_fail(ctx, PK_EINVAL, "pk_nn_concat: axis %d out of range", axis);
    int64_t shape[PK_NN_MAXDIM];
    memcpy(shape, ts[0]->shape, sizeof shape);
    shape[ax] = 0;
    int ng = 0;
    for (int k = 0; k < n; k++) {
        int ok = ts[k]->ndim == ts[0]->ndim;
        for (int i = 0; ok && i < ts[0]->ndim; i++)
            ok = i == ax || ts[k]->shape[i] == ts[0]->shape[i];
        if (!ok) {
            char b1[96], b2[96];
            return nn_fail(ctx, PK_ESHAPE, "pk_nn_concat: tensor %d has shape %s, tensor 0 %s (axis %d)", k,
                           nn_shape_str(ts[k], b1, sizeof b1), nn_shape_str(ts[0], b2, sizeof b2), ax);
        }
        shape[ax] += ts[k]->shape[ax];
        ng |= nn_any_grad(ctx, ts[k], NULL, NULL);
    }
    pk_nn_tensor *t = nn_tensor(ctx, ts[0]->ndim, shape, ng);
    if (!t)
        return NULL;
    int64_t outer = nn_prod(shape, 0, ax), inner = nn_prod(shape, ax + 1, ts[0]->ndim), base = 0;
    for (int k = 0; k < n; k++) {
        int64_t len = ts[k]->shape[ax];
        for (int64_t o = 0; o < outer; o++)
            memcpy(t->data + (o * shape[ax] + base) * inner, ts[k]->data + o * len * inner,
                   (size_t)(len * inner) * sizeof(float));
        base += len;
    }
    if (ng) {
        pk_nn_tensor **keep = nn_alloc(ctx, (size_t)n * sizeof *keep);
        if (!keep)
            return NULL;
        memcpy(keep, ts, (size_t)n * sizeof *keep);
        t->aux = keep;
        t->iarg[0] = n;
        t->iarg[1] = ax;
        t->backward = concat_backward;
    }
    return t;
}

static void slice_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    pk_nn_tensor *a = t->src[0];
    int ax = (int)t->iarg[0];
    int64_t start = t->iarg[1], len = t->shape[ax], n = a->shape[ax];
    int64_t outer = nn_prod(a->shape, 0, ax), inner = nn_prod(a->shape, ax + 1, a->ndim);
    for (int64_t o = 0; o < outer; o++) {
        float *d = a->grad + (o * n + start) * inner;
        const float *g = t->grad + o * len * inner;
        for (int64_t j = 0; j < len * inner; j++)
            d[j] += g[j];
    }
}

pk_nn_tensor *pk_nn_slice(pk_nn_ctx *ctx, pk_nn_tensor *a, int axis, int64_t start, int64_t end)
{
    NN_CHECK_IN(ctx, a);
    int ax = nn_axis(a, axis);
    if (ax < 0)
        return nn_fail(ctx, PK_EINVAL, "pk_nn_slice: axis %d out of range for %d axes", axis, a->ndim);
    if (start < 0 || end < start || end > a->shape[ax])
        return nn_fail(ctx, PK_EINVAL, "pk_nn_slice: range %lld..%lld outside 0..%lld of axis %d", (long long)start,
                       (long long)end, (long long)a->shape[ax], ax);
    int64_t shape[PK_NN_MAXDIM];
    memcpy(shape, a->shape, sizeof shape);
    shape[ax] = end - start;
    int64_t inner = nn_prod(a->shape, ax + 1, a->ndim);
    if (ax == 0)
        return nn_view(ctx, a, a->ndim, shape, start * inner);
    int ng = nn_any_grad(ctx, a, NULL, NULL);
    pk_nn_tensor *t = nn_tensor(ctx, a->ndim, shape, ng);
    if (!t)
        return NULL;
    int64_t outer = nn_prod(a->shape, 0, ax), len = end - start;
    for (int64_t o = 0; o < outer; o++)
        memcpy(t->data + o * len * inner, a->data + (o * a->shape[ax] + start) * inner,
               (size_t)(len * inner) * sizeof(float));
    if (ng) {
        t->src[0] = a;
        t->iarg[0] = ax;
        t->iarg[1] = start;
        t->backward = slice_backward;
    }
    return t;
}

/* ---- gather ---- */

static void index_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    pk_nn_tensor *a = t->src[0];
    int ax = (int)t->iarg[0];
    int64_t m = t->iarg[1], n = a->shape[ax];
    int64_t outer = nn_prod(a->shape, 0, ax), inner = nn_prod(a->shape, ax + 1, a->ndim);
    const int32_t *ids = t->aux;
    /* Serial scatter-add: repeated ids must accumulate in a fixed order. */
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < m; k++) {
            float *d = a->grad + (o * n + ids[k]) * inner;
            const float *g = t->grad + (o * m + k) * inner;
            for (int64_t j = 0; j < inner; j++)
                d[j] += g[j];
        }
}

pk_nn_tensor *pk_nn_index_select(pk_nn_ctx *ctx, pk_nn_tensor *a, int axis, const int32_t *ids, int64_t m)
{
    NN_CHECK_IN(ctx, a);
    int ax = nn_axis(a, axis);
    if (ax < 0)
        return nn_fail(ctx, PK_EINVAL, "pk_nn_index_select: axis %d out of range", axis);
    if (m < 0 || (m > 0 && !ids))
        return nn_fail(ctx, PK_EINVAL, "pk_nn_index_select: bad index list");
    int64_t n = a->shape[ax];
    for (int64_t k = 0; k < m; k++)
        if (ids[k] < 0 || ids[k] >= n)
            return nn_fail(ctx, PK_EINVAL, "pk_nn_index_select: index %lld is %d, outside [0, %lld)", (long long)k,
                           (int)ids[k], (long long)n);
    int64_t shape[PK_NN_MAXDIM];
    memcpy(shape, a->shape, sizeof shape);
    shape[ax] = m;
    int ng = nn_any_grad(ctx, a, NULL, NULL);
    pk_nn_tensor *t = nn_tensor(ctx, a->ndim, shape, ng);
    if (!t)
        return NULL;
    int64_t outer = nn_prod(a->shape, 0, ax), inner = nn_prod(a->shape, ax + 1, a->ndim);
NN_OMP(omp parallel for if (t->numel > NN_PAR_MIN) schedule(static))
    for (int64_t k = 0; k < m; k++)
        for (int64_t o = 0; o < outer; o++)
            memcpy(t->data + (o * m + k) * inner, a->data + (o * n + ids[k]) * inner, (size_t)inner * sizeof(float));
    if (ng) {
        int32_t *keep = nn_alloc(ctx, (size_t)(m ? m : 1) * sizeof *keep);
        if (!keep)
            return NULL;
        if (m)
            memcpy(keep, ids, (size_t)m * sizeof *keep);
        t->aux = keep;
        t->src[0] = a;
        t->iarg[0] = ax;
        t->iarg[1] = m;
        t->backward = index_backward;
    }
    return t;
}

pk_nn_tensor *pk_nn_embedding(pk_nn_ctx *ctx, pk_nn_tensor *W, const int32_t *ids, int ndim, const int64_t *shape)
{
    NN_CHECK_IN(ctx, W);
    if (W->ndim != 2)
        return nn_fail(ctx, PK_ESHAPE, "pk_nn_embedding: weight must be (V, C), has %d axes", W->ndim);
    if (ndim < 1 || ndim >= PK_NN_MAXDIM || !shape)
        return nn_fail(ctx, PK_EINVAL, "pk_nn_embedding: ids need 1..%d axes", PK_NN_MAXDIM - 1);
    int64_t m = nn_prod(shape, 0, ndim);
    pk_nn_tensor *g = pk_nn_index_select(ctx, W, 0, ids, m);
    int64_t os[PK_NN_MAXDIM];
    memcpy(os, shape, (size_t)ndim * sizeof *os);
    os[ndim] = W->shape[1];
    return pk_nn_reshape(ctx, g, ndim + 1, os);
}
