/* pc_model.c — the HCLT circuit object: construction from a tree, random
 * initial parameters, the binary file format and its hash. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pc_internal.h"
#include "probkit/io.h"

void pk_pc_free(pk_pc *pc)
{
    if (!pc)
        return;
    free(pc->parent);
    free(pc->order);
    free(pc->child_start);
    free(pc->children);
    free(pc->theta);
    free(pc->weight);
    free(pc->root_w);
    free(pc);
}

/* Children lists, the root and the pre-order from parent[]; fails if parent[]
 * is not a tree (one root, no cycles, indices in range). */
int pc_build_topology(pk_pc *pc, pk_err *err)
{
    int D = pc->nvars;
    pc->root = -1;
    for (int v = 0; v < D; v++) {
        int p = pc->parent[v];
        if (p == -1) {
            if (pc->root >= 0)
                return pk_err_set(err, PK_EFORMAT, "tree has two roots (%d and %d)", pc->root, v);
            pc->root = v;
        } else if (p < 0 || p >= D || p == v) {
            return pk_err_set(err, PK_EFORMAT, "variable %d has invalid parent %d", v, p);
        }
    }
    if (pc->root < 0)
        return pk_err_set(err, PK_EFORMAT, "tree has no root");
    pc->child_start = calloc((size_t)D + 1, sizeof(int32_t));
    pc->children = malloc(sizeof(int32_t) * (size_t)(D > 1 ? D - 1 : 1));
    pc->order = malloc(sizeof(int32_t) * (size_t)D);
    int32_t *fill = calloc((size_t)D, sizeof(int32_t));
    int32_t *stack = malloc(sizeof(int32_t) * (size_t)D);
    if (!pc->child_start || !pc->children || !pc->order || !fill || !stack) {
        free(fill);
        free(stack);
        return pk_err_set(err, PK_ENOMEM, "out of memory building the tree");
    }
    for (int v = 0; v < D; v++)
        if (pc->parent[v] >= 0)
            pc->child_start[pc->parent[v] + 1]++;
    for (int v = 0; v < D; v++)
        pc->child_start[v + 1] += pc->child_start[v];
    for (int v = 0; v < D; v++) { /* increasing v: children sorted */
        int p = pc->parent[v];
        if (p >= 0)
            pc->children[pc->child_start[p] + fill[p]++] = v;
    }
    /* Iterative pre-order; a node reached twice or never means a cycle. */
    int sp = 0, n = 0;
    stack[sp++] = pc->root;
    while (sp > 0) {
        int v = stack[--sp];
        if (n >= D)
            break;
        pc->order[n++] = v;
        for (int c = pc->child_start[v + 1] - 1; c >= pc->child_start[v]; c--) {
            if (sp >= D) {
                n = D + 1;
                break;
            }
            stack[sp++] = pc->children[c];
        }
    }
    free(fill);
    free(stack);
    if (n != D)
        return pk_err_set(err, PK_EFORMAT, "parent array is not a tree (cycle or unreachable variables)");
    return PK_OK;
}

int pc_alloc(int nvars, int k, int ncat, pk_pc **out, pk_err *err)
{
    *out = NULL;
    if (nvars < 1 || nvars > (1 << 24) || k < 1 || k > 1024 || ncat < 2 || ncat > 256)
        return pk_err_set(err, PK_EINVAL, "circuit sizes out of range (nvars %d, k %d, ncat %d)", nvars, k, ncat);
    pk_pc *pc = calloc(1, sizeof *pc);
    if (!pc)
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    pc->nvars = nvars;
    pc->k = k;
    pc->ncat = ncat;
    pc->parent = malloc(sizeof(int32_t) * (size_t)nvars);
    pc->theta = malloc(sizeof(float) * (size_t)nvars * (size_t)k * (size_t)ncat);
    pc->weight = malloc(sizeof(float) * (size_t)nvars * (size_t)k * (size_t)k);
    pc->root_w = malloc(sizeof(float) * (size_t)k);
    if (!pc->parent || !pc->theta || !pc->weight || !pc->root_w) {
        pk_pc_free(pc);
        return pk_err_set(err, PK_ENOMEM, "out of memory for a circuit of %d variables, k = %d", nvars, k);
    }
    *out = pc;
    return PK_OK;
}

static void random_rows(float *a, size_t rows, size_t cols, double pert, pk_rng *rng)
{
    for (size_t r = 0; r < rows; r++) {
        double s = 0;
        for (size_t c = 0; c < cols; c++) {
            double u = rng ? 1.0 + pert * (2.0 * pk_rng_uniform(rng) - 1.0) : 1.0;
            a[r * cols + c] = (float)u;
            s += u;
        }
        for (size_t c = 0; c < cols; c++)
            a[r * cols + c] = (float)(a[r * cols + c] / s);
    }
}

int pk_pc_from_tree(const int32_t *parent, int nvars, int k, int ncat, double init_perturbation, pk_rng *rng,
                    pk_pc **out, pk_err *err)
{
    if (!parent || !out || !(init_perturbation >= 0 && init_perturbation < 1))
        return pk_err_set(err, PK_EINVAL, "pk_pc_from_tree: bad argument");
    pk_pc *pc;
    int st = pc_alloc(nvars, k, ncat, &pc, err);
    if (st)
        return st;
    memcpy(pc->parent, parent, sizeof(int32_t) * (size_t)nvars);
    st = pc_build_topology(pc, err);
    if (st) {
        pk_pc_free(pc);
        return st == PK_EFORMAT ? PK_EINVAL : st;
    }
    random_rows(pc->theta, (size_t)nvars * (size_t)k, (size_t)ncat, init_perturbation, rng);
    random_rows(pc->weight, (size_t)nvars * (size_t)k, (size_t)k, init_perturbation, rng);
    random_rows(pc->root_w, 1, (size_t)k, init_perturbation, rng);
    *out = pc;
    return PK_OK;
}

size_t pk_pc_num_params(const pk_pc *pc)
{
    size_t k = (size_t)pc->k, n = k - 1;
    for (int v = 0; v < pc->nvars; v++) {
        n += k * (size_t)(pc->ncat - 1);
        if (v != pc->root && !pc_is_leaf(pc, v))
            n += k * (k - 1);
    }
    return n;
}

int pk_pc_depth(const pk_pc *pc)
{
    int best = 0;
    for (int v = 0; v < pc->nvars; v++) {
        int d = 0;
        for (int u = v; pc->parent[u] >= 0; u = pc->parent[u])
            d++;
        if (d > best)
            best = d;
    }
    return best;
}

/* ---- file format ----------------------------------------------------------------
 * little-endian:  "PKPC" u32 version=1  i32 nvars k ncat height width
 *                 i32 parent[nvars]  f32 root_w[k]
 *                 for v in 0..nvars-1: f32 theta_v[k][ncat]; if v inner and not root: f32 W_v[k][k]
 *                 u32 crc32 of all preceding bytes */
#define PC_MAGIC "PKPC"
#define PC_VERSION 1u
#define PC_VERSION_COMPACT 2u /* quantised parameters, zlib (pc_quant.c) */

typedef struct wbuf {
    uint8_t *p;
    size_t n, cap;
    int oom;
} wbuf;

static void put(wbuf *b, const void *src, size_t len)
{
    if (b->oom)
        return;
    if (b->n + len > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 4096;
        while (nc < b->n + len)
            nc *= 2;
        uint8_t *q = realloc(b->p, nc);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = nc;
    }
    memcpy(b->p + b->n, src, len);
    b->n += len;
}
static void put_u32(wbuf *b, uint32_t v)
{
    uint8_t t[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, t, 4);
}
static void put_f32s(wbuf *b, const float *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &f[i], 4);
        put_u32(b, u);
    }
}
static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int pk_pc_serialize(const pk_pc *pc, uint8_t **buf, size_t *len, pk_err *err)
{
    if (pc->qlevels > 0)
        return pc_serialize_compact(pc, buf, len, err);
    wbuf b = {0};
    size_t k = (size_t)pc->k, nc = (size_t)pc->ncat;
    put(&b, PC_MAGIC, 4);
    put_u32(&b, PC_VERSION);
    int32_t hdr[5] = {pc->nvars, pc->k, pc->ncat, pc->height, pc->width};
    for (int i = 0; i < 5; i++)
        put_u32(&b, (uint32_t)hdr[i]);
    for (int v = 0; v < pc->nvars; v++)
        put_u32(&b, (uint32_t)pc->parent[v]);
    put_f32s(&b, pc->root_w, k);
    for (int v = 0; v < pc->nvars; v++) {
        put_f32s(&b, pc->theta + (size_t)v * k * nc, k * nc);
        if (v != pc->root && !pc_is_leaf(pc, v))
            put_f32s(&b, pc->weight + (size_t)v * k * k, k * k);
    }
    uint32_t crc = b.oom ? 0 : (uint32_t)crc32(0L, b.p, (uInt)b.n);
    put_u32(&b, crc);
    if (b.oom) {
        free(b.p);
        return pk_err_set(err, PK_ENOMEM, "out of memory serialising the circuit");
    }
    *buf = b.p;
    *len = b.n;
    return PK_OK;
}

/* Read n floats that must form probability rows of length `cols`. */
static int read_rows(const uint8_t **p, float *dst, size_t rows, size_t cols, const char *name, const char *what,
                     int v, pk_err *err)
{
    for (size_t r = 0; r < rows; r++) {
        double s = 0;
        for (size_t c = 0; c < cols; c++) {
            uint32_t u = get_u32(*p);
            *p += 4;
            float f;
            memcpy(&f, &u, 4);
            if (!(f >= 0.0f && f <= 1.0f))
                return pk_err_set(err, PK_EFORMAT, "%s: %s of variable %d row %zu holds %g (not a probability)",
                                  name, what, v, r, (double)f);
            dst[r * cols + c] = f;
            s += f;
        }
        if (fabs(s - 1.0) > 1e-3)
            return pk_err_set(err, PK_EFORMAT, "%s: %s of variable %d row %zu sums to %g, not 1", name, what, v, r,
                              s);
    }
    return PK_OK;
}

int pk_pc_parse(const uint8_t *buf, size_t len, const char *name, pk_pc **out, pk_err *err)
{
    *out = NULL;
    if (!name)
        name = "circuit";
    if (len < 32 || memcmp(buf, PC_MAGIC, 4) != 0)
        return pk_err_set(err, PK_EFORMAT, "%s: not a probkit circuit file (bad magic)", name);
    uint32_t ver = get_u32(buf + 4);
    if (ver != PC_VERSION && ver != PC_VERSION_COMPACT)
        return pk_err_set(err, PK_EFORMAT, "%s: circuit file version %u is not supported (this build reads %u and %u)",
                          name, ver, PC_VERSION, PC_VERSION_COMPACT);
    uint32_t crc = get_u32(buf + len - 4);
    if (crc != (uint32_t)crc32(0L, buf, (uInt)(len - 4)))
        return pk_err_set(err, PK_EFORMAT, "%s: checksum mismatch (file truncated or corrupted)", name);
    if (ver == PC_VERSION_COMPACT)
        return pc_parse_compact(buf, len, name, out, err);
    int32_t nvars = (int32_t)get_u32(buf + 8), k = (int32_t)get_u32(buf + 12), ncat = (int32_t)get_u32(buf + 16);
    int32_t h = (int32_t)get_u32(buf + 20), w = (int32_t)get_u32(buf + 24);
    if (nvars < 1 || nvars > (1 << 24) || k < 1 || k > 1024 || ncat < 2 || ncat > 256)
        return pk_err_set(err, PK_EFORMAT, "%s: sizes out of range (nvars %d, k %d, ncat %d)", name, nvars, k, ncat);
    if (h < 0 || w < 0 || ((h || w) && (int64_t)h * w != nvars))
        return pk_err_set(err, PK_EFORMAT, "%s: geometry %dx%d does not match %d variables", name, h, w, nvars);
    size_t body = 28 + 4 * (size_t)nvars;
    /* Every variable stores at least its k x ncat input table: check before allocating. */
    if (len < body + 4 + 4 * (size_t)k * (1 + (size_t)nvars * (size_t)ncat))
        return pk_err_set(err, PK_EFORMAT, "%s: truncated (%zu bytes for %d variables, k = %d)", name, len, nvars, k);
    pk_pc *pc;
    int st = pc_alloc(nvars, k, ncat, &pc, err);
    if (st)
        return st;
    pc->height = h;
    pc->width = w;
    for (int v = 0; v < nvars; v++)
        pc->parent[v] = (int32_t)get_u32(buf + 28 + 4 * (size_t)v);
    st = pc_build_topology(pc, err);
    if (st) {
        pk_err_prefix(err, "%s: ", name);
        pk_pc_free(pc);
        return st;
    }
    size_t need = body + 4 * (size_t)k;
    for (int v = 0; v < nvars; v++) {
        need += 4 * (size_t)k * (size_t)ncat;
        if (v != pc->root && !pc_is_leaf(pc, v))
            need += 4 * (size_t)k * (size_t)k;
    }
    if (need + 4 != len) {
        pk_pc_free(pc);
        return pk_err_set(err, PK_EFORMAT, "%s: size %zu bytes, expected %zu for this circuit", name, len, need + 4);
    }
    const uint8_t *p = buf + body;
    st = read_rows(&p, pc->root_w, 1, (size_t)k, name, "root weights", pc->root, err);
    for (int v = 0; v < nvars && !st; v++) {
        st = read_rows(&p, pc->theta + (size_t)v * k * ncat, (size_t)k, (size_t)ncat, name, "input distribution",
                       v, err);
        if (!st && v != pc->root && !pc_is_leaf(pc, v))
            st = read_rows(&p, pc->weight + (size_t)v * k * k, (size_t)k, (size_t)k, name, "sum weights", v, err);
        else if (!st)
            random_rows(pc->weight + (size_t)v * k * k, (size_t)k, (size_t)k, 0, NULL);
    }
    if (st) {
        pk_pc_free(pc);
        return st;
    }
    *out = pc;
    return PK_OK;
}

size_t pk_pc_file_bytes(const pk_pc *pc)
{
    uint8_t *b;
    size_t n = 0;
    if (pk_pc_serialize(pc, &b, &n, NULL))
        return 0;
    free(b);
    return n;
}

int pk_pc_save(const pk_pc *pc, const char *path, pk_err *err)
{
    uint8_t *buf;
    size_t len;
    int st = pk_pc_serialize(pc, &buf, &len, err);
    if (st)
        return st;
    st = pk_file_write_atomic(path, buf, len, err);
    free(buf);
    return st;
}

int pk_pc_load(const char *path, pk_pc **out, pk_err *err)
{
    uint8_t *buf;
    size_t len;
    int st = pk_file_read_all(path, 0, &buf, &len, err);
    if (st)
        return st;
    st = pk_pc_parse(buf, len, path, out, err);
    free(buf);
    return st;
}

/* FNV-1a over little-endian 64-bit words, fed 32-bit values. */
typedef struct fnv_words {
    uint64_t h, acc, len;
    int half;
} fnv_words;

static void fnv_mix(fnv_words *f, uint64_t w)
{
    f->h ^= w;
    f->h *= 1099511628211ull;
}

static void fnv_u32(fnv_words *f, uint32_t x)
{
    f->len += 4;
    if (!f->half) {
        f->acc = x;
        f->half = 1;
    } else {
        fnv_mix(f, f->acc | (uint64_t)x << 32);
        f->half = 0;
    }
}

static void fnv_f32s(fnv_words *f, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        fnv_u32(f, u);
    }
}

uint64_t pk_pc_hash(const pk_pc *pc)
{
    /* The serialised bytes before the CRC, hashed as they would be written
     * but without building them: one multiply per 8 bytes and no second CRC
     * pass, so a 28 MB model costs a few ms per process start. */
    fnv_words f = {1469598103934665603ull, 0, 0, 0};
    size_t k = (size_t)pc->k, nc = (size_t)pc->ncat;
    const uint8_t *mg = (const uint8_t *)PC_MAGIC;
    fnv_u32(&f, (uint32_t)mg[0] | (uint32_t)mg[1] << 8 | (uint32_t)mg[2] << 16 | (uint32_t)mg[3] << 24);
    fnv_u32(&f, PC_VERSION);
    int32_t hdr[5] = {pc->nvars, pc->k, pc->ncat, pc->height, pc->width};
    for (int i = 0; i < 5; i++)
        fnv_u32(&f, (uint32_t)hdr[i]);
    for (int v = 0; v < pc->nvars; v++)
        fnv_u32(&f, (uint32_t)pc->parent[v]);
    fnv_f32s(&f, pc->root_w, k);
    for (int v = 0; v < pc->nvars; v++) {
        fnv_f32s(&f, pc->theta + (size_t)v * k * nc, k * nc);
        if (v != pc->root && !pc_is_leaf(pc, v))
            fnv_f32s(&f, pc->weight + (size_t)v * k * k, k * k);
    }
    if (f.half)
        fnv_mix(&f, f.acc);
    fnv_mix(&f, f.len);
    return f.h;
}
