/* probkit/progress.h — a progress line (rate, ETA, user fields) for long work.
 *
 * It writes to the FILE the caller gives (the CLI passes stderr) and stays
 * silent when that stream is not a terminal, unless forced.  Redraws at most
 * ~10 times a second.
 */
#ifndef PROBKIT_PROGRESS_H
#define PROBKIT_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pk_progress pk_progress;

/** total = 0 means unknown (no ETA).  force = 1 draws even when `out` is not a tty
 *  (one line per update, no carriage returns).  NULL on allocation failure. */
pk_progress *pk_progress_new(FILE *out, const char *label, uint64_t total, int force);
/** Report `done` units so far; `fmt` (may be NULL) adds fields like "loss 0.31". */
void pk_progress_update(pk_progress *p, uint64_t done, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/** Draw the final state and a newline. */
void pk_progress_finish(pk_progress *p);
void pk_progress_free(pk_progress *p);

#ifdef __cplusplus
}
#endif
#endif
