/* Private helpers of the seq module: a growable string buffer and hashing. */
#ifndef PK_SEQ_PRIV_H
#define PK_SEQ_PRIV_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* A growable NUL-terminated text buffer; `failed` latches on allocation failure. */
typedef struct pk_sbuf {
    char *buf;
    size_t len, cap;
    int failed;
} pk_sbuf;

void pk_sbuf_printf(pk_sbuf *sb, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Append n raw bytes; and a decimal int32 (no printf: the AT&T writer
 * prints hundreds of thousands of them). */
void pk_sbuf_put(pk_sbuf *sb, const char *s, size_t n);
void pk_sbuf_i32(pk_sbuf *sb, int32_t v);

/* splitmix64 finaliser: a fast, well-mixed 64-bit hash of x. */
static inline uint64_t pk_seq_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

#endif
