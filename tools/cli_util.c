#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "cli.h"
#include "probkit/io.h"

#ifndef PK_SOURCE_DIR
#define PK_SOURCE_DIR "."
#endif

int pk_cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "probkit %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return PK_EXIT_FAIL;
}

int pk_cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "probkit %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\ntry 'probkit %s --help'\n", cmd);
    return PK_EXIT_USAGE;
}

int pk_cli_fail_status(const char *cmd, int status, const pk_err *err)
{
    if (err && err->msg[0])
        return pk_cli_fail(cmd, "%s", err->msg);
    return pk_cli_fail(cmd, "%s", pk_strerror(status));
}

int pk_cli_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int pk_cli_parse_long(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int pk_cli_parse_double(const char *s, double *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int pk_cli_is_opt(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

const char *pk_cli_optarg(const char *cmd, int argc, char **argv, int *i)
{
    const char *eq = strchr(argv[*i], '=');
    if (eq && strncmp(argv[*i], "--", 2) == 0)
        return eq + 1;
    if (*i + 1 >= argc) {
        pk_cli_usage(cmd, "option %s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

const char *pk_cli_data_dir(void)
{
    const char *d = getenv("PROBKIT_DATA");
    return d && *d ? d : PK_SOURCE_DIR "/data";
}

int pk_cli_subcommand_help(int argc, char **argv, const char *help, int *rc)
{
    if (argc < 2) {
        fputs(help, stderr);
        *rc = PK_EXIT_USAGE;
        return 1;
    }
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || (i == 1 && !strcmp(argv[i], "-h"))) {
            fputs(help, stdout);
            *rc = PK_EXIT_OK;
            return 1;
        }
    return 0;
}

static const pk_cli_opt *find_opt(const pk_cli_opt *opts, const char *arg)
{
    for (const pk_cli_opt *o = opts; o && o->name; o++)
        if (pk_cli_is_opt(arg, o->name))
            return o;
    return NULL;
}

/* One option's value into its destination; a usage message on failure. */
static int store_opt(const char *cmd, const pk_cli_opt *o, const char *v)
{
    switch (o->kind) {
    case PK_CLI_FLAG:
        *(int *)o->dst = 1;
        return 0;
    case PK_CLI_STR:
        *(const char **)o->dst = v;
        return 0;
    case PK_CLI_LONG:
        if (pk_cli_parse_long(v, (long)o->lo, (long)o->hi, (long *)o->dst) && o->choices)
            return pk_cli_usage(cmd, "%s needs %s, got '%s'", o->name, o->choices, v);
        if (pk_cli_parse_long(v, (long)o->lo, (long)o->hi, (long *)o->dst))
            return pk_cli_usage(cmd, "%s needs an integer in [%ld, %ld], got '%s'", o->name, (long)o->lo,
                                (long)o->hi, v);
        return 0;
    case PK_CLI_U64: {
        uint64_t u;
        if (pk_cli_parse_u64(v, &u) || (double)u < o->lo || (o->hi > o->lo && (double)u > o->hi)) {
            if (o->hi > o->lo)
                return pk_cli_usage(cmd, "%s needs an integer in [%.0f, %.0f], got '%s'", o->name, o->lo, o->hi, v);
            if (o->lo <= 0)
                return pk_cli_usage(cmd, "%s needs a non-negative integer, got '%s'", o->name, v);
            return pk_cli_usage(cmd, "%s needs an integer >= %.0f, got '%s'", o->name, o->lo, v);
        }
        *(uint64_t *)o->dst = u;
        return 0;
    }
    case PK_CLI_DOUBLE: {
        double d;
        if ((pk_cli_parse_double(v, &d) || d < o->lo || d > o->hi) && o->choices)
            return pk_cli_usage(cmd, "%s needs %s, got '%s'", o->name, o->choices, v);
        if (pk_cli_parse_double(v, &d) || d < o->lo || d > o->hi)
            return pk_cli_usage(cmd, "%s needs a number in [%g, %g], got '%s'", o->name, o->lo, o->hi, v);
        *(double *)o->dst = d;
        return 0;
    }
    case PK_CLI_CHOICE: {
        size_t len = strlen(v);
        int k = 0;
        for (const char *c = o->choices; c && *c; k++) {
            const char *bar = strchr(c, '|');
            size_t clen = bar ? (size_t)(bar - c) : strlen(c);
            if (clen == len && !strncmp(c, v, len)) {
                *(int *)o->dst = k;
                return 0;
            }
            c = bar ? bar + 1 : c + clen;
        }
        return pk_cli_usage(cmd, "%s must be one of %s, got '%s'", o->name, o->choices ? o->choices : "", v);
    }
    }
    return pk_cli_usage(cmd, "%s: unknown option kind", o->name);
}

int pk_cli_parse(const char *cmd, const char *help, int argc, char **argv, const pk_cli_opt *opts,
                 const char **pos, int maxpos, int *npos)
{
    int n = 0, options_done = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && (!strcmp(a, "--help") || !strcmp(a, "-h"))) {
            fputs(help, stdout);
            return PK_EXIT_OK;
        }
        if (!options_done && !strcmp(a, "--")) {
            options_done = 1;
            continue;
        }
        if (!options_done && a[0] == '-' && a[1] && !(a[1] >= '0' && a[1] <= '9')) {
            const pk_cli_opt *o = find_opt(opts, a);
            if (!o)
                return pk_cli_usage(cmd, "unknown option %s", a);
            const char *v = NULL;
            if (o->kind == PK_CLI_FLAG) {
                if (strchr(a, '='))
                    return pk_cli_usage(cmd, "%s takes no value", o->name);
            } else if (!(v = pk_cli_optarg(cmd, argc, argv, &i))) {
                return PK_EXIT_USAGE;
            }
            if (store_opt(cmd, o, v))
                return PK_EXIT_USAGE;
            continue;
        }
        if (n >= maxpos) {
            if (maxpos == 0)
                return pk_cli_usage(cmd, "unexpected argument '%s'", a);
            return pk_cli_usage(cmd, "too many arguments: '%s' (at most %d)", a, maxpos);
        }
        pos[n++] = a;
    }
    if (npos)
        *npos = n;
    return -1;
}

void pk_cli_blas_serial_default(void)
{
    if (!getenv("OPENBLAS_NUM_THREADS"))
        openblas_set_num_threads(1);
}

int pk_cli_read_csv_matrix(const char *cmd, const char *file, size_t cols, int exact, double **out, size_t *rows,
                           size_t *ncols)
{
    pk_err err = {0};
    pk_table *t = NULL;
    pk_csv_opts co = pk_csv_opts_default();
    int st = pk_csv_read(file, &co, &t, &err);
    if (st)
        return pk_cli_fail_status(cmd, st, &err);
    if (cols == 0)
        cols = t->ncols;
    if (exact ? t->ncols != cols : t->ncols < cols) {
        size_t nc = t->ncols;
        pk_table_free(t);
        return pk_cli_fail(cmd, "%s: %zu columns, expected %s%zu", file, nc, exact ? "" : "at least ", cols);
    }
    double *v = malloc((t->nrows ? t->nrows : 1) * cols * sizeof *v);
    if (!v) {
        pk_table_free(t);
        return pk_cli_fail(cmd, "out of memory");
    }
    for (size_t i = 0; i < t->nrows; i++)
        for (size_t j = 0; j < cols; j++) {
            double x = t->values[i * t->ncols + j];
            if (t->categorical[j] || !isfinite(x)) {
                int r = pk_cli_fail(cmd, "%s: row %zu, column '%s': not a finite number", file, i + 2, t->names[j]);
                free(v);
                pk_table_free(t);
                return r;
            }
            v[i * cols + j] = x;
        }
    *rows = t->nrows;
    if (ncols)
        *ncols = cols;
    *out = v;
    pk_table_free(t);
    return 0;
}

int pk_cli_dispatch(const char *cmd, const char *help, int argc, char **argv, const pk_cli_sub *subs, int serial)
{
    int rc;
    if (pk_cli_subcommand_help(argc, argv, help, &rc))
        return rc;
    if (serial)
        pk_cli_blas_serial_default();
    char names[256] = "";
    size_t used = 0;
    for (const pk_cli_sub *s = subs; s->name; s++) {
        if (!strcmp(argv[1], s->name))
            return s->run(argc - 1, argv + 1);
        int w = snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", s->name);
        if (w > 0 && (size_t)w < sizeof names - used)
            used += (size_t)w;
    }
    return pk_cli_usage(cmd, "unknown subcommand '%s' (%s)", argv[1], names);
}
