/*
 * health.c - frontend health: every frontend_check_interval each enabled
 * frontend's canary URL (its canary share; the frontend URL when none is
 * set) is fetched through the fleet's Moonraker client, so the check sees
 * what the printers' traffic sees:
 *   no answer (connect/TLS failure, timeout)  down
 *   404                                       routing broken (mapping gone)
 *   502/504                                   tunnel broken (backend path)
 *   2xx                                       up
 * Each result goes to the store (store_frontend_health counts failures in
 * a row against frontend_fail_threshold); when the round is complete the
 * load manager's rebalance moves printers off frontends that stayed
 * unhealthy past the grace period (store_fleet_rebalance).
 */
#include "fleet/fleet_int.h"

#include "common/log.h"
#include "common/util.h"
#include "store/store_fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct health_slot {
    struct fleet_health *h;
    long long id;
    char name[FLEET_NAME_MAX];
    struct mr_xfer *x;
};

struct fleet_health {
    struct fleet *f;
    struct health_slot *slots;
    size_t n, pending;
};

int fleet_health_init(struct fleet *f)
{
    f->health = calloc(1, sizeof(*f->health));
    if (!f->health)
        return -1;
    f->health->f = f;
    return 0;
}

/* Cancels a round in flight. */
static void health_abort(struct fleet_health *h)
{
    for (size_t i = 0; i < h->n; i++) {
        if (h->slots[i].x)
            mr_cancel(h->f->mr, h->slots[i].x);
    }
    free(h->slots);
    h->slots = NULL;
    h->n = h->pending = 0;
}

void fleet_health_free(struct fleet *f)
{
    if (!f->health)
        return;
    health_abort(f->health);
    free(f->health);
    f->health = NULL;
}

static void health_done(struct fleet_health *h)
{
    struct fleet *f = h->f;
    int moved = 0;

    free(h->slots);
    h->slots = NULL;
    h->n = 0;
    if (store_fleet_rebalance(f->st, &f->pol, rr_now(), &moved) < 0) {
        log_err("fleet: rebalance: %s", store_errmsg(f->st));
        return;
    }
    if (moved > 0) {
        log_info("fleet: load manager moved %d printer(s) to other "
                 "frontends", moved);
        f->next_reload_ms = 0;
    }
}

static void on_canary(void *arg, const struct mr_reply *rep)
{
    struct health_slot *s = arg;
    struct fleet_health *h = s->h;
    struct fleet *f = h->f;
    char why[FLEET_WHY_MAX] = "";
    int changed = 0, ok = rep->err == MR_OK;

    s->x = NULL;
    switch (rep->err) {
    case MR_OK:
        break;
    case MR_ERR_OFFLINE:
        snprintf(why, sizeof(why), "down: %s", rep->message);
        break;
    case MR_ERR_NOTFOUND:
        snprintf(why, sizeof(why), "routing broken (HTTP 404)");
        break;
    case MR_ERR_TUNNEL:
        snprintf(why, sizeof(why), "tunnel broken (HTTP %ld)", rep->http);
        break;
    default:
        snprintf(why, sizeof(why), "%s (HTTP %ld): %s", mr_err_name(rep->err),
                 rep->http, rep->message);
        break;
    }
    if (store_frontend_health(f->st, s->id, ok, ok ? NULL : why, &f->pol,
                              rr_now(), &changed) < 0)
        log_err("fleet: frontend %s: %s", s->name, store_errmsg(f->st));
    else if (changed)
        log_warn("fleet: frontend %s is %s%s%s", s->name,
                 ok ? "healthy again" : "unhealthy", ok ? "" : ": ", why);
    if (--h->pending == 0)
        health_done(h);
}

int fleet_health_round(struct fleet *f)
{
    struct fleet_health *h = f->health;
    struct fleet_frontend *fe = NULL;
    size_t n = 0;

    if (!h || h->pending > 0)
        return 0;               /* the last round is still out */
    if (store_frontend_load_all(f->st, &fe, &n) < 0) {
        log_err("fleet: frontends: %s", store_errmsg(f->st));
        return -1;
    }
    if (n == 0) {
        free(fe);
        return 0;
    }
    h->slots = calloc(n, sizeof(*h->slots));
    if (!h->slots) {
        free(fe);
        return -1;
    }
    h->n = n;
    for (size_t i = 0; i < n; i++) {
        struct health_slot *s = &h->slots[i];
        const char *url = fe[i].canary_url[0] ? fe[i].canary_url : fe[i].url;

        s->h = h;
        s->id = fe[i].id;
        snprintf(s->name, sizeof(s->name), "%s", fe[i].name);
        if (!fe[i].enabled || !url[0])
            continue;
        s->x = mr_get(f->mr, url, NULL, on_canary, s);
        if (s->x)
            h->pending++;
        else
            log_warn("fleet: frontend %s: cannot check %s", fe[i].name, url);
    }
    free(fe);
    if (h->pending == 0)
        health_done(h);         /* nothing to wait for: rebalance now */
    return 0;
}
