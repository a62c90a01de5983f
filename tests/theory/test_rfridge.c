/* Random-feature ridge eigenframework against simulation of the Gaussian eigen-task. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/theory.h"

enum { M = 300, T = 40 };

int main(void)
{
    double lam[M], v[M], v2[M];
    for (int i = 0; i < M; i++) {
        lam[i] = pow(i + 1.0, -1.5);
        v2[i] = pow(i + 1.0, -1.5);
        v[i] = sqrt(v2[i]);
    }
    pk_rf_theory t, tk;
    PK_CHECK(pk_rf_theory_eval(lam, v2, M, 64, INFINITY, 0, 0.5, &t) == PK_EINVAL);
    PK_CHECK(pk_rf_theory_eval(lam, v2, M, 0.5, INFINITY, 1e-2, 0.5, &t) == PK_EINVAL);

    /* kernel limit: gamma = kappa solves the eigenlearning equation */
    PK_CHECK_OK(pk_rf_theory_eval(lam, v2, M, 64, INFINITY, 1e-2, 0.5, &t));
    double z = 0;
    for (int i = 0; i < M; i++)
        z += lam[i] / (lam[i] + t.kappa);
    PK_CHECK_CLOSE(z + 1e-2 / t.kappa, 64, 1e-8, 0);
    PK_CHECK_CLOSE(t.gamma, t.kappa, 0, 1e-9);
    /* very many features approach the kernel limit; few features cost risk */
    PK_CHECK_OK(pk_rf_theory_eval(lam, v2, M, 64, 1e9, 1e-2, 0.5, &tk));
    PK_CHECK_CLOSE(tk.test_mse, t.test_mse, 0, 1e-5);
    pk_rf_theory t16;
    PK_CHECK_OK(pk_rf_theory_eval(lam, v2, M, 64, 16, 1e-2, 0.5, &t16));
    PK_CHECK(t16.test_mse > t.test_mse);
    /* both equations hold for finite k */
    z = 0;
    for (int i = 0; i < M; i++)
        z += lam[i] / (lam[i] + t16.gamma);
    PK_CHECK_CLOSE(z + 1e-2 / t16.kappa, 64, 1e-7, 0);
    PK_CHECK_CLOSE(z + 16 * t16.kappa / t16.gamma, 16, 1e-7, 0);

    /* theory vs experiment (mean over T draws): k in {16, 200, kernel}, two ridges */
    pk_rng rng;
    pk_rng_seed(&rng, 11);
    const size_t ks[] = {16, 200, 0}; /* away from the k = n peak, whose heavy tails need many draws */
    const double ridges[] = {1e-3, 1e-1};
    for (int a = 0; a < 3; a++) {
        double te[2] = {0, 0}, tr[2] = {0, 0};
        for (int s = 0; s < T; s++) {
            double a_tr[2], a_te[2];
            PK_CHECK_OK(pk_rf_gaussian_trial(lam, v, M, 64, ks[a], 0.5, ridges, 2, &rng, a_tr, a_te));
            for (int r = 0; r < 2; r++)
                te[r] += a_te[r] / T, tr[r] += a_tr[r] / T;
        }
        for (int r = 0; r < 2; r++) {
            PK_CHECK_OK(pk_rf_theory_eval(lam, v2, M, 64, ks[a] ? (double)ks[a] : INFINITY, ridges[r], 0.5, &t));
            PK_CHECK_MSG(fabs(te[r] / t.test_mse - 1) < 0.12, "k=%zu ridge=%g test: sim %g theory %g", ks[a],
                         ridges[r], te[r], t.test_mse);
            fprintf(stderr, "k=%zu ridge=%g test %g/%g train %g/%g\n", ks[a], ridges[r], te[r], t.test_mse, tr[r], t.train_mse);
            PK_CHECK_MSG(fabs(tr[r] - t.train_mse) < 0.15 * t.train_mse + 1e-3, "k=%zu ridge=%g train: sim %g theory %g",
                         ks[a], ridges[r], tr[r], t.train_mse);
        }
    }
    return pk_test_done();
}
