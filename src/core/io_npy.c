/* NPY (numpy's .npy, format versions 1.0, 2.0, 3.0).
 *
 * The header is a Python dict literal such as
 *   {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
 * parsed here by a small strict scanner (no eval, no recursion). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_priv.h"

#define NPY_MAX_HEADER ((size_t)1 << 20)

typedef struct scan {
    const char *p, *end;
} scan;

static void skip_ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int eat(scan *s, char c)
{
    skip_ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return 1;
    }
    return 0;
}

/* A quoted string without escapes (numpy never writes any); copies into out. */
static int scan_str(scan *s, char *out, size_t cap)
{
    skip_ws(s);
    if (s->p >= s->end || (*s->p != '\'' && *s->p != '"'))
        return 0;
    char q = *s->p++;
    size_t n = 0;
    while (s->p < s->end && *s->p != q) {
        if (*s->p == '\\' || n + 1 >= cap)
            return 0;
        out[n++] = *s->p++;
    }
    if (s->p >= s->end)
        return 0;
    s->p++;
    out[n] = 0;
    return 1;
}

static int scan_word(scan *s, const char *w)
{
    skip_ws(s);
    size_t n = strlen(w);
    if ((size_t)(s->end - s->p) >= n && !memcmp(s->p, w, n)) {
        s->p += n;
        return 1;
    }
    return 0;
}

/* (d0, d1, ...) with an optional trailing comma and Python-2 'L' suffixes. */
static int scan_shape(scan *s, int *ndim, int64_t *shape, const char **why)
{
    *ndim = 0;
    if (!eat(s, '(')) {
        *why = "shape is not a tuple";
        return 0;
    }
    if (eat(s, ')'))
        return 1;
    for (;;) {
        skip_ws(s);
        if (s->p >= s->end || *s->p < '0' || *s->p > '9') {
            *why = "shape holds a non-integer";
            return 0;
        }
        int64_t v = 0;
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
            if (v > (INT64_MAX - 9) / 10) {
                *why = "shape dimension too large";
                return 0;
            }
            v = v * 10 + (*s->p++ - '0');
        }
        if (s->p < s->end && *s->p == 'L')
            s->p++;
        if (*ndim >= PK_ARRAY_MAXDIM) {
            *why = "more than 8 dimensions";
            return 0;
        }
        shape[(*ndim)++] = v;
        if (eat(s, ')'))
            return 1;
        if (!eat(s, ',')) {
            *why = "malformed shape tuple";
            return 0;
        }
        if (eat(s, ')'))
            return 1;
    }
}

typedef struct descr {
    pk_dtype dtype;   /* in memory */
    size_t file_size; /* bytes per element in the file */
    int big;          /* file data are big-endian */
    int widen_u;      /* unsigned source widened to a signed type: 2 or 4 (bytes) */
} descr;

static int parse_descr(const char *d, descr *out, char *why, size_t cap)
{
    memset(out, 0, sizeof *out);
    char order = d[0];
    if (order != '<' && order != '>' && order != '|' && order != '=') {
        snprintf(why, cap, "dtype '%s' has no byte-order mark", d);
        return PK_EFORMAT;
    }
    out->big = order == '>' || (order == '=' && !pk_host_is_le());
    char kind = d[1];
    char *end;
    long sz = strtol(d + 2, &end, 10);
    if (kind == 0 || end == d + 2 || *end) {
        snprintf(why, cap, "cannot read dtype '%s'", d);
        return PK_EFORMAT;
    }
    out->file_size = (size_t)sz;
    int ok = 1;
    switch (kind) {
    case 'u':
        if (sz == 1)
            out->dtype = PK_DTYPE_U8;
        else if (sz == 2 || sz == 4) {
            out->dtype = sz == 2 ? PK_DTYPE_I32 : PK_DTYPE_I64;
            out->widen_u = (int)sz;
        } else
            ok = 0;
        break;
    case 'i':
        out->dtype = sz == 1 ? PK_DTYPE_I8 : sz == 2 ? PK_DTYPE_I16 : sz == 4 ? PK_DTYPE_I32 : PK_DTYPE_I64;
        ok = sz == 1 || sz == 2 || sz == 4 || sz == 8;
        break;
    case 'f':
        out->dtype = sz == 2 ? PK_DTYPE_F16 : sz == 4 ? PK_DTYPE_F32 : PK_DTYPE_F64;
        ok = sz == 2 || sz == 4 || sz == 8;
        break;
    case 'b':
        out->dtype = PK_DTYPE_BOOL;
        ok = sz == 1;
        break;
    default:
        ok = 0;
    }
    if (!ok) {
        snprintf(why, cap, "dtype '%s' is not supported", d);
        return PK_ENOTSUP;
    }
    return PK_OK;
}

static size_t numel_of(int ndim, const int64_t *shape)
{
    size_t n = 1;
    for (int k = 0; k < ndim; k++)
        n *= (size_t)shape[k];
    return n;
}

/* Convert file element order (Fortran: first index fastest) to C order. */
static void fortran_to_c(const uint8_t *src, uint8_t *dst, int ndim, const int64_t *shape, size_t es)
{
    size_t n = 1;
    for (int k = 0; k < ndim; k++)
        n *= (size_t)shape[k];
    int64_t idx[PK_ARRAY_MAXDIM] = {0};
    size_t fstride[PK_ARRAY_MAXDIM];
    size_t st = 1;
    for (int k = 0; k < ndim; k++) {
        fstride[k] = st;
        st *= (size_t)shape[k];
    }
    size_t foff = 0;
    for (size_t c = 0; c < n; c++) {
        memcpy(dst + c * es, src + foff * es, es);
        /* advance the C-order multi-index (last index fastest) */
        for (int k = ndim - 1; k >= 0; k--) {
            if (++idx[k] < shape[k]) {
                foff += fstride[k];
                break;
            }
            foff -= (size_t)(shape[k] - 1) * fstride[k];
            idx[k] = 0;
        }
    }
}

int pk_npy_parse(const uint8_t *buf, size_t len, const char *name, pk_array **out, pk_err *err)
{
    *out = NULL;
    if (!name)
        name = "<memory>";
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6))
        return pk_err_set(err, PK_EFORMAT, "%s: not an NPY file (bad magic)", name);
    int major = buf[6];
    if (major < 1 || major > 3)
        return pk_err_set(err, PK_EFORMAT, "%s: NPY format version %d.%d is not 1.0, 2.0 or 3.0", name, major,
                          buf[7]);
    size_t hl, off;
    if (major == 1) {
        hl = (size_t)buf[8] | (size_t)buf[9] << 8;
        off = 10;
    } else {
        if (len < 12)
            return pk_err_set(err, PK_EFORMAT, "%s: truncated NPY header", name);
        hl = pk_rd_le32(buf + 8);
        off = 12;
    }
    if (hl > NPY_MAX_HEADER)
        return pk_err_set(err, PK_EFORMAT, "%s: NPY header of %zu bytes is implausibly long", name, hl);
    if (hl > len - off)
        return pk_err_set(err, PK_EFORMAT, "%s: NPY header says %zu bytes but the file has %zu after the preamble",
                          name, hl, len - off);
    scan s = {(const char *)buf + off, (const char *)buf + off + hl};
    char dstr[32] = "", why[160] = "";
    int have_d = 0, have_f = 0, have_s = 0, fortran = 0, ndim = 0;
    int64_t shape[PK_ARRAY_MAXDIM];
    const char *w = NULL;
    if (!eat(&s, '{'))
        return pk_err_set(err, PK_EFORMAT, "%s: NPY header is not a dict", name);
    while (!eat(&s, '}')) {
        char key[32];
        if (!scan_str(&s, key, sizeof key) || !eat(&s, ':'))
            return pk_err_set(err, PK_EFORMAT, "%s: malformed NPY header near offset %zu", name,
                              (size_t)(s.p - (const char *)buf));
        if (!strcmp(key, "descr") && !have_d) {
            skip_ws(&s);
            if (s.p < s.end && *s.p == '[')
                return pk_err_set(err, PK_ENOTSUP, "%s: structured NPY dtypes are not supported", name);
            if (!scan_str(&s, dstr, sizeof dstr))
                return pk_err_set(err, PK_EFORMAT, "%s: NPY 'descr' is not a dtype string", name);
            have_d = 1;
        } else if (!strcmp(key, "fortran_order") && !have_f) {
            if (scan_word(&s, "True"))
                fortran = 1;
            else if (!scan_word(&s, "False"))
                return pk_err_set(err, PK_EFORMAT, "%s: NPY 'fortran_order' is not True or False", name);
            have_f = 1;
        } else if (!strcmp(key, "shape") && !have_s) {
            if (!scan_shape(&s, &ndim, shape, &w))
                return pk_err_set(err, PK_EFORMAT, "%s: NPY %s", name, w);
            have_s = 1;
        } else
            return pk_err_set(err, PK_EFORMAT, "%s: unexpected or repeated NPY header key '%s'", name, key);
        if (!eat(&s, ',')) {
            if (!eat(&s, '}'))
                return pk_err_set(err, PK_EFORMAT, "%s: malformed NPY header (expected ',' or '}')", name);
            break;
        }
    }
    skip_ws(&s);
    if (s.p != s.end)
        return pk_err_set(err, PK_EFORMAT, "%s: junk after the NPY header dict", name);
    if (!have_d || !have_f || !have_s)
        return pk_err_set(err, PK_EFORMAT, "%s: NPY header lacks %s", name,
                          !have_d ? "'descr'" : !have_f ? "'fortran_order'" : "'shape'");
    descr d;
    int st = parse_descr(dstr, &d, why, sizeof why);
    if (st)
        return pk_err_set(err, st, "%s: %s", name, why);
    int ovf;
    size_t need = pk_shape_bytes(ndim, shape, d.file_size, &ovf);
    char sh[128];
    pk_shape_str(ndim, shape, sh, sizeof sh);
    if (ovf)
        return pk_err_set(err, PK_EFORMAT, "%s: NPY shape %s is too large", name, sh);
    size_t have = len - off - hl;
    if (have != need)
        return pk_err_set(err, PK_EFORMAT, "%s: header says %s '%s' (%zu data bytes) but %zu bytes follow", name, sh,
                          dstr, need, have);
    pk_array *a = pk_array_new(d.dtype, ndim, shape);
    size_t n = numel_of(ndim, shape), es = pk_dtype_size(d.dtype);
    int transpose = fortran && ndim > 1;
    /* lin: the elements in file order, already in memory dtype and byte order */
    uint8_t *lin = transpose ? malloc(n * es + 1) : a ? a->data : NULL;
    if (!a || !lin) {
        pk_array_free(a);
        if (transpose)
            free(lin);
        return pk_err_set(err, PK_ENOMEM, "%s: out of memory for %s", name, sh);
    }
    const uint8_t *src = buf + off + hl;
    int swap = d.big == pk_host_is_le();
    if (!d.widen_u) {
        memcpy(lin, src, need);
        if (swap)
            pk_byteswap(lin, n, es);
    } else {
        for (size_t i = 0; i < n; i++) {
            uint8_t e[4];
            memcpy(e, src + i * d.file_size, d.file_size);
            if (swap)
                pk_byteswap(e, 1, d.file_size);
            if (d.widen_u == 2) {
                uint16_t v;
                memcpy(&v, e, 2);
                int32_t x = v;
                memcpy(lin + 4 * i, &x, 4);
            } else {
                uint32_t v;
                memcpy(&v, e, 4);
                int64_t x = v;
                memcpy(lin + 8 * i, &x, 8);
            }
        }
    }
    if (transpose) {
        fortran_to_c(lin, a->data, ndim, shape, es);
        free(lin);
    }
    *out = a;
    return PK_OK;
}

int pk_npy_read(const char *path, pk_array **out, pk_err *err)
{
    uint8_t *buf;
    size_t len;
    *out = NULL;
    int st = pk_file_read_all(path, PK_IO_MAX_FILE, &buf, &len, err);
    if (st)
        return st;
    st = pk_npy_parse(buf, len, path, out, err);
    free(buf);
    return st;
}

static const char *npy_descr(pk_dtype t)
{
    switch (t) {
    case PK_DTYPE_U8: return "|u1";
    case PK_DTYPE_I8: return "|i1";
    case PK_DTYPE_I16: return "<i2";
    case PK_DTYPE_I32: return "<i4";
    case PK_DTYPE_I64: return "<i8";
    case PK_DTYPE_F16: return "<f2";
    case PK_DTYPE_F32: return "<f4";
    case PK_DTYPE_F64: return "<f8";
    case PK_DTYPE_BOOL: return "|b1";
    default: return NULL;
    }
}

int pk_npy_write(const char *path, const pk_array *a, pk_err *err)
{
    if (!a || !path)
        return pk_err_set(err, PK_EINVAL, "pk_npy_write: NULL argument");
    const char *ds = npy_descr(a->dtype);
    if (!ds)
        return pk_err_set(err, PK_ENOTSUP, "%s: NPY has no dtype for %s", path, pk_dtype_name(a->dtype));
    if (a->ndim < 0 || a->ndim > PK_ARRAY_MAXDIM)
        return pk_err_set(err, PK_EINVAL, "%s: bad rank %d", path, a->ndim);
    char hdr[512];
    int k = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (", ds);
    for (int i = 0; i < a->ndim; i++)
        k += snprintf(hdr + k, sizeof hdr - (size_t)k, "%lld,%s", (long long)a->shape[i],
                      i + 1 < a->ndim ? " " : "");
    k += snprintf(hdr + k, sizeof hdr - (size_t)k, "), }");
    /* pad with spaces so that preamble + header is a multiple of 64, ending in '\n' */
    size_t total = 10 + (size_t)k + 1;
    size_t padded = (total + 63) / 64 * 64;
    size_t hl = padded - 10;
    size_t nb = pk_array_nbytes(a), es = pk_dtype_size(a->dtype);
    uint8_t *buf = malloc(padded + nb);
    if (!buf)
        return pk_err_set(err, PK_ENOMEM, "%s: out of memory", path);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (uint8_t)(hl & 0xff);
    buf[9] = (uint8_t)(hl >> 8);
    memcpy(buf + 10, hdr, (size_t)k);
    memset(buf + 10 + k, ' ', hl - (size_t)k - 1);
    buf[padded - 1] = '\n';
    memcpy(buf + padded, a->data, nb);
    if (!pk_host_is_le())
        pk_byteswap(buf + padded, nb / es, es);
    int st = pk_file_write_atomic(path, buf, padded + nb, err);
    free(buf);
    return st;
}
