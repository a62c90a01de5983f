/* weibull — "A Two-Parameter Weibull Framework for Diagnosing Transformer Weight
 * Distributions": the protocol's initialisation anchors and class separation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "probkit/metrics.h"
#include "repro.h"

/* The protocol applied to the exact half-normal CDF of scale sigma (the infinite-sample
 * limit): counts proportional to each bin's probability mass. */
static void exact_limit(double sigma, double *k, double *lambda)
{
    static uint64_t c[PK_WEIBULL_NBINS];
    double prev = 0;
    for (size_t b = 0; b < PK_WEIBULL_NBINS; b++) {
        double x = pow(10, PK_WEIBULL_LOG10_LO + (double)(b + 1) * (PK_WEIBULL_LOG10_HI - PK_WEIBULL_LOG10_LO) /
                                                    PK_WEIBULL_NBINS);
        double F = b + 1 == PK_WEIBULL_NBINS ? 1.0 : erf(x / (sigma * M_SQRT2));
        c[b] = (uint64_t)llround((F - prev) * 1e15);
        prev = F;
    }
    pk_weibull_fit f;
    *k = *lambda = NAN;
    if (pk_weibull_fit_hist(c, &f, NULL) == PK_OK) {
        *k = f.k;
        *lambda = f.lambda;
    }
}

static int run(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    size_t n = quick ? (size_t)1 << 20 : (size_t)1 << 24;
    pk_rng r;
    pk_rng_seed(&r, pk_repro_seed(ctx));
    double *w = malloc(n * sizeof *w);
    if (!w)
        return PK_ENOMEM;
    char scale[96];
    snprintf(scale, sizeof scale, "%zu i.i.d. values, 1024-bin protocol", n);
    pk_weibull_fit f;
    const double sigmas[] = {1.0, 0.02, 0.006};
    for (int s = 0; s < 3; s++) {
        for (size_t i = 0; i < n; i++)
            w[i] = sigmas[s] * pk_rng_normal(&r);
        int st = pk_weibull_fit_values(w, n, &f, NULL);
        if (st) {
            free(w);
            return st;
        }
        char m[96];
        double kx, lx;
        exact_limit(sigmas[s], &kx, &lx);
        snprintf(m, sizeof m, "Gaussian init k (sigma = %g)", sigmas[s]);
        pk_repro_row(ctx, m, f.k, 1.2054, kx, "protocol on the exact CDF", scale,
                     fabs(f.k - 1.2054) <= 0.005 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
        snprintf(m, sizeof m, "Gaussian init lambda / sigma (sigma = %g)", sigmas[s]);
        pk_repro_row(ctx, m, f.lambda / sigmas[s], 0.8875, lx / sigmas[s], "protocol on the exact CDF", scale,
                     fabs(f.lambda / sigmas[s] - 0.8875) <= 0.005 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    }
    for (size_t i = 0; i < n; i++)
        w[i] = 0.05 * (2 * pk_rng_uniform(&r) - 1);
    pk_weibull_fit_values(w, n, &f, NULL);
    /* no tolerance was given for this one; the protocol's own limit is 1.378-1.382 (see note) */
    pk_repro_row(ctx, "uniform init k", f.k, 1.370, NAN, NULL, scale, PK_VERDICT_INFO);
    /* Selection-like tensors: a heavy-tailed mixture (a few large entries among small
     * ones) gives k below 1, as the paper reports for separately stored W_q / W_k. */
    for (size_t i = 0; i < n; i++)
        w[i] = pk_rng_normal(&r) * (pk_rng_uniform(&r) < 0.1 ? 0.08 : 0.01);
    pk_weibull_fit_values(w, n, &f, NULL);
    pk_repro_row(ctx, "Gaussian scale mixture (10% x8) k", f.k, NAN, NAN, NULL, scale, PK_VERDICT_INFO);
    pk_repro_note(ctx, "class of that mixture: %s (k = %.4f). The peer column applies the protocol to the exact "
                       "half-normal CDF (the infinite-sample limit): it gives k = 1.2054, lambda = 0.8873 sigma at "
                       "sigma = 1 (the paper's anchor) and 1.2054-1.2077 for other sigmas, because the fixed log10 "
                       "bin grid meets the distribution at a different phase. The uniform figure of "
                       "the protocol's limit is 1.378-1.382 depending on bin alignment (continuous limit 1.375), "
                       "a little above the ~1.37 quoted.",
                  pk_weibull_class(f.k), f.k);
    double k, l;
    for (size_t i = 0; i < 200000; i++)
        w[i] = 0.02 * pk_rng_normal(&r);
    if (pk_weibull_mle(w, 200000, &k, &l, NULL) == PK_OK)
        pk_repro_row(ctx, "ML fit k of Gaussian weights (different estimator)", k, NAN, NAN, NULL,
                     "200000 values; checked against scipy weibull_min.fit in the tests", PK_VERDICT_INFO);
    pk_repro_note(ctx, "Real checkpoints (Pythia, OLMo, ...) are not shipped here: run `probkit weights "
                       "model.safetensors` on one to get the per-tensor table.");
    free(w);
    return PK_OK;
}

const pk_repro pk_repro_weibull = {"weibull", PK_REPRO_PARTIAL,
                                   "Weibull k / lambda anchors of the 1024-bin probability-plot protocol", run};
