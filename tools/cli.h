/* cli.h — what every `probkit <command>` file shares.
 *
 * A command lives in tools/cmd_<name>.c and defines
 *     const pk_cli_cmd pk_cmd_<name> = {"name", "one-line summary", main_fn};
 * CMake collects it into the command table; nothing else needs editing.
 * main_fn gets argv with argv[0] = the command name and returns the exit
 * code: 0 ok, 1 runtime failure, 2 usage error.
 */
#ifndef PK_TOOLS_CLI_H
#define PK_TOOLS_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "probkit/core.h"

typedef struct pk_cli_cmd {
    const char *name;
    const char *summary;
    int (*main)(int argc, char **argv);
} pk_cli_cmd;

enum { PK_EXIT_OK = 0, PK_EXIT_FAIL = 1, PK_EXIT_USAGE = 2 };

/** Print "probkit <cmd>: message" to stderr; returns PK_EXIT_FAIL. */
int pk_cli_fail(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/** Same, for a usage error (adds "try 'probkit <cmd> --help'"); returns PK_EXIT_USAGE. */
int pk_cli_usage(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/** Print a failed status with the pk_err message if any; returns PK_EXIT_FAIL. */
int pk_cli_fail_status(const char *cmd, int status, const pk_err *err);

/** Strict number parsing: the whole string must be a number in range. 0 on success. */
int pk_cli_parse_u64(const char *s, uint64_t *out);
int pk_cli_parse_long(const char *s, long lo, long hi, long *out);
int pk_cli_parse_double(const char *s, double *out);

/** The value of an option written "--name=value" or "--name value"; advances *i.
 *  Returns NULL (and prints a usage error) when the value is missing. */
const char *pk_cli_optarg(const char *cmd, int argc, char **argv, int *i);
/** 1 if argv[i] is "--name" or starts with "--name=". */
int pk_cli_is_opt(const char *arg, const char *name);

/** For commands with subcommands: if argv has no subcommand, or --help/-h
 *  anywhere, print `help` (stdout for --help, stderr when the subcommand is
 *  missing), store the exit code in *rc and return 1; else return 0. */
int pk_cli_subcommand_help(int argc, char **argv, const char *help, int *rc);

/* Table-driven option parsing, so that each command declares its options
 * once instead of hand-writing the loop (and its error messages) again. */
typedef enum {
    PK_CLI_FLAG,   /* int *: set to 1 when present */
    PK_CLI_STR,    /* const char **: the value, pointing into argv */
    PK_CLI_LONG,   /* long *: integer in [lo, hi] */
    PK_CLI_U64,    /* uint64_t *: non-negative integer >= lo (and <= hi when hi > lo) */
    PK_CLI_DOUBLE, /* double *: finite number in [lo, hi] */
    PK_CLI_CHOICE, /* int *: index of the value in `choices` ("qr|svd") */
} pk_cli_kind;

typedef struct pk_cli_opt {
    const char *name; /* "--bins"; a table ends with a NULL name */
    pk_cli_kind kind;
    void *dst;
    double lo, hi;       /* range of LONG/DOUBLE/U64 (inclusive; U64: hi <= lo means none) */
    const char *choices; /* CHOICE: the accepted words, separated by '|'; LONG/DOUBLE: if
                            set, the range as the message should state it ("a number in (0, 1)") */
} pk_cli_opt;

/** Parse argv[1..argc) against `opts`: "--name value" or "--name=value" in
 *  any order; "--help"/"-h" print `help` to stdout; "--" ends the options;
 *  other words are positional and go to pos[0..maxpos) in order, their count
 *  to *npos (NULL when none are accepted). Unknown options, missing or
 *  out-of-range values and surplus positionals get a usage message naming
 *  the option and its range. Returns -1 when the command should go on, else
 *  the exit code to return (PK_EXIT_OK after --help, PK_EXIT_USAGE). */
int pk_cli_parse(const char *cmd, const char *help, int argc, char **argv, const pk_cli_opt *opts,
                 const char **pos, int maxpos, int *npos);

/** For commands that train small networks step by step: run BLAS
 *  single-threaded, because OpenBLAS's threads then cost several times more in
 *  synchronisation than they save (5x on PFN training, 10x on the ECA
 *  observers, measured).  OPENBLAS_NUM_THREADS set by the user wins. */
void pk_cli_blas_serial_default(void);
/** The rows of a CSV file (header row first) as a row-major matrix of its
 *  first `cols` columns (0: all columns; exact: the file must have exactly
 *  `cols`), every cell a finite number.  On error prints a message naming the
 *  file, row and column and returns PK_EXIT_FAIL; *out is malloc'd (caller
 *  frees); *ncols (may be NULL) gets the number of columns read. */
int pk_cli_read_csv_matrix(const char *cmd, const char *file, size_t cols, int exact, double **out, size_t *rows,
                           size_t *ncols);
/** A subcommand: its word and its main (argv[0] = the subcommand). */
typedef struct pk_cli_sub {
    const char *name;
    int (*run)(int argc, char **argv);
} pk_cli_sub;
/** Run the subcommand named by argv[1] from `subs` (ended by a NULL name):
 *  --help / a missing subcommand print `help` (pk_cli_subcommand_help); an
 *  unknown word is a usage error listing the known ones.  serial: BLAS
 *  single-threaded first (pk_cli_blas_serial_default), for commands that
 *  train small networks. */
int pk_cli_dispatch(const char *cmd, const char *help, int argc, char **argv, const pk_cli_sub *subs, int serial);
/** The default seed when --seed is not given. */
#define PK_CLI_DEFAULT_SEED 42u

/** Where data sets live: $PROBKIT_DATA, else <source dir>/data. */
const char *pk_cli_data_dir(void);

#endif
