/* Fuzz target: the probkit PDFA JSON reader. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "probkit/pdfa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pk_pdfa *m = NULL;
    pk_err err;
    if (pk_pdfa_from_json((const char *)data, size, "fuzz", &m, &err) == PK_OK) {
        int32_t x[3] = {0, 0, 0};
        double lp = pk_pdfa_log_prob(m, x, 3);
        if (isnan(lp))
            abort();
    }
    pk_pdfa_free(m);
    return 0;
}
