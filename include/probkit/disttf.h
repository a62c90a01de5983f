/* probkit/disttf.h — Distribution Transformers (Whittle, Ziomek, Rawling,
 * Osborne, "Distribution Transformers: Fast Approximate Bayesian Inference
 * With On-The-Fly Prior Adaptation", 2025).
 *
 * A prior over a latent theta in R^d is given as a Gaussian mixture with K
 * components; each component becomes one token (log-weight, mean, Cholesky
 * factor of its covariance).  The tokens attend to each other (self-
 * attention) and to the encoded observations (cross-attention), and a head
 * maps every token to an update of its component: the output is again a
 * K-component Gaussian mixture, the approximate posterior.  Because input and
 * output are in the same family the posterior can be fed back as the prior
 * of the next batch of data (sequential inference), and the prior can be
 * changed at test time without retraining.
 *
 * Training is amortised: for a random prior, draw theta from it, simulate
 * data given theta, and minimise -log q(theta | prior, data) (in expectation
 * the KL divergence from the exact posterior to q, plus a constant).
 *
 * Two built-in task families (pk_dtf_task):
 *  - PK_DTF_LINEAR: y_j = theta + N(0, s^2 I): the exact posterior is a
 *    Gaussian mixture (pk_dtf_exact_linear), so q is checked against truth;
 *  - PK_DTF_RANGE: 2-d localisation from range sensors, y_j =
 *    ||theta - s_j|| + N(0, s^2) with sensor positions s_j known (the
 *    paper's sensor-fusion setting, non-linear, multimodal posteriors);
 *    reference posterior on a fine grid (pk_dtf_grid_logpost).
 */
#ifndef PROBKIT_DISTTF_H
#define PROBKIT_DISTTF_H

#include <stddef.h>
#include <stdint.h>

#include "probkit/core.h"
#include "probkit/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PK_DTF_MAXD 4  /**< largest latent dimension */
#define PK_DTF_MAXK 64 /**< most mixture components */

/** A Gaussian mixture in R^d: K components, weights w (sum 1), means mu
 *  (K x d, row-major), lower Cholesky factors L (K x d x d, row-major, positive
 *  diagonal; entries above the diagonal are ignored). */
typedef struct pk_dtf_gmm {
    int d, K;
    double w[PK_DTF_MAXK];
    double mu[PK_DTF_MAXK * PK_DTF_MAXD];
    double L[PK_DTF_MAXK * PK_DTF_MAXD * PK_DTF_MAXD];
} pk_dtf_gmm;

/** Check shapes, weights (non-negative, summing to 1 within 1e-6) and
 *  factors (finite, positive diagonal). */
int pk_dtf_gmm_check(const pk_dtf_gmm *g, pk_err *err);
/** log density at theta (length d). */
double pk_dtf_gmm_logpdf(const pk_dtf_gmm *g, const double *theta);
/** One draw into theta (length d). */
void pk_dtf_gmm_sample(const pk_dtf_gmm *g, pk_rng *rng, double *theta);
/** Mean (length d) and covariance (d x d) of the mixture. */
void pk_dtf_gmm_moments(const pk_dtf_gmm *g, double *mean, double *cov);

typedef enum pk_dtf_task_kind { PK_DTF_LINEAR = 0, PK_DTF_RANGE = 1 } pk_dtf_task_kind;

/** A family of inference problems and of the random priors used to train on it. */
typedef struct pk_dtf_task {
    pk_dtf_task_kind kind;
    int d;             /**< latent dimension (RANGE: 2) */
    double noise;      /**< observation noise standard deviation s > 0 */
    double mean_scale; /**< prior component means ~ N(0, mean_scale^2 I) */
    double sd_lo, sd_hi; /**< prior component scales (Cholesky diagonal) ~ log-uniform */
    double sensor_box; /**< RANGE: sensors uniform in [-box, box]^2 */
} pk_dtf_task;

/** Defaults: LINEAR d = 2, noise 1, means N(0, 2^2), scales 0.3..1.5;
 *  RANGE: noise 0.3, sensors in [-4, 4]^2. */
pk_dtf_task pk_dtf_task_default(pk_dtf_task_kind kind);
int pk_dtf_task_check(const pk_dtf_task *t, pk_err *err);
/** Features per observation token: LINEAR d (y), RANGE 3 (sensor x, y, range). */
int pk_dtf_task_obs_dim(const pk_dtf_task *t);
/** A random prior with K components: weights Dirichlet(1), means and
 *  Cholesky diagonals as in the task, below-diagonal entries N(0, (0.3 sd)^2). */
void pk_dtf_random_prior(const pk_dtf_task *t, int K, pk_rng *rng, pk_dtf_gmm *out);
/** n observations given theta, written as n x obs_dim features. */
void pk_dtf_simulate(const pk_dtf_task *t, const double *theta, int n, pk_rng *rng, double *obs);
/** log p(obs | theta) (the task's likelihood). */
double pk_dtf_loglik(const pk_dtf_task *t, const double *theta, const double *obs, int n);

/** LINEAR: the exact posterior of a mixture prior given n observations —
 *  again a K-component mixture.  PK_EINVAL for a RANGE task. */
int pk_dtf_exact_linear(const pk_dtf_task *t, const pk_dtf_gmm *prior, const double *obs, int n, pk_dtf_gmm *post,
                        pk_err *err);
/** d = 2: log posterior density at theta, normalised on a G x G grid over
 *  [-half, half]^2 (prior density x likelihood, cell-centre rule).  The
 *  reference for non-linear tasks; exact up to the grid's resolution.
 *  mean (2) and cov (2 x 2) receive the grid posterior's moments (may be NULL). */
int pk_dtf_grid_logpost(const pk_dtf_task *t, const pk_dtf_gmm *prior, const double *obs, int n, int G,
                        double half, const double *theta, double *logpost, double *mean, double *cov,
                        pk_err *err);

/* ---- the network ------------------------------------------------------------ */

typedef struct pk_dtf_config {
    int d;         /**< latent dimension, 1..PK_DTF_MAXD */
    int obs_dim;   /**< features per observation, 1..16 */
    int K;         /**< mixture components in and out, 1..PK_DTF_MAXK */
    int d_model;   /**< width (multiple of n_head) */
    int n_head;
    int n_enc;     /**< self-attention layers over the observations */
    int n_dec;     /**< decoder layers over the components: self-attention + MLP, then cross-attention */
} pk_dtf_config;

/** d_model 64, 4 heads, 2 encoder and 3 decoder layers. */
pk_dtf_config pk_dtf_config_default(int d, int obs_dim, int K);
int pk_dtf_config_check(const pk_dtf_config *c, pk_err *err);

typedef struct pk_dtf pk_dtf;

/** A fresh network (GPT-2 style initialisation; the head starts near zero,
 *  so an untrained network returns roughly its prior). */
int pk_dtf_new(const pk_dtf_config *cfg, pk_rng *rng, pk_dtf **out, pk_err *err);
void pk_dtf_free(pk_dtf *m);
const pk_dtf_config *pk_dtf_get_config(const pk_dtf *m);
size_t pk_dtf_num_params(const pk_dtf *m);

/** Posteriors of B problems at once: priors[b] (K components each, d as
 *  configured) and n observations each (obs: B x n x obs_dim, n >= 1) ->
 *  post[b].  Single precision inside; deterministic. */
int pk_dtf_infer(const pk_dtf *m, const pk_dtf_gmm *priors, const double *obs, int B, int n, pk_dtf_gmm *post,
                 pk_err *err);

typedef struct pk_dtf_train_params {
    int steps;    /**< optimiser steps (2000) */
    int batch;    /**< problems per step (64) */
    int n_min, n_max; /**< observations per problem, uniform (1..8); one n per step */
    double lr;    /**< peak Adam learning rate (1e-3), cosine decay, 5% warm-up */
    double seq_frac; /**< share of steps (0.5) whose prior is the network's own posterior after a first
                          batch of observations (no gradient through it): trains the sequential use */
} pk_dtf_train_params;

pk_dtf_train_params pk_dtf_train_params_default(void);
/** Called every steps/20 steps with the mean loss since the last call;
 *  return non-zero to stop. */
typedef int (*pk_dtf_progress_fn)(int step, int steps, double loss, void *user);
/** Amortised training on random priors of the task (K components each).
 *  final_loss (may be NULL): mean -log q(theta) over the last 10% of steps. */
int pk_dtf_train(pk_dtf *m, const pk_dtf_task *task, const pk_dtf_train_params *tp, pk_rng *rng,
                 pk_dtf_progress_fn progress, void *user, double *final_loss, pk_err *err);

/** What pk_dtf_evaluate measures, per problem means (nats) with standard errors. */
typedef struct pk_dtf_eval {
    int problems;
    double nll_dt, se_dt;       /**< -log q(theta_true) of the network's posterior */
    double nll_ref, se_ref;     /**< -log p(theta_true | data): exact (LINEAR) or grid (RANGE) */
    double nll_gauss, se_gauss; /**< the reference posterior's moment-matched Gaussian */
    double nll_prior;           /**< the prior alone */
    double gap, se_gap;         /**< paired mean of nll_dt - nll_ref (>= 0 up to noise: KL) */
    double ms_dt, ms_ref;       /**< wall milliseconds per posterior */
} pk_dtf_eval;

/** Fresh problems from the task (random K-component priors, theta from the
 *  prior), `rounds` batches of n observations each: the network is applied
 *  round by round, its posterior becoming the next prior (rounds = 1: one
 *  shot); the reference conditions on all the data at once.  RANGE uses a
 *  grid of G x G (G = 0: 400) over [-9, 9]^2. */
int pk_dtf_evaluate(const pk_dtf *m, const pk_dtf_task *task, int problems, int n, int rounds, int G, pk_rng *rng,
                    pk_dtf_eval *out, pk_err *err);

/** Save (safetensors with the configuration and task as metadata) / load. */
int pk_dtf_save(const pk_dtf *m, const pk_dtf_task *task, const char *path, pk_err *err);
int pk_dtf_load(const char *path, pk_dtf **out, pk_dtf_task *task, pk_err *err);

#ifdef __cplusplus
}
#endif

#endif
