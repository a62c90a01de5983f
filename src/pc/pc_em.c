/* pc_em.c — batched evaluation and EM for the HCLT.
 *
 * A batch is evaluated variable by variable in post-order (children before
 * parents); for an inner tree node v and rows b:
 *   P[b,j] = log theta_v[j][x_bv] + sum_c U_c[b,j]        (product layer)
 *   E[b,j] = exp(P[b,j] - m_b),  m_b = max_j P[b,j]        (shifted, in [0,1])
 *   T[b,i] = sum_j E[b,j] W_v[i,j]                          (sum layer: b x k by k x k)
 *   U[b,i] = m_b + log T[b,i]
 * EM needs the circuit flows (expected counts), computed top-down in
 * pre-order: with F[b,i] the flow reaching sum node i of v,
 *   R = F / T,  flow(i->j) summed over rows = W ⊙ (R^T E),  F_P = E ⊙ (R W),
 * and F_P[b,j] is both the count of theta_v[j][x_bv] and the flow into every
 * child's sum node j.  Values are float; counts are accumulated in double.
 * Rows are split over OpenMP threads; each thread keeps its own counts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "pc_internal.h"

#define CHUNK 128 /* rows per thread-local pass: bounds workspace memory */

typedef struct ws {
    float *E, *T, *U, *FP; /* [D][CHUNK][k] */
    float *m;              /* [D][CHUNK] */
    double *cnt_theta;     /* [D][ncat][k] or NULL */
    double *cnt_w;         /* [D][k][k] or NULL */
    double *cnt_root;      /* [k] */
} ws;

typedef struct model_f {
    float *logthetaT; /* [D][ncat][k]: log theta_v[j][a] at [v][a][j] */
    float *wT;        /* [D][k][k]: W_v^T, wT[v][j][i] = W_v[i][j] */
} model_f;

static void ws_free(ws *w)
{
    if (!w)
        return;
    free(w->E), free(w->T), free(w->U), free(w->FP), free(w->m);
    free(w->cnt_theta), free(w->cnt_w), free(w->cnt_root);
}

static int ws_init(ws *w, const pk_pc *pc, int backward)
{
    memset(w, 0, sizeof *w);
    size_t D = (size_t)pc->nvars, k = (size_t)pc->k;
    size_t n = D * CHUNK * k;
    w->E = malloc(n * sizeof(float));
    w->T = malloc(n * sizeof(float));
    w->U = malloc(n * sizeof(float));
    w->m = malloc(D * CHUNK * sizeof(float));
    if (backward) {
        w->FP = malloc(n * sizeof(float));
        w->cnt_theta = malloc(D * (size_t)pc->ncat * k * sizeof(double));
        w->cnt_w = malloc(D * k * k * sizeof(double));
        w->cnt_root = malloc(k * sizeof(double));
    }
    if (!w->E || !w->T || !w->U || !w->m || (backward && (!w->FP || !w->cnt_theta || !w->cnt_w || !w->cnt_root))) {
        ws_free(w);
        return PK_ENOMEM;
    }
    return PK_OK;
}

static void ws_zero_counts(ws *w, const pk_pc *pc)
{
    size_t D = (size_t)pc->nvars, k = (size_t)pc->k;
    memset(w->cnt_theta, 0, D * (size_t)pc->ncat * k * sizeof(double));
    memset(w->cnt_w, 0, D * k * k * sizeof(double));
    memset(w->cnt_root, 0, k * sizeof(double));
}

static int model_f_init(model_f *mf, const pk_pc *pc)
{
    size_t D = (size_t)pc->nvars, k = (size_t)pc->k, nc = (size_t)pc->ncat;
    mf->logthetaT = malloc(D * nc * k * sizeof(float));
    mf->wT = malloc(D * k * k * sizeof(float));
    if (!mf->logthetaT || !mf->wT) {
        free(mf->logthetaT), free(mf->wT);
        return PK_ENOMEM;
    }
    return PK_OK;
}

static void model_f_update(model_f *mf, const pk_pc *pc)
{
    size_t D = (size_t)pc->nvars, k = (size_t)pc->k, nc = (size_t)pc->ncat;
    for (size_t v = 0; v < D; v++) {
        const float *th = pc->theta + v * k * nc;
        float *lt = mf->logthetaT + v * nc * k;
        for (size_t j = 0; j < k; j++)
            for (size_t a = 0; a < nc; a++)
                lt[a * k + j] = th[j * nc + a] > 0 ? logf(th[j * nc + a]) : -INFINITY;
        const float *W = pc->weight + v * k * k;
        float *wt = mf->wT + v * k * k;
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < k; j++)
                wt[j * k + i] = W[i * k + j];
    }
}

/* log sum_j W[i][j] exp(lp[j]) in log space, for a sum node whose shifted
 * value underflowed to zero: with a dense W that cannot happen (the row's
 * best state has value 1), but in a block-diagonal mixture a whole block can
 * lie more than ~100 nats below the other blocks at one node and above them
 * elsewhere. wt is W transposed. */
static float sum_log(const float *lp, const float *wt, int k, int i)
{
    float mx = -INFINITY;
    for (int j = 0; j < k; j++)
        if (wt[(size_t)j * k + i] > 0 && lp[j] > mx)
            mx = lp[j];
    if (!(mx > -INFINITY))
        return -INFINITY;
    double s = 0;
    for (int j = 0; j < k; j++)
        if (wt[(size_t)j * k + i] > 0)
            s += (double)wt[(size_t)j * k + i] * exp((double)lp[j] - mx);
    return mx + (float)log(s);
}

/* Forward over rows [0, nb) of x (row stride D); ll[b] = log p(row b). */
static void forward(const pk_pc *pc, const model_f *mf, ws *w, const uint8_t *x, const uint8_t *mask, size_t nb,
                    double *ll)
{
    const int D = pc->nvars, k = pc->k, nc = pc->ncat;
    float lp[1024]; /* one row's product values before the shift (k <= 1024) */
    for (int t = D - 1; t >= 0; t--) {
        int v = pc->order[t];
        float *U = w->U + (size_t)v * CHUNK * k;
        const float *lt = mf->logthetaT + (size_t)v * nc * k;
        if (pc_is_leaf(pc, v)) {
            for (size_t b = 0; b < nb; b++) {
                float *u = U + b * k;
                if (mask && !mask[b * D + v])
                    memset(u, 0, sizeof(float) * (size_t)k);
                else
                    memcpy(u, lt + (size_t)x[b * D + v] * k, sizeof(float) * (size_t)k);
            }
            continue;
        }
        float *E = w->E + (size_t)v * CHUNK * k, *T = w->T + (size_t)v * CHUNK * k, *m = w->m + (size_t)v * CHUNK;
        const float *wt = mf->wT + (size_t)v * k * k;
        for (size_t b = 0; b < nb; b++) {
            float *e = E + b * k;
            if (mask && !mask[b * D + v])
                memset(e, 0, sizeof(float) * (size_t)k);
            else
                memcpy(e, lt + (size_t)x[b * D + v] * k, sizeof(float) * (size_t)k);
            for (int c = pc->child_start[v]; c < pc->child_start[v + 1]; c++) {
                const float *uc = w->U + (size_t)pc->children[c] * CHUNK * k + b * k;
                for (int j = 0; j < k; j++)
                    e[j] += uc[j];
            }
            float mx = -INFINITY;
            for (int j = 0; j < k; j++)
                mx = e[j] > mx ? e[j] : mx;
            if (!(mx > -INFINITY))
                mx = 0; /* impossible row: keep -inf downstream without NaN */
            m[b] = mx;
            memcpy(lp, e, sizeof(float) * (size_t)k);
            for (int j = 0; j < k; j++)
                e[j] = expf(e[j] - mx);
            if (v == pc->root) {
                double s = 0;
                for (int j = 0; j < k; j++)
                    s += (double)pc->root_w[j] * e[j];
                T[b * k] = (float)s;
                ll[b] = (double)mx + log(s);
                continue;
            }
            float *tr = T + b * k, *u = U + b * k;
            for (int i = 0; i < k; i++)
                tr[i] = 0;
            for (int j = 0; j < k; j++) { /* axpy form vectorises without reassociation */
                float ej = e[j];
                const float *row = wt + (size_t)j * k;
                for (int i = 0; i < k; i++)
                    tr[i] += ej * row[i];
            }
            for (int i = 0; i < k; i++)
                u[i] = tr[i] > 0 ? mx + logf(tr[i]) : sum_log(lp, wt, k, i);
        }
    }
}

/* Backward (flows) after forward on complete rows; adds to w's counts. */
static void backward(const pk_pc *pc, ws *w, const uint8_t *x, size_t nb)
{
    const int D = pc->nvars, k = pc->k, nc = pc->ncat;
    float R[1024];
    for (int t = 0; t < D; t++) {
        int v = pc->order[t], p = pc->parent[v];
        double *ct = w->cnt_theta + (size_t)v * nc * k;
        const float *Fin = p >= 0 ? w->FP + (size_t)p * CHUNK * k : NULL;
        if (pc_is_leaf(pc, v)) { /* U_v[i] is input node i: its count is the flow into it */
            for (size_t b = 0; b < nb; b++) {
                double *c = ct + (size_t)x[b * D + v] * k;
                const float *f = Fin + b * k;
                for (int j = 0; j < k; j++)
                    c[j] += f[j];
            }
            continue;
        }
        const float *E = w->E + (size_t)v * CHUNK * k, *T = w->T + (size_t)v * CHUNK * k;
        float *FP = w->FP + (size_t)v * CHUNK * k;
        const float *W = pc->weight + (size_t)v * k * k;
        double *cw = w->cnt_w + (size_t)v * k * k;
        for (size_t b = 0; b < nb; b++) {
            const float *e = E + b * k;
            float *fp = FP + b * k;
            if (v == pc->root) {
                float r = 1.0f / T[b * k];
                for (int j = 0; j < k; j++) {
                    fp[j] = pc->root_w[j] * e[j] * r;
                    w->cnt_root[j] += fp[j];
                }
            } else {
                const float *f = Fin + b * k, *tr = T + b * k;
                for (int i = 0; i < k; i++)
                    R[i] = tr[i] > 0 ? f[i] / tr[i] : 0; /* a zero-valued sum node gets no flow (block-diagonal mixtures) */
                for (int j = 0; j < k; j++)
                    fp[j] = 0;
                for (int i = 0; i < k; i++) {
                    float ri = R[i];
                    const float *wr = W + (size_t)i * k;
                    double *cr = cw + (size_t)i * k;
                    for (int j = 0; j < k; j++)
                        fp[j] += ri * wr[j];
                    for (int j = 0; j < k; j++) /* times W below, once per batch */
                        cr[j] += (double)(ri * e[j]);
                }
                for (int j = 0; j < k; j++)
                    fp[j] *= e[j];
            }
            double *c = ct + (size_t)x[b * D + v] * k;
            for (int j = 0; j < k; j++)
                c[j] += fp[j];
        }
    }
}

/* Run forward (and backward) over n rows with all threads; counts are summed
 * into the first workspace.  Returns the sum of log-likelihoods in *llsum and
 * per-row values in ll (may be NULL). */
static int run_pass(const pk_pc *pc, const model_f *mf, ws *wss, int nth, const uint8_t *x, const uint8_t *mask,
                    const size_t *rows, size_t n, int back, double *ll, double *llsum)
{
    const size_t D = (size_t)pc->nvars, k = (size_t)pc->k;
    double total = 0;
    int failed = 0;
PC_OMP(omp parallel num_threads(nth) reduction(+ : total))
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        ws *w = &wss[tid];
        uint8_t *xb = malloc(CHUNK * D), *mb = mask ? malloc(CHUNK * D) : NULL;
        double llb[CHUNK];
        if (!xb || (mask && !mb)) {
PC_OMP(omp atomic write)
            failed = 1;
        }
        if (back && w->cnt_theta)
            ws_zero_counts(w, pc);
        size_t nchunks = (n + CHUNK - 1) / CHUNK;
PC_OMP(omp for schedule(dynamic, 1))
        for (size_t ch = 0; ch < nchunks; ch++) {
            if (!xb || (mask && !mb))
                continue;
            size_t lo = ch * CHUNK, nb = n - lo < CHUNK ? n - lo : CHUNK;
            for (size_t b = 0; b < nb; b++) {
                size_t r = rows ? rows[lo + b] : lo + b;
                memcpy(xb + b * D, x + r * D, D);
                if (mask)
                    memcpy(mb + b * D, mask + r * D, D);
            }
            forward(pc, mf, w, xb, mb, nb, llb);
            for (size_t b = 0; b < nb; b++) {
                total += llb[b];
                if (ll)
                    ll[lo + b] = llb[b];
            }
            if (back)
                backward(pc, w, xb, nb);
        }
        free(xb);
        free(mb);
    }
    if (failed)
        return PK_ENOMEM;
    if (back)
        for (int t = 1; t < nth; t++) {
            size_t nt = (size_t)pc->nvars * (size_t)pc->ncat * k, nw = D * k * k;
            for (size_t i = 0; i < nt; i++)
                wss[0].cnt_theta[i] += wss[t].cnt_theta[i];
            for (size_t i = 0; i < nw; i++)
                wss[0].cnt_w[i] += wss[t].cnt_w[i];
            for (size_t i = 0; i < k; i++)
                wss[0].cnt_root[i] += wss[t].cnt_root[i];
        }
    *llsum = total;
    return PK_OK;
}

/* Shrinkage targets for the M-step (NULL / 0 = none).  q_theta[v][a] is
 * pixel v's marginal over all training rows (blurred and smoothed like the
 * input nodes); a_theta and a_w are prior strengths in rows of the current
 * count batch. */
typedef struct shrink {
    const double *q_theta; /* [D][ncat] */
    double a_theta, a_w;
    int interior; /* shrink only the shape over values 1..ncat-2 */
} shrink;

/* M-step: parameters <- inertia * old + (1 - inertia) * smoothed MLE.
 * With sigma > 0 each input node's expected counts are blurred along the
 * value axis first (interior values 1..nc-2 only, edges repeated; the
 * saturated values 0 and nc-1 keep their counts): neighbouring intensities
 * share statistics, which a 256-way categorical cannot learn from few
 * examples.  With shrinkage, a row's estimate is the posterior mean under a
 * Dirichlet prior centred on the pooled distribution (the pixel's marginal
 * for input nodes, the layer's average row for sum weights), so a latent
 * state seen in few rows borrows the pixel's distribution instead of the
 * uniform one: (c + pseudo/n + a q) / (s + pseudo + a). */
static void m_step(pk_pc *pc, const ws *w, double pseudo, double sigma, double inertia, const shrink *sh)
{
    const size_t D = (size_t)pc->nvars, k = (size_t)pc->k, nc = (size_t)pc->ncat;
    double tmp[1024], col[1024], g[129], cb[256], cs[256];
    int r = nc > 2 && sigma > 0 ? pc_gauss_taps(sigma, 64, g) : -1;
    const double at = sh && sh->q_theta ? sh->a_theta : 0, aw = sh ? sh->a_w : 0;
    for (size_t v = 0; v < D; v++) {
        const double *ct = w->cnt_theta + v * nc * k;
        const double *q = at > 0 ? sh->q_theta + v * nc : NULL;
        double qi = 0; /* the marginal's interior mass */
        for (size_t a = 1; q && a + 1 < nc; a++)
            qi += q[a];
        if (q && sh->interior && !(qi > 0))
            q = NULL;
        float *th = pc->theta + v * k * nc;
        for (size_t j = 0; j < k; j++) {
            for (size_t a = 0; a < nc; a++)
                cb[a] = ct[a * k + j];
            if (r >= 0) {
                pc_blur1d(cb, cs, 1, (int)nc - 1, g, r);
                memcpy(cb + 1, cs + 1, sizeof(double) * (nc - 2));
            }
            /* Normalise what was blurred: repeating the edge values does not keep the total. */
            double s = 0;
            for (size_t a = 0; a < nc; a++)
                s += cb[a];
            if (q && sh->interior && nc > 2) {
                /* The state keeps its own masses on 0, ncat-1 and the interior;
                 * only how the interior mass spreads over values is shrunk. */
                double si = s - cb[0] - cb[nc - 1], pi = pseudo * (double)(nc - 2) / (double)nc;
                double mass = s + pseudo > 0 ? (si + pi) / (s + pseudo) : 0, dint = si + pi + at;
                for (size_t a = 0; a < nc; a++) {
                    double nw;
                    if (s + pseudo <= 0)
                        nw = th[j * nc + a];
                    else if (a == 0 || a == nc - 1)
                        nw = (cb[a] + pseudo / (double)nc) / (s + pseudo);
                    else
                        nw = mass * (cb[a] + pseudo / (double)nc + at * q[a] / qi) / dint;
                    th[j * nc + a] = (float)(inertia * th[j * nc + a] + (1 - inertia) * nw);
                }
                continue;
            }
            double den = s + pseudo + at;
            for (size_t a = 0; a < nc; a++) {
                double nw = den > 0 ? (cb[a] + pseudo / (double)nc + (q ? at * q[a] : 0)) / den : th[j * nc + a];
                th[j * nc + a] = (float)(inertia * th[j * nc + a] + (1 - inertia) * nw);
            }
        }
        if ((int)v == pc->root || pc_is_leaf(pc, (int)v))
            continue;
        float *W = pc->weight + v * k * k;
        const double *cw = w->cnt_w + v * k * k;
        double tot = 0;
        if (aw > 0) {
            for (size_t j = 0; j < k; j++)
                col[j] = 0;
            for (size_t i = 0; i < k; i++)
                for (size_t j = 0; j < k; j++)
                    col[j] += cw[i * k + j] * W[i * k + j];
            for (size_t j = 0; j < k; j++)
                tot += col[j];
        }
        const double awv = aw > 0 && tot > 0 ? aw : 0;
        for (size_t i = 0; i < k; i++) {
            /* A zero weight is structural (EM's multiplicative update keeps it
             * zero; mixtures of HCLTs are block-diagonal): the pseudocount and
             * the shrinkage target are spread over the row's support only. */
            double s = 0, qs = 0;
            size_t nz = 0;
            for (size_t j = 0; j < k; j++) {
                tmp[j] = cw[i * k + j] * W[i * k + j];
                s += tmp[j];
                if (W[i * k + j] != 0) {
                    nz++;
                    qs += awv > 0 ? col[j] / tot : 0;
                }
            }
            if (nz == 0)
                continue;
            double den = s + pseudo + awv * qs;
            for (size_t j = 0; j < k; j++) {
                if (W[i * k + j] == 0)
                    continue;
                double nw = den > 0 ? (tmp[j] + pseudo / (double)nz + (awv > 0 ? awv * col[j] / tot : 0)) / den
                                    : W[i * k + j];
                W[i * k + j] = (float)(inertia * W[i * k + j] + (1 - inertia) * nw);
            }
        }
    }
    double s = 0;
    for (size_t j = 0; j < k; j++)
        s += w->cnt_root[j];
    for (size_t j = 0; j < k; j++) {
        double nw = s + pseudo > 0 ? (w->cnt_root[j] + pseudo / (double)k) / (s + pseudo) : pc->root_w[j];
        pc->root_w[j] = (float)(inertia * pc->root_w[j] + (1 - inertia) * nw);
    }
}

/* Pixel marginals over all n rows for input-node shrinkage: counts blurred
 * along intensity like the input nodes' counts, plus the EM pseudocount. */
static double *pixel_marginals(const pk_pc *pc, const uint8_t *x, size_t n, double pseudo, double sigma)
{
    const size_t D = (size_t)pc->nvars, nc = (size_t)pc->ncat;
    double *q = calloc(D * nc, sizeof(double)), g[129], cs[256];
    if (!q)
        return NULL;
    for (size_t i = 0; i < n; i++)
        for (size_t v = 0; v < D; v++)
            q[v * nc + x[i * D + v]] += 1;
    int r = nc > 2 && sigma > 0 ? pc_gauss_taps(sigma, 64, g) : -1;
    for (size_t v = 0; v < D; v++) {
        double *c = q + v * nc, s = 0;
        if (r >= 0) {
            pc_blur1d(c, cs, 1, (int)nc - 1, g, r);
            memcpy(c + 1, cs + 1, sizeof(double) * (nc - 2));
        }
        for (size_t a = 0; a < nc; a++)
            s += c[a];
        for (size_t a = 0; a < nc; a++)
            c[a] = s + pseudo > 0 ? (c[a] + pseudo / (double)nc) / (s + pseudo) : 1.0 / (double)nc;
    }
    return q;
}

static int nthreads(size_t n)
{
    int nt = 1;
#ifdef _OPENMP
    nt = omp_get_max_threads();
#endif
    size_t chunks = (n + CHUNK - 1) / CHUNK;
    if ((size_t)nt > chunks)
        nt = (int)(chunks ? chunks : 1);
    return nt;
}

static int check_rows(const pk_pc *pc, const uint8_t *x, size_t n, pk_err *err)
{
    for (size_t i = 0; i < n * (size_t)pc->nvars; i++)
        if (x[i] >= pc->ncat)
            return pk_err_set(err, PK_EINVAL, "row %zu variable %zu holds %u, not below %d categories",
                              i / (size_t)pc->nvars, i % (size_t)pc->nvars, x[i], pc->ncat);
    return PK_OK;
}

typedef struct em_ctx {
    model_f mf;
    ws *wss;
    int nth;
} em_ctx;

static void em_ctx_free(em_ctx *c)
{
    if (c->wss)
        for (int t = 0; t < c->nth; t++)
            ws_free(&c->wss[t]);
    free(c->wss);
    free(c->mf.logthetaT);
    free(c->mf.wT);
}

static int em_ctx_init(em_ctx *c, const pk_pc *pc, size_t n, int back)
{
    memset(c, 0, sizeof *c);
    if (pc->k > 1024)
        return PK_EINVAL;
    c->nth = nthreads(n);
    if (model_f_init(&c->mf, pc))
        return PK_ENOMEM;
    c->wss = calloc((size_t)c->nth, sizeof(ws));
    if (!c->wss) {
        em_ctx_free(c);
        return PK_ENOMEM;
    }
    for (int t = 0; t < c->nth; t++)
        if (ws_init(&c->wss[t], pc, back)) {
            c->nth = t;
            em_ctx_free(c);
            return PK_ENOMEM;
        }
    model_f_update(&c->mf, pc);
    return PK_OK;
}

int pk_pc_loglik(const pk_pc *pc, const uint8_t *x, const uint8_t *mask, size_t n, double *out, pk_err *err)
{
    if (!pc || !x || !out)
        return pk_err_set(err, PK_EINVAL, "pk_pc_loglik: NULL argument");
    if (n == 0)
        return PK_OK;
    int st = check_rows(pc, x, n, err);
    if (st)
        return st;
    em_ctx c;
    if (em_ctx_init(&c, pc, n, 0))
        return pk_err_set(err, PK_ENOMEM, "out of memory evaluating the circuit");
    double tot;
    st = run_pass(pc, &c.mf, c.wss, c.nth, x, mask, NULL, n, 0, out, &tot);
    em_ctx_free(&c);
    return st ? pk_err_set(err, st, "out of memory evaluating the circuit") : PK_OK;
}

int pk_pc_bpd(const pk_pc *pc, const uint8_t *x, size_t n, double *bpd, pk_err *err)
{
    double *ll = malloc(sizeof(double) * (n ? n : 1));
    if (!ll)
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    int st = pk_pc_loglik(pc, x, NULL, n, ll, err);
    if (!st) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += ll[i];
        *bpd = -s / ((double)n * pc->nvars * log(2.0));
    }
    free(ll);
    return st;
}

pk_pc_em_params pk_pc_em_params_default(void)
{
    pk_pc_em_params p = {5, 2, 512, 0.1, 0.2, 0.9, 1, 0.0, 0.0, 0.0, 0};
    return p;
}

int pk_pc_em_params_check(const pk_pc_em_params *p, pk_err *err)
{
    if (p->epochs_mini < 0 || p->epochs_full < 0)
        return pk_err_set(err, PK_EINVAL, "epoch counts must be >= 0");
    if (p->batch_size < 1)
        return pk_err_set(err, PK_EINVAL, "batch_size must be >= 1");
    if (!(p->pseudocount >= 0) || !isfinite(p->pseudocount))
        return pk_err_set(err, PK_EINVAL, "pseudocount must be finite and >= 0");
    if (!(p->inertia_start >= 0 && p->inertia_start < 1) || !(p->inertia_end >= 0 && p->inertia_end < 1))
        return pk_err_set(err, PK_EINVAL, "inertia must be in [0, 1)");
    if (!(p->theta_sigma >= 0 && p->theta_sigma <= 16))
        return pk_err_set(err, PK_EINVAL, "theta_sigma = %g: must be in [0, 16]", p->theta_sigma);
    if (!(p->theta_shrink >= 0 && p->theta_shrink <= 1e9))
        return pk_err_set(err, PK_EINVAL, "theta_shrink = %g: must be in [0, 1e9]", p->theta_shrink);
    if (!(p->weight_shrink >= 0 && p->weight_shrink <= 1e9))
        return pk_err_set(err, PK_EINVAL, "weight_shrink = %g: must be in [0, 1e9]", p->weight_shrink);
    return PK_OK;
}

int pk_pc_em_full_step(pk_pc *pc, const uint8_t *x, size_t n, double pseudocount, double *ll_before, pk_err *err)
{
    if (!pc || !x || n == 0 || !(pseudocount >= 0))
        return pk_err_set(err, PK_EINVAL, "pk_pc_em_full_step: bad argument");
    int st = check_rows(pc, x, n, err);
    if (st)
        return st;
    em_ctx c;
    if (em_ctx_init(&c, pc, n, 1))
        return pk_err_set(err, PK_ENOMEM, "out of memory for EM");
    double tot;
    st = run_pass(pc, &c.mf, c.wss, c.nth, x, NULL, NULL, n, 1, NULL, &tot);
    if (!st) {
        pc->qstep = 0, pc->qlevels = 0;
        m_step(pc, &c.wss[0], pseudocount, 0.0, 0.0, NULL);
        if (ll_before)
            *ll_before = tot / (double)n;
    }
    em_ctx_free(&c);
    return st ? pk_err_set(err, st, "out of memory in EM") : PK_OK;
}

int pk_pc_em(pk_pc *pc, const uint8_t *x, size_t n, const pk_pc_em_params *p, pk_rng *rng, pk_pc_epoch_fn cb,
             void *user, pk_err *err)
{
    int st = pk_pc_em_params_check(p, err);
    if (st)
        return st;
    if (!pc || !x || n == 0)
        return pk_err_set(err, PK_EINVAL, "EM needs at least one row");
    if (p->shuffle && p->epochs_mini > 0 && !rng)
        return pk_err_set(err, PK_EINVAL, "shuffled mini-batch EM needs an rng");
    if ((st = check_rows(pc, x, n, err)))
        return st;
    size_t bs = p->batch_size < n ? p->batch_size : n;
    pc->qstep = 0, pc->qlevels = 0; /* the parameters leave the quantisation grid */
    em_ctx c;
    if (em_ctx_init(&c, pc, bs, 1))
        return pk_err_set(err, PK_ENOMEM, "out of memory for EM");
    size_t *perm = malloc(sizeof(size_t) * n);
    if (!perm) {
        em_ctx_free(&c);
        return pk_err_set(err, PK_ENOMEM, "out of memory for EM");
    }
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    /* Prior strengths are given in rows of the whole training set; a
     * mini-batch estimate stands in for the full-batch one, so its prior is
     * scaled by the batch's share of the rows. */
    shrink sh = {NULL, 0, p->weight_shrink, p->shrink_interior};
    if (p->theta_shrink > 0 && !(sh.q_theta = pixel_marginals(pc, x, n, p->pseudocount, p->theta_sigma))) {
        em_ctx_free(&c);
        free(perm);
        return pk_err_set(err, PK_ENOMEM, "out of memory for EM");
    }
    sh.a_theta = p->theta_shrink;
    const double scale = -1.0 / ((double)pc->nvars * log(2.0));
    size_t nbatches = (n + bs - 1) / bs, steps = (size_t)p->epochs_mini * nbatches, step = 0;
    int stop = 0;
    for (int ep = 0; ep < p->epochs_mini && !st && !stop; ep++) {
        if (p->shuffle)
            pk_rng_shuffle(rng, perm, n, sizeof(size_t));
        double epoch_ll = 0;
        for (size_t b = 0; b < nbatches && !st; b++, step++) {
            size_t lo = b * bs, nb = n - lo < bs ? n - lo : bs;
            double tot;
            st = run_pass(pc, &c.mf, c.wss, c.nth, x, NULL, perm + lo, nb, 1, NULL, &tot);
            if (st)
                break;
            epoch_ll += tot;
            double frac = steps > 1 ? (double)step / (double)(steps - 1) : 1.0;
            shrink shb = {sh.q_theta, sh.a_theta * (double)nb / (double)n, sh.a_w * (double)nb / (double)n, sh.interior};
            m_step(pc, &c.wss[0], p->pseudocount, p->theta_sigma,
                   p->inertia_start + frac * (p->inertia_end - p->inertia_start), &shb);
            model_f_update(&c.mf, pc);
        }
        if (!st && cb)
            stop = cb(user, "mini", ep + 1, p->epochs_mini, epoch_ll / (double)n * scale);
    }
    em_ctx_free(&c);
    free(perm);
    if (!st && !stop && p->epochs_full > 0 && em_ctx_init(&c, pc, n, 1) == PK_OK) {
        for (int ep = 0; ep < p->epochs_full && !st && !stop; ep++) {
            double tot;
            st = run_pass(pc, &c.mf, c.wss, c.nth, x, NULL, NULL, n, 1, NULL, &tot);
            if (st)
                break;
            m_step(pc, &c.wss[0], p->pseudocount, p->theta_sigma, 0.0, &sh);
            model_f_update(&c.mf, pc);
            if (cb)
                stop = cb(user, "full", ep + 1, p->epochs_full, tot / (double)n * scale);
        }
        em_ctx_free(&c);
    } else if (!st && !stop && p->epochs_full > 0) {
        st = PK_ENOMEM;
    }
    free((double *)sh.q_theta);
    return st ? pk_err_set(err, st, "out of memory in EM") : PK_OK;
}
