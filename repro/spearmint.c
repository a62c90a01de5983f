/* spearmint — "Practical Bayesian Optimization of Machine Learning Algorithms"
 * (Snoek, Larochelle & Adams 2012): random search, GP-EI-Opt and GP-EI-MCMC on
 * Branin and Hartmann-6, beside Optuna's TPE (bench/bo_optuna.py writes its
 * figures to bench/results/bo_optuna.json, read here when present). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/bo.h"
#include "probkit/plot.h"
#include "repro.h"

#define BRANIN_OPT 0.39788735772973816
#define HART6_OPT (-3.32236801141551)

static double branin(const double *u)
{
    double x = 15 * u[0] - 5, y = 15 * u[1];
    double b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, t = 1 / (8 * M_PI), q = y - b * x * x + c * x - 6;
    return q * q + 10 * (1 - t) * cos(x) + 10;
}

static double hartmann6(const double *x)
{
    static const double A[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                   {0.05, 10, 17, 0.1, 8, 14},
                                   {3, 3.5, 1.7, 10, 17, 8},
                                   {17, 8, 0.05, 10, 0.1, 14}};
    static const double P[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                   {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                   {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                   {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
    static const double al[4] = {1.0, 1.2, 3.0, 3.2};
    double s = 0;
    for (int i = 0; i < 4; i++) {
        double e = 0;
        for (int j = 0; j < 6; j++)
            e += A[i][j] * (x[j] - P[i][j]) * (x[j] - P[i][j]);
        s += al[i] * exp(-e);
    }
    return -s;
}

typedef double (*objective)(const double *u);

/* One run; trace[i] = best value after i+1 evaluations. */
static int run_one(pk_bo_method m, objective f, size_t dim, int evals, uint64_t seed, uint64_t stream,
                   double *trace, double *ask_s)
{
    pk_bo_params p = pk_bo_params_default();
    p.method = m;
    pk_bo *bo = pk_bo_new(dim, &p, NULL);
    if (!bo)
        return PK_ENOMEM;
    pk_rng rng;
    pk_rng_seed_stream(&rng, seed, stream);
    double u[8], best = INFINITY;
    int64_t t;
    *ask_s = 0;
    for (int i = 0; i < evals; i++) {
        int r = pk_bo_ask(bo, &rng, u, &t, NULL);
        if (r) {
            pk_bo_free(bo);
            return r;
        }
        *ask_s += pk_bo_last_ask_seconds(bo);
        double y = f(u);
        pk_bo_tell(bo, t, y, 1.0);
        best = fmin(best, y);
        trace[i] = best;
    }
    pk_bo_free(bo);
    return PK_OK;
}

static double median_of(double *x, size_t n) { return pk_median(x, n); }

/* Optuna TPE figures from the bench script, if it was run. */
static json_t *load_peer(void)
{
    json_error_t e;
    return json_load_file(PK_SOURCE_DIR "/bench/results/bo_optuna.json", 0, &e);
}

static double peer_num(json_t *root, const char *problem, const char *key)
{
    json_t *v = json_object_get(json_object_get(root, problem), key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Simulated asynchronous workers on Branin with an input-dependent cost
 * (duration exp(3 u1) seconds, 1 to 20): W workers ask as soon as they are
 * free (running trials are pending points, handled by fantasies); returns the
 * simulated time at which the best value first has regret < thr (INFINITY if
 * never within `evals` evaluations). */
static double simulate(pk_bo_method m, int workers, int evals, double thr, uint64_t seed, uint64_t stream)
{
    pk_bo_params p = pk_bo_params_default();
    p.method = m;
    pk_bo *bo = pk_bo_new(2, &p, NULL);
    if (!bo)
        return NAN;
    pk_rng rng;
    pk_rng_seed_stream(&rng, seed, stream);
    double fin[8], u[8][2], now = 0, hit = INFINITY, best = INFINITY;
    int64_t tk[8];
    int started = 0, done = 0;
    for (int w = 0; w < workers; w++)
        fin[w] = -1;
    while (done < evals) {
        for (int w = 0; w < workers && started < evals; w++) {
            if (fin[w] >= 0)
                continue;
            if (pk_bo_ask(bo, &rng, u[w], &tk[w], NULL))
                break;
            fin[w] = now + exp(3.0 * u[w][1]);
            started++;
        }
        int k = -1;
        for (int w = 0; w < workers; w++)
            if (fin[w] >= 0 && (k < 0 || fin[w] < fin[k]))
                k = w;
        if (k < 0)
            break;
        now = fin[k];
        double y = branin(u[k]);
        pk_bo_tell(bo, tk[k], y, exp(3.0 * u[k][1]));
        fin[k] = -1;
        done++;
        best = fmin(best, y);
        if (best - BRANIN_OPT < thr && !isfinite(hit))
            hit = now;
    }
    pk_bo_free(bo);
    return hit;
}

static void parallel_study(pk_repro_ctx *ctx, int quick, uint64_t seed)
{
    if (quick) {
        pk_repro_row(ctx, "Simulated workers / EI per second on Branin with costs", NAN, NAN, NAN, NULL,
                     "full mode only (about 10 min on 2 cores)", PK_VERDICT_SKIP);
        return;
    }
    const size_t ns = 10;
    const int evals = 60;
    const double thr = 1e-2;
    double t[4][10];
    const struct {
        pk_bo_method m;
        int w;
    } cfg[4] = {{PK_BO_EI_MCMC, 1}, {PK_BO_EI_MCMC, 3}, {PK_BO_EI_MCMC, 5}, {PK_BO_EI_PER_SECOND, 1}};
    for (int c = 0; c < 4; c++)
        for (size_t s = 0; s < ns; s++) {
            t[c][s] = simulate(cfg[c].m, cfg[c].w, evals, thr, seed + 2000, s);
            if (!isfinite(t[c][s]))
                t[c][s] = 1e9; /* censored: counts as slower than any finite time */
        }
    double med[4];
    for (int c = 0; c < 4; c++) {
        med[c] = pk_median(t[c], ns);
        pk_repro_log(ctx, "simulated %s, %d worker(s): median time to regret < 1e-2: %g", pk_bo_method_name(cfg[c].m),
                     cfg[c].w, med[c]);
    }
    char scale[200];
    snprintf(scale, sizeof scale,
             "Branin, cost exp(3 u2) s (1..20), %zu seeds x %d evals, simulated clock (1e9 = not reached)", ns, evals);
    pk_repro_row(ctx, "Simulated time to regret < 1e-2: EI-MCMC, 3 workers (peer: 1 worker; target >= 2x faster)",
                 med[1], NAN, med[0], "1 worker", scale, pk_verdict_le(2.0 * med[1], med[0]));
    pk_repro_row(ctx, "Simulated time to regret < 1e-2: EI-MCMC, 5 workers (peer: 1 worker)", med[2], NAN, med[0],
                 "1 worker", scale, PK_VERDICT_INFO);
    pk_repro_row(ctx, "Simulated time to regret < 1e-2: EI per second, 1 worker (peer: EI-MCMC)", med[3], NAN, med[0],
                 "EI-MCMC", scale, pk_verdict_le(med[3], med[0]));
    pk_repro_note(ctx, "The paper's precomputed grids (structured SVM, LDA) were not rebuilt; the parallel and "
                       "cost-aware rows use Branin with a synthetic input-dependent cost on a simulated clock.");
}

static int run(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    uint64_t seed = pk_repro_seed(ctx);
    const int b_evals = 50, h_evals = quick ? 60 : 100;
    const size_t b_seeds = quick ? 3 : 30, h_seeds = quick ? 1 : 20;
    const pk_bo_method methods[3] = {PK_BO_RANDOM, PK_BO_EI_OPT, PK_BO_EI_MCMC};
    const char *mnames[3] = {"random", "GP-EI-Opt", "GP-EI-MCMC"};
    double *tr = malloc((size_t)b_seeds * b_evals * 3 * sizeof *tr);
    double *htr = malloc((size_t)h_seeds * h_evals * sizeof *htr);
    json_t *peer = load_peer();
    if (!tr || !htr) {
        free(tr);
        free(htr);
        json_decref(peer);
        return PK_ENOMEM;
    }
    char scale[160];
    double med_evals[3], med_regret[3], ask_total[3] = {0, 0, 0};
    for (int m = 0; m < 3; m++) {
        double *hit = malloc(b_seeds * sizeof *hit), *fin = malloc(b_seeds * sizeof *fin);
        for (size_t s = 0; s < b_seeds; s++) {
            double *t = tr + ((size_t)m * b_seeds + s) * b_evals, a;
            int r = run_one(methods[m], branin, 2, b_evals, seed, s, t, &a);
            if (r) {
                free(hit);
                free(fin);
                free(tr);
                free(htr);
                json_decref(peer);
                return r;
            }
            ask_total[m] += a;
            hit[s] = b_evals + 1; /* censored: not reached within the budget */
            for (int i = 0; i < b_evals; i++)
                if (t[i] - BRANIN_OPT < 1e-3) {
                    hit[s] = i + 1;
                    break;
                }
            fin[s] = t[b_evals - 1] - BRANIN_OPT;
        }
        med_evals[m] = median_of(hit, b_seeds);
        med_regret[m] = median_of(fin, b_seeds);
        pk_repro_log(ctx, "branin %-10s median evals to regret<1e-3: %g, median final regret %.2e, ask %.2f s/run",
                     mnames[m], med_evals[m], med_regret[m], ask_total[m] / b_seeds);
        free(hit);
        free(fin);
    }
    snprintf(scale, sizeof scale, "Branin, %zu seeds x %d evaluations%s", b_seeds, b_evals,
             quick ? " (quick; full: 30 seeds)" : "");
    double tpe_evals = peer_num(peer, "branin", "median_evals_to_1e-3");
    double tpe_budget = peer_num(peer, "branin", "hit_budget");
    double tpe_regret = peer_num(peer, "branin", "median_final_regret");
    char sc2[240];
    snprintf(sc2, sizeof sc2, "%s; TPE run up to %g evaluations (%g = not reached)", scale,
             isfinite(tpe_budget) ? tpe_budget : 50.0, isfinite(tpe_budget) ? tpe_budget + 1 : 51.0);
    pk_repro_row(ctx, "Branin: median evaluations to regret < 1e-3, GP-EI-MCMC (51 = not reached in 50)", med_evals[2],
                 NAN, tpe_evals, "Optuna TPE", sc2,
                 isfinite(tpe_evals) ? pk_verdict_le(med_evals[2], 0.5 * tpe_evals) : PK_VERDICT_INFO);
    pk_repro_row(ctx, "Branin: median evaluations to regret < 1e-3, GP-EI-MCMC vs GP-EI-Opt", med_evals[2], NAN,
                 med_evals[1], "GP-EI-Opt (ours)", scale, pk_verdict_le(med_evals[2], med_evals[1]));
    pk_repro_row(ctx, "Branin: median evaluations to regret < 1e-3, random search", med_evals[0], NAN, NAN, NULL,
                 scale, PK_VERDICT_INFO);
    pk_repro_row(ctx, "Branin: median regret after 50 evaluations, GP-EI-MCMC", med_regret[2], NAN, tpe_regret,
                 "Optuna TPE", scale, PK_VERDICT_INFO);
    pk_repro_row(ctx, "Branin: median regret after 50 evaluations, GP-EI-MCMC vs GP-EI-Opt", med_regret[2], NAN,
                 med_regret[1], "GP-EI-Opt (ours)", scale, pk_verdict_le(med_regret[2], med_regret[1]));
    pk_repro_row(ctx, "Branin: mean seconds per ask, GP-EI-MCMC", ask_total[2] / (b_seeds * b_evals), NAN, NAN, NULL,
                 scale, PK_VERDICT_INFO);
    if (!isfinite(tpe_evals))
        pk_repro_note(ctx, "Optuna TPE figures are missing: run `/usr/bin/python3 bench/bo_optuna.py` "
                           "(needs Debian's python3-optuna) to write bench/results/bo_optuna.json.");

    /* median log10 regret against evaluations */
    pk_plot *pl = pk_plot_new("Branin: median regret over seeds", "evaluations", "regret (best - 0.397887)");
    if (pl) {
        pk_plot_set_log(pl, 0, 1);
        double xs[50], ys[50], col[64];
        for (int m = 0; m < 3; m++) {
            for (int i = 0; i < b_evals; i++) {
                for (size_t s = 0; s < b_seeds; s++)
                    col[s] = tr[((size_t)m * b_seeds + s) * b_evals + i] - BRANIN_OPT;
                xs[i] = i + 1;
                ys[i] = fmax(median_of(col, b_seeds), 1e-7);
            }
            pk_plot_line(pl, mnames[m], xs, ys, (size_t)b_evals);
        }
        json_t *tt = json_object_get(json_object_get(peer, "branin"), "median_regret_trace");
        if (json_array_size(tt) == (size_t)b_evals) {
            for (int i = 0; i < b_evals; i++)
                ys[i] = fmax(json_number_value(json_array_get(tt, (size_t)i)), 1e-7);
            pk_plot_line(pl, "Optuna TPE", xs, ys, (size_t)b_evals);
        }
        pk_plot_hline(pl, "1e-3", 1e-3);
        pk_repro_plot(ctx, "spearmint_branin", pl);
        pk_plot_free(pl);
    }

    /* Hartmann-6 with GP-EI-MCMC */
    double hsum = 0, hask = 0;
    for (size_t s = 0; s < h_seeds; s++) {
        double a;
        int r = run_one(PK_BO_EI_MCMC, hartmann6, 6, h_evals, seed + 1000, s, htr + s * h_evals, &a);
        if (r) {
            free(tr);
            free(htr);
            json_decref(peer);
            return r;
        }
        hask += a;
        hsum += htr[s * h_evals + h_evals - 1];
        pk_repro_log(ctx, "hartmann6 seed %zu: best %.4f after %d evaluations (%.1f s asking)", s,
                     htr[s * h_evals + h_evals - 1], h_evals, a);
    }
    double hmean = hsum / h_seeds;
    snprintf(scale, sizeof scale, "Hartmann-6, %zu seeds x %d evaluations%s", h_seeds, h_evals,
             quick ? " (quick; full: 20 x 100)" : "");
    double tpe_h = peer_num(peer, "hartmann6", "mean_final_best");
    pk_repro_row(ctx, "Hartmann-6: mean best value, GP-EI-MCMC (optimum -3.32237; issue target <= -3.25)", hmean,
                 -3.25, tpe_h, "Optuna TPE", scale, quick ? PK_VERDICT_INFO : pk_verdict_le(hmean, -3.25));
    pk_repro_row(ctx, "Hartmann-6: mean seconds per ask, GP-EI-MCMC", hask / (h_seeds * h_evals), NAN, NAN, NULL,
                 scale, PK_VERDICT_INFO);
    pl = pk_plot_new("Hartmann-6: mean best value (GP-EI-MCMC)", "evaluations", "best value");
    if (pl) {
        double *xs = malloc(h_evals * sizeof *xs), *ys = malloc(h_evals * sizeof *ys);
        for (int i = 0; xs && ys && i < h_evals; i++) {
            xs[i] = i + 1;
            ys[i] = 0;
            for (size_t s = 0; s < h_seeds; s++)
                ys[i] += htr[s * h_evals + i] / h_seeds;
        }
        if (xs && ys)
            pk_plot_line(pl, "GP-EI-MCMC", xs, ys, (size_t)h_evals);
        json_t *tt = json_object_get(json_object_get(peer, "hartmann6"), "mean_best_trace");
        if (xs && ys && json_array_size(tt) >= (size_t)h_evals) {
            for (int i = 0; i < h_evals; i++)
                ys[i] = json_number_value(json_array_get(tt, (size_t)i));
            pk_plot_line(pl, "Optuna TPE", xs, ys, (size_t)h_evals);
        }
        pk_plot_hline(pl, "optimum", HART6_OPT);
        pk_repro_plot(ctx, "spearmint_hartmann6", pl);
        pk_plot_free(pl);
        free(xs);
        free(ys);
    }
    pk_repro_row(ctx, "Logistic regression on MNIST-10k (GP-EI-MCMC vs TPE best-error curve)", NAN, NAN, NAN, NULL,
                 "not run in this version", PK_VERDICT_SKIP);
    parallel_study(ctx, quick, seed);
    pk_repro_note(ctx,
                  "GP: Matern 5/2 ARD with constant mean on inputs scaled to [0,1]^D, targets standardised; "
                  "GP-EI-MCMC slice-samples (mean, amplitude, noise) jointly and the length scales one by one "
                  "with Spearmint's priors (length scales U(0,2), log amplitude N(0,1), horseshoe(0.1) noise), "
                  "100 burn-in sweeps then 10 samples per ask; EI is averaged over the samples and maximised over "
                  "1000 shifted Sobol points plus 10 points near the incumbent, the 10 best refined by projected "
                  "gradient ascent.  2 random points start every run.");
    free(tr);
    free(htr);
    json_decref(peer);
    return PK_OK;
}

const pk_repro pk_repro_spearmint = {"spearmint", PK_REPRO_PARTIAL,
                                     "Branin and Hartmann-6: random vs GP-EI-Opt vs GP-EI-MCMC vs Optuna TPE", run};
