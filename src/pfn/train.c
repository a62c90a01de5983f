/* train.c — prior-fitting: the network sees fresh data sets from the prior
 * at every step and learns to predict held-out y with the bar distribution. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pfn_priv.h"

pk_pfn_train_params pk_pfn_train_params_default(void)
{
    pk_pfn_train_params p = {2000, 32, 50, 0, 1e-3, -1};
    return p;
}

/* Everything one step needs, allocated once. */
typedef struct batch {
    double *X, *y;   /* one data set, double, for the prior sampler */
    float *xf, *yf;  /* (B, T, dim) inputs, (B, n) training targets */
    int32_t *label;  /* (B, q) bucket of each query target */
    double constant; /* sum over queries of -log(bucket density / bucket probability) */
} batch;

static int fill(batch *bt, const pk_pfn *m, const pk_pfn_prior *prior, int B, int T, int n, pk_rng *rng, pk_err *err)
{
    int d = m->cfg.dim, nb = m->cfg.n_buckets, q = T - n;
    bt->constant = 0;
    for (int b = 0; b < B; b++) {
        int st = pk_pfn_prior_sample(prior, (size_t)T, rng, bt->X, bt->y, NULL, err);
        if (st)
            return st;
        for (int i = 0; i < T * d; i++)
            bt->xf[(size_t)b * T * d + i] = (float)bt->X[i];
        for (int i = 0; i < n; i++)
            bt->yf[(size_t)b * n + i] = (float)bt->y[i];
        for (int i = 0; i < q; i++) {
            double yv = bt->y[n + i];
            int k = pk_pfn_bar_bucket(m->borders, nb, yv);
            bt->label[(size_t)b * q + i] = k;
            bt->constant -= pfn_within_logpdf(m->borders, nb, k, yv);
        }
    }
    return PK_OK;
}

int pk_pfn_train(pk_pfn *m, const pk_pfn_prior *prior, const pk_pfn_train_params *tp, pk_rng *rng,
                 pk_pfn_progress_fn progress, void *user, double *final_loss, pk_err *err)
{
    if (!m || !prior || !tp || !rng)
        return pk_err_set(err, PK_EINVAL, "pfn train: NULL argument");
    int st = pk_pfn_prior_check(prior, err);
    if (st)
        return st;
    if (prior->dim != m->cfg.dim)
        return pk_err_set(err, PK_EINVAL, "pfn train: prior has %d inputs, the network %d", prior->dim, m->cfg.dim);
    if (tp->steps < 1 || tp->batch < 1 || tp->batch > 4096 || tp->n_points < 2 || tp->n_points > 4096 ||
        tp->min_train < 0 || tp->min_train >= tp->n_points || !(tp->lr > 0 && tp->lr < 1))
        return pk_err_set(err, PK_EINVAL,
                          "pfn train: need steps >= 1, batch 1..4096, n_points 2..4096, 0 <= min_train < n_points, "
                          "0 < lr < 1");
    int B = tp->batch, T = tp->n_points, d = m->cfg.dim;
    int warmup = tp->warmup >= 0 ? tp->warmup : tp->steps / 10;
    batch bt;
    memset(&bt, 0, sizeof bt);
    bt.X = malloc((size_t)T * d * sizeof *bt.X);
    bt.y = malloc((size_t)T * sizeof *bt.y);
    bt.xf = malloc((size_t)B * T * d * sizeof *bt.xf);
    bt.yf = malloc((size_t)B * T * sizeof *bt.yf);
    bt.label = malloc((size_t)B * T * sizeof *bt.label);
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    pk_nn_optim_params op = pk_nn_optim_params_default(PK_NN_ADAM);
    pk_nn_optim *opt = NULL;
    if (!bt.X || !bt.y || !bt.xf || !bt.yf || !bt.label || !ctx) {
        st = pk_err_set(err, PK_ENOMEM, "pfn train: out of memory");
        goto done;
    }
    if (!(opt = pk_nn_optim_new(m->params, &op, err))) {
        st = err && err->status ? err->status : PK_ENOMEM;
        goto done;
    }
    pk_nn_loss_log lg;
    pk_nn_loss_log_init(&lg, tp->steps);
    for (int step = 0; step < tp->steps; step++) {
        /* PFN's "single evaluation position": one split of the T points per step */
        int n = tp->min_train + (int)(pk_rng_uniform(rng) * (double)(T - tp->min_train));
        if (n >= T)
            n = T - 1;
        int q = T - n;
        if ((st = fill(&bt, m, prior, B, T, n, rng, err)))
            goto done;
        pk_nn_ctx_reset(ctx);
        pk_nn_tensor *logits = pfn_forward(ctx, m, bt.xf, bt.yf, B, n, q);
        pk_nn_tensor *loss = pk_nn_cross_entropy(ctx, logits, bt.label, 0.0f);
        pk_nn_params_zero_grad(m->params);
        if (!loss || (st = pk_nn_backward(ctx, loss))) {
            st = pk_err_set(err, pk_nn_ctx_status(ctx) ? pk_nn_ctx_status(ctx) : (st ? st : PK_ENOMEM),
                            "pfn train: step %d: %s", step, pk_nn_ctx_error(ctx));
            goto done;
        }
        pk_nn_optim_step(opt, pk_nn_lr_cosine(step, warmup, tp->steps, tp->lr, tp->lr * 0.01));
        double l = (double)loss->data[0] + bt.constant / ((double)B * q);
        double mean;
        if (pk_nn_loss_log_add(&lg, step, l, &mean) && progress && progress(step + 1, tp->steps, mean, user))
            break;
    }
    if (final_loss)
        *final_loss = pk_nn_loss_log_tail(&lg);
    m->has_prior = 1;
    m->prior = *prior;
done:
    pk_nn_optim_free(opt);
    pk_nn_ctx_free(ctx);
    free(bt.X);
    free(bt.y);
    free(bt.xf);
    free(bt.yf);
    free(bt.label);
    return st;
}
