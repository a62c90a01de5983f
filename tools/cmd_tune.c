/* probkit tune — Bayesian optimisation of any command's hyperparameters. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "probkit/bo.h"
#include "probkit/io.h"
#include "probkit/plot.h"
#include "probkit/progress.h"
#include "cli_tune.h"

static const char *CMD = "tune";
static const char *HELP =
    "usage: probkit tune --space SPACE.json [options] -- COMMAND [ARG...]\n\n"
    "Minimises (or with --maximize, maximises) the number COMMAND prints, over the\n"
    "parameters of SPACE.json, by Bayesian optimisation (Snoek, Larochelle & Adams\n"
    "2012: a Gaussian process with slice-sampled hyperparameters, expected\n"
    "improvement integrated over them, fantasies for trials still running).\n\n"
    "SPACE.json:\n"
    "  {\"params\": [{\"name\": \"lr\", \"type\": \"float\", \"low\": 1e-4, \"high\": 1, \"log\": true},\n"
    "              {\"name\": \"layers\", \"type\": \"int\", \"low\": 1, \"high\": 4},\n"
    "              {\"name\": \"act\", \"type\": \"categorical\", \"choices\": [\"relu\", \"tanh\"]}]}\n\n"
    "Each trial runs COMMAND with every {name} in its arguments replaced by the\n"
    "value, and the environment variables PROBKIT_PARAM_<NAME> (upper case, '-'\n"
    "and '.' as '_') and PROBKIT_TRIAL set.  The objective is read from its\n"
    "standard output: a line 'objective: X' (or 'objective=X') if there is one,\n"
    "else the last line that is just a number.  Optional lines 'duration: S'\n"
    "(seconds, else the measured wall time) and 'constraint: C' (C > 0 marks the\n"
    "trial infeasible: recorded, not modelled).  A trial that exits non-zero,\n"
    "is killed, times out or prints no number is recorded as failed; the study\n"
    "goes on.\n\n"
    "options:\n"
    "  --space FILE       search space (required)\n"
    "  --budget N         trials in total, including resumed ones (default 30)\n"
    "  --time SECONDS     start no new trial after this much wall time\n"
    "  --parallel N       trials running at once (default 1)\n"
    "  --method M         ei-mcmc (default), ei-opt, ei-per-second, pi, ucb, random\n"
    "  --init N           random trials before the model is used (default 2)\n"
    "  --maximize         maximise instead of minimise\n"
    "  --timeout SECONDS  kill a trial after this long (failed)\n"
    "  --journal FILE     one JSON line per finished trial (default tune-journal.jsonl);\n"
    "                     an existing journal is refused unless --resume\n"
    "  --resume           continue the study recorded in the journal\n"
    "  --plot FILE.svg    best value so far against trials\n"
    "  --seed N           random seed (default 42)\n"
    "  --quiet            no progress line\n"
    "  --json             final summary as JSON on stdout\n\n"
    "exit status: 0 study finished (failed trials included), 1 bad input or\n"
    "interrupted (resume with --resume), 2 usage error.\n";

static volatile sig_atomic_t g_stop;
static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static long best_index(const study *s)
{
    long b = -1;
    for (size_t i = 0; i < s->ntrials; i++)
        if (s->trials[i].ok == 1 && (b < 0 || tune_better(s, s->trials[i].value, s->trials[b].value)))
            b = (long)i;
    return b;
}

static int cmp_ok_first;
static int cmp_trials(const void *a, const void *b)
{
    const trial *x = a, *y = b;
    if (x->ok != 1 || y->ok != 1)
        return (y->ok == 1) - (x->ok == 1);
    int r = (x->value > y->value) - (x->value < y->value);
    return cmp_ok_first ? -r : r;
}

static void report(study *s, int json, const char *plot_path, double wall)
{
    long b = best_index(s);
    size_t nfail = 0;
    for (size_t i = 0; i < s->ntrials; i++)
        nfail += s->trials[i].ok != 1;
    if (plot_path && s->ntrials) {
        double *x = malloc(s->ntrials * sizeof *x), *y = malloc(s->ntrials * sizeof *y), *yv = malloc(s->ntrials * sizeof *yv);
        size_t k = 0;
        double run = NAN;
        for (size_t i = 0; x && y && yv && i < s->ntrials; i++) {
            const trial *t = &s->trials[i];
            if (t->ok != 1)
                continue;
            if (!isfinite(run) || tune_better(s, t->value, run))
                run = t->value;
            x[k] = (double)(i + 1);
            yv[k] = t->value;
            y[k++] = run;
        }
        pk_plot *p = pk_plot_new("probkit tune: best value so far", "trial", s->maximize ? "best (max)" : "best (min)");
        pk_err err;
        if (p && k) {
            pk_plot_scatter(p, "trial value", x, yv, k);
            pk_plot_line(p, "best so far", x, y, k);
            if (pk_plot_save(p, plot_path, &err))
                fprintf(stderr, "probkit tune: %s\n", err.msg);
        }
        pk_plot_free(p);
        free(x);
        free(y);
        free(yv);
    }
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "trials", json_integer((json_int_t)s->ntrials));
        json_object_set_new(o, "failed", json_integer((json_int_t)nfail));
        json_object_set_new(o, "wall_seconds", json_real(wall));
        if (b >= 0) {
            json_t *bj = json_object();
            json_object_set_new(bj, "trial", json_integer(s->trials[b].id));
            json_object_set_new(bj, "value", json_real(s->trials[b].value));
            json_object_set_new(bj, "params", tune_params_json(s, s->trials[b].v));
            json_object_set_new(o, "best", bj);
        } else {
            json_object_set_new(o, "best", json_null());
        }
        char *txt = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        if (txt)
            printf("%s\n", txt);
        free(txt);
        json_decref(o);
        return;
    }
    printf("%zu trials (%zu failed or infeasible) in %.1f s\n", s->ntrials, nfail, wall);
    trial *sorted = malloc(s->ntrials * sizeof *sorted);
    if (sorted && s->ntrials) {
        memcpy(sorted, s->trials, s->ntrials * sizeof *sorted);
        cmp_ok_first = s->maximize;
        qsort(sorted, s->ntrials, sizeof *sorted, cmp_trials);
        printf("%6s  %14s", "trial", "value");
        for (size_t i = 0; i < s->space->n; i++)
            printf("  %s", s->space->params[i].name);
        printf("\n");
        for (size_t r = 0; r < s->ntrials && r < 10 && sorted[r].ok == 1; r++) {
            printf("%6lld  %14.6g", (long long)sorted[r].id, sorted[r].value);
            for (size_t i = 0; i < s->space->n; i++) {
                char buf[256];
                pk_bo_space_format(s->space, i, sorted[r].v[i], buf, sizeof buf);
                printf("  %s", buf);
            }
            printf("\n");
        }
    }
    free(sorted);
    if (b >= 0)
        printf("best: trial %lld, value %.17g\n", (long long)s->trials[b].id, s->trials[b].value);
    else
        printf("best: none (no trial succeeded)\n");
}


static int tune_main(int argc, char **argv)
{
    const char *space_path = NULL, *journal = "tune-journal.jsonl", *plot = NULL, *method_s = "ei-mcmc";
    long budget = 30, parallel = 1, n_init = 2;
    double time_limit = INFINITY, timeout = INFINITY;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    int resume = 0, json = 0, quiet = 0, maximize = 0, npos = 0;
    const pk_cli_opt opts[] = {
        {"--space", PK_CLI_STR, &space_path, 0, 0, NULL},
        {"--journal", PK_CLI_STR, &journal, 0, 0, NULL},
        {"--plot", PK_CLI_STR, &plot, 0, 0, NULL},
        {"--method", PK_CLI_STR, &method_s, 0, 0, NULL},
        {"--budget", PK_CLI_LONG, &budget, 1, 1000000, NULL},
        {"--parallel", PK_CLI_LONG, &parallel, 1, 1000000, NULL},
        {"--init", PK_CLI_LONG, &n_init, 1, 1000000, NULL},
        {"--time", PK_CLI_DOUBLE, &time_limit, 1e-300, 1e300, "a positive number of seconds"},
        {"--timeout", PK_CLI_DOUBLE, &timeout, 1e-300, 1e300, "a positive number of seconds"},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {"--resume", PK_CLI_FLAG, &resume, 0, 0, NULL},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {"--quiet", PK_CLI_FLAG, &quiet, 0, 0, NULL},
        {"--maximize", PK_CLI_FLAG, &maximize, 0, 0, NULL},
        {"--maximise", PK_CLI_FLAG, &maximize, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    /* Only the words before the first "--" that is not an option's value are
     * ours; everything after it is the user's command, --help included. */
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--"); i++)
        for (const pk_cli_opt *o = opts; o->name; o++)
            if (o->kind != PK_CLI_FLAG && !strcmp(argv[i], o->name)) {
                i++;
                break;
            }
    const char *stray = NULL;
    int prc = pk_cli_parse(CMD, HELP, i < argc ? i : argc, argv, opts, &stray, 1, &npos);
    if (prc >= 0)
        return prc;
    i++;
    if (npos)
        return pk_cli_usage(CMD, "unexpected argument '%s' (the command goes after '--')", stray);
    if (pk_bo_method_parse(method_s) < 0)
        return pk_cli_usage(CMD, "unknown --method '%s' (ei-mcmc, ei-opt, ei-per-second, pi, ucb, random)", method_s);
    if (!space_path)
        return pk_cli_usage(CMD, "--space FILE is required");
    if (i >= argc)
        return pk_cli_usage(CMD, "no command given: probkit tune --space FILE -- COMMAND [ARG...]");

    study s;
    memset(&s, 0, sizeof s);
    s.jfd = -1;
    s.cmd = argv + i;
    s.ncmd = argc - i;
    s.journal = journal;
    s.maximize = maximize;
    s.timeout = timeout;
    s.next_id = 1;
    int rc = PK_EXIT_OK;
    uint8_t *txt = NULL;
    size_t len;
    pk_err err;
    pk_err_clear(&err);
    if (pk_file_read_all(space_path, 16u << 20, &txt, &len, &err)) {
        rc = pk_cli_fail(CMD, "%s", err.msg);
        goto out;
    }
    int st = pk_bo_space_parse_json((const char *)txt, space_path, &s.space, &err);
    if (!st)
        s.space_json = json_loads((const char *)txt, 0, NULL);
    free(txt);
    if (st) {
        rc = pk_cli_fail(CMD, "%s", err.msg);
        goto out;
    }
    if (!tune_command_exists(s.cmd[0])) {
        rc = pk_cli_fail(CMD, "cannot start '%s': no such executable (in PATH or as a path)", s.cmd[0]);
        goto out;
    }
    pk_bo_params bp = pk_bo_params_default();
    bp.method = (pk_bo_method)pk_bo_method_parse(method_s);
    bp.n_init = (size_t)n_init;
    bp.maximize = maximize;
    if (!(s.bo = pk_bo_new(s.space->n, &bp, &err))) {
        rc = pk_cli_fail(CMD, "%s", err.msg);
        goto out;
    }
    struct stat sb;
    int exists = stat(journal, &sb) == 0;
    if (exists && !resume) {
        rc = pk_cli_fail(CMD, "%s exists: pass --resume to continue that study, or choose another --journal",
                         journal);
        goto out;
    }
    if (exists && (rc = tune_journal_load(&s, method_s, seed)))
        goto out;
    s.jfd = open(journal, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (s.jfd < 0) {
        rc = pk_cli_fail(CMD, "%s: cannot open the journal: %s", journal, strerror(errno));
        goto out;
    }
    if (!exists) {
        json_t *h = json_object();
        json_object_set_new(h, "probkit_tune", json_integer(1));
        json_object_set(h, "space", s.space_json);
        json_object_set_new(h, "method", json_string(method_s));
        json_object_set_new(h, "maximize", json_boolean(maximize));
        json_object_set_new(h, "seed", json_integer((json_int_t)seed));
        int jr = tune_journal_line(&s, h);
        json_decref(h);
        if (jr) {
            rc = pk_cli_fail(CMD, "%s: cannot write the journal: %s", journal, strerror(errno));
            goto out;
        }
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(s.tmpdir, sizeof s.tmpdir, "%s/probkit-tune-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(s.tmpdir)) {
        s.tmpdir[0] = '\0';
        rc = pk_cli_fail(CMD, "cannot create a temporary directory: %s", strerror(errno));
        goto out;
    }
    if (!json)
        fprintf(stderr, "probkit tune: %s, %zu parameters, budget %ld, parallel %ld, seed %llu%s\n", method_s,
                s.space->n, budget, parallel, (unsigned long long)seed,
                s.ntrials ? " (resumed)" : "");
    if (s.ntrials)
        fprintf(stderr, "probkit tune: resumed %zu trials from %s\n", s.ntrials, journal);

    slot *slots = calloc((size_t)parallel, sizeof *slots);
    pk_progress *pg = quiet ? NULL : pk_progress_new(stderr, "tune", (uint64_t)budget, 0);
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    g_stop = 0;
    double t0 = pk_time_now();
    size_t running = 0;
    while (slots && !rc) {
        int progressed = 0;
        while (!g_stop && running < (size_t)parallel && s.ntrials + running < (size_t)budget &&
               pk_time_now() - t0 < time_limit) {
            slot *sl = NULL;
            for (long k = 0; k < parallel && !sl; k++)
                if (!slots[k].pid)
                    sl = &slots[k];
            pk_rng rng;
            pk_rng_seed_stream(&rng, seed, (uint64_t)s.next_id);
            sl->id = s.next_id++;
            sl->u = malloc(s.space->n * sizeof *sl->u);
            sl->v = malloc(s.space->n * sizeof *sl->v);
            if (!sl->u || !sl->v || pk_bo_ask(s.bo, &rng, sl->u, &sl->ticket, &err)) {
                rc = pk_cli_fail(CMD, "out of memory");
                break;
            }
            /* evaluate (and model) the point the command really sees */
            pk_bo_space_decode(s.space, sl->u, sl->v);
            pk_bo_space_encode(s.space, sl->v, sl->u);
            if (tune_start_trial(&s, sl)) {
                rc = pk_cli_fail(CMD, "cannot start a trial: %s", strerror(errno));
                break;
            }
            running++;
            progressed = 1;
        }
        if (rc || running == 0)
            break;
        for (long k = 0; k < parallel && !rc; k++) {
            slot *sl = &slots[k];
            if (!sl->pid)
                continue;
            int status = 0, tout = 0;
            pid_t w = waitpid(sl->pid, &status, WNOHANG);
            if (w == 0 && pk_time_now() - sl->start > timeout) {
                kill(-sl->pid, SIGKILL);
                kill(sl->pid, SIGKILL);
                waitpid(sl->pid, &status, 0);
                w = sl->pid;
                tout = 1;
            }
            if (w == sl->pid) {
                rc = tune_finish_trial(&s, sl, status, tout);
                running--;
                progressed = 1;
                long b = best_index(&s);
                if (pg) {
                    if (b >= 0)
                        pk_progress_update(pg, s.ntrials, "best %.6g  running %zu", s.trials[b].value, running);
                    else
                        pk_progress_update(pg, s.ntrials, "no success yet  running %zu", running);
                }
            }
        }
        if (g_stop && running) {
            for (long k = 0; k < parallel; k++)
                if (slots[k].pid) {
                    kill(-slots[k].pid, SIGKILL);
                    kill(slots[k].pid, SIGKILL);
                    waitpid(slots[k].pid, NULL, 0);
                    unlink(slots[k].out);
                    unlink(slots[k].errf);
                    slots[k].pid = 0;
                }
            running = 0;
        }
        if (!progressed) {
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (pg)
        pk_progress_finish(pg);
    pk_progress_free(pg);
    for (long k = 0; slots && k < parallel; k++) {
        free(slots[k].u);
        free(slots[k].v);
    }
    free(slots);
    if (!slots)
        rc = pk_cli_fail(CMD, "out of memory");
    if (!rc && g_stop)
        rc = pk_cli_fail(CMD, "interrupted: %zu trials are in %s; continue with --resume", s.ntrials, journal);
    if (!rc)
        report(&s, json, plot, pk_time_now() - t0);
out:
    tune_study_free(&s);
    return rc;
}

const pk_cli_cmd pk_cmd_tune = {"tune", "Bayesian optimisation of a command's parameters (GP-EI-MCMC, journal, resume)",
                                tune_main};
