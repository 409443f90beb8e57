/*
 * config.h - cellar's configuration, compatible with Barman's files.
 *
 * A DBA points cellar at an existing barman.conf and it works: the global
 * section is [cellar] or [barman], every other section is a server,
 * configuration_files_directory adds every *.conf file in it, server options
 * override global ones, "none" unsets a value and stops inheritance, values
 * in matching quotes are unquoted, %(key)s interpolates keys of the same
 * section. Values are parsed into typed fields with Barman's defaults.
 *
 * Everything known about an option lives in one table (cfg_options): name,
 * scope, type, default, accepted values and help. The loader, the error
 * messages, show-server, diagnose and the man page all read that table.
 *
 * Problems are collected, not printed: struct cfg keeps a list of
 * diagnostics, each naming file, line, section and option. An error in the
 * global section (or a bad section name) makes the whole configuration
 * unusable; an error in a server section disables only that server, as
 * Barman does, so cron still serves the others.
 */
#ifndef CEL_CONFIG_H
#define CEL_CONFIG_H

#include "compress.h"
#include "error.h"
#include "log.h"
#include "retention_policy.h"
#include "cloud_layout.h"
#include "strbuf.h"

enum cfg_scope {
    CFG_GLOBAL = 1, /* only in [cellar]/[barman] */
    CFG_SERVER = 2, /* only in a server section */
    CFG_BOTH = 3,   /* in a server section, inherited from [cellar]/[barman] */
};

enum cfg_type {
    CFG_T_STRING,     /* free text */
    CFG_T_SECRET,     /* a libpq connection string: checked, password masked when shown */
    CFG_T_PATH,       /* absolute path ("~/" expanded), trailing '/' removed */
    CFG_T_BOOL,       /* true|t|yes|1|on or false|f|no|0|off */
    CFG_T_INT,        /* whole number within [min, max] */
    CFG_T_ENUM,       /* one of choices, into a field of an enum type (int-sized) */
    CFG_T_FLAGS,      /* comma-separated subset of choices (bit per choice value) */
    CFG_T_RETENTION,  /* struct ret_policy */
    CFG_T_INTERVAL,   /* struct cfg_interval: N HOURS|DAYS|WEEKS|MONTHS */
    CFG_T_TBS_LIMITS, /* struct cfg_tbs_limits: NAME:KBPS ... */
    CFG_T_LOG_LEVEL,  /* enum log_level */
    CFG_T_MAGIC,      /* 0x followed by hex digits: struct cfg_magic */
    CFG_T_IGNORED,    /* a Barman option cellar accepts and does not use */
};

enum cfg_backup_method { CFG_BM_RSYNC, CFG_BM_LOCAL_RSYNC, CFG_BM_POSTGRES, CFG_BM_SNAPSHOT };
enum cfg_reuse { CFG_REUSE_OFF, CFG_REUSE_COPY, CFG_REUSE_LINK };
/* backup_compression, backup_compression_format, _location (0: unset) */
enum cfg_bb_compression { CFG_BBC_NONE, CFG_BBC_GZIP, CFG_BBC_LZ4, CFG_BBC_ZSTD };
enum cfg_encryption { CFG_ENC_NONE, CFG_ENC_GPG };
enum cfg_bb_format { CFG_BBF_UNSET, CFG_BBF_PLAIN, CFG_BBF_TAR };
enum cfg_bb_location { CFG_BBL_UNSET, CFG_BBL_CLIENT, CFG_BBL_SERVER };
enum cfg_retention_mode { CFG_RETENTION_MODE_AUTO };
enum cfg_wal_retention { CFG_WAL_RETENTION_MAIN };
enum cfg_create_slot { CFG_CREATE_SLOT_MANUAL, CFG_CREATE_SLOT_AUTO };
/* cellar_xlogdb_format: the WAL catalogue's style (xlogdb.h, enum xdb_format) */
enum cfg_xlogdb_format { CFG_XDB_AUTO, CFG_XDB_3_4, CFG_XDB_3_13, CFG_XDB_3_14 };

/* backup_options bits */
#define CFG_BO_CONCURRENT 1u
#define CFG_BO_EXCLUSIVE 2u
#define CFG_BO_EXTERNAL_CONFIGURATION 4u
/* recovery_options bits */
#define CFG_RO_GET_WAL 1u

/* Hook scripts, in Barman's naming: <phase>_<operation>[_retry]_script. */
enum cfg_hook {
    CFG_HOOK_PRE_BACKUP,
    CFG_HOOK_PRE_BACKUP_RETRY,
    CFG_HOOK_POST_BACKUP_RETRY,
    CFG_HOOK_POST_BACKUP,
    CFG_HOOK_PRE_ARCHIVE,
    CFG_HOOK_PRE_ARCHIVE_RETRY,
    CFG_HOOK_POST_ARCHIVE_RETRY,
    CFG_HOOK_POST_ARCHIVE,
    CFG_HOOK_PRE_RECOVERY,
    CFG_HOOK_PRE_RECOVERY_RETRY,
    CFG_HOOK_POST_RECOVERY_RETRY,
    CFG_HOOK_POST_RECOVERY,
    CFG_HOOK_PRE_DELETE,
    CFG_HOOK_PRE_DELETE_RETRY,
    CFG_HOOK_POST_DELETE_RETRY,
    CFG_HOOK_POST_DELETE,
    CFG_HOOK_PRE_WAL_DELETE,
    CFG_HOOK_PRE_WAL_DELETE_RETRY,
    CFG_HOOK_POST_WAL_DELETE_RETRY,
    CFG_HOOK_POST_WAL_DELETE,
    CFG_HOOK_COUNT
};

/* A time interval such as last_backup_maximum_age; seconds == 0: unset. */
struct cfg_interval {
    unsigned n;
    char unit; /* 'h', 'd', 'w' or 'm' (31 days) */
    int64_t seconds;
};

struct cfg_tbs_limit {
    const char *name;
    int kbps;
};
struct cfg_tbs_limits {
    const struct cfg_tbs_limit *items;
    size_t n;
};

/* One configured server: every option resolved (server > [DEFAULT] >
 * global > built-in default). Strings are NULL when unset. */
/* custom_compression_magic, parsed once at load (comp_parse_magic): the
 * text as written, for messages, and its bytes, for comp_detect. text is
 * NULL when the option is not set. */
struct cfg_magic {
    const char *text;
    unsigned char bytes[COMP_MAGIC_MAX];
    size_t len;
};

struct cfg_server {
    const char *name;
    const char *file; /* where its section first appears */
    int line;
    bool disabled; /* configuration errors: see the diagnostics for this server */

    bool active;
    bool archiver;
    int archiver_batch_size;
    /* backup_method = postgres: pg_basebackup's compression (level and
     * workers 0 when unset) */
    enum cfg_bb_compression backup_compression;
    enum cfg_bb_format backup_compression_format;
    int backup_compression_level;
    enum cfg_bb_location backup_compression_location;
    int backup_compression_workers;
    const char *backup_directory;
    enum cfg_backup_method backup_method;
    unsigned backup_options;
    int bandwidth_limit; /* KB/s, 0 = no limit */
    int basebackup_retry_sleep;
    int basebackup_retry_times;
    const char *basebackups_directory;
    int check_timeout;
    enum comp_kind compression; /* COMP_NONE when unset */
    const char *conninfo;
    /* conninfo's user, found at load (NULL when conninfo names none): the
     * role the server is backed up as */
    const char *conninfo_user;
    /* Barman 3.8's primary_conninfo: the primary of the standby conninfo
     * points at, where a backup from the standby switches WAL so that its
     * last segment is archived (NULL: unset) */
    const char *primary_conninfo;
    enum cfg_create_slot create_slot;
    const char *custom_compression_filter;
    struct cfg_magic custom_compression_magic;
    const char *custom_decompression_filter;
    const char *description;
    const char *errors_directory;
    bool immediate_checkpoint;
    const char *incoming_wals_directory;
    struct cfg_interval last_backup_maximum_age;
    struct cfg_interval last_wal_maximum_age;
    int minimum_redundancy;
    bool network_compression;
    int parallel_jobs;
    const char *path_prefix;
    const char *hooks[CFG_HOOK_COUNT];
    unsigned recovery_options;
    struct ret_policy retention_policy;
    enum cfg_retention_mode retention_policy_mode;
    enum cfg_reuse reuse_backup;
    const char *slot_name; /* lower-cased and checked at load */
    const char *ssh_command;
    /* backup_method = postgres: pg_basebackup's connection (conninfo when
     * unset) and its application_name */
    const char *streaming_backup_name;
    /* The user and host ssh_command logs in to, found at load for advice
     * texts ("ssh postgres@pg", "ssh -l postgres pg"): NULL when the
     * command names none or ssh_command is unset. */
    const char *ssh_user;
    const char *ssh_host;
    bool streaming_archiver;
    int streaming_archiver_batch_size;
    const char *streaming_archiver_name;
    const char *streaming_conninfo; /* conninfo when unset */
    const char *streaming_wals_directory;
    struct cfg_tbs_limits tablespace_bandwidth_limit;
    enum cfg_wal_retention wal_retention_policy;
    const char *wals_directory;
    const char *xlogdb_directory; /* wals_directory when unset */
    bool xlogdb_directory_set;    /* set in the configuration: a Barman >= 3.13 home */
    enum cfg_xlogdb_format cellar_xlogdb_format;
    /* Barman 3.10's configuration models: the cluster a model must name to
     * apply (the section's name when unset), and the model config-switch
     * made active (<backup_directory>/.active-model.auto), NULL for none */
    const char *cluster;
    const char *active_model;
    /* Object storage (doc/cloud.md, "A server and a bucket"). Either
     * cloud_destination, where cron copies the server's DONE backups and
     * archived WAL (a copy beside the local catalogue), or cloud_source,
     * which makes the server a bucket server: its catalogue is only in the
     * store. Both are s3://bucket[/path], checked at load; never both. */
    const char *cloud_destination;
    const char *cloud_source;
    const char *cloud_endpoint_url; /* NULL: AWS */
    const char *cloud_profile;      /* NULL: the environment's or "default" */
    const char *cloud_server_name;  /* the SERVER folder in the bucket: the section name when unset */
    enum cloud_comp cloud_compression; /* backups copied by cron: none, gzip or bzip2 */
    enum cfg_encryption encryption;    /* gpg: archived WAL files are GnuPG messages */
    const char *encryption_key_id;     /* the recipient of encryption = gpg */
    const char *encryption_passphrase_command; /* DBA's shell command: the private key's */
    struct cfg_interval cloud_last_upload_maximum_age;
};

struct cfg_global {
    const char *barman_home;
    const char *barman_lock_directory;
    const char *barman_user;
    /* config-update's queue (Barman 3.10): <barman_home>/cfg_changes.queue
     * when unset */
    const char *config_changes_queue;
    const char *configuration_files_directory;
    bool lock_directory_cleanup; /* cron removes unused lock files */
    const char *log_file;
    enum log_level log_level;
    const char *theme;
};

enum cfg_diag_level { CFG_NOTE, CFG_WARNING, CFG_ERROR };

/* A problem found while loading, e.g.
 * "/etc/cellar.conf:12: [main] retention_policy: invalid retention policy
 * 'REDUNDANCY two': expected ..." */
struct cfg_diag {
    enum cfg_diag_level level;
    const char *server; /* the server section it concerns, NULL for global */
    const char *file;
    int line;
    const char *option; /* NULL when about a section */
    const char *text;   /* the whole message, file and line included */
};

/* A configuration model (Barman 3.10): a section with model = true whose
 * options config-switch lays over a server of the same cluster. */
struct cfg_model {
    const char *name;
    const char *cluster;
    const char *file;
    int line;
    const char *const *keys; /* the options it sets, as written */
    const char *const *values;
    size_t n;
    bool usable; /* it has a cluster and only options a model may set */
};

struct cfg {
    const char *path; /* the main configuration file read */
    struct cfg_global global;
    struct cfg_server *servers; /* sorted by name */
    size_t n_servers;
    struct cfg_model *models; /* in the order found */
    size_t n_models;
    struct cfg_diag *diags; /* in the order found */
    size_t n_diags;
    struct arena *arena; /* owns every string above */
};

/* A choice of an enum or flags option; aliases map to the same value. */
struct cfg_choice {
    const char *name;
    int value;
};

struct cfg_option {
    const char *name;
    enum cfg_scope scope;
    enum cfg_type type;
    size_t offset;                   /* in struct cfg_global (CFG_GLOBAL) or cfg_server */
    const char *def;                 /* default as text, NULL: unset */
    const char *accepted;            /* what values are accepted (messages, docs) */
    const char *help;                /* one-line meaning */
    int min, max;                    /* CFG_T_INT */
    const struct cfg_choice *choices; /* CFG_T_ENUM, CFG_T_FLAGS; NULL-name terminated */
    const char *example;             /* a value that loads, for the man page (NULL: ignored) */
};

/* A CFG_T_IGNORED option's min: CFG_IGNORED_WARN when setting it changes
 * what Barman would do and cellar cannot do that, so loading warns with its
 * help (the why) instead of a note. */
enum { CFG_IGNORED_NOTE = 0, CFG_IGNORED_WARN = 1 };

/* The option table, sorted by name. */
extern const struct cfg_option cfg_options[];
extern const size_t cfg_option_count;
/* The option called name, NULL if none. */
const struct cfg_option *cfg_option_find(const char *name);

/* Load the configuration. path NULL searches, in order: ~/.cellar.conf,
 * /etc/cellar.conf, /etc/cellar/cellar.conf, ~/.barman.conf,
 * /etc/barman.conf, /etc/barman/barman.conf. Returns 0 with *out set, or:
 *   -CEL_E_CONFIG with *out NULL when no file can be read (err says which);
 *   -CEL_E_CONFIG with *out set when the configuration has global errors
 *     (err holds the first; (*out)->diags all of them).
 * Server-level errors do not fail the load: the server is marked disabled.
 * Free with cfg_free(). */
int cfg_load(const char *path, struct cfg **out, struct cel_err *err);
/* The file cfg_load(NULL) reads: the first of the search list above that
 * exists, or NULL when none does. Each path looked at without success
 * (~ expanded; those under ~ are left out when HOME is not set) is
 * appended to tried, one per line without a final newline. Caller frees. */
char *cfg_find_default(struct strbuf *tried);
/* Load from text, as if read from a file called name (for tests). */
int cfg_load_text(const char *text, const char *name, struct cfg **out, struct cel_err *err);
void cfg_free(struct cfg *cfg);

/* Where an option's value lives: options of scope CFG_GLOBAL in struct
 * cfg_global, every other option (CFG_SERVER, CFG_BOTH) in struct
 * cfg_server. Pick the base to pass to cfg_value_ptr and friends with this,
 * never with a scope mask: CFG_BOTH shares bits with both scopes. */
bool cfg_option_is_global(const struct cfg_option *opt);

/* The server called name, NULL if none. */
const struct cfg_server *cfg_server_find(const struct cfg *cfg, const char *name);
/* The model called name, NULL if none. */
const struct cfg_model *cfg_model_find(const struct cfg *cfg, const char *name);
/* The file naming a server's active model: <backup_directory>/.active-model.auto
 * (Barman's). Caller frees. */
char *cfg_active_model_path(const struct cfg_server *s);
/* The reserved names "all", "barman", "cellar" (any case): never a server
 * or model. */
bool cfg_section_name_reserved(const char *name);
/* A server or model name: starts with a letter, digit or '_', goes on with
 * letters, digits, '_', '.' and '-', at most 200 bytes (safe as a path
 * component and in lock file names). */
bool cfg_section_name_valid(const char *name);
/* The options a configuration model may not set (Barman's
 * ModelConfig._KEYS_BLACKLIST): paths and hook scripts. */
bool cfg_model_forbidden(const char *key);
/* Barman's <barman_home>/.barman.auto.conf, where config-update writes and
 * which the loader reads last, so that its values win. Caller frees. */
char *cfg_auto_conf_path(const struct cfg_global *g);
/* cfg_load(path), reading auto_text as .barman.auto.conf instead of the
 * file: config-update's trial of a change before it writes anything. */
int cfg_load_with_auto(const char *path, const char *auto_text, struct cfg **out,
                       struct cel_err *err);
/* Number of diagnostics of at least level about server (NULL: global ones). */
size_t cfg_diag_count(const struct cfg *cfg, const char *server, enum cfg_diag_level level);

/* Append the value of opt, read from base (a struct cfg_global or
 * cfg_server), in Barman's show-server style: "None" when unset, "True" /
 * "False", retention as "REDUNDANCY 2". Secrets are masked unless reveal. */
void cfg_format_value(const struct cfg_option *opt, const void *base, bool reveal,
                      struct strbuf *out);
/* True when opt has no value in base. */
bool cfg_value_is_null(const struct cfg_option *opt, const void *base);
/* Address of the field of opt inside base. */
const void *cfg_value_ptr(const struct cfg_option *opt, const void *base);

/* A copy of a libpq connection string with every password replaced by
 * "********" (key=value form and postgresql:// URIs). Caller frees. */
char *cfg_conninfo_mask(const char *conninfo);


#endif
