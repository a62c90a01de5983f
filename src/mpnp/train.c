/* train.c — prediction, per-point log-likelihoods, training on fresh GP
 * task batches, evaluation, and model files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpnp_priv.h"

int mpnp_build_empty(const pk_mpnp_config *cfg, pk_mpnp **out, pk_err *err);

static int ctx_fail(pk_nn_ctx *ctx, pk_err *err, const char *what)
{
    int st = pk_nn_ctx_status(ctx);
    return pk_err_set(err, st ? st : PK_ENOMEM, "mpnp %s: %s", what, st ? pk_nn_ctx_error(ctx) : "out of memory");
}

int pk_mpnp_predict(const pk_mpnp *m, const float *xc, const float *yc, int nc, const float *xt, int nt, int S,
                    pk_rng *rng, float *mu, float *sigma, float *pseudo, pk_err *err)
{
    if (!m || !xc || !yc || !xt || !rng || !mu || !sigma || nc < 1 || nt < 1 || S < 1)
        return pk_err_set(err, PK_EINVAL, "mpnp predict: need a model, nc >= 1 context, nt >= 1 targets, S >= 1");
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    if (!ctx)
        return pk_err_set(err, PK_ENOMEM, "mpnp predict: out of memory");
    pk_nn_ctx_set_grad(ctx, 0);
    pk_nn_ctx_set_train(ctx, 0);
    pk_nn_tensor *tm, *ts, *tp;
    int st = mpnp_forward(ctx, m, xc, yc, nc, nc, xt, nt, nt, 1, S, rng, &tm, &ts, &tp);
    if (st || !tm || !ts) {
        st = ctx_fail(ctx, err, "predict");
        pk_nn_ctx_free(ctx);
        return st;
    }
    int got = (int)tm->shape[0]; /* 1 for deterministic models: repeat */
    for (int s = 0; s < S; s++)
        for (int j = 0; j < nt; j++) {
            mu[(size_t)s * nt + j] = tm->data[(size_t)(s % got) * nt + j];
            sigma[(size_t)s * nt + j] = ts->data[(size_t)(s % got) * nt + j];
        }
    if (pseudo && tp)
        memcpy(pseudo, tp->data, (size_t)tp->numel * sizeof *pseudo);
    pk_nn_ctx_free(ctx);
    return PK_OK;
}

int pk_mpnp_batch_loglik(const pk_mpnp *m, const pk_mpnp_batch *b, int S, pk_rng *rng, double *ll, pk_err *err)
{
    if (!m || !b || !b->x || !rng || !ll || S < 1 || b->nc < 1 || b->B < 1)
        return pk_err_set(err, PK_EINVAL, "mpnp loglik: bad argument");
    int n = b->nc + b->nt, B = b->B;
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    if (!ctx)
        return pk_err_set(err, PK_ENOMEM, "mpnp loglik: out of memory");
    pk_nn_ctx_set_grad(ctx, 0);
    pk_nn_ctx_set_train(ctx, 0);
    pk_nn_tensor *tm, *ts;
    int st = mpnp_forward(ctx, m, b->x, b->y, n, b->nc, b->x, n, n, B, S, rng, &tm, &ts, NULL);
    if (st || !tm || !ts) {
        st = ctx_fail(ctx, err, "loglik");
        pk_nn_ctx_free(ctx);
        return st;
    }
    int got = (int)(tm->shape[0] / B);
    double *lp = malloc((size_t)got * sizeof *lp);
    if (!lp) {
        pk_nn_ctx_free(ctx);
        return pk_err_set(err, PK_ENOMEM, "mpnp loglik: out of memory");
    }
    const double c0 = -0.5 * log(2.0 * M_PI);
    for (int t = 0; t < B; t++)
        for (int i = 0; i < n; i++) {
            double y = b->y[(size_t)t * n + i];
            for (int s = 0; s < got; s++) {
                size_t o = ((size_t)t * got + s) * n + i;
                double sd = ts->data[o], z = (y - tm->data[o]) / sd;
                lp[s] = c0 - log(sd) - 0.5 * z * z;
            }
            ll[(size_t)t * n + i] = pk_logsumexp(lp, (size_t)got, 1) - log((double)got);
        }
    free(lp);
    pk_nn_ctx_free(ctx);
    return PK_OK;
}

pk_mpnp_train_params pk_mpnp_train_params_default(void)
{
    pk_mpnp_train_params p = {2000, 16, 5e-4};
    return p;
}

int pk_mpnp_train(pk_mpnp *m, const pk_mpnp_task_params *tp, const pk_mpnp_train_params *trp, pk_rng *rng,
                  pk_mpnp_progress_fn progress, void *user, double *final_loss, pk_err *err)
{
    if (!m || !tp || !trp || !rng)
        return pk_err_set(err, PK_EINVAL, "mpnp train: NULL argument");
    int st = pk_mpnp_task_params_check(tp, err);
    if (st)
        return st;
    if (trp->steps < 1 || trp->batch < 1 || trp->batch > 1024 || !(trp->lr > 0 && trp->lr < 1))
        return pk_err_set(err, PK_EINVAL, "mpnp train: need steps >= 1, batch 1..1024, 0 < lr < 1");
    pk_mpnp_batch b;
    if (pk_mpnp_batch_alloc(&b, trp->batch, tp->max_points))
        return pk_err_set(err, PK_ENOMEM, "mpnp train: out of memory");
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    pk_nn_optim_params op = pk_nn_optim_params_default(PK_NN_ADAM);
    pk_nn_optim *opt = NULL;
    if (!ctx) {
        st = pk_err_set(err, PK_ENOMEM, "mpnp train: out of memory");
        goto done;
    }
    if (!(opt = pk_nn_optim_new(m->P, &op, err))) {
        st = err && err->status ? err->status : PK_ENOMEM;
        goto done;
    }
    pk_nn_loss_log lg;
    pk_nn_loss_log_init(&lg, trp->steps);
    for (int step = 0; step < trp->steps; step++) {
        if ((st = pk_mpnp_sample_batch(tp, trp->batch, 0, 0, rng, &b, err)))
            goto done;
        pk_nn_ctx_reset(ctx);
        pk_nn_tensor *loss = pk_mpnp_loss(ctx, m, &b, rng);
        pk_nn_params_zero_grad(m->P);
        if (!loss || (st = pk_nn_backward(ctx, loss))) {
            int cs = pk_nn_ctx_status(ctx);
            st = pk_err_set(err, cs ? cs : (st ? st : PK_ENOMEM), "mpnp train: step %d: %s", step,
                            cs ? pk_nn_ctx_error(ctx) : "loss not finite or out of memory");
            goto done;
        }
        /* the benchmark code: Adam with cosine annealing to 0 over the run */
        pk_nn_optim_step(opt, pk_nn_lr_cosine(step, 0, trp->steps, trp->lr, 0.0) + 1e-12);
        double l = loss->data[0];
        double mean;
        if (pk_nn_loss_log_add(&lg, step, l, &mean) && progress && progress(step + 1, trp->steps, mean, user))
            break;
    }
    if (final_loss)
        *final_loss = pk_nn_loss_log_tail(&lg);
done:
    pk_nn_optim_free(opt);
    pk_nn_ctx_free(ctx);
    pk_mpnp_batch_free(&b);
    return st;
}

int pk_mpnp_evaluate(const pk_mpnp *m, const pk_mpnp_task_params *tp, int n_batches, int batch, int S, pk_rng *rng,
                     pk_mpnp_eval *out, pk_err *err)
{
    if (!m || !tp || !rng || !out || n_batches < 1 || batch < 1 || batch > 1024 || S < 1)
        return pk_err_set(err, PK_EINVAL, "mpnp evaluate: need n_batches >= 1, batch 1..1024, S >= 1");
    int st = pk_mpnp_task_params_check(tp, err);
    if (st)
        return st;
    pk_mpnp_batch b;
    double *ll = malloc((size_t)batch * tp->max_points * sizeof *ll);
    if (!ll || pk_mpnp_batch_alloc(&b, batch, tp->max_points)) {
        free(ll);
        return pk_err_set(err, PK_ENOMEM, "mpnp evaluate: out of memory");
    }
    /* tasks and model noise from separate streams: every model sees the same tasks for a seed */
    pk_rng noise;
    pk_rng_seed(&noise, pk_rng_u64(rng));
    double sc = 0, sc2 = 0, stt = 0, st2 = 0;
    for (int k = 0; k < n_batches; k++) {
        if ((st = pk_mpnp_sample_batch(tp, batch, 0, 0, rng, &b, err)) ||
            (st = pk_mpnp_batch_loglik(m, &b, S, &noise, ll, err)))
            break;
        int n = b.nc + b.nt;
        double c = 0, t = 0;
        for (int i = 0; i < batch; i++)
            for (int j = 0; j < n; j++)
                if (j < b.nc)
                    c += ll[(size_t)i * n + j];
                else
                    t += ll[(size_t)i * n + j];
        c /= (double)batch * b.nc, t /= (double)batch * b.nt;
        sc += c, sc2 += c * c, stt += t, st2 += t * t;
    }
    free(ll);
    pk_mpnp_batch_free(&b);
    if (st)
        return st;
    double nb = n_batches;
    out->ctx_ll = sc / nb, out->tar_ll = stt / nb;
    out->ctx_se = nb > 1 ? sqrt(fmax(sc2 / nb - out->ctx_ll * out->ctx_ll, 0) / (nb - 1)) : NAN;
    out->tar_se = nb > 1 ? sqrt(fmax(st2 / nb - out->tar_ll * out->tar_ll, 0) / (nb - 1)) : NAN;
    out->batches = n_batches, out->tasks = n_batches * batch;
    return PK_OK;
}

/* ---- files ------------------------------------------------------------------------- */

enum { NMETA = 12 };

int pk_mpnp_save(const pk_mpnp *m, const char *path, pk_err *err)
{
    if (!m || !path)
        return pk_err_set(err, PK_EINVAL, "mpnp save: NULL argument");
    const pk_mpnp_config *c = &m->cfg;
    char v[NMETA][64];
    snprintf(v[0], 64, "probkit-mpnp");
    snprintf(v[1], 64, "1");
    snprintf(v[2], 64, "%s", pk_mpnp_kind_name(c->kind));
    snprintf(v[3], 64, "%d", c->width);
    snprintf(v[4], 64, "%d", c->enc_depth);
    snprintf(v[5], 64, "%d", c->dec_depth);
    snprintf(v[6], 64, "%d", c->n_head);
    snprintf(v[7], 64, "%d", c->n_pseudo);
    snprintf(v[8], 64, "%d", c->n_samples);
    snprintf(v[9], 64, "%d", c->z_dim);
    snprintf(v[10], 64, "%.17g,%.17g", c->x_lo, c->x_hi);
    snprintf(v[11], 64, "%s", c->pseudo_space == PK_MPNP_PSEUDO_REPR ? "repr" : "data");
    const char *keys[NMETA] = {"format", "version", "kind", "width", "enc_depth", "dec_depth",
                               "n_head", "n_pseudo", "n_samples", "z_dim", "x_range", "pseudo_space"};
    const char *vals[NMETA];
    for (int i = 0; i < NMETA; i++)
        vals[i] = v[i];
    return pk_nn_params_save(m->P, path, NMETA, keys, vals, err);
}

static int meta_int(const char *path, const char *key, int *out, pk_err *err)
{
    char *s = pk_nn_file_meta(path, key, err);
    if (!s)
        return pk_err_set(err, PK_EFORMAT, "mpnp load: %s: no '%s' in the metadata", path, key);
    char *end;
    long v = strtol(s, &end, 10);
    int ok = *s && !*end && v >= -100000 && v <= 100000;
    free(s);
    if (!ok)
        return pk_err_set(err, PK_EFORMAT, "mpnp load: %s: '%s' is not an integer", path, key);
    *out = (int)v;
    return PK_OK;
}

int pk_mpnp_load(const char *path, pk_mpnp **out, pk_err *err)
{
    if (!path || !out)
        return pk_err_set(err, PK_EINVAL, "mpnp load: NULL argument");
    *out = NULL;
    char *fmt = pk_nn_file_meta(path, "format", err);
    if (!fmt)
        return err && err->status ? err->status : pk_err_set(err, PK_EFORMAT, "mpnp load: %s: no format", path);
    int ok = !strcmp(fmt, "probkit-mpnp");
    free(fmt);
    if (!ok)
        return pk_err_set(err, PK_EFORMAT, "mpnp load: %s is not a probkit-mpnp model", path);
    int ver = 0, st;
    if ((st = meta_int(path, "version", &ver, err)))
        return st;
    if (ver != 1)
        return pk_err_set(err, PK_EFORMAT, "mpnp load: %s: version %d not supported (1)", path, ver);
    pk_mpnp_config c = pk_mpnp_config_default(PK_MPNP_CNP);
    char *kind = pk_nn_file_meta(path, "kind", err);
    int k = pk_mpnp_kind_parse(kind);
    free(kind);
    if (k < 0)
        return pk_err_set(err, PK_EFORMAT, "mpnp load: %s: unknown model kind", path);
    c.kind = (pk_mpnp_kind)k;
    if ((st = meta_int(path, "width", &c.width, err)) || (st = meta_int(path, "enc_depth", &c.enc_depth, err)) ||
        (st = meta_int(path, "dec_depth", &c.dec_depth, err)) || (st = meta_int(path, "n_head", &c.n_head, err)) ||
        (st = meta_int(path, "n_pseudo", &c.n_pseudo, err)) || (st = meta_int(path, "n_samples", &c.n_samples, err)) ||
        (st = meta_int(path, "z_dim", &c.z_dim, err)))
        return st;
    char *xr = pk_nn_file_meta(path, "x_range", err);
    if (!xr || sscanf(xr, "%lf,%lf", &c.x_lo, &c.x_hi) != 2) {
        free(xr);
        return pk_err_set(err, PK_EFORMAT, "mpnp load: %s: bad x_range", path);
    }
    free(xr);
    /* files written before the key existed hold data-space generators */
    pk_err e1 = {0};
    char *sp = pk_nn_file_meta(path, "pseudo_space", &e1);
    int sp_ok = !sp || !strcmp(sp, "data") || !strcmp(sp, "repr");
    c.pseudo_space = sp && !strcmp(sp, "repr") ? PK_MPNP_PSEUDO_REPR : PK_MPNP_PSEUDO_DATA;
    free(sp);
    if (!sp_ok)
        return pk_err_set(err, PK_EFORMAT, "mpnp load: %s: pseudo_space is neither 'data' nor 'repr'", path);
    pk_err e2 = {0};
    if ((st = pk_mpnp_config_check(&c, &e2)))
        return pk_err_set(err, PK_EFORMAT, "mpnp load: %s: %s", path, e2.msg);
    pk_mpnp *m = NULL;
    if ((st = mpnp_build_empty(&c, &m, err)))
        return st;
    if ((st = pk_nn_params_load(m->P, path, err))) {
        pk_mpnp_free(m);
        return st;
    }
    *out = m;
    return PK_OK;
}
