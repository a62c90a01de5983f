/* blr.c — exact sequential Bayesian inference: conjugate linear regression.
 *
 * In natural parameters the posterior after task 1 used as the prior of task
 * 2 is *exactly* the posterior on both tasks' data, so any forgetting seen
 * here is the model's (misspecification, imbalance), never the inference's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/continual.h"
#include "probkit/linalg.h"

int pk_cl_blr_init(pk_cl_blr *b, size_t d, double prior_var, double noise_var, pk_err *err)
{
    if (!b)
        return pk_err_set(err, PK_EINVAL, "blr: NULL model");
    memset(b, 0, sizeof *b);
    if (d == 0 || !(prior_var > 0) || !(noise_var > 0) || !isfinite(prior_var) || !isfinite(noise_var))
        return pk_err_set(err, PK_EINVAL, "blr: need d >= 1 and finite variances > 0 (got d=%zu, %g, %g)", d,
                          prior_var, noise_var);
    b->P = calloc(d * d, sizeof *b->P);
    b->h = calloc(d, sizeof *b->h);
    if (!b->P || !b->h) {
        pk_cl_blr_free(b);
        return pk_err_set(err, PK_ENOMEM, "blr: out of memory");
    }
    b->d = d;
    b->noise_var = noise_var;
    for (size_t i = 0; i < d; i++)
        b->P[i * d + i] = 1.0 / prior_var;
    return PK_OK;
}

int pk_cl_blr_update(pk_cl_blr *b, const double *X, const double *y, size_t n, pk_err *err)
{
    if (!b || !b->P || (n && (!X || !y)))
        return pk_err_set(err, PK_EINVAL, "blr: NULL model or data");
    size_t d = b->d;
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * d;
        if (!isfinite(y[i]))
            return pk_err_set(err, PK_EDOM, "blr: target %zu is not finite", i);
        for (size_t j = 0; j < d; j++)
            if (!isfinite(x[j]))
                return pk_err_set(err, PK_EDOM, "blr: row %zu has a non-finite input", i);
    }
    double s = 1.0 / b->noise_var;
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * d;
        for (size_t j = 0; j < d; j++) {
            b->h[j] += s * x[j] * y[i];
            for (size_t k = 0; k < d; k++)
                b->P[j * d + k] += s * x[j] * x[k];
        }
    }
    return PK_OK;
}

int pk_cl_blr_mean(const pk_cl_blr *b, double *mean, pk_err *err)
{
    if (!b || !b->P || !mean)
        return pk_err_set(err, PK_EINVAL, "blr: NULL model or output");
    size_t d = b->d;
    pk_mat *L = pk_mat_new(d, d);
    if (!L)
        return pk_err_set(err, PK_ENOMEM, "blr: out of memory");
    memcpy(L->data, b->P, d * d * sizeof *b->P);
    int st = pk_cholesky(L, 0, 0, NULL);
    if (st == PK_OK) {
        pk_mat m = pk_mat_view(mean, d, 1);
        memcpy(mean, b->h, d * sizeof *mean);
        st = pk_cholesky_solve(L, &m);
    }
    pk_mat_free(L);
    if (st != PK_OK)
        return pk_err_set(err, st, "blr: posterior precision is not positive definite");
    return PK_OK;
}

void pk_cl_blr_free(pk_cl_blr *b)
{
    if (!b)
        return;
    free(b->P);
    free(b->h);
    b->P = b->h = NULL;
    b->d = 0;
}
