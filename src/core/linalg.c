#include "probkit/linalg.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int lapack_status(lapack_int info, int positive)
{
    if (info == 0)
        return PK_OK;
    return info < 0 ? PK_EINTERNAL : positive;
}

pk_mat *pk_mat_new(size_t rows, size_t cols)
{
    if (cols && rows > SIZE_MAX / sizeof(double) / cols)
        return NULL;
    pk_mat *m = malloc(sizeof *m);
    if (!m)
        return NULL;
    size_t n = rows * cols;
    m->data = calloc(n ? n : 1, sizeof(double));
    if (!m->data) {
        free(m);
        return NULL;
    }
    m->rows = rows;
    m->cols = cols;
    m->stride = cols;
    m->owner = 1;
    return m;
}

void pk_mat_free(pk_mat *m)
{
    if (!m)
        return;
    if (m->owner)
        free(m->data);
    free(m);
}

pk_mat *pk_mat_dup(const pk_mat *src)
{
    pk_mat *m = pk_mat_new(src->rows, src->cols);
    if (m)
        pk_mat_copy(m, src);
    return m;
}

pk_mat pk_mat_view(double *data, size_t rows, size_t cols)
{
    pk_mat m = {rows, cols, cols, data, 0};
    return m;
}

pk_mat pk_mat_rows(const pk_mat *m, size_t r0, size_t n)
{
    pk_mat v = {n, m->cols, m->stride, m->data + r0 * m->stride, 0};
    return v;
}

void pk_mat_set_zero(pk_mat *m)
{
    for (size_t i = 0; i < m->rows; i++)
        memset(pk_mat_at(m, i, 0), 0, m->cols * sizeof(double));
}

void pk_mat_set_identity(pk_mat *m)
{
    pk_mat_set_zero(m);
    for (size_t i = 0; i < m->rows && i < m->cols; i++)
        *pk_mat_at(m, i, i) = 1.0;
}

int pk_mat_copy(pk_mat *dst, const pk_mat *src)
{
    if (dst->rows != src->rows || dst->cols != src->cols)
        return PK_ESHAPE;
    for (size_t i = 0; i < src->rows; i++)
        memmove(pk_mat_at(dst, i, 0), pk_mat_at(src, i, 0), src->cols * sizeof(double));
    return PK_OK;
}

int pk_mat_transpose(pk_mat *dst, const pk_mat *src)
{
    if (dst->rows != src->cols || dst->cols != src->rows)
        return PK_ESHAPE;
    for (size_t i = 0; i < src->rows; i++)
        for (size_t j = 0; j < src->cols; j++)
            *pk_mat_at(dst, j, i) = *pk_mat_at(src, i, j);
    return PK_OK;
}

int pk_gemm(int tA, int tB, double alpha, const pk_mat *A, const pk_mat *B, double beta, pk_mat *C)
{
    size_t m = tA ? A->cols : A->rows, k = tA ? A->rows : A->cols;
    size_t kb = tB ? B->cols : B->rows, n = tB ? B->rows : B->cols;
    if (k != kb || C->rows != m || C->cols != n)
        return PK_ESHAPE;
    if (m == 0 || n == 0)
        return PK_OK;
    if (k == 0) {
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++)
                *pk_mat_at(C, i, j) *= beta;
        return PK_OK;
    }
    cblas_dgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                (int)k, alpha, A->data, (int)A->stride, B->data, (int)B->stride, beta, C->data, (int)C->stride);
    return PK_OK;
}

int pk_gemv(int tA, double alpha, const pk_mat *A, const double *x, double beta, double *y)
{
    if (A->rows == 0 || A->cols == 0) {
        size_t n = tA ? A->cols : A->rows;
        for (size_t i = 0; i < n; i++)
            y[i] *= beta;
        return PK_OK;
    }
    cblas_dgemv(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, (int)A->rows, (int)A->cols, alpha, A->data,
                (int)A->stride, x, 1, beta, y, 1);
    return PK_OK;
}

int pk_syrk(int trans, double alpha, const pk_mat *A, double beta, pk_mat *C)
{
    size_t n = trans ? A->cols : A->rows, k = trans ? A->rows : A->cols;
    if (C->rows != n || C->cols != n)
        return PK_ESHAPE;
    if (n == 0)
        return PK_OK;
    cblas_dsyrk(CblasRowMajor, CblasLower, trans ? CblasTrans : CblasNoTrans, (int)n, (int)k, alpha, A->data,
                (int)A->stride, beta, C->data, (int)C->stride);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            *pk_mat_at(C, i, j) = *pk_mat_at(C, j, i);
    return PK_OK;
}

double pk_dot(const double *x, const double *y, size_t n) { return n ? cblas_ddot((int)n, x, 1, y, 1) : 0.0; }
double pk_nrm2(const double *x, size_t n) { return n ? cblas_dnrm2((int)n, x, 1) : 0.0; }

int pk_cholesky(pk_mat *A, double jitter, int max_tries, double *jitter_used)
{
    size_t n = A->rows;
    if (A->cols != n)
        return PK_ESHAPE;
    if (jitter_used)
        *jitter_used = 0.0;
    if (n == 0)
        return PK_OK;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(*pk_mat_at(A, i, i)))
            return PK_EDOM;
    pk_mat *save = NULL;
    if (jitter > 0.0 && max_tries > 0) {
        save = pk_mat_dup(A);
        if (!save)
            return PK_ENOMEM;
    }
    double md = 0.0;
    for (size_t i = 0; i < n; i++)
        md += fabs(*pk_mat_at(A, i, i));
    md = md > 0.0 ? md / (double)n : 1.0;
    int st = PK_ESING;
    for (int t = 0;; t++) {
        double add = t == 0 ? 0.0 : jitter * md * pow(10.0, t - 1);
        if (t > 0) {
            pk_mat_copy(A, save);
            for (size_t i = 0; i < n; i++)
                *pk_mat_at(A, i, i) += add;
        }
        lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, A->data, (lapack_int)A->stride);
        if (info == 0) {
            st = PK_OK;
            if (jitter_used)
                *jitter_used = add;
            break;
        }
        if (info < 0) {
            st = PK_EINTERNAL;
            break;
        }
        if (!save || t >= max_tries)
            break;
    }
    pk_mat_free(save);
    if (st == PK_OK)
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                *pk_mat_at(A, i, j) = 0.0;
    return st;
}

int pk_trsm_lower(const pk_mat *L, int trans, pk_mat *B)
{
    if (L->rows != L->cols || B->rows != L->rows)
        return PK_ESHAPE;
    if (B->rows == 0 || B->cols == 0)
        return PK_OK;
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, trans ? CblasTrans : CblasNoTrans, CblasNonUnit,
                (int)B->rows, (int)B->cols, 1.0, L->data, (int)L->stride, B->data, (int)B->stride);
    return PK_OK;
}

int pk_cholesky_solve(const pk_mat *L, pk_mat *B)
{
    int st = pk_trsm_lower(L, 0, B);
    return st ? st : pk_trsm_lower(L, 1, B);
}

double pk_cholesky_logdet(const pk_mat *L)
{
    double s = 0.0;
    for (size_t i = 0; i < L->rows; i++)
        s += log(*pk_mat_at(L, i, i));
    return 2.0 * s;
}

int pk_cholesky_inverse(const pk_mat *L, pk_mat *Ainv)
{
    if (Ainv->rows != L->rows || Ainv->cols != L->rows)
        return PK_ESHAPE;
    pk_mat_set_identity(Ainv);
    return pk_cholesky_solve(L, Ainv);
}

int pk_syev(pk_mat *A, double *w)
{
    if (A->rows != A->cols)
        return PK_ESHAPE;
    if (A->rows == 0)
        return PK_OK;
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'L', (lapack_int)A->rows, A->data,
                                     (lapack_int)A->stride, w);
    return lapack_status(info, PK_EMAXITER);
}

int pk_svd(pk_mat *A, pk_mat *U, double *s, pk_mat *Vt)
{
    size_t m = A->rows, n = A->cols, k = m < n ? m : n;
    if ((U && (U->rows != m || U->cols != k)) || (Vt && (Vt->rows != k || Vt->cols != n)))
        return PK_ESHAPE;
    if (k == 0)
        return PK_OK;
    pk_mat *u = U ? U : pk_mat_new(m, k), *vt = Vt ? Vt : pk_mat_new(k, n);
    int st = PK_ENOMEM;
    if (u && vt) {
        lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)m, (lapack_int)n, A->data,
                                         (lapack_int)A->stride, s, u->data, (lapack_int)u->stride, vt->data,
                                         (lapack_int)vt->stride);
        st = lapack_status(info, PK_EMAXITER);
    }
    if (!U)
        pk_mat_free(u);
    if (!Vt)
        pk_mat_free(vt);
    return st;
}

int pk_qr(pk_mat *A, double *tau)
{
    if (A->rows == 0 || A->cols == 0)
        return PK_OK;
    lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)A->rows, (lapack_int)A->cols, A->data,
                                     (lapack_int)A->stride, tau);
    return lapack_status(info, PK_EINTERNAL);
}

int pk_solve(pk_mat *A, pk_mat *B)
{
    size_t n = A->rows;
    if (A->cols != n || B->rows != n)
        return PK_ESHAPE;
    if (n == 0)
        return PK_OK;
    lapack_int *ipiv = malloc(n * sizeof *ipiv);
    if (!ipiv)
        return PK_ENOMEM;
    lapack_int info = LAPACKE_dgesv(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)B->cols, A->data,
                                    (lapack_int)A->stride, ipiv, B->data, (lapack_int)B->stride);
    free(ipiv);
    return lapack_status(info, PK_ESING);
}

int pk_logdet_lu(pk_mat *A, double *logabsdet, int *sign)
{
    size_t n = A->rows;
    if (A->cols != n)
        return PK_ESHAPE;
    *logabsdet = 0.0;
    *sign = 1;
    if (n == 0)
        return PK_OK;
    lapack_int *ipiv = malloc(n * sizeof *ipiv);
    if (!ipiv)
        return PK_ENOMEM;
    lapack_int info = LAPACKE_dgetrf(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)n, A->data,
                                     (lapack_int)A->stride, ipiv);
    if (info < 0) {
        free(ipiv);
        return PK_EINTERNAL;
    }
    if (info > 0) {
        free(ipiv);
        *sign = 0;
        *logabsdet = -INFINITY;
        return PK_OK;
    }
    for (size_t i = 0; i < n; i++) {
        double d = *pk_mat_at(A, i, i);
        if (d < 0)
            *sign = -*sign;
        if ((size_t)ipiv[i] != i + 1)
            *sign = -*sign;
        *logabsdet += log(fabs(d));
    }
    free(ipiv);
    return PK_OK;
}
