/* models.c — ready image classifiers (MLP, small CNN, LeNet) with
 * torch-default initialisation and a versioned safetensors format. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn_internal.h"
#include "probkit/io.h"

static int check_cfg(const pk_nn_classifier_config *c, pk_err *err)
{
    if (!c)
        return pk_err_set(err, PK_EINVAL, "classifier: config is NULL");
    if ((int)c->arch < 0 || c->arch > PK_NN_ARCH_LENET)
        return pk_err_set(err, PK_EINVAL, "classifier: unknown architecture %d", (int)c->arch);
    if (c->channels < 1 || c->height < 1 || c->width < 1 || c->classes < 2)
        return pk_err_set(err, PK_EINVAL, "classifier: need channels, height, width >= 1 and classes >= 2");
    if (c->arch == PK_NN_ARCH_MLP && (c->n_hidden < 0 || c->n_hidden > 8))
        return pk_err_set(err, PK_EINVAL, "classifier: 0..8 hidden layers, got %d", c->n_hidden);
    for (int i = 0; c->arch == PK_NN_ARCH_MLP && i < c->n_hidden; i++)
        if (c->hidden[i] < 1)
            return pk_err_set(err, PK_EINVAL, "classifier: hidden layer %d has width %d", i, c->hidden[i]);
    if (c->arch == PK_NN_ARCH_CNN && (c->height < 4 || c->width < 4))
        return pk_err_set(err, PK_EINVAL, "classifier: the CNN needs images of at least 4x4");
    if (c->arch == PK_NN_ARCH_LENET && (c->height < 12 || c->width < 12))
        return pk_err_set(err, PK_EINVAL, "classifier: LeNet needs images of at least 12x12");
    if (!(c->dropout >= 0 && c->dropout < 1))
        return pk_err_set(err, PK_EINVAL, "classifier: dropout %g must be in [0, 1)", (double)c->dropout);
    return PK_OK;
}

/* torch.nn.Linear / Conv2d defaults: weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
static int add_layer(pk_nn_params *p, const char *name, int ndim, const int64_t *wshape)
{
    char nm[64];
    snprintf(nm, sizeof nm, "%s.weight", name);
    if (!pk_nn_params_add(p, nm, ndim, wshape))
        return -1;
    snprintf(nm, sizeof nm, "%s.bias", name);
    return pk_nn_params_add(p, nm, 1, wshape) ? 0 : -1;
}

static void init_layer(pk_nn_params *p, const char *name, pk_rng *rng)
{
    char nm[64];
    snprintf(nm, sizeof nm, "%s.weight", name);
    pk_nn_tensor *w = pk_nn_params_find(p, nm);
    int64_t fan_in = w->numel / w->shape[0];
    float b = (float)(1.0 / sqrt((double)fan_in));
    pk_nn_init_uniform(w, -b, b, rng);
    snprintf(nm, sizeof nm, "%s.bias", name);
    pk_nn_init_uniform(pk_nn_params_find(p, nm), -b, b, rng);
}

static int64_t lenet_flat(const pk_nn_classifier_config *c) { return 16LL * ((c->height / 2 - 4) / 2) * ((c->width / 2 - 4) / 2); }
static int64_t cnn_flat(const pk_nn_classifier_config *c) { return 64LL * (c->height / 4) * (c->width / 4); }

int pk_nn_classifier_new(const pk_nn_classifier_config *cfg, pk_rng *rng, pk_nn_classifier **out, pk_err *err)
{
    *out = NULL;
    int st = check_cfg(cfg, err);
    if (st)
        return st;
    pk_nn_classifier *m = calloc(1, sizeof *m);
    if (!m || !(m->params = pk_nn_params_new())) {
        free(m);
        return pk_err_set(err, PK_ENOMEM, "classifier: out of memory");
    }
    m->cfg = *cfg;
    pk_nn_params *p = m->params;
    int64_t in = (int64_t)cfg->channels * cfg->height * cfg->width;
    const char *layers[8];
    int nl = 0, bad = 0;
    static const char *fc[9] = {"fc0", "fc1", "fc2", "fc3", "fc4", "fc5", "fc6", "fc7", "fc8"};
    if (cfg->arch == PK_NN_ARCH_MLP) {
        int64_t prev = in;
        for (int i = 0; i <= cfg->n_hidden; i++) {
            int64_t w = i < cfg->n_hidden ? cfg->hidden[i] : cfg->classes;
            bad |= add_layer(p, fc[i], 2, (int64_t[]){w, prev});
            prev = w;
        }
    } else if (cfg->arch == PK_NN_ARCH_CNN) {
        bad |= add_layer(p, "conv1", 4, (int64_t[]){32, cfg->channels, 3, 3});
        bad |= add_layer(p, "conv2", 4, (int64_t[]){64, 32, 3, 3});
        bad |= add_layer(p, "fc1", 2, (int64_t[]){128, cnn_flat(cfg)});
        bad |= add_layer(p, "fc2", 2, (int64_t[]){cfg->classes, 128});
        layers[nl++] = "conv1", layers[nl++] = "conv2", layers[nl++] = "fc1", layers[nl++] = "fc2";
    } else {
        bad |= add_layer(p, "conv1", 4, (int64_t[]){6, cfg->channels, 5, 5});
        bad |= add_layer(p, "conv2", 4, (int64_t[]){16, 6, 5, 5});
        bad |= add_layer(p, "fc1", 2, (int64_t[]){120, lenet_flat(cfg)});
        bad |= add_layer(p, "fc2", 2, (int64_t[]){84, 120});
        bad |= add_layer(p, "fc3", 2, (int64_t[]){cfg->classes, 84});
        layers[nl++] = "conv1", layers[nl++] = "conv2", layers[nl++] = "fc1", layers[nl++] = "fc2";
        layers[nl++] = "fc3";
    }
    if (bad || pk_nn_params_alloc(p)) {
        pk_nn_classifier_free(m);
        return pk_err_set(err, PK_ENOMEM, "classifier: out of memory");
    }
    if (cfg->arch == PK_NN_ARCH_MLP)
        for (int i = 0; i <= cfg->n_hidden; i++)
            init_layer(p, fc[i], rng);
    else
        for (int i = 0; i < nl; i++)
            init_layer(p, layers[i], rng);
    *out = m;
    return PK_OK;
}

void pk_nn_classifier_free(pk_nn_classifier *m)
{
    if (!m)
        return;
    pk_nn_params_free(m->params);
    free(m);
}

#define PW(name) pk_nn_params_find(m->params, name ".weight")
#define PB(name) pk_nn_params_find(m->params, name ".bias")

pk_nn_tensor *pk_nn_classifier_forward(pk_nn_ctx *ctx, const pk_nn_classifier *m, pk_nn_tensor *x)
{
    NN_CHECK_IN(ctx, x);
    const pk_nn_classifier_config *c = &m->cfg;
    char b[96];
    if (x->ndim != 4 || x->shape[1] != c->channels || x->shape[2] != c->height || x->shape[3] != c->width)
        return nn_fail(ctx, PK_ESHAPE, "classifier: input %s, model expects (N,%d,%d,%d)", nn_shape_str(x, b, sizeof b),
                       c->channels, c->height, c->width);
    int64_t N = x->shape[0];
    if (c->arch == PK_NN_ARCH_MLP) {
        pk_nn_tensor *h = pk_nn_reshape(ctx, x, 2, (int64_t[]){N, -1});
        char wn[32], bn[32];
        for (int i = 0; i <= c->n_hidden; i++) {
            snprintf(wn, sizeof wn, "fc%d.weight", i);
            snprintf(bn, sizeof bn, "fc%d.bias", i);
            h = pk_nn_linear(ctx, h, pk_nn_params_find(m->params, wn), pk_nn_params_find(m->params, bn));
            if (i < c->n_hidden)
                h = pk_nn_dropout(ctx, pk_nn_relu(ctx, h), c->dropout);
        }
        return h;
    }
    if (c->arch == PK_NN_ARCH_CNN) {
        pk_nn_tensor *h = pk_nn_max_pool2d(ctx, pk_nn_relu(ctx, pk_nn_conv2d(ctx, x, PW("conv1"), PB("conv1"), 1, 1)), 2, 2);
        h = pk_nn_max_pool2d(ctx, pk_nn_relu(ctx, pk_nn_conv2d(ctx, h, PW("conv2"), PB("conv2"), 1, 1)), 2, 2);
        h = pk_nn_reshape(ctx, h, 2, (int64_t[]){N, -1});
        h = pk_nn_dropout(ctx, pk_nn_relu(ctx, pk_nn_linear(ctx, h, PW("fc1"), PB("fc1"))), c->dropout);
        return pk_nn_linear(ctx, h, PW("fc2"), PB("fc2"));
    }
    pk_nn_tensor *h = pk_nn_max_pool2d(ctx, pk_nn_relu(ctx, pk_nn_conv2d(ctx, x, PW("conv1"), PB("conv1"), 1, 2)), 2, 2);
    h = pk_nn_max_pool2d(ctx, pk_nn_relu(ctx, pk_nn_conv2d(ctx, h, PW("conv2"), PB("conv2"), 1, 0)), 2, 2);
    h = pk_nn_reshape(ctx, h, 2, (int64_t[]){N, -1});
    h = pk_nn_relu(ctx, pk_nn_linear(ctx, h, PW("fc1"), PB("fc1")));
    h = pk_nn_relu(ctx, pk_nn_linear(ctx, h, PW("fc2"), PB("fc2")));
    return pk_nn_linear(ctx, h, PW("fc3"), PB("fc3"));
}

static const char *ARCH_NAMES[] = {"mlp", "cnn", "lenet"};

int pk_nn_classifier_save(const pk_nn_classifier *m, const char *path, pk_err *err)
{
    const pk_nn_classifier_config *c = &m->cfg;
    char v[8][96];
    snprintf(v[0], sizeof v[0], "%s", ARCH_NAMES[c->arch]);
    snprintf(v[1], sizeof v[1], "%d", c->channels);
    snprintf(v[2], sizeof v[2], "%d", c->height);
    snprintf(v[3], sizeof v[3], "%d", c->width);
    snprintf(v[4], sizeof v[4], "%d", c->classes);
    size_t k = 0;
    v[5][0] = 0;
    for (int i = 0; i < c->n_hidden && c->arch == PK_NN_ARCH_MLP; i++)
        k += (size_t)snprintf(v[5] + k, sizeof v[5] - k, i ? ",%d" : "%d", c->hidden[i]);
    snprintf(v[6], sizeof v[6], "%.9g", (double)c->dropout);
    const char *keys[] = {"format", "version", "arch", "channels", "height", "width", "classes", "hidden", "dropout"};
    const char *vals[] = {"probkit-nn-classifier", "1", v[0], v[1], v[2], v[3], v[4], v[5], v[6]};
    return pk_nn_params_save(m->params, path, 9, keys, vals, err);
}

int pk_nn_classifier_load(const char *path, pk_nn_classifier **out, pk_err *err)
{
    *out = NULL;
    pk_tensor_file *f = NULL;
    int st = pk_safetensors_read(path, &f, err);
    if (st)
        return st;
    const char *fmt = nn_meta(f, "format"), *ver = nn_meta(f, "version"), *arch = nn_meta(f, "arch");
    pk_nn_classifier_config c;
    memset(&c, 0, sizeof c);
    if (!fmt || strcmp(fmt, "probkit-nn-classifier") || !ver || !arch) {
        st = pk_err_set(err, PK_EFORMAT, "%s: not a probkit classifier (metadata format/version/arch missing)", path);
        goto done;
    }
    if (strcmp(ver, "1")) {
        st = pk_err_set(err, PK_EFORMAT, "%s: classifier format version %s is not supported (want 1)", path, ver);
        goto done;
    }
    c.arch = (pk_nn_arch)-1;
    for (int i = 0; i < 3; i++)
        if (!strcmp(arch, ARCH_NAMES[i]))
            c.arch = (pk_nn_arch)i;
    long vals[4];
    const char *ks[4] = {"channels", "height", "width", "classes"};
    for (int i = 0; i < 4; i++)
        if (nn_meta_long(f, ks[i], 1, 1 << 20, &vals[i])) {
            st = pk_err_set(err, PK_EFORMAT, "%s: metadata '%s' missing or out of range", path, ks[i]);
            goto done;
        }
    c.channels = (int)vals[0], c.height = (int)vals[1], c.width = (int)vals[2], c.classes = (int)vals[3];
    const char *hid = nn_meta(f, "hidden"), *dr = nn_meta(f, "dropout");
    while (hid && *hid && c.n_hidden < 8) {
        char *end;
        long h = strtol(hid, &end, 10);
        if (end == hid || h < 1 || h > (1 << 24)) {
            st = pk_err_set(err, PK_EFORMAT, "%s: metadata 'hidden' is malformed", path);
            goto done;
        }
        c.hidden[c.n_hidden++] = (int)h;
        hid = *end == ',' ? end + 1 : end;
    }
    c.dropout = dr ? strtof(dr, NULL) : 0.0f;
    pk_rng rng;
    pk_rng_seed(&rng, 0);
    if ((st = pk_nn_classifier_new(&c, &rng, out, err)))
        goto done;
    if ((st = pk_nn_params_load((*out)->params, path, err))) {
        pk_nn_classifier_free(*out);
        *out = NULL;
    }
done:
    pk_tensor_file_free(f);
    return st;
}
