/* probkit/cluster.h — K-means, Gaussian mixtures by EM, SDP clustering
 * (Peng-Wei relaxation and iLA-SDP) and clustering metrics.
 *
 * Data are row-major pk_mat views: n rows (points) x d columns (features).
 * Every fit returns a freshly allocated model that the caller frees with the
 * matching *_free (which accepts NULL).  Nothing here keeps global state;
 * randomness comes only from the pk_rng argument.  Functions are re-entrant;
 * the heavy loops use OpenMP threads when built with PK_OPENMP.
 *
 * Errors: PK_EINVAL (bad parameter: k = 0, k > n, ...), PK_EDOM (NaN/inf in
 * the data), PK_ESING (a covariance stayed singular after regularisation),
 * PK_ENOMEM; the pk_err message names the offending input.
 */
#ifndef PROBKIT_CLUSTER_H
#define PROBKIT_CLUSTER_H
#include <stdint.h>

#include "probkit/core.h"
#include "probkit/linalg.h"
#include "probkit/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- fitting on rows split across processes ------------------------------------- */

/** A sum-allreduce supplied by the caller (an MPI_Allreduce wrapper, or threads with a barrier),
 *  so that several participants, each holding only its own rows, fit one model together.
 *  Every participant must call the same fit with the same parameters and the same rng state;
 *  they then perform the same sequence of reductions and end with the same model (equal to
 *  the single-process fit up to floating-point summation order).  The library itself has no
 *  MPI dependency. */
typedef struct pk_allreduce {
    int rank, size; /**< this participant (0-based) and how many there are (>= 1) */
    /** In place: buf[0..n) <- sum of buf over all participants.  Return 0 on success. */
    int (*sum)(double *buf, size_t n, void *ctx);
    void *ctx;
} pk_allreduce;

/* ---- K-means -------------------------------------------------------------- */

typedef enum pk_kmeans_algo {
    PK_KMEANS_LLOYD = 0,   /**< plain Lloyd iterations */
    PK_KMEANS_HAMERLY = 1, /**< Lloyd with Hamerly's triangle-inequality bounds (same result, fewer distances) */
    PK_KMEANS_MINIBATCH = 2 /**< Sculley's mini-batch updates (approximate, for large n) */
} pk_kmeans_algo;

typedef enum pk_kmeans_init {
    PK_KMEANS_INIT_PP = 0,     /**< k-means++ (greedy, 2 + log k candidates per step, as scikit-learn) */
    PK_KMEANS_INIT_RANDOM = 1, /**< k distinct rows chosen uniformly */
    PK_KMEANS_INIT_GIVEN = 2   /**< start from `init_centers` (then n_init is forced to 1) */
} pk_kmeans_init;

/** How Lloyd's full assignment passes screen the nearest centre.  Every choice is certified
 *  (rows too close to call go on to float and then double), so labels never depend on it. */
typedef enum pk_kmeans_screen {
    PK_KMEANS_SCREEN_AUTO = 0,  /**< bfloat16 dot products where the CPU has AVX-512 BF16 (Lloyd
                                     only, 16 <= d <= 1024; about n*d*4 bytes, in place of the float
                                     copy's n*d*4), else float */
    PK_KMEANS_SCREEN_FLOAT = 1  /**< float only (the portable path) */
} pk_kmeans_screen;

typedef struct pk_kmeans_params {
    size_t k;                  /**< number of clusters, 1 <= k <= n */
    int n_init;                /**< restarts (>= 1); the lowest inertia wins. Default 1 */
    int max_iter;              /**< Lloyd iterations per restart (>= 1). Default 300 */
    double tol;                /**< stop when the total squared centre shift <= tol * mean column variance. Default 1e-4 */
    pk_kmeans_algo algo;       /**< default PK_KMEANS_HAMERLY */
    pk_kmeans_init init;       /**< default PK_KMEANS_INIT_PP */
    const double *init_centers;/**< k x d row-major, only for PK_KMEANS_INIT_GIVEN (borrowed) */
    size_t batch_size;         /**< mini-batch size (>= 1), only for PK_KMEANS_MINIBATCH. Default 1024 */
    const pk_allreduce *reduce; /**< NULL (default): X is all the data.  Otherwise X is this participant's
                                     rows; labels/n_dist are local, centres and inertia global.  Mini-batch
                                     is not supported (PK_ENOTSUP); an empty cluster keeps its centre. */
    pk_kmeans_screen screen;    /**< precision of the first nearest-centre screening (labels are the
                                     same either way).  Default PK_KMEANS_SCREEN_AUTO */
} pk_kmeans_params;

pk_kmeans_params pk_kmeans_params_default(size_t k);
/** PK_OK or PK_EINVAL with a message naming the bad field. */
int pk_kmeans_params_check(const pk_kmeans_params *p, size_t n, size_t d, pk_err *err);

/** A fitted K-means model (all fields owned by the model). */
typedef struct pk_kmeans {
    size_t k, d, n;
    double *centers;  /**< k x d */
    int32_t *labels;  /**< n, the training assignments */
    double inertia;   /**< sum of squared distances to the assigned centre */
    int n_iter;       /**< iterations of the winning restart */
    int converged;    /**< 1 if the winning restart met tol / stable labels */
    int64_t n_dist;   /**< point-centre distances computed (all restarts): shows Hamerly's savings */
    int64_t n_open;   /**< row searches the bfloat16 screening could not settle (went on to float) */
    int64_t n_double; /**< row searches settled only by the double-precision rescan */
} pk_kmeans;

/** Fit K-means to X (n x d). Deterministic given the rng state (for any OpenMP thread count).
 *  The nearest-centre search runs on a float copy of X (n*d floats of extra memory) with a
 *  certified error bound; rows whose two nearest centres are too close to call in float are
 *  rescanned in double, so the labels equal an all-double search (up to exact ties).  Lloyd
 *  with PK_KMEANS_SCREEN_AUTO on a CPU with AVX-512 BF16 screens in bfloat16 instead (same
 *  certification, same labels; see pk_kmeans_screen).
 *  @return PK_OK; PK_EINVAL (params), PK_EDOM (non-finite data), PK_ENOMEM. */
int pk_kmeans_fit(const pk_mat *X, const pk_kmeans_params *p, pk_rng *rng, pk_kmeans **out, pk_err *err);
/** Nearest-centre labels for the rows of X (X->cols must equal km->d); labels has X->rows entries.
 *  If inertia is non-NULL it receives the sum of squared distances. */
int pk_kmeans_predict(const pk_kmeans *km, const pk_mat *X, int32_t *labels, double *inertia);
void pk_kmeans_free(pk_kmeans *km);
/** k-means++ seeding alone: writes k x d centres (as scikit-learn's greedy variant). */
int pk_kmeans_plusplus(const pk_mat *X, size_t k, pk_rng *rng, double *centers);

/* ---- Gaussian mixtures ---------------------------------------------------- */

typedef enum pk_gmm_cov {
    PK_GMM_FULL = 0,      /**< one full d x d covariance per component */
    PK_GMM_DIAG = 1,      /**< one diagonal covariance per component */
    PK_GMM_SPHERICAL = 2, /**< one variance per component */
    PK_GMM_TIED = 3       /**< one full covariance shared by all components */
} pk_gmm_cov;

typedef enum pk_gmm_init {
    PK_GMM_INIT_KMEANS = 0, /**< responsibilities from one K-means run (k-means++ seeding), as scikit-learn */
    PK_GMM_INIT_RANDOM = 1, /**< random normalised responsibilities */
    PK_GMM_INIT_GIVEN = 2   /**< start from init_weights/init_means/init_covs (n_init forced to 1) */
} pk_gmm_init;

typedef struct pk_gmm_params {
    size_t k;             /**< components, 1 <= k <= n */
    pk_gmm_cov cov;       /**< default PK_GMM_FULL */
    double reg_covar;     /**< added to every covariance diagonal, >= 0. Default 1e-6 */
    int max_iter;         /**< EM iterations (>= 1). Default 100 */
    double tol;           /**< stop when the mean log-likelihood changes by < tol (>= 0; 0 = run max_iter). Default 1e-3 */
    int n_init;           /**< restarts (>= 1); the best final log-likelihood wins. Default 1 */
    pk_gmm_init init;     /**< default PK_GMM_INIT_KMEANS */
    const double *init_weights; /**< k (GIVEN only; borrowed) */
    const double *init_means;   /**< k x d (GIVEN only) */
    const double *init_covs;    /**< covariances in the layout of pk_gmm.covs for `cov` (GIVEN only) */
    const pk_allreduce *reduce; /**< NULL (default), or this participant's share of the rows (see
                                     pk_allreduce); lower_bound is then global */
} pk_gmm_params;

pk_gmm_params pk_gmm_params_default(size_t k);
int pk_gmm_params_check(const pk_gmm_params *p, size_t n, size_t d, pk_err *err);

/** A fitted mixture. covs layout: FULL k*d*d, DIAG k*d, SPHERICAL k, TIED d*d. */
typedef struct pk_gmm {
    size_t k, d;
    pk_gmm_cov cov;
    double *weights; /**< k, sum 1 */
    double *means;   /**< k x d */
    double *covs;    /**< see above */
    double *chol;    /**< private: Cholesky factors (lower) of the covariances, same layout as covs for FULL/TIED, sqrt for DIAG/SPHERICAL */
    double lower_bound; /**< mean log-likelihood per point at the last E-step */
    int n_iter;
    int converged;
    double reg_used;  /**< the reg_covar actually applied (escalated if a covariance was singular) */
} pk_gmm;

/** Fit by EM in log space. On singular covariances, reg_covar is raised 10x (up to 1e6 times the
 *  starting value, reported in reg_used) before giving up with PK_ESING. */
int pk_gmm_fit(const pk_mat *X, const pk_gmm_params *p, pk_rng *rng, pk_gmm **out, pk_err *err);
/** Warm start: continue EM from `g` (parameters updated in place), p->init is ignored. */
int pk_gmm_refit(pk_gmm *g, const pk_mat *X, const pk_gmm_params *p, pk_err *err);
/** log p(x_i) for each row into logp (n entries); returns PK_OK. */
int pk_gmm_score_samples(const pk_gmm *g, const pk_mat *X, double *logp);
/** Mean log-likelihood per row. */
int pk_gmm_score(const pk_gmm *g, const pk_mat *X, double *mean_logp);
/** Posterior responsibilities (n x k, rows sum to 1). */
int pk_gmm_predict_proba(const pk_gmm *g, const pk_mat *X, double *resp);
/** MAP component labels. */
int pk_gmm_predict(const pk_gmm *g, const pk_mat *X, int32_t *labels);
/** Draw n points (n x d into x) and their components (may be NULL). */
int pk_gmm_sample(const pk_gmm *g, size_t n, pk_rng *rng, double *x, int32_t *comp);
/** Number of free parameters (as scikit-learn counts them). */
size_t pk_gmm_n_params(const pk_gmm *g);
/** BIC = -2 n score + p log n and AIC = -2 n score + 2p on X. */
int pk_gmm_bic(const pk_gmm *g, const pk_mat *X, double *bic);
int pk_gmm_aic(const pk_gmm *g, const pk_mat *X, double *aic);
void pk_gmm_free(pk_gmm *g);

/* ---- SDP clustering --------------------------------------------------------- */

typedef struct pk_sdp_params {
    size_t k;         /**< clusters, 2 <= k <= n */
    double rho;       /**< ADMM penalty (> 0); 0 = automatic (scaled to the data). Default 0 */
    int max_iter;     /**< ADMM iterations (>= 1). Default 2000 */
    double tol;       /**< primal and dual residual tolerance, relative (> 0). Default 1e-5 */
} pk_sdp_params;

pk_sdp_params pk_sdp_params_default(size_t k);

typedef struct pk_sdp_result {
    size_t n, k;
    double *Z;        /**< n x n solution of the Peng-Wei SDP */
    int32_t *labels;  /**< rounded labels (K-means on the top-k eigenvectors of Z) */
    double objective; /**< <X X^T, Z> at the solution */
    double primal_res, dual_res;
    int n_iter;
    int converged;
} pk_sdp_result;

/** Peng-Wei SDP relaxation of K-means: maximise <A, Z> (A = X X^T, X centred)
 *  subject to Z PSD, Z >= 0, Z 1 = 1, tr Z = k, by ADMM.  PK_EMAXITER is not
 *  returned: an unconverged run is flagged in `converged`. */
int pk_sdp_kmeans(const pk_mat *X, const pk_sdp_params *p, pk_rng *rng, pk_sdp_result **out, pk_err *err);
/** Same, from a given n x n symmetric affinity A (row-major). */
int pk_sdp_kmeans_affinity(const double *A, size_t n, const pk_sdp_params *p, pk_rng *rng, pk_sdp_result **out,
                           pk_err *err);
void pk_sdp_result_free(pk_sdp_result *r);

typedef struct pk_ilasdp_params {
    pk_sdp_params sdp;  /**< ADMM settings for each LA-SDP solve (k taken from here) */
    int max_outer;      /**< likelihood-adjustment rounds (>= 1). Default 20 */
    double shrink;      /**< covariance shrinkage towards tr(S)/d I in [0,1]; < 0 = automatic (d/(n_k+d)). Default -1 */
    double reg;         /**< ridge added to each covariance diagonal (relative to its mean variance), >= 0. Default 1e-6 */
    const int32_t *init_labels; /**< n initial labels (borrowed), or NULL = Peng-Wei SDP labels */
} pk_ilasdp_params;

pk_ilasdp_params pk_ilasdp_params_default(size_t k);

typedef struct pk_ilasdp_result {
    size_t n, k, d;
    int32_t *labels;      /**< final labels */
    double *Zsum;         /**< n x n: sum_k Z_k of the last LA-SDP */
    double *covs;         /**< k x d x d final covariance estimates */
    double loglik;        /**< profile classification log-likelihood of the final labels */
    int n_outer;
    int converged;        /**< labels stopped changing */
} pk_ilasdp_result;

/** Iterative likelihood-adjusted SDP (Zhuang, Chen, Yang 2023): see docs/cluster.md. */
int pk_ilasdp(const pk_mat *X, const pk_ilasdp_params *p, pk_rng *rng, pk_ilasdp_result **out, pk_err *err);
void pk_ilasdp_result_free(pk_ilasdp_result *r);

/* ---- metrics ---------------------------------------------------------------- */

/** Fraction of points mis-clustered under the best matching of predicted to true labels
 *  (Hungarian algorithm).  Labels are 0-based ints; negative labels are errors (PK_EINVAL). */
int pk_cluster_error(const int32_t *truth, const int32_t *pred, size_t n, double *err_rate);
/** Adjusted Rand index (Hubert-Arabie). */
int pk_cluster_ari(const int32_t *a, const int32_t *b, size_t n, double *ari);
/** Normalised mutual information, arithmetic-mean normalisation (scikit-learn's default). */
int pk_cluster_nmi(const int32_t *a, const int32_t *b, size_t n, double *nmi);
/** Minimum-cost assignment for an m x m cost matrix (row-major): perm[i] = column of row i. */
int pk_hungarian(const double *cost, size_t m, size_t *perm);

#ifdef __cplusplus
}
#endif
#endif
