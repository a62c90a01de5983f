/* model.c — the inference copy of a byte-level GPT and WINA's
 * computation-invariant orthogonalising transform.
 *
 * The transform (the authors' utils/tensor_transform.py, after SliceGPT):
 *  1. fold each LayerNorm's gain and bias into the linear layer that reads it;
 *  2. centre the residual stream: subtract the row mean from the embeddings
 *     and the output mean from attn.proj / mlp.proj, so every LayerNorm input
 *     has mean 0 and LayerNorm becomes RMSNorm, which commutes with rotations;
 *  3. rotate: block l reads its attention input in basis Qa(l) = the right
 *     singular vectors of its (folded) qkv matrix, and its MLP input in basis
 *     Qm(l) (of mlp.fc), so qkv Qa = U S and fc Qm = U S have orthogonal
 *     columns; the matrices writing to the stream are rotated to the next
 *     reader's basis and the shortcut carries Qa^T Qm (resp. Qm^T Qa(l+1)).
 * All of it is computed in double and stored in float.
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/linalg.h"
#include "wina_internal.h"

static const char *const SITE_NAMES[PK_WINA_SITES] = {"qkv", "attn.proj", "mlp.fc", "mlp.proj"};

const char *pk_wina_site_name(int site)
{
    return site >= 0 && site < PK_WINA_SITES ? SITE_NAMES[site] : "?";
}

pk_nn_tensor *wina_site_weight(const pk_wina_model *m, int l, int site)
{
    const wina_layer *y = &m->layer[l];
    switch (site) {
    case PK_WINA_SITE_QKV: return y->qkv_w;
    case PK_WINA_SITE_ATTN_OUT: return y->o_w;
    case PK_WINA_SITE_FC: return y->fc_w;
    default: return y->proj_w;
    }
}

pk_nn_tensor *wina_site_bias(const pk_wina_model *m, int l, int site)
{
    const wina_layer *y = &m->layer[l];
    switch (site) {
    case PK_WINA_SITE_QKV: return y->qkv_b;
    case PK_WINA_SITE_ATTN_OUT: return y->o_b;
    case PK_WINA_SITE_FC: return y->fc_b;
    default: return y->proj_b;
    }
}

static pk_nn_tensor *gp(const pk_nn_gpt *g, int l, const char *suffix)
{
    char nm[64];
    if (l < 0)
        snprintf(nm, sizeof nm, "%s", suffix);
    else
        snprintf(nm, sizeof nm, "h.%d.%s", l, suffix);
    return pk_nn_params_find(g->params, nm);
}

static pk_nn_tensor *add(pk_nn_params *P, int l, const char *suffix, int ndim, int64_t r, int64_t c)
{
    char nm[64];
    if (l < 0)
        snprintf(nm, sizeof nm, "%s", suffix);
    else
        snprintf(nm, sizeof nm, "h.%d.%s", l, suffix);
    return pk_nn_params_add(P, nm, ndim, (int64_t[]){r, c});
}

/* Declare the model's tensors (all of them; the unused ones of a variant stay zero). */
static int declare(pk_wina_model *m)
{
    int64_t V = m->V, T = m->T, C = m->C;
    pk_nn_params *P = m->P;
    int bad = !(m->wte = add(P, -1, "wte", 2, V, C)) || !(m->wpe = add(P, -1, "wpe", 2, T, C)) ||
              !(m->lnf_w = add(P, -1, "ln_f.weight", 1, C, 0)) || !(m->lnf_b = add(P, -1, "ln_f.bias", 1, C, 0));
    if (m->transformed)
        bad |= !(m->head = add(P, -1, "head", 2, V, C)) || !(m->head_b = add(P, -1, "head.bias", 1, V, 0));
    for (int l = 0; l < m->L && !bad; l++) {
        wina_layer *y = &m->layer[l];
        bad |= !(y->ln1_w = add(P, l, "ln1.weight", 1, C, 0)) || !(y->ln1_b = add(P, l, "ln1.bias", 1, C, 0)) ||
               !(y->qkv_w = add(P, l, "attn.qkv.weight", 2, 3 * C, C)) ||
               !(y->qkv_b = add(P, l, "attn.qkv.bias", 1, 3 * C, 0)) ||
               !(y->o_w = add(P, l, "attn.proj.weight", 2, C, C)) || !(y->o_b = add(P, l, "attn.proj.bias", 1, C, 0)) ||
               !(y->ln2_w = add(P, l, "ln2.weight", 1, C, 0)) || !(y->ln2_b = add(P, l, "ln2.bias", 1, C, 0)) ||
               !(y->fc_w = add(P, l, "mlp.fc.weight", 2, 4 * C, C)) ||
               !(y->fc_b = add(P, l, "mlp.fc.bias", 1, 4 * C, 0)) ||
               !(y->proj_w = add(P, l, "mlp.proj.weight", 2, C, 4 * C)) ||
               !(y->proj_b = add(P, l, "mlp.proj.bias", 1, C, 0));
        if (m->transformed) {
            bad |= !(y->r_attn = add(P, l, "r_attn", 2, C, C));
            if (l + 1 < m->L)
                bad |= !(y->r_mlp = add(P, l, "r_mlp", 2, C, C));
        }
    }
    return bad || pk_nn_params_alloc(P) ? -1 : 0;
}

static void copy_t(pk_nn_tensor *dst, const pk_nn_tensor *src)
{
    memcpy(dst->data, src->data, (size_t)dst->numel * sizeof *dst->data);
}

static void to_float(pk_nn_tensor *dst, const double *src)
{
    for (int64_t i = 0; i < dst->numel; i++)
        dst->data[i] = (float)src[i];
}

static double *to_double(const pk_nn_tensor *t)
{
    double *d = malloc((size_t)t->numel * sizeof *d);
    for (int64_t i = 0; d && i < t->numel; i++)
        d[i] = t->data[i];
    return d;
}

/* C (m x n) = op(A) B, op(A) = A (m x k) or, with ta, A^T for A stored k x m; B is k x n. */
static void mm(int ta, const double *A, const double *B, double *Cm, int m, int n, int k)
{
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, CblasNoTrans, m, n, k, 1.0, A, ta ? m : k, B, n, 0.0,
                Cm, n);
}

/* W (r x C) <- W diag(g); b (r) <- b + W_old beta: LayerNorm folded into the reader. */
static void fold_ln(double *W, double *b, const pk_nn_tensor *g, const pk_nn_tensor *beta, int64_t r, int64_t C)
{
    for (int64_t i = 0; i < r; i++) {
        double acc = 0;
        for (int64_t j = 0; j < C; j++) {
            acc += W[i * C + j] * beta->data[j];
            W[i * C + j] *= g->data[j];
        }
        if (b)
            b[i] += acc;
    }
}

/* Subtract its mean from each of nvec vectors of len entries; entry e of vector v is
 * X[v * vstride + e * estride].  Anything written to the stream becomes mean-free. */
static void centre(double *X, int64_t nvec, int64_t len, int64_t vstride, int64_t estride)
{
    for (int64_t v = 0; v < nvec; v++) {
        double *p = X + v * vstride, mu = 0;
        for (int64_t e = 0; e < len; e++)
            mu += p[e * estride];
        mu /= (double)len;
        for (int64_t e = 0; e < len; e++)
            p[e * estride] -= mu;
    }
}

/* W (C x n), b (C): output y = W x + b made mean-free, (I - 11^T/C) applied. */
static void centre_output(double *W, double *b, int64_t C, int64_t n)
{
    centre(W, n, C, 1, n);
    centre(b, 1, C, C, 1);
}

/* Q (C x C) = right singular vectors of W (r x C), as columns. */
static int right_singular(const double *W, int64_t r, int64_t C, double *Q, pk_err *err)
{
    pk_mat *A = pk_mat_new((size_t)r, (size_t)C), *Vt = pk_mat_new((size_t)C, (size_t)C);
    double *s = malloc((size_t)C * sizeof *s);
    int st = PK_OK;
    if (!A || !Vt || !s) {
        st = pk_err_set(err, PK_ENOMEM, "wina transform: out of memory");
        goto done;
    }
    memcpy(A->data, W, (size_t)(r * C) * sizeof *W);
    if ((st = pk_svd(A, NULL, s, Vt))) {
        pk_err_set(err, st, "wina transform: SVD of a %lld x %lld weight failed", (long long)r, (long long)C);
        goto done;
    }
    for (int64_t i = 0; i < C; i++)
        for (int64_t j = 0; j < C; j++)
            Q[i * C + j] = Vt->data[j * Vt->stride + i];
done:
    pk_mat_free(A);
    pk_mat_free(Vt);
    free(s);
    return st;
}

enum { QKV_W, QKV_B, O_W, O_B, FC_W, FC_B, PJ_W, PJ_B, NW };

static int transform(pk_wina_model *m, const pk_nn_gpt *g, pk_err *err)
{
    int64_t C = m->C, L = m->L, V = m->V, T = m->T;
    const char *names[NW] = {"attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias",
                             "mlp.fc.weight",   "mlp.fc.bias",   "mlp.proj.weight",  "mlp.proj.bias"};
    double **w = calloc((size_t)(L * NW), sizeof *w);
    double *Q = malloc((size_t)(2 * L * C * C) * sizeof *Q); /* Qa(l) at 2l, Qm(l) at 2l+1 */
    double *wte = to_double(m->wte), *wpe = to_double(m->wpe), *head = to_double(m->wte);
    double *hb = calloc((size_t)V, sizeof *hb);
    size_t big = (size_t)((V > T ? V : T) > 4 * C ? (V > T ? V : T) : 4 * C) * (size_t)(4 * C);
    double *tmp = malloc(big * sizeof *tmp);
    int st = PK_OK;
    if (!w || !Q || !wte || !wpe || !head || !hb || !tmp)
        goto oom;
    for (int64_t l = 0; l < L; l++)
        for (int k = 0; k < NW; k++)
            if (!(w[l * NW + k] = to_double(gp(g, (int)l, names[k]))))
                goto oom;
    for (int64_t l = 0; l < L; l++) {
        double **wl = w + l * NW;
        fold_ln(wl[QKV_W], wl[QKV_B], gp(g, (int)l, "ln1.weight"), gp(g, (int)l, "ln1.bias"), 3 * C, C);
        fold_ln(wl[FC_W], wl[FC_B], gp(g, (int)l, "ln2.weight"), gp(g, (int)l, "ln2.bias"), 4 * C, C);
        centre_output(wl[O_W], wl[O_B], C, C);
        centre_output(wl[PJ_W], wl[PJ_B], C, 4 * C);
        if ((st = right_singular(wl[QKV_W], 3 * C, C, Q + (2 * l) * C * C, err)) ||
            (st = right_singular(wl[FC_W], 4 * C, C, Q + (2 * l + 1) * C * C, err)))
            goto done;
    }
    fold_ln(head, hb, m->lnf_w, m->lnf_b, V, C);
    centre(wte, V, C, C, 1);
    centre(wpe, T, C, C, 1);
    mm(0, wte, Q, tmp, (int)V, (int)C, (int)C);
    to_float(m->wte, tmp);
    mm(0, wpe, Q, tmp, (int)T, (int)C, (int)C);
    to_float(m->wpe, tmp);
    for (int64_t l = 0; l < L; l++) {
        double **wl = w + l * NW;
        wina_layer *y = &m->layer[l];
        const double *Qa = Q + (2 * l) * C * C, *Qm = Q + (2 * l + 1) * C * C;
        const double *Qn = l + 1 < L ? Q + (2 * l + 2) * C * C : Qm; /* the next reader's basis */
        mm(0, wl[QKV_W], Qa, tmp, (int)(3 * C), (int)C, (int)C);
        to_float(y->qkv_w, tmp);
        to_float(y->qkv_b, wl[QKV_B]);
        mm(1, Qm, wl[O_W], tmp, (int)C, (int)C, (int)C);
        to_float(y->o_w, tmp);
        mm(1, Qm, wl[O_B], tmp, (int)C, 1, (int)C);
        to_float(y->o_b, tmp);
        mm(1, Qa, Qm, tmp, (int)C, (int)C, (int)C);
        to_float(y->r_attn, tmp);
        mm(0, wl[FC_W], Qm, tmp, (int)(4 * C), (int)C, (int)C);
        to_float(y->fc_w, tmp);
        to_float(y->fc_b, wl[FC_B]);
        mm(1, Qn, wl[PJ_W], tmp, (int)C, (int)(4 * C), (int)C);
        to_float(y->proj_w, tmp);
        mm(1, Qn, wl[PJ_B], tmp, (int)C, 1, (int)C);
        to_float(y->proj_b, tmp);
        if (y->r_mlp) {
            mm(1, Qm, Qn, tmp, (int)C, (int)C, (int)C);
            to_float(y->r_mlp, tmp);
        }
    }
    mm(0, head, Q + (2 * L - 1) * C * C, tmp, (int)V, (int)C, (int)C);
    to_float(m->head, tmp);
    to_float(m->head_b, hb);
    goto done;
oom:
    st = pk_err_set(err, PK_ENOMEM, "wina transform: out of memory");
done:
    for (int64_t i = 0; w && i < L * NW; i++)
        free(w[i]);
    free(w);
    free(Q);
    free(wte);
    free(wpe);
    free(head);
    free(hb);
    free(tmp);
    return st;
}

int pk_wina_model_new(const pk_nn_gpt *g, int transform_, pk_wina_model **out, pk_err *err)
{
    if (!out)
        return pk_err_set(err, PK_EINVAL, "wina model: out is NULL");
    *out = NULL;
    if (!g || !g->params)
        return pk_err_set(err, PK_EINVAL, "wina model: no GPT given");
    int st = pk_nn_gpt_config_check(&g->cfg, err);
    if (st)
        return st;
    pk_wina_model *m = calloc(1, sizeof *m);
    if (!m)
        return pk_err_set(err, PK_ENOMEM, "wina model: out of memory");
    m->V = g->cfg.vocab;
    m->T = g->cfg.context;
    m->C = g->cfg.d_model;
    m->L = g->cfg.n_layer;
    m->H = g->cfg.n_head;
    m->transformed = transform_ != 0;
    m->layer = calloc((size_t)m->L, sizeof *m->layer);
    m->P = pk_nn_params_new();
    if (!m->layer || !m->P || declare(m)) {
        pk_wina_model_free(m);
        return pk_err_set(err, PK_ENOMEM, "wina model: out of memory");
    }
    /* Start from a plain copy; the transform then overwrites what it changes. */
    copy_t(m->wte, gp(g, -1, "wte"));
    copy_t(m->wpe, gp(g, -1, "wpe"));
    copy_t(m->lnf_w, gp(g, -1, "ln_f.weight"));
    copy_t(m->lnf_b, gp(g, -1, "ln_f.bias"));
    for (int l = 0; l < m->L; l++) {
        wina_layer *y = &m->layer[l];
        pk_nn_tensor *dst[12] = {y->ln1_w, y->ln1_b, y->qkv_w, y->qkv_b, y->o_w,    y->o_b,
                                 y->ln2_w, y->ln2_b, y->fc_w,  y->fc_b,  y->proj_w, y->proj_b};
        const char *src[12] = {"ln1.weight",    "ln1.bias",      "attn.qkv.weight", "attn.qkv.bias",
                               "attn.proj.weight", "attn.proj.bias", "ln2.weight",   "ln2.bias",
                               "mlp.fc.weight", "mlp.fc.bias",   "mlp.proj.weight", "mlp.proj.bias"};
        for (int k = 0; k < 12; k++) {
            const pk_nn_tensor *t = gp(g, l, src[k]);
            if (!t || t->numel != dst[k]->numel) {
                pk_wina_model_free(m);
                return pk_err_set(err, PK_EFORMAT, "wina model: GPT parameter h.%d.%s missing or mis-shaped", l,
                                  src[k]);
            }
            copy_t(dst[k], t);
        }
    }
    if (m->transformed && (st = transform(m, g, err))) {
        pk_wina_model_free(m);
        return st;
    }
    for (int l = 0; l < m->L; l++)
        for (int s = 0; s < PK_WINA_SITES; s++) {
            const pk_nn_tensor *W = wina_site_weight(m, l, s);
            double **cn = &m->layer[l].colnorm[s];
            int64_t r = W->shape[0], c = W->shape[1];
            float *wt = m->layer[l].wt[s] = malloc((size_t)(r * c) * sizeof *wt);
            if (!(*cn = malloc((size_t)c * sizeof **cn)) || !wt) {
                pk_wina_model_free(m);
                return pk_err_set(err, PK_ENOMEM, "wina model: out of memory");
            }
            pk_wina_column_norms(W->data, r, c, *cn, NULL);
            for (int64_t i = 0; i < r; i++)
                for (int64_t j = 0; j < c; j++)
                    wt[j * r + i] = W->data[i * c + j];
        }
    *out = m;
    return PK_OK;
}

void pk_wina_model_free(pk_wina_model *m)
{
    if (!m)
        return;
    for (int l = 0; m->layer && l < m->L; l++)
        for (int s = 0; s < PK_WINA_SITES; s++) {
            free(m->layer[l].colnorm[s]);
            free(m->layer[l].wt[s]);
        }
    free(m->layer);
    pk_nn_params_free(m->P);
    free(m);
}

int pk_wina_model_layers(const pk_wina_model *m)
{
    return m ? m->L : 0;
}

int pk_wina_model_context(const pk_wina_model *m)
{
    return m ? m->T : 0;
}

int pk_wina_model_width(const pk_wina_model *m)
{
    return m ? m->C : 0;
}

int pk_wina_model_transformed(const pk_wina_model *m)
{
    return m ? m->transformed : 0;
}

int64_t pk_wina_site_width(const pk_wina_model *m, int site)
{
    if (!m || site < 0 || site >= PK_WINA_SITES)
        return 0;
    return site == PK_WINA_SITE_MLP_OUT ? 4 * (int64_t)m->C : m->C;
}

double pk_wina_column_coherence(const pk_wina_model *m, int layer, int site)
{
    if (!m || layer < 0 || layer >= m->L || site < 0 || site >= PK_WINA_SITES)
        return NAN;
    const pk_nn_tensor *W = wina_site_weight(m, layer, site);
    int64_t r = W->shape[0], n = W->shape[1];
    double *G = malloc((size_t)(n * n) * sizeof *G), *Wd = to_double(W);
    if (!G || !Wd) {
        free(G);
        free(Wd);
        return NAN;
    }
    mm(1, Wd, Wd, G, (int)n, (int)n, (int)r);
    double dmax = 0, off = 0;
    for (int64_t i = 0; i < n; i++) {
        dmax = fmax(dmax, G[i * n + i]);
        for (int64_t j = 0; j < n; j++)
            if (j != i)
                off = fmax(off, fabs(G[i * n + j]));
    }
    free(G);
    free(Wd);
    return dmax > 0 ? off / dmax : NAN;
}
