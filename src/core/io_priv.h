/* io_priv.h — helpers shared by the format readers/writers (private). */
#ifndef PK_IO_PRIV_H
#define PK_IO_PRIV_H

#include <stdint.h>
#include <string.h>

#include "probkit/io.h"

/* Read caps: a data file larger than this is refused rather than swapped in. */
#define PK_IO_MAX_FILE ((size_t)4 << 30)

static inline int pk_host_is_le(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Reverse the byte order of n elements of size sz (1, 2, 4 or 8) in place. */
static inline void pk_byteswap(void *data, size_t n, size_t sz)
{
    uint8_t *p = data;
    if (sz < 2)
        return;
    for (size_t i = 0; i < n; i++, p += sz)
        for (size_t a = 0, b = sz - 1; a < b; a++, b--) {
            uint8_t t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

static inline uint32_t pk_rd_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t pk_rd_le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static inline uint64_t pk_rd_le64(const uint8_t *p)
{
    return (uint64_t)pk_rd_le32(p + 4) << 32 | pk_rd_le32(p);
}

/* Product of dims times elsize, or 0 with *overflow set when it exceeds SIZE_MAX/2. */
static inline size_t pk_shape_bytes(int ndim, const int64_t *shape, size_t elsize, int *overflow)
{
    size_t n = elsize;
    *overflow = 0;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) {
            *overflow = 1;
            return 0;
        }
        uint64_t d = (uint64_t)shape[i];
        if (d && n > (SIZE_MAX / 2) / d) {
            *overflow = 1;
            return 0;
        }
        n *= (size_t)d;
    }
    return n;
}

/* "28x28" style shape text, for messages. */
void pk_shape_str(int ndim, const int64_t *shape, char *out, size_t cap);

#endif
