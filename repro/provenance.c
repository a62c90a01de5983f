/* provenance — palimpsestic membership inference: the Spearman order test on a
 * simulated memorisation signal, its null calibration and its power. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "probkit/metrics.h"
#include "repro.h"

/* Per-example losses of a model that memorised late examples a little more:
 * loss_i = difficulty_i + noise_i - beta * position_i / n.  The reference
 * model shares difficulty but saw no order. */
static void simulate(pk_rng *r, size_t n, double beta, double *order, double *loss, double *ref)
{
    for (size_t i = 0; i < n; i++) {
        double diff = 2.0 + pk_rng_normal(r);
        order[i] = (double)i;
        loss[i] = diff + 0.3 * pk_rng_normal(r) - beta * (double)i / (double)n;
        ref[i] = diff + 0.3 * pk_rng_normal(r);
    }
}

static int run(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    pk_rng r;
    pk_rng_seed(&r, pk_repro_seed(ctx));
    size_t n = quick ? 2000 : 20000, sims = quick ? 1000 : 5000;
    double *o = malloc(n * sizeof *o), *l = malloc(n * sizeof *l), *f = malloc(n * sizeof *f),
           *s = malloc(n * sizeof *s);
    if (!o || !l || !f || !s) {
        free(o);
        free(l);
        free(f);
        free(s);
        return PK_ENOMEM;
    }
    /* null: an independent model (beta = 0) */
    size_t rej = 0, rejref = 0;
    for (size_t k = 0; k < sims; k++) {
        simulate(&r, n, 0.0, o, l, f);
        pk_spearman_result res;
        for (size_t i = 0; i < n; i++)
            s[i] = -l[i];
        pk_spearman(o, s, n, &res, NULL);
        rej += res.log10_p_one < log10(0.05);
        for (size_t i = 0; i < n; i++)
            s[i] = f[i] - l[i];
        pk_spearman(o, s, n, &res, NULL);
        rejref += res.log10_p_one < log10(0.05);
    }
    char scale[96];
    snprintf(scale, sizeof scale, "%zu simulations of n = %zu examples", sims, n);
    pk_repro_row(ctx, "null rejection rate at alpha = 0.05 (-loss)", (double)rej / (double)sims, 0.05, NAN, NULL,
                 scale, pk_verdict_le((double)rej / (double)sims, 0.07));
    pk_repro_row(ctx, "null rejection rate at alpha = 0.05 (ref - loss)", (double)rejref / (double)sims, 0.05, NAN,
                 NULL, scale, pk_verdict_le((double)rejref / (double)sims, 0.07));
    /* evidence for a derived model: beta = 0.1 (a 5% loss difference across the run) */
    size_t nbig = quick ? 100000 : 1000000;
    double *O = malloc(nbig * sizeof *O), *L = malloc(nbig * sizeof *L), *F = malloc(nbig * sizeof *F);
    if (O && L && F) {
        simulate(&r, nbig, 0.1, O, L, F);
        pk_spearman_result a, b;
        for (size_t i = 0; i < nbig; i++)
            F[i] -= L[i];
        for (size_t i = 0; i < nbig; i++)
            L[i] = -L[i];
        pk_spearman(O, L, nbig, &a, NULL);
        pk_spearman(O, F, nbig, &b, NULL);
        snprintf(scale, sizeof scale, "n = %zu, beta = 0.1, loss sd 1.04", nbig);
        pk_repro_row(ctx, "log10 p, suspect loss only", a.log10_p_one, NAN, NAN, NULL, scale, PK_VERDICT_INFO);
        pk_repro_row(ctx, "log10 p, reference-normalised", b.log10_p_one, -8, NAN, NULL, scale,
                     pk_verdict_le(b.log10_p_one, -8));
        pk_repro_note(ctx, "The paper reaches p <= 1e-8 for all but six of 40+ fine-tunes. Here a simulated "
                           "derived model with a 0.1-nat memorisation gradient over the run gives log10 p = %.1f "
                           "with the reference model (rho = %.4f) and %.1f without (rho = %.4f): p-values are "
                           "computed in log space, so they stay exact below 1e-308.",
                      b.log10_p_one, b.rho, a.log10_p_one, a.rho);
    }
    free(O);
    free(L);
    free(F);
    /* exact permutation p for a tiny sample, beside the t approximation */
    double xo[8] = {0, 1, 2, 3, 4, 5, 6, 7}, ys[8] = {0.3, 0.1, 0.5, 0.4, 0.9, 0.7, 1.2, 1.0}, p;
    int exact;
    pk_spearman_permutation(xo, ys, 8, 0, &r, &p, &exact, NULL);
    pk_spearman_result t8;
    pk_spearman(xo, ys, 8, &t8, NULL);
    pk_repro_row(ctx, "exact permutation p (n = 8, 40320 orders)", p, NAN, pow(10, t8.log10_p_one),
                 "t approximation", "8 examples", PK_VERDICT_INFO);
    free(o);
    free(l);
    free(f);
    free(s);
    pk_repro_note(ctx, "Real language-model losses (Pythia/OLMo fine-tunes) are not run here: the test takes "
                       "any per-example loss table, `probkit provenance losses.csv --order order --loss loss "
                       "--ref ref_loss`.");
    return PK_OK;
}

const pk_repro pk_repro_provenance = {"provenance", PK_REPRO_PARTIAL,
                                      "Spearman order test: null size, power, exact log p", run};
