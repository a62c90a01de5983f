/* ngram.c — byte n-gram counts in an open-addressing hash table and
 * Witten-Bell interpolated probabilities (the LM baseline). */
#include <math.h>
#include <stdlib.h>

#include "nn_internal.h"

/* key: order k (4 bits) | next byte or 256 for the context summary (9 bits) | context (up to 6 bytes). */
typedef struct slot {
    uint64_t key; /* 0 = empty (keys are stored +1) */
    uint32_t count, types;
} slot;

struct pk_nn_ngram {
    int order;
    slot *tab;
    size_t cap, used;
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ULL;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dULL;
    return x ^ (x >> 33);
}

static slot *find(slot *tab, size_t cap, uint64_t key)
{
    size_t i = (size_t)mix(key) & (cap - 1);
    while (tab[i].key && tab[i].key != key)
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

static int grow(pk_nn_ngram *m)
{
    size_t nc = m->cap * 2;
    slot *nt = calloc(nc, sizeof *nt);
    if (!nt)
        return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->tab[i].key)
            *find(nt, nc, m->tab[i].key) = m->tab[i];
    free(m->tab);
    m->tab = nt;
    m->cap = nc;
    return 0;
}

static uint64_t mkkey(int k, unsigned c, uint64_t ctx) { return ((ctx << 13) | ((uint64_t)c << 4) | (uint64_t)k) + 1; }

static uint64_t context_of(const uint8_t *h, size_t hlen, int k)
{
    uint64_t x = 0;
    for (int j = 0; j < k; j++)
        x = (x << 8) | h[hlen - (size_t)k + (size_t)j];
    return x;
}

int pk_nn_ngram_fit(const uint8_t *text, size_t n, int order, pk_nn_ngram **out, pk_err *err)
{
    *out = NULL;
    if (order < 1 || order > 7 || (!text && n))
        return pk_err_set(err, PK_EINVAL, "ngram: order %d must be in 1..7", order);
    pk_nn_ngram *m = calloc(1, sizeof *m);
    if (!m || !(m->tab = calloc(1u << 16, sizeof *m->tab))) {
        free(m);
        return pk_err_set(err, PK_ENOMEM, "ngram: out of memory");
    }
    m->order = order;
    m->cap = 1u << 16;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < order && (size_t)k <= i; k++) {
            if (2 * (m->used + 2) > m->cap && grow(m)) {
                pk_nn_ngram_free(m);
                return pk_err_set(err, PK_ENOMEM, "ngram: out of memory");
            }
            uint64_t ctx = context_of(text, i, k);
            slot *s = find(m->tab, m->cap, mkkey(k, text[i], ctx));
            int is_new = !s->key;
            if (is_new) {
                s->key = mkkey(k, text[i], ctx);
                m->used++;
            }
            s->count++;
            slot *sum = find(m->tab, m->cap, mkkey(k, 256, ctx));
            if (!sum->key) {
                sum->key = mkkey(k, 256, ctx);
                m->used++;
            }
            sum->count++;
            sum->types += (uint32_t)is_new;
        }
    *out = m;
    return PK_OK;
}

void pk_nn_ngram_free(pk_nn_ngram *m)
{
    if (!m)
        return;
    free(m->tab);
    free(m);
}

double pk_nn_ngram_logprob(const pk_nn_ngram *m, const uint8_t *history, size_t hlen, uint8_t next)
{
    double p = 1.0 / 256.0;
    int kmax = m->order - 1;
    if ((size_t)kmax > hlen)
        kmax = (int)hlen;
    for (int k = 0; k <= kmax; k++) { /* from the empty context up to the longest */
        uint64_t ctx = context_of(history, hlen, k);
        const slot *sum = find(m->tab, m->cap, mkkey(k, 256, ctx));
        if (!sum->key)
            break; /* unseen context: longer ones are unseen too */
        const slot *s = find(m->tab, m->cap, mkkey(k, next, ctx));
        double c = s->key ? s->count : 0;
        p = (c + sum->types * p) / ((double)sum->count + sum->types);
    }
    return log(p);
}

double pk_nn_ngram_score(const pk_nn_ngram *m, const uint8_t *text, size_t n)
{
    double s = 0;
    for (size_t i = 1; i < n; i++)
        s += pk_nn_ngram_logprob(m, text, i, text[i]);
    return s;
}
