/* probkit/pdfa.h — probabilistic automata: PAutomaC files, target PFAs,
 * learned PDFAs (batch Alergia and two streaming learners).
 *
 * Strings are sequences of int32 symbols 0..nsym-1.  A probabilistic
 * automaton generates a string by starting in an initial state and, in state
 * q, either stopping (probability F(q)) or emitting a symbol and moving on.
 * All probabilities returned here are natural logarithms unless the name says
 * otherwise.  Objects are not thread-safe for writing; const objects may be
 * read from several threads.
 *
 * Methods: Alergia (Carrasco & Oncina 1994) with red-blue merge order; the
 * streaming learners follow "PAC learning PDFA from data streams"
 * (Baumgartner & Verwer): batches, replay and re-test of the previous
 * batch's merges on the grown counts, undo of those that no longer hold;
 * either count-min sketches of future symbols at several horizons with the
 * Hoeffding test and a cosine score, or (streaming Alergia) Alergia's
 * recursive test on the prefix tree kept a few levels below each blue state.
 */
#ifndef PROBKIT_PDFA_H
#define PROBKIT_PDFA_H

#include <stddef.h>
#include <stdint.h>

#include "probkit/core.h"
#include "probkit/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- a set of strings ----------------------------------------------------- */

/** A growable set of strings: string i is sym[off[i] .. off[i+1]). */
typedef struct pk_seqs {
    size_t n;       /**< number of strings */
    int32_t nsym;   /**< declared alphabet size (symbols are 0..nsym-1) */
    size_t *off;    /**< n+1 offsets into sym */
    int32_t *sym;   /**< all symbols, concatenated */
    size_t cap_n, cap_sym;
} pk_seqs;

/** A new empty set with alphabet size nsym (>= 1). NULL on allocation failure. */
pk_seqs *pk_seqs_new(int32_t nsym);
void pk_seqs_free(pk_seqs *s);
/** Append a copy of x[0..len). PK_EINVAL if a symbol is outside 0..nsym-1. */
int pk_seqs_push(pk_seqs *s, const int32_t *x, size_t len);
/** Length and first symbol of string i (i < n). */
static inline size_t pk_seqs_len(const pk_seqs *s, size_t i) { return s->off[i + 1] - s->off[i]; }
static inline const int32_t *pk_seqs_at(const pk_seqs *s, size_t i) { return s->sym + s->off[i]; }

/* ---- PAutomaC files ------------------------------------------------------- */

/** Parse a PAutomaC string file: a header "N K" then N lines "len s1 .. slen".
 *  Errors (PK_EFORMAT, with `name:line:` in err) for malformed lines, a length
 *  that does not match, symbols outside 0..K-1, fewer/more lines than N, N = 0. */
int pk_pautomac_parse(const char *buf, size_t len, const char *name, pk_seqs **out, pk_err *err);
/** Read and parse a file (.gz aware). */
int pk_pautomac_read(const char *path, pk_seqs **out, pk_err *err);
/** Streaming reader of a PAutomaC string file (plain or .gz) that holds one
 *  line at a time, so a learner can consume a stream without storing it. */
typedef struct pk_pautomac_reader pk_pautomac_reader;
/** Open and read the header; *nstrings and *nsym (may be NULL) get N and K. */
int pk_pautomac_reader_open(const char *path, pk_pautomac_reader **out, size_t *nstrings, int32_t *nsym, pk_err *err);
/** Next string: returns 1 with *x (valid until the next call) and *len, 0
 *  after the N-th string (checking nothing but blank lines follows), or a
 *  negative status with file:line in err (same checks as pk_pautomac_parse). */
int pk_pautomac_reader_next(pk_pautomac_reader *r, const int32_t **x, size_t *len, pk_err *err);
void pk_pautomac_reader_close(pk_pautomac_reader *r);
/** Read a solution file: a count then that many probabilities (>= 0).
 *  *probs is malloc'd, the caller frees it. */
int pk_pautomac_read_solution(const char *path, double **probs, size_t *n, pk_err *err);

/** The PAutomaC score: both vectors are normalised to sum 1 over the test set,
 *  then PP = 2^(-sum_i pt_i log2 pc_i).  Returns +inf if some pc_i is 0 where
 *  pt_i > 0, NaN if a sum is not positive.  pt = target probabilities, pc =
 *  candidate probabilities (not logs). */
double pk_pautomac_perplexity(const double *pt, const double *pc, size_t n);
/** The same score with the candidate given as natural-log probabilities
 *  (normalised in log space, so tiny probabilities do not underflow). */
double pk_pautomac_perplexity_log(const double *pt, const double *log_pc, size_t n);

/* ---- general PFA (PAutomaC target machines) -------------------------------- */

typedef struct pk_pfa pk_pfa;

/** Parse a PAutomaC model file ("I:", "F:", "S:", "T:" sections).  In state q
 *  the machine stops with F(q), else emits a with S(q,a) and moves to q' with
 *  T(q,a,q').  PK_EFORMAT with a line number for malformed entries. */
int pk_pfa_parse_pautomac(const char *buf, size_t len, const char *name, pk_pfa **out, pk_err *err);
int pk_pfa_read_pautomac(const char *path, pk_pfa **out, pk_err *err);
void pk_pfa_free(pk_pfa *m);
int32_t pk_pfa_nstates(const pk_pfa *m);
int32_t pk_pfa_nsym(const pk_pfa *m);
/** 1 if the machine has one initial state and at most one successor per (q,a). */
int pk_pfa_is_deterministic(const pk_pfa *m);
/** Exact log probability of x by the forward algorithm; -inf if impossible;
 *  symbols outside the alphabet give -inf. */
double pk_pfa_log_prob(const pk_pfa *m, const int32_t *x, size_t len);

/* ---- PDFA ----------------------------------------------------------------- */

/** A PDFA with count-based (or probability-based) parameters and smoothing.
 *  State q has weights w(q,a) for a in 0..nsym-1 and a stop weight w(q,END);
 *  P(a | q) = (w(q,a) + s * bg(a)) / (W(q) + s), where bg is a background
 *  distribution over symbols + END and s the smoothing strength.  A missing
 *  transition leads to the background model (a one-state unigram) for the rest
 *  of the string, so every string has positive probability when s > 0. */
typedef struct pk_pdfa pk_pdfa;

/** A PDFA with n states (state 0 initial), no transitions, zero weights,
 *  smoothing 0 and a uniform background.  NULL on failure or bad sizes. */
pk_pdfa *pk_pdfa_new(int32_t nstates, int32_t nsym);
void pk_pdfa_free(pk_pdfa *m);
int32_t pk_pdfa_nstates(const pk_pdfa *m);
int32_t pk_pdfa_nsym(const pk_pdfa *m);
/** Set transition q --a--> dest (dest = -1 removes it) and weight w >= 0. */
int pk_pdfa_set(pk_pdfa *m, int32_t q, int32_t a, int32_t dest, double w);
/** Set the stop weight of q. */
int pk_pdfa_set_final(pk_pdfa *m, int32_t q, double w);
/** Transition target (-1 if none) and weight. a == nsym means END (target -1). */
int32_t pk_pdfa_next(const pk_pdfa *m, int32_t q, int32_t a);
double pk_pdfa_weight(const pk_pdfa *m, int32_t q, int32_t a);
/** Smoothing strength s >= 0 and background bg[nsym+1] (copied, normalised;
 *  NULL keeps the current one). */
int pk_pdfa_set_smoothing(pk_pdfa *m, double s, const double *bg);
double pk_pdfa_smoothing(const pk_pdfa *m);

/** log P(x); -inf when x has zero probability (possible only with s = 0). */
double pk_pdfa_log_prob(const pk_pdfa *m, const int32_t *x, size_t len);
/** Next-symbol distribution after prefix x: p[nsym+1] (last = END).
 *  Returns PK_OK. */
int pk_pdfa_next_dist(const pk_pdfa *m, const int32_t *x, size_t len, double *p);
/** Sample one string into buf (capacity cap); stops at END or cap symbols
 *  (then *truncated = 1).  *len receives the length. */
int pk_pdfa_sample(const pk_pdfa *m, pk_rng *rng, int32_t *buf, size_t cap, size_t *len, int *truncated);
/** Average -log2 P(x) per symbol (+1 for END) over a set: bits per symbol;
 *  and per-string perplexity 2^(-mean log2 P(x)) in *pp_string if non-NULL. */
double pk_pdfa_bits_per_symbol(const pk_pdfa *m, const pk_seqs *s, double *pp_string);

/** A random PDFA: n states, alphabet k, each state has between 2 and k
 *  outgoing symbols with random targets, Dirichlet(1) weights and a stop
 *  probability in [0.05, 0.25]; every state reachable from 0. */
int pk_pdfa_random(int32_t nstates, int32_t nsym, pk_rng *rng, pk_pdfa **out);

/** JSON export ({"format":"probkit-pdfa","version":1,...}); *json malloc'd. */
int pk_pdfa_to_json(const pk_pdfa *m, char **json);
int pk_pdfa_from_json(const char *json, size_t len, const char *name, pk_pdfa **out, pk_err *err);
int pk_pdfa_save(const pk_pdfa *m, const char *path, pk_err *err);
int pk_pdfa_load(const char *path, pk_pdfa **out, pk_err *err);
/** Graphviz dot text (probabilities on the edges, stop probability in the
 *  node label); states with total weight below min_weight are left out. */
int pk_pdfa_to_dot(const pk_pdfa *m, double min_weight, char **dot);

/* ---- batch Alergia -------------------------------------------------------- */

typedef struct pk_alergia_params {
    double alpha;     /**< Hoeffding test confidence, (0, 1); smaller merges more (default 0.05) */
    int64_t t0;       /**< a blue state with fewer visits is not promoted (default 10, >= 1) */
    double smoothing; /**< smoothing strength s of the learned PDFA (default 1, >= 0) */
} pk_alergia_params;

pk_alergia_params pk_alergia_params_default(void);
int pk_alergia_params_check(const pk_alergia_params *p, pk_err *err);

/** Statistics of a learning run (all optional outputs). */
typedef struct pk_pdfa_learn_stats {
    int64_t tree_nodes;   /**< prefix-tree nodes built (batch) / frontier nodes created (stream) */
    int64_t merges;       /**< merges kept */
    int64_t undone;       /**< merges undone (stream) */
    int64_t peak_bytes;   /**< peak bytes held by the learner's own structures */
    int32_t states;       /**< states of the result */
} pk_pdfa_learn_stats;

/** Learn a PDFA from the strings in `train` (alphabet train->nsym). */
int pk_alergia_learn(const pk_seqs *train, const pk_alergia_params *p, pk_pdfa **out,
                     pk_pdfa_learn_stats *stats, pk_err *err);

/* ---- streaming learner ---------------------------------------------------- */

typedef enum pk_stream_test {
    PK_STREAM_ALERGIA = 0, /**< Alergia's recursive Hoeffding test on the prefix tree kept H-1 levels below
                                each blue state (exact counts of futures up to length H) */
    PK_STREAM_SKETCH = 1   /**< Hoeffding test on count-min sketches of futures at horizons 1..H, cosine score */
} pk_stream_test;

typedef struct pk_stream_params {
    size_t batch;        /**< strings per batch (default 500, >= 1) */
    double alpha;        /**< Hoeffding confidence in (0,1) (default sketch 0.2: the sketch test sees
                              local and sketched futures only, so it needs a tighter bound; Alergia 0.05,
                              as batch Alergia) */
    int64_t t0;          /**< visits before a blue state is tested (default sketch 30, Alergia 50) */
    pk_stream_test test; /**< default PK_STREAM_SKETCH */
    int horizons;        /**< H in 1..8 (default sketch 5, Alergia 4): sketch mode sketches future lengths
                              2..H; Alergia mode keeps the prefix tree H-1 levels below each blue state */
    int sketch_rows;     /**< count-min depth (default 2, 1..8) */
    int sketch_width;    /**< count-min width (default 64, 8..4096) */
    double min_cosine;   /**< sketch mode: also require cosine >= this (default 0, in [0,1]) */
    double smoothing;    /**< as in Alergia (default 1) */
} pk_stream_params;

/** Defaults of the sketch learner (test = PK_STREAM_SKETCH). */
pk_stream_params pk_stream_params_default(void);
/** Defaults for the given test (chosen on PAutomaC 1-12 and random PDFAs). */
pk_stream_params pk_stream_params_default_test(pk_stream_test test);
int pk_stream_params_check(const pk_stream_params *p, pk_err *err);

typedef struct pk_pdfa_stream pk_pdfa_stream;

/** A streaming learner over alphabet nsym.  Memory grows with the number of
 *  red/blue states (and, in Alergia mode, the distinct futures of length < H
 *  below them), not with the stream. */
int pk_pdfa_stream_new(int32_t nsym, const pk_stream_params *p, pk_pdfa_stream **out, pk_err *err);
void pk_pdfa_stream_free(pk_pdfa_stream *s);
/** Feed one string; a batch is processed when `batch` strings have arrived.
 *  Alergia mode undoes the merges, parses the batch into the unmerged tree
 *  and replays them; sketch mode parses through the current hypothesis. */
int pk_pdfa_stream_add(pk_pdfa_stream *s, const int32_t *x, size_t len, pk_err *err);
/** Process the pending partial batch and return the current model (a new
 *  object; the learner may continue to receive strings). */
int pk_pdfa_stream_model(pk_pdfa_stream *s, pk_pdfa **out, pk_pdfa_learn_stats *stats, pk_err *err);

#ifdef __cplusplus
}
#endif
#endif
