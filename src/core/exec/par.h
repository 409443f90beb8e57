/*
 * par.h - run one job over many items in worker processes.
 *
 * For CPU-bound work on independent items (compressing WAL segments, say):
 * par_run forks up to `workers` children, hands each the next item index as
 * soon as it is free (so a slow item does not hold up the others), and
 * collects a fixed-size result per item. The job runs in the child: it may
 * read and write files, but what it wants the parent to know must be in its
 * result. With one worker (or one item) the job runs in the calling process.
 *
 * Children die with the parent (PR_SET_PDEATHSIG) and never flush the
 * parent's stdio buffers (they leave with _exit). A child that dies without
 * answering gets its item marked failed, never silently dropped.
 */
#ifndef CEL_PAR_H
#define CEL_PAR_H

#include "error.h"

/* Largest result a job may return (pipe writes up to PIPE_BUF are atomic). */
#define PAR_RESULT_MAX 3072

/* The job: work on item, fill result (result_size bytes, zeroed before the
 * call). Its return value is stored in status[item]. */
typedef int (*par_job)(size_t item, void *ctx, void *result, size_t result_size);

/* Run job on items 0..n-1 with up to workers processes (0: the number of
 * CPUs). results must hold n * result_size bytes; status n ints. Returns 0
 * when every item ran (look at status[] for each item's outcome), or an
 * error when workers could not be started; an item whose worker died gets
 * status -CEL_E_INTERNAL and a zeroed result. */
int par_run(size_t n, int workers, par_job job, void *ctx, void *results, size_t result_size,
            int *status, struct cel_err *err);

/* Number of online CPUs (at least 1). */
int par_cpus(void);

#endif
