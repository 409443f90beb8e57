/*
 * manifest.h - backup_manifest in PostgreSQL's format, so pg_verifybackup
 * can check a copy cellar made with rsync.
 *
 * PostgreSQL 13 and later describe a base backup in a JSON file,
 * backup_manifest, at the top of the data directory: format version 1, one
 * entry per file (path relative to the data directory, size, modification
 * time, checksum), the WAL ranges the backup needs, and a SHA-256 checksum
 * of the manifest itself. pg_verifybackup reads it, checks the manifest's
 * checksum, then every file's presence, size and checksum.
 *
 * Files of tablespaces are listed as pg_tblspc/<oid>/..., as pg_basebackup
 * lists them; manifest_write reaches them by following the pg_tblspc/<oid>
 * symbolic links of the copy. backup_manifest itself and everything under
 * pg_wal/ are left out (pg_verifybackup ignores them too). Checksums are
 * CRC32C, pg_basebackup's default.
 */
#ifndef CEL_MANIFEST_H
#define CEL_MANIFEST_H

#include "error.h"

struct manifest_wal_range {
    uint32_t tli;
    uint64_t start_lsn, end_lsn;
};

/* Write datadir/backup_manifest for the files under datadir and the WAL
 * ranges given (in the order given; PostgreSQL lists the newest timeline
 * first), durably (temp, fsync, rename, directory fsync). Every regular file
 * is read in full, so this takes as long as reading the backup once; it
 * blocks. Files are listed sorted by path; symbolic links other than
 * pg_tblspc/<oid>, sockets, FIFOs and devices are not listed. Returns 0, or
 * -CEL_E_IO naming the file or directory that could not be read or written
 * (a missing datadir, a dangling tablespace link included); the previous
 * backup_manifest, if any, is then left as it was. */
int manifest_write(const char *datadir, const struct manifest_wal_range *ranges, size_t n,
                   struct cel_err *err);

/* As manifest_write, for a copy made with hard links to an earlier one
 * (reuse_backup = link): a file that is the same inode as the file at the
 * same path under prev_datadir takes its checksum from
 * prev_datadir/backup_manifest (read with manifest_read: a manifest whose
 * own checksum fails is not trusted) instead of being read again (its content
 * is the earlier copy's, byte for byte). prev_datadir NULL, or without a
 * readable manifest: every file is read. *reused (may be NULL) counts the
 * files whose checksum was taken over. */
int manifest_write_reusing(const char *datadir, const char *prev_datadir,
                           const struct manifest_wal_range *ranges, size_t n, uint64_t *reused,
                           struct cel_err *err);

/* A backup_manifest read back: what manifest_read found. */
enum manifest_algo {
    MANIFEST_ALGO_NONE,   /* "NONE", or no checksum: the size alone is checked */
    MANIFEST_ALGO_CRC32C,
    MANIFEST_ALGO_SHA256,
    MANIFEST_ALGO_OTHER,  /* SHA224, SHA384, SHA512: not computed here */
};

struct manifest_file {
    char *path; /* relative to the data directory, decoded (JSON escapes, Encoded-Path) */
    uint64_t size;
    enum manifest_algo algo;
    char algo_name[16];          /* as written, for messages */
    unsigned char checksum[32];  /* the bytes as written (CRC32C: memory order) */
    size_t checksum_len;
};

struct manifest {
    struct manifest_file *files; /* sorted by path (bytewise) */
    size_t n_files;
    struct manifest_wal_range *ranges; /* in the order written */
    size_t n_ranges;
};

/* Read the backup_manifest at path, as PostgreSQL 13 and later write it
 * (version 1 or 2; pg_basebackup's and manifest_write's alike: one file or
 * WAL range per line), and check its own SHA-256 ("Manifest-Checksum").
 * Returns 0 with *out filled (free with manifest_free); -CEL_E_IO when it
 * cannot be read; -CEL_E_FORMAT ("invalid backup manifest '<path>': line N:
 * why", or "manifest checksum mismatch") when it is damaged. Blocks. */
int manifest_read(const char *path, struct manifest *out, struct cel_err *err);
/* manifest_read on the len bytes at text (not necessarily NUL-terminated;
 * path names it in messages). Does not block. */
int manifest_parse(const char *text, size_t len, const char *path, struct manifest *out,
                   struct cel_err *err);
void manifest_free(struct manifest *m);
/* The entry of path, or NULL: a pointer into m, valid until manifest_free. */
const struct manifest_file *manifest_find(const struct manifest *m, const char *path);

/* CRC-32C (Castagnoli) of buf, continuing from crc (start with 0):
 * manifest_crc32c(manifest_crc32c(0, a), b) is the CRC of a followed by b.
 * Uses the CPU's crc32 instruction (SSE4.2) when it has one. Thread-safe. */
uint32_t manifest_crc32c(uint32_t crc, const void *buf, size_t len);
/* The same CRC, always from the portable table-driven code, and whether
 * manifest_crc32c uses the CPU instead: for tests and measurements. */
uint32_t manifest_crc32c_portable(uint32_t crc, const void *buf, size_t len);
bool manifest_crc32c_uses_cpu(void);

/* SHA-256 of a byte stream. */
struct manifest_sha256 {
    uint32_t h[8];
    uint64_t bytes;
    unsigned char block[64];
    size_t used;
};
void manifest_sha256_init(struct manifest_sha256 *s);
void manifest_sha256_update(struct manifest_sha256 *s, const void *buf, size_t len);
void manifest_sha256_final(struct manifest_sha256 *s, unsigned char out[32]);

#endif
