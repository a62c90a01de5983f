/* repro.h — one experiment per seed paper, run by `probkit reproduce`.
 *
 * A reproduction lives in repro/<id>.c (id from shared/PAPERS.md) and defines
 *     const pk_repro pk_repro_<id> = {"<id>", PK_REPRO_PARTIAL, "what it checks", run_fn};
 * CMake collects it; `probkit reproduce --list` then reports the paper as
 * implemented/partial.  run_fn measures things and reports them through the
 * context: rows (our figure beside the paper's and the peer's), notes, plots.
 * It returns PK_OK, or a status if the experiment could not run (missing data
 * is reported as a skip, not a failure).
 */
#ifndef PK_REPRO_H
#define PK_REPRO_H

#include <stdint.h>

#include "probkit/core.h"
#include "probkit/plot.h"

typedef enum pk_repro_status { PK_REPRO_PARTIAL = 1, PK_REPRO_IMPLEMENTED = 2 } pk_repro_status;

typedef enum pk_verdict {
    PK_VERDICT_INFO = 0, /* a figure with no target */
    PK_VERDICT_PASS,     /* meets the paper's claim / the target */
    PK_VERDICT_FAIL,     /* does not */
    PK_VERDICT_SKIP      /* could not be measured here (say why in the scale/note) */
} pk_verdict;

typedef struct pk_repro_ctx pk_repro_ctx;

typedef struct pk_repro {
    const char *id;
    pk_repro_status status;
    const char *summary;
    int (*run)(pk_repro_ctx *ctx);
} pk_repro;

/** 1 under --quick: keep the experiment to well under a minute on 2 cores. */
int pk_repro_quick(const pk_repro_ctx *ctx);
/** The seed (--seed, default 42); derive all randomness from it. */
uint64_t pk_repro_seed(const pk_repro_ctx *ctx);
/** The data directory (see scripts/fetch_data.sh). */
const char *pk_repro_data_dir(const pk_repro_ctx *ctx);

/** One result row.  paper / peer may be NAN (not given / not measured);
 *  `scale` says at what scale we ran; `peer_name` may be NULL. */
void pk_repro_row(pk_repro_ctx *ctx, const char *metric, double ours, double paper, double peer,
                  const char *peer_name, const char *scale, pk_verdict verdict);
/** Verdict helpers: ours <= target (lower is better) / ours >= target. */
pk_verdict pk_verdict_le(double ours, double target);
pk_verdict pk_verdict_ge(double ours, double target);
/** A paragraph of text in the report (Markdown allowed). */
void pk_repro_note(pk_repro_ctx *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/** Progress / log line to stderr, prefixed with the paper id. */
void pk_repro_log(pk_repro_ctx *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/** Run fn(ctx) with BLAS and OpenMP single-threaded and restore the settings
 *  after.  For experiments made of many small matrix products (small networks
 *  trained step by step): threads then cost far more in synchronisation than
 *  they save — 5-10x the CPU time measured on PFN and the ECA observers. */
int pk_repro_serial(pk_repro_ctx *ctx, int (*fn)(pk_repro_ctx *ctx));
/** Add a plot (rendered now; the plot stays the caller's). `name` is a file stem. */
void pk_repro_plot(pk_repro_ctx *ctx, const char *name, const pk_plot *plot);
/** Add a ready SVG document (copied). */
void pk_repro_svg(pk_repro_ctx *ctx, const char *name, const char *svg);

#endif
