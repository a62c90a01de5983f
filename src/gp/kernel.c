/* kernel.c — covariance functions with analytic parameter and input gradients.
 *
 * A kernel is a binary tree; leaves hold log-parameters.  Evaluation works on
 * one pair (x, y) at a time and returns the value and, on request, the
 * gradient with respect to every log-parameter of the tree, so that the
 * marginal-likelihood gradient can be contracted pair by pair without ever
 * storing an n x n x p tensor.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp_priv.h"

#define MAX_DEPTH 64

static size_t base_nparams(pk_gp_kernel_type t, size_t dim, int ard)
{
    switch (t) {
    case PK_GP_KERNEL_SE:
    case PK_GP_KERNEL_MATERN12:
    case PK_GP_KERNEL_MATERN32:
    case PK_GP_KERNEL_MATERN52: return 1 + (ard ? dim : 1);
    case PK_GP_KERNEL_LINEAR: return 2;
    case PK_GP_KERNEL_PERIODIC: return 3;
    case PK_GP_KERNEL_NNGP_RELU:
    case PK_GP_KERNEL_NNGP_ERF: return 2;
    default: return 0;
    }
}

/* exp() of the parameters once per change instead of once per pair */
static void update_aux(pk_gp_kernel *k)
{
    if (k->type > PK_GP_KERNEL_MATERN52)
        return;
    k->aux[0] = exp(k->theta[0]);
    for (size_t p = 1; p < k->np; p++)
        k->aux[p] = exp(-2.0 * k->theta[p]);
}

pk_gp_kernel *pk_gp_kernel_new(pk_gp_kernel_type type, size_t dim, int ard, int depth)
{
    if (dim < 1 || type > PK_GP_KERNEL_NNGP_ERF)
        return NULL;
    int nngp = type == PK_GP_KERNEL_NNGP_RELU || type == PK_GP_KERNEL_NNGP_ERF;
    if (nngp && (depth < 1 || depth > MAX_DEPTH))
        return NULL;
    pk_gp_kernel *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->type = type;
    k->dim = dim;
    k->ard = ard ? 1 : 0;
    k->depth = nngp ? depth : 0;
    k->np = base_nparams(type, dim, k->ard);
    k->theta = calloc(k->np, sizeof *k->theta);
    k->aux = calloc(k->np, sizeof *k->aux);
    if (!k->theta || !k->aux) {
        free(k->theta);
        free(k->aux);
        free(k);
        return NULL;
    }
    if (nngp) {
        k->theta[0] = log(1.6);
        k->theta[1] = log(0.1);
    }
    update_aux(k);
    return k;
}

pk_gp_kernel *pk_gp_kernel_combine(pk_gp_kernel_type type, pk_gp_kernel *a, pk_gp_kernel *b)
{
    if (!a || !b || (type != PK_GP_KERNEL_SUM && type != PK_GP_KERNEL_PRODUCT) || a->dim != b->dim) {
        pk_gp_kernel_free(a);
        pk_gp_kernel_free(b);
        return NULL;
    }
    pk_gp_kernel *k = calloc(1, sizeof *k);
    if (!k) {
        pk_gp_kernel_free(a);
        pk_gp_kernel_free(b);
        return NULL;
    }
    k->type = type;
    k->dim = a->dim;
    k->np = a->np + b->np;
    k->a = a;
    k->b = b;
    return k;
}

pk_gp_kernel *pk_gp_kernel_dup(const pk_gp_kernel *k)
{
    if (!k)
        return NULL;
    if (k->a) {
        pk_gp_kernel *a = pk_gp_kernel_dup(k->a), *b = pk_gp_kernel_dup(k->b);
        if (!a || !b) {
            pk_gp_kernel_free(a);
            pk_gp_kernel_free(b);
            return NULL;
        }
        return pk_gp_kernel_combine(k->type, a, b);
    }
    pk_gp_kernel *c = pk_gp_kernel_new(k->type, k->dim, k->ard, k->depth ? k->depth : 1);
    if (c) {
        memcpy(c->theta, k->theta, k->np * sizeof *k->theta);
        update_aux(c);
    }
    return c;
}

void pk_gp_kernel_free(pk_gp_kernel *k)
{
    if (!k)
        return;
    pk_gp_kernel_free(k->a);
    pk_gp_kernel_free(k->b);
    free(k->theta);
    free(k->aux);
    free(k);
}

size_t pk_gp_kernel_nparams(const pk_gp_kernel *k) { return k->np; }
size_t pk_gp_kernel_dim(const pk_gp_kernel *k) { return k->dim; }
pk_gp_kernel_type pk_gp_kernel_kind(const pk_gp_kernel *k) { return k->type; }

void pk_gp_kernel_get_params(const pk_gp_kernel *k, double *theta)
{
    if (k->a) {
        pk_gp_kernel_get_params(k->a, theta);
        pk_gp_kernel_get_params(k->b, theta + k->a->np);
    } else {
        memcpy(theta, k->theta, k->np * sizeof *theta);
    }
}

void pk_gp_kernel_set_params(pk_gp_kernel *k, const double *theta)
{
    if (k->a) {
        pk_gp_kernel_set_params(k->a, theta);
        pk_gp_kernel_set_params(k->b, theta + k->a->np);
    } else {
        memcpy(k->theta, theta, k->np * sizeof *theta);
        update_aux(k);
    }
}

static const char *type_name(pk_gp_kernel_type t)
{
    static const char *names[] = {"se", "matern12", "matern32", "matern52", "linear",
                                  "periodic", "nngp_relu", "nngp_erf", "sum", "product"};
    return t <= PK_GP_KERNEL_PRODUCT ? names[t] : "?";
}

void pk_gp_kernel_param_name(const pk_gp_kernel *k, size_t i, char *buf, size_t len)
{
    if (k->a) {
        if (i < k->a->np)
            pk_gp_kernel_param_name(k->a, i, buf, len);
        else
            pk_gp_kernel_param_name(k->b, i - k->a->np, buf, len);
        return;
    }
    const char *tn = type_name(k->type);
    switch (k->type) {
    case PK_GP_KERNEL_LINEAR: snprintf(buf, len, "%s.%s", tn, i == 0 ? "log_sf2" : "log_sb2"); break;
    case PK_GP_KERNEL_PERIODIC:
        snprintf(buf, len, "%s.%s", tn, i == 0 ? "log_sf2" : i == 1 ? "log_ell" : "log_period");
        break;
    case PK_GP_KERNEL_NNGP_RELU:
    case PK_GP_KERNEL_NNGP_ERF: snprintf(buf, len, "%s.%s", tn, i == 0 ? "log_sw2" : "log_sb2"); break;
    default:
        if (i == 0)
            snprintf(buf, len, "%s.log_sf2", tn);
        else
            snprintf(buf, len, "%s.log_ell[%zu]", tn, i - 1);
    }
}

/* ---- stationary kernels ------------------------------------------------------ */

static double eval_stationary(const pk_gp_kernel *k, const double *x, const double *y, double *grad,
                              double *dx)
{
    double sf2 = k->aux[0], r2 = 0.0;
    size_t d = k->dim;
    const double *il2 = k->aux + 1; /* 1 / ell_j^2, one entry when isotropic */
    if (k->ard) {
        for (size_t j = 0; j < d; j++) {
            double dj = x[j] - y[j];
            r2 += dj * dj * il2[j];
        }
    } else {
        for (size_t j = 0; j < d; j++) {
            double dj = x[j] - y[j];
            r2 += dj * dj;
        }
        r2 *= il2[0];
    }
    double g, h;
    pk_gp_stationary_gh(k->type, r2, &g, &h);
    double val = sf2 * g;
    if (grad) {
        grad[0] = val;
        if (k->ard) {
            for (size_t j = 0; j < d; j++) {
                double dj = x[j] - y[j];
                grad[1 + j] = sf2 * h * dj * dj * il2[j];
            }
        } else {
            grad[1] = sf2 * h * r2;
        }
    }
    if (dx) {
        for (size_t j = 0; j < d; j++)
            dx[j] = -sf2 * h * (x[j] - y[j]) * il2[k->ard ? j : 0];
    }
    return val;
}

static double eval_linear(const pk_gp_kernel *k, const double *x, const double *y, double *grad, double *dx)
{
    double sf2 = exp(k->theta[0]), sb2 = exp(k->theta[1]);
    double xy = 0.0;
    for (size_t j = 0; j < k->dim; j++)
        xy += x[j] * y[j];
    if (grad) {
        grad[0] = sf2 * xy;
        grad[1] = sb2;
    }
    if (dx)
        for (size_t j = 0; j < k->dim; j++)
            dx[j] = sf2 * y[j];
    return sb2 + sf2 * xy;
}

static double eval_periodic(const pk_gp_kernel *k, const double *x, const double *y, double *grad, double *dx)
{
    double sf2 = exp(k->theta[0]), il2 = exp(-2.0 * k->theta[1]), p = exp(k->theta[2]);
    double d2 = 0.0;
    for (size_t j = 0; j < k->dim; j++)
        d2 += (x[j] - y[j]) * (x[j] - y[j]);
    double d = sqrt(d2), u = M_PI * d / p, s = sin(u), c = cos(u);
    double val = sf2 * exp(-2.0 * s * s * il2);
    if (grad) {
        grad[0] = val;
        grad[1] = val * 4.0 * s * s * il2;
        grad[2] = val * 4.0 * s * c * u * il2;
    }
    if (dx) {
        for (size_t j = 0; j < k->dim; j++)
            dx[j] = d > 0 ? val * (-4.0 * s * c * il2) * (M_PI / p) * (x[j] - y[j]) / d : 0.0;
    }
    return val;
}

/* ---- NNGP kernels: forward-mode derivatives through the layer recursion ------------ */

/* F(kxy, kxx, kyy) of one layer and its partial derivatives. */
static void nngp_layer(int relu, double kxy, double kxx, double kyy, double *F, double *Fxy, double *Fxx,
                       double *Fyy)
{
    if (relu) {
        double s = sqrt(kxx * kyy), c = s > 0 ? kxy / s : 0.0;
        if (c > 1.0)
            c = 1.0;
        if (c < -1.0)
            c = -1.0;
        double th = acos(c), sn = sqrt(1.0 - c * c);
        *F = s * (sn + (M_PI - th) * c) / (2.0 * M_PI);
        *Fxy = (M_PI - th) / (2.0 * M_PI);
        *Fxx = kxx > 0 ? s / (2.0 * kxx) * sn / (2.0 * M_PI) : 0.0;
        *Fyy = kyy > 0 ? s / (2.0 * kyy) * sn / (2.0 * M_PI) : 0.0;
    } else {
        double q = sqrt((1.0 + 2.0 * kxx) * (1.0 + 2.0 * kyy)), u = 2.0 * kxy / q;
        if (u > 1.0)
            u = 1.0;
        if (u < -1.0)
            u = -1.0;
        double dasin = 2.0 / M_PI / sqrt(fmax(1.0 - u * u, 1e-300));
        *F = 2.0 / M_PI * asin(u);
        *Fxy = dasin * 2.0 / q;
        *Fxx = -dasin * u / (1.0 + 2.0 * kxx);
        *Fyy = -dasin * u / (1.0 + 2.0 * kyy);
    }
}

/* The layer map on the diagonal (kxy = kxx = kyy = K): value and total derivative. */
static void nngp_diag(int relu, double K, double *F, double *dF)
{
    if (relu) { /* theta = 0: F = K / 2 */
        *F = 0.5 * K;
        *dF = 0.5;
    } else {
        double u = 2.0 * K / (1.0 + 2.0 * K);
        *F = 2.0 / M_PI * asin(u);
        *dF = 2.0 / M_PI / sqrt(fmax(1.0 - u * u, 1e-300)) * 2.0 / ((1.0 + 2.0 * K) * (1.0 + 2.0 * K));
    }
}

static double eval_nngp(const pk_gp_kernel *k, const double *x, const double *y, double *grad)
{
    int relu = k->type == PK_GP_KERNEL_NNGP_RELU;
    double sw2 = exp(k->theta[0]), sb2 = exp(k->theta[1]);
    double xy = 0.0, xx = 0.0, yy = 0.0;
    for (size_t j = 0; j < k->dim; j++) {
        xy += x[j] * y[j];
        xx += x[j] * x[j];
        yy += y[j] * y[j];
    }
    double inv_d = 1.0 / (double)k->dim;
    /* value and d/dlog sw2 (index 0), d/dlog sb2 (index 1) of kxy, kxx, kyy */
    double kxy = sb2 + sw2 * xy * inv_d, kxx = sb2 + sw2 * xx * inv_d, kyy = sb2 + sw2 * yy * inv_d;
    double gxy[2] = {sw2 * xy * inv_d, sb2}, gxx[2] = {sw2 * xx * inv_d, sb2}, gyy[2] = {sw2 * yy * inv_d, sb2};
    for (int l = 0; l < k->depth; l++) {
        double F, Fxy, Fxx, Fyy, Fd, dFd, Fe, dFe;
        nngp_layer(relu, kxy, kxx, kyy, &F, &Fxy, &Fxx, &Fyy);
        nngp_diag(relu, kxx, &Fd, &dFd);
        nngp_diag(relu, kyy, &Fe, &dFe);
        double nxy[2], nxx[2], nyy[2];
        for (int p = 0; p < 2; p++) {
            nxy[p] = sw2 * (Fxy * gxy[p] + Fxx * gxx[p] + Fyy * gyy[p]);
            nxx[p] = sw2 * dFd * gxx[p];
            nyy[p] = sw2 * dFe * gyy[p];
        }
        nxy[0] += sw2 * F;
        nxx[0] += sw2 * Fd;
        nyy[0] += sw2 * Fe;
        nxy[1] += sb2;
        nxx[1] += sb2;
        nyy[1] += sb2;
        kxy = sb2 + sw2 * F;
        kxx = sb2 + sw2 * Fd;
        kyy = sb2 + sw2 * Fe;
        memcpy(gxy, nxy, sizeof gxy);
        memcpy(gxx, nxx, sizeof gxx);
        memcpy(gyy, nyy, sizeof gyy);
    }
    if (grad) {
        grad[0] = gxy[0];
        grad[1] = gxy[1];
    }
    return kxy;
}

/* ---- tree evaluation ------------------------------------------------------------- */

double pk_gp_kernel_eval(const pk_gp_kernel *k, const double *x, const double *y, double *grad)
{
    switch (k->type) {
    case PK_GP_KERNEL_SE:
    case PK_GP_KERNEL_MATERN12:
    case PK_GP_KERNEL_MATERN32:
    case PK_GP_KERNEL_MATERN52: return eval_stationary(k, x, y, grad, NULL);
    case PK_GP_KERNEL_LINEAR: return eval_linear(k, x, y, grad, NULL);
    case PK_GP_KERNEL_PERIODIC: return eval_periodic(k, x, y, grad, NULL);
    case PK_GP_KERNEL_NNGP_RELU:
    case PK_GP_KERNEL_NNGP_ERF: return eval_nngp(k, x, y, grad);
    case PK_GP_KERNEL_SUM: {
        double va = pk_gp_kernel_eval(k->a, x, y, grad);
        double vb = pk_gp_kernel_eval(k->b, x, y, grad ? grad + k->a->np : NULL);
        return va + vb;
    }
    case PK_GP_KERNEL_PRODUCT: {
        double va = pk_gp_kernel_eval(k->a, x, y, grad);
        double vb = pk_gp_kernel_eval(k->b, x, y, grad ? grad + k->a->np : NULL);
        if (grad) {
            for (size_t p = 0; p < k->a->np; p++)
                grad[p] *= vb;
            for (size_t p = 0; p < k->b->np; p++)
                grad[k->a->np + p] *= va;
        }
        return va * vb;
    }
    }
    return NAN;
}

double pk_gp_kernel_eval_dx(const pk_gp_kernel *k, const double *x, const double *y, double *dx)
{
    size_t d = k->dim;
    switch (k->type) {
    case PK_GP_KERNEL_SE:
    case PK_GP_KERNEL_MATERN12:
    case PK_GP_KERNEL_MATERN32:
    case PK_GP_KERNEL_MATERN52: return eval_stationary(k, x, y, NULL, dx);
    case PK_GP_KERNEL_LINEAR: return eval_linear(k, x, y, NULL, dx);
    case PK_GP_KERNEL_PERIODIC: return eval_periodic(k, x, y, NULL, dx);
    case PK_GP_KERNEL_NNGP_RELU:
    case PK_GP_KERNEL_NNGP_ERF: {
        /* The recursion's input derivative is rarely needed (acquisition
         * refinement); central differences keep this path simple. */
        double xs[MAX_DIM_FD];
        if (d > MAX_DIM_FD)
            return NAN;
        memcpy(xs, x, d * sizeof *x);
        for (size_t j = 0; j < d; j++) {
            double hstep = 1e-6 * fmax(1.0, fabs(x[j]));
            xs[j] = x[j] + hstep;
            double fp = eval_nngp(k, xs, y, NULL);
            xs[j] = x[j] - hstep;
            double fm = eval_nngp(k, xs, y, NULL);
            xs[j] = x[j];
            dx[j] = (fp - fm) / (2.0 * hstep);
        }
        return eval_nngp(k, x, y, NULL);
    }
    case PK_GP_KERNEL_SUM:
    case PK_GP_KERNEL_PRODUCT: {
        double da[MAX_DIM_FD], db[MAX_DIM_FD];
        if (d > MAX_DIM_FD)
            return NAN;
        double va = pk_gp_kernel_eval_dx(k->a, x, y, da);
        double vb = pk_gp_kernel_eval_dx(k->b, x, y, db);
        int sum = k->type == PK_GP_KERNEL_SUM;
        for (size_t j = 0; j < d; j++)
            dx[j] = sum ? da[j] + db[j] : da[j] * vb + va * db[j];
        return sum ? va + vb : va * vb;
    }
    }
    return NAN;
}

int pk_gp_kernel_matrix(const pk_gp_kernel *k, const pk_mat *X1, const pk_mat *X2, int symmetric, pk_mat *K)
{
    if (!k || !X1 || !X2 || !K)
        return PK_EINVAL;
    if (X1->cols != k->dim || X2->cols != k->dim || K->rows != X1->rows || K->cols != X2->rows ||
        (symmetric && X1->rows != X2->rows))
        return PK_ESHAPE;
    int s = pk_gp_kernel_fill(k, X1, X2, symmetric, K);
    if (s || !symmetric)
        return s;
    size_t n = X1->rows;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            *pk_mat_at(K, j, i) = *pk_mat_at(K, i, j);
    return PK_OK;
}
