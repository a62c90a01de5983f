/* "More is Better in Modern Machine Learning" (Simon, Karkada, Ghosh, Belkin):
 * the eigenframework for the test risk of random-feature ridge regression and
 * a Gaussian-design experiment to check it against.
 *
 * Theory.  With kernel eigenvalues lambda_i, target coefficients v_i, n samples,
 * k features and ridge delta, (kappa, gamma) solve
 *     n = sum_i L_i + delta / kappa,   k = sum_i L_i + k kappa / gamma,
 *     L_i = lambda_i / (lambda_i + gamma).
 * Eliminating kappa leaves one equation in gamma,
 *     g(gamma) = delta / (n - z) - gamma (1 - z / k) = 0,  z = sum_i L_i,
 * which is positive where z(gamma) reaches min(n, k) and -> -inf as gamma -> inf,
 * so it is bracketed and bisected in log gamma.  k = inf gives gamma = kappa
 * (kernel ridge regression, the eigenlearning equations). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/linalg.h"
#include "probkit/theory.h"

static double sum_learn(const double *lam, size_t M, double gamma, double *q)
{
    double z = 0, qq = 0;
    for (size_t i = 0; i < M; i++) {
        double L = lam[i] / (lam[i] + gamma);
        z += L;
        qq += L * L;
    }
    if (q)
        *q = qq;
    return z;
}

static double g_fn(const double *lam, size_t M, double n, double k, double ridge, double gamma)
{
    double z = sum_learn(lam, M, gamma, NULL);
    double lim = n < k ? n : k;
    if (z >= lim)
        return INFINITY;
    double kfac = isinf(k) ? 1.0 : 1.0 - z / k;
    return ridge / (n - z) - gamma * kfac;
}

int pk_rf_theory_eval(const double *eigvals, const double *coef2, size_t M, double n, double k, double ridge,
                      double noise_var, pk_rf_theory *out)
{
    if (!eigvals || !coef2 || !out || M == 0 || !(n >= 1) || !(k >= 1) || !(ridge > 0) || !(noise_var >= 0))
        return PK_EINVAL;
    double lmax = 0;
    for (size_t i = 0; i < M; i++) {
        if (!(eigvals[i] >= 0) || !(coef2[i] >= 0) || !isfinite(eigvals[i]))
            return PK_EINVAL;
        if (eigvals[i] > lmax)
            lmax = eigvals[i];
    }
    if (!(lmax > 0))
        return PK_EINVAL;
    /* bracket: lo where g > 0 (or z >= min(n,k)), hi where g < 0 */
    double lo = log(lmax) - 600, hi = log(lmax) + 5;
    while (g_fn(eigvals, M, n, k, ridge, exp(hi)) > 0) {
        hi += 5;
        if (hi > 700)
            return PK_EMAXITER;
    }
    for (int it = 0; it < 300 && hi - lo > 1e-13; it++) {
        double mid = 0.5 * (lo + hi);
        if (g_fn(eigvals, M, n, k, ridge, exp(mid)) > 0)
            lo = mid;
        else
            hi = mid;
    }
    double gamma = exp(0.5 * (lo + hi)), q;
    double z = sum_learn(eigvals, M, gamma, &q);
    double kappa = ridge / (n - z);
    double x, kq;
    if (isinf(k)) {
        x = q / n;
        kq = 1.0;
    } else {
        x = (q * (k - 2 * z) + z * z) / (n * (k - q));
        kq = k / (k - q);
    }
    if (!(x < 1))
        return PK_EDOM;
    double e0 = 1.0 / (1.0 - x), bias = 0;
    for (size_t i = 0; i < M; i++) {
        double L = eigvals[i] / (eigvals[i] + gamma);
        bias += ((1 - L) - kappa * L / (eigvals[i] + gamma) * kq) * coef2[i];
    }
    out->gamma = gamma;
    out->kappa = kappa;
    out->e0 = e0;
    out->test_mse = e0 * (bias + noise_var);
    out->train_mse = (ridge / (n * kappa)) * (ridge / (n * kappa)) * out->test_mse;
    return PK_OK;
}

int pk_rf_theory_optimal(const double *eigvals, const double *coef2, size_t M, double n, double k,
                         const double *ridges, size_t nr, double noise_var, pk_rf_theory *best, size_t *best_idx)
{
    if (!ridges || nr == 0 || !best)
        return PK_EINVAL;
    size_t bi = 0;
    for (size_t r = 0; r < nr; r++) {
        pk_rf_theory t;
        int st = pk_rf_theory_eval(eigvals, coef2, M, n, k, ridges[r], noise_var, &t);
        if (st)
            return st;
        if (r == 0 || t.test_mse < best->test_mse) {
            *best = t;
            bi = r;
        }
    }
    if (best_idx)
        *best_idx = bi;
    return PK_OK;
}

/* Ridge path in the dual: K = U diag(s) U^T once, then every ridge costs n^2 + nt n. */
int pk_rf_ridge_path(const pk_mat *Ktr, const pk_mat *Kte, const double *ytr, const double *yte,
                     const double *ridges, size_t nr, double *train_mse, double *test_mse)
{
    if (!Ktr || !Kte || !ytr || !yte || !ridges || Ktr->rows != Ktr->cols || Kte->cols != Ktr->rows)
        return PK_EINVAL;
    size_t n = Ktr->rows, nt = Kte->rows;
    pk_mat *U = pk_mat_dup(Ktr);
    double *s = malloc(n * sizeof *s), *u = malloc(n * sizeof *u), *c = malloc(n * sizeof *c),
           *a = malloc(n * sizeof *a), *p = malloc((nt ? nt : 1) * sizeof *p);
    int st = PK_ENOMEM;
    if (!U || !s || !u || !c || !a || !p)
        goto done;
    if ((st = pk_syev(U, s)))
        goto done;
    pk_gemv(1, 1.0, U, ytr, 0.0, u);
    for (size_t r = 0; r < nr; r++) {
        double d = ridges[r], tr = 0, te = 0;
        if (!(d >= 0)) {
            st = PK_EINVAL;
            goto done;
        }
        /* residual y - K alpha = U diag(d/(s+d)) u */
        for (size_t i = 0; i < n; i++) {
            double si = s[i] > 0 ? s[i] : 0;
            c[i] = u[i] / (si + d);
            tr += (d * c[i]) * (d * c[i]);
        }
        pk_gemv(0, 1.0, U, c, 0.0, a);
        pk_gemv(0, 1.0, Kte, a, 0.0, p);
        for (size_t i = 0; i < nt; i++)
            te += (p[i] - yte[i]) * (p[i] - yte[i]);
        if (train_mse)
            train_mse[r] = tr / (double)n;
        if (test_mse)
            test_mse[r] = nt ? te / (double)nt : NAN;
    }
    st = PK_OK;
done:
    pk_mat_free(U);
    free(s);
    free(u);
    free(c);
    free(a);
    free(p);
    return st;
}

/* The predictor is linear in the raw Gaussian coordinates g (x_i = sqrt(lambda_i) g_i):
 * f(g) = b . g with b = D W'^T F_tr^T alpha (D = diag sqrt(lambda), W' = W / sqrt(k);
 * W' = I for the kernel), so its risk on a fresh point is exactly
 * |b - v|^2 + noise_var: no test-set sampling noise. */
int pk_rf_gaussian_trial(const double *eigvals, const double *coef, size_t M, size_t n, size_t k, double noise_var,
                         const double *ridges, size_t nr, pk_rng *rng, double *train_mse, double *test_mse)
{
    if (!eigvals || !coef || !rng || !ridges || M == 0 || n == 0 || !(noise_var >= 0))
        return PK_EINVAL;
    for (size_t r = 0; r < nr; r++)
        if (!(ridges[r] >= 0))
            return PK_EINVAL;
    size_t P = k ? k : M;
    pk_mat *X = pk_mat_new(n, M), *G = k ? pk_mat_new(n, k) : NULL, *W = k ? pk_mat_new(k, M) : NULL;
    pk_mat *U = pk_mat_new(n, n);
    double *y = malloc(n * sizeof *y), *sq = malloc(M * sizeof *sq), *s = malloc(n * sizeof *s),
           *u = malloc(n * sizeof *u), *c = malloc(n * sizeof *c), *a = malloc(n * sizeof *a),
           *beta = malloc(P * sizeof *beta), *b = malloc(M * sizeof *b);
    int st = PK_ENOMEM;
    if (!X || !U || !y || !sq || !s || !u || !c || !a || !beta || !b || (k && (!G || !W)))
        goto done;
    for (size_t i = 0; i < M; i++)
        sq[i] = sqrt(eigvals[i]);
    double sn = sqrt(noise_var);
    for (size_t r = 0; r < n; r++) {
        double *x = pk_mat_at(X, r, 0), t = 0;
        for (size_t i = 0; i < M; i++) {
            double g = pk_rng_normal(rng);
            t += coef[i] * g;
            x[i] = sq[i] * g;
        }
        y[r] = t + sn * pk_rng_normal(rng);
    }
    const pk_mat *F = X;
    if (k) {
        double w = 1.0 / sqrt((double)k);
        for (size_t j = 0; j < k; j++)
            for (size_t i = 0; i < M; i++)
                *pk_mat_at(W, j, i) = w * pk_rng_normal(rng);
        if ((st = pk_gemm(0, 1, 1.0, X, W, 0.0, G)))
            goto done;
        F = G;
    }
    if ((st = pk_gemm(0, 1, 1.0, F, F, 0.0, U)) || (st = pk_syev(U, s)))
        goto done;
    pk_gemv(1, 1.0, U, y, 0.0, u);
    for (size_t r = 0; r < nr; r++) {
        double d = ridges[r], tr = 0, te = 0;
        for (size_t i = 0; i < n; i++) {
            c[i] = u[i] / ((s[i] > 0 ? s[i] : 0) + d);
            tr += (d * c[i]) * (d * c[i]);
        }
        pk_gemv(0, 1.0, U, c, 0.0, a);
        pk_gemv(1, 1.0, F, a, 0.0, beta);
        if (k)
            pk_gemv(1, 1.0, W, beta, 0.0, b);
        else
            for (size_t i = 0; i < M; i++)
                b[i] = beta[i];
        for (size_t i = 0; i < M; i++) {
            double e = sq[i] * b[i] - coef[i];
            te += e * e;
        }
        if (train_mse)
            train_mse[r] = tr / (double)n;
        if (test_mse)
            test_mse[r] = te + noise_var;
    }
    st = PK_OK;
done:
    pk_mat_free(X);
    pk_mat_free(G);
    pk_mat_free(W);
    pk_mat_free(U);
    free(y), free(sq), free(s), free(u), free(c), free(a), free(beta), free(b);
    return st;
}
