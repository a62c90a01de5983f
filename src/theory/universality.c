/* The Bayesian mixture learner of "The Universality Lens" on a finite class. */
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/theory.h"

void pk_hclass_free(pk_hclass *c)
{
    if (!c)
        return;
    free(c->probs);
    free(c->logw);
    free(c);
}

static double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)); }

int pk_hclass_product_grid(size_t m, size_t G, double scale, pk_hclass **out)
{
    *out = NULL;
    if (m < 1 || G < 2 || !isfinite(scale))
        return PK_EINVAL;
    size_t H = 1;
    for (size_t i = 0; i < m; i++) {
        H *= G;
        if (H > ((size_t)1 << 26))
            return PK_EINVAL;
    }
    pk_hclass *c = calloc(1, sizeof *c);
    if (!c)
        return PK_ENOMEM;
    c->H = H;
    c->K = 2;
    c->probs = malloc(2 * H * sizeof *c->probs);
    c->logw = malloc(H * sizeof *c->logw);
    if (!c->probs || !c->logw) {
        pk_hclass_free(c);
        return PK_ENOMEM;
    }
    for (size_t h = 0; h < H; h++) {
        size_t r = h;
        double prod = 1.0;
        for (size_t i = 0; i < m; i++) {
            prod *= -1.0 + 2.0 * (double)(r % G) / (double)(G - 1);
            r /= G;
        }
        double p = sigmoid(scale * prod);
        c->probs[2 * h] = 1.0 - p;
        c->probs[2 * h + 1] = p;
        c->logw[h] = -log((double)H);
    }
    *out = c;
    return PK_OK;
}

double pk_kl_discrete(const double *p, const double *q, size_t K)
{
    double d = 0;
    for (size_t a = 0; a < K; a++) {
        if (p[a] <= 0)
            continue;
        if (q[a] <= 0)
            return INFINITY;
        d += p[a] * log(p[a] / q[a]);
    }
    return d > 0 ? d : 0.0;
}

double pk_hclass_weight(const pk_hclass *c, const double *p0, double eps)
{
    double w = 0;
    for (size_t h = 0; h < c->H; h++)
        if (pk_kl_discrete(p0, c->probs + h * c->K, c->K) <= eps)
            w += exp(c->logw[h]);
    return w;
}

typedef struct kl_w {
    double kl, w;
} kl_w;

static int cmp_kl(const void *a, const void *b)
{
    double x = ((const kl_w *)a)->kl, y = ((const kl_w *)b)->kl;
    return (x > y) - (x < y);
}

double pk_hclass_regret_bound(const pk_hclass *c, const double *p0, size_t n, double *eps_star)
{
    /* W_eps is a step function jumping at each hypothesis' KL, so the minimum
     * over eps is attained at one of those values. */
    kl_w *v = malloc(c->H * sizeof *v);
    if (!v)
        return NAN;
    for (size_t h = 0; h < c->H; h++) {
        v[h].kl = pk_kl_discrete(p0, c->probs + h * c->K, c->K);
        v[h].w = exp(c->logw[h]);
    }
    qsort(v, c->H, sizeof *v, cmp_kl);
    double best = INFINITY, W = 0, arg = NAN;
    for (size_t h = 0; h < c->H; h++) {
        W += v[h].w;
        if (h + 1 < c->H && v[h + 1].kl == v[h].kl)
            continue; /* include every hypothesis at this KL before evaluating */
        if (!isfinite(v[h].kl))
            break;
        double b = -log(W) + (double)n * v[h].kl;
        if (b < best) {
            best = b;
            arg = v[h].kl;
        }
    }
    free(v);
    if (eps_star)
        *eps_star = arg;
    return best;
}

int pk_hclass_regret_exact(const pk_hclass *c, double p1, size_t n, double *regret)
{
    if (c->K != 2 || !(p1 > 0 && p1 < 1))
        return PK_EINVAL;
    double *lq = malloc(c->H * sizeof *lq), *l1 = malloc(c->H * sizeof *l1), *l0 = malloc(c->H * sizeof *l0);
    if (!lq || !l1 || !l0) {
        free(lq);
        free(l1);
        free(l0);
        return PK_ENOMEM;
    }
    for (size_t h = 0; h < c->H; h++) {
        l0[h] = log(c->probs[2 * h]);
        l1[h] = log(c->probs[2 * h + 1]);
    }
    double D = 0, lp1 = log(p1), lp0 = log1p(-p1);
    for (size_t k = 0; k <= n; k++) {
        /* log Q(x^n) for any sequence with k ones */
        for (size_t h = 0; h < c->H; h++)
            lq[h] = c->logw[h] + (double)k * l1[h] + (double)(n - k) * l0[h];
        double logQ = pk_logsumexp(lq, c->H, 1);
        double logP = (double)k * lp1 + (double)(n - k) * lp0;
        double lprob_k = gsl_sf_lnchoose((unsigned)n, (unsigned)k) + logP; /* P(K = k) */
        D += exp(lprob_k) * (logP - logQ);
    }
    free(lq);
    free(l1);
    free(l0);
    *regret = D > 0 ? D : 0.0;
    return PK_OK;
}

int pk_hclass_predict(const pk_hclass *c, const double *counts, double *pred)
{
    double *lw = malloc(c->H * sizeof *lw);
    if (!lw)
        return PK_ENOMEM;
    for (size_t h = 0; h < c->H; h++) {
        lw[h] = c->logw[h];
        for (size_t a = 0; a < c->K; a++)
            if (counts[a] > 0)
                lw[h] += counts[a] * log(c->probs[h * c->K + a]);
    }
    double l = pk_logsumexp(lw, c->H, 1);
    for (size_t a = 0; a < c->K; a++)
        pred[a] = 0;
    for (size_t h = 0; h < c->H; h++) {
        double w = exp(lw[h] - l);
        for (size_t a = 0; a < c->K; a++)
            pred[a] += w * c->probs[h * c->K + a];
    }
    free(lw);
    return PK_OK;
}

int pk_sgld_product_predict(size_t m, double scale, size_t k, size_t n, size_t chains, size_t iters, size_t batch,
                            double step, pk_rng *rng, double *p1)
{
    if (m < 1 || k > n || chains < 1 || iters < 2 || !(step > 0) || m > 64)
        return PK_EINVAL;
    if (batch < 1 || batch > n)
        batch = n ? n : 1;
    double th[64], acc = 0;
    size_t kept = 0;
    for (size_t c = 0; c < chains; c++) {
        for (size_t i = 0; i < m; i++)
            th[i] = 2 * pk_rng_uniform(rng) - 1; /* a draw from the prior */
        for (size_t t = 0; t < iters; t++) {
            /* minibatch of observations: the number of ones in it is
             * hypergeometric; draw it by sampling without replacement */
            double ones = 0;
            if (n) {
                size_t kk = k, nn = n;
                for (size_t b = 0; b < batch; b++, nn--) {
                    if (pk_rng_uniform(rng) * (double)nn < (double)kk) {
                        ones++;
                        kk--;
                    }
                }
            }
            double prod = 1;
            for (size_t i = 0; i < m; i++)
                prod *= th[i];
            double p = sigmoid(scale * prod);
            /* d/d prod of [ones log p + zeros log(1-p)] = scale (ones - batch p); scaled to n */
            double g = n ? (double)n / (double)batch * scale * (ones - (double)batch * p) : 0;
            for (size_t i = 0; i < m; i++) {
                double others = 1;
                for (size_t j = 0; j < m; j++)
                    if (j != i)
                        others *= th[j];
                double x = th[i] + 0.5 * step * g * others + sqrt(step) * pk_rng_normal(rng);
                /* reflect into [-1, 1] (the uniform prior's support) */
                for (int r = 0; r < 8 && (x > 1 || x < -1); r++)
                    x = x > 1 ? 2 - x : -2 - x;
                th[i] = x > 1 ? 1 : x < -1 ? -1 : x;
            }
            if (t >= iters / 2) {
                double pr = 1;
                for (size_t i = 0; i < m; i++)
                    pr *= th[i];
                acc += sigmoid(scale * pr);
                kept++;
            }
        }
    }
    *p1 = acc / (double)kept;
    return PK_OK;
}
