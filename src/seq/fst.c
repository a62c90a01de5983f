/* WFST container and OpenFst's AT&T text format. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fst_priv.h"
#include "probkit/io.h"
#include "seq_priv.h"

pk_fst *pk_fst_new(void)
{
    pk_fst *f = calloc(1, sizeof *f);
    if (f)
        f->start = -1;
    return f;
}

void pk_fst_free(pk_fst *f)
{
    if (!f)
        return;
    for (int32_t s = 0; s < f->n; s++)
        free(f->st[s].arcs);
    free(f->st);
    free(f);
}

int32_t pk_fst_add_state(pk_fst *f)
{
    if (!f || f->n == INT32_MAX)
        return -1;
    if (f->n == f->cap) {
        int32_t c = f->cap ? f->cap * 2 : 16;
        pk_fst_state *s = realloc(f->st, (size_t)c * sizeof *s);
        if (!s)
            return -1;
        f->st = s;
        f->cap = c;
    }
    pk_fst_state *s = &f->st[f->n];
    s->arcs = NULL;
    s->narc = s->carc = 0;
    s->final = INFINITY;
    return f->n++;
}

int pk_fst_set_start(pk_fst *f, int32_t s)
{
    if (!f || s < 0 || s >= f->n)
        return PK_EINVAL;
    f->start = s;
    return PK_OK;
}

int32_t pk_fst_start(const pk_fst *f) { return f ? f->start : -1; }
int32_t pk_fst_num_states(const pk_fst *f) { return f ? f->n : 0; }

int pk_fst_set_final(pk_fst *f, int32_t s, double w)
{
    if (!f || s < 0 || s >= f->n || isnan(w) || w == -INFINITY)
        return PK_EINVAL;
    f->st[s].final = w;
    return PK_OK;
}

double pk_fst_final(const pk_fst *f, int32_t s)
{
    if (!f || s < 0 || s >= f->n)
        return INFINITY;
    return f->st[s].final;
}

int pk_fst_add_arc(pk_fst *f, int32_t s, int32_t ilabel, int32_t olabel, double w, int32_t next)
{
    if (!f || s < 0 || s >= f->n || next < 0 || next >= f->n || ilabel < 0 || olabel < 0 || isnan(w) ||
        w == -INFINITY)
        return PK_EINVAL;
    pk_fst_state *st = &f->st[s];
    if (st->narc == st->carc) {
        size_t c = st->carc ? st->carc * 2 : 4;
        pk_fst_arc *a = realloc(st->arcs, c * sizeof *a);
        if (!a)
            return PK_ENOMEM;
        st->arcs = a;
        st->carc = c;
    }
    pk_fst_arc *a = &st->arcs[st->narc++];
    a->ilabel = ilabel;
    a->olabel = olabel;
    a->weight = w;
    a->next = next;
    return PK_OK;
}

size_t pk_fst_num_arcs(const pk_fst *f, int32_t s)
{
    if (!f || s < 0 || s >= f->n)
        return 0;
    return f->st[s].narc;
}

const pk_fst_arc *pk_fst_arcs(const pk_fst *f, int32_t s)
{
    if (!f || s < 0 || s >= f->n)
        return NULL;
    return f->st[s].arcs;
}

size_t pk_fst_total_arcs(const pk_fst *f)
{
    size_t n = 0;
    for (int32_t s = 0; f && s < f->n; s++)
        n += f->st[s].narc;
    return n;
}

int pk_fst_ensure_states(pk_fst *f, int32_t n)
{
    while (f->n < n)
        if (pk_fst_add_state(f) < 0)
            return PK_ENOMEM;
    return PK_OK;
}

/* ---- AT&T text ------------------------------------------------------------ */

static int parse_fields(const char *b, const char *e, char fields[5][64])
{
    int n = 0;
    while (b < e) {
        while (b < e && (*b == ' ' || *b == '\t' || *b == '\r'))
            b++;
        if (b >= e)
            break;
        const char *s = b;
        while (b < e && !(*b == ' ' || *b == '\t' || *b == '\r'))
            b++;
        if (n == 5 || b - s >= 63)
            return -1;
        memcpy(fields[n], s, (size_t)(b - s));
        fields[n][b - s] = 0;
        n++;
    }
    return n;
}

/* State ids and labels above this are refused (the reader allocates dense
 * state arrays, so a sparse id would cost memory out of proportion). */
#define PK_FST_MAX_ID (1L << 22)

static int to_int(const char *s, int32_t *v)
{
    char *e;
    if (!isdigit((unsigned char)*s))
        return -1;
    long x = strtol(s, &e, 10);
    if (*e || x < 0 || x > PK_FST_MAX_ID)
        return -1;
    *v = (int32_t)x;
    return 0;
}

static int to_weight(const char *s, double *w)
{
    char *e;
    if (!strcmp(s, "Infinity") || !strcmp(s, "inf")) {
        *w = INFINITY;
        return 0;
    }
    double x = strtod(s, &e);
    if (e == s || *e || isnan(x) || x == -INFINITY)
        return -1;
    *w = x;
    return 0;
}

int pk_fst_parse_att(const char *buf, size_t len, const char *name, pk_fst **out, pk_err *err)
{
    if (!out || (!buf && len))
        return pk_err_set(err, PK_EINVAL, "fst: NULL argument");
    *out = NULL;
    if (!name)
        name = "<fst>";
    pk_fst *f = pk_fst_new();
    if (!f)
        return pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
    const char *p = buf, *end = buf + len;
    long line = 0;
    int rc = PK_OK, any = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *b = p, *e = nl ? nl : end;
        p = nl ? nl + 1 : end;
        line++;
        char fl[5][64];
        int n = parse_fields(b, e, fl);
        if (n == 0)
            continue;
        int32_t s, d, il, ol;
        double w = 0;
        if (n < 0 || n == 3) {
            rc = pk_err_set(err, PK_EFORMAT, "%s:%ld: expected 'src dst ilabel olabel [weight]' or 'state [weight]'",
                            name, line);
            break;
        }
        if (to_int(fl[0], &s)) {
            rc = pk_err_set(err, PK_EFORMAT, "%s:%ld: state '%s' is not an integer in 0..%ld", name, line, fl[0],
                            PK_FST_MAX_ID);
            break;
        }
        if (n <= 2) {
            if (n == 2 && to_weight(fl[1], &w)) {
                rc = pk_err_set(err, PK_EFORMAT, "%s:%ld: bad final weight '%s'", name, line, fl[1]);
                break;
            }
            if ((rc = pk_fst_ensure_states(f, s + 1))) {
                pk_err_set(err, rc, "%s: out of memory", name);
                break;
            }
            if (!any)
                f->start = s;
            any = 1;
            f->st[s].final = w;
            continue;
        }
        if (to_int(fl[1], &d) || to_int(fl[2], &il) || to_int(fl[3], &ol)) {
            rc = pk_err_set(err, PK_EFORMAT, "%s:%ld: states and labels must be integers in 0..%ld", name, line,
                            PK_FST_MAX_ID);
            break;
        }
        if (n == 5 && to_weight(fl[4], &w)) {
            rc = pk_err_set(err, PK_EFORMAT, "%s:%ld: bad arc weight '%s'", name, line, fl[4]);
            break;
        }
        if ((rc = pk_fst_ensure_states(f, (s > d ? s : d) + 1))) {
            pk_err_set(err, rc, "%s: out of memory", name);
            break;
        }
        if (!any)
            f->start = s;
        any = 1;
        if ((rc = pk_fst_add_arc(f, s, il, ol, w, d))) {
            pk_err_set(err, rc, "%s:%ld: cannot add arc", name, line);
            break;
        }
    }
    if (!rc && !any)
        rc = pk_err_set(err, PK_EFORMAT, "%s: empty FST (no arcs or final states)", name);
    if (rc) {
        pk_fst_free(f);
        return rc;
    }
    *out = f;
    return PK_OK;
}

int pk_fst_read_att(const char *path, pk_fst **out, pk_err *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = pk_file_read_all(path, (size_t)1 << 31, &buf, &len, err);
    if (rc)
        return rc;
    rc = pk_fst_parse_att((const char *)buf, len, path, out, err);
    free(buf);
    return rc;
}

/* "\tW" unless w is 0 (the AT&T default), then the newline. */
static void put_weight_nl(pk_sbuf *sb, double w)
{
    if (w != 0) {
        char b[40];
        int n = isinf(w) ? snprintf(b, sizeof b, "\tInfinity") : snprintf(b, sizeof b, "\t%.17g", w);
        pk_sbuf_put(sb, b, (size_t)n);
    }
    pk_sbuf_put(sb, "\n", 1);
}

int pk_fst_to_att(const pk_fst *f, char **text)
{
    if (!f || !text || f->start < 0)
        return PK_EINVAL;
    pk_sbuf sb = {0};
    for (int32_t k = 0; k < f->n; k++) {
        /* the start state first: readers take the first line's source as start */
        int32_t s = k == 0 ? f->start : k <= f->start ? k - 1 : k;
        for (size_t i = 0; i < f->st[s].narc; i++) {
            const pk_fst_arc *a = &f->st[s].arcs[i];
            const int32_t v[4] = {s, a->next, a->ilabel, a->olabel};
            for (int j = 0; j < 4; j++) {
                pk_sbuf_i32(&sb, v[j]);
                if (j < 3)
                    pk_sbuf_put(&sb, "\t", 1);
            }
            put_weight_nl(&sb, a->weight);
        }
        if (f->st[s].final < INFINITY) {
            pk_sbuf_i32(&sb, s);
            put_weight_nl(&sb, f->st[s].final);
        }
    }
    if (!sb.failed && !sb.buf)
        pk_sbuf_printf(&sb, "%s", ""); /* an empty machine prints nothing, as fstprint does */
    if (sb.failed) {
        free(sb.buf);
        return PK_ENOMEM;
    }
    *text = sb.buf;
    return PK_OK;
}
