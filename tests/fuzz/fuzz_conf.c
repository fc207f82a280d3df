/*
 * fuzz_conf.c - rrcloud.conf (common/conf.h) and services/NAME.conf
 * (services/service.h), read and checked as the programs do at start.
 * The first byte picks the format (even: rrcloud.conf, odd: a service);
 * the rest is the file.
 */
#include "fuzz.h"

#include "common/conf.h"
#include "services/service.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rr_conf c;
    struct service_registry *reg;
    char err[1024];

    if (size < 1)
        return 0;
    if (data[0] % 2 == 0) {
        conf_defaults(&c, "/var/lib/rrcloud");
        conf_load_buf(&c, "rrcloud.conf", (const char *)data + 1, size - 1,
                      err, sizeof(err));
        return 0;
    }
    reg = service_registry_parse("fuzz.conf", "/usr/share/rrcloud/services",
                                 (const char *)data + 1, size - 1, err,
                                 sizeof(err));
    if (reg && !service_find(reg, "fuzz"))
        abort();
    service_registry_free(reg);
    return 0;
}
