/* Newton-Raphson logistic regression, shared by Platt scaling and the scorecard. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_internal.h"
#include "probkit/core.h"
#include "probkit/linalg.h"

static double objective(const double *X, const double *t, size_t n, size_t p, double ridge, const double *w)
{
    double f = 0;
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < p; j++)
            s += X[i * p + j] * w[j];
        f += pk_log1pexp(s) - t[i] * s;
    }
    for (size_t j = 0; j < p; j++)
        f += 0.5 * ridge * w[j] * w[j];
    return f;
}

int pk_metrics_logreg(const double *X, const double *t, size_t n, size_t p, double ridge, double *w)
{
    pk_mat *H = pk_mat_new(p, p), *g = pk_mat_new(p, 1);
    double *wn = malloc(p * sizeof *wn);
    if (!H || !g || !wn) {
        pk_mat_free(H);
        pk_mat_free(g);
        free(wn);
        return PK_ENOMEM;
    }
    int st = PK_EMAXITER;
    double f = objective(X, t, n, p, ridge, w);
    for (int it = 0; it < 100; it++) {
        pk_mat_set_zero(H);
        for (size_t j = 0; j < p; j++) {
            g->data[j] = ridge * w[j];
            H->data[j * p + j] = ridge + 1e-12;
        }
        for (size_t i = 0; i < n; i++) {
            const double *x = X + i * p;
            double s = 0;
            for (size_t j = 0; j < p; j++)
                s += x[j] * w[j];
            double mu = pk_metrics_sigmoid(s), v = mu * (1 - mu);
            for (size_t j = 0; j < p; j++) {
                if (x[j] == 0.0)
                    continue;
                g->data[j] += (mu - t[i]) * x[j];
                double vx = v * x[j];
                for (size_t k = 0; k <= j; k++)
                    H->data[j * p + k] += vx * x[k];
            }
        }
        for (size_t j = 0; j < p; j++)
            for (size_t k = 0; k < j; k++)
                H->data[k * p + j] = H->data[j * p + k];
        double gmax = 0;
        for (size_t j = 0; j < p; j++)
            gmax = fmax(gmax, fabs(g->data[j]));
        if (gmax < 1e-10 * (double)(n + 1)) {
            st = PK_OK;
            break;
        }
        double jit = 0;
        if (pk_cholesky(H, 1e-10, 8, &jit)) {
            st = PK_ESING;
            break;
        }
        if (pk_cholesky_solve(H, g)) {
            st = PK_ESING;
            break;
        }
        /* step halving keeps the objective decreasing when the start is far off */
        double step = 1.0, fn = f;
        int ok = 0;
        for (int h = 0; h < 40; h++) {
            for (size_t j = 0; j < p; j++)
                wn[j] = w[j] - step * g->data[j];
            fn = objective(X, t, n, p, ridge, wn);
            if (fn <= f + 1e-12 * fabs(f)) {
                ok = 1;
                break;
            }
            step *= 0.5;
        }
        if (!ok) {
            st = PK_OK; /* no further decrease possible at double precision */
            break;
        }
        memcpy(w, wn, p * sizeof *w);
        double df = f - fn;
        f = fn;
        if (df <= 1e-14 * (fabs(f) + 1.0) && step == 1.0) {
            st = PK_OK;
            break;
        }
    }
    pk_mat_free(H);
    pk_mat_free(g);
    free(wn);
    return st;
}
