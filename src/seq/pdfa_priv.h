/* Private helpers shared by the PDFA learners. */
#ifndef PK_PDFA_PRIV_H
#define PK_PDFA_PRIV_H

#include "probkit/pdfa.h"

/* Alergia's Hoeffding test: 1 if f1/n1 and f2/n2 differ beyond the bound
 * sqrt(ln(2/alpha)/2) (1/sqrt(n1) + 1/sqrt(n2)); 0 when a count is 0. */
int pk_pdfa_hoeffding_differ(double f1, double n1, double f2, double n2, double alpha);

/* Build a PDFA from node arrays: child[n*k], cnt[n*(k+1)] (END last);
 * states reachable from node 0 (and alive, if alive != NULL) are kept. */
int pk_pdfa_from_counts(int32_t k, size_t n, const int32_t *child, const double *cnt, const uint8_t *alive,
                        double smoothing, const double *bg, pk_pdfa **out);

/* A growable stack of int32 pairs (work lists of the merge tests and folds,
 * and the streaming learner's undo log). */
typedef struct pk_pdfa_pairs {
    int32_t *v;
    size_t n, cap; /* in int32s: n/2 pairs */
} pk_pdfa_pairs;

/* Push (a, b); PK_ENOMEM leaves the stack as it was. */
int pk_pdfa_pairs_push(pk_pdfa_pairs *s, int32_t a, int32_t b);

/* Add-one symbol+END frequencies of a sample into bg[nsym+1] (unnormalised). */
int pk_pdfa_background(const pk_seqs *s, double *bg);

#endif
