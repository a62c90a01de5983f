/* Fuzz target: pk_pc_decompress on arbitrary bytes.  The model hash and the
 * CRC are patched in so that mutations reach the index and the streams; a
 * failure must say why and hand back nothing; an accepted file must decode
 * to images that compress and decompress to themselves. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pc_fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pk_pc *pc = pc_fuzz_model();
    if (!pc)
        abort();
    uint8_t *buf = malloc(size + 1);
    if (!buf)
        abort();
    memcpy(buf, data, size);
    if (size >= 48) {
        uint64_t h = pk_pc_hash(pc);
        for (int i = 0; i < 8; i++)
            buf[8 + i] = (uint8_t)(h >> (8 * i));
        uint32_t crc = (uint32_t)crc32(0L, buf, (uInt)(size - 4));
        for (int i = 0; i < 4; i++)
            buf[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    }
    uint8_t *x = NULL;
    size_t n = 0;
    pk_err err = {0};
    int st = pk_pc_decompress(pc, buf, size, "fuzz", &x, &n, &err);
    if (st != PK_OK) {
        if (x || !err.msg[0])
            abort();
    } else {
        pk_pc_container_info info;
        if (pk_pc_container_info_read(buf, size, "fuzz", &info, NULL) || info.count != n)
            abort();
        uint8_t *c2, *y;
        size_t l2, n2;
        if (pk_pc_compress(pc, x, n, info.mode, &c2, &l2, NULL) || pk_pc_decompress(pc, c2, l2, "re", &y, &n2, NULL))
            abort();
        if (n2 != n || (n && memcmp(x, y, n * 16)))
            abort();
        free(c2), free(y), free(x);
    }
    free(buf);
    pk_pc_free(pc);
    return 0;
}
