/* pk_test.h — the whole unit-test framework: checks that count, a summary.
 *
 *   int main(void) { PK_CHECK(x == 1); PK_CHECK_CLOSE(a, b, 1e-12, 1e-9); return pk_test_done(); }
 *
 * PK_CHECK_CLOSE(a, b, atol, rtol) passes when |a-b| <= atol + rtol*|b| (NaN never passes,
 * equal infinities do).
 */
#ifndef PK_TEST_H
#define PK_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int pk_test_failed_, pk_test_count_;

#define PK_CHECK(cond)                                                                                   \
    do {                                                                                                 \
        pk_test_count_++;                                                                                \
        if (!(cond)) {                                                                                   \
            pk_test_failed_++;                                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                     \
        }                                                                                                \
    } while (0)

#define PK_CHECK_MSG(cond, ...)                                                                          \
    do {                                                                                                 \
        pk_test_count_++;                                                                                \
        if (!(cond)) {                                                                                   \
            pk_test_failed_++;                                                                           \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);                     \
            fprintf(stderr, __VA_ARGS__);                                                                \
            fputc('\n', stderr);                                                                         \
        }                                                                                                \
    } while (0)

static inline int pk_test_close_(double a, double b, double atol, double rtol)
{
    if (isnan(a) || isnan(b))
        return 0;
    if (isinf(a) || isinf(b))
        return a == b;
    return fabs(a - b) <= atol + rtol * fabs(b);
}

#define PK_CHECK_CLOSE(a, b, atol, rtol)                                                                 \
    do {                                                                                                 \
        double pk_a_ = (a), pk_b_ = (b);                                                                 \
        pk_test_count_++;                                                                                \
        if (!pk_test_close_(pk_a_, pk_b_, (atol), (rtol))) {                                             \
            pk_test_failed_++;                                                                           \
            fprintf(stderr, "%s:%d: %s = %.17g, expected %s = %.17g (atol %g, rtol %g)\n", __FILE__,     \
                    __LINE__, #a, pk_a_, #b, pk_b_, (double)(atol), (double)(rtol));                     \
        }                                                                                                \
    } while (0)

#define PK_CHECK_OK(expr)                                                                                \
    do {                                                                                                 \
        int pk_s_ = (expr);                                                                              \
        pk_test_count_++;                                                                                \
        if (pk_s_ != 0) {                                                                                \
            pk_test_failed_++;                                                                           \
            fprintf(stderr, "%s:%d: %s returned %d\n", __FILE__, __LINE__, #expr, pk_s_);                \
        }                                                                                                \
    } while (0)

static inline int pk_test_done(void)
{
    fprintf(stderr, "%d checks, %d failed\n", pk_test_count_, pk_test_failed_);
    return pk_test_failed_ ? 1 : 0;
}

#endif
