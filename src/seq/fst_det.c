/* Weighted subset construction (Mohri 1997) for acceptors in the log
 * semiring.  Subsets are (state, residual weight) lists; residuals are
 * compared after rounding to 1e-9 so that numerically equal subsets meet. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fst_priv.h"
#include "seq_priv.h"

typedef struct member {
    int32_t q;
    double r;
} member;

typedef struct contrib {
    int32_t label, next;
    double w;
} contrib;

static int cmp_contrib(const void *a, const void *b)
{
    const contrib *x = a, *y = b;
    if (x->label != y->label)
        return x->label < y->label ? -1 : 1;
    return (x->next > y->next) - (x->next < y->next);
}

typedef struct subsets {
    size_t n, cap;
    size_t *off; /* [n+1] into mem */
    member *mem;
    size_t nmem, capmem;
    uint64_t *hash;
    /* open addressing table: hash -> subset id */
    size_t tcap;
    int32_t *tab;
} subsets;

static uint64_t subset_hash(const member *m, size_t k)
{
    uint64_t h = 0x243f6a8885a308d3ULL;
    for (size_t i = 0; i < k; i++) {
        int64_t rq = (int64_t)llround(m[i].r * 1e9);
        h = pk_seq_mix64(h ^ (uint64_t)m[i].q);
        h = pk_seq_mix64(h ^ (uint64_t)rq);
    }
    return h;
}

static int same(const member *a, const member *b, size_t k)
{
    for (size_t i = 0; i < k; i++)
        if (a[i].q != b[i].q || llround(a[i].r * 1e9) != llround(b[i].r * 1e9))
            return 0;
    return 1;
}

/* Find or add the subset m[0..k); *fresh = 1 if added. */
static int find_or_add(subsets *S, const member *m, size_t k, int32_t *id, int *fresh)
{
    uint64_t h = subset_hash(m, k);
    if ((S->n + 1) * 2 > S->tcap) {
        size_t c = S->tcap ? S->tcap * 2 : 1024;
        int32_t *t = malloc(c * sizeof *t);
        if (!t)
            return PK_ENOMEM;
        for (size_t i = 0; i < c; i++)
            t[i] = -1;
        for (size_t s = 0; s < S->n; s++) {
            size_t j = (size_t)S->hash[s] & (c - 1);
            while (t[j] >= 0)
                j = (j + 1) & (c - 1);
            t[j] = (int32_t)s;
        }
        free(S->tab);
        S->tab = t;
        S->tcap = c;
    }
    size_t j = (size_t)h & (S->tcap - 1);
    while (S->tab[j] >= 0) {
        int32_t s = S->tab[j];
        size_t L = S->off[s + 1] - S->off[s];
        if (S->hash[s] == h && L == k && same(S->mem + S->off[s], m, k)) {
            *id = s;
            *fresh = 0;
            return PK_OK;
        }
        j = (j + 1) & (S->tcap - 1);
    }
    if (S->n + 1 >= S->cap) {
        size_t c = S->cap ? S->cap * 2 : 256;
        size_t *o = realloc(S->off, (c + 1) * sizeof *o);
        if (!o)
            return PK_ENOMEM;
        S->off = o;
        uint64_t *hh = realloc(S->hash, c * sizeof *hh);
        if (!hh)
            return PK_ENOMEM;
        S->hash = hh;
        S->cap = c;
    }
    if (S->nmem + k > S->capmem) {
        size_t c = S->capmem ? S->capmem * 2 : 1024;
        while (c < S->nmem + k)
            c *= 2;
        member *mm = realloc(S->mem, c * sizeof *mm);
        if (!mm)
            return PK_ENOMEM;
        S->mem = mm;
        S->capmem = c;
    }
    if (S->n == 0)
        S->off[0] = 0;
    memcpy(S->mem + S->nmem, m, k * sizeof *m);
    S->nmem += k;
    S->hash[S->n] = h;
    S->off[S->n + 1] = S->nmem;
    S->tab[j] = (int32_t)S->n;
    *id = (int32_t)S->n++;
    *fresh = 1;
    return PK_OK;
}

int pk_fst_determinize(const pk_fst *f, int32_t max_states, pk_fst **out, pk_err *err)
{
    if (!f || !out || max_states < 1)
        return pk_err_set(err, PK_EINVAL, "fst determinize: bad argument");
    *out = NULL;
    for (int32_t s = 0; s < f->n; s++)
        for (size_t i = 0; i < f->st[s].narc; i++) {
            const pk_fst_arc *a = &f->st[s].arcs[i];
            if (a->ilabel != a->olabel)
                return pk_err_set(err, PK_ENOTSUP, "fst determinize: only acceptors (ilabel == olabel) are supported");
            if (a->ilabel == 0)
                return pk_err_set(err, PK_ENOTSUP, "fst determinize: remove epsilons first");
        }
    pk_fst *r = pk_fst_new();
    subsets S = {0};
    contrib *c = NULL;
    member *tmp = NULL;
    size_t cc = 0, ct = 0;
    int rc = PK_ENOMEM, fresh;
    int32_t id;
    if (!r)
        goto done;
    if (f->start < 0) {
        *out = r;
        return PK_OK;
    }
    member m0 = {f->start, 0};
    if (find_or_add(&S, &m0, 1, &id, &fresh) || pk_fst_add_state(r) < 0)
        goto done;
    r->start = 0;
    for (size_t s = 0; s < S.n; s++) {
        /* members are re-read through S each time: S.mem may move when it grows */
        size_t k = S.off[s + 1] - S.off[s], nc = 0;
        double fin = INFINITY;
        for (size_t i = 0; i < k; i++) {
            member mi = S.mem[S.off[s] + i];
            if (f->st[mi.q].final < INFINITY)
                fin = pk_fst_plus(fin, mi.r + f->st[mi.q].final);
            for (size_t j = 0; j < f->st[mi.q].narc; j++) {
                if (nc == cc) {
                    cc = cc ? cc * 2 : 64;
                    contrib *t = realloc(c, cc * sizeof *t);
                    if (!t)
                        goto done;
                    c = t;
                }
                const pk_fst_arc *a = &f->st[mi.q].arcs[j];
                c[nc++] = (contrib){a->ilabel, a->next, mi.r + a->weight};
            }
        }
        r->st[s].final = fin;
        qsort(c, nc, sizeof *c, cmp_contrib);
        for (size_t i = 0; i < nc;) {
            size_t e = i;
            double W = INFINITY;
            while (e < nc && c[e].label == c[i].label)
                W = pk_fst_plus(W, c[e++].w);
            size_t nm = 0;
            for (size_t j = i; j < e;) {
                size_t g = j;
                double w = INFINITY;
                while (g < e && c[g].next == c[j].next)
                    w = pk_fst_plus(w, c[g++].w);
                if (nm == ct) {
                    ct = ct ? ct * 2 : 64;
                    member *t = realloc(tmp, ct * sizeof *t);
                    if (!t)
                        goto done;
                    tmp = t;
                }
                tmp[nm++] = (member){c[j].next, w - W};
                j = g;
            }
            if (find_or_add(&S, tmp, nm, &id, &fresh))
                goto done;
            if (fresh) {
                if ((int32_t)S.n > max_states) {
                    rc = PK_EMAXITER;
                    goto done;
                }
                if (pk_fst_add_state(r) < 0)
                    goto done;
            }
            if (pk_fst_add_arc(r, (int32_t)s, c[i].label, c[i].label, W, id))
                goto done;
            i = e;
        }
    }
    *out = r;
    r = NULL;
    rc = PK_OK;
done:
    pk_fst_free(r);
    free(S.off);
    free(S.mem);
    free(S.hash);
    free(S.tab);
    free(c);
    free(tmp);
    if (rc == PK_EMAXITER)
        return pk_err_set(err, rc, "fst determinize: more than %d states (not determinisable within budget)",
                          max_states);
    if (rc)
        return pk_err_set(err, rc, "fst determinize: out of memory");
    return PK_OK;
}
