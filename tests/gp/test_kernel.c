/* Kernel gradients (parameters and inputs) against central differences. */
#include <math.h>
#include <stdlib.h>

#include "pk_test.h"
#include "probkit/gp.h"

static void check_kernel(pk_gp_kernel *k, pk_rng *rng, const char *what)
{
    size_t d = pk_gp_kernel_dim(k), np = pk_gp_kernel_nparams(k);
    double th[64], g[64], x[8], y[8], dx[8];
    pk_gp_kernel_get_params(k, th);
    for (size_t p = 0; p < np; p++)
        th[p] += 0.4 * (pk_rng_uniform(rng) - 0.5);
    pk_gp_kernel_set_params(k, th);
    for (int trial = 0; trial < 4; trial++) {
        for (size_t j = 0; j < d; j++) {
            x[j] = pk_rng_uniform(rng) * 2 - 1;
            y[j] = pk_rng_uniform(rng) * 2 - 1;
        }
        double v = pk_gp_kernel_eval(k, x, y, g);
        PK_CHECK_MSG(isfinite(v), "%s value", what);
        PK_CHECK_CLOSE(pk_gp_kernel_eval(k, y, x, NULL), v, 1e-12, 1e-10); /* symmetric */
        for (size_t p = 0; p < np; p++) {
            double h = 1e-5, t0 = th[p];
            th[p] = t0 + h;
            pk_gp_kernel_set_params(k, th);
            double fp = pk_gp_kernel_eval(k, x, y, NULL);
            th[p] = t0 - h;
            pk_gp_kernel_set_params(k, th);
            double fm = pk_gp_kernel_eval(k, x, y, NULL);
            th[p] = t0;
            pk_gp_kernel_set_params(k, th);
            double fd = (fp - fm) / (2 * h);
            PK_CHECK_MSG(fabs(g[p] - fd) <= 1e-6 + 1e-5 * fabs(fd), "%s dtheta[%zu]: %g vs fd %g", what, p, g[p], fd);
        }
        double v2 = pk_gp_kernel_eval_dx(k, x, y, dx);
        PK_CHECK_CLOSE(v2, v, 1e-12, 1e-10);
        for (size_t j = 0; j < d; j++) {
            double h = 1e-5, x0 = x[j];
            x[j] = x0 + h;
            double fp = pk_gp_kernel_eval(k, x, y, NULL);
            x[j] = x0 - h;
            double fm = pk_gp_kernel_eval(k, x, y, NULL);
            x[j] = x0;
            double fd = (fp - fm) / (2 * h);
            PK_CHECK_MSG(fabs(dx[j] - fd) <= 1e-6 + 1e-4 * fabs(fd), "%s dx[%zu]: %g vs fd %g", what, j, dx[j], fd);
        }
    }
}

int main(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 1);
    const size_t d = 3;
    static const char *names[] = {"se", "m12", "m32", "m52", "linear", "periodic", "relu", "erf"};
    for (int t = PK_GP_KERNEL_SE; t <= PK_GP_KERNEL_NNGP_ERF; t++) {
        for (int ard = 0; ard < 2; ard++) {
            pk_gp_kernel *k = pk_gp_kernel_new((pk_gp_kernel_type)t, d, ard, 3);
            PK_CHECK(k != NULL);
            if (k)
                check_kernel(k, &rng, names[t]);
            pk_gp_kernel_free(k);
        }
    }
    pk_gp_kernel *s = pk_gp_kernel_combine(PK_GP_KERNEL_SUM, pk_gp_kernel_new(PK_GP_KERNEL_SE, d, 1, 0),
                                           pk_gp_kernel_new(PK_GP_KERNEL_LINEAR, d, 0, 0));
    pk_gp_kernel *pr = pk_gp_kernel_combine(PK_GP_KERNEL_PRODUCT, pk_gp_kernel_new(PK_GP_KERNEL_PERIODIC, d, 0, 0),
                                            pk_gp_kernel_new(PK_GP_KERNEL_MATERN32, d, 1, 0));
    PK_CHECK(s && pr);
    PK_CHECK(pk_gp_kernel_nparams(s) == 4 + 2);
    check_kernel(s, &rng, "sum");
    check_kernel(pr, &rng, "product");
    pk_gp_kernel *nested = pk_gp_kernel_combine(PK_GP_KERNEL_PRODUCT, s, pk_gp_kernel_dup(pr));
    check_kernel(nested, &rng, "nested");
    char buf[64];
    pk_gp_kernel_param_name(nested, 5, buf, sizeof buf);
    PK_CHECK(!strcmp(buf, "linear.log_sb2"));
    pk_gp_kernel_free(nested);
    pk_gp_kernel_free(pr);

    /* NNGP ReLU depth 1 against the closed form of the arc-cosine kernel. */
    pk_gp_kernel *relu = pk_gp_kernel_new(PK_GP_KERNEL_NNGP_RELU, 2, 0, 1);
    double th[2] = {log(2.0), log(0.5)};
    pk_gp_kernel_set_params(relu, th);
    double x[2] = {0.3, -1.2}, y[2] = {1.1, 0.4};
    double kxy = 0.5 + 2.0 * (0.33 - 0.48) / 2, kxx = 0.5 + 2.0 * (0.09 + 1.44) / 2, kyy = 0.5 + 2.0 * (1.21 + 0.16) / 2;
    double c = kxy / sqrt(kxx * kyy), thv = acos(c);
    double expect = 0.5 + 2.0 * sqrt(kxx * kyy) * (sin(thv) + (M_PI - thv) * c) / (2 * M_PI);
    PK_CHECK_CLOSE(pk_gp_kernel_eval(relu, x, y, NULL), expect, 1e-12, 1e-12);
    /* erf depth 1: Williams (1997) arcsine kernel */
    pk_gp_kernel *erf = pk_gp_kernel_new(PK_GP_KERNEL_NNGP_ERF, 2, 0, 1);
    pk_gp_kernel_set_params(erf, th);
    expect = 0.5 + 2.0 * 2 / M_PI * asin(2 * kxy / sqrt((1 + 2 * kxx) * (1 + 2 * kyy)));
    PK_CHECK_CLOSE(pk_gp_kernel_eval(erf, x, y, NULL), expect, 1e-12, 1e-12);
    pk_gp_kernel_free(relu);
    pk_gp_kernel_free(erf);

    /* bad arguments */
    PK_CHECK(pk_gp_kernel_new(PK_GP_KERNEL_SE, 0, 0, 0) == NULL);
    PK_CHECK(pk_gp_kernel_new(PK_GP_KERNEL_NNGP_RELU, 2, 0, 0) == NULL);
    PK_CHECK(pk_gp_kernel_combine(PK_GP_KERNEL_SUM, pk_gp_kernel_new(PK_GP_KERNEL_SE, 2, 0, 0),
                                  pk_gp_kernel_new(PK_GP_KERNEL_SE, 3, 0, 0)) == NULL);
    return pk_test_done();
}
