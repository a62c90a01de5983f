/* probkit fewshot — transductive few-shot classification by regularised
 * clustering (Ziko et al. 2021) on feature matrices; feature extraction
 * with a backbone trained on base classes; episode evaluation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "cli.h"
#include "probkit/fewshot.h"
#include "probkit/io.h"

static const char *CMD = "fewshot";

static const char *HELP =
    "usage: probkit fewshot run --support S --support-labels L --query Q [options]\n"
    "       probkit fewshot features --out F.npy --out-labels Y.npy [options]\n"
    "       probkit fewshot eval --features F.npy --labels Y.npy [options]\n\n"
    "Few-shot classification of a query set from a few labelled support rows\n"
    "(\"Transductive Few-Shot Learning: Clustering is All You Need?\", Ziko et al.\n"
    "2021): the query set is clustered together with the support (K-means,\n"
    "K-modes, and their Laplacian-regularised versions solved by the paper's\n"
    "bound optimiser), against the inductive nearest-mean baseline.\n\n"
    "methods (--method, run; --methods, eval):\n"
    "  proto        nearest support mean (SimpleShot; inductive)\n"
    "  soft-kmeans  soft K-means refinement of the means (Ren et al. 2018)\n"
    "  lapshot      Laplacian-regularised assignments, fixed means (LaplacianShot)\n"
    "  kmeans       K-means from the support means, support labels fixed\n"
    "  kmodes       K-modes (Gaussian-kernel modes by mean shift)\n"
    "  slk-means    Laplacian K-means (default)\n"
    "  slk-ms       Laplacian K-modes\n\n"
    "run: classify one task.  S, Q: NPY (2-D, any numeric dtype) or CSV (header\n"
    "row, numeric columns) feature matrices with the same number of columns; L:\n"
    "NPY (1-D integers) or CSV (one column) support labels 0..k-1, every class at\n"
    "least once.  Prints one line per query: index, label, probabilities.\n"
    "  --method M        see above (default slk-means)\n"
    "  --lambda X        Laplacian weight >= 0 (default 0.7)\n"
    "  --knn N           neighbours in the kNN graph (default 2)\n"
    "  --sigma X         K-modes kernel bandwidth (default: from kNN distances)\n"
    "  --max-iter N      prototype/assignment rounds (default 100)\n"
    "  --center FILE     NPY/CSV row subtracted before L2-normalising every row\n"
    "  --l2n             L2-normalise rows (after --center if given)\n"
    "  --no-shift        do not move the query mean onto the support mean\n"
    "  --free-support    support rows only initialise the prototypes\n"
    "  --out FILE        write index,label,p0..p(k-1) as CSV (atomically)\n\n"
    "features: train an MLP (or a small CNN) on the base classes of an IDX image\n"
    "data set and write the features of the novel-class test images.\n"
    "  --data D          fashion-mnist (default; Debian dataset-fashion-mnist) or\n"
    "                    mnist (<data dir>/mnist/{train,t10k}-*, full MNIST)\n"
    "  --n-base N        labels 0..N-1 are base classes (default 5)\n"
    "  --arch A          mlp (default; 784-256-64) or cnn (16 and 32 channels;\n"
    "                    features: the 32 x 7 x 7 pooled maps)\n"
    "  --epochs N        (default 5)    --max-base N  cap on base images (0 = all)\n"
    "  --out F.npy       novel features (f64, n x d), raw\n"
    "  --out-labels Y.npy  their labels (i32)\n"
    "  --out-center C.npy  the base-class mean feature (the CL2N centre)\n"
    "  --save-model FILE   the trained backbone (safetensors)\n\n"
    "eval: accuracy over sampled episodes from a feature pool (rows are centred\n"
    "on --center if given and L2-normalised), every method on the same tasks.\n"
    "  --features F --labels Y [--center C]\n"
    "  --ways N (default 5)  --shots N (1)  --queries N per class (15)\n"
    "  --episodes N (600)    --dirichlet A  imbalanced queries ~ Dirichlet(A) (0 = off)\n"
    "  --methods a,b,...     (default all)  --lambda X  --knn N\n\n"
    "common:  --seed N (default 42; printed; features and eval)  --json  --help\n\n"
    "exit status: 0 ok, 1 bad input or failed fit (the message names the input),\n"
    "2 usage error.\n";

/* A numeric matrix from NPY (any numeric dtype; 1-D is one column) or CSV (header row). */
static int read_matrix(const char *file, double **out, size_t *rows, size_t *cols)
{
    pk_err err = {0};
    size_t L = strlen(file);
    if (L >= 4 && !strcmp(file + L - 4, ".npy")) {
        pk_array *a = NULL;
        int st = pk_npy_read(file, &a, &err);
        if (st)
            return pk_cli_fail_status(CMD, st, &err);
        if (a->ndim < 1 || a->ndim > 2 || a->dtype == PK_DTYPE_BOOL) {
            int nd = a->ndim;
            pk_array_free(a);
            return pk_cli_fail(CMD, "%s: expected a numeric 1-D or 2-D array, got %d dimensions", file, nd);
        }
        *rows = (size_t)a->shape[0];
        *cols = a->ndim == 2 ? (size_t)a->shape[1] : 1;
        st = pk_array_to_f64(a, out);
        pk_array_free(a);
        if (st)
            return pk_cli_fail(CMD, "%s: cannot convert to numbers (%s)", file, pk_strerror(st));
        return 0;
    }
    pk_table *t = NULL;
    pk_csv_opts co = pk_csv_opts_default();
    int st = pk_csv_read(file, &co, &t, &err);
    if (st)
        return pk_cli_fail_status(CMD, st, &err);
    double *v = malloc((t->nrows ? t->nrows : 1) * (t->ncols ? t->ncols : 1) * sizeof *v);
    if (!v) {
        pk_table_free(t);
        return pk_cli_fail(CMD, "out of memory");
    }
    for (size_t i = 0; i < t->nrows; i++)
        for (size_t j = 0; j < t->ncols; j++) {
            double x = t->values[i * t->ncols + j];
            if (t->categorical[j] || !isfinite(x)) {
                int r = pk_cli_fail(CMD, "%s: line %zu, column '%s': not a finite number", file, i + 2, t->names[j]);
                free(v);
                pk_table_free(t);
                return r;
            }
            v[i * t->ncols + j] = x;
        }
    *rows = t->nrows, *cols = t->ncols;
    *out = v;
    pk_table_free(t);
    return 0;
}

/* integer labels >= 0 from a one-column matrix; k = max + 1 */
static int read_labels(const char *file, int32_t **out, size_t *n, size_t *k)
{
    double *v = NULL;
    size_t r = 0, c = 0;
    if (read_matrix(file, &v, &r, &c))
        return 1;
    if (c != 1 || r == 0) {
        free(v);
        return pk_cli_fail(CMD, "%s: expected one column of labels, got %zu rows x %zu columns", file, r, c);
    }
    int32_t *y = malloc(r * sizeof *y);
    if (!y) {
        free(v);
        return pk_cli_fail(CMD, "out of memory");
    }
    *k = 0;
    for (size_t i = 0; i < r; i++) {
        if (!(v[i] >= 0 && v[i] < 1e6 && v[i] == floor(v[i]))) {
            int rc = pk_cli_fail(CMD, "%s: label %zu is %g, not an integer in [0, 1e6)", file, i, v[i]);
            free(v), free(y);
            return rc;
        }
        y[i] = (int32_t)v[i];
        if ((size_t)y[i] + 1 > *k)
            *k = (size_t)y[i] + 1;
    }
    free(v);
    *out = y, *n = r;
    return 0;
}

static int read_center(const char *file, size_t d, double **out)
{
    size_t r = 0, c = 0;
    if (read_matrix(file, out, &r, &c))
        return 1;
    if (r * c != d) {
        free(*out);
        *out = NULL;
        return pk_cli_fail(CMD, "%s: the centre has %zu values, the features %zu columns", file, r * c, d);
    }
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    const char *sf = NULL, *lf = NULL, *qf = NULL, *cf = NULL, *outp = NULL, *method = "slk-means";
    int json = 0, l2n = 0, no_shift = 0, free_support = 0;
    pk_fewshot_params p = pk_fewshot_params_default(PK_FEWSHOT_SLK_MEANS);
    long knn = p.knn, max_iter = p.max_iter;
    double lambda = p.lambda, sigma = 0;
    const pk_cli_opt opts[] = {
        {"--support", PK_CLI_STR, &sf, 0, 0, NULL},
        {"--support-labels", PK_CLI_STR, &lf, 0, 0, NULL},
        {"--query", PK_CLI_STR, &qf, 0, 0, NULL},
        {"--method", PK_CLI_STR, &method, 0, 0, NULL},
        {"--lambda", PK_CLI_DOUBLE, &lambda, 0, 1e6, NULL},
        {"--knn", PK_CLI_LONG, &knn, 1, 100000, NULL},
        {"--sigma", PK_CLI_DOUBLE, &sigma, 0, 1e300, NULL},
        {"--max-iter", PK_CLI_LONG, &max_iter, 1, 1000000, NULL},
        {"--center", PK_CLI_STR, &cf, 0, 0, NULL},
        {"--l2n", PK_CLI_FLAG, &l2n, 0, 0, NULL},
        {"--no-shift", PK_CLI_FLAG, &no_shift, 0, 0, NULL},
        {"--free-support", PK_CLI_FLAG, &free_support, 0, 0, NULL},
        {"--out", PK_CLI_STR, &outp, 0, 0, NULL},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL}};
    int rc = pk_cli_parse(CMD, HELP, argc, argv, opts, NULL, 0, NULL);
    if (rc >= 0)
        return rc;
    if (!sf || !lf || !qf)
        return pk_cli_usage(CMD, "run needs --support, --support-labels and --query");
    pk_fewshot_method m;
    if (pk_fewshot_method_from_name(method, &m))
        return pk_cli_usage(CMD, "unknown --method '%s' (proto, soft-kmeans, lapshot, kmeans, kmodes, slk-means, slk-ms)",
                            method);
    p = pk_fewshot_params_default(m);
    p.lambda = lambda, p.knn = (int)knn, p.sigma = sigma, p.max_iter = (int)max_iter;
    p.shift_correct = !no_shift, p.constrain_support = !free_support;
    double *S = NULL, *Q = NULL, *ctr = NULL;
    int32_t *ys = NULL;
    size_t ns = 0, ds = 0, nq = 0, dq = 0, nl = 0, k = 0;
    pk_fewshot_result *r = NULL;
    rc = PK_EXIT_FAIL;
    if (read_matrix(sf, &S, &ns, &ds) || read_matrix(qf, &Q, &nq, &dq) || read_labels(lf, &ys, &nl, &k))
        goto done;
    if (ns == 0 || nq == 0) {
        pk_cli_fail(CMD, "%s: no rows", ns == 0 ? sf : qf);
        goto done;
    }
    if (ds != dq) {
        pk_cli_fail(CMD, "%s has %zu columns but %s has %zu", sf, ds, qf, dq);
        goto done;
    }
    if (nl != ns) {
        pk_cli_fail(CMD, "%s has %zu labels but %s has %zu rows", lf, nl, sf, ns);
        goto done;
    }
    if (cf && read_center(cf, ds, &ctr))
        goto done;
    pk_mat Sv = pk_mat_view(S, ns, ds), Qv = pk_mat_view(Q, nq, dq);
    if (cf || l2n) {
        pk_fewshot_cl2n(&Sv, ctr);
        pk_fewshot_cl2n(&Qv, ctr);
    }
    pk_err err = {0};
    int st = pk_fewshot_predict(&Sv, ys, k, &Qv, &p, &r, &err);
    if (st) {
        pk_cli_fail(CMD, "%s / %s / %s: %s", sf, lf, qf, err.msg[0] ? err.msg : pk_strerror(st));
        goto done;
    }
    if (outp) {
        size_t nc = 2 + k;
        double *v = malloc(nq * nc * sizeof *v);
        char **names = malloc(nc * sizeof *names);
        char *nb = malloc(nc * 32);
        if (!v || !names || !nb) {
            free(v), free(names), free(nb);
            pk_cli_fail(CMD, "out of memory");
            goto done;
        }
        for (size_t c = 0; c < nc; c++) {
            names[c] = nb + c * 32;
            if (c == 0)
                snprintf(names[c], 32, "index");
            else if (c == 1)
                snprintf(names[c], 32, "label");
            else
                snprintf(names[c], 32, "p%zu", c - 2);
        }
        for (size_t q = 0; q < nq; q++) {
            v[q * nc] = (double)q, v[q * nc + 1] = r->labels[q];
            for (size_t c = 0; c < k; c++)
                v[q * nc + 2 + c] = r->proba[q * k + c];
        }
        st = pk_csv_write(outp, nq, nc, (const char *const *)names, v, &err);
        free(v), free(names), free(nb);
        if (st) {
            pk_cli_fail_status(CMD, st, &err);
            goto done;
        }
    }
    double efin = r->energy && r->n_iter ? r->energy[r->n_iter - 1] : NAN;
    if (json) {
        printf("{\"method\": \"%s\", \"k\": %zu, \"n_support\": %zu, \"n_query\": %zu, \"d\": %zu, \"lambda\": %.17g, "
               "\"n_iter\": %d, \"converged\": %s, \"energy\": ",
               method, k, ns, nq, ds, p.lambda, r->n_iter, r->converged ? "true" : "false");
        if (isfinite(efin))
            printf("%.17g", efin);
        else
            printf("null");
        printf(", \"labels\": [");
        for (size_t q = 0; q < nq; q++)
            printf("%s%d", q ? ", " : "", (int)r->labels[q]);
        printf("], \"proba\": [");
        for (size_t q = 0; q < nq; q++) {
            printf("%s[", q ? ", " : "");
            for (size_t c = 0; c < k; c++)
                printf("%s%.17g", c ? ", " : "", r->proba[q * k + c]);
            printf("]");
        }
        printf("]}\n");
    } else {
        printf("# %s: %zu classes, %zu support, %zu query rows, %zu features; %d rounds%s\n", method, k, ns, nq, ds,
               r->n_iter, r->converged ? "" : " (not converged)");
        printf("index,label");
        for (size_t c = 0; c < k; c++)
            printf(",p%zu", c);
        printf("\n");
        for (size_t q = 0; q < nq; q++) {
            printf("%zu,%d", q, (int)r->labels[q]);
            for (size_t c = 0; c < k; c++)
                printf(",%.6g", r->proba[q * k + c]);
            printf("\n");
        }
    }
    rc = PK_EXIT_OK;
done:
    free(S), free(Q), free(ctr), free(ys);
    pk_fewshot_result_free(r);
    return rc;
}

static int write_npy(const char *path, pk_dtype t, int ndim, const int64_t *shape, const void *data, pk_err *err)
{
    pk_array *a = pk_array_new(t, ndim, shape);
    if (!a)
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    memcpy(a->data, data, pk_array_nbytes(a));
    int st = pk_npy_write(path, a, err);
    pk_array_free(a);
    return st;
}

static int cmd_features(int argc, char **argv)
{
    const char *data = "fashion-mnist", *arch = "mlp", *outp = NULL, *outl = NULL, *outc = NULL, *model = NULL;
    long n_base = 5, epochs = 5, max_base = 0;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    int json = 0;
    const pk_cli_opt opts[] = {{"--data", PK_CLI_STR, &data, 0, 0, NULL},
                               {"--arch", PK_CLI_STR, &arch, 0, 0, NULL},
                               {"--n-base", PK_CLI_LONG, &n_base, 2, 1000, NULL},
                               {"--epochs", PK_CLI_LONG, &epochs, 1, 10000, NULL},
                               {"--max-base", PK_CLI_LONG, &max_base, 0, 1000000000, NULL},
                               {"--out", PK_CLI_STR, &outp, 0, 0, NULL},
                               {"--out-labels", PK_CLI_STR, &outl, 0, 0, NULL},
                               {"--out-center", PK_CLI_STR, &outc, 0, 0, NULL},
                               {"--save-model", PK_CLI_STR, &model, 0, 0, NULL},
                               {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
                               {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
                               {NULL, 0, NULL, 0, 0, NULL}};
    int rc = pk_cli_parse(CMD, HELP, argc, argv, opts, NULL, 0, NULL);
    if (rc >= 0)
        return rc;
    if (!outp || !outl)
        return pk_cli_usage(CMD, "features needs --out and --out-labels");
    pk_fewshot_data_params dp = pk_fewshot_data_params_default();
    if (!strcmp(arch, "cnn"))
        dp.arch = PK_FEWSHOT_ARCH_CNN, dp.hidden = 16, dp.feat = 32;
    else if (strcmp(arch, "mlp"))
        return pk_cli_usage(CMD, "unknown --arch '%s' (mlp, cnn)", arch);
    char p[4][1024];
    if (!strcmp(data, "fashion-mnist")) {
        const char *d = "/usr/share/datasets/fashion-mnist";
        snprintf(p[0], sizeof p[0], "%s/train-images-idx3-ubyte.gz", d);
        snprintf(p[1], sizeof p[1], "%s/train-labels-idx1-ubyte.gz", d);
        snprintf(p[2], sizeof p[2], "%s/t10k-images-idx3-ubyte.gz", d);
        snprintf(p[3], sizeof p[3], "%s/t10k-labels-idx1-ubyte.gz", d);
    } else if (!strcmp(data, "mnist")) {
        const char *d = pk_cli_data_dir();
        snprintf(p[0], sizeof p[0], "%s/mnist/train-images-idx3-ubyte", d);
        snprintf(p[1], sizeof p[1], "%s/mnist/train-labels-idx1-ubyte", d);
        snprintf(p[2], sizeof p[2], "%s/mnist/t10k-images-idx3-ubyte", d);
        snprintf(p[3], sizeof p[3], "%s/mnist/t10k-labels-idx1-ubyte", d);
    } else {
        return pk_cli_usage(CMD, "unknown --data '%s' (fashion-mnist, mnist)", data);
    }
    dp.train_images = p[0], dp.train_labels = p[1], dp.test_images = p[2], dp.test_labels = p[3];
    dp.n_base = (int)n_base, dp.max_base = (size_t)max_base, dp.train.epochs = (int)epochs;
    fprintf(stderr, "probkit fewshot: seed %llu\n", (unsigned long long)seed);
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    pk_fewshot_features *f = NULL;
    pk_fewshot_backbone *bb = NULL;
    pk_err err = {0};
    int st = pk_fewshot_features_from_idx(&dp, &rng, &f, model ? &bb : NULL, &err);
    if (st)
        return pk_cli_fail_status(CMD, st, &err);
    int64_t sh[2] = {(int64_t)f->n, (int64_t)f->d}, shd = (int64_t)f->d;
    if (!st)
        st = write_npy(outp, PK_DTYPE_F64, 2, sh, f->F, &err);
    if (!st)
        st = write_npy(outl, PK_DTYPE_I32, 1, sh, f->labels, &err);
    if (!st && outc)
        st = write_npy(outc, PK_DTYPE_F64, 1, &shd, f->base_mean, &err);
    if (!st && model)
        st = pk_fewshot_backbone_save(bb, model, &err);
    if (!st) {
        if (json)
            printf("{\"seed\": %llu, \"data\": \"%s\", \"arch\": \"%s\", \"n\": %zu, \"d\": %zu, \"base_accuracy\": %.6f, "
                   "\"train_loss\": %.6f, \"train_seconds\": %.3f}\n",
                   (unsigned long long)seed, data, arch, f->n, f->d, f->base_acc, f->train_loss, f->train_secs);
        else
            printf("seed %llu: %s %s backbone, %zu novel rows x %zu features; held-out base accuracy %.4f, loss %.4f, "
                   "%.1f s\n",
                   (unsigned long long)seed, data, arch, f->n, f->d, f->base_acc, f->train_loss, f->train_secs);
    }
    pk_fewshot_features_free(f);
    pk_fewshot_backbone_free(bb);
    return st ? pk_cli_fail_status(CMD, st, &err) : PK_EXIT_OK;
}

static int cmd_eval(int argc, char **argv)
{
    const char *ff = NULL, *lf = NULL, *cf = NULL, *methods = NULL;
    long ways = 5, shots = 1, queries = 15, episodes = 600, knn = 2;
    double dirichlet = 0, lambda = 0.7;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    int json = 0;
    const pk_cli_opt opts[] = {{"--features", PK_CLI_STR, &ff, 0, 0, NULL},
                               {"--labels", PK_CLI_STR, &lf, 0, 0, NULL},
                               {"--center", PK_CLI_STR, &cf, 0, 0, NULL},
                               {"--methods", PK_CLI_STR, &methods, 0, 0, NULL},
                               {"--ways", PK_CLI_LONG, &ways, 2, 100000, NULL},
                               {"--shots", PK_CLI_LONG, &shots, 1, 100000, NULL},
                               {"--queries", PK_CLI_LONG, &queries, 1, 100000, NULL},
                               {"--episodes", PK_CLI_LONG, &episodes, 2, 10000000, NULL},
                               {"--dirichlet", PK_CLI_DOUBLE, &dirichlet, 0, 1e6, NULL},
                               {"--lambda", PK_CLI_DOUBLE, &lambda, 0, 1e6, NULL},
                               {"--knn", PK_CLI_LONG, &knn, 1, 100000, NULL},
                               {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
                               {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
                               {NULL, 0, NULL, 0, 0, NULL}};
    int rc = pk_cli_parse(CMD, HELP, argc, argv, opts, NULL, 0, NULL);
    if (rc >= 0)
        return rc;
    if (!ff || !lf)
        return pk_cli_usage(CMD, "eval needs --features and --labels");
    pk_fewshot_params ps[PK_FEWSHOT_N_METHODS];
    size_t nm = 0;
    if (!methods) {
        for (int m = 0; m < PK_FEWSHOT_N_METHODS; m++)
            ps[nm++] = pk_fewshot_params_default((pk_fewshot_method)m);
    } else {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", methods);
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            pk_fewshot_method m;
            if (pk_fewshot_method_from_name(tok, &m))
                return pk_cli_usage(CMD, "unknown method '%s' in --methods", tok);
            if (nm == PK_FEWSHOT_N_METHODS)
                return pk_cli_usage(CMD, "too many --methods");
            ps[nm++] = pk_fewshot_params_default(m);
        }
    }
    for (size_t m = 0; m < nm; m++)
        ps[m].lambda = lambda, ps[m].knn = (int)knn;
    double *F = NULL, *ctr = NULL, *mean = NULL, *ci = NULL;
    int32_t *y = NULL, *cls = NULL;
    size_t n = 0, d = 0, nl = 0, k = 0, ncls = 0;
    rc = PK_EXIT_FAIL;
    if (read_matrix(ff, &F, &n, &d) || read_labels(lf, &y, &nl, &k))
        goto done;
    if (nl != n) {
        pk_cli_fail(CMD, "%s has %zu labels but %s has %zu rows", lf, nl, ff, n);
        goto done;
    }
    if (cf && read_center(cf, d, &ctr))
        goto done;
    pk_mat Fv = pk_mat_view(F, n, d);
    pk_fewshot_cl2n(&Fv, ctr);
    cls = malloc(k * sizeof *cls), mean = malloc(nm * sizeof *mean), ci = malloc(nm * sizeof *ci);
    if (!cls || !mean || !ci) {
        pk_cli_fail(CMD, "out of memory");
        goto done;
    }
    for (size_t c = 0; c < k; c++) {
        int seen = 0;
        for (size_t i = 0; i < n && !seen; i++)
            seen = y[i] == (int32_t)c;
        if (seen)
            cls[ncls++] = (int32_t)c;
    }
    fprintf(stderr, "probkit fewshot: seed %llu\n", (unsigned long long)seed);
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    pk_fewshot_episode_params ep = {(size_t)ways, (size_t)shots, (size_t)queries, dirichlet};
    pk_err err = {0};
    int st = pk_fewshot_evaluate(&Fv, y, cls, ncls, &ep, ps, nm, (size_t)episodes, &rng, mean, ci, NULL, &err);
    if (st) {
        pk_cli_fail(CMD, "%s: %s", ff, err.msg[0] ? err.msg : pk_strerror(st));
        goto done;
    }
    if (json) {
        printf("{\"seed\": %llu, \"ways\": %ld, \"shots\": %ld, \"queries\": %ld, \"episodes\": %ld, \"dirichlet\": %.17g, "
               "\"accuracy\": {",
               (unsigned long long)seed, ways, shots, queries, episodes, dirichlet);
        for (size_t m = 0; m < nm; m++)
            printf("%s\"%s\": {\"mean\": %.17g, \"ci95\": %.17g}", m ? ", " : "", pk_fewshot_method_name(ps[m].method),
                   mean[m], ci[m]);
        printf("}}\n");
    } else {
        printf("seed %llu: %ld-way %ld-shot, %ld queries/class%s, %ld episodes\n", (unsigned long long)seed, ways, shots,
               queries, dirichlet > 0 ? " (Dirichlet proportions)" : "", episodes);
        for (size_t m = 0; m < nm; m++)
            printf("  %-12s %6.2f%% +- %.2f\n", pk_fewshot_method_name(ps[m].method), 100 * mean[m], 100 * ci[m]);
    }
    rc = PK_EXIT_OK;
done:
    free(F), free(ctr), free(mean), free(ci), free(y), free(cls);
    return rc;
}

static int cmd_main(int argc, char **argv)
{
    static const pk_cli_sub subs[] = {
        {"run", cmd_run},
        {"features", cmd_features},
        {"eval", cmd_eval},
        {NULL, NULL},
    };
    return pk_cli_dispatch(CMD, HELP, argc, argv, subs, 1); /* tasks are small */
}

const pk_cli_cmd pk_cmd_fewshot = {"fewshot", "transductive few-shot classification by regularised clustering",
                                   cmd_main};
