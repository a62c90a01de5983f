/* probkit embeddings — cosine-similarity geometry and representational capacity. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "probkit/io.h"
#include "probkit/metrics.h"
#include "probkit/plot.h"

static const char *HELP =
    "usage: probkit embeddings E.npy|MODEL.safetensors [options]\n\n"
    "Near-orthogonality of an embedding matrix (rows = tokens, columns = d_model)\n"
    "and the capacity estimates of \"Representational Capacity\" (Guha): the\n"
    "distribution of pairwise cosine similarities, the accepted deviation\n"
    "eps = mean + 2 sd, and the number of near-orthogonal directions of R^d at\n"
    "that eps by (1) the paper's fitted law eps = sqrt(C ln(k^a/d)^b / d^c),\n"
    "(2) the one-parameter k/d law (C = 1.29) and (3) the JL form (C = 3.03).\n"
    "As in the paper, eps >= 0.1 is reported as 'indeterminate' (no near-\n"
    "orthogonal structure).\n\n"
    "options:\n"
    "  --tensor NAME    which tensor of a safetensors file (default: the first 2-D\n"
    "                   tensor whose name contains 'embed')\n"
    "  --max-pairs N    sample N random pairs when there are more (default 2e7)\n"
    "  --plot FILE      histogram of the cosine similarities (SVG)\n"
    "  --seed N         seed for pair sampling (default 42)\n"
    "  --json           machine-readable output\n";

static int cmd_main(int argc, char **argv)
{
    const char *cmd = "embeddings", *file = NULL, *tname = NULL, *plot = NULL;
    uint64_t seed = PK_CLI_DEFAULT_SEED, maxp = 20000000;
    int json = 0;
    const pk_cli_opt opts[] = {
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {"--tensor", PK_CLI_STR, &tname, 0, 0, NULL},
        {"--plot", PK_CLI_STR, &plot, 0, 0, NULL},
        {"--max-pairs", PK_CLI_U64, &maxp, 100, 0, NULL},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(cmd, HELP, argc, argv, opts, &file, 1, NULL);
    if (prc >= 0)
        return prc;
    if (!file)
        return pk_cli_usage(cmd, "no input file");
    pk_err err;
    pk_err_clear(&err);
    pk_tensor_file *tf = NULL;
    pk_array *arr = NULL;
    const pk_array *E = NULL;
    const char *ename = file;
    size_t len = strlen(file);
    int st, rc = PK_EXIT_OK;
    if (len > 4 && !strcmp(file + len - 4, ".npy")) {
        st = pk_npy_read(file, &arr, &err);
        E = arr;
    } else {
        st = pk_safetensors_read(file, &tf, &err);
        if (!st) {
            for (size_t i = 0; i < tf->n && !E; i++) {
                if (tname ? !strcmp(tf->names[i], tname)
                          : (tf->arrays[i]->ndim == 2 && strstr(tf->names[i], "embed") != NULL)) {
                    E = tf->arrays[i];
                    ename = tf->names[i];
                }
            }
            if (!E) {
                pk_tensor_file_free(tf);
                return pk_cli_fail(cmd, "%s: no tensor %s%s%s", file, tname ? "'" : "", tname ? tname : "with 'embed' in its name",
                                   tname ? "'" : "");
            }
        }
    }
    if (st)
        return pk_cli_fail_status(cmd, st, &err);
    double *X = NULL;
    if (E->ndim != 2) {
        rc = pk_cli_fail(cmd, "%s: '%s' has %d dimensions; an embedding matrix is 2-D (tokens x d)", file, ename,
                         E->ndim);
        goto done;
    }
    size_t n = (size_t)E->shape[0], d = (size_t)E->shape[1];
    if ((st = pk_array_to_f64(E, &X))) {
        rc = pk_cli_fail(cmd, "%s: '%s': %s", file, ename, pk_strerror(st));
        goto done;
    }
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    pk_cosine_stats s;
    if ((st = pk_cosine_stats_compute(X, n, d, maxp, &rng, &s, &err))) {
        rc = pk_cli_fail(cmd, "%s: '%s': %s", file, ename, err.msg);
        goto done;
    }
    double kp = pk_capacity_paper((double)d, s.eps), ka = pk_capacity_adjusted((double)d, s.eps, PK_CAPACITY_C_ADJ),
           kj = pk_capacity_jl((double)d, s.eps, PK_CAPACITY_C_JL);
    int indet = !(s.eps < 0.1);
    if (json) {
        printf("{\"file\": \"%s\", \"tensor\": \"%s\", \"rows\": %zu, \"d\": %zu, \"pairs\": %llu, \"sampled\": %s, "
               "\"seed\": %llu, \"mean\": %.17g, \"sd\": %.17g, \"eps\": %.17g, \"max_abs\": %.17g, ",
               file, ename, n, d, (unsigned long long)s.pairs, s.sampled ? "true" : "false", (unsigned long long)seed,
               s.mean, s.sd, s.eps, s.max_abs);
        if (indet)
            printf("\"capacity_paper\": null, ");
        else
            printf("\"capacity_paper\": %.17g, ", kp);
        printf("\"capacity_kd\": %.17g, \"capacity_jl\": %.17g, \"indeterminate\": %s}\n", ka, kj,
               indet ? "true" : "false");
    } else {
        printf("%s: '%s', %zu rows x d = %zu; %llu pairs%s (seed %llu)\n", file, ename, n, d,
               (unsigned long long)s.pairs, s.sampled ? " sampled" : "", (unsigned long long)seed);
        printf("  cosine similarity  mean %.5f  sd %.5f  max |cos| %.4f\n", s.mean, s.sd, s.max_abs);
        printf("  eps = mean + 2 sd  %.5f%s\n", s.eps, indet ? "  (>= 0.1: indeterminate, no near-orthogonal structure)" : "");
        if (!indet)
            printf("  capacity, paper's fitted law        %.4g\n", kp);
        printf("  capacity, k/d law (C = %.2f)        %.4g\n", PK_CAPACITY_C_ADJ, ka);
        printf("  capacity, JL form (C = %.2f)        %.4g\n", PK_CAPACITY_C_JL, kj);
    }
    if (plot) {
        /* a histogram from a sample of at most 200000 pairs */
        size_t m = 200000;
        double *c = malloc(m * sizeof *c), *nrm = malloc(n * sizeof *nrm);
        pk_plot *pl = pk_plot_new("Pairwise cosine similarity", "cos", "density");
        if (!c || !nrm || !pl) {
            free(c);
            free(nrm);
            pk_plot_free(pl);
            rc = pk_cli_fail(cmd, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            double t = 0;
            for (size_t j = 0; j < d; j++)
                t += X[i * d + j] * X[i * d + j];
            nrm[i] = sqrt(t);
        }
        for (size_t q = 0; q < m; q++) {
            size_t i = (size_t)pk_rng_below(&rng, n), j = (size_t)pk_rng_below(&rng, n - 1);
            if (j >= i)
                j++;
            double t = 0;
            for (size_t k = 0; k < d; k++)
                t += X[i * d + k] * X[j * d + k];
            c[q] = t / (nrm[i] * nrm[j]);
        }
        pk_plot_histogram(pl, "pairs", c, m, 100, 1);
        pk_plot_vline(pl, "eps = mu + 2 sd", s.eps);
        st = pk_plot_save(pl, plot, &err);
        free(c);
        free(nrm);
        pk_plot_free(pl);
        if (st) {
            rc = pk_cli_fail_status(cmd, st, &err);
            goto done;
        }
    }
done:
    free(X);
    pk_array_free(arr);
    pk_tensor_file_free(tf);
    return rc;
}

const pk_cli_cmd pk_cmd_embeddings = {"embeddings", "cosine geometry of an embedding matrix and its capacity",
                                      cmd_main};
