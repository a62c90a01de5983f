/* probkit ngram — modified Kneser-Ney n-gram models and BPE tokenizers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "probkit/io.h"
#include "probkit/ngram.h"

static const char *HELP =
    "usage: probkit ngram train TEXT [--order N] [--unit byte|char|bpe] [--merges M] [--test FILE] [--json]\n"
    "       probkit ngram bpe TEXT --merges M --out MERGES.txt\n"
    "       probkit ngram encode --bpe MERGES.txt TEXT\n\n"
    "Interpolated modified Kneser-Ney n-gram language models (Chen & Goodman)\n"
    "over bytes or BPE tokens.  Every line of TEXT is one sentence (EOS at its end).\n\n"
    "train: fits an order-N model (default 3; 1..16) and reports bits per byte on\n"
    "  --test (lines; default: the last 10% of TEXT's lines are held out).\n"
    "  --unit char models UTF-8 characters (ids in order of first appearance in\n"
    "  the training lines, one shared id for characters never seen in training);\n"
    "  --unit bpe trains a BPE tokenizer with --merges merges (default 500) first.\n"
    "bpe: trains a tokenizer and writes its merge list (probkit-bpe 1 text).\n"
    "encode: prints the canonical token ids of TEXT, one line per input line.\n\n"
    "exit status: 0 ok, 1 bad input or failure, 2 usage error.\n";

static const char *CMD = "ngram";

typedef struct text_lines {
    uint8_t *buf;
    size_t len, n;
    size_t *start, *end;
} text_lines;

static int read_lines(const char *path, text_lines *tl, pk_err *err)
{
    memset(tl, 0, sizeof *tl);
    int rc = pk_file_read_all(path, (size_t)1 << 31, &tl->buf, &tl->len, err);
    if (rc)
        return rc;
    size_t cap = 1024;
    tl->start = malloc(cap * sizeof *tl->start);
    tl->end = malloc(cap * sizeof *tl->end);
    if (!tl->start || !tl->end)
        return pk_err_set(err, PK_ENOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < tl->len;) {
        size_t j = i;
        while (j < tl->len && tl->buf[j] != '\n')
            j++;
        if (tl->n == cap) {
            cap *= 2;
            size_t *s = realloc(tl->start, cap * sizeof *s), *e = s ? realloc(tl->end, cap * sizeof *e) : NULL;
            if (s)
                tl->start = s;
            if (!s || !e)
                return pk_err_set(err, PK_ENOMEM, "%s: out of memory", path);
            tl->end = e;
        }
        tl->start[tl->n] = i;
        tl->end[tl->n++] = j;
        i = j + 1;
    }
    if (tl->n == 0)
        return pk_err_set(err, PK_EFORMAT, "%s: empty text", path);
    return PK_OK;
}

static void free_lines(text_lines *tl)
{
    free(tl->buf);
    free(tl->start);
    free(tl->end);
}

/* Character vocabulary: code point (or 0x110000 + byte for a byte that is
 * not valid UTF-8) -> id; id 0 stands for characters unseen in training. */
#define CHAR_KEYS (0x110000 + 256)
typedef struct charmap {
    int32_t *id;
    int32_t n;
    int grow;
} charmap;

static size_t utf8_next(const uint8_t *s, size_t L, uint32_t *cp)
{
    uint8_t c = s[0];
    int need = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
    if (need < 0 || (size_t)need >= L + (need == 0))
        goto bad;
    uint32_t v = need == 0 ? c : need == 1 ? c & 0x1fu : need == 2 ? c & 0x0fu : c & 0x07u;
    for (int k = 1; k <= need; k++) {
        if ((size_t)k >= L || (s[k] & 0xc0) != 0x80)
            goto bad;
        v = (v << 6) | (s[k] & 0x3fu);
    }
    if (v > 0x10ffff)
        goto bad;
    *cp = v;
    return (size_t)need + 1;
bad:
    *cp = 0x110000u + c;
    return 1;
}

/* Symbols of one line: bytes, characters (cm) or BPE tokens (bpe).  *x malloc'd. */
static int line_syms(const text_lines *tl, size_t i, const pk_bpe *bpe, charmap *cm, int32_t **x, size_t *n)
{
    const uint8_t *s = tl->buf + tl->start[i];
    size_t L = tl->end[i] - tl->start[i];
    if (bpe)
        return pk_bpe_encode(bpe, s, L, x, n);
    *x = malloc((L ? L : 1) * sizeof **x);
    if (!*x)
        return PK_ENOMEM;
    if (!cm) {
        for (size_t j = 0; j < L; j++)
            (*x)[j] = s[j];
        *n = L;
        return PK_OK;
    }
    size_t k = 0;
    for (size_t j = 0; j < L;) {
        uint32_t cp;
        j += utf8_next(s + j, L - j, &cp);
        if (cm->id[cp] < 0 && cm->grow)
            cm->id[cp] = cm->n++;
        (*x)[k++] = cm->id[cp] < 0 ? 0 : cm->id[cp];
    }
    *n = k;
    return PK_OK;
}

static int train(int argc, char **argv)
{
    const char *text = NULL, *test = NULL;
    long order = 3, merges = 500;
    int json = 0;
    int unit_i = 0;
    const pk_cli_opt opts[] = {
        {"--order", PK_CLI_LONG, &order, 1, 16, NULL},
        {"--merges", PK_CLI_LONG, &merges, 0, 1000000, NULL},
        {"--unit", PK_CLI_CHOICE, &unit_i, 0, 0, "byte|char|bpe"},
        {"--test", PK_CLI_STR, &test, 0, 0, NULL},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(CMD, HELP, argc - 1, argv + 1, opts, &text, 1, NULL);
    if (prc >= 0)
        return prc;
    static const char *const units[] = {"byte", "char", "bpe"};
    const char *unit = units[unit_i];
    if (!text)
        return pk_cli_usage(CMD, "train needs a TEXT file");
    pk_err err;
    pk_err_clear(&err);
    text_lines tr, te;
    int rc = read_lines(text, &tr, &err);
    memset(&te, 0, sizeof te);
    if (!rc && test)
        rc = read_lines(test, &te, &err);
    size_t ntrain = tr.n, test_from = 0;
    const text_lines *T = &te;
    if (!rc && !test) {
        if (tr.n < 2) {
            rc = pk_err_set(&err, PK_EFORMAT, "%s: need at least 2 lines to hold some out (or give --test)", text);
        } else {
            ntrain = tr.n - (tr.n / 10 ? tr.n / 10 : 1);
            test_from = ntrain;
            T = &tr;
        }
    }
    pk_bpe *bpe = NULL;
    pk_ngram *m = NULL;
    charmap cm = {NULL, 1, 1}, *cmp = NULL;
    double t0 = pk_time_now();
    if (!rc && !strcmp(unit, "bpe")) {
        size_t end = tr.end[ntrain - 1];
        rc = pk_bpe_train(tr.buf, end, (int)merges, &bpe, &err);
    }
    if (!rc && !strcmp(unit, "char")) {
        if (!(cm.id = malloc((size_t)CHAR_KEYS * sizeof *cm.id)))
            rc = pk_err_set(&err, PK_ENOMEM, "out of memory");
        for (size_t c = 0; !rc && c < CHAR_KEYS; c++)
            cm.id[c] = -1;
        cmp = &cm;
        /* the vocabulary is fixed by the training lines before the model exists */
        for (size_t i = 0; !rc && i < ntrain; i++) {
            int32_t *x;
            size_t n;
            rc = line_syms(&tr, i, NULL, cmp, &x, &n);
            if (!rc)
                free(x);
        }
        cm.grow = 0;
    }
    if (!rc)
        rc = pk_ngram_new(bpe ? pk_bpe_size(bpe) : cmp ? cm.n : 256, (int)order, &m, &err);
    for (size_t i = 0; !rc && i < ntrain; i++) {
        int32_t *x;
        size_t n;
        if ((rc = line_syms(&tr, i, bpe, cmp, &x, &n)))
            break;
        rc = pk_ngram_add(m, x, n, &err);
        free(x);
    }
    if (!rc)
        rc = pk_ngram_finish(m, &err);
    double secs = pk_time_now() - t0, bits = 0, bytes = 0, syms = 0;
    size_t nt = test ? T->n : T->n - test_from;
    for (size_t i = 0; !rc && i < nt; i++) {
        size_t li = test_from + i;
        int32_t *x;
        size_t n;
        if ((rc = line_syms(T, li, bpe, cmp, &x, &n)))
            break;
        bits -= pk_ngram_log_prob(m, x, n) / log(2.0);
        bytes += (double)(T->end[li] - T->start[li]) + 1;
        syms += (double)n + 1;
        free(x);
    }
    free(cm.id);
    if (rc) {
        pk_bpe_free(bpe);
        pk_ngram_free(m);
        free_lines(&tr);
        free_lines(&te);
        return pk_cli_fail_status(CMD, rc, &err);
    }
    if (json)
        printf("{\"order\": %ld, \"unit\": \"%s\", \"vocab\": %d, \"train_lines\": %zu, \"test_lines\": %zu, "
               "\"bits_per_byte\": %.17g, \"bits_per_symbol\": %.17g, \"train_seconds\": %.6g}\n",
               order, unit, pk_ngram_vocab(m), ntrain, nt, bits / bytes, bits / syms, secs);
    else
        printf("order %ld %s model (vocab %d) on %zu lines: %.4f bits/byte, %.4f bits/symbol on %zu held-out "
               "lines (EOS counted); trained in %.2f s\n",
               order, unit, pk_ngram_vocab(m), ntrain, bits / bytes, bits / syms, nt, secs);
    pk_bpe_free(bpe);
    pk_ngram_free(m);
    free_lines(&tr);
    free_lines(&te);
    return PK_EXIT_OK;
}

static int bpe_cmd(int argc, char **argv, int encode)
{
    const char *text = NULL, *out = NULL, *merges_file = NULL;
    long merges = -1;
    const pk_cli_opt opts[] = {
        {"--merges", PK_CLI_LONG, &merges, 0, 1000000, NULL},
        {"--out", PK_CLI_STR, &out, 0, 0, NULL},
        {"--bpe", PK_CLI_STR, &merges_file, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(CMD, HELP, argc - 1, argv + 1, opts, &text, 1, NULL);
    if (prc >= 0)
        return prc;
    if (!text || (encode ? !merges_file : (merges < 0 || !out)))
        return pk_cli_usage(CMD, encode ? "encode needs --bpe and TEXT" : "bpe needs TEXT, --merges and --out");
    pk_err err;
    pk_err_clear(&err);
    text_lines tl;
    pk_bpe *b = NULL;
    int rc = read_lines(text, &tl, &err);
    if (!rc)
        rc = encode ? pk_bpe_load(merges_file, &b, &err) : pk_bpe_train(tl.buf, tl.len, (int)merges, &b, &err);
    if (!rc && !encode) {
        rc = pk_bpe_save(b, out, &err);
        if (!rc)
            printf("%d merges, %d tokens\n", pk_bpe_size(b) - 256, pk_bpe_size(b));
    }
    for (size_t i = 0; !rc && encode && i < tl.n; i++) {
        int32_t *x;
        size_t n;
        if ((rc = line_syms(&tl, i, b, NULL, &x, &n)))
            break;
        for (size_t j = 0; j < n; j++)
            printf(j ? " %d" : "%d", x[j]);
        printf("\n");
        free(x);
    }
    pk_bpe_free(b);
    free_lines(&tl);
    return rc ? pk_cli_fail_status(CMD, rc, &err) : PK_EXIT_OK;
}

static int cmd_main(int argc, char **argv)
{
    int rc;
    if (pk_cli_subcommand_help(argc, argv, HELP, &rc))
        return rc;
    if (!strcmp(argv[1], "train"))
        return train(argc, argv);
    if (!strcmp(argv[1], "bpe"))
        return bpe_cmd(argc, argv, 0);
    if (!strcmp(argv[1], "encode"))
        return bpe_cmd(argc, argv, 1);
    return pk_cli_usage(CMD, "unknown subcommand '%s' (train, bpe, encode)", argv[1]);
}

const pk_cli_cmd pk_cmd_ngram = {"ngram", "Kneser-Ney n-gram language models and BPE tokenizers", cmd_main};
