/* n-gram LM: agreement with an independent Python reference (tests/ref/seq_kn.py),
 * exact normalisation of every next-symbol distribution (seen and unseen
 * contexts, orders 1-5, bytes), sentence probability = product of
 * conditionals; BPE: deterministic training, exact round trip, canonical
 * encoding, save/load. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_test.h"
#include "probkit/ngram.h"
#include "probkit/rng.h"

static void test_reference(void)
{
    FILE *f = fopen(PK_FIXTURES "/seq/kn_ref.txt", "r");
    PK_CHECK(f != NULL);
    if (!f)
        return;
    int V, N, ns;
    PK_CHECK(fscanf(f, "%d %d %d", &V, &N, &ns) == 3);
    pk_ngram *m = NULL;
    pk_err err;
    PK_CHECK_OK(pk_ngram_new(V, N, &m, &err));
    for (int i = 0; i < ns; i++) {
        int L;
        int32_t x[64];
        PK_CHECK(fscanf(f, "%d", &L) == 1 && L < 64);
        for (int j = 0; j < L; j++)
            PK_CHECK(fscanf(f, "%d", &x[j]) == 1);
        PK_CHECK_OK(pk_ngram_add(m, x, (size_t)L, &err));
    }
    PK_CHECK_OK(pk_ngram_finish(m, &err));
    int L, nref = 0;
    while (fscanf(f, "%d", &L) == 1) {
        int32_t ctx[16];
        for (int j = 0; j < L; j++)
            PK_CHECK(fscanf(f, "%d", &ctx[j]) == 1);
        int w;
        double want;
        PK_CHECK(fscanf(f, " | %d %lf", &w, &want) == 2);
        PK_CHECK_CLOSE(exp(pk_ngram_log_prob_next(m, ctx, (size_t)L, w)), want, 1e-14, 1e-12);
        nref++;
    }
    PK_CHECK(nref == 36);
    fclose(f);
    /* adding after finish is refused */
    int32_t one = 0;
    PK_CHECK(pk_ngram_add(m, &one, 1, &err) == PK_EINVAL);
    pk_ngram_free(m);
}

static void test_normalisation(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 3);
    const char *text = "the quick brown fox jumps over the lazy dog; the dog sleeps. a fox is quick.";
    size_t tl = strlen(text);
    for (int order = 1; order <= 5; order++) {
        pk_ngram *m = NULL;
        pk_err err;
        PK_CHECK_OK(pk_ngram_new(256, order, &m, &err));
        int32_t x[128];
        for (int r = 0; r < 30; r++) {
            size_t a = (size_t)pk_rng_below(&rng, tl), b = a + (size_t)pk_rng_below(&rng, tl - a + 1);
            for (size_t i = a; i < b; i++)
                x[i - a] = (unsigned char)text[i];
            PK_CHECK_OK(pk_ngram_add(m, x, b - a, &err));
        }
        PK_CHECK_OK(pk_ngram_finish(m, &err));
        double p[257], worst = 0;
        /* every context seen in the text, plus random (mostly unseen) ones */
        for (size_t i = 0; i <= tl; i++) {
            for (size_t j = 0; j < i; j++)
                x[j] = (unsigned char)text[j];
            PK_CHECK_OK(pk_ngram_next_dist(m, x, i < 127 ? i : 0, p));
            double s = 0;
            for (int w = 0; w <= 256; w++) {
                PK_CHECK(p[w] > 0);
                s += p[w];
            }
            if (fabs(s - 1) > worst)
                worst = fabs(s - 1);
        }
        for (int r = 0; r < 200; r++) {
            size_t L = (size_t)pk_rng_below(&rng, 8);
            for (size_t j = 0; j < L; j++)
                x[j] = (int32_t)pk_rng_below(&rng, 256);
            PK_CHECK_OK(pk_ngram_next_dist(m, x, L, p));
            double s = 0;
            for (int w = 0; w <= 256; w++)
                s += p[w];
            if (fabs(s - 1) > worst)
                worst = fabs(s - 1);
        }
        PK_CHECK_MSG(worst <= 1e-12, "order %d: |sum - 1| = %g", order, worst);
        /* sentence log-probability = sum of conditionals */
        for (size_t j = 0; j < 10; j++)
            x[j] = (unsigned char)text[j];
        double lp = 0;
        for (size_t j = 0; j <= 10; j++)
            lp += pk_ngram_log_prob_next(m, x, j, j == 10 ? 256 : x[j]);
        PK_CHECK_CLOSE(pk_ngram_log_prob(m, x, 10), lp, 1e-12, 1e-12);
        double d[3];
        PK_CHECK_OK(pk_ngram_discounts(m, order, d));
        PK_CHECK(d[0] > 0 && d[0] <= 1 && d[1] <= 2 && d[2] <= 3);
        pk_ngram_free(m);
    }
    pk_ngram *bad = NULL;
    pk_err err;
    PK_CHECK(pk_ngram_new(0, 3, &bad, &err) == PK_EINVAL && bad == NULL);
    PK_CHECK(pk_ngram_new(10, 17, &bad, &err) == PK_EINVAL);
    PK_CHECK_OK(pk_ngram_new(4, 2, &bad, &err));
    int32_t oob = 4;
    PK_CHECK(pk_ngram_add(bad, &oob, 1, &err) == PK_EINVAL && strstr(err.msg, "outside"));
    PK_CHECK(pk_ngram_finish(bad, &err) == PK_EINVAL);
    pk_ngram_free(bad);
}

static void test_bpe(void)
{
    const char *text = "low lower lowest newer newest wider widest low low lower\nnew new newer";
    size_t tl = strlen(text);
    pk_bpe *b = NULL, *b2 = NULL;
    pk_err err;
    PK_CHECK_OK(pk_bpe_train((const uint8_t *)text, tl, 20, &b, &err));
    PK_CHECK(pk_bpe_size(b) > 256 && pk_bpe_size(b) <= 276);
    PK_CHECK_OK(pk_bpe_train((const uint8_t *)text, tl, 20, &b2, &err));
    PK_CHECK(pk_bpe_size(b2) == pk_bpe_size(b));
    for (int i = 0; i < pk_bpe_size(b) - 256; i++) {
        int32_t l1, r1, l2, r2;
        pk_bpe_merge(b, i, &l1, &r1);
        pk_bpe_merge(b2, i, &l2, &r2);
        PK_CHECK(l1 == l2 && r1 == r2);
    }
    pk_bpe_free(b2);
    /* the first merge is the most frequent pair: "lo" / "ow" / " l"... it must occur >= 2 times */
    int32_t l, r;
    PK_CHECK_OK(pk_bpe_merge(b, 0, &l, &r));
    size_t bl;
    const uint8_t *tb = pk_bpe_token_bytes(b, 256, &bl);
    PK_CHECK(bl == 2 && tb[0] == l && tb[1] == r);
    int32_t *toks = NULL;
    size_t nt;
    PK_CHECK_OK(pk_bpe_encode(b, (const uint8_t *)text, tl, &toks, &nt));
    PK_CHECK(nt < tl);
    uint8_t *back = NULL;
    size_t blen;
    PK_CHECK_OK(pk_bpe_decode(b, toks, nt, &back, &blen));
    PK_CHECK(blen == tl && !memcmp(back, text, tl));
    free(back);
    free(toks);
    /* arbitrary bytes (including NUL and high bytes) round-trip exactly */
    pk_rng rng;
    pk_rng_seed(&rng, 5);
    uint8_t raw[300];
    for (int rep = 0; rep < 20; rep++) {
        size_t n = (size_t)pk_rng_below(&rng, 300);
        for (size_t i = 0; i < n; i++)
            raw[i] = pk_rng_below(&rng, 4) ? (uint8_t)text[pk_rng_below(&rng, tl)] : (uint8_t)pk_rng_below(&rng, 256);
        PK_CHECK_OK(pk_bpe_encode(b, raw, n, &toks, &nt));
        PK_CHECK_OK(pk_bpe_decode(b, toks, nt, &back, &blen));
        PK_CHECK(blen == n && (n == 0 || !memcmp(back, raw, n)));
        free(back);
        free(toks);
    }
    int32_t badtok = 100000;
    PK_CHECK(pk_bpe_decode(b, &badtok, 1, &back, &blen) == PK_EINVAL);
    /* save / load keeps the encoding */
    char path[] = "/tmp/pk_seq_bpe_XXXXXX";
    int fd = mkstemp(path);
    PK_CHECK(fd >= 0);
    if (fd >= 0) {
        fclose(fdopen(fd, "w"));
        PK_CHECK_OK(pk_bpe_save(b, path, &err));
        PK_CHECK_OK(pk_bpe_load(path, &b2, &err));
        PK_CHECK(pk_bpe_size(b2) == pk_bpe_size(b));
        int32_t *t2;
        size_t n2;
        PK_CHECK_OK(pk_bpe_encode(b, (const uint8_t *)text, tl, &toks, &nt));
        PK_CHECK_OK(pk_bpe_encode(b2, (const uint8_t *)text, tl, &t2, &n2));
        PK_CHECK(nt == n2 && !memcmp(toks, t2, nt * sizeof *toks));
        free(toks);
        free(t2);
        pk_bpe_free(b2);
        FILE *f = fopen(path, "w");
        fputs("probkit-bpe 1\n97 98\n999 1\n", f);
        fclose(f);
        b2 = NULL;
        PK_CHECK(pk_bpe_load(path, &b2, &err) == PK_EFORMAT && b2 == NULL && strstr(err.msg, ":3:"));
        remove(path);
    }
    pk_bpe_free(b);
}

int main(void)
{
    test_reference();
    test_normalisation();
    test_bpe();
    return pk_test_done();
}
