/* K-means distance kernels: cross products of rows with centres stored transposed and padded
 * (Ct is d x kp, kp = k rounded up to a multiple of 4).  The portable build may only assume
 * SSE2, so AVX2+FMA versions are chosen at run time when the CPU has them.  (Threaded BLAS is
 * not used: its thread pool fights OpenMP's on small machines.) */
#include <string.h>

#include "cluster_priv.h"

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
#endif

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
