/* CaPE training driver: phase 1 early-learning cross-entropy, phase 2
 * calibration epochs (soft targets from the model's own binned / kernel
 * empirical probabilities) alternating with cross-entropy epochs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/metrics.h"
#include "probkit/nn.h"

typedef struct {
    pk_nn_classifier *m;
    const float *x;
    size_t n, d, bs;
    float *xb;      /* (bs, d) */
    int32_t *lab;   /* (bs) */
    size_t *perm;   /* (n) */
    pk_nn_ctx *ctx;
} cape_trainer;

/* One epoch over shuffled minibatches: hard labels (t == NULL) or soft targets t. */
static int train_epoch(cape_trainer *T, pk_nn_optim *opt, double lr, const double *y, const double *t, pk_rng *rng,
                       double *mean_loss, pk_err *err)
{
    const pk_nn_classifier_config *c = &T->m->cfg;
    pk_rng_permutation(rng, T->perm, T->n);
    double sum = 0;
    for (size_t b0 = 0; b0 < T->n; b0 += T->bs) {
        size_t nb = T->n - b0 < T->bs ? T->n - b0 : T->bs;
        for (size_t i = 0; i < nb; i++) {
            size_t r = T->perm[b0 + i];
            memcpy(T->xb + i * T->d, T->x + r * T->d, T->d * sizeof *T->xb);
            T->lab[i] = (int32_t)y[r];
        }
        pk_nn_ctx_reset(T->ctx);
        pk_nn_tensor *x =
            pk_nn_input_copy(T->ctx, 4, (int64_t[]){(int64_t)nb, c->channels, c->height, c->width}, T->xb);
        pk_nn_tensor *lo = pk_nn_classifier_forward(T->ctx, T->m, x), *loss;
        if (t) {
            pk_nn_tensor *tg = pk_nn_input(T->ctx, 2, (int64_t[]){(int64_t)nb, 2});
            if (tg)
                for (size_t i = 0; i < nb; i++) {
                    double ti = t[T->perm[b0 + i]];
                    tg->data[2 * i] = (float)(1.0 - ti);
                    tg->data[2 * i + 1] = (float)ti;
                }
            loss = pk_nn_cross_entropy_soft(T->ctx, lo, tg);
        } else {
            loss = pk_nn_cross_entropy(T->ctx, lo, T->lab, 0.0f);
        }
        pk_nn_params_zero_grad(T->m->params);
        int st = pk_nn_ctx_status(T->ctx) ? pk_nn_ctx_status(T->ctx) : PK_ENOMEM;
        if (loss)
            st = pk_nn_backward(T->ctx, loss);
        if (st != PK_OK)
            return pk_err_set(err, st, "cape: training step failed: %s", pk_nn_ctx_error(T->ctx));
        sum += (double)loss->data[0] * (double)nb;
        st = pk_nn_optim_step(opt, lr);
        if (st != PK_OK)
            return pk_err_set(err, st, "cape: optimiser step failed");
    }
    *mean_loss = sum / (double)T->n;
    return PK_OK;
}

static double mean_nll(const double *p, const double *y, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double q = p[i] < 1e-15 ? 1e-15 : (p[i] > 1 - 1e-15 ? 1 - 1e-15 : p[i]);
        s -= y[i] ? log(q) : log1p(-q);
    }
    return s / (double)n;
}

int pk_cape_fit(struct pk_nn_classifier *model, const float *x_tr, const double *y_tr, size_t n_tr,
                const float *x_va, const double *y_va, size_t n_va, const pk_cape_params *par, pk_rng *rng,
                pk_cape_report *report, pk_err *err)
{
    int st = pk_cape_params_check(par, err);
    if (st)
        return st;
    if (!model || !x_tr || !y_tr || !x_va || !y_va || !rng || n_tr == 0 || n_va == 0)
        return pk_err_set(err, PK_EINVAL, "cape fit: need a model, training and validation rows (n >= 1) and an rng");
    if (model->cfg.classes != 2)
        return pk_err_set(err, PK_EINVAL, "cape fit: the classifier has %d classes, need 2", model->cfg.classes);
    if (par->kind == PK_CAPE_BIN && par->nbins > n_tr)
        return pk_err_set(err, PK_EINVAL, "cape fit: nbins = %zu exceeds the %zu training rows", par->nbins, n_tr);
    for (size_t i = 0; i < n_tr; i++)
        if (y_tr[i] != 0 && y_tr[i] != 1)
            return pk_err_set(err, PK_EDOM, "cape fit: y_tr[%zu] = %g is not 0 or 1", i, y_tr[i]);
    for (size_t i = 0; i < n_va; i++)
        if (y_va[i] != 0 && y_va[i] != 1)
            return pk_err_set(err, PK_EDOM, "cape fit: y_va[%zu] = %g is not 0 or 1", i, y_va[i]);

    cape_trainer T;
    memset(&T, 0, sizeof T);
    T.m = model;
    T.x = x_tr;
    T.n = n_tr;
    T.d = (size_t)model->cfg.channels * (size_t)model->cfg.height * (size_t)model->cfg.width;
    T.bs = (size_t)par->batch < n_tr ? (size_t)par->batch : n_tr;
    T.xb = malloc(T.bs * T.d * sizeof *T.xb);
    T.lab = malloc(T.bs * sizeof *T.lab);
    T.perm = malloc(n_tr * sizeof *T.perm);
    T.ctx = pk_nn_ctx_new();
    double *ptr = malloc(n_tr * sizeof *ptr), *tgt = malloc(n_tr * sizeof *tgt), *pva = malloc(n_va * sizeof *pva);
    pk_nn_classifier *best = NULL;
    pk_nn_optim *opt = NULL;
    if (!T.xb || !T.lab || !T.perm || !T.ctx || !ptr || !tgt || !pva) {
        st = pk_err_set(err, PK_ENOMEM, "cape fit: out of memory");
        goto done;
    }
    pk_nn_ctx_set_rng(T.ctx, rng);
    {
        /* the snapshot's own initial values are overwritten; a private stream keeps rng untouched */
        pk_rng snap_rng;
        pk_rng_seed(&snap_rng, 1);
        st = pk_nn_classifier_new(&model->cfg, &snap_rng, &best, err);
        if (st)
            goto done;
    }
    pk_nn_optim_params op = pk_nn_optim_params_default(PK_NN_ADAM);
    op.weight_decay = par->weight_decay;

    pk_cape_report rep;
    memset(&rep, 0, sizeof rep);
    rep.cape_best_epoch = -1;
    if (report) {
        rep.val_nll = report->val_nll;
        rep.train_loss = report->train_loss;
    }

    /* phase 1: early learning with cross-entropy on the observed outcomes */
    opt = pk_nn_optim_new(model->params, &op, err);
    if (!opt) {
        st = err && err->status ? err->status : PK_ENOMEM;
        goto done;
    }
    double best_nll = INFINITY;
    int since = 0;
    for (int e = 0; e < par->ce_epochs; e++) {
        double tl;
        if ((st = train_epoch(&T, opt, par->lr, y_tr, NULL, rng, &tl, err)) != PK_OK)
            goto done;
        if ((st = pk_cape_predict(model, x_va, n_va, pva, err)) != PK_OK)
            goto done;
        double v = mean_nll(pva, y_va, n_va);
        if (rep.val_nll)
            rep.val_nll[rep.ce_epochs_run] = v;
        if (rep.train_loss)
            rep.train_loss[rep.ce_epochs_run] = tl;
        rep.ce_epochs_run++;
        if (v < best_nll) {
            best_nll = v;
            rep.ce_best_epoch = e;
            since = 0;
            if ((st = pk_nn_params_copy(best->params, model->params, err)) != PK_OK)
                goto done;
        } else if (par->ce_patience > 0 && ++since >= par->ce_patience) {
            break;
        }
    }
    if (par->restore_best && par->ce_epochs > 0) {
        if ((st = pk_nn_params_copy(model->params, best->params, err)) != PK_OK)
            goto done;
        rep.val_nll_ce = best_nll;
    } else { /* the last model (or, with ce_epochs == 0, the model as given) */
        if ((st = pk_cape_predict(model, x_va, n_va, pva, err)) != PK_OK)
            goto done;
        rep.val_nll_ce = best_nll = mean_nll(pva, y_va, n_va);
        if ((st = pk_nn_params_copy(best->params, model->params, err)) != PK_OK)
            goto done;
    }

    /* phase 2: calibration epochs against the model's own empirical probabilities */
    pk_nn_optim_free(opt);
    opt = NULL;
    if (par->cape_epochs > 0) {
        opt = pk_nn_optim_new(model->params, &op, err);
        if (!opt) {
            st = err && err->status ? err->status : PK_ENOMEM;
            goto done;
        }
    }
    for (int e = 0; e < par->cape_epochs; e++) {
        int cal = e % (par->ce_per_cal + 1) == 0;
        double tl;
        if (cal) {
            if ((st = pk_cape_predict(model, x_tr, n_tr, ptr, err)) != PK_OK)
                goto done;
            if ((st = pk_cape_targets(par->kind, ptr, y_tr, n_tr, par->nbins, par->sigma, par->window, tgt, err)) !=
                PK_OK)
                goto done;
        }
        if ((st = train_epoch(&T, opt, par->lr_cape, y_tr, cal ? tgt : NULL, rng, &tl, err)) != PK_OK)
            goto done;
        if ((st = pk_cape_predict(model, x_va, n_va, pva, err)) != PK_OK)
            goto done;
        double v = mean_nll(pva, y_va, n_va);
        if (rep.val_nll)
            rep.val_nll[rep.ce_epochs_run + rep.cape_epochs_run] = v;
        if (rep.train_loss)
            rep.train_loss[rep.ce_epochs_run + rep.cape_epochs_run] = tl;
        rep.cape_epochs_run++;
        if (v < best_nll) {
            best_nll = v;
            rep.cape_best_epoch = e;
            if ((st = pk_nn_params_copy(best->params, model->params, err)) != PK_OK)
                goto done;
        }
    }
    if (par->cape_epochs > 0) {
        if (par->restore_best) {
            if ((st = pk_nn_params_copy(model->params, best->params, err)) != PK_OK)
                goto done;
            rep.val_nll_final = best_nll;
        } else {
            if ((st = pk_cape_predict(model, x_va, n_va, pva, err)) != PK_OK)
                goto done;
            rep.val_nll_final = mean_nll(pva, y_va, n_va);
        }
    } else {
        rep.val_nll_final = rep.val_nll_ce;
    }
    if (report)
        *report = rep;
done:
    pk_nn_optim_free(opt);
    pk_nn_classifier_free(best);
    pk_nn_ctx_free(T.ctx);
    free(T.xb);
    free(T.lab);
    free(T.perm);
    free(ptr);
    free(tgt);
    free(pva);
    return st;
}
