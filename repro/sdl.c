/* sdl — "Supervised Dictionary Learning with Auxiliary Covariates" (Lee, Lyu, Yao): the lifted
 * low-rank projected gradient descent (LPGD) and block coordinate descent on the authors'
 * semi-synthetic MNIST task, its linear convergence, and a real-data run with covariates. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/io.h"
#include "probkit/latent.h"
#include "repro.h"

enum { PIX = 784 };

/* Threshold maximising tpr - fpr on the training predictions (the authors' protocol). */
static double youden(const double *p, const int32_t *y, size_t n)
{
    double best = -1, thr = 0.5;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++)
        pos += y[i] == 1;
    for (size_t c = 0; c < n; c++) {
        double t = p[c];
        size_t tp = 0, fp = 0;
        for (size_t i = 0; i < n; i++)
            if (p[i] >= t) {
                tp += y[i] == 1;
                fp += y[i] == 0;
            }
        double j = (pos ? (double)tp / (double)pos : 0) - (n > pos ? (double)fp / (double)(n - pos) : 0);
        if (j > best) {
            best = j;
            thr = t;
        }
    }
    return thr;
}

static double accuracy(const double *p, const int32_t *y, size_t n, double thr)
{
    double c = 0;
    for (size_t i = 0; i < n; i++)
        c += (p[i] >= thr) == (y[i] == 1);
    return c / (double)n;
}

/* The authors' generator (sim_data_gen_MNIST, called with r = [10, 10], n = 500, digits 2/5 and
 * 4/7, noise 0.5): 10 images each of digits 2 and 5 form the true dictionary W; codes U(0,1);
 * a draw of 10 images each of 4 and 7 gives Beta = +1 / -1 by digit.  Their code then drives the
 * labels by the projections of the clean x on the dictionary images W (X @ W_true.T), so the
 * 4/7 images fix only the signs; by_y != 0 uses the projections on the 4/7 images instead (the
 * reading of the paper's text, and of their older generator).  bench/cluster_sdl_task.py
 * measures scikit-learn's logistic regression on both readings. */
static int make_task(const double *img, const uint8_t *lab, size_t nimg, size_t n, int by_y, pk_rng *r, double *X,
                     int32_t *y)
{
    size_t Wi[20], Yi[20];
    const int dx[2] = {2, 5}, dy[2] = {4, 7};
    for (int part = 0; part < 2; part++) {
        const int *dg = part ? dy : dx;
        size_t *out = part ? Yi : Wi;
        for (int c = 0; c < 2; c++) {
            size_t got = 0;
            while (got < 10) {
                size_t i = (size_t)pk_rng_below(r, nimg);
                if (lab[i] == dg[c]) {
                    int dup = 0;
                    for (size_t k = 0; k < (size_t)c * 10 + got; k++)
                        dup |= out[k] == i;
                    if (!dup)
                        out[c * 10 + got++] = i;
                }
            }
        }
    }
    double *s = malloc(n * sizeof(double)), *h = malloc(20 * sizeof(double));
    if (!s || !h) {
        free(s);
        free(h);
        return PK_ENOMEM;
    }
    double ms = 0;
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < 20; k++)
            h[k] = pk_rng_uniform(r);
        for (size_t j = 0; j < PIX; j++) {
            double v = 0;
            for (int k = 0; k < 20; k++)
                v += h[k] * img[Wi[k] * PIX + j];
            X[i * PIX + j] = v;
        }
        double t = 0;
        for (int k = 0; k < 20; k++)
            t += (k < 10 ? 1.0 : -1.0) * pk_dot(X + i * PIX, img + (by_y ? Yi[k] : Wi[k]) * PIX, PIX);
        s[i] = t;
        ms += t / (double)n;
    }
    for (size_t i = 0; i < n; i++) {
        y[i] = pk_rng_uniform(r) < 1 / (1 + exp(-(s[i] - ms)));
        for (size_t j = 0; j < PIX; j++)
            X[i * PIX + j] += 0.5 * pk_rng_normal(r);
    }
    free(s);
    free(h);
    return PK_OK;
}

/* L2 logistic regression (lambda = 1) on the pixels: rows are i.i.d., the first ntr train and
 * the next nte test; Youden threshold from the training split.  p: scratch (ntr + nte). */
static double logreg_accuracy(const double *X, const int32_t *y, size_t ntr, size_t nte, double *p)
{
    pk_mat Xtr = pk_mat_view((double *)X, ntr, PIX), Xte = pk_mat_view((double *)X + ntr * PIX, nte, PIX);
    pk_logreg *lr = NULL;
    double acc = 0;
    if (pk_logreg_fit(&Xtr, y, 1.0, 50, &lr, NULL) == PK_OK) {
        pk_logreg_predict_proba(lr, &Xtr, p);
        double thr = youden(p, y, ntr);
        pk_logreg_predict_proba(lr, &Xte, p);
        acc = accuracy(p, y + ntr, nte, thr);
    }
    pk_logreg_free(lr);
    return acc;
}

static int mnist_part(pk_repro_ctx *ctx, pk_rng *r, int quick)
{
    char ip[1024], lp[1024];
    snprintf(ip, sizeof ip, "%s/mnist/mnist-10k-images-idx3-ubyte", pk_repro_data_dir(ctx));
    snprintf(lp, sizeof lp, "%s/mnist/mnist-10k-labels-idx1-ubyte", pk_repro_data_dir(ctx));
    pk_array *ai = NULL, *al = NULL;
    pk_err err;
    if (pk_idx_read(ip, &ai, &err) || pk_idx_read(lp, &al, &err)) {
        pk_array_free(ai);
        pk_array_free(al);
        pk_repro_row(ctx, "semi-synthetic MNIST: LPGD test accuracy", NAN, 0.83, 0.72, "logistic regression (paper)",
                     "MNIST 10k IDX files missing (run scripts/fetch_data.sh)", PK_VERDICT_SKIP);
        return PK_OK;
    }
    size_t nimg = (size_t)ai->shape[0];
    double *img = NULL;
    int st = pk_array_to_f64(ai, &img);
    const uint8_t *lab = al->data;
    size_t n = 500, ntr = 400, nte = 100;
    double *X = malloc(n * PIX * sizeof(double)), *Xs = malloc(n * PIX * sizeof(double)), *p = malloc(n * sizeof(double));
    int32_t *y = malloc(n * sizeof(int32_t));
    if (st || !X || !Xs || !p || !y || al->dtype != PK_DTYPE_U8 || (size_t)al->shape[0] != nimg) {
        st = st ? st : PK_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < nimg * PIX; i++)
        img[i] /= 255.0;
    int reps = quick ? 3 : 20;
    const double xis_q[] = {0.1, 1.0}, xis_f[] = {0.1, 1.0, 5.0, 10.0};
    const double *xis = quick ? xis_q : xis_f;
    size_t nxi = quick ? 2 : 4;
    double acc_lr = 0, acc_lr_y = 0, acc_lp[4] = {0}, acc_bcd = 0, rate = NAN;
    double *conv = NULL;
    int conv_n = 0;
    for (int rep = 0; rep < reps; rep++) {
        /* the baseline on the other reading of the label construction (4/7 projections) */
        st = make_task(img, lab, nimg, n, 1, r, X, y);
        if (st)
            goto done;
        acc_lr_y += logreg_accuracy(X, y, ntr, nte, p) / reps;
        st = make_task(img, lab, nimg, n, 0, r, X, y);
        if (st)
            goto done;
        acc_lr += logreg_accuracy(X, y, ntr, nte, p) / reps;
        /* SDL works on X / 10 as in the authors' runs */
        for (size_t i = 0; i < n * PIX; i++)
            Xs[i] = X[i] / 10;
        pk_mat Str = pk_mat_view(Xs, ntr, PIX), Ste = pk_mat_view(Xs + ntr * PIX, nte, PIX);
        for (size_t k = 0; k < nxi; k++) {
            pk_sdl_params sp = pk_sdl_params_default(2, xis[k]);
            sp.max_iter = quick ? 100 : 300;
            pk_sdl *m = NULL;
            if (pk_sdl_fit(&Str, NULL, y, &sp, r, &m, NULL) == PK_OK) {
                pk_sdl_predict_proba(m, &Str, NULL, p);
                double thr = youden(p, y, ntr);
                pk_sdl_predict_proba(m, &Ste, NULL, p);
                acc_lp[k] += accuracy(p, y + ntr, nte, thr) / reps;
                if (rep == 0 && k == nxi - 1) {
                    conv_n = m->n_iter;
                    conv = malloc((size_t)conv_n * sizeof(double));
                    if (conv)
                        memcpy(conv, m->objective, (size_t)conv_n * sizeof(double));
                }
            }
            pk_sdl_free(m);
        }
        pk_sdl_params bp = pk_sdl_params_default(2, xis[nxi - 1]);
        bp.algo = PK_SDL_BCD;
        bp.max_iter = quick ? 30 : 100;
        pk_sdl *mb = NULL;
        if (pk_sdl_fit(&Str, NULL, y, &bp, r, &mb, NULL) == PK_OK) {
            pk_sdl_predict_proba(mb, &Str, NULL, p);
            double thr = youden(p, y, ntr);
            pk_sdl_predict_proba(mb, &Ste, NULL, p);
            acc_bcd += accuracy(p, y + ntr, nte, thr) / reps;
        }
        pk_sdl_free(mb);
    }
    char scale[128];
    snprintf(scale, sizeof scale, "n = 500 (400 train / 100 test), r = 2, %d rep(s)", reps);
    size_t kb = 0;
    for (size_t k = 0; k < nxi; k++) {
        char m[96];
        snprintf(m, sizeof m, "semi-synthetic MNIST: LPGD test accuracy, xi = %g", xis[k]);
        pk_repro_row(ctx, m, acc_lp[k], NAN, NAN, NULL, scale, PK_VERDICT_INFO);
        if (acc_lp[k] > acc_lp[kb])
            kb = k;
    }
    pk_repro_row(ctx, "semi-synthetic MNIST: LPGD best-xi test accuracy", acc_lp[kb], 0.83, acc_lr,
                 "L2 logistic regression on pixels (ours)", scale,
                 acc_lp[kb] >= 0.83 - 0.05 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    pk_repro_row(ctx, "semi-synthetic MNIST: LPGD minus logistic regression (accuracy)", acc_lp[kb] - acc_lr,
                 0.83 - 0.72, NAN, NULL, scale, acc_lp[kb] > acc_lr ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    pk_repro_row(ctx, "semi-synthetic MNIST: BCD test accuracy", acc_bcd, NAN, acc_lr, "L2 logistic regression (ours)",
                 scale, PK_VERDICT_INFO);
    pk_repro_row(ctx, "semi-synthetic MNIST: logistic regression, labels from the 4/7 images", acc_lr_y, 0.72, NAN,
                 NULL, scale, PK_VERDICT_INFO);
    pk_repro_note(ctx, "Task: the authors' code drives the labels by the clean x's projections on the 2/5 "
                       "dictionary images (the 4/7 draw only signs Beta); the rows above use that.  The other "
                       "reading (projections on the 4/7 images) is the 'labels from the 4/7 images' row.  Both "
                       "label logits have a spread of ~80-200, so labels are nearly noise-free (oracle accuracy "
                       "0.99); what limits logistic regression is n = 400 against 784 noisy pixels.  "
                       "scikit-learn's LogisticRegression() as the authors call it (lbfgs, 100 iterations, "
                       "unconverged) scores 0.80 / 0.75 on the two readings and 0.86 / 0.82 when converged "
                       "(bench/results/cluster_sdl_task.json, 20 data sets each); the paper's 0.72 is one data "
                       "set (seed 1) of the unconverged run, within the spread of the second reading.");
    pk_repro_note(ctx, "The best xi is picked on the test split (as the paper's curves show each xi), so the best-xi "
                       "row is optimistic by the selection; each xi is listed above.  Our logistic-regression "
                       "baseline is L2 (lambda = 1, i.e. scikit-learn's C = 1) solved to convergence by Newton's "
                       "method; the paper's 0.72 comes from scikit-learn's default lbfgs run (100 iterations, "
                       "unconverged on 784 pixels).");
    pk_repro_note(ctx, "The authors' own stored run (github.com/ljw9510/SDL, Output_files/SDL_sim1/"
                       "results_SDL_sim1_MNIST.npy, read session 3): one LogisticRegression(random_state=0) fit "
                       "on the noisy pixels, no covariates, 0.72; their LPGD ('SDL-conv-filt', rank 2, 200 "
                       "iterations, 2 runs per xi) 0.84 / 0.83 at xi = 0.01, 0.82 / 0.83 at 0.1, 0.84 / 0.83 at 1, "
                       "0.66 / 0.65 at 5 and 0.64 / 0.77 at 10.  Their script's settings: n = 500 (80/20 split), "
                       "noise sd 0.5, data rank [10, 10] from digits 2/5, signs from 4/7, seed 1, model rank 2.");
    /* linear convergence: gap to the final objective, log scale */
    if (conv && conv_n > 10) {
        double fstar = conv[conv_n - 1];
        for (int t = 0; t < conv_n; t++)
            if (conv[t] < fstar)
                fstar = conv[t];
        double *it = malloc((size_t)conv_n * sizeof(double)), *gap = malloc((size_t)conv_n * sizeof(double));
        if (it && gap) {
            for (int t = 0; t < conv_n; t++) {
                it[t] = t;
                gap[t] = conv[t] - fstar + 1e-300;
            }
            /* geometric rate over the first half (before the gap hits rounding level) */
            int t1 = conv_n / 2;
            if (gap[t1] > 0 && gap[1] > 0)
                rate = pow(gap[t1] / gap[1], 1.0 / (t1 - 1));
            pk_plot *pl = pk_plot_new("LPGD objective gap (semi-synthetic MNIST)", "iteration", "f - f_final");
            if (pl) {
                pk_plot_set_log(pl, 0, 1);
                pk_plot_line(pl, "LPGD", it, gap, (size_t)conv_n - 1);
                pk_repro_plot(ctx, "sdl_lpgd_convergence", pl);
                pk_plot_free(pl);
            }
        }
        free(it);
        free(gap);
        pk_repro_row(ctx, "LPGD per-iteration contraction of the objective gap", rate, NAN, NAN, NULL,
                     "first half of the run, largest xi", rate < 1 ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    }
    free(conv);
done:
    free(img);
    free(X);
    free(Xs);
    free(p);
    free(y);
    pk_array_free(ai);
    pk_array_free(al);
    return st;
}

/* Breast cancer: 28 z-scored features, 2 held-out columns (mean radius, mean texture) as covariates. */
static int cancer_part(pk_repro_ctx *ctx, pk_rng *r)
{
    FILE *f = fopen("/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv", "r");
    if (!f) {
        pk_repro_row(ctx, "breast cancer: SDL test accuracy", NAN, NAN, NAN, NULL, "scikit-learn CSV missing",
                     PK_VERDICT_SKIP);
        return PK_OK;
    }
    size_t n = 569, d = 30;
    double *A = malloc(n * d * sizeof(double)), *p = malloc(n * sizeof(double));
    int32_t *y = malloc(n * sizeof(int32_t));
    size_t *perm = malloc(n * sizeof(size_t));
    char line[4096];
    int st = (!A || !p || !y || !perm || !fgets(line, sizeof line, f)) ? PK_EFORMAT : PK_OK;
    for (size_t i = 0; !st && i < n; i++) {
        for (size_t j = 0; !st && j < d; j++)
            if (fscanf(f, "%lf,", &A[i * d + j]) != 1)
                st = PK_EFORMAT;
        int c;
        if (!st && fscanf(f, "%d", &c) != 1)
            st = PK_EFORMAT;
        else
            y[i] = c;
    }
    fclose(f);
    if (st)
        goto done;
    for (size_t j = 0; j < d; j++) {
        double m = 0, s = 0;
        for (size_t i = 0; i < n; i++)
            m += A[i * d + j] / (double)n;
        for (size_t i = 0; i < n; i++)
            s += (A[i * d + j] - m) * (A[i * d + j] - m) / (double)n;
        for (size_t i = 0; i < n; i++)
            A[i * d + j] = (A[i * d + j] - m) / sqrt(s);
    }
    pk_rng_permutation(r, perm, n);
    size_t ntr = 400, nte = n - ntr, dx = d - 2;
    double *Xtr = malloc(n * dx * sizeof(double)), *Ztr = malloc(n * 2 * sizeof(double)), *Full = malloc(n * d * sizeof(double));
    int32_t *yy = malloc(n * sizeof(int32_t));
    if (!Xtr || !Ztr || !Full || !yy) {
        free(Xtr);
        free(Ztr);
        free(Full);
        free(yy);
        st = PK_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        size_t s = perm[i];
        yy[i] = y[s];
        memcpy(Full + i * d, A + s * d, d * sizeof(double));
        Ztr[i * 2] = A[s * d];
        Ztr[i * 2 + 1] = A[s * d + 1];
        memcpy(Xtr + i * dx, A + s * d + 2, dx * sizeof(double));
    }
    pk_mat X1 = pk_mat_view(Xtr, ntr, dx), X2 = pk_mat_view(Xtr + ntr * dx, nte, dx);
    pk_mat Z1 = pk_mat_view(Ztr, ntr, 2), Z2 = pk_mat_view(Ztr + ntr * 2, nte, 2);
    pk_mat F1 = pk_mat_view(Full, ntr, d), F2 = pk_mat_view(Full + ntr * d, nte, d);
    double acc_lr = NAN, acc_sdl = NAN;
    pk_logreg *lr = NULL;
    if (pk_logreg_fit(&F1, yy, 1.0, 100, &lr, NULL) == PK_OK) {
        pk_logreg_predict_proba(lr, &F2, p);
        acc_lr = accuracy(p, yy + ntr, nte, 0.5);
    }
    pk_logreg_free(lr);
    pk_sdl_params sp = pk_sdl_params_default(3, 1.0);
    sp.max_iter = 300;
    sp.nu = 1.0;
    pk_sdl *m = NULL;
    if (pk_sdl_fit(&X1, &Z1, yy, &sp, r, &m, NULL) == PK_OK) {
        pk_sdl_predict_proba(m, &X2, &Z2, p);
        acc_sdl = accuracy(p, yy + ntr, nte, 0.5);
    }
    pk_sdl_free(m);
    pk_repro_row(ctx, "breast cancer: SDL (LPGD, r = 3) test accuracy", acc_sdl, NAN, acc_lr,
                 "L2 logistic regression on all 30 columns (ours)",
                 "569 rows, 400 train / 169 test, 28 features + 2 covariates, z-scored", PK_VERDICT_INFO);
    free(Xtr);
    free(Ztr);
    free(Full);
    free(yy);
done:
    free(A);
    free(p);
    free(y);
    free(perm);
    return st;
}

static int run(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    pk_rng r;
    pk_rng_seed(&r, pk_repro_seed(ctx));
    int st = mnist_part(ctx, &r, quick);
    if (!st)
        st = cancer_part(ctx, &r);
    return st;
}

const pk_repro pk_repro_sdl = {"sdl", PK_REPRO_PARTIAL,
                               "SDL by LPGD / BCD: semi-synthetic MNIST accuracy vs logistic regression, convergence",
                               run};
