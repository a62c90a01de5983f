/* PNG: round trips of every channel count, Pillow-written fixtures decoded
 * exactly, malformed files rejected with a message naming the file. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pk_test.h"
#include "probkit/io.h"

static char tmpdir[256];

static const char *fx(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/core/%s", PK_FIXTURES, name);
    return p;
}

static void test_roundtrip(void)
{
    for (int ch = 1; ch <= 4; ch++) {
        int64_t sh[3] = {17, 23, ch};
        pk_array *a = pk_array_new(PK_DTYPE_U8, ch == 1 ? 2 : 3, sh);
        uint8_t *p = a->data;
        for (size_t i = 0; i < pk_array_nbytes(a); i++)
            p[i] = (uint8_t)(i * 131 + i / 7);
        char path[512];
        snprintf(path, sizeof path, "%s/rt%d.png", tmpdir, ch);
        pk_err e;
        PK_CHECK_OK(pk_png_write(path, a, &e));
        pk_array *b = NULL;
        PK_CHECK_OK(pk_png_read(path, &b, &e));
        PK_CHECK(b && b->ndim == a->ndim && b->shape[0] == 17 && b->shape[1] == 23);
        PK_CHECK(b && pk_array_nbytes(b) == pk_array_nbytes(a) && !memcmp(a->data, b->data, pk_array_nbytes(a)));
        pk_array_free(b);
        uint8_t *png;
        size_t len;
        PK_CHECK_OK(pk_png_encode(a, &png, &len, &e));
        PK_CHECK_OK(pk_png_parse(png, len, "mem", &b, &e));
        PK_CHECK(b && !memcmp(a->data, b->data, pk_array_nbytes(a)));
        pk_array_free(b);
        free(png);
        pk_array_free(a);
    }
}

/* A maximally compressible image (all zero) must still pass the
 * deflate-ratio bound that guards against tiny files claiming huge images. */
static void test_compressible(void)
{
    int64_t sh[2] = {3000, 3000};
    pk_array *a = pk_array_new(PK_DTYPE_U8, 2, sh);
    uint8_t *png = NULL;
    size_t len = 0;
    pk_err e;
    PK_CHECK_OK(pk_png_encode(a, &png, &len, &e));
    pk_array *b = NULL;
    int st = pk_png_parse(png, len, "zeros.png", &b, &e);
    PK_CHECK_MSG(st == PK_OK, "%zu-byte PNG of 3000x3000 zeros: %s", len, e.msg);
    PK_CHECK(b && b->shape[0] == 3000 && b->shape[1] == 3000);
    pk_array_free(b);
    free(png);
    pk_array_free(a);
}

static void test_fixtures(void)
{
    const char *names[] = {"gray", "rgb", "rgba", "gray-interlaced", "gray16", "bilevel", "palette", "palette-trns"};
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        char p[128], q[128];
        snprintf(p, sizeof p, "png-%s.png", names[k]);
        snprintf(q, sizeof q, "png-%s.expect.idx", names[k]);
        pk_array *img = NULL, *want = NULL;
        pk_err e;
        int st = pk_png_read(fx(p), &img, &e);
        PK_CHECK_MSG(st == PK_OK, "%s: %s", p, e.msg);
        PK_CHECK_OK(pk_idx_read(fx(q), &want, &e));
        if (img && want) {
            PK_CHECK_MSG(img->ndim == want->ndim, "%s: ndim %d vs %d", p, img->ndim, want->ndim);
            int same = img->ndim == want->ndim;
            for (int i = 0; same && i < img->ndim; i++)
                same = img->shape[i] == want->shape[i];
            PK_CHECK_MSG(same, "%s: shape differs", p);
            PK_CHECK_MSG(same && !memcmp(img->data, want->data, pk_array_nbytes(want)), "%s: pixels differ", p);
        }
        pk_array_free(img);
        pk_array_free(want);
    }
}

static void test_reject(void)
{
    const char *bad[] = {"bad-png-truncated.png", "bad-png-signature.png", "bad-png-crc.png", "bad-png-huge.png",
                         "bad-png-zero.png",      "bad-png-depth.png",     "bad-png-short-idat.png",
                         /* found by fuzz_png: a chunk length of 1.7 GB in a 73-byte file made libpng
                          * allocate 1.7 GB before noticing the truncation */
                         "bad-png-chunk-length.png"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        pk_array *img = (pk_array *)1;
        pk_err e = {0};
        int st = pk_png_read(fx(bad[k]), &img, &e);
        PK_CHECK_MSG(st == PK_EFORMAT, "%s: status %d (%s)", bad[k], st, e.msg);
        PK_CHECK(img == NULL);
        PK_CHECK_MSG(strstr(e.msg, bad[k]) != NULL, "message does not name the file: %s", e.msg);
        fprintf(stderr, "  rejected as expected: %s\n", e.msg);
    }
    /* writer argument checks: nothing is created */
    int64_t sh[3] = {4, 4, 5};
    pk_array *a = pk_array_new(PK_DTYPE_U8, 3, sh);
    char path[512];
    snprintf(path, sizeof path, "%s/bad.png", tmpdir);
    pk_err e;
    PK_CHECK(pk_png_write(path, a, &e) == PK_EINVAL);
    pk_array_free(a);
    int64_t z[2] = {0, 4};
    a = pk_array_new(PK_DTYPE_U8, 2, z);
    PK_CHECK(pk_png_write(path, a, &e) == PK_EINVAL);
    pk_array_free(a);
    a = pk_array_new(PK_DTYPE_F32, 2, sh);
    PK_CHECK(pk_png_write(path, a, &e) == PK_EINVAL && strstr(e.msg, "bad.png"));
    pk_array_free(a);
    PK_CHECK(access(path, F_OK) != 0);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "test_io_png.%ld", (long)getpid());
    pk_err e;
    if (pk_mkdirs(tmpdir, &e))
        return 1;
    test_roundtrip();
    test_compressible();
    test_fixtures();
    test_reject();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return pk_test_done();
}
