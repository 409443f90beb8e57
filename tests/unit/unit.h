/*
 * unit.h - shared helpers for cellar's cmocka unit tests.
 *
 * Each test program includes this first. It brings in cmocka and gives every
 * test its own temporary directory (unit_setup_tmpdir / unit_teardown_tmpdir
 * as cmocka group or test fixtures) plus small file helpers, so tests never
 * share state on disk.
 */
#ifndef CEL_UNIT_H
#define CEL_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

/* The temporary directory of the running test (set by unit_setup_tmpdir). */
static char unit_tmp[4096];

/* Fixture: create a fresh temporary directory for one test. */
static inline int unit_setup_tmpdir(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(unit_tmp, sizeof unit_tmp, "%s/cellar-unit-XXXXXX", base ? base : "/tmp");
    return mkdtemp(unit_tmp) ? 0 : -1;
}

/* nftw callback: remove one entry (children come before their directory). */
static inline int unit_remove_entry(const char *path, const struct stat *st, int flag,
                                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Fixture: remove the temporary directory and everything under it. */
static inline int unit_teardown_tmpdir(void **state)
{
    (void)state;
    return nftw(unit_tmp, unit_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Path of name inside the test's temporary directory (static buffer, one of 4). */
static inline const char *unit_path(const char *name)
{
    static char bufs[4][4200];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", unit_tmp, name);
    return b;
}

/* Write text to name inside the temporary directory; returns its path. */
static inline const char *unit_write(const char *name, const char *text)
{
    const char *path = unit_path(name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* Read a whole file into a malloc'd string (NULL if it cannot be read). */
static inline char *unit_read(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    buf[len] = '\0';
    fclose(f);
    return buf;
}

/* Number of entries in dir, "." and ".." left out. */
static inline int unit_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* Create a directory (and parents) inside the temporary directory. */
static inline void unit_mkdir(const char *name)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", unit_tmp, name);
    for (char *p = path + strlen(unit_tmp) + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
        *p = c;
        if (c == '\0')
            break;
    }
}

#endif
