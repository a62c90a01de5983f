/* PDFA module: PAutomaC parsers (good and bad input), exact PFA probabilities
 * against brute force, the perplexity score, Alergia recovering a random
 * PDFA, smoothing, sampling, JSON round trip and dot export. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pk_test.h"
#include "probkit/pdfa.h"

static const char *MODEL = "I: (state)\n\t(0) 0.6\n\t(1) 0.4\nF: (state)\n\t(0) 0.3\n\t(1) 0.5\n"
                           "S: (state,symbol)\n\t(0,0) 0.5\n\t(0,1) 0.5\n\t(1,1) 1.0\n"
                           "T: (state,symbol,state)\n\t(0,0,0) 0.2\n\t(0,0,1) 0.8\n\t(0,1,1) 1.0\n\t(1,1,0) 1.0\n";

/* Forward probability by explicit path enumeration (tiny machine). */
static double brute(const int32_t *x, size_t len, int q, double p)
{
    static const double F[2] = {0.3, 0.5}, S[2][2] = {{0.5, 0.5}, {0, 1}};
    static const double T[2][2][2] = {{{0.2, 0.8}, {0, 1}}, {{0, 0}, {1, 0}}};
    if (len == 0)
        return p * F[q];
    double s = 0;
    for (int d = 0; d < 2; d++)
        s += brute(x + 1, len - 1, d, p * (1 - F[q]) * S[q][x[0]] * T[q][x[0]][d]);
    return s;
}

static void test_pfa(void)
{
    pk_pfa *m = NULL;
    pk_err err;
    PK_CHECK_OK(pk_pfa_parse_pautomac(MODEL, strlen(MODEL), "m", &m, &err));
    PK_CHECK(pk_pfa_nstates(m) == 2 && pk_pfa_nsym(m) == 2);
    PK_CHECK(!pk_pfa_is_deterministic(m));
    /* all strings up to length 12: exact vs brute force, total mass -> 1 */
    double total = 0;
    int32_t x[12];
    for (size_t len = 0; len <= 12; len++)
        for (uint32_t bits = 0; bits < (1u << len); bits++) {
            for (size_t i = 0; i < len; i++)
                x[i] = (int32_t)((bits >> i) & 1);
            double want = 0.6 * brute(x, len, 0, 1) + 0.4 * brute(x, len, 1, 1);
            double got = exp(pk_pfa_log_prob(m, x, len));
            PK_CHECK_CLOSE(got, want, 1e-300, 1e-12);
            total += got;
        }
    PK_CHECK(total > 0.98 && total <= 1 + 1e-12);
    int32_t bad = 5;
    PK_CHECK(pk_pfa_log_prob(m, &bad, 1) == -INFINITY);
    pk_pfa_free(m);

    const char *bad_model = "I: (state)\n\t(0) 1.0\nF: (state)\n\t(0 0.5\n";
    PK_CHECK(pk_pfa_parse_pautomac(bad_model, strlen(bad_model), "bad.txt", &m, &err) == PK_EFORMAT);
    PK_CHECK(strstr(err.msg, "bad.txt:4") != NULL);
    PK_CHECK(m == NULL);
}

static void test_strings(void)
{
    pk_seqs *s = NULL;
    pk_err err;
    const char *ok = "3 4\n2 0 3\n0\n3 1 1 2\n";
    PK_CHECK_OK(pk_pautomac_parse(ok, strlen(ok), "ok", &s, &err));
    PK_CHECK(s && s->n == 3 && s->nsym == 4);
    PK_CHECK(pk_seqs_len(s, 1) == 0 && pk_seqs_at(s, 2)[2] == 2);
    pk_seqs_free(s);
    struct {
        const char *text, *want;
    } bad[] = {
        {"", "empty input"},
        {"0 4\n", "empty stream"},
        {"2 4\n1 0\n", "f:2: input ends early: expected 2 strings"},
        {"1 4\n2 0\n", "f:2: declared length 2"},
        {"1 4\n1 0 1\n", "f:2: more symbols"},
        {"1 4\n1 7\n", "f:2: symbol 7 out of the declared alphabet"},
        {"1 4\n1 x\n", "f:2: symbol 1 is not"},
        {"1 4\n1 1\n1 1\n", "f:3: more strings"},
        {"a b\n", "f:1: header"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = NULL;
        int rc = pk_pautomac_parse(bad[i].text, strlen(bad[i].text), "f", &s, &err);
        PK_CHECK_MSG(rc == PK_EFORMAT && s == NULL && strstr(err.msg, bad[i].want), "case %zu: %s", i, err.msg);
    }
}

/* The streaming reader yields the same strings and the same errors. */
static void test_reader(void)
{
    struct {
        const char *text, *want;
        size_t n;
    } cases[] = {
        {"3 4\n2 0 3\n0\n3 1 1 2\n", NULL, 3},
        {"3 4\n2 0 3\n0\n3 1 1 2\n\n", NULL, 3},
        {"2 4\n1 0\n", ":2: input ends early", 1},
        {"1 4\n1 7\n", ":2: symbol 7 out of the declared alphabet", 0},
        {"1 4\n1 1\n1 1\n", ":3: more strings", 1},
        {"0 4\n", "empty stream", 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char path[] = "/tmp/pk_seq_reader_XXXXXX";
        int fd = mkstemp(path);
        PK_CHECK(fd >= 0);
        if (fd < 0)
            return;
        FILE *f = fdopen(fd, "w");
        fputs(cases[c].text, f);
        fclose(f);
        pk_pautomac_reader *r = NULL;
        pk_err err;
        pk_seqs *ref = NULL;
        int prc = pk_pautomac_parse(cases[c].text, strlen(cases[c].text), "x", &ref, &err);
        int rc = pk_pautomac_reader_open(path, &r, NULL, NULL, &err);
        size_t got = 0;
        while (rc == PK_OK) {
            const int32_t *x;
            size_t len;
            int g = pk_pautomac_reader_next(r, &x, &len, &err);
            if (g <= 0) {
                rc = g;
                break;
            }
            if (ref && got < ref->n) {
                PK_CHECK(len == pk_seqs_len(ref, got));
                PK_CHECK(len == 0 || !memcmp(x, pk_seqs_at(ref, got), len * sizeof *x));
            }
            got++;
        }
        if (cases[c].want) {
            PK_CHECK_MSG(rc < 0 && strstr(err.msg, cases[c].want), "case %zu: %s", c, err.msg);
            PK_CHECK(prc < 0);
        } else {
            PK_CHECK_OK(rc);
            PK_CHECK(prc == PK_OK && ref->n == got);
        }
        PK_CHECK(got == cases[c].n);
        pk_pautomac_reader_close(r);
        pk_seqs_free(ref);
        remove(path);
    }
    pk_pautomac_reader *r = NULL;
    pk_err err;
    PK_CHECK(pk_pautomac_reader_open("/nonexistent/x.txt", &r, NULL, NULL, &err) == PK_EIO && r == NULL);
    PK_CHECK(strstr(err.msg, "/nonexistent/x.txt") != NULL);
}

static void test_perplexity(void)
{
    double pt[3] = {0.2, 0.3, 0.5}, pc[3] = {2, 3, 5}, lpc[3];
    /* identical distributions (after normalisation): PP = 2^H(pt) */
    double h = -(0.2 * log2(0.2) + 0.3 * log2(0.3) + 0.5 * log2(0.5));
    PK_CHECK_CLOSE(pk_pautomac_perplexity(pt, pc, 3), exp2(h), 0, 1e-12);
    for (int i = 0; i < 3; i++)
        lpc[i] = log(pc[i]) - 800; /* would underflow as plain probabilities */
    PK_CHECK_CLOSE(pk_pautomac_perplexity_log(pt, lpc, 3), exp2(h), 0, 1e-12);
    double pz[3] = {0, 1, 1};
    PK_CHECK(isinf(pk_pautomac_perplexity(pt, pz, 3)));
    /* any other candidate scores worse (Gibbs) */
    double pw[3] = {0.3, 0.3, 0.4};
    PK_CHECK(pk_pautomac_perplexity(pt, pw, 3) > exp2(h));
}

/* A streaming learner fed every string of `train` (the caller frees it). */
static pk_pdfa_stream *stream_fed(const pk_seqs *train, pk_stream_test test)
{
    pk_err err;
    pk_stream_params sp = pk_stream_params_default_test(test);
    pk_pdfa_stream *ls = NULL;
    PK_CHECK_OK(pk_pdfa_stream_new(train->nsym, &sp, &ls, &err));
    for (size_t i = 0; ls && i < train->n; i++)
        PK_CHECK_OK(pk_pdfa_stream_add(ls, pk_seqs_at(train, i), pk_seqs_len(train, i), &err));
    return ls;
}

static void test_learn(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 7);
    pk_pdfa *target = NULL;
    PK_CHECK_OK(pk_pdfa_random(6, 4, &rng, &target));
    /* the random machine is normalised */
    double p[5];
    for (int32_t q = 0; q < 6; q++) {
        double z = 0;
        for (int32_t a = 0; a <= 4; a++)
            z += pk_pdfa_weight(target, q, a);
        PK_CHECK_CLOSE(z, 1, 1e-12, 0);
    }
    PK_CHECK_OK(pk_pdfa_next_dist(target, NULL, 0, p));
    pk_seqs *train = pk_seqs_new(4), *test = pk_seqs_new(4);
    int32_t buf[400];
    size_t len;
    int trunc;
    for (int i = 0; i < 20000; i++) {
        PK_CHECK_OK(pk_pdfa_sample(target, &rng, buf, 400, &len, &trunc));
        pk_seqs_push(i < 15000 ? train : test, buf, len);
    }
    pk_alergia_params ap = pk_alergia_params_default();
    pk_pdfa *learned = NULL;
    pk_pdfa_learn_stats st;
    pk_err err;
    PK_CHECK_OK(pk_alergia_learn(train, &ap, &learned, &st, &err));
    double bt = pk_pdfa_bits_per_symbol(target, test, NULL);
    double bl = pk_pdfa_bits_per_symbol(learned, test, NULL);
    PK_CHECK_MSG(bl < bt * 1.02 && bl >= bt * 0.98, "learned %.4f bits/sym vs target %.4f (%d states)", bl, bt,
                 st.states);
    PK_CHECK_MSG(st.states >= 6 && st.states < 40, "%d states", st.states);
    fprintf(stderr, "alergia: %.4f bits/sym (target %.4f), %d states\n", bl, bt, st.states);

    /* JSON round trip keeps every probability; dot export mentions each state */
    char *js = NULL;
    PK_CHECK_OK(pk_pdfa_to_json(learned, &js));
    pk_pdfa *back = NULL;
    PK_CHECK_OK(pk_pdfa_from_json(js, strlen(js), "rt", &back, &err));
    for (size_t i = 0; i < 50; i++)
        PK_CHECK_CLOSE(pk_pdfa_log_prob(back, pk_seqs_at(test, i), pk_seqs_len(test, i)),
                       pk_pdfa_log_prob(learned, pk_seqs_at(test, i), pk_seqs_len(test, i)), 1e-12, 1e-12);
    free(js);
    pk_pdfa *junk = NULL;
    PK_CHECK(pk_pdfa_from_json("{\"format\":\"x\"}", 14, "bad.json", &junk, &err) == PK_EFORMAT);
    PK_CHECK(junk == NULL && strstr(err.msg, "bad.json"));
    pk_pdfa *none = NULL;
    PK_CHECK(pk_pdfa_from_json("{\"format\":\"probkit-pdfa\",\"version\":9}", 37, "v.json", &none, &err) ==
             PK_EFORMAT);
    PK_CHECK(none == NULL && strstr(err.msg, "version"));
    char *dot = NULL;
    PK_CHECK_OK(pk_pdfa_to_dot(learned, 0, &dot));
    PK_CHECK(strstr(dot, "digraph") && strstr(dot, "0 -> "));
    free(dot);

    /* smoothing: an unseen symbol path still has positive probability */
    int32_t odd[3] = {3, 3, 3};
    PK_CHECK(isfinite(pk_pdfa_log_prob(learned, odd, 3)));
    PK_CHECK_OK(pk_pdfa_next_dist(learned, odd, 3, p));
    PK_CHECK_CLOSE(p[0] + p[1] + p[2] + p[3] + p[4], 1, 1e-12, 0);

    /* the streaming learners get close to batch Alergia on the same data */
    for (int mode = 0; mode < 2; mode++) {
        pk_pdfa_stream *ls = stream_fed(train, mode ? PK_STREAM_SKETCH : PK_STREAM_ALERGIA);
        pk_pdfa *sm = NULL;
        PK_CHECK_OK(pk_pdfa_stream_model(ls, &sm, &st, &err));
        double bs = pk_pdfa_bits_per_symbol(sm, test, NULL);
        PK_CHECK_MSG(bs < bt * 1.03, "stream mode %d: %.4f bits/sym vs target %.4f (%d states)", mode, bs, bt,
                     st.states);
        fprintf(stderr, "stream mode %d: %.4f bits/sym, %d states, %lld bytes\n", mode, bs, st.states,
                (long long)st.peak_bytes);
        pk_pdfa_free(sm);
        pk_pdfa_stream_free(ls);
    }

    pk_pdfa_free(back);
    pk_pdfa_free(learned);
    pk_pdfa_free(target);
    pk_seqs_free(train);
    pk_seqs_free(test);
}

/* States B and C below have the same next-symbol distribution and differ only
 * one step later (D vs E); a test on next-symbol counts alone merges them (and
 * the start state), so streaming Alergia must compare the futures below each
 * blue state, as batch Alergia does. */
static void test_stream_deep(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 11);
    pk_pdfa *t = pk_pdfa_new(5, 2);
    PK_CHECK(t != NULL);
    static const int32_t DEST[5][2] = {{1, 2}, {3, 3}, {4, 4}, {0, 0}, {0, 0}};
    static const double W[5][3] = {{.45, .45, .1}, {.45, .45, .1}, {.45, .45, .1}, {.8, .1, .1}, {.1, .8, .1}};
    for (int32_t q = 0; q < 5; q++) {
        for (int32_t a = 0; a < 2; a++)
            PK_CHECK_OK(pk_pdfa_set(t, q, a, DEST[q][a], W[q][a]));
        PK_CHECK_OK(pk_pdfa_set_final(t, q, W[q][2]));
    }
    pk_seqs *train = pk_seqs_new(2), *test = pk_seqs_new(2);
    int32_t buf[512];
    size_t len;
    int trunc;
    for (int i = 0; i < 22000; i++) {
        PK_CHECK_OK(pk_pdfa_sample(t, &rng, buf, 512, &len, &trunc));
        PK_CHECK_OK(pk_seqs_push(i < 20000 ? train : test, buf, len));
    }
    double bt = pk_pdfa_bits_per_symbol(t, test, NULL);
    pk_err err;
    pk_pdfa_learn_stats st;
    pk_alergia_params ap = pk_alergia_params_default();
    pk_pdfa *bm = NULL;
    PK_CHECK_OK(pk_alergia_learn(train, &ap, &bm, &st, &err));
    double bb = pk_pdfa_bits_per_symbol(bm, test, NULL);
    pk_pdfa_stream *ls = stream_fed(train, PK_STREAM_ALERGIA);
    pk_pdfa *sm = NULL;
    PK_CHECK_OK(pk_pdfa_stream_model(ls, &sm, &st, &err));
    double bs = pk_pdfa_bits_per_symbol(sm, test, NULL);
    /* a second snapshot without new data undoes and replays every merge: it
     * must give the same machine, or undo did not restore the counts */
    pk_pdfa *again = NULL;
    pk_pdfa_learn_stats st2;
    PK_CHECK_OK(pk_pdfa_stream_model(ls, &again, &st2, &err));
    PK_CHECK(st2.states == st.states);
    PK_CHECK_CLOSE(pk_pdfa_bits_per_symbol(again, test, NULL), bs, 0, 1e-12);
    pk_pdfa_free(again);
    PK_CHECK_MSG(bb < bt * 1.01, "batch Alergia %.4f bits/sym vs target %.4f", bb, bt);
    PK_CHECK_MSG(bs < bt * 1.01 && bs < bb * 1.01, "streaming Alergia %.4f bits/sym vs target %.4f, batch %.4f (%d states)",
                 bs, bt, bb, st.states);
    pk_pdfa_free(sm);
    pk_pdfa_stream_free(ls);
    pk_pdfa_free(bm);
    pk_pdfa_free(t);
    pk_seqs_free(train);
    pk_seqs_free(test);
}

int main(void)
{
    test_pfa();
    test_strings();
    test_reader();
    test_perplexity();
    test_learn();
    test_stream_deep();
    return pk_test_done();
}
