/* probkit cluster — K-means, Gaussian mixtures, Peng-Wei SDP and iLA-SDP on a CSV file. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(PK_HAVE_MPI)
#include <mpi.h>
#endif

#include "cli.h"
#include "probkit/cluster.h"
#include "probkit/io.h"
#include "probkit/linalg.h"
#include "probkit/plot.h"

static const char *CMD = "cluster";

static const char *HELP =
    "usage: probkit cluster --k K [options] DATA.csv\n\n"
    "Cluster the rows of a CSV file (header row of column names; every numeric\n"
    "column is a feature unless --columns says otherwise).\n\n"
    "methods (--method):\n"
    "  kmeans    k-means++ seeding, Hamerly-accelerated Lloyd, restarts (default)\n"
    "  gmm       Gaussian mixture by EM (k-means start), see --cov\n"
    "  sdp       Peng-Wei SDP relaxation of K-means (ADMM), spectral rounding\n"
    "  ila-sdp   iterative likelihood-adjusted SDP (Zhuang-Chen-Yang 2023) for\n"
    "            clusters with different covariances (starts from the SDP)\n"
    "  SDP methods store n x n matrices: keep n below ~2000.\n\n"
    "options:\n"
    "  --k K            number of clusters (required)\n"
    "  --method M       kmeans | gmm | sdp | ila-sdp (default kmeans)\n"
    "  --columns A,B    feature columns (default: all numeric except --label)\n"
    "  --label COL      column of true classes: report ARI, NMI, mis-clustering error\n"
    "  --standardize    z-score every feature column first\n"
    "  --n-init N       restarts for kmeans / gmm (default 10 / 1)\n"
    "  --max-iter N     iterations (kmeans/gmm; ADMM iterations for sdp/ila-sdp)\n"
    "  --algo A         kmeans: lloyd | hamerly | minibatch (default hamerly)\n"
    "  --batch N        mini-batch size (default 1024)\n"
    "  --cov C          gmm: full | diag | spherical | tied (default full)\n"
    "  --reg R          gmm: covariance ridge reg_covar (default 1e-6)\n"
    "  --out FILE       write the labels as a one-column CSV (atomically)\n"
    "  --labels         also print the labels, one per line, after the summary\n"
    "  --plot FILE      SVG scatter coloured by cluster (first two columns, or the\n"
    "                   first two principal components when d > 2)\n"
    "  --seed N         random seed (default 42; printed)\n"
    "  --json           machine-readable output (includes the labels)\n"
    "  --mpi            (builds with -DPK_MPI=ON) under mpirun, each rank keeps its\n"
    "                   block of rows and the K-means / EM statistics are summed\n"
    "                   across ranks each step; rank 0 prints.  kmeans and gmm only\n"
    "  --help           this text\n\n"
    "exit status: 0 ok, 1 bad data or failed fit (the message names the input),\n"
    "2 usage error.\n";

typedef struct opts {
    const char *file, *method, *columns, *label, *algo, *cov, *out, *plot;
    long k, n_init, max_iter, batch;
    double reg;
    uint64_t seed;
    int json, print_labels, standardize, mpi;
} opts;

static int parse_args(int argc, char **argv, opts *o)
{
    static const char *const methods[] = {"kmeans", "gmm", "sdp", "ila-sdp"};
    static const char *const algos[] = {"lloyd", "hamerly", "minibatch"};
    static const char *const covs[] = {"full", "diag", "spherical", "tied"};
    memset(o, 0, sizeof *o);
    o->seed = PK_CLI_DEFAULT_SEED;
    o->n_init = -1;
    o->max_iter = -1;
    o->batch = 1024;
    o->reg = 1e-6;
    int method = 0, algo = -1, cov = -1;
    const pk_cli_opt table[] = {
        {"--json", PK_CLI_FLAG, &o->json, 0, 0, NULL},
        {"--labels", PK_CLI_FLAG, &o->print_labels, 0, 0, NULL},
        {"--standardize", PK_CLI_FLAG, &o->standardize, 0, 0, NULL},
        {"--mpi", PK_CLI_FLAG, &o->mpi, 0, 0, NULL},
        {"--k", PK_CLI_LONG, &o->k, 1, 100000, NULL},
        {"--method", PK_CLI_CHOICE, &method, 0, 0, "kmeans|gmm|sdp|ila-sdp"},
        {"--columns", PK_CLI_STR, &o->columns, 0, 0, NULL},
        {"--label", PK_CLI_STR, &o->label, 0, 0, NULL},
        {"--algo", PK_CLI_CHOICE, &algo, 0, 0, "lloyd|hamerly|minibatch"},
        {"--cov", PK_CLI_CHOICE, &cov, 0, 0, "full|diag|spherical|tied"},
        {"--out", PK_CLI_STR, &o->out, 0, 0, NULL},
        {"--plot", PK_CLI_STR, &o->plot, 0, 0, NULL},
        {"--n-init", PK_CLI_LONG, &o->n_init, 1, 10000, NULL},
        {"--max-iter", PK_CLI_LONG, &o->max_iter, 1, 100000000, NULL},
        {"--batch", PK_CLI_LONG, &o->batch, 1, 100000000, NULL},
        {"--reg", PK_CLI_DOUBLE, &o->reg, 0, 1e300, "a number >= 0"},
        {"--seed", PK_CLI_U64, &o->seed, 0, 0, NULL},
        {NULL, PK_CLI_FLAG, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(CMD, HELP, argc, argv, table, &o->file, 1, NULL);
    if (prc >= 0)
        return prc == PK_EXIT_OK ? -1 : prc;
#if !defined(PK_HAVE_MPI)
    if (o->mpi)
        return pk_cli_usage(CMD, "--mpi: this probkit was built without MPI (configure with -DPK_MPI=ON)");
#endif
    o->method = methods[method];
    o->algo = algo >= 0 ? algos[algo] : NULL;
    o->cov = cov >= 0 ? covs[cov] : NULL;
    if (!o->file)
        return pk_cli_usage(CMD, "no data file given");
    if (o->k <= 0)
        return pk_cli_usage(CMD, "--k is required");
    if (o->mpi && strcmp(o->method, "kmeans") && strcmp(o->method, "gmm"))
        return pk_cli_usage(CMD, "--mpi supports --method kmeans and gmm only");
    return 0;
}

/* Feature matrix (n x d) and optional true labels from the table. */
static int select_columns(const opts *o, const pk_table *t, double **Xout, size_t *dout, int32_t **yout)
{
    size_t n = t->nrows, nc = t->ncols;
    int *use = calloc(nc ? nc : 1, sizeof(int));
    if (!use)
        return pk_cli_fail(CMD, "out of memory");
    int lab = -1;
    if (o->label) {
        lab = pk_table_find(t, o->label);
        if (lab < 0) {
            free(use);
            return pk_cli_fail(CMD, "%s: no column named '%s' (--label)", o->file, o->label);
        }
    }
    if (o->columns) {
        char *list = strdup(o->columns);
        for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
            int c = pk_table_find(t, tok);
            if (c < 0) {
                free(list);
                free(use);
                return pk_cli_fail(CMD, "%s: no column named '%s' (--columns)", o->file, tok);
            }
            if (t->categorical[c]) {
                free(list);
                free(use);
                return pk_cli_fail(CMD, "%s: column '%s' is not numeric", o->file, tok);
            }
            use[c] = 1;
        }
        free(list);
    } else {
        for (size_t c = 0; c < nc; c++)
            use[c] = !t->categorical[c] && (int)c != lab;
    }
    size_t d = 0;
    for (size_t c = 0; c < nc; c++)
        d += use[c] != 0;
    if (d == 0) {
        free(use);
        return pk_cli_fail(CMD, "%s: no numeric feature columns", o->file);
    }
    double *X = malloc(n * d * sizeof(double));
    int32_t *y = lab >= 0 ? malloc(n * sizeof(int32_t)) : NULL;
    if (!X || (lab >= 0 && !y)) {
        free(use);
        free(X);
        free(y);
        return pk_cli_fail(CMD, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        size_t q = 0;
        for (size_t c = 0; c < nc; c++) {
            if (!use[c])
                continue;
            double v = t->values[i * nc + c];
            if (!isfinite(v)) {
                int r = pk_cli_fail(CMD, "%s: row %zu, column '%s': missing or non-finite value", o->file, i + 1,
                                    t->names[c]);
                free(use);
                free(X);
                free(y);
                return r;
            }
            X[i * d + q++] = v;
        }
        if (y) {
            double v = t->values[i * nc + (size_t)lab];
            if (!isfinite(v) || v < 0 || v != floor(v) || v > 1e6) {
                int r = pk_cli_fail(CMD, "%s: row %zu, label column '%s': expected a class code >= 0", o->file,
                                    i + 1, o->label);
                free(use);
                free(X);
                free(y);
                return r;
            }
            y[i] = (int32_t)v;
        }
    }
    free(use);
    *Xout = X;
    *dout = d;
    *yout = y;
    return 0;
}

static void standardize(double *X, size_t n, size_t d)
{
    for (size_t t = 0; t < d; t++) {
        double m = 0, s = 0;
        for (size_t i = 0; i < n; i++)
            m += X[i * d + t];
        m /= (double)n;
        for (size_t i = 0; i < n; i++)
            s += (X[i * d + t] - m) * (X[i * d + t] - m);
        s = sqrt(s / (double)(n > 1 ? n - 1 : 1));
        for (size_t i = 0; i < n; i++)
            X[i * d + t] = s > 0 ? (X[i * d + t] - m) / s : 0;
    }
}

/* Scatter of the first two coordinates, or of the top-2 principal components. */
static int write_plot(const opts *o, const double *X, size_t n, size_t d, const int32_t *labels)
{
    double *px = malloc(n * sizeof(double)), *py = malloc(n * sizeof(double));
    int *g = malloc(n * sizeof(int));
    int st = (!px || !py || !g) ? PK_ENOMEM : PK_OK;
    const char *xl = "x1", *yl = "x2";
    if (!st && d <= 2) {
        for (size_t i = 0; i < n; i++) {
            px[i] = X[i * d];
            py[i] = d > 1 ? X[i * d + 1] : 0;
        }
    } else if (!st) {
        pk_mat *C = pk_mat_new(n, d), *Vt = pk_mat_new(d < n ? d : n, d);
        double *s = malloc(d * sizeof(double));
        st = (!C || !Vt || !s) ? PK_ENOMEM : PK_OK;
        if (!st) {
            for (size_t t = 0; t < d; t++) {
                double m = 0;
                for (size_t i = 0; i < n; i++)
                    m += X[i * d + t] / (double)n;
                for (size_t i = 0; i < n; i++)
                    *pk_mat_at(C, i, t) = X[i * d + t] - m;
            }
            pk_mat *Cc = pk_mat_dup(C);
            st = Cc ? pk_svd(Cc, NULL, s, Vt) : PK_ENOMEM;
            pk_mat_free(Cc);
        }
        for (size_t i = 0; !st && i < n; i++) {
            px[i] = py[i] = 0;
            for (size_t t = 0; t < d; t++) {
                px[i] += *pk_mat_at(C, i, t) * *pk_mat_at(Vt, 0, t);
                py[i] += *pk_mat_at(C, i, t) * *pk_mat_at(Vt, 1, t);
            }
        }
        xl = "PC1";
        yl = "PC2";
        pk_mat_free(C);
        pk_mat_free(Vt);
        free(s);
    }
    for (size_t i = 0; !st && i < n; i++)
        g[i] = labels[i];
    pk_plot *pl = NULL;
    pk_err err;
    pk_err_clear(&err);
    if (!st) {
        char title[128];
        snprintf(title, sizeof title, "probkit cluster: %s, k = %ld", o->method, o->k);
        pl = pk_plot_new(title, xl, yl);
        st = pl ? pk_plot_scatter_groups(pl, px, py, g, n) : PK_ENOMEM;
        if (!st)
            st = pk_plot_save(pl, o->plot, &err);
    }
    pk_plot_free(pl);
    free(px);
    free(py);
    free(g);
    if (st)
        return pk_cli_fail(CMD, "%s: cannot write the plot: %s", o->plot, err.msg[0] ? err.msg : pk_strerror(st));
    return 0;
}

static void jnum(double v)
{
    if (isfinite(v))
        printf("%.17g", v);
    else
        printf("null");
}

#if defined(PK_HAVE_MPI)
static int mpi_sum(double *buf, size_t n, void *ctx)
{
    (void)ctx;
    return MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS;
}
#endif

static int cluster_run(opts *o, pk_allreduce *red);

static int cluster_main(int argc, char **argv)
{
    opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc < 0 ? PK_EXIT_OK : rc;
    if (!o.mpi)
        return cluster_run(&o, NULL);
#if defined(PK_HAVE_MPI)
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init(NULL, NULL) != MPI_SUCCESS)
        return pk_cli_fail(CMD, "MPI_Init failed");
    pk_allreduce red;
    MPI_Comm_rank(MPI_COMM_WORLD, &red.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &red.size);
    red.sum = mpi_sum;
    red.ctx = NULL;
    rc = cluster_run(&o, &red);
    /* every rank must agree on failure, or the others would wait forever in the next reduction */
    int any = rc, worst = rc;
    MPI_Allreduce(&any, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (!inited)
        MPI_Finalize();
    return worst;
#else
    return PK_EXIT_USAGE;
#endif
}

static int cluster_run(opts *op, pk_allreduce *red)
{
    opts o = *op;
    int rc = 0, root = !red || red->rank == 0;
    pk_err err;
    pk_err_clear(&err);
    pk_table *t = NULL;
    pk_csv_opts co = pk_csv_opts_default();
    int st = pk_csv_read(o.file, &co, &t, &err);
    if (st)
        return pk_cli_fail_status(CMD, st, &err);
    double *X = NULL;
    int32_t *y = NULL, *labels = NULL;
    size_t n = t->nrows, d = 0;
    rc = select_columns(&o, t, &X, &d, &y);
    pk_table_free(t);
    if (rc)
        return rc;
    if (n < (size_t)o.k) {
        free(X);
        free(y);
        return pk_cli_fail(CMD, "%s: %zu rows but k = %ld clusters: need at least k rows", o.file, n, o.k);
    }
    if (o.standardize)
        standardize(X, n, d);
    pk_mat Xm = pk_mat_view(X, n, d);
    /* with --mpi every rank parsed the file; each fits on its own block of rows */
    size_t off = 0, nloc = n;
    if (red) {
        off = n * (size_t)red->rank / (size_t)red->size;
        nloc = n * (size_t)(red->rank + 1) / (size_t)red->size - off;
    }
    pk_mat Xfit = pk_mat_view(X + off * d, nloc, d);
    pk_rng rng;
    pk_rng_seed(&rng, o.seed);
    labels = malloc(n * sizeof(int32_t));
    if (!labels) {
        free(X);
        free(y);
        return pk_cli_fail(CMD, "out of memory");
    }
    /* method-specific summary figures */
    const char *k1 = NULL, *k2 = NULL, *k3 = NULL;
    double v1 = NAN, v2 = NAN, v3 = NAN;
    int iters = 0, conv = 0;
    size_t k = (size_t)o.k;
    if (!strcmp(o.method, "kmeans")) {
        pk_kmeans_params p = pk_kmeans_params_default(k);
        p.n_init = o.n_init > 0 ? (int)o.n_init : 10;
        if (o.max_iter > 0)
            p.max_iter = (int)o.max_iter;
        if (o.algo)
            p.algo = !strcmp(o.algo, "lloyd") ? PK_KMEANS_LLOYD
                     : !strcmp(o.algo, "minibatch") ? PK_KMEANS_MINIBATCH : PK_KMEANS_HAMERLY;
        p.batch_size = (size_t)o.batch;
        p.reduce = red;
        pk_kmeans *km = NULL;
        st = pk_kmeans_fit(&Xfit, &p, &rng, &km, &err);
        if (!st) {
            memcpy(labels + off, km->labels, nloc * sizeof(int32_t));
            k1 = "inertia";
            v1 = km->inertia;
            iters = km->n_iter;
            conv = km->converged;
        }
        pk_kmeans_free(km);
    } else if (!strcmp(o.method, "gmm")) {
        pk_gmm_params p = pk_gmm_params_default(k);
        p.n_init = o.n_init > 0 ? (int)o.n_init : 1;
        if (o.max_iter > 0)
            p.max_iter = (int)o.max_iter;
        p.reg_covar = o.reg;
        if (o.cov)
            p.cov = !strcmp(o.cov, "diag") ? PK_GMM_DIAG
                    : !strcmp(o.cov, "spherical") ? PK_GMM_SPHERICAL
                    : !strcmp(o.cov, "tied") ? PK_GMM_TIED : PK_GMM_FULL;
        p.reduce = red;
        pk_gmm *g = NULL;
        st = pk_gmm_fit(&Xfit, &p, &rng, &g, &err);
        if (!st)
            st = pk_gmm_predict(g, &Xfit, labels + off);
        if (!st) {
            pk_gmm_score(g, &Xm, &v1);
            pk_gmm_bic(g, &Xm, &v2);
            k1 = "mean_loglik";
            k2 = "bic";
            k3 = "reg_covar_used";
            v3 = g->reg_used;
            iters = g->n_iter;
            conv = g->converged;
        }
        pk_gmm_free(g);
    } else if (!strcmp(o.method, "sdp")) {
        /* the n x n eigenproblems are too small for threaded BLAS to pay off */
        if (n < 1000)
            openblas_set_num_threads(1);
        pk_sdp_params p = pk_sdp_params_default(k);
        if (o.max_iter > 0)
            p.max_iter = (int)o.max_iter;
        pk_sdp_result *r = NULL;
        st = pk_sdp_kmeans(&Xm, &p, &rng, &r, &err);
        if (!st) {
            memcpy(labels, r->labels, n * sizeof(int32_t));
            k1 = "sdp_objective";
            v1 = r->objective;
            k2 = "primal_residual";
            v2 = r->primal_res;
            iters = r->n_iter;
            conv = r->converged;
        }
        pk_sdp_result_free(r);
    } else {
        if (n < 1000)
            openblas_set_num_threads(1);
        pk_ilasdp_params p = pk_ilasdp_params_default(k);
        if (o.max_iter > 0)
            p.sdp.max_iter = (int)o.max_iter;
        pk_ilasdp_result *r = NULL;
        st = pk_ilasdp(&Xm, &p, &rng, &r, &err);
        if (!st) {
            memcpy(labels, r->labels, n * sizeof(int32_t));
            k1 = "profile_loglik";
            v1 = r->loglik;
            iters = r->n_outer;
            conv = r->converged;
        }
        pk_ilasdp_result_free(r);
    }
    if (st) {
        free(X);
        free(y);
        free(labels);
        pk_err_prefix(&err, "%s: ", o.file);
        return pk_cli_fail_status(CMD, st, &err);
    }
    if (red) { /* collect every rank's labels (a sum in which each rank fills only its block) */
        double *lb = calloc(n, sizeof(double));
        int bad = !lb;
        for (size_t i = 0; lb && i < nloc; i++)
            lb[off + i] = labels[off + i];
        if (lb && red->sum(lb, n, red->ctx))
            bad = 1;
        for (size_t i = 0; !bad && i < n; i++)
            labels[i] = (int32_t)lb[i];
        free(lb);
        if (bad || !root) {
            free(X);
            free(y);
            free(labels);
            return bad ? pk_cli_fail(CMD, "collecting labels across ranks failed") : PK_EXIT_OK;
        }
    }
    double ari = NAN, nmi = NAN, mis = NAN;
    if (y) {
        pk_cluster_ari(y, labels, n, &ari);
        pk_cluster_nmi(y, labels, n, &nmi);
        pk_cluster_error(y, labels, n, &mis);
    }
    rc = PK_EXIT_OK;
    if (o.out) {
        double *col = malloc(n * sizeof(double));
        const char *nm[] = {"label"};
        if (!col) {
            rc = pk_cli_fail(CMD, "out of memory");
        } else {
            for (size_t i = 0; i < n; i++)
                col[i] = labels[i];
            st = pk_csv_write(o.out, n, 1, nm, col, &err);
            if (st)
                rc = pk_cli_fail_status(CMD, st, &err);
            free(col);
        }
    }
    if (!rc && o.plot)
        rc = write_plot(&o, X, n, d, labels);
    if (!rc) {
        size_t *sizes = calloc(k, sizeof(size_t));
        for (size_t i = 0; sizes && i < n; i++)
            sizes[labels[i]]++;
        if (o.json) {
            printf("{\"method\": \"%s\", \"k\": %zu, \"n\": %zu, \"d\": %zu, \"seed\": %llu, \"iterations\": %d, "
                   "\"converged\": %s",
                   o.method, k, n, d, (unsigned long long)o.seed, iters, conv ? "true" : "false");
            const char *ks[3] = {k1, k2, k3};
            double vs[3] = {v1, v2, v3};
            for (int q = 0; q < 3; q++)
                if (ks[q]) {
                    printf(", \"%s\": ", ks[q]);
                    jnum(vs[q]);
                }
            if (y) {
                printf(", \"ari\": ");
                jnum(ari);
                printf(", \"nmi\": ");
                jnum(nmi);
                printf(", \"error\": ");
                jnum(mis);
            }
            printf(", \"sizes\": [");
            for (size_t j = 0; sizes && j < k; j++)
                printf("%s%zu", j ? ", " : "", sizes[j]);
            printf("], \"labels\": [");
            for (size_t i = 0; i < n; i++)
                printf("%s%d", i ? ", " : "", (int)labels[i]);
            printf("]}\n");
        } else {
            printf("method: %s\nk: %zu\nn: %zu\nd: %zu\nseed: %llu\niterations: %d\nconverged: %s\n", o.method, k, n,
                   d, (unsigned long long)o.seed, iters, conv ? "yes" : "no");
            if (k1)
                printf("%s: %.10g\n", k1, v1);
            if (k2)
                printf("%s: %.10g\n", k2, v2);
            if (k3)
                printf("%s: %.10g\n", k3, v3);
            printf("sizes:");
            for (size_t j = 0; sizes && j < k; j++)
                printf(" %zu", sizes[j]);
            printf("\n");
            if (y)
                printf("ari: %.6f\nnmi: %.6f\nerror: %.6f\n", ari, nmi, mis);
            if (o.print_labels) {
                printf("labels:\n");
                for (size_t i = 0; i < n; i++)
                    printf("%d\n", (int)labels[i]);
            }
        }
        free(sizes);
    }
    free(X);
    free(y);
    free(labels);
    return rc;
}

const pk_cli_cmd pk_cmd_cluster = {"cluster", "K-means, Gaussian mixtures (EM), Peng-Wei SDP and iLA-SDP clustering",
                                   cluster_main};
