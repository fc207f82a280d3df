/* fuzz_moonraker.c - Moonraker's answers (fleet/moonraker.h): the input
 * as an objects/query body and as the body of every kind of reply, with
 * the HTTP status and curl result from its first bytes. */
#include "fuzz.h"

#include "fleet/moonraker.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[] = { 200, 201, 204, 400, 401, 403, 404, 409,
                                     422, 500, 502, 503, 504, 0 };
    struct mr_status s;
    char text[300];
    int kc;

    memset(&s, 0x5a, sizeof(s));
    if (mr_parse_status((const char *)data, size, &s) == 0 &&
        (!memchr(s.filename, 0, sizeof(s.filename)) ||
         !memchr(s.message, 0, sizeof(s.message))))
        abort();
    if (size < 2)
        return 0;
    for (int k = MR_QUERY; k <= MR_DELETE; k++) {
        long http = statuses[data[0] % (sizeof(statuses) / sizeof(*statuses))];
        int curl = data[1] % 4 == 0 ? 28 : 0;

        mr_interpret((enum mr_kind)k, curl, http, (const char *)data + 2,
                     size - 2, data[1] % 8 == 1, NULL, &s, &kc, text,
                     sizeof(text));
        if (!memchr(text, 0, sizeof(text)))
            abort();
    }
    return 0;
}
