/* match.c — fitting the BNN's weight-prior scales to a GP prior by
 * minimising the sliced Wasserstein distance between their function values
 * at random measurement points (Tran et al. 2022, with the sliced distance
 * in place of the Lipschitz-discriminator dual: see funcprior.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "funcprior_priv.h"
#include "probkit/nn.h"

typedef struct fp_rank {
    double v;
    size_t i;
} fp_rank;

static int cmp_rank(const void *a, const void *b)
{
    double x = ((const fp_rank *)a)->v, y = ((const fp_rank *)b)->v;
    return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int pk_funcprior_sliced_wasserstein(const pk_mat *A, const pk_mat *B, size_t n_proj, int p, pk_rng *rng,
                                    double *dist, pk_mat *gA, pk_err *err)
{
    if (!A || !B || !rng || !dist || A->rows < 2 || A->rows != B->rows || A->cols != B->cols || A->cols < 1)
        return pk_err_set(err, PK_EINVAL, "sliced_wasserstein: need two samples of the same shape, n >= 2");
    if (n_proj < 1 || (p != 1 && p != 2))
        return pk_err_set(err, PK_EINVAL, "sliced_wasserstein: need n_proj >= 1 and p = 1 or 2");
    if (gA && (gA->rows != A->rows || gA->cols != A->cols))
        return pk_err_set(err, PK_EINVAL, "sliced_wasserstein: gradient must be %zu x %zu", A->rows, A->cols);
    size_t n = A->rows, M = A->cols, K = n_proj;
    double *U = malloc(K * M * sizeof *U), *PA = malloc(n * K * sizeof *PA), *PB = malloc(n * K * sizeof *PB);
    double *GP = calloc(n * K, sizeof *GP), *b = malloc(n * sizeof *b);
    fp_rank *a = malloc(n * sizeof *a);
    if (!U || !PA || !PB || !GP || !b || !a) {
        free(U), free(PA), free(PB), free(GP), free(b), free(a);
        return pk_err_set(err, PK_ENOMEM, "sliced_wasserstein: out of memory");
    }
    for (size_t k = 0; k < K; k++) { /* uniform directions on the sphere */
        double *u = U + k * M, s = 0;
        do {
            s = 0;
            for (size_t j = 0; j < M; j++)
                u[j] = pk_rng_normal(rng), s += u[j] * u[j];
        } while (s == 0);
        s = 1.0 / sqrt(s);
        for (size_t j = 0; j < M; j++)
            u[j] *= s;
    }
    /* projections: PA (n x K) = A U^T */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)K, (int)M, 1.0, A->data, (int)A->stride, U,
                (int)M, 0.0, PA, (int)K);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)K, (int)M, 1.0, B->data, (int)B->stride, U,
                (int)M, 0.0, PB, (int)K);
    double total = 0;
    for (size_t k = 0; k < K; k++) {
        for (size_t i = 0; i < n; i++)
            a[i].v = PA[i * K + k], a[i].i = i, b[i] = PB[i * K + k];
        qsort(a, n, sizeof *a, cmp_rank);
        qsort(b, n, sizeof *b, cmp_double);
        /* in 1-d the optimal coupling matches order statistics */
        double c = 0;
        for (size_t i = 0; i < n; i++) {
            double d = a[i].v - b[i];
            c += p == 1 ? fabs(d) : d * d;
            GP[a[i].i * K + k] = p == 1 ? (d > 0) - (d < 0) : 2.0 * d;
        }
        total += c / (double)n;
    }
    total /= (double)K;
    *dist = p == 1 ? total : sqrt(total);
    if (gA) {
        /* d dist / d PA = outer * GP / (n K); d PA / d A = U */
        double outer = p == 1 ? 1.0 : (total > 0 ? 0.5 / sqrt(total) : 0.0);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)M, (int)K, outer / ((double)n * (double)K),
                    GP, (int)K, U, (int)M, 0.0, gA->data, (int)gA->stride);
    }
    free(U), free(PA), free(PB), free(GP), free(b), free(a);
    return PK_OK;
}

/* The Cholesky factor of K(X, X) + reg * mean(diag K) I into L (n x n):
 * reg = 1e-8 for GP draws, the whitening regulariser for the metric. */
static int kernel_factor(const pk_gp_kernel *kernel, const pk_mat *X, double reg, pk_mat *L, pk_err *err)
{
    if (pk_gp_kernel_matrix(kernel, X, X, 1, L))
        return pk_err_set(err, PK_EINVAL, "funcprior: the kernel does not take %zu-dimensional inputs", X->cols);
    double tr = 0;
    for (size_t i = 0; i < L->rows; i++)
        tr += *pk_mat_at(L, i, i);
    for (size_t i = 0; i < L->rows; i++)
        *pk_mat_at(L, i, i) += reg * tr / (double)L->rows;
    double used = 0;
    if (pk_cholesky(L, 1e-8, 8, &used))
        return pk_err_set(err, PK_ESING, "funcprior: the kernel matrix at the measurement points is not positive "
                                         "definite even with jitter");
    return PK_OK;
}

static int gp_draw(const pk_mat *L, size_t ns, pk_rng *rng, pk_mat *F, double *z)
{
    size_t n = L->rows;
    for (size_t s = 0; s < ns; s++) {
        for (size_t i = 0; i < n; i++)
            z[i] = pk_rng_normal(rng);
        double *f = pk_mat_at(F, s, 0);
        for (size_t i = 0; i < n; i++) {
            const double *li = pk_mat_at(L, i, 0);
            double v = 0;
            for (size_t j = 0; j <= i; j++)
                v += li[j] * z[j];
            f[i] = v;
        }
    }
    return PK_OK;
}

/* Z = F L^{-T} row by row (z = L^{-1} f): function values in the metric of
 * the target's (regularised) covariance, where every direction of a
 * covariance mismatch has unit scale.  Unwhitened random projections see
 * almost only tr(C) / M (they concentrate), so they barely constrain the
 * correlation structure; whitened ones do. */
static void whiten(const pk_mat *Lw, pk_mat *F)
{
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, (int)F->rows, (int)F->cols, 1.0,
                Lw->data, (int)Lw->stride, F->data, (int)F->stride);
}

int pk_funcprior_gp_sample(const pk_gp_kernel *kernel, const pk_mat *X, size_t ns, pk_rng *rng, pk_mat *F,
                           pk_err *err)
{
    if (!kernel || !X || !X->data || X->rows < 1 || !rng || !F || F->rows != ns || F->cols != X->rows)
        return pk_err_set(err, PK_EINVAL, "funcprior_gp_sample: need a kernel, points and an ns x n output");
    if (pk_gp_kernel_dim(kernel) != X->cols)
        return pk_err_set(err, PK_EINVAL, "funcprior_gp_sample: the kernel takes %zu inputs, the points have %zu",
                          pk_gp_kernel_dim(kernel), X->cols);
    pk_mat *L = pk_mat_new(X->rows, X->rows);
    double *z = malloc(X->rows * sizeof *z);
    int st = !L || !z ? pk_err_set(err, PK_ENOMEM, "funcprior_gp_sample: out of memory")
                      : kernel_factor(kernel, X, 1e-8, L, err);
    if (!st)
        st = gp_draw(L, ns, rng, F, z);
    pk_mat_free(L);
    free(z);
    return st;
}

/* Shared by the distance and its floor: A from the BNN (pr != NULL) or the GP. */
static int distance_reps(const pk_funcprior_net *net, const pk_funcprior_prior *pr, const pk_gp_kernel *kernel,
                         const pk_mat *X, size_t ns, size_t n_proj, int p, double wreg, int reps, pk_rng *rng,
                         double *dist, pk_err *err)
{
    if (reps < 1 || ns < 2 || !X || !X->data || !dist || !(wreg >= 0) || !kernel)
        return pk_err_set(err, PK_EINVAL, "funcprior_distance: need reps >= 1, ns >= 2, points, a kernel, whiten >= 0");
    size_t n = X->rows;
    pk_mat *A = pk_mat_new(ns, n), *B = pk_mat_new(ns, n), *Lw = wreg > 0 ? pk_mat_new(n, n) : NULL;
    int st = !A || !B || (wreg > 0 && !Lw) ? pk_err_set(err, PK_ENOMEM, "funcprior_distance: out of memory") : PK_OK;
    if (!st && Lw)
        st = kernel_factor(kernel, X, wreg, Lw, err);
    double sum = 0;
    for (int r = 0; r < reps && !st; r++) {
        double d = 0;
        st = pr ? pk_funcprior_sample_functions(net, pr, X, ns, rng, A, err)
                : pk_funcprior_gp_sample(kernel, X, ns, rng, A, err);
        if (!st)
            st = pk_funcprior_gp_sample(kernel, X, ns, rng, B, err);
        if (!st && Lw)
            whiten(Lw, A), whiten(Lw, B);
        if (!st && !(st = pk_funcprior_sliced_wasserstein(A, B, n_proj, p, rng, &d, NULL, err)))
            sum += d;
    }
    pk_mat_free(A), pk_mat_free(B), pk_mat_free(Lw);
    if (!st)
        *dist = sum / reps;
    return st;
}

int pk_funcprior_distance(const pk_funcprior_net *net, const pk_funcprior_prior *pr, const pk_gp_kernel *kernel,
                          const pk_mat *X, size_t ns, size_t n_proj, int p, double whiten_reg, int reps, pk_rng *rng,
                          double *dist, pk_err *err)
{
    int st = pk_funcprior_prior_check(net, pr, err);
    return st ? st : distance_reps(net, pr, kernel, X, ns, n_proj, p, whiten_reg, reps, rng, dist, err);
}

int pk_funcprior_distance_floor(const pk_gp_kernel *kernel, const pk_mat *X, size_t ns, size_t n_proj, int p,
                                double whiten_reg, int reps, pk_rng *rng, double *dist, pk_err *err)
{
    return distance_reps(NULL, NULL, kernel, X, ns, n_proj, p, whiten_reg, reps, rng, dist, err);
}

pk_funcprior_match_params pk_funcprior_match_params_default(void)
{
    pk_funcprior_match_params mp = {500, 128, 32, 64, 1, 0.02, -3.0, 3.0, 0.01};
    return mp;
}

int pk_funcprior_match_params_check(const pk_funcprior_match_params *mp, pk_err *err)
{
    if (!mp)
        return pk_err_set(err, PK_EINVAL, "funcprior_match: no parameters");
    if (mp->steps < 1)
        return pk_err_set(err, PK_EINVAL, "funcprior_match: steps must be >= 1, got %d", mp->steps);
    if (mp->n_samples < 2)
        return pk_err_set(err, PK_EINVAL, "funcprior_match: n_samples must be >= 2, got %d", mp->n_samples);
    if (mp->n_measure < 1)
        return pk_err_set(err, PK_EINVAL, "funcprior_match: n_measure must be >= 1, got %d", mp->n_measure);
    if (mp->n_proj < 1)
        return pk_err_set(err, PK_EINVAL, "funcprior_match: n_proj must be >= 1, got %d", mp->n_proj);
    if (mp->p != 1 && mp->p != 2)
        return pk_err_set(err, PK_EINVAL, "funcprior_match: p must be 1 or 2, got %d", mp->p);
    if (!(mp->lr > 0) || !isfinite(mp->lr))
        return pk_err_set(err, PK_EINVAL, "funcprior_match: lr must be finite and > 0, got %g", mp->lr);
    if (!(mp->lo < mp->hi) || !isfinite(mp->lo) || !isfinite(mp->hi))
        return pk_err_set(err, PK_EINVAL, "funcprior_match: need finite lo < hi, got [%g, %g]", mp->lo, mp->hi);
    if (!(mp->whiten >= 0) || !isfinite(mp->whiten))
        return pk_err_set(err, PK_EINVAL, "funcprior_match: whiten must be finite and >= 0, got %g", mp->whiten);
    return PK_OK;
}

static double softplus(double r) { return r > 30 ? r : log1p(exp(r)); }
static double softplus_inv(double s) { return s > 30 ? s : log(expm1(s)); }
static double sigmoid(double r) { return 1.0 / (1.0 + exp(-r)); }

/* The matching loop's buffers, freed in one place. */
typedef struct fp_match_buf {
    pk_mat *Xm, *L, *Fg, *Fb, *gF, *Lw;
    double *eps, *theta, *gth, *z, *sd;
    fp_ws w;
    int have_ws;
    pk_nn_params *np;
    pk_nn_optim *opt;
} fp_match_buf;

static void match_buf_free(fp_match_buf *b)
{
    pk_mat_free(b->Xm), pk_mat_free(b->L), pk_mat_free(b->Fg), pk_mat_free(b->Fb), pk_mat_free(b->gF), pk_mat_free(b->Lw);
    free(b->eps), free(b->theta), free(b->gth), free(b->z), free(b->sd);
    if (b->have_ws)
        fp_ws_free(&b->w);
    pk_nn_optim_free(b->opt);
    pk_nn_params_free(b->np);
}

int pk_funcprior_match(const pk_funcprior_net *net, const pk_gp_kernel *kernel, const pk_mat *pool,
                       const pk_funcprior_match_params *mp, pk_rng *rng, pk_funcprior_prior *pr, double *trace,
                       pk_err *err)
{
    int st = pk_funcprior_prior_check(net, pr, err);
    if (st || (st = pk_funcprior_match_params_check(mp, err)))
        return st;
    if (!kernel || !rng)
        return pk_err_set(err, PK_EINVAL, "funcprior_match: need a kernel and a random stream");
    if (pk_gp_kernel_dim(kernel) != (size_t)net->in_dim)
        return pk_err_set(err, PK_EINVAL, "funcprior_match: the kernel takes %zu inputs, the network %d",
                          pk_gp_kernel_dim(kernel), net->in_dim);
    if (pool && (pool->rows < 1 || pool->cols != (size_t)net->in_dim))
        return pk_err_set(err, PK_EINVAL, "funcprior_match: the pool of measurement points must be n x %d",
                          net->in_dim);
    size_t M = (size_t)mp->n_measure, S = (size_t)mp->n_samples, P = pk_funcprior_nparams(net), d = (size_t)net->in_dim;
    int nl = pk_funcprior_nlayers(net);
    fp_match_buf b;
    memset(&b, 0, sizeof b);
    b.Xm = pk_mat_new(M, d), b.L = pk_mat_new(M, M), b.Fg = pk_mat_new(S, M), b.Fb = pk_mat_new(S, M);
    b.gF = pk_mat_new(S, M), b.Lw = pk_mat_new(M, M);
    b.eps = malloc(S * P * sizeof(double)), b.theta = malloc(P * sizeof(double)), b.gth = malloc(P * sizeof(double));
    b.z = malloc(M * sizeof(double)), b.sd = malloc(P * sizeof(double));
    b.have_ws = fp_ws_init(&b.w, net, M) == PK_OK;
    b.np = pk_nn_params_new();
    pk_nn_tensor *rw = NULL, *rb = NULL;
    if (b.np) {
        rw = pk_nn_params_add(b.np, "rho_w", 1, (int64_t[]){nl});
        rb = pk_nn_params_add(b.np, "rho_b", 1, (int64_t[]){nl});
    }
    if (!b.Xm || !b.L || !b.Lw || !b.Fg || !b.Fb || !b.gF || !b.eps || !b.theta || !b.gth || !b.z || !b.sd || !b.have_ws ||
        !rw || !rb || pk_nn_params_alloc(b.np)) {
        match_buf_free(&b);
        return pk_err_set(err, PK_ENOMEM, "funcprior_match: out of memory");
    }
    pk_nn_optim_params op = pk_nn_optim_params_default(PK_NN_ADAM);
    if (!(b.opt = pk_nn_optim_new(b.np, &op, err))) {
        match_buf_free(&b);
        return PK_ENOMEM;
    }
    for (int l = 0; l < nl; l++)
        rw->data[l] = (float)softplus_inv(pr->w_std[l]), rb->data[l] = (float)softplus_inv(pr->b_std[l]);

    for (int it = 0; it < mp->steps && !st; it++) {
        pk_funcprior_prior cur = *pr;
        for (int l = 0; l < nl; l++)
            cur.w_std[l] = softplus(rw->data[l]), cur.b_std[l] = softplus(rb->data[l]);
        /* measurement points */
        for (size_t i = 0; i < M; i++) {
            double *x = pk_mat_at(b.Xm, i, 0);
            if (pool)
                memcpy(x, pk_mat_at(pool, (size_t)pk_rng_below(rng, pool->rows), 0), d * sizeof *x);
            else
                for (size_t j = 0; j < d; j++)
                    x[j] = mp->lo + (mp->hi - mp->lo) * pk_rng_uniform(rng);
        }
        if ((st = kernel_factor(kernel, b.Xm, 1e-8, b.L, err)))
            break;
        gp_draw(b.L, S, rng, b.Fg, b.z);
        /* BNN functions by reparameterisation theta = sd * eps */
        pk_funcprior_prior_sd(net, &cur, b.sd);
        for (size_t s = 0; s < S; s++) {
            double *e = b.eps + s * P;
            for (size_t k = 0; k < P; k++)
                e[k] = pk_rng_normal(rng), b.theta[k] = b.sd[k] * e[k];
            fp_forward(&b.w, b.theta, b.Xm->data, b.Xm->stride, M);
            memcpy(pk_mat_at(b.Fb, s, 0), b.w.H[b.w.L], M * sizeof(double));
        }
        double dist = 0;
        if (mp->whiten > 0) {
            if ((st = kernel_factor(kernel, b.Xm, mp->whiten, b.Lw, err)))
                break;
            whiten(b.Lw, b.Fb), whiten(b.Lw, b.Fg);
        }
        if ((st = pk_funcprior_sliced_wasserstein(b.Fb, b.Fg, (size_t)mp->n_proj, mp->p, rng, &dist, b.gF, err)))
            break;
        if (mp->whiten > 0) /* Z = F L^{-T}, so dF = dZ L^{-1}: solve dF L = dZ */
            cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, (int)S, (int)M, 1.0,
                        b.Lw->data, (int)b.Lw->stride, b.gF->data, (int)b.gF->stride);
        if (trace)
            trace[it] = dist;
        /* chain rule to the scales: d theta_k / d sd_layer = eps_k * (1/sqrt(fan_in) for weights) */
        double gw[PK_FUNCPRIOR_MAX_HIDDEN + 1] = {0}, gb[PK_FUNCPRIOR_MAX_HIDDEN + 1] = {0};
        for (size_t s = 0; s < S; s++) {
            double *e = b.eps + s * P;
            for (size_t k = 0; k < P; k++)
                b.theta[k] = b.sd[k] * e[k];
            fp_forward(&b.w, b.theta, b.Xm->data, b.Xm->stride, M);
            memset(b.gth, 0, P * sizeof(double));
            fp_backward(&b.w, b.theta, b.Xm->data, b.Xm->stride, M, pk_mat_at(b.gF, s, 0), b.gth);
            for (int l = 0; l < nl; l++) {
                size_t w0 = b.w.off_w[l], b0 = b.w.off_b[l], b1 = b0 + (size_t)b.w.dims[l + 1];
                double sw = 0, sb = 0;
                for (size_t k = w0; k < b0; k++)
                    sw += b.gth[k] * e[k];
                for (size_t k = b0; k < b1; k++)
                    sb += b.gth[k] * e[k];
                gw[l] += sw / sqrt((double)b.w.dims[l]);
                gb[l] += sb;
            }
        }
        int finite = isfinite(dist);
        for (int l = 0; l < nl; l++) {
            rw->grad[l] = (float)(gw[l] * sigmoid(rw->data[l]));
            rb->grad[l] = (float)(gb[l] * sigmoid(rb->data[l]));
            finite &= isfinite(rw->grad[l]) && isfinite(rb->grad[l]);
        }
        if (!finite) {
            st = pk_err_set(err, PK_EDOM, "funcprior_match: non-finite distance or gradient at step %d", it);
            break;
        }
        pk_nn_optim_step(b.opt, mp->lr);
    }
    if (!st)
        for (int l = 0; l < nl; l++)
            pr->w_std[l] = softplus(rw->data[l]), pr->b_std[l] = softplus(rb->data[l]);
    match_buf_free(&b);
    return st;
}
