/* ols_priv.h — helpers shared inside the ols module. */
#ifndef PK_OLS_PRIV_H
#define PK_OLS_PRIV_H

#include "probkit/ols.h"

/* Thin SVD of X (n x p, k = min(n, p)) in column-major pieces: U n x k
 * (lda n), s (k, descending), Vt k x p (lda k).  Caller frees all three. */
int pk_ols_svd_parts(const pk_mat *X, double **U, double **s, double **Vt);

/* Number of leading |d[j]| above tol * |d[0]| (d in non-increasing magnitude). */
size_t pk_ols_rank_from(const double *d, size_t k, double tol);

#endif
