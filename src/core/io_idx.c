/* IDX (the MNIST container): 0x00 0x00 <type> <ndim>, ndim big-endian u32
 * dimensions, then big-endian data in C order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_priv.h"

static int idx_type(uint8_t code, pk_dtype *t)
{
    switch (code) {
    case 0x08: *t = PK_DTYPE_U8; return 1;
    case 0x09: *t = PK_DTYPE_I8; return 1;
    case 0x0B: *t = PK_DTYPE_I16; return 1;
    case 0x0C: *t = PK_DTYPE_I32; return 1;
    case 0x0D: *t = PK_DTYPE_F32; return 1;
    case 0x0E: *t = PK_DTYPE_F64; return 1;
    }
    return 0;
}

static int idx_code(pk_dtype t)
{
    switch (t) {
    case PK_DTYPE_U8: return 0x08;
    case PK_DTYPE_I8: return 0x09;
    case PK_DTYPE_I16: return 0x0B;
    case PK_DTYPE_I32: return 0x0C;
    case PK_DTYPE_F32: return 0x0D;
    case PK_DTYPE_F64: return 0x0E;
    default: return -1;
    }
}

int pk_idx_parse(const uint8_t *buf, size_t len, const char *name, pk_array **out, pk_err *err)
{
    *out = NULL;
    if (!name)
        name = "<memory>";
    if (len < 4)
        return pk_err_set(err, PK_EFORMAT, "%s: too short for an IDX header (%zu bytes)", name, len);
    if (buf[0] != 0 || buf[1] != 0)
        return pk_err_set(err, PK_EFORMAT, "%s: not an IDX file (magic %02x %02x, expected 00 00)", name, buf[0],
                          buf[1]);
    pk_dtype t;
    if (!idx_type(buf[2], &t))
        return pk_err_set(err, PK_EFORMAT, "%s: unknown IDX data type 0x%02x", name, buf[2]);
    int ndim = buf[3];
    if (ndim < 1 || ndim > PK_ARRAY_MAXDIM)
        return pk_err_set(err, PK_EFORMAT, "%s: IDX rank %d outside 1..%d", name, ndim, PK_ARRAY_MAXDIM);
    size_t hdr = 4 + 4 * (size_t)ndim;
    if (len < hdr)
        return pk_err_set(err, PK_EFORMAT, "%s: truncated IDX header: rank %d needs %zu bytes, file has %zu", name,
                          ndim, hdr, len);
    int64_t shape[PK_ARRAY_MAXDIM];
    for (int i = 0; i < ndim; i++)
        shape[i] = pk_rd_be32(buf + 4 + 4 * i);
    size_t es = pk_dtype_size(t);
    int ovf;
    size_t need = pk_shape_bytes(ndim, shape, es, &ovf);
    char sh[128];
    pk_shape_str(ndim, shape, sh, sizeof sh);
    if (ovf)
        return pk_err_set(err, PK_EFORMAT, "%s: IDX shape %s is too large", name, sh);
    size_t have = len - hdr;
    if (have < need)
        return pk_err_set(err, PK_EFORMAT, "%s: header says %s %s but only %zu of %zu data bytes follow", name, sh,
                          pk_dtype_name(t), have, need);
    if (have > need)
        return pk_err_set(err, PK_EFORMAT, "%s: %zu unexpected bytes after the %s %s data", name, have - need, sh,
                          pk_dtype_name(t));
    pk_array *a = pk_array_new(t, ndim, shape);
    if (!a)
        return pk_err_set(err, PK_ENOMEM, "%s: out of memory for %s %s", name, sh, pk_dtype_name(t));
    memcpy(a->data, buf + hdr, need);
    if (pk_host_is_le())
        pk_byteswap(a->data, need / es, es);
    *out = a;
    return PK_OK;
}

int pk_idx_read(const char *path, pk_array **out, pk_err *err)
{
    uint8_t *buf;
    size_t len;
    *out = NULL;
    int st = pk_file_read_all(path, PK_IO_MAX_FILE, &buf, &len, err);
    if (st)
        return st;
    st = pk_idx_parse(buf, len, path, out, err);
    free(buf);
    return st;
}

int pk_idx_write(const char *path, const pk_array *a, pk_err *err)
{
    if (!a || !path)
        return pk_err_set(err, PK_EINVAL, "pk_idx_write: NULL argument");
    int code = idx_code(a->dtype);
    if (code < 0)
        return pk_err_set(err, PK_ENOTSUP, "%s: IDX cannot hold dtype %s", path, pk_dtype_name(a->dtype));
    if (a->ndim < 1 || a->ndim > PK_ARRAY_MAXDIM)
        return pk_err_set(err, PK_EINVAL, "%s: IDX needs rank 1..%d, got %d", path, PK_ARRAY_MAXDIM, a->ndim);
    uint8_t hdr[4 + 4 * PK_ARRAY_MAXDIM] = {0, 0, (uint8_t)code, (uint8_t)a->ndim};
    for (int i = 0; i < a->ndim; i++) {
        if (a->shape[i] < 0 || a->shape[i] > (int64_t)UINT32_MAX)
            return pk_err_set(err, PK_EINVAL, "%s: dimension %d (%lld) does not fit IDX's 32 bits", path, i,
                              (long long)a->shape[i]);
        uint32_t d = (uint32_t)a->shape[i];
        uint8_t *p = hdr + 4 + 4 * i;
        p[0] = (uint8_t)(d >> 24);
        p[1] = (uint8_t)(d >> 16);
        p[2] = (uint8_t)(d >> 8);
        p[3] = (uint8_t)d;
    }
    size_t hl = 4 + 4 * (size_t)a->ndim, nb = pk_array_nbytes(a), es = pk_dtype_size(a->dtype);
    uint8_t *buf = malloc(hl + nb + 1);
    if (!buf)
        return pk_err_set(err, PK_ENOMEM, "%s: out of memory", path);
    memcpy(buf, hdr, hl);
    memcpy(buf + hl, a->data, nb);
    if (pk_host_is_le())
        pk_byteswap(buf + hl, nb / es, es);
    int st = pk_file_write_auto(path, buf, hl + nb, err);
    free(buf);
    return st;
}
