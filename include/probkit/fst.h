/* probkit/fst.h — weighted finite-state transducers in the log semiring and
 * language models seen through a transducer ("Transducing Language Models",
 * Snaebjarnarson, Kiegeland, Liu, Boumasmoud, Cotterell & Vieira 2026).
 *
 * Weights are in the log semiring as in OpenFst: a weight w stands for the
 * probability exp(-w); "times" is +, "plus" is -log(exp(-a) + exp(-b)); zero
 * is +inf, one is 0.  Labels are int32 >= 0 with 0 = epsilon (OpenFst
 * convention).  State 0..n-1; the start state is set explicitly.
 */
#ifndef PROBKIT_FST_H
#define PROBKIT_FST_H

#include <stddef.h>
#include <stdint.h>

#include "probkit/core.h"
#include "probkit/ngram.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pk_fst_arc {
    int32_t ilabel, olabel; /**< 0 = epsilon */
    double weight;          /**< -log probability */
    int32_t next;           /**< destination state */
} pk_fst_arc;

typedef struct pk_fst pk_fst;

/** An empty FST (no states, no start). NULL on allocation failure. */
pk_fst *pk_fst_new(void);
void pk_fst_free(pk_fst *f);
/** Add a state (non-final); returns its id or -1 on allocation failure. */
int32_t pk_fst_add_state(pk_fst *f);
int pk_fst_set_start(pk_fst *f, int32_t s);
int32_t pk_fst_start(const pk_fst *f); /**< -1 if none */
/** Final weight (+inf = not final). */
int pk_fst_set_final(pk_fst *f, int32_t s, double w);
double pk_fst_final(const pk_fst *f, int32_t s);
int pk_fst_add_arc(pk_fst *f, int32_t s, int32_t ilabel, int32_t olabel, double w, int32_t next);
int32_t pk_fst_num_states(const pk_fst *f);
size_t pk_fst_num_arcs(const pk_fst *f, int32_t s);
/** The arcs of s (valid until the FST is modified). */
const pk_fst_arc *pk_fst_arcs(const pk_fst *f, int32_t s);
size_t pk_fst_total_arcs(const pk_fst *f);

/** Parse OpenFst's AT&T text format: "src dst ilabel olabel [weight]" arcs and
 *  "state [weight]" finals, numeric labels, the first arc's source is the start
 *  state (or the first final line if there are no arcs).  Weights default to
 *  0 ("Infinity" allowed).  State ids and labels must be in 0..2^22 (states
 *  are stored densely).  PK_EFORMAT with name:line for malformed lines. */
int pk_fst_parse_att(const char *buf, size_t len, const char *name, pk_fst **out, pk_err *err);
int pk_fst_read_att(const char *path, pk_fst **out, pk_err *err);
/** Write AT&T text (start state's arcs first, as fstprint does); *text malloc'd. */
int pk_fst_to_att(const pk_fst *f, char **text);

/** Composition A o B (A's output matched with B's input) with the epsilon
 *  sequence filter, so each path of the result comes from exactly one pair of
 *  paths; only states reachable from the start are built.  Works on any
 *  inputs (epsilons on either side). */
int pk_fst_compose(const pk_fst *a, const pk_fst *b, pk_fst **out, pk_err *err);
/** Remove arcs whose input and output are both epsilon (weights folded by the
 *  log-semiring closure; PK_EDOM if an epsilon cycle has total mass >= 1). */
int pk_fst_rm_epsilon(const pk_fst *f, pk_fst **out, pk_err *err);
/** Shortest distance from the start to every state in the log semiring
 *  (sum over paths); d[num_states]; requires every cycle to have mass < 1,
 *  solved exactly for acyclic FSTs and by iteration to 1e-12 otherwise. */
int pk_fst_shortest_distance(const pk_fst *f, double *d, pk_err *err);
/** -log of the total weight of all accepting paths (sum over d(q) + final(q)). */
double pk_fst_total_weight(const pk_fst *f, pk_err *err);
/** Weight of the input/output pair (x, y): -log sum over matching paths
 *  (+inf if none).  Built by composing linear acceptors; for tests. */
double pk_fst_pair_weight(const pk_fst *f, const int32_t *x, size_t nx, const int32_t *y, size_t ny, pk_err *err);
/** Determinise an acceptor-like FST (ilabel == olabel on every arc) in the
 *  log semiring: PK_ENOTSUP if it is not an acceptor, PK_EMAXITER if the
 *  subset construction exceeds max_states (not determinisable in budget). */
int pk_fst_determinize(const pk_fst *f, int32_t max_states, pk_fst **out, pk_err *err);

/* ---- transducers of the paper --------------------------------------------- */

/** Source label = symbol + 1 everywhere below (0 is epsilon). */

/** Tokens -> bytes: token t (label t+1) emits tok_bytes[t] (label byte+1)
 *  through a chain of epsilon-input arcs; one state per chain position. */
int pk_fst_tokens_to_bytes(int32_t ntok, const uint8_t *const *tok_bytes, const size_t *tok_len, pk_fst **out);
/** Bytes -> lower-cased text: A-Z -> a-z, every other byte kept; labels are
 *  byte+1.  One state; each lower-case letter has two preimages. */
int pk_fst_lowercase_words(pk_fst **out);
/** DNA codons -> amino acids: input A,C,G,T = labels 1..4; after every third
 *  nucleotide emits one of the 21 symbols "ACDEFGHIKLMNPQRSTVWY*" (labels
 *  1..21, standard genetic code, '*' stop); every state is final (a trailing
 *  partial codon emits nothing) so the map is total. */
int pk_fst_dna_codons(pk_fst **out);
/** The amino-acid letter of output label l (1..21), or 0. */
char pk_fst_amino_letter(int32_t l);

/* ---- transduced language models ------------------------------------------- */

/** A source language model through one next-symbol interface: symbols
 *  0..nsym-1, EOS = nsym.  next_logp fills logp[nsym+1] with log P(. | x).
 *  key_len >= 0 promises that the distribution depends only on the last
 *  key_len symbols (an n-gram: order-1), which lets the search merge
 *  hypotheses; key_len < 0 means the whole prefix matters. */
typedef struct pk_seq_lm {
    int32_t nsym;
    int key_len;
    int (*next_logp)(void *ctx, const int32_t *x, size_t n, double *logp);
    void *ctx;
} pk_seq_lm;

/** View a finished n-gram model as a pk_seq_lm (key_len = order - 1).  The
 *  model must outlive lm. */
void pk_ngram_seq_lm(const pk_ngram *m, pk_seq_lm *lm);

typedef struct pk_tlm pk_tlm;

/** Bind a source LM to an FST.  The FST must be input-deterministic after
 *  following epsilon-input chains (each state has distinct non-epsilon input
 *  labels, or exactly one epsilon-input arc), map every source string (all
 *  states final with weight 0 where a string may end) and have weight 0 on
 *  all arcs: it is then a total function f and the transduced LM is
 *  p_Y(y) = sum over x with f(x) = y of p(x).  Target symbols are output
 *  labels - 1 in 0..ntarget-1.  PK_ENOTSUP if the FST is not of that kind.
 *  The LM and FST must outlive the result. */
int pk_tlm_new(const pk_seq_lm *lm, const pk_fst *f, int32_t ntarget, pk_tlm **out, pk_err *err);
void pk_tlm_free(pk_tlm *t);

/** Statistics of the last query (hypotheses expanded, LM calls). */
typedef struct pk_tlm_stats {
    int64_t expanded, lm_calls, merged, pruned;
} pk_tlm_stats;

/** Search budget: queries stop with PK_EMAXITER beyond this many expanded
 *  hypotheses (default 2,000,000). */
void pk_tlm_set_budget(pk_tlm *t, int64_t max_expanded);

/** Next target symbol distribution after target prefix y: p[ntarget + 1],
 *  last = EOS (P(f(X) = y) / P(y is a prefix)).  threshold = 0: exact.
 *  threshold in (0, 1): probability-mass pruning as in the paper, with the
 *  threshold spread over the query: at each of the n+1 target positions the
 *  lightest hypotheses arriving there are dropped while their share of that
 *  position's mass stays within threshold/(n+1) (the heaviest always
 *  stays), so the shares dropped along the whole prefix add up to at most
 *  threshold.  (A per-position threshold would be spent n+1 times over.)
 *  This is a heuristic, not a bound: a dropped hypothesis can have a more
 *  likely future than the ones kept.
 *  *log_prefix (may be NULL) receives log P(y is a prefix of f(X)) (of the
 *  surviving hypotheses when pruned). */
int pk_tlm_next_dist(pk_tlm *t, const int32_t *y, size_t n, double threshold, double *p, double *log_prefix,
                     pk_tlm_stats *stats);
/** log P(y is a prefix of f(X)) from the precover decomposition: the sum of
 *  prefix probabilities of the quotient plus string probabilities of the
 *  remainder. */
int pk_tlm_prefix_logprob(pk_tlm *t, const int32_t *y, size_t n, double *logp, pk_tlm_stats *stats);
/** log P(f(X) = y) (forward over the lattice of source strings). */
int pk_tlm_string_logprob(pk_tlm *t, const int32_t *y, size_t n, double *logp, pk_tlm_stats *stats);

/** The precover decomposition of y without merging (for inspection/tests):
 *  up to `cap` source prefixes of the quotient and source strings of the
 *  remainder, each returned as a malloc'd list of int32 sequences
 *  (pk_seqs-like: offsets + symbols).  PK_EMAXITER if there are more. */
typedef struct pk_tlm_decomp {
    size_t nq, nr;
    size_t *qoff, *roff; /**< nq+1 / nr+1 offsets */
    int32_t *qsym, *rsym;
} pk_tlm_decomp;
int pk_tlm_decompose(pk_tlm *t, const int32_t *y, size_t n, size_t cap, pk_tlm_decomp *d);
void pk_tlm_decomp_free(pk_tlm_decomp *d);

#ifdef __cplusplus
}
#endif
#endif
