/* ops_matmul.c — matrix products through CBLAS sgemm: matmul and linear. */
#include <cblas.h>

#include "nn_internal.h"

/* ---- linear: y (R, O) = x (R, In) @ W^T (In, O) + b (O) ---- */

static void linear_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    pk_nn_tensor *x = t->src[0], *W = t->src[1], *b = t->src[2];
    int64_t O = W->shape[0], In = W->shape[1], R = x->numel / In;
    const float *g = t->grad; /* (R, O) */
    if (R == 0)
        return;
    if (x->requires_grad) /* dx (R, In) += g (R, O) @ W (O, In) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)R, (int)In, (int)O, 1.0f, g, (int)O, W->data,
                    (int)In, 1.0f, x->grad, (int)In);
    if (W->requires_grad) /* dW (O, In) += g^T (O, R) @ x (R, In) */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)O, (int)In, (int)R, 1.0f, g, (int)O, x->data,
                    (int)In, 1.0f, W->grad, (int)In);
    if (b && b->requires_grad) { /* db (O) += column sums of g, row by row in blocks of 64 columns */
        int64_t nblk = (O + 63) / 64;
NN_OMP(omp parallel for if (R * O > NN_PAR_MIN) schedule(static))
        for (int64_t blk = 0; blk < nblk; blk++) {
            int64_t o0 = blk * 64, len = o0 + 64 <= O ? 64 : O - o0;
            double acc[64] = {0};
            for (int64_t r = 0; r < R; r++) {
                const float *gr = g + r * O + o0;
                for (int64_t j = 0; j < len; j++)
                    acc[j] += gr[j];
            }
            for (int64_t j = 0; j < len; j++)
                b->grad[o0 + j] += (float)acc[j];
        }
    }
}

pk_nn_tensor *pk_nn_linear(pk_nn_ctx *ctx, pk_nn_tensor *x, pk_nn_tensor *W, pk_nn_tensor *bias)
{
    NN_CHECK_IN(ctx, x);
    NN_CHECK_IN(ctx, W);
    char s1[96], s2[96];
    if (W->ndim != 2 || x->shape[x->ndim - 1] != W->shape[1])
        return nn_fail(ctx, PK_ESHAPE, "pk_nn_linear: input %s does not match weight %s (want (..., in) and (out, in))",
                       nn_shape_str(x, s1, sizeof s1), nn_shape_str(W, s2, sizeof s2));
    if (bias && (bias->ndim != 1 || bias->shape[0] != W->shape[0]))
        return nn_fail(ctx, PK_ESHAPE, "pk_nn_linear: bias %s should be (%lld)", nn_shape_str(bias, s1, sizeof s1),
                       (long long)W->shape[0]);
    int64_t O = W->shape[0], In = W->shape[1], R = In ? x->numel / In : 0;
    int64_t shape[PK_NN_MAXDIM];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = O;
    int ng = nn_any_grad(ctx, x, W, bias);
    pk_nn_tensor *t = nn_tensor(ctx, x->ndim, shape, ng);
    if (!t)
        return NULL;
    float *y = t->data;
    if (bias) {
NN_OMP(omp parallel for if (R * O > NN_PAR_MIN) schedule(static))
        for (int64_t r = 0; r < R; r++)
            memcpy(y + r * O, bias->data, (size_t)O * sizeof(float));
    }
    if (R > 0 && O > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)R, (int)O, (int)In, 1.0f, x->data, (int)In, W->data,
                    (int)In, bias ? 1.0f : 0.0f, y, (int)O);
    if (ng) {
        t->src[0] = x;
        t->src[1] = W;
        t->src[2] = bias;
        t->backward = linear_backward;
    }
    return t;
}

/* ---- matmul: a (batch, M, K) @ b (K, N) or (batch, K, N) ---- */

static void matmul_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    (void)ctx;
    pk_nn_tensor *a = t->src[0], *b = t->src[1];
    int64_t M = t->iarg[0], K = t->iarg[1], N = t->iarg[2], batch = t->iarg[3];
    int shared_b = (int)t->iarg[4];
    if (shared_b) { /* a as one (batch*M, K) matrix */
        int64_t R = batch * M;
        if (a->requires_grad) /* da (R, K) += g (R, N) @ b^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)R, (int)K, (int)N, 1.0f, t->grad, (int)N,
                        b->data, (int)N, 1.0f, a->grad, (int)K);
        if (b->requires_grad) /* db (K, N) += a^T @ g */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)N, (int)R, 1.0f, a->data, (int)K,
                        t->grad, (int)N, 1.0f, b->grad, (int)N);
        return;
    }
    for (int64_t i = 0; i < batch; i++) {
        const float *g = t->grad + i * M * N;
        if (a->requires_grad)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)K, (int)N, 1.0f, g, (int)N,
                        b->data + i * K * N, (int)N, 1.0f, a->grad + i * M * K, (int)K);
        if (b->requires_grad)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)N, (int)M, 1.0f, a->data + i * M * K,
                        (int)K, g, (int)N, 1.0f, b->grad + i * K * N, (int)N);
    }
}

pk_nn_tensor *pk_nn_matmul(pk_nn_ctx *ctx, pk_nn_tensor *a, pk_nn_tensor *b)
{
    NN_CHECK_IN(ctx, a);
    NN_CHECK_IN(ctx, b);
    char s1[96], s2[96];
    int ok = a->ndim >= 2 && b->ndim >= 2 && a->shape[a->ndim - 1] == b->shape[b->ndim - 2];
    int shared_b = b->ndim == 2;
    if (ok && !shared_b) {
        ok = a->ndim == b->ndim;
        for (int i = 0; ok && i < a->ndim - 2; i++)
            ok = a->shape[i] == b->shape[i];
    }
    if (!ok)
        return nn_fail(ctx, PK_ESHAPE, "pk_nn_matmul: shapes %s and %s do not multiply", nn_shape_str(a, s1, sizeof s1),
                       nn_shape_str(b, s2, sizeof s2));
    int64_t M = a->shape[a->ndim - 2], K = a->shape[a->ndim - 1], N = b->shape[b->ndim - 1];
    int64_t batch = nn_prod(a->shape, 0, a->ndim - 2);
    int64_t shape[PK_NN_MAXDIM];
    memcpy(shape, a->shape, sizeof shape);
    shape[a->ndim - 1] = N;
    int ng = nn_any_grad(ctx, a, b, NULL);
    pk_nn_tensor *t = nn_tensor(ctx, a->ndim, shape, ng);
    if (!t)
        return NULL;
    if (t->numel > 0) {
        if (K == 0)
            memset(t->data, 0, (size_t)t->numel * sizeof(float));
        else if (shared_b)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(batch * M), (int)N, (int)K, 1.0f, a->data,
                        (int)K, b->data, (int)N, 0.0f, t->data, (int)N);
        else
            for (int64_t i = 0; i < batch; i++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)N, (int)K, 1.0f,
                            a->data + i * M * K, (int)K, b->data + i * K * N, (int)N, 0.0f, t->data + i * M * N,
                            (int)N);
    }
    if (ng) {
        t->src[0] = a;
        t->src[1] = b;
        t->iarg[0] = M;
        t->iarg[1] = K;
        t->iarg[2] = N;
        t->iarg[3] = batch;
        t->iarg[4] = shared_b;
        t->backward = matmul_backward;
    }
    return t;
}
