/*
 * cloud_wal_cleanup.h - which WAL objects go with a deleted backup, by
 * barman-cloud-backup-delete 3.4's rules (BackupManager.should_remove_wals,
 * get_timelines_to_protect and the loop of _remove_wals_for_backup).
 *
 * Pure: it reads a catalogue, which backups are already gone, and a WAL
 * listing, and says which WAL to remove; cloud_backup_delete.c does the
 * I/O. Split in two so the WAL is listed only when some may go.
 */
#ifndef CEL_CLOUD_WAL_CLEANUP_H
#define CEL_CLOUD_WAL_CLEANUP_H

#include "cloud_catalog.h"

/* A WAL range a kept-standalone backup needs: begin_wal..end_wal, inclusive. */
struct cloud_wal_range {
    const char *begin, *end;
};

/* Step 1, for backup del of c (gone[i]: backup i deleted already): walking
 * back through the older WAITING_FOR_WALS or DONE backups, one without a
 * keep or kept "full" needs every later WAL: -1, nothing goes. One kept
 * "standalone" needs only its own range, added to ranges (room for c->list.n)
 * — or, with skip_if_standalone (-b), also -1. When the walk ends: the index
 * of the backup WAL is removed up to (the next WAITING_FOR_WALS or DONE
 * backup after del, else del itself). */
int cloud_wal_cleanup_until(const struct cloud_catalog *c, const bool *gone, size_t del,
                            bool skip_if_standalone, struct cloud_wal_range *ranges,
                            size_t *n_ranges);

/* Step 2: of the n wals not yet wal_gone, those to remove: every WAL file
 * named before until's begin_wal, except history files, files of a
 * timeline that another remaining backup is on (until's own excepted), and
 * files in ranges (a backup label compared by its segment). Their keys go
 * into keys (room for n) in listing order, and wal_gone is set for them.
 * Returns how many. */
size_t cloud_wal_cleanup_select(const struct cloud_catalog *c, const bool *gone, size_t del,
                                size_t until, const struct cloud_wal_range *ranges,
                                size_t n_ranges, const struct cloud_wal *wals, size_t n,
                                bool *wal_gone, const char **keys);

#endif
