/* Deep NNGP/NTK recursions against Monte Carlo of finite-width random networks,
 * the regime taxonomy, and stability at depth in the thousands. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/theory.h"

static double act(const pk_dual_act *a, double z, double *dz)
{
    if (a->type == PK_ACT_RELU) {
        *dz = z > 0 ? sqrt(2.0) : 0;
        return z > 0 ? sqrt(2.0) * z : 0;
    }
    if (a->type == PK_ACT_ERF) {
        double c = sqrt(2 / M_PI * asin(2.0 / 3.0));
        *dz = 2 / sqrt(M_PI) * exp(-z * z) / c;
        return erf(z) / c;
    }
    /* orthonormal Hermite: h_i = He_i / sqrt(i!), He_i' = i He_{i-1} */
    double hm = 0, h = 1, v = a->a[0], d = 0, fact = 1;
    for (size_t i = 1; i <= a->deg; i++) {
        double hn = z * h - (double)(i - 1) * hm;
        d += a->a[i] * (double)i * h / sqrt(fact * (double)i);
        fact *= (double)i;
        hm = h, h = hn;
        v += a->a[i] * h / sqrt(fact);
    }
    *dz = d;
    return v;
}

/* empirical NNGP and NTK of one width-m, 2-hidden-layer network (NTK parametrisation) */
static void mc_pair(const pk_dual_act *a, size_t m, double xi, pk_rng *r, double *nngp, double *ntk)
{
    double x[2][2] = {{1, 0}, {xi, sqrt(1 - xi * xi)}};
    double *h1 = malloc(2 * m * sizeof *h1), *a1 = malloc(2 * m * sizeof *a1), *d1 = malloc(2 * m * sizeof *d1);
    double *h2 = calloc(2 * m, sizeof *h2), *a2 = malloc(2 * m * sizeof *a2), *d2 = malloc(2 * m * sizeof *d2);
    double *W2 = malloc(m * m * sizeof *W2), *v = malloc(m * sizeof *v), *b1 = calloc(2 * m, sizeof *b1);
    for (size_t j = 0; j < m; j++) {
        double w0 = pk_rng_normal(r), w1 = pk_rng_normal(r);
        for (int s = 0; s < 2; s++) {
            h1[s * m + j] = w0 * x[s][0] + w1 * x[s][1];
            a1[s * m + j] = act(a, h1[s * m + j], &d1[s * m + j]);
        }
        v[j] = pk_rng_normal(r);
    }
    for (size_t i = 0; i < m * m; i++)
        W2[i] = pk_rng_normal(r);
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < m; i++) {
            double t = 0;
            for (size_t j = 0; j < m; j++)
                t += W2[i * m + j] * a1[s * m + j];
            h2[s * m + i] = t / sqrt((double)m);
            a2[s * m + i] = act(a, h2[s * m + i], &d2[s * m + i]);
        }
    /* delta2_i = v_i phi'(h2_i) / sqrt(m); back1_j = sum_i W2_ij delta2_i / sqrt(m) phi'(h1_j) */
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < m; i++) {
            double dl = v[i] * d2[s * m + i] / sqrt((double)m);
            for (size_t j = 0; j < m; j++)
                b1[s * m + j] += W2[i * m + j] * dl / sqrt((double)m);
        }
    double s_aa = 0, s_dd2 = 0, s_a1 = 0, s_dd1 = 0;
    for (size_t i = 0; i < m; i++) {
        s_aa += a2[i] * a2[m + i];
        s_dd2 += v[i] * d2[i] * v[i] * d2[m + i];
        s_a1 += a1[i] * a1[m + i];
        s_dd1 += b1[i] * d1[i] * b1[m + i] * d1[m + i];
    }
    *nngp = s_aa / (double)m;
    *ntk = s_aa / (double)m + (s_dd2 / (double)m) * (s_a1 / (double)m) + s_dd1 * xi;
    free(h1), free(a1), free(d1), free(h2), free(a2), free(d2), free(W2), free(v), free(b1);
}

enum { REPS = 16 };

int main(void)
{
    pk_dual_act relu, erfa, h2, mix, sing;
    pk_dual_act_relu(&relu);
    pk_dual_act_erf(&erfa);
    double c2[3] = {0, 0, 1}, cm[4] = {0.4, 0.5, 0.3, 0.2};
    PK_CHECK_OK(pk_dual_act_hermite(c2, 2, &h2));
    PK_CHECK_OK(pk_dual_act_hermite(cm, 3, &mix));
    PK_CHECK(pk_dual_act_hermite(c2, 99, &h2) == PK_EINVAL);
    PK_CHECK_OK(pk_dual_act_hermite(c2, 2, &h2));

    /* normalisation and closed forms */
    const pk_dual_act *all[] = {&relu, &erfa, &h2, &mix};
    for (int k = 0; k < 4; k++) {
        double d, dn;
        PK_CHECK_CLOSE(pk_dual_eval(all[k], 1.0, NULL), 1.0, 1e-12, 0);
        /* derivative by central difference */
        pk_dual_eval(all[k], 0.3, &d);
        dn = (pk_dual_eval(all[k], 0.3 + 1e-6, NULL) - pk_dual_eval(all[k], 0.3 - 1e-6, NULL)) / 2e-6;
        PK_CHECK_CLOSE(d, dn, 1e-7, 1e-6);
    }
    PK_CHECK_CLOSE(pk_dual_eval(&relu, 0.0, NULL), 1 / M_PI, 1e-15, 0);

    /* recursions against finite-width Monte Carlo (REPS networks of width 1000; polynomial
     * activations have heavy-tailed finite-width fluctuations, hence the averaging) */
    pk_rng r;
    pk_rng_seed(&r, 3);
    for (int k = 0; k < 4; k++) {
        double xi = 0.6, en = 0, ek = 0;
        for (int rep = 0; rep < REPS; rep++) {
            double nn, nk;
            mc_pair(all[k], 1000, xi, &r, &nn, &nk);
            en += nn / REPS, ek += nk / REPS;
        }
        pk_deep_val nv, kv;
        PK_CHECK_OK(pk_deep_kernel(all[k], xi, 2, &nv, &kv));
        double tn = nv.sign * exp(nv.logabs), tk = kv.sign * exp(kv.logabs);
        PK_CHECK_MSG(fabs(en - tn) < 0.05 + 0.05 * fabs(tn), "act %d NNGP: MC %g recursion %g", k, en, tn);
        fprintf(stderr, "act %d: NNGP MC %.4f rec %.4f, NTK MC %.4f rec %.4f\n", k, en, tn, ek, tk);
        PK_CHECK_MSG(fabs(ek - tk) < 0.08 * tk + 0.03, "act %d NTK: MC %g recursion %g", k, ek, tk);
    }

    /* regimes */
    double al;
    PK_CHECK(pk_dual_regime(&relu, NULL) == PK_DEEP_MAJORITY);
    PK_CHECK(pk_dual_regime(&mix, NULL) == PK_DEEP_MAJORITY);
    PK_CHECK(pk_dual_regime(&h2, NULL) == PK_DEEP_1NN);
    PK_CHECK(pk_dual_regime(&erfa, &al) == PK_DEEP_SINGULAR && al > 0);
    PK_CHECK_OK(pk_dual_act_singular(3.0, &sing));
    PK_CHECK(pk_dual_regime(&sing, &al) == PK_DEEP_SINGULAR);
    PK_CHECK_CLOSE(al, 3.0, 1e-8, 0);
    pk_dual_act s1;
    PK_CHECK_OK(pk_dual_act_singular(1.0, &s1));
    PK_CHECK(pk_dual_regime(&s1, &al) == PK_DEEP_SINGULAR);
    PK_CHECK_CLOSE(al, 1.0, 1e-8, 0);
    PK_CHECK(s1.deg == 4);

    /* depth in the thousands: finite, and ordering by xi preserved (1-NN and singular).
     * In the 1-NN regime log|Sigma| ~ -2^L, which leaves the double range past L ~ 1000. */
    const pk_dual_act *deep[] = {&h2, &erfa, &sing, &relu};
    const int depth[] = {1000, 5000, 5000, 5000};
    for (int k = 0; k < 4; k++) {
        pk_deep_val a1, a2, a3;
        PK_CHECK_OK(pk_deep_kernel(deep[k], 0.9, depth[k], NULL, &a1));
        PK_CHECK_OK(pk_deep_kernel(deep[k], 0.5, depth[k], NULL, &a2));
        PK_CHECK_OK(pk_deep_kernel(deep[k], 1.0, depth[k], NULL, &a3));
        fprintf(stderr, "depth %d act %d: log K(0.5) %g, log K(0.9) %g, log K(1) %g\n", depth[k], k, a2.logabs,
                a1.logabs, a3.logabs);
        PK_CHECK(isfinite(a1.logabs) && isfinite(a2.logabs) && isfinite(a3.logabs));
        PK_CHECK(a1.sign == 1 && a3.logabs > a1.logabs && a1.logabs > a2.logabs);
    }
    /* singular exponent: log K(xi)/K(xi') -> -(alpha/2) log((1-xi)/(1-xi')) at depth */
    {
        pk_deep_val p, q;
        pk_deep_kernel(&sing, 1 - 1e-3, 2000, &p, NULL);
        pk_deep_kernel(&sing, 1 - 1e-5, 2000, &q, NULL);
        double slope = (q.logabs - p.logabs) / log(1e2);
        PK_CHECK_MSG(fabs(slope - 1.5) < 0.1, "NNGP singularity slope %g (alpha/2 = 1.5)", slope);
    }
    /* the 1-NN kernel's ratio between neighbours blows up with depth */
    {
        pk_deep_val p, q;
        pk_deep_kernel(&h2, 0.9, 40, &p, NULL);
        pk_deep_kernel(&h2, 0.89, 40, &q, NULL);
        PK_CHECK(p.logabs - q.logabs > 50);
    }
    /* classifier: deep 1-NN activation agrees with 1-NN, a_0 != 0 with majority vote */
    {
        enum { N = 40, NT = 30, D = 5 };
        pk_mat *X = pk_mat_new(N, D), *Xt = pk_mat_new(NT, D);
        double y[N], sc[NT];
        for (size_t i = 0; i < N + NT; i++) {
            double *row = i < N ? pk_mat_at(X, i, 0) : pk_mat_at(Xt, i - N, 0), nr = 0;
            for (int j = 0; j < D; j++)
                row[j] = pk_rng_normal(&r), nr += row[j] * row[j];
            for (int j = 0; j < D; j++)
                row[j] /= sqrt(nr);
            if (i < N)
                y[i] = i < 25 ? 1 : -1;
        }
        /* h2 + h3: a pure even activation would rank neighbours by |xi| */
        double c23[4] = {0, 0, 1, 1};
        pk_dual_act nn1;
        PK_CHECK_OK(pk_dual_act_hermite(c23, 3, &nn1));
        PK_CHECK(pk_dual_regime(&nn1, NULL) == PK_DEEP_1NN);
        PK_CHECK_OK(pk_deep_classify(&nn1, 200, 1, X, y, Xt, 0, sc));
        int agree = 0;
        for (int t = 0; t < NT; t++) {
            size_t best = 0;
            for (size_t i = 1; i < N; i++)
                if (pk_dot(pk_mat_at(Xt, t, 0), pk_mat_at(X, i, 0), D) > pk_dot(pk_mat_at(Xt, t, 0), pk_mat_at(X, best, 0), D))
                    best = i;
            agree += (sc[t] > 0) == (y[best] > 0);
        }
        PK_CHECK_MSG(agree == NT, "1-NN agreement %d/%d", agree, NT);
        double cmaj[3] = {0.8, 0.4, 0.3};
        pk_dual_act maj;
        PK_CHECK_OK(pk_dual_act_hermite(cmaj, 2, &maj));
        PK_CHECK_OK(pk_deep_classify(&maj, 2000, 1, X, y, Xt, 0, sc));
        agree = 0;
        for (int t = 0; t < NT; t++)
            agree += sc[t] > 0;
        PK_CHECK_MSG(agree == NT, "majority agreement %d/%d", agree, NT);
        /* deep erf (phi'(1) > 1): training points are interpolated, which needs
         * self inner products rounded to exactly 1 */
        double stri[N];
        PK_CHECK_OK(pk_deep_classify(&erfa, 1000, 1, X, y, X, 0, stri));
        agree = 0;
        for (int i = 0; i < N; i++)
            agree += (stri[i] > 0) == (y[i] > 0);
        PK_CHECK_MSG(agree == N, "training interpolation %d/%d", agree, N);
        pk_mat_free(X);
        pk_mat_free(Xt);
    }
    /* singular-kernel limit: hand-computed scores, an exact hit decides alone,
     * and the deep NTK classifier of the matching activation approaches it as L grows */
    {
        double xr[3] = {0.0, 1.0, 3.0}, yr[3] = {1, -1, 1}, q[2] = {0.5, 3.0}, sc2[2];
        pk_mat Xr = pk_mat_view(xr, 3, 1), Q = pk_mat_view(q, 2, 1);
        PK_CHECK_OK(pk_singular_kernel_classify(2.0, &Xr, yr, &Q, sc2));
        /* at 0.5: 1/0.25 - 1/0.25 + 1/6.25, relative to the nearest (0.25) */
        PK_CHECK_CLOSE(sc2[0], (4.0 - 4.0 + 0.16) * 0.25, 1e-12, 0);
        PK_CHECK_CLOSE(sc2[1], 1.0, 0, 0);
        PK_CHECK(pk_singular_kernel_classify(0.0, &Xr, yr, &Q, sc2) == PK_EINVAL);
        pk_rng rc;
        pk_rng_seed(&rc, 3);
        enum { NC = 60, TC = 400 };
        pk_mat *C = pk_mat_new(NC, 2), *CT = pk_mat_new(TC, 2);
        double yc[NC], s_lim[TC], s_deep[TC];
        for (int i = 0; i < NC + TC; i++) {
            double th = 2 * M_PI * pk_rng_uniform(&rc);
            pk_mat *M = i < NC ? C : CT;
            *pk_mat_at(M, i < NC ? i : i - NC, 0) = cos(th);
            *pk_mat_at(M, i < NC ? i : i - NC, 1) = sin(th);
            if (i < NC)
                yc[i] = pk_rng_uniform(&rc) < (cos(th) > 0 ? 0.85 : 0.15) ? 1 : -1;
        }
        pk_dual_act as;
        PK_CHECK_OK(pk_dual_act_singular(1.0, &as));
        PK_CHECK_OK(pk_singular_kernel_classify(1.0, C, yc, CT, s_lim));
        int ag[2] = {0, 0}, Ls[2] = {30, 3000};
        for (int l = 0; l < 2; l++) {
            PK_CHECK_OK(pk_deep_classify(&as, Ls[l], 1, C, yc, CT, 0, s_deep));
            for (int t = 0; t < TC; t++)
                ag[l] += (s_deep[t] > 0) == (s_lim[t] > 0);
        }
        PK_CHECK_MSG(ag[1] >= ag[0] && ag[1] >= 0.95 * TC, "agreement with the limit: L=30 %d, L=3000 %d of %d", ag[0],
                     ag[1], TC);
        pk_mat_free(C);
        pk_mat_free(CT);
    }
    return pk_test_done();
}
