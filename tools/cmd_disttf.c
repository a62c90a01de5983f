/* probkit disttf — Distribution Transformers: train on a task family, check
 * against the exact / grid posterior, and update a user's mixture prior with
 * data from CSV files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "probkit/disttf.h"
#include "probkit/io.h"
#include "probkit/progress.h"

static const char *CMD = "disttf";
static const char *HELP =
    "usage: probkit disttf train --out MODEL.safetensors [options]\n"
    "       probkit disttf eval MODEL.safetensors [--problems N] [--n N] [--rounds R] [--json]\n"
    "       probkit disttf infer MODEL.safetensors --prior PRIOR.json --data OBS.csv [--batch B]\n"
    "                            [--out POST.json]\n\n"
    "A Distribution Transformer (Whittle et al. 2025) maps a Gaussian-mixture\n"
    "prior and a set of observations to a Gaussian-mixture posterior in one\n"
    "forward pass: prior components are tokens that attend to each other and to\n"
    "the encoded data.  The posterior has the prior's form, so it can be fed back\n"
    "as the next prior (sequential inference), and the prior can change at test\n"
    "time without retraining.\n\n"
    "tasks (--task):\n"
    "  linear   theta in R^d, observations y = theta + N(0, noise^2 I); the exact\n"
    "           posterior is a mixture, so the network is checked against truth\n"
    "  range    2-d position from range sensors: rows (sensor x, sensor y, range),\n"
    "           range = |theta - sensor| + N(0, noise^2); checked against a grid\n\n"
    "train options:\n"
    "  --task T         linear (default) or range      --d D  linear: dimension 1..4 (2)\n"
    "  --noise S        observation noise sd (linear 1, range 0.3)\n"
    "  --K K            mixture components in and out (4)\n"
    "  --d-model C (64) --heads H (4) --enc L (2 data layers) --dec L (3 component layers)\n"
    "  --steps N (2000) --batch B (64 problems) --n-max N (8 observations, 1..N per step)\n"
    "  --lr R (1e-3)    --seed N (42)\n"
    "  --seq-frac F     share of steps trained on the network's own posterior after a\n"
    "                   first batch of data, as the prior (0.5; for sequential use)\n"
    "eval: fresh problems from the model's task (random priors, theta drawn from\n"
    "  them): -log q(theta) of the network's posterior against the exact (linear)\n"
    "  or grid (range) posterior, the best single Gaussian and the prior.\n"
    "  --problems N (500) --n N (4 observations per round) --rounds R (1: the\n"
    "  network's posterior is the next round's prior) --grid G (400) --seed N --json\n"
    "infer: PRIOR.json is {\"weights\": [...], \"means\": [[...], ...], \"covariances\":\n"
    "  [[[...]], ...]} with at most K components (fewer are padded exactly by\n"
    "  splitting the heaviest one); OBS.csv has a header and one observation per\n"
    "  row (linear: d columns; range: sensor_x, sensor_y, range).  --batch B feeds\n"
    "  the rows B at a time, each posterior the next prior (default: all at once).\n"
    "  Writes the posterior in the same JSON form (stdout, or --out atomically).\n\n"
    "exit status: 0 ok, 1 bad file or data (names it), 2 usage.\n";

static int progress_cb(int step, int steps, double loss, void *user)
{
    pk_progress_update((pk_progress *)user, (uint64_t)step, "-log q %.4f", loss);
    (void)steps;
    return 0;
}

static int cmd_train(int argc, char **argv)
{
    const char *out = NULL;
    long d = 2, K = 4, d_model = 64, heads = 4, enc = 2, dec = 3, steps = 2000, batch = 64, n_max = 8;
    int task_kind = 0;
    double noise = NAN, lr = 1e-3, seq_frac = 0.5;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    const pk_cli_opt opts[] = {
        {"--out", PK_CLI_STR, &out, 0, 0, NULL},
        {"--task", PK_CLI_CHOICE, &task_kind, 0, 0, "linear|range"},
        {"--d", PK_CLI_LONG, &d, 1, PK_DTF_MAXD, NULL},
        {"--noise", PK_CLI_DOUBLE, &noise, 1e-6, 1e6, NULL},
        {"--K", PK_CLI_LONG, &K, 1, PK_DTF_MAXK, NULL},
        {"--d-model", PK_CLI_LONG, &d_model, 4, 1024, NULL},
        {"--heads", PK_CLI_LONG, &heads, 1, 64, NULL},
        {"--enc", PK_CLI_LONG, &enc, 0, 16, NULL},
        {"--dec", PK_CLI_LONG, &dec, 1, 16, NULL},
        {"--steps", PK_CLI_LONG, &steps, 1, 100000000, NULL},
        {"--batch", PK_CLI_LONG, &batch, 1, 4096, NULL},
        {"--n-max", PK_CLI_LONG, &n_max, 1, 1024, NULL},
        {"--lr", PK_CLI_DOUBLE, &lr, 1e-7, 0.5, NULL},
        {"--seq-frac", PK_CLI_DOUBLE, &seq_frac, 0, 1, NULL},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int rc = pk_cli_parse(CMD, HELP, argc, argv, opts, NULL, 0, NULL);
    if (rc >= 0)
        return rc;
    if (!out)
        return pk_cli_usage(CMD, "train needs --out MODEL.safetensors");
    if (d_model % heads)
        return pk_cli_usage(CMD, "--d-model %ld must be a multiple of --heads %ld", d_model, heads);
    if (task_kind == PK_DTF_RANGE && d != 2)
        return pk_cli_usage(CMD, "--task range is 2-d (--d 2)");
    pk_dtf_task t = pk_dtf_task_default((pk_dtf_task_kind)task_kind);
    t.d = (int)d;
    if (isfinite(noise))
        t.noise = noise;
    pk_dtf_config c = pk_dtf_config_default(t.d, pk_dtf_task_obs_dim(&t), (int)K);
    c.d_model = (int)d_model, c.n_head = (int)heads, c.n_enc = (int)enc, c.n_dec = (int)dec;
    pk_dtf_train_params tp = pk_dtf_train_params_default();
    tp.steps = (int)steps, tp.batch = (int)batch, tp.n_max = (int)n_max, tp.lr = lr, tp.seq_frac = seq_frac;
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    pk_err err = {0};
    pk_dtf *m = NULL;
    int st = pk_dtf_new(&c, &rng, &m, &err);
    if (st)
        return pk_cli_fail_status(CMD, st, &err);
    fprintf(stderr, "probkit disttf: %zu parameters, task %s (d %d, noise %g), K %ld, %ld steps x %ld problems, seed %llu\n",
            pk_dtf_num_params(m), task_kind ? "range" : "linear", t.d, t.noise, K, steps, batch,
            (unsigned long long)seed);
    pk_progress *pg = pk_progress_new(stderr, "train", (uint64_t)steps, 0);
    double loss = NAN, t0 = pk_time_now();
    st = pk_dtf_train(m, &t, &tp, &rng, pg ? progress_cb : NULL, pg, &loss, &err);
    pk_progress_finish(pg);
    pk_progress_free(pg);
    if (!st)
        st = pk_dtf_save(m, &t, out, &err);
    pk_dtf_free(m);
    if (st)
        return pk_cli_fail_status(CMD, st, &err);
    printf("trained in %.1f s; final -log q(theta) %.4f nats; model in %s\n", pk_time_now() - t0, loss, out);
    return PK_EXIT_OK;
}

static int cmd_eval(int argc, char **argv)
{
    const char *path = NULL;
    long problems = 500, n = 4, rounds = 1, grid = 400;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    int json = 0;
    const pk_cli_opt opts[] = {
        {"--problems", PK_CLI_LONG, &problems, 1, 1000000, NULL},
        {"--n", PK_CLI_LONG, &n, 1, 1024, NULL},
        {"--rounds", PK_CLI_LONG, &rounds, 1, 64, NULL},
        {"--grid", PK_CLI_LONG, &grid, 16, 4096, NULL},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int rc = pk_cli_parse(CMD, HELP, argc, argv, opts, &path, 1, NULL);
    if (rc >= 0)
        return rc;
    if (!path)
        return pk_cli_usage(CMD, "eval needs MODEL.safetensors");
    pk_err err = {0};
    pk_dtf *m = NULL;
    pk_dtf_task t;
    int st = pk_dtf_load(path, &m, &t, &err);
    if (st)
        return pk_cli_fail_status(CMD, st, &err);
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    pk_dtf_eval e;
    st = pk_dtf_evaluate(m, &t, (int)problems, (int)n, (int)rounds, (int)grid, &rng, &e, &err);
    pk_dtf_free(m);
    if (st)
        return pk_cli_fail_status(CMD, st, &err);
    const char *ref = t.kind == PK_DTF_LINEAR ? "exact" : "grid";
    if (json) {
        printf("{\"task\": \"%s\", \"problems\": %d, \"n\": %ld, \"rounds\": %ld, \"seed\": %llu, "
               "\"nll_dt\": %.6f, \"se_dt\": %.6f, \"nll_ref\": %.6f, \"reference\": \"%s\", \"nll_gauss\": %.6f, "
               "\"nll_prior\": %.6f, \"gap\": %.6f, \"se_gap\": %.6f, \"ms_dt\": %.6f, \"ms_ref\": %.6f}\n",
               t.kind == PK_DTF_LINEAR ? "linear" : "range", e.problems, n, rounds, (unsigned long long)seed, e.nll_dt,
               e.se_dt, e.nll_ref, ref, e.nll_gauss, e.nll_prior, e.gap, e.se_gap, e.ms_dt, e.ms_ref);
        return PK_EXIT_OK;
    }
    printf("%d problems, %ld round(s) of %ld observations, seed %llu; -log density of the true theta (nats):\n",
           e.problems, rounds, n, (unsigned long long)seed);
    printf("  distribution transformer   %8.4f +- %.4f   (%.3f ms per posterior)\n", e.nll_dt, e.se_dt, e.ms_dt);
    printf("  %-5s posterior            %8.4f +- %.4f   (%.3f ms per posterior)\n", ref, e.nll_ref, e.se_ref, e.ms_ref);
    printf("  best single Gaussian       %8.4f +- %.4f\n", e.nll_gauss, e.se_gauss);
    printf("  prior                      %8.4f\n", e.nll_prior);
    printf("  gap to the %s posterior %8.4f +- %.4f (expected KL)\n", ref, e.gap, e.se_gap);
    return PK_EXIT_OK;
}

/* ---- infer: JSON mixtures in and out ----------------------------------------- */

static int read_prior(const char *path, int d, int K, pk_dtf_gmm *g)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root)
        return pk_cli_fail(CMD, "%s:%d: %s", path, je.line, je.text);
    json_t *w = json_object_get(root, "weights"), *mu = json_object_get(root, "means"),
           *cv = json_object_get(root, "covariances");
    int rc = PK_EXIT_FAIL;
    size_t k0 = json_array_size(w);
    if (!json_is_array(w) || !json_is_array(mu) || !json_is_array(cv) || k0 == 0 || json_array_size(mu) != k0 ||
        json_array_size(cv) != k0) {
        pk_cli_fail(CMD, "%s: need arrays \"weights\", \"means\", \"covariances\" of one length >= 1", path);
        goto done;
    }
    if (k0 > (size_t)K) {
        pk_cli_fail(CMD, "%s: %zu components, the model takes at most %d", path, k0, K);
        goto done;
    }
    memset(g, 0, sizeof *g);
    g->d = d, g->K = (int)k0;
    double s = 0;
    for (size_t k = 0; k < k0; k++) {
        json_t *wk = json_array_get(w, k), *mk = json_array_get(mu, k), *ck = json_array_get(cv, k);
        if (!json_is_number(wk) || !(json_number_value(wk) > 0) || json_array_size(mk) != (size_t)d ||
            json_array_size(ck) != (size_t)d) {
            pk_cli_fail(CMD, "%s: component %zu: need a positive weight, a mean of length %d and a %d x %d covariance",
                        path, k, d, d, d);
            goto done;
        }
        s += (g->w[k] = json_number_value(wk));
        double C[PK_DTF_MAXD * PK_DTF_MAXD];
        for (int i = 0; i < d; i++) {
            json_t *mi = json_array_get(mk, (size_t)i), *row = json_array_get(ck, (size_t)i);
            if (!json_is_number(mi) || json_array_size(row) != (size_t)d) {
                pk_cli_fail(CMD, "%s: component %zu: mean entry %d or covariance row %d is malformed", path, k, i, i);
                goto done;
            }
            g->mu[k * d + i] = json_number_value(mi);
            for (int j = 0; j < d; j++) {
                json_t *cij = json_array_get(row, (size_t)j);
                if (!json_is_number(cij)) {
                    pk_cli_fail(CMD, "%s: component %zu: covariance (%d, %d) is not a number", path, k, i, j);
                    goto done;
                }
                C[i * d + j] = json_number_value(cij);
            }
        }
        double *L = g->L + k * d * d; /* Cholesky of the covariance */
        for (int j = 0; j < d; j++) {
            for (int i = j; i < d; i++) {
                if (fabs(C[i * d + j] - C[j * d + i]) > 1e-9 * (1 + fabs(C[i * d + j]))) {
                    pk_cli_fail(CMD, "%s: component %zu: covariance is not symmetric", path, k);
                    goto done;
                }
                double v = C[i * d + j];
                for (int q = 0; q < j; q++)
                    v -= L[i * d + q] * L[j * d + q];
                if (i == j) {
                    if (!(v > 0)) {
                        pk_cli_fail(CMD, "%s: component %zu: covariance is not positive definite", path, k);
                        goto done;
                    }
                    L[j * d + j] = sqrt(v);
                } else {
                    L[i * d + j] = v / L[j * d + j];
                }
            }
        }
    }
    for (size_t k = 0; k < k0; k++)
        g->w[k] /= s;
    /* pad to K exactly: split the heaviest component into identical copies */
    while (g->K < K) {
        int h = 0;
        for (int k = 1; k < g->K; k++)
            if (g->w[k] > g->w[h])
                h = k;
        g->w[h] /= 2;
        g->w[g->K] = g->w[h];
        memcpy(g->mu + g->K * d, g->mu + h * d, (size_t)d * sizeof *g->mu);
        memcpy(g->L + g->K * d * d, g->L + h * d * d, (size_t)d * d * sizeof *g->L);
        g->K++;
    }
    pk_err err = {0};
    int st = pk_dtf_gmm_check(g, &err);
    if (st) {
        pk_cli_fail(CMD, "%s: %s", path, err.msg);
        goto done;
    }
    rc = 0;
done:
    json_decref(root);
    return rc;
}

static void write_gmm(FILE *fp, const pk_dtf_gmm *g)
{
    int d = g->d;
    fprintf(fp, "{\"weights\": [");
    for (int k = 0; k < g->K; k++)
        fprintf(fp, "%s%.9g", k ? ", " : "", g->w[k]);
    fprintf(fp, "],\n \"means\": [");
    for (int k = 0; k < g->K; k++) {
        fprintf(fp, "%s[", k ? ", " : "");
        for (int i = 0; i < d; i++)
            fprintf(fp, "%s%.9g", i ? ", " : "", g->mu[k * d + i]);
        fprintf(fp, "]");
    }
    fprintf(fp, "],\n \"covariances\": [");
    for (int k = 0; k < g->K; k++) {
        const double *L = g->L + k * d * d;
        fprintf(fp, "%s[", k ? ",\n   " : "");
        for (int i = 0; i < d; i++) {
            fprintf(fp, "%s[", i ? ", " : "");
            for (int j = 0; j < d; j++) {
                double s = 0;
                for (int q = 0; q <= (i < j ? i : j); q++)
                    s += L[i * d + q] * L[j * d + q];
                fprintf(fp, "%s%.9g", j ? ", " : "", s);
            }
            fprintf(fp, "]");
        }
        fprintf(fp, "]");
    }
    fprintf(fp, "]}\n");
}

static int cmd_infer(int argc, char **argv)
{
    const char *path = NULL, *prior_path = NULL, *data_path = NULL, *outp = NULL;
    long bsz = 0;
    const pk_cli_opt opts[] = {
        {"--prior", PK_CLI_STR, &prior_path, 0, 0, NULL},
        {"--data", PK_CLI_STR, &data_path, 0, 0, NULL},
        {"--batch", PK_CLI_LONG, &bsz, 1, 4096, NULL},
        {"--out", PK_CLI_STR, &outp, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int rc = pk_cli_parse(CMD, HELP, argc, argv, opts, &path, 1, NULL);
    if (rc >= 0)
        return rc;
    if (!path || !prior_path || !data_path)
        return pk_cli_usage(CMD, "infer needs MODEL.safetensors --prior PRIOR.json --data OBS.csv");
    pk_err err = {0};
    pk_dtf *m = NULL;
    pk_dtf_task t;
    int st = pk_dtf_load(path, &m, &t, &err);
    if (st)
        return pk_cli_fail_status(CMD, st, &err);
    const pk_dtf_config *c = pk_dtf_get_config(m);
    pk_dtf_gmm *g = malloc(sizeof *g);
    double *obs = NULL;
    size_t n = 0;
    rc = PK_EXIT_FAIL;
    if (!g) {
        pk_cli_fail(CMD, "out of memory");
        goto done;
    }
    if (read_prior(prior_path, c->d, c->K, g) ||
        pk_cli_read_csv_matrix(CMD, data_path, (size_t)c->obs_dim, 1, &obs, &n, NULL))
        goto done;
    if (n == 0) {
        pk_cli_fail(CMD, "%s: no observation rows", data_path);
        goto done;
    }
    size_t step = bsz > 0 ? (size_t)bsz : n;
    for (size_t at = 0; at < n; at += step) {
        size_t nb = n - at < step ? n - at : step;
        if ((st = pk_dtf_infer(m, g, obs + at * c->obs_dim, 1, (int)nb, g, &err))) {
            pk_cli_fail_status(CMD, st, &err);
            goto done;
        }
    }
    if (outp) {
        pk_atomic_file af;
        if ((st = pk_atomic_open(&af, outp, &err))) {
            pk_cli_fail_status(CMD, st, &err);
            goto done;
        }
        write_gmm(af.fp, g);
        if ((st = pk_atomic_commit(&af, &err))) {
            pk_cli_fail_status(CMD, st, &err);
            goto done;
        }
    } else {
        write_gmm(stdout, g);
    }
    rc = PK_EXIT_OK;
done:
    pk_dtf_free(m);
    free(g);
    free(obs);
    return rc;
}

static int cmd_main(int argc, char **argv)
{
    static const pk_cli_sub subs[] = {
        {"train", cmd_train},
        {"eval", cmd_eval},
        {"infer", cmd_infer},
        {NULL, NULL},
    };
    return pk_cli_dispatch(CMD, HELP, argc, argv, subs, 1); /* small matrix products */
}

const pk_cli_cmd pk_cmd_disttf = {"disttf", "Distribution Transformers: mixture prior + data -> mixture posterior",
                                  cmd_main};
