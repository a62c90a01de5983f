/* gp.c — exact GP regression: factorisation, marginal likelihood, prediction. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "gp_priv.h"

pk_gp *pk_gp_new(pk_gp_kernel *kernel, pk_gp_mean_mode mean_mode)
{
    if (!kernel)
        return NULL;
    pk_gp *gp = calloc(1, sizeof *gp);
    if (!gp) {
        pk_gp_kernel_free(kernel);
        return NULL;
    }
    gp->kernel = kernel;
    gp->mean_mode = mean_mode;
    gp->log_noise = log(1e-2);
    gp->noise_floor = 1e-10;
    gp->dim = kernel->dim;
    return gp;
}

void pk_gp_free(pk_gp *gp)
{
    if (!gp)
        return;
    pk_gp_kernel_free(gp->kernel);
    pk_mat_free(gp->X);
    pk_mat_free(gp->L);
    pk_mat_free(gp->W);
    free(gp->y);
    free(gp->alpha);
    free(gp);
}

pk_gp_kernel *pk_gp_kernel_of(pk_gp *gp)
{
    gp->fresh = 0; /* the caller may change parameters through it */
    return gp->kernel;
}

const pk_gp_kernel *pk_gp_kernel_const(const pk_gp *gp) { return gp->kernel; }

size_t pk_gp_nhyper(const pk_gp *gp) { return gp->kernel->np + 1 + (gp->mean_mode == PK_GP_MEAN_CONSTANT); }

void pk_gp_get_hyper(const pk_gp *gp, double *h)
{
    pk_gp_kernel_get_params(gp->kernel, h);
    h[gp->kernel->np] = gp->log_noise;
    if (gp->mean_mode == PK_GP_MEAN_CONSTANT)
        h[gp->kernel->np + 1] = gp->mean;
}

static int params_equal(const pk_gp_kernel *k, const double *theta)
{
    if (k->a)
        return params_equal(k->a, theta) && params_equal(k->b, theta + k->a->np);
    return memcmp(k->theta, theta, k->np * sizeof *theta) == 0;
}

void pk_gp_set_hyper(pk_gp *gp, const double *h)
{
    /* the same point again (a gradient after a value) keeps the factorisation */
    size_t nk = gp->kernel->np;
    if (params_equal(gp->kernel, h) && gp->log_noise == h[nk] &&
        (gp->mean_mode != PK_GP_MEAN_CONSTANT || gp->mean == h[nk + 1]))
        return;
    pk_gp_kernel_set_params(gp->kernel, h);
    gp->log_noise = h[gp->kernel->np];
    if (gp->mean_mode == PK_GP_MEAN_CONSTANT)
        gp->mean = h[gp->kernel->np + 1];
    gp->fresh = 0;
}

void pk_gp_set_mean(pk_gp *gp, double mean)
{
    gp->mean = mean;
    gp->fresh = 0;
}

double pk_gp_get_mean(const pk_gp *gp) { return gp->mean_mode == PK_GP_MEAN_ZERO ? 0.0 : gp->mean; }

void pk_gp_set_noise_floor(pk_gp *gp, double floor)
{
    gp->noise_floor = floor >= 0 ? floor : 0.0;
    gp->fresh = 0;
}

size_t pk_gp_n(const pk_gp *gp) { return gp->n; }
const pk_mat *pk_gp_X(const pk_gp *gp) { return gp->X; }
const double *pk_gp_y(const pk_gp *gp) { return gp->y; }

int pk_gp_set_data(pk_gp *gp, const pk_mat *X, const double *y, pk_err *err)
{
    size_t n = X ? X->rows : 0;
    if (n && X->cols != gp->dim)
        return pk_err_set(err, PK_ESHAPE, "gp: inputs have %zu columns, the kernel expects %zu", X->cols, gp->dim);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]))
            return pk_err_set(err, PK_EDOM, "gp: target %zu is not finite", i);
        for (size_t j = 0; j < gp->dim; j++)
            if (!isfinite(*pk_mat_at(X, i, j)))
                return pk_err_set(err, PK_EDOM, "gp: input (%zu, %zu) is not finite", i, j);
    }
    pk_mat *nX = n ? pk_mat_new(n, gp->dim) : NULL;
    pk_mat *nL = n ? pk_mat_new(n, n) : NULL;
    double *ny = n ? malloc(n * sizeof *ny) : NULL, *na = n ? malloc(n * sizeof *na) : NULL;
    if (n && (!nX || !nL || !ny || !na)) {
        pk_mat_free(nX);
        pk_mat_free(nL);
        free(ny);
        free(na);
        return pk_err_set(err, PK_ENOMEM, "gp: out of memory for %zu points", n);
    }
    if (n) {
        pk_mat_copy(nX, X);
        memcpy(ny, y, n * sizeof *y);
    }
    pk_mat_free(gp->X);
    pk_mat_free(gp->L);
    pk_mat_free(gp->W);
    free(gp->y);
    free(gp->alpha);
    gp->W = NULL;
    gp->X = nX;
    gp->L = nL;
    gp->y = ny;
    gp->alpha = na;
    gp->n = n;
    gp->fresh = 0;
    return PK_OK;
}

static double noise_var(const pk_gp *gp) { return exp(gp->log_noise) + gp->noise_floor; }
double pk_gp_noise_var(const pk_gp *gp) { return noise_var(gp); }

/* The row-major lower triangle of an n x n matrix is the column-major upper
 * one, so LAPACK runs on our storage directly ('U', column-major) with no
 * transposed copies; the *_work entry points also skip LAPACKE's NaN scans. */
static int chol_inplace(pk_mat *A)
{
    lapack_int info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', (lapack_int)A->rows, A->data, (lapack_int)A->stride);
    return info == 0 ? PK_OK : info > 0 ? PK_ESING : PK_EINTERNAL;
}

/* Lower triangle of K + (noise + add) I into gp->L. */
static int fill_cov(pk_gp *gp, double add)
{
    int s = pk_gp_kernel_fill(gp->kernel, gp->X, gp->X, 1, gp->L);
    double nv = noise_var(gp) + add;
    for (size_t i = 0; i < gp->n && !s; i++)
        *pk_mat_at(gp->L, i, i) += nv;
    return s;
}

int pk_gp_update(pk_gp *gp)
{
    if (gp->fresh)
        return PK_OK;
    size_t n = gp->n;
    if (n == 0) {
        gp->fresh = 1;
        return PK_OK;
    }
    /* Only the lower triangle of L is ever written, so its strict upper
     * triangle stays zero from allocation.  A failed factorisation refills
     * the matrix with jitter escalation (as pk_cholesky: 1e-10 times the mean
     * diagonal, times 10 per try, 8 tries) instead of keeping a saved copy. */
    int s = fill_cov(gp, 0.0);
    if (s)
        return s;
    double md = 0.0;
    for (size_t i = 0; i < n; i++)
        md += fabs(*pk_mat_at(gp->L, i, i));
    if (!isfinite(md))
        return PK_EDOM;
    md = md > 0.0 ? md / (double)n : 1.0;
    gp->jitter_used = 0.0;
    s = chol_inplace(gp->L);
    for (int t = 1; t <= 8 && s == PK_ESING; t++) {
        gp->jitter_used = 1e-10 * md * pow(10.0, t - 1);
        s = fill_cov(gp, gp->jitter_used);
        if (!s)
            s = chol_inplace(gp->L);
    }
    if (s)
        return s;
    double m = pk_gp_get_mean(gp);
    for (size_t i = 0; i < n; i++)
        gp->alpha[i] = gp->y[i] - m;
    lapack_int info = LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'U', (lapack_int)n, 1, gp->L->data,
                                          (lapack_int)gp->L->stride, gp->alpha, (lapack_int)n);
    if (info != 0)
        return PK_EINTERNAL;
    gp->fresh = 1;
    return PK_OK;
}

/* Lower triangle of (K + noise I)^{-1} into W (same trick as chol_inplace). */
static int inverse_lower(const pk_mat *L, pk_mat *W)
{
    size_t n = L->rows;
    for (size_t i = 0; i < n; i++)
        memcpy(pk_mat_at(W, i, 0), pk_mat_at(L, i, 0), (i + 1) * sizeof(double));
    lapack_int info = LAPACKE_dpotri_work(LAPACK_COL_MAJOR, 'U', (lapack_int)n, W->data, (lapack_int)W->stride);
    return info == 0 ? PK_OK : info > 0 ? PK_ESING : PK_EINTERNAL;
}

int pk_gp_chol_inverse(const pk_mat *L, pk_mat *Ainv)
{
    size_t n = L->rows;
    if (Ainv->rows != n || Ainv->cols != n)
        return PK_ESHAPE;
    if (n == 0)
        return PK_OK;
    int s = inverse_lower(L, Ainv);
    if (s)
        return s;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            *pk_mat_at(Ainv, j, i) = *pk_mat_at(Ainv, i, j);
    return PK_OK;
}

int pk_gp_grad_core(pk_gp *gp, double sc, double *gk, double *trace)
{
    size_t n = gp->n, nk = gp->kernel->np;
    for (size_t p = 0; p < nk; p++)
        gk[p] = 0.0;
    *trace = 0.0;
    if (n == 0)
        return PK_OK;
    if (!gp->W && !(gp->W = pk_mat_new(n, n)))
        return PK_ENOMEM;
    pk_mat *W = gp->W;
    int s = inverse_lower(gp->L, W);
    if (s)
        return s;
    double tr = 0.0;
    for (size_t i = 0; i < n; i++) {
        double *row = pk_mat_at(W, i, 0), ai = sc * gp->alpha[i];
        for (size_t j = 0; j <= i; j++)
            row[j] = ai * gp->alpha[j] - row[j];
        tr += row[i];
    }
    s = pk_gp_kernel_grad_contract(gp->kernel, gp->X, W, gk);
    for (size_t p = 0; p < nk; p++)
        gk[p] *= 0.5;
    *trace = tr;
    return s;
}

const double *pk_gp_alpha(pk_gp *gp) { return pk_gp_update(gp) ? NULL : gp->alpha; }
const pk_mat *pk_gp_chol(pk_gp *gp) { return pk_gp_update(gp) ? NULL : gp->L; }

int pk_gp_log_marginal(pk_gp *gp, double *lml, double *grad)
{
    int s = pk_gp_update(gp);
    if (s)
        return s;
    size_t n = gp->n, nk = gp->kernel->np;
    double m = pk_gp_get_mean(gp), quad = 0.0;
    for (size_t i = 0; i < n; i++)
        quad += (gp->y[i] - m) * gp->alpha[i];
    if (lml)
        *lml = -0.5 * quad - 0.5 * pk_cholesky_logdet(gp->L) - 0.5 * (double)n * log(2.0 * M_PI);
    if (!grad)
        return PK_OK;
    memset(grad, 0, pk_gp_nhyper(gp) * sizeof *grad);
    if (n == 0)
        return PK_OK;
    /* W = alpha alpha^T - K^{-1};  d lml / d theta = 0.5 tr(W dK/dtheta) */
    double tr;
    s = pk_gp_grad_core(gp, 1.0, grad, &tr);
    if (s)
        return s;
    grad[nk] = 0.5 * exp(gp->log_noise) * tr;
    if (gp->mean_mode == PK_GP_MEAN_CONSTANT) {
        double sa = 0.0;
        for (size_t i = 0; i < n; i++)
            sa += gp->alpha[i];
        grad[nk + 1] = sa;
    }
    return PK_OK;
}

/* Ks^T (n x m) for test points. */
static pk_mat *cross_t(pk_gp *gp, const pk_mat *Xs)
{
    pk_mat *Kt = pk_mat_new(gp->n, Xs->rows);
    if (Kt && pk_gp_kernel_fill(gp->kernel, gp->X, Xs, 0, Kt)) {
        pk_mat_free(Kt);
        return NULL;
    }
    return Kt;
}

int pk_gp_predict(pk_gp *gp, const pk_mat *Xs, double *mean, double *var, int include_noise)
{
    if (!Xs || Xs->cols != gp->dim)
        return PK_ESHAPE;
    int s = pk_gp_update(gp);
    if (s)
        return s;
    size_t n = gp->n, m = Xs->rows;
    double mu0 = pk_gp_get_mean(gp), nv = include_noise ? noise_var(gp) : 0.0;
    if (n == 0) {
        for (size_t j = 0; j < m; j++) {
            const double *x = pk_mat_at(Xs, j, 0);
            if (mean)
                mean[j] = mu0;
            if (var)
                var[j] = pk_gp_kernel_eval(gp->kernel, x, x, NULL) + nv;
        }
        return PK_OK;
    }
    pk_mat *Kt = cross_t(gp, Xs);
    if (!Kt)
        return PK_ENOMEM;
    if (mean) {
        for (size_t j = 0; j < m; j++)
            mean[j] = mu0;
        pk_gemv(1, 1.0, Kt, gp->alpha, 1.0, mean);
    }
    if (var) {
        s = pk_trsm_lower(gp->L, 0, Kt);
        for (size_t j = 0; j < m && !s; j++) {
            const double *x = pk_mat_at(Xs, j, 0);
            var[j] = pk_gp_kernel_eval(gp->kernel, x, x, NULL) + nv;
        }
        for (size_t i = 0; i < n && !s; i++) {
            const double *row = pk_mat_at(Kt, i, 0);
            for (size_t j = 0; j < m; j++)
                var[j] -= row[j] * row[j];
        }
        for (size_t j = 0; j < m && !s; j++)
            if (var[j] < 1e-300)
                var[j] = 1e-300;
    }
    pk_mat_free(Kt);
    return s;
}

int pk_gp_predict_dx(pk_gp *gp, const double *x, double *mean, double *var, double *dmean, double *dvar)
{
    int s = pk_gp_update(gp);
    if (s)
        return s;
    size_t n = gp->n, d = gp->dim;
    double *kv = malloc((2 * n + (n + 1) * d) * sizeof *kv);
    if (!kv)
        return PK_ENOMEM;
    double *v = kv + n, *dk = v + n, *dkxx = dk + n * d;
    for (size_t i = 0; i < n; i++)
        kv[i] = pk_gp_kernel_eval_dx(gp->kernel, x, pk_mat_at(gp->X, i, 0), dk + i * d);
    double kxx = pk_gp_kernel_eval_dx(gp->kernel, x, x, dkxx);
    *mean = pk_gp_get_mean(gp) + (n ? cblas_ddot((int)n, kv, 1, gp->alpha, 1) : 0.0);
    for (size_t j = 0; j < d; j++)
        dmean[j] = 0.0;
    if (n)
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)d, 1.0, dk, (int)d, gp->alpha, 1, 0.0, dmean, 1);
    /* v = L^{-1} k, var = kxx - v.v, then v <- K^{-1} k for the gradient */
    memcpy(v, kv, n * sizeof *v);
    if (n) {
        cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)n, gp->L->data, (int)gp->L->stride,
                    v, 1);
    }
    double vv = n ? cblas_ddot((int)n, v, 1, v, 1) : 0.0;
    *var = kxx - vv;
    if (*var < 1e-300)
        *var = 1e-300;
    if (n)
        cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, (int)n, gp->L->data, (int)gp->L->stride,
                    v, 1);
    /* d kxx / dx = 2 d1 k(x, x) for a symmetric kernel (0 for stationary ones) */
    for (size_t j = 0; j < d; j++)
        dvar[j] = 2.0 * dkxx[j];
    if (n)
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)d, -2.0, dk, (int)d, v, 1, 1.0, dvar, 1);
    free(kv);
    return PK_OK;
}

int pk_gp_predict_cov(pk_gp *gp, const pk_mat *Xs, double *mean, pk_mat *C)
{
    if (!Xs || Xs->cols != gp->dim || C->rows != Xs->rows || C->cols != Xs->rows)
        return PK_ESHAPE;
    int s = pk_gp_update(gp);
    if (s)
        return s;
    size_t n = gp->n, m = Xs->rows;
    s = pk_gp_kernel_matrix(gp->kernel, Xs, Xs, 1, C);
    if (s || n == 0) {
        for (size_t j = 0; mean && j < m; j++)
            mean[j] = pk_gp_get_mean(gp);
        return s;
    }
    pk_mat *Kt = cross_t(gp, Xs);
    if (!Kt)
        return PK_ENOMEM;
    if (mean) {
        for (size_t j = 0; j < m; j++)
            mean[j] = pk_gp_get_mean(gp);
        pk_gemv(1, 1.0, Kt, gp->alpha, 1.0, mean);
    }
    s = pk_trsm_lower(gp->L, 0, Kt);
    if (!s)
        s = pk_gemm(1, 0, -1.0, Kt, Kt, 1.0, C);
    pk_mat_free(Kt);
    return s;
}

int pk_gp_sample_posterior(pk_gp *gp, const pk_mat *Xs, size_t ns, pk_rng *rng, pk_mat *S)
{
    size_t m = Xs ? Xs->rows : 0;
    if (!Xs || S->rows != ns || S->cols != m)
        return PK_ESHAPE;
    pk_mat *C = pk_mat_new(m, m);
    double *mu = malloc((2 * m + 1) * sizeof *mu);
    int s = (!C || !mu) ? PK_ENOMEM : pk_gp_predict_cov(gp, Xs, mu, C);
    double jit;
    if (!s)
        s = pk_cholesky(C, 1e-10, 10, &jit);
    if (!s) {
        double *z = mu + m;
        for (size_t r = 0; r < ns; r++) {
            for (size_t j = 0; j < m; j++)
                z[j] = pk_rng_normal(rng);
            double *out = pk_mat_at(S, r, 0);
            for (size_t i = 0; i < m; i++) {
                double acc = mu[i];
                const double *Li = pk_mat_at(C, i, 0);
                for (size_t j = 0; j <= i; j++)
                    acc += Li[j] * z[j];
                out[i] = acc;
            }
        }
    }
    pk_mat_free(C);
    free(mu);
    return s;
}
