/*
 * log.c - one process-wide log, because a process runs one command.
 */
#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_fd = -1;
static enum log_level min_level = LOG_INFO;
static log_observer observer;
static void *observer_ctx;

static const char *const level_names[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};

int log_open(const char *path, struct cel_err *err)
{
    /* O_NOFOLLOW: a link planted where the log lives (a directory other
     * users may write) must not make cellar append to another file */
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return cel_err_sys(err, CEL_E_IO, errno, "cannot open log file '%s'", path);
    log_close();
    log_fd = fd;
    return 0;
}

void log_close(void)
{
    if (log_fd >= 0)
        close(log_fd);
    log_fd = -1;
}

void log_set_level(enum log_level level)
{
    min_level = level;
}

enum log_level log_get_level(void)
{
    return min_level;
}

void log_set_observer(log_observer fn, void *ctx)
{
    observer = fn;
    observer_ctx = ctx;
}

const char *log_level_name(enum log_level level)
{
    if ((unsigned)level >= CEL_ARRAY_LEN(level_names))
        return "INFO";
    return level_names[level];
}

int log_level_parse(const char *text, enum log_level *out, struct cel_err *err)
{
    for (size_t i = 0; i < CEL_ARRAY_LEN(level_names); i++) {
        if (strcasecmp(text, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    if (strcasecmp(text, "warn") == 0) {
        *out = LOG_WARNING;
        return 0;
    }
    return cel_err_set(err, CEL_E_INVALID,
                       "invalid log level '%s': expected DEBUG, INFO, WARNING, ERROR or CRITICAL",
                       text);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = cel_xvasprintf(fmt, ap);
    va_end(ap);
    if (log_fd >= 0) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        struct tm tm;
        time_t sec = tv.tv_sec;
        localtime_r(&sec, &tm);
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
        char *line = cel_xasprintf("%s,%03d [%ld] cellar %s: %s\n", stamp,
                                   (int)(tv.tv_usec / 1000), (long)getpid(),
                                   log_level_name(level), msg);
        size_t len = strlen(line);
        /* one write keeps the line whole; a failed log write must not fail the
         * operation it describes, so the result is deliberately ignored */
        ssize_t n = write(log_fd, line, len);
        (void)n;
        free(line);
    }
    if (observer)
        observer(observer_ctx, level, msg);
    free(msg);
}
