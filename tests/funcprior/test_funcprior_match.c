/* Wasserstein prior matching: a linear model matched to the GP with the
 * linear kernel it induces recovers the kernel's scales exactly (up to Monte
 * Carlo error); a tanh network matched to an RBF GP ends closer to it, both
 * in distance and in the covariance of its function values. */
#include <math.h>
#include <stdio.h>

#include "pk_test.h"
#include "probkit/funcprior.h"

static void check_linear_recovery(void)
{
    /* f(x) = w.x + b, w ~ N(0, sw^2/d), b ~ N(0, sb^2): k(x, y) = sb^2 + (sw^2/d) x.y */
    const double sw = 1.5, sb = 0.7;
    const int d = 2;
    pk_funcprior_net net = {d, 0, {0}, PK_FUNCPRIOR_TANH};
    pk_gp_kernel *k = pk_gp_kernel_new(PK_GP_KERNEL_LINEAR, d, 0, 1);
    double th[2] = {log(sw * sw / d), log(sb * sb)};
    pk_gp_kernel_set_params(k, th);
    pk_funcprior_prior pr = pk_funcprior_prior_iid(&net, 1.0);
    pr.w_std[0] = 0.3, pr.b_std[0] = 3.0;
    pk_funcprior_match_params mp = pk_funcprior_match_params_default();
    mp.steps = 400, mp.n_samples = 128, mp.n_measure = 8, mp.n_proj = 32, mp.lr = 0.05, mp.p = 2;
    pk_rng rng;
    pk_rng_seed(&rng, 3);
    double trace[400];
    pk_err err = {0};
    PK_CHECK_OK(pk_funcprior_match(&net, k, NULL, &mp, &rng, &pr, trace, &err));
    double first = 0, last = 0;
    for (int i = 0; i < 20; i++)
        first += trace[i] / 20, last += trace[380 + i] / 20;
    printf("linear: w_std %.4f (target %.4f), b_std %.4f (target %.4f); distance %.4f -> %.4f\n", pr.w_std[0], sw,
           pr.b_std[0], sb, first, last);
    PK_CHECK_CLOSE(pr.w_std[0], sw, 0, 0.1);
    PK_CHECK_CLOSE(pr.b_std[0], sb, 0, 0.1);
    PK_CHECK(last < 0.5 * first);
    pk_gp_kernel_free(k);
}

/* Frobenius norm of (C - K) relative to that of K. */
static double cov_error(const pk_funcprior_net *net, const pk_funcprior_prior *pr, const pk_gp_kernel *k,
                        const pk_mat *X, pk_rng *rng)
{
    size_t n = X->rows;
    pk_mat *C = pk_mat_new(n, n), *K = pk_mat_new(n, n);
    PK_CHECK_OK(pk_funcprior_cov(net, pr, X, 2000, rng, C, NULL));
    PK_CHECK_OK(pk_gp_kernel_matrix(k, X, X, 1, K));
    double num = 0, den = 0;
    for (size_t i = 0; i < n * n; i++)
        num += (C->data[i] - K->data[i]) * (C->data[i] - K->data[i]), den += K->data[i] * K->data[i];
    pk_mat_free(C), pk_mat_free(K);
    return sqrt(num / den);
}

static void check_rbf(void)
{
    pk_funcprior_net net = {1, 2, {32, 32}, PK_FUNCPRIOR_TANH};
    pk_gp_kernel *k = pk_gp_kernel_new(PK_GP_KERNEL_SE, 1, 0, 1);
    double th[2] = {log(1.0), log(1.0)}; /* sf2 = 1, ell = 1 */
    pk_gp_kernel_set_params(k, th);
    pk_funcprior_prior pr = pk_funcprior_prior_iid(&net, 1.0), pr0 = pr;
    pk_funcprior_match_params mp = pk_funcprior_match_params_default();
    mp.steps = 400, mp.n_samples = 64, mp.n_measure = 16, mp.n_proj = 32, mp.lr = 0.05;
    pk_rng rng;
    pk_rng_seed(&rng, 5);
    double trace[400];
    pk_err err = {0};
    PK_CHECK_OK(pk_funcprior_match(&net, k, NULL, &mp, &rng, &pr, trace, &err));
    pk_mat *X = pk_mat_new(12, 1);
    for (int i = 0; i < 12; i++)
        X->data[i] = -3.0 + 6.0 * i / 11.0;
    double d0, d1;
    pk_rng r0, r1;
    pk_rng_seed(&r0, 9), pk_rng_seed(&r1, 9);
    PK_CHECK_OK(pk_funcprior_distance(&net, &pr0, k, X, 256, 64, 1, 0.0, 4, &r0, &d0, &err));
    PK_CHECK_OK(pk_funcprior_distance(&net, &pr, k, X, 256, 64, 1, 0.0, 4, &r1, &d1, &err));
    double e0 = cov_error(&net, &pr0, k, X, &rng), e1 = cov_error(&net, &pr, k, X, &rng);
    printf("rbf: distance %.4f -> %.4f, covariance error %.3f -> %.3f; w_std", d0, d1, e0, e1);
    for (int l = 0; l < 3; l++)
        printf(" %.3f", pr.w_std[l]);
    printf(", b_std");
    for (int l = 0; l < 3; l++)
        printf(" %.3f", pr.b_std[l]);
    printf("\n");
    PK_CHECK(d1 < 0.5 * d0);
    PK_CHECK(e1 < 0.5 * e0);
    /* a finite tanh net cannot make the RBF's short correlations exactly (nor
     * a stationary variance); its average marginal variance it can */
    pk_mat *C = pk_mat_new(12, 12);
    PK_CHECK_OK(pk_funcprior_cov(&net, &pr, X, 2000, &rng, C, NULL));
    double v = 0;
    for (int i = 0; i < 12; i++)
        v += *pk_mat_at(C, i, i) / 12;
    PK_CHECK_CLOSE(v, 1.0, 0, 0.2);
    pk_mat_free(C);
    pk_mat_free(X);
    pk_gp_kernel_free(k);
}

/* The two samplers behind the distance: GP draws have the kernel's
 * covariance, and a linear model's prior draws the analytic variance
 * sb^2 + sw^2 |x|^2 / d. */
static void check_samplers(void)
{
    enum { NS = 20000 };
    pk_rng rng;
    pk_rng_seed(&rng, 17);
    pk_mat *X = pk_mat_new(3, 2), *F = pk_mat_new(NS, 3);
    double xs[6] = {0.5, -1.0, 2.0, 0.3, -0.7, -0.7};
    for (int i = 0; i < 6; i++)
        X->data[i] = xs[i];
    pk_gp_kernel *k = pk_gp_kernel_new(PK_GP_KERNEL_SE, 2, 0, 1);
    double th[2] = {log(2.0), log(1.5)};
    pk_gp_kernel_set_params(k, th);
    PK_CHECK_OK(pk_funcprior_gp_sample(k, X, NS, &rng, F, NULL));
    for (int i = 0; i < 3; i++)
        for (int j = 0; j <= i; j++) {
            double c = 0;
            for (int s = 0; s < NS; s++)
                c += *pk_mat_at(F, s, i) * *pk_mat_at(F, s, j) / NS;
            double kij = pk_gp_kernel_eval(k, pk_mat_at(X, i, 0), pk_mat_at(X, j, 0), NULL);
            PK_CHECK_CLOSE(c, kij, 5 * 2.0 * sqrt(2.0 / NS), 0); /* sd of a product moment <= sf2 sqrt(2/n) */
        }
    pk_funcprior_net lin = {2, 0, {0}, PK_FUNCPRIOR_RELU};
    pk_funcprior_prior pr = pk_funcprior_prior_iid(&lin, 1.0);
    pr.w_std[0] = 1.3, pr.b_std[0] = 0.4;
    PK_CHECK_OK(pk_funcprior_sample_functions(&lin, &pr, X, NS, &rng, F, NULL));
    for (int i = 0; i < 3; i++) {
        double v = 0, x2 = xs[2 * i] * xs[2 * i] + xs[2 * i + 1] * xs[2 * i + 1];
        for (int s = 0; s < NS; s++)
            v += *pk_mat_at(F, s, i) * *pk_mat_at(F, s, i) / NS;
        double ev = 0.16 + 1.69 * x2 / 2;
        PK_CHECK_CLOSE(v, ev, 0, 5 * sqrt(2.0 / NS));
    }
    pk_err err = {0};
    pk_mat *bad = pk_mat_new(2, 2); /* needs 2 x 3 */
    PK_CHECK(pk_funcprior_gp_sample(k, X, 2, &rng, bad, &err) == PK_EINVAL);
    pk_mat_free(bad), pk_mat_free(X), pk_mat_free(F);
    pk_gp_kernel_free(k);
}

int main(void)
{
    check_samplers();
    check_linear_recovery();
    check_rbf();
    return pk_test_done();
}
