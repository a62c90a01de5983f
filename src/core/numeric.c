#include "probkit/core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double pk_lgamma(double x)
{
    int sign;
    return lgamma_r(x, &sign);
}

double pk_logsumexp(const double *x, size_t n, size_t stride)
{
    double m = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double v = x[i * stride];
        if (isnan(v))
            return v;
        if (v > m)
            m = v;
    }
    if (!isfinite(m))
        return m; /* -inf (empty / all -inf) or +inf */
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += exp(x[i * stride] - m);
    return m + log(s);
}

double pk_logsumexp_f(const float *x, size_t n, size_t stride)
{
    double m = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double v = x[i * stride];
        if (isnan(v))
            return v;
        if (v > m)
            m = v;
    }
    if (!isfinite(m))
        return m;
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += exp((double)x[i * stride] - m);
    return m + log(s);
}

double pk_logaddexp(double a, double b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a == -INFINITY)
        return b;
    if (b == -INFINITY)
        return a;
    double m = a > b ? a : b;
    if (isinf(m))
        return m;
    return m + log1p(exp(-fabs(a - b)));
}

double pk_log1pexp(double x)
{
    /* Maechler (2012): thresholds chosen so each branch is exact in double. */
    if (x <= -37.0)
        return exp(x);
    if (x <= 18.0)
        return log1p(exp(x));
    if (x <= 33.3)
        return x + exp(-x);
    return x;
}

double pk_log1mexp(double x)
{
    if (x > 0.0)
        return NAN;
    if (x > -M_LN2)
        return log(-expm1(x));
    return log1p(-exp(x));
}

double pk_log_softmax(double *x, size_t n)
{
    double l = pk_logsumexp(x, n, 1);
    for (size_t i = 0; i < n; i++)
        x[i] -= l;
    return l;
}

double pk_softmax(double *x, size_t n)
{
    double l = pk_log_softmax(x, n);
    for (size_t i = 0; i < n; i++)
        x[i] = exp(x[i]);
    return l;
}

void pk_lse_stream_init(pk_lse_stream *s)
{
    s->max = -INFINITY;
    s->sum = 0.0;
}

void pk_lse_stream_add(pk_lse_stream *s, double x)
{
    if (isnan(x)) {
        s->max = x;
        return;
    }
    if (isnan(s->max) || x == -INFINITY)
        return;
    if (x <= s->max) {
        s->sum += exp(x - s->max);
    } else {
        s->sum = (s->max == -INFINITY ? 0.0 : s->sum * exp(s->max - x)) + 1.0;
        s->max = x;
    }
}

double pk_lse_stream_value(const pk_lse_stream *s)
{
    if (!isfinite(s->max))
        return s->max;
    return s->max + log(s->sum);
}

int pk_all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

void pk_mean_var(const double *x, size_t n, double *mean, double *var)
{
    double m = 0.0, s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - m;
        m += d / (double)(i + 1);
        s += d * (x[i] - m);
    }
    if (mean)
        *mean = n ? m : NAN;
    if (var)
        *var = n > 1 ? s / (double)(n - 1) : 0.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double pk_median(const double *x, size_t n)
{
    if (n == 0)
        return NAN;
    double *c = malloc(n * sizeof *c);
    if (!c)
        return NAN;
    memcpy(c, x, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_double);
    double m = (n % 2) ? c[n / 2] : 0.5 * (c[n / 2 - 1] + c[n / 2]);
    free(c);
    return m;
}

double pk_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
