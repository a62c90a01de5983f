/* Gradients of the network and of the sliced Wasserstein distance against
 * central differences; shapes, argument errors and the JSON file round trip. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "funcprior_priv.h"
#include "pk_test.h"
#include "probkit/funcprior.h"
#include "probkit/io.h"

/* sum_i G_i f_i(theta) through the public forward pass */
static double weighted_out(const pk_funcprior_net *net, const double *theta, const pk_mat *X, const double *G)
{
    double f[16], s = 0;
    pk_funcprior_forward(net, theta, X, f, NULL);
    for (size_t i = 0; i < X->rows; i++)
        s += G[i] * f[i];
    return s;
}

static void check_net_grad(pk_funcprior_act act)
{
    pk_funcprior_net net = {3, 2, {5, 4}, act};
    size_t P = pk_funcprior_nparams(&net);
    PK_CHECK(P == (size_t)(5 * 4 + 4 * 6 + 1 * 5));
    pk_rng rng;
    pk_rng_seed(&rng, 7);
    pk_mat *X = pk_mat_new(6, 3);
    double theta[64], g[64] = {0}, G[6];
    for (size_t i = 0; i < 18; i++)
        X->data[i] = pk_rng_normal(&rng);
    for (size_t k = 0; k < P; k++)
        theta[k] = 0.7 * pk_rng_normal(&rng);
    for (int i = 0; i < 6; i++)
        G[i] = pk_rng_normal(&rng);
    fp_ws w;
    PK_CHECK_OK(fp_ws_init(&w, &net, 6));
    fp_forward(&w, theta, X->data, X->stride, 6);
    fp_backward(&w, theta, X->data, X->stride, 6, G, g);
    fp_ws_free(&w);
    int checked = 0;
    for (size_t k = 0; k < P; k++) {
        double h = 1e-5, save = theta[k];
        theta[k] = save + h;
        double up = weighted_out(&net, theta, X, G);
        theta[k] = save - h;
        double dn = weighted_out(&net, theta, X, G);
        theta[k] = save;
        double fd = (up - dn) / (2 * h);
        if (act == PK_FUNCPRIOR_RELU && fabs(fd - g[k]) > 1e-4 && fabs(fd - g[k]) > 1e-4 * fabs(fd))
            continue; /* a ReLU kink inside [theta-h, theta+h]: skip, as ggml does */
        PK_CHECK_CLOSE(g[k], fd, 1e-6, 1e-5);
        checked++;
    }
    PK_CHECK(checked > (int)P * 9 / 10);
    pk_mat_free(X);
}

static void check_sliced_grad(int p)
{
    size_t n = 8, M = 3;
    pk_rng rng;
    pk_rng_seed(&rng, 11);
    pk_mat *A = pk_mat_new(n, M), *B = pk_mat_new(n, M), *gA = pk_mat_new(n, M);
    for (size_t i = 0; i < n * M; i++)
        A->data[i] = pk_rng_normal(&rng), B->data[i] = 2.0 * pk_rng_normal(&rng) + 0.5;
    double d0;
    pk_rng r0 = rng;
    PK_CHECK_OK(pk_funcprior_sliced_wasserstein(A, B, 16, p, &r0, &d0, gA, NULL));
    PK_CHECK(d0 > 0);
    for (size_t k = 0; k < n * M; k++) {
        double h = 1e-6, save = A->data[k], up, dn;
        pk_rng r1 = rng, r2 = rng; /* the same directions */
        A->data[k] = save + h;
        pk_funcprior_sliced_wasserstein(A, B, 16, p, &r1, &up, NULL, NULL);
        A->data[k] = save - h;
        pk_funcprior_sliced_wasserstein(A, B, 16, p, &r2, &dn, NULL, NULL);
        A->data[k] = save;
        PK_CHECK_CLOSE(gA->data[k], (up - dn) / (2 * h), 1e-6, 1e-4);
    }
    /* identical samples are at distance 0 */
    double dz;
    PK_CHECK_OK(pk_funcprior_sliced_wasserstein(A, A, 8, p, &rng, &dz, NULL, NULL));
    PK_CHECK_CLOSE(dz, 0.0, 1e-12, 0);
    /* a shift by c along every coordinate: W_p of the projections is |c u.1|, so
     * W_1 averages |c| |sum u| over directions; it must be positive and scale with c */
    pk_mat *C = pk_mat_dup(A);
    for (size_t i = 0; i < n * M; i++)
        C->data[i] += 1.0;
    double d1, d2;
    pk_rng r3 = rng, r4 = rng;
    pk_funcprior_sliced_wasserstein(C, A, 32, p, &r3, &d1, NULL, NULL);
    for (size_t i = 0; i < n * M; i++)
        C->data[i] += 1.0;
    pk_funcprior_sliced_wasserstein(C, A, 32, p, &r4, &d2, NULL, NULL);
    PK_CHECK_CLOSE(d2, 2 * d1, 1e-9, 1e-9);
    pk_mat_free(A), pk_mat_free(B), pk_mat_free(gA), pk_mat_free(C);
}

static void check_errors_and_file(void)
{
    pk_err err = {0};
    pk_funcprior_net bad = {0, 1, {4}, PK_FUNCPRIOR_TANH};
    PK_CHECK(pk_funcprior_net_check(&bad, &err) == PK_EINVAL);
    PK_CHECK(strstr(err.msg, "in_dim") != NULL);
    PK_CHECK(pk_funcprior_nparams(&bad) == 0);
    pk_funcprior_net net = {2, 1, {4}, PK_FUNCPRIOR_RELU};
    pk_funcprior_prior pr = pk_funcprior_prior_iid(&net, 1.0);
    PK_CHECK_CLOSE(pr.w_std[0], sqrt(2.0), 1e-15, 0);
    PK_CHECK_CLOSE(pr.w_std[1], 2.0, 1e-15, 0);
    double sd[17];
    pk_funcprior_prior_sd(&net, &pr, sd);
    for (int k = 0; k < 17; k++)
        PK_CHECK_CLOSE(sd[k], 1.0, 1e-15, 1e-15);
    pr.b_std[1] = -1;
    PK_CHECK(pk_funcprior_prior_check(&net, &pr, &err) == PK_EINVAL);
    PK_CHECK(strstr(err.msg, "b_std[1]") != NULL);
    pr.b_std[1] = 0.25;
    pk_funcprior_match_params mp = pk_funcprior_match_params_default();
    mp.p = 3;
    PK_CHECK(pk_funcprior_match_params_check(&mp, &err) == PK_EINVAL);
    pk_funcprior_post_params pp = pk_funcprior_post_params_default();
    pp.burn = pp.iters;
    PK_CHECK(pk_funcprior_post_params_check(&pp, &err) == PK_EINVAL);
    pk_mat *X = pk_mat_new(3, 3);
    double f[3], theta[17] = {0};
    PK_CHECK(pk_funcprior_forward(&net, theta, X, f, &err) == PK_EINVAL);
    PK_CHECK(strstr(err.msg, "columns") != NULL);
    pk_mat_free(X);

    char path[256];
    snprintf(path, sizeof path, "funcprior_test_%d.json", (int)getpid());
    PK_CHECK_OK(pk_funcprior_save(path, &net, &pr, "{\"note\": \"test\"}", &err));
    pk_funcprior_net n2;
    pk_funcprior_prior p2;
    PK_CHECK_OK(pk_funcprior_load(path, &n2, &p2, &err));
    PK_CHECK(n2.in_dim == 2 && n2.n_hidden == 1 && n2.hidden[0] == 4 && n2.act == PK_FUNCPRIOR_RELU);
    for (int l = 0; l < 2; l++) {
        PK_CHECK(p2.w_std[l] == pr.w_std[l]);
        PK_CHECK(p2.b_std[l] == pr.b_std[l]);
    }
    PK_CHECK(pk_funcprior_save(path, &net, &pr, "[1]", &err) == PK_EINVAL);
    FILE *fp = fopen(path, "w");
    fputs("{\"format\": \"probkit-funcprior\", \"version\": 1, \"in_dim\": 2, \"hidden\": [4], "
          "\"activation\": \"tanh\", \"w_std\": [1, 0], \"b_std\": [1, 1]}",
          fp);
    fclose(fp);
    PK_CHECK(pk_funcprior_load(path, &n2, &p2, &err) == PK_EFORMAT);
    PK_CHECK(strstr(err.msg, "w_std[1]") != NULL);
    fp = fopen(path, "w");
    fputs("{\"format\": \"other\"}", fp);
    fclose(fp);
    PK_CHECK(pk_funcprior_load(path, &n2, &p2, &err) == PK_EFORMAT);
    remove(path);
    PK_CHECK(pk_funcprior_load(path, &n2, &p2, &err) == PK_EIO);
}

/* In one dimension the sliced distance is the exact W1: scipy's value. */
static void check_scipy_w1(void)
{
    pk_table *t = NULL;
    pk_err err = {0};
    PK_CHECK_OK(pk_csv_read(PK_FIXTURES "/funcprior/w1_scipy.csv", NULL, &t, &err));
    if (!t)
        return;
    size_t n = t->nrows - 1;
    pk_mat *A = pk_mat_new(n, 1), *B = pk_mat_new(n, 1);
    for (size_t i = 0; i < n; i++)
        A->data[i] = t->values[2 * i], B->data[i] = t->values[2 * i + 1];
    double ref = t->values[2 * n], d = 0;
    pk_rng rng;
    pk_rng_seed(&rng, 1);
    PK_CHECK_OK(pk_funcprior_sliced_wasserstein(A, B, 5, 1, &rng, &d, NULL, &err));
    PK_CHECK_CLOSE(d, ref, 1e-12, 1e-12);
    pk_mat_free(A), pk_mat_free(B);
    pk_table_free(t);
}

int main(void)
{
    check_scipy_w1();
    check_net_grad(PK_FUNCPRIOR_TANH);
    check_net_grad(PK_FUNCPRIOR_RELU);
    check_sliced_grad(1);
    check_sliced_grad(2);
    check_errors_and_file();
    return pk_test_done();
}
