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

/* A deflated zip written in a growing buffer: entries of chosen sizes and
 * contents, for zipdir_read_entries. */
struct dzip {
    unsigned char *b;
    size_t n, cap;
};

static void dput(struct dzip *z, const void *p, size_t len)
{
    if (z->n + len > z->cap) {
        z->cap = (z->n + len) * 2;
        z->b = realloc(z->b, z->cap);
        ck_assert_ptr_nonnull(z->b);
    }
    memcpy(z->b + z->n, p, len);
    z->n += len;
}

static void d16(struct dzip *z, unsigned v)
{
    unsigned char b[2] = { (unsigned char)v, (unsigned char)(v >> 8) };

    dput(z, b, 2);
}

static void d32(struct dzip *z, unsigned long v)
{
    d16(z, (unsigned)(v & 0xffff));
    d16(z, (unsigned)(v >> 16));
}

/* Size n of content kind: a run of one byte, lines of text, or
 * four letters at random (each compresses differently). */
static unsigned char *dz_content(size_t n, int kind)
{
    static const char line[] = "; perimeters = 3 fill_density = 20%\n";
    unsigned char *p = malloc(n + 1);
    unsigned seed = 7;

    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        if (kind == 0)
            p[i] = 'x';
        else if (kind == 1)
            p[i] = (unsigned char)line[i % 36];
        else
            p[i] = (unsigned char)"abcd"[(seed >> 16) % 4];
    }
    return p;
}

static size_t dz_deflate(const unsigned char *in, size_t n,
                         unsigned char **out)
{
    z_stream s;
    size_t cap = n + n / 100 + 64;

    memset(&s, 0, sizeof(s));
    *out = malloc(cap);
    ck_assert_ptr_nonnull(*out);
    ck_assert_int_eq(deflateInit2(&s, 6, Z_DEFLATED, -MAX_WBITS, 8,
                                  Z_DEFAULT_STRATEGY), Z_OK);
    s.next_in = (unsigned char *)in;
    s.avail_in = (uInt)n;
    s.next_out = *out;
    s.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&s, Z_FINISH), Z_STREAM_END);
    cap = s.total_out;
    deflateEnd(&s);
    return cap;
}

#define DZ_MAX 80

struct dz_entry {
    char name[32];
    size_t size;
    int kind;                   /* of content (dz_content) */
    unsigned long crc;
    unsigned long off;
    size_t csize;
};

/* Entries e[0..n) deflated (their name, size and kind set by the
 * caller). */
static void dz_write(struct dzip *z, struct dz_entry *e, size_t n)
{
    size_t i, cd;

    for (i = 0; i < n; i++) {
        unsigned char *u = dz_content(e[i].size, e[i].kind), *c;

        e[i].crc = crc32(0, u, (uInt)e[i].size);
        e[i].csize = dz_deflate(u, e[i].size, &c);
        e[i].off = (unsigned long)z->n;
        dput(z, "PK\003\004", 4);
        d16(z, 20); d16(z, 0); d16(z, 8); d16(z, 0); d16(z, 0);
        d32(z, e[i].crc);
        d32(z, (unsigned long)e[i].csize); d32(z, (unsigned long)e[i].size);
        d16(z, (unsigned)strlen(e[i].name)); d16(z, 0);
        dput(z, e[i].name, strlen(e[i].name));
        dput(z, c, e[i].csize);
        free(u);
        free(c);
    }
    cd = z->n;
    for (i = 0; i < n; i++) {
        dput(z, "PK\001\002", 4);
        d16(z, 20); d16(z, 20); d16(z, 0); d16(z, 8); d16(z, 0); d16(z, 0);
        d32(z, e[i].crc);
        d32(z, (unsigned long)e[i].csize); d32(z, (unsigned long)e[i].size);
        d16(z, (unsigned)strlen(e[i].name)); d16(z, 0); d16(z, 0);
        d16(z, 0); d16(z, 0); d32(z, 0); d32(z, e[i].off);
        dput(z, e[i].name, strlen(e[i].name));
    }
    {
        size_t end = z->n;

        dput(z, "PK\005\006", 4);
        d16(z, 0); d16(z, 0); d16(z, (unsigned)n); d16(z, (unsigned)n);
        d32(z, (unsigned long)(end - cd)); d32(z, (unsigned long)cd);
        d16(z, 0);
    }
}

/* What the reader handed on, per entry. */
struct dz_seen {
    struct dz_entry *e;
    size_t n, cur, ended;
    unsigned long long got;
    unsigned long crc;
};

static int dz_want(void *arg, const char *name)
{
    (void)arg;
    (void)name;
    return 1;
}

static int dz_data(void *arg, const char *name, const unsigned char *p,
                   size_t len, char *e, size_t elen)
{
    struct dz_seen *s = arg;

    (void)e;
    (void)elen;
    ck_assert_uint_lt(s->cur, s->n);
    ck_assert_str_eq(name, s->e[s->cur].name);
    if (len > 0) {
        s->got += len;
        s->crc = crc32(s->crc, p, (uInt)len);
        return 0;
    }
    ck_assert_uint_eq(s->got, s->e[s->cur].size);
    ck_assert_uint_eq(s->crc, s->e[s->cur].crc);
    s->ended++;
    s->cur++;
    s->got = 0;
    s->crc = crc32(0, Z_NULL, 0);
    return 0;
}

/* zipdir.c inflates 16 KiB at a time (ZD_CHUNK): entries whose inflated
 * size ends on, just before or just after a multiple of it, with output
 * still inside zlib when the last input was taken, must all be read
 * whole (they were refused as "does not match its size or CRC"). */
START_TEST(test_inflate_chunk_boundary)
{
    static const long deltas[] = { -258, -1, 0, 1, 2, 67, 258 };
    struct dz_entry e[DZ_MAX];
    struct dz_seen seen;
    struct dzip z = { NULL, 0, 0 };
    size_t n = 0;

    memset(e, 0, sizeof(e));
    snprintf(e[n].name, sizeof(e[n].name), "small.config");
    e[n++].size = 100;
    for (long k = 1; k <= 3; k++)
        for (size_t d = 0; d < sizeof(deltas) / sizeof(deltas[0]); d++)
            for (int kind = 0; kind < 3; kind++) {
                ck_assert_uint_lt(n, DZ_MAX);
                snprintf(e[n].name, sizeof(e[n].name), "Metadata/e%zu.config",
                         n);
                e[n].kind = kind;
                e[n++].size = (size_t)(k * 16384 + deltas[d]);
            }
    dz_write(&z, e, n);
    write_file(z.b, z.n);
    memset(&seen, 0, sizeof(seen));
    seen.e = e;
    seen.n = n;
    seen.crc = crc32(0, Z_NULL, 0);
    ck_assert_msg(zipdir_read_entries(path, z.n, 1ull << 30, dz_want,
                                      dz_data, &seen, err, sizeof(err)) == 0,
                  "refused: %s", err);
    unlink(path);
    ck_assert_uint_eq(seen.ended, n);
    free(z.b);
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
    tcase_add_test(tc, test_inflate_chunk_boundary);
    suite_add_tcase(s, tc);
    return s;
}
