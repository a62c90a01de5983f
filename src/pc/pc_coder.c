/* pc_coder.c — the sequence of conditionals p(x_t | x_<t) that the entropy
 * coder needs, computed incrementally (the paper's Section 4 idea).
 *
 * Coding order = pre-order of the tree.  Conditional of variable v given the
 * already coded variables:  p(X_v = a | .) ∝ sum_j exp(coef_j) theta_v[j][a]
 * where coef comes from the outside values along the root-v path and the
 * upward values of already finished sibling subtrees.  Two facts make this
 * cheap: (1) the outside value of a node only depends on variables outside
 * its subtree, and in pre-order all of those are coded before the node is
 * reached, so it is computed once, when the node is coded; (2) the upward
 * value of a subtree only changes while it is being coded and is final when
 * its last variable is, so it is computed once, then.  Each variable thus
 * costs one k x k sum layer up, one down and one k x ncat mixture: O(|p|) per
 * image, against O(D |p|) for re-evaluating the circuit for every pixel.
 * The naive path (kept for checking and timing) does exactly that. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pc_internal.h"

struct pk_pc_coder {
    const pk_pc *pc;
    pc_dmodel own;        /* used when the coder made its own copy */
    const pc_dmodel *m;   /* the parameters (own, or shared between threads) */
    double *U, *P, *OP; /* [D][k] */
    double *q, *coef, *scratch;
    uint8_t *mask;
    uint32_t *syms; /* [D][2] start, freq for the encoder */
    pk_rans_table tab;
};

void pk_pc_coder_free(pk_pc_coder *c)
{
    if (!c)
        return;
    pc_dmodel_free(&c->own);
    free(c->U), free(c->P), free(c->OP), free(c->q), free(c->coef), free(c->scratch), free(c->mask), free(c->syms);
    free(c);
}

int pc_coder_new_shared(const pk_pc *pc, const pc_dmodel *shared, pk_pc_coder **out)
{
    *out = NULL;
    if (!pc)
        return PK_EINVAL;
    pk_pc_coder *c = calloc(1, sizeof *c);
    if (!c)
        return PK_ENOMEM;
    c->pc = pc;
    size_t n = (size_t)pc->nvars * (size_t)pc->k;
    c->U = malloc(n * sizeof(double));
    c->P = malloc(n * sizeof(double));
    c->OP = malloc(n * sizeof(double));
    c->q = malloc(256 * sizeof(double));
    c->coef = malloc((size_t)pc->k * sizeof(double));
    c->scratch = malloc(((size_t)pc->nvars + 2 * (size_t)pc->k + 4) * sizeof(double));
    c->mask = malloc((size_t)pc->nvars);
    c->syms = malloc(2 * (size_t)pc->nvars * sizeof(uint32_t));
    int bad = !c->U || !c->P || !c->OP || !c->q || !c->coef || !c->scratch || !c->mask || !c->syms;
    if (!bad && !shared)
        bad = pc_dmodel_init_coder(&c->own, pc) != PK_OK;
    if (bad) {
        pk_pc_coder_free(c);
        return PK_ENOMEM;
    }
    c->m = shared ? shared : &c->own;
    *out = c;
    return PK_OK;
}

int pk_pc_coder_new(const pk_pc *pc, pk_pc_coder **out)
{
    return pc_coder_new_shared(pc, NULL, out);
}

static void reset(pk_pc_coder *c)
{
    /* An uncoded subtree sums to one in every state. */
    size_t n = (size_t)c->pc->nvars * (size_t)c->pc->k;
    for (size_t i = 0; i < n; i++)
        c->U[i] = 1.0;
}

/* The incremental path works in the linear domain: every cached vector is
 * only needed up to a constant factor (a conditional is normalised at the
 * end), so each is rescaled by a power of two (exact) to keep its largest
 * entry in [0.5, 1).  That replaces the exp/log pair per state and edge of
 * log-space evaluation by one frexp per vector.  Underflow cannot lose the
 * ratios that matter: every factor is a theta entry or a sum over a W row,
 * so entries of one vector differ by at most the parameters' dynamic range
 * (~1e-9 per factor with the EM pseudocount), far inside double's. */
static void rescale(double *u, int k)
{
    double mx = 0;
    for (int i = 0; i < k; i++)
        mx = u[i] > mx ? u[i] : mx;
    if (!(mx > 0) || mx > 1e300)
        return; /* all zero (impossible values): the conditional is degenerate anyway */
    int e;
    frexp(mx, &e);
    double f = ldexp(1.0, -e);
    for (int i = 0; i < k; i++)
        u[i] *= f;
}

/* Entries below this (relative to the largest, which rescale keeps >= 0.5)
 * are skipped when mixing the input distributions: their share of any
 * q[a] is below 1e-15 / theta_min, far under the coder's 2^-24 resolution. */
#define MIX_SKIP 1e-15

/* q[a] = sum_j g[j] theta_v[j][a], normalised; -1 if degenerate. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx2", "default")))
#endif
static int mix_lin(const pc_dmodel *m, int v, const double *g, double *q)
{
    const int k = m->k, nc = m->nc;
    for (int a = 0; a < nc; a++)
        q[a] = 0;
    const float *th = m->thetaf + (size_t)v * k * nc;
    /* Four rows per pass over q: a quarter of the loads and stores of q. */
    int act[1024], na = 0;
    for (int j = 0; j < k; j++)
        if (g[j] > MIX_SKIP)
            act[na++] = j;
    int t = 0;
    for (; t + 4 <= na; t += 4) {
        const float *r0 = th + (size_t)act[t] * nc, *r1 = th + (size_t)act[t + 1] * nc;
        const float *r2 = th + (size_t)act[t + 2] * nc, *r3 = th + (size_t)act[t + 3] * nc;
        double w0 = g[act[t]], w1 = g[act[t + 1]], w2 = g[act[t + 2]], w3 = g[act[t + 3]];
        for (int a = 0; a < nc; a++)
            q[a] = (((q[a] + w0 * (double)r0[a]) + w1 * (double)r1[a]) + w2 * (double)r2[a]) + w3 * (double)r3[a];
    }
    for (; t < na; t++) {
        const float *row = th + (size_t)act[t] * nc;
        double w = g[act[t]];
        for (int a = 0; a < nc; a++)
            q[a] += w * (double)row[a];
    }
    double s = 0;
    for (int a = 0; a < nc; a++)
        s += q[a];
    if (!(s > 0) || s > 1e300)
        return -1;
    double inv = 1.0 / s;
    for (int a = 0; a < nc; a++)
        q[a] *= inv;
    return 0;
}

/* Conditional of variable v = order[t] given everything coded before it. */
static int inc_dist(pk_pc_coder *c, int v, const uint8_t *x)
{
    const pk_pc *pc = c->pc;
    const int k = pc->k, nc = pc->ncat;
    int p = pc->parent[v];
    double *op = c->OP + (size_t)v * k, *coef = c->coef;
    double ou[1024];
    if (p < 0) {
        memcpy(op, c->m->rootw, sizeof(double) * (size_t)k);
    } else {
        const double *opp = c->OP + (size_t)p * k;
        const float *th = c->m->thetaf + (size_t)p * k * nc + x[p];
        for (int i = 0; i < k; i++)
            ou[i] = opp[i] * (double)th[(size_t)i * nc];
        for (int e = pc->child_start[p]; e < pc->child_start[p + 1]; e++) {
            int s = pc->children[e];
            if (s == v)
                continue;
            const double *us = c->U + (size_t)s * k;
            for (int i = 0; i < k; i++)
                ou[i] *= us[i];
        }
        rescale(ou, k);
        if (pc_is_leaf(pc, v))
            return mix_lin(c->m, v, ou, c->q);
        /* op[j] = sum_i ou[i] W[i][j] */
        const double *W = c->m->W + (size_t)v * k * k;
        for (int j = 0; j < k; j++)
            op[j] = 0;
        for (int i = 0; i < k; i++) {
            double w = ou[i];
            if (w == 0)
                continue;
            const double *a = W + (size_t)i * k;
            for (int j = 0; j < k; j++)
                op[j] += w * a[j];
        }
        rescale(op, k);
    }
    memcpy(coef, op, sizeof(double) * (size_t)k);
    for (int e = pc->child_start[v]; e < pc->child_start[v + 1]; e++) {
        const double *uc = c->U + (size_t)pc->children[e] * k;
        for (int j = 0; j < k; j++)
            coef[j] *= uc[j];
    }
    rescale(coef, k);
    return mix_lin(c->m, v, coef, c->q);
}

/* x[v] is now known: finish the upward values of every subtree it completes. */
static void inc_commit(pk_pc_coder *c, int v, const uint8_t *x)
{
    const pk_pc *pc = c->pc;
    const int k = pc->k, nc = pc->ncat;
    if (!pc_is_leaf(pc, v))
        return;
    const float *th = c->m->thetaf + (size_t)v * k * nc + x[v];
    double *uv = c->U + (size_t)v * k;
    for (int i = 0; i < k; i++)
        uv[i] = (double)th[(size_t)i * nc];
    rescale(uv, k);
    int u = v;
    while (pc->parent[u] >= 0) {
        int p = pc->parent[u];
        if (pc->children[pc->child_start[p + 1] - 1] != u || p == pc->root)
            break; /* p still has uncoded children, or p is the root (value not needed) */
        double *pp = c->P + (size_t)p * k;
        const float *thp = c->m->thetaf + (size_t)p * k * nc + x[p];
        for (int j = 0; j < k; j++)
            pp[j] = (double)thp[(size_t)j * nc];
        for (int e = pc->child_start[p]; e < pc->child_start[p + 1]; e++) {
            const double *uc = c->U + (size_t)pc->children[e] * k;
            for (int j = 0; j < k; j++)
                pp[j] *= uc[j];
        }
        rescale(pp, k);
        /* U_p[i] = sum_j W[i][j] P_p[j] */
        const double *W = c->m->W + (size_t)p * k * k;
        double *up = c->U + (size_t)p * k;
        for (int i = 0; i < k; i++) {
            const double *a = W + (size_t)i * k;
            double s = 0;
            for (int j = 0; j < k; j++)
                s += a[j] * pp[j];
            up[i] = s;
        }
        rescale(up, k);
        u = p;
    }
}

/* Naive: re-evaluate the whole circuit with the first t variables observed. */
static int naive_dist(pk_pc_coder *c, int t, const uint8_t *x)
{
    const pk_pc *pc = c->pc;
    int v = pc->order[t];
    memset(c->mask, 0, (size_t)pc->nvars);
    for (int s = 0; s < t; s++)
        c->mask[pc->order[s]] = 1;
    pc_upward(pc, c->m, x, c->mask, 0, c->U, c->P);
    pc_outside_coef(pc, c->m, x, c->mask, c->U, v, c->coef, c->scratch);
    return pc_mix_theta(c->m, v, c->coef, c->q);
}

int pk_pc_coder_chain_bits(pk_pc_coder *c, const uint8_t *x, int naive, double *bits)
{
    const pk_pc *pc = c->pc;
    double b = 0;
    if (naive && !c->m->logtheta) {
        /* The naive path evaluates in log space: add the log tables on first use. */
        if (c->m != &c->own)
            return PK_EINVAL;
        if (pc_dmodel_add_logs(&c->own, pc))
            return PK_ENOMEM;
    }
    reset(c);
    for (int t = 0; t < pc->nvars; t++) {
        int v = pc->order[t];
        if (x[v] >= pc->ncat)
            return PK_EINVAL;
        int bad = naive ? naive_dist(c, t, x) : inc_dist(c, v, x);
        if (bad || !(c->q[x[v]] > 0)) {
            *bits = INFINITY;
            return PK_OK;
        }
        b -= log2(c->q[x[v]]);
        if (!naive)
            inc_commit(c, v, x);
    }
    *bits = b;
    return PK_OK;
}

int pk_pc_coder_encode(pk_pc_coder *c, const uint8_t *x, pk_rans_enc *enc, double *ideal_bits)
{
    const pk_pc *pc = c->pc;
    double b = 0;
    reset(c);
    for (int t = 0; t < pc->nvars; t++) {
        int v = pc->order[t];
        if (x[v] >= pc->ncat)
            return PK_EINVAL;
        inc_dist(c, v, x); /* a degenerate q quantises to uniform: still decodable */
        pk_rans_table_build(&c->tab, c->q, pc->ncat);
        c->syms[2 * t] = pk_rans_table_start(&c->tab, x[v]);
        c->syms[2 * t + 1] = c->tab.freq[x[v]];
        b += PK_RANS_PREC - log2((double)c->tab.freq[x[v]]);
        inc_commit(c, v, x);
    }
    for (int t = pc->nvars - 1; t >= 0; t--)
        pk_rans_enc_put(enc, c->syms[2 * t], c->syms[2 * t + 1]);
    if (ideal_bits)
        *ideal_bits = b;
    return enc->oom ? PK_ENOMEM : PK_OK;
}

int pk_pc_coder_decode(pk_pc_coder *c, pk_rans_dec *dec, uint8_t *x)
{
    const pk_pc *pc = c->pc;
    const int nc = pc->ncat;
    reset(c);
    for (int t = 0; t < pc->nvars; t++) {
        int v = pc->order[t];
        inc_dist(c, v, x);
        pk_rans_table_build(&c->tab, c->q, nc);
        int a = pk_rans_table_find(&c->tab, pk_rans_dec_peek(dec));
        pk_rans_dec_advance(dec, pk_rans_table_start(&c->tab, a), c->tab.freq[a]);
        if (dec->error)
            return PK_EFORMAT;
        x[v] = (uint8_t)a;
        inc_commit(c, v, x);
    }
    return PK_OK;
}
