/* gp_priv.h — structures shared by the files of the gp module. */
#ifndef PK_GP_PRIV_H
#define PK_GP_PRIV_H

#include <math.h>

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
    pk_mat *W;     /* n x n gradient workspace, allocated on first use */
    pk_gp_fit_info info; /* of the last pk_gp_fit */
    double jitter_used;
    int fresh;
};

/* ML-II driver shared by GP and t-process fits: maximises f over h (nh values)
 * from h itself and p->restarts random starts drawn uniformly in [lo, hi];
 * a quadratic penalty acts outside [lo - 2, hi + 2].  Leaves the best in h. */
typedef int (*pk_gp_objective)(void *ctx, const double *h, double *val, double *grad);
int pk_gp_maximize(pk_gp_objective f, void *ctx, double *h, size_t nh, const double *lo, const double *hi,
                   const pk_gp_fit_params *p, pk_rng *rng, double *best, pk_gp_fit_info *info, pk_err *err);
/* The default boxes for a GP's hyperparameters (log-params, log noise, mean). */
void pk_gp_hyper_box(const pk_gp *gp, const pk_gp_fit_params *p, double *lo, double *hi);

/* (K)^{-1} from its lower Cholesky factor by LAPACK's potri (about a third of
 * the flops of two triangular solves); full symmetric result in Ainv. */
int pk_gp_chol_inverse(const pk_mat *L, pk_mat *Ainv);
/* The kernel part of a marginal-likelihood gradient, shared by GP and
 * t-process: with W = sc alpha alpha^T - (K + noise I)^{-1} (lower triangle,
 * in gp->W), gk[p] = 0.5 tr(W dK/dtheta_p) for the kernel's parameters and
 * *trace = tr(W).  gp must be up to date. */
int pk_gp_grad_core(pk_gp *gp, double sc, double *gk, double *trace);

/* g(r) and h(r) = -g'(r) / r: dk/dlog ell_j = sf2 h d_j^2 / ell_j^2 and
 * dk/dx_j = -sf2 h d_j / ell_j^2.  h is finite at r = 0 except for Matern 1/2,
 * whose kink there is given a zero derivative. */
static inline void pk_gp_stationary_gh(pk_gp_kernel_type t, double r2, double *g, double *h)
{
    double r, e;
    switch (t) {
    case PK_GP_KERNEL_SE:
        *g = exp(-0.5 * r2);
        *h = *g;
        break;
    case PK_GP_KERNEL_MATERN12:
        r = sqrt(r2);
        *g = exp(-r);
        *h = r > 0 ? *g / r : 0.0;
        break;
    case PK_GP_KERNEL_MATERN32:
        r = sqrt(r2);
        e = exp(-sqrt(3.0) * r);
        *g = (1.0 + sqrt(3.0) * r) * e;
        *h = 3.0 * e;
        break;
    default: /* Matern 5/2 */
        r = sqrt(r2);
        e = exp(-sqrt(5.0) * r);
        *g = (1.0 + sqrt(5.0) * r + 5.0 / 3.0 * r2) * e;
        *h = 5.0 / 3.0 * (1.0 + sqrt(5.0) * r) * e;
        break;
    }
}

/* A single SE / Matern leaf (the fast paths of kmat.c apply). */
int pk_gp_kernel_is_stationary(const pk_gp_kernel *k);
/* K[i][j] = k(X1_i, X2_j) for j <= i when lower (X1 == X2; the strict upper
 * triangle is not touched), for all j otherwise.  Shapes are the caller's. */
int pk_gp_kernel_fill(const pk_gp_kernel *k, const pk_mat *X1, const pk_mat *X2, int lower, pk_mat *K);

#endif
