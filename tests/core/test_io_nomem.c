/* Every parser survives the failure of each of its allocations in turn:
 * it returns PK_ENOMEM (never a crash, never a half-built object) and frees
 * everything it had allocated.  malloc/calloc/realloc/free are interposed
 * here and forward to glibc's; skipped under ASan, which owns malloc. */
#include <stdlib.h>
#include <string.h>

#include "pk_test.h"
#include "probkit/io.h"

#if defined(__SANITIZE_ADDRESS__)
#define PK_NOMEM_SKIP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PK_NOMEM_SKIP 1
#endif
#endif

#ifndef PK_NOMEM_SKIP
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static long fail_at = -1; /* the armed allocation number that fails; -1: none */
static long n_alloc;      /* allocations attempted while armed */
static long live;         /* successful allocations minus frees, all the time */
static int armed;

static int should_fail(void)
{
    return armed && ++n_alloc == fail_at;
}

void *malloc(size_t n)
{
    if (should_fail())
        return NULL;
    void *p = __libc_malloc(n);
    if (p)
        live++;
    return p;
}

void *calloc(size_t a, size_t b)
{
    if (should_fail())
        return NULL;
    void *p = __libc_calloc(a, b);
    if (p)
        live++;
    return p;
}

void *realloc(void *q, size_t n)
{
    if (should_fail())
        return NULL;
    void *p = __libc_realloc(q, n);
    if (p && !q)
        live++;
    return p;
}

void free(void *p)
{
    if (p)
        live--;
    __libc_free(p);
}

typedef int (*parse_fn)(const uint8_t *, size_t, const char *, pk_err *);

static int p_idx(const uint8_t *b, size_t n, const char *name, pk_err *e)
{
    pk_array *a = NULL;
    int st = pk_idx_parse(b, n, name, &a, e);
    pk_array_free(a);
    return st;
}
static int p_npy(const uint8_t *b, size_t n, const char *name, pk_err *e)
{
    pk_array *a = NULL;
    int st = pk_npy_parse(b, n, name, &a, e);
    pk_array_free(a);
    return st;
}
static int p_png(const uint8_t *b, size_t n, const char *name, pk_err *e)
{
    pk_array *a = NULL;
    int st = pk_png_parse(b, n, name, &a, e);
    if (st == PK_OK) {
        uint8_t *png = NULL;
        size_t len;
        st = pk_png_encode(a, &png, &len, e);
        free(png);
    }
    pk_array_free(a);
    return st;
}
static int p_st(const uint8_t *b, size_t n, const char *name, pk_err *e)
{
    pk_tensor_file *f = NULL;
    int st = pk_safetensors_parse(b, n, name, &f, e);
    pk_tensor_file_free(f);
    return st;
}
static int p_csv(const uint8_t *b, size_t n, const char *name, pk_err *e)
{
    pk_table *t = NULL;
    pk_csv_opts o = pk_csv_opts_default();
    int st = pk_csv_parse((const char *)b, n, name, &o, &t, e);
    pk_table_free(t);
    return st;
}

/* json_ok: jansson misreports some allocation failures as syntax errors; accept
 * PK_EFORMAT from the JSON stage there (counted and printed). */
static void run(const char *fixture, parse_fn fn, int json_ok)
{
    char path[512];
    snprintf(path, sizeof path, "%s/core/%s", PK_FIXTURES, fixture);
    uint8_t *buf;
    size_t len;
    pk_err e;
    if (pk_file_read_all(path, 0, &buf, &len, &e)) {
        PK_CHECK_MSG(0, "%s", e.msg);
        return;
    }
    long k, bad_status = 0, leaks = 0, json_misreport = 0;
    for (k = 1; k < 100000; k++) {
        long before = live;
        n_alloc = 0;
        fail_at = k;
        armed = 1;
        pk_err pe = {0};
        int st = fn(buf, len, fixture, &pe);
        armed = 0;
        if (live != before)
            leaks++;
        if (st == PK_OK && n_alloc < k)
            break; /* the k-th allocation was never reached: every failure point covered */
        /* jansson survives some failures (a hash table that does not grow) */
        if (st == PK_OK && json_ok)
            continue;
        if (st == PK_EFORMAT && json_ok && strstr(pe.msg, "JSON")) {
            json_misreport++;
            continue;
        }
        if (st != PK_ENOMEM && !bad_status++)
            fprintf(stderr, "%s: failing allocation %ld gave status %d\n", fixture, k, st);
    }
    PK_CHECK_MSG(bad_status == 0, "%s: %ld failure points gave a status other than PK_ENOMEM", fixture, bad_status);
    PK_CHECK_MSG(leaks == 0, "%s: %ld failure points leaked", fixture, leaks);
    PK_CHECK_MSG(k > 1, "%s: no allocation was exercised", fixture);
    fprintf(stderr, "  %s: %ld allocation failure points checked", fixture, k - 1);
    if (json_misreport)
        fprintf(stderr, " (%ld reported by jansson as a JSON syntax error)", json_misreport);
    fputc('\n', stderr);
    free(buf);
}

int main(void)
{
    run("tiny-images-idx3-ubyte", p_idx, 0);
    run("npy-i4fortran3d.npy", p_npy, 0);
    run("npy-u4be.npy", p_npy, 0);
    run("png-palette-trns.png", p_png, 0);
    run("png-gray16.png", p_png, 0);
    run("st-good.safetensors", p_st, 1);
    run("csv-good.csv", p_csv, 0);
    return pk_test_done();
}
#else
int main(void)
{
    fprintf(stderr, "allocation-failure test skipped under AddressSanitizer\n");
    return 0;
}
#endif
