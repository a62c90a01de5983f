/* slice.c — slice sampling and Spearmint's GP hyperparameter posterior.
 *
 * The sampler follows Neal (2003): a randomly placed bracket of width sigma,
 * stepping out, then shrinkage towards the current point.  Spearmint
 * (Snoek et al. 2012) puts the priors below on the GP hyperparameters;
 * pk_gp_spearmint_sweep samples that posterior (see the note above it).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gp_priv.h"

#define SHRINK_MAX 200

static double along(pk_gp_logdensity_fn f, void *ctx, const double *x0, const double *dir, double z, double *tmp,
                    size_t n)
{
    for (size_t i = 0; i < n; i++)
        tmp[i] = x0[i] + z * dir[i];
    return f(tmp, ctx);
}

static int slice_dir(double *x, size_t n, const double *dir, pk_gp_logdensity_fn f, void *ctx, double sigma,
                     int max_steps_out, pk_rng *rng, double *tmp)
{
    double f0 = along(f, ctx, x, dir, 0.0, tmp, n);
    if (!isfinite(f0))
        return PK_EDOM;
    double level = f0 + log(pk_rng_uniform_pos(rng));
    double upper = sigma * pk_rng_uniform(rng), lower = upper - sigma;
    for (int s = 0; s < max_steps_out && along(f, ctx, x, dir, lower, tmp, n) > level; s++)
        lower -= sigma;
    for (int s = 0; s < max_steps_out && along(f, ctx, x, dir, upper, tmp, n) > level; s++)
        upper += sigma;
    for (int it = 0; it < SHRINK_MAX; it++) {
        double z = lower + (upper - lower) * pk_rng_uniform(rng);
        double fz = along(f, ctx, x, dir, z, tmp, n);
        if (fz > level) {
            for (size_t i = 0; i < n; i++)
                x[i] += z * dir[i];
            return PK_OK;
        }
        if (z < 0)
            lower = z;
        else if (z > 0)
            upper = z;
        else
            break;
    }
    return PK_EMAXITER;
}

int pk_gp_slice_sample(double *x, size_t n, pk_gp_logdensity_fn f, void *ctx, double sigma, int compwise,
                    int max_steps_out, pk_rng *rng)
{
    if (!x || !f || n == 0 || !(sigma > 0))
        return PK_EINVAL;
    double *buf = malloc(2 * n * sizeof *buf);
    size_t *perm = compwise ? malloc(n * sizeof *perm) : NULL;
    if (!buf || (compwise && !perm)) {
        free(buf);
        free(perm);
        return PK_ENOMEM;
    }
    double *dir = buf, *tmp = buf + n;
    int s = PK_OK;
    if (compwise) {
        pk_rng_permutation(rng, perm, n);
        for (size_t k = 0; k < n && !s; k++) {
            memset(dir, 0, n * sizeof *dir);
            dir[perm[k]] = 1.0;
            s = slice_dir(x, n, dir, f, ctx, sigma, max_steps_out, rng, tmp);
        }
    } else {
        double nrm = 0.0;
        for (size_t i = 0; i < n; i++) {
            dir[i] = pk_rng_normal(rng);
            nrm += dir[i] * dir[i];
        }
        nrm = sqrt(nrm);
        for (size_t i = 0; i < n; i++)
            dir[i] /= nrm;
        s = slice_dir(x, n, dir, f, ctx, sigma, max_steps_out, rng, tmp);
    }
    free(buf);
    free(perm);
    return s;
}

/* ---- Spearmint's priors ------------------------------------------------------ */

#define SPEARMINT_MAX_LS 2.0
#define SPEARMINT_NOISE_SCALE 0.1
#define SPEARMINT_AMP2_SCALE 1.0

double pk_gp_spearmint_log_prior(const pk_gp_spearmint_state *s, double ymin, double ymax)
{
    if (s->mean < ymin || s->mean > ymax || !(s->amp2 > 0) || !(s->noise > 0))
        return -INFINITY;
    for (size_t j = 0; j < s->dim; j++)
        if (!(s->ls[j] > 0) || s->ls[j] > SPEARMINT_MAX_LS)
            return -INFINITY;
    double r = SPEARMINT_NOISE_SCALE / s->noise;
    double lp = log(log1p(r * r));
    double la = log(s->amp2) / SPEARMINT_AMP2_SCALE;
    return lp - 0.5 * la * la;
}

void pk_gp_spearmint_init(pk_gp_spearmint_state *s, size_t dim, const double *y, size_t n)
{
    memset(s, 0, sizeof *s);
    s->dim = dim;
    double m = 0, v = 0;
    pk_mean_var(y, n, &m, &v);
    s->mean = n ? m : 0.0;
    s->amp2 = sqrt(v) + 1e-4;
    s->noise = 1e-3;
    for (size_t j = 0; j < dim && j < 64; j++)
        s->ls[j] = 1.0;
}

static int stationary_ard(const pk_gp_kernel *k)
{
    return !k->a && k->ard && k->type <= PK_GP_KERNEL_MATERN52;
}

int pk_gp_spearmint_apply(pk_gp *gp, const pk_gp_spearmint_state *s)
{
    pk_gp_kernel *k = gp->kernel;
    if (!stationary_ard(k) || gp->mean_mode != PK_GP_MEAN_CONSTANT || s->dim != k->dim || s->dim > 64)
        return PK_EINVAL;
    double th[65];
    th[0] = log(s->amp2);
    for (size_t j = 0; j < s->dim; j++)
        th[1 + j] = log(s->ls[j]);
    pk_gp_kernel_set_params(k, th);
    /* Spearmint adds amp2 * 1e-6 to the diagonal besides the noise */
    gp->noise_floor = 0.0;
    gp->log_noise = log(s->noise + 1e-6 * s->amp2);
    gp->mean = s->mean;
    gp->fresh = 0;
    return PK_OK;
}

/* One sweep samples Spearmint's posterior, but not with Spearmint's moves.
 * Spearmint slice-samples (mean, amp2, noise) jointly along a random
 * direction in natural units.  On noiseless objectives the noise posterior
 * piles up near zero (1e-7 and below), so every bracket along a random
 * direction shrinks to the noise's scale and the mean and amplitude stop
 * moving: measured on Branin, the mean stayed at one value from 20 to 40
 * observations while the standardised targets moved under it.  Here the mean
 * is updated in natural units and amp2 and the noise on the log scale (the
 * Jacobian is added to the log density), one coordinate at a time; the length
 * scales keep Spearmint's flat box prior in natural units, also one at a time. */
typedef struct {
    pk_gp *gp;
    pk_gp_spearmint_state *st;
    double ymin, ymax;
    int which; /* 0: (mean, log amp2, log noise); 1: length scales */
} sweep_ctx;

static double sweep_logp(const double *x, void *vctx)
{
    sweep_ctx *c = vctx;
    pk_gp_spearmint_state s = *c->st;
    double jac = 0.0;
    if (c->which == 0) {
        if (!(x[1] < 30 && x[2] < 30 && x[2] > -60))
            return -INFINITY;
        s.mean = x[0];
        s.amp2 = exp(x[1]);
        s.noise = exp(x[2]);
        jac = x[1] + x[2];
    } else {
        memcpy(s.ls, x, s.dim * sizeof *x);
    }
    double lp = pk_gp_spearmint_log_prior(&s, c->ymin, c->ymax);
    if (!isfinite(lp))
        return -INFINITY;
    if (c->which == 1)
        lp = 0.0; /* the box prior on the length scales is flat inside */
    double lml;
    if (pk_gp_spearmint_apply(c->gp, &s) || pk_gp_log_marginal(c->gp, &lml, NULL) || !isfinite(lml))
        return -INFINITY;
    return lp + jac + lml;
}

int pk_gp_spearmint_sweep(pk_gp *gp, pk_gp_spearmint_state *s, pk_rng *rng)
{
    if (!gp || !s || !rng || gp->n == 0 || s->dim == 0 || s->dim > 64)
        return PK_EINVAL;
    sweep_ctx c = {gp, s, gp->y[0], gp->y[0], 0};
    for (size_t i = 1; i < gp->n; i++) {
        c.ymin = fmin(c.ymin, gp->y[i]);
        c.ymax = fmax(c.ymax, gp->y[i]);
    }
    /* new data may leave the kept state outside the prior's support */
    if (s->mean < c.ymin || s->mean > c.ymax)
        s->mean = 0.5 * (c.ymin + c.ymax);
    if (!(s->noise > 1e-25))
        s->noise = 1e-25;
    double h[3] = {s->mean, log(s->amp2), log(s->noise)};
    int st = pk_gp_slice_sample(h, 3, sweep_logp, &c, 1.0, 1, 100, rng);
    if (st && st != PK_EMAXITER)
        return st;
    s->mean = h[0];
    s->amp2 = exp(h[1]);
    s->noise = exp(h[2]);
    c.which = 1;
    double ls[64];
    memcpy(ls, s->ls, s->dim * sizeof *ls);
    st = pk_gp_slice_sample(ls, s->dim, sweep_logp, &c, 1.0, 1, 100, rng);
    if (st && st != PK_EMAXITER)
        return st;
    memcpy(s->ls, ls, s->dim * sizeof *ls);
    return pk_gp_spearmint_apply(gp, s);
}
