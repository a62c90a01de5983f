/* plot_axis.c — string building, locale-free number formatting and "nice"
 * axis ticks for the SVG writer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot_priv.h"

/* ---- string builder ------------------------------------------------------- */

static int sb_reserve(pk_sb *sb, size_t extra)
{
    if (sb->failed)
        return 0;
    if (sb->len + extra + 1 <= sb->cap)
        return 1;
    size_t cap = sb->cap ? sb->cap : 4096;
    while (cap < sb->len + extra + 1) {
        if (cap > ((size_t)-1) / 2) {
            sb->failed = 1;
            return 0;
        }
        cap *= 2;
    }
    char *nb = realloc(sb->buf, cap);
    if (!nb) {
        sb->failed = 1;
        return 0;
    }
    sb->buf = nb;
    sb->cap = cap;
    return 1;
}

static void sb_putn(pk_sb *sb, const char *s, size_t n)
{
    if (!sb_reserve(sb, n))
        return;
    memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

void pk_sb_puts(pk_sb *sb, const char *s) { sb_putn(sb, s, strlen(s)); }

void pk_sb_printf(pk_sb *sb, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0) {
        sb->failed = 1;
        return;
    }
    if ((size_t)k < sizeof tmp) {
        sb_putn(sb, tmp, (size_t)k);
        return;
    }
    if (!sb_reserve(sb, (size_t)k))
        return;
    va_start(ap, fmt);
    vsnprintf(sb->buf + sb->len, (size_t)k + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)k;
}

void pk_plot_fmt_fixed(char *buf, size_t cap, double v, int dec, int strip)
{
    static const double p10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    if (dec < 0)
        dec = 0;
    if (dec > 9)
        dec = 9;
    if (!isfinite(v) || fabs(v) >= 1e15) {
        snprintf(buf, cap, "0");
        return;
    }
    long long q = llround(v * p10[dec]);
    unsigned long long a = q < 0 ? (unsigned long long)(-q) : (unsigned long long)q;
    unsigned long long ip = a / (unsigned long long)p10[dec], fp = a % (unsigned long long)p10[dec];
    const char *sign = q < 0 ? "-" : "";
    if (dec == 0 || (strip && fp == 0)) {
        snprintf(buf, cap, "%s%llu", sign, ip);
        return;
    }
    int n = snprintf(buf, cap, "%s%llu.%0*llu", sign, ip, dec, fp);
    if (strip && n > 0 && (size_t)n < cap)
        while (n > 0 && buf[n - 1] == '0')
            buf[--n] = '\0';
}

void pk_sb_num(pk_sb *sb, double v, int dec)
{
    char tmp[48];
    pk_plot_fmt_fixed(tmp, sizeof tmp, v, dec, 1);
    pk_sb_puts(sb, tmp);
}

void pk_sb_text(pk_sb *sb, const char *s)
{
    if (!s)
        return;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '&': pk_sb_puts(sb, "&amp;"); break;
        case '<': pk_sb_puts(sb, "&lt;"); break;
        case '>': pk_sb_puts(sb, "&gt;"); break;
        case '"': pk_sb_puts(sb, "&quot;"); break;
        case '\'': pk_sb_puts(sb, "&#39;"); break;
        default:
            /* control characters other than tab/newline are not allowed in XML 1.0 */
            if (*c < 0x20 && *c != '\t' && *c != '\n')
                sb_putn(sb, " ", 1);
            else
                sb_putn(sb, (const char *)c, 1);
        }
    }
}

/* ---- ticks ------------------------------------------------------------------ */

double pk_nice_step(double raw)
{
    if (!(raw > 0) || !isfinite(raw))
        return 1.0;
    double e = floor(log10(raw));
    double base = pow(10.0, e);
    double f = raw / base;
    double m = f <= 1.0 + 1e-9 ? 1 : f <= 2.0 + 1e-9 ? 2 : f <= 5.0 + 1e-9 ? 5 : 10;
    return m * base;
}

static double tmap(const pk_axis *ax, double v) { return ax->log ? log10(v) : v; }

double pk_axis_px(const pk_axis *ax, double v)
{
    double a = tmap(ax, ax->lo), b = tmap(ax, ax->hi), t = tmap(ax, v);
    double px = ax->p0 + (t - a) / (b - a) * (ax->p1 - ax->p0);
    if (!isfinite(px))
        return t < a ? (ax->p0 < ax->p1 ? -1e5 : 1e5) : (ax->p0 < ax->p1 ? 1e5 : -1e5);
    if (px > 1e5)
        px = 1e5;
    if (px < -1e5)
        px = -1e5;
    return px;
}

void pk_axis_range(pk_axis *ax, double dmin, double dmax, double fix_lo, double fix_hi, int sticky_zero)
{
    double lo = dmin, hi = dmax;
    if (isnan(lo) || isnan(hi)) { /* nothing plotted */
        lo = ax->log ? 1 : 0;
        hi = ax->log ? 10 : 1;
    }
    if (!isnan(fix_lo))
        lo = fix_lo;
    if (!isnan(fix_hi))
        hi = fix_hi;
    if (ax->log) {
        if (!(lo > 0))
            lo = hi > 0 ? hi / 10 : 1;
        if (!(hi > 0))
            hi = lo * 10;
    }
    if (hi < lo) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (hi == lo) { /* a single value: give it room */
        if (ax->log) {
            lo /= 2;
            hi *= 2;
        } else {
            double d = lo != 0 ? fabs(lo) * 0.1 : 1.0;
            lo -= d;
            hi += d;
        }
    } else {
        /* 4% padding on automatic ends keeps markers off the frame */
        if (ax->log) {
            double a = log10(lo), b = log10(hi), pad = 0.04 * (b - a);
            if (isnan(fix_lo))
                lo = pow(10.0, a - pad);
            if (isnan(fix_hi))
                hi = pow(10.0, b + pad);
        } else {
            double pad = 0.04 * (hi - lo);
            if (isnan(fix_lo) && !(sticky_zero && lo == 0))
                lo -= pad;
            if (isnan(fix_hi) && !(sticky_zero && hi == 0))
                hi += pad;
        }
    }
    ax->lo = lo;
    ax->hi = hi;
}

/* Tick label as SVG markup: plain fixed-point for moderate magnitudes,
 * mantissa x 10^e (superscript) otherwise. */
static void tick_label(char *out, size_t cap, double v, double step, double maxabs)
{
    if ((maxabs >= 1e6 || maxabs < 1e-3) && v == 0) {
        snprintf(out, cap, "0");
        return;
    }
    if (maxabs >= 1e6 || maxabs < 1e-3) {
        int e = (int)floor(log10(fabs(v)) + 1e-9);
        double m = v / pow(10.0, e);
        int dec = (int)ceil(-log10(step / pow(10.0, e)) - 1e-9);
        if (dec < 0)
            dec = 0;
        if (dec > 6)
            dec = 6;
        char ms[48];
        pk_plot_fmt_fixed(ms, sizeof ms, m, dec, 1);
        /* always "m x 10^e" on a linear axis, so that neighbours read alike */
        snprintf(out, cap, "%s&#215;10<tspan dy=\"-5\" font-size=\"75%%\">%d</tspan>", ms, e);
        return;
    }
    int dec = (int)ceil(-log10(step) - 1e-9);
    if (dec < 0)
        dec = 0;
    pk_plot_fmt_fixed(out, cap, v, dec, 0);
}

static void linear_ticks(pk_axis *ax, int target)
{
    double lo = ax->lo, hi = ax->hi;
    /* of the 1-2-5 steps near range/target, take the one whose tick count is
     * closest to the target (ties go to the coarser step) */
    double base = pk_nice_step((hi - lo) / target), step = base;
    int best = -1;
    static const double cand[] = {0.2, 0.5, 1, 2, 2.5};
    for (size_t c = 0; c < sizeof cand / sizeof cand[0]; c++) {
        double st = pk_nice_step(base * cand[c] * 0.999);
        double cnt = floor(hi / st + 1e-9) - ceil(lo / st - 1e-9) + 1;
        int d = (int)fabs(cnt - target);
        if (cnt >= 2 && cnt <= PK_AXIS_MAXTICKS && (best < 0 || d < best || (d == best && st > step))) {
            best = d;
            step = st;
        }
    }
    double k0 = ceil(lo / step - 1e-9), k1 = floor(hi / step + 1e-9);
    while (k1 - k0 + 1 > PK_AXIS_MAXTICKS) { /* cannot happen for sane targets, but be safe */
        step = pk_nice_step(step * 1.5);
        k0 = ceil(lo / step - 1e-9);
        k1 = floor(hi / step + 1e-9);
    }
    double maxabs = fmax(fabs(k0 * step), fabs(k1 * step));
    ax->nticks = 0;
    for (double k = k0; k <= k1; k++) {
        double v = k * step;
        if (fabs(v) < step * 1e-9)
            v = 0;
        ax->tick[ax->nticks] = v;
        tick_label(ax->label[ax->nticks], sizeof ax->label[0], v, step, maxabs);
        ax->nticks++;
    }
}

static void log_label(char *out, size_t cap, double v, int e)
{
    if (e >= -3 && e <= 4) {
        pk_plot_fmt_fixed(out, cap, v, e < 0 ? -e : 0, 1);
        return;
    }
    double m = v / pow(10.0, e);
    if (fabs(m - 1) < 1e-9)
        snprintf(out, cap, "10<tspan dy=\"-5\" font-size=\"75%%\">%d</tspan>", e);
    else
        snprintf(out, cap, "%d&#215;10<tspan dy=\"-5\" font-size=\"75%%\">%d</tspan>", (int)lround(m), e);
}

void pk_axis_ticks(pk_axis *ax, int target)
{
    if (target < 2)
        target = 2;
    ax->nticks = 0;
    if (!ax->log) {
        linear_ticks(ax, target);
        return;
    }
    double a = log10(ax->lo), b = log10(ax->hi);
    int e0 = (int)ceil(a - 1e-9), e1 = (int)floor(b + 1e-9);
    int ndec = e1 - e0 + 1;
    if (ndec >= 3 || (ndec == 2 && b - a > 1.5)) {
        int stride = 1;
        while (ndec / stride > target + 1)
            stride++;
        for (int e = e0; e <= e1 && ax->nticks < PK_AXIS_MAXTICKS; e++) {
            if ((e - e0) % stride)
                continue;
            double v = pow(10.0, e);
            ax->tick[ax->nticks] = v;
            log_label(ax->label[ax->nticks], sizeof ax->label[0], v, e);
            ax->nticks++;
        }
        return;
    }
    /* under ~2 decades: 1-2-5 ticks within each decade */
    static const int mult[3] = {1, 2, 5};
    for (int e = e0 - 1; e <= e1 && ax->nticks < PK_AXIS_MAXTICKS; e++)
        for (int i = 0; i < 3; i++) {
            double v = mult[i] * pow(10.0, e);
            if (v < ax->lo * (1 - 1e-9) || v > ax->hi * (1 + 1e-9) || ax->nticks >= PK_AXIS_MAXTICKS)
                continue;
            ax->tick[ax->nticks] = v;
            log_label(ax->label[ax->nticks], sizeof ax->label[0], v, e);
            ax->nticks++;
        }
    if (ax->nticks < 2) { /* a narrow range: plain nice ticks placed on the log scale */
        linear_ticks(ax, target);
        int j = 0;
        for (int i = 0; i < ax->nticks; i++)
            if (ax->tick[i] > 0) {
                ax->tick[j] = ax->tick[i];
                memcpy(ax->label[j], ax->label[i], sizeof ax->label[0]);
                j++;
            }
        ax->nticks = j;
    }
}
