/* test_ols.c — OLS against a numpy/scipy reference, the least-squares
 * identities (checked here independently of pk_ols_check_identities), rank
 * deficiency, missing values and argument errors. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pk_test.h"
#include "probkit/ols.h"
#include "probkit/rng.h"

#define FIX_N 60
#define FIX_P 5

/* tests/fixtures/ols/fixture.csv: header y,x1..x4 then plain numbers */
static int load_fixture(double *X, double *y)
{
    FILE *fp = fopen(PK_FIXTURES "/ols/fixture.csv", "r");
    if (!fp)
        return 0;
    char line[1024];
    int ok = fgets(line, sizeof line, fp) != NULL;
    for (int i = 0; ok && i < FIX_N; i++) {
        double v[5];
        ok = fscanf(fp, "%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3], &v[4]) == 5;
        y[i] = v[0];
        X[i * FIX_P] = 1.0;
        for (int j = 1; j < FIX_P; j++)
            X[i * FIX_P + j] = v[j];
    }
    fclose(fp);
    return ok;
}

static double jnum(json_t *root, const char *key, int idx)
{
    json_t *v = json_object_get(root, key);
    if (idx >= 0)
        v = json_array_get(v, (size_t)idx);
    return v ? json_number_value(v) : NAN;
}

static void test_reference(void)
{
    double X[FIX_N * FIX_P], y[FIX_N];
    PK_CHECK(load_fixture(X, y));
    json_error_t jerr;
    json_t *ref = json_load_file(PK_FIXTURES "/ols/ref.json", 0, &jerr);
    PK_CHECK(ref != NULL);
    if (!ref)
        return;
    pk_mat Xm = pk_mat_view(X, FIX_N, FIX_P);
    /* QR and SVD, with and without the pseudoinverse (the SVD without it takes
     * the tall-matrix route: QR first, then the SVD of R) */
    for (int variant = 0; variant < 4; variant++) {
        pk_ols_params par = pk_ols_params_default();
        par.method = (pk_ols_method)(variant % 2);
        par.compute_pinv = variant < 2;
        pk_ols *f = NULL;
        pk_err err;
        PK_CHECK_OK(pk_ols_fit(&Xm, y, &par, &f, &err));
        if (!f)
            continue;
        PK_CHECK(f->rank == FIX_P && f->has_constant == 1);
        for (int j = 0; j < FIX_P; j++) {
            PK_CHECK_CLOSE(f->coef[j], jnum(ref, "coef", j), 0, 1e-10);
            PK_CHECK_CLOSE(f->se[j], jnum(ref, "se", j), 0, 1e-10);
            PK_CHECK_CLOSE(f->tval[j], jnum(ref, "t", j), 0, 1e-10);
            PK_CHECK_CLOSE(f->pval[j], jnum(ref, "p", j), 1e-300, 1e-8);
            PK_CHECK(!f->aliased[j]);
            PK_CHECK_CLOSE(f->sv[j], jnum(ref, "sv", j), 0, 1e-10);
        }
        PK_CHECK_CLOSE(f->rss, jnum(ref, "rss", -1), 0, 1e-10);
        PK_CHECK_CLOSE(f->sigma2, jnum(ref, "sigma2", -1), 0, 1e-10);
        PK_CHECK_CLOSE(f->r2, jnum(ref, "r2", -1), 0, 1e-10);
        PK_CHECK_CLOSE(f->adj_r2, jnum(ref, "adj_r2", -1), 0, 1e-10);
        PK_CHECK_CLOSE(f->fstat, jnum(ref, "fstat", -1), 0, 1e-10);
        PK_CHECK_CLOSE(f->f_pvalue, jnum(ref, "f_pvalue", -1), 1e-300, 1e-8);
        PK_CHECK_CLOSE(f->cond, jnum(ref, "cond", -1), 0, 1e-10);
        PK_CHECK_CLOSE(f->loglik, jnum(ref, "loglik", -1), 0, 1e-10);
        PK_CHECK_CLOSE(f->aic, jnum(ref, "aic", -1), 0, 1e-10);
        PK_CHECK_CLOSE(f->bic, jnum(ref, "bic", -1), 0, 1e-10);
        PK_CHECK(f->df_resid == FIX_N - FIX_P);
        for (int i = 0; i < FIX_N; i++) {
            PK_CHECK_CLOSE(f->hat[i], jnum(ref, "hat", i), 0, 1e-10);
            if (f->pinv)
                PK_CHECK_CLOSE(f->pinv[i], jnum(ref, "pinv_row0", i), 1e-14, 1e-10);
        }
        double yhat[FIX_N];
        PK_CHECK_OK(pk_ols_predict(f, &Xm, yhat));
        for (int i = 0; i < FIX_N; i++)
            PK_CHECK_CLOSE(yhat[i], f->fitted[i], 1e-12, 1e-12);
        pk_ols_free(f);
    }
    json_decref(ref);
}

/* The identities, computed here with plain loops on an explicit H. */
static void identities_case(size_t n, size_t p, double col_scale_spread, pk_ols_method method, uint64_t seed)
{
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    double *X = malloc(n * p * sizeof *X), *y = malloc(n * sizeof *y), *H = malloc(n * n * sizeof *H);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < p; j++)
            X[i * p + j] = pk_rng_normal(&rng) * pow(col_scale_spread, (double)j / (double)(p - 1));
        y[i] = pk_rng_normal(&rng) + X[i * p];
    }
    pk_mat Xm = pk_mat_view(X, n, p);
    pk_ols_params par = pk_ols_params_default();
    par.method = method;
    par.compute_pinv = 1;
    pk_ols *f = NULL;
    PK_CHECK_OK(pk_ols_fit(&Xm, y, &par, &f, NULL));
    if (!f)
        goto done;
    const double tol = 1e-10;
    double xf = 0, yn = 0;
    for (size_t k = 0; k < n * p; k++)
        xf += X[k] * X[k];
    for (size_t i = 0; i < n; i++)
        yn += y[i] * y[i];
    xf = sqrt(xf);
    yn = sqrt(yn);
    /* X^T r = 0 */
    double worst = 0;
    for (size_t j = 0; j < p; j++) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += X[i * p + j] * f->resid[i];
        worst = fmax(worst, fabs(s) / (xf * yn));
    }
    PK_CHECK_MSG(worst <= tol, "X^T r: %g", worst);
    /* H = X X^+: symmetric, idempotent, diag = hat */
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < n; k++) {
            double s = 0;
            for (size_t j = 0; j < p; j++)
                s += X[i * p + j] * f->pinv[j * n + k];
            H[i * n + k] = s;
        }
    double sym = 0, idem = 0, hd = 0;
    for (size_t i = 0; i < n; i++) {
        hd = fmax(hd, fabs(H[i * n + i] - f->hat[i]));
        for (size_t k = 0; k < n; k++) {
            sym = fmax(sym, fabs(H[i * n + k] - H[k * n + i]));
            double s = 0;
            for (size_t j = 0; j < n; j++)
                s += H[i * n + j] * H[j * n + k];
            idem = fmax(idem, fabs(s - H[i * n + k]));
        }
    }
    PK_CHECK_MSG(sym <= tol, "H symmetric: %g", sym);
    PK_CHECK_MSG(idem <= tol, "H idempotent: %g", idem);
    PK_CHECK_MSG(hd <= tol, "hat = diag H: %g", hd);
    /* X^+ X = I */
    double left = 0;
    for (size_t a = 0; a < p; a++)
        for (size_t b = 0; b < p; b++) {
            double s = 0;
            for (size_t i = 0; i < n; i++)
                s += f->pinv[a * n + i] * X[i * p + b];
            left = fmax(left, fabs(s - (a == b)));
        }
    PK_CHECK_MSG(left <= tol, "X^+ X = I: %g", left);
    /* ||Xa - y||^2 = ||X(a - X^+ y)||^2 + ||r||^2 for random a */
    double rr = 0;
    for (size_t i = 0; i < n; i++)
        rr += f->resid[i] * f->resid[i];
    double pyth = 0;
    for (int rep = 0; rep < 10; rep++) {
        double a[16], d[16];
        for (size_t j = 0; j < p; j++) {
            a[j] = 3 * pk_rng_normal(&rng);
            double bj = 0;
            for (size_t i = 0; i < n; i++)
                bj += f->pinv[j * n + i] * y[i];
            d[j] = a[j] - bj;
        }
        double lhs = 0, rhs = rr;
        for (size_t i = 0; i < n; i++) {
            double xa = -y[i], xd = 0;
            for (size_t j = 0; j < p; j++) {
                xa += X[i * p + j] * a[j];
                xd += X[i * p + j] * d[j];
            }
            lhs += xa * xa;
            rhs += xd * xd;
        }
        pyth = fmax(pyth, fabs(lhs - rhs) / lhs);
    }
    PK_CHECK_MSG(pyth <= tol, "Pythagoras: %g", pyth);
    /* the library's own checker agrees and is small too */
    pk_ols_identities id;
    PK_CHECK_OK(pk_ols_check_identities(f, &Xm, y, 4, &rng, &id));
    PK_CHECK(id.normal_eq <= tol && id.hat_idem <= tol && id.hat_sym <= tol && id.pinv_left <= tol &&
             id.penrose <= tol && id.pythagoras <= tol && id.pinv_coef <= 1e-8);
    PK_CHECK_CLOSE(id.normal_eq, worst, 1e-15, 1e-6);
    pk_ols_free(f);
done:
    free(X);
    free(y);
    free(H);
}

static void test_identities(void)
{
    identities_case(50, 6, 1.0, PK_OLS_QR, 1);
    identities_case(50, 6, 1.0, PK_OLS_SVD, 2);
    identities_case(40, 8, 1e3, PK_OLS_QR, 3); /* columns on scales 1 .. 1000 */
    identities_case(40, 8, 1e3, PK_OLS_SVD, 4);
}

static void test_rank_deficient(void)
{
    enum { n = 30, p = 4 };
    double X[n * p], y[n];
    pk_rng rng;
    pk_rng_seed(&rng, 7);
    for (int i = 0; i < n; i++) {
        X[i * p + 0] = 1;
        X[i * p + 1] = pk_rng_normal(&rng);
        X[i * p + 2] = pk_rng_normal(&rng);
        X[i * p + 3] = X[i * p + 1] - 2 * X[i * p + 2]; /* aliased */
        y[i] = X[i * p + 1] + pk_rng_normal(&rng);
    }
    pk_mat Xm = pk_mat_view(X, n, p);
    pk_ols *f = NULL;
    pk_err err;
    PK_CHECK(pk_ols_fit(&Xm, y, NULL, &f, &err) == PK_ESING);
    PK_CHECK(strstr(err.msg, "rank 3 of 4") != NULL);
    PK_CHECK(strstr(err.msg, "aliased column(s): ") != NULL);
    PK_CHECK(f != NULL && f->rank == 3);
    double fitted_qr[n], hat_qr[n];
    if (f) {
        memcpy(hat_qr, f->hat, sizeof hat_qr);
        int nal = 0;
        for (int j = 0; j < p; j++)
            nal += f->aliased[j];
        PK_CHECK(nal == 1 && !f->aliased[0]);
        for (int j = 0; j < p; j++)
            PK_CHECK(f->aliased[j] ? isnan(f->coef[j]) && isnan(f->se[j]) : isfinite(f->se[j]));
        PK_CHECK(f->df_resid == n - 3);
        memcpy(fitted_qr, f->fitted, sizeof fitted_qr);
    }
    pk_ols_free(f);

    pk_ols_params par = pk_ols_params_default();
    par.allow_rank_deficient = 1;
    par.method = PK_OLS_SVD;
    f = NULL;
    PK_CHECK_OK(pk_ols_fit(&Xm, y, &par, &f, &err)); /* tall route, no pinv */
    if (f) {
        PK_CHECK(f->rank == 3 && !f->aliased[0] && f->aliased[1] && f->aliased[2] && f->aliased[3]);
        for (int i = 0; i < n; i++)
            PK_CHECK_CLOSE(f->fitted[i], fitted_qr[i], 1e-10, 1e-10);
    }
    double hat_tall[n], coef_tall[p];
    if (f) {
        memcpy(hat_tall, f->hat, sizeof hat_tall);
        memcpy(coef_tall, f->coef, sizeof coef_tall);
    }
    pk_ols_free(f);
    par.compute_pinv = 1;
    f = NULL;
    PK_CHECK_OK(pk_ols_fit(&Xm, y, &par, &f, &err));
    if (f) {
        PK_CHECK(f->rank == 3);
        PK_CHECK(!f->aliased[0] && f->aliased[1] && f->aliased[2] && f->aliased[3]);
        PK_CHECK(isinf(f->cond) || f->cond > 1e13);
        for (int i = 0; i < n; i++) /* same projection, whichever basis */
            PK_CHECK_CLOSE(f->fitted[i], fitted_qr[i], 1e-10, 1e-10);
        pk_ols_identities id;
        PK_CHECK_OK(pk_ols_check_identities(f, &Xm, y, 3, &rng, &id));
        PK_CHECK(isnan(id.pinv_left));
        PK_CHECK(id.normal_eq <= 1e-10 && id.hat_idem <= 1e-10 && id.penrose <= 1e-10 && id.pythagoras <= 1e-10);
        PK_CHECK(id.pinv_coef <= 1e-10); /* SVD gives the minimum-norm solution X^+ y */
        for (int i = 0; i < n; i++) {
            PK_CHECK_CLOSE(hat_tall[i], f->hat[i], 1e-10, 1e-10);
            PK_CHECK_CLOSE(hat_qr[i], f->hat[i], 1e-10, 1e-10); /* pivoted QR: same projector */
        }
        for (int j = 0; j < p; j++) /* both routes give the same minimum-norm coefficients */
            PK_CHECK_CLOSE(coef_tall[j], f->coef[j], 1e-10, 1e-10);
    }
    pk_ols_free(f);
}

/* More columns than rows: rank n, the SVD gives the minimum-norm interpolant. */
static void test_wide(void)
{
    double X[3 * 5] = {1, 2, 0, 1, 3, 1, -1, 2, 0, 1, 1, 0, 1, 4, -2}, y[3] = {1, -2, 0.5};
    pk_mat Xm = pk_mat_view(X, 3, 5);
    pk_ols *f = NULL;
    pk_err err;
    PK_CHECK(pk_ols_fit(&Xm, y, NULL, &f, &err) == PK_ESING);
    PK_CHECK(f && f->rank == 3);
    pk_ols_free(f);
    pk_ols_params par = pk_ols_params_default();
    par.allow_rank_deficient = 1;
    par.method = PK_OLS_SVD;
    par.compute_pinv = 1;
    f = NULL;
    PK_CHECK_OK(pk_ols_fit(&Xm, y, &par, &f, &err));
    if (f) {
        for (int i = 0; i < 3; i++) {
            PK_CHECK_CLOSE(f->fitted[i], y[i], 1e-12, 1e-12); /* interpolates */
            PK_CHECK_CLOSE(f->hat[i], 1.0, 1e-12, 0);
        }
        PK_CHECK(f->df_resid == 0 && isnan(f->sigma2));
        /* minimum norm: the coefficients lie in the row space, b = X^T z with z = (X X^T)^{-1} y */
        double G[9], z[3];
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++) {
                G[a * 3 + b] = 0;
                for (int j = 0; j < 5; j++)
                    G[a * 3 + b] += X[a * 5 + j] * X[b * 5 + j];
            }
        memcpy(z, y, sizeof z);
        pk_mat Gm = pk_mat_view(G, 3, 3), zm = pk_mat_view(z, 3, 1);
        PK_CHECK_OK(pk_solve(&Gm, &zm));
        for (int j = 0; j < 5; j++) {
            double bj = 0;
            for (int a = 0; a < 3; a++)
                bj += X[a * 5 + j] * z[a];
            PK_CHECK_CLOSE(f->coef[j], bj, 1e-12, 1e-10);
        }
    }
    pk_ols_free(f);
    par.method = PK_OLS_QR;
    f = NULL;
    PK_CHECK_OK(pk_ols_fit(&Xm, y, &par, &f, &err));
    if (f) {
        int nal = 0;
        for (int j = 0; j < 5; j++)
            nal += f->aliased[j];
        PK_CHECK(nal == 2 && f->rank == 3);
        for (int i = 0; i < 3; i++)
            PK_CHECK_CLOSE(f->fitted[i], y[i], 1e-12, 1e-12);
    }
    pk_ols_free(f);
}

/* A strided view (every row padded with junk) gives the same fit as a contiguous copy. */
static void test_strided(void)
{
    enum { n = 25, p = 3, stride = 5 };
    double W[n * stride], C[n * p], y[n];
    pk_rng rng;
    pk_rng_seed(&rng, 11);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < stride; j++)
            W[i * stride + j] = j < p ? (j == 0 ? 1.0 : pk_rng_normal(&rng)) : 1e30; /* padding never read */
        for (int j = 0; j < p; j++)
            C[i * p + j] = W[i * stride + j];
        y[i] = pk_rng_normal(&rng);
    }
    pk_mat Wm = {n, p, stride, W, 0}, Cm = pk_mat_view(C, n, p);
    for (int variant = 0; variant < 3; variant++) { /* QR, tall SVD, SVD with pinv */
        pk_ols_params par = pk_ols_params_default();
        par.method = variant ? PK_OLS_SVD : PK_OLS_QR;
        par.compute_pinv = variant == 2;
        pk_ols *a = NULL, *b = NULL;
        PK_CHECK_OK(pk_ols_fit(&Wm, y, &par, &a, NULL));
        PK_CHECK_OK(pk_ols_fit(&Cm, y, &par, &b, NULL));
        if (a && b) {
            PK_CHECK(a->has_constant == 1);
            for (int j = 0; j < p; j++) {
                PK_CHECK_CLOSE(a->coef[j], b->coef[j], 0, 1e-14);
                PK_CHECK_CLOSE(a->se[j], b->se[j], 0, 1e-14);
            }
            for (int i = 0; i < n; i++)
                PK_CHECK_CLOSE(a->hat[i], b->hat[i], 0, 1e-14);
            if (variant == 2) {
                pk_ols_identities id;
                PK_CHECK_OK(pk_ols_check_identities(a, &Wm, y, 2, &rng, &id));
                PK_CHECK(id.normal_eq <= 1e-10 && id.penrose <= 1e-10);
            }
        }
        pk_ols_free(a);
        pk_ols_free(b);
    }
}

static void test_errors(void)
{
    double X[12] = {1, 1, 1, 2, 1, 3, 1, NAN, 1, 5, 1, 6}, y[6] = {1, 2, 3, 4, 5, 6};
    pk_mat Xm = pk_mat_view(X, 6, 2);
    pk_ols *f = (pk_ols *)1;
    pk_err err;
    PK_CHECK(pk_ols_fit(&Xm, y, NULL, &f, &err) == PK_EDOM);
    PK_CHECK(f == NULL);
    PK_CHECK(strstr(err.msg, "row 3, column 1") != NULL);
    X[7] = 4;
    y[2] = INFINITY;
    PK_CHECK(pk_ols_fit(&Xm, y, NULL, &f, &err) == PK_EDOM);
    PK_CHECK(strstr(err.msg, "y row 2") != NULL);
    y[2] = 3;
    pk_ols_params par = pk_ols_params_default();
    par.method = (pk_ols_method)7;
    PK_CHECK(pk_ols_fit(&Xm, y, &par, &f, &err) == PK_EINVAL);
    par = pk_ols_params_default();
    par.rcond = 2;
    PK_CHECK(pk_ols_fit(&Xm, y, &par, &f, &err) == PK_EINVAL);
    pk_mat empty = pk_mat_view(X, 0, 2);
    PK_CHECK(pk_ols_fit(&empty, y, NULL, &f, &err) == PK_EINVAL);
    PK_CHECK(pk_ols_fit(NULL, y, NULL, &f, &err) == PK_EINVAL);
    /* exact fit (n == p): coefficients fine, no residual degrees of freedom */
    pk_mat sq = pk_mat_view(X, 2, 2);
    PK_CHECK_OK(pk_ols_fit(&sq, y, NULL, &f, &err));
    if (f) {
        PK_CHECK(f->df_resid == 0 && isnan(f->sigma2) && isnan(f->se[0]) && isnan(f->adj_r2));
        PK_CHECK_CLOSE(f->coef[1], 1.0, 1e-12, 1e-12); /* (1,1)->1, (1,2)->2 */
    }
    pk_ols_free(f);
    pk_ols_free(NULL);
    /* no constant column: uncentred R^2 */
    double Z[4] = {1, 2, 3, 4}, w[4] = {1.1, 1.9, 3.2, 3.9};
    pk_mat Zm = pk_mat_view(Z, 4, 1);
    PK_CHECK_OK(pk_ols_fit(&Zm, w, NULL, &f, &err));
    if (f) {
        double b = (1.1 + 3.8 + 9.6 + 15.6) / 30.0, rss = 0, tss = 0;
        for (int i = 0; i < 4; i++) {
            rss += (w[i] - b * Z[i]) * (w[i] - b * Z[i]);
            tss += w[i] * w[i];
        }
        PK_CHECK(f->has_constant == 0);
        PK_CHECK_CLOSE(f->coef[0], b, 0, 1e-13);
        PK_CHECK_CLOSE(f->r2, 1 - rss / tss, 0, 1e-12);
        PK_CHECK(isnan(f->fstat) || f->fstat > 0);
    }
    pk_ols_free(f);
}

int main(void)
{
    test_reference();
    test_identities();
    test_rank_deficient();
    test_wide();
    test_strided();
    test_errors();
    return pk_test_done();
}
