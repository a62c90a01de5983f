/* kmat.c — kernel matrices and gradient contractions over many pairs.
 *
 * Type-II ML fits spend their non-LAPACK time here.  A single stationary leaf
 * (SE or Matern, the common case) gets row-at-a-time loops against the inputs
 * stored by column and pre-scaled by 1 / ell, so the inner loops run over
 * contiguous memory and vectorise; the ARD gradient is one pass over the
 * lower triangle, never one matrix per hyperparameter.  Other kernels go pair
 * by pair through pk_gp_kernel_eval.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gp_priv.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* Parallel loops pay off above this many kernel pairs. */
#define PAR_PAIRS 250000L

static int nthreads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

int pk_gp_kernel_is_stationary(const pk_gp_kernel *k) { return k->type <= PK_GP_KERNEL_MATERN52; }

/* Z = (X diag(1/ell))^T, dim x n (row j holds input j of every point). */
static double *scaled_t(const pk_gp_kernel *k, const pk_mat *X)
{
    size_t n = X->rows, d = k->dim;
    double *Z = malloc((n ? n : 1) * d * sizeof *Z);
    if (!Z)
        return NULL;
    for (size_t j = 0; j < d; j++) {
        double s = sqrt(k->aux[1 + (k->ard ? j : 0)]);
        for (size_t i = 0; i < n; i++)
            Z[j * n + i] = *pk_mat_at(X, i, j) * s;
    }
    return Z;
}

/* r2[j] = |zi - Z[:, j]|^2 for j < cnt (Z has n columns). */
static void row_r2(const double *Z, size_t n, size_t d, const double *zi, size_t cnt, double *r2)
{
    memset(r2, 0, cnt * sizeof *r2);
    for (size_t k = 0; k < d; k++) {
        const double *zk = Z + k * n;
        double c = zi[k];
        for (size_t j = 0; j < cnt; j++) {
            double t = zk[j] - c;
            r2[j] += t * t;
        }
    }
}

static void row_values(const pk_gp_kernel *k, double *v, size_t cnt)
{
    double sf2 = k->aux[0], g, h;
    for (size_t j = 0; j < cnt; j++) {
        pk_gp_stationary_gh(k->type, v[j], &g, &h);
        v[j] = sf2 * g;
    }
}

/* K[i][j] = k(X1_i, X2_j) for j < (lower ? i + 1 : n2). */
static int stationary_fill(const pk_gp_kernel *k, const pk_mat *X1, const pk_mat *X2, int lower, pk_mat *K)
{
    size_t n1 = X1->rows, n2 = X2->rows, d = k->dim;
    double *Z = scaled_t(k, X2), *zall = malloc((n1 ? n1 : 1) * d * sizeof *zall);
    if (!Z || !zall) {
        free(Z);
        free(zall);
        return PK_ENOMEM;
    }
    for (size_t i = 0; i < n1; i++)
        for (size_t j = 0; j < d; j++)
            zall[i * d + j] = *pk_mat_at(X1, i, j) * sqrt(k->aux[1 + (k->ard ? j : 0)]);
    long pairs = (long)n1 * (long)n2 / (lower ? 2 : 1);
    (void)pairs;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 16) if (pairs > PAR_PAIRS)
#endif
    for (long il = 0; il < (long)n1; il++) {
        size_t i = (size_t)il, cnt = lower ? i + 1 : n2;
        double *row = pk_mat_at(K, i, 0);
        row_r2(Z, n2, d, zall + i * d, cnt, row);
        row_values(k, row, cnt);
    }
    free(Z);
    free(zall);
    return PK_OK;
}

int pk_gp_kernel_fill(const pk_gp_kernel *k, const pk_mat *X1, const pk_mat *X2, int lower, pk_mat *K)
{
    if (pk_gp_kernel_is_stationary(k))
        return stationary_fill(k, X1, X2, lower, K);
    long n1 = (long)X1->rows;
    size_t n2 = X2->rows;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 16) if (n1 * (long)n2 > PAR_PAIRS)
#endif
    for (long il = 0; il < n1; il++) {
        size_t i = (size_t)il, cnt = lower ? i + 1 : n2;
        const double *xi = pk_mat_at(X1, i, 0);
        double *row = pk_mat_at(K, i, 0);
        for (size_t j = 0; j < cnt; j++)
            row[j] = pk_gp_kernel_eval(k, xi, pk_mat_at(X2, j, 0), NULL);
    }
    return PK_OK;
}

/* g += sum_{i,j} W_ij dK_ij/dtheta for one stationary leaf, reading only the
 * lower triangle of W.  With u_ij = sf2 h(r_ij) (scaled by the pair weight),
 * d/dlog sf2 = K_ij, d/dlog ell_k = u_ij (z_ik - z_jk)^2 (ARD) or u_ij r_ij^2. */
static int stationary_contract(const pk_gp_kernel *k, const pk_mat *X, const pk_mat *W, double *g)
{
    size_t n = X->rows, d = k->dim, np = k->np;
    int nt = nthreads();
    double *Z = scaled_t(k, X), *zall = malloc((n ? n : 1) * d * sizeof *zall);
    double *acc_all = calloc((size_t)nt * np, sizeof *acc_all);
    double *buf_all = malloc((size_t)nt * 2 * (n ? n : 1) * sizeof *buf_all);
    if (!Z || !zall || !acc_all || !buf_all) {
        free(Z);
        free(zall);
        free(acc_all);
        free(buf_all);
        return PK_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            zall[i * d + j] = Z[j * n + i];
    double sf2 = k->aux[0], g0, h0;
    pk_gp_stationary_gh(k->type, 0.0, &g0, &h0);
    (void)h0;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if ((long)n * (long)n / 2 > PAR_PAIRS)
#endif
    {
        int tid = thread_id();
        double *acc = acc_all + (size_t)tid * np, *r2 = buf_all + (size_t)tid * 2 * n, *u = r2 + n;
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 16)
#endif
        for (long il = 0; il < (long)n; il++) {
            size_t i = (size_t)il;
            const double *wi = pk_mat_at(W, i, 0), *zi = zall + i * d;
            acc[0] += wi[i] * sf2 * g0; /* the diagonal: r = 0 */
            if (i == 0)
                continue;
            row_r2(Z, n, d, zi, i, r2);
            double s0 = 0.0;
            for (size_t j = 0; j < i; j++) {
                double gv, hv;
                pk_gp_stationary_gh(k->type, r2[j], &gv, &hv);
                double w = 2.0 * wi[j] * sf2;
                s0 += w * gv;
                u[j] = w * hv;
            }
            acc[0] += s0;
            if (k->ard) {
                for (size_t kk = 0; kk < d; kk++) {
                    const double *zk = Z + kk * n;
                    double c = zi[kk], s = 0.0;
                    for (size_t j = 0; j < i; j++) {
                        double t = zk[j] - c;
                        s += u[j] * t * t;
                    }
                    acc[1 + kk] += s;
                }
            } else {
                double s = 0.0;
                for (size_t j = 0; j < i; j++)
                    s += u[j] * r2[j];
                acc[1] += s;
            }
        }
    }
    for (int t = 0; t < nt; t++)
        for (size_t p = 0; p < np; p++)
            g[p] += acc_all[(size_t)t * np + p];
    free(Z);
    free(zall);
    free(acc_all);
    free(buf_all);
    return PK_OK;
}

int pk_gp_kernel_grad_contract(const pk_gp_kernel *k, const pk_mat *X, const pk_mat *W, double *g)
{
    size_t n = X->rows, np = k->np;
    if (W->rows != n || W->cols != n || X->cols != k->dim)
        return PK_ESHAPE;
    if (pk_gp_kernel_is_stationary(k))
        return stationary_contract(k, X, W, g);
    int nt = nthreads();
    double *acc_all = calloc((size_t)nt * 2 * np, sizeof *acc_all);
    if (!acc_all)
        return PK_ENOMEM;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if ((long)n * (long)n / 2 > PAR_PAIRS)
#endif
    {
        double *acc = acc_all + (size_t)thread_id() * 2 * np, *tmp = acc + np;
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 16)
#endif
        for (long il = 0; il < (long)n; il++) {
            size_t i = (size_t)il;
            const double *xi = pk_mat_at(X, i, 0);
            for (size_t j = 0; j <= i; j++) {
                double w = *pk_mat_at(W, i, j) * (i == j ? 1.0 : 2.0);
                pk_gp_kernel_eval(k, xi, pk_mat_at(X, j, 0), tmp);
                for (size_t p = 0; p < np; p++)
                    acc[p] += w * tmp[p];
            }
        }
    }
    for (int t = 0; t < nt; t++)
        for (size_t p = 0; p < np; p++)
            g[p] += acc_all[(size_t)t * 2 * np + p];
    free(acc_all);
    return PK_OK;
}
