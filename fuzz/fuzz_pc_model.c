/* Fuzz target: pk_pc_parse (circuit files) on arbitrary bytes must never
 * crash or leak; a failure says why and returns nothing; an accepted circuit
 * re-serialises to the same bytes (version 1) or, for a compact version-2
 * file, whose zlib stream may be any valid one, to a file that loads to the
 * same parameters and hash; it evaluates to a finite likelihood.
 * When the first byte is odd the CRC is patched in, so that mutations reach
 * the tree and parameter checks. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "probkit/pc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size + 1);
    if (!copy)
        abort();
    memcpy(copy, data, size);
    if (size >= 8 && (data[0] & 1)) {
        copy[0] = 'P';
        uint32_t crc = (uint32_t)crc32(0L, copy, (uInt)(size - 4));
        for (int i = 0; i < 4; i++)
            copy[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    }
    data = copy;
    pk_pc *pc = NULL;
    pk_err err = {0};
    int st = pk_pc_parse(data, size, "fuzz", &pc, &err);
    if (st != PK_OK) {
        if (pc || !err.msg[0])
            abort();
        free(copy);
        return 0;
    }
    uint8_t *buf;
    size_t len;
    if (pk_pc_serialize(pc, &buf, &len, NULL))
        abort();
    if (pc->qlevels == 0 && (len != size || memcmp(buf, data, size)))
        abort();
    if (pc->qlevels > 0) {
        pk_pc *again = NULL;
        size_t nt = (size_t)pc->nvars * (size_t)pc->k * (size_t)pc->ncat;
        if (pk_pc_parse(buf, len, "again", &again, NULL) || pk_pc_hash(again) != pk_pc_hash(pc) ||
            memcmp(again->theta, pc->theta, nt * sizeof(float)))
            abort();
        pk_pc_free(again);
    }
    free(buf);
    if (pc->nvars <= 4096) {
        uint8_t *x = calloc((size_t)pc->nvars, 1);
        double ll;
        if (!x || pk_pc_loglik(pc, x, NULL, 1, &ll, NULL) || isnan(ll) || ll > 1e-3)
            abort();
        free(x);
    }
    pk_pc_free(pc);
    free(copy);
    return 0;
}
