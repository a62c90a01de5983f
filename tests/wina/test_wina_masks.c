/* test_wina_masks.c — the selection rules on plain arrays: exact counts, the
 * optimality of the WINA mask for column-orthogonal W (brute force over every
 * mask of the same size), TEAL == WINA for equal column norms, and the product
 * that skips masked columns. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pk_test.h"
#include "probkit/rng.h"
#include "probkit/wina.h"

/* ||W x - W (mask * x)||^2 with W row-major r x n. */
static double out_err(const double *W, int r, int n, const float *x, const uint8_t *mask)
{
    double e = 0;
    for (int i = 0; i < r; i++) {
        double d = 0;
        for (int j = 0; j < n; j++)
            if (!mask[j])
                d += W[i * n + j] * x[j];
        e += d * d;
    }
    return e;
}

/* An r x n matrix with orthogonal columns of random norms (Gram-Schmidt). */
static void orth_columns(double *W, int r, int n, pk_rng *rng)
{
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < r; i++)
            W[i * n + j] = pk_rng_normal(rng);
        for (int p = 0; p < j; p++) {
            double dot = 0, pp = 0;
            for (int i = 0; i < r; i++) {
                dot += W[i * n + j] * W[i * n + p];
                pp += W[i * n + p] * W[i * n + p];
            }
            for (int i = 0; i < r; i++)
                W[i * n + j] -= dot / pp * W[i * n + p];
        }
        double nn = 0, scale = 0.1 + 3 * pk_rng_uniform(rng);
        for (int i = 0; i < r; i++)
            nn += W[i * n + j] * W[i * n + j];
        for (int i = 0; i < r; i++)
            W[i * n + j] *= scale / sqrt(nn);
    }
}

static void test_counts(pk_rng *rng)
{
    PK_CHECK(pk_wina_keep_count(64, 0.25) == 48);
    PK_CHECK(pk_wina_keep_count(64, 0.65) == 23); /* floor(41.6) = 41 dropped */
    PK_CHECK(pk_wina_keep_count(10, 0) == 10);
    PK_CHECK(pk_wina_keep_count(10, 1) == 0);
    PK_CHECK(pk_wina_keep_count(512, 0.5) == 256);
    enum { B = 7, N = 33 };
    float x[B * N];
    double cn[N];
    uint8_t mask[B * N];
    for (int i = 0; i < B * N; i++)
        x[i] = (float)pk_rng_normal(rng);
    for (int i = 0; i < N; i++)
        cn[i] = pk_rng_uniform(rng);
    for (int i = 0; i < N; i++) /* ties: a row of equal values */
        x[3 * N + i] = 1.0f;
    for (int k = 0; k <= N; k++) {
        PK_CHECK_OK(pk_wina_topk_mask(x, B, N, cn, k, mask, NULL));
        int ok = 1;
        for (int b = 0; b < B; b++) {
            int c = 0;
            for (int i = 0; i < N; i++)
                c += mask[b * N + i];
            ok &= c == k;
        }
        PK_CHECK_MSG(ok, "k = %d: a row does not keep exactly k entries", k);
        /* every kept entry scores at least as high as every dropped one (row 0) */
        double minkept = INFINITY, maxdrop = -INFINITY;
        for (int i = 0; i < N; i++) {
            double s = fabs(x[i]) * cn[i];
            if (mask[i])
                minkept = fmin(minkept, s);
            else
                maxdrop = fmax(maxdrop, s);
        }
        PK_CHECK(k == 0 || k == N || minkept >= maxdrop);
    }
    /* ties go to the lowest index */
    PK_CHECK_OK(pk_wina_topk_mask(x + 3 * N, 1, N, NULL, 5, mask, NULL));
    PK_CHECK(mask[0] && mask[4] && !mask[5] && !mask[N - 1]);
    pk_err err = {0};
    PK_CHECK(pk_wina_topk_mask(x, B, N, NULL, N + 1, mask, &err) == PK_EINVAL);
    cn[2] = -1;
    PK_CHECK(pk_wina_topk_mask(x, B, N, cn, 3, mask, &err) == PK_EINVAL);
    PK_CHECK(strstr(err.msg, "column norm 2") != NULL);
}

/* The theorem: with orthogonal columns the WINA mask has the least output
 * error of all masks of its size; TEAL's need not. */
static void test_optimal(pk_rng *rng)
{
    enum { R = 14, N = 10, TRIALS = 40 };
    double W[R * N], cn[N];
    float Wf[R * N], x[N];
    uint8_t mw[N], mt[N], mb[N];
    int teal_worse = 0, wina_opt = 1;
    for (int t = 0; t < TRIALS; t++) {
        orth_columns(W, R, N, rng);
        for (int i = 0; i < R * N; i++)
            Wf[i] = (float)W[i];
        PK_CHECK_OK(pk_wina_column_norms(Wf, R, N, cn, NULL));
        for (int i = 0; i < N; i++)
            x[i] = (float)pk_rng_normal(rng);
        for (int k = 1; k < N; k++) {
            double best = INFINITY;
            for (unsigned s = 0; s < 1u << N; s++) {
                if (__builtin_popcount(s) != k)
                    continue;
                for (int i = 0; i < N; i++)
                    mb[i] = (uint8_t)(s >> i & 1u);
                best = fmin(best, out_err(W, R, N, x, mb));
            }
            pk_wina_topk_mask(x, 1, N, cn, k, mw, NULL);
            pk_wina_topk_mask(x, 1, N, NULL, k, mt, NULL);
            double ew = out_err(W, R, N, x, mw), et = out_err(W, R, N, x, mt);
            if (!(ew <= best * (1 + 1e-5) + 1e-9)) {
                wina_opt = 0;
                fprintf(stderr, "trial %d k %d: wina %g, best %g\n", t, k, ew, best);
            }
            teal_worse += et > best * (1 + 1e-5) + 1e-9;
            PK_CHECK(et >= best * (1 - 1e-9));
        }
    }
    PK_CHECK(wina_opt);
    PK_CHECK_MSG(teal_worse > 0, "TEAL was optimal in every case (the test cannot tell the rules apart)");
    /* without orthogonality the WINA mask is not always optimal: the theorem's condition matters */
    int nonopt = 0;
    for (int t = 0; t < TRIALS; t++) {
        for (int i = 0; i < R * N; i++)
            W[i] = pk_rng_normal(rng) + (i % N < 3 ? 1.5 : 0); /* correlated columns */
        for (int i = 0; i < R * N; i++)
            Wf[i] = (float)W[i];
        pk_wina_column_norms(Wf, R, N, cn, NULL);
        for (int i = 0; i < N; i++)
            x[i] = (float)pk_rng_normal(rng);
        double best = INFINITY;
        for (unsigned s = 0; s < 1u << N; s++) {
            if (__builtin_popcount(s) != 4)
                continue;
            for (int i = 0; i < N; i++)
                mb[i] = (uint8_t)(s >> i & 1u);
            best = fmin(best, out_err(W, R, N, x, mb));
        }
        pk_wina_topk_mask(x, 1, N, cn, 4, mw, NULL);
        nonopt += out_err(W, R, N, x, mw) > best * (1 + 1e-6);
    }
    PK_CHECK(nonopt > 0);
}

static void test_equal_norms(pk_rng *rng)
{
    enum { B = 5, N = 40 };
    float x[B * N];
    double cn[N];
    uint8_t a[B * N], b[B * N];
    for (int i = 0; i < B * N; i++)
        x[i] = (float)pk_rng_normal(rng);
    for (int i = 0; i < N; i++)
        cn[i] = 2.5;
    for (int k = 0; k <= N; k += 3) {
        pk_wina_topk_mask(x, B, N, cn, k, a, NULL);
        pk_wina_topk_mask(x, B, N, NULL, k, b, NULL);
        PK_CHECK(!memcmp(a, b, sizeof a));
    }
    /* unequal norms change the choice */
    for (int i = 0; i < N; i++)
        cn[i] = i < N / 2 ? 0.1 : 10;
    pk_wina_topk_mask(x, B, N, cn, N / 4, a, NULL);
    pk_wina_topk_mask(x, B, N, NULL, N / 4, b, NULL);
    PK_CHECK(memcmp(a, b, sizeof a) != 0);
}

static void test_sparse_linear(pk_rng *rng)
{
    enum { B = 6, N = 24, O = 11 };
    float x[B * N], Wt[N * O], bias[O], y[B * O], xm[B * N];
    uint8_t mask[B * N];
    for (int i = 0; i < B * N; i++)
        x[i] = (float)pk_rng_normal(rng);
    for (int i = 0; i < N * O; i++)
        Wt[i] = (float)pk_rng_normal(rng);
    for (int i = 0; i < O; i++)
        bias[i] = (float)pk_rng_normal(rng);
    pk_wina_topk_mask(x, B, N, NULL, 9, mask, NULL);
    for (int i = 0; i < B * N; i++)
        xm[i] = mask[i] ? x[i] : 0.0f;
    PK_CHECK_OK(pk_wina_sparse_linear(x, mask, B, N, Wt, bias, O, y, NULL));
    for (int b = 0; b < B; b++)
        for (int o = 0; o < O; o++) {
            double ref = bias[o];
            for (int i = 0; i < N; i++)
                ref += (double)xm[b * N + i] * Wt[i * O + o];
            PK_CHECK_CLOSE(y[b * O + o], ref, 1e-5, 1e-5);
        }
    /* no mask: the dense product */
    PK_CHECK_OK(pk_wina_sparse_linear(x, NULL, B, N, Wt, NULL, O, y, NULL));
    for (int o = 0; o < O; o++) {
        double ref = 0;
        for (int i = 0; i < N; i++)
            ref += (double)x[(B - 1) * N + i] * Wt[i * O + o];
        PK_CHECK_CLOSE(y[(B - 1) * O + o], ref, 1e-5, 1e-5);
    }
    /* a NaN in a skipped column never reaches the output */
    for (int i = 0; i < N; i++)
        if (!mask[i]) {
            x[i] = NAN;
            break;
        }
    PK_CHECK_OK(pk_wina_sparse_linear(x, mask, 1, N, Wt, NULL, O, y, NULL));
    int fin = 1;
    for (int o = 0; o < O; o++)
        fin &= isfinite(y[o]);
    PK_CHECK(fin);
    PK_CHECK(pk_wina_sparse_linear(x, mask, B, N, Wt, NULL, O, x, NULL) == PK_EINVAL);
}

static void test_names(void)
{
    pk_wina_method m;
    for (int i = 0; i < 4; i++) {
        PK_CHECK_OK(pk_wina_method_parse(pk_wina_method_name((pk_wina_method)i), &m));
        PK_CHECK((int)m == i);
    }
    PK_CHECK(pk_wina_method_parse("WINA", &m) == PK_EINVAL);
    PK_CHECK(!strcmp(pk_wina_site_name(PK_WINA_SITE_MLP_OUT), "mlp.proj"));
}

int main(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 7);
    test_counts(&rng);
    test_optimal(&rng);
    test_equal_norms(&rng);
    test_sparse_linear(&rng);
    test_names();
    return pk_test_done();
}
