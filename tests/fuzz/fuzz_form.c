/* fuzz_form.c - form bodies and query strings (http/form.h): form_parse
 * with small limits so every limit is reached, form_get and
 * form_url_decode on the same bytes as a C string. */
#include "fuzz.h"

#include "http/form.h"

#include <stdlib.h>
#include <string.h>

static int form_each(void *arg, const char *name, size_t name_len,
                     const char *value, size_t value_len)
{
    (void)arg;
    /* form.h: NUL-terminated, and a name never holds a NUL. */
    if (name[name_len] || value[value_len] || strlen(name) != name_len)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct form_limits lim = { .max_fields = 16, .max_name_len = 32,
                               .max_value_len = 256 };
    char err[256], out[64], *s;
    size_t n;

    form_parse((const char *)data, size, &lim, form_each, NULL, err,
               sizeof(err));
    form_parse((const char *)data, size, NULL, form_each, NULL, err,
               sizeof(err));
    if (!(s = malloc(size + 1)))
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    form_get(s, "service", out, sizeof(out));
    form_get(s, "id", out, 4);
    n = form_url_decode(s);
    if (n != FORM_DECODE_ERROR && n > size)
        abort();
    free(s);
    return 0;
}
