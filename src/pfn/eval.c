/* eval.c — how far a PFN's predictive is from the Bayes predictive of the
 * prior it was fitted to, on fresh data sets. */
#include <math.h>
#include <stdlib.h>

#include "pfn_priv.h"

#define LOG_SQRT_2PI 0.91893853320467274

static double normal_logpdf(double y, double m, double v) { return -LOG_SQRT_2PI - 0.5 * log(v) - 0.5 * (y - m) * (y - m) / v; }

/* Bayes PPD log densities at the queries for a hyperprior: importance
 * sampling with the hyperprior as proposal, weights p(D | h_s). */
static int hyper_ppd(const pk_pfn_prior *p, const double *X, const double *y, int n, const double *Xq,
                     const double *yq, int nq, int S, pk_rng *rng, double *lp, pk_err *err)
{
    double *lw = malloc((size_t)S * sizeof *lw), *lq = malloc((size_t)S * nq * sizeof *lq);
    double *mu = malloc((size_t)nq * sizeof *mu), *var = malloc((size_t)nq * sizeof *var);
    int st = PK_OK;
    if (!lw || !lq || !mu || !var) {
        st = pk_err_set(err, PK_ENOMEM, "pfn evaluate: out of memory");
        goto done;
    }
    for (int s = 0; s < S; s++) {
        pk_pfn_hyper h = pfn_draw_hyper(p, rng);
        lw[s] = 0;
        if (n > 0 && (st = pk_pfn_gp_log_marginal(&h, p->dim, X, y, (size_t)n, &lw[s], err)))
            goto done;
        if ((st = pk_pfn_gp_predict(&h, p->dim, X, y, (size_t)n, Xq, (size_t)nq, mu, var, err)))
            goto done;
        for (int q = 0; q < nq; q++)
            lq[(size_t)s * nq + q] = normal_logpdf(yq[q], mu[q], var[q]);
    }
    double mx = -INFINITY, z = 0;
    for (int s = 0; s < S; s++)
        mx = fmax(mx, lw[s]);
    for (int s = 0; s < S; s++)
        z += exp(lw[s] - mx);
    for (int q = 0; q < nq; q++) {
        double m2 = -INFINITY, acc = 0;
        for (int s = 0; s < S; s++)
            m2 = fmax(m2, lw[s] + lq[(size_t)s * nq + q]);
        for (int s = 0; s < S; s++)
            acc += exp(lw[s] + lq[(size_t)s * nq + q] - m2);
        lp[q] = m2 + log(acc) - (mx + log(z));
    }
done:
    free(lw);
    free(lq);
    free(mu);
    free(var);
    return st;
}

int pk_pfn_evaluate(const pk_pfn *m, const pk_pfn_prior *prior, const int *n_train, size_t k, int datasets,
                    int n_query, int is_samples, pk_rng *rng, pk_pfn_eval *out, pk_err *err)
{
    if (!m || !n_train || !out || !rng || datasets < 1 || n_query < 1 || n_query > 4096)
        return pk_err_set(err, PK_EINVAL, "pfn evaluate: need a model, n_train, >= 1 data set and 1..4096 queries");
    if (!prior && !(prior = pk_pfn_get_prior(m)))
        return pk_err_set(err, PK_EINVAL, "pfn evaluate: the model records no prior; pass one");
    int st = pk_pfn_prior_check(prior, err);
    if (st)
        return st;
    if (prior->dim != m->cfg.dim)
        return pk_err_set(err, PK_EINVAL, "pfn evaluate: prior has %d inputs, the network %d", prior->dim, m->cfg.dim);
    if (prior->kind == PK_PFN_GP_HYPER && (is_samples < 1 || is_samples > 10000000))
        return pk_err_set(err, PK_EINVAL, "pfn evaluate: is_samples %d must be in 1..1e7", is_samples);
    int nmax = 0;
    for (size_t i = 0; i < k; i++) {
        if (n_train[i] < 0 || n_train[i] >= 4096)
            return pk_err_set(err, PK_EINVAL, "pfn evaluate: n_train %d must be in 0..4095", n_train[i]);
        nmax = n_train[i] > nmax ? n_train[i] : nmax;
    }
    int d = prior->dim, T = nmax + n_query;
    double *X = malloc((size_t)T * d * sizeof *X), *y = malloc((size_t)T * sizeof *y);
    double *lp = malloc((size_t)n_query * sizeof *lp), *lr = malloc((size_t)n_query * sizeof *lr);
    double *mu = malloc((size_t)n_query * sizeof *mu), *var = malloc((size_t)n_query * sizeof *var);
    if (!X || !y || !lp || !lr || !mu || !var) {
        st = pk_err_set(err, PK_ENOMEM, "pfn evaluate: out of memory");
        goto done;
    }
    for (size_t i = 0; i < k; i++) {
        int n = n_train[i], tn = n + n_query;
        double sp = 0, sr = 0, sg = 0, sd = 0, sd2 = 0, tp = 0, tr = 0;
        for (int r = 0; r < datasets; r++) {
            pk_pfn_hyper h;
            if ((st = pk_pfn_prior_sample(prior, (size_t)tn, rng, X, y, &h, err)))
                goto done;
            const double *Xq = X + (size_t)n * d, *yq = y + n;
            double t0 = pk_time_now();
            if ((st = pk_pfn_predict(m, X, y, (size_t)n, Xq, (size_t)n_query, yq, lp, NULL, NULL, NULL, err)))
                goto done;
            double t1 = pk_time_now();
            if ((st = pk_pfn_gp_predict(&h, d, X, y, (size_t)n, Xq, (size_t)n_query, mu, var, err)))
                goto done;
            double t2 = pk_time_now();
            double dsum = 0, gsum = 0;
            if (prior->kind == PK_PFN_GP_HYPER) {
                if ((st = hyper_ppd(prior, X, y, n, Xq, yq, n_query, is_samples, rng, lr, err)))
                    goto done;
                t2 = pk_time_now();
            }
            for (int q = 0; q < n_query; q++) {
                double g = normal_logpdf(yq[q], mu[q], var[q]);
                if (prior->kind == PK_PFN_GP)
                    lr[q] = g;
                gsum -= g;
                sp -= lp[q], sr -= lr[q];
                dsum += lr[q] - lp[q];
            }
            sg += gsum;
            dsum /= n_query; /* per-data-set mean difference: the unit of the standard error */
            sd += dsum, sd2 += dsum * dsum;
            tp += t1 - t0, tr += t2 - t1;
        }
        double N = (double)datasets * n_query, md = sd / datasets;
        out[i].n_train = n;
        out[i].nll_pfn = sp / N;
        out[i].nll_ref = sr / N;
        out[i].nll_plugin = sg / N;
        out[i].se_diff = datasets > 1 ? sqrt(fmax(sd2 / datasets - md * md, 0.0) / (datasets - 1)) : NAN;
        out[i].sec_pfn = tp / datasets;
        out[i].sec_ref = tr / datasets;
    }
done:
    free(X);
    free(y);
    free(lp);
    free(lr);
    free(mu);
    free(var);
    return st;
}
