/* PAutomaC string/solution/model files, the competition's perplexity score and
 * exact probabilities of target PFAs by the forward algorithm. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "probkit/io.h"
#include "probkit/pdfa.h"

/* ---- pk_seqs -------------------------------------------------------------- */

pk_seqs *pk_seqs_new(int32_t nsym)
{
    if (nsym < 1)
        return NULL;
    pk_seqs *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->nsym = nsym;
    s->cap_n = 16;
    s->cap_sym = 256;
    s->off = malloc((s->cap_n + 1) * sizeof *s->off);
    s->sym = malloc(s->cap_sym * sizeof *s->sym);
    if (!s->off || !s->sym) {
        pk_seqs_free(s);
        return NULL;
    }
    s->off[0] = 0;
    return s;
}

void pk_seqs_free(pk_seqs *s)
{
    if (!s)
        return;
    free(s->off);
    free(s->sym);
    free(s);
}

int pk_seqs_push(pk_seqs *s, const int32_t *x, size_t len)
{
    if (!s || (len && !x))
        return PK_EINVAL;
    for (size_t i = 0; i < len; i++)
        if (x[i] < 0 || x[i] >= s->nsym)
            return PK_EINVAL;
    if (s->n + 1 > s->cap_n) {
        size_t c = s->cap_n * 2;
        size_t *o = realloc(s->off, (c + 1) * sizeof *o);
        if (!o)
            return PK_ENOMEM;
        s->off = o;
        s->cap_n = c;
    }
    size_t used = s->off[s->n];
    if (used + len > s->cap_sym) {
        size_t c = s->cap_sym;
        while (c < used + len)
            c *= 2;
        int32_t *y = realloc(s->sym, c * sizeof *y);
        if (!y)
            return PK_ENOMEM;
        s->sym = y;
        s->cap_sym = c;
    }
    if (len)
        memcpy(s->sym + used, x, len * sizeof *x);
    s->off[++s->n] = used + len;
    return PK_OK;
}

/* ---- a tiny line tokenizer shared by the parsers ---------------------------- */

typedef struct lexer {
    const char *p, *end, *name;
    long line;
} lexer;

/* Next line as [*b, *e); returns 0 at end of input. */
static int next_line(lexer *lx, const char **b, const char **e)
{
    if (lx->p >= lx->end)
        return 0;
    *b = lx->p;
    const char *q = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
    *e = q ? q : lx->end;
    lx->p = q ? q + 1 : lx->end;
    lx->line++;
    return 1;
}

/* Parse a non-negative integer token; advances *p past trailing spaces. */
static int read_long(const char **p, const char *e, long *v)
{
    const char *s = *p;
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\r'))
        s++;
    if (s >= e || !isdigit((unsigned char)*s))
        return -1;
    long x = 0;
    while (s < e && isdigit((unsigned char)*s)) {
        if (x > 100000000L)
            return -1;
        x = x * 10 + (*s - '0');
        s++;
    }
    if (s < e && !(*s == ' ' || *s == '\t' || *s == '\r'))
        return -1;
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\r'))
        s++;
    *p = s;
    *v = x;
    return 0;
}

static int blank(const char *b, const char *e)
{
    for (; b < e; b++)
        if (!isspace((unsigned char)*b))
            return 0;
    return 1;
}

/* Parse one string line "len s1 .. slen" into *tmp (grown as needed). */
static int parse_string_line(const char *b, const char *e, long k, int32_t **tmp, size_t *tcap, size_t *len,
                             const char *name, long line, pk_err *err)
{
    const char *p = b;
    long sl;
    if (blank(b, e))
        return pk_err_set(err, PK_EFORMAT, "%s:%ld: blank line (expected 'len s1 .. slen')", name, line);
    if (read_long(&p, e, &sl))
        return pk_err_set(err, PK_EFORMAT, "%s:%ld: expected a string length", name, line);
    /* each symbol needs at least two characters: refuse before allocating */
    if ((size_t)sl > (size_t)(e - p + 1) / 2)
        return pk_err_set(err, PK_EFORMAT, "%s:%ld: declared length %ld but the line holds fewer symbols", name, line,
                          sl);
    if ((size_t)sl > *tcap) {
        int32_t *t2 = realloc(*tmp, (size_t)sl * sizeof *t2);
        if (!t2)
            return pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
        *tmp = t2;
        *tcap = (size_t)sl;
    }
    for (long i = 0; i < sl; i++) {
        long v;
        if (p >= e)
            return pk_err_set(err, PK_EFORMAT, "%s:%ld: declared length %ld but only %ld symbols", name, line, sl, i);
        if (read_long(&p, e, &v))
            return pk_err_set(err, PK_EFORMAT, "%s:%ld: symbol %ld is not a non-negative integer", name, line, i + 1);
        if (v >= k)
            return pk_err_set(err, PK_EFORMAT, "%s:%ld: symbol %ld out of the declared alphabet 0..%ld", name, line, v,
                              k - 1);
        (*tmp)[i] = (int32_t)v;
    }
    if (p != e)
        return pk_err_set(err, PK_EFORMAT, "%s:%ld: more symbols than the declared length %ld", name, line, sl);
    *len = (size_t)sl;
    return PK_OK;
}

/* Parse the header line "N K". */
static int parse_header(const char *b, const char *e, long *n, long *k, const char *name, long line, pk_err *err)
{
    const char *p = b;
    if (read_long(&p, e, n) || read_long(&p, e, k) || p != e)
        return pk_err_set(err, PK_EFORMAT, "%s:%ld: header must be two integers 'N K'", name, line);
    if (*n < 1)
        return pk_err_set(err, PK_EFORMAT, "%s:%ld: empty stream (N = 0 strings)", name, line);
    if (*k < 1 || *k > 1000000)
        return pk_err_set(err, PK_EFORMAT, "%s:%ld: alphabet size %ld out of range 1..1000000", name, line, *k);
    return PK_OK;
}

int pk_pautomac_parse(const char *buf, size_t len, const char *name, pk_seqs **out, pk_err *err)
{
    if (!out || (!buf && len))
        return pk_err_set(err, PK_EINVAL, "pk_pautomac_parse: NULL argument");
    *out = NULL;
    if (!name)
        name = "<input>";
    lexer lx = {buf, buf + len, name, 0};
    const char *b, *e;
    do {
        if (!next_line(&lx, &b, &e))
            return pk_err_set(err, PK_EFORMAT, "%s: empty input (expected a header 'N K')", name);
    } while (blank(b, e));
    long n, k;
    int rc = parse_header(b, e, &n, &k, name, lx.line, err);
    if (rc)
        return rc;
    pk_seqs *s = pk_seqs_new((int32_t)k);
    int32_t *tmp = malloc(1024 * sizeof *tmp);
    size_t tcap = 1024;
    if (!s || !tmp) {
        free(tmp);
        pk_seqs_free(s);
        return pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
    }
    while ((long)s->n < n) {
        if (!next_line(&lx, &b, &e)) {
            rc = pk_err_set(err, PK_EFORMAT, "%s:%ld: input ends early: expected %ld strings, found %zu", name,
                            lx.line, n, s->n);
            goto done;
        }
        size_t sl;
        if ((rc = parse_string_line(b, e, k, &tmp, &tcap, &sl, name, lx.line, err)))
            goto done;
        if (pk_seqs_push(s, tmp, sl)) {
            rc = pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
            goto done;
        }
    }
    while (next_line(&lx, &b, &e))
        if (!blank(b, e)) {
            rc = pk_err_set(err, PK_EFORMAT, "%s:%ld: more strings than the declared %ld", name, lx.line, n);
            goto done;
        }
done:
    free(tmp);
    if (rc) {
        pk_seqs_free(s);
        return rc;
    }
    *out = s;
    return PK_OK;
}

int pk_pautomac_read(const char *path, pk_seqs **out, pk_err *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = pk_file_read_all(path, (size_t)1 << 31, &buf, &len, err);
    if (rc)
        return rc;
    rc = pk_pautomac_parse((const char *)buf, len, path, out, err);
    free(buf);
    return rc;
}

int pk_pautomac_read_solution(const char *path, double **probs, size_t *n, pk_err *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (!probs || !n)
        return pk_err_set(err, PK_EINVAL, "pk_pautomac_read_solution: NULL argument");
    int rc = pk_file_read_all(path, (size_t)1 << 30, &buf, &len, err);
    if (rc)
        return rc;
    lexer lx = {(const char *)buf, (const char *)buf + len, path, 0};
    const char *b, *e, *p;
    long cnt;
    double *v = NULL;
    if (!next_line(&lx, &b, &e) || (p = b, read_long(&p, e, &cnt)) || p != e || cnt < 1) {
        rc = pk_err_set(err, PK_EFORMAT, "%s:1: expected a positive count", path);
        goto done;
    }
    v = malloc((size_t)cnt * sizeof *v);
    if (!v) {
        rc = pk_err_set(err, PK_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    for (long i = 0; i < cnt; i++) {
        if (!next_line(&lx, &b, &e)) {
            rc = pk_err_set(err, PK_EFORMAT, "%s:%ld: expected %ld probabilities, found %ld", path, lx.line, cnt, i);
            goto done;
        }
        char tmp[64];
        size_t L = (size_t)(e - b);
        while (L && isspace((unsigned char)b[L - 1]))
            L--;
        if (L == 0 || L >= sizeof tmp) {
            rc = pk_err_set(err, PK_EFORMAT, "%s:%ld: expected a probability", path, lx.line);
            goto done;
        }
        memcpy(tmp, b, L);
        tmp[L] = 0;
        char *endp;
        errno = 0;
        double x = strtod(tmp, &endp);
        if (*endp || !(x >= 0) || !isfinite(x)) {
            rc = pk_err_set(err, PK_EFORMAT, "%s:%ld: '%s' is not a probability", path, lx.line, tmp);
            goto done;
        }
        v[i] = x;
    }
    *probs = v;
    *n = (size_t)cnt;
    v = NULL;
done:
    free(v);
    free(buf);
    return rc;
}

double pk_pautomac_perplexity(const double *pt, const double *pc, size_t n)
{
    double st = 0, sc = 0;
    for (size_t i = 0; i < n; i++) {
        st += pt[i];
        sc += pc[i];
    }
    if (!(st > 0) || !(sc > 0))
        return NAN;
    double h = 0;
    for (size_t i = 0; i < n; i++) {
        if (pt[i] <= 0)
            continue;
        if (pc[i] <= 0)
            return INFINITY;
        h += pt[i] / st * log2(pc[i] / sc);
    }
    return exp2(-h);
}

double pk_pautomac_perplexity_log(const double *pt, const double *log_pc, size_t n)
{
    double st = 0;
    for (size_t i = 0; i < n; i++)
        st += pt[i];
    double lz = pk_logsumexp(log_pc, n, 1);
    if (!(st > 0) || !isfinite(lz))
        return NAN;
    double h = 0;
    for (size_t i = 0; i < n; i++) {
        if (pt[i] <= 0)
            continue;
        if (log_pc[i] == -INFINITY)
            return INFINITY;
        h += pt[i] / st * (log_pc[i] - lz) / log(2.0);
    }
    return exp2(-h);
}

/* ---- streaming reader ------------------------------------------------------ */

struct pk_pautomac_reader {
    gzFile f;
    char *name;
    char *line;
    size_t cap;
    long lineno, n, k, got;
    int32_t *tmp;
    size_t tcap;
};

/* Read one line (without the newline) into r->line; 0 at end of file. */
static int read_line(pk_pautomac_reader *r, size_t *len, pk_err *err)
{
    size_t n = 0;
    for (;;) {
        if (r->cap - n < 2) {
            size_t c = r->cap ? r->cap * 2 : 4096;
            char *l = realloc(r->line, c);
            if (!l)
                return pk_err_set(err, PK_ENOMEM, "%s: out of memory", r->name);
            r->line = l;
            r->cap = c;
        }
        if (!gzgets(r->f, r->line + n, (int)(r->cap - n > INT32_MAX ? INT32_MAX : r->cap - n))) {
            int e;
            gzerror(r->f, &e);
            if (e != Z_OK && e != Z_STREAM_END)
                return pk_err_set(err, PK_EIO, "%s: read error", r->name);
            if (n == 0)
                return 0;
            break;
        }
        n += strlen(r->line + n);
        if (n && r->line[n - 1] == '\n') {
            n--;
            break;
        }
    }
    r->line[n] = 0;
    *len = n;
    r->lineno++;
    return 1;
}

void pk_pautomac_reader_close(pk_pautomac_reader *r)
{
    if (!r)
        return;
    if (r->f)
        gzclose(r->f);
    free(r->name);
    free(r->line);
    free(r->tmp);
    free(r);
}

int pk_pautomac_reader_open(const char *path, pk_pautomac_reader **out, size_t *nstrings, int32_t *nsym, pk_err *err)
{
    if (!path || !out)
        return pk_err_set(err, PK_EINVAL, "pk_pautomac_reader_open: NULL argument");
    *out = NULL;
    pk_pautomac_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->name = malloc(strlen(path) + 1))) {
        free(r);
        return pk_err_set(err, PK_ENOMEM, "%s: out of memory", path);
    }
    memcpy(r->name, path, strlen(path) + 1);
    if (!(r->f = gzopen(path, "rb"))) {
        pk_pautomac_reader_close(r);
        return pk_err_set(err, PK_EIO, "%s: cannot open: %s", path, strerror(errno));
    }
    size_t len = 0;
    int got;
    do {
        got = read_line(r, &len, err);
    } while (got == 1 && blank(r->line, r->line + len));
    int rc = got < 0 ? got : got == 0 ? pk_err_set(err, PK_EFORMAT, "%s: empty input (expected a header 'N K')", path)
                                      : parse_header(r->line, r->line + len, &r->n, &r->k, path, r->lineno, err);
    if (rc) {
        pk_pautomac_reader_close(r);
        return rc;
    }
    if (nstrings)
        *nstrings = (size_t)r->n;
    if (nsym)
        *nsym = (int32_t)r->k;
    *out = r;
    return PK_OK;
}

int pk_pautomac_reader_next(pk_pautomac_reader *r, const int32_t **x, size_t *len, pk_err *err)
{
    if (!r || !x || !len)
        return pk_err_set(err, PK_EINVAL, "pk_pautomac_reader_next: NULL argument");
    size_t L;
    if (r->got == r->n) {
        int g;
        while ((g = read_line(r, &L, err)) == 1)
            if (!blank(r->line, r->line + L))
                return pk_err_set(err, PK_EFORMAT, "%s:%ld: more strings than the declared %ld", r->name, r->lineno,
                                  r->n);
        return g < 0 ? g : 0;
    }
    int g = read_line(r, &L, err);
    if (g < 0)
        return g;
    if (g == 0)
        return pk_err_set(err, PK_EFORMAT, "%s:%ld: input ends early: expected %ld strings, found %ld", r->name,
                          r->lineno, r->n, r->got);
    int rc = parse_string_line(r->line, r->line + L, r->k, &r->tmp, &r->tcap, len, r->name, r->lineno, err);
    if (rc)
        return rc;
    r->got++;
    *x = r->tmp;
    return 1;
}
