/* General PFAs in the PAutomaC model format, with exact (scaled forward)
 * string probabilities. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/io.h"
#include "probkit/pdfa.h"

struct pk_pfa {
    int32_t nq, nsym;
    double *init;   /* [nq] */
    double *fin;    /* [nq] stop probability */
    double *emit;   /* [nq*nsym] P(emit a | q) = (1 - F(q)) S(q, a) */
    size_t *toff;   /* [nq*nsym+1] CSR of transitions of (q, a) */
    int32_t *tdst;
    double *tprob;
};

void pk_pfa_free(pk_pfa *m)
{
    if (!m)
        return;
    free(m->init);
    free(m->fin);
    free(m->emit);
    free(m->toff);
    free(m->tdst);
    free(m->tprob);
    free(m);
}

int32_t pk_pfa_nstates(const pk_pfa *m) { return m ? m->nq : 0; }
int32_t pk_pfa_nsym(const pk_pfa *m) { return m ? m->nsym : 0; }

typedef struct entry {
    int sec; /* 0 I, 1 F, 2 S, 3 T */
    long a, b, c;
    double v;
} entry;

static int parse_entry(const char *b, const char *e, int sec, entry *out)
{
    /* "(a[,b[,c]]) value" with optional leading whitespace */
    char tmp[160];
    size_t L = (size_t)(e - b);
    if (L >= sizeof tmp)
        return -1;
    memcpy(tmp, b, L);
    tmp[L] = 0;
    long x[3] = {0, 0, 0};
    int want = sec == 0 || sec == 1 ? 1 : sec == 2 ? 2 : 3;
    char *p = tmp;
    while (isspace((unsigned char)*p))
        p++;
    if (*p++ != '(')
        return -1;
    for (int i = 0; i < want; i++) {
        char *q;
        if (!isdigit((unsigned char)*p))
            return -1;
        x[i] = strtol(p, &q, 10);
        if (x[i] < 0 || x[i] > 10000000)
            return -1;
        p = q;
        if (*p++ != (i + 1 < want ? ',' : ')'))
            return -1;
    }
    char *q;
    double v = strtod(p, &q);
    if (q == p || !isfinite(v) || v < 0 || v > 1 + 1e-9)
        return -1;
    while (isspace((unsigned char)*q))
        q++;
    if (*q)
        return -1;
    out->sec = sec;
    out->a = x[0];
    out->b = x[1];
    out->c = x[2];
    out->v = v;
    return 0;
}

static int blank_line(const char *b, const char *e)
{
    for (; b < e; b++)
        if (!isspace((unsigned char)*b))
            return 0;
    return 1;
}

int pk_pfa_parse_pautomac(const char *buf, size_t len, const char *name, pk_pfa **out, pk_err *err)
{
    if (!out || (!buf && len))
        return pk_err_set(err, PK_EINVAL, "pk_pfa_parse_pautomac: NULL argument");
    *out = NULL;
    if (!name)
        name = "<model>";
    entry *ent = NULL;
    size_t nent = 0, cap = 0;
    int sec = -1, rc = PK_OK;
    long line = 0, maxq = -1, maxa = -1;
    const char *p = buf, *end = buf + len;
    pk_pfa *m = NULL;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *b = p, *e = nl ? nl : end;
        p = nl ? nl + 1 : end;
        line++;
        if (blank_line(b, e))
            continue;
        if ((*b == 'I' || *b == 'F' || *b == 'S' || *b == 'T') && e - b >= 2 && b[1] == ':') {
            sec = *b == 'I' ? 0 : *b == 'F' ? 1 : *b == 'S' ? 2 : 3;
            continue;
        }
        if (sec < 0) {
            rc = pk_err_set(err, PK_EFORMAT, "%s:%ld: entry before any 'I:', 'F:', 'S:' or 'T:' section", name,
                            line);
            goto fail;
        }
        if (nent == cap) {
            cap = cap ? cap * 2 : 256;
            entry *n2 = realloc(ent, cap * sizeof *n2);
            if (!n2) {
                rc = pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
                goto fail;
            }
            ent = n2;
        }
        if (parse_entry(b, e, sec, &ent[nent])) {
            rc = pk_err_set(err, PK_EFORMAT, "%s:%ld: malformed entry (expected '(%s) probability')", name, line,
                            sec < 2 ? "state" : sec == 2 ? "state,symbol" : "state,symbol,state");
            goto fail;
        }
        entry *x = &ent[nent++];
        if (x->a > maxq)
            maxq = x->a;
        if (sec == 3 && x->c > maxq)
            maxq = x->c;
        if (sec >= 2 && x->b > maxa)
            maxa = x->b;
    }
    if (maxq < 0 || maxa < 0) {
        rc = pk_err_set(err, PK_EFORMAT, "%s: no states or no symbols defined", name);
        goto fail;
    }
    if ((double)(maxq + 1) * (double)(maxa + 1) > 1e8) {
        rc = pk_err_set(err, PK_EFORMAT, "%s: %ld states x %ld symbols is too large for a dense PFA", name, maxq + 1,
                        maxa + 1);
        goto fail;
    }
    m = calloc(1, sizeof *m);
    if (!m)
        goto nomem;
    m->nq = (int32_t)(maxq + 1);
    m->nsym = (int32_t)(maxa + 1);
    size_t qa = (size_t)m->nq * (size_t)m->nsym;
    m->init = calloc((size_t)m->nq, sizeof(double));
    m->fin = calloc((size_t)m->nq, sizeof(double));
    m->emit = calloc(qa, sizeof(double));
    m->toff = calloc(qa + 1, sizeof(size_t));
    if (!m->init || !m->fin || !m->emit || !m->toff)
        goto nomem;
    size_t nt = 0;
    for (size_t i = 0; i < nent; i++) {
        entry *x = &ent[i];
        if (x->sec == 0)
            m->init[x->a] += x->v;
        else if (x->sec == 1)
            m->fin[x->a] += x->v;
        else if (x->sec == 2)
            m->emit[(size_t)x->a * (size_t)m->nsym + (size_t)x->b] += x->v;
        else {
            m->toff[(size_t)x->a * (size_t)m->nsym + (size_t)x->b + 1]++;
            nt++;
        }
    }
    for (size_t i = 0; i < qa; i++)
        m->toff[i + 1] += m->toff[i];
    m->tdst = malloc((nt ? nt : 1) * sizeof *m->tdst);
    m->tprob = malloc((nt ? nt : 1) * sizeof *m->tprob);
    size_t *fill = calloc(qa, sizeof *fill);
    if (!m->tdst || !m->tprob || !fill) {
        free(fill);
        goto nomem;
    }
    for (size_t i = 0; i < nent; i++) {
        entry *x = &ent[i];
        if (x->sec != 3)
            continue;
        size_t k = (size_t)x->a * (size_t)m->nsym + (size_t)x->b;
        size_t at = m->toff[k] + fill[k]++;
        m->tdst[at] = (int32_t)x->c;
        m->tprob[at] = x->v;
    }
    free(fill);
    for (int32_t q = 0; q < m->nq; q++) {
        if (m->fin[q] > 1 + 1e-9) {
            rc = pk_err_set(err, PK_EFORMAT, "%s: stop probability of state %d exceeds 1", name, q);
            goto fail;
        }
        for (int32_t a = 0; a < m->nsym; a++)
            m->emit[(size_t)q * (size_t)m->nsym + (size_t)a] *= 1.0 - m->fin[q];
    }
    free(ent);
    *out = m;
    return PK_OK;
nomem:
    rc = pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
fail:
    free(ent);
    pk_pfa_free(m);
    return rc;
}

int pk_pfa_read_pautomac(const char *path, pk_pfa **out, pk_err *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = pk_file_read_all(path, (size_t)1 << 30, &buf, &len, err);
    if (rc)
        return rc;
    rc = pk_pfa_parse_pautomac((const char *)buf, len, path, out, err);
    free(buf);
    return rc;
}

int pk_pfa_is_deterministic(const pk_pfa *m)
{
    int ninit = 0;
    for (int32_t q = 0; q < m->nq; q++)
        ninit += m->init[q] > 0;
    if (ninit != 1)
        return 0;
    size_t qa = (size_t)m->nq * (size_t)m->nsym;
    for (size_t i = 0; i < qa; i++)
        if (m->toff[i + 1] - m->toff[i] > 1)
            return 0;
    return 1;
}

double pk_pfa_log_prob(const pk_pfa *m, const int32_t *x, size_t len)
{
    size_t nq = (size_t)m->nq;
    double *a = malloc(2 * nq * sizeof *a);
    if (!a)
        return NAN;
    double *b = a + nq, logscale = 0;
    memcpy(a, m->init, nq * sizeof *a);
    for (size_t t = 0; t < len; t++) {
        int32_t s = x[t];
        if (s < 0 || s >= m->nsym) {
            free(a);
            return -INFINITY;
        }
        memset(b, 0, nq * sizeof *b);
        for (size_t q = 0; q < nq; q++) {
            if (a[q] == 0)
                continue;
            size_t k = q * (size_t)m->nsym + (size_t)s;
            double w = a[q] * m->emit[k];
            if (w == 0)
                continue;
            for (size_t j = m->toff[k]; j < m->toff[k + 1]; j++)
                b[m->tdst[j]] += w * m->tprob[j];
        }
        /* rescale each step so long strings do not underflow */
        double z = 0;
        for (size_t q = 0; q < nq; q++)
            z += b[q];
        if (z == 0) {
            free(a);
            return -INFINITY;
        }
        for (size_t q = 0; q < nq; q++)
            a[q] = b[q] / z;
        logscale += log(z);
    }
    double f = 0;
    for (size_t q = 0; q < nq; q++)
        f += a[q] * m->fin[q];
    free(a);
    return f > 0 ? logscale + log(f) : -INFINITY;
}
