/* mlp.c — the BNN's network in double precision: forward and backward
 * passes by hand over CBLAS (the per-sample weights of prior matching make
 * every function draw a different network, so one batched dgemm per layer
 * and draw is the natural unit), and draws from its weight prior. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "funcprior_priv.h"

int pk_funcprior_net_check(const pk_funcprior_net *net, pk_err *err)
{
    if (!net)
        return pk_err_set(err, PK_EINVAL, "funcprior: no network given");
    if (net->in_dim < 1 || net->in_dim > 4096)
        return pk_err_set(err, PK_EINVAL, "funcprior: in_dim must be in [1, 4096], got %d", net->in_dim);
    if (net->n_hidden < 0 || net->n_hidden > PK_FUNCPRIOR_MAX_HIDDEN)
        return pk_err_set(err, PK_EINVAL, "funcprior: n_hidden must be in [0, %d], got %d", PK_FUNCPRIOR_MAX_HIDDEN,
                          net->n_hidden);
    for (int l = 0; l < net->n_hidden; l++)
        if (net->hidden[l] < 1 || net->hidden[l] > 4096)
            return pk_err_set(err, PK_EINVAL, "funcprior: hidden[%d] must be in [1, 4096], got %d", l, net->hidden[l]);
    if (net->act != PK_FUNCPRIOR_TANH && net->act != PK_FUNCPRIOR_RELU)
        return pk_err_set(err, PK_EINVAL, "funcprior: unknown activation %d", (int)net->act);
    return PK_OK;
}

int pk_funcprior_nlayers(const pk_funcprior_net *net) { return net->n_hidden + 1; }

static int dim_of(const pk_funcprior_net *net, int l)
{
    if (l == 0)
        return net->in_dim;
    return l <= net->n_hidden ? net->hidden[l - 1] : 1;
}

size_t pk_funcprior_nparams(const pk_funcprior_net *net)
{
    if (pk_funcprior_net_check(net, NULL))
        return 0;
    size_t n = 0;
    for (int l = 1; l <= net->n_hidden + 1; l++)
        n += (size_t)dim_of(net, l) * ((size_t)dim_of(net, l - 1) + 1);
    return n;
}

int pk_funcprior_prior_check(const pk_funcprior_net *net, const pk_funcprior_prior *pr, pk_err *err)
{
    int st = pk_funcprior_net_check(net, err);
    if (st)
        return st;
    if (!pr)
        return pk_err_set(err, PK_EINVAL, "funcprior: no prior given");
    for (int l = 0; l <= net->n_hidden; l++) {
        if (!(pr->w_std[l] > 0) || !isfinite(pr->w_std[l]))
            return pk_err_set(err, PK_EINVAL, "funcprior: w_std[%d] must be finite and > 0, got %g", l, pr->w_std[l]);
        if (!(pr->b_std[l] > 0) || !isfinite(pr->b_std[l]))
            return pk_err_set(err, PK_EINVAL, "funcprior: b_std[%d] must be finite and > 0, got %g", l, pr->b_std[l]);
    }
    return PK_OK;
}

pk_funcprior_prior pk_funcprior_prior_iid(const pk_funcprior_net *net, double s)
{
    pk_funcprior_prior pr;
    for (int l = 0; l <= PK_FUNCPRIOR_MAX_HIDDEN; l++) {
        int fan = l <= net->n_hidden ? dim_of(net, l) : 1;
        pr.w_std[l] = s * sqrt((double)fan);
        pr.b_std[l] = s;
    }
    return pr;
}

void pk_funcprior_prior_sd(const pk_funcprior_net *net, const pk_funcprior_prior *pr, double *sd)
{
    size_t k = 0;
    for (int l = 1; l <= net->n_hidden + 1; l++) {
        size_t in = (size_t)dim_of(net, l - 1), out = (size_t)dim_of(net, l);
        double ws = pr->w_std[l - 1] / sqrt((double)in);
        for (size_t i = 0; i < out * in; i++)
            sd[k++] = ws;
        for (size_t i = 0; i < out; i++)
            sd[k++] = pr->b_std[l - 1];
    }
}

int fp_ws_init(fp_ws *w, const pk_funcprior_net *net, size_t n_cap)
{
    memset(w, 0, sizeof *w);
    w->L = net->n_hidden + 1;
    w->act = net->act;
    w->n_cap = n_cap;
    size_t off = 0, maxw = 1;
    for (int l = 0; l <= w->L; l++)
        w->dims[l] = dim_of(net, l);
    for (int l = 1; l <= w->L; l++) {
        w->off_w[l - 1] = off;
        off += (size_t)w->dims[l] * (size_t)w->dims[l - 1];
        w->off_b[l - 1] = off;
        off += (size_t)w->dims[l];
    }
    for (int l = 0; l <= w->L; l++)
        if ((size_t)w->dims[l] > maxw)
            maxw = (size_t)w->dims[l];
    for (int l = 1; l <= w->L; l++)
        if (!(w->H[l] = malloc(n_cap * (size_t)w->dims[l] * sizeof(double)))) {
            fp_ws_free(w);
            return PK_ENOMEM;
        }
    w->g0 = malloc(n_cap * maxw * sizeof(double));
    w->g1 = malloc(n_cap * maxw * sizeof(double));
    if (!w->g0 || !w->g1) {
        fp_ws_free(w);
        return PK_ENOMEM;
    }
    return PK_OK;
}

void fp_ws_free(fp_ws *w)
{
    for (int l = 0; l < PK_FUNCPRIOR_MAX_HIDDEN + 2; l++)
        free(w->H[l]), w->H[l] = NULL;
    free(w->g0), free(w->g1);
    w->g0 = w->g1 = NULL;
}

void fp_forward(fp_ws *w, const double *theta, const double *X, size_t ldx, size_t n)
{
    const double *in = X;
    size_t ld = ldx;
    for (int l = 1; l <= w->L; l++) {
        int din = w->dims[l - 1], dout = w->dims[l];
        const double *W = theta + w->off_w[l - 1], *b = theta + w->off_b[l - 1];
        double *H = w->H[l];
        /* H (n x dout) = in (n x din) W^T */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, dout, din, 1.0, in, (int)ld, W, din, 0.0, H, dout);
        int last = l == w->L;
        for (size_t i = 0; i < n; i++) {
            double *h = H + i * (size_t)dout;
            for (int j = 0; j < dout; j++) {
                double a = h[j] + b[j];
                if (!last)
                    a = w->act == PK_FUNCPRIOR_TANH ? tanh(a) : (a > 0 ? a : 0.0);
                h[j] = a;
            }
        }
        in = H;
        ld = (size_t)dout;
    }
}

void fp_backward(fp_ws *w, const double *theta, const double *X, size_t ldx, size_t n, const double *G, double *grad)
{
    double *dA = w->g0, *dH = w->g1;
    memcpy(dA, G, n * sizeof *dA); /* d f / d A_L = 1 (identity output) */
    for (int l = w->L; l >= 1; l--) {
        int din = w->dims[l - 1], dout = w->dims[l];
        const double *in = l > 1 ? w->H[l - 1] : X;
        size_t ld = l > 1 ? (size_t)din : ldx;
        double *gW = grad + w->off_w[l - 1], *gb = grad + w->off_b[l - 1];
        /* gW (dout x din) += dA^T (dout x n) in (n x din) */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dout, din, (int)n, 1.0, dA, dout, in, (int)ld, 1.0, gW,
                    din);
        for (size_t i = 0; i < n; i++)
            for (int j = 0; j < dout; j++)
                gb[j] += dA[i * (size_t)dout + j];
        if (l == 1)
            break;
        /* dH (n x din) = dA (n x dout) W (dout x din), then through the activation */
        const double *W = theta + w->off_w[l - 1];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, din, dout, 1.0, dA, dout, W, din, 0.0, dH, din);
        const double *H = w->H[l - 1];
        size_t m = n * (size_t)din;
        if (w->act == PK_FUNCPRIOR_TANH)
            for (size_t k = 0; k < m; k++)
                dH[k] *= 1.0 - H[k] * H[k];
        else
            for (size_t k = 0; k < m; k++)
                dH[k] = H[k] > 0 ? dH[k] : 0.0;
        double *t = dA;
        dA = dH;
        dH = t;
    }
}

static int check_X(const pk_funcprior_net *net, const pk_mat *X, pk_err *err)
{
    int st = pk_funcprior_net_check(net, err);
    if (st)
        return st;
    if (!X || !X->data || X->rows < 1)
        return pk_err_set(err, PK_EINVAL, "funcprior: no input points given");
    if (X->cols != (size_t)net->in_dim)
        return pk_err_set(err, PK_EINVAL, "funcprior: inputs have %zu columns, the network takes %d", X->cols,
                          net->in_dim);
    return PK_OK;
}

int pk_funcprior_forward(const pk_funcprior_net *net, const double *theta, const pk_mat *X, double *f, pk_err *err)
{
    int st = check_X(net, X, err);
    if (st)
        return st;
    if (!theta || !f)
        return pk_err_set(err, PK_EINVAL, "funcprior_forward: NULL parameters or output");
    fp_ws w;
    if (fp_ws_init(&w, net, X->rows))
        return pk_err_set(err, PK_ENOMEM, "funcprior_forward: out of memory");
    fp_forward(&w, theta, X->data, X->stride, X->rows);
    memcpy(f, w.H[w.L], X->rows * sizeof *f);
    fp_ws_free(&w);
    return PK_OK;
}

int pk_funcprior_sample_functions(const pk_funcprior_net *net, const pk_funcprior_prior *pr, const pk_mat *X,
                                  size_t ns, pk_rng *rng, pk_mat *F, pk_err *err)
{
    int st = check_X(net, X, err);
    if (st || (st = pk_funcprior_prior_check(net, pr, err)))
        return st;
    if (!rng || !F || F->rows != ns || F->cols != X->rows)
        return pk_err_set(err, PK_EINVAL, "funcprior_sample_functions: output must be %zu x %zu", ns, X->rows);
    size_t P = pk_funcprior_nparams(net);
    double *sd = malloc(P * sizeof *sd), *theta = malloc(P * sizeof *theta);
    fp_ws w;
    if (!sd || !theta || fp_ws_init(&w, net, X->rows)) {
        free(sd), free(theta);
        return pk_err_set(err, PK_ENOMEM, "funcprior_sample_functions: out of memory");
    }
    pk_funcprior_prior_sd(net, pr, sd);
    for (size_t s = 0; s < ns; s++) {
        for (size_t k = 0; k < P; k++)
            theta[k] = sd[k] * pk_rng_normal(rng);
        fp_forward(&w, theta, X->data, X->stride, X->rows);
        memcpy(pk_mat_at(F, s, 0), w.H[w.L], X->rows * sizeof(double));
    }
    fp_ws_free(&w);
    free(sd), free(theta);
    return PK_OK;
}

int pk_funcprior_cov(const pk_funcprior_net *net, const pk_funcprior_prior *pr, const pk_mat *X, size_t ns,
                     pk_rng *rng, pk_mat *C, pk_err *err)
{
    if (!C || !X || C->rows != X->rows || C->cols != X->rows || ns < 1)
        return pk_err_set(err, PK_EINVAL, "funcprior_cov: need ns >= 1 and an n x n output");
    pk_mat *F = pk_mat_new(ns, X->rows);
    if (!F)
        return pk_err_set(err, PK_ENOMEM, "funcprior_cov: out of memory");
    int st = pk_funcprior_sample_functions(net, pr, X, ns, rng, F, err);
    if (!st)
        st = pk_syrk(1, 1.0 / (double)ns, F, 0.0, C); /* C = F^T F / ns */
    pk_mat_free(F);
    return st;
}
