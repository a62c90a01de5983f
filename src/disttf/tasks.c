/* tasks.c — Gaussian mixtures, the two task families, and the reference
 * posteriors the network is judged against (exact for LINEAR, a fine grid
 * for RANGE). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/disttf.h"

#define LOG2PI 1.8378770664093453

int pk_dtf_gmm_check(const pk_dtf_gmm *g, pk_err *err)
{
    if (!g)
        return pk_err_set(err, PK_EINVAL, "disttf: mixture is NULL");
    if (g->d < 1 || g->d > PK_DTF_MAXD || g->K < 1 || g->K > PK_DTF_MAXK)
        return pk_err_set(err, PK_EINVAL, "disttf: mixture needs d in 1..%d and K in 1..%d (got d %d, K %d)",
                          PK_DTF_MAXD, PK_DTF_MAXK, g->d, g->K);
    double s = 0;
    for (int k = 0; k < g->K; k++) {
        if (!(g->w[k] >= 0) || !isfinite(g->w[k]))
            return pk_err_set(err, PK_EINVAL, "disttf: mixture weight %d is %g", k, g->w[k]);
        s += g->w[k];
        for (int i = 0; i < g->d; i++) {
            if (!isfinite(g->mu[k * g->d + i]))
                return pk_err_set(err, PK_EINVAL, "disttf: mean of component %d is not finite", k);
            for (int j = 0; j <= i; j++) {
                double v = g->L[(k * g->d + i) * g->d + j];
                if (!isfinite(v) || (i == j && !(v > 0)))
                    return pk_err_set(err, PK_EINVAL,
                                      "disttf: Cholesky factor of component %d needs finite entries and a positive "
                                      "diagonal",
                                      k);
            }
        }
    }
    if (fabs(s - 1) > 1e-6)
        return pk_err_set(err, PK_EINVAL, "disttf: mixture weights sum to %g, not 1", s);
    return PK_OK;
}

/* log N(theta; mu_k, L L') by forward substitution */
static double comp_logpdf(const pk_dtf_gmm *g, int k, const double *theta)
{
    int d = g->d;
    const double *L = g->L + (size_t)k * d * d, *mu = g->mu + (size_t)k * d;
    double z[PK_DTF_MAXD], q = 0, ld = 0;
    for (int i = 0; i < d; i++) {
        double r = theta[i] - mu[i];
        for (int j = 0; j < i; j++)
            r -= L[i * d + j] * z[j];
        z[i] = r / L[i * d + i];
        q += z[i] * z[i];
        ld += log(L[i * d + i]);
    }
    return -0.5 * q - ld - 0.5 * d * LOG2PI;
}

double pk_dtf_gmm_logpdf(const pk_dtf_gmm *g, const double *theta)
{
    double a[PK_DTF_MAXK], mx = -INFINITY;
    for (int k = 0; k < g->K; k++) {
        a[k] = g->w[k] > 0 ? log(g->w[k]) + comp_logpdf(g, k, theta) : -INFINITY;
        if (a[k] > mx)
            mx = a[k];
    }
    if (!isfinite(mx))
        return mx;
    double s = 0;
    for (int k = 0; k < g->K; k++)
        s += exp(a[k] - mx);
    return mx + log(s);
}

void pk_dtf_gmm_sample(const pk_dtf_gmm *g, pk_rng *rng, double *theta)
{
    int k = (int)pk_rng_categorical(rng, g->w, (size_t)g->K), d = g->d;
    const double *L = g->L + (size_t)k * d * d;
    double z[PK_DTF_MAXD];
    for (int i = 0; i < d; i++)
        z[i] = pk_rng_normal(rng);
    for (int i = 0; i < d; i++) {
        double v = g->mu[k * d + i];
        for (int j = 0; j <= i; j++)
            v += L[i * d + j] * z[j];
        theta[i] = v;
    }
}

void pk_dtf_gmm_moments(const pk_dtf_gmm *g, double *mean, double *cov)
{
    int d = g->d;
    memset(mean, 0, (size_t)d * sizeof *mean);
    memset(cov, 0, (size_t)d * d * sizeof *cov);
    for (int k = 0; k < g->K; k++)
        for (int i = 0; i < d; i++)
            mean[i] += g->w[k] * g->mu[k * d + i];
    for (int k = 0; k < g->K; k++) {
        const double *L = g->L + (size_t)k * d * d, *mu = g->mu + (size_t)k * d;
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) {
                double s = 0; /* (L L')_ij */
                for (int t = 0; t <= (i < j ? i : j); t++)
                    s += L[i * d + t] * L[j * d + t];
                cov[i * d + j] += g->w[k] * (s + (mu[i] - mean[i]) * (mu[j] - mean[j]));
            }
    }
}

pk_dtf_task pk_dtf_task_default(pk_dtf_task_kind kind)
{
    pk_dtf_task t = {kind, 2, kind == PK_DTF_RANGE ? 0.3 : 1.0, 2.0, 0.3, 1.5, 4.0};
    return t;
}

int pk_dtf_task_check(const pk_dtf_task *t, pk_err *err)
{
    if (!t)
        return pk_err_set(err, PK_EINVAL, "disttf: task is NULL");
    if (t->kind != PK_DTF_LINEAR && t->kind != PK_DTF_RANGE)
        return pk_err_set(err, PK_EINVAL, "disttf: unknown task kind %d", (int)t->kind);
    if (t->d < 1 || t->d > PK_DTF_MAXD || (t->kind == PK_DTF_RANGE && t->d != 2))
        return pk_err_set(err, PK_EINVAL, "disttf: task dimension %d (LINEAR 1..%d, RANGE 2)", t->d, PK_DTF_MAXD);
    if (!(t->noise > 0) || !(t->mean_scale >= 0) || !(t->sd_lo > 0) || !(t->sd_hi >= t->sd_lo) ||
        !(t->sensor_box > 0) || !isfinite(t->noise + t->mean_scale + t->sd_hi + t->sensor_box))
        return pk_err_set(err, PK_EINVAL,
                          "disttf: task needs noise > 0, mean_scale >= 0, 0 < sd_lo <= sd_hi, sensor_box > 0");
    return PK_OK;
}

int pk_dtf_task_obs_dim(const pk_dtf_task *t) { return t->kind == PK_DTF_RANGE ? 3 : t->d; }

void pk_dtf_random_prior(const pk_dtf_task *t, int K, pk_rng *rng, pk_dtf_gmm *g)
{
    int d = t->d;
    if (K < 1)
        K = 1;
    if (K > PK_DTF_MAXK)
        K = PK_DTF_MAXK;
    memset(g, 0, sizeof *g);
    g->d = d, g->K = K;
    double a[PK_DTF_MAXK];
    for (int k = 0; k < PK_DTF_MAXK; k++)
        a[k] = 1.0;
    pk_rng_dirichlet(rng, a, (size_t)K, g->w);
    double s = 0;
    for (int k = 0; k < K; k++) { /* keep every component alive: the network sees log-weights */
        if (g->w[k] < 1e-4)
            g->w[k] = 1e-4;
        s += g->w[k];
    }
    double llo = log(t->sd_lo), lhi = log(t->sd_hi);
    for (int k = 0; k < K; k++) {
        g->w[k] /= s;
        for (int i = 0; i < d; i++) {
            g->mu[k * d + i] = t->mean_scale * pk_rng_normal(rng);
            double sd = exp(llo + (lhi - llo) * pk_rng_uniform(rng));
            double *row = g->L + ((size_t)k * d + i) * d;
            row[i] = sd;
            for (int j = 0; j < i; j++)
                row[j] = 0.3 * sd * pk_rng_normal(rng);
        }
    }
}

void pk_dtf_simulate(const pk_dtf_task *t, const double *theta, int n, pk_rng *rng, double *obs)
{
    if (t->kind == PK_DTF_LINEAR) {
        for (int j = 0; j < n; j++)
            for (int i = 0; i < t->d; i++)
                obs[j * t->d + i] = theta[i] + t->noise * pk_rng_normal(rng);
        return;
    }
    for (int j = 0; j < n; j++) {
        double sx = t->sensor_box * (2 * pk_rng_uniform(rng) - 1), sy = t->sensor_box * (2 * pk_rng_uniform(rng) - 1);
        obs[3 * j] = sx, obs[3 * j + 1] = sy;
        obs[3 * j + 2] = hypot(theta[0] - sx, theta[1] - sy) + t->noise * pk_rng_normal(rng);
    }
}

double pk_dtf_loglik(const pk_dtf_task *t, const double *theta, const double *obs, int n)
{
    double s2 = t->noise * t->noise, ll = 0;
    if (t->kind == PK_DTF_LINEAR) {
        for (int j = 0; j < n; j++)
            for (int i = 0; i < t->d; i++) {
                double r = obs[j * t->d + i] - theta[i];
                ll += -0.5 * r * r / s2;
            }
        return ll - 0.5 * n * t->d * (LOG2PI + log(s2));
    }
    for (int j = 0; j < n; j++) {
        double r = obs[3 * j + 2] - hypot(theta[0] - obs[3 * j], theta[1] - obs[3 * j + 1]);
        ll += -0.5 * r * r / s2;
    }
    return ll - 0.5 * n * (LOG2PI + log(s2));
}

/* Cholesky of a d x d SPD matrix in place (lower); -1 if not positive definite */
static int chol(double *A, int d)
{
    for (int j = 0; j < d; j++) {
        double s = A[j * d + j];
        for (int t = 0; t < j; t++)
            s -= A[j * d + t] * A[j * d + t];
        if (!(s > 0))
            return -1;
        A[j * d + j] = sqrt(s);
        for (int i = j + 1; i < d; i++) {
            double v = A[i * d + j];
            for (int t = 0; t < j; t++)
                v -= A[i * d + t] * A[j * d + t];
            A[i * d + j] = v / A[j * d + j];
        }
        for (int i = 0; i < j; i++)
            A[i * d + j] = 0;
    }
    return 0;
}

/* inverse of an SPD matrix through its Cholesky factor (d <= 4: plain loops) */
static int spd_inverse(const double *A, int d, double *inv)
{
    double Lm[PK_DTF_MAXD * PK_DTF_MAXD];
    memcpy(Lm, A, (size_t)d * d * sizeof *A);
    if (chol(Lm, d))
        return -1;
    for (int c = 0; c < d; c++) { /* solve L L' x = e_c */
        double y[PK_DTF_MAXD];
        for (int i = 0; i < d; i++) {
            double v = i == c;
            for (int t = 0; t < i; t++)
                v -= Lm[i * d + t] * y[t];
            y[i] = v / Lm[i * d + i];
        }
        for (int i = d - 1; i >= 0; i--) {
            double v = y[i];
            for (int t = i + 1; t < d; t++)
                v -= Lm[t * d + i] * inv[t * d + c];
            inv[i * d + c] = v / Lm[i * d + i];
        }
    }
    return 0;
}

int pk_dtf_exact_linear(const pk_dtf_task *t, const pk_dtf_gmm *prior, const double *obs, int n, pk_dtf_gmm *post,
                        pk_err *err)
{
    int st = pk_dtf_task_check(t, err);
    if (st)
        return st;
    if (t->kind != PK_DTF_LINEAR)
        return pk_err_set(err, PK_EINVAL, "disttf: the exact posterior is only known for the LINEAR task");
    if ((st = pk_dtf_gmm_check(prior, err)))
        return st;
    if (prior->d != t->d || n < 0 || (n > 0 && !obs))
        return pk_err_set(err, PK_EINVAL, "disttf: prior dimension %d, task %d, n %d", prior->d, t->d, n);
    int d = t->d, K = prior->K;
    *post = *prior;
    if (n == 0)
        return PK_OK;
    double ybar[PK_DTF_MAXD] = {0};
    for (int j = 0; j < n; j++)
        for (int i = 0; i < d; i++)
            ybar[i] += obs[j * d + i] / n;
    double tau = n / (t->noise * t->noise); /* precision of ybar about theta */
    double la[PK_DTF_MAXK], mx = -INFINITY;
    for (int k = 0; k < K; k++) {
        const double *L = prior->L + (size_t)k * d * d, *mu = prior->mu + (size_t)k * d;
        double S[PK_DTF_MAXD * PK_DTF_MAXD], P[PK_DTF_MAXD * PK_DTF_MAXD], C[PK_DTF_MAXD * PK_DTF_MAXD];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) {
                double s = 0;
                for (int q = 0; q <= (i < j ? i : j); q++)
                    s += L[i * d + q] * L[j * d + q];
                S[i * d + j] = s;
            }
        if (spd_inverse(S, d, P))
            return pk_err_set(err, PK_EDOM, "disttf: prior covariance %d is singular", k);
        double b[PK_DTF_MAXD];
        for (int i = 0; i < d; i++) {
            b[i] = tau * ybar[i];
            for (int j = 0; j < d; j++)
                b[i] += P[i * d + j] * mu[j];
            P[i * d + i] += tau;
        }
        if (spd_inverse(P, d, C)) /* posterior covariance */
            return pk_err_set(err, PK_EDOM, "disttf: posterior covariance %d is singular", k);
        for (int i = 0; i < d; i++) {
            double v = 0;
            for (int j = 0; j < d; j++)
                v += C[i * d + j] * b[j];
            post->mu[k * d + i] = v;
        }
        memcpy(post->L + (size_t)k * d * d, C, (size_t)d * d * sizeof *C);
        if (chol(post->L + (size_t)k * d * d, d))
            return pk_err_set(err, PK_EDOM, "disttf: posterior covariance %d is not positive definite", k);
        /* evidence of component k: ybar ~ N(mu_k, S_k + I / tau) */
        pk_dtf_gmm one;
        memset(&one, 0, sizeof one);
        one.d = d, one.K = 1, one.w[0] = 1;
        for (int i = 0; i < d; i++) {
            one.mu[i] = mu[i];
            for (int j = 0; j < d; j++)
                one.L[i * d + j] = S[i * d + j] + (i == j ? 1.0 / tau : 0.0);
        }
        if (chol(one.L, d))
            return pk_err_set(err, PK_EDOM, "disttf: evidence covariance %d is not positive definite", k);
        la[k] = log(prior->w[k]) + comp_logpdf(&one, 0, ybar);
        if (la[k] > mx)
            mx = la[k];
    }
    double s = 0;
    for (int k = 0; k < K; k++)
        s += (post->w[k] = exp(la[k] - mx));
    for (int k = 0; k < K; k++)
        post->w[k] /= s;
    return PK_OK;
}

int pk_dtf_grid_logpost(const pk_dtf_task *t, const pk_dtf_gmm *prior, const double *obs, int n, int G,
                        double half, const double *theta, double *logpost, double *mean, double *cov,
                        pk_err *err)
{
    int st = pk_dtf_task_check(t, err);
    if (st || (st = pk_dtf_gmm_check(prior, err)))
        return st;
    if (t->d != 2 || prior->d != 2)
        return pk_err_set(err, PK_EINVAL, "disttf: the grid reference needs d = 2");
    if (G < 8 || G > 4096 || !(half > 0) || n < 0 || (n > 0 && !obs) || !theta || !logpost)
        return pk_err_set(err, PK_EINVAL, "disttf: grid needs 8 <= G <= 4096, half > 0, theta and output");
    double h = 2 * half / G, mx = -INFINITY;
    double *lp = malloc((size_t)G * G * sizeof *lp);
    if (!lp)
        return pk_err_set(err, PK_ENOMEM, "disttf: out of memory for a %d x %d grid", G, G);
    for (int a = 0; a < G; a++)
        for (int b = 0; b < G; b++) {
            double th[2] = {-half + (a + 0.5) * h, -half + (b + 0.5) * h};
            double v = pk_dtf_gmm_logpdf(prior, th) + pk_dtf_loglik(t, th, obs, n);
            lp[a * G + b] = v;
            if (v > mx)
                mx = v;
        }
    double s = 0, m1[2] = {0, 0}, m2[3] = {0, 0, 0};
    for (int a = 0; a < G; a++)
        for (int b = 0; b < G; b++) {
            double p = exp(lp[a * G + b] - mx), x = -half + (a + 0.5) * h, y = -half + (b + 0.5) * h;
            s += p;
            m1[0] += p * x, m1[1] += p * y;
            m2[0] += p * x * x, m2[1] += p * x * y, m2[2] += p * y * y;
        }
    free(lp);
    if (mean && cov) {
        mean[0] = m1[0] / s, mean[1] = m1[1] / s;
        cov[0] = m2[0] / s - mean[0] * mean[0] + h * h / 12; /* + the cell's own spread */
        cov[1] = cov[2] = m2[1] / s - mean[0] * mean[1];
        cov[3] = m2[2] / s - mean[1] * mean[1] + h * h / 12;
    }
    double lz = mx + log(s * h * h); /* log evidence by the cell-centre rule */
    *logpost = pk_dtf_gmm_logpdf(prior, theta) + pk_dtf_loglik(t, theta, obs, n) - lz;
    return PK_OK;
}
