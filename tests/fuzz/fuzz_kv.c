/* fuzz_kv.c - the RepRapCloud key = value format (common/kv.h): a whole
 * file through kv_parse_buf, each value through the size, duration and
 * bool parsers. */
#include "fuzz.h"

#include "common/kv.h"

#include <stdlib.h>
#include <string.h>

static int kv_each(void *arg, const char *key, const char *value, int lineno,
                   char *err, size_t errlen)
{
    unsigned long long sz;
    long long d;
    int b;
    size_t *count = arg;

    /* What a key and value may look like after parsing (kv.h). */
    if (!*key || strchr(key, '\n') || strchr(value, '\n') || lineno < 1)
        abort();
    kv_parse_size(value, &sz);
    kv_parse_duration(value, &d);
    kv_parse_bool(value, &b);
    return ++*count > 1000 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    size_t count = 0;

    kv_parse_buf((const char *)data, size, kv_each, &count, err, sizeof(err));
    return 0;
}
