/* "Wide and Deep Neural Networks Achieve Optimality for Classification"
 * (Radhakrishnan, Belkin, Uhler): NNGP and NTK of infinitely wide depth-L
 * fully connected networks on the unit sphere, for any activation given by its
 * normalised Hermite coefficients (dual activation phi^(xi) = sum a_i^2 xi^i,
 * phi^(1) = 1), kept in signed-log form so that L can run to the thousands
 * (the NTK diagonal grows like phi^'(1)^L while off-diagonal NNGP values can
 * decay super-exponentially). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/theory.h"

void pk_dual_act_relu(pk_dual_act *a)
{
    memset(a, 0, sizeof *a);
    a->type = PK_ACT_RELU;
}

void pk_dual_act_erf(pk_dual_act *a)
{
    memset(a, 0, sizeof *a);
    a->type = PK_ACT_ERF;
}

int pk_dual_act_hermite(const double *coef, size_t deg, pk_dual_act *a)
{
    if (!coef || !a || deg > PK_DUAL_MAXDEG)
        return PK_EINVAL;
    double s = 0;
    for (size_t i = 0; i <= deg; i++) {
        if (!isfinite(coef[i]))
            return PK_EINVAL;
        s += coef[i] * coef[i];
    }
    if (!(s > 0))
        return PK_EINVAL;
    memset(a, 0, sizeof *a);
    a->type = PK_ACT_HERMITE;
    a->deg = deg;
    for (size_t i = 0; i <= deg; i++)
        a->a[i] = coef[i] / sqrt(s);
    return PK_OK;
}

static const double ERF_NORM = 0.72972765622696634; /* asin(2/3) */

double pk_dual_eval(const pk_dual_act *a, double xi, double *deriv)
{
    if (xi > 1)
        xi = 1;
    if (xi < -1)
        xi = -1;
    switch (a->type) {
    case PK_ACT_RELU: {
        /* normalised arc-cosine kernel of degree 1 (sqrt(2) ReLU) */
        double th = acos(xi);
        if (deriv)
            *deriv = (M_PI - th) / M_PI;
        return (sqrt(fmax(0.0, 1 - xi * xi)) + (M_PI - th) * xi) / M_PI;
    }
    case PK_ACT_ERF:
        /* E erf(u) erf(v) = (2/pi) asin(2 rho / 3) for unit-variance inputs */
        if (deriv)
            *deriv = (2.0 / 3.0) / sqrt(1 - 4 * xi * xi / 9) / ERF_NORM;
        return asin(2 * xi / 3) / ERF_NORM;
    default: {
        double v = 0, d = 0;
        for (size_t i = a->deg + 1; i-- > 0;) {
            d = d * xi + v;
            v = v * xi + a->a[i] * a->a[i];
        }
        if (deriv)
            *deriv = d;
        return v;
    }
    }
}

/* Leading power-series term of phi^ (order 0) or phi^' (order 1) at 0:
 * value ~ c xi^p for tiny xi.  Returns 0 if the function vanishes identically. */
static int leading(const pk_dual_act *a, int order, int *p, double *c)
{
    switch (a->type) {
    case PK_ACT_RELU:
        *p = 0;
        *c = order ? 0.5 : 1 / M_PI;
        return 1;
    case PK_ACT_ERF:
        *p = order ? 0 : 1;
        *c = (2.0 / 3.0) / ERF_NORM;
        return 1;
    default:
        for (size_t i = (size_t)order; i <= a->deg; i++) {
            double a2 = a->a[i] * a->a[i];
            if (a2 > 0) {
                *p = (int)i - order;
                *c = order ? (double)i * a2 : a2;
                return 1;
            }
        }
        return 0;
    }
}

/* signed log number: value = sg * exp(lg), sg in {-1, 0, 1} */
typedef struct slog {
    int sg;
    double lg;
} slog;

static slog sl_from(double v)
{
    slog r = {v > 0 ? 1 : v < 0 ? -1 : 0, v != 0 ? log(fabs(v)) : -INFINITY};
    return r;
}

static double sl_val(slog x) { return x.sg ? x.sg * exp(x.lg) : 0.0; }

static slog sl_add(slog x, slog y)
{
    if (!x.sg)
        return y;
    if (!y.sg)
        return x;
    if (x.lg < y.lg) {
        slog t = x;
        x = y;
        y = t;
    }
    double r = exp(y.lg - x.lg) * (x.sg == y.sg ? 1 : -1);
    slog out = {x.sg, x.lg + log1p(r)};
    if (1 + r <= 0) /* exact cancellation */
        out.sg = 0, out.lg = -INFINITY;
    return out;
}

static slog sl_mul(slog x, slog y)
{
    slog r = {x.sg * y.sg, x.lg + y.lg};
    if (!r.sg)
        r.lg = -INFINITY;
    return r;
}

/* phi^ (order 0) or phi^' (order 1) of a signed-log argument. */
static slog dual_sl(const pk_dual_act *a, slog s, int order)
{
    if (s.sg == 0 || s.lg > -40) {
        double d, v = pk_dual_eval(a, sl_val(s), &d);
        return sl_from(order ? d : v);
    }
    int p;
    double c;
    if (!leading(a, order, &p, &c))
        return sl_from(0);
    slog r = {(c > 0 ? 1 : -1) * ((p & 1) ? s.sg : 1), log(fabs(c)) + p * s.lg};
    return r;
}

int pk_deep_kernel(const pk_dual_act *a, double xi, int L, pk_deep_val *nngp, pk_deep_val *ntk)
{
    if (!a || L < 0 || !(xi >= -1 - 1e-12 && xi <= 1 + 1e-12))
        return PK_EINVAL;
    slog S = sl_from(fmax(-1.0, fmin(1.0, xi))), K = S;
    for (int l = 1; l <= L; l++) {
        slog d = dual_sl(a, S, 1);
        S = dual_sl(a, S, 0);
        K = sl_add(S, sl_mul(K, d));
    }
    if (nngp)
        nngp->sign = S.sg, nngp->logabs = S.lg;
    if (ntk)
        ntk->sign = K.sg, ntk->logabs = K.lg;
    return PK_OK;
}

pk_deep_regime pk_dual_regime(const pk_dual_act *a, double *alpha)
{
    double d1, d0;
    pk_dual_eval(a, 1.0, &d1);
    double v0 = pk_dual_eval(a, 0.0, &d0);
    if (alpha)
        *alpha = NAN;
    if (v0 > 1e-15)
        return PK_DEEP_MAJORITY;
    if (d0 >= 1 - 1e-12)
        return PK_DEEP_LINEAR;
    if (d0 <= 1e-15)
        return PK_DEEP_1NN;
    if (alpha)
        *alpha = 2 * log(1 / d0) / log(d1);
    return PK_DEEP_SINGULAR;
}

int pk_dual_act_singular(double alpha, pk_dual_act *a)
{
    /* phi = sqrt(p) h_1 + sqrt(1-p) h_k: phi^'(0) = p, phi^'(1) = p + k (1 - p), and
     * f(p) = 2 log(1/p) / log(p + k (1 - p)) falls from inf (p -> 0) to 2/(k-1)
     * (p -> 1); the smallest k with 2/(k-1) <= 0.9 alpha keeps p away from 1. */
    if (!a || !(alpha > 0) || !isfinite(alpha))
        return PK_EINVAL;
    size_t k = 2;
    while (2.0 / (double)(k - 1) > 0.9 * alpha && k < PK_DUAL_MAXDEG)
        k++;
    if (2.0 / (double)(k - 1) > 0.9 * alpha)
        return PK_EINVAL;
    double lo = 1e-12, hi = 1 - 1e-12;
    for (int it = 0; it < 200; it++) {
        double p = 0.5 * (lo + hi), f = 2 * log(1 / p) / log(p + (double)k * (1 - p));
        if (f > alpha)
            lo = p;
        else
            hi = p;
    }
    double p = 0.5 * (lo + hi), c[PK_DUAL_MAXDEG + 1] = {0};
    c[1] = sqrt(p);
    c[k] = sqrt(1 - p);
    return pk_dual_act_hermite(c, k, a);
}

/* The kernel depends on the inputs only through xi, so the classifier tabulates
 * log|k| on a grid uniform in u = log(1 - xi) (the singular kernels are close to
 * linear in u) and interpolates; cells whose ends differ in sign are evaluated
 * exactly.  Linear interpolation of monotone data is monotone, so
 * nearest-neighbour orderings are kept.  xi within 1e-12 of 1 counts as exactly
 * 1: where phi^'(1) > 1 the point xi = 1 is repelling and a rounding error of
 * 1e-16 in a self inner product would otherwise grow like phi^'(1)^L. */
enum { TAB = 4096 };
static const double U0 = -27.631021115928547; /* log(1e-12) */

typedef struct ktab {
    const pk_dual_act *a;
    int L, use_ntk;
    double du, lg[TAB];
    int sg[TAB];
    pk_deep_val one;
} ktab;

static pk_deep_val kexact(const ktab *t, double xi)
{
    pk_deep_val nv, kv;
    pk_deep_kernel(t->a, fmax(-1.0, fmin(1.0, xi)), t->L, &nv, &kv);
    return t->use_ntk ? kv : nv;
}

static void ktab_init(ktab *t)
{
    t->du = (log(2.0) - U0) / (TAB - 1);
    t->one = kexact(t, 1.0);
    for (int i = 0; i < TAB; i++) {
        pk_deep_val v = kexact(t, 1 - exp(U0 + i * t->du));
        t->lg[i] = v.logabs;
        t->sg[i] = v.sign;
    }
}

static pk_deep_val klookup(const ktab *t, double xi)
{
    double e = 1 - xi;
    if (e < 1e-12)
        return t->one;
    double pos = (log(fmin(e, 2.0)) - U0) / t->du;
    int i = (int)pos;
    if (i >= TAB - 1)
        i = TAB - 2;
    double f = pos - i;
    if (t->sg[i] != t->sg[i + 1] || !t->sg[i] || !isfinite(t->lg[i]) || !isfinite(t->lg[i + 1]))
        return kexact(t, xi);
    pk_deep_val v = {t->sg[i], (1 - f) * t->lg[i] + f * t->lg[i + 1]};
    return v;
}

int pk_deep_classify(const pk_dual_act *a, int L, int use_ntk, const pk_mat *Xtr, const double *ytr,
                     const pk_mat *Xte, double ridge, double *score)
{
    if (!a || L < 0 || !Xtr || !ytr || !Xte || !score || Xtr->cols != Xte->cols || !(ridge >= 0))
        return PK_EINVAL;
    size_t n = Xtr->rows, m = Xte->rows, d = Xtr->cols;
    pk_mat *K = pk_mat_new(n, n);
    ktab *tab = malloc(sizeof *tab);
    double *lg = malloc(n * n * sizeof *lg), *alpha = malloc(n * sizeof *alpha);
    int *sg = malloc(n * n * sizeof *sg);
    int st = PK_ENOMEM;
    if (!K || !lg || !alpha || !sg || !tab)
        goto done;
    tab->a = a, tab->L = L, tab->use_ntk = use_ntk;
    ktab_init(tab);
    /* training kernel in signed log form, then scaled by its largest entry */
    double top = -INFINITY;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++) {
            pk_deep_val v = klookup(tab, pk_dot(pk_mat_at(Xtr, i, 0), pk_mat_at(Xtr, j, 0), d));
            lg[i * n + j] = lg[j * n + i] = v.logabs;
            sg[i * n + j] = sg[j * n + i] = v.sign;
            if (v.sign && v.logabs > top)
                top = v.logabs;
        }
    if (!isfinite(top)) {
        st = PK_EDOM;
        goto done;
    }
    for (size_t i = 0; i < n * n; i++)
        K->data[i] = sg[i] ? sg[i] * exp(lg[i] - top) : 0.0;
    for (size_t i = 0; i < n; i++)
        K->data[i * n + i] += ridge;
    pk_mat B = pk_mat_view(alpha, n, 1);
    memcpy(alpha, ytr, n * sizeof *alpha);
    double jit;
    if ((st = pk_cholesky(K, 1e-13, 8, &jit)) || (st = pk_cholesky_solve(K, &B)))
        goto done;
    /* score_t = sum_i k(x_t, x_i) alpha_i, summed in signed log form */
    for (size_t t = 0; t < m; t++) {
        slog acc = {0, -INFINITY};
        for (size_t i = 0; i < n; i++) {
            pk_deep_val v = klookup(tab, pk_dot(pk_mat_at(Xte, t, 0), pk_mat_at(Xtr, i, 0), d));
            slog kk = {v.sign, v.logabs - top};
            acc = sl_add(acc, sl_mul(kk, sl_from(alpha[i])));
        }
        /* the sign is what matters; the magnitude is clipped to the double range */
        score[t] = acc.sg ? acc.sg * exp(fmax(-700.0, fmin(acc.lg, 700.0))) : 0.0;
    }
    st = PK_OK;
done:
    pk_mat_free(K);
    free(tab);
    free(lg);
    free(alpha);
    free(sg);
    return st;
}

static double sqdist(const double *x, const double *z, size_t d)
{
    double s = 0;
    for (size_t j = 0; j < d; j++)
        s += (x[j] - z[j]) * (x[j] - z[j]);
    return s;
}

int pk_singular_kernel_classify(double alpha, const pk_mat *Xtr, const double *ytr, const pk_mat *Xte,
                                double *score)
{
    if (!(alpha > 0) || !isfinite(alpha) || !Xtr || !ytr || !Xte || !score || Xtr->cols != Xte->cols ||
        Xtr->rows == 0)
        return PK_EINVAL;
    size_t n = Xtr->rows, d = Xtr->cols;
    for (size_t t = 0; t < Xte->rows; t++) {
        const double *x = pk_mat_at(Xte, t, 0);
        /* weights |x - x_i|^-alpha relative to the nearest point's, so that no
         * power over- or underflows; a training point at distance 0 carries
         * infinite weight: the score is then the sum of the coinciding labels */
        double dmin = INFINITY, hit = 0;
        int nhit = 0;
        for (size_t i = 0; i < n; i++) {
            double s = sqdist(x, pk_mat_at(Xtr, i, 0), d);
            if (s == 0)
                hit += ytr[i], nhit++;
            else if (s < dmin)
                dmin = s;
        }
        if (nhit) {
            score[t] = hit;
            continue;
        }
        double acc = 0;
        for (size_t i = 0; i < n; i++) {
            /* pow is the cost here: the common exponents without it */
            double r = dmin / sqdist(x, pk_mat_at(Xtr, i, 0), d);
            acc += ytr[i] * (alpha == 1 ? sqrt(r) : alpha == 2 ? r : pow(r, 0.5 * alpha));
        }
        score[t] = acc;
    }
    return PK_OK;
}
