/* pc_codec.c — the compressed-image container.
 *
 * little-endian layout (docs/pc.md):
 *   "PKPZ"  u32 version (2)  u64 model hash  u32 height  u32 width  u32 ncat
 *   u32 rANS precision  u32 mode  u64 count
 *   mode SEPARATE: u8 b, then the byte length of each image's stream in b bits
 *                  (packed LSB first, padded to a byte), then the streams
 *   mode STREAM:   one stream holding every image
 *   u32 CRC-32 of all preceding bytes
 * Each stream is a pk_rans stream (varint final state + 32-bit words).  A file
 * is decoded only if the CRC matches and the model hash is the loaded model's;
 * each stream must also end exactly at rANS state 0. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "pc_internal.h"

#define PZ_MAGIC "PKPZ"
#define PZ_VERSION 2u /* 2: linear-domain coder with float mixtures (session 2); version-1 streams decode differently */
#define PZ_HDR 44

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void wr64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}
/* Bit-packed index of stream lengths: b bits each, LSB first. */
static uint64_t index_get(const uint8_t *p, int b, size_t i)
{
    uint64_t v = 0;
    size_t bit = i * (size_t)b;
    for (int j = 0; j < b; j++, bit++)
        v |= (uint64_t)((p[bit >> 3] >> (bit & 7)) & 1) << j;
    return v;
}
static void index_put(uint8_t *p, int b, size_t i, uint64_t v)
{
    size_t bit = i * (size_t)b;
    for (int j = 0; j < b; j++, bit++)
        if ((v >> j) & 1)
            p[bit >> 3] |= (uint8_t)(1u << (bit & 7));
}
static size_t index_bytes(size_t n, int b)
{
    return (n * (size_t)b + 7) / 8;
}

static void geometry(const pk_pc *pc, uint32_t *h, uint32_t *w)
{
    *h = pc->height ? (uint32_t)pc->height : 1;
    *w = pc->height ? (uint32_t)pc->width : (uint32_t)pc->nvars;
}

int pk_pc_compress(const pk_pc *pc, const uint8_t *x, size_t n, pk_pc_mode mode, uint8_t **buf, size_t *len,
                   pk_err *err)
{
    *buf = NULL;
    *len = 0;
    if (!pc || (!x && n) || (mode != PK_PC_MODE_SEPARATE && mode != PK_PC_MODE_STREAM))
        return pk_err_set(err, PK_EINVAL, "pk_pc_compress: bad argument");
    const size_t D = (size_t)pc->nvars;
    for (size_t i = 0; i < n * D; i++)
        if (x[i] >= pc->ncat)
            return pk_err_set(err, PK_EINVAL, "image %zu pixel %zu holds %u, above the model's %d levels", i / D,
                              i % D, x[i], pc->ncat);
    uint8_t **streams = calloc(n ? n : 1, sizeof(uint8_t *));
    size_t *lens = calloc(n ? n : 1, sizeof(size_t));
    if (!streams || !lens) {
        free(streams), free(lens);
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    }
    pc_dmodel dm;
    if (pc_dmodel_init_coder(&dm, pc)) {
        free(streams), free(lens);
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    }
    int st = PK_OK;
    size_t nstreams = mode == PK_PC_MODE_STREAM ? 1 : n;
    if (mode == PK_PC_MODE_STREAM) {
        pk_pc_coder *c;
        st = pc_coder_new_shared(pc, &dm, &c);
        pk_rans_enc enc;
        pk_rans_enc_init(&enc);
        for (size_t i = n; i-- > 0 && !st;) /* last image first: the decoder reads first image first */
            st = pk_pc_coder_encode(c, x + i * D, &enc, NULL);
        if (!st)
            st = pk_rans_enc_finish(&enc, &streams[0], &lens[0]);
        else
            free(enc.words);
        pk_pc_coder_free(c);
    } else {
PC_OMP(omp parallel)
        {
            pk_pc_coder *c = NULL;
            int lst = pc_coder_new_shared(pc, &dm, &c);
PC_OMP(omp for schedule(dynamic, 16))
            for (size_t i = 0; i < n; i++) {
                if (lst)
                    continue;
                pk_rans_enc enc;
                pk_rans_enc_init(&enc);
                lst = pk_pc_coder_encode(c, x + i * D, &enc, NULL);
                if (!lst)
                    lst = pk_rans_enc_finish(&enc, &streams[i], &lens[i]);
                else
                    free(enc.words);
            }
            pk_pc_coder_free(c);
            if (lst) {
PC_OMP(omp critical)
                st = lst;
            }
        }
    }
    pc_dmodel_free(&dm);
    size_t total = PZ_HDR + 4;
    int ib = 1;
    for (size_t i = 0; i < nstreams && !st; i++) {
        total += lens[i];
        while ((lens[i] >> ib) != 0)
            ib++;
    }
    if (mode == PK_PC_MODE_SEPARATE)
        total += 1 + index_bytes(n, ib);
    uint8_t *out = st ? NULL : malloc(total);
    if (!st && !out)
        st = PK_ENOMEM;
    if (!st) {
        uint32_t h, w;
        geometry(pc, &h, &w);
        memcpy(out, PZ_MAGIC, 4);
        wr32(out + 4, PZ_VERSION);
        wr64(out + 8, pk_pc_hash(pc));
        wr32(out + 16, h);
        wr32(out + 20, w);
        wr32(out + 24, (uint32_t)pc->ncat);
        wr32(out + 28, PK_RANS_PREC);
        wr32(out + 32, (uint32_t)mode);
        wr64(out + 36, (uint64_t)n);
        size_t o = PZ_HDR;
        if (mode == PK_PC_MODE_SEPARATE) {
            out[o++] = (uint8_t)ib;
            memset(out + o, 0, index_bytes(n, ib));
            for (size_t i = 0; i < n; i++)
                index_put(out + o, ib, i, lens[i]);
            o += index_bytes(n, ib);
        }
        for (size_t i = 0; i < nstreams; i++) {
            memcpy(out + o, streams[i], lens[i]);
            o += lens[i];
        }
        wr32(out + o, (uint32_t)crc32(0L, out, (uInt)o));
        *buf = out;
        *len = o + 4;
    }
    for (size_t i = 0; i < nstreams; i++)
        free(streams[i]);
    free(streams), free(lens);
    return st ? pk_err_set(err, st, "compression failed: %s", pk_strerror(st)) : PK_OK;
}

int pk_pc_container_info_read(const uint8_t *buf, size_t len, const char *name, pk_pc_container_info *info,
                              pk_err *err)
{
    if (!name)
        name = "input";
    if (len < 4 || memcmp(buf, PZ_MAGIC, 4) != 0)
        return pk_err_set(err, PK_EFORMAT, "%s: not a probkit compressed-image file (bad magic)", name);
    if (len < PZ_HDR + 4)
        return pk_err_set(err, PK_EFORMAT, "%s: truncated header (%zu bytes)", name, len);
    info->version = rd32(buf + 4);
    if (info->version != PZ_VERSION)
        return pk_err_set(err, PK_EFORMAT, "%s: container version %u is not supported (this build reads %u)", name,
                          info->version, PZ_VERSION);
    if (rd32(buf + len - 4) != (uint32_t)crc32(0L, buf, (uInt)(len - 4)))
        return pk_err_set(err, PK_EFORMAT, "%s: checksum mismatch: the file is truncated or corrupted", name);
    info->model_hash = rd64(buf + 8);
    info->height = rd32(buf + 16);
    info->width = rd32(buf + 20);
    info->ncat = rd32(buf + 24);
    uint32_t prec = rd32(buf + 28), mode = rd32(buf + 32);
    info->count = rd64(buf + 36);
    if (prec != PK_RANS_PREC)
        return pk_err_set(err, PK_EFORMAT, "%s: coder precision %u is not supported", name, prec);
    if (mode > 1)
        return pk_err_set(err, PK_EFORMAT, "%s: unknown mode %u", name, mode);
    info->mode = (pk_pc_mode)mode;
    if (info->count > len)
        return pk_err_set(err, PK_EFORMAT, "%s: image count %llu impossible for a %zu-byte file", name,
                          (unsigned long long)info->count, len);
    return PK_OK;
}

/* Header checks against the model; on success index and payload point into buf. */
static int open_container(const pk_pc *pc, const uint8_t *buf, size_t len, const char *name,
                          pk_pc_container_info *info, const uint8_t **index, const uint8_t **payload, pk_err *err)
{
    int st = pk_pc_container_info_read(buf, len, name, info, err);
    if (st)
        return st;
    uint64_t h = pk_pc_hash(pc);
    if (info->model_hash != h)
        return pk_err_set(err, PK_EINVAL,
                          "%s was compressed with a different model (model hash %016llx, loaded model %016llx)", name,
                          (unsigned long long)info->model_hash, (unsigned long long)h);
    uint32_t gh, gw;
    geometry(pc, &gh, &gw);
    if (info->height != gh || info->width != gw || info->ncat != (uint32_t)pc->ncat)
        return pk_err_set(err, PK_EFORMAT, "%s: geometry %ux%u with %u levels does not match the model", name,
                          info->height, info->width, info->ncat);
    const uint8_t *p = buf + PZ_HDR, *end = buf + len - 4;
    *index = p;
    *index = p;
    if (info->mode == PK_PC_MODE_SEPARATE) {
        if (p >= end || *p < 1 || *p > 40)
            return pk_err_set(err, PK_EFORMAT, "%s: bad index header", name);
        int b = *p++;
        *index = p;
        if (index_bytes((size_t)info->count, b) > (size_t)(end - p))
            return pk_err_set(err, PK_EFORMAT, "%s: index truncated", name);
        uint64_t sum = 0;
        for (uint64_t i = 0; i < info->count; i++)
            sum += index_get(p, b, (size_t)i);
        p += index_bytes((size_t)info->count, b);
        if (sum != (uint64_t)(end - p))
            return pk_err_set(err, PK_EFORMAT, "%s: index says %llu payload bytes, file holds %zu", name,
                              (unsigned long long)sum, (size_t)(end - p));
    }
    *payload = p;
    return PK_OK;
}

static int decode_stream(pk_pc_coder *c, const uint8_t *s, size_t l, size_t nimg, uint8_t *x, size_t D)
{
    pk_rans_dec dec;
    if (pk_rans_dec_init(&dec, s, l))
        return PK_EFORMAT;
    for (size_t i = 0; i < nimg; i++)
        if (pk_pc_coder_decode(c, &dec, x + i * D))
            return PK_EFORMAT;
    return pk_rans_dec_done(&dec);
}

int pk_pc_decompress(const pk_pc *pc, const uint8_t *buf, size_t len, const char *name, uint8_t **x,
                     size_t *count, pk_err *err)
{
    *x = NULL;
    *count = 0;
    if (!name)
        name = "input";
    pk_pc_container_info info;
    const uint8_t *index, *payload;
    int st = open_container(pc, buf, len, name, &info, &index, &payload, err);
    if (st)
        return st;
    const size_t D = (size_t)pc->nvars, n = (size_t)info.count;
    uint8_t *out = malloc(n * D + 1);
    size_t *off = malloc(sizeof(size_t) * (n + 1));
    pc_dmodel dm;
    if (!out || !off || pc_dmodel_init_coder(&dm, pc)) {
        free(out), free(off);
        return pk_err_set(err, PK_ENOMEM, "%s: out of memory for %zu images", name, n);
    }
    size_t bad = (size_t)-1;
    if (info.mode == PK_PC_MODE_STREAM) {
        pk_pc_coder *c;
        st = pc_coder_new_shared(pc, &dm, &c);
        if (!st && decode_stream(c, payload, (size_t)(buf + len - 4 - payload), n, out, D))
            bad = 0;
        pk_pc_coder_free(c);
    } else {
        int b = index[-1];
        off[0] = 0;
        for (size_t i = 0; i < n; i++)
            off[i + 1] = off[i] + (size_t)index_get(index, b, i);
PC_OMP(omp parallel)
        {
            pk_pc_coder *c = NULL;
            int lst = pc_coder_new_shared(pc, &dm, &c);
PC_OMP(omp for schedule(dynamic, 16))
            for (size_t i = 0; i < n; i++) {
                if (lst)
                    continue;
                if (decode_stream(c, payload + off[i], off[i + 1] - off[i], 1, out + i * D, D)) {
PC_OMP(omp critical)
                    if (i < bad)
                        bad = i;
                }
            }
            pk_pc_coder_free(c);
            if (lst) {
PC_OMP(omp critical)
                st = lst;
            }
        }
    }
    free(off);
    pc_dmodel_free(&dm);
    if (!st && bad != (size_t)-1)
        st = pk_err_set(err, PK_EFORMAT, "%s: image %zu does not decode (corrupted stream)", name, bad);
    else if (st)
        st = pk_err_set(err, st, "%s: %s", name, pk_strerror(st));
    if (st) {
        free(out);
        return st;
    }
    *x = out;
    *count = n;
    return PK_OK;
}

int pk_pc_decompress_one(const pk_pc *pc, const uint8_t *buf, size_t len, const char *name, size_t index,
                         uint8_t *x, pk_err *err)
{
    if (!name)
        name = "input";
    pk_pc_container_info info;
    const uint8_t *idx, *payload;
    int st = open_container(pc, buf, len, name, &info, &idx, &payload, err);
    if (st)
        return st;
    if (info.mode != PK_PC_MODE_SEPARATE)
        return pk_err_set(err, PK_EINVAL, "%s: streamed files have no random access; decompress all", name);
    if (index >= info.count)
        return pk_err_set(err, PK_EINVAL, "%s: image %zu requested, file holds %llu", name, index,
                          (unsigned long long)info.count);
    size_t off = 0;
    int b = idx[-1];
    for (size_t i = 0; i < index; i++)
        off += (size_t)index_get(idx, b, i);
    uint64_t l = index_get(idx, b, index);
    pk_pc_coder *c;
    if ((st = pk_pc_coder_new(pc, &c)))
        return pk_err_set(err, st, "out of memory");
    uint8_t *tmp = malloc((size_t)pc->nvars);
    st = tmp ? decode_stream(c, payload + off, (size_t)l, 1, tmp, (size_t)pc->nvars) : PK_ENOMEM;
    if (!st)
        memcpy(x, tmp, (size_t)pc->nvars);
    free(tmp);
    pk_pc_coder_free(c);
    return st ? pk_err_set(err, st, "%s: image %zu does not decode (corrupted stream)", name, index) : PK_OK;
}
