/* nngp_train.c — NNGP / NNGP-t regression trained as in the "Scale Mixtures
 * of Neural Network Gaussian Processes" code (experiments/regression/train.py
 * and test.py of github.com/Hyungi-Lee/Scale-Mixtures-of-Neural-Network-
 * Gaussian-Processes, ICLR 2022 version; our own implementation).
 *
 * Model: the NNGP of an MLP with `depth` ReLU hidden layers, weight std w and
 * bias std s in every hidden layer, and a readout of std ls without bias:
 *     K = ls^2 F,  F = E[relu(h_L) relu(h_L')]  (arc-cosine recursion).
 * GP: y ~ N(0, K + eps I).  t-process: y ~ multivariate t with 2a dof and
 * scale (b / a)(K + eps I).  The training loss is -log p(y) / n; every
 * parameter is the softplus of an unconstrained one, moved by Adam.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sf_psi.h>
#include <lapacke.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "gp_priv.h"

#if defined(__GNUC__) && !defined(__clang__)
/* No errno from sqrt (this file never reads errno and takes roots of
 * non-negative numbers only): GCC can then vectorise the kernel's row loop. */

#define PK_ALWAYS_INLINE __attribute__((always_inline))
#else
#define PK_ALWAYS_INLINE
#endif

#define NP 6 /* w, s, ls, eps, a, b */

static double softplus(double r) { return r > 0 ? r + log1p(exp(-r)) : log1p(exp(r)); }
static double softplus_inv(double x) { return x < 20.0 ? log(expm1(x)) : x; }
static double sigmoid(double r) { return r >= 0 ? 1.0 / (1.0 + exp(-r)) : exp(r) / (1.0 + exp(r)); }

static void hyper_to_vec(const pk_nngp_hyper *h, double *v)
{
    v[0] = h->w_std;
    v[1] = h->b_std;
    v[2] = h->last_w_std;
    v[3] = h->eps;
    v[4] = h->alpha;
    v[5] = h->beta;
}

static pk_nngp_hyper vec_to_hyper(const double *v) { return (pk_nngp_hyper){v[0], v[1], v[2], v[3], v[4], v[5]}; }

pk_nngp_train_params pk_nngp_train_params_default(void)
{
    pk_nngp_train_params p;
    p.depth = 4;
    p.student_t = 0;
    p.init = (pk_nngp_hyper){1.0, 1e-8, 1.0, 1e-6, 2.0, 2.0};
    p.lr = 1e-2;
    p.lr_decay = 0.5;
    p.lr_threshold = 1e-4;
    p.lr_patience = 5;
    p.max_steps = 30000;
    p.valid_interval = 500;
    return p;
}

static int hyper_check(const pk_nngp_hyper *h, int student_t, pk_err *err)
{
    double v[NP];
    hyper_to_vec(h, v);
    static const char *nm[NP] = {"w_std", "b_std", "last_w_std", "eps", "alpha", "beta"};
    for (int i = 0; i < (student_t ? NP : 4); i++)
        if (!(v[i] > 0) || !isfinite(v[i]))
            return pk_err_set(err, PK_EINVAL, "nngp: %s = %g must be positive and finite", nm[i], v[i]);
    return PK_OK;
}

int pk_nngp_train_params_check(const pk_nngp_train_params *p, pk_err *err)
{
    if (p->depth < 1 || p->depth > 64)
        return pk_err_set(err, PK_EINVAL, "nngp: depth %d outside 1..64", p->depth);
    if (!(p->lr > 0) || !(p->lr_decay > 0 && p->lr_decay < 1) || !(p->lr_threshold >= 0))
        return pk_err_set(err, PK_EINVAL, "nngp: lr %g, lr_decay %g (0..1), lr_threshold %g invalid", p->lr,
                          p->lr_decay, p->lr_threshold);
    if (p->lr_patience < 0 || p->max_steps < 0 || p->valid_interval < 1)
        return pk_err_set(err, PK_EINVAL, "nngp: lr_patience %d, max_steps %d >= 0 and valid_interval %d >= 1",
                          p->lr_patience, p->max_steps, p->valid_interval);
    return hyper_check(&p->init, p->student_t, err);
}

/* ---- the kernel ---------------------------------------------------------------- */

/* One ReLU expectation E(kxy, kxx, kyy) = sqrt(kxx kyy) J(theta) / (2 pi) and
 * its partial derivatives (Cho & Saul's arc-cosine kernel of order 1). */
static inline void relu_e(double kxy, double kxx, double kyy, double *E, double *Exy, double *Exx, double *Eyy)
{
    double sq = sqrt(kxx * kyy), c = sq > 0 ? kxy / sq : 0.0;
    c = c > 1.0 ? 1.0 : (c < -1.0 ? -1.0 : c);
    double th = acos(c), sn = sqrt(1.0 - c * c);
    *E = sq * (sn + (M_PI - th) * c) * (0.5 / M_PI);
    *Exy = (M_PI - th) * (0.5 / M_PI);
    double t = sq * sn * (0.25 / M_PI);
    *Exx = kxx > 0 ? t / kxx : 0.0;
    *Eyy = kyy > 0 ? t / kyy : 0.0;
}

/* Pre-activation variances of the hidden layers on the diagonal, for points
 * with squared norm / d in g: dk[l][i] (l = 0 .. depth-1), with derivatives
 * by w and s when dw, ds are given.  On the diagonal E = k / 2. */
static void diag_chain(size_t m, const double *g, int depth, double w, double s, double *dk, double *dw, double *ds)
{
    double w2 = w * w, s2 = s * s;
    for (size_t i = 0; i < m; i++) {
        double k = s2 + w2 * g[i], kw = 2 * w * g[i], ks = 2 * s;
        for (int l = 0; l < depth; l++) {
            dk[(size_t)l * m + i] = k;
            if (dw) {
                dw[(size_t)l * m + i] = kw;
                ds[(size_t)l * m + i] = ks;
            }
            double E = 0.5 * k;
            kw = 2 * w * E + w2 * 0.5 * kw;
            ks = 2 * s + w2 * 0.5 * ks;
            k = s2 + w2 * E;
        }
    }
}

/* F(x_i, z_j) for a pair with inner product / d = g and layer diagonals
 * (kx, kz: stride mx, mz); derivatives by w, s if Fw != NULL. */
static inline double pair_f(double g, int depth, double w, double s, const double *kx, size_t mx, const double *kz,
                            size_t mz, const double *wx, const double *wz, const double *sx, const double *sz,
                            double *Fw, double *Fs)
{
    double w2 = w * w, s2 = s * s, k = s2 + w2 * g, kw = 2 * w * g, ks = 2 * s, E = 0;
    for (int l = 0; l < depth; l++) {
        double Exy, Exx, Eyy, a = kx[(size_t)l * mx], b = kz[(size_t)l * mz];
        relu_e(k, a, b, &E, &Exy, &Exx, &Eyy);
        if (Fw) {
            double ew = Exy * kw + Exx * wx[(size_t)l * mx] + Eyy * wz[(size_t)l * mz];
            double es = Exy * ks + Exx * sx[(size_t)l * mx] + Eyy * sz[(size_t)l * mz];
            if (l + 1 == depth) {
                *Fw = ew;
                *Fs = es;
            }
            kw = 2 * w * E + w2 * ew;
            ks = 2 * s + w2 * es;
        }
        k = s2 + w2 * E;
    }
    return E;
}

static void sqnorms(const pk_mat *X, double *g)
{
    double inv_d = 1.0 / (double)X->cols;
    for (size_t i = 0; i < X->rows; i++) {
        const double *x = pk_mat_at(X, i, 0);
        g[i] = pk_dot(x, x, X->cols) * inv_d;
    }
}

/* ls^2 F(A_i, B_j) into out (m x n, row-major, stride n); gA, gB squared
 * norms / d; work holds depth * (m + n) doubles. */
static void cross_kernel(const pk_mat *A, const double *gA, const pk_mat *B, const double *gB, int depth,
                         const pk_nngp_hyper *h, double *work, double *out)
{
    size_t m = A->rows, n = B->rows, d = A->cols;
    double *ka = work, *kb = work + (size_t)depth * m, ls2 = h->last_w_std * h->last_w_std;
    diag_chain(m, gA, depth, h->w_std, h->b_std, ka, NULL, NULL);
    diag_chain(n, gB, depth, h->w_std, h->b_std, kb, NULL, NULL);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double g = pk_dot(pk_mat_at(A, i, 0), pk_mat_at(B, j, 0), d) / (double)d;
            out[i * n + j] = ls2 * pair_f(g, depth, h->w_std, h->b_std, ka + i, m, kb + j, n, NULL, NULL, NULL, NULL,
                                          NULL, NULL);
        }
}

/* ---- marginal likelihood and its gradient ---------------------------------------- */

/* Everything one training step needs, allocated once per fit. */
typedef struct ws {
    size_t n;
    int depth;
    double *G;          /* n x n inner products / d (lower triangle) */
    double *F, *Fw, *Fs; /* n x n kernel without the readout and its w, s derivatives (lower) */
    double *C;          /* n x n: Cholesky factor, then inverse (lower, row-major) */
    double *gd, *kd, *wd, *sd, *al;
    /* per layer and point: sqrt k, 1 / sqrt k, (dk/dw) / k, (dk/ds) / k; a row of k, dk/dw, dk/ds */
    double *rt, *irt, *qw, *qs, *rk, *rkw, *rks, *rc, *ru, *rv;
} ws;

static void ws_free(ws *w)
{
    if (w)
        free(w->G);
    free(w);
}

static ws *ws_new(const pk_mat *X, int depth)
{
    size_t n = X->rows, nn = n * n;
    ws *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->G = malloc((5 * nn + (7 * (size_t)depth + 8) * n) * sizeof *w->G);
    if (!w->G) {
        free(w);
        return NULL;
    }
    w->n = n;
    w->depth = depth;
    w->F = w->G + nn;
    w->Fw = w->F + nn;
    w->Fs = w->Fw + nn;
    w->C = w->Fs + nn;
    w->gd = w->C + nn;
    w->kd = w->gd + n;
    w->wd = w->kd + (size_t)depth * n;
    w->sd = w->wd + (size_t)depth * n;
    w->al = w->sd + (size_t)depth * n;
    w->rt = w->al + n;
    w->irt = w->rt + (size_t)depth * n;
    w->qw = w->irt + (size_t)depth * n;
    w->qs = w->qw + (size_t)depth * n;
    w->rk = w->qs + (size_t)depth * n;
    w->rkw = w->rk + n;
    w->rks = w->rkw + n;
    w->rc = w->rks + n;
    w->ru = w->rc + n;
    w->rv = w->ru + n;
    /* the inner products do not change during a fit */
    double inv_d = 1.0 / (double)X->cols;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++)
            w->G[i * n + j] = pk_dot(pk_mat_at(X, i, 0), pk_mat_at(X, j, 0), X->cols) * inv_d;
    for (size_t i = 0; i < n; i++)
        w->gd[i] = w->G[i * n + i];
    return w;
}

/* acos(x) by the minimax rational approximation of asin on [0, 1/2] used by
 * fdlibm (e_asin.c), with acos(x) = 2 asin(sqrt((1 - |x|) / 2)) reflected for
 * |x| > 1/2; rb = sqrt((1 - |x|) / 2) comes from the caller, so the function is
 * pure arithmetic and selects and the row loop vectorises.  It agrees with
 * libm to a few ulps (tests/gp/test_nngp_train.c compares the loss). */
static inline PK_ALWAYS_INLINE double acos_fast(double x, double rb)
{
    const double p0 = 1.66666666666666657415e-01, p1 = -3.25565818622400915405e-01,
                 p2 = 2.01212532134862925881e-01, p3 = -4.00555345006794114027e-02,
                 p4 = 7.91534994289814532176e-04, p5 = 3.47933107596021167570e-05,
                 q1 = -2.40339491173441421878e+00, q2 = 2.02094576023350569471e+00,
                 q3 = -6.88283971605453293030e-01, q4 = 7.70381505559019352791e-02;
    double ax = fabs(x), zb = 0.5 * (1.0 - ax);
    double z = ax > 0.5 ? zb : ax * ax, sr = ax > 0.5 ? rb : ax;
    double pz = z * (p0 + z * (p1 + z * (p2 + z * (p3 + z * (p4 + z * p5)))));
    double qz = 1.0 + z * (q1 + z * (q2 + z * (q3 + z * q4)));
    double as = sr + sr * pz / qz; /* asin(sr) */
    double small_r = M_PI_2 - copysign(as, x), big_r = x > 0 ? 2.0 * as : M_PI - 2.0 * as;
    return ax > 0.5 ? big_r : small_r;
}

/* out[j] = sqrt(in[j]) for in[j] >= 0: SSE2 packed roots where available,
 * because a libm sqrt call (it may set errno) keeps GCC from vectorising. */
static inline PK_ALWAYS_INLINE void sqrt_array(const double *in, double *out, size_t m)
{
    size_t j = 0;
#if defined(__SSE2__)
    for (; j + 2 <= m; j += 2)
        _mm_storeu_pd(out + j, _mm_sqrt_pd(_mm_loadu_pd(in + j)));
#endif
    for (; j < m; j++)
        out[j] = sqrt(in[j]);
}

#if defined(__GNUC__) && !defined(__clang__)
/* Compares and selects here never see NaN; without -ftrapping-math GCC
 * if-converts them and vectorises the row loops, in an AVX2 clone where the
 * CPU has it. */
#define PK_ROW_LOOP __attribute__((noinline, optimize("no-trapping-math"), target_clones("avx2", "default")))
#else
#define PK_ROW_LOOP
#endif

/* c = clamp(k irti irt, -1, 1), u = 1 - c^2, v = (1 - |c|) / 2 over m entries */
PK_ROW_LOOP static void row_cos(size_t m, const double *restrict k, double irti, const double *restrict irt,
                                double *restrict c, double *restrict u, double *restrict v)
{
    for (size_t j = 0; j < m; j++) {
        double cj = k[j] * irti * irt[j];
        cj = cj > 1.0 ? 1.0 : (cj < -1.0 ? -1.0 : cj);
        c[j] = cj;
        u[j] = 1.0 - cj * cj;
        v[j] = 0.5 * (1.0 - fabs(cj));
    }
}

/* From c (cos theta), u (sin theta), v (sqrt((1 - |c|) / 2)): E into c and its
 * w, s derivatives into u, v (Exy kw + Exx kw_xx + Eyy kw_yy, with the
 * diagonal terms as t (qwi + qw_j), t = sqrt(kxx kyy) sin theta / (4 pi)). */
PK_ROW_LOOP static void row_relu(size_t m, double *restrict c, double *restrict u, double *restrict v,
                                 double rti, const double *restrict rt, const double *restrict kw,
                                 const double *restrict ks, double qwi, const double *restrict qw, double qsi,
                                 const double *restrict qs)
{
    const double c2pi = 0.5 / M_PI, c4pi = 0.25 / M_PI;
    for (size_t j = 0; j < m; j++) {
        double cj = c[j], pt = M_PI - acos_fast(cj, v[j]), sn = u[j], sq = rti * rt[j];
        double Exy = pt * c2pi, tt = sq * sn * c4pi;
        c[j] = sq * (sn + pt * cj) * c2pi;
        u[j] = Exy * kw[j] + tt * (qwi + qw[j]);
        v[j] = Exy * ks[j] + tt * (qsi + qs[j]);
    }
}

/* F (lower triangle and diagonal) and its derivatives by w and s at the
 * training rows: the recursion of pair_f, one row at a time over all j < i so
 * that the inner loops run over contiguous arrays. */
static void ws_kernel(ws *w, double ww, double s)
{
    size_t n = w->n;
    int depth = w->depth;
    double w2 = ww * ww, s2 = s * s;
    diag_chain(n, w->gd, depth, ww, s, w->kd, w->wd, w->sd);
    for (size_t t = 0; t < (size_t)depth * n; t++) {
        double k = w->kd[t];
        w->rt[t] = sqrt(k);
        w->irt[t] = k > 0 ? 1.0 / w->rt[t] : 0.0;
        w->qw[t] = k > 0 ? w->wd[t] / k : 0.0;
        w->qs[t] = k > 0 ? w->sd[t] / k : 0.0;
    }
    for (size_t i = 0; i < n; i++) {
        const double *g = w->G + i * n;
        double *k = w->rk, *kw = w->rkw, *ks = w->rks;
        for (size_t j = 0; j < i; j++) {
            k[j] = s2 + w2 * g[j];
            kw[j] = 2 * ww * g[j];
            ks[j] = 2 * s;
        }
        for (int l = 0; l < depth; l++) {
            size_t o = (size_t)l * n;
            const double *rt = w->rt + o, *irt = w->irt + o, *qw = w->qw + o, *qs = w->qs + o;
            double rti = rt[i], irti = irt[i], qwi = qw[i], qsi = qs[i];
            int last = l + 1 == depth;
            double *c = w->rc, *u = w->ru, *v = w->rv;
            row_cos(i, k, irti, irt, c, u, v);
            sqrt_array(u, u, i);
            sqrt_array(v, v, i);
            row_relu(i, c, u, v, rti, rt, kw, ks, qwi, qw, qsi, qs);
            if (last) {
                memcpy(w->F + i * n, c, i * sizeof *c);
                memcpy(w->Fw + i * n, u, i * sizeof *u);
                memcpy(w->Fs + i * n, v, i * sizeof *v);
            } else
                for (size_t j = 0; j < i; j++) {
                    k[j] = s2 + w2 * c[j];
                    kw[j] = 2 * ww * c[j] + w2 * u[j];
                    ks[j] = 2 * s + w2 * v[j];
                }
        }
        size_t l = (size_t)(depth - 1) * n + i;
        w->F[i * n + i] = 0.5 * w->kd[l];
        w->Fw[i * n + i] = 0.5 * w->wd[l];
        w->Fs[i * n + i] = 0.5 * w->sd[l];
    }
}

/* -log p(y) / n and, if grad, its gradient by the six raw (softplus) parameters
 * (a and b entries zero for the GP). */
static int ws_loss(ws *w, int student_t, const double *v, const double *y, double *loss, double *grad)
{
    size_t n = w->n;
    double ww = v[0], s = v[1], ls = v[2], eps = v[3], ls2 = ls * ls;
    ws_kernel(w, ww, s);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j <= i; j++)
            w->C[i * n + j] = ls2 * w->F[i * n + j];
        w->C[i * n + i] += eps;
    }
    /* row-major lower is column-major upper: LAPACK works on our storage directly */
    if (LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', (lapack_int)n, w->C, (lapack_int)n) != 0)
        return PK_ESING;
    double logdet = 0;
    for (size_t i = 0; i < n; i++)
        logdet += 2.0 * log(w->C[i * n + i]);
    memcpy(w->al, y, n * sizeof *y);
    if (LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'U', (lapack_int)n, 1, w->C, (lapack_int)n, w->al, (lapack_int)n))
        return PK_ESING;
    double q = pk_dot(y, w->al, n), dn = (double)n, logp, sc = 1.0, a = v[4], b = v[5];
    if (!student_t)
        logp = -0.5 * q - 0.5 * logdet - 0.5 * dn * log(2 * M_PI);
    else {
        logp = lgamma(a + 0.5 * dn) - lgamma(a) - 0.5 * dn * log(2 * M_PI * b) - 0.5 * logdet -
               (a + 0.5 * dn) * log1p(q / (2 * b));
        sc = (a + 0.5 * dn) / (b + 0.5 * q);
    }
    *loss = -logp / dn;
    if (!grad)
        return isfinite(*loss) ? PK_OK : PK_ESING;
    if (LAPACKE_dpotri_work(LAPACK_COL_MAJOR, 'U', (lapack_int)n, w->C, (lapack_int)n) != 0)
        return PK_ESING;
    /* dlogp/dtheta = 0.5 sum_ij W_ij dC_ij with W = sc al al' - C^-1 */
    double gf = 0, gw = 0, gs = 0, tr = 0;
    for (size_t i = 0; i < n; i++) {
        const double *ci = w->C + i * n, *fi = w->F + i * n, *fwi = w->Fw + i * n, *fsi = w->Fs + i * n;
        double ai = sc * w->al[i], *Wr = w->rc; /* row i of W left of the diagonal */
        for (size_t j = 0; j < i; j++)
            Wr[j] = ai * w->al[j] - ci[j];
        /* BLAS dots: a plain summation loop would stay scalar (no reassociation) */
        double rf = pk_dot(Wr, fi, i), rw = pk_dot(Wr, fwi, i), rs = pk_dot(Wr, fsi, i);
        double Wd = ai * w->al[i] - ci[i];
        gf += 2 * rf + Wd * fi[i];
        gw += 2 * rw + Wd * fwi[i];
        gs += 2 * rs + Wd * fsi[i];
        tr += Wd;
    }
    double dp[NP] = {0.5 * ls2 * gw, 0.5 * ls2 * gs, 0.5 * 2 * ls * gf, 0.5 * tr, 0, 0};
    if (student_t) {
        dp[4] = gsl_sf_psi(a + 0.5 * dn) - gsl_sf_psi(a) - log1p(q / (2 * b));
        dp[5] = -0.5 * dn / b + (a + 0.5 * dn) * q / (2 * b * b + b * q);
    }
    for (int k = 0; k < NP; k++)
        grad[k] = -dp[k] / dn * sigmoid(softplus_inv(v[k]));
    return isfinite(*loss) ? PK_OK : PK_ESING;
}

int pk_nngp_loss(int depth, int student_t, const pk_nngp_hyper *h, const pk_mat *X, const double *y, double *loss,
                 double *grad_raw, pk_err *err)
{
    if (depth < 1 || depth > 64 || !X || !y || !loss || X->rows < 1)
        return pk_err_set(err, PK_EINVAL, "nngp loss: depth %d outside 1..64 or empty data", depth);
    int r = hyper_check(h, student_t, err);
    if (r)
        return r;
    ws *w = ws_new(X, depth);
    if (!w)
        return pk_err_set(err, PK_ENOMEM, "nngp loss: out of memory for n = %zu", X->rows);
    double v[NP];
    hyper_to_vec(h, v);
    r = ws_loss(w, student_t, v, y, loss, grad_raw);
    ws_free(w);
    if (r)
        return pk_err_set(err, r, "nngp loss: K + eps I not positive definite (eps = %g)", h->eps);
    return PK_OK;
}

/* ---- the authors' test NLL ------------------------------------------------------- */

int pk_nngp_test_nll(int depth, int student_t, const pk_nngp_hyper *h, const pk_mat *X, const double *y,
                     const pk_mat *Xt, const double *yt_raw, double y_mean, double y_std, double *nll, double *rmse,
                     pk_err *err)
{
    if (depth < 1 || depth > 64 || !X || !Xt || X->cols != Xt->cols || X->rows < 1 || Xt->rows < 1 || !(y_std > 0))
        return pk_err_set(err, PK_EINVAL, "nngp test NLL: depth %d, shapes %zux%zu / %zux%zu or y_std %g invalid",
                          depth, X->rows, X->cols, Xt->rows, Xt->cols, y_std);
    int r = hyper_check(h, student_t, err);
    if (r)
        return r;
    size_t n = X->rows, m = Xt->rows;
    /* work: the layer diagonals of both operands of cross_kernel, at most depth * 2 (n + m) */
    size_t nw = (size_t)depth * 2 * (n + m);
    double *K = malloc((2 * n * n + m * n + nw + 3 * n + 4 * m) * sizeof *K);
    if (!K)
        return pk_err_set(err, PK_ENOMEM, "nngp test NLL: out of memory (n = %zu, m = %zu)", n, m);
    double *M = K + n * n, *Kx = M + n * n, *work = Kx + m * n, *gX = work + nw, *gT = gX + n;
    double *u = gT + m, *z = u + n, *kd = z + n, *var = kd + m, *mean = var + m;
    sqnorms(X, gX);
    sqnorms(Xt, gT);
    cross_kernel(X, gX, X, gX, depth, h, work, K);
    cross_kernel(Xt, gT, X, gX, depth, h, work, Kx);
    /* k(x*, x*) = ls^2 E on the diagonal = ls^2 k_L / 2 */
    diag_chain(m, gT, depth, h->w_std, h->b_std, work, NULL, NULL);
    for (size_t j = 0; j < m; j++)
        kd[j] = h->last_w_std * h->last_w_std * 0.5 * work[(size_t)(depth - 1) * m + j];
    /* neural-tangents' diag_reg: eps relative to the mean of diag K */
    double m0 = 0;
    for (size_t i = 0; i < n; i++)
        m0 += K[i * n + i] / (double)n;
    memcpy(M, K, n * n * sizeof *M);
    for (size_t i = 0; i < n; i++)
        M[i * n + i] += h->eps * m0;
    r = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', (lapack_int)n, M, (lapack_int)n) ? PK_ESING : PK_OK;
    if (!r) {
        memcpy(u, y, n * sizeof *u);
        r = LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'U', (lapack_int)n, 1, M, (lapack_int)n, u, (lapack_int)n) ? PK_ESING
                                                                                                               : PK_OK;
    }
    for (size_t j = 0; j < m && !r; j++) {
        double *kx = Kx + j * n;
        mean[j] = pk_dot(kx, u, n);
        /* L^-1 k*: forward substitution with the row-major lower factor */
        for (size_t i = 0; i < n; i++) {
            double t = kx[i];
            const double *li = M + i * n;
            for (size_t k = 0; k < i; k++)
                t -= li[k] * kx[k];
            kx[i] = t / li[i];
        }
        var[j] = kd[j] - pk_dot(kx, kx, n);
    }
    double f = 1.0, dof = 0;
    if (!r && student_t) {
        /* the t scale uses the noise-free K with an absolute 1e-6 jitter (their jitter(n)) */
        double a = h->alpha, b = h->beta;
        for (size_t i = 0; i < n * n; i++)
            M[i] = b / a * K[i];
        for (size_t i = 0; i < n; i++)
            M[i * n + i] += 1e-6;
        r = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', (lapack_int)n, M, (lapack_int)n) ? PK_ESING : PK_OK;
        if (!r) {
            memcpy(z, y, n * sizeof *z);
            r = LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'U', (lapack_int)n, 1, M, (lapack_int)n, z, (lapack_int)n)
                    ? PK_ESING
                    : PK_OK;
        }
        dof = 2 * a + (double)n;
        f = (2 * a + pk_dot(y, z, n)) / dof * b / a;
    }
    if (!r) {
        double l = 0, se = 0;
        for (size_t j = 0; j < m; j++) {
            double mu = y_mean + y_std * mean[j], v2 = y_std * y_std * f * var[j], e = yt_raw[j] - mu;
            /* a non-positive latent variance makes their sqrt NaN: so does ours */
            l -= !(v2 > 0) ? NAN
                 : student_t ? pk_student_t_logpdf(yt_raw[j], mu, v2, dof)
                             : -0.5 * log(2 * M_PI * v2) - 0.5 * e * e / v2;
            se += e * e;
        }
        *nll = l / (double)m;
        if (rmse)
            *rmse = sqrt(se / (double)m);
    }
    free(K);
    if (r)
        return pk_err_set(err, r, "nngp test NLL: kernel matrix not positive definite (eps = %g)", h->eps);
    return PK_OK;
}

/* ---- training: Adam on the softplus parameters, plateau decay, best validation ---- */

int pk_nngp_train(const pk_nngp_train_params *p, const pk_mat *X, const double *y, const pk_mat *Xv,
                  const double *yv_raw, double y_mean, double y_std, pk_nngp_train_info *info, pk_err *err)
{
    int r = pk_nngp_train_params_check(p, err);
    if (r)
        return r;
    if (!X || !y || !Xv || !yv_raw || !info || X->rows < 1 || Xv->rows < 1 || Xv->cols != X->cols)
        return pk_err_set(err, PK_EINVAL, "nngp train: missing or mismatched training / validation data");
    memset(info, 0, sizeof *info);
    ws *w = ws_new(X, p->depth);
    if (!w)
        return pk_err_set(err, PK_ENOMEM, "nngp train: out of memory for n = %zu", X->rows);
    int np = p->student_t ? NP : 4;
    double v[NP], raw[NP], m1[NP] = {0}, m2[NP] = {0}, g[NP], loss = NAN;
    hyper_to_vec(&p->init, v);
    for (int k = 0; k < NP; k++)
        raw[k] = softplus_inv(v[k]);
    pk_nngp_hyper cur = p->init;
    double vn;
    r = pk_nngp_test_nll(p->depth, p->student_t, &cur, X, y, Xv, yv_raw, y_mean, y_std, &vn, NULL, NULL);
    if (r) {
        ws_free(w);
        return pk_err_set(err, r, "nngp train: the initial parameters give a singular kernel matrix");
    }
    info->best = cur;
    info->best_valid_nll = vn; /* train.py's Checkpointer keeps step 0 too */
    info->initial_valid_nll = vn;
    double lr = p->lr, sched_best = INFINITY;
    int bad = 0;
    const double b1 = 0.9, b2 = 0.999, aeps = 1e-8; /* objax Adam defaults */
    for (int it = 1; it <= p->max_steps; it++) {
        if (ws_loss(w, p->student_t, v, y, &loss, g)) {
            info->stop = PK_NNGP_STOP_NAN; /* their loss turns NaN and the next validation stops the run */
            break;
        }
        double lrt = lr * sqrt(1 - pow(b2, it)) / (1 - pow(b1, it));
        for (int k = 0; k < np; k++) {
            m1[k] += (1 - b1) * (g[k] - m1[k]);
            m2[k] += (1 - b2) * (g[k] * g[k] - m2[k]);
            raw[k] -= lrt * m1[k] / sqrt(m2[k] + aeps); /* objax: rsqrt(v + eps) */
            v[k] = softplus(raw[k]);
        }
        info->steps = it;
        info->last_loss = loss;
        if (it % p->valid_interval)
            continue;
        cur = vec_to_hyper(v); /* the GP's alpha, beta stay at their (unused) initial values */
        if (hyper_check(&cur, p->student_t, NULL) ||
            pk_nngp_test_nll(p->depth, p->student_t, &cur, X, y, Xv, yv_raw, y_mean, y_std, &vn, NULL, NULL))
            vn = NAN;
        /* ReduceLROnPlateau(mode min, relative threshold 1e-4) stepped before the checkpoint */
        int reduced = 0;
        if (vn < sched_best * (1 - 1e-4)) {
            sched_best = vn;
            bad = 0;
        } else if (++bad > p->lr_patience) {
            double nl = lr * p->lr_decay;
            if (lr - nl > 1e-8)
                lr = nl;
            bad = 0;
            reduced = 1;
            info->lr_reductions++;
        }
        if (vn < info->best_valid_nll) {
            info->best_valid_nll = vn;
            info->best = cur;
            info->best_step = it;
        }
        if (reduced && lr < p->lr_threshold) {
            info->stop = PK_NNGP_STOP_LR;
            break;
        }
        if (isnan(vn)) {
            info->stop = PK_NNGP_STOP_NAN;
            break;
        }
    }
    ws_free(w);
    return PK_OK;
}
