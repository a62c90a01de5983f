/* plot_grid.c — a grid of small images (digits, samples, filters) as one SVG
 * holding a single PNG data URI. */
#include <stdlib.h>
#include <string.h>

#include "plot_priv.h"
#include "probkit/io.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void sb_base64(pk_sb *sb, const uint8_t *d, size_t n)
{
    char q[5] = {0};
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)d[i + 1] << 8;
        if (i + 2 < n)
            v |= d[i + 2];
        q[0] = b64[(v >> 18) & 63];
        q[1] = b64[(v >> 12) & 63];
        q[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? b64[v & 63] : '=';
        pk_sb_puts(sb, q);
    }
}

int pk_svg_image_grid(const uint8_t *pixels, size_t n, int h, int w, int channels, int ncols, int scale,
                      const char *title, char **svg)
{
    if (!svg)
        return PK_EINVAL;
    *svg = NULL;
    if (!pixels || n == 0 || h <= 0 || w <= 0 || h > 4096 || w > 4096 || (channels != 1 && channels != 3) ||
        ncols <= 0 || scale <= 0 || scale > 64 || n > 100000)
        return PK_EINVAL;
    size_t cols = (size_t)ncols < n ? (size_t)ncols : n;
    size_t rows = (n + cols - 1) / cols;
    const size_t gap = 1; /* one grey pixel between tiles */
    size_t W = cols * (size_t)w + (cols + 1) * gap, H = rows * (size_t)h + (rows + 1) * gap;
    if (W > 65535 || H > 65535)
        return PK_EINVAL;
    int64_t shape[3] = {(int64_t)H, (int64_t)W, channels};
    pk_array *img = pk_array_new(PK_DTYPE_U8, channels == 1 ? 2 : 3, shape);
    if (!img)
        return PK_ENOMEM;
    uint8_t *dst = img->data;
    memset(dst, 160, W * H * (size_t)channels);
    size_t tile = (size_t)h * (size_t)w * (size_t)channels, rowb = (size_t)w * (size_t)channels;
    for (size_t k = 0; k < n; k++) {
        size_t r = k / cols, c = k % cols;
        size_t y0 = gap + r * ((size_t)h + gap), x0 = gap + c * ((size_t)w + gap);
        for (size_t y = 0; y < (size_t)h; y++)
            memcpy(dst + ((y0 + y) * W + x0) * (size_t)channels, pixels + k * tile + y * rowb, rowb);
    }
    uint8_t *png = NULL;
    size_t plen = 0;
    int st = pk_png_encode(img, &png, &plen, NULL);
    pk_array_free(img);
    if (st != PK_OK)
        return st;

    int top = title && title[0] ? 30 : 0;
    size_t dw = W * (size_t)scale, dh = H * (size_t)scale;
    size_t cw = dw < 160 ? 160 : dw;
    pk_sb sb = {0};
    pk_sb_printf(&sb,
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%zu\" height=\"%zu\" viewBox=\"0 0 %zu %zu\" "
                 "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n",
                 cw, dh + (size_t)top, cw, dh + (size_t)top);
    pk_sb_puts(&sb, "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
    if (top) {
        pk_sb_puts(&sb, "<title>");
        pk_sb_text(&sb, title);
        pk_sb_printf(&sb, "</title>\n<text x=\"%zu\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" "
                          "font-weight=\"bold\" fill=\"#222222\">",
                     cw / 2);
        pk_sb_text(&sb, title);
        pk_sb_puts(&sb, "</text>\n");
    }
    /* nearest-neighbour upscaling keeps pixels crisp in browsers and rsvg */
    pk_sb_printf(&sb,
                 "<image x=\"%zu\" y=\"%d\" width=\"%zu\" height=\"%zu\" image-rendering=\"pixelated\" style=\"image-rendering:pixelated\" "
                 "preserveAspectRatio=\"none\" "
                 "href=\"data:image/png;base64,",
                 (cw - dw) / 2, top, dw, dh);
    sb_base64(&sb, png, plen);
    pk_sb_puts(&sb, "\"/>\n</svg>\n");
    free(png);
    if (sb.failed) {
        free(sb.buf);
        return PK_ENOMEM;
    }
    *svg = sb.buf;
    return PK_OK;
}
