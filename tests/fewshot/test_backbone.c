/* test_backbone.c — the feature extractors learn a toy task, their files round-trip bit for bit,
 * and bad files are refused with a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_test.h"
#include "probkit/fewshot.h"

/* 8x8 images: class 0 a horizontal bar, class 1 a vertical bar, class 2 a diagonal, plus noise */
static void toy(pk_rng *r, size_t n, float *X, int32_t *y)
{
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i % 3), pos = (int)pk_rng_below(r, 8);
        y[i] = c;
        for (int a = 0; a < 8; a++)
            for (int b = 0; b < 8; b++) {
                int on = c == 0 ? a == pos : c == 1 ? b == pos : a == b;
                X[i * 64 + (size_t)(a * 8 + b)] = (float)on + 0.1f * (float)pk_rng_normal(r);
            }
    }
}

static void check_arch(int cnn)
{
    pk_rng r;
    pk_rng_seed(&r, cnn ? 11 : 12);
    size_t n = 300;
    float *X = malloc(n * 64 * sizeof *X);
    int32_t *y = malloc(n * sizeof *y);
    toy(&r, n, X, y);
    pk_fewshot_backbone *b = NULL, *b2 = NULL;
    pk_err err = {0};
    if (cnn)
        PK_CHECK_OK(pk_fewshot_backbone_new_cnn(8, 8, 4, 6, 3, &r, &b, &err));
    else
        PK_CHECK_OK(pk_fewshot_backbone_new(64, 32, 16, 3, &r, &b, &err));
    if (!b) {
        free(X), free(y);
        return;
    }
    int fd = pk_fewshot_backbone_feat_dim(b);
    PK_CHECK(fd == (cnn ? 6 * 2 * 2 : 16));
    pk_fewshot_train_params tp = pk_fewshot_train_params_default();
    tp.epochs = 8;
    tp.batch = 32;
    tp.lr = 1e-2;
    double loss = 0, acc = 0;
    PK_CHECK_OK(pk_fewshot_backbone_train(b, X, y, n, &tp, &r, &loss, &err));
    double *F = malloc(n * (size_t)fd * sizeof *F), *F2 = malloc(n * (size_t)fd * sizeof *F2);
    PK_CHECK_OK(pk_fewshot_backbone_features(b, X, y, n, F, &acc, &err));
    PK_CHECK_MSG(acc > 0.95, "%s toy accuracy %.3f (loss %.3f)", cnn ? "cnn" : "mlp", acc, loss);
    char path[64];
    snprintf(path, sizeof path, "fewshot_backbone_test_%d.safetensors", cnn);
    PK_CHECK_OK(pk_fewshot_backbone_save(b, path, &err));
    PK_CHECK_OK(pk_fewshot_backbone_load(path, &b2, &err));
    if (b2) {
        PK_CHECK_OK(pk_fewshot_backbone_features(b2, X, NULL, n, F2, NULL, &err));
        PK_CHECK(memcmp(F, F2, n * (size_t)fd * sizeof *F) == 0);
    }
    /* a truncated file is refused */
    char head[200];
    FILE *fp = fopen(path, "rb");
    size_t got = fp ? fread(head, 1, sizeof head, fp) : 0;
    if (fp)
        fclose(fp);
    remove(path);
    fp = fopen(path, "wb");
    PK_CHECK(fp && got == sizeof head);
    if (fp) {
        fwrite(head, 1, got, fp);
        fclose(fp);
        pk_fewshot_backbone *b3 = NULL;
        PK_CHECK(pk_fewshot_backbone_load(path, &b3, &err) != PK_OK && b3 == NULL);
        remove(path);
    }
    int32_t bad = y[0];
    y[0] = 7;
    PK_CHECK(pk_fewshot_backbone_train(b, X, y, n, &tp, &r, NULL, &err) == PK_EINVAL && strstr(err.msg, "label 0"));
    y[0] = bad;
    pk_fewshot_backbone_free(b);
    pk_fewshot_backbone_free(b2);
    free(X), free(y), free(F), free(F2);
}

int main(void)
{
    check_arch(0);
    check_arch(1);
    pk_fewshot_backbone *b = NULL;
    pk_rng r;
    pk_rng_seed(&r, 1);
    PK_CHECK(pk_fewshot_backbone_new(0, 4, 4, 3, &r, &b, NULL) == PK_EINVAL && b == NULL);
    PK_CHECK(pk_fewshot_backbone_new_cnn(2, 2, 4, 4, 3, &r, &b, NULL) == PK_EINVAL && b == NULL);
    pk_fewshot_backbone_free(NULL);
    return pk_test_done();
}
