/* pc_mixture.c — a mixture of HCLTs on one tree as a single HCLT.
 *
 * Components c = 0..C-1 with k_c states on the same tree become one HCLT with
 * K = sum_c k_c states: the latent states of component c occupy block c,
 * input distributions are stacked, every sum layer is block-diagonal (zero
 * weight between blocks) and the root weights are w_c * root_w_c.  Since a
 * tree leaf's input nodes are indexed by its parent's state, stacking them
 * keeps each block inside its own component, so
 *   p(x) = sum_c w_c p_c(x)
 * exactly, and the existing exact inference and incremental coder apply
 * unchanged (cost grows with K^2 in the sum layers). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pc_internal.h"

int pk_pc_mixture(const pk_pc *const *comps, int ncomp, const double *weights, pk_pc **out, pk_err *err)
{
    if (!out)
        return pk_err_set(err, PK_EINVAL, "pk_pc_mixture: NULL output");
    *out = NULL;
    if (!comps || ncomp < 1 || !comps[0])
        return pk_err_set(err, PK_EINVAL, "pk_pc_mixture: needs at least one component");
    const pk_pc *a = comps[0];
    int K = 0;
    double wsum = 0;
    for (int c = 0; c < ncomp; c++) {
        const pk_pc *b = comps[c];
        if (!b)
            return pk_err_set(err, PK_EINVAL, "pk_pc_mixture: component %d is NULL", c);
        if (b->nvars != a->nvars || b->ncat != a->ncat || b->height != a->height || b->width != a->width)
            return pk_err_set(err, PK_EINVAL, "pk_pc_mixture: component %d has other sizes than component 0", c);
        if (memcmp(b->parent, a->parent, sizeof(int32_t) * (size_t)a->nvars) != 0)
            return pk_err_set(err, PK_EINVAL, "pk_pc_mixture: component %d has another tree than component 0", c);
        double w = weights ? weights[c] : 1.0;
        if (!(w >= 0) || !isfinite(w))
            return pk_err_set(err, PK_EINVAL, "pk_pc_mixture: weight %d is %g (must be finite and >= 0)", c, w);
        wsum += w;
        K += b->k;
    }
    if (!(wsum > 0))
        return pk_err_set(err, PK_EINVAL, "pk_pc_mixture: the weights sum to 0");
    if (K > 1024)
        return pk_err_set(err, PK_EINVAL, "pk_pc_mixture: %d states in all (at most 1024)", K);
    pk_pc *m;
    int st = pc_alloc(a->nvars, K, a->ncat, &m, err);
    if (st)
        return st;
    m->height = a->height, m->width = a->width;
    memcpy(m->parent, a->parent, sizeof(int32_t) * (size_t)a->nvars);
    if ((st = pc_build_topology(m, err))) {
        pk_pc_free(m);
        return st;
    }
    size_t nc = (size_t)a->ncat, KK = (size_t)K;
    memset(m->weight, 0, sizeof(float) * (size_t)a->nvars * KK * KK);
    int off = 0;
    for (int c = 0; c < ncomp; c++) {
        const pk_pc *b = comps[c];
        size_t k = (size_t)b->k, o = (size_t)off;
        double w = (weights ? weights[c] : 1.0) / wsum;
        for (size_t j = 0; j < k; j++)
            m->root_w[o + j] = (float)(w * (double)b->root_w[j]);
        for (int v = 0; v < a->nvars; v++) {
            memcpy(m->theta + ((size_t)v * KK + o) * nc, b->theta + (size_t)v * k * nc, sizeof(float) * k * nc);
            for (size_t i = 0; i < k; i++)
                memcpy(m->weight + ((size_t)v * KK + o + i) * KK + o, b->weight + ((size_t)v * k + i) * k,
                       sizeof(float) * k);
        }
        off += b->k;
    }
    *out = m;
    return PK_OK;
}
