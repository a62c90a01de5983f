/* nn_internal.h — what the nn source files share: the context, the arena,
 * tensor construction and error helpers. */
#ifndef PK_NN_INTERNAL_H
#define PK_NN_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "probkit/nn.h"

/* Parallelise a loop only when it has enough work to pay for the fork. */
#define NN_PAR_MIN 32768

typedef struct nn_block {
    struct nn_block *next;
    size_t cap, used;
    unsigned char *mem;
} nn_block;

struct pk_nn_ctx {
    nn_block *blocks; /* newest first */
    size_t used, peak, total_cap;
    pk_nn_tensor **tape; /* tensors that need a gradient, in creation order */
    size_t ntape, cap_tape;
    int grad_enabled, train;
    pk_rng *rng;
    pk_err err;
};

/* Arena allocation (64-byte aligned); NULL and a context error on failure. */
void *nn_alloc(pk_nn_ctx *ctx, size_t bytes);
void *nn_calloc(pk_nn_ctx *ctx, size_t bytes);
/* Set the sticky error (first one wins); returns NULL for `return nn_fail(...)`. */
pk_nn_tensor *nn_fail(pk_nn_ctx *ctx, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* A new arena tensor with data allocated (uninitialised).  `needs_grad`
 * decides whether it goes on the tape (only when gradients are enabled). */
pk_nn_tensor *nn_tensor(pk_nn_ctx *ctx, int ndim, const int64_t *shape, int needs_grad);
/* A view of `of` (shares data; gradient aliased during backward). */
pk_nn_tensor *nn_view(pk_nn_ctx *ctx, pk_nn_tensor *of, int ndim, const int64_t *shape, int64_t offset);
/* 1 if any src requires a gradient (NULL entries ignored) and grads are on. */
int nn_any_grad(const pk_nn_ctx *ctx, const pk_nn_tensor *a, const pk_nn_tensor *b, const pk_nn_tensor *c);
/* Write "(3,4,5)" into buf. */
const char *nn_shape_str(const pk_nn_tensor *t, char *buf, size_t n);
/* Normalise a possibly negative axis; -1 if out of range. */
int nn_axis(const pk_nn_tensor *t, int axis);
/* product of shape[lo..hi-1] */
int64_t nn_prod(const int64_t *shape, int lo, int hi);
int nn_same_shape(const pk_nn_tensor *a, const pk_nn_tensor *b);

struct pk_tensor_file;
/* Metadata of a safetensors file: the value of `key` or NULL; an integer in [lo, hi] (0) or -1. */
const char *nn_meta(const struct pk_tensor_file *f, const char *key);
int nn_meta_long(const struct pk_tensor_file *f, const char *key, long lo, long hi, long *out);

#define NN_CHECK_IN(ctx, t)                                                                                  \
    do {                                                                                                     \
        if (!(ctx))                                                                                          \
            return NULL;                                                                                     \
        if (!(t))                                                                                            \
            return nn_fail((ctx), PK_EINVAL, "%s: input is NULL (an earlier op failed?)", __func__);        \
        if ((ctx)->err.status)                                                                               \
            return NULL;                                                                                     \
    } while (0)

#endif
