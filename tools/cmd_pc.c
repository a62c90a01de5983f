/* probkit pc — probabilistic circuits (HCLT) and lossless image compression. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "probkit/io.h"
#include "probkit/pc.h"
#include "probkit/progress.h"

static const char *HELP =
    "usage: probkit pc <command> [options]\n\n"
    "Probabilistic circuits (hidden Chow-Liu trees, Liu et al. ICLR 2022) as\n"
    "exact image models and lossless codecs.  Images are IDX files (.gz ok,\n"
    "N x H x W u8) or folders of 8-bit grey PNGs of one size.\n\n"
    "commands:\n"
    "  learn       -i TRAIN -o MODEL [--k 16] [--mini-epochs 5] [--full-epochs 2]\n"
    "              [--batch 512] [--pseudocount 0.1] [--theta-sigma 0] [--limit N]\n"
    "              [--mi-samples 20000] [--valid IMAGES] [--seed N] [--json]\n"
    "              [--quant-step 0.3] [--quant-levels 50] [--theta-shrink 0] [--weight-shrink 0]\n"
    "              [--shrink-interior] [--augment none|shift1]\n"
    "              --augment shift1: train on the images and their four one-pixel\n"
    "              translations (5x the data; helps small training sets such as MNIST's\n"
    "              9,000 digits)\n"
    "              --theta-sigma S: blur input-node counts along intensity (levels; 1 helps\n"
    "              small training sets)\n"
    "              --theta-shrink A: estimate each input distribution under a prior of A\n"
    "              pseudo-images centred on its pixel's marginal (0 = off)\n"
    "              --shrink-interior: --theta-shrink reshapes only the spread over values\n"
    "              1..254, each state keeping its own masses on 0, 255 and the interior\n"
    "              --weight-shrink A: the same for sum weights, centred on the layer's\n"
    "              average row (0 = off).  Neither helped on MNIST (docs/pc.md)\n"
    "              --quant-step S: save the model quantised (log-probabilities on a grid of S\n"
    "              nats, at most --quant-levels steps below each row's maximum; compact\n"
    "              zlib file, ~10x smaller); 0 saves float32 parameters\n"
    "  quantize    -m MODEL -o OUT [--quant-step 0.3] [--quant-levels 50] [-i IMAGES] [--json]\n"
    "              quantise a model for a small file; with -i, bpd before and after\n"
    "  mix         -o OUT MODEL MODEL... [--weights W1,W2,...] [--quant-step 0.3]\n"
    "              mixture of models learned on the same tree (same data, other seeds)\n"
    "              as one circuit: k adds up, coding works unchanged\n"
    "  compress    -m MODEL -i IMAGES -o FILE.pkpz [--stream] [--limit N]\n"
    "  decompress  -m MODEL -i FILE.pkpz -o OUT (.idx, or a folder for PNGs) [--index I]\n"
    "  eval        -m MODEL -i IMAGES [--limit N] [--naive N] [--json]\n"
    "              theoretical and actual bits per dimension, round-trip check,\n"
    "              throughput, and the incremental-vs-naive speed-up on N images (default 3)\n"
    "  sample      -m MODEL -o GRID.png [-n 16] [--cols 8] [--seed N]\n"
    "  inpaint     -m MODEL -i IMAGES -o GRID.png [-n 8] [--mask bottom|right|centre]\n"
    "              [--mpe] [--seed N]   rows: original, masked, completed\n\n"
    "exit status: 0 ok, 1 failure (bad or mismatched input: nothing is written), 2 usage.\n";

#define CMD "pc"

/* CPU seconds of this process: the incremental/naive comparison runs on one
 * thread, so this is robust to other load on the machine, unlike wall time. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct imgs {
    uint8_t *x;
    size_t n;
    int h, w;
} imgs;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_png_dir(const char *dir, size_t limit, imgs *out, pk_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return pk_err_set(err, PK_EIO, "%s: cannot open folder", dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".png"))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, cap * sizeof(char *));
            if (!nn)
                break;
            names = nn;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n == 0) {
        free(names);
        return pk_err_set(err, PK_EFORMAT, "%s: no .png files", dir);
    }
    qsort(names, n, sizeof(char *), cmp_str);
    if (limit && limit < n)
        for (size_t i = limit; i < n; i++)
            free(names[i]);
    if (limit && limit < n)
        n = limit;
    int st = PK_OK;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n && !st; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        pk_array *a = NULL;
        st = pk_png_read(path, &a, err);
        if (st)
            break;
        if (a->ndim != 2) {
            st = pk_err_set(err, PK_EFORMAT, "%s: expected an 8-bit grey image, got %d channels", path,
                            a->ndim == 3 ? (int)a->shape[2] : 0);
        } else if (i == 0) {
            out->h = (int)a->shape[0];
            out->w = (int)a->shape[1];
            out->x = malloc(n * (size_t)out->h * (size_t)out->w);
            if (!out->x)
                st = pk_err_set(err, PK_ENOMEM, "out of memory");
        } else if (a->shape[0] != out->h || a->shape[1] != out->w) {
            st = pk_err_set(err, PK_EFORMAT, "%s: size %lldx%lld differs from the first image's %dx%d", path,
                            (long long)a->shape[0], (long long)a->shape[1], out->h, out->w);
        }
        if (!st)
            memcpy(out->x + i * (size_t)out->h * out->w, a->data, (size_t)out->h * out->w);
        pk_array_free(a);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (st) {
        free(out->x);
        out->x = NULL;
        return st;
    }
    out->n = n;
    return PK_OK;
}

static int load_images(const char *path, size_t limit, imgs *out, pk_err *err)
{
    struct stat sb;
    memset(out, 0, sizeof *out);
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return load_png_dir(path, limit, out, err);
    pk_array *a = NULL;
    int st = pk_idx_read(path, &a, err);
    if (st)
        return st;
    if (a->dtype != PK_DTYPE_U8 || a->ndim != 3 || a->shape[0] < 1) {
        pk_array_free(a);
        return pk_err_set(err, PK_EFORMAT, "%s: expected N x H x W unsigned 8-bit images (IDX type 0x08, 3 dims)",
                          path);
    }
    size_t n = (size_t)a->shape[0];
    if (limit && limit < n)
        n = limit;
    out->h = (int)a->shape[1];
    out->w = (int)a->shape[2];
    out->n = n;
    out->x = a->data; /* take ownership of the pixel buffer */
    a->data = NULL;
    pk_array_free(a);
    return PK_OK;
}

static int check_geometry(const pk_pc *pc, const imgs *im, const char *path)
{
    if (im->h * im->w != pc->nvars || (pc->height && (pc->height != im->h || pc->width != im->w)))
        return pk_cli_fail(CMD, "%s: images are %dx%d but the model is for %dx%d", path, im->h, im->w, pc->height,
                           pc->width);
    for (size_t i = 0; i < im->n * (size_t)pc->nvars; i++)
        if (im->x[i] >= pc->ncat)
            return pk_cli_fail(CMD, "%s: image %zu has pixel value %u but the model has %d levels", path,
                               i / (size_t)pc->nvars, im->x[i], pc->ncat);
    return 0;
}

/* Options shared by the subcommands. */
typedef struct opts {
    const char *in, *out, *model, *valid, *mask;
    uint64_t seed, limit, n, cols, naive, index;
    int have_index, json, stream, mpe, npos, shrink_interior, augment;
    long k, mini, full, batch, qlevels;
    double pseudo, mi_samples, theta_sigma, qstep, theta_shrink, weight_shrink;
    const char *weights;
    const char *pos[16];
} opts;

/* argv[0] is the subcommand. --k, --theta-sigma and --index are checked after
 * pk_cli_parse: the first two keep their "must be" messages, --index records
 * that it was given. */
static int parse(int argc, char **argv, opts *o)
{
    static const char *const masks[] = {"bottom", "right", "centre", "center"};
    memset(o, 0, sizeof *o);
    o->seed = PK_CLI_DEFAULT_SEED;
    o->k = 16, o->mini = 5, o->full = 2, o->batch = 512;
    o->pseudo = 0.1, o->mi_samples = 20000;
    o->n = 0, o->cols = 8, o->naive = 3;
    o->qstep = 0.3, o->qlevels = 50;
    int mask = 0;
    const char *k = NULL, *theta = NULL, *index = NULL;
    const pk_cli_opt table[] = {
        {"-i", PK_CLI_STR, &o->in, 0, 0, NULL},
        {"--input", PK_CLI_STR, &o->in, 0, 0, NULL},
        {"-o", PK_CLI_STR, &o->out, 0, 0, NULL},
        {"--output", PK_CLI_STR, &o->out, 0, 0, NULL},
        {"-m", PK_CLI_STR, &o->model, 0, 0, NULL},
        {"--model", PK_CLI_STR, &o->model, 0, 0, NULL},
        {"-n", PK_CLI_U64, &o->n, 1, 10000, NULL},
        {"--valid", PK_CLI_STR, &o->valid, 0, 0, NULL},
        {"--mask", PK_CLI_CHOICE, &mask, 0, 0, "bottom|right|centre|center"},
        {"--seed", PK_CLI_U64, &o->seed, 0, 0, NULL},
        {"--limit", PK_CLI_U64, &o->limit, 1, 0, NULL},
        {"--index", PK_CLI_STR, &index, 0, 0, NULL},
        {"--cols", PK_CLI_U64, &o->cols, 1, 100, NULL},
        {"--naive", PK_CLI_U64, &o->naive, 0, 1000, NULL},
        {"--k", PK_CLI_STR, &k, 0, 0, NULL},
        {"--mini-epochs", PK_CLI_LONG, &o->mini, 0, 100000, NULL},
        {"--full-epochs", PK_CLI_LONG, &o->full, 0, 100000, NULL},
        {"--batch", PK_CLI_LONG, &o->batch, 1, 1L << 30, NULL},
        {"--pseudocount", PK_CLI_DOUBLE, &o->pseudo, 0, 1e300, "a number >= 0"},
        {"--theta-sigma", PK_CLI_STR, &theta, 0, 0, NULL},
        {"--theta-shrink", PK_CLI_DOUBLE, &o->theta_shrink, 0, 1e9, "a number in [0, 1e9]"},
        {"--weight-shrink", PK_CLI_DOUBLE, &o->weight_shrink, 0, 1e9, "a number in [0, 1e9]"},
        {"--shrink-interior", PK_CLI_FLAG, &o->shrink_interior, 0, 0, NULL},
        {"--augment", PK_CLI_CHOICE, &o->augment, 0, 0, "none|shift1"},
        {"--mi-samples", PK_CLI_DOUBLE, &o->mi_samples, 0, 1e300, "a number >= 0 (0 = all)"},
        {"--json", PK_CLI_FLAG, &o->json, 0, 0, NULL},
        {"--stream", PK_CLI_FLAG, &o->stream, 0, 0, NULL},
        {"--mpe", PK_CLI_FLAG, &o->mpe, 0, 0, NULL},
        {"--quant-step", PK_CLI_DOUBLE, &o->qstep, 0, 4, "0 (off) or a number in [0.001, 4]"},
        {"--quant-levels", PK_CLI_LONG, &o->qlevels, 1, 255, NULL},
        {"--weights", PK_CLI_STR, &o->weights, 0, 0, NULL},
        {NULL, PK_CLI_FLAG, NULL, 0, 0, NULL},
    };
    int is_mix = !strcmp(argv[0], "mix");
    int prc = pk_cli_parse(CMD, HELP, argc, argv, table, is_mix ? o->pos : NULL, is_mix ? 16 : 0,
                           is_mix ? &o->npos : NULL);
    if (prc >= 0)
        return prc;
    if (o->qstep != 0 && o->qstep < 0.001)
        return pk_cli_usage(CMD, "--quant-step must be 0 (off) or in [0.001, 4]");
    o->mask = masks[mask];
    if (k && pk_cli_parse_long(k, 1, 1024, &o->k))
        return pk_cli_usage(CMD, "--k must be 1..1024");
    if (theta && (pk_cli_parse_double(theta, &o->theta_sigma) || !(o->theta_sigma >= 0 && o->theta_sigma <= 16)))
        return pk_cli_usage(CMD, "--theta-sigma must be a number in [0, 16]");
    if (index && pk_cli_parse_u64(index, &o->index))
        return pk_cli_usage(CMD, "--index: '%s' is not a non-negative integer", index);
    o->have_index = index != NULL;
    return 0;
}

typedef struct learn_cb {
    pk_progress *prog;
    int total, done, json;
    const pk_pc *pc;
    const imgs *valid;
} learn_cb;

static int on_epoch(void *user, const char *phase, int epoch, int nepochs, double bpd)
{
    learn_cb *c = user;
    c->done++;
    double vb = NAN;
    if (c->valid)
        pk_pc_bpd(c->pc, c->valid->x, c->valid->n, &vb, NULL);
    fprintf(stderr, "probkit pc learn: %s-batch epoch %d/%d  train bpd %.4f%s", phase, epoch, nepochs, bpd,
            c->valid ? "" : "\n");
    if (c->valid)
        fprintf(stderr, "  valid bpd %.4f\n", vb);
    return 0;
}

static int cmd_learn(const opts *o)
{
    if (!o->in || !o->out)
        return pk_cli_usage(CMD, "learn needs -i TRAIN and -o MODEL");
    pk_err err = {0};
    imgs tr, va = {0};
    if (load_images(o->in, o->limit, &tr, &err))
        return pk_cli_fail_status(CMD, err.status, &err);
    if (o->valid && load_images(o->valid, 1000, &va, &err)) {
        free(tr.x);
        return pk_cli_fail_status(CMD, err.status, &err);
    }
    if (o->valid && (va.h != tr.h || va.w != tr.w)) {
        free(tr.x), free(va.x);
        return pk_cli_fail(CMD, "%s: validation images are %dx%d, training images %dx%d", o->valid, va.h, va.w,
                           tr.h, tr.w);
    }
    if (o->augment) {
        uint8_t *ax = NULL;
        size_t an = 0;
        if (pk_pc_augment_shift1(tr.x, tr.n, (size_t)tr.h, (size_t)tr.w, &ax, &an, &err)) {
            free(tr.x), free(va.x);
            return pk_cli_fail_status(CMD, err.status, &err);
        }
        free(tr.x);
        tr.x = ax, tr.n = an;
    }
    pk_rng rng;
    pk_rng_seed(&rng, o->seed);
    fprintf(stderr, "probkit pc learn: %zu images %dx%d%s, k = %ld, seed %llu\n", tr.n, tr.h, tr.w,
            o->augment ? " (with one-pixel translations)" : "", o->k, (unsigned long long)o->seed);
    pk_pc_structure_params sp = pk_pc_structure_params_default();
    sp.k = (int)o->k;
    sp.mi_max_samples = (size_t)o->mi_samples;
    double t0 = pk_time_now();
    pk_pc *pc = NULL;
    int st = pk_pc_learn_structure(tr.x, tr.n, tr.h * tr.w, 256, tr.h, tr.w, &sp, &rng, &pc, &err);
    if (st) {
        free(tr.x), free(va.x);
        return pk_cli_fail_status(CMD, st, &err);
    }
    double t_struct = pk_time_now() - t0;
    fprintf(stderr, "probkit pc learn: Chow-Liu tree in %.1f s (root %d, depth %d), %zu parameters\n", t_struct,
            pc->root, pk_pc_depth(pc), pk_pc_num_params(pc));
    pk_pc_em_params ep = pk_pc_em_params_default();
    ep.epochs_mini = (int)o->mini;
    ep.epochs_full = (int)o->full;
    ep.batch_size = (size_t)o->batch;
    ep.pseudocount = o->pseudo;
    ep.theta_sigma = o->theta_sigma;
    ep.theta_shrink = o->theta_shrink;
    ep.weight_shrink = o->weight_shrink;
    ep.shrink_interior = o->shrink_interior;
    learn_cb cb = {NULL, (int)(o->mini + o->full), 0, (int)o->json, pc, o->valid ? &va : NULL};
    st = pk_pc_em(pc, tr.x, tr.n, &ep, &rng, on_epoch, &cb, &err);
    double t_em = pk_time_now() - t0 - t_struct;
    double bpd = NAN, vbpd = NAN;
    if (!st)
        st = pk_pc_bpd(pc, tr.x, tr.n, &bpd, &err);
    double vbpd_float = NAN;
    if (!st && o->valid)
        st = pk_pc_bpd(pc, va.x, va.n, &vbpd_float, &err);
    /* Quantise before measuring and saving: the saved model is the one measured. */
    if (!st && o->qstep > 0)
        st = pk_pc_quantize(pc, o->qstep, (int)o->qlevels, &err);
    if (!st && o->qstep > 0)
        st = pk_pc_bpd(pc, tr.x, tr.n, &bpd, &err);
    if (!st && o->valid)
        st = pk_pc_bpd(pc, va.x, va.n, &vbpd, &err);
    if (!st)
        st = pk_pc_save(pc, o->out, &err);
    free(tr.x), free(va.x);
    if (st) {
        pk_pc_free(pc);
        return pk_cli_fail_status(CMD, st, &err);
    }
    if (o->json) { /* no validation set: the validation figures are null, not nan (invalid JSON) */
        char vb[32] = "null", vbf[32] = "null";
        if (isfinite(vbpd))
            snprintf(vb, sizeof vb, "%.6f", vbpd);
        if (isfinite(vbpd_float))
            snprintf(vbf, sizeof vbf, "%.6f", vbpd_float);
        printf("{\"model\": \"%s\", \"k\": %ld, \"train_images\": %zu, \"train_bpd\": %.6f, \"valid_bpd\": %s, "
               "\"valid_bpd_unquantised\": %s, \"quant_step\": %g, \"quant_levels\": %ld, "
               "\"params\": %zu, \"seconds_structure\": %.2f, \"seconds_em\": %.2f, \"seed\": %llu}\n",
               o->out, o->k, tr.n, bpd, vb, vbf, o->qstep, o->qstep > 0 ? o->qlevels : 0, pk_pc_num_params(pc),
               t_struct, t_em, (unsigned long long)o->seed);
    }
    else
        printf("wrote %s: k %ld, %zu parameters, train bpd %.4f%s, %.1f s\n", o->out, o->k, pk_pc_num_params(pc),
               bpd, o->valid ? "" : "", t_struct + t_em);
    if (!o->json && o->valid)
        printf("validation bpd %.4f (first %zu images of %s; %.4f before quantising)\n", vbpd, va.n, o->valid,
               vbpd_float);
    pk_pc_free(pc);
    return 0;
}

static int load_model(const opts *o, pk_pc **pc)
{
    if (!o->model)
        return pk_cli_usage(CMD, "-m MODEL is required");
    pk_err err = {0};
    int st = pk_pc_load(o->model, pc, &err);
    return st ? pk_cli_fail_status(CMD, st, &err) : 0;
}

static int cmd_compress(const opts *o)
{
    if (!o->in || !o->out)
        return pk_cli_usage(CMD, "compress needs -m MODEL -i IMAGES -o FILE");
    pk_pc *pc;
    int rc = load_model(o, &pc);
    if (rc)
        return rc;
    pk_err err = {0};
    imgs im;
    if (load_images(o->in, o->limit, &im, &err)) {
        pk_pc_free(pc);
        return pk_cli_fail_status(CMD, err.status, &err);
    }
    if ((rc = check_geometry(pc, &im, o->in))) {
        pk_pc_free(pc), free(im.x);
        return rc;
    }
    uint8_t *buf;
    size_t len;
    double t0 = pk_time_now();
    int st = pk_pc_compress(pc, im.x, im.n, o->stream ? PK_PC_MODE_STREAM : PK_PC_MODE_SEPARATE, &buf, &len, &err);
    double dt = pk_time_now() - t0;
    if (!st) {
        st = pk_file_write_atomic(o->out, buf, len, &err);
        free(buf);
    }
    if (!st)
        printf("%s: %zu images, %zu bytes, %.4f bits per pixel, %.0f images/s\n", o->out, im.n, len,
               8.0 * (double)len / ((double)im.n * pc->nvars), (double)im.n / dt);
    pk_pc_free(pc), free(im.x);
    return st ? pk_cli_fail_status(CMD, st, &err) : 0;
}

static int write_images(const char *out, const uint8_t *x, size_t n, int h, int w, pk_err *err)
{
    size_t l = strlen(out);
    struct stat sb;
    int is_dir = (l && out[l - 1] == '/') || (stat(out, &sb) == 0 && S_ISDIR(sb.st_mode));
    if (!is_dir) {
        int64_t shape[3] = {(int64_t)n, h, w};
        pk_array *a = pk_array_new(PK_DTYPE_U8, 3, shape);
        if (!a)
            return pk_err_set(err, PK_ENOMEM, "out of memory");
        memcpy(a->data, x, n * (size_t)h * w);
        int st = pk_idx_write(out, a, err);
        pk_array_free(a);
        return st;
    }
    int st = pk_mkdirs(out, err);
    for (size_t i = 0; i < n && !st; i++) {
        int64_t shape[2] = {h, w};
        pk_array *a = pk_array_new(PK_DTYPE_U8, 2, shape);
        if (!a)
            return pk_err_set(err, PK_ENOMEM, "out of memory");
        memcpy(a->data, x + i * (size_t)h * w, (size_t)h * w);
        char path[4096];
        snprintf(path, sizeof path, "%s/%06zu.png", out, i);
        st = pk_png_write(path, a, err);
        pk_array_free(a);
    }
    return st;
}

static int cmd_decompress(const opts *o)
{
    if (!o->in || !o->out)
        return pk_cli_usage(CMD, "decompress needs -m MODEL -i FILE -o OUT");
    pk_pc *pc;
    int rc = load_model(o, &pc);
    if (rc)
        return rc;
    pk_err err = {0};
    uint8_t *buf = NULL, *x = NULL;
    size_t len, n = 0;
    int st = pk_file_read_all(o->in, 0, &buf, &len, &err);
    if (!st && o->have_index) {
        x = malloc((size_t)pc->nvars);
        st = x ? pk_pc_decompress_one(pc, buf, len, o->in, (size_t)o->index, x, &err) : PK_ENOMEM;
        n = 1;
    } else if (!st) {
        st = pk_pc_decompress(pc, buf, len, o->in, &x, &n, &err);
    }
    int h = pc->height ? pc->height : 1, w = pc->height ? pc->width : pc->nvars;
    if (!st)
        st = write_images(o->out, x, n, h, w, &err);
    if (!st)
        printf("%s: %zu images %dx%d\n", o->out, n, h, w);
    free(buf), free(x);
    pk_pc_free(pc);
    return st ? pk_cli_fail_status(CMD, st, &err) : 0;
}

static int cmd_eval(const opts *o)
{
    if (!o->in)
        return pk_cli_usage(CMD, "eval needs -m MODEL -i IMAGES");
    pk_pc *pc;
    int rc = load_model(o, &pc);
    if (rc)
        return rc;
    pk_err err = {0};
    imgs im;
    if (load_images(o->in, o->limit, &im, &err)) {
        pk_pc_free(pc);
        return pk_cli_fail_status(CMD, err.status, &err);
    }
    if ((rc = check_geometry(pc, &im, o->in))) {
        pk_pc_free(pc), free(im.x);
        return rc;
    }
    const double dims = (double)im.n * pc->nvars;
    double theo = 0, t_enc = 0, t_dec = 0, sep_bpd = 0, str_bpd = 0;
    int exact = 1;
    int st = pk_pc_bpd(pc, im.x, im.n, &theo, &err);
    for (int mode = 0; mode < 2 && !st; mode++) {
        uint8_t *buf, *y;
        size_t len, cnt;
        double t0 = pk_time_now();
        st = pk_pc_compress(pc, im.x, im.n, (pk_pc_mode)mode, &buf, &len, &err);
        if (st)
            break;
        double t1 = pk_time_now();
        st = pk_pc_decompress(pc, buf, len, "memory", &y, &cnt, &err);
        double t2 = pk_time_now();
        if (!st) {
            exact &= cnt == im.n && memcmp(y, im.x, im.n * (size_t)pc->nvars) == 0;
            free(y);
        }
        free(buf);
        if (mode == 0) {
            sep_bpd = 8.0 * (double)len / dims;
            t_enc = t1 - t0;
            t_dec = t2 - t1;
        } else {
            str_bpd = 8.0 * (double)len / dims;
        }
    }
    /* Incremental versus naive conditionals on a few images (one thread). */
    double t_inc = 0, t_naive = 0;
    size_t nn = o->naive < im.n ? (size_t)o->naive : im.n;
    if (!st && nn > 0) {
        pk_pc_coder *c;
        st = pk_pc_coder_new(pc, &c);
        double b1, b2, t0 = cpu_now();
        for (size_t i = 0; i < nn && !st; i++)
            st = pk_pc_coder_chain_bits(c, im.x + i * (size_t)pc->nvars, 0, &b1);
        double t1 = cpu_now();
        for (size_t i = 0; i < nn && !st; i++)
            st = pk_pc_coder_chain_bits(c, im.x + i * (size_t)pc->nvars, 1, &b2);
        t_naive = cpu_now() - t1;
        t_inc = t1 - t0;
        pk_pc_coder_free(c);
    }
    size_t msize = st ? 0 : pk_pc_file_bytes(pc);
    if (st) {
        pk_pc_free(pc), free(im.x);
        return pk_cli_fail_status(CMD, st, &err);
    }
    double amort = sep_bpd + 8.0 * (double)msize / dims;
    if (o->json)
        printf("{\"images\": %zu, \"k\": %d, \"theoretical_bpd\": %.6f, \"actual_bpd_separate\": %.6f, "
               "\"actual_bpd_stream\": %.6f, \"bpd_with_model\": %.6f, \"model_bytes\": %zu, \"bit_exact\": %s, "
               "\"encode_images_per_s\": %.2f, \"decode_images_per_s\": %.2f, \"naive_images\": %zu, "
               "\"incremental_cpu_s_per_image\": %.6g, \"naive_cpu_s_per_image\": %.6g, \"speedup\": %.2f}\n",
               im.n, pc->k, theo, sep_bpd, str_bpd, amort, msize, exact ? "true" : "false", (double)im.n / t_enc,
               (double)im.n / t_dec, nn, nn ? t_inc / (double)nn : 0, nn ? t_naive / (double)nn : 0,
               nn ? t_naive / t_inc : 0);
    else {
        printf("images               %zu (%dx%d), model k = %d\n", im.n, im.h, im.w, pc->k);
        printf("theoretical bpd      %.4f\n", theo);
        printf("actual bpd, separate %.4f  (+%.4f)\n", sep_bpd, sep_bpd - theo);
        printf("actual bpd, stream   %.4f  (+%.4f)\n", str_bpd, str_bpd - theo);
        printf("bpd with model size  %.4f  (model %zu bytes amortised over these images)\n", amort, msize);
        printf("round trip           %s\n", exact ? "bit-exact" : "MISMATCH");
        printf("throughput           encode %.1f images/s, decode %.1f images/s\n", (double)im.n / t_enc,
               (double)im.n / t_dec);
        if (nn)
            printf("incremental vs naive %.3g vs %.3g CPU s per image: %.1fx faster (%zu images)\n",
                   t_inc / (double)nn, t_naive / (double)nn, t_naive / t_inc, nn);
    }
    pk_pc_free(pc), free(im.x);
    return exact ? 0 : pk_cli_fail(CMD, "round trip was not bit-exact");
}

/* Tile n images (h x w) into a grid with 1-pixel white gaps and write a PNG. */
static int write_grid(const char *path, const uint8_t *x, size_t n, int h, int w, int cols, pk_err *err)
{
    int rows = (int)((n + (size_t)cols - 1) / (size_t)cols);
    int64_t shape[2] = {rows * (h + 1) + 1, cols * (w + 1) + 1};
    pk_array *a = pk_array_new(PK_DTYPE_U8, 2, shape);
    if (!a)
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    uint8_t *g = a->data;
    memset(g, 255, (size_t)(shape[0] * shape[1]));
    for (size_t i = 0; i < n; i++) {
        int r0 = (int)(i / (size_t)cols) * (h + 1) + 1, c0 = (int)(i % (size_t)cols) * (w + 1) + 1;
        for (int r = 0; r < h; r++)
            memcpy(g + (size_t)(r0 + r) * (size_t)shape[1] + c0, x + i * (size_t)h * w + (size_t)r * w, (size_t)w);
    }
    int st = pk_png_write(path, a, err);
    pk_array_free(a);
    return st;
}

static int cmd_sample(const opts *o)
{
    if (!o->out)
        return pk_cli_usage(CMD, "sample needs -m MODEL -o GRID.png");
    pk_pc *pc;
    int rc = load_model(o, &pc);
    if (rc)
        return rc;
    size_t n = o->n ? (size_t)o->n : 16;
    pk_rng rng;
    pk_rng_seed(&rng, o->seed);
    pk_err err = {0};
    uint8_t *x = malloc(n * (size_t)pc->nvars);
    int st = x ? pk_pc_sample(pc, &rng, n, x, &err) : pk_err_set(&err, PK_ENOMEM, "out of memory");
    int h = pc->height ? pc->height : 1, w = pc->height ? pc->width : pc->nvars;
    if (!st)
        st = write_grid(o->out, x, n, h, w, (int)o->cols, &err);
    if (!st)
        printf("wrote %s: %zu samples (seed %llu)\n", o->out, n, (unsigned long long)o->seed);
    free(x);
    pk_pc_free(pc);
    return st ? pk_cli_fail_status(CMD, st, &err) : 0;
}

static int cmd_inpaint(const opts *o)
{
    if (!o->in || !o->out)
        return pk_cli_usage(CMD, "inpaint needs -m MODEL -i IMAGES -o GRID.png");
    int kind = !strcmp(o->mask, "bottom") ? 0 : !strcmp(o->mask, "right") ? 1
                                            : (!strcmp(o->mask, "centre") || !strcmp(o->mask, "center")) ? 2
                                                                                                        : -1;
    if (kind < 0)
        return pk_cli_usage(CMD, "--mask must be bottom, right or centre");
    pk_pc *pc;
    int rc = load_model(o, &pc);
    if (rc)
        return rc;
    pk_err err = {0};
    size_t n = o->n ? (size_t)o->n : 8;
    imgs im;
    if (load_images(o->in, n, &im, &err)) {
        pk_pc_free(pc);
        return pk_cli_fail_status(CMD, err.status, &err);
    }
    if ((rc = check_geometry(pc, &im, o->in))) {
        pk_pc_free(pc), free(im.x);
        return rc;
    }
    n = im.n;
    size_t D = (size_t)pc->nvars;
    int h = im.h, w = im.w;
    uint8_t *mask = malloc(D), *grid = malloc(3 * n * D);
    pk_rng rng;
    pk_rng_seed(&rng, o->seed);
    int st = (mask && grid) ? PK_OK : pk_err_set(&err, PK_ENOMEM, "out of memory");
    for (int r = 0; r < h && !st; r++)
        for (int c = 0; c < w; c++)
            mask[r * w + c] = kind == 0 ? r < h / 2 : kind == 1 ? c < w / 2
                                                                : !(r >= h / 4 && r < 3 * h / 4 && c >= w / 4 && c < 3 * w / 4);
    for (size_t i = 0; i < n && !st; i++) {
        const uint8_t *x = im.x + i * D;
        memcpy(grid + i * D, x, D);
        for (size_t v = 0; v < D; v++)
            grid[(n + i) * D + v] = mask[v] ? x[v] : 128;
        memcpy(grid + (2 * n + i) * D, x, D);
        st = pk_pc_complete(pc, grid + (2 * n + i) * D, mask, (int)o->mpe, &rng, &err);
    }
    if (!st)
        st = write_grid(o->out, grid, 3 * n, h, w, (int)n, &err);
    if (!st)
        printf("wrote %s: %zu images, %s half masked, %s (seed %llu)\n", o->out, n, o->mask,
               o->mpe ? "max-product completion" : "conditional samples", (unsigned long long)o->seed);
    free(mask), free(grid), free(im.x);
    pk_pc_free(pc);
    return st ? pk_cli_fail_status(CMD, st, &err) : 0;
}

static int cmd_quantize(const opts *o)
{
    if (!o->out)
        return pk_cli_usage(CMD, "quantize needs -m MODEL -o OUT");
    if (!(o->qstep > 0))
        return pk_cli_usage(CMD, "quantize needs --quant-step > 0");
    pk_pc *pc;
    int rc = load_model(o, &pc);
    if (rc)
        return rc;
    pk_err err = {0};
    imgs im = {0};
    if (o->in && load_images(o->in, o->limit, &im, &err)) {
        pk_pc_free(pc);
        return pk_cli_fail_status(CMD, err.status, &err);
    }
    if (o->in && (rc = check_geometry(pc, &im, o->in))) {
        pk_pc_free(pc), free(im.x);
        return rc;
    }
    double b0 = NAN, b1 = NAN;
    size_t s0 = pk_pc_file_bytes(pc);
    int st = o->in ? pk_pc_bpd(pc, im.x, im.n, &b0, &err) : PK_OK;
    if (!st)
        st = pk_pc_quantize(pc, o->qstep, (int)o->qlevels, &err);
    if (!st && o->in)
        st = pk_pc_bpd(pc, im.x, im.n, &b1, &err);
    if (!st)
        st = pk_pc_save(pc, o->out, &err);
    size_t s1 = st ? 0 : pk_pc_file_bytes(pc);
    free(im.x);
    if (st) {
        pk_pc_free(pc);
        return pk_cli_fail_status(CMD, st, &err);
    }
    double dims = (double)im.n * pc->nvars;
    if (o->json)
        printf("{\"model\": \"%s\", \"quant_step\": %g, \"quant_levels\": %ld, \"bytes_before\": %zu, "
               "\"bytes_after\": %zu, \"images\": %zu, \"bpd_before\": %.6f, \"bpd_after\": %.6f, "
               "\"model_bpd_before\": %.6f, \"model_bpd_after\": %.6f}\n",
               o->out, o->qstep, o->qlevels, s0, s1, im.n, b0, b1, im.n ? 8.0 * (double)s0 / dims : NAN,
               im.n ? 8.0 * (double)s1 / dims : NAN);
    else {
        printf("wrote %s: %zu -> %zu bytes (step %g nats, %ld levels)\n", o->out, s0, s1, o->qstep, o->qlevels);
        if (o->in)
            printf("bpd on %zu images: %.5f -> %.5f; model amortised over them: %.3f -> %.3f bpd\n", im.n, b0, b1,
                   8.0 * (double)s0 / dims, 8.0 * (double)s1 / dims);
    }
    pk_pc_free(pc);
    return 0;
}

static int cmd_mix(const opts *o)
{
    if (!o->out || o->npos < 1)
        return pk_cli_usage(CMD, "mix needs -o OUT and at least one MODEL");
    double w[16];
    int nw = 0;
    if (o->weights) {
        const char *p = o->weights;
        while (*p && nw < 16) {
            char *end;
            w[nw] = strtod(p, &end);
            if (end == p || !(w[nw] >= 0))
                return pk_cli_usage(CMD, "--weights: '%s' is not a list of numbers >= 0", o->weights);
            nw++;
            p = *end == ',' ? end + 1 : end;
            if (*end && *end != ',')
                return pk_cli_usage(CMD, "--weights: '%s' is not a list of numbers >= 0", o->weights);
        }
        if (nw != o->npos)
            return pk_cli_usage(CMD, "--weights has %d values for %d models", nw, o->npos);
    }
    pk_pc *c[16] = {0};
    pk_err err = {0};
    int st = PK_OK;
    for (int i = 0; i < o->npos && !st; i++)
        st = pk_pc_load(o->pos[i], &c[i], &err);
    pk_pc *m = NULL;
    if (!st)
        st = pk_pc_mixture((const pk_pc *const *)c, o->npos, o->weights ? w : NULL, &m, &err);
    if (!st && o->qstep > 0)
        st = pk_pc_quantize(m, o->qstep, (int)o->qlevels, &err);
    if (!st)
        st = pk_pc_save(m, o->out, &err);
    if (!st)
        printf("wrote %s: mixture of %d models, k = %d%s\n", o->out, o->npos, m->k,
               o->qstep > 0 ? ", quantised" : "");
    for (int i = 0; i < o->npos; i++)
        pk_pc_free(c[i]);
    pk_pc_free(m);
    return st ? pk_cli_fail_status(CMD, st, &err) : 0;
}

static int pc_main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(HELP, argc < 2 ? stderr : stdout);
        return argc < 2 ? PK_EXIT_USAGE : 0;
    }
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(HELP, stdout);
            return 0;
        }
    opts o;
    int rc = parse(argc - 1, argv + 1, &o);
    if (rc)
        return rc;
    const char *c = argv[1];
    if (!strcmp(c, "learn"))
        return cmd_learn(&o);
    if (!strcmp(c, "compress"))
        return cmd_compress(&o);
    if (!strcmp(c, "decompress"))
        return cmd_decompress(&o);
    if (!strcmp(c, "eval"))
        return cmd_eval(&o);
    if (!strcmp(c, "sample"))
        return cmd_sample(&o);
    if (!strcmp(c, "inpaint"))
        return cmd_inpaint(&o);
    if (!strcmp(c, "quantize"))
        return cmd_quantize(&o);
    if (!strcmp(c, "mix"))
        return cmd_mix(&o);
    return pk_cli_usage(CMD, "unknown command '%s'", c);
}

const pk_cli_cmd pk_cmd_pc = {"pc", "probabilistic circuits: learn, lossless compress/decompress, eval, sample, inpaint, quantize, mix",
                              pc_main};
