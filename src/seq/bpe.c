/* Byte-pair encoding (Sennrich et al. 2016) on raw bytes: training by
 * repeated merging of the most frequent adjacent pair inside chunks, the
 * canonical encoding (merges applied in training order), exact decoding. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/io.h"
#include "probkit/ngram.h"
#include "seq_priv.h"

struct pk_bpe {
    int nmerge;
    int32_t *left, *right; /* [nmerge] */
    uint8_t **bytes;       /* [256 + nmerge] */
    size_t *blen;
    /* pair -> merge rank, open addressing on (left, right) */
    size_t hcap;
    int64_t *hkey;
    int32_t *hrank;
};

void pk_bpe_free(pk_bpe *b)
{
    if (!b)
        return;
    if (b->bytes)
        for (int i = 0; i < 256 + b->nmerge; i++)
            free(b->bytes[i]);
    free(b->bytes);
    free(b->blen);
    free(b->left);
    free(b->right);
    free(b->hkey);
    free(b->hrank);
    free(b);
}

int32_t pk_bpe_size(const pk_bpe *b) { return b ? 256 + b->nmerge : 0; }

const uint8_t *pk_bpe_token_bytes(const pk_bpe *b, int32_t t, size_t *len)
{
    if (!b || t < 0 || t >= 256 + b->nmerge)
        return NULL;
    if (len)
        *len = b->blen[t];
    return b->bytes[t];
}

int pk_bpe_merge(const pk_bpe *b, int i, int32_t *left, int32_t *right)
{
    if (!b || i < 0 || i >= b->nmerge)
        return PK_EINVAL;
    *left = b->left[i];
    *right = b->right[i];
    return PK_OK;
}

static int64_t pair_key(int32_t a, int32_t c) { return ((int64_t)a << 32) | (uint32_t)c; }

/* Build byte strings and the pair -> rank index from left/right. */
static int bpe_index(pk_bpe *b)
{
    int nt = 256 + b->nmerge;
    b->bytes = calloc((size_t)nt, sizeof *b->bytes);
    b->blen = calloc((size_t)nt, sizeof *b->blen);
    b->hcap = 16;
    while (b->hcap < (size_t)b->nmerge * 2 + 2)
        b->hcap *= 2;
    b->hkey = malloc(b->hcap * sizeof *b->hkey);
    b->hrank = malloc(b->hcap * sizeof *b->hrank);
    if (!b->bytes || !b->blen || !b->hkey || !b->hrank)
        return PK_ENOMEM;
    for (size_t i = 0; i < b->hcap; i++)
        b->hrank[i] = -1;
    for (int t = 0; t < 256; t++) {
        if (!(b->bytes[t] = malloc(1)))
            return PK_ENOMEM;
        b->bytes[t][0] = (uint8_t)t;
        b->blen[t] = 1;
    }
    for (int i = 0; i < b->nmerge; i++) {
        int32_t l = b->left[i], r = b->right[i], t = 256 + i;
        if (l < 0 || l >= t || r < 0 || r >= t)
            return PK_EFORMAT;
        b->blen[t] = b->blen[l] + b->blen[r];
        if (!(b->bytes[t] = malloc(b->blen[t])))
            return PK_ENOMEM;
        memcpy(b->bytes[t], b->bytes[l], b->blen[l]);
        memcpy(b->bytes[t] + b->blen[l], b->bytes[r], b->blen[r]);
        int64_t k = pair_key(l, r);
        size_t h = (size_t)pk_seq_mix64((uint64_t)k) & (b->hcap - 1);
        while (b->hrank[h] >= 0 && b->hkey[h] != k)
            h = (h + 1) & (b->hcap - 1);
        if (b->hrank[h] < 0) {
            b->hkey[h] = k;
            b->hrank[h] = i;
        }
    }
    return PK_OK;
}

static int32_t rank_of(const pk_bpe *b, int32_t l, int32_t r)
{
    int64_t k = pair_key(l, r);
    size_t h = (size_t)pk_seq_mix64((uint64_t)k) & (b->hcap - 1);
    while (b->hrank[h] >= 0) {
        if (b->hkey[h] == k)
            return b->hrank[h];
        h = (h + 1) & (b->hcap - 1);
    }
    return -1;
}

/* Chunks start at a space or newline that follows a non-space. */
static size_t chunk_end(const uint8_t *t, size_t len, size_t i)
{
    size_t j = i + 1;
    while (j < len && !((t[j] == ' ' || t[j] == '\n') && t[j - 1] != ' ' && t[j - 1] != '\n'))
        j++;
    return j;
}

/* Apply merges in rank order to one chunk in place; returns the new length. */
static size_t encode_chunk(const pk_bpe *b, int32_t *s, size_t n)
{
    for (;;) {
        int32_t best = -1;
        for (size_t i = 0; i + 1 < n; i++) {
            int32_t r = rank_of(b, s[i], s[i + 1]);
            if (r >= 0 && (best < 0 || r < best))
                best = r;
        }
        if (best < 0)
            return n;
        /* merge every occurrence of this pair, left to right */
        size_t o = 0;
        for (size_t i = 0; i < n;) {
            if (i + 1 < n && s[i] == b->left[best] && s[i + 1] == b->right[best]) {
                s[o++] = 256 + best;
                i += 2;
            } else {
                s[o++] = s[i++];
            }
        }
        n = o;
    }
}

int pk_bpe_encode(const pk_bpe *b, const uint8_t *text, size_t len, int32_t **toks, size_t *ntok)
{
    if (!b || !toks || !ntok || (len && !text))
        return PK_EINVAL;
    int32_t *out = malloc((len ? len : 1) * sizeof *out);
    if (!out)
        return PK_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t j = chunk_end(text, len, i);
        for (size_t k = i; k < j; k++)
            out[n + k - i] = text[k];
        n += encode_chunk(b, out + n, j - i);
        i = j;
    }
    *toks = out;
    *ntok = n;
    return PK_OK;
}

int pk_bpe_decode(const pk_bpe *b, const int32_t *toks, size_t ntok, uint8_t **text, size_t *len)
{
    if (!b || !text || !len || (ntok && !toks))
        return PK_EINVAL;
    size_t total = 0;
    for (size_t i = 0; i < ntok; i++) {
        if (toks[i] < 0 || toks[i] >= 256 + b->nmerge)
            return PK_EINVAL;
        total += b->blen[toks[i]];
    }
    uint8_t *out = malloc(total + 1);
    if (!out)
        return PK_ENOMEM;
    size_t o = 0;
    for (size_t i = 0; i < ntok; i++) {
        memcpy(out + o, b->bytes[toks[i]], b->blen[toks[i]]);
        o += b->blen[toks[i]];
    }
    out[o] = 0;
    *text = out;
    *len = o;
    return PK_OK;
}

/* ---- training ------------------------------------------------------------- */

typedef struct wordset {
    int32_t *sym;   /* all chunk symbols */
    size_t *off;    /* [n+1] */
    size_t *len;    /* current length of each chunk */
    double *freq;   /* occurrences of each distinct chunk */
    size_t n;
} wordset;

int pk_bpe_train(const uint8_t *text, size_t len, int merges, pk_bpe **out, pk_err *err)
{
    if (!out || (len && !text))
        return pk_err_set(err, PK_EINVAL, "bpe: NULL argument");
    *out = NULL;
    if (merges < 0 || merges > 1000000)
        return pk_err_set(err, PK_EINVAL, "bpe: merges = %d out of range 0..1000000", merges);
    pk_bpe *b = calloc(1, sizeof *b);
    wordset w = {0};
    size_t hcap = 1024, nchunk = 0;
    /* distinct chunks with counts: hash of (start, length) into the text */
    size_t *hs = NULL, *hl = NULL;
    double *hf = NULL;
    int rc = PK_ENOMEM;
    int64_t *pkeys = NULL;
    double *pcnt = NULL;
    if (!b)
        goto fail;
    b->left = malloc(((size_t)merges + 1) * sizeof *b->left);
    b->right = malloc(((size_t)merges + 1) * sizeof *b->right);
    if (!b->left || !b->right)
        goto fail;
    for (size_t i = 0; i < len;) {
        i = chunk_end(text, len, i);
        nchunk++;
    }
    while (hcap < nchunk * 2 + 2)
        hcap *= 2;
    hs = malloc(hcap * sizeof *hs);
    hl = calloc(hcap, sizeof *hl);
    hf = calloc(hcap, sizeof *hf);
    if (!hs || !hl || !hf)
        goto fail;
    size_t ndist = 0, totsym = 0;
    for (size_t i = 0; i < len;) {
        size_t j = chunk_end(text, len, i), L = j - i;
        uint64_t h = 0xcbf29ce484222325ULL;
        for (size_t k = i; k < j; k++)
            h = (h ^ text[k]) * 0x100000001b3ULL;
        size_t s = (size_t)pk_seq_mix64(h) & (hcap - 1);
        while (hl[s] && !(hl[s] == L && !memcmp(text + hs[s], text + i, L)))
            s = (s + 1) & (hcap - 1);
        if (!hl[s]) {
            hs[s] = i;
            hl[s] = L;
            ndist++;
            totsym += L;
        }
        hf[s] += 1;
        i = j;
    }
    w.sym = malloc((totsym ? totsym : 1) * sizeof *w.sym);
    w.off = malloc((ndist + 1) * sizeof *w.off);
    w.len = malloc((ndist ? ndist : 1) * sizeof *w.len);
    w.freq = malloc((ndist ? ndist : 1) * sizeof *w.freq);
    if (!w.sym || !w.off || !w.len || !w.freq)
        goto fail;
    w.off[0] = 0;
    for (size_t s = 0; s < hcap; s++) {
        if (!hl[s])
            continue;
        size_t o = w.off[w.n];
        for (size_t k = 0; k < hl[s]; k++)
            w.sym[o + k] = text[hs[s] + k];
        w.len[w.n] = hl[s];
        w.freq[w.n] = hf[s];
        w.off[w.n + 1] = o + hl[s];
        w.n++;
    }
    /* pair counts in a table rebuilt each round: simple and exact */
    size_t pcap = 1024;
    while (pcap < totsym * 2 + 2)
        pcap *= 2;
    pkeys = malloc(pcap * sizeof *pkeys);
    pcnt = malloc(pcap * sizeof *pcnt);
    if (!pkeys || !pcnt)
        goto fail;
    int made = 0;
    for (; made < merges; made++) {
        for (size_t i = 0; i < pcap; i++)
            pkeys[i] = -1;
        int64_t bestk = -1;
        double bestc = 0;
        for (size_t c = 0; c < w.n; c++) {
            int32_t *s = w.sym + w.off[c];
            for (size_t i = 0; i + 1 < w.len[c]; i++) {
                int64_t k = pair_key(s[i], s[i + 1]);
                size_t h = (size_t)pk_seq_mix64((uint64_t)k) & (pcap - 1);
                while (pkeys[h] >= 0 && pkeys[h] != k)
                    h = (h + 1) & (pcap - 1);
                if (pkeys[h] < 0) {
                    pkeys[h] = k;
                    pcnt[h] = 0;
                }
                pcnt[h] += w.freq[c];
                if (pcnt[h] > bestc || (pcnt[h] == bestc && k < bestk)) {
                    bestc = pcnt[h];
                    bestk = k;
                }
            }
        }
        if (bestk < 0 || bestc < 2)
            break; /* no pair occurs twice: further merges would only memorise */
        int32_t l = (int32_t)(bestk >> 32), r = (int32_t)(bestk & 0xffffffff), t = 256 + made;
        b->left[made] = l;
        b->right[made] = r;
        for (size_t c = 0; c < w.n; c++) {
            int32_t *s = w.sym + w.off[c];
            size_t o = 0, n = w.len[c];
            for (size_t i = 0; i < n;) {
                if (i + 1 < n && s[i] == l && s[i + 1] == r) {
                    s[o++] = t;
                    i += 2;
                } else {
                    s[o++] = s[i++];
                }
            }
            w.len[c] = o;
        }
    }
    b->nmerge = made;
    if ((rc = bpe_index(b)))
        goto fail;
    *out = b;
    b = NULL;
    rc = PK_OK;
fail:
    pk_bpe_free(b);
    free(hs);
    free(hl);
    free(hf);
    free(w.sym);
    free(w.off);
    free(w.len);
    free(w.freq);
    free(pkeys);
    free(pcnt);
    if (rc)
        return pk_err_set(err, rc, "bpe: out of memory");
    return PK_OK;
}

int pk_bpe_save(const pk_bpe *b, const char *path, pk_err *err)
{
    pk_sbuf sb = {0};
    pk_sbuf_printf(&sb, "probkit-bpe 1\n");
    for (int i = 0; i < b->nmerge; i++)
        pk_sbuf_printf(&sb, "%d %d\n", b->left[i], b->right[i]);
    if (sb.failed) {
        free(sb.buf);
        return pk_err_set(err, PK_ENOMEM, "%s: out of memory", path);
    }
    int rc = pk_file_write_atomic(path, sb.buf, sb.len, err);
    free(sb.buf);
    return rc;
}

int pk_bpe_load(const char *path, pk_bpe **out, pk_err *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = pk_file_read_all(path, (size_t)1 << 28, &buf, &len, err);
    if (rc)
        return rc;
    pk_bpe *b = calloc(1, sizeof *b);
    size_t cap = 0;
    const char *p = (const char *)buf, *end = p + len;
    long line = 1;
    if (!b) {
        rc = pk_err_set(err, PK_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if (len < 14 || memcmp(p, "probkit-bpe 1\n", 14)) {
        rc = pk_err_set(err, PK_EFORMAT, "%s:1: not a probkit-bpe version 1 file", path);
        goto done;
    }
    p += 14;
    while (p < end) {
        line++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        char tmp[64];
        if ((size_t)(e - p) >= sizeof tmp) {
            rc = pk_err_set(err, PK_EFORMAT, "%s:%ld: line too long", path, line);
            goto done;
        }
        memcpy(tmp, p, (size_t)(e - p));
        tmp[e - p] = 0;
        p = nl ? nl + 1 : end;
        int l, r, used = 0;
        if (sscanf(tmp, "%d %d%n", &l, &r, &used) != 2 || tmp[used] ||
            l < 0 || r < 0 || l >= 256 + b->nmerge || r >= 256 + b->nmerge) {
            rc = pk_err_set(err, PK_EFORMAT, "%s:%ld: expected two earlier token ids", path, line);
            goto done;
        }
        if ((size_t)b->nmerge == cap) {
            cap = cap ? cap * 2 : 256;
            int32_t *L2 = realloc(b->left, cap * sizeof *L2);
            if (!L2)
                goto oom;
            b->left = L2;
            int32_t *R2 = realloc(b->right, cap * sizeof *R2);
            if (!R2)
                goto oom;
            b->right = R2;
        }
        b->left[b->nmerge] = l;
        b->right[b->nmerge] = r;
        b->nmerge++;
    }
    if ((rc = bpe_index(b))) {
        pk_err_set(err, rc, "%s: cannot index merges", path);
        goto done;
    }
    *out = b;
    b = NULL;
    goto done;
oom:
    rc = pk_err_set(err, PK_ENOMEM, "%s: out of memory", path);
done:
    pk_bpe_free(b);
    free(buf);
    return rc;
}
