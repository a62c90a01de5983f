/* Each representation preserves the measure: exact answers from conjugacy,
 * forward-backward and enumeration, within 3 Monte Carlo standard errors. */
#include <stdlib.h>

#include "models.h"
#include "pk_test.h"

/* Mean and standard error of `reps` independent estimates. */
static void rep_stats(const double *v, int reps, double *mean, double *se)
{
    double var;
    pk_mean_var(v, (size_t)reps, mean, &var);
    *se = sqrt(var / reps);
}

static void test_distributions(void)
{
    /* quantile inverts the CDF: logpdf integrates to ~1 on a grid, discrete sums exactly */
    pk_dist ds[] = {pk_normal(1, 2), pk_gamma(2.5, 3), pk_beta(2, 5), pk_exponential(0.5), pk_lognormal(0, 0.5),
                    pk_student_t(4, 1, 2), pk_uniform(-1, 3)};
    for (size_t k = 0; k < sizeof ds / sizeof *ds; k++) {
        double lo = pk_dist_quantile(&ds[k], 1e-9), hi = pk_dist_quantile(&ds[k], 1 - 1e-9), s = 0;
        int M = 200000;
        double h = (hi - lo) / M;
        for (int i = 0; i < M; i++)
            s += exp(pk_dist_logpdf(&ds[k], lo + (i + 0.5) * h)) * h;
        PK_CHECK_MSG(fabs(s - 1) < 1e-4, "dist %zu integrates to %g", k, s);
        /* quantile(0.3) has CDF 0.3: check by integrating up to it */
        double q = pk_dist_quantile(&ds[k], 0.3), c = 0;
        h = (q - lo) / M;
        for (int i = 0; i < M; i++)
            c += exp(pk_dist_logpdf(&ds[k], lo + (i + 0.5) * h)) * h;
        PK_CHECK_MSG(fabs(c - 0.3) < 1e-4, "dist %zu: CDF(quantile(0.3)) = %g", k, c);
    }
    double p[] = {0.2, 0, 0.5, 0.3};
    pk_dist dd[] = {pk_binomial(12, 0.3), pk_poisson(4.5), pk_categorical(p, 4), pk_bernoulli(0.3)};
    for (size_t k = 0; k < 4; k++) {
        double s = 0, m = 0;
        for (int x = 0; x < 200; x++) {
            double w = exp(pk_dist_logpdf(&dd[k], x));
            s += w;
            m += x * w;
        }
        PK_CHECK_CLOSE(s, 1.0, 1e-12, 0);
        PK_CHECK_CLOSE(m, pk_dist_mean(&dd[k]), 1e-10, 0);
        /* quantile is the smallest x with CDF >= u */
        double u = 0.61, c = 0;
        int x = 0;
        for (;; x++) {
            c += exp(pk_dist_logpdf(&dd[k], x));
            if (c >= u)
                break;
        }
        PK_CHECK(pk_dist_quantile(&dd[k], u) == x);
    }
    pk_dist bad = pk_normal(0, -1);
    PK_CHECK(pk_dist_check(&bad) == PK_EDOM);
    PK_CHECK(isnan(pk_dist_logpdf(&bad, 0)));
    PK_CHECK(pk_dist_logpdf(&dd[0], 13) == -INFINITY);
    PK_CHECK(pk_dist_logpdf(&dd[0], 2.5) == -INFINITY);
}

static void test_resampling(void)
{
    /* E[copies of i] = n w_i for every scheme */
    double lw[5] = {log(0.1), log(0.4), -INFINITY, log(0.25), log(0.25)};
    pk_rng r;
    pk_rng_seed(&r, 11);
    for (int kind = 0; kind <= PK_RESAMPLE_RESIDUAL; kind++) {
        size_t anc[7], cnt[5] = {0};
        int R = 20000, zero_picked = 0;
        for (int t = 0; t < R; t++) {
            PK_CHECK_OK(pk_infer_resample(&r, lw, 5, 7, kind, anc));
            for (int j = 0; j < 7; j++) {
                cnt[anc[j]]++;
                zero_picked |= anc[j] == 2;
            }
        }
        PK_CHECK(!zero_picked);
        double w[5] = {0.1, 0.4, 0, 0.25, 0.25};
        for (int i = 0; i < 5; i++) {
            double e = 7.0 * w[i] * R, sd = sqrt(7.0 * w[i] * (1 - w[i]) * R) + 1e-9;
            PK_CHECK_MSG(fabs(cnt[i] - e) <= 5 * sd, "scheme %d: index %d drawn %zu times, expected %.0f", kind, i,
                         cnt[i], e);
        }
    }
    double z[2] = {-INFINITY, -INFINITY};
    size_t a2[2];
    PK_CHECK(pk_infer_resample(&r, z, 2, 2, PK_RESAMPLE_SYSTEMATIC, a2) == PK_EDOM);
}

static void test_conjugate(void)
{
    static const int y[] = {1, 1, 0, 1, 1, 1, 0, 1, 1, 0};
    bb_data bd = {10, y};
    pk_model bb = {beta_bernoulli, &bd, 1};
    static const double yn[] = {1.2, 0.4, 2.1, 1.7, 0.9};
    nn_data nd = {5, yn};
    pk_model nm = {normal_normal, &nd, 1};
    double bb_mean = 9.0 / 15.0, nn_mean = (1.2 + 0.4 + 2.1 + 1.7 + 0.9) / 6.0;

    enum { REPS = 40 };
    double est[REPS], zs[REPS], mean, se;
    pk_rng r;
    pk_rng_seed(&r, 5);
    pk_err err;

    /* importance sampling */
    for (int t = 0; t < REPS; t++) {
        pk_population *p;
        PK_CHECK_OK(pk_infer_importance(&bb, 1000, &r, &p, &err));
        est[t] = pk_population_mean(p, 0);
        zs[t] = exp(p->log_z - bb_log_z(&bd));
        pk_population_free(p);
    }
    rep_stats(est, REPS, &mean, &se);
    PK_CHECK_MSG(fabs(mean - bb_mean) < 3 * se + 1e-3, "IS beta-bernoulli mean %g vs %g (se %g)", mean, bb_mean, se);
    rep_stats(zs, REPS, &mean, &se);
    PK_CHECK_MSG(fabs(mean - 1) < 3 * se, "IS evidence ratio %g (se %g)", mean, se);

    /* SMC, resample-move SMC, every resampling scheme */
    for (int kind = 0; kind <= PK_RESAMPLE_RESIDUAL; kind++)
        for (int move = 0; move <= 1; move++) {
            pk_smc_params sp = pk_smc_params_default();
            sp.particles = 200;
            sp.resample = kind;
            sp.move_steps = move;
            for (int t = 0; t < REPS; t++) {
                pk_population *p;
                PK_CHECK_OK(pk_infer_smc(&nm, &sp, &r, &p, &err));
                est[t] = pk_population_mean(p, 0);
                zs[t] = exp(p->log_z - nn_log_z(&nd));
                pk_population_free(p);
            }
            rep_stats(est, REPS, &mean, &se);
            PK_CHECK_MSG(fabs(mean - nn_mean) < 3 * se + 2e-3, "SMC(%d,%d) normal mean %g vs %g (se %g)", kind, move,
                         mean, nn_mean, se);
            rep_stats(zs, REPS, &mean, &se);
            PK_CHECK_MSG(fabs(mean - 1) < 3 * se, "SMC(%d,%d) evidence ratio %g (se %g)", kind, move, mean, se);
        }

    /* trace MH */
    enum { STEPS = 20000 };
    double *draws = malloc(STEPS * sizeof *draws), acc;
    PK_CHECK_OK(pk_infer_mh(&bb, STEPS, &r, draws, &acc, &err));
    double m, v;
    pk_mean_var(draws + 1000, STEPS - 1000, &m, &v);
    double ess = pk_infer_ess_basic(draws + 1000, STEPS - 1000, 1);
    PK_CHECK(ess > 500);
    PK_CHECK_MSG(fabs(m - bb_mean) < 3 * sqrt(v / ess), "MH mean %g vs %g (mcse %g)", m, bb_mean, sqrt(v / ess));
    PK_CHECK_CLOSE(v, 9.0 * 6 / (15.0 * 15 * 16), 0, 0.1);
    free(draws);
}

static void test_hmm_smc(void)
{
    double post[HMM_T][3];
    double lz = hmm_exact(post);
    pk_model m = {hmm_model, NULL, HMM_T * 3};
    pk_smc_params sp = pk_smc_params_default();
    sp.particles = 300;
    enum { REPS = 200 };
    double *est = malloc(REPS * HMM_T * 3 * sizeof *est), zs[REPS];
    pk_rng r;
    pk_rng_seed(&r, 9);
    pk_err err;
    for (int t = 0; t < REPS; t++) {
        pk_population *p;
        PK_CHECK_OK(pk_infer_smc(&m, &sp, &r, &p, &err));
        for (int j = 0; j < HMM_T * 3; j++)
            est[j * REPS + t] = pk_population_mean(p, (size_t)j);
        zs[t] = exp(p->log_z - lz);
        pk_population_free(p);
    }
    int bad = 0;
    for (int j = 0; j < HMM_T * 3; j++) {
        double mean, se;
        rep_stats(est + j * REPS, REPS, &mean, &se);
        /* 48 marginals: allow 3.5 se plus the O(1/N) self-normalisation bias */
        if (fabs(mean - post[j / 3][j % 3]) > 3.5 * se + 2e-3) {
            bad++;
            fprintf(stderr, "HMM marginal t=%d k=%d: %g vs exact %g (se %g)\n", j / 3, j % 3, mean,
                    post[j / 3][j % 3], se);
        }
    }
    PK_CHECK(bad == 0);
    double mean, se;
    rep_stats(zs, REPS, &mean, &se);
    PK_CHECK_MSG(fabs(mean - 1) < 3 * se, "HMM SMC evidence: mean Z/Zexact %g (se %g) over %d runs", mean, se, REPS);
    free(est);
}

/* The same HMM in explicit sequential form: state = current hidden state. */
static void hmm_init_fn(pk_ctx *ctx, const void *data, void *state, double *out)
{
    (void)data, (void)out;
    *(int *)state = -1;
}

static void hmm_step_fn(pk_ctx *ctx, const void *data, size_t t, void *state, double *out)
{
    (void)data;
    int *s = state;
    *s = (int)pk_sample(ctx, pk_categorical(t == 0 ? hmm_init : hmm_trans[*s], 3));
    for (int k = 0; k < 3; k++)
        out[t * 3 + k] = *s == k;
    pk_observe(ctx, pk_normal(*s - 1.0, 1.0), hmm_obs[t]);
}

static void test_hmm_ssm(void)
{
    double post[HMM_T][3];
    double lz = hmm_exact(post);
    pk_ssm m = {sizeof(int), HMM_T, HMM_T * 3, hmm_init_fn, hmm_step_fn, NULL};
    pk_smc_params sp = pk_smc_params_default();
    sp.particles = 300;
    sp.ess_threshold = 0.5;
    enum { REPS = 200 };
    double *est = malloc(REPS * HMM_T * 3 * sizeof *est), zs[REPS];
    pk_rng r;
    pk_rng_seed(&r, 19);
    pk_err err;
    for (int t = 0; t < REPS; t++) {
        pk_population *p;
        PK_CHECK_OK(pk_infer_smc_ssm(&m, &sp, &r, &p, &err));
        for (int j = 0; j < HMM_T * 3; j++)
            est[j * REPS + t] = pk_population_mean(p, (size_t)j);
        zs[t] = exp(p->log_z - lz);
        pk_population_free(p);
    }
    int bad = 0;
    for (int j = 0; j < HMM_T * 3; j++) {
        double mean, se;
        rep_stats(est + j * REPS, REPS, &mean, &se);
        bad += fabs(mean - post[j / 3][j % 3]) > 3.5 * se + 2e-3;
    }
    PK_CHECK(bad == 0);
    double mean, se;
    rep_stats(zs, REPS, &mean, &se);
    PK_CHECK_MSG(fabs(mean - 1) < 3 * se, "HMM SSM evidence: mean Z/Zexact %g (se %g)", mean, se);
    sp.move_steps = 1;
    pk_population *p = NULL;
    PK_CHECK(pk_infer_smc_ssm(&m, &sp, &r, &p, &err) == PK_EINVAL && p == NULL);
    free(est);
}

/* Dirichlet-categorical: theta ~ Dir(1, 2, 3), counts observed; the posterior
 * is Dir(alpha + counts) with mean (alpha_i + n_i) / (sum alpha + n). */
static const int dc_obs[] = {0, 2, 2, 1, 2, 0, 2, 2};

static void dir_cat(pk_ctx *ctx, const void *data, double *out)
{
    (void)data;
    static const double alpha[3] = {1, 2, 3};
    double th[3];
    pk_sample_dirichlet(ctx, alpha, 3, th);
    for (int i = 0; i < 3; i++)
        out[i] = th[i];
    for (int i = 0; i < 8; i++)
        pk_observe(ctx, pk_categorical(th, 3), dc_obs[i]);
}

static void test_dirichlet(void)
{
    double a[3] = {1, 2, 3}, x[3] = {0.2, 0.3, 0.5};
    /* Dir(1,2,3) at x: Gamma(6)/(Gamma(1)Gamma(2)Gamma(3)) x2 x3^2 */
    PK_CHECK_CLOSE(pk_dirichlet_logpdf(a, 3, x), log(120.0 / 2.0 * 0.3 * 0.25), 1e-12, 1e-12);
    double off[3] = {0.2, 0.3, 0.6};
    PK_CHECK(pk_dirichlet_logpdf(a, 3, off) == -INFINITY);
    pk_model m = {dir_cat, NULL, 3};
    pk_smc_params sp = pk_smc_params_default();
    sp.particles = 500;
    pk_rng r;
    pk_rng_seed(&r, 23);
    pk_err err;
    enum { REPS = 30 };
    double est[3][REPS];
    for (int t = 0; t < REPS; t++) {
        pk_population *p;
        PK_CHECK_OK(pk_infer_smc(&m, &sp, &r, &p, &err));
        for (int i = 0; i < 3; i++)
            est[i][t] = pk_population_mean(p, (size_t)i);
        pk_population_free(p);
    }
    double post[3] = {3.0 / 14, 3.0 / 14, 8.0 / 14}; /* alpha + counts = (3, 3, 8) */
    for (int i = 0; i < 3; i++) {
        double mean, se;
        rep_stats(est[i], REPS, &mean, &se);
        PK_CHECK_MSG(fabs(mean - post[i]) < 3 * se + 2e-3, "Dirichlet posterior mean %d: %g vs %g (se %g)", i, mean,
                     post[i], se);
    }
}

static void test_enumeration(void)
{
    pk_model m = {sprinkler, NULL, 1};
    pk_population *p;
    pk_err err;
    PK_CHECK_OK(pk_infer_enumerate(&m, 0, &p, &err));
    /* by hand: P(wet, rain) and P(wet) */
    double pr = 0, pw = 0;
    for (int c = 0; c < 2; c++)
        for (int rn = 0; rn < 2; rn++)
            for (int s = 0; s < 2; s++) {
                double w = 0.5 * (rn ? (c ? 0.8 : 0.2) : (c ? 0.2 : 0.8)) * (s ? (c ? 0.1 : 0.5) : (c ? 0.9 : 0.5));
                double wet = rn && s ? 0.99 : rn || s ? 0.9 : 0.0;
                pw += w * wet;
                if (rn)
                    pr += w * wet;
            }
    PK_CHECK(p->n == 8);
    PK_CHECK_CLOSE(pk_population_mean(p, 0), pr / pw, 1e-14, 0);
    PK_CHECK_CLOSE(p->log_z, log(pw), 1e-14, 0);
    pk_population_free(p);
    /* continuous choices are refused */
    static const int y[] = {1};
    bb_data bd = {1, y};
    pk_model bb = {beta_bernoulli, &bd, 1};
    PK_CHECK(pk_infer_enumerate(&bb, 0, &p, &err) == PK_ENOTSUP);
    PK_CHECK(p == NULL);
}

static void nan_model(pk_ctx *ctx, const void *data, double *out)
{
    (void)data;
    out[0] = pk_sample(ctx, pk_normal(0, 1));
    pk_factor(ctx, NAN);
}

static void bad_param_model(pk_ctx *ctx, const void *data, double *out)
{
    (void)data;
    out[0] = pk_sample(ctx, pk_gamma(-1, 1));
}

static void impossible_model(pk_ctx *ctx, const void *data, double *out)
{
    (void)data;
    out[0] = pk_sample(ctx, pk_normal(0, 1));
    pk_observe(ctx, pk_uniform(0, 1), 5.0); /* outside the support: weight zero */
}

static void test_bad_input(void)
{
    pk_rng r;
    pk_rng_seed(&r, 1);
    pk_err err;
    pk_population *p = NULL;
    pk_model a = {nan_model, NULL, 1}, b = {bad_param_model, NULL, 1}, c = {impossible_model, NULL, 1};
    PK_CHECK(pk_infer_importance(&a, 10, &r, &p, &err) == PK_EDOM && p == NULL);
    PK_CHECK(pk_infer_importance(&b, 10, &r, &p, &err) == PK_EDOM && p == NULL);
    pk_smc_params sp = pk_smc_params_default();
    PK_CHECK(pk_infer_smc(&c, &sp, &r, &p, &err) == PK_EDOM && p == NULL);
    PK_CHECK(strstr(err.msg, "zero weight") != NULL);
    sp.ess_threshold = 2;
    PK_CHECK(pk_infer_smc(&c, &sp, &r, &p, &err) == PK_EINVAL);
    double o[10];
    PK_CHECK(pk_infer_mh(&c, 10, &r, o, NULL, &err) == PK_EDOM);
}

int main(void)
{
    test_distributions();
    test_resampling();
    test_conjugate();
    test_hmm_smc();
    test_hmm_ssm();
    test_enumeration();
    test_dirichlet();
    test_bad_input();
    return pk_test_done();
}
