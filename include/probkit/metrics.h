/* probkit/metrics.h — model diagnostics: calibration, provenance tests,
 * weight (Weibull) and embedding (capacity) geometry, multi-sample evaluation,
 * early stopping.  Credit scorecards are in probkit/scorecard.h.
 *
 * Every function here is a pure computation on caller-owned arrays: nothing
 * is kept between calls, nothing is printed.  Functions that can reject their
 * input take a `pk_err *` (may be NULL) whose message names the problem
 * ("p[17] = 1.3 is not a probability").  Randomness only enters through an
 * explicit `pk_rng *`.
 */
#ifndef PROBKIT_METRICS_H
#define PROBKIT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "probkit/core.h"
#include "probkit/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== calibration ("Deep Probability Estimation", Liu et al.) ============== */

/** Scalar calibration and discrimination metrics of binary predictions. */
typedef struct pk_calib_metrics {
    size_t n;          /**< number of predictions */
    size_t nbins;      /**< bins used by the ECE / MCE figures */
    double ece;        /**< equal-width bins, weighted by bin size: sum_b n_b/n |ybar_b - pbar_b| */
    double ece_mass;   /**< equal-mass bins, unweighted mean over bins of |ybar_b - pbar_b| */
    double mce;        /**< max over non-empty equal-width bins of |ybar_b - pbar_b| */
    double ks;         /**< KS calibration error: max_i |sum_{j<=i} (y_j - p_j)| / n over p sorted */
    double brier;      /**< mean (p - y)^2 */
    double nll;        /**< mean -[y log p + (1-y) log(1-p)], p clipped to [1e-15, 1-1e-15] */
    double auc;        /**< ROC AUC (Mann-Whitney, ties count 1/2); NaN when one class is absent */
    double mse_true;   /**< mean (p - p_true)^2 when true probabilities are given, else NaN */
    double base_rate;  /**< mean y */
} pk_calib_metrics;

/** Check that p[i] is a finite probability and y[i] is 0 or 1 (ptrue may be NULL;
 *  if given it must hold probabilities too).  PK_EDOM naming the first bad entry. */
int pk_calib_check(const double *p, const double *y, const double *ptrue, size_t n, pk_err *err);

/** All metrics of `pk_calib_metrics` in one pass (plus a sort).  nbins >= 1 (15 in the paper).
 *  @return PK_OK, PK_EINVAL (n == 0, nbins == 0), PK_EDOM (bad values), PK_ENOMEM. */
int pk_calib_compute(const double *p, const double *y, const double *ptrue, size_t n, size_t nbins,
                     pk_calib_metrics *out, pk_err *err);

/** ROC AUC alone (scores may be any finite reals).  PK_EDOM if only one class is present. */
int pk_roc_auc(const double *score, const double *y, size_t n, double *auc, pk_err *err);

/** Reliability curve, as scikit-learn's calibration_curve: bins are equal-width on
 *  [0, 1] (quantile == 0) or quantiles of p (quantile != 0); a value on an inner
 *  edge belongs to the lower bin.  Writes up to nbins entries of the non-empty bins
 *  in order: prob_true (mean y), prob_pred (mean p), count; *nout = how many.
 *  Each output array must hold nbins entries (count may be NULL). */
int pk_calib_curve(const double *p, const double *y, size_t n, size_t nbins, int quantile, double *prob_true,
                   double *prob_pred, size_t *count, size_t *nout, pk_err *err);

/** Recalibration maps fitted on held-out (p, y). */
typedef enum pk_recal_kind {
    PK_RECAL_TEMPERATURE = 0, /**< p' = sigmoid(logit(p) / T) */
    PK_RECAL_PLATT,           /**< p' = 1 / (1 + exp(A logit(p) + B)), Platt's smoothed targets */
    PK_RECAL_ISOTONIC         /**< monotone step fit (PAVA), linear between knots, clipped outside */
} pk_recal_kind;

typedef struct pk_recal {
    pk_recal_kind kind;
    double T;      /**< temperature (TEMPERATURE) */
    double A, B;   /**< Platt parameters (PLATT), sklearn's sign convention */
    size_t nknots; /**< isotonic knots (ISOTONIC) */
    double *kx, *ky;
} pk_recal;

/** "temperature" / "platt" / "isotonic" -> kind; -1 if unknown. */
int pk_recal_kind_parse(const char *name);
const char *pk_recal_kind_name(pk_recal_kind k);

/** Fit a map on n >= 2 predictions with both classes present.
 *  On success *out is caller-owned (pk_recal_free). */
int pk_recal_fit(pk_recal_kind kind, const double *p, const double *y, size_t n, pk_recal **out, pk_err *err);
/** Apply to n probabilities (out may alias p). */
void pk_recal_apply(const pk_recal *r, const double *p, size_t n, double *out);
void pk_recal_free(pk_recal *r);

/** Cross-fitted recalibration: split the rows into `folds` random folds (2..n),
 *  fit on all other folds and predict each fold, so that out[i] never used row i.
 *  A fold whose complement holds a single class falls back to its base rate. */
int pk_recal_crossfit(pk_recal_kind kind, const double *p, const double *y, size_t n, size_t folds, pk_rng *rng,
                      double *out, pk_err *err);

/* ==== provenance ("Blackbox Model Provenance via Palimpsestic Membership
 *      Inference", Kuditipudi et al.) ======================================== */

/** Average ranks (1..n, ties get their mean rank) of x into r. PK_ENOMEM only. */
int pk_rank_average(const double *x, size_t n, double *r);

/** Pearson correlation (NaN if a column is constant). */
double pk_pearson(const double *x, const double *y, size_t n);

/** log10 of the two-sided p-value of Student's t with df degrees of freedom,
 *  P(|T| >= |t|), accurate far below the double range (e.g. -5000). df > 0. */
double pk_t_log10_pvalue_two_sided(double t, double df);

/** log10 of the regularized incomplete beta I_x(a, b), computed in log space. */
double pk_log10_betainc(double a, double b, double x);

typedef struct pk_spearman_result {
    size_t n;
    double rho;          /**< Spearman's rank correlation (ties: average ranks) */
    double t;            /**< rho * sqrt((n-2) / (1-rho^2)) */
    double log10_p;      /**< log10 two-sided p-value (t with n-2 df, as scipy.stats.spearmanr) */
    double log10_p_one;  /**< log10 one-sided p-value for rho > 0 */
} pk_spearman_result;

/** Spearman test of x against y. n >= 3, finite values, neither constant. */
int pk_spearman(const double *x, const double *y, size_t n, pk_spearman_result *out, pk_err *err);

/** Permutation test of rho > 0 (one-sided): exact enumeration of all n! orders
 *  when n <= 8, otherwise `nperm` random permutations with p = (1 + #{rho* >= rho}) / (1 + nperm).
 *  *exact is set to 1 when enumerated. */
int pk_spearman_permutation(const double *x, const double *y, size_t n, size_t nperm, pk_rng *rng, double *p,
                            int *exact, pk_err *err);

/** Reshuffle z-test: the statistic of the real training run against those of
 *  m >= 2 runs on reshuffled data: z = (stat - mean(null)) / sd(null), with the
 *  one-sided normal log10 p-value and the rank p-value (1 + #{null >= stat}) / (1 + m). */
typedef struct pk_reshuffle_result {
    double z, log10_p_normal, p_rank, null_mean, null_sd;
    size_t m;
} pk_reshuffle_result;
int pk_reshuffle_ztest(double stat, const double *null_stats, size_t m, pk_reshuffle_result *out, pk_err *err);


/* ==== weight diagnostics ("A Two-Parameter Weibull Framework for Diagnosing
 *      Transformer Weight Distributions", Ding) ============================== */

/** The paper's protocol: a histogram of log10|w| with 1024 equal bins on [-12, 2]
 *  (values outside are clamped into the end bins, zeros into the first), the
 *  empirical CDF F at each bin's upper edge x, and a least-squares line of
 *  ln(-ln(1-F)) on ln x over the bins with 0.1 <= F <= 0.9, each weighted by its
 *  count.  Slope = k, lambda = exp(-intercept / k).  Gaussian weights of scale
 *  sigma give k = 1.2054, lambda = 0.8873 sigma. */
#define PK_WEIBULL_NBINS 1024
#define PK_WEIBULL_LOG10_LO (-12.0)
#define PK_WEIBULL_LOG10_HI 2.0

typedef struct pk_weibull_fit {
    uint64_t n;       /**< values histogrammed */
    uint64_t nzero;   /**< exact zeros (counted in the first bin) */
    size_t nfit;      /**< bins inside the middle 80% used by the fit */
    double k, lambda; /**< shape and scale */
    double r2;        /**< count-weighted R^2 of the probability-plot line */
    double ks;        /**< max |F_hist - F_weibull(k, lambda)| over all bin upper edges */
} pk_weibull_fit;

/** Add values to a histogram of PK_WEIBULL_NBINS counts (zero it first).
 *  NaN / inf values are rejected (PK_EDOM naming the index) before anything is added. */
int pk_weibull_hist_add(uint64_t *counts, const double *w, size_t n, pk_err *err);
int pk_weibull_hist_add_f(uint64_t *counts, const float *w, size_t n, pk_err *err);
/** Fit from a filled histogram. PK_EDOM when fewer than 2 bins fall in the middle 80%. */
int pk_weibull_fit_hist(const uint64_t *counts, pk_weibull_fit *out, pk_err *err);
/** Convenience: histogram + fit of n values. */
int pk_weibull_fit_values(const double *w, size_t n, pk_weibull_fit *out, pk_err *err);

/** Maximum-likelihood Weibull fit (location 0) of |x| for the non-zero values:
 *  Newton on the profile equation for k, then lambda = mean(|x|^k)^(1/k).
 *  Needs >= 2 distinct non-zero values. */
int pk_weibull_mle(const double *x, size_t n, double *k, double *lambda, pk_err *err);

/** The paper's classes, by our thresholds on k taken from its reported bands:
 *  k >= 1.17 "transmission", 1.0 <= k < 1.17 "mild selection", k < 1.0 "strong selection". */
const char *pk_weibull_class(double k);

/* ==== embedding geometry ("Representational Capacity", Guha) =================== */

/** Pairwise cosine similarities of the n rows of E (n x d, row-major, float or
 *  double via the _f variant): mean and sd over all i < j pairs, or over
 *  `max_pairs` random pairs when there are more (rng may then not be NULL).
 *  A zero row is PK_EDOM. eps = mean + 2 sd is the paper's accepted deviation. */
typedef struct pk_cosine_stats {
    size_t n, d;
    uint64_t pairs;    /**< pairs used */
    int sampled;       /**< 1 if pairs were sampled */
    double mean, sd;   /**< of the signed cosine similarity */
    double max_abs;    /**< largest |cos| among the pairs used */
    double eps;        /**< mean + 2 sd */
} pk_cosine_stats;
int pk_cosine_stats_compute(const double *E, size_t n, size_t d, uint64_t max_pairs, pk_rng *rng,
                            pk_cosine_stats *out, pk_err *err);
int pk_cosine_stats_compute_f(const float *E, size_t n, size_t d, uint64_t max_pairs, pk_rng *rng,
                              pk_cosine_stats *out, pk_err *err);

/** Capacity estimates: the number k of directions in R^d whose pairwise |cos| stays within eps.
 *  JL form, eps = sqrt(C ln k / d):            k = exp(eps^2 d / C)
 *  adjusted form, eps = sqrt(C ln(k/d) / d):   k = d exp(eps^2 d / C)
 *  the paper's fully parameterised fit, eps = sqrt(C ln(k^a/d)^b / d^c) with
 *  C = 0.45809143, a = 1.0668005, b = 1.44738666, c = 0.97197234:
 *                                              k = (d exp((eps^2 d^c / C)^(1/b)))^(1/a).
 *  Results are doubles (they overflow to inf for large d eps^2, as the true counts do). */
double pk_capacity_jl(double d, double eps, double C);
double pk_capacity_adjusted(double d, double eps, double C);
double pk_capacity_paper(double d, double eps);
#define PK_CAPACITY_C_JL 3.03      /**< the paper's fit of the JL form on random packings */
#define PK_CAPACITY_C_ADJ 1.29     /**< the paper's fit of the adjusted form on optimised packings */

/** Random packing, the authors' protocol: the smallest, over `trials` draws of k
 *  Gaussian directions in R^d, of the largest pairwise |cos| of the draw.  Directions
 *  are stored as float and the Gram matrix is formed 256 rows at a time (memory
 *  k d + 256 k floats).  k >= 2, d >= 1, trials >= 1; PK_ENOMEM if out of memory. */
int pk_packing_random(size_t d, size_t k, size_t trials, pk_rng *rng, double *eps, pk_err *err);
/** Optimised packing, the authors' optimized_packing_sweep.py: k unit directions in R^d
 *  started at random (unit norm), Adam (lr 0.005 for d <= 1024, else 0.0025; betas 0.9,
 *  0.999; eps 1e-8) on L = sum_{i != j} |cos_ij|^power through the normalisation, in
 *  float32; `steps` Gram evaluations (steps - 1 updates); *eps = the largest |cos| of the
 *  last one.  Memory k^2 + 5 k d floats.  d >= 1, k >= 2, steps >= 1, power in [2, 64]. */
int pk_packing_optimize(size_t d, size_t k, size_t steps, int power, pk_rng *rng, double *eps, pk_err *err);
/** The authors' exponent rule: min(int(c / ln d), 20) with c = 40 for k <= 4000, else 50
 *  for d >= 3072, else 60 (clamped to >= 2). */
int pk_packing_power(size_t d, size_t k);
/** ln P(|cos| > t) for two independent uniform directions in R^d (d >= 2, t in [0, 1]):
 *  ln I_{1-t^2}((d-1)/2, 1/2), by a continued fraction; NAN outside the domain. */
double pk_cosine_log_tail(size_t d, double t);
/** Extreme-value prediction, with no fitted constant, of pk_packing_random's measurement:
 *  the median over repetitions of min over `trials` draws of the largest |cos| among the
 *  k(k-1)/2 pairs, from the exact tail above and the Poisson limit for the number of pairs
 *  above t.  NAN if d < 2, k < 2 or trials < 1. */
double pk_packing_random_predict(size_t d, size_t k, size_t trials);
/** Least-squares C of eps_i ~ sqrt(C x_i) (closed form, the authors' curve_fit): x_i =
 *  ln(k_i)/d_i (JL) or ln(k_i/d_i)/d_i (adjusted; cells with k_i <= d_i are predicted 0, as
 *  theirs are, and do not move C). rmse (may be NULL) of the fitted eps over all cells. */
double pk_capacity_fit_C(const double *k, const double *d, const double *eps, size_t m, int adjusted, double *rmse);
/** Mean absolute percentage error (in %) of eps predicted by the law with constant C over
 *  the m cells (cells with eps_i = 0 skipped; a cell predicted 0 counts 100%). */
double pk_capacity_mape(const double *k, const double *d, const double *eps, size_t m, int adjusted, double C);

/* ==== multi-sample evaluation ("Stochastic CHAOS") ============================= */

/** Unbiased pass@k of one prompt with n samples of which c are correct
 *  (Chen et al. 2021): 1 - C(n-c, k) / C(n, k), computed as a stable product.
 *  NaN unless 0 <= c <= n and 1 <= k <= n. */
double pk_pass_at_k(uint64_t n, uint64_t c, uint64_t k);

/** Wilson score interval for x successes in n trials at normal quantile z. n >= 1. */
void pk_wilson_interval(uint64_t x, uint64_t n, double z, double *lo, double *hi);
/** Exact (Clopper-Pearson) interval at level 1 - alpha. n >= 1, alpha in (0, 1). */
void pk_clopper_pearson(uint64_t x, uint64_t n, double alpha, double *lo, double *hi);

/** Probability of at least one failure in k independent queries with failure
 *  probability p: 1 - (1 - p)^k. */
double pk_tail_risk(double p, double k);

/** Shannon entropy in bits of a count vector (zeros ignored; 0 for an empty vector). */
double pk_entropy_bits(const double *counts, size_t m);

/** Majority@k of one prompt: the probability that a plurality vote over k samples
 *  drawn without replacement from its n answers picks a correct answer (ties split
 *  uniformly).  answers: distinct-answer counts (m of them, summing to n);
 *  correct[j] != 0 if answer j is correct.  Exact for k == n (plurality of all
 *  samples), else Monte Carlo with nsim draws. */
int pk_majority_at_k(const uint64_t *counts, const int *correct, size_t m, uint64_t k, size_t nsim, pk_rng *rng,
                     double *prob, pk_err *err);

/* ==== early stopping (Prechelt's criteria; "Early stopping by correlating
 *      online indicators in neural networks", Vilares Ferro et al.) =========== */

typedef enum pk_es_kind {
    PK_ES_GL = 0,   /**< generalisation loss GL(t) = 100 (E_va(t) / min_{s<=t} E_va(s) - 1) > param */
    PK_ES_PQ,       /**< GL(t) / P_k(t) > param at strip ends; P_k(t) = 1000 (mean_strip E_tr / min_strip E_tr - 1) */
    PK_ES_UP,       /**< validation error rose at the end of `param` successive strips */
    PK_ES_PATIENCE  /**< no new best validation error for `param` epochs */
} pk_es_kind;

/** Indicator series of one criterion: out[t] = 1 when the criterion holds at epoch t
 *  (0-based; a strip is `strip` epochs, Prechelt's k = 5).  train may be NULL except for PQ.
 *  Losses must be finite and positive.  PK_EINVAL / PK_EDOM name the problem. */
int pk_es_indicator(pk_es_kind kind, double param, size_t strip, const double *val, const double *train, size_t n,
                    int *out, pk_err *err);
const char *pk_es_kind_name(pk_es_kind kind);

/** The correlated-indicators halting rule (our reading of the paper, see
 *  docs/diagnostics.md): stop at the first epoch t at which at least `quorum` of
 *  the m indicator series are on and the indicators that are on at t have been on
 *  together, over the last `window` epochs, with mean pairwise Pearson correlation
 *  >= rmin (constant series count as correlation 1 when both are on throughout).
 *  ind: m x n row-major 0/1.  *stop = n when the rule never fires. */
int pk_es_correlated(const int *ind, size_t m, size_t n, size_t quorum, size_t window, double rmin, size_t *stop,
                     pk_err *err);

/** Outcome of stopping at epoch `stop` (n = never: trained to the end) and restoring the
 *  best model seen so far. */
typedef struct pk_es_outcome {
    size_t stop;         /**< epoch at which training halted (n - 1 if never) */
    size_t best_seen;    /**< epoch of the best validation error up to stop (the restored model) */
    size_t best;         /**< epoch of the best validation error of the whole run */
    double regret;       /**< E_va(best_seen) - E_va(best) (>= 0) */
    double regret_rel;   /**< regret / E_va(best) */
    double cost;         /**< epochs trained / n */
} pk_es_outcome;
void pk_es_outcome_of(const double *val, size_t n, size_t stop, pk_es_outcome *out);
/** First epoch at which an indicator series is on (n if never). */
size_t pk_es_first(const int *ind, size_t n);

/* ==== CaPE: calibrated probability estimation ("Deep Probability Estimation",
 *      Liu, Kaku, Zhu, Leibovich, Mohan, Yu, Zanna, Razavian, Fernandez-Granda) ==
 *
 * A binary probability estimator (a two-class pk_nn_classifier, p = softmax
 * class 1) is first trained with cross-entropy on the observed outcomes and
 * early-stopped on the validation cross-entropy ("early learning", when the
 * outputs are still calibrated).  CaPE then continues training, alternating
 * epochs of a calibration loss -- the cross-entropy between the model's output
 * and empirical probabilities computed from the model's own predictions on the
 * training set (labels averaged over equal-mass bins, or a Gaussian kernel
 * over predicted probabilities) -- with ordinary cross-entropy epochs; the
 * targets are recomputed before every calibration epoch and the model with the
 * smallest validation cross-entropy is kept.  These functions use the nn
 * engine (module DEPS: nn); the classifier type is declared in probkit/nn.h. */

struct pk_nn_classifier;

typedef enum pk_cape_kind {
    PK_CAPE_BIN = 0, /**< equal-mass bins of the sorted predictions, target = mean label of the bin */
    PK_CAPE_KERNEL   /**< Nadaraya-Watson: target_i = sum_j K(p_j - p_i) y_j / sum_j K, Gaussian K of width sigma */
} pk_cape_kind;

/** Empirical-probability targets of predictions p (n >= 1, probabilities) and labels y (0/1):
 *  BIN: sort by p, split into `nbins` (1..n) equal-mass bins (bin b holds sorted ranks
 *  floor(b n / nbins) .. floor((b+1) n / nbins) - 1), target = mean label in the bin.
 *  KERNEL: Gaussian kernel of width sigma > 0 over p, summed over the `window` neighbours
 *  on each side in sorted order (0 = all n; the paper's code uses 500).
 *  target[i] belongs to row i (input order).  PK_EINVAL / PK_EDOM / PK_ENOMEM. */
int pk_cape_targets(pk_cape_kind kind, const double *p, const double *y, size_t n, size_t nbins, double sigma,
                    size_t window, double *target, pk_err *err);

/** The calibration loss of logits z (z = logit of p, n >= 1) against targets t in [0, 1]:
 *  mean_i -[t_i log sigmoid(z_i) + (1 - t_i) log(1 - sigmoid(z_i))], computed stably;
 *  grad (may be NULL) receives d loss / d z_i = (sigmoid(z_i) - t_i) / n.  For a
 *  two-class network z = logit_1 - logit_0, and this equals the soft-label
 *  cross-entropy the training uses. */
double pk_cape_loss(const double *z, const double *t, size_t n, double *grad);

typedef struct pk_cape_params {
    pk_cape_kind kind;  /**< target estimator (BIN) */
    size_t nbins;       /**< BIN: bins, >= 1 (10, the paper's code) */
    double sigma;       /**< KERNEL: width on the probability scale, > 0 (0.1) */
    size_t window;      /**< KERNEL: neighbours on each side, 0 = all (500) */
    int ce_epochs;      /**< phase 1: at most this many cross-entropy epochs, >= 0 (30); 0 skips
                             phase 1: CaPE then fine-tunes the model as given (e.g. an
                             early-stopped network, as in the paper's code) */
    int ce_patience;    /**< phase 1 stops after this many epochs without a new best
                             validation cross-entropy; 0 = run all ce_epochs (5) */
    int cape_epochs;    /**< phase 2 epochs, >= 0; 0 = plain cross-entropy training (20) */
    int ce_per_cal;     /**< phase 2: cross-entropy epochs after each calibration epoch, >= 0 (0) */
    int restore_best;   /**< 1: end each phase with its best-validation model (1); 0: keep the last */
    int batch;          /**< minibatch size, >= 1 (128) */
    double lr;          /**< Adam learning rate of phase 1, > 0 (1e-3) */
    double lr_cape;     /**< Adam learning rate of phase 2, > 0 (1e-3) */
    double weight_decay;/**< Adam L2 weight decay, >= 0 (0) */
} pk_cape_params;

pk_cape_params pk_cape_params_default(void);
/** PK_OK or PK_EINVAL naming the first field out of range. */
int pk_cape_params_check(const pk_cape_params *par, pk_err *err);

/** What pk_cape_fit did (per-epoch curves in the caller's arrays, if given). */
typedef struct pk_cape_report {
    int ce_epochs_run;        /**< epochs of phase 1 */
    int ce_best_epoch;        /**< 0-based epoch of phase 1 with the best validation NLL */
    int cape_epochs_run;      /**< epochs of phase 2 */
    int cape_best_epoch;      /**< best epoch of phase 2 (-1: the phase-1 model was kept) */
    double val_nll_ce;        /**< validation NLL of the model leaving phase 1 */
    double val_nll_final;     /**< validation NLL of the returned model */
    double *val_nll;          /**< optional, caller-owned: validation NLL after each epoch, phase 1
                                   then phase 2 (needs ce_epochs + cape_epochs entries) */
    double *train_loss;       /**< optional, same length: mean training loss of each epoch */
} pk_cape_report;

/** Train `model` (a pk_nn_classifier with classes == 2, already initialised) in place:
 *  x_tr (n_tr rows of channels*height*width floats), y_tr labels 0/1; x_va, y_va the
 *  validation rows (n_va >= 1) that drive early stopping and model selection.
 *  rng shuffles minibatches and drives dropout.  report may be NULL.
 *  @return PK_OK, PK_EINVAL (params, shapes, classes != 2), PK_EDOM (labels not 0/1,
 *  a NaN loss), PK_ENOMEM; the message names the problem. */
int pk_cape_fit(struct pk_nn_classifier *model, const float *x_tr, const double *y_tr, size_t n_tr,
                const float *x_va, const double *y_va, size_t n_va, const pk_cape_params *par, pk_rng *rng,
                pk_cape_report *report, pk_err *err);

/** p[i] = P(y = 1 | x_i) of a two-class classifier (evaluation mode, no gradient),
 *  computed in double from the logit difference.  PK_EINVAL / PK_ENOMEM. */
int pk_cape_predict(const struct pk_nn_classifier *model, const float *x, size_t n, double *p, pk_err *err);

#ifdef __cplusplus
}
#endif
#endif
