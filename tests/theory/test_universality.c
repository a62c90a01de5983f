#include <stdlib.h>

#include "pk_test.h"
#include "probkit/theory.h"

int main(void)
{
    pk_hclass *c;
    PK_CHECK_OK(pk_hclass_product_grid(3, 11, 4.0, &c));
    PK_CHECK(c->H == 1331 && c->K == 2);
    pk_hclass *bad = NULL;
    PK_CHECK(pk_hclass_product_grid(0, 11, 4.0, &bad) == PK_EINVAL && bad == NULL);

    double p[2] = {0.3, 0.7}, q[2] = {0.5, 0.5};
    PK_CHECK_CLOSE(pk_kl_discrete(p, q, 2), 0.3 * log(0.6) + 0.7 * log(1.4), 1e-15, 0);
    PK_CHECK(pk_kl_discrete(p, p, 2) == 0);

    /* W_eps is monotone and reaches 1 */
    double w1 = pk_hclass_weight(c, p, 1e-3), w2 = pk_hclass_weight(c, p, 1e-2), w3 = pk_hclass_weight(c, p, 10);
    PK_CHECK(w1 <= w2 && w2 <= w3);
    PK_CHECK_CLOSE(w3, 1.0, 1e-12, 0);

    /* exact regret equals the Monte Carlo average of log P0(x^n) - log Q(x^n) */
    pk_rng r;
    pk_rng_seed(&r, 4);
    size_t n = 30;
    double exact;
    PK_CHECK_OK(pk_hclass_regret_exact(c, 0.7, n, &exact));
    enum { S = 4000 };
    double *v = malloc(S * sizeof *v), *lw = malloc(c->H * sizeof *lw);
    for (int s = 0; s < S; s++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            k += pk_rng_uniform(&r) < 0.7;
        for (size_t h = 0; h < c->H; h++)
            lw[h] = c->logw[h] + k * log(c->probs[2 * h + 1]) + (n - k) * log(c->probs[2 * h]);
        v[s] = k * log(0.7) + (n - k) * log(0.3) - pk_logsumexp(lw, c->H, 1);
    }
    double m, var;
    pk_mean_var(v, S, &m, &var);
    PK_CHECK_MSG(fabs(m - exact) < 4 * sqrt(var / S), "exact regret %g vs MC %g (se %g)", exact, m, sqrt(var / S));

    /* the bound holds for targets inside and outside the class, every n */
    double targets[] = {0.5, 0.6, 0.7, 0.9, 0.97};
    int ok = 1;
    for (int t = 0; t < 5; t++)
        for (size_t nn = 1; nn <= 300; nn *= 3) {
            double p0[2] = {1 - targets[t], targets[t]}, reg, eps;
            pk_hclass_regret_exact(c, targets[t], nn, &reg);
            double b = pk_hclass_regret_bound(c, p0, nn, &eps);
            if (!(reg <= b + 1e-9)) {
                ok = 0;
                fprintf(stderr, "bound violated: p=%g n=%zu regret %g bound %g\n", targets[t], nn, reg, b);
            }
        }
    PK_CHECK(ok);

    /* predictive = ratio of mixture probabilities */
    double counts[2] = {3, 5}, pred[2];
    PK_CHECK_OK(pk_hclass_predict(c, counts, pred));
    PK_CHECK_CLOSE(pred[0] + pred[1], 1.0, 1e-12, 0); /* 1331 rounded terms */
    for (size_t h = 0; h < c->H; h++)
        lw[h] = c->logw[h] + 6 * log(c->probs[2 * h + 1]) + 3 * log(c->probs[2 * h]);
    double l9 = pk_logsumexp(lw, c->H, 1);
    for (size_t h = 0; h < c->H; h++)
        lw[h] = c->logw[h] + 5 * log(c->probs[2 * h + 1]) + 3 * log(c->probs[2 * h]);
    PK_CHECK_CLOSE(pred[1], exp(l9 - pk_logsumexp(lw, c->H, 1)), 1e-12, 1e-12);
    pk_hclass_free(c);

    /* SGLD ensemble approaches the (fine-grid) mixture's predictive */
    pk_hclass *fine;
    PK_CHECK_OK(pk_hclass_product_grid(2, 201, 4.0, &fine));
    double cnt[2] = {4, 16}, pf[2], ps;
    pk_hclass_predict(fine, cnt, pf);
    PK_CHECK_OK(pk_sgld_product_predict(2, 4.0, 16, 20, 64, 4000, 5, 0.01, &r, &ps));
    PK_CHECK_MSG(fabs(ps - pf[1]) < 0.02, "SGLD %g vs mixture %g", ps, pf[1]);
    pk_hclass_free(fine);
    free(v);
    free(lw);
    return pk_test_done();
}
