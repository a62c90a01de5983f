/* Central-difference gradient checks for every nn op.
 *
 * For an op f and random inputs x, the test forms L = sum_i f(x)_i R_i with a
 * fixed random R, gets dL/dx from pk_nn_backward, and compares with
 * (L(x + h e_j) - L(x - h e_j)) / 2h where L is summed in double from the
 * float outputs.  Points where the two one-sided differences disagree
 * (a kink of ReLU, max, ...) are skipped. */
#include <math.h>
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/nn.h"

#define MAXIN 5
typedef pk_nn_tensor *(*build_fn)(pk_nn_ctx *c, pk_nn_tensor **in, void *ud);

typedef struct spec {
    int nin;
    int ndim[MAXIN];
    int64_t shape[MAXIN][PK_NN_MAXDIM];
    int nograd[MAXIN]; /* input used without gradient (targets, masks) */
    float lo[MAXIN], hi[MAXIN];
} spec;

static pk_rng drop_rng;
static int total_checked, total_skipped;
static float *R;
static int64_t nR;

static pk_nn_tensor *run(pk_nn_ctx *c, const spec *s, float **vals, build_fn f, void *ud, pk_nn_tensor **in)
{
    pk_nn_ctx_reset(c);
    pk_rng_seed(&drop_rng, 7);
    pk_nn_ctx_set_rng(c, &drop_rng);
    for (int k = 0; k < s->nin; k++) {
        in[k] = s->nograd[k] ? pk_nn_input(c, s->ndim[k], s->shape[k]) : pk_nn_input_grad(c, s->ndim[k], s->shape[k]);
        if (!in[k])
            return NULL;
        memcpy(in[k]->data, vals[k], (size_t)in[k]->numel * sizeof(float));
    }
    return f(c, in, ud);
}

static double loss_of(const pk_nn_tensor *out)
{
    double L = 0;
    for (int64_t i = 0; i < out->numel; i++)
        L += (double)out->data[i] * R[i];
    return L;
}

static void gradcheck(const char *name, const spec *s, build_fn f, void *ud, double h, double atol, double rtol)
{
    pk_nn_ctx *c = pk_nn_ctx_new();
    pk_rng rng;
    pk_rng_seed(&rng, 1234);
    float *vals[MAXIN] = {0}, *grads[MAXIN] = {0};
    int64_t n[MAXIN];
    for (int k = 0; k < s->nin; k++) {
        n[k] = 1;
        for (int d = 0; d < s->ndim[k]; d++)
            n[k] *= s->shape[k][d];
        vals[k] = malloc((size_t)n[k] * sizeof(float));
        grads[k] = malloc((size_t)n[k] * sizeof(float));
        float lo = s->lo[k], hi = s->hi[k];
        if (lo == 0 && hi == 0)
            lo = -1, hi = 1;
        for (int64_t i = 0; i < n[k]; i++)
            vals[k][i] = (float)(lo + (hi - lo) * pk_rng_uniform(&rng));
    }
    pk_nn_tensor *in[MAXIN];
    pk_nn_tensor *out = run(c, s, vals, f, ud, in);
    PK_CHECK_MSG(out != NULL, "%s: forward failed: %s", name, pk_nn_ctx_error(c));
    if (!out)
        goto done;
    nR = out->numel;
    R = malloc((size_t)nR * sizeof(float));
    for (int64_t i = 0; i < nR; i++)
        R[i] = (float)(pk_rng_uniform(&rng) * 2 - 1);
    pk_nn_tensor *Rt = pk_nn_input_copy(c, out->ndim, out->shape, R);
    pk_nn_tensor *L = pk_nn_sum_all(c, pk_nn_mul(c, out, Rt));
    int st = pk_nn_backward(c, L);
    PK_CHECK_MSG(st == PK_OK, "%s: backward: %s", name, pk_nn_ctx_error(c));
    for (int k = 0; k < s->nin; k++)
        if (!s->nograd[k])
            memcpy(grads[k], in[k]->grad, (size_t)n[k] * sizeof(float));
    int checked = 0, bad = 0;
    for (int k = 0; k < s->nin; k++) {
        if (s->nograd[k])
            continue;
        /* check up to 48 entries per input, spread over the tensor */
        int64_t step = n[k] > 48 ? n[k] / 48 : 1;
        for (int64_t j = 0; j < n[k]; j += step) {
            float x0 = vals[k][j];
            double Lp, Lm, L0;
            vals[k][j] = x0 + (float)h;
            Lp = loss_of(run(c, s, vals, f, ud, in));
            vals[k][j] = x0 - (float)h;
            Lm = loss_of(run(c, s, vals, f, ud, in));
            vals[k][j] = x0;
            L0 = loss_of(run(c, s, vals, f, ud, in));
            double hp = (double)(float)(x0 + (float)h) - x0, hm = x0 - (double)(float)(x0 - (float)h);
            double fd = (Lp - Lm) / (hp + hm), d1 = (Lp - L0) / hp, d2 = (L0 - Lm) / hm;
            if (fabs(d1 - d2) > 10 * (atol + rtol * fabs(fd)) + 0.05 * fabs(fd))
            {
                total_skipped++;
                continue; /* kink */
            }
            checked++;
            double g = grads[k][j];
            if (!(fabs(g - fd) <= atol + rtol * fabs(fd))) {
                if (bad++ < 3)
                    fprintf(stderr, "%s: input %d [%lld]: analytic %.6g, numeric %.6g\n", name, k, (long long)j, g,
                            fd);
            }
        }
    }
    total_checked += checked;
    PK_CHECK_MSG(bad == 0, "%s: %d of %d gradient entries wrong", name, bad, checked);
    PK_CHECK_MSG(checked > 0, "%s: nothing checked", name);
done:
    for (int k = 0; k < s->nin; k++) {
        free(vals[k]);
        free(grads[k]);
    }
    free(R);
    R = NULL;
    pk_nn_ctx_free(c);
}

#define CHECK(name, sp, fn, ud) gradcheck(name, sp, fn, ud, 1e-2, 2e-3, 2e-2)

/* ---- builders ---- */
static pk_nn_tensor *b_add(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_add(c, x[0], x[1]); }
static pk_nn_tensor *b_sub(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_sub(c, x[0], x[1]); }
static pk_nn_tensor *b_mul(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_mul(c, x[0], x[1]); }
static pk_nn_tensor *b_div(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_div(c, x[0], x[1]); }
static pk_nn_tensor *b_affine(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_affine(c, x[0], -1.5f, 0.3f); }
static pk_nn_tensor *b_unary(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { return pk_nn_unary_op(c, x[0], *(pk_nn_unary *)u); }
static pk_nn_tensor *b_sum(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { return pk_nn_sum(c, x[0], *(int *)u, 0); }
static pk_nn_tensor *b_mean(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { return pk_nn_mean(c, x[0], *(int *)u, 1); }
static pk_nn_tensor *b_max(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { return pk_nn_max(c, x[0], *(int *)u, 0); }
static pk_nn_tensor *b_sumall(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_sum_all(c, x[0]); }
static pk_nn_tensor *b_meanall(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_mean_all(c, x[0]); }
static pk_nn_tensor *b_softmax(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_softmax(c, x[0]); }
static pk_nn_tensor *b_logsoftmax(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_log_softmax(c, x[0]); }
static pk_nn_tensor *b_reshape(pk_nn_ctx *c, pk_nn_tensor **x, void *u)
{
    (void)u;
    int64_t s[2] = {-1, 2};
    return pk_nn_tanh(c, pk_nn_reshape(c, x[0], 2, s)); /* tanh so the view's gradient flows through an op */
}
static pk_nn_tensor *b_permute(pk_nn_ctx *c, pk_nn_tensor **x, void *u)
{
    (void)u;
    int p[3] = {2, 0, 1};
    return pk_nn_permute(c, x[0], p);
}
static pk_nn_tensor *b_transpose(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_transpose(c, x[0], 0, -1); }
static pk_nn_tensor *b_concat(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { return pk_nn_concat(c, 2, x, *(int *)u); }
static pk_nn_tensor *b_slice(pk_nn_ctx *c, pk_nn_tensor **x, void *u)
{
    int ax = *(int *)u;
    return pk_nn_mul(c, pk_nn_slice(c, x[0], ax, 1, 3), pk_nn_slice(c, x[0], ax, 2, 4));
}
static const int32_t IDS[5] = {2, 0, 2, 3, 1};
static pk_nn_tensor *b_index(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { return pk_nn_index_select(c, x[0], *(int *)u, IDS, 5); }
static pk_nn_tensor *b_embed(pk_nn_ctx *c, pk_nn_tensor **x, void *u)
{
    (void)u;
    int64_t s[2] = {1, 5};
    return pk_nn_embedding(c, x[0], IDS, 2, s);
}
static pk_nn_tensor *b_matmul(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_matmul(c, x[0], x[1]); }
static pk_nn_tensor *b_linear(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_linear(c, x[0], x[1], x[2]); }
static pk_nn_tensor *b_conv(pk_nn_ctx *c, pk_nn_tensor **x, void *u)
{
    int *sp = u;
    return pk_nn_conv2d(c, x[0], x[1], x[2], sp[0], sp[1]);
}
static pk_nn_tensor *b_convt(pk_nn_ctx *c, pk_nn_tensor **x, void *u)
{
    int *sp = u;
    return pk_nn_conv_transpose2d(c, x[0], x[1], x[2], sp[0], sp[1]);
}
static pk_nn_tensor *b_maxpool(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_max_pool2d(c, x[0], 2, 2); }
static pk_nn_tensor *b_avgpool(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_avg_pool2d(c, x[0], 3, 2); }
static pk_nn_tensor *b_upsample(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_upsample_nearest2d(c, x[0], 2); }
static pk_nn_tensor *b_layernorm(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_layer_norm(c, x[0], x[1], x[2], 1e-5f); }
static pk_nn_tensor *b_batchnorm(pk_nn_ctx *c, pk_nn_tensor **x, void *u)
{
    int train = *(int *)u;
    pk_nn_ctx_set_train(c, train);
    /* running statistics as inputs without gradient: mean x[3], var x[4] */
    if (!train)
        for (int64_t i = 0; i < x[4]->numel; i++)
            x[4]->data[i] = 0.5f + x[4]->data[i] * x[4]->data[i];
    pk_nn_tensor *y = pk_nn_batch_norm(c, x[0], x[1], x[2], train ? NULL : x[3], train ? NULL : x[4], 0.1f, 1e-5f);
    pk_nn_ctx_set_train(c, 1);
    return y;
}
static pk_nn_tensor *b_dropout(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_dropout(c, x[0], 0.3f); }
static pk_nn_tensor *b_attn(pk_nn_ctx *c, pk_nn_tensor **x, void *u)
{
    int mode = *(int *)u; /* 0 causal, 1 custom mask, 2 cross (Tq != Tk) */
    const pk_nn_tensor *mask = NULL;
    if (mode == 1) {
        int64_t s[2] = {x[0]->shape[1], x[1]->shape[1]};
        pk_nn_tensor *m = pk_nn_full(c, 2, s, 0.0f);
        for (int64_t i = 0; i < s[0]; i++)
            for (int64_t j = 0; j < s[1]; j++)
                if ((i + j) % 3 == 1)
                    m->data[i * s[1] + j] = -INFINITY;
                else if ((i * j) % 2)
                    m->data[i * s[1] + j] = -0.7f;
        mask = m;
    }
    return pk_nn_attention(c, x[0], x[1], x[2], 2, mode == 0 || mode == 2, mask);
}
static const int32_t LAB[4] = {1, 0, 2, -1};
static pk_nn_tensor *b_ce(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { return pk_nn_cross_entropy(c, x[0], LAB, *(float *)u); }
static pk_nn_tensor *b_ces(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_cross_entropy_soft(c, x[0], x[1]); }
static pk_nn_tensor *b_nll(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_nll(c, pk_nn_log_softmax(c, x[0]), LAB); }
static pk_nn_tensor *b_bce(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_bce_with_logits(c, x[0], x[1]); }
static pk_nn_tensor *b_mse(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_mse(c, x[0], x[1]); }
static pk_nn_tensor *b_gnll(pk_nn_ctx *c, pk_nn_tensor **x, void *u) { (void)u; return pk_nn_gaussian_nll(c, x[0], x[1], x[2]); }

#define SH(...) {__VA_ARGS__}

int main(void)
{
    /* element-wise with broadcasting: same shape, row vector, column, scalar */
    spec s2 = {2, {2, 2}, {SH(3, 4), SH(3, 4)}, {0}, {0}, {0}};
    spec srow = {2, {2, 1}, {SH(3, 4), SH(4)}, {0}, {0}, {0}};
    spec scol = {2, {3, 3}, {SH(2, 3, 1), SH(1, 1, 4)}, {0}, {0}, {0}};
    CHECK("add", &s2, b_add, NULL);
    CHECK("add-row", &srow, b_add, NULL);
    CHECK("add-col", &scol, b_add, NULL);
    CHECK("sub-col", &scol, b_sub, NULL);
    CHECK("mul-row", &srow, b_mul, NULL);
    CHECK("mul", &s2, b_mul, NULL);
    spec sdiv = {2, {2, 1}, {SH(3, 4), SH(4)}, {0}, {-1, 0.5f}, {1, 2}};
    CHECK("div-row", &sdiv, b_div, NULL);
    spec s1 = {1, {2}, {SH(4, 5)}, {0}, {-2}, {2}};
    CHECK("affine", &s1, b_affine, NULL);
    for (int op = PK_NN_EXP; op <= PK_NN_NEG; op++) {
        pk_nn_unary u = (pk_nn_unary)op;
        spec su = s1;
        if (op == PK_NN_LOG || op == PK_NN_SQRT)
            su.lo[0] = 0.2f, su.hi[0] = 3;
        char nm[32];
        snprintf(nm, sizeof nm, "unary-%d", op);
        CHECK(nm, &su, b_unary, &u);
    }
    spec s3 = {1, {3}, {SH(2, 3, 4)}, {0}, {0}, {0}};
    for (int ax = -1; ax < 3; ax++) {
        CHECK("sum", &s3, b_sum, &ax);
        CHECK("mean", &s3, b_mean, &ax);
        CHECK("max", &s3, b_max, &ax);
    }
    CHECK("sum_all", &s3, b_sumall, NULL);
    CHECK("mean_all", &s3, b_meanall, NULL);
    CHECK("softmax", &s3, b_softmax, NULL);
    CHECK("log_softmax", &s3, b_logsoftmax, NULL);
    CHECK("reshape", &s3, b_reshape, NULL);
    CHECK("permute", &s3, b_permute, NULL);
    CHECK("transpose", &s3, b_transpose, NULL);
    spec scat = {2, {3, 3}, {SH(2, 3, 4), SH(2, 2, 4)}, {0}, {0}, {0}};
    int ax1 = 1;
    CHECK("concat", &scat, b_concat, &ax1);
    spec sl = {1, {3}, {SH(5, 5, 5)}, {0}, {0}, {0}};
    for (int ax = 0; ax < 3; ax++)
        CHECK("slice", &sl, b_slice, &ax);
    spec sidx = {1, {3}, {SH(4, 4, 4)}, {0}, {0}, {0}};
    for (int ax = 0; ax < 3; ax++)
        CHECK("index_select", &sidx, b_index, &ax);
    spec semb = {1, {2}, {SH(4, 3)}, {0}, {0}, {0}};
    CHECK("embedding", &semb, b_embed, NULL);
    spec smm = {2, {2, 2}, {SH(3, 4), SH(4, 5)}, {0}, {0}, {0}};
    CHECK("matmul", &smm, b_matmul, NULL);
    spec smmb = {2, {3, 3}, {SH(2, 3, 4), SH(2, 4, 5)}, {0}, {0}, {0}};
    CHECK("matmul-batched", &smmb, b_matmul, NULL);
    spec smms = {2, {3, 2}, {SH(2, 3, 4), SH(4, 5)}, {0}, {0}, {0}};
    CHECK("matmul-shared", &smms, b_matmul, NULL);
    spec slin = {3, {3, 2, 1}, {SH(2, 3, 4), SH(5, 4), SH(5)}, {0}, {0}, {0}};
    CHECK("linear", &slin, b_linear, NULL);
    spec sconv = {3, {4, 4, 1}, {SH(2, 3, 6, 5), SH(4, 3, 3, 3), SH(4)}, {0}, {0}, {0}};
    int cv[3][2] = {{1, 0}, {1, 1}, {2, 1}};
    for (int i = 0; i < 3; i++)
        CHECK("conv2d", &sconv, b_conv, cv[i]);
    spec sct = {3, {4, 4, 1}, {SH(2, 3, 4, 3), SH(3, 2, 3, 3), SH(2)}, {0}, {0}, {0}};
    for (int i = 0; i < 3; i++)
        CHECK("conv_transpose2d", &sct, b_convt, cv[i]);
    spec spool = {1, {4}, {SH(2, 2, 6, 7)}, {0}, {0}, {0}};
    CHECK("max_pool2d", &spool, b_maxpool, NULL);
    CHECK("avg_pool2d", &spool, b_avgpool, NULL);
    CHECK("upsample", &spool, b_upsample, NULL);
    spec sln = {3, {3, 1, 1}, {SH(2, 3, 6), SH(6), SH(6)}, {0}, {0}, {0}};
    CHECK("layer_norm", &sln, b_layernorm, NULL);
    spec sbn = {5, {4, 1, 1, 1, 1}, {SH(3, 2, 2, 3), SH(2), SH(2), SH(2), SH(2)}, {0, 0, 0, 1, 1}, {0}, {0}};
    int tr = 1, ev = 0;
    CHECK("batch_norm-train", &sbn, b_batchnorm, &tr);
    CHECK("batch_norm-eval", &sbn, b_batchnorm, &ev);
    spec sbn2 = {3, {2, 1, 1}, {SH(5, 3), SH(3), SH(3)}, {0}, {0}, {0}};
    CHECK("batch_norm-2d", &sbn2, b_batchnorm, &tr);
    CHECK("dropout", &s1, b_dropout, NULL);
    spec sat = {3, {3, 3, 3}, {SH(2, 4, 6), SH(2, 4, 6), SH(2, 4, 6)}, {0}, {0}, {0}};
    int m0 = 0, m1 = 1, m2 = 2;
    CHECK("attention-causal", &sat, b_attn, &m0);
    CHECK("attention-mask", &sat, b_attn, &m1);
    spec satx = {3, {3, 3, 3}, {SH(2, 3, 4), SH(2, 5, 4), SH(2, 5, 4)}, {0}, {0}, {0}};
    CHECK("attention-cross", &satx, b_attn, &m2);
    spec sce = {1, {2}, {SH(4, 3)}, {0}, {-2}, {2}};
    float e0 = 0.0f, e1 = 0.2f;
    CHECK("cross_entropy", &sce, b_ce, &e0);
    CHECK("cross_entropy-smooth", &sce, b_ce, &e1);
    spec sces = {2, {2, 2}, {SH(4, 3), SH(4, 3)}, {0, 1}, {-2, 0}, {2, 1}};
    CHECK("cross_entropy_soft", &sces, b_ces, NULL);
    CHECK("nll", &sce, b_nll, NULL);
    CHECK("bce_with_logits", &sces, b_bce, NULL);
    CHECK("mse", &sces, b_mse, NULL);
    spec sg = {3, {2, 2, 2}, {SH(3, 4), SH(3, 4), SH(3, 4)}, {0, 0, 1}, {0}, {0}};
    CHECK("gaussian_nll", &sg, b_gnll, NULL);
    fprintf(stderr, "%d gradient entries checked, %d skipped at kinks\n", total_checked, total_skipped);
    PK_CHECK(total_skipped * 20 < total_checked);
    return pk_test_done();
}
