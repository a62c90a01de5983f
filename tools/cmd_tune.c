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

typedef struct trial {
    int64_t id;
    int ok;        /* 1 ok, 0 failed, 2 infeasible */
    double value, duration;
    double *u, *v; /* unit and native values */
} trial;

typedef struct slot {
    pid_t pid;
    int64_t id, ticket;
    double *u, *v;
    double start;
    char out[512], errf[512];
} slot;

typedef struct study {
    pk_bo_space *space;
    json_t *space_json;
    pk_bo *bo;
    char **cmd;
    int ncmd;
    const char *journal;
    int jfd;
    trial *trials;
    size_t ntrials, cap;
    int64_t next_id;
    int maximize;
    double timeout;
    char tmpdir[256];
} study;

static volatile sig_atomic_t g_stop;
static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static int better(const study *s, double a, double b) { return s->maximize ? a > b : a < b; }

static int add_trial(study *s, const trial *t)
{
    if (s->ntrials == s->cap) {
        size_t nc = s->cap ? 2 * s->cap : 64;
        trial *nt = realloc(s->trials, nc * sizeof *nt);
        if (!nt)
            return -1;
        s->trials = nt;
        s->cap = nc;
    }
    s->trials[s->ntrials++] = *t;
    return 0;
}

/* ---- the journal ------------------------------------------------------------------ */

static json_t *params_json(const study *s, const double *v)
{
    json_t *o = json_object();
    for (size_t i = 0; i < s->space->n; i++) {
        const pk_bo_param *p = &s->space->params[i];
        json_t *val;
        if (p->type == PK_BO_PARAM_CATEGORICAL) {
            char buf[256];
            pk_bo_space_format(s->space, i, v[i], buf, sizeof buf);
            val = json_string(buf);
        } else if (p->type == PK_BO_PARAM_INT) {
            val = json_integer((json_int_t)llround(v[i]));
        } else {
            val = json_real(v[i]);
        }
        json_object_set_new(o, p->name, val);
    }
    return o;
}

/* One whole line per write, then fsync: a kill leaves at most a torn last line,
 * which --resume drops. */
static int journal_line(study *s, json_t *obj)
{
    char *txt = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (!txt)
        return -1;
    size_t len = strlen(txt);
    char *line = malloc(len + 2);
    int rc = -1;
    if (line) {
        memcpy(line, txt, len);
        line[len] = '\n';
        ssize_t w = write(s->jfd, line, len + 1);
        rc = (w == (ssize_t)(len + 1) && fsync(s->jfd) == 0) ? 0 : -1;
        free(line);
    }
    free(txt);
    return rc;
}

static int journal_trial(study *s, const trial *t, const char *error)
{
    json_t *o = json_object(), *u = json_array();
    json_object_set_new(o, "trial", json_integer(t->id));
    json_object_set_new(o, "status", json_string(t->ok == 1 ? "ok" : t->ok == 2 ? "infeasible" : "failed"));
    json_object_set_new(o, "value", isfinite(t->value) ? json_real(t->value) : json_null());
    json_object_set_new(o, "duration", json_real(t->duration));
    json_object_set_new(o, "params", params_json(s, t->v));
    for (size_t i = 0; i < s->space->n; i++)
        json_array_append_new(u, json_real(t->u[i]));
    json_object_set_new(o, "unit", u);
    if (error)
        json_object_set_new(o, "error", json_string(error));
    int rc = journal_line(s, o);
    json_decref(o);
    return rc;
}

/* Load an existing journal.  A complete line that is not a trial record is an
 * error (the file is left untouched); an incomplete last line (a write cut by a
 * kill) is dropped and the file truncated before it. */
static int journal_load(study *s, const char *method, uint64_t seed)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    pk_err err;
    if (pk_file_read_all(s->journal, 0, &buf, &len, &err))
        return pk_cli_fail(CMD, "%s", err.msg);
    size_t pos = 0, lineno = 0, good_end = 0;
    int rc = 0;
    while (pos < len && !rc) {
        char *nl = memchr(buf + pos, '\n', len - pos);
        if (!nl) {
            fprintf(stderr, "probkit tune: %s: dropping an incomplete last line (an interrupted write)\n",
                    s->journal);
            break;
        }
        *nl = '\0';
        lineno++;
        json_error_t je;
        json_t *o = json_loads((char *)buf + pos, 0, &je);
        if (!o || !json_is_object(o)) {
            rc = pk_cli_fail(CMD, "%s:%zu: not a journal record (%s)", s->journal, lineno, o ? "not an object" : je.text);
        } else if (lineno == 1) {
            if (!json_object_get(o, "probkit_tune"))
                rc = pk_cli_fail(CMD, "%s:1: not a probkit tune journal", s->journal);
            else if (!json_equal(json_object_get(o, "space"), s->space_json))
                rc = pk_cli_fail(CMD, "%s: the journal was written for a different search space", s->journal);
            else {
                const char *m = json_string_value(json_object_get(o, "method"));
                if (m && strcmp(m, method))
                    fprintf(stderr, "probkit tune: note: journal used method %s, continuing with %s\n", m, method);
                (void)seed;
            }
        } else {
            json_t *u = json_object_get(o, "unit");
            const char *st = json_string_value(json_object_get(o, "status"));
            if (!json_is_array(u) || json_array_size(u) != s->space->n || !st ||
                !json_is_integer(json_object_get(o, "trial"))) {
                rc = pk_cli_fail(CMD, "%s:%zu: malformed trial record", s->journal, lineno);
            } else {
                trial t = {0};
                t.id = json_integer_value(json_object_get(o, "trial"));
                t.ok = !strcmp(st, "ok") ? 1 : !strcmp(st, "infeasible") ? 2 : 0;
                json_t *jv = json_object_get(o, "value");
                t.value = json_is_number(jv) ? json_number_value(jv) : NAN;
                t.duration = json_number_value(json_object_get(o, "duration"));
                t.u = malloc(s->space->n * sizeof *t.u);
                t.v = malloc(s->space->n * sizeof *t.v);
                if (!t.u || !t.v || add_trial(s, &t)) {
                    free(t.u);
                    free(t.v);
                    rc = pk_cli_fail(CMD, "out of memory");
                } else {
                    for (size_t i = 0; i < s->space->n; i++)
                        t.u[i] = json_number_value(json_array_get(u, i));
                    pk_bo_space_decode(s->space, t.u, t.v);
                    if (t.id >= s->next_id)
                        s->next_id = t.id + 1;
                    if (t.ok == 1 && isfinite(t.value))
                        pk_bo_observe(s->bo, t.u, t.value, t.duration);
                }
            }
        }
        json_decref(o);
        if (!rc)
            good_end = (size_t)(nl - (char *)buf) + 1;
        pos = (size_t)(nl - (char *)buf) + 1;
    }
    free(buf);
    if (rc)
        return rc;
    if (lineno == 0)
        return pk_cli_fail(CMD, "%s: empty journal (no header line)", s->journal);
    if (good_end < len && truncate(s->journal, (off_t)good_end) != 0)
        return pk_cli_fail(CMD, "%s: cannot truncate the incomplete line: %s", s->journal, strerror(errno));
    return 0;
}

/* ---- running trials -------------------------------------------------------------- */

static int command_exists(const char *c)
{
    if (strchr(c, '/'))
        return access(c, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    char buf[4096];
    while (*path) {
        const char *e = strchr(path, ':');
        size_t n = e ? (size_t)(e - path) : strlen(path);
        if (n + strlen(c) + 2 < sizeof buf) {
            memcpy(buf, n ? path : ".", n ? n : 1);
            size_t m = n ? n : 1;
            buf[m] = '/';
            strcpy(buf + m + 1, c);
            struct stat sb;
            if (access(buf, X_OK) == 0 && stat(buf, &sb) == 0 && S_ISREG(sb.st_mode))
                return 1;
        }
        path += n + (e ? 1 : 0);
    }
    return 0;
}

/* argv[i] with every {name} replaced; malloc'd. */
static char *substitute(const study *s, const char *arg, const double *v)
{
    size_t cap = strlen(arg) + 1, len = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (const char *p = arg; *p;) {
        const char *val = NULL;
        char buf[256];
        size_t skip = 0;
        if (*p == '{') {
            for (size_t i = 0; i < s->space->n && !val; i++) {
                size_t nl = strlen(s->space->params[i].name);
                if (!strncmp(p + 1, s->space->params[i].name, nl) && p[1 + nl] == '}') {
                    pk_bo_space_format(s->space, i, v[i], buf, sizeof buf);
                    val = buf;
                    skip = nl + 2;
                }
            }
        }
        size_t add = val ? strlen(val) : 1;
        if (len + add + 1 > cap) {
            cap = 2 * (len + add + 1);
            char *no = realloc(out, cap);
            if (!no) {
                free(out);
                return NULL;
            }
            out = no;
        }
        if (val) {
            memcpy(out + len, val, add);
            p += skip;
        } else {
            out[len] = *p++;
        }
        len += add;
    }
    out[len] = '\0';
    return out;
}

static int start_trial(study *s, slot *sl)
{
    snprintf(sl->out, sizeof sl->out, "%s/trial-%lld.out", s->tmpdir, (long long)sl->id);
    snprintf(sl->errf, sizeof sl->errf, "%s/trial-%lld.err", s->tmpdir, (long long)sl->id);
    char **argv = calloc((size_t)s->ncmd + 1, sizeof *argv);
    if (!argv)
        return -1;
    for (int i = 0; i < s->ncmd; i++)
        if (!(argv[i] = substitute(s, s->cmd[i], sl->v)))
            goto fail;
    fflush(NULL);
    sl->start = pk_time_now();
    sl->pid = fork();
    if (sl->pid < 0)
        goto fail;
    if (sl->pid == 0) {
        setpgid(0, 0);
        int fo = open(sl->out, O_WRONLY | O_CREAT | O_TRUNC, 0600), fe = open(sl->errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fo < 0 || fe < 0)
            _exit(126);
        dup2(fo, 1);
        dup2(fe, 2);
        int fi = open("/dev/null", O_RDONLY);
        if (fi >= 0)
            dup2(fi, 0);
        char name[160], val[256];
        for (size_t i = 0; i < s->space->n; i++) {
            snprintf(name, sizeof name, "PROBKIT_PARAM_%s", s->space->params[i].name);
            for (char *c = name; *c; c++)
                *c = (*c == '-' || *c == '.') ? '_' : (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
            pk_bo_space_format(s->space, i, sl->v[i], val, sizeof val);
            setenv(name, val, 1);
        }
        snprintf(val, sizeof val, "%lld", (long long)sl->id);
        setenv("PROBKIT_TRIAL", val, 1);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot start '%s': %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    for (int i = 0; i < s->ncmd; i++)
        free(argv[i]);
    free(argv);
    return 0;
fail:
    for (int i = 0; i < s->ncmd; i++)
        free(argv[i]);
    free(argv);
    return -1;
}

static int parse_keyed(const char *line, const char *key, double *v)
{
    size_t k = strlen(key);
    if (strncmp(line, key, k) || (line[k] != ':' && line[k] != '='))
        return 0;
    return pk_cli_parse_double(line + k + 1 + strspn(line + k + 1, " \t"), v) == 0;
}

/* The objective etc. from a finished trial's output; 0 and a message when none. */
static int read_result(const char *path, double *obj, double *dur, double *con, char *msg, size_t msglen)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    *obj = *dur = *con = NAN;
    if (pk_file_read_all(path, 64u << 20, &buf, &len, NULL)) {
        snprintf(msg, msglen, "could not read the trial's output");
        return 0;
    }
    double last = NAN, keyed = NAN;
    char lastline[80] = "";
    for (char *line = (char *)buf, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        line += strspn(line, " \t\r");
        size_t l = strlen(line);
        while (l && (line[l - 1] == ' ' || line[l - 1] == '\r' || line[l - 1] == '\t'))
            line[--l] = '\0';
        if (!l)
            continue;
        snprintf(lastline, sizeof lastline, "%s", line);
        double v;
        if (parse_keyed(line, "objective", &v))
            keyed = v;
        else if (parse_keyed(line, "duration", &v))
            *dur = v;
        else if (parse_keyed(line, "constraint", &v))
            *con = v;
        else if (pk_cli_parse_double(line, &v) == 0)
            last = v;
    }
    free(buf);
    *obj = isfinite(keyed) ? keyed : last;
    if (!isfinite(*obj)) {
        snprintf(msg, msglen, "output has no number (last line: \"%s\")", lastline);
        return 0;
    }
    return 1;
}

static void last_line_of(const char *path, char *out, size_t n)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    out[0] = '\0';
    if (pk_file_read_all(path, 64u << 20, &buf, &len, NULL))
        return;
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    size_t b = len;
    while (b && buf[b - 1] != '\n')
        b--;
    snprintf(out, n, "%.*s", (int)(len - b > 200 ? 200 : len - b), (char *)buf + b);
    free(buf);
}

/* Finish a slot: record the trial (journal first, then the optimiser). */
static int finish_trial(study *s, slot *sl, int status, int timed_out)
{
    trial t = {sl->id, 0, NAN, pk_time_now() - sl->start, sl->u, sl->v};
    char msg[400] = "", tail[220];
    double obj, dur, con;
    if (timed_out) {
        snprintf(msg, sizeof msg, "timed out after %.3g s", s->timeout);
    } else if (WIFSIGNALED(status)) {
        snprintf(msg, sizeof msg, "killed by signal %d", WTERMSIG(status));
    } else if (WEXITSTATUS(status) != 0) {
        last_line_of(sl->errf, tail, sizeof tail);
        snprintf(msg, sizeof msg, "exit status %d%s%s", WEXITSTATUS(status), tail[0] ? ": " : "", tail);
    } else if (read_result(sl->out, &obj, &dur, &con, msg, sizeof msg)) {
        t.value = obj;
        if (isfinite(dur) && dur > 0)
            t.duration = dur;
        t.ok = (isfinite(con) && con > 0) ? 2 : 1;
    }
    unlink(sl->out);
    unlink(sl->errf);
    if (journal_trial(s, &t, msg[0] ? msg : NULL))
        return pk_cli_fail(CMD, "%s: cannot write the journal: %s", s->journal, strerror(errno));
    if (t.ok == 1)
        pk_bo_tell(s->bo, sl->ticket, t.value, t.duration);
    else
        pk_bo_tell_failed(s->bo, sl->ticket);
    if (t.ok != 1)
        fprintf(stderr, "\nprobkit tune: trial %lld %s: %s\n", (long long)t.id, t.ok == 2 ? "infeasible" : "failed",
                t.ok == 2 ? "constraint > 0" : msg);
    if (add_trial(s, &t))
        return pk_cli_fail(CMD, "out of memory");
    sl->u = sl->v = NULL;
    sl->pid = 0;
    return 0;
}

/* ---- report ---------------------------------------------------------------------- */

static long best_index(const study *s)
{
    long b = -1;
    for (size_t i = 0; i < s->ntrials; i++)
        if (s->trials[i].ok == 1 && (b < 0 || better(s, s->trials[i].value, s->trials[b].value)))
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
            if (!isfinite(run) || better(s, t->value, run))
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
            json_object_set_new(bj, "params", params_json(s, s->trials[b].v));
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


static void study_free(study *s)
{
    for (size_t i = 0; i < s->ntrials; i++) {
        free(s->trials[i].u);
        free(s->trials[i].v);
    }
    free(s->trials);
    pk_bo_free(s->bo);
    pk_bo_space_free(s->space);
    json_decref(s->space_json);
    if (s->jfd >= 0)
        close(s->jfd);
    if (s->tmpdir[0])
        rmdir(s->tmpdir);
}

static int tune_main(int argc, char **argv)
{
    const char *space_path = NULL, *journal = "tune-journal.jsonl", *plot = NULL, *method_s = "ei-mcmc";
    long budget = 30, parallel = 1, n_init = 2;
    double time_limit = INFINITY, timeout = INFINITY;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    int resume = 0, json = 0, quiet = 0, maximize = 0, i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(HELP, stdout);
            return PK_EXIT_OK;
        } else if (pk_cli_is_opt(a, "--space")) {
            if (!(space_path = pk_cli_optarg(CMD, argc, argv, &i)))
                return PK_EXIT_USAGE;
        } else if (pk_cli_is_opt(a, "--journal")) {
            if (!(journal = pk_cli_optarg(CMD, argc, argv, &i)))
                return PK_EXIT_USAGE;
        } else if (pk_cli_is_opt(a, "--plot")) {
            if (!(plot = pk_cli_optarg(CMD, argc, argv, &i)))
                return PK_EXIT_USAGE;
        } else if (pk_cli_is_opt(a, "--method")) {
            if (!(method_s = pk_cli_optarg(CMD, argc, argv, &i)))
                return PK_EXIT_USAGE;
            if (pk_bo_method_parse(method_s) < 0)
                return pk_cli_usage(CMD, "unknown --method '%s' (ei-mcmc, ei-opt, ei-per-second, pi, ucb, random)",
                                    method_s);
        } else if (pk_cli_is_opt(a, "--budget") || pk_cli_is_opt(a, "--parallel") || pk_cli_is_opt(a, "--init")) {
            long *dst = a[2] == 'b' ? &budget : a[2] == 'p' ? &parallel : &n_init;
            if (!(v = pk_cli_optarg(CMD, argc, argv, &i)))
                return PK_EXIT_USAGE;
            if (pk_cli_parse_long(v, 1, 1000000, dst))
                return pk_cli_usage(CMD, "%s needs a whole number >= 1, got '%s'", a, v);
        } else if (pk_cli_is_opt(a, "--time") || pk_cli_is_opt(a, "--timeout")) {
            double *dst = !strncmp(a, "--timeout", 9) ? &timeout : &time_limit;
            if (!(v = pk_cli_optarg(CMD, argc, argv, &i)))
                return PK_EXIT_USAGE;
            if (pk_cli_parse_double(v, dst) || !(*dst > 0))
                return pk_cli_usage(CMD, "%s needs a positive number of seconds, got '%s'", a, v);
        } else if (pk_cli_is_opt(a, "--seed")) {
            if (!(v = pk_cli_optarg(CMD, argc, argv, &i)))
                return PK_EXIT_USAGE;
            if (pk_cli_parse_u64(v, &seed))
                return pk_cli_usage(CMD, "--seed needs a non-negative integer, got '%s'", v);
        } else if (!strcmp(a, "--resume")) {
            resume = 1;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (!strcmp(a, "--maximize") || !strcmp(a, "--maximise")) {
            maximize = 1;
        } else {
            return pk_cli_usage(CMD, "unknown option '%s' (the command goes after '--')", a);
        }
    }
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
    if (!command_exists(s.cmd[0])) {
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
    if (exists && (rc = journal_load(&s, method_s, seed)))
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
        int jr = journal_line(&s, h);
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
            if (start_trial(&s, sl)) {
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
                rc = finish_trial(&s, sl, status, tout);
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
    study_free(&s);
    return rc;
}

const pk_cli_cmd pk_cmd_tune = {"tune", "Bayesian optimisation of a command's parameters (GP-EI-MCMC, journal, resume)",
                                tune_main};
