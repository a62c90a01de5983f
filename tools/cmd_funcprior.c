/* probkit funcprior — fit a BNN's per-layer Gaussian prior scales so that its
 * functions match a GP prior (Tran et al., "All You Need is a Good
 * Functional Prior for Bayesian Deep Learning"), and write them as JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "cli.h"
#include "probkit/funcprior.h"

static const char *CMD = "funcprior";
static const char *HELP =
    "usage: probkit funcprior [options] [--out PRIOR.json]\n\n"
    "Tune the prior of a Bayesian MLP (weights of layer l ~ N(0, w_std[l]^2 / fan_in),\n"
    "biases ~ N(0, b_std[l]^2)) so that its functions at random measurement points\n"
    "match a zero-mean GP prior in (sliced) Wasserstein distance.  Starts from\n"
    "N(0, init-std^2) on every weight.  Prints the distance before and after and\n"
    "the fitted scales; --out writes them as a probkit-funcprior JSON file\n"
    "(read back by pk_funcprior_load).\n\n"
    "target GP:\n"
    "  --kernel K         rbf (default), matern52, matern32, matern12 or linear\n"
    "  --lengthscale L    stationary kernels: length scale (1)\n"
    "  --variance V       signal variance sf2 (1); linear: k = bias-var + V x.y\n"
    "  --bias-var B       linear only (1)\n"
    "network:\n"
    "  --dim D            input dimension (1)\n"
    "  --hidden LIST      hidden widths, comma-separated, or 0 for none (50,50)\n"
    "  --act A            tanh (default) or relu\n"
    "  --init-std S       starting prior sd of every weight and bias (1)\n"
    "matching:\n"
    "  --lo A, --hi B     measurement points uniform in [A, B]^D (-3, 3)\n"
    "  --steps N (500)  --samples S (128)  --measure M (32)  --proj K (64)\n"
    "  --lr R (0.02)    --p 1|2 (Wasserstein order, 1)\n"
    "  --whiten R       whiten by the GP covariance (+ R mean diag) before slicing\n"
    "                   (0.01; 0 = the plain sliced distance)\n"
    "  --seed N         (42)      --json   print a JSON object instead of text\n"
    "  --out FILE       write the fitted prior (JSON, written atomically)\n\n"
    "exit status: 0 ok, 1 failure (names the input), 2 usage.\n";

static int parse_hidden(const char *s, pk_funcprior_net *net)
{
    net->n_hidden = 0;
    if (!strcmp(s, "0"))
        return 0;
    const char *p = s;
    while (*p) {
        char *end;
        long w = strtol(p, &end, 10);
        if (end == p || w < 1 || w > 4096 || net->n_hidden >= PK_FUNCPRIOR_MAX_HIDDEN || (*end && *end != ','))
            return -1;
        net->hidden[net->n_hidden++] = (int)w;
        if (*end == ',' && !end[1])
            return -1;
        p = *end ? end + 1 : end;
    }
    return net->n_hidden > 0 ? 0 : -1;
}

static void print_scales(FILE *f, const char *key, const double *v, int n, int json)
{
    fprintf(f, json ? "  \"%s\": [" : "%-8s", key);
    for (int l = 0; l < n; l++)
        fprintf(f, json ? "%s%.17g" : "%s%.4f", l ? (json ? ", " : " ") : "", v[l]);
    fprintf(f, json ? "],\n" : "\n");
}

static int cmd_main(int argc, char **argv)
{
    int kernel = 0, act = 0, json = 0;
    double ls = 1.0, sf2 = 1.0, sb2 = 1.0, init = 1.0, lo = -3, hi = 3, lr = 0.02, whiten = 0.01;
    long dim = 1, steps = 500, samples = 128, measure = 32, proj = 64, p = 1;
    const char *hidden = "50,50", *out = NULL;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    const pk_cli_opt opts[] = {
        {"--kernel", PK_CLI_CHOICE, &kernel, 0, 0, "rbf|matern52|matern32|matern12|linear"},
        {"--lengthscale", PK_CLI_DOUBLE, &ls, 1e-6, 1e6, NULL},
        {"--variance", PK_CLI_DOUBLE, &sf2, 1e-9, 1e9, NULL},
        {"--bias-var", PK_CLI_DOUBLE, &sb2, 1e-9, 1e9, NULL},
        {"--dim", PK_CLI_LONG, &dim, 1, 4096, NULL},
        {"--hidden", PK_CLI_STR, &hidden, 0, 0, NULL},
        {"--act", PK_CLI_CHOICE, &act, 0, 0, "tanh|relu"},
        {"--init-std", PK_CLI_DOUBLE, &init, 1e-6, 1e6, NULL},
        {"--lo", PK_CLI_DOUBLE, &lo, -1e9, 1e9, NULL},
        {"--hi", PK_CLI_DOUBLE, &hi, -1e9, 1e9, NULL},
        {"--steps", PK_CLI_LONG, &steps, 1, 10000000, NULL},
        {"--samples", PK_CLI_LONG, &samples, 2, 100000, NULL},
        {"--measure", PK_CLI_LONG, &measure, 1, 4096, NULL},
        {"--proj", PK_CLI_LONG, &proj, 1, 100000, NULL},
        {"--lr", PK_CLI_DOUBLE, &lr, 1e-9, 10, NULL},
        {"--p", PK_CLI_LONG, &p, 1, 2, NULL},
        {"--whiten", PK_CLI_DOUBLE, &whiten, 0, 1e6, NULL},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {"--out", PK_CLI_STR, &out, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int rc = pk_cli_parse(CMD, HELP, argc, argv, opts, NULL, 0, NULL);
    if (rc >= 0)
        return rc;
    pk_funcprior_net net = {(int)dim, 0, {0}, act ? PK_FUNCPRIOR_RELU : PK_FUNCPRIOR_TANH};
    if (parse_hidden(hidden, &net))
        return pk_cli_usage(CMD, "--hidden: expected 0 or up to %d comma-separated widths in [1, 4096], got '%s'",
                            PK_FUNCPRIOR_MAX_HIDDEN, hidden);
    if (!(lo < hi))
        return pk_cli_usage(CMD, "--lo must be below --hi (got %g, %g)", lo, hi);
    if (out && !*out)
        return pk_cli_usage(CMD, "--out: empty file name");
    static const pk_gp_kernel_type types[] = {PK_GP_KERNEL_SE, PK_GP_KERNEL_MATERN52, PK_GP_KERNEL_MATERN32,
                                              PK_GP_KERNEL_MATERN12, PK_GP_KERNEL_LINEAR};
    static const char *names[] = {"rbf", "matern52", "matern32", "matern12", "linear"};
    pk_gp_kernel *k = pk_gp_kernel_new(types[kernel], (size_t)dim, 0, 1);
    if (!k)
        return pk_cli_fail(CMD, "out of memory");
    double th[2] = {log(sf2), types[kernel] == PK_GP_KERNEL_LINEAR ? log(sb2) : log(ls)};
    pk_gp_kernel_set_params(k, th);
    int bt = openblas_get_num_threads();
    openblas_set_num_threads(1); /* small matrices: threads only add overhead */
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    pk_funcprior_prior pr = pk_funcprior_prior_iid(&net, init), start = pr;
    pk_funcprior_match_params mp = pk_funcprior_match_params_default();
    mp.steps = (int)steps, mp.n_samples = (int)samples, mp.n_measure = (int)measure, mp.n_proj = (int)proj;
    mp.p = (int)p, mp.lr = lr, mp.lo = lo, mp.hi = hi, mp.whiten = whiten;
    pk_err err = {0};
    double d0 = NAN, d1 = NAN;
    /* the distances before and after on one fixed grid of evaluation points, same seed */
    size_t ne = (size_t)measure;
    pk_mat *E = pk_mat_new(ne, (size_t)dim);
    int st = E ? PK_OK : PK_ENOMEM;
    pk_rng er;
    pk_rng_seed_stream(&er, seed, 1);
    for (size_t i = 0; !st && i < ne * (size_t)dim; i++)
        E->data[i] = lo + (hi - lo) * pk_rng_uniform(&er);
    pk_rng r0 = er, r1 = er;
    if (!st)
        st = pk_funcprior_distance(&net, &start, k, E, 256, (size_t)proj, (int)p, whiten, 2, &r0, &d0, &err);
    if (!st)
        st = pk_funcprior_match(&net, k, NULL, &mp, &rng, &pr, NULL, &err);
    if (!st)
        st = pk_funcprior_distance(&net, &pr, k, E, 256, (size_t)proj, (int)p, whiten, 2, &r1, &d1, &err);
    openblas_set_num_threads(bt);
    pk_mat_free(E);
    if (st) {
        pk_gp_kernel_free(k);
        return pk_cli_fail_status(CMD, st, &err);
    }
    if (out) {
        char extra[512];
        snprintf(extra, sizeof extra,
                 "{\"target\": {\"kernel\": \"%s\", \"variance\": %.17g, \"lengthscale\": %.17g, \"bias_var\": "
                 "%.17g, \"lo\": %.17g, \"hi\": %.17g}, \"distance_before\": %.17g, \"distance_after\": %.17g, "
                 "\"seed\": %llu}",
                 names[kernel], sf2, ls, sb2, lo, hi, d0, d1, (unsigned long long)seed);
        if ((st = pk_funcprior_save(out, &net, &pr, extra, &err))) {
            pk_gp_kernel_free(k);
            return pk_cli_fail_status(CMD, st, &err);
        }
    }
    pk_gp_kernel_free(k);
    int nl = pk_funcprior_nlayers(&net);
    if (json) {
        printf("{\n  \"seed\": %llu,\n  \"kernel\": \"%s\",\n", (unsigned long long)seed, names[kernel]);
        printf("  \"distance_before\": %.17g,\n  \"distance_after\": %.17g,\n", d0, d1);
        print_scales(stdout, "w_std", pr.w_std, nl, 1);
        print_scales(stdout, "b_std", pr.b_std, nl, 1);
        printf("  \"out\": ");
        if (out) {
            putchar('"');
            for (const char *c = out; *c; c++)
                printf(*c == '"' || *c == '\\' ? "\\%c" : (unsigned char)*c < 0x20 ? "?" : "%c", *c);
            printf("\"\n}\n");
        } else {
            printf("null\n}\n");
        }
    } else {
        printf("seed %llu\n", (unsigned long long)seed);
        printf("target: %s GP (variance %g, %s %g) on [%g, %g]^%ld\n", names[kernel], sf2,
               types[kernel] == PK_GP_KERNEL_LINEAR ? "bias variance" : "length scale",
               types[kernel] == PK_GP_KERNEL_LINEAR ? sb2 : ls, lo, hi, dim);
        printf("sliced W%ld distance: %.4f (N(0, %g) prior) -> %.4f (matched)\n", p, d0, init, d1);
        print_scales(stdout, "w_std", pr.w_std, nl, 0);
        print_scales(stdout, "b_std", pr.b_std, nl, 0);
        if (out)
            printf("wrote %s\n", out);
    }
    return PK_EXIT_OK;
}

const pk_cli_cmd pk_cmd_funcprior = {"funcprior", "match a BNN weight prior to a GP prior (Wasserstein); write it as JSON",
                                     cmd_main};
