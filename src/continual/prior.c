/* prior.c — the prior handed from one task to the next.
 *
 * The paper propagates the posterior by fitting a density estimator to HMC
 * draws; its Gaussian-mixture variant picks the number of components by the
 * likelihood of held-out draws.  HMC on the next task needs the mixture's log
 * density *and gradient*, so each component keeps the Cholesky factor of its
 * covariance: grad log N_k = -Sigma_k^-1 (theta - mu_k) = -L^-T L^-1 diff.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/cluster.h"
#include "probkit/continual.h"
#include "probkit/linalg.h"

struct pk_cl_prior {
    size_t dim, k;
    double tau;    /* k == 0: isotropic Gaussian with this precision */
    double *logw;  /* k */
    double *mu;    /* k x dim */
    double *L;     /* k x dim x dim, lower Cholesky factors of the covariances */
    double *lognorm; /* k: log w_k - sum log diag L_k - dim/2 log 2 pi */
};

static const double LOG_2PI = 1.8378770664093454836;

int pk_cl_prior_gaussian(size_t dim, double tau, pk_cl_prior **out, pk_err *err)
{
    if (!out)
        return pk_err_set(err, PK_EINVAL, "continual prior: output pointer is NULL");
    *out = NULL;
    if (dim == 0 || !(tau > 0) || !isfinite(tau))
        return pk_err_set(err, PK_EINVAL, "continual prior: need dim >= 1 and a finite precision > 0 (got %zu, %g)",
                          dim, tau);
    pk_cl_prior *p = calloc(1, sizeof *p);
    if (!p)
        return pk_err_set(err, PK_ENOMEM, "continual prior: out of memory");
    p->dim = dim;
    p->tau = tau;
    *out = p;
    return PK_OK;
}

void pk_cl_prior_free(pk_cl_prior *p)
{
    if (!p)
        return;
    free(p->logw);
    free(p->mu);
    free(p->L);
    free(p->lognorm);
    free(p);
}

size_t pk_cl_prior_dim(const pk_cl_prior *p) { return p ? p->dim : 0; }
size_t pk_cl_prior_components(const pk_cl_prior *p) { return p ? (p->k ? p->k : 1) : 0; }

/* Copy a fitted mixture into the prior, factorising each covariance. */
static int from_gmm(const pk_gmm *g, pk_cl_prior **out, pk_err *err)
{
    size_t k = g->k, d = g->d;
    pk_cl_prior *p = calloc(1, sizeof *p);
    if (!p)
        return pk_err_set(err, PK_ENOMEM, "continual prior: out of memory");
    p->dim = d;
    p->k = k;
    p->logw = malloc(k * sizeof *p->logw);
    p->mu = malloc(k * d * sizeof *p->mu);
    p->L = malloc(k * d * d * sizeof *p->L);
    p->lognorm = malloc(k * sizeof *p->lognorm);
    if (!p->logw || !p->mu || !p->L || !p->lognorm) {
        pk_cl_prior_free(p);
        return pk_err_set(err, PK_ENOMEM, "continual prior: out of memory for %zu components of dimension %zu", k, d);
    }
    memcpy(p->mu, g->means, k * d * sizeof *p->mu);
    for (size_t c = 0; c < k; c++) {
        pk_mat A = pk_mat_view(p->L + c * d * d, d, d);
        memcpy(A.data, g->covs + c * d * d, d * d * sizeof *A.data);
        int st = pk_cholesky(&A, 1e-10, 8, NULL);
        if (st != PK_OK) {
            pk_cl_prior_free(p);
            return pk_err_set(err, st, "continual prior: covariance of component %zu is not positive definite", c);
        }
        for (size_t i = 0; i < d; i++) /* keep only the lower triangle */
            for (size_t j = i + 1; j < d; j++)
                A.data[i * d + j] = 0;
        double ld = 0;
        for (size_t i = 0; i < d; i++)
            ld += log(A.data[i * d + i]);
        p->logw[c] = log(g->weights[c]);
        p->lognorm[c] = p->logw[c] - ld - 0.5 * (double)d * LOG_2PI;
    }
    *out = p;
    return PK_OK;
}

int pk_cl_prior_fit_gmm(const double *samples, size_t n, size_t dim, size_t max_k, double reg, pk_rng *rng,
                        pk_cl_prior **out, size_t *k_chosen, pk_err *err)
{
    if (!out)
        return pk_err_set(err, PK_EINVAL, "continual prior: output pointer is NULL");
    *out = NULL;
    if (!samples || !rng || dim == 0 || max_k == 0 || !(reg > 0))
        return pk_err_set(err, PK_EINVAL, "continual prior: need samples, an rng, dim >= 1, max_k >= 1, reg > 0");
    if (n < 8)
        return pk_err_set(err, PK_EINVAL, "continual prior: %zu samples are too few to fit a mixture", n);
    for (size_t i = 0; i < n * dim; i++)
        if (!isfinite(samples[i]))
            return pk_err_set(err, PK_EDOM, "continual prior: sample %zu has a non-finite coordinate", i / dim);
    /* random 75/25 split of the draws */
    size_t *perm = malloc(n * sizeof *perm);
    pk_mat *tr = NULL, *va = NULL, *all = NULL;
    int st = PK_OK;
    if (!perm) {
        return pk_err_set(err, PK_ENOMEM, "continual prior: out of memory");
    }
    pk_rng_permutation(rng, perm, n);
    size_t ntr = (3 * n) / 4, nva = n - ntr;
    tr = pk_mat_new(ntr, dim);
    va = pk_mat_new(nva, dim);
    all = pk_mat_new(n, dim);
    if (!tr || !va || !all) {
        st = pk_err_set(err, PK_ENOMEM, "continual prior: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        double *dst = i < ntr ? pk_mat_at(tr, i, 0) : pk_mat_at(va, i - ntr, 0);
        memcpy(dst, samples + perm[i] * dim, dim * sizeof *dst);
        memcpy(pk_mat_at(all, i, 0), samples + i * dim, dim * sizeof *dst);
    }
    size_t best_k = 1;
    double best = -INFINITY;
    for (size_t k = 1; k <= max_k && k <= ntr / 2; k *= 2) {
        pk_gmm_params gp = pk_gmm_params_default(k);
        gp.reg_covar = reg;
        gp.max_iter = 200;
        pk_gmm *g = NULL;
        if (pk_gmm_fit(tr, &gp, rng, &g, NULL) != PK_OK)
            continue; /* a size that cannot be fitted is simply not chosen */
        double s = -INFINITY;
        pk_gmm_score(g, va, &s);
        pk_gmm_free(g);
        if (isfinite(s) && s > best) {
            best = s;
            best_k = k;
        }
    }
    pk_gmm_params gp = pk_gmm_params_default(best_k);
    gp.reg_covar = reg;
    gp.max_iter = 200;
    pk_gmm *g = NULL;
    st = pk_gmm_fit(all, &gp, rng, &g, err);
    if (st == PK_OK) {
        st = from_gmm(g, out, err);
        pk_gmm_free(g);
        if (st == PK_OK && k_chosen)
            *k_chosen = best_k;
    }
done:
    free(perm);
    pk_mat_free(tr);
    pk_mat_free(va);
    pk_mat_free(all);
    return st;
}

double pk_cl_prior_logpdf(const pk_cl_prior *p, const double *theta, double *grad)
{
    if (!p || !theta)
        return NAN;
    size_t d = p->dim;
    if (p->k == 0) {
        double q = 0;
        for (size_t i = 0; i < d; i++) {
            q += theta[i] * theta[i];
            if (grad)
                grad[i] = -p->tau * theta[i];
        }
        return -0.5 * p->tau * q + 0.5 * (double)d * (log(p->tau) - LOG_2PI);
    }
    /* log sum_k exp(l_k): responsibilities r_k weight the component gradients */
    double *z = malloc(2 * d * sizeof *z), *lk = malloc(p->k * sizeof *lk);
    if (!z || !lk) {
        free(z);
        free(lk);
        return NAN;
    }
    double *u = z + d;
    double mx = -INFINITY;
    for (size_t c = 0; c < p->k; c++) {
        const double *L = p->L + c * d * d, *mu = p->mu + c * d;
        double q = 0;
        for (size_t i = 0; i < d; i++) { /* forward substitution L z = theta - mu */
            double s = theta[i] - mu[i];
            const double *row = L + i * d;
            for (size_t j = 0; j < i; j++)
                s -= row[j] * z[j];
            z[i] = s / row[i];
            q += z[i] * z[i];
        }
        lk[c] = p->lognorm[c] - 0.5 * q;
        if (lk[c] > mx)
            mx = lk[c];
    }
    double s = 0;
    for (size_t c = 0; c < p->k; c++)
        s += exp(lk[c] - mx);
    double lp = mx + log(s);
    if (grad) {
        memset(grad, 0, d * sizeof *grad);
        for (size_t c = 0; c < p->k; c++) {
            double r = exp(lk[c] - lp);
            if (r < 1e-300)
                continue;
            const double *L = p->L + c * d * d, *mu = p->mu + c * d;
            for (size_t i = 0; i < d; i++) {
                double t = theta[i] - mu[i];
                const double *row = L + i * d;
                for (size_t j = 0; j < i; j++)
                    t -= row[j] * z[j];
                z[i] = t / row[i];
            }
            for (size_t ii = d; ii-- > 0;) { /* back substitution L' u = z */
                double t = z[ii];
                for (size_t j = ii + 1; j < d; j++)
                    t -= L[j * d + ii] * u[j];
                u[ii] = t / L[ii * d + ii];
            }
            for (size_t i = 0; i < d; i++)
                grad[i] -= r * u[i];
        }
    }
    free(z);
    free(lk);
    return lp;
}

int pk_cl_prior_sample(const pk_cl_prior *p, size_t n, pk_rng *rng, double *out)
{
    if (!p || !rng || (n && !out))
        return PK_EINVAL;
    size_t d = p->dim;
    for (size_t s = 0; s < n; s++) {
        double *x = out + s * d;
        if (p->k == 0) {
            for (size_t i = 0; i < d; i++)
                x[i] = pk_rng_normal(rng) / sqrt(p->tau);
            continue;
        }
        double u = pk_rng_uniform(rng), acc = 0;
        size_t c = p->k - 1;
        for (size_t j = 0; j < p->k; j++) {
            acc += exp(p->logw[j]);
            if (u < acc) {
                c = j;
                break;
            }
        }
        const double *L = p->L + c * d * d, *mu = p->mu + c * d;
        for (size_t i = 0; i < d; i++)
            x[i] = mu[i];
        for (size_t j = 0; j < d; j++) { /* x = mu + L eps, one column at a time */
            double eps = pk_rng_normal(rng);
            for (size_t i = j; i < d; i++)
                x[i] += L[i * d + j] * eps;
        }
    }
    return PK_OK;
}
