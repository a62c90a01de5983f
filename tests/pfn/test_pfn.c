/* PFN: the bar distribution is a density, the exact GP reference agrees with
 * closed forms, the network respects the set structure of the data (order of
 * training points, independence of query points), checkpoints round-trip,
 * and prior-fitting learns. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_test.h"
#include "probkit/pfn.h"

static void test_bar(void)
{
    enum { NB = 12 };
    double borders[NB + 1], logp[NB];
    pk_rng rng;
    pk_rng_seed(&rng, 7);
    borders[0] = -2.0;
    for (int b = 1; b <= NB; b++)
        borders[b] = borders[b - 1] + 0.1 + pk_rng_uniform(&rng);
    double s = 0;
    for (int b = 0; b < NB; b++)
        s += (logp[b] = exp(pk_rng_normal(&rng)));
    for (int b = 0; b < NB; b++)
        logp[b] = log(logp[b] / s);
    /* integrate density, y and y^2 by the midpoint rule on each bucket's own
     * interval (the density jumps at the borders), tails 40 units deep */
    double m0 = 0, m1 = 0, m2 = 0;
    for (int b = 0; b < NB; b++) {
        double lo = b == 0 ? borders[1] - 40 : borders[b], hi = b == NB - 1 ? borders[NB - 1] + 40 : borders[b + 1];
        int K = 200000;
        double h = (hi - lo) / K;
        for (int k = 0; k < K; k++) {
            double y = lo + (k + 0.5) * h, p = exp(pk_pfn_bar_logpdf(borders, NB, logp, y));
            m0 += p * h, m1 += p * y * h, m2 += p * y * y * h;
        }
    }
    double mean, var;
    pk_pfn_bar_moments(borders, NB, logp, &mean, &var);
    PK_CHECK_CLOSE(m0, 1.0, 1e-6, 0);
    PK_CHECK_CLOSE(m1, mean, 1e-6, 1e-6);
    PK_CHECK_CLOSE(m2 - m1 * m1, var, 1e-5, 1e-5);
    /* CDF against the integrated density at every border, and the quantile inverts it */
    double acc = 0;
    for (int b = 0; b < NB; b++) {
        acc += exp(logp[b]);
        if (b < NB - 1)
            PK_CHECK_CLOSE(pk_pfn_bar_cdf(borders, NB, logp, borders[b + 1]), acc, 1e-12, 0);
    }
    for (double u = 0.01; u < 1; u += 0.07)
        PK_CHECK_CLOSE(pk_pfn_bar_cdf(borders, NB, logp, pk_pfn_bar_quantile(borders, NB, logp, u)), u, 1e-9, 0);
    /* buckets partition the line */
    PK_CHECK(pk_pfn_bar_bucket(borders, NB, -1e300) == 0);
    PK_CHECK(pk_pfn_bar_bucket(borders, NB, 1e300) == NB - 1);
    PK_CHECK(pk_pfn_bar_bucket(borders, NB, NAN) == 0);
    for (int b = 1; b < NB - 1; b++) {
        PK_CHECK(pk_pfn_bar_bucket(borders, NB, borders[b]) == b);
        PK_CHECK(pk_pfn_bar_bucket(borders, NB, 0.5 * (borders[b] + borders[b + 1])) == b);
    }
}

static void test_gp_reference(void)
{
    pk_pfn_hyper h = {0.3, 1.5, 0.1};
    double X[1] = {0.2}, y[1] = {0.7}, Xq[2] = {0.2, 0.6}, mean[2], var[2], lml;
    PK_CHECK_OK(pk_pfn_gp_predict(&h, 1, X, y, 1, Xq, 2, mean, var, NULL));
    double v0 = h.outputscale + h.noise;
    for (int q = 0; q < 2; q++) {
        double d = Xq[q] - X[0], k = h.outputscale * exp(-0.5 * d * d / (h.lengthscale * h.lengthscale));
        PK_CHECK_CLOSE(mean[q], k / v0 * y[0], 1e-12, 1e-12);
        PK_CHECK_CLOSE(var[q], v0 - k * k / v0, 1e-12, 1e-12);
    }
    PK_CHECK_OK(pk_pfn_gp_log_marginal(&h, 1, X, y, 1, &lml, NULL));
    PK_CHECK_CLOSE(lml, -0.5 * y[0] * y[0] / v0 - 0.5 * log(2 * M_PI * v0), 1e-12, 1e-12);
    /* prior draws have the prior's marginal variance */
    pk_pfn_prior pr = pk_pfn_prior_default(2);
    pk_rng rng;
    pk_rng_seed(&rng, 3);
    double Xs[8 * 2], ys[8], ss = 0;
    int N = 4000;
    for (int r = 0; r < N; r++) {
        PK_CHECK_OK(pk_pfn_prior_sample(&pr, 8, &rng, Xs, ys, NULL, NULL));
        ss += ys[r % 8] * ys[r % 8];
    }
    double want = pr.outputscale + pr.noise, se = want * sqrt(2.0 / N);
    PK_CHECK_MSG(fabs(ss / N - want) < 5 * se, "prior variance %g vs %g", ss / N, want);
    pk_err err;
    pr.lengthscale = -1;
    PK_CHECK(pk_pfn_prior_sample(&pr, 8, &rng, Xs, ys, NULL, &err) == PK_EINVAL);
}

static pk_pfn *small_model(int dim, int mlp_x, pk_rng *rng)
{
    pk_pfn_prior pr = pk_pfn_prior_default(dim);
    pk_pfn_config c = {dim, 32, 2, 4, 32, mlp_x};
    double borders[33];
    pk_pfn *m = NULL;
    if (pk_pfn_borders_from_prior(&pr, 32, 20000, rng, borders, NULL) || pk_pfn_new(&c, borders, rng, &m, NULL))
        return NULL;
    return m;
}

static void test_structure(int mlp_x)
{
    pk_rng rng;
    pk_rng_seed(&rng, 11);
    pk_pfn *m = small_model(2, mlp_x, &rng);
    PK_CHECK(m != NULL);
    if (!m)
        return;
    enum { N = 9, Q = 4 };
    double X[N * 2], y[N], Xq[Q * 2], Xp[N * 2], yp[N], lp1[Q * 32], lp2[Q * 32], lp3[32], mean[Q], var[Q];
    for (int i = 0; i < N * 2; i++)
        X[i] = pk_rng_uniform(&rng);
    for (int i = 0; i < N; i++)
        y[i] = pk_rng_normal(&rng);
    for (int i = 0; i < Q * 2; i++)
        Xq[i] = pk_rng_uniform(&rng);
    PK_CHECK_OK(pk_pfn_predict(m, X, y, N, Xq, Q, NULL, NULL, mean, var, lp1, NULL));
    /* a reversed training set gives the same PPD */
    for (int i = 0; i < N; i++) {
        yp[i] = y[N - 1 - i];
        Xp[2 * i] = X[2 * (N - 1 - i)], Xp[2 * i + 1] = X[2 * (N - 1 - i) + 1];
    }
    PK_CHECK_OK(pk_pfn_predict(m, Xp, yp, N, Xq, Q, NULL, NULL, NULL, NULL, lp2, NULL));
    double dmax = 0;
    for (int i = 0; i < Q * 32; i++)
        dmax = fmax(dmax, fabs(lp1[i] - lp2[i]));
    PK_CHECK_MSG(dmax < 1e-4, "permuting training points changed the PPD by %g", dmax);
    /* a query's PPD does not depend on the other queries */
    PK_CHECK_OK(pk_pfn_predict(m, X, y, N, Xq + 2 * 2, 1, NULL, NULL, NULL, NULL, lp3, NULL));
    dmax = 0;
    for (int b = 0; b < 32; b++)
        dmax = fmax(dmax, fabs(lp3[b] - lp1[2 * 32 + b]));
    PK_CHECK_MSG(dmax < 1e-4, "other queries changed a query's PPD by %g", dmax);
    /* no training points: the (learned) prior predictive, still normalised */
    PK_CHECK_OK(pk_pfn_predict(m, NULL, NULL, 0, Xq, Q, NULL, NULL, NULL, NULL, lp1, NULL));
    double s = 0;
    for (int b = 0; b < 32; b++)
        s += exp(lp1[b]);
    PK_CHECK_CLOSE(s, 1.0, 1e-9, 0);
    /* bad input */
    pk_err err;
    double bad = NAN;
    y[3] = bad;
    PK_CHECK(pk_pfn_predict(m, X, y, N, Xq, Q, NULL, NULL, mean, var, NULL, &err) == PK_EDOM);
    PK_CHECK(strstr(err.msg, "y[3]") != NULL);
    y[3] = 0.0;
    /* checkpoint round trip */
    char path[] = "/tmp/pk_pfn_testXXXXXX";
    int fd = mkstemp(path);
    PK_CHECK(fd >= 0);
    if (fd >= 0) {
        pk_pfn *m2 = NULL;
        PK_CHECK_OK(pk_pfn_save(m, path, NULL));
        PK_CHECK_OK(pk_pfn_load(path, &m2, NULL));
        if (m2) {
            PK_CHECK_OK(pk_pfn_predict(m, X, y, N, Xq, Q, NULL, NULL, NULL, NULL, lp1, NULL));
            PK_CHECK_OK(pk_pfn_predict(m2, X, y, N, Xq, Q, NULL, NULL, NULL, NULL, lp2, NULL));
            PK_CHECK(memcmp(lp1, lp2, sizeof lp1) == 0);
            PK_CHECK(pk_pfn_borders(m2)[17] == pk_pfn_borders(m)[17]);
        }
        pk_pfn_free(m2);
        FILE *f = fopen(path, "wb");
        if (f) {
            fputs("not a model", f);
            fclose(f);
        }
        PK_CHECK(pk_pfn_load(path, &m2, &err) != PK_OK && m2 == NULL);
        remove(path);
    }
    pk_pfn_free(m);
}

/* A few hundred steps must take the loss well below the uniform-bucket start
 * and below the prior marginal's entropy: the network uses the context. */
static void test_learns(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 5);
    pk_pfn *m = small_model(1, 1, &rng);
    PK_CHECK(m != NULL);
    if (!m)
        return;
    pk_pfn_prior pr = pk_pfn_prior_default(1);
    pk_pfn_train_params tp = pk_pfn_train_params_default();
    tp.steps = 400;
    tp.batch = 16;
    tp.n_points = 20;
    tp.lr = 3e-3;
    double loss = NAN;
    PK_CHECK_OK(pk_pfn_train(m, &pr, &tp, &rng, NULL, NULL, &loss, NULL));
    /* entropy of N(0, 1.01), the PPD with no data */
    double h0 = 0.5 * log(2 * M_PI * M_E * (pr.outputscale + pr.noise));
    PK_CHECK_MSG(loss < h0 - 0.3, "trained loss %g vs prior entropy %g", loss, h0);
    pk_pfn_free(m);
}

int main(void)
{
    test_bar();
    test_gp_reference();
    test_structure(0);
    test_structure(1);
    test_learns();
    return pk_test_done();
}
