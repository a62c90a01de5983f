/* acq.c — acquisition functions integrated over hyperparameter samples and
 * over Monte Carlo fantasies of pending evaluations (Snoek et al. 2012, sec. 3.2-3.3).
 *
 * For each hyperparameter sample the pending outcomes are drawn jointly from
 * the predictive of the completed data (noise included); the GP on
 * completed + pending inputs is factorised once and each fantasy only changes
 * the weight vector alpha, so F fantasies cost F triangular solves.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "bo_priv.h"

#define SQRT2 1.4142135623730951

double pk_bo_ei(double mu, double sigma, double best, double *dmu, double *dsigma)
{
    if (!(sigma > 1e-12)) {
        double imp = best - mu;
        if (dmu)
            *dmu = imp > 0 ? -1.0 : 0.0;
        if (dsigma)
            *dsigma = 0.0;
        return imp > 0 ? imp : 0.0;
    }
    double g = (best - mu) / sigma;
    double Phi = 0.5 * erfc(-g / SQRT2), phi = exp(-0.5 * g * g) / sqrt(2.0 * M_PI);
    if (dmu)
        *dmu = -Phi;
    if (dsigma)
        *dsigma = phi;
    double ei = sigma * (g * Phi + phi);
    return ei > 0 ? ei : 0.0;
}

double pk_bo_pi(double mu, double sigma, double best, double *dmu, double *dsigma)
{
    if (!(sigma > 1e-12)) {
        if (dmu)
            *dmu = 0;
        if (dsigma)
            *dsigma = 0;
        return mu < best ? 1.0 : 0.0;
    }
    double g = (best - mu) / sigma, phi = exp(-0.5 * g * g) / sqrt(2.0 * M_PI);
    if (dmu)
        *dmu = -phi / sigma;
    if (dsigma)
        *dsigma = -g * phi / sigma;
    return 0.5 * erfc(-g / SQRT2);
}

/* acquisition of N(mu, s^2) and its partial derivatives */
static double acq1(const pk_bo_model *m, double mu, double s, double *dmu, double *ds)
{
    switch (m->method) {
    case PK_BO_PI: return pk_bo_pi(mu, s, m->best, dmu, ds);
    case PK_BO_UCB:
        *dmu = -1.0;
        *ds = m->kappa;
        return -(mu - m->kappa * s);
    default: return pk_bo_ei(mu, s, m->best, dmu, ds);
    }
}

void pk_bo_model_free(pk_bo_model *m)
{
    if (!m)
        return;
    for (size_t s = 0; s < m->S; s++) {
        if (m->gps)
            pk_gp_free(m->gps[s]);
        if (m->alpha)
            pk_mat_free(m->alpha[s]);
    }
    free(m->gps);
    free(m->alpha);
    for (size_t s = 0; s < m->n_dur; s++)
        pk_gp_free(m->durs[s]);
    free(m->durs);
    memset(m, 0, sizeof *m);
}

/* One hyperparameter sample: GP on completed data, fantasies, augmented factor. */
static int build_one(pk_bo_model *m, size_t s, const pk_mat *Xc, const double *yc, const pk_mat *Xp,
                     const pk_gp_spearmint_state *st, pk_rng *rng)
{
    size_t n = Xc->rows, np = Xp ? Xp->rows : 0, d = m->dim, F = m->F;
    pk_gp *gp = pk_gp_new(pk_gp_kernel_new(PK_GP_KERNEL_MATERN52, d, 1, 0), PK_GP_MEAN_CONSTANT);
    if (!gp)
        return PK_ENOMEM;
    m->gps[s] = gp;
    int r = pk_gp_spearmint_apply(gp, st);
    if (!r)
        r = pk_gp_set_data(gp, Xc, yc, NULL);
    if (r)
        return r;
    pk_mat *A = pk_mat_new(n + np, F);
    if (!A)
        return PK_ENOMEM;
    m->alpha[s] = A;
    double mean = pk_gp_get_mean(gp);
    if (np == 0) {
        const double *al = pk_gp_alpha(gp);
        if (!al)
            return PK_ESING;
        for (size_t i = 0; i < n; i++)
            *pk_mat_at(A, i, 0) = al[i];
        return PK_OK;
    }
    /* joint predictive of the pending outcomes (noise included) */
    pk_mat *C = pk_mat_new(np, np), *Xa = pk_mat_new(n + np, d);
    double *mp = malloc((np + (n + np) + np) * sizeof *mp);
    if (!C || !Xa || !mp) {
        pk_mat_free(C);
        pk_mat_free(Xa);
        free(mp);
        return PK_ENOMEM;
    }
    double *ya = mp + np, *z = ya + n + np, jit;
    r = pk_gp_predict_cov(gp, Xp, mp, C);
    for (size_t i = 0; i < np && !r; i++)
        *pk_mat_at(C, i, i) += pk_gp_noise_var(gp);
    if (!r)
        r = pk_cholesky(C, 1e-10, 10, &jit);
    if (!r) {
        memcpy(Xa->data, Xc->data, n * d * sizeof(double));
        for (size_t i = 0; i < np; i++)
            memcpy(pk_mat_at(Xa, n + i, 0), pk_mat_at(Xp, i, 0), d * sizeof(double));
        memcpy(ya, yc, n * sizeof(double));
        memcpy(ya + n, mp, np * sizeof(double));
        r = pk_gp_set_data(gp, Xa, ya, NULL);
    }
    if (!r)
        r = pk_gp_update(gp);
    for (size_t f = 0; f < F && !r; f++) {
        for (size_t i = 0; i < n; i++)
            *pk_mat_at(A, i, f) = yc[i] - mean;
        for (size_t i = 0; i < np; i++)
            z[i] = pk_rng_normal(rng);
        for (size_t i = 0; i < np; i++) {
            double v = mp[i];
            for (size_t j = 0; j <= i; j++)
                v += *pk_mat_at(C, i, j) * z[j];
            *pk_mat_at(A, n + i, f) = v - mean;
        }
    }
    if (!r)
        r = pk_cholesky_solve(pk_gp_chol(gp), A);
    pk_mat_free(C);
    pk_mat_free(Xa);
    free(mp);
    return r;
}

int pk_bo_model_build(pk_bo_model *m, const pk_mat *Xc, const double *yc, const pk_mat *Xp,
                      const pk_gp_spearmint_state *states, size_t S, size_t F, pk_rng *rng)
{
    size_t np = Xp ? Xp->rows : 0;
    m->dim = Xc->cols;
    m->S = S;
    m->F = np ? F : 1;
    m->n_aug = Xc->rows + np;
    m->gps = calloc(S, sizeof *m->gps);
    m->alpha = calloc(S, sizeof *m->alpha);
    if (!m->gps || !m->alpha)
        return PK_ENOMEM;
    m->best = yc[0];
    for (size_t i = 1; i < Xc->rows; i++)
        if (yc[i] < m->best)
            m->best = yc[i];
    for (size_t s = 0; s < S; s++) {
        int r = build_one(m, s, Xc, yc, Xp, &states[s], rng);
        if (r)
            return r;
    }
    return PK_OK;
}

int pk_bo_model_eval(const pk_bo_model *m, const pk_mat *C, double *out)
{
    size_t nc = C->rows, na = m->n_aug, F = m->F;
    pk_mat *Kt = pk_mat_new(na, nc), *M = pk_mat_new(nc, F);
    double *var = malloc(nc * sizeof *var), *mdur = NULL;
    int r = (!Kt || !M || !var) ? PK_ENOMEM : PK_OK;
    if (!r && m->n_dur) {
        mdur = calloc(2 * nc, sizeof *mdur);
        r = mdur ? PK_OK : PK_ENOMEM;
        for (size_t s = 0; s < m->n_dur && !r; s++) {
            r = pk_gp_predict(m->durs[s], C, mdur + nc, NULL, 0);
            for (size_t j = 0; j < nc && !r; j++)
                mdur[j] += mdur[nc + j] / (double)m->n_dur;
        }
    }
    for (size_t j = 0; j < nc; j++)
        out[j] = 0.0;
    for (size_t s = 0; s < m->S && !r; s++) {
        pk_gp *gp = m->gps[s];
        const pk_gp_kernel *k = pk_gp_kernel_const(gp);
        const pk_mat *X = pk_gp_X(gp);
        for (size_t i = 0; i < na; i++)
            for (size_t j = 0; j < nc; j++)
                *pk_mat_at(Kt, i, j) = pk_gp_kernel_eval(k, pk_mat_at(X, i, 0), pk_mat_at(C, j, 0), NULL);
        r = pk_gemm(1, 0, 1.0, Kt, m->alpha[s], 0.0, M);
        if (!r)
            r = pk_trsm_lower(pk_gp_chol(gp), 0, Kt);
        if (r)
            break;
        for (size_t j = 0; j < nc; j++)
            var[j] = pk_gp_kernel_eval(k, pk_mat_at(C, j, 0), pk_mat_at(C, j, 0), NULL);
        for (size_t i = 0; i < na; i++)
            for (size_t j = 0; j < nc; j++)
                var[j] -= *pk_mat_at(Kt, i, j) * *pk_mat_at(Kt, i, j);
        double mean = pk_gp_get_mean(gp), w = 1.0 / (double)(m->S * F);
        for (size_t j = 0; j < nc; j++) {
            double sd = sqrt(var[j] > 1e-300 ? var[j] : 1e-300), dmu, dsd;
            for (size_t f = 0; f < F; f++)
                out[j] += w * acq1(m, mean + *pk_mat_at(M, j, f), sd, &dmu, &dsd);
        }
    }
    if (!r && mdur)
        for (size_t j = 0; j < nc; j++)
            out[j] /= exp(m->dur_mu + m->dur_sd * mdur[j]);
    pk_mat_free(Kt);
    pk_mat_free(M);
    free(var);
    free(mdur);
    return r;
}

int pk_bo_model_eval_grad(const pk_bo_model *m, const double *x, double *val, double *grad)
{
    size_t na = m->n_aug, d = m->dim, F = m->F;
    double *buf = malloc((2 * na + na * d + 3 * d) * sizeof *buf);
    if (!buf)
        return PK_ENOMEM;
    double *kv = buf, *v = kv + na, *dk = v + na, *dkxx = dk + na * d, *dmu = dkxx + d, *dsd = dmu + d;
    *val = 0.0;
    for (size_t j = 0; j < d; j++)
        grad[j] = 0.0;
    double w = 1.0 / (double)(m->S * F);
    for (size_t s = 0; s < m->S; s++) {
        pk_gp *gp = m->gps[s];
        const pk_gp_kernel *k = pk_gp_kernel_const(gp);
        const pk_mat *X = pk_gp_X(gp), *L = pk_gp_chol(gp);
        if (!L) {
            free(buf);
            return PK_ESING;
        }
        for (size_t i = 0; i < na; i++)
            kv[i] = pk_gp_kernel_eval_dx(k, x, pk_mat_at(X, i, 0), dk + i * d);
        double kxx = pk_gp_kernel_eval_dx(k, x, x, dkxx);
        memcpy(v, kv, na * sizeof *v);
        cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)na, L->data, (int)L->stride, v, 1);
        double var = kxx - cblas_ddot((int)na, v, 1, v, 1);
        if (var < 1e-300)
            var = 1e-300;
        double sd = sqrt(var);
        cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, (int)na, L->data, (int)L->stride, v, 1);
        /* d sd = d var / (2 sd), d var = 2 dkxx - 2 dk^T K^{-1} k */
        for (size_t j = 0; j < d; j++)
            dsd[j] = 2.0 * dkxx[j];
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)na, (int)d, -2.0, dk, (int)d, v, 1, 1.0, dsd, 1);
        for (size_t j = 0; j < d; j++)
            dsd[j] /= 2.0 * sd;
        double mean = pk_gp_get_mean(gp);
        for (size_t f = 0; f < F; f++) {
            double mu = mean, am, as;
            for (size_t i = 0; i < na; i++)
                mu += kv[i] * *pk_mat_at(m->alpha[s], i, f);
            for (size_t j = 0; j < d; j++)
                dmu[j] = 0.0;
            for (size_t i = 0; i < na; i++) {
                double a = *pk_mat_at(m->alpha[s], i, f);
                for (size_t j = 0; j < d; j++)
                    dmu[j] += a * dk[i * d + j];
            }
            *val += w * acq1(m, mu, sd, &am, &as);
            for (size_t j = 0; j < d; j++)
                grad[j] += w * (am * dmu[j] + as * dsd[j]);
        }
    }
    free(buf);
    if (m->n_dur) {
        double dm = 0, g[64] = {0}, dms, dv, gdm[64], gdv[64];
        for (size_t s = 0; s < m->n_dur; s++) {
            int r = pk_gp_predict_dx(m->durs[s], x, &dms, &dv, gdm, gdv);
            if (r)
                return r;
            dm += dms / (double)m->n_dur;
            for (size_t j = 0; j < d; j++)
                g[j] += gdm[j] / (double)m->n_dur;
        }
        double c = exp(-(m->dur_mu + m->dur_sd * dm));
        for (size_t j = 0; j < d; j++)
            grad[j] = c * (grad[j] - *val * m->dur_sd * g[j]);
        *val *= c;
    }
    return PK_OK;
}
