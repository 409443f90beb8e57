/*
 * list_files.c - `cellar list-files SERVER ID [--target T]`: the files that
 * make up a backup, one absolute path per line, as Barman lists them:
 *
 *   data        every file under base/<ID>/ (a directory's files sorted, then
 *               its subdirectories, depth first)
 *   standalone  data, then the WAL segments from begin_wal to end_wal that
 *               the archive holds (the default: what restoring this backup
 *               alone needs)
 *   wal         the history files, then the WAL archived from begin_wal up
 *               to the next backup's end_wal on the backup's timeline
 *   full        data, then wal
 */
#include <sys/stat.h>

#include "ops.h"
#include "server.h"
#include "storage.h"

struct model {
    struct strbuf lines; /* one path per line */
    size_t n;
};

static void render_text(const void *p, struct strbuf *out)
{
    sb_append(out, sb_str(&((const struct model *)p)->lines));
}

static json_t *render_json(const void *p)
{
    const struct model *m = p;
    json_t *files = json_array();
    const char *s = sb_str(&m->lines);
    while (*s) {
        const char *nl = strchr(s, '\n');
        json_array_append_new(files, json_stringn(s, (size_t)(nl - s)));
        s = nl + 1;
    }
    return json_pack("{s:o}", "files", files);
}

static void add(struct model *m, const char *path)
{
    sb_appendf(&m->lines, "%s\n", path);
    m->n++;
}

/* Files of dir, sorted, then each subdirectory, depth first (os.walk). */
static int walk(struct model *m, const char *dir, struct cel_err *err)
{
    struct stor_names names;
    int rc = stor_list_dir(dir, NULL, NULL, &names, err);
    if (rc < 0)
        return rc;
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        for (size_t i = 0; i < names.n && rc == 0; i++) {
            char *path = cel_xasprintf("%s/%s", dir, names.names[i]);
            struct stat st;
            bool is_dir = lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
            if (pass == 0 && !is_dir)
                add(m, path);
            else if (pass == 1 && is_dir)
                rc = walk(m, path, err);
            free(path);
        }
    }
    stor_names_free(&names);
    return rc;
}

/*
 * The segments begin_wal..end_wal of b on its timeline that the archive
 * holds (xlog.db, in name order). Barman names them by arithmetic, archived
 * or not; walking what exists instead lists the same files for a backup whose
 * WAL is complete, and keeps a damaged or hostile end_wal (FFFFFFFF...) from
 * growing the list by billions of names: the work is bounded by xlog.db.
 */
static int required_segments(const struct cfg_server *s, const struct op_catalog *cat,
                             const struct cat_backup *b, struct model *m, struct cel_err *err)
{
    struct wal_name begin, end;
    if (!b->begin_wal || !b->end_wal)
        return cel_err_set(err, CEL_E_FORMAT, "backup %s has no begin_wal or end_wal", b->id);
    if (wal_name_parse(b->begin_wal, &begin, err) < 0 || wal_name_parse(b->end_wal, &end, err) < 0)
        return -CEL_E_FORMAT;
    uint64_t segsize = (uint64_t)b->xlog_segment_size.v; /* checked by cat_info_parse */
    uint64_t last = wal_segno(&end, segsize);
    for (size_t k = xdb_lower_bound(&cat->xdb, b->begin_wal); k < cat->xdb.n; k++) {
        const char *name = cat->xdb.entries[k].name;
        struct wal_name w;
        if (wal_name_parse(name, &w, NULL) < 0 || w.kind != WAL_KIND_SEGMENT)
            continue;
        if (w.tli != begin.tli || wal_segno(&w, segsize) > last)
            break; /* names sort by timeline, then segment */
        char *path = op_wal_path(s, name);
        add(m, path);
        free(path);
    }
    return 0;
}

/* History files, then the WAL from begin_wal to the next backup's end. */
static void wal_until_next(const struct cfg_server *s, const struct op_catalog *cat, size_t i,
                           struct model *m)
{
    const struct cat_backup *b = &cat->list.items[i];
    int next = cat_next(&cat->list, i);
    const char *next_end = next >= 0 ? cat->list.items[next].end_wal : NULL;
    struct wal_name begin;
    if (!b->begin_wal || wal_name_parse(b->begin_wal, &begin, NULL) < 0)
        return;
    for (size_t k = 0; k < cat->xdb.n; k++) {
        const char *name = cat->xdb.entries[k].name;
        struct wal_name w;
        if (wal_name_parse(name, &w, NULL) < 0)
            continue;
        if (w.kind == WAL_KIND_HISTORY) {
            char *path = op_wal_path(s, name);
            add(m, path);
            free(path);
            continue;
        }
        if (strcmp(name, b->begin_wal) < 0 || w.tli > begin.tli || w.kind != WAL_KIND_SEGMENT)
            continue;
        if (next_end && strcmp(name, next_end) > 0)
            break;
        char *path = op_wal_path(s, name);
        add(m, path);
        free(path);
    }
}

int op_list_files(const struct op_ctx *ctx, const struct op_list_files_req *req,
                  struct cel_err *err)
{
    const struct cfg_server *s = NULL;
    struct op_catalog cat;
    int i = op_backup_open(ctx, req->server, req->backup, "list-files", true, &s, &cat, err);
    if (i < 0)
        return i;
    int rc = 0;
    struct model m = {0};
    const struct cat_backup *b = &cat.list.items[i];
    if (req->target != OP_FILES_WAL) {
        char *dir = op_backup_dir(s, b->id, NULL);
        rc = walk(&m, dir, err);
        free(dir);
    }
    if (rc == 0 && req->target == OP_FILES_STANDALONE)
        rc = required_segments(s, &cat, b, &m, err);
    if (rc == 0 && (req->target == OP_FILES_WAL || req->target == OP_FILES_FULL))
        wal_until_next(s, &cat, (size_t)i, &m);
    if (rc == 0) {
        struct op_result result = {"list-files", &m, render_text, render_json};
        op_result(ctx, &result);
    }
    sb_free(&m.lines);
    op_catalog_free(&cat);
    return rc;
}
