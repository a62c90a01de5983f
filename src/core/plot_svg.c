/* plot_svg.c — rendering a pk_plot as a self-contained SVG document. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot_priv.h"

#define FONT "DejaVu Sans, Helvetica, Arial, sans-serif"
#define CHAR_W 6.4 /* average glyph width at 11 px, for layout estimates */
#define CLIP_PLACEHOLDER "pkclip0000000000000000"

static int usable(double v, int logscale) { return isfinite(v) && (!logscale || v > 0); }

/* Visible characters of a markup string (tags skipped, entities count 1). */
static size_t visible_len(const char *s)
{
    size_t n = 0;
    int tag = 0;
    for (; s && *s; s++) {
        if (*s == '<')
            tag = 1;
        else if (*s == '>')
            tag = 0;
        else if (!tag) {
            if (*s == '&') {
                const char *e = strchr(s, ';');
                if (e)
                    s = e;
            }
            if (((unsigned char)*s & 0xC0) != 0x80) /* count UTF-8 lead bytes only */
                n++;
        }
    }
    return n;
}

typedef struct extent {
    double lo, hi;
} extent;

static void ext_add(extent *e, double v, int logscale)
{
    if (!usable(v, logscale))
        return;
    if (isnan(e->lo) || v < e->lo)
        e->lo = v;
    if (isnan(e->hi) || v > e->hi)
        e->hi = v;
}

static void data_extents(const pk_plot *p, extent *ex, extent *ey, int *bars)
{
    ex->lo = ex->hi = ey->lo = ey->hi = NAN;
    *bars = 0;
    for (size_t k = 0; k < p->ns; k++) {
        const pk_series *s = &p->s[k];
        switch (s->kind) {
        case PK_SER_HLINE: ext_add(ey, s->y[0], p->logy); continue;
        case PK_SER_VLINE: ext_add(ex, s->x[0], p->logx); continue;
        default: break;
        }
        for (size_t i = 0; i < s->n; i++) {
            double x = s->x[i], y = s->y[i];
            if (s->kind == PK_SER_BARS) {
                if (!usable(x, p->logx) || !isfinite(y))
                    continue;
                ext_add(ex, x - s->width / 2, p->logx);
                ext_add(ex, x + s->width / 2, p->logx);
                ext_add(ey, y, p->logy);
                if (!p->logy)
                    ext_add(ey, 0, 0);
                *bars = 1;
                continue;
            }
            if (!usable(x, p->logx))
                continue;
            if (s->kind == PK_SER_BAND) {
                ext_add(ey, s->lo[i], p->logy);
                ext_add(ey, s->hi[i], p->logy);
            }
            if (!usable(y, p->logy) && s->kind != PK_SER_BAND)
                continue;
            ext_add(ex, x, p->logx);
            ext_add(ey, y, p->logy);
        }
    }
}

static void marker(pk_sb *sb, int shape, double cx, double cy, double r, const char *colour, const char *extra)
{
    switch (shape & 3) {
    case 0:
        pk_sb_puts(sb, "<circle cx=\"");
        pk_sb_num(sb, cx, 1);
        pk_sb_puts(sb, "\" cy=\"");
        pk_sb_num(sb, cy, 1);
        pk_sb_puts(sb, "\" r=\"");
        pk_sb_num(sb, r, 1);
        break;
    case 1:
        pk_sb_puts(sb, "<rect x=\"");
        pk_sb_num(sb, cx - r * 0.9, 1);
        pk_sb_puts(sb, "\" y=\"");
        pk_sb_num(sb, cy - r * 0.9, 1);
        pk_sb_puts(sb, "\" width=\"");
        pk_sb_num(sb, r * 1.8, 1);
        pk_sb_puts(sb, "\" height=\"");
        pk_sb_num(sb, r * 1.8, 1);
        break;
    case 2:
        pk_sb_puts(sb, "<path d=\"M");
        pk_sb_num(sb, cx, 1);
        pk_sb_puts(sb, " ");
        pk_sb_num(sb, cy - r * 1.2, 1);
        pk_sb_puts(sb, "l");
        pk_sb_num(sb, r * 1.1, 1);
        pk_sb_puts(sb, " ");
        pk_sb_num(sb, r * 1.9, 1);
        pk_sb_puts(sb, "h");
        pk_sb_num(sb, -r * 2.2, 1);
        pk_sb_puts(sb, "z");
        break;
    default:
        pk_sb_puts(sb, "<path d=\"M");
        pk_sb_num(sb, cx, 1);
        pk_sb_puts(sb, " ");
        pk_sb_num(sb, cy - r * 1.3, 1);
        pk_sb_puts(sb, "l");
        pk_sb_num(sb, r * 1.3, 1);
        pk_sb_puts(sb, " ");
        pk_sb_num(sb, r * 1.3, 1);
        pk_sb_puts(sb, "l");
        pk_sb_num(sb, -r * 1.3, 1);
        pk_sb_puts(sb, " ");
        pk_sb_num(sb, r * 1.3, 1);
        pk_sb_puts(sb, "l");
        pk_sb_num(sb, -r * 1.3, 1);
        pk_sb_puts(sb, " ");
        pk_sb_num(sb, -r * 1.3, 1);
        pk_sb_puts(sb, "z");
        break;
    }
    pk_sb_printf(sb, "\" fill=\"%s\"%s/>\n", colour, extra ? extra : "");
}

/* A run of consecutive points in one pixel column, kept as its first, last,
 * lowest and highest point (M4 decimation): the drawn line is the same. */
typedef struct col_run {
    long col;
    size_t first, last, lo, hi;
    double ylo, yhi;
    int active;
} col_run;

static void emit_point(pk_sb *sb, int *open, int *pen, double px, double py)
{
    if (!*open) {
        pk_sb_puts(sb, "<path d=\"");
        *open = 1;
    }
    pk_sb_puts(sb, *pen ? "L" : "M");
    pk_sb_num(sb, px, 2);
    pk_sb_puts(sb, " ");
    pk_sb_num(sb, py, 2);
    *pen = 1;
}

static void flush_run(pk_sb *sb, col_run *r, const pk_axis *ax, const pk_axis *ay, const double *x, const double *y,
                      int *open, int *pen)
{
    if (!r->active)
        return;
    size_t idx[4] = {r->first, r->lo, r->hi, r->last};
    for (int i = 1; i < 4; i++) /* in drawing order */
        for (int j = i; j > 0 && idx[j] < idx[j - 1]; j--) {
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    for (int i = 0; i < 4; i++)
        if (i == 0 || idx[i] != idx[i - 1])
            emit_point(sb, open, pen, pk_axis_px(ax, x[idx[i]]), pk_axis_px(ay, y[idx[i]]));
    r->active = 0;
}

/* A polyline through (x[i], y[i]); unusable points break it.  Lines with
 * many more points than pixel columns are decimated per column. */
static void polyline(pk_sb *sb, const pk_axis *ax, const pk_axis *ay, const double *x, const double *y, size_t n,
                     const char *colour, const char *style)
{
    int open = 0, pen = 0;
    int decimate = (double)n > 4 * fabs(ax->p1 - ax->p0);
    col_run run = {0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        if (!usable(x[i], ax->log) || !usable(y[i], ay->log)) {
            flush_run(sb, &run, ax, ay, x, y, &open, &pen);
            pen = 0;
            continue;
        }
        if (!decimate) {
            emit_point(sb, &open, &pen, pk_axis_px(ax, x[i]), pk_axis_px(ay, y[i]));
            continue;
        }
        long col = (long)floor(pk_axis_px(ax, x[i]));
        if (run.active && col != run.col)
            flush_run(sb, &run, ax, ay, x, y, &open, &pen);
        if (!run.active) {
            run = (col_run){col, i, i, i, i, y[i], y[i], 1};
            continue;
        }
        run.last = i;
        if (y[i] < run.ylo) {
            run.ylo = y[i];
            run.lo = i;
        }
        if (y[i] > run.yhi) {
            run.yhi = y[i];
            run.hi = i;
        }
    }
    flush_run(sb, &run, ax, ay, x, y, &open, &pen);
    if (open)
        pk_sb_printf(sb, "\" fill=\"none\" stroke=\"%s\" %s/>\n", colour, style);
}

static void band_fill(pk_sb *sb, const pk_axis *ax, const pk_axis *ay, const pk_series *s, const char *colour)
{
    size_t i = 0;
    while (i < s->n) {
        while (i < s->n && !(usable(s->x[i], ax->log) && usable(s->lo[i], ay->log) && usable(s->hi[i], ay->log)))
            i++;
        size_t j = i;
        while (j < s->n && usable(s->x[j], ax->log) && usable(s->lo[j], ay->log) && usable(s->hi[j], ay->log))
            j++;
        if (j > i) {
            pk_sb_puts(sb, "<path d=\"");
            for (size_t k = i; k < j; k++) {
                pk_sb_puts(sb, k == i ? "M" : "L");
                pk_sb_num(sb, pk_axis_px(ax, s->x[k]), 2);
                pk_sb_puts(sb, " ");
                pk_sb_num(sb, pk_axis_px(ay, s->hi[k]), 2);
            }
            for (size_t k = j; k-- > i;) {
                pk_sb_puts(sb, "L");
                pk_sb_num(sb, pk_axis_px(ax, s->x[k]), 2);
                pk_sb_puts(sb, " ");
                pk_sb_num(sb, pk_axis_px(ay, s->lo[k]), 2);
            }
            pk_sb_printf(sb, "Z\" fill=\"%s\" fill-opacity=\"0.2\" stroke=\"none\"/>\n", colour);
        }
        i = j;
    }
}

static void bars(pk_sb *sb, const pk_axis *ax, const pk_axis *ay, const pk_series *s, const char *colour)
{
    double base = ay->log ? ay->p0 : pk_axis_px(ay, 0);
    pk_sb_printf(sb, "<g fill=\"%s\" fill-opacity=\"0.85\" stroke=\"#ffffff\" stroke-width=\"0.6\">\n", colour);
    for (size_t i = 0; i < s->n; i++) {
        double x = s->x[i], h = s->y[i];
        if (!usable(x - s->width / 2, ax->log) || !isfinite(h) || (ay->log && !(h > 0)))
            continue;
        double x0 = pk_axis_px(ax, x - s->width / 2), x1 = pk_axis_px(ax, x + s->width / 2);
        double yt = pk_axis_px(ay, h);
        double top = fmin(yt, base), ht = fabs(base - yt);
        pk_sb_puts(sb, "<rect x=\"");
        pk_sb_num(sb, fmin(x0, x1), 2);
        pk_sb_puts(sb, "\" y=\"");
        pk_sb_num(sb, top, 2);
        pk_sb_puts(sb, "\" width=\"");
        pk_sb_num(sb, fabs(x1 - x0), 2);
        pk_sb_puts(sb, "\" height=\"");
        pk_sb_num(sb, ht, 2);
        pk_sb_puts(sb, "\"/>\n");
    }
    pk_sb_puts(sb, "</g>\n");
}

static int max_group(const pk_series *s)
{
    int g = -1;
    for (size_t i = 0; i < s->n; i++)
        if (s->group[i] > g)
            g = s->group[i];
    return g;
}

static void draw_series(pk_sb *sb, const pk_plot *p, const pk_axis *ax, const pk_axis *ay, const pk_series *s)
{
    const char *col = pk_plot_palette[s->colour];
    switch (s->kind) {
    case PK_SER_BAND:
        polyline(sb, ax, ay, s->x, s->y, s->n, col, "stroke-width=\"1.8\" stroke-linejoin=\"round\"");
        break;
    case PK_SER_LINE:
        polyline(sb, ax, ay, s->x, s->y, s->n, col, "stroke-width=\"1.8\" stroke-linejoin=\"round\"");
        break;
    case PK_SER_SCATTER:
    case PK_SER_GROUPS: {
        double r = s->n > 2000 ? 2.0 : 3.0;
        const char *op = s->n > 2000 ? " fill-opacity=\"0.5\"" : " fill-opacity=\"0.8\"";
        /* big clouds: one marker per cell and colour (a bitmap per palette
         * colour), cells sized so that a full frame holds ~15,000 markers per
         * colour (half a pixel at least); markers outside the frame dropped */
        double fw = fabs(ax->p1 - ax->p0), fh = fabs(ay->p0 - ay->p1);
        double cell = fmax(0.5, sqrt(fw * fh / 15000.0));
        size_t gw = (size_t)(fw / cell) + 2, gh = (size_t)(fh / cell) + 2;
        uint8_t *seen = s->n > 5000 ? calloc((gw * gh * PK_PLOT_NPALETTE + 7) / 8, 1) : NULL;
        for (size_t i = 0; i < s->n; i++) {
            if (!usable(s->x[i], ax->log) || !usable(s->y[i], ay->log))
                continue;
            int g = s->kind == PK_SER_GROUPS ? s->group[i] : 0;
            if (g < 0)
                continue;
            double px = pk_axis_px(ax, s->x[i]), py = pk_axis_px(ay, s->y[i]);
            if (px < ax->p0 - r || px > ax->p1 + r || py < ay->p1 - r || py > ay->p0 + r)
                continue;
            if (seen) {
                size_t cx = (size_t)fmax(0, fmin((double)gw - 1, (px - ax->p0) / cell));
                size_t cy = (size_t)fmax(0, fmin((double)gh - 1, (py - ay->p1) / cell));
                size_t bit = ((size_t)(g % PK_PLOT_NPALETTE) * gh + cy) * gw + cx;
                if (seen[bit / 8] & (1u << (bit % 8)))
                    continue;
                seen[bit / 8] |= (uint8_t)(1u << (bit % 8));
            }
            const char *c = s->kind == PK_SER_GROUPS ? pk_plot_palette[g % PK_PLOT_NPALETTE] : col;
            marker(sb, g, px, py, r, c, op);
        }
        free(seen);
        break;
    }
    case PK_SER_HLINE:
    case PK_SER_VLINE: {
        int h = s->kind == PK_SER_HLINE;
        double v = h ? s->y[0] : s->x[0];
        if (!usable(v, h ? ay->log : ax->log))
            break;
        double c = h ? pk_axis_px(ay, v) : pk_axis_px(ax, v);
        pk_sb_puts(sb, "<line x1=\"");
        pk_sb_num(sb, h ? ax->p0 : c, 2);
        pk_sb_puts(sb, "\" y1=\"");
        pk_sb_num(sb, h ? c : ay->p0, 2);
        pk_sb_puts(sb, "\" x2=\"");
        pk_sb_num(sb, h ? ax->p1 : c, 2);
        pk_sb_puts(sb, "\" y2=\"");
        pk_sb_num(sb, h ? c : ay->p1, 2);
        pk_sb_printf(sb, "\" stroke=\"%s\" stroke-width=\"1.6\" stroke-dasharray=\"6 4\"/>\n", col);
        break;
    }
    default:
        break;
    }
    (void)p;
}

/* ---- legend ----------------------------------------------------------------- */

typedef struct legend_entry {
    const char *text; /* not escaped yet */
    char buf[24];
    pk_series_kind kind;
    int colour, shape;
} legend_entry;

static size_t collect_legend(const pk_plot *p, legend_entry *e, size_t max)
{
    size_t n = 0;
    for (size_t k = 0; k < p->ns && n < max; k++) {
        const pk_series *s = &p->s[k];
        if (s->kind == PK_SER_GROUPS) {
            int g = max_group(s);
            if (g >= 12) /* too many groups to list usefully */
                continue;
            for (int j = 0; j <= g && n < max; j++) {
                legend_entry *le = &e[n++];
                snprintf(le->buf, sizeof le->buf, "group %d", j);
                le->text = le->buf;
                le->kind = s->kind;
                le->colour = j % PK_PLOT_NPALETTE;
                le->shape = j;
            }
            continue;
        }
        if (!s->label)
            continue;
        legend_entry *le = &e[n++];
        le->text = s->label;
        le->kind = s->kind;
        le->colour = s->colour;
        le->shape = 0;
    }
    return n;
}

/* Points of the data inside a pixel rectangle: where the legend would hide them. */
/* How much of the data a pixel rectangle would hide: points inside it, plus
 * samples every ~4 px along line segments (a line crossing the box counts). */
static size_t points_in(const pk_plot *p, const pk_axis *ax, const pk_axis *ay, double x0, double y0, double x1,
                        double y1)
{
    size_t c = 0;
    for (size_t k = 0; k < p->ns; k++) {
        const pk_series *s = &p->s[k];
        if (s->kind == PK_SER_HLINE || s->kind == PK_SER_VLINE)
            continue;
        int joined = s->kind == PK_SER_LINE || s->kind == PK_SER_BAND;
        double qx = NAN, qy = NAN; /* previous vertex of a line, in pixels */
        for (size_t i = 0; i < s->n; i++) {
            if (!usable(s->x[i], ax->log)) {
                qx = NAN;
                continue;
            }
            double px = pk_axis_px(ax, s->x[i]);
            if (joined) {
                double py = usable(s->y[i], ay->log) ? pk_axis_px(ay, s->y[i]) : NAN;
                if (!isnan(py) && !isnan(qx)) {
                    double len = hypot(px - qx, py - qy);
                    int steps = len > 800 ? 200 : (int)(len / 4);
                    for (int t = 1; t < steps; t++) {
                        double sx = qx + (px - qx) * t / steps, sy = qy + (py - qy) * t / steps;
                        c += sx >= x0 && sx <= x1 && sy >= y0 && sy <= y1;
                    }
                }
                qx = isnan(py) ? NAN : px;
                qy = py;
            }
            if (px < x0 || px > x1)
                continue;
            double ys[3] = {s->y[i], s->lo ? s->lo[i] : NAN, s->hi ? s->hi[i] : NAN};
            for (int j = 0; j < 3; j++) {
                if (!usable(ys[j], ay->log))
                    continue;
                double py = pk_axis_px(ay, ys[j]);
                if (py >= y0 && py <= y1)
                    c++;
            }
        }
    }
    return c;
}

static void draw_legend(pk_sb *sb, const pk_plot *p, const pk_axis *ax, const pk_axis *ay)
{
    legend_entry e[32];
    size_t n = collect_legend(p, e, 32);
    if (n == 0)
        return;
    size_t maxc = 0;
    for (size_t i = 0; i < n; i++) {
        size_t c = visible_len(e[i].text);
        if (c > maxc)
            maxc = c;
    }
    double bw = 36 + CHAR_W * (double)(maxc > 60 ? 60 : maxc), bh = 8 + 17.0 * (double)n;
    double left = ax->p0, right = ax->p1, top = ay->p1, bottom = ay->p0;
    double cx[4] = {right - 8 - bw, left + 8, right - 8 - bw, left + 8};
    double cy[4] = {top + 8, top + 8, bottom - 8 - bh, bottom - 8 - bh};
    int best = 0;
    size_t bestc = (size_t)-1;
    for (int c = 0; c < 4; c++) {
        /* a 4 px margin: markers and line widths reach beyond their centres */
        size_t k = points_in(p, ax, ay, cx[c] - 4, cy[c] - 4, cx[c] + bw + 4, cy[c] + bh + 4);
        if (k < bestc) {
            bestc = k;
            best = c;
        }
    }
    double x = cx[best], y = cy[best];
    pk_sb_puts(sb, "<g class=\"legend\" font-size=\"11\">\n<rect x=\"");
    pk_sb_num(sb, x, 1);
    pk_sb_puts(sb, "\" y=\"");
    pk_sb_num(sb, y, 1);
    pk_sb_puts(sb, "\" width=\"");
    pk_sb_num(sb, bw, 1);
    pk_sb_puts(sb, "\" height=\"");
    pk_sb_num(sb, bh, 1);
    pk_sb_puts(sb, "\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.88\" stroke=\"#bbbbbb\" stroke-width=\"0.8\"/>\n");
    for (size_t i = 0; i < n; i++) {
        double ry = y + 4 + 17.0 * (double)i + 8.5, sx = x + 8;
        const char *col = pk_plot_palette[e[i].colour];
        switch (e[i].kind) {
        case PK_SER_SCATTER:
        case PK_SER_GROUPS: marker(sb, e[i].shape, sx + 9, ry, 3.5, col, NULL); break;
        case PK_SER_BARS:
        case PK_SER_BAND:
            pk_sb_puts(sb, "<rect x=\"");
            pk_sb_num(sb, sx, 1);
            pk_sb_puts(sb, "\" y=\"");
            pk_sb_num(sb, ry - 5, 1);
            pk_sb_printf(sb, "\" width=\"18\" height=\"10\" fill=\"%s\" fill-opacity=\"%s\"/>\n", col,
                         e[i].kind == PK_SER_BAND ? "0.25" : "0.85");
            if (e[i].kind == PK_SER_BARS)
                break;
            /* fall through - a band's legend also shows its line */
        default:
            pk_sb_puts(sb, "<line x1=\"");
            pk_sb_num(sb, sx, 1);
            pk_sb_puts(sb, "\" y1=\"");
            pk_sb_num(sb, ry, 1);
            pk_sb_puts(sb, "\" x2=\"");
            pk_sb_num(sb, sx + 18, 1);
            pk_sb_puts(sb, "\" y2=\"");
            pk_sb_num(sb, ry, 1);
            pk_sb_printf(sb, "\" stroke=\"%s\" stroke-width=\"1.8\"%s/>\n", col,
                         (e[i].kind == PK_SER_HLINE || e[i].kind == PK_SER_VLINE) ? " stroke-dasharray=\"5 3\"" : "");
        }
        pk_sb_puts(sb, "<text x=\"");
        pk_sb_num(sb, sx + 26, 1);
        pk_sb_puts(sb, "\" y=\"");
        pk_sb_num(sb, ry + 4, 1);
        pk_sb_puts(sb, "\">");
        pk_sb_text(sb, e[i].text);
        pk_sb_puts(sb, "</text>\n");
    }
    pk_sb_puts(sb, "</g>\n");
}

/* ---- the document --------------------------------------------------------------- */

static void hash_clip_id(char *doc)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a over the document makes the id unique per figure */
    for (const unsigned char *c = (const unsigned char *)doc; *c; c++) {
        h ^= *c;
        h *= 1099511628211ULL;
    }
    char id[32];
    snprintf(id, sizeof id, "pkclip%016llx", (unsigned long long)h);
    size_t L = strlen(CLIP_PLACEHOLDER);
    for (char *q = strstr(doc, CLIP_PLACEHOLDER); q; q = strstr(q + L, CLIP_PLACEHOLDER))
        memcpy(q, id, L);
}

int pk_plot_svg(const pk_plot *p, char **svg)
{
    if (!svg)
        return PK_EINVAL;
    *svg = NULL;
    if (!p)
        return PK_EINVAL;
    const double W = p->width, H = p->height;
    extent ex, ey;
    int has_bars;
    data_extents(p, &ex, &ey, &has_bars);

    pk_axis ax, ay;
    memset(&ax, 0, sizeof ax);
    memset(&ay, 0, sizeof ay);
    ax.log = p->logx;
    ay.log = p->logy;
    pk_axis_range(&ax, ex.lo, ex.hi, p->xlo, p->xhi, 0);
    pk_axis_range(&ay, ey.lo, ey.hi, p->ylo, p->yhi, has_bars);

    double top = p->title && p->title[0] ? 34 : 14;
    double bottom = 28 + (p->xlabel && p->xlabel[0] ? 20 : 0);
    ay.p0 = H - bottom;
    ay.p1 = top;
    int ty = (int)((ay.p0 - ay.p1) / 45);
    pk_axis_ticks(&ay, ty < 3 ? 3 : ty > 10 ? 10 : ty);
    size_t ylw = 0;
    for (int i = 0; i < ay.nticks; i++) {
        size_t c = visible_len(ay.label[i]);
        if (c > ylw)
            ylw = c;
    }
    double left = 14 + CHAR_W * (double)ylw + (p->ylabel && p->ylabel[0] ? 22 : 0);
    ax.p0 = left;
    ax.p1 = W - 18;
    int tx = (int)((ax.p1 - ax.p0) / 80);
    pk_axis_ticks(&ax, tx < 3 ? 3 : tx > 10 ? 10 : tx);
    if (ax.nticks > 0) { /* keep the last x label inside the canvas */
        double half = CHAR_W * (double)visible_len(ax.label[ax.nticks - 1]) / 2;
        double over = pk_axis_px(&ax, ax.tick[ax.nticks - 1]) + half - (W - 4);
        if (over > 0) {
            ax.p1 -= over;
            pk_axis_ticks(&ax, tx < 3 ? 3 : tx > 10 ? 10 : tx);
        }
    }

    pk_sb sb = {0};
    pk_sb_printf(&sb,
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                 "font-family=\"" FONT "\" font-size=\"11\">\n",
                 p->width, p->height, p->width, p->height);
    if (p->title && p->title[0]) {
        pk_sb_puts(&sb, "<title>");
        pk_sb_text(&sb, p->title);
        pk_sb_puts(&sb, "</title>\n");
    }
    pk_sb_puts(&sb, "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
    double pw = ax.p1 - ax.p0, ph = ay.p0 - ay.p1;
    pk_sb_puts(&sb, "<defs><clipPath id=\"" CLIP_PLACEHOLDER "\"><rect x=\"");
    pk_sb_num(&sb, ax.p0, 2);
    pk_sb_puts(&sb, "\" y=\"");
    pk_sb_num(&sb, ay.p1, 2);
    pk_sb_puts(&sb, "\" width=\"");
    pk_sb_num(&sb, pw, 2);
    pk_sb_puts(&sb, "\" height=\"");
    pk_sb_num(&sb, ph, 2);
    pk_sb_puts(&sb, "\"/></clipPath></defs>\n");

    /* grid */
    pk_sb_puts(&sb, "<g stroke=\"#e8e8e8\" stroke-width=\"1\">\n");
    for (int i = 0; i < ax.nticks; i++) {
        double x = pk_axis_px(&ax, ax.tick[i]);
        pk_sb_puts(&sb, "<line x1=\"");
        pk_sb_num(&sb, x, 2);
        pk_sb_puts(&sb, "\" x2=\"");
        pk_sb_num(&sb, x, 2);
        pk_sb_puts(&sb, "\" y1=\"");
        pk_sb_num(&sb, ay.p1, 2);
        pk_sb_puts(&sb, "\" y2=\"");
        pk_sb_num(&sb, ay.p0, 2);
        pk_sb_puts(&sb, "\"/>\n");
    }
    for (int i = 0; i < ay.nticks; i++) {
        double y = pk_axis_px(&ay, ay.tick[i]);
        pk_sb_puts(&sb, "<line x1=\"");
        pk_sb_num(&sb, ax.p0, 2);
        pk_sb_puts(&sb, "\" x2=\"");
        pk_sb_num(&sb, ax.p1, 2);
        pk_sb_puts(&sb, "\" y1=\"");
        pk_sb_num(&sb, y, 2);
        pk_sb_puts(&sb, "\" y2=\"");
        pk_sb_num(&sb, y, 2);
        pk_sb_puts(&sb, "\"/>\n");
    }
    pk_sb_puts(&sb, "</g>\n");

    /* data: areas first so that lines and markers stay visible on top */
    pk_sb_puts(&sb, "<g clip-path=\"url(#" CLIP_PLACEHOLDER ")\">\n");
    for (size_t k = 0; k < p->ns; k++) {
        const pk_series *s = &p->s[k];
        if (s->kind == PK_SER_BAND)
            band_fill(&sb, &ax, &ay, s, pk_plot_palette[s->colour]);
        else if (s->kind == PK_SER_BARS)
            bars(&sb, &ax, &ay, s, pk_plot_palette[s->colour]);
    }
    for (size_t k = 0; k < p->ns; k++)
        if (p->s[k].kind != PK_SER_BARS)
            draw_series(&sb, p, &ax, &ay, &p->s[k]);
    pk_sb_puts(&sb, "</g>\n");

    /* frame, ticks and tick labels */
    pk_sb_puts(&sb, "<rect x=\"");
    pk_sb_num(&sb, ax.p0, 2);
    pk_sb_puts(&sb, "\" y=\"");
    pk_sb_num(&sb, ay.p1, 2);
    pk_sb_puts(&sb, "\" width=\"");
    pk_sb_num(&sb, pw, 2);
    pk_sb_puts(&sb, "\" height=\"");
    pk_sb_num(&sb, ph, 2);
    pk_sb_puts(&sb, "\" fill=\"none\" stroke=\"#444444\" stroke-width=\"1\"/>\n");
    pk_sb_puts(&sb, "<g class=\"xticks\" fill=\"#333333\" text-anchor=\"middle\">\n");
    for (int i = 0; i < ax.nticks; i++) {
        double x = pk_axis_px(&ax, ax.tick[i]);
        pk_sb_puts(&sb, "<line x1=\"");
        pk_sb_num(&sb, x, 2);
        pk_sb_puts(&sb, "\" x2=\"");
        pk_sb_num(&sb, x, 2);
        pk_sb_puts(&sb, "\" y1=\"");
        pk_sb_num(&sb, ay.p0, 2);
        pk_sb_puts(&sb, "\" y2=\"");
        pk_sb_num(&sb, ay.p0 + 4, 2);
        pk_sb_puts(&sb, "\" stroke=\"#444444\"/>\n<text x=\"");
        pk_sb_num(&sb, x, 2);
        pk_sb_puts(&sb, "\" y=\"");
        pk_sb_num(&sb, ay.p0 + 16, 2);
        pk_sb_printf(&sb, "\">%s</text>\n", ax.label[i]);
    }
    pk_sb_puts(&sb, "</g>\n<g class=\"yticks\" fill=\"#333333\" text-anchor=\"end\">\n");
    for (int i = 0; i < ay.nticks; i++) {
        double y = pk_axis_px(&ay, ay.tick[i]);
        pk_sb_puts(&sb, "<line x1=\"");
        pk_sb_num(&sb, ax.p0 - 4, 2);
        pk_sb_puts(&sb, "\" x2=\"");
        pk_sb_num(&sb, ax.p0, 2);
        pk_sb_puts(&sb, "\" y1=\"");
        pk_sb_num(&sb, y, 2);
        pk_sb_puts(&sb, "\" y2=\"");
        pk_sb_num(&sb, y, 2);
        pk_sb_puts(&sb, "\" stroke=\"#444444\"/>\n<text x=\"");
        pk_sb_num(&sb, ax.p0 - 7, 2);
        pk_sb_puts(&sb, "\" y=\"");
        pk_sb_num(&sb, y + 4, 2);
        pk_sb_printf(&sb, "\">%s</text>\n", ay.label[i]);
    }
    pk_sb_puts(&sb, "</g>\n");

    if (p->title && p->title[0]) {
        pk_sb_puts(&sb, "<text class=\"title\" x=\"");
        pk_sb_num(&sb, (ax.p0 + ax.p1) / 2, 1);
        pk_sb_puts(&sb, "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\" fill=\"#222222\">");
        pk_sb_text(&sb, p->title);
        pk_sb_puts(&sb, "</text>\n");
    }
    if (p->xlabel && p->xlabel[0]) {
        pk_sb_puts(&sb, "<text class=\"xlabel\" x=\"");
        pk_sb_num(&sb, (ax.p0 + ax.p1) / 2, 1);
        pk_sb_puts(&sb, "\" y=\"");
        pk_sb_num(&sb, H - 9, 1);
        pk_sb_puts(&sb, "\" text-anchor=\"middle\" font-size=\"12\" fill=\"#222222\">");
        pk_sb_text(&sb, p->xlabel);
        pk_sb_puts(&sb, "</text>\n");
    }
    if (p->ylabel && p->ylabel[0]) {
        double cy = (ay.p0 + ay.p1) / 2;
        pk_sb_puts(&sb, "<text class=\"ylabel\" transform=\"translate(15,");
        pk_sb_num(&sb, cy, 1);
        pk_sb_puts(&sb, ") rotate(-90)\" text-anchor=\"middle\" font-size=\"12\" fill=\"#222222\">");
        pk_sb_text(&sb, p->ylabel);
        pk_sb_puts(&sb, "</text>\n");
    }
    draw_legend(&sb, p, &ax, &ay);
    pk_sb_puts(&sb, "</svg>\n");
    if (sb.failed) {
        free(sb.buf);
        return PK_ENOMEM;
    }
    hash_clip_id(sb.buf);
    *svg = sb.buf;
    return PK_OK;
}
