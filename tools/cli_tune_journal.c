/* cli_tune_journal.c — trials of `probkit tune` and its append-only journal
 * (one JSON object per line, fsync'd; --resume replays it). */
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

int tune_better(const study *s, double a, double b) { return s->maximize ? a > b : a < b; }

int tune_add_trial(study *s, const trial *t)
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

json_t *tune_params_json(const study *s, const double *v)
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
int tune_journal_line(study *s, json_t *obj)
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

int tune_journal_trial(study *s, const trial *t, const char *error)
{
    json_t *o = json_object(), *u = json_array();
    json_object_set_new(o, "trial", json_integer(t->id));
    json_object_set_new(o, "status", json_string(t->ok == 1 ? "ok" : t->ok == 2 ? "infeasible" : "failed"));
    json_object_set_new(o, "value", isfinite(t->value) ? json_real(t->value) : json_null());
    json_object_set_new(o, "duration", json_real(t->duration));
    json_object_set_new(o, "params", tune_params_json(s, t->v));
    for (size_t i = 0; i < s->space->n; i++)
        json_array_append_new(u, json_real(t->u[i]));
    json_object_set_new(o, "unit", u);
    if (error)
        json_object_set_new(o, "error", json_string(error));
    int rc = tune_journal_line(s, o);
    json_decref(o);
    return rc;
}

/* Load an existing journal.  A complete line that is not a trial record is an
 * error (the file is left untouched); an incomplete last line (a write cut by a
 * kill) is dropped and the file truncated before it. */
int tune_journal_load(study *s, const char *method, uint64_t seed)
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
                if (!t.u || !t.v || tune_add_trial(s, &t)) {
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

void tune_study_free(study *s)
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
