/* Private: running a model under one representation. */
#ifndef PK_INFER_RUN_H
#define PK_INFER_RUN_H

#include "probkit/infer.h"

/** Run the model once.  Choices reuse replay[0..replay_n) as their uniforms
 *  and draw fresh ones from rng past that; the run stops at the stop_at-th
 *  observe (0 = never).  rec (required) receives the uniforms actually used,
 *  the log-likelihood, the observe count and whether the program finished.
 *  out (n_out doubles, may be NULL) receives the model's outputs.
 *  @return PK_OK, PK_EDOM (a NaN weight or invalid parameters), PK_ENOMEM. */
int pk__run(const pk_model *m, pk_rng *rng, const double *replay, size_t replay_n, size_t stop_at, pk_trace *rec,
            double *out);

/** Enumeration run: choice i takes value index path[i] for i < path_n, index 0
 *  after; sizes[i] receives each choice's support size, *n_choices their count
 *  (at most cap).  *logw gets the path's log prior + log-likelihood. */
int pk__run_enum(const pk_model *m, const size_t *path, size_t path_n, size_t *sizes, size_t cap,
                 size_t *n_choices, double *logw, double *out);

/** Run call(ctx, arg) once with fresh randomness and no trace kept (the
 *  sequential representation with explicit state); *log_w gets the weight it
 *  accumulated.  A stop is not possible here: pk_observe only weighs. */
int pk__run_call(void (*call)(pk_ctx *, void *), void *arg, pk_rng *rng, double *log_w);

int pk__trace_init(pk_trace *t);
void pk__trace_free(pk_trace *t);
int pk__trace_copy(pk_trace *dst, const pk_trace *src);

#endif
