/* bench_nn — time probkit training steps (forward, backward, Adam) on a fixed
 * batch, for bench/nn.py which runs PyTorch on the same weights and batch.
 *
 *   bench_nn --model mlp|lenet|cnn|gpt --file init.safetensors --steps N [--warmup W]
 *
 * The file (written by nn.py) holds the initial parameters under probkit's
 * names plus "x" (inputs or tokens) and "y" (labels, classifiers).  Prints
 * JSON: the loss after each of the first steps, every step's seconds, the
 * peak resident memory and the activation arena's peak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probkit/io.h"
#include "probkit/nn.h"

static long peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6))
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

/* process CPU time (all threads): on a loaded machine it moves less than wall time */
static double cpu_seconds(void)
{
    struct timespec ts;
    return clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) ? 0.0 : (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int load_into(pk_nn_params *p, const pk_tensor_file *f)
{
    for (size_t i = 0; i < pk_nn_params_count(p); i++) {
        pk_nn_tensor *t = pk_nn_params_get(p, i);
        const pk_array *a = pk_tensor_file_get(f, t->name);
        if (!a || a->dtype != PK_DTYPE_F32 || pk_array_numel(a) != (size_t)t->numel) {
            fprintf(stderr, "bench_nn: parameter %s missing or mis-shaped\n", t->name);
            return -1;
        }
        memcpy(t->data, a->data, (size_t)t->numel * sizeof(float));
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *model = NULL, *file = NULL;
    long steps = 20, warmup = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--model"))
            model = argv[i + 1];
        else if (!strcmp(argv[i], "--file"))
            file = argv[i + 1];
        else if (!strcmp(argv[i], "--steps"))
            steps = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup"))
            warmup = atol(argv[i + 1]);
    }
    if (!model || !file || steps < 1 || warmup < 0) {
        fprintf(stderr, "usage: bench_nn --model mlp|lenet|cnn|gpt --file F --steps N [--warmup W]\n");
        return 2;
    }
    pk_err err = {0};
    pk_tensor_file *f = NULL;
    if (pk_safetensors_read(file, &f, &err)) {
        fprintf(stderr, "bench_nn: %s\n", err.msg);
        return 1;
    }
    const pk_array *x = pk_tensor_file_get(f, "x"), *y = pk_tensor_file_get(f, "y");
    pk_rng rng;
    pk_rng_seed(&rng, 1);
    pk_nn_classifier *clf = NULL;
    pk_nn_gpt *gpt = NULL;
    pk_nn_params *P = NULL;
    int is_gpt = !strcmp(model, "gpt");
    int64_t B = x->shape[0], T = is_gpt ? x->shape[1] - 1 : 0;
    if (is_gpt) {
        pk_nn_gpt_config c = {256, (int)T, atoi(pk_nn_file_meta(file, "d_model", &err)),
                              atoi(pk_nn_file_meta(file, "n_layer", &err)), atoi(pk_nn_file_meta(file, "n_head", &err)),
                              0.0f};
        if (pk_nn_gpt_new(&c, &rng, &gpt, &err))
            goto fail;
        P = gpt->params;
    } else {
        pk_nn_classifier_config c = {PK_NN_ARCH_MLP, 1, 28, 28, 10, 2, {512, 512}, 0.0f};
        if (!strcmp(model, "lenet"))
            c.arch = PK_NN_ARCH_LENET;
        else if (!strcmp(model, "cnn"))
            c.arch = PK_NN_ARCH_CNN;
        if (pk_nn_classifier_new(&c, &rng, &clf, &err))
            goto fail;
        P = clf->params;
    }
    if (load_into(P, f))
        return 1;
    pk_nn_optim_params op = pk_nn_optim_params_default(PK_NN_ADAM);
    pk_nn_optim *opt = pk_nn_optim_new(P, &op, &err);
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    double *secs = malloc((size_t)(steps + warmup) * sizeof *secs);
    float losses[3] = {0};
    double cpu0 = 0;
    for (long s = 0; s < steps + warmup; s++) {
        if (s == warmup)
            cpu0 = cpu_seconds();
        double t0 = pk_time_now();
        pk_nn_ctx_reset(ctx);
        pk_nn_tensor *loss;
        if (is_gpt) {
            loss = pk_nn_gpt_loss(ctx, gpt, x->data, B, T);
        } else {
            pk_nn_tensor *in = pk_nn_input_copy(ctx, 4, (int64_t[]){B, 1, 28, 28}, x->data);
            loss = pk_nn_cross_entropy(ctx, pk_nn_classifier_forward(ctx, clf, in), y->data, 0.0f);
        }
        pk_nn_params_zero_grad(P);
        if (pk_nn_backward(ctx, loss)) {
            fprintf(stderr, "bench_nn: %s\n", pk_nn_ctx_error(ctx));
            return 1;
        }
        pk_nn_optim_step(opt, 1e-3);
        secs[s] = pk_time_now() - t0;
        if (s < 3)
            losses[s] = loss->data[0];
    }
    double cpu_per_step = steps > 0 ? (cpu_seconds() - cpu0) / (double)steps : 0.0;
    printf("{\"model\": \"%s\", \"losses\": [%.9g, %.9g, %.9g], \"step_seconds\": [", model, losses[0], losses[1],
           losses[2]);
    for (long s = warmup; s < steps + warmup; s++)
        printf("%s%.6g", s > warmup ? ", " : "", secs[s]);
    printf("], \"cpu_seconds_per_step\": %.6g, \"peak_rss_kb\": %ld, \"arena_peak_bytes\": %zu, \"parameters\": %lld}\n",
           cpu_per_step, peak_rss_kb(), pk_nn_ctx_peak_bytes(ctx), (long long)pk_nn_params_numel(P));
    free(secs);
    pk_nn_ctx_free(ctx);
    pk_nn_optim_free(opt);
    pk_nn_classifier_free(clf);
    pk_nn_gpt_free(gpt);
    pk_tensor_file_free(f);
    return 0;
fail:
    fprintf(stderr, "bench_nn: %s\n", err.msg);
    return 1;
}
