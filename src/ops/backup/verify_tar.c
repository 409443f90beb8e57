/*
 * verify_tar.c - verify-backup of a tar backup (backup_method = postgres
 * with backup_compression): what pg_verifybackup does for a plain backup,
 * done on the archives as they are, since PostgreSQL 15's pg_verifybackup
 * reads plain backups only.
 *
 * data/backup_manifest is read (and its own SHA-256 checked) with
 * manifest_read. Each archive in data/ (base.tar.gz for the data directory,
 * <oid>.tar.gz for a tablespace, whose files the manifest lists under
 * pg_tblspc/<oid>/) is decompressed by cellar's own decompressors straight
 * into the streaming tar reader: nothing is extracted or staged, and memory
 * stays bounded whatever the backup's size. Every regular member is looked
 * up in the manifest and its size and checksum (CRC32C, pg_basebackup's
 * default, or SHA256) computed as its bytes go by; at the end, every
 * manifest entry not met is missing. Problems are reported one per line in
 * pg_verifybackup's words, so the output reads as it does for a plain
 * backup; "backup successfully verified" when there is none. The paths
 * pg_verifybackup ignores are ignored here too (backup_manifest, pg_wal/,
 * postgresql.auto.conf, recovery.signal, standby.signal). As for plain
 * backups (pg_verifybackup -n) the WAL is not parsed: archive-wal checked
 * each segment as it arrived.
 *
 * A damaged archive (a compressed stream that does not decompress, a tar
 * header whose checksum is wrong) is one problem line; the other archives
 * are still checked.
 */
#include <errno.h>

#include "backup_int.h"
#include "compress.h"
#include "manifest.h"
#include "server.h"
#include "storage.h"
#include "tar_read.h"

/* pg_verifybackup's default ignore list (paths relative to the data
 * directory; a directory covers what is under it). */
static bool vt_ignored(const char *path)
{
    static const char *const ignore[] = {"backup_manifest", "pg_wal", "postgresql.auto.conf",
                                         "recovery.signal", "standby.signal"};
    for (size_t i = 0; i < CEL_ARRAY_LEN(ignore); i++) {
        size_t n = strlen(ignore[i]);
        if (strncmp(path, ignore[i], n) == 0 && (path[n] == '\0' || path[n] == '/'))
            return true;
    }
    return false;
}

struct vt {
    const struct op_ctx *ctx;
    const char *server;
    const struct manifest *m;
    bool *seen;         /* per manifest entry */
    struct strbuf *out; /* the report */
    size_t problems;
    const char *archive; /* the archive's name, for messages */
    const char *prefix;  /* "" or "pg_tblspc/<oid>/" */
    /* the member being read */
    const struct manifest_file *f; /* NULL: not checked */
    char *path;
    uint64_t bytes;
    uint32_t crc;
    struct manifest_sha256 sha;
};

static void vt_problem(struct vt *v, const char *fmt, ...) CEL_PRINTF(2, 3);
static void vt_problem(struct vt *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_append(v->out, "error: ");
    sb_vappendf(v->out, fmt, ap);
    sb_appendc(v->out, '\n');
    va_end(ap);
    v->problems++;
}

static int vt_member(void *ctx, const struct tar_member *tm, struct cel_err *err)
{
    struct vt *v = ctx;
    if (op_cancelled(v->ctx))
        return cel_err_set(err, CEL_E_PROC, "interrupted by signal %d", *v->ctx->cancel);
    v->f = NULL;
    free(v->path);
    v->path = NULL;
    if (tm->type != '0')
        return 0; /* directories and links: the manifest lists files only */
    v->path = cel_xasprintf("%s%s", v->prefix, tm->name);
    if (vt_ignored(v->path))
        return 0;
    const struct manifest_file *f = manifest_find(v->m, v->path);
    if (!f) {
        vt_problem(v, "\"%s\" is present in %s but not in the manifest", v->path, v->archive);
        return 0;
    }
    size_t i = (size_t)(f - v->m->files);
    if (v->seen[i]) {
        vt_problem(v, "\"%s\" is present twice in the backup (again in %s)", v->path, v->archive);
        return 0;
    }
    v->seen[i] = true;
    if (tm->size != f->size) {
        /* as pg_verifybackup: a file of the wrong size is not checksummed */
        vt_problem(v, "\"%s\" has size %llu in %s but size %llu in the manifest", v->path,
                   (unsigned long long)tm->size, v->archive, (unsigned long long)f->size);
        return 0;
    }
    v->f = f;
    v->bytes = 0;
    v->crc = 0;
    manifest_sha256_init(&v->sha);
    return 0;
}

static int vt_data(void *ctx, const unsigned char *buf, size_t len, struct cel_err *err)
{
    (void)err;
    struct vt *v = ctx;
    if (!v->f)
        return 0;
    v->bytes += len;
    if (v->f->algo == MANIFEST_ALGO_CRC32C)
        v->crc = manifest_crc32c(v->crc, buf, len);
    else if (v->f->algo == MANIFEST_ALGO_SHA256)
        manifest_sha256_update(&v->sha, buf, len);
    return 0;
}

static int vt_member_end(void *ctx, struct cel_err *err)
{
    (void)err;
    struct vt *v = ctx;
    const struct manifest_file *f = v->f;
    if (!f)
        return 0;
    v->f = NULL;
    unsigned char sum[32];
    size_t n = 0;
    if (f->algo == MANIFEST_ALGO_CRC32C) {
        memcpy(sum, &v->crc, sizeof v->crc); /* memory order, as the manifest writes it */
        n = sizeof v->crc;
    } else if (f->algo == MANIFEST_ALGO_SHA256) {
        manifest_sha256_final(&v->sha, sum);
        n = 32;
    }
    if (n && (n != f->checksum_len || memcmp(sum, f->checksum, n) != 0))
        vt_problem(v, "checksum mismatch for file \"%s\" in %s", f->path, v->archive);
    return 0;
}

/* The decompressor's output goes into the tar reader. */
static int vt_feed(void *ctx, const unsigned char *data, size_t len, struct cel_err *err)
{
    return tar_read_feed(ctx, data, len, err);
}

/* Check one archive of the backup (file name name in data). */
static int vt_archive(struct vt *v, const char *data, const char *name, enum comp_kind kind,
                      const char *prefix, struct cel_err *err)
{
    char *path = cel_xasprintf("%s/%s", data, name);
    v->archive = name;
    v->prefix = prefix;
    op_phase(v->ctx, v->server, "verify", "checking %s against backup_manifest", path);
    struct tar_read_cb cb = {
        .member = vt_member, .data = vt_data, .member_end = vt_member_end, .ctx = v};
    struct tar_read *t = tar_read_new(&cb, path);
    struct cel_err e = {0};
    int rc = comp_decompress_each(kind, path, NULL, vt_feed, t, NULL, &e);
    if (rc == 0)
        rc = tar_read_finish(t, &e);
    if (rc < 0 && op_cancelled(v->ctx)) {
        *err = e;
    } else if (rc < 0) {
        vt_problem(v, "%s", e.msg); /* this archive is damaged: say so, check the others */
        rc = 0;
    }
    tar_read_free(t);
    free(v->path);
    v->path = NULL;
    v->f = NULL;
    free(path);
    return rc;
}

int bk_verify_tar(const struct op_ctx *ctx, const char *server, const struct cat_backup *b,
                  const char *data, struct strbuf *out, bool *ok, struct cel_err *err)
{
    *ok = false;
    const char *suffix = op_tar_suffix(b->compression);
    enum comp_kind kind;
    if (!suffix || comp_parse_name(b->compression, &kind, NULL) < 0)
        return cel_err_set(err, CEL_E_CONFLICT,
                           "backup %s is in tar format with compression %s, which cellar "
                           "cannot read (gzip, lz4 or zstd)",
                           b->id, b->compression);
    char *mpath = cel_xasprintf("%s/backup_manifest", data);
    struct manifest m;
    struct vt v = {.ctx = ctx, .server = server, .m = &m, .out = out};
    struct cel_err merr = {0};
    if (manifest_read(mpath, &m, &merr) < 0) {
        /* as pg_verifybackup: a manifest that cannot be read fails the check */
        vt_problem(&v, "%s", merr.msg);
        free(mpath);
        return 0;
    }
    v.seen = cel_xcalloc(m.n_files ? m.n_files : 1, sizeof *v.seen);
    /* base.<suffix>, then every <oid>.<suffix> in data/ */
    char *base = cel_xasprintf("base.%s", suffix);
    int rc = vt_archive(&v, data, base, kind, "", err);
    struct stor_names names = {0};
    if (rc == 0)
        rc = stor_list_dir(data, NULL, NULL, &names, err);
    for (size_t i = 0; rc == 0 && i < names.n; i++) {
        const char *name = names.names[i];
        size_t digits = strspn(name, "0123456789");
        if (digits == 0 || name[digits] != '.' || strcmp(name + digits + 1, suffix) != 0)
            continue;
        char *prefix = cel_xasprintf("pg_tblspc/%.*s/", (int)digits, name);
        rc = vt_archive(&v, data, name, kind, prefix, err);
        free(prefix);
    }
    /* a tablespace of backup.info without its archive: say which */
    for (size_t i = 0; rc == 0 && i < b->n_tablespaces; i++) {
        const struct cat_tablespace *t = &b->tablespaces[i];
        char *name = cel_xasprintf("%lld.%s", (long long)t->oid, suffix);
        char *path = cel_xasprintf("%s/%s", data, name);
        if (!stor_is_file(path))
            vt_problem(&v, "the archive of tablespace %s, %s, is missing", t->name, name);
        free(path);
        free(name);
    }
    for (size_t i = 0; rc == 0 && i < m.n_files; i++)
        if (!v.seen[i] && !vt_ignored(m.files[i].path))
            vt_problem(&v, "\"%s\" is present in the manifest but not in the backup",
                       m.files[i].path);
    if (rc == 0 && v.problems == 0) {
        sb_append(out, "backup successfully verified\n");
        *ok = true;
    }
    stor_names_free(&names);
    free(base);
    free(v.seen);
    manifest_free(&m);
    free(mpath);
    return rc;
}
