/*
 * xlogdb.h - the WAL archive's index, wals/xlog.db, in Barman's format.
 *
 * One line per archived file: "name<TAB>size<TAB>time<TAB>compression\n",
 * size in bytes after compression, time the file's mtime in seconds since
 * the epoch (a float), compression a name or "None". Barman reads it by
 * splitting on whitespace and also accepts 3 fields (no compression) from
 * old versions. Every access holds the flock on .<server>-xlogdb.lock, so
 * reading here never sees a rewrite half done.
 *
 * Barman keeps the file sorted by name; readers here sort when it is not,
 * so lookups by name are binary searches.
 */
#ifndef CEL_XLOGDB_H
#define CEL_XLOGDB_H

#include "catalog.h"
#include "error.h"
#include "strbuf.h"
#include "wal.h"

struct xdb_entry {
    char name[WAL_NAME_MAX];
    uint64_t size;
    double time;
    char compression[16]; /* "" when the file is stored uncompressed */
};

struct xdb {
    struct xdb_entry *entries; /* sorted by name */
    size_t n;
};

/* Parse xlog.db text (len bytes). name is used in messages. Errors are
 * -CEL_E_FORMAT naming the line: a NUL byte, wrong field count, a name that
 * is not a WAL archive file name, a bad size or time. */
int xdb_parse(const char *text, size_t len, const char *name, struct xdb *out,
              struct cel_err *err);
struct lock;

/* Take the server's xlogdb lock (.<server>-xlogdb.lock in lock_dir),
 * waiting for it; Barman holds the same lock around every access. */
int xdb_lock(const char *lock_dir, const char *server, struct lock **out, struct cel_err *err);
/* With the lock held: read wals_dir/xlog.db; a missing file is empty. A
 * damaged file is -CEL_E_FORMAT naming the file and line (xdb_parse), with
 * a hint to run rebuild-xlogdb. */
int xdb_read(const char *wals_dir, struct xdb *out, struct cel_err *err);

/* A last line without its newline: what a writer killed in the middle of
 * its append leaves. Barman writes a line in one write(), so such a line
 * may be cut anywhere, even where what is left still parses (a size of
 * "167" for 16777216): it is never trusted. */
struct xdb_cut {
    bool cut;                  /* there was such a line; it is not in the entries */
    int line;                  /* its line number */
    char prefix[WAL_NAME_MAX]; /* its first field (at most WAL_NAME_MAX - 1 bytes) */
    bool whole_name;           /* prefix is a WAL name followed by whitespace, so
                                * whole; otherwise the name may be cut short too */
};
/* xdb_read for those who repair what a killed writer left (archive-wal):
 * a last line without its newline is left out of *out and described in
 * *cut; everything before it must parse, as for xdb_read. */
int xdb_read_cut(const char *wals_dir, struct xdb *out, struct xdb_cut *cut, struct cel_err *err);
/* With the lock held: append n entries in one write and fsync (the file is
 * created 0600 when missing, and its directory fsynced). Appending keeps
 * the file sorted only when every new name sorts after the last one; use
 * xdb_rewrite otherwise. On -CEL_E_IO (a full disk, say) the file is
 * truncated back to its old length: no half line is left. */
int xdb_append(const char *wals_dir, const struct xdb_entry *entries, size_t n,
               struct cel_err *err);
/* With the lock held: replace xlog.db by db's entries, durably (temp,
 * fsync, rename, directory fsync). Temporary files of earlier rewrites that
 * were killed before their rename are removed first. */
int xdb_rewrite(const char *wals_dir, const struct xdb *db, struct cel_err *err);
/* The entry called name, NULL if none. */
const struct xdb_entry *xdb_find(const struct xdb *db, const char *name);
/* Insert or replace an entry, keeping db sorted. */
void xdb_put(struct xdb *db, const struct xdb_entry *e);

/* Read wals_dir/xlog.db holding the server's xlogdb lock (blocking) in
 * lock_dir. A missing file is an empty index. Free with xdb_free(). */
int xdb_load(const char *wals_dir, const char *lock_dir, const char *server, struct xdb *out,
             struct cel_err *err);
void xdb_free(struct xdb *db);

/* The newest archived file without reading all of xlog.db (a busy server's
 * has millions of lines): the entry with the latest time among the file's
 * last lines (those in its last 4 KiB, and always one whole line), read
 * holding the server's xlogdb lock as xdb_load does (blocking while
 * another process holds it). Appends go to the end, so the newest file is
 * among them even after an out-of-order rewrite of a few names. Returns 1
 * with *out set, 0 when xlog.db is missing (no lock taken) or empty, or
 * -CEL_E_FORMAT (the message names the file and "last lines") /
 * -CEL_E_IO. */
int xdb_load_newest(const char *wals_dir, const char *lock_dir, const char *server,
                    struct xdb_entry *out, struct cel_err *err);

/* Index of the first entry whose name is >= name (db->n when none). */
size_t xdb_lower_bound(const struct xdb *db, const char *name);

/* Append one line as Barman writes it (time as Python repr of a float). */
void xdb_format_line(const struct xdb_entry *e, struct strbuf *out);

/* What Barman's get_wal_info reports for a backup: the WAL files from its
 * begin_wal up to next_end_wal (the end_wal of the next backup, NULL when it
 * is the newest), on its timeline or older ones, segments only. wal_* are
 * those up to the backup's end_wal (needed to restore it), until_next_* the
 * rest. Ratios and rate are 0 when they cannot be computed. */
struct xdb_wal_info {
    uint64_t wal_num, wal_size;
    uint64_t until_next_num, until_next_size;
    const char *first, *last; /* entry names, NULL when none */
    double first_time, last_time;
    double wals_per_second;
    double compression_ratio, until_next_compression_ratio;
};
void xdb_backup_wal_info(const struct xdb *db, const struct cat_backup *b,
                         const char *next_end_wal, struct xdb_wal_info *out);

#endif
