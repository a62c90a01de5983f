/* probkit/nn.h — a small neural-network engine: float32 tensors, reverse-mode
 * automatic differentiation over a recorded tape, layers, losses, optimisers,
 * safetensors checkpoints, and ready models (MLP, CNN, byte-level GPT).
 *
 * Model of use (the style of karpathy/llm.c and ggml):
 *
 *     pk_nn_params *P = pk_nn_params_new();            // declare parameters...
 *     pk_nn_tensor *W = pk_nn_params_add(P, "fc.weight", 2, (int64_t[]){10, 784});
 *     pk_nn_tensor *b = pk_nn_params_add(P, "fc.bias", 1, (int64_t[]){10});
 *     pk_nn_params_alloc(P);                             // ...one data + one grad allocation
 *     pk_nn_init_kaiming_uniform(W, 784, &rng);
 *     pk_nn_ctx *C = pk_nn_ctx_new();
 *     for (step...) {
 *         pk_nn_ctx_reset(C);                            // forget last step's activations
 *         pk_nn_tensor *x = pk_nn_input(C, 2, (int64_t[]){B, 784});   // fill x->data
 *         pk_nn_tensor *loss = pk_nn_cross_entropy(C, pk_nn_linear(C, x, W, b), labels, 0.0f);
 *         pk_nn_params_zero_grad(P);
 *         if (pk_nn_backward(C, loss) != PK_OK) ...      // pk_nn_ctx_error(C) says why
 *         pk_nn_optim_step(opt, lr);
 *     }
 *
 * Tensors are contiguous, row-major float32 with up to PK_NN_MAXDIM axes.
 * Reshape and a slice along axis 0 are views (they share storage and
 * gradient with their source); every other op writes a new tensor.
 * Activations live in the context's arena and are valid until the next
 * pk_nn_ctx_reset; parameters live in a pk_nn_params (data in one block,
 * gradients in another) for the life of the model.
 *
 * Errors: an op that gets a bad argument (shapes that do not agree, an index
 * out of range, a NULL input) returns NULL and records a sticky status and a
 * message in the context ("pk_nn_add: shapes (3,4) and (5) do not
 * broadcast").  Ops given a NULL input return NULL too, so a whole forward
 * pass can be written without checks and tested once at the end with
 * pk_nn_ctx_status.  pk_nn_ctx_reset clears the error.
 *
 * Numerics: float32 storage, double accumulation in reductions, norms,
 * softmax and losses; matrix products through CBLAS sgemm (OpenBLAS).
 * OpenMP parallelises over rows/images where it pays; results are
 * deterministic for a given seed and thread count.
 *
 * Threads: a context and a params set may be used by one thread at a time.
 */
#ifndef PROBKIT_NN_H
#define PROBKIT_NN_H

#include <stddef.h>
#include <stdint.h>

#include "probkit/core.h"
#include "probkit/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PK_NN_MAXDIM 6

typedef struct pk_nn_ctx pk_nn_ctx;
typedef struct pk_nn_tensor pk_nn_tensor;

/** The op-specific backward function of a tensor (engine-private). */
typedef void (*pk_nn_backward_fn)(pk_nn_ctx *ctx, pk_nn_tensor *t);

/** A float32 tensor.  Fields above the line are public and read-only except
 *  `data` (fill an input's data, or a parameter's) and `grad` contents. */
struct pk_nn_tensor {
    int ndim;
    int64_t shape[PK_NN_MAXDIM];
    int64_t numel;
    float *data;       /**< numel values, row-major */
    float *grad;       /**< d loss / d data after pk_nn_backward (NULL if not needed) */
    int requires_grad; /**< parameters, and anything computed from them */
    const char *name;  /**< parameters only */
    /* ---- engine-private ---- */
    pk_nn_tensor *src[4];
    pk_nn_backward_fn backward;
    void *aux; /* saved state for backward (arena) */
    int64_t iarg[8];
    float farg[4];
    pk_nn_tensor *view_of; /* storage owner for views */
    int64_t view_offset;
    int trainable; /* parameters: 0 for buffers (batch-norm running statistics) */
};

/* ---- contexts (activation arena + tape) ----------------------------------- */

/** A new context (empty arena, gradients enabled, training mode). NULL on no memory. */
pk_nn_ctx *pk_nn_ctx_new(void);
void pk_nn_ctx_free(pk_nn_ctx *ctx);
/** Forget every tensor made since the last reset (their memory is reused) and clear the error. */
void pk_nn_ctx_reset(pk_nn_ctx *ctx);
/** 1: record the tape so pk_nn_backward works (default); 0: inference only, less memory. */
void pk_nn_ctx_set_grad(pk_nn_ctx *ctx, int enabled);
/** 1: training mode (dropout active, batch norm uses batch statistics); 0: evaluation. */
void pk_nn_ctx_set_train(pk_nn_ctx *ctx, int train);
int pk_nn_ctx_train(const pk_nn_ctx *ctx);
/** The random stream dropout draws from (borrowed; NULL = dropout fails with PK_EINVAL in training). */
void pk_nn_ctx_set_rng(pk_nn_ctx *ctx, pk_rng *rng);
/** The sticky status (PK_OK if no op failed since the last reset) and its message. */
int pk_nn_ctx_status(const pk_nn_ctx *ctx);
const char *pk_nn_ctx_error(const pk_nn_ctx *ctx);
/** Arena bytes in use now / the most ever in use (a step's activation memory). */
size_t pk_nn_ctx_bytes(const pk_nn_ctx *ctx);
size_t pk_nn_ctx_peak_bytes(const pk_nn_ctx *ctx);

/** Back-propagate from a scalar `loss` (numel 1): every tensor on the tape
 *  that requires a gradient gets `grad`; parameter gradients are ACCUMULATED
 *  (zero them first with pk_nn_params_zero_grad).
 *  @return PK_OK; PK_EINVAL if loss is not a scalar or gradients were off;
 *  PK_EDOM if the loss is NaN/Inf; the context's status if an op had failed. */
int pk_nn_backward(pk_nn_ctx *ctx, pk_nn_tensor *loss);

/* ---- leaves ---------------------------------------------------------------- */

/** An uninitialised input tensor in the arena (no gradient). */
pk_nn_tensor *pk_nn_input(pk_nn_ctx *ctx, int ndim, const int64_t *shape);
/** An input tensor holding a copy of `data` (numel values). */
pk_nn_tensor *pk_nn_input_copy(pk_nn_ctx *ctx, int ndim, const int64_t *shape, const float *data);
/** An input that requires a gradient (for gradient checks of inputs). */
pk_nn_tensor *pk_nn_input_grad(pk_nn_ctx *ctx, int ndim, const int64_t *shape);
/** A tensor filled with `value`. */
pk_nn_tensor *pk_nn_full(pk_nn_ctx *ctx, int ndim, const int64_t *shape, float value);
/** 1 if every value of t is finite. */
int pk_nn_all_finite(const pk_nn_tensor *t);

/* ---- parameters ------------------------------------------------------------- */

typedef struct pk_nn_params pk_nn_params;

pk_nn_params *pk_nn_params_new(void);
/** Frees the parameter tensors too. Accepts NULL. */
void pk_nn_params_free(pk_nn_params *p);
/** Declare a trainable parameter (name copied, unique; up to PK_NN_MAXDIM axes).
 *  Its data/grad pointers are valid only after pk_nn_params_alloc.
 *  @return the tensor (owned by p) or NULL (duplicate name, bad shape, after alloc, no memory). */
pk_nn_tensor *pk_nn_params_add(pk_nn_params *p, const char *name, int ndim, const int64_t *shape);
/** Declare a non-trainable buffer saved with the model (e.g. running statistics). */
pk_nn_tensor *pk_nn_params_add_buffer(pk_nn_params *p, const char *name, int ndim, const int64_t *shape);
/** Allocate all values in one block and all gradients in another (both zeroed).
 *  @return PK_OK, PK_ENOMEM, PK_EINVAL if already allocated. */
int pk_nn_params_alloc(pk_nn_params *p);
size_t pk_nn_params_count(const pk_nn_params *p);
pk_nn_tensor *pk_nn_params_get(const pk_nn_params *p, size_t i);
/** The parameter called `name` or NULL. */
pk_nn_tensor *pk_nn_params_find(const pk_nn_params *p, const char *name);
/** Total number of trainable scalars. */
int64_t pk_nn_params_numel(const pk_nn_params *p);
void pk_nn_params_zero_grad(pk_nn_params *p);
/** Scale gradients so their global L2 norm is at most max_norm; returns the norm before. */
double pk_nn_params_clip_grad_norm(pk_nn_params *p, double max_norm);
/** Copy values from src to dst; names and shapes must agree (PK_ESHAPE otherwise). */
int pk_nn_params_copy(pk_nn_params *dst, const pk_nn_params *src, pk_err *err);

/** Save every parameter and buffer as F32 safetensors (names and shapes as
 *  declared) with optional string metadata (keys unique; may be 0/NULL). */
int pk_nn_params_save(const pk_nn_params *p, const char *path, size_t n_meta, const char *const *keys,
                      const char *const *values, pk_err *err);
/** Load values saved by pk_nn_params_save (or any safetensors file with the
 *  same names and shapes; F32/F64/F16/BF16 accepted).  Every declared
 *  parameter must be present with its exact shape; extra tensors are an
 *  error too.  On error p is unchanged.  PK_EIO / PK_EFORMAT / PK_ESHAPE. */
int pk_nn_params_load(pk_nn_params *p, const char *path, pk_err *err);
/** The metadata value for `key` in a safetensors file, malloc'd (caller frees), or NULL. */
char *pk_nn_file_meta(const char *path, const char *key, pk_err *err);

/* ---- initialisers (fill a parameter's data) ---------------------------------- */

/** U(-b, b), b = gain * sqrt(3 / fan_in), gain = sqrt(2) (ReLU); as torch kaiming_uniform_(a=0). */
void pk_nn_init_kaiming_uniform(pk_nn_tensor *t, int64_t fan_in, pk_rng *rng);
/** N(0, 2 / fan_in). */
void pk_nn_init_kaiming_normal(pk_nn_tensor *t, int64_t fan_in, pk_rng *rng);
/** U(-b, b), b = sqrt(6 / (fan_in + fan_out)). */
void pk_nn_init_xavier_uniform(pk_nn_tensor *t, int64_t fan_in, int64_t fan_out, pk_rng *rng);
void pk_nn_init_xavier_normal(pk_nn_tensor *t, int64_t fan_in, int64_t fan_out, pk_rng *rng);
void pk_nn_init_uniform(pk_nn_tensor *t, float lo, float hi, pk_rng *rng);
void pk_nn_init_normal(pk_nn_tensor *t, float mean, float sd, pk_rng *rng);
void pk_nn_init_const(pk_nn_tensor *t, float value);

/* ---- element-wise ops (numpy broadcasting) ------------------------------------ */

pk_nn_tensor *pk_nn_add(pk_nn_ctx *ctx, pk_nn_tensor *a, pk_nn_tensor *b);
pk_nn_tensor *pk_nn_sub(pk_nn_ctx *ctx, pk_nn_tensor *a, pk_nn_tensor *b);
pk_nn_tensor *pk_nn_mul(pk_nn_ctx *ctx, pk_nn_tensor *a, pk_nn_tensor *b);
pk_nn_tensor *pk_nn_div(pk_nn_ctx *ctx, pk_nn_tensor *a, pk_nn_tensor *b);
/** a * s + c for scalars s, c. */
pk_nn_tensor *pk_nn_affine(pk_nn_ctx *ctx, pk_nn_tensor *a, float s, float c);

typedef enum pk_nn_unary {
    PK_NN_EXP = 0,
    PK_NN_LOG,
    PK_NN_TANH,
    PK_NN_SIGMOID,
    PK_NN_RELU,
    PK_NN_GELU,      /**< exact: x * Phi(x) (torch default) */
    PK_NN_GELU_TANH, /**< tanh approximation (GPT-2) */
    PK_NN_SILU,
    PK_NN_SOFTPLUS,
    PK_NN_SQUARE,
    PK_NN_SQRT,
    PK_NN_NEG
} pk_nn_unary;
pk_nn_tensor *pk_nn_unary_op(pk_nn_ctx *ctx, pk_nn_tensor *a, pk_nn_unary op);
pk_nn_tensor *pk_nn_exp(pk_nn_ctx *ctx, pk_nn_tensor *a);
pk_nn_tensor *pk_nn_log(pk_nn_ctx *ctx, pk_nn_tensor *a);
pk_nn_tensor *pk_nn_tanh(pk_nn_ctx *ctx, pk_nn_tensor *a);
pk_nn_tensor *pk_nn_sigmoid(pk_nn_ctx *ctx, pk_nn_tensor *a);
pk_nn_tensor *pk_nn_relu(pk_nn_ctx *ctx, pk_nn_tensor *a);
pk_nn_tensor *pk_nn_gelu(pk_nn_ctx *ctx, pk_nn_tensor *a);
pk_nn_tensor *pk_nn_silu(pk_nn_ctx *ctx, pk_nn_tensor *a);
pk_nn_tensor *pk_nn_softplus(pk_nn_ctx *ctx, pk_nn_tensor *a);

/* ---- reductions and normalisers --------------------------------------------- */

/** Sum / mean / max over `axis` (negative counts from the end); keepdim keeps a size-1 axis. */
pk_nn_tensor *pk_nn_sum(pk_nn_ctx *ctx, pk_nn_tensor *a, int axis, int keepdim);
pk_nn_tensor *pk_nn_mean(pk_nn_ctx *ctx, pk_nn_tensor *a, int axis, int keepdim);
pk_nn_tensor *pk_nn_max(pk_nn_ctx *ctx, pk_nn_tensor *a, int axis, int keepdim);
/** Sum / mean of all elements: a scalar (ndim 1, numel 1). */
pk_nn_tensor *pk_nn_sum_all(pk_nn_ctx *ctx, pk_nn_tensor *a);
pk_nn_tensor *pk_nn_mean_all(pk_nn_ctx *ctx, pk_nn_tensor *a);
/** Softmax / log-softmax over the last axis. */
pk_nn_tensor *pk_nn_softmax(pk_nn_ctx *ctx, pk_nn_tensor *a);
pk_nn_tensor *pk_nn_log_softmax(pk_nn_ctx *ctx, pk_nn_tensor *a);

/* ---- shape ops ---------------------------------------------------------------- */

/** A view with a new shape (same numel); one entry may be -1. */
pk_nn_tensor *pk_nn_reshape(pk_nn_ctx *ctx, pk_nn_tensor *a, int ndim, const int64_t *shape);
/** Permute axes: out.shape[i] = a.shape[perm[i]]. */
pk_nn_tensor *pk_nn_permute(pk_nn_ctx *ctx, pk_nn_tensor *a, const int *perm);
/** Swap two axes. */
pk_nn_tensor *pk_nn_transpose(pk_nn_ctx *ctx, pk_nn_tensor *a, int ax0, int ax1);
/** Concatenate n tensors along `axis` (other axes equal). */
pk_nn_tensor *pk_nn_concat(pk_nn_ctx *ctx, int n, pk_nn_tensor *const *ts, int axis);
/** Elements start..end-1 along `axis` (a view when axis is 0). */
pk_nn_tensor *pk_nn_slice(pk_nn_ctx *ctx, pk_nn_tensor *a, int axis, int64_t start, int64_t end);
/** Select entries ids[0..n-1] along `axis` (a gather; ids copied; each in [0, size)). */
pk_nn_tensor *pk_nn_index_select(pk_nn_ctx *ctx, pk_nn_tensor *a, int axis, const int32_t *ids, int64_t n);
/** Embedding lookup: W (V, C), ids of shape (ndim, shape) -> (shape..., C). */
pk_nn_tensor *pk_nn_embedding(pk_nn_ctx *ctx, pk_nn_tensor *W, const int32_t *ids, int ndim,
                              const int64_t *shape);

/* ---- linear algebra ------------------------------------------------------------ */

/** a (..., M, K) @ b (K, N) or b (..., K, N) with the same leading axes -> (..., M, N). */
pk_nn_tensor *pk_nn_matmul(pk_nn_ctx *ctx, pk_nn_tensor *a, pk_nn_tensor *b);
/** x (..., in) @ W^T + bias: W (out, in) as in torch.nn.Linear; bias (out) or NULL. */
pk_nn_tensor *pk_nn_linear(pk_nn_ctx *ctx, pk_nn_tensor *x, pk_nn_tensor *W, pk_nn_tensor *bias);

/* ---- convolution and pooling (NCHW) ------------------------------------------ */

/** x (N, C, H, W), weight (O, C, KH, KW), bias (O) or NULL -> (N, O, OH, OW),
 *  OH = (H + 2 pad - KH) / stride + 1. im2col + sgemm. */
pk_nn_tensor *pk_nn_conv2d(pk_nn_ctx *ctx, pk_nn_tensor *x, pk_nn_tensor *weight, pk_nn_tensor *bias, int stride,
                           int pad);
/** Transposed convolution: x (N, C, H, W), weight (C, O, KH, KW) as torch
 *  ConvTranspose2d -> (N, O, (H-1) stride - 2 pad + KH, ...). */
pk_nn_tensor *pk_nn_conv_transpose2d(pk_nn_ctx *ctx, pk_nn_tensor *x, pk_nn_tensor *weight, pk_nn_tensor *bias,
                                     int stride, int pad);
/** Max / average pooling with a k x k window, no padding (floor). */
pk_nn_tensor *pk_nn_max_pool2d(pk_nn_ctx *ctx, pk_nn_tensor *x, int k, int stride);
pk_nn_tensor *pk_nn_avg_pool2d(pk_nn_ctx *ctx, pk_nn_tensor *x, int k, int stride);
/** Nearest-neighbour upsampling by an integer factor. */
pk_nn_tensor *pk_nn_upsample_nearest2d(pk_nn_ctx *ctx, pk_nn_tensor *x, int factor);

/* ---- normalisation, dropout ------------------------------------------------- */

/** Layer norm over the last axis: gamma, beta (C) or NULL. */
pk_nn_tensor *pk_nn_layer_norm(pk_nn_ctx *ctx, pk_nn_tensor *x, pk_nn_tensor *gamma, pk_nn_tensor *beta, float eps);
/** Batch norm over all axes but 1: x (N, C) or (N, C, H, W); gamma, beta (C) or
 *  NULL; running_mean / running_var (C) buffers updated in training mode with
 *  `momentum` (torch convention, unbiased running variance) and used in evaluation. */
pk_nn_tensor *pk_nn_batch_norm(pk_nn_ctx *ctx, pk_nn_tensor *x, pk_nn_tensor *gamma, pk_nn_tensor *beta,
                               pk_nn_tensor *running_mean, pk_nn_tensor *running_var, float momentum, float eps);
/** Inverted dropout with drop probability p in [0, 1) (identity in evaluation mode). */
pk_nn_tensor *pk_nn_dropout(pk_nn_ctx *ctx, pk_nn_tensor *x, float p);

/* ---- attention -------------------------------------------------------------- */

/** Multi-head scaled dot-product attention.  q (B, Tq, C), k and v (B, Tk, C),
 *  C = n_head * head_dim; head h uses columns h*head_dim..(h+1)*head_dim-1.
 *  causal: query i sees keys j <= i + (Tk - Tq).  mask: NULL, or an additive
 *  float mask (Tq, Tk) or (B, Tq, Tk) (0 = keep, -INFINITY = drop), no gradient.
 *  A query row with every key masked yields zeros.  -> (B, Tq, C). */
pk_nn_tensor *pk_nn_attention(pk_nn_ctx *ctx, pk_nn_tensor *q, pk_nn_tensor *k, pk_nn_tensor *v, int n_head,
                              int causal, const pk_nn_tensor *mask);

/* ---- losses (each returns the scalar mean over examples) -------------------- */

/** logits (N, C), labels in [0, C): cross-entropy with label smoothing eps in [0, 1)
 *  (target = (1-eps) onehot + eps/C, as torch).  Labels < 0 are ignored (not counted). */
pk_nn_tensor *pk_nn_cross_entropy(pk_nn_ctx *ctx, pk_nn_tensor *logits, const int32_t *labels, float smoothing);
/** Soft labels: target (N, C) rows of probabilities (no gradient). */
pk_nn_tensor *pk_nn_cross_entropy_soft(pk_nn_ctx *ctx, pk_nn_tensor *logits, const pk_nn_tensor *target);
/** Negative log of a categorical / discretised density: logp (N, C) holds
 *  log-probabilities (e.g. from log_softmax, or log bin masses of a
 *  discretised density); mean of -logp[i, labels[i]]. */
pk_nn_tensor *pk_nn_nll(pk_nn_ctx *ctx, pk_nn_tensor *logp, const int32_t *labels);
/** Binary cross-entropy with logits: targets in [0, 1], same shape (no gradient). */
pk_nn_tensor *pk_nn_bce_with_logits(pk_nn_ctx *ctx, pk_nn_tensor *logits, const pk_nn_tensor *target);
/** Mean squared error (target no gradient, same shape). */
pk_nn_tensor *pk_nn_mse(pk_nn_ctx *ctx, pk_nn_tensor *pred, const pk_nn_tensor *target);
/** Gaussian NLL: mean of 0.5 (log 2 pi + log_var + (y - mu)^2 / exp(log_var)); mu, log_var same shape. */
pk_nn_tensor *pk_nn_gaussian_nll(pk_nn_ctx *ctx, pk_nn_tensor *mu, pk_nn_tensor *log_var, const pk_nn_tensor *y);

/* ---- optimisers and schedules ---------------------------------------------- */

typedef enum pk_nn_optim_kind {
    PK_NN_SGD = 0,
    PK_NN_ADAM,
    PK_NN_ADAMW,
    PK_NN_RMSPROP,
    PK_NN_ADAGRAD
} pk_nn_optim_kind;

typedef struct pk_nn_optim_params {
    pk_nn_optim_kind kind;
    double momentum;     /**< SGD / RMSprop momentum in [0, 1) (default 0) */
    int nesterov;        /**< SGD: Nesterov momentum (needs momentum > 0) */
    double beta1, beta2; /**< Adam(W): in [0, 1) (0.9, 0.999) */
    double alpha;        /**< RMSprop smoothing in [0, 1) (0.99) */
    double eps;          /**< > 0 (1e-8; Adagrad 1e-10) */
    double weight_decay; /**< >= 0: L2 added to the gradient (SGD, Adam, RMSprop, Adagrad) or
                              decoupled (AdamW: applied to parameters with >= 2 axes only) */
} pk_nn_optim_params;

pk_nn_optim_params pk_nn_optim_params_default(pk_nn_optim_kind kind);
int pk_nn_optim_params_check(const pk_nn_optim_params *op, pk_err *err);
typedef struct pk_nn_optim pk_nn_optim;
/** An optimiser over the trainable parameters of p (borrowed; must outlive it). */
pk_nn_optim *pk_nn_optim_new(pk_nn_params *p, const pk_nn_optim_params *op, pk_err *err);
void pk_nn_optim_free(pk_nn_optim *o);
/** One update with learning rate lr > 0 from the accumulated gradients. */
int pk_nn_optim_step(pk_nn_optim *o, double lr);
/** Number of steps taken. */
int64_t pk_nn_optim_steps(const pk_nn_optim *o);

/** Learning rate of step `step` (0-based): linear warm-up over `warmup` steps,
 *  then cosine decay from lr_max to lr_min at `total`. */
double pk_nn_lr_cosine(int64_t step, int64_t warmup, int64_t total, double lr_max, double lr_min);
/** lr0 * gamma^(floor(epoch / step_size)). */
double pk_nn_lr_step(int64_t epoch, int64_t step_size, double gamma, double lr0);
/** Reduce-on-plateau: multiply lr by `factor` after `patience` epochs without a
 *  relative improvement of `threshold` of the monitored (lower-is-better) value. */
typedef struct pk_nn_plateau {
    double lr, factor, threshold, min_lr, best;
    int patience, bad_epochs;
} pk_nn_plateau;
void pk_nn_plateau_init(pk_nn_plateau *s, double lr, double factor, int patience, double threshold, double min_lr);
/** Feed an epoch's metric; returns the (possibly reduced) learning rate. */
double pk_nn_plateau_step(pk_nn_plateau *s, double metric);

/** The training-loss log every step-by-step trainer keeps: a progress report
 *  every steps/20 steps (mean loss since the last report) and the mean over
 *  the last 10% of steps (the "final loss"). */
typedef struct pk_nn_loss_log {
    int64_t steps, every, tail_from, run_n, tail_n;
    double run, tail;
} pk_nn_loss_log;
void pk_nn_loss_log_init(pk_nn_loss_log *g, int64_t steps);
/** Record the loss of step `step` (0-based); 1 when a report is due (every
 *  steps/20 steps and at the last step), with *mean the mean since the last
 *  report, which is then reset; else 0. */
int pk_nn_loss_log_add(pk_nn_loss_log *g, int64_t step, double loss, double *mean);
/** Mean loss over the last 10% of steps recorded, NAN if none. */
double pk_nn_loss_log_tail(const pk_nn_loss_log *g);

/* ---- ready models: image classifiers --------------------------------------- */

typedef enum pk_nn_arch {
    PK_NN_ARCH_MLP = 0, /**< (in) -> hidden... -> classes, ReLU, optional dropout */
    PK_NN_ARCH_CNN,     /**< conv3x3(32)-ReLU-pool2 - conv3x3(64)-ReLU-pool2 - fc(128)-ReLU - fc */
    PK_NN_ARCH_LENET    /**< conv5x5(6,pad2)-ReLU-pool2 - conv5x5(16)-ReLU-pool2 - fc120-fc84-fc */
} pk_nn_arch;

typedef struct pk_nn_classifier_config {
    pk_nn_arch arch;
    int channels, height, width; /**< input image shape (MLP: flattened) */
    int classes;
    int n_hidden;   /**< MLP: number of hidden layers (0..8) */
    int hidden[8];  /**< MLP: hidden widths */
    float dropout;  /**< dropout after each hidden layer, [0, 1) */
} pk_nn_classifier_config;

typedef struct pk_nn_classifier {
    pk_nn_classifier_config cfg;
    pk_nn_params *params;
} pk_nn_classifier;

/** Build and initialise (Kaiming uniform like torch's defaults) a classifier. */
int pk_nn_classifier_new(const pk_nn_classifier_config *cfg, pk_rng *rng, pk_nn_classifier **out, pk_err *err);
void pk_nn_classifier_free(pk_nn_classifier *m);
/** x (N, C, H, W) -> logits (N, classes). */
pk_nn_tensor *pk_nn_classifier_forward(pk_nn_ctx *ctx, const pk_nn_classifier *m, pk_nn_tensor *x);
/** Save with metadata (format "probkit-nn-classifier", version 1, config). */
int pk_nn_classifier_save(const pk_nn_classifier *m, const char *path, pk_err *err);
/** Load a file written by pk_nn_classifier_save. */
int pk_nn_classifier_load(const char *path, pk_nn_classifier **out, pk_err *err);

/* ---- transformer blocks ------------------------------------------------------ */

/** Declare the parameters of pre-LayerNorm transformer block l of width C in p:
 *  h.<l>.ln1.{weight,bias}, h.<l>.attn.qkv.{weight,bias} (3C x C), h.<l>.attn.proj.*,
 *  h.<l>.ln2.*, h.<l>.mlp.fc.* (4C x C), h.<l>.mlp.proj.* (C x 4C) — GPT-2's names.
 *  Returns 0, or -1 if a declaration failed (out of memory). */
int pk_nn_block_declare(pk_nn_params *p, int l, int64_t C);
/** GPT-2 initialisation of one parameter of such a model by its name: LayerNorm
 *  gains 1, biases 0, residual projections N(0, 0.02/sqrt(2 n_layer)), other
 *  weights N(0, 0.02).  Returns 1 if the name was one of these, else 0 (untouched). */
int pk_nn_block_init(pk_nn_tensor *t, int n_layer, pk_rng *rng);
/** Block l applied to x (B, T, C): x + attn(LN1(x)), then + MLP(LN2(.)) with a
 *  tanh-GELU MLP; attention as pk_nn_attention (causal / additive mask), dropout p
 *  on both residual branches. */
pk_nn_tensor *pk_nn_block_forward(pk_nn_ctx *ctx, const pk_nn_params *p, int l, pk_nn_tensor *x, int n_head,
                                  int causal, const pk_nn_tensor *mask, float dropout);

/* ---- ready models: byte-level GPT ------------------------------------------- */

/** GPT-2-style decoder: token + learned position embeddings, n_layer pre-norm
 *  blocks (LN -> causal MHA -> residual; LN -> 4C GELU(tanh) MLP -> residual),
 *  final LN, output head tied to the token embedding. */
typedef struct pk_nn_gpt_config {
    int vocab;    /**< 256 for bytes */
    int context;  /**< maximum sequence length T, 1..65536 */
    int d_model;  /**< C, divisible by n_head */
    int n_layer;  /**< 1..64 */
    int n_head;
    float dropout; /**< [0, 1) */
} pk_nn_gpt_config;

pk_nn_gpt_config pk_nn_gpt_config_default(void); /* 256, 128, 128, 4, 4, 0 */
int pk_nn_gpt_config_check(const pk_nn_gpt_config *c, pk_err *err);

typedef struct pk_nn_gpt {
    pk_nn_gpt_config cfg;
    pk_nn_params *params;
} pk_nn_gpt;

/** Build and initialise (N(0, 0.02); residual projections N(0, 0.02/sqrt(2 n_layer))). */
int pk_nn_gpt_new(const pk_nn_gpt_config *cfg, pk_rng *rng, pk_nn_gpt **out, pk_err *err);
void pk_nn_gpt_free(pk_nn_gpt *m);
/** tokens (B*T, each in [0, vocab)), T <= context -> logits (B, T, vocab). */
pk_nn_tensor *pk_nn_gpt_forward(pk_nn_ctx *ctx, const pk_nn_gpt *m, const int32_t *tokens, int64_t B, int64_t T);
/** Mean next-token cross-entropy (nats) of tokens[b, t+1] given tokens[b, ..t]:
 *  tokens (B, T+1). */
pk_nn_tensor *pk_nn_gpt_loss(pk_nn_ctx *ctx, const pk_nn_gpt *m, const int32_t *tokens, int64_t B, int64_t T);
/** Save: safetensors with metadata format "probkit-gpt", version "1" and the config keys
 *  vocab, context, d_model, n_layer, n_head (decimal strings). */
int pk_nn_gpt_save(const pk_nn_gpt *m, const char *path, pk_err *err);
int pk_nn_gpt_load(const char *path, pk_nn_gpt **out, pk_err *err);

/** Sampling controls: temperature > 0; top_k 0 = off; top_p in (0, 1], 1 = off. */
typedef struct pk_nn_sample_params {
    double temperature;
    int top_k;
    double top_p;
} pk_nn_sample_params;

/** Continue `prompt` (n_prompt >= 1 tokens) by n_new tokens into out (n_new
 *  entries), sliding the window when the context fills. */
int pk_nn_gpt_sample(const pk_nn_gpt *m, const int32_t *prompt, int64_t n_prompt, int64_t n_new,
                     const pk_nn_sample_params *sp, pk_rng *rng, int32_t *out, pk_err *err);
/** Per-token log-likelihoods (nats): logp[i] = log p(tokens[i] | tokens[max(0,i-context)..i-1])
 *  for i = 1..n-1 (logp[0] = 0: the first token is not scored).  Windows of
 *  `context` tokens advance by `stride` (1..context) so every scored token
 *  sees at least context - stride tokens of history once i >= context. */
int pk_nn_gpt_score(const pk_nn_gpt *m, const int32_t *tokens, int64_t n, int64_t stride, double *logp,
                    pk_err *err);

/* ---- byte n-gram baseline ------------------------------------------------ */

/** A byte-level n-gram model with Witten-Bell interpolation down to a uniform
 *  distribution over 256 bytes: the baseline the GPT's bits per byte are
 *  compared with. */
typedef struct pk_nn_ngram pk_nn_ngram;
/** Count all n-grams of order 1..order (1..7) in text[0..n-1]. */
int pk_nn_ngram_fit(const uint8_t *text, size_t n, int order, pk_nn_ngram **out, pk_err *err);
void pk_nn_ngram_free(pk_nn_ngram *m);
/** log p(next | the last min(hlen, order-1) bytes of history), natural log. */
double pk_nn_ngram_logprob(const pk_nn_ngram *m, const uint8_t *history, size_t hlen, uint8_t next);
/** Sum of log p(text[i] | text[..i-1]) for i = 1..n-1 (nats), the tokens pk_nn_gpt_score scores. */
double pk_nn_ngram_score(const pk_nn_ngram *m, const uint8_t *text, size_t n);

#ifdef __cplusplus
}
#endif
#endif
