/* The theory module's private adaptive Gauss-Kronrod quadrature: exact
 * integrals, endpoint singularities, status on an exhausted workspace and on
 * non-finite values (and no dependence on GSL's global error handler). */
#include <math.h>

#include "../../src/theory/quad.h"
#include "pk_test.h"
#include "probkit/core.h"

static double f_poly(double x, void *p)
{
    (void)p;
    return 3 * x * x - 2 * x + 1; /* integral over [0, 2]: 8 - 4 + 2 = 6 */
}
static double f_sqrt(double x, void *p)
{
    (void)p;
    return pow(x, 1.5); /* edge of a semicircle-like density cubed: integral over [0, 1] = 0.4 */
}
static double f_invsqrt(double x, void *p)
{
    (void)p;
    return 1 / sqrt(x); /* integrable singularity: integral over [0, 1] = 2 */
}
static double f_osc(double x, void *p)
{
    double w = *(const double *)p;
    return sin(w * x) / x; /* Si(w) */
}
static double f_nan(double x, void *p)
{
    (void)p;
    return x > 0.5 ? NAN : 1.0;
}

int main(void)
{
    pk_quad_ws *ws = pk_quad_ws_new(200);
    PK_CHECK(ws != NULL);
    PK_CHECK(pk_quad_ws_new(0) == NULL);
    double r, e, w = 20;
    PK_CHECK_OK(pk_quad_adapt(f_poly, NULL, 0, 2, 1e-13, 1e-12, ws, &r, &e));
    PK_CHECK_CLOSE(r, 6.0, 1e-12, 0);
    PK_CHECK_OK(pk_quad_adapt(f_sqrt, NULL, 0, 1, 1e-12, 1e-10, ws, &r, &e));
    PK_CHECK_CLOSE(r, 0.4, 1e-9, 0);
    int st = pk_quad_adapt(f_invsqrt, NULL, 1e-300, 1, 1e-10, 1e-8, ws, &r, &e);
    PK_CHECK(st == PK_OK || st == PK_EMAXITER);
    PK_CHECK_CLOSE(r, 2.0, 1e-6, 0);
    PK_CHECK_OK(pk_quad_adapt(f_osc, &w, 1e-12, 1, 1e-13, 1e-11, ws, &r, &e));
    PK_CHECK_CLOSE(r, 1.5482417010434398, 1e-10, 0); /* Si(20) */
    /* a workspace of one interval cannot meet a tight tolerance on a singular integrand */
    pk_quad_ws *tiny = pk_quad_ws_new(1);
    PK_CHECK(pk_quad_adapt(f_invsqrt, NULL, 1e-12, 1, 1e-14, 1e-14, tiny, &r, &e) == PK_EMAXITER);
    PK_CHECK(pk_quad_adapt(f_nan, NULL, 0, 1, 1e-12, 1e-12, ws, &r, &e) == PK_EDOM);
    PK_CHECK(pk_quad_adapt(f_poly, NULL, 1, 0, 1e-12, 1e-12, ws, &r, &e) == PK_EINVAL);
    pk_quad_ws_free(tiny);
    pk_quad_ws_free(ws);
    pk_quad_ws_free(NULL);
    return pk_test_done();
}
