/* gp_priv.h — structures shared by the files of the gp module. */
#ifndef PK_GP_PRIV_H
#define PK_GP_PRIV_H

#include "probkit/gp.h"

/* Input dimension bound for the stack buffers of derivative evaluation. */
#define MAX_DIM_FD 256

struct pk_gp_kernel {
    pk_gp_kernel_type type;
    size_t dim, np;
    int ard, depth;
    double *theta;       /* leaves: np log-parameters */
    double *aux;         /* stationary leaves: exp(theta[0]), then 1 / ell_j^2 (kept by set_params) */
    pk_gp_kernel *a, *b; /* SUM / PRODUCT children */
};

struct pk_gp {
    pk_gp_kernel *kernel;
    pk_gp_mean_mode mean_mode;
    double log_noise, mean, noise_floor;
    size_t n, dim;
    pk_mat *X;     /* n x dim */
    double *y;     /* n */
    pk_mat *L;     /* n x n Cholesky factor of K + noise I (valid if fresh) */
    double *alpha; /* (K + noise I)^{-1} (y - mean) */
    double jitter_used;
    int fresh;
};

/* ML-II driver shared by GP and t-process fits: maximises f over h (nh values)
 * from h itself and p->restarts random starts drawn uniformly in [lo, hi];
 * a quadratic penalty acts outside [lo - 2, hi + 2].  Leaves the best in h. */
typedef int (*pk_gp_objective)(void *ctx, const double *h, double *val, double *grad);
int pk_gp_maximize(pk_gp_objective f, void *ctx, double *h, size_t nh, const double *lo, const double *hi,
                   const pk_gp_fit_params *p, pk_rng *rng, double *best, pk_err *err);
/* The default boxes for a GP's hyperparameters (log-params, log noise, mean). */
void pk_gp_hyper_box(const pk_gp *gp, const pk_gp_fit_params *p, double *lo, double *hi);

/* (K)^{-1} from its lower Cholesky factor by LAPACK's potri (about a third of
 * the flops of two triangular solves); full symmetric result in Ainv. */
int pk_gp_chol_inverse(const pk_mat *L, pk_mat *Ainv);

#endif
