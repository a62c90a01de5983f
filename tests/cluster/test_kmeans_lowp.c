/* The bfloat16 screening of K-means assignment passes (kmeans_lowp.c): its labels must be those
 * of a brute-force double search, on near-ties at every scale (settled by the screening, by the
 * refinement, or by the double rescan), with odd d and k and n not multiples of the block sizes;
 * and a Lloyd fit must not depend on the screening precision at all. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "kmeans_priv.h"
#include "pk_test.h"
#include "probkit/cluster.h"

/* labels vs the brute-force double argmin; gaps far above double rounding must agree exactly,
 * exact midpoints (tie) must get a true nearest centre */
static size_t count_bad(const double *X, const double *C, size_t n, size_t d, size_t k, const int32_t *lab,
                        const double *dist2, const int *exact_tie, double *worst_d2)
{
    size_t bad = 0;
    *worst_d2 = 0;
    for (size_t i = 0; i < n; i++) {
        double best, dl = 0;
        int32_t bj = fx_nearest(X + i * d, C, k, d, lab[i], &best, &dl);
        bad += exact_tie[i] ? !(dl <= best * (1 + 1e-12)) : lab[i] != bj;
        double e = fabs(dist2[i] - dl) / (dl > 1e-300 ? dl : 1e-300);
        if (e > *worst_d2)
            *worst_d2 = e;
    }
    return bad;
}

int main(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 2024);
    int avail = km_lowp_available();
    fprintf(stderr, "AVX-512 BF16 screening %s on this CPU\n", avail ? "available" : "NOT available (float path only)");

    /* near-ties: points at centre midpoints, pushed off by eps of every scale, at an offset */
    {
        size_t n = 6007, d = 37, k = 13;
        double *C = malloc(k * d * sizeof(double)), *X = malloc(n * d * sizeof(double));
        double *dist2 = malloc(n * sizeof(double));
        int32_t *lab = malloc(n * sizeof(int32_t));
        int *tie = malloc(n * sizeof(int));
        for (size_t q = 0; q < k * d; q++)
            C[q] = 50.0 + 3.0 * pk_rng_normal(&rng);
        const double scales[] = {0, 1e-9, 1e-6, 1e-3, 1e-1, 1, 3};
        for (size_t i = 0; i < n; i++) {
            size_t ca = i % k, cb = (i / k + 1 + ca) % k;
            double eps = scales[i % 7] * pk_rng_normal(&rng);
            tie[i] = i % 7 == 0;
            for (size_t t = 0; t < d; t++)
                X[i * d + t] = 0.5 * (C[ca * d + t] + C[cb * d + t]) + eps * (double)(t % 5 + 1) / 5;
        }
        pk_mat Xm = pk_mat_view(X, n, d);
        km_ws ws;
        PK_CHECK_OK(km_ws_init(&ws, &Xm, k, 0));
        int on = km_ws_enable_lowp(&ws);
        PK_CHECK(on == avail);
        if (!on)
            km_ws_add_float(&ws);
        int64_t nd = 0;
        for (size_t i = 0; i < n; i++)
            lab[i] = -1;
        size_t changed = km_assign_all(&ws, C, lab, dist2, 1, 0, &nd);
        PK_CHECK(changed == n);
        double worst;
        size_t bad = count_bad(X, C, n, d, k, lab, dist2, tie, &worst);
        PK_CHECK_MSG(bad == 0, "%zu of %zu near-tie labels differ from the double argmin", bad, n);
        PK_CHECK_MSG(worst < 1e-12, "exact distances off by %g", worst);
        fprintf(stderr, "near ties: %lld open after screening, %lld after refinement, %lld double rescans\n",
                (long long)ws.screen_open, (long long)ws.refine_fail, (long long)ws.rescued);
        if (on) { /* every stage is exercised */
            PK_CHECK(ws.screen_open > 0 && ws.screen_open < (int64_t)n);
            PK_CHECK(ws.refine_fail > 0 && ws.refine_fail < ws.screen_open);
        }
        /* the non-exact pass: upper bounds on the nearest squared distance */
        double *hi = malloc(n * sizeof(double));
        for (size_t i = 0; i < n; i++)
            lab[i] = -1;
        km_assign_all(&ws, C, lab, hi, 0, 0, &nd);
        size_t below = 0;
        for (size_t i = 0; i < n; i++)
            below += hi[i] < dist2[i] * (1 - 1e-12);
        PK_CHECK_MSG(below == 0, "%zu upper bounds below the exact distance", below);
        km_ws_free(&ws);
        free(hi);
        free(C);
        free(X);
        free(dist2);
        free(lab);
        free(tie);
    }

    /* a Lloyd fit does not depend on the screening: same labels, bit-identical centres */
    {
        size_t n = 5003, d = 21, k = 11;
        double *X = malloc(n * d * sizeof(double)), *mu = malloc(k * d * sizeof(double));
        for (size_t q = 0; q < k * d; q++)
            mu[q] = 2.0 * pk_rng_normal(&rng);
        for (size_t i = 0; i < n; i++)
            for (size_t t = 0; t < d; t++)
                X[i * d + t] = mu[(i % k) * d + t] + pk_rng_normal(&rng) - 7.0;
        pk_mat Xm = pk_mat_view(X, n, d);
        pk_kmeans_params p = pk_kmeans_params_default(k);
        p.algo = PK_KMEANS_LLOYD;
        p.tol = 0;
        p.n_init = 2;
        pk_kmeans *a = NULL, *b = NULL;
        pk_rng r1, r2;
        pk_rng_seed(&r1, 9);
        r2 = r1;
        PK_CHECK_OK(pk_kmeans_fit(&Xm, &p, &r1, &a, NULL));
        p.screen = PK_KMEANS_SCREEN_FLOAT;
        PK_CHECK_OK(pk_kmeans_fit(&Xm, &p, &r2, &b, NULL));
        if (a && b) {
            PK_CHECK(a->n_iter == b->n_iter);
            PK_CHECK(memcmp(a->labels, b->labels, n * sizeof(int32_t)) == 0);
            PK_CHECK(memcmp(a->centers, b->centers, k * d * sizeof(double)) == 0);
            PK_CHECK(a->inertia == b->inertia);
            PK_CHECK(b->n_open == 0);
            PK_CHECK(avail ? a->n_open > 0 : a->n_open == 0);
            fprintf(stderr, "fit: %d iterations, %lld rows open after screening\n", a->n_iter, (long long)a->n_open);
        }
        pk_kmeans_free(a);
        pk_kmeans_free(b);
        /* an unknown screen value is refused */
        pk_err err;
        p.screen = (pk_kmeans_screen)7;
        PK_CHECK(pk_kmeans_fit(&Xm, &p, &r2, &a, &err) == PK_EINVAL && a == NULL);
        free(X);
        free(mu);
    }
    return pk_test_done();
}
