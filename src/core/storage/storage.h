/*
 * storage.h - durable files and directories on the local filesystem.
 *
 * Every file cellar owns is written the same way: a temporary file in the
 * target's directory, every byte written and checked, fsync, close, rename
 * over the target, fsync of the directory. A crash at any point leaves
 * either the old file or the new one, never a mix, and a successful return
 * means the new file survives a power loss. Files are created 0600 and
 * directories 0700 unless the caller asks otherwise.
 *
 * Also here: reading whole files with a size cap, mkdir -p, and the check
 * that a name taken from outside (server, backup ID, WAL file) is a single
 * safe path component before it is joined into a path.
 */
#ifndef CEL_STORAGE_H
#define CEL_STORAGE_H

#include <sys/types.h>

#include "error.h"

/* Write len bytes to path durably (see above), creating it with mode.
 * Returns 0 or -CEL_E_IO; on failure the temporary file is removed and the
 * previous content of path is untouched. */
int stor_write_file(const char *path, const void *data, size_t len, mode_t mode,
                    struct cel_err *err);

/* Append len bytes to path (created 0600 when missing, and its directory
 * then fsynced) in one write, and fsync it: for files that only grow, where
 * a rewrite would cost the whole file. A write cut short (a full disk) is
 * taken back with ftruncate, so no half line is left; when even that fails
 * the hint says where to cut. path is never followed when it is a
 * symbolic link ("'%s' is a symbolic link: cellar does not write through
 * links", with a hint to remove it and run rebuild-xlogdb: the appended
 * files are the WAL archive's indexes). Returns 0 or -CEL_E_IO ("cannot
 * open '%s'", "cannot append to '%s'", "cannot fsync '%s'", "cannot close
 * '%s'"). */
int stor_append_file(const char *path, const void *data, size_t len, struct cel_err *err);

/* Remove the temporary files that stor_write_file(path) calls killed before
 * their rename left beside path. Only safe when no such call can be running
 * (the caller holds the lock that guards path). Returns 0, or -CEL_E_IO when
 * the directory cannot be read or a file cannot be removed. */
int stor_remove_stale_tmp(const char *path, struct cel_err *err);

/* Write all len bytes of buf to fd, retrying short writes and EINTR.
 * Returns 0, or -1 with errno set (EIO if write() ever returns 0). */
int stor_write_all(int fd, const void *buf, size_t len);

/* fsync a directory, so renames and creations inside it are durable. */
int stor_fsync_dir(const char *dir, struct cel_err *err);
/* fsync the directory that contains path. */
int stor_fsync_parent(const char *path, struct cel_err *err);

/* Create dir and any missing parents with mode (0: 0700). An existing
 * directory is fine; an existing non-directory is -CEL_E_IO. New directories
 * and their parents are fsynced. */
int stor_mkdir_p(const char *dir, mode_t mode, struct cel_err *err);

/* Read a whole file into a new NUL-terminated buffer (*out, freed by the
 * caller), *len its size without the NUL (len may be NULL). A file larger than
 * max bytes is -CEL_E_FORMAT; a missing file is -CEL_E_NOT_FOUND; other
 * failures -CEL_E_IO. */
int stor_read_file(const char *path, size_t max, char **out, size_t *len, struct cel_err *err);

/* The entries of a directory, sorted by name (strcmp), "." and ".." left
 * out. keep, when not NULL, decides for each entry (dir is the directory
 * listed, name the entry). */
struct stor_names {
    char **names;
    size_t n;
};
typedef bool (*stor_keep_fn)(const char *dir, const char *name, void *ctx);
/* -CEL_E_NOT_FOUND for a missing directory, -CEL_E_IO when it cannot be
 * read. Free out with stor_names_free(). */
int stor_list_dir(const char *dir, stor_keep_fn keep, void *ctx, struct stor_names *out,
                  struct cel_err *err);
void stor_names_free(struct stor_names *names);

/* Tell the kernel that the cached pages of path will not be read again (a
 * file that has been consumed and is about to be removed), so that memory
 * is given back now, by the caller, instead of by whoever removes the file
 * or by reclaim later. Best effort: the file itself is untouched, nothing is
 * reported. Pages not yet written to disk are not dropped (the kernel
 * starts writing them). */
void stor_drop_cache(const char *path);

/* Remove path and everything under it, never following symbolic links
 * (a link is removed, not what it points to). A missing path is 0. */
int stor_remove_tree(const char *path, struct cel_err *err);

/* True if path exists (any type) / is a directory / is a regular file. */
bool stor_exists(const char *path);
bool stor_is_dir(const char *path);
bool stor_is_file(const char *path);

/* Check that name can be used as one path component: not empty, not "." or
 * "..", no '/', no control characters, at most 255 bytes. what names the
 * kind of value in the message ("server name", "backup ID"). Returns 0 or
 * -CEL_E_INVALID. */
int stor_check_component(const char *name, const char *what, struct cel_err *err);

#endif
