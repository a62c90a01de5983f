/* ops_elementwise.c — add/sub/mul/div with numpy broadcasting, affine, and
 * the unary activations, each a forward kernel plus its backward. */
#include <math.h>

#include "nn_internal.h"

enum { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV };

/* Broadcast geometry: out shape (nd axes, right-aligned) and the element
 * strides of a and b in it (0 along broadcast axes). */
typedef struct bcast {
    int nd;
    int64_t shape[PK_NN_MAXDIM], sa[PK_NN_MAXDIM], sb[PK_NN_MAXDIM];
} bcast;

static int bcast_setup(const pk_nn_tensor *a, const pk_nn_tensor *b, bcast *g)
{
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    g->nd = nd;
    int64_t ra = 1, rb = 1;
    for (int i = nd - 1; i >= 0; i--) {
        int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
        int64_t da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return -1;
        g->shape[i] = da > db ? da : db;
        if (da == 0 || db == 0)
            g->shape[i] = 0;
        g->sa[i] = da == 1 ? 0 : ra;
        g->sb[i] = db == 1 ? 0 : rb;
        ra *= da;
        rb *= db;
    }
    return 0;
}

/* Visit every output element i with its a and b offsets. */
#define BCAST_LOOP(g, n, BODY)                                                                              \
    do {                                                                                                    \
        int64_t idx_[PK_NN_MAXDIM] = {0}, oa = 0, ob = 0;                                                   \
        for (int64_t i = 0; i < (n); i++) {                                                                 \
            BODY;                                                                                           \
            for (int d_ = (g)->nd - 1; d_ >= 0; d_--) {                                                     \
                idx_[d_]++;                                                                                 \
                oa += (g)->sa[d_];                                                                          \
                ob += (g)->sb[d_];                                                                          \
                if (idx_[d_] < (g)->shape[d_])                                                              \
                    break;                                                                                  \
                oa -= (g)->sa[d_] * (g)->shape[d_];                                                         \
                ob -= (g)->sb[d_] * (g)->shape[d_];                                                         \
                idx_[d_] = 0;                                                                               \
            }                                                                                               \
        }                                                                                                   \
    } while (0)

static inline float bin_f(int op, float x, float y)
{
    switch (op) {
    case BIN_ADD: return x + y;
    case BIN_SUB: return x - y;
    case BIN_MUL: return x * y;
    default: return x / y;
    }
}

static void binary_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    pk_nn_tensor *a = t->src[0], *b = t->src[1];
    const bcast *g = t->aux;
    int op = (int)t->iarg[0];
    const float *go = t->grad, *x = a->data, *y = b->data;
    float *ga = a->requires_grad ? a->grad : NULL, *gb = b->requires_grad ? b->grad : NULL;
    (void)ctx;
    if (t->iarg[1]) { /* same shapes: no broadcasting */
        int64_t n = t->numel;
NN_OMP(omp parallel for if (n > NN_PAR_MIN) schedule(static))
        for (int64_t i = 0; i < n; i++) {
            float gi = go[i];
            switch (op) {
            case BIN_ADD: if (ga) ga[i] += gi; if (gb) gb[i] += gi; break;
            case BIN_SUB: if (ga) ga[i] += gi; if (gb) gb[i] -= gi; break;
            case BIN_MUL: if (ga) ga[i] += gi * y[i]; if (gb) gb[i] += gi * x[i]; break;
            default:
                if (ga) ga[i] += gi / y[i];
                if (gb) gb[i] -= gi * x[i] / (y[i] * y[i]);
            }
        }
        return;
    }
    BCAST_LOOP(g, t->numel, {
        float gi = go[i];
        switch (op) {
        case BIN_ADD: if (ga) ga[oa] += gi; if (gb) gb[ob] += gi; break;
        case BIN_SUB: if (ga) ga[oa] += gi; if (gb) gb[ob] -= gi; break;
        case BIN_MUL: if (ga) ga[oa] += gi * y[ob]; if (gb) gb[ob] += gi * x[oa]; break;
        default:
            if (ga) ga[oa] += gi / y[ob];
            if (gb) gb[ob] -= gi * x[oa] / (y[ob] * y[ob]);
        }
    });
}

static pk_nn_tensor *binary(pk_nn_ctx *ctx, pk_nn_tensor *a, pk_nn_tensor *b, int op, const char *fn)
{
    NN_CHECK_IN(ctx, a);
    NN_CHECK_IN(ctx, b);
    bcast g;
    if (bcast_setup(a, b, &g)) {
        char s1[96], s2[96];
        return nn_fail(ctx, PK_ESHAPE, "%s: shapes %s and %s do not broadcast", fn, nn_shape_str(a, s1, sizeof s1),
                       nn_shape_str(b, s2, sizeof s2));
    }
    int ng = nn_any_grad(ctx, a, b, NULL);
    pk_nn_tensor *t = nn_tensor(ctx, g.nd, g.shape, ng);
    if (!t)
        return NULL;
    int same = nn_same_shape(a, b);
    int64_t n = t->numel;
    float *o = t->data;
    const float *x = a->data, *y = b->data;
    if (same) {
NN_OMP(omp parallel for if (n > NN_PAR_MIN) schedule(static))
        for (int64_t i = 0; i < n; i++)
            o[i] = bin_f(op, x[i], y[i]);
    } else {
        BCAST_LOOP(&g, n, o[i] = bin_f(op, x[oa], y[ob]));
    }
    if (ng) {
        bcast *gs = nn_alloc(ctx, sizeof g);
        if (!gs)
            return NULL;
        *gs = g;
        t->aux = gs;
        t->src[0] = a;
        t->src[1] = b;
        t->iarg[0] = op;
        t->iarg[1] = same;
        t->backward = binary_backward;
    }
    return t;
}

pk_nn_tensor *pk_nn_add(pk_nn_ctx *ctx, pk_nn_tensor *a, pk_nn_tensor *b) { return binary(ctx, a, b, BIN_ADD, "pk_nn_add"); }
pk_nn_tensor *pk_nn_sub(pk_nn_ctx *ctx, pk_nn_tensor *a, pk_nn_tensor *b) { return binary(ctx, a, b, BIN_SUB, "pk_nn_sub"); }
pk_nn_tensor *pk_nn_mul(pk_nn_ctx *ctx, pk_nn_tensor *a, pk_nn_tensor *b) { return binary(ctx, a, b, BIN_MUL, "pk_nn_mul"); }
pk_nn_tensor *pk_nn_div(pk_nn_ctx *ctx, pk_nn_tensor *a, pk_nn_tensor *b) { return binary(ctx, a, b, BIN_DIV, "pk_nn_div"); }

static void affine_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    pk_nn_tensor *a = t->src[0];
    float s = t->farg[0];
    for (int64_t i = 0; i < t->numel; i++)
        a->grad[i] += s * t->grad[i];
}

pk_nn_tensor *pk_nn_affine(pk_nn_ctx *ctx, pk_nn_tensor *a, float s, float c)
{
    NN_CHECK_IN(ctx, a);
    int ng = nn_any_grad(ctx, a, NULL, NULL);
    pk_nn_tensor *t = nn_tensor(ctx, a->ndim, a->shape, ng);
    if (!t)
        return NULL;
    for (int64_t i = 0; i < a->numel; i++)
        t->data[i] = a->data[i] * s + c;
    if (ng) {
        t->src[0] = a;
        t->farg[0] = s;
        t->backward = affine_backward;
    }
    return t;
}

/* ---- unary ---- */

#define SQRT_2_OVER_PI 0.7978845608028654
#define GELU_C 0.044715

/* tanh from one expf: 1 - 2 / (exp(2u) + 1); saturates correctly at +-inf and
 * is within a few float ulps of tanh (absolute), far cheaper than double tanh. */
static inline float fast_tanhf(float u)
{
    return 1.0f - 2.0f / (nn_expf(2.0f * u) + 1.0f);
}

/* GELU (tanh form) kernels on their own, four lanes at a time. */
#if defined(__SSE2__)
static inline __m128 gelu_u4(__m128 x)
{
    __m128 x3 = _mm_mul_ps(_mm_mul_ps(x, x), x);
    return _mm_mul_ps(_mm_set1_ps((float)SQRT_2_OVER_PI), _mm_add_ps(x, _mm_mul_ps(_mm_set1_ps((float)GELU_C), x3)));
}
static inline __m128 tanh4(__m128 u)
{
    __m128 e = nn_exp4(_mm_add_ps(u, u)), one = _mm_set1_ps(1.0f);
    return _mm_sub_ps(one, _mm_div_ps(_mm_set1_ps(2.0f), _mm_add_ps(e, one)));
}
#endif

static void gelu_tanh_fwd(const float *x, float *y, int64_t n)
{
    int64_t nq = n / 4;
NN_OMP(omp parallel for if (n > NN_PAR_MIN) schedule(static))
    for (int64_t q = 0; q < nq; q++) {
#if defined(__SSE2__)
        __m128 xi = _mm_loadu_ps(x + 4 * q), half = _mm_set1_ps(0.5f);
        __m128 th = tanh4(gelu_u4(xi));
        _mm_storeu_ps(y + 4 * q, _mm_mul_ps(_mm_mul_ps(half, xi), _mm_add_ps(_mm_set1_ps(1.0f), th)));
#else
        for (int64_t i = 4 * q; i < 4 * q + 4; i++) {
            float u = (float)SQRT_2_OVER_PI * (x[i] + (float)GELU_C * x[i] * x[i] * x[i]);
            y[i] = 0.5f * x[i] * (1.0f + fast_tanhf(u));
        }
#endif
    }
    for (int64_t i = 4 * nq; i < n; i++) {
        float u = (float)SQRT_2_OVER_PI * (x[i] + (float)GELU_C * x[i] * x[i] * x[i]);
        y[i] = 0.5f * x[i] * (1.0f + fast_tanhf(u));
    }
}

/* ga += go where x > 0, as a mask (no branch to mispredict). */
static void relu_bwd(const float *x, const float *go, float *ga, int64_t n)
{
    int64_t nq = n / 4;
    NN_OMP(omp parallel for if (n > NN_PAR_MIN) schedule(static))
    for (int64_t q = 0; q < nq; q++) {
#if defined(__SSE2__)
        __m128 m = _mm_cmpgt_ps(_mm_loadu_ps(x + 4 * q), _mm_setzero_ps());
        _mm_storeu_ps(ga + 4 * q, _mm_add_ps(_mm_loadu_ps(ga + 4 * q), _mm_and_ps(m, _mm_loadu_ps(go + 4 * q))));
#else
        for (int64_t i = 4 * q; i < 4 * q + 4; i++)
            ga[i] += x[i] > 0 ? go[i] : 0.0f;
#endif
    }
    for (int64_t i = 4 * nq; i < n; i++)
        ga[i] += x[i] > 0 ? go[i] : 0.0f;
}

static inline float gelu_tanh_df(float xi)
{
    float u = (float)SQRT_2_OVER_PI * (xi + (float)GELU_C * xi * xi * xi), th = fast_tanhf(u);
    float du = (float)SQRT_2_OVER_PI * (1.0f + 3.0f * (float)GELU_C * xi * xi);
    return 0.5f * (1.0f + th) + 0.5f * xi * (1.0f - th * th) * du;
}

static void gelu_tanh_bwd(const float *x, const float *go, float *ga, int64_t n)
{
    int64_t nq = n / 4;
NN_OMP(omp parallel for if (n > NN_PAR_MIN) schedule(static))
    for (int64_t q = 0; q < nq; q++) {
#if defined(__SSE2__)
        __m128 xi = _mm_loadu_ps(x + 4 * q), half = _mm_set1_ps(0.5f), one = _mm_set1_ps(1.0f);
        __m128 th = tanh4(gelu_u4(xi));
        __m128 du = _mm_mul_ps(_mm_set1_ps((float)SQRT_2_OVER_PI),
                               _mm_add_ps(one, _mm_mul_ps(_mm_set1_ps(3.0f * (float)GELU_C), _mm_mul_ps(xi, xi))));
        __m128 d = _mm_add_ps(_mm_mul_ps(half, _mm_add_ps(one, th)),
                              _mm_mul_ps(_mm_mul_ps(_mm_mul_ps(half, xi), _mm_sub_ps(one, _mm_mul_ps(th, th))), du));
        _mm_storeu_ps(ga + 4 * q, _mm_add_ps(_mm_loadu_ps(ga + 4 * q), _mm_mul_ps(_mm_loadu_ps(go + 4 * q), d)));
#else
        for (int64_t i = 4 * q; i < 4 * q + 4; i++)
            ga[i] += go[i] * gelu_tanh_df(x[i]);
#endif
    }
    for (int64_t i = 4 * nq; i < n; i++)
        ga[i] += go[i] * gelu_tanh_df(x[i]);
}

static inline float unary_f(int op, float x)
{
    switch (op) {
    case PK_NN_EXP: return expf(x);
    case PK_NN_LOG: return logf(x);
    case PK_NN_TANH: return tanhf(x);
    case PK_NN_SIGMOID: return x >= 0 ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x));
    case PK_NN_RELU: return x > 0 ? x : 0.0f;
    case PK_NN_GELU: return (float)(0.5 * x * (1.0 + erf(x * 0.7071067811865476)));
    case PK_NN_GELU_TANH: {
        float u = (float)SQRT_2_OVER_PI * (x + (float)GELU_C * x * x * x);
        return 0.5f * x * (1.0f + fast_tanhf(u));
    }
    case PK_NN_SILU: return x >= 0 ? x / (1.0f + expf(-x)) : x * expf(x) / (1.0f + expf(x));
    case PK_NN_SOFTPLUS: return (float)pk_log1pexp(x);
    case PK_NN_SQUARE: return x * x;
    case PK_NN_SQRT: return sqrtf(x);
    default: return -x;
    }
}

/* d out / d x given input x and output y. */
static inline float unary_df(int op, float x, float y)
{
    switch (op) {
    case PK_NN_EXP: return y;
    case PK_NN_LOG: return 1.0f / x;
    case PK_NN_TANH: return 1.0f - y * y;
    case PK_NN_SIGMOID: return y * (1.0f - y);
    case PK_NN_RELU: return x > 0 ? 1.0f : 0.0f;
    case PK_NN_GELU: {
        double cdf = 0.5 * (1.0 + erf(x * 0.7071067811865476));
        double pdf = exp(-0.5 * (double)x * x) * 0.3989422804014327;
        return (float)(cdf + x * pdf);
    }
    case PK_NN_GELU_TANH: {
        float u = (float)SQRT_2_OVER_PI * (x + (float)GELU_C * x * x * x), th = fast_tanhf(u);
        float du = (float)SQRT_2_OVER_PI * (1.0f + 3.0f * (float)GELU_C * x * x);
        return 0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * du;
    }
    case PK_NN_SILU: {
        float s = x >= 0 ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x));
        return s * (1.0f + x * (1.0f - s));
    }
    case PK_NN_SOFTPLUS: return x >= 0 ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x));
    case PK_NN_SQUARE: return 2.0f * x;
    case PK_NN_SQRT: return 0.5f / y;
    default: return -1.0f;
    }
}

static void unary_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    pk_nn_tensor *a = t->src[0];
    int op = (int)t->iarg[0];
    int64_t n = t->numel;
    const float *x = a->data, *y = t->data, *go = t->grad;
    float *ga = a->grad;
    /* one loop per op (the constant folds the switch away, so loops vectorise) */
#define DF_LOOP(OPC)                                                                                                   \
    case OPC: {                                                                                                        \
        NN_OMP(omp parallel for if (n > NN_PAR_MIN) schedule(static)) for (int64_t i = 0; i < n; i++) ga[i] +=     \
            go[i] * unary_df(OPC, x[i], y[i]);                                                                         \
        break;                                                                                                         \
    }
    if (op == PK_NN_GELU_TANH) {
        gelu_tanh_bwd(x, go, ga, n);
        return;
    }
    if (op == PK_NN_RELU) {
        relu_bwd(x, go, ga, n);
        return;
    }
    switch (op) {
        DF_LOOP(PK_NN_EXP) DF_LOOP(PK_NN_LOG) DF_LOOP(PK_NN_TANH) DF_LOOP(PK_NN_SIGMOID) DF_LOOP(PK_NN_RELU)
        DF_LOOP(PK_NN_GELU) DF_LOOP(PK_NN_GELU_TANH) DF_LOOP(PK_NN_SILU) DF_LOOP(PK_NN_SOFTPLUS)
        DF_LOOP(PK_NN_SQUARE) DF_LOOP(PK_NN_SQRT) DF_LOOP(PK_NN_NEG)
    }
#undef DF_LOOP
}

pk_nn_tensor *pk_nn_unary_op(pk_nn_ctx *ctx, pk_nn_tensor *a, pk_nn_unary op)
{
    NN_CHECK_IN(ctx, a);
    if ((int)op < 0 || op > PK_NN_NEG)
        return nn_fail(ctx, PK_EINVAL, "pk_nn_unary_op: unknown op %d", (int)op);
    int ng = nn_any_grad(ctx, a, NULL, NULL);
    pk_nn_tensor *t = nn_tensor(ctx, a->ndim, a->shape, ng);
    if (!t)
        return NULL;
    int64_t n = a->numel;
    const float *x = a->data;
    float *y = t->data;
#define F_LOOP(OPC)                                                                                                    \
    case OPC: {                                                                                                        \
        NN_OMP(omp parallel for if (n > NN_PAR_MIN) schedule(static)) for (int64_t i = 0; i < n; i++) y[i] =        \
            unary_f(OPC, x[i]);                                                                                        \
        break;                                                                                                         \
    }
    if (op == PK_NN_GELU_TANH)
        gelu_tanh_fwd(x, y, n);
    else
        switch (op) {
        F_LOOP(PK_NN_EXP) F_LOOP(PK_NN_LOG) F_LOOP(PK_NN_TANH) F_LOOP(PK_NN_SIGMOID) F_LOOP(PK_NN_RELU)
        F_LOOP(PK_NN_GELU) F_LOOP(PK_NN_GELU_TANH) F_LOOP(PK_NN_SILU) F_LOOP(PK_NN_SOFTPLUS)
        F_LOOP(PK_NN_SQUARE) F_LOOP(PK_NN_SQRT) F_LOOP(PK_NN_NEG)
    }
#undef F_LOOP
    if (ng) {
        t->src[0] = a;
        t->iarg[0] = op;
        t->backward = unary_backward;
    }
    return t;
}

pk_nn_tensor *pk_nn_exp(pk_nn_ctx *ctx, pk_nn_tensor *a) { return pk_nn_unary_op(ctx, a, PK_NN_EXP); }
pk_nn_tensor *pk_nn_log(pk_nn_ctx *ctx, pk_nn_tensor *a) { return pk_nn_unary_op(ctx, a, PK_NN_LOG); }
pk_nn_tensor *pk_nn_tanh(pk_nn_ctx *ctx, pk_nn_tensor *a) { return pk_nn_unary_op(ctx, a, PK_NN_TANH); }
pk_nn_tensor *pk_nn_sigmoid(pk_nn_ctx *ctx, pk_nn_tensor *a) { return pk_nn_unary_op(ctx, a, PK_NN_SIGMOID); }
pk_nn_tensor *pk_nn_relu(pk_nn_ctx *ctx, pk_nn_tensor *a) { return pk_nn_unary_op(ctx, a, PK_NN_RELU); }
pk_nn_tensor *pk_nn_gelu(pk_nn_ctx *ctx, pk_nn_tensor *a) { return pk_nn_unary_op(ctx, a, PK_NN_GELU); }
pk_nn_tensor *pk_nn_silu(pk_nn_ctx *ctx, pk_nn_tensor *a) { return pk_nn_unary_op(ctx, a, PK_NN_SILU); }
pk_nn_tensor *pk_nn_softplus(pk_nn_ctx *ctx, pk_nn_tensor *a) { return pk_nn_unary_op(ctx, a, PK_NN_SOFTPLUS); }
