/* episode.c — sampling few-shot tasks from a labelled feature pool and
 * scoring methods on the same tasks (balanced, or with Dirichlet-drawn
 * query proportions as in the "realistic" transductive benchmarks). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/fewshot.h"

void pk_fewshot_episode_free(pk_fewshot_episode *e)
{
    if (!e)
        return;
    free(e->support_idx), free(e->support_y), free(e->query_idx), free(e->query_y), free(e->classes);
    free(e);
}

int pk_fewshot_episode_sample(const int32_t *labels, size_t n, const int32_t *classes, size_t n_classes,
                              const pk_fewshot_episode_params *ep, pk_rng *rng, pk_fewshot_episode **out,
                              pk_err *err)
{
    if (!out || !labels || !classes || !ep || !rng)
        return pk_err_set(err, PK_EINVAL, "fewshot episode: NULL argument");
    *out = NULL;
    if (ep->ways < 2 || ep->ways > n_classes)
        return pk_err_set(err, PK_EINVAL, "fewshot episode: ways %zu must be in [2, %zu]", ep->ways, n_classes);
    if (ep->shots < 1 || ep->queries < 1)
        return pk_err_set(err, PK_EINVAL, "fewshot episode: shots and queries must be >= 1");
    if (!(ep->dirichlet >= 0) || !isfinite(ep->dirichlet))
        return pk_err_set(err, PK_EINVAL, "fewshot episode: dirichlet must be >= 0");
    size_t W = ep->ways, nq_tot = W * ep->queries;
    pk_fewshot_episode *e = calloc(1, sizeof *e);
    size_t *cls = malloc(n_classes * sizeof *cls), *nq = calloc(W, sizeof *nq), *pool = malloc(n * sizeof *pool);
    double *prop = malloc(W * sizeof *prop);
    uint64_t *cnt = malloc(W * sizeof *cnt);
    if (e) {
        e->support_idx = malloc(W * ep->shots * sizeof *e->support_idx);
        e->support_y = malloc(W * ep->shots * sizeof *e->support_y);
        e->query_idx = malloc(nq_tot * sizeof *e->query_idx);
        e->query_y = malloc(nq_tot * sizeof *e->query_y);
        e->classes = malloc(W * sizeof *e->classes);
    }
    int st = PK_OK;
    if (!e || !cls || !nq || !pool || !prop || !cnt || !e->support_idx || !e->support_y || !e->query_idx ||
        !e->query_y || !e->classes) {
        st = pk_err_set(err, PK_ENOMEM, "fewshot episode: out of memory");
        goto done;
    }
    /* ways classes without replacement: a partial Fisher-Yates over the class list */
    for (size_t i = 0; i < n_classes; i++)
        cls[i] = i;
    for (size_t i = 0; i < W; i++) {
        size_t j = i + (size_t)pk_rng_below(rng, n_classes - i);
        size_t tmp = cls[i];
        cls[i] = cls[j], cls[j] = tmp;
        e->classes[i] = classes[cls[i]];
    }
    if (ep->dirichlet > 0) {
        for (size_t c = 0; c < W; c++)
            prop[c] = ep->dirichlet;
        pk_rng_dirichlet(rng, prop, W, prop);
        pk_rng_multinomial(rng, nq_tot, prop, W, cnt);
        for (size_t c = 0; c < W; c++)
            nq[c] = (size_t)cnt[c];
    } else {
        for (size_t c = 0; c < W; c++)
            nq[c] = ep->queries;
    }
    for (size_t c = 0; c < W; c++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (labels[i] == e->classes[c])
                pool[m++] = i;
        size_t need = ep->shots + nq[c];
        if (m < need) {
            st = pk_err_set(err, PK_EINVAL, "fewshot episode: class %d has %zu rows, needs %zu", (int)e->classes[c], m,
                            need);
            goto done;
        }
        for (size_t i = 0; i < need; i++) {
            size_t j = i + (size_t)pk_rng_below(rng, m - i);
            size_t tmp = pool[i];
            pool[i] = pool[j], pool[j] = tmp;
        }
        for (size_t i = 0; i < ep->shots; i++) {
            e->support_idx[e->n_support] = pool[i];
            e->support_y[e->n_support++] = (int32_t)c;
        }
        for (size_t i = 0; i < nq[c]; i++) {
            e->query_idx[e->n_query] = pool[ep->shots + i];
            e->query_y[e->n_query++] = (int32_t)c;
        }
    }
done:
    free(cls), free(nq), free(pool), free(prop), free(cnt);
    if (st) {
        pk_fewshot_episode_free(e);
        return st;
    }
    *out = e;
    return PK_OK;
}

int pk_fewshot_evaluate(const pk_mat *F, const int32_t *labels, const int32_t *classes, size_t n_classes,
                        const pk_fewshot_episode_params *ep, const pk_fewshot_params *methods, size_t n_methods,
                        size_t n_episodes, pk_rng *rng, double *acc_mean, double *acc_ci95, double *acc_all,
                        pk_err *err)
{
    if (!F || !labels || !methods || !acc_mean || n_methods == 0 || n_episodes == 0)
        return pk_err_set(err, PK_EINVAL, "fewshot evaluate: NULL argument or nothing to do");
    size_t d = F->cols;
    double *s1 = calloc(n_methods, sizeof *s1), *s2 = calloc(n_methods, sizeof *s2);
    size_t cap = ep->ways * (ep->shots + ep->queries); /* Dirichlet draws keep the total */
    double *S = malloc(cap * d * sizeof *S), *Q = malloc(cap * d * sizeof *Q);
    int st = PK_OK;
    if (!s1 || !s2 || !S || !Q) {
        st = pk_err_set(err, PK_ENOMEM, "fewshot evaluate: out of memory");
        goto done;
    }
    for (size_t e = 0; e < n_episodes && !st; e++) {
        pk_fewshot_episode *ep_ = NULL;
        st = pk_fewshot_episode_sample(labels, F->rows, classes, n_classes, ep, rng, &ep_, err);
        if (st)
            break;
        for (size_t i = 0; i < ep_->n_support; i++)
            memcpy(S + i * d, pk_mat_at(F, ep_->support_idx[i], 0), d * sizeof *S);
        for (size_t i = 0; i < ep_->n_query; i++)
            memcpy(Q + i * d, pk_mat_at(F, ep_->query_idx[i], 0), d * sizeof *Q);
        pk_mat Sv = pk_mat_view(S, ep_->n_support, d), Qv = pk_mat_view(Q, ep_->n_query, d);
        for (size_t m = 0; m < n_methods && !st; m++) {
            pk_fewshot_result *r = NULL;
            st = pk_fewshot_predict(&Sv, ep_->support_y, ep->ways, &Qv, &methods[m], &r, err);
            if (st)
                break;
            size_t ok = 0;
            for (size_t q = 0; q < ep_->n_query; q++)
                ok += r->labels[q] == ep_->query_y[q];
            double a = (double)ok / (double)ep_->n_query;
            s1[m] += a, s2[m] += a * a;
            if (acc_all)
                acc_all[m * n_episodes + e] = a;
            pk_fewshot_result_free(r);
        }
        pk_fewshot_episode_free(ep_);
    }
    if (!st)
        for (size_t m = 0; m < n_methods; m++) {
            double mu = s1[m] / (double)n_episodes;
            double var = n_episodes > 1 ? fmax(0, (s2[m] - n_episodes * mu * mu) / (double)(n_episodes - 1)) : 0;
            acc_mean[m] = mu;
            if (acc_ci95)
                acc_ci95[m] = 1.96 * sqrt(var / (double)n_episodes);
        }
done:
    free(s1), free(s2), free(S), free(Q);
    return st;
}
