#include <stdlib.h>

#include "pk_test.h"
#include "probkit/linalg.h"
#include "probkit/rng.h"

static pk_mat *random_mat(pk_rng *r, size_t m, size_t n)
{
    pk_mat *A = pk_mat_new(m, n);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++)
            *pk_mat_at(A, i, j) = pk_rng_normal(r);
    return A;
}

static double max_abs_diff(const pk_mat *A, const pk_mat *B)
{
    double d = 0;
    for (size_t i = 0; i < A->rows; i++)
        for (size_t j = 0; j < A->cols; j++)
            d = fmax(d, fabs(*pk_mat_at(A, i, j) - *pk_mat_at(B, i, j)));
    return d;
}

int main(void)
{
    pk_rng r;
    pk_rng_seed(&r, 3);
    const size_t n = 8;
    pk_mat *X = random_mat(&r, 20, n), *S = pk_mat_new(n, n);
    PK_CHECK_OK(pk_syrk(1, 1.0, X, 0.0, S)); /* S = X^T X, SPD */
    pk_mat *S2 = pk_mat_new(n, n);
    PK_CHECK_OK(pk_gemm(1, 0, 1.0, X, X, 0.0, S2));
    PK_CHECK(max_abs_diff(S, S2) < 1e-12);

    /* Cholesky: L L^T = S, solve, logdet, inverse. */
    pk_mat *L = pk_mat_dup(S);
    double jit;
    PK_CHECK_OK(pk_cholesky(L, 1e-10, 5, &jit));
    PK_CHECK(jit == 0.0);
    pk_mat *LLt = pk_mat_new(n, n);
    pk_gemm(0, 1, 1.0, L, L, 0.0, LLt);
    PK_CHECK(max_abs_diff(LLt, S) < 1e-10);
    pk_mat *B = random_mat(&r, n, 3), *Xs = pk_mat_dup(B), *SB = pk_mat_new(n, 3);
    PK_CHECK_OK(pk_cholesky_solve(L, Xs));
    pk_gemm(0, 0, 1.0, S, Xs, 0.0, SB);
    PK_CHECK(max_abs_diff(SB, B) < 1e-9);
    pk_mat *Slu = pk_mat_dup(S);
    double lad;
    int sign;
    PK_CHECK_OK(pk_logdet_lu(Slu, &lad, &sign));
    PK_CHECK(sign == 1);
    PK_CHECK_CLOSE(pk_cholesky_logdet(L), lad, 1e-10, 1e-12);
    pk_mat *Inv = pk_mat_new(n, n), *I = pk_mat_new(n, n), *Id = pk_mat_new(n, n);
    PK_CHECK_OK(pk_cholesky_inverse(L, Inv));
    pk_gemm(0, 0, 1.0, S, Inv, 0.0, I);
    pk_mat_set_identity(Id);
    PK_CHECK(max_abs_diff(I, Id) < 1e-10);

    /* Jitter escalation rescues a PSD-but-singular matrix; without jitter it fails. */
    pk_mat *v = random_mat(&r, n, 1), *R1 = pk_mat_new(n, n);
    pk_syrk(0, 1.0, v, 0.0, R1);
    pk_mat *R1b = pk_mat_dup(R1);
    PK_CHECK(pk_cholesky(R1b, 0.0, 0, NULL) == PK_ESING);
    PK_CHECK_OK(pk_cholesky(R1, 1e-8, 8, &jit));
    PK_CHECK(jit > 0.0);
    pk_mat *nonsq = pk_mat_new(2, 3);
    PK_CHECK(pk_cholesky(nonsq, 0, 0, NULL) == PK_ESHAPE);

    /* Symmetric eigen: S V = V diag(w), ascending. */
    pk_mat *V = pk_mat_dup(S), *SV = pk_mat_new(n, n), *VW = pk_mat_new(n, n);
    double w[8];
    PK_CHECK_OK(pk_syev(V, w));
    for (size_t i = 1; i < n; i++)
        PK_CHECK(w[i] >= w[i - 1]);
    pk_gemm(0, 0, 1.0, S, V, 0.0, SV);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            *pk_mat_at(VW, i, j) = *pk_mat_at(V, i, j) * w[j];
    PK_CHECK(max_abs_diff(SV, VW) < 1e-9);

    /* SVD reconstructs; singular values descending and match sqrt(eig(X^T X)). */
    pk_mat *Xc = pk_mat_dup(X), *U = pk_mat_new(20, n), *Vt = pk_mat_new(n, n), *US = pk_mat_new(20, n),
           *Xr = pk_mat_new(20, n);
    double sv[8];
    PK_CHECK_OK(pk_svd(Xc, U, sv, Vt));
    for (size_t i = 0; i < 20; i++)
        for (size_t j = 0; j < n; j++)
            *pk_mat_at(US, i, j) = *pk_mat_at(U, i, j) * sv[j];
    pk_gemm(0, 0, 1.0, US, Vt, 0.0, Xr);
    PK_CHECK(max_abs_diff(Xr, X) < 1e-10);
    for (size_t i = 0; i < n; i++)
        PK_CHECK_CLOSE(sv[i] * sv[i], w[n - 1 - i], 1e-9, 1e-9);

    /* General solve and shape errors. */
    pk_mat *A = random_mat(&r, 5, 5), *A0 = pk_mat_dup(A), *b = random_mat(&r, 5, 2), *b0 = pk_mat_dup(b),
           *Ab = pk_mat_new(5, 2);
    PK_CHECK_OK(pk_solve(A, b));
    pk_gemm(0, 0, 1.0, A0, b, 0.0, Ab);
    PK_CHECK(max_abs_diff(Ab, b0) < 1e-10);
    pk_mat *Z = pk_mat_new(3, 3);
    pk_mat *zb = pk_mat_new(3, 1);
    PK_CHECK(pk_solve(Z, zb) == PK_ESING);
    PK_CHECK(pk_gemm(0, 0, 1.0, A0, X, 0.0, Ab) == PK_ESHAPE);

    /* gemv both ways against gemm. */
    double xv[8], y1[20], y2[8];
    for (size_t i = 0; i < n; i++)
        xv[i] = pk_rng_normal(&r);
    pk_gemv(0, 1.0, X, xv, 0.0, y1);
    double chk = 0;
    for (size_t j = 0; j < n; j++)
        chk += *pk_mat_at(X, 3, j) * xv[j];
    PK_CHECK_CLOSE(y1[3], chk, 1e-12, 1e-12);
    pk_gemv(1, 1.0, X, y1, 0.0, y2);
    PK_CHECK(isfinite(y2[0]));

    /* Views address the parent's memory. */
    pk_mat rows = pk_mat_rows(X, 5, 2);
    PK_CHECK(pk_mat_at(&rows, 1, 2) == pk_mat_at(X, 6, 2));

    pk_mat *all[] = {X, S, S2, L, LLt, B, Xs, SB, Slu, Inv, I, Id, v, R1, R1b, nonsq, V, SV, VW, Xc, U, Vt, US, Xr,
                     A, A0, b, b0, Ab, Z, zb};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        pk_mat_free(all[i]);
    pk_mat_free(NULL);
    return pk_test_done();
}
