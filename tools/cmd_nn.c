/* probkit nn — train and evaluate image classifiers; `nn lm` for the byte GPT. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_nn_lm.h"
#include "probkit/io.h"
#include "probkit/nn.h"
#include "probkit/progress.h"
#include "probkit/rng.h"

static const char *HELP =
    "usage: probkit nn train --data SET --model ARCH [options]\n"
    "       probkit nn eval  --model-file FILE --data SET [--split test|train] [--json]\n"
    "       probkit nn lm    train|sample|score ...   (byte-level GPT; see 'probkit nn lm --help')\n\n"
    "Image classifiers on IDX data sets.  SET is one of\n"
    "  fashion-mnist  60k train / 10k test (PROBKIT_DATA/fashion-mnist or /usr/share/datasets/fashion-mnist)\n"
    "  mnist          the 10,000 MNIST digits in DATA/mnist/mnist-10k-*: first 8,000 train, last 2,000 test\n"
    "ARCH: mlp (784-H...-10, ReLU), cnn (conv32-pool-conv64-pool-fc128), lenet.\n\n"
    "train options:\n"
    "  --epochs N        passes over the training set (default 5)\n"
    "  --batch N         mini-batch size (default 128)\n"
    "  --optim NAME      adam (default), adamw, sgd (momentum 0.9, Nesterov), rmsprop, adagrad\n"
    "  --lr X            peak learning rate (default 1e-3; sgd 0.05); cosine decay to 0 after 1% warm-up\n"
    "  --weight-decay X  (default 0; adamw 0.01)\n"
    "  --hidden LIST     MLP hidden widths, comma separated (default 512,512)\n"
    "  --dropout P       dropout after hidden layers (default 0)\n"
    "  --smoothing E     label smoothing (default 0)\n"
    "  --val N           hold out the last N training examples for validation\n"
    "                    (default 5000 for fashion-mnist, 0 for mnist: then the test split is reported)\n"
    "  --limit N         use only the first N training examples (quick runs)\n"
    "  --augment         random shifts of up to 2 pixels\n"
    "  --out FILE        checkpoint (safetensors) written after every epoch (default nn-model.safetensors)\n"
    "  --seed N          initialisation and shuffling seed (default 42)\n"
    "  --progress        draw the progress line even when stderr is not a terminal\n"
    "  --json            print the final figures as JSON on stdout\n\n"
    "Threads: OMP_NUM_THREADS / OPENBLAS_NUM_THREADS; results are deterministic for a seed and thread count.\n"
    "exit status: 0 ok, 1 failure (missing data, bad file, diverged), 2 usage error.\n";

typedef struct dataset {
    int64_t n, c, h, w;
    float *x;       /* n x c*h*w in [0, 1] */
    int32_t *y;     /* n labels */
} dataset;

static void dataset_free(dataset *d)
{
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}

static int load_idx_pair(const char *img, const char *lab, dataset *d, pk_err *err)
{
    pk_array *a = NULL, *b = NULL;
    int st = pk_idx_read(img, &a, err);
    if (!st)
        st = pk_idx_read(lab, &b, err);
    if (!st && (a->dtype != PK_DTYPE_U8 || a->ndim != 3 || b->dtype != PK_DTYPE_U8 || b->ndim != 1 ||
                a->shape[0] != b->shape[0]))
        st = pk_err_set(err, PK_EFORMAT, "%s / %s: expected u8 images (N,H,W) and N u8 labels", img, lab);
    if (!st) {
        d->n = a->shape[0], d->c = 1, d->h = a->shape[1], d->w = a->shape[2];
        size_t npx = (size_t)(d->n * d->h * d->w);
        d->x = malloc(npx * sizeof *d->x);
        d->y = malloc((size_t)d->n * sizeof *d->y);
        if (!d->x || !d->y)
            st = pk_err_set(err, PK_ENOMEM, "out of memory for %s", img);
        for (size_t i = 0; !st && i < npx; i++)
            d->x[i] = ((const uint8_t *)a->data)[i] / 255.0f;
        for (int64_t i = 0; !st && i < d->n; i++)
            d->y[i] = ((const uint8_t *)b->data)[i];
    }
    pk_array_free(a);
    pk_array_free(b);
    return st;
}

/* Load SET's train and test splits. */
static int load_set(const char *set, dataset *tr, dataset *te, pk_err *err)
{
    char p1[1200], p2[1200];
    const char *dd = pk_cli_data_dir();
    if (!strcmp(set, "fashion-mnist")) {
        const char *base = "/usr/share/datasets/fashion-mnist";
        snprintf(p1, sizeof p1, "%s/fashion-mnist/train-images-idx3-ubyte.gz", dd);
        FILE *f = fopen(p1, "rb");
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/fashion-mnist", dd);
        if (f)
            fclose(f);
        const char *root = f ? dir : base;
        snprintf(p1, sizeof p1, "%s/train-images-idx3-ubyte.gz", root);
        snprintf(p2, sizeof p2, "%s/train-labels-idx1-ubyte.gz", root);
        int st = load_idx_pair(p1, p2, tr, err);
        if (st)
            return st;
        snprintf(p1, sizeof p1, "%s/t10k-images-idx3-ubyte.gz", root);
        snprintf(p2, sizeof p2, "%s/t10k-labels-idx1-ubyte.gz", root);
        return load_idx_pair(p1, p2, te, err);
    }
    if (!strcmp(set, "mnist")) {
        dataset all = {0};
        snprintf(p1, sizeof p1, "%s/mnist/mnist-10k-images-idx3-ubyte", dd);
        snprintf(p2, sizeof p2, "%s/mnist/mnist-10k-labels-idx1-ubyte", dd);
        int st = load_idx_pair(p1, p2, &all, err);
        if (st) {
            pk_err_prefix(err, "mnist (run scripts/fetch_data.sh): ");
            return st;
        }
        int64_t ntr = all.n * 4 / 5, D = all.c * all.h * all.w;
        *tr = all;
        te->n = all.n - ntr, te->c = all.c, te->h = all.h, te->w = all.w;
        te->x = malloc((size_t)(te->n * D) * sizeof(float));
        te->y = malloc((size_t)te->n * sizeof(int32_t));
        if (!te->x || !te->y)
            return pk_err_set(err, PK_ENOMEM, "out of memory");
        memcpy(te->x, all.x + ntr * D, (size_t)(te->n * D) * sizeof(float));
        memcpy(te->y, all.y + ntr, (size_t)te->n * sizeof(int32_t));
        tr->n = ntr;
        return PK_OK;
    }
    return pk_err_set(err, PK_EINVAL, "unknown data set '%s' (fashion-mnist or mnist)", set);
}

/* Accuracy and mean loss of m on examples [lo, hi) of d. */
static int evaluate(const pk_nn_classifier *m, const dataset *d, int64_t lo, int64_t hi, double *acc, double *loss,
                    pk_err *err)
{
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    if (!ctx)
        return pk_err_set(err, PK_ENOMEM, "out of memory");
    pk_nn_ctx_set_grad(ctx, 0);
    pk_nn_ctx_set_train(ctx, 0);
    int64_t D = d->c * d->h * d->w, correct = 0, B = 500;
    double tl = 0;
    for (int64_t s = lo; s < hi; s += B) {
        int64_t nb = s + B < hi ? B : hi - s;
        pk_nn_ctx_reset(ctx);
        pk_nn_tensor *x = pk_nn_input_copy(ctx, 4, (int64_t[]){nb, d->c, d->h, d->w}, d->x + s * D);
        pk_nn_tensor *lg = pk_nn_classifier_forward(ctx, m, x);
        pk_nn_tensor *l = pk_nn_cross_entropy(ctx, lg, d->y + s, 0.0f);
        if (!l) {
            int st = pk_err_set(err, pk_nn_ctx_status(ctx), "%s", pk_nn_ctx_error(ctx));
            pk_nn_ctx_free(ctx);
            return st;
        }
        int64_t K = lg->shape[1];
        for (int64_t i = 0; i < nb; i++) {
            int64_t best = 0;
            for (int64_t k = 1; k < K; k++)
                if (lg->data[i * K + k] > lg->data[i * K + best])
                    best = k;
            correct += best == d->y[s + i];
        }
        tl += l->data[0] * (double)nb;
    }
    pk_nn_ctx_free(ctx);
    *acc = hi > lo ? (double)correct / (double)(hi - lo) : NAN;
    *loss = hi > lo ? tl / (double)(hi - lo) : NAN;
    return PK_OK;
}

/* Shift an image by (dy, dx) pixels with zero fill. */
static void shift_image(const float *src, float *dst, int64_t c, int64_t h, int64_t w, int dy, int dx)
{
    for (int64_t k = 0; k < c; k++)
        for (int64_t i = 0; i < h; i++)
            for (int64_t j = 0; j < w; j++) {
                int64_t si = i - dy, sj = j - dx;
                dst[(k * h + i) * w + j] = (si >= 0 && si < h && sj >= 0 && sj < w) ? src[(k * h + si) * w + sj] : 0.0f;
            }
}

/* In pk_nn_optim_kind order. */
static const char *const OPTIM_NAMES[] = {"sgd", "adam", "adamw", "rmsprop", "adagrad"};
static const char *const ARCH_NAMES[] = {"mlp", "cnn", "lenet"};

static int cmd_train(int argc, char **argv)
{
    const char *C = "nn train", *set = NULL, *out = "nn-model.safetensors", *hidden = "512,512";
    int archk = -1, optk = PK_NN_ADAM;
    long epochs = 5, batch = 128, val = -1, limit = -1;
    double lr = NAN, wd = NAN, dropout = 0, smoothing = 0;
    uint64_t seed = PK_CLI_DEFAULT_SEED;
    int json = 0, force = 0, augment = 0;
    const pk_cli_opt opts[] = {
        {"--data", PK_CLI_STR, &set, 0, 0, NULL},
        {"--model", PK_CLI_CHOICE, &archk, 0, 0, "mlp|cnn|lenet"},
        {"--out", PK_CLI_STR, &out, 0, 0, NULL},
        {"--hidden", PK_CLI_STR, &hidden, 0, 0, NULL},
        {"--optim", PK_CLI_CHOICE, &optk, 0, 0, "sgd|adam|adamw|rmsprop|adagrad"},
        {"--epochs", PK_CLI_LONG, &epochs, 1, 100000000, NULL},
        {"--batch", PK_CLI_LONG, &batch, 1, 100000000, NULL},
        {"--val", PK_CLI_LONG, &val, 0, 100000000, NULL},
        {"--limit", PK_CLI_LONG, &limit, 1, 100000000, NULL},
        {"--lr", PK_CLI_DOUBLE, &lr, 0, HUGE_VAL, "a non-negative number"},
        {"--weight-decay", PK_CLI_DOUBLE, &wd, 0, HUGE_VAL, "a non-negative number"},
        {"--dropout", PK_CLI_DOUBLE, &dropout, 0, 1 - 1e-16, "a number in [0, 1)"},
        {"--smoothing", PK_CLI_DOUBLE, &smoothing, 0, 1 - 1e-16, "a number in [0, 1)"},
        {"--seed", PK_CLI_U64, &seed, 0, 0, NULL},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {"--progress", PK_CLI_FLAG, &force, 0, 0, NULL},
        {"--augment", PK_CLI_FLAG, &augment, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(C, HELP, argc, argv, opts, NULL, 0, NULL);
    if (prc >= 0)
        return prc;
    if (!set || archk < 0)
        return pk_cli_usage(C, "--data and --model are required");
    const char *arch = ARCH_NAMES[archk], *optname = OPTIM_NAMES[optk];
    pk_nn_classifier_config cfg = {PK_NN_ARCH_MLP, 1, 28, 28, 10, 0, {0}, (float)dropout};
    if (!strcmp(arch, "mlp")) {
        const char *s = hidden;
        while (*s) {
            char *end;
            long h = strtol(s, &end, 10);
            if (end == s || h < 1 || h > 65536 || cfg.n_hidden == 8 || (*end && *end != ','))
                return pk_cli_usage(C, "--hidden: '%s' is not a list of up to 8 widths", hidden);
            cfg.hidden[cfg.n_hidden++] = (int)h;
            s = *end ? end + 1 : end;
        }
    } else {
        cfg.arch = archk == 1 ? PK_NN_ARCH_CNN : PK_NN_ARCH_LENET;
    }
    pk_nn_optim_kind ok = (pk_nn_optim_kind)optk;
    pk_nn_optim_params op = pk_nn_optim_params_default(ok);
    if (ok == PK_NN_SGD)
        op.momentum = 0.9, op.nesterov = 1;
    if (!isnan(wd))
        op.weight_decay = wd;
    if (isnan(lr))
        lr = ok == PK_NN_SGD ? 0.05 : 1e-3;

    pk_err err = {0};
    dataset tr = {0}, te = {0};
    int st = load_set(set, &tr, &te, &err);
    if (st) {
        dataset_free(&tr);
        dataset_free(&te);
        return pk_cli_fail_status(C, st, &err);
    }
    cfg.channels = (int)tr.c, cfg.height = (int)tr.h, cfg.width = (int)tr.w;
    if (val < 0)
        val = !strcmp(set, "fashion-mnist") ? 5000 : 0;
    int64_t ntrain = tr.n - val;
    if (limit > 0 && limit < ntrain)
        ntrain = limit;
    if (ntrain < 1 || val >= tr.n) {
        dataset_free(&tr);
        dataset_free(&te);
        return pk_cli_usage(C, "--val %ld leaves no training examples", val);
    }
    fprintf(stderr, "probkit nn train: seed %llu, %s %s, %lld train / %ld val / %lld test examples\n",
            (unsigned long long)seed, set, arch, (long long)ntrain, val, (long long)te.n);
    pk_rng rng;
    pk_rng_seed(&rng, seed);
    pk_nn_classifier *m = NULL;
    pk_nn_optim *opt = NULL;
    pk_nn_ctx *ctx = pk_nn_ctx_new();
    int64_t D = tr.c * tr.h * tr.w;
    size_t *perm = malloc((size_t)ntrain * sizeof *perm);
    float *xb = malloc((size_t)(batch * D) * sizeof *xb);
    int32_t *yb = malloc((size_t)batch * sizeof *yb);
    pk_progress *pg = NULL;
    double t0 = pk_time_now(), vacc = NAN, vloss = NAN, tacc = NAN, tloss = NAN, last_loss = NAN;
    int rc = PK_EXIT_OK;
    if (!ctx || !perm || !xb || !yb) {
        rc = pk_cli_fail(C, "out of memory");
        goto done;
    }
    if ((st = pk_nn_classifier_new(&cfg, &rng, &m, &err)) || !(opt = pk_nn_optim_new(m->params, &op, &err))) {
        rc = pk_cli_fail_status(C, st ? st : err.status, &err);
        goto done;
    }
    pk_nn_ctx_set_rng(ctx, &rng);
    int64_t steps_per_epoch = (ntrain + batch - 1) / batch, total = steps_per_epoch * epochs, step = 0;
    int64_t warm = total / 100;
    fprintf(stderr, "probkit nn train: %lld parameters, %lld steps, optimiser %s lr %g\n",
            (long long)pk_nn_params_numel(m->params), (long long)total, optname, lr);
    for (long ep = 0; ep < epochs; ep++) {
        char label[64];
        snprintf(label, sizeof label, "epoch %ld/%ld", ep + 1, epochs);
        pg = pk_progress_new(stderr, label, (uint64_t)ntrain, force);
        pk_rng_permutation(&rng, perm, (size_t)ntrain);
        double eloss = 0;
        int64_t ecorrect = 0, eseen = 0;
        double te0 = pk_time_now();
        for (int64_t s = 0; s < ntrain; s += batch, step++) {
            int64_t nb = s + batch < ntrain ? batch : ntrain - s;
            for (int64_t i = 0; i < nb; i++) {
                const float *src = tr.x + (int64_t)perm[s + i] * D;
                if (augment)
                    shift_image(src, xb + i * D, tr.c, tr.h, tr.w, (int)pk_rng_below(&rng, 5) - 2,
                                (int)pk_rng_below(&rng, 5) - 2);
                else
                    memcpy(xb + i * D, src, (size_t)D * sizeof *xb);
                yb[i] = tr.y[perm[s + i]];
            }
            pk_nn_ctx_reset(ctx);
            pk_nn_ctx_set_train(ctx, 1);
            pk_nn_tensor *x = pk_nn_input_copy(ctx, 4, (int64_t[]){nb, tr.c, tr.h, tr.w}, xb);
            pk_nn_tensor *lg = pk_nn_classifier_forward(ctx, m, x);
            pk_nn_tensor *loss = pk_nn_cross_entropy(ctx, lg, yb, (float)smoothing);
            pk_nn_params_zero_grad(m->params);
            if ((st = pk_nn_backward(ctx, loss))) {
                pk_progress_finish(pg);
                rc = pk_cli_fail(C, "step %lld: %s%s", (long long)step, pk_nn_ctx_error(ctx),
                                 st == PK_EDOM ? " (training diverged: try a smaller --lr)" : "");
                goto done;
            }
            pk_nn_optim_step(opt, pk_nn_lr_cosine(step, warm, total, lr, 0.0));
            int64_t K = lg->shape[1];
            for (int64_t i = 0; i < nb; i++) {
                int64_t best = 0;
                for (int64_t k = 1; k < K; k++)
                    if (lg->data[i * K + k] > lg->data[i * K + best])
                        best = k;
                ecorrect += best == yb[i];
            }
            eloss += loss->data[0] * (double)nb;
            eseen += nb;
            double el = pk_time_now() - te0;
            pk_progress_update(pg, (uint64_t)eseen, "loss %.4f acc %.4f %.0f ex/s", eloss / (double)eseen,
                               (double)ecorrect / (double)eseen, el > 0 ? (double)eseen / el : 0.0);
        }
        pk_progress_finish(pg);
        pk_progress_free(pg);
        pg = NULL;
        last_loss = eloss / (double)eseen;
        const dataset *vd = val > 0 ? &tr : &te;
        int64_t vlo = val > 0 ? tr.n - val : 0, vhi = val > 0 ? tr.n : te.n;
        if ((st = evaluate(m, vd, vlo, vhi, &vacc, &vloss, &err))) {
            rc = pk_cli_fail_status(C, st, &err);
            goto done;
        }
        fprintf(stderr, "epoch %ld: train loss %.4f acc %.4f | %s loss %.4f acc %.4f | %.1f s\n", ep + 1, last_loss,
                (double)ecorrect / (double)eseen, val > 0 ? "val" : "test", vloss, vacc, pk_time_now() - t0);
        if ((st = pk_nn_classifier_save(m, out, &err))) {
            rc = pk_cli_fail_status(C, st, &err);
            goto done;
        }
    }
    if ((st = evaluate(m, &te, 0, te.n, &tacc, &tloss, &err))) {
        rc = pk_cli_fail_status(C, st, &err);
        goto done;
    }
    double secs = pk_time_now() - t0;
    fprintf(stderr, "probkit nn train: test accuracy %.4f (loss %.4f) after %ld epochs in %.1f s; saved %s\n", tacc,
            tloss, epochs, secs, out);
    if (json)
        printf("{\"data\": \"%s\", \"model\": \"%s\", \"seed\": %llu, \"epochs\": %ld, \"train_examples\": %lld, "
               "\"train_loss\": %.6f, \"val_accuracy\": %.6f, \"test_accuracy\": %.6f, \"test_loss\": %.6f, "
               "\"seconds\": %.2f, \"parameters\": %lld, \"checkpoint\": \"%s\"}\n",
               set, arch, (unsigned long long)seed, epochs, (long long)ntrain, last_loss, val > 0 ? vacc : tacc,
               tacc, tloss, secs, (long long)pk_nn_params_numel(m->params), out);
    else
        printf("test_accuracy %.4f\n", tacc);
done:
    pk_progress_free(pg);
    pk_nn_optim_free(opt);
    pk_nn_classifier_free(m);
    pk_nn_ctx_free(ctx);
    free(perm);
    free(xb);
    free(yb);
    dataset_free(&tr);
    dataset_free(&te);
    return rc;
}

static int cmd_eval(int argc, char **argv)
{
    const char *C = "nn eval", *set = NULL, *file = NULL;
    int json = 0, splitk = 0;
    const pk_cli_opt opts[] = {
        {"--data", PK_CLI_STR, &set, 0, 0, NULL},
        {"--model-file", PK_CLI_STR, &file, 0, 0, NULL},
        {"--model", PK_CLI_STR, &file, 0, 0, NULL},
        {"--split", PK_CLI_CHOICE, &splitk, 0, 0, "test|train"},
        {"--json", PK_CLI_FLAG, &json, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL},
    };
    int prc = pk_cli_parse(C, HELP, argc, argv, opts, NULL, 0, NULL);
    if (prc >= 0)
        return prc;
    const char *split = splitk ? "train" : "test";
    if (!set || !file)
        return pk_cli_usage(C, "--model-file and --data are required");
    pk_err err = {0};
    pk_nn_classifier *m = NULL;
    int st = pk_nn_classifier_load(file, &m, &err);
    if (st)
        return pk_cli_fail_status(C, st, &err);
    dataset tr = {0}, te = {0};
    double acc = NAN, loss = NAN;
    const dataset *d = !strcmp(split, "test") ? &te : &tr;
    if (!(st = load_set(set, &tr, &te, &err))) {
        if (d->c != m->cfg.channels || d->h != m->cfg.height || d->w != m->cfg.width)
            st = pk_err_set(&err, PK_ESHAPE, "%s: model takes %dx%dx%d images, %s has %lldx%lldx%lld", file,
                            m->cfg.channels, m->cfg.height, m->cfg.width, set, (long long)d->c, (long long)d->h,
                            (long long)d->w);
        else
            st = evaluate(m, d, 0, d->n, &acc, &loss, &err);
    }
    int rc = PK_EXIT_OK;
    if (st)
        rc = pk_cli_fail_status(C, st, &err);
    else if (json)
        printf("{\"model\": \"%s\", \"data\": \"%s\", \"split\": \"%s\", \"examples\": %lld, \"accuracy\": %.6f, "
               "\"loss\": %.6f}\n",
               file, set, split, (long long)d->n, acc, loss);
    else
        printf("%s %s: accuracy %.4f loss %.4f (%lld examples)\n", set, split, acc, loss, (long long)d->n);
    pk_nn_classifier_free(m);
    dataset_free(&tr);
    dataset_free(&te);
    return rc;
}

static int nn_main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(HELP, argc < 2 ? stderr : stdout);
        return argc < 2 ? PK_EXIT_USAGE : PK_EXIT_OK;
    }
    if (!strcmp(argv[1], "train"))
        return cmd_train(argc - 1, argv + 1);
    if (!strcmp(argv[1], "eval"))
        return cmd_eval(argc - 1, argv + 1);
    if (!strcmp(argv[1], "lm"))
        return pk_cli_nn_lm(argc - 1, argv + 1);
    return pk_cli_usage("nn", "unknown subcommand '%s' (train, eval, lm)", argv[1]);
}

const pk_cli_cmd pk_cmd_nn = {"nn", "train / evaluate neural networks (MLP, CNN, byte-level GPT)", nn_main};
