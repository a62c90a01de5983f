/* pc_infer.c — per-example exact inference in double precision: marginals
 * with missing values, conditionals of one variable, sampling and completion
 * (conditional sampling or max-product).  Sums are evaluated as shifted
 * linear matrix-vector products: log sum_j W[i][j] e^{P_j} = m + log sum_j
 * W[i][j] e^{P_j - m}, one exp per input instead of one per edge. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pc_internal.h"

void pc_dmodel_free(pc_dmodel *m)
{
    free(m->theta), free(m->thetaf), free(m->logtheta), free(m->W), free(m->logW), free(m->rootw), free(m->logrootw);
    free(m->maxlogtheta);
    memset(m, 0, sizeof *m);
}

/* exp and log from +, -, *, /, floor, frexp and ldexp only: each of those
 * is exactly rounded by IEEE 754, so the codec's probabilities, and hence its
 * integer frequency tables, are bit-identical on every conforming machine
 * whatever its libm (glibc picks FMA or non-FMA exp/log by CPU).  Relative
 * error ~1e-16. */
static const double LN2_HI = 6.93147180369123816490e-01; /* trailing zeros: n * LN2_HI is exact */
static const double LN2_LO = 1.90821492927058770002e-10;

double pc_exp(double x)
{
    if (x != x)
        return x;
    if (x < -746.0)
        return 0.0;
    if (x > 709.8)
        return INFINITY;
    double n = floor(x * 1.44269504088896338700 + 0.5);
    double r = (x - n * LN2_HI) - n * LN2_LO; /* |r| <= 0.35 */
    double p = 1.0 / 6227020800.0;           /* 1/13! */
    static const double inv_fact[13] = {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
                                        1.0 / 40320.0,     1.0 / 5040.0,     1.0 / 720.0,     1.0 / 120.0,
                                        1.0 / 24.0,        1.0 / 6.0,        0.5,             1.0,
                                        1.0};
    for (int i = 0; i < 13; i++)
        p = p * r + inv_fact[i];
    return ldexp(p, (int)n);
}

double pc_log(double x)
{
    if (x != x || x < 0)
        return NAN;
    if (x == 0)
        return -INFINITY;
    if (isinf(x))
        return x;
    int e;
    double m = frexp(x, &e); /* x = m 2^e, m in [0.5, 1) */
    if (m < 0.70710678118654752440) {
        m *= 2.0;
        e--;
    }
    double f = m - 1.0, s = f / (2.0 + f), s2 = s * s; /* log m = 2 atanh(s), |s| <= 0.172 */
    double t = 1.0 / 23.0;
    for (int i = 21; i >= 1; i -= 2)
        t = t * s2 + 1.0 / i;
    return (double)e * LN2_HI + ((double)e * LN2_LO + 2.0 * s * t);
}

static double safe_log(double v)
{
    return v > 0 ? pc_log(v) : -INFINITY;
}

int pc_dmodel_init_coder(pc_dmodel *m, const pk_pc *pc)
{
    memset(m, 0, sizeof *m);
    size_t D = (size_t)pc->nvars, k = (size_t)pc->k, nc = (size_t)pc->ncat;
    m->D = pc->nvars, m->k = pc->k, m->nc = pc->ncat;
    m->thetaf = malloc(D * k * nc * sizeof(float));
    m->W = malloc(D * k * k * sizeof(double));
    m->rootw = malloc(k * sizeof(double));
    if (!m->thetaf || !m->W || !m->rootw) {
        pc_dmodel_free(m);
        return PK_ENOMEM;
    }
    for (size_t r = 0; r < D * k; r++) {
        double s = 0;
        for (size_t a = 0; a < nc; a++)
            s += pc->theta[r * nc + a];
        for (size_t a = 0; a < nc; a++)
            m->thetaf[r * nc + a] = (float)(s > 0 ? pc->theta[r * nc + a] / s : 1.0 / (double)nc);
        double sw = 0;
        for (size_t j = 0; j < k; j++)
            sw += pc->weight[r * k + j];
        for (size_t j = 0; j < k; j++)
            m->W[r * k + j] = sw > 0 ? pc->weight[r * k + j] / sw : 1.0 / (double)k;
    }
    double sr = 0;
    for (size_t j = 0; j < k; j++)
        sr += pc->root_w[j];
    for (size_t j = 0; j < k; j++)
        m->rootw[j] = sr > 0 ? pc->root_w[j] / sr : 1.0 / (double)k;
    return PK_OK;
}

int pc_dmodel_add_logs(pc_dmodel *m, const pk_pc *pc)
{
    if (m->logtheta)
        return PK_OK;
    size_t D = (size_t)m->D, k = (size_t)m->k, nc = (size_t)m->nc;
    m->theta = malloc(D * k * nc * sizeof(double));
    m->logtheta = malloc(D * k * nc * sizeof(double));
    m->logW = malloc(D * k * k * sizeof(double));
    m->logrootw = malloc(k * sizeof(double));
    m->maxlogtheta = malloc(D * k * sizeof(double));
    if (!m->theta || !m->logtheta || !m->logW || !m->logrootw || !m->maxlogtheta) {
        free(m->theta), free(m->logtheta), free(m->logW), free(m->logrootw), free(m->maxlogtheta);
        m->theta = m->logtheta = m->logW = m->logrootw = m->maxlogtheta = NULL;
        return PK_ENOMEM;
    }
    for (size_t r = 0; r < D * k; r++) {
        double s = 0, mx = -INFINITY;
        for (size_t a = 0; a < nc; a++)
            s += pc->theta[r * nc + a];
        for (size_t a = 0; a < nc; a++)
            m->theta[r * nc + a] = s > 0 ? pc->theta[r * nc + a] / s : 1.0 / (double)nc;
        for (size_t a = 0; a < nc; a++) {
            m->logtheta[r * nc + a] = safe_log(m->theta[r * nc + a]);
            if (m->logtheta[r * nc + a] > mx)
                mx = m->logtheta[r * nc + a];
        }
        m->maxlogtheta[r] = mx;
        for (size_t j = 0; j < k; j++)
            m->logW[r * k + j] = safe_log(m->W[r * k + j]);
    }
    for (size_t j = 0; j < k; j++)
        m->logrootw[j] = safe_log(m->rootw[j]);
    return PK_OK;
}

int pc_dmodel_init(pc_dmodel *m, const pk_pc *pc)
{
    int st = pc_dmodel_init_coder(m, pc);
    if (!st && (st = pc_dmodel_add_logs(m, pc)))
        pc_dmodel_free(m);
    return st;
}

void pc_log_matvec(const double *A, const double *in, int n, double *out)
{
    double mx = -INFINITY;
    for (int j = 0; j < n; j++)
        mx = in[j] > mx ? in[j] : mx;
    if (mx == -INFINITY) {
        for (int i = 0; i < n; i++)
            out[i] = -INFINITY;
        return;
    }
    double e[1024];
    for (int j = 0; j < n; j++)
        e[j] = pc_exp(in[j] - mx);
    for (int i = 0; i < n; i++) {
        const double *a = A + (size_t)i * n;
        double s = 0;
        for (int j = 0; j < n; j++)
            s += a[j] * e[j];
        out[i] = mx + safe_log(s);
    }
}

void pc_log_vecmat(const double *A, const double *in, int n, double *out)
{
    double mx = -INFINITY;
    for (int i = 0; i < n; i++)
        mx = in[i] > mx ? in[i] : mx;
    if (mx == -INFINITY) {
        for (int j = 0; j < n; j++)
            out[j] = -INFINITY;
        return;
    }
    double s[1024];
    for (int j = 0; j < n; j++)
        s[j] = 0;
    for (int i = 0; i < n; i++) {
        double e = pc_exp(in[i] - mx);
        const double *a = A + (size_t)i * n;
        for (int j = 0; j < n; j++)
            s[j] += e * a[j];
    }
    for (int j = 0; j < n; j++)
        out[j] = mx + safe_log(s[j]);
}

static double leaf_value(const pc_dmodel *m, int v, int j, const uint8_t *x, const uint8_t *mask, int maxmode)
{
    if (!mask || mask[v])
        return m->logtheta[((size_t)v * m->k + j) * m->nc + x[v]];
    return maxmode ? m->maxlogtheta[(size_t)v * m->k + j] : 0.0;
}

double pc_upward(const pk_pc *pc, const pc_dmodel *m, const uint8_t *x, const uint8_t *mask, int maxmode, double *U,
                 double *P)
{
    const int D = pc->nvars, k = pc->k;
    double root = -INFINITY;
    for (int t = D - 1; t >= 0; t--) {
        int v = pc->order[t];
        double *u = U + (size_t)v * k, *p = P + (size_t)v * k;
        if (pc_is_leaf(pc, v)) {
            for (int i = 0; i < k; i++)
                u[i] = leaf_value(m, v, i, x, mask, maxmode);
            continue;
        }
        for (int j = 0; j < k; j++)
            p[j] = leaf_value(m, v, j, x, mask, maxmode);
        for (int c = pc->child_start[v]; c < pc->child_start[v + 1]; c++) {
            const double *uc = U + (size_t)pc->children[c] * k;
            for (int j = 0; j < k; j++)
                p[j] += uc[j];
        }
        if (v == pc->root) {
            if (maxmode) {
                for (int j = 0; j < k; j++)
                    if (m->logrootw[j] + p[j] > root)
                        root = m->logrootw[j] + p[j];
            } else {
                double tmp[1024];
                for (int j = 0; j < k; j++)
                    tmp[j] = m->logrootw[j] + p[j];
                root = pk_logsumexp(tmp, (size_t)k, 1);
            }
            continue;
        }
        const double *W = m->W + (size_t)v * k * k, *lW = m->logW + (size_t)v * k * k;
        if (maxmode) {
            for (int i = 0; i < k; i++) {
                double best = -INFINITY;
                for (int j = 0; j < k; j++)
                    if (lW[i * k + j] + p[j] > best)
                        best = lW[i * k + j] + p[j];
                u[i] = best;
            }
        } else {
            pc_log_matvec(W, p, k, u);
        }
    }
    return root;
}

void pc_outside_coef(const pk_pc *pc, const pc_dmodel *m, const uint8_t *x, const uint8_t *mask, const double *U,
                     int v, double *coef, double *scratch)
{
    const int k = pc->k;
    /* scratch: path [depth+1] as ints then OP/OU vectors */
    int depth = 0;
    for (int u = v; pc->parent[u] >= 0; u = pc->parent[u])
        depth++;
    int *path = (int *)scratch; /* path[0] = root ... path[depth] = v */
    double *OP = scratch + pc->nvars, *OU = OP + k;
    for (int u = v, d = depth; d >= 0; u = pc->parent[u], d--)
        path[d] = u;
    for (int j = 0; j < k; j++)
        OP[j] = m->logrootw[j];
    for (int d = 1; d <= depth; d++) {
        int p = path[d - 1], u = path[d];
        for (int i = 0; i < k; i++) {
            double s = OP[i] + leaf_value(m, p, i, x, mask, 0);
            for (int c = pc->child_start[p]; c < pc->child_start[p + 1]; c++)
                if (pc->children[c] != u)
                    s += U[(size_t)pc->children[c] * k + i];
            OU[i] = s;
        }
        if (pc_is_leaf(pc, u)) {
            memcpy(coef, OU, sizeof(double) * (size_t)k);
            return;
        }
        pc_log_vecmat(m->W + (size_t)u * k * k, OU, k, OP);
    }
    for (int j = 0; j < k; j++) {
        double s = OP[j];
        for (int c = pc->child_start[v]; c < pc->child_start[v + 1]; c++)
            s += U[(size_t)pc->children[c] * k + j];
        coef[j] = s;
    }
}

int pc_mix_theta(const pc_dmodel *m, int v, const double *coef, double *q)
{
    const int k = m->k, nc = m->nc;
    double mx = -INFINITY;
    for (int j = 0; j < k; j++)
        mx = coef[j] > mx ? coef[j] : mx;
    for (int a = 0; a < nc; a++)
        q[a] = 0;
    if (mx == -INFINITY)
        return -1;
    const double *th = m->theta + (size_t)v * k * nc;
    for (int j = 0; j < k; j++) {
        double g = pc_exp(coef[j] - mx);
        if (g == 0)
            continue;
        const double *row = th + (size_t)j * nc;
        for (int a = 0; a < nc; a++)
            q[a] += g * row[a];
    }
    double s = 0;
    for (int a = 0; a < nc; a++)
        s += q[a];
    if (!(s > 0))
        return -1;
    for (int a = 0; a < nc; a++)
        q[a] /= s;
    return 0;
}

/* ---- public wrappers ----------------------------------------------------------- */

typedef struct infer_ws {
    pc_dmodel m;
    double *U, *P, *scratch;
} infer_ws;

static void infer_ws_free(infer_ws *w)
{
    pc_dmodel_free(&w->m);
    free(w->U), free(w->P), free(w->scratch);
}

static int infer_ws_init(infer_ws *w, const pk_pc *pc)
{
    memset(w, 0, sizeof *w);
    size_t n = (size_t)pc->nvars * (size_t)pc->k;
    w->U = malloc(n * sizeof(double));
    w->P = malloc(n * sizeof(double));
    w->scratch = malloc(((size_t)pc->nvars + 2 * (size_t)pc->k + 4) * sizeof(double));
    if (!w->U || !w->P || !w->scratch || pc_dmodel_init(&w->m, pc)) {
        infer_ws_free(w);
        return PK_ENOMEM;
    }
    return PK_OK;
}

static int check_row(const pk_pc *pc, const uint8_t *x, const uint8_t *mask, pk_err *err)
{
    for (int v = 0; v < pc->nvars; v++)
        if ((!mask || mask[v]) && x[v] >= pc->ncat)
            return pk_err_set(err, PK_EINVAL, "variable %d holds %u, not below %d categories", v, x[v], pc->ncat);
    return PK_OK;
}

int pk_pc_conditional(const pk_pc *pc, const uint8_t *x, const uint8_t *mask, int var, double *out, pk_err *err)
{
    if (!pc || !x || !out || var < 0 || var >= pc->nvars)
        return pk_err_set(err, PK_EINVAL, "pk_pc_conditional: bad argument (var %d)", var);
    int st = check_row(pc, x, mask, err);
    if (st)
        return st;
    /* x[var] is ignored: treat it as missing for the check above's sake only. */
    infer_ws w;
    if (infer_ws_init(&w, pc))
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    double coef[1024];
    pc_upward(pc, &w.m, x, mask, 0, w.U, w.P);
    pc_outside_coef(pc, &w.m, x, mask, w.U, var, coef, w.scratch);
    int bad = pc_mix_theta(&w.m, var, coef, out);
    infer_ws_free(&w);
    return bad ? pk_err_set(err, PK_EDOM, "the observed values have probability zero") : PK_OK;
}

static int pick(const double *logw, int n, int mpe, pk_rng *rng)
{
    if (mpe) {
        int best = 0;
        for (int i = 1; i < n; i++)
            if (logw[i] > logw[best])
                best = i;
        return best;
    }
    size_t r = pk_rng_categorical_log(rng, logw, (size_t)n);
    return r < (size_t)n ? (int)r : 0;
}

/* Top-down choice of latents and missing values given upward values P (NULL:
 * unconditional, every P = 0). */
static void top_down(const pk_pc *pc, const pc_dmodel *m, const double *P, uint8_t *x, const uint8_t *mask, int mpe,
                     pk_rng *rng, int *z, double *tmp)
{
    const int k = pc->k, nc = pc->ncat;
    for (int t = 0; t < pc->nvars; t++) {
        int v = pc->order[t], p = pc->parent[v];
        int state;
        if (pc_is_leaf(pc, v)) {
            state = z[p];
        } else {
            const double *base = p < 0 ? m->logrootw : m->logW + ((size_t)v * k + (size_t)z[p]) * k;
            for (int j = 0; j < k; j++)
                tmp[j] = base[j] + (P ? P[(size_t)v * k + j] : 0);
            state = pick(tmp, k, mpe, rng);
            z[v] = state;
        }
        if (!mask || !mask[v])
            x[v] = (uint8_t)pick(m->logtheta + ((size_t)v * k + state) * nc, nc, mpe, rng);
    }
}

int pk_pc_sample(const pk_pc *pc, pk_rng *rng, size_t n, uint8_t *x, pk_err *err)
{
    if (!pc || !rng || (!x && n))
        return pk_err_set(err, PK_EINVAL, "pk_pc_sample: NULL argument");
    infer_ws w;
    int *z = malloc(sizeof(int) * (size_t)pc->nvars);
    double *tmp = malloc(sizeof(double) * 256 + sizeof(double) * (size_t)pc->k);
    if (!z || !tmp || infer_ws_init(&w, pc)) {
        free(z), free(tmp);
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        top_down(pc, &w.m, NULL, x + i * (size_t)pc->nvars, NULL, 0, rng, z, tmp);
    infer_ws_free(&w);
    free(z), free(tmp);
    return PK_OK;
}

int pk_pc_complete(const pk_pc *pc, uint8_t *x, const uint8_t *mask, int mpe, pk_rng *rng, pk_err *err)
{
    if (!pc || !x || !mask || (!mpe && !rng))
        return pk_err_set(err, PK_EINVAL, "pk_pc_complete: NULL argument");
    int st = check_row(pc, x, mask, err);
    if (st)
        return st;
    infer_ws w;
    int *z = malloc(sizeof(int) * (size_t)pc->nvars);
    double *tmp = malloc(sizeof(double) * 256 + sizeof(double) * (size_t)pc->k);
    if (!z || !tmp || infer_ws_init(&w, pc)) {
        free(z), free(tmp);
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    }
    double root = pc_upward(pc, &w.m, x, mask, mpe, w.U, w.P);
    if (root == -INFINITY)
        st = pk_err_set(err, PK_EDOM, "the observed values have probability zero");
    else
        top_down(pc, &w.m, w.P, x, mask, mpe, rng, z, tmp);
    infer_ws_free(&w);
    free(z), free(tmp);
    return st;
}
