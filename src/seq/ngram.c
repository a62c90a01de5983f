/* Interpolated modified Kneser-Ney n-gram models (Chen & Goodman 1998). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/ngram.h"
#include "seq_priv.h"

/* Open-addressing table of fixed-length token keys with `nv` doubles each. */
typedef struct htab {
    int klen, nv;
    size_t cap, n;
    int32_t *keys;
    double *val;
    uint8_t *used;
} htab;

static uint64_t key_hash(const int32_t *k, int klen)
{
    uint64_t h = 0x12345678abcdefULL + (uint64_t)klen;
    for (int i = 0; i < klen; i++)
        h = pk_seq_mix64(h ^ (uint64_t)(uint32_t)k[i]);
    return h;
}

static int ht_init(htab *t, int klen, int nv)
{
    t->klen = klen;
    t->nv = nv;
    t->cap = 64;
    t->n = 0;
    t->keys = malloc(t->cap * (size_t)(klen ? klen : 1) * sizeof *t->keys);
    t->val = calloc(t->cap * (size_t)nv, sizeof *t->val);
    t->used = calloc(t->cap, 1);
    return t->keys && t->val && t->used ? PK_OK : PK_ENOMEM;
}

static void ht_free(htab *t)
{
    free(t->keys);
    free(t->val);
    free(t->used);
    memset(t, 0, sizeof *t);
}

static size_t ht_slot(const htab *t, const int32_t *k)
{
    size_t mask = t->cap - 1, i = (size_t)key_hash(k, t->klen) & mask;
    while (t->used[i] && memcmp(t->keys + i * (size_t)t->klen, k, (size_t)t->klen * sizeof *k))
        i = (i + 1) & mask;
    return i;
}

static double *ht_find(const htab *t, const int32_t *k)
{
    size_t i = ht_slot(t, k);
    return t->used[i] ? t->val + i * (size_t)t->nv : NULL;
}

static int ht_grow(htab *t)
{
    htab g;
    g.klen = t->klen;
    g.nv = t->nv;
    g.cap = t->cap * 2;
    g.n = t->n;
    g.keys = malloc(g.cap * (size_t)(g.klen ? g.klen : 1) * sizeof *g.keys);
    g.val = calloc(g.cap * (size_t)g.nv, sizeof *g.val);
    g.used = calloc(g.cap, 1);
    if (!g.keys || !g.val || !g.used) {
        ht_free(&g);
        return PK_ENOMEM;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->used[i])
            continue;
        const int32_t *k = t->keys + i * (size_t)t->klen;
        size_t j = ht_slot(&g, k);
        g.used[j] = 1;
        memcpy(g.keys + j * (size_t)g.klen, k, (size_t)g.klen * sizeof *k);
        memcpy(g.val + j * (size_t)g.nv, t->val + i * (size_t)t->nv, (size_t)t->nv * sizeof *g.val);
    }
    ht_free(t);
    *t = g;
    return PK_OK;
}

/* The value slot of key k, inserted (zeroed) if absent; NULL on OOM. */
static double *ht_get(htab *t, const int32_t *k)
{
    if ((t->n + 1) * 2 > t->cap && ht_grow(t))
        return NULL;
    size_t i = ht_slot(t, k);
    if (!t->used[i]) {
        t->used[i] = 1;
        t->n++;
        memcpy(t->keys + i * (size_t)t->klen, k, (size_t)t->klen * sizeof *k);
    }
    return t->val + i * (size_t)t->nv;
}

struct pk_ngram {
    int32_t V; /* predicted symbols 0..V (V = EOS); V+1 = BOS padding */
    int n;
    int finished;
    htab *gram; /* [n]: gram[m-1] has keys of length m: counts (raw at m = n, continuation below) */
    htab *ctx;  /* [n]: ctx[m-1] keys of length m-1: total, N1, N2, N3+ */
    double (*D)[3];
};

int pk_ngram_new(int32_t vocab, int order, pk_ngram **out, pk_err *err)
{
    if (!out)
        return pk_err_set(err, PK_EINVAL, "ngram: NULL output");
    *out = NULL;
    if (vocab < 1 || vocab > (1 << 24))
        return pk_err_set(err, PK_EINVAL, "ngram: vocabulary size %d out of range 1..2^24", vocab);
    if (order < 1 || order > 16)
        return pk_err_set(err, PK_EINVAL, "ngram: order %d out of range 1..16", order);
    pk_ngram *m = calloc(1, sizeof *m);
    if (!m)
        return pk_err_set(err, PK_ENOMEM, "ngram: out of memory");
    m->V = vocab;
    m->n = order;
    m->gram = calloc((size_t)order, sizeof *m->gram);
    m->ctx = calloc((size_t)order, sizeof *m->ctx);
    m->D = calloc((size_t)order, sizeof *m->D);
    if (!m->gram || !m->ctx || !m->D || ht_init(&m->gram[order - 1], order, 1)) {
        pk_ngram_free(m);
        return pk_err_set(err, PK_ENOMEM, "ngram: out of memory");
    }
    *out = m;
    return PK_OK;
}

void pk_ngram_free(pk_ngram *m)
{
    if (!m)
        return;
    for (int i = 0; m->gram && i < m->n; i++)
        ht_free(&m->gram[i]);
    for (int i = 0; m->ctx && i < m->n; i++)
        ht_free(&m->ctx[i]);
    free(m->gram);
    free(m->ctx);
    free(m->D);
    free(m);
}

int32_t pk_ngram_vocab(const pk_ngram *m) { return m ? m->V : 0; }
int pk_ngram_order(const pk_ngram *m) { return m ? m->n : 0; }

int pk_ngram_add(pk_ngram *m, const int32_t *x, size_t len, pk_err *err)
{
    if (!m || (len && !x))
        return pk_err_set(err, PK_EINVAL, "ngram: NULL argument");
    if (m->finished)
        return pk_err_set(err, PK_EINVAL, "ngram: the model is finished; no more counts");
    for (size_t i = 0; i < len; i++)
        if (x[i] < 0 || x[i] >= m->V)
            return pk_err_set(err, PK_EINVAL, "ngram: token %d at position %zu outside 0..%d", x[i], i, m->V - 1);
    int32_t key[16];
    int n = m->n;
    for (size_t i = 0; i <= len; i++) {
        /* key = the n tokens ending at position i (BOS before the start, EOS at len) */
        for (int j = 0; j < n; j++) {
            long p = (long)i - (n - 1) + j;
            key[j] = p < 0 ? m->V + 1 : (size_t)p == len ? m->V : x[p];
        }
        double *c = ht_get(&m->gram[n - 1], key);
        if (!c)
            return pk_err_set(err, PK_ENOMEM, "ngram: out of memory");
        *c += 1;
    }
    return PK_OK;
}

/* Discounts from the counts-of-counts n1..n4 of one order (Chen & Goodman). */
static void discounts(const htab *t, double D[3])
{
    double nc[5] = {0};
    for (size_t i = 0; i < t->cap; i++)
        if (t->used[i]) {
            double c = t->val[i];
            if (c >= 1 && c <= 4)
                nc[(int)c] += 1;
        }
    if (nc[1] > 0 && nc[2] > 0) {
        double Y = nc[1] / (nc[1] + 2 * nc[2]);
        D[0] = 1 - 2 * Y * nc[2] / nc[1];
        D[1] = nc[2] > 0 ? 2 - 3 * Y * nc[3] / nc[2] : 1.5;
        D[2] = nc[3] > 0 ? 3 - 4 * Y * nc[4] / nc[3] : 2.5;
    } else {
        D[0] = 0.5, D[1] = 1.0, D[2] = 1.5; /* too little data for the estimate */
    }
    /* a discount must stay within its count so that no probability is negative */
    for (int i = 0; i < 3; i++) {
        if (!(D[i] > 0))
            D[i] = 0.1 * (i + 1);
        if (D[i] > i + 1)
            D[i] = i + 1;
    }
}

int pk_ngram_finish(pk_ngram *m, pk_err *err)
{
    if (!m)
        return pk_err_set(err, PK_EINVAL, "ngram: NULL model");
    if (m->finished)
        return PK_OK;
    if (m->gram[m->n - 1].n == 0)
        return pk_err_set(err, PK_EINVAL, "ngram: no sentences were added");
    for (int o = m->n - 1; o >= 1; o--) {
        /* continuation counts of order o from the distinct left extensions at o+1 */
        htab *hi = &m->gram[o], *lo = &m->gram[o - 1];
        if (ht_init(lo, o, 1))
            return pk_err_set(err, PK_ENOMEM, "ngram: out of memory");
        for (size_t i = 0; i < hi->cap; i++) {
            if (!hi->used[i])
                continue;
            double *c = ht_get(lo, hi->keys + i * (size_t)hi->klen + 1);
            if (!c)
                return pk_err_set(err, PK_ENOMEM, "ngram: out of memory");
            *c += 1;
        }
    }
    for (int o = 1; o <= m->n; o++) {
        htab *g = &m->gram[o - 1], *c = &m->ctx[o - 1];
        if (ht_init(c, o - 1, 4))
            return pk_err_set(err, PK_ENOMEM, "ngram: out of memory");
        for (size_t i = 0; i < g->cap; i++) {
            if (!g->used[i])
                continue;
            double *v = ht_get(c, g->keys + i * (size_t)g->klen);
            if (!v)
                return pk_err_set(err, PK_ENOMEM, "ngram: out of memory");
            double cnt = g->val[i];
            v[0] += cnt;
            v[cnt >= 3 ? 3 : (int)cnt] += 1;
        }
        discounts(g, m->D[o - 1]);
    }
    m->finished = 1;
    return PK_OK;
}

int pk_ngram_discounts(const pk_ngram *m, int o, double d[3])
{
    if (!m || !m->finished || o < 1 || o > m->n)
        return PK_EINVAL;
    memcpy(d, m->D[o - 1], sizeof m->D[0]);
    return PK_OK;
}

/* Fill hist[0..n-1) with the last n-1 context tokens (BOS-padded). */
static void history(const pk_ngram *m, const int32_t *ctx, size_t len, int32_t *hist)
{
    int h = m->n - 1;
    for (int j = 0; j < h; j++) {
        long p = (long)len - h + j;
        hist[j] = p < 0 ? m->V + 1 : ctx[p];
    }
}

static double prob_hist(const pk_ngram *m, const int32_t *hist, int32_t w)
{
    int32_t key[16];
    double p = 1.0 / (double)(m->V + 1);
    for (int o = 1; o <= m->n; o++) {
        const int32_t *h = hist + (m->n - o); /* the last o-1 tokens */
        const double *cv = m->ctx[o - 1].n ? ht_find(&m->ctx[o - 1], h) : NULL;
        if (!cv || cv[0] <= 0)
            continue; /* unseen context: this order adds nothing */
        memcpy(key, h, (size_t)(o - 1) * sizeof *key);
        key[o - 1] = w;
        const double *gv = ht_find(&m->gram[o - 1], key);
        double c = gv ? gv[0] : 0;
        const double *D = m->D[o - 1];
        double d = c <= 0 ? 0 : c < 2 ? D[0] : c < 3 ? D[1] : D[2];
        double gamma = (D[0] * cv[1] + D[1] * cv[2] + D[2] * cv[3]) / cv[0];
        p = (c > d ? c - d : 0) / cv[0] + gamma * p;
    }
    return p;
}

int pk_ngram_next_dist(const pk_ngram *m, const int32_t *ctx, size_t n, double *p)
{
    if (!m || !p || (n && !ctx) || !m->finished)
        return PK_EINVAL;
    int32_t hist[16];
    history(m, ctx, n, hist);
    for (int32_t w = 0; w <= m->V; w++)
        p[w] = prob_hist(m, hist, w);
    return PK_OK;
}

double pk_ngram_log_prob_next(const pk_ngram *m, const int32_t *ctx, size_t n, int32_t w)
{
    if (!m || !m->finished || w < 0 || w > m->V || (n && !ctx))
        return NAN;
    int32_t hist[16];
    history(m, ctx, n, hist);
    return log(prob_hist(m, hist, w));
}

double pk_ngram_log_prob(const pk_ngram *m, const int32_t *x, size_t len)
{
    if (!m || !m->finished)
        return NAN;
    double lp = 0;
    for (size_t i = 0; i <= len; i++) {
        int32_t w = i == len ? m->V : x[i];
        if (w < 0 || w > m->V)
            return -INFINITY;
        lp += pk_ngram_log_prob_next(m, x, i, w);
    }
    return lp;
}
