/* probest — "Deep Probability Estimation": which computable metric tracks the
 * error against the (normally unknown) true probabilities, and what
 * recalibration does, on a synthetic population with known probabilities. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/io.h"
#include "probkit/metrics.h"
#include "probkit/nn.h"
#include "probkit/plot.h"
#include "repro.h"

static double sigm(double s)
{
    return 1.0 / (1.0 + exp(-s));
}

static int run_metrics(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    size_t n = quick ? 20000 : 200000, nmod = 40;
    pk_rng r;
    pk_rng_seed(&r, pk_repro_seed(ctx));
    double *pt = malloc(n * sizeof *pt), *y = malloc(n * sizeof *y), *z = malloc(n * sizeof *z),
           *p = malloc(n * sizeof *p), *q = malloc(n * sizeof *q);
    double mse[40], val[5][40];
    if (!pt || !y || !z || !p || !q) {
        free(pt);
        free(y);
        free(z);
        free(p);
        free(q);
        return PK_ENOMEM;
    }
    /* true probabilities with mass near 0 and 1 and in between (as in the paper's
     * synthetic face data: the label is a coin flip with a known bias) */
    for (size_t i = 0; i < n; i++) {
        z[i] = 1.5 * pk_rng_normal(&r);
        pt[i] = sigm(z[i]);
        y[i] = pk_rng_uniform(&r) < pt[i];
    }
    /* models: logit distorted by a temperature, a bias and estimation noise */
    for (size_t m = 0; m < nmod; m++) {
        double temp = 0.5 + 1.5 * pk_rng_uniform(&r), bias = 0.6 * (pk_rng_uniform(&r) - 0.5),
               noise = 0.8 * pk_rng_uniform(&r);
        for (size_t i = 0; i < n; i++)
            p[i] = sigm(z[i] / temp + bias + noise * pk_rng_normal(&r));
        pk_calib_metrics cm;
        pk_calib_compute(p, y, pt, n, 15, &cm, NULL);
        mse[m] = cm.mse_true;
        val[0][m] = cm.ece;
        val[1][m] = cm.ece_mass;
        val[2][m] = cm.ks;
        val[3][m] = cm.brier;
        val[4][m] = cm.nll;
    }
    const char *names[5] = {"ECE (equal width)", "ECE (equal mass, 15 bins)", "KS calibration error", "Brier",
                            "NLL"};
    char scale[96];
    snprintf(scale, sizeof scale, "%zu models x %zu examples, known p_true", nmod, n);
    double best = -2;
    int besti = 0;
    for (int k = 0; k < 5; k++) {
        pk_spearman_result s;
        pk_spearman(val[k], mse, nmod, &s, NULL);
        char m[96];
        snprintf(m, sizeof m, "Spearman(%s, MSE to p_true)", names[k]);
        pk_repro_row(ctx, m, s.rho, NAN, NAN, NULL, scale, PK_VERDICT_INFO);
        if (s.rho > best) {
            best = s.rho;
            besti = k;
        }
    }
    pk_repro_note(ctx, "Best proxy of the true-probability error among the computable metrics: %s (rho = %.3f). "
                       "Brier decomposes as MSE(p, p_true) + E[p_true(1 - p_true)] + noise, so it ranks models by "
                       "MSE when the population is fixed; calibration errors ignore sharpness.",
                  names[besti], best);
    /* recalibration of an over-confident model, cross-fitted */
    for (size_t i = 0; i < n; i++)
        p[i] = sigm(2.0 * z[i] + 0.4 * pk_rng_normal(&r));
    pk_calib_metrics raw, rc;
    pk_calib_compute(p, y, pt, n, 15, &raw, NULL);
    pk_plot *pl = pk_plot_new("Reliability of an over-confident model", "mean predicted probability",
                              "observed frequency");
    double cx[15], cy[15], diag[2] = {0, 1};
    size_t nout;
    if (pl) {
        pk_plot_set_xrange(pl, 0, 1);
        pk_plot_set_yrange(pl, 0, 1);
        pk_plot_line(pl, "perfect", diag, diag, 2);
        pk_calib_curve(p, y, n, 15, 0, cy, cx, NULL, &nout, NULL);
        pk_plot_line(pl, "raw", cx, cy, nout);
    }
    snprintf(scale, sizeof scale, "n = %zu, logit x2 + noise, 5-fold cross-fit", n);
    pk_repro_row(ctx, "raw model: MSE to p_true", raw.mse_true, NAN, NAN, NULL, scale, PK_VERDICT_INFO);
    for (int k = 0; k < 3; k++) {
        pk_rng rr;
        pk_rng_seed(&rr, pk_repro_seed(ctx) + 1);
        if (pk_recal_crossfit((pk_recal_kind)k, p, y, n, 5, &rr, q, NULL))
            continue;
        pk_calib_compute(q, y, pt, n, 15, &rc, NULL);
        char m[96];
        snprintf(m, sizeof m, "%s recalibration: MSE to p_true", pk_recal_kind_name((pk_recal_kind)k));
        pk_repro_row(ctx, m, rc.mse_true, NAN, raw.mse_true, "raw model", scale,
                     rc.mse_true < raw.mse_true ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
        if (pl) {
            pk_calib_curve(q, y, n, 15, 0, cy, cx, NULL, &nout, NULL);
            pk_plot_line(pl, pk_recal_kind_name((pk_recal_kind)k), cx, cy, nout);
        }
    }
    if (pl) {
        pk_repro_plot(ctx, "reliability", pl);
        pk_plot_free(pl);
    }
    pk_repro_note(ctx, "Metric values agree with scikit-learn to 1e-12 in tests/metrics/test_calibration.c.");
    free(pt);
    free(y);
    free(z);
    free(p);
    free(q);
    return PK_OK;
}

/* ---- CaPE on images with known probabilities ------------------------------
 * The paper's synthetic benchmark attaches a probability to each face image
 * through a fixed function of the person's age and draws the label from it.
 * Ours does the same with Fashion-MNIST: the latent is the garment class and
 * the image's mean intensity (ink), p_true = sigmoid(a[class] + 1.2 z(ink)),
 * labels ~ Bernoulli(p_true) with the run's seed. */

static const double cape_class_offset[10] = {-2.0, 1.5, -1.0, 0.5, 2.0, -0.5, 1.0, -1.5, 0.0, 2.5};

typedef struct {
    size_t n;
    float *x;     /* n x 784 in [0, 1] */
    double *y;    /* labels 0/1 */
    double *pt;   /* p_true */
} cape_set;

static void cape_set_free(cape_set *s)
{
    free(s->x);
    free(s->y);
    free(s->pt);
    memset(s, 0, sizeof *s);
}

static int cape_load(const char *dd, const char *split, pk_array **img, pk_array **lab)
{
    char p1[1024], p2[1024];
    int st = PK_EIO;
    for (int k = 0; k < 2 && st; k++) {
        const char *base = k ? "/usr/share/datasets" : dd;
        snprintf(p1, sizeof p1, "%s/fashion-mnist/%s-images-idx3-ubyte.gz", base, split);
        snprintf(p2, sizeof p2, "%s/fashion-mnist/%s-labels-idx1-ubyte.gz", base, split);
        st = pk_idx_read(p1, img, NULL);
        if (!st && (st = pk_idx_read(p2, lab, NULL)) != PK_OK) {
            pk_array_free(*img);
            *img = NULL;
        }
    }
    if (!st && ((*img)->dtype != PK_DTYPE_U8 || (*img)->ndim != 3 || (*img)->shape[1] != 28 ||
                (*img)->shape[2] != 28 || (*lab)->shape[0] != (*img)->shape[0])) {
        pk_array_free(*img);
        pk_array_free(*lab);
        *img = *lab = NULL;
        st = PK_EFORMAT;
    }
    return st;
}

/* rows idx[0..n-1] of (img, lab) -> a set; ink standardised with (mu, sd) */
static int cape_make(const pk_array *img, const pk_array *lab, const size_t *idx, size_t n, double mu, double sd,
                     pk_rng *r, cape_set *s)
{
    s->n = n;
    s->x = malloc(n * 784 * sizeof *s->x);
    s->y = malloc(n * sizeof *s->y);
    s->pt = malloc(n * sizeof *s->pt);
    if (!s->x || !s->y || !s->pt) {
        cape_set_free(s);
        return PK_ENOMEM;
    }
    const uint8_t *px = img->data;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *im = px + idx[i] * 784;
        double ink = 0;
        for (size_t j = 0; j < 784; j++) {
            s->x[i * 784 + j] = (float)im[j] / 255.0f;
            ink += im[j] / 255.0;
        }
        ink /= 784;
        int c = (int)pk_array_get(lab, idx[i]);
        s->pt[i] = sigm(cape_class_offset[c % 10] + 1.2 * (ink - mu) / sd);
        s->y[i] = pk_rng_uniform(r) < s->pt[i];
    }
    return PK_OK;
}

enum { CAPE_NM = 7, CAPE_NQ = 6 };
static const char *cape_method[CAPE_NM] = {"CE, last epoch (no early stopping)", "CE, early-stopped",
                                           "CE-ES + temperature", "CE-ES + Platt", "CE-ES + isotonic",
                                           "CaPE (bin)", "CaPE (kernel)"};

static double cape_kl(const double *pt, const double *p, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double q = p[i] < 1e-6 ? 1e-6 : (p[i] > 1 - 1e-6 ? 1 - 1e-6 : p[i]), a = pt[i];
        s += a * log(a / q) + (1 - a) * log((1 - a) / (1 - q));
    }
    return s / (double)n;
}

/* quality figures of test predictions: MSE_p, KL, ECE, ECE (mass), Brier, AUC */
static void cape_score(const double *p, const cape_set *te, double *q)
{
    pk_calib_metrics cm;
    if (pk_calib_compute(p, te->y, te->pt, te->n, 15, &cm, NULL)) {
        for (int k = 0; k < CAPE_NQ; k++)
            q[k] = NAN;
        return;
    }
    q[0] = cm.mse_true, q[1] = cape_kl(te->pt, p, te->n), q[2] = cm.ece, q[3] = cm.ece_mass, q[4] = cm.brier,
    q[5] = cm.auc;
}

static int run_cape(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    double t0 = pk_time_now();
    pk_array *img = NULL, *lab = NULL, *img2 = NULL, *lab2 = NULL;
    /* quick: the 10,000 test images split three ways; full: train/val from the 60,000, test = t10k */
    int st = cape_load(pk_repro_data_dir(ctx), quick ? "t10k" : "train", &img, &lab);
    if (!st && !quick)
        st = cape_load(pk_repro_data_dir(ctx), "t10k", &img2, &lab2);
    if (st) {
        pk_array_free(img);
        pk_array_free(lab);
        pk_repro_row(ctx, "CaPE on Fashion-MNIST with known probabilities", NAN, NAN, NAN, NULL,
                     "Fashion-MNIST IDX files missing (DATA/fashion-mnist or /usr/share/datasets/fashion-mnist)",
                     PK_VERDICT_SKIP);
        return PK_OK;
    }
    size_t ntr = quick ? 3000 : 5000, nva = quick ? 1000 : 2000, nte = quick ? 3000 : 10000;
    int nseeds = quick ? 1 : 2, ce_epochs = quick ? 20 : 30, cape_epochs = quick ? 15 : 20;
    size_t N = (size_t)img->shape[0];
    /* ink statistics of the pool (a fixed property of the data, not of the split) */
    double mu = 0, m2 = 0;
    const uint8_t *px = img->data;
    for (size_t i = 0; i < N; i++) {
        double ink = 0;
        for (size_t j = 0; j < 784; j++)
            ink += px[i * 784 + j] / 255.0;
        ink /= 784;
        mu += ink;
        m2 += ink * ink;
    }
    mu /= (double)N;
    double sd = sqrt(m2 / (double)N - mu * mu);

    double res[CAPE_NM][CAPE_NQ] = {{0}};
    /* paired per-example differences of squared error to p_true: CaPE k minus baseline j */
    double dsum[2][4] = {{0}}, dsum2[2][4] = {{0}};
    size_t *perm = malloc(N * sizeof *perm), *tidx = malloc(nte * sizeof *tidx);
    double *curve_ce = malloc((size_t)ce_epochs * sizeof(double));
    double *curve_cape = malloc((size_t)cape_epochs * sizeof(double));
    double *p[CAPE_NM] = {0}, *pva = malloc(nva * sizeof(double));
    int ok = perm && tidx && curve_ce && curve_cape && pva;
    for (int k = 0; k < CAPE_NM; k++)
        ok = ok && (p[k] = malloc(nte * sizeof(double))) != NULL;
    cape_set tr = {0}, va = {0}, te = {0};
    pk_nn_classifier *m_over = NULL, *m_es = NULL, *m_cape = NULL;
    int es_epoch = 0, cape_best[2] = {0}, es_run = 0;
    if (!ok) {
        st = PK_ENOMEM;
        goto out;
    }
    pk_nn_classifier_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.arch = PK_NN_ARCH_MLP;
    cfg.channels = 1, cfg.height = 28, cfg.width = 28, cfg.classes = 2;
    cfg.n_hidden = 2, cfg.hidden[0] = quick ? 64 : 128, cfg.hidden[1] = quick ? 64 : 128;
    for (int seed = 0; seed < nseeds; seed++) {
        pk_rng r;
        pk_rng_seed_stream(&r, pk_repro_seed(ctx), 100 + (uint64_t)seed);
        pk_rng_permutation(&r, perm, N);
        if (quick)
            for (size_t i = 0; i < nte; i++)
                tidx[i] = perm[ntr + nva + i];
        else
            for (size_t i = 0; i < nte; i++)
                tidx[i] = i;
        cape_set_free(&tr);
        cape_set_free(&va);
        cape_set_free(&te);
        if ((st = cape_make(img, lab, perm, ntr, mu, sd, &r, &tr)) ||
            (st = cape_make(img, lab, perm + ntr, nva, mu, sd, &r, &va)) ||
            (st = cape_make(quick ? img : img2, quick ? lab : lab2, tidx, nte, mu, sd, &r, &te)))
            goto out;
        pk_err err = {0};
        pk_cape_params par = pk_cape_params_default();
        par.ce_epochs = ce_epochs;
        par.ce_patience = 0;
        par.restore_best = 0;
        par.cape_epochs = 0;
        par.batch = 128;
        par.lr = 1e-3;
        pk_cape_report rep;
        memset(&rep, 0, sizeof rep);
        /* 1) CE to the end: over-fits (the curve is kept for the plot) */
        pk_rng rm;
        pk_rng_seed_stream(&rm, pk_repro_seed(ctx), 200 + (uint64_t)seed);
        pk_nn_classifier_free(m_over);
        m_over = NULL;
        if ((st = pk_nn_classifier_new(&cfg, &rm, &m_over, &err)))
            goto fail;
        rep.val_nll = curve_ce;
        if ((st = pk_cape_fit(m_over, tr.x, tr.y, tr.n, va.x, va.y, va.n, &par, &rm, &rep, &err)) ||
            (st = pk_cape_predict(m_over, te.x, te.n, p[0], &err)))
            goto fail;
        /* 2) the same run (same seed) early-stopped on the validation NLL, patience 5 */
        pk_rng_seed_stream(&rm, pk_repro_seed(ctx), 200 + (uint64_t)seed);
        pk_nn_classifier_free(m_es);
        m_es = NULL;
        if ((st = pk_nn_classifier_new(&cfg, &rm, &m_es, &err)))
            goto fail;
        par.ce_patience = 5;
        par.restore_best = 1;
        rep.val_nll = NULL;
        if ((st = pk_cape_fit(m_es, tr.x, tr.y, tr.n, va.x, va.y, va.n, &par, &rm, &rep, &err)) ||
            (st = pk_cape_predict(m_es, te.x, te.n, p[1], &err)) || (st = pk_cape_predict(m_es, va.x, va.n, pva, &err)))
            goto fail;
        es_epoch = rep.ce_best_epoch;
        es_run = rep.ce_epochs_run;
        /* 3) post-hoc maps fitted on the validation split, applied to the test split */
        for (int k = 0; k < 3; k++) {
            pk_recal *rc = NULL;
            if ((st = pk_recal_fit((pk_recal_kind)k, pva, va.y, va.n, &rc, &err)))
                goto fail;
            pk_recal_apply(rc, p[1], te.n, p[2 + k]);
            pk_recal_free(rc);
        }
        /* 4) CaPE fine-tuning of the early-stopped network (bin, then kernel) */
        for (int k = 0; k < 2; k++) {
            pk_nn_classifier_free(m_cape);
            m_cape = NULL;
            pk_rng rc;
            pk_rng_seed_stream(&rc, pk_repro_seed(ctx), 300 + (uint64_t)seed);
            if ((st = pk_nn_classifier_new(&cfg, &rc, &m_cape, &err)) ||
                (st = pk_nn_params_copy(m_cape->params, m_es->params, &err)))
                goto fail;
            pk_cape_params pc = pk_cape_params_default();
            pc.kind = k ? PK_CAPE_KERNEL : PK_CAPE_BIN;
            pc.ce_epochs = 0;
            pc.cape_epochs = cape_epochs;
            pc.ce_per_cal = 1;
            pc.lr_cape = 3e-4;
            memset(&rep, 0, sizeof rep);
            rep.val_nll = k ? NULL : curve_cape;
            if ((st = pk_cape_fit(m_cape, tr.x, tr.y, tr.n, va.x, va.y, va.n, &pc, &rc, &rep, &err)) ||
                (st = pk_cape_predict(m_cape, te.x, te.n, p[5 + k], &err)))
                goto fail;
            cape_best[k] = rep.cape_best_epoch;
        }
        for (int k = 0; k < 2; k++)
            for (int j = 0; j < 4; j++)
                for (size_t i = 0; i < te.n; i++) {
                    double a = p[5 + k][i] - te.pt[i], b = p[1 + j][i] - te.pt[i], dd = a * a - b * b;
                    dsum[k][j] += dd;
                    dsum2[k][j] += dd * dd;
                }
        for (int k = 0; k < CAPE_NM; k++) {
            double q[CAPE_NQ];
            cape_score(p[k], &te, q);
            for (int j = 0; j < CAPE_NQ; j++)
                res[k][j] += q[j] / nseeds;
        }
        pk_repro_log(ctx, "CaPE seed %d: best CE epoch %d, CaPE best epochs %d / %d (0 = start) (%.0f s)", seed,
                     es_epoch + 1, cape_best[0] + 1, cape_best[1] + 1, pk_time_now() - t0);
        continue;
    fail:
        pk_repro_log(ctx, "CaPE experiment failed: %s", err.msg);
        goto out;
    }
    {
        char scale[160];
        snprintf(scale, sizeof scale,
                 "Fashion-MNIST, MLP 784-%d-%d-2, %zu train / %zu val / %zu test, %d seed%s, MSE on the test split",
                 cfg.hidden[0], cfg.hidden[1], ntr, nva, nte, nseeds, nseeds > 1 ? "s (mean)" : "");
        double best_base = INFINITY;
        int jb = 0;
        for (int k = 1; k <= 4; k++)
            if (res[k][0] < best_base) {
                best_base = res[k][0];
                jb = k - 1;
            }
        double ntot = (double)nte * nseeds;
        for (int k = 0; k < CAPE_NM; k++) {
            char m[128], sc[384];
            snprintf(m, sizeof m, "%s: MSE to p_true", cape_method[k]);
            pk_verdict v = PK_VERDICT_INFO;
            const char *sp = scale;
            if (k >= 5) {
                /* the paper's claim is a lower MSE: judged by the paired difference against the best
                 * baseline, which must exceed 2 standard errors either way to count */
                double md = dsum[k - 5][jb] / ntot, se = sqrt(fmax(0, dsum2[k - 5][jb] / ntot - md * md) / ntot);
                v = md < -2 * se ? PK_VERDICT_PASS : md > 2 * se ? PK_VERDICT_FAIL : PK_VERDICT_INFO;
                snprintf(sc, sizeof sc, "%s; paired difference vs %s %+.5f +- %.5f (SE)%s", scale, cape_method[jb + 1],
                         md, se, v == PK_VERDICT_INFO ? ", within 2 SE: a tie" : "");
                sp = sc;
            }
            pk_repro_row(ctx, m, res[k][0], NAN, k >= 5 ? best_base : NAN,
                         k >= 5 ? "best of CE-ES and post-hoc" : NULL, sp, v);
        }
        char tab[2048];
        int off = snprintf(tab, sizeof tab,
                           "Test-split figures (%s). Labels ~ Bernoulli(p_true), "
                           "p_true = sigmoid(a[class] + 1.2 z(ink)).\n\n"
                           "| method | MSE_p | KL | ECE | ECE (mass) | Brier | AUC |\n|---|---|---|---|---|---|---|\n",
                           nseeds > 1 ? "mean over seeds" : "one seed");
        for (int k = 0; k < CAPE_NM && off > 0 && (size_t)off < sizeof tab; k++)
            off += snprintf(tab + off, sizeof tab - (size_t)off, "| %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |\n",
                            cape_method[k], res[k][0], res[k][1], res[k][2], res[k][3], res[k][4], res[k][5]);
        pk_repro_note(ctx, "%s", tab);
        pk_repro_note(ctx,
                      "The paper (synthetic face-age scenarios, ResNet) reports CaPE with the lowest MSE_p in most "
                      "scenarios, ahead of early-stopped CE and of temperature/Platt/isotonic recalibration; its "
                      "table is given as an image, so we compare the ordering, not the values. Last seed: early "
                      "stopping at epoch %d of %d run; CaPE: bin targets over 10 equal-mass bins, kernel sigma 0.1, "
                      "window 500, one calibration epoch then one cross-entropy epoch, Adam 3e-4, %d epochs, best "
                      "validation NLL kept. Wall time %.0f s.",
                      es_epoch + 1, es_run, cape_epochs, pk_time_now() - t0);
    }
    {
        pk_plot *pl = pk_plot_new("Validation NLL: cross-entropy vs CaPE", "epoch", "validation NLL");
        if (pl) {
            double *ex = malloc((size_t)(ce_epochs + cape_epochs) * sizeof *ex);
            if (ex) {
                for (int e = 0; e < ce_epochs + cape_epochs; e++)
                    ex[e] = e + 1;
                pk_plot_line(pl, "CE", ex, curve_ce, (size_t)ce_epochs);
                pk_plot_line(pl, "CaPE (bin) from the early-stopped model", ex + es_epoch + 1, curve_cape,
                             (size_t)cape_epochs);
                pk_repro_plot(ctx, "cape_curves", pl);
                free(ex);
            }
            pk_plot_free(pl);
        }
        pl = pk_plot_new("Reliability on the test split", "mean predicted probability", "observed frequency");
        if (pl) {
            double cx[15], cy[15], diag[2] = {0, 1};
            size_t nout;
            pk_plot_set_xrange(pl, 0, 1);
            pk_plot_set_yrange(pl, 0, 1);
            pk_plot_line(pl, "perfect", diag, diag, 2);
            int show[4] = {0, 1, 3, 5};
            for (int k = 0; k < 4; k++)
                if (!pk_calib_curve(p[show[k]], te.y, te.n, 10, 0, cy, cx, NULL, &nout, NULL))
                    pk_plot_line(pl, cape_method[show[k]], cx, cy, nout);
            pk_repro_plot(ctx, "cape_reliability", pl);
            pk_plot_free(pl);
        }
    }
out:
    pk_nn_classifier_free(m_over);
    pk_nn_classifier_free(m_es);
    pk_nn_classifier_free(m_cape);
    cape_set_free(&tr);
    cape_set_free(&va);
    cape_set_free(&te);
    for (int k = 0; k < CAPE_NM; k++)
        free(p[k]);
    free(pva);
    free(perm);
    free(tidx);
    free(curve_ce);
    free(curve_cape);
    pk_array_free(img);
    pk_array_free(lab);
    pk_array_free(img2);
    pk_array_free(lab2);
    return st;
}

static int run(pk_repro_ctx *ctx)
{
    int st = run_metrics(ctx);
    if (st)
        return st;
    return run_cape(ctx);
}

const pk_repro pk_repro_probest = {
    "probest", PK_REPRO_PARTIAL,
    "calibration metrics vs true-probability error; CE, post-hoc recalibration and CaPE on Fashion-MNIST with known p",
    run};
