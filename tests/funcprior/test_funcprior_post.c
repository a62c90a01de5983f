/* SGHMC posterior of the BNN on a conjugate case: with no hidden layer the
 * network is Bayesian linear regression, whose posterior is Gaussian with
 * precision A = X~'X~ / s2 + diag(1 / sd^2) and mean A^{-1} X~'y / s2
 * (X~ = [X, 1]).  The sampler's moments must agree with these. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/funcprior.h"

int main(void)
{
    enum { N = 60, D = 2, P = 3 };
    pk_funcprior_net net = {D, 0, {0}, PK_FUNCPRIOR_TANH};
    PK_CHECK(pk_funcprior_nparams(&net) == P);
    pk_funcprior_prior pr = pk_funcprior_prior_iid(&net, 1.0);
    pr.w_std[0] = 0.8 * sqrt((double)D), pr.b_std[0] = 1.5;
    const double s2 = 0.25, w_true[P] = {0.7, -1.2, 0.4};
    pk_rng rng;
    pk_rng_seed(&rng, 21);
    pk_mat *X = pk_mat_new(N, D);
    double y[N];
    for (int i = 0; i < N; i++) {
        double *x = pk_mat_at(X, i, 0);
        x[0] = pk_rng_normal(&rng), x[1] = pk_rng_normal(&rng);
        y[i] = w_true[0] * x[0] + w_true[1] * x[1] + w_true[2] + sqrt(s2) * pk_rng_normal(&rng);
    }
    /* exact posterior */
    double sd[P];
    pk_funcprior_prior_sd(&net, &pr, sd);
    pk_mat *A = pk_mat_new(P, P), *b = pk_mat_new(P, 1);
    for (int i = 0; i < N; i++) {
        double xt[P] = {*pk_mat_at(X, i, 0), *pk_mat_at(X, i, 1), 1.0};
        for (int r = 0; r < P; r++) {
            for (int c = 0; c < P; c++)
                *pk_mat_at(A, r, c) += xt[r] * xt[c] / s2;
            b->data[r] += xt[r] * y[i] / s2;
        }
    }
    for (int r = 0; r < P; r++)
        *pk_mat_at(A, r, r) += 1.0 / (sd[r] * sd[r]);
    PK_CHECK_OK(pk_cholesky(A, 0, 0, NULL));
    pk_mat *Sig = pk_mat_new(P, P);
    PK_CHECK_OK(pk_cholesky_inverse(A, Sig));
    PK_CHECK_OK(pk_cholesky_solve(A, b)); /* b = posterior mean */

    pk_funcprior_post_params pp = pk_funcprior_post_params_default();
    pp.noise_var = s2, pp.batch = N, pp.iters = 60000, pp.burn = 5000, pp.thin = 5, pp.step = 2e-4,
    pp.friction = 0.1;
    double *draws = NULL;
    size_t nd = 0;
    pk_err err = {0};
    PK_CHECK_OK(pk_funcprior_posterior(&net, &pr, X, y, NULL, &pp, &rng, &draws, &nd, &err));
    PK_CHECK(nd == 11000);
    for (int j = 0; j < P && draws; j++) {
        double m = 0, v = 0;
        for (size_t s = 0; s < nd; s++)
            m += draws[s * P + j];
        m /= (double)nd;
        for (size_t s = 0; s < nd; s++)
            v += (draws[s * P + j] - m) * (draws[s * P + j] - m);
        v /= (double)(nd - 1);
        double ev = *pk_mat_at(Sig, j, j);
        printf("theta[%d]: mean %.4f (exact %.4f), sd %.4f (exact %.4f)\n", j, m, b->data[j], sqrt(v), sqrt(ev));
        /* full batch (no gradient noise): only the discretisation bias of a
         * small step and Monte Carlo error remain.  (On minibatches of 20 the
         * sd came out ~20% too large: SGHMC here has no noise correction.) */
        PK_CHECK_CLOSE(m, b->data[j], 0.1 * sqrt(ev), 0);
        PK_CHECK_CLOSE(v, ev, 0, 0.12);
    }
    /* the predictive of the draws at the training inputs: mean close to the exact one */
    double mu[N], var[N];
    PK_CHECK_OK(pk_funcprior_predict(&net, draws, nd, X, s2, mu, var, &err));
    for (int i = 0; i < N; i += 10) {
        const double *x = pk_mat_at(X, i, 0);
        double em = b->data[0] * x[0] + b->data[1] * x[1] + b->data[2];
        PK_CHECK_CLOSE(mu[i], em, 0.05, 0);
        PK_CHECK(var[i] > s2);
    }
    free(draws);
    /* a diverging step is retried with smaller steps, then reported */
    pp.step = 10.0, pp.retries = 1, pp.iters = 200, pp.burn = 100;
    PK_CHECK(pk_funcprior_posterior(&net, &pr, X, y, NULL, &pp, &rng, &draws, &nd, &err) == PK_EDOM);
    PK_CHECK(draws == NULL && nd == 0);
    y[3] = NAN;
    PK_CHECK(pk_funcprior_posterior(&net, &pr, X, y, NULL, &pp, &rng, &draws, &nd, &err) == PK_EINVAL);
    pk_mat_free(X), pk_mat_free(A), pk_mat_free(b), pk_mat_free(Sig);
    return pk_test_done();
}
