/* Gaussian mixtures by EM (full / diagonal / spherical / tied), in log space. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_priv.h"
#include "probkit/cluster.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

#define LOG_2PI 1.8378770664093454836

/* gmm_kernels.c: out[i*8 + c] = sum_{t < nt} a[i*si + t*st] * b[t*ldb + c] (i < 4, c < 8) */
typedef void (*pk_gmm_mk4x8_fn)(const double *a, size_t si, size_t st, const double *b, size_t ldb, size_t nt,
                                double *out);
pk_gmm_mk4x8_fn pk_gmm_pick_mk4x8(void);

/* Rows per block in the full/tied kernels: a block's centred copies (2 x 64 x dp doubles) stay in
 * cache while every component goes over them. */
#define GMM_RB 64

static int gmm_nthreads(void)
{
#if defined(_OPENMP)
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static int gmm_tid(void)
{
#if defined(_OPENMP)
    return omp_get_thread_num();
#else
    return 0;
#endif
}

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

/* Factor the covariances into g->chol; PK_ESING if one is not positive definite, or so close to
 * singular (a pivot below 1e-12 of the largest variance, e.g. a constant column) that its
 * density would be meaningless. */
static int gmm_factor(pk_gmm *g)
{
    size_t k = g->k, d = g->d;
    if (g->cov == PK_GMM_FULL || g->cov == PK_GMM_TIED) {
        size_t nm = g->cov == PK_GMM_FULL ? k : 1;
        memcpy(g->chol, g->covs, nm * d * d * sizeof(double));
        for (size_t j = 0; j < nm; j++) {
            double *Lj = g->chol + j * d * d, mx = 0;
            for (size_t t = 0; t < d; t++)
                if (Lj[t * d + t] > mx)
                    mx = Lj[t * d + t];
            pk_mat L = pk_mat_view(Lj, d, d);
            if (!(mx > 0) || pk_cholesky(&L, 0, 0, NULL) != PK_OK)
                return PK_ESING;
            for (size_t t = 0; t < d; t++)
                if (!(Lj[t * d + t] * Lj[t * d + t] > 1e-12 * mx))
                    return PK_ESING;
        }
        return PK_OK;
    }
    size_t cs = cov_size(g->cov, k, d), per = g->cov == PK_GMM_DIAG ? d : 1;
    for (size_t j = 0; j < cs; j += per) {
        double mx = 0;
        for (size_t t = 0; t < per; t++)
            if (g->covs[j + t] > mx)
                mx = g->covs[j + t];
        for (size_t t = 0; t < per; t++) {
            double v = g->covs[j + t];
            if (!(v > 1e-12 * mx) || !isfinite(v))
                return PK_ESING;
            g->chol[j + t] = sqrt(v);
        }
    }
    return PK_OK;
}

/* DIAG/SPHERICAL: logp (n x k) <- log N(x_i | mu_j, Sigma_j) (without the weights). */
static void gmm_log_gauss(const pk_gmm *g, const pk_mat *X, double *logp)
{
    size_t n = X->rows, d = g->d, k = g->k;
    for (size_t j = 0; j < k; j++) {
        const double *mu = g->means + j * d;
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

/* Precision factors U_j = L_j^{-T} (upper triangular, d x dp, zero padded to dp columns), so
 * |(x - mu_j) U_j|^2 is the Mahalanobis distance, and log det L_j. */
static void gmm_prec(const pk_gmm *g, size_t nm, size_t dp, double *U, double *logdet)
{
    size_t d = g->d;
    for (size_t j = 0; j < nm; j++) {
        const double *L = g->chol + j * d * d;
        double *Uj = U + j * d * dp, ld = 0;
        memset(Uj, 0, d * dp * sizeof(double));
        /* row c of U_j is column c of L^{-1}, by forward substitution */
        for (size_t c = 0; c < d; c++)
            for (size_t i = c; i < d; i++) {
                double s = i == c ? 1.0 : 0.0;
                for (size_t m = c; m < i; m++)
                    s -= L[i * d + m] * Uj[c * dp + m];
                Uj[c * dp + i] = s / L[i * d + i];
            }
        for (size_t t = 0; t < d; t++)
            ld += log(L[t * d + t]);
        logdet[j] = ld;
    }
}

/* Full/tied E-step body: resp <- log N + log w per row block, then softmax; returns the sum of
 * log p(x_i) over the local rows, NAN when out of memory. */
static double gmm_estep_full(const pk_gmm *g, const pk_mat *X, double *resp, double *logp_row)
{
    size_t n = X->rows, d = g->d, k = g->k, dp = (d + 7) / 8 * 8;
    size_t nm = g->cov == PK_GMM_FULL ? k : 1, nb = (n + GMM_RB - 1) / GMM_RB;
    double *U = malloc((nm * d * dp + 2 * k) * sizeof(double));
    if (!U)
        return NAN;
    double *logdet = U + nm * d * dp, *logw = logdet + nm;
    gmm_prec(g, nm, dp, U, logdet);
    for (size_t j = 0; j < k; j++)
        logw[j] = log(g->weights[j]);
    pk_gmm_mk4x8_fn mk = pk_gmm_pick_mk4x8();
    double tot = 0;
    int fail = 0;
#if defined(_OPENMP)
#pragma omp parallel reduction(+ : tot, fail)
#endif
    {
        double *xc = calloc(4 * dp, sizeof(double)), out[32];
        fail += !xc;
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
        for (size_t b = 0; b < nb; b++) {
            size_t i1 = (b + 1) * GMM_RB < n ? (b + 1) * GMM_RB : n;
            for (size_t i = b * GMM_RB; xc && i < i1; i += 4) {
                size_t m = i1 - i < 4 ? i1 - i : 4;
                for (size_t j = 0; j < k; j++) {
                    size_t jm = nm == 1 ? 0 : j;
                    const double *mu = g->means + j * d, *Uj = U + jm * d * dp;
                    for (size_t r = 0; r < 4; r++) {
                        const double *x = pk_mat_at(X, i + (r < m ? r : m - 1), 0);
                        for (size_t t = 0; t < d; t++)
                            xc[r * dp + t] = x[t] - mu[t];
                    }
                    double s[4] = {0, 0, 0, 0};
                    for (size_t c0 = 0; c0 < d; c0 += 8) {
                        /* U is upper triangular: columns c0..c0+7 need rows t < c0 + 8 only */
                        mk(xc, dp, 1, Uj + c0, dp, c0 + 8 < d ? c0 + 8 : d, out);
                        for (size_t r = 0; r < 4; r++)
                            for (size_t c = 0; c < 8; c++)
                                s[r] += out[r * 8 + c] * out[r * 8 + c];
                    }
                    for (size_t r = 0; r < m; r++)
                        resp[(i + r) * k + j] = (-0.5 * ((double)d * LOG_2PI + s[r]) - logdet[jm]) + logw[j];
                }
                for (size_t r = 0; r < m; r++) {
                    double lse = pk_softmax(resp + (i + r) * k, k);
                    if (logp_row)
                        logp_row[i + r] = lse;
                    tot += lse;
                }
            }
        }
        free(xc);
    }
    free(U);
    return fail ? NAN : tot;
}

/* E-step: resp (n x k) <- posterior probabilities; logp_row (may be NULL) <- log p(x_i).
 * Returns the mean log-likelihood. */
static double gmm_estep(const pk_gmm *g, const pk_mat *X, double *resp, double *buf, double *logp_row,
                        const pk_allreduce *red)
{
    size_t n = X->rows, k = g->k;
    if (g->cov == PK_GMM_FULL || g->cov == PK_GMM_TIED) {
        double tn[2] = {gmm_estep_full(g, X, resp, logp_row), (double)n};
        if (pk_red_sum(red, tn, 2))
            return NAN;
        return tn[0] / tn[1];
    }
    gmm_log_gauss(g, X, resp);
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
    double tn[2] = {tot, (double)n};
    if (pk_red_sum(red, tn, 2))
        return NAN;
    return tn[0] / tn[1];
}

/* nk[j] = sum_i resp_ij and S (k x d) = resp^T X over the local rows: per-thread partial sums
 * over static row blocks, added in thread order. */
static int gmm_sums(const pk_mat *X, const double *resp, size_t k, double *nk, double *S)
{
    size_t n = X->rows, d = X->cols, w = k + k * d, nb = (n + GMM_RB - 1) / GMM_RB;
    int nt = gmm_nthreads();
    double *acc = calloc((size_t)nt * w, sizeof(double));
    if (!acc)
        return PK_ENOMEM;
#if defined(_OPENMP)
#pragma omp parallel num_threads(nt)
#endif
    {
        double *a = acc + (size_t)gmm_tid() * w;
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
        for (size_t b = 0; b < nb; b++) {
            size_t i1 = (b + 1) * GMM_RB < n ? (b + 1) * GMM_RB : n;
            for (size_t i = b * GMM_RB; i < i1; i++) {
                const double *x = pk_mat_at(X, i, 0), *r = resp + i * k;
                for (size_t j = 0; j < k; j++) {
                    double *s = a + k + j * d, rj = r[j];
                    a[j] += rj;
                    for (size_t t = 0; t < d; t++)
                        s[t] += rj * x[t];
                }
            }
        }
    }
    memcpy(nk, acc, k * sizeof(double));
    memcpy(S, acc + k, k * d * sizeof(double));
    for (int th = 1; th < nt; th++) {
        const double *a = acc + (size_t)th * w;
        for (size_t j = 0; j < k; j++)
            nk[j] += a[j];
        for (size_t t = 0; t < k * d; t++)
            S[t] += a[k + t];
    }
    free(acc);
    return PK_OK;
}

/* g->covs <- raw scatter sum_i r_ij (x_i - mu_j)(x_i - mu_j)^T over the local rows (lower
 * triangle; FULL per component, TIED summed over components).  Per row block and component,
 * W = r (x - mu) and Z = x - mu (GMM_RB x dp, zero padded) go through the 4 x 8 kernel into
 * per-thread dp x dp accumulators, added in thread order. */
static int gmm_scatter(pk_gmm *g, const pk_mat *X, const double *resp)
{
    size_t n = X->rows, d = g->d, k = g->k, dp = (d + 7) / 8 * 8;
    size_t nm = g->cov == PK_GMM_FULL ? k : 1, nb = (n + GMM_RB - 1) / GMM_RB, w = nm * dp * dp;
    int nt = gmm_nthreads(), fail = 0;
    double *acc = calloc((size_t)nt * w, sizeof(double));
    if (!acc)
        return PK_ENOMEM;
    pk_gmm_mk4x8_fn mk = pk_gmm_pick_mk4x8();
#if defined(_OPENMP)
#pragma omp parallel num_threads(nt) reduction(+ : fail)
#endif
    {
        double *a = acc + (size_t)gmm_tid() * w, out[32];
        double *W = calloc(2 * GMM_RB * dp, sizeof(double)), *Z = W ? W + GMM_RB * dp : NULL;
        fail += !W;
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
        for (size_t b = 0; b < nb; b++) {
            size_t i0 = b * GMM_RB, m = n - i0 < GMM_RB ? n - i0 : GMM_RB;
            for (size_t j = 0; W && j < k; j++) {
                const double *mu = g->means + j * d;
                double *C = a + (nm == 1 ? 0 : j * dp * dp);
                for (size_t r = 0; r < m; r++) {
                    const double *x = pk_mat_at(X, i0 + r, 0);
                    double rj = resp[(i0 + r) * k + j];
                    for (size_t t = 0; t < d; t++) {
                        double e = x[t] - mu[t];
                        Z[r * dp + t] = e;
                        W[r * dp + t] = rj * e;
                    }
                }
                /* a short last block: the kernel reads rows < m only */
                for (size_t a0 = 0; a0 < d; a0 += 4)
                    for (size_t c0 = 0; c0 < a0 + 4 && c0 < d; c0 += 8) {
                        mk(W + a0, 1, dp, Z + c0, dp, m, out);
                        for (size_t i = 0; i < 4; i++)
                            for (size_t c = 0; c < 8; c++)
                                C[(a0 + i) * dp + c0 + c] += out[i * 8 + c];
                    }
            }
        }
        free(W);
    }
    if (fail) {
        free(acc);
        return PK_ENOMEM;
    }
    for (int th = 1; th < nt; th++)
        for (size_t t = 0; t < w; t++)
            acc[t] += acc[(size_t)th * w + t];
    for (size_t j = 0; j < nm; j++)
        for (size_t r = 0; r < d; r++)
            for (size_t c = 0; c <= r; c++)
                g->covs[j * d * d + r * d + c] = acc[j * dp * dp + r * dp + c];
    free(acc);
    return PK_OK;
}

/* M-step from responsibilities with ridge `reg`. */
static int gmm_mstep(pk_gmm *g, const pk_mat *X, const double *resp, double reg, double *buf,
                     const pk_allreduce *red)
{
    size_t n = X->rows, d = g->d, k = g->k;
    double eps10 = 10 * 2.220446049250313e-16;
    double *nk = g->weights;
    int split = pk_red_split(red);
    if (gmm_sums(X, resp, k, nk, g->means))
        return PK_ENOMEM;
    double N = (double)n;
    if (split) {
        /* nk and the weighted sums travel together through buf (k + k d + 1 doubles) */
        memcpy(buf, nk, k * sizeof(double));
        memcpy(buf + k, g->means, k * d * sizeof(double));
        buf[k + k * d] = N;
        if (pk_red_sum(red, buf, k + k * d + 1))
            return PK_EIO;
        memcpy(nk, buf, k * sizeof(double));
        memcpy(g->means, buf + k, k * d * sizeof(double));
        N = buf[k + k * d];
    }
    for (size_t j = 0; j < k; j++)
        nk[j] += eps10;
    for (size_t j = 0; j < k; j++)
        for (size_t t = 0; t < d; t++)
            g->means[j * d + t] /= nk[j];
    if (g->cov == PK_GMM_FULL || g->cov == PK_GMM_TIED) {
        /* raw scatter (lower triangle), reduced across participants, then normalised */
        if (gmm_scatter(g, X, resp))
            return PK_ENOMEM;
        size_t nm = g->cov == PK_GMM_FULL ? k : 1;
        if (split && pk_red_sum(red, g->covs, nm * d * d))
            return PK_EIO;
        for (size_t j = 0; j < nm; j++) {
            double sc = g->cov == PK_GMM_FULL ? 1.0 / nk[j] : 1.0 / N;
            for (size_t i = 0; i < d * d; i++)
                g->covs[j * d * d + i] *= sc;
        }
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
            /* raw sums into buf's tail area (k x d) */
            memcpy(buf + d + j * d, v, d * sizeof(double));
        }
        double *V = buf + d;
        if (split && pk_red_sum(red, V, k * d))
            return PK_EIO;
        for (size_t j = 0; j < k; j++) {
            if (g->cov == PK_GMM_DIAG) {
                for (size_t t = 0; t < d; t++)
                    g->covs[j * d + t] = V[j * d + t] / nk[j] + reg;
            } else {
                double s = 0;
                for (size_t t = 0; t < d; t++)
                    s += V[j * d + t] / nk[j] + reg;
                g->covs[j] = s / (double)d;
            }
        }
    }
    for (size_t j = 0; j < k; j++)
        nk[j] /= N;
    return gmm_factor(g);
}

/* M-step with ridge escalation: 10x per try, up to 1e6 x the start. */
static int gmm_mstep_reg(pk_gmm *g, const pk_mat *X, const double *resp, double reg0, double scale, double *buf,
                         const pk_allreduce *red, pk_err *err)
{
    double reg = g->reg_used > reg0 ? g->reg_used : reg0;
    double start = reg > 0 ? reg : 1e-6 * scale;
    for (int t = 0; t < 8; t++) {
        int st = gmm_mstep(g, X, resp, reg, buf, red);
        if (st == PK_OK) {
            g->reg_used = reg;
            return PK_OK;
        }
        if (st == PK_EIO)
            return pk_err_set(err, PK_EIO, "gmm: allreduce failed");
        if (st == PK_ENOMEM)
            return pk_err_set(err, PK_ENOMEM, "gmm: out of memory in the M-step");
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
        lb = gmm_estep(g, X, resp, buf, NULL, p->reduce);
        int st = gmm_mstep_reg(g, X, resp, p->reg_covar, scale, buf, p->reduce, err);
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
        kp.reduce = p->reduce;
        pk_kmeans *km = NULL;
        int st = pk_kmeans_fit(X, &kp, rng, &km, err);
        if (st)
            return st;
        memset(resp, 0, n * k * sizeof(double));
        for (size_t i = 0; i < n; i++)
            resp[i * k + (size_t)km->labels[i]] = 1;
        pk_kmeans_free(km);
    }
    return gmm_mstep_reg(g, X, resp, p->reg_covar, scale, buf, p->reduce, err);
}

int pk_gmm_fit(const pk_mat *X, const pk_gmm_params *p, pk_rng *rng, pk_gmm **out, pk_err *err)
{
    if (!X || !out || !rng)
        return pk_err_set(err, PK_EINVAL, "gmm: NULL argument");
    *out = NULL;
    size_t n = X->rows, d = X->cols, N = n, off = 0;
    const pk_allreduce *red = p ? p->reduce : NULL;
    if (pk_red_rows(red, n, &N, &off))
        return pk_err_set(err, PK_EIO, "gmm: allreduce failed");
    int st = pk_gmm_params_check(p, N, d, err);
    if (!st)
        st = pk_cluster_check_finite(X, "gmm", err);
    if (st)
        return st;
    size_t k = p->k;
    double scale = 1;
    if (pk_red_mean_var(red, X, &scale))
        return pk_err_set(err, PK_EIO, "gmm: allreduce failed");
    if (!(scale > 0))
        scale = 1;
    pk_gmm *best = NULL, *g = NULL;
    double *resp = malloc((n * k + 1) * sizeof(double)), *buf = malloc((n * d + d + k * d + k + 1) * sizeof(double));
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
    double *resp = malloc((n * g->k + 1) * sizeof(double)), *buf = malloc((n * d + d + g->k * d + g->k + 1) * sizeof(double));
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
    double *buf = malloc((n * g->d + g->d + g->k * g->d + g->k + 1) * sizeof(double));
    if (!resp || !buf) {
        if (!resp_out)
            free(resp);
        free(buf);
        return PK_ENOMEM;
    }
    double m = n ? gmm_estep(g, X, resp, buf, logp_row, NULL) : 0;
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
