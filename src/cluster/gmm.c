/* Gaussian mixtures by EM (full / diagonal / spherical / tied), in log space. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_priv.h"
#include "probkit/cluster.h"

#define LOG_2PI 1.8378770664093454836

pk_gmm_params pk_gmm_params_default(size_t k)
{
    pk_gmm_params p;
    memset(&p, 0, sizeof p);
    p.k = k;
    p.cov = PK_GMM_FULL;
    p.reg_covar = 1e-6;
    p.max_iter = 100;
    p.tol = 1e-3;
    p.n_init = 1;
    p.init = PK_GMM_INIT_KMEANS;
    return p;
}

int pk_gmm_params_check(const pk_gmm_params *p, size_t n, size_t d, pk_err *err)
{
    if (!p)
        return pk_err_set(err, PK_EINVAL, "gmm: no parameters");
    if (p->k < 1)
        return pk_err_set(err, PK_EINVAL, "gmm: k must be >= 1");
    if (n < p->k)
        return pk_err_set(err, PK_EINVAL, "gmm: fewer points (%zu) than components (k = %zu)", n, p->k);
    if (d < 1)
        return pk_err_set(err, PK_EINVAL, "gmm: data have no columns");
    if ((unsigned)p->cov > PK_GMM_TIED)
        return pk_err_set(err, PK_EINVAL, "gmm: unknown covariance type %d", (int)p->cov);
    if (!(p->reg_covar >= 0) || !isfinite(p->reg_covar))
        return pk_err_set(err, PK_EINVAL, "gmm: reg_covar must be finite and >= 0");
    if (p->max_iter < 1 || p->n_init < 1)
        return pk_err_set(err, PK_EINVAL, "gmm: max_iter and n_init must be >= 1");
    if (!(p->tol >= 0))
        return pk_err_set(err, PK_EINVAL, "gmm: tol must be >= 0");
    if (p->init == PK_GMM_INIT_GIVEN && (!p->init_weights || !p->init_means || !p->init_covs))
        return pk_err_set(err, PK_EINVAL, "gmm: init = given needs init_weights, init_means and init_covs");
    return PK_OK;
}

static size_t cov_size(pk_gmm_cov c, size_t k, size_t d)
{
    switch (c) {
    case PK_GMM_FULL: return k * d * d;
    case PK_GMM_DIAG: return k * d;
    case PK_GMM_SPHERICAL: return k;
    default: return d * d;
    }
}

void pk_gmm_free(pk_gmm *g)
{
    if (!g)
        return;
    free(g->weights);
    free(g->means);
    free(g->covs);
    free(g->chol);
    free(g);
}

static pk_gmm *gmm_alloc(size_t k, size_t d, pk_gmm_cov cov)
{
    pk_gmm *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->k = k;
    g->d = d;
    g->cov = cov;
    size_t cs = cov_size(cov, k, d);
    g->weights = malloc(k * sizeof(double));
    g->means = malloc(k * d * sizeof(double));
    g->covs = malloc(cs * sizeof(double));
    g->chol = malloc(cs * sizeof(double));
    if (!g->weights || !g->means || !g->covs || !g->chol) {
        pk_gmm_free(g);
        return NULL;
    }
    return g;
}

/* Factor the covariances into g->chol; PK_ESING if one is not positive definite. */
static int gmm_factor(pk_gmm *g)
{
    size_t k = g->k, d = g->d;
    if (g->cov == PK_GMM_FULL || g->cov == PK_GMM_TIED) {
        size_t nm = g->cov == PK_GMM_FULL ? k : 1;
        memcpy(g->chol, g->covs, nm * d * d * sizeof(double));
        for (size_t j = 0; j < nm; j++) {
            pk_mat L = pk_mat_view(g->chol + j * d * d, d, d);
            if (pk_cholesky(&L, 0, 0, NULL) != PK_OK)
                return PK_ESING;
        }
        return PK_OK;
    }
    size_t cs = cov_size(g->cov, k, d);
    for (size_t j = 0; j < cs; j++) {
        if (!(g->covs[j] > 0) || !isfinite(g->covs[j]))
            return PK_ESING;
        g->chol[j] = sqrt(g->covs[j]);
    }
    return PK_OK;
}

/* logp (n x k) <- log N(x_i | mu_j, Sigma_j) (without the weights). buf: n x d scratch. */
static void gmm_log_gauss(const pk_gmm *g, const pk_mat *X, double *logp, double *buf)
{
    size_t n = X->rows, d = g->d, k = g->k;
    for (size_t j = 0; j < k; j++) {
        const double *mu = g->means + j * d;
        if (g->cov == PK_GMM_FULL || g->cov == PK_GMM_TIED) {
            const double *L = g->chol + (g->cov == PK_GMM_FULL ? j * d * d : 0);
            double logdet = 0;
            for (size_t t = 0; t < d; t++)
                logdet += log(L[t * d + t]);
#if defined(_OPENMP)
#pragma omp parallel for schedule(static)
#endif
            for (size_t i = 0; i < n; i++) {
                const double *x = pk_mat_at(X, i, 0);
                for (size_t t = 0; t < d; t++)
                    buf[i * d + t] = x[t] - mu[t];
            }
            /* rows y_i = L^{-1} (x_i - mu): B <- B L^{-T} */
            cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, (int)n, (int)d, 1.0, L,
                        (int)d, buf, (int)d);
#if defined(_OPENMP)
#pragma omp parallel for schedule(static)
#endif
            for (size_t i = 0; i < n; i++) {
                double s = 0;
                for (size_t t = 0; t < d; t++)
                    s += buf[i * d + t] * buf[i * d + t];
                logp[i * k + j] = -0.5 * ((double)d * LOG_2PI + s) - logdet;
            }
        } else {
            const double *sd = g->chol + (g->cov == PK_GMM_DIAG ? j * d : j);
            double logdet = 0;
            for (size_t t = 0; t < d; t++)
                logdet += log(g->cov == PK_GMM_DIAG ? sd[t] : sd[0]);
#if defined(_OPENMP)
#pragma omp parallel for schedule(static)
#endif
            for (size_t i = 0; i < n; i++) {
                const double *x = pk_mat_at(X, i, 0);
                double s = 0;
                for (size_t t = 0; t < d; t++) {
                    double e = (x[t] - mu[t]) / (g->cov == PK_GMM_DIAG ? sd[t] : sd[0]);
                    s += e * e;
                }
                logp[i * k + j] = -0.5 * ((double)d * LOG_2PI + s) - logdet;
            }
        }
    }
}

/* E-step: resp (n x k) <- posterior probabilities; logp_row (may be NULL) <- log p(x_i).
 * Returns the mean log-likelihood. */
static double gmm_estep(const pk_gmm *g, const pk_mat *X, double *resp, double *buf, double *logp_row)
{
    size_t n = X->rows, k = g->k;
    gmm_log_gauss(g, X, resp, buf);
    double tot = 0;
#if defined(_OPENMP)
#pragma omp parallel for reduction(+ : tot) schedule(static)
#endif
    for (size_t i = 0; i < n; i++) {
        double *r = resp + i * k;
        for (size_t j = 0; j < k; j++)
            r[j] += log(g->weights[j]);
        double lse = pk_softmax(r, k);
        if (logp_row)
            logp_row[i] = lse;
        tot += lse;
    }
    return tot / (double)n;
}

/* M-step from responsibilities with ridge `reg`. */
static int gmm_mstep(pk_gmm *g, const pk_mat *X, const double *resp, double reg, double *buf)
{
    size_t n = X->rows, d = g->d, k = g->k;
    double eps10 = 10 * 2.220446049250313e-16;
    double *nk = g->weights;
    for (size_t j = 0; j < k; j++)
        nk[j] = eps10;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++)
            nk[j] += resp[i * k + j];
    /* means = resp^T X / nk */
    memset(g->means, 0, k * d * sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, (int)d, (int)n, 1.0, resp, (int)k, X->data,
                (int)X->stride, 0.0, g->means, (int)d);
    for (size_t j = 0; j < k; j++)
        for (size_t t = 0; t < d; t++)
            g->means[j * d + t] /= nk[j];
    if (g->cov == PK_GMM_FULL || g->cov == PK_GMM_TIED) {
        if (g->cov == PK_GMM_TIED)
            memset(g->covs, 0, d * d * sizeof(double));
        for (size_t j = 0; j < k; j++) {
            const double *mu = g->means + j * d;
#if defined(_OPENMP)
#pragma omp parallel for schedule(static)
#endif
            for (size_t i = 0; i < n; i++) {
                const double *x = pk_mat_at(X, i, 0);
                double s = sqrt(resp[i * k + j]);
                for (size_t t = 0; t < d; t++)
                    buf[i * d + t] = s * (x[t] - mu[t]);
            }
            double *C = g->cov == PK_GMM_FULL ? g->covs + j * d * d : g->covs;
            double alpha = g->cov == PK_GMM_FULL ? 1.0 / nk[j] : 1.0 / (double)n;
            cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (int)d, (int)n, alpha, buf, (int)d,
                        g->cov == PK_GMM_FULL ? 0.0 : 1.0, C, (int)d);
        }
        size_t nm = g->cov == PK_GMM_FULL ? k : 1;
        for (size_t j = 0; j < nm; j++) {
            double *C = g->covs + j * d * d;
            for (size_t a = 0; a < d; a++) {
                C[a * d + a] += reg;
                for (size_t b = a + 1; b < d; b++)
                    C[a * d + b] = C[b * d + a];
            }
        }
    } else {
        for (size_t j = 0; j < k; j++) {
            const double *mu = g->means + j * d;
            double *v = buf; /* d accumulators */
            memset(v, 0, d * sizeof(double));
            for (size_t i = 0; i < n; i++) {
                const double *x = pk_mat_at(X, i, 0);
                double r = resp[i * k + j];
                for (size_t t = 0; t < d; t++) {
                    double e = x[t] - mu[t];
                    v[t] += r * e * e;
                }
            }
            if (g->cov == PK_GMM_DIAG) {
                for (size_t t = 0; t < d; t++)
                    g->covs[j * d + t] = v[t] / nk[j] + reg;
            } else {
                double s = 0;
                for (size_t t = 0; t < d; t++)
                    s += v[t] / nk[j] + reg;
                g->covs[j] = s / (double)d;
            }
        }
    }
    for (size_t j = 0; j < k; j++)
        nk[j] /= (double)n;
    return gmm_factor(g);
}

/* M-step with ridge escalation: 10x per try, up to 1e6 x the start. */
static int gmm_mstep_reg(pk_gmm *g, const pk_mat *X, const double *resp, double reg0, double scale, double *buf,
                         pk_err *err)
{
    double reg = g->reg_used > reg0 ? g->reg_used : reg0;
    double start = reg > 0 ? reg : 1e-6 * scale;
    for (int t = 0; t < 8; t++) {
        if (gmm_mstep(g, X, resp, reg, buf) == PK_OK) {
            g->reg_used = reg;
            return PK_OK;
        }
        reg = (reg > 0 ? reg : start / 10) * 10;
        if (reg > start * 1e6)
            break;
    }
    return pk_err_set(err, PK_ESING,
                      "gmm: a component covariance is singular even with reg_covar = %g (constant columns or "
                      "duplicate points? try a larger reg_covar or fewer components)",
                      reg);
}

static int gmm_run(pk_gmm *g, const pk_mat *X, const pk_gmm_params *p, double *resp, double *buf, double scale,
                   pk_err *err)
{
    double lb = -INFINITY;
    g->converged = 0;
    int it;
    for (it = 1; it <= p->max_iter; it++) {
        double prev = lb;
        lb = gmm_estep(g, X, resp, buf, NULL);
        int st = gmm_mstep_reg(g, X, resp, p->reg_covar, scale, buf, err);
        if (st)
            return st;
        if (fabs(lb - prev) < p->tol) {
            g->converged = 1;
            break;
        }
    }
    g->n_iter = it > p->max_iter ? p->max_iter : it;
    g->lower_bound = lb;
    if (!isfinite(lb))
        return pk_err_set(err, PK_EDOM, "gmm: the log-likelihood is not finite (%g)", lb);
    return PK_OK;
}

static int gmm_init(pk_gmm *g, const pk_mat *X, const pk_gmm_params *p, pk_rng *rng, double *resp, double *buf,
                    double scale, pk_err *err)
{
    size_t n = X->rows, k = g->k, d = g->d;
    g->reg_used = p->reg_covar;
    if (p->init == PK_GMM_INIT_GIVEN) {
        memcpy(g->weights, p->init_weights, k * sizeof(double));
        memcpy(g->means, p->init_means, k * d * sizeof(double));
        memcpy(g->covs, p->init_covs, cov_size(g->cov, k, d) * sizeof(double));
        if (gmm_factor(g))
            return pk_err_set(err, PK_ESING, "gmm: the given initial covariances are not positive definite");
        return PK_OK;
    }
    if (p->init == PK_GMM_INIT_RANDOM) {
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t j = 0; j < k; j++)
                s += resp[i * k + j] = pk_rng_uniform(rng);
            for (size_t j = 0; j < k; j++)
                resp[i * k + j] /= s;
        }
    } else {
        pk_kmeans_params kp = pk_kmeans_params_default(k);
        pk_kmeans *km = NULL;
        int st = pk_kmeans_fit(X, &kp, rng, &km, err);
        if (st)
            return st;
        memset(resp, 0, n * k * sizeof(double));
        for (size_t i = 0; i < n; i++)
            resp[i * k + (size_t)km->labels[i]] = 1;
        pk_kmeans_free(km);
    }
    return gmm_mstep_reg(g, X, resp, p->reg_covar, scale, buf, err);
}

int pk_gmm_fit(const pk_mat *X, const pk_gmm_params *p, pk_rng *rng, pk_gmm **out, pk_err *err)
{
    if (!X || !out || !rng)
        return pk_err_set(err, PK_EINVAL, "gmm: NULL argument");
    *out = NULL;
    size_t n = X->rows, d = X->cols;
    int st = pk_gmm_params_check(p, n, d, err);
    if (!st)
        st = pk_cluster_check_finite(X, "gmm", err);
    if (st)
        return st;
    size_t k = p->k;
    double scale = pk_cluster_mean_var(X);
    if (!(scale > 0))
        scale = 1;
    pk_gmm *best = NULL, *g = NULL;
    double *resp = malloc(n * k * sizeof(double)), *buf = malloc((n * d + d) * sizeof(double));
    if (!resp || !buf) {
        st = pk_err_set(err, PK_ENOMEM, "gmm: out of memory (n = %zu, d = %zu, k = %zu)", n, d, k);
        goto done;
    }
    int n_init = p->init == PK_GMM_INIT_GIVEN ? 1 : p->n_init;
    for (int r = 0; r < n_init; r++) {
        g = gmm_alloc(k, d, p->cov);
        if (!g) {
            st = pk_err_set(err, PK_ENOMEM, "gmm: out of memory");
            goto done;
        }
        st = gmm_init(g, X, p, rng, resp, buf, scale, err);
        if (!st)
            st = gmm_run(g, X, p, resp, buf, scale, err);
        if (st)
            goto done;
        if (!best || g->lower_bound > best->lower_bound) {
            pk_gmm_free(best);
            best = g;
        } else {
            pk_gmm_free(g);
        }
        g = NULL;
    }
    *out = best;
    best = NULL;
done:
    pk_gmm_free(g);
    pk_gmm_free(best);
    free(resp);
    free(buf);
    return st;
}

int pk_gmm_refit(pk_gmm *g, const pk_mat *X, const pk_gmm_params *p, pk_err *err)
{
    if (!g || !X || !p)
        return pk_err_set(err, PK_EINVAL, "gmm: NULL argument");
    if (X->cols != g->d || p->k != g->k || p->cov != g->cov)
        return pk_err_set(err, PK_ESHAPE, "gmm: warm start needs the same d, k and covariance type");
    int st = pk_cluster_check_finite(X, "gmm", err);
    if (st)
        return st;
    size_t n = X->rows, d = X->cols;
    double *resp = malloc(n * g->k * sizeof(double)), *buf = malloc((n * d + d) * sizeof(double));
    if (!resp || !buf) {
        free(resp);
        free(buf);
        return pk_err_set(err, PK_ENOMEM, "gmm: out of memory");
    }
    double scale = pk_cluster_mean_var(X);
    st = gmm_run(g, X, p, resp, buf, scale > 0 ? scale : 1, err);
    free(resp);
    free(buf);
    return st;
}

static int gmm_eval(const pk_gmm *g, const pk_mat *X, double *resp_out, double *logp_row, double *mean)
{
    if (!g || !X)
        return PK_EINVAL;
    if (X->cols != g->d)
        return PK_ESHAPE;
    size_t n = X->rows;
    double *resp = resp_out ? resp_out : malloc((n * g->k + 1) * sizeof(double));
    double *buf = malloc((n * g->d + 1) * sizeof(double));
    if (!resp || !buf) {
        if (!resp_out)
            free(resp);
        free(buf);
        return PK_ENOMEM;
    }
    double m = n ? gmm_estep(g, X, resp, buf, logp_row) : 0;
    if (mean)
        *mean = m;
    if (!resp_out)
        free(resp);
    free(buf);
    return PK_OK;
}

int pk_gmm_score_samples(const pk_gmm *g, const pk_mat *X, double *logp) { return gmm_eval(g, X, NULL, logp, NULL); }
int pk_gmm_score(const pk_gmm *g, const pk_mat *X, double *mean_logp) { return gmm_eval(g, X, NULL, NULL, mean_logp); }
int pk_gmm_predict_proba(const pk_gmm *g, const pk_mat *X, double *resp) { return gmm_eval(g, X, resp, NULL, NULL); }

int pk_gmm_predict(const pk_gmm *g, const pk_mat *X, int32_t *labels)
{
    if (!g || !X || !labels)
        return PK_EINVAL;
    double *resp = malloc((X->rows * g->k + 1) * sizeof(double));
    if (!resp)
        return PK_ENOMEM;
    int st = gmm_eval(g, X, resp, NULL, NULL);
    for (size_t i = 0; !st && i < X->rows; i++) {
        size_t bj = 0;
        for (size_t j = 1; j < g->k; j++)
            if (resp[i * g->k + j] > resp[i * g->k + bj])
                bj = j;
        labels[i] = (int32_t)bj;
    }
    free(resp);
    return st;
}

int pk_gmm_sample(const pk_gmm *g, size_t n, pk_rng *rng, double *x, int32_t *comp)
{
    if (!g || !rng || (!x && n))
        return PK_EINVAL;
    size_t d = g->d;
    double *z = malloc((d + 1) * sizeof(double));
    if (!z)
        return PK_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t j = pk_rng_categorical(rng, g->weights, g->k);
        if (j >= g->k)
            j = g->k - 1;
        if (comp)
            comp[i] = (int32_t)j;
        for (size_t t = 0; t < d; t++)
            z[t] = pk_rng_normal(rng);
        double *xi = x + i * d;
        const double *mu = g->means + j * d;
        if (g->cov == PK_GMM_FULL || g->cov == PK_GMM_TIED) {
            const double *L = g->chol + (g->cov == PK_GMM_FULL ? j * d * d : 0);
            for (size_t a = 0; a < d; a++) {
                double s = 0;
                for (size_t b = 0; b <= a; b++)
                    s += L[a * d + b] * z[b];
                xi[a] = mu[a] + s;
            }
        } else {
            for (size_t a = 0; a < d; a++)
                xi[a] = mu[a] + (g->cov == PK_GMM_DIAG ? g->chol[j * d + a] : g->chol[j]) * z[a];
        }
    }
    free(z);
    return PK_OK;
}

size_t pk_gmm_n_params(const pk_gmm *g)
{
    size_t k = g->k, d = g->d, c;
    switch (g->cov) {
    case PK_GMM_FULL: c = k * d * (d + 1) / 2; break;
    case PK_GMM_DIAG: c = k * d; break;
    case PK_GMM_SPHERICAL: c = k; break;
    default: c = d * (d + 1) / 2; break;
    }
    return c + k * d + k - 1;
}

int pk_gmm_bic(const pk_gmm *g, const pk_mat *X, double *bic)
{
    double s;
    int st = pk_gmm_score(g, X, &s);
    if (!st)
        *bic = -2 * s * (double)X->rows + (double)pk_gmm_n_params(g) * log((double)X->rows);
    return st;
}

int pk_gmm_aic(const pk_gmm *g, const pk_mat *X, double *aic)
{
    double s;
    int st = pk_gmm_score(g, X, &s);
    if (!st)
        *aic = -2 * s * (double)X->rows + 2.0 * (double)pk_gmm_n_params(g);
    return st;
}
