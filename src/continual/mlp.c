/* mlp.c — the paper's small ReLU network, written out by hand.
 *
 * HMC evaluates this network tens of thousands of times on a few hundred
 * rows; at these sizes (2 -> 10 -> 10 -> 2) a direct loop beats any tensor
 * engine, and keeping the scratch on the stack lets chains run concurrently.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/continual.h"

size_t pk_cl_mlp_nparams(const pk_cl_mlp *m)
{
    if (!m || m->in < 1 || m->hidden < 1 || m->hidden > PK_CL_MAX_HIDDEN || m->out < 2 || m->out > PK_CL_MAX_OUT)
        return 0;
    size_t h = m->hidden;
    return h * m->in + h + h * h + h + m->out * h + m->out;
}

typedef struct layout {
    const double *W1, *b1, *W2, *b2, *W3, *b3;
} layout;

static layout split(const pk_cl_mlp *m, const double *t)
{
    size_t h = m->hidden;
    layout L;
    L.W1 = t;
    L.b1 = L.W1 + h * m->in;
    L.W2 = L.b1 + h;
    L.b2 = L.W2 + h * h;
    L.W3 = L.b2 + h;
    L.b3 = L.W3 + m->out * h;
    return L;
}

/* Forward one row; keeps the hidden activations for the backward pass. */
static void forward(const pk_cl_mlp *m, const layout *L, const double *x, double *a1, double *a2, double *z)
{
    size_t h = m->hidden;
    for (size_t j = 0; j < h; j++) {
        double s = L->b1[j];
        const double *w = L->W1 + j * m->in;
        for (size_t k = 0; k < m->in; k++)
            s += w[k] * x[k];
        a1[j] = s > 0 ? s : 0;
    }
    for (size_t j = 0; j < h; j++) {
        double s = L->b2[j];
        const double *w = L->W2 + j * h;
        for (size_t k = 0; k < h; k++)
            s += w[k] * a1[k];
        a2[j] = s > 0 ? s : 0;
    }
    for (size_t c = 0; c < m->out; c++) {
        double s = L->b3[c];
        const double *w = L->W3 + c * h;
        for (size_t k = 0; k < h; k++)
            s += w[k] * a2[k];
        z[c] = s;
    }
}

static double log_softmax_at(const double *z, size_t K, size_t y, double *p)
{
    double mx = z[0];
    for (size_t c = 1; c < K; c++)
        if (z[c] > mx)
            mx = z[c];
    double s = 0;
    for (size_t c = 0; c < K; c++) {
        p[c] = exp(z[c] - mx);
        s += p[c];
    }
    for (size_t c = 0; c < K; c++)
        p[c] /= s;
    return z[y] - mx - log(s);
}

double pk_cl_mlp_loglik(const pk_cl_mlp *m, const double *theta, const double *X, const int32_t *y, size_t n,
                        double *grad)
{
    size_t np = pk_cl_mlp_nparams(m);
    if (!np || !theta || (n && (!X || !y)))
        return NAN;
    size_t h = m->hidden, K = m->out;
    layout L = split(m, theta);
    double *gW1 = NULL, *gb1 = NULL, *gW2 = NULL, *gb2 = NULL, *gW3 = NULL, *gb3 = NULL;
    if (grad) {
        memset(grad, 0, np * sizeof *grad);
        gW1 = grad;
        gb1 = gW1 + h * m->in;
        gW2 = gb1 + h;
        gb2 = gW2 + h * h;
        gW3 = gb2 + h;
        gb3 = gW3 + K * h;
    }
    double a1[PK_CL_MAX_HIDDEN], a2[PK_CL_MAX_HIDDEN], z[PK_CL_MAX_OUT], p[PK_CL_MAX_OUT];
    double d2[PK_CL_MAX_HIDDEN], d1[PK_CL_MAX_HIDDEN];
    double ll = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] < 0 || (size_t)y[i] >= K)
            return NAN;
        const double *x = X + i * m->in;
        forward(m, &L, x, a1, a2, z);
        ll += log_softmax_at(z, K, (size_t)y[i], p);
        if (!grad)
            continue;
        /* d loglik / d z = onehot(y) - softmax */
        for (size_t c = 0; c < K; c++) {
            double dz = (c == (size_t)y[i]) - p[c];
            p[c] = dz;
            gb3[c] += dz;
            double *g = gW3 + c * h;
            for (size_t k = 0; k < h; k++)
                g[k] += dz * a2[k];
        }
        for (size_t k = 0; k < h; k++) {
            double s = 0;
            if (a2[k] > 0)
                for (size_t c = 0; c < K; c++)
                    s += p[c] * L.W3[c * h + k];
            d2[k] = s;
        }
        for (size_t j = 0; j < h; j++) {
            if (d2[j] == 0)
                continue;
            gb2[j] += d2[j];
            double *g = gW2 + j * h;
            for (size_t k = 0; k < h; k++)
                g[k] += d2[j] * a1[k];
        }
        for (size_t k = 0; k < h; k++) {
            double s = 0;
            if (a1[k] > 0)
                for (size_t j = 0; j < h; j++)
                    s += d2[j] * L.W2[j * h + k];
            d1[k] = s;
        }
        for (size_t j = 0; j < h; j++) {
            if (d1[j] == 0)
                continue;
            gb1[j] += d1[j];
            double *g = gW1 + j * m->in;
            for (size_t k = 0; k < m->in; k++)
                g[k] += d1[j] * x[k];
        }
    }
    return ll;
}

int pk_cl_mlp_logits(const pk_cl_mlp *m, const double *theta, const double *X, size_t n, double *logits)
{
    if (!pk_cl_mlp_nparams(m) || !theta || (n && (!X || !logits)))
        return PK_EINVAL;
    layout L = split(m, theta);
    double a1[PK_CL_MAX_HIDDEN], a2[PK_CL_MAX_HIDDEN];
    for (size_t i = 0; i < n; i++)
        forward(m, &L, X + i * m->in, a1, a2, logits + i * m->out);
    return PK_OK;
}

int pk_cl_bma_score(const pk_cl_mlp *m, const double *thetas, size_t S, const double *X, const int32_t *y, size_t n,
                    double *accuracy, double *nll)
{
    size_t np = pk_cl_mlp_nparams(m);
    if (!np || !thetas || S == 0 || n == 0 || !X || !y)
        return PK_EINVAL;
    size_t K = m->out;
    double *prob = calloc(n * K, sizeof *prob);
    if (!prob)
        return PK_ENOMEM;
    double z[PK_CL_MAX_OUT], p[PK_CL_MAX_OUT], a1[PK_CL_MAX_HIDDEN], a2[PK_CL_MAX_HIDDEN];
    for (size_t s = 0; s < S; s++) {
        layout L = split(m, thetas + s * np);
        for (size_t i = 0; i < n; i++) {
            forward(m, &L, X + i * m->in, a1, a2, z);
            log_softmax_at(z, K, 0, p);
            for (size_t c = 0; c < K; c++)
                prob[i * K + c] += p[c] / (double)S;
        }
    }
    size_t right = 0;
    double nl = 0;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] < 0 || (size_t)y[i] >= K) {
            bad = 1;
            break;
        }
        size_t best = 0;
        for (size_t c = 1; c < K; c++)
            if (prob[i * K + c] > prob[i * K + best])
                best = c;
        right += best == (size_t)y[i];
        nl -= log(prob[i * K + (size_t)y[i]] > 1e-300 ? prob[i * K + (size_t)y[i]] : 1e-300);
    }
    free(prob);
    if (bad)
        return PK_EINVAL;
    if (accuracy)
        *accuracy = (double)right / (double)n;
    if (nll)
        *nll = nl / (double)n;
    return PK_OK;
}
