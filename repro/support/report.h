/* report.h — the context behind repro.h and the report it writes. */
#ifndef PK_REPRO_REPORT_H
#define PK_REPRO_REPORT_H

#include "probkit/core.h"
#include "repro.h"

typedef struct pk_report pk_report;

pk_report *pk_report_new(int quick, uint64_t seed, const char *data_dir);
void pk_report_free(pk_report *r);
/** Run one experiment, collecting what it reports; returns its status. */
int pk_report_run(pk_report *r, const pk_repro *e);
/** Write summary.md, index.html, results.json and the SVGs into dir. */
int pk_report_write(const pk_report *r, const char *dir, pk_err *err);
/** Counts over all rows so far. */
void pk_report_counts(const pk_report *r, int *pass, int *fail, int *info, int *skip);

#endif
