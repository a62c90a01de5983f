/* Exact class separation: the smallest distance between two differently
 * labelled rows, over all n (n - 1) / 2 pairs, fast enough for the 60,000
 * MNIST training images (the authors' delta 2.3987 is exactly this quantity:
 * (2.3987 * 255)^2 = 374141, an integer pixel distance).
 *
 * Every pair gets a cheap lower bound on its squared distance from an
 * orthonormal projection P onto p principal directions:
 *   |x_a - x_b|^2 = |P(x_a - x_b)|^2 + |r_a - r_b|^2 >= |z_a - z_b|^2 + (|r_a| - |r_b|)^2,
 * z = P(x - mu), r the residual off the subspace.  The p-dimensional part is a
 * float GEMM in tiles; a pair is re-checked exactly in double only when its
 * bound, widened by a rounding slack well above the float error, is below the
 * best distance found so far.  The answer is therefore the exact minimum; the
 * projection only decides how many pairs need the full-dimensional check. */
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/linalg.h"
#include "probkit/theory.h"

#define TILE_R 512
#define TILE_C 4096
#define BASIS_ROWS 6000

typedef struct best {
    double d2;
    size_t i, j;
} best;

/* lexicographic (d2, i, j) so the result does not depend on thread timing */
static int better(double d2, size_t i, size_t j, const best *b)
{
    if (d2 != b->d2)
        return d2 < b->d2;
    return i < b->i || (i == b->i && j < b->j);
}

static double sqdist_rows(const pk_mat *X, size_t a, size_t b)
{
    const double *x = pk_mat_at(X, a, 0), *y = pk_mat_at(X, b, 0);
    double s = 0;
    for (size_t c = 0; c < X->cols; c++)
        s += (x[c] - y[c]) * (x[c] - y[c]);
    return s;
}

/* projection basis: the top p eigenvectors of the covariance of evenly spaced
 * rows (any orthonormal basis keeps the bound valid; PCA makes it tight) */
static int basis(const pk_mat *X, const double *mu, size_t p, pk_mat **V)
{
    size_t n = X->rows, d = X->cols, nf = n < BASIS_ROWS ? n : BASIS_ROWS;
    pk_mat *Xc = pk_mat_new(nf, d), *C = pk_mat_new(d, d), *out = pk_mat_new(d, p);
    double *w = malloc(d * sizeof *w);
    int st = PK_ENOMEM;
    if (!Xc || !C || !out || !w)
        goto done;
    for (size_t t = 0; t < nf; t++) {
        size_t i = t * n / nf;
        for (size_t c = 0; c < d; c++)
            *pk_mat_at(Xc, t, c) = *pk_mat_at(X, i, c) - mu[c];
    }
    if ((st = pk_syrk(1, 1.0, Xc, 0.0, C)) || (st = pk_syev(C, w)))
        goto done;
    for (size_t c = 0; c < d; c++)
        for (size_t k = 0; k < p; k++)
            *pk_mat_at(out, c, k) = *pk_mat_at(C, c, d - 1 - k);
    *V = out;
    out = NULL;
done:
    pk_mat_free(Xc), pk_mat_free(C), pk_mat_free(out);
    free(w);
    return st;
}

/* float scores Zf (n x p), their squared norms zz (of the float values) and
 * the residual norms r (0 when the projection is the identity) */
static int project(const pk_mat *X, size_t p, float *Zf, double *zz, double *r)
{
    size_t n = X->rows, d = X->cols;
    double *mu = calloc(d, sizeof *mu);
    pk_mat *V = NULL;
    int st = PK_ENOMEM;
    if (!mu)
        return st;
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < d; c++)
            mu[c] += *pk_mat_at(X, i, c);
    for (size_t c = 0; c < d; c++)
        mu[c] /= (double)n;
    if (p < d && (st = basis(X, mu, p, &V)))
        goto done;
    st = PK_ENOMEM;
    double *xc = malloc(d * sizeof *xc), *z = malloc(p * sizeof *z);
    if (!xc || !z) {
        free(xc), free(z);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        double tot = 0, proj = 0;
        for (size_t c = 0; c < d; c++) {
            xc[c] = *pk_mat_at(X, i, c) - mu[c];
            tot += xc[c] * xc[c];
        }
        if (V) {
            memset(z, 0, p * sizeof *z);
            for (size_t c = 0; c < d; c++) {
                const double *v = pk_mat_at(V, c, 0);
                for (size_t k = 0; k < p; k++)
                    z[k] += xc[c] * v[k];
            }
        } else
            memcpy(z, xc, d * sizeof *z);
        double zf2 = 0;
        for (size_t k = 0; k < p; k++) {
            Zf[i * p + k] = (float)z[k];
            zf2 += (double)Zf[i * p + k] * (double)Zf[i * p + k];
            proj += z[k] * z[k];
        }
        zz[i] = zf2;
        r[i] = V ? sqrt(fmax(0.0, tot - proj)) : 0.0;
    }
    free(xc), free(z);
    st = PK_OK;
done:
    free(mu);
    pk_mat_free(V);
    return st;
}

typedef struct lab_idx {
    int lab;
    size_t idx;
} lab_idx;

static int cmp_lab(const void *a, const void *b)
{
    const lab_idx *x = a, *y = b;
    if (x->lab != y->lab)
        return (x->lab > y->lab) - (x->lab < y->lab);
    return (x->idx > y->idx) - (x->idx < y->idx);
}

int pk_class_separation_exact(const pk_mat *X, const int *labels, size_t proj_dim, double min_dist, double *delta,
                              size_t *pair, size_t *checked)
{
    if (!X || !labels || !delta || X->rows < 2 || X->cols < 1 || !(min_dist >= 0))
        return PK_EINVAL;
    size_t n = X->rows, d = X->cols, p = proj_dim == 0 || proj_dim > d ? d : proj_dim;
    float *Zf = malloc(n * p * sizeof *Zf), *Zp = malloc(n * p * sizeof *Zp);
    double *zz = malloc(n * sizeof *zz), *r = malloc(n * sizeof *r), *zs = malloc(n * sizeof *zs),
           *rp = malloc(n * sizeof *rp);
    size_t *orig = malloc(n * sizeof *orig), *cstart = malloc(n * sizeof *cstart);
    lab_idx *li = malloc(n * sizeof *li);
    float *G = malloc((size_t)TILE_R * TILE_C * sizeof *G);
    int st = PK_ENOMEM;
    if (!Zf || !Zp || !zz || !r || !zs || !rp || !orig || !cstart || !li || !G)
        goto done;
    if ((st = project(X, p, Zf, zz, r)))
        goto done;
    /* rows sorted by label: the differently labelled partners j < i of row i
     * are then exactly j < cstart[i], the start of its class, so same-class
     * blocks are never multiplied and the scan has no label test */
    for (size_t i = 0; i < n; i++)
        li[i] = (lab_idx){labels[i], i};
    qsort(li, n, sizeof *li, cmp_lab);
    /* float GEMM rounding: |error of zz_a + zz_b - 2 <z_a, z_b>| stays below
     * (p + 2) 2^-24 (zz_a + zz_b); rounding the scores to float moves the
     * projected distance by less than 4 * 2^-24 (zz_a + zz_b).  The slack is
     * a few times both and is folded into zs = zz (1 - slack). */
    const double slack = (double)(p + 16) * ldexp(1.0, -23), m2 = min_dist * min_dist;
    for (size_t i = 0; i < n; i++) {
        orig[i] = li[i].idx;
        cstart[i] = i > 0 && li[i].lab == li[i - 1].lab ? cstart[i - 1] : i;
        memcpy(Zp + i * p, Zf + orig[i] * p, p * sizeof *Zp);
        zs[i] = zz[orig[i]] * (1 - slack);
        rp[i] = r[orig[i]];
    }
    best glob = {INFINITY, 0, 0};
    size_t nchk = 0;
    for (size_t i0 = 0; i0 < n; i0 += TILE_R) {
        size_t ni = n - i0 < TILE_R ? n - i0 : TILE_R, jmax = cstart[i0 + ni - 1];
        for (size_t j0 = 0; j0 < jmax; j0 += TILE_C) {
            size_t nj = jmax - j0 < TILE_C ? jmax - j0 : TILE_C;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ni, (int)nj, (int)p, 1.0f, Zp + i0 * p, (int)p,
                        Zp + j0 * p, (int)p, 0.0f, G, (int)nj);
            double U2 = glob.d2;
            size_t tile_chk = 0;
#pragma omp parallel for schedule(dynamic, 16) reduction(+ : tile_chk)
            for (size_t a = 0; a < ni; a++) {
                size_t i = i0 + a, jend = j0 + nj < cstart[i] ? j0 + nj : cstart[i];
                /* a virtual incumbent at the tile's bound: any pair at that
                 * distance ties with it and is kept, the merge then orders it */
                best loc = {U2, SIZE_MAX, SIZE_MAX};
                int found = 0;
                const float *g = G + a * nj - j0;
                double zi = zs[i], ri = rp[i];
                for (size_t j = j0; j < jend; j++) {
                    double dr = ri - rp[j], lb = zi + zs[j] - 2.0 * (double)g[j] + dr * dr;
                    if (lb > loc.d2)
                        continue;
                    tile_chk++;
                    size_t oa = orig[i] > orig[j] ? orig[i] : orig[j], ob = orig[i] > orig[j] ? orig[j] : orig[i];
                    double d2 = sqdist_rows(X, oa, ob);
                    if (d2 >= m2 && better(d2, oa, ob, &loc))
                        loc = (best){d2, oa, ob}, found = 1;
                }
                if (found) {
#pragma omp critical(pk_theory_sep_exact)
                    if (better(loc.d2, loc.i, loc.j, &glob))
                        glob = loc;
                }
            }
            nchk += tile_chk;
        }
    }
    if (!isfinite(glob.d2)) {
        st = PK_EDOM;
        goto done;
    }
    *delta = sqrt(glob.d2);
    if (pair)
        pair[0] = glob.j, pair[1] = glob.i;
    if (checked)
        *checked = nchk;
    st = PK_OK;
done:
    free(Zf), free(Zp), free(zz), free(r), free(zs), free(rp), free(orig), free(cstart), free(li), free(G);
    return st;
}
