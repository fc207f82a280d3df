/*
 * rr-listen - a tiny HTTP listener for the integration tests: it stands in
 * for an application that receives rrcloud's notifier callbacks.
 *
 *   rr-listen LOGFILE [STATUS,STATUS,...]
 *
 * Binds 127.0.0.1 on a free port, prints the port on stdout, then for each
 * request appends "<method> <target>\n<headers>\n<body>\n--\n" to LOGFILE
 * and answers with the next status of the list (the last one repeats;
 * default 200).  Runs until killed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static int next_status(char *list)
{
    static char *pos;
    char *comma;
    int status;

    if (!pos)
        pos = list;
    status = atoi(pos);
    comma = strchr(pos, ',');
    if (comma)
        pos = comma + 1;
    return status > 0 ? status : 200;
}

static void serve(int c, FILE *log, char *statuses)
{
    char buf[65536];
    size_t len = 0;
    long clen = 0;
    char *end = NULL, *cl;
    ssize_t n;
    int status;

    /* buf is this call's: without this strstr would find the blank line of
     * the request before (same stack slot) and the body loop would wait for
     * bytes the client never sends. */
    buf[0] = '\0';
    while (len < sizeof(buf) - 1 && !(end = strstr(buf, "\r\n\r\n"))) {
        n = read(c, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0)
            return;
        len += (size_t)n;
        buf[len] = '\0';
    }
    if (!end)
        return;
    cl = strcasestr(buf, "\r\ncontent-length:");
    if (cl && cl < end)
        clen = atol(cl + 17);
    while ((long)(len - (size_t)(end + 4 - buf)) < clen && len < sizeof(buf) - 1) {
        n = read(c, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
    }
    fprintf(log, "%s\n--\n", buf);
    fflush(log);
    status = next_status(statuses);
    dprintf(c, "HTTP/1.1 %d X\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n",
            status);
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t salen = sizeof(sa);
    static char default_status[] = "200";
    char *statuses = argc > 2 ? argv[2] : default_status;
    FILE *log;
    int s, one = 1;

    if (argc < 2) {
        fprintf(stderr, "usage: rr-listen LOGFILE [STATUS,...]\n");
        return 2;
    }
    log = fopen(argv[1], "a");
    s = socket(AF_INET, SOCK_STREAM, 0);
    if (!log || s < 0)
        return 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 64) < 0 ||
        getsockname(s, (struct sockaddr *)&sa, &salen) < 0)
        return 1;
    printf("%d\n", ntohs(sa.sin_port));
    fflush(stdout);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        serve(c, log, statuses);
        close(c);
    }
}
