/* Student-t process: marginal against quadrature over the variance, gradient by
 * central differences, predictive against a Monte Carlo mixture (1%). */
#include <math.h>
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/gp.h"

int main(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 5);
    size_t n = 20, d = 2;
    pk_mat *X = pk_mat_new(n, d);
    double y[20];
    for (size_t i = 0; i < n; i++) {
        *pk_mat_at(X, i, 0) = pk_rng_uniform(&rng) * 2 - 1;
        *pk_mat_at(X, i, 1) = pk_rng_uniform(&rng) * 2 - 1;
        y[i] = cos(3 * *pk_mat_at(X, i, 0)) + 0.3 * pk_rng_normal(&rng) * (i % 7 == 0 ? 5 : 1);
    }
    pk_tp *tp = pk_tp_new(pk_gp_kernel_new(PK_GP_KERNEL_NNGP_RELU, d, 0, 2));
    PK_CHECK_OK(pk_tp_set_data(tp, X, y, NULL));
    size_t nh = pk_tp_nhyper(tp);
    PK_CHECK(nh == 5);
    double h[5] = {log(1.5), log(0.2), log(0.05), log(3.0), log(1.5)};
    pk_tp_set_hyper(tp, h);
    double lml, g[5];
    PK_CHECK_OK(pk_tp_log_marginal(tp, &lml, g));

    /* marginal = integral over s2 of N(y; 0, s2 K) InvGamma(s2; a, b) */
    pk_gp *gp = pk_tp_gp(tp);
    const double *alpha = pk_gp_alpha(gp);
    double quad = 0, a = 3.0, b = 1.5;
    for (size_t i = 0; i < n; i++)
        quad += y[i] * alpha[i];
    double logdet = pk_cholesky_logdet(pk_gp_chol(gp));
    pk_lse_stream acc;
    pk_lse_stream_init(&acc);
    double du = 1e-3;
    for (double u = -15; u < 15; u += du) { /* u = log s2 */
        double s2 = exp(u);
        double ll = -0.5 * n * log(2 * M_PI * s2) - 0.5 * logdet - 0.5 * quad / s2;
        double lp = a * log(b) - lgamma(a) - (a + 1) * u - b / s2 + u; /* + u: Jacobian ds2 = s2 du */
        pk_lse_stream_add(&acc, ll + lp + log(du));
    }
    PK_CHECK_CLOSE(lml, pk_lse_stream_value(&acc), 1e-6, 1e-8);

    for (size_t p = 0; p < nh; p++) {
        double e = 1e-5, h0 = h[p], fp, fm;
        h[p] = h0 + e;
        pk_tp_set_hyper(tp, h);
        pk_tp_log_marginal(tp, &fp, NULL);
        h[p] = h0 - e;
        pk_tp_set_hyper(tp, h);
        pk_tp_log_marginal(tp, &fm, NULL);
        h[p] = h0;
        pk_tp_set_hyper(tp, h);
        PK_CHECK_CLOSE(g[p], (fp - fm) / (2 * e), 1e-5, 1e-5);
    }

    /* predictive density of f* against a Monte Carlo mixture over s2 | y */
    double xs[2] = {0.4, -0.3};
    pk_mat Xs = pk_mat_view(xs, 1, 2);
    double loc, sc2, dof, gm, gv;
    PK_CHECK_OK(pk_tp_predict(tp, &Xs, &loc, &sc2, &dof, 0));
    PK_CHECK_CLOSE(dof, 2 * a + n, 0, 1e-12);
    pk_gp_predict(gp, &Xs, &gm, &gv, 0); /* N(gm, s2 gv) given s2 */
    double ap = a + 0.5 * n, bp = b + 0.5 * quad;
    size_t M = 200000;
    double pts[3] = {loc, loc + sqrt(sc2), loc - 2.5 * sqrt(sc2)}, dens[3] = {0, 0, 0};
    double mvar = 0;
    for (size_t k = 0; k < M; k++) {
        double s2 = bp / pk_rng_gamma(&rng, ap); /* InvGamma(ap, bp) */
        mvar += s2 * gv / M;
        for (int q = 0; q < 3; q++) {
            double z = pts[q] - gm;
            dens[q] += exp(-0.5 * z * z / (s2 * gv)) / sqrt(2 * M_PI * s2 * gv) / M;
        }
    }
    for (int q = 0; q < 3; q++)
        PK_CHECK_CLOSE(exp(pk_student_t_logpdf(pts[q], loc, sc2, dof)), dens[q], 0, 0.01);
    PK_CHECK_CLOSE(sc2 * dof / (dof - 2), mvar, 0, 0.01);
    PK_CHECK_CLOSE(loc, gm, 1e-12, 1e-12);

    /* the predictive of y* (noise included): given s2, y* ~ N(gm, s2 (gv + noise)),
     * because the inverse-gamma scale multiplies the noise as well */
    double yloc, ysc2, ydof, nv = pk_gp_noise_var(gp), yd = 0, ypt = loc - 1.7 * sqrt(sc2);
    PK_CHECK_OK(pk_tp_predict(tp, &Xs, &yloc, &ysc2, &ydof, 1));
    PK_CHECK_CLOSE(ysc2, sc2 * (gv + nv) / gv, 1e-12, 1e-12);
    for (size_t k = 0; k < M; k++) {
        double s2 = bp / pk_rng_gamma(&rng, ap), z = ypt - gm;
        yd += exp(-0.5 * z * z / (s2 * (gv + nv))) / sqrt(2 * M_PI * s2 * (gv + nv)) / M;
    }
    PK_CHECK_CLOSE(exp(pk_student_t_logpdf(ypt, yloc, ysc2, ydof)), yd, 0, 0.01);

    /* ML-II improves the marginal likelihood */
    double lml_fit;
    pk_gp_fit_params fp = pk_gp_fit_params_default();
    PK_CHECK_OK(pk_tp_fit(tp, &fp, &rng, &lml_fit, NULL));
    PK_CHECK_MSG(lml_fit >= lml, "fit %g < start %g", lml_fit, lml);

    /* Why ML-II of a runs away: for a fixed kernel the best b is a q / n
     * (q = y'K^{-1}y), where d lml / d log b = 0, and the profile over b then
     * rises with a towards the GP limit, whatever the data (y holds a single
     * draw of the scale s2). */
    pk_tp_get_hyper(tp, h);
    double prev = -INFINITY, qf = 0;
    pk_tp_log_marginal(tp, NULL, NULL);
    const double *al = pk_gp_alpha(pk_tp_gp(tp));
    for (size_t i = 0; i < n; i++)
        qf += y[i] * al[i];
    for (double aa = 0.5; aa <= 5000; aa *= 4) {
        h[3] = log(aa);
        h[4] = log(aa * qf / n);
        pk_tp_set_hyper(tp, h);
        double lp, gp5[5];
        PK_CHECK_OK(pk_tp_log_marginal(tp, &lp, gp5));
        PK_CHECK_MSG(fabs(gp5[4]) < 1e-9 * (1 + aa), "a = %g: d/dlog b = %g at b = a q / n", aa, gp5[4]);
        PK_CHECK_MSG(lp > prev, "a = %g: profile %.10g not above %.10g", aa, lp, prev);
        PK_CHECK_MSG(gp5[3] > 0, "a = %g: d/dlog a = %g", aa, gp5[3]);
        prev = lp;
    }
    /* ... to the GP with scale c = b / a, N(0, c (K + noise I)); the formula
     * must not lose its digits on the way (a once reached 1e56 in a fit) */
    double logdet_k = pk_cholesky_logdet(pk_gp_chol(pk_tp_gp(tp))), c = 0.7;
    double gp_lim = -0.5 * qf / c - 0.5 * logdet_k - 0.5 * n * log(2 * M_PI * c);
    /* the gap closes like 1/a: its first-order term is bounded by big / a */
    double hb = 0.5 * qf / c, big = 0.25 * n * n + hb * hb + 0.5 * n * hb;
    for (double aa = 1e3; aa <= 1e60; aa *= 10) {
        h[3] = log(aa);
        h[4] = log(aa * c);
        pk_tp_set_hyper(tp, h);
        double lp, gp5[5];
        PK_CHECK_OK(pk_tp_log_marginal(tp, &lp, gp5));
        PK_CHECK_MSG(fabs(lp - gp_lim) < 1e-9 + big / aa, "a = %g: lml %.12g, GP limit %.12g", aa, lp, gp_lim);
        /* along b = c a (the profile direction) the slope vanishes too */
        PK_CHECK_MSG(isfinite(gp5[3]) && fabs(gp5[3] + gp5[4]) < 1e-9 + big / aa, "a = %g: slope %g", aa,
                     gp5[3] + gp5[4]);
    }
    pk_tp_free(tp);
    pk_mat_free(X);
    return pk_test_done();
}
