/*
 * tests/tools/s3tool.c - the S3 client (src/core/cloud) from the command
 * line, for the integration tests (tests/integration/t_s3_client.sh). Not
 * installed, not a cellar command.
 *
 * The store and credentials come from the environment: S3_ENDPOINT,
 * S3_BUCKET, S3_ACCESS_KEY, S3_SECRET_KEY, and optionally S3_REGION,
 * S3_SESSION_TOKEN, S3_VHOST=1 (virtual-hosted addressing; path style by
 * default), S3_RETRIES, S3_RETRY_MS, S3_TIMEOUT.
 *
 *   s3tool mkbucket
 *   s3tool put KEY FILE             one PUT streamed from FILE (s3_put_fd)
 *   s3tool putmem KEY FILE          one PUT of FILE read into memory (s3_put)
 *   s3tool fill PREFIX N            N small objects PREFIX00000..., each
 *                                   holding its key (one client: many keys fast)
 *   s3tool upload KEY [PART_SIZE [PARALLEL [EXPECTED]]] < STREAM
 *                                   s3_upload from stdin; prints "SIZE PARTS"
 *   s3tool get KEY [OFFSET LENGTH]  the object (or a range) to stdout
 *   s3tool head KEY                 "SIZE ETAG", or "missing"
 *   s3tool delete KEY
 *   s3tool delete-many KEY...       (or "-": the keys from stdin, one a line)
 *   s3tool list [PREFIX [DELIMITER [MAX_KEYS]]]
 *                                   "KEY<TAB>SIZE" a line, "PREFIX<TAB>-" for
 *                                   common prefixes; then "pages N" on stderr
 *
 * Exit 0 on success; 1 with "s3tool: CODE: message" on stderr on failure;
 * 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "s3_client.h"
#include "strbuf.h"

static int usage(void)
{
    fputs("usage: s3tool mkbucket | put KEY FILE | putmem KEY FILE | fill PREFIX N | upload KEY [PART_SIZE "
          "[PARALLEL [EXPECTED]]] | get KEY [OFFSET LENGTH] | head KEY | delete KEY | "
          "delete-many KEY... | list [PREFIX [DELIMITER [MAX_KEYS]]]\n", stderr);
    return 2;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int env_int(const char *name)
{
    const char *v = env(name);
    return v ? atoi(v) : 0;
}

static int to_stdout(void *ctx, const void *buf, size_t len, struct cel_err *err)
{
    (void)ctx;
    if (fwrite(buf, 1, len, stdout) != len)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot write to stdout");
    return 0;
}

static ssize_t from_stdin(void *ctx, void *buf, size_t len, struct cel_err *err)
{
    (void)ctx;
    for (;;) {
        ssize_t n = read(0, buf, len);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return cel_err_sys(err, CEL_E_IO, errno, "cannot read stdin");
    }
}

static int print_entry(void *ctx, const struct s3_entry *e, struct cel_err *err)
{
    (void)ctx, (void)err;
    if (e->is_prefix)
        printf("%s\t-\n", e->key);
    else
        printf("%s\t%llu\n", e->key, (unsigned long long)e->size);
    return 0;
}

static int read_file(const char *path, struct strbuf *sb, struct cel_err *err)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot open '%s'", path);
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        sb_appendn(sb, buf, (size_t)n);
    int e = errno;
    close(fd);
    if (n < 0)
        return cel_err_sys(err, CEL_E_IO, e, "cannot read '%s'", path);
    return 0;
}

static int run(struct s3_client *c, int argc, char **argv, struct cel_err *err)
{
    const char *cmd = argv[0];
    if (strcmp(cmd, "mkbucket") == 0 && argc == 1)
        return s3_bucket_create(c, err);
    if (strcmp(cmd, "put") == 0 && argc == 3) {
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0)
            return cel_err_sys(err, CEL_E_IO, errno, "cannot open '%s'", argv[2]);
        int rc = s3_put_fd(c, argv[1], fd, err);
        close(fd);
        return rc;
    }
    if (strcmp(cmd, "putmem") == 0 && argc == 3) {
        struct strbuf sb = {0};
        int rc = read_file(argv[2], &sb, err);
        if (rc == 0)
            rc = s3_put(c, argv[1], sb.buf, sb.len, err);
        sb_free(&sb);
        return rc;
    }
    if (strcmp(cmd, "fill") == 0 && argc == 3) {
        long n = atol(argv[2]);
        for (long i = 0; i < n; i++) {
            char *key = cel_xasprintf("%s%05ld", argv[1], i);
            int rc = s3_put(c, key, key, strlen(key), err);
            free(key);
            if (rc)
                return rc;
        }
        return 0;
    }
    if (strcmp(cmd, "upload") == 0 && argc >= 2 && argc <= 5) {
        struct s3_upload_opts o = {
            .part_size = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 0,
            .parallel = argc > 3 ? atoi(argv[3]) : 0,
            .expected_size = argc > 4 ? strtoull(argv[4], NULL, 10) : 0,
        };
        struct s3_upload_result res;
        int rc = s3_upload(c, argv[1], from_stdin, NULL, &o, &res, err);
        if (rc == 0)
            printf("%llu %u\n", (unsigned long long)res.size, res.parts);
        return rc;
    }
    if (strcmp(cmd, "get") == 0 && (argc == 2 || argc == 4)) {
        uint64_t off = argc == 4 ? strtoull(argv[2], NULL, 10) : 0;
        uint64_t len = argc == 4 ? strtoull(argv[3], NULL, 10) : 0;
        int rc = s3_get(c, argv[1], off, len, to_stdout, NULL, err);
        if (fflush(stdout) != 0 && rc == 0)
            rc = cel_err_sys(err, CEL_E_IO, errno, "cannot write to stdout");
        return rc;
    }
    if (strcmp(cmd, "head") == 0 && argc == 2) {
        struct s3_head h;
        int rc = s3_head(c, argv[1], &h, err);
        if (rc == 0 && h.exists)
            printf("%llu %s\n", (unsigned long long)h.size, h.etag);
        else if (rc == 0)
            printf("missing\n");
        return rc;
    }
    if (strcmp(cmd, "delete") == 0 && argc == 2)
        return s3_delete(c, argv[1], err);
    if (strcmp(cmd, "delete-many") == 0 && argc >= 2) {
        if (argc == 2 && strcmp(argv[1], "-") == 0) {
            char **keys = NULL;
            size_t n = 0;
            char *line = NULL;
            size_t cap = 0;
            ssize_t len;
            while ((len = getline(&line, &cap, stdin)) > 0) {
                if (line[len - 1] == '\n')
                    line[len - 1] = '\0';
                keys = cel_xrealloc_array(keys, n + 1, sizeof *keys);
                keys[n++] = cel_xstrdup(line);
            }
            free(line);
            int rc = s3_delete_many(c, (const char *const *)keys, n, err);
            for (size_t i = 0; i < n; i++)
                free(keys[i]);
            free(keys);
            return rc;
        }
        return s3_delete_many(c, (const char *const *)argv + 1, (size_t)argc - 1, err);
    }
    if (strcmp(cmd, "list") == 0 && argc <= 4) {
        struct s3_list_opts o = {
            .prefix = argc > 1 ? argv[1] : NULL,
            .delimiter = argc > 2 ? argv[2] : NULL,
            .max_keys = argc > 3 ? atoi(argv[3]) : 0,
        };
        return s3_list(c, &o, print_entry, NULL, err);
    }
    return -CEL_E_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    struct s3_conf conf = {
        .endpoint = env("S3_ENDPOINT"),
        .region = env("S3_REGION"),
        .bucket = env("S3_BUCKET"),
        .path_style = !env("S3_VHOST"),
        .access_key = env("S3_ACCESS_KEY"),
        .secret_key = env("S3_SECRET_KEY"),
        .session_token = env("S3_SESSION_TOKEN"),
        .retries = env_int("S3_RETRIES"),
        .retry_base_ms = env_int("S3_RETRY_MS"),
        .timeout_s = env_int("S3_TIMEOUT"),
    };
    struct cel_err err = {0};
    struct s3_client *c = NULL;
    int rc = s3_client_new(&conf, &c, &err);
    if (rc == 0)
        rc = run(c, argc - 1, argv + 1, &err);
    s3_client_free(c);
    if (rc == -CEL_E_USAGE)
        return usage();
    if (rc) {
        fprintf(stderr, "s3tool: %s: %s\n", cel_code_name(rc), err.msg);
        if (err.hint[0])
            fprintf(stderr, "HINT: %s\n", err.hint);
        return 1;
    }
    return 0;
}
