/*
 * cloud_tar.h - one of a backup's tar archives (data.tar, OID.tar, with
 * their compression), written member by member straight into the store.
 *
 * barman-cloud-backup's CloudTarUploader and CloudUploadController in C:
 * the caller adds directories, files and in-memory members; the bytes go
 * through the compressor into a multipart upload (s3_upload, its parts
 * sent in parallel) with nothing staged on disk. Once the stored bytes of
 * the current archive pass max_size, the next member starts a new archive
 * named with the next part number ("data_0001.tar.gz"), as barman-cloud
 * splits: between members, so an archive ends past max_size by at most one
 * member.
 *
 * A file read while PostgreSQL writes it is taken as barman-cloud's
 * TarFileIgnoringTruncate takes it: its size is the one lstat gave before
 * the read; a file that vanished before it was opened is skipped; one that
 * shrank meanwhile is padded with zeros to that size; one that grew is cut
 * at it. WAL replay from the backup's start repairs all three.
 *
 * An archive that is not closed (an error, cancel, cloud_tar_free before
 * cloud_tar_close) is never completed in the store: its multipart upload is
 * aborted, so no partial object appears under its name. Blocks; one thread
 * (s3_upload's) reads what the caller's thread writes.
 */
#ifndef CEL_CLOUD_TAR_H
#define CEL_CLOUD_TAR_H

#include <sys/stat.h>

#include "cloud_layout.h"
#include "error.h"
#include "s3_client.h"

struct cloud_tar_opts {
    struct s3_client *s3; /* unused by the caller's thread while the archive is open */
    const char *prefix, *server, *backup_id; /* the key (cloud_backup_key) */
    enum cloud_key_kind kind;                /* CLOUD_KEY_DATA_TAR or CLOUD_KEY_TBS_TAR */
    uint32_t oid;                            /* TBS_TAR */
    enum cloud_comp comp;                    /* none, gzip or bzip2 */
    uint64_t max_size;                       /* split past this many stored bytes; 0: never */
    int parallel;                            /* parts in flight; 0: s3_upload's default */
    const volatile int *cancel;              /* non-zero: stop at the next write */
};

/* What one archive (all its parts) took, for copy_stats. */
struct cloud_tar_stats {
    double start, end;  /* ts_monotonic() at the first part's start, the last part's end */
    double serialized;  /* the parts' upload times added up */
    uint64_t tar_bytes; /* before compression */
    uint64_t stored;    /* bytes in the store */
    uint64_t members;
    unsigned archives;  /* parts: data.tar, data_0001.tar, ... */
    unsigned truncated; /* files that shrank while read (padded) */
    unsigned vanished;  /* entries gone before they were read (skipped) */
};

struct cloud_tar;

/* Start the archive's first part. -CEL_E_INVALID for a bad key or
 * compression, -CEL_E_IO when the upload thread cannot start. */
int cloud_tar_open(const struct cloud_tar_opts *o, struct cloud_tar **out, struct cel_err *err);

/* Add the directory, regular file or symbolic link at path (lstat: a link
 * is stored as a link, but a link to a directory as an empty directory:
 * pg_wal made by initdb -X) as arcname. An entry that no longer exists is
 * skipped (*added false; may be NULL); sockets and the like too. */
int cloud_tar_add_path(struct cloud_tar *t, const char *path, const char *arcname, bool *added,
                       struct cel_err *err);
/* Add len bytes of buf as the regular file arcname, owned as st says (its
 * uid, gid and mtime; mode 0600). */
int cloud_tar_add_data(struct cloud_tar *t, const char *arcname, const void *buf, size_t len,
                       const struct stat *st, struct cel_err *err);

/* One directory tree (PGDATA or a tablespace) at src: its root as ".", as
 * barman-cloud's os.walk gives it, then what it holds, directories before
 * their contents, in name order; what the rsync-style include and exclude
 * patterns (rsync_filter.h; either may be NULL) leave out is not added, an
 * excluded directory not descended. For cloud-backup and the copy of a
 * server's backups (cloud_copy_backup.c). */
int cloud_tar_add_tree(struct cloud_tar *t, const char *src, const char *const *include,
                       const char *const *exclude, struct cel_err *err);

/* End the archive: the tar trailer, the compressor's end, the upload
 * completed. Errors are the store's (why the upload failed) when it failed. */
int cloud_tar_close(struct cloud_tar *t, struct cel_err *err);
/* After close (or anytime, for what was done so far). */
void cloud_tar_get_stats(const struct cloud_tar *t, struct cloud_tar_stats *out);
/* The key of the part being written (for messages). Borrowed. */
const char *cloud_tar_key(const struct cloud_tar *t);
/* Free; an archive not closed is abandoned (its upload aborted). */
void cloud_tar_free(struct cloud_tar *t);

/* barman-cloud's --max-archive-size: an integer of bytes, or a number with
 * a unit KB, MB, GB, TB, PB... (powers of 1024) or KiB, MiB... (powers of
 * 1000: barman-cloud 3.4's reading, kept so the same option means the same
 * size), case-insensitive. 0 or -CEL_E_INVALID for anything else or a
 * size below 1. */
int cloud_size_parse(const char *text, uint64_t *out, struct cel_err *err);

#endif
