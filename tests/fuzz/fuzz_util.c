/* fuzz_util.c - files for the harnesses that parse files (fuzz.h). */
#include "fuzz.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)flag;
    if (ftw->level > 0)
        remove(path);
    return 0;
}

void fuzz_clean_tmpdir(void)
{
    if (tmpdir[0])
        nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void fuzz_cleanup(void)
{
    fuzz_clean_tmpdir();
    rmdir(tmpdir);
}

const char *fuzz_tmpdir(void)
{
    const char *t = getenv("TMPDIR");

    if (tmpdir[0])
        return tmpdir;
    snprintf(tmpdir, sizeof(tmpdir), "%s/rrfuzz.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpdir))
        abort();
    atexit(fuzz_cleanup);
    return tmpdir;
}

void fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t off = 0;

    if (fd < 0)
        abort();
    while (off < size) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0)
            abort();
        off += (size_t)n;
    }
    close(fd);
}
