/* tensor.c — the context: activation arena, tape, errors, leaves, backward. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn_internal.h"

#define NN_ALIGN 64
#define NN_MIN_BLOCK (1u << 20)

static nn_block *block_new(size_t cap)
{
    nn_block *b = malloc(sizeof *b);
    if (!b)
        return NULL;
    b->mem = aligned_alloc(NN_ALIGN, (cap + NN_ALIGN - 1) / NN_ALIGN * NN_ALIGN);
    if (!b->mem) {
        free(b);
        return NULL;
    }
    b->cap = cap;
    b->used = 0;
    b->next = NULL;
    return b;
}

static void blocks_free(nn_block *b)
{
    while (b) {
        nn_block *n = b->next;
        free(b->mem);
        free(b);
        b = n;
    }
}

pk_nn_ctx *pk_nn_ctx_new(void)
{
    pk_nn_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->grad_enabled = 1;
    c->train = 1;
    return c;
}

void pk_nn_ctx_free(pk_nn_ctx *ctx)
{
    if (!ctx)
        return;
    blocks_free(ctx->blocks);
    free(ctx->tape);
    free(ctx);
}

void pk_nn_ctx_reset(pk_nn_ctx *ctx)
{
    if (!ctx)
        return;
    /* After a step that needed several blocks, replace them by one block big
     * enough for the whole step, so later steps never call malloc. */
    if (ctx->blocks && ctx->blocks->next) {
        size_t want = ctx->total_cap;
        blocks_free(ctx->blocks);
        ctx->blocks = block_new(want);
        ctx->total_cap = ctx->blocks ? want : 0;
    }
    if (ctx->blocks)
        ctx->blocks->used = 0;
    ctx->used = 0;
    ctx->ntape = 0;
    pk_err_clear(&ctx->err);
}

void pk_nn_ctx_set_grad(pk_nn_ctx *ctx, int enabled) { ctx->grad_enabled = enabled != 0; }
void pk_nn_ctx_set_train(pk_nn_ctx *ctx, int train) { ctx->train = train != 0; }
int pk_nn_ctx_train(const pk_nn_ctx *ctx) { return ctx->train; }
void pk_nn_ctx_set_rng(pk_nn_ctx *ctx, pk_rng *rng) { ctx->rng = rng; }
int pk_nn_ctx_status(const pk_nn_ctx *ctx) { return ctx ? ctx->err.status : PK_EINVAL; }
const char *pk_nn_ctx_error(const pk_nn_ctx *ctx) { return ctx ? ctx->err.msg : "no context"; }
size_t pk_nn_ctx_bytes(const pk_nn_ctx *ctx) { return ctx->used; }
size_t pk_nn_ctx_peak_bytes(const pk_nn_ctx *ctx) { return ctx->peak; }

pk_nn_tensor *nn_fail(pk_nn_ctx *ctx, int status, const char *fmt, ...)
{
    if (ctx && !ctx->err.status) {
        va_list ap;
        va_start(ap, fmt);
        ctx->err.status = status;
        vsnprintf(ctx->err.msg, sizeof ctx->err.msg, fmt, ap);
        va_end(ap);
    }
    return NULL;
}

void *nn_alloc(pk_nn_ctx *ctx, size_t bytes)
{
    size_t need = (bytes + NN_ALIGN - 1) / NN_ALIGN * NN_ALIGN;
    if (need == 0)
        need = NN_ALIGN;
    nn_block *b = ctx->blocks;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > NN_MIN_BLOCK ? need : NN_MIN_BLOCK;
        if (cap < ctx->total_cap / 2)
            cap = ctx->total_cap / 2; /* geometric growth: few blocks per step */
        nn_block *nb = block_new(cap);
        if (!nb) {
            nn_fail(ctx, PK_ENOMEM, "nn arena: cannot allocate %zu bytes", cap);
            return NULL;
        }
        nb->next = b;
        ctx->blocks = nb;
        ctx->total_cap += cap;
        b = nb;
    }
    void *p = b->mem + b->used;
    b->used += need;
    ctx->used += need;
    if (ctx->used > ctx->peak)
        ctx->peak = ctx->used;
    return p;
}

void *nn_calloc(pk_nn_ctx *ctx, size_t bytes)
{
    void *p = nn_alloc(ctx, bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

static int tape_push(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    if (ctx->ntape == ctx->cap_tape) {
        size_t nc = ctx->cap_tape ? 2 * ctx->cap_tape : 256;
        pk_nn_tensor **nt = realloc(ctx->tape, nc * sizeof *nt);
        if (!nt) {
            nn_fail(ctx, PK_ENOMEM, "nn tape: out of memory");
            return -1;
        }
        ctx->tape = nt;
        ctx->cap_tape = nc;
    }
    ctx->tape[ctx->ntape++] = t;
    return 0;
}

int64_t nn_prod(const int64_t *shape, int lo, int hi)
{
    int64_t p = 1;
    for (int i = lo; i < hi; i++)
        p *= shape[i];
    return p;
}

static pk_nn_tensor *tensor_head(pk_nn_ctx *ctx, int ndim, const int64_t *shape, int needs_grad)
{
    if (ndim < 1 || ndim > PK_NN_MAXDIM || !shape)
        return nn_fail(ctx, PK_EINVAL, "nn: tensors have 1..%d axes, got %d", PK_NN_MAXDIM, ndim);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] > 0 && n > INT64_MAX / 4 / shape[i]))
            return nn_fail(ctx, PK_EINVAL, "nn: bad size %lld of axis %d", (long long)shape[i], i);
        n *= shape[i];
    }
    pk_nn_tensor *t = nn_calloc(ctx, sizeof *t);
    if (!t)
        return NULL;
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    t->numel = n;
    t->requires_grad = needs_grad && ctx->grad_enabled;
    t->trainable = 1;
    if (t->requires_grad && tape_push(ctx, t))
        return NULL;
    return t;
}

pk_nn_tensor *nn_tensor(pk_nn_ctx *ctx, int ndim, const int64_t *shape, int needs_grad)
{
    pk_nn_tensor *t = tensor_head(ctx, ndim, shape, needs_grad);
    if (!t)
        return NULL;
    t->data = nn_alloc(ctx, (size_t)t->numel * sizeof(float));
    return t->data ? t : NULL;
}

/* A view: shares storage (and, after backward starts, gradient) with `of`. */
pk_nn_tensor *nn_view(pk_nn_ctx *ctx, pk_nn_tensor *of, int ndim, const int64_t *shape, int64_t offset)
{
    pk_nn_tensor *t = tensor_head(ctx, ndim, shape, of->requires_grad);
    if (!t)
        return NULL;
    pk_nn_tensor *root = of->view_of ? of->view_of : of;
    t->view_of = root;
    t->view_offset = offset + (of->view_of ? of->view_offset : 0);
    t->data = root->data + t->view_offset;
    return t;
}

int nn_any_grad(const pk_nn_ctx *ctx, const pk_nn_tensor *a, const pk_nn_tensor *b, const pk_nn_tensor *c)
{
    if (!ctx->grad_enabled)
        return 0;
    return (a && a->requires_grad) || (b && b->requires_grad) || (c && c->requires_grad);
}

const char *nn_shape_str(const pk_nn_tensor *t, char *buf, size_t n)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "(");
    for (int i = 0; i < t->ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, i ? ",%lld" : "%lld", (long long)t->shape[i]);
    if (k < n)
        snprintf(buf + k, n - k, ")");
    return buf;
}

int nn_axis(const pk_nn_tensor *t, int axis)
{
    if (axis < 0)
        axis += t->ndim;
    return (axis < 0 || axis >= t->ndim) ? -1 : axis;
}

int nn_same_shape(const pk_nn_tensor *a, const pk_nn_tensor *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return 0;
    return 1;
}

/* ---- leaves ---- */

pk_nn_tensor *pk_nn_input(pk_nn_ctx *ctx, int ndim, const int64_t *shape)
{
    if (!ctx)
        return NULL;
    return nn_tensor(ctx, ndim, shape, 0);
}

pk_nn_tensor *pk_nn_input_copy(pk_nn_ctx *ctx, int ndim, const int64_t *shape, const float *data)
{
    pk_nn_tensor *t = pk_nn_input(ctx, ndim, shape);
    if (t && data)
        memcpy(t->data, data, (size_t)t->numel * sizeof(float));
    return t;
}

pk_nn_tensor *pk_nn_input_grad(pk_nn_ctx *ctx, int ndim, const int64_t *shape)
{
    if (!ctx)
        return NULL;
    return nn_tensor(ctx, ndim, shape, 1);
}

pk_nn_tensor *pk_nn_full(pk_nn_ctx *ctx, int ndim, const int64_t *shape, float value)
{
    pk_nn_tensor *t = pk_nn_input(ctx, ndim, shape);
    if (t)
        for (int64_t i = 0; i < t->numel; i++)
            t->data[i] = value;
    return t;
}

int pk_nn_all_finite(const pk_nn_tensor *t)
{
    if (!t)
        return 0;
    for (int64_t i = 0; i < t->numel; i++)
        if (!isfinite(t->data[i]))
            return 0;
    return 1;
}

/* ---- backward ---- */

int pk_nn_backward(pk_nn_ctx *ctx, pk_nn_tensor *loss)
{
    if (!ctx)
        return PK_EINVAL;
    if (ctx->err.status)
        return ctx->err.status;
    if (!loss) {
        nn_fail(ctx, PK_EINVAL, "pk_nn_backward: loss is NULL");
        return PK_EINVAL;
    }
    if (loss->numel != 1) {
        char b[96];
        nn_fail(ctx, PK_EINVAL, "pk_nn_backward: loss must be a scalar, got shape %s", nn_shape_str(loss, b, sizeof b));
        return PK_EINVAL;
    }
    if (!isfinite(loss->data[0])) {
        nn_fail(ctx, PK_EDOM, "pk_nn_backward: loss is %g", (double)loss->data[0]);
        return PK_EDOM;
    }
    if (!loss->requires_grad) {
        nn_fail(ctx, PK_EINVAL, "pk_nn_backward: loss does not depend on any parameter (or gradients are off)");
        return PK_EINVAL;
    }
    /* Gradient buffers for the step's activations; views alias their owner's. */
    for (size_t i = 0; i < ctx->ntape; i++) {
        pk_nn_tensor *t = ctx->tape[i];
        if (t->view_of)
            continue;
        t->grad = nn_calloc(ctx, (size_t)t->numel * sizeof(float));
        if (!t->grad)
            return ctx->err.status;
    }
    for (size_t i = 0; i < ctx->ntape; i++) {
        pk_nn_tensor *t = ctx->tape[i];
        if (t->view_of)
            t->grad = t->view_of->grad ? t->view_of->grad + t->view_offset : NULL;
    }
    if (!loss->grad) {
        nn_fail(ctx, PK_EINTERNAL, "pk_nn_backward: loss has no gradient buffer");
        return PK_EINTERNAL;
    }
    loss->grad[0] += 1.0f;
    for (size_t i = ctx->ntape; i-- > 0;) {
        pk_nn_tensor *t = ctx->tape[i];
        if (t->backward)
            t->backward(ctx, t);
        if (ctx->err.status)
            return ctx->err.status;
    }
    return PK_OK;
}
