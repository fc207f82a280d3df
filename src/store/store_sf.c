/*
 * store_sf.c - the store's one SQL helper layer (store_fleet_int.h):
 * statements bound by a type string, run, read into structs; errors kept
 * for store_errmsg.
 */
#include "store/store_fleet_int.h"

#include "common/log.h"
#include "common/util.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sf_fail(struct store *st, const char *what)
{
    return store_set_error(st, what);
}

/* Statements are prepared per call: the fleet writes on changes, not per
 * poll, so preparing costs little next to the write.  A bulk operation
 * (a dispatch round) turns on this thread's cache for its duration so
 * thousands of attempts reuse a few statements; sf_cache_end finalizes
 * them, so nothing outlives the call (and store_close never meets them). */
#define SF_CACHE_MAX 64
static __thread struct {
    int on, n;
    const char *sql[SF_CACHE_MAX];
    sqlite3_stmt *stmt[SF_CACHE_MAX];
} sf_cache;

void sf_cache_begin(void)
{
    sf_cache.on = 1;
}

int sf_cache_on(void)
{
    return sf_cache.on;
}

void sf_cache_end(void)
{
    for (int i = 0; i < sf_cache.n; i++)
        sqlite3_finalize(sf_cache.stmt[i]);
    memset(&sf_cache, 0, sizeof(sf_cache));
}

static int sf_cached(sqlite3_stmt *s)
{
    for (int i = 0; i < sf_cache.n; i++) {
        if (sf_cache.stmt[i] == s)
            return 1;
    }
    return 0;
}

static sqlite3_stmt *sf_prepare(struct store *st, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int i;

    for (i = 0; sf_cache.on && i < sf_cache.n; i++) {
        if (sf_cache.sql[i] == sql &&
            sqlite3_db_handle(sf_cache.stmt[i]) == store_db(st) &&
            !sqlite3_stmt_busy(sf_cache.stmt[i])) {
            sqlite3_reset(sf_cache.stmt[i]);
            sqlite3_clear_bindings(sf_cache.stmt[i]);
            return sf_cache.stmt[i];
        }
    }
    if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK) {
        sf_fail(st, "prepare");
        log_err("store: in: %.120s", sql);
        return NULL;
    }
    if (sf_cache.on && sf_cache.n < SF_CACHE_MAX) {
        sf_cache.sql[sf_cache.n] = sql;
        sf_cache.stmt[sf_cache.n++] = s;
    }
    return s;
}

static sqlite3_stmt *sf_vbind(struct store *st, const char *sql,
                              const char *types, va_list ap)
{
    sqlite3_stmt *s = sf_prepare(st, sql);

    if (!s)
        return NULL;
    if ((size_t)sqlite3_bind_parameter_count(s) != (types ? strlen(types)
                                                          : 0)) {
        log_err("store: %d parameters but %zu bound in: %.120s",
                sqlite3_bind_parameter_count(s), types ? strlen(types) : 0,
                sql);
        sf_done(s);
        return NULL;
    }
    for (int i = 0; types && types[i]; i++) {
        int rc = SQLITE_OK;
        switch (types[i]) {
        case 'i':
            rc = sqlite3_bind_int64(s, i + 1, va_arg(ap, long long));
            break;
        case 'd':
            rc = sqlite3_bind_double(s, i + 1, va_arg(ap, double));
            break;
        case 't': {
            const char *v = va_arg(ap, const char *);
            rc = v ? sqlite3_bind_text(s, i + 1, v, -1, SQLITE_TRANSIENT)
                   : sqlite3_bind_null(s, i + 1);
            break;
        }
        default:
            rc = SQLITE_MISUSE;
        }
        if (rc != SQLITE_OK) {
            sf_fail(st, "bind");
            sf_done(s);
            return NULL;
        }
    }
    return s;
}

sqlite3_stmt *sf_bind(struct store *st, const char *sql, const char *types,
                      ...)
{
    va_list ap;
    sqlite3_stmt *s;

    va_start(ap, types);
    s = sf_vbind(st, sql, types, ap);
    va_end(ap);
    return s;
}

void sf_done(sqlite3_stmt *s)
{
    if (s && sf_cached(s))
        sqlite3_reset(s);
    else
        sqlite3_finalize(s);
}

int sf_one(struct store *st, sqlite3_stmt *s, sf_read_fn read, void *out,
           const char *what)
{
    int rc;

    if (!s)
        return -1;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && read(s, out) < 0)
        rc = SQLITE_NOMEM;
    sf_done(s);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? STORE_NOTFOUND : sf_fail(st, what);
}

int sf_load(struct store *st, sqlite3_stmt *s, sf_read_fn read, size_t size,
            void **out, size_t *n, const char *what)
{
    char *v = NULL;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char *nv = realloc(v, ncap * size);

            if (!nv) {
                rc = SQLITE_NOMEM;
                break;
            }
            v = nv;
            cap = ncap;
        }
        if (read(s, v + *n * size) < 0) {
            rc = SQLITE_NOMEM;
            break;
        }
        (*n)++;
    }
    sf_done(s);
    if (rc != SQLITE_DONE) {
        free(v);
        *n = 0;
        return sf_fail(st, what);
    }
    *out = v;
    return 0;
}

int sf_exec(struct store *st, const char *sql, const char *types, ...)
{
    va_list ap;
    sqlite3_stmt *s;
    int rc;

    va_start(ap, types);
    s = sf_vbind(st, sql, types, ap);
    va_end(ap);
    if (!s)
        return -1;
    rc = sqlite3_step(s);
    sf_done(s);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return sqlite3_changes(store_db(st));
    rc = sqlite3_extended_errcode(store_db(st));
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return -2;
    return sf_fail(st, "exec");
}

int sf_ll(struct store *st, long long *out, const char *sql,
          const char *types, ...)
{
    va_list ap;
    sqlite3_stmt *s;
    int rc;

    va_start(ap, types);
    s = sf_vbind(st, sql, types, ap);
    va_end(ap);
    if (!s)
        return -1;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    sf_done(s);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? STORE_NOTFOUND : sf_fail(st, "query");
}

void sf_col(sqlite3_stmt *s, int i, char *dst, size_t len)
{
    const unsigned char *v = sqlite3_column_text(s, i);

    snprintf(dst, len, "%s", v ? (const char *)v : "");
}

char *sf_col_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *v = sqlite3_column_text(s, i);

    return v ? strdup((const char *)v) : NULL;
}

void sf_hash_secret(const char *secret, char out[FLEET_SHA256_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;

    if (EVP_Digest(secret, strlen(secret), md, &n, EVP_sha256(), NULL) != 1 ||
        n != 32) {
        /* Never matches a stored hash (those are hex). */
        snprintf(out, FLEET_SHA256_HEX, "!");
        return;
    }
    rr_hex(md, n, out);
}
