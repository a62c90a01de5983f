/* earlystop — "Early stopping by correlating online indicators": Prechelt's
 * criteria and the correlated-indicators rule on simulated training curves. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/io.h"
#include "probkit/metrics.h"
#include "probkit/nn.h"
#include "probkit/plot.h"
#include "repro.h"

static const struct {
    const char *name;
    pk_es_kind k;
    double p;
} es_rules[] = {{"GL1", PK_ES_GL, 1},     {"GL2", PK_ES_GL, 2},       {"GL5", PK_ES_GL, 5},
                {"PQ0.5", PK_ES_PQ, 0.5}, {"PQ0.75", PK_ES_PQ, 0.75}, {"PQ2", PK_ES_PQ, 2},
                {"UP2", PK_ES_UP, 2},     {"UP3", PK_ES_UP, 3},       {"patience 10", PK_ES_PATIENCE, 10}};
enum { ES_NR = 9 };
#define ES_CORR_NAME "correlated GL2+PQ0.75+UP2, q=2"

/* Stop epoch of criterion j (j == ES_NR: the correlated rule over GL2, PQ0.75 and
 * UP2, quorum 2, window 10, r >= 0.5); ind holds (ES_NR + 3) x n scratch and keeps
 * each criterion's indicator series for the correlated rule, which must come last. */
static void es_stop(int j, const double *va, const double *tr, size_t n, int *ind, size_t *stop)
{
    if (j < ES_NR) {
        pk_es_indicator(es_rules[j].k, es_rules[j].p, 5, va, tr, n, ind + (size_t)j * n, NULL);
        *stop = pk_es_first(ind + (size_t)j * n, n);
        return;
    }
    int *m3 = ind + (size_t)ES_NR * n;
    memcpy(m3, ind + 1 * n, n * sizeof *m3);
    memcpy(m3 + n, ind + 4 * n, n * sizeof *m3);
    memcpy(m3 + 2 * n, ind + 6 * n, n * sizeof *m3);
    pk_es_correlated(m3, 3, n, 2, 10, 0.5, stop, NULL);
}

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

static int run_sim(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    pk_rng r;
    pk_rng_seed(&r, pk_repro_seed(ctx));
    size_t runs = quick ? 300 : 3000, n = 200;
    double reg[ES_NR + 1] = {0}, cost[ES_NR + 1] = {0}, prem[ES_NR + 1] = {0};
    double *tr = malloc(n * sizeof *tr), *va = malloc(n * sizeof *va);
    int *ind = malloc((ES_NR + 3) * n * sizeof *ind);
    if (!tr || !va || !ind) {
        free(tr);
        free(va);
        free(ind);
        return PK_ENOMEM;
    }
    for (size_t k = 0; k < runs; k++) {
        curve(&r, n, tr, va);
        for (int j = 0; j <= ES_NR; j++) {
            size_t stop;
            es_stop(j, va, tr, n, ind, &stop);
            pk_es_outcome o;
            pk_es_outcome_of(va, n, stop, &o);
            reg[j] += o.regret_rel;
            cost[j] += o.cost;
            prem[j] += o.regret_rel > 0.01;
        }
    }
    char scale[96];
    snprintf(scale, sizeof scale, "%zu simulated runs x %zu epochs, strip 5", runs, n);
    for (int j = 0; j <= ES_NR; j++) {
        char m[128];
        snprintf(m, sizeof m, "%s: mean regret %% (cost %.3f, stops >1%% worse: %.3f)",
                 j < ES_NR ? es_rules[j].name : ES_CORR_NAME, cost[j] / (double)runs,
                 prem[j] / (double)runs);
        pk_repro_row(ctx, m, 100 * reg[j] / (double)runs, NAN, NAN, NULL, scale, PK_VERDICT_INFO);
    }
    pk_repro_note(ctx, "Regret = validation loss of the restored (best-so-far) model over the run's best, in %%; "
                       "cost = share of epochs trained. The paper evaluates on parser training with cross-validation "
                       "as the canary; real neural-network runs follow below. The correlated rule "
                       "here is our reading of the paper's halting condition (docs/diagnostics.md): a quorum of "
                       "indicators on and co-active over a window.");
    free(tr);
    free(va);
    free(ind);
    return PK_OK;
}

/* ---- real training runs --------------------------------------------------
 * An MLP trained with Adam on a small part of the 10,000 MNIST digits, long
 * enough to over-fit; per epoch the mean training loss, the validation
 * cross-entropy and the test error are logged, and each criterion is applied
 * to the validation loss exactly as to the simulated curves. */

typedef struct {
    size_t n;
    float *x;      /* n x 784 in [0, 1] */
    int32_t *y;
} es_set;

static int es_make(const pk_array *img, const pk_array *lab, const size_t *idx, size_t n, es_set *s)
{
    s->n = n;
    s->x = malloc(n * 784 * sizeof *s->x);
    s->y = malloc(n * sizeof *s->y);
    if (!s->x || !s->y)
        return PK_ENOMEM;
    const uint8_t *px = img->data;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < 784; j++)
            s->x[i * 784 + j] = (float)px[idx[i] * 784 + j] / 255.0f;
        s->y[i] = (int32_t)pk_array_get(lab, idx[i]);
    }
    return PK_OK;
}

/* mean cross-entropy and error rate of m on s (evaluation mode) */
static int es_eval(pk_nn_ctx *C, const pk_nn_classifier *m, const es_set *s, double *loss, double *errrate)
{
    double sl = 0, se = 0;
    size_t bs = 500;
    pk_nn_ctx_set_grad(C, 0);
    pk_nn_ctx_set_train(C, 0);
    for (size_t b0 = 0; b0 < s->n; b0 += bs) {
        size_t nb = s->n - b0 < bs ? s->n - b0 : bs;
        pk_nn_ctx_reset(C);
        pk_nn_tensor *x = pk_nn_input_copy(C, 4, (int64_t[]){(int64_t)nb, 1, 28, 28}, s->x + b0 * 784);
        pk_nn_tensor *lo = pk_nn_classifier_forward(C, m, x);
        pk_nn_tensor *l = pk_nn_cross_entropy(C, lo, s->y + b0, 0.0f);
        if (!l)
            return pk_nn_ctx_status(C) ? pk_nn_ctx_status(C) : PK_ENOMEM;
        sl += (double)l->data[0] * (double)nb;
        for (size_t i = 0; i < nb; i++) {
            const float *row = lo->data + i * 10;
            int best = 0;
            for (int k = 1; k < 10; k++)
                if (row[k] > row[best])
                    best = k;
            se += best != s->y[b0 + i];
        }
    }
    pk_nn_ctx_set_grad(C, 1);
    pk_nn_ctx_set_train(C, 1);
    *loss = sl / (double)s->n;
    *errrate = se / (double)s->n;
    return PK_OK;
}

/* one training run: n epochs, logs tr (mean minibatch loss), va (validation CE), te (test error) */
static int es_train(const es_set *tr_set, const es_set *va_set, const es_set *te_set, int hidden, double lr,
                    uint64_t seed, uint64_t stream, size_t n, double *tr, double *va, double *te)
{
    pk_rng r;
    pk_rng_seed_stream(&r, seed, stream);
    pk_nn_classifier_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.arch = PK_NN_ARCH_MLP;
    cfg.channels = 1, cfg.height = 28, cfg.width = 28, cfg.classes = 10;
    cfg.n_hidden = 1, cfg.hidden[0] = hidden;
    pk_nn_classifier *m = NULL;
    pk_nn_optim *opt = NULL;
    pk_nn_ctx *C = pk_nn_ctx_new();
    size_t bs = 64, N = tr_set->n;
    float *xb = malloc(bs * 784 * sizeof *xb);
    int32_t *yb = malloc(bs * sizeof *yb);
    size_t *perm = malloc(N * sizeof *perm);
    int st = !C || !xb || !yb || !perm ? PK_ENOMEM : pk_nn_classifier_new(&cfg, &r, &m, NULL);
    if (!st) {
        pk_nn_optim_params op = pk_nn_optim_params_default(PK_NN_ADAM);
        opt = pk_nn_optim_new(m->params, &op, NULL);
        if (!opt)
            st = PK_ENOMEM;
    }
    for (size_t e = 0; e < n && !st; e++) {
        pk_rng_permutation(&r, perm, N);
        double sum = 0;
        for (size_t b0 = 0; b0 < N && !st; b0 += bs) {
            size_t nb = N - b0 < bs ? N - b0 : bs;
            for (size_t i = 0; i < nb; i++) {
                memcpy(xb + i * 784, tr_set->x + perm[b0 + i] * 784, 784 * sizeof *xb);
                yb[i] = tr_set->y[perm[b0 + i]];
            }
            pk_nn_ctx_reset(C);
            pk_nn_tensor *x = pk_nn_input_copy(C, 4, (int64_t[]){(int64_t)nb, 1, 28, 28}, xb);
            pk_nn_tensor *l = pk_nn_cross_entropy(C, pk_nn_classifier_forward(C, m, x), yb, 0.0f);
            pk_nn_params_zero_grad(m->params);
            st = l ? pk_nn_backward(C, l) : PK_ENOMEM;
            if (!st) {
                sum += (double)l->data[0] * (double)nb;
                st = pk_nn_optim_step(opt, lr);
            }
        }
        tr[e] = sum / (double)N;
        double dummy;
        if (!st)
            st = es_eval(C, m, va_set, &va[e], &dummy);
        if (!st)
            st = es_eval(C, m, te_set, &dummy, &te[e]);
    }
    pk_nn_optim_free(opt);
    pk_nn_classifier_free(m);
    pk_nn_ctx_free(C);
    free(xb);
    free(yb);
    free(perm);
    return st;
}

static int run_real(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    double t0 = pk_time_now();
    char ip[1024], lp[1024];
    snprintf(ip, sizeof ip, "%s/mnist/mnist-10k-images-idx3-ubyte", pk_repro_data_dir(ctx));
    snprintf(lp, sizeof lp, "%s/mnist/mnist-10k-labels-idx1-ubyte", pk_repro_data_dir(ctx));
    pk_array *img = NULL, *lab = NULL;
    if (pk_idx_read(ip, &img, NULL) || pk_idx_read(lp, &lab, NULL) || img->ndim != 3 || img->shape[1] != 28 ||
        img->shape[2] != 28 || img->dtype != PK_DTYPE_U8 || lab->shape[0] != img->shape[0]) {
        pk_array_free(img);
        pk_array_free(lab);
        pk_repro_row(ctx, "real MLP runs on MNIST: criteria regret", NAN, NAN, NAN, NULL,
                     "MNIST 10k IDX files missing (run scripts/fetch_data.sh)", PK_VERDICT_SKIP);
        return PK_OK;
    }
    size_t ntr = quick ? 1000 : 3000, nva = quick ? 500 : 1500, nte = quick ? 1000 : 3000;
    size_t n = quick ? 60 : 80;
    int hidden = quick ? 32 : 128, nseeds = 3;
    double lrs[3] = {1e-3, 3e-3, 3e-4};
    int nlr = quick ? 2 : 3, runs = nseeds * nlr;
    size_t N = (size_t)img->shape[0];
    size_t *perm = malloc(N * sizeof *perm);
    double *tr = malloc(n * sizeof *tr), *va = malloc(n * sizeof *va), *te = malloc(n * sizeof *te);
    double *plot_tr = malloc(n * sizeof *plot_tr), *plot_va = malloc(n * sizeof *plot_va),
           *plot_te = malloc(n * sizeof *plot_te);
    int *ind = malloc((ES_NR + 3) * n * sizeof *ind);
    es_set S[3];
    memset(S, 0, sizeof S);
    int st = perm && tr && va && te && ind && plot_tr && plot_va && plot_te ? PK_OK : PK_ENOMEM;
    double stop_sum[ES_NR + 1] = {0}, reg_sum[ES_NR + 1] = {0}, regva_sum[ES_NR + 1] = {0}, cost_sum[ES_NR + 1] = {0};
    size_t plot_stop[ES_NR + 1] = {0};
    double best_epoch_sum = 0, final_gap_sum = 0;
    pk_rng r;
    pk_rng_seed_stream(&r, pk_repro_seed(ctx), 500);
    if (!st) {
        pk_rng_permutation(&r, perm, N);
        if ((st = es_make(img, lab, perm, ntr, &S[0])) == PK_OK &&
            (st = es_make(img, lab, perm + ntr, nva, &S[1])) == PK_OK)
            st = es_make(img, lab, perm + ntr + nva, nte, &S[2]);
    }
    for (int run = 0; run < runs && !st; run++) {
        double lr = lrs[run % nlr];
        st = es_train(&S[0], &S[1], &S[2], hidden, lr, pk_repro_seed(ctx), 600 + (uint64_t)run, n, tr, va, te);
        if (st)
            break;
        double te_min = INFINITY;
        size_t best_va = 0;
        for (size_t t = 0; t < n; t++)
            best_va = va[t] < va[best_va] ? t : best_va;
        for (size_t t = 0; t < n; t++)
            te_min = te[t] < te_min ? te[t] : te_min;
        for (int j = 0; j <= ES_NR; j++) {
            size_t stop;
            es_stop(j, va, tr, n, ind, &stop);
            pk_es_outcome o;
            pk_es_outcome_of(va, n, stop, &o);
            stop_sum[j] += (double)o.stop + 1;
            cost_sum[j] += (double)o.stop + 1;
            reg_sum[j] += 100 * (te[o.best_seen] - te_min);
            regva_sum[j] += 100 * o.regret_rel;
            if (run == 0)
                plot_stop[j] = o.stop;
            if (j == 0) {
                best_epoch_sum += (double)o.best + 1;
                final_gap_sum += va[n - 1] / va[o.best] - 1;
            }
        }
        if (run == 0) {
            memcpy(plot_tr, tr, n * sizeof *tr);
            memcpy(plot_va, va, n * sizeof *va);
            memcpy(plot_te, te, n * sizeof *te);
        }
        pk_repro_log(ctx, "real run %d/%d (lr %g): best val epoch %zu, test error min %.2f%% (%.0f s)", run + 1, runs,
                     lr, best_va + 1, 100 * te_min, pk_time_now() - t0);
    }
    if (!st) {
        char scale[160];
        snprintf(scale, sizeof scale,
                 "MNIST 10k: %zu train / %zu val / %zu test, MLP 784-%d-10, Adam, %zu epochs, %d runs (lr x seed)", ntr,
                 nva, nte, hidden, n, runs);
        char tab[3072];
        int off = snprintf(tab, sizeof tab,
                           "Real training runs (%d: learning rates x seeds; validation loss at its minimum at epoch "
                           "%.1f on average, %.0f%% above it at the last epoch). Regret = test error of the restored "
                           "(best-validation-so-far) model minus the run's lowest test error, percentage points.\n\n"
                           "| criterion | mean stop epoch | test-error regret (pp) | validation-loss regret (%%) | "
                           "cost (epochs) |\n|---|---|---|---|---|\n",
                           runs, best_epoch_sum / runs, 100 * final_gap_sum / runs);
        for (int j = 0; j <= ES_NR; j++) {
            const char *nm = j < ES_NR ? es_rules[j].name : ES_CORR_NAME;
            char m[160];
            snprintf(m, sizeof m, "real runs, %s: test-error regret pp (stop %.1f, cost %.1f epochs)", nm,
                     stop_sum[j] / runs, cost_sum[j] / runs);
            pk_repro_row(ctx, m, reg_sum[j] / runs, NAN, NAN, NULL, scale, PK_VERDICT_INFO);
            if (off > 0 && (size_t)off < sizeof tab)
                off += snprintf(tab + off, sizeof tab - (size_t)off, "| %s | %.1f | %.2f | %.2f | %.1f |\n", nm,
                                stop_sum[j] / runs, reg_sum[j] / runs, regva_sum[j] / runs, cost_sum[j] / runs);
        }
        pk_repro_note(ctx, "%s", tab);
        pk_plot *pl = pk_plot_new("A real run (MNIST MLP) and where each criterion stops", "epoch",
                                  "loss / test error");
        if (pl) {
            double *ex = malloc(n * sizeof *ex);
            if (ex) {
                for (size_t t = 0; t < n; t++)
                    ex[t] = (double)t + 1;
                pk_plot_line(pl, "training loss", ex, plot_tr, n);
                pk_plot_line(pl, "validation loss", ex, plot_va, n);
                pk_plot_line(pl, "test error", ex, plot_te, n);
                int show[4] = {0, 4, 6, ES_NR};
                for (int k = 0; k < 4; k++)
                    pk_plot_vline(pl, show[k] < ES_NR ? es_rules[show[k]].name : ES_CORR_NAME,
                                  (double)plot_stop[show[k]] + 1);
                pk_repro_plot(ctx, "real_run", pl);
                free(ex);
            }
            pk_plot_free(pl);
        }
        pk_repro_note(ctx, "Real runs took %.0f s.", pk_time_now() - t0);
    } else {
        pk_repro_log(ctx, "real training runs failed: %s", pk_strerror(st));
    }
    for (int k = 0; k < 3; k++) {
        free(S[k].x);
        free(S[k].y);
    }
    free(perm);
    free(tr);
    free(va);
    free(te);
    free(plot_tr);
    free(plot_va);
    free(plot_te);
    free(ind);
    pk_array_free(img);
    pk_array_free(lab);
    return st;
}

static int run(pk_repro_ctx *ctx)
{
    int st = run_sim(ctx);
    return st ? st : run_real(ctx);
}

const pk_repro pk_repro_earlystop = {
    "earlystop", PK_REPRO_PARTIAL,
    "Prechelt criteria vs correlated indicators on simulated curves and on real MNIST MLP training runs", run};
