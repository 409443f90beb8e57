/*
 * cli.c - the command table and its parser.
 *
 * Each entry names a command as Barman does (with Barman's aliases), its
 * arguments and options, and a small handler that fills the op's request
 * from the parsed line and calls the op. Commands of later issues are added
 * here as their ops land; nothing is listed before it works.
 */
#include <unistd.h>

#include "cli.h"
#include "cloud_tar.h"
#include "cloud_target.h"
#include "config_update_json.h"
#include "pg.h"

/* ---- handlers ------------------------------------------------------------ */

/* One server's run of a command that, as Barman's show-server, list-backup,
 * status and replication-status do, goes on to the next SERVER argument
 * when one fails. req is the request filled from the options, read-only. */
typedef int (*per_server_fn)(const struct op_ctx *ctx, const char *server, const void *req,
                             struct cel_err *err);

/* Runs one_server for every SERVER argument. The exit status and the error
 * reported are the first failure's, so the message matches the status. */
static int each_server(const struct op_ctx *ctx, const struct cli_parsed *p,
                       per_server_fn one_server, const void *req, struct cel_err *err)
{
    int rc = 0;
    for (int i = 0; i < p->nargs; i++) {
        struct cel_err later = {0};
        int r = one_server(ctx, p->args[i], req, rc == 0 ? err : &later);
        if (r < 0 && rc == 0)
            rc = r;
    }
    return rc;
}

static int run_list_server(const struct op_ctx *ctx, const struct cli_parsed *p,
                           struct cel_err *err)
{
    struct op_list_server_req req = {.minimal = cli_value(p, "minimal") != NULL};
    return op_list_server(ctx, &req, err);
}

static int show_one_server(const struct op_ctx *ctx, const char *server, const void *req,
                           struct cel_err *err)
{
    struct op_show_server_req one = *(const struct op_show_server_req *)req;
    one.server = server;
    return op_show_server(ctx, &one, err);
}

static int run_show_server(const struct op_ctx *ctx, const struct cli_parsed *p,
                           struct cel_err *err)
{
    struct op_show_server_req req = {.no_connect = cli_value(p, "no-connect") != NULL};
    return each_server(ctx, p, show_one_server, &req, err);
}

static int list_one_server(const struct op_ctx *ctx, const char *server, const void *req,
                           struct cel_err *err)
{
    struct op_list_backup_req one = *(const struct op_list_backup_req *)req;
    one.server = server;
    return op_list_backup(ctx, &one, err);
}

static int run_list_backup(const struct op_ctx *ctx, const struct cli_parsed *p,
                           struct cel_err *err)
{
    struct op_list_backup_req req = {.minimal = cli_value(p, "minimal") != NULL};
    return each_server(ctx, p, list_one_server, &req, err);
}

static int run_show_backup(const struct op_ctx *ctx, const struct cli_parsed *p,
                           struct cel_err *err)
{
    struct op_show_backup_req req = {.server = p->args[0], .backup = p->args[1]};
    return op_show_backup(ctx, &req, err);
}

/* Parse the value of integer option name into *out (unchanged when the
 * option is absent). */
static int int_option(const struct cli_parsed *p, const char *name, int min, int max, int *out,
                      struct cel_err *err)
{
    const char *v = cli_value(p, name);
    if (!v)
        return 0;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < min || n > max)
        return cel_err_set(err, CEL_E_USAGE, "%s: --%s expects a whole number from %d to %d, "
                                             "not '%s'",
                           p->cmd->name, name, min, max, v);
    *out = (int)n;
    return 0;
}

static int run_check(const struct op_ctx *ctx, const struct cli_parsed *p, struct cel_err *err)
{
    struct op_check_req req = {.servers = p->args,
                               .n_servers = (size_t)p->nargs,
                               .nagios = cli_value(p, "nagios") != NULL};
    int rc = int_option(p, "check-timeout", 1, 86400, &req.timeout_s, err);
    return rc < 0 ? rc : op_check(ctx, &req, err);
}

static int run_diagnose(const struct op_ctx *ctx, const struct cli_parsed *p, struct cel_err *err)
{
    struct op_diagnose_req req = {.no_connect = cli_value(p, "no-connect") != NULL};
    return op_diagnose(ctx, &req, err);
}


/* A word an option accepts, and the value it stands for. */
struct cli_choice {
    const char *word;
    int value;
};

/* Set *out to the value of option name's word among the n choices
 * (unchanged when the option is absent); any other word is a usage error
 * listing the words in the table's order. */
static int choice_option(const struct cli_parsed *p, const char *name,
                         const struct cli_choice *choices, size_t n, int *out,
                         struct cel_err *err)
{
    const char *v = cli_value(p, name);
    if (!v)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v, choices[i].word) == 0) {
            *out = choices[i].value;
            return 0;
        }
    struct strbuf words = {0};
    for (size_t i = 0; i < n; i++)
        sb_appendf(&words, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", choices[i].word);
    cel_err_set(err, CEL_E_USAGE, "%s: --%s expects %s, not '%s'", p->cmd->name, name,
                sb_str(&words), v);
    sb_free(&words);
    return -CEL_E_USAGE;
}

static int run_archive_wal(const struct op_ctx *ctx, const struct cli_parsed *p,
                           struct cel_err *err)
{
    struct op_archive_wal_req req = {0};
    int rc = int_option(p, "jobs", 1, 64, &req.workers, err);
    for (int i = 0; rc == 0 && i < p->nargs; i++) {
        req.server = p->args[i];
        rc = op_archive_wal(ctx, &req, err);
    }
    return rc;
}

static int run_cron(const struct op_ctx *ctx, const struct cli_parsed *p, struct cel_err *err)
{
    struct op_cron_req req = {.dry_run = cli_value(p, "dry-run") != NULL,
                              .keep_descriptors = cli_value(p, "keep-descriptors") != NULL};
    int rc = int_option(p, "jobs", 1, 64, &req.workers, err);
    return rc < 0 ? rc : op_cron(ctx, &req, err);
}

static int run_put_wal(const struct op_ctx *ctx, const struct cli_parsed *p, struct cel_err *err)
{
    struct op_put_wal_req req = {.server = p->args[0],
                                 .path = p->nargs > 1 ? p->args[1] : NULL,
                                 .name = cli_value(p, "name"),
                                 .in_fd = 0};
    if (!req.path && !req.name)
        return cel_err_set(err, CEL_E_USAGE,
                           "put-wal: give the file (%%p), or --name NAME (%%f) with the file on "
                           "standard input");
    if (req.path && req.name)
        return cel_err_set(err, CEL_E_USAGE, "put-wal: give the file or --name, not both");
    return op_put_wal(ctx, &req, err);
}

static int run_get_wal(const struct op_ctx *ctx, const struct cli_parsed *p, struct cel_err *err)
{
    struct op_get_wal_req req = {.server = p->args[0],
                                 .name = p->args[1],
                                 .output_dir = cli_value(p, "output-directory"),
                                 .out_fd = 1,
                                 .partial = cli_value(p, "partial") != NULL};
    return op_get_wal(ctx, &req, err);
}

static int run_rebuild_xlogdb(const struct op_ctx *ctx, const struct cli_parsed *p,
                              struct cel_err *err)
{
    int rc = 0;
    for (int i = 0; rc == 0 && i < p->nargs; i++) {
        struct op_rebuild_xlogdb_req req = {.server = p->args[i]};
        rc = op_rebuild_xlogdb(ctx, &req, err);
    }
    return rc;
}

static int run_switch_wal(const struct op_ctx *ctx, const struct cli_parsed *p,
                          struct cel_err *err)
{
    struct op_switch_wal_req req = {.server = p->args[0],
                                    .force = cli_value(p, "force") != NULL,
                                    .archive = cli_value(p, "archive") != NULL};
    int rc = int_option(p, "archive-timeout", 1, 86400, &req.archive_timeout, err);
    return rc < 0 ? rc : op_switch_wal(ctx, &req, err);
}

static int run_receive_wal(const struct op_ctx *ctx, const struct cli_parsed *p,
                           struct cel_err *err)
{
    struct op_receive_wal_req req = {.server = p->args[0],
                                     .stop = cli_value(p, "stop") != NULL,
                                     .reset = cli_value(p, "reset") != NULL,
                                     .create_slot = cli_value(p, "create-slot") != NULL,
                                     .drop_slot = cli_value(p, "drop-slot") != NULL,
                                     .detach = cli_value(p, "detach") != NULL,
                                     .if_not_exists = cli_value(p, "if-not-exists") != NULL};
    if (req.stop + req.reset + req.create_slot + req.drop_slot + req.detach > 1)
        return cel_err_set(err, CEL_E_USAGE,
                           "receive-wal: --stop, --reset, --create-slot, --drop-slot and --detach "
                           "exclude each other");
    if (req.if_not_exists && !req.create_slot)
        return cel_err_set(err, CEL_E_USAGE,
                           "receive-wal: --if-not-exists goes with --create-slot");
    return op_receive_wal(ctx, &req, err);
}

static int run_start_recovered(const struct op_ctx *ctx, const struct cli_parsed *p,
                               struct cel_err *err)
{
    struct op_start_recovered_req req = {.pgdata = p->args[0],
                                         .query = cli_value(p, "query"),
                                         .user = cli_value(p, "user"),
                                         .db_user = cli_value(p, "db-user"),
                                         .database = cli_value(p, "dbname"),
                                         .stop = cli_value(p, "stop") != NULL};
    int rc = int_option(p, "port", 1, 65535, &req.port, err);
    if (rc == 0)
        rc = int_option(p, "timeout", 1, 7 * 86400, &req.timeout, err);
    return rc < 0 ? rc : op_start_recovered(ctx, &req, err);
}

static int run_stop_recovered(const struct op_ctx *ctx, const struct cli_parsed *p,
                              struct cel_err *err)
{
    return op_stop_recovered(ctx, p->args[0], err);
}

static int run_list_files(const struct op_ctx *ctx, const struct cli_parsed *p,
                          struct cel_err *err)
{
    static const struct cli_choice targets[] = {{"data", OP_FILES_DATA},
                                                {"standalone", OP_FILES_STANDALONE},
                                                {"wal", OP_FILES_WAL},
                                                {"full", OP_FILES_FULL}};
    struct op_list_files_req req = {.server = p->args[0], .backup = p->args[1]};
    int target = OP_FILES_STANDALONE;
    int rc = choice_option(p, "target", targets, CEL_ARRAY_LEN(targets), &target, err);
    if (rc < 0)
        return rc;
    req.target = (enum op_list_files_target)target;
    return op_list_files(ctx, &req, err);
}

static int run_backup(const struct op_ctx *ctx, const struct cli_parsed *p, struct cel_err *err)
{
    struct op_backup_req req = {.immediate_checkpoint = -1,
                                .reuse = -1,
                                .retry_times = -1,
                                .retry_sleep = -1,
                                .name = cli_value(p, "name"),
                                .wait = cli_value(p, "wait") != NULL};
    if (cli_value(p, "immediate-checkpoint") && cli_value(p, "no-immediate-checkpoint"))
        return cel_err_set(err, CEL_E_USAGE, "backup: --immediate-checkpoint and "
                                             "--no-immediate-checkpoint contradict each other");
    if (cli_value(p, "immediate-checkpoint"))
        req.immediate_checkpoint = 1;
    if (cli_value(p, "no-immediate-checkpoint"))
        req.immediate_checkpoint = 0;
    static const struct cli_choice reuse[] = {
        {"off", CFG_REUSE_OFF}, {"copy", CFG_REUSE_COPY}, {"link", CFG_REUSE_LINK}};
    int rc = choice_option(p, "reuse-backup", reuse, CEL_ARRAY_LEN(reuse), &req.reuse, err);
    if (rc == 0)
        rc = int_option(p, "jobs", 1, 64, &req.jobs, err);
    if (rc == 0)
        rc = int_option(p, "retry-times", 0, 1000, &req.retry_times, err);
    if (rc == 0)
        rc = int_option(p, "retry-sleep", 0, 86400, &req.retry_sleep, err);
    if (rc == 0)
        rc = int_option(p, "wait-timeout", 1, 7 * 86400, &req.wait_timeout, err);
    if (rc == 0 && cli_value(p, "no-retry"))
        req.retry_times = 0;
    if (rc == 0 && req.wait_timeout && !req.wait)
        req.wait = true;
    for (int i = 0; rc == 0 && i < p->nargs; i++) {
        req.server = p->args[i];
        rc = op_backup(ctx, &req, err);
    }
    return rc;
}

static int run_delete(const struct op_ctx *ctx, const struct cli_parsed *p, struct cel_err *err)
{
    struct op_delete_req req = {.server = p->args[0], .backup = p->args[1]};
    return op_delete(ctx, &req, err);
}

static int run_check_backup(const struct op_ctx *ctx, const struct cli_parsed *p,
                            struct cel_err *err)
{
    struct op_check_backup_req req = {.server = p->args[0], .backup = p->args[1]};
    return op_check_backup(ctx, &req, err);
}

static int run_list_processes(const struct op_ctx *ctx, const struct cli_parsed *p,
                              struct cel_err *err)
{
    return op_list_processes(ctx, p->args[0], err);
}

static int run_terminate_process(const struct op_ctx *ctx, const struct cli_parsed *p,
                                 struct cel_err *err)
{
    return op_terminate_process(ctx, p->args[0], p->args[1], err);
}

static int run_lock_directory_cleanup(const struct op_ctx *ctx, const struct cli_parsed *p,
                                      struct cel_err *err)
{
    (void)p;
    return op_lock_directory_cleanup(ctx, true, NULL, err);
}

static int run_generate_manifest(const struct op_ctx *ctx, const struct cli_parsed *p,
                                 struct cel_err *err)
{
    struct op_generate_manifest_req req = {.server = p->args[0], .backup = p->args[1]};
    return op_generate_manifest(ctx, &req, err);
}

static int run_config_switch(const struct op_ctx *ctx, const struct cli_parsed *p,
                             struct cel_err *err)
{
    struct op_config_switch_req req = {.server = p->args[0],
                                       .model = p->nargs > 1 ? p->args[1] : NULL,
                                       .reset = cli_value(p, "reset") != NULL};
    return op_config_switch(ctx, &req, err);
}

static int run_config_update(const struct op_ctx *ctx, const struct cli_parsed *p,
                             struct cel_err *err)
{
    struct cfg_change_list changes;
    cfg_change_list_init(&changes);
    int rc = config_update_parse_arg(p->args[0], strlen(p->args[0]), &changes, err);
    if (rc == 0) {
        struct op_config_update_req req = {.changes = &changes};
        rc = op_config_update(ctx, &req, err);
    }
    cfg_change_list_free(&changes);
    return rc;
}

static int run_keep(const struct op_ctx *ctx, const struct cli_parsed *p, struct cel_err *err)
{
    struct op_keep_req req = {.server = p->args[0], .backup = p->args[1]};
    const char *target = cli_value(p, "target");
    bool release = cli_value(p, "release") != NULL, status = cli_value(p, "status") != NULL;
    if ((target != NULL) + release + status != 1)
        return cel_err_set(err, CEL_E_USAGE,
                           "keep: give exactly one of --target full|standalone, --status and "
                           "--release");
    if (target && strcmp(target, "full") != 0 && strcmp(target, "standalone") != 0)
        return cel_err_set(err, CEL_E_USAGE,
                           "keep: --target: invalid choice '%s' (choose from 'full', "
                           "'standalone')",
                           target);
    req.action = release ? OP_KEEP_RELEASE : status ? OP_KEEP_STATUS : OP_KEEP_ADD;
    req.target = target;
    return op_keep(ctx, &req, err);
}

static int run_verify_backup(const struct op_ctx *ctx, const struct cli_parsed *p,
                             struct cel_err *err)
{
    struct op_verify_backup_req req = {.server = p->args[0], .backup = p->args[1]};
    return op_verify_backup(ctx, &req, err);
}

/* This program's own path, for a restore_command that runs it. */
static char *self_path(void)
{
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return cel_xstrdup("cellar");
    buf[n] = '\0';
    return cel_xstrdup(buf);
}

static int run_recover(const struct op_ctx *ctx, const struct cli_parsed *p, struct cel_err *err)
{
    if (cli_value(p, "wizard"))
        return cel_err_set(err, CEL_E_USAGE, "recover --wizard needs a terminal (it opens the "
                                             "console)");
    if (cli_value(p, "window")) {
        if (p->nargs != 1 || p->ngiven != 1)
            return cel_err_set(err, CEL_E_USAGE, "recover --window takes SERVER only");
        return op_recover_window(ctx, p->args[0], err);
    }
    if (p->nargs != 3)
        return cel_err_set(err, CEL_E_USAGE, "recover needs SERVER BACKUP_ID DEST (or --wizard "
                                             "SERVER for the guided recovery)");
    struct op_recover_req req = {.server = p->args[0],
                                 .backup = p->args[1],
                                 .dest = p->args[2],
                                 .remote_ssh_command = cli_value(p, "remote-ssh-command"),
                                 .exclusive = cli_value(p, "exclusive") != NULL,
                                 .target_action = cli_value(p, "target-action"),
                                 .get_wal = -1,
                                 .standby_mode = cli_value(p, "standby-mode") != NULL,
                                 .retry_times = -1,
                                 .retry_sleep = -1,
                                 .force = cli_value(p, "force") != NULL,
                                 .dry_run = cli_value(p, "dry-run") != NULL,
                                 .staging_wal_dir = cli_value(p, "staging-wal-directory")};
    /* the target's options are the rows of rc_target_defs */
    const struct rc_target_def *target = rc_target_def(RC_TARGET_NONE);
    const char *value = NULL;
    for (size_t i = 0; i < rc_target_n_defs; i++) {
        const struct rc_target_def *d = &rc_target_defs[i];
        const char *v = d->option ? cli_value(p, d->option + 2) : NULL;
        if (!v)
            continue;
        if (target->kind != RC_TARGET_NONE)
            return cel_err_set(err, CEL_E_USAGE, "recover: give one target, not %s as well",
                               d->option);
        target = d;
        value = v;
    }
    if (req.exclusive && !target->inclusive)
        return cel_err_set(err, CEL_E_USAGE, "recover: --exclusive goes with --target-time, "
                                             "--target-xid or --target-lsn");
    if (req.target_action) {
        if (strcmp(req.target_action, "pause") != 0 && strcmp(req.target_action, "promote") != 0 &&
            strcmp(req.target_action, "shutdown") != 0)
            return cel_err_set(err, CEL_E_USAGE, "recover: --target-action expects pause, "
                                                 "promote or shutdown, not '%s'",
                               req.target_action);
        if (target->kind == RC_TARGET_NONE)
            return cel_err_set(err, CEL_E_USAGE, "recover: --target-action needs a target");
    }
    /* parsed here, once: the op reads the typed target */
    int rc = rc_target_parse(target->kind, value, cli_value(p, "target-tli"), &req.target, err);
    if (rc < 0)
        return rc;
    if (cli_value(p, "get-wal") && cli_value(p, "no-get-wal"))
        return cel_err_set(err, CEL_E_USAGE, "recover: --get-wal and --no-get-wal contradict "
                                             "each other");
    if (cli_value(p, "get-wal"))
        req.get_wal = 1;
    if (cli_value(p, "no-get-wal"))
        req.get_wal = 0;
    const char *tbs[CLI_MAX_GIVEN];
    req.n_tablespaces = cli_values(p, "tablespace", tbs, CLI_MAX_GIVEN);
    req.tablespaces = tbs;
    rc = int_option(p, "jobs", 1, 64, &req.jobs, err);
    if (rc == 0)
        rc = int_option(p, "retry-times", 0, 1000, &req.retry_times, err);
    if (rc == 0)
        rc = int_option(p, "retry-sleep", 0, 86400, &req.retry_sleep, err);
    if (rc == 0 && cli_value(p, "no-retry"))
        req.retry_times = 0;
    if (rc == 0)
        rc = int_option(p, "bwlimit", 1, 10000000, &req.bwlimit, err);
    if (rc < 0)
        return rc;
    char *self = self_path();
    req.cellar_path = self;
    rc = op_recover(ctx, &req, err);
    free(self);
    return rc;
}

static int status_one_server(const struct op_ctx *ctx, const char *server, const void *req,
                             struct cel_err *err)
{
    (void)req;
    struct op_status_req one = {.server = server};
    return op_status(ctx, &one, err);
}

static int run_status(const struct op_ctx *ctx, const struct cli_parsed *p, struct cel_err *err)
{
    return each_server(ctx, p, status_one_server, NULL, err);
}

static int replication_one_server(const struct op_ctx *ctx, const char *server,
                                  const void *req, struct cel_err *err)
{
    struct op_replication_status_req one = *(const struct op_replication_status_req *)req;
    one.server = server;
    return op_replication_status(ctx, &one, err);
}

static int run_replication_status(const struct op_ctx *ctx, const struct cli_parsed *p,
                                  struct cel_err *err)
{
    static const struct cli_choice targets[] = {{"hot-standby", OP_REPL_HOT_STANDBY},
                                                {"wal-streamer", OP_REPL_WAL_STREAMER},
                                                {"all", OP_REPL_ALL}};
    struct op_replication_status_req req = {.minimal = cli_value(p, "minimal") != NULL};
    int target = OP_REPL_ALL;
    if (choice_option(p, "target", targets, CEL_ARRAY_LEN(targets), &target, err) < 0)
        return -CEL_E_USAGE;
    req.target = (enum op_repl_target)target;
    return each_server(ctx, p, replication_one_server, &req, err);
}

/* ---- cloud ---- */

/* Fill the store options every cloud-* command takes (barman-cloud's):
 * SOURCE_URL or DESTINATION_URL and SERVER_NAME are its first two
 * arguments. */
static int cloud_store_options(const struct cli_parsed *p, struct cloud_target_opts *o,
                               struct cel_err *err)
{
    const char *provider = cli_value(p, "cloud-provider");
    if (provider && strcmp(provider, "aws-s3") != 0)
        return cel_err_set(err, CEL_E_USAGE,
                           "%s: --cloud-provider %s is not supported: cellar speaks S3 "
                           "(aws-s3) only",
                           p->cmd->name, provider);
    o->url = p->args[0];
    o->server = p->args[1];
    o->endpoint_url = cli_value(p, "endpoint-url");
    o->profile = cli_value(p, "profile");
    return int_option(p, "read-timeout", 1, 86400, &o->read_timeout, err);
}

/* The store of a cloud request: cloud_store_options and -t/--test. */
static int cloud_store(const struct cli_parsed *p, struct op_cloud_store *s, struct cel_err *err)
{
    s->test = cli_value(p, "test") != NULL;
    return cloud_store_options(p, &s->target, err);
}

/* --format console|json of cloud-backup-list and -show */
static int cloud_format(const struct cli_parsed *p, bool *json, struct cel_err *err)
{
    static const struct cli_choice formats[] = {{"console", 0}, {"json", 1}};
    int v = 0;
    if (choice_option(p, "format", formats, CEL_ARRAY_LEN(formats), &v, err) < 0)
        return -CEL_E_USAGE;
    *json = v == 1;
    return 0;
}

/* The compression a cloud command was given: at most one of the options
 * -z/--gzip, -j/--bzip2, --zstd, --lz4 and --snappy its table has. snappy
 * (barman-cloud's optional one) is refused: cellar neither reads nor
 * writes it. */
static int cloud_comp_option(const struct cli_parsed *p, enum cloud_comp *out,
                             struct cel_err *err)
{
    static const struct {
        const char *opt;
        enum cloud_comp comp;
    } comps[] = {{"gzip", CLOUD_COMP_GZIP},
                 {"bzip2", CLOUD_COMP_BZIP2},
                 {"zstd", CLOUD_COMP_ZSTD},
                 {"lz4", CLOUD_COMP_LZ4},
                 {"snappy", CLOUD_COMP_SNAPPY}};
    const char *given = NULL;
    *out = CLOUD_COMP_NONE;
    for (size_t i = 0; i < CEL_ARRAY_LEN(comps); i++) {
        if (!cli_value(p, comps[i].opt))
            continue;
        if (given)
            return cel_err_set(err, CEL_E_USAGE, "%s: --%s and --%s exclude each other",
                               p->cmd->name, given, comps[i].opt);
        given = comps[i].opt;
        *out = comps[i].comp;
    }
    if (*out == CLOUD_COMP_SNAPPY)
        return cel_err_set(err, CEL_E_USAGE,
                           "%s: --snappy is not supported: cellar neither reads nor writes "
                           "snappy",
                           p->cmd->name);
    return 0;
}

static int run_cloud_wal_archive(const struct op_ctx *ctx, const struct cli_parsed *p,
                                 struct cel_err *err)
{
    struct op_cloud_wal_archive_req req = {.wal_path = p->nargs > 2 ? p->args[2] : NULL};
    if (cloud_comp_option(p, &req.comp, err) < 0)
        return -CEL_E_USAGE;
    const char *unsent[] = {"encryption", "tags", "history-tags"};
    for (size_t i = 0; i < CEL_ARRAY_LEN(unsent); i++)
        if (cli_value(p, unsent[i])) {
            int rc = cel_err_set(err, CEL_E_USAGE,
                                 "cloud-wal-archive: --%s is not supported yet: cellar's S3 "
                                 "client sends no %s header",
                                 unsent[i],
                                 i == 0 ? "x-amz-server-side-encryption" : "x-amz-tagging");
            if (i == 0)
                cel_err_hint(err, "Leave it out and turn on the bucket's default encryption, "
                                  "which the store then applies to every object.");
            return rc;
        }
    if (!cli_value(p, "test") && !req.wal_path)
        return cel_err_set(err, CEL_E_USAGE, "cloud-wal-archive: expected DESTINATION_URL "
                                             "SERVER_NAME WAL_PATH, missing WAL_PATH");
    int rc = cloud_store(p, &req.store, err);
    return rc < 0 ? rc : op_cloud_wal_archive(ctx, &req, err);
}

static int run_cloud_wal_restore(const struct op_ctx *ctx, const struct cli_parsed *p,
                                 struct cel_err *err)
{
    struct op_cloud_wal_restore_req req = {.wal_name = p->args[2],
                                           .dest = p->args[3],
                                           .parallel = 1,
                                           .spool_dir = cli_value(p, "spool-directory")};
    int rc = int_option(p, "parallel", 1, 64, &req.parallel, err);
    if (rc == 0)
        rc = cloud_store(p, &req.store, err);
    return rc < 0 ? rc : op_cloud_wal_restore(ctx, &req, err);
}

static int run_cloud_check_wal_archive(const struct op_ctx *ctx, const struct cli_parsed *p,
                                       struct cel_err *err)
{
    struct op_cloud_check_wal_archive_req req = {0};
    int timeline = 0;
    int rc = int_option(p, "timeline", 1, INT32_MAX, &timeline, err);
    req.timeline = (uint32_t)timeline;
    if (rc == 0)
        rc = cloud_store(p, &req.store, err);
    return rc < 0 ? rc : op_cloud_check_wal_archive(ctx, &req, err);
}

static int run_cloud_backup_list(const struct op_ctx *ctx, const struct cli_parsed *p,
                                 struct cel_err *err)
{
    struct op_cloud_list_req req = {0};
    if (cloud_store(p, &req.store, err) < 0 || cloud_format(p, &req.json, err) < 0)
        return -CEL_E_USAGE;
    return op_cloud_backup_list(ctx, &req, err);
}

static int run_cloud_backup_show(const struct op_ctx *ctx, const struct cli_parsed *p,
                                 struct cel_err *err)
{
    struct op_cloud_show_req req = {.backup = p->args[2]};
    if (cloud_store(p, &req.store, err) < 0 || cloud_format(p, &req.json, err) < 0)
        return -CEL_E_USAGE;
    return op_cloud_backup_show(ctx, &req, err);
}

static int run_cloud_restore(const struct op_ctx *ctx, const struct cli_parsed *p,
                             struct cel_err *err)
{
    const char *rules[CLI_MAX_GIVEN];
    struct op_cloud_restore_req req = {.backup = p->args[2], .dest = p->args[3]};
    if (cloud_store(p, &req.store, err) < 0 ||
        int_option(p, "jobs", 1, 64, &req.parallel, err) < 0)
        return -CEL_E_USAGE;
    if (cli_value(p, "snapshot-recovery-instance") || cli_value(p, "snapshot-recovery-zone"))
        return cel_err_set(err, CEL_E_USAGE,
                           "cloud-restore: snapshot backups are not supported: cellar "
                           "restores backups stored as objects");
    req.n_tablespaces = cli_values(p, "tablespace", rules, CEL_ARRAY_LEN(rules));
    req.tablespaces = rules;
    return op_cloud_restore(ctx, &req, err);
}

static int run_cloud_backup_delete(const struct op_ctx *ctx, const struct cli_parsed *p,
                                   struct cel_err *err)
{
    struct op_cloud_delete_req req = {.backup = cli_value(p, "backup-id"),
                                      .policy = cli_value(p, "retention-policy"),
                                      .dry_run = cli_value(p, "dry-run") != NULL};
    int min = 0, batch = 0;
    if (cloud_store(p, &req.store, err) < 0 ||
        int_option(p, "minimum-redundancy", 0, 1000, &min, err) < 0 ||
        int_option(p, "batch-size", 1, 1000, &batch, err) < 0)
        return -CEL_E_USAGE;
    if (!req.backup == !req.policy)
        return cel_err_set(err, CEL_E_USAGE,
                           "cloud-backup-delete: give one of -b BACKUP_ID and -r POLICY");
    req.min_redundancy = (unsigned)min;
    return op_cloud_backup_delete(ctx, &req, err);
}

static int run_cloud_backup_keep(const struct op_ctx *ctx, const struct cli_parsed *p,
                                 struct cel_err *err)
{
    struct op_cloud_keep_req req = {.backup = p->args[2], .target = cli_value(p, "target")};
    bool release = cli_value(p, "release") != NULL, status = cli_value(p, "status") != NULL;
    if (cloud_store(p, &req.store, err) < 0)
        return -CEL_E_USAGE;
    if ((int)release + (int)status + (int)(req.target != NULL) != 1)
        return cel_err_set(err, CEL_E_USAGE,
                           "cloud-backup-keep: give one of -r/--release, -s/--status and "
                           "--target full|standalone");
    req.action = release  ? OP_CLOUD_KEEP_RELEASE
                 : status ? OP_CLOUD_KEEP_STATUS
                          : OP_CLOUD_KEEP_ADD;
    return op_cloud_backup_keep(ctx, &req, err);
}

/* cloud-backup: barman-cloud-backup 3.4's arguments */
static int run_cloud_backup(const struct op_ctx *ctx, const struct cli_parsed *p,
                            struct cel_err *err)
{
    struct op_cloud_backup_req req = {
        .immediate_checkpoint = cli_value(p, "immediate-checkpoint") != NULL,
        .name = cli_value(p, "name"),
        .jobs = 2,
    };
    int rc = cloud_store(p, &req.store, err);
    if (rc < 0)
        return rc;
    rc = cloud_comp_option(p, &req.comp, err);
    if (rc < 0)
        return rc;
    rc = int_option(p, "jobs", 1, 64, &req.jobs, err);
    if (rc < 0)
        return rc;
    const char *size = cli_value(p, "max-archive-size");
    if (size && cloud_size_parse(size, &req.max_archive_size, err) < 0) {
        cel_err_prefix(err, "%s: --max-archive-size", p->cmd->name);
        err->code = CEL_E_USAGE;
        return -CEL_E_USAGE;
    }
    if (req.name && cat_check_backup_name(req.name, err) < 0) {
        cel_err_prefix(err, "%s: --name", p->cmd->name);
        err->code = CEL_E_USAGE;
        return -CEL_E_USAGE;
    }
    const char *dbname = cli_value(p, "dbname");
    char *conninfo = pg_conninfo_build(cli_value(p, "host"), cli_value(p, "port"),
                                       cli_value(p, "user"), dbname ? dbname : "postgres");
    req.conninfo = conninfo;
    rc = op_cloud_backup(ctx, &req, err);
    free(conninfo);
    return rc;
}

/* ---- the table ------------------------------------------------------------ */

/* barman-cloud's options that every cloud-* command takes, first in each
 * command's table so every help lists them alike (cloud_store_options) */
#define CLOUD_STORE_OPTS                                                                     \
    {"endpoint-url", 0, "URL", "the S3-compatible store's URL (default: AWS S3)"},           \
        {"profile", 'P', "NAME", "the profile of the AWS credentials files to use"},         \
        {"read-timeout", 0, "SECONDS", "fail a transfer stalled this long (default: 60)"},   \
        {"cloud-provider", 0, "PROVIDER", "aws-s3, the only one cellar speaks"},             \
        {"test", 't', NULL, "test the connection to the store and exit"}

/* ---- cloud ---- */

static const struct cli_opt cloud_wal_archive_opts[] = {
    CLOUD_STORE_OPTS,
    {"gzip", 'z', NULL, "compress with gzip (.gz)"},
    {"bzip2", 'j', NULL, "compress with bzip2 (.bz2)"},
    {"zstd", 0, NULL, "compress with zstd (.zst; barman-cloud 3.4 does not read it)"},
    {"lz4", 0, NULL, "compress with lz4 (.lz4; barman-cloud 3.4 does not read it)"},
    {"snappy", 0, NULL, "refused: cellar does not write snappy"},
    {"encryption", 'e', "AES256|aws:kms", "refused for now: the client cannot send it"},
    {"tags", 0, "KEY,VALUE", "refused for now: the client cannot send tags"},
    {"history-tags", 0, "KEY,VALUE", "refused for now: the client cannot send tags"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt cloud_wal_restore_opts[] = {
    CLOUD_STORE_OPTS,
    {"parallel", 0, "N", "also fetch the next N-1 segments into the spool (default 1)"},
    {"spool-directory", 0, "DIR", "the spool of --parallel (default /var/tmp/walrestore)"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt cloud_check_wal_archive_opts[] = {
    CLOUD_STORE_OPTS,
    {"timeline", 0, "N", "allow WAL of the timelines before N only (default: no WAL at all)"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt cloud_list_opts[] = {
    CLOUD_STORE_OPTS,
    {"format", 0, "FORMAT", "console (default) or json: {\"backups_list\": [...]} on stdout"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt cloud_restore_opts[] = {
    CLOUD_STORE_OPTS,
    {"tablespace", 0, "NAME:LOCATION", "put tablespace NAME in LOCATION (may be repeated)"},
    {"jobs", 'J', "N", "tar objects fetched and extracted at once (default: one per CPU)"},
    {"snapshot-recovery-instance", 0, "NAME", "snapshot backups: not supported"},
    {"snapshot-recovery-zone", 0, "ZONE", "snapshot backups: not supported"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt cloud_delete_opts[] = {
    CLOUD_STORE_OPTS,
    {"backup-id", 'b', "BACKUP_ID", "the backup to delete (an ID, latest, oldest or a name)"},
    {"retention-policy", 'r', "POLICY",
     "delete every backup the policy makes obsolete: REDUNDANCY n | RECOVERY WINDOW OF n "
     "DAYS|WEEKS|MONTHS"},
    {"minimum-redundancy", 'm', "N", "with -r: keep at least N backups (default 0)"},
    {"dry-run", 0, NULL, "print the objects that would be deleted; delete nothing"},
    {"batch-size", 0, "N", "accepted for barman-cloud's scripts; DeleteObjects takes 1,000"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt cloud_keep_opts[] = {
    CLOUD_STORE_OPTS,
    {"release", 'r', NULL, "release the keep: the backup follows retention again"},
    {"status", 's', NULL, "print the keep target of the backup (Keep: nokeep without one)"},
    {"target", 0, "TARGET", "keep the backup: full (with all its later WAL) or standalone"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt cloud_backup_opts[] = {
    CLOUD_STORE_OPTS,
    {"gzip", 'z', NULL, "gzip-compress the archives"},
    {"bzip2", 'j', NULL, "bzip2-compress the archives"},
    {"snappy", 0, NULL, "snappy (barman-cloud's; not supported by cellar)"},
    {"host", 'h', "HOST", "host or Unix socket of PostgreSQL (default: libpq's)"},
    {"port", 'p', "PORT", "port of PostgreSQL (default: libpq's)"},
    {"user", 'U', "USER", "user name for PostgreSQL (default: libpq's)"},
    {"dbname", 'd', "DBNAME", "database name or conninfo string (default: postgres)"},
    {"immediate-checkpoint", 0, NULL, "start with an immediate checkpoint"},
    {"jobs", 'J', "JOBS", "parts of an archive uploaded at once (default: 2)"},
    {"max-archive-size", 'S', "SIZE",
     "start a new archive (data_0001.tar...) past SIZE, e.g. 10GB (default: 100GB)"},
    {"name", 'n', "NAME", "a name for the backup, usable instead of its ID"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt minimal_opts[] = {
    {"minimal", 0, NULL, "print only the names (IDs), one per line"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt show_server_opts[] = {
    {"no-connect", 0, NULL, "do not connect to PostgreSQL; show the configuration only"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt check_opts[] = {
    {"check-timeout", 0, "SECONDS",
     "time allowed to each server's checks, instead of its check_timeout (Barman 3.15)"},
    {"nagios", 0, NULL,
     "one line in the Nagios plugin format (BARMAN OK|CRITICAL - ...); exit 0 or 2"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt jobs_opts[] = {
    {"jobs", 'j', "N", "compression processes (default: one per CPU)"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt cron_opts[] = {
    {"jobs", 'j', "N", "compression processes per server (default: one per CPU)"},
    {"keep-descriptors", 0, NULL,
     "the receive-wal processes cron starts keep its standard output and error"},
    {"dry-run", 'n', NULL, "change nothing; print what retention would delete"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt put_wal_opts[] = {
    {"name", 0, "NAME", "the WAL file's name (%f) when the file comes on standard input"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt get_wal_opts[] = {
    {"output-directory", 'o', "DIR", "write DIR/NAME (durably) instead of standard output"},
    {"partial", 'P', NULL, "also look for NAME.partial"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt replication_status_opts[] = {
    {"target", 0, "TARGET",
     "hot-standby (standbys only), wal-streamer (WAL streaming clients such as pg_receivewal "
     "only) or all (default)"},
    {"minimal", 0, NULL, "one line per client (Barman's machine-readable form)"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt switch_wal_opts[] = {
    {"force", 0, NULL, "run a CHECKPOINT first, so there is always WAL to switch"},
    {"archive", 0, NULL, "wait until the closed segment is archived"},
    {"archive-timeout", 0, "SECONDS", "how long --archive waits (default 30)"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt receive_wal_opts[] = {
    {"stop", 0, NULL, "stop the receive-wal process of the server (Barman's or cellar's)"},
    {"reset", 0, NULL,
     "reset the status of receive-wal: realign streaming/ with the server's position"},
    {"create-slot", 0, NULL, "create the replication slot slot_name, if it does not exist"},
    {"drop-slot", 0, NULL, "drop the replication slot slot_name, if it exists"},
    {"if-not-exists", 0, NULL, "with --create-slot: a slot that already exists is no error"},
    {"detach", 0, NULL,
     "start the receiver in the background, as cron does, and return once it runs (cellar's "
     "own)"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt list_files_opts[] = {
    {"target", 0, "TARGET",
     "standalone (default: the backup and the archived WAL it needs), data (the backup only), "
     "wal (the WAL up to the next backup) or full (data and wal)"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt config_switch_opts[] = {
    {"reset", 0, NULL, "leave the server with no active model"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt keep_opts[] = {
    {"target", 0, "TARGET",
     "keep the backup: full (it stays with all the WAL after it) or standalone (with only the "
     "WAL it needs to be consistent)"},
    {"status", 's', NULL, "print the backup's keep target, or nokeep"},
    {"release", 'r', NULL, "release the keep: retention may make the backup obsolete again"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt backup_opts[] = {
    {"immediate-checkpoint", 0, NULL, "start with an immediate checkpoint (immediate_checkpoint)"},
    {"no-immediate-checkpoint", 0, NULL, "start with a spread checkpoint"},
    {"reuse-backup", 0, "off|copy|link",
     "take unchanged files from the previous backup (reuse_backup): link saves space and time"},
    {"jobs", 'j', "N", "parallel rsync processes (parallel_jobs)"},
    {"retry-times", 0, "N", "retries of a failed copy (basebackup_retry_times)"},
    {"no-retry", 0, NULL, "do not retry a failed copy"},
    {"retry-sleep", 0, "SECONDS", "pause between retries (basebackup_retry_sleep)"},
    {"name", 'n', "NAME", "a name for the backup, usable instead of its ID"},
    {"wait", 'w', NULL, "wait until the backup's WAL is archived and the backup is DONE"},
    {"wait-timeout", 0, "SECONDS", "give up waiting after SECONDS (implies --wait)"},
    {NULL, 0, NULL, NULL},
};

/* recover's option per kind of target: a row of the target table. */
#define CLI_TARGET_OPT(kind, option, setting, word, metavar, inclusive, help, label, when,         \
                       prompt)                                                                     \
    {option, 0, metavar, help},

static const struct cli_opt recover_opts[] = {
    {"remote-ssh-command", 0, "CMD", "recover on the host this ssh command reaches"},
    {"staging-wal-directory", 0, "DIR",
     "with a target: copy the WAL into DIR (absolute, on the destination host, new or empty; "
     "removed at the end of recovery) instead of DEST/barman_wal"},
    RC_TARGET_KINDS(CLI_TARGET_OPT)
    {"exclusive", 0, NULL, "stop just before the target, not after it"},
    {"target-tli", 0, "TLI",
     "the timeline to follow: current, latest or a number (its history file must be archived)"},
    {"target-action", 0, "ACTION", "at the target: pause (default), promote or shutdown"},
    {"tablespace", 0, "NAME:DIR", "put tablespace NAME in DIR (may be repeated)"},
    {"get-wal", 0, NULL, "fetch WAL with restore_command = cellar get-wal instead of copying it"},
    {"no-get-wal", 0, NULL, "copy the WAL needed (overrides recovery_options = get-wal)"},
    {"standby-mode", 0, NULL, "start the copy as a standby (standby.signal)"},
    {"jobs", 'j', "N", "parallel rsync processes (parallel_jobs)"},
    {"retry-times", 0, "N", "retries of a failed copy (basebackup_retry_times)"},
    {"no-retry", 0, NULL, "do not retry a failed copy"},
    {"retry-sleep", 0, "SECONDS", "pause between retries (basebackup_retry_sleep)"},
    {"bwlimit", 0, "KBPS", "bandwidth limit of the copy (bandwidth_limit)"},
    {"force", 0, NULL,
     "skip the target, WAL and free space checks (never the destination's)"},
    {"dry-run", 0, NULL, "make every check and print the plan; write nothing, run no hook"},
    {"wizard", 0, NULL, "the guided recovery in the console: recover --wizard SERVER"},
    {"window", 0, NULL,
     "recover --window SERVER: print the recoverable window (the backups, the end of the "
     "archived WAL) and recover nothing"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_opt start_recovered_opts[] = {
    {"query", 'q', "SQL", "the check query, run read-only (default: the databases and sizes)"},
    {"dbname", 'd', "DB", "the database the query runs in (default postgres)"},
    {"db-user", 'U', "ROLE", "the role to connect as, one of the backup's (default postgres)"},
    {"user", 'u', "USER", "as root: the OS user that runs the server (default postgres)"},
    {"port", 'p', "PORT", "the port on 127.0.0.1 (default: a free one)"},
    {"timeout", 't', "SECONDS", "how long to wait for the end of recovery (default 600)"},
    {"stop", 0, NULL, "stop the server after the check (a restore drill)"},
    {NULL, 0, NULL, NULL},
};

/* cloud-upload: a configured server's copy in its cloud_destination */
static const struct cli_opt cloud_upload_opts[] = {
    {"dry-run", 'n', NULL, "upload and delete nothing; say what waits for upload"},
    {NULL, 0, NULL, NULL},
};

static int run_cloud_upload(const struct op_ctx *ctx, const struct cli_parsed *p,
                            struct cel_err *err)
{
    struct op_cloud_upload_req req = {.server = p->args[0],
                                      .dry_run = cli_value(p, "dry-run") != NULL};
    return op_cloud_upload(ctx, &req, err);
}

const struct cli_cmd cli_commands[] = {
    {"archive-wal", {NULL}, "SERVER|all...",
     "archive the WAL files waiting in incoming/ (compressed, checked, durable)", 1,
     CLI_MAX_ARGS, jobs_opts, true, run_archive_wal},
    {"backup", {NULL}, "SERVER|all...",
     "take a base backup (rsync, locally or over ssh_command; non-exclusive API)", 1,
     CLI_MAX_ARGS, backup_opts, true, run_backup},
    {"check", {NULL}, "SERVER|all...",
     "check that servers are ready for backup and recovery; each failure says how to fix it", 1,
     CLI_MAX_ARGS, check_opts, true, run_check},
    {"check-backup", {NULL}, "SERVER BACKUP_ID",
     "check that every WAL segment a backup needs is archived; the backup becomes DONE, "
     "WAITING_FOR_WALS or FAILED as in Barman",
     2, 2, NULL, true, run_check_backup},
    /* ---- cloud ---- */
    {"cloud-backup", {NULL}, "DESTINATION_URL SERVER_NAME",
     "back up the local PostgreSQL server into an object store, as barman-cloud-backup does "
     "(run on its host)",
     2, 2, cloud_backup_opts, false, run_cloud_backup},
    {"cloud-backup-delete", {NULL}, "SOURCE_URL SERVER_NAME",
     "delete a backup of a bucket (-b) or those a retention policy obsoletes (-r), with the WAL "
     "no backup needs",
     2, 2, cloud_delete_opts, false, run_cloud_backup_delete},
    {"cloud-backup-keep", {NULL}, "SOURCE_URL SERVER_NAME BACKUP_ID",
     "keep a backup of a bucket from retention, release it or show its keep status", 3, 3,
     cloud_keep_opts, false, run_cloud_backup_keep},
    {"cloud-backup-list", {NULL}, "SOURCE_URL SERVER_NAME",
     "list the backups of a server in a bucket, as barman-cloud-backup-list", 2, 2,
     cloud_list_opts, false, run_cloud_backup_list},
    {"cloud-backup-show", {NULL}, "SOURCE_URL SERVER_NAME BACKUP_ID",
     "show one backup of a bucket, as barman-cloud-backup-show", 3, 3, cloud_list_opts, false,
     run_cloud_backup_show},
    {"cloud-check-wal-archive", {NULL}, "DESTINATION_URL SERVER_NAME",
     "check that a bucket holds no WAL of the server (or only of older timelines)", 2, 2,
     cloud_check_wal_archive_opts, false, run_cloud_check_wal_archive},
    {"cloud-restore", {NULL}, "SOURCE_URL SERVER_NAME BACKUP_ID RECOVERY_DIR",
     "restore a backup of a bucket into RECOVERY_DIR, streaming its tar objects", 4, 4,
     cloud_restore_opts, false, run_cloud_restore},
    {"cloud-upload", {NULL}, "SERVER|all",
     "copy a server's archived WAL and DONE backups the bucket lacks to its cloud_destination "
     "(cron does it too), then apply its retention there",
     1, 1, cloud_upload_opts, true, run_cloud_upload},
    {"cloud-wal-archive", {NULL}, "DESTINATION_URL SERVER_NAME WAL_PATH",
     "archive one WAL file into a bucket, stored and verified (archive_command, "
     "barman-cloud-wal-archive)",
     2, 3, cloud_wal_archive_opts, false, run_cloud_wal_archive},
    {"cloud-wal-restore", {NULL}, "SOURCE_URL SERVER_NAME WAL_NAME WAL_DEST",
     "fetch one WAL file from a bucket (restore_command, barman-cloud-wal-restore)", 4, 4,
     cloud_wal_restore_opts, false, run_cloud_wal_restore},
    {"config-switch", {NULL}, "SERVER [MODEL]",
     "lay a configuration model (a section with model = true) over a server, or --reset to "
     "none (Barman 3.10)",
     1, 2, config_switch_opts, true, run_config_switch},
    {"config-update", {NULL}, "JSON",
     "create or change servers' and models' options in .barman.auto.conf from a JSON list of "
     "changes (Barman 3.10)",
     1, 1, NULL, true, run_config_update},
    {"cron", {NULL}, "", "run the maintenance of every server: WAL archiving, backups, retention",
     0, 0, cron_opts,
     true, run_cron},
    {"delete", {NULL}, "SERVER BACKUP_ID",
     "delete a backup and the WAL only it needed (never below minimum_redundancy)", 2, 2, NULL,
     true, run_delete},
    {"diagnose", {NULL}, "", "print versions, configuration and catalogue as JSON for a bug report",
     0, 0, show_server_opts, true, run_diagnose},
    {"generate-manifest", {NULL}, "SERVER BACKUP_ID",
     "write a backup_manifest (SHA-256) for a complete plain backup that has none", 2, 2, NULL,
     true, run_generate_manifest},
    {"get-wal", {NULL}, "SERVER WAL_NAME",
     "write an archived WAL file's original bytes (restore_command = 'cellar get-wal SERVER %f "
     "> %p')",
     2, 2, get_wal_opts, true, run_get_wal},
    {"keep", {NULL}, "SERVER BACKUP_ID",
     "keep a backup whatever the retention policy says (--target), show (--status) or release "
     "(--release) its keep",
     2, 2, keep_opts, true, run_keep},
    {"list-backup", {"list-backups", NULL}, "SERVER|all...",
     "list the backups of servers, newest first", 1, CLI_MAX_ARGS, minimal_opts, true,
     run_list_backup},
    {"list-files", {NULL}, "SERVER BACKUP_ID", "list the files of a backup", 2, 2,
     list_files_opts, true, run_list_files},
    {"list-processes", {NULL}, "SERVER",
     "list the processes working on a server (backup, receive-wal, cron, ...), by the locks "
     "they hold",
     1, 1, NULL, true, run_list_processes},
    {"list-server", {"list-servers", NULL}, "", "list the configured servers", 0, 0, minimal_opts,
     true, run_list_server},
    {"lock-directory-cleanup", {NULL}, "",
     "remove the lock files nobody holds from the lock directory (cron does it too)", 0, 0,
     NULL, true, run_lock_directory_cleanup},
    {"put-wal", {NULL}, "SERVER [WAL_FILE]",
     "receive one WAL file from archive_command ('cellar put-wal SERVER %p') into incoming/", 1,
     2, put_wal_opts, true, run_put_wal},
    {"rebuild-xlogdb", {NULL}, "SERVER|all...", "rebuild xlog.db from the files in the archive",
     1, CLI_MAX_ARGS, NULL, true, run_rebuild_xlogdb},
    {"receive-wal", {NULL}, "SERVER",
     "stream WAL with pg_receivewal into streaming/ (cron keeps it running when "
     "streaming_archiver = on)",
     1, 1, receive_wal_opts, true, run_receive_wal},
    {"recover", {NULL}, "SERVER BACKUP_ID DEST",
     "recover a backup (BACKUP_ID may be auto) and the WAL to a target into DEST (--wizard "
     "SERVER: guided, in the console; --window SERVER: the recoverable window)",
     1, 3,
     recover_opts, true, run_recover},
    {"replication-status", {NULL}, "SERVER|all...",
     "show the streaming clients (standbys, WAL streamers) attached to a server, live from "
     "pg_stat_replication",
     1, CLI_MAX_ARGS, replication_status_opts, true, run_replication_status},
    {"show-backup", {"show-backups", NULL}, "SERVER BACKUP_ID",
     "show everything about one backup (BACKUP_ID may be latest, oldest, last-failed or a name)",
     2, 2, NULL, true, run_show_backup},
    {"show-server", {"show-servers", NULL}, "SERVER|all...",
     "show the effective configuration of servers and what PostgreSQL reports", 1, CLI_MAX_ARGS,
     show_server_opts, true, run_show_server},
    {"start-recovered", {NULL}, "DEST",
     "start a recovered data directory on 127.0.0.1, wait for its recovery to end, run a check "
     "query",
     1, 1, start_recovered_opts, false, run_start_recovered},
    {"status", {NULL}, "SERVER|all...",
     "show a server's state: PostgreSQL, archiving, backups, retention (Barman's layout)", 1,
     CLI_MAX_ARGS, NULL, true, run_status},
    {"stop-recovered", {NULL}, "DEST", "stop a server that start-recovered started", 1, 1, NULL,
     false, run_stop_recovered},
    {"switch-wal", {"switch-xlog", NULL}, "SERVER",
     "close the current WAL segment (pg_switch_wal) and optionally wait for it to be archived", 1,
     1, switch_wal_opts, true, run_switch_wal},
    {"terminate-process", {NULL}, "SERVER TASK",
     "stop the process of a server's task (receive-wal, backup, cron, archive-wal, sync-wal) "
     "with SIGINT",
     2, 2, NULL, true, run_terminate_process},
    {"verify-backup", {NULL}, "SERVER BACKUP_ID",
     "check a backup's files against its backup_manifest (pg_verifybackup; tar backups: cellar)",
     2, 2, NULL, true,
     run_verify_backup},
};

const size_t cli_command_count = sizeof cli_commands / sizeof cli_commands[0];

const struct cli_cmd *cli_find(const char *name)
{
    for (size_t i = 0; i < cli_command_count; i++) {
        const struct cli_cmd *c = &cli_commands[i];
        if (strcmp(c->name, name) == 0)
            return c;
        for (size_t a = 0; a < CEL_ARRAY_LEN(c->aliases) && c->aliases[a]; a++)
            if (strcmp(c->aliases[a], name) == 0)
                return c;
    }
    return NULL;
}

/* ---- parsing --------------------------------------------------------------- */

static int find_opt(const struct cli_cmd *cmd, const char *name, size_t len, char short_name)
{
    for (int i = 0; cmd->opts && cmd->opts[i].name; i++) {
        const struct cli_opt *o = &cmd->opts[i];
        if (short_name ? o->short_name == short_name
                       : strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return i;
    }
    return -1;
}

int cli_parse(const struct cli_cmd *cmd, int argc, char *const argv[], struct cli_parsed *out,
              struct cel_err *err)
{
    memset(out, 0, sizeof *out);
    out->cmd = cmd;
    bool options_done = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (options_done || a[0] != '-' || a[1] == '\0') {
            if (out->nargs == CLI_MAX_ARGS)
                return cel_err_set(err, CEL_E_USAGE, "%s: too many arguments", cmd->name);
            out->args[out->nargs++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        int idx;
        const char *value = NULL;
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            idx = find_opt(cmd, name, len, 0);
            if (idx < 0)
                return cel_err_set(err, CEL_E_USAGE, "%s: unknown option '--%.*s'", cmd->name,
                                   (int)len, name);
            if (eq)
                value = eq + 1;
        } else {
            idx = find_opt(cmd, NULL, 0, a[1]);
            if (idx < 0)
                return cel_err_set(err, CEL_E_USAGE, "%s: unknown option '-%c'", cmd->name, a[1]);
            if (a[2])
                value = a + 2;
        }
        const struct cli_opt *o = &cmd->opts[idx];
        if (o->arg_name && !value) {
            if (i + 1 >= argc)
                return cel_err_set(err, CEL_E_USAGE, "%s: option '--%s' needs %s", cmd->name,
                                   o->name, o->arg_name);
            value = argv[++i];
        } else if (!o->arg_name && value) {
            return cel_err_set(err, CEL_E_USAGE, "%s: option '--%s' takes no value", cmd->name,
                               o->name);
        }
        out->values[idx] = o->arg_name ? value : "";
        if (out->ngiven == CLI_MAX_GIVEN)
            return cel_err_set(err, CEL_E_USAGE, "%s: too many options", cmd->name);
        out->given[out->ngiven].opt = idx;
        out->given[out->ngiven].value = out->values[idx];
        out->ngiven++;
    }
    if (out->nargs < cmd->min_args || out->nargs > cmd->max_args) {
        int rc = cel_err_set(err, CEL_E_USAGE, "%s: expected %s%s%s", cmd->name,
                             cmd->synopsis[0] ? cmd->synopsis : "no arguments",
                             out->nargs < cmd->min_args ? ", missing " : ", too many arguments",
                             out->nargs < cmd->min_args ? "arguments" : "");
        cel_err_hint(err, "Run 'cellar %s --help'.", cmd->name);
        return rc;
    }
    return 0;
}

const char *cli_value(const struct cli_parsed *p, const char *name)
{
    int idx = find_opt(p->cmd, name, strlen(name), 0);
    return idx < 0 ? NULL : p->values[idx];
}

size_t cli_values(const struct cli_parsed *p, const char *name, const char **out, size_t max)
{
    int idx = find_opt(p->cmd, name, strlen(name), 0);
    size_t n = 0;
    for (int i = 0; idx >= 0 && i < p->ngiven; i++)
        if (p->given[i].opt == idx) {
            if (n < max)
                out[n] = p->given[i].value;
            n++;
        }
    return n;
}

/* ---- help -------------------------------------------------------------------- */

void cli_help_general(struct strbuf *out)
{
    sb_append(out,
              "cellar - backup and recovery manager for PostgreSQL (Barman compatible)\n"
              "\n"
              "Usage:\n"
              "  cellar [OPTIONS] COMMAND [ARGS]     run one command and exit\n"
              "  cellar --batch [OPTIONS] COMMAND    the same for cron: no colour, no progress\n"
              "                                      redraw, never reads the terminal\n"
              "\n"
              "Options:\n"
              "  -c, --config FILE     configuration file (default: ~/.cellar.conf,\n"
              "                        /etc/cellar.conf, /etc/cellar/cellar.conf, then Barman's\n"
              "                        ~/.barman.conf, /etc/barman.conf, /etc/barman/barman.conf)\n"
              "  -f, --format FORMAT   text (default) or json: one JSON object per event and line\n"
              "  -q, --quiet           print nothing but errors\n"
              "  -d, --debug           print debug messages on stderr and in the log\n"
              "      --batch           non-interactive mode (see above)\n"
              "      --theme NAME      colour theme of the console\n"
              "      --version         print the version and exit\n"
              "  -h, --help            this help; 'cellar COMMAND --help' for a command's\n"
              "\n"
              "Commands:\n");
    for (size_t i = 0; i < cli_command_count; i++)
        sb_appendf(out, "  %-13s %s\n", cli_commands[i].name, cli_commands[i].summary);
    sb_append(out, "\n"
                   "Exit status: 0 done, 1 the operation failed, 2 usage or configuration error,\n"
                   "3 a check failed.\n");
}

void cli_help_command(const struct cli_cmd *cmd, struct strbuf *out)
{
    sb_appendf(out, "Usage: cellar [OPTIONS] %s%s%s%s\n\n%s.\n", cmd->name,
               cmd->opts ? " [COMMAND OPTIONS]" : "", cmd->synopsis[0] ? " " : "", cmd->synopsis,
               cmd->summary);
    if (cmd->aliases[0]) {
        sb_append(out, "\nAlso called:");
        for (size_t a = 0; a < CEL_ARRAY_LEN(cmd->aliases) && cmd->aliases[a]; a++)
            sb_appendf(out, " %s", cmd->aliases[a]);
        sb_append(out, "\n");
    }
    if (cmd->opts && cmd->opts[0].name) {
        sb_append(out, "\nCommand options:\n");
        for (size_t i = 0; cmd->opts[i].name; i++) {
            const struct cli_opt *o = &cmd->opts[i];
            char head[64];
            if (o->short_name)
                snprintf(head, sizeof head, "-%c, --%s%s%s", o->short_name, o->name,
                         o->arg_name ? " " : "", o->arg_name ? o->arg_name : "");
            else
                snprintf(head, sizeof head, "    --%s%s%s", o->name, o->arg_name ? " " : "",
                         o->arg_name ? o->arg_name : "");
            sb_appendf(out, "  %-26s %s\n", head, o->help);
        }
    }
    /* main.c's cloud_exit_status: barman-cloud's commands, which need no
     * configuration (cloud-upload works on a configured server) */
    if (strncmp(cmd->name, "cloud-", 6) == 0 && !cmd->needs_config)
        sb_append(out, "\nExit status (barman-cloud's): 0 done, 1 the operation failed (a WAL not "
                       "found, a check\nfailed), 2 the store cannot be reached, 3 a bad command "
                       "line, 4 any other error.\n");
}
