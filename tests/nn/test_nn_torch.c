/* Forward outputs and every parameter gradient of an MLP, a small CNN and a
 * one-block GPT against PyTorch (tests/ref/nn_torch_ref.py, float64 reference):
 * each tensor must agree to 1e-4 of its largest magnitude. */
#include <math.h>
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/io.h"
#include "probkit/nn.h"

static double worst_rel;

static void compare(const char *what, const char *name, const float *got, const pk_array *want)
{
    if (!want || want->dtype != PK_DTYPE_F32) {
        PK_CHECK_MSG(0, "%s: fixture tensor %s missing", what, name);
        return;
    }
    size_t n = pk_array_numel(want);
    const float *w = want->data;
    double scale = 0, err = 0;
    for (size_t i = 0; i < n; i++) {
        scale = fmax(scale, fabs(w[i]));
        err = fmax(err, fabs((double)got[i] - w[i]));
    }
    double rel = scale > 0 ? err / scale : err;
    worst_rel = fmax(worst_rel, rel);
    PK_CHECK_MSG(rel <= 1e-4, "%s: %s differs from torch by %.3g of its scale %.3g", what, name, rel, scale);
}

/* Copy the fixture's parameters into p (names must match). */
static int set_params(pk_nn_params *p, const pk_tensor_file *f, const char *what)
{
    for (size_t i = 0; i < pk_nn_params_count(p); i++) {
        pk_nn_tensor *t = pk_nn_params_get(p, i);
        const pk_array *a = pk_tensor_file_get(f, t->name);
        if (!a || pk_array_numel(a) != (size_t)t->numel) {
            PK_CHECK_MSG(0, "%s: parameter %s missing or mis-shaped in fixture", what, t->name);
            return -1;
        }
        memcpy(t->data, a->data, (size_t)t->numel * sizeof(float));
    }
    return 0;
}

static void check_grads(pk_nn_params *p, const pk_tensor_file *f, const char *what)
{
    char nm[128];
    for (size_t i = 0; i < pk_nn_params_count(p); i++) {
        pk_nn_tensor *t = pk_nn_params_get(p, i);
        snprintf(nm, sizeof nm, "grad.%s", t->name);
        compare(what, nm, t->grad, pk_tensor_file_get(f, nm));
    }
}

static pk_tensor_file *open_fixture(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/nn/%s", PK_FIXTURES, name);
    pk_tensor_file *f = NULL;
    pk_err err = {0};
    int st = pk_safetensors_read(path, &f, &err);
    PK_CHECK_MSG(st == PK_OK, "%s", err.msg);
    return f;
}

static void classifier(const char *file, const pk_nn_classifier_config *cfg, float smoothing)
{
    pk_tensor_file *f = open_fixture(file);
    if (!f)
        return;
    pk_rng rng;
    pk_rng_seed(&rng, 1);
    pk_nn_classifier *m = NULL;
    pk_err err = {0};
    PK_CHECK_OK(pk_nn_classifier_new(cfg, &rng, &m, &err));
    if (m && !set_params(m->params, f, file)) {
        const pk_array *x = pk_tensor_file_get(f, "x"), *y = pk_tensor_file_get(f, "y");
        pk_nn_ctx *c = pk_nn_ctx_new();
        pk_nn_tensor *in = pk_nn_input_copy(c, x->ndim, x->shape, x->data);
        pk_nn_tensor *lg = pk_nn_classifier_forward(c, m, in);
        pk_nn_tensor *loss = pk_nn_cross_entropy(c, lg, y->data, smoothing);
        pk_nn_params_zero_grad(m->params);
        PK_CHECK_OK(pk_nn_backward(c, loss));
        if (loss) {
            compare(file, "logits", lg->data, pk_tensor_file_get(f, "logits"));
            compare(file, "loss", loss->data, pk_tensor_file_get(f, "loss"));
            check_grads(m->params, f, file);
        }
        pk_nn_ctx_free(c);
    }
    pk_nn_classifier_free(m);
    pk_tensor_file_free(f);
}

static void gpt(void)
{
    pk_tensor_file *f = open_fixture("gpt_block.safetensors");
    if (!f)
        return;
    pk_nn_gpt_config cfg = {16, 8, 16, 1, 2, 0.0f};
    pk_rng rng;
    pk_rng_seed(&rng, 1);
    pk_nn_gpt *m = NULL;
    pk_err err = {0};
    PK_CHECK_OK(pk_nn_gpt_new(&cfg, &rng, &m, &err));
    if (m && !set_params(m->params, f, "gpt")) {
        const pk_array *tok = pk_tensor_file_get(f, "x"); /* (2, 9) int32 */
        pk_nn_ctx *c = pk_nn_ctx_new();
        pk_nn_tensor *loss = pk_nn_gpt_loss(c, m, tok->data, 2, 8);
        pk_nn_params_zero_grad(m->params);
        PK_CHECK_OK(pk_nn_backward(c, loss));
        if (loss) {
            compare("gpt", "loss", loss->data, pk_tensor_file_get(f, "loss"));
            check_grads(m->params, f, "gpt");
        }
        /* logits through the public forward */
        int32_t in[16];
        for (int b = 0; b < 2; b++)
            memcpy(in + b * 8, (const int32_t *)tok->data + b * 9, 8 * sizeof(int32_t));
        pk_nn_ctx_reset(c);
        pk_nn_tensor *lg = pk_nn_gpt_forward(c, m, in, 2, 8);
        PK_CHECK(lg != NULL);
        if (lg)
            compare("gpt", "logits", lg->data, pk_tensor_file_get(f, "logits"));
        pk_nn_ctx_free(c);
    }
    pk_nn_gpt_free(m);
    pk_tensor_file_free(f);
}

int main(void)
{
    pk_nn_classifier_config mlp = {PK_NN_ARCH_MLP, 1, 4, 5, 5, 2, {32, 16}, 0.0f};
    classifier("mlp.safetensors", &mlp, 0.1f);
    pk_nn_classifier_config cnn = {PK_NN_ARCH_CNN, 1, 8, 8, 10, 0, {0}, 0.0f};
    classifier("cnn.safetensors", &cnn, 0.0f);
    gpt();
    fprintf(stderr, "largest difference from torch: %.3g of a tensor's scale\n", worst_rel);
    return pk_test_done();
}
