/* CaPE ("Deep Probability Estimation", Liu et al.): empirical-probability
 * targets, the calibration loss, and the two-phase training driver on the nn
 * engine.  Our reading of the authors' procedure (calibration_tools/cape.py of
 * their code): targets are recomputed from the current model's predictions on
 * the training set before every calibration epoch; other epochs of phase 2
 * use the observed labels; the best validation cross-entropy model is kept. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/metrics.h"
#include "probkit/nn.h"

pk_cape_params pk_cape_params_default(void)
{
    pk_cape_params p;
    memset(&p, 0, sizeof p);
    p.kind = PK_CAPE_BIN;
    p.nbins = 10;
    p.sigma = 0.1;
    p.window = 500;
    p.ce_epochs = 30;
    p.ce_patience = 5;
    p.cape_epochs = 20;
    p.ce_per_cal = 0;
    p.restore_best = 1;
    p.batch = 128;
    p.lr = 1e-3;
    p.lr_cape = 1e-3;
    p.weight_decay = 0;
    return p;
}

int pk_cape_params_check(const pk_cape_params *par, pk_err *err)
{
    if (!par)
        return pk_err_set(err, PK_EINVAL, "cape: params is NULL");
    if (par->kind != PK_CAPE_BIN && par->kind != PK_CAPE_KERNEL)
        return pk_err_set(err, PK_EINVAL, "cape: kind %d is neither BIN nor KERNEL", (int)par->kind);
    if (par->kind == PK_CAPE_BIN && par->nbins < 1)
        return pk_err_set(err, PK_EINVAL, "cape: nbins must be >= 1");
    if (par->kind == PK_CAPE_KERNEL && !(par->sigma > 0 && isfinite(par->sigma)))
        return pk_err_set(err, PK_EINVAL, "cape: sigma = %g must be > 0", par->sigma);
    if (par->ce_epochs < 0)
        return pk_err_set(err, PK_EINVAL, "cape: ce_epochs = %d must be >= 0", par->ce_epochs);
    if (par->ce_patience < 0 || par->cape_epochs < 0 || par->ce_per_cal < 0)
        return pk_err_set(err, PK_EINVAL, "cape: ce_patience, cape_epochs and ce_per_cal must be >= 0");
    if (par->batch < 1)
        return pk_err_set(err, PK_EINVAL, "cape: batch = %d must be >= 1", par->batch);
    if (!(par->lr > 0 && isfinite(par->lr)) || !(par->lr_cape > 0 && isfinite(par->lr_cape)))
        return pk_err_set(err, PK_EINVAL, "cape: learning rates must be finite and > 0");
    if (!(par->weight_decay >= 0 && isfinite(par->weight_decay)))
        return pk_err_set(err, PK_EINVAL, "cape: weight_decay must be >= 0");
    return PK_OK;
}

/* ---- targets ------------------------------------------------------------- */

typedef struct {
    double p;
    size_t i;
} cape_pi;

static int cmp_pi(const void *a, const void *b)
{
    const cape_pi *x = a, *y = b;
    if (x->p < y->p)
        return -1;
    if (x->p > y->p)
        return 1;
    return (x->i > y->i) - (x->i < y->i); /* stable: ties keep input order */
}

int pk_cape_targets(pk_cape_kind kind, const double *p, const double *y, size_t n, size_t nbins, double sigma,
                    size_t window, double *target, pk_err *err)
{
    if (!p || !y || !target || n == 0)
        return pk_err_set(err, PK_EINVAL, "cape targets: need n >= 1 predictions, labels and an output array");
    if (kind == PK_CAPE_BIN && (nbins < 1 || nbins > n))
        return pk_err_set(err, PK_EINVAL, "cape targets: nbins = %zu must be in 1..n = %zu", nbins, n);
    if (kind == PK_CAPE_KERNEL && !(sigma > 0 && isfinite(sigma)))
        return pk_err_set(err, PK_EINVAL, "cape targets: sigma = %g must be > 0", sigma);
    if (kind != PK_CAPE_BIN && kind != PK_CAPE_KERNEL)
        return pk_err_set(err, PK_EINVAL, "cape targets: unknown kind %d", (int)kind);
    for (size_t i = 0; i < n; i++) {
        if (!(p[i] >= 0 && p[i] <= 1))
            return pk_err_set(err, PK_EDOM, "cape targets: p[%zu] = %g is not a probability", i, p[i]);
        if (y[i] != 0 && y[i] != 1)
            return pk_err_set(err, PK_EDOM, "cape targets: y[%zu] = %g is not 0 or 1", i, y[i]);
    }
    cape_pi *s = malloc(n * sizeof *s);
    if (!s)
        return pk_err_set(err, PK_ENOMEM, "cape targets: out of memory (n = %zu)", n);
    for (size_t i = 0; i < n; i++)
        s[i].p = p[i], s[i].i = i;
    qsort(s, n, sizeof *s, cmp_pi);
    if (kind == PK_CAPE_BIN) {
        for (size_t b = 0; b < nbins; b++) {
            size_t lo = b * n / nbins, hi = (b + 1) * n / nbins;
            double sum = 0;
            for (size_t k = lo; k < hi; k++)
                sum += y[s[k].i];
            for (size_t k = lo; k < hi; k++)
                target[s[k].i] = sum / (double)(hi - lo);
        }
    } else {
        double inv = 1.0 / (sigma * sigma);
        for (size_t k = 0; k < n; k++) {
            size_t lo = 0, hi = n;
            if (window > 0) {
                lo = k > window ? k - window : 0;
                hi = k + window < n ? k + window : n;
            }
            /* weights relative to the point itself (K = 1 there), so the sum is >= 1 */
            double sw = 0, swy = 0;
            for (size_t j = lo; j < hi; j++) {
                double d = s[j].p - s[k].p, w = exp(-0.5 * d * d * inv);
                sw += w;
                swy += w * y[s[j].i];
            }
            target[s[k].i] = swy / sw;
        }
    }
    free(s);
    return PK_OK;
}

double pk_cape_loss(const double *z, const double *t, size_t n, double *grad)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        /* -[t log s(z) + (1-t) log(1-s(z))] = softplus(z) - t z, stable for any z */
        double sp = z[i] > 0 ? z[i] + log1p(exp(-z[i])) : log1p(exp(z[i]));
        sum += sp - t[i] * z[i];
        if (grad) {
            double s = z[i] >= 0 ? 1.0 / (1.0 + exp(-z[i])) : exp(z[i]) / (1.0 + exp(z[i]));
            grad[i] = (s - t[i]) / (double)n;
        }
    }
    return n ? sum / (double)n : NAN;
}

/* ---- prediction ---------------------------------------------------------- */

int pk_cape_predict(const struct pk_nn_classifier *model, const float *x, size_t n, double *p, pk_err *err)
{
    if (!model || !x || !p || n == 0)
        return pk_err_set(err, PK_EINVAL, "cape predict: need a model, n >= 1 rows and an output array");
    if (model->cfg.classes != 2)
        return pk_err_set(err, PK_EINVAL, "cape predict: the classifier has %d classes, need 2", model->cfg.classes);
    const pk_nn_classifier_config *c = &model->cfg;
    size_t d = (size_t)c->channels * (size_t)c->height * (size_t)c->width, bs = 512;
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    if (!ctx)
        return pk_err_set(err, PK_ENOMEM, "cape predict: out of memory");
    pk_nn_ctx_set_grad(ctx, 0);
    pk_nn_ctx_set_train(ctx, 0);
    int st = PK_OK;
    for (size_t b0 = 0; b0 < n && st == PK_OK; b0 += bs) {
        size_t nb = n - b0 < bs ? n - b0 : bs;
        pk_nn_ctx_reset(ctx);
        pk_nn_tensor *xt =
            pk_nn_input_copy(ctx, 4, (int64_t[]){(int64_t)nb, c->channels, c->height, c->width}, x + b0 * d);
        pk_nn_tensor *lo = pk_nn_classifier_forward(ctx, model, xt);
        if (!lo) {
            st = pk_err_set(err, pk_nn_ctx_status(ctx) ? pk_nn_ctx_status(ctx) : PK_ENOMEM, "cape predict: %s",
                            pk_nn_ctx_error(ctx));
            break;
        }
        for (size_t i = 0; i < nb; i++) {
            double z = (double)lo->data[2 * i + 1] - (double)lo->data[2 * i];
            p[b0 + i] = z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
            if (!isfinite(z))
                st = pk_err_set(err, PK_EDOM, "cape predict: non-finite logit for row %zu", b0 + i);
        }
    }
    pk_nn_ctx_free(ctx);
    return st;
}
