/* probkit/fewshot.h — transductive few-shot classification by regularised
 * clustering (Ziko, Boudiaf, Dolz, Granger, Ben Ayed, "Transductive Few-Shot
 * Learning: Clustering is All You Need?", 2021) and the baselines it is
 * compared with.
 *
 * A few-shot task gives support features with labels 0..k-1 (at least one
 * per class) and unlabelled query features; every method returns a label and
 * a probability row per query.  The transductive methods cluster support and
 * query points together, minimising
 *
 *   E(Z, C) = sum_p z_p . log z_p + sum_p z_p . a_p(C) - (lambda/2) sum_k Z_k' W Z_k
 *
 * over soft assignments Z (rows on the simplex; support rows fixed to their
 * one-hot labels: the supervision constraints) and prototypes C, where a_pk
 * is the prototype cost (squared distance to a mean, or minus a Gaussian
 * kernel to a mode) and W a symmetric kNN affinity (the Laplacian term in its
 * concave form).  Prototypes and assignments are updated in turn; the
 * assignment step is the paper's bound optimiser: each row independently
 * z_p <- softmax(-a_p + lambda (W Z)_p), which cannot increase E when W is
 * positive semi-definite.  With lambda = 0 the assignments are hard and the
 * method is (constrained) K-means / K-modes.
 *
 * Data are row-major pk_mat views; results are freshly allocated and freed
 * with pk_fewshot_result_free (accepts NULL).  No global state; re-entrant.
 * Errors: PK_EINVAL (bad parameter or label, a class without support, shapes
 * that disagree), PK_EDOM (NaN/inf features), PK_ENOMEM; the pk_err message
 * names the input.
 */
#ifndef PROBKIT_FEWSHOT_H
#define PROBKIT_FEWSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "probkit/core.h"
#include "probkit/linalg.h"
#include "probkit/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pk_fewshot_method {
    PK_FEWSHOT_PROTO = 0,    /**< inductive nearest class mean (SimpleShot) */
    PK_FEWSHOT_SOFTKMEANS,   /**< soft K-means refinement of the class means (Ren et al. 2018), run to convergence */
    PK_FEWSHOT_LAPSHOT,      /**< Laplacian-regularised assignments with the support means kept fixed (LaplacianShot) */
    PK_FEWSHOT_KMEANS,       /**< K-means from the support means, hard assignments (lambda ignored) */
    PK_FEWSHOT_KMODES,       /**< K-modes: Gaussian-kernel modes by mean shift, hard assignments (lambda ignored) */
    PK_FEWSHOT_SLK_MEANS,    /**< Laplacian K-means: means + bound optimiser */
    PK_FEWSHOT_SLK_MS,       /**< Laplacian K-modes: mean-shift modes + bound optimiser */
    PK_FEWSHOT_N_METHODS
} pk_fewshot_method;

/** "proto", "soft-kmeans", "lapshot", "kmeans", "kmodes", "slk-means", "slk-ms"; NULL if out of range. */
const char *pk_fewshot_method_name(pk_fewshot_method m);
/** Inverse of pk_fewshot_method_name: PK_OK or PK_EINVAL. */
int pk_fewshot_method_from_name(const char *name, pk_fewshot_method *out);
/** 1 for methods that use the query set jointly (all but PROTO). */
int pk_fewshot_is_transductive(pk_fewshot_method m);

typedef enum pk_fewshot_affinity {
    PK_FEWSHOT_AFF_KNN = 0, /**< w_pq = 1 if q is among the knn nearest of p, then (W + W')/2 (the paper's graph) */
    PK_FEWSHOT_AFF_RBF = 1  /**< dense Gaussian kernel exp(-d^2 / (2 sigma^2)), diagonal included: PSD, so the
                                 bound optimiser is monotone (O(n^2) memory either way) */
} pk_fewshot_affinity;

typedef struct pk_fewshot_params {
    pk_fewshot_method method;   /**< default PK_FEWSHOT_SLK_MEANS */
    double lambda;              /**< Laplacian weight >= 0 (LAPSHOT, SLK_*). Default 0.7 (the authors' script) */
    int knn;                    /**< neighbours per point in the kNN graph, >= 1 (capped at n-1). Default 2 */
    pk_fewshot_affinity affinity; /**< default PK_FEWSHOT_AFF_KNN */
    double sigma;               /**< kernel bandwidth (modes, RBF affinity); <= 0: sqrt of the mean squared
                                     distance to the knn nearest neighbours. Default 0 */
    int max_iter;               /**< prototype/assignment rounds, >= 1. Default 100 */
    int bound_iter;             /**< bound-optimiser iterations per round, >= 1. Default 600 */
    double tol;                 /**< stop when |E_i - E_{i-1}| <= tol |E_{i-1}|, >= 0. Default 1e-5 */
    double beta;                /**< SOFTKMEANS inverse temperature: z ~ exp(-beta d^2), > 0. Default 5 */
    int shift_correct;          /**< 1: add mean(support) - mean(query) to every query first (the authors'
                                     cross-domain shift; transductive methods only). Default 1 */
    int constrain_support;      /**< 1: support assignments fixed to their labels (default); 0: the support only
                                     initialises the prototypes (as the authors' released code) */
} pk_fewshot_params;

pk_fewshot_params pk_fewshot_params_default(pk_fewshot_method m);
/** PK_OK or PK_EINVAL with a message naming the bad field. */
int pk_fewshot_params_check(const pk_fewshot_params *p, pk_err *err);

typedef struct pk_fewshot_result {
    size_t n_query, k, d;
    int32_t *labels;      /**< n_query predicted classes */
    double *proba;        /**< n_query x k: the soft assignments Z (hard methods: softmax(-a), a the final
                               prototype costs); rows sum to 1 */
    double *prototypes;   /**< k x d final means / modes (in the shifted query space) */
    double *energy;       /**< energy[i] = E after round i (n_iter entries; NULL for PROTO) */
    int n_iter;           /**< rounds run */
    int converged;        /**< 1 if tol (or unchanged hard labels) was met */
    double sigma;         /**< bandwidth used (0 if none) */
} pk_fewshot_result;

/** Classify the rows of `query` (n_q x d) from `support` (n_s x d) with labels
 *  support_labels[i] in [0, k); every class needs at least one support row.
 *  Deterministic (no randomness).  @return PK_OK, PK_EINVAL, PK_EDOM, PK_ENOMEM. */
int pk_fewshot_predict(const pk_mat *support, const int32_t *support_labels, size_t k, const pk_mat *query,
                       const pk_fewshot_params *p, pk_fewshot_result **out, pk_err *err);
void pk_fewshot_result_free(pk_fewshot_result *r);

/* ---- building blocks (exposed for tests and other modules) ------------------- */

/** "CL2N": subtract `center` (d entries, or NULL for none) from each row of X, then scale each row
 *  to unit L2 norm (rows of norm < 1e-12 are left at zero). */
void pk_fewshot_cl2n(pk_mat *X, const double *center);

/** The kNN affinity of the rows of X into W (n x n, row-major, caller's): w_pq = 1 if q is among
 *  the knn nearest rows of p (self excluded, ties broken by index), symmetrised (W + W')/2.
 *  If mean_d2 is non-NULL it receives the mean squared distance over those knn pairs.
 *  @return PK_OK, PK_EINVAL (knn < 1 or n < 2), PK_ENOMEM. */
int pk_fewshot_knn_affinity(const pk_mat *X, int knn, double *W, double *mean_d2);

/** The relaxed energy sum z log z + sum z.a - (lambda/2) sum_k Z_k' W Z_k (W may be NULL when lambda = 0). */
double pk_fewshot_energy(const double *Z, const double *unary, const double *W, size_t n, size_t k, double lambda);

/** The bound optimiser for fixed prototype costs `unary` (n x k): starting from Z (n x k, rows on the
 *  simplex; overwritten), iterate z_p <- softmax(-a_p + lambda (W Z)_p) for every row p with
 *  fixed[p] < 0 (rows with fixed[p] = c >= 0 are set one-hot at c; fixed may be NULL), until the
 *  energy changes by <= tol relative or max_iter iterations.  trace (max_iter entries, may be NULL)
 *  receives the energy after each iteration; *n_iter (may be NULL) their number.
 *  @return PK_OK, PK_EINVAL, PK_ENOMEM. */
int pk_fewshot_bound_update(const double *unary, const double *W, size_t n, size_t k, double lambda,
                            const int32_t *fixed, int max_iter, double tol, double *Z, double *trace, int *n_iter);

/* ---- episodes ------------------------------------------------------------------ */

typedef struct pk_fewshot_episode_params {
    size_t ways;      /**< classes per episode, 2 <= ways <= number of classes available */
    size_t shots;     /**< support rows per class, >= 1 */
    size_t queries;   /**< query rows per class (balanced), or the mean per class when imbalanced, >= 1 */
    double dirichlet; /**< > 0: query class proportions ~ Dirichlet(dirichlet * 1) over ways * queries
                           queries (the "realistic" imbalanced tasks); 0: balanced. Default 0 */
} pk_fewshot_episode_params;

/** A sampled task: indices into a labelled pool; labels re-numbered 0..ways-1. */
typedef struct pk_fewshot_episode {
    size_t n_support, n_query;
    size_t *support_idx; int32_t *support_y;
    size_t *query_idx; int32_t *query_y;
    int32_t *classes;  /**< ways: the pool label of each episode class */
} pk_fewshot_episode;

/** Sample one episode from the pool labels[0..n) restricted to the labels in classes[0..n_classes)
 *  (ways of them drawn uniformly without replacement; rows without replacement).  A class with too
 *  few rows for its support + queries is PK_EINVAL.  @return PK_OK, PK_EINVAL, PK_ENOMEM. */
int pk_fewshot_episode_sample(const int32_t *labels, size_t n, const int32_t *classes, size_t n_classes,
                              const pk_fewshot_episode_params *ep, pk_rng *rng, pk_fewshot_episode **out,
                              pk_err *err);
void pk_fewshot_episode_free(pk_fewshot_episode *e);

/** Mean query accuracy of `n_methods` parameter sets over `n_episodes` episodes drawn from the
 *  feature pool F (n x d, rows already normalised as wanted) with labels; the same episodes for
 *  every method.  acc_mean / acc_ci95 (n_methods entries) get the mean and the 95% half-width
 *  (1.96 sd / sqrt(episodes)); acc_all (n_methods x n_episodes, may be NULL) every episode.
 *  @return PK_OK or the first failure. */
int pk_fewshot_evaluate(const pk_mat *F, const int32_t *labels, const int32_t *classes, size_t n_classes,
                        const pk_fewshot_episode_params *ep, const pk_fewshot_params *methods, size_t n_methods,
                        size_t n_episodes, pk_rng *rng, double *acc_mean, double *acc_ci95, double *acc_all,
                        pk_err *err);

/* ---- a small feature extractor trained on base classes ------------------------- */

/** An MLP in -> hidden -> feat -> classes with ReLU, trained by cross-entropy on the base classes;
 *  its features are the ReLU outputs of the `feat` layer (the penultimate layer, as SimpleShot). */
typedef struct pk_fewshot_backbone pk_fewshot_backbone;

typedef struct pk_fewshot_train_params {
    int epochs;       /**< >= 1. Default 5 */
    int batch;        /**< >= 1. Default 128 */
    double lr;        /**< Adam peak learning rate > 0 (cosine decay). Default 2e-3 */
    double weight_decay; /**< >= 0. Default 0 */
} pk_fewshot_train_params;

pk_fewshot_train_params pk_fewshot_train_params_default(void);

typedef enum pk_fewshot_arch {
    PK_FEWSHOT_ARCH_MLP = 0, /**< in -> hidden -> feat (ReLU) -> classes; features: the feat layer */
    PK_FEWSHOT_ARCH_CNN = 1  /**< conv3x3(hidden)-ReLU-maxpool2 - conv3x3(feat)-ReLU-maxpool2 -> linear head;
                                  features: the flattened pooled maps, feat * (h/4) * (w/4) values */
} pk_fewshot_arch;

/** An MLP (see above). */
int pk_fewshot_backbone_new(int in, int hidden, int feat, int classes, pk_rng *rng, pk_fewshot_backbone **out,
                            pk_err *err);
/** A small CNN on one-channel height x width images (inputs of height * width values, row-major):
 *  c1 then c2 channels; height and width >= 4. */
int pk_fewshot_backbone_new_cnn(int height, int width, int c1, int c2, int classes, pk_rng *rng,
                                pk_fewshot_backbone **out, pk_err *err);
void pk_fewshot_backbone_free(pk_fewshot_backbone *b);
/** Number of feature values per input. */
int pk_fewshot_backbone_feat_dim(const pk_fewshot_backbone *b);
/** Train on X (n x in floats, row-major) with labels in [0, classes).  final_loss (may be NULL)
 *  gets the mean loss of the last epoch.  Shuffles with rng.  @return PK_OK or a status. */
int pk_fewshot_backbone_train(pk_fewshot_backbone *b, const float *X, const int32_t *y, size_t n,
                              const pk_fewshot_train_params *tp, pk_rng *rng, double *final_loss, pk_err *err);
/** Features of X (n x in floats) into F (n x feat doubles).  base_acc (may be NULL): if y is non-NULL,
 *  the classification accuracy of the head on (X, y).  @return PK_OK or a status. */
int pk_fewshot_backbone_features(const pk_fewshot_backbone *b, const float *X, const int32_t *y, size_t n,
                                 double *F, double *base_acc, pk_err *err);
/** Save / load (safetensors with metadata format "probkit-fewshot-backbone", version 1,
 *  arch, height, width, hidden, feat, classes). */
int pk_fewshot_backbone_save(const pk_fewshot_backbone *b, const char *path, pk_err *err);
int pk_fewshot_backbone_load(const char *path, pk_fewshot_backbone **out, pk_err *err);

/* ---- the whole pipeline on an IDX image data set ------------------------------- */

typedef struct pk_fewshot_data_params {
    const char *train_images, *train_labels; /**< IDX (raw or .gz): the base classes are trained on these */
    const char *test_images, *test_labels;   /**< IDX: the novel-class rows of these become the feature pool */
    int n_base;          /**< labels 0..n_base-1 are base classes, the others novel; 2 <= n_base. Default 5 */
    size_t max_base;     /**< use at most this many base training images (0 = all). Default 0 */
    pk_fewshot_arch arch; /**< default PK_FEWSHOT_ARCH_MLP */
    int hidden, feat;    /**< MLP widths / CNN channels (>= 1). Default 256, 64 */
    pk_fewshot_train_params train;
} pk_fewshot_data_params;

pk_fewshot_data_params pk_fewshot_data_params_default(void);

/** Novel-class features and what is needed to normalise them. */
typedef struct pk_fewshot_features {
    size_t n, d;
    double *F;           /**< n x d raw backbone features of the novel-class test images */
    int32_t *labels;     /**< n original labels (>= n_base) */
    double *base_mean;   /**< d: mean feature of the base training images (the CL2N centre) */
    double base_acc;     /**< accuracy of the backbone's head on the base-class test images */
    double train_loss;   /**< last-epoch training loss */
    double train_secs;   /**< wall-clock seconds of training */
} pk_fewshot_features;

/** Read the IDX files (pixels scaled to [0, 1]), train a backbone on the base classes, return the
 *  novel-class test features.  If model_out is non-NULL the trained backbone is handed over (else
 *  freed).  @return PK_OK, PK_EIO / PK_EFORMAT (files; the message names the file), PK_EINVAL, PK_ENOMEM. */
int pk_fewshot_features_from_idx(const pk_fewshot_data_params *dp, pk_rng *rng, pk_fewshot_features **out,
                                 pk_fewshot_backbone **model_out, pk_err *err);
void pk_fewshot_features_free(pk_fewshot_features *f);

#ifdef __cplusplus
}
#endif
#endif
