/* probkit/latent.h — latent-factor models: factor analysis (EM), probabilistic PCA
 * (closed form), supervised dictionary learning (low-rank projected gradient descent and
 * block coordinate descent, Lee-Lyu-Yao), and the small L2-penalised logistic regression
 * they use downstream.
 *
 * Data are row-major pk_mat views, n rows (samples) x d columns.  Fitted models are
 * allocated by the fit function and released with the matching *_free (NULL is fine).
 * Randomness only through the pk_rng argument.  Errors: PK_EINVAL (parameters),
 * PK_EDOM (non-finite data), PK_ESING, PK_ENOMEM, with a message in pk_err.
 */
#ifndef PROBKIT_LATENT_H
#define PROBKIT_LATENT_H
#include <stdint.h>

#include "probkit/core.h"
#include "probkit/linalg.h"
#include "probkit/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- factor analysis and PPCA -------------------------------------------- */

/** x = mu + W z + e, z ~ N(0, I_r), e ~ N(0, diag(psi)).  PPCA is the case psi = sigma^2 1. */
typedef struct pk_fa {
    size_t d, r;
    double *mean; /**< d */
    double *W;    /**< d x r loadings */
    double *psi;  /**< d noise variances */
    double loglik; /**< mean log-likelihood per row on the training data */
    int n_iter, converged;
} pk_fa;

typedef struct pk_fa_params {
    size_t r;          /**< latent dimension, 1 <= r < d */
    int max_iter;      /**< EM iterations (>= 1). Default 1000 */
    double tol;        /**< stop when the mean log-likelihood gains < tol. Default 1e-8 */
    double psi_floor;  /**< lower bound on psi relative to the column variance (>= 0). Default 1e-6 */
} pk_fa_params;

pk_fa_params pk_fa_params_default(size_t r);

/** Factor analysis by EM (Rubin-Thayer), started from the PPCA solution.
 *  Works for n < d (the sample covariance is never inverted: d x d solves go through the
 *  r x r Woodbury form).  @return PK_OK, PK_EINVAL, PK_EDOM, PK_ENOMEM. */
int pk_fa_fit(const pk_mat *X, const pk_fa_params *p, pk_fa **out, pk_err *err);
/** Probabilistic PCA in closed form (Tipping-Bishop): W = U_r (L_r - s2 I)^{1/2}, s2 = mean
 *  of the discarded eigenvalues of the ML covariance. */
int pk_ppca_fit(const pk_mat *X, size_t r, pk_fa **out, pk_err *err);
/** Posterior means E[z | x_i] = (I + W' Psi^-1 W)^-1 W' Psi^-1 (x_i - mu) into Z (n x r). */
int pk_fa_transform(const pk_fa *m, const pk_mat *X, double *Z);
/** Mean log-likelihood of the rows of X under the model. */
int pk_fa_score(const pk_fa *m, const pk_mat *X, double *mean_loglik);
/** Model covariance W W' + diag(psi) into C (d x d). */
int pk_fa_covariance(const pk_fa *m, double *C);
/** Model built from given parameters (copied), e.g. an oracle; psi > 0 required. */
int pk_fa_from_params(size_t d, size_t r, const double *mean, const double *W, const double *psi, pk_fa **out);
void pk_fa_free(pk_fa *m);

/* ---- logistic regression (binary, L2) -------------------------------------- */

typedef struct pk_logreg {
    size_t d;
    double *coef;    /**< d */
    double intercept;
    int n_iter;
} pk_logreg;

/** Minimise sum_i logloss(y_i, w'x_i + b) + lambda/2 |w|^2 (intercept unpenalised) by Newton's
 *  method with a backtracking line search.  y in {0, 1}.  lambda >= 0 (0 may diverge on
 *  separable data: then the iteration cap stops it, with PK_OK). */
int pk_logreg_fit(const pk_mat *X, const int32_t *y, double lambda, int max_iter, pk_logreg **out, pk_err *err);
/** P(y = 1 | x) for each row. */
int pk_logreg_predict_proba(const pk_logreg *m, const pk_mat *X, double *p);
void pk_logreg_free(pk_logreg *m);

/* ---- supervised dictionary learning ---------------------------------------- */

typedef enum pk_sdl_algo {
    PK_SDL_LPGD = 0, /**< low-rank projected gradient descent on (A = W beta, B = W H) */
    PK_SDL_BCD = 1   /**< block coordinate descent on (W, H, beta) */
} pk_sdl_algo;

typedef struct pk_sdl_params {
    size_t r;        /**< dictionary size (rank), >= 1 */
    double xi;       /**< weight of the reconstruction term xi |X - W H|_F^2, >= 0 */
    double nu;       /**< L2 penalty on the filter A = W beta and covariate coefficients, >= 0. Default 0 */
    double step;     /**< LPGD / BCD gradient step; <= 0 = automatic (1 / Lipschitz bound). Default 0 */
    int max_iter;    /**< iterations (>= 1). Default 200 */
    pk_sdl_algo algo;
} pk_sdl_params;

pk_sdl_params pk_sdl_params_default(size_t r, double xi);

/** A fitted filter-type SDL model: logit(x, z) = a' x + gamma' z + b, a = W beta in span(W). */
typedef struct pk_sdl {
    size_t d, q, r;
    double *W;       /**< d x r dictionary (columns orthogonal after LPGD) */
    double *a;       /**< d: the filter W beta */
    double *gamma;   /**< q: coefficients of the auxiliary covariates */
    double b;        /**< intercept */
    double *objective; /**< max_iter values of the objective per iteration (to show convergence) */
    int n_iter;
} pk_sdl;

/** Fit SDL with auxiliary covariates: X (n x d) features, Zaux (n x q, may be NULL) covariates
 *  entering the logistic part only, y in {0,1}.  Objective (per the paper's filter model):
 *      sum_i logloss(y_i, a' x_i + gamma' z_i + b) + xi |X' - B|_F^2 + nu/2 (|a|^2 + |gamma|^2),
 *      rank([a, B]) <= r  (LPGD)   or   a = W beta, B = W H  (BCD).
 *  rng initialises BCD's factors (LPGD starts at zero). */
int pk_sdl_fit(const pk_mat *X, const pk_mat *Zaux, const int32_t *y, const pk_sdl_params *p, pk_rng *rng,
               pk_sdl **out, pk_err *err);
/** P(y = 1 | x, z) for each row (Zaux NULL when q = 0). */
int pk_sdl_predict_proba(const pk_sdl *m, const pk_mat *X, const pk_mat *Zaux, double *p);
void pk_sdl_free(pk_sdl *m);

#ifdef __cplusplus
}
#endif
#endif
