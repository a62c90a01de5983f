/* iLA-SDP: iterative likelihood-adjusted SDP for Gaussian mixtures with cluster-specific
 * covariances (Zhuang, Chen, Yang, ICML 2023).  The derivation and the mapping to the paper
 * are in docs/cluster.md; in short, for fixed covariances S_k the profile (centroid-free)
 * classification log-likelihood of a partition is
 *     l(G) = -1/2 sum_k sum_{i in G_k} [log|S_k| + x_i' S_k^{-1} x_i] + 1/2 sum_k <A_k, Z_k>,
 * A_k = X S_k^{-1} X', Z_k = 1_{G_k} 1_{G_k}' / |G_k|, which is linear in the group-specific
 * membership matrices: l = 1/2 sum_k <C_k, Z_k> with C_k = A_k - (d_k 1' + 1 d_k')/2,
 * d_k = diag(A_k) + log|S_k|.  Relaxing {Z_k} to Z_k PSD, Z_k >= 0, tr Z_k = 1,
 * sum_k Z_k 1 = 1 gives the LA-SDP; iLA-SDP alternates it with S_k <- the covariance
 * implied by Z_k, X'(diag(Z_k 1) - Z_k) X / (1' Z_k 1) (no centroids are estimated). */
#include <cblas.h>
#ifdef PK_ILA_DEBUG
#include <stdio.h>
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_priv.h"
#include "sdp_priv.h"
#include "probkit/cluster.h"

#define LOG_2PI 1.8378770664093454836

pk_ilasdp_params pk_ilasdp_params_default(size_t k)
{
    pk_ilasdp_params p;
    p.sdp = pk_sdp_params_default(k);
    p.sdp.tol = 1e-4;
    p.max_outer = 20;
    p.shrink = -1;
    p.reg = 1e-6;
    p.init_labels = NULL;
    return p;
}

void pk_ilasdp_result_free(pk_ilasdp_result *r)
{
    if (!r)
        return;
    free(r->labels);
    free(r->Zsum);
    free(r->covs);
    free(r);
}

/* S <- X'(diag(Z1) - Z)X / (1'Z1), shrunk towards tr(S)/d I and ridged. Xc: n x d centred.
 * Returns the effective size 1'Z1 (0 if the block is empty: S untouched). */
static double cov_from_block(const double *Xc, size_t n, size_t d, const double *Zk, double shrink, double reg,
                             double *S, double *ZX)
{
    double nk = 0;
    double *w = ZX + n * d; /* row sums */
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < n; j++)
            s += Zk[i * n + j];
        w[i] = s;
        nk += s;
    }
    if (nk < 1.5) /* fewer than ~2 points: keep the previous estimate */
        return 0;
    /* ZX = (diag(w) - Z) X */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)d, (int)n, -1.0, Zk, (int)n, Xc, (int)d, 0.0,
                ZX, (int)d);
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < d; t++)
            ZX[i * d + t] += w[i] * Xc[i * d + t];
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)d, (int)n, 1.0 / nk, Xc, (int)d, ZX, (int)d,
                0.0, S, (int)d);
    double tr = 0;
    for (size_t a = 0; a < d; a++) {
        tr += S[a * d + a];
        for (size_t b = 0; b < a; b++)
            S[a * d + b] = S[b * d + a] = 0.5 * (S[a * d + b] + S[b * d + a]);
    }
    double mv = tr / (double)d;
    if (!(mv > 0))
        mv = 1;
    double al = shrink >= 0 ? shrink : (double)d / (nk + (double)d);
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < d; b++)
            S[a * d + b] = (1 - al) * S[a * d + b] + (a == b ? al * mv + reg * mv : 0);
    return nk;
}

/* C_k = A_k - (d_k 1' + 1 d_k')/2 from S_k; Y, L: scratch (n x d, d x d). */
static int block_cost(const double *Xc, size_t n, size_t d, const double *S, double *C, double *Y, double *L)
{
    memcpy(L, S, d * d * sizeof(double));
    pk_mat Lm = pk_mat_view(L, d, d);
    double jit = 0;
    if (pk_cholesky(&Lm, 1e-10, 8, &jit) != PK_OK)
        return PK_ESING;
    double logdet = pk_cholesky_logdet(&Lm);
    memcpy(Y, Xc, n * d * sizeof(double));
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, (int)n, (int)d, 1.0, L, (int)d, Y,
                (int)d);
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)n, (int)d, 1.0, Y, (int)d, 0.0, C, (int)n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            C[i * n + j] = C[j * n + i];
    double *dg = Y; /* reuse: n entries */
    for (size_t i = 0; i < n; i++)
        dg[i] = C[i * n + i] + logdet;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            C[i * n + j] -= 0.5 * (dg[i] + dg[j]);
    return PK_OK;
}

/* Profile classification log-likelihood of hard labels with per-cluster ML covariances (ridged). */
static double label_loglik(const double *Xc, size_t n, size_t d, size_t k, const int32_t *lab, double reg,
                           double *S, double *Z, double *C, double *ZX, double *Y, double *L)
{
    double ll = 0;
    for (size_t c = 0; c < k; c++) {
        size_t nk = 0;
        for (size_t i = 0; i < n; i++)
            nk += lab[i] == (int32_t)c;
        if (nk == 0)
            continue;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                Z[i * n + j] = (lab[i] == (int32_t)c && lab[j] == (int32_t)c) ? 1.0 / (double)nk : 0;
        cov_from_block(Xc, n, d, Z, 0, reg, S, ZX);
        if (nk < 2 || block_cost(Xc, n, d, S, C, Y, L) != PK_OK)
            return -INFINITY;
        double s = 0; /* 1/2 <C, Z> = contribution of cluster c */
        for (size_t i = 0; i < n * n; i++)
            s += C[i] * Z[i];
        ll += 0.5 * s - 0.5 * (double)nk * (double)d * LOG_2PI;
    }
    return ll;
}

int pk_ilasdp(const pk_mat *X, const pk_ilasdp_params *p, pk_rng *rng, pk_ilasdp_result **out, pk_err *err)
{
    if (!X || !p || !rng || !out)
        return pk_err_set(err, PK_EINVAL, "ila-sdp: NULL argument");
    *out = NULL;
    size_t n = X->rows, d = X->cols, k = p->sdp.k;
    if (k < 2 || k > n)
        return pk_err_set(err, PK_EINVAL, "ila-sdp: need 2 <= k <= n (k = %zu, n = %zu points)", k, n);
    if (p->max_outer < 1 || !(p->reg >= 0) || p->shrink > 1)
        return pk_err_set(err, PK_EINVAL, "ila-sdp: max_outer >= 1, reg >= 0 and shrink <= 1 are required");
    int st = pk_cluster_check_finite(X, "ila-sdp", err);
    if (st)
        return st;
    size_t nn = n * n;
    pk_ilasdp_result *r = calloc(1, sizeof *r);
    double *Xc = malloc(n * d * sizeof(double)), *Z = calloc(k * nn, sizeof(double));
    double *C = malloc(k * nn * sizeof(double)), *S = malloc(k * d * d * sizeof(double));
    double *ZX = malloc((n * (n > d ? n : d) + n) * sizeof(double)), *Y = malloc(n * d * sizeof(double));
    double *L = malloc(d * d * sizeof(double));
    int32_t *lab = malloc(n * sizeof(int32_t));
    double *dual = calloc(2 * k * nn, sizeof(double));
    pk_sdp_admm_info info = {0, 0, 0, 0, 0};
    if (r) {
        r->labels = malloc(n * sizeof(int32_t));
        r->Zsum = malloc(nn * sizeof(double));
        r->covs = malloc(k * d * d * sizeof(double));
    }
    if (!r || !dual || !Xc || !Z || !C || !S || !ZX || !Y || !L || !lab || !r->labels || !r->Zsum || !r->covs) {
        st = pk_err_set(err, PK_ENOMEM, "ila-sdp: out of memory (n = %zu needs ~%zu MB)", n,
                        (2 * k + 2) * nn * 8 / 1000000);
        goto done;
    }
    r->n = n;
    r->k = k;
    r->d = d;
    for (size_t t = 0; t < d; t++) {
        double m = 0;
        for (size_t i = 0; i < n; i++)
            m += *pk_mat_at(X, i, t);
        m /= (double)n;
        for (size_t i = 0; i < n; i++)
            Xc[i * d + t] = *pk_mat_at(X, i, t) - m;
    }
    /* initial partition: given, else the Peng-Wei SDP (the paper's starting point) */
    if (p->init_labels) {
        for (size_t i = 0; i < n; i++) {
            if (p->init_labels[i] < 0 || (size_t)p->init_labels[i] >= k) {
                st = pk_err_set(err, PK_EINVAL, "ila-sdp: init label %d of point %zu is outside 0..%zu",
                                p->init_labels[i], i + 1, k - 1);
                goto done;
            }
            lab[i] = p->init_labels[i];
        }
    } else {
        pk_sdp_result *s0 = NULL;
        st = pk_sdp_kmeans(X, &p->sdp, rng, &s0, err);
        if (st)
            goto done;
        memcpy(lab, s0->labels, n * sizeof(int32_t));
        pk_sdp_result_free(s0);
    }
    /* Z_k from the partition, then S_k from Z_k */
    for (size_t c = 0; c < k; c++) {
        size_t nk = 0;
        for (size_t i = 0; i < n; i++)
            nk += lab[i] == (int32_t)c;
        if (nk < 2) {
            st = pk_err_set(err, PK_EINVAL, "ila-sdp: initial cluster %zu has %zu point(s); need >= 2 per cluster",
                            c, nk);
            goto done;
        }
        double *Zk = Z + c * nn;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                Zk[i * n + j] = (lab[i] == (int32_t)c && lab[j] == (int32_t)c) ? 1.0 / (double)nk : 0;
        cov_from_block(Xc, n, d, Zk, p->shrink, p->reg, S + c * d * d, ZX);
    }
    r->converged = 0;
    int outer;
    for (outer = 1; outer <= p->max_outer; outer++) {
        for (size_t c = 0; c < k; c++) {
            st = block_cost(Xc, n, d, S + c * d * d, C + c * nn, Y, L);
            if (st) {
                st = pk_err_set(err, PK_ESING, "ila-sdp: covariance of cluster %zu is singular (reg = %g)", c,
                                p->reg);
                goto done;
            }
        }
#ifdef PK_ILA_DEBUG
        fprintf(stderr, "outer %d\n", outer);
#endif
        st = pk_sdp_admm(C, n, k, 1.0, &p->sdp, Z, dual, &info);
        if (st) {
            pk_err_set(err, st, "ila-sdp: ADMM failed (%s)", pk_strerror(st));
            goto done;
        }
        size_t changed = 0;
#ifdef PK_ILA_DEBUG
        fprintf(stderr, "admm iters %d conv %d pres %g dres %g rho %g\n", info.n_iter, info.converged, info.primal_res, info.dual_res, info.rho);
#endif
        for (size_t i = 0; i < n; i++) {
            size_t best = 0;
            double bw = -INFINITY;
            for (size_t c = 0; c < k; c++) {
                double w = 0;
                for (size_t j = 0; j < n; j++)
                    w += Z[c * nn + i * n + j];
                if (w > bw) {
                    bw = w;
                    best = c;
                }
            }
            if (lab[i] != (int32_t)best)
                changed++;
            lab[i] = (int32_t)best;
        }
        for (size_t c = 0; c < k; c++)
            cov_from_block(Xc, n, d, Z + c * nn, p->shrink, p->reg, S + c * d * d, ZX);
        if (changed == 0 && outer > 1) {
            r->converged = 1;
            break;
        }
    }
    r->n_outer = outer > p->max_outer ? p->max_outer : outer;
    memcpy(r->labels, lab, n * sizeof(int32_t));
    memcpy(r->covs, S, k * d * d * sizeof(double));
    memset(r->Zsum, 0, nn * sizeof(double));
    for (size_t c = 0; c < k; c++)
        for (size_t i = 0; i < nn; i++)
            r->Zsum[i] += Z[c * nn + i];
    /* Z and C are free now: reuse them as scratch for the log-likelihood */
    r->loglik = label_loglik(Xc, n, d, k, lab, p->reg, S, Z, C, ZX, Y, L);
    *out = r;
    r = NULL;
    st = PK_OK;
done:
    pk_ilasdp_result_free(r);
    free(Xc);
    free(Z);
    free(C);
    free(S);
    free(ZX);
    free(Y);
    free(L);
    free(lab);
    free(dual);
    return st;
}
