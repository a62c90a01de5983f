/* SMC over programs whose continuation is an explicit, copyable state. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

typedef struct step_arg {
    const pk_ssm *m;
    size_t t; /* SIZE_MAX: init */
    void *state;
    double *out;
} step_arg;

static void call_step(pk_ctx *ctx, void *p)
{
    step_arg *a = p;
    if (a->t == SIZE_MAX)
        a->m->init(ctx, a->m->data, a->state, a->out);
    else
        a->m->step(ctx, a->m->data, a->t, a->state, a->out);
}

int pk_infer_smc_ssm(const pk_ssm *m, const pk_smc_params *par, pk_rng *rng, pk_population **out, pk_err *err)
{
    *out = NULL;
    if (!m || !m->init || !m->step || m->state_size == 0)
        return pk_err_set(err, PK_EINVAL, "smc: the sequential model needs init, step and a state size");
    int st = pk_smc_params_check(par, err);
    if (st)
        return st;
    if (par->move_steps)
        return pk_err_set(err, PK_EINVAL, "smc: moves need traces; use pk_infer_smc for resample-move");
    size_t n = par->particles, S = m->state_size, no = m->n_out, nout_all = n * no > 0 ? n * no : 1;
    pk_population *p = calloc(1, sizeof *p);
    unsigned char *state = malloc(n * S), *state2 = malloc(n * S);
    double *out2 = malloc(nout_all * sizeof *out2);
    size_t *anc = malloc(n * sizeof *anc);
    if (p) {
        p->n = n;
        p->n_out = no;
        p->logw = calloc(n, sizeof *p->logw);
        p->out = calloc(nout_all, sizeof *p->out);
    }
    if (!p || !p->logw || !p->out || !state || !state2 || !out2 || !anc) {
        st = pk_err_set(err, PK_ENOMEM, "smc: out of memory");
        goto done;
    }
    double log_z = 0;
    for (size_t t = 0; t <= m->n_steps; t++) {
        size_t step = t == 0 ? SIZE_MAX : t - 1;
        for (size_t i = 0; i < n; i++) {
            step_arg a = {m, step, state + i * S, p->out + i * no};
            double lw;
            if ((st = pk__run_call(call_step, &a, rng, &lw))) {
                pk_err_set(err, st, "smc: particle %zu failed at step %zu: %s", i, t, pk_strerror(st));
                goto done;
            }
            p->logw[i] += lw;
        }
        if (t == m->n_steps)
            break;
        double ess = pk_population_ess(p);
        if (ess == 0) {
            st = pk_err_set(err, PK_EDOM, "smc: every particle has zero weight at step %zu", t);
            goto done;
        }
        if (ess < par->ess_threshold * (double)n || par->ess_threshold >= 1.0) {
            log_z += pk_logsumexp(p->logw, n, 1) - log((double)n);
            if ((st = pk_infer_resample(rng, p->logw, n, n, par->resample, anc))) {
                pk_err_set(err, st, "smc: resampling failed at step %zu", t);
                goto done;
            }
            for (size_t i = 0; i < n; i++) {
                memcpy(state2 + i * S, state + anc[i] * S, S);
                memcpy(out2 + i * no, p->out + anc[i] * no, no * sizeof *out2);
                p->logw[i] = 0;
            }
            unsigned char *ts = state;
            state = state2;
            state2 = ts;
            double *to = p->out;
            p->out = out2;
            out2 = to;
        }
    }
    p->log_z = log_z + pk_logsumexp(p->logw, n, 1) - log((double)n);
    *out = p;
    p = NULL;
    st = PK_OK;
done:
    pk_population_free(p);
    free(state);
    free(state2);
    free(out2);
    free(anc);
    return st;
}
