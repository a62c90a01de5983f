/* Shapes the gradient tests do not reach: stride-1 convolutions on both the
 * direct and the im2col path (KH != KW, padding >= kernel, one channel) and
 * 2x2 max-pooling over every size 2..17 x 2..19 (the vectorised path needs
 * width >= 8), each against a plain double-precision loop. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "probkit/nn.h"

static int conv_check(void)

{
    int shapes[][7] = {{3, 1, 28, 28, 5, 5, 2}, {2, 2, 7, 9, 3, 2, 0}, {2, 3, 5, 6, 3, 3, 2}, {1, 1, 4, 4, 4, 1, 3},
                       {2, 4, 9, 11, 2, 4, 1}, {3, 1, 13, 3, 5, 3, 1}};
    double worst = 0;
    srand(5);
    for (int si = 0; si < 6; si++) {
        int N = shapes[si][0], C = shapes[si][1], H = shapes[si][2], W = shapes[si][3], KH = shapes[si][4],
            KW = shapes[si][5], P = shapes[si][6], O = 5;
        int OH = H + 2 * P - KH + 1, OW = W + 2 * P - KW + 1;
        pk_nn_ctx *X = pk_nn_ctx_new();
        pk_nn_tensor *x = pk_nn_input_grad(X, 4, (int64_t[]){N, C, H, W});
        pk_nn_tensor *w = pk_nn_input_grad(X, 4, (int64_t[]){O, C, KH, KW});
        pk_nn_tensor *b = pk_nn_input_grad(X, 1, (int64_t[]){O});
        pk_nn_tensor *g = pk_nn_input(X, 4, (int64_t[]){N, O, OH, OW});
        for (int64_t i = 0; i < x->numel; i++) x->data[i] = (float)rand() / RAND_MAX - 0.5f;
        for (int64_t i = 0; i < w->numel; i++) w->data[i] = (float)rand() / RAND_MAX - 0.5f;
        for (int64_t i = 0; i < b->numel; i++) b->data[i] = (float)rand() / RAND_MAX - 0.5f;
        for (int64_t i = 0; i < g->numel; i++) g->data[i] = (float)rand() / RAND_MAX - 0.5f;
        pk_nn_tensor *y = pk_nn_conv2d(X, x, w, b, 1, P);
        if (!y || pk_nn_backward(X, pk_nn_sum_all(X, pk_nn_mul(X, y, g)))) { printf("fail %s\n", pk_nn_ctx_error(X)); return 1; }
        double *dx = calloc((size_t)x->numel, 8), *dw = calloc((size_t)w->numel, 8), db[8] = {0};
        for (int n = 0; n < N; n++) for (int o = 0; o < O; o++) for (int oh = 0; oh < OH; oh++) for (int ow = 0; ow < OW; ow++) {
            double acc = b->data[o], gg = g->data[((n * O + o) * OH + oh) * OW + ow];
            for (int c = 0; c < C; c++) for (int kh = 0; kh < KH; kh++) for (int kw = 0; kw < KW; kw++) {
                int ih = oh - P + kh, iw = ow - P + kw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                int xi = ((n * C + c) * H + ih) * W + iw, wi = ((o * C + c) * KH + kh) * KW + kw;
                acc += (double)w->data[wi] * x->data[xi];
                dx[xi] += gg * w->data[wi];
                dw[wi] += gg * x->data[xi];
            }
            db[o] += gg;
            double e = fabs(acc - y->data[((n * O + o) * OH + oh) * OW + ow]); if (e > worst) worst = e;
        }
        for (int64_t i = 0; i < x->numel; i++) { double e = fabs(dx[i] - x->grad[i]); if (e > worst) worst = e; }
        for (int64_t i = 0; i < w->numel; i++) { double e = fabs(dw[i] - w->grad[i]); if (e > worst) worst = e; }
        for (int o = 0; o < O; o++) { double e = fabs(db[o] - b->grad[o]); if (e > worst) worst = e; }
        free(dx); free(dw);
        pk_nn_ctx_free(X);
    }
    printf("max abs error %.3g\n", worst);
    return worst > 1e-4;
}

static int pool_check(void)

{
    int bad = 0;
    srand(3);
    for (int H = 2; H <= 17; H++)
        for (int W = 2; W <= 19; W++) {
            pk_nn_ctx *C = pk_nn_ctx_new();
            int64_t sh[4] = {2, 3, H, W};
            pk_nn_tensor *x = pk_nn_input_grad(C, 4, sh);
            for (int64_t i = 0; i < x->numel; i++) {
                int r = rand() % 5;
                x->data[i] = r == 0 ? 0.0f : r == 1 ? 1.0f : (float)rand() / RAND_MAX - 0.5f;
            }
            pk_nn_tensor *g = pk_nn_input(C, 4, (int64_t[]){2, 3, H / 2, W / 2});
            for (int64_t i = 0; i < g->numel; i++) g->data[i] = (float)(i + 1);
            pk_nn_tensor *y = pk_nn_max_pool2d(C, x, 2, 2);
            pk_nn_tensor *l = pk_nn_sum_all(C, pk_nn_mul(C, y, g));
            if (pk_nn_backward(C, l)) { printf("backward failed\n"); return 1; }
            int OH = H / 2, OW = W / 2;
            float *ref = calloc((size_t)x->numel, sizeof(float));
            for (int nc = 0; nc < 6; nc++)
                for (int oh = 0; oh < OH; oh++)
                    for (int ow = 0; ow < OW; ow++) {
                        const float *s = x->data + nc * H * W;
                        int best = 2 * oh * W + 2 * ow;
                        int cand[3] = {best + 1, best + W, best + W + 1};
                        for (int q = 0; q < 3; q++) if (s[cand[q]] > s[best]) best = cand[q];
                        int o = (nc * OH + oh) * OW + ow;
                        if (y->data[o] != s[best]) bad++;
                        ref[nc * H * W + best] += g->data[o];
                    }
            for (int64_t i = 0; i < x->numel; i++) if (ref[i] != x->grad[i]) bad++;
            free(ref);
            pk_nn_ctx_free(C);
        }
    printf("mismatches %d\n", bad);
    return bad != 0;
}

int main(void)
{
    int a = conv_check(), b = pool_check();
    fprintf(stderr, "%s\n", a || b ? "FAILED" : "conv and pool shapes ok");
    return a || b;
}
