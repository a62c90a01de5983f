/* "Towards Exact Computation of Inductive Bias" (Boopathy, Yue, Hwang, Iyer,
 * Fiete): the inductive bias of a task relative to a hypothesis space is
 * -log2 P(test loss <= eps) for hypotheses drawn from the space that fit the
 * training data.  The paper fits a scaled non-central chi-square to sampled
 * losses.  For a Gaussian-process hypothesis space the loss of a posterior draw
 * is exactly a generalised chi-square, Q = c0 + sum_j w_j (z_j + delta_j)^2, whose
 * CDF we compute by Imhof's integral (bulk) and a saddlepoint r* formula (deep
 * lower tail, where Imhof's absolute accuracy is not enough). */
#include <math.h>
#include <stdlib.h>
#include <string.h>


#include "probkit/gp.h"
#include "probkit/linalg.h"
#include "probkit/theory.h"
#include "quad.h"

void pk_gchisq_free(pk_gchisq *q)
{
    if (!q)
        return;
    free(q->w);
    free(q->delta);
    free(q);
}

pk_gchisq *pk_gchisq_new(size_t k)
{
    pk_gchisq *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->k = k;
    q->w = calloc(k ? k : 1, sizeof *q->w);
    q->delta = calloc(k ? k : 1, sizeof *q->delta);
    if (!q->w || !q->delta) {
        pk_gchisq_free(q);
        return NULL;
    }
    return q;
}

double pk_gchisq_mean(const pk_gchisq *q)
{
    double m = q->c0;
    for (size_t j = 0; j < q->k; j++)
        m += q->w[j] * (1 + q->delta[j] * q->delta[j]);
    return m;
}

void pk_gchisq_sample(const pk_gchisq *q, size_t N, pk_rng *rng, double *out)
{
    for (size_t s = 0; s < N; s++) {
        double v = q->c0;
        for (size_t j = 0; j < q->k; j++) {
            double z = pk_rng_normal(rng) + q->delta[j];
            v += q->w[j] * z * z;
        }
        out[s] = v;
    }
}

typedef struct imhof_par {
    const pk_gchisq *q;
    double x;
} imhof_par;

/* Imhof (1961): P(Q > x) = 1/2 + (1/pi) int_0^inf sin(theta(u)) / (u rho(u)) du */
static double imhof_integrand(double u, void *vp)
{
    const imhof_par *p = vp;
    const pk_gchisq *q = p->q;
    if (u <= 0) {
        /* limit u -> 0: sin(theta)/u -> theta'(0) = sum w (1 + delta^2) - (x - c0) */
        return 0.5 * (pk_gchisq_mean(q) - p->x);
    }
    double th = -0.5 * (p->x - q->c0) * u, lr = 0;
    for (size_t j = 0; j < q->k; j++) {
        double a = q->w[j] * u, d2 = q->delta[j] * q->delta[j], b = 1 + a * a;
        th += 0.5 * (atan(a) + d2 * a / b);
        lr += 0.25 * log(b) + 0.5 * d2 * a * a / b;
    }
    return sin(th) / (u * exp(lr));
}

static double imhof_envelope(const pk_gchisq *q, double u)
{
    double lr = 0;
    for (size_t j = 0; j < q->k; j++) {
        double a = q->w[j] * u, d2 = q->delta[j] * q->delta[j], b = 1 + a * a;
        lr += 0.25 * log(b) + 0.5 * d2 * a * a / b;
    }
    return 1 / (u * exp(lr));
}

int pk_gchisq_cdf_imhof(const pk_gchisq *q, double x, double *F)
{
    if (!q || !F || q->k == 0)
        return PK_EINVAL;
    double wsum = 0;
    for (size_t j = 0; j < q->k; j++) {
        if (!(q->w[j] > 0))
            return PK_EINVAL;
        wsum += q->w[j] * (1 + q->delta[j] * q->delta[j]);
    }
    pk_quad_ws *ws = pk_quad_ws_new(1000);
    if (!ws)
        return PK_ENOMEM;
    imhof_par p = {q, x};
    /* the integrand oscillates with frequency ~ (x - c0)/2 and decays like the
     * envelope 1/(u rho(u)): integrate chunk by chunk (a few periods each) until
     * the envelope is negligible */
    double h = 2 * M_PI / (0.5 * fmax(fabs(x - q->c0), 1e-3 * wsum) + 0.5 * wsum) * 4, u = 0, tot = 0;
    int st = PK_OK;
    for (int c = 0; c < 200000; c++) {
        double r, e;
        st = pk_quad_adapt(imhof_integrand, &p, u, u + h, 1e-13, 1e-9, ws, &r, &e);
        if (st == PK_EMAXITER && e < 1e-9 * fabs(r) + 1e-11)
            st = PK_OK;
        if (st)
            break;
        tot += r;
        u += h;
        /* the oscillating remainder is bounded by about one period of the envelope */
        if (imhof_envelope(q, u) * h < 1e-13)
            break;
    }
    pk_quad_ws_free(ws);
    if (st)
        return st;
    *F = 0.5 - tot / M_PI;
    if (*F < 0)
        *F = 0;
    return PK_OK;
}

/* log Phi(z), accurate far into the lower tail */
static double log_ndtr(double z)
{
    if (z > -30)
        return log(0.5 * erfc(-z / sqrt(2.0)));
    double z2 = z * z;
    return -0.5 * z2 - log(-z) - 0.5 * log(2 * M_PI) + log1p(-1 / z2 + 3 / (z2 * z2) - 15 / (z2 * z2 * z2));
}

static void cgf(const pk_gchisq *q, double t, double *K, double *K1, double *K2)
{
    double k0 = q->c0 * t, k1 = q->c0, k2 = 0;
    for (size_t j = 0; j < q->k; j++) {
        double w = q->w[j], d2 = q->delta[j] * q->delta[j], a = 1 - 2 * w * t;
        k0 += -0.5 * log(a) + w * d2 * t / a;
        k1 += w / a + w * d2 / (a * a);
        k2 += 2 * w * w / (a * a) + 4 * w * w * d2 / (a * a * a);
    }
    *K = k0, *K1 = k1, *K2 = k2;
}

int pk_gchisq_logcdf_saddle(const pk_gchisq *q, double x, double *logF)
{
    if (!q || !logF || q->k == 0)
        return PK_EINVAL;
    double wmax = 0;
    for (size_t j = 0; j < q->k; j++) {
        if (!(q->w[j] > 0))
            return PK_EINVAL;
        wmax = fmax(wmax, q->w[j]);
    }
    if (x <= q->c0) {
        *logF = -INFINITY;
        return PK_OK;
    }
    /* K'(t) is increasing on (-inf, 1/(2 wmax)); bracket the root of K'(t) = x */
    double hi = 0.5 / wmax * (1 - 1e-12), lo = -1, K, K1, K2;
    cgf(q, lo, &K, &K1, &K2);
    while (K1 > x) {
        lo *= 4;
        if (lo < -1e300)
            return PK_EDOM;
        cgf(q, lo, &K, &K1, &K2);
    }
    for (int it = 0; it < 400; it++) {
        double mid = 0.5 * (lo + hi);
        cgf(q, mid, &K, &K1, &K2);
        if (K1 > x)
            hi = mid;
        else
            lo = mid;
        if (hi - lo < 1e-15 * fmax(1.0, fabs(mid)))
            break;
    }
    double t = 0.5 * (lo + hi);
    cgf(q, t, &K, &K1, &K2);
    double r2 = 2 * (t * x - K);
    if (fabs(t) < 1e-10 || r2 <= 0) {
        /* at the mean: Phi(0) plus the skewness correction is not needed here */
        *logF = log(0.5);
        return PK_OK;
    }
    double w = (t > 0 ? 1 : -1) * sqrt(r2), u = t * sqrt(K2);
    double rstar = w + log(u / w) / w; /* Barndorff-Nielsen r* */
    *logF = log_ndtr(rstar);
    return PK_OK;
}

/* log of the regularised lower incomplete gamma P(a, x), safe for tiny values */
static double log_gamma_P(double a, double x)
{
    if (x <= 0)
        return -INFINITY;
    if (x < a + 1) {
        double term = 1, sum = 1;
        for (int n = 1; n < 100000; n++) {
            term *= x / (a + n);
            sum += term;
            if (term < 1e-17 * sum)
                break;
        }
        return a * log(x) - x - lgamma(a + 1) + log(sum);
    }
    /* upper tail Q(a, x) by its continued fraction (modified Lentz), in logs:
     * GSL's gsl_sf_gamma_inc_Q_e reports underflow through the process-wide
     * error handler, which the library must not rely on */
    double b = x + 1 - a, c = 1 / 1e-300, dd = 1 / b, h = dd;
    for (int i = 1; i < 100000; i++) {
        double an = -i * (i - a);
        b += 2;
        dd = an * dd + b;
        if (fabs(dd) < 1e-300)
            dd = 1e-300;
        c = b + an / c;
        if (fabs(c) < 1e-300)
            c = 1e-300;
        dd = 1 / dd;
        double del = dd * c;
        h *= del;
        if (fabs(del - 1) < 1e-16)
            break;
    }
    return log1p(-exp(a * log(x) - x - lgamma(a) + log(h)));
}

double pk_ncx2_logcdf(double x, double scale, double df, double ncp)
{
    if (!(scale > 0) || !(df > 0) || !(ncp >= 0))
        return NAN;
    if (x <= 0)
        return -INFINITY;
    double y = x / scale, h = ncp / 2, acc = -INFINITY;
    /* Poisson(ncp/2) mixture of central chi-squares with df + 2j degrees */
    size_t jmax = (size_t)(h + 12 * sqrt(h) + 60);
    for (size_t j = 0; j <= jmax; j++) {
        double lp = (h > 0 ? (double)j * log(h) - h - lgamma((double)j + 1) : (j ? -INFINITY : 0.0)) +
                    log_gamma_P(0.5 * df + (double)j, 0.5 * y);
        if (lp > acc)
            acc = lp + log1p(exp(acc - lp));
        else if (isfinite(lp))
            acc = acc + log1p(exp(lp - acc));
    }
    return acc;
}

int pk_ncx2_fit_moments(const double *v, size_t N, double *scale, double *df, double *ncp)
{
    if (!v || N < 3 || !scale || !df || !ncp)
        return PK_EINVAL;
    double m = 0, m2 = 0, m3 = 0;
    for (size_t i = 0; i < N; i++)
        m += v[i];
    m /= (double)N;
    for (size_t i = 0; i < N; i++) {
        double e = v[i] - m;
        m2 += e * e;
        m3 += e * e * e;
    }
    m2 /= (double)N;
    m3 /= (double)N;
    if (!(m2 > 0))
        return PK_EDOM;
    /* mean = s (k + l), var = 2 s^2 (k + 2 l), mu3 = 8 s^3 (k + 3 l): with
     * A = k + l, B = k + 2 l, C = k + 3 l (C - B = B - A) solve for s: */
    double s;
    if (m3 > 0) {
        /* B = var/(2 s^2), A = mean/s, C = mu3/(8 s^3); 2B = A + C gives
         * var/s^2 = mean/s + mu3/(8 s^3)  ->  mean s^2 - var s + mu3/8 = 0 */
        double disc = m2 * m2 - 4 * m * m3 / 8;
        s = disc >= 0 ? (m2 - sqrt(disc)) / (2 * m) : m2 / (2 * m);
        /* the smaller root keeps l >= 0; fall back to the central fit */
        if (!(s > 0) || m / s - (m2 / (2 * s * s) - m / s) < 0 || m2 / (2 * s * s) - m / s < 0)
            s = m2 / (2 * m);
    } else
        s = m2 / (2 * m);
    double A = m / s, B = m2 / (2 * s * s);
    double l = B - A, k = A - l;
    if (l < 0 || k <= 0) {
        /* central chi-square by two moments */
        s = m2 / (2 * m);
        k = m / s;
        l = 0;
    }
    *scale = s, *df = k, *ncp = l;
    return PK_OK;
}

int pk_gp_hyp_loss(const pk_gp_kernel *kern, const pk_mat *Xtr, const double *ytr, const pk_mat *Xte,
                   const double *yte, double jitter, pk_gchisq **out)
{
    if (!kern || !Xtr || !ytr || !Xte || !yte || !out || Xtr->cols != Xte->cols || !(jitter >= 0))
        return PK_EINVAL;
    *out = NULL;
    size_t n = Xtr->rows, m = Xte->rows;
    pk_mat *K = pk_mat_new(n, n), *Ks = pk_mat_new(n, m), *C = pk_mat_new(m, m);
    double *a = malloc(n * sizeof *a), *mu = malloc(m * sizeof *mu), *lam = malloc(m * sizeof *lam),
           *r = malloc(m * sizeof *r);
    pk_gchisq *q = NULL;
    int st = PK_ENOMEM;
    if (!K || !Ks || !C || !a || !mu || !lam || !r)
        goto done;
    if ((st = pk_gp_kernel_matrix(kern, Xtr, Xtr, 1, K)) || (st = pk_gp_kernel_matrix(kern, Xtr, Xte, 0, Ks)) ||
        (st = pk_gp_kernel_matrix(kern, Xte, Xte, 1, C)))
        goto done;
    for (size_t i = 0; i < n; i++)
        *pk_mat_at(K, i, i) += jitter;
    double used;
    if ((st = pk_cholesky(K, 1e-10, 6, &used)))
        goto done;
    /* mean k*^T K^-1 y, covariance k** - k*^T K^-1 k* via V = L^-1 k* */
    memcpy(a, ytr, n * sizeof *a);
    pk_mat av = pk_mat_view(a, n, 1);
    if ((st = pk_cholesky_solve(K, &av)))
        goto done;
    pk_gemv(1, 1.0, Ks, a, 0.0, mu);
    if ((st = pk_trsm_lower(K, 0, Ks)) || (st = pk_syrk(1, -1.0, Ks, 1.0, C)))
        goto done;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < i; j++)
            *pk_mat_at(C, j, i) = *pk_mat_at(C, i, j);
    /* loss (1/m)|mu + C^1/2 z - y|^2 = c0 + sum_j (lam_j/m)(z_j + u_j.(mu - y)/sqrt(lam_j))^2 */
    if ((st = pk_syev(C, lam)))
        goto done;
    for (size_t i = 0; i < m; i++)
        mu[i] -= yte[i];
    pk_gemv(1, 1.0, C, mu, 0.0, r);
    size_t kk = 0;
    double lmax = lam[m - 1], c0 = 0;
    for (size_t j = 0; j < m; j++)
        kk += lam[j] > 1e-12 * lmax;
    q = pk_gchisq_new(kk);
    if (!q) {
        st = PK_ENOMEM;
        goto done;
    }
    for (size_t j = 0, o = 0; j < m; j++) {
        if (lam[j] > 1e-12 * lmax) {
            q->w[o] = lam[j] / (double)m;
            q->delta[o++] = r[j] / sqrt(lam[j]);
        } else
            c0 += r[j] * r[j] / (double)m;
    }
    q->c0 = c0;
    *out = q;
    q = NULL;
    st = PK_OK;
done:
    pk_mat_free(K), pk_mat_free(Ks), pk_mat_free(C);
    free(a), free(mu), free(lam), free(r);
    pk_gchisq_free(q);
    return st;
}

int pk_gp_hyp_sample_losses(const pk_gp_kernel *kern, const pk_mat *Xtr, const double *ytr, const pk_mat *Xte,
                            const double *yte, double jitter, size_t N, pk_rng *rng, double *losses)
{
    if (!kern || !Xtr || !ytr || !Xte || !yte || !rng || !losses || Xtr->cols != Xte->cols)
        return PK_EINVAL;
    size_t n = Xtr->rows, m = Xte->rows, d = Xtr->cols;
    /* joint prior over train + test, then h_test | h_train = y by Cholesky:
     * the hypotheses are exact interpolants drawn from the GP */
    pk_mat *X = pk_mat_new(n + m, d), *K = pk_mat_new(n + m, n + m);
    double *z = malloc((n + m) * sizeof *z), *h = malloc((n + m) * sizeof *h);
    int st = PK_ENOMEM;
    if (!X || !K || !z || !h)
        goto done;
    memcpy(X->data, Xtr->data, n * d * sizeof *X->data);
    for (size_t i = 0; i < m; i++)
        memcpy(pk_mat_at(X, n + i, 0), pk_mat_at(Xte, i, 0), d * sizeof(double));
    if ((st = pk_gp_kernel_matrix(kern, X, X, 1, K)))
        goto done;
    for (size_t i = 0; i < n; i++)
        *pk_mat_at(K, i, i) += jitter;
    double used;
    if ((st = pk_cholesky(K, 1e-10, 6, &used)))
        goto done;
    /* with L = [[L11, 0], [L21, L22]], h_tr = L11 z1 = y fixes z1 = L11^-1 y and
     * h_te = L21 z1 + L22 z2 with z2 ~ N(0, I) */
    memcpy(z, ytr, n * sizeof *z);
    pk_mat L11 = pk_mat_view(K->data, n, n);
    L11.stride = K->stride;
    pk_mat zv = pk_mat_view(z, n, 1);
    if ((st = pk_trsm_lower(&L11, 0, &zv)))
        goto done;
    for (size_t s = 0; s < N; s++) {
        for (size_t i = n; i < n + m; i++)
            z[i] = pk_rng_normal(rng);
        double loss = 0;
        for (size_t i = n; i < n + m; i++) {
            double v = pk_dot(pk_mat_at(K, i, 0), z, i + 1);
            loss += (v - yte[i - n]) * (v - yte[i - n]);
        }
        losses[s] = loss / (double)m;
    }
    st = PK_OK;
done:
    pk_mat_free(X), pk_mat_free(K);
    free(z), free(h);
    return st;
}
