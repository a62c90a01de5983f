/* Fuzz target: the PAutomaC model-file parser and the forward algorithm. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "probkit/pdfa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pk_pfa *m = NULL;
    pk_err err;
    if (pk_pfa_parse_pautomac((const char *)data, size, "fuzz", &m, &err) == PK_OK) {
        if (pk_pfa_nstates(m) <= 5000 && pk_pfa_nsym(m) <= 5000) {
            int32_t x[4] = {0, 1, 0, 1};
            for (int32_t a = 0; a < 4; a++)
                x[a] = a % pk_pfa_nsym(m);
            double lp = pk_pfa_log_prob(m, x, 4);
            if (lp > 50) /* entries are probabilities <= 1: a huge value means a bug */
                abort();
            (void)pk_pfa_is_deterministic(m);
        }
    }
    pk_pfa_free(m);
    return 0;
}
