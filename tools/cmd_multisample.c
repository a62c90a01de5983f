/* probkit multisample — stochastic (multi-sample) evaluation of generative models. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "probkit/io.h"
#include "probkit/metrics.h"

static const char *HELP =
    "usage: probkit multisample RESULTS.jsonl [options]\n\n"
    "Evaluates sampled generations instead of a single greedy answer (\"Stochastic\n"
    "CHAOS\"). One JSON object per line:\n"
    "  {\"prompt\": ID, \"correct\": true|false|0|1, \"answer\": \"...\" (optional),\n"
    "   \"temperature\": 0.7 (optional), \"paraphrase\": ID (optional)}\n"
    "Per temperature: expected accuracy over samples, unbiased pass@k, majority@k\n"
    "(plurality vote over the answers), mean answer entropy (bits), the share of\n"
    "prompts that fail at least once, the worst prompt's failure probability with\n"
    "Wilson and Clopper-Pearson 95% intervals, and the tail risk 1-(1-p)^K of at least\n"
    "one failure in K deployments (p: pooled failure rate's exact upper bound; at\n"
    "zero failures this is the rule of three, p <= 3/n). With paraphrases, the share\n"
    "of prompts whose worst paraphrase is below 50% accuracy.\n\n"
    "options:\n"
    "  --k LIST       pass@k / majority@k values (default 1,5,10; k above a prompt's\n"
    "                 sample count is skipped for that prompt)\n"
    "  --deploy K     deployments for the tail risk (default 1000)\n"
    "  --sims N       Monte Carlo draws per prompt for majority@k (default 2000)\n"
    "  --seed N       seed for majority@k draws (default 42)\n"
    "  --json         machine-readable output\n";

typedef struct rec {
    char *prompt, *para, *answer;
    double temp;
    int correct;
} rec;

static int cmp_rec(const void *a, const void *b)
{
    const rec *x = a, *y = b;
    if (x->temp != y->temp)
        return x->temp < y->temp ? -1 : 1;
    int c = strcmp(x->prompt, y->prompt);
    if (c)
        return c;
    c = strcmp(x->para, y->para);
    if (c)
        return c;
    return strcmp(x->answer, y->answer);
}

static char *id_string(json_t *v)
{
    char buf[64];
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_integer(v)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        return strdup(buf);
    }
    if (json_is_real(v)) {
        snprintf(buf, sizeof buf, "%.17g", json_real_value(v));
        return strdup(buf);
    }
    return NULL;
}

static void free_recs(rec *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].prompt);
        free(r[i].para);
        free(r[i].answer);
    }
    free(r);
}

static int load(const char *cmd, const char *file, rec **out, size_t *nout)
{
    pk_err err;
    pk_err_clear(&err);
    uint8_t *buf = NULL;
    size_t len = 0;
    int st = pk_file_read_all(file, 0, &buf, &len, &err);
    if (st)
        return pk_cli_fail_status(cmd, st, &err);
    size_t cap = 1024, n = 0, line = 0;
    rec *r = malloc(cap * sizeof *r);
    char *s = (char *)buf, *end = s + len;
    int rc = 0;
    while (r && s < end) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        char *e = nl ? nl : end;
        line++;
        size_t ll = (size_t)(e - s);
        while (ll && (s[ll - 1] == '\r' || s[ll - 1] == ' ' || s[ll - 1] == '\t'))
            ll--;
        if (ll) {
            json_error_t je;
            json_t *o = json_loadb(s, ll, 0, &je);
            if (!o || !json_is_object(o)) {
                rc = pk_cli_fail(cmd, "%s:%zu: not a JSON object%s%s", file, line, o ? "" : ": ", o ? "" : je.text);
                json_decref(o);
                break;
            }
            json_t *jp = json_object_get(o, "prompt"), *jc = json_object_get(o, "correct");
            if (!jp || !jc) {
                rc = pk_cli_fail(cmd, "%s:%zu: missing \"%s\"", file, line, jp ? "correct" : "prompt");
                json_decref(o);
                break;
            }
            int corr;
            if (json_is_boolean(jc))
                corr = json_is_true(jc);
            else if (json_is_integer(jc) && (json_integer_value(jc) == 0 || json_integer_value(jc) == 1))
                corr = (int)json_integer_value(jc);
            else {
                rc = pk_cli_fail(cmd, "%s:%zu: \"correct\" must be true/false or 0/1", file, line);
                json_decref(o);
                break;
            }
            json_t *jt = json_object_get(o, "temperature"), *jq = json_object_get(o, "paraphrase"),
                   *ja = json_object_get(o, "answer");
            double temp = 0;
            if (jt && !json_is_number(jt)) {
                rc = pk_cli_fail(cmd, "%s:%zu: \"temperature\" must be a number", file, line);
                json_decref(o);
                break;
            }
            if (jt)
                temp = json_number_value(jt);
            if (!isfinite(temp) || temp < 0) {
                rc = pk_cli_fail(cmd, "%s:%zu: temperature %g must be finite and >= 0", file, line, temp);
                json_decref(o);
                break;
            }
            if (n == cap) {
                rec *nr = realloc(r, 2 * cap * sizeof *r);
                if (!nr) {
                    json_decref(o);
                    rc = pk_cli_fail(cmd, "out of memory");
                    break;
                }
                r = nr;
                cap *= 2;
            }
            r[n].prompt = id_string(jp);
            r[n].para = jq ? id_string(jq) : strdup("");
            r[n].answer = ja ? (json_is_string(ja) ? strdup(json_string_value(ja)) : id_string(ja))
                             : strdup(corr ? "<correct>" : "<wrong>");
            r[n].temp = temp;
            r[n].correct = corr;
            json_decref(o);
            if (!r[n].prompt || !r[n].para || !r[n].answer) {
                n++;
                rc = pk_cli_fail(cmd, "%s:%zu: \"prompt\"/\"paraphrase\"/\"answer\" must be strings or numbers", file,
                                 line);
                break;
            }
            n++;
        }
        s = e + 1;
    }
    free(buf);
    if (!r)
        return pk_cli_fail(cmd, "out of memory");
    if (!rc && n == 0)
        rc = pk_cli_fail(cmd, "%s: no records", file);
    if (rc) {
        free_recs(r, n);
        return rc;
    }
    *out = r;
    *nout = n;
    return 0;
}

static int cmd_main(int argc, char **argv)
{
    const char *cmd = "multisample", *file = NULL, *klist = "1,5,10";
    uint64_t seed = PK_CLI_DEFAULT_SEED, deploy = 1000;
    long sims = 2000;
    int json = 0;
    const pk_cli_opt opts[] = {
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {"--k", PK_CLI_STR, &klist, 0, 0, NULL},
        {"--deploy", PK_CLI_U64, &deploy, 1, 0, NULL},
        {"--sims", PK_CLI_LONG, &sims, 1, 10000000, NULL},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(cmd, HELP, argc, argv, opts, &file, 1, NULL);
    if (prc >= 0)
        return prc;
    if (!file)
        return pk_cli_usage(cmd, "no input file");
    uint64_t ks[16];
    size_t nk = 0;
    {
        char b[256];
        snprintf(b, sizeof b, "%s", klist);
        for (char *t = strtok(b, ","); t; t = strtok(NULL, ",")) {
            if (nk == 16 || pk_cli_parse_u64(t, &ks[nk]) || ks[nk] < 1)
                return pk_cli_usage(cmd, "--k needs up to 16 positive integers, got '%s'", klist);
            nk++;
        }
    }
    rec *R = NULL;
    size_t n = 0;
    int rc = load(cmd, file, &R, &n);
    if (rc)
        return rc;
    qsort(R, n, sizeof *R, cmp_rec);
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    uint64_t *cnt = malloc(n * sizeof *cnt);
    int *cor = malloc(n * sizeof *cor);
    double *dc = malloc(n * sizeof *dc);
    if (!cnt || !cor || !dc) {
        free(cnt);
        free(cor);
        free(dc);
        free_recs(R, n);
        return pk_cli_fail(cmd, "out of memory");
    }
    if (json)
        printf("{\"file\": \"%s\", \"records\": %zu, \"seed\": %llu, \"deploy\": %llu, \"temperatures\": [", file, n,
               (unsigned long long)seed, (unsigned long long)deploy);
    else
        printf("%s: %zu samples; majority@k by %llu draws per prompt, seed %llu\n", file, n,
               (unsigned long long)sims, (unsigned long long)seed);
    size_t g0 = 0, ngroups = 0;
    while (g0 < n) {
        size_t g1 = g0;
        while (g1 < n && R[g1].temp == R[g0].temp)
            g1++;
        /* per prompt (all paraphrases pooled) */
        size_t nprompt = 0, fail_any = 0, fragile = 0, nmin = (size_t)-1, nmax = 0, worst_n = 0, worst_x = 0;
        uint64_t tot = 0, totc = 0;
        double acc = 0, ent = 0, pk[16] = {0}, mk[16] = {0}, worst = -1;
        size_t pkn[16] = {0};
        for (size_t p0 = g0; p0 < g1;) {
            size_t p1 = p0;
            while (p1 < g1 && !strcmp(R[p1].prompt, R[p0].prompt))
                p1++;
            uint64_t np = p1 - p0, cp = 0;
            /* distinct answers in this prompt (sorted by paraphrase then answer: regroup by answer) */
            size_t m = 0;
            for (size_t i = p0; i < p1; i++) {
                cp += (uint64_t)R[i].correct;
                size_t j = 0;
                for (; j < m; j++)
                    if (!strcmp(R[p0 + j].answer, R[i].answer))
                        break;
                if (j == m) {
                    /* move record i's answer to slot m (swap within the prompt block) */
                    rec t = R[p0 + m];
                    R[p0 + m] = R[i];
                    R[i] = t;
                    cnt[m] = 0;
                    cor[m] = R[p0 + m].correct;
                    m++;
                }
                cnt[j]++;
            }
            for (size_t j = 0; j < m; j++)
                dc[j] = (double)cnt[j];
            ent += pk_entropy_bits(dc, m);
            acc += (double)cp / (double)np;
            fail_any += cp < np;
            double fr = 1 - (double)cp / (double)np;
            if (fr > worst) {
                worst = fr;
                worst_n = np;
                worst_x = np - cp;
            }
            nmin = np < nmin ? np : nmin;
            nmax = np > nmax ? np : nmax;
            tot += np;
            totc += cp;
            for (size_t q = 0; q < nk; q++) {
                if (ks[q] > np)
                    continue;
                double mp;
                pk[q] += pk_pass_at_k(np, cp, ks[q]);
                if (pk_majority_at_k(cnt, cor, m, ks[q], (size_t)sims, &rng, &mp, NULL) == PK_OK)
                    mk[q] += mp;
                pkn[q]++;
            }
            /* paraphrase robustness: worst paraphrase accuracy below 0.5 */
            double wp = 2;
            for (size_t i = p0; i < p1; i++) {
                size_t c = 0, t = 0;
                for (size_t j = p0; j < p1; j++)
                    if (!strcmp(R[j].para, R[i].para)) {
                        t++;
                        c += (size_t)R[j].correct;
                    }
                wp = fmin(wp, (double)c / (double)t);
            }
            fragile += wp < 0.5;
            nprompt++;
            p0 = p1;
        }
        double pooled = 1 - (double)totc / (double)tot, plo, phi, wlo, whi, clo, chi;
        pk_clopper_pearson(tot - totc, tot, 0.10, &plo, &phi); /* one-sided 95% upper bound */
        pk_wilson_interval(worst_x, worst_n, 1.959963984540054, &wlo, &whi);
        pk_clopper_pearson(worst_x, worst_n, 0.05, &clo, &chi);
        double tail = pk_tail_risk(phi, (double)deploy);
        if (json) {
            printf("%s\n  {\"temperature\": %.17g, \"prompts\": %zu, \"samples_min\": %zu, \"samples_max\": %zu, "
                   "\"accuracy\": %.17g, \"answer_entropy_bits\": %.17g, \"prompts_failing_once\": %zu, "
                   "\"fragile_prompts\": %zu, \"pooled_failure\": %.17g, \"pooled_failure_upper95\": %.17g, "
                   "\"tail_risk\": %.17g, \"worst_failure\": %.17g, \"worst_wilson\": [%.17g, %.17g], "
                   "\"worst_clopper_pearson\": [%.17g, %.17g], \"pass_at_k\": {",
                   ngroups ? "," : "", R[g0].temp, nprompt, nmin, nmax, acc / nprompt, ent / nprompt, fail_any,
                   fragile, pooled, phi, tail, worst, wlo, whi, clo, chi);
            int first = 1;
            for (size_t q = 0; q < nk; q++)
                if (pkn[q]) {
                    printf("%s\"%llu\": %.17g", first ? "" : ", ", (unsigned long long)ks[q], pk[q] / pkn[q]);
                    first = 0;
                }
            printf("}, \"majority_at_k\": {");
            first = 1;
            for (size_t q = 0; q < nk; q++)
                if (pkn[q]) {
                    printf("%s\"%llu\": %.17g", first ? "" : ", ", (unsigned long long)ks[q], mk[q] / pkn[q]);
                    first = 0;
                }
            printf("}}");
        } else {
            printf("\ntemperature %g: %zu prompts, %zu-%zu samples each\n", R[g0].temp, nprompt, nmin, nmax);
            printf("  expected accuracy      %.4f\n", acc / nprompt);
            for (size_t q = 0; q < nk; q++)
                if (pkn[q])
                    printf("  pass@%-4llu %.4f   majority@%-4llu %.4f   (%zu prompts)\n", (unsigned long long)ks[q],
                           pk[q] / pkn[q], (unsigned long long)ks[q], mk[q] / pkn[q], pkn[q]);
            printf("  answer entropy         %.4f bits (mean over prompts)\n", ent / nprompt);
            printf("  prompts failing once   %zu of %zu;  fragile under paraphrase: %zu\n", fail_any, nprompt,
                   fragile);
            printf("  worst prompt failure   %.4f  Wilson [%.4f, %.4f]  Clopper-Pearson [%.4f, %.4f]\n", worst, wlo,
                   whi, clo, chi);
            printf("  pooled failure         %.5f (95%% upper %.5f%s)\n", pooled, phi,
                   totc == tot ? ", rule of three ~ 3/n" : "");
            printf("  tail risk, %llu uses   %.4f\n", (unsigned long long)deploy, tail);
        }
        ngroups++;
        g0 = g1;
    }
    if (json)
        printf("]}\n");
    free(cnt);
    free(cor);
    free(dc);
    free_recs(R, n);
    return PK_EXIT_OK;
}

const pk_cli_cmd pk_cmd_multisample = {"multisample", "pass@k, majority@k, failure intervals, tail risk from samples",
                                       cmd_main};
