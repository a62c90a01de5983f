/* probkit/wina.h — training-free sparse activation for linear layers:
 * WINA (Weight Informed Neuron Activation; Chen et al., 2025) beside TEAL
 * (top-k of |x|) and CATS (thresholding the MLP's activation output only).
 *
 * A linear layer y = W x (W: out x n, torch layout) is made sparse by
 * keeping, per token, only k of the n input entries and skipping the other
 * columns of W.  The methods differ in the score that picks the k entries:
 *
 *     TEAL:  |x_i|
 *     WINA:  |x_i| * ||W[:, i]||_2      (the column norm of the consuming matrix)
 *     CATS:  |x_i| at the MLP's activation output only (other layers stay dense)
 *
 * When the columns of W are orthogonal, ||W x - W (m * x)||^2 =
 * sum_{i dropped} x_i^2 ||W[:, i]||^2, so the WINA mask is the mask of that
 * size with the smallest output error (the paper's Theorem).  The paper
 * makes a transformer's consuming matrices column-orthogonal with a
 * computation-invariant rotation of the residual stream (SliceGPT-style:
 * fold LayerNorm into the next linear layer, centre the residual stream,
 * rotate each block's input by the right singular vectors of the matrix that
 * reads it, and carry the change of basis on the shortcut).
 * pk_wina_model_new(..., transform = 1, ...) builds that model from a probkit
 * byte-level GPT; its dense outputs equal the original's (to float rounding).
 *
 * Sparsity is allocated uniformly (every sparsified input at the target) or
 * per block by TEAL's greedy rule (pk_wina_plan_greedy), which the authors'
 * code uses for the reported results.
 *
 * Threads: a model is read-only during forward passes; distinct plans and
 * stats may be used from distinct threads.  Errors: functions return a
 * pk_status and fill *err (which may be NULL) with a message naming the input.
 */
#ifndef PROBKIT_WINA_H
#define PROBKIT_WINA_H

#include <stddef.h>
#include <stdint.h>

#include "probkit/core.h"
#include "probkit/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Neuron-selection rule. */
typedef enum pk_wina_method {
    PK_WINA_DENSE = 0, /**< no sparsity (reference) */
    PK_WINA_TEAL,      /**< top-k of |x_i| at every sparsified input */
    PK_WINA_CATS,      /**< top-k of |x_i| at the MLP activation output (input of mlp.proj) only */
    PK_WINA_WINA       /**< top-k of |x_i| * ||W[:, i]||_2 at every sparsified input */
} pk_wina_method;

/** "dense", "teal", "cats", "wina" (static strings; "?" for an unknown value). */
const char *pk_wina_method_name(pk_wina_method m);
/** Parse a name written by pk_wina_method_name (case-sensitive). PK_EINVAL if unknown. */
int pk_wina_method_parse(const char *s, pk_wina_method *out);

/* ---- masks and sparse products on plain arrays ---------------------------------- */

/** Entries kept out of n at sparsity s in [0, 1]: n - floor(s n + 1e-9) (>= 0).
 *  The authors' code keeps int(n (1 - s)); the two agree except at rounding ties. */
int64_t pk_wina_keep_count(int64_t n, double sparsity);

/** ||W[:, i]||_2 for i < cols of a row-major rows x cols matrix into norms[cols]
 *  (double accumulation).  PK_EINVAL on NULL or non-positive sizes. */
int pk_wina_column_norms(const float *W, int64_t rows, int64_t cols, double *norms, pk_err *err);

/** Per-row top-k mask of a B x n array x: mask[b, i] = 1 for the k entries with the
 *  largest |x[b, i]| * w[i] (w = colnorm, or 1 when colnorm is NULL), else 0.
 *  Ties go to the lower index, so exactly k ones per row.  k in [0, n].
 *  colnorm entries must be finite and >= 0.  mask is caller-owned (B x n bytes). */
int pk_wina_topk_mask(const float *x, int64_t B, int64_t n, const double *colnorm, int64_t k, uint8_t *mask,
                      pk_err *err);

/** y[b, :] = bias + sum over kept i of x[b, i] * Wt[i, :]: the product with W (out x n)
 *  given as its transpose Wt (n x out, so a skipped input skips one contiguous
 *  row) reading only the kept columns.  mask NULL = dense.  bias may be NULL.
 *  y is B x out, caller-owned, and may not alias x. */
int pk_wina_sparse_linear(const float *x, const uint8_t *mask, int64_t B, int64_t n, const float *Wt,
                          const float *bias, int64_t out, float *y, pk_err *err);

/* ---- the GPT as a sparse-activation model ---------------------------------------- */

/** The sparsified inputs of one transformer block, in forward order. */
enum {
    PK_WINA_SITE_QKV = 0,  /**< LN1 output, read by attn.qkv (n = C) */
    PK_WINA_SITE_ATTN_OUT, /**< attention output, read by attn.proj (n = C) */
    PK_WINA_SITE_FC,       /**< LN2 output, read by mlp.fc (n = C) */
    PK_WINA_SITE_MLP_OUT,  /**< GELU output, read by mlp.proj (n = 4C) */
    PK_WINA_SITES
};
/** "qkv", "attn.proj", "mlp.fc", "mlp.proj" (the matrix that reads the site). */
const char *pk_wina_site_name(int site);

typedef struct pk_wina_model pk_wina_model;

/** A float inference copy of a probkit GPT (pk_nn_gpt, borrowed only during
 *  the call).  transform = 0: the same computation; transform = 1: the
 *  computation-invariant rotation (LayerNorm folded, residual stream centred
 *  and rotated so that attn.qkv and mlp.fc have orthogonal columns; output
 *  head untied).  The rotation is computed in double.  PK_ENOMEM, PK_EINVAL,
 *  or the SVD's status. */
int pk_wina_model_new(const pk_nn_gpt *g, int transform, pk_wina_model **out, pk_err *err);
void pk_wina_model_free(pk_wina_model *m);
int pk_wina_model_layers(const pk_wina_model *m);
int pk_wina_model_context(const pk_wina_model *m);
int pk_wina_model_width(const pk_wina_model *m);
int pk_wina_model_transformed(const pk_wina_model *m);
/** Size n of a site's input (C, or 4C for PK_WINA_SITE_MLP_OUT). */
int64_t pk_wina_site_width(const pk_wina_model *m, int site);
/** Largest |Wᵀ W - diag(Wᵀ W)| / max diag over the columns of the matrix reading
 *  `site` in block `layer`: 0 for orthogonal columns (how far the theorem's
 *  condition is from holding).  NAN on bad arguments. */
double pk_wina_column_coherence(const pk_wina_model *m, int layer, int site);

/** Which inputs are sparsified, at what sparsity, and by which score. */
typedef struct pk_wina_plan {
    pk_wina_method method;
    int n_layer;
    double *sparsity;         /**< n_layer * PK_WINA_SITES, each in [0, 1); 0 = dense input */
    unsigned norm_sites;      /**< WINA: bit s set = use column norms at site s (default all 4 =
                                   the paper's rule; 0x5 = the authors' code, which scales
                                   only the residual-stream readers qkv and mlp.fc) */
    int skip_kernel;          /**< 1: each sparsified product reads only the kept columns
                                   (pk_wina_sparse_linear, one token at a time: what a decoder
                                   does); 0 (default): the dense sgemm on the masked input,
                                   the same numbers and faster for a batch on a CPU */
} pk_wina_plan;

/** A plan with every site allocated: DENSE all 0; TEAL and WINA all `sparsity`;
 *  CATS `sparsity` at PK_WINA_SITE_MLP_OUT and 0 elsewhere.  sparsity in [0, 1).
 *  Free with pk_wina_plan_free. */
int pk_wina_plan_uniform(const pk_wina_model *m, pk_wina_method method, double sparsity, pk_wina_plan **out,
                         pk_err *err);
void pk_wina_plan_free(pk_wina_plan *p);
/** Fraction of the blocks' weight reads skipped per token under the plan
 *  (sites weighted by the size of the matrix that reads them: 3, 1, 4, 4 C^2). */
double pk_wina_plan_weight_sparsity(const pk_wina_plan *p);

/** Greedy per-block allocation (TEAL's rule, used by the WINA code for its
 *  reported results): in each block, from all-dense, repeatedly raise by
 *  step / (matrix size in C^2) the sparsity of the site whose increase least
 *  raises the block's squared output error ||block_sparse(x) - block_dense(x)||^2
 *  summed over the calibration tokens, until the matrix-size-weighted mean
 *  sparsity of the block reaches each requested level (one greedy path serves
 *  all levels; a level may be overshot by at most step / 12).  Block inputs are
 *  the dense model's.  calib: B x T tokens (T <= context).  levels[n_levels] in
 *  [0, 1); out[n_levels] receives new plans (free each).  Method TEAL or WINA;
 *  other methods get uniform plans.  norm_sites as pk_wina_plan (WINA; 0xF = the
 *  paper's rule), used while allocating and copied into the plans.  0 < step < 1. */
int pk_wina_plan_greedy(const pk_wina_model *m, pk_wina_method method, unsigned norm_sites, const double *levels,
                        int n_levels, const int32_t *calib, int64_t B, int64_t T, double step, pk_wina_plan **out,
                        pk_err *err);

/** Relative output error of each sparsified product, accumulated by forward
 *  passes: err2 = sum ||W (x - m*x)||^2, ref2 = sum ||W x||^2 over tokens, and
 *  the number of kept / total input entries, per (layer, site). */
typedef struct pk_wina_stats {
    int n_layer;
    double *err2, *ref2, *kept, *total; /**< n_layer * PK_WINA_SITES each */
} pk_wina_stats;
pk_wina_stats *pk_wina_stats_new(int n_layer);
void pk_wina_stats_free(pk_wina_stats *s);
/** sqrt(err2 / ref2) of one (layer, site); NAN if nothing was accumulated. */
double pk_wina_stats_rel_error(const pk_wina_stats *s, int layer, int site);

/** Logits (B x T x vocab, caller-owned) of tokens (B x T, T <= context) under a plan
 *  (NULL = dense).  stats may be NULL (it costs one more product per site). */
int pk_wina_forward(const pk_wina_model *m, const pk_wina_plan *plan, const int32_t *tokens, int64_t B, int64_t T,
                    float *logits, pk_wina_stats *stats, pk_err *err);

/** Next-token evaluation on tokens[0..n): non-overlapping windows of
 *  context + 1 tokens (at most max_windows; 0 = all), batched.  *nll = mean
 *  cross-entropy in nats per predicted token, *acc = top-1 accuracy.
 *  stats may be NULL. */
int pk_wina_eval(const pk_wina_model *m, const pk_wina_plan *plan, const int32_t *tokens, int64_t n,
                 int64_t max_windows, double *nll, double *acc, pk_wina_stats *stats, pk_err *err);

#ifdef __cplusplus
}
#endif
#endif
