/* Binary logistic regression with an L2 penalty, by damped Newton steps. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/latent.h"

void pk_logreg_free(pk_logreg *m)
{
    if (!m)
        return;
    free(m->coef);
    free(m);
}

/* sum_i logloss + lambda/2 |w|^2; s = logits scratch (n). */
static double objective(const pk_mat *X, const int32_t *y, const double *w, double b, double lambda, double *s)
{
    size_t n = X->rows, d = X->cols;
    double f = 0;
    for (size_t i = 0; i < n; i++) {
        const double *x = pk_mat_at(X, i, 0);
        double t = b;
        for (size_t j = 0; j < d; j++)
            t += w[j] * x[j];
        s[i] = t;
        f += pk_log1pexp(t) - (y[i] ? t : 0);
    }
    double w2 = 0;
    for (size_t j = 0; j < d; j++)
        w2 += w[j] * w[j];
    return f + 0.5 * lambda * w2;
}

int pk_logreg_fit(const pk_mat *X, const int32_t *y, double lambda, int max_iter, pk_logreg **out, pk_err *err)
{
    if (!X || !y || !out)
        return pk_err_set(err, PK_EINVAL, "logreg: NULL argument");
    *out = NULL;
    size_t n = X->rows, d = X->cols, D = d + 1;
    if (n < 1 || d < 1 || !(lambda >= 0) || max_iter < 1)
        return pk_err_set(err, PK_EINVAL, "logreg: need n, d >= 1, lambda >= 0, max_iter >= 1");
    for (size_t i = 0; i < n; i++) {
        if (y[i] != 0 && y[i] != 1)
            return pk_err_set(err, PK_EINVAL, "logreg: label %d of row %zu is not 0/1", y[i], i + 1);
        for (size_t j = 0; j < d; j++)
            if (!isfinite(*pk_mat_at(X, i, j)))
                return pk_err_set(err, PK_EDOM, "logreg: row %zu, column %zu is not finite", i + 1, j + 1);
    }
    pk_logreg *m = calloc(1, sizeof *m);
    double *w = calloc(D, sizeof(double)), *g = malloc(D * sizeof(double)), *H = malloc(D * D * sizeof(double));
    double *s = malloc(n * sizeof(double)), *wt = malloc(n * d * sizeof(double)), *wn = malloc(D * sizeof(double));
    int st = PK_OK;
    if (!m || !w || !g || !H || !s || !wt || !wn) {
        st = pk_err_set(err, PK_ENOMEM, "logreg: out of memory (d = %zu)", d);
        goto done;
    }
    /* w[0..d-1] coefficients, w[d] intercept */
    double f = objective(X, y, w, w[d], lambda, s);
    int it;
    for (it = 1; it <= max_iter; it++) {
        memset(g, 0, D * sizeof(double));
        for (size_t i = 0; i < n; i++) {
            const double *x = pk_mat_at(X, i, 0);
            double p = 1 / (1 + exp(-s[i])), r = p - y[i], h = p * (1 - p), sh = sqrt(h);
            for (size_t j = 0; j < d; j++) {
                g[j] += r * x[j];
                wt[i * d + j] = sh * x[j];
            }
            g[d] += r;
            s[i] = sh; /* reuse: sqrt weights */
        }
        for (size_t j = 0; j < d; j++)
            g[j] += lambda * w[j];
        double gn = 0;
        for (size_t j = 0; j < D; j++)
            gn += g[j] * g[j];
        if (sqrt(gn) < 1e-9 * (double)n)
            break;
        /* Hessian [[X'WX + lambda I, X'W1], [1'WX, 1'W1]] */
        memset(H, 0, D * D * sizeof(double));
        cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (int)d, (int)n, 1.0, wt, (int)d, 0.0, H, (int)D);
        for (size_t j = 0; j < d; j++) {
            double c = 0;
            for (size_t i = 0; i < n; i++)
                c += s[i] * wt[i * d + j];
            H[d * D + j] = c;
            H[j * D + j] += lambda;
        }
        double hb = 0;
        for (size_t i = 0; i < n; i++)
            hb += s[i] * s[i];
        H[d * D + d] = hb + 1e-10 * (double)n;
        pk_mat Hm = pk_mat_view(H, D, D);
        double jit = 0;
        if (pk_cholesky(&Hm, 1e-10, 10, &jit) != PK_OK) {
            st = pk_err_set(err, PK_ESING, "logreg: Hessian is singular (use lambda > 0)");
            goto done;
        }
        pk_mat gv = pk_mat_view(g, D, 1);
        pk_cholesky_solve(&Hm, &gv); /* g <- Newton direction */
        double t = 1, fn = f;
        for (int ls = 0; ls < 40; ls++, t *= 0.5) {
            for (size_t j = 0; j < D; j++)
                wn[j] = w[j] - t * g[j];
            fn = objective(X, y, wn, wn[d], lambda, s);
            if (fn <= f)
                break;
        }
        if (!(fn <= f)) { /* no descent: at the optimum up to rounding */
            objective(X, y, w, w[d], lambda, s);
            break;
        }
        memcpy(w, wn, D * sizeof(double));
        double rel = (f - fn) / (fabs(f) + 1e-300);
        f = fn;
        if (rel < 1e-14)
            break;
    }
    m->d = d;
    m->coef = malloc(d * sizeof(double));
    if (!m->coef) {
        st = pk_err_set(err, PK_ENOMEM, "logreg: out of memory");
        goto done;
    }
    memcpy(m->coef, w, d * sizeof(double));
    m->intercept = w[d];
    m->n_iter = it > max_iter ? max_iter : it;
    *out = m;
    m = NULL;
done:
    pk_logreg_free(m);
    free(w);
    free(g);
    free(H);
    free(s);
    free(wt);
    free(wn);
    return st;
}

int pk_logreg_predict_proba(const pk_logreg *m, const pk_mat *X, double *p)
{
    if (!m || !X || !p)
        return PK_EINVAL;
    if (X->cols != m->d)
        return PK_ESHAPE;
    for (size_t i = 0; i < X->rows; i++) {
        const double *x = pk_mat_at(X, i, 0);
        double t = m->intercept;
        for (size_t j = 0; j < m->d; j++)
            t += m->coef[j] * x[j];
        p[i] = 1 / (1 + exp(-t));
    }
    return PK_OK;
}
