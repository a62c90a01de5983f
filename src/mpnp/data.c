/* data.c — batches of 1-d regression tasks drawn from Gaussian processes,
 * the synthetic benchmark of the neural-process papers (RBF, Matern-5/2,
 * periodic kernels; optional heavy-tailed Student-t observation noise). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/linalg.h"
#include "probkit/mpnp.h"

pk_mpnp_task_params pk_mpnp_task_params_default(pk_mpnp_kernel kernel)
{
    pk_mpnp_task_params p = {kernel, 50, -2.0, 2.0, 0.1, 0.6, 0.1, 1.0, 0.02, 0.0};
    return p;
}

int pk_mpnp_task_params_check(const pk_mpnp_task_params *tp, pk_err *err)
{
    if (!tp)
        return pk_err_set(err, PK_EINVAL, "mpnp tasks: NULL parameters");
    if (tp->kernel < PK_MPNP_RBF || tp->kernel > PK_MPNP_PERIODIC)
        return pk_err_set(err, PK_EINVAL, "mpnp tasks: unknown kernel %d", (int)tp->kernel);
    if (tp->max_points < 10 || tp->max_points > 1000)
        return pk_err_set(err, PK_EINVAL, "mpnp tasks: max_points %d not in 10..1000", tp->max_points);
    if (!(tp->x_lo < tp->x_hi) || !isfinite(tp->x_lo) || !isfinite(tp->x_hi))
        return pk_err_set(err, PK_EINVAL, "mpnp tasks: need finite x_lo < x_hi");
    if (!(tp->min_ls > 0 && tp->min_ls <= tp->max_ls && isfinite(tp->max_ls)))
        return pk_err_set(err, PK_EINVAL, "mpnp tasks: need 0 < min_ls <= max_ls");
    if (!(tp->min_scale > 0 && tp->min_scale <= tp->max_scale && isfinite(tp->max_scale)))
        return pk_err_set(err, PK_EINVAL, "mpnp tasks: need 0 < min_scale <= max_scale");
    if (!(tp->noise_sd >= 0 && isfinite(tp->noise_sd)) || !(tp->t_noise >= 0 && isfinite(tp->t_noise)))
        return pk_err_set(err, PK_EINVAL, "mpnp tasks: noise_sd and t_noise must be finite and >= 0");
    return PK_OK;
}

int pk_mpnp_batch_alloc(pk_mpnp_batch *b, int B, int max_points)
{
    if (!b || B < 1 || max_points < 1)
        return PK_EINVAL;
    memset(b, 0, sizeof *b);
    b->x = malloc((size_t)B * max_points * sizeof *b->x);
    b->y = malloc((size_t)B * max_points * sizeof *b->y);
    if (!b->x || !b->y) {
        pk_mpnp_batch_free(b);
        return PK_ENOMEM;
    }
    b->B = B;
    b->cap = B * max_points;
    return PK_OK;
}

void pk_mpnp_batch_free(pk_mpnp_batch *b)
{
    if (!b)
        return;
    free(b->x);
    free(b->y);
    memset(b, 0, sizeof *b);
}

static double kern(pk_mpnp_kernel k, double d, double ls, double s2, double period)
{
    switch (k) {
    case PK_MPNP_RBF:
        return s2 * exp(-0.5 * d * d / (ls * ls));
    case PK_MPNP_MATERN52: {
        double r = sqrt(5.0) * fabs(d) / ls;
        return s2 * (1.0 + r + r * r / 3.0) * exp(-r);
    }
    case PK_MPNP_PERIODIC: {
        double sn = sin(M_PI * fabs(d) / period);
        return s2 * exp(-2.0 * sn * sn / (ls * ls));
    }
    }
    return 0.0;
}

/* Student-t with nu degrees of freedom: a normal over sqrt(chi2_nu / nu). */
static double student_t(pk_rng *rng, double nu)
{
    double chi2 = 2.0 * pk_rng_gamma(rng, 0.5 * nu);
    return pk_rng_normal(rng) / sqrt(chi2 / nu);
}

int pk_mpnp_sample_batch(const pk_mpnp_task_params *tp, int B, int nc, int nt, pk_rng *rng, pk_mpnp_batch *b,
                         pk_err *err)
{
    int st = pk_mpnp_task_params_check(tp, err);
    if (st)
        return st;
    if (!rng || !b || !b->x || B < 1)
        return pk_err_set(err, PK_EINVAL, "mpnp tasks: need rng, an allocated batch and B >= 1");
    int P = tp->max_points;
    if (nc <= 0 || nt <= 0) {
        /* sizes as the benchmark code draws them: randint(3, P-3), randint(3, P-nc) (upper bounds exclusive) */
        nc = 3 + (int)pk_rng_below(rng, (uint64_t)(P - 6));
        nt = 3 + (int)pk_rng_below(rng, (uint64_t)(P - nc - 3));
    }
    int n = nc + nt;
    if (nc < 1 || nt < 1 || n > P || (size_t)B * n > (size_t)b->cap)
        return pk_err_set(err, PK_EINVAL, "mpnp tasks: nc %d + nt %d exceeds max_points %d or the batch", nc, nt, P);
    pk_mat *K = pk_mat_new((size_t)n, (size_t)n);
    double *x = malloc((size_t)n * sizeof *x), *z = malloc((size_t)n * sizeof *z);
    if (!K || !x || !z) {
        st = pk_err_set(err, PK_ENOMEM, "mpnp tasks: out of memory");
        goto done;
    }
    for (int t = 0; t < B; t++) {
        double ls = tp->min_ls + (tp->max_ls - tp->min_ls) * pk_rng_uniform(rng);
        double sc = tp->min_scale + (tp->max_scale - tp->min_scale) * pk_rng_uniform(rng);
        double period = tp->kernel == PK_MPNP_PERIODIC ? 0.1 + 0.4 * pk_rng_uniform(rng) : 1.0;
        for (int i = 0; i < n; i++)
            x[i] = tp->x_lo + (tp->x_hi - tp->x_lo) * pk_rng_uniform(rng);
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) {
                double v = kern(tp->kernel, x[i] - x[j], ls, sc * sc, period);
                if (i == j)
                    v += tp->noise_sd * tp->noise_sd;
                *pk_mat_at(K, i, j) = v, *pk_mat_at(K, j, i) = v;
            }
        double jit;
        if (pk_cholesky(K, 1e-8, 8, &jit)) {
            st = pk_err_set(err, PK_ESING, "mpnp tasks: GP covariance of %d points not positive definite", n);
            goto done;
        }
        for (int i = 0; i < n; i++)
            z[i] = pk_rng_normal(rng);
        for (int i = 0; i < n; i++) {
            double v = 0;
            for (int j = 0; j <= i; j++)
                v += *pk_mat_at(K, i, j) * z[j];
            if (tp->t_noise > 0)
                v += tp->t_noise * student_t(rng, 2.1);
            b->x[(size_t)t * n + i] = (float)x[i];
            b->y[(size_t)t * n + i] = (float)v;
        }
    }
    b->B = B, b->nc = nc, b->nt = nt;
done:
    pk_mat_free(K);
    free(x);
    free(z);
    return st;
}
