/* Private to the theory module: adaptive Gauss-Kronrod (7/15) quadrature.
 * It replaces GSL's qags/qag, which report failures through GSL's global error
 * handler (abort by default): the library must not depend on, or toggle, that
 * process-wide state.  No globals, no printing; failures are status codes. */
#ifndef PK_THEORY_QUAD_H
#define PK_THEORY_QUAD_H

#include <stddef.h>

typedef struct pk_quad_ws pk_quad_ws;

/** Workspace for at most `limit` (>= 1) subintervals; NULL on allocation failure. */
pk_quad_ws *pk_quad_ws_new(size_t limit);
void pk_quad_ws_free(pk_quad_ws *ws);

/** Integral of f over [a, b] (a < b, finite) by bisecting the subinterval with the
 *  largest error estimate |K15 - G7| until the summed estimate is at most
 *  max(epsabs, epsrel |I|).  *result and *abserr are set in every case.
 *  @return PK_OK when the tolerance was met; PK_EMAXITER when the workspace is
 *  full or an interval can no longer be halved (the estimate is still returned);
 *  PK_EDOM if f returned a non-finite value; PK_EINVAL on bad arguments. */
int pk_quad_adapt(double (*f)(double x, void *par), void *par, double a, double b, double epsabs, double epsrel,
                  pk_quad_ws *ws, double *result, double *abserr);

#endif
