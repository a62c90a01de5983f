/* Adaptive Gauss-Kronrod quadrature (see quad.h for why it is ours). */
#include "quad.h"

#include <math.h>
#include <stdlib.h>

#include "probkit/core.h"

struct pk_quad_ws {
    size_t limit;
    double *a, *b, *r, *e;
};

pk_quad_ws *pk_quad_ws_new(size_t limit)
{
    if (limit == 0)
        return NULL;
    pk_quad_ws *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->limit = limit;
    w->a = malloc(limit * sizeof *w->a), w->b = malloc(limit * sizeof *w->b);
    w->r = malloc(limit * sizeof *w->r), w->e = malloc(limit * sizeof *w->e);
    if (!w->a || !w->b || !w->r || !w->e) {
        pk_quad_ws_free(w);
        return NULL;
    }
    return w;
}

void pk_quad_ws_free(pk_quad_ws *ws)
{
    if (!ws)
        return;
    free(ws->a), free(ws->b), free(ws->r), free(ws->e);
    free(ws);
}

/* Kronrod 15-point abscissae (positive half, last = centre) and weights; the
 * odd-indexed abscissae are the 7-point Gauss nodes with weights wg. */
static const double xgk[8] = {0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
                              0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
                              0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
                              0.207784955007898467600689403773245, 0.0};
static const double wgk[8] = {0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
                              0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
                              0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
                              0.204432940075298892414161999234649, 0.209482141084727828012999174891714};
static const double wg[4] = {0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
                             0.381830050505118944950369775488975, 0.417959183673469387755102040816327};

static int gk15(double (*f)(double, void *), void *par, double a, double b, double *res, double *err)
{
    double c = 0.5 * (a + b), h = 0.5 * (b - a), fc = f(c, par);
    double rk = wgk[7] * fc, rg = wg[3] * fc;
    if (!isfinite(fc))
        return PK_EDOM;
    for (int j = 0; j < 7; j++) {
        double f1 = f(c - h * xgk[j], par), f2 = f(c + h * xgk[j], par);
        if (!isfinite(f1) || !isfinite(f2))
            return PK_EDOM;
        rk += wgk[j] * (f1 + f2);
        if (j & 1)
            rg += wg[j / 2] * (f1 + f2);
    }
    *res = rk * h;
    *err = fabs((rk - rg) * h);
    return PK_OK;
}

int pk_quad_adapt(double (*f)(double x, void *par), void *par, double a, double b, double epsabs, double epsrel,
                  pk_quad_ws *ws, double *result, double *abserr)
{
    if (!f || !ws || !result || !abserr || !(a < b) || !isfinite(a) || !isfinite(b) || !(epsabs >= 0) ||
        !(epsrel >= 0))
        return PK_EINVAL;
    size_t k = 1;
    ws->a[0] = a, ws->b[0] = b;
    int st = gk15(f, par, a, b, &ws->r[0], &ws->e[0]);
    if (st)
        return st;
    for (;;) {
        double tot = 0, err = 0;
        size_t worst = 0;
        for (size_t i = 0; i < k; i++) {
            tot += ws->r[i], err += ws->e[i];
            if (ws->e[i] > ws->e[worst])
                worst = i;
        }
        *result = tot, *abserr = err;
        if (err <= fmax(epsabs, epsrel * fabs(tot)))
            return PK_OK;
        double lo = ws->a[worst], hi = ws->b[worst], mid = 0.5 * (lo + hi);
        if (k == ws->limit || !(mid > lo && mid < hi))
            return PK_EMAXITER;
        if ((st = gk15(f, par, lo, mid, &ws->r[worst], &ws->e[worst])) ||
            (st = gk15(f, par, mid, hi, &ws->r[k], &ws->e[k])))
            return st;
        ws->b[worst] = mid, ws->a[k] = mid, ws->b[k] = hi;
        k++;
    }
}
