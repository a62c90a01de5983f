/* The trainers' loss log: reports every steps/20 steps with the mean since
 * the last one, and the mean over the last 10% of steps. */
#include <math.h>

#include "pk_test.h"
#include "probkit/nn.h"

int main(void)
{
    pk_nn_loss_log g;
    pk_nn_loss_log_init(&g, 40); /* report every 2 steps; tail = steps 36..39 */
    PK_CHECK(isnan(pk_nn_loss_log_tail(&g)));
    int reports = 0;
    double last = NAN;
    for (int s = 0; s < 40; s++) {
        double m;
        if (pk_nn_loss_log_add(&g, s, (double)s, &m)) {
            reports++;
            PK_CHECK_CLOSE(m, s - 0.5, 1e-12, 0); /* mean of steps s-1, s */
            last = m;
        }
    }
    PK_CHECK(reports == 20);
    PK_CHECK_CLOSE(last, 38.5, 1e-12, 0);
    PK_CHECK_CLOSE(pk_nn_loss_log_tail(&g), 37.5, 1e-12, 0);
    pk_nn_loss_log_init(&g, 5); /* fewer than 20 steps: a report every step, the tail is the last one */
    reports = 0;
    for (int s = 0; s < 5; s++)
        reports += pk_nn_loss_log_add(&g, s, 2.0 * s, NULL);
    PK_CHECK(reports == 5);
    PK_CHECK_CLOSE(pk_nn_loss_log_tail(&g), 8.0, 1e-12, 0);
    return pk_test_done();
}
