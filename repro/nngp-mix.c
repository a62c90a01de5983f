/* nngp-mix — "Scale Mixtures of Neural Network Gaussian Processes": an
 * inverse-gamma prior on the last-layer variance of an NNGP turns it into a
 * Student-t process.  Boston housing (scikit-learn's bundled CSV): test NLL and
 * RMSE of the t-process against the GP with the same deep-ReLU NNGP kernel, on
 * clean random splits and on shifted + corrupted splits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/gp.h"
#include "probkit/plot.h"
#include "repro.h"

#define BOSTON_CSV "/usr/lib/python3/dist-packages/sklearn/datasets/data/boston_house_prices.csv"
#define NF 13
#define LSTAT 12

/* 506 rows of 13 features and MEDV; the file starts with "506,13" and a header. */
static int load_boston(double **data, size_t *n)
{
    FILE *f = fopen(BOSTON_CSV, "r");
    if (!f)
        return PK_EIO;
    char line[1024];
    size_t cap = 600, k = 0;
    double *d = malloc(cap * (NF + 1) * sizeof *d);
    int lineno = 0;
    while (d && fgets(line, sizeof line, f)) {
        if (++lineno <= 2)
            continue;
        char *p = line, *e;
        int ok = 1;
        for (int j = 0; j <= NF && ok; j++) {
            double v = strtod(p, &e);
            if (e == p)
                ok = 0;
            d[k * (NF + 1) + j] = v;
            p = (*e == ',') ? e + 1 : e;
        }
        if (ok && ++k == cap)
            break;
    }
    fclose(f);
    if (!d)
        return PK_ENOMEM;
    if (k < 500) {
        free(d);
        return PK_EFORMAT;
    }
    *data = d;
    *n = k;
    return PK_OK;
}

typedef struct result {
    double nll_gp, nll_tp, rmse_gp, rmse_tp;
    double lml_gp, lml_tp, a, b; /* fitted marginal likelihoods and the inverse-gamma parameters */
    double nll_tp2, rmse_tp2;    /* the t-process with a fixed at the paper's default 2 */
} result;

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Fit GP and TP on the train rows (features standardised on train, targets
 * standardised), evaluate on the test rows in original units. */
static int evaluate(const double *D, const size_t *tr, size_t ntr, const size_t *te, size_t nte, const double *ytr_raw,
                    pk_rng *rng, int quick, result *res)
{
    double mu[NF], sd[NF], ym = 0, ys = 0;
    for (int j = 0; j < NF; j++) {
        double s = 0, s2 = 0;
        for (size_t i = 0; i < ntr; i++) {
            double v = D[tr[i] * (NF + 1) + j];
            s += v;
            s2 += v * v;
        }
        mu[j] = s / ntr;
        sd[j] = sqrt(fmax(s2 / ntr - mu[j] * mu[j], 1e-12));
    }
    for (size_t i = 0; i < ntr; i++)
        ym += ytr_raw[i] / ntr;
    for (size_t i = 0; i < ntr; i++)
        ys += (ytr_raw[i] - ym) * (ytr_raw[i] - ym) / ntr;
    ys = sqrt(ys);
    pk_mat *Xtr = pk_mat_new(ntr, NF), *Xte = pk_mat_new(nte, NF);
    double *y = malloc((ntr + 4 * nte) * sizeof *y);
    if (!Xtr || !Xte || !y) {
        pk_mat_free(Xtr);
        pk_mat_free(Xte);
        free(y);
        return PK_ENOMEM;
    }
    double *m1 = y + ntr, *v1 = m1 + nte, *sc = v1 + nte, *dof = sc + nte;
    for (size_t i = 0; i < ntr; i++) {
        for (int j = 0; j < NF; j++)
            *pk_mat_at(Xtr, i, (size_t)j) = (D[tr[i] * (NF + 1) + j] - mu[j]) / sd[j];
        y[i] = (ytr_raw[i] - ym) / ys;
    }
    for (size_t i = 0; i < nte; i++)
        for (int j = 0; j < NF; j++)
            *pk_mat_at(Xte, i, (size_t)j) = (D[te[i] * (NF + 1) + j] - mu[j]) / sd[j];
    pk_gp_fit_params fp = pk_gp_fit_params_default();
    fp.restarts = quick ? 0 : 1;
    fp.max_iter = quick ? 60 : 100;
    pk_gp *gp = pk_gp_new(pk_gp_kernel_new(PK_GP_KERNEL_NNGP_RELU, NF, 0, 3), PK_GP_MEAN_ZERO);
    pk_tp *tp = pk_tp_new(pk_gp_kernel_new(PK_GP_KERNEL_NNGP_RELU, NF, 0, 3));
    int r = (!gp || !tp) ? PK_ENOMEM : PK_OK;
    if (!r)
        r = pk_gp_set_data(gp, Xtr, y, NULL);
    if (!r)
        r = pk_gp_fit(gp, &fp, rng, &res->lml_gp, NULL);
    if (!r)
        r = pk_gp_predict(gp, Xte, m1, v1, 1);
    if (!r) {
        double nll = 0, se = 0;
        for (size_t i = 0; i < nte; i++) {
            double yt = D[te[i] * (NF + 1) + NF], m = ym + ys * m1[i], v = ys * ys * v1[i];
            nll += 0.5 * log(2 * M_PI * v) + 0.5 * (yt - m) * (yt - m) / v;
            se += (yt - m) * (yt - m);
        }
        res->nll_gp = nll / nte;
        res->rmse_gp = sqrt(se / nte);
    }
    for (int variant = 0; variant < 2 && !r; variant++) {
        r = pk_tp_set_data(tp, Xtr, y, NULL);
        if (r)
            break;
        /* start from the GP's kernel and noise; variant 1 keeps a = 2 */
        double h[8];
        pk_gp_get_hyper(gp, h);
        h[3] = log(variant ? 2.0 : 3.0);
        h[4] = log(3.0);
        pk_tp_set_hyper(tp, h);
        pk_tp_fix_a(tp, variant);
        double lml;
        r = pk_tp_fit(tp, &fp, rng, &lml, NULL);
        if (!r && variant == 0) {
            pk_tp_get_hyper(tp, h);
            res->lml_tp = lml;
            res->a = exp(h[3]);
            res->b = exp(h[4]);
        }
        if (!r)
            r = pk_tp_predict(tp, Xte, m1, sc, dof, 1);
        if (!r) {
            double nll = 0, se = 0;
            for (size_t i = 0; i < nte; i++) {
                double yt = D[te[i] * (NF + 1) + NF], m = ym + ys * m1[i];
                nll -= pk_student_t_logpdf(yt, m, ys * ys * sc[i], dof[i]);
                se += (yt - m) * (yt - m);
            }
            *(variant ? &res->nll_tp2 : &res->nll_tp) = nll / nte;
            *(variant ? &res->rmse_tp2 : &res->rmse_tp) = sqrt(se / nte);
        }
    }
    pk_gp_free(gp);
    pk_tp_free(tp);
    pk_mat_free(Xtr);
    pk_mat_free(Xte);
    free(y);
    return r;
}

static int run(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    double *D = NULL;
    size_t n = 0;
    int r = load_boston(&D, &n);
    if (r) {
        pk_repro_row(ctx, "Boston housing: t-process vs GP", NAN, NAN, NAN, NULL,
                     "data missing: " BOSTON_CSV " (Debian python3-sklearn)", PK_VERDICT_SKIP);
        return PK_OK;
    }
    pk_rng rng;
    pk_rng_seed(&rng, pk_repro_seed(ctx));
    size_t nsplit = quick ? 2 : 10, cap_train = quick ? 200 : n;
    size_t *perm = malloc(n * sizeof *perm), *tr = malloc(n * sizeof *tr), *te = malloc(n * sizeof *te);
    double *ytr = malloc(n * sizeof *ytr), *lst = malloc(n * sizeof *lst);
    result res[2][10];
    if (!perm || !tr || !te || !ytr || !lst) {
        r = PK_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        lst[i] = D[i * (NF + 1) + LSTAT];
    qsort(lst, n, sizeof *lst, cmp_dbl);
    double cut = lst[(size_t)(0.8 * (n - 1))];
    for (int kind = 0; kind < 2 && !r; kind++) {
        for (size_t s = 0; s < nsplit && !r; s++) {
            size_t ntr = 0, nte = 0;
            pk_rng_permutation(&rng, perm, n);
            if (kind == 0) { /* clean random 80/20 split */
                for (size_t i = 0; i < n; i++) {
                    if (i < (size_t)(0.8 * n))
                        tr[ntr++] = perm[i];
                    else
                        te[nte++] = perm[i];
                }
            } else { /* shift: train on LSTAT below its 80th percentile (a random 90% of those), test above */
                for (size_t i = 0; i < n; i++) {
                    size_t row = perm[i];
                    if (D[row * (NF + 1) + LSTAT] > cut)
                        te[nte++] = row;
                    else if (pk_rng_uniform(&rng) < 0.9)
                        tr[ntr++] = row;
                }
            }
            if (ntr > cap_train) /* quick mode: a random subset of the training rows */
                ntr = cap_train;
            for (size_t i = 0; i < ntr; i++)
                ytr[i] = D[tr[i] * (NF + 1) + NF];
            if (kind == 1) /* 10% of training labels get heavy-tailed (Cauchy, scale 10) noise */
                for (size_t i = 0; i < ntr; i++)
                    if (pk_rng_uniform(&rng) < 0.1)
                        ytr[i] += 10.0 * tan(M_PI * (pk_rng_uniform(&rng) - 0.5));
            r = evaluate(D, tr, ntr, te, nte, ytr, &rng, quick, &res[kind][s]);
            if (!r)
                pk_repro_log(ctx,
                             "%s split %zu: NLL GP %.4f TP %.4f TP(a=2) %.4f, RMSE GP %.3f TP %.3f TP(a=2) %.3f; "
                             "train lml GP %.2f TP %.2f (fitted a %.3g, b %.3g)",
                             kind ? "shifted+corrupt" : "random", s, res[kind][s].nll_gp, res[kind][s].nll_tp,
                             res[kind][s].nll_tp2, res[kind][s].rmse_gp, res[kind][s].rmse_tp, res[kind][s].rmse_tp2,
                             res[kind][s].lml_gp, res[kind][s].lml_tp, res[kind][s].a, res[kind][s].b);
        }
    }
    if (r)
        goto out;
    char scale[200];
    for (int kind = 0; kind < 2; kind++) {
        int wins = 0, wins2 = 0, big_a = 0;
        double ngp = 0, ntp = 0, rgp = 0, rtp = 0, ntp2 = 0, rtp2 = 0;
        for (size_t s = 0; s < nsplit; s++) {
            wins += res[kind][s].nll_tp < res[kind][s].nll_gp;
            wins2 += res[kind][s].nll_tp2 < res[kind][s].nll_gp;
            big_a += res[kind][s].a > 100.0;
            ntp2 += res[kind][s].nll_tp2 / nsplit;
            rtp2 += res[kind][s].rmse_tp2 / nsplit;
            ngp += res[kind][s].nll_gp / nsplit;
            ntp += res[kind][s].nll_tp / nsplit;
            rgp += res[kind][s].rmse_gp / nsplit;
            rtp += res[kind][s].rmse_tp / nsplit;
        }
        const char *kn = kind ? "shifted (LSTAT > 80th pct) + 10% Cauchy label noise" : "random 80/20";
        snprintf(scale, sizeof scale, "Boston, %zu %s splits, NNGP ReLU depth 3, ML-II%s", nsplit, kn,
                 quick ? " (quick: 2 splits, <= 200 training rows; full: 10, all rows)" : "");
        char m[200];
        snprintf(m, sizeof m, "%s: splits where the t-process has lower test NLL%s", kind ? "shifted+corrupted" : "random",
                 kind ? " (issue target: >= 70% of splits)" : "");
        double need = kind ? 0.7 * nsplit : NAN;
        pk_repro_row(ctx, m, wins, need, NAN, NULL, scale,
                     kind ? (quick ? PK_VERDICT_INFO : pk_verdict_ge(wins, need)) : PK_VERDICT_INFO);
        snprintf(m, sizeof m, "%s: mean test NLL, t-process (GP as peer)", kind ? "shifted+corrupted" : "random");
        pk_repro_row(ctx, m, ntp, NAN, ngp, "GP, same kernel", scale, PK_VERDICT_INFO);
        snprintf(m, sizeof m, "%s: mean test RMSE ratio t-process / GP (target <= 1.02)", kind ? "shifted+corrupted" : "random");
        pk_repro_row(ctx, m, rtp / rgp, 1.02, NAN, NULL, scale, pk_verdict_le(rtp / rgp, 1.02));
        snprintf(m, sizeof m, "%s: splits where ML-II drove a above 100 (t-process -> GP)", kind ? "shifted+corrupted" : "random");
        pk_repro_row(ctx, m, big_a, NAN, NAN, NULL, scale, PK_VERDICT_INFO);
        snprintf(m, sizeof m, "%s: splits where the t-process with a = 2 fixed (b, kernel by ML-II) has lower test NLL",
                 kind ? "shifted+corrupted" : "random");
        pk_repro_row(ctx, m, wins2, NAN, NAN, NULL, scale, PK_VERDICT_INFO);
        snprintf(m, sizeof m, "%s: mean test NLL, t-process with a = 2 fixed (GP as peer)", kind ? "shifted+corrupted" : "random");
        pk_repro_row(ctx, m, ntp2, NAN, ngp, "GP, same kernel", scale, PK_VERDICT_INFO);
        snprintf(m, sizeof m, "%s: mean test RMSE ratio, t-process with a = 2 fixed / GP", kind ? "shifted+corrupted" : "random");
        pk_repro_row(ctx, m, rtp2 / rgp, NAN, NAN, NULL, scale, PK_VERDICT_INFO);
    }
    pk_plot *pl = pk_plot_new("Boston: test NLL per split", "GP NLL", "t-process NLL");
    if (pl) {
        double gx[10], gy[10], hx[10], hy[10], lo = INFINITY, hi = -INFINITY;
        for (size_t s = 0; s < nsplit; s++) {
            gx[s] = res[0][s].nll_gp;
            gy[s] = res[0][s].nll_tp;
            hx[s] = res[1][s].nll_gp;
            hy[s] = res[1][s].nll_tp;
            lo = fmin(lo, fmin(fmin(gx[s], gy[s]), fmin(hx[s], hy[s])));
            hi = fmax(hi, fmax(fmax(gx[s], gy[s]), fmax(hx[s], hy[s])));
        }
        pk_plot_scatter(pl, "random splits", gx, gy, nsplit);
        pk_plot_scatter(pl, "shifted + corrupted", hx, hy, nsplit);
        double dx[2] = {lo, hi};
        pk_plot_line(pl, "equal", dx, dx, 2);
        pk_repro_plot(ctx, "nngp_mix_boston_nll", pl);
        pk_plot_free(pl);
    }
    pk_repro_note(ctx, "Both models use the same deep-ReLU NNGP kernel (depth 3; weight and bias variances fitted) "
                       "with Gaussian noise; the t-process adds an InvGamma(a, b) prior on the output scale and fits "
                       "a, b with the kernel by the multivariate-t marginal likelihood.  Its predictive is a Student t "
                       "with 2a + n degrees of freedom.  The paper's Boston figures are not quoted here.");
    pk_repro_note(ctx, "Why the t-process barely differs: y holds one draw of the scale s2, and for any kernel the "
                       "marginal likelihood maximised over b (at b = a y'K^-1y / n) rises with a, so joint ML-II sends "
                       "a to its bound (about 1100 here) and the t-process becomes the GP; with a fixed (2, the "
                       "paper's default) the kernel's profile likelihood equals the GP's and the predictive is a t "
                       "with n + 4 degrees of freedom, nearly Gaussian.  In the authors' code the GP's last-layer "
                       "variance is a fixed setting while the t-process's scale adapts to the data; here both are "
                       "fitted.");
out:
    free(D);
    free(perm);
    free(tr);
    free(te);
    free(ytr);
    free(lst);
    return r;
}

const pk_repro pk_repro_nngp_mix = {"nngp-mix", PK_REPRO_PARTIAL,
                                    "Student-t process vs GP (deep ReLU NNGP kernel) on Boston housing, shifted and corrupted splits",
                                    run};
