/* run.c — learning tasks one after another with HMC, the paper's Section 3.
 *
 * Each task is sampled with static HMC (step size adapted by dual averaging,
 * diagonal mass matrix); the draws either become the next task's prior
 * through a Gaussian mixture (SEQUENTIAL), or are discarded while the next
 * task sees all data so far (JOINT, the reference a perfect continual learner
 * would match) or only its own (FRESH, no memory).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/continual.h"
#include "probkit/infer.h"

pk_cl_hmc_opts pk_cl_hmc_opts_default(size_t in, size_t out)
{
    pk_cl_hmc_opts o;
    o.net.in = in;
    o.net.hidden = 10;
    o.net.out = out;
    o.tau = 10.0;
    o.chains = 2;
    o.warmup = 400;
    o.draws = 400;
    o.n_leapfrog = 20;
    o.max_k = 16;
    o.gmm_reg = 1e-4;
    o.eval_samples = 200;
    return o;
}

typedef struct target {
    const pk_cl_mlp *net;
    const pk_cl_prior *prior;
    const double *X;
    const int32_t *y;
    size_t n;
    size_t np;
} target;

/* Called concurrently by the chains: only stack scratch and the grad buffer. */
static double log_post(const double *theta, double *grad, void *user)
{
    const target *t = user;
    double *gp = malloc(t->np * sizeof *gp);
    if (!gp)
        return NAN;
    double lp = pk_cl_prior_logpdf(t->prior, theta, gp);
    double ll = pk_cl_mlp_loglik(t->net, theta, t->X, t->y, t->n, grad);
    for (size_t i = 0; i < t->np; i++)
        grad[i] += gp[i];
    free(gp);
    return lp + ll;
}

static int check(const pk_cl_task *tasks, size_t T, const pk_cl_hmc_opts *o, pk_err *err)
{
    if (!tasks || T == 0 || !o)
        return pk_err_set(err, PK_EINVAL, "continual: need at least one task and options");
    if (!pk_cl_mlp_nparams(&o->net))
        return pk_err_set(err, PK_EINVAL,
                          "continual: network shape in=%zu hidden=%zu out=%zu is out of range (hidden <= %d, 2 <= out <= %d)",
                          o->net.in, o->net.hidden, o->net.out, PK_CL_MAX_HIDDEN, PK_CL_MAX_OUT);
    if (!(o->tau > 0) || o->chains < 1 || o->draws < 4 || o->n_leapfrog < 1 || o->max_k < 1 || !(o->gmm_reg > 0) ||
        o->eval_samples < 1)
        return pk_err_set(err, PK_EINVAL, "continual: options out of range (tau > 0, chains >= 1, draws >= 4, ...)");
    for (size_t t = 0; t < T; t++) {
        const pk_cl_task *k = tasks + t;
        if (k->ntr == 0 || k->nte == 0 || !k->Xtr || !k->ytr || !k->Xte || !k->yte)
            return pk_err_set(err, PK_EINVAL, "continual: task %zu has no training or no test rows", t);
        for (size_t i = 0; i < k->ntr; i++)
            if (k->ytr[i] < 0 || (size_t)k->ytr[i] >= o->net.out)
                return pk_err_set(err, PK_EINVAL, "continual: task %zu training label %d is outside [0, %zu)", t,
                                  (int)k->ytr[i], o->net.out);
        for (size_t i = 0; i < k->nte; i++)
            if (k->yte[i] < 0 || (size_t)k->yte[i] >= o->net.out)
                return pk_err_set(err, PK_EINVAL, "continual: task %zu test label %d is outside [0, %zu)", t,
                                  (int)k->yte[i], o->net.out);
        for (size_t i = 0; i < k->ntr * o->net.in; i++)
            if (!isfinite(k->Xtr[i]))
                return pk_err_set(err, PK_EDOM, "continual: task %zu training row %zu is not finite", t, i / o->net.in);
        for (size_t i = 0; i < k->nte * o->net.in; i++)
            if (!isfinite(k->Xte[i]))
                return pk_err_set(err, PK_EDOM, "continual: task %zu test row %zu is not finite", t, i / o->net.in);
    }
    return PK_OK;
}

int pk_cl_run(const pk_cl_task *tasks, size_t T, pk_cl_mode mode, const pk_cl_hmc_opts *o, uint64_t seed,
              double *acc, double *nll, pk_cl_task_info *info, void (*progress)(size_t task, void *user),
              void *user, pk_err *err)
{
    int st = check(tasks, T, o, err);
    if (st != PK_OK)
        return st;
    if (!acc)
        return pk_err_set(err, PK_EINVAL, "continual: accuracy output is NULL");
    if (mode != PK_CL_SEQUENTIAL && mode != PK_CL_JOINT && mode != PK_CL_FRESH)
        return pk_err_set(err, PK_EINVAL, "continual: unknown mode %d", (int)mode);
    for (size_t i = 0; i < T * T; i++) {
        acc[i] = NAN;
        if (nll)
            nll[i] = NAN;
    }
    const size_t np = pk_cl_mlp_nparams(&o->net), din = o->net.in;
    size_t ntot = 0;
    for (size_t t = 0; t < T; t++)
        ntot += tasks[t].ntr;
    double *Xall = malloc(ntot * din * sizeof *Xall);
    int32_t *yall = malloc(ntot * sizeof *yall);
    double *eval = NULL;
    pk_cl_prior *gauss = NULL, *prior = NULL;
    pk_rng rng;
    pk_rng_seed_stream(&rng, seed, 1000);
    if (!Xall || !yall) {
        st = pk_err_set(err, PK_ENOMEM, "continual: out of memory");
        goto done;
    }
    st = pk_cl_prior_gaussian(np, o->tau, &gauss, err);
    if (st != PK_OK)
        goto done;
    size_t nseen = 0;
    for (size_t t = 0; t < T; t++) {
        double t0 = pk_time_now();
        memcpy(Xall + nseen * din, tasks[t].Xtr, tasks[t].ntr * din * sizeof *Xall);
        memcpy(yall + nseen, tasks[t].ytr, tasks[t].ntr * sizeof *yall);
        nseen += tasks[t].ntr;
        target tg = {&o->net, prior ? prior : gauss, tasks[t].Xtr, tasks[t].ytr, tasks[t].ntr, np};
        if (mode == PK_CL_JOINT) {
            tg.prior = gauss;
            tg.X = Xall;
            tg.y = yall;
            tg.n = nseen;
        } else if (mode == PK_CL_FRESH) {
            tg.prior = gauss;
        }
        pk_infer_hmc_params hp = pk_infer_hmc_params_default();
        hp.chains = o->chains;
        hp.warmup = o->warmup;
        hp.draws = o->draws;
        hp.nuts = 0;
        hp.n_leapfrog = o->n_leapfrog;
        hp.init_radius = 1.0 / sqrt((double)o->net.hidden);
        pk_infer_draws *dr = NULL;
        st = pk_infer_hmc(log_post, &tg, np, NULL, &hp, seed + 7919 * (t + 1), &dr, err);
        if (st != PK_OK) {
            pk_err_prefix(err, "continual: task %zu: ", t);
            goto done;
        }
        size_t S = dr->chains * dr->draws;
        /* evaluate with an evenly thinned subset of all chains' draws */
        size_t E = o->eval_samples < S ? o->eval_samples : S;
        free(eval);
        eval = malloc(E * np * sizeof *eval);
        if (!eval) {
            pk_infer_draws_free(dr);
            st = pk_err_set(err, PK_ENOMEM, "continual: out of memory");
            goto done;
        }
        for (size_t e = 0; e < E; e++)
            memcpy(eval + e * np, dr->x + (e * S / E) * np, np * sizeof *eval);
        for (size_t j = 0; j <= t; j++) {
            double a = NAN, l = NAN;
            st = pk_cl_bma_score(&o->net, eval, E, tasks[j].Xte, tasks[j].yte, tasks[j].nte, &a, &l);
            if (st != PK_OK) {
                pk_infer_draws_free(dr);
                pk_err_set(err, st, "continual: scoring task %zu failed", j);
                goto done;
            }
            acc[t * T + j] = a;
            if (nll)
                nll[t * T + j] = l;
        }
        size_t comps = 0;
        if (mode == PK_CL_SEQUENTIAL && t + 1 < T) {
            pk_cl_prior *next = NULL;
            st = pk_cl_prior_fit_gmm(dr->x, S, np, o->max_k, o->gmm_reg, &rng, &next, &comps, err);
            if (st != PK_OK) {
                pk_infer_draws_free(dr);
                pk_err_prefix(err, "continual: propagating the posterior of task %zu: ", t);
                goto done;
            }
            pk_cl_prior_free(prior);
            prior = next;
        }
        if (info) {
            info[t].components = comps;
            info[t].accept = dr->accept_mean;
            info[t].divergences = dr->divergences;
            info[t].seconds = pk_time_now() - t0;
        }
        pk_infer_draws_free(dr);
        if (progress)
            progress(t, user);
    }
done:
    free(Xall);
    free(yall);
    free(eval);
    pk_cl_prior_free(gauss);
    pk_cl_prior_free(prior);
    return st;
}
