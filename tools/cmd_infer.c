/* probkit infer — run the built-in models with any algorithm; summarise draws. */
#include <math.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_infer_models.h"
#include "probkit/infer.h"
#include "probkit/io.h"

static const char *HELP =
    "usage: probkit infer run MODEL [options]\n"
    "       probkit infer summary FILE [--chains N] [--json]\n"
    "       probkit infer models\n\n"
    "run: sample a built-in model and print a Stan-like summary.\n"
    "  differentiable targets (NUTS/HMC): gauss100, funnel, funnel-nc, eight-schools, logistic\n"
    "  probabilistic programs (IS/SMC/MH/enumeration): beta-bernoulli, sprinkler, hmm, linreg, lda\n"
    "  --algo A        nuts (default for targets) | hmc | smc (default for programs) | rmsmc |\n"
    "                  smc-seq (linear-time SMC on the sequential form) | mh | is | enum\n"
    "  --chains N      chains for nuts/hmc (default 4)\n"
    "  --warmup N      warm-up iterations per chain (default 1000)\n"
    "  --draws N       kept draws per chain, or MH steps (default 1000)\n"
    "  --particles N   particles for is/smc/rmsmc (default 100)\n"
    "  --size N        data size of linreg/hmm/lda/beta-bernoulli (default per model)\n"
    "  --out FILE      write draws as CSV (chain,draw,params...) atomically (nuts/hmc/mh)\n"
    "  --seed N        seed (default 42)\n"
    "  --json          machine-readable output\n\n"
    "summary: diagnostics of saved draws: a CSV with one column per parameter (an\n"
    "  optional 'chain' column splits chains; a 'draw' column is ignored), or an NPY\n"
    "  array of shape (chains, draws, params) or (draws, params).\n"
    "  --chains N      split a chain-less file into N equal chains (default 1)\n\n"
    "Diagnostics follow Vehtari et al. (2021): rank-normalised split R-hat, bulk and\n"
    "tail ESS, MCSE of the mean.\n";

/* CPU seconds of the whole process (all threads): a timing that other load
 * on the machine does not inflate, comparable with Stan's chain timers. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void print_summary(const double *x, size_t chains, size_t draws, size_t dim, char *const *names, int json,
                          FILE *f)
{
    if (json)
        fprintf(f, "{\"chains\": %zu, \"draws\": %zu, \"parameters\": [", chains, draws);
    else
        fprintf(f, "%-14s %10s %9s %9s %10s %10s %10s %8s %8s %7s\n", "parameter", "mean", "mcse", "sd", "q5", "q50",
                "q95", "ess_bulk", "ess_tail", "rhat");
    for (size_t j = 0; j < dim; j++) {
        pk_infer_diag d;
        int st = pk_infer_diag_compute(x + j, chains, draws, dim, &d);
        char nb[32];
        const char *nm = names ? names[j] : (snprintf(nb, sizeof nb, "x%zu", j), nb);
        if (json) {
            if (st)
                fprintf(f, "%s{\"name\": \"%s\", \"error\": \"%s\"}", j ? ", " : "", nm, pk_strerror(st));
            else
                fprintf(f,
                        "%s{\"name\": \"%s\", \"mean\": %.17g, \"mcse\": %.17g, \"sd\": %.17g, \"q5\": %.17g, "
                        "\"q50\": %.17g, \"q95\": %.17g, \"ess_bulk\": %.17g, \"ess_tail\": %.17g, \"rhat\": %.17g}",
                        j ? ", " : "", nm, d.mean, d.mcse_mean, d.sd, d.q05, d.q50, d.q95, d.ess_bulk, d.ess_tail,
                        d.rhat);
        } else if (st) {
            fprintf(f, "%-14s %s\n", nm, pk_strerror(st));
        } else {
            fprintf(f, "%-14s %10.4g %9.3g %9.4g %10.4g %10.4g %10.4g %8.0f %8.0f %7.3f\n", nm, d.mean, d.mcse_mean,
                    d.sd, d.q05, d.q50, d.q95, d.ess_bulk, d.ess_tail, d.rhat);
        }
    }
    if (json)
        fprintf(f, "]}");
}

static int write_draws(const char *path, const double *x, size_t chains, size_t draws, size_t dim,
                       char *const *names, pk_err *err)
{
    pk_atomic_file af;
    int st = pk_atomic_open(&af, path, err);
    if (st)
        return st;
    fprintf(af.fp, "chain,draw");
    for (size_t j = 0; j < dim; j++)
        fprintf(af.fp, ",%s", names ? names[j] : "x");
    fputc('\n', af.fp);
    for (size_t c = 0; c < chains; c++)
        for (size_t i = 0; i < draws; i++) {
            fprintf(af.fp, "%zu,%zu", c + 1, i + 1);
            for (size_t j = 0; j < dim; j++)
                fprintf(af.fp, ",%.17g", x[(c * draws + i) * dim + j]);
            fputc('\n', af.fp);
        }
    return pk_atomic_commit(&af, err);
}

typedef struct opts {
    const char *algo, *out;
    size_t chains, warmup, draws, particles, size;
    uint64_t seed;
    int json;
} opts;

static int is_target(const char *name)
{
    for (size_t i = 0; pk_target_names[i]; i++)
        if (!strcmp(name, pk_target_names[i]))
            return 1;
    return 0;
}

static int run_target(const char *name, const opts *o)
{
    pk_target t;
    pk_err err = {0};
    int st = pk_target_make(name, pk_cli_data_dir(), &t, &err);
    if (st)
        return pk_cli_fail_status("infer", st, &err);
    pk_infer_hmc_params p = pk_infer_hmc_params_default();
    p.nuts = strcmp(o->algo, "hmc") != 0;
    p.chains = o->chains;
    p.warmup = o->warmup;
    p.draws = o->draws;
    pk_infer_draws *d = NULL;
    double t0 = pk_time_now(), c0 = cpu_now();
    st = pk_infer_hmc(t.f, t.user, t.dim, NULL, &p, o->seed, &d, &err);
    double secs = pk_time_now() - t0, cpu = cpu_now() - c0;
    if (st) {
        pk_target_free(&t);
        return pk_cli_fail_status("infer", st, &err);
    }
    if (o->json) {
        printf("{\"model\": \"%s\", \"algo\": \"%s\", \"seed\": %llu, \"seconds\": %.6g, \"cpu_seconds\": %.6g, "
               "\"divergences\": %zu, \"accept_mean\": %.6g, \"grad_evals\": %zu, \"summary\": ",
               name, p.nuts ? "nuts" : "hmc", (unsigned long long)o->seed, secs, cpu, d->divergences, d->accept_mean,
               d->grad_evals);
        print_summary(d->x, d->chains, d->draws, d->dim, t.names, 1, stdout);
        printf("}\n");
    } else {
        printf("%s: %s\n%s, %zu chains x %zu draws (warm-up %zu), seed %llu, %.2f s\n", name, t.summary,
               p.nuts ? "NUTS" : "HMC", d->chains, d->draws, p.warmup, (unsigned long long)o->seed, secs);
        printf("step size %.3g, mean acceptance %.3f, %zu divergent transitions, %zu gradient evaluations\n\n",
               d->step_size[0], d->accept_mean, d->divergences, d->grad_evals);
        print_summary(d->x, d->chains, d->draws, d->dim, t.names, 0, stdout);
        if (d->divergences)
            fprintf(stderr, "probkit infer: warning: %zu divergent transitions: the posterior geometry is hard; "
                            "results may be biased (try a non-centred form)\n",
                    d->divergences);
    }
    if (o->out && (st = write_draws(o->out, d->x, d->chains, d->draws, d->dim, t.names, &err))) {
        pk_infer_draws_free(d);
        pk_target_free(&t);
        return pk_cli_fail_status("infer", st, &err);
    }
    pk_infer_draws_free(d);
    pk_target_free(&t);
    return PK_EXIT_OK;
}

static int run_program(const char *name, const opts *o)
{
    pk_program prog;
    pk_err err = {0};
    int st = pk_program_make(name, o->size, o->seed ^ 0x5eed, &prog, &err);
    if (st)
        return pk_cli_fail_status("infer", st, &err);
    pk_rng rng;
    pk_rng_seed(&rng, o->seed);
    const char *a = o->algo;
    pk_population *pop = NULL;
    double *draws = NULL, acc = NAN, t0 = pk_time_now();
    size_t no = prog.model.n_out;
    if (!strcmp(a, "is")) {
        st = pk_infer_importance(&prog.model, o->particles, &rng, &pop, &err);
    } else if (!strcmp(a, "smc") || !strcmp(a, "rmsmc")) {
        pk_smc_params sp = pk_smc_params_default();
        sp.particles = o->particles;
        sp.move_steps = !strcmp(a, "rmsmc");
        st = pk_infer_smc(&prog.model, &sp, &rng, &pop, &err);
    } else if (!strcmp(a, "smc-seq")) {
        pk_ssm m;
        void *owned;
        st = pk_program_make_ssm(name, o->size, o->seed ^ 0x5eed, &m, &owned, &err);
        if (!st) {
            pk_smc_params sp = pk_smc_params_default();
            sp.particles = o->particles;
            st = pk_infer_smc_ssm(&m, &sp, &rng, &pop, &err);
            pk_program_ssm_free(owned);
        }
    } else if (!strcmp(a, "enum")) {
        st = pk_infer_enumerate(&prog.model, 0, &pop, &err);
    } else if (!strcmp(a, "mh")) {
        draws = malloc(o->draws * (no ? no : 1) * sizeof *draws);
        st = draws ? pk_infer_mh(&prog.model, o->draws, &rng, draws, &acc, &err) : PK_ENOMEM;
    } else {
        pk_program_free(&prog);
        return pk_cli_usage("infer", "algorithm '%s' does not apply to program '%s' (is, smc, rmsmc, smc-seq, mh, "
                                     "enum)",
                            a, name);
    }
    double secs = pk_time_now() - t0;
    if (st) {
        free(draws);
        pk_program_free(&prog);
        return pk_cli_fail_status("infer", st, &err);
    }
    if (draws) {
        char **names = calloc(no, sizeof *names);
        for (size_t j = 0; names && j < no; j++)
            names[j] = (char *)prog.out_names[j];
        if (!o->json)
            printf("%s: %s\ntrace MH, %zu steps, acceptance %.3f, seed %llu, %.3f s\n\n", name, prog.summary, o->draws,
                   acc, (unsigned long long)o->seed, secs);
        else
            printf("{\"model\": \"%s\", \"algo\": \"mh\", \"seed\": %llu, \"seconds\": %.6g, \"accept\": %.6g, "
                   "\"summary\": ",
                   name, (unsigned long long)o->seed, secs, acc);
        print_summary(draws, 1, o->draws, no, names, o->json, stdout);
        if (o->json)
            printf("}\n");
        if (o->out)
            st = write_draws(o->out, draws, 1, o->draws, no, names, &err);
        free(names);
        free(draws);
    } else {
        if (o->json) {
            printf("{\"model\": \"%s\", \"algo\": \"%s\", \"seed\": %llu, \"seconds\": %.6g, \"n\": %zu, "
                   "\"log_evidence\": %.17g, \"ess\": %.6g, \"means\": {",
                   name, a, (unsigned long long)o->seed, secs, pop->n, pop->log_z, pk_population_ess(pop));
            for (size_t j = 0; j < no; j++)
                printf("%s\"%s\": %.17g", j ? ", " : "", prog.out_names[j], pk_population_mean(pop, j));
            printf("}}\n");
        } else {
            printf("%s: %s\n%s, %zu %s, seed %llu, %.3f s\nlog evidence %.6g, ESS %.1f\n\n", name, prog.summary, a,
                   pop->n, strcmp(a, "enum") ? "particles" : "paths", (unsigned long long)o->seed, secs, pop->log_z,
                   pk_population_ess(pop));
            for (size_t j = 0; j < no; j++)
                printf("E[%s] = %.6g\n", prog.out_names[j], pk_population_mean(pop, j));
        }
        pk_population_free(pop);
    }
    pk_program_free(&prog);
    return st ? pk_cli_fail_status("infer", st, &err) : PK_EXIT_OK;
}

/* Draws from CSV (columns = parameters; 'chain' splits; 'draw' ignored) or NPY. */
static int summary(const char *path, size_t chains, int json)
{
    pk_err err = {0};
    size_t n = strlen(path);
    double *x = NULL;
    size_t C = chains, N = 0, D = 0;
    char **names = NULL;
    int st;
    if (n > 4 && !strcmp(path + n - 4, ".npy")) {
        pk_array *a;
        if ((st = pk_npy_read(path, &a, &err)))
            return pk_cli_fail_status("infer", st, &err);
        if (a->ndim == 3) {
            C = (size_t)a->shape[0], N = (size_t)a->shape[1], D = (size_t)a->shape[2];
        } else if (a->ndim == 2) {
            N = (size_t)a->shape[0] / C, D = (size_t)a->shape[1];
        } else {
            pk_array_free(a);
            return pk_cli_fail("infer", "%s: expected a (chains, draws, params) or (draws, params) array, got %d "
                                        "dimensions",
                               path, a->ndim);
        }
        st = pk_array_to_f64(a, &x);
        pk_array_free(a);
        if (st)
            return pk_cli_fail("infer", "%s: %s", path, pk_strerror(st));
    } else {
        pk_table *t;
        pk_csv_opts o = pk_csv_opts_default();
        if ((st = pk_csv_read(path, &o, &t, &err)))
            return pk_cli_fail_status("infer", st, &err);
        int ch = pk_table_find(t, "chain"), dr = pk_table_find(t, "draw");
        D = t->ncols - (ch >= 0) - (dr >= 0);
        if (D == 0 || t->nrows == 0) {
            pk_table_free(t);
            return pk_cli_fail("infer", "%s: no parameter columns or no rows", path);
        }
        for (size_t j = 0; j < t->ncols; j++)
            if (t->categorical[j]) {
                pk_table_free(t);
                return pk_cli_fail("infer", "%s: column '%s' is not numeric", path, t->names[j]);
            }
        size_t rows = t->nrows;
        if (D > SIZE_MAX / sizeof(double) / rows) {
            pk_table_free(t);
            return pk_cli_fail("infer", "%s: too large", path);
        }
        if (ch >= 0) { /* chains must be contiguous and of equal length */
            C = 1;
            for (size_t i = 1; i < rows; i++)
                C += t->values[i * t->ncols + ch] != t->values[(i - 1) * t->ncols + ch];
        }
        if (rows % C) {
            pk_table_free(t);
            return pk_cli_fail("infer", "%s: %zu rows do not split into %zu equal chains", path, rows, C);
        }
        N = rows / C;
        x = malloc(rows * D * sizeof *x);
        names = calloc(D, sizeof *names);
        if (!x || !names) {
            pk_table_free(t);
            free(x);
            free(names);
            return pk_cli_fail("infer", "out of memory");
        }
        for (size_t i = 0, k = 0; i < rows; i++)
            for (size_t j = 0; j < t->ncols; j++)
                if ((int)j != ch && (int)j != dr)
                    x[k++] = t->values[i * t->ncols + j];
        for (size_t j = 0, k = 0; j < t->ncols; j++)
            if ((int)j != ch && (int)j != dr)
                names[k++] = strdup(t->names[j]);
        pk_table_free(t);
    }
    if (N < 4) {
        free(x);
        return pk_cli_fail("infer", "%s: need at least 4 draws per chain, got %zu", path, N);
    }
    if (!pk_all_finite(x, C * N * D)) {
        free(x);
        return pk_cli_fail("infer", "%s: draws contain NaN or infinite values", path);
    }
    if (json)
        printf("{\"file\": \"%s\", \"summary\": ", path);
    else
        printf("%s: %zu chains x %zu draws, %zu parameters\n\n", path, C, N, D);
    print_summary(x, C, N, D, names, json, stdout);
    if (json)
        printf("}\n");
    if (names)
        for (size_t j = 0; j < D; j++)
            free(names[j]);
    free(names);
    free(x);
    return PK_EXIT_OK;
}

static int cmd_main(int argc, char **argv)
{
    if (argc < 2)
        return pk_cli_usage("infer", "missing subcommand (run, summary, models)");
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        fputs(HELP, stdout);
        return PK_EXIT_OK;
    }
    if (!strcmp(sub, "models")) {
        printf("differentiable targets (nuts, hmc):\n");
        for (size_t i = 0; pk_target_names[i]; i++)
            printf("  %s\n", pk_target_names[i]);
        printf("probabilistic programs (is, smc, rmsmc, mh, enum; smc-seq for linreg, hmm, lda):\n");
        for (size_t i = 0; pk_program_names[i]; i++)
            printf("  %s\n", pk_program_names[i]);
        return PK_EXIT_OK;
    }
    opts o = {NULL, NULL, 4, 1000, 1000, 100, 0, PK_CLI_DEFAULT_SEED, 0};
    long chains = 0, warmup = 1000, draws = 1000, particles = 100, size = 0; /* chains 0: not given */
    const char *pos = NULL;
    const pk_cli_opt table[] = {
        {"--json", PK_CLI_FLAG, &o.json, 0, 0, NULL},
        {"--algo", PK_CLI_STR, &o.algo, 0, 0, NULL},
        {"--out", PK_CLI_STR, &o.out, 0, 0, NULL},
        {"--seed", PK_CLI_U64, &o.seed, 0, 0, NULL},
        {"--chains", PK_CLI_LONG, &chains, 1, 100000000, NULL},
        {"--warmup", PK_CLI_LONG, &warmup, 0, 100000000, NULL},
        {"--draws", PK_CLI_LONG, &draws, 1, 100000000, NULL},
        {"--particles", PK_CLI_LONG, &particles, 1, 100000000, NULL},
        {"--size", PK_CLI_LONG, &size, 1, 100000000, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    /* argv[1] is the subcommand: parse what follows it */
    int rc = pk_cli_parse("infer", HELP, argc - 1, argv + 1, table, &pos, 1, NULL);
    if (rc >= 0)
        return rc;
    int chains_given = chains > 0;
    if (chains_given)
        o.chains = (size_t)chains;
    o.warmup = (size_t)warmup;
    o.draws = (size_t)draws;
    o.particles = (size_t)particles;
    o.size = (size_t)size;
    if (!strcmp(sub, "summary")) {
        if (!pos)
            return pk_cli_usage("infer", "summary needs a file of draws");
        return summary(pos, chains_given ? o.chains : 1, o.json);
    }
    if (strcmp(sub, "run"))
        return pk_cli_usage("infer", "unknown subcommand '%s' (run, summary, models)", sub);
    if (!pos)
        return pk_cli_usage("infer", "run needs a model name (see 'probkit infer models')");
    int tgt = is_target(pos), prog = 0;
    for (size_t i = 0; pk_program_names[i]; i++)
        prog |= !strcmp(pos, pk_program_names[i]);
    if (!tgt && !prog)
        return pk_cli_usage("infer", "unknown model '%s' (see 'probkit infer models')", pos);
    if (!o.algo)
        o.algo = tgt ? "nuts" : "smc";
    if (tgt) {
        if (strcmp(o.algo, "nuts") && strcmp(o.algo, "hmc"))
            return pk_cli_usage("infer", "target '%s' takes --algo nuts or hmc", pos);
        return run_target(pos, &o);
    }
    return run_program(pos, &o);
}

const pk_cli_cmd pk_cmd_infer = {"infer", "Bayesian inference: NUTS/HMC, SMC, trace MH, enumeration; MCMC summaries",
                                 cmd_main};
