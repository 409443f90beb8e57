/*
 * cloud_wal_pick.h - the choices cloud-wal-restore makes from a listing of
 * WAL objects, kept apart from the requests so they can be tested alone:
 * which object serves a requested name, which segments to fetch ahead, and
 * where the spool keeps them. (A file being fetched into the spool is
 * ".<wal>.<pid>.part" until it is complete, cloud_wal_io.h: no WAL name
 * matches it, so it is never served.)
 *
 * A listing is what one or two LIST requests of hash directories returned,
 * each key parsed by cloud_key_parse (keys that do not parse are left out,
 * as barman-cloud skips "Unknown WAL file"s). The store lists in key order,
 * which for names of one timeline and log is segment order.
 *
 * Serving a name follows barman-cloud-wal-restore 3.4: the object whose
 * name is exactly the requested one, whatever its compression; for a
 * segment that is not there, its ".partial" (barman-cloud serves a partial
 * for the segment's name, which is how a promoted streaming archive's last
 * segment is replayed); never a backup label.
 *
 * Fetching ahead follows barman-wal-restore --parallel: the segments after
 * the requested one, on its timeline, as long as they follow each other
 * without a gap (the next segment of the same log, or segment 0 of the next
 * log: without the segment size the end of a log is unknown, so a jump to
 * the next log is taken only at its first segment). A gap ends the run:
 * PostgreSQL will ask for the missing segment and stop there.
 */
#ifndef CEL_CLOUD_WAL_PICK_H
#define CEL_CLOUD_WAL_PICK_H

#include "cloud_layout.h"

/* One WAL object of a listing. */
struct cloud_wal_obj {
    char *key;
    struct cloud_key k; /* parsed: name, kind, compression */
    uint64_t size;
    char etag[80]; /* as listed, quotes included */
};

struct cloud_wal_list {
    struct cloud_wal_obj *v;
    size_t n;
};

/* Add a listed key (parsed under prefix); a key that is not a WAL object
 * is skipped. */
void cloud_wal_list_add(struct cloud_wal_list *l, const char *prefix, const char *key,
                        uint64_t size, const char *etag);
void cloud_wal_list_free(struct cloud_wal_list *l);

/* The object serving want (a valid WAL name), or NULL. */
const struct cloud_wal_obj *cloud_wal_pick(const struct cloud_wal_list *l, const char *want);

/* Up to max objects to fetch ahead after segment want, in order, into out;
 * returns how many. None for a history file, label or partial. */
size_t cloud_wal_ahead(const struct cloud_wal_list *l, const char *want, size_t max,
                       const struct cloud_wal_obj **out);

/* The spool directory of one source under base: base/<server>-<16 hex>,
 * the hex a hash of bucket, path and server, so two sources never share
 * (and so never serve each other's) files. A new string. */
char *cloud_spool_dir(const char *base, const char *bucket, const char *path,
                      const char *server);

/* Whether fname is a temporary file of cloud_fetch_to (".<name>.<pid>.part"
 * or ".z"); *pid gets the process that made it. A spool keeps such a
 * file only while that process lives. */
bool cloud_spool_tmp_pid(const char *fname, long *pid);

#endif
