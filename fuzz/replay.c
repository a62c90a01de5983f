/* replay.c — run a libFuzzer target over every file in a directory.
 *
 *   fuzz_idx_replay fuzz/corpus/idx     (what ctest does)
 *
 * Built without -fsanitize=fuzzer this is an ordinary program, so the corpus
 * (including every crasher ever found) is re-checked on each test run, under
 * ASan/UBSan in the sanitizer build.  Exit 0 when all inputs ran; a crash is
 * a crash. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    DIR *d = opendir(argv[1]);
    if (!d) {
        fprintf(stderr, "%s: cannot open directory\n", argv[1]);
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn)
                return 1;
            names = nn;
        }
        names[n] = strdup(e->d_name);
        if (!names[n++])
            return 1;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    size_t ran = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], names[i]);
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        FILE *f = fopen(path, "rb");
        if (!f) {
            fprintf(stderr, "%s: cannot open\n", path);
            return 1;
        }
        size_t len = (size_t)sb.st_size;
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf || fread(buf, 1, len, f) != len) {
            fprintf(stderr, "%s: cannot read\n", path);
            return 1;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        ran++;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    printf("%zu inputs from %s ran\n", ran, argv[1]);
    if (ran == 0) {
        fprintf(stderr, "%s: empty corpus\n", argv[1]);
        return 1;
    }
    return 0;
}
