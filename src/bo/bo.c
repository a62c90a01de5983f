/* bo.c — the ask/tell optimiser: bookkeeping, hyperparameter chains,
 * candidate generation (Sobol + points near the incumbent) and refinement. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_qrng.h>

#include "bo_priv.h"

#define MAX_DIM 64

struct pk_bo {
    size_t dim;
    pk_bo_params p;
    size_t n, cap;      /* completed */
    double *U, *Y, *D;  /* cap x dim inputs, targets (minimisation sign), durations */
    size_t np, pcap;    /* pending */
    double *PU;
    int64_t *pid;
    int64_t next_ticket;
    pk_gp_spearmint_state chain, dchain; /* objective's and log duration's chains */
    int chain_ready, dchain_ready;
    double ml_h[MAX_DIM + 3];
    int ml_ready;
    double last_ask;
};

pk_bo_params pk_bo_params_default(void)
{
    pk_bo_params p = {.method = PK_BO_EI_MCMC,
                      .n_init = 2,
                      .n_mcmc = 10,
                      .burnin = 100,
                      .n_candidates = 5000,
                      .n_spray = 10,
                      .n_refine = 20,
                      .n_fantasies = 10,
                      .ucb_kappa = 2.0,
                      .maximize = 0};
    return p;
}

int pk_bo_params_check(const pk_bo_params *p, size_t dim, pk_err *err)
{
    if (dim < 1 || dim > MAX_DIM)
        return pk_err_set(err, PK_EINVAL, "bo: dimension must be 1..%d (got %zu)", MAX_DIM, dim);
    if (p->method > PK_BO_EI_PER_SECOND)
        return pk_err_set(err, PK_EINVAL, "bo: unknown method %d", (int)p->method);
    if (p->n_init < 1)
        return pk_err_set(err, PK_EINVAL, "bo: n_init must be >= 1");
    if (p->n_mcmc < 1 || p->n_mcmc > 100)
        return pk_err_set(err, PK_EINVAL, "bo: n_mcmc must be 1..100 (got %zu)", p->n_mcmc);
    if (p->n_candidates < 1 || p->n_fantasies < 1)
        return pk_err_set(err, PK_EINVAL, "bo: n_candidates and n_fantasies must be >= 1");
    if (!(p->ucb_kappa >= 0))
        return pk_err_set(err, PK_EINVAL, "bo: ucb_kappa must be >= 0");
    return PK_OK;
}

static const char *METHOD_NAMES[] = {"random", "ei-mcmc", "ei-opt", "pi", "ucb", "ei-per-second"};

const char *pk_bo_method_name(pk_bo_method m) { return m <= PK_BO_EI_PER_SECOND ? METHOD_NAMES[m] : "?"; }

int pk_bo_method_parse(const char *s)
{
    for (int i = 0; i <= PK_BO_EI_PER_SECOND; i++)
        if (!strcmp(s, METHOD_NAMES[i]))
            return i;
    return -1;
}

pk_bo *pk_bo_new(size_t dim, const pk_bo_params *p, pk_err *err)
{
    pk_bo_params def = pk_bo_params_default();
    if (!p)
        p = &def;
    if (pk_bo_params_check(p, dim, err))
        return NULL;
    pk_bo *bo = calloc(1, sizeof *bo);
    if (!bo) {
        pk_err_set(err, PK_ENOMEM, "bo: out of memory");
        return NULL;
    }
    bo->dim = dim;
    bo->p = *p;
    bo->next_ticket = 1;
    return bo;
}

void pk_bo_free(pk_bo *bo)
{
    if (!bo)
        return;
    free(bo->U);
    free(bo->Y);
    free(bo->D);
    free(bo->PU);
    free(bo->pid);
    free(bo);
}

size_t pk_bo_dim(const pk_bo *bo) { return bo->dim; }
size_t pk_bo_n_observed(const pk_bo *bo) { return bo->n; }
size_t pk_bo_n_pending(const pk_bo *bo) { return bo->np; }
double pk_bo_last_ask_seconds(const pk_bo *bo) { return bo->last_ask; }

static int grow(void **ptr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return PK_OK;
    size_t nc = *cap ? 2 * *cap : 16;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*ptr, nc * elem);
    if (!np)
        return PK_ENOMEM;
    *ptr = np;
    *cap = nc;
    return PK_OK;
}

int pk_bo_observe(pk_bo *bo, const double *u, double y, double duration)
{
    if (!isfinite(y))
        return PK_EINVAL;
    size_t c1 = bo->cap, c2 = bo->cap, c3 = bo->cap;
    if (grow((void **)&bo->U, &c1, bo->n + 1, bo->dim * sizeof(double)) ||
        grow((void **)&bo->Y, &c2, bo->n + 1, sizeof(double)) || grow((void **)&bo->D, &c3, bo->n + 1, sizeof(double)))
        return PK_ENOMEM;
    bo->cap = c1;
    for (size_t j = 0; j < bo->dim; j++)
        bo->U[bo->n * bo->dim + j] = u[j] < 0 ? 0 : u[j] > 1 ? 1 : u[j];
    bo->Y[bo->n] = bo->p.maximize ? -y : y;
    bo->D[bo->n] = duration > 0 ? duration : NAN;
    bo->n++;
    return PK_OK;
}

int pk_bo_add_pending(pk_bo *bo, const double *u, int64_t *ticket)
{
    size_t c1 = bo->pcap, c2 = bo->pcap;
    if (grow((void **)&bo->PU, &c1, bo->np + 1, bo->dim * sizeof(double)) ||
        grow((void **)&bo->pid, &c2, bo->np + 1, sizeof(int64_t)))
        return PK_ENOMEM;
    bo->pcap = c1;
    memcpy(bo->PU + bo->np * bo->dim, u, bo->dim * sizeof(double));
    bo->pid[bo->np] = bo->next_ticket;
    if (ticket)
        *ticket = bo->next_ticket;
    bo->next_ticket++;
    bo->np++;
    return PK_OK;
}

static long find_pending(const pk_bo *bo, int64_t ticket)
{
    for (size_t i = 0; i < bo->np; i++)
        if (bo->pid[i] == ticket)
            return (long)i;
    return -1;
}

static void drop_pending(pk_bo *bo, size_t i)
{
    size_t last = bo->np - 1;
    if (i != last) {
        memcpy(bo->PU + i * bo->dim, bo->PU + last * bo->dim, bo->dim * sizeof(double));
        bo->pid[i] = bo->pid[last];
    }
    bo->np--;
}

int pk_bo_tell(pk_bo *bo, int64_t ticket, double y, double duration)
{
    long i = find_pending(bo, ticket);
    if (i < 0 || !isfinite(y))
        return PK_EINVAL;
    int r = pk_bo_observe(bo, bo->PU + (size_t)i * bo->dim, y, duration);
    if (!r)
        drop_pending(bo, (size_t)i);
    return r;
}

int pk_bo_tell_failed(pk_bo *bo, int64_t ticket)
{
    long i = find_pending(bo, ticket);
    if (i < 0)
        return PK_EINVAL;
    drop_pending(bo, (size_t)i);
    return PK_OK;
}

int pk_bo_best(const pk_bo *bo, double *u, double *y)
{
    if (bo->n == 0)
        return PK_EINVAL;
    size_t b = 0;
    for (size_t i = 1; i < bo->n; i++)
        if (bo->Y[i] < bo->Y[b])
            b = i;
    if (u)
        memcpy(u, bo->U + b * bo->dim, bo->dim * sizeof *u);
    if (y)
        *y = bo->p.maximize ? -bo->Y[b] : bo->Y[b];
    return PK_OK;
}

/* ---- model fitting ----------------------------------------------------------------- */

/* Hyperparameter states for this ask: MCMC sweeps continuing the kept chain,
 * or the type-II ML point (EI-Opt). */
static int hyper_states(pk_bo *bo, const pk_mat *X, const double *ys, pk_gp_spearmint_state *states, size_t *S,
                        pk_rng *rng)
{
    size_t n = X->rows, d = bo->dim;
    pk_gp *gp = pk_gp_new(pk_gp_kernel_new(PK_GP_KERNEL_MATERN52, d, 1, 0), PK_GP_MEAN_CONSTANT);
    if (!gp)
        return PK_ENOMEM;
    int r = pk_gp_set_data(gp, X, ys, NULL);
    if (!r && bo->p.method == PK_BO_EI_OPT) {
        size_t nh = pk_gp_nhyper(gp);
        if (!bo->ml_ready) {
            pk_gp_spearmint_state s0;
            pk_gp_spearmint_init(&s0, d, ys, n);
            pk_gp_spearmint_apply(gp, &s0);
            pk_gp_set_noise_floor(gp, 1e-10);
        } else {
            pk_gp_set_hyper(gp, bo->ml_h);
        }
        pk_gp_fit_params fp = pk_gp_fit_params_default();
        fp.restarts = 1;
        fp.max_iter = 100;
        r = pk_gp_fit(gp, &fp, rng, NULL, NULL);
        if (!r) {
            pk_gp_get_hyper(gp, bo->ml_h);
            bo->ml_ready = 1;
            pk_gp_spearmint_state *s = &states[0];
            s->dim = d;
            s->amp2 = exp(bo->ml_h[0]);
            for (size_t j = 0; j < d; j++)
                s->ls[j] = exp(bo->ml_h[1 + j]);
            s->noise = fmax(exp(bo->ml_h[d + 1]) + 1e-10 - 1e-6 * s->amp2, 1e-12);
            s->mean = bo->ml_h[nh - 1];
            *S = 1;
        }
    } else if (!r) {
        if (!bo->chain_ready) {
            pk_gp_spearmint_init(&bo->chain, d, ys, n);
            for (size_t it = 0; it < bo->p.burnin && !r; it++)
                r = pk_gp_spearmint_sweep(gp, &bo->chain, rng);
            bo->chain_ready = !r;
        }
        for (size_t it = 0; it < bo->p.n_mcmc && !r; it++) {
            r = pk_gp_spearmint_sweep(gp, &bo->chain, rng);
            states[it] = bo->chain;
        }
        *S = bo->p.n_mcmc;
        if (r)
            bo->chain_ready = 0; /* start afresh next time */
    }
    pk_gp_free(gp);
    return r;
}

/* EI per second's cost model, as Spearmint's: a GP on the log durations
 * (standardised) with the same priors, its hyperparameters slice-sampled with
 * the chain kept across asks, one GP per sample.  Missing durations take the
 * mean of the known ones.  On failure the model has no cost GPs and the
 * acquisition is plain EI. */
static int duration_model(pk_bo *bo, const pk_mat *X, pk_bo_model *m, pk_rng *rng)
{
    size_t n = X->rows, d = bo->dim, S = bo->p.n_mcmc;
    double *ld = malloc(n * sizeof *ld);
    if (!ld)
        return PK_ENOMEM;
    double fill = 0.0;
    size_t known = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(bo->D[i])) {
            fill += log(bo->D[i]);
            known++;
        }
    fill = known ? fill / (double)known : 0.0;
    for (size_t i = 0; i < n; i++)
        ld[i] = isfinite(bo->D[i]) ? log(bo->D[i]) : fill;
    double mu, var;
    pk_mean_var(ld, n, &mu, &var);
    double sd = var > 0 ? sqrt(var) : 1.0;
    for (size_t i = 0; i < n; i++)
        ld[i] = (ld[i] - mu) / sd;
    pk_gp *gp = pk_gp_new(pk_gp_kernel_new(PK_GP_KERNEL_MATERN52, d, 1, 0), PK_GP_MEAN_CONSTANT);
    m->durs = calloc(S, sizeof *m->durs);
    int r = (!gp || !m->durs) ? PK_ENOMEM : pk_gp_set_data(gp, X, ld, NULL);
    if (!r && !bo->dchain_ready) {
        pk_gp_spearmint_init(&bo->dchain, d, ld, n);
        for (size_t it = 0; it < bo->p.burnin && !r; it++)
            r = pk_gp_spearmint_sweep(gp, &bo->dchain, rng);
        bo->dchain_ready = !r;
    }
    for (size_t it = 0; it < S && !r; it++) {
        r = pk_gp_spearmint_sweep(gp, &bo->dchain, rng);
        pk_gp *g = r ? NULL : pk_gp_new(pk_gp_kernel_new(PK_GP_KERNEL_MATERN52, d, 1, 0), PK_GP_MEAN_CONSTANT);
        if (!r && !g)
            r = PK_ENOMEM;
        if (!r) {
            m->durs[m->n_dur++] = g;
            r = pk_gp_set_data(g, X, ld, NULL);
        }
        if (!r)
            r = pk_gp_spearmint_apply(g, &bo->dchain);
    }
    if (r) {
        bo->dchain_ready = 0;
        for (size_t s = 0; s < m->n_dur; s++)
            pk_gp_free(m->durs[s]);
        free(m->durs);
        m->durs = NULL;
        m->n_dur = 0;
    }
    m->dur_mu = mu;
    m->dur_sd = sd;
    pk_gp_free(gp);
    free(ld);
    return r == PK_ENOMEM ? r : PK_OK;
}

/* ---- acquisition optimisation --------------------------------------------------------- */

static double clamp01(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

/* Projected gradient ascent in the unit box with an adaptive step. */
static void refine(const pk_bo_model *m, double *x, double *fx)
{
    size_t d = m->dim;
    double g[MAX_DIM], xn[MAX_DIM], gn[MAX_DIM], f, fn, step = 0.05;
    if (pk_bo_model_eval_grad(m, x, &f, g))
        return;
    for (int it = 0; it < 60 && step > 1e-7; it++) {
        double nrm = 0;
        for (size_t j = 0; j < d; j++)
            nrm += g[j] * g[j];
        nrm = sqrt(nrm);
        if (!(nrm > 0))
            break;
        for (size_t j = 0; j < d; j++)
            xn[j] = clamp01(x[j] + step * g[j] / nrm);
        if (pk_bo_model_eval_grad(m, xn, &fn, gn))
            break;
        if (fn > f) {
            memcpy(x, xn, d * sizeof *x);
            memcpy(g, gn, d * sizeof *g);
            f = fn;
            step *= 1.5;
        } else {
            step *= 0.3;
        }
    }
    *fx = f;
}

static int optimise_acq(pk_bo *bo, const pk_bo_model *m, const double *incumbent, pk_rng *rng, double *u)
{
    size_t d = bo->dim, nc = bo->p.n_candidates, ns = bo->p.n_spray, nt = nc + ns;
    pk_mat *C = pk_mat_new(nt, d);
    double *a = malloc(nt * sizeof *a);
    size_t *top = calloc(bo->p.n_refine + 1, sizeof *top);
    if (!C || !a || !top) {
        pk_mat_free(C);
        free(a);
        free(top);
        return PK_ENOMEM;
    }
    /* Sobol points with a random shift (Cranley-Patterson), so that successive
     * asks see different candidates; plain uniforms beyond GSL's 40 dims. */
    gsl_qrng *q = d <= 40 ? gsl_qrng_alloc(gsl_qrng_sobol, (unsigned)d) : NULL;
    double shift[MAX_DIM], pt[MAX_DIM];
    for (size_t j = 0; j < d; j++)
        shift[j] = pk_rng_uniform(rng);
    for (size_t i = 0; i < nc; i++) {
        if (q)
            gsl_qrng_get(q, pt);
        for (size_t j = 0; j < d; j++) {
            double v = q ? pt[j] + shift[j] : pk_rng_uniform(rng);
            *pk_mat_at(C, i, j) = v - floor(v);
        }
    }
    if (q)
        gsl_qrng_free(q);
    for (size_t i = 0; i < ns; i++)
        for (size_t j = 0; j < d; j++)
            *pk_mat_at(C, nc + i, j) = clamp01(incumbent[j] + 1e-3 * pk_rng_normal(rng));
    int r = pk_bo_model_eval(m, C, a);
    if (!r) {
        /* the n_refine best candidates (partial selection) */
        size_t k = bo->p.n_refine ? bo->p.n_refine : 1, nk = 0;
        for (size_t i = 0; i < nt; i++) {
            if (!isfinite(a[i]))
                continue;
            size_t pos;
            if (nk < k)
                pos = nk++;
            else if (a[i] > a[top[k - 1]])
                pos = k - 1;
            else
                continue;
            while (pos > 0 && a[top[pos - 1]] < a[i]) {
                top[pos] = top[pos - 1];
                pos--;
            }
            top[pos] = i;
        }
        double bestf = -INFINITY;
        for (size_t t = 0; t < nk; t++) {
            double x[MAX_DIM], f = a[top[t]];
            memcpy(x, pk_mat_at(C, top[t], 0), d * sizeof *x);
            if (bo->p.n_refine)
                refine(m, x, &f);
            if (f > bestf) {
                bestf = f;
                memcpy(u, x, d * sizeof *u);
            }
        }
        if (nk == 0)
            r = PK_EDOM;
    }
    pk_mat_free(C);
    free(a);
    free(top);
    return r;
}

int pk_bo_ask(pk_bo *bo, pk_rng *rng, double *u, int64_t *ticket, pk_err *err)
{
    double t0 = pk_time_now();
    size_t d = bo->dim, n = bo->n;
    int use_model = bo->p.method != PK_BO_RANDOM && n >= bo->p.n_init && n >= 2;
    int r = PK_EDOM;
    if (use_model) {
        pk_mat *X = pk_mat_new(n, d), *P = bo->np ? pk_mat_new(bo->np, d) : NULL;
        double *ys = malloc(n * sizeof *ys);
        pk_gp_spearmint_state *states = calloc(bo->p.n_mcmc, sizeof *states);
        pk_bo_model m;
        memset(&m, 0, sizeof m);
        if (!X || (bo->np && !P) || !ys || !states) {
            r = PK_ENOMEM;
        } else {
            memcpy(X->data, bo->U, n * d * sizeof(double));
            if (P)
                memcpy(P->data, bo->PU, bo->np * d * sizeof(double));
            /* standardise the targets: the priors assume unit scale */
            double mu, var;
            pk_mean_var(bo->Y, n, &mu, &var);
            double sd = var > 0 ? sqrt(var) : 1.0;
            for (size_t i = 0; i < n; i++)
                ys[i] = (bo->Y[i] - mu) / sd;
            size_t S = 0;
            r = hyper_states(bo, X, ys, states, &S, rng);
            if (!r)
                r = pk_bo_model_build(&m, X, ys, P, states, S, bo->p.n_fantasies, rng);
            m.method = bo->p.method;
            m.kappa = bo->p.ucb_kappa;
            if (!r && bo->p.method == PK_BO_EI_PER_SECOND)
                r = duration_model(bo, X, &m, rng);
            if (!r) {
                size_t b = 0;
                for (size_t i = 1; i < n; i++)
                    if (bo->Y[i] < bo->Y[b])
                        b = i;
                r = optimise_acq(bo, &m, bo->U + b * d, rng, u);
            }
        }
        pk_bo_model_free(&m);
        pk_mat_free(X);
        pk_mat_free(P);
        free(ys);
        free(states);
        if (r == PK_ENOMEM)
            return pk_err_set(err, PK_ENOMEM, "bo: out of memory");
    }
    if (r) /* random search, or a model that could not be built: a random point */
        for (size_t j = 0; j < d; j++)
            u[j] = pk_rng_uniform(rng);
    int64_t t;
    if (pk_bo_add_pending(bo, u, &t))
        return pk_err_set(err, PK_ENOMEM, "bo: out of memory");
    if (ticket)
        *ticket = t;
    bo->last_ask = pk_time_now() - t0;
    return PK_OK;
}
