/* Fuzz target: pk_png_parse on arbitrary bytes must never crash, leak or
 * read out of bounds; an accepted image must re-encode and decode to the
 * same pixels.  See fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probkit/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pk_array *a = NULL;
    pk_err err;
    int st = pk_png_parse(data, size, "fuzz", &a, &err);
    if (st != PK_OK) {
        if (a || !err.msg[0])
            abort();
        return 0;
    }
    uint8_t *png = NULL;
    size_t len = 0;
    /* Zero-sized images cannot be encoded; libpng never yields one. */
    if (pk_png_encode(a, &png, &len, &err) != PK_OK)
        abort();
    pk_array *b = NULL;
    if (pk_png_parse(png, len, "fuzz-reencoded", &b, &err) != PK_OK || b->ndim != a->ndim ||
        pk_array_nbytes(a) != pk_array_nbytes(b) || memcmp(a->data, b->data, pk_array_nbytes(a)))
        abort();
    pk_array_free(b);
    free(png);
    pk_array_free(a);
    return 0;
}
