/* Fuzz target: the AT&T FST text parser, writer round trip and rmepsilon. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/fst.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pk_fst *f = NULL, *g = NULL, *e = NULL;
    pk_err err;
    if (pk_fst_parse_att((const char *)data, size, "fuzz", &f, &err) == PK_OK) {
        char *txt = NULL;
        if (pk_fst_num_states(f) <= 2000 && pk_fst_to_att(f, &txt) == PK_OK) {
            if (*txt && pk_fst_parse_att(txt, strlen(txt), "rt", &g, &err) == PK_OK &&
                pk_fst_total_arcs(g) != pk_fst_total_arcs(f))
                abort();
            if (pk_fst_num_states(f) <= 200)
                (void)pk_fst_rm_epsilon(f, &e, &err);
        }
        free(txt);
    }
    pk_fst_free(f);
    pk_fst_free(g);
    pk_fst_free(e);
    return 0;
}
