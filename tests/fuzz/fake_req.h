/* fake_req.h - fcgi/request.h without FastCGI, for the harnesses that
 * drive rrcloud-fcgi's handlers (fake_req.c replaces request.c). */
#ifndef RR_FAKE_REQ_H
#define RR_FAKE_REQ_H

#include <stddef.h>
#include <stdint.h>

struct req;
struct worker;

/* Makes r a request with this body (borrowed; read by req_read in pieces
 * of at most chunk bytes, 0 = as asked) and content type. */
void fake_req_init(struct req *r, struct worker *w, const char *method,
                   const char *ctype, const uint8_t *body, size_t len,
                   size_t chunk);
/* The status of the last answer sent, 0 if none. */
int fake_req_status(void);

#endif
