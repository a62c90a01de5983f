/* data.c — base-class training and novel-class features from IDX image
 * files (Fashion-MNIST, MNIST): the paper's protocol of plain
 * cross-entropy training on the base classes, frozen features after. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/fewshot.h"
#include "probkit/io.h"

pk_fewshot_data_params pk_fewshot_data_params_default(void)
{
    pk_fewshot_data_params d = {0};
    d.arch = PK_FEWSHOT_ARCH_MLP;
    d.n_base = 5;
    d.max_base = 0;
    d.hidden = 256;
    d.feat = 64;
    d.train = pk_fewshot_train_params_default();
    return d;
}

void pk_fewshot_features_free(pk_fewshot_features *f)
{
    if (!f)
        return;
    free(f->F), free(f->labels), free(f->base_mean);
    free(f);
}

/* images (n, h, w) u8 + labels (n) u8 -> floats in [0, 1] and int labels */
static int load(const char *ip, const char *lp, float **X, int32_t **y, size_t *n, size_t *dim, int *h, int *w,
                pk_err *err)
{
    pk_array *img = NULL, *lab = NULL;
    int st = pk_idx_read(ip, &img, err);
    if (!st)
        st = pk_idx_read(lp, &lab, err);
    if (!st && (img->ndim < 2 || img->dtype != PK_DTYPE_U8 || lab->ndim != 1 || lab->shape[0] != img->shape[0]))
        st = pk_err_set(err, PK_EFORMAT, "%s / %s: expected u8 images (n, ...) and n u8 labels", ip, lp);
    if (!st) {
        *n = (size_t)img->shape[0];
        *dim = pk_array_numel(img) / (*n ? *n : 1);
        *h = img->ndim == 3 ? (int)img->shape[1] : 1;
        *w = img->ndim == 3 ? (int)img->shape[2] : (int)*dim;
        *X = malloc(*n * *dim * sizeof **X);
        *y = malloc(*n * sizeof **y);
        if (!*X || !*y) {
            free(*X), free(*y);
            *X = NULL, *y = NULL;
            st = pk_err_set(err, PK_ENOMEM, "out of memory reading %s", ip);
        } else {
            const uint8_t *p = img->data, *l = lab->data;
            for (size_t i = 0; i < *n * *dim; i++)
                (*X)[i] = (float)p[i] / 255.0f;
            for (size_t i = 0; i < *n; i++)
                (*y)[i] = l[i];
        }
    }
    pk_array_free(img);
    pk_array_free(lab);
    return st;
}

enum { CHUNK = 1024 };

/* features of n inputs a chunk at a time (buf: CHUNK x fd): their mean into mean (fd, may be NULL) and
 * the head's accuracy on labels y into acc (may be NULL) */
static int chunked(const pk_fewshot_backbone *bb, const float *X, const int32_t *y, size_t n, size_t dim, size_t fd,
                   double *buf, double *mean, double *acc, pk_err *err)
{
    double ok = 0;
    for (size_t s = 0; s < n; s += CHUNK) {
        size_t m = n - s < CHUNK ? n - s : CHUNK;
        double a = 0;
        int st = pk_fewshot_backbone_features(bb, X + s * dim, y ? y + s : NULL, m, buf, y ? &a : NULL, err);
        if (st)
            return st;
        ok += a * (double)m;
        if (mean)
            for (size_t i = 0; i < m; i++)
                for (size_t j = 0; j < fd; j++)
                    mean[j] += buf[i * fd + j] / (double)n;
    }
    if (acc)
        *acc = n ? ok / (double)n : NAN;
    return PK_OK;
}

int pk_fewshot_features_from_idx(const pk_fewshot_data_params *dp, pk_rng *rng, pk_fewshot_features **out,
                                 pk_fewshot_backbone **model_out, pk_err *err)
{
    if (!dp || !rng || !out || !dp->train_images || !dp->train_labels || !dp->test_images || !dp->test_labels)
        return pk_err_set(err, PK_EINVAL, "fewshot data: NULL argument");
    *out = NULL;
    if (model_out)
        *model_out = NULL;
    if (dp->n_base < 2 || dp->hidden < 1 || dp->feat < 1)
        return pk_err_set(err, PK_EINVAL, "fewshot data: n_base >= 2, hidden, feat >= 1");
    float *Xtr = NULL, *Xte = NULL, *Xb = NULL, *Xn = NULL;
    int32_t *ytr = NULL, *yte = NULL, *yb = NULL;
    size_t ntr = 0, nte = 0, dim = 0, dim2 = 0;
    int h = 0, w = 0, h2 = 0, w2 = 0;
    pk_fewshot_backbone *bb = NULL;
    pk_fewshot_features *f = calloc(1, sizeof *f);
    double *Fb = NULL;
    int st = f ? PK_OK : pk_err_set(err, PK_ENOMEM, "fewshot data: out of memory");
    if (!st)
        st = load(dp->train_images, dp->train_labels, &Xtr, &ytr, &ntr, &dim, &h, &w, err);
    if (!st)
        st = load(dp->test_images, dp->test_labels, &Xte, &yte, &nte, &dim2, &h2, &w2, err);
    if (!st && (dim != dim2 || h != h2))
        st = pk_err_set(err, PK_EFORMAT, "%s has %zu pixels per image but %s has %zu", dp->train_images, dim,
                        dp->test_images, dim2);
    if (st)
        goto done;
    /* base training rows, in file order, capped */
    size_t nb = 0, nn = 0, nbt = 0;
    for (size_t i = 0; i < ntr; i++)
        nb += ytr[i] < dp->n_base;
    if (dp->max_base && nb > dp->max_base)
        nb = dp->max_base;
    for (size_t i = 0; i < nte; i++)
        nn += yte[i] >= dp->n_base, nbt += yte[i] < dp->n_base;
    if (nb < 2 || nn < 2) {
        st = pk_err_set(err, PK_EINVAL, "fewshot data: %zu base training images and %zu novel test images", nb, nn);
        goto done;
    }
    Xb = malloc(nb * dim * sizeof *Xb);
    yb = malloc((nb > nbt ? nb : nbt) * sizeof *yb);
    Xn = malloc((nn > nbt ? nn : nbt) * dim * sizeof *Xn);
    if (dp->arch == PK_FEWSHOT_ARCH_CNN)
        st = pk_fewshot_backbone_new_cnn(h, w, dp->hidden, dp->feat, dp->n_base, rng, &bb, err);
    else
        st = pk_fewshot_backbone_new((int)dim, dp->hidden, dp->feat, dp->n_base, rng, &bb, err);
    if (st)
        goto done;
    size_t fd = (size_t)pk_fewshot_backbone_feat_dim(bb);
    f->F = malloc(nn * fd * sizeof *f->F);
    f->labels = malloc(nn * sizeof *f->labels);
    f->base_mean = calloc(fd, sizeof *f->base_mean);
    Fb = malloc(CHUNK * fd * sizeof *Fb);
    if (!Xb || !yb || !Xn || !f->F || !f->labels || !f->base_mean || !Fb) {
        st = pk_err_set(err, PK_ENOMEM, "fewshot data: out of memory");
        goto done;
    }
    for (size_t i = 0, m = 0; i < ntr && m < nb; i++)
        if (ytr[i] < dp->n_base) {
            memcpy(Xb + m * dim, Xtr + i * dim, dim * sizeof *Xb);
            yb[m++] = ytr[i];
        }
    double t0 = pk_time_now();
    if (!st)
        st = pk_fewshot_backbone_train(bb, Xb, yb, nb, &dp->train, rng, &f->train_loss, err);
    f->train_secs = pk_time_now() - t0;
    /* the CL2N centre: the mean base-class training feature */
    if (!st)
        st = chunked(bb, Xb, NULL, nb, dim, fd, Fb, f->base_mean, NULL, err);
    /* held-out base-class accuracy of the head: is the backbone any good? */
    f->base_acc = NAN;
    if (!st && nbt) {
        size_t m = 0;
        for (size_t i = 0; i < nte; i++)
            if (yte[i] < dp->n_base) {
                memcpy(Xn + m * dim, Xte + i * dim, dim * sizeof *Xn);
                yb[m++] = yte[i];
            }
        st = chunked(bb, Xn, yb, m, dim, fd, Fb, NULL, &f->base_acc, err);
    }
    if (!st) {
        size_t m = 0;
        for (size_t i = 0; i < nte; i++)
            if (yte[i] >= dp->n_base) {
                memcpy(Xn + m * dim, Xte + i * dim, dim * sizeof *Xn);
                f->labels[m++] = yte[i];
            }
        f->n = nn, f->d = fd;
        st = pk_fewshot_backbone_features(bb, Xn, NULL, nn, f->F, NULL, err);
    }
done:
    free(Xtr), free(ytr), free(Xte), free(yte), free(Xb), free(yb), free(Xn), free(Fb);
    if (st) {
        pk_fewshot_features_free(f);
        pk_fewshot_backbone_free(bb);
        return st;
    }
    if (model_out)
        *model_out = bb;
    else
        pk_fewshot_backbone_free(bb);
    *out = f;
    return PK_OK;
}
