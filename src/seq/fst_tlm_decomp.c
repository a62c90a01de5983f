/* The explicit precover decomposition of a transduced LM (no LM, no
 * merging: for inspection and tests) and the n-gram adapter. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fst_priv.h"

/* ---- explicit decomposition (no LM, no merging) ---------------------------- */

typedef struct seqlist {
    size_t n, cap, nsym, capsym;
    size_t *off;
    int32_t *sym;
} seqlist;

static int list_add(seqlist *l, const int32_t *x, size_t len)
{
    if (l->n + 1 >= l->cap) {
        size_t c = l->cap ? l->cap * 2 : 64;
        size_t *o = realloc(l->off, c * sizeof *o);
        if (!o)
            return PK_ENOMEM;
        l->off = o;
        l->cap = c;
        if (l->n == 0)
            l->off[0] = 0;
    }
    if (l->nsym + len > l->capsym) {
        size_t c = l->capsym ? l->capsym * 2 : 256;
        while (c < l->nsym + len)
            c *= 2;
        int32_t *s = realloc(l->sym, c * sizeof *s);
        if (!s)
            return PK_ENOMEM;
        l->sym = s;
        l->capsym = c;
    }
    memcpy(l->sym + l->nsym, x, len * sizeof *x);
    l->nsym += len;
    l->off[++l->n] = l->nsym;
    return PK_OK;
}

static int decomp_rec(pk_tlm *t, const int32_t *y, size_t n, int32_t *x, size_t xl, size_t xcap, int32_t v, size_t p,
                      size_t cap, seqlist *Q, seqlist *R)
{
    if (Q->n + R->n > cap)
        return PK_EMAXITER;
    const int32_t *fo = t->obuf + t->foff[v];
    size_t fl = (size_t)t->flen[v], m = fl < n - p ? fl : n - p;
    int rc;
    if (p + fl >= n && !memcmp(fo, y + p, m * sizeof *fo) && (rc = list_add(R, x, xl)))
        return rc;
    if (xl + 1 >= xcap)
        return PK_EMAXITER; /* an epsilon-output loop: the precover is infinite */
    size_t base = (size_t)v * (size_t)t->ns;
    for (int32_t s = 0; s < t->ns; s++) {
        const int32_t *o = t->obuf + t->ooff[base + (size_t)s];
        size_t k = (size_t)t->olen[base + (size_t)s], mm = k < n - p ? k : n - p;
        if (memcmp(o, y + p, mm * sizeof *o))
            continue;
        x[xl] = s;
        if (p + k >= n)
            rc = list_add(Q, x, xl + 1);
        else
            rc = decomp_rec(t, y, n, x, xl + 1, xcap, t->dest[base + (size_t)s], p + k, cap, Q, R);
        if (rc)
            return rc;
        if (Q->n + R->n > cap)
            return PK_EMAXITER;
    }
    return PK_OK;
}

int pk_tlm_decompose(pk_tlm *t, const int32_t *y, size_t n, size_t cap, pk_tlm_decomp *d)
{
    if (!t || !d || (n && !y))
        return PK_EINVAL;
    memset(d, 0, sizeof *d);
    seqlist Q = {0}, R = {0};
    size_t xcap = 4 * n + 64;
    int32_t *x = calloc(xcap, sizeof *x);
    if (!x)
        return PK_ENOMEM;
    int rc;
    if (n == 0)
        rc = list_add(&Q, x, 0); /* the empty prefix covers the empty target */
    else
        rc = decomp_rec(t, y, n, x, 0, xcap, 0, 0, cap, &Q, &R);
    free(x);
    if (!rc && (!Q.off || !R.off)) {
        /* give empty lists a valid offsets array */
        if (!Q.off && !(Q.off = calloc(1, sizeof *Q.off)))
            rc = PK_ENOMEM;
        if (!R.off && !(R.off = calloc(1, sizeof *R.off)))
            rc = PK_ENOMEM;
    }
    if (rc) {
        free(Q.off);
        free(Q.sym);
        free(R.off);
        free(R.sym);
        return rc;
    }
    d->nq = Q.n;
    d->nr = R.n;
    d->qoff = Q.off;
    d->roff = R.off;
    d->qsym = Q.sym;
    d->rsym = R.sym;
    return PK_OK;
}

void pk_tlm_decomp_free(pk_tlm_decomp *d)
{
    if (!d)
        return;
    free(d->qoff);
    free(d->roff);
    free(d->qsym);
    free(d->rsym);
    memset(d, 0, sizeof *d);
}

/* ---- n-gram source -------------------------------------------------------- */

static int ngram_next(void *ctx, const int32_t *x, size_t n, double *logp)
{
    const pk_ngram *m = ctx;
    int rc = pk_ngram_next_dist(m, x, n, logp);
    if (rc)
        return rc;
    for (int32_t a = 0; a <= pk_ngram_vocab(m); a++)
        logp[a] = log(logp[a]);
    return PK_OK;
}

void pk_ngram_seq_lm(const pk_ngram *m, pk_seq_lm *lm)
{
    lm->nsym = pk_ngram_vocab(m);
    lm->key_len = pk_ngram_order(m) - 1;
    lm->next_logp = ngram_next;
    lm->ctx = (void *)(uintptr_t)m;
}
