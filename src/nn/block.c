/* block.c — the pre-LayerNorm transformer block shared by the GPT decoder
 * and the PFN encoder: declaration under GPT-2's parameter names, GPT-2
 * initialisation, forward pass. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn_internal.h"

static pk_nn_tensor *param(const pk_nn_params *p, int l, const char *suffix)
{
    char nm[64];
    snprintf(nm, sizeof nm, "h.%d.%s", l, suffix);
    return pk_nn_params_find(p, nm);
}

int pk_nn_block_declare(pk_nn_params *p, int l, int64_t C)
{
    static const struct {
        const char *suffix;
        int ndim, rows, cols; /* multiples of C; cols 0 for a vector */
    } shapes[] = {
        {"ln1.weight", 1, 1, 0},      {"ln1.bias", 1, 1, 0},      {"attn.qkv.weight", 2, 3, 1},
        {"attn.qkv.bias", 1, 3, 0},   {"attn.proj.weight", 2, 1, 1}, {"attn.proj.bias", 1, 1, 0},
        {"ln2.weight", 1, 1, 0},      {"ln2.bias", 1, 1, 0},      {"mlp.fc.weight", 2, 4, 1},
        {"mlp.fc.bias", 1, 4, 0},     {"mlp.proj.weight", 2, 1, 4}, {"mlp.proj.bias", 1, 1, 0},
    };
    if (!p || l < 0 || C < 1)
        return -1;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        char nm[64];
        snprintf(nm, sizeof nm, "h.%d.%s", l, shapes[i].suffix);
        int64_t shape[2] = {shapes[i].rows * C, shapes[i].cols * C};
        if (!pk_nn_params_add(p, nm, shapes[i].ndim, shape))
            return -1;
    }
    return 0;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && !strcmp(s + n - k, tail);
}

int pk_nn_block_init(pk_nn_tensor *t, int n_layer, pk_rng *rng)
{
    const char *n = t->name;
    if (!n)
        return 0;
    if (strstr(n, "ln") && strlen(n) > 7 && ends_with(n, ".weight"))
        pk_nn_init_const(t, 1.0f);
    else if (ends_with(n, ".bias"))
        pk_nn_init_const(t, 0.0f);
    else if (strstr(n, ".proj.weight"))
        pk_nn_init_normal(t, 0.0f, (float)(0.02 / sqrt(2.0 * (n_layer > 0 ? n_layer : 1))), rng);
    else if (!strncmp(n, "h.", 2) && ends_with(n, ".weight"))
        pk_nn_init_normal(t, 0.0f, 0.02f, rng);
    else
        return 0;
    return 1;
}

pk_nn_tensor *pk_nn_block_forward(pk_nn_ctx *ctx, const pk_nn_params *p, int l, pk_nn_tensor *x, int n_head,
                                  int causal, const pk_nn_tensor *mask, float dropout)
{
    if (!ctx || !x || ctx->err.status)
        return NULL;
    int64_t C = x->shape[x->ndim - 1];
    pk_nn_tensor *h = pk_nn_layer_norm(ctx, x, param(p, l, "ln1.weight"), param(p, l, "ln1.bias"), 1e-5f);
    pk_nn_tensor *qkv = pk_nn_linear(ctx, h, param(p, l, "attn.qkv.weight"), param(p, l, "attn.qkv.bias"));
    pk_nn_tensor *a = pk_nn_attention(ctx, pk_nn_slice(ctx, qkv, 2, 0, C), pk_nn_slice(ctx, qkv, 2, C, 2 * C),
                                      pk_nn_slice(ctx, qkv, 2, 2 * C, 3 * C), n_head, causal, mask);
    a = pk_nn_linear(ctx, a, param(p, l, "attn.proj.weight"), param(p, l, "attn.proj.bias"));
    x = pk_nn_add(ctx, x, pk_nn_dropout(ctx, a, dropout));
    h = pk_nn_layer_norm(ctx, x, param(p, l, "ln2.weight"), param(p, l, "ln2.bias"), 1e-5f);
    h = pk_nn_linear(ctx, h, param(p, l, "mlp.fc.weight"), param(p, l, "mlp.fc.bias"));
    h = pk_nn_unary_op(ctx, h, PK_NN_GELU_TANH);
    h = pk_nn_linear(ctx, h, param(p, l, "mlp.proj.weight"), param(p, l, "mlp.proj.bias"));
    return pk_nn_add(ctx, x, pk_nn_dropout(ctx, h, dropout));
}
