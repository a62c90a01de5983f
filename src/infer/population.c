/* Populations: resampling, importance sampling, SMC (+ resample-move) and
 * exact enumeration. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

void pk_population_free(pk_population *p)
{
    if (!p)
        return;
    if (p->traces)
        for (size_t i = 0; i < p->n; i++)
            pk__trace_free(&p->traces[i]);
    free(p->traces);
    free(p->logw);
    free(p->out);
    free(p);
}

static pk_population *population_new(size_t n, size_t n_out, int with_traces)
{
    pk_population *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n = n;
    p->n_out = n_out;
    p->logw = calloc(n ? n : 1, sizeof *p->logw);
    size_t tot = n * n_out;
    p->out = calloc(tot ? tot : 1, sizeof *p->out);
    if (with_traces) {
        p->traces = calloc(n ? n : 1, sizeof *p->traces);
        if (p->traces)
            for (size_t i = 0; i < n; i++)
                if (pk__trace_init(&p->traces[i])) {
                    p->n = i;
                    pk_population_free(p);
                    return NULL;
                }
    }
    if (!p->logw || !p->out || (with_traces && !p->traces)) {
        pk_population_free(p);
        return NULL;
    }
    return p;
}

double pk_population_mean(const pk_population *p, size_t j)
{
    double l = pk_logsumexp(p->logw, p->n, 1), m = 0;
    if (!isfinite(l) || j >= p->n_out)
        return NAN;
    for (size_t i = 0; i < p->n; i++)
        m += exp(p->logw[i] - l) * p->out[i * p->n_out + j];
    return m;
}

double pk_population_ess(const pk_population *p)
{
    double l = pk_logsumexp(p->logw, p->n, 1), s2 = 0;
    if (!isfinite(l))
        return 0;
    for (size_t i = 0; i < p->n; i++) {
        double w = exp(p->logw[i] - l);
        s2 += w * w;
    }
    return 1.0 / s2;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Ancestors from sorted uniforms u[0..n) over cumulative weights w (sum 1). */
static void from_sorted(const double *w, size_t m, const double *u, size_t n, size_t *anc)
{
    double c = w[0];
    size_t i = 0;
    for (size_t k = 0; k < n; k++) {
        while (u[k] >= c && i + 1 < m)
            c += w[++i];
        while (w[i] == 0 && i + 1 < m) /* rounding must never pick a zero weight */
            c += w[++i];
        anc[k] = i;
    }
}

int pk_infer_resample(pk_rng *rng, const double *logw, size_t m, size_t n, pk_infer_resample_kind kind, size_t *anc)
{
    if (m == 0 || n == 0)
        return PK_EINVAL;
    double l = pk_logsumexp(logw, m, 1);
    if (!isfinite(l))
        return PK_EDOM;
    double *w = malloc(m * sizeof *w), *u = malloc(n * sizeof *u);
    if (!w || !u) {
        free(w);
        free(u);
        return PK_ENOMEM;
    }
    for (size_t i = 0; i < m; i++)
        w[i] = exp(logw[i] - l);
    int st = PK_OK;
    switch (kind) {
    case PK_RESAMPLE_MULTINOMIAL:
        for (size_t k = 0; k < n; k++)
            u[k] = pk_rng_uniform(rng);
        qsort(u, n, sizeof *u, cmp_double);
        from_sorted(w, m, u, n, anc);
        break;
    case PK_RESAMPLE_STRATIFIED:
        for (size_t k = 0; k < n; k++)
            u[k] = ((double)k + pk_rng_uniform(rng)) / (double)n;
        from_sorted(w, m, u, n, anc);
        break;
    case PK_RESAMPLE_SYSTEMATIC: {
        double u0 = pk_rng_uniform(rng);
        for (size_t k = 0; k < n; k++)
            u[k] = ((double)k + u0) / (double)n;
        from_sorted(w, m, u, n, anc);
        break;
    }
    case PK_RESAMPLE_RESIDUAL: {
        /* floor(n w_i) deterministic copies, the rest multinomial on the residuals. */
        size_t k = 0;
        double rs = 0;
        for (size_t i = 0; i < m; i++) {
            size_t c = (size_t)floor((double)n * w[i]);
            for (size_t j = 0; j < c && k < n; j++)
                anc[k++] = i;
            w[i] = (double)n * w[i] - (double)c;
            rs += w[i];
        }
        size_t rest = n - k;
        if (rest) {
            for (size_t i = 0; i < m; i++)
                w[i] /= rs;
            for (size_t j = 0; j < rest; j++)
                u[j] = pk_rng_uniform(rng);
            qsort(u, rest, sizeof *u, cmp_double);
            from_sorted(w, m, u, rest, anc + k);
        }
        break;
    }
    default: st = PK_EINVAL;
    }
    free(w);
    free(u);
    return st;
}

int pk_infer_importance(const pk_model *m, size_t n, pk_rng *rng, pk_population **out, pk_err *err)
{
    *out = NULL;
    if (!m || !m->fn || n == 0)
        return pk_err_set(err, PK_EINVAL, "importance sampling needs a model and n >= 1");
    pk_population *p = population_new(n, m->n_out, 1);
    if (!p)
        return pk_err_set(err, PK_ENOMEM, "importance sampling: out of memory");
    for (size_t i = 0; i < n; i++) {
        int st = pk__run(m, rng, NULL, 0, 0, &p->traces[i], p->out + i * m->n_out);
        if (st) {
            pk_population_free(p);
            return pk_err_set(err, st, "importance sampling: run %zu failed: %s", i, pk_strerror(st));
        }
        p->logw[i] = p->traces[i].log_lik;
    }
    p->log_z = pk_logsumexp(p->logw, n, 1) - log((double)n);
    *out = p;
    return PK_OK;
}

pk_smc_params pk_smc_params_default(void)
{
    pk_smc_params p = {100, PK_RESAMPLE_SYSTEMATIC, 1.0, 0};
    return p;
}

int pk_smc_params_check(const pk_smc_params *p, pk_err *err)
{
    if (p->particles < 1)
        return pk_err_set(err, PK_EINVAL, "smc: particles must be >= 1");
    if (!(p->ess_threshold >= 0 && p->ess_threshold <= 1))
        return pk_err_set(err, PK_EINVAL, "smc: ess_threshold must be in [0, 1], got %g", p->ess_threshold);
    if (p->resample > PK_RESAMPLE_RESIDUAL)
        return pk_err_set(err, PK_EINVAL, "smc: unknown resampling scheme %d", (int)p->resample);
    return PK_OK;
}

/* One single-site trace-MH move in u-space targeting the program stopped at
 * stop_at (0 = whole program).  Returns 1 if accepted, 0 if not, <0 status. */
int pk__mh_move(const pk_model *m, pk_rng *rng, size_t stop_at, pk_trace *cur, double *cur_out, pk_trace *prop,
                double *prop_out)
{
    if (cur->n == 0)
        return 0; /* nothing random to move */
    size_t i = (size_t)pk_rng_below(rng, cur->n);
    double saved = cur->u[i];
    cur->u[i] = pk_rng_uniform_pos(rng);
    int st = pk__run(m, rng, cur->u, cur->n, stop_at, prop, prop_out);
    cur->u[i] = saved;
    if (st)
        return st;
    double la = prop->log_lik - cur->log_lik + log((double)cur->n) - log((double)(prop->n ? prop->n : 1));
    if (isnan(la))
        la = -INFINITY;
    if (cur->log_lik == -INFINITY && prop->log_lik > -INFINITY)
        la = 0;
    if (la >= 0 || log(pk_rng_uniform_pos(rng)) < la) {
        pk_trace t = *cur;
        *cur = *prop;
        *prop = t;
        if (cur_out && prop_out)
            memcpy(cur_out, prop_out, m->n_out * sizeof *cur_out);
        return 1;
    }
    return 0;
}

int pk_infer_smc(const pk_model *m, const pk_smc_params *par, pk_rng *rng, pk_population **out, pk_err *err)
{
    *out = NULL;
    if (!m || !m->fn)
        return pk_err_set(err, PK_EINVAL, "smc: no model");
    int st = pk_smc_params_check(par, err);
    if (st)
        return st;
    size_t n = par->particles, no = m->n_out;
    pk_population *p = population_new(n, no, 1), *q = population_new(n, no, 1);
    size_t *anc = malloc(n * sizeof *anc);
    pk_trace scratch;
    double *scratch_out = malloc((no ? no : 1) * sizeof *scratch_out);
    int have_scratch = pk__trace_init(&scratch) == PK_OK;
    if (!p || !q || !anc || !scratch_out || !have_scratch) {
        st = pk_err_set(err, PK_ENOMEM, "smc: out of memory");
        goto done;
    }
    double log_z = 0;
    for (size_t k = 1;; k++) {
        size_t advanced = 0;
        for (size_t i = 0; i < n; i++) {
            pk_trace *t = &p->traces[i];
            if (k > 1 && t->done)
                continue;
            double before = k > 1 ? t->log_lik : 0;
            /* sequential: resume by replaying the trace, stop at the next observe */
            st = pk__run(m, rng, t->u, t->n, k, &scratch, scratch_out);
            if (st) {
                pk_err_set(err, st, "smc: particle %zu failed at observe %zu: %s", i, k, pk_strerror(st));
                goto done;
            }
            if (!scratch.done || scratch.n_obs >= k)
                advanced++;
            pk_trace tmp = *t;
            *t = scratch;
            scratch = tmp;
            memcpy(p->out + i * no, scratch_out, no * sizeof *scratch_out);
            p->logw[i] += t->log_lik - before;
        }
        int all_done = 1;
        for (size_t i = 0; i < n; i++)
            all_done &= p->traces[i].done;
        if (all_done || advanced == 0)
            break;
        double ess = pk_population_ess(p);
        if (ess == 0) {
            st = pk_err_set(err, PK_EDOM, "smc: every particle has zero weight at observe %zu", k);
            goto done;
        }
        if (ess < par->ess_threshold * (double)n || par->ess_threshold >= 1.0) {
            log_z += pk_logsumexp(p->logw, n, 1) - log((double)n);
            if ((st = pk_infer_resample(rng, p->logw, n, n, par->resample, anc))) {
                pk_err_set(err, st, "smc: resampling failed at observe %zu", k);
                goto done;
            }
            for (size_t i = 0; i < n; i++) {
                if ((st = pk__trace_copy(&q->traces[i], &p->traces[anc[i]]))) {
                    pk_err_set(err, st, "smc: out of memory");
                    goto done;
                }
                memcpy(q->out + i * no, p->out + anc[i] * no, no * sizeof *q->out);
                q->logw[i] = 0;
            }
            pk_population *t = p;
            p = q;
            q = t;
            /* resample-move: MH moves that keep the partial posterior invariant */
            for (size_t i = 0; i < n; i++)
                for (size_t s = 0; s < par->move_steps; s++) {
                    int r = pk__mh_move(m, rng, k, &p->traces[i], p->out + i * no, &scratch, scratch_out);
                    if (r < 0) {
                        st = pk_err_set(err, r, "smc: move of particle %zu failed: %s", i, pk_strerror(r));
                        goto done;
                    }
                }
        }
    }
    p->log_z = log_z + pk_logsumexp(p->logw, n, 1) - log((double)n);
    *out = p;
    p = NULL;
    st = PK_OK;
done:
    pk_population_free(p);
    pk_population_free(q);
    free(anc);
    free(scratch_out);
    if (have_scratch)
        pk__trace_free(&scratch);
    return st;
}

int pk_infer_enumerate(const pk_model *m, size_t max_paths, pk_population **out, pk_err *err)
{
    *out = NULL;
    if (!m || !m->fn)
        return pk_err_set(err, PK_EINVAL, "enumerate: no model");
    if (max_paths == 0)
        max_paths = 1000000;
    enum { CAP = 4096 };
    size_t *path = calloc(CAP, sizeof *path), *sizes = calloc(CAP, sizeof *sizes), path_n = 0;
    size_t cap_paths = 64, np = 0, no = m->n_out;
    double *lw = malloc(cap_paths * sizeof *lw), *outs = malloc(cap_paths * (no ? no : 1) * sizeof *outs);
    int st = PK_OK;
    if (!path || !sizes || !lw || !outs) {
        st = pk_err_set(err, PK_ENOMEM, "enumerate: out of memory");
        goto fail;
    }
    for (;;) {
        if (np == max_paths) {
            st = pk_err_set(err, PK_EINVAL, "enumerate: more than %zu paths", max_paths);
            goto fail;
        }
        if (np == cap_paths) {
            cap_paths *= 2;
            double *a = realloc(lw, cap_paths * sizeof *lw), *b;
            if (!a) {
                st = pk_err_set(err, PK_ENOMEM, "enumerate: out of memory");
                goto fail;
            }
            lw = a;
            b = realloc(outs, cap_paths * (no ? no : 1) * sizeof *outs);
            if (!b) {
                st = pk_err_set(err, PK_ENOMEM, "enumerate: out of memory");
                goto fail;
            }
            outs = b;
        }
        size_t nc;
        st = pk__run_enum(m, path, path_n, sizes, CAP, &nc, &lw[np], outs + np * no);
        if (st == PK_ENOTSUP) {
            pk_err_set(err, st, "enumerate: choice %zu is continuous or has infinite support", nc);
            goto fail;
        }
        if (st) {
            pk_err_set(err, st, "enumerate: run failed: %s", pk_strerror(st));
            goto fail;
        }
        np++;
        for (size_t i = path_n; i < nc; i++)
            path[i] = 0;
        path_n = nc;
        while (path_n > 0 && path[path_n - 1] + 1 >= sizes[path_n - 1])
            path_n--;
        if (path_n == 0)
            break;
        path[path_n - 1]++;
    }
    pk_population *p = population_new(np, no, 0);
    if (!p) {
        st = pk_err_set(err, PK_ENOMEM, "enumerate: out of memory");
        goto fail;
    }
    memcpy(p->logw, lw, np * sizeof *lw);
    if (no)
        memcpy(p->out, outs, np * no * sizeof *outs);
    p->log_z = pk_logsumexp(lw, np, 1);
    *out = p;
fail:
    free(path);
    free(sizes);
    free(lw);
    free(outs);
    return st;
}
