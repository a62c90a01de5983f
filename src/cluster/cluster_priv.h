/* cluster_priv.h — helpers shared inside the cluster module (not public). */
#ifndef PK_CLUSTER_PRIV_H
#define PK_CLUSTER_PRIV_H
#include <stddef.h>

#include "probkit/core.h"
#include "probkit/linalg.h"

static inline double pk_sqdist(const double *a, const double *b, size_t d)
{
    double s = 0;
    for (size_t t = 0; t < d; t++) {
        double e = a[t] - b[t];
        s += e * e;
    }
    return s;
}

/** PK_EDOM naming the first non-finite cell ("<who>: row i, column j is NaN"). */
int pk_cluster_check_finite(const pk_mat *X, const char *who, pk_err *err);
/** Mean over columns of the population variance (scikit-learn's tol scale). */
double pk_cluster_mean_var(const pk_mat *X);
/** Symmetric eigen-projection of an m x m matrix onto the PSD cone (in place); w/work scratch
 *  (m and m*m doubles). Returns PK_OK or a LAPACK status. */
int pk_cluster_proj_psd(double *A, size_t m, double *w, double *work);

#endif
