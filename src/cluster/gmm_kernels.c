/* GMM micro-kernel: a 4 x 8 tile of a small matrix product, used by the full/tied E-step
 * ((x - mu) times the precision Cholesky factor) and M-step (weighted scatter matrices).
 * Our own kernel rather than BLAS because it runs inside OpenMP threads on cache-sized row
 * blocks: calling OpenBLAS's own thread pool from there (or between OpenMP regions) left the
 * OpenMP workers spinning against it, half the time on a 2-core machine.  The portable build
 * may only assume SSE2, so the AVX2+FMA version is chosen at run time. */
#include <stddef.h>
#include <string.h>

/* out[i*8 + c] = sum_{t < nt} a[i*si + t*st] * b[t*ldb + c], i < 4, c < 8 */
typedef void (*pk_gmm_mk4x8_fn)(const double *a, size_t si, size_t st, const double *b, size_t ldb, size_t nt,
                                double *out);
pk_gmm_mk4x8_fn pk_gmm_pick_mk4x8(void);

static void mk4x8_c(const double *a, size_t si, size_t st, const double *b, size_t ldb, size_t nt, double *out)
{
    double acc[32] = {0};
    for (size_t t = 0; t < nt; t++) {
        const double *bt = b + t * ldb;
        for (int i = 0; i < 4; i++) {
            double v = a[(size_t)i * si + t * st];
            for (int c = 0; c < 8; c++)
                acc[i * 8 + c] += v * bt[c];
        }
    }
    memcpy(out, acc, sizeof acc);
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define PK_GMM_HAVE_AVX2 1
__attribute__((target("avx2,fma"))) static void mk4x8_avx2(const double *a, size_t si, size_t st, const double *b,
                                                            size_t ldb, size_t nt, double *out)
{
    __m256d c00 = _mm256_setzero_pd(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00,
            c31 = c00;
    const double *a0 = a, *a1 = a + si, *a2 = a + 2 * si, *a3 = a + 3 * si;
    for (size_t t = 0; t < nt; t++) {
        const double *bt = b + t * ldb;
        __m256d b0 = _mm256_loadu_pd(bt), b1 = _mm256_loadu_pd(bt + 4);
        size_t o = t * st;
        __m256d v = _mm256_broadcast_sd(a0 + o);
        c00 = _mm256_fmadd_pd(v, b0, c00);
        c01 = _mm256_fmadd_pd(v, b1, c01);
        v = _mm256_broadcast_sd(a1 + o);
        c10 = _mm256_fmadd_pd(v, b0, c10);
        c11 = _mm256_fmadd_pd(v, b1, c11);
        v = _mm256_broadcast_sd(a2 + o);
        c20 = _mm256_fmadd_pd(v, b0, c20);
        c21 = _mm256_fmadd_pd(v, b1, c21);
        v = _mm256_broadcast_sd(a3 + o);
        c30 = _mm256_fmadd_pd(v, b0, c30);
        c31 = _mm256_fmadd_pd(v, b1, c31);
    }
    _mm256_storeu_pd(out, c00);
    _mm256_storeu_pd(out + 4, c01);
    _mm256_storeu_pd(out + 8, c10);
    _mm256_storeu_pd(out + 12, c11);
    _mm256_storeu_pd(out + 16, c20);
    _mm256_storeu_pd(out + 20, c21);
    _mm256_storeu_pd(out + 24, c30);
    _mm256_storeu_pd(out + 28, c31);
}
#endif

pk_gmm_mk4x8_fn pk_gmm_pick_mk4x8(void)
{
#if defined(PK_GMM_HAVE_AVX2)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return mk4x8_avx2;
#endif
    return mk4x8_c;
}
