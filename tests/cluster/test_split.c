/* Rows split across participants (the MPI path, exercised with threads): K-means and GMM-EM
 * fitted by 2 participants through a sum-allreduce equal the single-process fit up to
 * summation order. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/cluster.h"

typedef struct shared {
    pthread_barrier_t bar;
    pthread_mutex_t mu;
    double acc[4096];
} shared;

typedef struct part {
    shared *sh;
    int rank;
} part;

static int thread_sum(double *buf, size_t n, void *ctx)
{
    part *pt = ctx;
    shared *sh = pt->sh;
    if (n > 4096)
        return 1;
    pthread_barrier_wait(&sh->bar);
    pthread_mutex_lock(&sh->mu);
    for (size_t i = 0; i < n; i++)
        sh->acc[i] += buf[i];
    pthread_mutex_unlock(&sh->mu);
    pthread_barrier_wait(&sh->bar);
    for (size_t i = 0; i < n; i++)
        buf[i] = sh->acc[i];
    pthread_barrier_wait(&sh->bar);
    if (pt->rank == 0)
        for (size_t i = 0; i < n; i++)
            sh->acc[i] = 0;
    pthread_barrier_wait(&sh->bar);
    return 0;
}

enum { N = 600, D = 3, K = 4, CUT = 250 };
static double X[N * D];

typedef struct job {
    part pt;
    pk_allreduce red;
    int what; /* 0 kmeans hamerly, 1 kmeans lloyd random init, 2 gmm full, 3 minibatch */
    int st;
    pk_kmeans *km;
    pk_gmm *g;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    size_t r0 = j->pt.rank ? CUT : 0, nr = j->pt.rank ? N - CUT : CUT;
    pk_mat Xm = pk_mat_view(X + r0 * D, nr, D);
    pk_rng rng;
    pk_rng_seed(&rng, 77);
    if (j->what == 2) {
        pk_gmm_params p = pk_gmm_params_default(K);
        p.reduce = &j->red;
        p.tol = 0;
        p.max_iter = 30;
        j->st = pk_gmm_fit(&Xm, &p, &rng, &j->g, NULL);
    } else {
        pk_kmeans_params p = pk_kmeans_params_default(K);
        p.reduce = &j->red;
        p.n_init = 3;
        p.tol = 0;
        if (j->what == 1) {
            p.algo = PK_KMEANS_LLOYD;
            p.init = PK_KMEANS_INIT_RANDOM;
        } else if (j->what == 3) {
            p.algo = PK_KMEANS_MINIBATCH;
        }
        j->st = pk_kmeans_fit(&Xm, &p, &rng, &j->km, NULL);
    }
    return NULL;
}

int main(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 5);
    for (size_t i = 0; i < N; i++)
        for (size_t t = 0; t < D; t++)
            X[i * D + t] = pk_rng_normal(&rng) * (1 + (double)(i % K) / 2) + 4.0 * (double)((i % K) == t);
    pk_mat Xall = pk_mat_view(X, N, D);
    for (int what = 0; what < 4; what++) {
        shared sh;
        pthread_barrier_init(&sh.bar, NULL, 2);
        pthread_mutex_init(&sh.mu, NULL);
        for (size_t i = 0; i < 4096; i++)
            sh.acc[i] = 0;
        job jobs[2];
        pthread_t th[2];
        for (int r = 0; r < 2; r++) {
            jobs[r].pt.sh = &sh;
            jobs[r].pt.rank = r;
            jobs[r].red.rank = r;
            jobs[r].red.size = 2;
            jobs[r].red.sum = thread_sum;
            jobs[r].red.ctx = &jobs[r].pt;
            jobs[r].what = what;
            jobs[r].km = NULL;
            jobs[r].g = NULL;
            pthread_create(&th[r], NULL, worker, &jobs[r]);
        }
        for (int r = 0; r < 2; r++)
            pthread_join(th[r], NULL);
        pthread_barrier_destroy(&sh.bar);
        pthread_mutex_destroy(&sh.mu);
        /* the same fit on all rows in one process */
        pk_rng r1;
        pk_rng_seed(&r1, 77);
        if (what == 3) {
            PK_CHECK(jobs[0].st == PK_ENOTSUP && jobs[1].st == PK_ENOTSUP);
        } else if (what == 2) {
            pk_gmm_params p = pk_gmm_params_default(K);
            p.tol = 0;
            p.max_iter = 30;
            pk_gmm *g = NULL;
            PK_CHECK_OK(pk_gmm_fit(&Xall, &p, &r1, &g, NULL));
            PK_CHECK_OK(jobs[0].st);
            PK_CHECK_OK(jobs[1].st);
            if (g && jobs[0].g && jobs[1].g) {
                PK_CHECK_CLOSE(jobs[0].g->lower_bound, g->lower_bound, 1e-10, 1e-10);
                PK_CHECK(jobs[0].g->lower_bound == jobs[1].g->lower_bound);
                for (size_t i = 0; i < K * D; i++)
                    PK_CHECK_CLOSE(jobs[1].g->means[i], g->means[i], 1e-9, 1e-9);
                for (size_t i = 0; i < K * D * D; i++)
                    PK_CHECK_CLOSE(jobs[0].g->covs[i], g->covs[i], 1e-9, 1e-9);
            }
            pk_gmm_free(g);
        } else {
            pk_kmeans_params p = pk_kmeans_params_default(K);
            p.n_init = 3;
            p.tol = 0;
            if (what == 1) {
                p.algo = PK_KMEANS_LLOYD;
                p.init = PK_KMEANS_INIT_RANDOM;
            }
            pk_kmeans *km = NULL;
            PK_CHECK_OK(pk_kmeans_fit(&Xall, &p, &r1, &km, NULL));
            PK_CHECK_OK(jobs[0].st);
            PK_CHECK_OK(jobs[1].st);
            if (km && jobs[0].km && jobs[1].km) {
                PK_CHECK_CLOSE(jobs[0].km->inertia, km->inertia, 1e-9, 1e-10);
                PK_CHECK(jobs[0].km->inertia == jobs[1].km->inertia);
                for (size_t i = 0; i < K * D; i++)
                    PK_CHECK_CLOSE(jobs[1].km->centers[i], km->centers[i], 1e-9, 1e-9);
                size_t same = 0;
                for (size_t i = 0; i < CUT; i++)
                    same += jobs[0].km->labels[i] == km->labels[i];
                for (size_t i = CUT; i < N; i++)
                    same += jobs[1].km->labels[i - CUT] == km->labels[i];
                PK_CHECK_MSG(same == N, "%zu of %d labels agree", same, N);
            }
            pk_kmeans_free(km);
        }
        for (int r = 0; r < 2; r++) {
            pk_kmeans_free(jobs[r].km);
            pk_gmm_free(jobs[r].g);
        }
    }
    return pk_test_done();
}
