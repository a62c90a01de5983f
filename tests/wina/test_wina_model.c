/* test_wina_model.c — the GPT as a sparse-activation model: the inference
 * copy reproduces pk_nn_gpt_forward, the orthogonalising transform leaves the
 * dense outputs unchanged and makes qkv / mlp.fc column-orthogonal, plans and
 * statistics count what they should, greedy plans meet their levels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pk_test.h"
#include "probkit/nn.h"
#include "probkit/rng.h"
#include "probkit/wina.h"

enum { V = 256, CTX = 16, B = 3 };

/* A small GPT with every parameter perturbed, so that LayerNorm gains and
 * biases are not the identity the folding could get away with ignoring. */
static pk_nn_gpt *make_gpt(pk_rng *rng)
{
    pk_nn_gpt_config c = {V, CTX, 32, 2, 4, 0.0f};
    pk_nn_gpt *g = NULL;
    if (pk_nn_gpt_new(&c, rng, &g, NULL))
        return NULL;
    for (size_t i = 0; i < pk_nn_params_count(g->params); i++) {
        pk_nn_tensor *t = pk_nn_params_get(g->params, i);
        for (int64_t j = 0; j < t->numel; j++)
            t->data[j] += (float)(0.1 * pk_rng_normal(rng));
    }
    return g;
}

static double max_abs_diff(const float *a, const float *b, int64_t n, double *scale)
{
    double d = 0, s = 0;
    for (int64_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        s = fmax(s, fabs((double)b[i]));
    }
    *scale = s;
    return d;
}

static void test_invariance(pk_nn_gpt *g, const int32_t *tok)
{
    int64_t nl = (int64_t)B * CTX * V;
    float *ref = malloc((size_t)nl * sizeof *ref), *a = malloc((size_t)nl * sizeof *a),
          *b = malloc((size_t)nl * sizeof *b);
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    pk_nn_ctx_set_grad(ctx, 0);
    pk_nn_ctx_set_train(ctx, 0);
    pk_nn_tensor *lg = pk_nn_gpt_forward(ctx, g, tok, B, CTX);
    PK_CHECK(lg != NULL);
    memcpy(ref, lg->data, (size_t)nl * sizeof *ref);
    pk_wina_model *m0 = NULL, *m1 = NULL;
    PK_CHECK_OK(pk_wina_model_new(g, 0, &m0, NULL));
    PK_CHECK_OK(pk_wina_model_new(g, 1, &m1, NULL));
    PK_CHECK_OK(pk_wina_forward(m0, NULL, tok, B, CTX, a, NULL, NULL));
    PK_CHECK_OK(pk_wina_forward(m1, NULL, tok, B, CTX, b, NULL, NULL));
    double scale, d0 = max_abs_diff(a, ref, nl, &scale), d1 = max_abs_diff(b, ref, nl, &scale);
    fprintf(stderr, "logit scale %.3g: copy differs by %.3g, transformed by %.3g\n", scale, d0, d1);
    PK_CHECK(d0 <= 1e-6 * scale);
    PK_CHECK_MSG(d1 <= 1e-5 * scale, "transformed model's logits differ by %g (scale %g)", d1, scale);
    /* the rotated readers have orthogonal columns; the originals do not */
    for (int l = 0; l < 2; l++) {
        PK_CHECK(pk_wina_column_coherence(m1, l, PK_WINA_SITE_QKV) < 1e-5);
        PK_CHECK(pk_wina_column_coherence(m1, l, PK_WINA_SITE_FC) < 1e-5);
        PK_CHECK(pk_wina_column_coherence(m0, l, PK_WINA_SITE_QKV) > 1e-2);
        PK_CHECK(pk_wina_column_coherence(m1, l, PK_WINA_SITE_MLP_OUT) > 1e-2); /* not rotatable */
    }
    PK_CHECK(isnan(pk_wina_column_coherence(m1, 2, 0)));
    PK_CHECK(pk_wina_model_transformed(m1) && !pk_wina_model_transformed(m0));
    /* sparse outputs do change, and differently for the two rules */
    pk_wina_plan *pt = NULL, *pw = NULL;
    PK_CHECK_OK(pk_wina_plan_uniform(m1, PK_WINA_TEAL, 0.5, &pt, NULL));
    PK_CHECK_OK(pk_wina_plan_uniform(m1, PK_WINA_WINA, 0.5, &pw, NULL));
    PK_CHECK_OK(pk_wina_forward(m1, pt, tok, B, CTX, a, NULL, NULL));
    PK_CHECK_OK(pk_wina_forward(m1, pw, tok, B, CTX, b, NULL, NULL));
    PK_CHECK(max_abs_diff(a, ref, nl, &scale) > 1e-3 && max_abs_diff(a, b, nl, &scale) > 1e-4);
    /* the column-skipping product gives the same logits as the dense product on masked inputs */
    pw->skip_kernel = 1;
    float *c = malloc((size_t)nl * sizeof *c);
    PK_CHECK_OK(pk_wina_forward(m1, pw, tok, B, CTX, c, NULL, NULL));
    PK_CHECK_MSG(max_abs_diff(c, b, nl, &scale) <= 1e-5 * scale, "skip kernel differs by %g",
                 max_abs_diff(c, b, nl, &scale));
    pw->skip_kernel = 0;
    free(c);
    /* the theorem on the model: where a site's input is the same under both rules (qkv of
     * block 0; mlp.fc of block 0 when only it is sparsified) and its reader is orthogonal,
     * WINA's output error is the smaller one, token by token and so in sum */
    for (int site = PK_WINA_SITE_QKV; site <= PK_WINA_SITE_FC; site += 2) {
        for (int i = 0; i < 2 * PK_WINA_SITES; i++)
            pt->sparsity[i] = pw->sparsity[i] = i == site ? 0.6 : 0.0;
        pk_wina_stats *st = pk_wina_stats_new(2), *sw = pk_wina_stats_new(2);
        PK_CHECK_OK(pk_wina_forward(m1, pt, tok, B, CTX, a, st, NULL));
        PK_CHECK_OK(pk_wina_forward(m1, pw, tok, B, CTX, b, sw, NULL));
        PK_CHECK_MSG(sw->err2[site] <= st->err2[site] * (1 + 1e-5), "site %d: WINA %g > TEAL %g", site,
                     sw->err2[site], st->err2[site]);
        PK_CHECK(sw->err2[site] < st->err2[site] * 0.999); /* and strictly, on generic data */
        pk_wina_stats_free(st);
        pk_wina_stats_free(sw);
    }
    pk_wina_plan_free(pt);
    pk_wina_plan_free(pw);
    pk_wina_model_free(m0);
    pk_wina_model_free(m1);
    pk_nn_ctx_free(ctx);
    free(ref);
    free(a);
    free(b);
}

/* Dense evaluation equals the nn engine's loss on the same windows. */
static void test_eval(pk_nn_gpt *g, pk_rng *rng)
{
    enum { NW = 5 };
    int32_t tok[NW * CTX + 1];
    for (int i = 0; i < NW * CTX + 1; i++)
        tok[i] = (int32_t)('a' + pk_rng_below(rng, 20));
    int32_t win[NW * (CTX + 1)];
    for (int w = 0; w < NW; w++)
        memcpy(win + w * (CTX + 1), tok + w * CTX, (CTX + 1) * sizeof *tok);
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    pk_nn_ctx_set_grad(ctx, 0);
    pk_nn_ctx_set_train(ctx, 0);
    pk_nn_tensor *loss = pk_nn_gpt_loss(ctx, g, win, NW, CTX);
    pk_wina_model *m = NULL;
    PK_CHECK_OK(pk_wina_model_new(g, 1, &m, NULL));
    double nll = NAN, acc = NAN, nll3, acc3;
    PK_CHECK_OK(pk_wina_eval(m, NULL, tok, NW * CTX + 1, 0, &nll, &acc, NULL, NULL));
    PK_CHECK_CLOSE(nll, loss->data[0], 1e-5, 1e-5);
    PK_CHECK(acc >= 0 && acc <= 1);
    PK_CHECK_OK(pk_wina_eval(m, NULL, tok, NW * CTX + 1, 3, &nll3, &acc3, NULL, NULL));
    PK_CHECK(nll3 != nll); /* only 3 windows scored */
    pk_err err = {0};
    PK_CHECK(pk_wina_eval(m, NULL, tok, CTX, 0, &nll, &acc, NULL, &err) == PK_EINVAL);
    tok[7] = 300;
    PK_CHECK(pk_wina_eval(m, NULL, tok, NW * CTX + 1, 0, &nll, &acc, NULL, &err) == PK_EINVAL);
    PK_CHECK(strstr(err.msg, "token 7") != NULL);
    pk_wina_model_free(m);
    pk_nn_ctx_free(ctx);
}

static void test_plans_stats(pk_nn_gpt *g, const int32_t *tok)
{
    pk_wina_model *m = NULL;
    PK_CHECK_OK(pk_wina_model_new(g, 0, &m, NULL));
    pk_wina_plan *p = NULL;
    PK_CHECK_OK(pk_wina_plan_uniform(m, PK_WINA_CATS, 0.5, &p, NULL));
    PK_CHECK(p->sparsity[PK_WINA_SITE_MLP_OUT] == 0.5 && p->sparsity[PK_WINA_SITE_QKV] == 0 &&
             p->sparsity[PK_WINA_SITES + PK_WINA_SITE_MLP_OUT] == 0.5);
    PK_CHECK_CLOSE(pk_wina_plan_weight_sparsity(p), 0.5 * 4 / 12, 1e-12, 0);
    pk_wina_plan_free(p);
    PK_CHECK(pk_wina_plan_uniform(m, PK_WINA_TEAL, 1.0, &p, NULL) == PK_EINVAL && !p);
    PK_CHECK_OK(pk_wina_plan_uniform(m, PK_WINA_WINA, 0.25, &p, NULL));
    PK_CHECK_CLOSE(pk_wina_plan_weight_sparsity(p), 0.25, 1e-12, 0);
    pk_wina_stats *s = pk_wina_stats_new(2);
    float *lg = malloc((size_t)B * CTX * V * sizeof *lg);
    PK_CHECK_OK(pk_wina_forward(m, p, tok, B, CTX, lg, s, NULL));
    for (int site = 0; site < PK_WINA_SITES; site++) {
        int64_t n = pk_wina_site_width(m, site);
        PK_CHECK_CLOSE(s->kept[site] / s->total[site], (double)pk_wina_keep_count(n, 0.25) / (double)n, 1e-12, 0);
        double r = pk_wina_stats_rel_error(s, 0, site);
        PK_CHECK(r > 0 && r < 1);
    }
    pk_wina_stats_free(s);
    /* dense: zero error */
    s = pk_wina_stats_new(2);
    PK_CHECK_OK(pk_wina_forward(m, NULL, tok, B, CTX, lg, s, NULL));
    PK_CHECK(pk_wina_stats_rel_error(s, 1, PK_WINA_SITE_FC) == 0);
    pk_wina_stats_free(s);
    /* bad plan */
    p->sparsity[3] = 1.5;
    pk_err err = {0};
    PK_CHECK(pk_wina_forward(m, p, tok, B, CTX, lg, NULL, &err) == PK_EINVAL);
    pk_wina_plan_free(p);
    free(lg);
    pk_wina_model_free(m);
}

static void test_greedy(pk_nn_gpt *g, const int32_t *tok)
{
    pk_wina_model *m = NULL;
    PK_CHECK_OK(pk_wina_model_new(g, 1, &m, NULL));
    const double lv[3] = {0.25, 0.5, 0.0};
    pk_wina_plan *p[3] = {0};
    const double step = 0.1;
    PK_CHECK_OK(pk_wina_plan_greedy(m, PK_WINA_WINA, 0xF, lv, 3, tok, B, CTX, step, p, NULL));
    for (int i = 0; i < 3; i++) {
        double w = pk_wina_plan_weight_sparsity(p[i]);
        PK_CHECK_MSG(w >= lv[i] - 1e-9 && w <= lv[i] + step / 12 + 1e-9, "level %g: weighted %g", lv[i], w);
        pk_wina_plan_free(p[i]);
    }
    PK_CHECK_OK(pk_wina_plan_greedy(m, PK_WINA_WINA, 0x5, lv, 1, tok, B, CTX, step, p, NULL));
    PK_CHECK(p[0]->norm_sites == 0x5);
    pk_wina_plan_free(p[0]);
    /* CATS falls back to the uniform plan */
    PK_CHECK_OK(pk_wina_plan_greedy(m, PK_WINA_CATS, 0xF, lv, 1, tok, B, CTX, step, p, NULL));
    PK_CHECK(p[0]->sparsity[PK_WINA_SITE_MLP_OUT] == 0.25 && p[0]->sparsity[0] == 0);
    pk_wina_plan_free(p[0]);
    PK_CHECK(pk_wina_plan_greedy(m, PK_WINA_TEAL, 0xF, lv, 1, tok, B, CTX, 0, p, NULL) == PK_EINVAL);
    pk_wina_model_free(m);
}

int main(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 11);
    pk_nn_gpt *g = make_gpt(&rng);
    PK_CHECK(g != NULL);
    if (!g)
        return pk_test_done();
    int32_t tok[B * CTX];
    for (int i = 0; i < B * CTX; i++)
        tok[i] = (int32_t)pk_rng_below(&rng, V);
    test_invariance(g, tok);
    test_eval(g, &rng);
    test_plans_stats(g, tok);
    test_greedy(g, tok);
    pk_nn_gpt_free(g);
    return pk_test_done();
}
