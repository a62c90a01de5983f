/* probkit/pc.h — probabilistic circuits (hidden Chow-Liu trees) and a lossless
 * image codec built on them.
 *
 * Paper: Liu, Mandt, Van den Broeck, "Lossless Compression with Probabilistic
 * Circuits", ICLR 2022.  The circuit is a hidden Chow-Liu tree (HCLT): a
 * Chow-Liu tree over the D observed variables (pixels), rooted at its centre,
 * in which every inner tree node v carries a latent Z_v with k states.  As a
 * sum-product circuit, node v contributes
 *   - k categorical input nodes  theta_v[j][a] = p(X_v = a | Z_v = j),
 *   - k product nodes            P_v[j] = theta_v[j][x_v] * prod_c U_c[j],
 *   - k sum nodes                U_v[i] = sum_j W_v[i][j] P_v[j]   (i = parent's state),
 * and a tree leaf v has no latent of its own: U_v[i] = theta_v[i][x_v] (the k
 * input nodes are indexed by the parent's state).  The root sum is
 * p(x) = sum_j w_j P_root[j].  Each sum layer is a k x k matrix, so evaluating
 * a batch is one small GEMM per variable (see pk_pc_loglik).  This is the
 * construction of Juice/ProbabilisticCircuits.jl `hclt` (one root mixture,
 * no latents at tree leaves).
 *
 * Values of a variable are 0..ncat-1 (256 for 8-bit pixels).  Missing values
 * are given by a mask (1 = observed, 0 = missing) wherever a function accepts
 * one; a missing variable is summed out exactly.
 *
 * Threads: a pk_pc is read-only during inference and may be shared between
 * threads; EM modifies it.  Functions use OpenMP internally where noted.
 */
#ifndef PROBKIT_PC_H
#define PROBKIT_PC_H
#include <stddef.h>
#include <stdint.h>
#include "probkit/core.h"
#include "probkit/rng.h"
#ifdef __cplusplus
extern "C" {
#endif

/** A hidden Chow-Liu tree circuit.  Fields are read-only for callers. */
typedef struct pk_pc {
    int32_t nvars;   /**< D, number of observed variables */
    int32_t k;       /**< latent states per inner tree node (>= 1) */
    int32_t ncat;    /**< categories per variable, 2..256 */
    int32_t height, width; /**< image geometry (height * width == nvars), or 0, 0 */
    int32_t root;    /**< the root variable */
    int32_t *parent; /**< [nvars] parent variable, -1 for the root */
    int32_t *order;  /**< [nvars] pre-order (root first; children in increasing index) */
    int32_t *child_start, *children; /**< CSR children lists: children of v are
                                          children[child_start[v] .. child_start[v+1]-1] */
    float *theta;    /**< [nvars][k][ncat] input distributions, rows sum to 1 */
    float *weight;   /**< [nvars][k][k] sum weights W_v[i][j] (rows sum to 1);
                          unused for tree leaves and for the root */
    float *root_w;   /**< [k] root mixture weights */
    double qstep;    /**< > 0 after pk_pc_quantize: parameters lie on a log grid of this step (nats) */
    int32_t qlevels; /**< levels of that grid (0 = not quantised; EM resets both) */
} pk_pc;

/* ---- structure --------------------------------------------------------------- */

/** Structure-learning parameters. */
typedef struct pk_pc_structure_params {
    int k;              /**< latent states, 1..1024 (default 16); k = 1 gives a plain Chow-Liu tree */
    int mi_bits;        /**< pixels are quantised to this many bits for mutual information, 1..8 (default 4) */
    double mi_pseudocount; /**< added to every joint count cell (default 0.1) */
    size_t mi_max_samples; /**< use at most this many rows for MI (0 = all; default 20000) */
    double init_perturbation; /**< random initial parameters: uniform(1-p, 1+p) then normalised, [0,1) (default 0.4) */
} pk_pc_structure_params;

pk_pc_structure_params pk_pc_structure_params_default(void);
/** PK_OK or PK_EINVAL with a message naming the bad field. */
int pk_pc_structure_params_check(const pk_pc_structure_params *p, pk_err *err);

/** Learn a Chow-Liu tree from n rows of D values (row-major, each < ncat), root
 *  it at its centre and build the HCLT with random parameters.
 *  height/width may be 0 when the data are not images.  *out is owned by the
 *  caller (pk_pc_free).  Uses OpenMP for the pairwise mutual information. */
int pk_pc_learn_structure(const uint8_t *x, size_t n, int nvars, int ncat, int height, int width,
                          const pk_pc_structure_params *p, pk_rng *rng, pk_pc **out, pk_err *err);

/** Build an HCLT on a given tree (parent[v] = -1 for exactly one root; must be a
 *  tree), with random parameters as above.  For tests and custom structures. */
int pk_pc_from_tree(const int32_t *parent, int nvars, int k, int ncat, double init_perturbation, pk_rng *rng,
                    pk_pc **out, pk_err *err);

void pk_pc_free(pk_pc *pc);

/** The mixture sum_c w_c p_c(x) of ncomp circuits on the same tree (same
 *  parent array, sizes and geometry) as one HCLT with k = sum of the
 *  components' k: states stacked in blocks, block-diagonal sum weights (zero
 *  between blocks), root weights w_c * root_w_c.  Exact; all inference and
 *  the codec work on it unchanged.  weights may be NULL (uniform); they are
 *  normalised and must be >= 0 with a positive sum.  Total k <= 1024.
 *  *out is owned by the caller; PK_EINVAL on mismatched components. */
int pk_pc_mixture(const pk_pc *const *comps, int ncomp, const double *weights, pk_pc **out, pk_err *err);

/** Smoothing of the plain Chow-Liu tree's conditional tables (pk_pc_clt_bpd). */
typedef struct pk_pc_clt_params {
    double sigma_parent; /**< Gaussian kernel width along the parent's value, in levels, [0, 64] (default 2) */
    double sigma_child;  /**< Gaussian kernel width along the child's value, [0, 64] (default 1.5) */
    double floor;        /**< added to every cell after blurring, > 0 (default 0.02) */
    int keep_ends;       /**< 1: values 0 and ncat-1 are not blurred (default 1) */
} pk_pc_clt_params;

pk_pc_clt_params pk_pc_clt_params_default(void);
/** PK_OK or PK_EINVAL with a message naming the bad field. */
int pk_pc_clt_params_check(const pk_pc_clt_params *p, pk_err *err);

/** The plain Chow-Liu tree (no latents) on the tree of `tree`: p(x) =
 *  p(x_root) prod_v p(x_v | x_parent(v)) with full ncat x ncat conditional
 *  tables estimated on the train rows.  Each table is a discrete kernel
 *  density estimate: the (x_parent, x_v) counts blurred by a separable
 *  Gaussian (sigma_parent, sigma_child; truncated at 4 sigma, edges repeated),
 *  with the saturated values 0 and ncat-1 kept as exact counts when
 *  keep_ends, plus `floor` in every cell, rows normalised.  sigma = 0, 0 and
 *  keep_ends = 0 is counting with a uniform pseudocount `floor`.
 *  *bpd gets the mean bits per dimension on the test rows.  (An HCLT with
 *  k = 1 is NOT this: its single latent state makes the variables independent.)
 *  OpenMP over variables. */
int pk_pc_clt_bpd(const pk_pc *tree, const uint8_t *train, size_t ntrain, const uint8_t *test, size_t ntest,
                  const pk_pc_clt_params *p, double *bpd, pk_err *err);

/** Number of free parameters (each categorical / sum row counts size-1). */
size_t pk_pc_num_params(const pk_pc *pc);

/** Depth of the tree (edges on the longest root-leaf path). */
int pk_pc_depth(const pk_pc *pc);

/* ---- likelihood and learning --------------------------------------------------- */

/** log p(x_obs) for n rows (natural log).  mask may be NULL (all observed).
 *  Float evaluation with per-row max-shifted sums; OpenMP over rows. */
int pk_pc_loglik(const pk_pc *pc, const uint8_t *x, const uint8_t *mask, size_t n, double *out, pk_err *err);

/** Mean bits per dimension, -log2 p(x) / D averaged over n complete rows. */
int pk_pc_bpd(const pk_pc *pc, const uint8_t *x, size_t n, double *bpd, pk_err *err);

/** EM parameters.  Mini-batch EM runs first: after each batch the parameters
 *  become inertia * old + (1 - inertia) * batch-MLE, inertia going linearly
 *  from inertia_start to inertia_end over all mini-batch steps.  Then full-batch
 *  EM epochs: expected counts over all rows, then the (pseudocount-smoothed) MLE. */
typedef struct pk_pc_em_params {
    int epochs_mini;      /**< mini-batch EM epochs, >= 0 (default 5) */
    int epochs_full;      /**< full-batch EM epochs, >= 0 (default 2) */
    size_t batch_size;    /**< rows per mini-batch, >= 1 (default 512) */
    double pseudocount;   /**< Dirichlet smoothing spread over each node's children, >= 0 (default 0.1) */
    double inertia_start; /**< in [0, 1) (default 0.2) */
    double inertia_end;   /**< in [0, 1) (default 0.9) */
    int shuffle;          /**< reshuffle rows every mini-batch epoch (default 1) */
    double theta_sigma;   /**< [0, 16] (default 0 = off): before each M-step, blur every input node's
                               expected counts along the value axis with a Gaussian of this width
                               (levels; values 0 and ncat-1 are kept apart).  Helps 8-bit pixels with
                               few training images; EM is then smoothed, so the full-batch likelihood
                               is no longer guaranteed to rise every epoch.  pk_pc_em_full_step never
                               smooths. */
    double theta_shrink;  /**< >= 0 (default 0 = off): hierarchical shrinkage of input nodes.  Each
                               input distribution theta_v[j] is estimated under a Dirichlet prior of
                               this many pseudo-rows centred on pixel v's marginal over all training
                               rows (blurred by theta_sigma, smoothed by pseudocount): latent states
                               seen in few rows fall back to the pixel's distribution rather than to
                               the uniform one.  Given in rows of the whole training set (a mini-batch
                               M-step uses theta_shrink * batch / n).  A MAP update: the full-batch
                               likelihood alone need not rise every epoch. */
    double weight_shrink; /**< >= 0 (default 0 = off): the same for every sum node's weights, centred
                               on the layer's average row (the expected child-state frequencies). */
    int shrink_interior;  /**< 0 (default) or 1: theta_shrink acts only on how each input distribution
                               spreads its interior mass over values 1..ncat-2 (for images: the
                               anti-aliased edge intensities); each latent state keeps its own
                               estimated masses on 0, ncat-1 and the interior as a whole. */
} pk_pc_em_params;

pk_pc_em_params pk_pc_em_params_default(void);
int pk_pc_em_params_check(const pk_pc_em_params *p, pk_err *err);

/** Called after every epoch; `phase` is "mini" or "full"; train_bpd is the mean
 *  bits per dimension measured during the epoch (before its last update).
 *  Return non-zero to stop early. */
typedef int (*pk_pc_epoch_fn)(void *user, const char *phase, int epoch, int nepochs, double train_bpd);

/** Run EM on n complete rows.  rng shuffles the mini-batches (may be NULL when
 *  shuffle == 0).  OpenMP over rows inside each batch.  A sum weight that is
 *  exactly zero stays zero (the pseudocount goes to a row's non-zero entries),
 *  so a block-diagonal mixture from pk_pc_mixture can be trained as one
 *  circuit; where a whole block underflows at a node the flow through it is
 *  dropped for that row (approximate EM in that case). */
int pk_pc_em(pk_pc *pc, const uint8_t *x, size_t n, const pk_pc_em_params *p, pk_rng *rng, pk_pc_epoch_fn cb,
             void *user, pk_err *err);

/** One full-batch EM step: expected counts over all n rows, then the smoothed
 *  MLE.  *ll_before (may be NULL) gets the mean natural log-likelihood under
 *  the parameters before the update. */
int pk_pc_em_full_step(pk_pc *pc, const uint8_t *x, size_t n, double pseudocount, double *ll_before, pk_err *err);

/* ---- per-example inference (double precision) ------------------------------------ */

/** p(X_var = a | x_obs) for a = 0..ncat-1 into out[ncat]; x has D entries,
 *  mask (may be NULL = all observed) says which are observed (x[var] is ignored). */
int pk_pc_conditional(const pk_pc *pc, const uint8_t *x, const uint8_t *mask, int var, double *out, pk_err *err);

/** Draw n independent samples into x[n][D]. */
int pk_pc_sample(const pk_pc *pc, pk_rng *rng, size_t n, uint8_t *x, pk_err *err);

/** Fill the missing entries of one row x[D] (mask[v] == 0) in place, either by
 *  exact conditional sampling (mpe = 0) or by the max-product completion
 *  (mpe = 1: the jointly most likely assignment of latents and missing pixels,
 *  the usual PC "MPE"; rng may then be NULL). */
int pk_pc_complete(const pk_pc *pc, uint8_t *x, const uint8_t *mask, int mpe, pk_rng *rng, pk_err *err);

/* ---- files ---------------------------------------------------------------------- */

/** Quantise the parameters in place for a small model file.  Every
 *  probability row p (root weights, input distributions, sum rows) becomes
 *  p[a] = exp(-q[a] step) / sum_b exp(-q[b] step) with integers q in
 *  [0, levels]: log-probabilities relative to the row maximum rounded to a
 *  grid of `step` nats, entries more than levels * step nats below the
 *  maximum raised to that floor (never zero).  The relative error of each
 *  entry is at most ~step / 2; the expected cost is ~step^2 / 24 nats per
 *  variable.  Afterwards pk_pc_serialize writes the compact version-2 file
 *  (one zlib-compressed byte per parameter), which loads to a circuit with
 *  bit-identical parameters, so a model quantised in memory codes exactly as
 *  the loaded file decodes.  step in [0.001, 4], levels 1..255; PK_EINVAL
 *  otherwise.  Any later EM clears the quantisation (qlevels = 0). */
int pk_pc_quantize(pk_pc *pc, double step, int levels, pk_err *err);

/** Serialise to a malloc'd buffer (format in docs/pc.md: magic "PKPC", version,
 *  sizes, tree, float32 parameters, CRC-32).  A quantised circuit
 *  (qlevels > 0) is written in the compact version-2 format; PK_EINVAL if its
 *  parameters no longer lie on the quantisation grid.  */
int pk_pc_serialize(const pk_pc *pc, uint8_t **buf, size_t *len, pk_err *err);
/** Parse a serialised circuit (version 1 or 2); every size, index and probability is checked
 *  (PK_EFORMAT with a message naming `name` otherwise). */
int pk_pc_parse(const uint8_t *buf, size_t len, const char *name, pk_pc **out, pk_err *err);
/** Size in bytes of the file pk_pc_save would write (0 on failure). */
size_t pk_pc_file_bytes(const pk_pc *pc);
/** Save atomically / load from a file. */
int pk_pc_save(const pk_pc *pc, const char *path, pk_err *err);
int pk_pc_load(const char *path, pk_pc **out, pk_err *err);
/** 64-bit FNV-1a hash of the version-1 (float32) serialisation, taken in
 *  little-endian 64-bit words (docs/pc.md): names the model in compressed
 *  files.  It depends only on the tree and the float parameters, so a
 *  quantised circuit has the same hash in memory and loaded from either format. */
uint64_t pk_pc_hash(const pk_pc *pc);

/* ---- rANS ------------------------------------------------------------------------ */

/** Range ANS with a 64-bit state and 32-bit renormalisation.  Frequencies are
 *  integers out of 2^PK_RANS_PREC; every symbol must have freq >= 1.  The
 *  encoder takes symbols in REVERSE order of decoding.  The encoder starts at
 *  state 0 (no 31-bit start-up cost), the decoder checks it ends there. */
#define PK_RANS_PREC 24
typedef struct pk_rans_enc {
    uint64_t state;
    uint32_t *words; /* emitted words, in encoding order */
    size_t nwords, cap;
    int oom;
} pk_rans_enc;
void pk_rans_enc_init(pk_rans_enc *e);
/** Encode one symbol occupying [start, start + freq) of 2^PK_RANS_PREC. */
void pk_rans_enc_put(pk_rans_enc *e, uint32_t start, uint32_t freq);
/** Write the stream (varint final state, then the words in decoding order) to a
 *  malloc'd buffer and free the encoder's memory. */
int pk_rans_enc_finish(pk_rans_enc *e, uint8_t **buf, size_t *len);

typedef struct pk_rans_dec {
    uint64_t state;
    const uint8_t *p, *end; /* remaining words */
    int error;
} pk_rans_dec;
/** Start decoding buf; PK_EFORMAT if the state header is malformed. */
int pk_rans_dec_init(pk_rans_dec *d, const uint8_t *buf, size_t len);
/** The slot (in [0, 2^PREC)) the next symbol lies in. */
uint32_t pk_rans_dec_peek(const pk_rans_dec *d);
/** Consume the symbol found for the peeked slot. Sets d->error on a truncated stream. */
void pk_rans_dec_advance(pk_rans_dec *d, uint32_t start, uint32_t freq);
/** PK_OK if the stream was consumed exactly and the state returned to 0. */
int pk_rans_dec_done(const pk_rans_dec *d);

/** A quantised distribution over n <= 256 symbols: integer frequencies
 *  freq[a] >= 1 summing to exactly 2^PK_RANS_PREC, laid out with the most
 *  probable symbol `first` at slot 0 (coding from the small initial state
 *  then costs nothing for it) and the others in increasing order after it;
 *  cum[] is over those positions. */
typedef struct pk_rans_table {
    int n, first;
    uint32_t freq[256];
    uint32_t cum[257];
} pk_rans_table;
/** Build the table from probabilities p[n] (>= 0, need not be normalised; NaN
 *  or an all-zero vector gives the uniform table).  Deterministic. */
void pk_rans_table_build(pk_rans_table *t, const double *p, int n);
/** Start of symbol a's interval. */
uint32_t pk_rans_table_start(const pk_rans_table *t, int a);
/** The symbol whose interval holds slot (< 2^PK_RANS_PREC). */
int pk_rans_table_find(const pk_rans_table *t, uint32_t slot);

/* ---- the image codec ----------------------------------------------------------- */

/** Sequential conditionals p(x_t | x_<t) of one row in the circuit's coding
 *  order (pc->order).  Incremental evaluation: after each variable only the
 *  nodes between it and the next variable in the tree are re-evaluated, so
 *  one row costs O(D * k * (k + ncat)) instead of O(D^2 k^2) for naive
 *  re-evaluation.  A workspace holds the cached node values. */
typedef struct pk_pc_coder pk_pc_coder;
int pk_pc_coder_new(const pk_pc *pc, pk_pc_coder **out);
void pk_pc_coder_free(pk_pc_coder *c);

/** -log2 p(x) of one complete row computed through the coding order with
 *  incremental (naive = 0) or naive full re-evaluation (naive = 1) of every
 *  conditional; used to check the chain rule and to time the speed-up. */
int pk_pc_coder_chain_bits(pk_pc_coder *c, const uint8_t *x, int naive, double *bits);

/** Encode one row into an open rANS encoder (symbols pushed in reverse, as the
 *  coder needs).  Also returns the ideal -log2 p(x) under the quantised tables
 *  when ideal_bits != NULL. */
int pk_pc_coder_encode(pk_pc_coder *c, const uint8_t *x, pk_rans_enc *enc, double *ideal_bits);
/** Decode one row; PK_EFORMAT on a corrupt stream. */
int pk_pc_coder_decode(pk_pc_coder *c, pk_rans_dec *dec, uint8_t *x);

/** Compressed-file modes. */
typedef enum pk_pc_mode {
    PK_PC_MODE_SEPARATE = 0, /**< each image its own rANS stream; random access by index */
    PK_PC_MODE_STREAM = 1    /**< one rANS stream for all images */
} pk_pc_mode;

/** Compress n images (rows of D bytes, values < ncat) into a container
 *  (docs/pc.md): magic "PKPZ", version, model hash, geometry, count, mode,
 *  per-image lengths, payload, CRC-32.  OpenMP over images in SEPARATE mode. */
int pk_pc_compress(const pk_pc *pc, const uint8_t *x, size_t n, pk_pc_mode mode, uint8_t **buf, size_t *len,
                   pk_err *err);

/** Header of a container, read without decoding. */
typedef struct pk_pc_container_info {
    uint32_t version;
    uint64_t model_hash;
    uint32_t height, width, ncat;
    uint64_t count;
    pk_pc_mode mode;
} pk_pc_container_info;
int pk_pc_container_info_read(const uint8_t *buf, size_t len, const char *name, pk_pc_container_info *info,
                              pk_err *err);

/** Decompress a container into a malloc'd x[count][D].  Refuses (PK_EFORMAT /
 *  PK_EINVAL with a clear message) a truncated or corrupted file and one made
 *  with a different model (hash mismatch); never returns a wrong image. */
int pk_pc_decompress(const pk_pc *pc, const uint8_t *buf, size_t len, const char *name, uint8_t **x,
                     size_t *count, pk_err *err);

/** Decode only image `index` of a SEPARATE-mode container into x[D]. */
int pk_pc_decompress_one(const pk_pc *pc, const uint8_t *buf, size_t len, const char *name, size_t index,
                         uint8_t *x, pk_err *err);

/** Training-set augmentation by translation, for small training sets: the n
 *  images (h x w, u8, row-major) themselves, then each shifted one pixel
 *  right, left, down and up (vacated pixels 0) — 5n images in *out
 *  (malloc'd, caller frees), *nout = 5n.  On MNIST's 9,000 training digits it
 *  lowers held-out bpd by ~0.015-0.025 (docs/pc.md); test images are never
 *  augmented.  PK_EINVAL on bad sizes, PK_ENOMEM. */
int pk_pc_augment_shift1(const uint8_t *x, size_t n, size_t h, size_t w, uint8_t **out, size_t *nout, pk_err *err);

#ifdef __cplusplus
}
#endif
#endif
