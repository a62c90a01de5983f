/* probkit/pfn.h — prior-data fitted networks (Müller, Hollmann, Pineda Arango,
 * Grabocka, Hutter: "Transformers Can Do Bayesian Inference", ICLR 2022).
 *
 * A PFN is a transformer trained once, on data sets drawn from a prior, to
 * output the posterior predictive distribution (PPD) p(y* | x*, D) in one
 * forward pass: the training points of D are tokens (x, y) that attend to
 * each other, the query points are tokens (x) that attend to the training
 * points only, and the output per query is a "Riemann" (bar) distribution
 * over y: a softmax over buckets whose borders split the prior's y
 * distribution into equal-mass intervals, with half-normal tails so that
 * the support is the whole real line.  Training minimises the negative log
 * density of held-out y, which is (up to a constant) the KL divergence from
 * the true PPD averaged over the prior: the network learns Bayesian
 * inference for that prior.
 *
 * Priors here: a Gaussian process with fixed hyperparameters (the paper's
 * check that a PFN can mimic an exact GP), and a GP with a hyperprior on the
 * length scale, output scale and noise (where the exact PPD needs MCMC).
 *
 * Use:
 *     pk_pfn_prior pr = pk_pfn_prior_default(1);              // RBF GP on [0,1]
 *     pk_pfn_config cfg = pk_pfn_config_default(1);
 *     double borders[cfg.n_buckets + 1];
 *     pk_pfn_borders_from_prior(&pr, cfg.n_buckets, 100000, &rng, borders, &err);
 *     pk_pfn *m; pk_pfn_new(&cfg, borders, &rng, &m, &err);
 *     pk_pfn_train_params tp = pk_pfn_train_params_default();
 *     pk_pfn_train(m, &pr, &tp, &rng, NULL, NULL, &err);
 *     pk_pfn_predict(m, X, y, n, Xq, nq, logp_at, mean, var, &err);
 *
 * Errors: PK_EINVAL for bad configurations and shapes, PK_EDOM for NaN
 * inputs, PK_ENOMEM; messages in pk_err.  Models are saved as safetensors
 * with format metadata "probkit-pfn" version 1 and the bucket borders.
 */
#ifndef PROBKIT_PFN_H
#define PROBKIT_PFN_H

#include <stddef.h>
#include <stdint.h>

#include "probkit/core.h"
#include "probkit/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- priors over data sets -------------------------------------------------- */

typedef enum pk_pfn_prior_kind {
    PK_PFN_GP = 0,   /**< RBF GP, fixed length scale, output scale and noise */
    PK_PFN_GP_HYPER, /**< RBF GP whose hyperparameters are drawn per data set */
} pk_pfn_prior_kind;

typedef struct pk_pfn_prior {
    pk_pfn_prior_kind kind;
    int dim;            /**< input dimension, 1..16; inputs uniform on [0,1]^dim */
    double lengthscale; /**< PK_PFN_GP: > 0 (0.2) */
    double outputscale; /**< PK_PFN_GP: signal variance > 0 (1) */
    double noise;       /**< PK_PFN_GP: noise variance > 0 (1e-2) */
    /* PK_PFN_GP_HYPER: log length scale ~ N(ls_mu, ls_sd^2); output scale ~
     * Gamma(os_shape, 1/os_shape) (mean 1); noise variance ~ log-uniform on
     * [noise_lo, noise_hi]. */
    double ls_mu, ls_sd, os_shape, noise_lo, noise_hi;
} pk_pfn_prior;

/** Fixed-hyperparameter GP prior in `dim` inputs: length scale 0.2, output
 *  scale 1, noise variance 1e-2; hyperprior fields set for PK_PFN_GP_HYPER
 *  (log ls ~ N(log 0.2, 0.5^2), output scale Gamma(5, 1/5), noise
 *  log-uniform on [1e-3, 1e-1]). */
pk_pfn_prior pk_pfn_prior_default(int dim);
int pk_pfn_prior_check(const pk_pfn_prior *p, pk_err *err);

/** Hyperparameters (length scale, output scale, noise variance) for one data set. */
typedef struct pk_pfn_hyper {
    double lengthscale, outputscale, noise;
} pk_pfn_hyper;

/** Draw one data set of n points: X (n x dim, row-major) uniform on the
 *  cube, y = f(X) + noise with f from the prior; *h (may be NULL) receives
 *  the hyperparameters used. */
int pk_pfn_prior_sample(const pk_pfn_prior *p, size_t n, pk_rng *rng, double *X, double *y, pk_pfn_hyper *h,
                        pk_err *err);

/** Exact GP posterior predictive for fixed hyperparameters h: mean and
 *  variance (noise included) of y at the nq query rows Xq given (X, y).
 *  n may be 0 (the prior). */
int pk_pfn_gp_predict(const pk_pfn_hyper *h, int dim, const double *X, const double *y, size_t n, const double *Xq,
                      size_t nq, double *mean, double *var, pk_err *err);
/** Log marginal likelihood of (X, y) under the RBF GP with hyperparameters h. */
int pk_pfn_gp_log_marginal(const pk_pfn_hyper *h, int dim, const double *X, const double *y, size_t n, double *lml,
                           pk_err *err);

/* ---- the bar (Riemann) distribution ----------------------------------------- */

/** Borders b_0 < ... < b_nb: the i/nb quantiles of y under the prior,
 *  estimated from `nsamples` prior draws (b_0, b_nb: the extreme draws).
 *  borders has nb + 1 entries; nb in 2..4096. */
int pk_pfn_borders_from_prior(const pk_pfn_prior *p, int nb, size_t nsamples, pk_rng *rng, double *borders,
                              pk_err *err);

/** Log density at y of the bar distribution with bucket log-probabilities
 *  logp[0..nb) (normalised) over `borders`: uniform inside the inner
 *  buckets, half-normal tails on the outer two (each tail's scale puts half
 *  of its mass inside its bucket's width), so the density is positive
 *  everywhere and integrates to one. */
double pk_pfn_bar_logpdf(const double *borders, int nb, const double *logp, double y);
/** Mean and variance of the same distribution (exact, tails included). */
void pk_pfn_bar_moments(const double *borders, int nb, const double *logp, double *mean, double *var);
/** Its cumulative distribution function at y, and the quantile at level
 *  u in (0, 1) (bisection on the CDF to 1e-12 relative). */
double pk_pfn_bar_cdf(const double *borders, int nb, const double *logp, double y);
double pk_pfn_bar_quantile(const double *borders, int nb, const double *logp, double u);
/** The bucket of y: 0..nb-1 (values beyond the borders go to the tails). */
int pk_pfn_bar_bucket(const double *borders, int nb, double y);

/* ---- the network ------------------------------------------------------------ */

typedef struct pk_pfn_config {
    int dim;       /**< input dimension (must match the prior's) */
    int d_model;   /**< embedding width, multiple of n_head (default 64) */
    int n_layer;   /**< transformer layers (4) */
    int n_head;    /**< attention heads (4) */
    int n_buckets; /**< bar distribution buckets (100) */
    int mlp_x;     /**< 0: x embedded linearly, as in the paper (default); 1: by a
                        one-hidden-layer GELU MLP, so the first attention layer can already
                        compare inputs by distance (no measurable gain at our scale, docs/pfn.md) */
} pk_pfn_config;

pk_pfn_config pk_pfn_config_default(int dim);
int pk_pfn_config_check(const pk_pfn_config *c, pk_err *err);

typedef struct pk_pfn pk_pfn;

/** A new network with GPT-2-style initialisation and the given bucket
 *  borders (n_buckets + 1 strictly increasing values, copied). */
int pk_pfn_new(const pk_pfn_config *cfg, const double *borders, pk_rng *rng, pk_pfn **out, pk_err *err);
void pk_pfn_free(pk_pfn *m);
const pk_pfn_config *pk_pfn_get_config(const pk_pfn *m);
const double *pk_pfn_borders(const pk_pfn *m);
/** The prior the network was fitted to (recorded by pk_pfn_train and kept
 *  in checkpoints), or NULL for a network never trained. */
const pk_pfn_prior *pk_pfn_get_prior(const pk_pfn *m);
/** Number of trainable scalars. */
size_t pk_pfn_num_params(const pk_pfn *m);

typedef struct pk_pfn_train_params {
    int steps;      /**< optimiser steps (default 2000) */
    int batch;      /**< data sets per step (32) */
    int n_points;   /**< points per data set, split at a uniform position into
                         training and query points (50) */
    int min_train;  /**< smallest number of training points drawn (0) */
    double lr;      /**< Adam peak learning rate (1e-3), linear warm-up then cosine */
    int warmup;     /**< warm-up steps (steps / 10) when < 0 (-1) */
} pk_pfn_train_params;

pk_pfn_train_params pk_pfn_train_params_default(void);

/** Called every `every` steps during training with the mean loss of the
 *  last `every` steps (nats per query point); return non-zero to stop. */
typedef int (*pk_pfn_progress_fn)(int step, int steps, double loss, void *user);

/** Prior-fitting: minimise E_D[-log q(y*|x*, D)] over data sets from the
 *  prior.  *final_loss (may be NULL) gets the mean loss of the last tenth of
 *  the steps.  progress may be NULL. */
int pk_pfn_train(pk_pfn *m, const pk_pfn_prior *prior, const pk_pfn_train_params *tp, pk_rng *rng,
                 pk_pfn_progress_fn progress, void *user, double *final_loss, pk_err *err);

/** The PPD at nq query rows Xq given n training rows (X, y) (n may be 0):
 *  logp (nq x n_buckets, may be NULL) gets the bucket log-probabilities;
 *  mean and var (may be NULL) the distribution's moments; if yq is not NULL,
 *  logpdf_q (nq) gets the log density at yq. */
int pk_pfn_predict(const pk_pfn *m, const double *X, const double *y, size_t n, const double *Xq, size_t nq,
                   const double *yq, double *logpdf_q, double *mean, double *var, double *logp, pk_err *err);

/* ---- evaluation against the exact posterior predictive ------------------------ */

/** One row of pk_pfn_evaluate: mean negative log density per query point
 *  (nats) over fresh data sets from the prior with n_train training points. */
typedef struct pk_pfn_eval {
    int n_train;
    double nll_pfn;   /**< the PFN's PPD */
    double nll_ref;   /**< the Bayes PPD: exact GP for PK_PFN_GP; for PK_PFN_GP_HYPER the
                           hyperparameters integrated by importance sampling from the hyperprior */
    double nll_plugin;/**< GP with the data set's true hyperparameters (an oracle; = nll_ref for PK_PFN_GP) */
    double se_diff;   /**< standard error of the mean paired difference nll_pfn - nll_ref */
    double sec_pfn, sec_ref; /**< seconds per data set for the PFN and the reference */
} pk_pfn_eval;

/** Evaluate m on `datasets` data sets per entry of n_train[0..k) (each n < 4096),
 *  n_query query points each, drawn from `prior` (NULL: the model's own).
 *  is_samples: hyperprior draws for the PK_PFN_GP_HYPER reference (e.g. 2000). */
int pk_pfn_evaluate(const pk_pfn *m, const pk_pfn_prior *prior, const int *n_train, size_t k, int datasets,
                    int n_query, int is_samples, pk_rng *rng, pk_pfn_eval *out, pk_err *err);

/** Save / load (safetensors, metadata format=probkit-pfn, version=1, the
 *  configuration, the bucket borders and the prior as text). */
int pk_pfn_save(const pk_pfn *m, const char *path, pk_err *err);
int pk_pfn_load(const char *path, pk_pfn **out, pk_err *err);

#ifdef __cplusplus
}
#endif
#endif
