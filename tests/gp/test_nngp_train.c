/* NNGP regression trained as in the authors' train.py: the loss against the
 * library's NNGP kernel and t-process marginal, its gradient by central
 * differences of the raw (softplus) parameters, the test NLL against the GP
 * predictive, and a short training run. */
#include <math.h>
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/gp.h"

static double softplus(double r) { return r > 0 ? r + log1p(exp(-r)) : log1p(exp(r)); }

/* -log N(y; 0, ls^2 F + eps I) / n from the library kernel: with ls = w the
 * authors' kernel is the library's minus its readout bias s^2. */
static double gp_loss_ref(const pk_mat *X, const double *y, int depth, const pk_nngp_hyper *h)
{
    size_t n = X->rows;
    pk_gp_kernel *k = pk_gp_kernel_new(PK_GP_KERNEL_NNGP_RELU, X->cols, 0, depth);
    double th[2] = {2 * log(h->w_std), 2 * log(h->b_std)}, s2 = h->b_std * h->b_std;
    pk_gp_kernel_set_params(k, th);
    pk_mat *K = pk_mat_new(n, n);
    pk_gp_kernel_matrix(k, X, X, 1, K);
    for (size_t i = 0; i < n * n; i++)
        K->data[i] -= s2;
    for (size_t i = 0; i < n; i++)
        *pk_mat_at(K, i, i) += h->eps;
    double out = NAN;
    if (pk_cholesky(K, 0, 0, NULL) == PK_OK) {
        double *u = malloc(n * sizeof *u);
        for (size_t i = 0; i < n; i++)
            u[i] = y[i];
        pk_mat U = pk_mat_view(u, n, 1);
        pk_cholesky_solve(K, &U);
        out = (0.5 * pk_dot(y, u, n) + 0.5 * pk_cholesky_logdet(K) + 0.5 * n * log(2 * M_PI)) / n;
        free(u);
    }
    pk_mat_free(K);
    pk_gp_kernel_free(k);
    return out;
}

static void set_raw(pk_nngp_hyper *h, int i, double r)
{
    double v = softplus(r);
    switch (i) {
    case 0: h->w_std = v; break;
    case 1: h->b_std = v; break;
    case 2: h->last_w_std = v; break;
    case 3: h->eps = v; break;
    case 4: h->alpha = v; break;
    default: h->beta = v; break;
    }
}

static double get_val(const pk_nngp_hyper *h, int i)
{
    const double v[6] = {h->w_std, h->b_std, h->last_w_std, h->eps, h->alpha, h->beta};
    return v[i];
}

int main(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 11);
    size_t n = 40, d = 3, m = 15;
    pk_mat *X = pk_mat_new(n, d), *Xt = pk_mat_new(m, d);
    double y[40], yt[15];
    for (size_t i = 0; i < n + m; i++) {
        pk_mat *A = i < n ? X : Xt;
        size_t r = i < n ? i : i - n;
        for (size_t j = 0; j < d; j++)
            *pk_mat_at(A, r, j) = pk_rng_normal(&rng);
        double f = sin(2 * *pk_mat_at(A, r, 0)) + 0.5 * *pk_mat_at(A, r, 1);
        double noise = 0.2 * pk_rng_normal(&rng) * (i % 9 == 0 ? 6 : 1);
        if (i < n)
            y[r] = f + noise;
        else
            yt[r] = 3.0 + 2.0 * (f + noise); /* raw units: y_mean 3, y_std 2 */
    }

    /* 1. the loss against the library's NNGP kernel (ls = w, any s) */
    for (int depth = 1; depth <= 4; depth += 3) {
        pk_nngp_hyper h = {1.3, 0.4, 1.3, 0.05, 2.0, 2.0};
        double loss;
        PK_CHECK_OK(pk_nngp_loss(depth, 0, &h, X, y, &loss, NULL, NULL));
        PK_CHECK_CLOSE(loss, gp_loss_ref(X, y, depth, &h), 1e-10, 1e-10);
    }

    /* 2. the t-process loss against the library's multivariate t (s tiny, ls = w) */
    {
        pk_nngp_hyper h = {1.2, 1e-5, 1.2, 0.03, 2.5, 1.7};
        double loss, lml;
        PK_CHECK_OK(pk_nngp_loss(4, 1, &h, X, y, &loss, NULL, NULL));
        pk_tp *tp = pk_tp_new(pk_gp_kernel_new(PK_GP_KERNEL_NNGP_RELU, d, 0, 4));
        PK_CHECK_OK(pk_tp_set_data(tp, X, y, NULL));
        double hh[5] = {2 * log(1.2), 2 * log(1e-5), log(0.03), log(2.5), log(1.7)};
        pk_tp_set_hyper(tp, hh);
        PK_CHECK_OK(pk_tp_log_marginal(tp, &lml, NULL));
        PK_CHECK_CLOSE(-loss * n, lml, 1e-6, 1e-8);
        pk_tp_free(tp);
    }

    /* 3. gradient by central differences of the raw parameters */
    for (int st = 0; st < 2; st++)
        for (int depth = 2; depth <= 4; depth += 2) {
            pk_nngp_hyper h0 = {1.3, 0.4, 0.8, 0.05, 2.5, 1.7};
            double loss, g[6];
            PK_CHECK_OK(pk_nngp_loss(depth, st, &h0, X, y, &loss, g, NULL));
            for (int i = 0; i < (st ? 6 : 4); i++) {
                double r0 = log(expm1(get_val(&h0, i))), e = 1e-5, lp, lm;
                pk_nngp_hyper hp = h0, hm = h0;
                set_raw(&hp, i, r0 + e);
                set_raw(&hm, i, r0 - e);
                PK_CHECK_OK(pk_nngp_loss(depth, st, &hp, X, y, &lp, NULL, NULL));
                PK_CHECK_OK(pk_nngp_loss(depth, st, &hm, X, y, &lm, NULL, NULL));
                PK_CHECK_MSG(fabs(g[i] - (lp - lm) / (2 * e)) < 1e-6 + 1e-5 * fabs(g[i]),
                             "st %d depth %d param %d: analytic %.10g, differences %.10g", st, depth, i, g[i],
                             (lp - lm) / (2 * e));
            }
            if (!st)
                PK_CHECK(g[4] == 0 && g[5] == 0);
        }

    /* 4. the test NLL against the library GP's noise-free predictive with
     *    noise eps mean(diag K); the t-process tends to it as alpha = beta grow */
    {
        pk_nngp_hyper h = {1.4, 1e-5, 1.4, 0.02, 1e7, 1e7};
        double nll, rmse, nll_t;
        PK_CHECK_OK(pk_nngp_test_nll(4, 0, &h, X, y, Xt, yt, 3.0, 2.0, &nll, &rmse, NULL));
        pk_gp *gp = pk_gp_new(pk_gp_kernel_new(PK_GP_KERNEL_NNGP_RELU, d, 0, 4), PK_GP_MEAN_ZERO);
        PK_CHECK_OK(pk_gp_set_data(gp, X, y, NULL));
        double m0 = 0, th[2] = {2 * log(1.4), 2 * log(1e-5)};
        pk_gp_kernel_set_params(pk_gp_kernel_of(gp), th);
        for (size_t i = 0; i < n; i++)
            m0 += pk_gp_kernel_eval(pk_gp_kernel_const(gp), pk_mat_at(X, i, 0), pk_mat_at(X, i, 0), NULL) / n;
        double hh[3] = {th[0], th[1], log(0.02 * m0)}, mean[15], var[15], ref = 0, se = 0;
        pk_gp_set_hyper(gp, hh);
        PK_CHECK_OK(pk_gp_predict(gp, Xt, mean, var, 0));
        for (size_t j = 0; j < m; j++) {
            double mu = 3 + 2 * mean[j], v = 4 * var[j], e = yt[j] - mu;
            ref += (0.5 * log(2 * M_PI * v) + 0.5 * e * e / v) / m;
            se += e * e / m;
        }
        PK_CHECK_CLOSE(nll, ref, 1e-5, 1e-5);
        PK_CHECK_CLOSE(rmse, sqrt(se), 1e-6, 1e-6);
        PK_CHECK_OK(pk_nngp_test_nll(4, 1, &h, X, y, Xt, yt, 3.0, 2.0, &nll_t, NULL, NULL));
        PK_CHECK_CLOSE(nll_t, nll, 1e-3, 1e-3);
        /* a t-process with small alpha is not the GP */
        h.alpha = h.beta = 1.0;
        PK_CHECK_OK(pk_nngp_test_nll(4, 1, &h, X, y, Xt, yt, 3.0, 2.0, &nll_t, NULL, NULL));
        PK_CHECK(fabs(nll_t - nll) > 1e-3);
        pk_gp_free(gp);
    }

    /* 5. a short training run: the validation NLL never gets worse than at step 0 */
    for (int st = 0; st < 2; st++) {
        pk_nngp_train_params p = pk_nngp_train_params_default();
        p.student_t = st;
        p.max_steps = 400;
        p.valid_interval = 50;
        pk_nngp_train_info info;
        PK_CHECK_OK(pk_nngp_train(&p, X, y, Xt, yt, 3.0, 2.0, &info, NULL));
        PK_CHECK(info.steps == 400 || info.stop != PK_NNGP_STOP_STEPS);
        PK_CHECK(info.best_valid_nll <= info.initial_valid_nll);
        double l0, l1;
        PK_CHECK_OK(pk_nngp_loss(4, st, &p.init, X, y, &l0, NULL, NULL));
        PK_CHECK_OK(pk_nngp_loss(4, st, &info.best, X, y, &l1, NULL, NULL));
        PK_CHECK_MSG(info.best_step == 0 || l1 < l0, "st %d: loss %g at the best step %d vs %g at the start", st,
                     l1, info.best_step, l0);
        PK_CHECK(info.last_loss < l0);
    }

    /* 6. bad input is rejected with a message */
    {
        pk_nngp_train_params p = pk_nngp_train_params_default();
        pk_err err = {0};
        p.init.eps = -1;
        PK_CHECK(pk_nngp_train_params_check(&p, &err) == PK_EINVAL);
        p = pk_nngp_train_params_default();
        p.depth = 0;
        PK_CHECK(pk_nngp_train_params_check(&p, &err) == PK_EINVAL);
        double loss;
        pk_nngp_hyper h = {1, 1, 1, 0, 1, 1};
        PK_CHECK(pk_nngp_loss(2, 0, &h, X, y, &loss, NULL, &err) == PK_EINVAL);
    }
    pk_mat_free(X);
    pk_mat_free(Xt);
    return pk_test_done();
}
