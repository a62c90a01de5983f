/* pfn — "Transformers Can Do Bayesian Inference" (Müller et al., ICLR 2022):
 * a transformer fitted to data sets from a GP prior approximates the exact
 * GP posterior predictive; with a hyperprior it approximates the Bayes
 * predictive that otherwise needs sampling, in one fast forward pass. */
#include <math.h>
#include <stdio.h>


#include "probkit/pfn.h"
#include "repro.h"

enum { NN = 6 };
static const int NS[NN] = {0, 1, 2, 5, 10, 20};

typedef struct setup {
    int d_model, layers, batch, points, steps;
    double lr;
    int datasets;
    int mlp_x;
} setup;

static int fit(pk_repro_ctx *ctx, const pk_pfn_prior *pr, const setup *s, pk_rng *rng, pk_pfn **out, double *secs)
{
    pk_err err = {0};
    pk_pfn_config cfg = {pr->dim, s->d_model, s->layers, 4, 100, s->mlp_x};
    double borders[101];
    int st = pk_pfn_borders_from_prior(pr, 100, 100000, rng, borders, &err);
    if (!st)
        st = pk_pfn_new(&cfg, borders, rng, out, &err);
    pk_pfn_train_params tp = pk_pfn_train_params_default();
    tp.steps = s->steps, tp.batch = s->batch, tp.n_points = s->points, tp.lr = s->lr;
    double t0 = pk_time_now(), loss = NAN;
    if (!st)
        st = pk_pfn_train(*out, pr, &tp, rng, NULL, NULL, &loss, &err);
    *secs = pk_time_now() - t0;
    if (st)
        pk_repro_log(ctx, "training failed: %s", err.msg);
    else
        pk_repro_log(ctx, "%s prior: %zu parameters, %d steps x %d data sets in %.1f s, final loss %.4f",
                     pr->kind == PK_PFN_GP ? "fixed GP" : "GP hyperprior", pk_pfn_num_params(*out), s->steps,
                     s->batch, *secs, loss);
    return st;
}

static void plot_curves(pk_repro_ctx *ctx, const char *name, const char *title, const pk_pfn_eval *ev, int with_plugin)
{
    double x[NN], a[NN], b[NN], c[NN];
    for (int i = 0; i < NN; i++)
        x[i] = ev[i].n_train, a[i] = ev[i].nll_pfn, b[i] = ev[i].nll_ref, c[i] = ev[i].nll_plugin;
    pk_plot *pl = pk_plot_new(title, "training points n", "test NLL per point (nats)");
    if (!pl)
        return;
    pk_plot_line(pl, "PFN (one forward pass)", x, a, NN);
    pk_plot_line(pl, with_plugin ? "Bayes PPD (importance sampling)" : "exact GP posterior predictive", x, b, NN);
    if (with_plugin)
        pk_plot_line(pl, "GP with the true hyperparameters (oracle)", x, c, NN);
    pk_repro_plot(ctx, name, pl);
    pk_plot_free(pl);
}

static int run_all(pk_repro_ctx *ctx);

/* A PFN's matrix products are small: OpenBLAS's threads cost 5x more in
 * synchronisation than they save (measured). */
static int run(pk_repro_ctx *ctx) { return pk_repro_serial(ctx, run_all); }

static int run_all(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    pk_rng rng;
    pk_rng_seed(&rng, pk_repro_seed(ctx));
    /* quick: a small network for ~20 s; full: the configuration docs/pfn.md reports */
    setup s = quick ? (setup){32, 3, 16, 30, 2000, 3e-3, 100, 0} : (setup){32, 3, 16, 30, 60000, 3e-3, 400, 0};
    char scale[160];
    snprintf(scale, sizeof scale, "1-d RBF GP (ls 0.2, noise 0.01); d=%d, %d layers, %d steps x %d sets of %d; %d test sets",
             s.d_model, s.layers, s.steps, s.batch, s.points, s.datasets);

    pk_pfn_prior pr = pk_pfn_prior_default(1);
    pk_pfn *m = NULL;
    double secs;
    if (fit(ctx, &pr, &s, &rng, &m, &secs))
        return PK_OK;
    pk_pfn_eval ev[NN];
    pk_err err = {0};
    if (pk_pfn_evaluate(m, NULL, NS, NN, s.datasets, 10, 1, &rng, ev, &err)) {
        pk_repro_log(ctx, "evaluation failed: %s", err.msg);
        pk_pfn_free(m);
        return PK_OK;
    }
    pk_pfn_free(m);
    double gap = 0, worst = 0;
    for (int i = 0; i < NN; i++) {
        double g = ev[i].nll_pfn - ev[i].nll_ref;
        gap += g / NN;
        worst = fmax(worst, g);
    }
    pk_repro_row(ctx, "mean NLL gap PFN - exact GP over n in {0,1,2,5,10,20} (nats)", gap, 0.0, NAN, NULL, scale,
                 pk_verdict_le(gap, 0.05));
    pk_repro_row(ctx, "worst NLL gap over those n (nats)", worst, NAN, NAN, NULL, scale, PK_VERDICT_INFO);
    pk_repro_row(ctx, "PFN uses the data: NLL(n=20) - NLL(n=0)", ev[NN - 1].nll_pfn - ev[0].nll_pfn,
                 ev[NN - 1].nll_ref - ev[0].nll_ref, NAN, "exact GP", scale,
                 pk_verdict_le(ev[NN - 1].nll_pfn - ev[0].nll_pfn, -1.0));
    pk_repro_row(ctx, "training time (s)", secs, NAN, NAN, NULL, scale, PK_VERDICT_INFO);
    plot_curves(ctx, "pfn_gp", "PFN vs exact GP posterior predictive (fixed hyperparameters)", ev, 0);
    pk_repro_note(ctx,
                  "The paper (Fig. 3) trains a PFN on a GP prior with fixed hyperparameters and finds its test NLL "
                  "indistinguishable from the exact GP's at every number of training points; we read that as a gap "
                  "of ~0 and count |gap| <= 0.05 nats as matching. The paper trains for hours on a GPU "
                  "(millions of data sets); this run fits %d x %d data sets on a CPU.",
                  s.steps, s.batch);
    if (quick) {
        pk_repro_note(ctx, "Quick mode: a small network trained for seconds; the hyperprior experiment runs in full "
                           "mode only.");
        return PK_OK;
    }

    /* the hyperprior: the Bayes predictive needs sampling; the PFN does not */
    pr.kind = PK_PFN_GP_HYPER;
    if (fit(ctx, &pr, &s, &rng, &m, &secs))
        return PK_OK;
    int st = pk_pfn_evaluate(m, NULL, NS, NN, s.datasets / 4, 10, 2000, &rng, ev, &err);
    pk_pfn_free(m);
    if (st) {
        pk_repro_log(ctx, "evaluation failed: %s", err.msg);
        return PK_OK;
    }
    snprintf(scale, sizeof scale, "1-d RBF GP, log-normal length scale, gamma output scale, log-uniform noise; %d test sets",
             s.datasets / 4);
    double g2 = 0, tp = 0, tr = 0;
    for (int i = 0; i < NN; i++)
        g2 += (ev[i].nll_pfn - ev[i].nll_ref) / NN, tp += ev[i].sec_pfn, tr += ev[i].sec_ref;
    pk_repro_row(ctx, "hyperprior: mean NLL gap PFN - Bayes PPD (nats)", g2, 0.0, NAN, NULL, scale,
                 pk_verdict_le(g2, 0.05));
    /* the paper's 200x is against MCMC; importance sampling is a much cheaper reference, so
     * this row informs rather than judges */
    pk_repro_row(ctx, "hyperprior: speed-up of the PFN over importance sampling (2000 draws; paper: over MCMC)",
                 tr / tp, 200.0, NAN, NULL, scale, PK_VERDICT_INFO);
    plot_curves(ctx, "pfn_hyper", "PFN vs Bayes predictive under a hyperprior", ev, 1);
    pk_repro_note(ctx, "Under a hyperprior the Bayes predictive integrates the hyperparameters; we compute it by "
                       "importance sampling from the hyperprior (2,000 draws, one Cholesky each), the paper by MCMC. "
                       "The paper reports PFNs over 200x faster than MCMC at equal or better NLL.");
    return PK_OK;
}

const pk_repro pk_repro_pfn = {"pfn", PK_REPRO_PARTIAL,
                               "PFN fitted to a GP prior vs the exact GP / Bayes posterior predictive (NLL, speed)", run};
