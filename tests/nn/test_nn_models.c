/* Models, optimisers, checkpoints and error paths of the nn engine. */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "pk_test.h"
#include "probkit/nn.h"

/* A CNN learns a separable toy problem (bright top half vs bright bottom half). */
static void test_cnn_learns(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 3);
    pk_nn_classifier_config cfg = {PK_NN_ARCH_CNN, 1, 8, 8, 2, 0, {0}, 0.0f};
    pk_nn_classifier *m = NULL;
    pk_err err = {0};
    PK_CHECK_OK(pk_nn_classifier_new(&cfg, &rng, &m, &err));
    pk_nn_optim_params op = pk_nn_optim_params_default(PK_NN_ADAM);
    pk_nn_optim *o = pk_nn_optim_new(m->params, &op, &err);
    pk_nn_ctx *c = pk_nn_ctx_new();
    float x[32 * 64];
    int32_t y[32];
    double first = 0, last = 0;
    for (int step = 0; step < 60; step++) {
        for (int i = 0; i < 32; i++) {
            y[i] = (int32_t)pk_rng_below(&rng, 2);
            for (int p = 0; p < 64; p++)
                x[i * 64 + p] = (float)(0.3 * pk_rng_normal(&rng) + ((p < 32) == (y[i] == 0) ? 1.0 : 0.0));
        }
        pk_nn_ctx_reset(c);
        pk_nn_tensor *lg = pk_nn_classifier_forward(c, m, pk_nn_input_copy(c, 4, (int64_t[]){32, 1, 8, 8}, x));
        pk_nn_tensor *l = pk_nn_cross_entropy(c, lg, y, 0.0f);
        pk_nn_params_zero_grad(m->params);
        PK_CHECK_OK(pk_nn_backward(c, l));
        pk_nn_optim_step(o, 1e-2);
        if (step == 0)
            first = l->data[0];
        last = l->data[0];
    }
    PK_CHECK_MSG(last < 0.2 * first, "loss %g -> %g", first, last);
    /* checkpoint round trip gives identical logits */
    const char *path = "nn_test_cnn.safetensors";
    PK_CHECK_OK(pk_nn_classifier_save(m, path, &err));
    pk_nn_classifier *m2 = NULL;
    PK_CHECK_OK(pk_nn_classifier_load(path, &m2, &err));
    if (m2) {
        pk_nn_ctx_set_grad(c, 0);
        pk_nn_ctx_reset(c);
        pk_nn_tensor *a = pk_nn_classifier_forward(c, m, pk_nn_input_copy(c, 4, (int64_t[]){32, 1, 8, 8}, x));
        pk_nn_tensor *b = pk_nn_classifier_forward(c, m2, pk_nn_input_copy(c, 4, (int64_t[]){32, 1, 8, 8}, x));
        int same = a && b;
        for (int64_t i = 0; same && i < a->numel; i++)
            same = a->data[i] == b->data[i];
        PK_CHECK(same);
        /* a model with another shape refuses the file with a clear message */
        pk_nn_classifier_config c2 = cfg;
        c2.classes = 3;
        pk_nn_classifier *m3 = NULL;
        PK_CHECK_OK(pk_nn_classifier_new(&c2, &rng, &m3, &err));
        int st = pk_nn_params_load(m3->params, path, &err);
        PK_CHECK(st == PK_ESHAPE);
        PK_CHECK(strstr(err.msg, "fc2.weight") != NULL);
        pk_nn_classifier_free(m3);
    }
    pk_nn_classifier_free(m2);
    unlink(path);
    pk_nn_ctx_free(c);
    pk_nn_optim_free(o);
    pk_nn_classifier_free(m);
}

/* One Adam step against the closed form; SGD momentum against torch's rule. */
static void test_optim(void)
{
    pk_nn_params *p = pk_nn_params_new();
    pk_nn_tensor *w = pk_nn_params_add(p, "w", 1, (int64_t[]){2});
    PK_CHECK(pk_nn_params_add(p, "w", 1, (int64_t[]){2}) == NULL); /* duplicate name */
    PK_CHECK_OK(pk_nn_params_alloc(p));
    w->data[0] = 1.0f, w->data[1] = -2.0f;
    w->grad[0] = 0.5f, w->grad[1] = -3.0f;
    pk_err err = {0};
    pk_nn_optim_params op = pk_nn_optim_params_default(PK_NN_ADAM);
    pk_nn_optim *o = pk_nn_optim_new(p, &op, &err);
    pk_nn_optim_step(o, 0.1);
    /* first Adam step moves each weight by lr * sign(g) (up to eps) */
    PK_CHECK_CLOSE(w->data[0], 0.9, 1e-6, 0);
    PK_CHECK_CLOSE(w->data[1], -1.9, 1e-6, 0);
    pk_nn_optim_free(o);
    op = pk_nn_optim_params_default(PK_NN_SGD);
    op.momentum = 0.9;
    o = pk_nn_optim_new(p, &op, &err);
    w->data[0] = 0.0f, w->grad[0] = 1.0f;
    pk_nn_optim_step(o, 0.1); /* b = 1, w = -0.1 */
    pk_nn_optim_step(o, 0.1); /* b = 1.9, w = -0.29 */
    PK_CHECK_CLOSE(w->data[0], -0.29, 1e-6, 0);
    pk_nn_optim_free(o);
    op.nesterov = 1;
    op.momentum = 0;
    PK_CHECK(pk_nn_optim_params_check(&op, &err) == PK_EINVAL);
    PK_CHECK_CLOSE(pk_nn_params_clip_grad_norm(p, 1.0), sqrt(1.0 + 9.0), 1e-5, 0);
    PK_CHECK_CLOSE(pk_nn_params_clip_grad_norm(p, 1.0), 1.0, 1e-5, 0);
    pk_nn_params_free(p);
    PK_CHECK_CLOSE(pk_nn_lr_cosine(0, 10, 100, 1.0, 0.0), 0.1, 1e-12, 0);
    PK_CHECK_CLOSE(pk_nn_lr_cosine(55, 10, 100, 1.0, 0.0), 0.5, 1e-12, 0);
    PK_CHECK_CLOSE(pk_nn_lr_step(5, 2, 0.5, 1.0), 0.25, 1e-12, 0);
    pk_nn_plateau pl;
    pk_nn_plateau_init(&pl, 1.0, 0.5, 1, 0.0, 0.01);
    pk_nn_plateau_step(&pl, 1.0);
    pk_nn_plateau_step(&pl, 1.0);
    PK_CHECK_CLOSE(pk_nn_plateau_step(&pl, 1.0), 0.5, 1e-12, 0);
}

static void test_errors(void)
{
    pk_nn_ctx *c = pk_nn_ctx_new();
    pk_nn_tensor *a = pk_nn_input_grad(c, 2, (int64_t[]){3, 4});
    pk_nn_tensor *b = pk_nn_input(c, 1, (int64_t[]){5});
    memset(a->data, 0, 12 * sizeof(float));
    pk_nn_tensor *s = pk_nn_add(c, a, b);
    PK_CHECK(s == NULL);
    PK_CHECK(pk_nn_ctx_status(c) == PK_ESHAPE);
    PK_CHECK(strstr(pk_nn_ctx_error(c), "(3,4) and (5)") != NULL);
    /* later ops on NULL keep the first message */
    PK_CHECK(pk_nn_relu(c, s) == NULL);
    PK_CHECK(strstr(pk_nn_ctx_error(c), "pk_nn_add") != NULL);
    PK_CHECK(pk_nn_backward(c, s) == PK_ESHAPE);
    pk_nn_ctx_reset(c);
    PK_CHECK(pk_nn_ctx_status(c) == PK_OK);
    /* NaN loss */
    a = pk_nn_input_grad(c, 1, (int64_t[]){2});
    a->data[0] = -1.0f, a->data[1] = 1.0f;
    pk_nn_tensor *l = pk_nn_sum_all(c, pk_nn_log(c, a));
    PK_CHECK(pk_nn_backward(c, l) == PK_EDOM);
    pk_nn_ctx_reset(c);
    /* labels out of range, matmul mismatch, bad conv */
    a = pk_nn_input_grad(c, 2, (int64_t[]){2, 3});
    PK_CHECK(pk_nn_cross_entropy(c, a, (int32_t[]){0, 3}, 0.0f) == NULL);
    PK_CHECK(strstr(pk_nn_ctx_error(c), "label 1 is 3") != NULL);
    pk_nn_ctx_reset(c);
    PK_CHECK(pk_nn_matmul(c, a, a) == NULL && pk_nn_ctx_status(c) == PK_ESHAPE);
    pk_nn_ctx_reset(c);
    PK_CHECK(pk_nn_conv2d(c, a, a, NULL, 1, 0) == NULL && pk_nn_ctx_status(c) == PK_ESHAPE);
    pk_nn_ctx_reset(c);
    PK_CHECK(pk_nn_index_select(c, a, 0, (int32_t[]){2}, 1) == NULL);
    pk_nn_ctx_reset(c);
    PK_CHECK(pk_nn_backward(c, pk_nn_sum_all(c, pk_nn_input(c, 1, (int64_t[]){2}))) == PK_EINVAL);
    pk_nn_ctx_free(c);
    /* files that are not models */
    pk_err err = {0};
    pk_nn_gpt *g = NULL;
    PK_CHECK(pk_nn_gpt_load("/nonexistent/x.safetensors", &g, &err) != PK_OK && g == NULL);
    /* a valid safetensors file that is not a GPT, and a truncated one */
    pk_nn_params *p = pk_nn_params_new();
    pk_nn_params_add(p, "wte", 2, (int64_t[]){4, 2});
    PK_CHECK_OK(pk_nn_params_alloc(p));
    const char *path = "nn_test_notgpt.safetensors";
    PK_CHECK_OK(pk_nn_params_save(p, path, 1, (const char *[]){"format"}, (const char *[]){"other"}, &err));
    PK_CHECK(pk_nn_gpt_load(path, &g, &err) == PK_EFORMAT && g == NULL);
    PK_CHECK(strstr(err.msg, "not a probkit GPT") != NULL);
    PK_CHECK(truncate(path, 20) == 0);
    PK_CHECK(pk_nn_params_load(p, path, &err) == PK_EFORMAT);
    unlink(path);
    pk_nn_params_free(p);
}

/* GPT: loss falls on a repetitive text, save/load round trip, sampling and scoring agree. */
static void test_gpt(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 5);
    pk_nn_gpt_config cfg = {256, 16, 32, 2, 2, 0.0f};
    pk_nn_gpt *m = NULL;
    pk_err err = {0};
    PK_CHECK_OK(pk_nn_gpt_new(&cfg, &rng, &m, &err));
    const char *txt = "0123456789012345678901234567890123456789012345678901234567890123456789";
    int64_t n = (int64_t)strlen(txt);
    int32_t tok[128];
    for (int64_t i = 0; i < n; i++)
        tok[i] = (unsigned char)txt[i];
    pk_nn_optim_params op = pk_nn_optim_params_default(PK_NN_ADAMW);
    pk_nn_optim *o = pk_nn_optim_new(m->params, &op, &err);
    pk_nn_ctx *c = pk_nn_ctx_new();
    int32_t bt[4 * 17];
    double first = 0, last = 0;
    for (int s = 0; s < 80; s++) {
        for (int b = 0; b < 4; b++)
            memcpy(bt + b * 17, tok + pk_rng_below(&rng, (uint64_t)(n - 17)), 17 * sizeof(int32_t));
        pk_nn_ctx_reset(c);
        pk_nn_tensor *l = pk_nn_gpt_loss(c, m, bt, 4, 16);
        pk_nn_params_zero_grad(m->params);
        PK_CHECK_OK(pk_nn_backward(c, l));
        pk_nn_params_clip_grad_norm(m->params, 1.0);
        pk_nn_optim_step(o, 1e-2);
        if (!s)
            first = l->data[0];
        last = l->data[0];
    }
    PK_CHECK_MSG(first > 4.5 && last < 1.0, "gpt loss %g -> %g", first, last);
    const char *path = "nn_test_gpt.safetensors";
    PK_CHECK_OK(pk_nn_gpt_save(m, path, &err));
    pk_nn_gpt *m2 = NULL;
    PK_CHECK_OK(pk_nn_gpt_load(path, &m2, &err));
    unlink(path);
    double lp1[128], lp2[128], lp3[128];
    PK_CHECK_OK(pk_nn_gpt_score(m, tok, n, 8, lp1, &err));
    if (m2)
        PK_CHECK_OK(pk_nn_gpt_score(m2, tok, n, 8, lp2, &err));
    PK_CHECK_OK(pk_nn_gpt_score(m, tok, n, 16, lp3, &err));
    int same = m2 != NULL;
    for (int64_t i = 0; same && i < n; i++)
        same = lp1[i] == lp2[i];
    PK_CHECK(same);
    /* the first window is scored identically whatever the stride */
    for (int64_t i = 1; i < 16; i++)
        PK_CHECK_CLOSE(lp1[i], lp3[i], 1e-5, 0);
    /* the learnt pattern: each digit is followed by the next */
    double tot = 0;
    for (int64_t i = 1; i < n; i++)
        tot += lp1[i];
    PK_CHECK_MSG(tot / (double)(n - 1) > -1.0, "mean log p %g", tot / (double)(n - 1));
    int32_t out1[20], out2[20];
    pk_nn_sample_params sp = {1.0, 0, 1.0};
    pk_rng r1, r2;
    pk_rng_seed(&r1, 9);
    pk_rng_seed(&r2, 9);
    PK_CHECK_OK(pk_nn_gpt_sample(m, tok, 5, 20, &sp, &r1, out1, &err));
    PK_CHECK_OK(pk_nn_gpt_sample(m, tok, 5, 20, &sp, &r2, out2, &err));
    PK_CHECK(!memcmp(out1, out2, sizeof out1)); /* same seed, same text */
    sp.top_k = 1; /* greedy: continues the pattern */
    PK_CHECK_OK(pk_nn_gpt_sample(m, tok, 5, 20, &sp, &r1, out1, &err));
    int match = 0;
    for (int i = 0; i < 20; i++)
        match += out1[i] == tok[5 + i];
    PK_CHECK_MSG(match >= 18, "greedy continuation matched %d of 20", match);
    sp.top_p = 0.0;
    PK_CHECK(pk_nn_gpt_sample(m, tok, 5, 20, &sp, &r1, out1, &err) == PK_EINVAL);
    pk_nn_gpt_free(m2);
    pk_nn_ctx_free(c);
    pk_nn_optim_free(o);
    pk_nn_gpt_free(m);
}

static void test_ngram(void)
{
    const char *t = "the cat sat on the mat. the cat sat on the mat. the cat sat on the hat.";
    pk_nn_ngram *g = NULL;
    pk_err err = {0};
    PK_CHECK_OK(pk_nn_ngram_fit((const uint8_t *)t, strlen(t), 5, &g, &err));
    /* probabilities over the 256 bytes sum to one in any context */
    double s = 0;
    for (int c = 0; c < 256; c++)
        s += exp(pk_nn_ngram_logprob(g, (const uint8_t *)"the c", 5, (uint8_t)c));
    PK_CHECK_CLOSE(s, 1.0, 1e-9, 0);
    s = 0;
    for (int c = 0; c < 256; c++)
        s += exp(pk_nn_ngram_logprob(g, (const uint8_t *)"zzzz", 4, (uint8_t)c));
    PK_CHECK_CLOSE(s, 1.0, 1e-9, 0);
    PK_CHECK(pk_nn_ngram_logprob(g, (const uint8_t *)"the c", 5, 'a') > log(0.5));
    pk_nn_ngram_free(g);
    PK_CHECK(pk_nn_ngram_fit((const uint8_t *)t, 3, 9, &g, &err) == PK_EINVAL);
}

/* Two runs with one seed end in bit-identical weights (dropout on, AdamW, clipping). */
static void train_small(uint64_t seed, float *out, int64_t *n)
{
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    pk_nn_gpt_config cfg = {256, 8, 16, 1, 2, 0.1f};
    pk_nn_gpt *m = NULL;
    pk_err err = {0};
    pk_nn_gpt_new(&cfg, &rng, &m, &err);
    pk_nn_optim_params op = pk_nn_optim_params_default(PK_NN_ADAMW);
    pk_nn_optim *o = pk_nn_optim_new(m->params, &op, &err);
    pk_nn_ctx *c = pk_nn_ctx_new();
    pk_nn_ctx_set_rng(c, &rng);
    int32_t tok[4 * 9];
    for (int s = 0; s < 10; s++) {
        for (int i = 0; i < 36; i++)
            tok[i] = (int32_t)pk_rng_below(&rng, 256);
        pk_nn_ctx_reset(c);
        pk_nn_tensor *l = pk_nn_gpt_loss(c, m, tok, 4, 8);
        pk_nn_params_zero_grad(m->params);
        pk_nn_backward(c, l);
        pk_nn_params_clip_grad_norm(m->params, 0.5);
        pk_nn_optim_step(o, 1e-2);
    }
    *n = 0;
    for (size_t i = 0; i < pk_nn_params_count(m->params); i++) {
        pk_nn_tensor *t = pk_nn_params_get(m->params, i);
        memcpy(out + *n, t->data, (size_t)t->numel * sizeof(float));
        *n += t->numel;
    }
    pk_nn_ctx_free(c);
    pk_nn_optim_free(o);
    pk_nn_gpt_free(m);
}

static void test_determinism(void)
{
    static float a[20000], b[20000], d[20000];
    int64_t na, nb, nd;
    train_small(11, a, &na);
    train_small(11, b, &nb);
    train_small(12, d, &nd);
    PK_CHECK(na == nb && na < 20000);
    PK_CHECK(!memcmp(a, b, (size_t)na * sizeof(float)));
    PK_CHECK(memcmp(a, d, (size_t)na * sizeof(float)) != 0);
}

int main(void)
{
    test_determinism();
    test_optim();
    test_errors();
    test_cnn_learns();
    test_gpt();
    test_ngram();
    return pk_test_done();
}
