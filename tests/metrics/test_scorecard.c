/* Scorecard statistics: IV = PSI identity, delta-method coverage, Z-test size,
 * binning, logistic regression against scikit-learn, fairness subset search. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "pk_test.h"
#include "probkit/metrics.h"
#include "probkit/scorecard.h"

typedef struct {
    size_t n, k;
    double X[300 * 4], y[300], coef[4];
} lr_fx;

static void on_line(const char *name, const double *v, size_t nv, void *ctx)
{
    lr_fx *f = ctx;
    if (!strcmp(name, "row") && nv == 4 && f->k < 300) {
        f->X[4 * f->k] = v[0];
        f->X[4 * f->k + 1] = v[1];
        f->X[4 * f->k + 2] = v[2];
        f->X[4 * f->k + 3] = 1.0;
        f->y[f->k++] = v[3];
    } else if (!strcmp(name, "coef") && nv == 4) {
        memcpy(f->coef, v, sizeof f->coef);
    }
}

static void test_identity(void)
{
    double g[] = {120, 340, 500, 260, 80}, b[] = {60, 90, 70, 25, 5};
    pk_divergence d;
    double woe[5], se[5];
    PK_CHECK_OK(pk_divergence_counts(g, b, 5, 0.5, &d, woe, se, NULL));
    /* PSI computed independently, sample 'good' against sample 'bad' */
    double G = 1300, B = 250, psi = 0, iv = 0;
    for (int i = 0; i < 5; i++) {
        double P = g[i] / G, Q = b[i] / B;
        psi += (P - Q) * log(P / Q);
        iv += (g[i] / G - b[i] / B) * woe[i];
        PK_CHECK_CLOSE(se[i], sqrt(1 / g[i] - 1 / G + 1 / b[i] - 1 / B), 1e-15, 1e-12);
    }
    PK_CHECK_CLOSE(d.jeffreys, psi, 1e-12, 0);
    PK_CHECK_CLOSE(iv, psi, 1e-12, 0);
    PK_CHECK_CLOSE(d.jeffreys, d.kl_pq + d.kl_qp, 1e-12, 0);
    PK_CHECK(!d.smoothed);
    PK_CHECK(d.js > 0 && d.js < 1);
    /* identical distributions: everything 0 */
    PK_CHECK_OK(pk_divergence_counts(g, g, 5, 0.5, &d, NULL, NULL, NULL));
    PK_CHECK_CLOSE(d.jeffreys, 0, 1e-15, 0);
    PK_CHECK_CLOSE(d.js, 0, 1e-15, 0);
    /* disjoint supports: JS is exactly 1 bit */
    double a1[] = {10, 0}, a2[] = {0, 10};
    PK_CHECK_OK(pk_divergence_counts(a1, a2, 2, 1e-300, &d, NULL, NULL, NULL));
    PK_CHECK_CLOSE(d.js, 1.0, 1e-9, 0);
    pk_err e;
    PK_CHECK(pk_divergence_counts(a1, a2, 2, 0.0, &d, NULL, NULL, &e) == PK_EDOM);
    PK_CHECK(pk_divergence_counts(a1, a2, 1, 0.5, &d, NULL, NULL, &e) == PK_EINVAL);
}

/* Coverage of IV +- 1.96 SE and size of the one-sided Z test, by simulation. */
static void test_coverage_and_size(void)
{
    const double p[] = {0.1, 0.25, 0.3, 0.2, 0.15}, q[] = {0.2, 0.3, 0.25, 0.15, 0.1};
    double J = 0;
    for (int i = 0; i < 5; i++)
        J += (p[i] - q[i]) * log(p[i] / q[i]);
    pk_rng r;
    pk_rng_seed(&r, 77);
    enum { S = 2000 };
    int cover = 0, reject = 0;
    for (int s = 0; s < S; s++) {
        uint64_t cg[5], cb[5];
        pk_rng_multinomial(&r, 4000, p, 5, cg);
        pk_rng_multinomial(&r, 1500, q, 5, cb);
        double g[5], b[5];
        for (int i = 0; i < 5; i++) {
            g[i] = (double)cg[i];
            b[i] = (double)cb[i];
        }
        pk_divergence d;
        PK_CHECK_OK(pk_divergence_counts(g, b, 5, 0.5, &d, NULL, NULL, NULL));
        cover += fabs(d.jeffreys - J) <= 1.959964 * d.jeffreys_se;
        double pv;
        pk_divergence_ztest(&d, J, &pv);
        reject += pv < 0.05;
    }
    double cov = cover / (double)S, size = reject / (double)S;
    PK_CHECK_MSG(cov >= 0.93 && cov <= 0.97, "coverage %.4f", cov);
    PK_CHECK_MSG(size <= 0.07, "Z-test size %.4f at alpha 0.05", size);
}

static void test_binning(void)
{
    pk_rng r;
    pk_rng_seed(&r, 3);
    enum { N = 20000 };
    double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    for (size_t i = 0; i < N; i++) {
        x[i] = pk_rng_uniform(&r) * 10;
        double pr = x[i] < 3 ? 0.05 : x[i] < 7 ? 0.15 : 0.4; /* a monotone step risk */
        y[i] = pk_rng_uniform(&r) < pr;
    }
    pk_bin_params P = pk_bin_params_default();
    pk_binning *b = NULL;
    PK_CHECK_OK(pk_binning_fit(x, y, N, &P, &b, NULL));
    if (b) {
        PK_CHECK(b->nbins >= 3 && b->nbins <= P.max_bins);
        /* the two true thresholds are among the cuts (to the quantile grid's resolution) */
        int f3 = 0, f7 = 0;
        for (size_t k = 0; k + 1 < b->nbins; k++) {
            f3 |= fabs(b->cuts[k] - 3) < 0.25;
            f7 |= fabs(b->cuts[k] - 7) < 0.25;
        }
        PK_CHECK(f3 && f7);
        double tot = 0;
        for (size_t k = 0; k < b->nbins; k++) {
            tot += b->n_good[k] + b->n_bad[k];
            PK_CHECK(b->n_good[k] + b->n_bad[k] >= P.min_frac * N - 1);
            if (k)
                PK_CHECK(b->woe[k] <= b->woe[k - 1] + 1e-12); /* risk rises with x: WoE falls */
        }
        PK_CHECK(tot == N);
        PK_CHECK(b->div.jeffreys > 0.3);
        PK_CHECK(pk_binning_index(b, -5) == 0 && pk_binning_index(b, 50) == b->nbins - 1);
        /* divergence against an independent group is near 0, and its Z test does not reject */
        double *z = malloc(N * sizeof *z);
        for (size_t i = 0; i < N; i++)
            z[i] = pk_rng_uniform(&r) < 0.3;
        pk_divergence d;
        PK_CHECK_OK(pk_binning_divergence(b, x, z, N, 0.5, &d, NULL));
        PK_CHECK(d.jeffreys < 0.01);
        free(z);
    }
    pk_binning_free(b);
    /* pure noise: no significant split, a single bin */
    for (size_t i = 0; i < N; i++)
        y[i] = pk_rng_uniform(&r) < 0.2;
    PK_CHECK_OK(pk_binning_fit(x, y, N, &P, &b, NULL));
    if (b)
        PK_CHECK(b->nbins <= 2);
    pk_binning_free(b);
    pk_err e;
    for (size_t i = 0; i < N; i++)
        y[i] = 1;
    PK_CHECK(pk_binning_fit(x, y, N, &P, &b, &e) == PK_EDOM && b == NULL);
    PK_CHECK(strstr(e.msg, "single class") != NULL);
    y[0] = 0;
    x[5] = NAN;
    PK_CHECK(pk_binning_fit(x, y, N, &P, &b, &e) == PK_EDOM);
    P.max_bins = 1;
    PK_CHECK(pk_binning_fit(x, y, N, &P, &b, &e) == PK_EINVAL);
    free(x);
    free(y);
}

static void test_fair_select(void)
{
    const double iv[] = {0.5, 0.3, 0.2, 0.1}, fiv[] = {0.08, 0.01, 0.05, 0.0}, fse[] = {0.01, 0.005, 0.01, 0.002};
    uint32_t mask;
    double v, prev = -1;
    for (double eps = 0; eps <= 0.2; eps += 0.01) {
        PK_CHECK_OK(pk_fair_select(iv, fiv, fse, 4, 1.645, eps, &mask, &v, NULL));
        PK_CHECK(v >= prev); /* the frontier is monotone */
        prev = v;
        double f = 0, s2 = 0;
        for (int j = 0; j < 4; j++)
            if (mask >> j & 1) {
                f += fiv[j];
                s2 += fse[j] * fse[j];
            }
        PK_CHECK(f + 1.645 * sqrt(s2) <= eps + 1e-15);
    }
    PK_CHECK_CLOSE(prev, 1.1, 1e-12, 0);
    PK_CHECK_OK(pk_fair_select(iv, fiv, fse, 4, 1.645, 0.02, &mask, &v, NULL));
    PK_CHECK(mask == 0xA); /* features 1 and 3: 0.011 + 1.645 * 0.0054 <= 0.02 */
    PK_CHECK_OK(pk_fair_select(iv, fiv, fse, 4, 1.645, -1, &mask, &v, NULL));
    PK_CHECK(v == -1);
}

static void test_categorical(void)
{
    /* 6 levels (level 5 never seen) with bad rates 0.05, 0.40, 0.06, 0.40, 0.20: levels
     * 0 and 2 (safe) and 1 and 3 (risky) must share bins, and WoE follows the bad rate */
    pk_rng r;
    pk_rng_seed(&r, 11);
    enum { N = 20000 };
    const double rate[] = {0.05, 0.40, 0.06, 0.40, 0.20};
    double *c = malloc(N * sizeof *c), *y = malloc(N * sizeof *y);
    for (size_t i = 0; i < N; i++) {
        size_t l = i % 5;
        c[i] = (double)l;
        y[i] = pk_rng_uniform(&r) < rate[l];
    }
    pk_binning *b = NULL;
    PK_CHECK_OK(pk_binning_fit_categorical(c, 6, y, N, NULL, &b, NULL));
    PK_CHECK(b && b->nbins == 3 && b->nlevels == 6);
    if (b && b->nbins == 3) {
        PK_CHECK(b->level_bin[0] == b->level_bin[2] && b->level_bin[1] == b->level_bin[3]);
        PK_CHECK(b->level_bin[0] != b->level_bin[4] && b->level_bin[4] != b->level_bin[1]);
        size_t safe = b->level_bin[0], mid = b->level_bin[4], risky = b->level_bin[1];
        PK_CHECK(b->woe[safe] > b->woe[mid] && b->woe[mid] > b->woe[risky]);
        PK_CHECK(pk_binning_index(b, 5) == b->other_bin && pk_binning_index(b, 7) == b->other_bin);
        PK_CHECK(pk_binning_index(b, 2) == b->level_bin[2]);
        double tot = 0;
        for (size_t k = 0; k < 3; k++)
            tot += b->n_good[k] + b->n_bad[k];
        PK_CHECK(tot == N);
    }
    pk_binning_free(b);
    c[7] = 2.5;
    PK_CHECK(pk_binning_fit_categorical(c, 6, y, N, NULL, &b, NULL) == PK_EDOM && b == NULL);
    c[7] = 6;
    PK_CHECK(pk_binning_fit_categorical(c, 6, y, N, NULL, &b, NULL) == PK_EDOM);
    free(c);
    free(y);
}

typedef struct sim_stats {
    const double *X, *a;
    size_t n;
    int seen;
} sim_stats;

/* mean of column j (ln when lg) over rows whose protected flag is `grp` (-1: all) */
static double col_mean(const sim_stats *s, int j, int lg, int grp)
{
    double m = 0;
    size_t c = 0;
    for (size_t i = 0; i < s->n; i++)
        if (grp < 0 || s->a[i] == grp) {
            m += lg ? log(s->X[7 * i + j]) : s->X[7 * i + j];
            c++;
        }
    return m / (double)c;
}

static void sim_line(const char *name, const double *v, size_t n, void *ctx)
{
    sim_stats *s = ctx;
    s->seen++;
    if (!strcmp(name, "mean_ln_mortgage") && n == 3) {
        PK_CHECK_CLOSE(col_mean(s, 0, 1, -1), v[0], 0.01, 0);
        PK_CHECK_CLOSE(col_mean(s, 0, 1, 1), v[1], 0.01, 0); /* protected = race 0 */
        PK_CHECK_CLOSE(col_mean(s, 0, 1, 0), v[2], 0.01, 0);
    } else if (!strcmp(name, "mean_balance"))
        PK_CHECK_CLOSE(col_mean(s, 1, 0, -1), v[0], 0, 0.04);
    else if (!strcmp(name, "mean_past_due"))
        PK_CHECK_CLOSE(col_mean(s, 2, 0, -1), v[0], 0, 0.06);
    else if (!strcmp(name, "mean_utilization"))
        PK_CHECK_CLOSE(col_mean(s, 3, 0, -1), v[0], 0.01, 0);
    else if (!strcmp(name, "mean_inquiry"))
        PK_CHECK_CLOSE(col_mean(s, 5, 0, -1), v[0], 0.02, 0);
    else if (!strcmp(name, "mean_open_trade"))
        PK_CHECK_CLOSE(col_mean(s, 6, 0, -1), v[0], 0.015, 0);
    else if (!strcmp(name, "delinquent_share")) {
        double c = 0;
        for (size_t i = 0; i < s->n; i++)
            c += s->X[7 * i + 4] > 0;
        PK_CHECK_CLOSE(c / (double)s->n, v[0], 0.012, 0);
    } else if (!strcmp(name, "protected")) {
        double c = 0;
        for (size_t i = 0; i < s->n; i++)
            c += s->a[i];
        PK_CHECK_CLOSE(c / (double)s->n, v[0], 0.012, 0);
    } else
        s->seen += 100;
}

static void test_simulator_and_boost(void)
{
    pk_rng r;
    pk_rng_seed(&r, 8);
    enum { N = 20000 };
    double *X = malloc(7 * N * sizeof *X), *y = malloc(N * sizeof *y), *a = malloc(N * sizeof *a);
    pk_credit_simulate(&r, N, X, y, a);
    double dr = 0, pr = 0;
    for (size_t i = 0; i < N; i++) {
        dr += y[i];
        pr += a[i];
    }
    PK_CHECK_CLOSE(dr / N, 0.15, 0.01, 0);
    PK_CHECK_CLOSE(pr / N, 0.30, 0.01, 0);
    /* the feature distributions follow SimuCredit_v2 (tests/ref/metrics_simucredit.py) */
    sim_stats st = {X, a, N, 0};
    PK_CHECK(fixture_each("simucredit.txt", sim_line, &st) == 0);
    PK_CHECK(st.seen == 8);
    for (size_t i = 0; i < N; i++) {
        const double *x = X + 7 * i;
        /* past due exactly when delinquent, never above the balance; open trades <= inquiries */
        PK_CHECK((x[2] > 0) == (x[4] > 0) || (x[4] > 0 && x[2] == 0 && x[1] < 0.01));
        PK_CHECK(x[2] <= x[1] && x[6] <= x[5] && x[3] > 0 && x[3] <= 1);
    }
    /* boosting stumps on the binned features beats a constant score */
    uint16_t *codes = malloc(7 * N * sizeof *codes);
    size_t nb[7];
    double *col = malloc(N * sizeof *col), *score = malloc(N * sizeof *score);
    for (size_t j = 0; j < 7; j++) {
        for (size_t i = 0; i < N; i++)
            col[i] = X[7 * i + j];
        pk_binning *b = NULL;
        PK_CHECK_OK(pk_binning_fit(col, y, N, NULL, &b, NULL));
        nb[j] = b ? b->nbins : 1;
        for (size_t i = 0; i < N; i++)
            codes[7 * i + j] = b ? (uint16_t)pk_binning_index(b, col[i]) : 0;
        pk_binning_free(b);
    }
    PK_CHECK_OK(pk_stump_boost(codes, nb, N, 7, y, 100, 0.1, NULL, 0, score, NULL, NULL));
    double auc;
    PK_CHECK_OK(pk_roc_auc(score, y, N, &auc, NULL));
    PK_CHECK(auc > 0.7);
    free(codes);
    free(col);
    free(score);
    free(X);
    free(y);
    free(a);
}

int main(void)
{
    static lr_fx f;
    PK_CHECK(fixture_each("scorecard.txt", on_line, &f) == 0);
    PK_CHECK(f.k == 300);
    double w[4];
    PK_CHECK_OK(pk_logistic_fit(f.X, f.y, f.k, 4, 0.0, w, NULL));
    for (int j = 0; j < 4; j++)
        PK_CHECK_CLOSE(w[j], f.coef[j], 1e-6, 1e-5);
    test_identity();
    test_coverage_and_size();
    test_binning();
    test_fair_select();
    test_categorical();
    test_simulator_and_boost();
    return pk_test_done();
}
