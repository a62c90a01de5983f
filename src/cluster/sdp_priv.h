/* sdp_priv.h — the ADMM engine shared by Peng-Wei SDP and iLA-SDP (module-private). */
#ifndef PK_SDP_PRIV_H
#define PK_SDP_PRIV_H
#include <stddef.h>
#include <stdint.h>

#include "probkit/cluster.h"

typedef struct pk_sdp_admm_info {
    int n_iter, converged;
    double primal_res, dual_res, rho;
} pk_sdp_admm_info;

/** Solve max sum_b <C_b, Z_b> over B blocks (n x n each, C and Z B*n*n row-major) subject to
 *  Z_b PSD, Z_b >= 0, tr Z_b = tau, sum_b Z_b 1 = 1.  Z holds the warm start on entry
 *  (zeros are fine) and the solution on return.  dual (2*B*n*n, may be NULL) carries the scaled
 *  duals between calls for a warm start; then info->rho (if > 0) is the rho they belong to. */
int pk_sdp_admm(const double *C, size_t n, size_t B, double tau, const pk_sdp_params *p, double *Z, double *dual,
                pk_sdp_admm_info *info);
/** Projection onto the affine constraints (exposed for tests); work has n + B doubles. */
void pk_sdp_proj_affine(double *M, size_t n, size_t B, double tau, double *work);
/** Labels from an n x n membership matrix: K-means on its top-k eigenvectors (scaled). */
int pk_sdp_round(const double *Z, size_t n, size_t k, pk_rng *rng, int32_t *labels);

#endif
