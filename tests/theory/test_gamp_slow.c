/* GAMP-RIE at small alpha over several instances (the sanitizer run skips
 * this file: ~50 s of CPU under ASan, 8 s in the normal build) */
#include <math.h>

#include "pk_test.h"
#include "probkit/theory.h"

int main(void)
{
    const size_t d = 60, m = 30;
    double tr[200];

    /* small alpha: the start of the output channel matters.  With the old start
     * (omega = 0, V = 2, undamped first step) 4 of these 8 instances (d = 60,
     * alpha = 0.1, seed 5) stayed at MSE 1.07-1.27 after 200 iterations, mean
     * 0.90; with the authors' start (omega = V = 10, damped) the mean is 0.75
     * (theory 0.724) */
    pk_rng r2;
    pk_rng_seed(&r2, 5);
    pk_mat *S2 = pk_mat_new(d, d);
    double sum = 0, th;
    const int K = 8;
    for (int inst = 0; inst < K; inst++) {
        pk_gamp_problem *p;
        PK_CHECK_OK(pk_gamp_problem_new(d, m, (size_t)(0.1 * d * d), 0, PK_GAMP_RANK1, &r2, &p));
        PK_CHECK_OK(pk_gamp_rie(p, 200, 0.5, S2, tr));
        sum += tr[199];
        pk_gamp_problem_free(p);
    }
    PK_CHECK_OK(pk_gamp_theory(0.5, 0.1, 0, &th));
    PK_CHECK_MSG(sum / K - th < 0.06,
                 "alpha 0.1, d = 60: mean of %d GAMP-RIE runs %g, theory %g", K, sum / K, th);
    pk_mat_free(S2);
    return pk_test_done();
}
