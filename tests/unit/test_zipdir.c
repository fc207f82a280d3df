/*
 * test_zipdir.c - the zip central directory reader and the 3MF check built
 * on it: tests/data/cube.3mf, zips written here entry by entry, and the
 * same zips broken one field at a time.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "services/filetype.h"
#include "services/zipdir.h"

Suite *zipdir_suite(void);

#define ZMAX 8192

static char err[512], mime[128];
static char path[64];

/* A zip being written: local entries first, then the directory. */
struct zip {
    unsigned char b[ZMAX];
    size_t n;
    size_t eocd;                /* offset of the end record, once ended */
};

static void zput(struct zip *z, const void *p, size_t len)
{
    ck_assert_uint_le(z->n + len, sizeof(z->b));
    memcpy(z->b + z->n, p, len);
    z->n += len;
}

static void z16(struct zip *z, unsigned v)
{
    unsigned char b[2] = { (unsigned char)v, (unsigned char)(v >> 8) };

    zput(z, b, 2);
}

static void z32(struct zip *z, unsigned long v)
{
    z16(z, (unsigned)(v & 0xffff));
    z16(z, (unsigned)(v >> 16));
}

static void set16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void set32(unsigned char *p, unsigned long v)
{
    set16(p, (unsigned)(v & 0xffff));
    set16(p + 2, (unsigned)(v >> 16));
}

/* A stored (uncompressed) zip of the named entries, each holding its own
 * name as content (with its CRC: the 3MF check reads the parts that may
 * hold settings); comment ends the file. */
static void make_zip(struct zip *z, const char *const *names,
                     const char *comment)
{
    unsigned long offs[16];
    size_t i, cd;

    memset(z, 0, sizeof(*z));
    for (i = 0; names[i] != NULL; i++) {
        size_t len = strlen(names[i]);

        offs[i] = (unsigned long)z->n;
        zput(z, "PK\003\004", 4);
        z16(z, 20); z16(z, 0); z16(z, 0); z16(z, 0); z16(z, 0);
        z32(z, crc32(0, (const unsigned char *)names[i], (unsigned)len));
        z32(z, (unsigned long)len); z32(z, (unsigned long)len);
        z16(z, (unsigned)len); z16(z, 0);
        zput(z, names[i], len);
        zput(z, names[i], len);
    }
    cd = z->n;
    for (i = 0; names[i] != NULL; i++) {
        size_t len = strlen(names[i]);

        zput(z, "PK\001\002", 4);
        z16(z, 20); z16(z, 20); z16(z, 0); z16(z, 0); z16(z, 0); z16(z, 0);
        z32(z, crc32(0, (const unsigned char *)names[i], (unsigned)len));
        z32(z, (unsigned long)len); z32(z, (unsigned long)len);
        z16(z, (unsigned)len); z16(z, 0); z16(z, 0); z16(z, 0); z16(z, 0);
        z32(z, 0); z32(z, offs[i]);
        zput(z, names[i], len);
    }
    z->eocd = z->n;
    zput(z, "PK\005\006", 4);
    z16(z, 0); z16(z, 0); z16(z, (unsigned)i); z16(z, (unsigned)i);
    z32(z, (unsigned long)(z->eocd - cd)); z32(z, (unsigned long)cd);
    z16(z, (unsigned)strlen(comment));
    zput(z, comment, strlen(comment));
}

static void write_file(const void *p, size_t len)
{
    int fd;

    snprintf(path, sizeof(path), "/tmp/rrzip.XXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, p, len), (ssize_t)len);
    close(fd);
}

/* zipdir_has_entry on len bytes of z, written to a file. */
static int has_model(const struct zip *z, size_t len)
{
    int rc;

    write_file(z->b, len);
    rc = zipdir_has_entry(path, len, "3D/3dmodel.model", err, sizeof(err));
    unlink(path);
    return rc;
}

/* The whole 3MF check (libmagic included) on z. */
static int check_3mf(const struct zip *z)
{
    struct filetype *ft = filetype_new(err, sizeof(err));
    int rc;

    ck_assert_msg(ft != NULL, "filetype_new: %s", err);
    write_file(z->b, z->n);
    rc = filetype_check(ft, path, z->b, z->n, z->n, "3mf", mime,
                        sizeof(mime), err, sizeof(err));
    unlink(path);
    filetype_free(ft);
    return rc;
}

static void assert_err(const char *needle)
{
    ck_assert_msg(strstr(err, needle) != NULL, "'%s' not in '%s'", needle, err);
}

static const char *const model_3mf[] = {
    "[Content_Types].xml", "_rels/.rels", "3D/3dmodel.model", NULL
};

START_TEST(test_cube_3mf)
{
    char src[512];
    FILE *f;
    long size;
    const char *d = getenv("top_srcdir");

    snprintf(src, sizeof(src), "%s/tests/data/cube.3mf",
             d != NULL && *d != '\0' ? d : ".");
    f = fopen(src, "rb");
    ck_assert_msg(f != NULL, "%s missing", src);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    fclose(f);
    ck_assert_int_eq(zipdir_has_entry(src, (unsigned long long)size,
                                      "3D/3dmodel.model", err, sizeof(err)), 1);
    ck_assert_int_eq(zipdir_has_entry(src, (unsigned long long)size,
                                      "3d/3DMODEL.model", err, sizeof(err)), 1);
    ck_assert_int_eq(zipdir_has_entry(src, (unsigned long long)size,
                                      "3D/other.model", err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_written_zip)
{
    struct zip z;

    make_zip(&z, model_3mf, "");
    ck_assert_int_eq(has_model(&z, z.n), 1);
    make_zip(&z, model_3mf, "a comment that says PK\005\006 in it");
    ck_assert_int_eq(has_model(&z, z.n), 1);
    ck_assert_int_eq(check_3mf(&z), 0);
}
END_TEST

/* Entries in the order some writers use make libmagic see "Microsoft
 * OOXML" (application/octet-stream): the directory still decides. */
START_TEST(test_ooxml_named_3mf_accepted)
{
    static const char *const names[] = {
        "[Content_Types].xml", "_rels/.rels", "3D/3dmodel.model",
        "Metadata/thumbnail.png", "3D/_rels/3dmodel.model.rels", NULL
    };
    struct zip z;

    make_zip(&z, names, "");
    ck_assert_msg(check_3mf(&z) == 0, "refused (libmagic: %s): %s", mime, err);
    ck_assert_str_ne(mime, "application/zip");
}
END_TEST

START_TEST(test_zip_without_model)
{
    static const char *const names[] = {
        "[Content_Types].xml", "_rels/.rels", "3D/3dmodel.model.rels",
        "notes.txt", NULL
    };
    struct zip z;

    /* the model's name only in the comment and as part of another name */
    make_zip(&z, names, "3D/3dmodel.model");
    ck_assert_int_eq(has_model(&z, z.n), 0);
    ck_assert_int_eq(check_3mf(&z), -1);
    assert_err("zip without a 3D model part (3D/3dmodel.model)");
}
END_TEST

START_TEST(test_truncated)
{
    struct zip z;

    make_zip(&z, model_3mf, "");
    ck_assert_int_eq(has_model(&z, z.n - 1), -1);
    assert_err("no end of central directory record");
    ck_assert_int_eq(has_model(&z, z.eocd), -1);
    ck_assert_int_eq(has_model(&z, 21), -1);
    assert_err("too short");
    ck_assert_int_eq(has_model(&z, 0), -1);
    /* cut in the middle of the data, end record kept: the directory offset
     * now points past the end record */
    memmove(z.b + 40, z.b + 80, z.n - 80);
    z.n -= 40;
    ck_assert_int_eq(has_model(&z, z.n), -1);
    assert_err("central directory");
    z.n = 0;
    {
        /* 30 bytes: a local header's signature, then no zip at all */
        static const char junk[30] = "PK\003\004 not much of anything";

        write_file(junk, sizeof(junk));
        ck_assert_int_eq(zipdir_has_entry(path, sizeof(junk),
                                          "3D/3dmodel.model", err,
                                          sizeof(err)), -1);
    }
    unlink(path);
}
END_TEST

/* A "PK\5\6" that is not the end record: a comment that does not end
 * the file, a record planted in an entry's data. */
START_TEST(test_fake_end_record)
{
    struct zip z;
    unsigned char fake[22] = { 'P', 'K', 5, 6 };

    make_zip(&z, model_3mf, "");
    set16(z.b + z.eocd + 20, 5);                /* comment past the end */
    ck_assert_int_eq(has_model(&z, z.n), -1);
    assert_err("no end of central directory record");

    memset(&z, 0, sizeof(z));
    zput(&z, "PK\003\004", 4);
    zput(&z, "3D/3dmodel.model                                            ", 60);
    set16(fake + 8, 1);
    set16(fake + 10, 1);
    set32(fake + 12, 46);
    set32(fake + 16, 4);        /* a "directory" that is file data */
    zput(&z, fake, sizeof(fake));
    ck_assert_int_eq(has_model(&z, z.n), -1);
    assert_err("central directory entry 0 is damaged");
}
END_TEST

START_TEST(test_counts_out_of_range)
{
    struct zip z;

    make_zip(&z, model_3mf, "");
    set16(z.b + z.eocd + 8, 5);                 /* more entries than there are */
    set16(z.b + z.eocd + 10, 5);
    ck_assert_int_eq(has_model(&z, z.n), -1);
    assert_err("cannot fit");

    make_zip(&z, model_3mf, "");
    set16(z.b + z.eocd + 8, 2);                 /* fewer */
    set16(z.b + z.eocd + 10, 2);
    ck_assert_int_eq(has_model(&z, z.n), -1);
    assert_err("holds more than its 2 entries");

    make_zip(&z, model_3mf, "");
    set16(z.b + z.eocd + 8, 2);                 /* disagreeing counts */
    ck_assert_int_eq(has_model(&z, z.n), -1);
    assert_err("multi-disk");

    make_zip(&z, model_3mf, "");
    set16(z.b + z.eocd + 8, 0xffff);            /* zip64 without its records */
    set16(z.b + z.eocd + 10, 0xffff);
    ck_assert_int_eq(has_model(&z, z.n), -1);
    assert_err("zip64 locator");

    make_zip(&z, model_3mf, "");
    set32(z.b + z.eocd + 12, 0x7fffffffUL);     /* directory size */
    ck_assert_int_eq(has_model(&z, z.n), -1);
    assert_err("runs past its end record");

    make_zip(&z, model_3mf, "");
    set32(z.b + z.eocd + 16, 0x7fffffffUL);     /* directory offset */
    ck_assert_int_eq(has_model(&z, z.n), -1);
    assert_err("runs past its end record");
}
END_TEST

START_TEST(test_entry_bounds)
{
    struct zip z;
    size_t cd;

    make_zip(&z, model_3mf, "");
    cd = z.eocd - (46 * 3 + strlen(model_3mf[0]) + strlen(model_3mf[1]) +
                   strlen(model_3mf[2]));
    ck_assert_int_eq(memcmp(z.b + cd, "PK\001\002", 4), 0);
    set16(z.b + cd + 28, 4000);                 /* name past the directory */
    ck_assert_int_eq(has_model(&z, z.n), -1);
    assert_err("entry 0 runs past the directory");

    make_zip(&z, model_3mf, "");
    set32(z.b + cd + 42, (unsigned long)cd);    /* local header in the directory */
    ck_assert_int_eq(has_model(&z, z.n), -1);
    assert_err("entry 0 points past the file data");
}
END_TEST

Suite *zipdir_suite(void)
{
    Suite *s = suite_create("zipdir");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_cube_3mf);
    tcase_add_test(tc, test_written_zip);
    tcase_add_test(tc, test_ooxml_named_3mf_accepted);
    tcase_add_test(tc, test_zip_without_model);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_fake_end_record);
    tcase_add_test(tc, test_counts_out_of_range);
    tcase_add_test(tc, test_entry_bounds);
    suite_add_tcase(s, tc);
    return s;
}
