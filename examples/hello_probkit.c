/* A program using the installed library through pkg-config:
 *   cc hello_probkit.c $(pkg-config --cflags --libs probkit) -o hello_probkit
 * Draws normals from an explicit stream and solves a small SPD system. */
#include <probkit/core.h>
#include <probkit/linalg.h>
#include <probkit/rng.h>
#include <stdio.h>

int main(void)
{
    pk_rng r;
    pk_rng_seed(&r, 42);
    double s = 0;
    for (int i = 0; i < 1000; i++)
        s += pk_rng_normal(&r);

    double a[4] = {4, 2, 2, 3}, b[2] = {2, 1};
    pk_mat A = pk_mat_view(a, 2, 2), B = pk_mat_view(b, 2, 1);
    int st = pk_cholesky(&A, 0.0, 0, NULL);
    if (st == PK_OK)
        st = pk_cholesky_solve(&A, &B);
    if (st != PK_OK) {
        fprintf(stderr, "hello_probkit: %s\n", pk_strerror(st));
        return 1;
    }
    printf("mean of 1000 normals %.4f; solution (%.4f, %.4f)\n", s / 1000, b[0], b[1]);
    return 0;
}
