/* pccompress — Liu, Mandt, Van den Broeck, "Lossless Compression with
 * Probabilistic Circuits" (ICLR 2022): HCLT models of Fashion-MNIST and
 * MNIST, their test bits per dimension, and the real rANS code length. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probkit/io.h"
#include "probkit/pc.h"
#include "repro.h"

/* CPU seconds: the speed-up is measured on one thread, robust to machine load. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct fit {
    double theo, theo_float, sep, stream, seconds_train, seconds_code, speedup;
    size_t bytes_float, bytes_q; /* model file: float32 (version 1) and quantised (version 2) */
    int exact, k;
    size_t ntest;
} fit;

/* Parameter quantisation for the shipped model (docs/pc.md): log grid of
 * 0.3 nats, floor 15 nats below each row's maximum.  MNIST uses a finer grid
 * (0.15 nats, 120 levels: +0.0001 bpd instead of +0.0007 on the validation
 * split; the file is small beside 1,000 test digits' worth of bits anyway). */
#define Q_STEP 0.3
#define Q_LEVELS 50
#define MN_Q_STEP 0.15
#define MN_Q_LEVELS 120

static int load(pk_repro_ctx *ctx, const char *rel, pk_array **a)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", pk_repro_data_dir(ctx), rel);
    pk_err err = {0};
    int st = pk_idx_read(path, a, &err);
    if (st)
        pk_repro_log(ctx, "%s", err.msg);
    else if ((*a)->dtype != PK_DTYPE_U8 || (*a)->ndim != 3) {
        pk_array_free(*a);
        *a = NULL;
        st = PK_EFORMAT;
    }
    return st;
}

static int epoch_log(void *user, const char *phase, int epoch, int nepochs, double bpd)
{
    pk_repro_log(user, "  %s-batch EM epoch %d/%d: train bpd %.4f", phase, epoch, nepochs, bpd);
    return 0;
}

/* Samples, and bottom halves completed by max-product, as image grids. */
static void figures(pk_repro_ctx *ctx, const pk_pc *pc, const uint8_t *test, pk_rng *rng)
{
    enum { NS = 16, NI = 8 };
    uint8_t *buf = malloc((size_t)(NS + 3 * NI) * 784), mask[784];
    char *svg = NULL;
    if (!buf)
        return;
    if (!pk_pc_sample(pc, rng, NS, buf, NULL) && !pk_svg_image_grid(buf, NS, 28, 28, 1, 8, 3, "samples", &svg)) {
        pk_repro_svg(ctx, "pc_samples", svg);
        free(svg);
    }
    for (int v = 0; v < 784; v++)
        mask[v] = v < 392;
    uint8_t *g = buf + (size_t)NS * 784;
    int ok = 1;
    for (int i = 0; i < NI; i++) {
        memcpy(g + (size_t)i * 784, test + (size_t)i * 784, 784);
        for (int v = 0; v < 784; v++)
            g[(size_t)(NI + i) * 784 + v] = mask[v] ? test[(size_t)i * 784 + v] : 128;
        memcpy(g + (size_t)(2 * NI + i) * 784, test + (size_t)i * 784, 784);
        ok &= pk_pc_complete(pc, g + (size_t)(2 * NI + i) * 784, mask, 1, NULL, NULL) == PK_OK;
    }
    if (ok && !pk_svg_image_grid(g, 3 * NI, 28, 28, 1, NI, 3, "test images / bottom half hidden / max-product completion",
                                 &svg)) {
        pk_repro_svg(ctx, "pc_inpaint", svg);
        free(svg);
    }
    free(buf);
}

/* Learn an HCLT with k latent states on train (structure and EM seeded with
 * seed + k + seed_off). */
static int train(pk_repro_ctx *ctx, const uint8_t *x, size_t n, int k, int mini, int full, double pseudocount,
                 double theta_sigma, int seed_off, pk_pc **out, double *seconds)
{
    pk_err err = {0};
    pk_rng rng;
    pk_rng_seed(&rng, pk_repro_seed(ctx) + (uint64_t)k + (uint64_t)seed_off);
    pk_pc_structure_params sp = pk_pc_structure_params_default();
    sp.k = k;
    sp.mi_max_samples = pk_repro_quick(ctx) ? 2000 : 20000;
    pk_pc_em_params ep = pk_pc_em_params_default();
    ep.epochs_mini = mini;
    ep.epochs_full = full;
    ep.pseudocount = pseudocount;
    ep.theta_sigma = theta_sigma;
    double t0 = pk_time_now();
    *out = NULL;
    int st = pk_pc_learn_structure(x, n, 784, 256, 28, 28, &sp, &rng, out, &err);
    if (!st)
        st = pk_pc_em(*out, x, n, &ep, &rng, epoch_log, ctx, &err);
    *seconds = pk_time_now() - t0;
    if (st) {
        pk_repro_log(ctx, "pc: %s", err.msg);
        pk_pc_free(*out);
        *out = NULL;
    }
    return st;
}

/* Measure pc on test: theoretical bpd of the float model, then quantise it
 * (in place) and measure the quantised model that would be shipped:
 * theoretical bpd, both coding modes (round trip checked), the speed-up. */
static int measure(pk_repro_ctx *ctx, pk_pc *pc, const uint8_t *test, size_t ntest, int code, double qstep,
                   int qlevels, fit *f)
{
    pk_err err = {0};
    f->ntest = ntest;
    f->exact = 1;
    f->k = pc->k;
    f->bytes_float = pk_pc_file_bytes(pc);
    int st = pk_pc_bpd(pc, test, ntest, &f->theo_float, &err);
    if (!st)
        st = pk_pc_quantize(pc, qstep, qlevels, &err);
    if (!st)
        st = pk_pc_bpd(pc, test, ntest, &f->theo, &err);
    f->bytes_q = pk_pc_file_bytes(pc);
    double t1 = pk_time_now();
    for (int mode = 0; mode < 2 && code && !st; mode++) {
        uint8_t *buf, *y;
        size_t len, cnt;
        st = pk_pc_compress(pc, test, ntest, (pk_pc_mode)mode, &buf, &len, &err);
        if (st)
            break;
        /* Decode with the model as loaded from its compact file. */
        pk_pc *loaded = NULL;
        uint8_t *mb;
        size_t ml;
        st = pk_pc_serialize(pc, &mb, &ml, &err);
        if (!st) {
            st = pk_pc_parse(mb, ml, "quantised model", &loaded, &err);
            free(mb);
        }
        if (!st)
            st = pk_pc_decompress(loaded, buf, len, "test set", &y, &cnt, &err);
        if (!st) {
            f->exact &= cnt == ntest && !memcmp(y, test, ntest * 784);
            free(y);
        }
        pk_pc_free(loaded);
        free(buf);
        *(mode ? &f->stream : &f->sep) = 8.0 * (double)len / ((double)ntest * 784);
    }
    f->seconds_code = pk_time_now() - t1;
    if (!st && code) {
        pk_pc_coder *c;
        st = pk_pc_coder_new(pc, &c);
        double b, ta = cpu_now();
        for (int i = 0; i < 2 && !st; i++)
            st = pk_pc_coder_chain_bits(c, test + (size_t)i * 784, 0, &b);
        double tb = cpu_now();
        for (int i = 0; i < 2 && !st; i++)
            st = pk_pc_coder_chain_bits(c, test + (size_t)i * 784, 1, &b);
        f->speedup = (cpu_now() - tb) / (tb - ta);
        pk_pc_coder_free(c);
    }
    if (st)
        pk_repro_log(ctx, "pc: %s", err.msg);
    return st;
}

static int run_fit(pk_repro_ctx *ctx, const uint8_t *train_x, size_t ntrain, const uint8_t *test, size_t ntest,
                   int k, int mini, int full, double pseudocount, double theta_sigma, int code, fit *f)
{
    memset(f, 0, sizeof *f);
    pk_pc *pc;
    int st = train(ctx, train_x, ntrain, k, mini, full, pseudocount, theta_sigma, 0, &pc, &f->seconds_train);
    if (!st)
        st = measure(ctx, pc, test, ntest, code, Q_STEP, Q_LEVELS, f);
    if (!st && code) {
        pk_rng rng;
        pk_rng_seed(&rng, pk_repro_seed(ctx));
        figures(ctx, pc, test, &rng);
    }
    pk_pc_free(pc);
    return st;
}

static int run(pk_repro_ctx *ctx)
{
    const int quick = pk_repro_quick(ctx);
    pk_array *tr = NULL, *te = NULL;
    if (load(ctx, "fashion-mnist/train-images-idx3-ubyte.gz", &tr) ||
        load(ctx, "fashion-mnist/t10k-images-idx3-ubyte.gz", &te)) {
        pk_array_free(tr);
        pk_repro_row(ctx, "Fashion-MNIST test bpd, HCLT", NAN, 3.34, NAN, NULL,
                     "data missing: install dataset-fashion-mnist (scripts/fetch_data.sh)", PK_VERDICT_SKIP);
        return PK_OK;
    }
    /* quick: 1,500 training images, 200 test images, small k, few epochs. */
    size_t ntr = quick ? 1500 : (size_t)tr->shape[0], nte = quick ? 200 : (size_t)te->shape[0];
    /* The session-2 best setup (3.344 at k = 32): intensity smoothing of the
     * input distributions, 5 + 2 EM epochs (~25 min for k = 32 on 2 cores). */
    int mini = quick ? 2 : 5, full = quick ? 1 : 2;
    const double FM_SIGMA = 1.0;
    char scale[256];
    snprintf(scale, sizeof scale,
             "%s: train %zu, test %zu, EM %d mini-batch + %d full-batch epochs, theta_sigma %g, parameters "
             "quantised (step %g nats, %d levels)",
             quick ? "quick" : "full", ntr, nte, mini, full, FM_SIGMA, Q_STEP, Q_LEVELS);
    const uint8_t *xtr = tr->data, *xte = te->data;
    fit clt, mid, big;
    /* Plain Chow-Liu tree (full 256 x 256 conditional tables, no latents),
     * each table a Gaussian-kernel density estimate of the pixel pair; the
     * kernel widths are chosen on the last sixth of the training images. */
    memset(&clt, 0, sizeof clt);
    pk_pc_clt_params cbest = pk_pc_clt_params_default();
    double uniform_bpd = NAN;
    int st;
    {
        pk_err err = {0};
        pk_rng rng;
        pk_rng_seed(&rng, pk_repro_seed(ctx));
        pk_pc_structure_params sp = pk_pc_structure_params_default();
        sp.k = 1;
        sp.mi_max_samples = quick ? 2000 : 20000;
        double t0 = pk_time_now();
        pk_pc *tree = NULL;
        st = pk_pc_learn_structure(xtr, ntr, 784, 256, 28, 28, &sp, &rng, &tree, &err);
        size_t nfit = ntr - ntr / 6;
        double best = INFINITY, sas[3] = {1, 2, 3}, sbs[2] = {1, 1.5};
        for (int i = 0; i < 6 && !st; i++) {
            pk_pc_clt_params cp = pk_pc_clt_params_default();
            cp.sigma_parent = sas[i / 2];
            cp.sigma_child = sbs[i % 2];
            double b;
            st = pk_pc_clt_bpd(tree, xtr, nfit, xtr + nfit * 784, ntr - nfit, &cp, &b, &err);
            if (!st && b < best) {
                best = b;
                cbest = cp;
            }
        }
        if (!st)
            st = pk_pc_clt_bpd(tree, xtr, ntr, xte, nte, &cbest, &clt.theo, &err);
        /* The old estimate for comparison: counts plus a uniform 0.3 per cell. */
        pk_pc_clt_params uni = {0, 0, 0.3, 0};
        if (!st)
            st = pk_pc_clt_bpd(tree, xtr, ntr, xte, nte, &uni, &uniform_bpd, &err);
        clt.seconds_train = pk_time_now() - t0;
        pk_pc_free(tree);
        if (st)
            pk_repro_log(ctx, "pc: %s", err.msg);
    }
    if (!st)
        st = run_fit(ctx, xtr, ntr, xte, nte, quick ? 4 : 16, mini, full, 0.1, FM_SIGMA, 0, &mid);
    if (!st)
        st = run_fit(ctx, xtr, ntr, xte, nte, quick ? 8 : 32, mini, full, 0.1, FM_SIGMA, 1, &big);
    if (st) {
        pk_array_free(tr), pk_array_free(te);
        return st;
    }
#define V(ok) (quick ? PK_VERDICT_INFO : (ok) ? PK_VERDICT_PASS : PK_VERDICT_FAIL)
    char sclt[640];
    snprintf(sclt, sizeof sclt,
             "%s; tables = Gaussian-kernel density of each pixel pair (sigma %g x %g levels, floor %g), widths "
             "picked on held-out training images",
             scale, cbest.sigma_parent, cbest.sigma_child, cbest.floor);
    pk_repro_row(ctx, "Fashion-MNIST test bpd, plain Chow-Liu tree, target <= 3.65", clt.theo, NAN, uniform_bpd,
                 "same tree, counts + uniform pseudocount 0.3", sclt, V(clt.theo <= 3.65));
    char m1[96], m2[96];
    snprintf(m1, sizeof m1, "Fashion-MNIST test bpd, HCLT k=%d%s", quick ? 4 : 16, quick ? "" : ", target <= 3.50");
    pk_repro_row(ctx, m1, mid.theo, NAN, NAN, NULL, scale, V(mid.theo <= 3.50));
    snprintf(m2, sizeof m2, "Fashion-MNIST test bpd, HCLT k=%d%s", quick ? 8 : 32, quick ? "" : ", target <= 3.40");
    pk_repro_row(ctx, m2, big.theo, 3.34, 3.205, "JPEG-XL lossless, tiled (issue's measurement)", scale,
                 V(big.theo <= 3.40));
    pk_repro_row(ctx, "actual bpd, each image coded alone", big.sep, NAN, 3.88, "JPEG-XL one file per image", scale,
                 PK_VERDICT_INFO);
    pk_repro_row(ctx, "actual - theoretical bpd, each image alone (<= 0.05)", big.sep - big.theo, NAN, NAN, NULL,
                 scale, V(big.sep - big.theo <= 0.05));
    /* With few images the 48-byte container header alone is ~0.002 bpd: judged at full scale only. */
    pk_repro_row(ctx, "actual - theoretical bpd, streamed (<= 0.002)", big.stream - big.theo, NAN, NAN, NULL, scale,
                 V(big.stream - big.theo <= 0.002));
    pk_repro_row(ctx, "test images decoded bit-exactly (both modes), fraction", big.exact ? 1.0 : 0.0, 1.0, NAN,
                 NULL, scale, big.exact ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
    pk_repro_row(ctx, "incremental vs naive conditionals, speed-up (x)", big.speedup, NAN, NAN, NULL,
                 "2 test images, one thread, CPU time", PK_VERDICT_INFO);
    /* The model's own size, amortised over the test images: float32 file
     * against the quantised compact file that was actually used to code. */
    double dims = (double)big.ntest * 784;
    pk_repro_row(ctx, "theoretical bpd, float32 model (before quantising)", big.theo_float, NAN, NAN, NULL, scale,
                 PK_VERDICT_INFO);
    pk_repro_row(ctx, "quantisation cost, bpd (quantised - float32)", big.theo - big.theo_float, NAN, NAN, NULL,
                 scale, PK_VERDICT_INFO);
    pk_repro_row(ctx, "model file, MB: float32 (peer column) vs quantised + zlib (ours)", 1e-6 * (double)big.bytes_q,
                 NAN, 1e-6 * (double)big.bytes_float, "float32 file", scale, PK_VERDICT_INFO);
    pk_repro_row(ctx, "actual bpd streamed + model amortised over the test set: quantised (ours) vs float32 (peer)",
                 big.stream + 8.0 * (double)big.bytes_q / dims, NAN, big.stream + 8.0 * (double)big.bytes_float / dims,
                 "same coding, float32 model file", scale, PK_VERDICT_INFO);
    pk_repro_note(ctx,
                  "HCLT (hidden Chow-Liu tree) with k latent states; Chow-Liu tree on 4-bit pixels (%s MI rows), "
                  "rooted at the centre; mini-batch EM (batch 512, pseudocount 0.1, inertia 0.2 -> 0.9) then "
                  "full-batch EM, input distributions smoothed along intensity (theta_sigma).  The learned "
                  "parameters are quantised (log grid, pk_pc_quantize) before every bpd and code length is "
                  "measured: the coded figures are those of the compact model file, decoded from that file.  "
                  "Training took %.0f s (plain tree), %.0f s (k=%d) and %.0f s (k=%d); coding and decoding "
                  "the %zu test images twice (separate and streamed) took %.0f s.  The paper trains far longer "
                  "(hundreds of EM epochs on a GPU).",
                  quick ? "2,000" : "20,000", clt.seconds_train, mid.seconds_train, quick ? 4 : 16,
                  big.seconds_train, quick ? 8 : 32, big.ntest, big.seconds_code);
    pk_array_free(tr), pk_array_free(te);

    /* MNIST digits: seeded 9,000 / 1,000 split. */
    pk_array *mn = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/mnist/mnist-10k-images-idx3-ubyte", pk_repro_data_dir(ctx));
    if (quick) {
        pk_repro_row(ctx, "MNIST test bpd, HCLT (<= 1.30)", NAN, NAN, 1.12, "JPEG-XL tiled", "skipped in quick mode",
                     PK_VERDICT_SKIP);
        return PK_OK;
    }
    pk_err err = {0};
    if (pk_idx_read(path, &mn, &err) || mn->dtype != PK_DTYPE_U8 || mn->ndim != 3 || mn->shape[0] < 10) {
        pk_array_free(mn);
        pk_repro_row(ctx, "MNIST test bpd, HCLT (<= 1.30)", NAN, NAN, 1.12, "JPEG-XL tiled",
                     "data missing: run scripts/fetch_data.sh", PK_VERDICT_SKIP);
        return PK_OK;
    }
    size_t n = (size_t)mn->shape[0], ntest = n / 10, ntrain = n - ntest;
    size_t *perm = malloc(n * sizeof(size_t));
    uint8_t *sh = malloc(n * 784);
    if (!perm || !sh) {
        free(perm), free(sh), pk_array_free(mn);
        return PK_ENOMEM;
    }
    pk_rng rng;
    pk_rng_seed(&rng, pk_repro_seed(ctx));
    pk_rng_permutation(&rng, perm, n);
    for (size_t i = 0; i < n; i++)
        memcpy(sh + i * 784, (uint8_t *)mn->data + perm[i] * 784, 784);
    /* Chosen on a validation split of the 9,000 training digits (first 8,000
     * fit, last 1,000 scored; see docs/pc.md): intensity smoothing
     * (theta_sigma 1), pseudocount 1.  Session 4: training on the digits and
     * their four one-pixel translations (pk_pc_augment_shift1) beat every
     * regulariser tried on the plain 9,000 (validation 1.2890 for k = 32 with
     * 4 + 1 epochs, against 1.2972 with 2 + 1 and 1.2984 for the best plain
     * recipe, 48 + 1 epochs); test digits are never augmented.  ONE full-batch
     * epoch (a second overfits).  The final model is an equal mixture of MN_C
     * such HCLTs (other seeds, same tree; a mixture's log-loss is never above
     * its members' mean, and each member lowered validation bpd with
     * diminishing returns); the single HCLT is reported beside it.
     * Shrinkage of the input distributions toward the pixel marginals
     * (theta_shrink) was tried and rejected on the same split. */
    enum { MN_K = 32, MN_MINI = 4, MN_FULL = 1, MN_C = 2 };
    const double MN_SIGMA = 1.0;
    const uint8_t *mte = sh + ntrain * 784;
    pk_pc *comp[MN_C] = {NULL};
    double secs[MN_C] = {0};
    uint8_t *aug = NULL;
    size_t naug = 0;
    if (!st)
        st = pk_pc_augment_shift1(sh, ntrain, 28, 28, &aug, &naug, &err);
    for (int c = 0; c < MN_C && !st; c++)
        st = train(ctx, aug, naug, MN_K, MN_MINI, MN_FULL, 1.0, MN_SIGMA, c, &comp[c], &secs[c]);
    free(aug);
    fit one, mix;
    memset(&one, 0, sizeof one), memset(&mix, 0, sizeof mix);
    pk_pc *m = NULL;
    if (!st)
        st = pk_pc_bpd(comp[0], mte, ntest, &one.theo_float, &err);
    if (!st)
        st = pk_pc_mixture((const pk_pc *const *)comp, MN_C, NULL, &m, &err);
    if (!st)
        st = measure(ctx, m, mte, ntest, 1, MN_Q_STEP, MN_Q_LEVELS, &mix);
    if (!st)
        st = measure(ctx, comp[0], mte, ntest, 0, MN_Q_STEP, MN_Q_LEVELS, &one);
    for (int c = 0; c < MN_C; c++)
        pk_pc_free(comp[c]);
    pk_pc_free(m);
    if (!st) {
        snprintf(scale, sizeof scale,
                 "full: %zu/%zu seeded split, training digits + their 4 one-pixel translations, k=%d, "
                 "pseudocount 1, theta_sigma %g, EM %d+%d epochs, quantised (step %g, %d levels)",
                 ntrain, ntest, MN_K, MN_SIGMA, MN_MINI, MN_FULL, MN_Q_STEP, MN_Q_LEVELS);
        char ms[512];
        snprintf(ms, sizeof ms, "%s; mixture of %d HCLTs (k = %d in all)", scale, MN_C, mix.k);
        double mdims = (double)ntest * 784;
        pk_repro_row(ctx, "MNIST test bpd, one HCLT k=32", one.theo, NAN, 1.12, "JPEG-XL tiled", scale,
                     PK_VERDICT_INFO);
        char mrow[96];
        snprintf(mrow, sizeof mrow, "MNIST test bpd, mixture of %d HCLTs (<= 1.30)", MN_C);
        pk_repro_row(ctx, mrow, mix.theo, NAN, 1.12, "JPEG-XL tiled", ms,
                     pk_verdict_le(mix.theo, 1.30));
        pk_repro_row(ctx, "MNIST actual bpd, each image alone (mixture)", mix.sep, NAN, NAN, NULL, ms,
                     PK_VERDICT_INFO);
        pk_repro_row(ctx, "MNIST actual bpd, streamed (mixture)", mix.stream, NAN, NAN, NULL, ms, PK_VERDICT_INFO);
        pk_repro_row(ctx, "MNIST test digits decoded bit-exactly (both modes), fraction", mix.exact ? 1.0 : 0.0, 1.0,
                     NAN, NULL, ms, mix.exact ? PK_VERDICT_PASS : PK_VERDICT_FAIL);
        pk_repro_row(ctx, "MNIST streamed bpd + quantised model amortised over the 1,000 test digits",
                     mix.stream + 8.0 * (double)mix.bytes_q / mdims, NAN,
                     mix.stream + 8.0 * (double)mix.bytes_float / mdims, "with the float32 model file", ms,
                     PK_VERDICT_INFO);
        double secs_all = 0;
        for (int c = 0; c < MN_C; c++)
            secs_all += secs[c];
        pk_repro_note(ctx,
                      "MNIST: one HCLT %.4f bpd before quantising, %.4f after; the mixture %.4f before, %.4f "
                      "after.  Training took %.0f s for the first HCLT, %.0f s for all %d; coding and decoding "
                      "the test digits twice took %.0f s.",
                      one.theo_float, one.theo, mix.theo_float, mix.theo, secs[0], secs_all, MN_C, mix.seconds_code);
    }
    free(perm), free(sh), pk_array_free(mn);
    return st;
}

const pk_repro pk_repro_pccompress = {"pccompress", PK_REPRO_PARTIAL,
                                      "HCLT probabilistic circuits: Fashion-MNIST/MNIST bits per dimension and rANS "
                                      "code lengths",
                                      run};
