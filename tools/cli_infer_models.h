/* Built-in models for `probkit infer` and the denotational reproduction.
 * Each is also a worked example of writing a model in C (docs/infer.md). */
#ifndef PK_CLI_INFER_MODELS_H
#define PK_CLI_INFER_MODELS_H

#include "probkit/infer.h"

/* Differentiable targets for NUTS/HMC. */
typedef struct pk_target {
    const char *name, *summary;
    size_t dim;
    pk_infer_logdensity_fn f;
    void *user;
    char **names; /* dim parameter names */
    void *owned;  /* freed by pk_target_free */
} pk_target;

/** Make target `name` (gauss100, funnel, funnel-nc, eight-schools, logistic).
 *  data_dir locates sklearn/breast_cancer.csv for "logistic" (falls back to
 *  Debian's scikit-learn copy). */
int pk_target_make(const char *name, const char *data_dir, pk_target *t, pk_err *err);
void pk_target_free(pk_target *t);
extern const char *const pk_target_names[];

/* Probabilistic programs for IS/SMC/MH/enumeration. */
typedef struct pk_program {
    const char *name, *summary;
    pk_model model;
    const char *const *out_names; /* NULL: out0, out1, ... */
    void *owned;
} pk_program;

/** Make program `name` (beta-bernoulli, sprinkler, hmm, linreg, lda) with a
 *  data size `size` where it has one (0 = default), data drawn from `seed`. */
int pk_program_make(const char *name, size_t size, uint64_t seed, pk_program *p, pk_err *err);
void pk_program_free(pk_program *p);
/** The observations of a program with data (beta-bernoulli, hmm, linreg: y;
 *  lda: word ids); NULL for sprinkler. */
const double *pk_program_y(const pk_program *p, size_t *n);
extern const char *const pk_program_names[];

/** The same LR / HMM / LDA programs in explicit sequential form (linear-time SMC). */
int pk_program_make_ssm(const char *name, size_t size, uint64_t seed, pk_ssm *m, void **owned, pk_err *err);
/** Free what pk_program_make_ssm stored in *owned. */
void pk_program_ssm_free(void *owned);

#endif
