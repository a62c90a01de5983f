/* PDFA objects: smoothed probabilities, sampling, random machines, JSON and
 * Graphviz export. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/io.h"
#include "probkit/pdfa.h"
#include "seq_priv.h"

struct pk_pdfa {
    int32_t nq, k;
    int32_t *next; /* [nq*k], -1 = none */
    double *w;     /* [nq*(k+1)], column k = stop */
    double *tot;   /* [nq] */
    double s;
    double *bg; /* [k+1] */
};

pk_pdfa *pk_pdfa_new(int32_t nstates, int32_t nsym)
{
    if (nstates < 1 || nsym < 1 || nsym > (1 << 24) || (int64_t)nstates * nsym > ((int64_t)1 << 31))
        return NULL;
    pk_pdfa *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->nq = nstates;
    m->k = nsym;
    size_t nq = (size_t)nstates, k = (size_t)nsym;
    m->next = malloc(nq * k * sizeof *m->next);
    m->w = calloc(nq * (k + 1), sizeof *m->w);
    m->tot = calloc(nq, sizeof *m->tot);
    m->bg = malloc((k + 1) * sizeof *m->bg);
    if (!m->next || !m->w || !m->tot || !m->bg) {
        pk_pdfa_free(m);
        return NULL;
    }
    for (size_t i = 0; i < nq * k; i++)
        m->next[i] = -1;
    for (size_t a = 0; a <= k; a++)
        m->bg[a] = 1.0 / (double)(k + 1);
    return m;
}

void pk_pdfa_free(pk_pdfa *m)
{
    if (!m)
        return;
    free(m->next);
    free(m->w);
    free(m->tot);
    free(m->bg);
    free(m);
}

int32_t pk_pdfa_nstates(const pk_pdfa *m) { return m ? m->nq : 0; }
int32_t pk_pdfa_nsym(const pk_pdfa *m) { return m ? m->k : 0; }
double pk_pdfa_smoothing(const pk_pdfa *m) { return m ? m->s : 0; }

static size_t W(const pk_pdfa *m, int32_t q, int32_t a) { return (size_t)q * (size_t)(m->k + 1) + (size_t)a; }

int pk_pdfa_set(pk_pdfa *m, int32_t q, int32_t a, int32_t dest, double w)
{
    if (!m || q < 0 || q >= m->nq || a < 0 || a >= m->k || dest < -1 || dest >= m->nq || !(w >= 0) || !isfinite(w))
        return PK_EINVAL;
    m->next[(size_t)q * (size_t)m->k + (size_t)a] = dest;
    m->tot[q] += w - m->w[W(m, q, a)];
    m->w[W(m, q, a)] = w;
    return PK_OK;
}

int pk_pdfa_set_final(pk_pdfa *m, int32_t q, double w)
{
    if (!m || q < 0 || q >= m->nq || !(w >= 0) || !isfinite(w))
        return PK_EINVAL;
    m->tot[q] += w - m->w[W(m, q, m->k)];
    m->w[W(m, q, m->k)] = w;
    return PK_OK;
}

int32_t pk_pdfa_next(const pk_pdfa *m, int32_t q, int32_t a)
{
    if (!m || q < 0 || q >= m->nq || a < 0 || a >= m->k)
        return -1;
    return m->next[(size_t)q * (size_t)m->k + (size_t)a];
}

double pk_pdfa_weight(const pk_pdfa *m, int32_t q, int32_t a)
{
    if (!m || q < 0 || q >= m->nq || a < 0 || a > m->k)
        return NAN;
    return m->w[W(m, q, a)];
}

int pk_pdfa_set_smoothing(pk_pdfa *m, double s, const double *bg)
{
    if (!m || !(s >= 0) || !isfinite(s))
        return PK_EINVAL;
    if (bg) {
        double z = 0;
        for (int32_t a = 0; a <= m->k; a++) {
            if (!(bg[a] >= 0) || !isfinite(bg[a]))
                return PK_EINVAL;
            z += bg[a];
        }
        if (!(z > 0))
            return PK_EINVAL;
        for (int32_t a = 0; a <= m->k; a++)
            m->bg[a] = bg[a] / z;
    }
    m->s = s;
    return PK_OK;
}

/* Probability of symbol a (k = END) in state q; q < 0 is the background state. */
static double prob(const pk_pdfa *m, int32_t q, int32_t a)
{
    if (q < 0)
        return m->bg[a];
    double den = m->tot[q] + m->s;
    if (!(den > 0))
        return 0;
    return (m->w[W(m, q, a)] + m->s * m->bg[a]) / den;
}

double pk_pdfa_log_prob(const pk_pdfa *m, const int32_t *x, size_t len)
{
    int32_t q = 0;
    double lp = 0;
    for (size_t t = 0; t < len; t++) {
        if (x[t] < 0 || x[t] >= m->k)
            return -INFINITY;
        double p = prob(m, q, x[t]);
        if (!(p > 0))
            return -INFINITY;
        lp += log(p);
        if (q >= 0)
            q = m->next[(size_t)q * (size_t)m->k + (size_t)x[t]];
    }
    double p = prob(m, q, m->k);
    return p > 0 ? lp + log(p) : -INFINITY;
}

int pk_pdfa_next_dist(const pk_pdfa *m, const int32_t *x, size_t len, double *p)
{
    if (!m || !p || (len && !x))
        return PK_EINVAL;
    int32_t q = 0;
    for (size_t t = 0; t < len && q >= 0; t++) {
        if (x[t] < 0 || x[t] >= m->k)
            return PK_EINVAL;
        q = m->next[(size_t)q * (size_t)m->k + (size_t)x[t]];
    }
    for (int32_t a = 0; a <= m->k; a++)
        p[a] = prob(m, q, a);
    return PK_OK;
}

int pk_pdfa_sample(const pk_pdfa *m, pk_rng *rng, int32_t *buf, size_t cap, size_t *len, int *truncated)
{
    if (!m || !rng || !len || (cap && !buf))
        return PK_EINVAL;
    double *p = malloc((size_t)(m->k + 1) * sizeof *p);
    if (!p)
        return PK_ENOMEM;
    int32_t q = 0;
    size_t n = 0;
    int trunc = 1; /* cleared when END is drawn before cap symbols */
    while (n < cap) {
        for (int32_t a = 0; a <= m->k; a++)
            p[a] = prob(m, q, a);
        size_t a = pk_rng_categorical(rng, p, (size_t)m->k + 1);
        if (a == (size_t)m->k) {
            trunc = 0;
            break;
        }
        buf[n++] = (int32_t)a;
        if (q >= 0)
            q = m->next[(size_t)q * (size_t)m->k + a];
    }
    free(p);
    *len = n;
    if (truncated)
        *truncated = trunc;
    return PK_OK;
}

double pk_pdfa_bits_per_symbol(const pk_pdfa *m, const pk_seqs *s, double *pp_string)
{
    double nll = 0, nsymb = 0;
    for (size_t i = 0; i < s->n; i++) {
        nll -= pk_pdfa_log_prob(m, pk_seqs_at(s, i), pk_seqs_len(s, i));
        nsymb += (double)pk_seqs_len(s, i) + 1;
    }
    if (pp_string)
        *pp_string = s->n ? exp2(nll / log(2.0) / (double)s->n) : NAN;
    return nsymb > 0 ? nll / log(2.0) / nsymb : NAN;
}

int pk_pdfa_random(int32_t nstates, int32_t nsym, pk_rng *rng, pk_pdfa **out)
{
    if (!out || !rng || nstates < 1 || nsym < 2)
        return PK_EINVAL;
    *out = NULL;
    pk_pdfa *m = pk_pdfa_new(nstates, nsym);
    size_t k = (size_t)nsym;
    double *alpha = malloc(k * sizeof *alpha), *d = malloc(k * sizeof *d);
    int32_t *used = malloc(k * sizeof *used);
    if (!m || !alpha || !d || !used) {
        pk_pdfa_free(m);
        free(alpha);
        free(d);
        free(used);
        return PK_ENOMEM;
    }
    /* spanning tree: state i hangs off a random earlier state with a free symbol */
    for (int32_t i = 1; i < nstates; i++) {
        for (;;) {
            int32_t par = (int32_t)pk_rng_below(rng, (uint64_t)i);
            int32_t a = (int32_t)pk_rng_below(rng, k);
            if (m->next[(size_t)par * k + (size_t)a] < 0) {
                m->next[(size_t)par * k + (size_t)a] = i;
                break;
            }
        }
    }
    for (int32_t q = 0; q < nstates; q++) {
        size_t nout = 0;
        for (size_t a = 0; a < k; a++)
            nout += m->next[(size_t)q * k + a] >= 0;
        size_t want = 2 + (size_t)pk_rng_below(rng, k - 1);
        while (nout < want) {
            size_t a = (size_t)pk_rng_below(rng, k);
            if (m->next[(size_t)q * k + a] < 0) {
                m->next[(size_t)q * k + a] = (int32_t)pk_rng_below(rng, (uint64_t)nstates);
                nout++;
            }
        }
        size_t j = 0;
        for (size_t a = 0; a < k; a++)
            if (m->next[(size_t)q * k + a] >= 0)
                used[j++] = (int32_t)a;
        for (size_t i = 0; i < j; i++)
            alpha[i] = 1.0;
        pk_rng_dirichlet(rng, alpha, j, d);
        double stop = 0.05 + 0.2 * pk_rng_uniform(rng);
        for (size_t i = 0; i < j; i++)
            pk_pdfa_set(m, q, used[i], m->next[(size_t)q * k + (size_t)used[i]], (1 - stop) * d[i]);
        pk_pdfa_set_final(m, q, stop);
    }
    free(alpha);
    free(d);
    free(used);
    *out = m;
    return PK_OK;
}

/* ---- JSON ----------------------------------------------------------------- */

int pk_pdfa_to_json(const pk_pdfa *m, char **json)
{
    if (!m || !json)
        return PK_EINVAL;
    json_t *root = json_object(), *states = json_array(), *bg = json_array();
    if (!root || !states || !bg)
        goto nomem;
    json_object_set_new(root, "format", json_string("probkit-pdfa"));
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "nstates", json_integer(m->nq));
    json_object_set_new(root, "nsym", json_integer(m->k));
    json_object_set_new(root, "smoothing", json_real(m->s));
    for (int32_t a = 0; a <= m->k; a++)
        json_array_append_new(bg, json_real(m->bg[a]));
    json_object_set_new(root, "background", bg);
    bg = NULL;
    for (int32_t q = 0; q < m->nq; q++) {
        json_t *st = json_object(), *outs = json_array();
        if (!st || !outs) {
            json_decref(st);
            json_decref(outs);
            goto nomem;
        }
        json_object_set_new(st, "final", json_real(m->w[W(m, q, m->k)]));
        for (int32_t a = 0; a < m->k; a++) {
            int32_t d = m->next[(size_t)q * (size_t)m->k + (size_t)a];
            double w = m->w[W(m, q, a)];
            if (d < 0 && w == 0)
                continue;
            json_array_append_new(outs, json_pack("[i,i,f]", a, d, w));
        }
        json_object_set_new(st, "out", outs);
        json_array_append_new(states, st);
    }
    json_object_set_new(root, "states", states);
    states = NULL;
    *json = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(root);
    return *json ? PK_OK : PK_ENOMEM;
nomem:
    json_decref(root);
    json_decref(states);
    json_decref(bg);
    return PK_ENOMEM;
}

int pk_pdfa_from_json(const char *text, size_t len, const char *name, pk_pdfa **out, pk_err *err)
{
    if (!out || !text)
        return pk_err_set(err, PK_EINVAL, "pk_pdfa_from_json: NULL argument");
    *out = NULL;
    if (!name)
        name = "<json>";
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root)
        return pk_err_set(err, PK_EFORMAT, "%s:%d: %s", name, je.line, je.text);
    pk_pdfa *m = NULL;
    int rc = PK_EFORMAT;
    json_t *fmt = json_object_get(root, "format"), *ver = json_object_get(root, "version");
    json_t *nq = json_object_get(root, "nstates"), *nk = json_object_get(root, "nsym");
    json_t *sm = json_object_get(root, "smoothing"), *bg = json_object_get(root, "background");
    json_t *states = json_object_get(root, "states");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "probkit-pdfa")) {
        pk_err_set(err, rc, "%s: not a probkit-pdfa file (missing \"format\")", name);
        goto done;
    }
    if (!json_is_integer(ver) || json_integer_value(ver) != 1) {
        pk_err_set(err, rc, "%s: unsupported version (this build reads version 1)", name);
        goto done;
    }
    if (!json_is_integer(nq) || !json_is_integer(nk) || !json_is_number(sm) || !json_is_array(bg) ||
        !json_is_array(states)) {
        pk_err_set(err, rc, "%s: missing or mistyped nstates/nsym/smoothing/background/states", name);
        goto done;
    }
    json_int_t Q = json_integer_value(nq), K = json_integer_value(nk);
    if (Q < 1 || K < 1 || Q > (1 << 28) || K > (1 << 24) || (json_int_t)json_array_size(states) != Q ||
        (json_int_t)json_array_size(bg) != K + 1) {
        pk_err_set(err, rc, "%s: sizes disagree (nstates %lld, nsym %lld)", name, (long long)Q, (long long)K);
        goto done;
    }
    m = pk_pdfa_new((int32_t)Q, (int32_t)K);
    double *b = malloc((size_t)(K + 1) * sizeof *b);
    if (!m || !b) {
        free(b);
        rc = pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
        goto done;
    }
    for (json_int_t a = 0; a <= K; a++)
        b[a] = json_number_value(json_array_get(bg, (size_t)a));
    if (pk_pdfa_set_smoothing(m, json_number_value(sm), b)) {
        free(b);
        pk_err_set(err, rc, "%s: bad smoothing or background", name);
        goto done;
    }
    free(b);
    for (json_int_t q = 0; q < Q; q++) {
        json_t *st = json_array_get(states, (size_t)q);
        json_t *fin = json_object_get(st, "final"), *outs = json_object_get(st, "out");
        if (!json_is_number(fin) || !json_is_array(outs) || pk_pdfa_set_final(m, (int32_t)q, json_number_value(fin))) {
            pk_err_set(err, rc, "%s: state %lld: bad \"final\" or \"out\"", name, (long long)q);
            goto done;
        }
        for (size_t i = 0; i < json_array_size(outs); i++) {
            json_t *e = json_array_get(outs, i);
            json_int_t a, d;
            double w;
            if (json_unpack(e, "[IIF]", &a, &d, &w) || a < 0 || a >= K || d < -1 || d >= Q ||
                pk_pdfa_set(m, (int32_t)q, (int32_t)a, (int32_t)d, w)) {
                pk_err_set(err, rc, "%s: state %lld: bad transition %zu", name, (long long)q, i);
                goto done;
            }
        }
    }
    rc = PK_OK;
done:
    json_decref(root);
    if (rc) {
        pk_pdfa_free(m);
        return rc;
    }
    *out = m;
    return PK_OK;
}

int pk_pdfa_save(const pk_pdfa *m, const char *path, pk_err *err)
{
    char *j = NULL;
    int rc = pk_pdfa_to_json(m, &j);
    if (rc)
        return pk_err_set(err, rc, "%s: cannot serialise the PDFA", path);
    rc = pk_file_write_atomic(path, j, strlen(j), err);
    free(j);
    return rc;
}

int pk_pdfa_load(const char *path, pk_pdfa **out, pk_err *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = pk_file_read_all(path, (size_t)1 << 30, &buf, &len, err);
    if (rc)
        return rc;
    rc = pk_pdfa_from_json((const char *)buf, len, path, out, err);
    free(buf);
    return rc;
}

int pk_pdfa_to_dot(const pk_pdfa *m, double min_weight, char **dot)
{
    if (!m || !dot)
        return PK_EINVAL;
    pk_sbuf sb = {0};
    pk_sbuf_printf(&sb, "digraph pdfa {\n  rankdir=LR;\n  node [shape=circle];\n  start [shape=point];\n"
                        "  start -> 0;\n");
    for (int32_t q = 0; q < m->nq; q++) {
        if (q > 0 && m->tot[q] < min_weight)
            continue;
        pk_sbuf_printf(&sb, "  %d [label=\"%d\\nend %.3g\"];\n", q, q, prob(m, q, m->k));
        for (int32_t a = 0; a < m->k; a++) {
            int32_t d = m->next[(size_t)q * (size_t)m->k + (size_t)a];
            if (d < 0 || (d > 0 && m->tot[d] < min_weight))
                continue;
            pk_sbuf_printf(&sb, "  %d -> %d [label=\"%d : %.3g\"];\n", q, d, a, prob(m, q, a));
        }
    }
    pk_sbuf_printf(&sb, "}\n");
    if (sb.failed) {
        free(sb.buf);
        return PK_ENOMEM;
    }
    *dot = sb.buf;
    return PK_OK;
}
