/* GAMP-RIE: approximate message passing on the d x d matrix S with the
 * rotationally invariant (eigenvalue-shrinkage) denoiser, without forming the
 * n x d^2 design: <Z_mu, S> = (x^T S x - Tr S)/sqrt(d) and sum_mu c_mu Z_mu =
 * (X^T diag(c) X - (sum c) I)/sqrt(d) are two n x d x d products. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>

#include "probkit/linalg.h"
#include "probkit/theory.h"

void pk_gamp_problem_free(pk_gamp_problem *p)
{
    if (!p)
        return;
    pk_mat_free(p->X);
    pk_mat_free(p->S);
    free(p->y);
    free(p);
}

/* GOE sample mu regenerated from its own seed: off-diagonal N(0, 1/d), diagonal N(0, 2/d) */
static void goe_sample(uint64_t seed, size_t mu, size_t d, double *Z)
{
    pk_rng r;
    pk_rng_seed(&r, seed ^ (0x9E3779B97F4A7C15ull * ((uint64_t)mu + 1)));
    double s = 1 / sqrt((double)d);
    for (size_t i = 0; i < d; i++) {
        Z[i * d + i] = sqrt(2.0) * s * pk_rng_normal(&r);
        for (size_t j = 0; j < i; j++)
            Z[i * d + j] = Z[j * d + i] = s * pk_rng_normal(&r);
    }
}

int pk_gamp_problem_new(size_t d, size_t m, size_t n, double noise, pk_gamp_design design, pk_rng *rng,
                        pk_gamp_problem **out)
{
    if (!out || !rng || d < 2 || m < 1 || n < 1 || !(noise >= 0) || (design != PK_GAMP_RANK1 && design != PK_GAMP_GOE))
        return PK_EINVAL;
    *out = NULL;
    pk_gamp_problem *p = calloc(1, sizeof *p);
    pk_mat *W = pk_mat_new(m, d);
    int st = PK_ENOMEM;
    if (!p || !W)
        goto fail;
    p->d = d, p->m = m, p->n = n, p->noise = noise, p->design = design;
    p->X = design == PK_GAMP_RANK1 ? pk_mat_new(n, d) : NULL;
    p->S = pk_mat_new(d, d);
    p->y = malloc(n * sizeof *p->y);
    if ((design == PK_GAMP_RANK1 && !p->X) || !p->S || !p->y)
        goto fail;
    for (size_t i = 0; i < m * d; i++)
        W->data[i] = pk_rng_normal(rng);
    if ((st = pk_gemm(1, 0, 1.0 / sqrt((double)m * (double)d), W, W, 0.0, p->S)))
        goto fail;
    if (design == PK_GAMP_GOE) {
        p->seed = pk_rng_u64(rng);
        double *Z = malloc(d * d * sizeof *Z);
        if (!Z) {
            st = PK_ENOMEM;
            goto fail;
        }
        for (size_t mu = 0; mu < n; mu++) {
            goe_sample(p->seed, mu, d, Z);
            p->y[mu] = pk_dot(Z, p->S->data, d * d) + sqrt(noise) * pk_rng_normal(rng);
        }
        free(Z);
        pk_mat_free(W);
        *out = p;
        return PK_OK;
    }
    for (size_t i = 0; i < n * d; i++)
        p->X->data[i] = pk_rng_normal(rng);
    double tr = 0, sd = sqrt((double)d);
    for (size_t i = 0; i < d; i++)
        tr += *pk_mat_at(p->S, i, i);
    double *v = malloc(d * sizeof *v);
    if (!v) {
        st = PK_ENOMEM;
        goto fail;
    }
    for (size_t mu = 0; mu < n; mu++) {
        const double *x = pk_mat_at(p->X, mu, 0);
        pk_gemv(0, 1.0, p->S, x, 0.0, v);
        p->y[mu] = (pk_dot(x, v, d) - tr) / sd + sqrt(noise) * pk_rng_normal(rng);
    }
    free(v);
    pk_mat_free(W);
    *out = p;
    return PK_OK;
fail:
    pk_mat_free(W);
    pk_gamp_problem_free(p);
    return st;
}

typedef struct hpar {
    double kappa, D, lam;
} hpar;

static double hilbert_integrand(double t, void *vp)
{
    const hpar *h = vp;
    return pk_gamp_density(t, h->kappa, h->D) / (h->lam - t);
}

/* Re g_Y(lam): the complex root's real part inside the support; outside it the
 * integral of rho / (lam - t), which is then regular. */
static int re_stieltjes(double lam, double kappa, double D, gsl_integration_workspace *ws, double *out)
{
    double re[3], im[3];
    int st = pk_gamp_cubic_roots(lam, kappa, D, re, im);
    if (st)
        return st;
    for (int i = 0; i < 3; i++)
        if (fabs(im[i]) > 1e-10) {
            *out = re[i];
            return PK_OK;
        }
    double sk = sqrt(kappa), w = 2 * sqrt(D);
    double a = fmin(0.0, (1 - sk) * (1 - sk) / sk) - 1.3 * w - 1e-3, b = (1 + sk) * (1 + sk) / sk + 1.3 * w + 1e-3;
    hpar h = {kappa, D, lam};
    gsl_function f = {hilbert_integrand, &h};
    double pts[3] = {a, lam, b}, res, err;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int g;
    if (lam <= a || lam >= b)
        g = gsl_integration_qags(&f, a, b, 1e-10, 1e-7, 1000, ws, &res, &err);
    else {
        /* lam sits in a gap of the support: integrate on both sides of it */
        double r1, r2, e1, e2;
        g = gsl_integration_qags(&f, pts[0], pts[1] - 1e-9, 1e-10, 1e-7, 1000, ws, &r1, &e1);
        if (!g || g == GSL_EROUND)
            g = gsl_integration_qags(&f, pts[1] + 1e-9, pts[2], 1e-10, 1e-7, 1000, ws, &r2, &e2);
        res = r1 + r2;
    }
    gsl_set_error_handler(old);
    if (g && g != GSL_EROUND)
        return PK_EMAXITER;
    *out = res;
    return PK_OK;
}

/* the shrinkage f(lam) = lam - 2 D Re g_Y(lam) */
static int shrink(double lam, double kappa, double D, gsl_integration_workspace *ws, double *f)
{
    double h;
    int st = re_stieltjes(lam, kappa, D, ws, &h);
    *f = lam - 2 * D * h;
    return st;
}

int pk_gamp_rie(const pk_gamp_problem *p, size_t iters, double damping, pk_mat *S_hat, double *mse_trace)
{
    if (!p || !S_hat || S_hat->rows != p->d || S_hat->cols != p->d || !(damping >= 0 && damping < 1) || iters == 0)
        return PK_EINVAL;
    size_t d = p->d, n = p->n;
    double kappa = (double)p->m / (double)d, alpha = (double)n / ((double)d * (double)d), sd = sqrt((double)d);
    int rank1 = p->design == PK_GAMP_RANK1;
    pk_mat *P = rank1 ? pk_mat_new(n, d) : NULL, *Xc = rank1 ? pk_mat_new(n, d) : NULL;
    pk_mat *R = pk_mat_new(d, d), *U = pk_mat_new(d, d), *T = pk_mat_new(d, d), *Snew = pk_mat_new(d, d), *B = pk_mat_new(d, d);
    double *gprev = calloc(n, sizeof *gprev), *s = malloc(d * sizeof *s), *f = malloc(d * sizeof *f),
           *fp = malloc(d * sizeof *fp), *Z = rank1 ? NULL : malloc(d * d * sizeof *Z);
    gsl_integration_workspace *ws = gsl_integration_workspace_alloc(1000);
    int st = PK_ENOMEM;
    if ((rank1 && (!P || !Xc)) || (!rank1 && !Z) || !R || !U || !T || !Snew || !B || !gprev || !s || !f || !fp || !ws)
        goto done;
    pk_mat_set_zero(S_hat);
    for (size_t i = 0; i < d; i++)
        *pk_mat_at(S_hat, i, i) = sqrt(kappa); /* prior mean */
    double vhat = 1.0;                         /* prior variance per spectral unit */
    /* The iterate with the smallest training residual mean (y - <Z, S_hat>)^2 is
     * kept: at finite d the iteration can turn unstable once D is tiny (near
     * perfect recovery).  The residual of S_hat^t is known during pass t. */
    double best = INFINITY, best_err = NAN, e_prev = 0;
    for (size_t i = 0; i < d * d; i++)
        e_prev += (S_hat->data[i] - p->S->data[i]) * (S_hat->data[i] - p->S->data[i]);
    e_prev /= (double)d;
    size_t t = 0;
    for (; t < iters; t++) {
        double V = 2 * vhat, D = (p->noise + V) / (4 * alpha), c0 = 2 * D / (double)d;
        /* one pass over the samples: omega_mu, g_mu, and R = S_hat + (2D/d) sum_mu g_mu Z_mu */
        if ((st = pk_mat_copy(R, S_hat)))
            goto done;
        double resid = 0;
        if (rank1) {
            double tr = 0, csum = 0;
            for (size_t i = 0; i < d; i++)
                tr += *pk_mat_at(S_hat, i, i);
            if ((st = pk_gemm(0, 0, 1.0, p->X, S_hat, 0.0, P)))
                goto done;
            for (size_t mu = 0; mu < n; mu++) {
                const double *x = pk_mat_at(p->X, mu, 0);
                double zs = (pk_dot(x, pk_mat_at(P, mu, 0), d) - tr) / sd, omega = zs - V * gprev[mu];
                resid += (p->y[mu] - zs) * (p->y[mu] - zs);
                gprev[mu] = (p->y[mu] - omega) / (p->noise + V);
                double c = c0 * gprev[mu] / sd;
                csum += c;
                double *xc = pk_mat_at(Xc, mu, 0);
                for (size_t j = 0; j < d; j++)
                    xc[j] = c * x[j];
            }
            if ((st = pk_gemm(1, 0, 1.0, p->X, Xc, 1.0, R)))
                goto done;
            for (size_t i = 0; i < d; i++)
                *pk_mat_at(R, i, i) -= csum;
        } else {
            for (size_t mu = 0; mu < n; mu++) {
                goe_sample(p->seed, mu, d, Z);
                double zs = pk_dot(Z, S_hat->data, d * d), omega = zs - V * gprev[mu];
                resid += (p->y[mu] - zs) * (p->y[mu] - zs);
                gprev[mu] = (p->y[mu] - omega) / (p->noise + V);
                double c = c0 * gprev[mu];
                for (size_t i = 0; i < d * d; i++)
                    R->data[i] += c * Z[i];
            }
        }
        resid /= (double)n;
        if (resid < best) {
            best = resid;
            best_err = e_prev;
            if ((st = pk_mat_copy(B, S_hat)))
                goto done;
        } else if (resid > 10 * best || !isfinite(resid))
            break;
        /* RIE: eigenvalue lam -> lam - 2 D Re g_Y(lam); the variance fed back is
         * D times the mean divided difference of the shrinkage (its divergence) */
        if ((st = pk_mat_copy(U, R)) || (st = pk_syev(U, s)))
            goto done;
        for (size_t i = 0; i < d; i++) {
            double fa, fb, e = 1e-5 * fmax(1.0, fabs(s[i]));
            if ((st = shrink(s[i], kappa, D, ws, &f[i])) || (st = shrink(s[i] + e, kappa, D, ws, &fa)) ||
                (st = shrink(s[i] - e, kappa, D, ws, &fb)))
                goto done;
            fp[i] = (fa - fb) / (2 * e);
        }
        double dd = 0;
        for (size_t a = 0; a < d; a++)
            for (size_t b = 0; b < d; b++)
                dd += fabs(s[a] - s[b]) > 1e-9 ? (f[a] - f[b]) / (s[a] - s[b]) : 0.5 * (fp[a] + fp[b]);
        vhat = D * dd / ((double)d * (double)d);
        for (size_t i = 0; i < d; i++)
            for (size_t j = 0; j < d; j++)
                *pk_mat_at(T, i, j) = *pk_mat_at(U, i, j) * f[j];
        if ((st = pk_gemm(0, 1, 1.0, T, U, 0.0, Snew)))
            goto done;
        for (size_t i = 0; i < d * d; i++)
            S_hat->data[i] = damping * S_hat->data[i] + (1 - damping) * Snew->data[i];
        double e = 0;
        for (size_t i = 0; i < d * d; i++)
            e += (S_hat->data[i] - p->S->data[i]) * (S_hat->data[i] - p->S->data[i]);
        e_prev = e / (double)d;
        if (mse_trace)
            mse_trace[t] = e_prev;
    }
    if (t < iters) {
        /* stopped on a growing residual: return the best-scoring iterate */
        if ((st = pk_mat_copy(S_hat, B)))
            goto done;
        for (size_t k = t; mse_trace && k < iters; k++)
            mse_trace[k] = best_err;
    }
    st = PK_OK;
done:
    pk_mat_free(P), pk_mat_free(Xc), pk_mat_free(R), pk_mat_free(U), pk_mat_free(T), pk_mat_free(Snew), pk_mat_free(B);
    free(gprev), free(s), free(f), free(fp), free(Z);
    if (ws)
        gsl_integration_workspace_free(ws);
    return st;
}
