/* mask.c — the selection rules (TEAL / CATS / WINA scores, per-token top-k)
 * and the product that reads only the kept columns of a weight matrix. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/wina.h"

static const char *const METHOD_NAMES[] = {"dense", "teal", "cats", "wina"};

const char *pk_wina_method_name(pk_wina_method m)
{
    return (unsigned)m < 4 ? METHOD_NAMES[m] : "?";
}

int pk_wina_method_parse(const char *s, pk_wina_method *out)
{
    for (int i = 0; s && i < 4; i++)
        if (!strcmp(s, METHOD_NAMES[i])) {
            *out = (pk_wina_method)i;
            return PK_OK;
        }
    return PK_EINVAL;
}

int64_t pk_wina_keep_count(int64_t n, double sparsity)
{
    if (n <= 0)
        return 0;
    if (!(sparsity > 0))
        return n;
    if (sparsity >= 1)
        return 0;
    /* The small slack keeps s = 0.25 of n = 64 at 48, not 47, after rounding. */
    int64_t drop = (int64_t)floor(sparsity * (double)n + 1e-9);
    return n - (drop > n ? n : drop);
}

int pk_wina_column_norms(const float *W, int64_t rows, int64_t cols, double *norms, pk_err *err)
{
    if (!W || !norms || rows < 1 || cols < 1)
        return pk_err_set(err, PK_EINVAL, "wina column norms: need a %lld x %lld matrix and an output",
                          (long long)rows, (long long)cols);
    for (int64_t j = 0; j < cols; j++)
        norms[j] = 0;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            norms[j] += (double)W[i * cols + j] * W[i * cols + j];
    for (int64_t j = 0; j < cols; j++)
        norms[j] = sqrt(norms[j]);
    return PK_OK;
}

/* The value of rank r (0 = largest) of a[0..n): quickselect, a is permuted. */
static double select_desc(double *a, int64_t n, int64_t r)
{
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double piv = a[lo + (hi - lo) / 2];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] > piv)
                i++;
            while (a[j] < piv)
                j--;
            if (i <= j) {
                double t = a[i];
                a[i++] = a[j];
                a[j--] = t;
            }
        }
        if (r <= j)
            hi = j;
        else if (r >= i)
            lo = i;
        else
            return a[r];
    }
    return a[r];
}

int pk_wina_topk_mask(const float *x, int64_t B, int64_t n, const double *colnorm, int64_t k, uint8_t *mask,
                      pk_err *err)
{
    if (!x || !mask || B < 0 || n < 1 || k < 0 || k > n)
        return pk_err_set(err, PK_EINVAL, "wina top-k mask: need x (%lld x %lld), a mask and k = %lld in [0, n]",
                          (long long)B, (long long)n, (long long)k);
    if (colnorm)
        for (int64_t i = 0; i < n; i++)
            if (!(colnorm[i] >= 0) || isinf(colnorm[i]))
                return pk_err_set(err, PK_EINVAL, "wina top-k mask: column norm %lld is %g (want finite, >= 0)",
                                  (long long)i, colnorm[i]);
    double *sc = malloc((size_t)n * 2 * sizeof *sc);
    if (!sc)
        return pk_err_set(err, PK_ENOMEM, "wina top-k mask: out of memory");
    double *tmp = sc + n;
    for (int64_t b = 0; b < B; b++) {
        const float *xr = x + b * n;
        uint8_t *mr = mask + b * n;
        if (k == n || k == 0) {
            memset(mr, k == n, (size_t)n);
            continue;
        }
        for (int64_t i = 0; i < n; i++) {
            double v = fabs((double)xr[i]) * (colnorm ? colnorm[i] : 1.0);
            sc[i] = isnan(v) ? -1.0 : v; /* a NaN input is never preferred */
        }
        memcpy(tmp, sc, (size_t)n * sizeof *tmp);
        double thr = select_desc(tmp, n, k - 1);
        int64_t above = 0;
        for (int64_t i = 0; i < n; i++)
            above += sc[i] > thr;
        int64_t ties = k - above; /* entries equal to the threshold still to keep, lowest index first */
        for (int64_t i = 0; i < n; i++) {
            int keep = sc[i] > thr;
            if (!keep && sc[i] == thr && ties > 0) {
                keep = 1;
                ties--;
            }
            mr[i] = (uint8_t)keep;
        }
    }
    free(sc);
    return PK_OK;
}

int pk_wina_sparse_linear(const float *x, const uint8_t *mask, int64_t B, int64_t n, const float *Wt,
                          const float *bias, int64_t out, float *y, pk_err *err)
{
    if (!x || !Wt || !y || B < 0 || n < 1 || out < 1)
        return pk_err_set(err, PK_EINVAL, "wina sparse linear: need x (%lld x %lld), Wt (n x %lld) and y",
                          (long long)B, (long long)n, (long long)out);
    if (y == x)
        return pk_err_set(err, PK_EINVAL, "wina sparse linear: y may not alias x");
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    if (!idx)
        return pk_err_set(err, PK_ENOMEM, "wina sparse linear: out of memory");
    for (int64_t b = 0; b < B; b++) {
        float *restrict yr = y + b * out;
        const float *xr = x + b * n;
        const uint8_t *mr = mask ? mask + b * n : NULL;
        int64_t nk = 0;
        for (int64_t i = 0; i < n; i++)
            if (!mr || mr[i])
                idx[nk++] = i; /* a skipped column is never read */
        for (int64_t o = 0; o < out; o++)
            yr[o] = bias ? bias[o] : 0.0f;
        int64_t j = 0;
        /* four kept rows of W^T per pass: a quarter of the loads and stores of y */
        for (; j + 4 <= nk; j += 4) {
            const float x0 = xr[idx[j]], x1 = xr[idx[j + 1]], x2 = xr[idx[j + 2]], x3 = xr[idx[j + 3]];
            const float *restrict w0 = Wt + idx[j] * out, *restrict w1 = Wt + idx[j + 1] * out,
                                  *restrict w2 = Wt + idx[j + 2] * out, *restrict w3 = Wt + idx[j + 3] * out;
            for (int64_t o = 0; o < out; o++)
                yr[o] += x0 * w0[o] + x1 * w1[o] + x2 * w2[o] + x3 * w3[o];
        }
        for (; j < nk; j++) {
            const float xi = xr[idx[j]], *restrict wr = Wt + idx[j] * out;
            for (int64_t o = 0; o < out; o++)
                yr[o] += xi * wr[o];
        }
    }
    free(idx);
    return PK_OK;
}
