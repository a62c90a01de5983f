/* Fuzz target: pk_safetensors_parse on arbitrary bytes must never crash,
 * leak or read out of bounds; every accepted tensor must be readable and
 * findable by name.  See fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>

#include "probkit/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pk_tensor_file *f = NULL;
    pk_err err;
    int st = pk_safetensors_parse(data, size, "fuzz", &f, &err);
    if (st != PK_OK) {
        if (f || !err.msg[0])
            abort();
        return 0;
    }
    for (size_t k = 0; k < f->n; k++) {
        if (pk_tensor_file_get(f, f->names[k]) != f->arrays[k])
            abort(); /* names are unique */
        double acc = 0;
        size_t n = pk_array_numel(f->arrays[k]);
        for (size_t i = 0; i < n; i++)
            acc += pk_array_get(f->arrays[k], i) != 0;
        if (acc > (double)n)
            abort();
    }
    for (size_t k = 0; k < f->n_meta; k++)
        if (!f->meta_keys[k] || !f->meta_values[k])
            abort();
    pk_tensor_file_free(f);
    return 0;
}
