/* "Bayes-optimal learning of an extensive-width neural network from quadratically
 * many samples" (Maillard, Troiani, Martin, Krzakala, Zdeborova): the closed-form
 * Bayes-optimal error curve and GAMP-RIE against it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "probkit/theory.h"
#include "repro.h"

/* pk_gamp_rie's divergence guard repeats the kept iterate's error to the end
 * of the trace: three equal final entries (a running iteration never repeats
 * its error exactly) */
static int stopped(const double *tr, size_t iters)
{
    return iters >= 3 && tr[iters - 1] == tr[iters - 2] && tr[iters - 2] == tr[iters - 3];
}

/* nseed independent instances (d, m, n, noise) of GAMP-RIE on the network's
 * design, 200 iterations, final errors into draws; an instance stopped by the
 * divergence guard is rerun with heavier damping (0.6, then 0.7), as one would
 * by hand, and counted in *restarts (about 1 in 10 at alpha = 0.1 with the
 * old start of the output channel; none in full mode with the authors' start) */
static int instances(size_t d, size_t m, size_t n, double noise, size_t nseed, pk_rng *rng, pk_mat *S, double *tr,
                     double *draws, size_t *restarts)
{
    const size_t iters = 200;
    for (size_t k = 0; k < nseed; k++) {
        pk_gamp_problem *p;
        int st = pk_gamp_problem_new(d, m, n, noise, PK_GAMP_RANK1, rng, &p);
        if (st)
            return st;
        st = pk_gamp_rie(p, iters, 0.5, S, tr);
        for (double w = 0.6; !st && w < 0.75 && stopped(tr, iters); w += 0.1) {
            (*restarts)++;
            st = pk_gamp_rie(p, iters, w, S, tr);
        }
        pk_gamp_problem_free(p);
        if (st)
            return st;
        draws[k] = tr[iters - 1];
    }
    return PK_OK;
}

static int run(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    const double kappa = 0.5;
    static const double anchors_a[3] = {0.113, 0.231, 0.348}, anchors_v[3] = {0.681, 0.301, 0.0416};
    int st;
    for (int i = 0; i < 3; i++) {
        double e;
        if ((st = pk_gamp_theory(kappa, anchors_a[i], 0, &e)))
            return st;
        char metric[120];
        snprintf(metric, sizeof metric, "Bayes-optimal MSE, kappa = 0.5, alpha = %.3f (theory)", anchors_a[i]);
        pk_repro_row(ctx, metric, e, anchors_v[i], NAN, NULL, "state evolution + Gauss-Kronrod quadrature of int rho^3",
                     pk_verdict_le(fabs(e - anchors_v[i]), 0.003));
    }
    double below, above, thr = kappa - kappa * kappa / 2;
    if ((st = pk_gamp_theory(kappa, thr - 0.005, 0, &below)) || (st = pk_gamp_theory(kappa, thr + 0.005, 0, &above)))
        return st;
    pk_repro_row(ctx, "theory MSE just above alpha = kappa - kappa^2/2 = 0.375 (perfect recovery)", above, 0, below,
                 "MSE just below", "alpha = 0.380 / 0.370", above < 1e-8 && below > 1e-3 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);

    /* the curves */
    enum { NA = 40 };
    double xa[NA], y0[NA], y1[NA];
    for (int i = 0; i < NA; i++) {
        xa[i] = 0.5 * (i + 1) / NA;
        if ((st = pk_gamp_theory(kappa, xa[i], 0, &y0[i])) || (st = pk_gamp_theory(kappa, xa[i], 0.1, &y1[i])))
            return st;
    }

    /* GAMP-RIE on the network's own design Z = (x x^T - I)/sqrt(d), damped on the
     * output channel as in the authors' code (damping 0.5).  Peer: the authors'
     * own AMP at d = 100 (mean of their runs, AMP_100_0.5_0.0.csv of
     * SPOC-group/ExtensiveWidthQuadraticSamples). */
    pk_rng rng;
    pk_rng_seed(&rng, pk_repro_seed(ctx));
    /* several independent instances per alpha (new teacher, inputs and
     * initialisation each): the check is on their mean, reported with the
     * standard error, so it does not hinge on one draw's scatter */
    const size_t d = 100, m = d / 2, nin = quick ? 3 : 10, nout = quick ? 1 : 5;
    static const double ga[] = {0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.425, 0.45, 0.5};
    static const double authors[] = {0.7321, 0.5787, 0.4184, 0.2724, 0.1370, 0.04143, 1.171e-3, 3.786e-4, 1.508e-4};
    static const int in_quick[] = {1, 0, 1, 0, 1, 1, 1, 1, 0};
    enum { NG = sizeof ga / sizeof *ga };
    double gx[NG], gy[NG], px[NG], worst = 0, worst_se = 0, worst_a = 0, worst_rec = 0, worst_peer = 0, dev_peer = 0,
                                   max_se = 0;
    size_t ng = 0, maxit = 200, restarts = 0;
    pk_mat *S = pk_mat_new(d, d);
    double *tr = malloc(maxit * sizeof *tr), t0 = pk_time_now(), draws[16];
    if (!S || !tr) {
        pk_mat_free(S);
        free(tr);
        return PK_ENOMEM;
    }
    for (size_t i = 0; i < NG; i++) {
        if (quick && !in_quick[i])
            continue;
        /* 200 iterations everywhere (in instances()): convergence is slow near
         * perfect recovery, and at small alpha some instances wander (MSE above
         * 1) for ~100 iterations before settling on the plateau */
        size_t n = (size_t)(ga[i] * (double)(d * d));
        size_t nseed = ga[i] <= 0.35 ? nin : nout;
        double mean, var, th;
        if ((st = instances(d, m, n, 0, nseed, &rng, S, tr, draws, &restarts)))
            goto done;
        pk_mean_var(draws, nseed, &mean, &var);
        double se = sqrt(var / (double)nseed);
        if ((st = pk_gamp_theory(kappa, ga[i], 0, &th)))
            goto done;
        gx[ng] = ga[i], gy[ng] = mean, px[ng++] = authors[i];
        pk_repro_log(ctx,
                     "GAMP-RIE rank-one d=%zu alpha=%.3f: MSE %.4g +- %.2g (SE, %zu draws, sd %.2g; theory %.4g, "
                     "authors' AMP %.4g)",
                     d, ga[i], mean, se, nseed, sqrt(var), th, authors[i]);
        if (ga[i] <= 0.35) {
            if (fabs(mean - th) > worst)
                worst = fabs(mean - th), worst_se = se, worst_a = ga[i];
            max_se = fmax(max_se, se);
            worst_peer = fmax(worst_peer, fabs(authors[i] - th));
            dev_peer = fmax(dev_peer, fabs(mean - authors[i]));
        } else
            worst_rec = fmax(worst_rec, mean);
    }
    char sc[400];
    snprintf(sc, sizeof sc,
             "d = %zu, m = %zu, the network's design (xx^T - I)/sqrt(d), damping 0.5, 200 iterations; mean of %zu "
             "independent instances per alpha; worst at alpha = %.2f: %.4f +- %.4f (SE), largest SE over alphas %.4f; "
             "%zu diverged instance(s) rerun with damping 0.6-0.7; %.0f s",
             d, m, nin, worst_a, worst, worst_se, max_se, restarts, pk_time_now() - t0);
    pk_repro_row(ctx, "GAMP-RIE on the network's design: max |mean MSE - theory| for alpha in [0.1, 0.35]", worst, 0.03,
                 worst_peer, "authors' AMP, d = 100", sc, pk_verdict_le(worst, 0.03));
    snprintf(sc, sizeof sc,
             "the finite-d gap to the d -> infinity theory is shared: our mean vs the authors' published AMP at the "
             "same d and alpha (largest SE %.4f)",
             max_se);
    pk_repro_row(ctx, "GAMP-RIE vs the authors' AMP at d = 100: max |difference| for alpha in [0.1, 0.35]", dev_peer,
                 NAN, NAN, NULL, sc, PK_VERDICT_INFO);
    snprintf(sc, sizeof sc, "d = %zu, m = %zu, network design, damping 0.5, 200 iterations, mean of %zu instances", d,
             m, nout);
    pk_repro_row(ctx, "GAMP-RIE on the network's design: max MSE for alpha >= 0.425 (perfect recovery)", worst_rec, 1e-3,
                 1.171e-3, "authors' AMP at 0.425, d = 100", sc, pk_verdict_le(worst_rec, 1e-3));

    /* full mode: is the gap at small alpha finite-size?  The same check at
     * d = 200 (alpha = 0.1, where d = 100 is farthest from the theory) */
    if (!quick) {
        const size_t d2 = 200, n2 = (size_t)(0.1 * (double)(d2 * d2)), k2 = 12;
        pk_mat *S2 = pk_mat_new(d2, d2);
        double th, mean2, var2;
        if (!S2) {
            st = PK_ENOMEM;
            goto done;
        }
        st = instances(d2, d2 / 2, n2, 0, k2, &rng, S2, tr, draws, &restarts);
        pk_mat_free(S2);
        if (st || (st = pk_gamp_theory(kappa, 0.1, 0, &th)))
            goto done;
        pk_mean_var(draws, k2, &mean2, &var2);
        snprintf(sc, sizeof sc,
                 "d = 200, m = 100, alpha = 0.1: mean MSE %.4f +- %.4f (SE, %zu instances) vs theory %.4f; at d = 100 "
                 "the same alpha gives %.4f",
                 mean2, sqrt(var2 / (double)k2), k2, th, gy[0]);
        pk_repro_row(ctx, "GAMP-RIE at d = 200, alpha = 0.1: |mean MSE - theory| (finite-size check)", fabs(mean2 - th),
                     NAN, NAN, NULL, sc, PK_VERDICT_INFO);
    }

    /* label noise (Delta = 0.25) at alpha = 0.3 against the theory and the
     * authors' AMP_100_0.5_0.25.csv, as a mean over instances too */
    {
        double th, an = 0.3, noise = 0.25, mean, var;
        if ((st = instances(d, m, (size_t)(an * (double)(d * d)), noise, nin, &rng, S, tr, draws, &restarts)) ||
            (st = pk_gamp_theory(kappa, an, noise, &th)))
            goto done;
        pk_mean_var(draws, nin, &mean, &var);
        snprintf(sc, sizeof sc,
                 "d = %zu, network design, noise variance 0.25, alpha = 0.3, theory %.4f; mean of %zu instances, "
                 "SE %.4f, 200 iterations",
                 d, th, nin, sqrt(var / (double)nin));
        pk_repro_row(ctx, "GAMP-RIE mean MSE with label noise 0.25, alpha = 0.3 (|MSE - theory| <= 0.03)", mean, th,
                     0.3491, "authors' AMP, d = 100", sc, pk_verdict_le(fabs(mean - th), 0.03));
    }

    /* full mode: the Gaussian-equivalent GOE design too (sensing matrices regenerated every pass: slower) */
    double gox[3], goy[3];
    size_t ngo = 0;
    if (!quick) {
        static const double goa[3] = {0.15, 0.3, 0.45};
        const size_t dg = 60;
        pk_mat *Sg = pk_mat_new(dg, dg);
        if (!Sg) {
            st = PK_ENOMEM;
            goto done;
        }
        double wg = 0;
        for (int i = 0; i < 3; i++) {
            pk_gamp_problem *p;
            double th;
            if ((st = pk_gamp_problem_new(dg, dg / 2, (size_t)(goa[i] * (double)(dg * dg)), 0, PK_GAMP_GOE, &rng, &p)))
                break;
            st = pk_gamp_rie(p, 100, 0.5, Sg, tr);
            pk_gamp_problem_free(p);
            if (st || (st = pk_gamp_theory(kappa, goa[i], 0, &th)))
                break;
            gox[ngo] = goa[i], goy[ngo++] = tr[99];
            if (goa[i] <= 0.35)
                wg = fmax(wg, fabs(tr[99] - th));
            pk_repro_log(ctx, "GAMP-RIE GOE d=%zu alpha=%.2f: MSE %.4g (theory %.4g)", dg, goa[i], tr[99], th);
        }
        pk_mat_free(Sg);
        if (st)
            goto done;
        /* reported, not judged: the target is the network's own design at d = 100 */
        pk_repro_row(ctx, "GAMP-RIE on the GOE-equivalent design: max |MSE - theory|, alpha in {0.15, 0.3}", wg, 0.03,
                     NAN, NULL, "d = 60, damping 0.5, 100 iterations, one draw", PK_VERDICT_INFO);
        pk_repro_row(ctx, "GAMP-RIE on the GOE-equivalent design: MSE at alpha = 0.45", goy[2], 1e-3, NAN, NULL,
                     "d = 60, damping 0.5, 100 iterations", PK_VERDICT_INFO);
    }
    pk_repro_note(ctx,
                  "Theory: spectral law of S* = W^T W / sqrt(md) (free Poisson, rate kappa, scaled 1/sqrt(kappa)) "
                  "plus a semicircle; its Stieltjes transform solves a cubic; the denoising MMSE is "
                  "D - (4 pi^2/3) D^2 int rho^3 and the state evolution is mse <- mmse((Delta + 2 mse)/(4 alpha)). "
                  "GAMP-RIE follows the authors' code: the output channel starts at omega = V = 10 and its (omega, V) "
                  "are damped (0.5) from the first step, the matrix "
                  "channel's noise D = 1/(4 alpha <g^2>) is estimated from the data, and the variance fed back is "
                  "2 mmse(D). Without that damping the iteration diverges on the network's own design (session 1); "
                  "at alpha = 0.1 (d = 100) the iteration ends in a limit cycle of amplitude ~0.02 (the authors' too), "
                  "so the final iterate's error scatters with its phase. The peer column is the authors' own AMP at d = 100 "
                  "(their published CSV), not rerun here.");
    pk_plot *pl = pk_plot_new("Bayes-optimal MSE of S* (kappa = 0.5)", "alpha = n / d^2", "MSE");
    if (pl) {
        pk_plot_line(pl, "theory, noiseless", xa, y0, NA);
        pk_plot_line(pl, "theory, noise 0.1", xa, y1, NA);
        pk_plot_scatter(pl, "GAMP-RIE, network design, d = 100", gx, gy, ng);
        pk_plot_scatter(pl, "authors' AMP, d = 100", gx, px, ng);
        if (ngo)
            pk_plot_scatter(pl, "GAMP-RIE, GOE design, d = 60", gox, goy, ngo);
        pk_plot_scatter(pl, "paper anchors", anchors_a, anchors_v, 3);
        pk_plot_vline(pl, "kappa - kappa^2/2", thr);
        pk_repro_plot(ctx, "mse_curve", pl);
        pk_plot_free(pl);
    }
done:
    pk_mat_free(S);
    free(tr);
    return st;
}

const pk_repro pk_repro_gamprie = {"gamprie", PK_REPRO_IMPLEMENTED,
                                   "closed-form Bayes-optimal error curve (kappa = 0.5 anchors) and GAMP-RIE against it",
                                   run};
