/* WFST algorithms in the log semiring: composition (epsilon sequence filter),
 * shortest distance (Mohri's generic single-source algorithm), epsilon
 * removal, pair weights and acceptor determinisation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fst_priv.h"
#include "seq_priv.h"

/* ---- a hash map from int64 triples to state ids --------------------------- */

typedef struct tmap {
    size_t cap, n;
    int64_t *k; /* [cap*3] */
    int32_t *v;
} tmap;

static int tmap_init(tmap *m)
{
    m->cap = 1024;
    m->n = 0;
    m->k = malloc(m->cap * 3 * sizeof *m->k);
    m->v = malloc(m->cap * sizeof *m->v);
    if (!m->k || !m->v)
        return PK_ENOMEM;
    for (size_t i = 0; i < m->cap; i++)
        m->v[i] = -1;
    return PK_OK;
}

static void tmap_free(tmap *m)
{
    free(m->k);
    free(m->v);
}

static size_t tmap_slot(const tmap *m, int64_t a, int64_t b, int64_t c)
{
    uint64_t h = pk_seq_mix64((uint64_t)a * 0x9e3779b97f4a7c15ULL ^ pk_seq_mix64((uint64_t)b + 7 * (uint64_t)c));
    size_t i = (size_t)h & (m->cap - 1);
    while (m->v[i] >= 0 && !(m->k[3 * i] == a && m->k[3 * i + 1] == b && m->k[3 * i + 2] == c))
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int tmap_put(tmap *m, int64_t a, int64_t b, int64_t c, int32_t v)
{
    if ((m->n + 1) * 2 > m->cap) {
        tmap g = {m->cap * 2, 0, NULL, NULL};
        g.k = malloc(g.cap * 3 * sizeof *g.k);
        g.v = malloc(g.cap * sizeof *g.v);
        if (!g.k || !g.v) {
            tmap_free(&g);
            return PK_ENOMEM;
        }
        for (size_t i = 0; i < g.cap; i++)
            g.v[i] = -1;
        for (size_t i = 0; i < m->cap; i++)
            if (m->v[i] >= 0) {
                size_t j = tmap_slot(&g, m->k[3 * i], m->k[3 * i + 1], m->k[3 * i + 2]);
                memcpy(g.k + 3 * j, m->k + 3 * i, 3 * sizeof *g.k);
                g.v[j] = m->v[i];
            }
        g.n = m->n;
        tmap_free(m);
        *m = g;
    }
    size_t i = tmap_slot(m, a, b, c);
    m->k[3 * i] = a;
    m->k[3 * i + 1] = b;
    m->k[3 * i + 2] = c;
    if (m->v[i] < 0)
        m->n++;
    m->v[i] = v;
    return PK_OK;
}

static int32_t tmap_get(const tmap *m, int64_t a, int64_t b, int64_t c)
{
    return m->v[tmap_slot(m, a, b, c)];
}

/* ---- composition ---------------------------------------------------------- */

typedef struct triple {
    int32_t a, b, f;
} triple;

static int state_of(pk_fst *r, tmap *m, triple **q, size_t *nq, size_t *cq, int32_t a, int32_t b, int32_t f,
                    int32_t *id)
{
    int32_t s = tmap_get(m, a, b, f);
    if (s >= 0) {
        *id = s;
        return PK_OK;
    }
    if ((s = pk_fst_add_state(r)) < 0 || tmap_put(m, a, b, f, s))
        return PK_ENOMEM;
    if (*nq == *cq) {
        size_t c = *cq ? *cq * 2 : 256;
        triple *t = realloc(*q, c * sizeof *t);
        if (!t)
            return PK_ENOMEM;
        *q = t;
        *cq = c;
    }
    (*q)[(*nq)++] = (triple){a, b, f};
    *id = s;
    return PK_OK;
}

int pk_fst_compose(const pk_fst *A, const pk_fst *B, pk_fst **out, pk_err *err)
{
    if (!A || !B || !out)
        return pk_err_set(err, PK_EINVAL, "fst compose: NULL argument");
    *out = NULL;
    pk_fst *r = pk_fst_new();
    tmap m = {0};
    triple *q = NULL;
    size_t nq = 0, cq = 0;
    int rc = PK_ENOMEM;
    if (!r || tmap_init(&m))
        goto done;
    if (A->start < 0 || B->start < 0) {
        *out = r;
        r = NULL;
        rc = PK_OK;
        goto done;
    }
    int32_t s0;
    if (state_of(r, &m, &q, &nq, &cq, A->start, B->start, 0, &s0))
        goto done;
    r->start = s0;
    /* states are numbered in discovery order, so q[i] is state i */
    for (size_t i = 0; i < nq; i++) {
        triple t = q[i];
        const pk_fst_state *sa = &A->st[t.a], *sb = &B->st[t.b];
        int32_t id;
        if (sa->final < INFINITY && sb->final < INFINITY)
            r->st[i].final = sa->final + sb->final;
        for (size_t x = 0; x < sa->narc; x++) {
            const pk_fst_arc *ea = &sa->arcs[x];
            if (ea->olabel == 0) {
                /* A moves alone: only before any B-alone move (sequence filter) */
                if (t.f != 0)
                    continue;
                if (state_of(r, &m, &q, &nq, &cq, ea->next, t.b, 0, &id) ||
                    pk_fst_add_arc(r, (int32_t)i, ea->ilabel, 0, ea->weight, id))
                    goto done;
                continue;
            }
            for (size_t y = 0; y < sb->narc; y++) {
                const pk_fst_arc *eb = &sb->arcs[y];
                if (eb->ilabel != ea->olabel)
                    continue;
                if (state_of(r, &m, &q, &nq, &cq, ea->next, eb->next, 0, &id) ||
                    pk_fst_add_arc(r, (int32_t)i, ea->ilabel, eb->olabel, ea->weight + eb->weight, id))
                    goto done;
            }
        }
        for (size_t y = 0; y < sb->narc; y++) {
            const pk_fst_arc *eb = &sb->arcs[y];
            if (eb->ilabel != 0)
                continue;
            if (state_of(r, &m, &q, &nq, &cq, t.a, eb->next, 1, &id) ||
                pk_fst_add_arc(r, (int32_t)i, 0, eb->olabel, eb->weight, id))
                goto done;
        }
    }
    *out = r;
    r = NULL;
    rc = PK_OK;
done:
    pk_fst_free(r);
    tmap_free(&m);
    free(q);
    if (rc)
        return pk_err_set(err, rc, "fst compose: out of memory");
    return PK_OK;
}

/* ---- shortest distance ---------------------------------------------------- */

/* Generic single-source shortest distance (Mohri 2002) in the log semiring
 * over the arcs accepted by `keep` (NULL: all).  Exact on acyclic graphs; on
 * cyclic ones iterates until residuals fall below 1e-15 of the distance. */
static int sssd(const pk_fst *f, int32_t src, int eps_only, double *d, double *res, int32_t *queue, uint8_t *inq)
{
    int32_t n = f->n;
    for (int32_t s = 0; s < n; s++) {
        d[s] = INFINITY;
        res[s] = INFINITY;
        inq[s] = 0;
    }
    d[src] = 0;
    res[src] = 0;
    size_t head = 0, tail = 0, cnt = 0, cap = (size_t)n + 1;
    queue[tail] = src;
    tail = (tail + 1) % cap;
    inq[src] = 1;
    cnt = 1;
    int64_t steps = 0, limit = (int64_t)1000 * ((int64_t)n + (int64_t)pk_fst_total_arcs(f)) + 100000;
    while (cnt) {
        int32_t s = queue[head];
        head = (head + 1) % cap;
        cnt--;
        inq[s] = 0;
        double r = res[s];
        res[s] = INFINITY;
        if (++steps > limit)
            return PK_EDOM;
        for (size_t i = 0; i < f->st[s].narc; i++) {
            const pk_fst_arc *a = &f->st[s].arcs[i];
            if (eps_only && (a->ilabel != 0 || a->olabel != 0))
                continue;
            double w = r + a->weight;
            if (w == INFINITY)
                continue;
            double nd = pk_fst_plus(d[a->next], w);
            /* skip contributions that no longer change the distance */
            if (d[a->next] < INFINITY && fabs(nd - d[a->next]) <= 1e-15 * (1 + fabs(nd)))
                continue;
            d[a->next] = nd;
            res[a->next] = pk_fst_plus(res[a->next], w);
            if (!inq[a->next]) {
                queue[tail] = a->next;
                tail = (tail + 1) % cap;
                cnt++;
                inq[a->next] = 1;
            }
        }
    }
    for (int32_t s = 0; s < n; s++)
        if (d[s] < -1e-9 && eps_only)
            return PK_EDOM; /* closure mass above one: the epsilon cycle diverges */
    return PK_OK;
}

/* Acyclic fast path: one pass in topological order (Kahn) over the part
 * reachable from the start.  Returns 1 if the FST was acyclic (d filled), 0
 * if a cycle was found, -1 on allocation failure. */
static int topo_distance(const pk_fst *f, double *d)
{
    int32_t n = f->n;
    int32_t *indeg = calloc((size_t)n, sizeof *indeg), *stack = malloc((size_t)n * sizeof *stack);
    uint8_t *reach = calloc((size_t)n, 1);
    if (!indeg || !stack || !reach) {
        free(indeg);
        free(stack);
        free(reach);
        return -1;
    }
    /* reachable states (depth-first), then in-degrees from reachable sources */
    size_t top = 0, nreach = 0;
    stack[top++] = f->start;
    reach[f->start] = 1;
    while (top) {
        int32_t s = stack[--top];
        nreach++;
        for (size_t i = 0; i < f->st[s].narc; i++) {
            int32_t t = f->st[s].arcs[i].next;
            indeg[t]++;
            if (!reach[t]) {
                reach[t] = 1;
                stack[top++] = t;
            }
        }
    }
    for (int32_t s = 0; s < n; s++)
        d[s] = INFINITY;
    d[f->start] = 0;
    size_t done = 0;
    top = 0;
    if (indeg[f->start] == 0)
        stack[top++] = f->start;
    while (top) {
        int32_t s = stack[--top];
        done++;
        for (size_t i = 0; i < f->st[s].narc; i++) {
            const pk_fst_arc *a = &f->st[s].arcs[i];
            if (d[s] < INFINITY && a->weight < INFINITY)
                d[a->next] = pk_fst_plus(d[a->next], d[s] + a->weight);
            if (--indeg[a->next] == 0)
                stack[top++] = a->next;
        }
    }
    free(indeg);
    free(stack);
    free(reach);
    return done == nreach;
}

int pk_fst_shortest_distance(const pk_fst *f, double *d, pk_err *err)
{
    if (!f || !d)
        return pk_err_set(err, PK_EINVAL, "fst shortest distance: NULL argument");
    if (f->start < 0) {
        for (int32_t s = 0; s < f->n; s++)
            d[s] = INFINITY;
        return PK_OK;
    }
    int acyclic = topo_distance(f, d);
    if (acyclic < 0)
        return pk_err_set(err, PK_ENOMEM, "fst shortest distance: out of memory");
    if (acyclic)
        return PK_OK;
    double *res = malloc((size_t)f->n * sizeof *res);
    int32_t *queue = malloc(((size_t)f->n + 1) * sizeof *queue);
    uint8_t *inq = malloc((size_t)f->n);
    int rc = res && queue && inq ? sssd(f, f->start, 0, d, res, queue, inq) : PK_ENOMEM;
    free(res);
    free(queue);
    free(inq);
    if (rc == PK_EDOM)
        return pk_err_set(err, rc, "fst shortest distance: did not converge (a cycle with mass >= 1?)");
    if (rc)
        return pk_err_set(err, rc, "fst shortest distance: out of memory");
    return PK_OK;
}

double pk_fst_total_weight(const pk_fst *f, pk_err *err)
{
    if (!f || f->n == 0)
        return INFINITY;
    double *d = malloc((size_t)f->n * sizeof *d);
    if (!d) {
        pk_err_set(err, PK_ENOMEM, "fst: out of memory");
        return NAN;
    }
    if (pk_fst_shortest_distance(f, d, err)) {
        free(d);
        return NAN;
    }
    double t = INFINITY;
    for (int32_t s = 0; s < f->n; s++)
        if (d[s] < INFINITY && f->st[s].final < INFINITY)
            t = pk_fst_plus(t, d[s] + f->st[s].final);
    free(d);
    return t;
}

/* ---- epsilon removal ------------------------------------------------------ */

int pk_fst_rm_epsilon(const pk_fst *f, pk_fst **out, pk_err *err)
{
    if (!f || !out)
        return pk_err_set(err, PK_EINVAL, "fst rmepsilon: NULL argument");
    *out = NULL;
    int32_t n = f->n;
    pk_fst *r = pk_fst_new();
    double *d = malloc(((size_t)n + 1) * sizeof *d), *res = malloc(((size_t)n + 1) * sizeof *res);
    int32_t *queue = malloc(((size_t)n + 1) * sizeof *queue);
    uint8_t *inq = malloc((size_t)n + 1);
    int rc = PK_ENOMEM;
    if (!r || !d || !res || !queue || !inq || pk_fst_ensure_states(r, n))
        goto done;
    r->start = f->start;
    for (int32_t q = 0; q < n; q++) {
        if ((rc = sssd(f, q, 1, d, res, queue, inq)))
            goto done;
        double fin = INFINITY;
        for (int32_t s = 0; s < n; s++) {
            if (d[s] == INFINITY)
                continue;
            fin = pk_fst_plus(fin, d[s] + f->st[s].final);
            for (size_t i = 0; i < f->st[s].narc; i++) {
                const pk_fst_arc *a = &f->st[s].arcs[i];
                if (a->ilabel == 0 && a->olabel == 0)
                    continue;
                if ((rc = pk_fst_add_arc(r, q, a->ilabel, a->olabel, d[s] + a->weight, a->next)))
                    goto done;
            }
        }
        r->st[q].final = fin;
    }
    *out = r;
    r = NULL;
    rc = PK_OK;
done:
    pk_fst_free(r);
    free(d);
    free(res);
    free(queue);
    free(inq);
    if (rc == PK_EDOM)
        return pk_err_set(err, rc, "fst rmepsilon: an epsilon cycle has mass >= 1");
    if (rc)
        return pk_err_set(err, rc, "fst rmepsilon: out of memory");
    return PK_OK;
}

/* ---- pair weight ---------------------------------------------------------- */

static pk_fst *linear(const int32_t *x, size_t n)
{
    pk_fst *f = pk_fst_new();
    if (!f || pk_fst_ensure_states(f, (int32_t)n + 1)) {
        pk_fst_free(f);
        return NULL;
    }
    f->start = 0;
    for (size_t i = 0; i < n; i++)
        if (pk_fst_add_arc(f, (int32_t)i, x[i], x[i], 0, (int32_t)i + 1)) {
            pk_fst_free(f);
            return NULL;
        }
    f->st[n].final = 0;
    return f;
}

double pk_fst_pair_weight(const pk_fst *f, const int32_t *x, size_t nx, const int32_t *y, size_t ny, pk_err *err)
{
    pk_fst *X = linear(x, nx), *Y = linear(y, ny), *XF = NULL, *XFY = NULL;
    double w = NAN;
    if (!X || !Y) {
        pk_err_set(err, PK_ENOMEM, "fst: out of memory");
        goto done;
    }
    if (pk_fst_compose(X, f, &XF, err) || pk_fst_compose(XF, Y, &XFY, err))
        goto done;
    w = pk_fst_total_weight(XFY, err);
done:
    pk_fst_free(X);
    pk_fst_free(Y);
    pk_fst_free(XF);
    pk_fst_free(XFY);
    return w;
}
