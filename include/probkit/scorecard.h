/* probkit/scorecard.h — credit scorecards on information divergences
 * ("An Information-Theoretic Framework for Credit Risk Modeling", Sudjianto & Burakov).
 *
 * Conventions.  For bins i = 1..K with counts g_i of goods (y = 0) and b_i of
 * bads (y = 1), p_i = g_i / G and q_i = b_i / B:
 *   WoE_i = ln(p_i / q_i)                 (positive = safer than average)
 *   IV    = sum_i (p_i - q_i) WoE_i       = Jeffreys divergence J(p, q)
 *   PSI(P, Q) = sum_i (P_i - Q_i) ln(P_i / Q_i), so IV = PSI(good, bad) exactly.
 * Standard errors come from the delta method on two independent multinomials:
 *   Var(WoE_i) ~ 1/g_i - 1/G + 1/b_i - 1/B   (~ 1/g_i + 1/b_i, the paper's form)
 *   Var(IV)    = [sum p_i a_i^2 - (sum p_i a_i)^2] / G + [sum q_i c_i^2 - (sum q_i c_i)^2] / B
 * with a_i = dIV/dp_i = WoE_i + 1 - q_i/p_i and c_i = dIV/dq_i = -WoE_i + 1 - p_i/q_i.
 * Empty cells make WoE infinite: every cell then gets `smooth` (default 0.5) added.
 */
#ifndef PROBKIT_SCORECARD_H
#define PROBKIT_SCORECARD_H

#include <stddef.h>
#include <stdint.h>

#include "probkit/core.h"
#include "probkit/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Divergences between two count vectors over the same K bins. */
typedef struct pk_divergence {
    size_t k;          /**< bins */
    double n_p, n_q;   /**< totals (after smoothing) */
    double jeffreys;   /**< J(p, q) = IV = PSI */
    double jeffreys_se;/**< delta-method standard error of J */
    double kl_pq, kl_qp;
    double js;         /**< Jensen-Shannon divergence in bits, in [0, 1] */
    int smoothed;      /**< 1 if `smooth` was added because a cell was empty */
} pk_divergence;

/** Divergences of counts a (sample P) against b (sample Q), k >= 2 bins.
 *  woe / woe_se (may be NULL) receive ln(p_i/q_i) and its delta-method SE.
 *  @return PK_EINVAL (k < 2, a total is 0, negative or non-finite counts). */
int pk_divergence_counts(const double *a, const double *b, size_t k, double smooth, pk_divergence *out,
                         double *woe, double *woe_se, pk_err *err);

/** One-sided Z test of H0: J <= j0 against J > j0: z = (J - j0) / SE, p = Q(z). */
double pk_divergence_ztest(const pk_divergence *d, double j0, double *p_value);

/* ---- supervised binning ------------------------------------------------------------- */

typedef struct pk_bin_params {
    size_t max_bins;   /**< 2..64 (default 6) */
    double min_frac;   /**< minimum share of rows per bin, (0, 0.5] (default 0.05) */
    size_t prebins;    /**< candidate cut points from this many quantiles, 4..1000 (default 50) */
    int monotone;      /**< 1: merge adjacent bins until WoE is monotone (default 1) */
    double smooth;     /**< cell smoothing for WoE (default 0.5) */
} pk_bin_params;

pk_bin_params pk_bin_params_default(void);
/** NULL if valid, else a static message naming the field. */
const char *pk_bin_params_check(const pk_bin_params *p);

/** A binned feature.  Numeric: bin b holds cuts[b-1] < x <= cuts[b] (cuts ascending,
 *  ncuts = nbins - 1).  Categorical (level_bin != NULL): x is a level code
 *  0..nlevels-1 and level_bin[code] its bin; cuts then hold the bins' upper ranks
 *  in the order of the levels' bad rates. */
typedef struct pk_binning {
    size_t nbins;
    size_t nlevels;     /**< categorical: number of level codes; 0 for numeric */
    size_t *level_bin;  /**< categorical: bin of each level; NULL for numeric */
    size_t other_bin;   /**< categorical: bin of unseen / out-of-range codes (the largest bin) */
    double *cuts;
    double *n_good, *n_bad; /**< raw counts per bin */
    double *woe, *woe_se;
    pk_divergence div;      /**< IV (= div.jeffreys), its SE, JS */
} pk_binning;

/** Supervised binning of x (finite) against y in {0,1} by greedy best-gain splits
 *  (depth-1 stumps applied recursively, log-likelihood gain, candidate cuts at
 *  quantiles, minimum bin share), then monotone merging if asked.
 *  *out is caller-owned (pk_binning_free). PK_EDOM when y has one class only. */
int pk_binning_fit(const double *x, const double *y, size_t n, const pk_bin_params *params, pk_binning **out,
                   pk_err *err);
/** Supervised binning of a categorical feature: codes[i] in 0..nlevels-1 (as
 *  doubles, e.g. a pk_table column).  Levels are ordered by their smoothed bad rate
 *  and the ordered levels are binned as pk_binning_fit bins a numeric feature, so
 *  each bin is a set of levels and the WoE is monotone along that order.  Levels
 *  absent from the data join the largest bin.  Errors as pk_binning_fit, and
 *  PK_EDOM for a code that is not an integer in range. */
int pk_binning_fit_categorical(const double *codes, size_t nlevels, const double *y, size_t n,
                               const pk_bin_params *params, pk_binning **out, pk_err *err);
/** Bin index of a value (a level code for a categorical binning). */
size_t pk_binning_index(const pk_binning *b, double x);
void pk_binning_free(pk_binning *b);

/** Statistics of fixed bins against another 0/1 split z (protected attribute,
 *  or sample membership for drift): counts, WoE and divergence with SE. */
int pk_binning_divergence(const pk_binning *b, const double *x, const double *z, size_t n, double smooth,
                          pk_divergence *out, pk_err *err);

/* ---- models on binned features ------------------------------------------------------ */

/** L2-penalised logistic regression by Newton's method: X is n x p row-major
 *  (add the intercept column yourself); w (p) is overwritten. ridge >= 0. */
int pk_logistic_fit(const double *X, const double *y, size_t n, size_t p, double ridge, double *w, pk_err *err);

/** Gradient-boosted depth-1 stumps on binned features (codes[i*nf + j] = bin of feature j):
 *  `rounds` stumps, learning rate `lr`.  Writes the score of every training row
 *  into score and, if test codes are given, of every test row into test_score. */
int pk_stump_boost(const uint16_t *codes, const size_t *nbins, size_t n, size_t nf, const double *y, size_t rounds,
                   double lr, const uint16_t *test_codes, size_t ntest, double *score, double *test_score,
                   pk_err *err);

/* ---- fairness frontier -------------------------------------------------------------- */

/** Feature subset selection: maximise sum of iv[j] over selected features subject
 *  to sum fair_iv[j] + z * sqrt(sum fair_se[j]^2) <= eps (the paper's conservative
 *  constraint), by exact enumeration of all 2^p subsets (p <= 20).
 *  mask receives the best subset (bit j = feature j), *value its objective
 *  (-1 when no subset, not even the empty one, is feasible: eps < 0). */
int pk_fair_select(const double *iv, const double *fair_iv, const double *fair_se, size_t p, double z, double eps,
                   uint32_t *mask, double *value, pk_err *err);

/* ---- simulator -------------------------------------------------------------------- */

/** The scorecard simulator: n applicants, the paper's 7 features (X: n x 7 row-major,
 *  columns named by pk_credit_feature_names: mortgage, balance, amount_past_due,
 *  utilization, delinquency, inquiry, open_trade), y = default (15% expected), a =
 *  protected attribute (about 30% ones).  Distributions and the additive default logit
 *  are estimated from PiML's SimuCredit_v2 (tests/ref/metrics_simucredit.py), the
 *  intercept set for 15% default; see docs/diagnostics.md. */
void pk_credit_simulate(pk_rng *rng, size_t n, double *X, double *y, double *a);
extern const char *const pk_credit_feature_names[7];

#ifdef __cplusplus
}
#endif
#endif
