/*
 * cloud_layout.h - the object names of barman-cloud's layout in a bucket,
 * both ways: building the key of a WAL file or backup file, and reading a
 * listed key back into what it names.
 *
 * barman-cloud 3.4 (barman/clients/cloud_walarchive.py and barman/cloud.py)
 * writes, under the path of the bucket URL (PREFIX, possibly empty):
 *
 *   PREFIX/SERVER/wals/<hash>/<name>[<ext>]   a segment, a partial segment
 *                                             or a backup label; <hash> is
 *                                             the first 16 hex digits of the
 *                                             name, upper case ("%08X%08X")
 *   PREFIX/SERVER/wals/<name>[<ext>]          a history file (its hash
 *                                             directory is empty, and
 *                                             os.path.join drops it)
 *   PREFIX/SERVER/base/<ID>/backup.info       a backup's metadata
 *   PREFIX/SERVER/base/<ID>/data[_NNNN].tar[<ext>]
 *                                             PGDATA (and the configuration
 *                                             files) as tar; "_0001" and up
 *                                             for the further parts when an
 *                                             archive grows past
 *                                             --max-archive-size
 *   PREFIX/SERVER/base/<ID>/<OID>[_NNNN].tar[<ext>]
 *                                             one tablespace, by its OID
 *
 * <ext> is the compression: none, ".gz" (-z), ".bz2" (-j) or ".snappy"
 * (--snappy) in 3.4, for WAL files of every kind and for tar files alike.
 * Later barman-cloud versions add ".xz", ".zst" and ".lz4"; they are read
 * and written here with those names, but barman-cloud 3.4 ignores such WAL
 * objects (its get_wal_paths() allows one suffix of .gz, .bz2, .snappy).
 *
 * Key building and parsing are inverse: cloud_key_parse accepts a key only
 * when building the key from what it parsed gives the same bytes back, so
 * "_0000", "_01", a lower-case hash directory, a history file under a hash
 * directory or a segment outside its own are all refused, each with its
 * reason. Nothing here allocates except the keys returned by the builders.
 */
#ifndef CEL_CLOUD_LAYOUT_H
#define CEL_CLOUD_LAYOUT_H

#include "compress.h"
#include "error.h"
#include "strbuf.h"
#include "wal.h"

/* A server name in a key: 1 to 255 bytes, no '/', no control character,
 * not "." or "..". Room for it and a NUL: */
#define CLOUD_SERVER_MAX 256

enum cloud_comp {
    CLOUD_COMP_NONE,
    CLOUD_COMP_GZIP,   /* .gz */
    CLOUD_COMP_BZIP2,  /* .bz2 */
    CLOUD_COMP_SNAPPY, /* .snappy */
    CLOUD_COMP_XZ,     /* .xz (later barman-cloud) */
    CLOUD_COMP_ZSTD,   /* .zst (later barman-cloud) */
    CLOUD_COMP_LZ4,    /* .lz4 (later barman-cloud) */
};

/* "" for none, else ".gz", ".bz2", ".snappy", ".xz", ".zst", ".lz4". Static. */
const char *cloud_comp_ext(enum cloud_comp comp);
/* "none", "gzip", "bzip2", "snappy", "xz", "zstd", "lz4". Static. */
const char *cloud_comp_name(enum cloud_comp comp);
/* The compressor that reads and writes comp's objects: -CEL_E_INVALID for
 * snappy and xz, which cellar neither reads nor writes. */
int cloud_comp_kind(enum cloud_comp comp, enum comp_kind *out, struct cel_err *err);

enum cloud_key_kind {
    CLOUD_KEY_WAL,         /* wals/...: any WAL archive file */
    CLOUD_KEY_BACKUP_INFO, /* base/ID/backup.info */
    CLOUD_KEY_DATA_TAR,    /* base/ID/data[_NNNN].tar[ext] */
    CLOUD_KEY_TBS_TAR,     /* base/ID/OID[_NNNN].tar[ext] */
};

/* What a key names. Fields that do not apply to the kind are zero/empty. */
struct cloud_key {
    enum cloud_key_kind kind;
    char server[CLOUD_SERVER_MAX];
    enum cloud_comp comp;     /* WAL and tar kinds */
    char wal[WAL_NAME_MAX];   /* WAL: the file name as stored, without <ext> */
    struct wal_name wal_name; /* WAL: the name parsed */
    char backup_id[16];       /* backup kinds: YYYYMMDDTHHMMSS */
    uint32_t oid;             /* TBS_TAR: the tablespace OID (1 and up) */
    unsigned part;            /* tar kinds: 0 for the first file, n for "_NNNN" */
};

/* 0 when server can name a server in a key (see CLOUD_SERVER_MAX), else
 * -CEL_E_INVALID with a message quoting it and saying why. */
int cloud_server_check(const char *server, struct cel_err *err);

/* The key of WAL file wal_name (a bare file name, validated as
 * wal_name_parse does) of server under prefix (as cloud_url_parse leaves
 * it: no leading or trailing '/'; may be ""), compressed with comp.
 * Returns a new string the caller frees, or NULL with -CEL_E_INVALID in
 * err for a bad server or WAL name. */
char *cloud_wal_key(const char *prefix, const char *server, const char *wal_name,
                    enum cloud_comp comp, struct cel_err *err);
/* "PREFIX/SERVER/wals/", the prefix every WAL key of server starts with
 * (list it to find them all). NULL with err for a bad server name. */
char *cloud_wals_prefix(const char *prefix, const char *server, struct cel_err *err);
/* "PREFIX/SERVER/base/", under which each backup is a "directory". NULL
 * with err for a bad server name. */
char *cloud_base_prefix(const char *prefix, const char *server, struct cel_err *err);
/* "PREFIX/SERVER/base/ID/", the objects of one backup. NULL with err for a
 * bad server name or a backup ID that is not YYYYMMDDTHHMMSS. */
char *cloud_backup_prefix(const char *prefix, const char *server, const char *backup_id,
                          struct cel_err *err);
/* The key of one backup object: kind BACKUP_INFO (comp, oid and part
 * ignored), DATA_TAR (oid ignored) or TBS_TAR (oid >= 1). NULL with
 * -CEL_E_INVALID for a bad server, ID, kind or OID 0. */
char *cloud_backup_key(const char *prefix, const char *server, const char *backup_id,
                       enum cloud_key_kind kind, uint32_t oid, unsigned part, enum cloud_comp comp,
                       struct cel_err *err);
/* The key of k under prefix: the inverse of cloud_key_parse. NULL with
 * -CEL_E_INVALID when k holds a bad server, name, ID or OID. */
char *cloud_key_format(const char *prefix, const struct cloud_key *k, struct cel_err *err);

/* Read a key listed under prefix back into *out. Returns 0, or
 * -CEL_E_INVALID with a message quoting the key (bounded and escaped) and
 * saying why it is not one of the shapes above: outside prefix, no server,
 * neither wals/ nor base/, a bad WAL name, hash directory, backup ID, file
 * name, part number or compression suffix, or a key that is not written the
 * way barman-cloud writes it. *out is written only on success. */
int cloud_key_parse(const char *prefix, const char *key, struct cloud_key *out,
                    struct cel_err *err);

#endif
