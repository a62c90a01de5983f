/* attention.c — multi-head scaled dot-product attention (forward keeps the
 * attention probabilities; backward per head with sgemm). */
#include <cblas.h>
#include <math.h>

#include "nn_internal.h"

typedef struct attn_saved {
    int64_t B, Tq, Tk, C, H, hd;
    float scale;
    float *P; /* (B, H, Tq, Tk) attention probabilities */
} attn_saved;

static void attention_backward(pk_nn_ctx *ctx, pk_nn_tensor *t)
{
    pk_nn_tensor *q = t->src[0], *k = t->src[1], *v = t->src[2];
    const attn_saved *a = t->aux;
    int64_t Tq = a->Tq, Tk = a->Tk, C = a->C, hd = a->hd;
    float *dP = nn_alloc(ctx, (size_t)(Tq * Tk) * sizeof(float));
    if (!dP)
        return;
    for (int64_t b = 0; b < a->B; b++)
        for (int64_t h = 0; h < a->H; h++) {
            const float *P = a->P + (b * a->H + h) * Tq * Tk;
            const float *dO = t->grad + b * Tq * C + h * hd;
            const float *Q = q->data + b * Tq * C + h * hd, *K = k->data + b * Tk * C + h * hd;
            const float *V = v->data + b * Tk * C + h * hd;
            /* dP (Tq, Tk) = dO (Tq, hd) @ V^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)Tq, (int)Tk, (int)hd, 1.0f, dO, (int)C, V,
                        (int)C, 0.0f, dP, (int)Tk);
            if (v->requires_grad) /* dV (Tk, hd) += P^T @ dO */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)Tk, (int)hd, (int)Tq, 1.0f, P, (int)Tk, dO,
                            (int)C, 1.0f, v->grad + b * Tk * C + h * hd, (int)C);
            /* dS = P * (dP - rowsum(dP * P)), in place in dP */
            for (int64_t i = 0; i < Tq; i++) {
                double s = 0;
                for (int64_t j = 0; j < Tk; j++)
                    s += (double)dP[i * Tk + j] * P[i * Tk + j];
                for (int64_t j = 0; j < Tk; j++)
                    dP[i * Tk + j] = (float)(P[i * Tk + j] * (dP[i * Tk + j] - s));
            }
            if (q->requires_grad) /* dQ (Tq, hd) += scale dS @ K */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Tq, (int)hd, (int)Tk, a->scale, dP,
                            (int)Tk, K, (int)C, 1.0f, q->grad + b * Tq * C + h * hd, (int)C);
            if (k->requires_grad) /* dK (Tk, hd) += scale dS^T @ Q */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)Tk, (int)hd, (int)Tq, a->scale, dP, (int)Tk,
                            Q, (int)C, 1.0f, k->grad + b * Tk * C + h * hd, (int)C);
        }
}

pk_nn_tensor *pk_nn_attention(pk_nn_ctx *ctx, pk_nn_tensor *q, pk_nn_tensor *k, pk_nn_tensor *v, int n_head,
                              int causal, const pk_nn_tensor *mask)
{
    NN_CHECK_IN(ctx, q);
    NN_CHECK_IN(ctx, k);
    NN_CHECK_IN(ctx, v);
    char s1[96], s2[96], s3[96];
    if (q->ndim != 3 || k->ndim != 3 || !nn_same_shape(k, v) || q->shape[0] != k->shape[0] ||
        q->shape[2] != k->shape[2])
        return nn_fail(ctx, PK_ESHAPE, "pk_nn_attention: q %s, k %s, v %s: want (B,Tq,C), (B,Tk,C), (B,Tk,C)",
                       nn_shape_str(q, s1, sizeof s1), nn_shape_str(k, s2, sizeof s2), nn_shape_str(v, s3, sizeof s3));
    int64_t B = q->shape[0], Tq = q->shape[1], Tk = k->shape[1], C = q->shape[2];
    if (n_head < 1 || C % n_head)
        return nn_fail(ctx, PK_EINVAL, "pk_nn_attention: %d heads do not divide width %lld", n_head, (long long)C);
    if (mask && !((mask->ndim == 2 && mask->shape[0] == Tq && mask->shape[1] == Tk) ||
                  (mask->ndim == 3 && mask->shape[0] == B && mask->shape[1] == Tq && mask->shape[2] == Tk)))
        return nn_fail(ctx, PK_ESHAPE, "pk_nn_attention: mask %s should be (%lld,%lld) or (%lld,%lld,%lld)",
                       nn_shape_str(mask, s1, sizeof s1), (long long)Tq, (long long)Tk, (long long)B, (long long)Tq,
                       (long long)Tk);
    int64_t H = n_head, hd = C / H;
    int ng = nn_any_grad(ctx, q, k, v);
    pk_nn_tensor *t = nn_tensor(ctx, 3, q->shape, ng);
    float *Pall = t ? nn_alloc(ctx, (size_t)(B * H * Tq * Tk) * sizeof(float)) : NULL;
    if (!Pall)
        return NULL;
    float scale = (float)(1.0 / sqrt((double)hd));
    int64_t shift = Tk - Tq;
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < H; h++) {
            float *P = Pall + (b * H + h) * Tq * Tk;
            const float *Q = q->data + b * Tq * C + h * hd, *K = k->data + b * Tk * C + h * hd;
            /* S (Tq, Tk) = scale Q (Tq, hd) @ K^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)Tq, (int)Tk, (int)hd, scale, Q, (int)C, K, (int)C,
                        0.0f, P, (int)Tk);
            const float *M = mask ? mask->data + (mask->ndim == 3 ? b * Tq * Tk : 0) : NULL;
            for (int64_t i = 0; i < Tq; i++) {
                float *row = P + i * Tk;
                int64_t lim = causal ? i + shift + 1 : Tk; /* keys j < lim are visible */
                if (lim > Tk)
                    lim = Tk;
                double mx = -INFINITY;
                for (int64_t j = 0; j < Tk; j++) {
                    float s = j < lim ? row[j] + (M ? M[i * Tk + j] : 0.0f) : -INFINITY;
                    row[j] = s;
                    if (s > mx)
                        mx = s;
                }
                if (mx == -INFINITY) { /* nothing visible: output zeros */
                    memset(row, 0, (size_t)Tk * sizeof(float));
                    continue;
                }
                double sum = nn_exp_shift_row(row, Tk, (float)mx);
                float inv = (float)(1.0 / sum);
                for (int64_t j = 0; j < Tk; j++)
                    row[j] *= inv;
            }
            /* O (Tq, hd) = P @ V */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Tq, (int)hd, (int)Tk, 1.0f, P, (int)Tk,
                        v->data + b * Tk * C + h * hd, (int)C, 0.0f, t->data + b * Tq * C + h * hd, (int)C);
        }
    if (ng) {
        attn_saved *a = nn_alloc(ctx, sizeof *a);
        if (!a)
            return NULL;
        *a = (attn_saved){B, Tq, Tk, C, H, hd, scale, Pall};
        t->aux = a;
        t->src[0] = q;
        t->src[1] = k;
        t->src[2] = v;
        t->backward = attention_backward;
    }
    return t;
}
