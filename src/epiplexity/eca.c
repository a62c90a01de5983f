/* eca.c — elementary cellular automata and the online MLP observer.
 *
 * The observer sees a fresh batch at every step, so the loss of a batch
 * before the update on it is an honest prequential code length: no sample is
 * ever coded by a model that has already seen it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/epiplexity.h"
#include "probkit/nn.h"

int pk_eca_step(unsigned rule, const uint8_t *state, size_t width, uint8_t *next)
{
    if (rule > 255 || !state || !next || width < 3 || state == next)
        return PK_EINVAL;
    for (size_t i = 0; i < width; i++) {
        unsigned l = state[(i + width - 1) % width] & 1, c = state[i] & 1, r = state[(i + 1) % width] & 1;
        next[i] = (uint8_t)((rule >> (4 * l + 2 * c + r)) & 1);
    }
    return PK_OK;
}

/* A ring of w <= 64 cells packed in one word (cell i = bit i): a generation
 * is a handful of word operations instead of w table lookups, which matters
 * because every sample burns in for a thousand generations. */
static uint64_t ring_step(unsigned rule, uint64_t s, size_t w)
{
    const uint64_t mask = w == 64 ? ~(uint64_t)0 : (((uint64_t)1 << w) - 1);
    /* left neighbour of cell i is cell i-1: bit i of l is bit i-1 of s (ring) */
    uint64_t l = ((s << 1) | (s >> (w - 1))) & mask;
    uint64_t r = ((s >> 1) | (s << (w - 1))) & mask;
    uint64_t out = 0;
    for (unsigned p = 0; p < 8; p++) {
        if (!((rule >> p) & 1))
            continue;
        uint64_t ml = (p & 4) ? l : ~l, mc = (p & 2) ? s : ~s, mr = (p & 1) ? r : ~r;
        out |= ml & mc & mr;
    }
    return out & mask;
}

int pk_eca_sample(unsigned rule, size_t width, size_t burnin, size_t steps, pk_rng *rng, uint8_t *in, uint8_t *out)
{
    if (rule > 255 || width < 3 || !rng || !in || !out)
        return PK_EINVAL;
    if (width <= 64) {
        uint64_t s = 0;
        for (size_t i = 0; i < width; i++)
            s |= (uint64_t)(pk_rng_uniform(rng) < 0.5) << i;
        for (size_t g = 0; g < burnin; g++)
            s = ring_step(rule, s, width);
        for (size_t i = 0; i < width; i++)
            in[i] = (uint8_t)((s >> i) & 1);
        for (size_t g = 0; g < steps; g++)
            s = ring_step(rule, s, width);
        for (size_t i = 0; i < width; i++)
            out[i] = (uint8_t)((s >> i) & 1);
        return PK_OK;
    }
    uint8_t *a = malloc(2 * width), *b;
    if (!a)
        return PK_ENOMEM;
    b = a + width;
    for (size_t i = 0; i < width; i++)
        a[i] = pk_rng_uniform(rng) < 0.5;
    for (size_t g = 0; g < burnin + steps; g++) {
        if (g == burnin)
            memcpy(in, a, width);
        pk_eca_step(rule, a, width, b);
        uint8_t *t = a;
        a = b;
        b = t;
    }
    if (steps == 0)
        memcpy(in, a, width);
    memcpy(out, a, width);
    free(a < b ? a : b);
    return PK_OK;
}

pk_epi_eca_opts pk_epi_eca_opts_default(void)
{
    pk_epi_eca_opts o = {PK_EPI_MLP, 4, 64, 48, 1000, 256, 64, 2000, 1e-3, 2048};
    return o;
}

typedef struct observer {
    pk_nn_params *P;
    pk_nn_tensor *W[3], *b[3];
    pk_nn_ctx *C;
    pk_nn_optim *opt;
    int circ;
    int32_t *wid[3], *bid[3]; /* CIRCULANT: gather indices that expand kernels into matrices */
    int64_t rows[3], cols[3];
} observer;

static void observer_free(observer *m)
{
    pk_nn_optim_free(m->opt);
    pk_nn_params_free(m->P);
    pk_nn_ctx_free(m->C);
    for (int l = 0; l < 3; l++) {
        free(m->wid[l]);
        free(m->bid[l]);
    }
}

/* Layer l of the circulant observer maps ci channels x w cells to co x w:
 * W[(o, i), (c, j)] = k[o, c, (i - j) mod w], bias[(o, i)] = b[o]. */
static int circulant_layer(observer *m, int l, size_t ci, size_t co, size_t w, pk_rng *rng, pk_err *err)
{
    static const char *wn[3] = {"c0.kernel", "c1.kernel", "c2.kernel"}, *bn[3] = {"c0.bias", "c1.bias", "c2.bias"};
    (void)rng;
    m->rows[l] = (int64_t)(co * w);
    m->cols[l] = (int64_t)(ci * w);
    m->W[l] = pk_nn_params_add(m->P, wn[l], 1, (int64_t[]){(int64_t)(co * ci * w)});
    m->b[l] = pk_nn_params_add(m->P, bn[l], 1, (int64_t[]){(int64_t)co});
    m->wid[l] = malloc((size_t)(m->rows[l] * m->cols[l]) * sizeof *m->wid[l]);
    m->bid[l] = malloc((size_t)m->rows[l] * sizeof *m->bid[l]);
    if (!m->W[l] || !m->b[l] || !m->wid[l] || !m->bid[l])
        return pk_err_set(err, PK_ENOMEM, "epiplexity: out of memory");
    for (size_t o = 0; o < co; o++)
        for (size_t i = 0; i < w; i++) {
            m->bid[l][o * w + i] = (int32_t)o;
            for (size_t c = 0; c < ci; c++)
                for (size_t j = 0; j < w; j++)
                    m->wid[l][(o * w + i) * ci * w + c * w + j] = (int32_t)((o * ci + c) * w + (i + w - j) % w);
        }
    return PK_OK;
}

static int observer_new(observer *m, const pk_epi_eca_opts *o, pk_rng *rng, pk_err *err)
{
    memset(m, 0, sizeof *m);
    m->P = pk_nn_params_new();
    m->C = pk_nn_ctx_new();
    if (!m->P || !m->C)
        return pk_err_set(err, PK_ENOMEM, "epiplexity: out of memory");
    size_t width = o->width;
    m->circ = o->observer == PK_EPI_CIRCULANT;
    int64_t fan[3];
    if (m->circ) {
        const size_t ch[4] = {1, o->channels, o->channels, 1};
        for (int l = 0; l < 3; l++) {
            int st = circulant_layer(m, l, ch[l], ch[l + 1], width, rng, err);
            if (st != PK_OK)
                return st;
            fan[l] = (int64_t)(ch[l] * width);
        }
    } else {
        const int64_t d[4] = {(int64_t)width, (int64_t)o->hidden, (int64_t)o->hidden, (int64_t)width};
        static const char *wn[3] = {"l0.weight", "l1.weight", "l2.weight"}, *bn[3] = {"l0.bias", "l1.bias", "l2.bias"};
        for (int l = 0; l < 3; l++) {
            m->W[l] = pk_nn_params_add(m->P, wn[l], 2, (int64_t[]){d[l + 1], d[l]});
            m->b[l] = pk_nn_params_add(m->P, bn[l], 1, (int64_t[]){d[l + 1]});
            fan[l] = d[l];
        }
    }
    if (pk_nn_params_alloc(m->P) != PK_OK)
        return pk_err_set(err, PK_ENOMEM, "epiplexity: out of memory for the observer");
    for (int l = 0; l < 3; l++) {
        pk_nn_init_kaiming_uniform(m->W[l], fan[l], rng);
        pk_nn_init_const(m->b[l], 0);
    }
    pk_nn_optim_params op = pk_nn_optim_params_default(PK_NN_ADAM);
    m->opt = pk_nn_optim_new(m->P, &op, err);
    return m->opt ? PK_OK : PK_ENOMEM;
}

static pk_nn_tensor *layer(observer *m, int l, pk_nn_tensor *h)
{
    if (!m->circ)
        return pk_nn_linear(m->C, h, m->W[l], m->b[l]);
    pk_nn_tensor *W = pk_nn_index_select(m->C, m->W[l], 0, m->wid[l], m->rows[l] * m->cols[l]);
    W = pk_nn_reshape(m->C, W, 2, (int64_t[]){m->rows[l], m->cols[l]});
    pk_nn_tensor *b = pk_nn_index_select(m->C, m->b[l], 0, m->bid[l], m->rows[l]);
    return pk_nn_linear(m->C, h, W, b);
}

/* Probabilities of every cell of a batch (no gradient) into p. */
static int predict(observer *m, const float *x, size_t B, size_t width, float *p, pk_err *err)
{
    pk_nn_ctx_reset(m->C);
    pk_nn_ctx_set_grad(m->C, 0);
    pk_nn_tensor *h = pk_nn_input_copy(m->C, 2, (int64_t[]){(int64_t)B, (int64_t)width}, x);
    h = pk_nn_relu(m->C, layer(m, 0, h));
    h = pk_nn_relu(m->C, layer(m, 1, h));
    h = pk_nn_sigmoid(m->C, layer(m, 2, h));
    pk_nn_ctx_set_grad(m->C, 1);
    if (!h)
        return pk_err_set(err, PK_EINTERNAL, "epiplexity: %s", pk_nn_ctx_error(m->C));
    memcpy(p, h->data, B * width * sizeof *p);
    return PK_OK;
}

/* Mean binary cross-entropy (nats per bit) of a batch; one Adam step if lr > 0. */
static int observe(observer *m, const float *x, const float *y, size_t B, size_t width, double lr, double *loss,
                   pk_err *err)
{
    pk_nn_ctx_reset(m->C);
    pk_nn_ctx_set_grad(m->C, lr > 0);
    const int64_t shp[2] = {(int64_t)B, (int64_t)width};
    pk_nn_tensor *h = pk_nn_input_copy(m->C, 2, shp, x);
    pk_nn_tensor *t = pk_nn_input_copy(m->C, 2, shp, y);
    h = pk_nn_relu(m->C, layer(m, 0, h));
    h = pk_nn_relu(m->C, layer(m, 1, h));
    pk_nn_tensor *L = pk_nn_bce_with_logits(m->C, layer(m, 2, h), t);
    int st = PK_OK;
    if (!L)
        st = pk_err_set(err, PK_EINTERNAL, "epiplexity: %s", pk_nn_ctx_error(m->C));
    else
        *loss = L->data[0];
    if (st == PK_OK && lr > 0) {
        pk_nn_params_zero_grad(m->P);
        if (pk_nn_backward(m->C, L) != PK_OK)
            st = pk_err_set(err, PK_EINTERNAL, "epiplexity: %s", pk_nn_ctx_error(m->C));
        else
            pk_nn_optim_step(m->opt, lr);
    }
    pk_nn_ctx_set_grad(m->C, 1);
    return st;
}

static void fill(unsigned rule, const pk_epi_eca_opts *o, pk_rng *rng, size_t B, float *x, float *y, uint8_t *in,
                 uint8_t *out)
{
    for (size_t i = 0; i < B; i++) {
        pk_eca_sample(rule, o->width, o->burnin, o->steps, rng, in, out);
        for (size_t j = 0; j < o->width; j++) {
            x[i * o->width + j] = in[j] ? 1.0f : -1.0f;
            y[i * o->width + j] = out[j];
        }
    }
}

static int check_run(unsigned rule, const pk_epi_eca_opts *o, int has_out, pk_err *err)
{
    if (!o || !has_out)
        return pk_err_set(err, PK_EINVAL, "epiplexity: NULL options or output");
    if (rule > 255 || o->width < 3 || o->hidden < 1 || o->batch < 1 || o->train_steps < 1 || !(o->lr > 0) ||
        o->eval_samples < 1 || (o->observer != PK_EPI_MLP && o->observer != PK_EPI_CIRCULANT) ||
        (o->observer == PK_EPI_CIRCULANT && (o->channels < 1 || o->channels * o->width > 4096)))
        return pk_err_set(err, PK_EINVAL,
                          "epiplexity: need rule in [0, 255], width >= 3, and hidden, batch, steps, eval samples >= 1");
    return PK_OK;
}

int pk_epi_eca_run(unsigned rule, const pk_epi_eca_opts *o, uint64_t seed, double *curve, pk_epi_code *out,
                   pk_err *err)
{
    int st0 = check_run(rule, o, out != NULL, err);
    if (st0 != PK_OK)
        return st0;
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    observer m;
    int st = observer_new(&m, o, &rng, err);
    size_t B = o->batch > o->eval_samples ? o->batch : o->eval_samples;
    float *x = malloc(B * o->width * sizeof *x), *y = malloc(B * o->width * sizeof *y);
    uint8_t *in = malloc(2 * o->width);
    double *loss = malloc(o->train_steps * sizeof *loss), *tok = malloc(o->train_steps * sizeof *tok);
    if (st == PK_OK && (!x || !y || !in || !loss || !tok))
        st = pk_err_set(err, PK_ENOMEM, "epiplexity: out of memory");
    for (size_t t = 0; t < o->train_steps && st == PK_OK; t++) {
        fill(rule, o, &rng, o->batch, x, y, in, in + o->width);
        st = observe(&m, x, y, o->batch, o->width, o->lr, &loss[t], err);
        tok[t] = (double)(o->batch * o->width);
        if (curve && st == PK_OK)
            curve[t] = loss[t];
    }
    double final = 0;
    if (st == PK_OK) { /* the final model on fresh held-out samples */
        fill(rule, o, &rng, o->eval_samples, x, y, in, in + o->width);
        st = observe(&m, x, y, o->eval_samples, o->width, 0, &final, err);
    }
    if (st == PK_OK)
        st = pk_epi_prequential(loss, tok, o->train_steps, final, out, err);
    free(x);
    free(y);
    free(in);
    free(loss);
    free(tok);
    observer_free(&m);
    return st;
}

/* KL(Bern(p) || Bern(q)) in nats, probabilities kept off 0 and 1 as float sigmoids are */
static double bern_kl(double p, double q)
{
    const double e = 1e-7;
    p = p < e ? e : p > 1 - e ? 1 - e : p;
    q = q < e ? e : q > 1 - e ? 1 - e : q;
    return p * log(p / q) + (1 - p) * log((1 - p) / (1 - q));
}

int pk_epi_eca_requential(unsigned rule, const pk_epi_eca_opts *o, uint64_t seed, pk_epi_req *out, pk_err *err)
{
    int st0 = check_run(rule, o, out != NULL, err);
    if (st0 != PK_OK)
        return st0;
    memset(out, 0, sizeof *out);
    pk_rng rng, init;
    pk_rng_seed(&rng, seed);
    init = rng; /* teacher and student start from the same weights */
    observer te, stu;
    memset(&stu, 0, sizeof stu);
    int st = observer_new(&te, o, &rng, err);
    if (st == PK_OK)
        st = observer_new(&stu, o, &init, err);
    size_t B = o->batch > o->eval_samples ? o->batch : o->eval_samples, W = o->width, T = o->train_steps;
    float *x = malloc(B * W * sizeof *x), *y = malloc(B * W * sizeof *y), *p = malloc(B * W * sizeof *p),
          *q = malloc(B * W * sizeof *q), *ys = malloc(B * W * sizeof *ys);
    uint8_t *in = malloc(2 * W);
    double *loss = malloc(T * sizeof *loss), *tok = malloc(T * sizeof *tok);
    if (st == PK_OK && (!x || !y || !p || !q || !ys || !in || !loss || !tok))
        st = pk_err_set(err, PK_ENOMEM, "epiplexity: out of memory");
    double kl_sum = 0, kl_tail = 0, tokens = 0, l;
    size_t tail_from = T - (T + 19) / 20, tail_n = 0;
    for (size_t t = 0; t < T && st == PK_OK; t++) {
        fill(rule, o, &rng, o->batch, x, y, in, in + W);
        st = observe(&te, x, y, o->batch, W, o->lr, &loss[t], err); /* the teacher learns from the data */
        tok[t] = (double)(o->batch * W);
        tokens += tok[t];
        if (st == PK_OK)
            st = predict(&te, x, o->batch, W, p, err);
        if (st == PK_OK)
            st = predict(&stu, x, o->batch, W, q, err);
        if (st != PK_OK)
            break;
        double kl = 0;
        for (size_t i = 0; i < o->batch * W; i++) {
            kl += bern_kl(p[i], q[i]);
            ys[i] = pk_rng_uniform(&rng) < p[i] ? 1.0f : 0.0f;
        }
        kl_sum += kl;
        if (t >= tail_from)
            kl_tail += kl / (double)(o->batch * W), tail_n++;
        st = observe(&stu, x, ys, o->batch, W, o->lr, &l, err); /* the student learns from the teacher's samples */
    }
    if (st == PK_OK) {
        fill(rule, o, &rng, o->eval_samples, x, y, in, in + W);
        st = observe(&te, x, y, o->eval_samples, W, 0, &out->teacher_final_loss, err);
        if (st == PK_OK)
            st = observe(&stu, x, y, o->eval_samples, W, 0, &out->student_final_loss, err);
    }
    if (st == PK_OK)
        st = pk_epi_prequential(loss, tok, T, out->teacher_final_loss, &out->prequential, err);
    if (st == PK_OK) {
        out->epiplexity_bits = kl_sum / M_LN2;
        out->entropy_bits = out->student_final_loss * tokens / M_LN2;
        out->final_kl = tail_n ? kl_tail / (double)tail_n : NAN;
    }
    free(x), free(y), free(p), free(q), free(ys), free(in), free(loss), free(tok);
    observer_free(&te);
    observer_free(&stu);
    return st;
}
