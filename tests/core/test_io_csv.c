/* CSV: quoting, missing values, categorical columns, errors with line and
 * column, round trips of pk_csv_write. */
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

#define V(t, i, j) ((t)->values[(i) * (t)->ncols + (j)])

static void test_good(void)
{
    pk_table *t = NULL;
    pk_err e;
    pk_csv_opts o = pk_csv_opts_default();
    PK_CHECK_OK(pk_csv_read(fx("csv-good.csv"), &o, &t, &e));
    if (!t) {
        fprintf(stderr, "%s\n", e.msg);
        return;
    }
    PK_CHECK(t->nrows == 4 && t->ncols == 5);
    PK_CHECK(!strcmp(t->names[0], "id") && !strcmp(t->names[1], "age") && !strcmp(t->names[3], "note, with comma"));
    PK_CHECK(pk_table_find(t, "score") == 4 && pk_table_find(t, "nope") == -1);
    PK_CHECK(!t->categorical[0] && !t->categorical[1] && t->categorical[2] && t->categorical[3] && !t->categorical[4]);
    PK_CHECK(V(t, 0, 1) == 34 && isnan(V(t, 1, 1)) && V(t, 2, 1) == 41 && isnan(V(t, 3, 1)));
    PK_CHECK(V(t, 0, 4) == 1.5 && V(t, 1, 4) == -2e-3 && isinf(V(t, 2, 4)) && isnan(V(t, 3, 4)));
    /* city: Paris, "Ber\nlin", Paris, Rome -> codes 0 1 0 2 */
    PK_CHECK(t->nlevels[2] == 3 && !strcmp(t->levels[2][1], "Ber\nlin") && !strcmp(t->levels[2][2], "Rome"));
    PK_CHECK(V(t, 0, 2) == 0 && V(t, 1, 2) == 1 && V(t, 2, 2) == 0 && V(t, 3, 2) == 2);
    /* note: quoted empty string counts as missing ("" is an NA token); CRLF inside quotes kept */
    PK_CHECK(!strcmp(t->levels[3][0], "he said \"hi\"") && isnan(V(t, 2, 3)));
    PK_CHECK(t->nlevels[3] == 3 && !strcmp(t->levels[3][2], "multi\r\nline"));
    pk_table_free(t);
    pk_table_free(NULL);

    /* mixed column becomes categorical; with require_numeric it is an error naming line and column */
    PK_CHECK_OK(pk_csv_read(fx("csv-mixed.csv"), &o, &t, &e));
    PK_CHECK(t && t->categorical[1] && t->nlevels[1] == 3 && isnan(V(t, 2, 1)));
    pk_table_free(t);
    o.require_numeric = 1;
    PK_CHECK(pk_csv_read(fx("csv-mixed.csv"), &o, &t, &e) == PK_EFORMAT && t == NULL);
    PK_CHECK_MSG(strstr(e.msg, "csv-mixed.csv:5: column 'age': expected a number, got \"old\""), "%s", e.msg);
    o = pk_csv_opts_default();

    /* skip_lines and no header */
    o.skip_lines = 1;
    PK_CHECK_OK(pk_csv_read(fx("csv-skip.csv"), &o, &t, &e));
    PK_CHECK(t && t->nrows == 2 && t->ncols == 3 && !strcmp(t->names[2], "C") && V(t, 1, 2) == 6);
    pk_table_free(t);
    o.has_header = 0;
    PK_CHECK_OK(pk_csv_read(fx("csv-skip.csv"), &o, &t, &e));
    PK_CHECK(t && t->nrows == 3 && !strcmp(t->names[0], "V1") && t->categorical[0] && t->categorical[2] &&
             V(t, 2, 2) == 2 && !strcmp(t->levels[2][2], "6"));
    pk_table_free(t);

    /* tab-separated in memory, no trailing newline, custom NA */
    o = pk_csv_opts_default();
    o.delimiter = '\t';
    o.na_values = "missing";
    const char *tsv = "a\tb\n1\tmissing\n\t3";
    PK_CHECK_OK(pk_csv_parse(tsv, strlen(tsv), "mem.tsv", &o, &t, &e));
    PK_CHECK(t && t->nrows == 2 && isnan(V(t, 0, 1)) && t->categorical[0] && V(t, 1, 1) == 3);
    pk_table_free(t);
}

/* Line endings, trailing delimiters, quoted numbers, whitespace, no final newline. */
static void test_edges(void)
{
    pk_csv_opts o = pk_csv_opts_default();
    pk_table *t = NULL;
    pk_err e;
    const char *cr = "a,b\r1,2\r\r3,4";
    PK_CHECK_OK(pk_csv_parse(cr, strlen(cr), "cr.csv", &o, &t, &e));
    PK_CHECK(t && t->nrows == 2 && V(t, 1, 1) == 4);
    pk_table_free(t);
    const char *trail = "a,b,\n1,2,\n3,4,\n";
    PK_CHECK_OK(pk_csv_parse(trail, strlen(trail), "trail.csv", &o, &t, &e));
    PK_CHECK(t && t->ncols == 3 && !strcmp(t->names[2], "V3") && isnan(V(t, 0, 2)) && !t->categorical[2]);
    pk_table_free(t);
    const char *q = "\"x\",\" y \"\n\"1.5\",\" keep \"\n  -2e3 , \" keep \"\n";
    PK_CHECK_OK(pk_csv_parse(q, strlen(q), "q.csv", &o, &t, &e));
    PK_CHECK(t && !t->categorical[0] && V(t, 0, 0) == 1.5 && V(t, 1, 0) == -2000);
    PK_CHECK(t && t->categorical[1] && t->nlevels[1] == 1 && !strcmp(t->levels[1][0], " keep "));
    pk_table_free(t);
    /* things that are not numbers: hex, thousands separators, bare signs and dots */
    const char *nn = "v\n0x10\n1,000\n";
    o.delimiter = ';';
    PK_CHECK_OK(pk_csv_parse(nn, strlen(nn), "nn.csv", &o, &t, &e));
    PK_CHECK(t && t->categorical[0] && t->nlevels[0] == 2);
    pk_table_free(t);
    const char *signs = "v;w\n+;.\n-;1.\n";
    PK_CHECK_OK(pk_csv_parse(signs, strlen(signs), "s.csv", &o, &t, &e));
    PK_CHECK(t && t->categorical[0] && t->categorical[1]);
    pk_table_free(t);
    const char *ok = "v\n.5\n5.\n+1e-3\n-INF\n";
    PK_CHECK_OK(pk_csv_parse(ok, strlen(ok), "ok.csv", &o, &t, &e));
    PK_CHECK(t && !t->categorical[0] && V(t, 0, 0) == 0.5 && V(t, 1, 0) == 5 && V(t, 2, 0) == 1e-3 &&
             isinf(V(t, 3, 0)) && V(t, 3, 0) < 0);
    pk_table_free(t);
    /* a bad delimiter is an argument error */
    o.delimiter = '"';
    PK_CHECK(pk_csv_parse(ok, strlen(ok), "ok.csv", &o, &t, &e) == PK_EINVAL && t == NULL);
    /* only a header: zero rows */
    o = pk_csv_opts_default();
    PK_CHECK_OK(pk_csv_parse("a,b\n", 4, "h.csv", &o, &t, &e));
    PK_CHECK(t && t->nrows == 0 && t->ncols == 2);
    pk_table_free(t);
}

static void expect_err(const char *file, const char *needle)
{
    pk_table *t = (pk_table *)1;
    pk_err e = {0};
    pk_csv_opts o = pk_csv_opts_default();
    int st = pk_csv_read(fx(file), &o, &t, &e);
    PK_CHECK_MSG(st == PK_EFORMAT, "%s: status %d", file, st);
    PK_CHECK(t == NULL);
    PK_CHECK_MSG(strstr(e.msg, file) && strstr(e.msg, needle), "%s: message '%s' lacks '%s'", file, e.msg, needle);
    fprintf(stderr, "  rejected as expected: %s\n", e.msg);
}

static void test_errors(void)
{
    expect_err("bad-csv-ragged.csv", ".csv:3: expected 3 fields (as in line 1), found 2");
    expect_err("bad-csv-unclosed.csv", ".csv:2:3: quoted field never closed");
    expect_err("bad-csv-after-quote.csv", ".csv:2:6: unexpected 'y' after a closing quote");
    expect_err("bad-csv-dupname.csv", "column name 'a' appears twice");
    expect_err("bad-csv-nul.csv", ".csv:3:2: NUL byte");
    expect_err("bad-csv-empty.csv", "no rows");
}

static void test_write(void)
{
    double v[3 * 3] = {1.0 / 3.0, -0.0, 1e-300, NAN, INFINITY, -INFINITY, 123456789012345678.0, 2.5e300, -7};
    const char *names[3] = {"plain", "with, comma", "quote \"q\""};
    char path[512];
    snprintf(path, sizeof path, "%s/out.csv", tmpdir);
    pk_err e;
    PK_CHECK_OK(pk_csv_write(path, 3, 3, names, v, &e));
    pk_table *t = NULL;
    pk_csv_opts o = pk_csv_opts_default();
    PK_CHECK_OK(pk_csv_read(path, &o, &t, &e));
    PK_CHECK(t && t->nrows == 3 && t->ncols == 3);
    for (int j = 0; t && j < 3; j++)
        PK_CHECK(!strcmp(t->names[j], names[j]) && !t->categorical[j]);
    for (int i = 0; t && i < 9; i++)
        PK_CHECK_MSG((isnan(v[i]) && isnan(t->values[i])) || (v[i] == t->values[i] && signbit(v[i]) == signbit(t->values[i])),
                     "cell %d: %.17g vs %.17g", i, v[i], t->values[i]);
    pk_table_free(t);
    PK_CHECK(pk_csv_write("/nonexistent-dir/out.csv", 3, 3, names, v, &e) == PK_EIO);
}

static void test_sklearn(void)
{
    const char *p = "/usr/lib/python3/dist-packages/sklearn/datasets/data/iris.csv";
    if (access(p, R_OK) != 0) {
        fprintf(stderr, "  (sklearn iris.csv not installed: skipped)\n");
        return;
    }
    pk_table *t = NULL;
    pk_err e;
    pk_csv_opts o = pk_csv_opts_default();
    PK_CHECK_OK(pk_csv_read(p, &o, &t, &e));
    PK_CHECK(t && t->nrows == 150 && t->ncols == 5 && !t->categorical[0] && !t->categorical[4]);
    PK_CHECK(t && V(t, 0, 0) == 5.1 && V(t, 149, 4) == 2);
    pk_table_free(t);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "test_io_csv.%ld", (long)getpid());
    pk_err e;
    if (pk_mkdirs(tmpdir, &e))
        return 1;
    test_good();
    test_edges();
    test_errors();
    test_write();
    test_sklearn();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return pk_test_done();
}
