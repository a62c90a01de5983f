/* Capacity formulas (the paper's anchors), cosine statistics, packings. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "fixture.h"
#include "pk_test.h"
#include "probkit/metrics.h"

static void test_anchors(void)
{
    /* the paper's Table: Llama-2-7B d = 4096, eps = 0.0645 -> ~3.99e7; d = 2048 / 3072 at eps 0.09 */
    PK_CHECK_CLOSE(pk_capacity_paper(4096, 0.0645), 3.99e7, 0, 0.01);
    PK_CHECK_CLOSE(pk_capacity_paper(2048, 0.09), 2.0e7, 0, 0.01);
    PK_CHECK_CLOSE(pk_capacity_paper(3072, 0.09), 6.0e8, 0, 0.01);
    /* the closed forms invert their eps formulas */
    double d = 64, C = 1.29, eps = 0.3;
    double k = pk_capacity_adjusted(d, eps, C);
    PK_CHECK_CLOSE(sqrt(C * log(k / d) / d), eps, 1e-12, 0);
    k = pk_capacity_jl(d, eps, 3.03);
    PK_CHECK_CLOSE(sqrt(3.03 * log(k) / d), eps, 1e-12, 0);
    /* capacity grows exponentially with eps^2 d */
    PK_CHECK(pk_capacity_paper(4096, 0.05) < pk_capacity_paper(4096, 0.0645));
}

static void test_cosine_stats(void)
{
    /* three vectors: e1, e2, (e1+e2)/sqrt2 -> cos 0, 1/sqrt2, 1/sqrt2 */
    double E[] = {1, 0, 0, 2, 3, 3};
    pk_cosine_stats s;
    PK_CHECK_OK(pk_cosine_stats_compute(E, 3, 2, 0, NULL, &s, NULL));
    double c = M_SQRT1_2, m = 2 * c / 3, var = (m * m + 2 * (c - m) * (c - m)) / 2;
    PK_CHECK(s.pairs == 3 && !s.sampled);
    PK_CHECK_CLOSE(s.mean, m, 1e-15, 1e-12);
    PK_CHECK_CLOSE(s.sd, sqrt(var), 1e-15, 1e-12);
    PK_CHECK_CLOSE(s.eps, m + 2 * sqrt(var), 1e-15, 1e-12);
    PK_CHECK_CLOSE(s.max_abs, c, 1e-15, 1e-12);
    float Ef[] = {1, 0, 0, 2, 3, 3};
    pk_cosine_stats sf;
    PK_CHECK_OK(pk_cosine_stats_compute_f(Ef, 3, 2, 0, NULL, &sf, NULL));
    PK_CHECK_CLOSE(sf.mean, s.mean, 1e-7, 0);
    /* random directions in d = 256: mean ~ 0, sd ~ 1/sqrt(d); sampled pairs agree with all pairs */
    pk_rng r;
    pk_rng_seed(&r, 4);
    enum { N = 600, D = 256 };
    double *R = malloc(N * D * sizeof *R);
    for (size_t i = 0; i < N * D; i++)
        R[i] = pk_rng_normal(&r);
    PK_CHECK_OK(pk_cosine_stats_compute(R, N, D, 0, NULL, &s, NULL));
    PK_CHECK_CLOSE(s.sd, 1 / sqrt((double)D), 0.002, 0);
    PK_CHECK(fabs(s.mean) < 0.002);
    PK_CHECK_OK(pk_cosine_stats_compute(R, N, D, 50000, &r, &sf, NULL));
    PK_CHECK(sf.sampled && sf.pairs == 50000);
    PK_CHECK_CLOSE(sf.sd, s.sd, 0.002, 0);
    pk_err e;
    PK_CHECK(pk_cosine_stats_compute(R, N, D, 50000, NULL, &sf, &e) == PK_EINVAL);
    for (size_t j = 0; j < D; j++)
        R[5 * D + j] = 0;
    PK_CHECK(pk_cosine_stats_compute(R, N, D, 0, NULL, &s, &e) == PK_EDOM);
    PK_CHECK(strstr(e.msg, "row 5") != NULL);
    R[7] = NAN;
    PK_CHECK(pk_cosine_stats_compute(R, N, D, 0, NULL, &s, &e) == PK_EDOM);
    PK_CHECK(pk_cosine_stats_compute(R, 1, D, 0, NULL, &s, &e) == PK_EINVAL);
    free(R);
}

static void test_packings(void)
{
    pk_rng r;
    pk_rng_seed(&r, 10);
    double e16, e64, eo;
    PK_CHECK_OK(pk_packing_random(16, 200, 3, &r, &e16, NULL));
    PK_CHECK_OK(pk_packing_random(64, 200, 3, &r, &e64, NULL));
    PK_CHECK(e64 < e16 && e16 < 1);
    /* k = d + 1 directions can be made nearly equiangular (simplex: |cos| = 1/d) */
    PK_CHECK_OK(pk_packing_optimize(8, 9, 3000, 4, &r, &eo, NULL));
    PK_CHECK_MSG(fabs(eo - 1.0 / 8) < 0.02, "simplex packing eps %g (ideal 0.125)", eo);
    /* optimisation beats the best of a few random draws */
    double er;
    PK_CHECK_OK(pk_packing_random(16, 64, 5, &r, &er, NULL));
    PK_CHECK_OK(pk_packing_optimize(16, 64, 1000, 8, &r, &eo, NULL));
    PK_CHECK(eo < 0.8 * er);
    /* the blocked Gram (256-row blocks, a partial last block) equals brute force on the same draws */
    {
        enum { K = 600, DD = 12, T = 2 };
        pk_rng a, b;
        pk_rng_seed(&a, 77);
        pk_rng_seed(&b, 77);
        double eb, *V = malloc(K * DD * sizeof *V), best = INFINITY;
        PK_CHECK_OK(pk_packing_random(DD, K, T, &a, &eb, NULL));
        for (int t = 0; t < T; t++) {
            for (size_t i = 0; i < K * DD; i++)
                V[i] = pk_rng_normal(&b);
            double worst = 0;
            for (size_t i = 0; i < K; i++)
                for (size_t j = i + 1; j < K; j++) {
                    double dot = 0, ni = 0, nj = 0;
                    for (size_t c = 0; c < DD; c++) {
                        dot += V[i * DD + c] * V[j * DD + c];
                        ni += V[i * DD + c] * V[i * DD + c];
                        nj += V[j * DD + c] * V[j * DD + c];
                    }
                    worst = fmax(worst, fabs(dot) / sqrt(ni * nj));
                }
            best = fmin(best, worst);
        }
        PK_CHECK_CLOSE(eb, best, 1e-5, 0);
        free(V);
    }
    /* fitting C recovers a known constant exactly */
    double k[] = {100, 200, 400, 800}, d[] = {16, 16, 32, 32}, ep[4], rm;
    for (int i = 0; i < 4; i++)
        ep[i] = sqrt(1.29 * log(k[i] / d[i]) / d[i]);
    PK_CHECK_CLOSE(pk_capacity_fit_C(k, d, ep, 4, 1, &rm), 1.29, 1e-12, 0);
    PK_CHECK(rm < 1e-12);
    pk_err e;
    PK_CHECK(pk_packing_random(16, 1, 1, &r, &er, &e) == PK_EINVAL);
    PK_CHECK(pk_packing_optimize(16, 10, 10, 1, &r, &er, &e) == PK_EINVAL);
    /* MAPE: a perfect law is 0%, a cell the law predicts 0 (k <= d) counts 100% */
    double k2[] = {100, 200, 32}, d2[] = {16, 16, 64}, e2[3];
    for (int i = 0; i < 2; i++)
        e2[i] = sqrt(1.29 * log(k2[i] / d2[i]) / d2[i]);
    e2[2] = 0.5;
    PK_CHECK_CLOSE(pk_capacity_mape(k2, d2, e2, 2, 1, 1.29), 0, 1e-12, 0);
    PK_CHECK_CLOSE(pk_capacity_mape(k2, d2, e2, 3, 1, 1.29), 100.0 / 3, 1e-12, 0);
    /* the authors' exponent rule (optimized_packing_sweep.py) */
    PK_CHECK(pk_packing_power(32, 2000) == 11 && pk_packing_power(32, 6000) == 17);
    PK_CHECK(pk_packing_power(64, 4000) == 9 && pk_packing_power(4096, 8000) == 6);
    PK_CHECK(pk_packing_power(8, 100) == 19 && pk_packing_power(4, 100) == 20);
}

static void ev_line(const char *name, const double *v, size_t n, void *ctx)
{
    int *seen = ctx;
    if (!strcmp(name, "tail") && n == 3) {
        PK_CHECK_CLOSE(pk_cosine_log_tail((size_t)v[0], v[1]), v[2], 1e-10, 1e-10);
        seen[0]++;
    } else if (!strcmp(name, "predict") && n == 4) {
        PK_CHECK_CLOSE(pk_packing_random_predict((size_t)v[0], (size_t)v[1], (size_t)v[2]), v[3], 1e-9, 0);
        seen[1]++;
    }
}

static void torch_line(const char *name, const double *v, size_t n, void *ctx)
{
    int *seen = ctx;
    /* torch_packing d k steps p mean sd (8 seeds); only the small cell is rerun here */
    if (strcmp(name, "torch_packing") || n != 6 || v[0] != 16)
        return;
    enum { S = 8 };
    double e[S], m = 0, ss = 0;
    for (int i = 0; i < S; i++) {
        pk_rng r;
        pk_rng_seed(&r, 100 + (uint64_t)i);
        PK_CHECK_OK(pk_packing_optimize((size_t)v[0], (size_t)v[1], (size_t)v[2], (int)v[3], &r, &e[i], NULL));
        m += e[i] / S;
    }
    for (int i = 0; i < S; i++)
        ss += (e[i] - m) * (e[i] - m) / (S - 1);
    /* the same procedure as torch's, so the same distribution: means within 3 standard errors */
    double se = sqrt(ss / S + v[5] * v[5] / S);
    PK_CHECK_MSG(fabs(m - v[4]) < 3 * se, "optimised eps mean %g vs torch %g (se %g)", m, v[4], se);
    (*seen)++;
}

/* the extreme-value prediction of the random-packing measurement, against scipy
 * (tests/ref/metrics_capacity.py) and against the measurement itself */
static void test_random_prediction(void)
{
    int seen[2] = {0, 0};
    PK_CHECK(fixture_each("capacity_ev.txt", ev_line, seen) == 0);
    PK_CHECK(seen[0] == 7 && seen[1] == 5);
    PK_CHECK(isnan(pk_cosine_log_tail(1, 0.5)) && isnan(pk_cosine_log_tail(8, 1.5)));
    PK_CHECK(pk_cosine_log_tail(8, 0) == 0 && pk_cosine_log_tail(8, 1) == -INFINITY);
    PK_CHECK(isnan(pk_packing_random_predict(1, 10, 1)) && isnan(pk_packing_random_predict(8, 10, 0)));
    /* median of 9 measurements at d = 16, k = 300, T = 3: the prediction has no free constant */
    pk_rng r;
    pk_rng_seed(&r, 5);
    double m[9];
    for (int i = 0; i < 9; i++)
        PK_CHECK_OK(pk_packing_random(16, 300, 3, &r, &m[i], NULL));
    double med = pk_median(m, 9), p = pk_packing_random_predict(16, 300, 3);
    PK_CHECK_MSG(fabs(med / p - 1) < 0.03, "measured median %g vs predicted %g", med, p);
}

int main(void)
{
    test_anchors();
    test_cosine_stats();
    test_packings();
    test_random_prediction();
    int seen = 0;
    PK_CHECK(fixture_each("packing_torch.txt", torch_line, &seen) == 0);
    PK_CHECK(seen == 1);
    return pk_test_done();
}
