/* fixture.h — read arrays out of the JSON fixtures written by tests/ref/cluster_*.py. */
#ifndef PK_TEST_CLUSTER_FIXTURE_H
#define PK_TEST_CLUSTER_FIXTURE_H
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* Brute-force double nearest centre of row x (d columns) among the k rows of C (first index
 * on ties): returns it, *best gets its squared distance and *dl (if not NULL) the squared
 * distance to centre `label`. */
static inline int32_t fx_nearest(const double *x, const double *C, size_t k, size_t d, int32_t label, double *best,
                                 double *dl)
{
    int32_t bj = 0;
    *best = INFINITY;
    for (size_t j = 0; j < k; j++) {
        double s = 0;
        for (size_t t = 0; t < d; t++) {
            double e = x[t] - C[j * d + t];
            s += e * e;
        }
        if (s < *best) {
            *best = s;
            bj = (int32_t)j;
        }
        if (dl && (int32_t)j == label)
            *dl = s;
    }
    return bj;
}

/* Follow a path of object keys ("gmm", "full", "means", NULL) from root. */
static inline json_t *fx_get(json_t *root, const char *const *keys)
{
    json_t *j = root;
    for (; j && *keys; keys++)
        j = json_object_get(j, *keys);
    return j;
}

/* A malloc'd double array copy of a JSON array (or NULL); *len gets its length. */
static inline double *fx_doubles(json_t *a, size_t *len)
{
    if (!json_is_array(a))
        return NULL;
    size_t n = json_array_size(a);
    double *v = malloc((n ? n : 1) * sizeof(double));
    for (size_t i = 0; v && i < n; i++)
        v[i] = json_number_value(json_array_get(a, i));
    if (len)
        *len = n;
    return v;
}

static inline int32_t *fx_ints(json_t *a, size_t *len)
{
    if (!json_is_array(a))
        return NULL;
    size_t n = json_array_size(a);
    int32_t *v = malloc((n ? n : 1) * sizeof(int32_t));
    for (size_t i = 0; v && i < n; i++)
        v[i] = (int32_t)json_integer_value(json_array_get(a, i));
    if (len)
        *len = n;
    return v;
}
#endif
