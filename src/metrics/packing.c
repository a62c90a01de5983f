/* Packings of k directions in R^d (Guha, "Representational Capacity"): random
 * draws as the authors' random_packing_sweep.py measures them, the extreme-value
 * prediction of that measurement, and Adam on a high power of the Gram entries as
 * their optimized_packing_sweep.py runs it. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "probkit/metrics.h"

int pk_packing_random(size_t d, size_t k, size_t trials, pk_rng *rng, double *eps, pk_err *err)
{
    if (d < 1 || k < 2 || trials < 1)
        return pk_err_set(err, PK_EINVAL, "need d >= 1, k >= 2, trials >= 1 (got %zu, %zu, %zu)", d, k, trials);
    /* float storage and sgemm (the authors' sweep runs in float16); the Gram matrix is
     * formed a block of rows at a time, so k = 32000 needs 256 k floats, not k^2 */
    const size_t bs = k < 256 ? k : 256;
    float *U = malloc(k * d * sizeof *U), *G = malloc(bs * k * sizeof *G);
    double *row = malloc(d * sizeof *row);
    if (!U || !G || !row) {
        free(U);
        free(G);
        free(row);
        return pk_err_set(err, PK_ENOMEM, "out of memory (k = %zu, d = %zu)", k, d);
    }
    double best = INFINITY;
    for (size_t t = 0; t < trials; t++) {
        for (size_t i = 0; i < k; i++) {
            double s = 0;
            for (size_t c = 0; c < d; c++) {
                row[c] = pk_rng_normal(rng);
                s += row[c] * row[c];
            }
            s = s > 0 ? 1 / sqrt(s) : 0;
            for (size_t c = 0; c < d; c++)
                U[i * d + c] = (float)(row[c] * s);
        }
        double worst = 0;
        for (size_t r0 = 0; r0 < k; r0 += bs) {
            size_t m = k - r0 < bs ? k - r0 : bs, w = k - r0;
            /* rows r0..r0+m against rows r0..k: the upper triangle */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)w, (int)d, 1.0f, U + r0 * d, (int)d,
                        U + r0 * d, (int)d, 0.0f, G, (int)w);
            for (size_t i = 0; i < m; i++)
                for (size_t j = i + 1; j < w; j++)
                    worst = fmax(worst, fabsf(G[i * w + j]));
        }
        best = fmin(best, worst);
    }
    *eps = best;
    free(U);
    free(G);
    free(row);
    return PK_OK;
}

/* continued fraction of the regularised incomplete beta I_x(a, b) (modified Lentz),
 * valid for x < (a + 1) / (a + b + 2); returns ln I_x(a, b) */
static double log_ibeta_cf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1, dd = 1 - (a + b) * x / (a + 1);
    dd = 1 / (fabs(dd) < tiny ? tiny : dd);
    double f = dd;
    for (int m = 1; m < 10000; m++) {
        for (int half = 0; half < 2; half++) {
            double num = half == 0 ? m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
                                   : -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
            dd = 1 + num * dd;
            dd = 1 / (fabs(dd) < tiny ? tiny : dd);
            c = 1 + num / c;
            c = fabs(c) < tiny ? tiny : c;
            f *= dd * c;
            if (half == 1 && fabs(dd * c - 1) < 1e-15)
                m = 10000;
        }
    }
    return a * log(x) + b * log1p(-x) - log(a) - (lgamma(a) + lgamma(b) - lgamma(a + b)) + log(f);
}

double pk_cosine_log_tail(size_t d, double t)
{
    if (d < 2 || !(t >= 0) || t > 1)
        return NAN;
    if (t == 1)
        return -INFINITY;
    /* cos^2 of two uniform directions is Beta(1/2, (d-1)/2): P(|cos| > t) = I_{1-t^2}((d-1)/2, 1/2) */
    double a = 0.5 * (double)(d - 1), b = 0.5, x = 1 - t * t;
    if (x < (a + 1) / (a + b + 2))
        return log_ibeta_cf(a, b, x);
    return log1p(-exp(log_ibeta_cf(b, a, t * t)));
}

double pk_packing_random_predict(size_t d, size_t k, size_t trials)
{
    if (d < 2 || k < 2 || trials < 1)
        return NAN;
    /* Pairs are nearly independent in the tail, so the largest |cos| of a draw is the
     * maximum of N = k(k-1)/2 exceedance trials: P(max <= t) = exp(-N Q(t)) (Poisson
     * limit).  The median of the minimum over T draws solves (1 - exp(-N Q))^T = 1/2. */
    double n = 0.5 * (double)k * (double)(k - 1);
    double target = log(-log1p(-exp2(-1.0 / (double)trials))) - log(n);
    double lo = 0, hi = 1;
    for (int it = 0; it < 200 && hi - lo > 1e-13; it++) {
        double mid = 0.5 * (lo + hi);
        if (pk_cosine_log_tail(d, mid) > target)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

int pk_packing_power(size_t d, size_t k)
{
    /* optimized_packing_sweep.py: a numerator of 40 for k <= 4000, else 50 for d >= 3072,
     * else 60, over ln d, truncated, at most 20 (the paper's "p in [40, 60]" is the numerator) */
    if (d < 2)
        return 20;
    double num = k <= 4000 ? 40 : d >= 3072 ? 50 : 60;
    int p = (int)(num / log((double)d));
    return p > 20 ? 20 : p < 2 ? 2 : p;
}

static void normalise_rows(const float *V, float *U, float *norm, size_t k, size_t d)
{
    for (size_t i = 0; i < k; i++) {
        double s = 0;
        for (size_t t = 0; t < d; t++)
            s += (double)V[i * d + t] * V[i * d + t];
        norm[i] = s > 0 ? (float)sqrt(s) : 1e-30f;
        for (size_t t = 0; t < d; t++)
            U[i * d + t] = V[i * d + t] / norm[i];
    }
}

int pk_packing_optimize(size_t d, size_t k, size_t steps, int power, pk_rng *rng, double *eps, pk_err *err)
{
    if (d < 1 || k < 2 || steps < 1 || power < 2 || power > 64)
        return pk_err_set(err, PK_EINVAL, "need d >= 1, k >= 2, steps >= 1, power in [2, 64] (got %zu, %zu, %zu, %d)",
                          d, k, steps, power);
    size_t kd = k * d;
    /* float32 throughout, as the authors' torch sweep; one block: V, U, GU, m1, m2 (k d
     * each), the Gram matrix (k^2), norms and a row buffer (k each) */
    float *V = calloc(5 * kd + k * k + 2 * k, sizeof *V);
    if (!V)
        return pk_err_set(err, PK_ENOMEM, "out of memory (k = %zu, d = %zu)", k, d);
    float *U = V + kd, *GU = U + kd, *m1 = GU + kd, *m2 = m1 + kd, *G = m2 + kd, *nr = G + k * k, *wpow = nr + k;
    /* unit-norm start, as the authors' sweep: with Adam the step is about lr in absolute
     * terms, so the start's norm sets the angular step size */
    for (size_t i = 0; i < kd; i++)
        GU[i] = (float)pk_rng_normal(rng);
    normalise_rows(GU, V, nr, k, d);
    const double lr = d <= 1024 ? 0.005 : 0.0025, b1 = 0.9, b2 = 0.999, ae = 1e-8;
    double b1t = 1, b2t = 1, worst = 0;
    for (size_t s = 0; s < steps; s++) {
        normalise_rows(V, U, nr, k, d);
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)k, (int)d, 1.0f, U, (int)d, 0.0f, G, (int)k);
        if (s + 1 == steps) { /* the authors report the Gram matrix of the last step, before its update */
            worst = 0;
            for (size_t i = 0; i < k; i++)
                for (size_t j = i + 1; j < k; j++)
                    worst = fmax(worst, fabsf(G[i * k + j]));
            break;
        }
        /* L = sum_{i != j} |g_ij|^p: dL/dU = W U with W_ij = 2 p |g|^(p-1) sign(g) off the diagonal */
        for (size_t i = 0; i < k; i++) {
            /* |g|^(p-1) by squaring, bit by bit over the row so that the loops vectorise */
            float *row = G + i * k, *b = GU; /* GU is free until the ssymm below */
            size_t w = k - i - 1;
            row[i] = 0;
            for (size_t j = 0; j < w; j++) {
                b[j] = fabsf(row[i + 1 + j]);
                wpow[j] = 1;
            }
            for (int e = power - 1; e; e >>= 1) {
                if (e & 1)
                    for (size_t j = 0; j < w; j++)
                        wpow[j] *= b[j];
                for (size_t j = 0; j < w; j++)
                    b[j] *= b[j];
            }
            for (size_t j = 0; j < w; j++)
                row[i + 1 + j] = copysignf(2.0f * (float)power * wpow[j], row[i + 1 + j]);
        }
        cblas_ssymm(CblasRowMajor, CblasLeft, CblasUpper, (int)k, (int)d, 1.0f, G, (int)k, U, (int)d, 0.0f, GU,
                    (int)d);
        /* through the normalisation: dL/dv = (I - u u^T) dL/du / |v| */
        for (size_t i = 0; i < k; i++) {
            float dot = cblas_sdot((int)d, GU + i * d, 1, U + i * d, 1);
            for (size_t t = 0; t < d; t++)
                GU[i * d + t] = (GU[i * d + t] - dot * U[i * d + t]) / nr[i];
        }
        b1t *= b1;
        b2t *= b2;
        const float c1 = (float)(1 / (1 - b1t)), c2 = (float)(1 / (1 - b2t));
        for (size_t i = 0; i < kd; i++) {
            m1[i] = (float)b1 * m1[i] + (float)(1 - b1) * GU[i];
            m2[i] = (float)b2 * m2[i] + (float)(1 - b2) * GU[i] * GU[i];
            V[i] -= (float)lr * (m1[i] * c1) / (sqrtf(m2[i] * c2) + (float)ae);
        }
    }
    *eps = worst;
    free(V);
    return PK_OK;
}
