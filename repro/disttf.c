/* disttf.c — "Distribution Transformers: Fast Approximate Bayesian Inference
 * With On-The-Fly Prior Adaptation" (Whittle, Ziomek, Rawling, Osborne 2025).
 *
 * Claims checked, at CPU scale:
 *  1. one network, trained on random mixture priors, maps a prior it has
 *     never seen plus data to a mixture posterior: on the LINEAR task the
 *     exact posterior is known, and the expected KL (the gap in -log q of the
 *     true theta) is small;
 *  2. its log-likelihood is on par with or better than approximate
 *     inference that assumes a Gaussian posterior: we compare with the best
 *     Gaussian there is under this score (the reference posterior's own
 *     moments), on the multimodal RANGE (sensor-fusion) task;
 *  3. the output has the prior's form, so it can be fed back: 3 rounds of
 *     updates stay close to the one-shot reference;
 *  4. a posterior takes milliseconds (batched forward pass).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/disttf.h"
#include "repro.h"

typedef struct run_cfg {
    pk_dtf_task_kind kind;
    const char *name;
} run_cfg;

static int progress(int step, int steps, double loss, void *user)
{
    pk_repro_ctx *ctx = user;
    if (step == steps || step % (steps / 4 > 0 ? steps / 4 : 1) == 0)
        pk_repro_log(ctx, "step %d/%d: -log q(theta) %.3f", step, steps, loss);
    return 0;
}

static int run_task(pk_repro_ctx *ctx, pk_dtf_task_kind kind, double curve[4][8], int *ncurve)
{
    int quick = pk_repro_quick(ctx);
    pk_dtf_task t = pk_dtf_task_default(kind);
    const char *tn = kind == PK_DTF_LINEAR ? "linear" : "range";
    int K = 4;
    pk_dtf_config c = pk_dtf_config_default(t.d, pk_dtf_task_obs_dim(&t), K);
    pk_dtf_train_params tp = pk_dtf_train_params_default();
    if (quick) {
        c.d_model = 32, c.n_head = 4, c.n_enc = 1, c.n_dec = 2;
        tp.steps = 1500, tp.batch = 32, tp.lr = 2e-3;
    } else {
        tp.steps = 8000, tp.batch = 64;
    }
    pk_rng rng;
    pk_rng_seed_stream(&rng, pk_repro_seed(ctx), (uint64_t)kind);
    pk_err err;
    pk_err_clear(&err);
    pk_dtf *m = NULL;
    int st = pk_dtf_new(&c, &rng, &m, &err);
    double t0 = pk_time_now(), fl = NAN;
    if (!st)
        st = pk_dtf_train(m, &t, &tp, &rng, progress, ctx, &fl, &err);
    if (st) {
        pk_repro_note(ctx, "%s task: training failed: %s", tn, err.msg);
        pk_dtf_free(m);
        return st;
    }
    double train_s = pk_time_now() - t0;
    char scale[256];
    snprintf(scale, sizeof scale,
             "%s task, K = %d, width %d, %d+%d layers (%zu parameters), %d steps x %d random priors (%.0f s); "
             "%d test problems",
             tn, K, c.d_model, c.n_enc, c.n_dec, pk_dtf_num_params(m), tp.steps, tp.batch, train_s,
             quick ? 100 : 500);
    int problems = quick ? 100 : 500, G = quick ? 250 : 400;
    static const int ns[] = {1, 2, 4, 8};
    pk_dtf_eval e[4], seq;
    *ncurve = 4;
    for (int i = 0; i < 4; i++) {
        pk_rng er;
        pk_rng_seed_stream(&er, pk_repro_seed(ctx), 100 + (uint64_t)i);
        if ((st = pk_dtf_evaluate(m, &t, problems, ns[i], 1, G, &er, e + i, &err)))
            break;
        curve[0][i] = e[i].nll_dt, curve[1][i] = e[i].nll_ref, curve[2][i] = e[i].nll_gauss,
        curve[3][i] = e[i].nll_prior;
    }
    pk_rng er;
    pk_rng_seed_stream(&er, pk_repro_seed(ctx), 200);
    if (!st)
        st = pk_dtf_evaluate(m, &t, problems, 2, 3, G, &er, &seq, &err);
    pk_dtf_free(m);
    if (st) {
        pk_repro_note(ctx, "%s task: evaluation failed: %s", tn, err.msg);
        return st;
    }
    const char *ref = kind == PK_DTF_LINEAR ? "exact" : "grid";
    char metric[200];
    for (int i = 0; i < 4; i++) {
        snprintf(metric, sizeof metric, "%s, n = %d: -log q(theta), DT (+- %.3f) [paper: on par with SVI/PFN]", tn,
                 ns[i], e[i].se_dt);
        char peer[64];
        snprintf(peer, sizeof peer, "%s posterior", ref);
        pk_repro_row(ctx, metric, e[i].nll_dt, NAN, e[i].nll_ref, peer, scale, PK_VERDICT_INFO);
    }
    /* claim 1: the expected KL to the exact posterior is small (LINEAR) */
    if (kind == PK_DTF_LINEAR) {
        double worst = 0;
        for (int i = 0; i < 4; i++)
            if (e[i].gap > worst)
                worst = e[i].gap;
        snprintf(metric, sizeof metric, "linear: largest gap to the exact posterior over n = 1..8, nats (<= %.2f)",
                 quick ? 0.5 : 0.2);
        pk_repro_row(ctx, metric, worst, NAN, NAN, NULL, scale,
                     quick ? PK_VERDICT_INFO : pk_verdict_le(worst, 0.2));
    }
    /* claim 2: at least as good as the best Gaussian posterior, where posteriors are multimodal */
    double adv = e[0].nll_gauss - e[0].nll_dt;
    snprintf(metric, sizeof metric, "%s, n = 1: best single Gaussian's -log q minus DT's (>= 0: DT on par or better)",
             tn);
    pk_repro_row(ctx, metric, adv, NAN, e[0].nll_gauss, "moment-matched Gaussian of the reference", scale,
                 kind == PK_DTF_RANGE && !quick ? pk_verdict_ge(adv, 0) : PK_VERDICT_INFO);
    /* claim 3: sequential updates, the output fed back as the prior */
    snprintf(metric, sizeof metric, "%s: 3 rounds of 2 observations, gap to the %s posterior of all 6 (+- %.3f)", tn,
             ref, seq.se_gap);
    double one = e[2].gap; /* one shot with 4; sequential with 6 should not be much worse */
    pk_repro_row(ctx, metric, seq.gap, NAN, one, "one shot, n = 4", scale,
                 quick ? PK_VERDICT_INFO : pk_verdict_le(seq.gap, one + 0.15));
    /* claim 4: milliseconds per posterior */
    snprintf(metric, sizeof metric, "%s: milliseconds per posterior, DT batched forward pass", tn);
    char gname[64];
    snprintf(gname, sizeof gname, "%dx%d grid", G, G);
    pk_repro_row(ctx, metric, e[2].ms_dt, NAN, e[2].ms_ref, kind == PK_DTF_LINEAR ? "exact formula" : gname, scale,
                 pk_verdict_le(e[2].ms_dt, 100));
    return PK_OK;
}

static int run(pk_repro_ctx *ctx)
{
    double cl[4][8], cr[4][8];
    int nl = 0, nr = 0;
    int st = run_task(ctx, PK_DTF_LINEAR, cl, &nl);
    if (!st)
        st = run_task(ctx, PK_DTF_RANGE, cr, &nr);
    if (st)
        return st;
    static const double x[] = {1, 2, 4, 8};
    static const char *names[] = {"distribution transformer", "reference posterior", "best single Gaussian", "prior"};
    pk_plot *pl = pk_plot_new("Range sensors: -log density of the true position", "observations",
                              "mean -log q(theta), nats");
    if (pl) {
        for (int s = 0; s < 4; s++)
            pk_plot_line(pl, names[s], x, cr[s], (size_t)nr);
        pk_plot_set_log(pl, 1, 0);
        pk_repro_plot(ctx, "disttf_range_nll", pl);
        pk_plot_free(pl);
    }
    pk_repro_note(ctx,
                  "The paper trains Distribution Transformers on GPUs for sensor fusion, quantum-system parameters "
                  "and GP predictives with hyperpriors, and reports log-likelihoods on par with or better than SVI, "
                  "PFN, TabPFN and ACE at millisecond latency.  We check the same mechanism on two small task "
                  "families: LINEAR (theta in R^2, y = theta + N(0, I), where the exact posterior of a mixture "
                  "prior is a mixture, so the gap in -log q(theta) is the expected KL to the truth) and RANGE "
                  "(2-d position from range sensors with noise 0.3, multimodal posteriors, reference on a grid). "
                  "Priors are random 4-component mixtures never seen in training.  'Best single Gaussian' is the "
                  "reference posterior's own mean and covariance: no Gaussian approximation (Laplace, EKF, Gaussian "
                  "VI) can score better on this metric.");
    return PK_OK;
}

static int run_serial(pk_repro_ctx *ctx) { return pk_repro_serial(ctx, run); }

const pk_repro pk_repro_disttf = {"disttf", PK_REPRO_PARTIAL,
                                  "Distribution Transformer: mixture prior + data -> mixture posterior, against the "
                                  "exact / grid posterior and the best Gaussian (linear and range-sensor tasks)",
                                  run_serial};
