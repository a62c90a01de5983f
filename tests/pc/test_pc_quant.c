/* Quantised parameters and the compact (version 2) circuit file: the loaded
 * circuit is bit-identical to the quantised one in memory (same hash, same
 * code lengths, decodes what the in-memory circuit encoded), quantisation is
 * idempotent, error bounds hold, EM clears the quantisation, and damaged
 * compact files are refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pk_test.h"
#include "probkit/pc.h"

#define H 4
#define W 5
#define D (H * W)
#define NC 16
#define N 300

static void fix_crc(uint8_t *b, size_t len)
{
    uint32_t crc = (uint32_t)crc32(0L, b, (uInt)(len - 4));
    for (int i = 0; i < 4; i++)
        b[len - 4 + i] = (uint8_t)(crc >> (8 * i));
}

int main(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 11);
    /* Smooth synthetic images: a random level plus a gradient. */
    uint8_t *x = malloc((size_t)N * D);
    for (size_t i = 0; i < N; i++) {
        int base = (int)(pk_rng_uniform(&rng) * 8);
        for (int v = 0; v < D; v++) {
            int val = base + (v % W) / 2 + (int)(pk_rng_uniform(&rng) * 3);
            x[i * D + v] = (uint8_t)(val < NC ? val : NC - 1);
        }
    }
    pk_err err;
    pk_pc_structure_params sp = pk_pc_structure_params_default();
    sp.k = 4;
    pk_pc *pc = NULL;
    PK_CHECK_OK(pk_pc_learn_structure(x, N, D, NC, H, W, &sp, &rng, &pc, &err));
    pk_pc_em_params ep = pk_pc_em_params_default();
    ep.epochs_mini = 3, ep.epochs_full = 1, ep.batch_size = 64;
    PK_CHECK_OK(pk_pc_em(pc, x, N, &ep, &rng, NULL, NULL, &err));
    PK_CHECK(pc->qlevels == 0);
    double b0, b1;
    PK_CHECK_OK(pk_pc_bpd(pc, x, N, &b0, &err));

    uint8_t *f1;
    size_t l1;
    PK_CHECK_OK(pk_pc_serialize(pc, &f1, &l1, &err));
    PK_CHECK(f1[4] == 1); /* unquantised: version 1 */

    /* Bad arguments. */
    PK_CHECK(pk_pc_quantize(pc, 0.0, 50, &err) == PK_EINVAL);
    PK_CHECK(pk_pc_quantize(pc, 0.3, 0, &err) == PK_EINVAL);
    PK_CHECK(pk_pc_quantize(pc, 0.3, 256, &err) == PK_EINVAL);

    /* Each entry moves by at most step/2 in log ratio to its row maximum
     * (entries below the floor excepted), so theta changes boundedly. */
    float *theta0 = malloc(sizeof(float) * (size_t)D * 4 * NC);
    memcpy(theta0, pc->theta, sizeof(float) * (size_t)D * 4 * NC);
    const double step = 0.3;
    PK_CHECK_OK(pk_pc_quantize(pc, step, 50, &err));
    PK_CHECK(pc->qlevels == 50 && pc->qstep == step);
    int bad = 0;
    for (size_t r = 0; r < (size_t)D * 4; r++) {
        const float *a = theta0 + r * NC, *b = pc->theta + r * NC;
        float ma = 0, mb = 0;
        for (int c = 0; c < NC; c++)
            ma = a[c] > ma ? a[c] : ma, mb = b[c] > mb ? b[c] : mb;
        for (int c = 0; c < NC; c++) {
            double la = log((double)a[c] / ma), lb = log((double)b[c] / mb);
            if (la > -50 * step + step && fabs(la - lb) > step / 2 + 1e-5)
                bad++;
            if (!(b[c] > 0))
                bad++;
        }
    }
    PK_CHECK(bad == 0);
    PK_CHECK_OK(pk_pc_bpd(pc, x, N, &b1, &err));
    PK_CHECK(b1 > b0 - 0.01 && b1 < b0 + 0.01);

    /* Compact file: version 2, smaller, loads bit-identically. */
    uint8_t *f2;
    size_t l2;
    PK_CHECK_OK(pk_pc_serialize(pc, &f2, &l2, &err));
    PK_CHECK(f2[4] == 2);
    PK_CHECK(l2 < l1 / 2);
    pk_pc *q = NULL;
    PK_CHECK_OK(pk_pc_parse(f2, l2, "compact", &q, &err));
    PK_CHECK(q->qlevels == 50 && q->qstep == step && q->root == pc->root);
    PK_CHECK(!memcmp(q->theta, pc->theta, sizeof(float) * (size_t)D * 4 * NC));
    PK_CHECK(!memcmp(q->root_w, pc->root_w, sizeof(float) * 4));
    PK_CHECK(pk_pc_hash(q) == pk_pc_hash(pc));
    for (int v = 0; v < D; v++)
        PK_CHECK(q->parent[v] == pc->parent[v]);
    /* Re-serialising the loaded circuit gives the same bytes. */
    uint8_t *f3;
    size_t l3;
    PK_CHECK_OK(pk_pc_serialize(q, &f3, &l3, &err));
    PK_CHECK(l3 == l2 && !memcmp(f3, f2, l2));
    free(f3);
    /* Quantising again changes nothing. */
    PK_CHECK_OK(pk_pc_quantize(q, step, 50, &err));
    PK_CHECK(!memcmp(q->theta, pc->theta, sizeof(float) * (size_t)D * 4 * NC));

    /* Encode with the in-memory circuit, decode with the loaded one. */
    uint8_t *z, *y;
    size_t lz, cnt;
    PK_CHECK_OK(pk_pc_compress(pc, x, 40, PK_PC_MODE_SEPARATE, &z, &lz, &err));
    PK_CHECK_OK(pk_pc_decompress(q, z, lz, "z", &y, &cnt, &err));
    PK_CHECK(cnt == 40 && !memcmp(y, x, 40 * D));
    free(y), free(z);

    /* Damage: a flipped payload byte (CRC patched) and a truncation are refused. */
    uint8_t *dam = malloc(l2);
    int refused = 0;
    for (size_t pos = 8; pos + 4 < l2; pos += 3) {
        memcpy(dam, f2, l2);
        dam[pos] ^= 0x5a;
        fix_crc(dam, l2);
        pk_pc *r = NULL;
        int st = pk_pc_parse(dam, l2, "damaged", &r, &err);
        if (st) {
            refused++;
            PK_CHECK(r == NULL && err.msg[0]);
        } else {
            /* A mutation zlib cannot see may still give a valid circuit. */
            PK_CHECK(r != NULL);
            pk_pc_free(r);
        }
    }
    PK_CHECK(refused > 0);
    pk_pc *r = NULL;
    PK_CHECK(pk_pc_parse(f2, l2 - 9, "short", &r, &err) == PK_EFORMAT && r == NULL);
    free(dam);

    /* Changing parameters after quantising makes saving fail; EM clears it. */
    pc->theta[3] *= 0.5f;
    PK_CHECK(pk_pc_serialize(pc, &f3, &l3, &err) == PK_EINVAL);
    ep.epochs_mini = 1, ep.epochs_full = 0;
    PK_CHECK_OK(pk_pc_em(q, x, N, &ep, &rng, NULL, NULL, &err));
    PK_CHECK(q->qlevels == 0);
    PK_CHECK_OK(pk_pc_serialize(q, &f3, &l3, &err));
    PK_CHECK(f3[4] == 1);
    free(f3);

    free(f1), free(f2), free(theta0), free(x);
    pk_pc_free(pc);
    pk_pc_free(q);
    return pk_test_done();
}
