/* Provenance tests: Spearman with log-space p-values, permutation and
 * reshuffle tests (Kuditipudi et al., palimpsestic membership inference). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_internal.h"
#include "probkit/metrics.h"

/* Continued fraction of I_x(a, b) (modified Lentz), valid for x < (a+1)/(a+b+2). */
static double betacf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < tiny)
        d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 10000; m++) {
        double m2 = 2.0 * m, aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-16)
            break;
    }
    return h;
}

/* natural log of I_x(a, b) with y = 1 - x supplied separately (no cancellation). */
static double log_betainc(double a, double b, double x, double y)
{
    if (x <= 0)
        return -INFINITY;
    if (y <= 0)
        return 0.0;
    double lbeta = lgamma(a) + lgamma(b) - lgamma(a + b);
    if (x < (a + 1) / (a + b + 2)) {
        double front = a * log(x) + b * log(y) - lbeta - log(a);
        return front + log(betacf(a, b, x));
    }
    double front = b * log(y) + a * log(x) - lbeta - log(b);
    double lc = front + log(betacf(b, a, y)); /* log(1 - I_x(a, b)) */
    return pk_log1mexp(fmin(lc, 0.0));
}

double pk_log10_betainc(double a, double b, double x)
{
    return log_betainc(a, b, x, 1.0 - x) / M_LN10;
}

double pk_t_log10_pvalue_two_sided(double t, double df)
{
    if (isnan(t) || !(df > 0))
        return NAN;
    if (isinf(t))
        return -INFINITY;
    double t2 = t * t;
    /* P(|T| >= |t|) = I_{df/(df+t^2)}(df/2, 1/2) */
    double x = df / (df + t2), y = t2 / (df + t2);
    return log_betainc(0.5 * df, 0.5, x, y) / M_LN10;
}

double pk_pearson(const double *x, const double *y, size_t n)
{
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        double a = x[i] - mx, b = y[i] - my;
        sxy += a * b;
        sxx += a * a;
        syy += b * b;
    }
    if (sxx <= 0 || syy <= 0)
        return NAN;
    double r = sxy / sqrt(sxx * syy);
    return fmax(-1.0, fmin(1.0, r));
}

static int check_xy(const double *x, const double *y, size_t n, size_t nmin, pk_err *err)
{
    if (n < nmin)
        return pk_err_set(err, PK_EINVAL, "need at least %zu pairs, got %zu", nmin, n);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return pk_err_set(err, PK_EDOM, "x[%zu] = %g is not finite", i, x[i]);
        if (!isfinite(y[i]))
            return pk_err_set(err, PK_EDOM, "y[%zu] = %g is not finite", i, y[i]);
    }
    return PK_OK;
}

int pk_spearman(const double *x, const double *y, size_t n, pk_spearman_result *out, pk_err *err)
{
    int st = check_xy(x, y, n, 3, err);
    if (st)
        return st;
    double *rx = malloc(n * sizeof *rx), *ry = malloc(n * sizeof *ry);
    if (!rx || !ry || pk_rank_average(x, n, rx) || pk_rank_average(y, n, ry)) {
        free(rx);
        free(ry);
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    }
    double rho = pk_pearson(rx, ry, n);
    free(rx);
    free(ry);
    if (isnan(rho))
        return pk_err_set(err, PK_EDOM, "a column is constant: Spearman's rho is undefined");
    out->n = n;
    out->rho = rho;
    double df = (double)n - 2;
    out->t = fabs(rho) >= 1.0 ? copysign(INFINITY, rho) : rho * sqrt(df / ((1 - rho) * (1 + rho)));
    out->log10_p = pk_t_log10_pvalue_two_sided(out->t, df);
    double half = out->log10_p - log10(2.0);
    out->log10_p_one = out->t > 0 ? half : log10(-expm1(half * M_LN10));
    if (out->t == 0)
        out->log10_p_one = log10(0.5);
    return PK_OK;
}

/* Pearson of fixed rx against a permuted ry, using that rank sums and squares
 * are permutation invariant: only the cross term changes. */
static double cross(const double *rx, const double *ry, const size_t *perm, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += rx[i] * ry[perm[i]];
    return s;
}

int pk_spearman_permutation(const double *x, const double *y, size_t n, size_t nperm, pk_rng *rng, double *p,
                            int *exact, pk_err *err)
{
    int st = check_xy(x, y, n, 3, err);
    if (st)
        return st;
    double *rx = malloc(n * sizeof *rx), *ry = malloc(n * sizeof *ry);
    size_t *perm = malloc(n * sizeof *perm);
    if (!rx || !ry || !perm || pk_rank_average(x, n, rx) || pk_rank_average(y, n, ry)) {
        free(rx);
        free(ry);
        free(perm);
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    }
    if (isnan(pk_pearson(rx, ry, n))) {
        free(rx);
        free(ry);
        free(perm);
        return pk_err_set(err, PK_EDOM, "a column is constant: Spearman's rho is undefined");
    }
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    double obs = cross(rx, ry, perm, n);
    double tol = 1e-9 * fabs(obs);
    if (n <= 8) {
        /* Heap's algorithm: every ordering exactly once */
        size_t c[8] = {0}, count = 0, total = 0;
        count += cross(rx, ry, perm, n) >= obs - tol;
        total++;
        size_t i = 0;
        while (i < n) {
            if (c[i] < i) {
                size_t j = (i % 2 == 0) ? 0 : c[i], t = perm[j];
                perm[j] = perm[i];
                perm[i] = t;
                count += cross(rx, ry, perm, n) >= obs - tol;
                total++;
                c[i]++;
                i = 0;
            } else {
                c[i] = 0;
                i++;
            }
        }
        *p = (double)count / (double)total;
        *exact = 1;
    } else {
        if (nperm == 0) {
            free(rx);
            free(ry);
            free(perm);
            return pk_err_set(err, PK_EINVAL, "nperm must be >= 1 when n > 8");
        }
        size_t count = 0;
        for (size_t b = 0; b < nperm; b++) {
            pk_rng_shuffle(rng, perm, n, sizeof *perm);
            count += cross(rx, ry, perm, n) >= obs - tol;
        }
        *p = (1.0 + (double)count) / (1.0 + (double)nperm);
        *exact = 0;
    }
    free(rx);
    free(ry);
    free(perm);
    return PK_OK;
}

int pk_reshuffle_ztest(double stat, const double *null_stats, size_t m, pk_reshuffle_result *out, pk_err *err)
{
    if (m < 2)
        return pk_err_set(err, PK_EINVAL, "the reshuffle test needs at least 2 reshuffled runs, got %zu", m);
    if (!isfinite(stat))
        return pk_err_set(err, PK_EDOM, "the observed statistic %g is not finite", stat);
    for (size_t i = 0; i < m; i++)
        if (!isfinite(null_stats[i]))
            return pk_err_set(err, PK_EDOM, "reshuffled statistic %zu = %g is not finite", i, null_stats[i]);
    double mean, var;
    pk_mean_var(null_stats, m, &mean, &var);
    if (!(var > 0))
        return pk_err_set(err, PK_EDOM, "the %zu reshuffled statistics are all equal: z is undefined", m);
    out->m = m;
    out->null_mean = mean;
    out->null_sd = sqrt(var);
    out->z = (stat - mean) / out->null_sd;
    /* upper normal tail in log space: log Q(z) = log(erfc(z/sqrt2)/2), asymptotic for large z */
    double z = out->z;
    if (z < 30)
        out->log10_p_normal = log10(0.5 * erfc(z / M_SQRT2));
    else
        out->log10_p_normal = (-0.5 * z * z - log(z) - 0.5 * log(2 * M_PI) + log1p(-1 / (z * z))) / M_LN10;
    size_t ge = 0;
    for (size_t i = 0; i < m; i++)
        ge += null_stats[i] >= stat;
    out->p_rank = (1.0 + (double)ge) / (1.0 + (double)m);
    return PK_OK;
}
