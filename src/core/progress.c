#include "probkit/progress.h"
#include "probkit/core.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pk_progress {
    FILE *out;
    char label[64];
    uint64_t total, done;
    double t0, last_draw;
    int tty, enabled;
    char extra[160];
};

pk_progress *pk_progress_new(FILE *out, const char *label, uint64_t total, int force)
{
    pk_progress *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->out = out;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    p->total = total;
    p->t0 = pk_time_now();
    p->last_draw = -1.0;
    p->tty = out && isatty(fileno(out));
    p->enabled = out && (p->tty || force);
    return p;
}

static void fmt_secs(char *buf, size_t n, double s)
{
    if (!(s >= 0) || s > 1e7)
        snprintf(buf, n, "--:--");
    else if (s >= 3600)
        snprintf(buf, n, "%d:%02d:%02d", (int)(s / 3600), (int)(s / 60) % 60, (int)s % 60);
    else
        snprintf(buf, n, "%02d:%02d", (int)(s / 60), (int)s % 60);
}

static void draw(pk_progress *p, int final)
{
    double now = pk_time_now(), el = now - p->t0;
    double rate = el > 0 ? (double)p->done / el : 0.0;
    char els[32], eta[32];
    fmt_secs(els, sizeof els, el);
    if (p->total && p->done > 0)
        fmt_secs(eta, sizeof eta, (double)(p->total - (p->done < p->total ? p->done : p->total)) / rate);
    else
        snprintf(eta, sizeof eta, "--:--");
    char head[96];
    if (p->total) {
        double f = (double)p->done / (double)p->total;
        if (f > 1)
            f = 1;
        int w = 20, k = (int)(f * w);
        char bar[32];
        for (int i = 0; i < w; i++)
            bar[i] = i < k ? '#' : '.';
        bar[w] = 0;
        snprintf(head, sizeof head, "[%s] %3.0f%% %llu/%llu", bar, 100 * f, (unsigned long long)p->done,
                 (unsigned long long)p->total);
    } else {
        snprintf(head, sizeof head, "%llu", (unsigned long long)p->done);
    }
    fprintf(p->out, "%s%s %s %.3g/s %s eta %s%s%s%s", p->tty ? "\r\033[K" : "", p->label, head, rate, els,
            eta, p->extra[0] ? "  " : "", p->extra, (final || !p->tty) ? "\n" : "");
    fflush(p->out);
    p->last_draw = now;
}

void pk_progress_update(pk_progress *p, uint64_t done, const char *fmt, ...)
{
    if (!p)
        return;
    p->done = done;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->extra, sizeof p->extra, fmt, ap);
        va_end(ap);
    }
    if (!p->enabled)
        return;
    double now = pk_time_now();
    double gap = p->tty ? 0.1 : 5.0; /* logs get a line every 5 s at most */
    if (p->last_draw < 0 || now - p->last_draw >= gap)
        draw(p, 0);
}

void pk_progress_finish(pk_progress *p)
{
    if (p && p->enabled)
        draw(p, 1);
}

void pk_progress_free(pk_progress *p) { free(p); }
