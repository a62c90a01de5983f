/* funcprior_priv.h — the network's forward/backward pass and its workspace,
 * shared by prior matching (many nets on a few points) and the posterior
 * sampler (one net on a minibatch). */
#ifndef PK_FUNCPRIOR_PRIV_H
#define PK_FUNCPRIOR_PRIV_H

#include "probkit/funcprior.h"

/* Activations of one forward pass on up to n_cap points, kept for backward. */
typedef struct fp_ws {
    int L;                                   /* layers with weights */
    int dims[PK_FUNCPRIOR_MAX_HIDDEN + 2];   /* dims[0] = in_dim ... dims[L] = 1 */
    size_t n_cap;
    double *H[PK_FUNCPRIOR_MAX_HIDDEN + 2];  /* H[l]: n x dims[l], l = 1..L (H[L] = outputs) */
    double *g0, *g1;                         /* n x max width: gradients w.r.t. activations */
    pk_funcprior_act act;
    size_t off_w[PK_FUNCPRIOR_MAX_HIDDEN + 1], off_b[PK_FUNCPRIOR_MAX_HIDDEN + 1];
} fp_ws;

int fp_ws_init(fp_ws *w, const pk_funcprior_net *net, size_t n_cap);
void fp_ws_free(fp_ws *w);
/* Forward on rows of X (n x dims[0], row stride ldx), n <= n_cap; outputs in w->H[L]. */
void fp_forward(fp_ws *w, const double *theta, const double *X, size_t ldx, size_t n);
/* grad += d/dtheta sum_i G[i] f_i after fp_forward on the same X, n. */
void fp_backward(fp_ws *w, const double *theta, const double *X, size_t ldx, size_t n, const double *G, double *grad);

#endif
