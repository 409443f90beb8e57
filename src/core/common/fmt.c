/*
 * fmt.c - Barman's size and percentage formats.
 */
#include "fmt.h"

void fmt_size(double bytes, struct strbuf *out)
{
    static const char *const units[] = {"B",   "KiB", "MiB", "GiB", "TiB",
                                        "PiB", "EiB", "ZiB", "YiB"};
    double size = bytes;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        bool last = i + 1 == sizeof units / sizeof units[0];
        if ((size < 1024 && size > -1024) || last) {
            if (i == 0)
                sb_appendf(out, "%lld %s", (long long)size, units[i]);
            else
                sb_appendf(out, "%.1f %s", size, units[i]);
            return;
        }
        size /= 1024;
    }
}

void fmt_percent(double ratio, struct strbuf *out)
{
    sb_appendf(out, "%.2f%%", ratio * 100.0);
}
