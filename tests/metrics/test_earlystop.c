/* Early stopping: Prechelt's criteria on hand-made curves, the correlated rule. */
#include <math.h>
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/metrics.h"

int main(void)
{
    /* validation loss falls to epoch 5 then rises; training loss keeps falling */
    double val[] = {1.0, 0.8, 0.7, 0.65, 0.62, 0.60, 0.61, 0.63, 0.66, 0.70, 0.75, 0.80};
    double tr[] = {1.0, 0.7, 0.5, 0.40, 0.33, 0.28, 0.25, 0.23, 0.22, 0.21, 0.205, 0.2};
    enum { N = 12 };
    int gl[N], pat[N], up[N], pq[N];
    PK_CHECK_OK(pk_es_indicator(PK_ES_GL, 5.5, 5, val, NULL, N, gl, NULL));
    /* GL(t) = 100 (val/0.60 - 1): 1.67 at t=6, 5.0 at t=7, 10 at t=8 */
    PK_CHECK(pk_es_first(gl, N) == 8);
    PK_CHECK_OK(pk_es_indicator(PK_ES_PATIENCE, 3, 5, val, NULL, N, pat, NULL));
    PK_CHECK(pk_es_first(pat, N) == 8);
    PK_CHECK_OK(pk_es_indicator(PK_ES_UP, 1, 5, val, NULL, N, up, NULL));
    /* strip ends at t = 4 (0.62) and t = 9 (0.70 > 0.62): UP_1 fires at 9 */
    PK_CHECK(pk_es_first(up, N) == 9);
    PK_CHECK_OK(pk_es_indicator(PK_ES_PQ, 0.5, 5, val, tr, N, pq, NULL));
    /* strip ends t = 4 (GL 0) and t = 9: GL = 16.67, P_5 = 1000 (mean(0.28..0.21) / 0.21 - 1) = 133.3,
     * GL / P = 0.125 */
    PK_CHECK(pk_es_first(pq, N) == N);
    PK_CHECK_OK(pk_es_indicator(PK_ES_PQ, 0.12, 5, val, tr, N, pq, NULL));
    PK_CHECK(pk_es_first(pq, N) == 9);
    pk_es_outcome o;
    pk_es_outcome_of(val, N, 8, &o);
    PK_CHECK(o.stop == 8 && o.best_seen == 5 && o.best == 5);
    PK_CHECK_CLOSE(o.regret, 0, 0, 0);
    PK_CHECK_CLOSE(o.cost, 9.0 / 12.0, 1e-15, 0);
    pk_es_outcome_of(val, N, 2, &o);
    PK_CHECK_CLOSE(o.regret, 0.1, 1e-15, 1e-12);
    pk_es_outcome_of(val, N, N, &o); /* never stopped */
    PK_CHECK(o.stop == N - 1 && o.cost == 1.0);
    /* correlated rule: GL and patience both on from epoch 8 -> quorum 2 stops at 8 */
    int ind[2 * N];
    memcpy(ind, gl, sizeof gl);
    memcpy(ind + N, pat, sizeof pat);
    size_t stop;
    PK_CHECK_OK(pk_es_correlated(ind, 2, N, 2, 4, 0.5, &stop, NULL));
    PK_CHECK(stop == 8);
    /* one spurious blip of one indicator does not stop a quorum-2 rule */
    int blip[2 * N] = {0};
    blip[3] = 1;
    PK_CHECK_OK(pk_es_correlated(blip, 2, N, 2, 4, 0.5, &stop, NULL));
    PK_CHECK(stop == N);
    /* anti-correlated alternation never reaches the correlation bar */
    int alt[2 * N];
    for (int t = 0; t < N; t++) {
        alt[t] = t % 2;
        alt[N + t] = t == 11 ? 1 : (t + 1) % 2;
    }
    PK_CHECK_OK(pk_es_correlated(alt, 2, N, 2, 6, 0.5, &stop, NULL));
    PK_CHECK(stop == N);
    pk_err e;
    double bad[] = {1, NAN, 1};
    PK_CHECK(pk_es_indicator(PK_ES_GL, 5, 5, bad, NULL, 3, gl, &e) == PK_EDOM);
    PK_CHECK(strstr(e.msg, "epoch 1") != NULL);
    PK_CHECK(pk_es_indicator(PK_ES_PQ, 5, 5, val, NULL, N, gl, &e) == PK_EINVAL);
    PK_CHECK(pk_es_indicator(PK_ES_GL, 5, 5, val, NULL, 0, gl, &e) == PK_EINVAL);
    PK_CHECK(pk_es_correlated(ind, 2, N, 3, 4, 0.5, &stop, &e) == PK_EINVAL);
    return pk_test_done();
}
