/* pc_quant.c — quantised circuit parameters and the compact (version 2)
 * circuit file.
 *
 * Every probability row (root weights, each input distribution theta_v[j][.],
 * each sum row W_v[i][.]) is stored as small integers q in [0, L] with
 *   p[a] = exp(-q[a] * step) / sum_b exp(-q[b] * step),
 * i.e. log-probabilities relative to the row's largest entry, rounded to a
 * grid of `step` nats and clamped at L * step nats below the maximum (such
 * entries are "dropped" to one shared floor value, never to zero, so every
 * symbol stays codable).  Rounding in the log domain keeps the relative error
 * of every entry below step / 2, so the expected code length grows by about
 * step^2 / 24 nats per pixel, whatever the entry's size.
 *
 * pk_pc_quantize replaces the float parameters by the dequantised ones, so
 * the in-memory circuit used to compress is bit-identical to the circuit the
 * decoder loads from the compact file: both come from the same q through
 * pc_dequant_row (platform-independent pc_exp, double sums, one rounding to
 * float).  The serialiser recovers q from the floats (the ratios to the row
 * maximum are exp(-q step) within float rounding) and checks that they
 * dequantise to exactly the stored floats. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pc_internal.h"

#define PCQ_MAGIC "PKPC"
#define PCQ_HEADER 52 /* magic, version, 5 sizes, f64 step, u32 levels, u64 raw length, u32 zlib length */

/* exp(-q step) for q = 0..L: shared by quantiser and loader. */
static void dq_table(double step, int levels, double *tab)
{
    for (int q = 0; q <= levels; q++)
        tab[q] = pc_exp(-(double)q * step);
}

static void dequant_row(const uint8_t *q, size_t n, const double *tab, float *out)
{
    double s = 0;
    for (size_t a = 0; a < n; a++)
        s += tab[q[a]];
    for (size_t a = 0; a < n; a++)
        out[a] = (float)(tab[q[a]] / s);
}

/* q from a float row; the largest entry gets 0. */
static void quant_row(const float *p, size_t n, double step, int levels, uint8_t *q)
{
    float m = 0;
    for (size_t a = 0; a < n; a++)
        if (p[a] > m)
            m = p[a];
    for (size_t a = 0; a < n; a++) {
        if (!(p[a] > 0) || !(m > 0)) {
            q[a] = (uint8_t)levels;
            continue;
        }
        double t = -log((double)p[a] / (double)m) / step;
        q[a] = t >= levels - 0.5 ? (uint8_t)levels : (uint8_t)floor(t + 0.5);
    }
}

/* The rows of a circuit in file order: root weights, then per variable its
 * k input rows and (inner, non-root) its k sum rows. */
typedef struct row_iter {
    const pk_pc *pc;
    int v, j, stage; /* stage 0 root, 1 theta, 2 weight */
} row_iter;

static int row_next(row_iter *it, float **row, size_t *n, int *is_theta)
{
    const pk_pc *pc = it->pc;
    size_t k = (size_t)pc->k, nc = (size_t)pc->ncat;
    for (;;) {
        if (it->stage == 0) {
            it->stage = 1, it->v = 0, it->j = 0;
            *row = pc->root_w, *n = k, *is_theta = 0;
            return 1;
        }
        if (it->v >= pc->nvars)
            return 0;
        int v = it->v, j = it->j;
        if (it->stage == 1) {
            *row = pc->theta + ((size_t)v * k + (size_t)j) * nc, *n = nc, *is_theta = 1;
            if (++it->j == pc->k) {
                it->j = 0;
                if (v != pc->root && !pc_is_leaf(pc, v))
                    it->stage = 2;
                else
                    it->v++;
            }
            return 1;
        }
        *row = pc->weight + ((size_t)v * k + (size_t)j) * k, *n = k, *is_theta = 0;
        if (++it->j == pc->k)
            it->j = 0, it->stage = 1, it->v++;
        return 1;
    }
}

static int quant_args_ok(double step, int levels)
{
    return step >= 1e-3 && step <= 4 && levels >= 1 && levels <= 255;
}

int pk_pc_quantize(pk_pc *pc, double step, int levels, pk_err *err)
{
    if (!pc)
        return pk_err_set(err, PK_EINVAL, "pk_pc_quantize: NULL circuit");
    if (!quant_args_ok(step, levels))
        return pk_err_set(err, PK_EINVAL, "quantisation step %g / levels %d out of range ([0.001, 4] nats, 1..255)",
                          step, levels);
    double tab[256];
    dq_table(step, levels, tab);
    uint8_t q[1024];
    row_iter it = {pc, 0, 0, 0};
    float *row;
    size_t n;
    int th;
    while (row_next(&it, &row, &n, &th)) {
        quant_row(row, n, step, levels, q);
        dequant_row(q, n, tab, row);
    }
    pc->qstep = step;
    pc->qlevels = levels;
    return PK_OK;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}
static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* Size of the uncompressed payload: parent offsets, then one byte per parameter. */
static size_t raw_size(const pk_pc *pc)
{
    size_t k = (size_t)pc->k, n = 4 * (size_t)pc->nvars + k;
    for (int v = 0; v < pc->nvars; v++)
        n += k * (size_t)pc->ncat + (v != pc->root && !pc_is_leaf(pc, v) ? k * k : 0);
    return n;
}

/* Input rows are smooth along the intensity axis: store the first value and
 * then differences modulo 256 (zlib sees long runs of small values). */
int pc_serialize_compact(const pk_pc *pc, uint8_t **buf, size_t *len, pk_err *err)
{
    size_t nraw = raw_size(pc);
    uint8_t *raw = malloc(nraw);
    if (!raw)
        return pk_err_set(err, PK_ENOMEM, "out of memory serialising the circuit");
    for (int v = 0; v < pc->nvars; v++)
        put32(raw + 4 * (size_t)v, (uint32_t)(pc->parent[v] - v));
    double tab[256];
    dq_table(pc->qstep, pc->qlevels, tab);
    uint8_t *o = raw + 4 * (size_t)pc->nvars;
    float chk[1024];
    row_iter it = {pc, 0, 0, 0};
    float *row;
    size_t n;
    int th;
    while (row_next(&it, &row, &n, &th)) {
        quant_row(row, n, pc->qstep, pc->qlevels, o);
        dequant_row(o, n, tab, chk);
        if (memcmp(chk, row, n * sizeof(float)) != 0) {
            free(raw);
            return pk_err_set(err, PK_EINVAL,
                              "circuit parameters changed after pk_pc_quantize: quantise again before saving");
        }
        if (th)
            for (size_t a = n - 1; a > 0; a--)
                o[a] = (uint8_t)(o[a] - o[a - 1]);
        o += n;
    }
    uLongf zcap = compressBound((uLong)nraw);
    uint8_t *b = malloc(PCQ_HEADER + (size_t)zcap + 4);
    if (!b) {
        free(raw);
        return pk_err_set(err, PK_ENOMEM, "out of memory serialising the circuit");
    }
    int zst = compress2(b + PCQ_HEADER, &zcap, raw, (uLong)nraw, 6); /* 9 is ~3x slower for ~3% */
    free(raw);
    if (zst != Z_OK) {
        free(b);
        return pk_err_set(err, PK_ENOMEM, "zlib failed (%d) compressing the circuit", zst);
    }
    memcpy(b, PCQ_MAGIC, 4);
    put32(b + 4, 2);
    int32_t hdr[5] = {pc->nvars, pc->k, pc->ncat, pc->height, pc->width};
    for (int i = 0; i < 5; i++)
        put32(b + 8 + 4 * i, (uint32_t)hdr[i]);
    uint64_t sb;
    memcpy(&sb, &pc->qstep, 8);
    put64(b + 28, sb);
    put32(b + 36, (uint32_t)pc->qlevels);
    put64(b + 40, (uint64_t)nraw);
    put32(b + 48, (uint32_t)zcap);
    size_t tot = PCQ_HEADER + (size_t)zcap;
    put32(b + tot, (uint32_t)crc32(0L, b, (uInt)tot));
    *buf = b;
    *len = tot + 4;
    return PK_OK;
}

/* Called by pk_pc_parse for version 2 after the magic, version and CRC were checked. */
int pc_parse_compact(const uint8_t *buf, size_t len, const char *name, pk_pc **out, pk_err *err)
{
    if (len < PCQ_HEADER + 4)
        return pk_err_set(err, PK_EFORMAT, "%s: truncated compact circuit header", name);
    int32_t nvars = (int32_t)get32(buf + 8), k = (int32_t)get32(buf + 12), ncat = (int32_t)get32(buf + 16);
    int32_t h = (int32_t)get32(buf + 20), w = (int32_t)get32(buf + 24);
    uint64_t sb = get64(buf + 28), nraw = get64(buf + 40);
    double step;
    memcpy(&step, &sb, 8);
    int levels = (int)get32(buf + 36);
    size_t zlen = get32(buf + 48);
    if (nvars < 1 || nvars > (1 << 24) || k < 1 || k > 1024 || ncat < 2 || ncat > 256)
        return pk_err_set(err, PK_EFORMAT, "%s: sizes out of range (nvars %d, k %d, ncat %d)", name, nvars, k, ncat);
    if (h < 0 || w < 0 || ((h || w) && (int64_t)h * w != nvars))
        return pk_err_set(err, PK_EFORMAT, "%s: geometry %dx%d does not match %d variables", name, h, w, nvars);
    if (!quant_args_ok(step, levels))
        return pk_err_set(err, PK_EFORMAT, "%s: quantisation step %g / levels %d out of range", name, step, levels);
    if (zlen != len - PCQ_HEADER - 4)
        return pk_err_set(err, PK_EFORMAT, "%s: size %zu bytes does not match the stored payload length %zu", name,
                          len, zlen);
    /* Bounds before allocating: the payload size follows from the sizes up to
     * the number of inner nodes, and zlib expands at most ~1032:1. */
    uint64_t lo = 4 * (uint64_t)nvars + (uint64_t)k + (uint64_t)nvars * (uint64_t)k * (uint64_t)ncat;
    uint64_t hi = lo + (uint64_t)nvars * (uint64_t)k * (uint64_t)k;
    if (nraw < lo || nraw > hi || nraw > 1040 * (uint64_t)zlen + 64)
        return pk_err_set(err, PK_EFORMAT, "%s: payload length %llu impossible for %d variables, k = %d", name,
                          (unsigned long long)nraw, nvars, k);
    uint8_t *raw = malloc((size_t)nraw);
    if (!raw)
        return pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
    uLongf got = (uLongf)nraw;
    int zst = uncompress(raw, &got, buf + PCQ_HEADER, (uLong)zlen);
    if (zst != Z_OK || got != (uLongf)nraw) {
        free(raw);
        return pk_err_set(err, PK_EFORMAT, "%s: corrupted compressed parameters (zlib %d)", name, zst);
    }
    pk_pc *pc;
    int st = pc_alloc(nvars, k, ncat, &pc, err);
    if (st) {
        free(raw);
        return st;
    }
    pc->height = h, pc->width = w;
    for (int v = 0; v < nvars; v++)
        pc->parent[v] = (int32_t)(get32(raw + 4 * (size_t)v) + (uint32_t)v);
    st = pc_build_topology(pc, err);
    if (st)
        pk_err_prefix(err, "%s: ", name);
    else if (raw_size(pc) != nraw)
        st = pk_err_set(err, PK_EFORMAT, "%s: payload length %llu, expected %zu for this tree", name,
                        (unsigned long long)nraw, raw_size(pc));
    double tab[256];
    dq_table(step, levels, tab);
    /* Sum rows of leaves and of the root are unused: uniform, as in version 1. */
    for (size_t i = 0; i < (size_t)nvars * (size_t)k * (size_t)k; i++)
        pc->weight[i] = 1.0f / (float)k;
    uint8_t *q = raw + 4 * (size_t)nvars;
    row_iter it = {pc, 0, 0, 0};
    float *row;
    size_t n;
    int th;
    while (!st && row_next(&it, &row, &n, &th)) {
        if (th)
            for (size_t a = 1; a < n; a++)
                q[a] = (uint8_t)(q[a] + q[a - 1]);
        int zero = 0;
        for (size_t a = 0; a < n && !st; a++) {
            if (q[a] > levels)
                st = pk_err_set(err, PK_EFORMAT, "%s: quantised parameter %u above the %d levels", name, q[a], levels);
            zero |= q[a] == 0;
        }
        if (!st && !zero)
            st = pk_err_set(err, PK_EFORMAT, "%s: a quantised row has no entry at level 0", name);
        if (!st)
            dequant_row(q, n, tab, row);
        q += n;
    }
    free(raw);
    if (st) {
        pk_pc_free(pc);
        return st;
    }
    pc->qstep = step;
    pc->qlevels = levels;
    *out = pc;
    return PK_OK;
}
