/* probkit/gp.h — Gaussian-process regression, Student-t processes and
 * hyperparameter inference.
 *
 * Kernels are small trees (base kernels combined by sums and products).  Every
 * kernel parameter is stored on the log scale, so unconstrained optimisers and
 * samplers can move them freely; gradients are with respect to those logs.
 *
 * Base kernels and their parameter vectors (all natural logs):
 *   SE, Matern 1/2, 3/2, 5/2   [log sf2, log ell_1 .. log ell_m]   m = dim (ARD) or 1
 *       k = sf2 * g(r),  r^2 = sum_j (x_j - y_j)^2 / ell_j^2
 *   LINEAR                     [log sf2, log sb2]   k = sb2 + sf2 * x.y
 *   PERIODIC                   [log sf2, log ell, log period]
 *       k = sf2 * exp(-2 sin^2(pi |x - y| / period) / ell^2)
 *   NNGP_RELU, NNGP_ERF        [log sw2, log sb2] and an integer depth L >= 1:
 *       the infinite-width limit of an L-hidden-layer network with weight
 *       variance sw2 / fan_in and bias variance sb2 (arc-cosine recursion of
 *       Cho & Saul for ReLU, Williams' arcsine kernel for erf).
 * A SUM or PRODUCT node concatenates its children's parameters (left first).
 *
 * Thread safety: kernels and GPs are not shared between threads while being
 * modified; const evaluation of a kernel is reentrant.
 */
#ifndef PROBKIT_GP_H
#define PROBKIT_GP_H

#include "probkit/core.h"
#include "probkit/linalg.h"
#include "probkit/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pk_gp_kernel_type {
    PK_GP_KERNEL_SE = 0,
    PK_GP_KERNEL_MATERN12,
    PK_GP_KERNEL_MATERN32,
    PK_GP_KERNEL_MATERN52,
    PK_GP_KERNEL_LINEAR,
    PK_GP_KERNEL_PERIODIC,
    PK_GP_KERNEL_NNGP_RELU,
    PK_GP_KERNEL_NNGP_ERF,
    PK_GP_KERNEL_SUM,
    PK_GP_KERNEL_PRODUCT
} pk_gp_kernel_type;

typedef struct pk_gp_kernel pk_gp_kernel;

/** A base kernel on inputs of dimension `dim` (>= 1).  `ard` (SE/Matern only)
 *  gives one length scale per input.  `depth` is used by the NNGP kernels
 *  (>= 1, <= 64) and ignored otherwise.  Parameters start at 0 (unit scales),
 *  NNGP at sw2 = 1.6, sb2 = 0.1.
 *  @return NULL on a bad type/dim/depth or out of memory. */
pk_gp_kernel *pk_gp_kernel_new(pk_gp_kernel_type type, size_t dim, int ard, int depth);
/** a + b or a * b (type PK_GP_KERNEL_SUM / PRODUCT).  Takes ownership of both
 *  children, also on failure (they are freed).  NULL if dims differ or OOM. */
pk_gp_kernel *pk_gp_kernel_combine(pk_gp_kernel_type type, pk_gp_kernel *a, pk_gp_kernel *b);
/** A deep copy, NULL on OOM. */
pk_gp_kernel *pk_gp_kernel_dup(const pk_gp_kernel *k);
void pk_gp_kernel_free(pk_gp_kernel *k);

size_t pk_gp_kernel_nparams(const pk_gp_kernel *k);
size_t pk_gp_kernel_dim(const pk_gp_kernel *k);
pk_gp_kernel_type pk_gp_kernel_kind(const pk_gp_kernel *k);
/** Copy the log-parameters out / in (nparams values). */
void pk_gp_kernel_get_params(const pk_gp_kernel *k, double *theta);
void pk_gp_kernel_set_params(pk_gp_kernel *k, const double *theta);
/** A name for parameter i ("se.log_sf2", "matern52.log_ell[3]", ...) into buf. */
void pk_gp_kernel_param_name(const pk_gp_kernel *k, size_t i, char *buf, size_t len);

/** k(x, y); if grad != NULL it receives d k / d theta (nparams values). */
double pk_gp_kernel_eval(const pk_gp_kernel *k, const double *x, const double *y, double *grad);
/** k(x, y) and d k / d x (dim values) into dx.  Exact for the stationary,
 *  linear and periodic kernels; central differences for the NNGP kernels. */
double pk_gp_kernel_eval_dx(const pk_gp_kernel *k, const double *x, const double *y, double *dx);
/** K[i][j] = k(X1_i, X2_j); X1 is n1 x dim, X2 n2 x dim, K n1 x n2.
 *  symmetric != 0 (X1 == X2) fills only the lower triangle and mirrors it. */
int pk_gp_kernel_matrix(const pk_gp_kernel *k, const pk_mat *X1, const pk_mat *X2, int symmetric, pk_mat *K);
/** g[p] += sum_ij W_ij d K_ij / d theta_p over the symmetric matrix K(X, X)
 *  (W symmetric, n x n).  This is the contraction behind every marginal
 *  likelihood gradient; it never forms the n x n x p tensor. */
int pk_gp_kernel_grad_contract(const pk_gp_kernel *k, const pk_mat *X, const pk_mat *W, double *g);

/* ---- exact GP regression ----------------------------------------------------- */

typedef enum pk_gp_mean_mode {
    PK_GP_MEAN_ZERO = 0, /**< m(x) = 0 */
    PK_GP_MEAN_FIXED,    /**< m(x) = a constant set by pk_gp_set_mean, not a hyperparameter */
    PK_GP_MEAN_CONSTANT  /**< a constant that is the last hyperparameter (natural scale) */
} pk_gp_mean_mode;

typedef struct pk_gp pk_gp;

/** A GP with the given kernel (ownership taken, also on failure), Gaussian
 *  noise of variance 1e-2 and the given mean mode.  NULL on OOM/NULL kernel. */
pk_gp *pk_gp_new(pk_gp_kernel *kernel, pk_gp_mean_mode mean_mode);
void pk_gp_free(pk_gp *gp);
/** The kernel (owned by the GP; changing its parameters invalidates the factor). */
pk_gp_kernel *pk_gp_kernel_of(pk_gp *gp);
/** Read-only access that keeps the factorisation. */
const pk_gp_kernel *pk_gp_kernel_const(const pk_gp *gp);
/** The noise variance in use (exp(log noise) + floor). */
double pk_gp_noise_var(const pk_gp *gp);

/** Hyperparameters: [kernel log-params..., log noise variance, (mean)].
 *  Setting exactly the values already held keeps the factorisation (so a
 *  value and then a gradient at one point cost one Cholesky). */
size_t pk_gp_nhyper(const pk_gp *gp);
void pk_gp_get_hyper(const pk_gp *gp, double *h);
void pk_gp_set_hyper(pk_gp *gp, const double *h);
void pk_gp_set_mean(pk_gp *gp, double mean);
double pk_gp_get_mean(const pk_gp *gp);
/** A floor added to the noise variance (default 1e-10); Cholesky failures then
 *  escalate jitter (see pk_cholesky). */
void pk_gp_set_noise_floor(pk_gp *gp, double floor);

/** Copy the training data: X n x dim (dim must match the kernel), y n values.
 *  n may be 0.  Invalidates the factorisation. */
int pk_gp_set_data(pk_gp *gp, const pk_mat *X, const double *y, pk_err *err);
size_t pk_gp_n(const pk_gp *gp);
/** Factorise K + noise I with the current hyperparameters (done lazily by the
 *  functions below).  PK_ESING when even jitter escalation fails. */
int pk_gp_update(pk_gp *gp);

/** Log marginal likelihood log p(y | X, hyper); if grad != NULL, its gradient
 *  with respect to the hyperparameters (pk_gp_nhyper values). */
int pk_gp_log_marginal(pk_gp *gp, double *lml, double *grad);

/** Predictive mean and variance of the latent f at m test points Xs (m x dim);
 *  var may be NULL; with include_noise the noise variance is added. */
int pk_gp_predict(pk_gp *gp, const pk_mat *Xs, double *mean, double *var, int include_noise);
/** Mean, variance of f at one point and their gradients w.r.t. x (dim each). */
int pk_gp_predict_dx(pk_gp *gp, const double *x, double *mean, double *var, double *dmean, double *dvar);
/** Full predictive covariance of f at Xs into C (m x m). */
int pk_gp_predict_cov(pk_gp *gp, const pk_mat *Xs, double *mean, pk_mat *C);
/** ns joint posterior samples of f at Xs into S (ns x m). */
int pk_gp_sample_posterior(pk_gp *gp, const pk_mat *Xs, size_t ns, pk_rng *rng, pk_mat *S);

/** alpha = (K + noise I)^{-1} (y - m) and the Cholesky factor, for callers
 *  that reuse them (valid until the data or hyperparameters change). */
const double *pk_gp_alpha(pk_gp *gp);
const pk_mat *pk_gp_chol(pk_gp *gp);
const pk_mat *pk_gp_X(const pk_gp *gp);
const double *pk_gp_y(const pk_gp *gp);

/* ---- type-II maximum likelihood ------------------------------------------------- */

typedef struct pk_gp_fit_params {
    int restarts;       /**< extra random starts besides the current point, >= 0 (default 2) */
    int max_iter;       /**< L-BFGS iterations per start (memory 10, Armijo backtracking), >= 1 (default 200) */
    double log_lo;      /**< box for random starts and soft bounds of log-params (default -7) */
    double log_hi;      /**< (default 7); a quadratic penalty acts outside [lo-2, hi+2] */
    double gtol;        /**< stop when every |gradient| < gtol (default 1e-5); L-BFGS also stops
                             when the relative decrease falls below L-BFGS-B's default 2.2e-9 */
} pk_gp_fit_params;

/** Work done by the last pk_gp_fit (or pk_tp_fit), for comparing optimisers
 *  at equal work.  Line-search trial points get the objective only (one
 *  Cholesky); accepted points then get the gradient from the same
 *  factorisation (one inverse), so a gradient costs about twice a value. */
typedef struct pk_gp_fit_info {
    int starts;      /**< optimiser runs: 1 + restarts */
    int iterations;  /**< accepted L-BFGS steps, summed over starts */
    int evaluations; /**< points where the objective was computed, summed over starts */
    int gradients;   /**< of those, points where the gradient was computed too */
    int failures;    /**< evaluation calls whose factorisation failed */
} pk_gp_fit_info;

pk_gp_fit_params pk_gp_fit_params_default(void);
int pk_gp_fit_params_check(const pk_gp_fit_params *p, pk_err *err);
/** Maximise the log marginal likelihood over all hyperparameters from the
 *  current point and `restarts` random starts (drawn uniformly in
 *  [log_lo, log_hi] for log-parameters, inside the data range for the mean);
 *  leaves the best found.  *lml (may be NULL) gets its value. */
int pk_gp_fit(pk_gp *gp, const pk_gp_fit_params *p, pk_rng *rng, double *lml, pk_err *err);
/** The work counts of the last pk_gp_fit on gp (zeros before any fit). */
pk_gp_fit_info pk_gp_last_fit_info(const pk_gp *gp);

/* ---- slice sampling (Neal 2003; Murray & Adams 2010 style) ----------------------- */

typedef double (*pk_gp_logdensity_fn)(const double *x, void *ctx);

/** One slice-sampling update of x (n values) for the log density f.
 *  compwise != 0 updates each coordinate in turn; otherwise one update along a
 *  random direction.  sigma is the initial bracket width (stepping out with at
 *  most max_steps_out steps).  f(x) must be finite at the start.
 *  @return PK_OK, PK_EDOM if f(x) is not finite, PK_EMAXITER if shrinking
 *  failed to find a point (x is then left unchanged). */
int pk_gp_slice_sample(double *x, size_t n, pk_gp_logdensity_fn f, void *ctx, double sigma, int compwise,
                    int max_steps_out, pk_rng *rng);

/* ---- Spearmint's hyperparameter posterior ------------------------------------------ */

/** Hyperparameters of a stationary ARD GP as Spearmint parameterises them:
 *  constant mean, amplitude amp2, noise variance, length scales ls[dim]. */
typedef struct pk_gp_spearmint_state {
    size_t dim;
    double mean, amp2, noise;
    double ls[64];
} pk_gp_spearmint_state;

/** Spearmint's priors on inputs in the unit cube: ls_j ~ U(0, max_ls = 2),
 *  log amp2 ~ N(0, 1) (as a density on amp2 in Spearmint's natural-scale
 *  slice sampler), noise ~ horseshoe(0.1), mean ~ U[min y, max y].
 *  Returns -inf outside the support. */
double pk_gp_spearmint_log_prior(const pk_gp_spearmint_state *s, double ymin, double ymax);
/** Start values Spearmint uses: ls = 1, amp2 = std(y) + 1e-4, noise = 1e-3, mean = mean(y). */
void pk_gp_spearmint_init(pk_gp_spearmint_state *s, size_t dim, const double *y, size_t n);
/** Copy a state into a GP whose kernel is one stationary ARD kernel (SE or
 *  Matern) with dim <= 64 and mean mode CONSTANT. */
int pk_gp_spearmint_apply(pk_gp *gp, const pk_gp_spearmint_state *s);
/** One MCMC sweep of Spearmint's hyperparameter posterior (the priors
 *  above, times the marginal likelihood): component-wise slice updates of the
 *  mean (natural units), log amp2 and log noise (Jacobians included), then of
 *  the length scales.  Spearmint's own joint natural-scale update of (mean,
 *  amp2, noise) stops moving once the noise posterior collapses towards zero
 *  on noiseless objectives; this parameterisation keeps mixing.  The GP must
 *  hold the data (its kernel as for pk_gp_spearmint_apply); on return s and
 *  the GP hold the new state.  A kept state outside the new data's [min y,
 *  max y] restarts its mean at the midpoint.  PK_EINVAL without data or with
 *  dim outside 1..64; PK_EDOM if the start has zero density. */
int pk_gp_spearmint_sweep(pk_gp *gp, pk_gp_spearmint_state *s, pk_rng *rng);

/* ---- Student-t process (scale mixture of GPs) --------------------------------------- */

/** The process f | s2 ~ GP(0, s2 (k + noise)), s2 ~ InvGamma(a, b) (the
 *  inverse-gamma prior on the last-layer variance of "Scale Mixtures of
 *  NNGPs").  Integrating s2 out, y ~ multivariate t with 2a degrees of freedom
 *  and scale (b / a) (K + noise I); the predictive at x* is a Student t with
 *  2a + n degrees of freedom, mean k*^T (K + noise I)^{-1} y and scale^2
 *  (b + y^T (K + noise I)^{-1} y / 2) / (a + n / 2) * (k** - k*^T (K + noise I)^{-1} k*),
 *  with the noise variance added to k** for predictions of y rather than f.
 *  It wraps a GP (zero mean); its hyperparameters are the GP's followed by
 *  log a, log b. */
typedef struct pk_tp pk_tp;

/** Takes ownership of the kernel, also on failure. a, b start at 2, 2. */
pk_tp *pk_tp_new(pk_gp_kernel *kernel);
void pk_tp_free(pk_tp *tp);
pk_gp *pk_tp_gp(pk_tp *tp);
size_t pk_tp_nhyper(const pk_tp *tp);
void pk_tp_get_hyper(const pk_tp *tp, double *h);
void pk_tp_set_hyper(pk_tp *tp, const double *h);
int pk_tp_set_data(pk_tp *tp, const pk_mat *X, const double *y, pk_err *err);
/** log p(y) under the multivariate t, and optionally its gradient. */
int pk_tp_log_marginal(pk_tp *tp, double *lml, double *grad);
/** Predictive Student-t of f (include_noise = 0) or y (1) at Xs: location,
 *  squared scale and degrees of freedom (the variance is scale2 * dof / (dof - 2)). */
int pk_tp_predict(pk_tp *tp, const pk_mat *Xs, double *loc, double *scale2, double *dof, int include_noise);
/** Log density of a Student t with location, squared scale and dof at x. */
double pk_student_t_logpdf(double x, double loc, double scale2, double dof);
/** Keep a at its current value in pk_tp_fit (fixed != 0), e.g. a chosen on
 *  validation data as in the paper's experiments; by default a is fitted.
 *  Note that a alone is poorly identified by one data set: y holds a single
 *  draw of the scale, so maximising over a tends to a -> infinity, the GP. */
void pk_tp_fix_a(pk_tp *tp, int fixed);
/** Type-II ML over kernel, noise, a and b (same options as pk_gp_fit). */
int pk_tp_fit(pk_tp *tp, const pk_gp_fit_params *p, pk_rng *rng, double *lml, pk_err *err);
/** The work counts of the last pk_tp_fit on tp. */
pk_gp_fit_info pk_tp_last_fit_info(const pk_tp *tp);

/* ---- NNGP regression trained as in "Scale Mixtures of NNGPs" ----------------------
 * The authors' regression protocol (experiments/regression/train.py, test.py):
 * the NNGP of an MLP with `depth` ReLU hidden layers, weight std w and bias std
 * s in each, and a readout of std ls without bias, K = ls^2 E[relu(h_L) relu(h_L')].
 * GP: y ~ N(0, K + eps I); t-process: y ~ multivariate t, 2a dof, scale
 * (b / a)(K + eps I).  Each parameter is the softplus of a raw one; training
 * is Adam on -log p(y) / n with the learning rate halved on validation
 * plateaus and the best-validation parameters kept. */

/** Natural (positive) parameters; alpha, beta are used by the t-process only. */
typedef struct pk_nngp_hyper {
    double w_std, b_std, last_w_std, eps, alpha, beta;
} pk_nngp_hyper;

typedef struct pk_nngp_train_params {
    int depth;          /**< ReLU hidden layers, 1..64 (4) */
    int student_t;      /**< 0: GP, 1: t-process (0) */
    pk_nngp_hyper init; /**< start, all > 0 (w 1, s 1e-8, ls 1, eps 1e-6, alpha 2, beta 2: train.py's defaults) */
    double lr;          /**< Adam step (1e-2; Adam's beta1 0.9, beta2 0.999, eps 1e-8 inside the sqrt as in objax) */
    double lr_decay;    /**< factor on a plateau, in (0, 1) (0.5) */
    double lr_threshold; /**< stop when a decay takes lr below this (1e-4) */
    int lr_patience;    /**< validations without a relative improvement of 1e-4 before a decay (5) */
    int max_steps;      /**< Adam steps, >= 0 (30000) */
    int valid_interval; /**< steps between validations, >= 1 (500) */
} pk_nngp_train_params;

pk_nngp_train_params pk_nngp_train_params_default(void);
/** @return PK_OK or PK_EINVAL with a message naming the bad field. */
int pk_nngp_train_params_check(const pk_nngp_train_params *p, pk_err *err);

/** The training loss -log p(y) / n at h on rows X (n x d) and targets y (n),
 *  and, if grad_raw != NULL, its gradient by the six raw parameters
 *  r = softplus^-1(w, s, ls, eps, alpha, beta) (last two 0 for the GP).
 *  @return PK_EINVAL on bad input, PK_ESING if K + eps I is not positive definite, PK_ENOMEM. */
int pk_nngp_loss(int depth, int student_t, const pk_nngp_hyper *h, const pk_mat *X, const double *y, double *loss,
                 double *grad_raw, pk_err *err);

/** The authors' test NLL (mean over rows, original units) of the model at h
 *  trained on (X, y) with y standardised, at rows Xt with raw targets yt_raw;
 *  y_mean, y_std undo the standardisation.  Mean and latent variance come from
 *  K + eps mean(diag K) I (neural-tangents' relative diag_reg); the noise is
 *  left out of the predictive.  GP: N(mean, var); t-process: Student t with
 *  2 alpha + n dof and squared scale (2 alpha + y'((beta / alpha) K + 1e-6 I)^-1 y)
 *  / (2 alpha + n) (beta / alpha) var.  A non-positive latent variance gives NaN,
 *  as theirs does.  rmse (may be NULL) gets the RMSE of the means.
 *  @return PK_EINVAL, PK_ESING (a factorisation failed), PK_ENOMEM. */
int pk_nngp_test_nll(int depth, int student_t, const pk_nngp_hyper *h, const pk_mat *X, const double *y,
                     const pk_mat *Xt, const double *yt_raw, double y_mean, double y_std, double *nll, double *rmse,
                     pk_err *err);

typedef enum pk_nngp_stop {
    PK_NNGP_STOP_STEPS = 0, /**< max_steps reached */
    PK_NNGP_STOP_LR,        /**< the learning rate fell below lr_threshold */
    PK_NNGP_STOP_NAN        /**< the loss or validation NLL became undefined (the best point is kept) */
} pk_nngp_stop;

typedef struct pk_nngp_train_info {
    pk_nngp_hyper best;      /**< parameters at the best validation NLL (step 0 included) */
    double best_valid_nll, initial_valid_nll, last_loss;
    int best_step, steps, lr_reductions;
    pk_nngp_stop stop;
} pk_nngp_train_info;

/** Train as train.py does: the validation NLL (pk_nngp_test_nll on Xv, yv_raw)
 *  every valid_interval steps drives the plateau decay and the best-point
 *  checkpoint.  Single-threaded apart from BLAS/LAPACK.
 *  @return PK_OK (also when stopped by a NaN: see info->stop), PK_EINVAL, PK_ENOMEM,
 *  PK_ESING when the initial parameters already fail. */
int pk_nngp_train(const pk_nngp_train_params *p, const pk_mat *X, const double *y, const pk_mat *Xv,
                  const double *yv_raw, double y_mean, double y_std, pk_nngp_train_info *info, pk_err *err);

#ifdef __cplusplus
}
#endif
#endif
