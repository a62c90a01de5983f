/* probkit/plot.h — small, dependency-free SVG plots for reports and the CLI.
 *
 * Build a figure from series, then render it to an SVG string or file.
 * Axes get "nice" ticks, optional log scales, a legend when any series is
 * labelled.  Colours follow a fixed colour-blind-safe palette in series order.
 */
#ifndef PROBKIT_PLOT_H
#define PROBKIT_PLOT_H

#include "probkit/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pk_plot pk_plot;

/** A new empty figure; strings are copied; any may be NULL. */
pk_plot *pk_plot_new(const char *title, const char *xlabel, const char *ylabel);
void pk_plot_free(pk_plot *p);
/** Size in pixels (default 640 x 400). */
void pk_plot_set_size(pk_plot *p, int width, int height);
/** Logarithmic axes (non-positive values are dropped from log axes). */
void pk_plot_set_log(pk_plot *p, int logx, int logy);
/** Fix an axis range (NaN leaves that end automatic). */
void pk_plot_set_xrange(pk_plot *p, double lo, double hi);
void pk_plot_set_yrange(pk_plot *p, double lo, double hi);

/** Add a polyline (NaN points break the line). */
int pk_plot_line(pk_plot *p, const char *label, const double *x, const double *y, size_t n);
/** Add markers. */
int pk_plot_scatter(pk_plot *p, const char *label, const double *x, const double *y, size_t n);
/** Add markers coloured by integer group (0..), e.g. cluster labels. */
int pk_plot_scatter_groups(pk_plot *p, const double *x, const double *y, const int *group, size_t n);
/** Add a line with a shaded band [lo, hi] (e.g. a GP mean +- 2 sd). */
int pk_plot_band(pk_plot *p, const char *label, const double *x, const double *y, const double *lo,
                 const double *hi, size_t n);
/** Add bars centred at x with the given width (histograms, bar charts). */
int pk_plot_bars(pk_plot *p, const char *label, const double *x, const double *height, size_t n, double width);
/** Histogram of data into nbins equal-width bins (density if normalise != 0). */
int pk_plot_histogram(pk_plot *p, const char *label, const double *data, size_t n, size_t nbins, int normalise);
/** Horizontal / vertical reference lines (dashed). */
int pk_plot_hline(pk_plot *p, const char *label, double y);
int pk_plot_vline(pk_plot *p, const char *label, double x);

/** Render to a malloc'd, NUL-terminated SVG document. */
int pk_plot_svg(const pk_plot *p, char **svg);
/** Render and write atomically. */
int pk_plot_save(const pk_plot *p, const char *path, pk_err *err);

/** An SVG grid of n grey (channels=1) or RGB (3) u8 images of h x w, ncols
 *  per row, each scaled by `scale`; embedded as one PNG data URI. */
int pk_svg_image_grid(const uint8_t *pixels, size_t n, int h, int w, int channels, int ncols, int scale,
                      const char *title, char **svg);

#ifdef __cplusplus
}
#endif
#endif
