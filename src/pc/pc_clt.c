/* pc_clt.c — Chow-Liu tree structure learning and the HCLT built on it.
 *
 * Chow & Liu (1968): the maximum-likelihood tree-shaped distribution is the
 * maximum spanning tree of pairwise mutual information.  As in the paper's
 * code, pixels are quantised (4 bits by default) before counting, a
 * pseudocount smooths each joint table, and the tree is rooted at its centre
 * (the middle of a longest path), which keeps it as shallow as a tree with
 * that shape can be. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "pc_internal.h"

pk_pc_structure_params pk_pc_structure_params_default(void)
{
    pk_pc_structure_params p = {16, 4, 0.1, 20000, 0.4};
    return p;
}

int pk_pc_structure_params_check(const pk_pc_structure_params *p, pk_err *err)
{
    if (p->k < 1 || p->k > 1024)
        return pk_err_set(err, PK_EINVAL, "k = %d: must be in 1..1024", p->k);
    if (p->mi_bits < 1 || p->mi_bits > 8)
        return pk_err_set(err, PK_EINVAL, "mi_bits = %d: must be in 1..8", p->mi_bits);
    if (!(p->mi_pseudocount >= 0) || !isfinite(p->mi_pseudocount))
        return pk_err_set(err, PK_EINVAL, "mi_pseudocount must be finite and >= 0");
    if (!(p->init_perturbation >= 0 && p->init_perturbation < 1))
        return pk_err_set(err, PK_EINVAL, "init_perturbation must be in [0, 1)");
    return PK_OK;
}

/* Pairwise mutual information mi[i*D + j] (i < j filled, symmetric copy). */
static int mutual_information(const uint8_t *q, size_t n, int D, int nq, double alpha, double *mi)
{
    size_t nq2 = (size_t)nq * (size_t)nq;
    double *marg = calloc((size_t)D * (size_t)nq, sizeof(double));
    if (!marg)
        return PK_ENOMEM;
    for (size_t s = 0; s < n; s++)
        for (int j = 0; j < D; j++)
            marg[(size_t)j * nq + q[s * D + j]] += 1;
    int failed = 0;
PC_OMP(omp parallel)
    {
        uint32_t *cnt = malloc(sizeof(uint32_t) * (size_t)D * nq2);
        if (!cnt) {
PC_OMP(omp atomic write)
            failed = 1;
        }
PC_OMP(omp for schedule(dynamic, 4))
        for (int i = 0; i < D - 1; i++) {
            if (!cnt)
                continue;
            size_t off = (size_t)(i + 1) * nq2;
            memset(cnt + off, 0, sizeof(uint32_t) * (size_t)(D - i - 1) * nq2);
            for (size_t s = 0; s < n; s++) {
                const uint8_t *row = q + s * D;
                uint32_t *base = cnt + (size_t)row[i] * nq;
                for (int j = i + 1; j < D; j++)
                    base[(size_t)j * nq2 + row[j]]++;
            }
            /* Smoothed joint: (c + alpha) / (n + alpha nq^2); marginals follow from it. */
            double tot = (double)n + alpha * (double)nq2;
            for (int j = i + 1; j < D; j++) {
                const uint32_t *c = cnt + (size_t)j * nq2;
                double m = 0;
                for (int a = 0; a < nq; a++) {
                    double pa = (marg[(size_t)i * nq + a] + alpha * nq) / tot;
                    for (int b = 0; b < nq; b++) {
                        double pab = ((double)c[a * nq + b] + alpha) / tot;
                        double pb = (marg[(size_t)j * nq + b] + alpha * nq) / tot;
                        m += pab * log(pab / (pa * pb));
                    }
                }
                mi[(size_t)i * D + j] = mi[(size_t)j * D + i] = m;
            }
        }
        free(cnt);
    }
    free(marg);
    return failed ? PK_ENOMEM : PK_OK;
}

/* Maximum spanning tree (Prim, dense) as an undirected adjacency via parent. */
static int max_spanning_tree(const double *w, int D, int32_t *par)
{
    double *best = malloc(sizeof(double) * (size_t)D);
    char *in = calloc((size_t)D, 1);
    if (!best || !in) {
        free(best), free(in);
        return PK_ENOMEM;
    }
    for (int v = 0; v < D; v++) {
        best[v] = -INFINITY;
        par[v] = -1;
    }
    best[0] = 0;
    for (int it = 0; it < D; it++) {
        int u = -1;
        for (int v = 0; v < D; v++)
            if (!in[v] && (u < 0 || best[v] > best[u]))
                u = v;
        in[u] = 1;
        for (int v = 0; v < D; v++)
            if (!in[v] && w[(size_t)u * D + v] > best[v]) {
                best[v] = w[(size_t)u * D + v];
                par[v] = u;
            }
    }
    free(best);
    free(in);
    return PK_OK;
}

/* BFS over the undirected tree given as adjacency lists; fills dist and from. */
static int bfs(const int32_t *adj_start, const int32_t *adj, int D, int src, int32_t *dist, int32_t *from,
               int32_t *queue)
{
    for (int v = 0; v < D; v++)
        dist[v] = -1;
    int head = 0, tail = 0, last = src;
    dist[src] = 0;
    from[src] = -1;
    queue[tail++] = src;
    while (head < tail) {
        int u = queue[head++];
        last = u;
        for (int e = adj_start[u]; e < adj_start[u + 1]; e++) {
            int v = adj[e];
            if (dist[v] < 0) {
                dist[v] = dist[u] + 1;
                from[v] = u;
                queue[tail++] = v;
            }
        }
    }
    return last; /* a farthest node */
}

/* Re-root the undirected tree (given by par from Prim) at its centre. */
static int root_at_centre(int32_t *par, int D)
{
    int32_t *deg = calloc((size_t)D + 1, sizeof(int32_t));
    int32_t *adj = malloc(sizeof(int32_t) * (size_t)(2 * D));
    int32_t *fill = calloc((size_t)D, sizeof(int32_t));
    int32_t *dist = malloc(sizeof(int32_t) * (size_t)D), *from = malloc(sizeof(int32_t) * (size_t)D);
    int32_t *queue = malloc(sizeof(int32_t) * (size_t)D);
    if (!deg || !adj || !fill || !dist || !from || !queue) {
        free(deg), free(adj), free(fill), free(dist), free(from), free(queue);
        return PK_ENOMEM;
    }
    for (int v = 0; v < D; v++)
        if (par[v] >= 0) {
            deg[v + 1]++;
            deg[par[v] + 1]++;
        }
    for (int v = 0; v < D; v++)
        deg[v + 1] += deg[v];
    for (int v = 0; v < D; v++)
        if (par[v] >= 0) {
            adj[deg[v] + fill[v]++] = par[v];
            adj[deg[par[v]] + fill[par[v]]++] = v;
        }
    int a = bfs(deg, adj, D, 0, dist, from, queue);
    int b = bfs(deg, adj, D, a, dist, from, queue);
    int centre = b;
    for (int steps = dist[b] / 2; steps > 0; steps--)
        centre = from[centre];
    bfs(deg, adj, D, centre, dist, from, queue);
    for (int v = 0; v < D; v++)
        par[v] = from[v];
    free(deg), free(adj), free(fill), free(dist), free(from), free(queue);
    return PK_OK;
}

int pk_pc_learn_structure(const uint8_t *x, size_t n, int nvars, int ncat, int height, int width,
                          const pk_pc_structure_params *p, pk_rng *rng, pk_pc **out, pk_err *err)
{
    *out = NULL;
    int st = pk_pc_structure_params_check(p, err);
    if (st)
        return st;
    if (!x || n == 0 || nvars < 1 || ncat < 2 || ncat > 256)
        return pk_err_set(err, PK_EINVAL, "structure learning needs n >= 1 rows of >= 1 variables, 2..256 categories");
    if ((height || width) && (int64_t)height * width != nvars)
        return pk_err_set(err, PK_EINVAL, "geometry %dx%d does not match %d variables", height, width, nvars);
    size_t m = p->mi_max_samples && p->mi_max_samples < n ? p->mi_max_samples : n;
    int nq = 1 << p->mi_bits;
    if (nq > ncat)
        nq = ncat;
    uint8_t *q = malloc(m * (size_t)nvars);
    double *mi = calloc((size_t)nvars * (size_t)nvars, sizeof(double));
    int32_t *par = malloc(sizeof(int32_t) * (size_t)nvars);
    if (!q || !mi || !par) {
        free(q), free(mi), free(par);
        return pk_err_set(err, PK_ENOMEM, "out of memory for mutual information of %d variables", nvars);
    }
    /* Evenly spaced rows when subsampling: deterministic and spread over the set. */
    for (size_t s = 0; s < m; s++) {
        const uint8_t *row = x + (s * n / m) * (size_t)nvars;
        for (int j = 0; j < nvars; j++) {
            if (row[j] >= ncat) {
                free(q), free(mi), free(par);
                return pk_err_set(err, PK_EINVAL, "row %zu variable %d holds %u, not below %d categories", s * n / m,
                                  j, row[j], ncat);
            }
            q[s * nvars + j] = (uint8_t)((unsigned)row[j] * (unsigned)nq / (unsigned)ncat);
        }
    }
    st = mutual_information(q, m, nvars, nq, p->mi_pseudocount, mi);
    if (!st) {
        st = max_spanning_tree(mi, nvars, par);
        if (!st)
            st = root_at_centre(par, nvars);
    }
    free(q);
    free(mi);
    if (st) {
        free(par);
        return pk_err_set(err, st, "out of memory in structure learning");
    }
    st = pk_pc_from_tree(par, nvars, p->k, ncat, p->init_perturbation, rng, out, err);
    free(par);
    if (!st) {
        (*out)->height = height;
        (*out)->width = width;
    }
    return st;
}

pk_pc_clt_params pk_pc_clt_params_default(void)
{
    pk_pc_clt_params p = {2.0, 1.5, 0.02, 1};
    return p;
}

int pk_pc_clt_params_check(const pk_pc_clt_params *p, pk_err *err)
{
    if (!(p->sigma_parent >= 0 && p->sigma_parent <= 64))
        return pk_err_set(err, PK_EINVAL, "sigma_parent = %g: must be in [0, 64]", p->sigma_parent);
    if (!(p->sigma_child >= 0 && p->sigma_child <= 64))
        return pk_err_set(err, PK_EINVAL, "sigma_child = %g: must be in [0, 64]", p->sigma_child);
    if (!(p->floor > 0) || !isfinite(p->floor))
        return pk_err_set(err, PK_EINVAL, "floor = %g: must be finite and > 0", p->floor);
    return PK_OK;
}

int pc_gauss_taps(double sigma, int rmax, double *g)
{
    int r = (int)(4.0 * sigma + 0.5);
    if (r > rmax)
        r = rmax;
    double s = 0;
    for (int i = -r; i <= r; i++) {
        g[i + r] = sigma > 0 ? exp(-0.5 * (double)i * i / (sigma * sigma)) : 1.0;
        s += g[i + r];
    }
    for (int i = 0; i <= 2 * r; i++)
        g[i] /= s;
    return r;
}

void pc_blur1d(const double *in, double *out, int lo, int hi, const double *g, int r)
{
    for (int b = lo; b < hi; b++) {
        double s = 0;
        for (int i = -r; i <= r; i++) {
            int c = b + i < lo ? lo : b + i >= hi ? hi - 1 : b + i;
            s += g[i + r] * in[c];
        }
        out[b] = s;
    }
}

/* Blur rows [lo, hi) x columns [lo, hi) of the n x n table t (row stride n)
 * along rows (sa) and columns (sb); outside the block the nearest value
 * inside it is repeated (scipy's mode 'nearest').  The child-axis pass is
 * in place and skips all-zero rows; the parent-axis pass writes only the
 * rows a with need[a] into out (other rows of out are left alone).
 * tmp: n doubles; rowz: n chars. */
static void blur_block(double *t, double *out, int n, int lo, int hi, const double *ga, int ra, const double *gb,
                       int rb, const char *need, double *tmp, char *rowz)
{
    if (hi <= lo)
        return;
    for (int a = lo; a < hi; a++) { /* along the child's value */
        double *row = t + (size_t)a * n;
        rowz[a] = 1;
        for (int b = lo; b < hi && rowz[a]; b++)
            rowz[a] = row[b] == 0;
        if (rowz[a] || rb == 0)
            continue;
        pc_blur1d(row, tmp, lo, hi, gb, rb);
        memcpy(row + lo, tmp + lo, sizeof(double) * (size_t)(hi - lo));
    }
    for (int a = lo; a < hi; a++) { /* along the parent's value, needed rows only */
        if (!need[a])
            continue;
        double *o = out + (size_t)a * n;
        for (int b = lo; b < hi; b++)
            o[b] = 0;
        for (int i = -ra; i <= ra; i++) {
            int c = a + i < lo ? lo : a + i >= hi ? hi - 1 : a + i;
            if (rowz[c])
                continue;
            const double *src = t + (size_t)c * n, g = ga[i + ra];
            for (int b = lo; b < hi; b++)
                o[b] += g * src[b];
        }
    }
}

/* Log conditional table of variable v: L[a][b] = log p(x_v = b | x_parent = a)
 * (for the root one row, a = 0) for the rows a with need[a]; t, o: nc * nc
 * doubles of scratch.  Counts of (x_parent, x_v) are blurred by a 2-D
 * Gaussian kernel — a discrete kernel density estimate, since a pixel's
 * distribution changes smoothly with its neighbour's intensity — then a
 * floor is added to every cell and rows are normalised.  With keep_ends the
 * saturated values 0 and ncat-1 (background and full white, which hold most
 * of the mass in real images) are not blurred into their neighbours. */
static void clt_table(const pk_pc *tree, int v, const uint8_t *x, size_t n, const pk_pc_clt_params *p,
                      const char *need, double *t, double *o, double *tmp, char *rowz, double *L)
{
    const int D = tree->nvars, nc = tree->ncat, par = tree->parent[v];
    double ga[513], gb[513];
    int ra = pc_gauss_taps(p->sigma_parent, 256, ga), rb = pc_gauss_taps(p->sigma_child, 256, gb);
    int rows = par >= 0 ? nc : 1;
    memset(t, 0, sizeof(double) * (size_t)rows * nc);
    for (size_t r = 0; r < n; r++) {
        const uint8_t *row = x + r * (size_t)D;
        t[(size_t)(par >= 0 ? row[par] : 0) * nc + row[v]] += 1;
    }
    int ends = p->keep_ends && nc > 2;
    int lo = ends ? 1 : 0, hi = ends ? nc - 1 : nc;
    /* o = t, then the blurred block replaces its interior (rows that need it). */
    memcpy(o, t, sizeof(double) * (size_t)rows * nc);
    if (par < 0) {
        /* One row: blur along the child's value only. */
        pc_blur1d(t, o, lo, hi, gb, rb);
    } else {
        blur_block(t, o, nc, lo, hi, ga, ra, gb, rb, need, tmp, rowz);
    }
    for (int a = 0; a < rows; a++) {
        if (par >= 0 && !need[a])
            continue;
        double s = 0, *row = o + (size_t)a * nc;
        for (int b = 0; b < nc; b++)
            s += row[b] + p->floor;
        for (int b = 0; b < nc; b++)
            L[(size_t)a * nc + b] = log((row[b] + p->floor) / s);
    }
}

int pk_pc_clt_bpd(const pk_pc *tree, const uint8_t *train, size_t ntrain, const uint8_t *test, size_t ntest,
                  const pk_pc_clt_params *cp, double *bpd, pk_err *err)
{
    if (!tree || !train || !test || ntrain == 0 || ntest == 0 || !cp || !bpd)
        return pk_err_set(err, PK_EINVAL, "pk_pc_clt_bpd: needs a tree, parameters and rows");
    int st = pk_pc_clt_params_check(cp, err);
    if (st)
        return st;
    const int D = tree->nvars, nc = tree->ncat;
    for (size_t i = 0; i < ntrain * (size_t)D; i++)
        if (train[i] >= nc)
            return pk_err_set(err, PK_EINVAL, "training row %zu holds %u, not below %d", i / (size_t)D, train[i], nc);
    for (size_t i = 0; i < ntest * (size_t)D; i++)
        if (test[i] >= nc)
            return pk_err_set(err, PK_EINVAL, "test row %zu holds %u, not below %d", i / (size_t)D, test[i], nc);
    double total = 0;
    int failed = 0;
    PC_OMP(omp parallel reduction(+ : total))
    {
        double *t = malloc(sizeof(double) * (size_t)nc * (size_t)nc);
        double *o = malloc(sizeof(double) * (size_t)nc * (size_t)nc);
        double *L = malloc(sizeof(double) * (size_t)nc * (size_t)nc);
        double *tmp = malloc(sizeof(double) * (size_t)nc);
        char *need = malloc((size_t)nc), *rowz = malloc((size_t)nc);
        int ok = t && o && L && tmp && need && rowz;
        if (!ok) {
            PC_OMP(omp atomic write)
            failed = 1;
        }
        PC_OMP(omp for schedule(dynamic, 8))
        for (int v = 0; v < D; v++) {
            if (!ok)
                continue;
            int p = tree->parent[v];
            /* Only the parent values that occur in the test rows need a row. */
            memset(need, 0, (size_t)nc);
            for (size_t r = 0; r < ntest; r++)
                need[p >= 0 ? test[r * (size_t)D + p] : 0] = 1;
            clt_table(tree, v, train, ntrain, cp, need, t, o, tmp, rowz, L);
            for (size_t r = 0; r < ntest; r++) {
                const uint8_t *x = test + r * (size_t)D;
                total += L[(size_t)(p >= 0 ? x[p] : 0) * nc + x[v]];
            }
        }
        free(t), free(o), free(L), free(tmp), free(need), free(rowz);
    }
    if (failed)
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    *bpd = -total / ((double)ntest * D * log(2.0));
    return PK_OK;
}
