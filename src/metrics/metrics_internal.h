/* Private helpers shared by the metrics sources. */
#ifndef PK_METRICS_INTERNAL_H
#define PK_METRICS_INTERNAL_H

#include <math.h>
#include <stddef.h>

/** Indices 0..n-1 sorted by v ascending (stable); *out is malloc'd. PK_ENOMEM only. */
int pk_metrics_argsort(const double *v, size_t n, size_t **out);

/** Fit a logistic regression y ~ sigmoid(X w) (X: n x p row-major, include an
 *  intercept column yourself) by Newton-Raphson with an L2 penalty `ridge` on
 *  every weight (0 for none). Targets t may be soft in [0, 1]. w: p entries,
 *  used as the start and overwritten. PK_OK, PK_ESING, PK_EMAXITER, PK_ENOMEM. */
int pk_metrics_logreg(const double *X, const double *t, size_t n, size_t p, double ridge, double *w);

static inline double pk_metrics_sigmoid(double s)
{
    return s >= 0 ? 1.0 / (1.0 + exp(-s)) : exp(s) / (1.0 + exp(s));
}

#endif
