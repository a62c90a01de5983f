/* plot_priv.h — internals shared by the SVG plot writer (plot*.c). */
#ifndef PK_PLOT_PRIV_H
#define PK_PLOT_PRIV_H

#include <stdarg.h>
#include <stddef.h>

#include "probkit/plot.h"

typedef enum pk_series_kind {
    PK_SER_LINE,
    PK_SER_SCATTER,
    PK_SER_GROUPS,
    PK_SER_BAND,
    PK_SER_BARS,
    PK_SER_HLINE,
    PK_SER_VLINE
} pk_series_kind;

typedef struct pk_series {
    pk_series_kind kind;
    char *label;      /* NULL or "" = no legend entry */
    size_t n;
    double *x, *y;    /* n each (hline: y[0]; vline: x[0]) */
    double *lo, *hi;  /* band only */
    int *group;       /* groups only */
    double width;     /* bars only */
    int colour;       /* palette index (groups: unused) */
} pk_series;

struct pk_plot {
    char *title, *xlabel, *ylabel;
    int width, height;
    int logx, logy;
    double xlo, xhi, ylo, yhi; /* NaN = automatic */
    pk_series *s;
    size_t ns, cap;
    int ncolours; /* colours handed out so far */
};

#define PK_PLOT_NPALETTE 8
/* Okabe & Ito (2008) colour-blind-safe palette, yellow last (weak on white). */
extern const char *const pk_plot_palette[PK_PLOT_NPALETTE];

/* A growing NUL-terminated string; `failed` latches the first allocation failure. */
typedef struct pk_sb {
    char *buf;
    size_t len, cap;
    int failed;
} pk_sb;

void pk_sb_puts(pk_sb *sb, const char *s);
/* printf-style, but callers pass only %s/%d/%u/%zu/%c: floating point goes
 * through pk_sb_num so that the output never depends on the C locale. */
void pk_sb_printf(pk_sb *sb, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* v with at most `dec` decimals, trailing zeros stripped, '.' always. */
void pk_sb_num(pk_sb *sb, double v, int dec);
/* Text escaped for XML character data and attribute values. */
void pk_sb_text(pk_sb *sb, const char *s);

/* Fixed-point formatting into buf (locale-independent); |v| must be < 1e15. */
void pk_plot_fmt_fixed(char *buf, size_t cap, double v, int dec, int strip);

#define PK_AXIS_MAXTICKS 40

/* One axis: data range, scale and ticks. */
typedef struct pk_axis {
    double lo, hi; /* in data units */
    int log;
    int nticks;
    double tick[PK_AXIS_MAXTICKS];
    char label[PK_AXIS_MAXTICKS][128]; /* SVG markup (may hold a <tspan> exponent) */
    double p0, p1;                    /* pixel positions of lo and hi */
} pk_axis;

/* Choose ticks for [lo, hi] (already final) aiming at about `target` ticks. */
void pk_axis_ticks(pk_axis *ax, int target);
/* Range from data extremes (dmin/dmax may be NaN when nothing is plotted),
 * the user's fixed ends (NaN = automatic) and a sticky zero (bars). */
void pk_axis_range(pk_axis *ax, double dmin, double dmax, double fix_lo, double fix_hi, int sticky_zero);
/* Data value -> pixel (clamped to +-1e5 so wild points cannot overflow). */
double pk_axis_px(const pk_axis *ax, double v);
/* A "nice" step 1, 2 or 5 x 10^k that is >= raw. */
double pk_nice_step(double raw);

#endif
