/* probkit/ngram.h — interpolated modified Kneser-Ney n-gram language models
 * and a byte-pair-encoding tokenizer.
 *
 * Tokens are int32 ids 0..vocab-1 (bytes: vocab 256; BPE tokens: the
 * tokenizer's size; any integer alphabet).  The model predicts the tokens and
 * an end-of-sentence symbol EOS = vocab; contexts at the start of a sentence
 * are padded with a begin marker that is never predicted.
 *
 * Smoothing: interpolated Kneser-Ney with three discounts per order (Chen &
 * Goodman 1998): P(w|h) = max(c(hw) - D(c(hw)), 0)/c(h) + gamma(h) P(w|h'),
 * gamma(h) = (D1 N1(h.) + D2 N2(h.) + D3 N3+(h.)) / c(h); lower orders use
 * continuation counts N1+(. h'w); the unigram level interpolates with the
 * uniform distribution over vocab+1 symbols.  Next-symbol distributions sum to
 * one exactly (up to rounding) for every context, seen or not.
 */
#ifndef PROBKIT_NGRAM_H
#define PROBKIT_NGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "probkit/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pk_ngram pk_ngram;

/** A model of order n (1..16) over tokens 0..vocab-1 (1 <= vocab <= 2^24). */
int pk_ngram_new(int32_t vocab, int order, pk_ngram **out, pk_err *err);
void pk_ngram_free(pk_ngram *m);
int32_t pk_ngram_vocab(const pk_ngram *m);
int pk_ngram_order(const pk_ngram *m);

/** Count one sentence (EOS is appended).  PK_EINVAL for a token out of range
 *  or after pk_ngram_finish. */
int pk_ngram_add(pk_ngram *m, const int32_t *x, size_t len, pk_err *err);
/** Compute continuation counts and discounts; the model becomes read-only.
 *  PK_EINVAL if nothing was added. */
int pk_ngram_finish(pk_ngram *m, pk_err *err);

/** Next-token distribution after the context ctx[0..n) (the whole sentence
 *  prefix, or at least its last order-1 tokens; a shorter prefix is treated
 *  as the sentence start).  p has vocab+1 entries, the last is EOS. */
int pk_ngram_next_dist(const pk_ngram *m, const int32_t *ctx, size_t n, double *p);
/** log P(w | ctx) for one w in 0..vocab (vocab = EOS). */
double pk_ngram_log_prob_next(const pk_ngram *m, const int32_t *ctx, size_t n, int32_t w);
/** log P(x, EOS) of a whole sentence. */
double pk_ngram_log_prob(const pk_ngram *m, const int32_t *x, size_t len);
/** The three discounts of order o (1..order) in d[3]. */
int pk_ngram_discounts(const pk_ngram *m, int o, double d[3]);

/* ---- byte-pair encoding --------------------------------------------------- */

typedef struct pk_bpe pk_bpe;

/** Train `merges` merges on text (bytes).  The text is cut into chunks that
 *  start at a space or newline (the space stays with the following word);
 *  pairs never cross chunks.  Ties break towards the smaller pair, so training
 *  is deterministic.  Token ids: 0..255 bytes, 256+i the i-th merge. */
int pk_bpe_train(const uint8_t *text, size_t len, int merges, pk_bpe **out, pk_err *err);
void pk_bpe_free(pk_bpe *b);
/** Number of tokens (256 + merges actually made). */
int32_t pk_bpe_size(const pk_bpe *b);
/** The bytes of token t (pointer into the tokenizer) and their count. */
const uint8_t *pk_bpe_token_bytes(const pk_bpe *b, int32_t t, size_t *len);
/** The i-th merge (a, b) -> 256 + i. */
int pk_bpe_merge(const pk_bpe *b, int i, int32_t *left, int32_t *right);
/** Canonical encoding: merges applied in training order inside each chunk.
 *  *toks is malloc'd. */
int pk_bpe_encode(const pk_bpe *b, const uint8_t *text, size_t len, int32_t **toks, size_t *ntok);
/** Concatenate token bytes; *text is malloc'd (NUL-terminated for
 *  convenience, *len excludes the NUL).  PK_EINVAL for an unknown token. */
int pk_bpe_decode(const pk_bpe *b, const int32_t *toks, size_t ntok, uint8_t **text, size_t *len);
/** Save / load the merge list as text ("probkit-bpe 1" then "a b" per line). */
int pk_bpe_save(const pk_bpe *b, const char *path, pk_err *err);
int pk_bpe_load(const char *path, pk_bpe **out, pk_err *err);

#ifdef __cplusplus
}
#endif
#endif
