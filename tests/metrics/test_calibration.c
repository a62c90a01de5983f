/* Calibration metrics against scikit-learn (tests/ref/metrics_calibration.py). */
#include <math.h>
#include <stdlib.h>

#include "fixture.h"
#include "pk_test.h"
#include "probkit/metrics.h"

typedef struct {
    size_t n, k;
    double p[400], y[400], pt[400];
    double brier, logloss, auc, platt[2], temp, iso[41];
    double cu[30], cq[15];
    size_t ncu, ncq;
} fx;

static void on_line(const char *name, const double *v, size_t nv, void *ctx)
{
    fx *f = ctx;
    if (!strcmp(name, "row") && nv == 3 && f->k < 400) {
        f->p[f->k] = v[0];
        f->y[f->k] = v[1];
        f->pt[f->k++] = v[2];
    } else if (!strcmp(name, "n")) {
        f->n = (size_t)v[0];
    } else if (!strcmp(name, "brier")) {
        f->brier = v[0];
    } else if (!strcmp(name, "logloss")) {
        f->logloss = v[0];
    } else if (!strcmp(name, "auc")) {
        f->auc = v[0];
    } else if (!strcmp(name, "platt")) {
        f->platt[0] = v[0];
        f->platt[1] = v[1];
    } else if (!strcmp(name, "temperature")) {
        f->temp = v[0];
    } else if (!strcmp(name, "iso_probe") && nv == 41) {
        memcpy(f->iso, v, sizeof f->iso);
    } else if (!strcmp(name, "curve_uniform_10")) {
        f->ncu = (size_t)v[0];
        memcpy(f->cu, v + 1, 2 * f->ncu * sizeof *v);
    } else if (!strcmp(name, "curve_quantile_5")) {
        f->ncq = (size_t)v[0];
        memcpy(f->cq, v + 1, 2 * f->ncq * sizeof *v);
    }
}

static void test_hand_examples(void)
{
    /* two bins by hand: p = {0.1, 0.2, 0.8, 0.9}, y = {0, 1, 1, 1} with 2 equal-width bins:
     * bin 0: pbar 0.15, ybar 0.5 -> gap 0.35; bin 1: pbar 0.85, ybar 1 -> gap 0.15 */
    double p[] = {0.1, 0.2, 0.8, 0.9}, y[] = {0, 1, 1, 1};
    pk_calib_metrics m;
    PK_CHECK_OK(pk_calib_compute(p, y, NULL, 4, 2, &m, NULL));
    PK_CHECK_CLOSE(m.ece, 0.5 * 0.35 + 0.5 * 0.15, 1e-15, 0);
    PK_CHECK_CLOSE(m.mce, 0.35, 1e-15, 0);
    PK_CHECK_CLOSE(m.ece_mass, 0.25, 1e-15, 0);
    /* KS: cumulative (y - p) over sorted p = -0.1, 0.7, 0.9, 1.0 -> max 1.0 / 4 */
    PK_CHECK_CLOSE(m.ks, 0.25, 1e-15, 0);
    PK_CHECK_CLOSE(m.auc, 1.0, 0, 0);
    PK_CHECK(isnan(m.mse_true));
    /* a perfectly calibrated population: ECE on the true probabilities shrinks */
    pk_rng r;
    pk_rng_seed(&r, 1);
    enum { N = 200000 };
    double *pp = malloc(N * sizeof *pp), *yy = malloc(N * sizeof *yy);
    for (size_t i = 0; i < N; i++) {
        pp[i] = pk_rng_uniform(&r);
        yy[i] = pk_rng_uniform(&r) < pp[i];
    }
    PK_CHECK_OK(pk_calib_compute(pp, yy, pp, N, 15, &m, NULL));
    PK_CHECK(m.ece < 0.01);
    PK_CHECK(m.ks < 0.005);
    PK_CHECK_CLOSE(m.mse_true, 0.0, 0, 0);
    PK_CHECK_CLOSE(m.brier, 1.0 / 6.0, 3e-3, 0); /* E[p(1-p)] for p ~ U(0,1) */
    free(pp);
    free(yy);
}

static void test_errors(void)
{
    double p[] = {0.5, 1.5}, y[] = {0, 1}, y2[] = {1, 1}, q[] = {0.2, 0.7};
    pk_calib_metrics m;
    pk_err e;
    pk_err_clear(&e);
    PK_CHECK(pk_calib_compute(p, y, NULL, 2, 10, &m, &e) == PK_EDOM);
    PK_CHECK(strstr(e.msg, "p[1]") != NULL);
    PK_CHECK(pk_calib_compute(q, y, NULL, 0, 10, &m, &e) == PK_EINVAL);
    double nan_p[] = {NAN, 0.2};
    PK_CHECK(pk_calib_compute(nan_p, y, NULL, 2, 10, &m, &e) == PK_EDOM);
    double auc;
    PK_CHECK(pk_roc_auc(q, y2, 2, &auc, &e) == PK_EDOM);
    PK_CHECK_OK(pk_calib_compute(q, y2, NULL, 2, 10, &m, &e)); /* metrics still work, AUC is NaN */
    PK_CHECK(isnan(m.auc));
    pk_recal *rc = NULL;
    PK_CHECK(pk_recal_fit(PK_RECAL_PLATT, q, y2, 2, &rc, &e) == PK_EDOM);
    PK_CHECK(rc == NULL);
}

int main(void)
{
    static fx f;
    if (fixture_each("calibration.txt", on_line, &f)) {
        PK_CHECK(0);
        return pk_test_done();
    }
    PK_CHECK(f.n == 400 && f.k == 400);
    pk_calib_metrics m;
    PK_CHECK_OK(pk_calib_compute(f.p, f.y, f.pt, f.n, 15, &m, NULL));
    PK_CHECK_CLOSE(m.brier, f.brier, 1e-14, 1e-12);
    PK_CHECK_CLOSE(m.nll, f.logloss, 1e-14, 1e-12);
    PK_CHECK_CLOSE(m.auc, f.auc, 1e-14, 1e-12);
    double auc;
    PK_CHECK_OK(pk_roc_auc(f.p, f.y, f.n, &auc, NULL));
    PK_CHECK_CLOSE(auc, f.auc, 1e-14, 1e-12);

    double pt[10], pp[10];
    size_t cnt[10], nout;
    PK_CHECK_OK(pk_calib_curve(f.p, f.y, f.n, 10, 0, pt, pp, cnt, &nout, NULL));
    PK_CHECK(nout == f.ncu);
    for (size_t b = 0; b < nout && b < f.ncu; b++) {
        PK_CHECK_CLOSE(pt[b], f.cu[b], 1e-14, 1e-12);
        PK_CHECK_CLOSE(pp[b], f.cu[f.ncu + b], 1e-14, 1e-12);
    }
    PK_CHECK_OK(pk_calib_curve(f.p, f.y, f.n, 5, 1, pt, pp, cnt, &nout, NULL));
    PK_CHECK(nout == f.ncq);
    for (size_t b = 0; b < nout && b < f.ncq; b++) {
        PK_CHECK_CLOSE(pt[b], f.cq[b], 1e-14, 1e-12);
        PK_CHECK_CLOSE(pp[b], f.cq[f.ncq + b], 1e-14, 1e-12);
    }

    pk_recal *r = NULL;
    PK_CHECK_OK(pk_recal_fit(PK_RECAL_PLATT, f.p, f.y, f.n, &r, NULL));
    if (r) {
        PK_CHECK_CLOSE(r->A, f.platt[0], 1e-6, 1e-5);
        PK_CHECK_CLOSE(r->B, f.platt[1], 1e-6, 1e-5);
    }
    pk_recal_free(r);
    PK_CHECK_OK(pk_recal_fit(PK_RECAL_TEMPERATURE, f.p, f.y, f.n, &r, NULL));
    if (r)
        PK_CHECK_CLOSE(r->T, f.temp, 1e-7, 1e-6);
    pk_recal_free(r);
    PK_CHECK_OK(pk_recal_fit(PK_RECAL_ISOTONIC, f.p, f.y, f.n, &r, NULL));
    if (r) {
        double probe[41], out[41];
        for (int i = 0; i <= 40; i++)
            probe[i] = i / 40.0;
        pk_recal_apply(r, probe, 41, out);
        for (int i = 0; i <= 40; i++)
            PK_CHECK_CLOSE(out[i], f.iso[i], 1e-12, 1e-10);
    }
    pk_recal_free(r);

    /* cross-fitted recalibration improves this over-confident model's NLL */
    double cf[400];
    pk_rng rng;
    pk_rng_seed(&rng, 42);
    PK_CHECK_OK(pk_recal_crossfit(PK_RECAL_TEMPERATURE, f.p, f.y, f.n, 5, &rng, cf, NULL));
    pk_calib_metrics m2;
    PK_CHECK_OK(pk_calib_compute(cf, f.y, f.pt, f.n, 15, &m2, NULL));
    PK_CHECK(m2.nll < m.nll);
    PK_CHECK(m2.mse_true < m.mse_true);

    test_hand_examples();
    test_errors();
    return pk_test_done();
}
