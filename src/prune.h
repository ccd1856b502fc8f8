/* prune.h - deleting the rows that can no longer matter: carebox-admin prune and the worker's hourly prune job run this same code. */
#ifndef CAREBOX_PRUNE_H
#define CAREBOX_PRUNE_H

#include <libpq-fe.h>

#include "jobs.h"

/* What prune_run() tells its caller after each table: how many rows of
 * `table` it removed and whether it stopped there (`failed`: a database
 * error, already logged). */
typedef void prune_report_fn(void *arg, const char *table, long removed, int failed);

/* Deletes the dead rows of each table (sessions, form tokens, login
 * failures, address counts, drafts, sign-in steps, one-time links,
 * finished jobs) on connection `c`, in batches of at most `batch` rows,
 * each batch a statement (and, outside a transaction, a transaction) of
 * its own, so no lock is held for long and it is safe while carebox
 * serves; the audit log is never pruned. Calls `report` (may be NULL)
 * after each table. Returns 0, or -1 at the first database error. */
int prune_run(PGconn *c, long batch, prune_report_fn *report, void *arg);

/* The job kind "prune" (src/jobs.c runs it hourly): prune_run() in
 * batches of 1000 on the worker's connection; a database error is a
 * retry. */
enum job_outcome prune_job(struct job *j);

#endif
