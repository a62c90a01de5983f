/* test_mpnp.c — neural processes: shapes, the Gaussian head, loss gradients by
 * central differences, determinism, MPNP with no pseudo points = CNP, files,
 * and the GP task sampler's marginal variance. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pk_test.h"
#include "probkit/mpnp.h"

static pk_mpnp_config tiny(pk_mpnp_kind k)
{
    pk_mpnp_config c = pk_mpnp_config_default(k);
    c.width = 8, c.enc_depth = 2, c.dec_depth = 2, c.n_head = 2, c.n_pseudo = 3, c.n_samples = 2, c.z_dim = 4;
    return c;
}

static void test_gauss_head(void)
{
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    const float mu[4] = {0.0f, 1.0f, -2.0f, 0.5f}, sd[4] = {1.0f, 0.1f, 3.0f, 0.7f}, y[4] = {0.3f, 1.2f, 4.0f, 0.5f};
    pk_nn_tensor *lp = pk_mpnp_gauss_logpdf(ctx, pk_nn_input_copy(ctx, 1, (int64_t[]){4}, mu),
                                            pk_nn_input_copy(ctx, 1, (int64_t[]){4}, sd),
                                            pk_nn_input_copy(ctx, 1, (int64_t[]){4}, y));
    PK_CHECK(lp != NULL);
    for (int i = 0; lp && i < 4; i++) {
        double z = ((double)y[i] - mu[i]) / sd[i];
        double ref = -0.5 * log(2 * M_PI) - log((double)sd[i]) - 0.5 * z * z;
        PK_CHECK_CLOSE(lp->data[i], ref, 1e-5, 1e-5);
    }
    pk_nn_ctx_free(ctx);
}

static void test_shapes(pk_mpnp_kind kind)
{
    pk_rng rng;
    pk_rng_seed(&rng, 1);
    pk_mpnp_config c = tiny(kind);
    c.pseudo_space = PK_MPNP_PSEUDO_DATA; /* so the pseudo points can be checked */
    pk_mpnp *m = NULL;
    pk_err err = {0};
    PK_CHECK_OK(pk_mpnp_new(&c, &rng, &m, &err));
    if (!m)
        return;
    float xc[5] = {-1.5f, -0.5f, 0.0f, 0.7f, 1.9f}, yc[5] = {0.1f, -0.3f, 0.2f, 0.5f, -0.1f}, xt[7];
    for (int i = 0; i < 7; i++)
        xt[i] = -2.0f + 4.0f * (float)i / 6.0f;
    enum { S = 4 };
    float mu[S * 7], sd[S * 7], ps[S * 3 * 2];
    memset(ps, 0, sizeof ps);
    PK_CHECK_OK(pk_mpnp_predict(m, xc, yc, 5, xt, 7, S, &rng, mu, sd, ps, &err));
    int ok = 1, differ = 0;
    for (int i = 0; i < S * 7; i++) {
        ok &= isfinite(mu[i]) && sd[i] >= 0.1f && isfinite(sd[i]);
        differ |= mu[i] != mu[i % 7];
    }
    PK_CHECK(ok);
    /* draws differ for the stochastic models, not for the CNP */
    PK_CHECK(differ == (kind != PK_MPNP_CNP));
    if (kind == PK_MPNP_MPNP)
        for (int i = 0; i < S * 3; i++)
            PK_CHECK(ps[2 * i] > -2.0f && ps[2 * i] < 2.0f);
    PK_CHECK(pk_mpnp_predict(m, xc, yc, 0, xt, 7, S, &rng, mu, sd, NULL, &err) == PK_EINVAL);
    pk_mpnp_free(m);
}

/* Flatten / restore all parameter values. */
static void params_get(pk_nn_params *P, float *buf, int grad)
{
    size_t o = 0;
    for (size_t i = 0; i < pk_nn_params_count(P); i++) {
        pk_nn_tensor *t = pk_nn_params_get(P, i);
        memcpy(buf + o, grad ? t->grad : t->data, (size_t)t->numel * sizeof *buf);
        o += (size_t)t->numel;
    }
}

static void params_set(pk_nn_params *P, const float *base, const float *dir, double h)
{
    size_t o = 0;
    for (size_t i = 0; i < pk_nn_params_count(P); i++) {
        pk_nn_tensor *t = pk_nn_params_get(P, i);
        for (int64_t j = 0; j < t->numel; j++, o++)
            t->data[j] = (float)((double)base[o] + h * (dir ? dir[o] : 0.0f));
    }
}

/* The loss with the noise stream replayed from `seed`, so each evaluation sees the same draws. */
static double loss_at(pk_nn_ctx *ctx, const pk_mpnp *m, const pk_mpnp_batch *b, uint64_t seed)
{
    pk_rng noise;
    pk_rng_seed(&noise, seed);
    pk_nn_ctx_reset(ctx);
    pk_nn_tensor *l = pk_mpnp_loss(ctx, m, b, &noise);
    return l ? (double)l->data[0] : NAN;
}

/* Directional derivative of the loss along random directions vs the
 * back-propagated gradient (robust to single ReLU kinks, unlike per-entry checks). */
static void test_gradcheck(pk_mpnp_kind kind, pk_mpnp_pseudo_space space)
{
    pk_rng rng;
    pk_rng_seed(&rng, 7);
    pk_mpnp_config c = tiny(kind);
    c.pseudo_space = space;
    pk_mpnp *m = NULL;
    pk_err err = {0};
    PK_CHECK_OK(pk_mpnp_new(&c, &rng, &m, &err));
    if (!m)
        return;
    pk_mpnp_task_params tp = pk_mpnp_task_params_default(PK_MPNP_RBF);
    tp.max_points = 12;
    pk_mpnp_batch b;
    PK_CHECK_OK(pk_mpnp_batch_alloc(&b, 3, tp.max_points));
    PK_CHECK_OK(pk_mpnp_sample_batch(&tp, 3, 4, 5, &rng, &b, &err));
    pk_nn_params *P = pk_mpnp_params(m);
    size_t n = (size_t)pk_nn_params_numel(P);
    float *base = malloc(n * sizeof *base), *grad = malloc(n * sizeof *grad), *dir = malloc(n * sizeof *dir);
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    pk_rng noise;
    pk_rng_seed(&noise, 99);
    pk_nn_params_zero_grad(P);
    pk_nn_tensor *loss = pk_mpnp_loss(ctx, m, &b, &noise);
    PK_CHECK(loss != NULL && isfinite(loss->data[0]));
    PK_CHECK_OK(pk_nn_backward(ctx, loss));
    params_get(P, base, 0);
    params_get(P, grad, 1);
    for (int d = 0; d < 4; d++) {
        double gv = 0, nv = 0;
        for (size_t i = 0; i < n; i++) {
            dir[i] = (float)pk_rng_normal(&rng);
            nv += (double)dir[i] * dir[i];
        }
        for (size_t i = 0; i < n; i++)
            dir[i] = (float)(dir[i] / sqrt(nv)), gv += (double)grad[i] * dir[i];
        const double h = 2e-3;
        params_set(P, base, dir, h);
        double lp = loss_at(ctx, m, &b, 99);
        params_set(P, base, dir, -h);
        double lm = loss_at(ctx, m, &b, 99);
        double fd = (lp - lm) / (2 * h);
        PK_CHECK_MSG(fabs(fd - gv) <= 6e-4 + 0.03 * fabs(gv), "%s direction %d: finite difference %.6g, gradient %.6g",
                     pk_mpnp_kind_name(kind), d, fd, gv);
    }
    params_set(P, base, NULL, 0);
    free(base);
    free(grad);
    free(dir);
    pk_nn_ctx_free(ctx);
    pk_mpnp_batch_free(&b);
    pk_mpnp_free(m);
}

/* An MPNP with no pseudo points has a CNP's parameters and predictions. */
static void test_zero_pseudo_is_cnp(void)
{
    pk_rng r1, r2;
    pk_rng_seed(&r1, 5);
    pk_rng_seed(&r2, 5);
    pk_mpnp_config cc = tiny(PK_MPNP_CNP), cm = tiny(PK_MPNP_MPNP);
    cm.n_pseudo = 0;
    pk_mpnp *a = NULL, *b = NULL;
    pk_err err = {0};
    PK_CHECK_OK(pk_mpnp_new(&cc, &r1, &a, &err));
    PK_CHECK_OK(pk_mpnp_new(&cm, &r2, &b, &err));
    if (!a || !b)
        return;
    PK_CHECK(pk_mpnp_num_params(a) == pk_mpnp_num_params(b));
    float xc[3] = {-1, 0, 1}, yc[3] = {0.5f, -0.2f, 0.1f}, xt[4] = {-1.5f, -0.3f, 0.4f, 1.8f};
    float ma[8], sa[8], mb[8], sb[8];
    PK_CHECK_OK(pk_mpnp_predict(a, xc, yc, 3, xt, 4, 2, &r1, ma, sa, NULL, &err));
    PK_CHECK_OK(pk_mpnp_predict(b, xc, yc, 3, xt, 4, 2, &r2, mb, sb, NULL, &err));
    PK_CHECK(!memcmp(ma, mb, sizeof ma) && !memcmp(sa, sb, sizeof sa));
    /* and the training loss is the CNP's */
    pk_mpnp_task_params tp = pk_mpnp_task_params_default(PK_MPNP_MATERN52);
    pk_mpnp_batch bt;
    PK_CHECK_OK(pk_mpnp_batch_alloc(&bt, 2, tp.max_points));
    PK_CHECK_OK(pk_mpnp_sample_batch(&tp, 2, 0, 0, &r1, &bt, &err));
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    double la = loss_at(ctx, a, &bt, 3), lb = loss_at(ctx, b, &bt, 4);
    PK_CHECK(isfinite(la) && la == lb);
    pk_nn_ctx_free(ctx);
    pk_mpnp_batch_free(&bt);
    pk_mpnp_free(a);
    pk_mpnp_free(b);
}

/* Same seed, same training run, bit for bit; a file round trip keeps the predictions. */
static void test_determinism_and_files(void)
{
    double fl[2];
    float mu[2][12], sd[2][12];
    pk_mpnp *keep = NULL;
    for (int run = 0; run < 2; run++) {
        pk_rng rng;
        pk_rng_seed(&rng, 11);
        pk_mpnp_config c = tiny(PK_MPNP_MPNP);
        c.pseudo_space = PK_MPNP_PSEUDO_REPR;
        pk_mpnp *m = NULL;
        pk_err err = {0};
        PK_CHECK_OK(pk_mpnp_new(&c, &rng, &m, &err));
        pk_mpnp_task_params tp = pk_mpnp_task_params_default(PK_MPNP_RBF);
        pk_mpnp_train_params trp = pk_mpnp_train_params_default();
        trp.steps = 5, trp.batch = 4;
        PK_CHECK_OK(pk_mpnp_train(m, &tp, &trp, &rng, NULL, NULL, &fl[run], &err));
        float xc[2] = {-1, 1}, yc[2] = {0.3f, -0.3f}, xt[4] = {-2, -0.5f, 0.5f, 2};
        pk_rng_seed(&rng, 3);
        PK_CHECK_OK(pk_mpnp_predict(m, xc, yc, 2, xt, 4, 3, &rng, mu[run], sd[run], NULL, &err));
        if (run == 0)
            keep = m;
        else
            pk_mpnp_free(m);
    }
    PK_CHECK(isfinite(fl[0]) && fl[0] == fl[1]);
    PK_CHECK(!memcmp(mu[0], mu[1], sizeof mu[0]) && !memcmp(sd[0], sd[1], sizeof sd[0]));

    char path[] = "/tmp/pk_test_mpnp_XXXXXX";
    int fd = mkstemp(path);
    PK_CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    pk_err err = {0};
    PK_CHECK_OK(pk_mpnp_save(keep, path, &err));
    pk_mpnp *back = NULL;
    PK_CHECK_OK(pk_mpnp_load(path, &back, &err));
    if (back) {
        PK_CHECK(pk_mpnp_get_config(back)->kind == PK_MPNP_MPNP && pk_mpnp_get_config(back)->n_pseudo == 3 &&
                 pk_mpnp_get_config(back)->pseudo_space == PK_MPNP_PSEUDO_REPR);
        float m2[12], s2[12], xc[2] = {-1, 1}, yc[2] = {0.3f, -0.3f}, xt[4] = {-2, -0.5f, 0.5f, 2};
        pk_rng rng;
        pk_rng_seed(&rng, 3);
        PK_CHECK_OK(pk_mpnp_predict(back, xc, yc, 2, xt, 4, 3, &rng, m2, s2, NULL, &err));
        PK_CHECK(!memcmp(m2, mu[0], sizeof m2) && !memcmp(s2, sd[0], sizeof s2));
    }
    /* a file that is not a model is refused with a message */
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs("not a model", f);
        fclose(f);
    }
    pk_mpnp *bad = NULL;
    PK_CHECK(pk_mpnp_load(path, &bad, &err) != PK_OK && bad == NULL && err.msg[0]);
    remove(path);
    pk_mpnp_free(back);
    pk_mpnp_free(keep);
}

/* Marginal variance of y: s^2 + noise^2 with fixed s (5 sigma on 4,000 draws). */
static void test_sampler(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 21);
    for (int k = PK_MPNP_RBF; k <= PK_MPNP_PERIODIC; k++) {
        pk_mpnp_task_params tp = pk_mpnp_task_params_default((pk_mpnp_kernel)k);
        tp.min_scale = tp.max_scale = 0.8;
        pk_mpnp_batch b;
        PK_CHECK_OK(pk_mpnp_batch_alloc(&b, 200, tp.max_points));
        pk_err err = {0};
        double s2 = 0;
        int cnt = 0;
        for (int rep = 0; rep < 20; rep++) {
            PK_CHECK_OK(pk_mpnp_sample_batch(&tp, 200, 5, 5, &rng, &b, &err));
            PK_CHECK(b.nc == 5 && b.nt == 5);
            for (int t = 0; t < 200; t++) /* one point per task: independent draws */
                s2 += (double)b.y[t * 10] * b.y[t * 10], cnt++;
        }
        double v = 0.64 + 0.02 * 0.02, est = s2 / cnt, se = v * sqrt(2.0 / cnt);
        PK_CHECK_MSG(fabs(est - v) < 5 * se, "kernel %d: var %.4f, expected %.4f", k, est, v);
        int inr = 1;
        for (int i = 0; i < 200 * 10; i++)
            inr &= b.x[i] >= -2.0f && b.x[i] <= 2.0f;
        PK_CHECK(inr);
        pk_mpnp_batch_free(&b);
    }
    pk_mpnp_task_params bad = pk_mpnp_task_params_default(PK_MPNP_RBF);
    bad.min_ls = -1;
    pk_err err = {0};
    PK_CHECK(pk_mpnp_task_params_check(&bad, &err) == PK_EINVAL && err.msg[0]);
}

int main(void)
{
    test_gauss_head();
    for (int k = PK_MPNP_CNP; k <= PK_MPNP_MPNP; k++) {
        test_shapes((pk_mpnp_kind)k);
        test_gradcheck((pk_mpnp_kind)k, PK_MPNP_PSEUDO_DATA);
    }
    test_gradcheck(PK_MPNP_MPNP, PK_MPNP_PSEUDO_REPR);
    test_zero_pseudo_is_cnp();
    test_determinism_and_files();
    test_sampler();
    return pk_test_done();
}
