/* hyper.c — one MCMC sweep over the GP hyperparameters with Spearmint's
 * priors (Snoek et al. 2012), in a parameterisation that mixes.
 *
 * Spearmint slice-samples (mean, amp2, noise) jointly along a random
 * direction in natural units.  On noiseless objectives the noise posterior
 * piles up near zero (1e-7 and below), so every bracket along a random
 * direction shrinks to the noise's scale and the mean and amplitude stop
 * moving: measured on Branin, the mean stayed at one value from 20 to 40
 * observations while the standardised targets moved under it.  The same
 * posterior is sampled here with the mean in natural units and amp2 and the
 * noise on the log scale (the Jacobian is added to the log density), one
 * coordinate at a time; the length scales keep Spearmint's flat box prior in
 * natural units, also one at a time.
 */
#include <math.h>
#include <string.h>

#include "bo_priv.h"

typedef struct {
    pk_gp *gp;
    pk_gp_spearmint_state *st;
    double ymin, ymax;
    int which; /* 0: (mean, log amp2, log noise); 1: length scales */
} hyper_ctx;

static double hyper_logp(const double *x, void *vctx)
{
    hyper_ctx *c = vctx;
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

int pk_bo_hyper_sweep(pk_gp *gp, pk_gp_spearmint_state *s, pk_rng *rng)
{
    size_t n = pk_gp_n(gp);
    const double *y = pk_gp_y(gp);
    if (n == 0)
        return PK_EINVAL;
    hyper_ctx c = {gp, s, y[0], y[0], 0};
    for (size_t i = 1; i < n; i++) {
        c.ymin = fmin(c.ymin, y[i]);
        c.ymax = fmax(c.ymax, y[i]);
    }
    /* new data may leave the kept state outside the prior's support */
    if (s->mean < c.ymin || s->mean > c.ymax)
        s->mean = 0.5 * (c.ymin + c.ymax);
    if (!(s->noise > 1e-25))
        s->noise = 1e-25;
    double h[3] = {s->mean, log(s->amp2), log(s->noise)};
    int st = pk_gp_slice_sample(h, 3, hyper_logp, &c, 1.0, 1, 100, rng);
    if (st && st != PK_EMAXITER)
        return st;
    s->mean = h[0];
    s->amp2 = exp(h[1]);
    s->noise = exp(h[2]);
    c.which = 1;
    double ls[64];
    memcpy(ls, s->ls, s->dim * sizeof *ls);
    st = pk_gp_slice_sample(ls, s->dim, hyper_logp, &c, 1.0, 1, 100, rng);
    if (st && st != PK_EMAXITER)
        return st;
    memcpy(s->ls, ls, s->dim * sizeof *ls);
    return pk_gp_spearmint_apply(gp, s);
}
