/* PNG through libpng's classic API.
 *
 * libpng reports errors by longjmp.  All state that must survive a longjmp
 * lives in a caller-owned context reached through a pointer that is never
 * modified after setjmp, so nothing depends on indeterminate automatics. */
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "io_priv.h"

/* A decoded image larger than this (bytes) is refused before allocation. */
#define PNG_MAX_BYTES ((size_t)1 << 30)
#define PNG_MAX_DIM 1000000u

typedef struct png_ctx {
    png_structp png;
    png_infop info;
    const char *name;
    char msg[256];
    /* reading */
    const uint8_t *in;
    size_t in_len, in_pos;
    pk_array *img;
    png_bytep *rows;
    /* writing */
    uint8_t *out;
    size_t out_len, out_cap;
    int oom;
} png_ctx;

static void on_error(png_structp png, png_const_charp msg)
{
    png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg ? msg : "error");
    png_longjmp(png, 1);
}

/* Allocation through our hooks so that an out-of-memory longjmp is reported
 * as PK_ENOMEM rather than as a malformed file. */
static png_voidp png_alloc(png_structp png, png_alloc_size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        png_ctx *c = png_get_mem_ptr(png);
        if (c)
            c->oom = 1;
    }
    return p;
}

static void png_dealloc(png_structp png, png_voidp p)
{
    (void)png;
    free(p);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* the library never prints */
}

static void read_mem(png_structp png, png_bytep data, png_size_t n)
{
    png_ctx *c = png_get_io_ptr(png);
    if (n > c->in_len - c->in_pos)
        png_error(png, "truncated file");
    memcpy(data, c->in + c->in_pos, n);
    c->in_pos += n;
}

static int decode(png_ctx *c)
{
    if (setjmp(png_jmpbuf(c->png)))
        return c->oom ? PK_ENOMEM : PK_EFORMAT;
    png_set_read_fn(c->png, c, read_mem);
    png_set_user_limits(c->png, PNG_MAX_DIM, PNG_MAX_DIM);
    png_set_chunk_malloc_max(c->png, (png_alloc_size_t)64 << 20);
    png_read_info(c->png, c->info);
    png_uint_32 w = png_get_image_width(c->png, c->info), h = png_get_image_height(c->png, c->info);
    int color = png_get_color_type(c->png, c->info), depth = png_get_bit_depth(c->png, c->info);
    /* deflate expands at most ~1032:1, so the filtered scanlines cannot be
     * larger than that times the file: refuse before allocating the image */
    size_t raw_rb = png_get_rowbytes(c->png, c->info);
    if (raw_rb && (size_t)h > (c->in_len * 1032 + 4096) / (raw_rb + 1)) {
        snprintf(c->msg, sizeof c->msg, "a %ux%u image cannot be stored in %zu bytes", (unsigned)w, (unsigned)h,
                 c->in_len);
        return PK_EFORMAT;
    }
    if (color == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(c->png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(c->png);
    if (png_get_valid(c->png, c->info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(c->png);
    if (depth == 16)
        png_set_scale_16(c->png);
    png_set_interlace_handling(c->png);
    png_read_update_info(c->png, c->info);
    int ch = png_get_channels(c->png, c->info);
    size_t rb = png_get_rowbytes(c->png, c->info);
    if (ch < 1 || ch > 4 || png_get_bit_depth(c->png, c->info) != 8 || rb != (size_t)w * (size_t)ch) {
        snprintf(c->msg, sizeof c->msg, "unsupported layout after conversion (%d channels, %zu bytes/row)", ch, rb);
        return PK_EFORMAT;
    }
    if ((size_t)h > PNG_MAX_BYTES / rb) {
        snprintf(c->msg, sizeof c->msg, "image %ux%u is too large", (unsigned)w, (unsigned)h);
        return PK_EFORMAT;
    }
    int64_t shape[3] = {h, w, ch};
    c->img = pk_array_new(PK_DTYPE_U8, ch == 1 ? 2 : 3, shape);
    c->rows = malloc((h ? h : 1) * sizeof *c->rows);
    if (!c->img || !c->rows) {
        snprintf(c->msg, sizeof c->msg, "out of memory for a %ux%u image", (unsigned)w, (unsigned)h);
        return PK_ENOMEM;
    }
    for (png_uint_32 y = 0; y < h; y++)
        c->rows[y] = (png_bytep)c->img->data + (size_t)y * rb;
    png_read_image(c->png, c->rows);
    png_read_end(c->png, NULL);
    return PK_OK;
}

int pk_png_parse(const uint8_t *buf, size_t len, const char *name, pk_array **out, pk_err *err)
{
    *out = NULL;
    if (!name)
        name = "<memory>";
    if (len < 8 || png_sig_cmp(buf, 0, 8))
        return pk_err_set(err, PK_EFORMAT, "%s: not a PNG file (bad signature)", name);
    /* libpng allocates a chunk's declared length before reading it, so a
     * 40-byte file could make it ask for 2 GiB: check every chunk length
     * against what the buffer holds first. */
    for (size_t pos = 8; pos < len;) {
        if (len - pos < 12)
            return pk_err_set(err, PK_EFORMAT, "%s: PNG: truncated chunk header at byte %zu", name, pos);
        uint32_t cl = pk_rd_be32(buf + pos);
        char type[5];
        for (int i = 0; i < 4; i++)
            type[i] = (buf[pos + 4 + i] >= 32 && buf[pos + 4 + i] < 127) ? (char)buf[pos + 4 + i] : '?';
        type[4] = 0;
        if (cl > 0x7fffffffu || cl > len - pos - 12)
            return pk_err_set(err, PK_EFORMAT, "%s: PNG: chunk '%s' at byte %zu claims %u bytes but only %zu remain",
                              name, type, pos, (unsigned)cl, len - pos - 12);
        pos += 12 + (size_t)cl;
        if (!memcmp(type, "IEND", 4))
            break;
    }
    png_ctx c;
    memset(&c, 0, sizeof c);
    c.name = name;
    c.in = buf;
    c.in_len = len;
    c.png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &c, on_error, on_warning, &c, png_alloc, png_dealloc);
    if (!c.png)
        return pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
    c.info = png_create_info_struct(c.png);
    int st = c.info ? decode(&c) : PK_ENOMEM;
    if (st == PK_EFORMAT && c.oom)
        st = PK_ENOMEM;
    png_destroy_read_struct(&c.png, c.info ? &c.info : NULL, NULL);
    free(c.rows);
    if (st) {
        pk_array_free(c.img);
        return pk_err_set(err, st, "%s: PNG: %s", name, c.msg[0] ? c.msg : pk_strerror(st));
    }
    *out = c.img;
    return PK_OK;
}

int pk_png_read(const char *path, pk_array **out, pk_err *err)
{
    uint8_t *buf;
    size_t len;
    *out = NULL;
    int st = pk_file_read_all(path, PNG_MAX_BYTES, &buf, &len, err);
    if (st)
        return st;
    st = pk_png_parse(buf, len, path, out, err);
    free(buf);
    return st;
}

static void write_mem(png_structp png, png_bytep data, png_size_t n)
{
    png_ctx *c = png_get_io_ptr(png);
    if (n > c->out_cap - c->out_len) {
        size_t nc = c->out_cap ? c->out_cap : 4096;
        while (nc - c->out_len < n) {
            if (nc > SIZE_MAX / 2) {
                c->oom = 1;
                png_error(png, "output too large");
            }
            nc *= 2;
        }
        uint8_t *nb = realloc(c->out, nc);
        if (!nb) {
            c->oom = 1;
            png_error(png, "out of memory");
        }
        c->out = nb;
        c->out_cap = nc;
    }
    memcpy(c->out + c->out_len, data, n);
    c->out_len += n;
}

static void flush_mem(png_structp png)
{
    (void)png;
}

static int encode(png_ctx *c, const pk_array *img, int ch)
{
    if (setjmp(png_jmpbuf(c->png)))
        return c->oom ? PK_ENOMEM : PK_EINTERNAL;
    static const int types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                 PNG_COLOR_TYPE_RGB_ALPHA};
    png_uint_32 h = (png_uint_32)img->shape[0], w = (png_uint_32)img->shape[1];
    png_set_write_fn(c->png, c, write_mem, flush_mem);
    png_set_IHDR(c->png, c->info, w, h, 8, types[ch], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(c->png, c->info);
    const uint8_t *p = img->data;
    for (png_uint_32 y = 0; y < h; y++)
        png_write_row(c->png, (png_const_bytep)(p + (size_t)y * w * (size_t)ch));
    png_write_end(c->png, c->info);
    return PK_OK;
}

int pk_png_encode(const pk_array *img, uint8_t **png, size_t *len, pk_err *err)
{
    *png = NULL;
    *len = 0;
    if (!img)
        return pk_err_set(err, PK_EINVAL, "PNG: NULL image");
    if (img->dtype != PK_DTYPE_U8)
        return pk_err_set(err, PK_EINVAL, "PNG: images must be u8, got %s", pk_dtype_name(img->dtype));
    int ch = img->ndim == 2 ? 1 : img->ndim == 3 ? (int)img->shape[2] : 0;
    if (ch < 1 || ch > 4)
        return pk_err_set(err, PK_EINVAL, "PNG: need an HxW or HxWxC image with C in 1..4");
    if (img->shape[0] < 1 || img->shape[1] < 1 || img->shape[0] > PNG_MAX_DIM || img->shape[1] > PNG_MAX_DIM)
        return pk_err_set(err, PK_EINVAL, "PNG: image size %lldx%lld outside 1..%u", (long long)img->shape[0],
                          (long long)img->shape[1], PNG_MAX_DIM);
    png_ctx c;
    memset(&c, 0, sizeof c);
    c.png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, &c, on_error, on_warning, &c, png_alloc, png_dealloc);
    if (!c.png)
        return pk_err_set(err, PK_ENOMEM, "PNG: out of memory");
    c.info = png_create_info_struct(c.png);
    int st = c.info ? encode(&c, img, ch) : PK_ENOMEM;
    png_destroy_write_struct(&c.png, c.info ? &c.info : NULL);
    if (st) {
        free(c.out);
        return pk_err_set(err, st, "PNG: encoding failed: %s", c.msg[0] ? c.msg : pk_strerror(st));
    }
    *png = c.out;
    *len = c.out_len;
    return PK_OK;
}

int pk_png_write(const char *path, const pk_array *img, pk_err *err)
{
    uint8_t *buf;
    size_t len;
    int st = pk_png_encode(img, &buf, &len, err);
    if (st) {
        pk_err_prefix(err, "%s: ", path);
        return st;
    }
    st = pk_file_write_atomic(path, buf, len, err);
    free(buf);
    return st;
}
