/*
 * ops_fixture.h - the harness of the ops' unit tests: an op run against a
 * Barman home in the test's temporary directory, with a configuration
 * written as text and a sink that records every event, so a command is
 * tested without PostgreSQL, ssh or the front ends.
 *
 *   ofx_setup / ofx_teardown  cmocka fixtures: a fresh temporary directory
 *                             (unit.h), and the configuration and recorder
 *                             freed afterwards
 *   ofx_config(text)          load "[barman] barman_home = <tmp>, barman_user
 *                             = <this process's user>" followed by text (the
 *                             server sections); ofx.ctx is then an op context
 *                             reporting into ofx.rec
 *   ofx.rec                   what the op reported: events one line each
 *                             ("log WARNING pg: text", "phase delete: text",
 *                             "result delete"), the text rendering and the
 *                             JSON rendering of each result
 *   ofx_wal / ofx_xlogdb      archived files and xlog.db of a server
 *   ofx_segment               a WAL segment file that walcheck accepts
 *
 * barman_user is the user running the test, not "root": ops that compare
 * it with the running user (put-wal) then behave as in production for
 * whoever runs the suite. A test whose outcome depends on file ownership
 * or permissions checks ofx_is_root() and says which case it covers.
 *
 * Include after unit.h. catalog_fixture.h (write_backup, a Barman 3.4
 * backup.info) comes with it.
 */
#ifndef CEL_TEST_OPS_FIXTURE_H
#define CEL_TEST_OPS_FIXTURE_H

#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog_fixture.h"
#include "ops/ops.h"
#include "priv.h"

/* ---- the recorder sink --------------------------------------------------- */

struct ofx_recorder {
    struct strbuf events; /* "log ERROR bad: text\n", "result list-backup\n", ... */
    struct strbuf text;   /* the text renderings of the results, in order */
    json_t *json;         /* array of the JSON renderings */
};

static inline void ofx_record(void *ctx, const struct op_event *ev)
{
    struct ofx_recorder *r = ctx;
    switch (ev->kind) {
    case OP_EV_PHASE:
        sb_appendf(&r->events, "phase %s: %s\n", ev->phase, ev->text);
        break;
    case OP_EV_PROGRESS:
        sb_append(&r->events, "progress\n");
        break;
    case OP_EV_LOG:
        sb_appendf(&r->events, "log %s %s: %s\n", log_level_name(ev->level),
                   ev->server ? ev->server : "-", ev->text);
        break;
    case OP_EV_RESULT:
        sb_appendf(&r->events, "result %s\n", ev->result->command);
        ev->result->render_text(ev->result->model, &r->text);
        json_array_append_new(r->json, ev->result->render_json(ev->result->model));
        break;
    }
}

/* A new recorder, *sink reporting into it and *ctx an op context for cfg
 * using that sink. */
static inline void ofx_recorder_init(struct ofx_recorder *r, const struct cfg *cfg,
                                     struct op_sink *sink, struct op_ctx *ctx)
{
    memset(r, 0, sizeof *r);
    r->json = json_array();
    *sink = (struct op_sink){ofx_record, r};
    *ctx = (struct op_ctx){.cfg = cfg, .sink = sink};
}

static inline void ofx_recorder_free(struct ofx_recorder *r)
{
    sb_free(&r->events);
    sb_free(&r->text);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* ---- the harness --------------------------------------------------------- */

static struct {
    struct cfg *cfg;
    struct ofx_recorder rec;
    struct op_sink sink;
    struct op_ctx ctx;
} ofx;

static inline bool ofx_is_root(void)
{
    return geteuid() == 0;
}

/* Parse the configuration text (after the [barman] section the harness
 * writes) into *out, replacing what it held. Returns 0, or -1 with the
 * loader's message on stderr. */
static inline int ofx_cfg_load(const char *servers, struct cfg **out)
{
    char user[256];
    priv_user_name(geteuid(), user, sizeof user);
    char *text =
        cel_xasprintf("[barman]\nbarman_home = %s\nbarman_user = %s\n%s", unit_tmp, user, servers);
    cfg_free(*out);
    *out = NULL;
    struct cel_err err = {0};
    int rc = cfg_load_text(text, "test.conf", out, &err);
    free(text);
    if (rc < 0) {
        fprintf(stderr, "configuration: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* Load the configuration and start a fresh recorder for ofx.ctx. */
static inline int ofx_config(const char *servers)
{
    if (ofx_cfg_load(servers, &ofx.cfg) < 0)
        return -1;
    ofx_recorder_free(&ofx.rec);
    ofx_recorder_init(&ofx.rec, ofx.cfg, &ofx.sink, &ofx.ctx);
    return 0;
}

/* Forget the events recorded so far. */
static inline void ofx_events_clear(void)
{
    ofx_recorder_free(&ofx.rec);
    ofx_recorder_init(&ofx.rec, ofx.cfg, &ofx.sink, &ofx.ctx);
}

static inline const char *ofx_events(void)
{
    return sb_str(&ofx.rec.events);
}

/* Fail unless the recorded events hold line (a whole line, without its
 * newline). */
static inline void ofx_assert_event(const char *line)
{
    const char *all = sb_str(&ofx.rec.events);
    size_t n = strlen(line);
    for (const char *p = all; (p = strstr(p, line)); p++)
        if ((p == all || p[-1] == '\n') && p[n] == '\n')
            return;
    fail_msg("no event '%s' among:\n%s", line, all);
}

/* The i-th result's JSON rendering (borrowed). */
static inline json_t *ofx_result_json(size_t i)
{
    json_t *j = json_array_get(ofx.rec.json, i);
    if (!j)
        fail_msg("no result %zu among:\n%s", i, sb_str(&ofx.rec.events));
    return j;
}

static inline json_int_t ofx_jint(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("'%s' is not an integer", key);
    return json_integer_value(v);
}

static inline int ofx_setup(void **state)
{
    memset(&ofx, 0, sizeof ofx);
    return unit_setup_tmpdir(state);
}

static inline int ofx_teardown(void **state)
{
    cfg_free(ofx.cfg);
    ofx_recorder_free(&ofx.rec);
    memset(&ofx, 0, sizeof ofx);
    return unit_teardown_tmpdir(state);
}

/* ---- the archive ------------------------------------------------------------ */

/* Does the file (relative to the temporary directory) exist? */
static inline bool ofx_exists(const char *name)
{
    return access(unit_path(name), F_OK) == 0;
}

/* The archived path of WAL file name of server (relative to the temporary
 * directory): <server>/wals/<hash dir>/<name>, history files at the top.
 * Static buffer, one of 4. */
static inline const char *ofx_wal_rel(const char *server, const char *name)
{
    static char bufs[4][96]; /* unit_path adds the directory: keep it short */
    static int next;
    char *b = bufs[next++ % 4];
    if (strlen(name) > 16 && !strstr(name, ".history"))
        snprintf(b, sizeof bufs[0], "%s/wals/%.16s/%s", server, name, name);
    else
        snprintf(b, sizeof bufs[0], "%s/wals/%s", server, name);
    return b;
}

/* Archive file name of server with the given content and mtime (seconds
 * since the epoch; 0 leaves it). */
static inline void ofx_wal(const char *server, const char *name, const char *content, time_t mtime)
{
    char dir[96];
    snprintf(dir, sizeof dir, "%s", ofx_wal_rel(server, name));
    *strrchr(dir, '/') = '\0';
    unit_mkdir(dir);
    const char *path = unit_write(ofx_wal_rel(server, name), content);
    if (mtime) {
        struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
        assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
    }
}

/* The segment size of the harness's WAL: 1 MiB (initdb --wal-segsize=1),
 * the smallest PostgreSQL makes, so the sanitized codecs and WAL readers
 * have little to chew. */
#define OFX_SEGSIZE (1024u * 1024u)

/* A plain WAL segment name at path (absolute): OFX_SEGSIZE bytes, sparse,
 * whose long page header matches the name (walcheck.h: magic, timeline,
 * page address, segment and block size), with tag written into its second
 * page so that two files of one name can differ. Names of log 0 only, whose
 * segment number does not depend on the segment size. */
static inline void ofx_segment(const char *path, const char *name, const char *tag)
{
    struct wal_name w;
    assert_int_equal(wal_name_parse(name, &w, NULL), 0);
    assert_int_equal(w.log, 0);
    uint16_t magic = 0xD110, info = 0x0002;
    uint32_t tli = w.tli, segsize = OFX_SEGSIZE, blcksz = 8192;
    uint64_t pageaddr = (uint64_t)w.seg * OFX_SEGSIZE, sysid = 7711578238752250018ull;
    unsigned char head[40] = {0};
    memcpy(head, &magic, 2);
    memcpy(head + 2, &info, 2);
    memcpy(head + 4, &tli, 4);
    memcpy(head + 8, &pageaddr, 8);
    memcpy(head + 24, &sysid, 8);
    memcpy(head + 32, &segsize, 4);
    memcpy(head + 36, &blcksz, 4);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, head, sizeof head), (ssize_t)sizeof head);
    assert_int_equal(pwrite(fd, tag, strlen(tag), 8192 + 100), (ssize_t)strlen(tag));
    assert_int_equal(ftruncate(fd, OFX_SEGSIZE), 0);
    assert_int_equal(close(fd), 0);
}

/* Write server's xlog.db. */
static inline void ofx_xlogdb(const char *server, const char *text)
{
    char path[96];
    snprintf(path, sizeof path, "%s/wals", server);
    unit_mkdir(path);
    snprintf(path, sizeof path, "%s/wals/xlog.db", server);
    unit_write(path, text);
}

/* server's xlog.db as text (caller frees); fails when it cannot be read. */
static inline char *ofx_read_xlogdb(const char *server)
{
    char path[96];
    snprintf(path, sizeof path, "%s/wals/xlog.db", server);
    char *text = unit_read(unit_path(path));
    if (!text)
        fail_msg("cannot read %s", path);
    return text;
}

#endif
