/* post.c — the BNN posterior under a Gaussian weight prior, sampled with
 * SGHMC (pk_infer_sgmcmc), and the predictive of the kept networks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "funcprior_priv.h"
#include "probkit/infer.h"

pk_funcprior_post_params pk_funcprior_post_params_default(void)
{
    pk_funcprior_post_params pp = {0.1, 32, 20000, 10000, 100, 1e-4, 0.05, 3};
    return pp;
}

int pk_funcprior_post_params_check(const pk_funcprior_post_params *pp, pk_err *err)
{
    if (!pp)
        return pk_err_set(err, PK_EINVAL, "funcprior_posterior: no parameters");
    if (!(pp->noise_var > 0) || !isfinite(pp->noise_var))
        return pk_err_set(err, PK_EINVAL, "funcprior_posterior: noise_var must be finite and > 0, got %g",
                          pp->noise_var);
    if (pp->batch < 1 || pp->thin < 1 || pp->iters < 1 || pp->burn >= pp->iters)
        return pk_err_set(err, PK_EINVAL, "funcprior_posterior: need batch >= 1, thin >= 1 and burn < iters");
    if (!(pp->step > 0) || !isfinite(pp->step))
        return pk_err_set(err, PK_EINVAL, "funcprior_posterior: step must be finite and > 0, got %g", pp->step);
    if (!(pp->friction > 0 && pp->friction <= 1))
        return pk_err_set(err, PK_EINVAL, "funcprior_posterior: friction must be in (0, 1], got %g", pp->friction);
    if (pp->retries < 0 || pp->retries > 30)
        return pk_err_set(err, PK_EINVAL, "funcprior_posterior: retries must be in [0, 30], got %d", pp->retries);
    return PK_OK;
}

typedef struct fp_post {
    fp_ws w;
    const pk_mat *X;
    const double *y;
    double noise_var;
    const double *sd;
    double *Xb, *G;
    size_t d, P;
    double fmax; /* outputs beyond this mean a divergent chain */
} fp_post;

static void lik_grad(const double *theta, const size_t *idx, size_t b, double *grad, void *user)
{
    fp_post *u = user;
    for (size_t i = 0; i < b; i++)
        memcpy(u->Xb + i * u->d, pk_mat_at(u->X, idx[i], 0), u->d * sizeof(double));
    fp_forward(&u->w, theta, u->Xb, u->d, b);
    const double *f = u->w.H[u->w.L];
    for (size_t i = 0; i < b; i++) { /* d/df log N(y | f, s2) */
        u->G[i] = (u->y[idx[i]] - f[i]) / u->noise_var;
        if (!(fabs(f[i]) < u->fmax)) { /* the chain has run away: let the sampler report it as a divergence */
            grad[0] = NAN;
            return;
        }
    }
    fp_backward(&u->w, theta, u->Xb, u->d, b, u->G, grad);
}

static void prior_grad(const double *theta, double *grad, void *user)
{
    fp_post *u = user;
    for (size_t k = 0; k < u->P; k++)
        grad[k] -= theta[k] / (u->sd[k] * u->sd[k]);
}

int pk_funcprior_posterior(const pk_funcprior_net *net, const pk_funcprior_prior *pr, const pk_mat *X,
                           const double *y, const double *init, const pk_funcprior_post_params *pp, pk_rng *rng,
                           double **draws, size_t *n_draws, pk_err *err)
{
    if (!draws || !n_draws)
        return pk_err_set(err, PK_EINVAL, "funcprior_posterior: NULL output");
    *draws = NULL, *n_draws = 0;
    int st = pk_funcprior_prior_check(net, pr, err);
    if (st || (st = pk_funcprior_post_params_check(pp, err)))
        return st;
    if (!X || !X->data || !y || !rng || X->rows < 1 || X->cols != (size_t)net->in_dim)
        return pk_err_set(err, PK_EINVAL, "funcprior_posterior: need n >= 1 rows of %d inputs, targets and a stream",
                          net->in_dim);
    if (!pk_all_finite(y, X->rows))
        return pk_err_set(err, PK_EINVAL, "funcprior_posterior: the targets must be finite");
    size_t P = pk_funcprior_nparams(net), n = X->rows, batch = pp->batch < n ? pp->batch : n;
    fp_post u = {.X = X, .y = y, .noise_var = pp->noise_var, .d = X->cols, .P = P};
    double ymax = 0;
    for (size_t i = 0; i < n; i++)
        ymax = fmax(ymax, fabs(y[i]));
    u.fmax = 1e3 * (ymax + sqrt(pp->noise_var));
    double *sd = malloc(P * sizeof *sd), *start = malloc(P * sizeof *start);
    u.Xb = malloc(batch * X->cols * sizeof(double));
    u.G = malloc(batch * sizeof(double));
    int have_ws = fp_ws_init(&u.w, net, batch) == PK_OK;
    if (!sd || !start || !u.Xb || !u.G || !have_ws) {
        st = pk_err_set(err, PK_ENOMEM, "funcprior_posterior: out of memory");
        goto done;
    }
    u.sd = sd;
    pk_funcprior_prior_sd(net, pr, sd);
    for (size_t k = 0; k < P; k++)
        start[k] = init ? init[k] : sd[k] * pk_rng_normal(rng);
    pk_infer_sgmcmc_params sp = pk_infer_sgmcmc_params_default();
    sp.n_data = n, sp.batch = batch, sp.iters = pp->iters, sp.burn = pp->burn, sp.thin = pp->thin;
    sp.step = pp->step, sp.gamma = 0, sp.friction = pp->friction;
    /* a divergent chain (step too large for this posterior's curvature)
     * restarts from the same point with half the step */
    for (int r = 0; r <= pp->retries; r++) {
        st = pk_infer_sgmcmc(lik_grad, prior_grad, &u, P, start, &sp, rng, draws, n_draws, err);
        if (st != PK_EDOM)
            break;
        sp.step *= 0.5;
    }
done:
    if (have_ws)
        fp_ws_free(&u.w);
    free(sd), free(start), free(u.Xb), free(u.G);
    return st;
}

int pk_funcprior_predict(const pk_funcprior_net *net, const double *draws, size_t n_draws, const pk_mat *Xs,
                         double noise_var, double *mean, double *var, pk_err *err)
{
    int st = pk_funcprior_net_check(net, err);
    if (st)
        return st;
    if (!draws || n_draws < 1 || !Xs || !Xs->data || Xs->rows < 1 || Xs->cols != (size_t)net->in_dim || !mean ||
        !var || !(noise_var >= 0))
        return pk_err_set(err, PK_EINVAL, "funcprior_predict: need >= 1 draws, m x %d points, outputs, noise >= 0",
                          net->in_dim);
    size_t P = pk_funcprior_nparams(net), m = Xs->rows;
    fp_ws w;
    if (fp_ws_init(&w, net, m))
        return pk_err_set(err, PK_ENOMEM, "funcprior_predict: out of memory");
    memset(mean, 0, m * sizeof *mean);
    memset(var, 0, m * sizeof *var);
    for (size_t s = 0; s < n_draws; s++) { /* Welford over the draws */
        fp_forward(&w, draws + s * P, Xs->data, Xs->stride, m);
        const double *f = w.H[w.L];
        for (size_t i = 0; i < m; i++) {
            double dlt = f[i] - mean[i];
            mean[i] += dlt / (double)(s + 1);
            var[i] += dlt * (f[i] - mean[i]);
        }
    }
    for (size_t i = 0; i < m; i++)
        var[i] = var[i] / (double)n_draws + noise_var;
    fp_ws_free(&w);
    return PK_OK;
}
