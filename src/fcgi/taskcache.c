/* taskcache.c - see taskcache.h. */
#include "fcgi/taskcache.h"

#include <stdlib.h>
#include <string.h>

struct slot {
    struct task t;
    double at;             /* when it was read; 0 = empty */
};

struct taskcache {
    struct slot slot[TASKCACHE_SLOTS];
};

struct taskcache *taskcache_new(void)
{
    return calloc(1, sizeof(struct taskcache));
}

void taskcache_free(struct taskcache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < TASKCACHE_SLOTS; i++)
        task_clear(&c->slot[i].t);
    free(c);
}

/* FNV-1a of the id: its last digits are random, so any mix will do. */
static struct slot *slot_of(struct taskcache *c, const char *id)
{
    unsigned h = 2166136261u;

    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 16777619u;
    return &c->slot[h % TASKCACHE_SLOTS];
}

const struct task *taskcache_get(struct taskcache *c, const char *id,
                                 double now)
{
    struct slot *s;

    if (!c)
        return NULL;
    s = slot_of(c, id);
    if (s->at <= 0 || strcmp(s->t.id, id) != 0)
        return NULL;
    /* too old, or a clock that went back: read it again */
    if (now - s->at > TASKCACHE_TTL || now < s->at)
        return NULL;
    return &s->t;
}

const struct task *taskcache_put(struct taskcache *c, struct task *t,
                                 double now)
{
    struct slot *s;

    if (!c || !task_status_final(t->status) || now <= 0)
        return NULL;
    s = slot_of(c, t->id);
    task_clear(&s->t);
    s->t = *t;
    s->at = now;
    memset(t, 0, sizeof(*t));
    return &s->t;
}
