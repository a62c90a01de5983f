/* fit.c — type-II maximum likelihood with GSL's BFGS and random restarts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>

#include "gp_priv.h"

pk_gp_fit_params pk_gp_fit_params_default(void)
{
    pk_gp_fit_params p = {.restarts = 2, .max_iter = 200, .log_lo = -5.0, .log_hi = 5.0, .gtol = 1e-5};
    return p;
}

int pk_gp_fit_params_check(const pk_gp_fit_params *p, pk_err *err)
{
    if (p->restarts < 0)
        return pk_err_set(err, PK_EINVAL, "gp fit: restarts must be >= 0 (got %d)", p->restarts);
    if (p->max_iter < 1)
        return pk_err_set(err, PK_EINVAL, "gp fit: max_iter must be >= 1 (got %d)", p->max_iter);
    if (!(p->log_lo < p->log_hi))
        return pk_err_set(err, PK_EINVAL, "gp fit: log_lo must be < log_hi");
    if (!(p->gtol > 0))
        return pk_err_set(err, PK_EINVAL, "gp fit: gtol must be > 0");
    return PK_OK;
}

typedef struct {
    pk_gp_objective f;
    void *ctx;
    size_t nh;
    const double *lo, *hi;
    double *h, *g;
    int nfail;
} min_ctx;

/* negative objective plus the soft-box penalty */
static double neg_fdf(const gsl_vector *v, min_ctx *c, gsl_vector *grad)
{
    for (size_t i = 0; i < c->nh; i++)
        c->h[i] = gsl_vector_get(v, i);
    double val;
    /* value-only calls (line searches) skip the O(n^3) gradient */
    if (c->f(c->ctx, c->h, &val, grad ? c->g : NULL) || !isfinite(val)) {
        c->nfail++;
        if (grad)
            gsl_vector_set_zero(grad);
        return 1e100;
    }
    double out = -val;
    for (size_t i = 0; i < c->nh; i++) {
        double gi = grad ? -c->g[i] : 0.0, lo = c->lo[i] - 2.0, hi = c->hi[i] + 2.0, x = c->h[i];
        if (x < lo) {
            out += (lo - x) * (lo - x);
            gi -= 2.0 * (lo - x);
        } else if (x > hi) {
            out += (x - hi) * (x - hi);
            gi += 2.0 * (x - hi);
        }
        if (grad)
            gsl_vector_set(grad, i, gi);
    }
    return out;
}

static double f_only(const gsl_vector *v, void *p) { return neg_fdf(v, p, NULL); }
static void df_only(const gsl_vector *v, void *p, gsl_vector *g) { neg_fdf(v, p, g); }
static void fdf(const gsl_vector *v, void *p, double *f, gsl_vector *g) { *f = neg_fdf(v, p, g); }

int pk_gp_maximize(pk_gp_objective f, void *ctx, double *h, size_t nh, const double *lo, const double *hi,
                   const pk_gp_fit_params *p, pk_rng *rng, double *best, pk_err *err)
{
    int s = pk_gp_fit_params_check(p, err);
    if (s)
        return s;
    double *buf = malloc(4 * nh * sizeof *buf);
    gsl_vector *x = gsl_vector_alloc(nh);
    gsl_multimin_fdfminimizer *m = gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, nh);
    if (!buf || !x || !m) {
        free(buf);
        if (x)
            gsl_vector_free(x);
        if (m)
            gsl_multimin_fdfminimizer_free(m);
        return pk_err_set(err, PK_ENOMEM, "gp fit: out of memory");
    }
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    min_ctx c = {f, ctx, nh, lo, hi, buf, buf + nh, 0};
    double *start = buf + 2 * nh, *bestx = buf + 3 * nh, bestv = INFINITY;
    memcpy(start, h, nh * sizeof *h);
    gsl_multimin_function_fdf fn = {f_only, df_only, fdf, nh, &c};
    for (int r = 0; r <= p->restarts; r++) {
        if (r > 0)
            for (size_t i = 0; i < nh; i++)
                start[i] = lo[i] + (hi[i] - lo[i]) * pk_rng_uniform(rng);
        for (size_t i = 0; i < nh; i++)
            gsl_vector_set(x, i, start[i]);
        if (gsl_multimin_fdfminimizer_set(m, &fn, x, 0.1, 0.1))
            continue;
        double fprev = gsl_multimin_fdfminimizer_minimum(m);
        for (int it = 0; it < p->max_iter; it++) {
            if (gsl_multimin_fdfminimizer_iterate(m))
                break;
            if (gsl_multimin_test_gradient(m->gradient, p->gtol) == GSL_SUCCESS)
                break;
            /* L-BFGS-B's default relative decrease test (factr 1e7), so that
             * fits stop where scipy's (and scikit-learn's) would */
            double fnow = gsl_multimin_fdfminimizer_minimum(m);
            if (fprev - fnow <= 1e7 * 2.220446049250313e-16 * fmax(fmax(fabs(fprev), fabs(fnow)), 1.0))
                break;
            fprev = fnow;
        }
        double v = gsl_multimin_fdfminimizer_minimum(m);
        if (v < bestv && v < 1e99) {
            bestv = v;
            for (size_t i = 0; i < nh; i++)
                bestx[i] = gsl_vector_get(m->x, i);
        }
    }
    gsl_set_error_handler(old);
    gsl_multimin_fdfminimizer_free(m);
    gsl_vector_free(x);
    if (!isfinite(bestv)) {
        free(buf);
        return pk_err_set(err, PK_ESING, "gp fit: the marginal likelihood could not be evaluated at any start");
    }
    memcpy(h, bestx, nh * sizeof *h);
    /* report the objective itself, without the penalty */
    double val = NAN;
    f(ctx, h, &val, NULL);
    if (best)
        *best = val;
    free(buf);
    return PK_OK;
}

void pk_gp_hyper_box(const pk_gp *gp, const pk_gp_fit_params *p, double *lo, double *hi)
{
    size_t nk = gp->kernel->np;
    for (size_t i = 0; i < nk; i++) {
        lo[i] = p->log_lo;
        hi[i] = p->log_hi;
    }
    lo[nk] = p->log_lo - 8.0; /* noise may need to be far smaller than the signal */
    hi[nk] = p->log_hi;
    if (gp->mean_mode == PK_GP_MEAN_CONSTANT) {
        double ymin = 0, ymax = 0;
        for (size_t i = 0; i < gp->n; i++) {
            if (i == 0 || gp->y[i] < ymin)
                ymin = gp->y[i];
            if (i == 0 || gp->y[i] > ymax)
                ymax = gp->y[i];
        }
        lo[nk + 1] = ymin;
        hi[nk + 1] = ymax;
    }
}

static int gp_obj(void *ctx, const double *h, double *val, double *grad)
{
    pk_gp *gp = ctx;
    pk_gp_set_hyper(gp, h);
    return pk_gp_log_marginal(gp, val, grad);
}

int pk_gp_fit(pk_gp *gp, const pk_gp_fit_params *p, pk_rng *rng, double *lml, pk_err *err)
{
    if (gp->n == 0)
        return pk_err_set(err, PK_EINVAL, "gp fit: no training data");
    size_t nh = pk_gp_nhyper(gp);
    double *buf = malloc(3 * nh * sizeof *buf);
    if (!buf)
        return pk_err_set(err, PK_ENOMEM, "gp fit: out of memory");
    double *h = buf, *lo = buf + nh, *hi = buf + 2 * nh;
    pk_gp_get_hyper(gp, h);
    pk_gp_hyper_box(gp, p, lo, hi);
    int s = pk_gp_maximize(gp_obj, gp, h, nh, lo, hi, p, rng, lml, err);
    if (!s) {
        pk_gp_set_hyper(gp, h);
        s = pk_gp_update(gp);
    }
    free(buf);
    return s;
}
