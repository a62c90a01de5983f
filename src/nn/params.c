/* params.c — parameters: declared one by one, then carved from one value
 * block and one gradient block (llm.c style), plus initialisers. */
#include <math.h>
#include <stdlib.h>

#include "nn_internal.h"

struct pk_nn_params {
    pk_nn_tensor **t;
    size_t n, cap;
    float *data, *grad;
    int64_t total;
    int allocated;
};

pk_nn_params *pk_nn_params_new(void) { return calloc(1, sizeof(pk_nn_params)); }

void pk_nn_params_free(pk_nn_params *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free((char *)p->t[i]->name);
        free(p->t[i]);
    }
    free(p->t);
    free(p->data);
    free(p->grad);
    free(p);
}

static pk_nn_tensor *add(pk_nn_params *p, const char *name, int ndim, const int64_t *shape, int trainable)
{
    if (!p || !name || !shape || p->allocated || ndim < 1 || ndim > PK_NN_MAXDIM)
        return NULL;
    if (pk_nn_params_find(p, name))
        return NULL;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] <= 0 || n > INT64_MAX / 8 / shape[i])
            return NULL;
        n *= shape[i];
    }
    if (p->n == p->cap) {
        size_t nc = p->cap ? 2 * p->cap : 16;
        pk_nn_tensor **nt = realloc(p->t, nc * sizeof *nt);
        if (!nt)
            return NULL;
        p->t = nt;
        p->cap = nc;
    }
    pk_nn_tensor *t = calloc(1, sizeof *t);
    char *nm = t ? malloc(strlen(name) + 1) : NULL;
    if (!nm) {
        free(t);
        return NULL;
    }
    strcpy(nm, name);
    t->name = nm;
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    t->numel = n;
    t->requires_grad = trainable;
    t->trainable = trainable;
    p->t[p->n++] = t;
    return t;
}

pk_nn_tensor *pk_nn_params_add(pk_nn_params *p, const char *name, int ndim, const int64_t *shape)
{
    return add(p, name, ndim, shape, 1);
}

pk_nn_tensor *pk_nn_params_add_buffer(pk_nn_params *p, const char *name, int ndim, const int64_t *shape)
{
    return add(p, name, ndim, shape, 0);
}

int pk_nn_params_alloc(pk_nn_params *p)
{
    if (!p || p->allocated)
        return PK_EINVAL;
    /* Each tensor starts on a 16-float boundary so kernels see aligned rows. */
    int64_t total = 0;
    for (size_t i = 0; i < p->n; i++)
        total += (p->t[i]->numel + 15) / 16 * 16;
    size_t bytes = (size_t)(total ? total : 16) * sizeof(float);
    p->data = aligned_alloc(64, bytes);
    p->grad = aligned_alloc(64, bytes);
    if (!p->data || !p->grad) {
        free(p->data);
        free(p->grad);
        p->data = p->grad = NULL;
        return PK_ENOMEM;
    }
    memset(p->data, 0, bytes);
    memset(p->grad, 0, bytes);
    int64_t off = 0;
    for (size_t i = 0; i < p->n; i++) {
        p->t[i]->data = p->data + off;
        p->t[i]->grad = p->t[i]->trainable ? p->grad + off : NULL;
        off += (p->t[i]->numel + 15) / 16 * 16;
    }
    p->total = total;
    p->allocated = 1;
    return PK_OK;
}

size_t pk_nn_params_count(const pk_nn_params *p) { return p ? p->n : 0; }
pk_nn_tensor *pk_nn_params_get(const pk_nn_params *p, size_t i) { return p && i < p->n ? p->t[i] : NULL; }

pk_nn_tensor *pk_nn_params_find(const pk_nn_params *p, const char *name)
{
    if (!p || !name)
        return NULL;
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->t[i]->name, name))
            return p->t[i];
    return NULL;
}

int64_t pk_nn_params_numel(const pk_nn_params *p)
{
    int64_t n = 0;
    for (size_t i = 0; p && i < p->n; i++)
        if (p->t[i]->trainable)
            n += p->t[i]->numel;
    return n;
}

void pk_nn_params_zero_grad(pk_nn_params *p)
{
    if (p && p->grad)
        memset(p->grad, 0, (size_t)p->total * sizeof(float));
}

double pk_nn_params_clip_grad_norm(pk_nn_params *p, double max_norm)
{
    double ss = 0;
    for (size_t i = 0; i < p->n; i++) {
        pk_nn_tensor *t = p->t[i];
        if (!t->grad)
            continue;
        for (int64_t j = 0; j < t->numel; j++)
            ss += (double)t->grad[j] * t->grad[j];
    }
    double norm = sqrt(ss);
    if (max_norm > 0 && norm > max_norm) {
        float s = (float)(max_norm / (norm + 1e-6));
        for (size_t i = 0; i < p->n; i++) {
            pk_nn_tensor *t = p->t[i];
            if (t->grad)
                for (int64_t j = 0; j < t->numel; j++)
                    t->grad[j] *= s;
        }
    }
    return norm;
}

int pk_nn_params_copy(pk_nn_params *dst, const pk_nn_params *src, pk_err *err)
{
    if (!dst || !src || dst->n != src->n)
        return pk_err_set(err, PK_ESHAPE, "pk_nn_params_copy: parameter sets differ in size");
    for (size_t i = 0; i < src->n; i++) {
        const pk_nn_tensor *a = src->t[i], *b = dst->t[i];
        if (strcmp(a->name, b->name) || a->ndim != b->ndim || memcmp(a->shape, b->shape, (size_t)a->ndim * 8))
            return pk_err_set(err, PK_ESHAPE, "pk_nn_params_copy: parameter %zu ('%s' vs '%s') differs", i, a->name,
                              b->name);
    }
    for (size_t i = 0; i < src->n; i++)
        memcpy(dst->t[i]->data, src->t[i]->data, (size_t)src->t[i]->numel * sizeof(float));
    return PK_OK;
}

/* ---- initialisers ---- */

void pk_nn_init_uniform(pk_nn_tensor *t, float lo, float hi, pk_rng *rng)
{
    for (int64_t i = 0; i < t->numel; i++)
        t->data[i] = (float)(lo + (hi - lo) * pk_rng_uniform(rng));
}

void pk_nn_init_normal(pk_nn_tensor *t, float mean, float sd, pk_rng *rng)
{
    for (int64_t i = 0; i < t->numel; i++)
        t->data[i] = (float)(mean + sd * pk_rng_normal(rng));
}

void pk_nn_init_const(pk_nn_tensor *t, float value)
{
    for (int64_t i = 0; i < t->numel; i++)
        t->data[i] = value;
}

void pk_nn_init_kaiming_uniform(pk_nn_tensor *t, int64_t fan_in, pk_rng *rng)
{
    float b = (float)sqrt(6.0 / (double)(fan_in > 0 ? fan_in : 1));
    pk_nn_init_uniform(t, -b, b, rng);
}

void pk_nn_init_kaiming_normal(pk_nn_tensor *t, int64_t fan_in, pk_rng *rng)
{
    pk_nn_init_normal(t, 0.0f, (float)sqrt(2.0 / (double)(fan_in > 0 ? fan_in : 1)), rng);
}

void pk_nn_init_xavier_uniform(pk_nn_tensor *t, int64_t fan_in, int64_t fan_out, pk_rng *rng)
{
    float b = (float)sqrt(6.0 / (double)(fan_in + fan_out > 0 ? fan_in + fan_out : 1));
    pk_nn_init_uniform(t, -b, b, rng);
}

void pk_nn_init_xavier_normal(pk_nn_tensor *t, int64_t fan_in, int64_t fan_out, pk_rng *rng)
{
    pk_nn_init_normal(t, 0.0f, (float)sqrt(2.0 / (double)(fan_in + fan_out > 0 ? fan_in + fan_out : 1)), rng);
}
