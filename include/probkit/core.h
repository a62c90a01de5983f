/* probkit/core.h — status codes, error messages and log-space numerics.
 *
 * Every fallible probkit function returns an `int` status: PK_OK (0) on
 * success, one of the negative PK_E* codes otherwise.  Functions that can say
 * *which* input was wrong take a `pk_err *` (may be NULL) and fill its message,
 * e.g. "train.csv:17: column 'age': expected a number, got \"n/a\"".
 * The library never prints, exits or aborts.
 */
#ifndef PROBKIT_CORE_H
#define PROBKIT_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PK_VERSION_STRING "0.1.0"

typedef enum pk_status {
    PK_OK = 0,
    PK_EINVAL = -1,    /**< an argument is out of its documented range */
    PK_ENOMEM = -2,    /**< an allocation failed */
    PK_EIO = -3,       /**< a file could not be opened, read or written */
    PK_EFORMAT = -4,   /**< input data are malformed (parse error, bad magic, truncation) */
    PK_EDOM = -5,      /**< a value is outside a function's domain (NaN, negative variance) */
    PK_ESING = -6,     /**< a matrix is singular or not positive definite */
    PK_EMAXITER = -7,  /**< an iteration did not converge within its budget */
    PK_ESHAPE = -8,    /**< array shapes do not agree */
    PK_ENOTSUP = -9,   /**< a feature is not supported (yet, or in this build) */
    PK_EINTERNAL = -10 /**< a library invariant failed: a bug, please report */
} pk_status;

/** A short, static, English description of a status code. Never NULL. */
const char *pk_strerror(int status);

/** A caller-owned error record: the status and a message naming the input. */
typedef struct pk_err {
    int status;
    char msg[512];
} pk_err;

/** Record `status` and a printf-style message in `err` (if non-NULL).
 *  @return `status`, so that `return pk_err_set(err, PK_EINVAL, "...")` works. */
int pk_err_set(pk_err *err, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/** Prefix the existing message of `err` with a context string ("file.csv: "). */
void pk_err_prefix(pk_err *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/** Clear `err` (status PK_OK, empty message). Accepts NULL. */
void pk_err_clear(pk_err *err);

/* ---- log-space numerics --------------------------------------------------- */

/** log(sum_i exp(x[i*stride])) for n values; -inf for n == 0 or all -inf;
 *  +inf if any value is +inf; NaN propagates. */
double pk_logsumexp(const double *x, size_t n, size_t stride);

/** float input, double accumulation. */
double pk_logsumexp_f(const float *x, size_t n, size_t stride);

/** log(exp(a) + exp(b)) without overflow. */
double pk_logaddexp(double a, double b);

/** log(1 + exp(x)) (softplus), accurate for all x. */
double pk_log1pexp(double x);

/** log(1 - exp(x)) for x <= 0, accurate near 0 and for very negative x. */
double pk_log1mexp(double x);

/** log|Gamma(x)|, safe to call from several threads at once (C's lgamma
 *  writes the global `signgam`; this uses the reentrant form). */
double pk_lgamma(double x);

/** In place: x[i] <- exp(x[i] - logsumexp(x)); returns the logsumexp. */
double pk_softmax(double *x, size_t n);

/** In place: x[i] <- x[i] - logsumexp(x); returns the logsumexp. */
double pk_log_softmax(double *x, size_t n);

/** A running log-sum-exp: feed values one at a time, read the total at any point. */
typedef struct pk_lse_stream {
    double max;
    double sum; /* sum of exp(x - max) */
} pk_lse_stream;

void pk_lse_stream_init(pk_lse_stream *s);
void pk_lse_stream_add(pk_lse_stream *s, double x);
double pk_lse_stream_value(const pk_lse_stream *s);

/** 1 if every value is finite. */
int pk_all_finite(const double *x, size_t n);

/** Stable mean and (n-1)-normalised variance (Welford). var is 0 for n < 2. */
void pk_mean_var(const double *x, size_t n, double *mean, double *var);

/** Median of n values (copies; x is not modified). NaN for n == 0. */
double pk_median(const double *x, size_t n);

/** Monotonic wall clock in seconds, for progress and benchmarks. */
double pk_time_now(void);

#ifdef __cplusplus
}
#endif
#endif
