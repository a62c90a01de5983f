/* Fuzz target: pk_idx_parse on arbitrary bytes must never crash, leak or read
 * out of bounds, and an accepted array must be fully readable.
 * See fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>

#include "probkit/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pk_array *a = NULL;
    pk_err err;
    int st = pk_idx_parse(data, size, "fuzz", &a, &err);
    if (st != PK_OK) {
        if (a || !err.msg[0])
            abort(); /* a failure hands back nothing and always says why */
        return 0;
    }
    /* touch every element: catches a shape that disagrees with the buffer */
    double acc = 0;
    size_t n = pk_array_numel(a);
    for (size_t i = 0; i < n; i++)
        acc += pk_array_get(a, i) != 0;
    if (acc > (double)n)
        abort();
    pk_array_free(a);
    return 0;
}
