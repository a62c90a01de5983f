/* Trace Metropolis-Hastings over the whole program (monad-bayes' mh). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

int pk__mh_move(const pk_model *m, pk_rng *rng, size_t stop_at, pk_trace *cur, double *cur_out, pk_trace *prop,
                double *prop_out);

int pk_infer_mh(const pk_model *m, size_t steps, pk_rng *rng, double *out, double *accept_rate, pk_err *err)
{
    if (!m || !m->fn)
        return pk_err_set(err, PK_EINVAL, "mh: no model");
    size_t no = m->n_out;
    pk_trace cur, prop;
    int a = pk__trace_init(&cur), b = pk__trace_init(&prop);
    double *co = malloc((no ? no : 1) * sizeof *co), *po = malloc((no ? no : 1) * sizeof *po);
    int st = PK_OK;
    if (a || b || !co || !po) {
        st = pk_err_set(err, PK_ENOMEM, "mh: out of memory");
        goto done;
    }
    /* Start from a prior draw with positive weight (bounded tries). */
    for (int tries = 0;; tries++) {
        if ((st = pk__run(m, rng, NULL, 0, 0, &cur, co))) {
            pk_err_set(err, st, "mh: initial run failed: %s", pk_strerror(st));
            goto done;
        }
        if (cur.log_lik > -INFINITY)
            break;
        if (tries == 10000) {
            st = pk_err_set(err, PK_EDOM, "mh: no prior draw with positive likelihood in 10000 tries");
            goto done;
        }
    }
    size_t acc = 0;
    for (size_t s = 0; s < steps; s++) {
        int r = pk__mh_move(m, rng, 0, &cur, co, &prop, po);
        if (r < 0) {
            st = pk_err_set(err, r, "mh: step %zu failed: %s", s, pk_strerror(r));
            goto done;
        }
        acc += (size_t)r;
        if (out && no)
            memcpy(out + s * no, co, no * sizeof *co);
    }
    if (accept_rate)
        *accept_rate = steps ? (double)acc / (double)steps : 0;
done:
    pk__trace_free(&cur);
    pk__trace_free(&prop);
    free(co);
    free(po);
    return st;
}
