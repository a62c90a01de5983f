/* mpnp — "Martingale Posterior Neural Processes" (Lee, Yun, Nam, Fong & Lee,
 * ICLR 2023): a neural process whose functional uncertainty comes from
 * generated pseudo contexts (a martingale posterior) instead of a latent
 * variable.  The paper's headline synthetic benchmark: 1-d regression on
 * GP draws (RBF kernel), context and target log-likelihood per point of
 * CNP, NP and MPNP; the t-noise column evaluates the same models on data
 * with heavy-tailed noise.  We train all three at a CPU scale with the
 * same steps, batches and tasks, and compare them on the same test tasks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/mpnp.h"
#include "repro.h"

typedef struct setup {
    int width, steps, batch, n_pseudo, n_samples;
    int eval_batches, eval_draws;
    int nm; /* models: 3 (the paper's), or 4 with the data-space ablation */
} setup;

/* The models, in report order: the paper's three, then (full mode) MPNP with
 * the generator in data space, an ablation of ours. */
enum { NM_MAX = 4 };
static const char *NAME[NM_MAX] = {"CNP", "NP", "MPNP", "MPNP (data-space generator)"};
static const pk_mpnp_kind KIND[NM_MAX] = {PK_MPNP_CNP, PK_MPNP_NP, PK_MPNP_MPNP, PK_MPNP_MPNP};

static int fit(pk_repro_ctx *ctx, int j, const setup *s, uint64_t seed, pk_mpnp **out, double *secs)
{
    pk_mpnp_kind kind = KIND[j];
    pk_rng rng;
    pk_rng_seed_stream(&rng, seed, (uint64_t)j + 1);
    pk_mpnp_config c = pk_mpnp_config_default(kind);
    c.width = s->width, c.n_pseudo = s->n_pseudo, c.n_samples = s->n_samples;
    c.pseudo_space = j == 3 ? PK_MPNP_PSEUDO_DATA : PK_MPNP_PSEUDO_REPR;
    pk_mpnp_task_params tp = pk_mpnp_task_params_default(PK_MPNP_RBF);
    pk_mpnp_train_params trp = pk_mpnp_train_params_default();
    trp.steps = s->steps, trp.batch = s->batch;
    pk_err err = {0};
    double t0 = pk_time_now(), loss = NAN;
    int st = pk_mpnp_new(&c, &rng, out, &err);
    if (!st)
        st = pk_mpnp_train(*out, &tp, &trp, &rng, NULL, NULL, &loss, &err);
    *secs = pk_time_now() - t0;
    if (st) {
        pk_repro_log(ctx, "%s: training failed: %s", NAME[j], err.msg);
        pk_mpnp_free(*out);
        *out = NULL;
    } else {
        pk_repro_log(ctx, "%s: %lld parameters, %d steps x %d tasks in %.1f s, final loss %.4f", NAME[j],
                     (long long)pk_mpnp_num_params(*out), s->steps, s->batch, *secs, loss);
    }
    return st;
}

/* Per-model mean context / target log-likelihood on the same tasks, and
 * the paired MPNP - CNP and MPNP - NP target differences with standard errors. */
typedef struct scores {
    double ctx[NM_MAX], tar[NM_MAX], tar_se[NM_MAX];
    double d_cnp, d_cnp_se, d_np, d_np_se, d_data, d_data_se; /* MPNP - CNP, MPNP - NP, MPNP(data) - CNP */
} scores;

static int evaluate(pk_mpnp *const *m, double t_noise, const setup *s, uint64_t seed, scores *out)
{
    pk_mpnp_task_params tp = pk_mpnp_task_params_default(PK_MPNP_RBF);
    tp.t_noise = t_noise;
    pk_rng tasks, noise;
    pk_rng_seed_stream(&tasks, seed, 100);
    pk_rng_seed_stream(&noise, seed, 101);
    pk_mpnp_batch b;
    double *ll = malloc((size_t)s->batch * tp.max_points * sizeof *ll);
    if (!ll || pk_mpnp_batch_alloc(&b, s->batch, tp.max_points)) {
        free(ll);
        return PK_ENOMEM;
    }
    double c[NM_MAX] = {0}, t[NM_MAX] = {0}, t2[NM_MAX] = {0}, d[3] = {0}, d2[3] = {0};
    pk_err err = {0};
    int st = PK_OK, nb = s->eval_batches;
    for (int k = 0; k < nb && !st; k++) {
        if ((st = pk_mpnp_sample_batch(&tp, s->batch, 0, 0, &tasks, &b, &err)))
            break;
        int n = b.nc + b.nt;
        double tb[NM_MAX] = {0};
        for (int j = 0; j < s->nm && !st; j++) {
            if ((st = pk_mpnp_batch_loglik(m[j], &b, s->eval_draws, &noise, ll, &err)))
                break;
            double cc = 0, tt = 0;
            for (int i = 0; i < s->batch; i++)
                for (int p = 0; p < n; p++) {
                    if (p < b.nc)
                        cc += ll[(size_t)i * n + p];
                    else
                        tt += ll[(size_t)i * n + p];
                }
            cc /= (double)s->batch * b.nc, tt /= (double)s->batch * b.nt;
            c[j] += cc, t[j] += tt, t2[j] += tt * tt, tb[j] = tt;
        }
        if (st)
            break;
        double e[3] = {tb[2] - tb[0], tb[2] - tb[1], tb[3] - tb[0]};
        for (int q = 0; q < 3; q++)
            d[q] += e[q], d2[q] += e[q] * e[q];
    }
    free(ll);
    pk_mpnp_batch_free(&b);
    if (st)
        return st;
    for (int j = 0; j < s->nm; j++) {
        out->ctx[j] = c[j] / nb, out->tar[j] = t[j] / nb;
        out->tar_se[j] = sqrt(fmax(t2[j] / nb - out->tar[j] * out->tar[j], 0) / (nb - 1));
    }
    double mean[3], se[3];
    for (int q = 0; q < 3; q++)
        mean[q] = d[q] / nb, se[q] = sqrt(fmax(d2[q] / nb - mean[q] * mean[q], 0) / (nb - 1));
    out->d_cnp = mean[0], out->d_cnp_se = se[0], out->d_np = mean[1], out->d_np_se = se[1];
    out->d_data = mean[2], out->d_data_se = se[2];
    return PK_OK;
}

/* Predictive bands of each model on one RBF task (mixture mean +- 2 sd over draws). */
static void plot_bands(pk_repro_ctx *ctx, pk_mpnp *const *m, int nm, uint64_t seed)
{
    enum { G = 120, NC = 6, S = 50 };
    pk_mpnp_task_params tp = pk_mpnp_task_params_default(PK_MPNP_RBF);
    tp.min_ls = tp.max_ls = 0.4, tp.min_scale = tp.max_scale = 0.8;
    pk_rng rng;
    pk_rng_seed_stream(&rng, seed, 200);
    pk_mpnp_batch b;
    if (pk_mpnp_batch_alloc(&b, 1, tp.max_points))
        return;
    pk_err err = {0};
    float xt[G], mu[S * G], sd[S * G], ps[S * 256 * 2];
    double gx[G], mean[G], lo[G], hi[G], cx[NC], cy[NC], tx[40], ty[40];
    if (pk_mpnp_sample_batch(&tp, 1, NC, 40, &rng, &b, &err)) {
        pk_mpnp_batch_free(&b);
        return;
    }
    for (int i = 0; i < G; i++)
        xt[i] = (float)(gx[i] = -2.0 + 4.0 * i / (G - 1));
    for (int i = 0; i < NC; i++)
        cx[i] = b.x[i], cy[i] = b.y[i];
    for (int i = 0; i < 40; i++)
        tx[i] = b.x[NC + i], ty[i] = b.y[NC + i];
    for (int j = 0; j < nm; j++) {
        const pk_mpnp_config *c = pk_mpnp_get_config(m[j]);
        if (c->n_pseudo > 256 ||
            pk_mpnp_predict(m[j], b.x, b.y, NC, xt, G, S, &rng, mu, sd, c->kind == PK_MPNP_MPNP ? ps : NULL, &err))
            continue;
        for (int i = 0; i < G; i++) {
            double s1 = 0, s2 = 0;
            for (int s = 0; s < S; s++) {
                double u = mu[s * G + i], v = sd[s * G + i];
                s1 += u, s2 += v * v + u * u;
            }
            mean[i] = s1 / S;
            double sdv = sqrt(fmax(s2 / S - mean[i] * mean[i], 0));
            lo[i] = mean[i] - 2 * sdv, hi[i] = mean[i] + 2 * sdv;
        }
        char title[160], name[32];
        snprintf(title, sizeof title, "%s predictive (mean +- 2 sd over %d draws), 6 context points", NAME[j],
                 c->kind == PK_MPNP_CNP ? 1 : S);
        snprintf(name, sizeof name, "mpnp_band_%s%s", pk_mpnp_kind_name(c->kind),
                 c->kind == PK_MPNP_MPNP && c->pseudo_space == PK_MPNP_PSEUDO_DATA ? "_data" : "");
        pk_plot *pl = pk_plot_new(title, "x", "y");
        if (!pl)
            continue;
        pk_plot_set_yrange(pl, -3, 3);
        pk_plot_band(pl, "predictive", gx, mean, lo, hi, G);
        pk_plot_scatter(pl, "held-out points of the task", tx, ty, 40);
        pk_plot_scatter(pl, "context", cx, cy, NC);
        if (c->kind == PK_MPNP_MPNP && c->n_pseudo > 0 && c->pseudo_space == PK_MPNP_PSEUDO_DATA) {
            double px[256], py[256];
            for (int i = 0; i < c->n_pseudo; i++)
                px[i] = ps[2 * i], py[i] = ps[2 * i + 1];
            pk_plot_scatter(pl, "one pseudo context (x', y')", px, py, (size_t)c->n_pseudo);
        }
        pk_repro_plot(ctx, name, pl);
        pk_plot_free(pl);
    }
    pk_mpnp_batch_free(&b);
}

static int run_all(pk_repro_ctx *ctx);
/* small networks trained step by step: threads cost more than they save */
static int run(pk_repro_ctx *ctx) { return pk_repro_serial(ctx, run_all); }

static int run_all(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    uint64_t seed = pk_repro_seed(ctx);
    /* full: 15k steps, where the ranking has settled in our runs (at 3k steps one MPNP
     * training run varies by more than the MPNP - CNP gap); the data-space ablation
     * (nm = 4) costs another MPNP training and is left to the CLI */
    setup s = quick ? (setup){32, 600, 16, 8, 3, 25, 20, 3} : (setup){64, 15000, 16, 16, 5, 100, 50, 3};
    const int NM = s.nm;
    char scale[200];
    snprintf(scale, sizeof scale,
             "1-d RBF GP tasks; width %d, %d steps x %d tasks (paper: 128, 100k steps); %d pseudo points, K=%d; "
             "%d test tasks, %d draws",
             s.width, s.steps, s.batch, s.n_pseudo, s.n_samples, s.eval_batches * s.batch, s.eval_draws);
    pk_mpnp *m[NM_MAX] = {NULL, NULL, NULL, NULL};
    double secs[NM_MAX] = {0};
    for (int j = 0; j < NM; j++)
        if (fit(ctx, j, &s, seed, &m[j], &secs[j]))
            goto done;
    scores rbf, tn;
    if (evaluate(m, 0.0, &s, seed, &rbf) || evaluate(m, 0.1, &s, seed, &tn)) {
        pk_repro_log(ctx, "evaluation failed");
        goto done;
    }
    char metric[120];
    for (int j = 0; j < NM; j++) {
        snprintf(metric, sizeof metric, "RBF context log-likelihood per point: %s", NAME[j]);
        pk_repro_row(ctx, metric, rbf.ctx[j], NAN, NAN, NULL, scale, PK_VERDICT_INFO);
        snprintf(metric, sizeof metric, "RBF target log-likelihood per point: %s", NAME[j]);
        pk_repro_row(ctx, metric, rbf.tar[j], NAN, NAN, NULL, scale, PK_VERDICT_INFO);
    }
    /* the paper's claim at our scale: MPNP's target likelihood above the CNP's, on the same tasks */
    pk_verdict v = quick ? PK_VERDICT_INFO : rbf.d_cnp > 2 * rbf.d_cnp_se ? PK_VERDICT_PASS : PK_VERDICT_FAIL;
    pk_repro_row(ctx, "RBF target LL, MPNP - CNP (paired over test batches; PASS if > 2 se)", rbf.d_cnp, NAN,
                 rbf.d_cnp_se, "standard error", scale, v);
    pk_repro_row(ctx, "RBF target LL, MPNP - NP (paired)", rbf.d_np, NAN, rbf.d_np_se, "standard error", scale,
                 PK_VERDICT_INFO);
    if (NM > 3)
        pk_repro_row(ctx, "RBF target LL, MPNP with a data-space generator - CNP (paired)", rbf.d_data, NAN,
                     rbf.d_data_se, "standard error", scale, PK_VERDICT_INFO);
    for (int j = 0; j < NM; j++) {
        snprintf(metric, sizeof metric, "t-noise (0.1 StudentT(2.1)) target log-likelihood: %s", NAME[j]);
        pk_repro_row(ctx, metric, tn.tar[j], NAN, NAN, NULL, scale, PK_VERDICT_INFO);
    }
    pk_repro_row(ctx, "t-noise target LL, MPNP - CNP (paired)", tn.d_cnp, NAN, tn.d_cnp_se, "standard error", scale,
                 PK_VERDICT_INFO);
    for (int j = 0; j < NM; j++) {
        snprintf(metric, sizeof metric, "training time (s): %s", NAME[j]);
        pk_repro_row(ctx, metric, secs[j], NAN, NAN, NULL, scale, PK_VERDICT_INFO);
    }
    plot_bands(ctx, m, NM, seed);
    pk_repro_note(ctx,
                  "The paper's 1-d GP regression experiment trains width-128 models for 100k steps on a GPU and "
                  "reports MPNP above the CNP and NP baselines. Its table could not be read from the stored "
                  "copies of the paper available to us, so "
                  "the paper column is empty; the verdict tests the claim itself (MPNP target LL > CNP target LL) "
                  "at our scale, on the same %d test tasks for every model.",
                  s.eval_batches * s.batch);
    pk_repro_note(ctx,
                  "All models use the benchmark protocol as we read it (x ~ U(-2, 2), 6-49 points per task, "
                  "length scale U(0.1, 0.6), output scale U(0.1, 1), noise sd 0.02; likelihood over all points "
                  "during training; Adam 5e-4 cosine-annealed). MPNP: %d pseudo points from a two-block set "
                  "attention generator emitting the pseudo points' representations (the paper's Figure 1), "
                  "K = %d pseudo contexts per task, loss L_marg + L_amort + L_pseudo; in full mode also our "
                  "variant whose generator emits points (x', y') that the encoder encodes like real ones. "
                  "The t-noise rows evaluate the RBF-trained models on data with 0.1 x StudentT(2.1) noise.",
                  s.n_pseudo, s.n_samples);
    if (quick)
        pk_repro_note(ctx, "Quick mode: width-%d models trained for %d steps (seconds), far from convergence; the "
                           "MPNP - CNP row is informational. Run without --quick for the verdict.",
                      s.width, s.steps);
done:
    for (int j = 0; j < NM_MAX; j++)
        pk_mpnp_free(m[j]);
    return PK_OK;
}

const pk_repro pk_repro_mpnp = {"mpnp", PK_REPRO_PARTIAL,
                                "CNP, NP and MPNP on 1-d GP regression: context / target log-likelihood (RBF, t-noise)",
                                run};
