/* Distribution Transformer: mixtures, reference posteriors, the loss's
 * gradient, the untrained network's identity start, training, checkpoints
 * and bad input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/disttf/dtf_priv.h"
#include "pk_test.h"

static void test_gmm(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 3);
    pk_dtf_task t = pk_dtf_task_default(PK_DTF_LINEAR);
    pk_dtf_gmm *g = malloc(sizeof *g);
    pk_dtf_random_prior(&t, 3, &rng, g);
    PK_CHECK_OK(pk_dtf_gmm_check(g, NULL));
    /* the density integrates to one (grid over a wide box) */
    double h = 0.05, s = 0;
    for (double x = -15; x < 15; x += h)
        for (double y = -15; y < 15; y += h) {
            double th[2] = {x + h / 2, y + h / 2};
            s += exp(pk_dtf_gmm_logpdf(g, th)) * h * h;
        }
    PK_CHECK_CLOSE(s, 1.0, 1e-4, 0);
    /* moments against draws */
    double mean[2], cov[4], m[2] = {0, 0}, c[4] = {0, 0, 0, 0};
    pk_dtf_gmm_moments(g, mean, cov);
    int N = 200000;
    for (int i = 0; i < N; i++) {
        double th[2];
        pk_dtf_gmm_sample(g, &rng, th);
        m[0] += th[0], m[1] += th[1];
        c[0] += th[0] * th[0], c[1] += th[0] * th[1], c[3] += th[1] * th[1];
    }
    for (int i = 0; i < 2; i++)
        m[i] /= N;
    PK_CHECK_CLOSE(m[0], mean[0], 0.03, 0);
    PK_CHECK_CLOSE(m[1], mean[1], 0.03, 0);
    PK_CHECK_CLOSE(c[0] / N - m[0] * m[0], cov[0], 0.08, 0.02);
    PK_CHECK_CLOSE(c[1] / N - m[0] * m[1], cov[1], 0.08, 0.02);
    PK_CHECK_CLOSE(c[3] / N - m[1] * m[1], cov[3], 0.08, 0.02);
    /* bad mixtures are refused */
    pk_dtf_gmm bad = *g;
    bad.w[0] += 0.1;
    PK_CHECK(pk_dtf_gmm_check(&bad, NULL) == PK_EINVAL);
    bad = *g;
    bad.L[0] = -1;
    PK_CHECK(pk_dtf_gmm_check(&bad, NULL) == PK_EINVAL);
    bad = *g;
    bad.mu[1] = NAN;
    PK_CHECK(pk_dtf_gmm_check(&bad, NULL) == PK_EINVAL);
    free(g);
}

/* the exact mixture posterior equals prior x likelihood normalised on a grid */
static void test_exact_vs_grid(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 5);
    pk_dtf_task t = pk_dtf_task_default(PK_DTF_LINEAR);
    pk_dtf_gmm *g = malloc(sizeof *g), *post = malloc(sizeof *post);
    for (int rep = 0; rep < 3; rep++) {
        pk_dtf_random_prior(&t, 4, &rng, g);
        double th[2], obs[6], lp, gm[2], gc[4], em[2], ec[4];
        pk_dtf_gmm_sample(g, &rng, th);
        pk_dtf_simulate(&t, th, 3, &rng, obs);
        PK_CHECK_OK(pk_dtf_exact_linear(&t, g, obs, 3, post, NULL));
        PK_CHECK_OK(pk_dtf_gmm_check(post, NULL));
        PK_CHECK_OK(pk_dtf_grid_logpost(&t, g, obs, 3, 800, 12.0, th, &lp, gm, gc, NULL));
        PK_CHECK_CLOSE(lp, pk_dtf_gmm_logpdf(post, th), 1e-3, 0);
        pk_dtf_gmm_moments(post, em, ec);
        for (int i = 0; i < 2; i++)
            PK_CHECK_CLOSE(gm[i], em[i], 1e-3, 0);
        for (int i = 0; i < 4; i++)
            PK_CHECK_CLOSE(gc[i], ec[i], 1e-3, 0);
        /* no data: the posterior is the prior */
        PK_CHECK_OK(pk_dtf_exact_linear(&t, g, NULL, 0, post, NULL));
        PK_CHECK_CLOSE(pk_dtf_gmm_logpdf(post, th), pk_dtf_gmm_logpdf(g, th), 1e-12, 0);
    }
    pk_dtf_task r = pk_dtf_task_default(PK_DTF_RANGE);
    PK_CHECK(pk_dtf_exact_linear(&r, g, NULL, 0, post, NULL) == PK_EINVAL);
    free(g);
    free(post);
}

static pk_dtf *tiny(int obs_dim, int K, uint64_t seed)
{
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    pk_dtf_config c = pk_dtf_config_default(2, obs_dim, K);
    c.d_model = 16, c.n_head = 2, c.n_enc = 1, c.n_dec = 1;
    pk_dtf *m = NULL;
    PK_CHECK_OK(pk_dtf_new(&c, &rng, &m, NULL));
    return m;
}

static double loss_at(pk_dtf *m, pk_nn_ctx *ctx, const float *tok, const float *obs, const float *th, int B, int n)
{
    pk_nn_ctx_reset(ctx);
    pk_nn_tensor *l = dtf_nll(ctx, m, dtf_forward(ctx, m, tok, obs, B, n), th, B);
    return l ? (double)l->data[0] : NAN;
}

/* the loss's gradient against central differences (float engine: loose tolerance) */
static void test_gradient(void)
{
    pk_dtf *m = tiny(3, 3, 7);
    pk_dtf_task t = pk_dtf_task_default(PK_DTF_RANGE);
    pk_rng rng;
    pk_rng_seed(&rng, 8);
    /* a bigger head so the loss depends on the network noticeably */
    pk_nn_init_normal(pk_nn_params_find(m->params, "head.weight"), 0.0f, 0.3f, &rng);
    enum { B = 4, n = 3 };
    int F = dtf_feat(2);
    float tok[B * 3 * 6], obs[B * n * 3], th[B * 2];
    PK_CHECK(F == 6);
    pk_dtf_gmm *g = malloc(sizeof *g);
    for (int b = 0; b < B; b++) {
        double tt[2], ob[n * 3];
        pk_dtf_random_prior(&t, 3, &rng, g);
        pk_dtf_gmm_sample(g, &rng, tt);
        pk_dtf_simulate(&t, tt, n, &rng, ob);
        dtf_tokens(g, tok + b * 3 * F);
        for (int i = 0; i < n * 3; i++)
            obs[b * n * 3 + i] = (float)ob[i];
        th[2 * b] = (float)tt[0], th[2 * b + 1] = (float)tt[1];
    }
    free(g);
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    pk_nn_ctx_reset(ctx);
    pk_nn_tensor *l = dtf_nll(ctx, m, dtf_forward(ctx, m, tok, obs, B, n), th, B);
    PK_CHECK(l != NULL);
    pk_nn_params_zero_grad(m->params);
    PK_CHECK_OK(pk_nn_backward(ctx, l));
    const char *names[] = {"head.weight", "head.bias", "x.0.k.weight", "h.0.attn.qkv.weight", "emb.obs.weight",
                           "h.1.mlp.fc.weight"};
    int checked = 0;
    for (size_t p = 0; p < sizeof names / sizeof *names; p++) {
        pk_nn_tensor *w = pk_nn_params_find(m->params, names[p]);
        PK_CHECK(w != NULL);
        if (!w)
            continue;
        for (int r = 0; r < 4; r++) {
            int64_t i = (int64_t)(pk_rng_uniform(&rng) * (double)w->numel);
            float g0 = w->grad[i], v = w->data[i], eps = 1e-2f;
            w->data[i] = v + eps;
            double lp = loss_at(m, ctx, tok, obs, th, B, n);
            w->data[i] = v - eps;
            double lm = loss_at(m, ctx, tok, obs, th, B, n);
            w->data[i] = v;
            double fd = (lp - lm) / (2 * eps);
            PK_CHECK_CLOSE(g0, fd, 2e-3, 0.05);
            checked++;
        }
    }
    PK_CHECK(checked == 24);
    pk_nn_ctx_free(ctx);
    pk_dtf_free(m);
}

/* an untrained network hands back (about) its prior; training on LINEAR
 * beats the untrained network and sits above the exact posterior */
static void test_identity_and_training(void)
{
    pk_dtf *m = tiny(2, 3, 11);
    pk_dtf_task t = pk_dtf_task_default(PK_DTF_LINEAR);
    pk_rng rng;
    pk_rng_seed(&rng, 12);
    pk_dtf_gmm *pri = malloc(2 * sizeof *pri), *post = malloc(2 * sizeof *post);
    double obs[2 * 4 * 2];
    for (int b = 0; b < 2; b++) {
        double th[2];
        pk_dtf_random_prior(&t, 3, &rng, pri + b);
        pk_dtf_gmm_sample(pri + b, &rng, th);
        pk_dtf_simulate(&t, th, 4, &rng, obs + b * 8);
    }
    PK_CHECK_OK(pk_dtf_infer(m, pri, obs, 2, 4, post, NULL));
    for (int b = 0; b < 2; b++) {
        PK_CHECK_OK(pk_dtf_gmm_check(post + b, NULL));
        for (int k = 0; k < 3; k++) {
            PK_CHECK_CLOSE(post[b].w[k], pri[b].w[k], 0.02, 0.05);
            PK_CHECK_CLOSE(post[b].mu[2 * k], pri[b].mu[2 * k], 0.05, 0);
        }
    }
    pk_dtf_eval e0, e1;
    pk_rng_seed(&rng, 99);
    PK_CHECK_OK(pk_dtf_evaluate(m, &t, 200, 4, 1, 0, &rng, &e0, NULL));
    pk_dtf_train_params tp = pk_dtf_train_params_default();
    tp.steps = 600, tp.batch = 32, tp.n_max = 4, tp.lr = 3e-3;
    double fl = NAN;
    PK_CHECK_OK(pk_dtf_train(m, &t, &tp, &rng, NULL, NULL, &fl, NULL));
    PK_CHECK(isfinite(fl));
    pk_rng_seed(&rng, 99);
    PK_CHECK_OK(pk_dtf_evaluate(m, &t, 200, 4, 1, 0, &rng, &e1, NULL));
    printf("untrained gap %.3f, trained gap %.3f (exact %.3f, prior %.3f)\n", e0.gap, e1.gap, e1.nll_ref,
           e1.nll_prior);
    PK_CHECK(e1.gap < e0.gap - 0.3);
    PK_CHECK(e1.gap > -3 * e1.se_gap); /* q cannot beat the exact posterior in expectation */
    PK_CHECK_CLOSE(e0.nll_ref, e1.nll_ref, 1e-12, 0); /* same problems */

    /* save / load keeps every output; a foreign file is refused */
    const char *path = "test_disttf_model.safetensors";
    PK_CHECK_OK(pk_dtf_save(m, &t, path, NULL));
    pk_dtf *m2 = NULL;
    pk_dtf_task t2;
    PK_CHECK_OK(pk_dtf_load(path, &m2, &t2, NULL));
    PK_CHECK(t2.kind == PK_DTF_LINEAR && t2.noise == t.noise);
    pk_dtf_gmm *post2 = malloc(2 * sizeof *post2);
    PK_CHECK_OK(pk_dtf_infer(m, pri, obs, 2, 4, post, NULL));
    PK_CHECK_OK(pk_dtf_infer(m2, pri, obs, 2, 4, post2, NULL));
    PK_CHECK(!memcmp(post[0].mu, post2[0].mu, sizeof post[0].mu) && !memcmp(post[1].w, post2[1].w, sizeof post[1].w));
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs("not a model", f);
        fclose(f);
    }
    pk_err err;
    pk_err_clear(&err);
    pk_dtf *m3 = NULL;
    PK_CHECK(pk_dtf_load(path, &m3, NULL, &err) != PK_OK && m3 == NULL);
    remove(path);
    /* wrong shapes and non-finite data are refused */
    pk_dtf_gmm wrongk = pri[0];
    wrongk.K = 2;
    wrongk.w[0] += wrongk.w[2];
    PK_CHECK(pk_dtf_infer(m, &wrongk, obs, 1, 4, post, NULL) == PK_EINVAL);
    obs[3] = NAN;
    PK_CHECK(pk_dtf_infer(m, pri, obs, 2, 4, post, NULL) == PK_EINVAL);
    pk_dtf_task r = pk_dtf_task_default(PK_DTF_RANGE);
    PK_CHECK(pk_dtf_train(m, &r, &tp, &rng, NULL, NULL, NULL, NULL) == PK_EINVAL); /* 3 features, net has 2 */
    pk_dtf_free(m2);
    pk_dtf_free(m);
    free(pri);
    free(post);
    free(post2);
}

int main(void)
{
    test_gmm();
    test_exact_vs_grid();
    test_gradient();
    test_identity_and_training();
    return pk_test_done();
}
