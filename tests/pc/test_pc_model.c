/* Exact inference on tiny circuits checked by enumeration: the distribution
 * sums to one, marginals with missing values, conditionals, sampling
 * frequencies, max-product completion, and the file format. */
#include <stdlib.h>
#include <string.h>

#include "pk_test.h"
#include "probkit/pc.h"

#define D 5
#define NC 3

static size_t decode_cfg(size_t idx, uint8_t *x)
{
    for (int v = 0; v < D; v++) {
        x[v] = (uint8_t)(idx % NC);
        idx /= NC;
    }
    return idx;
}

int main(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 7);
    /* A tree with a branching root and a chain: 2 -> {0, 3}, 3 -> {1, 4}. */
    int32_t parent[D] = {2, 3, -1, 2, 3};
    pk_pc *pc = NULL;
    pk_err err;
    PK_CHECK_OK(pk_pc_from_tree(parent, D, 3, NC, 0.9, &rng, &pc, &err));
    PK_CHECK(pc->root == 2 && pc->order[0] == 2);
    PK_CHECK(pk_pc_depth(pc) == 2);

    size_t ncfg = 1;
    for (int v = 0; v < D; v++)
        ncfg *= NC;
    uint8_t *all = malloc(ncfg * D);
    double *ll = malloc(ncfg * sizeof(double));
    for (size_t i = 0; i < ncfg; i++)
        decode_cfg(i, all + i * D);
    PK_CHECK_OK(pk_pc_loglik(pc, all, NULL, ncfg, ll, &err));
    double total = 0;
    for (size_t i = 0; i < ncfg; i++)
        total += exp(ll[i]);
    PK_CHECK_CLOSE(total, 1.0, 1e-5, 0);

    /* Marginal with variables 1 and 2 missing equals the sum over them. */
    uint8_t mask[D] = {1, 0, 0, 1, 1};
    uint8_t x[D] = {2, 0, 0, 1, 0};
    double lm;
    PK_CHECK_OK(pk_pc_loglik(pc, x, mask, 1, &lm, &err));
    double s = 0;
    for (size_t i = 0; i < ncfg; i++) {
        const uint8_t *r = all + i * D;
        if (r[0] == x[0] && r[3] == x[3] && r[4] == x[4])
            s += exp(ll[i]);
    }
    PK_CHECK_CLOSE(lm, log(s), 1e-5, 0);
    /* Everything missing: probability one. */
    uint8_t none[D] = {0};
    PK_CHECK_OK(pk_pc_loglik(pc, x, none, 1, &lm, &err));
    PK_CHECK_CLOSE(lm, 0.0, 1e-6, 0);

    /* Conditional p(X_1 | x_0, x_3, x_4) (X_2 missing) by enumeration. */
    double cond[NC], ref[NC] = {0};
    PK_CHECK_OK(pk_pc_conditional(pc, x, mask, 1, cond, &err));
    for (size_t i = 0; i < ncfg; i++) {
        const uint8_t *r = all + i * D;
        if (r[0] == x[0] && r[3] == x[3] && r[4] == x[4])
            ref[r[1]] += exp(ll[i]);
    }
    for (int a = 0; a < NC; a++)
        PK_CHECK_CLOSE(cond[a], ref[a] / s, 1e-6, 0);
    /* Conditional of the root given all others. */
    uint8_t mall[D] = {1, 1, 1, 1, 1};
    PK_CHECK_OK(pk_pc_conditional(pc, x, mall, 2, cond, &err));
    double z = 0;
    for (int a = 0; a < NC; a++) {
        uint8_t y[D];
        memcpy(y, x, D);
        y[2] = (uint8_t)a;
        size_t idx = 0;
        for (int v = D - 1; v >= 0; v--)
            idx = idx * NC + y[v];
        ref[a] = exp(ll[idx]);
        z += ref[a];
    }
    for (int a = 0; a < NC; a++)
        PK_CHECK_CLOSE(cond[a], ref[a] / z, 1e-6, 0);

    /* Chain rule through the coding order, incremental and naive. */
    pk_pc_coder *coder;
    PK_CHECK_OK(pk_pc_coder_new(pc, &coder));
    for (size_t i = 0; i < ncfg; i += 7) {
        double bi, bn;
        PK_CHECK_OK(pk_pc_coder_chain_bits(coder, all + i * D, 0, &bi));
        PK_CHECK_OK(pk_pc_coder_chain_bits(coder, all + i * D, 1, &bn));
        PK_CHECK_CLOSE(bi, -ll[i] / log(2.0), 1e-5, 0);
        /* Incremental mixes float-rounded input distributions (relative 6e-8). */
        PK_CHECK_CLOSE(bi, bn, 1e-7, 0);
    }
    pk_pc_coder_free(coder);

    /* Sampling frequencies against the exact probabilities (5 sigma). */
    size_t ns = 60000;
    uint8_t *smp = malloc(ns * D);
    PK_CHECK_OK(pk_pc_sample(pc, &rng, ns, smp, &err));
    size_t *cnt = calloc(ncfg, sizeof(size_t));
    for (size_t i = 0; i < ns; i++) {
        size_t idx = 0;
        for (int v = D - 1; v >= 0; v--)
            idx = idx * NC + smp[i * D + v];
        cnt[idx]++;
    }
    int bad = 0;
    for (size_t i = 0; i < ncfg; i++) {
        double p = exp(ll[i]), sd = sqrt(ns * p * (1 - p));
        if (fabs((double)cnt[i] - ns * p) > 5 * sd + 1)
            bad++;
    }
    PK_CHECK_MSG(bad == 0, "%d configurations off by more than 5 sigma", bad);

    /* Conditional sampling: X_1 given the others' evidence follows cond. */
    PK_CHECK_OK(pk_pc_conditional(pc, x, mask, 1, cond, &err));
    size_t c1[NC] = {0};
    for (int r = 0; r < 20000; r++) {
        uint8_t y[D];
        memcpy(y, x, D);
        PK_CHECK_OK(pk_pc_complete(pc, y, mask, 0, &rng, &err));
        c1[y[1]]++;
        if (y[0] != x[0] || y[3] != x[3] || y[4] != x[4])
            bad++;
    }
    PK_CHECK(bad == 0);
    for (int a = 0; a < NC; a++)
        PK_CHECK_CLOSE((double)c1[a] / 20000, cond[a], 5 * sqrt(cond[a] * (1 - cond[a]) / 20000) + 1e-3, 0);

    /* k = 1 (plain Chow-Liu tree, no latents): max-product is the exact MAP. */
    pk_pc *clt;
    PK_CHECK_OK(pk_pc_from_tree(parent, D, 1, NC, 0.9, &rng, &clt, &err));
    PK_CHECK_OK(pk_pc_loglik(clt, all, NULL, ncfg, ll, &err));
    uint8_t y[D];
    memcpy(y, x, D);
    PK_CHECK_OK(pk_pc_complete(clt, y, mask, 1, NULL, &err));
    double best = -INFINITY;
    size_t besti = 0;
    for (size_t i = 0; i < ncfg; i++) {
        const uint8_t *r = all + i * D;
        if (r[0] == x[0] && r[3] == x[3] && r[4] == x[4] && ll[i] > best) {
            best = ll[i];
            besti = i;
        }
    }
    PK_CHECK(memcmp(y, all + besti * D, D) == 0);
    pk_pc_free(clt);

    /* File format: round trip, hash, and rejection of damage. */
    uint8_t *buf;
    size_t len;
    PK_CHECK_OK(pk_pc_serialize(pc, &buf, &len, &err));
    pk_pc *back = NULL;
    PK_CHECK_OK(pk_pc_parse(buf, len, "mem", &back, &err));
    PK_CHECK(back && pk_pc_hash(back) == pk_pc_hash(pc));
    {
        /* The documented definition: FNV-1a 64 over the bytes before the CRC
         * as little-endian 64-bit words (last one zero-padded), then the length. */
        uint64_t h = 1469598103934665603ull;
        size_t body = len - 4;
        for (size_t i = 0; i < body; i += 8) {
            uint64_t w = 0;
            for (size_t b = 0; b < 8 && i + b < body; b++)
                w |= (uint64_t)buf[i + b] << (8 * b);
            h = (h ^ w) * 1099511628211ull;
        }
        h = (h ^ (uint64_t)body) * 1099511628211ull;
        PK_CHECK(h == pk_pc_hash(pc));
    }
    PK_CHECK(back && memcmp(back->theta, pc->theta, sizeof(float) * D * 3 * NC) == 0);
    pk_pc_free(back);
    back = NULL;
    PK_CHECK(pk_pc_parse(buf, len - 1, "mem", &back, &err) == PK_EFORMAT && !back);
    buf[40] ^= 0x10;
    PK_CHECK(pk_pc_parse(buf, len, "mem", &back, &err) == PK_EFORMAT && !back);
    PK_CHECK(strstr(err.msg, "checksum") != NULL);
    buf[40] ^= 0x10;
    buf[0] = 'X';
    PK_CHECK(pk_pc_parse(buf, len, "mem", &back, &err) == PK_EFORMAT && strstr(err.msg, "magic"));
    free(buf);
    /* A cyclic parent array is refused. */
    int32_t cyc[3] = {1, 2, 0};
    PK_CHECK(pk_pc_from_tree(cyc, 3, 2, 2, 0.1, &rng, &back, &err) != PK_OK);
    int32_t cyc2[4] = {-1, 2, 1, 0};
    PK_CHECK(pk_pc_from_tree(cyc2, 4, 2, 2, 0.1, &rng, &back, &err) != PK_OK);

    pk_pc_free(pc);
    free(all), free(ll), free(smp), free(cnt);
    return pk_test_done();
}
