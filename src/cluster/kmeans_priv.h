/* kmeans_priv.h — what the K-means files share (not public).
 *
 * Nearest-centre search runs in single precision with a certified fallback: the float
 * distances of a row carry an error of at most E = (d + 7) 2^-24 (|x|^2 + max_j |c_j|^2)
 * (rounding of x and c to float, d fused multiply-adds, the norm sum and the subtraction), so
 * when the float gap between the nearest and second-nearest centre exceeds 4E the float
 * winner is the double-precision winner; otherwise the row is rescanned in double.  Labels
 * therefore equal an all-double search (up to exact double ties), at twice the SIMD width. */
#ifndef PK_KMEANS_PRIV_H
#define PK_KMEANS_PRIV_H
#include <stdint.h>

#include "cluster_priv.h"

/* Centre sums are built in fixed chunks of rows: each chunk's partial sums (k*d sums, then k
 * counts) are added in chunk order, so the result depends neither on the thread count nor on
 * the schedule, and the assignment pass fills them while the rows are in cache. */
#define KM_CHUNK 2048
static inline size_t km_nchunks(size_t n) { return (n + KM_CHUNK - 1) / KM_CHUNK; }

static inline void km_chunk_add(double *a, const double *x, size_t d, size_t k, int32_t j, double sign)
{
    double *c = a + (size_t)j * d;
    for (size_t t = 0; t < d; t++)
        c[t] += sign * x[t];
    a[k * d + (size_t)j] += sign;
}

/* kmeans_kernel.c: nearest (f1, lab) and second-nearest (f2) float distances of the 4 rows xr
 * to the centres in Ct (d x kp floats, kp a multiple of 8) with squared norms cn (kp floats,
 * padding +inf).  First index on ties (then f2 == f1). */
typedef void (*km_near4_fn)(const float *const *xr, const float *xn, const float *Ct, const float *cn, size_t kp,
                            size_t d, int32_t *lab, float *f1, float *f2);
km_near4_fn pk_km_pick_near4(void);

/* Per-fit workspace (kmeans_assign.c): allocated once, reused by every iteration/restart. */
typedef struct km_ws {
    const pk_mat *X;
    size_t n, d, k, kp;
    float *Xf;       /* n x d rows in float; NULL: the double path is used throughout */
    double *xn;      /* n squared row norms */
    float *Ct;       /* d x kp transposed centres, then kp norms */
    const double *C; /* the centres the float copy was made from (k x d) */
    float *Cf;       /* the same centres row-major in float (k x d) */
    double *cnorm;   /* their norms (k, not squared) */
    double cnmax;    /* largest centre squared norm */
    double margin;   /* (d + 8) 2^-22: rescue threshold per unit of |x|^2 + cnmax (4E) */
    double *part;    /* km_nchunks(n) chunk partial sums (k*d + k each) */
    km_near4_fn near4;
    int64_t rescued; /* rows rescanned in double (diagnostic) */
    /* bfloat16 screening of full passes (kmeans_lowp.c); Xb NULL when off */
    uint16_t *Xb;      /* centred rows in blocks of 16, as bfloat16 pairs (high parts) */
    uint16_t *Xl;      /* low parts, row-major: even then odd columns, each dp16 long */
    size_t bstride;    /* bfloat16 values from one block to the next */
    size_t Xb_bytes, Xl_bytes; /* allocation sizes */
    double *mu;        /* column means (the centring) */
    double *Cc, *cnc;  /* the pass's centred centres (k x d) and their squared norms, in double */
    float *Cef;        /* the centred centres in float, even then odd columns (each dp16 long) */
    size_t dp16;       /* ceil(d/2) rounded up to a multiple of 16 */
    double *xnc;       /* n squared norms of the centred rows, then their n norms */
    uint32_t *Cb;      /* kp4 x ceil(d/2) centred centres as bfloat16 pairs */
    float *cnb;        /* their squared norms (padding +inf) */
    size_t kp4;        /* k rounded up to a multiple of 4 */
    double cncmax;     /* largest centred centre squared norm */
    double lowp_margin, lowp_abs; /* constants of the threshold T (kmeans_lowp.c) */
    double lowp_a, lowp_b;        /* this pass's screening threshold T = lowp_a |x| + lowp_b */
    double lowp_a2, lowp_b2;      /* and refinement threshold */
    int64_t screen_open; /* rows the screening left open (diagnostic) */
    int64_t refine_fail; /* of those, rows the refinement left to the float search */
} km_ws;

/** Workspace for X and k centres, with (with_float 1) or without (0) the float copy of X;
 *  PK_ENOMEM.  (Without it, or if the copy could not be allocated, searches run in double.)
 *  with_float < 0: not even the row norms yet (km_ws_enable_lowp or km_ws_add_float makes them). */
int km_ws_init(km_ws *ws, const pk_mat *X, size_t k, int with_float);
/** Make the float copy if there is none. */
void km_ws_add_float(km_ws *ws);
/** 1 if this CPU can run the bfloat16 screening (kmeans_lowp.c). */
int km_lowp_available(void);
void km_ws_free(km_ws *ws);
/** Turn on the bfloat16 screening of full passes when the CPU has AVX-512 BF16 and the data
 *  suit it (n*d*4 bytes: high and low bfloat16 parts); returns 1 if on, and then the row norms
 *  xn are made too.  Labels do not change either way. */
int km_ws_enable_lowp(km_ws *ws);
void km_ws_free_lowp(km_ws *ws);
/** km_assign_all through the screening; *used = 0 (and nothing done) when it is off or the
 *  centres are out of its range. */
size_t km_assign_lowp(km_ws *ws, const double *C, int32_t *labels, double *dist2, int exact, int with_sums,
                      int *used);
/** Load the centres C (k x d, borrowed until the next call) for the searches. */
void km_ws_set_centres(km_ws *ws, const double *C);
/** Nearest centre of rows rows[0..m) (global row indices): label, an upper bound hi >= the
 *  nearest squared distance (exact after a rescue) and a lower bound lo2 <= the second-nearest
 *  one.  hi or lo2 may be NULL.  Thread-safe; returns the number of rows rescanned in double. */
size_t km_near_rows(const km_ws *ws, const size_t *rows, size_t m, int32_t *lab, double *hi, double *lo2);

/** Upper bound on the distance (not squared) of row i to centre j, from the float rows when
 *  there are any: sqrt(D_f (1 + (d + 3) 2^-23)) + 2^-23 (|x| + |c|) covers the rounding of x
 *  and c to float and the d float operations. */
double km_dist_upper(const km_ws *ws, size_t i, size_t j);
/** Assign all rows; returns the number of changed labels.  dist2 receives the exact squared
 *  distances when exact != 0, else upper bounds within 4E.  with_sums: ws->part receives each
 *  chunk's change of the label sums (rows that moved: minus at the old label, plus at the new;
 *  label -1 counts as no label), so running sums stay current while unmoved rows are not reread. */
size_t km_assign_all(km_ws *ws, const double *C, int32_t *labels, double *dist2, int exact, int with_sums,
                     int64_t *n_dist);
/** Apply the labels lab of rows i0..i0+m-1: count and store the changes, fill dist2 (if not
 *  NULL) with exact squared distances, and (a not NULL) set a to the chunk's change of the label
 *  sums (moved rows only: minus at the old label, plus at the new; -1 is no label). */
size_t km_chunk_apply(const km_ws *ws, const double *C, size_t i0, size_t m, const int32_t *lab, int32_t *labels,
                      double *dist2, double *a);
/** New centres as label means from the chunk sums (nparts of them, or NULL: serial from labels).
 *  An empty cluster takes the point farthest from its centre (distances recomputed exactly). */
int km_update_centers(const pk_mat *X, const int32_t *labels, size_t k, double *dist2, double *C, double *counts,
                      const double *Cold, const pk_allreduce *red, const double *part, size_t nparts);
/** Total squared centre shift; per (may be NULL) receives each centre's shift (not squared). */
double km_center_shift(const double *a, const double *b, size_t k, size_t d, double *per);

/* The iteration schemes (kmeans_lloyd.c, kmeans_hamerly.c).  work: k*d + 3k doubles. */
int km_run_lloyd(km_ws *ws, const pk_kmeans_params *p, double tol_abs, double *C, int32_t *labels, double *dist2,
                 double *work, int *n_iter, int *converged, int64_t *n_dist);
int km_run_hamerly(km_ws *ws, const pk_kmeans_params *p, double tol_abs, double *C, int32_t *labels, double *dist2,
                   double *work, int *n_iter, int *converged, int64_t *n_dist);
int km_run_minibatch(km_ws *ws, const pk_kmeans_params *p, double tol_abs, pk_rng *rng, double *C, int32_t *labels,
                     double *dist2, double *work, int *n_iter, int *converged, int64_t *n_dist);

#endif
