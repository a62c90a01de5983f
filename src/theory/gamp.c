/* "Bayes-optimal learning of an extensive-width neural network from
 * quadratically many samples" (Maillard, Troiani, Martin, Krzakala, Zdeborova):
 * the target y = Tr[Z S*] + sqrt(Delta) xi with Z = (x x^T - I)/sqrt(d) and
 * S* = W^T W / sqrt(m d) (W m x d Gaussian, kappa = m/d), n = alpha d^2 samples.
 *
 * Theory.  The spectral law of S* is a free Poisson law of rate kappa scaled by
 * 1/sqrt(kappa): R_S(g) = kappa / (sqrt(kappa) - g).  Adding a semicircle of
 * variance D gives R_Y(g) = R_S(g) + D g, and z = R_Y(g) + 1/g is the cubic
 *     D g^3 - (z + D sqrt(k)) g^2 + (z sqrt(k) - k + 1) g - sqrt(k) = 0
 * in the Stieltjes transform g(z) = int rho(t) / (z - t) dt.  Inside the support
 * the physical root is the complex one: rho_Y(x) = |Im g| / pi and Re g is the
 * Hilbert transform.  The matrix-denoising MMSE of Y = S + sqrt(D) xi (xi GOE
 * with semicircle radius 2) is D - (4 pi^2 / 3) D^2 int rho_Y^3, and the state
 * evolution of GAMP is mse <- mmse((Delta + 2 mse) / (4 alpha)). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_complex.h>
#include <gsl/gsl_poly.h>

#include "probkit/linalg.h"
#include "probkit/theory.h"
#include "quad.h"

int pk_gamp_cubic_roots(double x, double kappa, double D, double re[3], double im[3])
{
    if (!(kappa > 0) || !(D > 0) || !re || !im)
        return PK_EINVAL;
    double sk = sqrt(kappa);
    double a = -(x + D * sk) / D, b = (x * sk - kappa + 1) / D, c = -sk / D;
    gsl_complex z0, z1, z2;
    if (gsl_poly_complex_solve_cubic(a, b, c, &z0, &z1, &z2) != 3)
        return PK_EDOM;
    re[0] = GSL_REAL(z0), im[0] = GSL_IMAG(z0);
    re[1] = GSL_REAL(z1), im[1] = GSL_IMAG(z1);
    re[2] = GSL_REAL(z2), im[2] = GSL_IMAG(z2);
    return PK_OK;
}

double pk_gamp_density(double x, double kappa, double D)
{
    double re[3], im[3];
    if (pk_gamp_cubic_roots(x, kappa, D, re, im))
        return NAN;
    double m = 0;
    for (int i = 0; i < 3; i++)
        m = fmax(m, fabs(im[i]));
    return m / M_PI;
}

typedef struct dpar {
    double kappa, D;
} dpar;

static double rho3(double x, void *p)
{
    const dpar *q = p;
    double r = pk_gamp_density(x, q->kappa, q->D);
    return r * r * r;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* integration breakpoints: the edges of the bulk and of the atom at 0, widened by the semicircle */
static size_t breakpoints(double kappa, double D, double *pts)
{
    double sk = sqrt(kappa), w = 2 * sqrt(D), lo = (1 - sk) * (1 - sk) / sk, hi = (1 + sk) * (1 + sk) / sk;
    size_t k = 0;
    pts[k++] = fmin(0.0, lo) - 1.3 * w - 1e-3;
    pts[k++] = hi + 1.3 * w + 1e-3;
    pts[k++] = lo - 1.1 * w;
    pts[k++] = lo + 1.1 * w;
    pts[k++] = hi - 1.1 * w;
    if (kappa < 1) {
        pts[k++] = -1.1 * w;
        pts[k++] = 1.1 * w;
    }
    qsort(pts, k, sizeof *pts, cmpd);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (pts[i] >= pts[0] && pts[i] <= pts[k - 1] && (u == 0 || pts[i] > pts[u - 1] + 1e-12))
            pts[u++] = pts[i];
    return u;
}

int pk_gamp_denoise_mmse(double kappa, double D, double *mmse)
{
    if (!(kappa > 0) || !(D >= 0) || !mmse)
        return PK_EINVAL;
    if (D < 1e-5) {
        /* the density's peaks become too narrow for the quadrature; mmse / D is
         * flat there (it tends to the fraction of free directions, 2k - k^2 for k < 1) */
        double r;
        int st = pk_gamp_denoise_mmse(kappa, 1e-5, &r);
        *mmse = D * r / 1e-5;
        return st;
    }
    double pts[8];
    size_t np = breakpoints(kappa, D, pts);
    pk_quad_ws *ws = pk_quad_ws_new(2000);
    if (!ws)
        return PK_ENOMEM;
    dpar p = {kappa, D};
    double tot = 0;
    int st = PK_OK;
    for (size_t i = 0; i + 1 < np; i++) {
        double r, e;
        st = pk_quad_adapt(rho3, &p, pts[i], pts[i + 1], 1e-13, 1e-9, ws, &r, &e);
        if (st == PK_EMAXITER && e < 1e-6 * fabs(r) + 1e-12)
            st = PK_OK;
        if (st)
            break;
        tot += r;
    }
    pk_quad_ws_free(ws);
    if (st)
        return st;
    *mmse = fmax(0.0, D - 4 * M_PI * M_PI / 3 * D * D * tot);
    return PK_OK;
}

static int fp_gap(double kappa, double alpha, double noise, double m, double *F)
{
    double mn;
    int st = pk_gamp_denoise_mmse(kappa, (noise + 2 * m) / (4 * alpha), &mn);
    *F = mn - m;
    return st;
}

int pk_gamp_theory(double kappa, double alpha, double noise, double *mse)
{
    if (!(kappa > 0) || !(alpha > 0) || !(noise >= 0) || !mse)
        return PK_EINVAL;
    /* Iterating mse <- mmse(...) from the prior variance 1 decreases
     * monotonically to the largest fixed point, but slows down critically near
     * the recovery threshold; so find that fixed point directly: scan
     * F(m) = mmse(m) - m downward from m = 1 (F(1) <= 0) for the first m with
     * F > 0, then bisect.  No sign change down to 1e-14: perfect recovery. */
    double hi = 1.0, lo = -1, F;
    int st;
    for (int k = 1; k <= 56; k++) {
        double m = pow(10.0, -0.25 * k);
        if ((st = fp_gap(kappa, alpha, noise, m, &F)))
            return st;
        if (F > 0) {
            lo = m;
            break;
        }
        hi = m;
    }
    if (lo < 0) {
        double mn;
        if ((st = pk_gamp_denoise_mmse(kappa, noise / (4 * alpha), &mn)))
            return st;
        *mse = noise > 0 ? mn : 0.0;
        return PK_OK;
    }
    for (int it = 0; it < 60 && hi - lo > 1e-13 * hi; it++) {
        double mid = sqrt(lo * hi);
        if ((st = fp_gap(kappa, alpha, noise, mid, &F)))
            return st;
        if (F > 0)
            lo = mid;
        else
            hi = mid;
    }
    *mse = sqrt(lo * hi);
    return PK_OK;
}
