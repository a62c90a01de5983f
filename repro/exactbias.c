/* "Towards Exact Computation of Inductive Bias" (Boopathy, Yue, Hwang, Iyer, Fiete):
 * -log2 P(test loss <= eps) for hypotheses that fit the training data, drawn
 * from a GP hypothesis space, on MNIST reduced by PCA; the paper's scaled
 * non-central chi-square fit beside the exact generalised chi-square law. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/gp.h"
#include "probkit/theory.h"
#include "repro.h"

/* exact log2 P(Q <= eps): Imhof in the bulk, saddlepoint in the tail */
static int exact_bits(const pk_gchisq *q, double eps, double *bits)
{
    double F, lF;
    int st = pk_gchisq_cdf_imhof(q, eps, &F);
    if (!st && F > 1e-6) {
        *bits = -log2(F);
        return PK_OK;
    }
    if ((st = pk_gchisq_logcdf_saddle(q, eps, &lF)))
        return st;
    *bits = -lF / M_LN2;
    return PK_OK;
}

static int run(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    char img[1024], lab[1024];
    snprintf(img, sizeof img, "%s/mnist/mnist-10k-images-idx3-ubyte", pk_repro_data_dir(ctx));
    snprintf(lab, sizeof lab, "%s/mnist/mnist-10k-labels-idx1-ubyte", pk_repro_data_dir(ctx));
    pk_mat *X = NULL, *Z = NULL;
    int *labels = NULL;
    pk_err err = {0};
    if (pk_idx_load(img, lab, 0, &X, &labels, &err)) {
        pk_repro_row(ctx, "inductive bias on MNIST", NAN, NAN, NAN, NULL, "MNIST 10k missing (scripts/fetch_data.sh)",
                     PK_VERDICT_SKIP);
        pk_repro_note(ctx, "MNIST could not be read: %s", err.msg);
        return PK_OK;
    }
    static const size_t ds_q[] = {2, 8, 32}, ds_f[] = {2, 4, 8, 16, 32};
    static const size_t ns_q[] = {100, 300}, ns_f[] = {100, 300, 1000};
    const size_t *ds = quick ? ds_q : ds_f, *ns = quick ? ns_q : ns_f;
    size_t nd = quick ? 3 : 5, nn = quick ? 2 : 3, m = quick ? 100 : 200, nsamp = quick ? 500 : 2000;
    const double eps = 0.5; /* target test MSE on labels +-1 (the zero predictor has 1) */
    double bits[5][3], fitb[5][3], worst_fit = 0;
    pk_rng rng;
    pk_rng_seed(&rng, pk_repro_seed(ctx));
    int st = pk_pca_scores(X, 32, 2000, &Z, NULL);
    double *v = malloc(nsamp * sizeof *v), *y = malloc((1000 + 200) * sizeof *y);
    if (st || !v || !y) {
        st = st ? st : PK_ENOMEM;
        goto done;
    }
    /* training points from the first 8000 digits, test points from the last 2000 */
    for (size_t a = 0; a < nd; a++) {
        for (size_t b = 0; b < nn; b++) {
            size_t n = ns[b], d = ds[a];
            pk_mat *Xtr = pk_mat_new(n, d), *Xte = pk_mat_new(m, d);
            if (!Xtr || !Xte) {
                pk_mat_free(Xtr), pk_mat_free(Xte);
                st = PK_ENOMEM;
                goto done;
            }
            for (size_t i = 0; i < n + m; i++) {
                size_t row = i < n ? (size_t)pk_rng_below(&rng, 8000) : 8000 + (size_t)pk_rng_below(&rng, 2000);
                pk_mat *T = i < n ? Xtr : Xte;
                for (size_t j = 0; j < d; j++)
                    *pk_mat_at(T, i < n ? i : i - n, j) = *pk_mat_at(Z, row, j);
                y[i] = labels[row] >= 5 ? 1.0 : -1.0;
            }
            pk_gp_kernel *k = pk_gp_kernel_new(PK_GP_KERNEL_SE, d, 0, 1);
            pk_gchisq *q = NULL;
            if (!k) {
                st = PK_ENOMEM;
            } else {
                double th[2];
                pk_gp_kernel_get_params(k, th);
                /* length scale sqrt(d): unit-variance scores are ~sqrt(2d) apart */
                for (size_t p = 0; p < pk_gp_kernel_nparams(k); p++)
                    th[p] = 0;
                pk_gp_kernel_set_params(k, th);
                char name[64];
                for (size_t p = 0; p < pk_gp_kernel_nparams(k); p++) {
                    pk_gp_kernel_param_name(k, p, name, sizeof name);
                    if (strstr(name, "ell"))
                        th[p] = 0.5 * log((double)d);
                }
                pk_gp_kernel_set_params(k, th);
                st = pk_gp_hyp_loss(k, Xtr, y, Xte, y + n, 1e-6, &q);
                if (!st)
                    st = pk_gp_hyp_sample_losses(k, Xtr, y, Xte, y + n, 1e-6, nsamp, &rng, v);
            }
            double s, df, nc;
            if (!st)
                st = exact_bits(q, eps, &bits[a][b]);
            if (!st)
                st = pk_ncx2_fit_moments(v, nsamp, &s, &df, &nc);
            if (!st)
                fitb[a][b] = -pk_ncx2_logcdf(eps, s, df, nc) / M_LN2;
            pk_gp_kernel_free(k);
            pk_gchisq_free(q);
            pk_mat_free(Xtr), pk_mat_free(Xte);
            if (st)
                goto done;
            double rel = fabs(fitb[a][b] - bits[a][b]) / fmax(bits[a][b], 1.0);
            worst_fit = fmax(worst_fit, rel);
            pk_repro_log(ctx, "d=%zu n=%zu: exact %.4g bits, ncx2 fit %.4g bits", d, n, bits[a][b], fitb[a][b]);
        }
    }
    int up_d = 1, down_n = 1;
    for (size_t b = 0; b < nn; b++)
        for (size_t a = 1; a < nd; a++)
            up_d &= bits[a][b] >= bits[a - 1][b];
    for (size_t a = 0; a < nd; a++)
        for (size_t b = 1; b < nn; b++)
            down_n &= bits[a][b] <= bits[a][b - 1];
    char sc[200];
    snprintf(sc, sizeof sc,
             "MNIST 10k, PCA d = %zu..%zu, n = %zu..%zu, %zu test points, SE kernel (ell = sqrt d), eps = %.1f, "
             "labels +-1 (digit >= 5)",
             ds[0], ds[nd - 1], ns[0], ns[nn - 1], m, eps);
    pk_repro_row(ctx, "inductive bias (bits) non-decreasing in d at every n", up_d, 1, NAN, NULL, sc,
                 up_d ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    pk_repro_row(ctx, "inductive bias (bits) non-increasing in n at every d", down_n, 1, NAN, NULL, sc,
                 down_n ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    pk_repro_row(ctx, "bits at the largest d and smallest n (exact)", bits[nd - 1][0], NAN, fitb[nd - 1][0],
                 "ncx2 fit", sc, PK_VERDICT_INFO);
    pk_repro_row(ctx, "worst relative error of the ncx2 fit vs the exact law", worst_fit, NAN, NAN, NULL, sc,
                 PK_VERDICT_INFO);
    pk_repro_note(ctx, "Exact: the test MSE of an interpolating GP posterior draw is a generalised chi-square "
                       "(eigenvalues of the posterior covariance on the test set); its CDF by Imhof's integral "
                       "(F > 1e-6) or the r* saddlepoint (deeper tail). Fit: the paper's scaled non-central "
                       "chi-square by three moments of %zu sampled hypotheses. With eps fixed at 0.5, the "
                       "protocol here does NOT reproduce the paper's trends: in few PCA dimensions the interpolating "
                       "hypotheses are pinned near the posterior mean, whose test error exceeds eps, so reaching eps "
                       "is astronomically unlikely (many bits), and more data pins them further. Where the tail is "
                       "deep the moment fit misses the exact law by large factors (worst relative error %.2f), which "
                       "is what computing the law exactly buys.",
                  nsamp, worst_fit);
    pk_plot *pl = pk_plot_new("Inductive bias of an MNIST task relative to a GP hypothesis space", "PCA dimension d",
                              "bits");
    if (pl) {
        pk_plot_set_log(pl, 1, 1);
        for (size_t b = 0; b < nn; b++) {
            double xs[5], ys[5], yf[5];
            for (size_t a = 0; a < nd; a++)
                xs[a] = (double)ds[a], ys[a] = fmax(bits[a][b], 1e-3), yf[a] = fmax(fitb[a][b], 1e-3);
            char l1[64], l2[64];
            snprintf(l1, sizeof l1, "exact, n = %zu", ns[b]);
            snprintf(l2, sizeof l2, "ncx2 fit, n = %zu", ns[b]);
            pk_plot_line(pl, l1, xs, ys, nd);
            pk_plot_scatter(pl, l2, xs, yf, nd);
        }
        pk_repro_plot(ctx, "bits_vs_d", pl);
        pk_plot_free(pl);
    }
done:
    pk_mat_free(X);
    pk_mat_free(Z);
    free(labels);
    free(v);
    free(y);
    return st;
}

const pk_repro pk_repro_exactbias = {"exactbias", PK_REPRO_PARTIAL,
                                     "inductive bias -log2 P(loss <= eps) of an MNIST task for a GP hypothesis space: "
                                     "exact generalised chi-square vs the paper's fit",
                                     run};
