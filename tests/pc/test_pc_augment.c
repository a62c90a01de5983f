/* Training-set augmentation: the originals first, then exact one-pixel
 * translations with zeros where the image moved away; bad sizes refused. */
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/pc.h"

int main(void)
{
    enum { N = 3, H = 4, W = 5 };
    uint8_t x[N * H * W];
    for (int i = 0; i < N * H * W; i++)
        x[i] = (uint8_t)(1 + (i * 37) % 250);
    uint8_t *o = NULL;
    size_t no = 0;
    PK_CHECK_OK(pk_pc_augment_shift1(x, N, H, W, &o, &no, NULL));
    PK_CHECK(no == 5 * N);
    if (!o)
        return pk_test_done();
    static const int sh[5][2] = {{0, 0}, {1, 0}, {-1, 0}, {0, 1}, {0, -1}};
    int bad = 0;
    for (int s = 0; s < 5; s++)
        for (int i = 0; i < N; i++)
            for (int r = 0; r < H; r++)
                for (int c = 0; c < W; c++) {
                    int sr = r - sh[s][1], sc = c - sh[s][0];
                    int want = sr >= 0 && sr < H && sc >= 0 && sc < W ? x[i * H * W + sr * W + sc] : 0;
                    bad += o[((s * N) + i) * H * W + r * W + c] != want;
                }
    PK_CHECK(bad == 0);
    /* a right shift: column 0 empty, column 1 = the original's column 0 */
    PK_CHECK(o[(1 * N) * H * W + 0] == 0 && o[(1 * N) * H * W + 1] == x[0]);
    free(o);
    PK_CHECK(pk_pc_augment_shift1(x, 0, H, W, &o, &no, NULL) == PK_EINVAL);
    PK_CHECK(pk_pc_augment_shift1(x, N, 1, W, &o, &no, NULL) == PK_EINVAL);
    PK_CHECK(pk_pc_augment_shift1(NULL, N, H, W, &o, &no, NULL) == PK_EINVAL);
    return pk_test_done();
}
