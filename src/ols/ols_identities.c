/* ols_identities.c — how far a numerical fit is from the exact identities of
 * least squares (normal equations, projection, Moore-Penrose, Pythagoras).
 * H = X X^+ is never formed: it is applied to probe vectors, so the check
 * costs O(n p (p + nprobe)) and works for n in the millions. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ols_priv.h"

static double maxabs(const double *x, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(x[i]));
    return m;
}

/* out (n) = X (X^+ v) using tmp (p). */
static void apply_h(const pk_ols *f, const pk_mat *X, const double *v, double *tmp, double *out)
{
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)f->p, (int)f->n, 1.0, f->pinv, (int)f->n, v, 1, 0.0, tmp, 1);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)f->n, (int)f->p, 1.0, X->data, (int)X->stride, tmp, 1, 0.0, out,
                1);
}

int pk_ols_check_identities(const pk_ols *f, const pk_mat *X, const double *y, int nprobe, pk_rng *rng,
                            pk_ols_identities *out)
{
    if (!f || !X || !y || !rng || !out || !f->pinv || nprobe < 1 || X->rows != f->n || X->cols != f->p)
        return PK_EINVAL;
    size_t n = f->n, p = f->p;
    int st = PK_ENOMEM;
    double *u = malloc(n * sizeof *u), *v = malloc(n * sizeof *v), *hu = malloc(n * sizeof *hu);
    double *hv = malloc(n * sizeof *hv), *hhv = malloc(n * sizeof *hhv), *tmp = malloc(p * sizeof *tmp);
    double *b = malloc(p * sizeof *b), *a = malloc(p * sizeof *a), *M = malloc(p * p * sizeof *M);
    double *XM = malloc(n * p * sizeof *XM), *xt = malloc(p * sizeof *xt);
    if (!u || !v || !hu || !hv || !hhv || !tmp || !b || !a || !M || !XM || !xt)
        goto done;

    double xf = 0, xmax = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < p; j++) {
            double x = X->data[i * X->stride + j];
            xf += x * x;
            xmax = fmax(xmax, fabs(x));
        }
    xf = sqrt(xf);
    double ynorm = cblas_dnrm2((int)n, y, 1);

    /* X^T r = 0 */
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)p, 1.0, X->data, (int)X->stride, f->resid, 1, 0.0, xt, 1);
    out->normal_eq = xf > 0 && ynorm > 0 ? maxabs(xt, p) / (xf * ynorm) : maxabs(xt, p);

    /* H idempotent and symmetric on random probes */
    out->hat_idem = out->hat_sym = 0;
    for (int k = 0; k < nprobe; k++) {
        for (size_t i = 0; i < n; i++) {
            u[i] = pk_rng_normal(rng);
            v[i] = pk_rng_normal(rng);
        }
        apply_h(f, X, v, tmp, hv);
        apply_h(f, X, hv, tmp, hhv);
        apply_h(f, X, u, tmp, hu);
        double nv = cblas_dnrm2((int)n, v, 1), nu = cblas_dnrm2((int)n, u, 1);
        cblas_daxpy((int)n, -1.0, hv, 1, hhv, 1);
        out->hat_idem = fmax(out->hat_idem, cblas_dnrm2((int)n, hhv, 1) / nv);
        double uhv = cblas_ddot((int)n, u, 1, hv, 1), vhu = cblas_ddot((int)n, v, 1, hu, 1);
        out->hat_sym = fmax(out->hat_sym, fabs(uhv - vhu) / (nu * nv));
    }

    /* M = X^+ X: the identity for full column rank; X M = X always */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p, (int)p, (int)n, 1.0, f->pinv, (int)n, X->data,
                (int)X->stride, 0.0, M, (int)p);
    if (f->rank == p) {
        double m = 0;
        for (size_t i = 0; i < p; i++)
            for (size_t j = 0; j < p; j++)
                m = fmax(m, fabs(M[i * p + j] - (i == j)));
        out->pinv_left = m;
    } else {
        out->pinv_left = NAN;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)p, (int)p, 1.0, X->data, (int)X->stride, M,
                (int)p, 0.0, XM, (int)p);
    double pm = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < p; j++)
            pm = fmax(pm, fabs(XM[i * p + j] - X->data[i * X->stride + j]));
    out->penrose = xmax > 0 ? pm / xmax : pm;

    /* b = X^+ y and its agreement with the fit's coefficients */
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)p, (int)n, 1.0, f->pinv, (int)n, y, 1, 0.0, b, 1);
    int qr_deficient = f->method == PK_OLS_QR && f->rank < p;
    if (qr_deficient) {
        out->pinv_coef = NAN;
    } else {
        double d = 0;
        for (size_t j = 0; j < p; j++)
            d = fmax(d, fabs(f->coef[j] - b[j]));
        double bm = maxabs(b, p);
        out->pinv_coef = bm > 0 ? d / bm : d;
    }

    /* Pythagoras: ||Xa - y||^2 = ||X(a - b)||^2 + ||y - Xb||^2 for any a */
    double *r = hu, *xa = hv, *xd = hhv; /* reuse probe buffers */
    memcpy(r, y, n * sizeof *r);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)p, -1.0, X->data, (int)X->stride, b, 1, 1.0, r, 1);
    double rr = cblas_ddot((int)n, r, 1, r, 1);
    out->pythagoras = 0;
    for (int k = 0; k < nprobe; k++) {
        for (size_t j = 0; j < p; j++)
            a[j] = b[j] + pk_rng_normal(rng) * (1 + fabs(b[j]));
        memcpy(xa, y, n * sizeof *xa);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)p, 1.0, X->data, (int)X->stride, a, 1, -1.0, xa, 1);
        for (size_t j = 0; j < p; j++)
            tmp[j] = a[j] - b[j];
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)p, 1.0, X->data, (int)X->stride, tmp, 1, 0.0, xd, 1);
        double lhs = cblas_ddot((int)n, xa, 1, xa, 1), rhs = cblas_ddot((int)n, xd, 1, xd, 1) + rr;
        out->pythagoras = fmax(out->pythagoras, lhs > 0 ? fabs(lhs - rhs) / lhs : fabs(lhs - rhs));
    }
    st = PK_OK;
done:
    free(u);
    free(v);
    free(hu);
    free(hv);
    free(hhv);
    free(tmp);
    free(b);
    free(a);
    free(M);
    free(XM);
    free(xt);
    return st;
}
