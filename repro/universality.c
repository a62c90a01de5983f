/* "The Universality Lens": the regret of a Bayesian mixture over an
 * over-parameterised class is governed by the weight of the target, not the
 * size of the class.  Exact regrets on a gridded product-sigmoid class. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/theory.h"
#include "repro.h"

static int cmp_idx_val(const void *a, const void *b)
{
    const double *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

/* Spearman rank correlation (average ranks for ties). */
static double spearman(const double *x, const double *y, size_t n)
{
    double *rx = malloc(n * sizeof *rx), *ry = malloc(n * sizeof *ry), *t = malloc(2 * n * sizeof *t);
    if (!rx || !ry || !t) {
        free(rx);
        free(ry);
        free(t);
        return NAN;
    }
    for (int pass = 0; pass < 2; pass++) {
        const double *v = pass ? y : x;
        double *r = pass ? ry : rx;
        for (size_t i = 0; i < n; i++)
            t[2 * i] = v[i], t[2 * i + 1] = (double)i;
        qsort(t, n, 2 * sizeof *t, cmp_idx_val);
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j + 1 < n && t[2 * (j + 1)] == t[2 * i])
                j++;
            for (size_t k = i; k <= j; k++)
                r[(size_t)t[2 * k + 1]] = 0.5 * (double)(i + j);
            i = j + 1;
        }
    }
    double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++)
        mx += rx[i], my += ry[i];
    mx /= (double)n, my /= (double)n;
    for (size_t i = 0; i < n; i++) {
        sxy += (rx[i] - mx) * (ry[i] - my);
        sxx += (rx[i] - mx) * (rx[i] - mx);
        syy += (ry[i] - my) * (ry[i] - my);
    }
    free(rx);
    free(ry);
    free(t);
    return sxy / sqrt(sxx * syy);
}

static int run(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    size_t m = 3, G = quick ? 11 : 21, n_targets = 100;
    double scale = 4.0;
    static const size_t ns_q[] = {1, 3, 10, 30, 100, 200}, ns_f[] = {1, 3, 10, 30, 100, 300, 1000};
    const size_t *ns = quick ? ns_q : ns_f;
    size_t nn = quick ? 6 : 7;
    pk_hclass *c;
    int st = pk_hclass_product_grid(m, G, scale, &c);
    if (st)
        return st;
    pk_rng rng;
    pk_rng_seed(&rng, pk_repro_seed(ctx));
    double *logw = malloc(n_targets * sizeof *logw), *nstar = malloc(n_targets * sizeof *nstar);
    double *reg = malloc(n_targets * nn * sizeof *reg), *bnd = malloc(n_targets * nn * sizeof *bnd),
           *p1s = malloc(n_targets * sizeof *p1s);
    if (!logw || !nstar || !reg || !bnd || !p1s) {
        st = PK_ENOMEM;
        goto done;
    }
    size_t holds = 0, total = 0;
    const double eps = 0.01, target_regret = 0.02;
    for (size_t t = 0; t < n_targets; t++) {
        /* a target drawn from the prior: a random grid point's source */
        size_t h = (size_t)pk_rng_below(&rng, c->H);
        double p0[2] = {c->probs[2 * h], c->probs[2 * h + 1]};
        p1s[t] = p0[1];
        logw[t] = log(pk_hclass_weight(c, p0, eps));
        nstar[t] = NAN;
        for (size_t k = 0; k < nn; k++) {
            double r;
            if ((st = pk_hclass_regret_exact(c, p0[1], ns[k], &r)))
                goto done;
            reg[t * nn + k] = r;
            bnd[t * nn + k] = pk_hclass_regret_bound(c, p0, ns[k], NULL);
            holds += r <= bnd[t * nn + k] + 1e-9;
            total++;
            if (isnan(nstar[t]) && r / (double)ns[k] <= target_regret)
                nstar[t] = (double)ns[k];
        }
        if (isnan(nstar[t]))
            nstar[t] = 2.0 * (double)ns[nn - 1]; /* not reached: rank it last */
    }
    char scale_s[160];
    snprintf(scale_s, sizeof scale_s, "%zu targets x n in {1..%zu}; class %zu^%zu = %zu hypotheses", n_targets,
             ns[nn - 1], G, m, c->H);
    pk_repro_row(ctx, "fraction of (target, n) with regret <= min_eps[-log W_eps + n eps]",
                 (double)holds / (double)total, 1.0, NAN, NULL, scale_s,
                 holds == total ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    double rho = spearman(logw, nstar, n_targets);
    snprintf(scale_s, sizeof scale_s, "log W_0.01 against n with regret/n <= %.2f nats, %zu targets", target_regret,
             n_targets);
    pk_repro_row(ctx, "Spearman(weight of target, samples needed)", rho, NAN, NAN, NULL, scale_s,
                 rho < -0.5 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    pk_repro_note(ctx, "A large weight W_eps (many parameters near the target, e.g. P(1) = 1/2 reached by every "
                       "theta with a zero coordinate) means few samples are needed: the rank correlation between "
                       "log W_0.01 and the samples needed is %.2f (negative: heavier targets learn faster).",
                  rho);

    /* plot: regret per symbol and its bound for the heaviest and lightest targets */
    size_t hi = 0, lo = 0;
    for (size_t t = 1; t < n_targets; t++) {
        if (logw[t] > logw[hi])
            hi = t;
        if (logw[t] < logw[lo])
            lo = t;
    }
    pk_plot *pl = pk_plot_new("Mixture regret per symbol and the weight bound", "n", "nats per symbol");
    pk_plot_set_log(pl, 1, 1);
    double xs[8], y1[8], y2[8];
    for (int which = 0; which < 2; which++) {
        size_t t = which ? lo : hi;
        for (size_t k = 0; k < nn; k++) {
            xs[k] = (double)ns[k];
            y1[k] = reg[t * nn + k] / xs[k];
            y2[k] = bnd[t * nn + k] / xs[k];
        }
        char l1[96], l2[96];
        snprintf(l1, sizeof l1, "regret, P(1)=%.3f (log W=%.1f)", p1s[t], logw[t]);
        snprintf(l2, sizeof l2, "bound, P(1)=%.3f", p1s[t]);
        pk_plot_line(pl, l1, xs, y1, nn);
        pk_plot_line(pl, l2, xs, y2, nn);
    }
    pk_repro_plot(ctx, "regret", pl);
    pk_plot_free(pl);

    /* SGLD ensemble against the exact mixture (a fine grid of the same class). */
    pk_hclass *fine;
    if ((st = pk_hclass_product_grid(m, quick ? 41 : 81, scale, &fine)))
        goto done;
    double worst = 0;
    static const double truth[] = {0.5, 0.7, 0.9};
    static const size_t sizes[] = {10, 40};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 2; b++) {
            size_t n = sizes[b], k = (size_t)llround(truth[a] * (double)n);
            double cnt[2] = {(double)(n - k), (double)k}, pm[2], ps;
            pk_hclass_predict(fine, cnt, pm);
            st = pk_sgld_product_predict(m, scale, k, n, quick ? 32 : 128, quick ? 4000 : 10000, 5, 0.005, &rng, &ps);
            if (st) {
                pk_hclass_free(fine);
                goto done;
            }
            double p0 = truth[a];
            double lm = -(p0 * log(pm[1]) + (1 - p0) * log(pm[0])), ls = -(p0 * log(ps) + (1 - p0) * log1p(-ps));
            worst = fmax(worst, fabs(ls - lm) / lm);
        }
    pk_hclass_free(fine);
    snprintf(scale_s, sizeof scale_s, "%d SGLD chains, minibatch 5; 3 targets x n in {10, 40}", quick ? 32 : 128);
    pk_repro_row(ctx, "SGLD ensemble log-loss vs exact mixture: max relative gap", worst, 0.02, NAN, NULL, scale_s,
                 pk_verdict_le(worst, 0.02));
    st = PK_OK;
done:
    pk_hclass_free(c);
    free(logw);
    free(nstar);
    free(reg);
    free(bnd);
    free(p1s);
    return st;
}

const pk_repro pk_repro_universality = {"universality", PK_REPRO_IMPLEMENTED,
                                        "mixture regret vs the weight bound on an over-parameterised class; SGLD "
                                        "ensemble vs the exact mixture",
                                        run};
