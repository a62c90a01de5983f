/* plot.c — building a figure: the pk_plot object and its series.
 * Rendering is in plot_svg.c, ticks and formatting in plot_axis.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot_priv.h"
#include "probkit/io.h"

const char *const pk_plot_palette[PK_PLOT_NPALETTE] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                                       "#CC79A7", "#56B4E9", "#000000", "#F0E442"};

static char *dup_or_null(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

pk_plot *pk_plot_new(const char *title, const char *xlabel, const char *ylabel)
{
    pk_plot *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->title = dup_or_null(title);
    p->xlabel = dup_or_null(xlabel);
    p->ylabel = dup_or_null(ylabel);
    if ((title && !p->title) || (xlabel && !p->xlabel) || (ylabel && !p->ylabel)) {
        pk_plot_free(p);
        return NULL;
    }
    p->width = 640;
    p->height = 400;
    p->xlo = p->xhi = p->ylo = p->yhi = NAN;
    return p;
}

static void series_free(pk_series *s)
{
    free(s->label);
    free(s->x);
    free(s->y);
    free(s->lo);
    free(s->hi);
    free(s->group);
}

void pk_plot_free(pk_plot *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->ns; i++)
        series_free(&p->s[i]);
    free(p->s);
    free(p->title);
    free(p->xlabel);
    free(p->ylabel);
    free(p);
}

void pk_plot_set_size(pk_plot *p, int width, int height)
{
    if (!p)
        return;
    p->width = width < 160 ? 160 : width > 8000 ? 8000 : width;
    p->height = height < 120 ? 120 : height > 8000 ? 8000 : height;
}

void pk_plot_set_log(pk_plot *p, int logx, int logy)
{
    if (!p)
        return;
    p->logx = logx != 0;
    p->logy = logy != 0;
}

void pk_plot_set_xrange(pk_plot *p, double lo, double hi)
{
    if (!p)
        return;
    p->xlo = isfinite(lo) ? lo : NAN;
    p->xhi = isfinite(hi) ? hi : NAN;
}

void pk_plot_set_yrange(pk_plot *p, double lo, double hi)
{
    if (!p)
        return;
    p->ylo = isfinite(lo) ? lo : NAN;
    p->yhi = isfinite(hi) ? hi : NAN;
}

static double *dup_vec(const double *v, size_t n)
{
    double *d = malloc((n ? n : 1) * sizeof *d);
    if (d && n)
        memcpy(d, v, n * sizeof *d);
    return d;
}

/* Append a series slot with the next palette colour; NULL on no memory. */
static pk_series *add_series(pk_plot *p, pk_series_kind kind, const char *label, int takes_colour)
{
    if (p->ns == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 8;
        pk_series *ns = realloc(p->s, cap * sizeof *ns);
        if (!ns)
            return NULL;
        p->s = ns;
        p->cap = cap;
    }
    pk_series *s = &p->s[p->ns];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    if (label && label[0]) {
        s->label = dup_or_null(label);
        if (!s->label)
            return NULL;
    }
    s->colour = takes_colour ? p->ncolours % PK_PLOT_NPALETTE : 0;
    return s;
}

/* Commit the slot filled by add_series (or roll it back when fill failed). */
static int commit(pk_plot *p, pk_series *s, int ok, int takes_colour)
{
    if (!ok) {
        series_free(s);
        return PK_ENOMEM;
    }
    p->ns++;
    if (takes_colour)
        p->ncolours++;
    return PK_OK;
}

static int add_xy(pk_plot *p, pk_series_kind kind, const char *label, const double *x, const double *y, size_t n)
{
    if (!p || (n && (!x || !y)))
        return PK_EINVAL;
    pk_series *s = add_series(p, kind, label, 1);
    if (!s)
        return PK_ENOMEM;
    s->n = n;
    s->x = dup_vec(x, n);
    s->y = dup_vec(y, n);
    return commit(p, s, s->x && s->y, 1);
}

int pk_plot_line(pk_plot *p, const char *label, const double *x, const double *y, size_t n)
{
    return add_xy(p, PK_SER_LINE, label, x, y, n);
}

int pk_plot_scatter(pk_plot *p, const char *label, const double *x, const double *y, size_t n)
{
    return add_xy(p, PK_SER_SCATTER, label, x, y, n);
}

int pk_plot_scatter_groups(pk_plot *p, const double *x, const double *y, const int *group, size_t n)
{
    if (!p || (n && (!x || !y || !group)))
        return PK_EINVAL;
    pk_series *s = add_series(p, PK_SER_GROUPS, NULL, 0);
    if (!s)
        return PK_ENOMEM;
    s->n = n;
    s->x = dup_vec(x, n);
    s->y = dup_vec(y, n);
    s->group = malloc((n ? n : 1) * sizeof *s->group);
    if (s->group && n)
        memcpy(s->group, group, n * sizeof *group);
    return commit(p, s, s->x && s->y && s->group, 0);
}

int pk_plot_band(pk_plot *p, const char *label, const double *x, const double *y, const double *lo,
                 const double *hi, size_t n)
{
    if (!p || (n && (!x || !y || !lo || !hi)))
        return PK_EINVAL;
    pk_series *s = add_series(p, PK_SER_BAND, label, 1);
    if (!s)
        return PK_ENOMEM;
    s->n = n;
    s->x = dup_vec(x, n);
    s->y = dup_vec(y, n);
    s->lo = dup_vec(lo, n);
    s->hi = dup_vec(hi, n);
    return commit(p, s, s->x && s->y && s->lo && s->hi, 1);
}

int pk_plot_bars(pk_plot *p, const char *label, const double *x, const double *height, size_t n, double width)
{
    if (!p || (n && (!x || !height)) || !(width > 0) || !isfinite(width))
        return PK_EINVAL;
    pk_series *s = add_series(p, PK_SER_BARS, label, 1);
    if (!s)
        return PK_ENOMEM;
    s->n = n;
    s->width = width;
    s->x = dup_vec(x, n);
    s->y = dup_vec(height, n);
    return commit(p, s, s->x && s->y, 1);
}

int pk_plot_histogram(pk_plot *p, const char *label, const double *data, size_t n, size_t nbins, int normalise)
{
    if (!p || (n && !data) || nbins == 0 || nbins > 100000)
        return PK_EINVAL;
    double lo = INFINITY, hi = -INFINITY;
    size_t nfin = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(data[i])) {
            lo = fmin(lo, data[i]);
            hi = fmax(hi, data[i]);
            nfin++;
        }
    if (nfin == 0) { /* nothing to count: an empty bar series keeps the legend honest */
        lo = 0;
        hi = 1;
    } else if (hi == lo) {
        lo -= 0.5;
        hi += 0.5;
    }
    double w = (hi - lo) / (double)nbins;
    double *x = malloc(nbins * sizeof *x), *c = calloc(nbins, sizeof *c);
    if (!x || !c) {
        free(x);
        free(c);
        return PK_ENOMEM;
    }
    for (size_t b = 0; b < nbins; b++)
        x[b] = lo + ((double)b + 0.5) * w;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(data[i]))
            continue;
        size_t b = (size_t)((data[i] - lo) / w);
        if (b >= nbins) /* the maximum belongs to the last bin */
            b = nbins - 1;
        c[b] += 1;
    }
    if (normalise && nfin)
        for (size_t b = 0; b < nbins; b++)
            c[b] /= (double)nfin * w;
    int st = pk_plot_bars(p, label, x, c, nfin ? nbins : 0, w);
    free(x);
    free(c);
    return st;
}

static int add_ref(pk_plot *p, pk_series_kind kind, const char *label, double v)
{
    if (!p || !isfinite(v))
        return PK_EINVAL;
    pk_series *s = add_series(p, kind, label, 1);
    if (!s)
        return PK_ENOMEM;
    s->n = 1;
    s->x = dup_vec(&v, 1);
    s->y = dup_vec(&v, 1);
    return commit(p, s, s->x && s->y, 1);
}

int pk_plot_hline(pk_plot *p, const char *label, double y) { return add_ref(p, PK_SER_HLINE, label, y); }
int pk_plot_vline(pk_plot *p, const char *label, double x) { return add_ref(p, PK_SER_VLINE, label, x); }

int pk_plot_save(const pk_plot *p, const char *path, pk_err *err)
{
    if (!p || !path)
        return pk_err_set(err, PK_EINVAL, "plot: no figure or no path");
    char *svg = NULL;
    int st = pk_plot_svg(p, &svg);
    if (st != PK_OK)
        return pk_err_set(err, st, "%s: could not render the plot: %s", path, pk_strerror(st));
    st = pk_file_write_atomic(path, svg, strlen(svg), err);
    free(svg);
    return st;
}
