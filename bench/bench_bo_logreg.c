/* bench_bo_logreg — the real training behind two of the Spearmint
 * reproductions: multinomial logistic regression on the 10,000 MNIST digits
 * (first 5,000 train, last 5,000 validate) by minibatch SGD with the paper's
 * four hyperparameters: learning rate, L2 penalty, minibatch size, epochs
 * (capped at 20 so that one training costs well under a second of CPU).
 *
 *   bench_bo_logreg eval LR L2 BATCH EPOCHS
 *       one training; prints "validation_error cpu_seconds"
 *   bench_bo_logreg grid OUT.csv
 *       the precomputed grid for the parallel / cost-aware study: every
 *       (lr, l2, batch) of the grid trained once for 16 epochs, error and
 *       validation cross-entropy and cumulative CPU time recorded after 1, 2, 4, 8 and 16 epochs (a run with
 *       fewer epochs is exactly the prefix of the longer one: same shuffles)
 *   bench_bo_logreg bo SEEDS EVALS OUT.json [FIRST]
 *       GP-EI-MCMC on the validation error, SEEDS runs (rng streams FIRST,
 *       FIRST+1, ...; default 0) of EVALS trainings;
 *       writes each run's best-so-far trace (bench/bo_logreg.py runs Optuna's
 *       TPE on the same `eval` beside it)
 *
 * The data directory is $PROBKIT_DATA or ./data (mnist/mnist-10k-*-ubyte).
 * Training is deterministic: weights start at zero and the shuffles come
 * from a fixed seed, so one configuration always gives the same error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "probkit/bo.h"
#include "probkit/io.h"

#define NPIX 784
#define NCLS 10
#define NTRAIN 5000
#define NVAL 5000

typedef struct {
    float *x; /* 10000 x 784 in [0, 1] */
    int *y;
} digits;

static int load(digits *d)
{
    const char *env = getenv("PROBKIT_DATA");
    char pi[1024], pl[1024];
    snprintf(pi, sizeof pi, "%s/mnist/mnist-10k-images-idx3-ubyte", env && *env ? env : "data");
    snprintf(pl, sizeof pl, "%s/mnist/mnist-10k-labels-idx1-ubyte", env && *env ? env : "data");
    pk_array *ai = NULL, *al = NULL;
    pk_err err = {0};
    if (pk_idx_read(pi, &ai, &err) || pk_idx_read(pl, &al, &err)) {
        fprintf(stderr, "bench_bo_logreg: %s\n", err.msg);
        pk_array_free(ai);
        return 1;
    }
    size_t n = (size_t)al->shape[0];
    if (n < NTRAIN + NVAL || pk_array_numel(ai) != n * NPIX) {
        fprintf(stderr, "bench_bo_logreg: expected 10,000 28x28 digits in %s\n", pi);
        pk_array_free(ai);
        pk_array_free(al);
        return 1;
    }
    d->x = malloc((NTRAIN + NVAL) * NPIX * sizeof *d->x);
    d->y = malloc((NTRAIN + NVAL) * sizeof *d->y);
    if (!d->x || !d->y || ai->dtype != PK_DTYPE_U8 || al->dtype != PK_DTYPE_U8) {
        fprintf(stderr, "bench_bo_logreg: out of memory or not u8 IDX data\n");
        pk_array_free(ai);
        pk_array_free(al);
        return 1;
    }
    const unsigned char *px = ai->data, *py = al->data;
    for (size_t i = 0; i < (size_t)(NTRAIN + NVAL) * NPIX; i++)
        d->x[i] = px[i] / 255.0f;
    for (size_t i = 0; i < NTRAIN + NVAL; i++)
        d->y[i] = py[i];
    pk_array_free(ai);
    pk_array_free(al);
    return 0;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Validation error of W (10 x 785, bias last); *nll gets the mean
 * validation cross-entropy (nats). */
static double val_error(const digits *d, const float *W, float *logits, double *nll)
{
    const float *xv = d->x + (size_t)NTRAIN * NPIX;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, NVAL, NCLS, NPIX, 1.0f, xv, NPIX, W, NPIX + 1, 0.0f, logits,
                NCLS);
    int wrong = 0;
    double ce = 0;
    for (int i = 0; i < NVAL; i++) {
        double z[NCLS], mx = -INFINITY, se = 0;
        for (int c = 0; c < NCLS; c++) {
            z[c] = (double)logits[i * NCLS + c] + W[c * (NPIX + 1) + NPIX];
            mx = fmax(mx, z[c]);
        }
        for (int c = 0; c < NCLS; c++)
            se += exp(z[c] - mx);
        ce += mx + log(se) - z[d->y[NTRAIN + i]];
        int arg = 0;
        for (int c = 1; c < NCLS; c++)
            if (logits[i * NCLS + c] + W[c * (NPIX + 1) + NPIX] > logits[i * NCLS + arg] + W[arg * (NPIX + 1) + NPIX])
                arg = c;
        wrong += arg != d->y[NTRAIN + i];
    }
    *nll = isfinite(ce) ? ce / NVAL : 1e3;
    return (double)wrong / NVAL;
}

/* SGD on the mean cross-entropy plus l2/2 |W|^2 (bias unpenalised).
 * err_at[e-1] and sec_at[e-1] get the validation error and the cumulative
 * CPU seconds after epoch e (only for the epochs listed in `record`). */
static int train(const digits *d, double lr, double l2, int batch, int epochs, const int *record, double *err_at,
                 double *nll_at, double *sec_at)
{
    size_t nw = NCLS * (NPIX + 1);
    float *W = calloc(nw, sizeof *W), *G = malloc(nw * sizeof *G), *xb = malloc((size_t)batch * NPIX * sizeof *xb);
    float *P = malloc((size_t)(batch > NVAL ? batch : NVAL) * NCLS * sizeof *P);
    size_t *perm = malloc(NTRAIN * sizeof *perm);
    if (!W || !G || !xb || !P || !perm) {
        free(W), free(G), free(xb), free(P), free(perm);
        return 1;
    }
    pk_rng rng;
    pk_rng_seed(&rng, 12345);
    double t0 = cpu_now(), excl = 0;
    for (int e = 1; e <= epochs; e++) {
        pk_rng_permutation(&rng, perm, NTRAIN);
        for (int s = 0; s < NTRAIN; s += batch) {
            int b = NTRAIN - s < batch ? NTRAIN - s : batch;
            for (int i = 0; i < b; i++)
                memcpy(xb + (size_t)i * NPIX, d->x + perm[s + i] * NPIX, NPIX * sizeof *xb);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, NCLS, NPIX, 1.0f, xb, NPIX, W, NPIX + 1, 0.0f, P,
                        NCLS);
            /* softmax; P becomes dLoss/dlogits (mean over the batch) */
            for (int i = 0; i < b; i++) {
                float *p = P + i * NCLS, mx = -INFINITY;
                for (int c = 0; c < NCLS; c++) {
                    p[c] += W[c * (NPIX + 1) + NPIX];
                    mx = p[c] > mx ? p[c] : mx;
                }
                double z = 0;
                for (int c = 0; c < NCLS; c++) {
                    p[c] = expf(p[c] - mx);
                    z += p[c];
                }
                for (int c = 0; c < NCLS; c++)
                    p[c] = (float)(p[c] / z) / (float)b;
                p[d->y[perm[s + i]]] -= 1.0f / (float)b;
            }
            /* G[:, :784] = P^T xb; bias gradient = column sums */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, NCLS, NPIX, b, 1.0f, P, NCLS, xb, NPIX, 0.0f, G,
                        NPIX + 1);
            for (int c = 0; c < NCLS; c++) {
                float gb = 0;
                for (int i = 0; i < b; i++)
                    gb += P[i * NCLS + c];
                G[c * (NPIX + 1) + NPIX] = gb;
            }
            float fl = (float)lr, decay = (float)(1.0 - lr * l2);
            if (!(decay > 0)) /* a step that flips the weights' sign diverges anyway */
                decay = 0;
            for (size_t k = 0; k < nw; k++) {
                float w = (k % (NPIX + 1) == NPIX) ? W[k] : decay * W[k];
                W[k] = w - fl * G[k];
            }
        }
        if (record[e - 1]) {
            /* each training pays for one validation pass: earlier checkpoints'
             * passes are not part of this one's cost */
            double t1 = cpu_now();
            err_at[e - 1] = val_error(d, W, P, &nll_at[e - 1]);
            if (!isfinite(W[0]) || !isfinite(W[nw - 1])) {
                err_at[e - 1] = 0.9;
                nll_at[e - 1] = 1e3;
            }
            double t2 = cpu_now();
            sec_at[e - 1] = t2 - t0 - excl;
            excl += t2 - t1;
        }
    }
    free(W), free(G), free(xb), free(P), free(perm);
    return 0;
}

/* The search space of the `bo` mode and of bench/bo_logreg.py. */
#define LR_LO 1e-3
#define LR_HI 10.0
#define L2_LO 1e-6
#define L2_HI 1.0
#define B_LO 10
#define B_HI 1000
#define E_LO 1
#define E_HI 20

static double objective(const digits *d, const double *u, double *sec)
{
    double lr = exp(log(LR_LO) + u[0] * log(LR_HI / LR_LO));
    double l2 = exp(log(L2_LO) + u[1] * log(L2_HI / L2_LO));
    int b = (int)floor(exp(log(B_LO) + u[2] * log((double)(B_HI + 1) / B_LO)));
    int e = E_LO + (int)floor(u[3] * (E_HI - E_LO + 1));
    b = b > B_HI ? B_HI : b;
    e = e > E_HI ? E_HI : e;
    int rec[E_HI] = {0};
    double err[E_HI], nll[E_HI], s[E_HI];
    rec[e - 1] = 1;
    if (train(d, lr, l2, b, e, rec, err, nll, s))
        return NAN;
    *sec = s[e - 1];
    return err[e - 1];
}

static int mode_grid(const digits *d, const char *out)
{
    const double lrs[] = {1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1, 3};
    const double l2s[] = {1e-6, 1e-4, 1e-3, 1e-2, 1e-1};
    const int bs[] = {10, 50, 200, 1000};
    int rec[16] = {0};
    rec[0] = rec[1] = rec[3] = rec[7] = rec[15] = 1;
    FILE *f = fopen(out, "w");
    if (!f) {
        fprintf(stderr, "bench_bo_logreg: cannot write %s\n", out);
        return 1;
    }
    fprintf(f, "lr,l2,batch,epochs,error,nll,cpu_seconds\n");
    for (size_t i = 0; i < 8; i++)
        for (size_t j = 0; j < 5; j++)
            for (size_t k = 0; k < 4; k++) {
                double err[16], nll[16], sec[16];
                if (train(d, lrs[i], l2s[j], bs[k], 16, rec, err, nll, sec)) {
                    fclose(f);
                    return 1;
                }
                for (int e = 1; e <= 16; e++)
                    if (rec[e - 1])
                        fprintf(f, "%g,%g,%d,%d,%.4f,%.5f,%.4f\n", lrs[i], l2s[j], bs[k], e, err[e - 1],
                                nll[e - 1], sec[e - 1]);
                fflush(f);
                fprintf(stderr, "lr %g l2 %g batch %d: error after 16 epochs %.4f (%.2f s)\n", lrs[i], l2s[j],
                        bs[k], err[15], sec[15]);
            }
    return fclose(f) ? 1 : 0;
}

static int mode_bo(const digits *d, int first, int seeds, int evals, const char *out)
{
    FILE *f = fopen(out, "w");
    if (!f)
        return 1;
    fprintf(f, "{\"method\": \"GP-EI-MCMC\", \"evals\": %d, \"traces\": [", evals);
    for (int s = first; s < first + seeds; s++) {
        pk_bo_params p = pk_bo_params_default();
        pk_bo *bo = pk_bo_new(4, &p, NULL);
        pk_rng rng;
        pk_rng_seed_stream(&rng, 42, (uint64_t)s);
        double u[4], best = INFINITY, sec;
        int64_t t;
        fprintf(f, "%s[", s > first ? ", " : "");
        for (int i = 0; i < evals; i++) {
            if (!bo || pk_bo_ask(bo, &rng, u, &t, NULL)) {
                pk_bo_free(bo);
                fclose(f);
                return 1;
            }
            double y = objective(d, u, &sec);
            if (isfinite(y))
                pk_bo_tell(bo, t, y, sec);
            else
                pk_bo_tell_failed(bo, t);
            best = fmin(best, y);
            fprintf(f, "%s%.4f", i ? ", " : "", best);
        }
        fprintf(f, "]");
        fflush(f);
        fprintf(stderr, "seed %d: best validation error %.4f after %d trainings\n", s, best, evals);
        pk_bo_free(bo);
    }
    fprintf(f, "]}\n");
    return fclose(f) ? 1 : 0;
}

int main(int argc, char **argv)
{
    digits d = {0};
    if (argc < 2 || load(&d)) {
        fprintf(stderr, "usage: bench_bo_logreg eval LR L2 BATCH EPOCHS | grid OUT.csv | bo SEEDS EVALS OUT.json [FIRST]\n");
        return 2;
    }
    int rc = 2;
    if (!strcmp(argv[1], "eval") && argc == 6) {
        int rec[E_HI] = {0}, e = atoi(argv[5]), b = atoi(argv[4]);
        double err[E_HI], nll[E_HI], sec[E_HI];
        if (e < 1 || e > E_HI || b < 1 || b > NTRAIN) {
            fprintf(stderr, "bench_bo_logreg: epochs must be 1..%d, batch 1..%d\n", E_HI, NTRAIN);
        } else {
            rec[e - 1] = 1;
            rc = train(&d, atof(argv[2]), atof(argv[3]), b, e, rec, err, nll, sec);
            if (!rc)
                printf("%.4f %.4f\n", err[e - 1], sec[e - 1]);
        }
    } else if (!strcmp(argv[1], "grid") && argc == 3) {
        rc = mode_grid(&d, argv[2]);
    } else if (!strcmp(argv[1], "bo") && (argc == 5 || argc == 6)) {
        rc = mode_bo(&d, argc == 6 ? atoi(argv[5]) : 0, atoi(argv[2]), atoi(argv[3]), argv[4]);
    } else {
        fprintf(stderr, "usage: bench_bo_logreg eval LR L2 BATCH EPOCHS | grid OUT.csv | bo SEEDS EVALS OUT.json [FIRST]\n");
    }
    free(d.x);
    free(d.y);
    return rc;
}
