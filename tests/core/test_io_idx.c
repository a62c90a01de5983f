/* pk_array basics and IDX round trips / rejection of malformed files. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pk_test.h"
#include "probkit/io.h"

static char tmpdir[256];

static const char *tmp(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

static void test_array(void)
{
    int64_t sh[3] = {2, 3, 4};
    pk_array *a = pk_array_new(PK_DTYPE_F32, 3, sh);
    PK_CHECK(a != NULL);
    PK_CHECK(pk_array_numel(a) == 24);
    PK_CHECK(pk_array_nbytes(a) == 96);
    float *f = a->data;
    for (int i = 0; i < 24; i++)
        f[i] = (float)i - 3.5f;
    double *d;
    PK_CHECK_OK(pk_array_to_f64(a, &d));
    PK_CHECK(d[0] == -3.5 && d[23] == 19.5);
    free(d);
    pk_array *b = pk_array_copy(a);
    PK_CHECK(b && !memcmp(a->data, b->data, 96));
    pk_array_free(a);
    pk_array_free(b);
    pk_array_free(NULL);
    int64_t bad[2] = {-1, 3};
    PK_CHECK(pk_array_new(PK_DTYPE_U8, 2, bad) == NULL);
    int64_t huge[3] = {INT64_C(1) << 40, INT64_C(1) << 40, 4};
    PK_CHECK(pk_array_new(PK_DTYPE_U8, 3, huge) == NULL);
    PK_CHECK(pk_array_new(PK_DTYPE_U8, 9, sh) == NULL);
    pk_array *s = pk_array_new(PK_DTYPE_F64, 0, NULL);
    PK_CHECK(s && pk_array_numel(s) == 1);
    pk_array_free(s);
    pk_dtype t;
    PK_CHECK(pk_dtype_from_name("bf16", &t) == PK_OK && t == PK_DTYPE_BF16);
    PK_CHECK(pk_dtype_from_name("f128", &t) == PK_EINVAL);
    /* half precision: exact values, rounding, subnormals, inf, nan */
    PK_CHECK(pk_half_to_double(0x3c00) == 1.0);
    PK_CHECK(pk_half_to_double(0xc000) == -2.0);
    PK_CHECK(pk_half_to_double(0x7bff) == 65504.0);
    PK_CHECK(pk_half_to_double(0x0001) == ldexp(1.0, -24));
    PK_CHECK(isinf(pk_half_to_double(0x7c00)));
    PK_CHECK(isnan(pk_half_to_double(0x7e00)));
    for (uint32_t h = 0; h < 0x10000; h++) {
        double v = pk_half_to_double((uint16_t)h);
        if (isnan(v))
            continue;
        if (pk_double_to_half(v) != h) {
            PK_CHECK_MSG(0, "half 0x%04x -> %g -> 0x%04x", h, v, pk_double_to_half(v));
            break;
        }
    }
    PK_CHECK(pk_double_to_half(1.0 + ldexp(1.0, -11)) == 0x3c00); /* tie to even */
    PK_CHECK(pk_double_to_half(1e6) == 0x7c00);
}

static void test_roundtrip(pk_dtype t, const char *name)
{
    int64_t sh[3] = {3, 2, 5};
    pk_array *a = pk_array_new(t, 3, sh);
    uint8_t *p = a->data;
    for (size_t i = 0; i < pk_array_nbytes(a); i++)
        p[i] = (uint8_t)(i * 37 + 11);
    if (t == PK_DTYPE_F32 || t == PK_DTYPE_F64) /* avoid NaN payload ambiguity: use real numbers */
        for (size_t i = 0; i < 30; i++) {
            if (t == PK_DTYPE_F32)
                ((float *)a->data)[i] = (float)i * 0.25f - 2.0f;
            else
                ((double *)a->data)[i] = (double)i / 3.0 - 1e300 * (i == 7);
        }
    pk_err e;
    PK_CHECK_OK(pk_idx_write(tmp(name), a, &e));
    pk_array *b = NULL;
    PK_CHECK_OK(pk_idx_read(tmp(name), &b, &e));
    PK_CHECK(b && b->dtype == t && b->ndim == 3 && b->shape[0] == 3 && b->shape[1] == 2 && b->shape[2] == 5);
    PK_CHECK(b && !memcmp(a->data, b->data, pk_array_nbytes(a)));
    pk_array_free(a);
    pk_array_free(b);
}

static void expect_reject(const char *file, const char *needle)
{
    char p[512];
    snprintf(p, sizeof p, "%s/core/%s", PK_FIXTURES, file);
    pk_array *a = (pk_array *)1;
    pk_err e = {0};
    int st = pk_idx_read(p, &a, &e);
    PK_CHECK_MSG(st == PK_EFORMAT, "%s: status %d", file, st);
    PK_CHECK(a == NULL);
    PK_CHECK_MSG(strstr(e.msg, file) != NULL, "message does not name the file: %s", e.msg);
    PK_CHECK_MSG(strstr(e.msg, needle) != NULL, "message lacks '%s': %s", needle, e.msg);
}

static void test_golden(void)
{
    /* a tiny committed IDX: 2 images of 2x3 u8, values 0..11 */
    char p[512];
    snprintf(p, sizeof p, "%s/core/tiny-images-idx3-ubyte", PK_FIXTURES);
    pk_array *a = NULL;
    pk_err e;
    PK_CHECK_OK(pk_idx_read(p, &a, &e));
    PK_CHECK(a && a->ndim == 3 && a->shape[0] == 2 && a->shape[1] == 2 && a->shape[2] == 3);
    for (int i = 0; a && i < 12; i++)
        PK_CHECK(((uint8_t *)a->data)[i] == i * 20);
    pk_array_free(a);
    snprintf(p, sizeof p, "%s/core/tiny-images-idx3-ubyte.gz", PK_FIXTURES);
    PK_CHECK_OK(pk_idx_read(p, &a, &e));
    PK_CHECK(a && pk_array_numel(a) == 12 && ((uint8_t *)a->data)[11] == 220);
    pk_array_free(a);

    expect_reject("bad-idx-truncated", "only");
    expect_reject("bad-idx-trailing", "unexpected bytes");
    expect_reject("bad-idx-magic", "not an IDX");
    expect_reject("bad-idx-type", "data type");
    expect_reject("bad-idx-rank", "rank");
    expect_reject("bad-idx-truncated.gz", "gzip");
    expect_reject("bad-idx-empty", "too short");
}

static void test_gz_write_and_errors(void)
{
    int64_t sh[1] = {1000};
    pk_array *a = pk_array_new(PK_DTYPE_I32, 1, sh);
    for (int i = 0; i < 1000; i++)
        ((int32_t *)a->data)[i] = i * i - 5000;
    pk_err e;
    PK_CHECK_OK(pk_idx_write(tmp("x.idx.gz"), a, &e));
    pk_array *b = NULL;
    PK_CHECK_OK(pk_idx_read(tmp("x.idx.gz"), &b, &e));
    PK_CHECK(b && !memcmp(a->data, b->data, 4000));
    pk_array_free(b);
    /* unsupported dtype: error, and no file is left behind */
    pk_array *h = pk_array_new(PK_DTYPE_F16, 1, sh);
    PK_CHECK(pk_idx_write(tmp("h.idx"), h, &e) == PK_ENOTSUP);
    PK_CHECK(access(tmp("h.idx"), F_OK) != 0);
    pk_array_free(h);
    /* unwritable directory: PK_EIO */
    PK_CHECK(pk_idx_write("/nonexistent-dir/x.idx", a, &e) == PK_EIO);
    PK_CHECK(pk_idx_read(tmp("missing.idx"), &b, &e) == PK_EIO);
    pk_array_free(a);
    /* in-memory: header claims more than there is */
    const uint8_t hdr[] = {0, 0, 8, 1, 0xff, 0xff, 0xff, 0xff, 1, 2};
    PK_CHECK(pk_idx_parse(hdr, sizeof hdr, "mem", &b, &e) == PK_EFORMAT && b == NULL);
    const uint8_t huge[] = {0, 0, 0x0e, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    PK_CHECK(pk_idx_parse(huge, sizeof huge, "mem", &b, &e) == PK_EFORMAT && strstr(e.msg, "too large"));
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "test_io_idx.%ld", (long)getpid());
    pk_err e;
    if (pk_mkdirs(tmpdir, &e))
        return 1;
    test_array();
    test_roundtrip(PK_DTYPE_U8, "u8.idx");
    test_roundtrip(PK_DTYPE_I8, "i8.idx");
    test_roundtrip(PK_DTYPE_I16, "i16.idx");
    test_roundtrip(PK_DTYPE_I32, "i32.idx");
    test_roundtrip(PK_DTYPE_F32, "f32.idx");
    test_roundtrip(PK_DTYPE_F64, "f64.idx");
    test_golden();
    test_gz_write_and_errors();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return pk_test_done();
}
