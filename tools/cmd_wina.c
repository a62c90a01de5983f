/* probkit wina — perplexity and next-byte accuracy of a byte-level GPT under
 * training-free sparse activation: WINA beside TEAL and CATS. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "probkit/io.h"
#include "probkit/nn.h"
#include "probkit/rng.h"
#include "probkit/wina.h"

static const char *HELP =
    "usage: probkit wina eval --model FILE [--text FILE] [options]\n\n"
    "Sparse activation of a byte-level GPT (made by `probkit nn lm train`): every linear\n"
    "layer reads only k of its n inputs per token (k = n - floor(s n)).  Rules:\n"
    "  teal  top-k of |x_i|                    (TEAL)\n"
    "  wina  top-k of |x_i| * ||W[:, i]||_2     (WINA, Chen et al. 2025)\n"
    "  cats  top-k of |x_i| at the MLP activation output only (CATS; other layers dense)\n"
    "With --transform svd the model is first rotated (computation-invariant; LayerNorm\n"
    "folded, residual stream centred, each block input rotated by the right singular\n"
    "vectors of its reader) so that attn.qkv and mlp.fc have orthogonal columns, the\n"
    "condition under which WINA's mask has the least output error.\n"
    "The text is split as by `nn lm train`: the last 10% is scored (non-overlapping\n"
    "windows of context + 1 bytes), the first 90% supplies calibration windows.\n\n"
    "options:\n"
    "  --model FILE       GPT safetensors file (required)\n"
    "  --text FILE        text (default DATA/kjv/kjv.txt; DATA = $PROBKIT_DATA or <repo>/data)\n"
    "  --method LIST      comma-separated rules (default teal,cats,wina); dense is always shown\n"
    "  --sparsity LIST    comma-separated levels in [0, 1) (default 0.25,0.5,0.65)\n"
    "  --transform WHICH  none | svd | both (default both)\n"
    "  --alloc HOW        uniform (every input at the level) | greedy (TEAL's per-block\n"
    "                     allocation at the same weighted sparsity; default uniform)\n"
    "  --wina-norms SITES all (the paper: column norms at every input, default) | readers\n"
    "                     (the authors' code: only at the inputs of attn.qkv and mlp.fc)\n"
    "  --windows N        scored windows (default 200; 0 = the whole split)\n"
    "  --calib N          greedy: calibration windows from the training split (default 16)\n"
    "  --step X           greedy: step in (0, 1) (default 0.05)\n"
    "  --errors           also print each layer's relative output error ||W(x - m x)|| / ||W x||\n"
    "  --skip-kernel      compute each sparsified product reading only the kept columns, one\n"
    "                     token at a time (the decoder's kernel; default: dense sgemm on the\n"
    "                     masked input, the same numbers, faster in batch)\n"
    "  --seed N           calibration windows (default 42)\n"
    "  --json             machine-readable output\n"
    "output: one row per (rule, transform, level): weight sparsity (share of block weight\n"
    "reads skipped), mean NLL (nats/byte), bits per byte, perplexity, next-byte accuracy,\n"
    "seconds of the evaluation (masks and forward passes).\n";

#define MAXL 16

static int parse_list(const char *cmd, const char *opt, const char *s, double *out, int *n, int lists_methods)
{
    char buf[512];
    if (strlen(s) >= sizeof buf)
        return pk_cli_usage(cmd, "%s: list too long", opt);
    strcpy(buf, s);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (*n == MAXL)
            return pk_cli_usage(cmd, "%s: at most %d entries", opt, MAXL);
        if (lists_methods) {
            pk_wina_method m;
            if (pk_wina_method_parse(tok, &m) || m == PK_WINA_DENSE)
                return pk_cli_usage(cmd, "%s: '%s' is not one of teal, cats, wina", opt, tok);
            out[(*n)++] = m;
        } else {
            double v;
            if (pk_cli_parse_double(tok, &v) || !(v >= 0 && v < 1))
                return pk_cli_usage(cmd, "%s: '%s' is not a number in [0, 1)", opt, tok);
            out[(*n)++] = v;
        }
    }
    if (!*n)
        return pk_cli_usage(cmd, "%s: empty list", opt);
    return -1;
}

typedef struct result {
    const char *method, *transform;
    double level, wsp, nll, acc, sec;
    double err[64 * PK_WINA_SITES]; /* relative output error per (layer, site), --errors */
} result;

static void print_row(const result *r, int json, int first, int nl, int errors)
{
    if (json) {
        printf("%s\n  {\"method\": \"%s\", \"transform\": \"%s\", \"sparsity\": %.17g, \"weight_sparsity\": %.17g, "
               "\"nll\": %.17g, \"bpb\": %.17g, \"ppl\": %.17g, \"acc\": %.17g, \"seconds\": %.17g",
               first ? "" : ",", r->method, r->transform, r->level, r->wsp, r->nll, r->nll / log(2.0), exp(r->nll),
               r->acc, r->sec);
        if (errors) {
            printf(", \"rel_error\": [");
            for (int i = 0; i < nl * PK_WINA_SITES; i++)
                printf("%s%.17g", i ? ", " : "", isfinite(r->err[i]) ? r->err[i] : 0.0);
            printf("]");
        }
        printf("}");
        return;
    }
    printf("%-6s %-9s %8.3f %9.3f %9.4f %7.4f %8.4f %7.4f %7.2f\n", r->method, r->transform, r->level, r->wsp, r->nll,
           r->nll / log(2.0), exp(r->nll), r->acc, r->sec);
    if (errors && strcmp(r->method, "dense"))
        for (int l = 0; l < nl; l++) {
            printf("         layer %d rel. error:", l);
            for (int s = 0; s < PK_WINA_SITES; s++)
                printf(" %s %.4f", pk_wina_site_name(s), r->err[l * PK_WINA_SITES + s]);
            printf("\n");
        }
}

static int cmd_main(int argc, char **argv)
{
    const char *cmd = "wina", *model = NULL, *methods = "teal,cats,wina", *levels = "0.25,0.5,0.65", *sub = NULL;
    char deftext[1024];
    snprintf(deftext, sizeof deftext, "%s/kjv/kjv.txt", pk_cli_data_dir());
    const char *text = deftext;
    int json = 0, errors = 0, which = 2, alloc = 0, norms = 0, skip = 0;
    long windows = 200, calib = 16;
    double step = 0.05;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    const pk_cli_opt opts[] = {
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {"--errors", PK_CLI_FLAG, &errors, 0, 0, NULL},
        {"--skip-kernel", PK_CLI_FLAG, &skip, 0, 0, NULL},
        {"--model", PK_CLI_STR, &model, 0, 0, NULL},
        {"--text", PK_CLI_STR, &text, 0, 0, NULL},
        {"--method", PK_CLI_STR, &methods, 0, 0, NULL},
        {"--sparsity", PK_CLI_STR, &levels, 0, 0, NULL},
        {"--transform", PK_CLI_CHOICE, &which, 0, 0, "none|svd|both"},
        {"--alloc", PK_CLI_CHOICE, &alloc, 0, 0, "uniform|greedy"},
        {"--wina-norms", PK_CLI_CHOICE, &norms, 0, 0, "all|readers"},
        {"--windows", PK_CLI_LONG, &windows, 0, 1e9, "a non-negative integer"},
        {"--calib", PK_CLI_LONG, &calib, 1, 4096, "an integer in 1..4096"},
        {"--step", PK_CLI_DOUBLE, &step, 1e-4, 0.5, "a number in [1e-4, 0.5]"},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(cmd, HELP, argc, argv, opts, &sub, 1, NULL);
    if (prc >= 0)
        return prc;
    if (!sub || strcmp(sub, "eval"))
        return pk_cli_usage(cmd, sub ? "unknown subcommand '%s' (want eval)" : "missing subcommand (want eval)%s",
                            sub ? sub : "");
    if (!model)
        return pk_cli_usage(cmd, "eval needs --model FILE (train one with `probkit nn lm train`)");
    double mlist[MAXL], lv[MAXL];
    int nm = 0, nlv = 0;
    if ((prc = parse_list(cmd, "--method", methods, mlist, &nm, 1)) >= 0 ||
        (prc = parse_list(cmd, "--sparsity", levels, lv, &nlv, 0)) >= 0)
        return prc;
    pk_cli_blas_serial_default();
    pk_err err = {0};
    pk_nn_gpt *g = NULL;
    int st = pk_nn_gpt_load(model, &g, &err);
    if (st)
        return pk_cli_fail_status(cmd, st, &err);
    if (g->cfg.n_layer > 64) {
        pk_nn_gpt_free(g);
        return pk_cli_fail(cmd, "%s: more than 64 layers", model);
    }
    uint8_t *raw = NULL;
    size_t n = 0;
    int rc = PK_EXIT_OK;
    pk_wina_model *wm[2] = {NULL, NULL};
    int32_t *tok = NULL, *cal = NULL;
    pk_wina_stats *stats = NULL;
    if ((st = pk_file_read_all(text, 0, &raw, &n, &err))) {
        rc = pk_cli_fail_status(cmd, st, &err);
        goto done;
    }
    int64_t T = g->cfg.context, ntr = (int64_t)(n * 9 / 10), nval = (int64_t)n - ntr;
    if (nval < T + 1 || ntr < T + 1) {
        rc = pk_cli_fail(cmd, "%s: %zu bytes is too short for context %lld", text, n, (long long)T);
        goto done;
    }
    tok = malloc((size_t)n * sizeof *tok);
    cal = malloc((size_t)(calib * T) * sizeof *cal);
    stats = pk_wina_stats_new(g->cfg.n_layer);
    if (!tok || !cal || !stats) {
        rc = pk_cli_fail(cmd, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        tok[i] = raw[i];
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    for (long c = 0; c < calib; c++)
        memcpy(cal + c * T, tok + pk_rng_below(&rng, (uint64_t)(ntr - T)), (size_t)T * sizeof *cal);
    int64_t nwin = (nval - 1) / T;
    if (windows > 0 && nwin > windows)
        nwin = windows;
    fprintf(stderr,
            "probkit wina eval: seed %llu, %s (d_model %d, %d layers, context %lld), %s: %lld validation bytes, "
            "%lld windows scored (%lld predictions), allocation %s\n",
            (unsigned long long)seed, model, g->cfg.d_model, g->cfg.n_layer, (long long)T, text, (long long)nval,
            (long long)nwin, (long long)(nwin * T), alloc ? "greedy" : "uniform");
    for (int t = 0; t < 2; t++)
        if ((which == 2 || which == t) && (st = pk_wina_model_new(g, t, &wm[t], &err))) {
            rc = pk_cli_fail_status(cmd, st, &err);
            goto done;
        }
    if (json)
        printf("{\"model\": \"%s\", \"text\": \"%s\", \"seed\": %llu, \"windows\": %lld, \"alloc\": \"%s\", "
               "\"wina_norms\": \"%s\", \"sites\": [\"qkv\", \"attn.proj\", \"mlp.fc\", \"mlp.proj\"], \"results\": [",
               model, text, (unsigned long long)seed, (long long)nwin, alloc ? "greedy" : "uniform",
               norms ? "readers" : "all");
    else
        printf("method transform sparsity weight_sp       nll     bpb      ppl     acc     sec\n");
    int first = 1, L = g->cfg.n_layer;
    result *r = calloc(1, sizeof *r);
    if (!r) {
        rc = pk_cli_fail(cmd, "out of memory");
        goto done;
    }
    const pk_wina_model *dm = wm[0] ? wm[0] : wm[1];
    double t0 = pk_time_now();
    st = pk_wina_eval(dm, NULL, tok + ntr, nval, nwin, &r->nll, &r->acc, NULL, &err);
    r->sec = pk_time_now() - t0;
    if (st) {
        free(r);
        rc = pk_cli_fail_status(cmd, st, &err);
        goto done;
    }
    r->method = "dense";
    r->transform = "-";
    print_row(r, json, first, L, 0);
    first = 0;
    for (int t = 0; t < 2 && !rc; t++) {
        if (!wm[t])
            continue;
        for (int im = 0; im < nm && !rc; im++) {
            pk_wina_method meth = (pk_wina_method)mlist[im];
            pk_wina_plan *plans[MAXL] = {0};
            unsigned ns = norms ? (1u << PK_WINA_SITE_QKV | 1u << PK_WINA_SITE_FC) : 0xFu;
            if (alloc)
                st = pk_wina_plan_greedy(wm[t], meth, ns, lv, nlv, cal, calib, T, step, plans, &err);
            else
                for (int i = 0; i < nlv && !st; i++)
                    st = pk_wina_plan_uniform(wm[t], meth, lv[i], &plans[i], &err);
            for (int i = 0; i < nlv && !st; i++) {
                plans[i]->norm_sites = ns;
                plans[i]->skip_kernel = skip;
                memset(stats->err2, 0, 4 * (size_t)L * PK_WINA_SITES * sizeof *stats->err2);
                t0 = pk_time_now();
                st = pk_wina_eval(wm[t], plans[i], tok + ntr, nval, nwin, &r->nll, &r->acc, errors ? stats : NULL,
                                  &err);
                r->sec = pk_time_now() - t0;
                if (st)
                    break;
                r->method = pk_wina_method_name(meth);
                r->transform = t ? "svd" : "none";
                r->level = lv[i];
                r->wsp = pk_wina_plan_weight_sparsity(plans[i]);
                for (int k = 0; k < L * PK_WINA_SITES; k++)
                    r->err[k] = pk_wina_stats_rel_error(stats, k / PK_WINA_SITES, k % PK_WINA_SITES);
                print_row(r, json, first, L, errors);
                fflush(stdout);
            }
            for (int i = 0; i < nlv; i++)
                pk_wina_plan_free(plans[i]);
            if (st)
                rc = pk_cli_fail_status(cmd, st, &err);
        }
    }
    free(r);
    if (json && !rc)
        printf("\n]}\n");
done:
    pk_nn_gpt_free(g);
    pk_wina_model_free(wm[0]);
    pk_wina_model_free(wm[1]);
    pk_wina_stats_free(stats);
    free(raw);
    free(tok);
    free(cal);
    return rc;
}

const pk_cli_cmd pk_cmd_wina = {"wina", "sparse activation of a GPT: WINA vs TEAL vs CATS (perplexity, accuracy)",
                                cmd_main};
