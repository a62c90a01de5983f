/* Clustering metrics: Hungarian-matched error, ARI, NMI. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/cluster.h"

/* Kuhn-Munkres with potentials (O(m^3)), 1-based internal arrays. */
int pk_hungarian(const double *cost, size_t m, size_t *perm)
{
    if (!cost || !perm || m == 0)
        return PK_EINVAL;
    double *u = calloc(m + 1, sizeof(double)), *v = calloc(m + 1, sizeof(double));
    double *minv = malloc((m + 1) * sizeof(double));
    size_t *p = calloc(m + 1, sizeof(size_t)), *way = calloc(m + 1, sizeof(size_t));
    char *used = malloc(m + 1);
    int st = PK_OK;
    if (!u || !v || !minv || !p || !way || !used) {
        st = PK_ENOMEM;
        goto done;
    }
    for (size_t i = 1; i <= m; i++) {
        p[0] = i;
        size_t j0 = 0;
        for (size_t j = 0; j <= m; j++) {
            minv[j] = INFINITY;
            used[j] = 0;
        }
        do {
            used[j0] = 1;
            size_t i0 = p[j0], j1 = 0;
            double delta = INFINITY;
            for (size_t j = 1; j <= m; j++) {
                if (used[j])
                    continue;
                double cur = cost[(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
                if (cur < minv[j]) {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if (minv[j] < delta) {
                    delta = minv[j];
                    j1 = j;
                }
            }
            if (j1 == 0) { /* only with non-finite costs */
                st = PK_EDOM;
                goto done;
            }
            for (size_t j = 0; j <= m; j++) {
                if (used[j]) {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
        } while (p[j0] != 0);
        do {
            size_t j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0);
    }
    for (size_t j = 1; j <= m; j++)
        perm[p[j] - 1] = j - 1;
done:
    free(u);
    free(v);
    free(minv);
    free(p);
    free(way);
    free(used);
    return st;
}

/* Contingency table of two labelings; ka, kb = number of classes (max label + 1). */
static int contingency(const int32_t *a, const int32_t *b, size_t n, size_t *ka, size_t *kb, double **tab)
{
    int32_t ma = -1, mb = -1;
    for (size_t i = 0; i < n; i++) {
        if (a[i] < 0 || b[i] < 0)
            return PK_EINVAL;
        if (a[i] > ma)
            ma = a[i];
        if (b[i] > mb)
            mb = b[i];
    }
    *ka = (size_t)ma + 1;
    *kb = (size_t)mb + 1;
    *tab = calloc(*ka * *kb, sizeof(double));
    if (!*tab)
        return PK_ENOMEM;
    for (size_t i = 0; i < n; i++)
        (*tab)[(size_t)a[i] * *kb + (size_t)b[i]] += 1;
    return PK_OK;
}

int pk_cluster_error(const int32_t *truth, const int32_t *pred, size_t n, double *err_rate)
{
    if (!truth || !pred || !err_rate || n == 0)
        return PK_EINVAL;
    size_t ka, kb;
    double *tab;
    int st = contingency(truth, pred, n, &ka, &kb, &tab);
    if (st)
        return st;
    size_t m = ka > kb ? ka : kb;
    double *cost = calloc(m * m, sizeof(double));
    size_t *perm = malloc(m * sizeof(size_t));
    if (!cost || !perm) {
        free(tab);
        free(cost);
        free(perm);
        return PK_ENOMEM;
    }
    /* rows = predicted, columns = true; maximise matches = minimise -count */
    for (size_t i = 0; i < kb; i++)
        for (size_t j = 0; j < ka; j++)
            cost[i * m + j] = -tab[j * kb + i];
    st = pk_hungarian(cost, m, perm);
    if (!st) {
        double match = 0;
        for (size_t i = 0; i < m; i++)
            match -= cost[i * m + perm[i]];
        *err_rate = 1.0 - match / (double)n;
    }
    free(tab);
    free(cost);
    free(perm);
    return st;
}

static double comb2(double x) { return 0.5 * x * (x - 1); }

int pk_cluster_ari(const int32_t *a, const int32_t *b, size_t n, double *ari)
{
    if (!a || !b || !ari || n == 0)
        return PK_EINVAL;
    size_t ka, kb;
    double *tab;
    int st = contingency(a, b, n, &ka, &kb, &tab);
    if (st)
        return st;
    double sij = 0, sa = 0, sb = 0;
    for (size_t i = 0; i < ka; i++) {
        double r = 0;
        for (size_t j = 0; j < kb; j++) {
            sij += comb2(tab[i * kb + j]);
            r += tab[i * kb + j];
        }
        sa += comb2(r);
    }
    for (size_t j = 0; j < kb; j++) {
        double c = 0;
        for (size_t i = 0; i < ka; i++)
            c += tab[i * kb + j];
        sb += comb2(c);
    }
    double expected = sa * sb / comb2((double)n), maxidx = 0.5 * (sa + sb);
    /* both labelings trivial (one cluster, or all singletons): scikit-learn returns 1 */
    *ari = (maxidx == expected) ? 1.0 : (sij - expected) / (maxidx - expected);
    free(tab);
    return PK_OK;
}

int pk_cluster_nmi(const int32_t *a, const int32_t *b, size_t n, double *nmi)
{
    if (!a || !b || !nmi || n == 0)
        return PK_EINVAL;
    size_t ka, kb;
    double *tab;
    int st = contingency(a, b, n, &ka, &kb, &tab);
    if (st)
        return st;
    double *ra = calloc(ka, sizeof(double)), *cb = calloc(kb, sizeof(double));
    if (!ra || !cb) {
        free(tab);
        free(ra);
        free(cb);
        return PK_ENOMEM;
    }
    double N = (double)n, mi = 0, ha = 0, hb = 0;
    for (size_t i = 0; i < ka; i++)
        for (size_t j = 0; j < kb; j++) {
            ra[i] += tab[i * kb + j];
            cb[j] += tab[i * kb + j];
        }
    for (size_t i = 0; i < ka; i++)
        for (size_t j = 0; j < kb; j++) {
            double c = tab[i * kb + j];
            if (c > 0)
                mi += c / N * log(c * N / (ra[i] * cb[j]));
        }
    size_t nza = 0, nzb = 0;
    for (size_t i = 0; i < ka; i++)
        if (ra[i] > 0) {
            ha -= ra[i] / N * log(ra[i] / N);
            nza++;
        }
    for (size_t j = 0; j < kb; j++)
        if (cb[j] > 0) {
            hb -= cb[j] / N * log(cb[j] / N);
            nzb++;
        }
    if (nza == 1 && nzb == 1)
        *nmi = 1.0; /* both constant: identical partitions */
    else if (ha + hb <= 0)
        *nmi = 0.0;
    else {
        if (mi < 0)
            mi = 0;
        *nmi = mi / (0.5 * (ha + hb));
    }
    free(tab);
    free(ra);
    free(cb);
    return PK_OK;
}
