/* Factor analysis by EM and probabilistic PCA in closed form. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/latent.h"

#define LOG_2PI 1.8378770664093454836

pk_fa_params pk_fa_params_default(size_t r)
{
    pk_fa_params p;
    p.r = r;
    p.max_iter = 1000;
    p.tol = 1e-8;
    p.psi_floor = 1e-6;
    return p;
}

void pk_fa_free(pk_fa *m)
{
    if (!m)
        return;
    free(m->mean);
    free(m->W);
    free(m->psi);
    free(m);
}

static pk_fa *fa_alloc(size_t d, size_t r)
{
    pk_fa *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->d = d;
    m->r = r;
    m->mean = malloc(d * sizeof(double));
    m->W = malloc(d * r * sizeof(double));
    m->psi = malloc(d * sizeof(double));
    if (!m->mean || !m->W || !m->psi) {
        pk_fa_free(m);
        return NULL;
    }
    return m;
}

int pk_fa_from_params(size_t d, size_t r, const double *mean, const double *W, const double *psi, pk_fa **out)
{
    if (!out || !W || !psi || d == 0 || r == 0)
        return PK_EINVAL;
    for (size_t j = 0; j < d; j++)
        if (!(psi[j] > 0))
            return PK_EINVAL;
    pk_fa *m = fa_alloc(d, r);
    if (!m)
        return PK_ENOMEM;
    if (mean)
        memcpy(m->mean, mean, d * sizeof(double));
    else
        memset(m->mean, 0, d * sizeof(double));
    memcpy(m->W, W, d * r * sizeof(double));
    memcpy(m->psi, psi, d * sizeof(double));
    m->loglik = NAN;
    *out = m;
    return PK_OK;
}

/* Mean, centred copy and ML covariance S = Xc'Xc / n (d x d). */
static int moments(const pk_mat *X, double *mean, double *S, pk_err *err)
{
    size_t n = X->rows, d = X->cols;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            if (!isfinite(*pk_mat_at(X, i, j)))
                return pk_err_set(err, PK_EDOM, "fa: row %zu, column %zu is not finite", i + 1, j + 1);
    double *Xc = malloc(n * d * sizeof(double));
    if (!Xc)
        return pk_err_set(err, PK_ENOMEM, "fa: out of memory");
    for (size_t j = 0; j < d; j++) {
        double m = 0;
        for (size_t i = 0; i < n; i++)
            m += *pk_mat_at(X, i, j);
        mean[j] = m / (double)n;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            Xc[i * d + j] = *pk_mat_at(X, i, j) - mean[j];
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (int)d, (int)n, 1.0 / (double)n, Xc, (int)d, 0.0, S, (int)d);
    for (size_t a = 0; a < d; a++)
        for (size_t b = a + 1; b < d; b++)
            S[a * d + b] = S[b * d + a];
    free(Xc);
    return PK_OK;
}

/* G = (I + W' Psi^-1 W)^-1 (r x r) and log det(W W' + Psi). */
static int fa_core(const double *W, const double *psi, size_t d, size_t r, double *G, double *logdetC)
{
    pk_mat Gm = pk_mat_view(G, r, r);
    for (size_t a = 0; a < r; a++)
        for (size_t b = 0; b < r; b++) {
            double s = a == b ? 1.0 : 0.0;
            for (size_t j = 0; j < d; j++)
                s += W[j * r + a] * W[j * r + b] / psi[j];
            G[a * r + b] = s;
        }
    double *L = malloc(r * r * sizeof(double));
    if (!L)
        return PK_ENOMEM;
    memcpy(L, G, r * r * sizeof(double));
    pk_mat Lm = pk_mat_view(L, r, r);
    int st = pk_cholesky(&Lm, 0, 0, NULL);
    if (!st) {
        double ld = pk_cholesky_logdet(&Lm);
        for (size_t j = 0; j < d; j++)
            ld += log(psi[j]);
        *logdetC = ld;
        st = pk_cholesky_inverse(&Lm, &Gm);
    }
    free(L);
    return st;
}

/* Mean log-likelihood from the ML covariance S: -1/2 [d log 2pi + log|C| + tr(C^-1 S)]. */
static double fa_loglik_S(const double *W, const double *psi, const double *G, double logdetC, const double *S,
                          size_t d, size_t r, double *tmp /* d x r */)
{
    /* tr(C^-1 S) = sum S_jj / psi_j - tr(G V' S V), V = Psi^-1 W */
    double t = 0;
    for (size_t j = 0; j < d; j++)
        t += S[j * d + j] / psi[j];
    double *V = tmp, *SV = tmp + d * r;
    for (size_t j = 0; j < d; j++)
        for (size_t a = 0; a < r; a++)
            V[j * r + a] = W[j * r + a] / psi[j];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)d, (int)r, (int)d, 1.0, S, (int)d, V, (int)r, 0.0, SV,
                (int)r);
    for (size_t a = 0; a < r; a++)
        for (size_t b = 0; b < r; b++) {
            double m = 0;
            for (size_t j = 0; j < d; j++)
                m += V[j * r + a] * SV[j * r + b];
            t -= G[b * r + a] * m;
        }
    return -0.5 * ((double)d * LOG_2PI + logdetC + t);
}

static int ppca_from_S(const double *S, size_t d, size_t r, double floor_abs, double *W, double *psi)
{
    double *E = malloc(d * d * sizeof(double)), *w = malloc(d * sizeof(double));
    if (!E || !w) {
        free(E);
        free(w);
        return PK_ENOMEM;
    }
    memcpy(E, S, d * d * sizeof(double));
    pk_mat Em = pk_mat_view(E, d, d);
    int st = pk_syev(&Em, w); /* ascending */
    if (!st) {
        double s2 = 0;
        for (size_t j = 0; j < d - r; j++)
            s2 += w[j] > 0 ? w[j] : 0;
        s2 /= (double)(d - r);
        if (s2 < floor_abs)
            s2 = floor_abs;
        for (size_t a = 0; a < r; a++) {
            size_t c = d - 1 - a;
            double sc = w[c] > s2 ? sqrt(w[c] - s2) : 0;
            for (size_t j = 0; j < d; j++)
                W[j * r + a] = E[j * d + c] * sc;
        }
        for (size_t j = 0; j < d; j++)
            psi[j] = s2;
    }
    free(E);
    free(w);
    return st;
}

static int fit_common(const pk_mat *X, size_t r, pk_fa **out, double **Sout, pk_err *err)
{
    size_t n = X->rows, d = X->cols;
    if (r < 1 || r >= d)
        return pk_err_set(err, PK_EINVAL, "fa: need 1 <= r < d (r = %zu, d = %zu)", r, d);
    if (n < 2)
        return pk_err_set(err, PK_EINVAL, "fa: need at least 2 rows (got %zu)", n);
    pk_fa *m = fa_alloc(d, r);
    double *S = malloc(d * d * sizeof(double));
    if (!m || !S) {
        pk_fa_free(m);
        free(S);
        return pk_err_set(err, PK_ENOMEM, "fa: out of memory (d = %zu)", d);
    }
    int st = moments(X, m->mean, S, err);
    if (st) {
        pk_fa_free(m);
        free(S);
        return st;
    }
    *out = m;
    *Sout = S;
    return PK_OK;
}

static double mean_diag(const double *S, size_t d)
{
    double t = 0;
    for (size_t j = 0; j < d; j++)
        t += S[j * d + j];
    return t / (double)d > 0 ? t / (double)d : 1.0;
}

int pk_ppca_fit(const pk_mat *X, size_t r, pk_fa **out, pk_err *err)
{
    if (!X || !out)
        return pk_err_set(err, PK_EINVAL, "ppca: NULL argument");
    *out = NULL;
    pk_fa *m = NULL;
    double *S = NULL;
    int st = fit_common(X, r, &m, &S, err);
    if (st)
        return st;
    size_t d = m->d;
    double *G = malloc(r * r * sizeof(double)), *tmp = malloc(2 * d * r * sizeof(double)), ld = 0;
    st = (!G || !tmp) ? PK_ENOMEM : ppca_from_S(S, d, r, 1e-12 * mean_diag(S, d), m->W, m->psi);
    if (!st)
        st = fa_core(m->W, m->psi, d, r, G, &ld);
    if (!st) {
        m->loglik = fa_loglik_S(m->W, m->psi, G, ld, S, d, r, tmp);
        m->converged = 1;
        *out = m;
        m = NULL;
    } else {
        pk_err_set(err, st, "ppca: eigendecomposition failed (%s)", pk_strerror(st));
    }
    pk_fa_free(m);
    free(S);
    free(G);
    free(tmp);
    return st;
}

int pk_fa_fit(const pk_mat *X, const pk_fa_params *p, pk_fa **out, pk_err *err)
{
    if (!X || !p || !out)
        return pk_err_set(err, PK_EINVAL, "fa: NULL argument");
    *out = NULL;
    if (p->max_iter < 1 || !(p->tol >= 0) || !(p->psi_floor >= 0))
        return pk_err_set(err, PK_EINVAL, "fa: max_iter >= 1, tol >= 0, psi_floor >= 0 required");
    pk_fa *m = NULL;
    double *S = NULL;
    int st = fit_common(X, p->r, &m, &S, err);
    if (st)
        return st;
    size_t d = m->d, r = p->r;
    double *G = malloc(r * r * sizeof(double)), *tmp = malloc(2 * d * r * sizeof(double));
    double *Bt = malloc(d * r * sizeof(double)), *SB = malloc(d * r * sizeof(double));
    double *M = malloc(r * r * sizeof(double)), *floor = malloc(d * sizeof(double));
    if (!G || !tmp || !Bt || !SB || !M || !floor) {
        st = pk_err_set(err, PK_ENOMEM, "fa: out of memory");
        goto done;
    }
    for (size_t j = 0; j < d; j++)
        floor[j] = p->psi_floor * (S[j * d + j] > 0 ? S[j * d + j] : mean_diag(S, d));
    st = ppca_from_S(S, d, r, 1e-12 * mean_diag(S, d), m->W, m->psi);
    if (st) {
        pk_err_set(err, st, "fa: PPCA start failed");
        goto done;
    }
    for (size_t j = 0; j < d; j++)
        if (m->psi[j] < floor[j])
            m->psi[j] = floor[j] > 0 ? floor[j] : 1e-12;
    double prev = -INFINITY, ll = -INFINITY, ld = 0;
    m->converged = 0;
    int it;
    for (it = 1; it <= p->max_iter; it++) {
        st = fa_core(m->W, m->psi, d, r, G, &ld);
        if (st) {
            pk_err_set(err, PK_ESING, "fa: I + W' Psi^-1 W is not positive definite at iteration %d", it);
            goto done;
        }
        ll = fa_loglik_S(m->W, m->psi, G, ld, S, d, r, tmp);
        if (ll - prev < p->tol && it > 1) {
            m->converged = 1;
            break;
        }
        prev = ll;
        /* E-step: beta' = Psi^-1 W G (d x r); M = G + beta S beta' */
        for (size_t j = 0; j < d; j++)
            for (size_t a = 0; a < r; a++) {
                double s = 0;
                for (size_t b = 0; b < r; b++)
                    s += m->W[j * r + b] / m->psi[j] * G[b * r + a];
                Bt[j * r + a] = s;
            }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)d, (int)r, (int)d, 1.0, S, (int)d, Bt, (int)r,
                    0.0, SB, (int)r);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)r, (int)r, (int)d, 1.0, Bt, (int)r, SB, (int)r, 0.0,
                    M, (int)r);
        for (size_t i = 0; i < r * r; i++)
            M[i] += G[i];
        /* M-step: W = S beta' M^-1; psi = diag(S - W beta S) = S_jj - sum_a W_ja (S beta')_ja */
        pk_mat Mm = pk_mat_view(M, r, r);
        if (pk_cholesky(&Mm, 0, 0, NULL) != PK_OK) {
            st = pk_err_set(err, PK_ESING, "fa: E[z z'] is singular at iteration %d", it);
            goto done;
        }
        memcpy(m->W, SB, d * r * sizeof(double));
        /* W M = SB  <=>  M W' = SB'  (M symmetric): solve on the transposed rows */
        cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, (int)d, (int)r, 1.0, M, (int)r,
                    m->W, (int)r);
        cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, (int)d, (int)r, 1.0, M,
                    (int)r, m->W, (int)r);
        for (size_t j = 0; j < d; j++) {
            double s = S[j * d + j];
            for (size_t a = 0; a < r; a++)
                s -= m->W[j * r + a] * SB[j * r + a];
            m->psi[j] = s > floor[j] ? s : (floor[j] > 0 ? floor[j] : 1e-12);
        }
    }
    m->n_iter = it > p->max_iter ? p->max_iter : it;
    m->loglik = ll;
    *out = m;
    m = NULL;
    st = PK_OK;
done:
    pk_fa_free(m);
    free(S);
    free(G);
    free(tmp);
    free(Bt);
    free(SB);
    free(M);
    free(floor);
    return st;
}

int pk_fa_transform(const pk_fa *m, const pk_mat *X, double *Z)
{
    if (!m || !X || !Z)
        return PK_EINVAL;
    if (X->cols != m->d)
        return PK_ESHAPE;
    size_t d = m->d, r = m->r;
    double *G = malloc(r * r * sizeof(double)), *u = malloc(r * sizeof(double)), ld;
    int st = (!G || !u) ? PK_ENOMEM : fa_core(m->W, m->psi, d, r, G, &ld);
    for (size_t i = 0; !st && i < X->rows; i++) {
        const double *x = pk_mat_at(X, i, 0);
        for (size_t a = 0; a < r; a++) {
            double s = 0;
            for (size_t j = 0; j < d; j++)
                s += m->W[j * r + a] * (x[j] - m->mean[j]) / m->psi[j];
            u[a] = s;
        }
        for (size_t a = 0; a < r; a++) {
            double s = 0;
            for (size_t b = 0; b < r; b++)
                s += G[a * r + b] * u[b];
            Z[i * r + a] = s;
        }
    }
    free(G);
    free(u);
    return st;
}

int pk_fa_score(const pk_fa *m, const pk_mat *X, double *mean_loglik)
{
    if (!m || !X || !mean_loglik)
        return PK_EINVAL;
    if (X->cols != m->d)
        return PK_ESHAPE;
    size_t d = m->d, r = m->r, n = X->rows;
    double *G = malloc(r * r * sizeof(double)), *u = malloc(r * sizeof(double)), ld;
    int st = (!G || !u) ? PK_ENOMEM : fa_core(m->W, m->psi, d, r, G, &ld);
    double tot = 0;
    for (size_t i = 0; !st && i < n; i++) {
        const double *x = pk_mat_at(X, i, 0);
        double q = 0;
        for (size_t j = 0; j < d; j++) {
            double e = x[j] - m->mean[j];
            q += e * e / m->psi[j];
        }
        for (size_t a = 0; a < r; a++) {
            double s = 0;
            for (size_t j = 0; j < d; j++)
                s += m->W[j * r + a] * (x[j] - m->mean[j]) / m->psi[j];
            u[a] = s;
        }
        for (size_t a = 0; a < r; a++)
            for (size_t b = 0; b < r; b++)
                q -= u[a] * G[a * r + b] * u[b];
        tot += -0.5 * ((double)d * LOG_2PI + ld + q);
    }
    if (!st)
        *mean_loglik = n ? tot / (double)n : 0;
    free(G);
    free(u);
    return st;
}

int pk_fa_covariance(const pk_fa *m, double *C)
{
    if (!m || !C)
        return PK_EINVAL;
    size_t d = m->d, r = m->r;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)d, (int)d, (int)r, 1.0, m->W, (int)r, m->W, (int)r, 0.0,
                C, (int)d);
    for (size_t j = 0; j < d; j++)
        C[j * d + j] += m->psi[j];
    return PK_OK;
}
