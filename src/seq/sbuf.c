/* The seq module's text buffer (used by dot/AT&T writers). */
#include <stdio.h>
#include <stdlib.h>

#include "seq_priv.h"

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
