/*
 * wal_archive.h - a server's WAL archive as the ops read and write it:
 * xlog.db under its lock (rebuild_xlogdb.c), the files waiting in incoming/
 * (archive_state.c), the recovery-target index (wal_targets.c), how an
 * archived file is compressed (archived_kind.c), its bytes read back
 * (get_wal.c), and the WAL no backup needs removed (wal_purge.c).
 */
#ifndef CEL_OPS_WAL_ARCHIVE_H
#define CEL_OPS_WAL_ARCHIVE_H

#include <sys/types.h>

#include "catalog.h"
#include "compress.h"
#include "sink.h"
#include "walidx.h"
#include "xlogdb.h"

/* With the server's xlogdb lock held: read xlog.db for the archiver, and
 * repair a last line that a writer killed in its append cut short (no
 * newline): the damaged file is kept as xlog.db.damaged-<UTC stamp>, the
 * archived file(s) the cut line named are catalogued again from wals/ (as
 * rebuild-xlogdb would), xlog.db is rewritten durably, and a warning says
 * so. Any other damage is -CEL_E_FORMAT naming the file and line, with a
 * hint to run rebuild-xlogdb. rebuild_xlogdb.c */
int op_xdb_read_repair(const struct op_ctx *ctx, const struct cfg_server *s, struct xdb *out,
                       struct cel_err *err);
/* xlog.db for a reader (catalogue listings, backup states, switch-wal,
 * get-wal's compression look-up): taken under the server's xlogdb lock and
 * read as op_xdb_read_repair reads it, so a line cut short by a killed
 * writer is repaired by whichever command reads it first, instead of
 * failing every command until the archiver runs. A missing xlog.db is an
 * empty catalogue. Free with xdb_free. rebuild_xlogdb.c */
int op_xdb_load(const struct op_ctx *ctx, const struct cfg_server *s, struct xdb *out,
                struct cel_err *err);

/* When s's home has a WAL catalogue under both names (Barman 3.12's
 * wals/xlog.db and 3.13's <server>-xlog.db), the sentence that says which
 * one is used and which ignored (as Barman >= 3.13 ignores the old one),
 * and what to do; NULL when there is one catalogue. Caller frees. Said by
 * check, archive-wal and rebuild-xlogdb. rebuild_xlogdb.c */
char *op_xdb_ignored_text(const struct op_ctx *ctx, const struct cfg_server *s);
/* op_xdb_ignored_text as a warning through ctx's sink, if any. */
void op_xdb_warn_ignored(const struct op_ctx *ctx, const struct cfg_server *s);

/* Is dir/name a file the archiver takes: a regular file whose name starts
 * with no '.' (temporary files of put-wal and rsync) and does not end in
 * ".tmp"? A stor_keep_fn. */
bool op_wal_is_waiting(const char *dir, const char *name, void *ctx);
/* Take out of names (a sorted listing of the streaming directory) what
 * archive-wal leaves there for pg_receivewal, as Barman 3's streaming
 * archiver does: the newest .partial (the segment being received), or with
 * none the newest complete segment (pg_receivewal finds its position from
 * it). Its slot is freed and set to NULL; older .partial files (the end of
 * a promoted server's old timeline) stay in the list, to be archived under
 * their .partial name. */
struct stor_names;
void op_wal_streaming_keep(struct stor_names *names);
/* Count the files of dir the archiver would take (op_wal_is_waiting; with
 * streaming, what op_wal_streaming_keep leaves for pg_receivewal is left
 * out too) and the mtime of the oldest (0 when none; oldest may be NULL).
 * A missing dir has none. Returns 0 or -CEL_E_IO. */
int op_wal_waiting_count(const char *dir, bool streaming, size_t *n, double *oldest,
                         struct cel_err *err);

/* The recovery-target index of the archive (walidx.h), wal_targets.c.
 * op_targets_load: take s's xlogdb lock, read xlog.db and the index, read
 * the records of every archived segment (and .partial) the index does not
 * know yet, decompressed (this is how a Barman home gets its index: on
 * first need; it can take a while on a big archive, announced with a
 * "targets" phase), and again the segment after one of them that ends
 * inside a record (walrec.h: that segment completes it), drop what xlog.db no longer lists, save the index when
 * it changed, and return it in *idx (free with widx_free). A segment that
 * cannot be read, or an index that cannot be saved, is a warning; errors
 * are xlog.db's (-CEL_E_FORMAT, -CEL_E_IO) or its lock's. Blocks. */
int op_targets_load(const struct op_ctx *ctx, const struct cfg_server *s, struct widx *idx,
                    struct cel_err *err);
/* The same with the xlogdb lock held and xdb read by the caller;
 * from_scratch ignores the saved index and reads every segment again
 * (rebuild-xlogdb). */
int op_targets_refresh(const struct op_ctx *ctx, const struct cfg_server *s, const struct xdb *xdb,
                       bool from_scratch, struct widx *idx, struct cel_err *err);
/* archive-wal, with the xlogdb lock held, once the n files names[] are
 * archived: read the records of the segments among them from their plain
 * copies plain[] (still in incoming/) into the index, completing a record
 * cut by the end of the segment before (names[] are in WAL order; the
 * first one's predecessor's tail is read from the index). Failures are
 * warnings; a segment left out is read from the archive on first need. */
void op_targets_note_archived(const struct op_ctx *ctx, const struct cfg_server *s,
                              const char *const *names, const char *const *plain, size_t n);

/* The compression of the archived file path (called name): by its magic
 * bytes. When no magic matches: with compression = custom and no
 * custom_compression_magic, xlog.db's record of the file decides (Barman's
 * rule); otherwise the file is uncompressed only when walcheck finds it is
 * the plain file its name says, else xlog.db's record decides. index is
 * xlog.db when given, else it is read (never pass NULL while holding the
 * xlogdb lock). A file xlog.db does not list (or lists as uncompressed,
 * though it is not plain) is custom, as Barman assumes: never plain bytes
 * nothing decompressed. -CEL_E_IO when the file cannot be read. */
int op_archived_kind(const struct op_ctx *ctx, const struct cfg_server *s, const char *path,
                     const char *name, const struct xdb *index, enum comp_kind *out,
                     struct cel_err *err);

/* Is the archived file path a GnuPG message (encryption = gpg)? 0 with
 * *yes set, or -CEL_E_IO. */
int op_archived_encrypted(const char *path, bool *yes, struct cel_err *err);

/* The passphrase of encryption_passphrase_command (run once per process and
 * command; free with gpg_pass_free). -CEL_E_CONFIG when none is configured
 * ("encrypted WHAT detected, ..."; what: "WAL file 'NAME'", "backup 'ID'"),
 * gpg_passphrase's errors when it fails. */
int op_gpg_passphrase(const struct cfg_server *s, const char *what, char **pass, size_t *len,
                      struct cel_err *err);

/* The archived file path with its encryption taken off: when it is a GnuPG
 * message, it is decrypted (with the passphrase encryption_passphrase_command
 * gives) into an anonymous memory file, *fd, named by *plain
 * ("/proc/self/fd/N"), to be read as the archived file is read; else *plain
 * is a copy of path and *fd is -1. Free *plain, close *fd >= 0. Nothing is
 * written anywhere when decryption fails (-CEL_E_CONFIG: no
 * encryption_passphrase_command, a bad passphrase, no private key). */
int op_wal_decrypted(const struct cfg_server *s, const char *path, const char *name,
                     char **plain, int *fd, struct cel_err *err);

/* Decompress the archived file name of s into dir/name durably (as
 * get-wal --output-directory does); index, when not NULL, is xlog.db for
 * telling custom compression apart. get_wal.c */
int op_wal_restore(const struct op_ctx *ctx, const struct cfg_server *s, const struct xdb *index,
                   const char *name, const char *dir, uint64_t *bytes, struct cel_err *err);
/* The archived file name of s, decompressed, in memory: *buf (caller
 * frees; NUL-terminated after its *len bytes). Files over max bytes are
 * -CEL_E_FORMAT; a file the archive does not have -CEL_E_NOT_FOUND; others
 * as op_wal_restore. Decompression goes through an unlinked temporary
 * file. get_wal.c */
int op_wal_read(const struct op_ctx *ctx, const struct cfg_server *s, const struct xdb *index,
                const char *name, size_t max, unsigned char **buf, size_t *len,
                struct cel_err *err);

/* Remove the archived WAL no backup needs once boundary is the oldest
 * backup that needs any (Barman's rules, wal_purge.c): list is the
 * server's catalogue, skip the index of a backup being deleted (-1: none).
 * *removed counts the files removed. */
int op_wal_remove_before(const struct op_ctx *ctx, const struct cfg_server *s,
                         const struct cat_backup *boundary, const struct cat_list *list,
                         ssize_t skip, size_t *removed, struct cel_err *err);
/* Remove the archived WAL older than the server's first complete backup
 * (Barman does this when the first backup completes). wal_purge.c */
int op_wal_purge_before_first(const struct op_ctx *ctx, const struct cfg_server *s,
                              struct cel_err *err);

#endif
