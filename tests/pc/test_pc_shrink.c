/* Hierarchical shrinkage in the EM M-step (theta_shrink, weight_shrink):
 * a = 0 is the plain update, rows stay normalised, a huge prior pins every
 * input distribution to its pixel's marginal and every sum row to the
 * layer's average row, and full-batch MAP-EM never lowers its objective
 * (log-likelihood plus log prior) when the prior is fixed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pk_test.h"
#include "probkit/pc.h"

enum { D = 6, NC = 5, K = 3, N = 600 };
static const int32_t PAR[D] = {-1, 0, 1, 1, 3, 0};

static pk_pc *fresh(uint64_t seed)
{
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    pk_pc *pc = NULL;
    pk_err err;
    if (pk_pc_from_tree(PAR, D, K, NC, 0.4, &rng, &pc, &err))
        return NULL;
    return pc;
}

static int is_inner(const pk_pc *pc, int v)
{
    return pc->child_start[v + 1] > pc->child_start[v];
}

/* log p(data) + log prior: Dirichlet exponents pseudo/NC + a q_v[x] on input
 * rows, pseudo/K on sum rows and root weights. */
static double map_objective(const pk_pc *pc, const uint8_t *x, double pseudo, double a, const double *q)
{
    double ll[N], s = 0;
    pk_err err;
    if (pk_pc_loglik(pc, x, NULL, N, ll, &err))
        return NAN;
    for (int i = 0; i < N; i++)
        s += ll[i];
    for (int v = 0; v < D; v++) {
        for (int j = 0; j < K; j++)
            for (int c = 0; c < NC; c++)
                s += (pseudo / NC + a * q[v * NC + c]) * log(pc->theta[((size_t)v * K + j) * NC + c]);
        if (v != pc->root && is_inner(pc, v))
            for (int i = 0; i < K * K; i++)
                s += pseudo / K * log(pc->weight[(size_t)v * K * K + i]);
    }
    for (int j = 0; j < K; j++)
        s += pseudo / K * log(pc->root_w[j]);
    return s;
}

int main(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 5);
    pk_err err;
    /* Tree-structured data: a child copies its parent with probability 0.7. */
    uint8_t *x = malloc((size_t)N * D);
    for (int r = 0; r < N; r++)
        for (int v = 0; v < D; v++) {
            int p = PAR[v];
            x[r * D + v] = (uint8_t)(p >= 0 && pk_rng_uniform(&rng) < 0.7 ? x[r * D + p] : pk_rng_below(&rng, v == 4 ? 3 : NC));
        }
    double q[D * NC] = {0};
    for (int r = 0; r < N; r++)
        for (int v = 0; v < D; v++)
            q[v * NC + x[r * D + v]] += 1;
    const double pseudo = 0.5;
    for (int i = 0; i < D * NC; i++)
        q[i] = (q[i] + pseudo / NC) / (N + pseudo);

    /* a = 0: pk_pc_em's full-batch epoch equals the plain full-batch step. */
    pk_pc *a = fresh(9), *b = fresh(9);
    PK_CHECK(a && b);
    pk_pc_em_params ep = pk_pc_em_params_default();
    ep.epochs_mini = 0, ep.epochs_full = 1, ep.pseudocount = pseudo;
    PK_CHECK_OK(pk_pc_em(a, x, N, &ep, NULL, NULL, NULL, &err));
    PK_CHECK_OK(pk_pc_em_full_step(b, x, N, pseudo, NULL, &err));
    PK_CHECK(!memcmp(a->theta, b->theta, sizeof(float) * D * K * NC));
    PK_CHECK(!memcmp(a->weight, b->weight, sizeof(float) * D * K * K));
    PK_CHECK(!memcmp(a->root_w, b->root_w, sizeof(float) * K));
    pk_pc_free(a), pk_pc_free(b);

    /* Moderate shrinkage, mini-batch then full-batch: every row a distribution. */
    a = fresh(10);
    ep = pk_pc_em_params_default();
    ep.epochs_mini = 2, ep.epochs_full = 1, ep.batch_size = 100, ep.pseudocount = pseudo;
    ep.theta_shrink = 20, ep.weight_shrink = 10, ep.theta_sigma = 1;
    PK_CHECK_OK(pk_pc_em(a, x, N, &ep, &rng, NULL, NULL, &err));
    int bad = 0;
    for (int v = 0; v < D; v++)
        for (int j = 0; j < K; j++) {
            double st = 0, sw = 0;
            for (int c = 0; c < NC; c++)
                st += a->theta[((size_t)v * K + j) * NC + c], bad += !(a->theta[((size_t)v * K + j) * NC + c] > 0);
            for (int i = 0; i < K; i++)
                sw += a->weight[((size_t)v * K + j) * K + i];
            bad += fabs(st - 1) > 1e-5;
            bad += v != a->root && is_inner(a, v) && fabs(sw - 1) > 1e-5;
        }
    PK_CHECK_MSG(bad == 0, "%d rows not normalised or with a zero", bad);
    pk_pc_free(a);

    /* A huge prior: input rows = pixel marginals, sum rows all alike. */
    a = fresh(11);
    ep = pk_pc_em_params_default();
    ep.epochs_mini = 0, ep.epochs_full = 1, ep.pseudocount = pseudo;
    ep.theta_shrink = 1e9, ep.weight_shrink = 1e9;
    PK_CHECK_OK(pk_pc_em(a, x, N, &ep, NULL, NULL, NULL, &err));
    double dq = 0, dw = 0;
    for (int v = 0; v < D; v++)
        for (int j = 0; j < K; j++) {
            for (int c = 0; c < NC; c++)
                dq = fmax(dq, fabs(a->theta[((size_t)v * K + j) * NC + c] - q[v * NC + c]));
            if (v != a->root && is_inner(a, v))
                for (int i = 0; i < K; i++)
                    dw = fmax(dw, fabs(a->weight[((size_t)v * K + j) * K + i] - a->weight[(size_t)v * K * K + i]));
        }
    PK_CHECK_MSG(dq < 1e-5, "input rows differ from the pixel marginal by %g", dq);
    PK_CHECK_MSG(dw < 1e-5, "sum rows differ by %g", dw);
    pk_pc_free(a);

    /* Full-batch MAP-EM (input shrinkage, no blur) never lowers its objective. */
    a = fresh(12);
    ep.theta_shrink = 8, ep.weight_shrink = 0;
    double prev = -INFINITY, first = 0;
    int down = 0;
    for (int it = 0; it < 10; it++) {
        double obj = map_objective(a, x, pseudo, ep.theta_shrink, q);
        if (it == 0)
            first = obj;
        if (obj < prev - 1e-6 * fabs(prev))
            down++;
        prev = obj;
        PK_CHECK_OK(pk_pc_em(a, x, N, &ep, NULL, NULL, NULL, &err));
    }
    PK_CHECK_MSG(down == 0, "MAP-EM lowered its objective %d times", down);
    PK_CHECK(prev > first + 1.0);
    pk_pc_free(a);

    /* A mixture of two HCLTs trained jointly as one circuit: the cross-block
     * sum weights are structural zeros and stay zero under EM (also with the
     * pseudocount and weight shrinkage), rows stay normalised, and plain
     * full-batch EM does not lower the likelihood. */
    pk_pc *c0 = fresh(13), *c1 = fresh(14), *mix = NULL;
    const pk_pc *cs[2] = {c0, c1};
    PK_CHECK_OK(pk_pc_mixture(cs, 2, NULL, &mix, &err));
    ep = pk_pc_em_params_default();
    ep.epochs_mini = 2, ep.epochs_full = 1, ep.batch_size = 128, ep.pseudocount = 0.3, ep.weight_shrink = 5;
    PK_CHECK_OK(pk_pc_em(mix, x, N, &ep, &rng, NULL, NULL, &err));
    prev = -INFINITY;
    down = 0;
    for (int it = 0; it < 6; it++) {
        double ll;
        PK_CHECK_OK(pk_pc_em_full_step(mix, x, N, 0.0, &ll, &err));
        down += ll < prev - 1e-6 * fabs(prev);
        prev = ll;
    }
    PK_CHECK_MSG(down == 0, "EM on the mixture lowered the likelihood %d times", down);
    int cross = 0;
    bad = 0;
    for (int v = 0; v < D; v++) {
        if (v == mix->root || !is_inner(mix, v))
            continue;
        for (int i = 0; i < 2 * K; i++) {
            double sw = 0;
            for (int j = 0; j < 2 * K; j++) {
                float wij = mix->weight[((size_t)v * 2 * K + i) * 2 * K + j];
                sw += wij;
                cross += (i / K != j / K) && wij != 0;
                bad += (i / K == j / K) && !(wij > 0);
            }
            bad += fabs(sw - 1) > 1e-5;
        }
    }
    PK_CHECK_MSG(cross == 0, "%d cross-block weights became non-zero", cross);
    PK_CHECK_MSG(bad == 0, "%d in-block weights zero or rows not normalised", bad);
    pk_pc_free(mix), pk_pc_free(c0), pk_pc_free(c1);

    ep = pk_pc_em_params_default();
    ep.theta_shrink = -1;
    PK_CHECK(pk_pc_em_params_check(&ep, &err) == PK_EINVAL && strstr(err.msg, "theta_shrink"));
    ep.theta_shrink = 0, ep.weight_shrink = NAN;
    PK_CHECK(pk_pc_em_params_check(&ep, &err) == PK_EINVAL && strstr(err.msg, "weight_shrink"));
    free(x);
    return pk_test_done();
}
