/* Regression: a data set on which an ADMM iterate made LAPACK's dsyevr (MRRR) fail; the PSD
 * projection now falls back to dsyevd and the SDP completes (tests/ref/cluster_sdp_mrrr.py). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "fixture.h"
#include "pk_test.h"
#include "probkit/cluster.h"

int main(void)
{
    openblas_set_num_threads(1); /* the failure showed with single-threaded LAPACK (as the CLI runs it) */
    json_error_t je;
    json_t *root = json_load_file(PK_FIXTURES "/cluster/sdp_mrrr.json", 0, &je);
    PK_CHECK(root != NULL);
    if (!root)
        return pk_test_done();
    size_t n = (size_t)json_integer_value(json_object_get(root, "n"));
    size_t d = (size_t)json_integer_value(json_object_get(root, "d"));
    size_t k = (size_t)json_integer_value(json_object_get(root, "k"));
    double *X = fx_doubles(json_object_get(root, "X"), NULL);
    int32_t *y = fx_ints(json_object_get(root, "y"), NULL);
    PK_CHECK(X && y && n == 150 && d == 2 && k == 3);
    if (X && y) {
        pk_mat Xm = pk_mat_view(X, n, d);
        pk_sdp_params p = pk_sdp_params_default(k);
        pk_rng rng;
        pk_rng_seed(&rng, 48);
        pk_sdp_result *r = NULL;
        pk_err err;
        PK_CHECK_OK(pk_sdp_kmeans(&Xm, &p, &rng, &r, &err));
        if (r) {
            PK_CHECK(r->converged);
            PK_CHECK(isfinite(r->objective));
            double e = 1;
            PK_CHECK_OK(pk_cluster_error(y, r->labels, n, &e));
            PK_CHECK_MSG(e < 0.3, "mis-clustering error %g", e); /* overlapping clusters: about 0.19 */
        }
        pk_sdp_result_free(r);
    }
    free(X);
    free(y);
    json_decref(root);
    return pk_test_done();
}
