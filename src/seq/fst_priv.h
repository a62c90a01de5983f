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

#endif
