/* epiplexity.h — structural vs random information for a bounded learner.
 *
 * From Finzi, Qiu, Jiang, Izmailov, Kolter and Wilson, "From Entropy to
 * Epiplexity: Rethinking Information for Computationally Bounded
 * Intelligence" (2026).  For an observer with a fixed model class and compute
 * budget, the two-part code of a data stream splits into
 *   - time-bounded entropy H_T: what the best model it can reach still pays
 *     per token (the random, unpredictable part), and
 *   - epiplexity S_T: the description length of that model, the structure it
 *     learnt.
 * Prequential coding estimates both from one online training run: each batch
 * is coded with the model trained on the batches before it, so the total code
 * is the area under the training-loss curve; H_T is the final loss times the
 * tokens, and S_T the area between the curve and its final level.
 *
 * The paper's synthetic testbed, elementary cellular automata (ECA), is here
 * too: predict the state `steps` generations ahead from a burnt-in state.
 */
#ifndef PROBKIT_EPIPLEXITY_H
#define PROBKIT_EPIPLEXITY_H

#include <stddef.h>
#include <stdint.h>

#include "probkit/core.h"
#include "probkit/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A prequential two-part code, in bits. */
typedef struct pk_epi_code {
    double total_bits;      /**< sum_t loss_t * tokens_t / ln 2: the whole stream coded online */
    double entropy_bits;    /**< final_loss * sum_t tokens_t / ln 2: time-bounded entropy */
    double epiplexity_bits; /**< total - entropy: the area above the final loss */
    double tokens;          /**< sum_t tokens_t */
    double final_loss;      /**< nats per token */
} pk_epi_code;

/** Estimate from a training curve: loss[t] (nats per token, the loss of batch
 *  t under the model *before* training on it) and tokens[t] (> 0) for T
 *  steps, and the final model's loss (nats per token, e.g. on held-out
 *  data).  Steps whose loss is below the final loss count negatively, as the
 *  definition implies.  PK_EDOM on a non-finite or negative value. */
int pk_epi_prequential(const double *loss, const double *tokens, size_t T, double final_loss, pk_epi_code *out,
                       pk_err *err);

/** One ECA generation of a ring of `width` cells (0/1) under Wolfram rule
 *  `rule` (0..255): new[i] = bit (4 left + 2 self + right) of the rule.
 *  `next` receives the new state (may not alias `state`). */
int pk_eca_step(unsigned rule, const uint8_t *state, size_t width, uint8_t *next);

/** A sample of the paper's task: a uniform random ring, evolved `burnin`
 *  generations (so it is typical of the rule), into `in`; the state `steps`
 *  generations later into `out`. */
int pk_eca_sample(unsigned rule, size_t width, size_t burnin, size_t steps, pk_rng *rng, uint8_t *in, uint8_t *out);

typedef enum pk_epi_observer {
    PK_EPI_MLP = 0,      /**< width -> hidden -> hidden -> width, fully connected */
    PK_EPI_CIRCULANT = 1 /**< the same depth, but every layer a circular convolution over the whole
                              ring with `channels` channels: translation-equivariant, as the rule is */
} pk_epi_observer;

typedef struct pk_epi_eca_opts {
    pk_epi_observer observer; /**< default PK_EPI_MLP */
    size_t channels;     /**< CIRCULANT: channels of the hidden layers (default 4) */
    size_t width;        /**< ring width (default 64) */
    size_t steps;        /**< generations between input and target (default 48, the paper's) */
    size_t burnin;       /**< generations before the input (default 1000, the paper's) */
    size_t hidden;       /**< MLP observer: width -> hidden -> hidden -> width logits (default 256) */
    size_t batch;        /**< fresh samples per step (default 64) */
    size_t train_steps;  /**< online steps (default 2000) */
    double lr;           /**< Adam learning rate (default 1e-3) */
    size_t eval_samples; /**< held-out samples for the final loss (default 2048) */
} pk_epi_eca_opts;

pk_epi_eca_opts pk_epi_eca_opts_default(void);

/** Train the MLP observer online on fresh samples of rule `rule`; curve
 *  (train_steps values, may be NULL) gets the prequential loss per step in
 *  nats per predicted bit; *out the code.  Tokens are predicted bits. */
int pk_epi_eca_run(unsigned rule, const pk_epi_eca_opts *o, uint64_t seed, double *curve, pk_epi_code *out,
                   pk_err *err);

/** Requential coding (the paper's tighter estimator, as in the authors'
 *  soph/train.py): a teacher observer trains online on the real samples; after
 *  each of its steps it labels the same inputs with targets sampled from its
 *  own predictive, and a student (same initial weights) takes one step on
 *  those.  A receiver who knows the procedure can rebuild the student from
 *  the teacher's samples coded against the student's predictive, so the
 *  model costs sum_t KL(teacher_t || student_t) over the cells of the batch
 *  (relative entropy coding): that sum is the epiplexity estimate, and the
 *  student's final held-out loss times the tokens the time-bounded entropy. */
typedef struct pk_epi_req {
    double epiplexity_bits;  /**< sum over steps and cells of KL(teacher || student before its step) / ln 2 */
    double entropy_bits;     /**< student's final held-out loss * tokens / ln 2 */
    double student_final_loss, teacher_final_loss; /**< nats per bit, fresh held-out samples */
    double final_kl;         /**< mean KL per cell over the last 5% of steps (nats): has the student caught up? */
    pk_epi_code prequential; /**< the teacher's own prequential code in the same run */
} pk_epi_req;

/** Requential estimate for rule `rule` with observers as in pk_epi_eca_run
 *  (teacher and student of the same kind and initial weights). */
int pk_epi_eca_requential(unsigned rule, const pk_epi_eca_opts *o, uint64_t seed, pk_epi_req *out, pk_err *err);

#ifdef __cplusplus
}
#endif
#endif
