/* A mixture of circuits on one tree as one HCLT: by enumeration its
 * likelihood is sum_c w_c p_c(x) and sums to one; the incremental coder's
 * chain rule and a compress/decompress round trip work on it; mismatched
 * components are refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pk_test.h"
#include "probkit/pc.h"

#define D 5
#define NC 3

int main(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 5);
    int32_t parent[D] = {2, 3, -1, 2, 3}, other[D] = {-1, 0, 1, 2, 3};
    pk_pc *a = NULL, *b = NULL, *c = NULL, *m = NULL;
    pk_err err;
    PK_CHECK_OK(pk_pc_from_tree(parent, D, 2, NC, 0.9, &rng, &a, &err));
    PK_CHECK_OK(pk_pc_from_tree(parent, D, 3, NC, 0.9, &rng, &b, &err));
    PK_CHECK_OK(pk_pc_from_tree(other, D, 2, NC, 0.9, &rng, &c, &err));
    const pk_pc *ab[2] = {a, b}, *ac[2] = {a, c};
    double w[2] = {0.6, 1.4}; /* normalised to 0.3, 0.7 */
    PK_CHECK(pk_pc_mixture(ac, 2, NULL, &m, &err) == PK_EINVAL && m == NULL);
    double wbad[2] = {-1, 2};
    PK_CHECK(pk_pc_mixture(ab, 2, wbad, &m, &err) == PK_EINVAL);
    PK_CHECK_OK(pk_pc_mixture(ab, 2, w, &m, &err));
    PK_CHECK(m->k == 5 && m->root == a->root);

    size_t ncfg = 1;
    for (int v = 0; v < D; v++)
        ncfg *= NC;
    uint8_t *all = malloc(ncfg * D);
    double *la = malloc(ncfg * sizeof(double)), *lb = malloc(ncfg * sizeof(double)),
           *lm = malloc(ncfg * sizeof(double));
    for (size_t i = 0; i < ncfg; i++) {
        size_t idx = i;
        for (int v = 0; v < D; v++, idx /= NC)
            all[i * D + v] = (uint8_t)(idx % NC);
    }
    PK_CHECK_OK(pk_pc_loglik(a, all, NULL, ncfg, la, &err));
    PK_CHECK_OK(pk_pc_loglik(b, all, NULL, ncfg, lb, &err));
    PK_CHECK_OK(pk_pc_loglik(m, all, NULL, ncfg, lm, &err));
    double tot = 0;
    for (size_t i = 0; i < ncfg; i++) {
        PK_CHECK_CLOSE(exp(lm[i]), 0.3 * exp(la[i]) + 0.7 * exp(lb[i]), 1e-6, 1e-5);
        tot += exp(lm[i]);
    }
    PK_CHECK_CLOSE(tot, 1.0, 1e-5, 0);
    /* A marginal (variables 0 and 4 missing) mixes the components' marginals. */
    uint8_t mask[D] = {0, 1, 1, 1, 0}, x[D] = {0, 2, 1, 0, 0};
    double ma, mb, mm;
    PK_CHECK_OK(pk_pc_loglik(a, x, mask, 1, &ma, &err));
    PK_CHECK_OK(pk_pc_loglik(b, x, mask, 1, &mb, &err));
    PK_CHECK_OK(pk_pc_loglik(m, x, mask, 1, &mm, &err));
    PK_CHECK_CLOSE(exp(mm), 0.3 * exp(ma) + 0.7 * exp(mb), 1e-6, 1e-5);

    /* The incremental coder's chain rule and an exact round trip. */
    pk_pc_coder *cd;
    PK_CHECK_OK(pk_pc_coder_new(m, &cd));
    for (size_t i = 0; i < ncfg; i += 17) {
        double bits;
        PK_CHECK_OK(pk_pc_coder_chain_bits(cd, all + i * D, 0, &bits));
        PK_CHECK_CLOSE(bits, -lm[i] / log(2.0), 1e-6, 1e-6);
    }
    pk_pc_coder_free(cd);
    uint8_t *z, *y;
    size_t lz, cnt;
    PK_CHECK_OK(pk_pc_compress(m, all, ncfg, PK_PC_MODE_STREAM, &z, &lz, &err));
    PK_CHECK_OK(pk_pc_decompress(m, z, lz, "mix", &y, &cnt, &err));
    PK_CHECK(cnt == ncfg && !memcmp(y, all, ncfg * D));
    free(z), free(y);

    free(all), free(la), free(lb), free(lm);
    pk_pc_free(a), pk_pc_free(b), pk_pc_free(c), pk_pc_free(m);
    return pk_test_done();
}
