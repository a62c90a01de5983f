/* conv.c — 2-D convolution and its transpose (im2col + one sgemm over the
 * whole batch), max / average pooling, nearest upsampling.  NCHW layout. */
#include <cblas.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "nn_internal.h"

typedef struct conv_geom {
    int64_t N, C, H, W, KH, KW, S, P, OH, OW; /* image (C,H,W) <-> columns of an (OH,OW) grid */
} conv_geom;

/* col (C*KH*KW, N*OH*OW) from img (N, C, H, W). */
static void im2col(const conv_geom *g, const float *img, float *col)
{
    int64_t NP = g->N * g->OH * g->OW, rows = g->C * g->KH * g->KW;
NN_OMP(omp parallel for if (rows * NP > NN_PAR_MIN) schedule(static))
    for (int64_t r = 0; r < rows; r++) {
        int64_t c = r / (g->KH * g->KW), kh = (r / g->KW) % g->KH, kw = r % g->KW;
        float *dst = col + r * NP;
        for (int64_t n = 0; n < g->N; n++) {
            const float *src = img + (n * g->C + c) * g->H * g->W;
            for (int64_t oh = 0; oh < g->OH; oh++) {
                int64_t ih = oh * g->S - g->P + kh;
                float *d = dst + (n * g->OH + oh) * g->OW;
                if (ih < 0 || ih >= g->H) {
                    for (int64_t ow = 0; ow < g->OW; ow++)
                        d[ow] = 0.0f;
                    continue;
                }
                if (g->S == 1) { /* a contiguous run of the input row, zeros either side */
                    int64_t lo = g->P - kw > 0 ? g->P - kw : 0, hi = g->W + g->P - kw;
                    if (hi > g->OW)
                        hi = g->OW;
                    if (hi < lo)
                        hi = lo;
                    /* plain loops: rows are short (tens of floats), where memcpy's call costs more */
                    const float *sr = src + ih * g->W - g->P + kw;
                    for (int64_t ow = 0; ow < lo; ow++)
                        d[ow] = 0.0f;
                    for (int64_t ow = lo; ow < hi; ow++)
                        d[ow] = sr[ow];
                    for (int64_t ow = hi; ow < g->OW; ow++)
                        d[ow] = 0.0f;
                    continue;
                }
                for (int64_t ow = 0; ow < g->OW; ow++) {
                    int64_t iw = ow * g->S - g->P + kw;
                    d[ow] = (iw >= 0 && iw < g->W) ? src[ih * g->W + iw] : 0.0f;
                }
            }
        }
    }
}

/* img (N, C, H, W) += adjoint of im2col applied to col.  Each (n, c) plane
 * is owned by one thread, so the sum order is fixed. */
static void col2im(const conv_geom *g, const float *col, float *img)
{
    int64_t NP = g->N * g->OH * g->OW;
NN_OMP(omp parallel for if (g->N * g->C * g->H * g->W > NN_PAR_MIN / 4) schedule(static))
    for (int64_t nc = 0; nc < g->N * g->C; nc++) {
        int64_t n = nc / g->C, c = nc % g->C;
        float *dst = img + nc * g->H * g->W;
        for (int64_t kh = 0; kh < g->KH; kh++)
            for (int64_t kw = 0; kw < g->KW; kw++) {
                const float *s = col + ((c * g->KH + kh) * g->KW + kw) * NP + n * g->OH * g->OW;
                for (int64_t oh = 0; oh < g->OH; oh++) {
                    int64_t ih = oh * g->S - g->P + kh;
                    if (ih < 0 || ih >= g->H)
                        continue;
                    for (int64_t ow = 0; ow < g->OW; ow++) {
                        int64_t iw = ow * g->S - g->P + kw;
                        if (iw >= 0 && iw < g->W)
                            dst[ih * g->W + iw] += s[oh * g->OW + ow];
                    }
                }
            }
    }
}

/* (N, O, P) <-> (O, N*P) */
static void nop_to_onp(const float *a, float *b, int64_t N, int64_t O, int64_t P)
{
NN_OMP(omp parallel for if (N * O * P > NN_PAR_MIN) schedule(static))
    for (int64_t o = 0; o < O; o++)
        for (int64_t n = 0; n < N; n++)
            memcpy(b + o * N * P + n * P, a + (n * O + o) * P, (size_t)P * sizeof(float));
}

/* ---- direct convolution, for layers whose im2col matrix has few rows ----
 *
 * With C*KH*KW small (a first layer on grey images: 9 or 25 rows), the
 * sgemm is too thin to run well and the im2col copy plus sgemm's packing of
 * it cost more than the arithmetic.  Instead each image is zero-padded once
 * into planes of width PW = W + 2P, and every output plane is computed
 * "wide": as OH rows of PW values, of which the last PW - OW per row are
 * discarded.  Then one kernel tap is a single long axpy (forward, dx) or dot
 * (dW) over OH*PW contiguous floats, with no bounds tests.  Stride 1 only. */

typedef struct direct_geom {
    int64_t PW, plane, wide; /* padded row width, padded plane (+ slack), OH * PW */
} direct_geom;

static int conv_use_direct(const conv_geom *g) { return g->S == 1 && g->C * g->KH * g->KW <= 32; }

static direct_geom direct_geom_of(const conv_geom *g)
{
    direct_geom d;
    d.PW = g->W + 2 * g->P;
    /* the last wide row of the last tap reads KW - 1 floats past the padded plane */
    d.plane = (g->H + 2 * g->P) * d.PW + g->KW;
    d.wide = g->OH * d.PW;
    return d;
}

/* xp (C, plane) = x (C, H, W) zero-padded by P. */
static void direct_pad(const conv_geom *g, const direct_geom *d, const float *restrict x, float *restrict xp)
{
    memset(xp, 0, (size_t)(g->C * d->plane) * sizeof(float));
    for (int64_t c = 0; c < g->C; c++)
        for (int64_t h = 0; h < g->H; h++) {
            float *dst = xp + c * d->plane + (h + g->P) * d->PW + g->P;
            const float *src = x + (c * g->H + h) * g->W;
            for (int64_t w = 0; w < g->W; w++)
                dst[w] = src[w];
        }
}

static void axpy_f(float a, const float *restrict x, float *restrict y, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        y[i] += a * x[i];
}

/* eight running sums in a fixed order: vectorisable and deterministic */
static float dot_f(const float *restrict a, const float *restrict b, int64_t n)
{
    float s[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            s[j] += a[i + j] * b[i + j];
    for (; i < n; i++)
        s[0] += a[i] * b[i];
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

#if defined(__x86_64__) && defined(__GNUC__)
#define DIRECT_AVX2 1
__attribute__((target("avx2,fma"))) static void axpy_avx2(float a, const float *restrict x, float *restrict y,
                                                          int64_t n)
{
    __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++)
        y[i] += a * x[i];
}

__attribute__((target("avx2,fma"))) static float dot_avx2(const float *restrict a, const float *restrict b, int64_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    float t[8];
    _mm256_storeu_ps(t, _mm256_add_ps(s0, s1));
    float r = ((t[0] + t[4]) + (t[1] + t[5])) + ((t[2] + t[6]) + (t[3] + t[7]));
    for (; i < n; i++)
        r += a[i] * b[i];
    return r;
}

/* yw[0..n) = bias + sum over taps t of wo[t] * xp[off[t] + i]: all taps of an
 * output plane for 32 outputs at a time, kept in four registers (the axpy
 * form loads and stores the plane once per tap). */
__attribute__((target("avx2,fma"))) static void wide_taps_avx2(const float *xp, const int64_t *off, const float *wo,
                                                               int64_t nt, float bias, float *yw, int64_t n)
{
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 a0 = _mm256_set1_ps(bias), a1 = a0, a2 = a0, a3 = a0;
        for (int64_t t = 0; t < nt; t++) {
            __m256 wv = _mm256_set1_ps(wo[t]);
            const float *x = xp + off[t] + i;
            a0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x), a0);
            a1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + 8), a1);
            a2 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + 16), a2);
            a3 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + 24), a3);
        }
        _mm256_storeu_ps(yw + i, a0);
        _mm256_storeu_ps(yw + i + 8, a1);
        _mm256_storeu_ps(yw + i + 16, a2);
        _mm256_storeu_ps(yw + i + 24, a3);
    }
    for (; i < n; i++) {
        float acc = bias;
        for (int64_t t = 0; t < nt; t++)
            acc += wo[t] * xp[off[t] + i];
        yw[i] = acc;
    }
}
#endif

typedef void (*axpy_fn)(float, const float *restrict, float *restrict, int64_t);
typedef float (*dot_fn)(const float *restrict, const float *restrict, int64_t);

/* the AVX2/FMA kernels where the CPU has them (the build targets plain x86-64) */
static void direct_kernels(axpy_fn *axpy, dot_fn *dot)
{
    *axpy = axpy_f;
    *dot = dot_f;
#ifdef DIRECT_AVX2
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        *axpy = axpy_avx2;
        *dot = dot_avx2;
    }
#endif
}

static int direct_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static int direct_thread(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* y (N, O, OH, OW) = conv(x) + b. */
static int direct_forward(pk_nn_ctx *ctx, const conv_geom *g, const float *x, const float *w, const float *b,
                          int64_t O, float *y)
{
    direct_geom d = direct_geom_of(g);
    int64_t KK = g->KH * g->KW, per = g->C * d.plane + d.wide;
    int nt = direct_threads();
    axpy_fn axpy;
    dot_fn dot;
    direct_kernels(&axpy, &dot);
    int fused = 0; /* all taps per register block (AVX2) instead of one axpy per tap */
#ifdef DIRECT_AVX2
    fused = axpy == axpy_avx2;
#endif
    float *scratch = nn_alloc(ctx, (size_t)(nt * per) * sizeof(float));
    int64_t *off = nn_alloc(ctx, (size_t)(g->C * KK) * sizeof(int64_t));
    if (!scratch || !off)
        return -1;
    for (int64_t c = 0; c < g->C; c++)
        for (int64_t kh = 0; kh < g->KH; kh++)
            for (int64_t kw = 0; kw < g->KW; kw++)
                off[(c * g->KH + kh) * g->KW + kw] = c * d.plane + kh * d.PW + kw;
NN_OMP(omp parallel for if (g->N * O * d.wide * KK * g->C > NN_PAR_MIN) schedule(static))
    for (int64_t n = 0; n < g->N; n++) {
        float *xp = scratch + direct_thread() * per, *yw = xp + g->C * d.plane;
        direct_pad(g, &d, x + n * g->C * g->H * g->W, xp);
        for (int64_t o = 0; o < O; o++) {
            float bo = b ? b[o] : 0.0f;
#ifdef DIRECT_AVX2
            if (fused)
                wide_taps_avx2(xp, off, w + o * g->C * KK, g->C * KK, bo, yw, d.wide);
#endif
            if (!fused) {
                for (int64_t i = 0; i < d.wide; i++)
                    yw[i] = bo;
                for (int64_t tp = 0; tp < g->C * KK; tp++)
                    axpy(w[o * g->C * KK + tp], xp + off[tp], yw, d.wide);
            }
            float *yo = y + (n * O + o) * g->OH * g->OW;
            for (int64_t oh = 0; oh < g->OH; oh++)
                for (int64_t ow = 0; ow < g->OW; ow++)
                    yo[oh * g->OW + ow] = yw[oh * d.PW + ow];
        }
    }
    return 0;
}

/* dw (O, C, KH, KW) += conv(x)^T gy and/or dx (N, C, H, W) += the adjoint
 * applied to gy (N, O, OH, OW); either output may be NULL.  dW is summed per
 * thread over a fixed block of images, then over threads in order. */
static int direct_backward(pk_nn_ctx *ctx, const conv_geom *g, const float *x, const float *w, const float *gy,
                           int64_t O, float *dw, float *dx)
{
    direct_geom d = direct_geom_of(g);
    int64_t KK = g->KH * g->KW, nw = O * g->C * KK, per = 2 * g->C * d.plane + O * d.wide;
    int nt = direct_threads();
    axpy_fn axpy;
    dot_fn dot;
    direct_kernels(&axpy, &dot);
    float *scratch = nn_alloc(ctx, (size_t)(nt * per) * sizeof(float));
    double *dwt = nn_calloc(ctx, (size_t)(nt * nw) * sizeof(double));
    if (!scratch || !dwt)
        return -1;
NN_OMP(omp parallel for if (g->N * O * d.wide * KK * g->C > NN_PAR_MIN) schedule(static))
    for (int64_t n = 0; n < g->N; n++) {
        int th = direct_thread();
        float *xp = scratch + th * per, *dxp = xp + g->C * d.plane, *gyw = dxp + g->C * d.plane;
        double *dwl = dwt + th * nw;
        /* gy rows widened to PW with zeros, so discarded columns add nothing */
        for (int64_t o = 0; o < O; o++)
            for (int64_t oh = 0; oh < g->OH; oh++) {
                float *dst = gyw + o * d.wide + oh * d.PW;
                const float *src = gy + ((n * O + o) * g->OH + oh) * g->OW;
                for (int64_t ow = 0; ow < g->OW; ow++)
                    dst[ow] = src[ow];
                for (int64_t ow = g->OW; ow < d.PW; ow++)
                    dst[ow] = 0.0f;
            }
        if (dw) {
            direct_pad(g, &d, x + n * g->C * g->H * g->W, xp);
            for (int64_t o = 0; o < O; o++)
                for (int64_t c = 0; c < g->C; c++)
                    for (int64_t kh = 0; kh < g->KH; kh++)
                        for (int64_t kw = 0; kw < g->KW; kw++)
                            dwl[(o * g->C + c) * KK + kh * g->KW + kw] +=
                                dot(gyw + o * d.wide, xp + c * d.plane + kh * d.PW + kw, d.wide);
        }
        if (dx) {
            memset(dxp, 0, (size_t)(g->C * d.plane) * sizeof(float));
            for (int64_t o = 0; o < O; o++)
                for (int64_t c = 0; c < g->C; c++)
                    for (int64_t kh = 0; kh < g->KH; kh++)
                        for (int64_t kw = 0; kw < g->KW; kw++)
                            axpy(w[(o * g->C + c) * KK + kh * g->KW + kw], gyw + o * d.wide,
                                   dxp + c * d.plane + kh * d.PW + kw, d.wide);
            float *dxn = dx + n * g->C * g->H * g->W;
            for (int64_t c = 0; c < g->C; c++)
                for (int64_t h = 0; h < g->H; h++)
                    for (int64_t ww = 0; ww < g->W; ww++)
                        dxn[(c * g->H + h) * g->W + ww] += dxp[c * d.plane + (h + g->P) * d.PW + g->P + ww];
        }
    }
    if (dw)
        for (int64_t i = 0; i < nw; i++) {
            double s = 0;
            for (int t = 0; t < nt; t++)
                s += dwt[t * nw + i];
            dw[i] += (float)s;
        }
    return 0;
}

typedef struct conv_saved {
    conv_geom g;
    float *col; /* transposed conv: unused */
} conv_saved;

/* Images per chunk: the im2col buffer of a chunk (~1 MiB) stays in cache,
 * and backward recomputes it instead of keeping a copy per step. */
static int64_t conv_chunk(const conv_geom *g)
{
    int64_t per = g->C * g->KH * g->KW * g->OH * g->OW;
    int64_t nb = per > 0 ? ((int64_t)1 << 18) / per : g->N;
    return nb < 1 ? 1 : nb > g->N ? g->N : nb;
}

static conv_geom sub_geom(const conv_geom *g, int64_t nb)
{
    conv_geom s = *g;
    s.N = nb;
    return s;
}

/* sum of n floats in eight fixed lanes: vectorisable, same order every call */
static double plane_sum(const float *restrict a, int64_t n)
{
    float s[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            s[j] += a[i + j];
    double r = 0;
    for (int j = 0; j < 8; j++)
        r += s[j];
    for (; i < n; i++)
        r += a[i];
    return r;
}

static void conv2d_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    pk_nn_tensor *x = t->src[0], *w = t->src[1], *b = t->src[2];
    conv_saved *sv = t->aux;
    const conv_geom *g = &sv->g;
    int64_t O = w->shape[0], KK = g->C * g->KH * g->KW, P = g->OH * g->OW, CHW = g->C * g->H * g->W;
    int64_t nbmax = conv_chunk(g);
    if (b && b->requires_grad) /* a plane in float lanes (vectorised), planes summed in double */
        for (int64_t o = 0; o < O; o++) {
            double s = 0;
            for (int64_t n = 0; n < g->N; n++)
                s += plane_sum(t->grad + (n * O + o) * P, P);
            b->grad[o] += (float)s;
        }
    if (conv_use_direct(g)) {
        direct_backward(ctx, g, x->data, w->data, t->grad, O, w->requires_grad ? w->grad : NULL,
                        x->requires_grad ? x->grad : NULL);
        return;
    }
    float *gy = nn_alloc(ctx, (size_t)(O * nbmax * P) * sizeof(float)); /* (O, nb*P) */
    float *col = nn_alloc(ctx, (size_t)(KK * nbmax * P) * sizeof(float));
    if (!gy || !col)
        return;
    for (int64_t n0 = 0; n0 < g->N; n0 += nbmax) {
        int64_t nb = n0 + nbmax <= g->N ? nbmax : g->N - n0, NP = nb * P;
        conv_geom sg = sub_geom(g, nb);
        nop_to_onp(t->grad + n0 * O * P, gy, nb, O, P);
        if (w->requires_grad) { /* dW (O, KK) += gy (O, NP) @ col^T (NP, KK) */
            im2col(&sg, x->data + n0 * CHW, col);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)O, (int)KK, (int)NP, 1.0f, gy, (int)NP, col,
                        (int)NP, 1.0f, w->grad, (int)KK);
        }
        if (x->requires_grad) { /* dcol (KK, NP) = W^T (KK, O) @ gy (O, NP) */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)KK, (int)NP, (int)O, 1.0f, w->data, (int)KK, gy,
                        (int)NP, 0.0f, col, (int)NP);
            col2im(&sg, col, x->grad + n0 * CHW);
        }
    }
}

pk_nn_tensor *pk_nn_conv2d(pk_nn_ctx *ctx, pk_nn_tensor *x, pk_nn_tensor *w, pk_nn_tensor *b, int stride, int pad)
{
    NN_CHECK_IN(ctx, x);
    NN_CHECK_IN(ctx, w);
    char s1[96], s2[96];
    if (x->ndim != 4 || w->ndim != 4 || x->shape[1] != w->shape[1])
        return nn_fail(ctx, PK_ESHAPE, "pk_nn_conv2d: input %s and weight %s: want (N,C,H,W) and (O,C,KH,KW)",
                       nn_shape_str(x, s1, sizeof s1), nn_shape_str(w, s2, sizeof s2));
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
        return nn_fail(ctx, PK_ESHAPE, "pk_nn_conv2d: bias %s should be (%lld)", nn_shape_str(b, s1, sizeof s1),
                       (long long)w->shape[0]);
    if (stride < 1 || pad < 0)
        return nn_fail(ctx, PK_EINVAL, "pk_nn_conv2d: stride %d must be >= 1 and pad %d >= 0", stride, pad);
    conv_geom g = {x->shape[0], x->shape[1], x->shape[2], x->shape[3], w->shape[2], w->shape[3], stride, pad, 0, 0};
    if (g.H + 2 * pad < g.KH || g.W + 2 * pad < g.KW)
        return nn_fail(ctx, PK_ESHAPE, "pk_nn_conv2d: kernel %lldx%lld larger than padded input %lldx%lld",
                       (long long)g.KH, (long long)g.KW, (long long)(g.H + 2 * pad), (long long)(g.W + 2 * pad));
    g.OH = (g.H + 2 * pad - g.KH) / stride + 1;
    g.OW = (g.W + 2 * pad - g.KW) / stride + 1;
    int64_t O = w->shape[0], KK = g.C * g.KH * g.KW, P = g.OH * g.OW, CHW = g.C * g.H * g.W;
    int64_t nbmax = conv_chunk(&g);
    int ng = nn_any_grad(ctx, x, w, b);
    int64_t shape[4] = {g.N, O, g.OH, g.OW};
    pk_nn_tensor *t = nn_tensor(ctx, 4, shape, ng);
    int direct = conv_use_direct(&g);
    float *col = t && !direct ? nn_alloc(ctx, (size_t)(KK * nbmax * P) * sizeof(float)) : NULL;
    float *y2 = col ? nn_alloc(ctx, (size_t)(O * nbmax * P) * sizeof(float)) : NULL;
    if (!t || (!direct && !y2))
        return NULL;
    if (direct && direct_forward(ctx, &g, x->data, w->data, b ? b->data : NULL, O, t->data))
        return NULL;
    for (int64_t n0 = 0; n0 < g.N && P > 0 && !direct; n0 += nbmax) {
        int64_t nb = n0 + nbmax <= g.N ? nbmax : g.N - n0, NP = nb * P;
        conv_geom sg = sub_geom(&g, nb);
        im2col(&sg, x->data + n0 * CHW, col);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)O, (int)NP, (int)KK, 1.0f, w->data, (int)KK, col,
                    (int)NP, 0.0f, y2, (int)NP);
NN_OMP(omp parallel for if (O * NP > NN_PAR_MIN) schedule(static))
        for (int64_t no = 0; no < nb * O; no++) {
            int64_t n = no / O, o = no % O;
            float bo = b ? b->data[o] : 0.0f;
            const float *src = y2 + o * NP + n * P;
            float *d = t->data + (n0 * O + no) * P;
            for (int64_t p = 0; p < P; p++)
                d[p] = src[p] + bo;
        }
    }
    if (ng) {
        conv_saved *sv = nn_alloc(ctx, sizeof *sv);
        if (!sv)
            return NULL;
        sv->g = g;
        sv->col = NULL;
        t->aux = sv;
        t->src[0] = x;
        t->src[1] = w;
        t->src[2] = b;
        t->backward = conv2d_backward;
    }
    return t;
}

/* ---- transposed convolution: the adjoint of conv2d in x ---- */

static void convt_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    pk_nn_tensor *x = t->src[0], *w = t->src[1], *b = t->src[2];
    conv_saved *sv = t->aux;
    const conv_geom *g = &sv->g; /* image = output (N, O, OH', OW'), grid = input (H, W) */
    int64_t C = x->shape[1], OKK = g->C * g->KH * g->KW, HW = g->OH * g->OW, NHW = g->N * HW;
    float *gcol = nn_alloc(ctx, (size_t)(OKK * NHW) * sizeof(float));
    float *x2 = gcol ? nn_alloc(ctx, (size_t)(C * NHW) * sizeof(float)) : NULL;
    if (!x2)
        return;
    im2col(g, t->grad, gcol); /* (O*KK, N*H*W) */
    if (w->requires_grad) {   /* dW (C, OKK) += x2 (C, NHW) @ gcol^T */
        nop_to_onp(x->data, x2, g->N, C, HW);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)C, (int)OKK, (int)NHW, 1.0f, x2, (int)NHW, gcol,
                    (int)NHW, 1.0f, w->grad, (int)OKK);
    }
    if (x->requires_grad) { /* dx2 (C, NHW) = W (C, OKK) @ gcol */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)C, (int)NHW, (int)OKK, 1.0f, w->data, (int)OKK,
                    gcol, (int)NHW, 0.0f, x2, (int)NHW);
        for (int64_t n = 0; n < g->N; n++)
            for (int64_t c = 0; c < C; c++) {
                float *d = x->grad + (n * C + c) * HW;
                const float *s = x2 + c * NHW + n * HW;
                for (int64_t p = 0; p < HW; p++)
                    d[p] += s[p];
            }
    }
    if (b && b->requires_grad) {
        int64_t O = g->C, P = g->H * g->W;
        for (int64_t o = 0; o < O; o++) {
            double s = 0;
            for (int64_t n = 0; n < g->N; n++)
                for (int64_t p = 0; p < P; p++)
                    s += t->grad[(n * O + o) * P + p];
            b->grad[o] += (float)s;
        }
    }
}

pk_nn_tensor *pk_nn_conv_transpose2d(pk_nn_ctx *ctx, pk_nn_tensor *x, pk_nn_tensor *w, pk_nn_tensor *b, int stride,
                                     int pad)
{
    NN_CHECK_IN(ctx, x);
    NN_CHECK_IN(ctx, w);
    char s1[96], s2[96];
    if (x->ndim != 4 || w->ndim != 4 || x->shape[1] != w->shape[0])
        return nn_fail(ctx, PK_ESHAPE,
                       "pk_nn_conv_transpose2d: input %s and weight %s: want (N,C,H,W) and (C,O,KH,KW)",
                       nn_shape_str(x, s1, sizeof s1), nn_shape_str(w, s2, sizeof s2));
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[1]))
        return nn_fail(ctx, PK_ESHAPE, "pk_nn_conv_transpose2d: bias %s should be (%lld)",
                       nn_shape_str(b, s1, sizeof s1), (long long)w->shape[1]);
    if (stride < 1 || pad < 0)
        return nn_fail(ctx, PK_EINVAL, "pk_nn_conv_transpose2d: stride %d must be >= 1 and pad %d >= 0", stride, pad);
    int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    int64_t O = w->shape[1], KH = w->shape[2], KW = w->shape[3];
    int64_t OH = (H - 1) * stride - 2 * pad + KH, OW = (W - 1) * stride - 2 * pad + KW;
    if (OH < 1 || OW < 1)
        return nn_fail(ctx, PK_ESHAPE, "pk_nn_conv_transpose2d: output would be %lldx%lld", (long long)OH,
                       (long long)OW);
    conv_geom g = {N, O, OH, OW, KH, KW, stride, pad, H, W};
    int64_t OKK = O * KH * KW, HW = H * W, NHW = N * HW;
    int ng = nn_any_grad(ctx, x, w, b);
    int64_t shape[4] = {N, O, OH, OW};
    pk_nn_tensor *t = nn_tensor(ctx, 4, shape, ng);
    float *x2 = t ? nn_alloc(ctx, (size_t)(C * NHW) * sizeof(float)) : NULL;
    float *col = x2 ? nn_alloc(ctx, (size_t)(OKK * NHW) * sizeof(float)) : NULL;
    if (!col)
        return NULL;
    nop_to_onp(x->data, x2, N, C, HW);
    /* col (OKK, NHW) = W^T (OKK, C) @ x2 (C, NHW) */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)OKK, (int)NHW, (int)C, 1.0f, w->data, (int)OKK, x2,
                (int)NHW, 0.0f, col, (int)NHW);
    memset(t->data, 0, (size_t)t->numel * sizeof(float));
    col2im(&g, col, t->data);
    if (b)
        for (int64_t n = 0; n < N; n++)
            for (int64_t o = 0; o < O; o++)
                for (int64_t p = 0; p < OH * OW; p++)
                    t->data[(n * O + o) * OH * OW + p] += b->data[o];
    if (ng) {
        conv_saved *sv = nn_alloc(ctx, sizeof *sv);
        if (!sv)
            return NULL;
        sv->g = g;
        sv->col = NULL;
        t->aux = sv;
        t->src[0] = x;
        t->src[1] = w;
        t->src[2] = b;
        t->backward = convt_backward;
    }
    return t;
}

/* ---- pooling ---- */

static void maxpool_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    pk_nn_tensor *x = t->src[0];
    const int32_t *arg = t->aux;
    int64_t P = t->shape[2] * t->shape[3], HW = x->shape[2] * x->shape[3], NC = t->shape[0] * t->shape[1];
NN_OMP(omp parallel for if (t->numel > NN_PAR_MIN) schedule(static))
    for (int64_t nc = 0; nc < NC; nc++)
        for (int64_t p = 0; p < P; p++)
            x->grad[nc * HW + arg[nc * P + p]] += t->grad[nc * P + p];
}

static void avgpool_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    pk_nn_tensor *x = t->src[0];
    int64_t k = t->iarg[0], s = t->iarg[1], H = x->shape[2], W = x->shape[3], OH = t->shape[2], OW = t->shape[3];
    float inv = 1.0f / (float)(k * k);
NN_OMP(omp parallel for if (t->numel > NN_PAR_MIN) schedule(static))
    for (int64_t nc = 0; nc < t->shape[0] * t->shape[1]; nc++)
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                float g = t->grad[(nc * OH + oh) * OW + ow] * inv;
                for (int64_t i = 0; i < k; i++)
                    for (int64_t j = 0; j < k; j++)
                        x->grad[nc * H * W + (oh * s + i) * W + ow * s + j] += g;
            }
}

/* 2x2 / stride 2 max pooling of one plane, without branches: after a ReLU
 * about half the inputs are zero and the winner is random, so compare-and-
 * branch code mispredicts constantly.  Ties go to the first element in
 * row-major order, like the generic loop.  arg (may be NULL) gets the
 * winner's index in the plane. */
static void maxpool2_plane(const float *restrict src, float *restrict dst, int32_t *restrict arg, int64_t W,
                           int64_t OH, int64_t OW)
{
    for (int64_t oh = 0; oh < OH; oh++) {
        const float *r0 = src + 2 * oh * W, *r1 = r0 + W;
        float *d = dst + oh * OW;
        int32_t *ar = arg ? arg + oh * OW : NULL;
        int32_t base = (int32_t)(2 * oh * W);
        int64_t ow = 0;
#ifdef __SSE2__
        /* four windows at a time; maxps(x, y) = x > y ? x : y matches the scalar selects, NaN included */
        const __m128i one = _mm_set1_epi32(1), wv = _mm_set1_epi32((int32_t)W);
        for (; ow + 4 <= OW; ow += 4) {
            __m128 p0 = _mm_loadu_ps(r0 + 2 * ow), p1 = _mm_loadu_ps(r0 + 2 * ow + 4);
            __m128 q0 = _mm_loadu_ps(r1 + 2 * ow), q1 = _mm_loadu_ps(r1 + 2 * ow + 4);
            __m128 a = _mm_shuffle_ps(p0, p1, _MM_SHUFFLE(2, 0, 2, 0)), b = _mm_shuffle_ps(p0, p1, _MM_SHUFFLE(3, 1, 3, 1));
            __m128 c = _mm_shuffle_ps(q0, q1, _MM_SHUFFLE(2, 0, 2, 0)), e = _mm_shuffle_ps(q0, q1, _MM_SHUFFLE(3, 1, 3, 1));
            __m128 m1 = _mm_max_ps(b, a), m2 = _mm_max_ps(e, c);
            _mm_storeu_ps(d + ow, _mm_max_ps(m2, m1));
            if (ar) {
                __m128i k1 = _mm_and_si128(_mm_castps_si128(_mm_cmpgt_ps(b, a)), one);
                __m128i k2 = _mm_and_si128(_mm_castps_si128(_mm_cmpgt_ps(e, c)), one);
                __m128i k = _mm_castps_si128(_mm_cmpgt_ps(m2, m1));
                __m128i off = _mm_or_si128(_mm_and_si128(k, _mm_add_epi32(wv, k2)), _mm_andnot_si128(k, k1));
                __m128i col = _mm_set_epi32((int32_t)(2 * ow + 6), (int32_t)(2 * ow + 4), (int32_t)(2 * ow + 2),
                                            (int32_t)(2 * ow));
                _mm_storeu_si128((__m128i *)(ar + ow),
                                 _mm_add_epi32(_mm_add_epi32(col, _mm_set1_epi32(base)), off));
            }
        }
#endif
        for (; ow < OW; ow++) {
            float a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], e = r1[2 * ow + 1];
            int k1 = b > a, k2 = e > c;
            float m1 = k1 ? b : a, m2 = k2 ? e : c;
            int k = m2 > m1;
            d[ow] = k ? m2 : m1;
            if (ar)
                ar[ow] = base + (int32_t)(2 * ow) + (k ? (int32_t)W + k2 : k1);
        }
    }
}

static pk_nn_tensor *pool(pk_nn_ctx *ctx, pk_nn_tensor *x, int k, int s, int is_max, const char *fn)
{
    NN_CHECK_IN(ctx, x);
    char b1[96];
    if (x->ndim != 4)
        return nn_fail(ctx, PK_ESHAPE, "%s: input %s must be (N,C,H,W)", fn, nn_shape_str(x, b1, sizeof b1));
    if (k < 1 || s < 1 || x->shape[2] < k || x->shape[3] < k)
        return nn_fail(ctx, PK_EINVAL, "%s: window %d / stride %d do not fit input %s", fn, k, s,
                       nn_shape_str(x, b1, sizeof b1));
    int64_t H = x->shape[2], W = x->shape[3], OH = (H - k) / s + 1, OW = (W - k) / s + 1;
    int64_t shape[4] = {x->shape[0], x->shape[1], OH, OW}, NC = shape[0] * shape[1];
    int ng = nn_any_grad(ctx, x, NULL, NULL);
    pk_nn_tensor *t = nn_tensor(ctx, 4, shape, ng);
    if (!t)
        return NULL;
    int32_t *arg = NULL;
    if (is_max && ng && !(arg = nn_alloc(ctx, (size_t)t->numel * sizeof *arg)))
        return NULL;
NN_OMP(omp parallel for if (t->numel > NN_PAR_MIN / 4) schedule(static))
    for (int64_t nc = 0; nc < NC; nc++) {
        const float *src = x->data + nc * H * W;
        if (is_max && k == 2 && s == 2) {
            maxpool2_plane(src, t->data + nc * OH * OW, arg ? arg + nc * OH * OW : NULL, W, OH, OW);
            continue;
        }
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t best = (oh * s) * W + ow * s;
                double acc = 0;
                for (int64_t i = 0; i < k; i++)
                    for (int64_t j = 0; j < k; j++) {
                        int64_t idx = (oh * s + i) * W + ow * s + j;
                        if (is_max) {
                            if (src[idx] > src[best])
                                best = idx;
                        } else {
                            acc += src[idx];
                        }
                    }
                int64_t o = (nc * OH + oh) * OW + ow;
                t->data[o] = is_max ? src[best] : (float)(acc / (double)(k * k));
                if (arg)
                    arg[o] = (int32_t)best;
            }
    }
    if (ng) {
        t->src[0] = x;
        t->aux = arg;
        t->iarg[0] = k;
        t->iarg[1] = s;
        t->backward = is_max ? maxpool_backward : avgpool_backward;
    }
    return t;
}

pk_nn_tensor *pk_nn_max_pool2d(pk_nn_ctx *ctx, pk_nn_tensor *x, int k, int stride)
{
    return pool(ctx, x, k, stride, 1, "pk_nn_max_pool2d");
}
pk_nn_tensor *pk_nn_avg_pool2d(pk_nn_ctx *ctx, pk_nn_tensor *x, int k, int stride)
{
    return pool(ctx, x, k, stride, 0, "pk_nn_avg_pool2d");
}

static void upsample_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    pk_nn_tensor *x = t->src[0];
    int64_t f = t->iarg[0], H = x->shape[2], W = x->shape[3], OW = W * f;
    for (int64_t nc = 0; nc < x->shape[0] * x->shape[1]; nc++)
        for (int64_t i = 0; i < H * f; i++)
            for (int64_t j = 0; j < OW; j++)
                x->grad[nc * H * W + (i / f) * W + j / f] += t->grad[(nc * H * f + i) * OW + j];
}

pk_nn_tensor *pk_nn_upsample_nearest2d(pk_nn_ctx *ctx, pk_nn_tensor *x, int f)
{
    NN_CHECK_IN(ctx, x);
    char b1[96];
    if (x->ndim != 4 || f < 1)
        return nn_fail(ctx, PK_EINVAL, "pk_nn_upsample_nearest2d: input %s must be (N,C,H,W), factor %d >= 1",
                       nn_shape_str(x, b1, sizeof b1), f);
    int64_t H = x->shape[2], W = x->shape[3];
    int64_t shape[4] = {x->shape[0], x->shape[1], H * f, W * f};
    int ng = nn_any_grad(ctx, x, NULL, NULL);
    pk_nn_tensor *t = nn_tensor(ctx, 4, shape, ng);
    if (!t)
        return NULL;
    for (int64_t nc = 0; nc < shape[0] * shape[1]; nc++)
        for (int64_t i = 0; i < H * f; i++)
            for (int64_t j = 0; j < W * f; j++)
                t->data[(nc * H * f + i) * W * f + j] = x->data[nc * H * W + (i / f) * W + j / f];
    if (ng) {
        t->src[0] = x;
        t->iarg[0] = f;
        t->backward = upsample_backward;
    }
    return t;
}
