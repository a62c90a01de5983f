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

/* bits non-decreasing in d (rows) at every n, non-increasing in n (columns) at every d */
static void trends(double bits[5][3], size_t nd, size_t nn, int *up, int *down)
{
    *up = *down = 1;
    for (size_t b = 0; b < nn; b++)
        for (size_t a = 1; a < nd; a++)
            *up &= bits[a][b] >= bits[a - 1][b];
    for (size_t a = 0; a < nd; a++)
        for (size_t b = 1; b < nn; b++)
            *down &= bits[a][b] <= bits[a][b - 1];
}

/* q <- q + p / k (the components of independent outputs side by side) */
static int gchisq_add(pk_gchisq **acc, const pk_gchisq *p, double k)
{
    size_t n0 = *acc ? (*acc)->k : 0;
    pk_gchisq *q = pk_gchisq_new(n0 + p->k);
    if (!q)
        return PK_ENOMEM;
    for (size_t i = 0; i < n0; i++)
        q->w[i] = (*acc)->w[i], q->delta[i] = (*acc)->delta[i];
    for (size_t i = 0; i < p->k; i++)
        q->w[n0 + i] = p->w[i] / k, q->delta[n0 + i] = p->delta[i];
    q->c0 = (n0 ? (*acc)->c0 : 0) + p->c0 / k;
    pk_gchisq_free(*acc);
    *acc = q;
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
    enum { K = 10 };
    size_t nd = quick ? 3 : 5, nn = quick ? 2 : 3, m = quick ? 100 : 200, nsamp = quick ? 300 : 2000;
    /* The authors' kernel hypothesis space (kernel_inductive_bias.py): RBF of
     * width 1 on the inputs as given (pixels / 255, here their PCA scores, NOT
     * rescaled per d), one output per class against one-hot targets, loss the
     * MSE over test points and outputs.  The target error is set on that loss's
     * scale: the zero predictor scores 1/K = 0.1, and eps = 0.8 of it.  eps must
     * exceed the error of the posterior mean (0.04..0.12 here), else no
     * hypothesis reaches it and the count is dominated by an unreachable tail
     * (session 1's failure at a fixed eps on +-1 labels).  The hypotheses fit
     * the training targets up to a jitter of 0.01 on the unit kernel diagonal:
     * an exact interpolant is numerically meaningless in d = 2 (the authors fit
     * theirs approximately, by Adam). */
    const double eps = 0.08, eps2 = 0.05, jit = 1e-2;
    double bits[5][3], bits2[5][3], fitb[5][3], worst_fit = 0;
    pk_rng rng;
    pk_rng_seed(&rng, pk_repro_seed(ctx));
    double ev[32];
    static size_t perm[10000];
    int st = pk_pca_scores(X, 32, 2000, &Z, ev);
    double *v = malloc(nsamp * sizeof *v), *vk = malloc(nsamp * sizeof *vk), *y = malloc((1000 + 200) * K * sizeof *y),
           *yj = malloc((1000 + 200) * sizeof *yj);
    if (st || !v || !vk || !y || !yj) {
        st = st ? st : PK_ENOMEM;
        goto done;
    }
    /* back to the data's own scale: scores times the component's standard deviation */
    for (size_t i = 0; i < Z->rows; i++)
        for (size_t j = 0; j < 32; j++)
            *pk_mat_at(Z, i, j) *= sqrt(ev[j]);
    /* training points from the first 8000 digits, test points from the last
     * 2000: one test set for the whole grid and nested training sets (the first
     * n of one permutation), so the trends compare like with like */
    pk_rng_permutation(&rng, perm, 8000);
    pk_rng_permutation(&rng, perm + 8000, 2000);
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
                size_t row = i < n ? perm[i] : 8000 + perm[8000 + i - n];
                pk_mat *T = i < n ? Xtr : Xte;
                for (size_t j = 0; j < d; j++)
                    *pk_mat_at(T, i < n ? i : i - n, j) = *pk_mat_at(Z, row, j);
                for (size_t c = 0; c < K; c++)
                    y[c * (n + m) + i] = labels[row] == (int)c ? 1.0 : 0.0;
            }
            pk_gp_kernel *k = pk_gp_kernel_new(PK_GP_KERNEL_SE, d, 0, 1);
            pk_gchisq *q = NULL;
            if (!k) {
                st = PK_ENOMEM;
            } else {
                double th[8] = {0};
                pk_gp_kernel_set_params(k, th); /* unit width and variance */
                memset(v, 0, nsamp * sizeof *v);
                for (size_t c = 0; c < K && !st; c++) {
                    pk_gchisq *qc = NULL;
                    memcpy(yj, y + c * (n + m), (n + m) * sizeof *yj);
                    st = pk_gp_hyp_loss(k, Xtr, yj, Xte, yj + n, jit, &qc);
                    if (!st)
                        st = gchisq_add(&q, qc, K);
                    pk_gchisq_free(qc);
                    if (!st)
                        st = pk_gp_hyp_sample_losses(k, Xtr, yj, Xte, yj + n, jit, nsamp, &rng, vk);
                    for (size_t t = 0; !st && t < nsamp; t++)
                        v[t] += vk[t] / K;
                }
            }
            double s, df, nc;
            if (!st)
                st = exact_bits(q, eps, &bits[a][b]);
            if (!st)
                st = exact_bits(q, eps2, &bits2[a][b]);
            if (!st)
                st = pk_ncx2_fit_moments(v, nsamp, &s, &df, &nc);
            if (!st)
                fitb[a][b] = -pk_ncx2_logcdf(eps, s, df, nc) / M_LN2;
            double mq = q ? pk_gchisq_mean(q) : NAN, c0 = q ? q->c0 : NAN;
            pk_gp_kernel_free(k);
            pk_gchisq_free(q);
            pk_mat_free(Xtr), pk_mat_free(Xte);
            if (st)
                goto done;
            double rel = fabs(fitb[a][b] - bits[a][b]) / fmax(bits[a][b], 1.0);
            worst_fit = fmax(worst_fit, rel);
            pk_repro_log(ctx,
                         "d=%zu n=%zu: mean test MSE %.4f (floor %.4f): exact %.4g bits at eps %.2f (%.4g at %.2f), "
                         "ncx2 fit %.4g",
                         d, n, mq, c0, bits[a][b], eps, bits2[a][b], eps2, fitb[a][b]);
        }
    }
    int up_d, down_n, up2, down2;
    trends(bits, nd, nn, &up_d, &down_n);
    trends(bits2, nd, nn, &up2, &down2);
    char sc[200];
    snprintf(sc, sizeof sc,
             "MNIST 10k, PCA d = %zu..%zu (pixel scale), n = %zu..%zu, %zu test points, RBF width 1, one-hot "
             "10 outputs, eps = %.2f (0.8 x the zero predictor's 0.1)",
             ds[0], ds[nd - 1], ns[0], ns[nn - 1], m, eps);
    pk_repro_row(ctx, "inductive bias (bits) non-decreasing in d at every n", up_d, 1, NAN, NULL, sc,
                 up_d ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    pk_repro_row(ctx, "inductive bias (bits) non-increasing in n at every d", down_n, 1, NAN, NULL, sc,
                 down_n ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    pk_repro_row(ctx, "bits at the largest d and smallest n (exact)", bits[nd - 1][0], NAN, fitb[nd - 1][0],
                 "ncx2 fit", sc, PK_VERDICT_INFO);
    pk_repro_row(ctx, "worst relative error of the ncx2 fit vs the exact law", worst_fit, NAN, NAN, NULL, sc,
                 PK_VERDICT_INFO);
    pk_repro_row(ctx, "both trends at the stricter eps = 0.05 (1 = yes)", up2 && down2, NAN, NAN, NULL,
                 "same grid; 0.05 lies below the posterior-mean error in d = 2", PK_VERDICT_INFO);
    pk_repro_note(ctx, "Exact: the test MSE of a posterior draw that fits the training data is a generalised "
                       "chi-square (eigenvalues of the posterior covariance on the test set, one block per output); "
                       "its CDF by Imhof's integral (F > 1e-6) or the r* saddlepoint (deeper tail). Fit: the paper's "
                       "scaled non-central chi-square by three moments of %zu sampled hypotheses. Protocol as in the "
                       "authors' kernel code (RBF width 1 on the data's own scale, one-hot outputs), eps on the loss's "
                       "scale (0.8 x the zero predictor's MSE). Session 1 rescaled the PCA scores to unit variance and "
                       "the kernel width to sqrt(d), which removes the dimension effect the paper measures, and used "
                       "eps = 0.5 on +-1 labels, below what the interpolants reach in low d. Where the tail is deep "
                       "the moment fit misses the exact law by large factors (worst relative error %.2f), which is "
                       "what computing the law exactly buys.",
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
    free(vk);
    free(y);
    free(yj);
    return st;
}

const pk_repro pk_repro_exactbias = {"exactbias", PK_REPRO_IMPLEMENTED,
                                     "inductive bias -log2 P(loss <= eps) of an MNIST task for a GP hypothesis space: "
                                     "exact generalised chi-square vs the paper's fit",
                                     run};
