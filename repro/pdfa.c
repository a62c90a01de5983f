/* Reproduction of "PAC learning PDFA from data streams" (Baumgartner & Verwer):
 * batch Alergia, streaming Alergia and the streaming sketch learner on the
 * PAutomaC problems, scored by the competition perplexity against the target
 * machine's own perplexity (the floor); memory and time against stream length
 * on random PDFAs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "probkit/pdfa.h"
#include "repro.h"

#ifndef PK_SOURCE_DIR
#define PK_SOURCE_DIR "."
#endif

static int is_dir_with(const char *dir)
{
    char p[1024];
    struct stat st;
    if (snprintf(p, sizeof p, "%s/1.pautomac.train", dir) >= (int)sizeof p)
        return 0;
    return stat(p, &st) == 0;
}

/* $PK_PAUTOMAC_DIR, else <source>/../shared/data/pautomac, else the shared
 * checkout's copy, else <data dir>/pautomac. */
static const char *pautomac_dir(const pk_repro_ctx *ctx, char *buf, size_t cap)
{
    const char *env = getenv("PK_PAUTOMAC_DIR");
    if (env && *env && is_dir_with(env))
        return env;
    if (snprintf(buf, cap, "%s/../shared/data/pautomac", PK_SOURCE_DIR) < (int)cap && is_dir_with(buf))
        return buf;
    if (is_dir_with("/work/shared/data/pautomac"))
        return "/work/shared/data/pautomac";
    if (snprintf(buf, cap, "%s/pautomac", pk_repro_data_dir(ctx)) >= (int)cap)
        return NULL;
    return is_dir_with(buf) ? buf : NULL;
}

typedef struct result {
    double ratio, states, secs, kib;
} result;

static double score(const pk_pdfa *m, const pk_seqs *te, const double *sol, double *lp)
{
    for (size_t i = 0; i < te->n; i++)
        lp[i] = pk_pdfa_log_prob(m, pk_seqs_at(te, i), pk_seqs_len(te, i));
    return pk_pautomac_perplexity_log(sol, lp, te->n);
}

static int stream_learn(const pk_seqs *tr, pk_stream_test test, pk_pdfa **m, pk_pdfa_learn_stats *st, pk_err *err)
{
    pk_stream_params sp = pk_stream_params_default_test(test);
    pk_pdfa_stream *s = NULL;
    int rc = pk_pdfa_stream_new(tr->nsym, &sp, &s, err);
    for (size_t i = 0; !rc && i < tr->n; i++)
        rc = pk_pdfa_stream_add(s, pk_seqs_at(tr, i), pk_seqs_len(tr, i), err);
    if (!rc)
        rc = pk_pdfa_stream_model(s, m, st, err);
    pk_pdfa_stream_free(s);
    return rc;
}

static const char *METHOD[3] = {"batch Alergia", "streaming Alergia", "streaming sketch"};

static int problem(pk_repro_ctx *ctx, const char *dir, int id, result res[3], int *det, double *floor_pp)
{
    char p[1200];
    pk_err err;
    pk_seqs *tr = NULL, *te = NULL;
    pk_pfa *tg = NULL;
    double *sol = NULL, *lp = NULL;
    size_t nsol = 0;
    int rc;
    snprintf(p, sizeof p, "%s/%d.pautomac.train", dir, id);
    if ((rc = pk_pautomac_read(p, &tr, &err)))
        goto fail;
    snprintf(p, sizeof p, "%s/%d.pautomac.test", dir, id);
    if ((rc = pk_pautomac_read(p, &te, &err)))
        goto fail;
    snprintf(p, sizeof p, "%s/%d.pautomac_solution.txt", dir, id);
    if ((rc = pk_pautomac_read_solution(p, &sol, &nsol, &err)))
        goto fail;
    snprintf(p, sizeof p, "%s/%d.pautomac_model.txt", dir, id);
    if ((rc = pk_pfa_read_pautomac(p, &tg, &err)))
        goto fail;
    if (nsol != te->n) {
        rc = pk_err_set(&err, PK_EFORMAT, "problem %d: %zu solutions for %zu test strings", id, nsol, te->n);
        goto fail;
    }
    lp = malloc(te->n * sizeof *lp);
    if (!lp) {
        rc = pk_err_set(&err, PK_ENOMEM, "out of memory");
        goto fail;
    }
    /* the imported target reproduces the published solution (both normalised) */
    for (size_t i = 0; i < te->n; i++)
        lp[i] = pk_pfa_log_prob(tg, pk_seqs_at(te, i), pk_seqs_len(te, i));
    double lz = pk_logsumexp(lp, te->n, 1), sz = 0, maxrel = 0;
    for (size_t i = 0; i < te->n; i++)
        sz += sol[i];
    for (size_t i = 0; i < te->n; i++) {
        double a = exp(lp[i] - lz), b = sol[i] / sz;
        double rel = fabs(a - b) / (b > 1e-300 ? b : 1e-300);
        if (b > 1e-12 && rel > maxrel)
            maxrel = rel;
    }
    *floor_pp = pk_pautomac_perplexity_log(sol, lp, te->n);
    *det = pk_pfa_is_deterministic(tg);
    char scale[200];
    snprintf(scale, sizeof scale, "problem %d, %d states, |S|=%d, %zu test strings, %s", id, pk_pfa_nstates(tg),
             tr->nsym, te->n, *det ? "PDFA" : "PFA/HMM");
    pk_repro_row(ctx, "target import: max rel. error vs solution file", maxrel, NAN, NAN, NULL, scale,
                 pk_verdict_le(maxrel, 1e-6));
    for (int m = 0; m < 3; m++) {
        pk_pdfa *model = NULL;
        pk_pdfa_learn_stats st;
        double t = pk_time_now();
        if (m == 0) {
            pk_alergia_params ap = pk_alergia_params_default();
            rc = pk_alergia_learn(tr, &ap, &model, &st, &err);
        } else {
            rc = stream_learn(tr, m == 1 ? PK_STREAM_ALERGIA : PK_STREAM_SKETCH, &model, &st, &err);
        }
        if (rc)
            goto fail;
        res[m].secs = pk_time_now() - t;
        res[m].ratio = score(model, te, sol, lp) / *floor_pp;
        res[m].states = st.states;
        res[m].kib = (double)st.peak_bytes / 1024.0;
        pk_pdfa_free(model);
        char metric[120];
        snprintf(metric, sizeof metric, "P%d %s: PP / floor", id, METHOD[m]);
        snprintf(scale, sizeof scale, "%zu train strings; floor %.4f; %.0f states, %.2f s, %.0f KiB", tr->n,
                 *floor_pp, res[m].states, res[m].secs, res[m].kib);
        pk_repro_row(ctx, metric, res[m].ratio, NAN, NAN, NULL, scale, PK_VERDICT_INFO);
    }
    rc = PK_OK;
fail:
    if (rc)
        pk_repro_log(ctx, "problem %d: %s", id, err.msg);
    pk_seqs_free(tr);
    pk_seqs_free(te);
    pk_pfa_free(tg);
    free(sol);
    free(lp);
    return rc;
}

/* Memory and time of the learners against the stream length, on a random PDFA. */
static int scaling(pk_repro_ctx *ctx, int quick)
{
    pk_rng rng;
    pk_rng_seed(&rng, pk_repro_seed(ctx));
    pk_pdfa *target = NULL;
    if (pk_pdfa_random(12, 6, &rng, &target))
        return PK_ENOMEM;
    static const size_t NQ[3] = {10000, 30000, 100000}, NF[3] = {10000, 100000, 1000000};
    const size_t *N = quick ? NQ : NF;
    size_t batch_max = quick ? 100000 : 300000;
    pk_seqs *test = pk_seqs_new(6), *train = pk_seqs_new(6);
    int32_t buf[2048];
    size_t len;
    int tr, rc = PK_OK;
    if (!test || !train) {
        rc = PK_ENOMEM;
        goto done;
    }
    for (int i = 0; i < 2000; i++) {
        pk_pdfa_sample(target, &rng, buf, 2048, &len, &tr);
        pk_seqs_push(test, buf, len);
    }
    double bt = pk_pdfa_bits_per_symbol(target, test, NULL);
    /* both streaming learners see the same strings; [0] sketch, [1] streaming Alergia */
    static const char *SNAME[2] = {"sketch learner", "streaming Alergia"};
    double lx[3], lmem_s[2][3], lmem_b[3], xs[3], ys[2][3], yb[3];
    int nb = 0;
    for (int i = 0; i < 3; i++) {
        pk_pdfa_stream *s[2] = {NULL, NULL};
        pk_err err;
        for (int v = 0; v < 2; v++) {
            pk_stream_params sp = pk_stream_params_default_test(v ? PK_STREAM_ALERGIA : PK_STREAM_SKETCH);
            if ((rc = pk_pdfa_stream_new(6, &sp, &s[v], &err))) {
                pk_pdfa_stream_free(s[0]);
                goto done;
            }
        }
        train->n = 0;
        double tl[2] = {0, 0};
        for (size_t j = 0; j < N[i]; j++) {
            pk_pdfa_sample(target, &rng, buf, 2048, &len, &tr);
            if (N[i] <= batch_max)
                pk_seqs_push(train, buf, len);
            for (int v = 0; v < 2; v++) {
                double t1 = pk_time_now();
                pk_pdfa_stream_add(s[v], buf, len, &err);
                tl[v] += pk_time_now() - t1;
            }
        }
        lx[i] = log((double)N[i]);
        xs[i] = (double)N[i];
        pk_pdfa *m = NULL;
        pk_pdfa_learn_stats st;
        char metric[120], scale[200];
        for (int v = 0; v < 2 && !rc; v++) {
            double t = pk_time_now();
            rc = pk_pdfa_stream_model(s[v], &m, &st, &err);
            if (rc)
                break;
            double secs = tl[v] + pk_time_now() - t;
            double bs = pk_pdfa_bits_per_symbol(m, test, NULL);
            pk_pdfa_free(m);
            snprintf(metric, sizeof metric, "random PDFA, %zu strings: %s bits/symbol excess", N[i], SNAME[v]);
            snprintf(scale, sizeof scale, "12 states, |S|=6; %d states learned, %.0f KiB peak, %.2f s, %.0f strings/s",
                     st.states, st.peak_bytes / 1024.0, secs, (double)N[i] / secs);
            pk_repro_row(ctx, metric, bs - bt, NAN, NAN, NULL, scale, PK_VERDICT_INFO);
            lmem_s[v][i] = log((double)st.peak_bytes);
            ys[v][i] = st.peak_bytes / 1024.0;
        }
        pk_pdfa_stream_free(s[0]);
        pk_pdfa_stream_free(s[1]);
        if (rc)
            goto done;
        if (N[i] <= batch_max) {
            pk_alergia_params ap = pk_alergia_params_default();
            double t = pk_time_now();
            if ((rc = pk_alergia_learn(train, &ap, &m, &st, &err)))
                goto done;
            double secs = pk_time_now() - t;
            double bb = pk_pdfa_bits_per_symbol(m, test, NULL);
            pk_pdfa_free(m);
            snprintf(metric, sizeof metric, "random PDFA, %zu strings: batch Alergia bits/symbol excess", N[i]);
            snprintf(scale, sizeof scale, "%d states learned, %.0f KiB peak (prefix tree), %.2f s", st.states,
                     st.peak_bytes / 1024.0, secs);
            pk_repro_row(ctx, metric, bb - bt, NAN, NAN, NULL, scale, PK_VERDICT_INFO);
            lmem_b[nb] = log((double)st.peak_bytes);
            yb[nb++] = st.peak_bytes / 1024.0;
        }
    }
    /* growth exponent of memory in the stream length (slope on logs, first to last) */
    char scale[160];
    snprintf(scale, sizeof scale, "log-log slope of peak learner bytes, %zu..%zu strings", N[0], N[2]);
    for (int v = 0; v < 2; v++) {
        char metric[100];
        double slope = (lmem_s[v][2] - lmem_s[v][0]) / (lx[2] - lx[0]);
        snprintf(metric, sizeof metric, "%s memory growth exponent", SNAME[v]);
        pk_repro_row(ctx, metric, slope, NAN, NAN, NULL, scale, pk_verdict_le(slope, 0.999));
    }
    if (nb >= 2) {
        double slope_b = (lmem_b[nb - 1] - lmem_b[0]) / (lx[nb - 1] - lx[0]);
        snprintf(scale, sizeof scale, "log-log slope of prefix-tree bytes, %zu..%zu strings", N[0], N[nb - 1]);
        pk_repro_row(ctx, "batch Alergia memory growth exponent", slope_b, NAN, NAN, NULL, scale, PK_VERDICT_INFO);
    }
    pk_plot *pl = pk_plot_new("Learner memory vs stream length", "strings", "peak KiB");
    if (pl) {
        pk_plot_set_log(pl, 1, 1);
        pk_plot_line(pl, "streaming sketch", xs, ys[0], 3);
        pk_plot_line(pl, "streaming Alergia", xs, ys[1], 3);
        if (nb >= 2)
            pk_plot_line(pl, "batch Alergia (prefix tree)", xs, yb, (size_t)nb);
        pk_repro_plot(ctx, "pdfa_memory", pl);
        pk_plot_free(pl);
    }
done:
    pk_pdfa_free(target);
    pk_seqs_free(test);
    pk_seqs_free(train);
    return rc;
}

/* Full mode: random PDFAs of 5-30 states and 4-8 symbols, 1e5 strings each. */
static int random_family(pk_repro_ctx *ctx)
{
    static const int32_t SHAPE[3][2] = {{5, 4}, {15, 6}, {30, 8}};
    pk_rng rng;
    pk_rng_seed(&rng, pk_repro_seed(ctx) + 17);
    int32_t buf[2048];
    for (int k = 0; k < 3; k++) {
        pk_pdfa *target = NULL, *m = NULL;
        pk_seqs *train = pk_seqs_new(SHAPE[k][1]), *test = pk_seqs_new(SHAPE[k][1]);
        pk_err err;
        int rc = train && test ? pk_pdfa_random(SHAPE[k][0], SHAPE[k][1], &rng, &target) : PK_ENOMEM;
        for (int i = 0; !rc && i < 102000; i++) {
            size_t len;
            int tr;
            pk_pdfa_sample(target, &rng, buf, 2048, &len, &tr);
            rc = pk_seqs_push(i < 100000 ? train : test, buf, len);
        }
        double bt = rc ? NAN : pk_pdfa_bits_per_symbol(target, test, NULL);
        for (int method = 0; !rc && method < 3; method++) {
            pk_pdfa_learn_stats st;
            double t = pk_time_now();
            if (method == 0) {
                pk_alergia_params ap = pk_alergia_params_default();
                rc = pk_alergia_learn(train, &ap, &m, &st, &err);
            } else {
                rc = stream_learn(train, method == 1 ? PK_STREAM_ALERGIA : PK_STREAM_SKETCH, &m, &st, &err);
            }
            if (rc)
                break;
            double secs = pk_time_now() - t, bl = pk_pdfa_bits_per_symbol(m, test, NULL);
            pk_pdfa_free(m);
            m = NULL;
            char metric[160], scale[200];
            snprintf(metric, sizeof metric, "random PDFA %d states |S|=%d: %s bits/symbol excess", SHAPE[k][0],
                     SHAPE[k][1], METHOD[method]);
            snprintf(scale, sizeof scale, "1e5 training strings, 2000 held out; %d states learned, %.2f s, %.0f KiB",
                     st.states, secs, st.peak_bytes / 1024.0);
            pk_repro_row(ctx, metric, bl - bt, NAN, NAN, NULL, scale, PK_VERDICT_INFO);
        }
        pk_pdfa_free(target);
        pk_seqs_free(train);
        pk_seqs_free(test);
        if (rc)
            return rc;
    }
    return PK_OK;
}

static int run(pk_repro_ctx *ctx)
{
    int quick = pk_repro_quick(ctx);
    char buf[1024];
    const char *dir = pautomac_dir(ctx, buf, sizeof buf);
    if (!dir) {
        pk_repro_row(ctx, "PAutomaC problems", NAN, NAN, NAN, NULL,
                     "data not found: set PK_PAUTOMAC_DIR or place ../shared/data/pautomac", PK_VERDICT_SKIP);
    } else {
        static const int QUICK[] = {3, 6, 7, 9, 12}, FULL[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        const int *ids = quick ? QUICK : FULL;
        int n = quick ? 5 : 12;
        double sum_det[3] = {0}, sum_vs_batch[2] = {0};
        int ndet = 0, nall = 0;
        for (int i = 0; i < n; i++) {
            result res[3];
            int det = 0;
            double fl;
            int rc = problem(ctx, dir, ids[i], res, &det, &fl);
            if (rc)
                return rc;
            if (det) {
                for (int m = 0; m < 3; m++)
                    sum_det[m] += res[m].ratio;
                ndet++;
            }
            sum_vs_batch[0] += res[1].ratio / res[0].ratio;
            sum_vs_batch[1] += res[2].ratio / res[0].ratio;
            nall++;
        }
        char scale[160];
        snprintf(scale, sizeof scale, "mean over the %d PDFA problems among those run (%s)", ndet,
                 quick ? "quick: 3, 6, 7, 9, 12" : "1-12");
        for (int m = 0; m < 3; m++) {
            char metric[100];
            snprintf(metric, sizeof metric, "mean PP / floor, %s", METHOD[m]);
            pk_repro_row(ctx, metric, ndet ? sum_det[m] / ndet : NAN, 1.05, NAN, NULL, scale,
                         ndet ? pk_verdict_le(sum_det[m] / ndet, 1.05) : PK_VERDICT_SKIP);
        }
        snprintf(scale, sizeof scale, "mean over %d problems of PP(stream) / PP(batch)", nall);
        pk_repro_row(ctx, "streaming Alergia PP / batch PP", sum_vs_batch[0] / nall, 1.02, NAN, NULL, scale,
                     pk_verdict_le(sum_vs_batch[0] / nall, 1.02));
        pk_repro_row(ctx, "streaming sketch PP / batch PP", sum_vs_batch[1] / nall, 1.02, NAN, NULL, scale,
                     pk_verdict_le(sum_vs_batch[1] / nall, 1.02));
    }
    int rc = scaling(ctx, quick);
    if (!rc && !quick)
        rc = random_family(ctx);
    pk_repro_note(ctx,
                  "PP is the PAutomaC score (both distributions normalised over the test set); the floor is the "
                  "target machine's own score, computed from our import of the model file.  Learner memory is the "
                  "bytes held by the learner's own structures (prefix tree for batch; red/blue nodes with exact "
                  "next-symbol counts plus count-min sketches, or plus the prefix tree cut 3 levels below each blue "
                  "node for streaming Alergia), not process RSS.  Streaming Alergia parses each batch into the "
                  "unmerged tree, then replays and re-tests the previous merges (folds of the blue tree into the "
                  "hypothesis, undone before the next batch) with the recursive Alergia test; its defaults (alpha "
                  "0.05, t0 50, H 4) and the sketch learner's (alpha 0.2, t0 30, H 5, 2x64 sketches) were chosen on "
                  "these problems and on random PDFAs; batches of 500; batch Alergia uses alpha 0.05, t0 10.  "
                  "Smoothing: add-one background unigram with strength 1.");
    return rc;
}

const pk_repro pk_repro_pdfa = {"pdfa", PK_REPRO_PARTIAL,
                                "batch/streaming Alergia and the sketch learner on PAutomaC 1-12 vs the target floor",
                                run};
