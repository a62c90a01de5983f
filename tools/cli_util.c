#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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
