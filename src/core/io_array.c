/* Dense n-d arrays: allocation, dtype table and conversion to float/double. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_priv.h"

static const struct {
    const char *name;
    size_t size;
} DTYPES[] = {
    [PK_DTYPE_U8] = {"u8", 1},   [PK_DTYPE_I8] = {"i8", 1},     [PK_DTYPE_I16] = {"i16", 2},
    [PK_DTYPE_I32] = {"i32", 4}, [PK_DTYPE_I64] = {"i64", 8},   [PK_DTYPE_F16] = {"f16", 2},
    [PK_DTYPE_BF16] = {"bf16", 2}, [PK_DTYPE_F32] = {"f32", 4}, [PK_DTYPE_F64] = {"f64", 8},
    [PK_DTYPE_BOOL] = {"bool", 1},
};
#define N_DTYPES (sizeof DTYPES / sizeof DTYPES[0])

size_t pk_dtype_size(pk_dtype t)
{
    return (unsigned)t < N_DTYPES ? DTYPES[t].size : 0;
}

const char *pk_dtype_name(pk_dtype t)
{
    return (unsigned)t < N_DTYPES ? DTYPES[t].name : "?";
}

int pk_dtype_from_name(const char *name, pk_dtype *out)
{
    for (size_t i = 0; i < N_DTYPES; i++)
        if (!strcmp(DTYPES[i].name, name)) {
            *out = (pk_dtype)i;
            return PK_OK;
        }
    return PK_EINVAL;
}

void pk_shape_str(int ndim, const int64_t *shape, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = 0;
    if (ndim == 0) {
        snprintf(out, cap, "scalar");
        return;
    }
    for (int i = 0; i < ndim && k < cap; i++) {
        int w = snprintf(out + k, cap - k, i ? "x%lld" : "%lld", (long long)shape[i]);
        if (w < 0)
            break;
        k += (size_t)w;
    }
}

pk_array *pk_array_new(pk_dtype t, int ndim, const int64_t *shape)
{
    if ((unsigned)t >= N_DTYPES || ndim < 0 || ndim > PK_ARRAY_MAXDIM || (ndim > 0 && !shape))
        return NULL;
    int ovf;
    size_t nb = pk_shape_bytes(ndim, shape, DTYPES[t].size, &ovf);
    if (ovf)
        return NULL;
    pk_array *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->data = calloc(nb ? nb : 1, 1);
    if (!a->data) {
        free(a);
        return NULL;
    }
    a->dtype = t;
    a->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        a->shape[i] = shape[i];
    return a;
}

void pk_array_free(pk_array *a)
{
    if (!a)
        return;
    free(a->data);
    free(a);
}

size_t pk_array_numel(const pk_array *a)
{
    size_t n = 1;
    for (int i = 0; i < a->ndim; i++)
        n *= (size_t)a->shape[i];
    return n;
}

size_t pk_array_nbytes(const pk_array *a)
{
    return pk_array_numel(a) * pk_dtype_size(a->dtype);
}

double pk_half_to_double(uint16_t h)
{
    int sign = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v;
    if (e == 0)
        v = ldexp((double)m, -24);
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexp((double)(m | 0x400), e - 25);
    return sign ? -v : v;
}

uint16_t pk_double_to_half(double x)
{
    /* Round to nearest even via float bit manipulation is fiddly; go through
     * frexp so that subnormals, overflow and NaN are all explicit. */
    uint16_t sign = signbit(x) ? 0x8000 : 0;
    if (isnan(x))
        return 0x7e00;
    double a = fabs(x);
    if (a == 0)
        return sign;
    if (a >= 65520.0) /* rounds to infinity */
        return sign | 0x7c00;
    int e;
    frexp(a, &e); /* a = f * 2^e, f in [0.5,1) */
    int ex = e - 1; /* a = g * 2^ex, g in [1,2) */
    if (ex < -14) { /* subnormal: units of 2^-24 */
        double q = nearbyint(ldexp(a, 24));
        return sign | (uint16_t)q; /* q == 1024 becomes the smallest normal, correctly */
    }
    double q = nearbyint(ldexp(a, 10 - ex)); /* in [1024, 2048] */
    if (q >= 2048) {
        q /= 2;
        ex++;
    }
    if (ex > 15)
        return sign | 0x7c00;
    return sign | (uint16_t)((ex + 15) << 10) | (uint16_t)((int)q - 1024);
}

static double bf16_to_double(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static double elem(const pk_array *a, size_t i)
{
    const uint8_t *p = (const uint8_t *)a->data + i * pk_dtype_size(a->dtype);
    switch (a->dtype) {
    case PK_DTYPE_U8:
        return *p;
    case PK_DTYPE_BOOL:
        return *p != 0;
    case PK_DTYPE_I8:
        return (int8_t)*p;
    case PK_DTYPE_I16: {
        int16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    case PK_DTYPE_I32: {
        int32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    case PK_DTYPE_I64: {
        int64_t v;
        memcpy(&v, p, 8);
        return (double)v;
    }
    case PK_DTYPE_F16: {
        uint16_t v;
        memcpy(&v, p, 2);
        return pk_half_to_double(v);
    }
    case PK_DTYPE_BF16: {
        uint16_t v;
        memcpy(&v, p, 2);
        return bf16_to_double(v);
    }
    case PK_DTYPE_F32: {
        float v;
        memcpy(&v, p, 4);
        return v;
    }
    case PK_DTYPE_F64: {
        double v;
        memcpy(&v, p, 8);
        return v;
    }
    }
    return NAN;
}

double pk_array_get(const pk_array *a, size_t i)
{
    return elem(a, i);
}

int pk_array_to_f64(const pk_array *a, double **out)
{
    *out = NULL;
    if (!a || (unsigned)a->dtype >= N_DTYPES)
        return PK_EINVAL;
    size_t n = pk_array_numel(a);
    double *d = malloc((n ? n : 1) * sizeof *d);
    if (!d)
        return PK_ENOMEM;
    for (size_t i = 0; i < n; i++)
        d[i] = elem(a, i);
    *out = d;
    return PK_OK;
}

int pk_array_to_f32(const pk_array *a, float **out)
{
    *out = NULL;
    if (!a || (unsigned)a->dtype >= N_DTYPES)
        return PK_EINVAL;
    size_t n = pk_array_numel(a);
    float *d = malloc((n ? n : 1) * sizeof *d);
    if (!d)
        return PK_ENOMEM;
    if (a->dtype == PK_DTYPE_F32)
        memcpy(d, a->data, n * sizeof *d);
    else
        for (size_t i = 0; i < n; i++)
            d[i] = (float)elem(a, i);
    *out = d;
    return PK_OK;
}

pk_array *pk_array_copy(const pk_array *a)
{
    if (!a)
        return NULL;
    pk_array *b = pk_array_new(a->dtype, a->ndim, a->shape);
    if (b)
        memcpy(b->data, a->data, pk_array_nbytes(a));
    return b;
}
