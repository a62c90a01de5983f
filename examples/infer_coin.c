/* A probabilistic program in 20 lines: is this coin fair?
 *   cc infer_coin.c $(pkg-config --cflags --libs probkit) -o infer_coin */
#include <probkit/infer.h>
#include <stdio.h>

static const int flips[] = {1, 1, 0, 1, 1, 1, 0, 1, 1, 1};

static void coin(pk_ctx *ctx, const void *data, double *out)
{
    (void)data;
    double p = pk_sample(ctx, pk_beta(1, 1)); /* prior */
    out[0] = p;
    for (int i = 0; i < 10; i++)
        pk_observe(ctx, pk_bernoulli(p), flips[i]); /* likelihood */
}

int main(void)
{
    pk_model m = {coin, NULL, 1};
    pk_smc_params sp = pk_smc_params_default();
    sp.particles = 2000;
    pk_rng rng;
    pk_rng_seed(&rng, 42);
    pk_population *post;
    pk_err err;
    if (pk_infer_smc(&m, &sp, &rng, &post, &err)) {
        fprintf(stderr, "infer_coin: %s\n", err.msg);
        return 1;
    }
    /* exact: Beta(9, 3) has mean 0.75; evidence B(9,3)/B(1,1) = 1/495 */
    printf("E[p | flips] = %.3f (exact 0.750), log evidence %.3f (exact %.3f)\n", pk_population_mean(post, 0),
           post->log_z, -6.2046);
    pk_population_free(post);
    return 0;
}
