/* Batch Alergia: prefix tree, red-blue state merging with the Hoeffding
 * compatibility test (Carrasco & Oncina 1994; red-blue order as in Lang et
 * al. 1998), and conversion of the merged tree into a smoothed PDFA. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pdfa_priv.h"

pk_alergia_params pk_alergia_params_default(void)
{
    pk_alergia_params p = {0.05, 10, 1.0};
    return p;
}

int pk_alergia_params_check(const pk_alergia_params *p, pk_err *err)
{
    if (!p)
        return pk_err_set(err, PK_EINVAL, "alergia: NULL parameters");
    if (!(p->alpha > 0 && p->alpha < 1))
        return pk_err_set(err, PK_EINVAL, "alergia: alpha = %g must be in (0, 1)", p->alpha);
    if (p->t0 < 1)
        return pk_err_set(err, PK_EINVAL, "alergia: t0 = %lld must be >= 1", (long long)p->t0);
    if (!(p->smoothing >= 0) || !isfinite(p->smoothing))
        return pk_err_set(err, PK_EINVAL, "alergia: smoothing = %g must be >= 0", p->smoothing);
    return PK_OK;
}

int pk_pdfa_hoeffding_differ(double f1, double n1, double f2, double n2, double alpha)
{
    if (n1 <= 0 || n2 <= 0)
        return 0;
    double bound = sqrt(0.5 * log(2.0 / alpha)) * (1.0 / sqrt(n1) + 1.0 / sqrt(n2));
    return fabs(f1 / n1 - f2 / n2) > bound;
}

/* Prefix tree in flat arrays; merged nodes are folded into their target. */
typedef struct tree {
    int32_t k;
    size_t n, cap;
    int32_t *child;  /* [cap*k] */
    double *cnt;     /* [cap*(k+1)] counts of each symbol and END */
    double *tot;     /* [cap] visits */
    int32_t *parent; /* [cap] */
    int32_t *psym;   /* [cap] */
    uint8_t *color;  /* [cap] 0 white, 1 red, 2 blue-kept (left as a tree), 3 dead */
} tree;

static void tree_free(tree *t)
{
    free(t->child);
    free(t->cnt);
    free(t->tot);
    free(t->parent);
    free(t->psym);
    free(t->color);
}

static int tree_grow(tree *t)
{
    size_t c = t->cap ? t->cap * 2 : 1024, k = (size_t)t->k;
    int32_t *ch = realloc(t->child, c * k * sizeof *ch);
    if (!ch)
        return PK_ENOMEM;
    t->child = ch;
    double *cn = realloc(t->cnt, c * (k + 1) * sizeof *cn);
    if (!cn)
        return PK_ENOMEM;
    t->cnt = cn;
    double *to = realloc(t->tot, c * sizeof *to);
    if (!to)
        return PK_ENOMEM;
    t->tot = to;
    int32_t *pa = realloc(t->parent, c * sizeof *pa);
    if (!pa)
        return PK_ENOMEM;
    t->parent = pa;
    int32_t *ps = realloc(t->psym, c * sizeof *ps);
    if (!ps)
        return PK_ENOMEM;
    t->psym = ps;
    uint8_t *co = realloc(t->color, c);
    if (!co)
        return PK_ENOMEM;
    t->color = co;
    t->cap = c;
    return PK_OK;
}

static int tree_node(tree *t, int32_t parent, int32_t sym, int32_t *id)
{
    if (t->n == t->cap && tree_grow(t))
        return PK_ENOMEM;
    if (t->n >= INT32_MAX)
        return PK_ENOMEM;
    size_t i = t->n++, k = (size_t)t->k;
    for (size_t a = 0; a < k; a++)
        t->child[i * k + a] = -1;
    memset(t->cnt + i * (k + 1), 0, (k + 1) * sizeof *t->cnt);
    t->tot[i] = 0;
    t->parent[i] = parent;
    t->psym[i] = sym;
    t->color[i] = 0;
    *id = (int32_t)i;
    return PK_OK;
}

int pk_pdfa_pairs_push(pk_pdfa_pairs *s, int32_t a, int32_t b)
{
    if (s->n + 2 > s->cap) {
        size_t c = s->cap ? s->cap * 2 : 256;
        int32_t *v = realloc(s->v, c * sizeof *v);
        if (!v)
            return PK_ENOMEM;
        s->v = v;
        s->cap = c;
    }
    s->v[s->n++] = a;
    s->v[s->n++] = b;
    return PK_OK;
}

/* 1 if the subtree at b is compatible with the (possibly cyclic) machine at r.
 * The walk follows b's finite subtree, so it terminates.  *score gets the sum
 * over compared pairs of the smaller visit count (evidence, larger = better). */
static int compatible(const tree *t, int32_t r, int32_t b, double alpha, pk_pdfa_pairs *st, double *score, int *oom)
{
    size_t k = (size_t)t->k;
    st->n = 0;
    *score = 0;
    if (pk_pdfa_pairs_push(st, r, b)) {
        *oom = 1;
        return 0;
    }
    while (st->n) {
        int32_t y = st->v[--st->n], x = st->v[--st->n];
        double nx = t->tot[x], ny = t->tot[y];
        if (nx <= 0 || ny <= 0)
            continue;
        *score += nx < ny ? nx : ny;
        for (size_t a = 0; a <= k; a++)
            if (pk_pdfa_hoeffding_differ(t->cnt[(size_t)x * (k + 1) + a], nx, t->cnt[(size_t)y * (k + 1) + a], ny,
                                         alpha))
                return 0;
        for (size_t a = 0; a < k; a++) {
            int32_t cx = t->child[(size_t)x * k + a], cy = t->child[(size_t)y * k + a];
            if (cx >= 0 && cy >= 0 && pk_pdfa_pairs_push(st, cx, cy)) {
                *oom = 1;
                return 0;
            }
        }
    }
    return 1;
}

/* Merge blue b into red r: redirect b's parent edge, fold counts down. */
static int fold(tree *t, int32_t r, int32_t b, pk_pdfa_pairs *st)
{
    size_t k = (size_t)t->k;
    t->child[(size_t)t->parent[b] * k + (size_t)t->psym[b]] = r;
    st->n = 0;
    if (pk_pdfa_pairs_push(st, r, b))
        return PK_ENOMEM;
    while (st->n) {
        int32_t y = st->v[--st->n], x = st->v[--st->n];
        for (size_t a = 0; a <= k; a++)
            t->cnt[(size_t)x * (k + 1) + a] += t->cnt[(size_t)y * (k + 1) + a];
        t->tot[x] += t->tot[y];
        t->color[y] = 3;
        for (size_t a = 0; a < k; a++) {
            int32_t cy = t->child[(size_t)y * k + a];
            if (cy < 0)
                continue;
            int32_t cx = t->child[(size_t)x * k + a];
            if (cx >= 0) {
                if (pk_pdfa_pairs_push(st, cx, cy))
                    return PK_ENOMEM;
            } else {
                t->child[(size_t)x * k + a] = cy;
                t->parent[cy] = x;
                t->psym[cy] = (int32_t)a;
            }
        }
    }
    return PK_OK;
}

int pk_pdfa_from_counts(int32_t k, size_t n, const int32_t *child, const double *cnt, const uint8_t *alive,
                        double smoothing, const double *bg, pk_pdfa **out)
{
    int32_t *map = malloc(n * sizeof *map), *queue = malloc(n * sizeof *queue);
    if (!map || !queue) {
        free(map);
        free(queue);
        return PK_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        map[i] = -1;
    size_t head = 0, tail = 0;
    map[0] = 0;
    queue[tail++] = 0;
    int32_t nq = 1;
    while (head < tail) {
        int32_t q = queue[head++];
        for (int32_t a = 0; a < k; a++) {
            int32_t c = child[(size_t)q * (size_t)k + (size_t)a];
            if (c >= 0 && (!alive || alive[c]) && map[c] < 0) {
                map[c] = nq++;
                queue[tail++] = c;
            }
        }
    }
    pk_pdfa *m = pk_pdfa_new(nq, k);
    if (!m) {
        free(map);
        free(queue);
        return PK_ENOMEM;
    }
    for (size_t i = 0; i < tail; i++) {
        int32_t q = queue[i];
        const double *c = cnt + (size_t)q * (size_t)(k + 1);
        for (int32_t a = 0; a < k; a++) {
            int32_t d = child[(size_t)q * (size_t)k + (size_t)a];
            int32_t dm = d >= 0 && (!alive || alive[d]) ? map[d] : -1;
            if (dm >= 0 || c[a] > 0)
                pk_pdfa_set(m, map[q], a, dm, c[a]);
        }
        pk_pdfa_set_final(m, map[q], c[k]);
    }
    pk_pdfa_set_smoothing(m, smoothing, bg);
    free(map);
    free(queue);
    *out = m;
    return PK_OK;
}

int pk_pdfa_background(const pk_seqs *s, double *bg)
{
    int32_t k = s->nsym;
    for (int32_t a = 0; a <= k; a++)
        bg[a] = 1; /* add-one: every symbol keeps positive mass */
    for (size_t i = 0; i < s->off[s->n]; i++)
        bg[s->sym[i]] += 1;
    bg[k] += (double)s->n;
    return PK_OK;
}

int pk_alergia_learn(const pk_seqs *train, const pk_alergia_params *p, pk_pdfa **out, pk_pdfa_learn_stats *stats,
                     pk_err *err)
{
    if (!train || !out)
        return pk_err_set(err, PK_EINVAL, "alergia: NULL argument");
    *out = NULL;
    int rc = pk_alergia_params_check(p, err);
    if (rc)
        return rc;
    if (train->n == 0)
        return pk_err_set(err, PK_EINVAL, "alergia: empty training set");
    tree t = {0};
    t.k = train->nsym;
    size_t k = (size_t)t.k;
    pk_pdfa_pairs st = {0};
    int32_t *reds = NULL, *blues = NULL;
    double *bg = NULL;
    int32_t root;
    if ((rc = tree_node(&t, -1, -1, &root)))
        goto nomem;
    for (size_t i = 0; i < train->n; i++) {
        const int32_t *x = pk_seqs_at(train, i);
        size_t len = pk_seqs_len(train, i);
        int32_t q = root;
        for (size_t j = 0; j <= len; j++) {
            size_t a = j < len ? (size_t)x[j] : k;
            t.tot[q] += 1;
            t.cnt[(size_t)q * (k + 1) + a] += 1;
            if (j == len)
                break;
            int32_t c = t.child[(size_t)q * k + a];
            if (c < 0) {
                if ((rc = tree_node(&t, q, (int32_t)a, &c)))
                    goto nomem;
                t.child[(size_t)q * k + a] = c;
            }
            q = c;
        }
    }
    int64_t nodes = (int64_t)t.n;
    int64_t peak = (int64_t)(t.cap * (k * 4 + (k + 1) * 8 + 8 + 4 + 4 + 1));
    int64_t merges = 0;
    reds = malloc(t.n * sizeof *reds);
    blues = malloc(t.n * sizeof *blues);
    bg = malloc((k + 1) * sizeof *bg);
    if (!reds || !blues || !bg)
        goto nomem;
    size_t nred = 1;
    reds[0] = root;
    t.color[root] = 1;
    for (;;) {
        /* blue = white children of red states; pick the most visited */
        int32_t best = -1;
        for (size_t i = 0; i < nred; i++)
            for (size_t a = 0; a < k; a++) {
                int32_t c = t.child[(size_t)reds[i] * k + a];
                if (c >= 0 && t.color[c] == 0 && (best < 0 || t.tot[c] > t.tot[best]))
                    best = c;
            }
        if (best < 0)
            break;
        int32_t target = -1;
        double best_score = -1;
        for (size_t i = 0; i < nred; i++) {
            double sc;
            int oom = 0;
            if (compatible(&t, reds[i], best, p->alpha, &st, &sc, &oom) && sc > best_score) {
                best_score = sc;
                target = reds[i];
            }
            if (oom)
                goto nomem;
        }
        if (target >= 0) {
            if ((rc = fold(&t, target, best, &st)))
                goto nomem;
            merges++;
        } else if (t.tot[best] >= (double)p->t0) {
            t.color[best] = 1;
            reds[nred++] = best;
        } else {
            t.color[best] = 2; /* too rare to decide: keep its subtree as it is */
        }
    }
    uint8_t *alive = malloc(t.n);
    if (!alive)
        goto nomem;
    for (size_t i = 0; i < t.n; i++)
        alive[i] = t.color[i] != 3;
    pk_pdfa_background(train, bg);
    rc = pk_pdfa_from_counts(t.k, t.n, t.child, t.cnt, alive, p->smoothing, bg, out);
    free(alive);
    if (rc)
        goto nomem;
    if (stats) {
        stats->tree_nodes = nodes;
        stats->merges = merges;
        stats->undone = 0;
        stats->peak_bytes = peak;
        stats->states = pk_pdfa_nstates(*out);
    }
    tree_free(&t);
    free(st.v);
    free(reds);
    free(blues);
    free(bg);
    return PK_OK;
nomem:
    tree_free(&t);
    free(st.v);
    free(reds);
    free(blues);
    free(bg);
    return pk_err_set(err, PK_ENOMEM, "alergia: out of memory");
}
