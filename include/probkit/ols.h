/* probkit/ols.h — ordinary least squares with full diagnostics.
 *
 * pk_ols_fit solves min_b ||X b - y||^2 for a dense n x p design X by
 * Householder QR with column pivoting (default) or by the SVD, and reports
 * what a regression table needs: coefficients, standard errors, t and
 * two-sided p values, residuals, fitted values, the hat-matrix diagonal,
 * R^2 / adjusted R^2, the residual variance, the 2-norm condition number,
 * the numerical rank and which columns are aliased, and optionally the
 * Moore-Penrose pseudoinverse X^+.
 *
 * pk_ols_identities measures how far a fit is from the exact identities of
 * least squares that the Gauss-Markov adjunction rests on (docs/ols.md).
 *
 * Nothing here keeps global state; functions are safe to call from several
 * threads on different objects.
 */
#ifndef PROBKIT_OLS_H
#define PROBKIT_OLS_H

#include "probkit/core.h"
#include "probkit/linalg.h"
#include "probkit/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pk_ols_method {
    PK_OLS_QR = 0, /**< pivoted Householder QR (LAPACK dgeqp3); aliased columns get NaN coefficients */
    PK_OLS_SVD = 1 /**< thin SVD; rank-deficient fits give the minimum-norm solution (as numpy lstsq) */
} pk_ols_method;

typedef struct pk_ols_params {
    pk_ols_method method;     /**< PK_OLS_QR (default) or PK_OLS_SVD */
    double rcond;             /**< relative tolerance for the numerical rank: a direction counts when its
                                   singular value (QR: |R_jj|) exceeds rcond times the largest.
                                   <= 0 (default) means max(n, p) * DBL_EPSILON; must be < 1 */
    int allow_rank_deficient; /**< 0 (default): a rank-deficient X is an error (PK_ESING, message names the
                                   aliased columns, *out still filled); 1: fit anyway and return PK_OK */
    int compute_hat;          /**< 1 (default): fill `hat` (costs one more n x p x p product) */
    int compute_pinv;         /**< 0 (default): 1 fills `pinv` (p x n, from the SVD) */
} pk_ols_params;

pk_ols_params pk_ols_params_default(void);
/** PK_OK, or PK_EINVAL with a message naming the bad field. */
int pk_ols_params_check(const pk_ols_params *par, pk_err *err);

/** A fitted regression. All arrays are owned by the object. Indices refer to
 *  the columns of X as given (pivoting is undone). */
typedef struct pk_ols {
    size_t n, p;       /**< rows and columns of X */
    size_t rank;       /**< numerical rank of X */
    int *aliased;      /**< p flags: 1 if the column is (numerically) a linear combination of the others.
                            QR: the columns dropped by pivoting; SVD: the columns that load on the null space */
    int has_constant;  /**< 1 if some column of X is constant and non-zero (then R^2 is centred) */
    double *coef;      /**< p coefficients (QR: NaN for aliased columns) */
    double *se;        /**< p standard errors sqrt(diag(sigma2 (X^T X)^+)); NaN when df_resid == 0 */
    double *tval;      /**< p t statistics coef / se */
    double *pval;      /**< p two-sided p values from Student's t with df_resid degrees of freedom */
    double *cov;       /**< p x p covariance sigma2 (X^T X)^+ (rows/cols of aliased columns NaN under QR) */
    double *fitted;    /**< n values X coef */
    double *resid;     /**< n residuals y - X coef */
    double *hat;       /**< n leverages diag(X X^+), or NULL if not requested */
    double *pinv;      /**< p x n Moore-Penrose pseudoinverse X^+ (row-major), or NULL if not requested */
    double *sv;        /**< min(n, p) singular values of X, descending */
    double cond;       /**< sv[0] / sv[min(n,p)-1] (inf if singular) */
    double rss;        /**< residual sum of squares */
    double tss;        /**< total sum of squares (centred when has_constant, else sum y^2) */
    double r2, adj_r2; /**< 1 - rss/tss and 1 - (1 - r2)(n - has_constant)/df_resid (NaN if df_resid == 0) */
    double df_resid;   /**< n - rank */
    double sigma2;     /**< rss / df_resid (NaN if df_resid == 0) */
    double fstat;      /**< F statistic for all non-constant coefficients = 0 (NaN when undefined) */
    double f_pvalue;   /**< its p value */
    double loglik;     /**< Gaussian log-likelihood at the MLE of the noise variance */
    double aic, bic;   /**< -2 loglik + 2 rank, -2 loglik + log(n) rank */
    pk_ols_method method;
} pk_ols;

/** Fit y ~ X.  X is n x p (any stride), y has n entries; neither is modified.
 *  @return PK_OK; PK_EINVAL (NULL arguments, n == 0, p == 0, bad params);
 *  PK_EDOM if X or y holds a NaN or infinity (message gives row and column);
 *  PK_ESING if X is rank-deficient and par->allow_rank_deficient is 0 (the fit
 *  is still returned in *out, message lists the aliased columns);
 *  PK_ENOMEM; PK_EMAXITER if the SVD does not converge.
 *  On error other than PK_ESING, *out is NULL.  par may be NULL (defaults). */
int pk_ols_fit(const pk_mat *X, const double *y, const pk_ols_params *par, pk_ols **out, pk_err *err);

void pk_ols_free(pk_ols *fit);

/** Predict X_new coef for m rows (X_new m x p; aliased columns are skipped). */
int pk_ols_predict(const pk_ols *fit, const pk_mat *Xnew, double *yhat);

/** Largest violations of the least-squares identities, each relative (see docs/ols.md). */
typedef struct pk_ols_identities {
    double normal_eq;    /**< max_j |(X^T r)_j| / (||X||_F ||y||): residual orthogonal to the columns */
    double hat_idem;     /**< max over probes v of ||H(Hv) - Hv|| / ||v||, H = X X^+ */
    double hat_sym;      /**< max over probe pairs of |u^T H v - v^T H u| / (||u|| ||v||) */
    double pinv_left;    /**< max |(X^+ X - I)_ij| (NaN unless full column rank) */
    double penrose;      /**< max |(X X^+ X - X)_ij| / max |X_ij| */
    double pythagoras;   /**< max over random a of | ||Xa-y||^2 - ||X(a - X^+y)||^2 - ||r||^2 | / ||Xa-y||^2 */
    double pinv_coef;    /**< max |coef - X^+ y| / max |X^+ y| (NaN when rank-deficient under QR) */
} pk_ols_identities;

/** Measure the identities for a fit made with compute_pinv = 1, using
 *  `nprobe` random vectors (>= 1) drawn from `rng`.  Cost O(n p (p + nprobe)).
 *  @return PK_OK, PK_EINVAL (no pinv in the fit, shapes disagree), PK_ENOMEM. */
int pk_ols_check_identities(const pk_ols *fit, const pk_mat *X, const double *y, int nprobe, pk_rng *rng,
                            pk_ols_identities *out);

#ifdef __cplusplus
}
#endif
#endif
