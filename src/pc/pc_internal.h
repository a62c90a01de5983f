/* pc_internal.h — shared between the pc sources. */
#ifndef PK_PC_INTERNAL_H
#define PK_PC_INTERNAL_H
#include "probkit/pc.h"

/* OpenMP pragmas that vanish (without unknown-pragma warnings) in builds without OpenMP. */
#ifdef _OPENMP
#define PC_OMP(x) _Pragma(#x)
#else
#define PC_OMP(x)
/* The compact (quantised, zlib) circuit file, version 2 (pc_quant.c). */
int pc_serialize_compact(const pk_pc *pc, uint8_t **buf, size_t *len, pk_err *err);
int pc_parse_compact(const uint8_t *buf, size_t len, const char *name, pk_pc **out, pk_err *err);

#endif

static inline int pc_is_leaf(const pk_pc *pc, int v)
{
    return pc->child_start[v + 1] == pc->child_start[v];
}

int pc_alloc(int nvars, int k, int ncat, pk_pc **out, pk_err *err);
int pc_build_topology(pk_pc *pc, pk_err *err);

/* Double-precision copy of the parameters for per-example inference and the
 * codec (renormalised in double so that an unobserved subtree sums to 1). */
typedef struct pc_dmodel {
    int D, k, nc;
    double *theta;    /* [D][k][nc] */
    double *logtheta; /* [D][k][nc] */
    double *W;        /* [D][k][k] */
    double *logW;     /* [D][k][k] */
    double *rootw, *logrootw; /* [k] */
    double *maxlogtheta;      /* [D][k]: max_a logtheta (max-product with a missing value) */
    float *thetaf;            /* [D][k][nc]: theta rounded to float, for the coder's mixtures
                                 (half the memory traffic of the double copy) */
} pc_dmodel;

int pc_dmodel_init(pc_dmodel *m, const pk_pc *pc);
/* Only what the incremental coder needs (thetaf, W, rootw; theta and the
 * log tables stay NULL): a fraction of the work and memory of pc_dmodel_init. */
int pc_dmodel_init_coder(pc_dmodel *m, const pk_pc *pc);
/* Add theta and the log tables to a model made by pc_dmodel_init_coder
 * from the same pc (no-op if there). */
int pc_dmodel_add_logs(pc_dmodel *m, const pk_pc *pc);
void pc_dmodel_free(pc_dmodel *m);
/* Upward pass for one row: U[v][i] (value of v's sum node i, or of its input
 * node i for a tree leaf) and P[v][j] (products, inner nodes), log domain;
 * maxmode = 1 replaces sums by maxima.  Returns log p(x_obs) (or the max). */
double pc_upward(const pk_pc *pc, const pc_dmodel *m, const uint8_t *x, const uint8_t *mask, int maxmode, double *U,
                 double *P);
/* Unnormalised log-weights coef[k] such that p(X_v = a, x_obs) is
 * sum_j exp(coef[j]) theta_v[j][a]; needs U from pc_upward. */
void pc_outside_coef(const pk_pc *pc, const pc_dmodel *m, const uint8_t *x, const uint8_t *mask, const double *U,
                     int v, double *coef, double *scratch);
/* q[a] = sum_j exp(coef[j] - max) theta_v[j][a], normalised; returns 0 or -1 if degenerate. */
int pc_mix_theta(const pc_dmodel *m, int v, const double *coef, double *q);
/* out[i] = log sum_j exp(in[j]) * A[i][j] (A row-major n x n, linear), shifted. */
void pc_log_matvec(const double *A, const double *in, int n, double *out);
/* out[j] = log sum_i exp(in[i]) * A[i][j]. */
void pc_log_vecmat(const double *A, const double *in, int n, double *out);

/* Normalised Gaussian taps g[0..2r] for offsets -r..r, r = min(round(4 sigma),
 * rmax) (scipy.ndimage's truncation); sigma = 0 gives one tap of 1.  Returns r. */
int pc_gauss_taps(double sigma, int rmax, double *g);
/* out[b] = sum_i g[i + r] in[clamp(b + i)] for b in [lo, hi), clamping to
 * [lo, hi - 1] (edge values repeated). */
void pc_blur1d(const double *in, double *out, int lo, int hi, const double *g, int r);

/* Platform-independent exp and log (see pc_infer.c). */
double pc_exp(double x);
double pc_log(double x);

/* A coder that uses a caller-owned parameter copy (shared by threads); NULL: its own. */
int pc_coder_new_shared(const pk_pc *pc, const pc_dmodel *shared, pk_pc_coder **out);

/* The compact (quantised, zlib) circuit file, version 2 (pc_quant.c). */
int pc_serialize_compact(const pk_pc *pc, uint8_t **buf, size_t *len, pk_err *err);
int pc_parse_compact(const uint8_t *buf, size_t len, const char *name, pk_pc **out, pk_err *err);

#endif
