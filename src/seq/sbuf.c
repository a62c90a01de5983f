/* The seq module's text buffer (used by dot/AT&T writers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seq_priv.h"

static int reserve(pk_sbuf *sb, size_t n)
{
    if (sb->failed)
        return -1;
    if (sb->len + n < sb->cap)
        return 0;
    size_t c = sb->cap ? sb->cap * 2 : 256;
    while (c < sb->len + n + 1)
        c *= 2;
    char *b = realloc(sb->buf, c);
    if (!b) {
        sb->failed = 1;
        return -1;
    }
    sb->buf = b;
    sb->cap = c;
    return 0;
}

void pk_sbuf_put(pk_sbuf *sb, const char *s, size_t n)
{
    if (reserve(sb, n))
        return;
    memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = 0;
}

void pk_sbuf_i32(pk_sbuf *sb, int32_t v)
{
    char d[12];
    size_t i = sizeof d;
    uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
    do {
        d[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        d[--i] = '-';
    pk_sbuf_put(sb, d + i, sizeof d - i);
}

void pk_sbuf_printf(pk_sbuf *sb, const char *fmt, ...)
{
    if (sb->failed)
        return;
    for (;;) {
        size_t room = sb->cap - sb->len;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(sb->buf ? sb->buf + sb->len : NULL, sb->buf ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            sb->failed = 1;
            return;
        }
        if ((size_t)n < room) {
            sb->len += (size_t)n;
            return;
        }
        size_t c = sb->cap ? sb->cap * 2 : 256;
        while (c < sb->len + (size_t)n + 1)
            c *= 2;
        char *b = realloc(sb->buf, c);
        if (!b) {
            sb->failed = 1;
            return;
        }
        sb->buf = b;
        sb->cap = c;
    }
}
