/* probkit — the command-line tool.  Dispatches to tools/cmd_<name>.c. */
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <string.h>

#include "registry.h"

extern const pk_cli_cmd *const pk_cmd_all[];

static void usage(FILE *f)
{
    fprintf(f, "probkit %s — probabilistic machine learning in C\n\n"
               "usage: probkit <command> [options]    (probkit <command> --help for details)\n\ncommands:\n",
            PK_VERSION_STRING);
    for (size_t i = 0; pk_cmd_all[i]; i++)
        fprintf(f, "  %-14s %s\n", pk_cmd_all[i]->name, pk_cmd_all[i]->summary);
    fprintf(f, "\nexit codes: 0 ok, 1 runtime failure, 2 usage error\n");
}

int main(int argc, char **argv)
{
    /* GSL's default handler aborts; the library maps GSL statuses itself. */
    gsl_set_error_handler_off();
    if (argc < 2) {
        usage(stderr);
        return PK_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return PK_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("probkit %s\n", PK_VERSION_STRING);
        return PK_EXIT_OK;
    }
    for (size_t i = 0; pk_cmd_all[i]; i++)
        if (!strcmp(argv[1], pk_cmd_all[i]->name))
            return pk_cmd_all[i]->main(argc - 1, argv + 1);
    fprintf(stderr, "probkit: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return PK_EXIT_USAGE;
}
