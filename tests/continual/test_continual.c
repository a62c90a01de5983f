/* test_continual.c — the network's gradient, the propagated prior, exact
 * sequential inference, and a small continual run. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pk_test.h"
#include "probkit/continual.h"

static void test_mlp_gradient(void)
{
    pk_cl_mlp m = {3, 5, 4};
    size_t np = pk_cl_mlp_nparams(&m);
    PK_CHECK(np == 5 * 3 + 5 + 25 + 5 + 4 * 5 + 4);
    pk_rng r;
    pk_rng_seed(&r, 3);
    double th[200], g[200], X[7 * 3];
    int32_t y[7];
    for (size_t i = 0; i < np; i++)
        th[i] = 0.7 * pk_rng_normal(&r);
    for (size_t i = 0; i < 21; i++)
        X[i] = pk_rng_normal(&r);
    for (int i = 0; i < 7; i++)
        y[i] = i % 4;
    double f = pk_cl_mlp_loglik(&m, th, X, y, 7, g);
    PK_CHECK(isfinite(f) && f < 0);
    double worst = 0;
    for (size_t i = 0; i < np; i++) {
        double s = th[i], h = 1e-6;
        th[i] = s + h;
        double fp = pk_cl_mlp_loglik(&m, th, X, y, 7, NULL);
        th[i] = s - h;
        double fm = pk_cl_mlp_loglik(&m, th, X, y, 7, NULL);
        th[i] = s;
        double e = fabs((fp - fm) / (2 * h) - g[i]);
        if (e > worst)
            worst = e;
    }
    PK_CHECK(worst < 1e-6);
    /* a label out of range is refused, not read out of bounds */
    y[2] = 4;
    PK_CHECK(isnan(pk_cl_mlp_loglik(&m, th, X, y, 7, g)));
    pk_cl_mlp bad = {3, PK_CL_MAX_HIDDEN + 1, 2};
    PK_CHECK(pk_cl_mlp_nparams(&bad) == 0);
}

static void test_bma(void)
{
    pk_cl_mlp m = {2, 4, 3};
    size_t np = pk_cl_mlp_nparams(&m);
    pk_rng r;
    pk_rng_seed(&r, 5);
    double th[2 * 100], X[50 * 2], z[50 * 3];
    int32_t y[50];
    for (size_t i = 0; i < 2 * np; i++)
        th[i] = pk_rng_normal(&r);
    for (size_t i = 0; i < 100; i++)
        X[i] = pk_rng_normal(&r);
    PK_CHECK_OK(pk_cl_mlp_logits(&m, th, X, 50, z));
    for (int i = 0; i < 50; i++) { /* label = argmax of the first network: accuracy 1 with S = 1 */
        int b = 0;
        for (int c = 1; c < 3; c++)
            if (z[i * 3 + c] > z[i * 3 + b])
                b = c;
        y[i] = b;
    }
    double acc = 0, nll = 0;
    PK_CHECK_OK(pk_cl_bma_score(&m, th, 1, X, y, 50, &acc, &nll));
    PK_CHECK_CLOSE(acc, 1.0, 0, 0);
    PK_CHECK(nll > 0 && nll < log(3.0));
    /* the mean NLL of one network is minus its mean log-likelihood */
    PK_CHECK_CLOSE(nll, -pk_cl_mlp_loglik(&m, th, X, y, 50, NULL) / 50, 1e-12, 1e-12);
    double acc2 = 0;
    PK_CHECK_OK(pk_cl_bma_score(&m, th, 2, X, y, 50, &acc2, NULL));
    PK_CHECK(acc2 >= 0 && acc2 <= 1);
}

static void test_gaussian_prior(void)
{
    pk_cl_prior *p = NULL;
    PK_CHECK(pk_cl_prior_gaussian(3, -1, &p, NULL) == PK_EINVAL);
    PK_CHECK_OK(pk_cl_prior_gaussian(3, 4.0, &p, NULL));
    double th[3] = {0.5, -1, 2}, g[3];
    double lp = pk_cl_prior_logpdf(p, th, g);
    double want = 0;
    for (int i = 0; i < 3; i++)
        want += -0.5 * log(2 * M_PI / 4.0) - 0.5 * 4.0 * th[i] * th[i];
    PK_CHECK_CLOSE(lp, want, 1e-12, 1e-12);
    PK_CHECK_CLOSE(g[2], -8.0, 1e-12, 0);
    PK_CHECK(pk_cl_prior_components(p) == 1);
    pk_cl_prior_free(p);
}

static void test_gmm_prior(void)
{
    /* draws from two separated 3-d Gaussians: the held-out choice finds >= 2
     * components, the density's gradient matches finite differences, and its
     * own samples have the right mean */
    const size_t n = 600, d = 3;
    double *s = malloc(n * d * sizeof *s);
    pk_rng r;
    pk_rng_seed(&r, 11);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            s[i * d + j] = (i % 2 ? 3.0 : -3.0) + (j + 1) * 0.3 * pk_rng_normal(&r);
    pk_cl_prior *p = NULL;
    size_t k = 0;
    PK_CHECK_OK(pk_cl_prior_fit_gmm(s, n, d, 8, 1e-6, &r, &p, &k, NULL));
    PK_CHECK(k >= 2);
    PK_CHECK(pk_cl_prior_components(p) == k);
    double th[3] = {0.4, -0.2, 1.1}, g[3];
    double lp = pk_cl_prior_logpdf(p, th, g);
    PK_CHECK(isfinite(lp));
    for (size_t i = 0; i < d; i++) {
        double h = 1e-6, t0 = th[i];
        th[i] = t0 + h;
        double fp = pk_cl_prior_logpdf(p, th, NULL);
        th[i] = t0 - h;
        double fm = pk_cl_prior_logpdf(p, th, NULL);
        th[i] = t0;
        PK_CHECK_CLOSE(g[i], (fp - fm) / (2 * h), 1e-5, 1e-5);
    }
    double *x = malloc(4000 * d * sizeof *x);
    PK_CHECK_OK(pk_cl_prior_sample(p, 4000, &r, x));
    double m0 = 0, a0 = 0;
    for (size_t i = 0; i < 4000; i++) {
        m0 += x[i * d] / 4000;
        a0 += fabs(x[i * d]) / 4000;
    }
    PK_CHECK(fabs(m0) < 0.2);
    PK_CHECK(fabs(a0 - 3.0) < 0.1);
    /* non-finite draws are refused with a status */
    s[5] = NAN;
    pk_cl_prior *q = NULL;
    PK_CHECK(pk_cl_prior_fit_gmm(s, n, d, 8, 1e-6, &r, &q, NULL, NULL) == PK_EDOM);
    PK_CHECK(q == NULL);
    free(x);
    free(s);
    pk_cl_prior_free(p);
}

static void test_blr_sequential_is_batch(void)
{
    const size_t d = 4, n1 = 30, n2 = 50;
    double X[80 * 4], y[80], m_seq[4], m_batch[4];
    pk_rng r;
    pk_rng_seed(&r, 2);
    for (size_t i = 0; i < (n1 + n2) * d; i++)
        X[i] = pk_rng_normal(&r);
    for (size_t i = 0; i < n1 + n2; i++)
        y[i] = X[i * d] - 2 * X[i * d + 3] + 0.1 * pk_rng_normal(&r);
    pk_cl_blr a, b;
    PK_CHECK_OK(pk_cl_blr_init(&a, d, 2.0, 0.01, NULL));
    PK_CHECK_OK(pk_cl_blr_init(&b, d, 2.0, 0.01, NULL));
    PK_CHECK_OK(pk_cl_blr_update(&a, X, y, n1, NULL));
    PK_CHECK_OK(pk_cl_blr_update(&a, X + n1 * d, y + n1, n2, NULL));
    PK_CHECK_OK(pk_cl_blr_update(&b, X, y, n1 + n2, NULL));
    PK_CHECK_OK(pk_cl_blr_mean(&a, m_seq, NULL));
    PK_CHECK_OK(pk_cl_blr_mean(&b, m_batch, NULL));
    for (size_t j = 0; j < d; j++)
        PK_CHECK_CLOSE(m_seq[j], m_batch[j], 1e-12, 1e-10);
    PK_CHECK_CLOSE(m_seq[0], 1.0, 0.05, 0);
    PK_CHECK_CLOSE(m_seq[3], -2.0, 0.05, 0);
    y[3] = INFINITY;
    PK_CHECK(pk_cl_blr_update(&a, X, y, n1, NULL) == PK_EDOM);
    pk_cl_blr_free(&a);
    pk_cl_blr_free(&b);
    pk_cl_blr c;
    PK_CHECK(pk_cl_blr_init(&c, 0, 1, 1, NULL) == PK_EINVAL);
}

static void test_toy_and_run(void)
{
    const size_t n = 400;
    double X[400 * 2];
    int32_t blob[400];
    pk_rng r;
    pk_rng_seed(&r, 1);
    PK_CHECK_OK(pk_cl_toy_blobs(n, &r, X, blob));
    double mx = 0;
    size_t c0 = 0;
    for (size_t i = 0; i < n; i++)
        if (blob[i] == 0) {
            mx += X[2 * i + 1];
            c0++;
        }
    PK_CHECK(c0 == 40);
    PK_CHECK_CLOSE(mx / (double)c0, 0.2, 0.08, 0);
    /* two tasks, tiny HMC: the joint learner keeps both tasks */
    double Xt[2][80 * 2];
    int32_t yt[2][80];
    size_t cnt[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        int b = blob[i], t = b % 5, lab = b >= 5;
        if (t > 1)
            continue;
        Xt[t][2 * cnt[t]] = X[2 * i];
        Xt[t][2 * cnt[t] + 1] = X[2 * i + 1];
        yt[t][cnt[t]++] = lab;
    }
    pk_cl_task tasks[2];
    for (int t = 0; t < 2; t++) {
        tasks[t].Xtr = Xt[t];
        tasks[t].ytr = yt[t];
        tasks[t].ntr = cnt[t];
        tasks[t].Xte = Xt[t];
        tasks[t].yte = yt[t];
        tasks[t].nte = cnt[t];
    }
    pk_cl_hmc_opts o = pk_cl_hmc_opts_default(2, 2);
    o.chains = 1;
    o.warmup = 100;
    o.draws = 60;
    o.max_k = 2;
    o.eval_samples = 30;
    double acc[4], nll[4];
    pk_cl_task_info info[2];
    PK_CHECK_OK(pk_cl_run(tasks, 2, PK_CL_JOINT, &o, 9, acc, nll, info, NULL, NULL, NULL));
    PK_CHECK(isnan(acc[1]));
    PK_CHECK(acc[0] > 0.9 && acc[2] > 0.85 && acc[3] > 0.85);
    PK_CHECK(info[1].accept > 0.3);
    PK_CHECK_OK(pk_cl_run(tasks, 2, PK_CL_SEQUENTIAL, &o, 9, acc, NULL, info, NULL, NULL, NULL));
    PK_CHECK(info[0].components >= 1 && info[0].components <= 2);
    PK_CHECK(acc[3] > 0.8); /* the newest task is always learnt */
    /* a label outside the network's classes is refused with a message */
    yt[1][3] = 5;
    pk_err e;
    pk_err_clear(&e);
    PK_CHECK(pk_cl_run(tasks, 2, PK_CL_JOINT, &o, 9, acc, NULL, NULL, NULL, NULL, &e) == PK_EINVAL);
    PK_CHECK(strstr(e.msg, "label") != NULL);
}

/* Four Gaussian classes in 10-d arriving as two tasks of two classes. */
static void make_stream(pk_rng *r, size_t n, float *X, int32_t *y, int first_class)
{
    for (size_t i = 0; i < n; i++) {
        int c = first_class + (int)(i % 2);
        y[i] = c;
        for (int j = 0; j < 10; j++)
            X[i * 10 + j] = (float)((j == c ? 3.0 : 0.0) + 0.5 * pk_rng_normal(r));
    }
}

static void test_protocl(void)
{
    pk_rng r;
    pk_rng_seed(&r, 21);
    float X1[200 * 10], X2[200 * 10], Xt[400 * 10];
    int32_t y1[200], y2[200], yt[400], pred[400];
    make_stream(&r, 200, X1, y1, 0);
    make_stream(&r, 200, X2, y2, 2);
    make_stream(&r, 200, Xt, yt, 0);
    make_stream(&r, 200, Xt + 2000, yt + 200, 2);
    double acc[3];
    for (int m = 0; m < 3; m++) {
        pk_cl_protocl_opts o = pk_cl_protocl_opts_default(10, 4);
        o.hidden = 16;
        o.embed = 8;
        o.batch = 20;
        o.epochs = 3;
        o.memory = m == 2 ? 0 : 40;
        o.head = m == 0 ? PK_CL_HEAD_PROTO : PK_CL_HEAD_SOFTMAX;
        pk_cl_protocl *L = NULL;
        PK_CHECK_OK(pk_cl_protocl_new(&o, 5, &L, NULL));
        PK_CHECK_OK(pk_cl_protocl_learn_task(L, X1, y1, 200, NULL));
        PK_CHECK(pk_cl_protocl_memory_used(L) == (m == 2 ? 0u : 40u));
        PK_CHECK_OK(pk_cl_protocl_learn_task(L, X2, y2, 200, NULL));
        PK_CHECK(pk_cl_protocl_memory_used(L) <= 40);
        PK_CHECK_OK(pk_cl_protocl_predict(L, Xt, 400, pred, NULL));
        size_t right = 0;
        for (int i = 0; i < 400; i++)
            right += pred[i] == yt[i];
        acc[m] = right / 400.0;
        int32_t bad = 4;
        PK_CHECK(pk_cl_protocl_learn_task(L, X1, &bad, 1, NULL) == PK_EINVAL);
        pk_cl_protocl_free(L);
    }
    /* prototypes with replay keep the old classes; a softmax without memory forgets them */
    PK_CHECK(acc[0] > 0.9);
    PK_CHECK(acc[2] < 0.75);
    pk_cl_protocl_opts o = pk_cl_protocl_opts_default(10, 1);
    pk_cl_protocl *L = NULL;
    PK_CHECK(pk_cl_protocl_new(&o, 1, &L, NULL) == PK_EINVAL && L == NULL);
}

int main(void)
{
    test_mlp_gradient();
    test_bma();
    test_gaussian_prior();
    test_gmm_prior();
    test_blr_sequential_is_batch();
    test_toy_and_run();
    test_protocl();
    return pk_test_done();
}
