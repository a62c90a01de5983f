/* Slice sampling, SGLD/SGHMC and PMMH against exact posteriors. */
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/infer.h"

static double lp_corr(const double *x, void *user)
{
    (void)user;
    double r = 0.9, q = (x[0] * x[0] - 2 * r * x[0] * x[1] + x[1] * x[1]) / (1 - r * r);
    return -0.5 * q;
}

typedef struct gdata {
    size_t n;
    double *y;
} gdata;

static void gauss_lik_grad(const double *th, const size_t *idx, size_t b, double *g, void *user)
{
    const gdata *d = user;
    for (size_t i = 0; i < b; i++)
        g[0] += d->y[idx[i]] - th[0];
}

static void gauss_prior_grad(const double *th, double *g, void *user)
{
    (void)user;
    g[0] += -th[0] / 100.0;
}

/* HMM with an unknown emission offset mu: y_t ~ N(s_t - 1 + mu, 1). */
#define T 40
static const double P[3][3] = {{0.8, 0.1, 0.1}, {0.1, 0.8, 0.1}, {0.1, 0.1, 0.8}};
static const double P0[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3};
typedef struct hmm_mu {
    double y[T];
    double mu;
} hmm_mu;

static void h_init(pk_ctx *ctx, const void *data, void *state, double *out)
{
    (void)ctx, (void)data, (void)out;
    *(int *)state = -1;
}

static void h_step(pk_ctx *ctx, const void *data, size_t t, void *state, double *out)
{
    const hmm_mu *h = data;
    int *s = state;
    (void)out;
    *s = (int)pk_sample(ctx, pk_categorical(t == 0 ? P0 : P[*s], 3));
    pk_observe(ctx, pk_normal(*s - 1.0 + h->mu, 1.0), h->y[t]);
}

static int make(const double *theta, void *user, pk_ssm *m)
{
    hmm_mu *h = user;
    h->mu = theta[0];
    *m = (pk_ssm){sizeof(int), T, 0, h_init, h_step, h};
    return PK_OK;
}

static double mu_prior(const double *theta, void *user)
{
    (void)user;
    return -0.5 * theta[0] * theta[0];
}

static double hmm_loglik(const double *y, double mu)
{
    double a[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3}, lz = 0;
    for (int t = 0; t < T; t++) {
        double b[3], s = 0;
        for (int k = 0; k < 3; k++) {
            double pr = 0;
            if (t == 0)
                pr = a[k];
            else
                for (int j = 0; j < 3; j++)
                    pr += a[j] * P[j][k];
            b[k] = pr * exp(-0.5 * pow(y[t] - (k - 1.0 + mu), 2)) / sqrt(2 * M_PI);
            s += b[k];
        }
        for (int k = 0; k < 3; k++)
            a[k] = b[k] / s;
        lz += log(s);
    }
    return lz;
}

int main(void)
{
    pk_rng r;
    pk_rng_seed(&r, 8);
    pk_err err;

    /* slice sampling a correlated Gaussian */
    enum { NS = 20000 };
    double *s = malloc(NS * 2 * sizeof *s), init[2] = {3, -3};
    PK_CHECK_OK(pk_infer_slice(lp_corr, NULL, 2, init, NS, 1.0, &r, s, &err));
    for (int j = 0; j < 2; j++) {
        double m, v, ess = pk_infer_ess_basic(s + 2000 * 2 + j, NS - 2000, 2);
        double sum = 0, sq = 0;
        for (int i = 2000; i < NS; i++)
            sum += s[i * 2 + j], sq += s[i * 2 + j] * s[i * 2 + j];
        m = sum / (NS - 2000);
        v = sq / (NS - 2000) - m * m;
        PK_CHECK_MSG(fabs(m) < 4 * sqrt(1.0 / ess), "slice mean %g (ess %g)", m, ess);
        PK_CHECK_MSG(fabs(v - 1) < 0.1, "slice var %g", v);
    }
    double bad_init[2] = {NAN, 0};
    PK_CHECK(pk_infer_slice(lp_corr, NULL, 2, bad_init, 10, 1.0, &r, s, &err) == PK_EDOM);
    free(s);

    /* SGLD and SGHMC on a Gaussian mean with N = 1000 */
    gdata d = {1000, malloc(1000 * sizeof(double))};
    double ybar = 0;
    for (size_t i = 0; i < d.n; i++)
        ybar += d.y[i] = 1.5 + pk_rng_normal(&r);
    ybar /= (double)d.n;
    double post_var = 1.0 / (1000.0 + 0.01), post_mean = post_var * 1000 * ybar;
    for (int method = 0; method < 2; method++) {
        pk_infer_sgmcmc_params p = pk_infer_sgmcmc_params_default();
        p.n_data = 1000;
        p.batch = 50;
        p.iters = 40000;
        p.burn = 5000;
        /* Minibatch noise inflates the stationary variance by about
         * eps N^2 var(y) / (4 b) relative to eps (SGLD) and eta B / (2 alpha)
         * (SGHMC); these steps keep it near 10%. */
        p.step = method ? 1e-6 : 2e-5;
        p.friction = method ? 0.1 : 0.0;
        double th0 = 0, *draws;
        size_t nd;
        PK_CHECK_OK(pk_infer_sgmcmc(gauss_lik_grad, gauss_prior_grad, &d, 1, &th0, &p, &r, &draws, &nd, &err));
        double m, v;
        pk_mean_var(draws, nd, &m, &v);
        PK_CHECK_MSG(fabs(m - post_mean) < 0.25 * sqrt(post_var), "%s mean %g vs %g", method ? "SGHMC" : "SGLD", m,
                     post_mean);
        PK_CHECK_MSG(fabs(v / post_var - 1) < 0.25, "%s var %g vs %g", method ? "SGHMC" : "SGLD", v, post_var);
        free(draws);
        p.batch = 5000;
        PK_CHECK(pk_infer_sgmcmc(gauss_lik_grad, NULL, &d, 1, &th0, &p, &r, &draws, &nd, &err) == PK_EINVAL);
    }
    free(d.y);

    /* PMMH against the exact posterior of mu (grid over the forward likelihood) */
    hmm_mu h;
    int st = 0;
    for (int t = 0; t < T; t++) {
        if (t)
            st = (int)pk_rng_categorical(&r, P[st], 3);
        else
            st = (int)pk_rng_below(&r, 3);
        h.y[t] = st - 1.0 + 0.7 + pk_rng_normal(&r);
    }
    double num = 0, den = 0, lmax = -INFINITY;
    enum { G = 4001 };
    static double lw[G];
    for (int g = 0; g < G; g++) {
        double mu = -3 + 6.0 * g / (G - 1);
        lw[g] = hmm_loglik(h.y, mu) - 0.5 * mu * mu;
        lmax = fmax(lmax, lw[g]);
    }
    for (int g = 0; g < G; g++) {
        double mu = -3 + 6.0 * g / (G - 1), w = exp(lw[g] - lmax);
        num += w * mu;
        den += w;
    }
    double exact = num / den;
    enum { STEPS = 3000 };
    double *pm = malloc(STEPS * sizeof *pm), i0 = 0, sd = 0.3, acc;
    PK_CHECK_OK(pk_infer_pmmh(1, mu_prior, make, &h, &i0, &sd, STEPS, 100, &r, pm, &acc, &err));
    double m, v;
    pk_mean_var(pm + 500, STEPS - 500, &m, &v);
    double ess = pk_infer_ess_basic(pm + 500, STEPS - 500, 1);
    PK_CHECK_MSG(fabs(m - exact) < 4 * sqrt(v / ess), "PMMH mean %g vs exact %g (mcse %g, acc %g)", m, exact,
                 sqrt(v / ess), acc);
    PK_CHECK(acc > 0.1 && acc < 0.9);
    free(pm);
    return pk_test_done();
}
