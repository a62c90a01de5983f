/* rANS and the circuit codec: exact round trips, coded size close to the
 * model's information content, and refusal of damaged or mismatched files. */
#include <stdlib.h>
#include <string.h>

#include "pk_test.h"
#include "probkit/pc.h"
#include "pc_internal.h"

static void test_rans(pk_rng *rng)
{
    enum { NS = 5000, A = 37 };
    static double p[NS][A];
    static pk_rans_table tb[NS];
    static int sym[NS];
    double info = 0;
    for (int t = 0; t < NS; t++) {
        double s = 0;
        for (int a = 0; a < A; a++) {
            /* Skewed, with some zero-probability symbols. */
            p[t][a] = (a % 5 == 3) ? 0.0 : pow(pk_rng_uniform(rng), 6.0);
            s += p[t][a];
        }
        for (int a = 0; a < A; a++)
            p[t][a] /= s;
        pk_rans_table_build(&tb[t], p[t], A);
        PK_CHECK(tb[t].cum[A] == (1u << PK_RANS_PREC));
        sym[t] = (int)pk_rng_categorical(rng, p[t], A);
        info -= log2(p[t][sym[t]]);
    }
    int minf = 1;
    for (int t = 0; t < NS; t++)
        for (int a = 0; a < A; a++)
            minf &= tb[t].freq[a] >= 1 && pk_rans_table_find(&tb[t], pk_rans_table_start(&tb[t], a)) == a &&
                    pk_rans_table_find(&tb[t], pk_rans_table_start(&tb[t], a) + tb[t].freq[a] - 1) == a;
    PK_CHECK(minf);
    for (int len = 0; len <= NS; len = len ? len * 5 : 1) {
        pk_rans_enc e;
        pk_rans_enc_init(&e);
        for (int t = len - 1; t >= 0; t--)
            pk_rans_enc_put(&e, pk_rans_table_start(&tb[t], sym[t]), tb[t].freq[sym[t]]);
        uint8_t *buf;
        size_t blen;
        PK_CHECK_OK(pk_rans_enc_finish(&e, &buf, &blen));
        pk_rans_dec d;
        PK_CHECK_OK(pk_rans_dec_init(&d, buf, blen));
        int ok = 1;
        for (int t = 0; t < len; t++) {
            int a = pk_rans_table_find(&tb[t], pk_rans_dec_peek(&d));
            ok &= a == sym[t];
            pk_rans_dec_advance(&d, pk_rans_table_start(&tb[t], a), tb[t].freq[a]);
        }
        PK_CHECK(ok);
        PK_CHECK_OK(pk_rans_dec_done(&d));
        if (len == NS) /* within 16 bytes of the information content */
            PK_CHECK_MSG(blen * 8.0 < info + 128, "%zu bytes for %.1f bits", blen, info);
        if (len > 100) { /* truncation is detected */
            pk_rans_dec d2;
            int st = pk_rans_dec_init(&d2, buf, blen - 4);
            for (int t = 0; t < len && !st && !d2.error; t++) {
                int a = pk_rans_table_find(&tb[t], pk_rans_dec_peek(&d2));
                pk_rans_dec_advance(&d2, pk_rans_table_start(&tb[t], a), tb[t].freq[a]);
            }
            PK_CHECK(st != PK_OK || pk_rans_dec_done(&d2) != PK_OK);
        }
        free(buf);
    }
    /* Degenerate inputs still give a valid table. */
    double z[4] = {0, 0, 0, 0}, nanv[3] = {NAN, 0.5, 0.5};
    pk_rans_table t1;
    pk_rans_table_build(&t1, z, 4);
    PK_CHECK(t1.cum[4] == (1u << PK_RANS_PREC) && t1.freq[0] >= 1 && t1.freq[3] >= 1);
    pk_rans_table_build(&t1, nanv, 3);
    PK_CHECK(t1.cum[3] == (1u << PK_RANS_PREC) && t1.freq[0] >= 1);
}

/* The codec's own exp/log agree with libm to ~1e-15 over the range it uses. */
static void test_exp_log(pk_rng *rng)
{
    double worst_e = 0, worst_l = 0;
    for (int i = 0; i < 200000; i++) {
        double x = -740.0 + 1449.0 * pk_rng_uniform(rng);
        double e = pc_exp(x), r = exp(x);
        if (r > 1e-300 && fabs(e - r) / r > worst_e)
            worst_e = fabs(e - r) / r;
        double y = exp(-700.0 + 1400.0 * pk_rng_uniform(rng));
        double l = pc_log(y), rl = log(y);
        double d = fabs(l - rl) / (fabs(rl) > 1 ? fabs(rl) : 1);
        if (d > worst_l)
            worst_l = d;
    }
    PK_CHECK_MSG(worst_e < 2e-15, "pc_exp relative error %g", worst_e);
    PK_CHECK_MSG(worst_l < 2e-15, "pc_log error %g", worst_l);
    PK_CHECK(pc_exp(-INFINITY) == 0 && pc_exp(0) == 1 && isinf(pc_exp(800)));
    PK_CHECK(pc_log(1) == 0 && pc_log(0) == -INFINITY && isnan(pc_log(-1)));
    PK_CHECK_CLOSE(pc_log(1e-310), log(1e-310), 1e-12, 0);
}

int main(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 5);
    pk_err err;
    test_exp_log(&rng);
    test_rans(&rng);

    /* A random tree of 48 variables, 16 levels, k = 5, as a 6 x 8 image. */
    enum { D = 48, NC = 16, N = 60 };
    int32_t parent[D];
    parent[0] = -1;
    for (int v = 1; v < D; v++)
        parent[v] = (int32_t)pk_rng_below(&rng, (uint64_t)v);
    pk_pc *pc, *other;
    PK_CHECK_OK(pk_pc_from_tree(parent, D, 5, NC, 0.95, &rng, &pc, &err));
    PK_CHECK_OK(pk_pc_from_tree(parent, D, 5, NC, 0.95, &rng, &other, &err));
    pc->height = other->height = 6;
    pc->width = other->width = 8;
    uint8_t *x = malloc(N * D);
    PK_CHECK_OK(pk_pc_sample(pc, &rng, N, x, &err));
    double ll[N], info = 0;
    PK_CHECK_OK(pk_pc_loglik(pc, x, NULL, N, ll, &err));
    pk_pc_coder *coder;
    PK_CHECK_OK(pk_pc_coder_new(pc, &coder));
    for (int i = 0; i < N; i++) {
        double bi, bn;
        PK_CHECK_OK(pk_pc_coder_chain_bits(coder, x + i * D, 0, &bi));
        PK_CHECK_OK(pk_pc_coder_chain_bits(coder, x + i * D, 1, &bn));
        PK_CHECK_CLOSE(bi, -ll[i] / log(2.0), 1e-3, 1e-6);
        /* The incremental coder mixes float-rounded input distributions
         * (relative error 6e-8), the naive path double ones. */
        PK_CHECK_CLOSE(bi, bn, 1e-6, 1e-9);
        info += bi;
    }
    pk_pc_coder_free(coder);

    for (int mode = 0; mode < 2; mode++) {
        uint8_t *buf, *y;
        size_t len, count;
        PK_CHECK_OK(pk_pc_compress(pc, x, N, (pk_pc_mode)mode, &buf, &len, &err));
        PK_CHECK_OK(pk_pc_decompress(pc, buf, len, "mem", &y, &count, &err));
        PK_CHECK(count == N && memcmp(x, y, N * D) == 0);
        free(y);
        pk_pc_container_info info_h;
        PK_CHECK_OK(pk_pc_container_info_read(buf, len, "mem", &info_h, &err));
        PK_CHECK(info_h.count == N && info_h.height == 6 && info_h.width == 8 && (int)info_h.mode == mode);
        /* Size: header 48 bytes; per image at most ~4 bytes of coder overhead. */
        double overhead = (double)len * 8 - info;
        PK_CHECK_MSG(overhead < 48 * 8 + (mode ? 64 : N * 40), "mode %d: %.0f bits over the information", mode,
                     overhead);
        if (mode == 0) {
            uint8_t one[D];
            PK_CHECK_OK(pk_pc_decompress_one(pc, buf, len, "mem", 17, one, &err));
            PK_CHECK(memcmp(one, x + 17 * D, D) == 0);
            PK_CHECK(pk_pc_decompress_one(pc, buf, len, "mem", N, one, &err) == PK_EINVAL);
        }
        /* Wrong model. */
        PK_CHECK(pk_pc_decompress(other, buf, len, "mem", &y, &count, &err) == PK_EINVAL && !y);
        PK_CHECK(strstr(err.msg, "different model") != NULL);
        /* Every truncation and every single-byte corruption is refused. */
        int accepted = 0;
        for (size_t cut = 0; cut < len; cut++)
            if (pk_pc_decompress(pc, buf, cut, "mem", &y, &count, &err) == PK_OK) {
                accepted++;
                free(y);
            }
        for (size_t pos = 0; pos < len; pos++) {
            uint8_t old = buf[pos];
            buf[pos] ^= (uint8_t)(1u << (pos % 8));
            if (pk_pc_decompress(pc, buf, len, "mem", &y, &count, &err) == PK_OK) {
                accepted++;
                free(y);
            }
            buf[pos] = old;
        }
        PK_CHECK_MSG(accepted == 0, "mode %d: %d damaged files accepted", mode, accepted);
        free(buf);
    }
    /* Pixels above the model's levels are refused. */
    x[3] = NC;
    uint8_t *buf;
    size_t len;
    PK_CHECK(pk_pc_compress(pc, x, N, PK_PC_MODE_SEPARATE, &buf, &len, &err) == PK_EINVAL);
    PK_CHECK(strstr(err.msg, "image 0 pixel 3") != NULL);
    pk_pc_free(pc);
    pk_pc_free(other);
    free(x);
    return pk_test_done();
}
