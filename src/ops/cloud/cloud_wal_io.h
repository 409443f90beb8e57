/*
 * cloud_wal_io.h - moving one WAL file between a local file and an object,
 * for cloud-wal-archive and cloud-wal-restore: the compression a key's
 * extension stands for, the MD5 a single PUT's ETag must equal, and a
 * fetch that decompresses to a path atomically.
 *
 * A fetched file appears whole or not at all: the object is read into a
 * temporary file beside the destination (".<name>.<pid>.z" when it is
 * compressed), decompressed into another (".<name>.<pid>.part"), fsynced,
 * renamed over the destination and its directory fsynced. Any failure
 * removes both temporary files.
 */
#ifndef CEL_CLOUD_WAL_IO_H
#define CEL_CLOUD_WAL_IO_H

#include "cloud_layout.h"
#include "cloud_target.h"
#include "cloud_wal_pick.h"
#include "compress.h"
#include "s3_client.h"

/* Whether an ETag as a store sends it (quoted or not, any case) is hex. */
bool cloud_etag_is(const char *etag, const char *hex);

/* GET key into the file open at fd (from its current offset). */
int cloud_get_to_fd(struct s3_client *s3, const char *key, int fd, struct cel_err *err);

/* GET key, stored with comp, and put its decompressed bytes at dest
 * atomically (see above); *out_size (may be NULL) gets their count. */
int cloud_fetch_to(struct s3_client *s3, const char *key, enum cloud_comp comp,
                   const char *dest, uint64_t *out_size, struct cel_err *err);

/* Add the WAL objects listed under key_prefix (keys parsed under the
 * URL's path url_prefix) to l. A bucket that does not exist lists nothing
 * (0); *no_bucket (may be NULL) says so. */
int cloud_wal_list_keys(struct s3_client *s3, const char *url_prefix, const char *key_prefix,
                        struct cloud_wal_list *l, bool *no_bucket, struct cel_err *err);

/* Upload the body at fd (size bytes, MD5 md5 in hex; body names it in
 * messages) under key with one PUT, then check with a HEAD that the store
 * holds that size and an ETag equal to md5. A missing bucket is created
 * first, as barman-cloud's setup_bucket does. For cloud-wal-archive and
 * the copy of a server's WAL (cloud_copy_wal.c). */
int cloud_put_verified(const struct cloud_target *t, const char *key, int fd, const char *body,
                       uint64_t size, const char *md5, struct cel_err *err);

#endif
