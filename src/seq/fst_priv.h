/* Private layout of pk_fst, shared by the FST sources. */
#ifndef PK_FST_PRIV_H
#define PK_FST_PRIV_H

#include <math.h>

#include "probkit/fst.h"

typedef struct pk_fst_state {
    pk_fst_arc *arcs;
    size_t narc, carc;
    double final;
} pk_fst_state;

struct pk_fst {
    pk_fst_state *st;
    int32_t n, cap, start;
};

/* Grow to at least n states. */
int pk_fst_ensure_states(pk_fst *f, int32_t n);

/* log-semiring plus: -log(exp(-a) + exp(-b)) */
static inline double pk_fst_plus(double a, double b)
{
    if (a == INFINITY)
        return b;
    if (b == INFINITY)
        return a;
    double m = a < b ? a : b, d = a < b ? b - a : a - b;
    return m - log1p(exp(-d));
}

/* A transduced LM: the compiled subsequential table and search scratch
 * (src/seq/fst_tlm.c; the explicit decomposition lives in fst_tlm_decomp.c). */
struct pk_tlm {
    pk_seq_lm lm;
    int32_t ns, nt, nv, vstart;
    int32_t *dest;          /* [nv*ns] */
    size_t *ooff;           /* [nv*ns] into obuf */
    int32_t *olen;          /* [nv*ns] */
    size_t *foff;           /* [nv] final string */
    int32_t *flen;          /* [nv] */
    int32_t *obuf;
    size_t nobuf, cobuf;
    /* source symbols of each state grouped by their first output symbol:
     * gsym[v*ns ..] is a permutation, group g (0: empty output, 1 + y:
     * output starting with y) is gsym[v*ns + goff[v*(nt+2) + g] ..
     * v*ns + goff[v*(nt+2) + g + 1]) */
    int32_t *gsym, *goff;
    int64_t budget;
    /* search scratch */
    size_t nn, cn;
    int32_t *parent, *sym, *len, *vq, *pos;
    double *lp, *res;
    uint8_t *inq;
    size_t hcap;
    int32_t *htab;
    double *logp;
    int32_t *pre;
    size_t cpre;
    /* cache of source next-symbol distributions by n-gram context (key_len >= 0):
     * successive queries revisit the same contexts */
    size_t ccap, ccount;
    int32_t *ckey;
    double *cval;
    uint8_t *cused;
};

#endif
