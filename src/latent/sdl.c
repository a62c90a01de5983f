/* Supervised dictionary learning with auxiliary covariates (Lee, Lyu, Yao): the filter model
 *     logit_i = beta' W' x_i + gamma' z_i + b,   X' ~ W H,
 * fitted either lifted (LPGD: gradient steps on A = W beta (d x 1) and B = W H (d x n), then
 * projection of [A, B] onto rank <= r) or factored (BCD over H, (beta, gamma, b), W). */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/latent.h"

pk_sdl_params pk_sdl_params_default(size_t r, double xi)
{
    pk_sdl_params p;
    p.r = r;
    p.xi = xi;
    p.nu = 0;
    p.step = 0;
    p.max_iter = 200;
    p.algo = PK_SDL_LPGD;
    return p;
}

void pk_sdl_free(pk_sdl *m)
{
    if (!m)
        return;
    free(m->W);
    free(m->a);
    free(m->gamma);
    free(m->objective);
    free(m);
}

/* Best rank-r approximation of M (rows x cols, in place) by a randomised range finder with
 * power iterations (Halko-Martinsson-Tropp); Q (rows x k) returns an orthonormal basis whose
 * first r columns span the result.  Exact when rank(M) <= k. */
static int lowrank_project(double *M, size_t rows, size_t cols, size_t r, pk_rng *rng, double *Ur)
{
    size_t k = r + 8 < cols ? r + 8 : cols;
    if (k > rows)
        k = rows;
    double *Om = malloc(cols * k * sizeof(double)), *Q = malloc(rows * k * sizeof(double));
    double *T = malloc(cols * k * sizeof(double)), *tau = malloc(k * sizeof(double));
    double *Bm = malloc(k * cols * sizeof(double)), *s = malloc(k * sizeof(double));
    double *U = malloc(k * k * sizeof(double)), *Vt = malloc(k * cols * sizeof(double));
    double *QU = malloc(rows * r * sizeof(double));
    int st = PK_OK;
    if (!Om || !Q || !T || !tau || !Bm || !s || !U || !Vt || !QU) {
        st = PK_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < cols * k; i++)
        Om[i] = pk_rng_normal(rng);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)k, (int)cols, 1.0, M, (int)cols, Om,
                (int)k, 0.0, Q, (int)k);
    for (int q = 0; q <= 4; q++) {
        if (LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (int)rows, (int)k, Q, (int)k, tau) ||
            LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (int)rows, (int)k, (int)k, Q, (int)k, tau)) {
            st = PK_EINTERNAL;
            goto done;
        }
        if (q == 4)
            break;
        /* Q <- M M' Q, re-orthonormalised next round */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)cols, (int)k, (int)rows, 1.0, M, (int)cols, Q,
                    (int)k, 0.0, T, (int)k);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)k, (int)cols, 1.0, M, (int)cols, T,
                    (int)k, 0.0, Q, (int)k);
    }
    /* Bm = Q' M (k x cols) = U s Vt; result = (Q U_r) s_r Vt_r */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, (int)cols, (int)rows, 1.0, Q, (int)k, M, (int)cols,
                0.0, Bm, (int)cols);
    {
        pk_mat Bmm = pk_mat_view(Bm, k, cols), Um = pk_mat_view(U, k, k), Vm = pk_mat_view(Vt, k, cols);
        st = pk_svd(&Bmm, &Um, s, &Vm);
        if (st)
            goto done;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)r, (int)k, 1.0, Q, (int)k, U, (int)k, 0.0,
                QU, (int)r);
    for (size_t j = 0; j < r; j++)
        for (size_t c = 0; c < cols; c++)
            Vt[j * cols + c] *= s[j];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)cols, (int)r, 1.0, QU, (int)r, Vt,
                (int)cols, 0.0, M, (int)cols);
    if (Ur)
        memcpy(Ur, QU, rows * r * sizeof(double));
done:
    free(Om);
    free(Q);
    free(T);
    free(tau);
    free(Bm);
    free(s);
    free(U);
    free(Vt);
    free(QU);
    return st;
}

/* Spectral norm squared of X (n x d) by power iteration. */
static double spec2(const pk_mat *X, pk_rng *rng)
{
    size_t n = X->rows, d = X->cols;
    double *v = malloc(d * sizeof(double)), *u = malloc(n * sizeof(double)), lam = 0;
    if (!v || !u) {
        free(v);
        free(u);
        return NAN;
    }
    for (size_t j = 0; j < d; j++)
        v[j] = pk_rng_normal(rng);
    for (int it = 0; it < 50; it++) {
        double nv = pk_nrm2(v, d);
        for (size_t j = 0; j < d; j++)
            v[j] /= nv;
        pk_gemv(0, 1.0, X, v, 0.0, u);
        pk_gemv(1, 1.0, X, u, 0.0, v);
        lam = pk_nrm2(v, d);
    }
    free(v);
    free(u);
    return lam;
}

/* logits s_i = a'x_i + gamma'z_i + b; returns sum of log-losses; resid_i = p_i - y_i. */
static double logit_pass(const pk_mat *X, const pk_mat *Zx, const int32_t *y, const double *a, const double *gam,
                         double b, double *resid)
{
    size_t n = X->rows, d = X->cols, q = Zx ? Zx->cols : 0;
    double f = 0;
    for (size_t i = 0; i < n; i++) {
        double t = b + pk_dot(pk_mat_at(X, i, 0), a, d);
        for (size_t j = 0; j < q; j++)
            t += gam[j] * *pk_mat_at(Zx, i, j);
        f += pk_log1pexp(t) - (y[i] ? t : 0);
        resid[i] = 1 / (1 + exp(-t)) - y[i];
    }
    return f;
}

static pk_sdl *sdl_alloc(size_t d, size_t q, size_t r, int iters)
{
    pk_sdl *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->d = d;
    m->q = q;
    m->r = r;
    m->W = calloc(d * r, sizeof(double));
    m->a = calloc(d, sizeof(double));
    m->gamma = calloc(q ? q : 1, sizeof(double));
    m->objective = calloc((size_t)iters, sizeof(double));
    if (!m->W || !m->a || !m->gamma || !m->objective) {
        pk_sdl_free(m);
        return NULL;
    }
    return m;
}

static int fit_lpgd(const pk_mat *X, const pk_mat *Zx, const int32_t *y, const pk_sdl_params *p, pk_rng *rng,
                    pk_sdl *m)
{
    size_t n = X->rows, d = X->cols, q = Zx ? Zx->cols : 0, r = p->r, C = n + 1;
    /* M = [A, B] (d x (1 + n)), starts at 0 */
    double *M = calloc(d * C, sizeof(double)), *res = malloc(n * sizeof(double)), *ga = malloc(d * sizeof(double));
    double *gg = calloc(q ? q : 1, sizeof(double));
    if (!M || !res || !ga || !gg) {
        free(M);
        free(res);
        free(ga);
        free(gg);
        return PK_ENOMEM;
    }
    double L = spec2(X, rng) / 4 + p->nu, Lq = 0;
    for (size_t j = 0; Zx && j < q; j++)
        for (size_t i = 0; i < n; i++)
            Lq += *pk_mat_at(Zx, i, j) * *pk_mat_at(Zx, i, j) / 4;
    double lip = L + Lq + (double)n / 4;
    /* B is stored as B / sc: rank([A, B / sc]) = rank([A, B]), and the scale makes the curvature of
     * the reconstruction block (2 xi sc^2) equal to the logistic block's, so one step fits both */
    double sc = p->xi > 0 ? sqrt(lip / (2 * p->xi)) : 1.0;
    double tau = p->step > 0 ? p->step : 1.0 / lip;
    double *a = ga; /* alias for clarity below: a lives in column 0 of M */
    (void)a;
    double b = 0;
    int st = PK_OK;
    for (int it = 0; it < p->max_iter; it++) {
        for (size_t j = 0; j < d; j++)
            m->a[j] = M[j * C];
        double f = logit_pass(X, Zx, y, m->a, m->gamma, b, res);
        /* gradients at the current point */
        double rec = 0, a2 = 0, g2 = 0, gb = 0;
        for (size_t j = 0; j < d; j++) {
            double s = 0;
            for (size_t i = 0; i < n; i++)
                s += *pk_mat_at(X, i, j) * res[i];
            ga[j] = s + p->nu * M[j * C];
            a2 += M[j * C] * M[j * C];
        }
        for (size_t j = 0; j < q; j++) {
            double s = 0;
            for (size_t i = 0; i < n; i++)
                s += *pk_mat_at(Zx, i, j) * res[i];
            gg[j] = s + p->nu * m->gamma[j];
            g2 += m->gamma[j] * m->gamma[j];
        }
        for (size_t i = 0; i < n; i++)
            gb += res[i];
        for (size_t j = 0; j < d; j++)
            for (size_t i = 0; i < n; i++) {
                double e = sc * M[j * C + 1 + i] - *pk_mat_at(X, i, j);
                rec += e * e;
                M[j * C + 1 + i] -= tau * 2 * p->xi * sc * e;
            }
        m->objective[it] = f + p->xi * rec + 0.5 * p->nu * (a2 + g2);
        for (size_t j = 0; j < d; j++)
            M[j * C] -= tau * ga[j];
        for (size_t j = 0; j < q; j++)
            m->gamma[j] -= tau * gg[j];
        b -= tau * gb;
        st = lowrank_project(M, d, C, r, rng, m->W);
        if (st)
            break;
        m->n_iter = it + 1;
    }
    for (size_t j = 0; j < d; j++)
        m->a[j] = M[j * C];
    m->b = b;
    free(M);
    free(res);
    free(ga);
    free(gg);
    return st;
}

/* BCD on the factored model: H by ridge least squares, (beta, gamma, b) by gradient steps on the
 * logistic loss of the features W'x, W by one gradient step on the full objective. */
static int fit_bcd(const pk_mat *X, const pk_mat *Zx, const int32_t *y, const pk_sdl_params *p, pk_rng *rng,
                   pk_sdl *m)
{
    size_t n = X->rows, d = X->cols, q = Zx ? Zx->cols : 0, r = p->r;
    double *W = m->W, *H = malloc(r * n * sizeof(double)), *G = malloc(r * r * sizeof(double));
    double *beta = calloc(r, sizeof(double)), *res = malloc(n * sizeof(double));
    double *F = malloc(n * r * sizeof(double)), *GW = malloc(d * r * sizeof(double)), *R = malloc(d * n * sizeof(double));
    int st = PK_OK;
    if (!H || !G || !beta || !res || !F || !GW || !R) {
        st = PK_ENOMEM;
        goto done;
    }
    double sx = sqrt(spec2(X, rng));
    for (size_t i = 0; i < d * r; i++)
        W[i] = pk_rng_normal(rng) / sqrt((double)d);
    double b = 0;
    for (int it = 0; it < p->max_iter; it++) {
        /* H = (W'W + eps I)^-1 W' X' */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)r, (int)r, (int)d, 1.0, W, (int)r, W, (int)r, 0.0, G,
                    (int)r);
        for (size_t a = 0; a < r; a++)
            G[a * r + a] += 1e-8 * (1 + G[a * r + a]);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasTrans, (int)r, (int)n, (int)d, 1.0, W, (int)r, X->data,
                    (int)X->stride, 0.0, H, (int)n);
        pk_mat Gm = pk_mat_view(G, r, r), Hm = pk_mat_view(H, r, n);
        if (pk_cholesky(&Gm, 1e-10, 8, NULL) || pk_cholesky_solve(&Gm, &Hm)) {
            st = PK_ESING;
            goto done;
        }
        /* features F = X W (n x r); 20 gradient steps on (beta, gamma, b) */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)r, (int)d, 1.0, X->data, (int)X->stride, W,
                    (int)r, 0.0, F, (int)r);
        double lf = 0;
        for (size_t i = 0; i < n * r; i++)
            lf += F[i] * F[i];
        double tb = 1.0 / (lf / 4 + (double)n / 4 + p->nu + 1e-12);
        for (int s = 0; s < 20; s++) {
            cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)d, (int)r, 1.0, W, (int)r, beta, 1, 0.0, m->a, 1);
            logit_pass(X, Zx, y, m->a, m->gamma, b, res);
            for (size_t a = 0; a < r; a++) {
                double g = p->nu * beta[a];
                for (size_t i = 0; i < n; i++)
                    g += F[i * r + a] * res[i];
                beta[a] -= tb * g;
            }
            for (size_t j = 0; j < q; j++) {
                double g = p->nu * m->gamma[j];
                for (size_t i = 0; i < n; i++)
                    g += *pk_mat_at(Zx, i, j) * res[i];
                m->gamma[j] -= tb * g;
            }
            double gb = 0;
            for (size_t i = 0; i < n; i++)
                gb += res[i];
            b -= tb * gb;
        }
        /* W step: grad = X'(res) beta' + 2 xi (W H - X') H' */
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)d, (int)r, 1.0, W, (int)r, beta, 1, 0.0, m->a, 1);
        double f = logit_pass(X, Zx, y, m->a, m->gamma, b, res);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)d, (int)n, (int)r, 1.0, W, (int)r, H, (int)n, 0.0,
                    R, (int)n);
        double rec = 0;
        for (size_t j = 0; j < d; j++)
            for (size_t i = 0; i < n; i++) {
                R[j * n + i] -= *pk_mat_at(X, i, j);
                rec += R[j * n + i] * R[j * n + i];
            }
        double a2 = 0, g2 = 0;
        for (size_t j = 0; j < d; j++)
            a2 += m->a[j] * m->a[j];
        for (size_t j = 0; j < q; j++)
            g2 += m->gamma[j] * m->gamma[j];
        m->objective[it] = f + p->xi * rec + 0.5 * p->nu * (a2 + g2);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)d, (int)r, (int)n, 2 * p->xi, R, (int)n, H, (int)n,
                    0.0, GW, (int)r);
        double xr[1];
        (void)xr;
        for (size_t j = 0; j < d; j++) {
            double s = 0;
            for (size_t i = 0; i < n; i++)
                s += *pk_mat_at(X, i, j) * res[i];
            for (size_t a = 0; a < r; a++)
                GW[j * r + a] += s * beta[a] + p->nu * m->a[j] * beta[a];
        }
        double hh = 0, bb = 0;
        for (size_t i = 0; i < r * n; i++)
            hh += H[i] * H[i];
        for (size_t a = 0; a < r; a++)
            bb += beta[a] * beta[a];
        double lipW = 2 * p->xi * hh + sx * sx * bb / 4 + p->nu * bb + 1e-12;
        double tw = p->step > 0 ? p->step : 1.0 / lipW;
        for (size_t i = 0; i < d * r; i++)
            W[i] -= tw * GW[i];
        m->n_iter = it + 1;
    }
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)d, (int)r, 1.0, W, (int)r, beta, 1, 0.0, m->a, 1);
    m->b = b;
done:
    free(H);
    free(G);
    free(beta);
    free(res);
    free(F);
    free(GW);
    free(R);
    return st;
}

int pk_sdl_fit(const pk_mat *X, const pk_mat *Zaux, const int32_t *y, const pk_sdl_params *p, pk_rng *rng,
               pk_sdl **out, pk_err *err)
{
    if (!X || !y || !p || !rng || !out)
        return pk_err_set(err, PK_EINVAL, "sdl: NULL argument");
    *out = NULL;
    size_t n = X->rows, d = X->cols, q = Zaux ? Zaux->cols : 0;
    if (p->r < 1 || p->r > d || p->r > n || !(p->xi >= 0) || !(p->nu >= 0) || p->max_iter < 1)
        return pk_err_set(err, PK_EINVAL, "sdl: need 1 <= r <= min(n, d), xi >= 0, nu >= 0, max_iter >= 1");
    if (Zaux && Zaux->rows != n)
        return pk_err_set(err, PK_ESHAPE, "sdl: covariates have %zu rows, features %zu", Zaux->rows, n);
    for (size_t i = 0; i < n; i++) {
        if (y[i] != 0 && y[i] != 1)
            return pk_err_set(err, PK_EINVAL, "sdl: label %d of row %zu is not 0/1", y[i], i + 1);
        for (size_t j = 0; j < d; j++)
            if (!isfinite(*pk_mat_at(X, i, j)))
                return pk_err_set(err, PK_EDOM, "sdl: feature row %zu, column %zu is not finite", i + 1, j + 1);
        for (size_t j = 0; j < q; j++)
            if (!isfinite(*pk_mat_at(Zaux, i, j)))
                return pk_err_set(err, PK_EDOM, "sdl: covariate row %zu, column %zu is not finite", i + 1, j + 1);
    }
    pk_sdl *m = sdl_alloc(d, q, p->r, p->max_iter);
    if (!m)
        return pk_err_set(err, PK_ENOMEM, "sdl: out of memory");
    int st = p->algo == PK_SDL_BCD ? fit_bcd(X, Zaux, y, p, rng, m) : fit_lpgd(X, Zaux, y, p, rng, m);
    if (st) {
        pk_sdl_free(m);
        return pk_err_set(err, st, "sdl: fit failed (%s)", pk_strerror(st));
    }
    *out = m;
    return PK_OK;
}

int pk_sdl_predict_proba(const pk_sdl *m, const pk_mat *X, const pk_mat *Zaux, double *p)
{
    if (!m || !X || !p || (m->q && !Zaux))
        return PK_EINVAL;
    if (X->cols != m->d || (Zaux && Zaux->cols != m->q))
        return PK_ESHAPE;
    for (size_t i = 0; i < X->rows; i++) {
        double t = m->b + pk_dot(pk_mat_at(X, i, 0), m->a, m->d);
        for (size_t j = 0; j < m->q; j++)
            t += m->gamma[j] * *pk_mat_at(Zaux, i, j);
        p[i] = 1 / (1 + exp(-t));
    }
    return PK_OK;
}
