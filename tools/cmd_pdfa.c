/* probkit pdfa — learn, score, sample and export probabilistic automata. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "probkit/io.h"
#include "probkit/pdfa.h"

static const char *HELP =
    "usage: probkit pdfa learn TRAIN [options]\n"
    "       probkit pdfa score (--model M.json | --target MODEL.txt) TEST [--solution SOL] [--json]\n"
    "       probkit pdfa sample --model M.json [--n N] [--max-len L] [--seed N]\n"
    "       probkit pdfa random --states N --symbols K --out M.json [--seed N]\n\n"
    "Probabilistic deterministic automata (PDFA).  TRAIN/TEST are PAutomaC string\n"
    "files (header 'N K', then lines 'len s1 .. slen'); MODEL.txt is a PAutomaC\n"
    "target machine; M.json is probkit's PDFA format (written by learn --out).\n\n"
    "learn options:\n"
    "  --method M      alergia (batch, default), stream (streaming Alergia) or\n"
    "                  sketch (streaming, count-min sketches of futures)\n"
    "  --alpha A       Hoeffding test confidence in (0,1) (default 0.05 alergia and stream,\n"
    "                  0.2 sketch)\n"
    "  --t0 N          minimum visits before a state is promoted/tested (default 10 alergia,\n"
    "                  50 stream, 30 sketch)\n"
    "  --batch N       streaming batch size (default 500)\n"
    "  --horizons H    futures up to length H: sketched (sketch, default 5) or kept\n"
    "                  as a prefix tree H-1 levels below blue states (stream, default 4)\n"
    "  --smoothing S   add-S smoothing towards the background unigram (default 1)\n"
    "  --out FILE      write the learned PDFA as JSON\n"
    "  --dot FILE      write it as Graphviz dot\n"
    "  --json          print statistics as JSON\n"
    "score: prints bits per symbol and per-string perplexity of TEST; with\n"
    "  --solution (PAutomaC target probabilities) also the PAutomaC perplexity score.\n"
    "sample: prints N strings (default 10) in PAutomaC format; --seed (default 42).\n"
    "random: a random PDFA with N states and K symbols (K >= 2).\n\n"
    "exit status: 0 ok, 1 bad input or failure, 2 usage error.\n";

static const char *CMD = "pdfa";

static int learn(int argc, char **argv)
{
    const char *train = NULL, *out = NULL, *dot = NULL;
    int json = 0;
    double alpha = NAN, smoothing = 1;
    long t0 = -1, batch = 500, horizons = -1;
    int m = 0;
    const pk_cli_opt opts[] = {
        {"--method", PK_CLI_CHOICE, &m, 0, 0, "alergia|stream|sketch"},
        {"--alpha", PK_CLI_DOUBLE, &alpha, 1e-300, 1 - 1e-16, "a number in (0, 1)"},
        {"--t0", PK_CLI_LONG, &t0, 1, 1000000000, NULL},
        {"--batch", PK_CLI_LONG, &batch, 1, 100000000, NULL},
        {"--horizons", PK_CLI_LONG, &horizons, 1, 8, NULL},
        {"--smoothing", PK_CLI_DOUBLE, &smoothing, 0, 1e300, NULL},
        {"--out", PK_CLI_STR, &out, 0, 0, NULL},
        {"--dot", PK_CLI_STR, &dot, 0, 0, NULL},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(CMD, HELP, argc - 1, argv + 1, opts, &train, 1, NULL);
    if (prc >= 0)
        return prc;
    static const char *const methods[] = {"alergia", "stream", "sketch"};
    const char *method = methods[m];
    if (!train)
        return pk_cli_usage(CMD, "learn needs a TRAIN file");
    pk_err err;
    pk_err_clear(&err);
    pk_seqs *s = NULL;
    pk_pdfa *model = NULL;
    pk_pdfa_learn_stats st;
    size_t n = 0;
    double bits = NAN, t = pk_time_now();
    int rc;
    if (m == 0) {
        if ((rc = pk_pautomac_read(train, &s, &err)))
            return pk_cli_fail_status(CMD, rc, &err);
        pk_alergia_params p = pk_alergia_params_default();
        if (!isnan(alpha))
            p.alpha = alpha;
        if (t0 > 0)
            p.t0 = t0;
        p.smoothing = smoothing;
        rc = pk_alergia_learn(s, &p, &model, &st, &err);
        n = s->n;
        if (!rc)
            bits = pk_pdfa_bits_per_symbol(model, s, NULL);
        pk_seqs_free(s);
    } else {
        /* the streaming learners read the file one line at a time */
        pk_stream_params p = pk_stream_params_default_test(m == 1 ? PK_STREAM_ALERGIA : PK_STREAM_SKETCH);
        if (!isnan(alpha))
            p.alpha = alpha;
        if (t0 > 0)
            p.t0 = t0;
        p.batch = (size_t)batch;
        if (horizons > 0)
            p.horizons = (int)horizons;
        p.smoothing = smoothing;
        pk_pautomac_reader *rd = NULL;
        pk_pdfa_stream *ls = NULL;
        int32_t nsym = 0;
        rc = pk_pautomac_reader_open(train, &rd, NULL, &nsym, &err);
        if (!rc)
            rc = pk_pdfa_stream_new(nsym, &p, &ls, &err);
        while (!rc) {
            const int32_t *x;
            size_t len;
            int g = pk_pautomac_reader_next(rd, &x, &len, &err);
            if (g <= 0) {
                rc = g;
                break;
            }
            rc = pk_pdfa_stream_add(ls, x, len, &err);
            n++;
        }
        if (!rc)
            rc = pk_pdfa_stream_model(ls, &model, &st, &err);
        pk_pdfa_stream_free(ls);
        pk_pautomac_reader_close(rd);
    }
    double secs = pk_time_now() - t;
    if (rc) {
        pk_pdfa_free(model);
        return pk_cli_fail_status(CMD, rc, &err);
    }
    if (out && (rc = pk_pdfa_save(model, out, &err))) {
        pk_pdfa_free(model);
        return pk_cli_fail_status(CMD, rc, &err);
    }
    if (dot) {
        char *d = NULL;
        rc = pk_pdfa_to_dot(model, 0, &d);
        if (!rc)
            rc = pk_file_write_atomic(dot, d, strlen(d), &err);
        free(d);
        if (rc) {
            pk_pdfa_free(model);
            return pk_cli_fail_status(CMD, rc, &err);
        }
    }
    char bbuf[64];
    if (isnan(bits))
        snprintf(bbuf, sizeof bbuf, json ? "null" : "n/a (stream not stored)");
    else
        snprintf(bbuf, sizeof bbuf, "%.17g", bits);
    if (json)
        printf("{\"method\": \"%s\", \"strings\": %zu, \"states\": %d, \"merges\": %lld, \"undone\": %lld, "
               "\"peak_bytes\": %lld, \"seconds\": %.6g, \"train_bits_per_symbol\": %s}\n",
               method, n, st.states, (long long)st.merges, (long long)st.undone, (long long)st.peak_bytes, secs,
               bbuf);
    else
        printf("method %s: %zu strings -> %d states (%lld merges, %lld undone), %.3f s, peak %.0f KiB, "
               "train bits/symbol %s\n",
               method, n, st.states, (long long)st.merges, (long long)st.undone, secs, st.peak_bytes / 1024.0, bbuf);
    pk_pdfa_free(model);
    return PK_EXIT_OK;
}

static int score(int argc, char **argv)
{
    const char *model = NULL, *target = NULL, *test = NULL, *sol = NULL;
    int json = 0;
    const pk_cli_opt opts[] = {
        {"--model", PK_CLI_STR, &model, 0, 0, NULL},
        {"--target", PK_CLI_STR, &target, 0, 0, NULL},
        {"--solution", PK_CLI_STR, &sol, 0, 0, NULL},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(CMD, HELP, argc - 1, argv + 1, opts, &test, 1, NULL);
    if (prc >= 0)
        return prc;
    if (!test || (!model == !target))
        return pk_cli_usage(CMD, "score needs a TEST file and exactly one of --model / --target");
    pk_err err;
    pk_err_clear(&err);
    pk_seqs *s = NULL;
    pk_pdfa *m = NULL;
    pk_pfa *tg = NULL;
    double *lp = NULL, *pt = NULL;
    size_t npt = 0;
    int rc = pk_pautomac_read(test, &s, &err);
    if (!rc)
        rc = model ? pk_pdfa_load(model, &m, &err) : pk_pfa_read_pautomac(target, &tg, &err);
    if (!rc && sol)
        rc = pk_pautomac_read_solution(sol, &pt, &npt, &err);
    if (!rc && sol && npt != s->n)
        rc = pk_err_set(&err, PK_EFORMAT, "%s: %zu probabilities for %zu test strings", sol, npt, s->n);
    if (!rc && !(lp = malloc(s->n * sizeof *lp)))
        rc = pk_err_set(&err, PK_ENOMEM, "out of memory");
    if (rc) {
        pk_seqs_free(s);
        pk_pdfa_free(m);
        pk_pfa_free(tg);
        free(pt);
        return pk_cli_fail_status(CMD, rc, &err);
    }
    double nll = 0, nsym = 0;
    for (size_t i = 0; i < s->n; i++) {
        lp[i] = m ? pk_pdfa_log_prob(m, pk_seqs_at(s, i), pk_seqs_len(s, i))
                  : pk_pfa_log_prob(tg, pk_seqs_at(s, i), pk_seqs_len(s, i));
        nll -= lp[i];
        nsym += (double)pk_seqs_len(s, i) + 1;
    }
    double bits = nll / log(2.0) / nsym, pps = exp2(nll / log(2.0) / (double)s->n);
    double pp = sol ? pk_pautomac_perplexity_log(pt, lp, s->n) : NAN;
    if (json) {
        printf("{\"strings\": %zu, \"bits_per_symbol\": %.17g, \"string_perplexity\": %.17g", s->n, bits, pps);
        if (sol)
            printf(", \"pautomac_perplexity\": %.17g", pp);
        printf("}\n");
    } else {
        printf("%zu strings: %.6f bits/symbol (END counted), per-string perplexity %.6g\n", s->n, bits, pps);
        if (sol)
            printf("PAutomaC perplexity: %.6f\n", pp);
    }
    pk_seqs_free(s);
    pk_pdfa_free(m);
    pk_pfa_free(tg);
    free(pt);
    free(lp);
    return PK_EXIT_OK;
}

static int sample_or_random(int argc, char **argv, int random)
{
    const char *model = NULL, *out = NULL;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    long n = 10, maxlen = 1000, states = 0, symbols = 0;
    const pk_cli_opt opts[] = {
        {"--model", PK_CLI_STR, &model, 0, 0, NULL},
        {"--out", PK_CLI_STR, &out, 0, 0, NULL},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {"--n", PK_CLI_LONG, &n, 1, 100000000, NULL},
        {"--max-len", PK_CLI_LONG, &maxlen, 1, 100000000, NULL},
        {"--states", PK_CLI_LONG, &states, 1, 100000, NULL},
        {"--symbols", PK_CLI_LONG, &symbols, 2, 100000, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(CMD, HELP, argc - 1, argv + 1, opts, NULL, 0, NULL);
    if (prc >= 0)
        return prc;
    pk_err err;
    pk_err_clear(&err);
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    if (random) {
        if (!states || !symbols || !out)
            return pk_cli_usage(CMD, "random needs --states, --symbols and --out");
        pk_pdfa *m = NULL;
        int rc = pk_pdfa_random((int32_t)states, (int32_t)symbols, &rng, &m);
        if (!rc)
            rc = pk_pdfa_save(m, out, &err);
        pk_pdfa_free(m);
        if (rc)
            return pk_cli_fail_status(CMD, rc, &err);
        fprintf(stderr, "probkit pdfa: seed %llu\n", (unsigned long long)seed);
        return PK_EXIT_OK;
    }
    if (!model)
        return pk_cli_usage(CMD, "sample needs --model");
    pk_pdfa *m = NULL;
    int rc = pk_pdfa_load(model, &m, &err);
    if (rc)
        return pk_cli_fail_status(CMD, rc, &err);
    int32_t *buf = malloc((size_t)maxlen * sizeof *buf);
    if (!buf) {
        pk_pdfa_free(m);
        return pk_cli_fail(CMD, "out of memory");
    }
    fprintf(stderr, "probkit pdfa: seed %llu\n", (unsigned long long)seed);
    printf("%ld %d\n", n, pk_pdfa_nsym(m));
    for (long i = 0; i < n; i++) {
        size_t len;
        int tr;
        pk_pdfa_sample(m, &rng, buf, (size_t)maxlen, &len, &tr);
        printf("%zu", len);
        for (size_t j = 0; j < len; j++)
            printf(" %d", buf[j]);
        printf("\n");
    }
    free(buf);
    pk_pdfa_free(m);
    return PK_EXIT_OK;
}

static int cmd_main(int argc, char **argv)
{
    int rc;
    if (pk_cli_subcommand_help(argc, argv, HELP, &rc))
        return rc;
    if (!strcmp(argv[1], "learn"))
        return learn(argc, argv);
    if (!strcmp(argv[1], "score"))
        return score(argc, argv);
    if (!strcmp(argv[1], "sample"))
        return sample_or_random(argc, argv, 0);
    if (!strcmp(argv[1], "random"))
        return sample_or_random(argc, argv, 1);
    return pk_cli_usage(CMD, "unknown subcommand '%s' (learn, score, sample, random)", argv[1]);
}

const pk_cli_cmd pk_cmd_pdfa = {"pdfa", "learn/score/sample probabilistic automata (Alergia, streaming)", cmd_main};
