/* "Model-agnostic Measure of Generalization Difficulty" (Boopathy et al.):
 * the inductive-bias complexity of image classification tasks from estimated
 * intrinsic dimension, class separation and radius, with confidence intervals. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "probkit/theory.h"
#include "repro.h"

typedef struct est {
    double m_mean, m_lo, m_hi, delta, delta_lo, delta_hi, R;
} est;

/* t_{0.975} quantiles for reps - 1 = 2..9 degrees of freedom */
static double t975(size_t dof)
{
    static const double t[] = {0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262};
    return dof < 10 ? t[dof] : 2.0;
}

static int estimate(const pk_mat *X, const int *lab, size_t reps, size_t nq, size_t ns, pk_rng *rng, est *e)
{
    double ms[10], ds[10];
    for (size_t r = 0; r < reps; r++) {
        int st = pk_levina_bickel(X, nq, 5, rng, &ms[r]);
        if (!st && lab)
            st = pk_class_separation_evt(X, lab, ns, ns / 2000, rng, &ds[r]);
        if (st)
            return st;
    }
    double mm, vm, md = 0, vd = 0;
    pk_mean_var(ms, reps, &mm, &vm);
    if (lab)
        pk_mean_var(ds, reps, &md, &vd);
    double hm = t975(reps - 1) * sqrt(vm / (double)reps), hd = t975(reps - 1) * sqrt(vd / (double)reps);
    *e = (est){mm, mm - hm, mm + hm, md, md - hd, md + hd, pk_data_radius(X)};
    return PK_OK;
}

static double bits_at(double n, double m, double R, double delta, double classes, double error)
{
    pk_gendiff_in in = {error, n, fmax(1.0, round(m)), R, classes, delta, classes - 1, 1};
    double b, lb;
    if (pk_gendiff_bits(&in, &b, &lb))
        return NAN;
    return lb;
}

/* MNIST files <data dir>/mnist/<stem>-{images-idx3,labels-idx1}-ubyte, or
 * Debian's Fashion-MNIST training set (fashion = 1) */
static void data_paths(pk_repro_ctx *ctx, int fashion, const char *stem, char *img, char *lab, size_t size)
{
    if (!fashion) {
        snprintf(img, size, "%s/mnist/%s-images-idx3-ubyte", pk_repro_data_dir(ctx), stem);
        snprintf(lab, size, "%s/mnist/%s-labels-idx1-ubyte", pk_repro_data_dir(ctx), stem);
    } else {
        snprintf(img, size, "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
        snprintf(lab, size, "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz");
    }
}

/* The authors' protocol on a whole training set: R the largest norm and delta
 * the exact smallest distance between differently labelled images (their
 * MNIST constant 2.3987 is this minimum: (2.3987 * 255)^2 = 374141 exactly),
 * both deterministic; m by Levina-Bickel (k = 5) from reps independent query
 * sets, its 95% t-interval carried to the bits (m rounded, as they do). */
typedef struct full_est {
    size_t n, checked, pair[2];
    double m, m_lo, m_hi, delta, R, lb, lb_lo, lb_hi, secs;
} full_est;

static int full_set(const char *img, const char *lab, size_t reps, size_t nq, pk_rng *rng, full_est *f, pk_err *err)
{
    pk_mat *X;
    int *labels;
    if (pk_idx_load(img, lab, 60000, &X, &labels, err))
        return -1; /* data missing: the caller skips */
    int st;
    double t0 = pk_time_now(), ms[10];
    f->n = X->rows;
    f->R = pk_data_radius(X);
    st = pk_class_separation_exact(X, labels, 32, 0, &f->delta, f->pair, &f->checked);
    f->secs = pk_time_now() - t0;
    for (size_t r = 0; r < reps && !st; r++)
        st = pk_levina_bickel(X, nq, 5, rng, &ms[r]);
    pk_mat_free(X);
    free(labels);
    if (st)
        return st;
    double mm, vm;
    pk_mean_var(ms, reps, &mm, &vm);
    double h = t975(reps - 1) * sqrt(vm / (double)reps), n = (double)f->n;
    f->m = mm, f->m_lo = mm - h, f->m_hi = mm + h;
    f->lb = bits_at(n, mm, f->R, f->delta, 10, 0.001);
    f->lb_lo = bits_at(n, mm - h, f->R, f->delta, 10, 0.001);
    f->lb_hi = bits_at(n, mm + h, f->R, f->delta, 10, 0.001);
    return PK_OK;
}

static int run(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    pk_rng rng;
    pk_rng_seed(&rng, pk_repro_seed(ctx));
    /* the paper's own constants */
    double lb_in = bits_at(1280901, 48, 943.5923, 65, 1000, 0.1);
    pk_repro_row(ctx, "log10 bits, ImageNet with the paper's constants", lb_in, log10(3.58e41), NAN, NULL,
                 "n = 1,280,901, m = 48, R = 943.6, delta = 65, eps = 0.1", pk_verdict_le(fabs(lb_in - log10(3.58e41)), 0.01));
    double lb_mn = bits_at(60000, 14, 17.179045827183984, 2.3987084824335305, 10, 0.001);
    pk_repro_row(ctx, "log10 bits, MNIST (60k) with the authors' constants", lb_mn, NAN, NAN, NULL,
                 "n = 60,000, m = 14, R = 17.18, delta = 2.399, eps = 0.001", PK_VERDICT_INFO);

    /* the whole 60,000-image training sets: MNIST (scripts/fetch_mnist_full.sh)
     * and Fashion-MNIST (Debian) */
    size_t freps = quick ? 3 : 5, fnq = quick ? 500 : 2000;
    full_est f60[2];
    int have60[2] = {0, 0};
    static const char *n60[2] = {"MNIST", "Fashion-MNIST"};
    for (int which = 0; which < 2; which++) {
        char img6[1024], lab6[1024], metric[160], sc[1600];
        data_paths(ctx, which, "train", img6, lab6, sizeof img6);
        snprintf(metric, sizeof metric, "log10 bits, %s 60k training set, inputs estimated from it", n60[which]);
        pk_err e6 = {0};
        full_est *f = &f60[which];
        int st6 = full_set(img6, lab6, freps, fnq, &rng, f, &e6);
        if (st6 < 0) {
            snprintf(sc, sizeof sc, "data missing (%s)%s", e6.msg[0] ? e6.msg : img6,
                     which == 0 ? "; run scripts/fetch_mnist_full.sh" : "");
            pk_repro_row(ctx, metric, NAN, NAN, NAN, NULL, sc, PK_VERDICT_SKIP);
            continue;
        }
        if (st6)
            return st6;
        if (f->n != 60000) {
            snprintf(sc, sizeof sc, "%s holds %zu images, not the 60,000-image training set", img6, f->n);
            pk_repro_row(ctx, metric, NAN, NAN, NAN, NULL, sc, PK_VERDICT_SKIP);
            continue;
        }
        have60[which] = 1;
        snprintf(sc, sizeof sc,
                 "n = 60,000, eps = 0.001; m = %.2f [%.2f, %.2f] (Levina-Bickel k = 5, %zu x %zu queries against all "
                 "60,000; used rounded: %g), delta = %.4f exact (images %zu and %zu; %zu of the differently labelled "
                 "pairs re-checked in double, %.1f s), R = %.3f; log10 bits 95%% CI [%.2f, %.2f]",
                 f->m, f->m_lo, f->m_hi, freps, fnq, fmax(1.0, round(f->m)), f->delta, f->pair[0], f->pair[1],
                 f->checked, f->secs, f->R, f->lb_lo, f->lb_hi);
        pk_repro_row(ctx, metric, f->lb, which == 0 ? 16.0 : NAN, NAN, NULL, sc,
                     which == 0 ? pk_verdict_le(fabs(f->lb - 16.0), 1.0) : PK_VERDICT_INFO);
        if (which == 0) {
            pk_repro_row(ctx, "class separation delta, MNIST 60k: exact minimum over all pairs", f->delta,
                         2.3987084824335305, NAN, NULL,
                         "smallest distance between differently labelled training images (pixels / 255); the "
                         "authors' constant",
                         pk_verdict_le(fabs(f->delta - 2.3987084824335305), 1e-9));
            snprintf(sc, sizeof sc,
                     "mean of %zu x %zu queries, 95%% interval [%.2f, %.2f]; the authors' 14 is their estimate from "
                     "10,000 queries rounded, so the check is 14 within our interval widened by the rounding (0.5)",
                     freps, fnq, f->m_lo, f->m_hi);
            pk_repro_row(ctx, "intrinsic dimension m, MNIST 60k (Levina-Bickel k = 5)", f->m, 14, NAN, NULL, sc,
                         f->m_lo - 0.5 <= 14 && 14 < f->m_hi + 0.5 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
            pk_repro_row(ctx, "radius R, MNIST 60k (largest norm)", f->R, 17.179045827183984, NAN, NULL,
                         "pixels / 255", pk_verdict_le(fabs(f->R - 17.179045827183984), 1e-9));
        }
    }
    if (have60[0] && have60[1]) {
        char sc[300];
        snprintf(sc, sizeof sc, "60k training sets, same protocol; 95%% intervals MNIST [%.2f, %.2f], Fashion [%.2f, %.2f]%s",
                 f60[0].lb_lo, f60[0].lb_hi, f60[1].lb_lo, f60[1].lb_hi,
                 f60[0].lb_hi < f60[1].lb_lo ? " (disjoint)" : " (overlapping)");
        pk_repro_row(ctx, "ordering MNIST < Fashion-MNIST, 60k training sets (log10 bits difference)",
                     f60[1].lb - f60[0].lb, NAN, NAN, NULL, sc,
                     f60[1].lb > f60[0].lb ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    }

    /* the authors' estimator settings: Levina-Bickel k = 5 (they query 10,000
     * points; we query 500 / 2,000 of them, the mean is the same, the interval
     * says how well), extreme-value separation from 4e6 pairs with k = 2,000
     * (quick: 4e5 pairs, k = 200) */
    size_t reps = quick ? 3 : 8, nq = quick ? 300 : 2000, ns = quick ? 400000 : 4000000;
    char img[1024], lab[1024];
    const char *names[2] = {"MNIST (10k digits)", "Fashion-MNIST (first 10k)"};
    double lbits[2] = {NAN, NAN};
    pk_mat *Xm = NULL;
    int *labm = NULL;
    for (int which = 0; which < 2; which++) {
        /* quick mode: the 10k Fashion-MNIST rows are full-mode only (the
         * ordering is checked on the 60k sets above) */
        if (quick && which == 1)
            continue;
        data_paths(ctx, which, "mnist-10k", img, lab, sizeof img);
        pk_mat *X;
        int *labels;
        pk_err err = {0};
        char metric[160], sc[300];
        snprintf(metric, sizeof metric, "log10 bits, %s, estimated inputs", names[which]);
        if (pk_idx_load(img, lab, 10000, &X, &labels, &err)) {
            pk_repro_row(ctx, metric, NAN, NAN, NAN, NULL, "data missing", PK_VERDICT_SKIP);
            continue;
        }
        est e;
        int st = estimate(X, labels, reps, nq, ns, &rng, &e);
        if (st) {
            pk_mat_free(X);
            free(labels);
            return st;
        }
        lbits[which] = bits_at((double)X->rows, e.m_mean, e.R, e.delta, 10, 0.001);
        double lo = bits_at((double)X->rows, e.m_lo, e.R, e.delta_hi, 10, 0.001);
        double hi = bits_at((double)X->rows, e.m_hi, e.R, fmax(e.delta_lo, 1e-3), 10, 0.001);
        snprintf(sc, sizeof sc,
                 "n = %zu, m = %.2f [%.2f, %.2f] (Levina-Bickel k = 5, %zu x %zu queries, rounded), delta = %.3f "
                 "[%.3f, %.3f] (extreme-value extrapolation, %zu x %zu pairs, k = %zu), R = %.2f, eps = 0.001; "
                 "log10 bits 95%% CI [%.2f, %.2f]",
                 X->rows, e.m_mean, e.m_lo, e.m_hi, reps, nq, e.delta, e.delta_lo, e.delta_hi, reps, ns, ns / 2000, e.R,
                 lo, hi);
        /* info only: the 1e16 anchor is the 60k training set's (rows above); a
         * 10k subset's smallest between-class distance is larger */
        pk_repro_row(ctx, metric, lbits[which], NAN, NAN, NULL, sc, PK_VERDICT_INFO);
        if (which == 0) {
            /* where the decades go: swap one estimated input at a time for the
             * authors' 60k-training-set constant (m 14, delta 2.399, R 17.18) */
            double n0 = (double)X->rows, sw_m = bits_at(n0, 14, e.R, e.delta, 10, 0.001),
                   sw_d = bits_at(n0, e.m_mean, e.R, 2.3987084824335305, 10, 0.001),
                   sw_r = bits_at(n0, e.m_mean, 17.179045827183984, e.delta, 10, 0.001),
                   all = bits_at(n0, 14, 17.179045827183984, 2.3987084824335305, 10, 0.001);
            pk_repro_row(ctx, "log10 bits, MNIST 10k with the authors' 60k constants (m 14, delta 2.399, R 17.18)", all,
                         16.0, NAN, NULL, "n = 10,000, eps = 0.001: the issue's anchor comes from these constants",
                         pk_verdict_le(fabs(all - 16.0), 1.0));
            /* the separation the 60,000-image training set would show, extrapolated
             * by the same extreme-value fit from these 10,000 digits (full mode:
             * the quick tail fit is too noisy to extrapolate, and the 60k set's
             * exact value is measured above) */
            double d60 = NAN, dd;
            char ext[160] = "";
            if (!quick) {
                d60 = 0;
                for (size_t r = 0; r < reps; r++) {
                    if ((st = pk_class_separation_evt_pop(X, labels, ns, ns / 2000, 60000, &rng, &dd))) {
                        pk_mat_free(X);
                        free(labels);
                        return st;
                    }
                    d60 += dd / (double)reps;
                }
                double l60 = bits_at(60000, e.m_mean, e.R, d60, 10, 0.001);
                snprintf(sc, sizeof sc,
                         "delta extrapolated to 60,000 images: %.3f (exact on the 60k: 2.3987); m, R as estimated on "
                         "the 10k",
                         d60);
                pk_repro_row(ctx, "log10 bits, MNIST, separation extrapolated from the 10k to the 60k training set",
                             l60, NAN, NAN, NULL, sc, PK_VERDICT_INFO);
                snprintf(ext, sizeof ext, "; the extreme-value fit extrapolated from the 10k to 60,000 images gives %.3f",
                         d60);
            }
            double d10 = NAN;
            size_t p10[2] = {0, 0};
            if ((st = pk_class_separation_exact(X, labels, 32, 0, &d10, p10, NULL))) {
                pk_mat_free(X);
                free(labels);
                return st;
            }
            snprintf(sc, sizeof sc,
                     "exact smallest distance between differently labelled digits among these 10,000 (digits %zu "
                     "and %zu); the 60k training set's is 2.3987",
                     p10[0], p10[1]);
            pk_repro_row(ctx, "class separation delta, MNIST 10k subset: exact minimum", d10, NAN, NAN, NULL, sc,
                         PK_VERDICT_INFO);
            pk_repro_note(ctx,
                          "MNIST (10k digits, a subset of the training set): log10 bits %.2f, 95%% interval [%.2f, "
                          "%.2f] from the estimators' spread. Swapping one input at a time for the 60k training set's "
                          "(m 14, delta 2.399, R 17.18): m gives 10^%.2f, delta 10^%.2f, R 10^%.2f (all three: "
                          "10^%.2f with n = 10,000). The separation dominates and it is a sample minimum: the exact "
                          "smallest between-class distance is %.4f among the 10,000 digits and 2.3987 among the 60,000 "
                          "training images, so the 10k figure sits about three decades below the 60k one for that "
                          "reason alone%s.",
                          lbits[0], lo, hi, sw_m, sw_d, sw_r, all, d10, ext);
        }
        if (which == 0) {
            Xm = X;
            labm = labels;
        } else {
            pk_mat_free(X);
            free(labels);
        }
    }
    if (isfinite(lbits[0]) && isfinite(lbits[1]))
        pk_repro_row(ctx, "ordering MNIST < Fashion-MNIST (log10 bits difference)", lbits[1] - lbits[0], NAN, NAN, NULL,
                     "both from 10k images, same estimators", lbits[1] > lbits[0] ? PK_VERDICT_PASS : PK_VERDICT_FAIL);

    /* MNIST PCA to d dimensions: bits vs d and n */
    if (Xm) {
        static const size_t ds[] = {2, 4, 8, 16, 32}, ns_[] = {100, 300, 1000};
        double grid[5][3], mest[5];
        pk_mat *Z = NULL;
        int st = pk_pca_scores(Xm, 32, 2000, &Z, NULL);
        if (st) {
            pk_mat_free(Xm);
            free(labm);
            return st;
        }
        int up = 1, down = 1;
        for (size_t a = 0; a < 5; a++) {
            pk_mat *P = pk_mat_new(Z->rows, ds[a]);
            if (!P) {
                st = PK_ENOMEM;
                break;
            }
            for (size_t i = 0; i < Z->rows; i++)
                for (size_t j = 0; j < ds[a]; j++)
                    *pk_mat_at(P, i, j) = *pk_mat_at(Z, i, j);
            double mhat = NAN, delta = NAN, R = pk_data_radius(P);
            st = pk_levina_bickel(P, quick ? 200 : 1000, 5, &rng, &mhat);
            if (!st)
                st = pk_class_separation_evt(P, labm, quick ? 200000 : 1000000, quick ? 100 : 500, &rng, &delta);
            pk_mat_free(P);
            if (st)
                break;
            mest[a] = mhat;
            for (size_t b = 0; b < 3; b++) {
                grid[a][b] = bits_at((double)ns_[b], mhat, R, delta, 10, 0.001);
                if (b && !(grid[a][b] <= grid[a][b - 1]))
                    down = 0;
                if (a && !(grid[a][b] >= grid[a - 1][b]))
                    up = 0;
            }
            pk_repro_log(ctx, "PCA d=%zu: m = %.2f, delta = %.3f, R = %.2f, log10 bits (n=100/300/1000) %.3f %.3f %.3f",
                         ds[a], mhat, delta, R, grid[a][0], grid[a][1], grid[a][2]);
        }
        pk_mat_free(Z);
        pk_mat_free(Xm);
        free(labm);
        if (st)
            return st;
        /* not a claim of this paper (the trend claim belongs to the exact
         * inductive bias, checked by `reproduce exactbias`): here delta grows
         * with d as fast as m, so the bits need not grow */
        pk_repro_row(ctx, "bits grow with PCA dimension d (2..32) at every n (1 = yes)", up, NAN, NAN, NULL,
                     "MNIST 10k, unit-variance PCA scores, m by Levina-Bickel per d", PK_VERDICT_INFO);
        pk_repro_row(ctx, "bits shrink with training-set size n (100, 300, 1000) at every d (1 = yes)", down, NAN, NAN,
                     NULL, "same", PK_VERDICT_INFO);
        pk_plot *pl = pk_plot_new("Inductive-bias complexity of MNIST reduced by PCA", "PCA dimension d",
                                  "log10 bits");
        if (pl) {
            pk_plot_set_log(pl, 1, 0);
            double xs[5];
            for (size_t a = 0; a < 5; a++)
                xs[a] = (double)ds[a];
            for (size_t b = 0; b < 3; b++) {
                double ys[5];
                for (size_t a = 0; a < 5; a++)
                    ys[a] = grid[a][b];
                char l[32];
                snprintf(l, sizeof l, "n = %zu", ns_[b]);
                pk_plot_line(pl, l, xs, ys, 5);
            }
            pk_repro_plot(ctx, "bits_vs_pca_d", pl);
            pk_plot_free(pl);
        }
        pk_repro_note(ctx, "Levina-Bickel intrinsic dimension of the PCA-reduced digits: %.1f, %.1f, %.1f, %.1f, %.1f "
                           "for d = 2, 4, 8, 16, 32.",
                      mest[0], mest[1], mest[2], mest[3], mest[4]);
    }
    pk_repro_note(ctx, "Formula and estimator conventions follow the authors' task_difficulty.py (FieteLab/"
                       "inductive-bias-complexity): E counts Laplace-Beltrami eigenfunctions on an m-sphere up to "
                       "frequency 2 pi R / delta; delta on the 60k training sets by the exact minimum over all pairs (their MNIST constant is that minimum), on "
                       "the 10k samples by the extreme-value extrapolation of their evt_delta.");
    return PK_OK;
}

const pk_repro pk_repro_gendiff = {"gendiff", PK_REPRO_IMPLEMENTED,
                                   "inductive-bias complexity of MNIST / Fashion-MNIST with estimated intrinsic "
                                   "dimension, separation and radius; ImageNet constants",
                                   run};
