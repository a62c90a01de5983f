/* NUTS on the eight-schools model (non-centred): write the log-density and its
 * gradient, hand it to pk_infer_hmc, read the diagnostics.
 *   cc infer_eight_schools.c $(pkg-config --cflags --libs probkit) -lm -o infer_eight_schools */
#include <math.h>
#include <probkit/infer.h>
#include <stdio.h>

static const double y[8] = {28, 8, -3, 7, -1, 1, 18, 12}, s[8] = {15, 10, 16, 11, 9, 11, 10, 18};

/* theta = (mu, log tau, eta[8]); mu ~ N(0,5), tau ~ half-Cauchy(0,5), eta ~ N(0,1) */
static double logp(const double *x, double *g, void *user)
{
    (void)user;
    double mu = x[0], tau = exp(x[1]);
    double lp = -mu * mu / 50 - log1p(tau * tau / 25) + x[1];
    g[0] = -mu / 25;
    g[1] = -2 * tau * tau / 25 / (1 + tau * tau / 25) + 1;
    for (int j = 0; j < 8; j++) {
        double eta = x[2 + j], r = (y[j] - mu - tau * eta) / (s[j] * s[j]);
        lp += -0.5 * eta * eta - 0.5 * r * r * s[j] * s[j];
        g[0] += r;
        g[1] += r * tau * eta;
        g[2 + j] = -eta + r * tau;
    }
    return lp;
}

int main(void)
{
    pk_infer_hmc_params p = pk_infer_hmc_params_default();
    pk_infer_draws *d;
    pk_err err;
    if (pk_infer_hmc(logp, NULL, 10, NULL, &p, 42, &d, &err)) {
        fprintf(stderr, "infer_eight_schools: %s\n", err.msg);
        return 1;
    }
    const char *names[2] = {"mu", "log tau"};
    for (int j = 0; j < 2; j++) {
        pk_infer_diag dg;
        pk_infer_diag_compute(d->x + j, d->chains, d->draws, d->dim, &dg);
        printf("%-8s mean %6.2f  sd %5.2f  ess_bulk %5.0f  rhat %.3f\n", names[j], dg.mean, dg.sd, dg.ess_bulk, dg.rhat);
    }
    printf("%zu divergent transitions\n", d->divergences);
    pk_infer_draws_free(d);
    return 0;
}
