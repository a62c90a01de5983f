/* ols.c — least squares by pivoted QR or SVD, with regression diagnostics.
 *
 * The design is copied once into column-major order (LAPACK's native layout),
 * so that LAPACKE does not transpose an n x p matrix behind our back. */
#include <cblas.h>
#include <float.h>
#include <gsl/gsl_cdf.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ols_priv.h"

pk_ols_params pk_ols_params_default(void)
{
    pk_ols_params p;
    p.method = PK_OLS_QR;
    p.rcond = 0;
    p.allow_rank_deficient = 0;
    p.compute_hat = 1;
    p.compute_pinv = 0;
    return p;
}

int pk_ols_params_check(const pk_ols_params *par, pk_err *err)
{
    if (!par)
        return pk_err_set(err, PK_EINVAL, "ols: params is NULL");
    if (par->method != PK_OLS_QR && par->method != PK_OLS_SVD)
        return pk_err_set(err, PK_EINVAL, "ols: method %d is not PK_OLS_QR (0) or PK_OLS_SVD (1)", (int)par->method);
    if (!(par->rcond < 1) || isnan(par->rcond))
        return pk_err_set(err, PK_EINVAL, "ols: rcond %g must be < 1 (<= 0 for the default)", par->rcond);
    return PK_OK;
}

void pk_ols_free(pk_ols *f)
{
    if (!f)
        return;
    free(f->aliased);
    free(f->coef);
    free(f->se);
    free(f->tval);
    free(f->pval);
    free(f->cov);
    free(f->fitted);
    free(f->resid);
    free(f->hat);
    free(f->pinv);
    free(f->sv);
    free(f);
}

static pk_ols *ols_alloc(size_t n, size_t p, int hat)
{
    pk_ols *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    size_t k = n < p ? n : p;
    f->n = n;
    f->p = p;
    f->aliased = calloc(p, sizeof *f->aliased);
    f->coef = malloc(p * sizeof(double));
    f->se = malloc(p * sizeof(double));
    f->tval = malloc(p * sizeof(double));
    f->pval = malloc(p * sizeof(double));
    f->cov = calloc(p * p, sizeof(double));
    f->fitted = malloc(n * sizeof(double));
    f->resid = malloc(n * sizeof(double));
    f->sv = malloc(k * sizeof(double));
    f->hat = hat ? calloc(n, sizeof(double)) : NULL;
    if (!f->aliased || !f->coef || !f->se || !f->tval || !f->pval || !f->cov || !f->fitted || !f->resid ||
        !f->sv || (hat && !f->hat)) {
        pk_ols_free(f);
        return NULL;
    }
    return f;
}

/* Column-major copy of X (lda = n). */
/* Column-major copy of X (lda = n); with y != NULL, y is appended as column
 * p, so that one QR of [X y] also yields Q^T y (its top p entries) without a
 * separate, slow single-vector dormqr. */
static double *colmajor_copy_aug(const pk_mat *X, const double *y)
{
    size_t n = X->rows, p = X->cols;
    double *A = malloc(n * (p + (y != NULL)) * sizeof *A);
    if (!A)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const double *row = X->data + i * X->stride;
        for (size_t j = 0; j < p; j++)
            A[j * n + i] = row[j];
    }
    if (y)
        memcpy(A + p * n, y, n * sizeof *A);
    return A;
}

static double *colmajor_copy(const pk_mat *X) { return colmajor_copy_aug(X, NULL); }

int pk_ols_svd_parts(const pk_mat *X, double **U, double **s, double **Vt)
{
    size_t n = X->rows, p = X->cols, k = n < p ? n : p;
    *U = *s = *Vt = NULL;
    double *A = colmajor_copy(X);
    double *u = malloc(n * k * sizeof *u), *sv = malloc(k * sizeof *sv), *vt = malloc(k * p * sizeof *vt);
    if (!A || !u || !sv || !vt) {
        free(A);
        free(u);
        free(sv);
        free(vt);
        return PK_ENOMEM;
    }
    lapack_int info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'S', (lapack_int)n, (lapack_int)p, A, (lapack_int)n, sv, u,
                                     (lapack_int)n, vt, (lapack_int)k);
    free(A);
    if (info != 0) {
        free(u);
        free(sv);
        free(vt);
        return info < 0 ? PK_EINTERNAL : PK_EMAXITER;
    }
    *U = u;
    *s = sv;
    *Vt = vt;
    return PK_OK;
}

size_t pk_ols_rank_from(const double *d, size_t k, double tol)
{
    size_t r = 0;
    double d0 = k ? fabs(d[0]) : 0;
    while (r < k && d0 > 0 && fabs(d[r]) > tol * d0)
        r++;
    return r;
}

/* Pseudoinverse (p x n, row-major) from a thin SVD: V_r diag(1/s) U_r^T. */
static int pinv_from_svd(size_t n, size_t p, size_t r, const double *U, const double *s, const double *Vt,
                         double **out)
{
    size_t k = n < p ? n : p;
    double *W = malloc((r ? n * r : 1) * sizeof *W), *P = calloc(n * p, sizeof *P);
    if (!W || !P) {
        free(W);
        free(P);
        return PK_ENOMEM;
    }
    for (size_t j = 0; j < r; j++)
        for (size_t i = 0; i < n; i++)
            W[j * n + i] = U[j * n + i] / s[j];
    /* column-major n x p result W Vt_r is exactly the row-major p x n pinv */
    if (r)
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)p, (int)r, 1.0, W, (int)n, Vt, (int)k,
                    0.0, P, (int)n);
    free(W);
    *out = P;
    return PK_OK;
}

#define PK_OLS_RETRY_PIVOTED 1

/* QR path: fills coef (NaN for aliased), cov (unscaled), hat, rank, sv.
 * Unpivoted blocked QR (dgeqrf) first; the singular values of R give the rank
 * reliably, and only a rank-deficient X (returns PK_OLS_RETRY_PIVOTED) is
 * refactored with column pivoting (dgeqp3, much slower) to choose the
 * aliased columns. */
static int fit_qr(const pk_mat *X, const double *y, double tol, int want_hat, int pivot, pk_ols *f)
{
    size_t n = X->rows, p = X->cols, k = n < p ? n : p;
    int st = PK_ENOMEM;
    int aug = !pivot && n > p; /* Q^T y from the QR of [X y] */
    double *A = colmajor_copy_aug(X, aug ? y : NULL), *tau = malloc((k + 1) * sizeof *tau);
    double *qty = malloc(n * sizeof *qty), *R = calloc(k * p, sizeof *R), *Ri = NULL;
    double *superb = malloc(k * sizeof *superb);
    lapack_int *jpvt = calloc(p, sizeof *jpvt);
    if (!A || !tau || !qty || !R || !superb || !jpvt)
        goto done;
    lapack_int info;
    if (pivot) {
        info = LAPACKE_dgeqp3(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)p, A, (lapack_int)n, jpvt, tau);
    } else {
        info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)(p + (size_t)aug), A, (lapack_int)n, tau);
        for (size_t j = 0; j < p; j++)
            jpvt[j] = (lapack_int)(j + 1);
    }
    if (info != 0) {
        st = PK_EINTERNAL;
        goto done;
    }
    for (size_t j = 0; j < k; j++) /* superb doubles as the copy of R's diagonal */
        superb[j] = A[j * n + j];
    size_t r_diag = pk_ols_rank_from(superb, k, tol);

    /* singular values of X = those of R (upper trapezoid, k x p) */
    for (size_t j = 0; j < p; j++)
        for (size_t i = 0; i <= j && i < k; i++)
            R[j * k + i] = A[j * n + i];
    info = LAPACKE_dgesvd(LAPACK_COL_MAJOR, 'N', 'N', (lapack_int)k, (lapack_int)p, R, (lapack_int)k, f->sv, NULL,
                          1, NULL, 1, superb);
    if (info != 0) {
        st = info < 0 ? PK_EINTERNAL : PK_EMAXITER;
        goto done;
    }
    size_t r = pk_ols_rank_from(f->sv, k, tol);
    if (!pivot && r < p) {
        st = PK_OLS_RETRY_PIVOTED;
        goto done;
    }
    if (pivot && r_diag < r) /* keep R11 well conditioned if pivoting was less sharp than the SVD */
        r = r_diag;
    f->rank = r;

    if (aug) {
        memcpy(qty, A + p * n, k * sizeof *qty);
    } else {
        memcpy(qty, y, n * sizeof *qty);
        info = LAPACKE_dormqr(LAPACK_COL_MAJOR, 'L', 'T', (lapack_int)n, 1, (lapack_int)k, A, (lapack_int)n, tau, qty,
                              (lapack_int)n);
        if (info != 0) {
            st = PK_EINTERNAL;
            goto done;
        }
    }
    for (size_t j = 0; j < p; j++) {
        f->coef[j] = NAN;
        f->aliased[j] = 1;
    }
    if (r) {
        /* b = R11^{-1} (Q^T y)[0:r]; R11^{-1} also gives (X^T X)^{-1} = R^{-1} R^{-T} */
        Ri = calloc(r * r, sizeof *Ri);
        if (!Ri)
            goto done;
        for (size_t j = 0; j < r; j++)
            for (size_t i = 0; i <= j; i++)
                Ri[j * r + i] = A[j * n + i];
        info = LAPACKE_dtrtrs(LAPACK_COL_MAJOR, 'U', 'N', 'N', (lapack_int)r, 1, Ri, (lapack_int)r, qty, (lapack_int)n);
        if (info != 0) {
            st = info < 0 ? PK_EINTERNAL : PK_ESING;
            goto done;
        }
        info = LAPACKE_dtrtri(LAPACK_COL_MAJOR, 'U', 'N', (lapack_int)r, Ri, (lapack_int)r);
        if (info != 0) {
            st = info < 0 ? PK_EINTERNAL : PK_ESING;
            goto done;
        }
        for (size_t a = 0; a < r; a++) {
            size_t ca = (size_t)jpvt[a] - 1;
            f->coef[ca] = qty[a];
            f->aliased[ca] = 0;
            for (size_t b = 0; b < r; b++) {
                size_t cb = (size_t)jpvt[b] - 1;
                double s = 0; /* (Ri Ri^T)_ab, Ri upper: sum over c >= max(a, b) */
                for (size_t c = a > b ? a : b; c < r; c++)
                    s += Ri[c * r + a] * Ri[c * r + b];
                f->cov[ca * p + cb] = s;
            }
        }
    }
    for (size_t j = 0; j < p; j++)
        if (f->aliased[j])
            for (size_t c = 0; c < p; c++)
                f->cov[j * p + c] = f->cov[c * p + j] = NAN;
    if (want_hat && r && !pivot) {
        /* full column rank: h_i = ||x_i^T R^{-1}||^2 with R^{-1} from above; a
         * gemm is much faster than a triangular solve with many right-hand sides */
        double *B = malloc(n * p * sizeof *B);
        if (!B)
            goto done;
        /* Ri is column-major, i.e. row-major Ri^T: B = X Ri = X (Ri^T)^T */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)p, (int)p, 1.0, X->data, (int)X->stride, Ri,
                    (int)r, 0.0, B, (int)p);
        for (size_t i = 0; i < n; i++)
            f->hat[i] = cblas_ddot((int)p, B + i * p, 1, B + i * p, 1);
        free(B);
    } else if (want_hat && r) {
        /* h_i = ||row i of Q_1||^2 with Q_1 the first r columns of Q */
        info = LAPACKE_dorgqr(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)r, (lapack_int)r, A, (lapack_int)n, tau);
        if (info != 0) {
            st = PK_EINTERNAL;
            goto done;
        }
        for (size_t j = 0; j < r; j++)
            for (size_t i = 0; i < n; i++)
                f->hat[i] += A[j * n + i] * A[j * n + i];
    }
    st = PK_OK;
done:
    free(A);
    free(tau);
    free(qty);
    free(R);
    free(Ri);
    free(superb);
    free(jpvt);
    return st;
}

/* SVD path: minimum-norm solution; also the pseudoinverse when asked. */
/* coef = V_r S_r^{-1} (U_r^T y) given uty[j] = u_j . y, and the unscaled
 * covariance V_r S_r^{-2} V_r^T; Vt is k x p column-major. */
static void svd_solution(size_t p, size_t k, size_t r, const double *s, const double *Vt, const double *uty, pk_ols *f)
{
    for (size_t c = 0; c < p; c++)
        f->coef[c] = 0;
    for (size_t j = 0; j < r; j++)
        for (size_t c = 0; c < p; c++)
            f->coef[c] += Vt[c * k + j] * uty[j] / s[j];
    for (size_t a = 0; a < p; a++) {
        double vv = 0;
        for (size_t b = 0; b < p; b++) {
            double acc = 0;
            for (size_t j = 0; j < r; j++)
                acc += Vt[a * k + j] * Vt[b * k + j] / (s[j] * s[j]);
            f->cov[a * p + b] = acc;
        }
        for (size_t j = 0; j < r; j++)
            vv += Vt[a * k + j] * Vt[a * k + j];
        /* the column's weight outside the row space: 1 - ||P_row e_a||^2 */
        f->aliased[a] = r < p && 1 - vv > 1e-8;
    }
}

/* Tall X (n >= 2p) without a pseudoinverse: X = QR, then the SVD of the small
 * R = U_R S V^T, so that U = Q U_R is never formed; leverages come from
 * U_r = X V_r S_r^{-1}. */
static int fit_svd_tall(const pk_mat *X, const double *y, double tol, int want_hat, pk_ols *f)
{
    size_t n = X->rows, p = X->cols;
    int st = PK_ENOMEM;
    double *A = colmajor_copy_aug(X, y), *tau = malloc((p + 1) * sizeof *tau), *qty = malloc(n * sizeof *qty);
    double *R = calloc(p * p, sizeof *R), *Ur = malloc(p * p * sizeof *Ur), *Vt = malloc(p * p * sizeof *Vt);
    double *uty = calloc(p, sizeof *uty), *M = NULL, *B = NULL;
    if (!A || !tau || !qty || !R || !Ur || !Vt || !uty)
        goto done;
    /* QR of [X y] (n >= 2p > p): the top of column p is Q^T y */
    lapack_int info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)(p + 1), A, (lapack_int)n, tau);
    if (info == 0)
        memcpy(qty, A + p * n, p * sizeof *qty);
    if (info != 0) {
        st = PK_EINTERNAL;
        goto done;
    }
    for (size_t j = 0; j < p; j++)
        for (size_t i = 0; i <= j; i++)
            R[j * p + i] = A[j * n + i];
    info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'S', (lapack_int)p, (lapack_int)p, R, (lapack_int)p, f->sv, Ur,
                          (lapack_int)p, Vt, (lapack_int)p);
    if (info != 0) {
        st = info < 0 ? PK_EINTERNAL : PK_EMAXITER;
        goto done;
    }
    size_t r = pk_ols_rank_from(f->sv, p, tol);
    f->rank = r;
    for (size_t j = 0; j < r; j++)
        uty[j] = cblas_ddot((int)p, Ur + j * p, 1, qty, 1);
    svd_solution(p, p, r, f->sv, Vt, uty, f);
    if (want_hat && r) {
        M = malloc(p * r * sizeof *M);
        B = malloc(n * r * sizeof *B);
        if (!M || !B)
            goto done;
        for (size_t c = 0; c < p; c++)
            for (size_t j = 0; j < r; j++)
                M[c * r + j] = Vt[c * p + j] / f->sv[j];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)r, (int)p, 1.0, X->data, (int)X->stride,
                    M, (int)r, 0.0, B, (int)r);
        for (size_t i = 0; i < n; i++)
            f->hat[i] = cblas_ddot((int)r, B + i * r, 1, B + i * r, 1);
    }
    st = PK_OK;
done:
    free(A);
    free(tau);
    free(qty);
    free(R);
    free(Ur);
    free(Vt);
    free(uty);
    free(M);
    free(B);
    return st;
}

static int fit_svd(const pk_mat *X, const double *y, double tol, int want_hat, int want_pinv, pk_ols *f)
{
    size_t n = X->rows, p = X->cols, k = n < p ? n : p;
    if (!want_pinv && n >= 2 * p)
        return fit_svd_tall(X, y, tol, want_hat, f);
    double *U, *s, *Vt;
    int st = pk_ols_svd_parts(X, &U, &s, &Vt);
    if (st != PK_OK)
        return st;
    memcpy(f->sv, s, k * sizeof *s);
    size_t r = pk_ols_rank_from(s, k, tol);
    f->rank = r;
    double *uty = calloc(r ? r : 1, sizeof *uty);
    if (!uty) {
        free(U);
        free(s);
        free(Vt);
        return PK_ENOMEM;
    }
    for (size_t j = 0; j < r; j++)
        uty[j] = cblas_ddot((int)n, U + j * n, 1, y, 1);
    svd_solution(p, k, r, s, Vt, uty, f);
    free(uty);
    if (want_hat)
        for (size_t j = 0; j < r; j++)
            for (size_t i = 0; i < n; i++)
                f->hat[i] += U[j * n + i] * U[j * n + i];
    if (want_pinv)
        st = pinv_from_svd(n, p, r, U, s, Vt, &f->pinv);
    free(U);
    free(s);
    free(Vt);
    return st;
}

static int check_finite(const pk_mat *X, const double *y, pk_err *err)
{
    for (size_t i = 0; i < X->rows; i++) {
        const double *row = X->data + i * X->stride;
        for (size_t j = 0; j < X->cols; j++)
            if (!isfinite(row[j]))
                return pk_err_set(err, PK_EDOM, "ols: X row %zu, column %zu is %s", i, j,
                                  isnan(row[j]) ? "NaN (missing)" : "infinite");
        if (!isfinite(y[i]))
            return pk_err_set(err, PK_EDOM, "ols: y row %zu is %s", i, isnan(y[i]) ? "NaN (missing)" : "infinite");
    }
    return PK_OK;
}

/* Statistics that follow from coef, cov (unscaled), rank. */
static void finish_stats(const pk_mat *X, const double *y, pk_ols *f)
{
    size_t n = f->n, p = f->p;
    double *b = f->se; /* scratch: coefficients with aliased ones zeroed */
    for (size_t j = 0; j < p; j++)
        b[j] = isnan(f->coef[j]) ? 0 : f->coef[j];
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)p, 1.0, X->data, (int)X->stride, b, 1, 0.0, f->fitted, 1);
    f->rss = 0;
    for (size_t i = 0; i < n; i++) {
        f->resid[i] = y[i] - f->fitted[i];
        f->rss += f->resid[i] * f->resid[i];
    }
    f->has_constant = 0;
    for (size_t j = 0; j < p && !f->has_constant; j++) {
        double v = X->data[j];
        int constant = v != 0;
        for (size_t i = 1; i < n && constant; i++)
            constant = X->data[i * X->stride + j] == v;
        f->has_constant = constant;
    }
    double ybar = 0;
    for (size_t i = 0; i < n; i++)
        ybar += y[i];
    ybar /= (double)n;
    f->tss = 0;
    for (size_t i = 0; i < n; i++) {
        double d = f->has_constant ? y[i] - ybar : y[i];
        f->tss += d * d;
    }
    f->df_resid = (double)(n - f->rank);
    f->r2 = f->tss > 0 ? 1 - f->rss / f->tss : NAN;
    f->sigma2 = f->df_resid > 0 ? f->rss / f->df_resid : NAN;
    f->adj_r2 = f->df_resid > 0 ? 1 - (1 - f->r2) * ((double)n - f->has_constant) / f->df_resid : NAN;
    for (size_t j = 0; j < p; j++) {
        for (size_t c = 0; c < p; c++)
            f->cov[j * p + c] *= f->sigma2;
        double v = f->cov[j * p + j];
        f->se[j] = isnan(f->coef[j]) ? NAN : sqrt(v);
        f->tval[j] = f->coef[j] / f->se[j];
        f->pval[j] = f->df_resid > 0 && !isnan(f->tval[j]) ? 2 * gsl_cdf_tdist_Q(fabs(f->tval[j]), f->df_resid) : NAN;
    }
    double dfm = (double)f->rank - f->has_constant;
    if (dfm > 0 && f->df_resid > 0 && f->sigma2 > 0) {
        f->fstat = ((f->tss - f->rss) / dfm) / f->sigma2;
        f->f_pvalue = f->fstat >= 0 ? gsl_cdf_fdist_Q(f->fstat, dfm, f->df_resid) : NAN;
    } else {
        f->fstat = f->f_pvalue = NAN;
    }
    double nn = (double)n;
    f->loglik = -0.5 * nn * (log(2 * M_PI) + log(f->rss / nn) + 1);
    f->aic = -2 * f->loglik + 2 * (double)f->rank;
    f->bic = -2 * f->loglik + log(nn) * (double)f->rank;
    size_t k = n < p ? n : p;
    f->cond = k && f->sv[k - 1] > 0 ? f->sv[0] / f->sv[k - 1] : INFINITY;
}

int pk_ols_fit(const pk_mat *X, const double *y, const pk_ols_params *par, pk_ols **out, pk_err *err)
{
    if (!out)
        return pk_err_set(err, PK_EINVAL, "ols: out is NULL");
    *out = NULL;
    if (!X || !y || !X->data)
        return pk_err_set(err, PK_EINVAL, "ols: X or y is NULL");
    size_t n = X->rows, p = X->cols;
    if (n == 0 || p == 0)
        return pk_err_set(err, PK_EINVAL, "ols: X is %zu x %zu; need at least one row and one column", n, p);
    if (n > (size_t)INT32_MAX || p > (size_t)INT32_MAX || n * p > ((size_t)1 << 40) || p > 100000)
        return pk_err_set(err, PK_EINVAL, "ols: X is %zu x %zu; too large", n, p);
    pk_ols_params dflt = pk_ols_params_default();
    if (!par)
        par = &dflt;
    int st = pk_ols_params_check(par, err);
    if (st != PK_OK)
        return st;
    st = check_finite(X, y, err);
    if (st != PK_OK)
        return st;
    double tol = par->rcond > 0 ? par->rcond : (double)(n > p ? n : p) * DBL_EPSILON;
    pk_ols *f = ols_alloc(n, p, par->compute_hat);
    if (!f)
        return pk_err_set(err, PK_ENOMEM, "ols: out of memory for a %zu x %zu fit", n, p);
    f->method = par->method;
    if (par->method == PK_OLS_QR) {
        st = fit_qr(X, y, tol, par->compute_hat, 0, f);
        if (st == PK_OLS_RETRY_PIVOTED)
            st = fit_qr(X, y, tol, par->compute_hat, 1, f);
        if (st == PK_OK && par->compute_pinv) {
            double *U, *s, *Vt;
            st = pk_ols_svd_parts(X, &U, &s, &Vt);
            if (st == PK_OK) {
                size_t k = n < p ? n : p;
                st = pinv_from_svd(n, p, pk_ols_rank_from(s, k, tol), U, s, Vt, &f->pinv);
                free(U);
                free(s);
                free(Vt);
            }
        }
    } else {
        st = fit_svd(X, y, tol, par->compute_hat, par->compute_pinv, f);
    }
    if (st != PK_OK) {
        pk_ols_free(f);
        return pk_err_set(err, st, "ols: %s factorisation of the %zu x %zu design failed: %s",
                          par->method == PK_OLS_QR ? "QR" : "SVD", n, p, pk_strerror(st));
    }
    finish_stats(X, y, f);
    *out = f;
    if (f->rank < p && !par->allow_rank_deficient) {
        char list[256] = "";
        size_t len = 0, shown = 0;
        for (size_t j = 0; j < p && len < sizeof list - 16; j++)
            if (f->aliased[j]) {
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%zu", shown ? ", " : "", j);
                shown++;
            }
        return pk_err_set(err, PK_ESING,
                          "ols: X is rank-deficient (rank %zu of %zu columns, condition number %.3g); "
                          "aliased column(s): %s",
                          f->rank, p, f->cond, shown ? list : "(spread over several columns)");
    }
    return PK_OK;
}

int pk_ols_predict(const pk_ols *fit, const pk_mat *Xnew, double *yhat)
{
    if (!fit || !Xnew || !yhat || Xnew->cols != fit->p)
        return PK_EINVAL;
    for (size_t i = 0; i < Xnew->rows; i++) {
        const double *row = Xnew->data + i * Xnew->stride;
        double s = 0;
        for (size_t j = 0; j < fit->p; j++)
            if (!isnan(fit->coef[j]))
                s += row[j] * fit->coef[j];
        yhat[i] = s;
    }
    return PK_OK;
}
