/* HMC and NUTS with Stan's adaptation: dual-averaging step size and a
 * diagonal metric estimated in doubling windows.  NUTS is the multinomial
 * variant with the generalised no-U-turn criterion and the extra checks
 * across sub-trees (Betancourt 2017; Stan >= 2.26). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/infer.h"

pk_infer_hmc_params pk_infer_hmc_params_default(void)
{
    pk_infer_hmc_params p = {4, 1000, 1000, 1, 10, 16, 0.8, 1, 2.0};
    return p;
}

int pk_infer_hmc_params_check(const pk_infer_hmc_params *p, pk_err *err)
{
    if (p->chains < 1 || p->chains > 1024)
        return pk_err_set(err, PK_EINVAL, "hmc: chains must be in [1, 1024], got %zu", p->chains);
    if (p->draws < 1)
        return pk_err_set(err, PK_EINVAL, "hmc: draws must be >= 1");
    if (p->max_depth < 1 || p->max_depth > 20)
        return pk_err_set(err, PK_EINVAL, "hmc: max_depth must be in [1, 20]");
    if (!p->nuts && (p->n_leapfrog < 1 || p->n_leapfrog > 100000))
        return pk_err_set(err, PK_EINVAL, "hmc: n_leapfrog must be in [1, 100000]");
    if (!(p->target_accept > 0 && p->target_accept < 1))
        return pk_err_set(err, PK_EINVAL, "hmc: target_accept must be in (0, 1), got %g", p->target_accept);
    if (!(p->init_radius >= 0 && isfinite(p->init_radius)))
        return pk_err_set(err, PK_EINVAL, "hmc: init_radius must be finite and >= 0");
    return PK_OK;
}

void pk_infer_draws_free(pk_infer_draws *d)
{
    if (!d)
        return;
    free(d->x);
    free(d->lp);
    free(d->step_size);
    free(d);
}

/* A phase-space point. */
typedef struct point {
    double *q, *p, *g, lp;
} point;

typedef struct chain {
    pk_infer_logdensity_fn f;
    void *user;
    size_t d, max_depth;
    double *minv, eps;
    pk_rng rng;
    point z;                       /* the integrator's current point */
    double *buf;                   /* everything below is carved from here */
    point *prop;                   /* per depth: proposals of right sub-trees */
    double **rho_l, **rho_r, **ps_le, **ps_rb, **p_le, **p_rb;
    size_t n_leapfrog, grad_evals;
    double sum_metro;
    int divergent;
} chain;

static void pcopy(point *dst, const point *src, size_t d)
{
    memcpy(dst->q, src->q, d * sizeof(double));
    memcpy(dst->p, src->p, d * sizeof(double));
    memcpy(dst->g, src->g, d * sizeof(double));
    dst->lp = src->lp;
}

static double kinetic(const chain *c, const double *p)
{
    double k = 0;
    for (size_t i = 0; i < c->d; i++)
        k += p[i] * p[i] * c->minv[i];
    return 0.5 * k;
}

static double hamiltonian(const chain *c, const point *z)
{
    double h = -z->lp + kinetic(c, z->p);
    return isfinite(h) ? h : INFINITY;
}

static void leapfrog(chain *c, point *z, double eps)
{
    size_t d = c->d;
    for (size_t i = 0; i < d; i++)
        z->p[i] += 0.5 * eps * z->g[i];
    for (size_t i = 0; i < d; i++)
        z->q[i] += eps * c->minv[i] * z->p[i];
    z->lp = c->f(z->q, z->g, c->user);
    c->grad_evals++;
    if (!isfinite(z->lp))
        return; /* divergent: the caller sees H = inf */
    for (size_t i = 0; i < d; i++)
        z->p[i] += 0.5 * eps * z->g[i];
}

static void sharp(const chain *c, const double *p, double *out)
{
    for (size_t i = 0; i < c->d; i++)
        out[i] = c->minv[i] * p[i];
}

static int criterion(const chain *c, const double *ps_minus, const double *ps_plus, const double *rho)
{
    double a = 0, b = 0;
    for (size_t i = 0; i < c->d; i++) {
        a += ps_plus[i] * rho[i];
        b += ps_minus[i] * rho[i];
    }
    return a > 0 && b > 0;
}

static void vadd(double *dst, const double *a, const double *b, size_t d)
{
    for (size_t i = 0; i < d; i++)
        dst[i] = a[i] + b[i];
}

/* Stan's build_tree; z_propose, p_sharp_beg/end, rho, p_beg/end are outputs
 * (rho accumulated); returns 0 when the sub-tree is invalid. */
static int build_tree(chain *c, size_t depth, point *z_propose, double *ps_beg, double *ps_end, double *rho,
                      double *p_beg, double *p_end, double H0, double sign, double *log_sum_weight)
{
    size_t d = c->d;
    if (depth == 0) {
        leapfrog(c, &c->z, sign * c->eps);
        c->n_leapfrog++;
        double h = hamiltonian(c, &c->z);
        if (h - H0 > 1000.0)
            c->divergent = 1;
        *log_sum_weight = pk_logaddexp(*log_sum_weight, H0 - h);
        c->sum_metro += H0 - h > 0 ? 1.0 : exp(H0 - h);
        pcopy(z_propose, &c->z, d);
        sharp(c, c->z.p, ps_beg);
        memcpy(ps_end, ps_beg, d * sizeof(double));
        for (size_t i = 0; i < d; i++)
            rho[i] += c->z.p[i];
        memcpy(p_beg, c->z.p, d * sizeof(double));
        memcpy(p_end, c->z.p, d * sizeof(double));
        return !c->divergent;
    }
    double *rho_l = c->rho_l[depth], *rho_r = c->rho_r[depth];
    double *ps_le = c->ps_le[depth], *ps_rb = c->ps_rb[depth], *p_le = c->p_le[depth], *p_rb = c->p_rb[depth];
    memset(rho_l, 0, d * sizeof(double));
    double lsw_l = -INFINITY;
    if (!build_tree(c, depth - 1, z_propose, ps_beg, ps_le, rho_l, p_beg, p_le, H0, sign, &lsw_l))
        return 0;
    point *zr = &c->prop[depth];
    pcopy(zr, &c->z, d);
    memset(rho_r, 0, d * sizeof(double));
    double lsw_r = -INFINITY;
    if (!build_tree(c, depth - 1, zr, ps_rb, ps_end, rho_r, p_rb, p_end, H0, sign, &lsw_r))
        return 0;
    double lsw_sub = pk_logaddexp(lsw_l, lsw_r);
    *log_sum_weight = pk_logaddexp(*log_sum_weight, lsw_sub);
    if (pk_rng_uniform(&c->rng) < exp(lsw_r - lsw_sub))
        pcopy(z_propose, zr, d);
    /* rho_sub = rho_l + rho_r; rho += rho_sub */
    double *rho_sub = c->rho_l[0]; /* depth-0 slot is free scratch */
    vadd(rho_sub, rho_l, rho_r, d);
    for (size_t i = 0; i < d; i++)
        rho[i] += rho_sub[i];
    int persist = criterion(c, ps_beg, ps_end, rho_sub);
    vadd(rho_sub, rho_l, p_rb, d);
    persist &= criterion(c, ps_beg, ps_rb, rho_sub);
    vadd(rho_sub, rho_r, p_le, d);
    persist &= criterion(c, ps_le, ps_end, rho_sub);
    return persist;
}

static int chain_alloc(chain *c, size_t d, size_t max_depth)
{
    size_t L = max_depth + 1;
    /* points: z + L proposals + 4 transition-level points; vectors: 6 per level + misc */
    size_t nvec = 3 * (1 + L + 4) + 6 * L + 16;
    c->buf = calloc(nvec * d + 1, sizeof(double));
    c->prop = calloc(L + 4, sizeof(point));
    c->rho_l = calloc(6 * L, sizeof(double *));
    if (!c->buf || !c->prop || !c->rho_l)
        return PK_ENOMEM;
    c->rho_r = c->rho_l + L;
    c->ps_le = c->rho_r + L;
    c->ps_rb = c->ps_le + L;
    c->p_le = c->ps_rb + L;
    c->p_rb = c->p_le + L;
    double *b = c->buf;
    c->z.q = b, b += d;
    c->z.p = b, b += d;
    c->z.g = b, b += d;
    for (size_t i = 0; i < L + 4; i++) {
        c->prop[i].q = b, b += d;
        c->prop[i].p = b, b += d;
        c->prop[i].g = b, b += d;
    }
    for (size_t i = 0; i < 6 * L; i++)
        c->rho_l[i] = b, b += d;
    c->minv = b;
    b += d;
    return PK_OK;
}

static void chain_free(chain *c)
{
    free(c->buf);
    free(c->prop);
    free(c->rho_l);
}

/* One NUTS transition from the point in *cur (updated in place).
 * Returns the acceptance statistic. */
static double nuts_transition(chain *c, point *cur, double *scratch)
{
    size_t d = c->d, L = c->max_depth + 1;
    point *z_fwd = &c->prop[L], *z_bck = &c->prop[L + 1], *z_sample = &c->prop[L + 2], *z_propose = &c->prop[L + 3];
    double *rho = scratch, *rho_fwd = rho + d, *rho_bck = rho_fwd + d, *ps_fb = rho_bck + d, *ps_ff = ps_fb + d,
           *ps_bf = ps_ff + d, *ps_bb = ps_bf + d, *p_fb = ps_bb + d, *p_ff = p_fb + d, *p_bf = p_ff + d,
           *p_bb = p_bf + d, *tmp = p_bb + d;
    for (size_t i = 0; i < d; i++)
        cur->p[i] = pk_rng_normal(&c->rng) / sqrt(c->minv[i]);
    pcopy(&c->z, cur, d);
    pcopy(z_fwd, cur, d);
    pcopy(z_bck, cur, d);
    pcopy(z_sample, cur, d);
    pcopy(z_propose, cur, d);
    sharp(c, cur->p, ps_fb);
    memcpy(ps_ff, ps_fb, d * sizeof(double));
    memcpy(ps_bf, ps_fb, d * sizeof(double));
    memcpy(ps_bb, ps_fb, d * sizeof(double));
    memcpy(p_fb, cur->p, d * sizeof(double));
    memcpy(p_ff, cur->p, d * sizeof(double));
    memcpy(p_bf, cur->p, d * sizeof(double));
    memcpy(p_bb, cur->p, d * sizeof(double));
    memcpy(rho, cur->p, d * sizeof(double));
    double H0 = hamiltonian(c, cur), lsw = 0;
    c->n_leapfrog = 0;
    c->sum_metro = 0;
    c->divergent = 0;
    for (size_t depth = 0; depth < c->max_depth;) {
        memset(rho_fwd, 0, d * sizeof(double));
        memset(rho_bck, 0, d * sizeof(double));
        double lsw_sub = -INFINITY;
        int valid;
        if (pk_rng_uniform(&c->rng) > 0.5) {
            pcopy(&c->z, z_fwd, d);
            memcpy(rho_bck, rho, d * sizeof(double));
            memcpy(p_bf, p_fb, d * sizeof(double));
            memcpy(ps_bf, ps_fb, d * sizeof(double));
            valid = build_tree(c, depth, z_propose, ps_fb, ps_ff, rho_fwd, p_fb, p_ff, H0, 1.0, &lsw_sub);
            pcopy(z_fwd, &c->z, d);
        } else {
            pcopy(&c->z, z_bck, d);
            memcpy(rho_fwd, rho, d * sizeof(double));
            memcpy(p_fb, p_bf, d * sizeof(double));
            memcpy(ps_fb, ps_bf, d * sizeof(double));
            valid = build_tree(c, depth, z_propose, ps_bf, ps_bb, rho_bck, p_bf, p_bb, H0, -1.0, &lsw_sub);
            pcopy(z_bck, &c->z, d);
        }
        if (!valid)
            break;
        depth++;
        if (lsw_sub > lsw || pk_rng_uniform(&c->rng) < exp(lsw_sub - lsw))
            pcopy(z_sample, z_propose, d);
        lsw = pk_logaddexp(lsw, lsw_sub);
        vadd(rho, rho_bck, rho_fwd, d);
        int persist = criterion(c, ps_bb, ps_ff, rho);
        vadd(tmp, rho_bck, p_fb, d);
        persist &= criterion(c, ps_bb, ps_fb, tmp);
        vadd(tmp, rho_fwd, p_bf, d);
        persist &= criterion(c, ps_bf, ps_ff, tmp);
        if (!persist)
            break;
    }
    pcopy(cur, z_sample, d);
    return c->n_leapfrog ? c->sum_metro / (double)c->n_leapfrog : 0.0;
}

static double hmc_transition(chain *c, point *cur, size_t n_leapfrog)
{
    size_t d = c->d;
    for (size_t i = 0; i < d; i++)
        cur->p[i] = pk_rng_normal(&c->rng) / sqrt(c->minv[i]);
    double H0 = hamiltonian(c, cur);
    pcopy(&c->z, cur, d);
    c->divergent = 0;
    /* A fixed path length resonates with near-Gaussian targets (it can bring
     * the trajectory back where it started); a random length drawn
     * independently of the state keeps detailed balance and breaks that. */
    size_t lo = (n_leapfrog + 1) / 2, steps = lo + (size_t)pk_rng_below(&c->rng, n_leapfrog + 1);
    for (size_t s = 0; s < steps; s++) {
        leapfrog(c, &c->z, c->eps);
        if (hamiltonian(c, &c->z) - H0 > 1000.0) {
            c->divergent = 1;
            break;
        }
    }
    double h = c->divergent ? INFINITY : hamiltonian(c, &c->z);
    double a = H0 - h > 0 ? 1.0 : exp(H0 - h);
    if (pk_rng_uniform(&c->rng) < a)
        pcopy(cur, &c->z, d);
    return a;
}

/* Stan's heuristic: double or halve eps until the one-step acceptance crosses 0.8. */
static void init_stepsize(chain *c, const point *cur, point *tmp)
{
    size_t d = c->d;
    for (int it = 0; it < 100; it++) {
        pcopy(tmp, cur, d);
        for (size_t i = 0; i < d; i++)
            tmp->p[i] = pk_rng_normal(&c->rng) / sqrt(c->minv[i]);
        double H0 = hamiltonian(c, tmp);
        pcopy(&c->z, tmp, d);
        leapfrog(c, &c->z, c->eps);
        double dH = H0 - hamiltonian(c, &c->z);
        int up = dH > log(0.8);
        if (it == 0) {
            c->eps *= up ? 2.0 : 0.5;
            continue;
        }
        /* keep moving in the first direction until it flips */
        static const double lo = 1e-10, hi = 1e7;
        if (up) {
            if (c->eps > hi)
                break;
            c->eps *= 2.0;
            pcopy(&c->z, tmp, d);
            leapfrog(c, &c->z, c->eps);
            if (H0 - hamiltonian(c, &c->z) <= log(0.8)) {
                c->eps *= 0.5;
                break;
            }
        } else {
            if (c->eps < lo)
                break;
            c->eps *= 0.5;
            pcopy(&c->z, tmp, d);
            leapfrog(c, &c->z, c->eps);
            if (H0 - hamiltonian(c, &c->z) > log(0.8))
                break;
        }
    }
}

typedef struct dual_avg {
    double mu, s_bar, x_bar, counter;
} dual_avg;

static void da_restart(dual_avg *a, double eps)
{
    a->mu = log(10 * eps);
    a->s_bar = a->x_bar = a->counter = 0;
}

static double da_learn(dual_avg *a, double stat, double delta)
{
    const double gamma = 0.05, t0 = 10, kappa = 0.75;
    a->counter += 1;
    if (stat > 1)
        stat = 1;
    double eta = 1.0 / (a->counter + t0);
    a->s_bar = (1 - eta) * a->s_bar + eta * (delta - stat);
    double x = a->mu - a->s_bar * sqrt(a->counter) / gamma;
    double xe = pow(a->counter, -kappa);
    a->x_bar = (1 - xe) * a->x_bar + xe * x;
    return exp(x);
}

static int run_chain(pk_infer_logdensity_fn f, void *user, size_t d, const double *init, const pk_infer_hmc_params *par,
                     uint64_t seed, size_t ci, pk_infer_draws *out)
{
    chain c;
    memset(&c, 0, sizeof c);
    c.f = f;
    c.user = user;
    c.d = d;
    c.max_depth = par->nuts ? par->max_depth : 1;
    pk_rng_seed_stream(&c.rng, seed, ci);
    if (chain_alloc(&c, d, c.max_depth)) {
        chain_free(&c);
        return PK_ENOMEM;
    }
    double *scratch = malloc(13 * d * sizeof(double)), *wsum = calloc(2 * d, sizeof(double));
    point cur, tmp;
    double *cb = malloc(6 * d * sizeof(double));
    if (!scratch || !wsum || !cb) {
        free(scratch);
        free(wsum);
        free(cb);
        chain_free(&c);
        return PK_ENOMEM;
    }
    cur.q = cb, cur.p = cb + d, cur.g = cb + 2 * d;
    tmp.q = cb + 3 * d, tmp.p = cb + 4 * d, tmp.g = cb + 5 * d;
    for (size_t i = 0; i < d; i++)
        c.minv[i] = 1.0;
    int st = PK_OK, ok = 0;
    for (int tries = 0; tries < 100 && !ok; tries++) {
        for (size_t i = 0; i < d; i++)
            cur.q[i] = init ? init[i] : par->init_radius * (2 * pk_rng_uniform(&c.rng) - 1);
        cur.lp = f(cur.q, cur.g, user);
        c.grad_evals++;
        ok = isfinite(cur.lp) && pk_all_finite(cur.g, d);
        if (init)
            break;
    }
    if (!ok) {
        st = PK_EDOM;
        goto done;
    }
    c.eps = 1.0;
    init_stepsize(&c, &cur, &tmp);
    dual_avg da;
    da_restart(&da, c.eps);
    /* Stan's windows: 15% initial buffer, doubling slow windows, 10% final buffer. */
    size_t W = par->warmup, init_buf = 75, term_buf = 50, base = 25;
    if (W < 20) {
        init_buf = W, term_buf = 0, base = 0;
    } else if (init_buf + term_buf + base > W) {
        init_buf = (size_t)(0.15 * (double)W);
        term_buf = (size_t)(0.1 * (double)W);
        base = W - init_buf - term_buf;
    }
    size_t win_size = base, win_end = init_buf + base, win_n = 0;
    double *wmean = wsum, *wm2 = wsum + d;
    size_t total = W + par->draws, kept = 0;
    double acc_sum = 0;
    for (size_t it = 0; it < total; it++) {
        double a = par->nuts ? nuts_transition(&c, &cur, scratch) : hmc_transition(&c, &cur, par->n_leapfrog);
        if (it < W) {
            c.eps = da_learn(&da, a, par->target_accept);
            int adapt_window = par->adapt_mass && base > 0 && it >= init_buf && it < W - term_buf;
            if (adapt_window) {
                win_n++;
                for (size_t i = 0; i < d; i++) { /* Welford */
                    double delta = cur.q[i] - wmean[i];
                    wmean[i] += delta / (double)win_n;
                    wm2[i] += delta * (cur.q[i] - wmean[i]);
                }
                if (it + 1 == win_end) {
                    double n = (double)win_n;
                    for (size_t i = 0; i < d; i++) {
                        double v = win_n > 1 ? wm2[i] / (n - 1) : 1.0;
                        c.minv[i] = (n / (n + 5.0)) * v + 1e-3 * (5.0 / (n + 5.0));
                    }
                    memset(wsum, 0, 2 * d * sizeof(double));
                    win_n = 0;
                    win_size *= 2;
                    win_end = it + 1 + win_size;
                    if (win_end + 2 * win_size > W - term_buf) /* stretch the last window */
                        win_end = W - term_buf;
                    init_stepsize(&c, &cur, &tmp);
                    da_restart(&da, c.eps);
                }
            }
            if (it + 1 == W)
                c.eps = exp(da.x_bar);
        } else {
            out->divergences += (size_t)c.divergent;
            acc_sum += a;
            memcpy(out->x + (ci * par->draws + kept) * d, cur.q, d * sizeof(double));
            out->lp[ci * par->draws + kept] = cur.lp;
            kept++;
        }
    }
    out->step_size[ci] = c.eps;
    out->accept_mean += acc_sum;
    out->grad_evals += c.grad_evals;
done:
    free(scratch);
    free(wsum);
    free(cb);
    chain_free(&c);
    return st;
}

int pk_infer_hmc(pk_infer_logdensity_fn f, void *user, size_t dim, const double *init, const pk_infer_hmc_params *par,
                  uint64_t seed, pk_infer_draws **out, pk_err *err)
{
    *out = NULL;
    if (!f || dim == 0)
        return pk_err_set(err, PK_EINVAL, "hmc: need a log-density and dim >= 1");
    int st = pk_infer_hmc_params_check(par, err);
    if (st)
        return st;
    size_t C = par->chains;
    pk_infer_draws *d = calloc(1, sizeof *d);
    if (!d)
        return pk_err_set(err, PK_ENOMEM, "hmc: out of memory");
    d->chains = C;
    d->draws = par->draws;
    d->dim = dim;
    d->x = malloc(C * par->draws * dim * sizeof *d->x);
    d->lp = malloc(C * par->draws * sizeof *d->lp);
    d->step_size = calloc(C, sizeof *d->step_size);
    /* per-chain counters merged after the parallel region (no shared writes) */
    pk_infer_draws *part = calloc(C, sizeof *part);
    int *sts = calloc(C, sizeof *sts);
    if (!d->x || !d->lp || !d->step_size || !part || !sts) {
        free(part);
        free(sts);
        pk_infer_draws_free(d);
        return pk_err_set(err, PK_ENOMEM, "hmc: out of memory");
    }
    for (size_t c = 0; c < C; c++) {
        part[c] = *d;
    }
#pragma omp parallel for schedule(dynamic, 1)
    for (long c = 0; c < (long)C; c++) {
        part[c].divergences = 0;
        part[c].accept_mean = 0;
        part[c].grad_evals = 0;
        sts[c] = run_chain(f, user, dim, init, par, seed, (size_t)c, &part[c]);
    }
    for (size_t c = 0; c < C; c++) {
        if (sts[c] && !st)
            st = sts[c];
        d->divergences += part[c].divergences;
        d->accept_mean += part[c].accept_mean;
        d->grad_evals += part[c].grad_evals;
    }
    d->accept_mean /= (double)(C * par->draws);
    free(part);
    free(sts);
    if (st) {
        pk_infer_draws_free(d);
        if (st == PK_EDOM)
            return pk_err_set(err, st, "hmc: no initial point with a finite log-density and gradient");
        return pk_err_set(err, st, "hmc: %s", pk_strerror(st));
    }
    *out = d;
    return PK_OK;
}
