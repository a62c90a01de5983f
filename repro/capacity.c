/* capacity — "Representational Capacity": the paper's capacity anchors; the JL law
 * refitted on random packings, with its constant's dependence on d predicted by
 * extreme-value theory; the k/d law refitted on optimised packings, ours and the
 * authors' released ones. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "probkit/metrics.h"
#include "probkit/plot.h"
#include "repro.h"

#ifndef PK_SOURCE_DIR
#define PK_SOURCE_DIR "."
#endif

#define MAXCELLS 300

typedef struct cells {
    double k[MAXCELLS], d[MAXCELLS], e[MAXCELLS];
    size_t n;
} cells;

/* tests/fixtures/metrics/capacity_<name>.csv: k,d,eps rows released with the paper */
static int load_cells(const char *name, cells *c)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/metrics/capacity_%s.csv", PK_SOURCE_DIR, name);
    FILE *f = fopen(path, "r");
    c->n = 0;
    if (!f)
        return -1;
    char line[256];
    while (fgets(line, sizeof line, f) && c->n < MAXCELLS) {
        double k, d, e;
        if (sscanf(line, "%lf,%lf,%lf", &k, &d, &e) == 3) {
            c->k[c->n] = k;
            c->d[c->n] = d;
            c->e[c->n++] = e;
        }
    }
    fclose(f);
    return c->n ? 0 : -1;
}

/* the subset of c with lo < k/d <= hi */
static void kd_range(const cells *c, double lo, double hi, cells *out)
{
    out->n = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->k[i] / c->d[i] > lo && c->k[i] / c->d[i] <= hi) {
            out->k[out->n] = c->k[i];
            out->d[out->n] = c->d[i];
            out->e[out->n++] = c->e[i];
        }
}

static void anchors(pk_repro_ctx *ctx)
{
    struct {
        const char *name;
        double d, eps, paper;
    } a[] = {{"capacity, d = 4096, eps = 0.0645 (Llama-2-7B)", 4096, 0.0645, 3.99e7},
             {"capacity, d = 2048, eps = 0.09", 2048, 0.09, 2.0e7},
             {"capacity, d = 3072, eps = 0.09", 3072, 0.09, 6.0e8}};
    for (int i = 0; i < 3; i++) {
        double c = pk_capacity_paper(a[i].d, a[i].eps);
        pk_repro_row(ctx, a[i].name, c, a[i].paper, pk_capacity_jl(a[i].d, a[i].eps, 3.03), "JL form, C = 3.03",
                     "closed form", fabs(c / a[i].paper - 1) <= 0.01 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    }
}

/* random packings on the low corner of the authors' grid, and the extreme-value law */
static int random_authors_grid(pk_repro_ctx *ctx, pk_rng *r, int quick)
{
    /* the authors' protocol (random_packing_sweep.py): for each (k, d), T draws of k Gaussian
     * directions, the worst pair's |cos| of each draw, the smallest over the draws; the JL
     * form fitted by least squares in eps.  Their grid is k = 2000..32000, d = 256..4096 with
     * T = 1000 (GPU hours); ours is its low corner. */
    const size_t kq[] = {2000, 3000}, kf[] = {2000, 4000, 8000}, ds[] = {256, 512, 1024, 2048};
    const size_t *ks = quick ? kq : kf;
    size_t nk = quick ? 2 : 3, nd = quick ? 3 : 4, trials = quick ? 8 : 30;
    cells c = {.n = 0}, p = {.n = 0};
    for (size_t a = 0; a < nd; a++)
        for (size_t b = 0; b < nk; b++) {
            double e;
            if (pk_packing_random(ds[a], ks[b], trials, r, &e, NULL))
                return PK_ENOMEM;
            pk_repro_log(ctx, "random packing d = %zu, k = %zu: min over %zu draws of max |cos| = %.4f", ds[a], ks[b],
                         trials, e);
            c.k[c.n] = p.k[p.n] = (double)ks[b];
            c.d[c.n] = p.d[p.n] = (double)ds[a];
            c.e[c.n++] = e;
            p.e[p.n++] = pk_packing_random_predict(ds[a], ks[b], trials);
        }
    double rm, Cr = pk_capacity_fit_C(c.k, c.d, c.e, c.n, 0, &rm), Cp = pk_capacity_fit_C(p.k, p.d, p.e, p.n, 0, NULL);
    char scale[160];
    snprintf(scale, sizeof scale, "d in {256..%zu}, k in {2000..%zu}, best of %zu draws (paper: T = 1000)", ds[nd - 1],
             ks[nk - 1], trials);
    pk_repro_row(ctx, "JL constant C refitted on random packings (paper's protocol, low corner)", Cr, 3.03, Cp,
                 "extreme-value law, same cells", scale,
                 fabs(Cr / 3.03 - 1) <= 0.10 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    pk_plot *pl = pk_plot_new("Random packings: min over draws of max |cos| vs the JL law", "sqrt(ln k / d)",
                              "max |cos|");
    if (pl) {
        double x[12], yf[12], y3[12];
        for (size_t i = 0; i < c.n; i++) {
            x[i] = sqrt(log(c.k[i]) / c.d[i]);
            yf[i] = sqrt(Cr) * x[i];
            y3[i] = sqrt(3.03) * x[i];
        }
        pk_plot_scatter(pl, "random packings", x, c.e, c.n);
        pk_plot_scatter(pl, "extreme-value law (no fit)", x, p.e, p.n);
        pk_plot_scatter(pl, "JL law, refitted C", x, yf, c.n);
        pk_plot_scatter(pl, "JL law, paper's C = 3.03", x, y3, c.n);
        pk_repro_plot(ctx, "random_packing", pl);
        pk_plot_free(pl);
    }
    pk_repro_note(ctx, "Random packings are measured as the authors' sweep does: for each (k, d) the smallest over T "
                       "draws of the worst pair's |cos| (not mu + 2 sigma), the JL form fitted by least squares in "
                       "eps; their grid is k = 2000..32000, d = 256..4096, T = 1000, ours its low corner. Refit: "
                       "C = %.3f (RMSE %.4f); the extreme-value law (below) gives %.3f on the same cells.",
                  Cr, rm, Cp);
    return PK_OK;
}

/* the extreme-value law against the authors' released random packings, and C as a
 * function of d: why the small grid (d <= 64) cannot give 3.03 */
static int random_small_d(pk_repro_ctx *ctx, pk_rng *r, int quick)
{
    cells rel;
    if (load_cells("random_packing", &rel) == 0) {
        double dev = 0, dev2 = 0, worst = 0;
        cells p = rel;
        for (size_t i = 0; i < rel.n; i++) {
            p.e[i] = pk_packing_random_predict((size_t)rel.d[i], (size_t)rel.k[i], 1000);
            double q = p.e[i] / rel.e[i] - 1;
            dev += q;
            dev2 += q * q;
            worst = fmax(worst, fabs(q));
        }
        dev /= (double)rel.n;
        double sd = sqrt(fmax(dev2 / (double)rel.n - dev * dev, 0));
        double Crel = pk_capacity_fit_C(rel.k, rel.d, rel.e, rel.n, 0, NULL),
               Cp = pk_capacity_fit_C(p.k, p.d, p.e, p.n, 0, NULL);
        char scale[160];
        snprintf(scale, sizeof scale, "%zu released cells (k 2000-32000, d 256-4096, T = 1000); mean %+.2f%%, SD "
                 "%.2f%%, worst %.2f%%", rel.n, 100 * dev, 100 * sd, 100 * worst);
        pk_repro_row(ctx, "extreme-value law vs the authors' random packings: mean relative error of eps (%)",
                     100 * dev, NAN, NAN, NULL, scale, fabs(dev) <= 0.03 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
        pk_repro_row(ctx, "JL constant C refitted on the authors' released random packings", Crel, 3.03, Cp,
                     "extreme-value law, same cells", "their 256 cells, our least-squares fit",
                     fabs(Crel / 3.03 - 1) <= 0.01 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    } else {
        pk_repro_row(ctx, "extreme-value law vs the authors' random packings", NAN, NAN, NAN, NULL,
                     "tests/fixtures/metrics/capacity_random_packing.csv missing", PK_VERDICT_SKIP);
    }
    /* C refitted per dimension over k = 500, 1000, 2000, measured and predicted */
    const size_t dq[] = {16, 32, 64, 128, 256}, ks[] = {500, 1000, 2000};
    size_t T = quick ? 5 : 50, nd = 5;
    double Cm[5], Cpd[5];
    cells small = {.n = 0}, smallp = {.n = 0};
    for (size_t a = 0; a < nd; a++) {
        cells c = {.n = 0}, p = {.n = 0};
        for (size_t b = 0; b < 3; b++) {
            double e;
            if (pk_packing_random(dq[a], ks[b], T, r, &e, NULL))
                return PK_ENOMEM;
            c.k[c.n] = p.k[p.n] = (double)ks[b];
            c.d[c.n] = p.d[p.n] = (double)dq[a];
            c.e[c.n++] = e;
            p.e[p.n++] = pk_packing_random_predict(dq[a], ks[b], T);
            if (dq[a] <= 64) {
                small.k[small.n] = smallp.k[smallp.n] = (double)ks[b];
                small.d[small.n] = smallp.d[smallp.n] = (double)dq[a];
                small.e[small.n++] = e;
                smallp.e[smallp.n++] = p.e[p.n - 1];
            }
        }
        Cm[a] = pk_capacity_fit_C(c.k, c.d, c.e, c.n, 0, NULL);
        Cpd[a] = pk_capacity_fit_C(p.k, p.d, p.e, p.n, 0, NULL);
        char metric[96], scale[96];
        snprintf(metric, sizeof metric, "JL constant C refitted at d = %zu (k 500-2000)", dq[a]);
        snprintf(scale, sizeof scale, "best of %zu draws", T);
        pk_repro_row(ctx, metric, Cm[a], NAN, Cpd[a], "extreme-value law (no fit)", scale,
                     fabs(Cm[a] / Cpd[a] - 1) <= 0.05 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    }
    double rs, Cs = pk_capacity_fit_C(small.k, small.d, small.e, small.n, 0, &rs),
               Csp = pk_capacity_fit_C(smallp.k, smallp.d, smallp.e, smallp.n, 0, NULL);
    char scale[128];
    snprintf(scale, sizeof scale, "d in {16,32,64}, k in {500,1000,2000}, best of %zu draws (issue's grid)", T);
    pk_repro_row(ctx, "JL constant C refitted on random packings, d <= 64 (the issue's grid)", Cs, 3.03, Csp,
                 "extreme-value law, same cells", scale, PK_VERDICT_INFO);
    pk_repro_note(ctx, "The JL constant is not a constant at small d. With no fitted parameter, the exact tail of "
                       "|cos| between random directions in R^d, P(|cos| > t) = I_{1-t^2}((d-1)/2, 1/2), and the "
                       "Poisson limit for the k(k-1)/2 pairs predict the authors' measurement (median of the min "
                       "over T draws of the max |cos|); this reproduces their 256 released cells (row above). Refitted "
                       "over k = 500..2000, C is %.2f / %.2f / %.2f / %.2f / %.2f at d = 16 / 32 / 64 / 128 / 256 "
                       "(predicted %.2f / %.2f / %.2f / %.2f / %.2f). On d <= 64 the worst pair's |cos| nears 1 and "
                       "the bounded tail (1-t^2)^((d-3)/2) is far lighter than the Gaussian one the JL form assumes, "
                       "so the issue's grid gives C = %.2f (law: %.2f; RMSE of the fit %.3f), not 3.03; the paper "
                       "fits d >= 256 only, where C = 2.8-3.1.",
                  Cm[0], Cm[1], Cm[2], Cm[3], Cm[4], Cpd[0], Cpd[1], Cpd[2], Cpd[3], Cpd[4], Cs, Csp, rs);
    pk_plot *pl = pk_plot_new("JL constant refitted per dimension (k 500-2000)", "d", "C");
    if (pl) {
        double x[5];
        for (size_t a = 0; a < nd; a++)
            x[a] = (double)dq[a];
        pk_plot_set_log(pl, 1, 0);
        pk_plot_line(pl, "extreme-value law (no fit)", x, Cpd, nd);
        pk_plot_scatter(pl, "random packings", x, Cm, nd);
        pk_repro_plot(ctx, "jl_constant_vs_d", pl);
        pk_plot_free(pl);
    }
    return PK_OK;
}

/* optimised packings: the authors' released sweep, and ours with their settings */
static int optimised(pk_repro_ctx *ctx, pk_rng *r, int quick)
{
    cells rel;
    int have = load_cells("optimized_packing", &rel) == 0;
    if (have) {
        double ra, rj, Ca = pk_capacity_fit_C(rel.k, rel.d, rel.e, rel.n, 1, &ra),
                       Cj = pk_capacity_fit_C(rel.k, rel.d, rel.e, rel.n, 0, &rj);
        double ma = pk_capacity_mape(rel.k, rel.d, rel.e, rel.n, 1, Ca),
               mj = pk_capacity_mape(rel.k, rel.d, rel.e, rel.n, 0, Cj);
        pk_repro_row(ctx, "adjusted-law C refitted on the authors' released optimised packings", Ca, 1.293, NAN, NULL,
                     "their 166 cells (d 32-4096, k 2000-32000), our least-squares fit",
                     fabs(Ca / 1.293 - 1) <= 0.01 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
        char scale[160];
        snprintf(scale, sizeof scale, "MAPE %.1f%% (JL, C = %.3f) vs %.1f%% (k/d); paper 975%% vs 7.9%%", mj, Cj, ma);
        pk_repro_row(ctx, "MAPE reduction of the k/d law over JL on the released optimised packings (x)", mj / ma,
                     123, NAN, NULL, scale, fabs(mj / ma / 123 - 1) <= 0.10 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
        cells lo, hi;
        kd_range(&rel, 1, 32, &lo);
        kd_range(&rel, 32, 1e30, &hi);
        pk_repro_note(ctx, "The k/d law's constant depends on the grid: per cell, eps^2 d / ln(k/d) rises with k/d in "
                           "the authors' own data (at d = 32 from 1.15 at k/d = 62 to 1.36 at k/d = 1000; at k/d = "
                           "8-32 it is 1.00-1.19 for every d). Refitted on their cells with k/d <= 32 C = %.3f (%zu "
                           "cells), with k/d > 32 C = %.3f (%zu cells); least squares in eps weights the large-eps "
                           "cells (small d, large k/d), so their whole grid gives %.3f.",
                      pk_capacity_fit_C(lo.k, lo.d, lo.e, lo.n, 1, NULL), lo.n,
                      pk_capacity_fit_C(hi.k, hi.d, hi.e, hi.n, 1, NULL), hi.n, Ca);
    } else {
        pk_repro_row(ctx, "adjusted-law C on the authors' released optimised packings", NAN, 1.293, NAN, NULL,
                     "tests/fixtures/metrics/capacity_optimized_packing.csv missing", PK_VERDICT_SKIP);
    }
    /* ours, with the authors' optimiser (unit-norm start, Adam lr 0.005, their exponent rule);
     * a stream of its own, so the random-packing grids do not move it */
    pk_rng_seed_stream(r, pk_repro_seed(ctx), 2);
    const size_t od[] = {16, 32, 64}, ok[] = {64, 128, 256, 512, 1000};
    size_t nok = quick ? 3 : 5, steps = quick ? 1500 : 5000;
    cells c = {.n = 0};
    double kdmax = 0;
    for (size_t a = 0; a < 3; a++)
        for (size_t b = 0; b < nok; b++) {
            /* 1 < k/d <= 16 (quick) or 32 (full): at k = d the law predicts 0 whatever C is */
            if (ok[b] <= od[a] || ok[b] > 16 * od[a] * (quick ? 1 : 2))
                continue;
            double e;
            int p = pk_packing_power(od[a], ok[b]);
            if (pk_packing_optimize(od[a], ok[b], steps, p, r, &e, NULL))
                return PK_ENOMEM;
            pk_repro_log(ctx, "optimised packing d = %zu, k = %zu (p = %d): max |cos| = %.4f", od[a], ok[b], p, e);
            c.k[c.n] = (double)ok[b];
            c.d[c.n] = (double)od[a];
            c.e[c.n++] = e;
            kdmax = fmax(kdmax, (double)ok[b] / (double)od[a]);
        }
    double ra, rj, Ca = pk_capacity_fit_C(c.k, c.d, c.e, c.n, 1, &ra);
    double Cj = pk_capacity_fit_C(c.k, c.d, c.e, c.n, 0, &rj);
    double ma = pk_capacity_mape(c.k, c.d, c.e, c.n, 1, Ca), mj = pk_capacity_mape(c.k, c.d, c.e, c.n, 0, Cj);
    double Cpeer = NAN;
    if (have) {
        cells same;
        kd_range(&rel, 1, kdmax, &same);
        Cpeer = pk_capacity_fit_C(same.k, same.d, same.e, same.n, 1, NULL);
    }
    char scale[160], peer[80];
    snprintf(scale, sizeof scale, "d in {16,32,64}, 1 < k/d <= %.0f, %zu Adam steps, authors' settings", kdmax, steps);
    snprintf(peer, sizeof peer, "authors' released cells with k/d <= %.0f", kdmax);
    pk_repro_row(ctx, "adjusted-law C refitted on our optimised packings (small k/d)", Ca, NAN, Cpeer, peer, scale,
                 isnan(Cpeer) ? PK_VERDICT_INFO
                              : fabs(Ca / Cpeer - 1) <= 0.10 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    snprintf(scale, sizeof scale, "same cells; MAPE %.1f%% (k/d) vs %.1f%% (JL)", ma, mj);
    pk_repro_row(ctx, "RMSE of eps on our optimised packings: adjusted law (k/d)", ra, NAN, rj,
                 "JL law ln k, refitted", scale, ra < rj ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    pk_repro_note(ctx, "Our optimised packings (the authors' optimiser: unit-norm start, Adam lr 0.005 on sum_{i!=j} "
                       "|cos_ij|^p with the released script's p = min(int(40/ln d), 20) for k <= 4000, whose "
                       "exponents 9-14 on this grid are close to the 7-12 that int(60/ln d) gives their own "
                       "k/d <= 16 cells) refit the k/d law to C = %.3f "
                       "(RMSE %.4f, MAPE %.1f%%), the JL form to C = %.3f (RMSE %.4f, MAPE %.1f%%). Our grid stops "
                       "at k/d = %.0f because one step costs k^2 d: the paper's 1.29 comes from k/d up to 1000 "
                       "(k = 32,000), GPU work, and is not reachable on 2 cores; on the same k/d range the authors' "
                       "own cells give the peer value.",
                  Ca, ra, ma, Cj, rj, mj, kdmax);
    pk_plot *pl = pk_plot_new("Optimised packings: max |cos| vs the two laws", "sqrt(ln(k/d) / d)", "max |cos|");
    if (pl) {
        double x[32], yfit[32];
        for (size_t i = 0; i < c.n; i++) {
            x[i] = sqrt(log(c.k[i] / c.d[i]) / c.d[i]);
            yfit[i] = sqrt(Ca) * x[i];
        }
        pk_plot_scatter(pl, "optimised packings", x, c.e, c.n);
        pk_plot_scatter(pl, "adjusted law fit", x, yfit, c.n);
        pk_repro_plot(ctx, "optimised_packing", pl);
        pk_plot_free(pl);
    }
    if (!quick && have) {
        /* the authors' cheapest cell, d = 32, k = 2000, 5000 steps: with the released script's
         * exponent for k <= 4000 (40 / ln d -> 11) and with int(60 / ln d) = 17, the rule that
         * reproduced their released cells (docs); informational, the optimiser is checked
         * against torch in the tests */
        double theirs = NAN;
        for (size_t i = 0; i < rel.n; i++)
            if (rel.d[i] == 32 && rel.k[i] == 2000)
                theirs = rel.e[i];
        const int pw[2] = {pk_packing_power(32, 2000), (int)(60 / log(32.0))};
        for (int a = 0; a < 2; a++) {
            double e;
            if (pk_packing_optimize(32, 2000, 5000, pw[a], r, &e, NULL))
                return PK_ENOMEM;
            char metric[112];
            snprintf(metric, sizeof metric, "optimised packing d = 32, k = 2000, p = %d (%s): max |cos|", pw[a],
                     a == 0 ? "released script's rule" : "int(60/ln d)");
            pk_repro_row(ctx, metric, e, theirs, NAN, NULL, "5000 Adam steps, one seed; paper = the released cell",
                         PK_VERDICT_INFO);
        }
    }
    return PK_OK;
}

static int run(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx), st;
    pk_rng r;
    pk_rng_seed(&r, pk_repro_seed(ctx));
    anchors(ctx);
    if ((st = random_authors_grid(ctx, &r, quick)) || (st = random_small_d(ctx, &r, quick)) ||
        (st = optimised(ctx, &r, quick)))
        return st;
    pk_repro_note(ctx, "Capacities of real models need their embedding matrices: `probkit embeddings E.npy` "
                       "computes eps = mu + 2 sigma of the pairwise cosine similarities and the three estimates.");
    return PK_OK;
}

const pk_repro pk_repro_capacity = {"capacity", PK_REPRO_PARTIAL,
                                    "capacity anchors; JL vs k/d law refitted on random and optimised packings", run};
