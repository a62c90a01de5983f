/* backbone.c — the feature extractor: an MLP trained with plain
 * cross-entropy on the base classes (no episodic training, as the paper),
 * whose penultimate ReLU layer gives the features of novel-class images. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/fewshot.h"
#include "probkit/nn.h"

struct pk_fewshot_backbone {
    pk_fewshot_arch arch;
    int in, hidden, feat, classes;
    int h, w, fdim; /* CNN image shape; feature values per input */
    pk_nn_params *P;
    pk_nn_tensor *W1, *b1, *W2, *b2, *W3, *b3;
};

pk_fewshot_train_params pk_fewshot_train_params_default(void)
{
    return (pk_fewshot_train_params){5, 128, 2e-3, 0.0};
}

void pk_fewshot_backbone_free(pk_fewshot_backbone *b)
{
    if (!b)
        return;
    pk_nn_params_free(b->P);
    free(b);
}

int pk_fewshot_backbone_feat_dim(const pk_fewshot_backbone *b) { return b ? b->fdim : 0; }

/* MLP: fc1 (hidden, in), fc2 (feat, hidden), fc3 (classes, feat).
 * CNN: conv1 (hidden, 1, 3, 3), conv2 (feat, hidden, 3, 3), fc3 (classes, feat * h/4 * w/4). */
static int declare(pk_fewshot_arch arch, int h, int w, int hidden, int feat, int classes, pk_fewshot_backbone **out,
                   pk_err *err)
{
    *out = NULL;
    int64_t in = (int64_t)h * w;
    if (h < 1 || w < 1 || in > (1 << 24) || hidden < 1 || feat < 1 || classes < 2 || hidden > (1 << 16) ||
        feat > (1 << 16) || classes > (1 << 16) || (arch == PK_FEWSHOT_ARCH_CNN && (h < 4 || w < 4)) ||
        (arch != PK_FEWSHOT_ARCH_MLP && arch != PK_FEWSHOT_ARCH_CNN))
        return pk_err_set(err, PK_EINVAL, "fewshot backbone: sizes in=%lld hidden=%d feat=%d classes=%d out of range",
                          (long long)in, hidden, feat, classes);
    pk_fewshot_backbone *b = calloc(1, sizeof *b);
    if (!b || !(b->P = pk_nn_params_new())) {
        free(b);
        return pk_err_set(err, PK_ENOMEM, "fewshot backbone: out of memory");
    }
    b->arch = arch, b->h = h, b->w = w;
    b->in = (int)in, b->hidden = hidden, b->feat = feat, b->classes = classes;
    if (arch == PK_FEWSHOT_ARCH_MLP) {
        b->fdim = feat;
        b->W1 = pk_nn_params_add(b->P, "fc1.weight", 2, (int64_t[]){hidden, in});
        b->b1 = pk_nn_params_add(b->P, "fc1.bias", 1, (int64_t[]){hidden});
        b->W2 = pk_nn_params_add(b->P, "fc2.weight", 2, (int64_t[]){feat, hidden});
    } else {
        b->fdim = feat * (h / 4) * (w / 4);
        b->W1 = pk_nn_params_add(b->P, "conv1.weight", 4, (int64_t[]){hidden, 1, 3, 3});
        b->b1 = pk_nn_params_add(b->P, "conv1.bias", 1, (int64_t[]){hidden});
        b->W2 = pk_nn_params_add(b->P, "conv2.weight", 4, (int64_t[]){feat, hidden, 3, 3});
    }
    b->b2 = pk_nn_params_add(b->P, arch == PK_FEWSHOT_ARCH_MLP ? "fc2.bias" : "conv2.bias", 1, (int64_t[]){feat});
    b->W3 = pk_nn_params_add(b->P, "fc3.weight", 2, (int64_t[]){classes, b->fdim});
    b->b3 = pk_nn_params_add(b->P, "fc3.bias", 1, (int64_t[]){classes});
    if (!b->W1 || !b->b1 || !b->W2 || !b->b2 || !b->W3 || !b->b3 || pk_nn_params_alloc(b->P)) {
        pk_fewshot_backbone_free(b);
        return pk_err_set(err, PK_ENOMEM, "fewshot backbone: out of memory for the parameters");
    }
    *out = b;
    return PK_OK;
}

/* torch's defaults for Linear and Conv2d: weights and biases U(+-1/sqrt fan_in) (kaiming-uniform, a = sqrt 5) */
static void init_all(pk_fewshot_backbone *b, int fan1, int fan2, pk_rng *rng)
{
    float u1 = 1.0f / sqrtf((float)fan1), u2 = 1.0f / sqrtf((float)fan2), u3 = 1.0f / sqrtf((float)b->fdim);
    pk_nn_init_uniform(b->W1, -u1, u1, rng);
    pk_nn_init_uniform(b->b1, -u1, u1, rng);
    pk_nn_init_uniform(b->W2, -u2, u2, rng);
    pk_nn_init_uniform(b->b2, -u2, u2, rng);
    pk_nn_init_uniform(b->W3, -u3, u3, rng);
    pk_nn_init_uniform(b->b3, -u3, u3, rng);
}

int pk_fewshot_backbone_new(int in, int hidden, int feat, int classes, pk_rng *rng, pk_fewshot_backbone **out,
                            pk_err *err)
{
    if (!out || !rng)
        return pk_err_set(err, PK_EINVAL, "fewshot backbone: NULL argument");
    int st = declare(PK_FEWSHOT_ARCH_MLP, 1, in, hidden, feat, classes, out, err);
    if (!st)
        init_all(*out, in, hidden, rng);
    return st;
}

int pk_fewshot_backbone_new_cnn(int height, int width, int c1, int c2, int classes, pk_rng *rng,
                                pk_fewshot_backbone **out, pk_err *err)
{
    if (!out || !rng)
        return pk_err_set(err, PK_EINVAL, "fewshot backbone: NULL argument");
    int st = declare(PK_FEWSHOT_ARCH_CNN, height, width, c1, c2, classes, out, err);
    if (!st)
        init_all(*out, 9, 9 * c1, rng);
    return st;
}

/* x (B, in) -> features (B, fdim) after ReLU; logits (B, classes) through *logits when non-NULL */
static pk_nn_tensor *forward(pk_nn_ctx *C, const pk_fewshot_backbone *b, pk_nn_tensor *x, pk_nn_tensor **logits)
{
    pk_nn_tensor *f;
    if (b->arch == PK_FEWSHOT_ARCH_MLP) {
        pk_nn_tensor *h = pk_nn_relu(C, pk_nn_linear(C, x, b->W1, b->b1));
        f = pk_nn_relu(C, pk_nn_linear(C, h, b->W2, b->b2));
    } else {
        int64_t B = x ? x->shape[0] : 0;
        pk_nn_tensor *h = pk_nn_reshape(C, x, 4, (int64_t[]){B, 1, b->h, b->w});
        h = pk_nn_max_pool2d(C, pk_nn_relu(C, pk_nn_conv2d(C, h, b->W1, b->b1, 1, 1)), 2, 2);
        h = pk_nn_max_pool2d(C, pk_nn_relu(C, pk_nn_conv2d(C, h, b->W2, b->b2, 1, 1)), 2, 2);
        f = pk_nn_reshape(C, h, 2, (int64_t[]){B, b->fdim});
    }
    if (logits)
        *logits = pk_nn_linear(C, f, b->W3, b->b3);
    return f;
}

int pk_fewshot_backbone_train(pk_fewshot_backbone *b, const float *X, const int32_t *y, size_t n,
                              const pk_fewshot_train_params *tp, pk_rng *rng, double *final_loss, pk_err *err)
{
    if (!b || !X || !y || !tp || !rng || n == 0)
        return pk_err_set(err, PK_EINVAL, "fewshot backbone train: NULL argument or no data");
    if (tp->epochs < 1 || tp->batch < 1 || !(tp->lr > 0) || !(tp->weight_decay >= 0))
        return pk_err_set(err, PK_EINVAL, "fewshot backbone train: epochs, batch >= 1, lr > 0, weight_decay >= 0");
    for (size_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= b->classes)
            return pk_err_set(err, PK_EINVAL, "fewshot backbone train: label %zu is %d, not in [0, %d)", i, (int)y[i],
                              b->classes);
    pk_nn_optim_params op = pk_nn_optim_params_default(PK_NN_ADAM);
    op.weight_decay = tp->weight_decay;
    pk_nn_optim *opt = pk_nn_optim_new(b->P, &op, err);
    pk_nn_ctx *C = pk_nn_ctx_new();
    size_t *perm = malloc(n * sizeof *perm);
    int32_t *yb = malloc((size_t)tp->batch * sizeof *yb);
    int st = PK_OK;
    if (!opt || !C || !perm || !yb) {
        st = opt ? pk_err_set(err, PK_ENOMEM, "fewshot backbone train: out of memory") : PK_ENOMEM;
        goto done;
    }
    size_t B = (size_t)tp->batch, steps_per = (n + B - 1) / B;
    int64_t total = (int64_t)steps_per * tp->epochs, step = 0;
    double last = NAN;
    for (int ep = 0; ep < tp->epochs && !st; ep++) {
        pk_rng_permutation(rng, perm, n);
        double sum = 0;
        size_t cnt = 0;
        for (size_t s = 0; s < n && !st; s += B) {
            size_t m = n - s < B ? n - s : B;
            pk_nn_ctx_reset(C);
            pk_nn_tensor *x = pk_nn_input(C, 2, (int64_t[]){(int64_t)m, b->in});
            if (!x) {
                st = pk_err_set(err, PK_ENOMEM, "fewshot backbone train: %s", pk_nn_ctx_error(C));
                break;
            }
            for (size_t i = 0; i < m; i++) {
                memcpy(x->data + i * (size_t)b->in, X + perm[s + i] * (size_t)b->in, (size_t)b->in * sizeof(float));
                yb[i] = y[perm[s + i]];
            }
            pk_nn_tensor *logits = NULL;
            forward(C, b, x, &logits);
            pk_nn_tensor *loss = pk_nn_cross_entropy(C, logits, yb, 0.0f);
            pk_nn_params_zero_grad(b->P);
            st = pk_nn_backward(C, loss);
            if (st) {
                pk_err_set(err, st, "fewshot backbone train: %s", pk_nn_ctx_error(C));
                break;
            }
            sum += loss->data[0] * (double)m, cnt += m;
            pk_nn_optim_step(opt, pk_nn_lr_cosine(step++, steps_per / 2, total, tp->lr, tp->lr * 0.01));
        }
        last = sum / (double)(cnt ? cnt : 1);
    }
    if (final_loss)
        *final_loss = last;
done:
    pk_nn_optim_free(opt);
    pk_nn_ctx_free(C);
    free(perm), free(yb);
    return st;
}

int pk_fewshot_backbone_features(const pk_fewshot_backbone *b, const float *X, const int32_t *y, size_t n,
                                 double *F, double *base_acc, pk_err *err)
{
    if (!b || !X || !F)
        return pk_err_set(err, PK_EINVAL, "fewshot backbone features: NULL argument");
    pk_nn_ctx *C = pk_nn_ctx_new();
    if (!C)
        return pk_err_set(err, PK_ENOMEM, "fewshot backbone features: out of memory");
    pk_nn_ctx_set_grad(C, 0);
    pk_nn_ctx_set_train(C, 0);
    size_t B = 1024, ok = 0;
    int st = PK_OK;
    for (size_t s = 0; s < n; s += B) {
        size_t m = n - s < B ? n - s : B;
        pk_nn_ctx_reset(C);
        pk_nn_tensor *x = pk_nn_input_copy(C, 2, (int64_t[]){(int64_t)m, b->in}, X + s * (size_t)b->in);
        pk_nn_tensor *logits = NULL;
        pk_nn_tensor *f = forward(C, b, x, &logits);
        if (!f || !logits) {
            st = pk_err_set(err, pk_nn_ctx_status(C) ? pk_nn_ctx_status(C) : PK_ENOMEM,
                            "fewshot backbone features: %s", pk_nn_ctx_error(C));
            break;
        }
        for (size_t i = 0; i < m * (size_t)b->fdim; i++)
            F[s * (size_t)b->fdim + i] = f->data[i];
        if (y)
            for (size_t i = 0; i < m; i++) {
                const float *l = logits->data + i * (size_t)b->classes;
                int best = 0;
                for (int c = 1; c < b->classes; c++)
                    if (l[c] > l[best])
                        best = c;
                ok += best == y[s + i];
            }
    }
    if (!st && base_acc)
        *base_acc = y && n ? (double)ok / (double)n : NAN;
    pk_nn_ctx_free(C);
    return st;
}

int pk_fewshot_backbone_save(const pk_fewshot_backbone *b, const char *path, pk_err *err)
{
    if (!b || !path)
        return pk_err_set(err, PK_EINVAL, "fewshot backbone save: NULL argument");
    char v[5][24];
    snprintf(v[0], sizeof v[0], "%d", b->h);
    snprintf(v[1], sizeof v[1], "%d", b->w);
    snprintf(v[2], sizeof v[2], "%d", b->hidden);
    snprintf(v[3], sizeof v[3], "%d", b->feat);
    snprintf(v[4], sizeof v[4], "%d", b->classes);
    const char *keys[] = {"format", "version", "arch", "height", "width", "hidden", "feat", "classes"};
    const char *vals[] = {"probkit-fewshot-backbone", "1", b->arch == PK_FEWSHOT_ARCH_MLP ? "mlp" : "cnn",
                          v[0], v[1], v[2], v[3], v[4]};
    return pk_nn_params_save(b->P, path, 8, keys, vals, err);
}

static int meta_int(const char *path, const char *key, int *out, pk_err *err)
{
    char *s = pk_nn_file_meta(path, key, err);
    if (!s)
        return pk_err_set(err, PK_EFORMAT, "%s: no '%s' in the metadata of a probkit-fewshot-backbone file", path, key);
    char *end = NULL;
    long v = strtol(s, &end, 10);
    int bad = end == s || *end || v < 1 || v > (1 << 24);
    free(s);
    if (bad)
        return pk_err_set(err, PK_EFORMAT, "%s: metadata '%s' is not a positive integer", path, key);
    *out = (int)v;
    return PK_OK;
}

int pk_fewshot_backbone_load(const char *path, pk_fewshot_backbone **out, pk_err *err)
{
    if (!path || !out)
        return pk_err_set(err, PK_EINVAL, "fewshot backbone load: NULL argument");
    *out = NULL;
    char *fmt = pk_nn_file_meta(path, "format", err);
    int ok = fmt && !strcmp(fmt, "probkit-fewshot-backbone");
    free(fmt);
    if (!ok)
        return pk_err_set(err, PK_EFORMAT, "%s: not a probkit-fewshot-backbone file", path);
    char *ver = pk_nn_file_meta(path, "version", err);
    ok = ver && !strcmp(ver, "1");
    free(ver);
    if (!ok)
        return pk_err_set(err, PK_EFORMAT, "%s: unknown probkit-fewshot-backbone version", path);
    char *arch = pk_nn_file_meta(path, "arch", err);
    int cnn = arch && !strcmp(arch, "cnn");
    ok = arch && (cnn || !strcmp(arch, "mlp"));
    free(arch);
    if (!ok)
        return pk_err_set(err, PK_EFORMAT, "%s: arch is not mlp or cnn", path);
    int h, w, hidden, feat, classes, st;
    if ((st = meta_int(path, "height", &h, err)) || (st = meta_int(path, "width", &w, err)) ||
        (st = meta_int(path, "hidden", &hidden, err)) || (st = meta_int(path, "feat", &feat, err)) ||
        (st = meta_int(path, "classes", &classes, err)))
        return st;
    pk_fewshot_backbone *b = NULL;
    if ((st = declare(cnn ? PK_FEWSHOT_ARCH_CNN : PK_FEWSHOT_ARCH_MLP, h, w, hidden, feat, classes, &b, err)))
        return st;
    if ((st = pk_nn_params_load(b->P, path, err))) {
        pk_fewshot_backbone_free(b);
        return st;
    }
    *out = b;
    return PK_OK;
}
