/* optim.c — SGD (momentum, Nesterov), Adam, AdamW, RMSprop, Adagrad (torch
 * update rules), learning-rate schedules. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The Adam(W) update in float, in torch's order of operations:
 * m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  w = w shrink - step m / (sqrt(v) rbc2 + eps).
 * Explicit SSE because sqrtf's errno semantics keep the compiler from
 * vectorising the plain loop. */
typedef struct adam_k {
    float b1, b2, eps, step, rbc2, l2, shrink;
} adam_k;

static void adam_range(float *w, const float *g, float *m, float *v, int64_t lo, int64_t hi, const adam_k *k)
{
    int64_t i = lo;
#if defined(__SSE2__)
    const __m128 b1 = _mm_set1_ps(k->b1), c1 = _mm_set1_ps(1.0f - k->b1), b2 = _mm_set1_ps(k->b2),
                 c2 = _mm_set1_ps(1.0f - k->b2), eps = _mm_set1_ps(k->eps), st = _mm_set1_ps(k->step),
                 rb = _mm_set1_ps(k->rbc2), l2 = _mm_set1_ps(k->l2), sh = _mm_set1_ps(k->shrink);
    for (; i + 4 <= hi; i += 4) {
        __m128 wi = _mm_loadu_ps(w + i);
        __m128 gi = _mm_add_ps(_mm_loadu_ps(g + i), _mm_mul_ps(l2, wi));
        __m128 mi = _mm_add_ps(_mm_mul_ps(b1, _mm_loadu_ps(m + i)), _mm_mul_ps(c1, gi));
        __m128 vi = _mm_add_ps(_mm_mul_ps(b2, _mm_loadu_ps(v + i)), _mm_mul_ps(c2, _mm_mul_ps(gi, gi)));
        _mm_storeu_ps(m + i, mi);
        _mm_storeu_ps(v + i, vi);
        __m128 den = _mm_add_ps(_mm_mul_ps(_mm_sqrt_ps(vi), rb), eps);
        _mm_storeu_ps(w + i, _mm_sub_ps(_mm_mul_ps(wi, sh), _mm_div_ps(_mm_mul_ps(st, mi), den)));
    }
#endif
    for (; i < hi; i++) {
        float gi = g[i] + k->l2 * w[i];
        float mi = k->b1 * m[i] + (1.0f - k->b1) * gi;
        float vi = k->b2 * v[i] + (1.0f - k->b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * k->shrink - k->step * mi / (sqrtf(vi) * k->rbc2 + k->eps);
    }
}

#include "nn_internal.h"

struct pk_nn_optim {
    pk_nn_params *p;
    pk_nn_optim_params op;
    float **m, **v; /* per-parameter state (NULL for buffers) */
    int64_t steps;
};

pk_nn_optim_params pk_nn_optim_params_default(pk_nn_optim_kind kind)
{
    pk_nn_optim_params o = {kind, 0.0, 0, 0.9, 0.999, 0.99, kind == PK_NN_ADAGRAD ? 1e-10 : 1e-8,
                            kind == PK_NN_ADAMW ? 0.01 : 0.0};
    return o;
}

int pk_nn_optim_params_check(const pk_nn_optim_params *o, pk_err *err)
{
    if (!o)
        return pk_err_set(err, PK_EINVAL, "optimiser parameters are NULL");
    if ((int)o->kind < 0 || o->kind > PK_NN_ADAGRAD)
        return pk_err_set(err, PK_EINVAL, "unknown optimiser %d", (int)o->kind);
    if (!(o->momentum >= 0 && o->momentum < 1))
        return pk_err_set(err, PK_EINVAL, "momentum %g must be in [0, 1)", o->momentum);
    if (o->nesterov && !(o->momentum > 0))
        return pk_err_set(err, PK_EINVAL, "Nesterov momentum needs momentum > 0");
    if (!(o->beta1 >= 0 && o->beta1 < 1) || !(o->beta2 >= 0 && o->beta2 < 1))
        return pk_err_set(err, PK_EINVAL, "betas (%g, %g) must be in [0, 1)", o->beta1, o->beta2);
    if (!(o->alpha >= 0 && o->alpha < 1))
        return pk_err_set(err, PK_EINVAL, "alpha %g must be in [0, 1)", o->alpha);
    if (!(o->eps > 0))
        return pk_err_set(err, PK_EINVAL, "eps %g must be > 0", o->eps);
    if (!(o->weight_decay >= 0))
        return pk_err_set(err, PK_EINVAL, "weight decay %g must be >= 0", o->weight_decay);
    return PK_OK;
}

void pk_nn_optim_free(pk_nn_optim *o)
{
    if (!o)
        return;
    size_t n = pk_nn_params_count(o->p);
    for (size_t i = 0; i < n; i++) {
        if (o->m)
            free(o->m[i]);
        if (o->v)
            free(o->v[i]);
    }
    free(o->m);
    free(o->v);
    free(o);
}

pk_nn_optim *pk_nn_optim_new(pk_nn_params *p, const pk_nn_optim_params *op, pk_err *err)
{
    if (pk_nn_optim_params_check(op, err))
        return NULL;
    if (!p) {
        pk_err_set(err, PK_EINVAL, "optimiser: no parameters");
        return NULL;
    }
    pk_nn_optim *o = calloc(1, sizeof *o);
    size_t n = pk_nn_params_count(p);
    if (!o || !(o->m = calloc(n ? n : 1, sizeof *o->m)) || !(o->v = calloc(n ? n : 1, sizeof *o->v)))
        goto oom;
    o->p = p;
    o->op = *op;
    int need_m = op->kind == PK_NN_ADAM || op->kind == PK_NN_ADAMW || op->momentum > 0;
    int need_v = op->kind != PK_NN_SGD;
    for (size_t i = 0; i < n; i++) {
        pk_nn_tensor *t = pk_nn_params_get(p, i);
        if (!t->trainable)
            continue;
        if (need_m && !(o->m[i] = calloc((size_t)t->numel, sizeof(float))))
            goto oom;
        if (need_v && !(o->v[i] = calloc((size_t)t->numel, sizeof(float))))
            goto oom;
    }
    return o;
oom:
    pk_nn_optim_free(o);
    pk_err_set(err, PK_ENOMEM, "optimiser: out of memory");
    return NULL;
}

int64_t pk_nn_optim_steps(const pk_nn_optim *o) { return o ? o->steps : 0; }

int pk_nn_optim_step(pk_nn_optim *o, double lr)
{
    if (!o || !(lr > 0) || !isfinite(lr))
        return PK_EINVAL;
    const pk_nn_optim_params *op = &o->op;
    o->steps++;
    double bc1 = 1.0 - pow(op->beta1, (double)o->steps), bc2 = 1.0 - pow(op->beta2, (double)o->steps);
    size_t n = pk_nn_params_count(o->p);
    for (size_t k = 0; k < n; k++) {
        pk_nn_tensor *t = pk_nn_params_get(o->p, k);
        if (!t->trainable)
            continue;
        float *w = t->data, *g = t->grad, *m = o->m[k], *v = o->v[k];
        int64_t len = t->numel;
        double wd = op->weight_decay;
        int decoupled = op->kind == PK_NN_ADAMW;
        if (decoupled && t->ndim < 2)
            wd = 0; /* no decay on biases and norm gains */
if (op->kind == PK_NN_ADAM || op->kind == PK_NN_ADAMW) {
            adam_k ak = {(float)op->beta1, (float)op->beta2, (float)op->eps, (float)(lr / bc1),
                        (float)(1.0 / sqrt(bc2)), decoupled ? 0.0f : (float)wd,
                        decoupled ? (float)(1.0 - lr * wd) : 1.0f};
            int64_t nchunk = (len + 4095) / 4096;
NN_OMP(omp parallel for if (len > NN_PAR_MIN) schedule(static))
            for (int64_t c = 0; c < nchunk; c++)
                adam_range(w, g, m, v, c * 4096, (c + 1) * 4096 < len ? (c + 1) * 4096 : len, &ak);
            continue;
        }
NN_OMP(omp parallel for if (len > NN_PAR_MIN) schedule(static))
        for (int64_t i = 0; i < len; i++) {
            double gi = g[i] + wd * w[i], wi = w[i];
            switch (op->kind) {
            case PK_NN_SGD:
                if (op->momentum > 0) {
                    double b = o->steps == 1 ? gi : op->momentum * m[i] + gi;
                    m[i] = (float)b;
                    gi = op->nesterov ? gi + op->momentum * b : b;
                }
                wi -= lr * gi;
                break;
            case PK_NN_RMSPROP: {
                double vi = op->alpha * v[i] + (1 - op->alpha) * gi * gi;
                v[i] = (float)vi;
                double st = gi / (sqrt(vi) + op->eps);
                if (op->momentum > 0) {
                    m[i] = (float)(op->momentum * m[i] + st);
                    st = m[i];
                }
                wi -= lr * st;
                break;
            }
            default: { /* Adagrad */
                double vi = v[i] + gi * gi;
                v[i] = (float)vi;
                wi -= lr * gi / (sqrt(vi) + op->eps);
            }
            }
            w[i] = (float)wi;
        }
    }
    return PK_OK;
}

double pk_nn_lr_cosine(int64_t step, int64_t warmup, int64_t total, double lr_max, double lr_min)
{
    if (warmup > 0 && step < warmup)
        return lr_max * (double)(step + 1) / (double)warmup;
    if (step >= total || total <= warmup)
        return lr_min;
    double r = (double)(step - warmup) / (double)(total - warmup);
    return lr_min + 0.5 * (lr_max - lr_min) * (1.0 + cos(3.141592653589793 * r));
}

double pk_nn_lr_step(int64_t epoch, int64_t step_size, double gamma, double lr0)
{
    if (step_size <= 0)
        return lr0;
    return lr0 * pow(gamma, (double)(epoch / step_size));
}

void pk_nn_plateau_init(pk_nn_plateau *s, double lr, double factor, int patience, double threshold, double min_lr)
{
    s->lr = lr;
    s->factor = factor;
    s->patience = patience;
    s->threshold = threshold;
    s->min_lr = min_lr;
    s->best = INFINITY;
    s->bad_epochs = 0;
}

double pk_nn_plateau_step(pk_nn_plateau *s, double metric)
{
    if (metric < s->best * (1.0 - s->threshold) || s->best == INFINITY) {
        s->best = metric;
        s->bad_epochs = 0;
    } else if (++s->bad_epochs > s->patience) {
        s->lr = fmax(s->lr * s->factor, s->min_lr);
        s->bad_epochs = 0;
    }
    return s->lr;
}

void pk_nn_loss_log_init(pk_nn_loss_log *g, int64_t steps)
{
    memset(g, 0, sizeof *g);
    g->steps = steps;
    g->every = steps >= 20 ? steps / 20 : 1;
    g->tail_from = steps - (steps + 9) / 10;
}

int pk_nn_loss_log_add(pk_nn_loss_log *g, int64_t step, double loss, double *mean)
{
    g->run += loss, g->run_n++;
    if (step >= g->tail_from)
        g->tail += loss, g->tail_n++;
    if ((step + 1) % g->every != 0 && step + 1 != g->steps)
        return 0;
    if (mean)
        *mean = g->run / (double)g->run_n;
    g->run = 0, g->run_n = 0;
    return 1;
}

double pk_nn_loss_log_tail(const pk_nn_loss_log *g) { return g->tail_n ? g->tail / (double)g->tail_n : NAN; }
