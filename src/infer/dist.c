/* The distribution table: log-densities and quantiles (GSL's CDF inverses). */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>

#include "probkit/infer.h"

pk_dist pk_normal(double m, double s) { return (pk_dist){PK_DIST_NORMAL, m, s, 0, 0, 0}; }
pk_dist pk_lognormal(double m, double s) { return (pk_dist){PK_DIST_LOGNORMAL, m, s, 0, 0, 0}; }
pk_dist pk_gamma(double shape, double rate) { return (pk_dist){PK_DIST_GAMMA, shape, rate, 0, 0, 0}; }
pk_dist pk_beta(double a, double b) { return (pk_dist){PK_DIST_BETA, a, b, 0, 0, 0}; }
pk_dist pk_uniform(double lo, double hi) { return (pk_dist){PK_DIST_UNIFORM, lo, hi, 0, 0, 0}; }
pk_dist pk_exponential(double rate) { return (pk_dist){PK_DIST_EXPONENTIAL, rate, 0, 0, 0, 0}; }
pk_dist pk_student_t(double nu, double loc, double scale) { return (pk_dist){PK_DIST_STUDENT_T, nu, scale, loc, 0, 0}; }
pk_dist pk_bernoulli(double p) { return (pk_dist){PK_DIST_BERNOULLI, p, 0, 0, 0, 0}; }
pk_dist pk_binomial(unsigned n, double p) { return (pk_dist){PK_DIST_BINOMIAL, n, p, 0, 0, 0}; }
pk_dist pk_poisson(double rate) { return (pk_dist){PK_DIST_POISSON, rate, 0, 0, 0, 0}; }
pk_dist pk_categorical(const double *p, size_t k) { return (pk_dist){PK_DIST_CATEGORICAL, 0, 0, 0, p, k}; }

static int pos(double x) { return isfinite(x) && x > 0; }
static int prob(double x) { return x >= 0 && x <= 1; }

int pk_dist_check(const pk_dist *d)
{
    int ok;
    switch (d->kind) {
    case PK_DIST_NORMAL:
    case PK_DIST_LOGNORMAL: ok = isfinite(d->a) && pos(d->b); break;
    case PK_DIST_GAMMA:
    case PK_DIST_BETA: ok = pos(d->a) && pos(d->b); break;
    case PK_DIST_UNIFORM: ok = isfinite(d->a) && isfinite(d->b) && d->a < d->b; break;
    case PK_DIST_EXPONENTIAL:
    case PK_DIST_POISSON: ok = pos(d->a); break;
    case PK_DIST_STUDENT_T: ok = pos(d->a) && pos(d->b) && isfinite(d->c); break;
    case PK_DIST_BERNOULLI: ok = prob(d->a); break;
    case PK_DIST_BINOMIAL: ok = d->a >= 0 && d->a == floor(d->a) && d->a < 1e9 && prob(d->b); break;
    case PK_DIST_CATEGORICAL: {
        double s = 0;
        ok = d->p && d->k > 0;
        for (size_t i = 0; ok && i < d->k; i++) {
            ok = d->p[i] >= 0 && isfinite(d->p[i]);
            s += d->p[i];
        }
        ok = ok && s > 0;
        break;
    }
    default: ok = 0;
    }
    return ok ? PK_OK : PK_EDOM;
}

int pk_dist_is_discrete(const pk_dist *d)
{
    return d->kind == PK_DIST_BERNOULLI || d->kind == PK_DIST_BINOMIAL || d->kind == PK_DIST_POISSON ||
           d->kind == PK_DIST_CATEGORICAL;
}

size_t pk_dist_support_size(const pk_dist *d)
{
    switch (d->kind) {
    case PK_DIST_BERNOULLI: return 2;
    case PK_DIST_BINOMIAL: return (size_t)d->a + 1;
    case PK_DIST_CATEGORICAL: return d->k;
    default: return 0;
    }
}

static double cat_sum(const pk_dist *d)
{
    double s = 0;
    for (size_t i = 0; i < d->k; i++)
        s += d->p[i];
    return s;
}

static int is_int(double x) { return x == floor(x); }

double pk_dist_logpdf(const pk_dist *d, double x)
{
    if (pk_dist_check(d) != PK_OK || isnan(x))
        return NAN;
    double a = d->a, b = d->b;
    switch (d->kind) {
    case PK_DIST_NORMAL: {
        double z = (x - a) / b;
        return -0.5 * z * z - log(b) - 0.5 * log(2 * M_PI);
    }
    case PK_DIST_LOGNORMAL: {
        if (x <= 0)
            return -INFINITY;
        double z = (log(x) - a) / b;
        return -0.5 * z * z - log(b) - log(x) - 0.5 * log(2 * M_PI);
    }
    case PK_DIST_GAMMA:
        if (x < 0 || (x == 0 && a < 1))
            return x == 0 && a < 1 ? INFINITY : -INFINITY;
        if (x == 0)
            return a == 1 ? log(b) : -INFINITY;
        return a * log(b) + (a - 1) * log(x) - b * x - pk_lgamma(a);
    case PK_DIST_BETA:
        if (x < 0 || x > 1)
            return -INFINITY;
        if ((x == 0 && a < 1) || (x == 1 && b < 1))
            return INFINITY;
        if ((x == 0 && a > 1) || (x == 1 && b > 1))
            return -INFINITY;
        return (a - 1) * (x > 0 ? log(x) : 0) + (b - 1) * (x < 1 ? log1p(-x) : 0) - gsl_sf_lnbeta(a, b);
    case PK_DIST_UNIFORM: return x < a || x > b ? -INFINITY : -log(b - a);
    case PK_DIST_EXPONENTIAL: return x < 0 ? -INFINITY : log(a) - a * x;
    case PK_DIST_STUDENT_T: {
        double z = (x - d->c) / b;
        return pk_lgamma(0.5 * (a + 1)) - pk_lgamma(0.5 * a) - 0.5 * log(a * M_PI) - log(b) -
               0.5 * (a + 1) * log1p(z * z / a);
    }
    case PK_DIST_BERNOULLI:
        if (x == 1)
            return log(a);
        if (x == 0)
            return log1p(-a);
        return -INFINITY;
    case PK_DIST_BINOMIAL:
        if (x < 0 || x > a || !is_int(x))
            return -INFINITY;
        if (b == 0)
            return x == 0 ? 0 : -INFINITY;
        if (b == 1)
            return x == a ? 0 : -INFINITY;
        return gsl_sf_lnchoose((unsigned)a, (unsigned)x) + x * log(b) + (a - x) * log1p(-b);
    case PK_DIST_POISSON:
        if (x < 0 || !is_int(x))
            return -INFINITY;
        return x * log(a) - a - pk_lgamma(x + 1);
    case PK_DIST_CATEGORICAL:
        if (x < 0 || x >= (double)d->k || !is_int(x))
            return -INFINITY;
        return log(d->p[(size_t)x] / cat_sum(d));
    }
    return NAN;
}

/* Smallest integer x >= 0 with CDF(x) >= u, by stepping the pmf (bounded). */
static double discrete_quantile(const pk_dist *d, double u, double xmax)
{
    double c = 0;
    for (double x = 0; x < xmax; x++) {
        c += exp(pk_dist_logpdf(d, x));
        if (c >= u)
            return x;
    }
    return xmax;
}

double pk_dist_quantile(const pk_dist *d, double u)
{
    if (pk_dist_check(d) != PK_OK || !(u > 0 && u < 1))
        return NAN;
    double a = d->a, b = d->b;
    switch (d->kind) {
    case PK_DIST_NORMAL: return a + b * gsl_cdf_ugaussian_Pinv(u);
    case PK_DIST_LOGNORMAL: return exp(a + b * gsl_cdf_ugaussian_Pinv(u));
    case PK_DIST_GAMMA: return gsl_cdf_gamma_Pinv(u, a, 1.0 / b);
    case PK_DIST_BETA: return gsl_cdf_beta_Pinv(u, a, b);
    case PK_DIST_UNIFORM: return a + (b - a) * u;
    case PK_DIST_EXPONENTIAL: return -log1p(-u) / a;
    case PK_DIST_STUDENT_T: return d->c + b * gsl_cdf_tdist_Pinv(u, a);
    case PK_DIST_BERNOULLI: return u > 1 - a ? 1.0 : 0.0;
    case PK_DIST_BINOMIAL: return discrete_quantile(d, u, a);
    case PK_DIST_POISSON: {
        /* Start near the mean for large rates: walk the CDF from a lower point. */
        if (a < 50)
            return discrete_quantile(d, u, a + 40 * sqrt(a) + 100);
        unsigned k;
        double lo = 0, hi = a + 40 * sqrt(a) + 100;
        while (hi - lo > 1) { /* bisection on the CDF */
            double mid = floor(0.5 * (lo + hi));
            if (gsl_cdf_poisson_P((unsigned)mid, a) >= u)
                hi = mid;
            else
                lo = mid;
        }
        k = gsl_cdf_poisson_P((unsigned)lo, a) >= u ? (unsigned)lo : (unsigned)hi;
        return (double)k;
    }
    case PK_DIST_CATEGORICAL: {
        double s = cat_sum(d), c = 0;
        size_t last = 0;
        for (size_t i = 0; i < d->k; i++) {
            if (d->p[i] > 0)
                last = i;
            c += d->p[i] / s;
            if (c >= u && d->p[i] > 0)
                return (double)i;
        }
        return (double)last;
    }
    }
    return NAN;
}

double pk_dist_mean(const pk_dist *d)
{
    if (pk_dist_check(d) != PK_OK)
        return NAN;
    double a = d->a, b = d->b;
    switch (d->kind) {
    case PK_DIST_NORMAL: return a;
    case PK_DIST_LOGNORMAL: return exp(a + 0.5 * b * b);
    case PK_DIST_GAMMA: return a / b;
    case PK_DIST_BETA: return a / (a + b);
    case PK_DIST_UNIFORM: return 0.5 * (a + b);
    case PK_DIST_EXPONENTIAL: return 1 / a;
    case PK_DIST_STUDENT_T: return a > 1 ? d->c : NAN;
    case PK_DIST_BERNOULLI: return a;
    case PK_DIST_BINOMIAL: return a * b;
    case PK_DIST_POISSON: return a;
    case PK_DIST_CATEGORICAL: {
        double s = cat_sum(d), m = 0;
        for (size_t i = 0; i < d->k; i++)
            m += (double)i * d->p[i] / s;
        return m;
    }
    }
    return NAN;
}

double pk_dist_var(const pk_dist *d)
{
    if (pk_dist_check(d) != PK_OK)
        return NAN;
    double a = d->a, b = d->b;
    switch (d->kind) {
    case PK_DIST_NORMAL: return b * b;
    case PK_DIST_LOGNORMAL: return expm1(b * b) * exp(2 * a + b * b);
    case PK_DIST_GAMMA: return a / (b * b);
    case PK_DIST_BETA: return a * b / ((a + b) * (a + b) * (a + b + 1));
    case PK_DIST_UNIFORM: return (b - a) * (b - a) / 12;
    case PK_DIST_EXPONENTIAL: return 1 / (a * a);
    case PK_DIST_STUDENT_T: return a > 2 ? b * b * a / (a - 2) : NAN;
    case PK_DIST_BERNOULLI: return a * (1 - a);
    case PK_DIST_BINOMIAL: return a * b * (1 - b);
    case PK_DIST_POISSON: return a;
    case PK_DIST_CATEGORICAL: {
        double m = pk_dist_mean(d), s = cat_sum(d), v = 0;
        for (size_t i = 0; i < d->k; i++)
            v += ((double)i - m) * ((double)i - m) * d->p[i] / s;
        return v;
    }
    }
    return NAN;
}
