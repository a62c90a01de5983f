/* prior.c — the data-set priors a PFN is fitted to, the exact GP posterior
 * predictive it is checked against, and the bar (Riemann) distribution. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/linalg.h"
#include "pfn_priv.h"

/* Median of the standard half-normal, Phi^-1(3/4): a tail bucket's scale
 * s = width / HN_MEDIAN puts half of the tail's mass inside the bucket. */
#define HN_MEDIAN 0.67448975019608174
#define LOG_SQRT_2PI 0.91893853320467274

pk_pfn_prior pk_pfn_prior_default(int dim)
{
    pk_pfn_prior p;
    memset(&p, 0, sizeof p);
    p.kind = PK_PFN_GP;
    p.dim = dim;
    p.lengthscale = 0.2;
    p.outputscale = 1.0;
    p.noise = 1e-2;
    p.ls_mu = log(0.2);
    p.ls_sd = 0.5;
    p.os_shape = 5.0;
    p.noise_lo = 1e-3;
    p.noise_hi = 1e-1;
    return p;
}

int pk_pfn_prior_check(const pk_pfn_prior *p, pk_err *err)
{
    if (!p)
        return pk_err_set(err, PK_EINVAL, "pfn prior: NULL");
    if (p->dim < 1 || p->dim > 16)
        return pk_err_set(err, PK_EINVAL, "pfn prior: dim %d must be in 1..16", p->dim);
    if (p->kind == PK_PFN_GP) {
        if (!(p->lengthscale > 0 && p->outputscale > 0 && p->noise > 0) || !isfinite(p->lengthscale) ||
            !isfinite(p->outputscale) || !isfinite(p->noise))
            return pk_err_set(err, PK_EINVAL,
                              "pfn prior: length scale %g, output scale %g and noise %g must be positive and finite",
                              p->lengthscale, p->outputscale, p->noise);
    } else if (p->kind == PK_PFN_GP_HYPER) {
        if (!isfinite(p->ls_mu) || !(p->ls_sd >= 0 && p->ls_sd < 10) || !(p->os_shape > 0 && p->os_shape < 1e6) ||
            !(p->noise_lo > 0 && p->noise_hi >= p->noise_lo && p->noise_hi < 1e6))
            return pk_err_set(err, PK_EINVAL,
                              "pfn prior: hyperprior needs finite ls_mu, 0 <= ls_sd < 10, os_shape > 0, "
                              "0 < noise_lo <= noise_hi");
    } else {
        return pk_err_set(err, PK_EINVAL, "pfn prior: unknown kind %d", (int)p->kind);
    }
    return PK_OK;
}

pk_pfn_hyper pfn_draw_hyper(const pk_pfn_prior *p, pk_rng *rng)
{
    pk_pfn_hyper h = {p->lengthscale, p->outputscale, p->noise};
    if (p->kind == PK_PFN_GP_HYPER) {
        h.lengthscale = exp(p->ls_mu + p->ls_sd * pk_rng_normal(rng));
        h.outputscale = pk_rng_gamma(rng, p->os_shape) / p->os_shape;
        h.noise = exp(log(p->noise_lo) + (log(p->noise_hi) - log(p->noise_lo)) * pk_rng_uniform(rng));
    }
    return h;
}

static double rbf(const pk_pfn_hyper *h, int dim, const double *a, const double *b)
{
    double d2 = 0;
    for (int k = 0; k < dim; k++) {
        double d = a[k] - b[k];
        d2 += d * d;
    }
    return h->outputscale * exp(-0.5 * d2 / (h->lengthscale * h->lengthscale));
}

/* K(X, X) + noise I, factorised in place. */
static int factor(const pk_pfn_hyper *h, int dim, const double *X, size_t n, pk_mat *K, pk_err *err)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++) {
            double v = rbf(h, dim, X + i * dim, X + j * dim) + (i == j ? h->noise : 0.0);
            *pk_mat_at(K, i, j) = v;
            *pk_mat_at(K, j, i) = v;
        }
    double used;
    if (pk_cholesky(K, 1e-10, 6, &used))
        return pk_err_set(err, PK_ESING, "pfn: GP kernel matrix (n=%zu) is not positive definite", n);
    return PK_OK;
}

int pk_pfn_prior_sample(const pk_pfn_prior *p, size_t n, pk_rng *rng, double *X, double *y, pk_pfn_hyper *hout,
                        pk_err *err)
{
    int st = pk_pfn_prior_check(p, err);
    if (st)
        return st;
    if (n == 0 || n > 100000 || !X || !y || !rng)
        return pk_err_set(err, PK_EINVAL, "pfn prior: need 1..100000 points and non-NULL X, y, rng (n=%zu)", n);
    pk_pfn_hyper h = pfn_draw_hyper(p, rng);
    if (hout)
        *hout = h;
    for (size_t i = 0; i < n * (size_t)p->dim; i++)
        X[i] = pk_rng_uniform(rng);
    pk_mat *K = pk_mat_new(n, n);
    double *z = malloc(n * sizeof *z);
    if (!K || !z) {
        pk_mat_free(K);
        free(z);
        return pk_err_set(err, PK_ENOMEM, "pfn prior: out of memory for %zu points", n);
    }
    st = factor(&h, p->dim, X, n, K, err);
    if (!st) {
        for (size_t i = 0; i < n; i++)
            z[i] = pk_rng_normal(rng);
        /* y = L z: L already carries the noise on its diagonal */
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t j = 0; j <= i; j++)
                s += *pk_mat_at(K, i, j) * z[j];
            y[i] = s;
        }
    }
    pk_mat_free(K);
    free(z);
    return st;
}

int pk_pfn_gp_predict(const pk_pfn_hyper *h, int dim, const double *X, const double *y, size_t n, const double *Xq,
                      size_t nq, double *mean, double *var, pk_err *err)
{
    if (!h || dim < 1 || (n && (!X || !y)) || (nq && (!Xq || !mean || !var)))
        return pk_err_set(err, PK_EINVAL, "pfn gp predict: bad arguments");
    double prior_var = h->outputscale + h->noise;
    if (n == 0) {
        for (size_t q = 0; q < nq; q++)
            mean[q] = 0, var[q] = prior_var;
        return PK_OK;
    }
    pk_mat *K = pk_mat_new(n, n), *a = pk_mat_new(n, 1), *ks = pk_mat_new(n, nq ? nq : 1);
    int st = PK_OK;
    if (!K || !a || !ks) {
        st = pk_err_set(err, PK_ENOMEM, "pfn gp predict: out of memory");
        goto done;
    }
    if ((st = factor(h, dim, X, n, K, err)))
        goto done;
    memcpy(a->data, y, n * sizeof *y);
    pk_cholesky_solve(K, a);
    for (size_t i = 0; i < n; i++)
        for (size_t q = 0; q < nq; q++)
            *pk_mat_at(ks, i, q) = rbf(h, dim, X + i * dim, Xq + q * dim);
    for (size_t q = 0; q < nq; q++) {
        double m = 0;
        for (size_t i = 0; i < n; i++)
            m += *pk_mat_at(ks, i, q) * a->data[i];
        mean[q] = m;
    }
    pk_trsm_lower(K, 0, ks); /* v = L^-1 k* */
    for (size_t q = 0; q < nq; q++) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += *pk_mat_at(ks, i, q) * *pk_mat_at(ks, i, q);
        var[q] = fmax(prior_var - s, h->noise * 1e-6);
    }
done:
    pk_mat_free(K);
    pk_mat_free(a);
    pk_mat_free(ks);
    return st;
}

int pk_pfn_gp_log_marginal(const pk_pfn_hyper *h, int dim, const double *X, const double *y, size_t n, double *lml,
                           pk_err *err)
{
    if (!h || dim < 1 || n == 0 || !X || !y || !lml)
        return pk_err_set(err, PK_EINVAL, "pfn gp log marginal: bad arguments");
    pk_mat *K = pk_mat_new(n, n), *a = pk_mat_new(n, 1);
    int st = PK_OK;
    if (!K || !a) {
        st = pk_err_set(err, PK_ENOMEM, "pfn gp log marginal: out of memory");
    } else if (!(st = factor(h, dim, X, n, K, err))) {
        memcpy(a->data, y, n * sizeof *y);
        pk_trsm_lower(K, 0, a);
        double q = pk_dot(a->data, a->data, n);
        *lml = -0.5 * q - 0.5 * pk_cholesky_logdet(K) - (double)n * LOG_SQRT_2PI;
    }
    pk_mat_free(K);
    pk_mat_free(a);
    return st;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int pk_pfn_borders_from_prior(const pk_pfn_prior *p, int nb, size_t nsamples, pk_rng *rng, double *borders,
                              pk_err *err)
{
    int st = pk_pfn_prior_check(p, err);
    if (st)
        return st;
    if (nb < 2 || nb > 4096 || nsamples < (size_t)nb * 4 || nsamples > 100000000 || !borders || !rng)
        return pk_err_set(err, PK_EINVAL, "pfn borders: need 2..4096 buckets and at least 4 samples per bucket");
    double *s = malloc(nsamples * sizeof *s);
    if (!s)
        return pk_err_set(err, PK_ENOMEM, "pfn borders: out of memory");
    /* y at one point is N(0, outputscale + noise) given the hyperparameters:
     * the marginal of y needs no kernel matrix. */
    for (size_t i = 0; i < nsamples; i++) {
        pk_pfn_hyper h = pfn_draw_hyper(p, rng);
        s[i] = sqrt(h.outputscale + h.noise) * pk_rng_normal(rng);
    }
    qsort(s, nsamples, sizeof *s, cmp_double);
    for (int b = 0; b <= nb; b++) {
        size_t idx = (size_t)((double)b / nb * (double)(nsamples - 1) + 0.5);
        borders[b] = s[idx];
    }
    free(s);
    for (int b = 1; b <= nb; b++)
        if (!(borders[b] > borders[b - 1]))
            return pk_err_set(err, PK_EINVAL, "pfn borders: prior draws give repeated borders (too few samples?)");
    return PK_OK;
}

int pk_pfn_bar_bucket(const double *borders, int nb, double y)
{
    if (!(y >= borders[1]))
        return 0;
    if (y >= borders[nb - 1])
        return nb - 1;
    int lo = 1, hi = nb - 1; /* borders[lo] <= y < borders[hi] */
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (y >= borders[mid])
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

double pfn_within_logpdf(const double *borders, int nb, int b, double y)
{
    double w = borders[b + 1] - borders[b];
    if (b > 0 && b < nb - 1)
        return -log(w);
    double s = w / HN_MEDIAN, t = b == 0 ? borders[1] - y : y - borders[nb - 1];
    return log(2.0) - LOG_SQRT_2PI - log(s) - 0.5 * t * t / (s * s);
}

double pk_pfn_bar_logpdf(const double *borders, int nb, const double *logp, double y)
{
    int b = pk_pfn_bar_bucket(borders, nb, y);
    return logp[b] + pfn_within_logpdf(borders, nb, b, y);
}

void pk_pfn_bar_moments(const double *borders, int nb, const double *logp, double *mean, double *var)
{
    const double c = sqrt(2.0 / M_PI); /* E|T| for a unit half-normal */
    double m1 = 0, m2 = 0;
    for (int b = 0; b < nb; b++) {
        double p = exp(logp[b]), lo = borders[b], hi = borders[b + 1], w = hi - lo, e1, e2;
        if (b == 0 || b == nb - 1) {
            double s = w / HN_MEDIAN, edge = b == 0 ? hi : lo, sign = b == 0 ? -1.0 : 1.0;
            e1 = edge + sign * s * c;
            e2 = edge * edge + 2 * sign * edge * s * c + s * s;
        } else {
            e1 = 0.5 * (lo + hi);
            e2 = e1 * e1 + w * w / 12.0;
        }
        m1 += p * e1;
        m2 += p * e2;
    }
    if (mean)
        *mean = m1;
    if (var)
        *var = fmax(m2 - m1 * m1, 0.0);
}

double pk_pfn_bar_cdf(const double *borders, int nb, const double *logp, double y)
{
    int b = pk_pfn_bar_bucket(borders, nb, y);
    double c = 0, p = exp(logp[b]), w = borders[b + 1] - borders[b], s = w / HN_MEDIAN;
    for (int k = 0; k < b; k++)
        c += exp(logp[k]);
    if (b == 0)
        return p * erfc((borders[1] - y) / (s * M_SQRT2));
    if (b == nb - 1)
        return c + p * erf((y - borders[nb - 1]) / (s * M_SQRT2));
    return c + p * (y - borders[b]) / w;
}

double pk_pfn_bar_quantile(const double *borders, int nb, const double *logp, double u)
{
    /* the tails are half-normal: 40 scales out holds all but ~1e-300 of them */
    double lo = borders[1] - 40 * (borders[1] - borders[0]) / HN_MEDIAN,
           hi = borders[nb - 1] + 40 * (borders[nb] - borders[nb - 1]) / HN_MEDIAN;
    for (int it = 0; it < 200 && hi - lo > 1e-12 * (1 + fabs(lo) + fabs(hi)); it++) {
        double mid = 0.5 * (lo + hi);
        if (pk_pfn_bar_cdf(borders, nb, logp, mid) < u)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}
