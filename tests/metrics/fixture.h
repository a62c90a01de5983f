/* Reading the `name v1 v2 ...` fixture files written by tests/ref/metrics_*.py. */
#ifndef PK_METRICS_FIXTURE_H
#define PK_METRICS_FIXTURE_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Calls fn(name, values, nvalues, ctx) for every line. Returns 0, or -1 if the file is missing. */
static int fixture_each(const char *file, void (*fn)(const char *, const double *, size_t, void *), void *ctx)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/metrics/%s", PK_FIXTURES, file);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open fixture %s\n", path);
        return -1;
    }
    size_t cap = 1 << 16;
    char *line = malloc(cap);
    double *v = malloc(cap * sizeof *v);
    while (line && v && fgets(line, (int)cap, f)) {
        char name[64];
        char *s = line, *end;
        int k = 0;
        if (sscanf(s, "%63s%n", name, &k) != 1)
            continue;
        s += k;
        size_t nv = 0;
        for (;;) {
            double d = strtod(s, &end);
            if (end == s)
                break;
            v[nv++] = d;
            s = end;
        }
        fn(name, v, nv, ctx);
    }
    free(line);
    free(v);
    fclose(f);
    return 0;
}
#endif
