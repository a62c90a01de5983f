/* Structure learning and EM on synthetic data: the Chow-Liu tree recovers a
 * chain, full-batch EM never lowers the likelihood, mini-batch EM improves
 * on the random start and approaches the generating model. */
#include <stdlib.h>
#include <string.h>

#include "pk_test.h"
#include "probkit/pc.h"

static int count_epochs(void *user, const char *phase, int epoch, int nepochs, double bpd)
{
    (void)phase, (void)epoch, (void)nepochs;
    double *last = user;
    last[0] += 1;
    last[1] = bpd;
    return 0;
}

int main(void)
{
    pk_rng rng;
    pk_rng_seed(&rng, 11);
    pk_err err;

    /* Chain data: x_{v} = x_{v-1} with prob 0.85 else uniform; 4 levels.  The
     * latents need >= 4 states to carry a copy of the parent's value. */
    enum { DC = 12, NCC = 4, NROW = 3000 };
    uint8_t *chain = malloc((size_t)NROW * DC);
    for (int r = 0; r < NROW; r++) {
        uint8_t prev = (uint8_t)pk_rng_below(&rng, NCC);
        for (int v = 0; v < DC; v++) {
            if (v > 0 && pk_rng_uniform(&rng) < 0.85)
                chain[r * DC + v] = prev;
            else
                chain[r * DC + v] = (uint8_t)pk_rng_below(&rng, NCC);
            prev = chain[r * DC + v];
        }
    }
    pk_pc_structure_params sp = pk_pc_structure_params_default();
    sp.k = 8;
    sp.mi_bits = 2;
    pk_pc *pc = NULL;
    PK_CHECK_OK(pk_pc_learn_structure(chain, NROW, DC, NCC, 3, 4, &sp, &rng, &pc, &err));
    int chain_edges = 0;
    for (int v = 0; v < DC; v++)
        if (pc->parent[v] >= 0 && abs(pc->parent[v] - v) == 1)
            chain_edges++;
    PK_CHECK(chain_edges == DC - 1);
    /* Centre of a 12-chain is variable 5 or 6; depth 6. */
    PK_CHECK(pc->root == 5 || pc->root == 6);
    PK_CHECK(pk_pc_depth(pc) == 6);
    PK_CHECK(pc->height == 3 && pc->width == 4);

    /* Full-batch EM without smoothing never lowers the log-likelihood. */
    double prev = -INFINITY, ll0 = 0;
    int decreased = 0;
    for (int it = 0; it < 12; it++) {
        double ll;
        PK_CHECK_OK(pk_pc_em_full_step(pc, chain, NROW, 0.0, &ll, &err));
        if (it == 0)
            ll0 = ll;
        if (ll < prev - 1e-5 * fabs(prev))
            decreased++;
        prev = ll;
    }
    PK_CHECK_MSG(decreased == 0, "full-batch EM lowered the likelihood %d times", decreased);
    PK_CHECK(prev > ll0 + 1.0);
    /* The true model's entropy per variable bounds what EM can reach. */
    double h_true = 0;
    {
        double p_same = 0.85 + 0.15 / NCC, p_other = 0.15 / NCC;
        double hc = -(p_same * log(p_same) + (NCC - 1) * p_other * log(p_other));
        h_true = (log((double)NCC) + (DC - 1) * hc) / DC;
    }
    double bpd;
    PK_CHECK_OK(pk_pc_bpd(pc, chain, NROW, &bpd, &err));
    PK_CHECK_CLOSE(bpd * log(2.0), h_true, 0.05, 0);
    /* The plain Chow-Liu tree with full tables is the true model's family. */
    double clt;
    pk_pc_clt_params cp = {0, 0, 0.01, 0};
    PK_CHECK_OK(pk_pc_clt_bpd(pc, chain, NROW, chain, NROW, &cp, &clt, &err));
    PK_CHECK_CLOSE(clt * log(2.0), h_true, 0.02, 0);
    cp.floor = 0;
    PK_CHECK(pk_pc_clt_bpd(pc, chain, NROW, chain, NROW, &cp, &clt, &err) == PK_EINVAL);
    cp = pk_pc_clt_params_default();
    cp.sigma_parent = -1;
    PK_CHECK(pk_pc_clt_bpd(pc, chain, NROW, chain, NROW, &cp, &clt, &err) == PK_EINVAL);
    pk_pc_free(pc);

    /* Mini-batch + full-batch EM from a random start. */
    sp.k = 6;
    PK_CHECK_OK(pk_pc_learn_structure(chain, NROW, DC, NCC, 0, 0, &sp, &rng, &pc, &err));
    double before;
    PK_CHECK_OK(pk_pc_bpd(pc, chain, NROW, &before, &err));
    pk_pc_em_params ep = pk_pc_em_params_default();
    ep.epochs_mini = 4;
    ep.epochs_full = 2;
    ep.batch_size = 256;
    double track[2] = {0, 0};
    PK_CHECK_OK(pk_pc_em(pc, chain, NROW, &ep, &rng, count_epochs, track, &err));
    PK_CHECK(track[0] == 6);
    double after;
    PK_CHECK_OK(pk_pc_bpd(pc, chain, NROW, &after, &err));
    PK_CHECK(after < before - 0.3);
    PK_CHECK_CLOSE(after * log(2.0), h_true, 0.08, 0);
    /* Rows must have values below ncat. */
    chain[5] = 200;
    PK_CHECK(pk_pc_em(pc, chain, NROW, &ep, &rng, NULL, NULL, &err) == PK_EINVAL);
    PK_CHECK(strstr(err.msg, "row 0") != NULL);
    ep.inertia_end = 1.5;
    PK_CHECK(pk_pc_em_params_check(&ep, &err) == PK_EINVAL);
    ep = pk_pc_em_params_default();
    ep.theta_sigma = -0.5;
    PK_CHECK(pk_pc_em_params_check(&ep, &err) == PK_EINVAL && strstr(err.msg, "theta_sigma"));
    sp.k = 0;
    PK_CHECK(pk_pc_structure_params_check(&sp, &err) == PK_EINVAL);
    pk_pc_free(pc);

    /* theta_sigma: data on even levels 2..14 of 16 only.  Without smoothing the
     * odd levels keep only the pseudocount; with sigma = 1 they get about as
     * much as their even neighbours, the end levels 0 and 15 (never seen, not
     * blurred into) stay at the pseudocount, and rows still sum to one. */
    enum { DS = 3, NCS = 16, NS = 800 };
    uint8_t *ev = malloc((size_t)NS * DS);
    for (int i = 0; i < NS * DS; i++)
        ev[i] = (uint8_t)(2 + 2 * pk_rng_below(&rng, 7));
    int32_t par3[DS] = {-1, 0, 1};
    double odd[2], end0[2];
    for (int smooth = 0; smooth < 2; smooth++) {
        PK_CHECK_OK(pk_pc_from_tree(par3, DS, 2, NCS, 0.3, &rng, &pc, &err));
        ep = pk_pc_em_params_default();
        ep.epochs_mini = 0;
        ep.epochs_full = 2;
        ep.theta_sigma = smooth ? 1.0 : 0.0;
        PK_CHECK_OK(pk_pc_em(pc, ev, NS, &ep, NULL, NULL, NULL, &err));
        const float *th = pc->theta + (size_t)2 * 2 * NCS; /* variable 2 (a tree leaf), state 0 */
        double sum = 0;
        for (int a = 0; a < NCS; a++)
            sum += th[a];
        PK_CHECK_CLOSE(sum, 1.0, 1e-5, 0);
        odd[smooth] = th[7] / th[8];
        end0[smooth] = th[0];
        pk_pc_free(pc);
    }
    PK_CHECK(odd[0] < 0.01);
    PK_CHECK(odd[1] > 0.5 && odd[1] < 1.5);
    PK_CHECK_CLOSE(end0[1], end0[0], 0, 0.5);
    PK_CHECK(end0[1] < 1e-3);
    free(ev);
    free(chain);
    return pk_test_done();
}
