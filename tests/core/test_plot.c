/* test_plot.c — the SVG writer: well-formed structure, ticks, log axes,
 * NaN handling, escaping, locale independence, image grids. */
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pk_test.h"
#include "plot_priv.h"
#include "probkit/io.h"
#include "probkit/plot.h"

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0, L = strlen(needle);
    for (const char *p = strstr(hay, needle); p; p = strstr(p + L, needle))
        n++;
    return n;
}

/* A tiny XML well-formedness check: tags balance, attribute quotes pair up,
 * no raw '&' outside an entity, no '<' inside text. */
static int xml_ok(const char *s)
{
    const char *stack[256];
    size_t depth = 0;
    const char *p = s;
    while (*p) {
        if (*p == '<') {
            const char *e = strchr(p, '>');
            if (!e)
                return 0;
            size_t quotes = 0;
            for (const char *q = p; q < e; q++)
                quotes += *q == '"';
            if (quotes % 2)
                return 0;
            if (p[1] == '/') {
                if (depth == 0)
                    return 0;
                const char *open = stack[--depth];
                size_t n = strcspn(p + 2, " >");
                if (strncmp(open, p + 2, n) != 0 || (open[n] != ' ' && open[n] != '>' && open[n] != '/'))
                    return 0;
            } else if (e[-1] != '/' && p[1] != '?' && p[1] != '!') {
                if (depth == 256)
                    return 0;
                stack[depth++] = p + 1;
            }
            p = e + 1;
        } else if (*p == '&') {
            const char *e = strchr(p, ';');
            if (!e || e - p > 8)
                return 0;
            p = e + 1;
        } else if (*p == '>') {
            return 0;
        } else {
            p++;
        }
    }
    return depth == 0;
}

static void test_nice_steps(void)
{
    PK_CHECK_CLOSE(pk_nice_step(0.7), 1.0, 0, 1e-12);
    PK_CHECK_CLOSE(pk_nice_step(1.3), 2.0, 0, 1e-12);
    PK_CHECK_CLOSE(pk_nice_step(2.0), 2.0, 0, 1e-12);
    PK_CHECK_CLOSE(pk_nice_step(3.1), 5.0, 0, 1e-12);
    PK_CHECK_CLOSE(pk_nice_step(7.0), 10.0, 0, 1e-12);
    PK_CHECK_CLOSE(pk_nice_step(0.0031), 0.005, 0, 1e-12);
    PK_CHECK_CLOSE(pk_nice_step(2.2e7), 5e7, 0, 1e-12);
}

static void test_linear_ticks(void)
{
    pk_axis ax;
    memset(&ax, 0, sizeof ax);
    ax.lo = 0;
    ax.hi = 10;
    pk_axis_ticks(&ax, 5);
    /* step 2: 0 2 4 6 8 10 */
    PK_CHECK(ax.nticks == 6);
    PK_CHECK_CLOSE(ax.tick[0], 0, 1e-12, 0);
    PK_CHECK_CLOSE(ax.tick[5], 10, 0, 1e-12);
    PK_CHECK(strcmp(ax.label[1], "2") == 0);

    ax.lo = -0.37;
    ax.hi = 0.52;
    pk_axis_ticks(&ax, 5);
    /* step 0.2: -0.2 0 0.2 0.4 */
    PK_CHECK(ax.nticks == 4);
    PK_CHECK_CLOSE(ax.tick[0], -0.2, 0, 1e-12);
    PK_CHECK(strcmp(ax.label[0], "-0.2") == 0);
    PK_CHECK(strcmp(ax.label[1], "0.0") == 0);
    PK_CHECK(ax.tick[1] == 0.0); /* exactly zero, not 1e-17 */
    for (int i = 0; i < ax.nticks; i++)
        PK_CHECK(ax.tick[i] >= ax.lo && ax.tick[i] <= ax.hi);

    /* large numbers: mantissa x 10^e */
    ax.lo = 0;
    ax.hi = 3.3e6;
    pk_axis_ticks(&ax, 4);
    PK_CHECK(ax.nticks == 4); /* 0 1e6 2e6 3e6 */
    PK_CHECK(strstr(ax.label[1], "10<tspan") != NULL);
    PK_CHECK(strstr(ax.label[2], "2&#215;10") != NULL);

    /* every tick of random ranges lies inside, ticks increase, count sensible */
    double ranges[][2] = {{1, 1.001}, {-5e-7, 3e-7}, {123.4, 5678.9}, {-1e9, 1e9}, {0.5, 0.50001}};
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
        ax.lo = ranges[r][0];
        ax.hi = ranges[r][1];
        pk_axis_ticks(&ax, 6);
        PK_CHECK_MSG(ax.nticks >= 2 && ax.nticks <= 13, "range %d: %d ticks", (int)r, ax.nticks);
        for (int i = 0; i < ax.nticks; i++) {
            PK_CHECK(ax.tick[i] >= ax.lo - 1e-12 * fabs(ax.lo) && ax.tick[i] <= ax.hi + 1e-12 * fabs(ax.hi));
            if (i)
                PK_CHECK(ax.tick[i] > ax.tick[i - 1]);
            if (i)
                PK_CHECK(strcmp(ax.label[i], ax.label[i - 1]) != 0); /* distinct labels */
        }
    }
}

static void test_log_ticks(void)
{
    pk_axis ax;
    memset(&ax, 0, sizeof ax);
    ax.log = 1;
    ax.lo = 0.5;
    ax.hi = 2000;
    pk_axis_ticks(&ax, 6);
    /* decades 1 10 100 1000 */
    PK_CHECK(ax.nticks == 4);
    PK_CHECK_CLOSE(ax.tick[0], 1, 0, 1e-12);
    PK_CHECK_CLOSE(ax.tick[3], 1000, 0, 1e-12);
    PK_CHECK(strcmp(ax.label[3], "1000") == 0);

    ax.lo = 1e-12;
    ax.hi = 1e12;
    pk_axis_ticks(&ax, 6);
    PK_CHECK(ax.nticks >= 3 && ax.nticks <= 8);
    PK_CHECK(strstr(ax.label[0], "10<tspan") != NULL);
    PK_CHECK(strstr(ax.label[0], "-12") != NULL);

    /* under two decades: 1-2-5 */
    ax.lo = 1.5;
    ax.hi = 30;
    pk_axis_ticks(&ax, 6);
    PK_CHECK(ax.nticks == 4); /* 2 5 10 20 */
    PK_CHECK_CLOSE(ax.tick[0], 2, 0, 1e-12);
    PK_CHECK_CLOSE(ax.tick[3], 20, 0, 1e-12);

    /* log range from data: non-positive values are ignored */
    pk_axis_range(&ax, 0.01, 100, NAN, NAN, 0);
    PK_CHECK(ax.lo > 0 && ax.lo < 0.01 && ax.hi > 100);
}

static void test_render(void)
{
    double x[6] = {1, 2, NAN, 4, 5, 6}, y[6] = {1, 4, 9, INFINITY, 25, 36};
    pk_plot *p = pk_plot_new("A & B <test> \"quoted\"", "x's", "y < 1");
    PK_CHECK(p != NULL);
    PK_CHECK_OK(pk_plot_line(p, "line <1>", x, y, 6));
    PK_CHECK_OK(pk_plot_scatter(p, "pts", x, y, 6));
    double lo[6], hi[6];
    for (int i = 0; i < 6; i++) {
        lo[i] = y[i] - 1;
        hi[i] = y[i] + 1;
    }
    PK_CHECK_OK(pk_plot_band(p, "band", x, y, lo, hi, 6));
    PK_CHECK_OK(pk_plot_hline(p, "ref", 10));
    PK_CHECK_OK(pk_plot_vline(p, NULL, 3));
    PK_CHECK(pk_plot_bars(p, "bad", x, y, 6, 0) == PK_EINVAL);
    PK_CHECK(pk_plot_hline(p, "bad", NAN) == PK_EINVAL);
    char *svg = NULL;
    PK_CHECK_OK(pk_plot_svg(p, &svg));
    PK_CHECK(svg != NULL);
    if (svg) {
        PK_CHECK(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
        PK_CHECK(xml_ok(svg));
        PK_CHECK(strstr(svg, "A &amp; B &lt;test&gt; &quot;quoted&quot;") != NULL);
        PK_CHECK(strstr(svg, "x&#39;s") != NULL);
        PK_CHECK(strstr(svg, "line &lt;1&gt;") != NULL);
        PK_CHECK(strstr(svg, "nan") == NULL && strstr(svg, "inf") == NULL);
        /* 6 points, one NaN x and one infinite y: 4 markers */
        PK_CHECK(count(svg, "<circle") == 4 + 1 /* legend marker */);
        /* the NaN breaks the line into two pieces: M..L and M.. (a lone point) */
        PK_CHECK(count(svg, "stroke-dasharray=\"6 4\"") == 2);
        /* clip path id replaced and used */
        PK_CHECK(strstr(svg, "pkclip0000000000000000") == NULL);
        PK_CHECK(count(svg, "pkclip") == 2);
        PK_CHECK(strstr(svg, "class=\"legend\"") != NULL);
    }
    free(svg);
    pk_plot_free(p);
}

static void test_log_plot_and_locale(void)
{
    double x[5] = {-1, 0, 10, 100, 1000}, y[5] = {1, 2, 0.5, 0.05, 0.005};
    pk_plot *p = pk_plot_new(NULL, NULL, NULL);
    pk_plot_set_log(p, 1, 1);
    PK_CHECK_OK(pk_plot_scatter(p, NULL, x, y, 5));
    /* a comma-decimal locale must not leak into numbers (skipped if not installed) */
    const char *loc = setlocale(LC_NUMERIC, "de_DE.UTF-8");
    char *svg = NULL;
    PK_CHECK_OK(pk_plot_svg(p, &svg));
    if (loc)
        setlocale(LC_NUMERIC, "C");
    if (svg) {
        PK_CHECK(xml_ok(svg));
        PK_CHECK(count(svg, "<circle") == 3); /* x <= 0 dropped from a log axis */
        PK_CHECK(strstr(svg, ">100</text>") != NULL);
        PK_CHECK(strstr(svg, ">0.01</text>") != NULL);
        PK_CHECK(strstr(svg, "class=\"legend\"") == NULL); /* nothing labelled */
        const char *c = strstr(svg, "cx=\"");
        PK_CHECK(c != NULL);
        if (c) {
            size_t n = strcspn(c + 4, "\"");
            PK_CHECK(memchr(c + 4, ',', n) == NULL);
        }
    }
    free(svg);
    pk_plot_free(p);
}

static void test_histogram_groups(void)
{
    double d[100];
    for (int i = 0; i < 100; i++)
        d[i] = i < 99 ? (double)(i % 10) : NAN;
    pk_plot *p = pk_plot_new("h", NULL, NULL);
    PK_CHECK_OK(pk_plot_histogram(p, "h", d, 100, 10, 1));
    PK_CHECK(pk_plot_histogram(p, "h", d, 100, 0, 1) == PK_EINVAL);
    PK_CHECK(p->ns == 1 && p->s[0].n == 10);
    double area = 0;
    for (size_t b = 0; b < 10; b++)
        area += p->s[0].y[b] * p->s[0].width;
    PK_CHECK_CLOSE(area, 1.0, 0, 1e-12); /* a density integrates to 1 */
    int g[6] = {0, 1, 2, 0, 1, -1};
    double gx[6] = {1, 2, 3, 4, 5, 6};
    PK_CHECK_OK(pk_plot_scatter_groups(p, gx, gx, g, 6));
    char *svg = NULL;
    PK_CHECK_OK(pk_plot_svg(p, &svg));
    if (svg) {
        PK_CHECK(xml_ok(svg));
        PK_CHECK(strstr(svg, "group 2") != NULL && strstr(svg, "group 3") == NULL);
    }
    free(svg);
    pk_plot_free(p);
    PK_CHECK(pk_plot_svg(NULL, &svg) == PK_EINVAL);
    pk_plot_free(NULL);
}

/* The legend goes to the inside corner that hides the fewest points. */
static void test_legend_corner(void)
{
    double x[40], y[40];
    for (int i = 0; i < 40; i++) { /* a cloud in the upper right, one point at the origin */
        x[i] = i ? 9 + 0.02 * i : 0;
        y[i] = i ? 9 + 0.02 * (i % 7) : 0;
    }
    pk_plot *p = pk_plot_new(NULL, NULL, NULL);
    PK_CHECK_OK(pk_plot_scatter(p, "cloud", x, y, 40));
    char *svg = NULL;
    PK_CHECK_OK(pk_plot_svg(p, &svg));
    const char *lg = svg ? strstr(svg, "class=\"legend\"") : NULL;
    PK_CHECK(lg != NULL);
    if (lg) {
        const char *rx = strstr(lg, "<rect x=\"");
        double lx = rx ? strtod(rx + 9, NULL) : -1;
        PK_CHECK_MSG(lx >= 0 && lx < 640 / 2.0, "legend at x=%g, expected the left half", lx);
    }
    free(svg);
    pk_plot_free(p);
}

/* Big series stay small: lines decimated per pixel column (extremes kept),
 * scatter clouds one marker per half-pixel cell. */
static void test_decimation(void)
{
    enum { N = 100000 };
    double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    for (int i = 0; i < N; i++) {
        x[i] = i;
        y[i] = sin(i * 0.001) + ((i * 7919) % 101 - 50) * 0.001;
    }
    y[54321] = 5.0; /* a spike must survive */
    pk_plot *p = pk_plot_new(NULL, NULL, NULL);
    PK_CHECK_OK(pk_plot_line(p, NULL, x, y, N));
    char *svg = NULL;
    PK_CHECK_OK(pk_plot_svg(p, &svg));
    if (svg) {
        PK_CHECK(xml_ok(svg));
        size_t segs = count(svg, "L");
        PK_CHECK_MSG(segs < 4 * 640 && segs > 600, "%zu segments", segs);
        PK_CHECK(strlen(svg) < 100000);
        /* the spike survives: some vertex lies near the top of the frame
         * (the rest of the curve stays below y = 1.05, far lower down) */
        double ymin = 1e9;
        const char *d0 = strstr(svg, "<path d=\"M");
        for (const char *c = d0 ? d0 + 9 : NULL; c && *c && *c != '"'; c++)
            if (*c == 'L' || *c == 'M') {
                char *e;
                strtod(c + 1, &e);
                double yy = strtod(e, NULL);
                ymin = fmin(ymin, yy);
            }
        PK_CHECK_MSG(ymin < 60, "highest vertex at y = %g px", ymin);
    }
    free(svg);
    pk_plot_free(p);

    p = pk_plot_new(NULL, NULL, NULL);
    for (int i = 0; i < N; i++) {
        x[i] = (i % 50) * 0.01;
        y[i] = (i / 50 % 40) * 0.01;
    }
    PK_CHECK_OK(pk_plot_scatter(p, NULL, x, y, N));
    PK_CHECK_OK(pk_plot_svg(p, &svg));
    if (svg) {
        size_t c = count(svg, "<circle");
        PK_CHECK_MSG(c == 50 * 40, "%zu markers for 2000 distinct points", c);
    }
    free(svg);
    pk_plot_free(p);
    free(x);
    free(y);
}

static void test_legend_avoids_lines(void)
{
    /* a line along the top whose left vertex is off-frame (x range fixed), so
     * the upper left holds no vertex but is crossed; one marker in each lower
     * corner, one vertex in the upper right: only segment sampling keeps the
     * legend out of the upper left */
    double lx[2] = {0, 1}, ly[2] = {0.6, 0.6}, sx[2] = {0.25, 0.95}, sy[2] = {0, 0};
    pk_plot *p = pk_plot_new("t", NULL, NULL);
    pk_plot_set_xrange(p, 0.2, 1.02);
    PK_CHECK_OK(pk_plot_line(p, "top", lx, ly, 2));
    PK_CHECK_OK(pk_plot_scatter(p, NULL, sx, sy, 2));
    char *svg = NULL;
    PK_CHECK_OK(pk_plot_svg(p, &svg));
    const char *lg = svg ? strstr(svg, "class=\"legend\"") : NULL;
    PK_CHECK(lg != NULL);
    if (lg) {
        const char *ry = strstr(lg, "\" y=\"");
        double y = ry ? strtod(ry + 5, NULL) : -1;
        PK_CHECK_MSG(y > 400 / 2.0, "legend at y=%g, expected the lower half", y);
    }
    free(svg);
    pk_plot_free(p);
}

static void test_image_grid(void)
{
    uint8_t px[5 * 4 * 3];
    for (int i = 0; i < 60; i++)
        px[i] = (uint8_t)(i * 4);
    char *svg = NULL;
    PK_CHECK_OK(pk_svg_image_grid(px, 5, 4, 3, 1, 3, 4, "digits & more", &svg));
    if (svg) {
        PK_CHECK(xml_ok(svg));
        PK_CHECK(strstr(svg, "data:image/png;base64,iVBORw0KGgo") != NULL);
        PK_CHECK(strstr(svg, "digits &amp; more") != NULL);
    }
    free(svg);
    svg = NULL;
    PK_CHECK(pk_svg_image_grid(px, 5, 4, 3, 2, 3, 4, NULL, &svg) == PK_EINVAL);
    PK_CHECK(svg == NULL);
}

int main(void)
{
    test_nice_steps();
    test_linear_ticks();
    test_log_ticks();
    test_render();
    test_log_plot_and_locale();
    test_histogram_groups();
    test_legend_corner();
    test_legend_avoids_lines();
    test_decimation();
    test_image_grid();
    return pk_test_done();
}
