/*
 * replay.c - a main() for the harnesses without libFuzzer: runs
 * LLVMFuzzerTestOneInput once per file named on the command line (a
 * directory: each regular file in it), so make check replays the corpora
 * with any compiler.  Exits 1 if a file cannot be read or none was given.
 */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    long len;
    int rc = -1;

    if (!f)
        goto out;
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0)
        goto out;
    /* An exact-size copy, so ASan sees reads past the input's end. */
    if (!(data = malloc(len ? (size_t)len : 1)) ||
        fread(data, 1, (size_t)len, f) != (size_t)len)
        goto out;
    LLVMFuzzerTestOneInput(data, (size_t)len);
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "replay: %s: cannot read\n", path);
    free(data);
    if (f)
        fclose(f);
    return rc;
}

static int replay_dir(const char *dir, long *n)
{
    struct dirent **ents;
    int k = scandir(dir, &ents, NULL, alphasort), rc = 0;

    if (k < 0) {
        fprintf(stderr, "replay: %s: cannot list\n", dir);
        return -1;
    }
    for (int i = 0; i < k; i++) {
        char path[4096];
        struct stat st;

        if (ents[i]->d_name[0] != '.' &&
            snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name) <
                (int)sizeof(path) &&
            stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(path) < 0)
                rc = -1;
            (*n)++;
        }
        free(ents[i]);
    }
    free(ents);
    return rc;
}

int main(int argc, char **argv)
{
    long n = 0;
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;

        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            if (replay_dir(argv[i], &n) < 0)
                rc = 1;
        } else {
            if (replay_file(argv[i]) < 0)
                rc = 1;
            n++;
        }
    }
    printf("%s: %ld inputs replayed\n", argv[0], n);
    return rc || n == 0 ? 1 : 0;
}
