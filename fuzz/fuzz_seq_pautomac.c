/* Fuzz target: the PAutomaC string-file parser. */
#include <stdint.h>
#include <stdlib.h>

#include "probkit/pdfa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pk_seqs *s = NULL;
    pk_err err;
    if (pk_pautomac_parse((const char *)data, size, "fuzz", &s, &err) == PK_OK) {
        /* a parsed set is consistent: offsets grow, symbols in range */
        for (size_t i = 0; i < s->n; i++)
            for (size_t j = 0; j < pk_seqs_len(s, i); j++)
                if (pk_seqs_at(s, i)[j] < 0 || pk_seqs_at(s, i)[j] >= s->nsym)
                    abort();
    }
    pk_seqs_free(s);
    return 0;
}
