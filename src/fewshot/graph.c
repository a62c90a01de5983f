/* graph.c — feature normalisation, the kNN affinity graph, the relaxed
 * energy and the bound optimiser of the Laplacian term (the paper's
 * block-coordinate step: one independent softmax per point). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "probkit/fewshot.h"

void pk_fewshot_cl2n(pk_mat *X, const double *center)
{
    for (size_t i = 0; i < X->rows; i++) {
        double *x = pk_mat_at(X, i, 0);
        if (center)
            for (size_t j = 0; j < X->cols; j++)
                x[j] -= center[j];
        double s = 0;
        for (size_t j = 0; j < X->cols; j++)
            s += x[j] * x[j];
        s = sqrt(s);
        double inv = s < 1e-12 ? 0.0 : 1.0 / s;
        for (size_t j = 0; j < X->cols; j++)
            x[j] *= inv;
    }
}

int pk_fewshot_knn_affinity(const pk_mat *X, int knn, double *W, double *mean_d2)
{
    size_t n = X->rows, d = X->cols;
    if (knn < 1 || n < 2 || !W)
        return PK_EINVAL;
    size_t m = (size_t)knn < n - 1 ? (size_t)knn : n - 1;
    double *bd = malloc(m * sizeof *bd), *G = malloc(n * n * sizeof *G), *sq = malloc(n * sizeof *sq);
    size_t *bi = malloc(m * sizeof *bi);
    if (!bd || !bi || !G || !sq) {
        free(bd), free(bi), free(G), free(sq);
        return PK_ENOMEM;
    }
    /* squared distances from the Gram matrix (one dgemm: features are often wide) */
    for (size_t p = 0; p < n; p++)
        sq[p] = cblas_ddot((int)d, pk_mat_at(X, p, 0), 1, pk_mat_at(X, p, 0), 1);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n, (int)d, 1.0, X->data, (int)X->stride, X->data,
                (int)X->stride, 0.0, G, (int)n);
    memset(W, 0, n * n * sizeof *W);
    double tot = 0;
    for (size_t p = 0; p < n; p++) {
        size_t have = 0;
        for (size_t q = 0; q < n; q++) {
            if (q == p)
                continue;
            double dq = fmax(0.0, sq[p] + sq[q] - 2 * G[p * n + q]);
            /* insertion into the sorted list of the m best; strict < keeps the lower index on ties */
            if (have == m && dq >= bd[m - 1])
                continue;
            size_t pos = have < m ? have++ : m - 1;
            while (pos > 0 && dq < bd[pos - 1]) {
                bd[pos] = bd[pos - 1], bi[pos] = bi[pos - 1];
                pos--;
            }
            bd[pos] = dq, bi[pos] = q;
        }
        for (size_t t = 0; t < m; t++) {
            W[p * n + bi[t]] += 0.5;
            W[bi[t] * n + p] += 0.5;
            tot += bd[t];
        }
    }
    if (mean_d2)
        *mean_d2 = tot / (double)(n * m);
    free(bd), free(bi), free(G), free(sq);
    return PK_OK;
}

double pk_fewshot_energy(const double *Z, const double *unary, const double *W, size_t n, size_t k, double lambda)
{
    double e = 0;
    for (size_t i = 0; i < n * k; i++) {
        if (Z[i] > 0)
            e += Z[i] * log(Z[i]);
        e += Z[i] * unary[i];
    }
    if (lambda != 0 && W) {
        /* (lambda/2) sum_k Z_k' W Z_k = (lambda/2) sum_p z_p . (W Z)_p, row by row to avoid a buffer */
        double lap = 0;
        for (size_t p = 0; p < n; p++) {
            const double *w = W + p * n;
            for (size_t q = 0; q < n; q++) {
                if (w[q] == 0)
                    continue;
                lap += w[q] * cblas_ddot((int)k, Z + p * k, 1, Z + q * k, 1);
            }
        }
        e -= 0.5 * lambda * lap;
    }
    return e;
}

static void softmax_row(double *z, size_t k)
{
    double mx = z[0];
    for (size_t c = 1; c < k; c++)
        mx = z[c] > mx ? z[c] : mx;
    double s = 0;
    for (size_t c = 0; c < k; c++)
        s += (z[c] = exp(z[c] - mx));
    for (size_t c = 0; c < k; c++)
        z[c] /= s;
}

int pk_fewshot_bound_update(const double *unary, const double *W, size_t n, size_t k, double lambda,
                            const int32_t *fixed, int max_iter, double tol, double *Z, double *trace, int *n_iter)
{
    if (!unary || !Z || n == 0 || k == 0 || max_iter < 1 || !(lambda >= 0) || !(tol >= 0) || (lambda > 0 && !W))
        return PK_EINVAL;
    double *WZ = malloc(n * k * sizeof *WZ);
    if (!WZ)
        return PK_ENOMEM;
    for (size_t p = 0; p < n; p++)
        if (fixed && fixed[p] >= 0)
            for (size_t c = 0; c < k; c++)
                Z[p * k + c] = (int32_t)c == fixed[p];
    double prev = pk_fewshot_energy(Z, unary, W, n, k, lambda);
    int it = 0;
    while (it < max_iter) {
        /* the bound at Z^i is tight there and separable over rows: every free row jumps to its
         * own minimiser computed from the old Z (a parallel, Jacobi update) */
        if (lambda > 0)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)k, (int)n, 1.0, W, (int)n, Z, (int)k,
                        0.0, WZ, (int)k);
        else
            memset(WZ, 0, n * k * sizeof *WZ);
        for (size_t p = 0; p < n; p++) {
            if (fixed && fixed[p] >= 0)
                continue;
            double *z = Z + p * k;
            for (size_t c = 0; c < k; c++)
                z[c] = -unary[p * k + c] + lambda * WZ[p * k + c];
            softmax_row(z, k);
        }
        double e = pk_fewshot_energy(Z, unary, W, n, k, lambda);
        if (trace)
            trace[it] = e;
        it++;
        if (fabs(e - prev) <= tol * fmax(fabs(prev), 1e-300))
            break;
        prev = e;
    }
    if (n_iter)
        *n_iter = it;
    free(WZ);
    return PK_OK;
}
