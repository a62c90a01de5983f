/* Kernel matrices and the marginal-likelihood gradient contraction (the
 * row-wise fast paths for SE / Matern leaves, threaded above ~250k pairs)
 * against pair-by-pair evaluation through pk_gp_kernel_eval. */
#include <math.h>
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/gp.h"

static void check_one(pk_gp_kernel *k, size_t n, size_t m, pk_rng *rng, const char *what)
{
    size_t d = pk_gp_kernel_dim(k), np = pk_gp_kernel_nparams(k);
    double th[16], g[16] = {0}, ref[16] = {0}, tmp[16];
    for (size_t p = 0; p < np; p++)
        th[p] = 0.6 * (pk_rng_uniform(rng) - 0.5);
    pk_gp_kernel_set_params(k, th);
    pk_mat *X = pk_mat_new(n, d), *Xs = pk_mat_new(m, d), *K = pk_mat_new(n, n), *Kc = pk_mat_new(n, m);
    pk_mat *W = pk_mat_new(n, n);
    for (size_t i = 0; i < n * d; i++)
        X->data[i] = pk_rng_normal(rng);
    for (size_t i = 0; i < m * d; i++)
        Xs->data[i] = pk_rng_normal(rng);
    for (size_t j = 0; j < d; j++) /* a repeated input: r = 0 off the diagonal */
        *pk_mat_at(X, 1, j) = *pk_mat_at(X, 0, j);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++)
            *pk_mat_at(W, i, j) = *pk_mat_at(W, j, i) = pk_rng_normal(rng);
    PK_CHECK_OK(pk_gp_kernel_matrix(k, X, X, 1, K));
    PK_CHECK_OK(pk_gp_kernel_matrix(k, X, Xs, 0, Kc));
    double err = 0, errc = 0;
    for (size_t i = 0; i < n; i++) {
        const double *xi = pk_mat_at(X, i, 0);
        for (size_t j = 0; j < n; j++) {
            double v = pk_gp_kernel_eval(k, xi, pk_mat_at(X, j, 0), tmp);
            err = fmax(err, fabs(*pk_mat_at(K, i, j) - v));
            for (size_t p = 0; p < np; p++)
                ref[p] += *pk_mat_at(W, i, j) * tmp[p];
        }
        for (size_t j = 0; j < m; j++)
            errc = fmax(errc, fabs(*pk_mat_at(Kc, i, j) - pk_gp_kernel_eval(k, xi, pk_mat_at(Xs, j, 0), NULL)));
    }
    PK_CHECK_MSG(err < 1e-13 && errc < 1e-13, "%s: matrix differs by %g / %g", what, err, errc);
    PK_CHECK_OK(pk_gp_kernel_grad_contract(k, X, W, g));
    for (size_t p = 0; p < np; p++)
        PK_CHECK_MSG(fabs(g[p] - ref[p]) <= 1e-9 * (1 + fabs(ref[p])), "%s: contraction[%zu] %.12g vs %.12g", what, p,
                     g[p], ref[p]);
    pk_mat_free(X);
    pk_mat_free(Xs);
    pk_mat_free(K);
    pk_mat_free(Kc);
    pk_mat_free(W);
}

int main(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 7);
    static const char *names[] = {"se", "m12", "m32", "m52"};
    char what[64];
    for (int t = PK_GP_KERNEL_SE; t <= PK_GP_KERNEL_MATERN52; t++) {
        for (int ard = 0; ard < 2; ard++) {
            /* 40 points: serial loops; 760 points: the threaded ones */
            for (size_t n = 40; n <= 760; n += 720) {
                pk_gp_kernel *k = pk_gp_kernel_new((pk_gp_kernel_type)t, 3, ard, 0);
                snprintf(what, sizeof what, "%s ard=%d n=%zu", names[t], ard, n);
                check_one(k, n, 17, &rng, what);
                pk_gp_kernel_free(k);
            }
        }
    }
    /* a product tree takes the generic pair-by-pair path */
    pk_gp_kernel *pr = pk_gp_kernel_combine(PK_GP_KERNEL_PRODUCT, pk_gp_kernel_new(PK_GP_KERNEL_SE, 3, 1, 0),
                                            pk_gp_kernel_new(PK_GP_KERNEL_LINEAR, 3, 0, 0));
    check_one(pr, 30, 5, &rng, "se*linear");
    pk_gp_kernel_free(pr);
    return pk_test_done();
}
