/* Slice sampling, SGLD / SGHMC and particle-marginal MH. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/infer.h"

int pk_infer_slice(pk_infer_logdensity0_fn f, void *user, size_t dim, const double *init, size_t n, double width,
                    pk_rng *rng, double *out, pk_err *err)
{
    if (!f || dim == 0 || !init || !(width > 0) || !out)
        return pk_err_set(err, PK_EINVAL, "slice: need a log-density, dim >= 1, an initial point and width > 0");
    double *x = malloc(dim * sizeof *x);
    if (!x)
        return pk_err_set(err, PK_ENOMEM, "slice: out of memory");
    memcpy(x, init, dim * sizeof *x);
    double lp = f(x, user);
    if (!isfinite(lp)) {
        free(x);
        return pk_err_set(err, PK_EDOM, "slice: the initial point has log-density %g", lp);
    }
    for (size_t s = 0; s < n; s++) {
        for (size_t j = 0; j < dim; j++) {
            double x0 = x[j], y = lp + log(pk_rng_uniform_pos(rng)); /* the slice level */
            double lo = x0 - width * pk_rng_uniform(rng), hi = lo + width;
            for (int k = 0; k < 64; k++) { /* step out */
                x[j] = lo;
                if (!(f(x, user) > y))
                    break;
                lo -= width;
            }
            for (int k = 0; k < 64; k++) {
                x[j] = hi;
                if (!(f(x, user) > y))
                    break;
                hi += width;
            }
            for (int k = 0;; k++) { /* shrink until a point inside the slice */
                x[j] = lo + (hi - lo) * pk_rng_uniform(rng);
                double l = f(x, user);
                if (l > y) {
                    lp = l;
                    break;
                }
                if (x[j] < x0)
                    lo = x[j];
                else
                    hi = x[j];
                if (k > 200 || hi - lo < 1e-300) { /* the slice collapsed: stay */
                    x[j] = x0;
                    lp = f(x, user);
                    break;
                }
            }
        }
        memcpy(out + s * dim, x, dim * sizeof *x);
    }
    free(x);
    return PK_OK;
}

pk_infer_sgmcmc_params pk_infer_sgmcmc_params_default(void)
{
    pk_infer_sgmcmc_params p = {0, 32, 10000, 5000, 1, 1e-3, 0.0, 1000.0, 0.0};
    return p;
}

int pk_infer_sgmcmc(pk_infer_minibatch_grad_fn lik_grad, void (*prior_grad)(const double *, double *, void *), void *user,
                     size_t dim, const double *init, const pk_infer_sgmcmc_params *p, pk_rng *rng, double **out,
                     size_t *n_out, pk_err *err)
{
    *out = NULL;
    *n_out = 0;
    if (!lik_grad || dim == 0 || !init)
        return pk_err_set(err, PK_EINVAL, "sgmcmc: need a gradient, dim >= 1 and an initial point");
    if (p->n_data < 1 || p->batch < 1 || p->batch > p->n_data)
        return pk_err_set(err, PK_EINVAL, "sgmcmc: batch must be in [1, n_data], got %zu of %zu", p->batch, p->n_data);
    if (!(p->step > 0) || !(p->gamma >= 0 && p->gamma <= 1) || !(p->b0 > 0) || p->thin < 1 || p->burn >= p->iters ||
        !(p->friction >= 0 && p->friction <= 1))
        return pk_err_set(err, PK_EINVAL, "sgmcmc: step > 0, gamma in [0,1], b0 > 0, thin >= 1, burn < iters, "
                                          "friction in [0,1] required");
    size_t keep = (p->iters - p->burn + p->thin - 1) / p->thin;
    double *x = malloc(dim * sizeof *x), *g = malloc(dim * sizeof *g), *v = calloc(dim, sizeof *v);
    size_t *idx = malloc(p->batch * sizeof *idx);
    double *draws = malloc(keep * dim * sizeof *draws);
    if (!x || !g || !v || !idx || !draws) {
        free(x), free(g), free(v), free(idx), free(draws);
        return pk_err_set(err, PK_ENOMEM, "sgmcmc: out of memory");
    }
    memcpy(x, init, dim * sizeof *x);
    double scale = (double)p->n_data / (double)p->batch;
    size_t k = 0;
    int st = PK_OK;
    for (size_t t = 0; t < p->iters; t++) {
        /* a minibatch without replacement (partial Fisher-Yates on the fly) */
        for (size_t b = 0; b < p->batch; b++) {
            size_t c;
            int dup;
            do { /* rejection on duplicates: cheap for b << N */
                c = (size_t)pk_rng_below(rng, p->n_data);
                dup = 0;
                for (size_t q = 0; q < b; q++)
                    dup |= idx[q] == c;
            } while (dup);
            idx[b] = c;
        }
        memset(g, 0, dim * sizeof *g);
        lik_grad(x, idx, p->batch, g, user);
        for (size_t j = 0; j < dim; j++)
            g[j] *= scale;
        if (prior_grad)
            prior_grad(x, g, user);
        if (!pk_all_finite(g, dim)) {
            st = pk_err_set(err, PK_EDOM, "sgmcmc: non-finite gradient at iteration %zu (step too large?)", t);
            break;
        }
        double eps = p->step * pow(1.0 + (double)t / p->b0, -p->gamma);
        if (p->friction == 0) { /* SGLD: x += eps/2 g + N(0, eps) */
            double s = sqrt(eps);
            for (size_t j = 0; j < dim; j++)
                x[j] += 0.5 * eps * g[j] + s * pk_rng_normal(rng);
        } else { /* SGHMC: v = (1 - a) v + eta g + N(0, 2 a eta); x += v, with eta = eps */
            double a = p->friction, s = sqrt(2.0 * a * eps);
            for (size_t j = 0; j < dim; j++) {
                v[j] = (1.0 - a) * v[j] + eps * g[j] + s * pk_rng_normal(rng);
                x[j] += v[j];
            }
        }
        if (t >= p->burn && (t - p->burn) % p->thin == 0 && k < keep)
            memcpy(draws + (k++) * dim, x, dim * sizeof *x);
    }
    free(x), free(g), free(v), free(idx);
    if (st) {
        free(draws);
        return st;
    }
    *out = draws;
    *n_out = k;
    return PK_OK;
}

int pk_infer_pmmh(size_t dim, pk_infer_logdensity0_fn log_prior, int (*make_ssm)(const double *, void *, pk_ssm *),
                  void *user, const double *init, const double *prop_sd, size_t steps, size_t particles, pk_rng *rng,
                  double *out, double *accept_rate, pk_err *err)
{
    if (dim == 0 || !log_prior || !make_ssm || !init || !prop_sd || particles < 1)
        return pk_err_set(err, PK_EINVAL, "pmmh: need dim >= 1, a prior, a model builder, init, proposal sd");
    double *cur = malloc(dim * sizeof *cur), *prop = malloc(dim * sizeof *prop);
    if (!cur || !prop) {
        free(cur), free(prop);
        return pk_err_set(err, PK_ENOMEM, "pmmh: out of memory");
    }
    memcpy(cur, init, dim * sizeof *cur);
    pk_smc_params sp = pk_smc_params_default();
    sp.particles = particles;
    sp.ess_threshold = 0.5;
    int st = PK_OK;
    double lz_cur = -INFINITY, lp_cur = log_prior(cur, user);
    size_t acc = 0;
    /* log p^(y | theta): an unbiased estimate of the likelihood, kept with the state */
    for (int rep = 0; rep < 2; rep++) {
        pk_ssm m;
        pk_population *pop = NULL;
        if (!isfinite(lp_cur)) {
            st = pk_err_set(err, PK_EDOM, "pmmh: the initial parameters have prior log-density %g", lp_cur);
            goto done;
        }
        if ((st = make_ssm(cur, user, &m)) || (st = pk_infer_smc_ssm(&m, &sp, rng, &pop, err)))
            goto done;
        lz_cur = pop->log_z;
        pk_population_free(pop);
        if (isfinite(lz_cur))
            break;
    }
    if (!isfinite(lz_cur)) {
        st = pk_err_set(err, PK_EDOM, "pmmh: the likelihood estimate at the initial parameters is zero");
        goto done;
    }
    for (size_t s = 0; s < steps; s++) {
        for (size_t j = 0; j < dim; j++)
            prop[j] = cur[j] + prop_sd[j] * pk_rng_normal(rng);
        double lp = log_prior(prop, user);
        if (isfinite(lp)) {
            pk_ssm m;
            pk_population *pop = NULL;
            if ((st = make_ssm(prop, user, &m)))
                goto done;
            st = pk_infer_smc_ssm(&m, &sp, rng, &pop, err);
            if (st == PK_EDOM) { /* every particle died: the estimate is zero, reject */
                st = PK_OK;
            } else if (st) {
                goto done;
            } else {
                double lz = pop->log_z, la = lz + lp - lz_cur - lp_cur;
                pk_population_free(pop);
                if (la >= 0 || log(pk_rng_uniform_pos(rng)) < la) {
                    memcpy(cur, prop, dim * sizeof *cur);
                    lz_cur = lz;
                    lp_cur = lp;
                    acc++;
                }
            }
        }
        memcpy(out + s * dim, cur, dim * sizeof *cur);
    }
    if (accept_rate)
        *accept_rate = steps ? (double)acc / (double)steps : 0;
done:
    free(cur);
    free(prop);
    return st;
}
