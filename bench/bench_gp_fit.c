/* bench_gp_fit — type-II ML fit and prediction of an exact GP, timed, for
 * bench/gp_sklearn.py (which runs scikit-learn on the same data alternately).
 *
 * usage: bench_gp_fit TRAIN.csv TEST.csv RESTARTS SEED [STARTS.csv]
 * CSV rows: d inputs then the target, no header.  Kernel: SE with ARD length
 * scales and amplitude, plus Gaussian noise, zero mean (sklearn's
 * ConstantKernel * RBF + WhiteKernel); start at unit scales, noise 0.1.
 * With STARTS.csv (one row of d + 2 log-hyperparameters per restart, e.g. the
 * very points scikit-learn draws) the restarts start there instead of at our
 * own random points, and the soft box is scikit-learn's (1e-5, 1e5) bounds,
 * so both sides do the same work.
 * Prints one JSON object: fit and predict seconds, final log marginal
 * likelihood, hyperparameters, optimiser work (starts, iterations and
 * evaluations, each with its gradient) and the predictive mean at the first
 * 5 test points. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probkit/gp.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static pk_mat *read_csv(const char *path, double **y)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 1024, n = 0, d = 0;
    double *v = malloc(cap * sizeof *v);
    char line[1 << 14];
    size_t cols = 0;
    while (v && fgets(line, sizeof line, f)) {
        char *p = line, *e;
        size_t c = 0;
        for (;;) {
            double x = strtod(p, &e);
            if (e == p)
                break;
            if ((cols ? cols : 64) * n + c >= cap) {
                cap *= 2;
                double *nv = realloc(v, cap * sizeof *nv);
                if (!nv) {
                    free(v);
                    fclose(f);
                    return NULL;
                }
                v = nv;
            }
            v[cols * n + c++] = x;
            p = (*e == ',') ? e + 1 : e;
        }
        if (c == 0)
            continue;
        if (!cols)
            cols = c;
        if (c != cols)
            break;
        n++;
    }
    fclose(f);
    if (!v || cols < 2)
        return NULL;
    d = cols - 1;
    pk_mat *X = pk_mat_new(n, d);
    *y = malloc(n * sizeof **y);
    for (size_t i = 0; X && *y && i < n; i++) {
        for (size_t j = 0; j < d; j++)
            *pk_mat_at(X, i, j) = v[i * cols + j];
        (*y)[i] = v[i * cols + d];
    }
    free(v);
    return X;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: bench_gp_fit TRAIN.csv TEST.csv RESTARTS SEED [STARTS.csv]\n");
        return 2;
    }
    double *y = NULL, *yt = NULL;
    pk_mat *X = read_csv(argv[1], &y), *Xt = read_csv(argv[2], &yt);
    if (!X || !Xt) {
        fprintf(stderr, "bench_gp_fit: cannot read %s or %s\n", argv[1], argv[2]);
        return 1;
    }
    size_t d = X->cols, m = Xt->rows;
    double *S = NULL;
    pk_mat *St = argc == 6 ? read_csv(argv[5], &S) : NULL; /* d + 1 columns + the last one in S */
    if (argc == 6 && (!St || St->cols + 1 != d + 2 || d + 2 > 64)) {
        fprintf(stderr, "bench_gp_fit: %s must have %zu columns\n", argv[5], d + 2);
        return 1;
    }
    pk_gp *gp = pk_gp_new(pk_gp_kernel_new(PK_GP_KERNEL_SE, d, 1, 0), PK_GP_MEAN_ZERO);
    pk_gp_set_noise_floor(gp, 0.0);
    double h[64] = {0};
    h[d + 1] = log(0.1);
    pk_gp_set_hyper(gp, h);
    pk_err err;
    if (pk_gp_set_data(gp, X, y, &err)) {
        fprintf(stderr, "bench_gp_fit: %s\n", err.msg);
        return 1;
    }
    pk_gp_fit_params fp = pk_gp_fit_params_default();
    fp.restarts = atoi(argv[3]);
    pk_rng rng;
    pk_rng_seed(&rng, strtoull(argv[4], NULL, 10));
    pk_gp_fit_info work = {0, 0, 0, 0, 0};
    double lml, t0 = pk_time_now(), c0 = cpu_now();
    if (!St) {
        if (pk_gp_fit(gp, &fp, &rng, &lml, &err)) {
            fprintf(stderr, "bench_gp_fit: %s\n", err.msg);
            return 1;
        }
        work = pk_gp_last_fit_info(gp);
    } else {
        /* the initial point, then one local fit from each given start; keep the best */
        size_t nh = d + 2, ns = St->rows < (size_t)fp.restarts ? St->rows : (size_t)fp.restarts;
        double best[64], bl = -INFINITY;
        fp.restarts = 0;
        fp.log_lo = log(1e-5);
        fp.log_hi = log(1e5);
        for (size_t r = 0; r <= ns; r++) {
            if (r > 0) {
                for (size_t i = 0; i + 1 < nh; i++)
                    h[i] = *pk_mat_at(St, r - 1, i);
                h[nh - 1] = S[r - 1];
                pk_gp_set_hyper(gp, h);
            }
            double l;
            if (pk_gp_fit(gp, &fp, &rng, &l, &err) == PK_OK && l > bl) {
                bl = l;
                pk_gp_get_hyper(gp, best);
            }
            pk_gp_fit_info w = pk_gp_last_fit_info(gp);
            work.starts += w.starts;
            work.iterations += w.iterations;
            work.evaluations += w.evaluations;
            work.gradients += w.gradients;
            work.failures += w.failures;
        }
        if (!isfinite(bl)) {
            fprintf(stderr, "bench_gp_fit: no start could be fitted\n");
            return 1;
        }
        pk_gp_set_hyper(gp, best);
        lml = bl;
        if (pk_gp_update(gp)) { /* the factorisation belongs to the fit, as in pk_gp_fit */
            fprintf(stderr, "bench_gp_fit: cannot factorise at the best point\n");
            return 1;
        }
    }
    double t1 = pk_time_now(), c1 = cpu_now();
    double *mu = malloc(m * sizeof *mu), *var = malloc(m * sizeof *var);
    pk_gp_predict(gp, Xt, mu, var, 1);
    double t2 = pk_time_now(), c2 = cpu_now();
    pk_gp_get_hyper(gp, h);
    printf("{\"fit_s\": %.6f, \"predict_s\": %.6f, \"fit_cpu_s\": %.6f, \"predict_cpu_s\": %.6f, \"lml\": %.10f, "
           "\"hyper\": [",
           t1 - t0, t2 - t1, c1 - c0, c2 - c1, lml);
    for (size_t i = 0; i < pk_gp_nhyper(gp); i++)
        printf("%s%.10g", i ? ", " : "", h[i]);
    printf("], \"starts\": %d, \"iterations\": %d, \"evaluations\": %d, \"gradients\": %d, \"failures\": %d, "
           "\"mean5\": [",
           work.starts, work.iterations, work.evaluations, work.gradients, work.failures);
    for (size_t i = 0; i < 5 && i < m; i++)
        printf("%s%.10g", i ? ", " : "", mu[i]);
    printf("]}\n");
    free(mu);
    free(var);
    free(y);
    free(yt);
    free(S);
    pk_mat_free(St);
    pk_mat_free(X);
    pk_mat_free(Xt);
    pk_gp_free(gp);
    return 0;
}
