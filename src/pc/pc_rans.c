/* pc_rans.c — range asymmetric numeral systems (Duda 2013) with a 64-bit
 * state, 32-bit renormalisation and 2^PK_RANS_PREC frequency totals.
 *
 * The encoder starts at state 0 instead of the usual lower bound L = 2^31:
 * the state then only grows until it first reaches L, no word can be emitted
 * before that (emission needs x >= 2^(63-PREC) * freq >= L), and the decoder
 * mirrors it by reading a word only while words remain.  This saves the ~31
 * bits of start-up cost, which matters when every 784-pixel image is its own
 * stream.  The final state is written as a LEB128 varint, so short streams
 * stay short; the decoder checks it ends at state 0 with nothing left over,
 * which rejects almost every corrupted stream. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pc_internal.h"

#define RANS_L (1ull << 31)
#define RANS_M (1u << PK_RANS_PREC)
/* Initial state.  Measured on Fashion-MNIST images coded alone (k = 8): 0 costs
 * ~30 bits per image over the ideal, 2^16 ~32, 2^24 ~45, the usual 2^31 ~52. */
#define RANS_X0 0

void pk_rans_enc_init(pk_rans_enc *e)
{
    memset(e, 0, sizeof *e);
    e->state = RANS_X0;
}

static void push_word(pk_rans_enc *e, uint32_t w)
{
    if (e->oom)
        return;
    if (e->nwords == e->cap) {
        size_t nc = e->cap ? 2 * e->cap : 256;
        uint32_t *p = realloc(e->words, nc * sizeof(uint32_t));
        if (!p) {
            e->oom = 1;
            return;
        }
        e->words = p;
        e->cap = nc;
    }
    e->words[e->nwords++] = w;
}

void pk_rans_enc_put(pk_rans_enc *e, uint32_t start, uint32_t freq)
{
    uint64_t x = e->state;
    uint64_t x_max = ((RANS_L >> PK_RANS_PREC) << 32) * freq;
    if (x >= x_max) {
        push_word(e, (uint32_t)x);
        x >>= 32;
    }
    e->state = ((x / freq) << PK_RANS_PREC) + (x % freq) + start;
}

int pk_rans_enc_finish(pk_rans_enc *e, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    if (e->oom) {
        free(e->words);
        memset(e, 0, sizeof *e);
        return PK_ENOMEM;
    }
    uint8_t *out = malloc(10 + 4 * e->nwords);
    if (!out) {
        free(e->words);
        memset(e, 0, sizeof *e);
        return PK_ENOMEM;
    }
    size_t n = 0;
    uint64_t x = e->state;
    do {
        uint8_t b = (uint8_t)(x & 0x7f);
        x >>= 7;
        out[n++] = (uint8_t)(b | (x ? 0x80 : 0));
    } while (x);
    for (size_t i = e->nwords; i-- > 0;) {
        uint32_t w = e->words[i];
        out[n++] = (uint8_t)w;
        out[n++] = (uint8_t)(w >> 8);
        out[n++] = (uint8_t)(w >> 16);
        out[n++] = (uint8_t)(w >> 24);
    }
    free(e->words);
    memset(e, 0, sizeof *e);
    *buf = out;
    *len = n;
    return PK_OK;
}

int pk_rans_dec_init(pk_rans_dec *d, const uint8_t *buf, size_t len)
{
    memset(d, 0, sizeof *d);
    uint64_t x = 0;
    size_t i = 0;
    for (;; i++) {
        if (i >= len || i >= 10) {
            d->error = 1;
            return PK_EFORMAT;
        }
        uint64_t b = buf[i] & 0x7f;
        if (i == 9 && b > 1) {
            d->error = 1;
            return PK_EFORMAT;
        }
        x |= b << (7 * i);
        if (!(buf[i] & 0x80))
            break;
    }
    i++;
    if ((len - i) % 4 != 0 || x >= (1ull << 63)) {
        d->error = 1;
        return PK_EFORMAT;
    }
    d->state = x;
    d->p = buf + i;
    d->end = buf + len;
    return PK_OK;
}

uint32_t pk_rans_dec_peek(const pk_rans_dec *d)
{
    return (uint32_t)(d->state & (RANS_M - 1));
}

void pk_rans_dec_advance(pk_rans_dec *d, uint32_t start, uint32_t freq)
{
    uint64_t x = d->state;
    uint32_t slot = (uint32_t)(x & (RANS_M - 1));
    if (slot < start || slot - start >= freq) {
        d->error = 1;
        return;
    }
    x = (uint64_t)freq * (x >> PK_RANS_PREC) + slot - start;
    if (x < RANS_L && d->p < d->end) {
        uint32_t w = (uint32_t)d->p[0] | (uint32_t)d->p[1] << 8 | (uint32_t)d->p[2] << 16 | (uint32_t)d->p[3] << 24;
        d->p += 4;
        x = (x << 32) | w;
    }
    d->state = x;
}

int pk_rans_dec_done(const pk_rans_dec *d)
{
    return (!d->error && d->state == RANS_X0 && d->p == d->end) ? PK_OK : PK_EFORMAT;
}

static int pos_to_sym(const pk_rans_table *t, int p)
{
    return p == 0 ? t->first : (p <= t->first ? p - 1 : p);
}

void pk_rans_table_build(pk_rans_table *t, const double *p, int n)
{
    double s = 0;
    for (int a = 0; a < n; a++)
        s += (p[a] >= 0 && p[a] <= 1e300) ? p[a] : 0;
    const uint32_t spare = RANS_M - (uint32_t)n; /* mass left after one count each */
    int64_t used = 0;
    int best = 0;
    t->n = n;
    /* One division per table, not per symbol. */
    const double scale = s > 0 ? (double)spare / s : 0, uni = floor((double)spare / n);
    for (int a = 0; a < n; a++) {
        double f = s > 0 ? ((p[a] >= 0 && p[a] <= 1e300) ? floor(p[a] * scale) : 0) : uni;
        if (f > spare)
            f = spare;
        t->freq[a] = 1 + (uint32_t)f;
        used += t->freq[a];
        if (t->freq[a] > t->freq[best])
            best = a;
    }
    /* Exact arithmetic leaves a remainder r >= 0; rounding could in principle
     * overshoot by a little, which is taken back from the largest entries. */
    int64_t r = (int64_t)RANS_M - used;
    while (r < 0) {
        int big = 0;
        for (int a = 1; a < n; a++)
            if (t->freq[a] > t->freq[big])
                big = a;
        int64_t take = (int64_t)t->freq[big] - 1 < -r ? (int64_t)t->freq[big] - 1 : -r;
        t->freq[big] -= (uint32_t)take;
        r += take;
    }
    t->freq[best] += (uint32_t)r;
    t->first = best;
    t->cum[0] = 0;
    for (int q = 0; q < n; q++)
        t->cum[q + 1] = t->cum[q] + t->freq[pos_to_sym(t, q)];
}

uint32_t pk_rans_table_start(const pk_rans_table *t, int a)
{
    int pos = a == t->first ? 0 : (a < t->first ? a + 1 : a);
    return t->cum[pos];
}

int pk_rans_table_find(const pk_rans_table *t, uint32_t slot)
{
    int lo = 0, hi = t->n - 1; /* largest position with cum <= slot */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (t->cum[mid] <= slot)
            lo = mid;
        else
            hi = mid - 1;
    }
    return pos_to_sym(t, lo);
}
