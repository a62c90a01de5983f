/* probkit/mpnp.h — Martingale Posterior Neural Processes (Lee, Yun, Nam,
 * Fong & Lee, ICLR 2023) and the neural-process baselines they are compared
 * with, for 1-d regression on functions drawn from Gaussian processes.
 *
 * A neural process maps a context set D_c = {(x_i, y_i)} to a predictive
 * distribution p(y | x, D_c) = N(mu(x), sigma(x)^2) at any target x:
 *
 *   CNP   a deterministic encoder r = post(mean_i pre(x_i, y_i)) and an MLP
 *         decoder (x, r) -> (mu, sigma); no functional uncertainty.
 *   NP    CNP plus a global latent z ~ N(mu_z, sigma_z) from a second
 *         encoder; trained with the usual conditional ELBO
 *         (KL(q(z | D) || q(z | D_c))), evaluated as a mixture over z.
 *   MPNP  the martingale posterior: a generator g(D_c, eps) draws a pseudo
 *         context Z of n_pseudo points (x', y') — a set-attention block in
 *         which noise vectors attend to the context representations — and
 *         the SAME deterministic encoder conditions on D_c u Z (or, as in
 *         the paper's Figure 1 and by default, the generator emits the pseudo
 *         points' representations, pooled with the context's).  The
 *         predictive is the mixture over pseudo contexts Z_1..Z_K; the
 *         uncertainty in what future data would look like is the functional
 *         uncertainty, with no latent variable.  Training minimises
 *         L_marg + L_amort + L_pseudo per task (n points, the context
 *         included, as in the authors' benchmark code):
 *           L_marg   = -log (1/K) sum_k prod_i p(y_i | x_i, D_c u Z_k)
 *           L_amort  = -sum_i log p(y_i | x_i, D_c)     (the encoder on real data)
 *           L_pseudo = -log (1/K) sum_k prod_i p(y_i | x_i, Z_k)
 *                      (pseudo points must carry information about the task,
 *                       so the generator cannot emit points the encoder ignores)
 *         each divided by n.  With n_pseudo = 0 an MPNP is exactly its CNP.
 *
 * Tensors: float32 through probkit/nn.h; statistics in double.
 * Threads: a model may be used by one thread at a time.
 */
#ifndef PROBKIT_MPNP_H
#define PROBKIT_MPNP_H

#include <stddef.h>
#include <stdint.h>

#include "probkit/core.h"
#include "probkit/nn.h"
#include "probkit/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- tasks: batches of 1-d GP functions -------------------------------------- */

typedef enum pk_mpnp_kernel {
    PK_MPNP_RBF = 0,  /**< s^2 exp(-d^2 / (2 l^2)) */
    PK_MPNP_MATERN52, /**< s^2 (1 + sqrt5 d/l + 5 d^2 / (3 l^2)) exp(-sqrt5 d/l) */
    PK_MPNP_PERIODIC  /**< s^2 exp(-2 sin^2(pi d / p) / l^2), period p ~ U(0.1, 0.5) */
} pk_mpnp_kernel;

/** How tasks are drawn (the sampler of the NP benchmark code as we read it):
 *  per task a length scale l ~ U(min_ls, max_ls) and an output scale
 *  s ~ U(min_scale, max_scale); x ~ U(x_lo, x_hi); y ~ N(0, K + noise_sd^2 I);
 *  then y += t_noise * StudentT(2.1) per point when t_noise > 0.  A batch has
 *  one context size nc ~ U{3..max_points-4} and target size nt ~ U{3..max_points-nc-1}. */
typedef struct pk_mpnp_task_params {
    pk_mpnp_kernel kernel;
    int max_points;               /**< 10..1000 (50) */
    double x_lo, x_hi;            /**< x_lo < x_hi (-2, 2) */
    double min_ls, max_ls;        /**< 0 < min_ls <= max_ls (0.1, 0.6) */
    double min_scale, max_scale;  /**< 0 < min <= max (0.1, 1.0) */
    double noise_sd;              /**< >= 0 (0.02) */
    double t_noise;               /**< >= 0 (0: Gaussian only; the paper's t-noise variant: 0.1) */
} pk_mpnp_task_params;

pk_mpnp_task_params pk_mpnp_task_params_default(pk_mpnp_kernel kernel);
int pk_mpnp_task_params_check(const pk_mpnp_task_params *tp, pk_err *err);

/** A batch of B tasks with the same split: row b holds n = nc + nt points,
 *  context first.  x, y: (B, n) floats, owned by the batch. */
typedef struct pk_mpnp_batch {
    int B, nc, nt, cap;
    float *x, *y;
} pk_mpnp_batch;

/** Allocate room for B tasks of up to max_points points (PK_ENOMEM). */
int pk_mpnp_batch_alloc(pk_mpnp_batch *b, int B, int max_points);
void pk_mpnp_batch_free(pk_mpnp_batch *b);
/** Fill b with B fresh tasks (B <= the allocated count).  nc, nt <= 0 draw
 *  the sizes as described above; otherwise nc + nt <= max_points.
 *  PK_EINVAL, PK_ESING (a covariance that no jitter made positive definite). */
int pk_mpnp_sample_batch(const pk_mpnp_task_params *tp, int B, int nc, int nt, pk_rng *rng, pk_mpnp_batch *b,
                         pk_err *err);

/* ---- models ------------------------------------------------------------------- */

typedef enum pk_mpnp_kind { PK_MPNP_CNP = 0, PK_MPNP_NP, PK_MPNP_MPNP } pk_mpnp_kind;
/** "cnp", "np", "mpnp". */
const char *pk_mpnp_kind_name(pk_mpnp_kind k);
/** The kind called `name`, or -1. */
int pk_mpnp_kind_parse(const char *name);

/** Where an MPNP's generator works: it emits pseudo points (x', y') that go
 *  through the encoder like real points, or it emits the per-point
 *  representations directly (the paper's Figure 1: pseudo representations R'
 *  from a set-attention block, pooled with the context's R). */
typedef enum pk_mpnp_pseudo_space { PK_MPNP_PSEUDO_DATA = 0, PK_MPNP_PSEUDO_REPR } pk_mpnp_pseudo_space;

typedef struct pk_mpnp_config {
    pk_mpnp_kind kind;
    int width;     /**< hidden width H, 4..1024 (64; the paper 128) */
    int enc_depth; /**< encoder layers before pooling, 1..8 (3) */
    int dec_depth; /**< decoder layers, 2..8 (3) */
    int n_head;    /**< MPNP generator attention heads, divides width (4) */
    int n_pseudo;  /**< MPNP pseudo points per pseudo context, 0..256 (16) */
    int n_samples; /**< K: pseudo contexts (MPNP) / latent draws (NP) per training task, 1..64 (5) */
    int z_dim;     /**< NP latent size, 1..1024 (= width when 0 at pk_mpnp_new) */
    double x_lo, x_hi; /**< MPNP: generated x' lie in (x_lo, x_hi) (-2, 2) */
    pk_mpnp_pseudo_space pseudo_space; /**< MPNP generator output (PK_MPNP_PSEUDO_REPR, the paper's) */
} pk_mpnp_config;

pk_mpnp_config pk_mpnp_config_default(pk_mpnp_kind kind);
int pk_mpnp_config_check(const pk_mpnp_config *c, pk_err *err);

typedef struct pk_mpnp pk_mpnp;

/** Declare and initialise (torch Linear defaults: U(+-1/sqrt(fan_in))) a model. */
int pk_mpnp_new(const pk_mpnp_config *cfg, pk_rng *rng, pk_mpnp **out, pk_err *err);
void pk_mpnp_free(pk_mpnp *m);
const pk_mpnp_config *pk_mpnp_get_config(const pk_mpnp *m);
/** The parameters (owned by m): for optimisers, gradient checks, copies. */
pk_nn_params *pk_mpnp_params(pk_mpnp *m);
int64_t pk_mpnp_num_params(const pk_mpnp *m);

/** Per-element Gaussian log density log N(y | mu, sigma^2) as a tensor op
 *  (mu, sigma same shape as y; y without gradient). */
pk_nn_tensor *pk_mpnp_gauss_logpdf(pk_nn_ctx *ctx, pk_nn_tensor *mu, pk_nn_tensor *sigma, const pk_nn_tensor *y);

/** The training loss of batch b (a scalar, nats per point; see the file
 *  comment for each kind).  Noise (pseudo contexts, latent draws) comes from
 *  rng.  NULL on error (pk_nn_ctx_error says why). */
pk_nn_tensor *pk_mpnp_loss(pk_nn_ctx *ctx, const pk_mpnp *m, const pk_mpnp_batch *b, pk_rng *rng);

/** Predictive of one task: nc context points (nc >= 1), nt targets; S draws
 *  (pseudo contexts / latents; CNP ignores S and fills 1).  mu, sigma:
 *  (S, nt) row-major.  pseudo: NULL or room for S * n_pseudo * 2 floats,
 *  (x', y') of each MPNP pseudo point.  PK_EINVAL, PK_ENOMEM. */
int pk_mpnp_predict(const pk_mpnp *m, const float *xc, const float *yc, int nc, const float *xt, int nt, int S,
                    pk_rng *rng, float *mu, float *sigma, float *pseudo, pk_err *err);

/** Per-point log-likelihood of each point of batch b under the model given
 *  the batch's context: the mixture over S draws (log (1/S) sum_s N(y|mu_s,
 *  sigma_s)).  ll: (B, nc + nt) doubles. */
int pk_mpnp_batch_loglik(const pk_mpnp *m, const pk_mpnp_batch *b, int S, pk_rng *rng, double *ll, pk_err *err);

/* ---- training and evaluation ------------------------------------------------- */

typedef struct pk_mpnp_train_params {
    int steps;    /**< >= 1 (2000) */
    int batch;    /**< tasks per step, 1..1024 (16, as the benchmark code) */
    double lr;    /**< Adam, cosine-annealed to 0 (5e-4) */
} pk_mpnp_train_params;

pk_mpnp_train_params pk_mpnp_train_params_default(void);
/** Called every steps/20 steps with the mean loss since the last call; non-zero stops. */
typedef int (*pk_mpnp_progress_fn)(int step, int steps, double loss, void *user);
/** Fit m to fresh task batches from tp.  *final_loss (may be NULL): the mean
 *  loss of the last tenth of the steps. */
int pk_mpnp_train(pk_mpnp *m, const pk_mpnp_task_params *tp, const pk_mpnp_train_params *trp, pk_rng *rng,
                  pk_mpnp_progress_fn progress, void *user, double *final_loss, pk_err *err);

typedef struct pk_mpnp_eval {
    double ctx_ll, tar_ll; /**< mean per-point log-likelihood of context / target points */
    double ctx_se, tar_se; /**< standard errors over batches */
    int batches, tasks;
} pk_mpnp_eval;

/** Mean context and target log-likelihood per point over n_batches fresh
 *  batches of `batch` tasks from tp, S draws per task (the benchmark code
 *  averages per-point mixture log-likelihoods the same way).  The tasks
 *  depend on rng's state only, not on the model: models evaluated from equal
 *  rng states see the same tasks. */
int pk_mpnp_evaluate(const pk_mpnp *m, const pk_mpnp_task_params *tp, int n_batches, int batch, int S, pk_rng *rng,
                     pk_mpnp_eval *out, pk_err *err);

/** Save as safetensors with metadata format "probkit-mpnp", version "1" and
 *  the config; load checks both and the shapes.  PK_EIO, PK_EFORMAT. */
int pk_mpnp_save(const pk_mpnp *m, const char *path, pk_err *err);
int pk_mpnp_load(const char *path, pk_mpnp **out, pk_err *err);

#ifdef __cplusplus
}
#endif
#endif
