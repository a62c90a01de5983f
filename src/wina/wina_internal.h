/* wina_internal.h — the inference model's layout shared by model.c (build,
 * rotation), forward.c (sparse forward, evaluation) and greedy.c. */
#ifndef PK_WINA_INTERNAL_H
#define PK_WINA_INTERNAL_H

#include "probkit/wina.h"

typedef struct wina_layer {
    pk_nn_tensor *ln1_w, *ln1_b, *qkv_w, *qkv_b, *o_w, *o_b, *ln2_w, *ln2_b, *fc_w, *fc_b, *proj_w, *proj_b;
    pk_nn_tensor *r_attn, *r_mlp; /* transformed: shortcut changes of basis (C x C); r_mlp NULL = identity */
    double *colnorm[PK_WINA_SITES]; /* column norms of the matrix reading each site */
    float *wt[PK_WINA_SITES];       /* its transpose (n x out), for the column-skipping product */
} wina_layer;

struct pk_wina_model {
    int V, T, C, L, H, transformed;
    pk_nn_params *P; /* owns every tensor below */
    pk_nn_tensor *wte, *wpe, *head, *head_b, *lnf_w, *lnf_b; /* head_b NULL unless transformed */
    wina_layer *layer;
};

/* The weight (out x n) that reads `site` in layer l, and its bias (out). */
pk_nn_tensor *wina_site_weight(const pk_wina_model *m, int l, int site);
pk_nn_tensor *wina_site_bias(const pk_wina_model *m, int l, int site);

/* Forward pieces on a context with gradients off; tensors (B, T, C).  plan NULL or
 * sparsities NULL = dense; sparsity overrides plan->sparsity for this block when
 * non-NULL (PK_WINA_SITES entries).  NULL on error (the context says why). */
pk_nn_tensor *wina_embed(pk_nn_ctx *ctx, const pk_wina_model *m, const int32_t *tokens, int64_t B, int64_t T);
/* One forward pass's rule and bookkeeping; status is set when a mask could not be allocated. */
typedef struct wina_run {
    pk_wina_method method;
    unsigned norm_sites;
    pk_wina_stats *stats; /* may be NULL */
    int skip;             /* products by pk_wina_sparse_linear */
    int status;
} wina_run;
pk_nn_tensor *wina_block(pk_nn_ctx *ctx, const pk_wina_model *m, int l, pk_nn_tensor *x, const double *sparsity,
                         wina_run *run);
pk_nn_tensor *wina_head(pk_nn_ctx *ctx, const pk_wina_model *m, pk_nn_tensor *x);

#endif
