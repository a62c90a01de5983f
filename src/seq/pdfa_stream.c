/* Streaming PDFA learning in the manner of Baumgartner & Verwer ("PAC learning
 * PDFA from data streams"): strings arrive in batches; only red states and
 * their blue children are stored, so memory grows with the model, not the
 * stream.  A blue node keeps exact next-symbol counts and either count-min
 * sketches of the next h symbols (h = 2..H) of every string that reached it
 * (sketch mode) or the prefix tree of those strings cut H-1 levels below it
 * (Alergia mode, tested recursively as batch Alergia does); these stand in
 * for the subtree that a batch learner would have.  After each batch
 * the previous batch's merges are undone (counts and sketches subtract) and
 * re-tested on the grown counts (replayed first), then red-blue merging
 * continues. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pdfa_priv.h"
#include "seq_priv.h"

/* WHITE: a node of the depth-limited prefix tree below a blue node (Alergia
 * test only); it becomes BLUE when its parent is promoted to red. */
enum { BLUE = 0, RED = 1, MERGED = 2, WHITE = 3 };

struct pk_pdfa_stream {
    pk_stream_params p;
    int32_t k;
    size_t sk;      /* sketch cells per node: (H-1) * rows * width */
    size_t n, cap;  /* nodes */
    int32_t *child; /* [cap*k] */
    double *cnt;    /* [cap*(k+1)] */
    double *tot;    /* [cap] */
    int32_t *parent, *psym, *prev; /* prev: red target of the (last) merge, for the walk and replay */
    uint8_t *color;
    uint32_t *stamp; /* round in which a blue was last decided */
    int32_t *sketch; /* [cap*sk] */
    int32_t *reds;
    size_t nred;
    pk_pdfa_pairs log; /* statistics added by the last batch's merges: (from, into); see log_pair */
    pk_pdfa_pairs stk; /* work list of the recursive Alergia test and fold */
    pk_seqs *batch;
    double *bg; /* [k+1] running symbol/END counts */
    uint64_t rowseed[8];
    uint32_t round;
    int64_t merges, undone, peak;
};

pk_stream_params pk_stream_params_default(void)
{
    pk_stream_params p = {500, 0.2, 30, PK_STREAM_SKETCH, 5, 2, 64, 0.0, 1.0};
    return p;
}

pk_stream_params pk_stream_params_default_test(pk_stream_test test)
{
    pk_stream_params p = pk_stream_params_default();
    if (test == PK_STREAM_ALERGIA) {
        p.test = PK_STREAM_ALERGIA;
        p.alpha = 0.05;
        p.t0 = 50;
        p.horizons = 4;
    }
    return p;
}

int pk_stream_params_check(const pk_stream_params *p, pk_err *err)
{
    if (!p)
        return pk_err_set(err, PK_EINVAL, "stream: NULL parameters");
    if (p->batch < 1)
        return pk_err_set(err, PK_EINVAL, "stream: batch = %zu must be >= 1", p->batch);
    if (!(p->alpha > 0 && p->alpha < 1))
        return pk_err_set(err, PK_EINVAL, "stream: alpha = %g must be in (0, 1)", p->alpha);
    if (p->t0 < 1)
        return pk_err_set(err, PK_EINVAL, "stream: t0 must be >= 1");
    if (p->test != PK_STREAM_ALERGIA && p->test != PK_STREAM_SKETCH)
        return pk_err_set(err, PK_EINVAL, "stream: unknown test %d", (int)p->test);
    if (p->horizons < 1 || p->horizons > 8)
        return pk_err_set(err, PK_EINVAL, "stream: horizons = %d must be in 1..8", p->horizons);
    if (p->sketch_rows < 1 || p->sketch_rows > 8)
        return pk_err_set(err, PK_EINVAL, "stream: sketch_rows = %d must be in 1..8", p->sketch_rows);
    if (p->sketch_width < 8 || p->sketch_width > 4096)
        return pk_err_set(err, PK_EINVAL, "stream: sketch_width = %d must be in 8..4096", p->sketch_width);
    if (!(p->min_cosine >= 0 && p->min_cosine <= 1))
        return pk_err_set(err, PK_EINVAL, "stream: min_cosine = %g must be in [0, 1]", p->min_cosine);
    if (!(p->smoothing >= 0) || !isfinite(p->smoothing))
        return pk_err_set(err, PK_EINVAL, "stream: smoothing must be >= 0");
    return PK_OK;
}

static size_t node_bytes(const pk_pdfa_stream *s)
{
    size_t k = (size_t)s->k;
    return k * 4 + (k + 1) * 8 + 8 + 4 * 3 + 1 + 4 + s->sk * 4;
}

static int grow(pk_pdfa_stream *s)
{
    size_t c = s->cap ? s->cap * 2 : 64, k = (size_t)s->k;
#define RE(field, count)                                                                                       \
    do {                                                                                                       \
        void *t_ = realloc(s->field, (count) * sizeof *s->field);                                             \
        if (!t_)                                                                                               \
            return PK_ENOMEM;                                                                                  \
        s->field = t_;                                                                                         \
    } while (0)
    RE(child, c * k);
    RE(cnt, c * (k + 1));
    RE(tot, c);
    RE(parent, c);
    RE(psym, c);
    RE(prev, c);
    RE(color, c);
    RE(stamp, c);
    RE(reds, c);
    if (s->sk)
        RE(sketch, c * s->sk);
#undef RE
    s->cap = c;
    return PK_OK;
}

static int new_node(pk_pdfa_stream *s, int32_t parent, int32_t sym, int32_t *id)
{
    if (s->n == s->cap && grow(s))
        return PK_ENOMEM;
    size_t i = s->n++, k = (size_t)s->k;
    for (size_t a = 0; a < k; a++)
        s->child[i * k + a] = -1;
    memset(s->cnt + i * (k + 1), 0, (k + 1) * sizeof *s->cnt);
    if (s->sk)
        memset(s->sketch + i * s->sk, 0, s->sk * sizeof *s->sketch);
    s->tot[i] = 0;
    s->parent[i] = parent;
    s->psym[i] = sym;
    s->prev[i] = -1;
    s->color[i] = BLUE;
    s->stamp[i] = 0;
    *id = (int32_t)i;
    return PK_OK;
}

int pk_pdfa_stream_new(int32_t nsym, const pk_stream_params *p, pk_pdfa_stream **out, pk_err *err)
{
    if (!out)
        return pk_err_set(err, PK_EINVAL, "stream: NULL output");
    *out = NULL;
    if (nsym < 1)
        return pk_err_set(err, PK_EINVAL, "stream: alphabet size %d must be >= 1", nsym);
    int rc = pk_stream_params_check(p, err);
    if (rc)
        return rc;
    pk_pdfa_stream *s = calloc(1, sizeof *s);
    if (!s)
        return pk_err_set(err, PK_ENOMEM, "stream: out of memory");
    s->p = *p;
    s->k = nsym;
    s->sk = p->test == PK_STREAM_SKETCH ? (size_t)(p->horizons - 1) * (size_t)p->sketch_rows * (size_t)p->sketch_width
                                        : 0;
    for (int r = 0; r < 8; r++)
        s->rowseed[r] = pk_seq_mix64(0x5eedULL + (uint64_t)r * 0x9e3779b97f4a7c15ULL);
    s->batch = pk_seqs_new(nsym);
    s->bg = calloc((size_t)nsym + 1, sizeof *s->bg);
    int32_t root;
    if (!s->batch || !s->bg || new_node(s, -1, -1, &root)) {
        pk_pdfa_stream_free(s);
        return pk_err_set(err, PK_ENOMEM, "stream: out of memory");
    }
    s->color[root] = RED;
    s->reds[s->nred++] = root;
    *out = s;
    return PK_OK;
}

void pk_pdfa_stream_free(pk_pdfa_stream *s)
{
    if (!s)
        return;
    free(s->child);
    free(s->cnt);
    free(s->tot);
    free(s->parent);
    free(s->psym);
    free(s->prev);
    free(s->color);
    free(s->stamp);
    free(s->sketch);
    free(s->reds);
    free(s->log.v);
    free(s->stk.v);
    pk_seqs_free(s->batch);
    free(s->bg);
    free(s);
}

/* Add the futures of x[j..] to node q's statistics. */
static void observe(pk_pdfa_stream *s, int32_t q, const int32_t *x, size_t len, size_t j)
{
    size_t k = (size_t)s->k;
    size_t a = j < len ? (size_t)x[j] : k;
    s->tot[q] += 1;
    s->cnt[(size_t)q * (k + 1) + a] += 1;
    if (!s->sk)
        return;
    int32_t *sk = s->sketch + (size_t)q * s->sk;
    size_t w = (size_t)s->p.sketch_width, rows = (size_t)s->p.sketch_rows;
    uint64_t g = pk_seq_mix64(a + 1);
    int ended = a == k;
    for (int h = 2; h <= s->p.horizons; h++) {
        if (!ended) {
            size_t jj = j + (size_t)h - 1;
            size_t b = jj < len ? (size_t)x[jj] : k;
            g = pk_seq_mix64(g * 0x100000001b3ULL + b + 1);
            ended = b == k;
        }
        int32_t *row = sk + (size_t)(h - 2) * rows * w;
        for (size_t r = 0; r < rows; r++)
            row[r * w + pk_seq_mix64(g ^ s->rowseed[r]) % w] += 1;
    }
}

/* Alergia mode: the string that reached blue (or merged) node b at position j
 * also walks the prefix tree below b, H-1 levels deep, so that the test can
 * compare futures of up to H symbols exactly.  The tree below the frontier is
 * bounded by the model and H, not by the stream. */
static int fringe(pk_pdfa_stream *s, int32_t b, const int32_t *x, size_t len, size_t j)
{
    size_t k = (size_t)s->k;
    int32_t y = b;
    for (int d = 1; d < s->p.horizons && j < len; d++) {
        int32_t c = s->child[(size_t)y * k + (size_t)x[j]];
        if (c < 0) {
            if (new_node(s, y, x[j], &c))
                return PK_ENOMEM;
            s->color[c] = WHITE;
            s->child[(size_t)y * k + (size_t)x[j]] = c;
        }
        j++;
        observe(s, c, x, len, j);
        y = c;
    }
    return PK_OK;
}

/* Queue the pairs of children of x (hypothesis; a merged child stands for
 * its red target) and y (prefix tree) that both exist. */
static int push_children(pk_pdfa_stream *s, int32_t x, int32_t y)
{
    size_t k = (size_t)s->k;
    for (size_t a = 0; a < k; a++) {
        int32_t u = s->child[(size_t)x * k + a], v = s->child[(size_t)y * k + a];
        if (u < 0 || v < 0)
            continue;
        if (s->color[u] == MERGED)
            u = s->prev[u];
        if (pk_pdfa_pairs_push(&s->stk, u, v))
            return PK_ENOMEM;
    }
    return PK_OK;
}

/* Alergia's recursive test, as in batch Alergia: blue b's prefix tree (depth
 * H-1) against the hypothesis from red r (merged nodes stand for their red
 * target).  Returns 1 compatible, 0 not, -1 out of memory; *score = compared
 * evidence (sum of the smaller visit counts). */
static int consistent_tree(pk_pdfa_stream *s, int32_t r, int32_t b, double *score)
{
    size_t k = (size_t)s->k;
    *score = 0;
    s->stk.n = 0;
    if (pk_pdfa_pairs_push(&s->stk, r, b))
        return -1;
    while (s->stk.n) {
        int32_t y = s->stk.v[--s->stk.n], x = s->stk.v[--s->stk.n];
        double nx = s->tot[x], ny = s->tot[y];
        if (nx <= 0 || ny <= 0)
            continue;
        *score += nx < ny ? nx : ny;
        const double *cx = s->cnt + (size_t)x * (k + 1), *cy = s->cnt + (size_t)y * (k + 1);
        for (size_t a = 0; a <= k; a++)
            if (pk_pdfa_hoeffding_differ(cx[a], nx, cy[a], ny, s->p.alpha))
                return 0;
        if (push_children(s, x, y))
            return -1;
    }
    return 1;
}

/* Consistency of blue b with red r; *score = cosine of their statistics
 * (sketch mode) or the compared evidence (Alergia mode).  -1: out of memory. */
static int consistent(pk_pdfa_stream *s, int32_t r, int32_t b, double *score)
{
    if (!s->sk)
        return consistent_tree(s, r, b, score);
    size_t k = (size_t)s->k;
    double nr = s->tot[r], nb = s->tot[b];
    *score = 0;
    if (nr <= 0 || nb <= 0)
        return 1;
    const double *cr = s->cnt + (size_t)r * (k + 1), *cb = s->cnt + (size_t)b * (k + 1);
    double dot = 0, xr = 0, xb = 0;
    for (size_t a = 0; a <= k; a++) {
        if (pk_pdfa_hoeffding_differ(cr[a], nr, cb[a], nb, s->p.alpha))
            return 0;
        dot += cr[a] * cb[a];
        xr += cr[a] * cr[a];
        xb += cb[a] * cb[a];
    }
    if (s->sk) {
        const int32_t *sr = s->sketch + (size_t)r * s->sk, *sb = s->sketch + (size_t)b * s->sk;
        for (size_t i = 0; i < s->sk; i++) {
            if (pk_pdfa_hoeffding_differ(sr[i], nr, sb[i], nb, s->p.alpha))
                return 0;
            dot += (double)sr[i] * sb[i];
            xr += (double)sr[i] * sr[i];
            xb += (double)sb[i] * sb[i];
        }
    }
    *score = xr > 0 && xb > 0 ? dot / sqrt(xr * xb) : 0;
    return *score >= s->p.min_cosine;
}

static void add_stats(pk_pdfa_stream *s, int32_t r, int32_t b, double sign)
{
    size_t k = (size_t)s->k;
    for (size_t a = 0; a <= k; a++)
        s->cnt[(size_t)r * (k + 1) + a] += sign * s->cnt[(size_t)b * (k + 1) + a];
    s->tot[r] += sign * s->tot[b];
    if (s->sk) {
        int32_t *sr = s->sketch + (size_t)r * s->sk, *sb = s->sketch + (size_t)b * s->sk;
        int32_t m = sign > 0 ? 1 : -1;
        for (size_t i = 0; i < s->sk; i++)
            sr[i] += m * sb[i];
    }
}

/* Log "y's statistics were added to x"; a merge's own pair (the blue node
 * itself) is stored as -(y+1) so that undo can recolour it. */
static int log_pair(pk_pdfa_stream *s, int32_t y, int32_t x, int root)
{
    if (pk_pdfa_pairs_push(&s->log, root ? -y - 1 : y, x))
        return PK_ENOMEM;
    add_stats(s, x, y, +1);
    return PK_OK;
}

/* Merge blue b into red r.  Sketch mode adds b's statistics to r.  Alergia
 * mode folds b's prefix tree into the hypothesis from r, as batch Alergia
 * does (a branch the hypothesis lacks is left out), so that the merged
 * machine carries the counts of the strings that reached b. */
static int merge(pk_pdfa_stream *s, int32_t r, int32_t b)
{
    s->color[b] = MERGED;
    s->prev[b] = r;
    if (log_pair(s, b, r, 1))
        return PK_ENOMEM;
    if (s->sk)
        return PK_OK;
    s->stk.n = 0;
    if (pk_pdfa_pairs_push(&s->stk, r, b))
        return PK_ENOMEM;
    while (s->stk.n) {
        int32_t y = s->stk.v[--s->stk.n], x = s->stk.v[--s->stk.n];
        if ((y != b && log_pair(s, y, x, 0)) || push_children(s, x, y))
            return PK_ENOMEM;
    }
    return PK_OK;
}

static void undo_all(pk_pdfa_stream *s)
{
    while (s->log.n) {
        int32_t x = s->log.v[--s->log.n], y = s->log.v[--s->log.n];
        int root = y < 0;
        if (root)
            y = -y - 1;
        add_stats(s, x, y, -1);
        if (root)
            s->color[y] = BLUE;
    }
}

/* Parse the pending batch, then run red-blue merging.  Blue nodes seen fewer
 * than t0 times wait for more data, unless `final` (model extraction), where
 * they merge into the best consistent red state if there is one. */
static int process_batch(pk_pdfa_stream *s, int final)
{
    if (s->batch->n == 0 && !final)
        return PK_OK;
    size_t k = (size_t)s->k;
    /* Alergia mode undoes the previous merges first (a fold added the merged
     * tree's counts as they were; new counts would not subtract) and parses
     * into the unmerged tree.  Sketch mode parses through the current
     * hypothesis: a merged blue node still records its own statistics (so the
     * merge can be undone) while the walk goes on from its red target, as it
     * would in the merged machine; its merges are undone after the parse. */
    if (!s->sk)
        undo_all(s);
    for (size_t i = 0; i < s->batch->n; i++) {
        const int32_t *x = pk_seqs_at(s->batch, i);
        size_t len = pk_seqs_len(s->batch, i);
        int32_t q = 0;
        size_t j = 0;
        for (;;) {
            observe(s, q, x, len, j);
            if (j == len)
                break;
            int32_t b = s->child[(size_t)q * k + (size_t)x[j]];
            if (b < 0) {
                if (new_node(s, q, x[j], &b))
                    return PK_ENOMEM;
                s->child[(size_t)q * k + (size_t)x[j]] = b;
            }
            j++;
            if (s->color[b] == RED) {
                q = b;
                continue;
            }
            observe(s, b, x, len, j);
            if (!s->sk) {
                /* Alergia mode parses into the unmerged tree (merges are
                 * folds, undone before each batch), so the walk ends here */
                if (fringe(s, b, x, len, j))
                    return PK_ENOMEM;
                break;
            }
            if (s->color[b] == BLUE)
                break;
            q = s->prev[b]; /* merged: observe the same position at the target */
        }
    }
    if (s->sk)
        undo_all(s);
    s->batch->n = 0;
    s->round++;
    for (;;) {
        int32_t best = -1;
        for (size_t i = 0; i < s->nred; i++)
            for (size_t a = 0; a < k; a++) {
                int32_t c = s->child[(size_t)s->reds[i] * k + a];
                if (c >= 0 && s->color[c] == BLUE && s->stamp[c] != s->round && (best < 0 || s->tot[c] > s->tot[best]))
                    best = c;
            }
        if (best < 0)
            break;
        s->stamp[best] = s->round;
        if (!final && s->tot[best] < (double)s->p.t0)
            continue;
        int32_t target = -1, was = s->prev[best];
        double sc, best_sc = -1;
        int ok = was >= 0 ? consistent(s, was, best, &sc) : 0;
        if (ok < 0)
            return PK_ENOMEM;
        if (ok)
            target = was; /* replay: the previous merge still holds on the new counts */
        else
            for (size_t i = 0; i < s->nred; i++) {
                if ((ok = consistent(s, s->reds[i], best, &sc)) < 0)
                    return PK_ENOMEM;
                if (ok && sc > best_sc) {
                    best_sc = sc;
                    target = s->reds[i];
                }
            }
        if (was >= 0 && target != was)
            s->undone++;
        if (target >= 0) {
            if (merge(s, target, best))
                return PK_ENOMEM;
            if (target != was)
                s->merges++;
        } else if (s->tot[best] >= (double)s->p.t0) {
            s->color[best] = RED;
            s->reds[s->nred++] = best;
            for (size_t a = 0; a < k; a++) {
                int32_t c = s->child[(size_t)best * k + a];
                if (c >= 0 && s->color[c] == WHITE)
                    s->color[c] = BLUE;
            }
        }
    }
    int64_t bytes = (int64_t)(s->cap * node_bytes(s) + s->log.cap * 4 + s->stk.cap * 4 + s->batch->cap_sym * 4 +
                              s->batch->cap_n * sizeof(size_t));
    if (bytes > s->peak)
        s->peak = bytes;
    return PK_OK;
}

int pk_pdfa_stream_add(pk_pdfa_stream *s, const int32_t *x, size_t len, pk_err *err)
{
    if (!s || (len && !x))
        return pk_err_set(err, PK_EINVAL, "stream: NULL argument");
    int rc = pk_seqs_push(s->batch, x, len);
    if (rc == PK_EINVAL)
        return pk_err_set(err, rc, "stream: symbol outside the alphabet 0..%d", s->k - 1);
    if (rc)
        return pk_err_set(err, rc, "stream: out of memory");
    for (size_t i = 0; i < len; i++)
        s->bg[x[i]] += 1;
    s->bg[s->k] += 1;
    if (s->batch->n >= s->p.batch && process_batch(s, 0))
        return pk_err_set(err, PK_ENOMEM, "stream: out of memory");
    return PK_OK;
}

int pk_pdfa_stream_model(pk_pdfa_stream *s, pk_pdfa **out, pk_pdfa_learn_stats *stats, pk_err *err)
{
    if (!s || !out)
        return pk_err_set(err, PK_EINVAL, "stream: NULL argument");
    *out = NULL;
    if (process_batch(s, 1))
        return pk_err_set(err, PK_ENOMEM, "stream: out of memory");
    if (s->tot[0] <= 0)
        return pk_err_set(err, PK_EINVAL, "stream: empty stream (no strings were added)");
    uint8_t *alive = malloc(s->n);
    double *bg = malloc(((size_t)s->k + 1) * sizeof *bg);
    int32_t *eff = malloc(s->n * (size_t)s->k * sizeof *eff);
    if (!alive || !bg || !eff) {
        free(alive);
        free(bg);
        free(eff);
        return pk_err_set(err, PK_ENOMEM, "stream: out of memory");
    }
    for (size_t i = 0; i < s->n; i++)
        alive[i] = s->color[i] != MERGED;
    /* effective transitions: a merged blue child stands for its red target */
    for (size_t i = 0; i < s->n * (size_t)s->k; i++) {
        int32_t c = s->child[i];
        eff[i] = c >= 0 && s->color[c] == MERGED ? s->prev[c] : c;
    }
    for (int32_t a = 0; a <= s->k; a++)
        bg[a] = s->bg[a] + 1;
    int rc = pk_pdfa_from_counts(s->k, s->n, eff, s->cnt, alive, s->p.smoothing, bg, out);
    free(eff);
    free(alive);
    free(bg);
    if (rc)
        return pk_err_set(err, rc, "stream: out of memory");
    if (stats) {
        stats->tree_nodes = (int64_t)s->n;
        stats->merges = s->merges;
        stats->undone = s->undone;
        stats->peak_bytes = s->peak;
        stats->states = pk_pdfa_nstates(*out);
    }
    return PK_OK;
}
