/* The program runner: one interpreter for pk_sample/pk_observe/pk_factor
 * whose behaviour (fresh, replayed, stopped, enumerated) is set per run. */
#include <math.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

enum { MODE_TRACE, MODE_ENUM };

struct pk_ctx {
    int mode;
    pk_rng *rng;
    const double *replay;
    size_t replay_n, stop_at;
    pk_trace *rec;
    /* enumeration */
    const size_t *path;
    size_t path_n, *sizes, cap, n_choices;
    double enum_logw;
    int status, no_record;
    jmp_buf jb;
};

int pk__trace_init(pk_trace *t)
{
    memset(t, 0, sizeof *t);
    t->cap = 16;
    t->u = malloc(t->cap * sizeof *t->u);
    return t->u ? PK_OK : PK_ENOMEM;
}

void pk__trace_free(pk_trace *t)
{
    if (t) {
        free(t->u);
        t->u = NULL;
        t->n = t->cap = 0;
    }
}

static int trace_push(pk_trace *t, double u)
{
    if (t->n == t->cap) {
        size_t nc = t->cap ? 2 * t->cap : 16;
        double *nu = realloc(t->u, nc * sizeof *nu);
        if (!nu)
            return PK_ENOMEM;
        t->u = nu;
        t->cap = nc;
    }
    t->u[t->n++] = u;
    return PK_OK;
}

int pk__trace_copy(pk_trace *dst, const pk_trace *src)
{
    if (dst->cap < src->n) {
        double *nu = realloc(dst->u, (src->n ? src->n : 1) * sizeof *nu);
        if (!nu)
            return PK_ENOMEM;
        dst->u = nu;
        dst->cap = src->n ? src->n : 1;
    }
    if (src->n)
        memcpy(dst->u, src->u, src->n * sizeof *src->u);
    dst->n = src->n;
    dst->log_lik = src->log_lik;
    dst->log_prior = src->log_prior;
    dst->n_obs = src->n_obs;
    dst->done = src->done;
    return PK_OK;
}

static void fail(pk_ctx *c, int st)
{
    c->status = st;
    longjmp(c->jb, 1);
}

double pk_sample(pk_ctx *c, pk_dist d)
{
    if (pk_dist_check(&d) != PK_OK)
        fail(c, PK_EDOM);
    if (c->mode == MODE_ENUM) {
        size_t k = pk_dist_support_size(&d);
        if (k == 0)
            fail(c, PK_ENOTSUP);
        if (c->n_choices >= c->cap)
            fail(c, PK_EINVAL);
        size_t i = c->n_choices < c->path_n ? c->path[c->n_choices] : 0;
        c->sizes[c->n_choices++] = k;
        double x = (double)i;
        c->enum_logw += pk_dist_logpdf(&d, x);
        return x;
    }
    pk_trace *t = c->rec;
    double u = t->n < c->replay_n ? c->replay[t->n] : pk_rng_uniform_pos(c->rng);
    if (c->no_record)
        t->n++;
    else if (trace_push(t, u))
        fail(c, PK_ENOMEM);
    double x = pk_dist_quantile(&d, u);
    if (isnan(x))
        fail(c, PK_EDOM);
    t->log_prior += pk_dist_logpdf(&d, x);
    return x;
}

static void add_weight(pk_ctx *c, double lw, int is_observe)
{
    if (isnan(lw))
        fail(c, PK_EDOM);
    if (c->mode == MODE_ENUM) {
        c->enum_logw += lw;
        return;
    }
    c->rec->log_lik += lw;
    if (is_observe) {
        c->rec->n_obs++;
        if (c->stop_at && c->rec->n_obs >= c->stop_at)
            longjmp(c->jb, 2); /* suspend: the sequential representation */
    }
}

void pk_observe(pk_ctx *c, pk_dist d, double value)
{
    if (pk_dist_check(&d) != PK_OK)
        fail(c, PK_EDOM);
    add_weight(c, pk_dist_logpdf(&d, value), 1);
}

void pk_factor(pk_ctx *c, double log_w) { add_weight(c, log_w, 0); }

int pk__run(const pk_model *m, pk_rng *rng, const double *replay, size_t replay_n, size_t stop_at, pk_trace *rec,
            double *out)
{
    /* volatile: read after longjmp */
    pk_ctx *volatile c = calloc(1, sizeof *c);
    if (!c)
        return PK_ENOMEM;
    c->mode = MODE_TRACE;
    c->rng = rng;
    c->replay = replay;
    c->replay_n = replay_n;
    c->stop_at = stop_at;
    c->rec = rec;
    rec->n = 0;
    rec->log_lik = rec->log_prior = 0;
    rec->n_obs = 0;
    rec->done = 0;
    int st;
    switch (setjmp(c->jb)) {
    case 0:
        m->fn(c, m->data, out);
        rec->done = 1;
        st = PK_OK;
        break;
    case 2:
        st = PK_OK;
        break;
    default:
        st = c->status;
    }
    free(c);
    return st;
}

int pk__run_enum(const pk_model *m, const size_t *path, size_t path_n, size_t *sizes, size_t cap,
                 size_t *n_choices, double *logw, double *out)
{
    pk_ctx *volatile c = calloc(1, sizeof *c);
    if (!c)
        return PK_ENOMEM;
    c->mode = MODE_ENUM;
    c->path = path;
    c->path_n = path_n;
    c->sizes = sizes;
    c->cap = cap;
    int st = PK_OK;
    if (setjmp(c->jb) == 0)
        m->fn(c, m->data, out);
    else
        st = c->status;
    *n_choices = c->n_choices;
    *logw = c->enum_logw;
    free(c);
    return st;
}

int pk__run_call(void (*call)(pk_ctx *, void *), void *arg, pk_rng *rng, double *log_w)
{
    pk_ctx *volatile c = calloc(1, sizeof *c);
    if (!c)
        return PK_ENOMEM;
    pk_trace t;
    memset(&t, 0, sizeof t);
    c->mode = MODE_TRACE;
    c->rng = rng;
    c->rec = &t;
    c->no_record = 1;
    int st = PK_OK;
    if (setjmp(c->jb) == 0)
        call(c, arg);
    else
        st = c->status;
    *log_w = t.log_lik;
    free(c);
    return st;
}

void pk_sample_dirichlet(pk_ctx *c, const double *alpha, size_t k, double *x)
{
    if (k == 0)
        fail(c, PK_EDOM);
    double s = 0;
    for (size_t i = 0; i < k; i++)
        s += x[i] = pk_sample(c, pk_gamma(alpha[i], 1.0));
    if (!(s > 0))
        fail(c, PK_EDOM);
    for (size_t i = 0; i < k; i++)
        x[i] /= s;
}

double pk_dirichlet_logpdf(const double *alpha, size_t k, const double *x)
{
    if (k == 0)
        return NAN;
    double sa = 0, lp = 0, sx = 0;
    for (size_t i = 0; i < k; i++) {
        if (!(alpha[i] > 0) || !isfinite(alpha[i]))
            return NAN;
        if (!(x[i] >= 0))
            return -INFINITY;
        sa += alpha[i];
        sx += x[i];
        lp += (alpha[i] - 1) * log(x[i]) - pk_lgamma(alpha[i]);
    }
    if (fabs(sx - 1) > 1e-9)
        return -INFINITY;
    return lp + pk_lgamma(sa);
}

void pk_observe_dirichlet(pk_ctx *c, const double *alpha, size_t k, const double *x)
{
    double lp = pk_dirichlet_logpdf(alpha, k, x);
    if (isnan(lp))
        fail(c, PK_EDOM);
    add_weight(c, lp, 1);
}
