/* Exact class separation (pruned blocked GEMM) against a brute-force double
 * loop over all pairs: same distance, same pair, across tile boundaries, with
 * and without projection, with duplicates and min_dist. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/theory.h"

static void brute(const pk_mat *X, const int *lab, double min_dist, double *d, size_t *pi, size_t *pj)
{
    double best = INFINITY;
    *pi = *pj = SIZE_MAX;
    for (size_t i = 0; i < X->rows; i++)
        for (size_t j = 0; j < i; j++) {
            if (lab[i] == lab[j])
                continue;
            const double *x = pk_mat_at(X, i, 0), *y = pk_mat_at(X, j, 0);
            double s = 0;
            for (size_t c = 0; c < X->cols; c++)
                s += (x[c] - y[c]) * (x[c] - y[c]);
            /* ties to the smallest (i, j), i the larger index, as documented */
            if (s >= min_dist * min_dist && (s < best || (s == best && (i < *pj || (i == *pj && j < *pi)))))
                best = s, *pi = j, *pj = i;
        }
    *d = sqrt(best);
}

/* clustered data: class centres apart, points scattered around them, a few
 * coordinates with large spread so the projection matters */
static pk_mat *make(size_t n, size_t d, int classes, pk_rng *r, int *lab)
{
    pk_mat *X = pk_mat_new(n, d);
    for (size_t i = 0; i < n; i++) {
        lab[i] = (int)pk_rng_below(r, (uint64_t)classes);
        for (size_t c = 0; c < d; c++)
            *pk_mat_at(X, i, c) = (c < 3 ? 3.0 : 0.5) * pk_rng_normal(r) + (c == (size_t)lab[i] % d ? 2.0 : 0.0);
    }
    return X;
}

static void check_case(const pk_mat *X, const int *lab, size_t p, double min_dist)
{
    double dref, d;
    size_t pi, pj, pair[2] = {0, 0}, chk = 0;
    brute(X, lab, min_dist, &dref, &pi, &pj);
    PK_CHECK_OK(pk_class_separation_exact(X, lab, p, min_dist, &d, pair, &chk));
    PK_CHECK_MSG(d == dref, "p = %zu: %.17g vs brute force %.17g", p, d, dref);
    PK_CHECK_MSG(pair[0] == pi && pair[1] == pj, "p = %zu: pair (%zu, %zu) vs (%zu, %zu)", p, pair[0], pair[1], pi, pj);
    PK_CHECK(chk >= 1);
}

int main(void)
{
    pk_rng r;
    pk_rng_seed(&r, 11);
    /* spans several 512-row tiles and two 4096-column tiles */
    size_t n = 4700, d = 12;
    int *lab = malloc(n * sizeof *lab);
    pk_mat *X = make(n, d, 4, &r, lab);
    static const size_t ps[] = {0, 1, 3, 8, 12, 50};
    for (size_t t = 0; t < sizeof ps / sizeof *ps; t++)
        check_case(X, lab, ps[t], 0);
    /* the projection prunes: far fewer exact checks than differently labelled pairs */
    double dd;
    size_t chk = 0;
    PK_CHECK_OK(pk_class_separation_exact(X, lab, 3, 0, &dd, NULL, &chk));
    PK_CHECK_MSG(chk < n * n / 200, "%zu exact checks of %zu pairs", chk, n * (n - 1) / 2);

    /* a duplicated point with a conflicting label: distance 0, or skipped by min_dist */
    for (size_t c = 0; c < d; c++)
        *pk_mat_at(X, 4000, c) = *pk_mat_at(X, 17, c);
    lab[4000] = lab[17] == 0 ? 1 : 0;
    check_case(X, lab, 3, 0);
    PK_CHECK_OK(pk_class_separation_exact(X, lab, 3, 0, &dd, NULL, NULL));
    PK_CHECK(dd == 0);
    check_case(X, lab, 3, 1e-9);
    check_case(X, lab, 0, 0.3);
    pk_mat_free(X);
    free(lab);

    /* small and high-dimensional (d > n), wide scale range (pixel-like values) */
    n = 300, d = 400;
    lab = malloc(n * sizeof *lab);
    X = make(n, d, 10, &r, lab);
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < d; c++)
            *pk_mat_at(X, i, c) = 200.0 + 30.0 * *pk_mat_at(X, i, c);
    check_case(X, lab, 0, 0);
    check_case(X, lab, 32, 0);

    /* one class only, bad arguments */
    for (size_t i = 0; i < n; i++)
        lab[i] = 3;
    PK_CHECK(pk_class_separation_exact(X, lab, 8, 0, &dd, NULL, NULL) == PK_EDOM);
    PK_CHECK(pk_class_separation_exact(X, NULL, 8, 0, &dd, NULL, NULL) == PK_EINVAL);
    PK_CHECK(pk_class_separation_exact(X, lab, 8, -1, &dd, NULL, NULL) == PK_EINVAL);
    pk_mat_free(X);
    free(lab);
    return pk_test_done();
}
