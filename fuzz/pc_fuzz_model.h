/* The fixed small circuit the pc fuzz targets decode against (shared by
 * fuzz_pc_decode.c, fuzz_pc_container.c and the corpus generator). */
#ifndef PC_FUZZ_MODEL_H
#define PC_FUZZ_MODEL_H
#include "probkit/pc.h"

static pk_pc *pc_fuzz_model(void)
{
    /* 4 x 4 image, 16 levels, k = 3, a fixed tree. */
    static const int32_t parent[16] = {-1, 0, 1, 2, 0, 4, 5, 6, 4, 8, 9, 10, 8, 12, 13, 14};
    pk_rng rng;
    pk_rng_seed(&rng, 1);
    pk_pc *pc = NULL;
    if (pk_pc_from_tree(parent, 16, 3, 16, 0.9, &rng, &pc, NULL))
        return NULL;
    pc->height = 4;
    pc->width = 4;
    return pc;
}
#endif
