/*
 * minimal_fcgi - the FastCGI ceiling for the benchmarks: a libfcgi
 * responder with the same threading as rrcloud-fcgi that answers every
 * request with a fixed body of a given size and does nothing else.
 *
 *   minimal_fcgi SOCKET BODY_BYTES [THREADS]
 */
#include <fcgiapp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int listen_fd;
static char *body;
static size_t body_len;
static char head[256];
static int head_len;

static void *serve(void *arg)
{
    FCGX_Request req;

    (void)arg;
    FCGX_InitRequest(&req, listen_fd, 0);
    while (FCGX_Accept_r(&req) == 0) {
        FCGX_PutStr(head, head_len, req.out);
        FCGX_PutStr(body, (int)body_len, req.out);
        FCGX_Finish_r(&req);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t *t;
    int n;

    if (argc < 3) {
        fprintf(stderr, "usage: minimal_fcgi SOCKET BODY_BYTES [THREADS]\n");
        return 2;
    }
    body_len = strtoul(argv[2], NULL, 10);
    n = argc > 3 ? atoi(argv[3]) : 8;
    body = malloc(body_len + 1);
    if (!body || n < 1)
        return 1;
    memset(body, 'x', body_len);
    head_len = snprintf(head, sizeof(head),
                        "Status: 200 OK\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\n\r\n", body_len);
    FCGX_Init();
    listen_fd = FCGX_OpenSocket(argv[1], 1024);
    if (listen_fd < 0)
        return 1;
    chmod(argv[1], 0666);
    t = calloc((size_t)n, sizeof(*t));
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, serve, NULL);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    return 0;
}
