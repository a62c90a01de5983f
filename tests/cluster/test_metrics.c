/* Hungarian-matched error, ARI and NMI against scikit-learn / brute force. */
#include <stdlib.h>

#include "fixture.h"
#include "pk_test.h"
#include "probkit/cluster.h"

int main(void)
{
    json_error_t je;
    json_t *root = json_load_file(PK_FIXTURES "/cluster/sklearn.json", 0, &je);
    PK_CHECK(root != NULL);
    if (!root)
        return pk_test_done();
    json_t *mets = json_object_get(root, "metrics");
    PK_CHECK(json_array_size(mets) == 6);
    for (size_t t = 0; t < json_array_size(mets); t++) {
        json_t *m = json_array_get(mets, t);
        size_t n = 0;
        int32_t *a = fx_ints(json_object_get(m, "a"), &n), *b = fx_ints(json_object_get(m, "b"), NULL);
        double ari, nmi, er;
        PK_CHECK_OK(pk_cluster_ari(a, b, n, &ari));
        PK_CHECK_OK(pk_cluster_nmi(a, b, n, &nmi));
        PK_CHECK_OK(pk_cluster_error(a, b, n, &er));
        PK_CHECK_CLOSE(ari, json_number_value(json_object_get(m, "ari")), 1e-12, 1e-10);
        PK_CHECK_CLOSE(nmi, json_number_value(json_object_get(m, "nmi")), 1e-12, 1e-10);
        PK_CHECK_CLOSE(er, json_number_value(json_object_get(m, "err")), 1e-12, 0);
        free(a);
        free(b);
    }
    /* identical up to relabelling */
    int32_t x[6] = {0, 0, 1, 1, 2, 2}, y[6] = {2, 2, 0, 0, 1, 1}, bad[6] = {0, -1, 0, 0, 0, 0};
    double v;
    PK_CHECK_OK(pk_cluster_error(x, y, 6, &v));
    PK_CHECK(v == 0);
    PK_CHECK_OK(pk_cluster_ari(x, y, 6, &v));
    PK_CHECK_CLOSE(v, 1, 1e-15, 0);
    PK_CHECK_OK(pk_cluster_nmi(x, y, 6, &v));
    PK_CHECK_CLOSE(v, 1, 1e-15, 0);
    PK_CHECK(pk_cluster_ari(x, bad, 6, &v) == PK_EINVAL);
    /* Hungarian on a known 3x3 */
    double cost[9] = {4, 1, 3, 2, 0, 5, 3, 2, 2};
    size_t perm[3];
    PK_CHECK_OK(pk_hungarian(cost, 3, perm));
    PK_CHECK(perm[0] == 1 && perm[1] == 0 && perm[2] == 2);
    json_decref(root);
    return pk_test_done();
}
