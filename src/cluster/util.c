/* Small shared helpers of the cluster module. */
#include <cblas.h>
#include <lapacke.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_priv.h"

int pk_cluster_check_finite(const pk_mat *X, const char *who, pk_err *err)
{
    for (size_t i = 0; i < X->rows; i++) {
        const double *x = pk_mat_at(X, i, 0);
        for (size_t j = 0; j < X->cols; j++)
            if (!isfinite(x[j]))
                return pk_err_set(err, PK_EDOM, "%s: row %zu, column %zu is %s (clean or impute the data first)",
                                  who, i + 1, j + 1, isnan(x[j]) ? "NaN" : "infinite");
    }
    return PK_OK;
}

double pk_cluster_mean_var(const pk_mat *X)
{
    size_t n = X->rows, d = X->cols;
    if (n == 0 || d == 0)
        return 0;
    /* two passes over the rows (not the columns: row-major data would be read d times over) */
    double *m = calloc(2 * d, sizeof(double)), *s = m ? m + d : NULL;
    if (!m) { /* no scratch: column by column */
        double tot = 0;
        for (size_t j = 0; j < d; j++) {
            double mu = 0, v = 0;
            for (size_t i = 0; i < n; i++)
                mu += *pk_mat_at(X, i, j);
            mu /= (double)n;
            for (size_t i = 0; i < n; i++) {
                double e = *pk_mat_at(X, i, j) - mu;
                v += e * e;
            }
            tot += v / (double)n;
        }
        return tot / (double)d;
    }
    for (size_t i = 0; i < n; i++) {
        const double *x = pk_mat_at(X, i, 0);
        for (size_t j = 0; j < d; j++)
            m[j] += x[j];
    }
    for (size_t j = 0; j < d; j++)
        m[j] /= (double)n;
    for (size_t i = 0; i < n; i++) {
        const double *x = pk_mat_at(X, i, 0);
        for (size_t j = 0; j < d; j++) {
            double e = x[j] - m[j];
            s[j] += e * e;
        }
    }
    double tot = 0;
    for (size_t j = 0; j < d; j++)
        tot += s[j] / (double)n;
    free(m);
    return tot / (double)d;
}

int pk_cluster_proj_psd(double *A, size_t m, double *w, double *V)
{
    /* Only the eigenpairs with positive eigenvalues are needed, and near a clustering solution
     * there are about k of them: dsyevr with a value range skips most back-transformations. */
    lapack_int found = 0;
    lapack_int *isuppz = malloc(2 * (m ? m : 1) * sizeof(lapack_int));
    double *keep = malloc((m ? m * m : 1) * sizeof(double)); /* dsyevr destroys A */
    if (!isuppz || !keep) {
        free(isuppz);
        free(keep);
        return PK_ENOMEM;
    }
    memcpy(keep, A, m * m * sizeof(double));
    lapack_int info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'V', 'L', (lapack_int)m, A, (lapack_int)m, 0.0, DBL_MAX,
                                     0, 0, 0.0, &found, w, V, (lapack_int)m, isuppz);
    free(isuppz);
    if (info > 0) {
        /* MRRR's rare internal failure (seen on an ADMM iterate at n = 150): fall back to the
         * divide-and-conquer solver on all eigenpairs, keeping the positive ones in front */
        memcpy(V, keep, m * m * sizeof(double));
        info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'L', (lapack_int)m, V, (lapack_int)m, w);
        if (info == 0) {
            size_t first = 0; /* ascending: the positive ones are at the end */
            while (first < m && !(w[first] > 0))
                first++;
            found = (lapack_int)(m - first);
            for (size_t j = 0; j < (size_t)found; j++) {
                w[j] = w[first + j];
                for (size_t i = 0; i < m; i++)
                    V[i * m + j] = V[i * m + first + j];
            }
        }
    }
    free(keep);
    if (info < 0)
        return PK_EINTERNAL;
    if (info > 0)
        return PK_EMAXITER;
    memset(A, 0, m * m * sizeof(double));
    size_t npos = (size_t)found;
    if (npos == 0)
        return PK_OK;
    for (size_t j = 0; j < npos; j++) {
        double s = sqrt(w[j] > 0 ? w[j] : 0);
        for (size_t i = 0; i < m; i++)
            V[i * m + j] *= s;
    }
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)m, (int)npos, 1.0, V, (int)m, 0.0, A, (int)m);
    for (size_t i = 0; i < m; i++)
        for (size_t j = i + 1; j < m; j++)
            A[i * m + j] = A[j * m + i];
    return PK_OK;
}

int pk_red_sum(const pk_allreduce *r, double *buf, size_t n)
{
    if (!r || r->size <= 1 || n == 0)
        return PK_OK;
    return r->sum(buf, n, r->ctx) ? PK_EIO : PK_OK;
}

int pk_red_rows(const pk_allreduce *r, size_t n_local, size_t *n_global, size_t *offset)
{
    if (!pk_red_split(r)) {
        *n_global = n_local;
        *offset = 0;
        return PK_OK;
    }
    double *cnt = calloc((size_t)r->size, sizeof(double));
    if (!cnt)
        return PK_ENOMEM;
    cnt[r->rank] = (double)n_local;
    int st = pk_red_sum(r, cnt, (size_t)r->size);
    size_t tot = 0, off = 0;
    for (int q = 0; !st && q < r->size; q++) {
        if (q < r->rank)
            off += (size_t)cnt[q];
        tot += (size_t)cnt[q];
    }
    free(cnt);
    *n_global = tot;
    *offset = off;
    return st;
}

int pk_red_mean_var(const pk_allreduce *r, const pk_mat *X, double *mv)
{
    if (!pk_red_split(r)) {
        *mv = pk_cluster_mean_var(X);
        return PK_OK;
    }
    size_t n = X->rows, d = X->cols;
    double *m = calloc(2 * d + 1, sizeof(double));
    if (!m)
        return PK_ENOMEM;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            double v = *pk_mat_at(X, i, j);
            m[j] += v;
            m[d + j] += v * v;
        }
    m[2 * d] = (double)n;
    int st = pk_red_sum(r, m, 2 * d + 1);
    double tot = 0, N = m[2 * d];
    for (size_t j = 0; !st && j < d && N > 0; j++) {
        double mu = m[j] / N, v = m[d + j] / N - mu * mu;
        tot += v > 0 ? v : 0;
    }
    *mv = d ? tot / (double)d : 0;
    free(m);
    return st;
}
