/* K-means against scikit-learn (same initial centres), Hamerly == Lloyd, restarts, mini-batch, bad input. */
#include <math.h>
#include <stdlib.h>

#include "fixture.h"
#include "pk_test.h"
#include "probkit/cluster.h"

static void make_blobs(pk_rng *r, size_t n, size_t d, size_t k, double sep, double *X, int32_t *y)
{
    for (size_t i = 0; i < n; i++) {
        size_t c = i % k;
        y[i] = (int32_t)c;
        for (size_t t = 0; t < d; t++)
            X[i * d + t] = pk_rng_normal(r) + (t == c % d ? sep * (double)(c + 1) : 0.0) - (t == 0 ? sep * (double)c : 0);
    }
}

int main(void)
{
    json_error_t je;
    json_t *root = json_load_file(PK_FIXTURES "/cluster/sklearn.json", 0, &je);
    PK_CHECK(root != NULL);
    if (!root)
        return pk_test_done();
    size_t n = (size_t)json_integer_value(json_object_get(root, "n"));
    size_t d = (size_t)json_integer_value(json_object_get(root, "d"));
    size_t k = (size_t)json_integer_value(json_object_get(root, "k"));
    double *X = fx_doubles(json_object_get(root, "X"), NULL);
    double *init = fx_doubles(json_object_get(root, "init_centers"), NULL);
    const char *kc[] = {"kmeans", "centers", NULL}, *kl[] = {"kmeans", "labels", NULL}, *ki[] = {"kmeans", "inertia", NULL};
    double *ref_c = fx_doubles(fx_get(root, kc), NULL);
    int32_t *ref_l = fx_ints(fx_get(root, kl), NULL);
    double ref_inertia = json_number_value(fx_get(root, ki));
    pk_mat Xm = pk_mat_view(X, n, d);
    pk_rng rng;
    pk_rng_seed(&rng, 1);

    /* Lloyd and Hamerly from sklearn's initial centres reach sklearn's fixed point */
    for (int algo = 0; algo < 2; algo++) {
        pk_kmeans_params p = pk_kmeans_params_default(k);
        p.init = PK_KMEANS_INIT_GIVEN;
        p.init_centers = init;
        p.tol = 0;
        p.algo = algo ? PK_KMEANS_HAMERLY : PK_KMEANS_LLOYD;
        pk_kmeans *km = NULL;
        pk_err err;
        PK_CHECK_OK(pk_kmeans_fit(&Xm, &p, &rng, &km, &err));
        if (!km)
            continue;
        PK_CHECK_CLOSE(km->inertia, ref_inertia, 1e-9, 1e-10);
        for (size_t i = 0; i < k * d; i++)
            PK_CHECK_CLOSE(km->centers[i], ref_c[i], 1e-10, 1e-10);
        size_t same = 0;
        for (size_t i = 0; i < n; i++)
            same += km->labels[i] == ref_l[i];
        PK_CHECK(same == n);
        PK_CHECK(km->converged == 1);
        pk_kmeans_free(km);
    }

    /* larger problem: Hamerly gives Lloyd's answer with fewer distance evaluations */
    size_t n2 = 3000, d2 = 5, k2 = 8;
    double *X2 = malloc(n2 * d2 * sizeof(double));
    int32_t *y2 = malloc(n2 * sizeof(int32_t));
    make_blobs(&rng, n2, d2, k2, 2.0, X2, y2);
    pk_mat X2m = pk_mat_view(X2, n2, d2);
    pk_kmeans *a = NULL, *b = NULL, *c = NULL, *mb = NULL;
    pk_kmeans_params p2 = pk_kmeans_params_default(k2);
    p2.tol = 0;
    p2.algo = PK_KMEANS_LLOYD;
    pk_rng r1, r2;
    pk_rng_seed(&r1, 5);
    r2 = r1;
    PK_CHECK_OK(pk_kmeans_fit(&X2m, &p2, &r1, &a, NULL));
    p2.algo = PK_KMEANS_HAMERLY;
    PK_CHECK_OK(pk_kmeans_fit(&X2m, &p2, &r2, &b, NULL));
    if (a && b) {
        PK_CHECK_CLOSE(a->inertia, b->inertia, 1e-9, 1e-12);
        PK_CHECK(b->n_dist < a->n_dist);
        fprintf(stderr, "lloyd %d iters %lld dists, hamerly %d iters %lld dists\n", a->n_iter,
                (long long)a->n_dist, b->n_iter, (long long)b->n_dist);
    }
    /* restarts never do worse than one run from the same stream start */
    p2.n_init = 5;
    pk_rng_seed(&r1, 5);
    PK_CHECK_OK(pk_kmeans_fit(&X2m, &p2, &r1, &c, NULL));
    if (a && c)
        PK_CHECK(c->inertia <= a->inertia + 1e-9);
    /* mini-batch lands within a few percent of full-batch inertia */
    p2.algo = PK_KMEANS_MINIBATCH;
    p2.n_init = 3;
    p2.batch_size = 256;
    p2.max_iter = 20;
    p2.tol = 1e-4;
    PK_CHECK_OK(pk_kmeans_fit(&X2m, &p2, &r1, &mb, NULL));
    if (mb && c)
        PK_CHECK_MSG(mb->inertia < 1.05 * c->inertia, "minibatch %g vs %g", mb->inertia, c->inertia);
    /* predict reproduces the training labels */
    if (c) {
        int32_t *lab = malloc(n2 * sizeof(int32_t));
        double in;
        PK_CHECK_OK(pk_kmeans_predict(c, &X2m, lab, &in));
        PK_CHECK_CLOSE(in, c->inertia, 1e-9, 1e-12);
        size_t same = 0;
        for (size_t i = 0; i < n2; i++)
            same += lab[i] == c->labels[i];
        PK_CHECK(same == n2);
        free(lab);
    }
    pk_kmeans_free(a);
    pk_kmeans_free(b);
    pk_kmeans_free(c);
    pk_kmeans_free(mb);

    /* near-ties beyond float resolution: the float search must hand them to the double rescan,
     * so predict's labels equal a brute-force double argmin (first index on exact ties) */
    {
        size_t nt = 3001, dt = 9, kt = 6;
        double *Ct = malloc(kt * dt * sizeof(double)), *Xt = malloc(nt * dt * sizeof(double));
        int32_t *lt = malloc(nt * sizeof(int32_t));
        pk_rng rt;
        pk_rng_seed(&rt, 77);
        for (size_t q = 0; q < kt * dt; q++)
            Ct[q] = 1000.0 + pk_rng_normal(&rt); /* a large offset: float keeps ~3 decimals here */
        for (size_t i = 0; i < nt; i++) {
            size_t ca = i % kt, cb = (i / kt) % kt;
            double eps = (i % 3 == 0) ? 0 : 1e-9 * pk_rng_normal(&rt); /* (near-)exact midpoints too */
            for (size_t t = 0; t < dt; t++)
                Xt[i * dt + t] = 0.5 * (Ct[ca * dt + t] + Ct[cb * dt + t]) + eps * (double)(t + 1);
        }
        pk_kmeans km = {.k = kt, .d = dt, .n = nt, .centers = Ct};
        pk_mat Xtm = pk_mat_view(Xt, nt, dt);
        PK_CHECK_OK(pk_kmeans_predict(&km, &Xtm, lt, NULL));
        size_t bad = 0;
        for (size_t i = 0; i < nt; i++) {
            double best, dl = 0;
            int32_t bj = fx_nearest(Xt + i * dt, Ct, kt, dt, lt[i], &best, &dl);
            /* gaps of ~1e-8 are far above double rounding: the same label; exact midpoints may
             * break the tie either way by one rounding, but must be a true nearest centre */
            bad += (i % 3 != 0) ? lt[i] != bj : !(dl <= best * (1 + 1e-12));
        }
        PK_CHECK_MSG(bad == 0, "%zu of %zu near-tie labels differ from the double argmin", bad, nt);
        free(Ct);
        free(Xt);
        free(lt);
    }

    /* bad input: k > n, NaN, k = 0 */
    {
        pk_kmeans *km = NULL;
        pk_err err;
        pk_kmeans_params p = pk_kmeans_params_default(5);
        pk_mat small = pk_mat_view(X, 3, d);
        PK_CHECK(pk_kmeans_fit(&small, &p, &rng, &km, &err) == PK_EINVAL && km == NULL);
        PK_CHECK(strstr(err.msg, "fewer points") != NULL);
        p.k = 0;
        PK_CHECK(pk_kmeans_fit(&Xm, &p, &rng, &km, &err) == PK_EINVAL);
        p.k = 2;
        double keep = X[7];
        X[7] = NAN;
        PK_CHECK(pk_kmeans_fit(&Xm, &p, &rng, &km, &err) == PK_EDOM && km == NULL);
        PK_CHECK(strstr(err.msg, "row 3, column 2") != NULL);
        X[7] = keep;
        /* all points identical: k-means++ falls back to uniform picks, inertia 0 */
        double same[20] = {0};
        pk_mat S = pk_mat_view(same, 10, 2);
        PK_CHECK_OK(pk_kmeans_fit(&S, &p, &rng, &km, &err));
        if (km)
            PK_CHECK(km->inertia == 0);
        pk_kmeans_free(km);
    }
    free(X2);
    free(y2);
    free(X);
    free(init);
    free(ref_c);
    free(ref_l);
    json_decref(root);
    return pk_test_done();
}
