/* tmpstore.c - see tmpstore.h. */
#include "tmpstore.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/util.h"

struct store *tmpstore_open(const char *tag, char *dir, size_t len)
{
    char path[512], err[256];
    struct store *st;

    snprintf(dir, len, "/tmp/rr-%s-XXXXXX", tag);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/t.db", dir);
    st = store_open(path, err, sizeof(err));
    ck_assert_msg(st != NULL, "%s", err);
    return st;
}

void tmpstore_close(struct store *st, const char *dir)
{
    store_close(st);
    rr_rmtree(dir);
}
