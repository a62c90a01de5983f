/* probkit/theory.h — computable cores of learning-theory papers.
 *
 * Section "universality": the Bayesian mixture learner of "The Universality
 * Lens" (Feder, Urbanke, Fogel 2025) over a finite (gridded) hypothesis class,
 * its exact log-loss regret, the weight of a hypothesis W_eps and the bound
 *     D(P_0(X^n) || Q(X^n)) <= min_eps [ -log W_eps + n eps ],
 * W_eps = prior mass of { theta : D(P_0 || P_theta) <= eps } (per-symbol KL),
 * and an SGLD ensemble that approximates the mixture.  All logs are natural.
 */
#ifndef PROBKIT_THEORY_H
#define PROBKIT_THEORY_H

#include "probkit/core.h"
#include "probkit/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- universality ------------------------------------------------------------------- */

/** A finite class of i.i.d. sources over K symbols: hypothesis h emits symbol a
 *  with probability probs[h*K + a]; prior log-weights logw[h] (normalised). */
typedef struct pk_hclass {
    size_t H, K;
    double *probs;
    double *logw;
} pk_hclass;

/** The over-parameterised binary class of the reproduction: theta in a grid of
 *  G points per coordinate on [-1, 1]^m (G^m hypotheses, uniform prior), and
 *  P_theta(1) = sigmoid(scale * theta_1 * ... * theta_m).  Many parameters map
 *  to the same source (every theta with a zero coordinate gives 1/2).
 *  PK_EINVAL for m < 1, G < 2 or G^m > 2^26. */
int pk_hclass_product_grid(size_t m, size_t G, double scale, pk_hclass **out);
void pk_hclass_free(pk_hclass *c);

/** KL divergence D(p || q) between two distributions over K symbols (nats). */
double pk_kl_discrete(const double *p, const double *q, size_t K);

/** W_eps: prior mass of the hypotheses within per-symbol KL eps of p0. */
double pk_hclass_weight(const pk_hclass *c, const double *p0, double eps);

/** min over eps of [-log W_eps + n eps] (nats, total over n symbols); the
 *  minimising eps in *eps_star (may be NULL). */
double pk_hclass_regret_bound(const pk_hclass *c, const double *p0, size_t n, double *eps_star);

/** Exact expected cumulative regret D(P_0(X^n) || Q(X^n)) of the mixture Q for
 *  a binary class (K = 2) and an i.i.d. Bernoulli(p1) source, summing over the
 *  number of ones.  PK_EINVAL if K != 2. */
int pk_hclass_regret_exact(const pk_hclass *c, double p1, size_t n, double *regret);

/** The mixture's predictive distribution after observing counts[0..K-1]. */
int pk_hclass_predict(const pk_hclass *c, const double *counts, double *pred);

/** SGLD ensemble for the continuous version of pk_hclass_product_grid's class
 *  (uniform prior on [-1,1]^m) given k ones in n observations: `chains`
 *  independent Langevin chains with minibatches of `batch` observations,
 *  step size `step`, `iters` iterations (the second half kept), reflecting
 *  walls.  *p1 gets the ensemble's predictive probability of a one. */
int pk_sgld_product_predict(size_t m, double scale, size_t k, size_t n, size_t chains, size_t iters, size_t batch,
                            double step, pk_rng *rng, double *p1);


/* ---- rfridge: "More is Better in Modern Machine Learning" (Simon et al. 2023) ------- */

#include "probkit/linalg.h"

/** The eigenframework's prediction for random-feature ridge regression. */
typedef struct pk_rf_theory {
    double test_mse;  /**< expected test MSE against noisy labels */
    double train_mse; /**< (ridge / (n kappa))^2 test_mse */
    double kappa;     /**< effective regularisation of the sample equation */
    double gamma;     /**< effective regularisation of the feature equation (= kappa for k = inf) */
    double e0;        /**< overfitting coefficient */
} pk_rf_theory;

/** Test/train risk of ridge regression with k random features of a kernel with
 *  eigenvalues eigvals[0..M-1] (>= 0, finite) on a target with squared
 *  eigencoefficients coef2[0..M-1] (>= 0), n samples, label-noise variance
 *  noise_var >= 0 and ridge > 0 (the ridge multiplies the identity added to the
 *  un-normalised n x n kernel matrix).  k = INFINITY gives kernel ridge
 *  regression.  Solves n = sum L_i + ridge/kappa, k = sum L_i + k kappa/gamma,
 *  L_i = lambda_i/(lambda_i + gamma), by bisection in log gamma.
 *  @return PK_OK; PK_EINVAL on a bad argument (n, k < 1, ridge <= 0);
 *  PK_EDOM if the overfitting coefficient diverges. */
int pk_rf_theory_eval(const double *eigvals, const double *coef2, size_t M, double n, double k, double ridge,
                      double noise_var, pk_rf_theory *out);
/** The grid ridge (ridges[0..nr-1], > 0) minimising the predicted test MSE;
 *  its prediction in *best and its index in *best_idx (may be NULL). */
int pk_rf_theory_optimal(const double *eigvals, const double *coef2, size_t M, double n, double k,
                         const double *ridges, size_t nr, double noise_var, pk_rf_theory *best, size_t *best_idx);
/** Kernel ridge regression along a ridge path from the n x n training kernel
 *  Ktr and the nt x n test-train kernel Kte: one eigendecomposition, then
 *  train/test MSE (against ytr / yte) for every ridge (>= 0).  train_mse or
 *  test_mse may be NULL.  PK_EINVAL on shapes, PK_ENOMEM. */
int pk_rf_ridge_path(const pk_mat *Ktr, const pk_mat *Kte, const double *ytr, const double *yte,
                     const double *ridges, size_t nr, double *train_mse, double *test_mse);
/** One draw of the paper's Gaussian eigen-task: g ~ N(0, I_M), y = sum_i coef[i] g_i
 *  + N(0, noise_var); k Gaussian random features phi_j = sum_i W_ji sqrt(lambda_i) g_i / sqrt(k),
 *  W_ji ~ N(0,1) (k = 0: the kernel sum_i lambda_i g_i g'_i itself); ridge
 *  path (ridges >= 0) on n training points.  test_mse[r] is the exact expected
 *  risk on a fresh noisy point given this draw (the predictor is linear in g),
 *  train_mse[r] the training MSE; either may be NULL.  Cost O(n M max(k, n)).
 *  @return PK_OK, PK_EINVAL, PK_ENOMEM. */
int pk_rf_gaussian_trial(const double *eigvals, const double *coef, size_t M, size_t n, size_t k, double noise_var,
                         const double *ridges, size_t nr, pk_rng *rng, double *train_mse, double *test_mse);


/* ---- widedeep: "Wide and Deep Neural Networks Achieve Optimality for Classification" -- */

#define PK_DUAL_MAXDEG 15

typedef enum pk_act_type { PK_ACT_RELU = 0, PK_ACT_ERF, PK_ACT_HERMITE } pk_act_type;

/** An activation through its dual, normalised so that E phi(z)^2 = 1 (z ~ N(0,1)):
 *  phi^(xi) = E phi(u) phi(v), corr(u, v) = xi, = sum_i a_i^2 xi^i with a_i the
 *  coefficients of phi in the orthonormal probabilists' Hermite basis.
 *  RELU is sqrt(2) max(0, z) (arc-cosine kernel); ERF is erf(z) / sqrt((2/pi) asin(2/3));
 *  HERMITE is sum_{i<=deg} a[i] He_i(z) / sqrt(i!) with sum a_i^2 = 1. */
typedef struct pk_dual_act {
    pk_act_type type;
    size_t deg;                     /**< HERMITE only */
    double a[PK_DUAL_MAXDEG + 1];   /**< HERMITE only: normalised coefficients */
} pk_dual_act;

void pk_dual_act_relu(pk_dual_act *a);
void pk_dual_act_erf(pk_dual_act *a);
/** Hermite activation from coefficients coef[0..deg] (deg <= PK_DUAL_MAXDEG, not
 *  all zero), rescaled to sum a_i^2 = 1.  PK_EINVAL otherwise. */
int pk_dual_act_hermite(const double *coef, size_t deg, pk_dual_act *a);
/** phi^(xi) for xi in [-1, 1] (clamped); its derivative phi^'(xi) (the dual of
 *  phi') in *deriv (may be NULL; infinite for ERF never, RELU at -1 is 0). */
double pk_dual_eval(const pk_dual_act *a, double xi, double *deriv);

/** A kernel value as sign * exp(logabs) (sign 0: exactly zero). */
typedef struct pk_deep_val {
    int sign;
    double logabs;
} pk_deep_val;

/** NNGP Sigma^(L) and NTK K^(L) of an infinitely wide network with L hidden
 *  layers (no biases, NTK parametrisation) between two unit-norm inputs with
 *  inner product xi:  Sigma^(0) = K^(0) = xi, Sigma^(l) = phi^(Sigma^(l-1)),
 *  K^(l) = Sigma^(l) + K^(l-1) phi^'(Sigma^(l-1)).  Signed-log arithmetic, with
 *  the dual's leading power-series term once |Sigma| < e^-40, keeps L in the
 *  thousands finite.  nngp or ntk may be NULL.  PK_EINVAL for L < 0 or
 *  xi outside [-1, 1]. */
int pk_deep_kernel(const pk_dual_act *a, double xi, int L, pk_deep_val *nngp, pk_deep_val *ntk);

/** The infinite-depth regime of an activation by the fixed points of its dual:
 *  MAJORITY when phi^(0) > 0 (a_0 != 0: every off-diagonal correlation is drawn
 *  to a common fixed point, the kernel matrix tends to c 11^T + (1-c) I);
 *  1NN when a_0 = a_1 = 0 (0 attracts super-exponentially, the nearest training
 *  point dominates); SINGULAR when a_0 = 0 < a_1^2 < 1 (the rescaled kernel
 *  tends to a singular kernel ~ |x - z|^-alpha, alpha = 2 log(1/a_1^2) / log phi^'(1),
 *  returned in *alpha, NAN otherwise); LINEAR when a_1^2 = 1. */
typedef enum pk_deep_regime { PK_DEEP_MAJORITY = 0, PK_DEEP_1NN, PK_DEEP_SINGULAR, PK_DEEP_LINEAR } pk_deep_regime;
pk_deep_regime pk_dual_regime(const pk_dual_act *a, double *alpha);

/** The Hermite activation sqrt(p) h_1 + sqrt(1-p) h_k whose infinite-depth
 *  kernel has singularity exponent alpha: k is the smallest degree with
 *  2/(k-1) <= 0.9 alpha and p solves 2 log(1/p) / log(p + k (1 - p)) = alpha.
 *  PK_EINVAL for alpha <= 0 or alpha too small for degree PK_DUAL_MAXDEG (~0.16). */
int pk_dual_act_singular(double alpha, pk_dual_act *a);

/** Kernel classifier scores k(x, X) (K(X, X) + ridge' I)^-1 y with the depth-L
 *  NTK (use_ntk != 0) or NNGP.  Rows of Xtr (n x d) and Xte (m x d) must have unit
 *  norm; y are +-1 (or any reals); ridge >= 0 is added after the kernel matrix is
 *  divided by its largest entry (0: interpolation, a 1e-13 jitter escalates if
 *  needed).  score[m]: only the sign is meaningful (magnitudes are rescaled and
 *  clipped).  @return PK_OK, PK_EINVAL, PK_ENOMEM, PK_ESING, PK_EDOM (kernel
 *  identically zero). */
int pk_deep_classify(const pk_dual_act *a, int L, int use_ntk, const pk_mat *Xtr, const double *ytr,
                     const pk_mat *Xte, double ridge, double *score);


/** The infinite-depth limit of pk_deep_classify in the SINGULAR regime: the
 *  singular-kernel (Nadaraya-Watson) classifier score(x) = sum_i y_i |x - x_i|^-alpha
 *  (the paper's limit: K(X, X) becomes diagonal-dominant, so the solve drops
 *  out).  With alpha equal to the data's intrinsic dimension it is the Hilbert
 *  kernel estimate, consistent (Bayes-optimal as n grows), slowly.  Scores are
 *  rescaled per test point (only the sign matters); a training point equal to
 *  x decides alone (the sum of the labels at distance 0).  Cost O(n m d).
 *  PK_EINVAL for alpha <= 0, shape mismatch or no training rows. */
int pk_singular_kernel_classify(double alpha, const pk_mat *Xtr, const double *ytr, const pk_mat *Xte,
                                double *score);

/** n0 random examples of class c0 (y = +1) and n1 of class c1 (y = -1) from an
 *  IDX image/label pair (raw or .gz), each image flattened and scaled to unit
 *  norm.  *X ((n0 + n1) x pixels) and *y are the caller's (pk_mat_free / free).
 *  @return PK_OK; PK_EIO / PK_EFORMAT from the files; PK_EINVAL if a class has
 *  too few examples (message in err). */
int pk_idx_two_class(const char *images, const char *labels, int c0, int c1, size_t n0, size_t n1, pk_rng *rng,
                     pk_mat **X, double **y, pk_err *err);
/** The first nmax (0: all) images of an IDX pair as rows of *X (pixels / 255)
 *  and their labels in *lab (caller frees both).  PK_EIO / PK_EFORMAT / PK_ENOMEM. */
int pk_idx_load(const char *images, const char *labels, size_t nmax, pk_mat **X, int **lab, pk_err *err);
/** Principal-component scores of every row of X on the top d components of
 *  the covariance of its first nfit rows (0: all), each scaled to unit variance;
 *  *Z is n x d (caller frees); eigvals (may be NULL) gets the d variances. */
int pk_pca_scores(const pk_mat *X, size_t d, size_t nfit, pk_mat **Z, double *eigvals);


/* ---- gamp: "Bayes-optimal learning of an extensive-width neural network from
 *      quadratically many samples" (Maillard, Troiani, Martin, Krzakala, Zdeborova 2024) -- */

/** The three roots (re[i] + i im[i]) of the cubic satisfied by the Stieltjes transform
 *  g(x) = int rho(t)/(x - t) dt of Y = S + sqrt(D) xi at real x, with S the
 *  teacher's matrix (free Poisson of rate kappa scaled by 1/sqrt(kappa)) and xi
 *  GOE (semicircle radius 2):  D g^3 - (x + D sqrt k) g^2 + (x sqrt k - k + 1) g - sqrt k = 0.
 *  PK_EINVAL for kappa <= 0 or D <= 0. */
int pk_gamp_cubic_roots(double x, double kappa, double D, double re[3], double im[3]);
/** Spectral density of Y at x (|Im g| / pi of the complex root; 0 outside the support). */
double pk_gamp_density(double x, double kappa, double D);
/** MMSE per spectral unit, (1/d) E |S - E[S|Y]|_F^2, of denoising Y = S + sqrt(D) xi:
 *  D - (4 pi^2 / 3) D^2 int rho_Y^3 (adaptive Gauss-Kronrod, no GSL error handler). */
int pk_gamp_denoise_mmse(double kappa, double D, double *mmse);
/** Bayes-optimal (1/d) E |S_hat - S*|_F^2 at n = alpha d^2 samples, label noise
 *  variance `noise`: the fixed point of mse <- mmse((noise + 2 mse) / (4 alpha))
 *  from the prior variance 1.  The test error of the network is 2 mse + noise.
 *  PK_EMAXITER if it did not settle. */
int pk_gamp_theory(double kappa, double alpha, double noise, double *mse);

/** Sensing matrices: RANK1 is the network itself, Z = (x x^T - I)/sqrt(d) with
 *  x ~ N(0, I_d); GOE is its Gaussian equivalent (the model the theory is
 *  derived for), Z_mu symmetric with N(0, 1/d) off-diagonal and N(0, 2/d)
 *  diagonal entries, regenerated from a per-sample seed and never stored. */
typedef enum pk_gamp_design { PK_GAMP_RANK1 = 0, PK_GAMP_GOE } pk_gamp_design;

/** A teacher S* = W^T W / sqrt(m d) (W m x d standard Gaussian) and n labels
 *  y = Tr[Z S*] + sqrt(noise) xi.  With RANK1 this is the quadratic network
 *  y = m^-1/2 sum_k ((w_k.x)^2 - |w_k|^2)/d + noise. */
typedef struct pk_gamp_problem {
    size_t d, m, n;
    double noise;
    pk_gamp_design design;
    uint64_t seed; /**< GOE: seed of the sensing matrices */
    pk_mat *X;     /**< RANK1: n x d inputs (NULL for GOE) */
    double *y;     /**< n labels */
    pk_mat *S;     /**< d x d teacher matrix S* */
} pk_gamp_problem;

int pk_gamp_problem_new(size_t d, size_t m, size_t n, double noise, pk_gamp_design design, pk_rng *rng,
                        pk_gamp_problem **out);
void pk_gamp_problem_free(pk_gamp_problem *p);

/** GAMP-RIE for `iters` iterations, following the authors' reference code:
 *  the output channel's (omega, V) are damped with weight `damping` in [0, 1)
 *  on the previous values (0.5 recommended: undamped, the iteration diverges on
 *  the RANK1 design), the matrix channel's effective noise D = 1/(4 alpha <g^2>)
 *  is estimated from the data, the estimate is the RIE shrinkage of
 *  S_hat + (2D/d) sum_mu g_mu Z_mu, and the variance fed back is 2 mmse(D).
 *  Starts from the prior mean sqrt(kappa) I.  S_hat (d x d) gets the estimate;
 *  mse_trace[t] (may be NULL, iters entries) the error (1/d)|S_hat - S*|_F^2
 *  after iteration t.  Should a step |S^{t+1} - S^t|^2/d become non-finite or
 *  1e3 times the smallest so far, iteration stops, S_hat is the steadiest
 *  iterate and mse_trace repeats its error.  PK_EINVAL on bad arguments; a
 *  quadrature failure's status otherwise.  Cost per iteration O(n d^2 + d^3)
 *  plus d one-dimensional quadratures (GOE: plus regenerating the n sensing
 *  matrices).  Measured: d = 100, n = 0.45 d^2, 200 iterations in ~3 s. */
int pk_gamp_rie(const pk_gamp_problem *p, size_t iters, double damping, pk_mat *S_hat, double *mse_trace);


/* ---- indbias: "Towards Exact Computation of Inductive Bias" (Boopathy et al. 2024) ---- */

struct pk_gp_kernel;

/** A generalised chi-square Q = c0 + sum_{j<k} w_j (z_j + delta_j)^2, z ~ N(0, I), w_j > 0. */
typedef struct pk_gchisq {
    size_t k;
    double *w, *delta;
    double c0;
} pk_gchisq;

/** Zeroed, k components; NULL on OOM.  pk_gchisq_free accepts NULL. */
pk_gchisq *pk_gchisq_new(size_t k);
void pk_gchisq_free(pk_gchisq *q);
double pk_gchisq_mean(const pk_gchisq *q);
/** N independent draws of Q into out. */
void pk_gchisq_sample(const pk_gchisq *q, size_t N, pk_rng *rng, double *out);
/** P(Q <= x) by Imhof's integral (chunked adaptive Gauss-Kronrod); absolute accuracy ~1e-10, so use
 *  the saddlepoint below once F < ~1e-7.  PK_EINVAL (k = 0, w <= 0), PK_EMAXITER. */
int pk_gchisq_cdf_imhof(const pk_gchisq *q, double x, double *F);
/** log P(Q <= x) by the Barndorff-Nielsen r* saddlepoint formula (relative
 *  accuracy in the far lower tail; -inf for x <= c0). */
int pk_gchisq_logcdf_saddle(const pk_gchisq *q, double x, double *logF);
/** log CDF of scale * chi'^2(df, ncp) (Poisson mixture of central chi-squares,
 *  lower incomplete gamma in log form: no underflow in the tail).  NAN on bad
 *  parameters. */
double pk_ncx2_logcdf(double x, double scale, double df, double ncp);
/** The paper's scaled non-central chi-square fitted to losses v[0..N-1] (N >= 3)
 *  by its first three moments (mean s(k+l), variance 2s^2(k+2l), third central
 *  moment 8s^3(k+3l)); a central fit (l = 0) by two moments when the three
 *  admit no solution.  PK_EDOM for constant losses. */
int pk_ncx2_fit_moments(const double *v, size_t N, double *scale, double *df, double *ncp);
/** The exact test-loss law of hypotheses from a GP hypothesis space (prior
 *  kernel `kern`) that interpolate the training data (jitter >= 0 added to the
 *  training kernel diagonal): the mean squared error on (Xte, yte) of a
 *  posterior draw is the generalised chi-square *out (caller frees). */
int pk_gp_hyp_loss(const struct pk_gp_kernel *kern, const pk_mat *Xtr, const double *ytr, const pk_mat *Xte,
                   const double *yte, double jitter, pk_gchisq **out);
/** N sampled hypotheses' test MSEs: joint Cholesky of the prior over train and
 *  test points, training values clamped to y (the hypotheses fit the data). */
int pk_gp_hyp_sample_losses(const struct pk_gp_kernel *kern, const pk_mat *Xtr, const double *ytr,
                            const pk_mat *Xte, const double *yte, double jitter, size_t N, pk_rng *rng,
                            double *losses);


/* ---- gendiff: "Model-agnostic Measure of Generalization Difficulty" (Boopathy et al. 2023) -- */

/** Inputs of the inductive-bias complexity of a classification task. */
typedef struct pk_gendiff_in {
    double error;   /**< desired error rate eps / L_L, > 0 */
    double n;       /**< training-set size, >= 1 */
    double m;       /**< intrinsic dimension of the data, >= 1 */
    double R;       /**< largest norm of a data point, > 0 */
    double classes; /**< number of classes (the product of discrete feature counts), >= 2 */
    double delta;   /**< spatial resolution: smallest distance between classes, > 0 */
    double out_dim; /**< output dimension D (classes - 1 for classification) */
    double B;       /**< bound on |f|_inf (1 for classification) */
} pk_gendiff_in;

/** The paper's inductive-bias complexity in bits (may be astronomically large:
 *  *log10_bits, may be NULL, keeps it accurate).  PK_EINVAL on a bad input. */
int pk_gendiff_bits(const pk_gendiff_in *in, double *bits, double *log10_bits);
/** Levina-Bickel maximum-likelihood intrinsic dimension from the k nearest
 *  neighbours (k >= 2) of nq random rows of X, pooled over queries (inverse of
 *  the mean log(T_k / T_j), j < k).  PK_EDOM for degenerate data. */
int pk_levina_bickel(const pk_mat *X, size_t nq, size_t k, pk_rng *rng, double *m);
/** Class separation delta: the smallest distance >= min_dist between rows with
 *  different labels among ns random rows.  PK_EDOM if no such pair. */
int pk_class_separation(const pk_mat *X, const int *labels, size_t ns, double min_dist, pk_rng *rng, double *delta);
/** Exact class separation: the smallest distance >= min_dist between two rows
 *  of X with different labels, over all pairs (the authors' MNIST delta is this
 *  minimum on the 60,000 training images).  Pairs are pruned by a lower bound
 *  from a float GEMM of proj_dim principal-component scores (0 or >= cols: no
 *  projection, a blocked float GEMM over all columns) and re-checked in double,
 *  so the result is exact for any proj_dim; proj_dim only sets the speed
 *  (32 suits MNIST).  pair (may be NULL) gets the two row indices (pair[0] <
 *  pair[1]; ties go to the smallest indices), checked (may be NULL) the number
 *  of pairs re-checked in double.  Threads: OpenMP over rows of each tile.
 *  PK_EDOM if no such pair, PK_EINVAL for bad arguments, PK_ENOMEM. */
int pk_class_separation_exact(const pk_mat *X, const int *labels, size_t proj_dim, double min_dist, double *delta,
                              size_t *pair, size_t *checked);
/** Class separation by extreme-value extrapolation (the authors' estimator):
 *  inverse distances of nsamples random differently labelled pairs, the
 *  moment estimator of the extreme-value index on the k (>= 10) largest, and the
 *  expected extreme over all n^2 (1 - 1/classes) pairs; never above the sampled
 *  minimum.  Labels in 0..255.  PK_EDOM if too few pairs. */
int pk_class_separation_evt(const pk_mat *X, const int *labels, size_t nsamples, size_t k, pk_rng *rng,
                            double *delta);
/** As pk_class_separation_evt, but the expected extreme is taken over the
 *  npop^2 (1 - 1/classes) pairs of a population of npop points drawn like the
 *  rows of X (npop = 0: X->rows), e.g. to ask what separation a 60,000-image
 *  training set would show from 10,000 of its images.  The authors' settings
 *  are nsamples = 4e6, k = 2000.  PK_EINVAL also for npop < 0. */
int pk_class_separation_evt_pop(const pk_mat *X, const int *labels, size_t nsamples, size_t k, double npop,
                                pk_rng *rng, double *delta);
/** The largest row norm of X. */
double pk_data_radius(const pk_mat *X);

#ifdef __cplusplus
}
#endif
#endif
