/* NPY: numpy-written fixtures (tests/ref/io_npy.py) read back exactly,
 * round trips of every writable dtype, malformed headers rejected. */
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

/* the value tests/ref/io_npy.py stored at C-order index i */
static double expect(const char *kind, size_t i)
{
    int64_t v = 7 * (int64_t)i - 11;
    if (!strcmp(kind, "f"))
        return (double)v / 4.0;
    if (!strcmp(kind, "b"))
        return i % 3 == 0;
    if (!strcmp(kind, "u1"))
        return (uint8_t)v;
    if (!strcmp(kind, "u2"))
        return (uint16_t)v;
    if (!strcmp(kind, "u4"))
        return (uint32_t)v;
    if (!strcmp(kind, "i1"))
        return (int8_t)v;
    if (!strcmp(kind, "i2"))
        return (int16_t)v;
    if (!strcmp(kind, "i4"))
        return (int32_t)v;
    return (double)v;
}

static const struct {
    const char *name, *kind;
    pk_dtype dtype;
    int ndim;
    int64_t shape[3];
} CASES[] = {
    {"u1", "u1", PK_DTYPE_U8, 2, {3, 4}},
    {"i1", "i1", PK_DTYPE_I8, 1, {5}},
    {"i2", "i2", PK_DTYPE_I16, 2, {2, 3}},
    {"i2be", "i2", PK_DTYPE_I16, 2, {2, 3}},
    {"i4", "i4", PK_DTYPE_I32, 3, {2, 2, 2}},
    {"i8be", "i8", PK_DTYPE_I64, 1, {4}},
    {"u2", "u2", PK_DTYPE_I32, 2, {3, 3}},
    {"u4be", "u4", PK_DTYPE_I64, 2, {2, 5}},
    {"f2", "f", PK_DTYPE_F16, 2, {2, 4}},
    {"f4", "f", PK_DTYPE_F32, 2, {3, 5}},
    {"f4be", "f", PK_DTYPE_F32, 2, {3, 5}},
    {"f8", "f", PK_DTYPE_F64, 2, {4, 3}},
    {"f8v3", "f", PK_DTYPE_F64, 2, {2, 3}},
    {"b1", "b", PK_DTYPE_BOOL, 1, {7}},
    {"f8fortran", "f", PK_DTYPE_F64, 2, {3, 4}},
    {"i4fortran3d", "i4", PK_DTYPE_I32, 3, {2, 3, 4}},
    {"u2fortran", "u2", PK_DTYPE_I32, 2, {4, 2}},
    {"scalar", "f", PK_DTYPE_F64, 0, {0}},
    {"empty", "f", PK_DTYPE_F32, 2, {0, 3}},
};

static void test_numpy_fixtures(void)
{
    for (size_t k = 0; k < sizeof CASES / sizeof *CASES; k++) {
        char f[64];
        snprintf(f, sizeof f, "npy-%s.npy", CASES[k].name);
        pk_array *a = NULL;
        pk_err e;
        int st = pk_npy_read(fx(f), &a, &e);
        PK_CHECK_MSG(st == PK_OK, "%s: %s", f, e.msg);
        if (!a)
            continue;
        PK_CHECK_MSG(a->dtype == CASES[k].dtype, "%s: dtype %s", f, pk_dtype_name(a->dtype));
        PK_CHECK_MSG(a->ndim == CASES[k].ndim, "%s: ndim %d", f, a->ndim);
        for (int d = 0; d < a->ndim && d < 3; d++)
            PK_CHECK_MSG(a->shape[d] == CASES[k].shape[d], "%s: shape[%d] = %lld", f, d, (long long)a->shape[d]);
        size_t n = pk_array_numel(a), bad = 0;
        for (size_t i = 0; i < n; i++)
            if (pk_array_get(a, i) != expect(CASES[k].kind, i)) {
                if (!bad++)
                    fprintf(stderr, "%s[%zu] = %.17g, expected %.17g\n", f, i, pk_array_get(a, i),
                            expect(CASES[k].kind, i));
            }
        PK_CHECK_MSG(bad == 0, "%s: %zu of %zu values differ", f, bad, n);
        /* write it back, read again: identical */
        char out[512];
        snprintf(out, sizeof out, "%s/%s", tmpdir, f);
        PK_CHECK_OK(pk_npy_write(out, a, &e));
        pk_array *b = NULL;
        PK_CHECK_OK(pk_npy_read(out, &b, &e));
        PK_CHECK_MSG(b && b->dtype == a->dtype && b->ndim == a->ndim && pk_array_nbytes(b) == pk_array_nbytes(a) &&
                         !memcmp(a->data, b->data, pk_array_nbytes(a)),
                     "%s: round trip differs", f);
        pk_array_free(b);
        pk_array_free(a);
    }
}

static void test_reject(void)
{
    const char *bad[] = {"bad-npy-magic.npy",   "bad-npy-truncated.npy", "bad-npy-trailing.npy",
                         "bad-npy-hlen.npy",    "bad-npy-version.npy",   "bad-npy-nokey.npy",
                         "bad-npy-extrakey.npy", "bad-npy-shape.npy",    "bad-npy-notdict.npy",
                         "bad-npy-ndim.npy",    "bad-npy-descr.npy",     "bad-npy-fortran.npy",
                         "bad-npy-huge.npy",    "bad-npy-unterminated.npy"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        pk_array *a = (pk_array *)1;
        pk_err e = {0};
        int st = pk_npy_read(fx(bad[k]), &a, &e);
        PK_CHECK_MSG(st == PK_EFORMAT, "%s: status %d (%s)", bad[k], st, e.msg);
        PK_CHECK(a == NULL);
        PK_CHECK_MSG(strstr(e.msg, bad[k]) != NULL, "message does not name the file: %s", e.msg);
        fprintf(stderr, "  rejected as expected: %s\n", e.msg);
    }
    pk_array *a = NULL;
    pk_err e;
    PK_CHECK(pk_npy_read(fx("unsup-npy-complex.npy"), &a, &e) == PK_ENOTSUP && strstr(e.msg, "<c16"));
    /* bf16 has no numpy dtype: refused, and no file appears */
    int64_t sh[1] = {3};
    pk_array *h = pk_array_new(PK_DTYPE_BF16, 1, sh);
    char out[512];
    snprintf(out, sizeof out, "%s/bf16.npy", tmpdir);
    PK_CHECK(pk_npy_write(out, h, &e) == PK_ENOTSUP);
    PK_CHECK(access(out, F_OK) != 0);
    pk_array_free(h);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "test_io_npy.%ld", (long)getpid());
    pk_err e;
    if (pk_mkdirs(tmpdir, &e))
        return 1;
    test_numpy_fixtures();
    /* numpy must read what we wrote (skipped where Debian's numpy is absent) */
    if (system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") == 0) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/ref/io_npy.py' --check '%s'", PK_SOURCE_DIR, tmpdir);
        PK_CHECK_MSG(system(cmd) == 0, "numpy could not read our .npy files back exactly");
    } else
        fprintf(stderr, "  (no /usr/bin/python3 with numpy: numpy read-back skipped)\n");
    test_reject();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return pk_test_done();
}
