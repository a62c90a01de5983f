/* CSV tables (RFC 4180 plus common practice): quoted fields may hold the
 * delimiter, doubled quotes and newlines; blank lines are skipped; \n, \r\n
 * and \r all end a record; a UTF-8 byte-order mark is ignored.  Errors name
 * the file and the physical line (and column for syntax errors). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "io_priv.h"

#define CSV_MAX_FILE ((size_t)2 << 30)

pk_csv_opts pk_csv_opts_default(void)
{
    pk_csv_opts o;
    memset(&o, 0, sizeof o);
    o.delimiter = ',';
    o.has_header = 1;
    o.na_values = "NA,na,N/A,n/a,nan,NaN,?,";
    o.skip_lines = 0;
    o.require_numeric = 0;
    return o;
}

/* ---- growable arrays ------------------------------------------------------ */

typedef struct vec {
    void *p;
    size_t n, cap, el;
} vec;

static int vec_push(vec *v, const void *x)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 256;
        void *np = realloc(v->p, nc * v->el);
        if (!np)
            return PK_ENOMEM;
        v->p = np;
        v->cap = nc;
    }
    memcpy((char *)v->p + v->n * v->el, x, v->el);
    v->n++;
    return PK_OK;
}

/* ---- tokenizer -------------------------------------------------------------- */

typedef struct field {
    size_t off; /* into the scratch copy, NUL-terminated */
    int quoted;
} field;

typedef struct record {
    size_t first; /* index of its first field */
    size_t nfields;
    size_t line;
} record;

typedef struct tok {
    char *s; /* scratch copy, unescaped in place */
    vec fields, records;
} tok;

static int is_eol(char c)
{
    return c == '\n' || c == '\r';
}

static int tokenize(const char *name, const char *s, size_t len, char delim, tok *t, pk_err *err)
{
    /* Unescaped fields, each NUL-terminated: at most len bytes of text plus one
     * terminator per field, and there are at most len + 1 fields. */
    if (len > (SIZE_MAX - 2) / 2)
        return pk_err_set(err, PK_ENOMEM, "%s: too large", name);
    t->s = malloc(2 * len + 2);
    if (!t->s)
        return pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
    char *o = t->s;
    size_t r = 0, w = 0, line = 1, line_start = 0;
    if (len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
        r = line_start = 3;
    while (r < len) {
        /* a record starts here; skip blank lines */
        if (is_eol(s[r])) {
            if (s[r] == '\r' && r + 1 < len && s[r + 1] == '\n')
                r++;
            r++;
            line++;
            line_start = r;
            continue;
        }
        record rec = {t->fields.n, 0, line};
        for (;;) {
            field f = {w, 0};
            /* spaces before an opening quote are not part of the field */
            size_t q = r;
            while (q < len && (s[q] == ' ' || s[q] == '\t') && s[q] != delim)
                q++;
            if (q < len && s[q] == '"')
                r = q;
            if (r < len && s[r] == '"') {
                size_t qline = line, qcol = r - line_start + 1;
                f.quoted = 1;
                r++;
                for (;;) {
                    if (r >= len)
                        return pk_err_set(err, PK_EFORMAT, "%s:%zu:%zu: quoted field never closed", name, qline, qcol);
                    char c = s[r];
                    if (c == '"') {
                        if (r + 1 < len && s[r + 1] == '"') {
                            o[w++] = '"';
                            r += 2;
                            continue;
                        }
                        r++;
                        break;
                    }
                    if (c == 0)
                        return pk_err_set(err, PK_EFORMAT, "%s:%zu:%zu: NUL byte (binary file?)", name, line,
                                          r - line_start + 1);
                    if (c == '\n' || (c == '\r' && !(r + 1 < len && s[r + 1] == '\n'))) {
                        line++;
                        line_start = r + 1;
                    }
                    o[w++] = c;
                    r++;
                }
                while (r < len && (s[r] == ' ' || s[r] == '\t') && s[r] != delim)
                    r++;
                if (r < len && s[r] != delim && !is_eol(s[r]))
                    return pk_err_set(err, PK_EFORMAT, "%s:%zu:%zu: unexpected '%c' after a closing quote", name, line,
                                      r - line_start + 1, isprint((unsigned char)s[r]) ? s[r] : '?');
            } else {
                while (r < len && s[r] != delim && !is_eol(s[r])) {
                    if (s[r] == 0)
                        return pk_err_set(err, PK_EFORMAT, "%s:%zu:%zu: NUL byte (binary file?)", name, line,
                                          r - line_start + 1);
                    o[w++] = s[r++];
                }
            }
            o[w++] = 0;
            if (vec_push(&t->fields, &f))
                return pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
            rec.nfields++;
            if (r < len && s[r] == delim) {
                r++;
                continue;
            }
            break;
        }
        if (vec_push(&t->records, &rec))
            return pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
        /* r is at an end of line or the end of input; the loop head consumes it */
    }
    return PK_OK;
}

/* ---- cells ------------------------------------------------------------------- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = 0;
    return s;
}

/* Strict, locale-free syntax check, then strtod: [+-] digits [. digits] [e [+-] digits], or inf/infinity. */
static int parse_number(const char *s, double *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!strcasecmp(p, "inf") || !strcasecmp(p, "infinity")) {
        *out = *s == '-' ? -INFINITY : INFINITY;
        return 1;
    }
    int digits = 0;
    while (isdigit((unsigned char)*p))
        p++, digits++;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p))
            p++, digits++;
    }
    if (!digits)
        return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p)
        return 0;
    char *end;
    *out = strtod(s, &end);
    return *end == 0;
}

typedef struct na_set {
    char **tok;
    size_t n;
    char *store;
} na_set;

static int na_init(na_set *na, const char *spec)
{
    memset(na, 0, sizeof *na);
    if (!spec)
        return PK_OK;
    size_t n = strlen(spec);
    na->store = malloc(n + 1);
    na->tok = malloc((n + 2) * sizeof *na->tok);
    if (!na->store || !na->tok)
        return PK_ENOMEM;
    memcpy(na->store, spec, n + 1);
    char *p = na->store;
    for (;;) {
        char *c = strchr(p, ',');
        na->tok[na->n++] = p;
        if (!c)
            break;
        *c = 0;
        p = c + 1;
    }
    return PK_OK;
}

static int na_is(const na_set *na, const char *s)
{
    for (size_t i = 0; i < na->n; i++)
        if (!strcmp(na->tok[i], s))
            return 1;
    return 0;
}

static void na_free(na_set *na)
{
    free(na->store);
    free(na->tok);
}

/* ---- categorical levels: a small open-addressing hash per column -------------- */

typedef struct levels {
    char **names;
    size_t n, cap_names;
    size_t *slots; /* index+1, 0 = empty */
    size_t nslots;
} levels;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The code of level s, adding it if new; -1 on no memory. */
static long level_code(levels *L, const char *s)
{
    if (2 * (L->n + 1) > L->nslots) {
        size_t ns = L->nslots ? L->nslots * 2 : 16;
        size_t *sl = calloc(ns, sizeof *sl);
        if (!sl)
            return -1;
        for (size_t i = 0; i < L->n; i++) {
            size_t h = hash_str(L->names[i]) & (ns - 1);
            while (sl[h])
                h = (h + 1) & (ns - 1);
            sl[h] = i + 1;
        }
        free(L->slots);
        L->slots = sl;
        L->nslots = ns;
    }
    size_t h = hash_str(s) & (L->nslots - 1);
    while (L->slots[h]) {
        if (!strcmp(L->names[L->slots[h] - 1], s))
            return (long)(L->slots[h] - 1);
        h = (h + 1) & (L->nslots - 1);
    }
    if (L->n == L->cap_names) {
        size_t nc = L->cap_names ? L->cap_names * 2 : 8;
        char **nn = realloc(L->names, nc * sizeof *nn);
        if (!nn)
            return -1;
        L->names = nn;
        L->cap_names = nc;
    }
    size_t k = strlen(s) + 1;
    char *d = malloc(k);
    if (!d)
        return -1;
    memcpy(d, s, k);
    L->names[L->n] = d;
    L->slots[h] = ++L->n;
    return (long)(L->n - 1);
}

/* ---- table ------------------------------------------------------------------- */

void pk_table_free(pk_table *t)
{
    if (!t)
        return;
    for (size_t j = 0; j < t->ncols; j++) {
        free(t->names ? t->names[j] : NULL);
        if (t->levels && t->levels[j]) {
            for (size_t k = 0; k < t->nlevels[j]; k++)
                free(t->levels[j][k]);
            free(t->levels[j]);
        }
    }
    free(t->names);
    free(t->categorical);
    free(t->nlevels);
    free(t->levels);
    free(t->values);
    free(t);
}

int pk_table_find(const pk_table *t, const char *name)
{
    if (!t || !name)
        return -1;
    for (size_t j = 0; j < t->ncols; j++)
        if (!strcmp(t->names[j], name))
            return (int)j;
    return -1;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Shorten a cell for an error message. */
static const char *clip(const char *s, char *buf, size_t cap)
{
    size_t n = strlen(s);
    if (n < cap)
        return s;
    memcpy(buf, s, cap - 4);
    memcpy(buf + cap - 4, "...", 4);
    return buf;
}

static int build_table(const char *name, const pk_csv_opts *o, tok *tk, pk_table **out, pk_err *err)
{
    record *recs = tk->records.p;
    field *fl = tk->fields.p;
    size_t nrec = tk->records.n, r0 = 0;
    /* skip_lines counts physical lines before the header/data */
    while (r0 < nrec && recs[r0].line <= o->skip_lines)
        r0++;
    if (r0 >= nrec)
        return pk_err_set(err, PK_EFORMAT, "%s: no rows%s", name, o->has_header ? " (not even a header)" : "");
    size_t ncols = recs[r0].nfields;
    size_t first = r0 + (o->has_header ? 1 : 0);
    size_t nrows = nrec - first;
    for (size_t i = first; i < nrec; i++)
        if (recs[i].nfields != ncols)
            return pk_err_set(err, PK_EFORMAT, "%s:%zu: expected %zu fields (as in line %zu), found %zu", name,
                              recs[i].line, ncols, recs[r0].line, recs[i].nfields);
    pk_table *t = calloc(1, sizeof *t);
    if (!t)
        return pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
    t->ncols = ncols;
    t->nrows = nrows;
    t->names = calloc(ncols, sizeof *t->names);
    t->categorical = calloc(ncols, sizeof *t->categorical);
    t->nlevels = calloc(ncols, sizeof *t->nlevels);
    t->levels = calloc(ncols, sizeof *t->levels);
    int ovf = nrows && ncols > SIZE_MAX / sizeof(double) / nrows;
    size_t ncell = ovf ? 0 : nrows * ncols;
    t->values = ovf ? NULL : malloc((ncell ? ncell : 1) * sizeof *t->values);
    na_set na;
    int st = na_init(&na, o->na_values);
    levels L;
    memset(&L, 0, sizeof L);
    if (!t->names || !t->categorical || !t->nlevels || !t->levels || !t->values || st) {
        st = pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
        goto fail;
    }
    for (size_t j = 0; j < ncols; j++) {
        char nm[32];
        const char *src = nm;
        if (o->has_header)
            src = trim(tk->s + fl[recs[r0].first + j].off);
        else
            snprintf(nm, sizeof nm, "V%zu", j + 1);
        if (!src[0]) {
            snprintf(nm, sizeof nm, "V%zu", j + 1);
            src = nm;
        }
        /* names go through a level table: a code below j means a repeat */
        long code = level_code(&L, src);
        if (code < 0) {
            st = pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
            goto fail;
        }
        if ((size_t)code != j) {
            st = pk_err_set(err, PK_EFORMAT, "%s:%zu: column name '%s' appears twice (columns %ld and %zu)", name,
                            recs[r0].line, src, code + 1, j + 1);
            goto fail;
        }
        if (!(t->names[j] = dup_str(src))) {
            st = pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
            goto fail;
        }
    }
    for (size_t k = 0; k < L.n; k++)
        free(L.names[k]);
    free(L.names);
    free(L.slots);
    memset(&L, 0, sizeof L);
    /* pass 1: numeric parse; a column with a non-numeric, non-missing cell is categorical */
    for (size_t j = 0; j < ncols; j++) {
        for (size_t i = 0; i < nrows; i++) {
            const field *f = &fl[recs[first + i].first + j];
            char *cell = tk->s + f->off;
            if (!f->quoted)
                cell = trim(cell);
            double v;
            if (na_is(&na, cell))
                t->values[i * ncols + j] = NAN;
            else if (parse_number(cell, &v))
                t->values[i * ncols + j] = v;
            else if (o->require_numeric) {
                char cb[48];
                st = pk_err_set(err, PK_EFORMAT, "%s:%zu: column '%s': expected a number, got \"%s\"", name,
                                recs[first + i].line, t->names[j], clip(cell, cb, sizeof cb));
                goto fail;
            } else {
                t->categorical[j] = 1;
                break;
            }
        }
        if (!t->categorical[j])
            continue;
        memset(&L, 0, sizeof L);
        for (size_t i = 0; i < nrows; i++) {
            const field *f = &fl[recs[first + i].first + j];
            char *cell = tk->s + f->off; /* already trimmed in place above if unquoted */
            if (!f->quoted)
                cell = trim(cell);
            if (na_is(&na, cell)) {
                t->values[i * ncols + j] = NAN;
                continue;
            }
            long c = level_code(&L, cell);
            if (c < 0) {
                st = pk_err_set(err, PK_ENOMEM, "%s: out of memory", name);
                goto fail;
            }
            t->values[i * ncols + j] = (double)c;
        }
        t->levels[j] = L.names;
        t->nlevels[j] = L.n;
        free(L.slots);
        memset(&L, 0, sizeof L);
    }
    na_free(&na);
    *out = t;
    return PK_OK;
fail:
    for (size_t k = 0; k < L.n; k++)
        free(L.names[k]);
    free(L.names);
    free(L.slots);
    na_free(&na);
    pk_table_free(t);
    return st;
}

int pk_csv_parse(const char *buf, size_t len, const char *name, const pk_csv_opts *opts, pk_table **out, pk_err *err)
{
    *out = NULL;
    if (!name)
        name = "<memory>";
    pk_csv_opts o = opts ? *opts : pk_csv_opts_default();
    if (o.delimiter == '"' || o.delimiter == '\n' || o.delimiter == '\r' || o.delimiter == 0)
        return pk_err_set(err, PK_EINVAL, "%s: invalid CSV delimiter", name);
    tok tk;
    memset(&tk, 0, sizeof tk);
    tk.fields.el = sizeof(field);
    tk.records.el = sizeof(record);
    int st = tokenize(name, buf, len, o.delimiter, &tk, err);
    if (!st)
        st = build_table(name, &o, &tk, out, err);
    free(tk.s);
    free(tk.fields.p);
    free(tk.records.p);
    return st;
}

int pk_csv_read(const char *path, const pk_csv_opts *opts, pk_table **out, pk_err *err)
{
    uint8_t *buf;
    size_t len;
    *out = NULL;
    int st = pk_file_read_all(path, CSV_MAX_FILE, &buf, &len, err);
    if (st)
        return st;
    st = pk_csv_parse((const char *)buf, len, path, opts, out, err);
    free(buf);
    return st;
}

/* Write s as a CSV field, quoting when it holds the delimiter, a quote, a newline or edge spaces. */
static void put_field(FILE *fp, const char *s)
{
    size_t n = strlen(s);
    int q = strpbrk(s, ",\"\r\n") != NULL || (n && (s[0] == ' ' || s[n - 1] == ' '));
    if (!q) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

int pk_csv_write(const char *path, size_t nrows, size_t ncols, const char *const *names, const double *values,
                 pk_err *err)
{
    if (!path || (nrows && ncols && !values) || ncols == 0)
        return pk_err_set(err, PK_EINVAL, "pk_csv_write: bad arguments");
    pk_atomic_file af;
    int st = pk_atomic_open(&af, path, err);
    if (st)
        return st;
    if (names) {
        for (size_t j = 0; j < ncols; j++) {
            if (j)
                fputc(',', af.fp);
            put_field(af.fp, names[j] ? names[j] : "");
        }
        fputc('\n', af.fp);
    }
    for (size_t i = 0; i < nrows; i++) {
        for (size_t j = 0; j < ncols; j++) {
            double v = values[i * ncols + j];
            if (j)
                fputc(',', af.fp);
            if (isnan(v))
                fputs("NA", af.fp);
            else if (isinf(v))
                fputs(v > 0 ? "inf" : "-inf", af.fp);
            else
                fprintf(af.fp, "%.17g", v);
        }
        fputc('\n', af.fp);
    }
    return pk_atomic_commit(&af, err);
}
