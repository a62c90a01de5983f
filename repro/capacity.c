/* capacity — "Representational Capacity": the paper's capacity anchors, and
 * refits of its two laws on random and on optimised packings at small scale. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "probkit/metrics.h"
#include "probkit/plot.h"
#include "repro.h"

static int run(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    pk_rng r;
    pk_rng_seed(&r, pk_repro_seed(ctx));
    struct {
        const char *name;
        double d, eps, paper;
    } anchors[] = {{"capacity, d = 4096, eps = 0.0645 (Llama-2-7B)", 4096, 0.0645, 3.99e7},
                   {"capacity, d = 2048, eps = 0.09", 2048, 0.09, 2.0e7},
                   {"capacity, d = 3072, eps = 0.09", 3072, 0.09, 6.0e8}};
    for (int i = 0; i < 3; i++) {
        double c = pk_capacity_paper(anchors[i].d, anchors[i].eps);
        pk_repro_row(ctx, anchors[i].name, c, anchors[i].paper, pk_capacity_jl(anchors[i].d, anchors[i].eps, 3.03),
                     "JL form, C = 3.03", "closed form",
                     fabs(c / anchors[i].paper - 1) <= 0.01 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    }
    /* random packings, the authors' protocol (random_packing_sweep.py): for each (k, d),
     * T draws of k Gaussian directions, the worst pair's |cos| of each draw, the smallest
     * over the draws; the JL form is fitted by least squares in eps.  Their grid is
     * k = 2000..32000, d = 256..4096 with T = 1000 (GPU hours); ours is its low corner. */
    const size_t kq[] = {2000, 3000}, kf[] = {2000, 4000, 8000}, ds[] = {256, 512, 1024, 2048};
    const size_t *ks = quick ? kq : kf;
    size_t nk = quick ? 2 : 3, nd = quick ? 3 : 4, trials = quick ? 8 : 30;
    double Cr = 0, rmse_r = 0, Cs = 0, rmse_s = 0;
    {
        double K[12], D[12], E[12];
        size_t m = 0;
        for (size_t a = 0; a < nd; a++)
            for (size_t b = 0; b < nk; b++) {
                double e;
                if (pk_packing_random(ds[a], ks[b], trials, &r, &e, NULL))
                    return PK_ENOMEM;
                pk_repro_log(ctx, "random packing d = %zu, k = %zu: min over %zu draws of max |cos| = %.4f", ds[a],
                             ks[b], trials, e);
                K[m] = (double)ks[b];
                D[m] = (double)ds[a];
                E[m++] = e;
            }
        Cr = pk_capacity_fit_C(K, D, E, m, 0, &rmse_r);
        char scale[128];
        snprintf(scale, sizeof scale, "d in {256..%zu}, k in {2000..%zu}, best of %zu draws (paper: T = 1000)",
                 ds[nd - 1], ks[nk - 1], trials);
        pk_repro_row(ctx, "JL constant C refitted on random packings (paper's protocol, low corner)", Cr, 3.03, NAN,
                     NULL, scale, fabs(Cr / 3.03 - 1) <= 0.10 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
        pk_plot *pl = pk_plot_new("Random packings: min over draws of max |cos| vs the JL law", "sqrt(ln k / d)",
                                  "max |cos|");
        if (pl) {
            double x[12], yf[12], y3[12];
            for (size_t i = 0; i < m; i++) {
                x[i] = sqrt(log(K[i]) / D[i]);
                yf[i] = sqrt(Cr) * x[i];
                y3[i] = sqrt(3.03) * x[i];
            }
            pk_plot_scatter(pl, "random packings", x, E, m);
            pk_plot_scatter(pl, "JL law, refitted C", x, yf, m);
            pk_plot_scatter(pl, "JL law, paper's C = 3.03", x, y3, m);
            pk_repro_plot(ctx, "random_packing", pl);
            pk_plot_free(pl);
        }
    }
    {
        /* the small grid, outside the range where the paper fitted the law */
        const size_t rd[] = {16, 32, 64}, rk[] = {500, 1000, 2000};
        double K[9], D[9], E[9];
        size_t m = 0;
        for (size_t a = 0; a < 3; a++)
            for (size_t b = 0; b < 3; b++) {
                double e;
                if (pk_packing_random(rd[a], rk[b], quick ? 5 : 50, &r, &e, NULL))
                    return PK_ENOMEM;
                K[m] = (double)rk[b];
                D[m] = (double)rd[a];
                E[m++] = e;
            }
        Cs = pk_capacity_fit_C(K, D, E, m, 0, &rmse_s);
        char scale[128];
        snprintf(scale, sizeof scale, "d in {16,32,64}, k in {500,1000,2000}, best of %d draws", quick ? 5 : 50);
        pk_repro_row(ctx, "JL constant C refitted on random packings (d 16-64)", Cs, 3.03, NAN, NULL, scale,
                     PK_VERDICT_INFO);
    }
    /* optimised packings: Adam on sum |cos|^p, p = min(40 / ln k, 20) (the authors' sweep takes
     * ln d, see the notes); a stream of its own, so the random-packing grid does not move it */
    pk_rng_seed_stream(&r, pk_repro_seed(ctx), 2);
    const size_t od[] = {16, 32, 64}, ok[] = {64, 128, 256, 512};
    size_t nok = quick ? 3 : 4, steps = quick ? 1500 : 5000;
    double K2[16], D2[16], E2[16], rj, ra;
    size_t m2 = 0;
    for (size_t a = 0; a < 3; a++)
        for (size_t b = 0; b < nok; b++) {
            double e;
            int p = (int)(40 / log((double)ok[b]));
            if (p > 20)
                p = 20;
            if (pk_packing_optimize(od[a], ok[b], steps, p, &r, &e, NULL))
                return PK_ENOMEM;
            pk_repro_log(ctx, "optimised packing d = %zu, k = %zu: max |cos| = %.4f", od[a], ok[b], e);
            K2[m2] = (double)ok[b];
            D2[m2] = (double)od[a];
            E2[m2++] = e;
        }
    double Cj = pk_capacity_fit_C(K2, D2, E2, m2, 0, &rj), Ca = pk_capacity_fit_C(K2, D2, E2, m2, 1, &ra);
    char scale[128];
    snprintf(scale, sizeof scale, "d in {16,32,64}, k <= %zu, %zu Adam steps", ok[nok - 1], steps);
    pk_repro_row(ctx, "adjusted-law constant C refitted on optimised packings", Ca, 1.29, NAN, NULL, scale,
                 fabs(Ca / 1.29 - 1) <= 0.10 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    pk_repro_row(ctx, "RMSE of eps: adjusted law (k/d)", ra, NAN, rj, "JL law ln k, refitted", scale,
                 ra < rj ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    pk_repro_note(ctx, "On optimised packings the JL form refits to C = %.3f with RMSE %.4f, the k/d form to "
                       "C = %.3f with RMSE %.4f (ratio %.1fx; the paper reports about two orders of magnitude over "
                       "its larger grid up to d = 4096, k = 32000).",
                  Cj, rj, Ca, ra, rj / ra);
    pk_repro_note(ctx, "Random packings are measured as the authors' sweep does: for each (k, d) the smallest over T "
                       "draws of the worst pair's |cos| (not mu + 2 sigma), the JL form fitted by least squares in "
                       "eps; their grid is k = 2000..32000, d = 256..4096, T = 1000, ours its low corner. Refit: "
                       "C = %.3f (RMSE %.4f). The estimate falls as T grows (the minimum over more draws is "
                       "smaller): on d = 256..1024, k = 2000..4000 we measured C = 3.27, 3.21, 2.96, 2.90 at "
                       "T = 3, 5, 10, 20. On d = 16..64 the worst-pair |cos| nears 1, the square-root law flattens "
                       "and the refit gives C = %.3f (RMSE %.4f): that grid cannot recover 3.03.",
                  Cr, rmse_r, Cs, rmse_s);
    pk_plot *pl = pk_plot_new("Optimised packings: max |cos| vs the two laws", "sqrt(ln(k/d) / d)", "max |cos|");
    if (pl) {
        double x[16], yfit[16];
        for (size_t i = 0; i < m2; i++) {
            x[i] = sqrt(log(K2[i] / D2[i]) / D2[i]);
            yfit[i] = sqrt(Ca) * x[i];
        }
        pk_plot_scatter(pl, "optimised packings", x, E2, m2);
        pk_plot_scatter(pl, "adjusted law fit", x, yfit, m2);
        pk_repro_plot(ctx, "optimised_packing", pl);
        pk_plot_free(pl);
    }
    pk_repro_note(ctx, "Capacities of real models need their embedding matrices: `probkit embeddings E.npy` "
                       "computes eps = mu + 2 sigma of the pairwise cosine similarities and the three estimates.");
    return PK_OK;
}

const pk_repro pk_repro_capacity = {"capacity", PK_REPRO_PARTIAL,
                                    "capacity anchors; JL vs k/d law refitted on random and optimised packings", run};
