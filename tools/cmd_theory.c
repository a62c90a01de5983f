/* probkit theory — computable cores of learning-theory papers (see docs/theory.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "probkit/theory.h"

static const char *HELP =
    "usage: probkit theory SUBCOMMAND [options]\n\n"
    "subcommands:\n"
    "  ntk      deep NNGP / NTK between two unit inputs with inner product --xi\n"
    "           --act relu|erf|hermite:a0,a1,...  (default relu)  --depth L (default 10)\n"
    "           --xi X in [-1, 1] (default 0.5); prints the kernels (log and value)\n"
    "           and the activation's infinite-depth regime\n"
    "  rf       random-feature ridge eigenframework on the power-law task\n"
    "           (lambda_i = i^-alpha, v_i^2 = i^-beta, i <= --modes)\n"
    "           --n N (default 256)  --k K|inf (default inf)  --ridge R (default 1e-3)\n"
    "           --alpha A --beta B (default 1.5)  --noise S2 (default 0.5)  --modes M (default 10000)\n"
    "  gamp     Bayes-optimal MSE of the extensive-width quadratic network\n"
    "           --kappa K (default 0.5)  --alpha A (default 0.2)  --noise D (default 0)\n"
    "  gendiff  inductive-bias complexity (bits) of a classification data set\n"
    "           IMAGES LABELS (IDX, raw or .gz): estimates m (Levina-Bickel), delta\n"
    "           (extreme-value), R from the first --max images (default 10000)\n"
    "           --error E (default 0.001)  --n N (default: images used)  --seed S (default 42)\n\n"
    "common: --json  machine-readable output;  --help  this text\n";

static int parse_act(const char *s, pk_dual_act *a)
{
    if (!strcmp(s, "relu")) {
        pk_dual_act_relu(a);
        return 0;
    }
    if (!strcmp(s, "erf")) {
        pk_dual_act_erf(a);
        return 0;
    }
    if (strncmp(s, "hermite:", 8))
        return -1;
    double c[PK_DUAL_MAXDEG + 1];
    size_t k = 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s + 8);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (k > PK_DUAL_MAXDEG || pk_cli_parse_double(tok, &c[k]))
            return -1;
        k++;
    }
    return k == 0 || pk_dual_act_hermite(c, k - 1, a) ? -1 : 0;
}

static const char *regime_name(pk_deep_regime r)
{
    static const char *n[] = {"majority vote", "1-nearest neighbour", "singular kernel", "linear"};
    return n[r];
}

static int sub_ntk(int argc, char **argv, int json)
{
    const char *cmd = "theory ntk";
    pk_dual_act a;
    pk_dual_act_relu(&a);
    long L = 10;
    double xi = 0.5;
    for (int i = 2; i < argc; i++) {
        const char *v;
        if (pk_cli_is_opt(argv[i], "--act")) {
            if (!(v = pk_cli_optarg(cmd, argc, argv, &i)))
                return PK_EXIT_USAGE;
            if (parse_act(v, &a))
                return pk_cli_usage(cmd, "--act '%s': want relu, erf or hermite:a0,a1,... (at most %d coefficients)",
                                    v, PK_DUAL_MAXDEG + 1);
        } else if (pk_cli_is_opt(argv[i], "--depth")) {
            if (!(v = pk_cli_optarg(cmd, argc, argv, &i)) || pk_cli_parse_long(v, 0, 100000, &L))
                return pk_cli_usage(cmd, "--depth: want an integer in 0..100000");
        } else if (pk_cli_is_opt(argv[i], "--xi")) {
            if (!(v = pk_cli_optarg(cmd, argc, argv, &i)) || pk_cli_parse_double(v, &xi) || !(xi >= -1 && xi <= 1))
                return pk_cli_usage(cmd, "--xi: want a number in [-1, 1]");
        } else if (strcmp(argv[i], "--json"))
            return pk_cli_usage(cmd, "unknown option '%s'", argv[i]);
    }
    pk_deep_val nv, kv;
    int st = pk_deep_kernel(&a, xi, (int)L, &nv, &kv);
    if (st)
        return pk_cli_fail_status(cmd, st, NULL);
    double alpha;
    pk_deep_regime rg = pk_dual_regime(&a, &alpha);
    if (json)
        printf("{\"depth\": %ld, \"xi\": %.17g, \"nngp_sign\": %d, \"nngp_log\": %.17g, \"ntk_sign\": %d, "
               "\"ntk_log\": %.17g, \"regime\": \"%s\", \"alpha\": %.17g}\n",
               L, xi, nv.sign, nv.logabs, kv.sign, kv.logabs, regime_name(rg), isnan(alpha) ? -1.0 : alpha);
    else {
        printf("depth %ld, xi %.6g\n", L, xi);
        printf("NNGP  %s%.6g  (log|.| = %.10g)\n", nv.sign < 0 ? "-" : "", exp(nv.logabs), nv.logabs);
        printf("NTK   %s%.6g  (log|.| = %.10g)\n", kv.sign < 0 ? "-" : "", exp(kv.logabs), kv.logabs);
        printf("infinite-depth regime: %s", regime_name(rg));
        if (!isnan(alpha))
            printf(" (|x - z|^-%.4g)", alpha);
        printf("\n");
    }
    return PK_EXIT_OK;
}

static int num_opt(const char *cmd, int argc, char **argv, int *i, double *out, double lo)
{
    const char *v = pk_cli_optarg(cmd, argc, argv, i);
    if (!v)
        return -1;
    if (!strcmp(v, "inf")) {
        *out = INFINITY;
        return 0;
    }
    if (pk_cli_parse_double(v, out) || !(*out >= lo)) {
        pk_cli_usage(cmd, "%s: want a number >= %g", argv[*i - (strchr(argv[*i], '=') ? 0 : 1)], lo);
        return -1;
    }
    return 0;
}

static int sub_rf(int argc, char **argv, int json)
{
    const char *cmd = "theory rf";
    double n = 256, k = INFINITY, ridge = 1e-3, al = 1.5, be = 1.5, noise = 0.5, M = 10000;
    for (int i = 2; i < argc; i++) {
        double *t = pk_cli_is_opt(argv[i], "--n")       ? &n
                    : pk_cli_is_opt(argv[i], "--k")     ? &k
                    : pk_cli_is_opt(argv[i], "--ridge") ? &ridge
                    : pk_cli_is_opt(argv[i], "--alpha") ? &al
                    : pk_cli_is_opt(argv[i], "--beta")  ? &be
                    : pk_cli_is_opt(argv[i], "--noise") ? &noise
                    : pk_cli_is_opt(argv[i], "--modes") ? &M
                                                         : NULL;
        if (!t) {
            if (strcmp(argv[i], "--json"))
                return pk_cli_usage(cmd, "unknown option '%s'", argv[i]);
            continue;
        }
        if (num_opt(cmd, argc, argv, &i, t, 0))
            return PK_EXIT_USAGE;
    }
    if (!(M >= 1 && M <= 1e7) || isinf(n) || !(ridge > 0))
        return pk_cli_usage(cmd, "--modes must be in 1..1e7, --n finite, --ridge > 0");
    size_t m = (size_t)M;
    double *lam = malloc(m * sizeof *lam), *v2 = malloc(m * sizeof *v2);
    if (!lam || !v2) {
        free(lam), free(v2);
        return pk_cli_fail(cmd, "out of memory");
    }
    for (size_t i = 0; i < m; i++)
        lam[i] = pow((double)i + 1, -al), v2[i] = pow((double)i + 1, -be);
    pk_rf_theory t;
    int st = pk_rf_theory_eval(lam, v2, m, n, k, ridge, noise, &t);
    free(lam), free(v2);
    if (st)
        return pk_cli_fail(cmd, "no solution for n = %g, k = %g, ridge = %g: %s", n, k, ridge, pk_strerror(st));
    if (json)
        printf("{\"test_mse\": %.17g, \"train_mse\": %.17g, \"kappa\": %.17g, \"gamma\": %.17g, \"e0\": %.17g}\n",
               t.test_mse, t.train_mse, t.kappa, t.gamma, t.e0);
    else
        printf("test MSE %.6g  train MSE %.6g  kappa %.6g  gamma %.6g  E0 %.6g\n", t.test_mse, t.train_mse, t.kappa,
               t.gamma, t.e0);
    return PK_EXIT_OK;
}

static int sub_gamp(int argc, char **argv, int json)
{
    const char *cmd = "theory gamp";
    double kappa = 0.5, alpha = 0.2, noise = 0;
    for (int i = 2; i < argc; i++) {
        double *t = pk_cli_is_opt(argv[i], "--kappa")   ? &kappa
                    : pk_cli_is_opt(argv[i], "--alpha") ? &alpha
                    : pk_cli_is_opt(argv[i], "--noise") ? &noise
                                                         : NULL;
        if (!t) {
            if (strcmp(argv[i], "--json"))
                return pk_cli_usage(cmd, "unknown option '%s'", argv[i]);
            continue;
        }
        if (num_opt(cmd, argc, argv, &i, t, 0))
            return PK_EXIT_USAGE;
    }
    if (!(kappa > 0) || !(alpha > 0) || isinf(kappa) || isinf(alpha) || isinf(noise))
        return pk_cli_usage(cmd, "--kappa and --alpha must be positive and finite");
    double mse;
    int st = pk_gamp_theory(kappa, alpha, noise, &mse);
    if (st)
        return pk_cli_fail_status(cmd, st, NULL);
    if (json)
        printf("{\"kappa\": %.17g, \"alpha\": %.17g, \"noise\": %.17g, \"mse\": %.17g, \"test_error\": %.17g}\n", kappa,
               alpha, noise, mse, 2 * mse + noise);
    else
        printf("Bayes-optimal MSE of S* %.6g (network test error 2 mse + noise = %.6g); perfect recovery at alpha = "
               "%.6g\n",
               mse, 2 * mse + noise, kappa < 1 ? kappa - kappa * kappa / 2 : 0.5);
    return PK_EXIT_OK;
}

static int sub_gendiff(int argc, char **argv, int json)
{
    const char *cmd = "theory gendiff";
    const char *files[2] = {NULL, NULL};
    int nf = 0;
    double err = 0.001, n = 0, maxn = 10000;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    for (int i = 2; i < argc; i++) {
        if (pk_cli_is_opt(argv[i], "--error")) {
            if (num_opt(cmd, argc, argv, &i, &err, 0) || !(err > 0 && err < 1))
                return pk_cli_usage(cmd, "--error: want a number in (0, 1)");
        } else if (pk_cli_is_opt(argv[i], "--n")) {
            if (num_opt(cmd, argc, argv, &i, &n, 1) || isinf(n))
                return PK_EXIT_USAGE;
        } else if (pk_cli_is_opt(argv[i], "--max")) {
            if (num_opt(cmd, argc, argv, &i, &maxn, 100) || isinf(maxn))
                return PK_EXIT_USAGE;
        } else if (pk_cli_is_opt(argv[i], "--seed")) {
            const char *v = pk_cli_optarg(cmd, argc, argv, &i);
            if (!v || pk_cli_parse_u64(v, &seed))
                return pk_cli_usage(cmd, "--seed: want a non-negative integer");
        } else if (!strcmp(argv[i], "--json"))
            continue;
        else if (argv[i][0] == '-' && argv[i][1])
            return pk_cli_usage(cmd, "unknown option '%s'", argv[i]);
        else if (nf < 2)
            files[nf++] = argv[i];
        else
            return pk_cli_usage(cmd, "too many arguments");
    }
    if (nf != 2)
        return pk_cli_usage(cmd, "want IMAGES and LABELS (IDX files)");
    pk_mat *X;
    int *lab;
    pk_err e = {0};
    int st = pk_idx_load(files[0], files[1], (size_t)maxn, &X, &lab, &e);
    if (st)
        return pk_cli_fail_status(cmd, st, &e);
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    double m, delta, R = pk_data_radius(X);
    int classes = 0, seen[256] = {0};
    for (size_t i = 0; i < X->rows; i++)
        if (lab[i] >= 0 && lab[i] < 256 && !seen[lab[i]]++)
            classes++;
    st = pk_levina_bickel(X, 500, 5, &rng, &m);
    if (!st)
        st = pk_class_separation_evt(X, lab, 500000, 2500, &rng, &delta);
    size_t rows = X->rows;
    pk_mat_free(X);
    free(lab);
    if (st)
        return pk_cli_fail(cmd, "%s: estimators failed: %s", files[0], pk_strerror(st));
    if (classes < 2)
        return pk_cli_fail(cmd, "%s: fewer than two classes", files[1]);
    pk_gendiff_in in = {err, n > 0 ? n : (double)rows, fmax(1.0, round(m)), R, classes, delta, classes - 1, 1};
    double bits, lb;
    if ((st = pk_gendiff_bits(&in, &bits, &lb)))
        return pk_cli_fail_status(cmd, st, NULL);
    if (json)
        printf("{\"seed\": %llu, \"images\": %zu, \"classes\": %d, \"m\": %.17g, \"delta\": %.17g, \"R\": %.17g, "
               "\"error\": %.17g, \"n\": %.17g, \"log10_bits\": %.17g}\n",
               (unsigned long long)seed, rows, classes, m, delta, R, err, in.n, lb);
    else
        printf("seed %llu, %zu images, %d classes\nintrinsic dimension %.3f (used %g), separation %.4g, radius %.4g\n"
               "inductive-bias complexity: 10^%.3f bits (error %g, n %g)\n",
               (unsigned long long)seed, rows, classes, m, in.m, delta, R, lb, err, in.n);
    return PK_EXIT_OK;
}

static int cmd_main(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(HELP, stdout);
            return PK_EXIT_OK;
        }
        if (!strcmp(argv[i], "--json"))
            json = 1;
    }
    if (argc < 2)
        return pk_cli_usage("theory", "want a subcommand: ntk, rf, gamp or gendiff");
    if (!strcmp(argv[1], "ntk"))
        return sub_ntk(argc, argv, json);
    if (!strcmp(argv[1], "rf"))
        return sub_rf(argc, argv, json);
    if (!strcmp(argv[1], "gamp"))
        return sub_gamp(argc, argv, json);
    if (!strcmp(argv[1], "gendiff"))
        return sub_gendiff(argc, argv, json);
    return pk_cli_usage("theory", "unknown subcommand '%s' (ntk, rf, gamp, gendiff)", argv[1]);
}

const pk_cli_cmd pk_cmd_theory = {"theory", "learning-theory cores: deep NTK/NNGP, RF ridge risk, GAMP-RIE, task difficulty",
                                  cmd_main};
