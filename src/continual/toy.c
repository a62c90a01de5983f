/* toy.c — the paper's two-dimensional continual-learning problem.
 *
 * Ten axis-aligned Gaussian blobs; the centres and per-axis standard
 * deviations are those of the authors' toy generator, so that the five binary
 * tasks overlap the way the paper's figures show (task t: blob t vs blob t+5).
 */
#include <stdlib.h>
#include <string.h>

#include "probkit/continual.h"

static const double CENTRE[10][2] = {{0, 0.2},    {0.6, 0.9}, {1.3, 0.4}, {1.6, -0.1}, {2.0, 0.3},
                                     {0.45, 0},   {0.7, 0.45}, {1.0, 0.1}, {1.7, -0.4}, {2.3, 0.1}};
static const double SPREAD[10][2] = {{0.08, 0.22}, {0.24, 0.08}, {0.04, 0.2}, {0.16, 0.05}, {0.05, 0.16},
                                     {0.08, 0.16}, {0.16, 0.08}, {0.06, 0.16}, {0.24, 0.05}, {0.05, 0.22}};

int pk_cl_toy_blobs(size_t n, pk_rng *rng, double *X, int32_t *blob)
{
    if (!rng || (n && (!X || !blob)))
        return PK_EINVAL;
    /* n / 10 points per blob, the remainder to the first blobs (as scikit-learn's make_blobs) */
    size_t i = 0;
    for (size_t b = 0; b < 10; b++) {
        size_t m = n / 10 + (b < n % 10);
        for (size_t j = 0; j < m; j++, i++) {
            X[2 * i] = CENTRE[b][0] + SPREAD[b][0] * pk_rng_normal(rng);
            X[2 * i + 1] = CENTRE[b][1] + SPREAD[b][1] * pk_rng_normal(rng);
            blob[i] = (int32_t)b;
        }
    }
    return PK_OK;
}

/* Gather the rows of blobs t and t+5 into task t, labels 0 / 1. */
static size_t gather(const double *X, const int32_t *blob, size_t n, size_t t, double *Xo, int32_t *yo)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if ((size_t)blob[i] % 5 != t)
            continue;
        Xo[2 * m] = X[2 * i];
        Xo[2 * m + 1] = X[2 * i + 1];
        yo[m++] = blob[i] >= 5;
    }
    return m;
}

void pk_cl_toy_free(pk_cl_toy *t)
{
    if (!t)
        return;
    free(t->X);
    free(t->y);
    memset(t, 0, sizeof *t);
}

int pk_cl_toy_make(size_t n_train, size_t n_test, pk_rng *rng, pk_cl_toy *out, pk_err *err)
{
    if (!out || !rng)
        return pk_err_set(err, PK_EINVAL, "continual toy: NULL output or rng");
    memset(out, 0, sizeof *out);
    if (n_train < 20 || n_test < 20)
        return pk_err_set(err, PK_EINVAL, "continual toy: need at least 20 training and 20 test points (2 per blob)");
    size_t n = n_train + n_test;
    double *raw = malloc(n * 2 * sizeof *raw);
    int32_t *blob = malloc(n * sizeof *blob);
    out->X = malloc(n * 2 * sizeof *out->X);
    out->y = malloc(n * sizeof *out->y);
    if (!raw || !blob || !out->X || !out->y) {
        free(raw);
        free(blob);
        pk_cl_toy_free(out);
        return pk_err_set(err, PK_ENOMEM, "continual toy: out of memory");
    }
    pk_cl_toy_blobs(n_train, rng, raw, blob);
    pk_cl_toy_blobs(n_test, rng, raw + 2 * n_train, blob + n_train);
    out->T = 5;
    size_t at = 0;
    for (size_t t = 0; t < 5; t++) {
        pk_cl_task *k = out->tasks + t;
        k->Xtr = out->X + 2 * at;
        k->ytr = out->y + at;
        k->ntr = gather(raw, blob, n_train, t, out->X + 2 * at, out->y + at);
        at += k->ntr;
        k->Xte = out->X + 2 * at;
        k->yte = out->y + at;
        k->nte = gather(raw + 2 * n_train, blob + n_train, n_test, t, out->X + 2 * at, out->y + at);
        at += k->nte;
    }
    free(raw);
    free(blob);
    return PK_OK;
}
