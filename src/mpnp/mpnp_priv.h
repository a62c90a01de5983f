/* mpnp_priv.h — the model struct and forward pieces shared by model.c and train.c. */
#ifndef PK_MPNP_PRIV_H
#define PK_MPNP_PRIV_H

#include "probkit/mpnp.h"

enum { MPNP_MAXL = 8 };

/* One set-transformer multi-head attention block (MAB). */
typedef struct mpnp_mab {
    pk_nn_tensor *wq, *bq, *wk, *bk, *wv, *bv, *g1, *b1, *wo, *bo, *g2, *b2;
} mpnp_mab;

struct pk_mpnp {
    pk_mpnp_config cfg;
    pk_nn_params *P;
    /* deterministic path: pre-pooling MLP (2 -> H ... H), post-pooling MLP (H -> H -> H) */
    pk_nn_tensor *enc_w[MPNP_MAXL], *enc_b[MPNP_MAXL], *post_w[2], *post_b[2];
    /* decoder: first layer split by input (x, r, z), then dec_depth-1 layers ending in 2 outputs */
    pk_nn_tensor *dec_wx, *dec_wr, *dec_wz, *dec_b0, *dec_w[MPNP_MAXL], *dec_b[MPNP_MAXL];
    /* NP latent path */
    pk_nn_tensor *lat_w[MPNP_MAXL], *lat_b[MPNP_MAXL], *latp_w[2], *latp_b[2];
    /* MPNP generator: MAB(context, noise) then MAB(noise, .) then a linear map to (x', y') */
    mpnp_mab gen_a, gen_b;
    pk_nn_tensor *gen_w, *gen_b_out;
};

/* Draw-by-draw predictive of B tasks: contexts xc/yc (row b at b*sc), targets
 * xt (row b at b*st, N points), S draws per task.  *mu, *sigma: (B*S, N, 1),
 * row b*S+s.  pseudo (MPNP only; may be NULL): receives the (B*S, M, 2) pseudo points tensor. */
int mpnp_forward(pk_nn_ctx *ctx, const pk_mpnp *m, const float *xc, const float *yc, int sc, int nc, const float *xt,
                 int st, int N, int B, int S, pk_rng *rng, pk_nn_tensor **mu, pk_nn_tensor **sigma,
                 pk_nn_tensor **pseudo);

#endif
