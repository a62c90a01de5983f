/* code.c — the prequential estimate of epiplexity and time-bounded entropy. */
#include <math.h>

#include "probkit/epiplexity.h"

int pk_epi_prequential(const double *loss, const double *tokens, size_t T, double final_loss, pk_epi_code *out,
                       pk_err *err)
{
    if (!out || (T && (!loss || !tokens)))
        return pk_err_set(err, PK_EINVAL, "epiplexity: NULL curve or output");
    if (T == 0)
        return pk_err_set(err, PK_EINVAL, "epiplexity: the training curve is empty");
    if (!isfinite(final_loss) || final_loss < 0)
        return pk_err_set(err, PK_EDOM, "epiplexity: final loss %g is not a finite number >= 0", final_loss);
    double total = 0, ntok = 0;
    for (size_t t = 0; t < T; t++) {
        if (!isfinite(loss[t]) || loss[t] < 0)
            return pk_err_set(err, PK_EDOM, "epiplexity: loss at step %zu (%g) is not a finite number >= 0", t, loss[t]);
        if (!isfinite(tokens[t]) || !(tokens[t] > 0))
            return pk_err_set(err, PK_EDOM, "epiplexity: tokens at step %zu (%g) must be > 0", t, tokens[t]);
        total += loss[t] * tokens[t];
        ntok += tokens[t];
    }
    const double LN2 = 0.69314718055994530942;
    out->total_bits = total / LN2;
    out->entropy_bits = final_loss * ntok / LN2;
    out->epiplexity_bits = out->total_bits - out->entropy_bits;
    out->tokens = ntok;
    out->final_loss = final_loss;
    return PK_OK;
}
