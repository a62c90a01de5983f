/* Samplers against exact moments and their pdf (5-sigma bands, fixed seeds). */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sf_gamma.h>
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/rng.h"

#define N 200000

/* |mean - mu| within 5 standard errors. */
static void check_mean(const double *x, size_t n, double mu, double var, const char *what)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m += x[i];
    m /= (double)n;
    double se = sqrt(var / (double)n);
    PK_CHECK_MSG(fabs(m - mu) <= 5 * se, "%s: mean %.6g expected %.6g (se %.3g)", what, m, mu, se);
}

static void check_var(const double *x, size_t n, double mu, double var, double kurt_excess, const char *what)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (x[i] - mu) * (x[i] - mu);
    s /= (double)n;
    /* var of the sample variance ~ var^2 (2 + excess kurtosis) / n */
    double se = var * sqrt((2.0 + kurt_excess) / (double)n);
    PK_CHECK_MSG(fabs(s - var) <= 5 * se, "%s: var %.6g expected %.6g (se %.3g)", what, s, var, se);
}

/* Chi-square-like check: each of nb equal-probability bins (by the CDF) holds n/nb +- 5 sd. */
static void check_cdf_bins(const double *x, size_t n, double (*cdf)(double, const double *), const double *par,
                           const char *what)
{
    enum { NB = 20 };
    size_t cnt[NB] = {0};
    for (size_t i = 0; i < n; i++) {
        double u = cdf(x[i], par);
        int b = (int)(u * NB);
        if (b < 0)
            b = 0;
        if (b >= NB)
            b = NB - 1;
        cnt[b]++;
    }
    double e = (double)n / NB, sd = sqrt(e * (1 - 1.0 / NB));
    for (int b = 0; b < NB; b++)
        PK_CHECK_MSG(fabs((double)cnt[b] - e) <= 5 * sd, "%s: bin %d has %zu, expected %.0f", what, b, cnt[b], e);
}

static double cdf_normal(double x, const double *p) { (void)p; return gsl_cdf_ugaussian_P(x); }
static double cdf_gamma(double x, const double *p) { return gsl_cdf_gamma_P(x, p[0], 1.0); }
static double cdf_beta(double x, const double *p) { return gsl_cdf_beta_P(x, p[0], p[1]); }
static double cdf_exp(double x, const double *p) { (void)p; return gsl_cdf_exponential_P(x, 1.0); }

int main(void)
{
    pk_rng r;
    double *x = malloc(N * sizeof *x);
    if (!x)
        return 1;

    /* Determinism and stream independence. */
    pk_rng a, b;
    pk_rng_seed(&a, 7);
    pk_rng_seed(&b, 7);
    int same = 1;
    for (int i = 0; i < 100; i++)
        same &= pk_rng_u64(&a) == pk_rng_u64(&b);
    PK_CHECK(same);
    pk_rng_seed_stream(&a, 7, 1);
    pk_rng_seed(&b, 7);
    int differ = 0;
    for (int i = 0; i < 100; i++)
        differ += pk_rng_u64(&a) != pk_rng_u64(&b);
    PK_CHECK(differ == 100);

    pk_rng_seed(&r, 1);
    for (size_t i = 0; i < N; i++)
        x[i] = pk_rng_uniform(&r);
    check_mean(x, N, 0.5, 1.0 / 12, "uniform");
    check_var(x, N, 0.5, 1.0 / 12, -1.2, "uniform");
    int inrange = 1;
    for (size_t i = 0; i < N; i++)
        inrange &= x[i] >= 0.0 && x[i] < 1.0;
    PK_CHECK(inrange);

    for (size_t i = 0; i < N; i++)
        x[i] = pk_rng_normal(&r);
    check_mean(x, N, 0, 1, "normal");
    check_var(x, N, 0, 1, 0, "normal");
    check_cdf_bins(x, N, cdf_normal, NULL, "normal");

    double shapes[] = {0.3, 1.0, 2.5, 40.0};
    for (int s = 0; s < 4; s++) {
        double k = shapes[s];
        for (size_t i = 0; i < N; i++)
            x[i] = pk_rng_gamma(&r, k);
        check_mean(x, N, k, k, "gamma");
        check_var(x, N, k, k, 6.0 / k, "gamma");
        check_cdf_bins(x, N, cdf_gamma, &k, "gamma");
    }

    double ab[] = {0.5, 3.0};
    for (size_t i = 0; i < N; i++)
        x[i] = pk_rng_beta(&r, ab[0], ab[1]);
    check_cdf_bins(x, N, cdf_beta, ab, "beta");
    check_mean(x, N, ab[0] / (ab[0] + ab[1]), ab[0] * ab[1] / (pow(ab[0] + ab[1], 2) * (ab[0] + ab[1] + 1)), "beta");

    for (size_t i = 0; i < N; i++)
        x[i] = pk_rng_exponential(&r);
    check_cdf_bins(x, N, cdf_exp, NULL, "exponential");

    /* below(): no modulo bias over a non-power-of-two range. */
    {
        size_t cnt[7] = {0};
        for (size_t i = 0; i < N; i++)
            cnt[pk_rng_below(&r, 7)]++;
        double e = N / 7.0, sd = sqrt(e * 6.0 / 7.0);
        for (int i = 0; i < 7; i++)
            PK_CHECK(fabs((double)cnt[i] - e) <= 5 * sd);
    }

    /* categorical and its log-space twin. */
    {
        double p[4] = {0.1, 0.0, 0.6, 0.3}, lp[4];
        for (int i = 0; i < 4; i++)
            lp[i] = log(p[i]) + 3.0; /* unnormalised */
        size_t c1[5] = {0}, c2[5] = {0};
        for (size_t i = 0; i < N; i++) {
            c1[pk_rng_categorical(&r, p, 4)]++;
            c2[pk_rng_categorical_log(&r, lp, 4)]++;
        }
        PK_CHECK(c1[1] == 0 && c2[1] == 0 && c1[4] == 0 && c2[4] == 0);
        for (int i = 0; i < 4; i++) {
            double e = N * p[i], sd = sqrt(N * p[i] * (1 - p[i]));
            PK_CHECK(fabs((double)c1[i] - e) <= 5 * sd + 1e-9);
            PK_CHECK(fabs((double)c2[i] - e) <= 5 * sd + 1e-9);
        }
        double z[2] = {0, 0};
        PK_CHECK(pk_rng_categorical(&r, z, 2) == 2);
    }

    /* binomial (both branches) and poisson (both branches): mean and variance. */
    {
        const uint64_t ns[] = {20, 1000};
        for (int t = 0; t < 2; t++) {
            uint64_t n = ns[t];
            double p = 0.3;
            for (size_t i = 0; i < N / 4; i++)
                x[i] = (double)pk_rng_binomial(&r, n, p);
            check_mean(x, N / 4, n * p, n * p * (1 - p), "binomial");
            check_var(x, N / 4, n * p, n * p * (1 - p), (1 - 6 * p * (1 - p)) / (n * p * (1 - p)), "binomial");
        }
        const double mus[] = {3.5, 250.0};
        for (int t = 0; t < 2; t++) {
            double mu = mus[t];
            for (size_t i = 0; i < N / 4; i++)
                x[i] = (double)pk_rng_poisson(&r, mu);
            check_mean(x, N / 4, mu, mu, "poisson");
            check_var(x, N / 4, mu, mu, 1.0 / mu, "poisson");
        }
    }

    /* multinomial sums to n; dirichlet sums to one with the right means. */
    {
        double p[3] = {0.2, 0.5, 0.3};
        uint64_t out[3];
        int ok = 1;
        double m0 = 0;
        for (int i = 0; i < 2000; i++) {
            pk_rng_multinomial(&r, 100, p, 3, out);
            ok &= out[0] + out[1] + out[2] == 100;
            m0 += (double)out[0];
        }
        PK_CHECK(ok);
        PK_CHECK(fabs(m0 / 2000 - 20.0) < 5 * sqrt(16.0 / 2000));
        double al[3] = {1.0, 2.0, 3.0}, d[3], s1 = 0;
        int sums = 1;
        for (int i = 0; i < 20000; i++) {
            pk_rng_dirichlet(&r, al, 3, d);
            sums &= fabs(d[0] + d[1] + d[2] - 1.0) < 1e-12;
            s1 += d[2];
        }
        PK_CHECK(sums);
        /* Var(D_3) = a3 (a0 - a3) / (a0^2 (a0 + 1)) = 3*3/(36*7) */
        PK_CHECK(fabs(s1 / 20000 - 0.5) < 5 * sqrt(9.0 / 252 / 20000));
    }

    /* permutation: each value once; position 0 uniform. */
    {
        size_t perm[10], first[10] = {0};
        int valid = 1;
        for (int t = 0; t < 20000; t++) {
            pk_rng_permutation(&r, perm, 10);
            int seen[10] = {0};
            for (int i = 0; i < 10; i++)
                seen[perm[i]]++;
            for (int i = 0; i < 10; i++)
                valid &= seen[i] == 1;
            first[perm[0]]++;
        }
        PK_CHECK(valid);
        for (int i = 0; i < 10; i++)
            PK_CHECK(fabs((double)first[i] - 2000) <= 5 * sqrt(1800));
    }
    free(x);
    return pk_test_done();
}
