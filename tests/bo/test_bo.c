/* Ask/tell optimisation on Branin, pending bookkeeping, search spaces. */
#include <math.h>
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/bo.h"

static double run(pk_bo_method method, int evals, uint64_t seed, double *ask_time)
{
    pk_bo_params p = pk_bo_params_default();
    p.method = method;
    pk_bo *bo = pk_bo_new(2, &p, NULL);
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    double u[2], best;
    int64_t t;
    *ask_time = 0;
    for (int i = 0; i < evals; i++) {
        PK_CHECK_OK(pk_bo_ask(bo, &rng, u, &t, NULL));
        *ask_time += pk_bo_last_ask_seconds(bo);
        PK_CHECK(u[0] >= 0 && u[0] <= 1 && u[1] >= 0 && u[1] <= 1);
        PK_CHECK_OK(pk_bo_tell(bo, t, pk_bo_branin(u), 1.0));
    }
    pk_bo_best(bo, u, &best);
    pk_bo_free(bo);
    return best;
}

/* EI per second on two equally good minima (cos 4 pi u: u = 0.25 and 0.75)
 * whose durations differ (exp(3u): the left one ~4.5x cheaper): the sampled
 * cost model must steer the proposal to the cheap side, where plain EI has no
 * reason to prefer either. */
static void ei_per_second_prefers_cheap(void)
{
    int left_eis = 0, left_ei = 0;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        for (int per_s = 0; per_s < 2; per_s++) {
            pk_bo_params p = pk_bo_params_default();
            p.method = per_s ? PK_BO_EI_PER_SECOND : PK_BO_EI_MCMC;
            pk_bo *bo = pk_bo_new(1, &p, NULL);
            PK_CHECK(bo != NULL);
            if (!bo)
                return;
            for (int i = 0; i <= 8; i++) {
                double u = i / 8.0;
                PK_CHECK_OK(pk_bo_observe(bo, &u, cos(4 * M_PI * u), exp(3 * u)));
            }
            pk_rng rng;
            pk_rng_seed(&rng, seed);
            double u;
            int64_t t;
            PK_CHECK_OK(pk_bo_ask(bo, &rng, &u, &t, NULL));
            if (per_s)
                left_eis += u < 0.5;
            else
                left_ei += u < 0.5;
            pk_bo_free(bo);
        }
    }
    PK_CHECK_MSG(left_eis == 5, "EI per second proposed the cheap side in %d of 5 seeds (EI: %d)", left_eis, left_ei);
    fprintf(stderr, "two equal minima, left 4.5x cheaper: EI per second left in %d/5, EI in %d/5\n", left_eis,
            left_ei);
}

int main(void)
{
    /* the objectives at their published minimisers */
    double b1[2] = {(M_PI + 5) / 15, 2.275 / 15}, b2[2] = {(9.42478 + 5) / 15, 2.475 / 15};
    double h6[6] = {0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573};
    PK_CHECK_CLOSE(pk_bo_branin(b1), PK_BO_BRANIN_MIN, 1e-12, 0);
    PK_CHECK_CLOSE(pk_bo_branin(b2), PK_BO_BRANIN_MIN, 1e-5, 0);
    PK_CHECK_CLOSE(pk_bo_hartmann6(h6), PK_BO_HARTMANN6_MIN, 1e-5, 0);
    double tm;
    double b_mcmc = run(PK_BO_EI_MCMC, 30, 1, &tm);
    fprintf(stderr, "branin EI-MCMC 30 evals: best %.5f (opt 0.397887), ask time %.2f s total\n", b_mcmc, tm);
    PK_CHECK_MSG(b_mcmc - 0.397887 < 0.05, "EI-MCMC best %g", b_mcmc);
    double b_opt = run(PK_BO_EI_OPT, 30, 1, &tm);
    fprintf(stderr, "branin EI-Opt 30 evals: best %.5f, ask time %.2f s\n", b_opt, tm);
    PK_CHECK(b_opt - 0.397887 < 0.5);
    double b_rand = run(PK_BO_RANDOM, 30, 1, &tm);
    fprintf(stderr, "branin random 30 evals: best %.5f\n", b_rand);
    PK_CHECK(b_mcmc < b_rand);

    /* pending bookkeeping and parallel asks */
    pk_bo_params p = pk_bo_params_default();
    p.n_mcmc = 3;
    p.burnin = 10;
    p.n_candidates = 200;
    pk_bo *bo = pk_bo_new(2, &p, NULL);
    pk_rng rng;
    pk_rng_seed(&rng, 2);
    double u[3][2];
    int64_t tk[3];
    for (int i = 0; i < 4; i++) {
        double v[2] = {0.1 * i + 0.05, 0.9 - 0.2 * i};
        PK_CHECK_OK(pk_bo_observe(bo, v, pk_bo_branin(v), 2.0));
    }
    for (int i = 0; i < 3; i++)
        PK_CHECK_OK(pk_bo_ask(bo, &rng, u[i], &tk[i], NULL));
    PK_CHECK(pk_bo_n_pending(bo) == 3);
    /* the three parallel suggestions are distinct */
    PK_CHECK(fabs(u[0][0] - u[1][0]) + fabs(u[0][1] - u[1][1]) > 1e-3);
    PK_CHECK(fabs(u[1][0] - u[2][0]) + fabs(u[1][1] - u[2][1]) > 1e-3);
    PK_CHECK_OK(pk_bo_tell_failed(bo, tk[1]));
    PK_CHECK(pk_bo_tell(bo, tk[1], 1.0, 1.0) == PK_EINVAL);
    PK_CHECK(pk_bo_tell(bo, tk[0], NAN, 1.0) == PK_EINVAL);
    PK_CHECK_OK(pk_bo_tell(bo, tk[0], pk_bo_branin(u[0]), 1.0));
    PK_CHECK(pk_bo_n_pending(bo) == 1 && pk_bo_n_observed(bo) == 5);
    pk_bo_free(bo);

    /* maximisation: best is the largest */
    p = pk_bo_params_default();
    p.maximize = 1;
    bo = pk_bo_new(1, &p, NULL);
    double a = 0.2, b = 0.7, yb;
    pk_bo_observe(bo, &a, 1.0, 0);
    pk_bo_observe(bo, &b, 3.0, 0);
    pk_bo_best(bo, &a, &yb);
    PK_CHECK(yb == 3.0 && a == 0.7);
    pk_bo_free(bo);
    pk_err err;
    p.n_mcmc = 0;
    PK_CHECK(pk_bo_new(2, &p, &err) == NULL);
    PK_CHECK(pk_bo_method_parse("ei-mcmc") == PK_BO_EI_MCMC && pk_bo_method_parse("nope") == -1);

    /* search spaces */
    const char *js = "{\"params\": [{\"name\": \"lr\", \"type\": \"float\", \"low\": 1e-4, \"high\": 1, \"log\": true},"
                     "{\"name\": \"layers\", \"type\": \"int\", \"low\": 1, \"high\": 4},"
                     "{\"name\": \"act\", \"type\": \"categorical\", \"choices\": [\"relu\", \"tanh\", 3]},"
                     "{\"name\": \"drop\", \"type\": \"float\", \"min\": 0, \"max\": 0.5}]}";
    pk_bo_space *s;
    PK_CHECK_OK(pk_bo_space_parse_json(js, "space.json", &s, NULL));
    PK_CHECK(s->n == 4);
    double uu[4] = {0.5, 0.99, 0.34, 1.0}, v[4], back[4];
    pk_bo_space_decode(s, uu, v);
    PK_CHECK_CLOSE(v[0], 1e-2, 1e-15, 1e-12);
    PK_CHECK(v[1] == 4 && v[2] == 1 && v[3] == 0.5);
    pk_bo_space_encode(s, v, back);
    PK_CHECK_CLOSE(back[0], 0.5, 1e-12, 0);
    PK_CHECK_CLOSE(back[1], 7.0 / 8, 1e-12, 0);
    PK_CHECK_CLOSE(back[2], 0.5, 1e-12, 0);
    char buf[64];
    pk_bo_space_format(s, 2, v[2], buf, sizeof buf);
    PK_CHECK(!strcmp(buf, "tanh"));
    pk_bo_space_format(s, 1, v[1], buf, sizeof buf);
    PK_CHECK(!strcmp(buf, "4"));
    double u3[4] = {0, 0, 0.999, 0};
    pk_bo_space_decode(s, u3, v);
    pk_bo_space_format(s, 2, v[2], buf, sizeof buf);
    PK_CHECK(!strcmp(buf, "3"));
    pk_bo_space_free(s);
    const char *bad[] = {"{\"params\": [}", "{\"params\": []}", "{\"params\": [{\"name\": \"a\", \"type\": \"weird\"}]}",
                         "{\"params\": [{\"name\": \"a\", \"type\": \"float\", \"low\": 2, \"high\": 1}]}",
                         "{\"params\": [{\"name\": \"a\", \"type\": \"float\", \"low\": 0, \"high\": 1, \"log\": true}]}",
                         "{\"params\": [{\"name\": \"a\", \"type\": \"int\", \"low\": 0.5, \"high\": 3}]}",
                         "{\"params\": [{\"name\": \"a\", \"type\": \"categorical\", \"choices\": []}]}",
                         "{\"params\": [{\"name\": \"a b\", \"type\": \"int\", \"low\": 0, \"high\": 3}]}",
                         "{\"params\": [{\"name\": \"a\", \"type\": \"int\", \"low\": 0, \"high\": 3},"
                         "{\"name\": \"a\", \"type\": \"int\", \"low\": 0, \"high\": 3}]}",
                         "[1, 2]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        s = NULL;
        int r = pk_bo_space_parse_json(bad[i], "bad.json", &s, &err);
        PK_CHECK_MSG(r == PK_EFORMAT && s == NULL && strstr(err.msg, "bad.json"), "case %zu: %d %s", i, r, err.msg);
    }
    ei_per_second_prefers_cheap();
    return pk_test_done();
}
