/* Writing gzip files atomically: compress in memory, then the ordinary atomic write. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "io_priv.h"

static int ends_with_gz(const char *s)
{
    size_t n = strlen(s);
    return n >= 3 && !strcmp(s + n - 3, ".gz");
}

int pk_gzip_compress(const void *buf, size_t len, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15 + 16 selects the gzip wrapper. */
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return PK_ENOMEM;
    size_t cap = deflateBound(&z, (uLong)len) + 64;
    uint8_t *o = malloc(cap);
    if (!o) {
        deflateEnd(&z);
        return PK_ENOMEM;
    }
    const uint8_t *in = buf;
    size_t left = len;
    z.next_out = o;
    z.avail_out = (uInt)(cap > 0x7fffffffu ? 0x7fffffffu : cap);
    int rc;
    /* Feed in chunks so that inputs over 4 GiB do not overflow uInt. */
    do {
        size_t chunk = left > (1u << 30) ? (1u << 30) : left;
        z.next_in = (Bytef *)(uintptr_t)in;
        z.avail_in = (uInt)chunk;
        in += chunk;
        left -= chunk;
        rc = deflate(&z, left ? Z_NO_FLUSH : Z_FINISH);
        if (z.avail_out == 0 && rc != Z_STREAM_END) {
            rc = Z_BUF_ERROR;
            break;
        }
    } while (left || rc == Z_OK);
    size_t n = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(o);
        return PK_EINTERNAL;
    }
    *out = o;
    *out_len = n;
    return PK_OK;
}

int pk_file_write_auto(const char *path, const void *buf, size_t len, pk_err *err)
{
    if (!ends_with_gz(path))
        return pk_file_write_atomic(path, buf, len, err);
    uint8_t *z;
    size_t zl;
    int st = pk_gzip_compress(buf, len, &z, &zl);
    if (st)
        return pk_err_set(err, st, "%s: gzip compression failed", path);
    st = pk_file_write_atomic(path, z, zl, err);
    free(z);
    return st;
}
