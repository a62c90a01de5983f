/* cli_tune.h — the pieces of `probkit tune` shared by tools/cmd_tune.c
 * (options, study loop, report), tools/cli_tune_journal.c (trials and the
 * append-only journal) and tools/cli_tune_trial.c (running one trial). */
#ifndef PK_CLI_TUNE_H
#define PK_CLI_TUNE_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "probkit/bo.h"

typedef struct trial {
    int64_t id;
    int ok;        /* 1 ok, 0 failed, 2 infeasible */
    double value, duration;
    double *u, *v; /* unit and native values */
} trial;

typedef struct slot {
    pid_t pid;
    int64_t id, ticket;
    double *u, *v;
    double start;
    char out[512], errf[512];
} slot;

typedef struct study {
    pk_bo_space *space;
    json_t *space_json;
    pk_bo *bo;
    char **cmd;
    int ncmd;
    const char *journal;
    int jfd;
    trial *trials;
    size_t ntrials, cap;
    int64_t next_id;
    int maximize;
    double timeout;
    char tmpdir[256];
} study;

/* 1 if objective value a is better than b in the study's sense */
int tune_better(const study *s, double a, double b);
/* append a copy of t (its u, v are copied); PK_ENOMEM */
int tune_add_trial(study *s, const trial *t);
/* {"name": value, ...} of native values v (NULL on no memory) */
json_t *tune_params_json(const study *s, const double *v);
/* write obj as one JSON line to the journal and fsync it (obj stays the
 * caller's); 0, or -1 with errno */
int tune_journal_line(study *s, json_t *obj);
/* journal record of a finished trial (error: why it failed, or NULL) */
int tune_journal_trial(study *s, const trial *t, const char *error);
/* read an existing journal (--resume): check its header against the space,
 * method and seed, replay its trials into the optimiser; CLI exit status */
int tune_journal_load(study *s, const char *method, uint64_t seed);
void tune_study_free(study *s);
/* 1 if argv[0] of a trial can be executed (path or PATH lookup) */
int tune_command_exists(const char *c);
/* fork the trial of slot sl (its u, v already chosen), output to files in
 * the study's temporary directory; 0, or -1 with errno */
int tune_start_trial(study *s, slot *sl);
/* read a finished trial's output, journal and record it, tell the
 * optimiser; 0 or a CLI exit status */
int tune_finish_trial(study *s, slot *sl, int status, int timed_out);

#endif
