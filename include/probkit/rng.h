/* probkit/rng.h — explicit random number streams.
 *
 * pk_rng is xoshiro256** (Blackman & Vigna 2018), seeded through splitmix64.
 * It is a plain value type: copy it to fork, `pk_rng_jump` it to get a stream
 * 2^128 draws away (use one per thread / MPI rank: stream i = seed, then i jumps).
 * No function here touches global state.
 */
#ifndef PROBKIT_RNG_H
#define PROBKIT_RNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pk_rng {
    uint64_t s[4];
    double spare_normal; /* cached second Box-Muller/polar deviate */
    int has_spare;
} pk_rng;

/** Seed a generator: the same seed always gives the same stream. */
void pk_rng_seed(pk_rng *r, uint64_t seed);

/** Stream `stream` of `seed`: pk_rng_seed then `stream` jumps (2^128 draws each). */
void pk_rng_seed_stream(pk_rng *r, uint64_t seed, uint64_t stream);

/** Advance by 2^128 draws. */
void pk_rng_jump(pk_rng *r);

/** 64 random bits. */
uint64_t pk_rng_u64(pk_rng *r);

/** Uniform on [0, 1) with 53 random bits. */
double pk_rng_uniform(pk_rng *r);

/** Uniform on (0, 1): never returns 0, safe for log(). */
double pk_rng_uniform_pos(pk_rng *r);

/** Uniform integer in [0, n) without modulo bias (Lemire). n must be > 0. */
uint64_t pk_rng_below(pk_rng *r, uint64_t n);

/** Standard normal N(0, 1). */
double pk_rng_normal(pk_rng *r);

/** Gamma(shape, scale=1) (Marsaglia-Tsang; boosted for shape < 1). shape > 0. */
double pk_rng_gamma(pk_rng *r, double shape);

/** Beta(a, b), a, b > 0. */
double pk_rng_beta(pk_rng *r, double a, double b);

/** Exponential with rate 1. */
double pk_rng_exponential(pk_rng *r);

/** Dirichlet(alpha[0..k-1]) into out[0..k-1]. */
void pk_rng_dirichlet(pk_rng *r, const double *alpha, size_t k, double *out);

/** Index i with probability p[i] / sum(p); p need not be normalised, must be >= 0
 *  with a positive sum. Returns k if the sum is not positive. */
size_t pk_rng_categorical(pk_rng *r, const double *p, size_t k);

/** Same, from unnormalised log-probabilities (Gumbel-free: one logsumexp pass). */
size_t pk_rng_categorical_log(pk_rng *r, const double *logp, size_t k);

/** Multinomial(n, p) counts into out[0..k-1] (conditional binomials). */
void pk_rng_multinomial(pk_rng *r, uint64_t n, const double *p, size_t k, uint64_t *out);

/** Binomial(n, p). */
uint64_t pk_rng_binomial(pk_rng *r, uint64_t n, double p);

/** Poisson(mu). */
uint64_t pk_rng_poisson(pk_rng *r, double mu);

/** Uniformly random permutation of 0..n-1 into perm (Fisher-Yates). */
void pk_rng_permutation(pk_rng *r, size_t *perm, size_t n);

/** Shuffle n elements of `size` bytes each in place. */
void pk_rng_shuffle(pk_rng *r, void *base, size_t n, size_t size);

#ifdef __cplusplus
}
#endif
#endif
