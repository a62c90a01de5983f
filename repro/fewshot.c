/* fewshot — "Transductive Few-Shot Learning: Clustering is All You Need?"
 * (Ziko, Boudiaf, Dolz, Granger, Ben Ayed 2021): with a backbone trained by
 * plain cross-entropy on base classes, clustering the query set (K-means,
 * K-modes, their Laplacian-regularised versions) beats the inductive
 * nearest-prototype baseline by a clear margin on novel-class tasks.
 * Here: a small CNN on Fashion-MNIST classes 0-4, 5-way tasks on classes 5-9. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "probkit/fewshot.h"
#include "repro.h"

#ifndef PK_SOURCE_DIR
#define PK_SOURCE_DIR "."
#endif

enum { NM = PK_FEWSHOT_N_METHODS };

/* scikit-learn's accuracies from bench/fewshot_sklearn.py (same backbone as --quick with seed 42,
 * other episodes): peer[s][0] LogisticRegression on the support, peer[s][1] KMeans from the support
 * means; NAN when the file is absent */
static void read_peer(double peer[2][2])
{
    for (int s = 0; s < 2; s++)
        peer[s][0] = peer[s][1] = NAN;
    char path[512];
    snprintf(path, sizeof path, "%s/bench/results/fewshot_sklearn.json", PK_SOURCE_DIR);
    json_t *root = json_load_file(path, 0, NULL);
    if (!root)
        return;
    const char *key[2] = {"1-shot", "5-shot"};
    for (int s = 0; s < 2; s++) {
        json_t *a = json_object_get(json_object_get(root, "accuracy"), key[s]);
        json_t *lr = json_object_get(json_object_get(a, "sklearn_logreg"), "mean");
        json_t *km = json_object_get(json_object_get(a, "sklearn_kmeans"), "mean");
        if (json_is_number(lr))
            peer[s][0] = 100 * json_number_value(lr);
        if (json_is_number(km))
            peer[s][1] = 100 * json_number_value(km);
    }
    json_decref(root);
}

/* The paper's Table (mini-ImageNet, WRN-28-10; the authors' README lists the same): accuracy %
 * for 1-shot and 5-shot; NAN where the method is not in the table. */
static const double PAPER[NM][2] = {
    {65.87, 82.09}, /* proto = SimpleShot */
    {NAN, NAN},     /* soft K-means: not reported */
    {73.44, 83.93}, /* LaplacianShot */
    {73.80, 84.62}, /* K-means */
    {74.78, 84.45}, /* K-modes */
    {74.75, 84.61}, /* SLK-Means */
    {75.17, 84.28}, /* SLK-MS */
};

static const char *LABEL[NM] = {"nearest mean (SimpleShot, inductive)", "soft K-means", "LaplacianShot",
                                "K-means",
                                "K-modes",
                                "SLK-Means (Laplacian K-means)",
                                "SLK-MS (Laplacian K-modes)"};

typedef struct run_out {
    double mean[NM], ci[NM];
    double *all; /* NM x episodes */
} run_out;

static int eval(pk_repro_ctx *ctx, const pk_mat *F, const int32_t *lab, size_t shots, double dirichlet,
                size_t episodes, pk_rng *rng, run_out *o)
{
    static const int32_t novel[5] = {5, 6, 7, 8, 9};
    pk_fewshot_episode_params ep = {5, shots, 15, dirichlet};
    pk_fewshot_params ps[NM];
    for (int m = 0; m < NM; m++)
        ps[m] = pk_fewshot_params_default((pk_fewshot_method)m);
    pk_err err = {0};
    o->all = malloc(NM * episodes * sizeof *o->all);
    if (!o->all)
        return PK_ENOMEM;
    int st = pk_fewshot_evaluate(F, lab, novel, 5, &ep, ps, NM, episodes, rng, o->mean, o->ci, o->all, &err);
    if (st)
        pk_repro_log(ctx, "evaluation failed: %s", err.msg);
    return st;
}

/* paired difference (method a - method b) over the same episodes: mean and 95% half-width, in points */
static void paired(const run_out *o, int a, int b, size_t episodes, double *mean, double *ci)
{
    double s1 = 0, s2 = 0;
    for (size_t e = 0; e < episodes; e++) {
        double d = 100 * (o->all[a * episodes + e] - o->all[b * episodes + e]);
        s1 += d, s2 += d * d;
    }
    *mean = s1 / (double)episodes;
    double var = fmax(0, (s2 - episodes * (*mean) * (*mean)) / (double)(episodes - 1));
    *ci = 1.96 * sqrt(var / (double)episodes);
}

static void plot_bars(pk_repro_ctx *ctx, const run_out *o1, const run_out *o5)
{
    pk_plot *pl = pk_plot_new("Fashion-MNIST novel classes 5-9, 5-way: accuracy by method",
                              "method (0 proto, 1 soft-kmeans, 2 lapshot, 3 kmeans, 4 kmodes, 5 slk-means, 6 slk-ms)",
                              "query accuracy (%)");
    if (!pl)
        return;
    double x1[NM], x5[NM], y1[NM], y5[NM];
    for (int m = 0; m < NM; m++)
        x1[m] = m - 0.18, x5[m] = m + 0.18, y1[m] = 100 * o1->mean[m], y5[m] = 100 * o5->mean[m];
    pk_plot_bars(pl, "1-shot", x1, y1, NM, 0.34);
    pk_plot_bars(pl, "5-shot", x5, y5, NM, 0.34);
    double lo = 100;
    for (int m = 0; m < NM; m++)
        lo = fmin(lo, fmin(y1[m], y5[m]));
    pk_plot_set_yrange(pl, floor(lo / 5) * 5 - 5, 100);
    pk_repro_plot(ctx, "fewshot_accuracy", pl);
    pk_plot_free(pl);
}

static int run_all(pk_repro_ctx *ctx);

/* episodes are tiny: BLAS threads cost more than they save */
static int run(pk_repro_ctx *ctx) { return pk_repro_serial(ctx, run_all); }

static int run_all(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    pk_rng rng;
    pk_rng_seed(&rng, pk_repro_seed(ctx));
    const char *dir = "/usr/share/datasets/fashion-mnist";
    char tri[256], trl[256], tei[256], tel[256];
    snprintf(tri, sizeof tri, "%s/train-images-idx3-ubyte.gz", dir);
    snprintf(trl, sizeof trl, "%s/train-labels-idx1-ubyte.gz", dir);
    snprintf(tei, sizeof tei, "%s/t10k-images-idx3-ubyte.gz", dir);
    snprintf(tel, sizeof tel, "%s/t10k-labels-idx1-ubyte.gz", dir);
    pk_fewshot_data_params dp = pk_fewshot_data_params_default();
    dp.train_images = tri, dp.train_labels = trl, dp.test_images = tei, dp.test_labels = tel;
    /* a CNN with 16 and 32 channels (its pooled maps transfer to the novel classes far better than an
     * MLP's hidden layers: 1-shot nearest-mean accuracy ~56% vs ~40%); quick: 12,000 base images for
     * 2 epochs; full: all 30,000 for 5 */
    dp.arch = PK_FEWSHOT_ARCH_CNN;
    dp.max_base = quick ? 12000 : 0;
    dp.hidden = 16;
    dp.feat = 32;
    dp.train.epochs = quick ? 2 : 5;
    size_t episodes = quick ? 100 : 1000;
    pk_fewshot_features *f = NULL;
    pk_err err = {0};
    int st = pk_fewshot_features_from_idx(&dp, &rng, &f, NULL, &err);
    if (st) {
        if (st == PK_EIO) {
            pk_repro_row(ctx, "5-way accuracy", NAN, NAN, NAN, NULL,
                         "Fashion-MNIST not found under /usr/share/datasets/fashion-mnist (Debian dataset-fashion-mnist)",
                         PK_VERDICT_SKIP);
            return PK_OK;
        }
        pk_repro_log(ctx, "feature extraction failed: %s", err.msg);
        return st;
    }
    pk_repro_log(ctx, "CNN backbone (%d, %d channels) trained on %s base images (classes 0-4), %d epochs in %.1f s; "
                      "loss %.3f, held-out base accuracy %.1f%%; %zu novel rows x %zu features",
                 dp.hidden, dp.feat, quick ? "12,000" : "30,000", dp.train.epochs, f->train_secs, f->train_loss,
                 100 * f->base_acc, f->n, f->d);
    pk_mat F = pk_mat_view(f->F, f->n, f->d);
    pk_fewshot_cl2n(&F, f->base_mean);

    char scale[200];
    snprintf(scale, sizeof scale,
             "Fashion-MNIST: CNN (%d, %d ch.) on classes 0-4 (%d epochs); 5-way tasks on classes 5-9 (test images), 15 "
             "queries/class, %zu episodes",
             dp.hidden, dp.feat, dp.train.epochs, episodes);
    run_out o[2] = {{{0}, {0}, NULL}, {{0}, {0}, NULL}};
    const size_t shots[2] = {1, 5};
    for (int s = 0; s < 2 && !st; s++)
        st = eval(ctx, &F, f->labels, shots[s], 0.0, episodes, &rng, &o[s]);
    if (st)
        goto done;
    double peer[2][2];
    read_peer(peer);
    for (int s = 0; s < 2; s++)
        for (int m = 0; m < NM; m++) {
            char metric[160];
            snprintf(metric, sizeof metric, "%zu-shot accuracy %%, %s (+- %.2f)", shots[s], LABEL[m],
                     100 * o[s].ci[m]);
            double pv = m == PK_FEWSHOT_PROTO ? peer[s][0] : m == PK_FEWSHOT_KMEANS ? peer[s][1] : NAN;
            const char *pn = m == PK_FEWSHOT_PROTO    ? "sklearn LogisticRegression on the support (bench, other episodes)"
                             : m == PK_FEWSHOT_KMEANS ? "sklearn KMeans from the support means (bench, other episodes)"
                                                      : NULL;
            pk_repro_row(ctx, metric, 100 * o[s].mean[m], PAPER[m][s], pv, isnan(pv) ? NULL : pn, scale,
                         PK_VERDICT_INFO);
        }
    /* the claims: transductive clustering beats the inductive baseline clearly; even plain K-means does */
    for (int s = 0; s < 2; s++) {
        double g, ci;
        char metric[160];
        paired(&o[s], PK_FEWSHOT_SLK_MEANS, PK_FEWSHOT_PROTO, episodes, &g, &ci);
        snprintf(metric, sizeof metric, "%zu-shot gain SLK-Means - nearest mean (points, paired 95%% +- %.2f)",
                 shots[s], ci);
        pk_repro_row(ctx, metric, g, PAPER[PK_FEWSHOT_SLK_MEANS][s] - PAPER[PK_FEWSHOT_PROTO][s], NAN, NULL, scale,
                     g - ci > 0 && g >= 1.0 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
        paired(&o[s], PK_FEWSHOT_KMEANS, PK_FEWSHOT_PROTO, episodes, &g, &ci);
        snprintf(metric, sizeof metric, "%zu-shot gain K-means - nearest mean (points, paired 95%% +- %.2f)",
                 shots[s], ci);
        pk_repro_row(ctx, metric, g, PAPER[PK_FEWSHOT_KMEANS][s] - PAPER[PK_FEWSHOT_PROTO][s], NAN, NULL, scale,
                     g - ci > 0 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    }
    plot_bars(ctx, &o[0], &o[1]);
    pk_repro_row(ctx, "backbone held-out base-class accuracy %", 100 * f->base_acc, NAN, NAN, NULL, scale,
                 PK_VERDICT_INFO);

    /* imbalanced query sets (Dirichlet(2) proportions), where clustering priors can hurt */
    if (!quick) {
        run_out oi = {{0}, {0}, NULL};
        size_t ei = 500;
        st = eval(ctx, &F, f->labels, 5, 2.0, ei, &rng, &oi);
        if (!st) {
            char sc[200];
            snprintf(sc, sizeof sc, "as above, 5-shot, 75 queries with Dirichlet(2) class proportions, %zu episodes",
                     ei);
            for (int m = 0; m < NM; m++) {
                char metric[160];
                snprintf(metric, sizeof metric, "imbalanced 5-shot accuracy %%, %s (+- %.2f)", LABEL[m],
                         100 * oi.ci[m]);
                pk_repro_row(ctx, metric, 100 * oi.mean[m], NAN, NAN, NULL, sc, PK_VERDICT_INFO);
            }
        }
        free(oi.all);
    }
    pk_repro_note(ctx,
                  "The paper (mini-ImageNet, WRN-28-10 trained by cross-entropy on 64 base classes; tiered-ImageNet "
                  "and CUB alike) reports 1-/5-shot accuracies of 65.87/82.09 for the inductive nearest-mean "
                  "SimpleShot, 73.80/84.62 for K-means, 74.78/84.45 K-modes, 74.75/84.61 SLK-Means and 75.17/84.28 "
                  "SLK-MS: clustering the query set gains 8-9 points at 1 shot and 2-3 at 5 shots, and plain K-means "
                  "is already competitive with LaplacianShot (73.44/83.93). Our backbone (a two-layer CNN on 28x28 "
                  "grey images, features = its 32x7x7 pooled maps) and data (Fashion-MNIST, 5 base / 5 novel classes, so every task uses all five novel "
                  "classes) differ: the absolute numbers are not comparable, the claim to check is the gain of "
                  "transductive clustering over the inductive baseline on the same features and tasks.");
    pk_repro_note(ctx,
                  "Protocol as the authors' code: features centred on the base-class mean and L2-normalised (CL2N), "
                  "the query set shifted by mean(support) - mean(query), prototypes started at the support means, "
                  "kNN graph with 2 neighbours, lambda = 0.7 (the authors' script default; they tune it on "
                  "validation classes, which 5/5 Fashion-MNIST classes leave none for), K-modes bandwidth from the "
                  "kNN distances. Unlike the released code the support assignments stay fixed to their labels "
                  "(the paper's supervision constraints), so no Hungarian matching is needed at scoring. The "
                  "scikit-learn peer (bench/fewshot_sklearn.py) scores KMeans from the support means and a logistic "
                  "regression on the support on the same features.");
done:
    free(o[0].all), free(o[1].all);
    pk_fewshot_features_free(f);
    return st;
}

const pk_repro pk_repro_fewshot = {"fewshot", PK_REPRO_PARTIAL,
                                   "Transductive clustering (K-means, K-modes, Laplacian K-means/K-modes) vs the "
                                   "inductive nearest-mean baseline on novel-class Fashion-MNIST tasks",
                                   run};
