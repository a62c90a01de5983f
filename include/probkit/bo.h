/* probkit/bo.h — Bayesian optimisation (Snoek, Larochelle & Adams 2012) with an
 * ask/tell interface, and the search spaces of `probkit tune`.
 *
 * The optimiser works on the unit cube [0,1]^D; a pk_bo_space maps named
 * parameters (float, log-float, integer, categorical) to and from it.  It
 * minimises by default.  Typical use:
 *
 *     pk_bo *bo = pk_bo_new(dim, &params, &err);
 *     for (...) {
 *         pk_bo_ask(bo, &rng, u, &ticket, &err);   // u in [0,1]^dim, now "pending"
 *         y = f(decode(u));
 *         pk_bo_tell(bo, ticket, y, seconds);      // or pk_bo_tell_failed
 *     }
 *
 * Several asks may be outstanding (parallel workers): pending points enter the
 * acquisition through Monte Carlo fantasies of their outcomes.
 * A pk_bo is not thread-safe; drive it from one thread.
 */
#ifndef PROBKIT_BO_H
#define PROBKIT_BO_H

#include "probkit/core.h"
#include "probkit/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- search spaces --------------------------------------------------------------- */

typedef enum pk_bo_param_type {
    PK_BO_PARAM_FLOAT = 0,   /**< uniform on [lo, hi] */
    PK_BO_PARAM_LOGFLOAT,    /**< log-uniform on [lo, hi], 0 < lo */
    PK_BO_PARAM_INT,         /**< integers lo..hi, each an equal slice of [0, 1] */
    PK_BO_PARAM_CATEGORICAL  /**< choices 0..n-1, each an equal slice of [0, 1] */
} pk_bo_param_type;

typedef struct pk_bo_param {
    char *name;
    pk_bo_param_type type;
    double lo, hi;   /**< bounds (INT: integer bounds; CATEGORICAL: 0, n-1) */
    size_t nchoices; /**< CATEGORICAL only */
    char **choices;
} pk_bo_param;

typedef struct pk_bo_space {
    size_t n;
    pk_bo_param *params;
} pk_bo_space;

pk_bo_space *pk_bo_space_new(void);
void pk_bo_space_free(pk_bo_space *s);
/** Add parameters.  Names must be unique, non-empty, [A-Za-z0-9_.-]; PK_EINVAL
 *  with a message otherwise (bad bounds, log with lo <= 0, < 1 choice). */
int pk_bo_space_add_float(pk_bo_space *s, const char *name, double lo, double hi, int log_scale, pk_err *err);
int pk_bo_space_add_int(pk_bo_space *s, const char *name, int64_t lo, int64_t hi, pk_err *err);
int pk_bo_space_add_categorical(pk_bo_space *s, const char *name, const char *const *choices, size_t n,
                                pk_err *err);
/** Parse a JSON search space:
 *    {"params": [{"name": "lr", "type": "float", "low": 1e-4, "high": 1, "log": true},
 *                {"name": "layers", "type": "int", "low": 1, "high": 4},
 *                {"name": "act", "type": "categorical", "choices": ["relu", "tanh"]}]}
 *  ("type" may also be "logfloat"; "low"/"high" may be "min"/"max").
 *  `name` labels the messages (a file name).  PK_EFORMAT with a message
 *  naming the parameter on any problem. */
int pk_bo_space_parse_json(const char *text, const char *name, pk_bo_space **out, pk_err *err);
/** Native values (ints as whole numbers, categoricals as indices) from a unit point. */
void pk_bo_space_decode(const pk_bo_space *s, const double *u, double *v);
/** The unit point of native values (integers and choices map to their slice's centre). */
void pk_bo_space_encode(const pk_bo_space *s, const double *v, double *u);
/** Value i as text ("%.17g", an integer, or the choice's name) into buf. */
void pk_bo_space_format(const pk_bo_space *s, size_t i, double v, char *buf, size_t len);

/* ---- the optimiser ------------------------------------------------------------------ */

typedef enum pk_bo_method {
    PK_BO_RANDOM = 0,      /**< uniform random search */
    PK_BO_EI_MCMC,         /**< EI integrated over slice-sampled hyperparameters (Spearmint) */
    PK_BO_EI_OPT,          /**< EI at the type-II ML hyperparameters */
    PK_BO_PI,              /**< probability of improvement (MCMC-integrated) */
    PK_BO_UCB,             /**< lower confidence bound mu - kappa sigma (MCMC-integrated) */
    PK_BO_EI_PER_SECOND    /**< EI-MCMC divided by the predicted duration (GP on log seconds) */
} pk_bo_method;

typedef struct pk_bo_params {
    pk_bo_method method;
    size_t n_init;       /**< random points before the model is used, >= 1 (default 2) */
    size_t n_mcmc;       /**< hyperparameter samples per ask, 1..100 (default 10) */
    size_t burnin;       /**< sweeps before the first samples are kept (default 100) */
    size_t n_candidates; /**< Sobol candidates per ask, >= 1 (default 5000) */
    size_t n_spray;      /**< candidates near the incumbent (default 10) */
    size_t n_refine;     /**< best candidates refined by projected gradient ascent (default 20, as Spearmint) */
    size_t n_fantasies;  /**< Monte Carlo fantasies of the pending outcomes, >= 1 (default 10) */
    double ucb_kappa;    /**< UCB exploration weight, >= 0 (default 2) */
    int maximize;        /**< 1: maximise the objective instead */
} pk_bo_params;

pk_bo_params pk_bo_params_default(void);
int pk_bo_params_check(const pk_bo_params *p, size_t dim, pk_err *err);
const char *pk_bo_method_name(pk_bo_method m);
/** "random", "ei-mcmc", "ei-opt", "pi", "ucb", "ei-per-second"; -1 if unknown. */
int pk_bo_method_parse(const char *s);

typedef struct pk_bo pk_bo;

/** A new optimiser on [0,1]^dim (1 <= dim <= 64).  NULL with a message on error. */
pk_bo *pk_bo_new(size_t dim, const pk_bo_params *p, pk_err *err);
void pk_bo_free(pk_bo *bo);
size_t pk_bo_dim(const pk_bo *bo);

/** Suggest the next point into u (dim values) and mark it pending under *ticket.
 *  Model failures fall back to a random point (never an error); PK_ENOMEM only. */
int pk_bo_ask(pk_bo *bo, pk_rng *rng, double *u, int64_t *ticket, pk_err *err);
/** Report the outcome of a pending point.  duration (seconds) <= 0 or NaN means
 *  unknown.  PK_EINVAL for an unknown ticket or a non-finite y. */
int pk_bo_tell(pk_bo *bo, int64_t ticket, double y, double duration);
/** The pending point failed: it is dropped (failures are not modelled). */
int pk_bo_tell_failed(pk_bo *bo, int64_t ticket);
/** Add a completed observation that was not asked (warm start, resume). */
int pk_bo_observe(pk_bo *bo, const double *u, double y, double duration);
/** Add a pending point that was not asked (resume with trials still running). */
int pk_bo_add_pending(pk_bo *bo, const double *u, int64_t *ticket);
size_t pk_bo_n_observed(const pk_bo *bo);
size_t pk_bo_n_pending(const pk_bo *bo);
/** Best observation so far (in the user's sense: min, or max when maximising). */
int pk_bo_best(const pk_bo *bo, double *u, double *y);
/** Seconds the last ask spent (model + acquisition), for benchmarks. */
double pk_bo_last_ask_seconds(const pk_bo *bo);

/* ---- acquisition building blocks (exposed for tests and other callers) ------------- */

/** Expected improvement below `best` of N(mu, sigma^2); d/dmu and d/dsigma optional. */
double pk_bo_ei(double mu, double sigma, double best, double *dmu, double *dsigma);
/** Probability of improvement below best. */
double pk_bo_pi(double mu, double sigma, double best, double *dmu, double *dsigma);

/* ---- standard test objectives (on the unit cube, minimised) ----------------- */

/** Branin on u in [0,1]^2 (x = 15 u0 - 5, y = 15 u1); minimum PK_BO_BRANIN_MIN at three points. */
double pk_bo_branin(const double *u);
#define PK_BO_BRANIN_MIN 0.39788735772973816
/** Hartmann-6 on [0,1]^6 (the negated sum of four Gaussians); minimum PK_BO_HARTMANN6_MIN. */
double pk_bo_hartmann6(const double *x);
#define PK_BO_HARTMANN6_MIN (-3.32236801141551)

#ifdef __cplusplus
}
#endif
#endif
