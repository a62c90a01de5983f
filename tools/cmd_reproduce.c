/* probkit reproduce — run the seed papers' experiments and write the report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "papers.h"
#include "registry.h"
#include "report.h"

extern const pk_repro *const pk_repro_all[];

static const char *HELP =
    "usage: probkit reproduce [--quick] [--seed N] [--out DIR] [ID...]\n"
    "       probkit reproduce --list [--json]\n\n"
    "Runs the registered reproduction of each seed paper (all of them when no ID\n"
    "is given) and writes DIR/summary.md, DIR/index.html (SVG plots inline),\n"
    "DIR/results.json and one SVG per plot.  Each result row sets our figure\n"
    "beside the paper's and, where measured, a peer tool's.\n\n"
    "options:\n"
    "  --list       print every paper of the seed with its status and exit\n"
    "  --quick      reduced scale: all experiments in a few minutes on 2 cores\n"
    "  --seed N     seed for every random choice (default 42)\n"
    "  --out DIR    report directory (default: report)\n"
    "  --json       with --list: machine-readable list\n\n"
    "exit status: 0 when every experiment ran (verdicts may still be FAIL),\n"
    "1 when an experiment stopped with an error, 2 on a usage error.\n";

static const pk_repro *find(const char *id)
{
    for (size_t i = 0; pk_repro_all[i]; i++)
        if (!strcmp(pk_repro_all[i]->id, id))
            return pk_repro_all[i];
    return NULL;
}

static int list(int json)
{
    if (json)
        printf("[\n");
    for (size_t i = 0; pk_papers[i].id; i++) {
        const pk_paper *p = &pk_papers[i];
        const pk_repro *e = find(p->id);
        const char *st = p->survey ? "survey (no system)"
                         : !e      ? "not yet"
                         : e->status == PK_REPRO_IMPLEMENTED ? "implemented"
                                                             : "partial";
        if (json)
            printf("  {\"id\": \"%s\", \"module\": \"%s\", \"status\": \"%s\"}%s\n", p->id, p->module, st,
                   pk_papers[i + 1].id ? "," : "");
        else
            printf("%-15s %-20s %-19s %s\n", p->id, st, p->module, p->title);
    }
    if (json)
        printf("]\n");
    return PK_EXIT_OK;
}

static int cmd_main(int argc, char **argv)
{
    int quick = 0, do_list = 0, json = 0;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    const char *out = "report";
    size_t nreg = 0;
    while (pk_repro_all[nreg])
        nreg++;
    /* room for every id named on the command line or, with none, every registered one */
    const char **ids = calloc((size_t)argc + nreg + 1, sizeof *ids);
    size_t nids = 0;
    if (!ids)
        return pk_cli_fail("reproduce", "out of memory");
    const pk_cli_opt opts[] = {
        {"--quick", PK_CLI_FLAG, &quick, 0, 0, NULL},
        {"--list", PK_CLI_FLAG, &do_list, 0, 0, NULL},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {"--out", PK_CLI_STR, &out, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int npos = 0, rc = pk_cli_parse("reproduce", HELP, argc, argv, opts, ids, argc, &npos);
    for (int k = 0; rc < 0 && k < npos; k++) {
        int known = 0;
        for (size_t j = 0; pk_papers[j].id; j++)
            known |= !strcmp(pk_papers[j].id, ids[k]);
        if (!known)
            rc = pk_cli_usage("reproduce", "unknown paper id '%s' (see --list)", ids[k]);
        else if (!find(ids[k]))
            rc = pk_cli_fail("reproduce", "paper '%s' has no reproduction yet (see --list)", ids[k]);
    }
    if (rc >= 0) {
        free(ids);
        return rc;
    }
    nids = (size_t)npos;
    if (do_list) {
        free(ids);
        return list(json);
    }
    if (nids == 0)
        for (size_t i = 0; pk_repro_all[i]; i++)
            ids[nids++] = pk_repro_all[i]->id;

    pk_report *r = pk_report_new(quick, seed, pk_cli_data_dir());
    if (!r) {
        free(ids);
        return pk_cli_fail("reproduce", "out of memory");
    }
    fprintf(stderr, "probkit reproduce: %zu experiment(s), %s, seed %llu, report in %s/\n", nids,
            quick ? "quick" : "full scale", (unsigned long long)seed, out);
    int failed = 0;
    for (size_t i = 0; i < nids; i++) {
        const pk_repro *e = find(ids[i]);
        fprintf(stderr, "[%zu/%zu] %s: %s\n", i + 1, nids, e->id, e->summary);
        double t0 = pk_time_now();
        int st = pk_report_run(r, e);
        fprintf(stderr, "[%zu/%zu] %s: %s in %.1f s\n", i + 1, nids, e->id, st ? pk_strerror(st) : "done",
                pk_time_now() - t0);
        failed |= st != 0;
    }
    pk_err err = {0};
    int st = pk_report_write(r, out, &err);
    int pass, fail, info, skip;
    pk_report_counts(r, &pass, &fail, &info, &skip);
    pk_report_free(r);
    free(ids);
    if (st)
        return pk_cli_fail_status("reproduce", st, &err);
    printf("report: %s/index.html  (%d pass, %d fail, %d info, %d skip)\n", out, pass, fail, info, skip);
    return failed ? PK_EXIT_FAIL : PK_EXIT_OK;
}

const pk_cli_cmd pk_cmd_reproduce = {"reproduce", "run the seed papers' reproductions and write report/", cmd_main};
