/* greedy.c — TEAL's greedy sparsity allocation within each block, as the
 * WINA code runs it (wina/greedyopt.py): grow the sparsity of whichever input
 * costs the block least output error, in steps that remove the same number of
 * weight reads whichever matrix they hit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wina_internal.h"

static const double W_SITE[PK_WINA_SITES] = {3, 1, 4, 4}; /* matrix sizes in C^2 */

static double weighted(const double *s)
{
    double a = 0, w = 0;
    for (int i = 0; i < PK_WINA_SITES; i++) {
        a += W_SITE[i] * s[i];
        w += W_SITE[i];
    }
    return a / w;
}

/* Squared distance of block l's output on X (sparsities sp) from target; NAN on failure. */
static double block_err(pk_nn_ctx *ctx, const pk_wina_model *m, int l, const pk_nn_tensor *Xs, const float *X,
                        const float *target, const double *sp, pk_wina_method method, unsigned norm_sites,
                        int *status)
{
    pk_nn_ctx_reset(ctx);
    pk_nn_tensor *x = pk_nn_input_copy(ctx, Xs->ndim, Xs->shape, X);
    wina_run run = {method, norm_sites, NULL, 0, 0};
    pk_nn_tensor *y = wina_block(ctx, m, l, x, sp, &run);
    if (!y) {
        *status = run.status ? run.status : pk_nn_ctx_status(ctx) ? pk_nn_ctx_status(ctx) : PK_ENOMEM;
        return NAN;
    }
    double e = 0;
    for (int64_t i = 0; i < y->numel; i++) {
        double d = (double)y->data[i] - target[i];
        e += d * d;
    }
    return e;
}

int pk_wina_plan_greedy(const pk_wina_model *m, pk_wina_method method, unsigned norm_sites, const double *levels,
                        int n_levels, const int32_t *calib, int64_t B, int64_t T, double step, pk_wina_plan **out,
                        pk_err *err)
{
    if (!m || !levels || n_levels < 1 || !out || !calib || B < 1 || T < 1 || T > m->T)
        return pk_err_set(err, PK_EINVAL, "wina greedy: need a model, levels, calibration tokens (%lld x %lld, "
                          "context %d) and outputs", (long long)B, (long long)T, m ? m->T : 0);
    if (!(step > 0 && step < 1))
        return pk_err_set(err, PK_EINVAL, "wina greedy: step %g must be in (0, 1)", step);
    for (int i = 0; i < n_levels; i++)
        out[i] = NULL;
    for (int64_t i = 0; i < B * T; i++)
        if (calib[i] < 0 || calib[i] >= m->V)
            return pk_err_set(err, PK_EINVAL, "wina greedy: calibration token %lld is %d, outside [0, %d)",
                              (long long)i, (int)calib[i], m->V);
    int st = PK_OK;
    for (int i = 0; i < n_levels && !st; i++)
        if (!(st = pk_wina_plan_uniform(m, method, levels[i], &out[i], err)))
            out[i]->norm_sites = norm_sites;
    if (st || (method != PK_WINA_TEAL && method != PK_WINA_WINA))
        goto done;
    for (int i = 0; i < n_levels; i++)
        memset(out[i]->sparsity, 0, (size_t)m->L * PK_WINA_SITES * sizeof *out[i]->sparsity);
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    int64_t numel = B * T * m->C;
    float *X = malloc((size_t)numel * sizeof *X), *tgt = malloc((size_t)numel * sizeof *tgt);
    char *done_lv = malloc((size_t)n_levels);
    if (!ctx || !X || !tgt || !done_lv) {
        st = pk_err_set(err, PK_ENOMEM, "wina greedy: out of memory");
        goto cleanup;
    }
    pk_nn_ctx_set_grad(ctx, 0);
    pk_nn_ctx_set_train(ctx, 0);
    pk_nn_tensor *x0 = wina_embed(ctx, m, calib, B, T);
    if (!x0) {
        st = pk_err_set(err, pk_nn_ctx_status(ctx), "wina greedy: %s", pk_nn_ctx_error(ctx));
        goto cleanup;
    }
    pk_nn_tensor shape = *x0; /* only ndim / shape are used */
    memcpy(X, x0->data, (size_t)numel * sizeof *X);
    double zero[PK_WINA_SITES] = {0};
    for (int l = 0; l < m->L && !st; l++) {
        /* the dense block output: the target, and the next block's input */
        pk_nn_ctx_reset(ctx);
        wina_run run = {method, norm_sites, NULL, 0, 0};
        pk_nn_tensor *y = wina_block(ctx, m, l, pk_nn_input_copy(ctx, shape.ndim, shape.shape, X), zero, &run);
        if (!y) {
            st = pk_err_set(err, run.status ? run.status : PK_ENOMEM, "wina greedy: block %d failed", l);
            break;
        }
        memcpy(tgt, y->data, (size_t)numel * sizeof *tgt);
        double s[PK_WINA_SITES] = {0};
        memset(done_lv, 0, (size_t)n_levels);
        for (;;) {
            double ws = weighted(s);
            int left = 0;
            for (int i = 0; i < n_levels; i++) {
                if (!done_lv[i] && ws >= levels[i] - 1e-12) {
                    memcpy(out[i]->sparsity + l * PK_WINA_SITES, s, sizeof s);
                    done_lv[i] = 1;
                }
                left += !done_lv[i];
            }
            if (!left)
                break;
            int best = -1;
            double beste = INFINITY;
            for (int site = 0; site < PK_WINA_SITES; site++) {
                double trial[PK_WINA_SITES];
                memcpy(trial, s, sizeof s);
                trial[site] += step / W_SITE[site];
                if (trial[site] >= 0.995) /* keep at least a few inputs everywhere */
                    continue;
                double e = block_err(ctx, m, l, &shape, X, tgt, trial, method, norm_sites, &st);
                if (st) {
                    pk_err_set(err, st, "wina greedy: block %d failed", l);
                    goto cleanup;
                }
                if (e < beste) {
                    beste = e;
                    best = site;
                }
            }
            if (best < 0) { /* every site saturated: give the remaining levels this state */
                for (int i = 0; i < n_levels; i++)
                    if (!done_lv[i])
                        memcpy(out[i]->sparsity + l * PK_WINA_SITES, s, sizeof s);
                break;
            }
            s[best] += step / W_SITE[best];
        }
        memcpy(X, tgt, (size_t)numel * sizeof *X);
    }
cleanup:
    pk_nn_ctx_free(ctx);
    free(X);
    free(tgt);
    free(done_lv);
done:
    if (st)
        for (int i = 0; i < n_levels; i++) {
            pk_wina_plan_free(out[i]);
            out[i] = NULL;
        }
    return st;
}
