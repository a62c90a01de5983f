/* nn_internal.h — what the nn source files share: the context, the arena,
 * tensor construction and error helpers. */
#ifndef PK_NN_INTERNAL_H
#define PK_NN_INTERNAL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "probkit/nn.h"

/* OpenMP pragmas that vanish (without unknown-pragma warnings) when OpenMP is off. */
#ifdef _OPENMP
#define NN_OMP(x) _Pragma(#x)
#else
#define NN_OMP(x)
#endif

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

/* exp(x) in float from a degree-6 polynomial on [-ln2/2, ln2/2] and an
 * exponent shift (Cephes' expf constants): relative error ~2e-7, written with
 * arithmetic only so that loops calling it vectorise (libm's expf does not,
 * because of errno).  Saturates to ~1e-38 below -87.3 and to FLT_MAX*..inf
 * above 88.7; NaN propagates. */
static inline float nn_expf(float x)
{
    /* written so that NaN clamps to -87.3 here (converting NaN to int is
     * undefined) and is restored by the final select */
    float c = x > -87.3f ? x : -87.3f;
    c = c < 88.7f ? c : 88.7f;
    float t = c * 1.44269504088896341f;
    int n = (int)(t + (t >= 0 ? 0.5f : -0.5f));
    float fn = (float)n;
    float r = c - fn * 0.693359375f + fn * 2.12194440e-4f;
    float p = 1.9875691500E-4f;
    p = p * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    p = p * r * r + r + 1.0f;
    union {
        int32_t i;
        float f;
    } u = {(int32_t)((n + 127) << 23)};
    float y = p * u.f;
    return x != x ? x : y;
}

#if defined(__SSE2__)
#include <emmintrin.h>
/* nn_expf on four lanes (SSE2). */
static inline __m128 nn_exp4(__m128 x)
{
    __m128 c = _mm_min_ps(_mm_max_ps(x, _mm_set1_ps(-87.3f)), _mm_set1_ps(88.7f));
    __m128i ni = _mm_cvtps_epi32(_mm_mul_ps(c, _mm_set1_ps(1.44269504088896341f)));
    __m128 fn = _mm_cvtepi32_ps(ni);
    __m128 r = _mm_add_ps(_mm_sub_ps(c, _mm_mul_ps(fn, _mm_set1_ps(0.693359375f))),
                          _mm_mul_ps(fn, _mm_set1_ps(2.12194440e-4f)));
    __m128 p = _mm_set1_ps(1.9875691500E-4f);
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(1.3981999507E-3f));
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(8.3334519073E-3f));
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(4.1665795894E-2f));
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(1.6666665459E-1f));
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(5.0000001201E-1f));
    p = _mm_add_ps(_mm_add_ps(_mm_mul_ps(_mm_mul_ps(p, r), r), r), _mm_set1_ps(1.0f));
    __m128 sc = _mm_castsi128_ps(_mm_slli_epi32(_mm_add_epi32(ni, _mm_set1_epi32(127)), 23));
    __m128 y = _mm_mul_ps(p, sc);
    __m128 nan = _mm_cmpunord_ps(x, x);
    return _mm_or_ps(_mm_and_ps(nan, x), _mm_andnot_ps(nan, y));
}
#endif

/* row[j] <- exp(row[j] - m) in place (exactly 0 where row[j] is -inf); returns the sum in double. */
static inline double nn_exp_shift_row(float *row, int64_t n, float m)
{
    double s = 0;
    int64_t j = 0;
#if defined(__SSE2__)
    const __m128 mm = _mm_set1_ps(m), ninf = _mm_set1_ps(-INFINITY);
    for (; j + 4 <= n; j += 4) {
        __m128 x = _mm_loadu_ps(row + j);
        __m128 e = _mm_andnot_ps(_mm_cmpeq_ps(x, ninf), nn_exp4(_mm_sub_ps(x, mm)));
        _mm_storeu_ps(row + j, e);
        float t[4];
        _mm_storeu_ps(t, e);
        s += (double)t[0] + t[1] + t[2] + t[3];
    }
#endif
    for (; j < n; j++) {
        row[j] = row[j] == -INFINITY ? 0.0f : nn_expf(row[j] - m);
        s += row[j];
    }
    return s;
}

/* log(sum(exp(x[0..n-1]))) with a float max and a double sum of nn_expf. */
static inline double nn_logsumexp_row(const float *x, int64_t n)
{
    float m = -INFINITY;
    for (int64_t j = 0; j < n; j++)
        m = x[j] > m ? x[j] : m;
    if (!(m > -INFINITY) || m == INFINITY)
        return m;
    double s = 0;
    for (int64_t j = 0; j < n; j++)
        s += nn_expf(x[j] - m);
    return m + log(s);
}

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
