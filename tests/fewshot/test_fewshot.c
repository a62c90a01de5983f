/* test_fewshot.c — identities of the few-shot methods: monotone energies,
 * the bound optimiser's fixed point, permutation equivariance, agreement
 * with brute force and with the cluster module's K-means, error paths. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pk_test.h"
#include "probkit/cluster.h"
#include "probkit/fewshot.h"

/* k Gaussian blobs in d dims, centre c at 3*sd*(e_c) so they overlap a little when sd is large */
static void blobs(pk_rng *r, size_t n, size_t d, size_t k, double sd, double *X, int32_t *y, size_t offset)
{
    for (size_t i = 0; i < n; i++) {
        int32_t c = (int32_t)((i + offset) % k);
        y[i] = c;
        for (size_t j = 0; j < d; j++)
            X[i * d + j] = (j == (size_t)c % d ? 1.0 : 0.0) + sd * pk_rng_normal(r);
    }
}

static int is_nonincreasing(const double *e, int n, double rtol)
{
    for (int i = 1; i < n; i++)
        if (e[i] > e[i - 1] + rtol * fabs(e[i - 1]) + 1e-12)
            return 0;
    return 1;
}

static void test_names(void)
{
    for (int m = 0; m < PK_FEWSHOT_N_METHODS; m++) {
        pk_fewshot_method back;
        PK_CHECK_OK(pk_fewshot_method_from_name(pk_fewshot_method_name((pk_fewshot_method)m), &back));
        PK_CHECK(back == (pk_fewshot_method)m);
    }
    pk_fewshot_method x;
    PK_CHECK(pk_fewshot_method_from_name("nope", &x) == PK_EINVAL);
    PK_CHECK(pk_fewshot_method_name(PK_FEWSHOT_N_METHODS) == NULL);
    pk_fewshot_params p = pk_fewshot_params_default(PK_FEWSHOT_SLK_MEANS);
    PK_CHECK_OK(pk_fewshot_params_check(&p, NULL));
    pk_err err = {0};
    p.lambda = -1;
    PK_CHECK(pk_fewshot_params_check(&p, &err) == PK_EINVAL && strstr(err.msg, "lambda"));
    p = pk_fewshot_params_default(PK_FEWSHOT_SLK_MEANS);
    p.knn = 0;
    PK_CHECK(pk_fewshot_params_check(&p, &err) == PK_EINVAL && strstr(err.msg, "knn"));
}

/* well separated blobs: every method gets every query right */
static void test_separated(void)
{
    pk_rng r;
    pk_rng_seed(&r, 1);
    size_t k = 4, d = 6, ns = 8, nq = 40;
    double S[8 * 6], Q[40 * 6];
    int32_t ys[8], yq[40];
    blobs(&r, ns, d, k, 0.05, S, ys, 0);
    blobs(&r, nq, d, k, 0.05, Q, yq, 1);
    pk_mat Sv = pk_mat_view(S, ns, d), Qv = pk_mat_view(Q, nq, d);
    for (int m = 0; m < PK_FEWSHOT_N_METHODS; m++) {
        pk_fewshot_params p = pk_fewshot_params_default((pk_fewshot_method)m);
        pk_fewshot_result *res = NULL;
        PK_CHECK_OK(pk_fewshot_predict(&Sv, ys, k, &Qv, &p, &res, NULL));
        if (!res)
            continue;
        size_t ok = 0;
        for (size_t q = 0; q < nq; q++) {
            ok += res->labels[q] == yq[q];
            double s = 0;
            for (size_t c = 0; c < k; c++)
                s += res->proba[q * k + c];
            PK_CHECK_CLOSE(s, 1.0, 1e-12, 0);
        }
        PK_CHECK_MSG(ok == nq, "%s: %zu/%zu", pk_fewshot_method_name((pk_fewshot_method)m), ok, nq);
        pk_fewshot_result_free(res);
    }
}

/* the bound optimiser cannot increase the energy when W is PSD, and stops at z = softmax(-a + lambda W z) */
static void test_bound_monotone(void)
{
    pk_rng r;
    pk_rng_seed(&r, 2);
    size_t n = 30, k = 3, d = 2;
    double X[30 * 2], W[30 * 30], A[30 * 3], Z[30 * 3], trace[200];
    int32_t fixed[30];
    for (size_t i = 0; i < n * d; i++)
        X[i] = pk_rng_normal(&r);
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++) {
            double d2 = 0;
            for (size_t j = 0; j < d; j++)
                d2 += (X[a * d + j] - X[b * d + j]) * (X[a * d + j] - X[b * d + j]);
            W[a * n + b] = exp(-d2 / 2); /* Gaussian kernel: PSD */
        }
    for (size_t i = 0; i < n * k; i++)
        A[i] = 2 * pk_rng_uniform(&r);
    for (size_t i = 0; i < n; i++) {
        fixed[i] = i < 3 ? (int32_t)i : -1;
        for (size_t c = 0; c < k; c++)
            Z[i * k + c] = 1.0 / (double)k;
    }
    int it = 0;
    PK_CHECK_OK(pk_fewshot_bound_update(A, W, n, k, 0.3, fixed, 200, 1e-14, Z, trace, &it));
    PK_CHECK(it >= 2);
    PK_CHECK_MSG(is_nonincreasing(trace, it, 1e-13), "bound energies increase");
    /* fixed point: each free row is its own softmax */
    double worst = 0;
    for (size_t p = 0; p < n; p++) {
        if (fixed[p] >= 0) {
            PK_CHECK(Z[p * k + (size_t)fixed[p]] == 1.0);
            continue;
        }
        double l[3], mx = -INFINITY, s = 0;
        for (size_t c = 0; c < k; c++) {
            double wz = 0;
            for (size_t q = 0; q < n; q++)
                wz += W[p * n + q] * Z[q * k + c];
            l[c] = -A[p * k + c] + 0.3 * wz;
            mx = fmax(mx, l[c]);
        }
        for (size_t c = 0; c < k; c++)
            s += exp(l[c] - mx);
        for (size_t c = 0; c < k; c++)
            worst = fmax(worst, fabs(exp(l[c] - mx) / s - Z[p * k + c]));
    }
    PK_CHECK_MSG(worst < 1e-6, "fixed-point residual %g", worst);
    /* lambda = 0: one step gives softmax(-a) */
    PK_CHECK_OK(pk_fewshot_bound_update(A, NULL, n, k, 0.0, NULL, 5, 0, Z, NULL, &it));
    double s = exp(-A[0]) + exp(-A[1]) + exp(-A[2]);
    PK_CHECK_CLOSE(Z[0], exp(-A[0]) / s, 1e-12, 1e-12);
    PK_CHECK(pk_fewshot_bound_update(A, NULL, n, k, 0.5, NULL, 5, 0, Z, NULL, &it) == PK_EINVAL);
}

/* whole-method energies: monotone for the hard methods and for SLK with a PSD affinity */
static void test_energy_monotone(void)
{
    pk_rng r;
    pk_rng_seed(&r, 3);
    size_t k = 3, d = 4, ns = 6, nq = 60;
    double S[6 * 4], Q[60 * 4];
    int32_t ys[6], yq[60];
    blobs(&r, ns, d, k, 0.45, S, ys, 0);
    blobs(&r, nq, d, k, 0.45, Q, yq, 0);
    pk_mat Sv = pk_mat_view(S, ns, d), Qv = pk_mat_view(Q, nq, d);
    pk_fewshot_method ms[] = {PK_FEWSHOT_KMEANS, PK_FEWSHOT_KMODES, PK_FEWSHOT_SLK_MEANS, PK_FEWSHOT_SLK_MS,
                              PK_FEWSHOT_SOFTKMEANS, PK_FEWSHOT_LAPSHOT};
    for (size_t i = 0; i < sizeof ms / sizeof *ms; i++) {
        pk_fewshot_params p = pk_fewshot_params_default(ms[i]);
        p.affinity = PK_FEWSHOT_AFF_RBF;
        p.lambda = 0.05;
        p.tol = 1e-12;
        p.bound_iter = 2000;
        pk_fewshot_result *res = NULL;
        PK_CHECK_OK(pk_fewshot_predict(&Sv, ys, k, &Qv, &p, &res, NULL));
        if (!res)
            continue;
        PK_CHECK_MSG(res->n_iter >= 2, "%s ran %d rounds", pk_fewshot_method_name(ms[i]), res->n_iter);
        PK_CHECK_MSG(is_nonincreasing(res->energy, res->n_iter, 1e-9), "%s energy increases",
                     pk_fewshot_method_name(ms[i]));
        pk_fewshot_result_free(res);
    }
}

/* reversing the query order reverses the answers; renaming the classes renames them */
static void test_equivariance(void)
{
    pk_rng r;
    pk_rng_seed(&r, 4);
    size_t k = 3, d = 5, ns = 6, nq = 45;
    double S[6 * 5], Q[45 * 5], Qr[45 * 5], S2[6 * 5];
    int32_t ys[6], yq[45], ys2[6];
    blobs(&r, ns, d, k, 0.5, S, ys, 0);
    blobs(&r, nq, d, k, 0.5, Q, yq, 0);
    size_t perm[45];
    pk_rng_permutation(&r, perm, nq);
    for (size_t i = 0; i < nq; i++)
        memcpy(Qr + i * d, Q + perm[i] * d, d * sizeof *Q);
    /* class c -> (c + 1) mod k, support rows in reverse order */
    for (size_t i = 0; i < ns; i++) {
        memcpy(S2 + i * d, S + (ns - 1 - i) * d, d * sizeof *S);
        ys2[i] = (ys[ns - 1 - i] + 1) % (int32_t)k;
    }
    pk_mat Sv = pk_mat_view(S, ns, d), Qv = pk_mat_view(Q, nq, d), Qrv = pk_mat_view(Qr, nq, d),
           S2v = pk_mat_view(S2, ns, d);
    for (int m = 0; m < PK_FEWSHOT_N_METHODS; m++) {
        pk_fewshot_params p = pk_fewshot_params_default((pk_fewshot_method)m);
        pk_fewshot_result *a = NULL, *b = NULL, *c = NULL;
        PK_CHECK_OK(pk_fewshot_predict(&Sv, ys, k, &Qv, &p, &a, NULL));
        PK_CHECK_OK(pk_fewshot_predict(&Sv, ys, k, &Qrv, &p, &b, NULL));
        PK_CHECK_OK(pk_fewshot_predict(&S2v, ys2, k, &Qv, &p, &c, NULL));
        if (a && b && c) {
            size_t bad_perm = 0, bad_rename = 0;
            double dp = 0;
            for (size_t i = 0; i < nq; i++) {
                bad_perm += b->labels[i] != a->labels[perm[i]];
                bad_rename += c->labels[i] != (a->labels[i] + 1) % (int32_t)k;
                for (size_t j = 0; j < k; j++)
                    dp = fmax(dp, fabs(b->proba[i * k + j] - a->proba[perm[i] * k + j]));
            }
            PK_CHECK_MSG(bad_perm == 0, "%s: %zu labels move with the query order",
                         pk_fewshot_method_name((pk_fewshot_method)m), bad_perm);
            PK_CHECK_MSG(dp < 1e-6, "%s: probabilities differ by %g", pk_fewshot_method_name((pk_fewshot_method)m),
                         dp);
            PK_CHECK_MSG(bad_rename == 0, "%s: %zu labels not renamed", pk_fewshot_method_name((pk_fewshot_method)m),
                         bad_rename);
        }
        pk_fewshot_result_free(a), pk_fewshot_result_free(b), pk_fewshot_result_free(c);
    }
}

/* constrained K-means on a tiny task: local optimality (each query at its nearest mean, the means
 * those of the clusters) and, on separable data, the brute-force global minimum over all labelings */
static void test_brute_force(void)
{
    size_t k = 2, d = 2, ns = 2, nq = 10;
    pk_rng r;
    for (int trial = 0; trial < 20; trial++) {
        pk_rng_seed(&r, 100 + (uint64_t)trial);
        double S[2 * 2], Q[10 * 2];
        int32_t ys[2] = {0, 1}, yq[10];
        double sd = trial < 10 ? 0.15 : 0.6;
        blobs(&r, ns, d, k, sd, S, ys, 0);
        blobs(&r, nq, d, k, sd, Q, yq, 0);
        pk_mat Sv = pk_mat_view(S, ns, d), Qv = pk_mat_view(Q, nq, d);
        pk_fewshot_params p = pk_fewshot_params_default(PK_FEWSHOT_KMEANS);
        p.shift_correct = 0;
        pk_fewshot_result *res = NULL;
        PK_CHECK_OK(pk_fewshot_predict(&Sv, ys, k, &Qv, &p, &res, NULL));
        if (!res)
            continue;
        double best = INFINITY;
        for (unsigned mask = 0; mask < (1u << nq); mask++) {
            double m[2][2] = {{S[0], S[1]}, {S[2], S[3]}};
            double cnt[2] = {1, 1};
            for (size_t q = 0; q < nq; q++) {
                int c = (mask >> q) & 1;
                m[c][0] += Q[q * 2], m[c][1] += Q[q * 2 + 1], cnt[c]++;
            }
            for (int c = 0; c < 2; c++)
                m[c][0] /= cnt[c], m[c][1] /= cnt[c];
            double e = 0;
            for (int c = 0; c < 2; c++)
                e += pow(S[c * 2] - m[c][0], 2) + pow(S[c * 2 + 1] - m[c][1], 2);
            for (size_t q = 0; q < nq; q++) {
                int c = (mask >> q) & 1;
                e += pow(Q[q * 2] - m[c][0], 2) + pow(Q[q * 2 + 1] - m[c][1], 2);
            }
            best = fmin(best, e);
        }
        double ours = res->energy[res->n_iter - 1];
        PK_CHECK_MSG(ours >= best - 1e-9, "trial %d: %g below the brute-force minimum %g", trial, ours, best);
        if (trial < 10)
            PK_CHECK_MSG(fabs(ours - best) <= 1e-9 * fmax(1, best), "trial %d: %g vs brute force %g", trial, ours,
                         best);
        /* local optimality */
        for (size_t q = 0; q < nq; q++) {
            const double *c0 = res->prototypes, *c1 = res->prototypes + 2;
            double d0 = pow(Q[q * 2] - c0[0], 2) + pow(Q[q * 2 + 1] - c0[1], 2);
            double d1 = pow(Q[q * 2] - c1[0], 2) + pow(Q[q * 2 + 1] - c1[1], 2);
            PK_CHECK(res->labels[q] == (d1 < d0 ? 1 : 0));
        }
        pk_fewshot_result_free(res);
    }
}

/* with the support free and no shift, our K-means is Lloyd from the support means: the cluster
 * module's K-means started there must agree */
static void test_agrees_with_cluster_kmeans(void)
{
    pk_rng r;
    pk_rng_seed(&r, 5);
    size_t k = 3, d = 4, ns = 6, nq = 90, n = ns + nq;
    double X[96 * 4];
    int32_t y[96];
    blobs(&r, n, d, k, 0.5, X, y, 0);
    pk_mat Sv = pk_mat_view(X, ns, d), Qv = pk_mat_view(X + ns * d, nq, d), Xv = pk_mat_view(X, n, d);
    pk_fewshot_params p = pk_fewshot_params_default(PK_FEWSHOT_KMEANS);
    p.shift_correct = 0;
    p.constrain_support = 0;
    pk_fewshot_result *res = NULL;
    PK_CHECK_OK(pk_fewshot_predict(&Sv, y, k, &Qv, &p, &res, NULL));
    double C0[3 * 4] = {0};
    for (size_t i = 0; i < ns; i++)
        for (size_t j = 0; j < d; j++)
            C0[y[i] * d + j] += X[i * d + j] / 2.0;
    pk_kmeans_params kp = pk_kmeans_params_default(k);
    kp.init = PK_KMEANS_INIT_GIVEN;
    kp.init_centers = C0;
    kp.algo = PK_KMEANS_LLOYD;
    kp.tol = 0;
    pk_kmeans *km = NULL;
    PK_CHECK_OK(pk_kmeans_fit(&Xv, &kp, &r, &km, NULL));
    if (res && km) {
        size_t bad = 0;
        for (size_t q = 0; q < nq; q++)
            bad += res->labels[q] != km->labels[ns + q];
        PK_CHECK_MSG(bad == 0, "%zu labels differ from pk_kmeans_fit", bad);
        for (size_t i = 0; i < k * d; i++)
            PK_CHECK_CLOSE(res->prototypes[i], km->centers[i], 1e-10, 1e-10);
        PK_CHECK_CLOSE(res->energy[res->n_iter - 1], km->inertia, 1e-9, 1e-9);
    }
    pk_fewshot_result_free(res);
    pk_kmeans_free(km);
}

static void test_knn_affinity(void)
{
    double X[5] = {0, 1, 3, 7, 15};
    double W[25];
    pk_mat Xv = pk_mat_view(X, 5, 1);
    double md2 = 0;
    PK_CHECK_OK(pk_fewshot_knn_affinity(&Xv, 1, W, &md2));
    /* nearest neighbours: 0->1, 1->0, 2->1, 3->2, 4->3 */
    PK_CHECK(W[0 * 5 + 1] == 1.0 && W[1 * 5 + 0] == 1.0);
    PK_CHECK(W[2 * 5 + 1] == 0.5 && W[1 * 5 + 2] == 0.5);
    PK_CHECK(W[3 * 5 + 2] == 0.5 && W[4 * 5 + 3] == 0.5 && W[4 * 5 + 0] == 0.0);
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++)
            PK_CHECK(W[a * 5 + b] == W[b * 5 + a]);
    PK_CHECK_CLOSE(md2, (1 + 1 + 4 + 16 + 64) / 5.0, 1e-12, 0);
    PK_CHECK(pk_fewshot_knn_affinity(&Xv, 0, W, NULL) == PK_EINVAL);
    double Y[4] = {3, 4, 0, 0};
    pk_mat Yv = pk_mat_view(Y, 2, 2);
    double c[2] = {0, 4};
    pk_fewshot_cl2n(&Yv, c);
    PK_CHECK_CLOSE(Y[0], 1.0, 1e-15, 0);
    PK_CHECK_CLOSE(Y[2], 0.0, 1e-15, 0);
    PK_CHECK_CLOSE(Y[3], -1.0, 1e-15, 0);
}

static void test_errors(void)
{
    double S[4] = {0, 0, 1, 1}, Q[4] = {0, 1, 1, 0};
    int32_t ys[2] = {0, 0};
    pk_mat Sv = pk_mat_view(S, 2, 2), Qv = pk_mat_view(Q, 2, 2), Q1 = pk_mat_view(Q, 4, 1);
    pk_fewshot_params p = pk_fewshot_params_default(PK_FEWSHOT_SLK_MEANS);
    pk_fewshot_result *res = (pk_fewshot_result *)&p;
    pk_err err = {0};
    PK_CHECK(pk_fewshot_predict(&Sv, ys, 2, &Qv, &p, &res, &err) == PK_EINVAL);
    PK_CHECK(res == NULL && strstr(err.msg, "class 1 has no support"));
    ys[1] = 5;
    PK_CHECK(pk_fewshot_predict(&Sv, ys, 2, &Qv, &p, &res, &err) == PK_EINVAL && strstr(err.msg, "label 1"));
    ys[1] = 1;
    PK_CHECK(pk_fewshot_predict(&Sv, ys, 2, &Q1, &p, &res, &err) == PK_EINVAL && strstr(err.msg, "features"));
    Q[3] = NAN;
    PK_CHECK(pk_fewshot_predict(&Sv, ys, 2, &Qv, &p, &res, &err) == PK_EDOM && strstr(err.msg, "query row 1"));
    Q[3] = 0;
    PK_CHECK_OK(pk_fewshot_predict(&Sv, ys, 2, &Qv, &p, &res, &err));
    pk_fewshot_result_free(res);
    pk_fewshot_result_free(NULL);
}

static void test_episodes(void)
{
    size_t n = 200;
    int32_t lab[200];
    for (size_t i = 0; i < n; i++)
        lab[i] = (int32_t)(i % 10);
    int32_t cls[5] = {5, 6, 7, 8, 9};
    pk_rng r;
    pk_rng_seed(&r, 6);
    pk_fewshot_episode_params ep = {5, 2, 6, 0};
    pk_fewshot_episode *e = NULL;
    PK_CHECK_OK(pk_fewshot_episode_sample(lab, n, cls, 5, &ep, &r, &e, NULL));
    if (e) {
        PK_CHECK(e->n_support == 10 && e->n_query == 30);
        int seen[200] = {0}, dup = 0, wrong = 0;
        for (size_t i = 0; i < e->n_support; i++) {
            dup += seen[e->support_idx[i]]++;
            wrong += lab[e->support_idx[i]] != e->classes[e->support_y[i]];
        }
        for (size_t i = 0; i < e->n_query; i++) {
            dup += seen[e->query_idx[i]]++;
            wrong += lab[e->query_idx[i]] != e->classes[e->query_y[i]];
            wrong += e->classes[e->query_y[i]] < 5;
        }
        PK_CHECK(dup == 0 && wrong == 0);
    }
    pk_fewshot_episode_free(e);
    ep.dirichlet = 2.0;
    ep.queries = 3;
    PK_CHECK_OK(pk_fewshot_episode_sample(lab, n, cls, 5, &ep, &r, &e, NULL));
    if (e)
        PK_CHECK(e->n_query == 15);
    pk_fewshot_episode_free(e);
    ep.dirichlet = 0;
    ep.queries = 40;
    pk_err err = {0};
    PK_CHECK(pk_fewshot_episode_sample(lab, n, cls, 5, &ep, &r, &e, &err) == PK_EINVAL && strstr(err.msg, "needs"));
}

int main(void)
{
    test_names();
    test_separated();
    test_bound_monotone();
    test_energy_monotone();
    test_equivariance();
    test_brute_force();
    test_agrees_with_cluster_kmeans();
    test_knn_affinity();
    test_errors();
    test_episodes();
    return pk_test_done();
}
