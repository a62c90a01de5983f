/* cli_tune_trial.c — one trial of `probkit tune`: substitute the parameters
 * into the command, fork it, read its objective / duration / constraint. */
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

int tune_command_exists(const char *c)
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

int tune_start_trial(study *s, slot *sl)
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
int tune_finish_trial(study *s, slot *sl, int status, int timed_out)
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
    if (tune_journal_trial(s, &t, msg[0] ? msg : NULL))
        return pk_cli_fail(CMD, "%s: cannot write the journal: %s", s->journal, strerror(errno));
    if (t.ok == 1)
        pk_bo_tell(s->bo, sl->ticket, t.value, t.duration);
    else
        pk_bo_tell_failed(s->bo, sl->ticket);
    if (t.ok != 1)
        fprintf(stderr, "\nprobkit tune: trial %lld %s: %s\n", (long long)t.id, t.ok == 2 ? "infeasible" : "failed",
                t.ok == 2 ? "constraint > 0" : msg);
    if (tune_add_trial(s, &t))
        return pk_cli_fail(CMD, "out of memory");
    sl->u = sl->v = NULL;
    sl->pid = 0;
    return 0;
}

/* ---- report ---------------------------------------------------------------------- */
