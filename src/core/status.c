#include "probkit/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *pk_strerror(int status)
{
    switch (status) {
    case PK_OK: return "success";
    case PK_EINVAL: return "invalid argument";
    case PK_ENOMEM: return "out of memory";
    case PK_EIO: return "input/output error";
    case PK_EFORMAT: return "malformed input";
    case PK_EDOM: return "value outside the domain";
    case PK_ESING: return "matrix singular or not positive definite";
    case PK_EMAXITER: return "did not converge";
    case PK_ESHAPE: return "shape mismatch";
    case PK_ENOTSUP: return "not supported";
    case PK_EINTERNAL: return "internal error";
    default: return "unknown status";
    }
}

int pk_err_set(pk_err *err, int status, const char *fmt, ...)
{
    if (err) {
        err->status = status;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

void pk_err_prefix(pk_err *err, const char *fmt, ...)
{
    if (!err)
        return;
    char pre[256], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t np = strlen(pre);
    if (np >= sizeof err->msg)
        np = sizeof err->msg - 1;
    memcpy(err->msg, pre, np);
    size_t rest = sizeof err->msg - 1 - np, no = strnlen(old, sizeof old - 1);
    if (no > rest)
        no = rest;
    memcpy(err->msg + np, old, no);
    err->msg[np + no] = '\0';
}

void pk_err_clear(pk_err *err)
{
    if (err) {
        err->status = PK_OK;
        err->msg[0] = '\0';
    }
}
