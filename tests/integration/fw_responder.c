/*
 * fw_responder.c - a tiny stand-in for printer firmware on a serial line.
 *
 * Lets the printrun service be tested without a printer: socat makes a pty
 * pair, printcore talks to one end, this program to the other.
 *
 *   socat pty,raw,echo=0,link=$D/ttyFAKE pty,raw,echo=0,link=$D/ttyFW &
 *   fw_responder -o $D/received.txt -t 20 $D/ttyFW &
 *   printcore $D/ttyFAKE file.gcode
 *
 * Like Marlin it greets with "start", answers every line with "ok" (M105
 * with a temperature report), checks the "N<n> ... *<xor>" checksum and line
 * number that printcore adds and asks for a resend on a mismatch.  Each
 * accepted command (line number and checksum removed) is appended to the -o
 * file (line buffered), so a test can compare what arrived with what was
 * sent.  Exits 0 when the host side closes, 1 on an error, 2 after -t
 * seconds without input.  socat keeps the pty pair open after printcore
 * closes its end, so a test either waits for the -t timeout or kills us.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define FW_LINE_MAX 512

struct fw {
    int fd;
    FILE *out;
    long expect;            /* next line number the host must send */
    unsigned long received; /* commands logged */
};

static int fw_write(int fd, const char *s)
{
    size_t len = strlen(s);

    while (len > 0) {
        ssize_t n = write(fd, s, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Splits "N12 G1 X3*87" into its number and command; returns 1 if the line
 * carried a number and a valid checksum, 0 if it had neither, -1 if the
 * checksum or number is malformed. */
static int fw_unwrap(char *line, long *lineno, char **cmd)
{
    char *star = strrchr(line, '*');
    unsigned cs = 0;
    char *end;

    *cmd = line;
    if (line[0] != 'N')
        return 0;
    if (star == NULL)
        return -1;
    for (const char *p = line; p < star; p++)
        cs ^= (unsigned char)*p;
    if (strtoul(star + 1, &end, 10) != cs || *end != '\0')
        return -1;
    *star = '\0';
    errno = 0;
    *lineno = strtol(line + 1, &end, 10);
    if (errno != 0 || end == line + 1 || (*end != ' ' && *end != '\0'))
        return -1;
    while (*end == ' ')
        end++;
    *cmd = end;
    return 1;
}

static int fw_handle(struct fw *fw, char *line)
{
    char reply[64];
    long lineno = 0;
    char *cmd;
    int rc = fw_unwrap(line, &lineno, &cmd);

    if (rc < 0) {
        snprintf(reply, sizeof(reply), "Error:checksum mismatch\nResend: %ld\nok\n",
                 fw->expect);
        return fw_write(fw->fd, reply);
    }
    if (rc == 1 && strncmp(cmd, "M110", 4) == 0) {
        fw->expect = lineno + 1;    /* "N-1 M110" resets the counter */
    } else if (rc == 1) {
        if (lineno != fw->expect) {
            snprintf(reply, sizeof(reply), "Error:Line Number is not Last Line Number+1\n"
                     "Resend: %ld\nok\n", fw->expect);
            return fw_write(fw->fd, reply);
        }
        fw->expect++;
    }
    if (cmd[0] != '\0') {
        if (fw->out != NULL && fprintf(fw->out, "%s\n", cmd) < 0)
            return -1;
        fw->received++;
    }
    if (strncmp(cmd, "M105", 4) == 0)
        return fw_write(fw->fd, "ok T:200.0 /200.0 B:60.0 /60.0 @:0 B@:0\n");
    return fw_write(fw->fd, "ok\n");
}

static int fw_open(const char *path)
{
    struct termios t;
    int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        (void)tcsetattr(fd, TCSANOW, &t);
    }
    return fd;
}

/* Reads bytes, assembles lines, answers each; returns the exit status. */
static int fw_loop(struct fw *fw, int idle_sec)
{
    char line[FW_LINE_MAX];
    size_t len = 0;

    for (;;) {
        struct pollfd pfd = { .fd = fw->fd, .events = POLLIN };
        char buf[256];
        int pr = poll(&pfd, 1, idle_sec > 0 ? idle_sec * 1000 : -1);
        ssize_t n;

        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return 1;
        if (pr == 0)
            return 2;
        n = read(fw->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (n < 0 && errno == EIO))
            return 0;           /* host side went away */
        if (n < 0)
            return 1;
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n' || buf[i] == '\r') {
                line[len] = '\0';
                if (len > 0 && fw_handle(fw, line) < 0)
                    return 1;
                len = 0;
            } else if (len + 1 < sizeof(line)) {
                line[len++] = buf[i];
            }
        }
    }
}

int main(int argc, char **argv)
{
    struct fw fw = { .fd = -1, .out = NULL, .expect = 0, .received = 0 };
    const char *outpath = NULL;
    int idle = 0, opt, status;

    while ((opt = getopt(argc, argv, "o:t:")) != -1) {
        if (opt == 'o')
            outpath = optarg;
        else if (opt == 't')
            idle = atoi(optarg);
        else
            goto usage;
    }
    if (optind != argc - 1)
        goto usage;
    if (outpath != NULL && (fw.out = fopen(outpath, "w")) == NULL) {
        perror(outpath);
        return 1;
    }
    /* line buffered: the test may simply kill us once printcore is done */
    if (fw.out != NULL)
        setvbuf(fw.out, NULL, _IOLBF, 0);
    if ((fw.fd = fw_open(argv[optind])) < 0) {
        perror(argv[optind]);
        status = 1;
        goto done;
    }
    if (fw_write(fw.fd, "start\n") < 0) {
        status = 1;
        goto done;
    }
    status = fw_loop(&fw, idle);
    fprintf(stderr, "fw_responder: %lu commands received, exit %d\n",
            fw.received, status);
done:
    if (fw.fd >= 0)
        close(fw.fd);
    if (fw.out != NULL && fclose(fw.out) != 0)
        status = 1;
    return status;
usage:
    fprintf(stderr, "usage: fw_responder [-o received.txt] [-t idle_seconds] TTY\n");
    return 1;
}
