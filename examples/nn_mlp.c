/* nn_mlp.c — define, train, save and load a small network with probkit's nn
 * engine: a 2-16-16-2 MLP learns two interleaved half-moons.
 *
 *   cc nn_mlp.c $(pkg-config --cflags --libs probkit) -lm -o nn_mlp && ./nn_mlp
 */
#include <math.h>
#include <stdio.h>

#include <probkit/nn.h>

#define N 256

int main(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 42);
    float x[N * 2];
    int32_t y[N];
    for (int i = 0; i < N; i++) { /* two noisy half-moons */
        double t = M_PI * pk_rng_uniform(&rng);
        y[i] = i % 2;
        x[2 * i] = (float)(y[i] ? 1.0 - cos(t) : cos(t)) + 0.1f * (float)pk_rng_normal(&rng);
        x[2 * i + 1] = (float)(y[i] ? 0.5 - sin(t) : sin(t)) + 0.1f * (float)pk_rng_normal(&rng);
    }

    /* 1. declare parameters, then allocate them in one block (gradients in another) */
    pk_nn_params *P = pk_nn_params_new();
    pk_nn_tensor *W1 = pk_nn_params_add(P, "fc1.weight", 2, (int64_t[]){16, 2});
    pk_nn_tensor *b1 = pk_nn_params_add(P, "fc1.bias", 1, (int64_t[]){16});
    pk_nn_tensor *W2 = pk_nn_params_add(P, "fc2.weight", 2, (int64_t[]){16, 16});
    pk_nn_tensor *b2 = pk_nn_params_add(P, "fc2.bias", 1, (int64_t[]){16});
    pk_nn_tensor *W3 = pk_nn_params_add(P, "fc3.weight", 2, (int64_t[]){2, 16});
    pk_nn_tensor *b3 = pk_nn_params_add(P, "fc3.bias", 1, (int64_t[]){2});
    if (pk_nn_params_alloc(P) != PK_OK)
        return 1;
    pk_nn_init_kaiming_uniform(W1, 2, &rng);
    pk_nn_init_kaiming_uniform(W2, 16, &rng);
    pk_nn_init_xavier_uniform(W3, 16, 2, &rng);

    /* 2. train: forward ops record a tape in the context; backward walks it */
    pk_err err = {0};
    pk_nn_optim_params op = pk_nn_optim_params_default(PK_NN_ADAM);
    pk_nn_optim *opt = pk_nn_optim_new(P, &op, &err);
    pk_nn_ctx *C = pk_nn_ctx_new();
    float loss = 0;
    for (int step = 0; step < 500; step++) {
        pk_nn_ctx_reset(C); /* reuse the activation arena */
        pk_nn_tensor *h = pk_nn_input_copy(C, 2, (int64_t[]){N, 2}, x);
        h = pk_nn_relu(C, pk_nn_linear(C, h, W1, b1));
        h = pk_nn_relu(C, pk_nn_linear(C, h, W2, b2));
        pk_nn_tensor *l = pk_nn_cross_entropy(C, pk_nn_linear(C, h, W3, b3), y, 0.0f);
        pk_nn_params_zero_grad(P);
        if (pk_nn_backward(C, l) != PK_OK) { /* shape errors, NaN loss, ... */
            fprintf(stderr, "step %d: %s\n", step, pk_nn_ctx_error(C));
            return 1;
        }
        pk_nn_optim_step(opt, pk_nn_lr_cosine(step, 20, 500, 1e-2, 1e-4));
        loss = l->data[0];
    }
    printf("final training loss %.4f\n", loss);

    /* 3. save as safetensors, load into a fresh parameter set with the same names and shapes */
    if (pk_nn_params_save(P, "nn_mlp.safetensors", 0, NULL, NULL, &err) != PK_OK ||
        pk_nn_params_load(P, "nn_mlp.safetensors", &err) != PK_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    pk_nn_ctx_free(C);
    pk_nn_optim_free(opt);
    pk_nn_params_free(P);
    return loss < 0.1f ? 0 : 1;
}
