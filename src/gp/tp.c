/* tp.c — Student-t process: a GP whose output scale has an inverse-gamma prior.
 *
 * With y | s2 ~ N(0, s2 K) and s2 ~ InvGamma(a, b) ("Scale Mixtures of Neural
 * Network Gaussian Processes"), s2 | y ~ InvGamma(a + n/2, b + beta) where
 * beta = y^T K^{-1} y / 2, the marginal of y is a multivariate t and the
 * predictive a univariate t with 2a + n degrees of freedom.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sf_psi.h>

#include "gp_priv.h"

struct pk_tp {
    pk_gp *gp;
    double log_a, log_b;
    int fix_a; /* pk_tp_fit leaves log_a alone */
};

pk_tp *pk_tp_new(pk_gp_kernel *kernel)
{
    pk_tp *tp = calloc(1, sizeof *tp);
    if (!tp) {
        pk_gp_kernel_free(kernel);
        return NULL;
    }
    tp->gp = pk_gp_new(kernel, PK_GP_MEAN_ZERO);
    if (!tp->gp) {
        free(tp);
        return NULL;
    }
    tp->log_a = tp->log_b = log(2.0);
    return tp;
}

void pk_tp_free(pk_tp *tp)
{
    if (!tp)
        return;
    pk_gp_free(tp->gp);
    free(tp);
}

pk_gp *pk_tp_gp(pk_tp *tp) { return tp->gp; }
size_t pk_tp_nhyper(const pk_tp *tp) { return pk_gp_nhyper(tp->gp) + 2; }

void pk_tp_get_hyper(const pk_tp *tp, double *h)
{
    size_t ng = pk_gp_nhyper(tp->gp);
    pk_gp_get_hyper(tp->gp, h);
    h[ng] = tp->log_a;
    h[ng + 1] = tp->log_b;
}

void pk_tp_set_hyper(pk_tp *tp, const double *h)
{
    size_t ng = pk_gp_nhyper(tp->gp);
    pk_gp_set_hyper(tp->gp, h);
    tp->log_a = h[ng];
    tp->log_b = h[ng + 1];
}

int pk_tp_set_data(pk_tp *tp, const pk_mat *X, const double *y, pk_err *err)
{
    return pk_gp_set_data(tp->gp, X, y, err);
}

/* log Gamma(a + x) - log Gamma(a), a > 0, x >= 0: directly while the two
 * terms are moderate, else by the difference of Stirling's series (error
 * O(a^-3)) with log1p, so it stays exact for any large a. */
static double lnpoch(double a, double x)
{
    if (a < 1e5)
        return lgamma(a + x) - lgamma(a);
    double ax = a + x;
    return (a - 0.5) * log1p(x / a) + x * log(ax) - x + 1.0 / (12.0 * ax) - 1.0 / (12.0 * a);
}

/* psi(a + x) - psi(a); for large a by the asymptotic series of psi, whose
 * error is O(a^-4), instead of a difference of two nearly equal numbers. */
static double dpsi(double a, double x)
{
    if (a < 1e5)
        return gsl_sf_psi(a + x) - gsl_sf_psi(a);
    double ax = a + x;
    return log1p(x / a) - 0.5 / ax + 0.5 / a - 1.0 / (12.0 * ax * ax) + 1.0 / (12.0 * a * a);
}

int pk_tp_log_marginal(pk_tp *tp, double *lml, double *grad)
{
    pk_gp *gp = tp->gp;
    int s = pk_gp_update(gp);
    if (s)
        return s;
    size_t n = gp->n, nk = gp->kernel->np, ng = pk_gp_nhyper(gp);
    double a = exp(tp->log_a), b = exp(tp->log_b), hn = 0.5 * (double)n;
    double beta = 0.0;
    for (size_t i = 0; i < n; i++)
        beta += gp->y[i] * gp->alpha[i];
    beta *= 0.5;
    /* Written so that nothing cancels when a or b is huge (ML-II drives a
     * upwards, and the textbook form a log b - (a + n/2) log(b + beta) +
     * lgamma(a + n/2) - lgamma(a) lost every digit there, which once let an
     * optimiser "find" a likelihood of 1e42 at a = 1e56). */
    if (lml)
        *lml = lnpoch(a, hn) - a * log1p(beta / b) - hn * log(b + beta) - hn * log(2.0 * M_PI) -
               0.5 * pk_cholesky_logdet(gp->L);
    if (!grad)
        return PK_OK;
    memset(grad, 0, (ng + 2) * sizeof *grad);
    grad[ng] = a * (dpsi(a, hn) - log1p(beta / b));
    grad[ng + 1] = (a * beta - hn * b) / (b + beta);
    if (n == 0)
        return PK_OK;
    double tr;
    s = pk_gp_grad_core(gp, (a + hn) / (b + beta), grad, &tr);
    if (s)
        return s;
    grad[nk] = 0.5 * exp(gp->log_noise) * tr;
    return PK_OK;
}

int pk_tp_predict(pk_tp *tp, const pk_mat *Xs, double *loc, double *scale2, double *dof, int include_noise)
{
    pk_gp *gp = tp->gp;
    int s = pk_gp_predict(gp, Xs, loc, scale2, include_noise);
    if (s)
        return s;
    size_t n = gp->n;
    double a = exp(tp->log_a), b = exp(tp->log_b), beta = 0.0;
    for (size_t i = 0; i < n; i++)
        beta += gp->y[i] * gp->alpha[i];
    beta *= 0.5;
    double f = (b + beta) / (a + 0.5 * (double)n);
    for (size_t j = 0; j < Xs->rows; j++) {
        if (scale2)
            scale2[j] *= f;
        if (dof)
            dof[j] = 2.0 * a + (double)n;
    }
    return PK_OK;
}

double pk_student_t_logpdf(double x, double loc, double scale2, double dof)
{
    double z2 = (x - loc) * (x - loc) / (dof * scale2);
    return lgamma(0.5 * (dof + 1.0)) - lgamma(0.5 * dof) - 0.5 * log(dof * M_PI * scale2) -
           0.5 * (dof + 1.0) * log1p(z2);
}

void pk_tp_fix_a(pk_tp *tp, int fixed) { tp->fix_a = fixed != 0; }

static int tp_obj(void *ctx, const double *h, double *val, double *grad)
{
    pk_tp *tp = ctx;
    pk_tp_set_hyper(tp, h);
    int s = pk_tp_log_marginal(tp, val, grad);
    /* a zero gradient component keeps L-BFGS from ever moving log a */
    if (!s && grad && tp->fix_a)
        grad[pk_gp_nhyper(tp->gp)] = 0.0;
    return s;
}

int pk_tp_fit(pk_tp *tp, const pk_gp_fit_params *p, pk_rng *rng, double *lml, pk_err *err)
{
    if (tp->gp->n == 0)
        return pk_err_set(err, PK_EINVAL, "tp fit: no training data");
    size_t nh = pk_tp_nhyper(tp), ng = nh - 2;
    double *buf = malloc(3 * nh * sizeof *buf);
    if (!buf)
        return pk_err_set(err, PK_ENOMEM, "tp fit: out of memory");
    double *h = buf, *lo = buf + nh, *hi = buf + 2 * nh;
    pk_tp_get_hyper(tp, h);
    pk_gp_hyper_box(tp->gp, p, lo, hi);
    /* a > 1 keeps the predictive variance finite; b spans the usual log box */
    lo[ng] = tp->fix_a ? tp->log_a : log(1.01);
    hi[ng] = tp->fix_a ? tp->log_a : p->log_hi;
    lo[ng + 1] = p->log_lo;
    hi[ng + 1] = p->log_hi;
    int s = pk_gp_maximize(tp_obj, tp, h, nh, lo, hi, p, rng, lml, &tp->gp->info, err);
    if (!s) {
        pk_tp_set_hyper(tp, h);
        s = pk_gp_update(tp->gp);
    }
    free(buf);
    return s;
}

pk_gp_fit_info pk_tp_last_fit_info(const pk_tp *tp) { return tp->gp->info; }
