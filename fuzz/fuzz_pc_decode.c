/* Fuzz target: the circuit-driven rANS decoder on arbitrary bytes (no CRC in
 * the way).  Decoding must never crash; when the stream is accepted, the
 * decoded images must re-encode and decode to themselves. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pc_fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pk_pc *pc = pc_fuzz_model();
    pk_pc_coder *c = NULL;
    if (!pc || pk_pc_coder_new(pc, &c))
        abort();
    uint8_t x[3 * 16], y[3 * 16];
    pk_rans_dec dec;
    int ok = pk_rans_dec_init(&dec, data, size) == PK_OK;
    for (int i = 0; i < 3 && ok; i++)
        ok = pk_pc_coder_decode(c, &dec, x + 16 * i) == PK_OK;
    if (ok && pk_rans_dec_done(&dec) == PK_OK) {
        for (int i = 0; i < 48; i++)
            if (x[i] >= 16)
                abort();
        pk_rans_enc enc;
        pk_rans_enc_init(&enc);
        for (int i = 2; i >= 0; i--)
            if (pk_pc_coder_encode(c, x + 16 * i, &enc, NULL))
                abort();
        uint8_t *buf;
        size_t len;
        if (pk_rans_enc_finish(&enc, &buf, &len) || pk_rans_dec_init(&dec, buf, len))
            abort();
        for (int i = 0; i < 3; i++)
            if (pk_pc_coder_decode(c, &dec, y + 16 * i))
                abort();
        if (pk_rans_dec_done(&dec) || memcmp(x, y, sizeof x))
            abort();
        free(buf);
    }
    pk_pc_coder_free(c);
    pk_pc_free(pc);
    return 0;
}
