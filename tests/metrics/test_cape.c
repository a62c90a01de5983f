/* CaPE: empirical-probability targets, the calibration loss and its gradient
 * (central differences, and agreement with the nn engine's soft-label
 * cross-entropy it trains with), and a tiny run that calibrates an
 * under-trained estimator on a toy problem with known probabilities. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_test.h"
#include "probkit/metrics.h"
#include "probkit/nn.h"

static double sigm(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

static void check_targets(void)
{
    /* bins of sorted p: ranks {0,1}, {2,3}, {4,5} (n = 6, 3 bins) */
    double p[6] = {0.9, 0.1, 0.5, 0.2, 0.6, 0.95}, y[6] = {1, 0, 1, 1, 0, 1}, t[6];
    PK_CHECK_OK(pk_cape_targets(PK_CAPE_BIN, p, y, 6, 3, 0, 0, t, NULL));
    /* sorted: 0.1(y0) 0.2(y1) | 0.5(y1) 0.6(y0) | 0.9(y1) 0.95(y1) */
    PK_CHECK_CLOSE(t[1], 0.5, 1e-15, 0);
    PK_CHECK_CLOSE(t[3], 0.5, 1e-15, 0);
    PK_CHECK_CLOSE(t[2], 0.5, 1e-15, 0);
    PK_CHECK_CLOSE(t[4], 0.5, 1e-15, 0);
    PK_CHECK_CLOSE(t[0], 1.0, 1e-15, 0);
    PK_CHECK_CLOSE(t[5], 1.0, 1e-15, 0);
    /* uneven split: n = 5, 2 bins -> ranks {0,1}, {2,3,4} */
    double p5[5] = {0.3, 0.1, 0.7, 0.2, 0.8}, y5[5] = {1, 1, 0, 0, 0};
    PK_CHECK_OK(pk_cape_targets(PK_CAPE_BIN, p5, y5, 5, 2, 0, 0, t, NULL));
    PK_CHECK_CLOSE(t[1], 0.5, 1e-15, 0);
    PK_CHECK_CLOSE(t[3], 0.5, 1e-15, 0);
    PK_CHECK_CLOSE(t[0], 1.0 / 3.0, 1e-15, 0);
    /* one bin = base rate; kernel: huge width = base rate, tiny width = own label */
    PK_CHECK_OK(pk_cape_targets(PK_CAPE_BIN, p, y, 6, 1, 0, 0, t, NULL));
    for (int i = 0; i < 6; i++)
        PK_CHECK_CLOSE(t[i], 4.0 / 6.0, 1e-15, 0);
    PK_CHECK_OK(pk_cape_targets(PK_CAPE_KERNEL, p, y, 6, 0, 1e6, 0, t, NULL));
    for (int i = 0; i < 6; i++)
        PK_CHECK_CLOSE(t[i], 4.0 / 6.0, 1e-9, 0);
    PK_CHECK_OK(pk_cape_targets(PK_CAPE_KERNEL, p, y, 6, 0, 1e-4, 0, t, NULL));
    for (int i = 0; i < 6; i++)
        PK_CHECK_CLOSE(t[i], y[i], 1e-12, 0);
    /* kernel by hand at 0.5 with sigma 0.1 over the window of 1 neighbour each side:
     * neighbours in sorted order are 0.2 (y 1) and 0.6 (y 0); [k-1, k+1) = {0.2, 0.5} */
    PK_CHECK_OK(pk_cape_targets(PK_CAPE_KERNEL, p, y, 6, 0, 0.1, 1, t, NULL));
    double w = exp(-0.5 * 9.0);
    PK_CHECK_CLOSE(t[2], (w * 1 + 1 * 1) / (w + 1), 1e-12, 0);
    /* full window at 0.5: all six points */
    PK_CHECK_OK(pk_cape_targets(PK_CAPE_KERNEL, p, y, 6, 0, 0.1, 0, t, NULL));
    double sw = 0, swy = 0;
    for (int j = 0; j < 6; j++) {
        double d = (p[j] - 0.5) / 0.1, k = exp(-0.5 * d * d);
        sw += k;
        swy += k * y[j];
    }
    PK_CHECK_CLOSE(t[2], swy / sw, 1e-12, 0);
    /* bad input */
    pk_err e = {0};
    double bad[2] = {0.5, 1.5}, yy[2] = {0, 1};
    PK_CHECK(pk_cape_targets(PK_CAPE_BIN, bad, yy, 2, 1, 0, 0, t, &e) == PK_EDOM);
    PK_CHECK(strstr(e.msg, "p[1]") != NULL);
    yy[1] = 0.5;
    PK_CHECK(pk_cape_targets(PK_CAPE_BIN, p, yy, 2, 1, 0, 0, t, &e) == PK_EDOM);
    PK_CHECK(pk_cape_targets(PK_CAPE_BIN, p, y, 6, 7, 0, 0, t, &e) == PK_EINVAL);
    PK_CHECK(pk_cape_targets(PK_CAPE_KERNEL, p, y, 6, 0, 0, 0, t, &e) == PK_EINVAL);
}

static void check_loss(void)
{
    double z[5] = {-3.0, -0.4, 0.0, 1.2, 25.0}, t[5] = {0.1, 0.5, 0.3, 1.0, 0.9}, g[5], zp[5];
    double L = pk_cape_loss(z, t, 5, g);
    double ref = 0;
    for (int i = 0; i < 5; i++)
        ref += t[i] * log1p(exp(-z[i])) + (1 - t[i]) * (z[i] + log1p(exp(-z[i])));
    PK_CHECK_CLOSE(L, ref / 5, 1e-12, 1e-12);
    for (int i = 0; i < 5; i++) {
        double h = 1e-5;
        memcpy(zp, z, sizeof zp);
        zp[i] = z[i] + h;
        double lp = pk_cape_loss(zp, t, 5, NULL);
        zp[i] = z[i] - h;
        double lm = pk_cape_loss(zp, t, 5, NULL);
        PK_CHECK_CLOSE(g[i], (lp - lm) / (2 * h), 1e-9, 1e-6);
    }
    /* stable far out: z = 800 with t = 0 costs 800 / n, no overflow */
    double zb = 800, tb = 0;
    PK_CHECK_CLOSE(pk_cape_loss(&zb, &tb, 1, NULL), 800.0, 1e-9, 0);
    /* the loss is minimal (gradient 0) at z = logit(t) */
    double t3 = 0.3, z3 = log(0.3 / 0.7), g3;
    pk_cape_loss(&z3, &t3, 1, &g3);
    PK_CHECK_CLOSE(g3, 0.0, 1e-15, 0);

    /* the nn engine's soft cross-entropy over two logits is the same loss of z = l1 - l0 */
    pk_nn_ctx *C = pk_nn_ctx_new();
    PK_CHECK(C != NULL);
    if (!C)
        return;
    float l[10] = {0.5f, -2.5f, 0.1f, -0.3f, 1.0f, 1.0f, -0.7f, 0.5f, 3.0f, 28.0f};
    pk_nn_tensor *lo = pk_nn_input_grad(C, 2, (int64_t[]){5, 2});
    pk_nn_tensor *tg = pk_nn_input(C, 2, (int64_t[]){5, 2});
    double zz[5], gz[5];
    for (int i = 0; i < 5; i++) {
        lo->data[2 * i] = l[2 * i];
        lo->data[2 * i + 1] = l[2 * i + 1];
        tg->data[2 * i] = (float)(1 - t[i]);
        tg->data[2 * i + 1] = (float)t[i];
        zz[i] = (double)l[2 * i + 1] - (double)l[2 * i];
    }
    pk_nn_tensor *loss = pk_nn_cross_entropy_soft(C, lo, tg);
    PK_CHECK(loss != NULL);
    if (loss) {
        PK_CHECK_OK(pk_nn_backward(C, loss));
        double Lz = pk_cape_loss(zz, t, 5, gz);
        PK_CHECK_CLOSE(loss->data[0], Lz, 1e-5, 1e-5);
        for (int i = 0; i < 5; i++) {
            PK_CHECK_CLOSE(lo->grad[2 * i + 1], gz[i], 1e-6, 1e-4);
            PK_CHECK_CLOSE(lo->grad[2 * i], -gz[i], 1e-6, 1e-4);
        }
    }
    pk_nn_ctx_free(C);
}

/* toy: x ~ N(0, I_2), p_true = sigmoid(1.5 x_1 - 0.5 x_2) */
static void toy(pk_rng *r, size_t n, float *x, double *y, double *pt)
{
    for (size_t i = 0; i < n; i++) {
        double a = pk_rng_normal(r), b = pk_rng_normal(r);
        x[2 * i] = (float)a;
        x[2 * i + 1] = (float)b;
        pt[i] = sigm(1.5 * a - 0.5 * b);
        y[i] = pk_rng_uniform(r) < pt[i];
    }
}

static void check_training(void)
{
    enum { NTR = 200, NVA = 200, NTE = 2000 };
    static float xtr[2 * NTR], xva[2 * NVA], xte[2 * NTE];
    static double ytr[NTR], yva[NVA], yte[NTE], ptr[NTR], pva[NVA], pte[NTE], p[NTE];
    pk_rng r;
    pk_rng_seed(&r, 7);
    toy(&r, NTR, xtr, ytr, ptr);
    toy(&r, NVA, xva, yva, pva);
    toy(&r, NTE, xte, yte, pte);
    pk_nn_classifier_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.arch = PK_NN_ARCH_MLP;
    cfg.channels = 1, cfg.height = 1, cfg.width = 2, cfg.classes = 2;
    cfg.n_hidden = 2, cfg.hidden[0] = 64, cfg.hidden[1] = 64;
    /* an under-trained start (two slow epochs: outputs huddle near the base rate,
     * badly calibrated), then CaPE epochs or none; keep the last models */
    pk_cape_params par = pk_cape_params_default();
    par.ce_epochs = 2;
    par.ce_patience = 0;
    par.restore_best = 0;
    par.batch = 32;
    par.lr = 1e-4;
    par.lr_cape = 1e-2;
    double res[2][3];
    for (int k = 0; k < 2; k++) {
        pk_rng rm;
        pk_rng_seed(&rm, 11);
        pk_nn_classifier *m = NULL;
        PK_CHECK_OK(pk_nn_classifier_new(&cfg, &rm, &m, NULL));
        if (!m)
            return;
        par.cape_epochs = k ? 30 : 0;
        pk_cape_report rep = {0}; /* val_nll and train_loss: no per-epoch arrays wanted */
        pk_err e = {0};
        int st = pk_cape_fit(m, xtr, ytr, NTR, xva, yva, NVA, &par, &rm, &rep, &e);
        PK_CHECK_OK(st);
        if (st)
            fprintf(stderr, "%s\n", e.msg);
        PK_CHECK_OK(pk_cape_predict(m, xte, NTE, p, NULL));
        pk_calib_metrics cm;
        PK_CHECK_OK(pk_calib_compute(p, yte, pte, NTE, 15, &cm, NULL));
        res[k][0] = cm.mse_true, res[k][1] = cm.ece, res[k][2] = rep.val_nll_final;
        PK_CHECK(rep.ce_epochs_run == 2);
        PK_CHECK(rep.cape_epochs_run == par.cape_epochs);
        fprintf(stderr, "  %s: test MSE to p_true %.4f, ECE %.4f, val NLL %.4f\n",
                k ? "+ 30 CaPE epochs (bin)" : "2 slow CE epochs",
                cm.mse_true, cm.ece, rep.val_nll_final);
        pk_nn_classifier_free(m);
    }
    /* calibration epochs move the outputs to the empirical frequencies of their own bins */
    PK_CHECK(res[1][0] < res[0][0]);
    PK_CHECK(res[1][1] < res[0][1]);
    PK_CHECK(res[1][2] < res[0][2]);

    /* bad input */
    pk_rng rm;
    pk_rng_seed(&rm, 1);
    pk_nn_classifier *m3 = NULL;
    cfg.classes = 3;
    PK_CHECK_OK(pk_nn_classifier_new(&cfg, &rm, &m3, NULL));
    pk_err e = {0};
    PK_CHECK(pk_cape_fit(m3, xtr, ytr, NTR, xva, yva, NVA, &par, &rm, NULL, &e) == PK_EINVAL);
    PK_CHECK(strstr(e.msg, "3 classes") != NULL);
    PK_CHECK(pk_cape_predict(m3, xte, 1, p, &e) == PK_EINVAL);
    pk_nn_classifier_free(m3);
    par.batch = 0;
    PK_CHECK(pk_cape_params_check(&par, &e) == PK_EINVAL);
    PK_CHECK(strstr(e.msg, "batch") != NULL);
}

int main(void)
{
    check_targets();
    check_loss();
    check_training();
    return pk_test_done();
}
