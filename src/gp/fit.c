/* fit.c — type-II maximum likelihood: L-BFGS with random restarts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_vector.h>

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
    int nfail, nev, ngrad, nit;
} min_ctx;

/* negative objective plus the soft-box penalty */
static double neg_fdf(const gsl_vector *v, min_ctx *c, gsl_vector *grad)
{
    for (size_t i = 0; i < c->nh; i++)
        c->h[i] = gsl_vector_get(v, i);
    double val;
    if (grad)
        c->ngrad++;
    else
        c->nev++;
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

/* L-BFGS (Nocedal 1980) with a backtracking Armijo line search that starts at
 * the unit step (1/|g| on the first iteration), memory 10.  A trial point is
 * evaluated without its gradient (one Cholesky); only an accepted one gets the
 * gradient, which reuses that factorisation (pk_gp_set_hyper keeps it when
 * the hyperparameters do not change), so a rejected trial costs a third of
 * an evaluation with gradient. */
#define LBFGS_M 10

static double eval_fg(min_ctx *c, const double *x, double *g)
{
    gsl_vector_const_view v = gsl_vector_const_view_array(x, c->nh);
    if (!g)
        return neg_fdf(&v.vector, c, NULL);
    gsl_vector_view gv = gsl_vector_view_array(g, c->nh);
    return neg_fdf(&v.vector, c, &gv.vector);
}

static double lbfgs(min_ctx *c, double *x, const pk_gp_fit_params *p, double *work)
{
    size_t n = c->nh;
    double *g = work, *d = g + n, *xn = d + n, *gn = xn + n, *S = gn + n, *Y = S + LBFGS_M * n, *rho = Y + LBFGS_M * n,
           *al = rho + LBFGS_M;
    int hist = 0, head = 0;
    c->nev++; /* the value comes with this first gradient */
    double f = eval_fg(c, x, g);
    if (f >= 1e99)
        return f;
    for (int it = 0; it < p->max_iter; it++) {
        double gmax = 0;
        for (size_t i = 0; i < n; i++)
            gmax = fmax(gmax, fabs(g[i]));
        if (gmax < p->gtol)
            break;
        /* two-loop recursion: d = -H g */
        for (size_t i = 0; i < n; i++)
            d[i] = -g[i];
        for (int k = 0; k < hist; k++) {
            int j = (head - 1 - k + LBFGS_M) % LBFGS_M;
            double a = 0;
            for (size_t i = 0; i < n; i++)
                a += S[j * n + i] * d[i];
            al[j] = rho[j] * a;
            for (size_t i = 0; i < n; i++)
                d[i] -= al[j] * Y[j * n + i];
        }
        if (hist) {
            int j = (head - 1 + LBFGS_M) % LBFGS_M;
            double sy = 0, yy = 0;
            for (size_t i = 0; i < n; i++) {
                sy += S[j * n + i] * Y[j * n + i];
                yy += Y[j * n + i] * Y[j * n + i];
            }
            for (size_t i = 0; i < n; i++)
                d[i] *= sy / yy;
        }
        for (int k = hist - 1; k >= 0; k--) {
            int j = (head - 1 - k + LBFGS_M) % LBFGS_M;
            double b = 0;
            for (size_t i = 0; i < n; i++)
                b += Y[j * n + i] * d[i];
            b *= rho[j];
            for (size_t i = 0; i < n; i++)
                d[i] += S[j * n + i] * (al[j] - b);
        }
        double gtd = 0, gn2 = 0;
        for (size_t i = 0; i < n; i++) {
            gtd += g[i] * d[i];
            gn2 += g[i] * g[i];
        }
        if (!(gtd < 0)) { /* not a descent direction: restart from steepest descent */
            hist = 0;
            for (size_t i = 0; i < n; i++)
                d[i] = -g[i];
            gtd = -gn2;
        }
        double t = hist ? 1.0 : fmin(1.0, 1.0 / sqrt(gn2)), fnew = 1e100;
        int ok = 0;
        for (int ls = 0; ls < 40; ls++) {
            for (size_t i = 0; i < n; i++)
                xn[i] = x[i] + t * d[i];
            fnew = eval_fg(c, xn, NULL);
            if (fnew < 1e99 && fnew <= f + 1e-4 * t * gtd) {
                fnew = eval_fg(c, xn, gn);
                ok = fnew < 1e99;
                break;
            }
            t *= (fnew < 1e99) ? fmax(0.1, fmin(0.5, -gtd * t / (2.0 * (fnew - f - gtd * t)))) : 0.1;
        }
        if (!ok)
            break;
        c->nit++;
        double sy = 0;
        for (size_t i = 0; i < n; i++) {
            S[head * n + i] = xn[i] - x[i];
            Y[head * n + i] = gn[i] - g[i];
            sy += S[head * n + i] * Y[head * n + i];
        }
        if (sy > 1e-12) {
            rho[head] = 1.0 / sy;
            head = (head + 1) % LBFGS_M;
            if (hist < LBFGS_M)
                hist++;
        }
        double fold = f;
        memcpy(x, xn, n * sizeof *x);
        memcpy(g, gn, n * sizeof *g);
        f = fnew;
        /* L-BFGS-B's default relative decrease test (factr 1e7), so that fits
         * stop where scipy's (and scikit-learn's) would */
        if (fold - f <= 1e7 * 2.220446049250313e-16 * fmax(fmax(fabs(fold), fabs(f)), 1.0))
            break;
    }
    return f;
}

int pk_gp_maximize(pk_gp_objective f, void *ctx, double *h, size_t nh, const double *lo, const double *hi,
                   const pk_gp_fit_params *p, pk_rng *rng, double *best, pk_gp_fit_info *info, pk_err *err)
{
    int s = pk_gp_fit_params_check(p, err);
    if (s)
        return s;
    size_t wn = 4 * nh + 2 * LBFGS_M * nh + 2 * LBFGS_M;
    double *buf = malloc((4 * nh + wn) * sizeof *buf);
    if (!buf)
        return pk_err_set(err, PK_ENOMEM, "gp fit: out of memory");
    min_ctx c = {f, ctx, nh, lo, hi, buf, buf + nh, 0, 0, 0, 0};
    double *x = buf + 2 * nh, *bestx = buf + 3 * nh, *work = buf + 4 * nh, bestv = INFINITY;
    for (int r = 0; r <= p->restarts; r++) {
        for (size_t i = 0; i < nh; i++)
            x[i] = r == 0 ? h[i] : lo[i] + (hi[i] - lo[i]) * pk_rng_uniform(rng);
        double v = lbfgs(&c, x, p, work);
        if (v < bestv && v < 1e99) {
            bestv = v;
            memcpy(bestx, x, nh * sizeof *x);
        }
    }
    if (info) {
        info->starts = p->restarts + 1;
        info->iterations = c.nit;
        info->evaluations = c.nev;
        info->gradients = c.ngrad;
        info->failures = c.nfail;
    }
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
    int s = pk_gp_maximize(gp_obj, gp, h, nh, lo, hi, p, rng, lml, &gp->info, err);
    if (!s) {
        pk_gp_set_hyper(gp, h);
        s = pk_gp_update(gp);
    }
    free(buf);
    return s;
}

pk_gp_fit_info pk_gp_last_fit_info(const pk_gp *gp) { return gp->info; }
