#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "probkit/io.h"

static int ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcmp(s + n - m, suf);
}

int pk_file_read_all(const char *path, size_t max_len, uint8_t **buf, size_t *len, pk_err *err)
{
    *buf = NULL;
    *len = 0;
    if (max_len == 0)
        max_len = (size_t)1 << 30;
    gzFile g = NULL;
    FILE *f = NULL;
    if (ends_with(path, ".gz")) {
        g = gzopen(path, "rb");
        if (!g)
            return pk_err_set(err, PK_EIO, "%s: cannot open: %s", path, strerror(errno));
    } else {
        f = fopen(path, "rb");
        if (!f)
            return pk_err_set(err, PK_EIO, "%s: cannot open: %s", path, strerror(errno));
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap + 1);
    int st = PK_OK;
    if (!b)
        st = pk_err_set(err, PK_ENOMEM, "%s: out of memory", path);
    while (st == PK_OK) {
        if (n == cap) {
            if (cap >= max_len) {
                st = pk_err_set(err, PK_EFORMAT, "%s: larger than the limit of %zu bytes", path, max_len);
                break;
            }
            size_t nc = cap * 2 > max_len ? max_len : cap * 2;
            uint8_t *nb = realloc(b, nc + 1);
            if (!nb) {
                st = pk_err_set(err, PK_ENOMEM, "%s: out of memory", path);
                break;
            }
            b = nb;
            cap = nc;
        }
        size_t want = cap - n;
        if (want > (1u << 30))
            want = 1u << 30;
        long got;
        if (g) {
            got = gzread(g, b + n, (unsigned)want);
            if (got < 0) {
                int e;
                const char *m = gzerror(g, &e);
                st = pk_err_set(err, PK_EFORMAT, "%s: corrupt gzip stream: %s", path, m);
                break;
            }
        } else {
            got = (long)fread(b + n, 1, want, f);
            if (got == 0 && ferror(f)) {
                st = pk_err_set(err, PK_EIO, "%s: read error", path);
                break;
            }
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (g) {
        /* gzread silently stops at a truncated stream; gzclose_r reports it. */
        int zc = gzclose_r(g);
        if (st == PK_OK && zc != Z_OK && zc != Z_BUF_ERROR)
            st = pk_err_set(err, PK_EFORMAT, "%s: truncated or corrupt gzip stream", path);
        else if (st == PK_OK && zc == Z_BUF_ERROR)
            st = pk_err_set(err, PK_EFORMAT, "%s: truncated gzip stream", path);
    }
    if (f)
        fclose(f);
    if (st) {
        free(b);
        return st;
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return PK_OK;
}

int pk_atomic_open(pk_atomic_file *af, const char *path, pk_err *err)
{
    memset(af, 0, sizeof *af);
    size_t n = strlen(path);
    af->path = malloc(n + 1);
    af->tmp = malloc(n + 32);
    if (!af->path || !af->tmp) {
        free(af->path);
        free(af->tmp);
        return pk_err_set(err, PK_ENOMEM, "%s: out of memory", path);
    }
    memcpy(af->path, path, n + 1);
    snprintf(af->tmp, n + 32, "%s.tmp.%ld", path, (long)getpid());
    af->fp = fopen(af->tmp, "wb");
    if (!af->fp) {
        int e = errno;
        free(af->path);
        free(af->tmp);
        af->path = af->tmp = NULL;
        return pk_err_set(err, PK_EIO, "%s: cannot create: %s", path, strerror(e));
    }
    return PK_OK;
}

int pk_atomic_commit(pk_atomic_file *af, pk_err *err)
{
    if (!af->fp)
        return pk_err_set(err, PK_EINVAL, "atomic file already closed");
    int bad = ferror(af->fp) || fflush(af->fp) != 0 || fsync(fileno(af->fp)) != 0;
    int e = errno;
    bad |= fclose(af->fp) != 0;
    af->fp = NULL;
    int st = PK_OK;
    if (bad) {
        st = pk_err_set(err, PK_EIO, "%s: write failed: %s", af->path, strerror(e));
        remove(af->tmp);
    } else if (rename(af->tmp, af->path) != 0) {
        st = pk_err_set(err, PK_EIO, "%s: cannot rename into place: %s", af->path, strerror(errno));
        remove(af->tmp);
    }
    free(af->path);
    free(af->tmp);
    af->path = af->tmp = NULL;
    return st;
}

void pk_atomic_abort(pk_atomic_file *af)
{
    if (af->fp) {
        fclose(af->fp);
        af->fp = NULL;
    }
    if (af->tmp)
        remove(af->tmp);
    free(af->path);
    free(af->tmp);
    af->path = af->tmp = NULL;
}

int pk_file_write_atomic(const char *path, const void *buf, size_t len, pk_err *err)
{
    pk_atomic_file af;
    int st = pk_atomic_open(&af, path, err);
    if (st)
        return st;
    if (len && fwrite(buf, 1, len, af.fp) != len) {
        pk_atomic_abort(&af);
        return pk_err_set(err, PK_EIO, "%s: write failed", path);
    }
    return pk_atomic_commit(&af, err);
}

int pk_mkdirs(const char *path, pk_err *err)
{
    char tmp[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp)
        return pk_err_set(err, PK_EINVAL, "bad directory name '%s'", path);
    memcpy(tmp, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] == '/' || tmp[i] == '\0') {
            char c = tmp[i];
            tmp[i] = '\0';
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
                return pk_err_set(err, PK_EIO, "%s: cannot create directory: %s", tmp, strerror(errno));
            tmp[i] = c;
        }
    }
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return pk_err_set(err, PK_EIO, "%s: not a directory", path);
    return PK_OK;
}
