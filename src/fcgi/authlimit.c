/* authlimit.c - see authlimit.h. */
#include "fcgi/authlimit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* An address as 16 bytes: IPv4 mapped into IPv6, IPv6 cut to its /64,
 * anything else (a Unix socket's "", a name) hashed. */
struct al_key {
    unsigned char b[16];
};

struct al_entry {
    struct al_key key;
    int used;
    int count;                /* failures in the current window */
    long long first_ms;       /* start of the current window */
    long long blocked_until;  /* ms; 0 = not blocked */
    long long last_ms;        /* last failure, for eviction */
};

struct authlimit {
    pthread_mutex_t lock;
    int limit;
    long long window_ms;
    struct al_entry e[AUTHLIMIT_SLOTS];
};

static void al_key_of(const char *addr, struct al_key *k)
{
    struct in_addr v4;
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */

    memset(k, 0, sizeof(*k));
    if (inet_pton(AF_INET, addr, &v4) == 1) {
        k->b[10] = k->b[11] = 0xff;
        memcpy(k->b + 12, &v4, 4);
        return;
    }
    if (inet_pton(AF_INET6, addr, k->b) == 1) {
        static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };

        if (memcmp(k->b, mapped, sizeof(mapped)) != 0)
            memset(k->b + 8, 0, 8);     /* one /64, one client */
        return;
    }
    for (const char *p = addr; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    k->b[0] = 0xfe;                      /* no IPv6 unicast address */
    memcpy(k->b + 8, &h, sizeof(h));
}

struct authlimit *authlimit_new(int limit, long long window_s)
{
    struct authlimit *al;

    if (limit <= 0 || window_s <= 0)
        return NULL;
    al = calloc(1, sizeof(*al));
    if (!al)
        return NULL;
    if (pthread_mutex_init(&al->lock, NULL) != 0) {
        free(al);
        errno = ENOMEM;
        return NULL;
    }
    al->limit = limit;
    al->window_ms = window_s * 1000;
    return al;
}

void authlimit_free(struct authlimit *al)
{
    if (!al)
        return;
    pthread_mutex_destroy(&al->lock);
    free(al);
}

static struct al_entry *al_find(struct authlimit *al, const struct al_key *k)
{
    for (int i = 0; i < AUTHLIMIT_SLOTS; i++)
        if (al->e[i].used && memcmp(&al->e[i].key, k, sizeof(*k)) == 0)
            return &al->e[i];
    return NULL;
}

/* A free slot, else the least recently failed unblocked address's, else
 * (every address blocked) the least recently failed one's. */
static struct al_entry *al_take(struct authlimit *al, long long now_ms)
{
    struct al_entry *open = NULL, *any = NULL;

    for (int i = 0; i < AUTHLIMIT_SLOTS; i++) {
        struct al_entry *e = &al->e[i];

        if (!e->used)
            return e;
        if (e->blocked_until <= now_ms &&
            (!open || e->last_ms < open->last_ms))
            open = e;
        if (!any || e->last_ms < any->last_ms)
            any = e;
    }
    return open ? open : any;
}

long long authlimit_blocked(struct authlimit *al, const char *addr,
                            long long now_ms)
{
    struct al_entry *e;
    struct al_key k;
    long long wait = 0;

    if (!al)
        return 0;
    al_key_of(addr ? addr : "", &k);
    pthread_mutex_lock(&al->lock);
    e = al_find(al, &k);
    if (e && e->blocked_until > now_ms)
        wait = (e->blocked_until - now_ms + 999) / 1000;
    pthread_mutex_unlock(&al->lock);
    return wait;
}

int authlimit_failed(struct authlimit *al, const char *addr, long long now_ms)
{
    struct al_entry *e;
    struct al_key k;
    int blocked = 0;

    if (!al)
        return 0;
    al_key_of(addr ? addr : "", &k);
    pthread_mutex_lock(&al->lock);
    e = al_find(al, &k);
    if (!e) {
        e = al_take(al, now_ms);
        memset(e, 0, sizeof(*e));
        e->used = 1;
        e->key = k;
        e->first_ms = now_ms;
    }
    e->last_ms = now_ms;
    if (e->blocked_until > now_ms)
        goto out;               /* not checked, so not counted */
    if (now_ms - e->first_ms >= al->window_ms) {
        e->count = 0;
        e->first_ms = now_ms;
    }
    if (++e->count >= al->limit) {
        e->blocked_until = now_ms + al->window_ms;
        e->count = 0;
        e->first_ms = e->blocked_until;
        blocked = 1;
    }
out:
    pthread_mutex_unlock(&al->lock);
    return blocked;
}

int authlimit_limit(const struct authlimit *al)
{
    return al ? al->limit : 0;
}

long long authlimit_window(const struct authlimit *al)
{
    return al ? al->window_ms / 1000 : 0;
}
