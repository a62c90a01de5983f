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

int pk_pc_clt_bpd(const pk_pc *tree, const uint8_t *train, size_t ntrain, const uint8_t *test, size_t ntest,
                  double alpha, double *bpd, pk_err *err)
{
    if (!tree || !train || !test || ntrain == 0 || ntest == 0 || !(alpha > 0) || !bpd)
        return pk_err_set(err, PK_EINVAL, "pk_pc_clt_bpd: needs rows and alpha > 0");
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
        double *cnt = malloc(sizeof(double) * (size_t)nc * (size_t)nc);
        double *rowsum = malloc(sizeof(double) * (size_t)nc);
        if (!cnt || !rowsum) {
            PC_OMP(omp atomic write)
            failed = 1;
        }
        PC_OMP(omp for schedule(dynamic, 8))
        for (int v = 0; v < D; v++) {
            if (!cnt || !rowsum)
                continue;
            int p = tree->parent[v];
            memset(cnt, 0, sizeof(double) * (size_t)nc * (size_t)nc);
            for (size_t r = 0; r < ntrain; r++) {
                const uint8_t *x = train + r * (size_t)D;
                cnt[(size_t)(p >= 0 ? x[p] : 0) * nc + x[v]] += 1;
            }
            for (int a = 0; a < nc; a++) {
                double s = 0;
                for (int b = 0; b < nc; b++)
                    s += cnt[(size_t)a * nc + b];
                rowsum[a] = s + alpha * nc;
            }
            for (size_t r = 0; r < ntest; r++) {
                const uint8_t *x = test + r * (size_t)D;
                int a = p >= 0 ? x[p] : 0;
                total += log((cnt[(size_t)a * nc + x[v]] + alpha) / rowsum[a]);
            }
        }
        free(cnt);
        free(rowsum);
    }
    if (failed)
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    *bpd = -total / ((double)ntest * D * log(2.0));
    return PK_OK;
}
