/* Test models with exact answers, shared by the infer tests. */
#ifndef PK_TEST_INFER_MODELS_H
#define PK_TEST_INFER_MODELS_H

#include <gsl/gsl_sf_gamma.h>
#include <math.h>

#include "probkit/infer.h"

/* Beta(2,3) prior, Bernoulli observations. Posterior Beta(2+s, 3+f). */
typedef struct bb_data {
    int n;
    const int *y;
} bb_data;

static void beta_bernoulli(pk_ctx *ctx, const void *data, double *out)
{
    const bb_data *d = data;
    double p = pk_sample(ctx, pk_beta(2, 3));
    out[0] = p;
    for (int i = 0; i < d->n; i++)
        pk_observe(ctx, pk_bernoulli(p), d->y[i]);
}

static double bb_log_z(const bb_data *d)
{
    int s = 0;
    for (int i = 0; i < d->n; i++)
        s += d->y[i];
    return gsl_sf_lnbeta(2 + s, 3 + d->n - s) - gsl_sf_lnbeta(2, 3);
}

/* mu ~ N(0, 1), y_i ~ N(mu, 1). Posterior N(sum y/(n+1), 1/(n+1)). */
typedef struct nn_data {
    int n;
    const double *y;
} nn_data;

static void normal_normal(pk_ctx *ctx, const void *data, double *out)
{
    const nn_data *d = data;
    double mu = pk_sample(ctx, pk_normal(0, 1));
    out[0] = mu;
    for (int i = 0; i < d->n; i++)
        pk_observe(ctx, pk_normal(mu, 1), d->y[i]);
}

static double nn_log_z(const nn_data *d)
{
    /* y ~ N(0, I + 11^T): log density by the matrix determinant lemma */
    double s = 0, s2 = 0;
    for (int i = 0; i < d->n; i++) {
        s += d->y[i];
        s2 += d->y[i] * d->y[i];
    }
    double n = d->n, quad = s2 - s * s / (1 + n);
    return -0.5 * n * log(2 * M_PI) - 0.5 * log(1 + n) - 0.5 * quad;
}

/* The monad-bayes HMM: 3 states with means -1, 0, 1, emission sd 1, sticky
 * transitions; out[t*3 + k] = 1 if state t is k. */
#define HMM_T 16
static const double hmm_trans[3][3] = {{0.8, 0.1, 0.1}, {0.1, 0.8, 0.1}, {0.1, 0.1, 0.8}};
static const double hmm_init[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3};
static const double hmm_obs[HMM_T] = {0.9, 0.8, 0.7, 0, -0.025, -5, -2, -0.1, 0, 0.13, 0.45, 6, 0.2, 0.3, -1, -1};

static void hmm_model(pk_ctx *ctx, const void *data, double *out)
{
    (void)data;
    int s = (int)pk_sample(ctx, pk_categorical(hmm_init, 3));
    for (int t = 0; t < HMM_T; t++) {
        if (t > 0)
            s = (int)pk_sample(ctx, pk_categorical(hmm_trans[s], 3));
        for (int k = 0; k < 3; k++)
            out[t * 3 + k] = s == k;
        pk_observe(ctx, pk_normal(s - 1.0, 1.0), hmm_obs[t]);
    }
}

/* Forward-backward: smoothing marginals post[t][k] and log Z. */
static double hmm_exact(double post[HMM_T][3])
{
    double a[HMM_T][3], b[HMM_T][3], c[HMM_T];
    for (int t = 0; t < HMM_T; t++) {
        double s = 0;
        for (int k = 0; k < 3; k++) {
            double prior = 0;
            if (t == 0)
                prior = hmm_init[k];
            else
                for (int j = 0; j < 3; j++)
                    prior += a[t - 1][j] * hmm_trans[j][k];
            double e = exp(-0.5 * pow(hmm_obs[t] - (k - 1.0), 2)) / sqrt(2 * M_PI);
            a[t][k] = prior * e;
            s += a[t][k];
        }
        c[t] = s;
        for (int k = 0; k < 3; k++)
            a[t][k] /= s;
    }
    for (int k = 0; k < 3; k++)
        b[HMM_T - 1][k] = 1;
    for (int t = HMM_T - 2; t >= 0; t--)
        for (int j = 0; j < 3; j++) {
            double s = 0;
            for (int k = 0; k < 3; k++)
                s += hmm_trans[j][k] * exp(-0.5 * pow(hmm_obs[t + 1] - (k - 1.0), 2)) / sqrt(2 * M_PI) *
                     b[t + 1][k];
            b[t][j] = s / c[t + 1];
        }
    double lz = 0;
    for (int t = 0; t < HMM_T; t++) {
        lz += log(c[t]);
        double s = 0;
        for (int k = 0; k < 3; k++)
            s += post[t][k] = a[t][k] * b[t][k];
        for (int k = 0; k < 3; k++)
            post[t][k] /= s;
    }
    return lz;
}

/* Sprinkler network: P(rain | grass wet), exact = 0.3577 (computed by hand below). */
static void sprinkler(pk_ctx *ctx, const void *data, double *out)
{
    (void)data;
    int cloudy = (int)pk_sample(ctx, pk_bernoulli(0.5));
    int rain = (int)pk_sample(ctx, pk_bernoulli(cloudy ? 0.8 : 0.2));
    int sprinkler_on = (int)pk_sample(ctx, pk_bernoulli(cloudy ? 0.1 : 0.5));
    double pwet = rain && sprinkler_on ? 0.99 : rain || sprinkler_on ? 0.9 : 0.0;
    out[0] = rain;
    pk_observe(ctx, pk_bernoulli(pwet), 1);
}

#endif
