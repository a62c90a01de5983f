/* safetensors: u64 little-endian header length N, N bytes of JSON
 *   {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]},
 *    "__metadata__": {"key": "value"}}
 * then the byte buffer.  Offsets are relative to the buffer; the tensors must
 * tile it exactly (no gaps, no overlaps), as the reference implementation
 * demands. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "io_priv.h"

#define ST_MAX_HEADER ((uint64_t)100 << 20)

static const struct {
    const char *name;
    pk_dtype dtype;
    size_t file_size;
    int widen; /* unsigned source widened to the next signed type */
} ST_TYPES[] = {
    {"BOOL", PK_DTYPE_BOOL, 1, 0}, {"U8", PK_DTYPE_U8, 1, 0},   {"I8", PK_DTYPE_I8, 1, 0},
    {"I16", PK_DTYPE_I16, 2, 0},   {"I32", PK_DTYPE_I32, 4, 0}, {"I64", PK_DTYPE_I64, 8, 0},
    {"F16", PK_DTYPE_F16, 2, 0},   {"BF16", PK_DTYPE_BF16, 2, 0}, {"F32", PK_DTYPE_F32, 4, 0},
    {"F64", PK_DTYPE_F64, 8, 0},   {"U16", PK_DTYPE_I32, 2, 1}, {"U32", PK_DTYPE_I64, 4, 1},
};
#define N_ST_TYPES (sizeof ST_TYPES / sizeof ST_TYPES[0])

static const char *st_name(pk_dtype t)
{
    for (size_t i = 0; i < N_ST_TYPES; i++)
        if (ST_TYPES[i].dtype == t && !ST_TYPES[i].widen)
            return ST_TYPES[i].name;
    return NULL;
}

void pk_tensor_file_free(pk_tensor_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        free(f->names ? f->names[i] : NULL);
        pk_array_free(f->arrays ? f->arrays[i] : NULL);
    }
    for (size_t i = 0; i < f->n_meta; i++) {
        free(f->meta_keys ? f->meta_keys[i] : NULL);
        free(f->meta_values ? f->meta_values[i] : NULL);
    }
    free(f->names);
    free(f->arrays);
    free(f->meta_keys);
    free(f->meta_values);
    free(f);
}

const pk_array *pk_tensor_file_get(const pk_tensor_file *f, const char *name)
{
    if (!f || !name)
        return NULL;
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->names[i], name))
            return f->arrays[i];
    return NULL;
}

typedef struct entry {
    const char *name;
    size_t type;
    int ndim;
    int64_t shape[PK_ARRAY_MAXDIM];
    uint64_t begin, end;
} entry;

static int cmp_begin(const void *a, const void *b)
{
    const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end > y->end) - (x->end < y->end);
}

static int get_u64(json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return 0;
    *out = (uint64_t)json_integer_value(v);
    return 1;
}

static int parse_entry(const char *fname, const char *key, json_t *v, entry *e, pk_err *err)
{
    memset(e, 0, sizeof *e);
    e->name = key;
    if (!key[0])
        return pk_err_set(err, PK_EFORMAT, "%s: a tensor has an empty name", fname);
    if (!json_is_object(v))
        return pk_err_set(err, PK_EFORMAT, "%s: tensor '%s': entry is not an object", fname, key);
    json_t *dt = json_object_get(v, "dtype"), *sh = json_object_get(v, "shape"),
           *off = json_object_get(v, "data_offsets");
    if (!json_is_string(dt) || !json_is_array(sh) || !json_is_array(off))
        return pk_err_set(err, PK_EFORMAT, "%s: tensor '%s': needs string 'dtype', arrays 'shape' and 'data_offsets'",
                          fname, key);
    if (json_object_size(v) != 3)
        return pk_err_set(err, PK_EFORMAT, "%s: tensor '%s': unexpected keys besides dtype/shape/data_offsets",
                          fname, key);
    const char *ds = json_string_value(dt);
    e->type = N_ST_TYPES;
    for (size_t i = 0; i < N_ST_TYPES; i++)
        if (!strcmp(ST_TYPES[i].name, ds))
            e->type = i;
    if (e->type == N_ST_TYPES)
        return pk_err_set(err, PK_ENOTSUP, "%s: tensor '%s': dtype '%s' is not supported", fname, key, ds);
    size_t nd = json_array_size(sh);
    if (nd > PK_ARRAY_MAXDIM)
        return pk_err_set(err, PK_EFORMAT, "%s: tensor '%s': %zu dimensions (at most %d)", fname, key, nd,
                          PK_ARRAY_MAXDIM);
    e->ndim = (int)nd;
    for (size_t i = 0; i < nd; i++) {
        uint64_t d;
        if (!get_u64(json_array_get(sh, i), &d))
            return pk_err_set(err, PK_EFORMAT, "%s: tensor '%s': shape[%zu] is not a non-negative integer", fname, key,
                              i);
        e->shape[i] = (int64_t)d;
    }
    if (json_array_size(off) != 2 || !get_u64(json_array_get(off, 0), &e->begin) ||
        !get_u64(json_array_get(off, 1), &e->end))
        return pk_err_set(err, PK_EFORMAT, "%s: tensor '%s': data_offsets must be [begin, end]", fname, key);
    if (e->end < e->begin)
        return pk_err_set(err, PK_EFORMAT, "%s: tensor '%s': data_offsets end %llu < begin %llu", fname, key,
                          (unsigned long long)e->end, (unsigned long long)e->begin);
    int ovf;
    size_t need = pk_shape_bytes(e->ndim, e->shape, ST_TYPES[e->type].file_size, &ovf);
    if (ovf || need != e->end - e->begin) {
        char s[128];
        pk_shape_str(e->ndim, e->shape, s, sizeof s);
        char nb[32];
        snprintf(nb, sizeof nb, ovf ? "too many" : "%zu", need);
        return pk_err_set(err, PK_EFORMAT, "%s: tensor '%s': shape %s of %s needs %s bytes but data_offsets span %llu",
                          fname, key, s, ds, nb, (unsigned long long)(e->end - e->begin));
    }
    return PK_OK;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static int load_tensor(const entry *e, const uint8_t *data, pk_array **out)
{
    pk_array *a = pk_array_new(ST_TYPES[e->type].dtype, e->ndim, e->shape);
    if (!a)
        return PK_ENOMEM;
    const uint8_t *src = data + e->begin;
    size_t fs = ST_TYPES[e->type].file_size, n = pk_array_numel(a);
    if (!ST_TYPES[e->type].widen) {
        memcpy(a->data, src, n * fs);
        if (!pk_host_is_le())
            pk_byteswap(a->data, n, fs);
    } else {
        for (size_t i = 0; i < n; i++) {
            if (fs == 2) {
                int32_t v = (int32_t)((uint32_t)src[2 * i] | (uint32_t)src[2 * i + 1] << 8);
                memcpy((uint8_t *)a->data + 4 * i, &v, 4);
            } else {
                int64_t v = (int64_t)pk_rd_le32(src + 4 * i);
                memcpy((uint8_t *)a->data + 8 * i, &v, 8);
            }
        }
    }
    *out = a;
    return PK_OK;
}

static int build(const char *name, json_t *root, const uint8_t *data, uint64_t dlen, pk_tensor_file **out,
                 pk_err *err)
{
    size_t nt = json_object_size(root);
    json_t *meta = json_object_get(root, "__metadata__");
    if (meta) {
        nt--;
        if (!json_is_object(meta))
            return pk_err_set(err, PK_EFORMAT, "%s: __metadata__ is not an object", name);
    }
    entry *ents = calloc(nt ? nt : 1, sizeof *ents);
    entry **order = calloc(nt ? nt : 1, sizeof *order);
    pk_tensor_file *f = calloc(1, sizeof *f);
    int st = PK_OK;
    if (!ents || !order || !f) {
        st = pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
        goto done;
    }
    const char *key;
    json_t *v;
    size_t k = 0;
    json_object_foreach(root, key, v)
    {
        if (!strcmp(key, "__metadata__"))
            continue;
        if ((st = parse_entry(name, key, v, &ents[k], err)))
            goto done;
        order[k] = &ents[k];
        k++;
    }
    qsort(order, nt, sizeof *order, cmp_begin);
    uint64_t pos = 0;
    for (size_t i = 0; i < nt; i++) {
        if (order[i]->begin != pos) {
            st = pk_err_set(err, PK_EFORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] %s the previous tensor",
                            name, order[i]->name, (unsigned long long)order[i]->begin,
                            (unsigned long long)order[i]->end, order[i]->begin < pos ? "overlap" : "leave a gap after");
            goto done;
        }
        pos = order[i]->end;
    }
    if (pos != dlen) {
        st = pk_err_set(err, PK_EFORMAT, "%s: tensors cover %llu bytes but the data section has %llu", name,
                        (unsigned long long)pos, (unsigned long long)dlen);
        goto done;
    }
    f->names = calloc(nt ? nt : 1, sizeof *f->names);
    f->arrays = calloc(nt ? nt : 1, sizeof *f->arrays);
    if (!f->names || !f->arrays) {
        st = pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
        goto done;
    }
    for (size_t i = 0; i < nt; i++) {
        f->n = i + 1;
        f->names[i] = xstrdup(ents[i].name);
        if (!f->names[i] || load_tensor(&ents[i], data, &f->arrays[i])) {
            st = pk_err_set(err, PK_ENOMEM, "%s: out of memory for tensor '%s'", name, ents[i].name);
            goto done;
        }
    }
    if (meta) {
        size_t nm = json_object_size(meta);
        f->meta_keys = calloc(nm ? nm : 1, sizeof *f->meta_keys);
        f->meta_values = calloc(nm ? nm : 1, sizeof *f->meta_values);
        if (!f->meta_keys || !f->meta_values) {
            st = pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
            goto done;
        }
        json_object_foreach(meta, key, v)
        {
            if (!json_is_string(v)) {
                st = pk_err_set(err, PK_EFORMAT, "%s: __metadata__ value of '%s' is not a string", name, key);
                goto done;
            }
            size_t i = f->n_meta++;
            f->meta_keys[i] = xstrdup(key);
            f->meta_values[i] = xstrdup(json_string_value(v));
            if (!f->meta_keys[i] || !f->meta_values[i]) {
                st = pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
                goto done;
            }
        }
    }
done:
    free(ents);
    free(order);
    if (st)
        pk_tensor_file_free(f);
    else
        *out = f;
    return st;
}

int pk_safetensors_parse(const uint8_t *buf, size_t len, const char *name, pk_tensor_file **out, pk_err *err)
{
    *out = NULL;
    if (!name)
        name = "<memory>";
    if (len < 8)
        return pk_err_set(err, PK_EFORMAT, "%s: too short for a safetensors header (%zu bytes)", name, len);
    uint64_t hl = pk_rd_le64(buf);
    if (hl > ST_MAX_HEADER)
        return pk_err_set(err, PK_EFORMAT, "%s: safetensors header length %llu exceeds the 100 MiB limit", name,
                          (unsigned long long)hl);
    if (hl > len - 8)
        return pk_err_set(err, PK_EFORMAT, "%s: safetensors header length %llu but only %zu bytes follow", name,
                          (unsigned long long)hl, len - 8);
    if (hl < 2 || buf[8] != '{')
        return pk_err_set(err, PK_EFORMAT, "%s: safetensors header does not start with '{'", name);
    json_error_t je;
    json_t *root = json_loadb((const char *)buf + 8, (size_t)hl, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        /* jansson reports most allocation failures as an unknown error with no
         * text (some as a bogus syntax error, which we cannot tell apart). */
        enum json_error_code code = json_error_code(&je);
        if (code == json_error_out_of_memory || (code == json_error_unknown && !je.text[0]))
            return pk_err_set(err, PK_ENOMEM, "%s: out of memory reading the safetensors header", name);
        return pk_err_set(err, PK_EFORMAT, "%s: safetensors header, JSON column %d: %s", name, je.column, je.text);
    }
    int st;
    if (!json_is_object(root))
        st = pk_err_set(err, PK_EFORMAT, "%s: safetensors header is not a JSON object", name);
    else
        st = build(name, root, buf + 8 + hl, (uint64_t)(len - 8 - hl), out, err);
    json_decref(root);
    return st;
}

int pk_safetensors_read(const char *path, pk_tensor_file **out, pk_err *err)
{
    uint8_t *buf;
    size_t len;
    *out = NULL;
    int st = pk_file_read_all(path, PK_IO_MAX_FILE, &buf, &len, err);
    if (st)
        return st;
    st = pk_safetensors_parse(buf, len, path, out, err);
    free(buf);
    return st;
}

static int write_header(const char *path, size_t n, const char *const *names, const pk_array *const *arrays,
                        size_t n_meta, const char *const *mk, const char *const *mv, char **hdr, pk_err *err)
{
    json_t *root = json_object();
    if (!root)
        return pk_err_set(err, PK_ENOMEM, "%s: out of memory", path);
    int st = PK_OK;
    if (n_meta) {
        json_t *m = json_object();
        if (!m || json_object_set_new(root, "__metadata__", m)) {
            st = pk_err_set(err, PK_ENOMEM, "%s: out of memory", path);
            goto done;
        }
        for (size_t i = 0; i < n_meta; i++) {
            if (!mk[i] || !mv[i] || json_object_get(m, mk[i])) {
                st = pk_err_set(err, PK_EINVAL, "%s: metadata key %zu is NULL or repeated", path, i);
                goto done;
            }
            if (json_object_set_new(m, mk[i], json_string(mv[i]))) {
                st = pk_err_set(err, PK_EINVAL, "%s: metadata '%s' is not valid UTF-8", path, mk[i]);
                goto done;
            }
        }
    }
    uint64_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        const pk_array *a = arrays[i];
        const char *dt = a ? st_name(a->dtype) : NULL;
        if (!names[i] || !names[i][0] || !strcmp(names[i], "__metadata__") || json_object_get(root, names[i])) {
            st = pk_err_set(err, PK_EINVAL, "%s: tensor name %zu is empty, reserved or repeated", path, i);
            goto done;
        }
        if (!dt) {
            st = pk_err_set(err, PK_EINVAL, "%s: tensor '%s' is NULL or has an unsupported dtype", path, names[i]);
            goto done;
        }
        json_t *shape = json_array(), *off = json_array(), *t = json_object();
        int bad = !shape || !off || !t;
        for (int d = 0; !bad && d < a->ndim; d++)
            bad = json_array_append_new(shape, json_integer(a->shape[d]));
        uint64_t nb = pk_array_nbytes(a);
        bad = bad || json_array_append_new(off, json_integer((json_int_t)pos)) ||
              json_array_append_new(off, json_integer((json_int_t)(pos + nb)));
        bad = bad || json_object_set_new(t, "dtype", json_string(dt));
        bad = bad || json_object_set(t, "shape", shape) || json_object_set(t, "data_offsets", off);
        json_decref(shape);
        json_decref(off);
        if (bad || json_object_set_new(root, names[i], t)) {
            if (bad)
                json_decref(t);
            st = pk_err_set(err, PK_EINVAL, "%s: cannot encode tensor '%s' (invalid UTF-8 name?)", path, names[i]);
            goto done;
        }
        pos += nb;
    }
    *hdr = json_dumps(root, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (!*hdr)
        st = pk_err_set(err, PK_ENOMEM, "%s: out of memory", path);
done:
    json_decref(root);
    return st;
}

int pk_safetensors_write(const char *path, size_t n, const char *const *names, const pk_array *const *arrays,
                         size_t n_meta, const char *const *meta_keys, const char *const *meta_values, pk_err *err)
{
    if (!path || (n && (!names || !arrays)) || (n_meta && (!meta_keys || !meta_values)))
        return pk_err_set(err, PK_EINVAL, "pk_safetensors_write: NULL argument");
    char *hdr = NULL;
    int st = write_header(path, n, names, arrays, n_meta, meta_keys, meta_values, &hdr, err);
    if (st)
        return st;
    size_t hl = strlen(hdr), padded = (hl + 7) / 8 * 8, total = 8 + padded;
    for (size_t i = 0; i < n; i++)
        total += pk_array_nbytes(arrays[i]);
    uint8_t *buf = malloc(total);
    if (!buf) {
        free(hdr);
        return pk_err_set(err, PK_ENOMEM, "%s: out of memory", path);
    }
    for (int b = 0; b < 8; b++)
        buf[b] = (uint8_t)((uint64_t)padded >> (8 * b));
    memcpy(buf + 8, hdr, hl);
    memset(buf + 8 + hl, ' ', padded - hl);
    free(hdr);
    size_t pos = 8 + padded;
    for (size_t i = 0; i < n; i++) {
        size_t nb = pk_array_nbytes(arrays[i]);
        memcpy(buf + pos, arrays[i]->data, nb);
        if (!pk_host_is_le())
            pk_byteswap(buf + pos, pk_array_numel(arrays[i]), pk_dtype_size(arrays[i]->dtype));
        pos += nb;
    }
    st = pk_file_write_atomic(path, buf, total, err);
    free(buf);
    return st;
}
