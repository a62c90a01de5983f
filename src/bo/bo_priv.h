/* bo_priv.h — the acquisition model shared by bo.c and acq.c. */
#ifndef PK_BO_PRIV_H
#define PK_BO_PRIV_H

#include "probkit/bo.h"
#include "probkit/gp.h"

/* The surrogate at one ask: S hyperparameter samples, each a GP on the
 * completed points plus the pending points, with F fantasised outcome vectors
 * for the pending ones (F = 1 and no pending points otherwise).  Targets are
 * standardised; the acquisition is computed in those units. */
typedef struct pk_bo_model {
    size_t dim, S, F, n_aug;
    pk_gp **gps;     /* S GPs holding the augmented inputs and their factor */
    pk_mat **alpha;  /* S matrices n_aug x F: K^{-1} (y_fantasy - mean) */
    double best;     /* standardised incumbent value (minimisation) */
    pk_bo_method method;
    double kappa;
    /* EI per second: GPs on standardised log durations, one per sampled
     * hyperparameter state (NULL / 0 otherwise); the predicted log duration
     * is dur_mu + dur_sd * (mean over them of the predictive mean) */
    pk_gp **durs;
    size_t n_dur;
    double dur_mu, dur_sd;
} pk_bo_model;

/* Build the model.  Xc n x dim completed inputs, yc standardised targets;
 * Xp np x dim pending inputs (np may be 0); states: S hyperparameter states
 * (Spearmint parameterisation) for a Matern 5/2 ARD GP. */
int pk_bo_model_build(pk_bo_model *m, const pk_mat *Xc, const double *yc, const pk_mat *Xp,
                      const pk_gp_spearmint_state *states, size_t S, size_t F, pk_rng *rng);
void pk_bo_model_free(pk_bo_model *m);
/* Acquisition (to be maximised) at the rows of C into out. */
int pk_bo_model_eval(const pk_bo_model *m, const pk_mat *C, double *out);
/* Acquisition and its gradient w.r.t. x at one point. */
int pk_bo_model_eval_grad(const pk_bo_model *m, const double *x, double *val, double *grad);

#endif
