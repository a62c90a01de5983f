/* K-means full assignment passes screened with bfloat16 dot products (AVX-512 BF16).
 *
 * Lloyd computes every point-centre distance in every iteration, so its cost is the n x k x d
 * cross term.  VDPBF16PS multiplies pairs of bfloat16 values exactly and accumulates them in
 * float, at twice the multiply-adds per instruction of a float FMA.  The screening is certified:
 * a row whose two smallest screened values are separated by more than the error bound has the
 * same nearest centre as an exact search; for any other row, every centre whose screened value
 * is within the bound of the smallest is a candidate, and the candidates' distances are computed
 * in double (first index on exact ties).  Labels are therefore those of an all-double search.
 *
 * Error bound.  Data and centres are centred on the column means (in double: the distances do
 * not change, and the norms that scale the bound shrink).  Rounding a centred value to bfloat16
 * (8 significant bits, through float) costs at most 2^-8 (1 + 2^-15) of it, so a product is off
 * by at most (2^-7 + 2^-15) |x_t c_t|; products of two bfloat16 are exact in float (the centres
 * are stored as -2 c_j, an exact scaling).  Each lane starts at fl(|c_j|^2) and adds the d
 * products in float, so the screened value s_j (an estimate of |c_j|^2 - 2 x.c_j; |x|^2 is common
 * to all centres and left out) carries d roundings of at most 2^-24 (|c_j|^2 + 2 sum|x_t c_t|),
 * with sum |x_t c_t| <= |x||c_j|.  Altogether s_j is within
 *     E = (2^-6 + (d + 140) 2^-22) |x| max_j |c_j| + (d + 2) 2^-24 max_j |c_j|^2 + (d + 1) 2^-120
 * of the exact value (the last term covers the flush of subnormal products).  Two centres whose
 * exact values are in the opposite order are less than 2E apart once screened;
 * we use T = 2E (1 + 1/16) as the threshold.
 *
 * Layout.  The high parts of the rows are stored in blocks of 16 (one 512-bit register holds one
 * bfloat16 pair of each of the 16 rows), which the kernel streams; the low parts (the bfloat16
 * rounding of what the high part misses) row-major, read only for open rows.  Centres are bfloat16
 * pairs, k padded to a multiple of 4 with centres at +infinity.  The kernel keeps the per-row
 * nearest and second-nearest values lane-wise, so no horizontal reduction is needed, and stores
 * all screened values for the candidate search.  Memory: n*d*2 bytes for the high parts and about
 * as much for the low ones; the float copy of X is not made. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "kmeans_priv.h"

/* x86-64 with GCC or Clang builds the kernels (chosen at run time); elsewhere, or with
 * -DPK_KM_NO_BF16, the screening is never on and Lloyd uses the float search */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(PK_KM_NO_BF16)
#include <immintrin.h>
#define PK_KM_HAVE_BF16 1
#endif

#if defined(PK_KM_HAVE_BF16)

/* float -> bfloat16 bits, round to nearest even (finite input) */
static uint16_t to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

/* The copy is streamed once per iteration: 2 MiB pages (where the kernel offers them on request)
 * spare the TLB misses and most of the page faults of a fresh 4 KiB-page allocation. */
#define KM_BIG_ALIGN ((size_t)2 << 20)
static void *alloc_big(size_t bytes, size_t *got)
{
    size_t sz = (bytes + KM_BIG_ALIGN - 1) / KM_BIG_ALIGN * KM_BIG_ALIGN;
    void *p = aligned_alloc(KM_BIG_ALIGN, sz);
    *got = p ? sz : 0;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (p)
        (void)madvise(p, sz, MADV_HUGEPAGE); /* advice only: 4 KiB pages work too */
#endif
    return p;
}

static void free_big(void *p, size_t bytes)
{
    (void)bytes;
    free(p);
}

/* nearest (lab, g1) and second-nearest (g2) screened value of the 16 rows of each of the nb
 * (1 or 2) blocks at xb (dp 64-byte pair vectors each, bs bfloat16 apart); all (if not NULL)
 * receives every screened value, centre-major with a stride of 32 rows */
__attribute__((target("avx512f,avx512bf16"))) static void near_bf16(const uint16_t *xb, int nb, size_t dp,
                                                                     size_t bs,
                                                                     const uint32_t *cb, const float *cn,
                                                                     size_t kp4, int32_t *lab, float *g1,
                                                                     float *g2, float *all)
{
    const uint16_t *x0 = xb, *x1 = nb > 1 ? xb + bs : xb;
    __m512 b1[2], b2[2];
    __m512i i1[2];
    for (int r = 0; r < 2; r++) {
        b1[r] = b2[r] = _mm512_set1_ps(INFINITY);
        i1[r] = _mm512_setzero_si512();
    }
    for (size_t j0 = 0; j0 < kp4; j0 += 4) {
        /* accumulators start at |c_j|^2 and the centres are stored as -2 c_j (an exact scaling), so
         * they end at the screened values */
        __m512 a00 = _mm512_set1_ps(cn[j0]), a01 = _mm512_set1_ps(cn[j0 + 1]), a02 = _mm512_set1_ps(cn[j0 + 2]),
               a03 = _mm512_set1_ps(cn[j0 + 3]), a10 = a00, a11 = a01, a12 = a02, a13 = a03;
        const uint32_t *c0 = cb + j0 * dp, *c1 = c0 + dp, *c2 = c1 + dp, *c3 = c2 + dp;
        for (size_t p = 0; p < dp; p++) {
            __m512bh u = (__m512bh)_mm512_loadu_si512(x0 + p * 32), v = (__m512bh)_mm512_loadu_si512(x1 + p * 32);
            __m512bh w = (__m512bh)_mm512_set1_epi32((int)c0[p]);
            a00 = _mm512_dpbf16_ps(a00, u, w);
            a10 = _mm512_dpbf16_ps(a10, v, w);
            w = (__m512bh)_mm512_set1_epi32((int)c1[p]);
            a01 = _mm512_dpbf16_ps(a01, u, w);
            a11 = _mm512_dpbf16_ps(a11, v, w);
            w = (__m512bh)_mm512_set1_epi32((int)c2[p]);
            a02 = _mm512_dpbf16_ps(a02, u, w);
            a12 = _mm512_dpbf16_ps(a12, v, w);
            w = (__m512bh)_mm512_set1_epi32((int)c3[p]);
            a03 = _mm512_dpbf16_ps(a03, u, w);
            a13 = _mm512_dpbf16_ps(a13, v, w);
        }
        __m512 acc[2][4] = {{a00, a01, a02, a03}, {a10, a11, a12, a13}};
        for (int j = 0; j < 4; j++) {
            __m512i jv = _mm512_set1_epi32((int)(j0 + (size_t)j));
            for (int r = 0; r < 2; r++) {
                __m512 dd = acc[r][j];
                if (all)
                    _mm512_storeu_ps(all + (j0 + (size_t)j) * 32 + 16 * (size_t)r, dd);
                __mmask16 m = _mm512_cmp_ps_mask(dd, b1[r], _CMP_LT_OQ);
                b2[r] = _mm512_min_ps(b2[r], _mm512_max_ps(b1[r], dd));
                b1[r] = _mm512_min_ps(b1[r], dd);
                i1[r] = _mm512_mask_mov_epi32(i1[r], m, jv);
            }
        }
    }
    for (int r = 0; r < nb; r++) {
        _mm512_storeu_ps(g1 + 16 * r, b1[r]);
        _mm512_storeu_ps(g2 + 16 * r, b2[r]);
        _mm512_storeu_si512(lab + 16 * r, i1[r]);
    }
}
#endif

/* Rows of more than KM_LOWP_DMAX columns keep the float search (the refinement gathers a row on
 * the stack), and so do rows of fewer than 16. */
#define KM_LOWP_DMAX 1024

/* One row to bfloat16: the high parts into its block (hi: the row's first pair slot, a pair
 * every 32 values), the low parts row-major (lo: even columns, then odd ones from lo + dp16);
 * *s and *sr receive the centred and raw squared norms.  16 columns per step; the rounding is
 * the scalar to_bf16's (round to nearest even on the float bits). */
__attribute__((target("avx512f"))) static void convert_row(const double *x, const double *mu, size_t d, size_t dp16,
                                                           uint16_t *hi, uint16_t *lo, double *s, double *sr)
{
    const __m512i bias = _mm512_set1_epi32(0x7FFF), one = _mm512_set1_epi32(1);
    const __m512i evenodd = _mm512_set_epi32(15, 13, 11, 9, 7, 5, 3, 1, 14, 12, 10, 8, 6, 4, 2, 0);
    __m512d acc = _mm512_setzero_pd(), accr = _mm512_setzero_pd();
    for (size_t t0 = 0; t0 < d; t0 += 16) {
        size_t m = d - t0 < 16 ? d - t0 : 16;
        __mmask8 m0 = (__mmask8)(m >= 8 ? 0xFF : (1u << m) - 1), m1 = (__mmask8)(m > 8 ? (1u << (m - 8)) - 1 : 0);
        if (m == 16)
            m1 = 0xFF;
        __m512d xa = _mm512_maskz_loadu_pd(m0, x + t0), xb = _mm512_maskz_loadu_pd(m1, x + t0 + 8);
        __m512d va = _mm512_sub_pd(xa, _mm512_maskz_loadu_pd(m0, mu + t0));
        __m512d vb = _mm512_sub_pd(xb, _mm512_maskz_loadu_pd(m1, mu + t0 + 8));
        acc = _mm512_fmadd_pd(va, va, _mm512_fmadd_pd(vb, vb, acc));
        accr = _mm512_fmadd_pd(xa, xa, _mm512_fmadd_pd(xb, xb, accr));
        __m512 f = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(_mm512_cvtpd_ps(va))),
                                                       _mm256_castps_pd(_mm512_cvtpd_ps(vb)), 1));
        __m512i u = _mm512_castps_si512(f);
        __m512i h = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(u, bias),
                                                       _mm512_and_si512(_mm512_srli_epi32(u, 16), one)), 16);
        __m512 rest = _mm512_sub_ps(f, _mm512_castsi512_ps(_mm512_slli_epi32(h, 16))); /* exact */
        __m512i ru = _mm512_castps_si512(rest);
        __m512i l = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(ru, bias),
                                                       _mm512_and_si512(_mm512_srli_epi32(ru, 16), one)), 16);
        uint32_t w[8];
        _mm256_storeu_si256((__m256i *)w, _mm512_cvtepi32_epi16(h)); /* 8 pairs, in column order */
        for (size_t q = 0; q < (m + 1) / 2; q++)
            memcpy(hi + (t0 / 2 + q) * 32, &w[q], sizeof w[q]);
        __m256i le = _mm512_cvtepi32_epi16(_mm512_permutexvar_epi32(evenodd, l)); /* evens, then odds */
        _mm_storeu_si128((__m128i *)(lo + t0 / 2), _mm256_castsi256_si128(le));
        _mm_storeu_si128((__m128i *)(lo + dp16 + t0 / 2), _mm256_extracti128_si256(le, 1));
    }
    *s = _mm512_reduce_add_pd(acc);
    *sr = _mm512_reduce_add_pd(accr);
}

int km_lowp_available(void)
{
#if defined(PK_KM_HAVE_BF16)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}

int km_ws_enable_lowp(km_ws *ws)
{
#if defined(PK_KM_HAVE_BF16)
    /* below 16 columns the low parts' padding to 16 pairs would outweigh X itself, and the float
     * kernel is cheap there anyway */
    if (!km_lowp_available() || ws->d < 16 || ws->d > KM_LOWP_DMAX)
        return 0;
    const pk_mat *X = ws->X;
    size_t n = ws->n, d = ws->d, k = ws->k, dp = (d + 1) / 2, nblk = (n + 15) / 16;
    ws->kp4 = (k + 3) / 4 * 4;
    ws->mu = calloc(d + k * d + k, sizeof(double)); /* means, then the pass's centred centres and norms */
    ws->xnc = malloc(2 * (n ? n : 1) * sizeof(double)); /* squared norms, then norms */
    ws->bstride = dp * 32;
    ws->dp16 = (dp + 15) / 16 * 16;
    ws->Xb = alloc_big((nblk + 1) * ws->bstride * sizeof(uint16_t), &ws->Xb_bytes);
    ws->Xl = alloc_big((n ? n : 1) * 2 * ws->dp16 * sizeof(uint16_t), &ws->Xl_bytes);
    ws->Cb = malloc(ws->kp4 * dp * sizeof(uint32_t));
    ws->cnb = malloc(ws->kp4 * sizeof(float));
    ws->Cef = calloc(k * 2 * ws->dp16, sizeof(float));
    if (!ws->mu || !ws->xnc || !ws->Xb || !ws->Xl || !ws->Cb || !ws->cnb || !ws->Cef) {
        km_ws_free_lowp(ws);
        return 0;
    }
    ws->Cc = ws->mu + d;
    ws->cnc = ws->Cc + k * d;
    /* any centre point keeps the distances; the mean of a strided sample shrinks the norms as
     * well as the full mean and spares a pass over X */
    size_t step = n > 4096 ? n / 4096 : 1, ns = 0;
    for (size_t i = 0; i < n; i += step, ns++) {
        const double *x = pk_mat_at(X, i, 0);
        for (size_t t = 0; t < d; t++)
            ws->mu[t] += x[t];
    }
    for (size_t t = 0; t < d; t++)
        ws->mu[t] /= (double)ns;
    double xmax = 0;
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) reduction(max : xmax)
#endif
    for (size_t b = 0; b < nblk; b++) {
        uint16_t *hi = ws->Xb + b * ws->bstride;
        memset(hi, 0, ws->bstride * sizeof(uint16_t)); /* padding rows and the odd column's pair half */
        for (size_t r = 0; r < 16 && b * 16 + r < n; r++) {
            size_t i = b * 16 + r;
            const double *x = pk_mat_at(X, i, 0);
            uint16_t *lo = ws->Xl + i * 2 * ws->dp16; /* even columns, then odd ones */
            memset(lo, 0, 2 * ws->dp16 * sizeof(uint16_t));
            double s, sr;
            convert_row(x, ws->mu, d, ws->dp16, hi + 2 * r, lo, &s, &sr);
            ws->xn[i] = sr; /* the raw norms too (the finiteness check reads them) */
            ws->xnc[i] = s;
            ws->xnc[n + i] = sqrt(s);
            if (s > xmax)
                xmax = s;
        }
    }
    /* float range: the products and sums must neither overflow nor all be subnormal */
    if (!(xmax > 1e-30 && xmax < 1e30)) {
        km_ws_free_lowp(ws);
        return 0;
    }
    ws->lowp_margin = 2.125 * (ldexp(1.0, -6) + (double)(d + 140) * ldexp(1.0, -22));
    ws->lowp_abs = 2.125 * (double)(d + 1) * ldexp(1.0, -120);
    return 1;
#else
    (void)ws;
    return 0;
#endif
}

void km_ws_free_lowp(km_ws *ws)
{
    free(ws->mu);
    free(ws->xnc);
#if defined(PK_KM_HAVE_BF16)
    free_big(ws->Xb, ws->Xb_bytes);
    free_big(ws->Xl, ws->Xl_bytes);
#else
    free(ws->Xb);
    free(ws->Xl);
#endif
    free(ws->Cb);
    free(ws->cnb);
    free(ws->Cef);
    ws->Cef = NULL;
    ws->mu = ws->xnc = ws->Cc = ws->cnc = NULL;
    ws->Xb = ws->Xl = NULL;
    ws->Cb = NULL;
    ws->cnb = NULL;
}

#if defined(PK_KM_HAVE_BF16)
/* centred centres (double and bfloat16) and the pass's thresholds; returns 0 when they are out
 * of the float range (then the pass uses the float search) */
static int set_centres_lowp(km_ws *ws, const double *C)
{
    size_t d = ws->d, dp = (d + 1) / 2, k = ws->k;
    double cmax = 0;
    memset(ws->Cb, 0, ws->kp4 * dp * sizeof(uint32_t));
    for (size_t j = 0; j < k; j++) {
        double s = 0, *cc = ws->Cc + j * d;
        uint32_t *cj = ws->Cb + j * dp;
        for (size_t t = 0; t < d; t++) {
            double v = C[j * d + t] - ws->mu[t];
            cc[t] = v;
            ws->Cef[j * 2 * ws->dp16 + (t & 1) * ws->dp16 + t / 2] = (float)v;
            s += v * v;
            cj[t / 2] |= (uint32_t)to_bf16((float)(-2 * v)) << (16 * (t & 1));
        }
        ws->cnb[j] = (float)s;
        ws->cnc[j] = s;
        if (s > cmax)
            cmax = s;
    }
    for (size_t j = k; j < ws->kp4; j++)
        ws->cnb[j] = INFINITY;
    /* screening: T = a |x| + b; refinement: T' = a2 |x| + b2 (see settle) */
    ws->lowp_a = ws->lowp_margin * sqrt(cmax);
    ws->lowp_b = 2.125 * (double)(d + 2) * ldexp(1.0, -24) * cmax + ws->lowp_abs;
    ws->lowp_a2 = 2.125 * (ldexp(1.0, -15) + ldexp(1.0, -20) + (double)(d + 8) * ldexp(1.0, -23)) * sqrt(cmax);
    ws->lowp_b2 = 2.125 * ldexp(1.0, -49) * cmax + ws->lowp_abs;
    ws->cncmax = cmax;
    return cmax < 1e30;
}

/* Refinement of an open row.  x~_t = fl(high + low) (gathered from the blocks, still in cache)
 * is within (2^-16 + 2^-22)|x_t| of the centred value; with float centred centres (2^-24) and
 * float multiply-adds over d terms the dot product is within (2^-16 + 2^-21 + (d + 8) 2^-24)|x||c_j|
 * of the exact one, so r_j = |c_j|^2 - 2 x~.c_j (in double from the float dot product) is within
 *     E' = (2^-15 + 2^-20 + (d + 8) 2^-23)|x||c_j| + 2^-50 |c_j|^2 (+ the subnormal term)
 * and T' = 2E' (1 + 1/16).  The candidates are the centres screened within T of the smallest
 * value (the rest are certified farther).  Returns 1 with the label and an upper bound on the
 * squared distance when the refined winner is T' clear of the other candidates, else 0. */
__attribute__((target("avx512f"))) static int settle(const km_ws *ws, size_t i, const float *sc, double T,
                                                     int32_t *lab, double *hi)
{
    size_t d = ws->d, dp = (d + 1) / 2, dp16 = ws->dp16, ng = dp16 / 16, n = ws->n, k = ws->k;
    const int *h = (const int *)(ws->Xb + i / 16 * ws->bstride) + i % 16;
    const uint16_t *l = ws->Xl + i * 2 * dp16;
    const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i top = _mm512_set1_epi32((int)0xFFFF0000u);
    __m512 xe[KM_LOWP_DMAX / 32], xo[KM_LOWP_DMAX / 32];
    for (size_t g = 0; g < ng; g++) {
        __m512i p = _mm512_add_epi32(lane, _mm512_set1_epi32((int)(16 * g)));
        __mmask16 m = _mm512_cmplt_epi32_mask(p, _mm512_set1_epi32((int)dp));
        __m512i idx = _mm512_slli_epi32(p, 4); /* a pair every 16 ints (64 bytes) */
        __m512i gh = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, h, 4);
        __m512i le = _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(l + 16 * g))), 16);
        __m512i lo_ = _mm512_slli_epi32(
            _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(l + dp16 + 16 * g))), 16);
        xe[g] = _mm512_add_ps(_mm512_castsi512_ps(_mm512_slli_epi32(gh, 16)), _mm512_castsi512_ps(le));
        xo[g] = _mm512_add_ps(_mm512_castsi512_ps(_mm512_and_si512(gh, top)), _mm512_castsi512_ps(lo_));
    }
    float lo = INFINITY;
    for (size_t j = 0; j < k; j++)
        lo = sc[j * 32] < lo ? sc[j * 32] : lo;
    float thr = nextafterf((float)((double)lo + T), INFINITY); /* at least lo + T: more candidates */
    double b1 = INFINITY, b2 = INFINITY;
    int32_t j1 = 0;
    for (size_t j = 0; j < k; j++) {
        if (sc[j * 32] > thr)
            continue;
        const float *ce = ws->Cef + j * 2 * dp16, *co = ce + dp16;
        __m512 acc = _mm512_setzero_ps();
        for (size_t g = 0; g < ng; g++) {
            acc = _mm512_fmadd_ps(xe[g], _mm512_loadu_ps(ce + 16 * g), acc);
            acc = _mm512_fmadd_ps(xo[g], _mm512_loadu_ps(co + 16 * g), acc);
        }
        double v = ws->cnc[j] - 2 * (double)_mm512_reduce_add_ps(acc);
        if (v < b1) {
            b2 = b1;
            b1 = v;
            j1 = (int32_t)j;
        } else if (v < b2) {
            b2 = v;
        }
    }
    double T2 = ws->lowp_a2 * ws->xnc[n + i] + ws->lowp_b2;
    if (!(b2 - b1 > T2))
        return 0;
    *lab = j1;
    *hi = ws->xnc[i] + b1 + T2;
    return 1;
}
#endif

/* KM_LOWP_KMAX: the largest padded k whose screened values fit the kernel's stack buffer; with
 * more centres the open rows go to the float search instead */
#define KM_LOWP_KMAX 128

size_t km_assign_lowp(km_ws *ws, const double *C, int32_t *labels, double *dist2, int exact, int with_sums,
                      int *used)
{
    *used = 0;
#if defined(PK_KM_HAVE_BF16)
    if (!ws->Xb || !set_centres_lowp(ws, C))
        return 0;
    *used = 1;
    size_t n = ws->n, d = ws->d, k = ws->k, dp = (d + 1) / 2, changed = 0, w = k * d + k, nch = km_nchunks(n);
    int keep = ws->kp4 <= KM_LOWP_KMAX;
    int64_t resc = 0, opened = 0, refl = 0;
    const double *xr = ws->xnc + n;
    km_ws_set_centres(ws, C); /* for the float search of the rows left open */
#if defined(_OPENMP)
#pragma omp parallel for reduction(+ : changed, resc, opened, refl) schedule(dynamic, 1)
#endif
    for (size_t ch = 0; ch < nch; ch++) {
        size_t i0 = ch * KM_CHUNK, m = (i0 + KM_CHUNK < n ? i0 + KM_CHUNK : n) - i0, open[KM_CHUNK], no = 0;
        int32_t lab[KM_CHUNK + 32], olab[KM_CHUNK];
        float g1[KM_CHUNK + 32], g2[KM_CHUNK + 32], sc[2 * 32 * KM_LOWP_KMAX];
        double ohi[KM_CHUNK];
        double *a = with_sums ? ws->part + ch * w : NULL;
        /* Blocks of 32 rows.  The rows a block leaves open are settled after the next block's
         * screening, so the prefetched low parts have arrived by then. */
        size_t pend[32], np = 0, pq = 0;
        double pT[32];
        for (size_t q = 0; q < m + 32; q += 32) {
            size_t cur = (q / 32) & 1, nq = 0, nxt[32];
            double nT[32];
            if (q < m) { /* KM_CHUNK is a multiple of 32: blocks align */
                size_t mq = m - q < 32 ? m - q : 32;
                near_bf16(ws->Xb + (i0 + q) / 16 * ws->bstride, mq > 16 ? 2 : 1, dp, ws->bstride, ws->Cb, ws->cnb, ws->kp4,
                          lab + q, g1 + q, g2 + q, keep ? sc + cur * 32 * KM_LOWP_KMAX : NULL);
                for (size_t r = 0; r < mq; r++) {
                    size_t i = i0 + q + r;
                    double T = ws->lowp_a * xr[i] + ws->lowp_b;
                    if ((double)g2[q + r] - (double)g1[q + r] > T) {
                        if (dist2 && !exact)
                            dist2[i] = ws->xnc[i] + (double)g1[q + r] + T;
                        continue;
                    }
                    opened++;
                    if (!keep) {
                        open[no++] = i;
                        continue;
                    }
                    const char *lr = (const char *)(ws->Xl + i * 2 * ws->dp16); /* its low parts */
                    for (size_t b = 0; b < 4 * ws->dp16; b += 64)
                        __builtin_prefetch(lr + b);
                    nxt[nq] = r;
                    nT[nq++] = T;
                }
            }
            const float *sp = sc + (cur ^ 1) * 32 * KM_LOWP_KMAX;
            for (size_t u = 0; u < np; u++) {
                size_t r = pend[u], i = i0 + pq + r;
                double hi;
                if (!settle(ws, i, sp + r, pT[u], &lab[pq + r], &hi)) { /* near-tie: float, then double */
                    resc += (int64_t)km_near_rows(ws, &i, 1, &lab[pq + r], &hi, NULL);
                    refl++;
                }
                if (dist2 && !exact)
                    dist2[i] = hi;
            }
            memcpy(pend, nxt, nq * sizeof *pend);
            memcpy(pT, nT, nq * sizeof *pT);
            np = nq;
            pq = q;
        }
        if (no) { /* many centres: the float search settles the open rows */
            resc += (int64_t)km_near_rows(ws, open, no, olab, ohi, NULL);
            for (size_t q = 0; q < no; q++) {
                lab[open[q] - i0] = olab[q];
                if (dist2 && !exact)
                    dist2[open[q]] = ohi[q];
            }
        }
        changed += km_chunk_apply(ws, C, i0, m, lab, labels, exact ? dist2 : NULL, a);
    }
    ws->rescued += resc;
    ws->screen_open += opened;
    ws->refine_fail += refl;
    return changed;
#else
    (void)ws;
    (void)C;
    (void)labels;
    (void)dist2;
    (void)exact;
    (void)with_sums;
    return 0;
#endif
}
