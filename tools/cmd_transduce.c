/* probkit transduce — WFST operations (AT&T text) and n-gram language models
 * seen through a transducer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "probkit/fst.h"
#include "probkit/io.h"
#include "probkit/ngram.h"

static const char *HELP =
    "usage: probkit transduce compose A.att B.att [--out C.att]\n"
    "       probkit transduce rmepsilon A.att [--out B.att]\n"
    "       probkit transduce determinize A.att [--out B.att] [--max-states N]\n"
    "       probkit transduce distance A.att [--json]\n"
    "       probkit transduce lm TEXT --fst bpe|lower --target STRING [options]\n\n"
    "Weighted FSTs in the log semiring, in OpenFst's AT&T text format\n"
    "('src dst ilabel olabel [weight]' arcs, 'state [weight]' finals, numeric\n"
    "labels, 0 = epsilon, the first line's source is the start state).\n"
    "compose/rmepsilon/determinize write the result to --out (default stdout);\n"
    "distance prints -log of the total weight of all accepting paths.\n\n"
    "lm: trains an n-gram on the lines of TEXT (over BPE tokens for --fst bpe,\n"
    "bytes for --fst lower), composes it with the transducer (tokens -> bytes, or\n"
    "bytes -> lower-cased text) and prints log P(target prefix) and the most\n"
    "likely next bytes after STRING (EOS = end of string).\n"
    "  --order N        n-gram order (default 3)\n"
    "  --merges M       BPE merges (default 300)\n"
    "  --threshold T    beam: at each of the n+1 target positions drop the lightest\n"
    "                   hypotheses within T/(n+1) of its mass (default 0 = exact)\n"
    "  --top K          next symbols to print (default 10)\n"
    "  --json           machine-readable output\n\n"
    "exit status: 0 ok, 1 bad input or failure, 2 usage error.\n";

static const char *CMD = "transduce";

static int write_fst(const pk_fst *f, const char *out)
{
    char *txt = NULL;
    pk_err err;
    pk_err_clear(&err);
    int rc = pk_fst_to_att(f, &txt);
    if (rc)
        return pk_cli_fail_status(CMD, rc, NULL);
    if (out)
        rc = pk_file_write_atomic(out, txt, strlen(txt), &err);
    else
        fputs(txt, stdout);
    free(txt);
    return rc ? pk_cli_fail_status(CMD, rc, &err) : PK_EXIT_OK;
}

static int fst_ops(int argc, char **argv)
{
    const char *op = argv[1], *in[2] = {NULL, NULL}, *out = NULL;
    long maxst = 100000;
    int json = 0, nin = 0, want = !strcmp(op, "compose") ? 2 : 1;
    const pk_cli_opt opts[] = {
        {"--out", PK_CLI_STR, &out, 0, 0, NULL},
        {"--max-states", PK_CLI_LONG, &maxst, 1, 100000000, NULL},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(CMD, HELP, argc - 1, argv + 1, opts, in, 2, &nin);
    if (prc >= 0)
        return prc;
    if (nin != want)
        return pk_cli_usage(CMD, "%s needs %d FST file%s", op, want, want > 1 ? "s" : "");
    pk_err err;
    pk_err_clear(&err);
    pk_fst *a = NULL, *b = NULL, *r = NULL;
    int rc = pk_fst_read_att(in[0], &a, &err);
    if (!rc && want == 2)
        rc = pk_fst_read_att(in[1], &b, &err);
    if (!rc) {
        if (!strcmp(op, "compose"))
            rc = pk_fst_compose(a, b, &r, &err);
        else if (!strcmp(op, "rmepsilon"))
            rc = pk_fst_rm_epsilon(a, &r, &err);
        else if (!strcmp(op, "determinize"))
            rc = pk_fst_determinize(a, (int32_t)maxst, &r, &err);
    }
    int ex;
    if (rc) {
        ex = pk_cli_fail_status(CMD, rc, &err);
    } else if (!strcmp(op, "distance")) {
        double w = pk_fst_total_weight(a, &err);
        if (isnan(w))
            ex = pk_cli_fail_status(CMD, err.status ? err.status : PK_EDOM, &err);
        else {
            if (json)
                printf("{\"total_weight\": %.17g, \"states\": %d, \"arcs\": %zu}\n", w, pk_fst_num_states(a),
                       pk_fst_total_arcs(a));
            else
                printf("%.17g\n", w);
            ex = PK_EXIT_OK;
        }
    } else {
        ex = write_fst(r, out);
    }
    pk_fst_free(a);
    pk_fst_free(b);
    pk_fst_free(r);
    return ex;
}

typedef struct pair {
    double p;
    int32_t a;
} pair;

static int cmp_pair(const void *x, const void *y)
{
    const pair *a = x, *b = y;
    return (a->p < b->p) - (a->p > b->p);
}

static int lm_cmd(int argc, char **argv)
{
    const char *text = NULL, *target = NULL;
    long order = 3, merges = 300, top = 10;
    double threshold = 0;
    int json = 0;
    int kind_i = -1;
    const pk_cli_opt opts[] = {
        {"--fst", PK_CLI_CHOICE, &kind_i, 0, 0, "bpe|lower"},
        {"--target", PK_CLI_STR, &target, 0, 0, NULL},
        {"--order", PK_CLI_LONG, &order, 1, 16, NULL},
        {"--merges", PK_CLI_LONG, &merges, 0, 100000, NULL},
        {"--top", PK_CLI_LONG, &top, 1, 257, NULL},
        {"--threshold", PK_CLI_DOUBLE, &threshold, 0, 1 - 1e-16, "a number in [0, 1)"},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(CMD, HELP, argc - 1, argv + 1, opts, &text, 1, NULL);
    if (prc >= 0)
        return prc;
    const char *kind = kind_i < 0 ? NULL : kind_i == 0 ? "bpe" : "lower";
    if (!text || !kind || !target)
        return pk_cli_usage(CMD, "lm needs TEXT, --fst and --target");
    int bpe_mode = kind_i == 0;
    pk_err err;
    pk_err_clear(&err);
    uint8_t *buf = NULL;
    size_t len = 0;
    pk_bpe *bpe = NULL;
    pk_ngram *m = NULL;
    pk_fst *f = NULL;
    pk_tlm *t = NULL;
    const uint8_t **tb = NULL;
    size_t *tl = NULL;
    int32_t *y = NULL;
    double *p = NULL;
    pair *pr = NULL;
    int rc = pk_file_read_all(text, (size_t)1 << 30, &buf, &len, &err);
    if (!rc && len == 0)
        rc = pk_err_set(&err, PK_EFORMAT, "%s: empty text", text);
    if (!rc && bpe_mode)
        rc = pk_bpe_train(buf, len, (int)merges, &bpe, &err);
    int32_t V = bpe ? pk_bpe_size(bpe) : 256;
    if (!rc)
        rc = pk_ngram_new(V, (int)order, &m, &err);
    for (size_t i = 0; !rc && i < len;) {
        size_t j = i;
        while (j < len && buf[j] != '\n')
            j++;
        int32_t *x = NULL;
        size_t n = 0;
        if (bpe)
            rc = pk_bpe_encode(bpe, buf + i, j - i, &x, &n);
        else if (!(x = malloc((j - i + 1) * sizeof *x)))
            rc = PK_ENOMEM;
        else
            for (size_t k = i; k < j; k++)
                x[n++] = buf[k];
        if (!rc)
            rc = pk_ngram_add(m, x, n, &err);
        free(x);
        i = j + 1;
    }
    if (!rc)
        rc = pk_ngram_finish(m, &err);
    if (!rc && bpe) {
        tb = malloc((size_t)V * sizeof *tb);
        tl = malloc((size_t)V * sizeof *tl);
        if (!tb || !tl)
            rc = PK_ENOMEM;
        for (int32_t k = 0; !rc && k < V; k++)
            tb[k] = pk_bpe_token_bytes(bpe, k, &tl[k]);
        if (!rc)
            rc = pk_fst_tokens_to_bytes(V, tb, tl, &f);
    } else if (!rc) {
        rc = pk_fst_lowercase_words(&f);
    }
    pk_seq_lm slm;
    if (!rc) {
        pk_ngram_seq_lm(m, &slm);
        rc = pk_tlm_new(&slm, f, 256, &t, &err);
    }
    size_t ny = strlen(target);
    y = malloc((ny + 1) * sizeof *y);
    p = malloc(257 * sizeof *p);
    pr = malloc(257 * sizeof *pr);
    if (!rc && (!y || !p || !pr))
        rc = PK_ENOMEM;
    double lpre = 0;
    pk_tlm_stats st;
    double t0 = pk_time_now();
    if (!rc) {
        for (size_t i = 0; i < ny; i++)
            y[i] = (unsigned char)target[i];
        rc = pk_tlm_next_dist(t, y, ny, threshold, p, &lpre, &st);
        if (rc == PK_EDOM)
            pk_err_set(&err, rc, "the target prefix has probability zero under the model");
        else if (rc == PK_EMAXITER)
            pk_err_set(&err, rc, "search budget exceeded; try --threshold 1e-4");
    }
    double secs = pk_time_now() - t0;
    int ex = PK_EXIT_OK;
    if (rc) {
        ex = pk_cli_fail_status(CMD, rc, &err);
    } else {
        for (int a = 0; a <= 256; a++)
            pr[a] = (pair){p[a], a};
        qsort(pr, 257, sizeof *pr, cmp_pair);
        if (json) {
            printf("{\"fst\": \"%s\", \"log_prefix_prob\": %.17g, \"expanded\": %lld, \"seconds\": %.6g, \"next\": [",
                   kind, lpre, (long long)st.expanded, secs);
            for (long k = 0; k < top; k++)
                printf("%s{\"symbol\": %d, \"p\": %.17g}", k ? ", " : "", pr[k].a == 256 ? -1 : pr[k].a, pr[k].p);
            printf("]}\n");
        } else {
            printf("log P(prefix) = %.6f (%lld hypotheses, %.3f s)\nnext:\n", lpre, (long long)st.expanded, secs);
            for (long k = 0; k < top; k++) {
                if (pr[k].a == 256)
                    printf("  EOS   %.6f\n", pr[k].p);
                else if (pr[k].a >= 32 && pr[k].a < 127)
                    printf("  '%c'   %.6f\n", pr[k].a, pr[k].p);
                else
                    printf("  0x%02x  %.6f\n", pr[k].a, pr[k].p);
            }
        }
    }
    free(buf);
    free(tb);
    free(tl);
    free(y);
    free(p);
    free(pr);
    pk_tlm_free(t);
    pk_fst_free(f);
    pk_ngram_free(m);
    pk_bpe_free(bpe);
    return ex;
}

static int cmd_main(int argc, char **argv)
{
    int rc;
    if (pk_cli_subcommand_help(argc, argv, HELP, &rc))
        return rc;
    if (!strcmp(argv[1], "compose") || !strcmp(argv[1], "rmepsilon") || !strcmp(argv[1], "determinize") ||
        !strcmp(argv[1], "distance"))
        return fst_ops(argc, argv);
    if (!strcmp(argv[1], "lm"))
        return lm_cmd(argc, argv);
    return pk_cli_usage(CMD, "unknown subcommand '%s' (compose, rmepsilon, determinize, distance, lm)", argv[1]);
}

const pk_cli_cmd pk_cmd_transduce = {"transduce", "weighted FSTs (AT&T text) and LMs seen through a transducer",
                                     cmd_main};
