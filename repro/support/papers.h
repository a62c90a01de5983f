#ifndef PK_REPRO_PAPERS_H
#define PK_REPRO_PAPERS_H

typedef struct pk_paper {
    const char *id;
    const char *title;
    const char *module;
    int survey; /* 1: describes no system to build */
} pk_paper;

/** Terminated by an entry with id == NULL. */
extern const pk_paper pk_papers[];

#endif
