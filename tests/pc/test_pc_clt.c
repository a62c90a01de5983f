/* Kernel-smoothed plain Chow-Liu tree tables against the scipy reference
 * (tests/ref/pc_clt_kde.py writes tests/fixtures/pc/clt_kde.txt). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pk_test.h"
#include "probkit/pc.h"

enum { NC = 16, D = 5, N = 300 };

/* The generator of the reference script: a chain that mostly drifts by -2..2,
 * with 10% saturated values. */
static void gen(uint8_t *x)
{
    uint64_t s = 12345;
    for (int r = 0; r < N; r++)
        for (int v = 0; v < D; v++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            uint64_t u = s >> 33;
            int val;
            if (v == 0)
                val = (int)(u % NC);
            else if (u % 10 == 0)
                val = (u / 10) % 2 == 0 ? 0 : NC - 1;
            else {
                val = x[r * D + v - 1] + (int)((u / 10) % 5) - 2;
                val = val < 0 ? 0 : val > NC - 1 ? NC - 1 : val;
            }
            x[r * D + v] = (uint8_t)val;
        }
}

int main(void)
{
    uint8_t x[N * D];
    gen(x);
    int32_t parent[D] = {-1, 0, 1, 2, 3};
    pk_err err = {0};
    pk_rng rng;
    pk_rng_seed(&rng, 1);
    pk_pc *tree = NULL;
    PK_CHECK_OK(pk_pc_from_tree(parent, D, 1, NC, 0.0, &rng, &tree, &err));
    FILE *f = fopen(PK_FIXTURES "/pc/clt_kde.txt", "r");
    PK_CHECK(f != NULL);
    int lines = 0;
    double sa, sb, fl, want;
    int keep;
    while (f && fscanf(f, "%lf %lf %lf %d %lf", &sa, &sb, &fl, &keep, &want) == 5) {
        pk_pc_clt_params cp = {sa, sb, fl, keep};
        double got = NAN;
        PK_CHECK_OK(pk_pc_clt_bpd(tree, x, N, x, N, &cp, &got, &err));
        PK_CHECK_CLOSE(got, want, 1e-10, 1e-10);
        lines++;
    }
    if (f)
        fclose(f);
    PK_CHECK(lines == 4);

    /* Smoothing that suits the data beats plain counting on held-out rows. */
    pk_pc_clt_params plain = {0, 0, 0.5, 0}, kde = {1.0, 1.0, 0.05, 1};
    double bp, bk;
    PK_CHECK_OK(pk_pc_clt_bpd(tree, x, N / 3, x + (N / 3) * D, N - N / 3, &plain, &bp, &err));
    PK_CHECK_OK(pk_pc_clt_bpd(tree, x, N / 3, x + (N / 3) * D, N - N / 3, &kde, &bk, &err));
    PK_CHECK(bk < bp);

    /* Bad parameters and values out of range are refused. */
    pk_pc_clt_params bad = pk_pc_clt_params_default();
    bad.sigma_child = NAN;
    PK_CHECK(pk_pc_clt_bpd(tree, x, N, x, N, &bad, &bp, &err) == PK_EINVAL);
    PK_CHECK(strstr(err.msg, "sigma_child") != NULL);
    uint8_t y[D] = {0, 1, 2, 3, NC};
    PK_CHECK(pk_pc_clt_bpd(tree, x, N, y, 1, &kde, &bp, &err) == PK_EINVAL);
    pk_pc_free(tree);
    return pk_test_done();
}
