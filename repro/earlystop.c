/* earlystop — "Early stopping by correlating online indicators": Prechelt's
 * criteria and the correlated-indicators rule on simulated training curves. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/metrics.h"
#include "repro.h"

/* One run: training loss decays; validation loss decays, bottoms out at a random
 * epoch and climbs (over-fitting), with noise and a slow random walk so that
 * local minima appear as in Prechelt's curves. */
static void curve(pk_rng *r, size_t n, double *tr, double *va)
{
    double tau = 10 + 30 * pk_rng_uniform(r), t0 = 30 + 100 * pk_rng_uniform(r), rise = 0.2 + 0.6 * pk_rng_uniform(r),
           sig = 0.004 + 0.01 * pk_rng_uniform(r), walk = 0;
    for (size_t t = 0; t < n; t++) {
        double x = (double)t;
        tr[t] = 0.2 + 0.8 * exp(-x / tau) * (1 + 0.02 * pk_rng_normal(r));
        walk = 0.9 * walk + 0.5 * sig * pk_rng_normal(r);
        double over = x > t0 ? rise * pow((x - t0) / (double)n, 1.5) : 0;
        va[t] = 0.3 + 0.8 * exp(-x / tau) + over + sig * pk_rng_normal(r) + walk;
        if (va[t] < 0.01)
            va[t] = 0.01;
    }
}

static int run(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    pk_rng r;
    pk_rng_seed(&r, pk_repro_seed(ctx));
    size_t runs = quick ? 300 : 3000, n = 200;
    struct {
        const char *name;
        pk_es_kind k;
        double p;
    } rules[] = {{"GL1", PK_ES_GL, 1},       {"GL2", PK_ES_GL, 2},     {"GL5", PK_ES_GL, 5},
                 {"PQ0.5", PK_ES_PQ, 0.5},   {"PQ0.75", PK_ES_PQ, 0.75}, {"PQ2", PK_ES_PQ, 2},
                 {"UP2", PK_ES_UP, 2},       {"UP3", PK_ES_UP, 3},     {"patience 10", PK_ES_PATIENCE, 10}};
    enum { NR = 9 };
    double reg[NR + 1] = {0}, cost[NR + 1] = {0}, prem[NR + 1] = {0};
    double *tr = malloc(n * sizeof *tr), *va = malloc(n * sizeof *va);
    int *ind = malloc(NR * n * sizeof *ind);
    if (!tr || !va || !ind) {
        free(tr);
        free(va);
        free(ind);
        return PK_ENOMEM;
    }
    for (size_t k = 0; k < runs; k++) {
        curve(&r, n, tr, va);
        for (int j = 0; j <= NR; j++) {
            size_t stop;
            if (j < NR) {
                pk_es_indicator(rules[j].k, rules[j].p, 5, va, tr, n, ind + (size_t)j * n, NULL);
                stop = pk_es_first(ind + (size_t)j * n, n);
            } else {
                /* correlated rule over GL2, PQ0.75, UP2 (indices 1, 4, 6): quorum 2, window 10 */
                int sub[3 * 200];
                memcpy(sub, ind + 1 * n, n * sizeof *sub);
                memcpy(sub + n, ind + 4 * n, n * sizeof *sub);
                memcpy(sub + 2 * n, ind + 6 * n, n * sizeof *sub);
                pk_es_correlated(sub, 3, n, 2, 10, 0.5, &stop, NULL);
            }
            pk_es_outcome o;
            pk_es_outcome_of(va, n, stop, &o);
            reg[j] += o.regret_rel;
            cost[j] += o.cost;
            prem[j] += o.regret_rel > 0.01;
        }
    }
    char scale[96];
    snprintf(scale, sizeof scale, "%zu simulated runs x %zu epochs, strip 5", runs, n);
    for (int j = 0; j <= NR; j++) {
        char m[128];
        snprintf(m, sizeof m, "%s: mean regret %% (cost %.3f, stops >1%% worse: %.3f)",
                 j < NR ? rules[j].name : "correlated GL2+PQ0.75+UP2, q=2", cost[j] / (double)runs,
                 prem[j] / (double)runs);
        pk_repro_row(ctx, m, 100 * reg[j] / (double)runs, NAN, NAN, NULL, scale, PK_VERDICT_INFO);
    }
    pk_repro_note(ctx, "Regret = validation loss of the restored (best-so-far) model over the run's best, in %%; "
                       "cost = share of epochs trained. The paper evaluates on parser training with cross-validation "
                       "as the canary; that experiment needs the neural-network engine (wave 2). The correlated rule "
                       "here is our reading of the paper's halting condition (docs/diagnostics.md): a quorum of "
                       "indicators on and co-active over a window.");
    free(tr);
    free(va);
    free(ind);
    return PK_OK;
}

const pk_repro pk_repro_earlystop = {"earlystop", PK_REPRO_PARTIAL,
                                     "Prechelt criteria vs correlated indicators on simulated training curves", run};
