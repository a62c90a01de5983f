/* protocl.c — Prototypical Bayesian Continual Learning, the paper's Section 7.
 *
 * Instead of a posterior over network weights, the model is generative in an
 * embedding: phi(x) | y=c ~ N(mu_c, (1/Linv_c + s2) I), mu_c ~ N(Q_c/Linv_c, ...),
 * p(y) ~ Dirichlet.  The class posteriors are conjugate, so they are updated
 * exactly (running sums Q_c += phi/s2, Linv_c += 1/s2, counts += 1) with the
 * embeddings of every batch; the encoder is trained by the log predictive
 * p(y | x) computed from the posterior *before* the batch, and a small replay
 * memory keeps old classes in the stream.  A softmax classifier on the same
 * encoder, with and without the same replay memory, is the comparison.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/continual.h"
#include "probkit/nn.h"

struct pk_cl_protocl {
    pk_cl_protocl_opts o;
    pk_nn_params *P;
    pk_nn_optim *opt;
    pk_nn_ctx *C;
    pk_nn_tensor *W[4], *b[4]; /* encoder layers 0..2, softmax head 3 */
    pk_nn_tensor *log_sigma;   /* 1: the class-conditional noise sd, trained with the encoder */
    double *Q;    /* classes x embed */
    double *Linv; /* classes */
    double *dir;  /* classes */
    float *mem_x;
    int32_t *mem_y;
    size_t mem_n;
    int *seen; /* classes */
    pk_rng rng;
};

pk_cl_protocl_opts pk_cl_protocl_opts_default(size_t in, size_t classes)
{
    pk_cl_protocl_opts o;
    o.in = in;
    o.classes = classes;
    o.hidden = 256;
    o.embed = 64;
    o.head = PK_CL_HEAD_PROTO;
    o.sigma_eps = 1.0;
    o.learn_noise = 1;
    o.dir_prior = exp(0.78);
    o.lr = 1e-3;
    o.epochs = 2;
    o.batch = 64;
    o.memory = 1000;
    return o;
}

void pk_cl_protocl_free(pk_cl_protocl *m)
{
    if (!m)
        return;
    pk_nn_optim_free(m->opt);
    pk_nn_params_free(m->P);
    pk_nn_ctx_free(m->C);
    free(m->Q);
    free(m->Linv);
    free(m->dir);
    free(m->mem_x);
    free(m->mem_y);
    free(m->seen);
    free(m);
}

int pk_cl_protocl_new(const pk_cl_protocl_opts *o, uint64_t seed, pk_cl_protocl **out, pk_err *err)
{
    if (!out || !o)
        return pk_err_set(err, PK_EINVAL, "protocl: NULL options or output");
    *out = NULL;
    if (o->in < 1 || o->hidden < 1 || o->embed < 1 || o->classes < 2 || o->batch < 1 || o->epochs < 1 ||
        !(o->sigma_eps > 0) || !(o->dir_prior > 0) || !(o->lr > 0) ||
        (o->head != PK_CL_HEAD_PROTO && o->head != PK_CL_HEAD_SOFTMAX))
        return pk_err_set(err, PK_EINVAL, "protocl: options out of range (sizes >= 1, classes >= 2, sigma_eps, "
                                          "dir_prior, lr > 0, head PROTO or SOFTMAX)");
    pk_cl_protocl *m = calloc(1, sizeof *m);
    if (!m)
        return pk_err_set(err, PK_ENOMEM, "protocl: out of memory");
    m->o = *o;
    pk_rng_seed(&m->rng, seed);
    size_t C = o->classes, D = o->embed;
    m->P = pk_nn_params_new();
    m->C = pk_nn_ctx_new();
    m->Q = malloc(C * D * sizeof *m->Q);
    m->Linv = malloc(C * sizeof *m->Linv);
    m->dir = malloc(C * sizeof *m->dir);
    m->seen = calloc(C, sizeof *m->seen);
    if (o->memory) {
        m->mem_x = malloc(o->memory * o->in * sizeof *m->mem_x);
        m->mem_y = malloc(o->memory * sizeof *m->mem_y);
    }
    if (!m->P || !m->C || !m->Q || !m->Linv || !m->dir || !m->seen || (o->memory && (!m->mem_x || !m->mem_y))) {
        pk_cl_protocl_free(m);
        return pk_err_set(err, PK_ENOMEM, "protocl: out of memory");
    }
    const int64_t dims[5] = {(int64_t)o->in, (int64_t)o->hidden, (int64_t)o->hidden, (int64_t)D, (int64_t)C};
    static const char *wn[4] = {"enc0.weight", "enc1.weight", "enc2.weight", "head.weight"};
    static const char *bn[4] = {"enc0.bias", "enc1.bias", "enc2.bias", "head.bias"};
    for (int l = 0; l < 4; l++) {
        m->W[l] = pk_nn_params_add(m->P, wn[l], 2, (int64_t[]){dims[l + 1], dims[l]});
        m->b[l] = pk_nn_params_add(m->P, bn[l], 1, (int64_t[]){dims[l + 1]});
    }
    m->log_sigma = o->learn_noise ? pk_nn_params_add(m->P, "log_sigma", 2, (int64_t[]){1, 1})
                                  : pk_nn_params_add_buffer(m->P, "log_sigma", 2, (int64_t[]){1, 1});
    if (pk_nn_params_alloc(m->P) != PK_OK) {
        pk_cl_protocl_free(m);
        return pk_err_set(err, PK_ENOMEM, "protocl: out of memory for the encoder");
    }
    for (int l = 0; l < 4; l++) {
        pk_nn_init_kaiming_uniform(m->W[l], dims[l], &m->rng);
        pk_nn_init_const(m->b[l], 0);
    }
    pk_nn_init_const(m->log_sigma, (float)log(o->sigma_eps));
    pk_nn_optim_params op = pk_nn_optim_params_default(PK_NN_ADAM);
    m->opt = pk_nn_optim_new(m->P, &op, err);
    if (!m->opt) {
        pk_cl_protocl_free(m);
        return PK_ENOMEM;
    }
    /* the prior of every class: mean 0, precision 1 (in units of 1/s2 it is
     * weak), Dirichlet pseudo-counts dir_prior */
    memset(m->Q, 0, C * D * sizeof *m->Q);
    for (size_t c = 0; c < C; c++) {
        m->Linv[c] = 1.0;
        m->dir[c] = o->dir_prior;
    }
    *out = m;
    return PK_OK;
}

static pk_nn_tensor *encode(pk_cl_protocl *m, pk_nn_tensor *x)
{
    pk_nn_tensor *h = pk_nn_relu(m->C, pk_nn_linear(m->C, x, m->W[0], m->b[0]));
    h = pk_nn_relu(m->C, pk_nn_linear(m->C, h, m->W[1], m->b[1]));
    return pk_nn_linear(m->C, h, m->W[2], m->b[2]);
}

/* log p(phi, y=c) up to a constant shared by the classes, from the current
 * class posteriors (constants of the graph: the gradient reaches phi only). */
static double sigma2(const pk_cl_protocl *m) { return exp(2.0 * (double)m->log_sigma->data[0]); }

static pk_nn_tensor *proto_logits(pk_cl_protocl *m, pk_nn_tensor *phi)
{
    size_t C = m->o.classes, D = m->o.embed;
    pk_nn_tensor *muT = pk_nn_input(m->C, 2, (int64_t[]){(int64_t)D, (int64_t)C});
    pk_nn_tensor *mu2 = pk_nn_input(m->C, 2, (int64_t[]){1, (int64_t)C});
    pk_nn_tensor *invL = pk_nn_input(m->C, 2, (int64_t[]){1, (int64_t)C});
    pk_nn_tensor *logpi = pk_nn_input(m->C, 2, (int64_t[]){1, (int64_t)C});
    if (!muT || !mu2 || !invL || !logpi)
        return NULL;
    double dsum = 0;
    for (size_t c = 0; c < C; c++)
        dsum += m->dir[c];
    for (size_t c = 0; c < C; c++) {
        double q = 0;
        for (size_t d = 0; d < D; d++) {
            double mu = m->Q[c * D + d] / m->Linv[c];
            muT->data[d * C + c] = (float)mu;
            q += mu * mu;
        }
        mu2->data[c] = (float)q;
        invL->data[c] = (float)(1.0 / m->Linv[c]);
        logpi->data[c] = (float)log(m->dir[c] / dsum);
    }
    /* predictive variance v_c = 1/Linv_c + sigma^2, sigma trained when learn_noise */
    pk_nn_tensor *v = pk_nn_add(m->C, invL, pk_nn_exp(m->C, pk_nn_affine(m->C, m->log_sigma, 2, 0)));
    pk_nn_tensor *p2 = pk_nn_sum(m->C, pk_nn_mul(m->C, phi, phi), 1, 1);          /* B x 1 */
    pk_nn_tensor *cross = pk_nn_affine(m->C, pk_nn_matmul(m->C, phi, muT), -2, 0); /* B x C */
    pk_nn_tensor *dist = pk_nn_add(m->C, pk_nn_add(m->C, cross, p2), mu2);
    pk_nn_tensor *quad = pk_nn_affine(m->C, pk_nn_div(m->C, dist, v), -0.5f, 0);
    pk_nn_tensor *logdet = pk_nn_affine(m->C, pk_nn_log(m->C, v), -0.5f * (float)D, 0);
    return pk_nn_add(m->C, pk_nn_add(m->C, quad, logdet), logpi);
}

static pk_nn_tensor *logits_of(pk_cl_protocl *m, pk_nn_tensor *phi)
{
    if (m->o.head == PK_CL_HEAD_SOFTMAX)
        return pk_nn_linear(m->C, phi, m->W[3], m->b[3]);
    return proto_logits(m, phi);
}

/* Conjugate update of the class posteriors with a batch's embeddings. */
static void absorb(pk_cl_protocl *m, const pk_nn_tensor *phi, const int32_t *y, size_t B)
{
    size_t D = m->o.embed;
    double is2 = 1.0 / sigma2(m);
    for (size_t i = 0; i < B; i++) {
        size_t c = (size_t)y[i];
        for (size_t d = 0; d < D; d++)
            m->Q[c * D + d] += is2 * phi->data[i * D + d];
        m->Linv[c] += is2;
        m->dir[c] += 1;
    }
}

static int step(pk_cl_protocl *m, const float *X, const int32_t *y, size_t B, pk_err *err)
{
    size_t in = m->o.in;
    pk_nn_ctx_reset(m->C);
    pk_nn_tensor *x = pk_nn_input_copy(m->C, 2, (int64_t[]){(int64_t)B, (int64_t)in}, X);
    pk_nn_tensor *phi = encode(m, x);
    pk_nn_tensor *loss = pk_nn_cross_entropy(m->C, logits_of(m, phi), y, 0.0f);
    pk_nn_params_zero_grad(m->P);
    if (!loss || pk_nn_backward(m->C, loss) != PK_OK)
        return pk_err_set(err, PK_EINTERNAL, "protocl: %s", pk_nn_ctx_error(m->C));
    if (!isfinite(loss->data[0]))
        return pk_err_set(err, PK_EDOM, "protocl: the loss became non-finite (lower --lr?)");
    if (m->o.head == PK_CL_HEAD_PROTO)
        absorb(m, phi, y, B);
    pk_nn_optim_step(m->opt, m->o.lr);
    return PK_OK;
}

/* Class-balanced memory: after a task, every class seen so far keeps an equal
 * share of the slots; new classes fill theirs from the task by random choice. */
static void remember(pk_cl_protocl *m, const float *X, const int32_t *y, size_t n)
{
    size_t cap = m->o.memory, in = m->o.in, C = m->o.classes, nseen = 0;
    if (!cap)
        return;
    for (size_t c = 0; c < C; c++)
        nseen += m->seen[c] != 0;
    if (!nseen)
        return;
    size_t per = cap / nseen;
    /* keep at most `per` old rows of each old class */
    size_t *keep = calloc(C, sizeof *keep), w = 0;
    if (!keep)
        return;
    for (size_t i = 0; i < m->mem_n; i++) {
        size_t c = (size_t)m->mem_y[i];
        if (keep[c] < per) {
            keep[c]++;
            memmove(m->mem_x + w * in, m->mem_x + i * in, in * sizeof *m->mem_x);
            m->mem_y[w++] = m->mem_y[i];
        }
    }
    m->mem_n = w;
    /* reservoir-sample `per` rows of each class of this task */
    for (size_t c = 0; c < C; c++) {
        if (keep[c])
            continue; /* an old class */
        size_t taken = 0, seen = 0;
        size_t base = m->mem_n;
        for (size_t i = 0; i < n; i++) {
            if ((size_t)y[i] != c)
                continue;
            seen++;
            size_t slot;
            if (taken < per) {
                if (m->mem_n >= cap)
                    break;
                slot = m->mem_n++;
                taken++;
            } else {
                size_t j = (size_t)(pk_rng_uniform(&m->rng) * (double)seen);
                if (j >= per)
                    continue;
                slot = base + j;
            }
            memcpy(m->mem_x + slot * in, X + i * in, in * sizeof *m->mem_x);
            m->mem_y[slot] = (int32_t)c;
        }
    }
    free(keep);
}

int pk_cl_protocl_learn_task(pk_cl_protocl *m, const float *X, const int32_t *y, size_t n, pk_err *err)
{
    if (!m || !X || !y || n == 0)
        return pk_err_set(err, PK_EINVAL, "protocl: empty task");
    size_t in = m->o.in, B = m->o.batch;
    for (size_t i = 0; i < n; i++) {
        if (y[i] < 0 || (size_t)y[i] >= m->o.classes)
            return pk_err_set(err, PK_EINVAL, "protocl: label %d of row %zu is outside [0, %zu)", (int)y[i], i,
                              m->o.classes);
        for (size_t j = 0; j < in; j++)
            if (!isfinite(X[i * in + j]))
                return pk_err_set(err, PK_EDOM, "protocl: row %zu has a non-finite value", i);
    }
    size_t cap = B * 2;
    float *bx = malloc(cap * in * sizeof *bx);
    int32_t *by = malloc(cap * sizeof *by);
    size_t *order = malloc(n * sizeof *order);
    int st = PK_OK;
    if (!bx || !by || !order) {
        st = pk_err_set(err, PK_ENOMEM, "protocl: out of memory");
        goto done;
    }
    for (size_t e = 0; e < m->o.epochs && st == PK_OK; e++) {
        pk_rng_permutation(&m->rng, order, n);
        for (size_t s = 0; s < n && st == PK_OK; s += B) {
            size_t k = 0;
            for (size_t i = s; i < n && i < s + B; i++, k++) {
                memcpy(bx + k * in, X + order[i] * in, in * sizeof *bx);
                by[k] = y[order[i]];
            }
            for (size_t r = 0; r < B && m->mem_n; r++, k++) { /* as many replayed rows */
                size_t j = (size_t)(pk_rng_uniform(&m->rng) * (double)m->mem_n);
                if (j >= m->mem_n)
                    j = m->mem_n - 1;
                memcpy(bx + k * in, m->mem_x + j * in, in * sizeof *bx);
                by[k] = m->mem_y[j];
            }
            st = step(m, bx, by, k, err);
        }
    }
    if (st == PK_OK) {
        for (size_t i = 0; i < n; i++)
            m->seen[y[i]] = 1;
        remember(m, X, y, n);
    }
done:
    free(bx);
    free(by);
    free(order);
    return st;
}

int pk_cl_protocl_predict(pk_cl_protocl *m, const float *X, size_t n, int32_t *labels, pk_err *err)
{
    if (!m || !X || !labels)
        return pk_err_set(err, PK_EINVAL, "protocl: NULL input or output");
    size_t in = m->o.in, C = m->o.classes, B = 512;
    for (size_t s = 0; s < n; s += B) {
        size_t k = n - s < B ? n - s : B;
        pk_nn_ctx_reset(m->C);
        pk_nn_ctx_set_grad(m->C, 0);
        pk_nn_tensor *x = pk_nn_input_copy(m->C, 2, (int64_t[]){(int64_t)k, (int64_t)in}, X + s * in);
        pk_nn_tensor *z = logits_of(m, encode(m, x));
        pk_nn_ctx_set_grad(m->C, 1);
        if (!z)
            return pk_err_set(err, PK_EINTERNAL, "protocl: %s", pk_nn_ctx_error(m->C));
        for (size_t i = 0; i < k; i++) {
            size_t best = 0;
            for (size_t c = 1; c < C; c++)
                if (z->data[i * C + c] > z->data[i * C + best])
                    best = c;
            labels[s + i] = (int32_t)best;
        }
    }
    return PK_OK;
}

size_t pk_cl_protocl_memory_used(const pk_cl_protocl *m) { return m ? m->mem_n : 0; }
