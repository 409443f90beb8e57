/*
 * xlogdb.h - the WAL archive's index, the xlog.db of Barman, in Barman's
 * formats and at Barman's places.
 *
 * One line per archived file: "name<TAB>size<TAB>time<TAB>compression" and,
 * since Barman 3.14, "<TAB>encryption", then "\n"; size in bytes after
 * compression, time the file's mtime in seconds since the epoch (a float),
 * compression and encryption a name or "None". Barman reads it by splitting
 * on whitespace and accepts 3, 4 or 5 fields (3.4 accepts 3 or 4 only).
 *
 * Where it is (doc/migrating-from-barman.md, "The WAL catalogue"): Barman up to
 * 3.12 keeps it at wals_directory/xlog.db; Barman 3.13 and later at
 * xlogdb_directory/<server>-xlog.db (xlogdb_directory defaults to
 * wals_directory), and on its first access to a home where that file is
 * missing it writes it and deletes the old wals/xlog.db. A home is
 * "3.4-style" (the old name, 4 fields), "3.13-style" (the new name, 4
 * fields) or "3.14-style" (the new name, 5 fields): xdb_place decides
 * which from what is there and from the configuration, and every reader
 * and writer here goes through it, so cellar writes each home in its own
 * style. Every access holds the flock on .<server>-xlogdb.lock (Barman's
 * too), so reading here never sees a rewrite half done.
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
    char encryption[16];  /* "" when not encrypted (the 5th field, Barman >= 3.14) */
};

struct xdb {
    struct xdb_entry *entries; /* sorted by name */
    size_t n;
};

/* The style of a home's catalogue (cellar_xlogdb_format): which file and
 * how many fields. AUTO decides from what is there (xdb_place). */
enum xdb_format {
    XDB_FORMAT_AUTO = 0,
    XDB_FORMAT_3_4,  /* wals_directory/xlog.db, 4 fields: Barman <= 3.12 */
    XDB_FORMAT_3_13, /* xlogdb_directory/<server>-xlog.db, 4 fields: Barman 3.13 */
    XDB_FORMAT_3_14, /* the same file, 5 fields: Barman >= 3.14 */
};

/* Where a server's catalogue may be, as its configuration says. The
 * strings are borrowed (the configuration's). */
struct xdb_home {
    const char *server;
    const char *wals_dir;   /* wals_directory: the archive, and the old xlog.db */
    const char *xlogdb_dir; /* xlogdb_directory (NULL: wals_dir) */
    bool xlogdb_dir_set;    /* xlogdb_directory is in the configuration (a Barman
                             * >= 3.13 option: the home is new-style) */
    const char *lock_dir;   /* barman_lock_directory */
    enum xdb_format format; /* cellar_xlogdb_format; AUTO decides from the files */
};

/* What xdb_place decided. Strings are owned: xdb_place_free. */
struct xdb_place {
    enum xdb_format style; /* never AUTO */
    char *path;            /* the catalogue read and written */
    char *old_path;        /* wals_dir/xlog.db */
    char *new_path;        /* xlogdb_dir/<server>-xlog.db */
    bool migrate;          /* only old_path exists and the home is new-style: the
                            * next locked access moves it to new_path (as Barman
                            * >= 3.13 does) and deletes old_path */
    bool ignored;          /* both files exist and path is one of them: the other
                            * (named by ignored_path) is not read, as Barman does */
    char *ignored_path;
};

/* Decide which file is the catalogue and its style, without writing:
 *   - cellar_xlogdb_format (h->format) forces the style: 3.4 uses
 *     wals/xlog.db, 3.13 and 3.14 <server>-xlog.db (4 or 5 fields);
 *   - otherwise <server>-xlog.db wins when it exists (as in Barman >= 3.13,
 *     which never reads the old name again): 3.14-style when its last whole
 *     line has 5 fields, else 3.13-style (an empty one too: Barman 3.13
 *     cannot read 5 fields, 3.14 reads 4);
 *   - else the home is new-style when xlogdb_directory is configured
 *     (3.13-style: a present wals/xlog.db is to be migrated), else it is a
 *     3.4 home (wals/xlog.db, present or not).
 * When both files exist, the one not used is named in ignored_path (check
 * says so). Returns 0, or -CEL_E_IO when the new file's tail cannot be
 * read. */
int xdb_place(const struct xdb_home *h, struct xdb_place *out, struct cel_err *err);
void xdb_place_free(struct xdb_place *p);
/* Does h have a catalogue file of either name? (Nothing archived yet when
 * not: readers need not lock.) */
bool xdb_exists(const struct xdb_home *h);
/* The path of the catalogue h uses now (xdb_place's path; on error the
 * new-style name). Caller frees. For messages. */
char *xdb_path(const struct xdb_home *h);
/* A style's name as cellar_xlogdb_format spells it ("3.4", "3.13", "3.14",
 * "auto"). */
const char *xdb_format_name(enum xdb_format f);

/* Parse xlog.db text (len bytes). name is used in messages. Errors are
 * -CEL_E_FORMAT naming the line: a NUL byte, wrong field count, a name that
 * is not a WAL archive file name, a bad size or time. */
int xdb_parse(const char *text, size_t len, const char *name, struct xdb *out,
              struct cel_err *err);
struct lock;

/* Take the server's xlogdb lock (.<server>-xlogdb.lock in lock_dir),
 * waiting for it; Barman holds the same lock around every access. */
int xdb_lock(const char *lock_dir, const char *server, struct lock **out, struct cel_err *err);
/* With the lock held: carry out a migration xdb_place decided (Barman >=
 * 3.13's rename): the old file's bytes written durably to new_path (its
 * directory created), then old_path deleted and its directory fsynced, so
 * there is never a moment with two catalogues that disagree nor none.
 * Nothing to do is 0. Every function below that takes the lock, or is
 * called with it held, does this first. -CEL_E_IO on failure (old_path is
 * then left as it was). */
int xdb_migrate(const struct xdb_home *h, struct cel_err *err);
/* With the lock held: read the catalogue (xdb_place); a missing file is
 * empty. A damaged file is -CEL_E_FORMAT naming the file and line
 * (xdb_parse), with a hint to run rebuild-xlogdb. */
int xdb_read(const struct xdb_home *h, struct xdb *out, struct cel_err *err);

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
int xdb_read_cut(const struct xdb_home *h, struct xdb *out, struct xdb_cut *cut, struct cel_err *err);
/* With the lock held: append n entries in one write and fsync (the file is
 * created 0600 when missing, and its directory fsynced), in the home's
 * style (4 or 5 fields; a line with an encryption has 5). Appending keeps
 * the file sorted only when every new name sorts after the last one; use
 * xdb_rewrite otherwise. On -CEL_E_IO (a full disk, say) the file is
 * truncated back to its old length: no half line is left. */
int xdb_append(const struct xdb_home *h, const struct xdb_entry *entries, size_t n,
               struct cel_err *err);
/* With the lock held: replace the catalogue by db's entries, in the home's
 * style, durably (temp, fsync, rename, directory fsync). Temporary files of
 * earlier rewrites that were killed before their rename are removed first. */
int xdb_rewrite(const struct xdb_home *h, const struct xdb *db, struct cel_err *err);
/* The entry called name, NULL if none. */
const struct xdb_entry *xdb_find(const struct xdb *db, const char *name);
/* Insert or replace an entry, keeping db sorted. */
void xdb_put(struct xdb *db, const struct xdb_entry *e);

/* Read the catalogue holding the server's xlogdb lock (blocking) in
 * h->lock_dir. A missing file is an empty index (no lock taken). Free with
 * xdb_free(). */
int xdb_load(const struct xdb_home *h, struct xdb *out, struct cel_err *err);
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
int xdb_load_newest(const struct xdb_home *h, struct xdb_entry *out, struct cel_err *err);

/* Index of the first entry whose name is >= name (db->n when none). */
size_t xdb_lower_bound(const struct xdb *db, const char *name);

/* Append one line as Barman writes it (time as Python repr of a float):
 * 4 fields, or 5 when five (Barman >= 3.14) or the entry is encrypted. */
void xdb_format_line(const struct xdb_entry *e, bool five, struct strbuf *out);

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
/* Does h's catalogue end in a line without its newline (what a writer
 * killed in its append leaves)? Reads one byte; false when there is no
 * catalogue. */
bool xdb_is_cut(const struct xdb_home *h);
/* The same for many backups in one streaming pass over h's file, without
 * loading it (xlogdb_walinfo.c): scans[i].info for scans[i].b and its
 * next_end_wal, with info.first/last pointing into scans[i]. Takes the
 * xlogdb lock. false when the pass cannot give the loaded way's answer (a
 * last line cut short, a line that does not parse, an unreadable file,
 * backups whose ranges are out of order): then load the index and use
 * xdb_backup_wal_info, which repairs or reports. */
struct xdb_wal_scan {
    const struct cat_backup *b;
    const char *next_end_wal;
    struct xdb_wal_info info;
    char first[WAL_NAME_MAX], last[WAL_NAME_MAX];
};
bool xdb_scan_wal_info(const struct xdb_home *h, struct xdb_wal_scan *scans, size_t n);

#endif
