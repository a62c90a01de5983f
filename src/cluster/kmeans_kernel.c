/* K-means nearest-centre kernels in single precision (see kmeans_priv.h for why float is safe):
 * 4 rows against all centres, centres stored transposed and padded (Ct is d x kp, kp a multiple
 * of 8), keeping per row the nearest and second-nearest distance.  The portable build may only
 * assume SSE2, so the AVX2+FMA version is chosen at run time when the CPU has it.  (Threaded
 * BLAS is not used: its thread pool fights OpenMP's on small machines.) */
#include <math.h>
#include <string.h>

#include "kmeans_priv.h"

static void near4_c(const float *const *xr, const float *xn, const float *Ct, const float *cn, size_t kp, size_t d,
                    int32_t *lab, float *f1, float *f2)
{
    for (int r = 0; r < 4; r++) {
        f1[r] = f2[r] = INFINITY;
        lab[r] = 0;
    }
    for (size_t j0 = 0; j0 < kp; j0 += 8) {
        float acc[4][8] = {{0}};
        for (size_t t = 0; t < d; t++) {
            const float *ct = Ct + t * kp + j0;
            for (int r = 0; r < 4; r++) {
                float v = xr[r][t];
                for (int c = 0; c < 8; c++)
                    acc[r][c] += v * ct[c];
            }
        }
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 8; c++) {
                float dd = (xn[r] + cn[j0 + (size_t)c]) - 2 * acc[r][c];
                if (dd < f1[r]) {
                    f2[r] = f1[r];
                    f1[r] = dd;
                    lab[r] = (int32_t)(j0 + (size_t)c);
                } else if (dd < f2[r]) {
                    f2[r] = dd;
                }
            }
    }
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define PK_KM_HAVE_AVX2 1

/* lane-wise running nearest (b1, i1) and second nearest (b2) of row r over centres j0..j0+7 */
#define NEAR_STEP(accv, r, j0)                                                                                     \
    do {                                                                                                           \
        __m256 dd_ = _mm256_sub_ps(_mm256_add_ps(xnv[r], _mm256_loadu_ps(cn + (j0))), _mm256_add_ps(accv, accv)); \
        __m256 m_ = _mm256_cmp_ps(dd_, b1[r], _CMP_LT_OQ);                                                        \
        b2[r] = _mm256_blendv_ps(_mm256_min_ps(b2[r], dd_), b1[r], m_);                                           \
        b1[r] = _mm256_blendv_ps(b1[r], dd_, m_);                                                                 \
        i1[r] = _mm256_blendv_ps(i1[r], _mm256_add_ps(lanes, _mm256_set1_ps((float)(j0))), m_);                   \
    } while (0)

__attribute__((target("avx2,fma"))) static void near4_avx2(const float *const *xr, const float *xn, const float *Ct,
                                                            const float *cn, size_t kp, size_t d, int32_t *lab,
                                                            float *f1, float *f2)
{
    const float *x0 = xr[0], *x1 = xr[1], *x2 = xr[2], *x3 = xr[3];
    __m256 xnv[4], b1[4], b2[4], i1[4], lanes = _mm256_set_ps(7, 6, 5, 4, 3, 2, 1, 0);
    for (int r = 0; r < 4; r++) {
        xnv[r] = _mm256_set1_ps(xn[r]);
        b1[r] = b2[r] = _mm256_set1_ps(INFINITY);
        i1[r] = _mm256_setzero_ps();
    }
    size_t j0 = 0;
    for (; j0 + 16 <= kp; j0 += 16) {
        __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00,
               a31 = a00;
        for (size_t t = 0; t < d; t++) {
            const float *ct = Ct + t * kp + j0;
            __m256 c0 = _mm256_loadu_ps(ct), c1 = _mm256_loadu_ps(ct + 8), v = _mm256_broadcast_ss(x0 + t);
            a00 = _mm256_fmadd_ps(v, c0, a00);
            a01 = _mm256_fmadd_ps(v, c1, a01);
            v = _mm256_broadcast_ss(x1 + t);
            a10 = _mm256_fmadd_ps(v, c0, a10);
            a11 = _mm256_fmadd_ps(v, c1, a11);
            v = _mm256_broadcast_ss(x2 + t);
            a20 = _mm256_fmadd_ps(v, c0, a20);
            a21 = _mm256_fmadd_ps(v, c1, a21);
            v = _mm256_broadcast_ss(x3 + t);
            a30 = _mm256_fmadd_ps(v, c0, a30);
            a31 = _mm256_fmadd_ps(v, c1, a31);
        }
        NEAR_STEP(a00, 0, j0);
        NEAR_STEP(a01, 0, j0 + 8);
        NEAR_STEP(a10, 1, j0);
        NEAR_STEP(a11, 1, j0 + 8);
        NEAR_STEP(a20, 2, j0);
        NEAR_STEP(a21, 2, j0 + 8);
        NEAR_STEP(a30, 3, j0);
        NEAR_STEP(a31, 3, j0 + 8);
    }
    for (; j0 < kp; j0 += 8) {
        /* a last block of 8 centres: even and odd t in separate accumulators, so that 8 fused
         * multiply-adds are in flight (4 would leave the FMA units waiting on latency) */
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, e0 = a0, e1 = a0, e2 = a0, e3 = a0;
        size_t t = 0;
        for (; t + 2 <= d; t += 2) {
            __m256 c = _mm256_loadu_ps(Ct + t * kp + j0), c2 = _mm256_loadu_ps(Ct + (t + 1) * kp + j0);
            a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(x0 + t), c, a0);
            a1 = _mm256_fmadd_ps(_mm256_broadcast_ss(x1 + t), c, a1);
            a2 = _mm256_fmadd_ps(_mm256_broadcast_ss(x2 + t), c, a2);
            a3 = _mm256_fmadd_ps(_mm256_broadcast_ss(x3 + t), c, a3);
            e0 = _mm256_fmadd_ps(_mm256_broadcast_ss(x0 + t + 1), c2, e0);
            e1 = _mm256_fmadd_ps(_mm256_broadcast_ss(x1 + t + 1), c2, e1);
            e2 = _mm256_fmadd_ps(_mm256_broadcast_ss(x2 + t + 1), c2, e2);
            e3 = _mm256_fmadd_ps(_mm256_broadcast_ss(x3 + t + 1), c2, e3);
        }
        for (; t < d; t++) {
            __m256 c = _mm256_loadu_ps(Ct + t * kp + j0);
            a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(x0 + t), c, a0);
            a1 = _mm256_fmadd_ps(_mm256_broadcast_ss(x1 + t), c, a1);
            a2 = _mm256_fmadd_ps(_mm256_broadcast_ss(x2 + t), c, a2);
            a3 = _mm256_fmadd_ps(_mm256_broadcast_ss(x3 + t), c, a3);
        }
        a0 = _mm256_add_ps(a0, e0);
        a1 = _mm256_add_ps(a1, e1);
        a2 = _mm256_add_ps(a2, e2);
        a3 = _mm256_add_ps(a3, e3);
        NEAR_STEP(a0, 0, j0);
        NEAR_STEP(a1, 1, j0);
        NEAR_STEP(a2, 2, j0);
        NEAR_STEP(a3, 3, j0);
    }
    for (int r = 0; r < 4; r++) {
        float b[8], s[8], id[8];
        _mm256_storeu_ps(b, b1[r]);
        _mm256_storeu_ps(s, b2[r]);
        _mm256_storeu_ps(id, i1[r]);
        int c1 = 0;
        for (int c = 1; c < 8; c++) /* first index among equal minima */
            if (b[c] < b[c1] || (b[c] == b[c1] && id[c] < id[c1]))
                c1 = c;
        float sec = INFINITY;
        for (int c = 0; c < 8; c++) {
            float v = c == c1 ? s[c] : (b[c] < s[c] ? b[c] : s[c]);
            if (v < sec)
                sec = v;
        }
        f1[r] = b[c1];
        f2[r] = sec;
        lab[r] = (int32_t)id[c1];
    }
}
#undef NEAR_STEP
#endif

km_near4_fn pk_km_pick_near4(void)
{
#if defined(PK_KM_HAVE_AVX2)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return near4_avx2;
#endif
    return near4_c;
}
