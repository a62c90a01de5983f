/* K-means distance kernels: cross products of rows with centres stored transposed and padded
 * (Ct is d x kp, kp = k rounded up to a multiple of 4).  The portable build may only assume
 * SSE2, so AVX2+FMA versions are chosen at run time when the CPU has them.  (Threaded BLAS is
 * not used: its thread pool fights OpenMP's on small machines.) */
#include <math.h>
#include <string.h>

#include "cluster_priv.h"

/* declared in kmeans.c (cluster_priv.h belongs to the module's lead) */
typedef void (*pk_km_near4_fn)(const double *const *xr, const double *xn, const double *Ct, const double *cn,
                               size_t kp, size_t d, int32_t *lab, double *best);
pk_km_near4_fn pk_km_pick_near4(void);

static void dot4x4_c(const double *const *xr, const double *Ct, size_t kp, size_t j0, size_t d, double *out)
{
    double a[16] = {0};
    for (size_t t = 0; t < d; t++) {
        const double *ct = Ct + t * kp + j0;
        for (int r = 0; r < 4; r++) {
            double v = xr[r][t];
            for (int c = 0; c < 4; c++)
                a[r * 4 + c] += v * ct[c];
        }
    }
    memcpy(out, a, sizeof a);
}

static void dot1xk_c(const double *x, const double *Ct, size_t kp, size_t d, double *out)
{
    for (size_t j = 0; j < kp; j++)
        out[j] = 0;
    for (size_t t = 0; t < d; t++) {
        const double *ct = Ct + t * kp;
        double v = x[t];
        for (size_t j = 0; j < kp; j++)
            out[j] += v * ct[j];
    }
}

/* Nearest centre of rows xr[0..3]: d2 = (xn + cn_j) - 2 x.c_j, first index on ties; cn is padded
 * with +inf up to kp so padding never wins. */
static void near4_c(const double *const *xr, const double *xn, const double *Ct, const double *cn, size_t kp,
                    size_t d, int32_t *lab, double *best)
{
    double acc[16];
    for (int r = 0; r < 4; r++) {
        best[r] = INFINITY;
        lab[r] = 0;
    }
    for (size_t j0 = 0; j0 < kp; j0 += 4) {
        dot4x4_c(xr, Ct, kp, j0, d, acc);
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++) {
                double dd = (xn[r] + cn[j0 + (size_t)c]) - 2 * acc[r * 4 + c];
                if (dd < best[r]) {
                    best[r] = dd;
                    lab[r] = (int32_t)j0 + c;
                }
            }
    }
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define PK_KM_HAVE_AVX2 1
__attribute__((target("avx2,fma"))) static void dot4x4_avx2(const double *const *xr, const double *Ct, size_t kp,
                                                             size_t j0, size_t d, double *out)
{
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    const double *x0 = xr[0], *x1 = xr[1], *x2 = xr[2], *x3 = xr[3];
    for (size_t t = 0; t < d; t++) {
        __m256d c = _mm256_loadu_pd(Ct + t * kp + j0);
        a0 = _mm256_fmadd_pd(_mm256_broadcast_sd(x0 + t), c, a0);
        a1 = _mm256_fmadd_pd(_mm256_broadcast_sd(x1 + t), c, a1);
        a2 = _mm256_fmadd_pd(_mm256_broadcast_sd(x2 + t), c, a2);
        a3 = _mm256_fmadd_pd(_mm256_broadcast_sd(x3 + t), c, a3);
    }
    _mm256_storeu_pd(out, a0);
    _mm256_storeu_pd(out + 4, a1);
    _mm256_storeu_pd(out + 8, a2);
    _mm256_storeu_pd(out + 12, a3);
}

/* one row against all centres, 4 centres per register (kp <= PK_KM_KPMAX) */
__attribute__((target("avx2,fma"))) static void dot1xk_avx2(const double *x, const double *Ct, size_t kp, size_t d,
                                                             double *out)
{
    __m256d acc[PK_KM_KPMAX / 4];
    size_t nb = kp / 4;
    for (size_t b = 0; b < nb; b++)
        acc[b] = _mm256_setzero_pd();
    for (size_t t = 0; t < d; t++) {
        __m256d v = _mm256_broadcast_sd(x + t);
        const double *ct = Ct + t * kp;
        for (size_t b = 0; b < nb; b++)
            acc[b] = _mm256_fmadd_pd(v, _mm256_loadu_pd(ct + 4 * b), acc[b]);
    }
    for (size_t b = 0; b < nb; b++)
        _mm256_storeu_pd(out + 4 * b, acc[b]);
}

/* running lane-wise minimum: lane c of best/idx covers centres j0 + c */
#define NEAR_STEP(accv, r, j0)                                                                                \
    do {                                                                                                      \
        __m256d dd_ = _mm256_sub_pd(_mm256_add_pd(xnv[r], _mm256_loadu_pd(cn + (j0))), _mm256_add_pd(accv, accv)); \
        __m256d m_ = _mm256_cmp_pd(dd_, bv[r], _CMP_LT_OQ);                                                  \
        bv[r] = _mm256_blendv_pd(bv[r], dd_, m_);                                                            \
        iv[r] = _mm256_blendv_pd(iv[r], _mm256_add_pd(lanes, _mm256_set1_pd((double)(j0))), m_);             \
    } while (0)

__attribute__((target("avx2,fma"))) static void near4_avx2(const double *const *xr, const double *xn,
                                                            const double *Ct, const double *cn, size_t kp, size_t d,
                                                            int32_t *lab, double *best)
{
    const double *x0 = xr[0], *x1 = xr[1], *x2 = xr[2], *x3 = xr[3];
    __m256d xnv[4], bv[4], iv[4], lanes = _mm256_set_pd(3, 2, 1, 0);
    for (int r = 0; r < 4; r++) {
        xnv[r] = _mm256_set1_pd(xn[r]);
        bv[r] = _mm256_set1_pd(INFINITY);
        iv[r] = _mm256_setzero_pd();
    }
    size_t j0 = 0;
    for (; j0 + 8 <= kp; j0 += 8) {
        __m256d a00 = _mm256_setzero_pd(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00,
                a31 = a00;
        for (size_t t = 0; t < d; t++) {
            const double *ct = Ct + t * kp + j0;
            __m256d c0 = _mm256_loadu_pd(ct), c1 = _mm256_loadu_pd(ct + 4), v = _mm256_broadcast_sd(x0 + t);
            a00 = _mm256_fmadd_pd(v, c0, a00);
            a01 = _mm256_fmadd_pd(v, c1, a01);
            v = _mm256_broadcast_sd(x1 + t);
            a10 = _mm256_fmadd_pd(v, c0, a10);
            a11 = _mm256_fmadd_pd(v, c1, a11);
            v = _mm256_broadcast_sd(x2 + t);
            a20 = _mm256_fmadd_pd(v, c0, a20);
            a21 = _mm256_fmadd_pd(v, c1, a21);
            v = _mm256_broadcast_sd(x3 + t);
            a30 = _mm256_fmadd_pd(v, c0, a30);
            a31 = _mm256_fmadd_pd(v, c1, a31);
        }
        NEAR_STEP(a00, 0, j0);
        NEAR_STEP(a01, 0, j0 + 4);
        NEAR_STEP(a10, 1, j0);
        NEAR_STEP(a11, 1, j0 + 4);
        NEAR_STEP(a20, 2, j0);
        NEAR_STEP(a21, 2, j0 + 4);
        NEAR_STEP(a30, 3, j0);
        NEAR_STEP(a31, 3, j0 + 4);
    }
    for (; j0 < kp; j0 += 4) {
        __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t t = 0; t < d; t++) {
            __m256d c = _mm256_loadu_pd(Ct + t * kp + j0);
            a0 = _mm256_fmadd_pd(_mm256_broadcast_sd(x0 + t), c, a0);
            a1 = _mm256_fmadd_pd(_mm256_broadcast_sd(x1 + t), c, a1);
            a2 = _mm256_fmadd_pd(_mm256_broadcast_sd(x2 + t), c, a2);
            a3 = _mm256_fmadd_pd(_mm256_broadcast_sd(x3 + t), c, a3);
        }
        NEAR_STEP(a0, 0, j0);
        NEAR_STEP(a1, 1, j0);
        NEAR_STEP(a2, 2, j0);
        NEAR_STEP(a3, 3, j0);
    }
    for (int r = 0; r < 4; r++) {
        double b[4], id[4];
        _mm256_storeu_pd(b, bv[r]);
        _mm256_storeu_pd(id, iv[r]);
        int c1 = 0;
        for (int c = 1; c < 4; c++) /* first index among equal minima, as a serial scan would give */
            if (b[c] < b[c1] || (b[c] == b[c1] && id[c] < id[c1]))
                c1 = c;
        best[r] = b[c1];
        lab[r] = (int32_t)id[c1];
    }
}
#undef NEAR_STEP
#endif

pk_km_near4_fn pk_km_pick_near4(void)
{
#if defined(PK_KM_HAVE_AVX2)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return near4_avx2;
#endif
    return near4_c;
}

pk_km_dot4x4_fn pk_km_pick_dot4x4(void)
{
#if defined(PK_KM_HAVE_AVX2)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return dot4x4_avx2;
#endif
    return dot4x4_c;
}

pk_km_dot1xk_fn pk_km_pick_dot1xk(void)
{
#if defined(PK_KM_HAVE_AVX2)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return dot1xk_avx2;
#endif
    return dot1xk_c;
}
