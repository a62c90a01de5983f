/* Language models seen through a transducer ("Transducing Language Models").
 *
 * The FST is compiled to a subsequential table: from each visible state, a
 * source symbol leads to one state and emits a string (the arc's output and
 * the forced epsilon-input chain after it); a visible state that may end a
 * string emits its final string.  For a target prefix y the precover
 * {x : y is a prefix of f(x)} splits into the quotient (source prefixes all
 * of whose continuations stay in the precover: their emitted output already
 * covers y) and the remainder (complete strings whose final string completes
 * y).  P(y is a prefix) = sum over the quotient of prefix probabilities +
 * sum over the remainder of string probabilities.  The search walks source
 * prefixes whose output is still a prefix of y; with an n-gram source, two
 * hypotheses with the same target position, FST state and last order-1
 * symbols have the same future, so their masses are added (a lattice). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fst_priv.h"
#include "seq_priv.h"


void pk_tlm_free(pk_tlm *t)
{
    if (!t)
        return;
    free(t->dest);
    free(t->ooff);
    free(t->olen);
    free(t->foff);
    free(t->flen);
    free(t->obuf);
    free(t->gsym);
    free(t->goff);
    free(t->parent);
    free(t->sym);
    free(t->len);
    free(t->vq);
    free(t->pos);
    free(t->lp);
    free(t->res);
    free(t->inq);
    free(t->htab);
    free(t->logp);
    free(t->pre);
    free(t->ckey);
    free(t->cval);
    free(t->cused);
    free(t);
}

void pk_tlm_set_budget(pk_tlm *t, int64_t max_expanded)
{
    if (t && max_expanded > 0)
        t->budget = max_expanded;
}

static int emit(pk_tlm *t, int32_t label)
{
    if (t->nobuf == t->cobuf) {
        size_t c = t->cobuf ? t->cobuf * 2 : 256;
        int32_t *b = realloc(t->obuf, c * sizeof *b);
        if (!b)
            return PK_ENOMEM;
        t->obuf = b;
        t->cobuf = c;
    }
    t->obuf[t->nobuf++] = label - 1;
    return PK_OK;
}

/* A chain state: exactly one arc, epsilon input, not final. */
static int is_chain(const pk_fst *f, int32_t s)
{
    return f->st[s].narc == 1 && f->st[s].arcs[0].ilabel == 0 && f->st[s].final == INFINITY;
}

/* Follow the forced epsilon-input chain from s, emitting outputs; returns the
 * state where it stops (or -1 on a loop / bad weight / bad label). */
static int32_t follow(pk_tlm *t, const pk_fst *f, int32_t s, int *rc)
{
    for (int32_t steps = 0; is_chain(f, s); steps++) {
        const pk_fst_arc *a = &f->st[s].arcs[0];
        if (steps > f->n || a->weight != 0 || a->olabel > t->nt)
            return -1;
        if (a->olabel && (*rc = emit(t, a->olabel)))
            return -1;
        s = a->next;
    }
    return s;
}

/* Group each state's source symbols by first output symbol (counting sort),
 * so that the search visits only the symbols that can match y[p]. */
static int group_symbols(pk_tlm *t)
{
    size_t ns = (size_t)t->ns, ng = (size_t)t->nt + 2;
    t->gsym = malloc((size_t)t->nv * ns * sizeof *t->gsym);
    t->goff = calloc((size_t)t->nv * ng, sizeof *t->goff);
    if (!t->gsym || !t->goff)
        return PK_ENOMEM;
    for (size_t v = 0; v < (size_t)t->nv; v++) {
        int32_t *off = t->goff + v * ng;
        for (size_t s = 0; s < ns; s++) {
            size_t k = v * ns + s;
            off[t->olen[k] ? 2 + t->obuf[t->ooff[k]] : 1]++;
        }
        for (size_t g = 1; g < ng; g++)
            off[g] += off[g - 1];
        /* off[g] is now the end of group g-1, i.e. the start of group g */
        int32_t *fill = malloc(ng * sizeof *fill);
        if (!fill)
            return PK_ENOMEM;
        memcpy(fill, off, ng * sizeof *fill);
        for (size_t s = 0; s < ns; s++) {
            size_t k = v * ns + s;
            size_t g = t->olen[k] ? 1 + (size_t)t->obuf[t->ooff[k]] : 0;
            t->gsym[v * ns + (size_t)fill[g]++] = (int32_t)s;
        }
        free(fill);
    }
    return PK_OK;
}

int pk_tlm_new(const pk_seq_lm *lm, const pk_fst *f, int32_t ntarget, pk_tlm **out, pk_err *err)
{
    if (!lm || !f || !out || !lm->next_logp || lm->nsym < 1 || ntarget < 1)
        return pk_err_set(err, PK_EINVAL, "transduced LM: bad argument");
    *out = NULL;
    if (f->start < 0)
        return pk_err_set(err, PK_EINVAL, "transduced LM: the FST has no start state");
    pk_tlm *t = calloc(1, sizeof *t);
    int32_t *vis = malloc((size_t)f->n * sizeof *vis), *queue = malloc((size_t)f->n * sizeof *queue);
    int rc = PK_ENOMEM;
    if (!t || !vis || !queue)
        goto fail;
    t->lm = *lm;
    t->ns = lm->nsym;
    t->nt = ntarget;
    t->budget = 2000000;
    for (int32_t s = 0; s < f->n; s++)
        vis[s] = -1;
    size_t head = 0, tail = 0, cap = 0;
    vis[f->start] = 0;
    queue[tail++] = f->start;
    t->nv = 1;
    while (head < tail) {
        int32_t q = queue[head++], v = vis[q];
        if ((size_t)t->nv > cap) {
            size_t c = cap ? cap * 2 : 16;
            while (c < (size_t)t->nv)
                c *= 2;
            int32_t *d = realloc(t->dest, c * (size_t)t->ns * sizeof *d);
            if (d)
                t->dest = d;
            size_t *o = realloc(t->ooff, c * (size_t)t->ns * sizeof *o);
            if (o)
                t->ooff = o;
            int32_t *l = realloc(t->olen, c * (size_t)t->ns * sizeof *l);
            if (l)
                t->olen = l;
            size_t *fo = realloc(t->foff, c * sizeof *fo);
            if (fo)
                t->foff = fo;
            int32_t *fl = realloc(t->flen, c * sizeof *fl);
            if (fl)
                t->flen = fl;
            if (!d || !o || !l || !fo || !fl)
                goto fail;
            cap = c;
        }
        size_t base = (size_t)v * (size_t)t->ns;
        for (int32_t s = 0; s < t->ns; s++)
            t->dest[base + (size_t)s] = -1;
        /* final string: either q is final (weight 0, empty) or its single
         * epsilon-input arc starts a chain to a final dead end */
        int neps = 0;
        const pk_fst_arc *eps = NULL;
        for (size_t i = 0; i < f->st[q].narc; i++)
            if (f->st[q].arcs[i].ilabel == 0) {
                neps++;
                eps = &f->st[q].arcs[i];
            }
        t->foff[v] = t->nobuf;
        if (neps == 0) {
            if (f->st[q].final != 0) {
                rc = pk_err_set(err, PK_ENOTSUP, "transduced LM: state %d must be final with weight 0 (f total)", q);
                goto fail;
            }
        } else {
            rc = PK_OK;
            if (neps > 1 || f->st[q].final != INFINITY || eps->weight != 0 || eps->olabel > t->nt ||
                (eps->olabel && emit(t, eps->olabel))) {
                rc = pk_err_set(err, PK_ENOTSUP, "transduced LM: state %d: epsilon-input arcs must form one final chain",
                                q);
                goto fail;
            }
            int32_t e = follow(t, f, eps->next, &rc);
            if (e < 0 || f->st[e].narc != 0 || f->st[e].final != 0) {
                rc = pk_err_set(err, rc ? rc : PK_ENOTSUP, "transduced LM: state %d: bad final chain", q);
                goto fail;
            }
        }
        t->flen[v] = (int32_t)(t->nobuf - t->foff[v]);
        for (size_t i = 0; i < f->st[q].narc; i++) {
            const pk_fst_arc *a = &f->st[q].arcs[i];
            if (a->ilabel == 0)
                continue;
            if (a->ilabel > t->ns || a->weight != 0 || a->olabel > t->nt) {
                rc = pk_err_set(err, PK_ENOTSUP, "transduced LM: state %d: arc label/weight out of range", q);
                goto fail;
            }
            size_t k = base + (size_t)a->ilabel - 1;
            if (t->dest[k] >= 0) {
                rc = pk_err_set(err, PK_ENOTSUP, "transduced LM: state %d is not input-deterministic", q);
                goto fail;
            }
            t->ooff[k] = t->nobuf;
            rc = PK_OK;
            if (a->olabel && (rc = emit(t, a->olabel)))
                goto fail;
            int32_t d = follow(t, f, a->next, &rc);
            if (d < 0) {
                rc = pk_err_set(err, rc ? rc : PK_ENOTSUP, "transduced LM: bad epsilon chain after state %d", q);
                goto fail;
            }
            t->olen[k] = (int32_t)(t->nobuf - t->ooff[k]);
            if (vis[d] < 0) {
                vis[d] = t->nv++;
                queue[tail++] = d;
            }
            t->dest[k] = vis[d];
        }
        for (int32_t s = 0; s < t->ns; s++)
            if (t->dest[base + (size_t)s] < 0) {
                rc = pk_err_set(err, PK_ENOTSUP, "transduced LM: state %d has no arc for source symbol %d (f must be total)",
                                q, s);
                goto fail;
            }
    }
    t->logp = malloc(((size_t)t->ns + 1) * sizeof *t->logp);
    if (!t->logp || group_symbols(t)) {
        rc = PK_ENOMEM;
        goto fail;
    }
    free(vis);
    free(queue);
    *out = t;
    return PK_OK;
fail:
    free(vis);
    free(queue);
    pk_tlm_free(t);
    if (rc == PK_ENOMEM)
        return pk_err_set(err, rc, "transduced LM: out of memory");
    return rc;
}

/* ---- search --------------------------------------------------------------- */

enum { MODE_PREFIX = 0, MODE_NEXT = 1 };

static void lse_add(double *acc, double x) { *acc = pk_logaddexp(*acc, x); }

static int grow_nodes(pk_tlm *t)
{
    size_t c = t->cn ? t->cn * 2 : 1024;
#define G(field)                                                                                               \
    do {                                                                                                       \
        void *p_ = realloc(t->field, c * sizeof *t->field);                                                   \
        if (!p_)                                                                                               \
            return PK_ENOMEM;                                                                                  \
        t->field = p_;                                                                                         \
    } while (0)
    G(parent);
    G(sym);
    G(len);
    G(vq);
    G(pos);
    G(lp);
    G(res);
    G(inq);
#undef G
    t->cn = c;
    return PK_OK;
}

/* The merge key's symbol k back from node h (k = 0: last), -1 before the start. */
static int32_t back_sym(const pk_tlm *t, int32_t h, int k)
{
    while (k-- > 0 && h >= 0)
        h = t->parent[h];
    return h >= 0 && t->len[h] > 0 ? t->sym[h] : -1;
}

static uint64_t node_hash(const pk_tlm *t, int32_t pos, int32_t v, int32_t par, int32_t s)
{
    uint64_t h = pk_seq_mix64((uint64_t)pos * 1000003u + (uint64_t)v);
    int kl = t->lm.key_len;
    if (kl > 0) {
        h = pk_seq_mix64(h ^ (uint64_t)(uint32_t)s);
        for (int k = 0; k < kl - 1; k++)
            h = pk_seq_mix64(h ^ (uint64_t)(uint32_t)back_sym(t, par, k));
    }
    return h;
}

static int same_key(const pk_tlm *t, int32_t h, int32_t pos, int32_t v, int32_t par, int32_t s)
{
    if (t->pos[h] != pos || t->vq[h] != v)
        return 0;
    int kl = t->lm.key_len;
    if (kl > 0) {
        if (t->sym[h] != s)
            return 0;
        for (int k = 0; k < kl - 1; k++)
            if (back_sym(t, t->parent[h], k) != back_sym(t, par, k))
                return 0;
    }
    return 1;
}

typedef struct bucket {
    int32_t *v;
    size_t n, cap, head;
} bucket;

static int push(bucket *b, int32_t x)
{
    if (b->n == b->cap) {
        size_t c = b->cap ? b->cap * 2 : 64;
        int32_t *v = realloc(b->v, c * sizeof *v);
        if (!v)
            return PK_ENOMEM;
        b->v = v;
        b->cap = c;
    }
    b->v[b->n++] = x;
    return PK_OK;
}

/* Add mass w to the hypothesis (par + s) at (pos, v); queue it if needed. */
static int add_hyp(pk_tlm *t, bucket *bk, int32_t par, int32_t s, int32_t pos, int32_t v, double w,
                   pk_tlm_stats *st)
{
    int merge = t->lm.key_len >= 0;
    size_t slot = 0;
    if (merge) {
        if ((t->nn + 1) * 2 > t->hcap) {
            size_t c = t->hcap ? t->hcap * 2 : 4096;
            int32_t *tab = malloc(c * sizeof *tab);
            if (!tab)
                return PK_ENOMEM;
            for (size_t i = 0; i < c; i++)
                tab[i] = -1;
            for (size_t h = 0; h < t->nn; h++) {
                size_t j = (size_t)node_hash(t, t->pos[h], t->vq[h], t->parent[h], t->sym[h]) & (c - 1);
                while (tab[j] >= 0)
                    j = (j + 1) & (c - 1);
                tab[j] = (int32_t)h;
            }
            free(t->htab);
            t->htab = tab;
            t->hcap = c;
        }
        slot = (size_t)node_hash(t, pos, v, par, s) & (t->hcap - 1);
        while (t->htab[slot] >= 0) {
            int32_t h = t->htab[slot];
            if (same_key(t, h, pos, v, par, s)) {
                lse_add(&t->lp[h], w);
                lse_add(&t->res[h], w);
                if (st)
                    st->merged++;
                if (!t->inq[h]) {
                    t->inq[h] = 1;
                    return push(&bk[pos], h);
                }
                return PK_OK;
            }
            slot = (slot + 1) & (t->hcap - 1);
        }
    }
    if (t->nn == t->cn && grow_nodes(t))
        return PK_ENOMEM;
    int32_t h = (int32_t)t->nn++;
    t->parent[h] = par;
    t->sym[h] = s;
    t->len[h] = par >= 0 ? t->len[par] + 1 : 0;
    t->vq[h] = v;
    t->pos[h] = pos;
    t->lp[h] = w;
    t->res[h] = w;
    t->inq[h] = 1;
    if (merge)
        t->htab[slot] = h;
    return push(&bk[pos], h);
}

/* The source prefix of node h into t->pre (length t->len[h]). */
static int prefix_of(pk_tlm *t, int32_t h)
{
    size_t L = (size_t)t->len[h];
    if (L > t->cpre) {
        size_t c = t->cpre ? t->cpre * 2 : 64;
        while (c < L)
            c *= 2;
        int32_t *p = realloc(t->pre, c * sizeof *p);
        if (!p)
            return PK_ENOMEM;
        t->pre = p;
        t->cpre = c;
    }
    for (size_t i = L; i > 0; i--) {
        t->pre[i - 1] = t->sym[h];
        h = t->parent[h];
    }
    return PK_OK;
}

/* The source LM's log next-symbol distribution at node h (cached by context
 * when the LM promises a finite context).  Returns NULL on failure (*rc set). */
static const double *lm_dist(pk_tlm *t, int32_t h, pk_tlm_stats *st, int *rc)
{
    int kl = t->lm.key_len;
    if (kl >= 0 && !t->ccap) {
        size_t per = ((size_t)t->ns + 1) * sizeof(double), c = 16;
        while (c * 2 * per <= ((size_t)32 << 20) && c < (1u << 20))
            c *= 2;
        t->ckey = malloc(c * (size_t)(kl ? kl : 1) * sizeof *t->ckey);
        t->cval = malloc(c * ((size_t)t->ns + 1) * sizeof *t->cval);
        t->cused = calloc(c, 1);
        if (!t->ckey || !t->cval || !t->cused) {
            free(t->ckey);
            free(t->cval);
            free(t->cused);
            t->ckey = NULL;
            t->cval = NULL;
            t->cused = NULL;
        } else {
            t->ccap = c;
        }
    }
    size_t slot = 0;
    int32_t key[32];
    int cached = kl >= 0 && kl <= 32 && t->ccap;
    if (cached) {
        uint64_t hh = 0x51ed27ULL;
        for (int k = 0; k < kl; k++) {
            key[k] = back_sym(t, h, k);
            hh = pk_seq_mix64(hh ^ (uint64_t)(uint32_t)key[k]);
        }
        slot = (size_t)hh & (t->ccap - 1);
        while (t->cused[slot]) {
            if (!memcmp(t->ckey + slot * (size_t)kl, key, (size_t)kl * sizeof *key))
                return t->cval + slot * ((size_t)t->ns + 1);
            slot = (slot + 1) & (t->ccap - 1);
        }
        if ((t->ccount + 1) * 2 > t->ccap) {
            /* full: start over (contexts of the current query come back quickly) */
            memset(t->cused, 0, t->ccap);
            t->ccount = 0;
            slot = (size_t)hh & (t->ccap - 1);
        }
    }
    if ((*rc = prefix_of(t, h)))
        return NULL;
    st->lm_calls++;
    double *dst = cached ? t->cval + slot * ((size_t)t->ns + 1) : t->logp;
    if ((*rc = t->lm.next_logp(t->lm.ctx, t->pre, (size_t)t->len[h], dst)))
        return NULL;
    if (cached) {
        memcpy(t->ckey + slot * (size_t)kl, key, (size_t)kl * sizeof *key);
        t->cused[slot] = 1;
        t->ccount++;
    }
    return dst;
}

typedef struct hmass {
    double w;
    int32_t h;
} hmass;

static int hmass_cmp(const void *a, const void *b)
{
    double x = ((const hmass *)a)->w, y = ((const hmass *)b)->w;
    return x < y ? -1 : x > y;
}

/* Probability-mass pruning of bucket p (the paper's Algorithm 5, with its
 * threshold split over the n+1 target positions of the query): drop the
 * lightest hypotheses that arrived from earlier positions while their total
 * stays within frac times the bucket's mass; the heaviest always stays.
 * With frac = threshold/(n+1) the shares dropped along the query add up to
 * at most threshold, where the paper's per-step threshold would add up n
 * times over a long target. */
static int prune_bucket(pk_tlm *t, bucket *b, double frac, pk_tlm_stats *st)
{
    size_t m = b->n - b->head;
    if (m < 2)
        return PK_OK;
    hmass *hm = malloc(m * sizeof *hm);
    if (!hm)
        return PK_ENOMEM;
    double top = -INFINITY, total = 0, dropped = 0;
    for (size_t i = 0; i < m; i++)
        top = fmax(top, t->res[b->v[b->head + i]]);
    for (size_t i = 0; i < m; i++) {
        int32_t h = b->v[b->head + i];
        hm[i].h = h;
        hm[i].w = exp(t->res[h] - top);
        total += hm[i].w;
    }
    qsort(hm, m, sizeof *hm, hmass_cmp);
    for (size_t i = 0; i + 1 < m && dropped + hm[i].w <= frac * total; i++) {
        dropped += hm[i].w;
        t->res[hm[i].h] = -INFINITY;
        st->pruned++;
    }
    free(hm);
    return PK_OK;
}

/* mode PREFIX: *acc = log P(y prefix).  mode NEXT: mass[0..nt) and *eos.
 * frac > 0 (mode NEXT only): prune each bucket (see prune_bucket). */
static int search(pk_tlm *t, const int32_t *y, size_t n, int mode, double frac, double *acc, double *mass,
                  double *eos, pk_tlm_stats *st)
{
    pk_tlm_stats local = {0, 0, 0, 0};
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    size_t npos = n + 1;
    bucket *bk = calloc(npos, sizeof *bk);
    if (!bk)
        return PK_ENOMEM;
    t->nn = 0;
    if (t->htab)
        for (size_t i = 0; i < t->hcap; i++)
            t->htab[i] = -1;
    *acc = -INFINITY;
    if (eos)
        *eos = -INFINITY;
    if (mass)
        for (int32_t a = 0; a < t->nt; a++)
            mass[a] = -INFINITY;
    int rc = add_hyp(t, bk, -1, -1, 0, 0, 0.0, st);
    size_t last = mode == MODE_NEXT ? n : (n ? n - 1 : 0);
    if (mode == MODE_PREFIX && n == 0) {
        *acc = 0; /* every string has the empty prefix */
        goto done;
    }
    for (size_t p = 0; !rc && p <= last; p++) {
        bucket *b = &bk[p];
        /* pruning judges only the hypotheses that arrive from earlier
         * positions: those added at this position later (epsilon outputs,
         * e.g. inside a codon) sit at other FST states and carry extra
         * factors, so weighing them against these would be unfair */
        if (frac > 0 && (rc = prune_bucket(t, b, frac, st)))
            break;
        while (!rc && b->head < b->n) {
            int32_t h = b->v[b->head++];
            t->inq[h] = 0;
            double r = t->res[h];
            t->res[h] = -INFINITY;
            if (r == -INFINITY)
                continue;
            if (++st->expanded > t->budget) {
                rc = PK_EMAXITER;
                break;
            }
            const double *logp = lm_dist(t, h, st, &rc);
            if (!logp)
                break;
            int32_t v = t->vq[h];
            /* the string may end here: f(x) = y[0..p) . final string */
            const int32_t *fo = t->obuf + t->foff[v];
            size_t fl = (size_t)t->flen[v], m = fl < n - p ? fl : n - p;
            if (!memcmp(fo, y + p, m * sizeof *fo) && logp[t->ns] > -INFINITY) {
                double w = r + logp[t->ns];
                if (mode == MODE_PREFIX) {
                    if (p + fl >= n)
                        lse_add(acc, w); /* remainder */
                } else if (p + fl == n) {
                    lse_add(eos, w);
                } else if (p + fl > n) {
                    lse_add(&mass[fo[n - p]], w);
                }
            }
            size_t base = (size_t)v * (size_t)t->ns;
            /* below the end of y only symbols with no output or output
             * starting with y[p] can match; at the end every symbol counts */
            const int32_t *gs = t->gsym + base, *go = t->goff + (size_t)v * ((size_t)t->nt + 2);
            int32_t n0 = p < n ? go[1] : t->ns, lo1 = p < n ? go[1 + y[p]] : 0, n1 = p < n ? go[2 + y[p]] - lo1 : 0;
            for (int32_t i = 0; i < n0 + n1 && !rc; i++) {
                int32_t s = i < n0 ? gs[i] : gs[lo1 + i - n0];
                if (logp[s] == -INFINITY)
                    continue;
                double w = r + logp[s];
                const int32_t *o = t->obuf + t->ooff[base + (size_t)s];
                size_t k = (size_t)t->olen[base + (size_t)s];
                size_t mm = k < n - p ? k : n - p;
                if (memcmp(o, y + p, mm * sizeof *o))
                    continue;
                if (mode == MODE_PREFIX) {
                    if (p + k >= n)
                        lse_add(acc, w); /* quotient: every continuation stays above y */
                    else
                        rc = add_hyp(t, bk, h, s, (int32_t)(p + k), t->dest[base + (size_t)s], w, st);
                } else if (p + k > n) {
                    lse_add(&mass[o[n - p]], w);
                } else {
                    rc = add_hyp(t, bk, h, s, (int32_t)(p + k), t->dest[base + (size_t)s], w, st);
                }
            }
        }
    }
done:
    for (size_t p = 0; p < npos; p++)
        free(bk[p].v);
    free(bk);
    return rc;
}

int pk_tlm_next_dist(pk_tlm *t, const int32_t *y, size_t n, double threshold, double *p, double *log_prefix,
                     pk_tlm_stats *stats)
{
    if (!t || !p || (n && !y) || !(threshold >= 0) || threshold >= 1)
        return PK_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= t->nt)
            return PK_EINVAL;
    double acc, eos;
    int rc = search(t, y, n, MODE_NEXT, threshold / (double)(n + 1), &acc, p, &eos, stats);
    if (rc)
        return rc;
    double z = eos;
    for (int32_t a = 0; a < t->nt; a++)
        z = pk_logaddexp(z, p[a]);
    if (log_prefix)
        *log_prefix = z;
    if (z == -INFINITY)
        return PK_EDOM; /* y has probability zero: no distribution after it */
    double s = 0;
    for (int32_t a = 0; a < t->nt; a++) {
        p[a] = exp(p[a] - z);
        s += p[a];
    }
    /* EOS is the residual mass: P(f(X) = y) / P(y prefix) */
    p[t->nt] = fmax(0.0, 1.0 - s);
    (void)eos;
    return PK_OK;
}

int pk_tlm_prefix_logprob(pk_tlm *t, const int32_t *y, size_t n, double *logp, pk_tlm_stats *stats)
{
    if (!t || !logp || (n && !y))
        return PK_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= t->nt)
            return PK_EINVAL;
    return search(t, y, n, MODE_PREFIX, 0, logp, NULL, NULL, stats);
}

int pk_tlm_string_logprob(pk_tlm *t, const int32_t *y, size_t n, double *logp, pk_tlm_stats *stats)
{
    if (!t || !logp || (n && !y))
        return PK_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= t->nt)
            return PK_EINVAL;
    double *mass = malloc((size_t)t->nt * sizeof *mass), acc;
    if (!mass)
        return PK_ENOMEM;
    int rc = search(t, y, n, MODE_NEXT, 0, &acc, mass, logp, stats);
    free(mass);
    return rc;
}
