#include "report.h"

#include <jansson.h>
#include <math.h>

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "papers.h"
#include "probkit/io.h"

typedef struct row {
    char *metric, *peer_name, *scale;
    double ours, paper, peer;
    pk_verdict verdict;
} row;

typedef struct figure {
    char *name, *svg;
} figure;

typedef struct experiment {
    const pk_repro *e;
    int status;
    double seconds;
    row *rows;
    size_t nrows;
    char **notes;
    size_t nnotes;
    figure *figs;
    size_t nfigs;
} experiment;

struct pk_repro_ctx {
    pk_report *r;
    experiment *x;
};

struct pk_report {
    int quick;
    uint64_t seed;
    char *data_dir;
    experiment *xs;
    size_t nx;
};

static char *dupstr(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static char *vfmt(const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

pk_report *pk_report_new(int quick, uint64_t seed, const char *data_dir)
{
    pk_report *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->quick = quick;
    r->seed = seed;
    r->data_dir = dupstr(data_dir);
    return r;
}

void pk_report_free(pk_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nx; i++) {
        experiment *x = &r->xs[i];
        for (size_t j = 0; j < x->nrows; j++) {
            free(x->rows[j].metric);
            free(x->rows[j].peer_name);
            free(x->rows[j].scale);
        }
        free(x->rows);
        for (size_t j = 0; j < x->nnotes; j++)
            free(x->notes[j]);
        free(x->notes);
        for (size_t j = 0; j < x->nfigs; j++) {
            free(x->figs[j].name);
            free(x->figs[j].svg);
        }
        free(x->figs);
    }
    free(r->xs);
    free(r->data_dir);
    free(r);
}

int pk_repro_quick(const pk_repro_ctx *c) { return c->r->quick; }

int pk_repro_serial(pk_repro_ctx *ctx, int (*fn)(pk_repro_ctx *ctx))
{
    int threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
#ifdef _OPENMP
    int omp = omp_get_max_threads();
    omp_set_num_threads(1);
#endif
    int st = fn(ctx);
    openblas_set_num_threads(threads);
#ifdef _OPENMP
    omp_set_num_threads(omp);
#endif
    return st;
}
uint64_t pk_repro_seed(const pk_repro_ctx *c) { return c->r->seed; }
const char *pk_repro_data_dir(const pk_repro_ctx *c) { return c->r->data_dir; }

pk_verdict pk_verdict_le(double ours, double target)
{
    return isnan(ours) ? PK_VERDICT_FAIL : ours <= target ? PK_VERDICT_PASS : PK_VERDICT_FAIL;
}
pk_verdict pk_verdict_ge(double ours, double target)
{
    return isnan(ours) ? PK_VERDICT_FAIL : ours >= target ? PK_VERDICT_PASS : PK_VERDICT_FAIL;
}

void pk_repro_row(pk_repro_ctx *c, const char *metric, double ours, double paper, double peer,
                  const char *peer_name, const char *scale, pk_verdict verdict)
{
    experiment *x = c->x;
    row *nr = realloc(x->rows, (x->nrows + 1) * sizeof *nr);
    if (!nr)
        return;
    x->rows = nr;
    row *w = &nr[x->nrows++];
    w->metric = dupstr(metric);
    w->peer_name = dupstr(peer_name);
    w->scale = dupstr(scale);
    w->ours = ours;
    w->paper = paper;
    w->peer = peer;
    w->verdict = verdict;
}

void pk_repro_note(pk_repro_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vfmt(fmt, ap);
    va_end(ap);
    if (!s)
        return;
    char **nn = realloc(c->x->notes, (c->x->nnotes + 1) * sizeof *nn);
    if (!nn) {
        free(s);
        return;
    }
    c->x->notes = nn;
    nn[c->x->nnotes++] = s;
}

void pk_repro_log(pk_repro_ctx *c, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "[%s] ", c->x->e->id);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void pk_repro_svg(pk_repro_ctx *c, const char *name, const char *svg)
{
    experiment *x = c->x;
    figure *nf = realloc(x->figs, (x->nfigs + 1) * sizeof *nf);
    if (!nf)
        return;
    x->figs = nf;
    nf[x->nfigs].name = dupstr(name);
    nf[x->nfigs].svg = dupstr(svg);
    x->nfigs++;
}

void pk_repro_plot(pk_repro_ctx *c, const char *name, const pk_plot *plot)
{
    char *svg = NULL;
    if (pk_plot_svg(plot, &svg) == PK_OK && svg)
        pk_repro_svg(c, name, svg);
    free(svg);
}

int pk_report_run(pk_report *r, const pk_repro *e)
{
    experiment *nx = realloc(r->xs, (r->nx + 1) * sizeof *nx);
    if (!nx)
        return PK_ENOMEM;
    r->xs = nx;
    experiment *x = &nx[r->nx++];
    memset(x, 0, sizeof *x);
    x->e = e;
    pk_repro_ctx c = {r, x};
    double t0 = pk_time_now();
    x->status = e->run(&c);
    x->seconds = pk_time_now() - t0;
    return x->status;
}

void pk_report_counts(const pk_report *r, int *pass, int *fail, int *info, int *skip)
{
    int p = 0, f = 0, i = 0, s = 0;
    for (size_t k = 0; k < r->nx; k++)
        for (size_t j = 0; j < r->xs[k].nrows; j++)
            switch (r->xs[k].rows[j].verdict) {
            case PK_VERDICT_PASS: p++; break;
            case PK_VERDICT_FAIL: f++; break;
            case PK_VERDICT_SKIP: s++; break;
            default: i++;
            }
    if (pass) *pass = p;
    if (fail) *fail = f;
    if (info) *info = i;
    if (skip) *skip = s;
}

static const char *verdict_name(pk_verdict v)
{
    switch (v) {
    case PK_VERDICT_PASS: return "pass";
    case PK_VERDICT_FAIL: return "FAIL";
    case PK_VERDICT_SKIP: return "skip";
    default: return "info";
    }
}

static void fmtnum(char *b, size_t n, double v)
{
    if (isnan(v))
        snprintf(b, n, "—");
    else
        snprintf(b, n, "%.4g", v);
}

static const char *paper_title(const char *id)
{
    for (size_t i = 0; pk_papers[i].id; i++)
        if (!strcmp(pk_papers[i].id, id))
            return pk_papers[i].title;
    return id;
}

static void html_escape(FILE *f, const char *s)
{
    for (; s && *s; s++)
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
}

/* Notes are Markdown: in HTML, `code` spans become <code> (the rest is escaped). */
static void html_note(FILE *f, const char *s)
{
    int open = 0;
    for (const char *p = s; p && *p; p++) {
        if (*p == '`') {
            fputs(open ? "</code>" : "<code>", f);
            open = !open;
        } else {
            char c[2] = {*p, 0};
            html_escape(f, c);
        }
    }
    if (open)
        fputs("</code>", f);
}

static int write_md(const pk_report *r, const char *path, pk_err *err)
{
    pk_atomic_file af;
    int st = pk_atomic_open(&af, path, err);
    if (st)
        return st;
    FILE *f = af.fp;
    int p, fl, in, sk;
    pk_report_counts(r, &p, &fl, &in, &sk);
    fprintf(f, "# probkit reproduction report\n\nmode: %s, seed %llu. %d pass, %d fail, %d info, %d skip.\n\n",
            r->quick ? "--quick" : "full", (unsigned long long)r->seed, p, fl, in, sk);
    for (size_t k = 0; k < r->nx; k++) {
        const experiment *x = &r->xs[k];
        fprintf(f, "## %s — %s\n\n%s (%.1f s%s%s)\n\n", x->e->id, paper_title(x->e->id), x->e->summary,
                x->seconds, x->status ? ", stopped: " : "", x->status ? pk_strerror(x->status) : "");
        if (x->nrows) {
            fprintf(f, "| metric | ours | paper | peer | scale | verdict |\n|---|---|---|---|---|---|\n");
            for (size_t j = 0; j < x->nrows; j++) {
                const row *w = &x->rows[j];
                char a[32], b[32], c[32];
                fmtnum(a, sizeof a, w->ours);
                fmtnum(b, sizeof b, w->paper);
                fmtnum(c, sizeof c, w->peer);
                fprintf(f, "| %s | %s | %s | %s%s%s%s | %s | %s |\n", w->metric, a, b, c,
                        w->peer_name ? " (" : "", w->peer_name ? w->peer_name : "", w->peer_name ? ")" : "",
                        w->scale ? w->scale : "", verdict_name(w->verdict));
            }
            fputc('\n', f);
        }
        for (size_t j = 0; j < x->nnotes; j++)
            fprintf(f, "%s\n\n", x->notes[j]);
        for (size_t j = 0; j < x->nfigs; j++)
            fprintf(f, "![%s](%s_%s.svg)\n\n", x->figs[j].name, x->e->id, x->figs[j].name);
    }
    return pk_atomic_commit(&af, err);
}

static int write_html(const pk_report *r, const char *path, pk_err *err)
{
    pk_atomic_file af;
    int st = pk_atomic_open(&af, path, err);
    if (st)
        return st;
    FILE *f = af.fp;
    int p, fl, in, sk;
    pk_report_counts(r, &p, &fl, &in, &sk);
    fprintf(f, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>probkit report</title>"
               "<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;"
               "color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
               "text-align:right}td:first-child,th:first-child,td.t{text-align:left}.pass{color:#1a7f37;font-weight:bold}"
               ".FAIL{color:#c62828;font-weight:bold}.skip{color:#888}section{border-top:2px solid #eee;margin-top:2em}"
               "figure{margin:1em 0}nav a{margin-right:.6em}code{background:#f4f4f4;padding:0 .2em}</style></head><body>\n"
               "<h1>probkit reproduction report</h1><p>mode: %s, seed %llu. <span class=pass>%d pass</span>, "
               "<span class=FAIL>%d fail</span>, %d info, %d skip.</p><nav>",
            r->quick ? "--quick" : "full", (unsigned long long)r->seed, p, fl, in, sk);
    for (size_t k = 0; k < r->nx; k++)
        fprintf(f, "<a href=\"#%s\">%s</a>", r->xs[k].e->id, r->xs[k].e->id);
    fprintf(f, "</nav>\n");
    for (size_t k = 0; k < r->nx; k++) {
        const experiment *x = &r->xs[k];
        fprintf(f, "<section id=\"%s\"><h2>%s — ", x->e->id, x->e->id);
        html_escape(f, paper_title(x->e->id));
        fprintf(f, "</h2><p>");
        html_escape(f, x->e->summary);
        fprintf(f, " (%.1f s%s%s)</p>\n", x->seconds, x->status ? ", stopped: " : "",
                x->status ? pk_strerror(x->status) : "");
        if (x->nrows) {
            fprintf(f, "<table><tr><th>metric</th><th>ours</th><th>paper</th><th>peer</th><th>scale</th>"
                       "<th>verdict</th></tr>\n");
            for (size_t j = 0; j < x->nrows; j++) {
                const row *w = &x->rows[j];
                char a[32], b[32], c[32];
                fmtnum(a, sizeof a, w->ours);
                fmtnum(b, sizeof b, w->paper);
                fmtnum(c, sizeof c, w->peer);
                fprintf(f, "<tr><td>");
                html_escape(f, w->metric);
                fprintf(f, "</td><td>%s</td><td>%s</td><td>%s", a, b, c);
                if (w->peer_name) {
                    fprintf(f, " (");
                    html_escape(f, w->peer_name);
                    fprintf(f, ")");
                }
                fprintf(f, "</td><td class=t>");
                html_escape(f, w->scale);
                fprintf(f, "</td><td class=\"%s\">%s</td></tr>\n", verdict_name(w->verdict), verdict_name(w->verdict));
            }
            fprintf(f, "</table>\n");
        }
        for (size_t j = 0; j < x->nnotes; j++) {
            fprintf(f, "<p>");
            html_note(f, x->notes[j]);
            fprintf(f, "</p>\n");
        }
        for (size_t j = 0; j < x->nfigs; j++) {
            const char *svg = x->figs[j].svg, *s = strstr(svg, "<svg");
            fprintf(f, "<figure>%s</figure>\n", s ? s : svg);
        }
        fprintf(f, "</section>\n");
    }
    fprintf(f, "</body></html>\n");
    return pk_atomic_commit(&af, err);
}

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static int write_json(const pk_report *r, const char *path, pk_err *err)
{
    json_t *root = json_object(), *xs = json_array();
    json_object_set_new(root, "quick", json_boolean(r->quick));
    json_object_set_new(root, "seed", json_integer((json_int_t)r->seed));
    for (size_t k = 0; k < r->nx; k++) {
        const experiment *x = &r->xs[k];
        json_t *o = json_object(), *rows = json_array(), *notes = json_array(), *figs = json_array();
        json_object_set_new(o, "id", json_string(x->e->id));
        json_object_set_new(o, "title", json_string(paper_title(x->e->id)));
        json_object_set_new(o, "summary", json_string(x->e->summary));
        json_object_set_new(o, "status", json_string(x->status ? pk_strerror(x->status) : "ok"));
        json_object_set_new(o, "seconds", json_real(x->seconds));
        for (size_t j = 0; j < x->nrows; j++) {
            const row *w = &x->rows[j];
            json_t *jr = json_object();
            json_object_set_new(jr, "metric", json_string(w->metric ? w->metric : ""));
            json_object_set_new(jr, "ours", jnum(w->ours));
            json_object_set_new(jr, "paper", jnum(w->paper));
            json_object_set_new(jr, "peer", jnum(w->peer));
            json_object_set_new(jr, "peer_name", w->peer_name ? json_string(w->peer_name) : json_null());
            json_object_set_new(jr, "scale", json_string(w->scale ? w->scale : ""));
            json_object_set_new(jr, "verdict", json_string(verdict_name(w->verdict)));
            json_array_append_new(rows, jr);
        }
        for (size_t j = 0; j < x->nnotes; j++)
            json_array_append_new(notes, json_string(x->notes[j]));
        for (size_t j = 0; j < x->nfigs; j++) {
            char fn[256];
            snprintf(fn, sizeof fn, "%s_%s.svg", x->e->id, x->figs[j].name);
            json_array_append_new(figs, json_string(fn));
        }
        json_object_set_new(o, "rows", rows);
        json_object_set_new(o, "notes", notes);
        json_object_set_new(o, "figures", figs);
        json_array_append_new(xs, o);
    }
    json_object_set_new(root, "experiments", xs);
    char *s = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (!s)
        return pk_err_set(err, PK_ENOMEM, "%s: could not serialise the results", path);
    int st = pk_file_write_atomic(path, s, strlen(s), err);
    free(s);
    return st;
}

int pk_report_write(const pk_report *r, const char *dir, pk_err *err)
{
    int st = pk_mkdirs(dir, err);
    if (st)
        return st;
    char path[4096];
    for (size_t k = 0; k < r->nx; k++)
        for (size_t j = 0; j < r->xs[k].nfigs; j++) {
            snprintf(path, sizeof path, "%s/%s_%s.svg", dir, r->xs[k].e->id, r->xs[k].figs[j].name);
            st = pk_file_write_atomic(path, r->xs[k].figs[j].svg, strlen(r->xs[k].figs[j].svg), err);
            if (st)
                return st;
        }
    snprintf(path, sizeof path, "%s/summary.md", dir);
    if ((st = write_md(r, path, err)))
        return st;
    snprintf(path, sizeof path, "%s/index.html", dir);
    if ((st = write_html(r, path, err)))
        return st;
    snprintf(path, sizeof path, "%s/results.json", dir);
    return write_json(r, path, err);
}
