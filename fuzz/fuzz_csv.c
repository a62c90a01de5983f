/* Fuzz target: pk_csv_parse on arbitrary bytes (first byte picks the
 * options) must never crash, leak or read out of bounds; an accepted table
 * must be self-consistent (level codes in range).  See fuzz/README.md. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "probkit/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pk_csv_opts o = pk_csv_opts_default();
    if (size > 0) {
        uint8_t c = data[0];
        o.delimiter = (c & 3) == 0 ? ',' : (c & 3) == 1 ? '\t' : (c & 3) == 2 ? ';' : ' ';
        o.has_header = (c >> 2) & 1;
        o.require_numeric = (c >> 3) & 1;
        o.skip_lines = (c >> 4) & 3;
        data++;
        size--;
    }
    pk_table *t = NULL;
    pk_err err;
    int st = pk_csv_parse((const char *)data, size, "fuzz", &o, &t, &err);
    if (st != PK_OK) {
        if (t || !err.msg[0])
            abort();
        return 0;
    }
    for (size_t j = 0; j < t->ncols; j++) {
        if (!t->names[j] || (j < 64 && pk_table_find(t, t->names[j]) != (int)j)) /* find is linear */
            abort();
        for (size_t i = 0; i < t->nrows; i++) {
            double v = t->values[i * t->ncols + j];
            if (t->categorical[j] && !isnan(v) && (v < 0 || v >= (double)t->nlevels[j] || !t->levels[j][(size_t)v]))
                abort();
        }
    }
    pk_table_free(t);
    return 0;
}
