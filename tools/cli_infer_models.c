#include "cli_infer_models.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/io.h"

const char *const pk_target_names[] = {"gauss100", "funnel", "funnel-nc", "eight-schools", "logistic", NULL};
const char *const pk_program_names[] = {"beta-bernoulli", "sprinkler", "hmm", "linreg", "lda", NULL};

/* ---- differentiable targets ----------------------------------------------------------- */

/* 100-d Gaussian, independent coordinates with sd from 0.01 to 10 (log-spaced). */
static double lp_gauss100(const double *x, double *g, void *user)
{
    const double *sd = user;
    double lp = 0;
    for (int i = 0; i < 100; i++) {
        double z = x[i] / sd[i];
        lp -= 0.5 * z * z;
        g[i] = -z / sd[i];
    }
    return lp;
}

/* Neal's funnel in 10 dimensions: v ~ N(0, 3^2), x_i | v ~ N(0, e^v). */
static double lp_funnel(const double *x, double *g, void *user)
{
    (void)user;
    double v = x[0], lp = -v * v / 18.0, s2 = exp(-v);
    g[0] = -v / 9.0;
    for (int i = 1; i < 10; i++) {
        lp += -0.5 * x[i] * x[i] * s2 - 0.5 * v;
        g[0] += 0.5 * x[i] * x[i] * s2 - 0.5;
        g[i] = -x[i] * s2;
    }
    return lp;
}

static double lp_funnel_nc(const double *x, double *g, void *user)
{
    (void)user;
    double lp = -x[0] * x[0] / 18.0;
    g[0] = -x[0] / 9.0;
    for (int i = 1; i < 10; i++) {
        lp -= 0.5 * x[i] * x[i];
        g[i] = -x[i];
    }
    return lp;
}

/* Eight schools, non-centred: mu ~ N(0,5), tau ~ half-Cauchy(0,5) (sampled as
 * log tau with its Jacobian), eta_j ~ N(0,1), y_j ~ N(mu + tau eta_j, sigma_j). */
static const double es_y[8] = {28, 8, -3, 7, -1, 1, 18, 12};
static const double es_s[8] = {15, 10, 16, 11, 9, 11, 10, 18};

static double lp_eight(const double *x, double *g, void *user)
{
    (void)user;
    double mu = x[0], lt = x[1], tau = exp(lt);
    double lp = -mu * mu / 50.0 - log1p(tau * tau / 25.0) + lt;
    g[0] = -mu / 25.0;
    g[1] = -2.0 * tau * tau / 25.0 / (1 + tau * tau / 25.0) + 1.0;
    for (int j = 0; j < 8; j++) {
        double eta = x[2 + j], th = mu + tau * eta, r = (es_y[j] - th) / (es_s[j] * es_s[j]);
        lp += -0.5 * eta * eta - 0.5 * (es_y[j] - th) * (es_y[j] - th) / (es_s[j] * es_s[j]);
        g[0] += r;
        g[1] += r * tau * eta;
        g[2 + j] = -eta + r * tau;
    }
    return lp;
}

/* Bayesian logistic regression, standardised features, N(0, 1) prior on the
 * 30 weights and a N(0, 5^2) intercept. */
typedef struct logistic {
    size_t n, p;
    double *X; /* n x p */
    double *y;
} logistic;

static double lp_logistic(const double *w, double *g, void *user)
{
    const logistic *L = user;
    size_t n = L->n, p = L->p;
    /* chains call this concurrently: scratch lives on this call's stack */
    double buf[1024], *eta = n <= 1024 ? buf : malloc(n * sizeof *eta);
    if (!eta)
        return NAN;
    double lp = -w[0] * w[0] / 50.0;
    g[0] = -w[0] / 25.0;
    for (size_t j = 0; j < p; j++) {
        lp -= 0.5 * w[1 + j] * w[1 + j];
        g[1 + j] = -w[1 + j];
    }
    /* eta = X w[1:] + w[0]; one exp per row serves both log-sigmoid and sigmoid */
    for (size_t i = 0; i < n; i++)
        eta[i] = w[0];
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)p, 1.0, L->X, (int)p, w + 1, 1, 1.0, eta, 1);
    double r0 = 0;
    for (size_t i = 0; i < n; i++) {
        double e = eta[i], a = fabs(e), t = exp(-a);          /* t in (0, 1] */
        double sig = e >= 0 ? 1.0 / (1.0 + t) : t / (1.0 + t); /* sigmoid(eta) */
        double s = L->y[i] ? e : -e;                           /* log sigmoid(s) = -log(1 + e^-s) */
        lp -= (s >= 0 ? 0.0 : -s) + log1p(t);
        eta[i] = L->y[i] - sig; /* residual, reused for the gradient */
        r0 += eta[i];
    }
    g[0] += r0;
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)p, 1.0, L->X, (int)p, eta, 1, 1.0, g + 1, 1);
    if (eta != buf)
        free(eta);
    return lp;
}

static char **numbered_names(size_t dim, const char *prefix, size_t first_numbered, const char *const *first)
{
    char **n = calloc(dim, sizeof *n);
    if (!n)
        return NULL;
    for (size_t i = 0; i < dim; i++) {
        char buf[64];
        if (i < first_numbered)
            snprintf(buf, sizeof buf, "%s", first[i]);
        else
            snprintf(buf, sizeof buf, "%s[%zu]", prefix, i - first_numbered + 1);
        n[i] = strdup(buf);
        if (!n[i]) {
            for (size_t k = 0; k < i; k++)
                free(n[k]);
            free(n);
            return NULL;
        }
    }
    return n;
}

void pk_target_free(pk_target *t)
{
    if (!t)
        return;
    if (t->names)
        for (size_t i = 0; i < t->dim; i++)
            free(t->names[i]);
    free(t->names);
    if (t->f == lp_logistic && t->owned) {
        logistic *L = t->owned;
        free(L->X);
        free(L->y);
    }
    free(t->owned);
    memset(t, 0, sizeof *t);
}

static int load_breast_cancer(const char *data_dir, logistic *L, pk_err *err)
{
    char path[4096];
    const char *cands[2] = {path, "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv"};
    snprintf(path, sizeof path, "%s/sklearn/breast_cancer.csv", data_dir ? data_dir : "data");
    pk_csv_opts o = pk_csv_opts_default();
    o.has_header = 0;
    o.skip_lines = 1; /* sklearn's first line holds counts and class names */
    o.require_numeric = 1;
    pk_table *t = NULL;
    int st = PK_EIO;
    for (int k = 0; k < 2 && st; k++)
        st = pk_csv_read(cands[k], &o, &t, err);
    if (st)
        return st;
    if (t->ncols != 31 || t->nrows < 10) {
        pk_table_free(t);
        return pk_err_set(err, PK_EFORMAT, "breast_cancer.csv: expected 30 features and a label, got %zu columns",
                          t->ncols);
    }
    L->n = t->nrows;
    L->p = 30;
    L->X = malloc(L->n * L->p * sizeof *L->X);
    L->y = malloc(L->n * sizeof *L->y);
    if (!L->X || !L->y) {
        pk_table_free(t);
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    }
    for (size_t j = 0; j < 30; j++) { /* standardise each feature */
        double m = 0, v = 0;
        for (size_t i = 0; i < L->n; i++)
            m += t->values[i * 31 + j];
        m /= (double)L->n;
        for (size_t i = 0; i < L->n; i++)
            v += pow(t->values[i * 31 + j] - m, 2);
        double sd = sqrt(v / (double)(L->n - 1));
        for (size_t i = 0; i < L->n; i++)
            L->X[i * 30 + j] = sd > 0 ? (t->values[i * 31 + j] - m) / sd : 0;
    }
    for (size_t i = 0; i < L->n; i++)
        L->y[i] = t->values[i * 31 + 30] > 0.5;
    pk_table_free(t);
    return PK_OK;
}

int pk_target_make(const char *name, const char *data_dir, pk_target *t, pk_err *err)
{
    memset(t, 0, sizeof *t);
    t->name = name;
    if (!strcmp(name, "gauss100")) {
        double *sd = malloc(100 * sizeof *sd);
        if (!sd)
            return pk_err_set(err, PK_ENOMEM, "out of memory");
        for (int i = 0; i < 100; i++)
            sd[i] = 0.01 * pow(1000.0, i / 99.0);
        *t = (pk_target){"gauss100", "100-d Gaussian, sd log-spaced 0.01..10 (condition number 1e6)", 100,
                         lp_gauss100, sd, NULL, sd};
        t->names = numbered_names(100, "x", 0, NULL);
    } else if (!strcmp(name, "funnel") || !strcmp(name, "funnel-nc")) {
        static const char *const v[] = {"v"};
        int nc = !strcmp(name, "funnel-nc");
        *t = (pk_target){nc ? "funnel-nc" : "funnel",
                         nc ? "Neal's funnel, non-centred (v, z[1..9])" : "Neal's funnel, centred (v, x[1..9])", 10,
                         nc ? lp_funnel_nc : lp_funnel, NULL, NULL, NULL};
        t->names = numbered_names(10, nc ? "z" : "x", 1, v);
    } else if (!strcmp(name, "eight-schools")) {
        static const char *const v[] = {"mu", "log_tau"};
        *t = (pk_target){"eight-schools", "eight schools, non-centred (mu, log tau, eta[1..8])", 10, lp_eight, NULL,
                         NULL, NULL};
        t->names = numbered_names(10, "eta", 2, v);
    } else if (!strcmp(name, "logistic")) {
        logistic *L = calloc(1, sizeof *L);
        if (!L)
            return pk_err_set(err, PK_ENOMEM, "out of memory");
        int st = load_breast_cancer(data_dir, L, err);
        if (st) {
            free(L->X);
            free(L->y);
            free(L);
            return st;
        }
        static const char *const v[] = {"intercept"};
        *t = (pk_target){"logistic", "logistic regression, breast cancer (569 x 30, standardised)", 31, lp_logistic,
                         L, NULL, L};
        t->names = numbered_names(31, "w", 1, v);
    } else {
        return pk_err_set(err, PK_EINVAL, "unknown target '%s'", name);
    }
    if (!t->names) {
        pk_target_free(t);
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    }
    return PK_OK;
}

/* ---- probabilistic programs ----------------------------------------------------------- */

typedef struct bb_data {
    size_t n;
    double *y;
} bb_data;

static void prog_beta_bernoulli(pk_ctx *ctx, const void *data, double *out)
{
    const bb_data *d = data;
    double p = pk_sample(ctx, pk_beta(2, 3));
    out[0] = p;
    for (size_t i = 0; i < d->n; i++)
        pk_observe(ctx, pk_bernoulli(p), d->y[i]);
}

static void prog_sprinkler(pk_ctx *ctx, const void *data, double *out)
{
    (void)data;
    int cloudy = (int)pk_sample(ctx, pk_bernoulli(0.5));
    int rain = (int)pk_sample(ctx, pk_bernoulli(cloudy ? 0.8 : 0.2));
    int spr = (int)pk_sample(ctx, pk_bernoulli(cloudy ? 0.1 : 0.5));
    out[0] = rain;
    out[1] = spr;
    pk_observe(ctx, pk_bernoulli(rain && spr ? 0.99 : rain || spr ? 0.9 : 0.0), 1);
}

/* HMM as in monad-bayes: states 0..2 with emission means -1, 0, 1. */
static const double hmm_T[3][3] = {{0.8, 0.1, 0.1}, {0.1, 0.8, 0.1}, {0.1, 0.1, 0.8}};
static const double hmm_p0[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3};

typedef struct seq_data {
    size_t n;
    double *x, *y; /* linreg: x, y; hmm: y; lda: y = word ids, x = doc ids */
    size_t n_docs, n_words, n_topics;
} seq_data;

static void prog_hmm(pk_ctx *ctx, const void *data, double *out)
{
    const seq_data *d = data;
    int s = (int)pk_sample(ctx, pk_categorical(hmm_p0, 3));
    for (size_t t = 0; t < d->n; t++) {
        if (t > 0)
            s = (int)pk_sample(ctx, pk_categorical(hmm_T[s], 3));
        out[0] = s; /* the last state */
        pk_observe(ctx, pk_normal(s - 1.0, 1.0), d->y[t]);
    }
}

static void prog_linreg(pk_ctx *ctx, const void *data, double *out)
{
    const seq_data *d = data;
    double a = pk_sample(ctx, pk_normal(0, 2)), b = pk_sample(ctx, pk_normal(0, 2));
    double s = pk_sample(ctx, pk_gamma(1, 1));
    out[0] = a, out[1] = b, out[2] = s;
    for (size_t i = 0; i < d->n; i++)
        pk_observe(ctx, pk_normal(a * d->x[i] + b, 1.0 / sqrt(s)), d->y[i]);
}

/* A small LDA (monad-bayes' benchmark): 2 topics over 5 words; Dirichlet(1)
 * draws as normalised Gamma(1) choices; each word picks its topic. */
static void prog_lda(pk_ctx *ctx, const void *data, double *out)
{
    const seq_data *d = data;
    size_t K = d->n_topics, V = d->n_words, D = d->n_docs;
    double phi[4][8], theta[64][4];
    for (size_t k = 0; k < K; k++) {
        double s = 0;
        for (size_t v = 0; v < V; v++)
            s += phi[k][v] = pk_sample(ctx, pk_gamma(1, 1));
        for (size_t v = 0; v < V; v++)
            phi[k][v] /= s;
    }
    for (size_t j = 0; j < D; j++) {
        double s = 0;
        for (size_t k = 0; k < K; k++)
            s += theta[j][k] = pk_sample(ctx, pk_gamma(1, 1));
        for (size_t k = 0; k < K; k++)
            theta[j][k] /= s;
    }
    out[0] = phi[0][0];
    for (size_t i = 0; i < d->n; i++) {
        size_t doc = (size_t)d->x[i];
        int z = (int)pk_sample(ctx, pk_categorical(theta[doc], K));
        pk_observe(ctx, pk_categorical(phi[z], V), d->y[i]);
    }
}

static const char *const lr_names[] = {"slope", "intercept", "precision"};
static const char *const spr_names[] = {"rain", "sprinkler"};
static const char *const bb_names[] = {"p"};
static const char *const hmm_names[] = {"last_state"};
static const char *const lda_names[] = {"phi[1,1]"};

static seq_data *make_seq_data(const char *name, size_t n, uint64_t seed, pk_err *err)
{
    seq_data *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->n = n;
    d->x = calloc(n ? n : 1, sizeof *d->x);
    d->y = calloc(n ? n : 1, sizeof *d->y);
    if (!d->x || !d->y) {
        free(d->x);
        free(d->y);
        free(d);
        pk_err_set(err, PK_ENOMEM, "out of memory");
        return NULL;
    }
    pk_rng r;
    pk_rng_seed(&r, seed);
    if (!strcmp(name, "linreg")) {
        for (size_t i = 0; i < n; i++) {
            d->x[i] = 10.0 * pk_rng_uniform(&r) - 5.0;
            d->y[i] = 1.5 * d->x[i] - 0.5 + pk_rng_normal(&r);
        }
    } else if (!strcmp(name, "hmm")) {
        int s = (int)pk_rng_below(&r, 3);
        for (size_t i = 0; i < n; i++) {
            if (i)
                s = (int)pk_rng_categorical(&r, hmm_T[s], 3);
            d->y[i] = s - 1.0 + pk_rng_normal(&r);
        }
    } else { /* lda: 2 topics, 5 words, n words spread over 8 documents */
        d->n_topics = 2, d->n_words = 5, d->n_docs = 8;
        static const double phi[2][5] = {{0.4, 0.3, 0.2, 0.05, 0.05}, {0.05, 0.05, 0.2, 0.3, 0.4}};
        for (size_t i = 0; i < n; i++) {
            size_t doc = i * d->n_docs / (n ? n : 1);
            double th = doc < 4 ? 0.8 : 0.2;
            int z = pk_rng_uniform(&r) < th ? 0 : 1;
            d->x[i] = (double)doc;
            d->y[i] = (double)pk_rng_categorical(&r, phi[z], 5);
        }
    }
    return d;
}

static void free_seq(void *p)
{
    seq_data *d = p;
    if (d) {
        free(d->x);
        free(d->y);
        free(d);
    }
}

void pk_program_free(pk_program *p)
{
    if (!p)
        return;
    if (p->model.fn == prog_beta_bernoulli && p->owned) {
        bb_data *d = p->owned;
        free(d->y);
        free(d);
    } else {
        free_seq(p->owned);
    }
    memset(p, 0, sizeof *p);
}

const double *pk_program_y(const pk_program *p, size_t *n)
{
    *n = 0;
    if (!p->owned)
        return NULL;
    if (p->model.fn == prog_beta_bernoulli) {
        const bb_data *d = p->owned;
        *n = d->n;
        return d->y;
    }
    const seq_data *d = p->owned;
    *n = d->n;
    return d->y;
}

int pk_program_make(const char *name, size_t size, uint64_t seed, pk_program *p, pk_err *err)
{
    memset(p, 0, sizeof *p);
    if (!strcmp(name, "beta-bernoulli")) {
        size_t n = size ? size : 10;
        bb_data *d = calloc(1, sizeof *d);
        if (!d || !(d->y = calloc(n, sizeof *d->y))) {
            free(d);
            return pk_err_set(err, PK_ENOMEM, "out of memory");
        }
        d->n = n;
        pk_rng r;
        pk_rng_seed(&r, seed);
        for (size_t i = 0; i < n; i++)
            d->y[i] = pk_rng_uniform(&r) < 0.7;
        *p = (pk_program){"beta-bernoulli", "p ~ Beta(2,3), y_i ~ Bernoulli(p) (y drawn with p = 0.7)",
                          {prog_beta_bernoulli, d, 1}, bb_names, d};
        return PK_OK;
    }
    if (!strcmp(name, "sprinkler")) {
        *p = (pk_program){"sprinkler", "cloudy/rain/sprinkler network given wet grass", {prog_sprinkler, NULL, 2},
                          spr_names, NULL};
        return PK_OK;
    }
    size_t n = size;
    if (!strcmp(name, "linreg")) {
        n = n ? n : 50;
    } else if (!strcmp(name, "hmm")) {
        n = n ? n : 16;
    } else if (!strcmp(name, "lda")) {
        n = n ? n : 40;
    } else {
        return pk_err_set(err, PK_EINVAL, "unknown program '%s'", name);
    }
    seq_data *d = make_seq_data(name, n, seed, err);
    if (!d)
        return err ? err->status : PK_ENOMEM;
    if (!strcmp(name, "linreg"))
        *p = (pk_program){"linreg", "Bayesian linear regression, n points", {prog_linreg, d, 3}, lr_names, d};
    else if (!strcmp(name, "hmm"))
        *p = (pk_program){"hmm", "3-state HMM with Gaussian emissions, n steps", {prog_hmm, d, 1}, hmm_names, d};
    else
        *p = (pk_program){"lda", "LDA, 2 topics x 5 words, n words in 8 documents", {prog_lda, d, 1}, lda_names, d};
    return PK_OK;
}

/* ---- the same programs in explicit sequential form ---------------------------------- */

typedef struct lr_state {
    double a, b, s;
} lr_state;

static void lr_init(pk_ctx *ctx, const void *data, void *state, double *out)
{
    (void)data;
    lr_state *st = state;
    st->a = pk_sample(ctx, pk_normal(0, 2));
    st->b = pk_sample(ctx, pk_normal(0, 2));
    st->s = pk_sample(ctx, pk_gamma(1, 1));
    out[0] = st->a, out[1] = st->b, out[2] = st->s;
}

static void lr_step(pk_ctx *ctx, const void *data, size_t t, void *state, double *out)
{
    const seq_data *d = data;
    const lr_state *st = state;
    (void)out;
    pk_observe(ctx, pk_normal(st->a * d->x[t] + st->b, 1.0 / sqrt(st->s)), d->y[t]);
}

static void hmm_init_s(pk_ctx *ctx, const void *data, void *state, double *out)
{
    (void)ctx, (void)data;
    *(int *)state = -1;
    out[0] = -1;
}

static void hmm_step_s(pk_ctx *ctx, const void *data, size_t t, void *state, double *out)
{
    const seq_data *d = data;
    int *s = state;
    *s = (int)pk_sample(ctx, pk_categorical(t == 0 ? hmm_p0 : hmm_T[*s], 3));
    out[0] = *s;
    pk_observe(ctx, pk_normal(*s - 1.0, 1.0), d->y[t]);
}

typedef struct lda_state {
    double phi[2][5], theta[8][2];
} lda_state;

static void lda_init(pk_ctx *ctx, const void *data, void *state, double *out)
{
    (void)data;
    lda_state *st = state;
    for (int k = 0; k < 2; k++) {
        double s = 0;
        for (int v = 0; v < 5; v++)
            s += st->phi[k][v] = pk_sample(ctx, pk_gamma(1, 1));
        for (int v = 0; v < 5; v++)
            st->phi[k][v] /= s;
    }
    for (int j = 0; j < 8; j++) {
        double s = 0;
        for (int k = 0; k < 2; k++)
            s += st->theta[j][k] = pk_sample(ctx, pk_gamma(1, 1));
        for (int k = 0; k < 2; k++)
            st->theta[j][k] /= s;
    }
    out[0] = st->phi[0][0];
}

static void lda_step(pk_ctx *ctx, const void *data, size_t t, void *state, double *out)
{
    const seq_data *d = data;
    const lda_state *st = state;
    (void)out;
    int z = (int)pk_sample(ctx, pk_categorical(st->theta[(size_t)d->x[t]], 2));
    pk_observe(ctx, pk_categorical(st->phi[z], 5), d->y[t]);
}

int pk_program_make_ssm(const char *name, size_t size, uint64_t seed, pk_ssm *m, void **owned, pk_err *err)
{
    memset(m, 0, sizeof *m);
    *owned = NULL;
    size_t n;
    if (!strcmp(name, "linreg"))
        n = size ? size : 50;
    else if (!strcmp(name, "hmm"))
        n = size ? size : 16;
    else if (!strcmp(name, "lda"))
        n = size ? size : 40;
    else
        return pk_err_set(err, PK_EINVAL, "program '%s' has no sequential form (linreg, hmm, lda have)", name);
    seq_data *d = make_seq_data(name, n, seed, err);
    if (!d)
        return err ? err->status : PK_ENOMEM;
    *owned = d;
    if (!strcmp(name, "linreg"))
        *m = (pk_ssm){sizeof(lr_state), n, 3, lr_init, lr_step, d};
    else if (!strcmp(name, "hmm"))
        *m = (pk_ssm){sizeof(int), n, 1, hmm_init_s, hmm_step_s, d};
    else
        *m = (pk_ssm){sizeof(lda_state), n, 1, lda_init, lda_step, d};
    return PK_OK;
}

void pk_program_ssm_free(void *owned) { free_seq(owned); }
