/* probkit/funcprior.h — functional priors for Bayesian neural networks.
 *
 * After "All You Need is a Good Functional Prior for Bayesian Deep Learning"
 * (Tran, Rossi, Milios & Filippone, JMLR 2022).  A Gaussian prior on the
 * weights of a multilayer perceptron induces a distribution over functions;
 * a fixed N(0, 1) prior induces a poor one (too rough, too large).  The
 * method tunes the per-layer prior standard deviations so that the BNN's
 * function values at random "measurement" points match a target Gaussian
 * process prior in Wasserstein distance, then samples the BNN posterior
 * under that prior with SGHMC.
 *
 * Departure from the paper: the paper estimates the 1-Wasserstein distance
 * through its dual with a Lipschitz neural discriminator (WGAN with gradient
 * penalty).  We use a *sliced* Wasserstein distance instead: the
 * M-dimensional function values are projected onto K random unit directions,
 * and each projection's 1-d Wasserstein-p distance is exact (sorted samples
 * matched in order).  It needs no inner optimisation loop, its gradient is
 * exact for the sampled batch, and it is zero only when the two
 * distributions agree (Cramer-Wold).  Random directions in R^M concentrate
 * (u'Cu is close to tr(C)/M for most u), so plain slicing weighs the
 * correlation structure weakly; by default (whiten > 0) the function values
 * are first whitened by the target's covariance, z = L^{-1} f with
 * L L' = K + reg I, i.e. the distance is measured in the target's Mahalanobis
 * metric (still a metric on distributions).  On Boston this gave the better
 * BNN posterior; on the 1-d RBF case a lower plain sliced distance but a
 * slightly larger covariance error than whiten = 0 (docs/funcprior.md).
 *
 * The network: in_dim inputs -> n_hidden layers (tanh or ReLU) -> 1 output.
 * Its parameter vector theta (double) holds, for layer l = 0..n_hidden,
 * W_l (out x in, row-major) then b_l (out).  The prior of layer l is
 *     W_l[i][j] ~ N(0, w_std[l]^2 / fan_in_l),   b_l[i] ~ N(0, b_std[l]^2)
 * (the authors' "scaled variance" form).  An i.i.d. N(0, s^2) prior on every
 * weight is w_std[l] = s sqrt(fan_in_l), b_std[l] = s
 * (pk_funcprior_prior_iid).
 *
 * Threads: objects are used by one thread at a time.  The library never
 * prints; errors come back as a status and a message in pk_err.
 */
#ifndef PROBKIT_FUNCPRIOR_H
#define PROBKIT_FUNCPRIOR_H

#include <stddef.h>

#include "probkit/core.h"
#include "probkit/gp.h"
#include "probkit/linalg.h"
#include "probkit/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PK_FUNCPRIOR_MAX_HIDDEN 8

typedef enum pk_funcprior_act {
    PK_FUNCPRIOR_TANH = 0,
    PK_FUNCPRIOR_RELU
} pk_funcprior_act;

/** A fully connected network with one output. */
typedef struct pk_funcprior_net {
    int in_dim;                            /**< inputs, 1..4096 */
    int n_hidden;                          /**< hidden layers, 0..PK_FUNCPRIOR_MAX_HIDDEN (0: linear model) */
    int hidden[PK_FUNCPRIOR_MAX_HIDDEN];   /**< widths, each 1..4096 */
    pk_funcprior_act act;
} pk_funcprior_net;

/** Per-layer prior scales, layers 0..n_hidden (entries past n_hidden unused). */
typedef struct pk_funcprior_prior {
    double w_std[PK_FUNCPRIOR_MAX_HIDDEN + 1]; /**< > 0: weight sd times sqrt(fan_in) */
    double b_std[PK_FUNCPRIOR_MAX_HIDDEN + 1]; /**< > 0: bias sd */
} pk_funcprior_prior;

/** PK_OK, or PK_EINVAL naming the bad field. */
int pk_funcprior_net_check(const pk_funcprior_net *net, pk_err *err);
/** PK_OK, or PK_EINVAL naming the first non-positive / non-finite scale. */
int pk_funcprior_prior_check(const pk_funcprior_net *net, const pk_funcprior_prior *pr, pk_err *err);
/** Length of theta (weights and biases of all layers); 0 for an invalid net. */
size_t pk_funcprior_nparams(const pk_funcprior_net *net);
/** Number of layers with weights: n_hidden + 1. */
int pk_funcprior_nlayers(const pk_funcprior_net *net);
/** The prior under which every weight and bias is i.i.d. N(0, s^2), s > 0. */
pk_funcprior_prior pk_funcprior_prior_iid(const pk_funcprior_net *net, double s);
/** Per-parameter prior standard deviations into sd (nparams values). */
void pk_funcprior_prior_sd(const pk_funcprior_net *net, const pk_funcprior_prior *pr, double *sd);

/** f[i] = net(theta; X row i) for the n x in_dim matrix X.
 *  @return PK_OK, PK_EINVAL (shapes), PK_ENOMEM. */
int pk_funcprior_forward(const pk_funcprior_net *net, const double *theta, const pk_mat *X, double *f, pk_err *err);

/** ns functions drawn from the prior, evaluated at X (n x in_dim): F is ns x n. */
int pk_funcprior_sample_functions(const pk_funcprior_net *net, const pk_funcprior_prior *pr, const pk_mat *X,
                                  size_t ns, pk_rng *rng, pk_mat *F, pk_err *err);

/** Monte Carlo covariance of the prior's function values at X from ns draws
 *  (n x n into C; the mean is known to be zero and is not subtracted). */
int pk_funcprior_cov(const pk_funcprior_net *net, const pk_funcprior_prior *pr, const pk_mat *X, size_t ns,
                     pk_rng *rng, pk_mat *C, pk_err *err);

/* ---- Wasserstein matching to a GP prior ------------------------------------ */

/** Sliced Wasserstein-p distance between two samples of M-vectors, A and B
 *  (both n x M, the same n >= 2), over n_proj random unit directions:
 *  (mean over directions of W_p^p of the projections)^(1/p), p = 1 or 2.
 *  If gA != NULL it receives d distance / d A (n x M, overwritten). */
int pk_funcprior_sliced_wasserstein(const pk_mat *A, const pk_mat *B, size_t n_proj, int p, pk_rng *rng,
                                    double *dist, pk_mat *gA, pk_err *err);

typedef struct pk_funcprior_match_params {
    int steps;        /**< optimiser steps, >= 1 (default 500) */
    int n_samples;    /**< functions drawn from the BNN and from the GP per step, >= 2 (default 128) */
    int n_measure;    /**< measurement points per step, >= 1 (default 32) */
    int n_proj;       /**< random directions of the sliced distance, >= 1 (default 64) */
    int p;            /**< Wasserstein order, 1 (as the paper) or 2 (default 1) */
    double lr;        /**< Adam learning rate on softplus^-1 of the scales, > 0 (default 0.02) */
    double lo, hi;    /**< measurement points uniform in [lo, hi]^in_dim when no pool is given (default -3, 3) */
    double whiten;    /**< >= 0: whiten by (K + whiten * mean(diag K) I)^{-1/2} before slicing; 0 = plain
                           sliced distance (default 0.01) */
} pk_funcprior_match_params;

pk_funcprior_match_params pk_funcprior_match_params_default(void);
int pk_funcprior_match_params_check(const pk_funcprior_match_params *mp, pk_err *err);

/** Tune pr (in/out: the start point, then the result) so that the BNN's
 *  functions at measurement points match the zero-mean GP with `kernel`.
 *  Each step draws n_measure points (rows of `pool`, uniformly with
 *  replacement, when pool != NULL (pool->cols == in_dim); else uniformly in
 *  the box), n_samples GP functions there (Cholesky of K + 1e-8 I) and
 *  n_samples BNN functions by the reparameterisation theta = sd(rho) * eps,
 *  and takes one Adam step on rho (sd = softplus(rho)) along the exact
 *  gradient of the sliced distance.  trace (may be NULL) gets each step's
 *  distance (steps values; noisy: a fresh batch each step).
 *  @return PK_OK; PK_EINVAL (arguments); PK_ENOMEM; PK_ESING (kernel matrix). */
int pk_funcprior_match(const pk_funcprior_net *net, const pk_gp_kernel *kernel, const pk_mat *pool,
                       const pk_funcprior_match_params *mp, pk_rng *rng, pk_funcprior_prior *pr, double *trace,
                       pk_err *err);

/** The sliced distance between the BNN prior and the GP at fixed points X
 *  (whitened as in pk_funcprior_match when whiten > 0), averaged over `reps`
 *  independent batches of ns functions each (an evaluation figure; the same
 *  seed gives the same value).  Two finite samples of one distribution are
 *  at a positive distance too: compare with the GP against itself
 *  (pk_funcprior_distance_floor). */
int pk_funcprior_distance(const pk_funcprior_net *net, const pk_funcprior_prior *pr, const pk_gp_kernel *kernel,
                          const pk_mat *X, size_t ns, size_t n_proj, int p, double whiten, int reps, pk_rng *rng,
                          double *dist, pk_err *err);
/** The same figure for two independent GP samples: the Monte Carlo floor. */
int pk_funcprior_distance_floor(const pk_gp_kernel *kernel, const pk_mat *X, size_t ns, size_t n_proj, int p,
                                double whiten, int reps, pk_rng *rng, double *dist, pk_err *err);

/** ns joint draws of the zero-mean GP with `kernel` at X into F (ns x n). */
int pk_funcprior_gp_sample(const pk_gp_kernel *kernel, const pk_mat *X, size_t ns, pk_rng *rng, pk_mat *F,
                           pk_err *err);

/* ---- posterior sampling (SGHMC through pk_infer_sgmcmc) --------------------- */

typedef struct pk_funcprior_post_params {
    double noise_var; /**< Gaussian likelihood variance, > 0 (default 0.1) */
    size_t batch;     /**< minibatch, >= 1, capped at n (default 32) */
    size_t iters;     /**< SGHMC iterations (default 20000) */
    size_t burn;      /**< discarded iterations, < iters (default 10000) */
    size_t thin;      /**< keep every thin-th draw (default 100) */
    double step;      /**< eta, the SGHMC learning rate (default 1e-4) */
    double friction;  /**< alpha in (0, 1] (default 0.05, the authors' momentum decay) */
    int retries;      /**< on divergence (a non-finite gradient, or an output beyond 1000 (max |y| + noise sd)),
                           halve step and restart, up to this many times (default 3) */
} pk_funcprior_post_params;

pk_funcprior_post_params pk_funcprior_post_params_default(void);
int pk_funcprior_post_params_check(const pk_funcprior_post_params *pp, pk_err *err);

/** SGHMC samples of theta from p(theta | X, y) with y_i ~ N(net(theta; x_i),
 *  noise_var) and the Gaussian prior pr; the chain starts at init (nparams
 *  values) or at a prior draw when init == NULL.  *draws is malloc'd (caller
 *  frees) with *n_draws x nparams values.
 *  @return PK_OK; PK_EINVAL; PK_ENOMEM; PK_EDOM if every retry diverged. */
int pk_funcprior_posterior(const pk_funcprior_net *net, const pk_funcprior_prior *pr, const pk_mat *X,
                           const double *y, const double *init, const pk_funcprior_post_params *pp, pk_rng *rng,
                           double **draws, size_t *n_draws, pk_err *err);

/** Predictive mean and variance at Xs (m points) of the mixture of the
 *  n_draws networks, each with Gaussian noise noise_var (var includes it). */
int pk_funcprior_predict(const pk_funcprior_net *net, const double *draws, size_t n_draws, const pk_mat *Xs,
                         double noise_var, double *mean, double *var, pk_err *err);

/* ---- files ---------------------------------------------------------------- */

/** Write the net and prior as JSON (format "probkit-funcprior", version 1;
 *  numbers %.17g; written to a temporary file and renamed).  `extra` may be
 *  NULL or a JSON object string whose members are copied in (e.g. the target
 *  kernel, the final distance). */
int pk_funcprior_save(const char *path, const pk_funcprior_net *net, const pk_funcprior_prior *pr,
                      const char *extra, pk_err *err);
/** Read a file written by pk_funcprior_save: PK_EIO, PK_EFORMAT naming the field. */
int pk_funcprior_load(const char *path, pk_funcprior_net *net, pk_funcprior_prior *pr, pk_err *err);

#ifdef __cplusplus
}
#endif
#endif
