#include "probkit/rng.h"
#include "probkit/core.h"

#include <math.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void pk_rng_seed(pk_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    r->has_spare = 0;
    r->spare_normal = 0.0;
}

void pk_rng_seed_stream(pk_rng *r, uint64_t seed, uint64_t stream)
{
    pk_rng_seed(r, seed);
    for (uint64_t i = 0; i < stream; i++)
        pk_rng_jump(r);
}

uint64_t pk_rng_u64(pk_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

void pk_rng_jump(pk_rng *r)
{
    static const uint64_t J[] = {0x180ec6d33cfd0abaULL, 0xd5a61266f0c9392cULL,
                                 0xa9582618e03fc9aaULL, 0x39abdc4529b1661cULL};
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 64; b++) {
            if (J[i] & (UINT64_C(1) << b)) {
                s0 ^= r->s[0];
                s1 ^= r->s[1];
                s2 ^= r->s[2];
                s3 ^= r->s[3];
            }
            pk_rng_u64(r);
        }
    r->s[0] = s0;
    r->s[1] = s1;
    r->s[2] = s2;
    r->s[3] = s3;
    r->has_spare = 0;
}

double pk_rng_uniform(pk_rng *r) { return (double)(pk_rng_u64(r) >> 11) * 0x1.0p-53; }

double pk_rng_uniform_pos(pk_rng *r)
{
    return ((double)(pk_rng_u64(r) >> 12) + 0.5) * 0x1.0p-52;
}

uint64_t pk_rng_below(pk_rng *r, uint64_t n)
{
    if (n == 0)
        return 0;
    /* Lemire's nearly-divisionless method with 128-bit products. */
    uint64_t x = pk_rng_u64(r);
    __uint128_t m = (__uint128_t)x * n;
    uint64_t l = (uint64_t)m;
    if (l < n) {
        uint64_t t = (0 - n) % n;
        while (l < t) {
            x = pk_rng_u64(r);
            m = (__uint128_t)x * n;
            l = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double pk_rng_normal(pk_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare_normal;
    }
    double u, v, s;
    do {
        u = 2.0 * pk_rng_uniform(r) - 1.0;
        v = 2.0 * pk_rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double f = sqrt(-2.0 * log(s) / s);
    r->spare_normal = v * f;
    r->has_spare = 1;
    return u * f;
}

double pk_rng_exponential(pk_rng *r) { return -log(pk_rng_uniform_pos(r)); }

double pk_rng_gamma(pk_rng *r, double a)
{
    if (!(a > 0.0))
        return NAN;
    if (a < 1.0) {
        /* G(a) = G(a+1) * U^(1/a) */
        double g = pk_rng_gamma(r, a + 1.0);
        return g * exp(log(pk_rng_uniform_pos(r)) / a);
    }
    double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = pk_rng_normal(r);
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        double u = pk_rng_uniform_pos(r);
        if (u < 1.0 - 0.0331 * x * x * x * x)
            return d * v;
        if (log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
            return d * v;
    }
}

double pk_rng_beta(pk_rng *r, double a, double b)
{
    double x = pk_rng_gamma(r, a), y = pk_rng_gamma(r, b);
    return x / (x + y);
}

void pk_rng_dirichlet(pk_rng *r, const double *alpha, size_t k, double *out)
{
    double s = 0.0;
    for (size_t i = 0; i < k; i++)
        s += (out[i] = pk_rng_gamma(r, alpha[i]));
    for (size_t i = 0; i < k; i++)
        out[i] /= s;
}

size_t pk_rng_categorical(pk_rng *r, const double *p, size_t k)
{
    double s = 0.0;
    for (size_t i = 0; i < k; i++)
        s += p[i];
    if (!(s > 0.0))
        return k;
    double u = pk_rng_uniform(r) * s, c = 0.0;
    size_t last = k;
    for (size_t i = 0; i < k; i++) {
        if (p[i] > 0.0)
            last = i;
        c += p[i];
        if (u < c && p[i] > 0.0)
            return i;
    }
    return last; /* rounding: fall back to the last positive entry */
}

size_t pk_rng_categorical_log(pk_rng *r, const double *logp, size_t k)
{
    double l = pk_logsumexp(logp, k, 1);
    if (!isfinite(l))
        return k;
    double u = pk_rng_uniform(r), c = 0.0;
    size_t last = k;
    for (size_t i = 0; i < k; i++) {
        double p = exp(logp[i] - l);
        if (p > 0.0)
            last = i;
        c += p;
        if (u < c && p > 0.0)
            return i;
    }
    return last;
}

uint64_t pk_rng_binomial(pk_rng *r, uint64_t n, double p)
{
    if (n == 0 || p <= 0.0)
        return 0;
    if (p >= 1.0)
        return n;
    if (n < 64) {
        uint64_t c = 0;
        for (uint64_t i = 0; i < n; i++)
            c += pk_rng_uniform(r) < p;
        return c;
    }
    /* Beta splitting (Knuth 3.4.1): exact, O(log n) gamma draws. */
    uint64_t a = 1 + n / 2, b = n + 1 - a;
    double x = pk_rng_beta(r, (double)a, (double)b);
    if (x >= p)
        return pk_rng_binomial(r, a - 1, p / x);
    return a + pk_rng_binomial(r, b - 1, (p - x) / (1.0 - x));
}

uint64_t pk_rng_poisson(pk_rng *r, double mu)
{
    if (!(mu > 0.0))
        return 0;
    if (mu < 30.0) {
        double L = exp(-mu), p = 1.0;
        uint64_t k = 0;
        do {
            k++;
            p *= pk_rng_uniform(r);
        } while (p > L);
        return k - 1;
    }
    /* Ahrens-Dieter style reduction: a Gamma(m) arrival time splits the count. */
    uint64_t m = (uint64_t)(0.875 * mu);
    double x = pk_rng_gamma(r, (double)m);
    if (x > mu)
        return pk_rng_binomial(r, m - 1, mu / x);
    return m + pk_rng_poisson(r, mu - x);
}

void pk_rng_multinomial(pk_rng *r, uint64_t n, const double *p, size_t k, uint64_t *out)
{
    double rest = 0.0;
    for (size_t i = 0; i < k; i++)
        rest += p[i];
    uint64_t left = n;
    for (size_t i = 0; i < k; i++) {
        if (i + 1 == k) {
            out[i] = left;
            break;
        }
        double q = rest > 0.0 ? p[i] / rest : 0.0;
        out[i] = pk_rng_binomial(r, left, q > 1.0 ? 1.0 : q);
        left -= out[i];
        rest -= p[i];
    }
}

void pk_rng_permutation(pk_rng *r, size_t *perm, size_t n)
{
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    pk_rng_shuffle(r, perm, n, sizeof *perm);
}

void pk_rng_shuffle(pk_rng *r, void *base, size_t n, size_t size)
{
    unsigned char *b = base, tmp[256];
    if (n < 2)
        return;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)pk_rng_below(r, i + 1);
        if (j == i)
            continue;
        for (size_t off = 0; off < size; off += sizeof tmp) {
            size_t c = size - off < sizeof tmp ? size - off : sizeof tmp;
            memcpy(tmp, b + i * size + off, c);
            memcpy(b + i * size + off, b + j * size + off, c);
            memcpy(b + j * size + off, tmp, c);
        }
    }
}
