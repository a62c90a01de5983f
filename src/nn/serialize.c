/* serialize.c — parameters to and from safetensors (F32, names and shapes as
 * declared, string metadata for the model format). */
#include <stdio.h>
#include <stdlib.h>

#include "nn_internal.h"
#include "probkit/io.h"

static void shape_str(int ndim, const int64_t *shape, char *out, size_t cap)
{
    size_t k = (size_t)snprintf(out, cap, "(");
    for (int i = 0; i < ndim && k < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, i ? ",%lld" : "%lld", (long long)shape[i]);
    if (k < cap)
        snprintf(out + k, cap - k, ")");
}

int pk_nn_params_save(const pk_nn_params *p, const char *path, size_t n_meta, const char *const *keys,
                      const char *const *values, pk_err *err)
{
    size_t n = pk_nn_params_count(p);
    if (!p || !path || n == 0)
        return pk_err_set(err, PK_EINVAL, "pk_nn_params_save: nothing to save");
    const char **names = malloc(n * sizeof *names);
    pk_array *arrs = malloc(n * sizeof *arrs);
    const pk_array **ap = malloc(n * sizeof *ap);
    int st = PK_ENOMEM;
    if (!names || !arrs || !ap) {
        pk_err_set(err, st, "pk_nn_params_save: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        pk_nn_tensor *t = pk_nn_params_get(p, i);
        if (!t->data) {
            st = pk_err_set(err, PK_EINVAL, "pk_nn_params_save: parameters not allocated");
            goto done;
        }
        names[i] = t->name;
        memset(&arrs[i], 0, sizeof arrs[i]);
        arrs[i].dtype = PK_DTYPE_F32;
        arrs[i].ndim = t->ndim;
        memcpy(arrs[i].shape, t->shape, (size_t)t->ndim * sizeof(int64_t));
        arrs[i].data = t->data; /* borrowed: the writer only reads */
        ap[i] = &arrs[i];
    }
    st = pk_safetensors_write(path, n, names, ap, n_meta, keys, values, err);
done:
    free(names);
    free(arrs);
    free(ap);
    return st;
}

int pk_nn_params_load(pk_nn_params *p, const char *path, pk_err *err)
{
    if (!p || !path)
        return pk_err_set(err, PK_EINVAL, "pk_nn_params_load: no parameters or path");
    pk_tensor_file *f = NULL;
    int st = pk_safetensors_read(path, &f, err);
    if (st)
        return st;
    size_t n = pk_nn_params_count(p);
    float **vals = calloc(n ? n : 1, sizeof *vals);
    if (!vals) {
        pk_tensor_file_free(f);
        return pk_err_set(err, PK_ENOMEM, "%s: out of memory", path);
    }
    /* Validate everything before touching p, so a bad file changes nothing. */
    for (size_t i = 0; i < n && !st; i++) {
        pk_nn_tensor *t = pk_nn_params_get(p, i);
        const pk_array *a = pk_tensor_file_get(f, t->name);
        char want[128], got[128];
        if (!a) {
            st = pk_err_set(err, PK_ESHAPE, "%s: tensor '%s' is missing", path, t->name);
            break;
        }
        int ok = a->ndim == t->ndim;
        for (int d = 0; ok && d < a->ndim; d++)
            ok = a->shape[d] == t->shape[d];
        if (!ok) {
            shape_str(t->ndim, t->shape, want, sizeof want);
            shape_str(a->ndim, a->shape, got, sizeof got);
            st = pk_err_set(err, PK_ESHAPE, "%s: tensor '%s' has shape %s, the model needs %s", path, t->name, got,
                            want);
            break;
        }
        if (a->dtype != PK_DTYPE_F32 && a->dtype != PK_DTYPE_F64 && a->dtype != PK_DTYPE_F16 &&
            a->dtype != PK_DTYPE_BF16) {
            st = pk_err_set(err, PK_EFORMAT, "%s: tensor '%s' has dtype %s, need a float type", path, t->name,
                            pk_dtype_name(a->dtype));
            break;
        }
        if (pk_array_to_f32(a, &vals[i])) {
            st = pk_err_set(err, PK_ENOMEM, "%s: out of memory", path);
            break;
        }
    }
    if (!st && f->n != n) {
        for (size_t j = 0; j < f->n; j++)
            if (!pk_nn_params_find(p, f->names[j])) {
                st = pk_err_set(err, PK_ESHAPE, "%s: unexpected tensor '%s' (not in the model)", path, f->names[j]);
                break;
            }
    }
    if (!st)
        for (size_t i = 0; i < n; i++) {
            pk_nn_tensor *t = pk_nn_params_get(p, i);
            memcpy(t->data, vals[i], (size_t)t->numel * sizeof(float));
        }
    for (size_t i = 0; i < n; i++)
        free(vals[i]);
    free(vals);
    pk_tensor_file_free(f);
    return st;
}

char *pk_nn_file_meta(const char *path, const char *key, pk_err *err)
{
    pk_tensor_file *f = NULL;
    if (pk_safetensors_read(path, &f, err))
        return NULL;
    char *v = NULL;
    for (size_t i = 0; i < f->n_meta; i++)
        if (!strcmp(f->meta_keys[i], key)) {
            v = malloc(strlen(f->meta_values[i]) + 1);
            if (v)
                strcpy(v, f->meta_values[i]);
            break;
        }
    if (!v)
        pk_err_set(err, PK_EFORMAT, "%s: no metadata '%s'", path, key);
    pk_tensor_file_free(f);
    return v;
}

const char *nn_meta(const pk_tensor_file *f, const char *key)
{
    for (size_t i = 0; f && i < f->n_meta; i++)
        if (!strcmp(f->meta_keys[i], key))
            return f->meta_values[i];
    return NULL;
}

int nn_meta_long(const pk_tensor_file *f, const char *key, long lo, long hi, long *out)
{
    const char *v = nn_meta(f, key);
    if (!v || !*v)
        return -1;
    char *end;
    long x = strtol(v, &end, 10);
    if (*end || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}
