/*
 * archived_kind.c - how an archived WAL file is compressed. Magic bytes
 * decide first; a file no magic matches is plain only when its content is
 * the WAL file its name says (walcheck), else xlog.db's record decides, and
 * a file nothing vouches for is custom, as Barman assumes: plain bytes are
 * never handed out for WAL that a filter no longer configured wrote.
 */
#include "server.h"
#include "wal_archive.h"
#include "walcheck.h"
#include "wal.h"

/* The compression xlog.db records for name (index, else the file read
 * under its lock): 0 with *out set, 1 when xlog.db does not list name. */
static int recorded_kind(const struct op_ctx *ctx, const struct cfg_server *s, const char *name,
                         const struct xdb *index, enum comp_kind *out, struct cel_err *err)
{
    struct xdb loaded = {0};
    if (!index) {
        int rc = op_xdb_load(ctx, s, &loaded, err);
        if (rc < 0)
            return rc;
        index = &loaded;
    }
    const struct xdb_entry *e = xdb_find(index, name);
    int rc = e ? 0 : 1;
    /* xdb_parse accepted only names comp_parse_name knows */
    if (e && comp_parse_name(e->compression, out, NULL) < 0)
        *out = COMP_CUSTOM;
    xdb_free(&loaded);
    return rc;
}

int op_archived_kind(const struct op_ctx *ctx, const struct cfg_server *s, const char *path,
                     const char *name, const struct xdb *index, enum comp_kind *out,
                     struct cel_err *err)
{
    struct comp_opts opts;
    op_comp_opts(s, &opts);
    int rc = comp_detect_file(path, &opts, out, err);
    if (rc < 0 || *out != COMP_NONE)
        return rc;
    if (s->compression == COMP_CUSTOM && !opts.custom_magic) {
        /* Barman's rule: without a magic, what no magic matches is custom,
         * unless xlog.db says otherwise */
        rc = recorded_kind(ctx, s, name, index, out, err);
        if (rc == 1)
            *out = COMP_CUSTOM;
        return rc < 0 ? rc : 0;
    }
    /* No magic matches. Handing out these bytes as they are is right only
     * when they are the plain file: a file written by a custom filter that
     * is no longer configured (or whose magic was changed) must never pass
     * for WAL. So the content must be what its name says (walcheck), or
     * xlog.db's record says how it was compressed, or it is taken as
     * custom (what Barman assumes of a file no magic matches), which needs
     * custom_decompression_filter to be read. */
    struct wal_name w;
    struct cel_err werr = {0};
    if (wal_name_parse(name, &w, NULL) == 0 && walcheck_file(path, &w, NULL, &werr) == 0)
        return 0;
    if (werr.code == CEL_E_IO || werr.code == CEL_E_NOT_FOUND) {
        *err = werr;
        return -werr.code;
    }
    rc = recorded_kind(ctx, s, name, index, out, err);
    if (rc < 0)
        return rc;
    if (rc == 1 || *out == COMP_NONE)
        *out = COMP_CUSTOM;
    return 0;
}
