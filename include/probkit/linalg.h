/* probkit/linalg.h — dense row-major double matrices over CBLAS and LAPACKE.
 *
 * A pk_mat is a view: `data` points at element (0,0), element (i,j) is
 * data[i*stride + j].  Matrices made by pk_mat_new own their storage and are
 * released by pk_mat_free; views (pk_mat_view, pk_mat_rows) own nothing.
 * Every LAPACKE info code is mapped to a pk_status (info > 0 -> PK_ESING or
 * PK_EMAXITER, info < 0 -> PK_EINTERNAL).
 */
#ifndef PROBKIT_LINALG_H
#define PROBKIT_LINALG_H

#include "probkit/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pk_mat {
    size_t rows, cols, stride;
    double *data;
    int owner; /* 1 if data was allocated by pk_mat_new */
} pk_mat;

/** Allocate a zeroed rows x cols matrix. Returns NULL on failure or overflow. */
pk_mat *pk_mat_new(size_t rows, size_t cols);
/** Free a matrix made by pk_mat_new (or a heap view). Accepts NULL. */
void pk_mat_free(pk_mat *m);
/** A deep copy (contiguous). NULL on allocation failure. */
pk_mat *pk_mat_dup(const pk_mat *m);
/** A non-owning view of caller memory (contiguous, stride = cols). */
pk_mat pk_mat_view(double *data, size_t rows, size_t cols);
/** A non-owning view of rows [r0, r0+n). */
pk_mat pk_mat_rows(const pk_mat *m, size_t r0, size_t n);

static inline double *pk_mat_at(const pk_mat *m, size_t i, size_t j) { return m->data + i * m->stride + j; }

void pk_mat_set_zero(pk_mat *m);
void pk_mat_set_identity(pk_mat *m);
/** dst <- src (same shape, else PK_ESHAPE). */
int pk_mat_copy(pk_mat *dst, const pk_mat *src);
/** dst <- src^T (dst must be cols x rows). */
int pk_mat_transpose(pk_mat *dst, const pk_mat *src);

/** C <- alpha op(A) op(B) + beta C, op = transpose when trans* != 0. */
int pk_gemm(int transA, int transB, double alpha, const pk_mat *A, const pk_mat *B, double beta, pk_mat *C);
/** y <- alpha op(A) x + beta y. */
int pk_gemv(int transA, double alpha, const pk_mat *A, const double *x, double beta, double *y);
/** C <- alpha A A^T + beta C (trans = 0) or alpha A^T A + beta C (trans = 1); full C filled. */
int pk_syrk(int trans, double alpha, const pk_mat *A, double beta, pk_mat *C);
double pk_dot(const double *x, const double *y, size_t n);
double pk_nrm2(const double *x, size_t n);

/** In-place lower Cholesky A = L L^T (upper triangle zeroed).  If A is not
 *  positive definite, retries with jitter*mean(diag) added to the diagonal,
 *  growing 10x per try up to max_tries; the jitter used is returned in
 *  *jitter_used (0 if none).  jitter <= 0 disables escalation.
 *  @return PK_OK, PK_ESING when every try fails, PK_ESHAPE if not square. */
int pk_cholesky(pk_mat *A, double jitter, int max_tries, double *jitter_used);
/** Solve L X = B (trans=0) or L^T X = B (trans=1) in place for lower L; B is n x k. */
int pk_trsm_lower(const pk_mat *L, int trans, pk_mat *B);
/** Solve A X = B given the Cholesky factor L of A; B overwritten by X. */
int pk_cholesky_solve(const pk_mat *L, pk_mat *B);
/** log det A = 2 sum log L_ii from its Cholesky factor. */
double pk_cholesky_logdet(const pk_mat *L);
/** Inverse of A from its Cholesky factor into Ainv (n x n). */
int pk_cholesky_inverse(const pk_mat *L, pk_mat *Ainv);

/** Symmetric eigendecomposition: A (n x n, lower triangle read) is overwritten
 *  by eigenvectors in columns; w gets ascending eigenvalues. */
int pk_syev(pk_mat *A, double *w);

/** Thin SVD of A (m x n, k = min(m,n)): A = U diag(s) Vt.  A is destroyed.
 *  U is m x k, s has k entries (descending), Vt is k x n.  U or Vt may be NULL. */
int pk_svd(pk_mat *A, pk_mat *U, double *s, pk_mat *Vt);

/** Householder QR in place (LAPACK dgeqrf layout); tau has min(m,n) entries. */
int pk_qr(pk_mat *A, double *tau);

/** General solve A X = B by LU (A destroyed, B overwritten). */
int pk_solve(pk_mat *A, pk_mat *B);

/** log |det A| by LU (A destroyed); *sign gets the sign of det A (0 if singular). */
int pk_logdet_lu(pk_mat *A, double *logabsdet, int *sign);

#ifdef __cplusplus
}
#endif
#endif
