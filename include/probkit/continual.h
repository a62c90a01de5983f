/* continual.h — sequential Bayesian inference for continual learning.
 *
 * From Kessler, Cobb, Rudner, Zohren and Roberts, "On Sequential Bayesian
 * Inference for Continual Learning" (Entropy 2023).  The paper asks whether
 * an exact posterior, propagated from task to task as the next task's prior,
 * prevents catastrophic forgetting in a Bayesian neural network.  Its recipe,
 * which this module implements:
 *   1. sample the posterior of a small ReLU network with HMC;
 *   2. fit a density estimator (a full-covariance Gaussian mixture, its
 *      number of components chosen by held-out likelihood) to the samples;
 *   3. use that density as the prior of the next task, and repeat;
 * and the answer it reports: this still forgets.  The paper's second point is
 * that exact inference is not enough when the model is misspecified or the
 * tasks are imbalanced; the conjugate Bayesian linear regression below
 * (pk_cl_blr_*) makes those cases exact.
 *
 * All functions return PK_OK or a negative pk_status; randomness comes from
 * the explicit seed / pk_rng arguments.
 */
#ifndef PROBKIT_CONTINUAL_H
#define PROBKIT_CONTINUAL_H

#include <stddef.h>
#include <stdint.h>

#include "probkit/core.h"
#include "probkit/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the network -------------------------------------------------------------- */

/** Largest hidden width (scratch lives on the stack so that HMC chains can
 *  evaluate the network concurrently without allocating). */
#define PK_CL_MAX_HIDDEN 64
/** Largest number of classes. */
#define PK_CL_MAX_OUT 16

/** The paper's network: in -> hidden (ReLU) -> hidden (ReLU) -> out logits.
 *  Parameter vector layout: W1 (hidden x in, row-major), b1 (hidden),
 *  W2 (hidden x hidden), b2 (hidden), W3 (out x hidden), b3 (out). */
typedef struct pk_cl_mlp {
    size_t in;     /**< >= 1 */
    size_t hidden; /**< 1 .. PK_CL_MAX_HIDDEN */
    size_t out;    /**< 2 .. PK_CL_MAX_OUT */
} pk_cl_mlp;

/** Number of parameters; 0 if the shape is out of range. */
size_t pk_cl_mlp_nparams(const pk_cl_mlp *m);

/** Categorical log-likelihood sum_i log softmax(f(x_i; theta))[y_i] of n rows
 *  of X (n x in, row-major) with labels y in [0, out).  When grad is not NULL
 *  its gradient with respect to theta is written there (nparams values).
 *  Returns NAN on a label out of range. */
double pk_cl_mlp_loglik(const pk_cl_mlp *m, const double *theta, const double *X, const int32_t *y, size_t n,
                        double *grad);

/** Logits of n rows into logits (n x out). */
int pk_cl_mlp_logits(const pk_cl_mlp *m, const double *theta, const double *X, size_t n, double *logits);

/** Bayesian model average over S parameter vectors (S x nparams): accuracy of
 *  argmax of the mean predicted probabilities, and the mean negative log
 *  predictive probability (nats).  Either output may be NULL. */
int pk_cl_bma_score(const pk_cl_mlp *m, const double *thetas, size_t S, const double *X, const int32_t *y, size_t n,
                    double *accuracy, double *nll);

/* ---- priors propagated between tasks ------------------------------------------ */

typedef struct pk_cl_prior pk_cl_prior;

/** Isotropic Gaussian N(0, tau^-1 I) over dim parameters (tau > 0). */
int pk_cl_prior_gaussian(size_t dim, double tau, pk_cl_prior **out, pk_err *err);

/** Fit a full-covariance Gaussian mixture to n samples (n x dim, e.g. HMC
 *  draws), as the paper does: candidate numbers of components 1, 2, 4, ... up
 *  to max_k are fitted on a random 75% of the samples, the one with the
 *  highest mean log-likelihood on the other 25% wins, and is refitted on all
 *  samples.  `reg` is added to every covariance diagonal (> 0: the samples of
 *  a posterior can be nearly degenerate).  k_chosen may be NULL. */
int pk_cl_prior_fit_gmm(const double *samples, size_t n, size_t dim, size_t max_k, double reg, pk_rng *rng,
                        pk_cl_prior **out, size_t *k_chosen, pk_err *err);

/** log density at theta; its gradient into grad when not NULL. */
double pk_cl_prior_logpdf(const pk_cl_prior *p, const double *theta, double *grad);

/** n draws (n x dim) from the prior. */
int pk_cl_prior_sample(const pk_cl_prior *p, size_t n, pk_rng *rng, double *out);

size_t pk_cl_prior_dim(const pk_cl_prior *p);
/** Number of mixture components (1 for the Gaussian prior). */
size_t pk_cl_prior_components(const pk_cl_prior *p);
void pk_cl_prior_free(pk_cl_prior *p);

/* ---- tasks and the sequential experiment ---------------------------------------- */

/** One task: training and test rows with labels in [0, out). Borrowed. */
typedef struct pk_cl_task {
    const double *Xtr;
    const int32_t *ytr;
    size_t ntr;
    const double *Xte;
    const int32_t *yte;
    size_t nte;
} pk_cl_task;

/** The paper's toy continual problem in 2-d: ten anisotropic Gaussian blobs
 *  (the centres and per-axis spreads of the authors' generator), n points
 *  split evenly over the blobs.  Task t (0..4) separates blob t (label 0) from
 *  blob t+5 (label 1).  Writes X (n x 2) and the blob index of each point. */
int pk_cl_toy_blobs(size_t n, pk_rng *rng, double *X, int32_t *blob);

/** The five toy tasks ready to learn: n_train and n_test points drawn over
 *  the ten blobs (each task gets the points of its two blobs, labels 0/1).
 *  Owns its arrays; release with pk_cl_toy_free. */
typedef struct pk_cl_toy {
    size_t T;             /**< 5 */
    pk_cl_task tasks[5];
    double *X;            /**< storage (train then test rows, grouped by task) */
    int32_t *y;
} pk_cl_toy;

int pk_cl_toy_make(size_t n_train, size_t n_test, pk_rng *rng, pk_cl_toy *out, pk_err *err);
void pk_cl_toy_free(pk_cl_toy *t);

typedef enum pk_cl_mode {
    PK_CL_SEQUENTIAL = 0, /**< prior of task t = mixture fitted to the HMC draws of task t-1 */
    PK_CL_JOINT = 1,      /**< task t sees the data of tasks 0..t under the Gaussian prior (the upper bound) */
    PK_CL_FRESH = 2       /**< task t sees only its own data under the Gaussian prior (no memory at all) */
} pk_cl_mode;

typedef struct pk_cl_hmc_opts {
    pk_cl_mlp net;       /**< shape (in and out must match the tasks) */
    double tau;          /**< Gaussian prior precision (the paper's default 10) */
    size_t chains;       /**< HMC chains per task (>= 1) */
    size_t warmup;       /**< adaptation iterations per chain */
    size_t draws;        /**< kept draws per chain */
    size_t n_leapfrog;   /**< static HMC path length (mean) */
    size_t max_k;        /**< largest mixture size tried for the propagated prior */
    double gmm_reg;      /**< covariance regularisation of the mixture */
    size_t eval_samples; /**< posterior draws used for the model average at test time */
} pk_cl_hmc_opts;

pk_cl_hmc_opts pk_cl_hmc_opts_default(size_t in, size_t out);

/** Per-task diagnostics of a run. */
typedef struct pk_cl_task_info {
    size_t components;   /**< mixture size of the prior propagated out of this task (SEQUENTIAL) */
    double accept;       /**< mean HMC acceptance statistic */
    size_t divergences;
    double seconds;
} pk_cl_task_info;

/** Learn T tasks in order.  acc (T x T) receives the model-average accuracy
 *  on task j's test rows after learning task t at acc[t*T + j] (NAN for
 *  j > t); nll (T x T, may be NULL) the matching test NLL; info (T entries,
 *  may be NULL) per-task diagnostics.  `progress` (may be NULL) is called
 *  after each task. */
int pk_cl_run(const pk_cl_task *tasks, size_t T, pk_cl_mode mode, const pk_cl_hmc_opts *o, uint64_t seed,
              double *acc, double *nll, pk_cl_task_info *info, void (*progress)(size_t task, void *user),
              void *user, pk_err *err);

/* ---- Prototypical Bayesian Continual Learning (the paper's Section 7) ------------- */

typedef enum pk_cl_head {
    PK_CL_HEAD_PROTO = 0,  /**< ProtoCL: conjugate Gaussian class prototypes in the embedding */
    PK_CL_HEAD_SOFTMAX = 1 /**< the comparison: a softmax layer on the same encoder */
} pk_cl_head;

typedef struct pk_cl_protocl_opts {
    size_t in;          /**< input width */
    size_t classes;     /**< all classes the stream may bring (>= 2) */
    size_t hidden;      /**< encoder: in -> hidden -> hidden -> embed, ReLU (default 256) */
    size_t embed;       /**< embedding width (default 64) */
    pk_cl_head head;    /**< default PROTO */
    double sigma_eps;   /**< class-conditional noise sd in the embedding, initial value (default 1) */
    int learn_noise;    /**< 1 (default): sigma_eps is trained with the encoder, as the authors' learnable noise */
    double dir_prior;   /**< Dirichlet pseudo-count per class (default e^0.78, the authors') */
    double lr;          /**< Adam learning rate (default 1e-3) */
    size_t epochs;      /**< passes over each task (default 2) */
    size_t batch;       /**< new rows per step; as many replayed rows join them (default 64) */
    size_t memory;      /**< replay memory, class-balanced (default 1000; 0 = none) */
} pk_cl_protocl_opts;

pk_cl_protocl_opts pk_cl_protocl_opts_default(size_t in, size_t classes);

typedef struct pk_cl_protocl pk_cl_protocl;

/** A new learner; the encoder is initialised from `seed`. */
int pk_cl_protocl_new(const pk_cl_protocl_opts *o, uint64_t seed, pk_cl_protocl **out, pk_err *err);
/** Learn one task (X n x in, labels in [0, classes)).  Each step trains the
 *  encoder on log p(y | x) under the class posteriors of *before* the step,
 *  then absorbs the step's embeddings into those posteriors exactly; at the
 *  end the task's rows enter the replay memory. */
int pk_cl_protocl_learn_task(pk_cl_protocl *m, const float *X, const int32_t *y, size_t n, pk_err *err);
/** Most probable class of n rows. */
int pk_cl_protocl_predict(pk_cl_protocl *m, const float *X, size_t n, int32_t *labels, pk_err *err);
/** Rows held in the replay memory. */
size_t pk_cl_protocl_memory_used(const pk_cl_protocl *m);
void pk_cl_protocl_free(pk_cl_protocl *m);

/* ---- exact sequential inference: Bayesian linear regression ---------------------- */

/** Conjugate Bayesian linear regression y = x'w + N(0, noise_var) with prior
 *  w ~ N(0, prior_var I), kept in natural form (precision P, P*mean h) so that
 *  updating on tasks one after another is exactly the batch posterior. */
typedef struct pk_cl_blr {
    size_t d;
    double noise_var;
    double *P; /**< d x d posterior precision */
    double *h; /**< d, precision times mean */
} pk_cl_blr;

int pk_cl_blr_init(pk_cl_blr *b, size_t d, double prior_var, double noise_var, pk_err *err);
/** Absorb n rows (X n x d, y n). */
int pk_cl_blr_update(pk_cl_blr *b, const double *X, const double *y, size_t n, pk_err *err);
/** Posterior mean (d values). */
int pk_cl_blr_mean(const pk_cl_blr *b, double *mean, pk_err *err);
void pk_cl_blr_free(pk_cl_blr *b);

#ifdef __cplusplus
}
#endif
#endif
