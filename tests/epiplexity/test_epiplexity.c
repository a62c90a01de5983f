/* test_epiplexity.c — ECA rules against hand-worked cases, the prequential
 * code's identities, and an online run that must learn a shift rule. */
#include <math.h>
#include <string.h>

#include "pk_test.h"
#include "probkit/epiplexity.h"

static void test_eca(void)
{
    /* rule 90: new = left XOR right; a single 1 spreads to its two neighbours */
    uint8_t s[8] = {0, 0, 0, 1, 0, 0, 0, 0}, n[8];
    PK_CHECK_OK(pk_eca_step(90, s, 8, n));
    const uint8_t want90[8] = {0, 0, 1, 0, 1, 0, 0, 0};
    PK_CHECK(memcmp(n, want90, 8) == 0);
    /* rule 170: new = right neighbour, a left shift on the ring (wraps) */
    uint8_t r[8] = {1, 0, 0, 0, 0, 0, 0, 1};
    PK_CHECK_OK(pk_eca_step(170, r, 8, n));
    const uint8_t want170[8] = {0, 0, 0, 0, 0, 0, 1, 1};
    PK_CHECK(memcmp(n, want170, 8) == 0);
    /* rule 30 on a single cell: 111 below it (the famous triangle's first row) */
    PK_CHECK_OK(pk_eca_step(30, s, 8, n));
    const uint8_t want30[8] = {0, 0, 1, 1, 1, 0, 0, 0};
    PK_CHECK(memcmp(n, want30, 8) == 0);
    PK_CHECK(pk_eca_step(256, s, 8, n) == PK_EINVAL);
    PK_CHECK(pk_eca_step(30, s, 8, s) == PK_EINVAL);
    /* rule 15 (new = NOT left) twice is a shift by two */
    pk_rng g;
    pk_rng_seed(&g, 4);
    uint8_t in[16], out[16];
    PK_CHECK_OK(pk_eca_sample(15, 16, 10, 2, &g, in, out));
    for (int i = 0; i < 16; i++)
        PK_CHECK(out[i] == in[(i + 14) % 16]);
}

/* the packed 64-cell path against plain generations, every rule */
static void test_packed_matches_plain(void)
{
    pk_rng g;
    pk_rng_seed(&g, 9);
    int bad = 0;
    for (unsigned rule = 0; rule < 256; rule++) {
        for (size_t w = 62; w <= 64; w++) {
            uint8_t in[64], out[64], a[64], b[64];
            PK_CHECK_OK(pk_eca_sample(rule, w, 7, 5, &g, in, out));
            memcpy(a, in, w);
            for (int s = 0; s < 5; s++) {
                pk_eca_step(rule, a, w, b);
                memcpy(a, b, w);
            }
            bad += memcmp(a, out, w) != 0;
        }
    }
    PK_CHECK(bad == 0);
}

static void test_code(void)
{
    double loss[4] = {0.7, 0.5, 0.3, 0.2}, tok[4] = {10, 10, 10, 10};
    pk_epi_code c;
    PK_CHECK_OK(pk_epi_prequential(loss, tok, 4, 0.2, &c, NULL));
    PK_CHECK_CLOSE(c.total_bits, 17.0 / log(2.0), 1e-12, 1e-12);
    PK_CHECK_CLOSE(c.entropy_bits, 8.0 / log(2.0), 1e-12, 1e-12);
    PK_CHECK_CLOSE(c.epiplexity_bits, c.total_bits - c.entropy_bits, 1e-12, 1e-12);
    PK_CHECK_CLOSE(c.tokens, 40, 0, 0);
    /* a flat curve has no epiplexity */
    double flat[3] = {0.4, 0.4, 0.4}, t3[3] = {5, 5, 5};
    PK_CHECK_OK(pk_epi_prequential(flat, t3, 3, 0.4, &c, NULL));
    PK_CHECK_CLOSE(c.epiplexity_bits, 0, 1e-12, 0);
    loss[2] = NAN;
    PK_CHECK(pk_epi_prequential(loss, tok, 4, 0.2, &c, NULL) == PK_EDOM);
    PK_CHECK(pk_epi_prequential(flat, t3, 0, 0.4, &c, NULL) == PK_EINVAL);
    tok[0] = 0;
    loss[2] = 0.3;
    PK_CHECK(pk_epi_prequential(loss, tok, 4, 0.2, &c, NULL) == PK_EDOM);
}

static void test_run(void)
{
    /* rule 170 over 3 steps is a shift by three: the observer learns it, so the
     * final loss falls far below ln 2 and the structure shows as epiplexity;
     * rule 30 over 16 steps stays near ln 2 per bit */
    pk_epi_eca_opts o = pk_epi_eca_opts_default();
    o.width = 16;
    o.steps = 3;
    o.burnin = 20;
    o.hidden = 32;
    o.batch = 32;
    o.train_steps = 300;
    o.lr = 3e-3;
    o.eval_samples = 256;
    double curve[300];
    pk_epi_code shift, chaos;
    PK_CHECK_OK(pk_epi_eca_run(170, &o, 1, curve, &shift, NULL));
    PK_CHECK(curve[0] > 0.5);
    PK_CHECK(shift.final_loss < 0.1);
    PK_CHECK(shift.epiplexity_bits > 0);
    o.steps = 16;
    PK_CHECK_OK(pk_epi_eca_run(30, &o, 1, NULL, &chaos, NULL));
    PK_CHECK(chaos.final_loss > 0.6);
    PK_CHECK(chaos.entropy_bits > 5 * shift.entropy_bits);
    PK_CHECK(pk_epi_eca_run(300, &o, 1, NULL, &chaos, NULL) == PK_EINVAL);
}

/* requential coding: the student learns the shift from the teacher's samples,
 * the KL it pays is positive and much smaller for pure noise (rule 30 far
 * ahead), and a run is a function of its seed */
static void test_requential(void)
{
    pk_epi_eca_opts o = pk_epi_eca_opts_default();
    o.width = 16, o.steps = 3, o.burnin = 20, o.hidden = 32, o.batch = 32, o.train_steps = 300, o.lr = 3e-3;
    o.eval_samples = 256;
    pk_epi_req a, b, chaos;
    PK_CHECK_OK(pk_epi_eca_requential(170, &o, 5, &a, NULL));
    PK_CHECK(a.teacher_final_loss < 0.1);
    PK_CHECK(a.student_final_loss < 0.2); /* learnt from synthetic labels only */
    PK_CHECK(a.epiplexity_bits > 0);
    PK_CHECK(a.final_kl >= 0 && a.final_kl < 0.05);
    PK_CHECK(a.prequential.epiplexity_bits > 0);
    PK_CHECK_OK(pk_epi_eca_requential(170, &o, 5, &b, NULL));
    PK_CHECK(a.epiplexity_bits == b.epiplexity_bits && a.student_final_loss == b.student_final_loss);
    o.steps = 16;
    PK_CHECK_OK(pk_epi_eca_requential(30, &o, 5, &chaos, NULL));
    PK_CHECK(chaos.student_final_loss > 0.6);
    PK_CHECK(chaos.epiplexity_bits < 0.5 * a.epiplexity_bits);
    PK_CHECK(pk_epi_eca_requential(256, &o, 5, &chaos, NULL) == PK_EINVAL);
}

int main(void)
{
    test_eca();
    test_packed_matches_plain();
    test_code();
    test_run();
    test_requential();
    return pk_test_done();
}
