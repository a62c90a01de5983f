/* SDP clustering by ADMM: the Peng-Wei relaxation of K-means (one block, tr Z = K) and the
 * group-specific K-block relaxation used by iLA-SDP (tr Z_k = 1, sum_k Z_k 1 = 1).
 *
 * Problem (B blocks of n x n, tau = trace of each block):
 *     maximise sum_b <C_b, Z_b>  s.t.  Z_b PSD, Z_b >= 0, tr Z_b = tau, sum_b Z_b 1 = 1.
 * ADMM splits Z (affine set, carries the objective) from Y (PSD cone) and W (orthant):
 *     Z <- P_aff((Y - U + W - V) / 2 + C / (2 rho)),  Y <- P_psd(Z + U),  W <- max(Z + V, 0),
 *     U += Z - Y,  V += Z - W,
 * a two-block ADMM (Y and W separate), so it converges for any rho > 0; rho is balanced
 * against the residuals every 20 iterations. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_priv.h"
#include "sdp_priv.h"
#include "probkit/cluster.h"

pk_sdp_params pk_sdp_params_default(size_t k)
{
    pk_sdp_params p;
    p.k = k;
    p.rho = 0;
    p.max_iter = 2000;
    p.tol = 1e-5;
    return p;
}

/* Orthogonal projection of B symmetric blocks M_b onto {tr Z_b = tau, sum_b Z_b 1 = 1}:
 * Z_b = M_b - a_b I - (l 1^T + 1 l^T)/2 with multipliers solved in closed form (docs/cluster.md). */
static void proj_affine(double *M, size_t n, size_t B, double tau, double *R)
{
    double T = 0, sumR = 0, *t = R + n; /* R: n row sums, t: B traces */
    memset(R, 0, n * sizeof(double));
    for (size_t b = 0; b < B; b++) {
        const double *Mb = M + b * n * n;
        t[b] = 0;
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t j = 0; j < n; j++)
                s += Mb[i * n + j];
            R[i] += s;
            t[b] += Mb[i * n + i];
        }
        T += t[b];
    }
    for (size_t i = 0; i < n; i++)
        sumR += R[i];
    double dn = (double)n, dB = (double)B;
    double s = (sumR - dn - T + dB * tau) / (dB * (dn - 1));
    double sa = 0;
    for (size_t b = 0; b < B; b++) {
        t[b] = (t[b] - tau - s) / dn; /* alpha_b */
        sa += t[b];
    }
    for (size_t i = 0; i < n; i++)
        R[i] = 2.0 / (dB * dn) * (R[i] - 1 - sa - 0.5 * dB * s); /* lambda */
    for (size_t b = 0; b < B; b++) {
        double *Mb = M + b * n * n;
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < n; j++)
                Mb[i * n + j] -= 0.5 * (R[i] + R[j]);
            Mb[i * n + i] -= t[b];
        }
    }
}

void pk_sdp_proj_affine(double *M, size_t n, size_t B, double tau, double *work) { proj_affine(M, n, B, tau, work); }

int pk_sdp_admm(const double *C, size_t n, size_t B, double tau, const pk_sdp_params *p, double *Z, double *dual,
                pk_sdp_admm_info *info)
{
    size_t nn = n * n, tot = B * nn;
    double *Y = malloc(tot * sizeof(double)), *W = malloc(tot * sizeof(double));
    double *U = dual ? dual : calloc(2 * tot, sizeof(double)), *V = U ? U + tot : NULL;
    double *work = malloc((2 * nn + 2 * n + B) * sizeof(double));
    int st = PK_OK;
    if (!Y || !W || !U || !V || !work) {
        st = PK_ENOMEM;
        goto done;
    }
    double cn = 0;
    for (size_t i = 0; i < tot; i++)
        cn += C[i] * C[i];
    cn = sqrt(cn);
    /* |Z|_F ~ sqrt(B * tau^2 ... ): balance C / rho against a feasible Z of norm ~ sqrt(tau * B) */
    double rho = p->rho > 0 ? p->rho : (cn > 0 ? cn / sqrt(tau * (double)B) : 1.0);
    if (dual && info && info->rho > 0 && p->rho <= 0)
        rho = info->rho; /* warm start: the scaled duals belong to this rho */
    memcpy(Y, Z, tot * sizeof(double));
    memcpy(W, Z, tot * sizeof(double));
    double *T = work, *Vs = work + nn, *w = work + 2 * nn, *R = w; /* eigenvalues (n) / affine scratch (n + B) share space */
    double pres = INFINITY, dres = INFINITY;
    int it, conv = 0;
    for (it = 1; it <= p->max_iter; it++) {
        for (size_t i = 0; i < tot; i++)
            Z[i] = 0.5 * (Y[i] - U[i] + W[i] - V[i]) + C[i] / (2 * rho);
        proj_affine(Z, n, B, tau, R);
        double rp = 0, rd = 0, zn = 0;
        for (size_t b = 0; b < B; b++) {
            double *Yb = Y + b * nn;
            const double *Zb = Z + b * nn, *Ub = U + b * nn;
            for (size_t i = 0; i < nn; i++)
                T[i] = Zb[i] + Ub[i];
            int e = pk_cluster_proj_psd(T, n, w, Vs);
            if (e) {
                st = e;
                goto done;
            }
            for (size_t i = 0; i < nn; i++) {
                double dy = T[i] - Yb[i];
                rd += dy * dy;
                Yb[i] = T[i];
            }
        }
        for (size_t i = 0; i < tot; i++) {
            double wn = Z[i] + V[i];
            if (wn < 0)
                wn = 0;
            double dw = wn - W[i];
            rd += dw * dw;
            W[i] = wn;
            double a = Z[i] - Y[i], c = Z[i] - W[i];
            U[i] += a;
            V[i] += c;
            rp += a * a + c * c;
            zn += Z[i] * Z[i];
        }
        pres = sqrt(rp) / (1 + sqrt(zn));
        dres = sqrt(rd) / (1 + sqrt(zn));
        if (pres < p->tol && dres < p->tol) {
            conv = 1;
            break;
        }
        if (p->rho <= 0 && it % 20 == 0) {
            double f = 0;
            if (pres > 10 * dres)
                f = 2;
            else if (dres > 10 * pres)
                f = 0.5;
            if (f > 0) {
                rho *= f;
                for (size_t i = 0; i < tot; i++) {
                    U[i] /= f;
                    V[i] /= f;
                }
            }
        }
    }
    if (info) {
        info->n_iter = it > p->max_iter ? p->max_iter : it;
        info->converged = conv;
        info->primal_res = pres;
        info->dual_res = dres;
        info->rho = rho;
    }
    /* return the PSD iterate made non-negative: closest to feasible for rounding */
    for (size_t i = 0; i < tot; i++)
        Z[i] = 0.5 * (Y[i] + W[i]);
done:
    free(Y);
    free(W);
    if (!dual)
        free(U);
    free(work);
    return st;
}

int pk_sdp_round(const double *Z, size_t n, size_t k, pk_rng *rng, int32_t *labels)
{
    double *V = malloc(n * n * sizeof(double)), *w = malloc(n * sizeof(double)), *E = malloc(n * k * sizeof(double));
    int st = PK_OK;
    if (!V || !w || !E) {
        st = PK_ENOMEM;
        goto done;
    }
    memcpy(V, Z, n * n * sizeof(double));
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'L', (lapack_int)n, V, (lapack_int)n, w);
    if (info) {
        st = info < 0 ? PK_EINTERNAL : PK_EMAXITER;
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++) {
            size_t c = n - 1 - j;
            E[i * k + j] = V[i * n + c] * sqrt(w[c] > 0 ? w[c] : 0);
        }
    pk_mat Em = pk_mat_view(E, n, k);
    pk_kmeans_params kp = pk_kmeans_params_default(k);
    kp.n_init = 10;
    pk_kmeans *km = NULL;
    st = pk_kmeans_fit(&Em, &kp, rng, &km, NULL);
    if (!st)
        memcpy(labels, km->labels, n * sizeof(int32_t));
    pk_kmeans_free(km);
done:
    free(V);
    free(w);
    free(E);
    return st;
}

void pk_sdp_result_free(pk_sdp_result *r)
{
    if (!r)
        return;
    free(r->Z);
    free(r->labels);
    free(r);
}

int pk_sdp_kmeans_affinity(const double *A, size_t n, const pk_sdp_params *p, pk_rng *rng, pk_sdp_result **out,
                           pk_err *err)
{
    if (!A || !p || !rng || !out)
        return pk_err_set(err, PK_EINVAL, "sdp: NULL argument");
    *out = NULL;
    if (p->k < 2 || p->k > n)
        return pk_err_set(err, PK_EINVAL, "sdp: need 2 <= k <= n (k = %zu, n = %zu points)", p->k, n);
    if (p->max_iter < 1 || !(p->tol > 0) || !(p->rho >= 0))
        return pk_err_set(err, PK_EINVAL, "sdp: max_iter >= 1, tol > 0 and rho >= 0 are required");
    for (size_t i = 0; i < n * n; i++)
        if (!isfinite(A[i]))
            return pk_err_set(err, PK_EDOM, "sdp: affinity entry (%zu, %zu) is not finite", i / n + 1, i % n + 1);
    pk_sdp_result *r = calloc(1, sizeof *r);
    if (!r)
        return pk_err_set(err, PK_ENOMEM, "sdp: out of memory");
    r->n = n;
    r->k = p->k;
    r->Z = malloc(n * n * sizeof(double));
    r->labels = malloc(n * sizeof(int32_t));
    if (!r->Z || !r->labels) {
        pk_sdp_result_free(r);
        return pk_err_set(err, PK_ENOMEM, "sdp: out of memory (n = %zu needs ~%zu MB)", n, 40 * n * n / 1000000);
    }
    /* start from the centre of the feasible set: Z = (K/n) ... scaled so tr = K, rows sum to 1 */
    for (size_t i = 0; i < n * n; i++)
        r->Z[i] = 1.0 / (double)n;
    pk_sdp_admm_info info = {0, 0, 0, 0, 0};
    int st = pk_sdp_admm(A, n, 1, (double)p->k, p, r->Z, NULL, &info);
    if (!st)
        st = pk_sdp_round(r->Z, n, p->k, rng, r->labels);
    if (st) {
        pk_sdp_result_free(r);
        return pk_err_set(err, st, "sdp: ADMM failed (%s)", pk_strerror(st));
    }
    double obj = 0;
    for (size_t i = 0; i < n * n; i++)
        obj += A[i] * r->Z[i];
    r->objective = obj;
    r->primal_res = info.primal_res;
    r->dual_res = info.dual_res;
    r->n_iter = info.n_iter;
    r->converged = info.converged;
    *out = r;
    return PK_OK;
}

int pk_sdp_kmeans(const pk_mat *X, const pk_sdp_params *p, pk_rng *rng, pk_sdp_result **out, pk_err *err)
{
    if (!X || !out)
        return pk_err_set(err, PK_EINVAL, "sdp: NULL argument");
    *out = NULL;
    int st = pk_cluster_check_finite(X, "sdp", err);
    if (st)
        return st;
    size_t n = X->rows, d = X->cols;
    if (p && (p->k < 2 || p->k > n))
        return pk_err_set(err, PK_EINVAL, "sdp: need 2 <= k <= n (k = %zu, n = %zu points)", p->k, n);
    double *Xc = malloc(n * d * sizeof(double)), *A = malloc(n * n * sizeof(double));
    if (!Xc || !A) {
        free(Xc);
        free(A);
        return pk_err_set(err, PK_ENOMEM, "sdp: out of memory");
    }
    /* centring does not change the optimiser (Z 1 = 1) but conditions A */
    for (size_t t = 0; t < d; t++) {
        double m = 0;
        for (size_t i = 0; i < n; i++)
            m += *pk_mat_at(X, i, t);
        m /= (double)n;
        for (size_t i = 0; i < n; i++)
            Xc[i * d + t] = *pk_mat_at(X, i, t) - m;
    }
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)n, (int)d, 1.0, Xc, (int)d, 0.0, A, (int)n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            A[i * n + j] = A[j * n + i];
    st = pk_sdp_kmeans_affinity(A, n, p, rng, out, err);
    free(Xc);
    free(A);
    return st;
}
