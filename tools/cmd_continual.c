/* cmd_continual.c — `probkit continual`: learn tasks in sequence with HMC and
 * a propagated posterior (Kessler et al., "On Sequential Bayesian Inference
 * for Continual Learning"), on the paper's toy problem or a CSV file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "probkit/continual.h"
#include "probkit/io.h"

static const char *HELP =
    "usage: probkit continual [FILE.csv] [options]\n\n"
    "Sequential Bayesian inference for continual learning: learn tasks one after\n"
    "another with HMC over a small ReLU network (in -> H -> H -> classes), passing\n"
    "each task's posterior on as the next task's prior through a full-covariance\n"
    "Gaussian mixture fitted to the HMC draws (components chosen on held-out draws).\n"
    "Prints the accuracy on every task seen so far after each task.\n\n"
    "Without FILE: the paper's toy problem, 5 binary tasks on ten 2-d Gaussian blobs.\n"
    "With FILE: a CSV with a header; every column but the last two is a feature,\n"
    "then `task` (integer; tasks are learnt in increasing order) and `label`\n"
    "(integer 0..C-1, C <= 16).  --test-frac of each task's rows is held out.\n\n"
    "options:\n"
    "  --method M         hmc (default): Bayesian network by HMC, see --mode |\n"
    "                     protocl: Prototypical Bayesian Continual Learning (class\n"
    "                     prototypes with conjugate updates in a learnt embedding,\n"
    "                     replay memory); uses --hidden, --epochs, --memory, --lr\n"
    "  --epochs E         protocl: passes over each task (default 3)\n"
    "  --memory M         protocl: replay memory rows (default 1000; 0 = none)\n"
    "  --lr R             protocl: Adam learning rate (default 1e-3)\n"
    "  --mode M           sequential (default) | joint (all data so far, Gaussian\n"
    "                     prior: the upper bound) | fresh (new task only, no memory)\n"
    "  --hidden H         hidden width (hmc: 1..64, default 10; protocl: default 256)\n"
    "  --tau T            Gaussian prior precision (default 10)\n"
    "  --chains C         HMC chains per task (default 2)\n"
    "  --warmup W         adaptation iterations (default 400)\n"
    "  --draws D          kept draws per chain (default 400)\n"
    "  --leapfrog L       HMC path length (default 20)\n"
    "  --max-components K largest mixture tried for the prior (default 16)\n"
    "  --n N              toy problem: training points (default 2000; 2000 test)\n"
    "  --test-frac F      CSV: held-out share of each task, in (0, 1) (default 0.3)\n"
    "  --seed S           randomness (default 42)\n"
    "  --json             machine-readable output\n";

typedef struct csv_tasks {
    size_t T, in, out;
    pk_cl_task *tasks;
    double *X;
    int32_t *y;
} csv_tasks;

static void csv_tasks_free(csv_tasks *c)
{
    free(c->tasks);
    free(c->X);
    free(c->y);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Split a CSV into tasks (ordered by task id), each task's rows shuffled and
 * the first test_frac held out. */
static int load_csv(const char *path, double test_frac, uint64_t seed, csv_tasks *out)
{
    memset(out, 0, sizeof *out);
    pk_err err;
    pk_err_clear(&err);
    pk_csv_opts o = pk_csv_opts_default();
    o.require_numeric = 1;
    pk_table *t = NULL;
    int st = pk_csv_read(path, &o, &t, &err);
    if (st != PK_OK)
        return pk_cli_fail_status("continual", st, &err);
    int rc = PK_EXIT_FAIL;
    double *ids = NULL;
    size_t n = t->nrows, nc = t->ncols;
    if (nc < 3 || n == 0) {
        pk_cli_fail("continual", "%s: need a header, at least one feature column plus `task` and `label`, and rows", path);
        goto done;
    }
    out->in = nc - 2;
    int32_t ymax = 0;
    for (size_t i = 0; i < n; i++) {
        const double *r = t->values + i * nc;
        for (size_t j = 0; j < nc; j++)
            if (!isfinite(r[j])) {
                pk_cli_fail("continual", "%s: row %zu, column '%s' is missing or not finite", path, i + 1, t->names[j]);
                goto done;
            }
        double tk = r[nc - 2], lb = r[nc - 1];
        if (tk != floor(tk) || lb != floor(lb) || lb < 0 || lb >= PK_CL_MAX_OUT) {
            pk_cli_fail("continual", "%s: row %zu: task must be an integer and label an integer in [0, %d)", path, i + 1,
                        PK_CL_MAX_OUT);
            goto done;
        }
        if ((int32_t)lb > ymax)
            ymax = (int32_t)lb;
    }
    out->out = (size_t)ymax + 1 < 2 ? 2 : (size_t)ymax + 1;
    ids = malloc(n * sizeof *ids);
    out->X = malloc(n * out->in * sizeof *out->X);
    out->y = malloc(n * sizeof *out->y);
    out->tasks = calloc(n, sizeof *out->tasks);
    if (!ids || !out->X || !out->y || !out->tasks) {
        pk_cli_fail("continual", "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        ids[i] = t->values[i * nc + nc - 2];
    qsort(ids, n, sizeof *ids, cmp_double);
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    size_t at = 0;
    size_t *rows = malloc(n * sizeof *rows);
    if (!rows) {
        pk_cli_fail("continual", "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (i && ids[i] == ids[i - 1])
            continue;
        size_t m = 0;
        for (size_t r = 0; r < n; r++)
            if (t->values[r * nc + nc - 2] == ids[i])
                rows[m++] = r;
        pk_rng_shuffle(&rng, rows, m, sizeof *rows);
        size_t nte = (size_t)floor(test_frac * (double)m + 0.5);
        if (nte < 1 || nte >= m) {
            free(rows);
            pk_cli_fail("continual", "%s: task %g has %zu rows, too few to hold out --test-frac %g", path, ids[i], m,
                        test_frac);
            goto done;
        }
        pk_cl_task *k = out->tasks + out->T++;
        for (size_t q = 0; q < m; q++) { /* test rows first, then training rows */
            const double *r = t->values + rows[q] * nc;
            memcpy(out->X + (at + q) * out->in, r, out->in * sizeof *out->X);
            out->y[at + q] = (int32_t)r[nc - 1];
        }
        k->Xte = out->X + at * out->in;
        k->yte = out->y + at;
        k->nte = nte;
        k->Xtr = out->X + (at + nte) * out->in;
        k->ytr = out->y + at + nte;
        k->ntr = m - nte;
        at += m;
    }
    free(rows);
    rc = -1;
done:
    free(ids);
    pk_table_free(t);
    if (rc != -1)
        csv_tasks_free(out);
    return rc;
}

typedef struct prog {
    size_t T;
    int quiet;
} prog;

static void on_task(size_t t, void *user)
{
    const prog *p = user;
    if (!p->quiet)
        fprintf(stderr, "probkit continual: task %zu of %zu learnt\n", t + 1, p->T);
}

/* ProtoCL over the tasks in order; acc[t*T + j] = accuracy on task j after task t. */
static int run_protocl(const pk_cl_task *tasks, size_t T, size_t in, size_t out, long hidden, long epochs, long memory,
                       double lr, uint64_t seed, int quiet, double *acc)
{
    pk_cl_protocl_opts o = pk_cl_protocl_opts_default(in, out);
    if (hidden > 0)
        o.hidden = (size_t)hidden;
    o.epochs = (size_t)epochs;
    o.memory = (size_t)memory;
    o.lr = lr;
    pk_err err;
    pk_err_clear(&err);
    pk_cl_protocl *L = NULL;
    int st = pk_cl_protocl_new(&o, seed, &L, &err);
    if (st != PK_OK)
        return pk_cli_fail_status("continual", st, &err);
    size_t nmax = 0;
    for (size_t t = 0; t < T; t++) {
        if (tasks[t].ntr > nmax)
            nmax = tasks[t].ntr;
        if (tasks[t].nte > nmax)
            nmax = tasks[t].nte;
    }
    float *X = malloc(nmax * in * sizeof *X);
    int32_t *pred = malloc(nmax * sizeof *pred);
    int rc = -1;
    if (!X || !pred) {
        rc = pk_cli_fail("continual", "out of memory");
        goto done;
    }
    for (size_t t = 0; t < T && rc < 0; t++) {
        for (size_t i = 0; i < tasks[t].ntr * in; i++)
            X[i] = (float)tasks[t].Xtr[i];
        if ((st = pk_cl_protocl_learn_task(L, X, tasks[t].ytr, tasks[t].ntr, &err)) != PK_OK) {
            rc = pk_cli_fail_status("continual", st, &err);
            break;
        }
        for (size_t j = 0; j < T; j++) {
            acc[t * T + j] = NAN;
            if (j > t)
                continue;
            for (size_t i = 0; i < tasks[j].nte * in; i++)
                X[i] = (float)tasks[j].Xte[i];
            if ((st = pk_cl_protocl_predict(L, X, tasks[j].nte, pred, &err)) != PK_OK) {
                rc = pk_cli_fail_status("continual", st, &err);
                break;
            }
            size_t right = 0;
            for (size_t i = 0; i < tasks[j].nte; i++)
                right += pred[i] == tasks[j].yte[i];
            acc[t * T + j] = (double)right / (double)tasks[j].nte;
        }
        if (!quiet)
            fprintf(stderr, "probkit continual: task %zu of %zu learnt\n", t + 1, T);
    }
done:
    free(X);
    free(pred);
    pk_cl_protocl_free(L);
    return rc;
}

static int cmd_main(int argc, char **argv)
{
    int mode = 0, json = 0, method = 0;
    long epochs = 3, memory = 1000;
    double lr = 1e-3;
    long hidden = -1, chains = 2, warmup = 400, draws = 400, leap = 20, maxk = 16, npts = 2000;
    double tau = 10, test_frac = 0.3;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    const pk_cli_opt opts[] = {
        {"--method", PK_CLI_CHOICE, &method, 0, 0, "hmc|protocl"},
        {"--mode", PK_CLI_CHOICE, &mode, 0, 0, "sequential|joint|fresh"},
        {"--hidden", PK_CLI_LONG, &hidden, 1, 100000, NULL},
        {"--epochs", PK_CLI_LONG, &epochs, 1, 100000, NULL},
        {"--memory", PK_CLI_LONG, &memory, 0, 100000000, NULL},
        {"--lr", PK_CLI_DOUBLE, &lr, 1e-9, 10, NULL},
        {"--tau", PK_CLI_DOUBLE, &tau, 1e-6, 1e6, NULL},
        {"--chains", PK_CLI_LONG, &chains, 1, 64, NULL},
        {"--warmup", PK_CLI_LONG, &warmup, 0, 1000000, NULL},
        {"--draws", PK_CLI_LONG, &draws, 4, 1000000, NULL},
        {"--leapfrog", PK_CLI_LONG, &leap, 1, 10000, NULL},
        {"--max-components", PK_CLI_LONG, &maxk, 1, 256, NULL},
        {"--n", PK_CLI_LONG, &npts, 20, 10000000, NULL},
        {"--test-frac", PK_CLI_DOUBLE, &test_frac, 1e-9, 1 - 1e-9, "a number in (0, 1)"},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {NULL, PK_CLI_FLAG, NULL, 0, 0, NULL},
    };
    const char *pos[1] = {NULL};
    int npos = 0;
    int rc = pk_cli_parse("continual", HELP, argc, argv, opts, pos, 1, &npos);
    if (rc >= 0)
        return rc;
    pk_cli_blas_serial_default(); /* ProtoCL's encoder and the HMC network are small */
    pk_err err;
    pk_err_clear(&err);
    pk_cl_toy toy;
    csv_tasks csv;
    memset(&toy, 0, sizeof toy);
    memset(&csv, 0, sizeof csv);
    const pk_cl_task *tasks;
    size_t T, in = 2, out = 2;
    if (npos) {
        rc = load_csv(pos[0], test_frac, seed, &csv);
        if (rc >= 0)
            return rc;
        tasks = csv.tasks;
        T = csv.T;
        in = csv.in;
        out = csv.out;
    } else {
        pk_rng rng;
        pk_rng_seed(&rng, seed);
        int st = pk_cl_toy_make((size_t)npts, 2000, &rng, &toy, &err);
        if (st != PK_OK)
            return pk_cli_fail_status("continual", st, &err);
        tasks = toy.tasks;
        T = toy.T;
    }
    double *acc = malloc(T * T * sizeof *acc), *nll = malloc(T * T * sizeof *nll);
    pk_cl_task_info *info = malloc(T * sizeof *info);
    static const char *MODES[3] = {"sequential", "joint", "fresh"};
    if (!acc || !nll || !info) {
        rc = pk_cli_fail("continual", "out of memory");
        goto done;
    }
    if (method == 1) {
        rc = run_protocl(tasks, T, in, out, hidden, epochs, memory, lr, seed, json, acc);
        if (rc >= 0)
            goto done;
        for (size_t t = 0; t < T; t++)
            info[t] = (pk_cl_task_info){0, NAN, 0, 0};
        goto report;
    }
    if (hidden > PK_CL_MAX_HIDDEN) {
        rc = pk_cli_usage("continual", "--hidden for hmc must be in [1, %d], got %ld", PK_CL_MAX_HIDDEN, hidden);
        goto done;
    }
    pk_cl_hmc_opts o = pk_cl_hmc_opts_default(in, out);
    if (hidden > 0)
        o.net.hidden = (size_t)hidden;
    o.tau = tau;
    o.chains = (size_t)chains;
    o.warmup = (size_t)warmup;
    o.draws = (size_t)draws;
    o.n_leapfrog = (size_t)leap;
    o.max_k = (size_t)maxk;
    prog pr = {T, json};
    int st = pk_cl_run(tasks, T, (pk_cl_mode)mode, &o, seed, acc, nll, info, on_task, &pr, &err);
    if (st != PK_OK) {
        rc = pk_cli_fail_status("continual", st, &err);
        goto done;
    }
report:;
    const char *what = method == 1 ? "protocl" : MODES[mode];
    if (json) {
        printf("{\"method\": \"%s\", \"mode\": \"%s\", \"seed\": %llu, \"tasks\": %zu, \"accuracy\": [",
               method == 1 ? "protocl" : "hmc", what, (unsigned long long)seed, T);
        for (size_t t = 0; t < T; t++) {
            printf("%s[", t ? ", " : "");
            for (size_t j = 0; j <= t; j++)
                printf("%s%.6g", j ? ", " : "", acc[t * T + j]);
            printf("]");
        }
        if (method == 0) {
            printf("], \"nll\": [");
            for (size_t t = 0; t < T; t++) {
                printf("%s[", t ? ", " : "");
                for (size_t j = 0; j <= t; j++)
                    printf("%s%.6g", j ? ", " : "", nll[t * T + j]);
                printf("]");
            }
            printf("], \"prior_components\": [");
            for (size_t t = 0; t < T; t++)
                printf("%s%zu", t ? ", " : "", info[t].components);
            printf("], \"accept\": [");
            for (size_t t = 0; t < T; t++)
                printf("%s%.4f", t ? ", " : "", info[t].accept);
        }
        printf("]}\n");
    } else {
        if (method == 1)
            printf("method protocl, seed %llu, %zu tasks, %zu classes, %ld epochs per task, memory %ld\n",
                   (unsigned long long)seed, T, out, epochs, memory);
        else
            printf("mode %s, seed %llu, %zu tasks, network %zu-%ld-%ld-%zu, %ld chains x %ld draws\n", what,
                   (unsigned long long)seed, T, in, hidden > 0 ? hidden : 10, hidden > 0 ? hidden : 10, out, chains,
                   draws);
        printf("accuracy on task j (columns) after learning task t (rows):\n      ");
        for (size_t j = 0; j < T; j++)
            printf("  task%-3zu", j + 1);
        printf(method == 1 ? "   mean\n" : "   mean   prior-k  accept\n");
        for (size_t t = 0; t < T; t++) {
            double s = 0;
            printf("t=%-3zu ", t + 1);
            for (size_t j = 0; j < T; j++) {
                if (j <= t) {
                    printf("  %7.3f", acc[t * T + j]);
                    s += acc[t * T + j];
                } else {
                    printf("  %7s", "");
                }
            }
            if (method == 1)
                printf("  %6.3f\n", s / (double)(t + 1));
            else
                printf("  %6.3f  %7zu  %6.2f\n", s / (double)(t + 1), info[t].components, info[t].accept);
        }
    }
    rc = PK_EXIT_OK;
done:
    free(acc);
    free(nll);
    free(info);
    pk_cl_toy_free(&toy);
    csv_tasks_free(&csv);
    return rc;
}

const pk_cli_cmd pk_cmd_continual = {"continual", "learn tasks in sequence with HMC and a propagated posterior prior",
                                     cmd_main};
