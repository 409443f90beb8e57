/*
 * lock.h - flock(2) locks shared with Barman.
 *
 * A lock is a dot-file in the lock directory (barman_lock_directory, by
 * default barman_home), e.g. ".main-backup.lock", locked with an exclusive
 * flock. Barman 3 uses the same files and the same kind of lock, so cellar
 * and Barman never run the same operation on a server at once. The holder
 * writes its PID into the file; the file stays on disk after release.
 * Descriptors are close-on-exec so child programs never inherit a lock.
 */
#ifndef CEL_LOCK_H
#define CEL_LOCK_H

#include <sys/types.h>

#include "error.h"

struct lock;

/* Room for a lock file name built by lock_name. */
#define LOCK_NAME_MAX 320

/* ".<server>-<op>.lock", the name Barman uses (op: backup, cron,
 * archive-wal, xlogdb, or a backup ID). */
void lock_name(const char *server, const char *op, char out[LOCK_NAME_MAX]);

/* Take the lock dir/name. With wait false a lock held elsewhere is
 * -CEL_E_LOCKED, naming the holder's PID; with wait true this blocks until
 * the lock is free. *out is released with lock_release(). */
int lock_acquire(const char *dir, const char *name, bool wait, struct lock **out,
                 struct cel_err *err);
/* Release and free; NULL is ignored. The file stays. */
void lock_release(struct lock *l);

/* Is dir/name held by someone? Returns 0 (free, or no file), 1 (held;
 * *holder gets the PID written in the file, 0 if unreadable), or <0 on an
 * error opening the file. Never takes the lock for longer than the test and
 * never rewrites the PID. */
int lock_probe(const char *dir, const char *name, pid_t *holder, struct cel_err *err);

/* Remove the lock files (".*.lock") of dir that nobody holds, as Barman's
 * lock_directory_cleanup does; held ones stay. lock_acquire notices a file
 * removed between its open and its flock and opens it again, so a removal
 * never hands out a lock twice among cellar processes. *removed counts the
 * files removed. */
int lock_cleanup(const char *dir, size_t *removed, struct cel_err *err);

#endif
