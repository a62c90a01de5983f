/* train.c — amortised training on random priors, evaluation against the
 * reference posterior, and the checkpoint format. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtf_priv.h"

pk_dtf_train_params pk_dtf_train_params_default(void)
{
    pk_dtf_train_params p = {2000, 64, 1, 8, 1e-3, 0.5};
    return p;
}

static int check_pair(const pk_dtf *m, const pk_dtf_task *t, pk_err *err)
{
    int st = pk_dtf_task_check(t, err);
    if (st)
        return st;
    if (t->d != m->cfg.d || pk_dtf_task_obs_dim(t) != m->cfg.obs_dim)
        return pk_err_set(err, PK_EINVAL,
                          "disttf: the task has d %d and %d features per observation, the network %d and %d", t->d,
                          pk_dtf_task_obs_dim(t), m->cfg.d, m->cfg.obs_dim);
    return PK_OK;
}

int pk_dtf_train(pk_dtf *m, const pk_dtf_task *task, const pk_dtf_train_params *tp, pk_rng *rng,
                 pk_dtf_progress_fn progress, void *user, double *final_loss, pk_err *err)
{
    if (!m || !task || !tp || !rng)
        return pk_err_set(err, PK_EINVAL, "disttf train: NULL argument");
    int st = check_pair(m, task, err);
    if (st)
        return st;
    if (tp->steps < 1 || tp->batch < 1 || tp->batch > 4096 || tp->n_min < 1 || tp->n_max < tp->n_min ||
        tp->n_max > 1024 || !(tp->lr > 0 && tp->lr < 1) || !(tp->seq_frac >= 0 && tp->seq_frac <= 1))
        return pk_err_set(err, PK_EINVAL, "disttf train: need steps >= 1, batch 1..4096, 1 <= n_min <= n_max <= 1024, "
                                          "0 < lr < 1, 0 <= seq_frac <= 1");
    const pk_dtf_config *c = &m->cfg;
    int B = tp->batch, K = c->K, d = c->d, P = c->obs_dim, F = dtf_feat(d);
    float *tok = malloc((size_t)B * K * F * sizeof *tok), *of = malloc((size_t)B * tp->n_max * P * sizeof *of);
    float *thf = malloc((size_t)B * d * sizeof *thf);
    double *ob = malloc((size_t)tp->n_max * P * sizeof *ob);
    pk_dtf_gmm *g = malloc(sizeof *g);
    pk_nn_ctx *ctx = pk_nn_ctx_new(), *ctx1 = pk_nn_ctx_new();
    pk_nn_optim_params op = pk_nn_optim_params_default(PK_NN_ADAM);
    pk_nn_optim *opt = NULL;
    float *of1 = malloc((size_t)B * tp->n_max * P * sizeof *of1);
    if (!tok || !of || !thf || !ob || !g || !ctx || !ctx1 || !of1) {
        st = pk_err_set(err, PK_ENOMEM, "disttf train: out of memory");
        goto done;
    }
    pk_nn_ctx_set_grad(ctx1, 0);
    if (!(opt = pk_nn_optim_new(m->params, &op, err))) {
        st = err && err->status ? err->status : PK_ENOMEM;
        goto done;
    }
    pk_nn_loss_log lg;
    pk_nn_loss_log_init(&lg, tp->steps);
    int warmup = tp->steps / 20;
    for (int step = 0; step < tp->steps; step++) {
        int n = tp->n_min + (int)(pk_rng_uniform(rng) * (tp->n_max - tp->n_min + 1));
        if (n > tp->n_max)
            n = tp->n_max;
        /* a sequential step: a first batch of n1 observations, whose posterior
           (from the network itself) is the prior the step trains on */
        int n1 = pk_rng_uniform(rng) < tp->seq_frac ? tp->n_min + (int)(pk_rng_uniform(rng) * (tp->n_max - tp->n_min + 1))
                                                    : 0;
        if (n1 > tp->n_max)
            n1 = tp->n_max;
        for (int b = 0; b < B; b++) {
            double th[PK_DTF_MAXD];
            pk_dtf_random_prior(task, K, rng, g);
            pk_dtf_gmm_sample(g, rng, th);
            dtf_tokens(g, tok + (size_t)b * K * F);
            if (n1) {
                pk_dtf_simulate(task, th, n1, rng, ob);
                for (int i = 0; i < n1 * P; i++)
                    of1[(size_t)b * n1 * P + i] = (float)ob[i];
            }
            pk_dtf_simulate(task, th, n, rng, ob);
            for (int i = 0; i < d; i++)
                thf[b * d + i] = (float)th[i];
            for (int i = 0; i < n * P; i++)
                of[(size_t)b * n * P + i] = (float)ob[i];
        }
        if (n1) {
            pk_nn_ctx_reset(ctx1);
            pk_nn_tensor *p1 = dtf_forward(ctx1, m, tok, of1, B, n1);
            if (!p1) {
                st = pk_err_set(err, pk_nn_ctx_status(ctx1) ? pk_nn_ctx_status(ctx1) : PK_ENOMEM,
                                "disttf train: step %d: %s", step, pk_nn_ctx_error(ctx1));
                goto done;
            }
            for (int b = 0; b < B; b++) { /* through a mixture, as at inference (renormalised, clamped) */
                dtf_untokens(p1->data + (size_t)b * K * F, d, K, g);
                dtf_tokens(g, tok + (size_t)b * K * F);
            }
        }
        pk_nn_ctx_reset(ctx);
        pk_nn_tensor *loss = dtf_nll(ctx, m, dtf_forward(ctx, m, tok, of, B, n), thf, B);
        pk_nn_params_zero_grad(m->params);
        if (!loss || (st = pk_nn_backward(ctx, loss))) {
            st = pk_err_set(err, pk_nn_ctx_status(ctx) ? pk_nn_ctx_status(ctx) : (st ? st : PK_ENOMEM),
                            "disttf train: step %d: %s", step, pk_nn_ctx_error(ctx));
            goto done;
        }
        pk_nn_optim_step(opt, pk_nn_lr_cosine(step, warmup, tp->steps, tp->lr, tp->lr * 0.02));
        double l = (double)loss->data[0];
        double mean;
        if (pk_nn_loss_log_add(&lg, step, l, &mean) && progress && progress(step + 1, tp->steps, mean, user))
            break;
    }
    if (final_loss)
        *final_loss = pk_nn_loss_log_tail(&lg);
    st = PK_OK;
done:
    pk_nn_optim_free(opt);
    pk_nn_ctx_free(ctx);
    pk_nn_ctx_free(ctx1);
    free(of1);
    free(tok);
    free(of);
    free(thf);
    free(ob);
    free(g);
    return st;
}

/* -log N(theta; mean, cov) for d <= 4 (Cholesky by hand) */
static double gauss_nll(const double *mean, const double *cov, const double *theta, int d)
{
    pk_dtf_gmm one;
    memset(&one, 0, sizeof one);
    one.d = d, one.K = 1, one.w[0] = 1;
    double *L = one.L;
    for (int j = 0; j < d; j++) {
        one.mu[j] = mean[j];
        for (int i = j; i < d; i++) {
            double v = cov[i * d + j];
            for (int t = 0; t < j; t++)
                v -= L[i * d + t] * L[j * d + t];
            if (i == j)
                L[j * d + j] = sqrt(v > 1e-300 ? v : 1e-300);
            else
                L[i * d + j] = v / L[j * d + j];
        }
    }
    return -pk_dtf_gmm_logpdf(&one, theta);
}

static void mean_se(const double *v, int n, double *mean, double *se)
{
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++)
        s += v[i];
    *mean = s / n;
    for (int i = 0; i < n; i++)
        s2 += (v[i] - *mean) * (v[i] - *mean);
    *se = n > 1 ? sqrt(s2 / (n - 1) / n) : NAN;
}

int pk_dtf_evaluate(const pk_dtf *m, const pk_dtf_task *task, int problems, int n, int rounds, int G, pk_rng *rng,
                    pk_dtf_eval *out, pk_err *err)
{
    if (!m || !task || !rng || !out)
        return pk_err_set(err, PK_EINVAL, "disttf evaluate: NULL argument");
    int st = check_pair(m, task, err);
    if (st)
        return st;
    if (problems < 1 || n < 1 || rounds < 1 || (long)n * rounds > 4096 || G < 0 || G > 4096)
        return pk_err_set(err, PK_EINVAL, "disttf evaluate: need problems >= 1, n >= 1, rounds >= 1, n * rounds <= "
                                          "4096, 0 <= G <= 4096");
    if (G == 0)
        G = 400;
    int K = m->cfg.K, d = m->cfg.d, P = m->cfg.obs_dim, N = n * rounds;
    double *obs = malloc((size_t)problems * N * P * sizeof *obs), *roundobs = malloc((size_t)problems * n * P * sizeof *roundobs);
    double *theta = malloc((size_t)problems * d * sizeof *theta);
    double *v_dt = malloc((size_t)problems * 5 * sizeof *v_dt);
    pk_dtf_gmm *prior = malloc((size_t)problems * sizeof *prior), *cur = malloc((size_t)problems * sizeof *cur),
               *ref = malloc(sizeof *ref);
    if (!obs || !roundobs || !theta || !v_dt || !prior || !cur || !ref) {
        st = pk_err_set(err, PK_ENOMEM, "disttf evaluate: out of memory");
        goto done;
    }
    double *v_ref = v_dt + problems, *v_g = v_ref + problems, *v_p = v_g + problems, *v_gap = v_p + problems;
    for (int b = 0; b < problems; b++) {
        pk_dtf_random_prior(task, K, rng, prior + b);
        pk_dtf_gmm_sample(prior + b, rng, theta + (size_t)b * d);
        pk_dtf_simulate(task, theta + (size_t)b * d, N, rng, obs + (size_t)b * N * P);
        cur[b] = prior[b];
    }
    double t0 = pk_time_now();
    for (int r = 0; r < rounds; r++) {
        for (int b = 0; b < problems; b++)
            memcpy(roundobs + (size_t)b * n * P, obs + ((size_t)b * N + (size_t)r * n) * P,
                   (size_t)n * P * sizeof *obs);
        if ((st = pk_dtf_infer(m, cur, roundobs, problems, n, cur, err)))
            goto done;
    }
    out->ms_dt = 1000 * (pk_time_now() - t0) / problems;
    t0 = pk_time_now();
    for (int b = 0; b < problems; b++) {
        const double *th = theta + (size_t)b * d, *ob = obs + (size_t)b * N * P;
        double mean[PK_DTF_MAXD], cov[PK_DTF_MAXD * PK_DTF_MAXD], lp;
        if (task->kind == PK_DTF_LINEAR) {
            if ((st = pk_dtf_exact_linear(task, prior + b, ob, N, ref, err)))
                goto done;
            lp = pk_dtf_gmm_logpdf(ref, th);
            pk_dtf_gmm_moments(ref, mean, cov);
        } else if ((st = pk_dtf_grid_logpost(task, prior + b, ob, N, G, 9.0, th, &lp, mean, cov, err))) {
            goto done;
        }
        v_ref[b] = -lp;
        v_g[b] = gauss_nll(mean, cov, th, d);
        v_p[b] = -pk_dtf_gmm_logpdf(prior + b, th);
        v_dt[b] = -pk_dtf_gmm_logpdf(cur + b, th);
        v_gap[b] = v_dt[b] - v_ref[b];
    }
    out->ms_ref = 1000 * (pk_time_now() - t0) / problems;
    out->problems = problems;
    double se_p;
    mean_se(v_dt, problems, &out->nll_dt, &out->se_dt);
    mean_se(v_ref, problems, &out->nll_ref, &out->se_ref);
    mean_se(v_g, problems, &out->nll_gauss, &out->se_gauss);
    mean_se(v_p, problems, &out->nll_prior, &se_p);
    mean_se(v_gap, problems, &out->gap, &out->se_gap);
    st = PK_OK;
done:
    free(obs);
    free(roundobs);
    free(theta);
    free(v_dt);
    free(prior);
    free(cur);
    free(ref);
    return st;
}

/* ---- checkpoints ------------------------------------------------------------ */

int pk_dtf_save(const pk_dtf *m, const pk_dtf_task *task, const char *path, pk_err *err)
{
    if (!m || !task || !path)
        return pk_err_set(err, PK_EINVAL, "disttf save: NULL argument");
    const pk_dtf_config *c = &m->cfg;
    char cfg[128], tk[256];
    snprintf(cfg, sizeof cfg, "%d %d %d %d %d %d %d", c->d, c->obs_dim, c->K, c->d_model, c->n_head, c->n_enc,
             c->n_dec);
    snprintf(tk, sizeof tk, "%d %d %.17g %.17g %.17g %.17g %.17g", (int)task->kind, task->d, task->noise,
             task->mean_scale, task->sd_lo, task->sd_hi, task->sensor_box);
    const char *keys[] = {"format", "version", "config", "task"};
    const char *vals[] = {"probkit-disttf", "1", cfg, tk};
    return pk_nn_params_save(m->params, path, 4, keys, vals, err);
}

int pk_dtf_load(const char *path, pk_dtf **out, pk_dtf_task *task, pk_err *err)
{
    if (!path || !out)
        return pk_err_set(err, PK_EINVAL, "disttf load: NULL argument");
    *out = NULL;
    char *fmt = pk_nn_file_meta(path, "format", err);
    if (!fmt)
        return err && err->status ? err->status
                                  : pk_err_set(err, PK_EFORMAT, "%s: not a probkit disttf model (no format)", path);
    int ok = !strcmp(fmt, "probkit-disttf");
    free(fmt);
    if (!ok)
        return pk_err_set(err, PK_EFORMAT, "%s: not a probkit disttf model (format is not probkit-disttf)", path);
    char *cs = pk_nn_file_meta(path, "config", err), *ts = pk_nn_file_meta(path, "task", err);
    pk_dtf_config c;
    pk_dtf_task t;
    int kind = 0, used = 0, st;
    if (!cs || !ts ||
        sscanf(cs, "%d %d %d %d %d %d %d%n", &c.d, &c.obs_dim, &c.K, &c.d_model, &c.n_head, &c.n_enc, &c.n_dec,
               &used) != 7 ||
        cs[used] ||
        sscanf(ts, "%d %d %lf %lf %lf %lf %lf%n", &kind, &t.d, &t.noise, &t.mean_scale, &t.sd_lo, &t.sd_hi,
               &t.sensor_box, &used) != 7 ||
        ts[used]) {
        free(cs);
        free(ts);
        return pk_err_set(err, PK_EFORMAT, "%s: disttf metadata 'config' or 'task' missing or malformed", path);
    }
    free(cs);
    free(ts);
    t.kind = (pk_dtf_task_kind)kind;
    if ((st = pk_dtf_task_check(&t, err)) || (st = dtf_make(&c, out, err)))
        return st;
    if ((st = check_pair(*out, &t, err)) || (st = pk_nn_params_load((*out)->params, path, err))) {
        pk_dtf_free(*out);
        *out = NULL;
        return st;
    }
    if (task)
        *task = t;
    return PK_OK;
}
