/* pfn_priv.h — what the PFN files share (not installed). */
#ifndef PK_PFN_PRIV_H
#define PK_PFN_PRIV_H

#include "probkit/nn.h"
#include "probkit/pfn.h"

struct pk_pfn {
    pk_pfn_config cfg;
    pk_nn_params *params;
    double *borders; /* n_buckets + 1 */
    int has_prior;   /* set by pk_pfn_train, saved in the checkpoint */
    pk_pfn_prior prior;
};

/* Parameter `fmt` (with %d = layer l) of m. */
pk_nn_tensor *pfn_param(const pk_pfn *m, const char *fmt, int l);
/* Logits (B*q, n_buckets) of the q query points of B data sets, each with n
 * training points first: x is (B, n+q, dim), y is (B, n). */
pk_nn_tensor *pfn_forward(pk_nn_ctx *ctx, const pk_pfn *m, const float *x, const float *y, int64_t B, int64_t n,
                          int64_t q);

/* One draw of the hyperparameters (fixed ones for PK_PFN_GP). */
pk_pfn_hyper pfn_draw_hyper(const pk_pfn_prior *p, pk_rng *rng);
/* log density of y within bucket b (the bar density divided by p_b). */
double pfn_within_logpdf(const double *borders, int nb, int b, double y);

#endif
