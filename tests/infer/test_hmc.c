/* HMC/NUTS recover known targets within Monte Carlo error; diagnostics
 * match closed forms on AR(1) chains. */
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/infer.h"

typedef struct gauss {
    size_t d;
    const double *mu, *sd;
} gauss;

static double lp_gauss(const double *x, double *g, void *user)
{
    const gauss *t = user;
    double lp = 0;
    for (size_t i = 0; i < t->d; i++) {
        double z = (x[i] - t->mu[i]) / t->sd[i];
        lp -= 0.5 * z * z;
        g[i] = -z / t->sd[i];
    }
    return lp;
}

/* Neal's funnel, non-centred: v ~ N(0, 3), z_i ~ N(0,1), x_i = exp(v/2) z_i. */
static double lp_funnel_nc(const double *x, double *g, void *user)
{
    size_t d = *(const size_t *)user;
    double lp = -x[0] * x[0] / 18.0;
    g[0] = -x[0] / 9.0;
    for (size_t i = 1; i < d; i++) {
        lp -= 0.5 * x[i] * x[i];
        g[i] = -x[i];
    }
    return lp;
}

/* Centred funnel: x_i ~ N(0, exp(v/2)): hard geometry, divergences expected. */
static double lp_funnel(const double *x, double *g, void *user)
{
    size_t d = *(const size_t *)user;
    double v = x[0], lp = -v * v / 18.0, s2 = exp(-v);
    g[0] = -v / 9.0;
    for (size_t i = 1; i < d; i++) {
        lp += -0.5 * x[i] * x[i] * s2 - 0.5 * v;
        g[0] += 0.5 * x[i] * x[i] * s2 - 0.5;
        g[i] = -x[i] * s2;
    }
    return lp;
}

static double lp_nan(const double *x, double *g, void *user)
{
    (void)x, (void)g, (void)user;
    return NAN;
}

static void check_gauss(size_t d, int nuts, double scale_lo, double scale_hi, size_t warm, size_t draws)
{
    double *mu = malloc(d * sizeof *mu), *sd = malloc(d * sizeof *sd);
    for (size_t i = 0; i < d; i++) {
        mu[i] = (double)i / (double)d - 0.5;
        sd[i] = scale_lo * pow(scale_hi / scale_lo, d > 1 ? (double)i / (double)(d - 1) : 0);
    }
    gauss t = {d, mu, sd};
    pk_infer_hmc_params p = pk_infer_hmc_params_default();
    p.nuts = nuts;
    p.warmup = warm;
    p.draws = draws;
    p.chains = 4;
    p.n_leapfrog = 20;
    pk_infer_draws *out;
    pk_err err;
    PK_CHECK_OK(pk_infer_hmc(lp_gauss, &t, d, NULL, &p, 123, &out, &err));
    int bad = 0;
    for (size_t i = 0; i < d; i++) {
        pk_infer_diag dg;
        PK_CHECK_OK(pk_infer_diag_compute(out->x + i, out->chains, out->draws, d, &dg));
        int ok = fabs(dg.mean - mu[i]) < 4 * dg.mcse_mean && dg.rhat < 1.05 && fabs(dg.sd / sd[i] - 1) < 0.15;
        if (!ok) {
            bad++;
            fprintf(stderr, "d=%zu nuts=%d coord %zu: mean %g (true %g, mcse %g) sd %g (true %g) rhat %g ess %g\n", d,
                    nuts, i, dg.mean, mu[i], dg.mcse_mean, dg.sd, sd[i], dg.rhat, dg.ess_bulk);
        }
    }
    PK_CHECK(bad <= (int)(d / 50)); /* 4-sigma bands: at most a rare miss on 100 coordinates */
    PK_CHECK(out->divergences == 0);
    fprintf(stderr, "gauss d=%zu nuts=%d: accept %.3f, step %.3g, grads %zu\n", d, nuts, out->accept_mean,
            out->step_size[0], out->grad_evals);
    pk_infer_draws_free(out);
    free(mu);
    free(sd);
}

static void test_diagnostics(void)
{
    enum { C = 4, N = 4000 };
    double *x = malloc(C * N * sizeof *x);
    pk_rng r;
    pk_rng_seed(&r, 2);
    double phi = 0.7;
    for (int c = 0; c < C; c++) {
        double v = pk_rng_normal(&r) / sqrt(1 - phi * phi);
        for (int i = 0; i < N; i++) {
            v = phi * v + pk_rng_normal(&r);
            x[c * N + i] = v;
        }
    }
    pk_infer_diag d;
    PK_CHECK_OK(pk_infer_diag_compute(x, C, N, 1, &d));
    double expect = C * N * (1 - phi) / (1 + phi);
    PK_CHECK_MSG(fabs(d.ess_bulk / expect - 1) < 0.15, "AR(1) bulk ESS %g, expected ~%g", d.ess_bulk, expect);
    PK_CHECK(d.rhat < 1.01);
    PK_CHECK(d.ess_tail > 0.3 * expect && d.ess_tail < 2 * expect);
    /* one chain shifted: R-hat must flag it */
    for (int i = 0; i < N; i++)
        x[i] += 3.0;
    PK_CHECK_OK(pk_infer_diag_compute(x, C, N, 1, &d));
    PK_CHECK(d.rhat > 1.1);
    PK_CHECK(pk_infer_diag_compute(x, C, 3, 1, &d) == PK_EINVAL);
    x[5] = NAN;
    PK_CHECK(pk_infer_diag_compute(x, C, N, 1, &d) == PK_EDOM);
    free(x);
}

int main(void)
{
    test_diagnostics();
    check_gauss(10, 1, 0.1, 10, 1000, 1000);
    check_gauss(10, 0, 0.5, 2, 1000, 1000);
    check_gauss(100, 1, 0.01, 10, 1000, 1000);

    size_t d = 10;
    pk_infer_hmc_params p = pk_infer_hmc_params_default();
    pk_infer_draws *out;
    pk_err err;
    PK_CHECK_OK(pk_infer_hmc(lp_funnel_nc, &d, d, NULL, &p, 7, &out, &err));
    pk_infer_diag dg;
    PK_CHECK_OK(pk_infer_diag_compute(out->x, out->chains, out->draws, d, &dg));
    PK_CHECK_MSG(fabs(dg.mean) < 4 * dg.mcse_mean && fabs(dg.sd / 3 - 1) < 0.1, "funnel v: mean %g sd %g", dg.mean,
                 dg.sd);
    PK_CHECK(out->divergences == 0);
    pk_infer_draws_free(out);
    PK_CHECK_OK(pk_infer_hmc(lp_funnel, &d, d, NULL, &p, 7, &out, &err));
    fprintf(stderr, "centred funnel: %zu divergences reported\n", out->divergences);
    PK_CHECK(out->divergences > 0); /* the hard geometry must be reported, not hidden */
    pk_infer_draws_free(out);

    PK_CHECK(pk_infer_hmc(lp_nan, &d, d, NULL, &p, 7, &out, &err) == PK_EDOM && out == NULL);
    p.target_accept = 1.5;
    PK_CHECK(pk_infer_hmc(lp_funnel, &d, d, NULL, &p, 7, &out, &err) == PK_EINVAL);
    return pk_test_done();
}
