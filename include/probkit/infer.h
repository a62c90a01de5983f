/* probkit/infer.h — Bayesian inference for probabilistic programs in C.
 *
 * After "Denotational validation of higher-order Bayesian inference"
 * (Scibior et al., POPL 2018) and its library monad-bayes: a model is an
 * ordinary C function that calls pk_sample / pk_observe / pk_factor; an
 * inference algorithm is a composition of a few *representations* of that
 * program, each of which preserves the unnormalised measure it denotes:
 *
 *   weighted sampler  run with fresh randomness, accumulate the log-weight
 *   trace             the uniforms u in (0,1) behind every pk_sample plus the
 *                     log-weight; replaying a trace re-runs the program with
 *                     those uniforms and draws fresh ones past its end
 *   population        N weighted traces; resampling keeps the total weight
 *   sequential        run up to the k-th pk_observe and suspend (here: stop
 *                     and later replay the trace to resume)
 *
 * Every random choice is the quantile of a uniform (x = F^-1(u)), so a trace
 * is a point of the unit cube on which the prior is uniform: trace MH then
 * needs only likelihood ratios and the trace-length correction.
 *
 * Models must not keep resources across pk_observe calls: sequential
 * algorithms stop a run at an observe by longjmp.  Use `out` for results.
 */
#ifndef PROBKIT_INFER_H
#define PROBKIT_INFER_H

#include "probkit/core.h"
#include "probkit/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- distributions ----------------------------------------------------------- */

typedef enum pk_dist_kind {
    PK_DIST_NORMAL,      /* a = mean, b = sd > 0 */
    PK_DIST_LOGNORMAL,   /* a = meanlog, b = sdlog > 0 */
    PK_DIST_GAMMA,       /* a = shape > 0, b = rate > 0 */
    PK_DIST_BETA,        /* a, b > 0 */
    PK_DIST_UNIFORM,     /* a < b */
    PK_DIST_EXPONENTIAL, /* a = rate > 0 */
    PK_DIST_STUDENT_T,   /* a = nu > 0, b = scale > 0, c = location */
    PK_DIST_BERNOULLI,   /* a = p in [0, 1] */
    PK_DIST_BINOMIAL,    /* a = n (integer >= 0), b = p */
    PK_DIST_POISSON,     /* a = rate > 0 */
    PK_DIST_CATEGORICAL  /* p[0..k-1] >= 0, normalised on use; values 0..k-1 */
} pk_dist_kind;

typedef struct pk_dist {
    pk_dist_kind kind;
    double a, b, c;
    const double *p; /* categorical probabilities (borrowed) */
    size_t k;
} pk_dist;

pk_dist pk_normal(double mean, double sd);
pk_dist pk_lognormal(double meanlog, double sdlog);
pk_dist pk_gamma(double shape, double rate);
pk_dist pk_beta(double a, double b);
pk_dist pk_uniform(double lo, double hi);
pk_dist pk_exponential(double rate);
pk_dist pk_student_t(double nu, double loc, double scale);
pk_dist pk_bernoulli(double p);
pk_dist pk_binomial(unsigned n, double p);
pk_dist pk_poisson(double rate);
pk_dist pk_categorical(const double *p, size_t k);

/** PK_OK, or PK_EDOM when the parameters are invalid (NaN, sd <= 0, ...). */
int pk_dist_check(const pk_dist *d);
/** log density (mass) at x; -inf outside the support; NaN for invalid parameters. */
double pk_dist_logpdf(const pk_dist *d, double x);
/** Quantile F^-1(u) for u in (0,1) (discrete: smallest x with F(x) >= u). */
double pk_dist_quantile(const pk_dist *d, double u);
/** 1 for Bernoulli, binomial, Poisson, categorical. */
int pk_dist_is_discrete(const pk_dist *d);
/** Number of support points of a finite discrete distribution, 0 if infinite/continuous. */
size_t pk_dist_support_size(const pk_dist *d);
/** Exact mean and variance (NaN where undefined). */
double pk_dist_mean(const pk_dist *d);
double pk_dist_var(const pk_dist *d);

/* ---- programs ---------------------------------------------------------------- */

typedef struct pk_ctx pk_ctx;

/** A model: draws with pk_sample, conditions with pk_observe / pk_factor, and
 *  writes n_out numbers of interest to out (every run, including partial runs
 *  may stop before it writes: write out as values become known). */
typedef void (*pk_model_fn)(pk_ctx *ctx, const void *data, double *out);

typedef struct pk_model {
    pk_model_fn fn;
    const void *data;
    size_t n_out;
} pk_model;

/** A random choice from d. Invalid parameters make the run fail (PK_EDOM). */
double pk_sample(pk_ctx *ctx, pk_dist d);
/** A Dirichlet(alpha[0..k-1]) choice into x[0..k-1]: k Gamma(alpha_i, 1)
 *  choices, normalised (so traces, MH and SMC see k scalar choices). */
void pk_sample_dirichlet(pk_ctx *ctx, const double *alpha, size_t k, double *x);
/** Condition on x[0..k-1] (on the simplex) being Dirichlet(alpha). */
void pk_observe_dirichlet(pk_ctx *ctx, const double *alpha, size_t k, const double *x);
/** log Dirichlet density; -inf off the simplex (tolerance 1e-9), NaN for bad alpha. */
double pk_dirichlet_logpdf(const double *alpha, size_t k, const double *x);

/** Condition on d producing value: adds log d(value) to the log-weight. */
void pk_observe(pk_ctx *ctx, pk_dist d, double value);
/** Adds log_w to the log-weight (soft constraint). NaN makes the run fail. */
void pk_factor(pk_ctx *ctx, double log_w);

/* ---- traces and populations ------------------------------------------------------- */

typedef struct pk_trace {
    size_t n, cap;
    double *u;       /* uniforms behind each choice */
    double log_lik;  /* sum of observe log-densities and factors */
    double log_prior;/* sum of choice log-densities (informative; the u-space prior is uniform) */
    size_t n_obs;    /* observes reached */
    int done;        /* the program ran to its end */
} pk_trace;

typedef enum pk_infer_resample_kind {
    PK_RESAMPLE_MULTINOMIAL,
    PK_RESAMPLE_SYSTEMATIC,
    PK_RESAMPLE_STRATIFIED,
    PK_RESAMPLE_RESIDUAL
} pk_infer_resample_kind;

/** A weighted population of program runs. */
typedef struct pk_population {
    size_t n, n_out;
    double *logw;     /* n log-weights (unnormalised) */
    double *out;      /* n x n_out outputs */
    pk_trace *traces; /* n traces (NULL for enumeration) */
    double log_z;     /* estimate of the log evidence (exact for enumeration) */
} pk_population;

void pk_population_free(pk_population *p);
/** Weighted mean of output j (self-normalised). */
double pk_population_mean(const pk_population *p, size_t j);
/** Effective sample size of the normalised weights. */
double pk_population_ess(const pk_population *p);

/** Draw n ancestor indices from log-weights logw[0..m-1] with the given scheme.
 *  Every scheme is unbiased: E[#copies of i] = n w_i / sum w. PK_EDOM if all
 *  weights are zero or any is NaN. */
int pk_infer_resample(pk_rng *rng, const double *logw, size_t m, size_t n, pk_infer_resample_kind kind, size_t *ancestors);

/** Importance sampling from the prior: n weighted runs, log Z = logmeanexp(logw). */
int pk_infer_importance(const pk_model *m, size_t n, pk_rng *rng, pk_population **out, pk_err *err);

typedef struct pk_smc_params {
    size_t particles;          /**< >= 1 (default 100) */
    pk_infer_resample_kind resample; /**< default systematic */
    double ess_threshold;      /**< resample when ESS < threshold * N; 1.0 = always (default), 0 = never */
    size_t move_steps;         /**< trace-MH moves per particle after each resampling (resample-move); default 0 */
} pk_smc_params;
pk_smc_params pk_smc_params_default(void);
int pk_smc_params_check(const pk_smc_params *p, pk_err *err);

/** Sequential Monte Carlo over the observes of the program (a step per observe).
 *  The returned population carries an unbiased evidence estimate exp(log_z). */
int pk_infer_smc(const pk_model *m, const pk_smc_params *p, pk_rng *rng, pk_population **out, pk_err *err);

/** A program in explicit sequential form: its continuation between observes
 *  is a plain, memcpy-copyable state.  This is how C spells the paper's
 *  suspended computation, and it makes SMC linear in the number of steps
 *  (a general pk_model is resumed by replaying its trace: quadratic). */
typedef struct pk_ssm {
    size_t state_size; /**< bytes of state (copied with memcpy on resampling) */
    size_t n_steps;    /**< number of step calls after init */
    size_t n_out;      /**< outputs per particle */
    /** Draw the initial state (may sample, observe, factor). */
    void (*init)(pk_ctx *ctx, const void *data, void *state, double *out);
    /** Advance to step t (0-based): sample, then observe. */
    void (*step)(pk_ctx *ctx, const void *data, size_t t, void *state, double *out);
    const void *data;
} pk_ssm;

/** SMC over an explicit sequential program: one resampling opportunity per
 *  step (plus one after init).  Moves are not available in this form
 *  (p->move_steps must be 0).  The population has no traces. */
int pk_infer_smc_ssm(const pk_ssm *m, const pk_smc_params *p, pk_rng *rng, pk_population **out, pk_err *err);

/** Single-site trace Metropolis-Hastings (monad-bayes' mh): `steps` proposals
 *  after an initial prior draw with positive weight; out gets steps x n_out
 *  outputs, *accept_rate (may be NULL) the acceptance rate. */
int pk_infer_mh(const pk_model *m, size_t steps, pk_rng *rng, double *out, double *accept_rate, pk_err *err);

/** Exact enumeration of a program whose every choice has finite discrete support.
 *  The population holds every path with its exact log-weight; log_z is exact.
 *  PK_ENOTSUP if a choice is continuous or has infinite support; PK_EINVAL
 *  beyond max_paths (0 = 1e6). */
int pk_infer_enumerate(const pk_model *m, size_t max_paths, pk_population **out, pk_err *err);

/* ---- gradient-based samplers ------------------------------------------------------- */

/** A differentiable log-density: returns log p(theta) (up to a constant) and
 *  writes its gradient to grad.  Return a non-finite value outside the support. */
typedef double (*pk_infer_logdensity_fn)(const double *theta, double *grad, void *user);

typedef struct pk_infer_hmc_params {
    size_t chains;        /**< >= 1, run in parallel with OpenMP (default 4) */
    size_t warmup;        /**< adaptation iterations (default 1000) */
    size_t draws;         /**< kept iterations per chain (default 1000) */
    int nuts;             /**< 1: NUTS (multinomial, as in Stan); 0: static HMC (default 1) */
    size_t max_depth;     /**< NUTS tree depth limit (default 10) */
    size_t n_leapfrog;    /**< static HMC mean path length; each draw uses a uniform length in [L/2, 3L/2] (default 16) */
    double target_accept; /**< dual-averaging target in (0,1) (default 0.8) */
    int adapt_mass;       /**< diagonal mass matrix from warm-up windows (default 1) */
    double init_radius;   /**< inits uniform in [-r, r] (default 2) */
} pk_infer_hmc_params;
pk_infer_hmc_params pk_infer_hmc_params_default(void);
int pk_infer_hmc_params_check(const pk_infer_hmc_params *p, pk_err *err);

typedef struct pk_infer_draws {
    size_t chains, draws, dim;
    double *x;            /* chains x draws x dim */
    double *lp;           /* chains x draws log-densities */
    size_t divergences;   /* post-warm-up divergent transitions, all chains */
    double accept_mean;   /* mean acceptance statistic after warm-up */
    double *step_size;    /* per chain, after adaptation */
    size_t grad_evals;    /* total gradient evaluations */
} pk_infer_draws;
void pk_infer_draws_free(pk_infer_draws *d);

/** HMC / NUTS.  init (dim values, may be NULL for random inits in
 *  [-init_radius, init_radius]); chain c uses stream c of `seed`.
 *  Threads: chains run concurrently, so f is called from several threads at
 *  once with the same `user`: it must not write shared state. */
int pk_infer_hmc(pk_infer_logdensity_fn f, void *user, size_t dim, const double *init, const pk_infer_hmc_params *p,
                  uint64_t seed, pk_infer_draws **out, pk_err *err);

/* ---- slice sampling, stochastic-gradient MCMC, particle-marginal MH ------------------ */

/** A log-density without gradient (slice sampling, PMMH priors). */
typedef double (*pk_infer_logdensity0_fn)(const double *theta, void *user);

/** Univariate slice sampling with stepping out and shrinkage (Neal 2003),
 *  sweeping the coordinates in order: `n` sweeps from `init` (dim values,
 *  finite log-density required), out gets n x dim draws.  `width` is the
 *  initial bracket width (> 0); at most 64 step-outs per side. */
int pk_infer_slice(pk_infer_logdensity0_fn f, void *user, size_t dim, const double *init, size_t n, double width,
                    pk_rng *rng, double *out, pk_err *err);

/** Minibatched target for SGLD/SGHMC: adds to grad the gradient of
 *  sum_{i in idx} log p(y_i | theta) over the b observations idx[0..b). */
typedef void (*pk_infer_minibatch_grad_fn)(const double *theta, const size_t *idx, size_t b, double *grad, void *user);

typedef struct pk_infer_sgmcmc_params {
    size_t n_data;   /**< N, the data set size (>= 1) */
    size_t batch;    /**< minibatch size in [1, N] (default 32) */
    size_t iters;    /**< iterations (default 10000) */
    size_t burn;     /**< discarded iterations (default iters / 2) */
    size_t thin;     /**< keep every thin-th draw (default 1) */
    double step;     /**< step size a in eps_t = a (1 + t/b0)^-gamma (default 1e-3) */
    double gamma;    /**< decay exponent in [0, 1] (default 0: constant step) */
    double b0;       /**< decay scale (default 1000) */
    double friction; /**< SGHMC friction alpha in (0, 1]; 0 selects SGLD (default 0) */
} pk_infer_sgmcmc_params;
pk_infer_sgmcmc_params pk_infer_sgmcmc_params_default(void);

/** SGLD (Welling & Teh 2011) or SGHMC (Chen, Fox & Guestrin 2014, the
 *  "alpha, eta" form with the noise estimate set to 0).  log_prior_grad (may
 *  be NULL for a flat prior) adds the prior's gradient.  *out is malloc'd with
 *  *n_out x dim kept draws. */
int pk_infer_sgmcmc(pk_infer_minibatch_grad_fn lik_grad, void (*log_prior_grad)(const double *theta, double *grad, void *user),
                     void *user, size_t dim, const double *init, const pk_infer_sgmcmc_params *p, pk_rng *rng, double **out,
                     size_t *n_out, pk_err *err);

/** Particle-marginal Metropolis-Hastings (Andrieu, Doucet & Holenstein 2010):
 *  a Gaussian random walk on theta (prop_sd per coordinate) accepted with the
 *  SMC estimate of p(y | theta) from `particles` particles.  make_ssm fills
 *  the sequential program for a given theta (its data pointer may point into
 *  a caller buffer it rewrites).  out gets steps x dim draws. */
int pk_infer_pmmh(size_t dim, pk_infer_logdensity0_fn log_prior, int (*make_ssm)(const double *theta, void *user, pk_ssm *m),
                  void *user, const double *init, const double *prop_sd, size_t steps, size_t particles, pk_rng *rng,
                  double *out, double *accept_rate, pk_err *err);

/* ---- diagnostics (Vehtari, Gelman, Simpson, Carpenter, Burkner 2021) ------------------ */

typedef struct pk_infer_diag {
    double mean, sd, mcse_mean, q05, q50, q95;
    double rhat;     /* rank-normalised split R-hat (max of bulk and folded) */
    double ess_bulk; /* rank-normalised split-chain bulk ESS */
    double ess_tail; /* min of the 5% and 95% quantile ESS */
} pk_infer_diag;

/** Diagnostics of one scalar over `chains` chains of `draws` draws, stored at
 *  x[(c*draws + i)*stride]. PK_EINVAL for fewer than 4 draws per chain. */
int pk_infer_diag_compute(const double *x, size_t chains, size_t draws, size_t stride, pk_infer_diag *out);
/** Plain (non-split, non-ranked) ESS of one chain by Geyer's initial monotone sequence. */
double pk_infer_ess_basic(const double *x, size_t n, size_t stride);

#ifdef __cplusplus
}
#endif
#endif
