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
    "           --run D: also run GAMP-RIE on the network's own design at dimension D\n"
    "           (m = kappa D, n = alpha D^2)  --iters T (default 100)  --damping W (default 0.5)\n"
    "           --seed S (default 42)\n"
    "  gendiff  inductive-bias complexity (bits) of a classification data set\n"
    "           IMAGES LABELS (IDX, raw or .gz): estimates m (Levina-Bickel), delta\n"
    "           (extreme-value), R from the first --max images (default 10000), with the\n"
    "           authors' settings (k = 5 neighbours; 1e6 pairs, tail k = 500) repeated\n"
    "           --reps R times (default 5) for 95% t-intervals on m, delta and the bits\n"
    "           --error E (default 0.001)  --n N (default: images used)  --seed S (default 42)\n"
    "           --pop N: extrapolate delta to a population of N images (default: images used)\n"
    "           --exact: delta = the exact smallest distance between differently labelled\n"
    "           images over all pairs (the authors' MNIST constant; e.g. --max 60000 on the\n"
    "           training set); the interval then comes from m alone\n\n"
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

static int sub_ntk(int argc, char **argv)
{
    const char *cmd = "theory ntk", *act = NULL;
    pk_dual_act a;
    pk_dual_act_relu(&a);
    long L = 10;
    double xi = 0.5;
    int json = 0;
    const pk_cli_opt opts[] = {
        {"--act", PK_CLI_STR, &act, 0, 0, NULL},
        {"--depth", PK_CLI_LONG, &L, 0, 100000, NULL},
        {"--xi", PK_CLI_DOUBLE, &xi, -1, 1, NULL},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(cmd, HELP, argc - 1, argv + 1, opts, NULL, 0, NULL);
    if (prc >= 0)
        return prc;
    if (act && parse_act(act, &a))
        return pk_cli_usage(cmd, "--act '%s': want relu, erf or hermite:a0,a1,... (at most %d coefficients)", act,
                            PK_DUAL_MAXDEG + 1);
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

/* Finite numbers only; "inf" is spelled out where an option accepts it (rf --k). */
#define PK_BIG 1e300

static int sub_rf(int argc, char **argv)
{
    const char *cmd = "theory rf", *ks = NULL;
    double n = 256, k = INFINITY, ridge = 1e-3, al = 1.5, be = 1.5, noise = 0.5, M = 10000;
    int json = 0;
    const pk_cli_opt opts[] = {
        {"--n", PK_CLI_DOUBLE, &n, 0, PK_BIG, "a finite number >= 0"},
        {"--k", PK_CLI_STR, &ks, 0, 0, NULL},
        {"--ridge", PK_CLI_DOUBLE, &ridge, 1e-300, PK_BIG, "a number > 0"},
        {"--alpha", PK_CLI_DOUBLE, &al, 0, PK_BIG, "a number >= 0"},
        {"--beta", PK_CLI_DOUBLE, &be, 0, PK_BIG, "a number >= 0"},
        {"--noise", PK_CLI_DOUBLE, &noise, 0, PK_BIG, "a number >= 0"},
        {"--modes", PK_CLI_DOUBLE, &M, 1, 1e7, NULL},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(cmd, HELP, argc - 1, argv + 1, opts, NULL, 0, NULL);
    if (prc >= 0)
        return prc;
    if (ks && strcmp(ks, "inf") && (pk_cli_parse_double(ks, &k) || !(k >= 0)))
        return pk_cli_usage(cmd, "--k needs a number >= 0 or inf, got '%s'", ks);
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

static int sub_gamp(int argc, char **argv)
{
    const char *cmd = "theory gamp";
    double kappa = 0.5, alpha = 0.2, noise = 0, run_d = 0, iters = 100, damping = 0.5;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    int json = 0;
    const pk_cli_opt opts[] = {
        {"--kappa", PK_CLI_DOUBLE, &kappa, 1e-300, PK_BIG, "a positive finite number"},
        {"--alpha", PK_CLI_DOUBLE, &alpha, 1e-300, PK_BIG, "a positive finite number"},
        {"--noise", PK_CLI_DOUBLE, &noise, 0, PK_BIG, "a finite number >= 0"},
        {"--run", PK_CLI_DOUBLE, &run_d, 0, 2000, NULL},
        {"--iters", PK_CLI_DOUBLE, &iters, 1, 100000, NULL},
        {"--damping", PK_CLI_DOUBLE, &damping, 0, 1 - 1e-16, "a number in [0, 1)"},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(cmd, HELP, argc - 1, argv + 1, opts, NULL, 0, NULL);
    if (prc >= 0)
        return prc;
    if (run_d != 0 && (run_d < 4 || run_d > 2000 || run_d != floor(run_d)))
        return pk_cli_usage(cmd, "--run: want an integer dimension in [4, 2000]");
    if (iters < 1 || iters > 100000 || iters != floor(iters))
        return pk_cli_usage(cmd, "--iters: want an integer in [1, 100000]");
    double mse;
    int st = pk_gamp_theory(kappa, alpha, noise, &mse);
    if (st)
        return pk_cli_fail_status(cmd, st, NULL);
    double amp = NAN;
    size_t d = (size_t)run_d, m = (size_t)fmax(1.0, round(kappa * run_d)), n = (size_t)(alpha * run_d * run_d);
    if (d) {
        if (n < 1)
            return pk_cli_usage(cmd, "--run: alpha D^2 must be at least 1");
        pk_rng rng;
        pk_rng_seed(&rng, seed);
        pk_gamp_problem *p;
        if ((st = pk_gamp_problem_new(d, m, n, noise, PK_GAMP_RANK1, &rng, &p)))
            return pk_cli_fail_status(cmd, st, NULL);
        pk_mat *S = pk_mat_new(d, d);
        double *tr = malloc((size_t)iters * sizeof *tr);
        st = S && tr ? pk_gamp_rie(p, (size_t)iters, damping, S, tr) : PK_ENOMEM;
        if (!st)
            amp = tr[(size_t)iters - 1];
        pk_mat_free(S);
        free(tr);
        pk_gamp_problem_free(p);
        if (st)
            return pk_cli_fail_status(cmd, st, NULL);
    }
    if (json) {
        printf("{\"kappa\": %.17g, \"alpha\": %.17g, \"noise\": %.17g, \"mse\": %.17g, \"test_error\": %.17g", kappa,
               alpha, noise, mse, 2 * mse + noise);
        if (d)
            printf(", \"seed\": %llu, \"d\": %zu, \"m\": %zu, \"n\": %zu, \"gamp_rie_mse\": %.17g",
                   (unsigned long long)seed, d, m, n, amp);
        printf("}\n");
    } else {
        printf("Bayes-optimal MSE of S* %.6g (network test error 2 mse + noise = %.6g); perfect recovery at alpha = "
               "%.6g\n",
               mse, 2 * mse + noise, kappa < 1 ? kappa - kappa * kappa / 2 : 0.5);
        if (d)
            printf("GAMP-RIE on the network's design (seed %llu, d = %zu, m = %zu, n = %zu, %g iterations, damping "
                   "%g): MSE %.6g\n",
                   (unsigned long long)seed, d, m, n, iters, damping, amp);
    }
    return PK_EXIT_OK;
}

static int sub_gendiff(int argc, char **argv)
{
    const char *cmd = "theory gendiff";
    const char *files[2] = {NULL, NULL};
    int nf = 0, json = 0, exact = 0;
    double err = 0.001, n = 0, maxn = 10000, reps = 5, pop = 0;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    const pk_cli_opt opts[] = {
        {"--reps", PK_CLI_DOUBLE, &reps, 2, 30, "an integer in [2, 30]"},
        {"--pop", PK_CLI_DOUBLE, &pop, 0, PK_BIG, "a finite number >= 0"},
        {"--error", PK_CLI_DOUBLE, &err, 1e-300, 1 - 1e-16, "a number in (0, 1)"},
        {"--n", PK_CLI_DOUBLE, &n, 1, PK_BIG, "a finite number >= 1"},
        {"--max", PK_CLI_DOUBLE, &maxn, 100, PK_BIG, "a finite number >= 100"},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {"--exact", PK_CLI_FLAG, &exact, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(cmd, HELP, argc - 1, argv + 1, opts, files, 2, &nf);
    if (prc >= 0)
        return prc;
    if (exact && pop > 0)
        return pk_cli_usage(cmd, "--exact measures delta on the images given; it cannot extrapolate (--pop)");
    if (reps != floor(reps))
        return pk_cli_usage(cmd, "--reps needs an integer in [2, 30], got %g", reps);
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
    double ms[30], ds[30], R = pk_data_radius(X);
    int classes = 0, seen[256] = {0};
    for (size_t i = 0; i < X->rows; i++)
        if (lab[i] >= 0 && lab[i] < 256 && !seen[lab[i]]++)
            classes++;
    size_t R_ = (size_t)reps, nq = X->rows < 1000 ? X->rows : 1000;
    double dexact = NAN;
    size_t pair[2] = {0, 0};
    st = exact ? pk_class_separation_exact(X, lab, 32, 0, &dexact, pair, NULL) : PK_OK;
    for (size_t r = 0; r < R_ && !st; r++) {
        st = pk_levina_bickel(X, nq, 5, &rng, &ms[r]);
        if (!st)
            st = exact ? (ds[r] = dexact, PK_OK) : pk_class_separation_evt_pop(X, lab, 1000000, 500, pop, &rng, &ds[r]);
    }
    size_t rows = X->rows;
    pk_mat_free(X);
    free(lab);
    if (st)
        return pk_cli_fail(cmd, "%s: estimators failed: %s", files[0], pk_strerror(st));
    if (classes < 2)
        return pk_cli_fail(cmd, "%s: fewer than two classes", files[1]);
    /* 95% t-intervals over the repetitions */
    static const double t975[] = {0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262};
    double tq = R_ - 1 < 10 ? t975[R_ - 1] : 2.1, m, vm, delta, vd;
    pk_mean_var(ms, R_, &m, &vm);
    pk_mean_var(ds, R_, &delta, &vd);
    double hm = tq * sqrt(vm / (double)R_), hd = tq * sqrt(vd / (double)R_);
    double nn = n > 0 ? n : pop > 0 ? pop : (double)rows, lb, lo, hi, bits;
    pk_gendiff_in in = {err, nn, fmax(1.0, round(m)), R, classes, delta, classes - 1, 1};
    if ((st = pk_gendiff_bits(&in, &bits, &lb)))
        return pk_cli_fail_status(cmd, st, NULL);
    /* bits fall with delta and rise with m: the interval's ends pair them so */
    pk_gendiff_in a = in, b = in;
    a.m = fmax(1.0, round(m - hm)), a.delta = delta + hd;
    b.m = fmax(1.0, round(m + hm)), b.delta = fmax(delta - hd, 1e-6 * delta);
    if (pk_gendiff_bits(&a, &bits, &lo) || pk_gendiff_bits(&b, &bits, &hi))
        lo = hi = NAN;
    if (json)
        printf("{\"seed\": %llu, \"images\": %zu, \"classes\": %d, \"reps\": %zu, \"m\": %.17g, \"m_ci\": [%.17g, "
               "%.17g], \"delta\": %.17g, \"delta_ci\": [%.17g, %.17g], \"R\": %.17g, \"error\": %.17g, \"n\": %.17g, "
               "\"log10_bits\": %.17g, \"log10_bits_ci\": [%.17g, %.17g], \"delta_method\": \"%s\"}\n",
               (unsigned long long)seed, rows, classes, R_, m, m - hm, m + hm, delta, delta - hd, delta + hd, R, err,
               nn, lb, lo, hi, exact ? "exact" : "extreme-value");
    else
        printf("seed %llu, %zu images, %d classes, %zu repetitions\n"
               "intrinsic dimension %.3f [%.3f, %.3f] (used %g), separation %.4g [%.4g, %.4g], radius %.4g\n"
               "inductive-bias complexity: 10^%.3f bits, 95%% interval [10^%.3f, 10^%.3f] (error %g, n %g)\n",
               (unsigned long long)seed, rows, classes, R_, m, m - hm, m + hm, in.m, delta, delta - hd, delta + hd, R, lb,
               lo, hi, err, nn);
    if (!json && exact)
        printf("separation: exact minimum over all pairs, images %zu and %zu (0-based)\n", pair[0], pair[1]);
    return PK_EXIT_OK;
}

static int cmd_main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(HELP, stdout);
            return PK_EXIT_OK;
        }
    if (argc < 2)
        return pk_cli_usage("theory", "want a subcommand: ntk, rf, gamp or gendiff");
    if (!strcmp(argv[1], "ntk"))
        return sub_ntk(argc, argv);
    if (!strcmp(argv[1], "rf"))
        return sub_rf(argc, argv);
    if (!strcmp(argv[1], "gamp"))
        return sub_gamp(argc, argv);
    if (!strcmp(argv[1], "gendiff"))
        return sub_gendiff(argc, argv);
    return pk_cli_usage("theory", "unknown subcommand '%s' (ntk, rf, gamp, gendiff)", argv[1]);
}

const pk_cli_cmd pk_cmd_theory = {"theory", "learning-theory cores: deep NTK/NNGP, RF ridge risk, GAMP-RIE, task difficulty",
                                  cmd_main};
