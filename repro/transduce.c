/* Reproduction of "Transducing Language Models": n-gram source models seen
 * through the paper's three transducers (BPE tokens -> bytes, bytes ->
 * lower-cased word characters, DNA codons -> amino acids).  Reports bits per
 * target symbol of the transduced model beside the canonical/direct model,
 * the Jensen-Shannon divergence of the beam approximation to the exact
 * next-symbol distribution, normalisation, and symbols per second. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "probkit/fst.h"
#include "probkit/io.h"
#include "probkit/ngram.h"
#include "repro.h"

#define DNA_DEFAULT "/usr/lib/R/site-library/Biostrings/extdata/dm3_upstream2000.fa.gz"

typedef struct lines {
    char **v;
    size_t n, cap;
} lines;

static void lines_free(lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int lines_add(lines *l, const char *s, size_t len)
{
    if (l->n == l->cap) {
        size_t c = l->cap ? l->cap * 2 : 256;
        char **v = realloc(l->v, c * sizeof *v);
        if (!v)
            return PK_ENOMEM;
        l->v = v;
        l->cap = c;
    }
    char *d = malloc(len + 1);
    if (!d)
        return PK_ENOMEM;
    memcpy(d, s, len);
    d[len] = 0;
    l->v[l->n++] = d;
    return PK_OK;
}

/* KJV verses of Genesis (and Exodus in full mode) from the bible-kjv package's
 * `bible` program, or from the text file $PK_KJV_TEXT (one verse a line). */
static int kjv_lines(int full, lines *out)
{
    const char *env = getenv("PK_KJV_TEXT");
    FILE *f = NULL;
    int piped = 0;
    if (env && *env) {
        f = fopen(env, "r");
    } else {
        struct stat st;
        if (stat("/usr/bin/bible", &st) != 0)
            return PK_EIO;
        f = popen(full ? "/usr/bin/bible -f Ge1:1-50:26 Exo1:1-40:38 2>/dev/null"
                       : "/usr/bin/bible -f Ge1:1-50:26 2>/dev/null",
                  "r");
        piped = 1;
    }
    if (!f)
        return PK_EIO;
    char buf[4096];
    int rc = PK_OK;
    while (!rc && fgets(buf, sizeof buf, f)) {
        size_t L = strlen(buf);
        while (L && (buf[L - 1] == '\n' || buf[L - 1] == '\r'))
            buf[--L] = 0;
        const char *s = buf;
        /* drop the "Ge1:1 " reference */
        const char *sp = strchr(buf, ' ');
        if (sp && sp - buf < 12 && strchr(buf, ':') && strchr(buf, ':') < sp)
            s = sp + 1;
        if (*s)
            rc = lines_add(out, s, strlen(s));
    }
    if (piped)
        pclose(f);
    else
        fclose(f);
    return out->n ? rc : PK_EIO;
}

static double jsd(const double *p, const double *q, size_t n)
{
    double j = 0;
    for (size_t i = 0; i < n; i++) {
        double m = 0.5 * (p[i] + q[i]);
        if (p[i] > 0)
            j += 0.5 * p[i] * log(p[i] / m);
        if (q[i] > 0)
            j += 0.5 * q[i] * log(q[i] / m);
    }
    return j / log(2.0);
}

/* Exact vs beam next-symbol distributions along targets: for each beam
 * threshold the worst and mean JSD over every target position, symbols per
 * second of each pass (exact once, then every threshold over all positions,
 * so that the timings do not interleave), and the worst normalisation error. */
/* Process CPU seconds: the machine is shared, so wall time would count other
 * jobs' load into symbols per second. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define NTH 5
static const double TH[NTH] = {1e-2, 1e-3, 1e-4, 1e-5, 1e-6};
enum { TH_GOAL = 2 }; /* the goal: JSD < 1e-6 at threshold 1e-4 */

typedef struct nextstats {
    double max_jsd[NTH], mean_jsd[NTH], sps_beam[NTH], max_norm, sps_exact;
    double exp_beam[NTH], exp_exact; /* hypotheses expanded (source-LM distributions used) per position */
    size_t positions;
} nextstats;

static int next_eval(pk_tlm *t, int32_t nt, int32_t **ys, const size_t *ny, size_t nlines, size_t maxpos,
                     nextstats *ns)
{
    size_t np = 0, w = (size_t)nt + 1;
    for (size_t l = 0; l < nlines; l++)
        np += (ny[l] < maxpos ? ny[l] : maxpos) + 1;
    double *pe = malloc(np * w * sizeof *pe), *pb = malloc(w * sizeof *pb);
    if (!pe || !pb) {
        free(pe);
        free(pb);
        return PK_ENOMEM;
    }
    memset(ns, 0, sizeof *ns);
    int rc = PK_OK;
    double t0 = cpu_now();
    size_t k = 0;
    for (size_t l = 0; l < nlines && !rc; l++)
        for (size_t i = 0; i <= ny[l] && i <= maxpos && !rc; i++, k++) {
            double lz, lpre;
            pk_tlm_stats st;
            rc = pk_tlm_next_dist(t, ys[l], i, 0, pe + k * w, &lz, &st);
            ns->exp_exact += (double)st.expanded;
            /* the next-symbol masses (with EOS) must add up to the prefix
             * probability computed independently from the precover decomposition */
            if (!rc)
                rc = pk_tlm_prefix_logprob(t, ys[l], i, &lpre, NULL);
            if (!rc)
                ns->max_norm = fmax(ns->max_norm, fabs(expm1(lz - lpre)));
        }
    double te = cpu_now() - t0;
    for (int th = 0; th < NTH && !rc; th++) {
        double tb = 0;
        k = 0;
        for (size_t l = 0; l < nlines && !rc; l++)
            for (size_t i = 0; i <= ny[l] && i <= maxpos && !rc; i++, k++) {
                double t1 = cpu_now();
                pk_tlm_stats st;
                rc = pk_tlm_next_dist(t, ys[l], i, TH[th], pb, NULL, &st);
                tb += cpu_now() - t1;
                ns->exp_beam[th] += (double)st.expanded;
                if (rc)
                    break;
                double j = jsd(pe + k * w, pb, w);
                ns->max_jsd[th] = fmax(ns->max_jsd[th], j);
                ns->mean_jsd[th] += j;
            }
        ns->mean_jsd[th] /= k ? (double)k : 1.0;
        ns->exp_beam[th] /= k ? (double)k : 1.0;
        ns->sps_beam[th] = (double)k / tb;
    }
    ns->positions = np;
    ns->exp_exact /= np ? (double)np : 1.0;
    /* the exact pass also computed the prefix probability: time the next-symbol part only */
    double t2 = cpu_now();
    k = 0;
    for (size_t l = 0; l < nlines && !rc; l++)
        for (size_t i = 0; i <= ny[l] && i <= maxpos && !rc; i++, k++)
            rc = pk_tlm_next_dist(t, ys[l], i, 0, pb, NULL, NULL);
    te = fmin(te, cpu_now() - t2);
    ns->sps_exact = (double)np / te;
    free(pe);
    free(pb);
    return rc;
}

static void next_rows(pk_repro_ctx *ctx, const char *what, const char *plot_name, const nextstats *ns)
{
    char metric[160], scale[300];
    for (int th = 0; th < NTH; th++) {
        snprintf(scale, sizeof scale,
                 "%zu target positions; mean JSD %.3g bits; beam %.0f symbols/s (exact %.0f), CPU time; "
                 "hypotheses expanded per position %.0f (exact %.0f)",
                 ns->positions, ns->mean_jsd[th], ns->sps_beam[th], ns->sps_exact, ns->exp_beam[th], ns->exp_exact);
        snprintf(metric, sizeof metric, "%s: max JSD(exact, beam %g) [bits]", what, TH[th]);
        pk_repro_row(ctx, metric, ns->max_jsd[th], th == TH_GOAL ? 1e-6 : NAN, NAN, NULL, scale,
                     th == TH_GOAL ? pk_verdict_le(ns->max_jsd[th], 1e-6) : PK_VERDICT_INFO);
    }
    snprintf(scale, sizeof scale, "%zu target positions", ns->positions);
    snprintf(metric, sizeof metric, "%s: max |sum of next-symbol masses / P(prefix) - 1|", what);
    pk_repro_row(ctx, metric, ns->max_norm, NAN, NAN, NULL, scale, pk_verdict_le(ns->max_norm, 1e-10));
    pk_plot *pl = pk_plot_new("Beam approximation vs exact", "mass threshold", "JSD (bits)");
    if (pl) {
        double x[NTH], ymax[NTH], ymean[NTH];
        for (int th = 0; th < NTH; th++) {
            x[th] = TH[th];
            ymax[th] = fmax(ns->max_jsd[th], 1e-18);
            ymean[th] = fmax(ns->mean_jsd[th], 1e-18);
        }
        pk_plot_set_log(pl, 1, 1);
        pk_plot_line(pl, "worst position", x, ymax, NTH);
        pk_plot_line(pl, "mean over positions", x, ymean, NTH);
        pk_repro_plot(ctx, plot_name, pl);
        pk_plot_free(pl);
    }
}

/* ---- BPE tokens -> bytes, bytes -> lower-cased text ------------------------ */

static int english(pk_repro_ctx *ctx, int quick)
{
    lines L = {0};
    if (kjv_lines(!quick, &L)) {
        pk_repro_row(ctx, "BPE -> bytes on KJV text", NAN, NAN, NAN, NULL,
                     "bible-kjv not installed (apt-get install bible-kjv) and $PK_KJV_TEXT unset", PK_VERDICT_SKIP);
        lines_free(&L);
        return PK_OK;
    }
    size_t ntest = quick ? 12 : 60, ntrain = L.n - (quick ? 40 : 200);
    int merges = quick ? 300 : 1000;
    /* training text: every training verse, newline-separated */
    size_t tot = 0;
    for (size_t i = 0; i < ntrain; i++)
        tot += strlen(L.v[i]) + 1;
    char *text = malloc(tot + 1);
    pk_bpe *bpe = NULL;
    pk_ngram *tok_lm = NULL, *byte_lm = NULL, *lc_lm = NULL;
    pk_fst *f = NULL, *lcf = NULL;
    pk_tlm *t = NULL, *tl = NULL;
    int32_t **ys = calloc(ntest, sizeof *ys);
    size_t *ny = calloc(ntest, sizeof *ny);
    const uint8_t **tb = NULL;
    size_t *tlen = NULL;
    pk_err err;
    int rc = PK_ENOMEM;
    if (!text || !ys || !ny)
        goto done;
    size_t o = 0;
    for (size_t i = 0; i < ntrain; i++) {
        size_t k = strlen(L.v[i]);
        memcpy(text + o, L.v[i], k);
        text[o + k] = '\n';
        o += k + 1;
    }
    double t0 = pk_time_now();
    if ((rc = pk_bpe_train((const uint8_t *)text, o, merges, &bpe, &err)))
        goto done;
    int32_t V = pk_bpe_size(bpe);
    if ((rc = pk_ngram_new(V, 3, &tok_lm, &err)) || (rc = pk_ngram_new(256, 5, &byte_lm, &err)) ||
        (rc = pk_ngram_new(256, 5, &lc_lm, &err)))
        goto done;
    for (size_t i = 0; i < ntrain; i++) {
        int32_t *toks;
        size_t n, k = strlen(L.v[i]);
        if ((rc = pk_bpe_encode(bpe, (const uint8_t *)L.v[i], k, &toks, &n)))
            goto done;
        rc = pk_ngram_add(tok_lm, toks, n, &err);
        free(toks);
        int32_t *b = malloc((k + 1) * sizeof *b), *lb = malloc((k + 1) * sizeof *lb);
        if (!rc && b && lb) {
            for (size_t j = 0; j < k; j++) {
                int c = (unsigned char)L.v[i][j];
                b[j] = c;
                lb[j] = c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
            }
            rc = pk_ngram_add(byte_lm, b, k, &err);
            if (!rc)
                rc = pk_ngram_add(lc_lm, lb, k, &err);
        } else if (!rc) {
            rc = PK_ENOMEM;
        }
        free(b);
        free(lb);
        if (rc)
            goto done;
    }
    if ((rc = pk_ngram_finish(tok_lm, &err)) || (rc = pk_ngram_finish(byte_lm, &err)) ||
        (rc = pk_ngram_finish(lc_lm, &err)))
        goto done;
    double train_secs = pk_time_now() - t0;
    tb = malloc((size_t)V * sizeof *tb);
    tlen = malloc((size_t)V * sizeof *tlen);
    if (!tb || !tlen)
        goto done;
    for (int32_t k = 0; k < V; k++)
        tb[k] = pk_bpe_token_bytes(bpe, k, &tlen[k]);
    if ((rc = pk_fst_tokens_to_bytes(V, tb, tlen, &f)) || (rc = pk_fst_lowercase_words(&lcf)))
        goto done;
    pk_seq_lm slm, blm;
    pk_ngram_seq_lm(tok_lm, &slm);
    pk_ngram_seq_lm(byte_lm, &blm);
    if ((rc = pk_tlm_new(&slm, f, 256, &t, &err)) || (rc = pk_tlm_new(&blm, lcf, 256, &tl, &err)))
        goto done;
    /* held-out verses: bits per byte, canonical tokenisation vs marginal */
    double bits_c = 0, bits_t = 0, nbytes = 0, tt = 0;
    for (size_t i = 0; i < ntest; i++) {
        const char *s = L.v[L.n - ntest + i];
        size_t k = strlen(s);
        ys[i] = malloc((k + 1) * sizeof *ys[i]);
        if (!ys[i])
            goto done;
        for (size_t j = 0; j < k; j++)
            ys[i][j] = (unsigned char)s[j];
        ny[i] = k;
        int32_t *toks;
        size_t n;
        if ((rc = pk_bpe_encode(bpe, (const uint8_t *)s, k, &toks, &n)))
            goto done;
        bits_c -= pk_ngram_log_prob(tok_lm, toks, n) / log(2.0);
        free(toks);
        double lt, t1 = pk_time_now();
        if ((rc = pk_tlm_string_logprob(t, ys[i], k, &lt, NULL)))
            goto done;
        tt += pk_time_now() - t1;
        bits_t -= lt / log(2.0);
        nbytes += (double)k + 1;
    }
    char scale[240];
    snprintf(scale, sizeof scale,
             "KJV %s, %zu training verses, BPE %d tokens, token 3-gram (mod. KN); %zu held-out verses, %.0f bytes "
             "(+EOS); train %.1f s, marginal %.0f bytes/s",
             quick ? "Genesis" : "Genesis+Exodus", ntrain, V, ntest, nbytes, train_secs, nbytes / tt);
    pk_repro_row(ctx, "BPE->bytes: bits/byte, canonical tokenisation", bits_c / nbytes, NAN, NAN, NULL, scale,
                 PK_VERDICT_INFO);
    pk_repro_row(ctx, "BPE->bytes: bits/byte, transduced (all tokenisations)", bits_t / nbytes, NAN, NAN, NULL, scale,
                 pk_verdict_le(bits_t, bits_c + 1e-9));
    nextstats ns;
    size_t nl = quick ? 2 : 10;
    if ((rc = next_eval(t, 256, ys, ny, nl, quick ? 30 : 80, &ns)))
        goto done;
    next_rows(ctx, "BPE->bytes", "transduce_jsd_bpe", &ns);

    /* bytes -> lower-cased text: byte 5-gram marginalised over letter case, beside a 5-gram trained directly on the mapped text */
    double bits_l = 0, bits_d = 0, nchar = 0;
    for (size_t i = 0; i < ntest; i++) {
        int32_t *y = malloc((ny[i] + 1) * sizeof *y);
        if (!y)
            goto done;
        for (size_t j = 0; j < ny[i]; j++) {
            int c = ys[i][j];
            y[j] = c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
        }
        double lt;
        rc = pk_tlm_string_logprob(tl, y, ny[i], &lt, NULL);
        bits_l -= lt / log(2.0);
        bits_d -= pk_ngram_log_prob(lc_lm, y, ny[i]) / log(2.0);
        nchar += (double)ny[i] + 1;
        free(ys[i]);
        ys[i] = y; /* reuse as lower-cased targets below */
        if (rc)
            goto done;
    }
    snprintf(scale, sizeof scale, "byte 5-gram through the lower-casing FST, %zu held-out verses, %.0f symbols", ntest,
             nchar);
    pk_repro_row(ctx, "bytes->lowercase: bits/char, transduced byte LM", bits_l / nchar, NAN, bits_d / nchar,
                 "5-gram trained on the mapped text", scale, PK_VERDICT_INFO);
    if ((rc = next_eval(tl, 256, ys, ny, quick ? 2 : 6, quick ? 30 : 60, &ns)))
        goto done;
    next_rows(ctx, "bytes->lowercase", "transduce_jsd_lower", &ns);
    rc = PK_OK;
done:
    if (rc)
        pk_repro_log(ctx, "english: %s (%s)", pk_strerror(rc), err.msg);
    for (size_t i = 0; ys && i < ntest; i++)
        free(ys[i]);
    free(ys);
    free(ny);
    free(tb);
    free(tlen);
    pk_tlm_free(t);
    pk_tlm_free(tl);
    pk_fst_free(f);
    pk_fst_free(lcf);
    pk_ngram_free(tok_lm);
    pk_ngram_free(byte_lm);
    pk_ngram_free(lc_lm);
    pk_bpe_free(bpe);
    free(text);
    lines_free(&L);
    return rc;
}

/* ---- DNA codons -> amino acids ---------------------------------------------- */

static int32_t nuc(int c)
{
    switch (c) {
    case 'a': case 'A': return 0;
    case 'c': case 'C': return 1;
    case 'g': case 'G': return 2;
    case 't': case 'T': return 3;
    default: return -1;
    }
}

static int dna(pk_repro_ctx *ctx, int quick)
{
    const char *path = getenv("PK_DNA_FASTA");
    if (!path || !*path)
        path = DNA_DEFAULT;
    uint8_t *buf = NULL;
    size_t len = 0;
    pk_err err;
    if (pk_file_read_all(path, (size_t)1 << 30, &buf, &len, &err)) {
        pk_repro_row(ctx, "DNA codons -> amino acids", NAN, NAN, NAN, NULL,
                     "dm3_upstream2000.fa.gz not found (apt-get install r-bioc-biostrings, or set PK_DNA_FASTA)",
                     PK_VERDICT_SKIP);
        return PK_OK;
    }
    const size_t CH = quick ? 45 : 90; /* nucleotides per chunk: 15 / 30 codons */
    size_t ntrain_seq = quick ? 400 : 4000, ntest = quick ? 10 : 40;
    pk_ngram *dlm = NULL, *alm = NULL;
    pk_fst *f = NULL;
    pk_tlm *t = NULL;
    int32_t **ys = calloc(ntest, sizeof *ys);
    size_t *ny = calloc(ntest, sizeof *ny), nseq = 0, nt = 0;
    int32_t *seq = malloc(4096 * sizeof *seq), aa[64];
    int rc = PK_ENOMEM;
    if (!ys || !ny || !seq)
        goto done;
    if ((rc = pk_ngram_new(4, 6, &dlm, &err)) || (rc = pk_ngram_new(21, 3, &alm, &err)) ||
        (rc = pk_fst_dna_codons(&f)))
        goto done;
    /* aa index of each codon through the FST itself (label - 1) */
    int32_t code[64];
    for (int c = 0; c < 64; c++) {
        int32_t x[3] = {c / 16 + 1, (c / 4) % 4 + 1, c % 4 + 1};
        code[c] = -1;
        for (int32_t l = 1; l <= 21; l++)
            if (pk_fst_pair_weight(f, x, 3, &l, 1, &err) == 0)
                code[c] = l - 1;
    }
    double bits_t = 0, bits_a = 0, naa = 0, tt = 0;
    const char *p = (const char *)buf, *end = p + len;
    while (p < end && nt < ntest) {
        /* one FASTA record: header line then sequence lines */
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (*p != '>') {
            p = nl ? nl + 1 : end;
            continue;
        }
        p = nl ? nl + 1 : end;
        size_t n = 0;
        int bad = 0;
        while (p < end && *p != '>') {
            const char *e = memchr(p, '\n', (size_t)(end - p));
            e = e ? e : end;
            for (const char *q = p; q < e && n < 4096; q++) {
                int32_t v = nuc(*q);
                if (v < 0 && *q != '\r')
                    bad = 1;
                else if (v >= 0)
                    seq[n++] = v;
            }
            p = e < end ? e + 1 : end;
        }
        if (bad || n < CH)
            continue;
        nseq++;
        size_t nchunks = n / CH;
        for (size_t c = 0; c < nchunks; c++) {
            const int32_t *x = seq + c * CH;
            size_t na = CH / 3;
            for (size_t i = 0; i < na; i++)
                aa[i] = code[16 * x[3 * i] + 4 * x[3 * i + 1] + x[3 * i + 2]];
            if (nseq <= ntrain_seq) {
                if ((rc = pk_ngram_add(dlm, x, CH, &err)) || (rc = pk_ngram_add(alm, aa, na, &err)))
                    goto done;
            } else if (c == 0) {
                if (!t) {
                    pk_seq_lm slm;
                    if ((rc = pk_ngram_finish(dlm, &err)) || (rc = pk_ngram_finish(alm, &err)))
                        goto done;
                    pk_ngram_seq_lm(dlm, &slm);
                    if ((rc = pk_tlm_new(&slm, f, 21, &t, &err)))
                        goto done;
                }
                ys[nt] = malloc(na * sizeof *ys[nt]);
                if (!ys[nt]) {
                    rc = PK_ENOMEM;
                    goto done;
                }
                memcpy(ys[nt], aa, na * sizeof *aa);
                ny[nt] = na;
                double lt, t1 = pk_time_now();
                if ((rc = pk_tlm_string_logprob(t, aa, na, &lt, NULL)))
                    goto done;
                tt += pk_time_now() - t1;
                bits_t -= lt / log(2.0);
                bits_a -= pk_ngram_log_prob(alm, aa, na) / log(2.0);
                naa += (double)na + 1;
                nt++;
            }
        }
    }
    if (!t || nt == 0) {
        pk_repro_row(ctx, "DNA codons -> amino acids", NAN, NAN, NAN, NULL, "too few usable sequences in the FASTA file",
                     PK_VERDICT_SKIP);
        rc = PK_OK;
        goto done;
    }
    char scale[240];
    snprintf(scale, sizeof scale,
             "dm3 upstream2000: %zu training sequences cut in %zu-nt chunks, DNA 6-gram; %zu held-out chunks "
             "(%zu codons each); marginal %.0f amino acids/s",
             ntrain_seq, CH, nt, CH / 3, naa / tt);
    pk_repro_row(ctx, "DNA->amino acids: bits/amino acid, transduced DNA LM", bits_t / naa, NAN, bits_a / naa,
                 "amino-acid 3-gram on translated training chunks", scale, PK_VERDICT_INFO);
    nextstats ns;
    if ((rc = next_eval(t, 21, ys, ny, quick ? 4 : 10, CH / 3, &ns)))
        goto done;
    next_rows(ctx, "DNA->amino acids", "transduce_jsd_dna", &ns);
    rc = PK_OK;
done:
    if (rc)
        pk_repro_log(ctx, "dna: %s", pk_strerror(rc));
    for (size_t i = 0; ys && i < ntest; i++)
        free(ys[i]);
    free(ys);
    free(ny);
    free(seq);
    pk_tlm_free(t);
    pk_fst_free(f);
    pk_ngram_free(dlm);
    pk_ngram_free(alm);
    free(buf);
    return rc;
}

static int run(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    int rc = english(ctx, quick);
    if (!rc)
        rc = dna(ctx, quick);
    pk_repro_note(ctx,
                  "Transduced LM = source n-gram (interpolated modified Kneser-Ney) composed with an FST; the exact "
                  "algorithm sums over the precover of the target prefix (quotient prefixes + remainder strings), "
                  "merging hypotheses that share target position, FST state and n-gram context.  The beam is the "
                  "paper's probability-mass pruning with the threshold spread over the query: at each of the n+1 "
                  "target positions the lightest hypotheses are dropped within threshold/(n+1) of that position's "
                  "mass.  The canonical tokenisation is one of the source strings mapping to a text, so the "
                  "transduced bits/byte can only be lower.  Symbols/s count next-symbol distributions, each "
                  "computed from scratch for its prefix (process CPU time; the n-gram distributions are cached, so "
                  "with a costly source LM the expansions per position are the figure to compare).");
    return rc;
}

const pk_repro pk_repro_transduce = {"transduce", PK_REPRO_PARTIAL,
                                     "n-gram LMs through BPE->bytes, lowercasing and codon FSTs: exact and beam",
                                     run};
