/*
 * fuzz_octoprint.c - the OctoPrint upload (fcgi/octoprint.c): the input is
 * the multipart body a slicer POSTs to /api/files/local (boundary
 * "rrfuzz"), answered by octoprint_handle for an OctoPrint key of queue
 * "default", with the G-code stored in a spool and the job in a database
 * under a private directory.  The first byte is the read size (1..256);
 * when it is odd, a second pass runs the fleet's own upload of the same
 * body (file_PROFILE parts).
 */
#include "fuzz.h"
#include "fake_req.h"

#include "common/conf.h"
#include "common/log.h"
#include "fcgi/auth.h"
#include "fcgi/fleet_api.h"
#include "fcgi/fleet_api_int.h"
#include "fcgi/worker.h"
#include "spool/spool.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTYPE "multipart/form-data; boundary=rrfuzz"

static struct app app;
static struct worker wk = { .app = &app };
static struct auth_caller caller;
static unsigned long runs;

static void setup(void)
{
    char db[512], err[512];

    log_init("fuzz", LOG_LVL_ERR);   /* each refusal logs at info */
    conf_defaults(&app.conf, fuzz_tmpdir());
    snprintf(app.conf.spool_dir, sizeof(app.conf.spool_dir), "%s/spool",
             fuzz_tmpdir());
    app.conf.max_body_size = 64 * 1024;
    app.conf.max_field_size = 512;
    app.conf.max_part_header = 512;
    app.conf.max_fields = 16;
    snprintf(db, sizeof(db), "%s/rrcloud.db", fuzz_tmpdir());
    if (spool_init(app.conf.spool_dir) < 0 ||
        !(wk.st = store_open(db, err, sizeof(err)))) {
        fprintf(stderr, "fuzz_octoprint: %s\n", err);
        abort();
    }
    caller.who = AUTH_KEY;
    caller.role = ROLE_OCTOPRINT;
    snprintf(caller.key.name, sizeof(caller.key.name), "slicer");
    snprintf(caller.key.queue, sizeof(caller.key.queue), "default");
    snprintf(caller.owner, sizeof(caller.owner), "key:slicer");
    snprintf(caller.who_str, sizeof(caller.who_str), "key:slicer");
    caller.addr = "127.0.0.1";
    caller.presented = caller.matched = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fa_upload *u;
    struct req r;

    if (size < 1)
        return 0;
    if (!wk.st)
        setup();
    /* Blobs and jobs pile up: start afresh now and then. */
    if (++runs % 20000 == 0) {
        store_close(wk.st);
        wk.st = NULL;
        fuzz_clean_tmpdir();
        setup();
    }
    fake_req_init(&r, &wk, "POST", CTYPE, data + 1, size - 1,
                  (size_t)data[0] + 1);
    r.caller = &caller;
    octoprint_handle(&r, "/files/local");
    req_free(&r);
    if (data[0] % 2 == 0 || !(u = calloc(1, sizeof(*u))))
        return 0;
    fake_req_init(&r, &wk, "POST", CTYPE, data + 1, size - 1, 0);
    fa_upload_receive(&r, u);
    fa_upload_free(u);
    free(u);
    req_free(&r);
    return 0;
}
