/* space.c — named search spaces and their map to the unit cube. */
#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/bo.h"

pk_bo_space *pk_bo_space_new(void) { return calloc(1, sizeof(pk_bo_space)); }

void pk_bo_space_free(pk_bo_space *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->params[i].name);
        for (size_t c = 0; c < s->params[i].nchoices; c++)
            free(s->params[i].choices[c]);
        free(s->params[i].choices);
    }
    free(s->params);
    free(s);
}

static int check_name(pk_bo_space *s, const char *name, pk_err *err)
{
    if (!name || !*name)
        return pk_err_set(err, PK_EINVAL, "parameter %zu: empty name", s->n + 1);
    if (strlen(name) > 64)
        return pk_err_set(err, PK_EINVAL, "parameter '%.20s...': name longer than 64 characters", name);
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
            return pk_err_set(err, PK_EINVAL, "parameter '%s': names may use letters, digits, '_', '-', '.'",
                              name);
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->params[i].name, name))
            return pk_err_set(err, PK_EINVAL, "parameter '%s' is defined twice", name);
    if (s->n >= 64)
        return pk_err_set(err, PK_EINVAL, "parameter '%s': at most 64 parameters", name);
    return PK_OK;
}

static pk_bo_param *push(pk_bo_space *s, const char *name, pk_err *err)
{
    pk_bo_param *np = realloc(s->params, (s->n + 1) * sizeof *np);
    if (!np) {
        pk_err_set(err, PK_ENOMEM, "out of memory");
        return NULL;
    }
    s->params = np;
    pk_bo_param *p = &s->params[s->n];
    memset(p, 0, sizeof *p);
    p->name = strdup(name);
    if (!p->name) {
        pk_err_set(err, PK_ENOMEM, "out of memory");
        return NULL;
    }
    s->n++;
    return p;
}

int pk_bo_space_add_float(pk_bo_space *s, const char *name, double lo, double hi, int log_scale, pk_err *err)
{
    int st = check_name(s, name, err);
    if (st)
        return st;
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
        return pk_err_set(err, PK_EINVAL, "parameter '%s': need finite low < high (got %g, %g)", name, lo, hi);
    if (log_scale && !(lo > 0))
        return pk_err_set(err, PK_EINVAL, "parameter '%s': a log-scale range needs low > 0 (got %g)", name, lo);
    pk_bo_param *p = push(s, name, err);
    if (!p)
        return PK_ENOMEM;
    p->type = log_scale ? PK_BO_PARAM_LOGFLOAT : PK_BO_PARAM_FLOAT;
    p->lo = lo;
    p->hi = hi;
    return PK_OK;
}

int pk_bo_space_add_int(pk_bo_space *s, const char *name, int64_t lo, int64_t hi, pk_err *err)
{
    int st = check_name(s, name, err);
    if (st)
        return st;
    if (lo > hi || lo < -(INT64_C(1) << 52) || hi > (INT64_C(1) << 52))
        return pk_err_set(err, PK_EINVAL, "parameter '%s': need low <= high within +-2^52 (got %" PRId64 ", %" PRId64 ")",
                          name, lo, hi);
    pk_bo_param *p = push(s, name, err);
    if (!p)
        return PK_ENOMEM;
    p->type = PK_BO_PARAM_INT;
    p->lo = (double)lo;
    p->hi = (double)hi;
    return PK_OK;
}

int pk_bo_space_add_categorical(pk_bo_space *s, const char *name, const char *const *choices, size_t n,
                                pk_err *err)
{
    int st = check_name(s, name, err);
    if (st)
        return st;
    if (n < 1)
        return pk_err_set(err, PK_EINVAL, "parameter '%s': a categorical needs at least one choice", name);
    for (size_t c = 0; c < n; c++)
        if (!choices[c])
            return pk_err_set(err, PK_EINVAL, "parameter '%s': choice %zu is missing", name, c);
    pk_bo_param *p = push(s, name, err);
    if (!p)
        return PK_ENOMEM;
    p->type = PK_BO_PARAM_CATEGORICAL;
    p->lo = 0;
    p->hi = (double)(n - 1);
    p->choices = calloc(n, sizeof *p->choices);
    if (!p->choices)
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    p->nchoices = n;
    for (size_t c = 0; c < n; c++) {
        p->choices[c] = strdup(choices[c]);
        if (!p->choices[c])
            return pk_err_set(err, PK_ENOMEM, "out of memory");
    }
    return PK_OK;
}

static int get_num(json_t *o, const char *k1, const char *k2, double *v)
{
    json_t *j = json_object_get(o, k1);
    if (!j)
        j = json_object_get(o, k2);
    if (!j || !json_is_number(j))
        return -1;
    *v = json_number_value(j);
    return 0;
}

int pk_bo_space_parse_json(const char *text, const char *name, pk_bo_space **out, pk_err *err)
{
    *out = NULL;
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!root)
        return pk_err_set(err, PK_EFORMAT, "%s:%d:%d: invalid JSON: %s", name, je.line, je.column, je.text);
    json_t *arr = json_is_object(root) ? json_object_get(root, "params") : NULL;
    int st = PK_OK;
    pk_bo_space *s = pk_bo_space_new();
    if (!s) {
        json_decref(root);
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    }
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        st = pk_err_set(err, PK_EFORMAT, "%s: expected an object with a non-empty array \"params\"", name);
        goto done;
    }
    for (size_t i = 0; i < json_array_size(arr) && !st; i++) {
        json_t *o = json_array_get(arr, i);
        const char *pn = json_string_value(json_object_get(o, "name"));
        const char *ty = json_string_value(json_object_get(o, "type"));
        if (!json_is_object(o) || !pn) {
            st = pk_err_set(err, PK_EFORMAT, "%s: parameter %zu: needs a string \"name\"", name, i + 1);
            break;
        }
        if (!ty) {
            st = pk_err_set(err, PK_EFORMAT, "%s: parameter '%s': needs a string \"type\"", name, pn);
            break;
        }
        double lo, hi;
        if (!strcmp(ty, "float") || !strcmp(ty, "logfloat") || !strcmp(ty, "int")) {
            if (get_num(o, "low", "min", &lo) || get_num(o, "high", "max", &hi)) {
                st = pk_err_set(err, PK_EFORMAT, "%s: parameter '%s': needs numbers \"low\" and \"high\"", name, pn);
                break;
            }
            if (!strcmp(ty, "int")) {
                if (lo != floor(lo) || hi != floor(hi)) {
                    st = pk_err_set(err, PK_EFORMAT, "%s: parameter '%s': int bounds must be whole numbers", name,
                                    pn);
                    break;
                }
                st = pk_bo_space_add_int(s, pn, (int64_t)lo, (int64_t)hi, err);
            } else {
                int lg = !strcmp(ty, "logfloat") || json_is_true(json_object_get(o, "log"));
                st = pk_bo_space_add_float(s, pn, lo, hi, lg, err);
            }
        } else if (!strcmp(ty, "categorical") || !strcmp(ty, "choice")) {
            json_t *ch = json_object_get(o, "choices");
            size_t nc = json_array_size(ch);
            if (!json_is_array(ch) || nc == 0) {
                st = pk_err_set(err, PK_EFORMAT, "%s: parameter '%s': needs a non-empty array \"choices\"", name, pn);
                break;
            }
            const char **cs = calloc(nc, sizeof *cs);
            char (*numbuf)[32] = calloc(nc, sizeof *numbuf);
            if (!cs || !numbuf) {
                free(cs);
                free(numbuf);
                st = pk_err_set(err, PK_ENOMEM, "out of memory");
                break;
            }
            for (size_t c = 0; c < nc && !st; c++) {
                json_t *cj = json_array_get(ch, c);
                if (json_is_string(cj)) {
                    cs[c] = json_string_value(cj);
                } else if (json_is_number(cj)) {
                    snprintf(numbuf[c], sizeof numbuf[c], "%.17g", json_number_value(cj));
                    cs[c] = numbuf[c];
                } else {
                    st = pk_err_set(err, PK_EFORMAT, "%s: parameter '%s': choice %zu is not a string or number",
                                    name, pn, c + 1);
                }
            }
            if (!st)
                st = pk_bo_space_add_categorical(s, pn, cs, nc, err);
            free(cs);
            free(numbuf);
        } else {
            st = pk_err_set(err, PK_EFORMAT,
                            "%s: parameter '%s': unknown type \"%s\" (float, logfloat, int, categorical)", name, pn, ty);
        }
        if (st && st != PK_EFORMAT && st != PK_ENOMEM) {
            pk_err_prefix(err, "%s: ", name);
            st = PK_EFORMAT;
        }
    }
done:
    json_decref(root);
    if (st) {
        pk_bo_space_free(s);
        return st;
    }
    *out = s;
    return PK_OK;
}

static double clamp01(double u) { return u < 0 ? 0 : u > 1 ? 1 : u; }

void pk_bo_space_decode(const pk_bo_space *s, const double *u, double *v)
{
    for (size_t i = 0; i < s->n; i++) {
        const pk_bo_param *p = &s->params[i];
        double x = clamp01(u[i]);
        switch (p->type) {
        case PK_BO_PARAM_FLOAT: v[i] = p->lo + x * (p->hi - p->lo); break;
        case PK_BO_PARAM_LOGFLOAT: v[i] = exp(log(p->lo) + x * (log(p->hi) - log(p->lo))); break;
        default: {
            double k = p->hi - p->lo + 1.0, idx = floor(x * k);
            if (idx > k - 1)
                idx = k - 1;
            v[i] = p->lo + idx;
        }
        }
        if (p->type != PK_BO_PARAM_INT && p->type != PK_BO_PARAM_CATEGORICAL) {
            if (v[i] < p->lo)
                v[i] = p->lo;
            if (v[i] > p->hi)
                v[i] = p->hi;
        }
    }
}

void pk_bo_space_encode(const pk_bo_space *s, const double *v, double *u)
{
    for (size_t i = 0; i < s->n; i++) {
        const pk_bo_param *p = &s->params[i];
        switch (p->type) {
        case PK_BO_PARAM_FLOAT: u[i] = (v[i] - p->lo) / (p->hi - p->lo); break;
        case PK_BO_PARAM_LOGFLOAT: u[i] = (log(v[i]) - log(p->lo)) / (log(p->hi) - log(p->lo)); break;
        default: u[i] = (floor(v[i] + 0.5) - p->lo + 0.5) / (p->hi - p->lo + 1.0);
        }
        u[i] = clamp01(u[i]);
    }
}

void pk_bo_space_format(const pk_bo_space *s, size_t i, double v, char *buf, size_t len)
{
    const pk_bo_param *p = &s->params[i];
    if (p->type == PK_BO_PARAM_INT)
        snprintf(buf, len, "%" PRId64, (int64_t)floor(v + 0.5));
    else if (p->type == PK_BO_PARAM_CATEGORICAL) {
        long idx = (long)floor(v + 0.5);
        if (idx < 0)
            idx = 0;
        if ((size_t)idx >= p->nchoices)
            idx = (long)p->nchoices - 1;
        snprintf(buf, len, "%s", p->choices[idx]);
    } else
        snprintf(buf, len, "%.17g", v);
}
