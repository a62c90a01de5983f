/* probkit/theory.h — computable cores of learning-theory papers.
 *
 * Section "universality": the Bayesian mixture learner of "The Universality
 * Lens" (Feder, Urbanke, Fogel 2025) over a finite (gridded) hypothesis class,
 * its exact log-loss regret, the weight of a hypothesis W_eps and the bound
 *     D(P_0(X^n) || Q(X^n)) <= min_eps [ -log W_eps + n eps ],
 * W_eps = prior mass of { theta : D(P_0 || P_theta) <= eps } (per-symbol KL),
 * and an SGLD ensemble that approximates the mixture.  All logs are natural.
 */
#ifndef PROBKIT_THEORY_H
#define PROBKIT_THEORY_H

#include "probkit/core.h"
#include "probkit/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- universality ------------------------------------------------------------------- */

/** A finite class of i.i.d. sources over K symbols: hypothesis h emits symbol a
 *  with probability probs[h*K + a]; prior log-weights logw[h] (normalised). */
typedef struct pk_hclass {
    size_t H, K;
    double *probs;
    double *logw;
} pk_hclass;

/** The over-parameterised binary class of the reproduction: theta in a grid of
 *  G points per coordinate on [-1, 1]^m (G^m hypotheses, uniform prior), and
 *  P_theta(1) = sigmoid(scale * theta_1 * ... * theta_m).  Many parameters map
 *  to the same source (every theta with a zero coordinate gives 1/2).
 *  PK_EINVAL for m < 1, G < 2 or G^m > 2^26. */
int pk_hclass_product_grid(size_t m, size_t G, double scale, pk_hclass **out);
void pk_hclass_free(pk_hclass *c);

/** KL divergence D(p || q) between two distributions over K symbols (nats). */
double pk_kl_discrete(const double *p, const double *q, size_t K);

/** W_eps: prior mass of the hypotheses within per-symbol KL eps of p0. */
double pk_hclass_weight(const pk_hclass *c, const double *p0, double eps);

/** min over eps of [-log W_eps + n eps] (nats, total over n symbols); the
 *  minimising eps in *eps_star (may be NULL). */
double pk_hclass_regret_bound(const pk_hclass *c, const double *p0, size_t n, double *eps_star);

/** Exact expected cumulative regret D(P_0(X^n) || Q(X^n)) of the mixture Q for
 *  a binary class (K = 2) and an i.i.d. Bernoulli(p1) source, summing over the
 *  number of ones.  PK_EINVAL if K != 2. */
int pk_hclass_regret_exact(const pk_hclass *c, double p1, size_t n, double *regret);

/** The mixture's predictive distribution after observing counts[0..K-1]. */
int pk_hclass_predict(const pk_hclass *c, const double *counts, double *pred);

/** SGLD ensemble for the continuous version of pk_hclass_product_grid's class
 *  (uniform prior on [-1,1]^m) given k ones in n observations: `chains`
 *  independent Langevin chains with minibatches of `batch` observations,
 *  step size `step`, `iters` iterations (the second half kept), reflecting
 *  walls.  *p1 gets the ensemble's predictive probability of a one. */
int pk_sgld_product_predict(size_t m, double scale, size_t k, size_t n, size_t chains, size_t iters, size_t batch,
                            double step, pk_rng *rng, double *p1);

#ifdef __cplusplus
}
#endif
#endif
