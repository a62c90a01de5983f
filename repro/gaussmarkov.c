/* Reproduction of "The Gauss-Markov Adjunction: Categorical Semantics of
 * Residuals in Supervised Learning" (Kamiura 2025).
 *
 * The paper is a formal (category-theoretic) account of multiple linear
 * regression; its claims are exact identities, so "reproducing" it means
 * measuring how close a floating-point least-squares solver comes to them on
 * real and simulated designs (the paper's value is exactly 0), and checking
 * the Gauss-Markov optimality that gives the adjunction its name by Monte
 * Carlo against another linear unbiased estimator.  See docs/ols.md. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/io.h"
#include "probkit/linalg.h"
#include "probkit/ols.h"
#include "probkit/plot.h"
#include "probkit/rng.h"
#include "repro.h"

#ifndef PK_SOURCE_DIR
#define PK_SOURCE_DIR "."
#endif

#define TOL 1e-10

static const char *sklearn_dir(void)
{
    const char *e = getenv("PK_SKLEARN_DATA");
    return e && *e ? e : "/usr/lib/python3/dist-packages/sklearn/datasets/data";
}

/* Whitespace-separated numbers of a (.gz) text file; *count gets how many. */
static double *read_numbers(const char *path, size_t *count)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (pk_file_read_all(path, 0, &buf, &len, NULL) != PK_OK)
        return NULL;
    size_t cap = 1024, n = 0;
    double *v = malloc(cap * sizeof *v);
    char *p = (char *)buf, *end;
    while (v) {
        double x = strtod(p, &end);
        if (end == p)
            break;
        if (n == cap) {
            double *nv = realloc(v, 2 * cap * sizeof *v);
            if (!nv) {
                free(v);
                v = NULL;
                break;
            }
            v = nv;
            cap *= 2;
        }
        v[n++] = x;
        p = end;
    }
    free(buf);
    *count = n;
    return v;
}

/* X (with a leading column of ones) and y; NULL X when the data are missing. */
typedef struct dataset {
    const char *name;
    size_t n, p;
    double *X, *y;
} dataset;

static int load_diabetes(dataset *d)
{
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/diabetes_data_raw.csv.gz", sklearn_dir());
    snprintf(b, sizeof b, "%s/diabetes_target.csv.gz", sklearn_dir());
    size_t nx = 0, ny = 0;
    double *x = read_numbers(a, &nx), *y = read_numbers(b, &ny);
    if (!x || !y || ny == 0 || nx != ny * 10) {
        free(x);
        free(y);
        return 0;
    }
    d->name = "diabetes";
    d->n = ny;
    d->p = 11;
    d->X = malloc(d->n * d->p * sizeof *d->X);
    if (!d->X) {
        free(x);
        free(y);
        return 0;
    }
    for (size_t i = 0; i < d->n; i++) {
        d->X[i * 11] = 1;
        memcpy(d->X + i * 11 + 1, x + i * 10, 10 * sizeof *x);
    }
    d->y = y;
    free(x);
    return 1;
}

static int load_boston(dataset *d)
{
    char a[1024];
    snprintf(a, sizeof a, "%s/boston_house_prices.csv", sklearn_dir());
    pk_csv_opts o = pk_csv_opts_default();
    o.skip_lines = 1;
    pk_table *t = NULL;
    if (pk_csv_read(a, &o, &t, NULL) != PK_OK)
        return 0;
    int yc = pk_table_find(t, "MEDV");
    if (yc < 0 || t->ncols != 14) {
        pk_table_free(t);
        return 0;
    }
    d->name = "boston";
    d->n = t->nrows;
    d->p = 14;
    d->X = malloc(d->n * d->p * sizeof *d->X);
    d->y = malloc(d->n * sizeof *d->y);
    int ok = d->X && d->y;
    for (size_t i = 0; ok && i < d->n; i++) {
        size_t q = 0;
        d->X[i * 14 + q++] = 1;
        for (size_t j = 0; j < 14; j++)
            if ((int)j != yc)
                d->X[i * 14 + q++] = t->values[i * 14 + j];
            else
                d->y[i] = t->values[i * 14 + j];
    }
    pk_table_free(t);
    return ok;
}

/* A seeded design with correlated columns on very different scales. */
static int make_sim(dataset *d, size_t n, size_t p, pk_rng *rng)
{
    d->name = "simulated";
    d->n = n;
    d->p = p;
    d->X = malloc(n * p * sizeof *d->X);
    d->y = malloc(n * sizeof *d->y);
    if (!d->X || !d->y)
        return 0;
    for (size_t i = 0; i < n; i++) {
        double common = pk_rng_normal(rng), s = 0;
        d->X[i * p] = 1;
        for (size_t j = 1; j < p; j++) {
            double scale = pow(10.0, 3.0 * (double)j / (double)p); /* 1 .. 1000 */
            d->X[i * p + j] = scale * (0.6 * common + 0.8 * pk_rng_normal(rng));
            s += d->X[i * p + j] / scale * (double)(j % 5);
        }
        d->y[i] = 2 + s + pk_rng_normal(rng);
    }
    return 1;
}

/* Fit with both solvers; report the worst violation of each identity. */
static int identities(pk_repro_ctx *ctx, const dataset *d, pk_rng *rng, double worst[6], pk_ols **keep)
{
    pk_mat X = pk_mat_view(d->X, d->n, d->p);
    for (int k = 0; k < 6; k++)
        worst[k] = 0;
    for (int m = 0; m < 2; m++) {
        pk_ols_params par = pk_ols_params_default();
        par.method = m ? PK_OLS_SVD : PK_OLS_QR;
        par.compute_pinv = 1;
        pk_ols *f = NULL;
        pk_err err;
        int st = pk_ols_fit(&X, d->y, &par, &f, &err);
        if (st != PK_OK) {
            pk_repro_log(ctx, "%s: %s", d->name, err.msg);
            pk_ols_free(f);
            return st;
        }
        pk_ols_identities id;
        st = pk_ols_check_identities(f, &X, d->y, 8, rng, &id);
        if (st != PK_OK) {
            pk_ols_free(f);
            return st;
        }
        double v[6] = {id.normal_eq, id.hat_idem, id.hat_sym, id.pinv_left, id.pythagoras, id.pinv_coef};
        for (int k = 0; k < 6; k++)
            worst[k] = fmax(worst[k], v[k]); /* fmax ignores a NaN */
        if (m == 0 && keep)
            *keep = f;
        else
            pk_ols_free(f);
    }
    return PK_OK;
}

static const char *ID_NAMES[6] = {"X^T r = 0", "H = XX^+ idempotent", "H symmetric", "X^+ X = I",
                                  "||Xa-y||^2 = ||X(a-X^+y)||^2 + ||r||^2", "QR/SVD coef = X^+ y"};

static void report_identities(pk_repro_ctx *ctx, const dataset *d, const double w[6], double *plot_vals)
{
    char metric[160], scale[96];
    snprintf(scale, sizeof scale, "%s %zu x %zu, QR and SVD", d->name, d->n, d->p);
    for (int k = 0; k < 6; k++) {
        snprintf(metric, sizeof metric, "%s: %s (max rel. violation)", d->name, ID_NAMES[k]);
        pk_repro_row(ctx, metric, w[k], 0.0, NAN, NULL, scale, pk_verdict_le(w[k], TOL));
        if (plot_vals)
            plot_vals[k] = w[k];
    }
}

/* numpy's coefficients on diabetes, committed by tests/ref/ols_diabetes_ref.py */
static double peer_diabetes(const pk_ols *f, double *peer_rss)
{
    *peer_rss = NAN;
    json_error_t je;
    json_t *r = json_load_file(PK_SOURCE_DIR "/tests/fixtures/ols/diabetes_ref.json", 0, &je);
    if (!r)
        return NAN;
    json_t *c = json_object_get(r, "coef");
    if (json_is_number(json_object_get(r, "rss")))
        *peer_rss = json_number_value(json_object_get(r, "rss"));
    double worst = json_array_size(c) == f->p ? 0 : NAN;
    for (size_t j = 0; j < f->p && !isnan(worst); j++) {
        double b = json_number_value(json_array_get(c, j));
        worst = fmax(worst, fabs(f->coef[j] - b) / fmax(fabs(b), 1e-300));
    }
    json_decref(r);
    return worst;
}

/* Gauss-Markov by Monte Carlo: OLS against weighted least squares with
 * deliberately wrong fixed weights (linear in y and unbiased, so the theorem
 * says its variance can only be larger). */
static int gauss_markov(pk_repro_ctx *ctx, pk_rng *rng)
{
    enum { n = 40, p = 3 };
    size_t reps = pk_repro_quick(ctx) ? 20000 : 200000;
    double X[n * p], w[n], beta[p] = {1.0, -2.0, 0.5}, A_ols[p * n], A_w[p * n];
    for (int i = 0; i < n; i++) {
        X[i * p] = 1;
        X[i * p + 1] = pk_rng_uniform(rng) * 10;
        X[i * p + 2] = pk_rng_normal(rng) + 0.3 * X[i * p + 1];
        w[i] = exp(2 * pk_rng_normal(rng)); /* weights spread over ~e^(+-4) */
    }
    /* A = (X^T W X)^{-1} X^T W through OLS on sqrt(W)-scaled rows: the estimators are b = A y */
    for (int which = 0; which < 2; which++) {
        double Xs[n * p];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < p; j++)
                Xs[i * p + j] = X[i * p + j] * (which ? sqrt(w[i]) : 1);
        pk_mat Xm = pk_mat_view(Xs, n, p);
        pk_ols_params par = pk_ols_params_default();
        par.compute_pinv = 1;
        par.compute_hat = 0;
        pk_ols *f = NULL;
        double ones[n];
        for (int i = 0; i < n; i++)
            ones[i] = 1;
        int st = pk_ols_fit(&Xm, ones, &par, &f, NULL);
        if (st != PK_OK) {
            pk_ols_free(f);
            return st;
        }
        for (int j = 0; j < p; j++)
            for (int i = 0; i < n; i++)
                (which ? A_w : A_ols)[j * n + i] = f->pinv[j * n + i] * (which ? sqrt(w[i]) : 1);
        pk_ols_free(f);
    }
    /* exact covariances (sigma = 1): A A^T; GM says A_w A_w^T - A_ols A_ols^T is PSD */
    double D[p * p], vo[p], vw[p];
    for (int a = 0; a < p; a++)
        for (int b = 0; b < p; b++) {
            double so = 0, sw = 0;
            for (int i = 0; i < n; i++) {
                so += A_ols[a * n + i] * A_ols[b * n + i];
                sw += A_w[a * n + i] * A_w[b * n + i];
            }
            D[a * p + b] = sw - so;
            if (a == b) {
                vo[a] = so;
                vw[a] = sw;
            }
        }
    double eig[p];
    pk_mat Dm = pk_mat_view(D, p, p);
    int st = pk_syev(&Dm, eig);
    if (st != PK_OK)
        return st;
    pk_repro_row(ctx, "GM: min eigenvalue of Cov(b_WLS) - Cov(b_OLS) (exact, sigma=1)", eig[0], NAN, NAN, NULL,
                 "n=40, p=3, wrong weights e^{2z}", pk_verdict_ge(eig[0], -1e-12));

    /* Monte Carlo with Student-t(5) noise scaled to unit variance: GM needs no normality */
    double *bo = malloc(reps * p * sizeof *bo), *bw = malloc(reps * p * sizeof *bw);
    if (!bo || !bw) {
        free(bo);
        free(bw);
        return PK_ENOMEM;
    }
    for (size_t r = 0; r < reps; r++) {
        double y[n];
        for (int i = 0; i < n; i++) {
            double chi = 0;
            for (int k = 0; k < 5; k++) {
                double z = pk_rng_normal(rng);
                chi += z * z;
            }
            double e = pk_rng_normal(rng) / sqrt(chi / 5) * sqrt(3.0 / 5.0);
            y[i] = X[i * p] * beta[0] + X[i * p + 1] * beta[1] + X[i * p + 2] * beta[2] + e;
        }
        for (int j = 0; j < p; j++) {
            double so = 0, sw = 0;
            for (int i = 0; i < n; i++) {
                so += A_ols[j * n + i] * y[i];
                sw += A_w[j * n + i] * y[i];
            }
            bo[r * p + j] = so;
            bw[r * p + j] = sw;
        }
    }
    char scale[96], metric[128];
    snprintf(scale, sizeof scale, "%zu MC draws, t(5) noise", reps);
    double *tmp = malloc(reps * sizeof *tmp);
    if (!tmp) {
        free(bo);
        free(bw);
        return PK_ENOMEM;
    }
    double zmax = 0, mo[p], mw[p], sdo[p], sdw[p];
    for (int j = 0; j < p; j++) {
        for (size_t r = 0; r < reps; r++)
            tmp[r] = bo[r * p + j];
        pk_mean_var(tmp, reps, &mo[j], &sdo[j]);
        for (size_t r = 0; r < reps; r++)
            tmp[r] = bw[r * p + j];
        pk_mean_var(tmp, reps, &mw[j], &sdw[j]);
        double ratio = sdw[j] / sdo[j];
        snprintf(metric, sizeof metric, "GM: Var(b%d WLS)/Var(b%d OLS), MC (exact %.3f)", j, j, vw[j] / vo[j]);
        pk_repro_row(ctx, metric, ratio, NAN, NAN, NULL, scale, pk_verdict_ge(ratio, 1.0));
        snprintf(metric, sizeof metric, "OLS Var(b%d): MC / exact sigma^2 (X^T X)^-1", j);
        pk_repro_row(ctx, metric, sdo[j] / vo[j], 1.0, NAN, NULL, scale,
                     /* the relative s.e. of a variance estimate is about sqrt(2/reps) */
                     fabs(sdo[j] / vo[j] - 1) < 10 * sqrt(2.0 / (double)reps) ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
        zmax = fmax(zmax, fabs(mo[j] - beta[j]) / sqrt(sdo[j] / (double)reps));
        zmax = fmax(zmax, fabs(mw[j] - beta[j]) / sqrt(sdw[j] / (double)reps));
    }
    pk_repro_row(ctx, "unbiasedness: max |mean(b) - beta| / MC s.e. (OLS and WLS)", zmax, NAN, NAN, NULL, scale,
                 pk_verdict_le(zmax, 5.0));
    for (int j = 0; j < p; j++) {
        sdo[j] = sqrt(sdo[j]);
        sdw[j] = sqrt(sdw[j]);
    }

    /* plot: sampling distribution of the slope b1 under both estimators */
    enum { NB = 60 };
    double lo = beta[1] - 4 * sdw[1], hi = beta[1] + 4 * sdw[1], width = (hi - lo) / NB;
    double xc[NB], ho[NB] = {0}, hw[NB] = {0};
    for (int b = 0; b < NB; b++)
        xc[b] = lo + (b + 0.5) * width;
    for (size_t r = 0; r < reps; r++) {
        int b1 = (int)floor((bo[r * p + 1] - lo) / width), b2 = (int)floor((bw[r * p + 1] - lo) / width);
        if (b1 >= 0 && b1 < NB)
            ho[b1] += 1.0 / ((double)reps * width);
        if (b2 >= 0 && b2 < NB)
            hw[b2] += 1.0 / ((double)reps * width);
    }
    pk_plot *pl = pk_plot_new("Gauss-Markov: sampling distribution of the slope", "estimate of beta_1 (true -2)",
                              "density");
    if (pl) {
        char lo_lab[96], lw_lab[96];
        snprintf(lo_lab, sizeof lo_lab, "OLS (sd %.4f)", sdo[1]);
        snprintf(lw_lab, sizeof lw_lab, "WLS, wrong weights (sd %.4f)", sdw[1]);
        pk_plot_bars(pl, lo_lab, xc, ho, NB, width);
        pk_plot_line(pl, lw_lab, xc, hw, NB);
        pk_plot_vline(pl, "true beta_1", beta[1]);
        pk_repro_plot(ctx, "gaussmarkov_mc", pl);
        pk_plot_free(pl);
    }
    free(tmp);
    free(bo);
    free(bw);
    return PK_OK;
}

static void plot_residuals(pk_repro_ctx *ctx, const pk_ols *f, const char *name)
{
    char title[128];
    snprintf(title, sizeof title, "OLS on %s: residuals vs fitted (R^2 = %.3f)", name, f->r2);
    pk_plot *pl = pk_plot_new(title, "fitted value", "residual");
    if (!pl)
        return;
    pk_plot_scatter(pl, NULL, f->fitted, f->resid, f->n);
    pk_plot_hline(pl, NULL, 0);
    pk_repro_plot(ctx, "gaussmarkov_residuals", pl);
    pk_plot_free(pl);
}

static int run(pk_repro_ctx *ctx)
{
    pk_rng rng;
    pk_rng_seed(&rng, pk_repro_seed(ctx));
    int quick = pk_repro_quick(ctx), st;
    double vals[3][6];
    const char *dnames[3] = {"simulated", "diabetes", "boston"};
    int have[3] = {0, 0, 0};

    dataset sim = {0};
    size_t sn = quick ? 5000 : 100000, sp = quick ? 20 : 50;
    if (!make_sim(&sim, sn, sp, &rng)) {
        free(sim.X);
        free(sim.y);
        return PK_ENOMEM;
    }
    double w[6];
    st = identities(ctx, &sim, &rng, w, NULL);
    free(sim.X);
    free(sim.y);
    if (st != PK_OK)
        return st;
    report_identities(ctx, &sim, w, vals[0]);
    have[0] = 1;

    dataset db = {0};
    if (load_diabetes(&db)) {
        pk_ols *f = NULL;
        st = identities(ctx, &db, &rng, w, &f);
        if (st == PK_OK) {
            report_identities(ctx, &db, w, vals[1]);
            have[1] = 1;
            double peer_rss, peer = peer_diabetes(f, &peer_rss);
            pk_repro_row(ctx, "diabetes: coefficients, max rel. diff to numpy.linalg.lstsq", peer, NAN, NAN,
                         "numpy lstsq", "442 x 11", isnan(peer) ? PK_VERDICT_SKIP : pk_verdict_le(peer, 1e-8));
            pk_repro_row(ctx, "diabetes: residual sum of squares", f->rss, NAN, peer_rss, "numpy lstsq", "442 x 11",
                         fabs(f->rss - peer_rss) <= 1e-10 * peer_rss ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
            pk_repro_row(ctx, "diabetes: R^2", f->r2, NAN, NAN, NULL, "442 x 11", PK_VERDICT_INFO);
            pk_repro_row(ctx, "diabetes: condition number of X", f->cond, NAN, NAN, NULL, "442 x 11", PK_VERDICT_INFO);
            plot_residuals(ctx, f, "diabetes");
        }
        pk_ols_free(f);
    } else {
        pk_repro_row(ctx, "diabetes: identities", NAN, 0.0, NAN, NULL, "sklearn diabetes CSV not found",
                     PK_VERDICT_SKIP);
    }
    free(db.X);
    free(db.y);
    if (st != PK_OK)
        return st;

    dataset bo = {0};
    if (load_boston(&bo)) {
        st = identities(ctx, &bo, &rng, w, NULL);
        if (st == PK_OK) {
            report_identities(ctx, &bo, w, vals[2]);
            have[2] = 1;
        }
    } else {
        pk_repro_row(ctx, "boston: identities", NAN, 0.0, NAN, NULL, "sklearn boston CSV not found", PK_VERDICT_SKIP);
    }
    free(bo.X);
    free(bo.y);
    if (st != PK_OK)
        return st;

    /* the identities on a log scale against the 1e-10 tolerance */
    pk_plot *pl = pk_plot_new("Least-squares identities: worst relative violation (QR and SVD)",
                              "identity (1 X^T r, 2 H^2=H, 3 H=H^T, 4 X^+X=I, 5 Pythagoras, 6 coef=X^+y)",
                              "max relative violation");
    if (pl) {
        pk_plot_set_log(pl, 0, 1);
        pk_plot_set_xrange(pl, 0.5, 6.5);
        pk_plot_set_yrange(pl, 1e-18, 1e-8);
        for (int d = 0; d < 3; d++) {
            if (!have[d])
                continue;
            double x[6], v[6];
            for (int k = 0; k < 6; k++) {
                x[k] = k + 1 + (d - 1) * 0.27;
                v[k] = vals[d][k] > 0 ? vals[d][k] : 1e-18; /* exact zero drawn at the floor */
            }
            pk_plot_bars(pl, dnames[d], x, v, 6, 0.25);
        }
        pk_plot_hline(pl, "tolerance 1e-10", TOL);
        pk_repro_plot(ctx, "gaussmarkov_identities", pl);
        pk_plot_free(pl);
    }

    st = gauss_markov(ctx, &rng);
    if (st != PK_OK)
        return st;
    pk_repro_note(ctx,
                  "The paper proves exact identities, so its value for every violation is 0; we pass when the "
                  "floating-point violation is at most 1e-10 relative. The adjunction pairs F(a) = Xa "
                  "(parameters to data) with the least-squares map y -> X^+ y; the unit/counit are X^+X (= I at "
                  "full rank) and the projection H = XX^+, and limit preservation corresponds to "
                  "||Xa - y||^2 = ||X(a - X^+y)||^2 + ||r||^2. The Gauss-Markov rows compare OLS with a "
                  "deliberately mis-weighted WLS (also linear and unbiased) under non-Gaussian noise.");
    return PK_OK;
}

const pk_repro pk_repro_gaussmarkov = {"gaussmarkov", PK_REPRO_IMPLEMENTED,
                                       "OLS identities of the adjunction (QR/SVD, simulated + diabetes + boston) "
                                       "and Gauss-Markov optimality by Monte Carlo",
                                       run};
