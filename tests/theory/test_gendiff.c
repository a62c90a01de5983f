/* Generalization difficulty: the formula against scipy (tests/ref/theory_gendiff.py),
 * its trends, and the estimators on data with known answers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/theory.h"

int main(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/theory/gendiff.csv", PK_FIXTURES);
    FILE *f = fopen(path, "r");
    PK_CHECK(f != NULL);
    char line[512];
    int rows = 0;
    if (f && fgets(line, sizeof line, f)) {
        pk_gendiff_in in;
        double ref;
        while (fscanf(f, "%lf,%lf,%lf,%lf,%lf,%lf,%lf", &in.error, &in.n, &in.m, &in.R, &in.classes, &in.delta, &ref) ==
               7) {
            in.out_dim = in.classes - 1, in.B = 1;
            double b, lb;
            PK_CHECK_OK(pk_gendiff_bits(&in, &b, &lb));
            PK_CHECK_CLOSE(b, ref, 0, 1e-9);
            PK_CHECK_CLOSE(lb, log10(ref), 1e-9, 0);
            rows++;
        }
    }
    if (f)
        fclose(f);
    PK_CHECK(rows == 5);
    /* trends: more intrinsic dimensions -> more bits; more data -> fewer */
    pk_gendiff_in in = {0.01, 1000, 6, 10, 2, 1.5, 1, 1};
    double b0, b1, b2;
    PK_CHECK_OK(pk_gendiff_bits(&in, &b0, NULL));
    in.m = 8;
    PK_CHECK_OK(pk_gendiff_bits(&in, &b1, NULL));
    in.m = 6, in.n = 100000;
    PK_CHECK_OK(pk_gendiff_bits(&in, &b2, NULL));
    PK_CHECK(b1 > b0 && b2 < b0);
    in.error = 0;
    PK_CHECK(pk_gendiff_bits(&in, &b0, NULL) == PK_EINVAL);

    /* Levina-Bickel: points uniform in a 3-dimensional cube embedded in R^10 */
    pk_rng r;
    pk_rng_seed(&r, 2);
    pk_mat *X = pk_mat_new(4000, 10);
    int *lab = malloc(4000 * sizeof *lab);
    for (size_t i = 0; i < 4000; i++) {
        double u[3] = {pk_rng_uniform(&r), pk_rng_uniform(&r), pk_rng_uniform(&r)};
        for (int j = 0; j < 10; j++)
            *pk_mat_at(X, i, j) = u[j % 3] * (1 + 0.3 * j) + (j >= 3 ? 0.5 * u[(j + 1) % 3] : 0);
        lab[i] = u[0] > 0.5;
    }
    double m;
    PK_CHECK_OK(pk_levina_bickel(X, 500, 10, &r, &m));
    PK_CHECK_MSG(fabs(m - 3) < 0.35, "intrinsic dimension %g (3)", m);
    /* separation: classes split at u0 = 0.5 -> tiny delta; radius is the largest norm */
    double delta;
    PK_CHECK_OK(pk_class_separation(X, lab, 1000, 0, &r, &delta));
    PK_CHECK(delta > 0 && delta < 0.2);
    /* the extreme-value extrapolation lies below the sampled minimum over all pairs it saw */
    double de;
    PK_CHECK_OK(pk_class_separation_evt(X, lab, 20000, 200, &r, &de));
    PK_CHECK(de > 0 && de < 0.2);
    PK_CHECK(pk_class_separation_evt(X, lab, 100, 200, &r, &de) == PK_EINVAL);
    /* extrapolating to a larger population (same pair draws) can only lower the estimate */
    pk_rng r1, r2;
    pk_rng_seed(&r1, 9), pk_rng_seed(&r2, 9);
    double d0, d6;
    PK_CHECK_OK(pk_class_separation_evt_pop(X, lab, 20000, 200, 0, &r1, &d0));
    PK_CHECK_OK(pk_class_separation_evt_pop(X, lab, 20000, 200, 6 * 4000, &r2, &d6));
    PK_CHECK_MSG(d6 <= d0 && d6 > 0, "population 24000: %g, 4000: %g", d6, d0);
    PK_CHECK(pk_class_separation_evt_pop(X, lab, 20000, 200, -1, &r1, &d0) == PK_EINVAL);
    double R = pk_data_radius(X);
    PK_CHECK(R > 0);
    for (size_t i = 0; i < 4000; i++)
        PK_CHECK(pk_dot(pk_mat_at(X, i, 0), pk_mat_at(X, i, 0), 10) <= R * R * (1 + 1e-12));
    pk_mat_free(X);
    free(lab);
    return pk_test_done();
}
