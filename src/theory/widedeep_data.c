/* Two-class subsets of IDX image sets (MNIST, Fashion-MNIST) on the unit sphere. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/io.h"
#include "probkit/theory.h"

int pk_idx_two_class(const char *images, const char *labels, int c0, int c1, size_t n0, size_t n1, pk_rng *rng,
                     pk_mat **X, double **y, pk_err *err)
{
    if (!images || !labels || !rng || !X || !y || c0 == c1)
        return pk_err_set(err, PK_EINVAL, "two-class subset: bad arguments");
    *X = NULL;
    *y = NULL;
    pk_array *im = NULL, *lb = NULL;
    int st = pk_idx_read(images, &im, err);
    if (st)
        return st;
    if ((st = pk_idx_read(labels, &lb, err))) {
        pk_array_free(im);
        return st;
    }
    size_t N = (size_t)im->shape[0], D = pk_array_numel(im) / (N ? N : 1);
    size_t *idx = NULL, *pick = NULL;
    double *pix = NULL, *lab = NULL;
    if (im->ndim < 2 || lb->ndim != 1 || (size_t)lb->shape[0] != N) {
        st = pk_err_set(err, PK_EFORMAT, "%s / %s: %zu images but %lld labels", images, labels, N,
                        (long long)lb->shape[0]);
        goto done;
    }
    if ((st = pk_array_to_f64(im, &pix)) || (st = pk_array_to_f64(lb, &lab)))
        goto done;
    idx = malloc(N * sizeof *idx);
    pick = malloc((n0 + n1 + 1) * sizeof *pick);
    *X = pk_mat_new(n0 + n1, D);
    *y = malloc((n0 + n1 + 1) * sizeof **y);
    if (!idx || !pick || !*X || !*y) {
        st = PK_ENOMEM;
        goto done;
    }
    size_t got = 0;
    for (int pass = 0; pass < 2; pass++) {
        int c = pass ? c1 : c0;
        size_t want = pass ? n1 : n0, m = 0;
        for (size_t i = 0; i < N; i++)
            if ((int)lab[i] == c)
                idx[m++] = i;
        if (m < want) {
            st = pk_err_set(err, PK_EINVAL, "%s: class %d has %zu examples, %zu asked", labels, c, m, want);
            goto done;
        }
        /* partial Fisher-Yates: a uniform subset of `want` examples */
        for (size_t k = 0; k < want; k++) {
            size_t j = k + (size_t)pk_rng_below(rng, m - k);
            size_t t = idx[k];
            idx[k] = idx[j], idx[j] = t;
            pick[got] = idx[k];
            (*y)[got++] = pass ? -1.0 : 1.0;
        }
    }
    for (size_t r = 0; r < got; r++) {
        double *row = pk_mat_at(*X, r, 0), nr = 0;
        memcpy(row, pix + pick[r] * D, D * sizeof *row);
        for (size_t j = 0; j < D; j++)
            nr += row[j] * row[j];
        if (nr > 0)
            for (size_t j = 0; j < D; j++)
                row[j] /= sqrt(nr);
    }
    st = PK_OK;
done:
    if (st) {
        pk_mat_free(*X);
        free(*y);
        *X = NULL;
        *y = NULL;
    }
    pk_array_free(im);
    pk_array_free(lb);
    free(pix);
    free(lab);
    free(idx);
    free(pick);
    return st;
}

int pk_idx_load(const char *images, const char *labels, size_t nmax, pk_mat **X, int **lab, pk_err *err)
{
    if (!images || !labels || !X || !lab)
        return pk_err_set(err, PK_EINVAL, "IDX load: bad arguments");
    *X = NULL;
    *lab = NULL;
    pk_array *im = NULL, *lb = NULL;
    double *pix = NULL, *l = NULL;
    int st = pk_idx_read(images, &im, err);
    if (!st)
        st = pk_idx_read(labels, &lb, err);
    if (st)
        goto done;
    size_t N = (size_t)im->shape[0], D = pk_array_numel(im) / (N ? N : 1);
    if (im->ndim < 2 || lb->ndim != 1 || (size_t)lb->shape[0] != N) {
        st = pk_err_set(err, PK_EFORMAT, "%s / %s: image and label counts differ", images, labels);
        goto done;
    }
    if ((st = pk_array_to_f64(im, &pix)) || (st = pk_array_to_f64(lb, &l)))
        goto done;
    size_t n = nmax && nmax < N ? nmax : N;
    *X = pk_mat_new(n, D);
    *lab = malloc(n * sizeof **lab);
    if (!*X || !*lab) {
        st = PK_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n * D; i++)
        (*X)->data[i] = pix[i] / 255.0;
    for (size_t i = 0; i < n; i++)
        (*lab)[i] = (int)l[i];
done:
    if (st) {
        pk_mat_free(*X);
        free(*lab);
        *X = NULL;
        *lab = NULL;
    }
    pk_array_free(im);
    pk_array_free(lb);
    free(pix);
    free(l);
    return st;
}

int pk_pca_scores(const pk_mat *X, size_t d, size_t nfit, pk_mat **Z, double *eigvals)
{
    if (!X || !Z || d == 0 || d > X->cols || X->rows < 2)
        return PK_EINVAL;
    *Z = NULL;
    size_t n = X->rows, D = X->cols, nf = nfit && nfit < n ? nfit : n;
    double *mu = calloc(D, sizeof *mu), *w = malloc(D * sizeof *w);
    pk_mat *C = pk_mat_new(D, D), *Xc = pk_mat_new(nf, D), *Out = pk_mat_new(n, d);
    int st = PK_ENOMEM;
    if (!mu || !w || !C || !Xc || !Out)
        goto done;
    for (size_t i = 0; i < nf; i++)
        for (size_t j = 0; j < D; j++)
            mu[j] += *pk_mat_at(X, i, j) / (double)nf;
    for (size_t i = 0; i < nf; i++)
        for (size_t j = 0; j < D; j++)
            *pk_mat_at(Xc, i, j) = *pk_mat_at(X, i, j) - mu[j];
    if ((st = pk_syrk(1, 1.0 / (double)(nf - 1), Xc, 0.0, C)) || (st = pk_syev(C, w)))
        goto done;
    /* scores on the top-d components (eigenvalues ascending), scaled to unit variance */
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < d; c++) {
            size_t col = D - 1 - c;
            double s = 0;
            for (size_t j = 0; j < D; j++)
                s += (*pk_mat_at(X, i, j) - mu[j]) * *pk_mat_at(C, j, col);
            *pk_mat_at(Out, i, c) = w[col] > 0 ? s / sqrt(w[col]) : 0.0;
        }
    if (eigvals)
        for (size_t c = 0; c < d; c++)
            eigvals[c] = w[D - 1 - c];
    *Z = Out;
    Out = NULL;
    st = PK_OK;
done:
    free(mu);
    free(w);
    pk_mat_free(C);
    pk_mat_free(Xc);
    pk_mat_free(Out);
    return st;
}
