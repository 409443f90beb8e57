/*
 * config_options.c - the option table: every configuration option cellar
 * knows, with its scope, type, default, accepted values and meaning.
 *
 * This table is the single source for the loader (config.c), the error
 * messages, show-server and diagnose, and the documentation. Keep it sorted
 * by name (a unit test checks). Defaults are Barman 3.4's. Options Barman
 * has and cellar does not use are listed as CFG_T_IGNORED so that an
 * existing barman.conf loads without warnings about them. Every other option
 * ends with an example value for cellar.conf(5); tools/mkman.c loads each
 * example and stops the build when one is refused.
 */
#include <stddef.h>

#include "config.h"

#define SRV(field) offsetof(struct cfg_server, field)
#define GLB(field) offsetof(struct cfg_global, field)
/* A CFG_T_ENUM field: the loader stores a choice's int value into it and
 * show-server reads it back as an int, so the field's enum type must have
 * the size of int; the build stops here when one does not. */
#define SRV_ENUM(field)                                                                           \
    (SRV(field) +                                                                                 \
     0 * sizeof(char[sizeof(((struct cfg_server *)0)->field) == sizeof(int) ? 1 : -1]))
#define HOOK(opt, idx, what)                                                                      \
    {opt, CFG_BOTH, CFG_T_STRING, SRV(hooks[idx]), NULL, "a shell command", what, 0, 0, NULL,     \
     "env | grep ^BARMAN"}
/* A Barman option cellar accepts and does not use; why says why, for the
 * load's note (IGNORED: nothing the DBA relies on is lost) or warning
 * (UNSUPPORTED: Barman would act on it and cellar cannot). */
#define IGNORED(opt, scope, why)                                                                  \
    {opt, scope, CFG_T_IGNORED, 0, NULL, "anything", why, CFG_IGNORED_NOTE, 0, NULL, NULL}
#define UNSUPPORTED(opt, scope, why)                                                              \
    {opt, scope, CFG_T_IGNORED, 0, NULL, "anything", why, CFG_IGNORED_WARN, 0, NULL, NULL}
#define SNAPSHOT_ONLY                                                                             \
    "only snapshot backups use it (backup_method = snapshot is not built in cellar)"
#define INCREMENTAL_ONLY                                                                          \
    "block-level incremental backups (PostgreSQL 17, Barman 3.11) are not built in cellar"
#define BARMAN_CLOUD_STAGING                                                                      \
    "Barman 3.18's backups into basebackups_directory = s3://... are not built in cellar; a "     \
    "server's copy in a bucket is cloud_destination (doc/cloud.md)"
#define NO_STAGING "cellar decompresses tar backups while it streams them, with no staging"
#define BATCH_START "cellar starts all parallel_jobs copy workers at once"

/* what barman-cloud-backup 3.4 writes and reads: -z and -j */
static const struct cfg_choice cloud_compression_choices[] = {
    {"none", CLOUD_COMP_NONE}, {"gzip", CLOUD_COMP_GZIP}, {"bzip2", CLOUD_COMP_BZIP2}, {NULL, 0},
};

/* Barman 3.14's encryption: archived WAL files as GnuPG messages */
static const struct cfg_choice encryption_choices[] = {
    {"none", CFG_ENC_NONE}, {"gpg", CFG_ENC_GPG}, {NULL, 0},
};

static const struct cfg_choice compression_choices[] = {
    {"gzip", COMP_GZIP},     {"bzip2", COMP_BZIP2}, {"zstd", COMP_ZSTD},
    {"lz4", COMP_LZ4},       {"custom", COMP_CUSTOM},
    /* Barman's other spellings of the same formats */
    {"pigz", COMP_GZIP},     {"pygzip", COMP_GZIP}, {"pybzip2", COMP_BZIP2},
    {NULL, 0},
};

static const struct cfg_choice backup_method_choices[] = {
    {"rsync", CFG_BM_RSYNC},       {"local-rsync", CFG_BM_LOCAL_RSYNC},
    {"postgres", CFG_BM_POSTGRES}, {"snapshot", CFG_BM_SNAPSHOT},
    {NULL, 0},
};

static const struct cfg_choice bb_compression_choices[] = {
    {"gzip", CFG_BBC_GZIP}, {"lz4", CFG_BBC_LZ4}, {"zstd", CFG_BBC_ZSTD}, {NULL, 0},
};

static const struct cfg_choice bb_format_choices[] = {
    {"plain", CFG_BBF_PLAIN}, {"tar", CFG_BBF_TAR}, {NULL, 0},
};

static const struct cfg_choice bb_location_choices[] = {
    {"client", CFG_BBL_CLIENT}, {"server", CFG_BBL_SERVER}, {NULL, 0},
};

static const struct cfg_choice backup_options_choices[] = {
    {"concurrent_backup", CFG_BO_CONCURRENT},
    {"exclusive_backup", CFG_BO_EXCLUSIVE},
    {"external_configuration", CFG_BO_EXTERNAL_CONFIGURATION},
    {NULL, 0},
};

static const struct cfg_choice recovery_options_choices[] = {
    {"get-wal", CFG_RO_GET_WAL},
    {NULL, 0},
};

static const struct cfg_choice reuse_choices[] = {
    {"off", CFG_REUSE_OFF},
    {"copy", CFG_REUSE_COPY},
    {"link", CFG_REUSE_LINK},
    {NULL, 0},
};

static const struct cfg_choice retention_mode_choices[] = {
    {"auto", CFG_RETENTION_MODE_AUTO},
    {NULL, 0},
};

static const struct cfg_choice create_slot_choices[] = {
    {"manual", CFG_CREATE_SLOT_MANUAL},
    {"auto", CFG_CREATE_SLOT_AUTO},
    {NULL, 0},
};

static const struct cfg_choice xlogdb_format_choices[] = {
    {"auto", CFG_XDB_AUTO}, {"3.4", CFG_XDB_3_4}, {"3.13", CFG_XDB_3_13}, {"3.14", CFG_XDB_3_14},
    {NULL, 0},
};

static const struct cfg_choice wal_retention_choices[] = {
    {"main", CFG_WAL_RETENTION_MAIN},
    {NULL, 0},
};

const struct cfg_option cfg_options[] = {
    {"active", CFG_SERVER, CFG_T_BOOL, SRV(active), "true", "true or false",
     "false keeps the server listed but runs no operation on it", 0, 0, NULL, "false"},
    {"archiver", CFG_BOTH, CFG_T_BOOL, SRV(archiver), "off", "on or off",
     "archive the WAL files PostgreSQL's archive_command drops in incoming_wals_directory "
     "(forced on when streaming_archiver is off too, as Barman does)",
     0, 0, NULL, "on"},
    {"archiver_batch_size", CFG_BOTH, CFG_T_INT, SRV(archiver_batch_size), "0",
     "a whole number from 0 to 1000000 (0: no limit)",
     "the most WAL files one archiver run processes", 0, 1000000, NULL, "50"},
    IGNORED("autogenerate_manifest", CFG_BOTH,
                "cellar always writes a backup_manifest for rsync backups"),
    IGNORED("aws_await_snapshots_timeout", CFG_BOTH, SNAPSHOT_ONLY),
    IGNORED("aws_profile", CFG_BOTH, "snapshot backups only; a bucket's profile is cloud_profile"),
    IGNORED("aws_region", CFG_BOTH,
                "snapshot backups only; a bucket's region is AWS_DEFAULT_REGION's"),
    IGNORED("aws_snapshot_lock_cool_off_period", CFG_BOTH, SNAPSHOT_ONLY),
    IGNORED("aws_snapshot_lock_duration", CFG_BOTH, SNAPSHOT_ONLY),
    IGNORED("aws_snapshot_lock_expiration_date", CFG_BOTH, SNAPSHOT_ONLY),
    IGNORED("aws_snapshot_lock_mode", CFG_BOTH, SNAPSHOT_ONLY),
    IGNORED("azure_credential", CFG_BOTH, SNAPSHOT_ONLY),
    IGNORED("azure_resource_group", CFG_BOTH, SNAPSHOT_ONLY),
    IGNORED("azure_subscription_id", CFG_BOTH, SNAPSHOT_ONLY),
    {"backup_compression", CFG_BOTH, CFG_T_ENUM, SRV_ENUM(backup_compression), NULL,
     "gzip, lz4 or zstd (none: no compression)",
     "backup_method = postgres: pg_basebackup compresses the backup (tar format unless "
     "backup_compression_format says plain)",
     0, 0, bb_compression_choices, "gzip"},
    {"backup_compression_format", CFG_BOTH, CFG_T_ENUM, SRV_ENUM(backup_compression_format), NULL,
     "plain or tar (unset: tar)",
     "format of a compressed backup; plain needs backup_compression_location = server", 0, 0,
     bb_format_choices, "tar"},
    {"backup_compression_level", CFG_BOTH, CFG_T_INT, SRV(backup_compression_level), NULL,
     "a whole number: 1-9 for gzip, 1-12 for lz4, 1-22 for zstd",
     "compression level of backup_compression", 1, 22, NULL, "5"},
    {"backup_compression_location", CFG_BOTH, CFG_T_ENUM,
     SRV_ENUM(backup_compression_location), NULL, "client or server (unset: client)",
     "where pg_basebackup compresses: here, or on the PostgreSQL server (15 and later)", 0, 0,
     bb_location_choices, "server"},
    {"backup_compression_workers", CFG_BOTH, CFG_T_INT, SRV(backup_compression_workers), NULL,
     "a whole number from 1 to 64", "zstd compression threads", 1, 64, NULL, "2"},
    {"backup_directory", CFG_SERVER, CFG_T_PATH, SRV(backup_directory), "%(barman_home)s/%(name)s",
     "an absolute path", "the server's directory", 0, 0, NULL, "/srv/cellar/main"},
    {"backup_method", CFG_BOTH, CFG_T_ENUM, SRV_ENUM(backup_method), "rsync",
     "rsync, local-rsync, postgres or snapshot",
     "how base backups are taken: rsync over ssh_command (locally when it is unset), or "
     "postgres: PostgreSQL's pg_basebackup through the replication protocol",
     0, 0, backup_method_choices, "local-rsync"},
    {"backup_options", CFG_BOTH, CFG_T_FLAGS, SRV(backup_options), "concurrent_backup",
     "a comma-separated list of concurrent_backup, exclusive_backup, external_configuration",
     "backup API and extras (concurrent_backup is the only API of PostgreSQL 15 and later)", 0, 0,
     backup_options_choices, "concurrent_backup"},
    {"bandwidth_limit", CFG_BOTH, CFG_T_INT, SRV(bandwidth_limit), "0",
     "kilobytes per second, a whole number (0: no limit)",
     "limit of the copy speed of backups and recoveries", 0, 100000000, NULL, "4000"},
    {"barman_home", CFG_GLOBAL, CFG_T_PATH, GLB(barman_home), NULL, "an absolute path",
     "the directory that holds every server's backups and WAL (required)", 0, 0, NULL,
     "/var/lib/barman"},
    {"barman_lock_directory", CFG_GLOBAL, CFG_T_PATH, GLB(barman_lock_directory),
     "%(barman_home)s", "an absolute path", "where the lock files live", 0, 0, NULL,
     "/run/lock/cellar"},
    {"barman_user", CFG_GLOBAL, CFG_T_STRING, GLB(barman_user), "barman", "a user name",
     "the system user that owns barman_home and runs cellar: started as root, cellar becomes this "
     "user; another user is refused",
     0, 0, NULL, "barman"},
    {"basebackup_retry_sleep", CFG_BOTH, CFG_T_INT, SRV(basebackup_retry_sleep), "30",
     "seconds, a whole number from 0 to 86400", "pause between two attempts of a failed copy", 0,
     86400, NULL, "60"},
    {"basebackup_retry_times", CFG_BOTH, CFG_T_INT, SRV(basebackup_retry_times), "0",
     "a whole number from 0 to 1000", "how many times a failed copy is retried", 0, 1000, NULL,
     "3"},
    {"basebackups_directory", CFG_SERVER, CFG_T_PATH, SRV(basebackups_directory),
     "%(backup_directory)s/base", "an absolute path", "where base backups are kept", 0, 0, NULL,
     "/srv/cellar/main/base"},
    {"cellar_xlogdb_format", CFG_BOTH, CFG_T_ENUM, SRV_ENUM(cellar_xlogdb_format), "auto",
     "auto, 3.4, 3.13 or 3.14",
     "the style of the WAL catalogue cellar writes, for the Barman that shares the home: 3.4 "
     "(wals_directory/xlog.db, 4 fields), 3.13 (xlogdb_directory/<server>-xlog.db, 4 fields), "
     "3.14 (that file, 5 fields); auto follows what is there (cellar's own option: Barman has "
     "none such)",
     0, 0, xlogdb_format_choices, "3.14"},
    {"check_timeout", CFG_BOTH, CFG_T_INT, SRV(check_timeout), "30",
     "seconds, a whole number from 0 to 86400 (0: no limit)",
     "time allowed to the checks of one server", 0, 86400, NULL, "60"},
    {"cloud_compression", CFG_BOTH, CFG_T_ENUM, SRV_ENUM(cloud_compression), "none",
     "none, gzip or bzip2",
     "compression of the tar objects cron writes when it copies a backup to cloud_destination "
     "(barman-cloud-backup's -z and -j)",
     0, 0, cloud_compression_choices, "gzip"},
    UNSUPPORTED("cloud_delete_batch_size", CFG_BOTH, BARMAN_CLOUD_STAGING),
    {"cloud_destination", CFG_SERVER, CFG_T_STRING, SRV(cloud_destination), NULL,
     "s3://BUCKET[/PATH]",
     "cron copies each DONE backup and each archived WAL file there, in barman-cloud's layout, "
     "and applies retention_policy to the copy",
     0, 0, NULL, "s3://backups/pg"},
    {"cloud_endpoint_url", CFG_BOTH, CFG_T_STRING, SRV(cloud_endpoint_url), NULL,
     "http[s]://HOST[:PORT]", "the S3 endpoint of cloud_destination or cloud_source (unset: AWS)",
     0, 0, NULL, "https://s3.example.net"},
    {"cloud_last_upload_maximum_age", CFG_BOTH, CFG_T_INTERVAL,
     SRV(cloud_last_upload_maximum_age), NULL,
     "N HOURS, DAYS, WEEKS or MONTHS (a month is 31 days)",
     "check fails when nothing has been copied to cloud_destination for longer than this while "
     "something waits",
     0, 0, NULL, "1 DAYS"},
    {"cloud_profile", CFG_BOTH, CFG_T_STRING, SRV(cloud_profile), NULL, "a profile name",
     "the AWS profile (~/.aws/credentials, ~/.aws/config) of cloud_destination or cloud_source",
     0, 0, NULL, "backup"},
    {"cloud_server_name", CFG_SERVER, CFG_T_STRING, SRV(cloud_server_name), NULL,
     "a server name as barman-cloud takes it",
     "the SERVER_NAME folder in the bucket (unset: the section's name)", 0, 0, NULL, "pg"},
    {"cloud_source", CFG_SERVER, CFG_T_STRING, SRV(cloud_source), NULL, "s3://BUCKET[/PATH]",
     "the server is a bucket: list-backup, show-backup, recover, delete and retention read and "
     "change the backups barman-cloud or cellar stored there; it has no local catalogue",
     0, 0, NULL, "s3://backups/pg"},
    UNSUPPORTED("cloud_staging_directory", CFG_BOTH, BARMAN_CLOUD_STAGING),
    UNSUPPORTED("cloud_staging_max_size", CFG_BOTH, BARMAN_CLOUD_STAGING),
    UNSUPPORTED("cloud_upload_max_archive_size", CFG_BOTH, BARMAN_CLOUD_STAGING),
    UNSUPPORTED("cloud_upload_min_chunk_size", CFG_BOTH, BARMAN_CLOUD_STAGING),
    UNSUPPORTED("cloud_wal_archive_parallel", CFG_BOTH, BARMAN_CLOUD_STAGING),
    UNSUPPORTED("cloud_wal_restore_parallel", CFG_BOTH, BARMAN_CLOUD_STAGING),
    {"cluster", CFG_SERVER, CFG_T_STRING, SRV(cluster), NULL, "a name",
     "the cluster a configuration model (model = true) must name to apply to this server with "
     "config-switch (unset: the server's name)",
     0, 0, NULL, "pg-cluster"},
    UNSUPPORTED("combine_mode", CFG_BOTH, INCREMENTAL_ONLY),
    {"compression", CFG_BOTH, CFG_T_ENUM, SRV_ENUM(compression), NULL,
     "gzip, bzip2, zstd, lz4, custom or none (pigz and pygzip mean gzip, pybzip2 bzip2)",
     "compression of archived WAL files", 0, 0, compression_choices, "gzip"},
    UNSUPPORTED("compression_level", CFG_BOTH,
                "cellar compresses WAL at each library's default level"),
    {"config_changes_queue", CFG_GLOBAL, CFG_T_PATH, GLB(config_changes_queue),
     "%(barman_home)s/cfg_changes.queue", "an absolute path",
     "Barman's JSON queue of the changes config-update applies to .barman.auto.conf", 0, 0, NULL,
     "/var/lib/cellar/cfg_changes.queue"},
    {"configuration_files_directory", CFG_GLOBAL, CFG_T_PATH,
     GLB(configuration_files_directory), NULL, "an absolute path",
     "a directory whose *.conf files add server sections", 0, 0, NULL, "/etc/cellar.d"},
    {"conninfo", CFG_SERVER, CFG_T_SECRET, SRV(conninfo), NULL, "a libpq connection string",
     "how cellar connects to PostgreSQL (required for backups)", 0, 0, NULL,
     "host=pg user=barman dbname=postgres"},
    {"create_slot", CFG_BOTH, CFG_T_ENUM, SRV_ENUM(create_slot), "manual", "manual or auto",
     "auto: receive-wal creates the replication slot slot_name when it is missing", 0, 0,
     create_slot_choices, "auto"},
    {"custom_compression_filter", CFG_BOTH, CFG_T_STRING, SRV(custom_compression_filter), NULL,
     "a shell command reading stdin and writing stdout",
     "compression command for compression = custom", 0, 0, NULL, "zstd -c"},
    {"custom_compression_magic", CFG_BOTH, CFG_T_MAGIC, SRV(custom_compression_magic), NULL,
     "0x followed by 1 to 16 bytes in hexadecimal (an even number of digits)",
     "first bytes of a file compressed by custom_compression_filter", 0, 0, NULL, "0x28b52ffd"},
    {"custom_decompression_filter", CFG_BOTH, CFG_T_STRING, SRV(custom_decompression_filter), NULL,
     "a shell command reading stdin and writing stdout",
     "decompression command for compression = custom", 0, 0, NULL, "zstd -dc"},
    {"description", CFG_SERVER, CFG_T_STRING, SRV(description), NULL, "text",
     "a human description of the server", 0, 0, NULL, "\"Main PostgreSQL Database\""},
    IGNORED("disabled", CFG_BOTH,
                "Barman sets it; cellar disables a server whose configuration has errors"),
    {"encryption", CFG_BOTH, CFG_T_ENUM, SRV_ENUM(encryption), "none", "none or gpg",
     "gpg: archive-wal encrypts each archived WAL file to encryption_key_id with GnuPG (Barman "
     "3.14); backups of such a server are refused (doc/encryption.md)",
     0, 0, encryption_choices, "none"},
    {"encryption_key_id", CFG_BOTH, CFG_T_STRING, SRV(encryption_key_id), NULL,
     "a GnuPG key ID, fingerprint or user ID",
     "the public key archived WAL files are encrypted to (required with encryption = gpg)",
     0, 0, NULL, "backup@example.com"},
    {"encryption_passphrase_command", CFG_BOTH, CFG_T_STRING,
     SRV(encryption_passphrase_command), NULL,
     "a shell command writing the passphrase on stdout",
     "gives the passphrase of the private key when get-wal or recover decrypt an encrypted WAL "
     "file", 0, 0, NULL, "cat /etc/cellar/gpg-passphrase"},
    {"errors_directory", CFG_SERVER, CFG_T_PATH, SRV(errors_directory),
     "%(backup_directory)s/errors", "an absolute path", "where rejected WAL files are kept", 0, 0,
     NULL, "/srv/cellar/main/errors"},
    IGNORED("forward_config_path", CFG_BOTH,
            "cellar runs on the Barman host only (no barman-cli forwarding)"),
    IGNORED("gcp_project", CFG_BOTH, SNAPSHOT_ONLY),
    IGNORED("gcp_zone", CFG_BOTH, SNAPSHOT_ONLY),
    {"immediate_checkpoint", CFG_BOTH, CFG_T_BOOL, SRV(immediate_checkpoint), "false",
     "true or false", "ask PostgreSQL for a fast checkpoint when a backup starts", 0, 0, NULL,
     "true"},
    {"incoming_wals_directory", CFG_SERVER, CFG_T_PATH, SRV(incoming_wals_directory),
     "%(backup_directory)s/incoming", "an absolute path",
     "where archive_command drops WAL files", 0, 0, NULL, "/srv/cellar/main/incoming"},
    UNSUPPORTED("keepalive_interval", CFG_BOTH, "cellar sends no keep-alive queries on the backup "
                "connection; set keepalives_idle in conninfo if a firewall drops idle ones"),
    {"last_backup_maximum_age", CFG_BOTH, CFG_T_INTERVAL, SRV(last_backup_maximum_age), NULL,
     "N HOURS, DAYS, WEEKS or MONTHS (a month is 31 days)",
     "check fails when the newest backup is older than this", 0, 0, NULL, "7 DAYS"},
    IGNORED("last_backup_minimum_size", CFG_BOTH,
            "cellar checks the newest backup's age, not its size"),
    {"last_wal_maximum_age", CFG_BOTH, CFG_T_INTERVAL, SRV(last_wal_maximum_age), NULL,
     "N HOURS, DAYS, WEEKS or MONTHS (a month is 31 days)",
     "check fails when the newest archived WAL is older than this", 0, 0, NULL, "1 HOURS"},
    UNSUPPORTED("local_staging_path", CFG_BOTH, INCREMENTAL_ONLY),
    {"lock_directory_cleanup", CFG_GLOBAL, CFG_T_BOOL, GLB(lock_directory_cleanup), "true",
     "true or false",
     "cron removes the lock files nobody holds from the lock directory at its end (Barman 3.10)",
     0, 0, NULL, "false"},
    {"log_file", CFG_GLOBAL, CFG_T_PATH, GLB(log_file), NULL, "an absolute path",
     "the log file", 0, 0, NULL, "/var/log/cellar/cellar.log"},
    IGNORED("log_format", CFG_GLOBAL, "cellar's log lines have one fixed format"),
    {"log_level", CFG_GLOBAL, CFG_T_LOG_LEVEL, GLB(log_level), "INFO",
     "DEBUG, INFO, WARNING, ERROR or CRITICAL", "the least important lines written to the log", 0,
     0, NULL, "WARNING"},
    IGNORED("max_incoming_wals_queue", CFG_BOTH,
            "check reports the WAL files waiting in incoming with no limit"),
    {"minimum_redundancy", CFG_BOTH, CFG_T_INT, SRV(minimum_redundancy), "0",
     "a whole number from 0 to 10000",
     "the fewest DONE backups kept, whatever the retention policy says", 0, 10000, NULL, "1"},
    IGNORED("model", CFG_BOTH, "a section with model = true is a configuration model, not a "
                               "server"),
    {"network_compression", CFG_BOTH, CFG_T_BOOL, SRV(network_compression), "false",
     "true or false", "compress data sent over ssh (rsync -z)", 0, 0, NULL, "true"},
    {"parallel_jobs", CFG_BOTH, CFG_T_INT, SRV(parallel_jobs), "1", "a whole number from 1 to 64",
     "rsync workers for backup and recovery copies", 1, 64, NULL, "4"},
    IGNORED("parallel_jobs_start_batch_period", CFG_BOTH, BATCH_START),
    IGNORED("parallel_jobs_start_batch_size", CFG_BOTH, BATCH_START),
    {"path_prefix", CFG_BOTH, CFG_T_STRING, SRV(path_prefix), NULL,
     "a colon-separated list of directories",
     "directories searched first for the programs cellar runs", 0, 0, NULL,
     "/usr/lib/postgresql/15/bin"},
    HOOK("post_archive_retry_script", CFG_HOOK_POST_ARCHIVE_RETRY,
         "run after a WAL file is archived, until it succeeds"),
    HOOK("post_archive_script", CFG_HOOK_POST_ARCHIVE, "run after a WAL file is archived"),
    HOOK("post_backup_retry_script", CFG_HOOK_POST_BACKUP_RETRY,
         "run after a backup, until it succeeds"),
    HOOK("post_backup_script", CFG_HOOK_POST_BACKUP, "run after a backup"),
    HOOK("post_delete_retry_script", CFG_HOOK_POST_DELETE_RETRY,
         "run after a backup is deleted, until it succeeds"),
    HOOK("post_delete_script", CFG_HOOK_POST_DELETE, "run after a backup is deleted"),
    HOOK("post_recovery_retry_script", CFG_HOOK_POST_RECOVERY_RETRY,
         "run after a recovery, until it succeeds"),
    HOOK("post_recovery_script", CFG_HOOK_POST_RECOVERY, "run after a recovery"),
    HOOK("post_wal_delete_retry_script", CFG_HOOK_POST_WAL_DELETE_RETRY,
         "run after a WAL file is deleted, until it succeeds"),
    HOOK("post_wal_delete_script", CFG_HOOK_POST_WAL_DELETE, "run after a WAL file is deleted"),
    HOOK("pre_archive_retry_script", CFG_HOOK_PRE_ARCHIVE_RETRY,
         "run before a WAL file is archived, until it succeeds"),
    HOOK("pre_archive_script", CFG_HOOK_PRE_ARCHIVE, "run before a WAL file is archived"),
    HOOK("pre_backup_retry_script", CFG_HOOK_PRE_BACKUP_RETRY,
         "run before a backup, until it succeeds"),
    HOOK("pre_backup_script", CFG_HOOK_PRE_BACKUP, "run before a backup"),
    HOOK("pre_delete_retry_script", CFG_HOOK_PRE_DELETE_RETRY,
         "run before a backup is deleted, until it succeeds"),
    HOOK("pre_delete_script", CFG_HOOK_PRE_DELETE, "run before a backup is deleted"),
    HOOK("pre_recovery_retry_script", CFG_HOOK_PRE_RECOVERY_RETRY,
         "run before a recovery, until it succeeds"),
    HOOK("pre_recovery_script", CFG_HOOK_PRE_RECOVERY, "run before a recovery"),
    HOOK("pre_wal_delete_retry_script", CFG_HOOK_PRE_WAL_DELETE_RETRY,
         "run before a WAL file is deleted, until it succeeds"),
    HOOK("pre_wal_delete_script", CFG_HOOK_PRE_WAL_DELETE, "run before a WAL file is deleted"),
    UNSUPPORTED("primary_checkpoint_timeout", CFG_BOTH, "cellar ends a backup from a standby by "
                "switching WAL through primary_conninfo and waiting for that segment"),
    {"primary_conninfo", CFG_SERVER, CFG_T_SECRET, SRV(primary_conninfo), NULL,
     "a libpq connection string",
     "when conninfo points at a standby: its primary, where a backup from the standby switches "
     "WAL so that the backup's last segment is archived (and its restore point is made)",
     0, 0, NULL, "host=pg-primary user=barman dbname=postgres"},
    IGNORED("primary_ssh_command", CFG_BOTH,
            "cellar backs up a standby through primary_conninfo, with no ssh to the primary"),
    {"recovery_options", CFG_BOTH, CFG_T_FLAGS, SRV(recovery_options), NULL, "get-wal or nothing",
     "get-wal: recoveries fetch WAL with cellar get-wal instead of copying it", 0, 0,
     recovery_options_choices, "get-wal"},
    IGNORED("recovery_staging_path", CFG_BOTH, NO_STAGING),
    {"retention_policy", CFG_BOTH, CFG_T_RETENTION, SRV(retention_policy), NULL,
     RET_POLICY_ACCEPTED, "which backups cron keeps; the others become obsolete", 0, 0, NULL,
     "RECOVERY WINDOW OF 4 WEEKS"},
    {"retention_policy_mode", CFG_BOTH, CFG_T_ENUM, SRV_ENUM(retention_policy_mode), "auto",
     "auto", "auto: cron deletes obsolete backups", 0, 0, retention_mode_choices, "auto"},
    {"reuse_backup", CFG_BOTH, CFG_T_ENUM, SRV_ENUM(reuse_backup), "off", "off, copy or link",
     "reuse the previous backup's unchanged files (link: hard links, saving space)", 0, 0,
     reuse_choices, "link"},
    {"slot_name", CFG_BOTH, CFG_T_STRING, SRV(slot_name), NULL,
     "lower case letters, digits and _ (upper case is lowered)",
     "the physical replication slot receive-wal streams through", 0, 0, NULL, "barman"},
    IGNORED("snapshot_disks", CFG_SERVER, SNAPSHOT_ONLY),
    IGNORED("snapshot_gcp_project", CFG_BOTH, SNAPSHOT_ONLY),
    IGNORED("snapshot_instance", CFG_SERVER, SNAPSHOT_ONLY),
    IGNORED("snapshot_provider", CFG_BOTH, SNAPSHOT_ONLY),
    IGNORED("snapshot_zone", CFG_SERVER, SNAPSHOT_ONLY),
    {"ssh_command", CFG_SERVER, CFG_T_STRING, SRV(ssh_command), NULL,
     "a shell command, e.g. ssh postgres@pg",
     "how to reach the PostgreSQL host; unset: PGDATA is copied locally", 0, 0, NULL,
     "ssh postgres@pg"},
    UNSUPPORTED("staging_location", CFG_BOTH, NO_STAGING),
    UNSUPPORTED("staging_path", CFG_BOTH, NO_STAGING),
    {"streaming_archiver", CFG_BOTH, CFG_T_BOOL, SRV(streaming_archiver), "off", "on or off",
     "stream WAL with pg_receivewal (receive-wal, kept running by cron) into "
     "streaming_wals_directory and archive it from there",
     0, 0, NULL, "on"},
    {"streaming_archiver_batch_size", CFG_BOTH, CFG_T_INT, SRV(streaming_archiver_batch_size),
     "0", "a whole number from 0 to 1000000 (0: no limit)",
     "the most streamed WAL files one archiver run processes", 0, 1000000, NULL, "50"},
    {"streaming_archiver_name", CFG_BOTH, CFG_T_STRING, SRV(streaming_archiver_name),
     "barman_receive_wal", "an application_name",
     "the application_name pg_receivewal connects with (synchronous_standby_names can name it)",
     0, 0, NULL, "cellar_receive_wal"},
    {"streaming_backup_name", CFG_BOTH, CFG_T_STRING, SRV(streaming_backup_name),
     "barman_streaming_backup", "an application_name",
     "application_name of pg_basebackup's connection (backup_method = postgres), unless "
     "streaming_conninfo sets one",
     0, 0, NULL, "cellar_streaming_backup"},
    {"streaming_conninfo", CFG_SERVER, CFG_T_SECRET, SRV(streaming_conninfo), "%(conninfo)s",
     "a libpq connection string",
     "the replication connection: pg_basebackup's (backup_method = postgres), receive-wal's and "
     "the slot commands' (unset: conninfo)",
     0, 0, NULL, "host=pg user=streaming_barman"},
    {"streaming_wals_directory", CFG_SERVER, CFG_T_PATH, SRV(streaming_wals_directory),
     "%(backup_directory)s/streaming", "an absolute path",
     "where pg_receivewal writes the WAL it streams", 0, 0, NULL, "/srv/cellar/main/streaming"},
    {"tablespace_bandwidth_limit", CFG_BOTH, CFG_T_TBS_LIMITS, SRV(tablespace_bandwidth_limit),
     NULL, "NAME:KBPS rules separated by spaces or commas, e.g. tbs1:1000, tbs2:500",
     "per-tablespace copy speed limits (KB/s)", 0, 0, NULL, "tbs1:1000 tbs2:500"},
    {"theme", CFG_GLOBAL, CFG_T_STRING, GLB(theme), "default",
     "default, dark, light, high-contrast, mono, or the name of a themes/*.theme file",
     "colours of the console", 0, 0, NULL, "light"},
    UNSUPPORTED("wal_conninfo", CFG_BOTH, "cellar reads WAL settings and switches WAL "
                "through conninfo (and primary_conninfo for a standby)"),
    {"wal_retention_policy", CFG_BOTH, CFG_T_ENUM, SRV_ENUM(wal_retention_policy), "main",
     "main", "WAL is kept as long as a backup kept by retention_policy needs it", 0, 0,
     wal_retention_choices, "main"},
    UNSUPPORTED("wal_streaming_conninfo", CFG_BOTH,
                "receive-wal streams through streaming_conninfo"),
    {"wals_directory", CFG_SERVER, CFG_T_PATH, SRV(wals_directory), "%(backup_directory)s/wals",
     "an absolute path", "where archived WAL files are kept", 0, 0, NULL, "/srv/cellar/main/wals"},
    UNSUPPORTED("warehousepg_dbid", CFG_BOTH,
                "cellar does not back up WarehousePG (Greenplum) segments: Barman 3.21's "
                "dbid-named tablespace directories are not built"),
    UNSUPPORTED("worm_mode", CFG_BOTH, "cellar has no WORM mode: it replaces xlog.db and "
                "backup.info (temporary file and rename), which WORM storage refuses"),
    {"xlogdb_directory", CFG_BOTH, CFG_T_PATH, SRV(xlogdb_directory), "%(wals_directory)s",
     "an absolute path",
     "where the WAL catalogue <server>-xlog.db lives (Barman 3.13 and later); setting it makes "
     "the home a Barman >= 3.13 one, and cellar moves an old wals_directory/xlog.db there as "
     "Barman does",
     0, 0, NULL, "/srv/cellar/xlogdb"},
};

const size_t cfg_option_count = sizeof cfg_options / sizeof cfg_options[0];
