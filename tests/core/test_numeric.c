#include <float.h>

#include "pk_test.h"
#include "probkit/core.h"

int main(void)
{
    double x[] = {1000.0, 1000.0, -INFINITY};
    PK_CHECK_CLOSE(pk_logsumexp(x, 3, 1), 1000.0 + log(2.0), 0, 1e-15);
    PK_CHECK(pk_logsumexp(x, 0, 1) == -INFINITY);
    double ninf[] = {-INFINITY, -INFINITY};
    PK_CHECK(pk_logsumexp(ninf, 2, 1) == -INFINITY);
    double pinf[] = {1.0, INFINITY};
    PK_CHECK(pk_logsumexp(pinf, 2, 1) == INFINITY);
    double nan_[] = {1.0, NAN};
    PK_CHECK(isnan(pk_logsumexp(nan_, 2, 1)));
    double strided[] = {0.0, 99.0, 0.0, 99.0};
    PK_CHECK_CLOSE(pk_logsumexp(strided, 2, 2), log(2.0), 0, 1e-15);
    float xf[] = {-3.0f, 2.0f, 0.5f};
    PK_CHECK_CLOSE(pk_logsumexp_f(xf, 3, 1), log(exp(-3.0) + exp(2.0) + exp(0.5)), 0, 1e-12);

    PK_CHECK_CLOSE(pk_logaddexp(-800, -800), -800 + log(2.0), 0, 1e-15);
    PK_CHECK(pk_logaddexp(-INFINITY, 3.0) == 3.0);
    PK_CHECK_CLOSE(pk_log1pexp(0.0), log(2.0), 0, 1e-15);
    PK_CHECK_CLOSE(pk_log1pexp(-50.0), exp(-50.0), 0, 1e-15);
    PK_CHECK_CLOSE(pk_log1pexp(25.0), 25.0 + log1p(exp(-25.0)), 0, 1e-15);
    PK_CHECK(pk_log1pexp(800.0) == 800.0);
    PK_CHECK_CLOSE(pk_log1mexp(-1e-20), log(1e-20), 0, 1e-12);
    PK_CHECK_CLOSE(pk_log1mexp(-50.0), -exp(-50.0), 0, 1e-12);
    PK_CHECK(isnan(pk_log1mexp(0.5)));

    double s[] = {1.0, 2.0, 3.0};
    pk_softmax(s, 3);
    PK_CHECK_CLOSE(s[0] + s[1] + s[2], 1.0, 1e-15, 0);
    PK_CHECK_CLOSE(s[2] / s[1], exp(1.0), 0, 1e-14);

    /* streaming logsumexp equals the batch one, in any order */
    double v[] = {-5.0, 700.0, 3.0, -INFINITY, 699.0, 701.5};
    pk_lse_stream st;
    pk_lse_stream_init(&st);
    PK_CHECK(pk_lse_stream_value(&st) == -INFINITY);
    for (int i = 0; i < 6; i++)
        pk_lse_stream_add(&st, v[i]);
    PK_CHECK_CLOSE(pk_lse_stream_value(&st), pk_logsumexp(v, 6, 1), 0, 1e-15);

    double m, var;
    double w[] = {1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16};
    pk_mean_var(w, 4, &m, &var);
    PK_CHECK_CLOSE(m, 1e9 + 10, 0, 1e-15);
    PK_CHECK_CLOSE(var, 30.0, 0, 1e-9);
    double med[] = {5, 1, 4, 2};
    PK_CHECK_CLOSE(pk_median(med, 4), 3.0, 0, 0);
    PK_CHECK_CLOSE(pk_median(med, 3), 4.0, 0, 0);
    PK_CHECK(isnan(pk_median(med, 0)));
    PK_CHECK(pk_all_finite(w, 4) && !pk_all_finite(nan_, 2));

    pk_err e;
    pk_err_set(&e, PK_EFORMAT, "line %d: bad", 17);
    pk_err_prefix(&e, "%s: ", "train.csv");
    PK_CHECK(!strcmp(e.msg, "train.csv: line 17: bad") && e.status == PK_EFORMAT);
    PK_CHECK(!strcmp(pk_strerror(PK_ESING), "matrix singular or not positive definite"));
    PK_CHECK(!strcmp(pk_strerror(12345), "unknown status"));
    /* log|Gamma|: sqrt(pi), 9!, and a negative argument (|Gamma(-1/2)| = 2 sqrt(pi)) */
    PK_CHECK_CLOSE(pk_lgamma(0.5), 0.57236494292470008, 0, 1e-15);
    PK_CHECK_CLOSE(pk_lgamma(10.0), 12.801827480081469, 0, 1e-15);
    PK_CHECK_CLOSE(pk_lgamma(-0.5), 1.2655121234846454, 0, 1e-15);
    return pk_test_done();
}
