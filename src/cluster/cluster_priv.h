/* cluster_priv.h — helpers shared inside the cluster module (not public). */
#ifndef PK_CLUSTER_PRIV_H
#define PK_CLUSTER_PRIV_H
#include <stddef.h>

#include "probkit/core.h"
#include "probkit/linalg.h"

/* Four independent accumulators: the compiler may not reassociate a floating-point
 * reduction, so this is what lets it use SIMD lanes and hide the add latency. */
static inline double pk_sqdist(const double *a, const double *b, size_t d)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t t = 0;
    for (; t + 4 <= d; t += 4) {
        double e0 = a[t] - b[t], e1 = a[t + 1] - b[t + 1], e2 = a[t + 2] - b[t + 2], e3 = a[t + 3] - b[t + 3];
        s0 += e0 * e0;
        s1 += e1 * e1;
        s2 += e2 * e2;
        s3 += e3 * e3;
    }
    for (; t < d; t++) {
        double e = a[t] - b[t];
        s0 += e * e;
    }
    return (s0 + s1) + (s2 + s3);
}

#include "probkit/cluster.h"

/** buf <- sum over participants (no-op for NULL or a single participant). PK_EIO on failure. */
int pk_red_sum(const pk_allreduce *r, double *buf, size_t n);
/** Global row count and this participant's first global row. */
int pk_red_rows(const pk_allreduce *r, size_t n_local, size_t *n_global, size_t *offset);
/** 1 when rows are really split (r non-NULL with size > 1). */
static inline int pk_red_split(const pk_allreduce *r) { return r && r->size > 1; }
/** Global mean column variance (one-pass moments when split). */
int pk_red_mean_var(const pk_allreduce *r, const pk_mat *X, double *mv);
/** PK_EDOM naming the first non-finite cell ("<who>: row i, column j is NaN"). */
int pk_cluster_check_finite(const pk_mat *X, const char *who, pk_err *err);
/** Mean over columns of the population variance (scikit-learn's tol scale). */
double pk_cluster_mean_var(const pk_mat *X);
/** Symmetric eigen-projection of an m x m matrix onto the PSD cone (in place); w/work scratch
 *  (m and m*m doubles). Returns PK_OK or a LAPACK status. */
int pk_cluster_proj_psd(double *A, size_t m, double *w, double *work);

#endif
