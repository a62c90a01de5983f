/* augment.c — training-set augmentation for small image sets. */
#include <stdlib.h>
#include <string.h>

#include "probkit/pc.h"

int pk_pc_augment_shift1(const uint8_t *x, size_t n, size_t h, size_t w, uint8_t **out, size_t *nout, pk_err *err)
{
    if (!x || !out || !nout || n == 0 || h < 2 || w < 2)
        return pk_err_set(err, PK_EINVAL, "pc augment: need images, n >= 1 and a size of at least 2 x 2");
    static const int shift[5][2] = {{0, 0}, {1, 0}, {-1, 0}, {0, 1}, {0, -1}}; /* (dx, dy) */
    size_t d = h * w;
    if (n > ((size_t)-1) / 5 / d)
        return pk_err_set(err, PK_EINVAL, "pc augment: %zu images of %zu pixels are too many", n, d);
    uint8_t *o = malloc(5 * n * d);
    if (!o)
        return pk_err_set(err, PK_ENOMEM, "pc augment: out of memory for %zu images", 5 * n);
    for (int s = 0; s < 5; s++) {
        int dx = shift[s][0], dy = shift[s][1];
        for (size_t i = 0; i < n; i++) {
            const uint8_t *src = x + i * d;
            uint8_t *dst = o + ((size_t)s * n + i) * d;
            memset(dst, 0, d);
            for (size_t r = 0; r < h; r++) {
                long sr = (long)r - dy;
                if (sr < 0 || sr >= (long)h)
                    continue;
                for (size_t c = 0; c < w; c++) {
                    long sc = (long)c - dx;
                    if (sc >= 0 && sc < (long)w)
                        dst[r * w + c] = src[(size_t)sr * w + (size_t)sc];
                }
            }
        }
    }
    *out = o;
    *nout = 5 * n;
    return PK_OK;
}
