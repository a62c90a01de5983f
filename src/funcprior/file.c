/* file.c — a fitted prior as a small JSON document (format
 * "probkit-funcprior", version 1), so the CLI's output can be read back by
 * the library and by anything else. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "probkit/funcprior.h"
#include "probkit/io.h"

#define FP_FORMAT "probkit-funcprior"

static json_t *real_array(const double *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_real(v[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

int pk_funcprior_save(const char *path, const pk_funcprior_net *net, const pk_funcprior_prior *pr,
                      const char *extra, pk_err *err)
{
    int st = pk_funcprior_prior_check(net, pr, err);
    if (st)
        return st;
    if (!path)
        return pk_err_set(err, PK_EINVAL, "funcprior_save: no path");
    json_t *ex = NULL;
    if (extra) {
        json_error_t je;
        ex = json_loads(extra, 0, &je);
        if (!json_is_object(ex)) {
            json_decref(ex);
            return pk_err_set(err, PK_EINVAL, "funcprior_save: extra is not a JSON object");
        }
    }
    int nl = pk_funcprior_nlayers(net);
    json_t *root = json_object(), *hid = json_array();
    for (int l = 0; hid && l < net->n_hidden; l++)
        json_array_append_new(hid, json_integer(net->hidden[l]));
    int bad = !root || !hid;
    if (!bad) {
        bad |= json_object_set_new(root, "format", json_string(FP_FORMAT));
        bad |= json_object_set_new(root, "version", json_integer(1));
        bad |= json_object_set_new(root, "in_dim", json_integer(net->in_dim));
        bad |= json_object_set_new(root, "hidden", hid);
        hid = NULL;
        bad |= json_object_set_new(root, "activation",
                                   json_string(net->act == PK_FUNCPRIOR_TANH ? "tanh" : "relu"));
        bad |= json_object_set_new(root, "w_std", real_array(pr->w_std, nl));
        bad |= json_object_set_new(root, "b_std", real_array(pr->b_std, nl));
        if (ex)
            bad |= json_object_update(root, ex);
    }
    json_decref(hid);
    json_decref(ex);
    char *txt = bad ? NULL : json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (!txt)
        return pk_err_set(err, PK_ENOMEM, "funcprior_save: out of memory");
    size_t len = strlen(txt);
    char *buf = malloc(len + 2);
    if (!buf) {
        free(txt);
        return pk_err_set(err, PK_ENOMEM, "funcprior_save: out of memory");
    }
    memcpy(buf, txt, len);
    buf[len] = '\n';
    free(txt);
    st = pk_file_write_atomic(path, buf, len + 1, err);
    free(buf);
    return st;
}

static int read_reals(json_t *root, const char *key, int n, double *out, pk_err *err)
{
    json_t *a = json_object_get(root, key);
    if (!json_is_array(a) || (int)json_array_size(a) != n)
        return pk_err_set(err, PK_EFORMAT, "'%s' must be an array of %d numbers (one per layer)", key, n);
    for (int i = 0; i < n; i++) {
        json_t *v = json_array_get(a, (size_t)i);
        if (!json_is_number(v))
            return pk_err_set(err, PK_EFORMAT, "'%s'[%d] is not a number", key, i);
        out[i] = json_number_value(v);
    }
    return PK_OK;
}

int pk_funcprior_load(const char *path, pk_funcprior_net *net, pk_funcprior_prior *pr, pk_err *err)
{
    if (!path || !net || !pr)
        return pk_err_set(err, PK_EINVAL, "funcprior_load: NULL argument");
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        FILE *f = fopen(path, "rb");
        if (!f)
            return pk_err_set(err, PK_EIO, "%s: cannot open", path);
        fclose(f);
        return pk_err_set(err, PK_EFORMAT, "%s:%d: not JSON: %s", path, je.line, je.text);
    }
    int st = PK_OK;
    pk_funcprior_net n = {0};
    pk_funcprior_prior p;
    memset(&p, 0, sizeof p);
    json_t *fmt = json_object_get(root, "format"), *ver = json_object_get(root, "version");
    json_t *in = json_object_get(root, "in_dim"), *hid = json_object_get(root, "hidden");
    json_t *act = json_object_get(root, "activation");
    if (!json_is_object(root) || !json_is_string(fmt) || strcmp(json_string_value(fmt), FP_FORMAT)) {
        st = pk_err_set(err, PK_EFORMAT, "%s: not a probkit-funcprior file (no \"format\": \"%s\")", path, FP_FORMAT);
    } else if (!json_is_integer(ver) || json_integer_value(ver) != 1) {
        st = pk_err_set(err, PK_EFORMAT, "%s: unsupported version (this library reads version 1)", path);
    } else if (!json_is_integer(in) || !json_is_array(hid) || json_array_size(hid) > PK_FUNCPRIOR_MAX_HIDDEN ||
               !json_is_string(act)) {
        st = pk_err_set(err, PK_EFORMAT, "%s: need integer 'in_dim', array 'hidden' (at most %d) and 'activation'",
                        path, PK_FUNCPRIOR_MAX_HIDDEN);
    } else {
        json_int_t d = json_integer_value(in);
        n.in_dim = d > 0 && d <= 4096 ? (int)d : -1;
        n.n_hidden = (int)json_array_size(hid);
        for (int l = 0; l < n.n_hidden && !st; l++) {
            json_t *v = json_array_get(hid, (size_t)l);
            json_int_t h = json_is_integer(v) ? json_integer_value(v) : -1;
            n.hidden[l] = h > 0 && h <= 4096 ? (int)h : -1;
        }
        const char *a = json_string_value(act);
        n.act = !strcmp(a, "tanh") ? PK_FUNCPRIOR_TANH : !strcmp(a, "relu") ? PK_FUNCPRIOR_RELU : (pk_funcprior_act)-1;
        int nl = n.n_hidden + 1;
        pk_err e = {0};
        if (pk_funcprior_net_check(&n, &e) || read_reals(root, "w_std", nl, p.w_std, &e) ||
            read_reals(root, "b_std", nl, p.b_std, &e) || pk_funcprior_prior_check(&n, &p, &e))
            st = pk_err_set(err, PK_EFORMAT, "%s: %s", path, e.msg);
    }
    json_decref(root);
    if (!st)
        *net = n, *pr = p;
    return st;
}
