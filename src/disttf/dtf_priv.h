/* dtf_priv.h — what the disttf files share (not installed). */
#ifndef PK_DTF_PRIV_H
#define PK_DTF_PRIV_H

#include "probkit/disttf.h"
#include "probkit/nn.h"

struct pk_dtf {
    pk_dtf_config cfg;
    pk_nn_params *params;
};

/* Features per component token: log-weight, mean, log Cholesky diagonal, below-diagonal entries. */
int dtf_feat(int d);
pk_nn_tensor *dtf_param(const pk_dtf *m, const char *fmt, int l);
/* An uninitialised network of this configuration. */
int dtf_make(const pk_dtf_config *cfg, pk_dtf **out, pk_err *err);
/* A mixture as K x dtf_feat(d) features, and back (weights renormalised, diagonals clamped). */
void dtf_tokens(const pk_dtf_gmm *g, float *f);
void dtf_untokens(const float *f, int d, int K, pk_dtf_gmm *g);
/* Posterior features (B, K, F) from prior tokens (B, K, F) and observations (B, n, obs_dim). */
pk_nn_tensor *dtf_forward(pk_nn_ctx *ctx, const pk_dtf *m, const float *tok, const float *obs, int64_t B, int64_t n);
/* -mean log q(theta) under the posterior features out (B, K, F); theta (B, d). */
pk_nn_tensor *dtf_nll(pk_nn_ctx *ctx, const pk_dtf *m, pk_nn_tensor *out, const float *theta, int64_t B);

#endif
