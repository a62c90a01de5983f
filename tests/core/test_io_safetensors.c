/* safetensors: fixtures written from the format description by
 * tests/ref/io_safetensors.py read back exactly; round trips; malformed
 * headers (offsets, sizes, dtypes, overlaps, names) rejected. */
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

static double expect(const char *st, size_t i)
{
    int64_t v = 7 * (int64_t)i - 11;
    if (st[0] == 'F')
        return (double)v / 4.0;
    if (!strcmp(st, "BOOL"))
        return i % 3 == 0;
    if (!strcmp(st, "U8"))
        return (uint8_t)v;
    if (!strcmp(st, "U16"))
        return (uint16_t)v;
    if (!strcmp(st, "U32"))
        return (uint32_t)v;
    if (!strcmp(st, "I8"))
        return (int8_t)v;
    if (!strcmp(st, "I16"))
        return (int16_t)v;
    if (!strcmp(st, "I32"))
        return (int32_t)v;
    return (double)v;
}

static const struct {
    const char *name, *st;
    pk_dtype dtype;
    int ndim;
    int64_t shape[3];
} GOOD[] = {
    {"weight", "F32", PK_DTYPE_F32, 2, {3, 4}}, {"bias", "F64", PK_DTYPE_F64, 1, {4}},
    {"counts", "I64", PK_DTYPE_I64, 2, {2, 2}}, {"half", "F16", PK_DTYPE_F16, 1, {5}},
    {"small", "I8", PK_DTYPE_I8, 1, {6}},       {"pix", "U8", PK_DTYPE_U8, 2, {2, 3}},
    {"mask", "BOOL", PK_DTYPE_BOOL, 1, {7}},    {"i16", "I16", PK_DTYPE_I16, 1, {3}},
    {"i32", "I32", PK_DTYPE_I32, 3, {2, 2, 2}}, {"u16", "U16", PK_DTYPE_I32, 1, {4}},
    {"u32", "U32", PK_DTYPE_I64, 1, {3}},       {"scalar", "F64", PK_DTYPE_F64, 0, {0}},
    {"empty", "F32", PK_DTYPE_F32, 2, {0, 2}},
};
#define NGOOD (sizeof GOOD / sizeof *GOOD)

static void check_good(const pk_tensor_file *f, const char *what)
{
    PK_CHECK_MSG(f->n == NGOOD, "%s: %zu tensors", what, f->n);
    for (size_t k = 0; k < NGOOD; k++) {
        const pk_array *a = pk_tensor_file_get(f, GOOD[k].name);
        PK_CHECK_MSG(a != NULL, "%s: no tensor '%s'", what, GOOD[k].name);
        if (!a)
            continue;
        PK_CHECK_MSG(a->dtype == GOOD[k].dtype && a->ndim == GOOD[k].ndim, "%s: '%s' dtype/ndim", what,
                     GOOD[k].name);
        for (int d = 0; d < a->ndim; d++)
            PK_CHECK(a->shape[d] == GOOD[k].shape[d]);
        size_t bad = 0;
        for (size_t i = 0; i < pk_array_numel(a); i++)
            bad += pk_array_get(a, i) != expect(GOOD[k].st, i);
        PK_CHECK_MSG(bad == 0, "%s: '%s': %zu values differ", what, GOOD[k].name, bad);
    }
    PK_CHECK(pk_tensor_file_get(f, "nope") == NULL);
}

static void test_good(void)
{
    pk_tensor_file *f = NULL;
    pk_err e;
    PK_CHECK_OK(pk_safetensors_read(fx("st-good.safetensors"), &f, &e));
    if (!f)
        return;
    check_good(f, "st-good");
    PK_CHECK(f->n_meta == 2);
    int found = 0;
    for (size_t i = 0; i < f->n_meta; i++)
        found += !strcmp(f->meta_keys[i], "note") && !strcmp(f->meta_values[i], "probkit fixture");
    PK_CHECK(found == 1);
    /* write it back with its metadata and read again */
    char out[512];
    snprintf(out, sizeof out, "%s/rt.safetensors", tmpdir);
    PK_CHECK_OK(pk_safetensors_write(out, f->n, (const char *const *)f->names, (const pk_array *const *)f->arrays,
                                     f->n_meta, (const char *const *)f->meta_keys,
                                     (const char *const *)f->meta_values, &e));
    pk_tensor_file *g = NULL;
    PK_CHECK_OK(pk_safetensors_read(out, &g, &e));
    if (g) {
        check_good(g, "round trip");
        PK_CHECK(g->n_meta == 2);
        /* file order preserved */
        for (size_t i = 0; i < g->n && i < f->n; i++)
            PK_CHECK(!strcmp(g->names[i], f->names[i]));
    }
    pk_tensor_file_free(g);
    pk_tensor_file_free(f);
    PK_CHECK_OK(pk_safetensors_read(fx("st-nometa.safetensors"), &f, &e));
    PK_CHECK(f && f->n == 1 && f->n_meta == 0 && pk_array_get(f->arrays[0], 1) == -1.0);
    pk_tensor_file_free(f);
    pk_tensor_file_free(NULL);
}

static void test_reject(void)
{
    const char *bad[] = {"bad-st-short.safetensors",       "bad-st-hlen.safetensors",
                         "bad-st-hlen-past-end.safetensors", "bad-st-json.safetensors",
                         "bad-st-notobj.safetensors",      "bad-st-dtype-missing.safetensors",
                         "bad-st-size.safetensors",        "bad-st-overlap.safetensors",
                         "bad-st-gap.safetensors",         "bad-st-past-end.safetensors",
                         "bad-st-trailing.safetensors",    "bad-st-reversed.safetensors",
                         "bad-st-negative.safetensors",    "bad-st-float-shape.safetensors",
                         "bad-st-dup.safetensors",         "bad-st-emptyname.safetensors",
                         "bad-st-meta.safetensors",        "bad-st-extra-key.safetensors",
                         "bad-st-huge-shape.safetensors",  "bad-st-nul.safetensors"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        pk_tensor_file *f = (pk_tensor_file *)1;
        pk_err e = {0};
        int st = pk_safetensors_read(fx(bad[k]), &f, &e);
        PK_CHECK_MSG(st == PK_EFORMAT, "%s: status %d (%s)", bad[k], st, e.msg);
        PK_CHECK(f == NULL);
        PK_CHECK_MSG(strstr(e.msg, bad[k]) != NULL, "message does not name the file: %s", e.msg);
        fprintf(stderr, "  rejected as expected: %s\n", e.msg);
    }
    pk_tensor_file *f = NULL;
    pk_err e;
    PK_CHECK(pk_safetensors_read(fx("unsup-st-f8.safetensors"), &f, &e) == PK_ENOTSUP && strstr(e.msg, "F8_E4M3"));
}

static void test_write_errors(void)
{
    int64_t sh[2] = {2, 2};
    pk_array *a = pk_array_new(PK_DTYPE_F32, 2, sh);
    const pk_array *arr[2] = {a, a};
    const char *dup[2] = {"w", "w"}, *res[1] = {"__metadata__"}, *empty[1] = {""};
    char out[512];
    snprintf(out, sizeof out, "%s/bad.safetensors", tmpdir);
    pk_err e;
    PK_CHECK(pk_safetensors_write(out, 2, dup, arr, 0, NULL, NULL, &e) == PK_EINVAL && strstr(e.msg, "repeated"));
    PK_CHECK(pk_safetensors_write(out, 1, res, arr, 0, NULL, NULL, &e) == PK_EINVAL);
    PK_CHECK(pk_safetensors_write(out, 1, empty, arr, 0, NULL, NULL, &e) == PK_EINVAL);
    const char *bad_utf8[1] = {"\xff\xfe"};
    PK_CHECK(pk_safetensors_write(out, 1, bad_utf8, arr, 0, NULL, NULL, &e) == PK_EINVAL);
    PK_CHECK(access(out, F_OK) != 0);
    /* zero tensors is a valid file */
    PK_CHECK_OK(pk_safetensors_write(out, 0, NULL, NULL, 0, NULL, NULL, &e));
    pk_tensor_file *f = NULL;
    PK_CHECK_OK(pk_safetensors_read(out, &f, &e));
    PK_CHECK(f && f->n == 0);
    pk_tensor_file_free(f);
    pk_array_free(a);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "test_io_st.%ld", (long)getpid());
    pk_err e;
    if (pk_mkdirs(tmpdir, &e))
        return 1;
    test_good();
    test_reject();
    test_write_errors();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return pk_test_done();
}
