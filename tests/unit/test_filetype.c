/*
 * test_filetype.c - libmagic plus structural checks of slicer inputs, on
 * generated buffers and on tests/data.
 */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "services/filetype.h"

Suite *filetype_suite(void);

/* The source tree: top_srcdir (the Makefile exports it), srcdir, or ".". */
static const char *src_root(void)
{
    const char *d = getenv("top_srcdir");

    if (d == NULL || d[0] == '\0')
        d = getenv("srcdir");
    return d != NULL && d[0] != '\0' ? d : ".";
}

static struct filetype *ft;
static char err[512], mime[128];

static void setup(void)
{
    ft = filetype_new(err, sizeof(err));
    ck_assert_msg(ft != NULL, "filetype_new: %s", err);
}

static void teardown(void)
{
    filetype_free(ft);
    ft = NULL;
}

static int check_buf(const void *buf, size_t len, const char *ext)
{
    return filetype_check(ft, NULL, buf, len, len, ext, mime, sizeof(mime),
                          err, sizeof(err));
}

/* A binary STL of n triangles, size 84 + 50 n (+ extra bytes). */
static unsigned char *make_binary_stl(uint32_t n, size_t extra, size_t *len)
{
    unsigned char *b;

    *len = 84 + 50 * (size_t)n + extra;
    b = calloc(1, *len);
    ck_assert_ptr_nonnull(b);
    memcpy(b, "binary STL written by test_filetype", 35);
    b[80] = (unsigned char)(n & 0xff);
    b[81] = (unsigned char)(n >> 8 & 0xff);
    b[82] = (unsigned char)(n >> 16 & 0xff);
    b[83] = (unsigned char)(n >> 24);
    for (size_t i = 84; i < *len; i++)
        b[i] = (unsigned char)(i * 7);
    return b;
}

static const char ascii_stl[] =
    "solid test\n"
    "  facet normal 0 0 1\n"
    "    outer loop\n"
    "      vertex 0 0 0\n"
    "      vertex 1 0 0\n"
    "      vertex 0 1 0\n"
    "    endloop\n"
    "  endfacet\n"
    "endsolid test\n";

static const unsigned char elf_head[64] = {
    0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 0, 0x3e, 0, 1, 0, 0, 0, 0x40, 0x10, 0x40, 0, 0, 0, 0, 0,
    64, 0, 0, 0, 0, 0, 0, 0,
};

static const unsigned char png_head[] = {
    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
    0, 0, 0, 16, 0, 0, 0, 16, 8, 6, 0, 0, 0, 0x1f, 0xf3, 0xff, 0x61,
};

static void assert_err(const char *needle)
{
    ck_assert_msg(strstr(err, needle) != NULL, "'%s' not in '%s'", needle, err);
}

START_TEST(test_class_table)
{
    ck_assert_int_eq(filetype_class_of("stl"), FILETYPE_STL);
    ck_assert_int_eq(filetype_class_of("3mf"), FILETYPE_3MF);
    ck_assert_int_eq(filetype_class_of("gco"), FILETYPE_GCODE);
    ck_assert_int_eq(filetype_class_of("g"), FILETYPE_GCODE);
    ck_assert_int_eq(filetype_class_of("ini"), FILETYPE_CONFIG);
    ck_assert_int_eq(filetype_class_of("scad"), FILETYPE_SCAD);
    ck_assert_int_eq(filetype_class_of("STL"), FILETYPE_NONE);   /* lowercase only */
    ck_assert_int_eq(filetype_class_of("exe"), FILETYPE_NONE);
    ck_assert_int_eq(filetype_class_of(NULL), FILETYPE_NONE);
    ck_assert_str_eq(filetype_class_name(FILETYPE_CONFIG), "config");
    ck_assert_str_eq(filetype_class_label(FILETYPE_STL), "an STL model");
}
END_TEST

START_TEST(test_binary_stl_good)
{
    size_t len;
    unsigned char *b = make_binary_stl(12, 0, &len);

    ck_assert_int_eq(check_buf(b, len, "stl"), 0);
    ck_assert_str_eq(mime, "application/octet-stream");
    free(b);
}
END_TEST

START_TEST(test_binary_stl_bad_length)
{
    size_t len;
    unsigned char *b = make_binary_stl(12, 7, &len);

    ck_assert_int_eq(check_buf(b, len, "stl"), -1);
    assert_err("not an STL model (.stl)");
    assert_err("84 + 50 x 12");
    free(b);
    b = make_binary_stl(0, 0, &len);         /* 84 bytes, 0 triangles */
    ck_assert_int_eq(check_buf(b, len, "stl"), -1);
    assert_err("no triangles");
    free(b);
    ck_assert_int_eq(check_buf("solid", 5, "stl"), -1);
    assert_err("not an STL model");
}
END_TEST

START_TEST(test_binary_stl_header_says_solid)
{
    /* some exporters start binary files with "solid" too */
    size_t len;
    unsigned char *b = make_binary_stl(3, 0, &len);

    memcpy(b, "solid binary", 12);
    ck_assert_int_eq(check_buf(b, len, "stl"), 0);
    free(b);
}
END_TEST

START_TEST(test_ascii_stl)
{
    ck_assert_int_eq(check_buf(ascii_stl, strlen(ascii_stl), "stl"), 0);
    ck_assert_str_eq(mime, "text/plain");
    /* no facet: an empty solid or plain text */
    ck_assert_int_eq(check_buf("solid x\nendsolid x\n", 19, "stl"), -1);
    ck_assert_int_eq(check_buf("hello world, this is not a model\n", 33, "stl"), -1);
    assert_err("not an STL model");
    /* whole file given but cut before endsolid */
    ck_assert_int_eq(check_buf(ascii_stl, strlen(ascii_stl) - 14, "stl"), -1);
}
END_TEST

START_TEST(test_elf_rejected)
{
    static const char *const exts[] = { "stl", "gcode", "scad", "ini", "3mf", "obj" };
    unsigned char buf[684];

    /* even with a length that fits 84 + 50 n */
    memset(buf, 0, sizeof(buf));
    memcpy(buf, elf_head, sizeof(elf_head));
    buf[80] = 12;
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        ck_assert_int_eq(check_buf(buf, sizeof(buf), exts[i]), -1);
        assert_err("content is application/x-");
        assert_err("executable");
    }
    ck_assert_int_eq(check_buf(buf, sizeof(buf), "stl"), -1);
    assert_err("not an STL model (.stl)");
}
END_TEST

START_TEST(test_png_rejected)
{
    ck_assert_int_eq(check_buf(png_head, sizeof(png_head), "stl"), -1);
    ck_assert_str_eq(err, "content is image/png, not an STL model (.stl)");
    ck_assert_int_eq(check_buf(png_head, sizeof(png_head), "gcode"), -1);
    ck_assert_str_eq(err, "content is image/png, not G-code (.gcode)");
}
END_TEST

START_TEST(test_scripts_rejected)
{
    const char *sh = "#!/bin/sh\nrm -rf /\n";
    const char *py = "import os\nos.system('id')\n";

    ck_assert_int_eq(check_buf(sh, strlen(sh), "gcode"), -1);
    assert_err("script");
    ck_assert_int_eq(check_buf(sh, strlen(sh), "scad"), -1);
    ck_assert_int_eq(check_buf(py, strlen(py), "gcode"), -1);
    assert_err("not G-code");
}
END_TEST

START_TEST(test_gcode)
{
    const char *g = "; test\nG28\nG1 X10 Y10 F3000\nM104 S0\n";
    unsigned char bin[256];

    ck_assert_int_eq(check_buf(g, strlen(g), "gcode"), 0);
    ck_assert_int_eq(check_buf(g, strlen(g), "gco"), 0);
    ck_assert_int_eq(check_buf("\xef\xbb\xbf\nG28\n", 8, "gcode"), 0);
    for (size_t i = 0; i < sizeof(bin); i++)
        bin[i] = (unsigned char)(i * 37 + 1);
    ck_assert_int_eq(check_buf(bin, sizeof(bin), "gcode"), -1);
    assert_err("not G-code (.gcode)");
    ck_assert_int_eq(check_buf("G1 X1\0\0\0\0", 9, "gcode"), -1);
}
END_TEST

START_TEST(test_zip_only_for_3mf)
{
    static const char fake_zip[] = "PK\003\004 not much of anything";
    char path[] = "/tmp/rrft.XXXXXX";
    unsigned char head[FILETYPE_HEAD_LEN];
    char src[512];
    ssize_t n;
    int fd;

    snprintf(src, sizeof(src), "%s/tests/data/cube.3mf", src_root());
    fd = open(src, O_RDONLY);
    ck_assert_msg(fd >= 0, "%s missing", src);
    n = read(fd, head, sizeof(head));
    close(fd);
    ck_assert_int_gt(n, 100);
    ck_assert_int_eq(filetype_check(ft, src, head, (size_t)n, (unsigned long long)n,
                                    "3mf", mime, sizeof(mime), err, sizeof(err)), 0);
    ck_assert_str_eq(mime, "application/zip");
    ck_assert_int_eq(check_buf(head, (size_t)n, "stl"), -1);
    ck_assert_str_eq(err, "content is application/zip, not an STL model (.stl)");
    ck_assert_int_eq(check_buf(head, (size_t)n, "gcode"), -1);

    /* a zip local header and nothing else is no 3MF (test_zipdir.c has
     * the zip directory cases) */
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, fake_zip, sizeof(fake_zip) - 1), (ssize_t)sizeof(fake_zip) - 1);
    close(fd);
    ck_assert_int_eq(filetype_check(NULL, path, (const unsigned char *)fake_zip,
                                    sizeof(fake_zip) - 1, sizeof(fake_zip) - 1, "3mf",
                                    mime, sizeof(mime), err, sizeof(err)), -1);
    assert_err("not a 3MF model (.3mf): broken zip");
    unlink(path);
    ck_assert_int_eq(check_buf(ascii_stl, strlen(ascii_stl), "3mf"), -1);
}
END_TEST

START_TEST(test_config)
{
    const char *ini = "# comment\n; also\n[print]\nlayer_height = 0.2\nfill_density = 20%\n"
                      "post_process = \n";
    const char *evil = "layer_height = 0.2\npost_process = /bin/sh -c \"id\"\n";
    const char *junk = "layer_height = 0.2\nthis is no config line\n";

    ck_assert_int_eq(check_buf(ini, strlen(ini), "ini"), 0);
    ck_assert_int_eq(check_buf(evil, strlen(evil), "ini"), -1);
    assert_err("post_process");
    ck_assert_int_eq(check_buf(evil, strlen(evil), "conf"), -1);
    /* what Boost's ini reader trims, and a CR another reader splits at */
    ck_assert_int_eq(check_buf("\vpost_process = /usr/bin/touch\n", 31, "ini"),
                     -1);
    assert_err("post_process (line 1)");
    ck_assert_int_eq(check_buf("a = 1\rpost_process = touch\n", 27, "ini"), -1);
    ck_assert_int_eq(check_buf("a = 1\r\nPOST_PROCESS = touch\n", 28, "ini"),
                     -1);
    assert_err("post_process (line 2)");
    ck_assert_int_eq(check_buf(junk, strlen(junk), "ini"), -1);
    assert_err("not a slicer config");
    ck_assert_int_eq(check_buf(png_head, sizeof(png_head), "ini"), -1);
}
END_TEST

/* CuraEngine's settings as JSON (.json, a config): one object that names
 * no other definition file. */
START_TEST(test_config_json)
{
    const char *good = "{\"settings\": {\"machine_width\": "
                       "{\"default_value\": 220}}}\n";
    const char *inherits = "{\"inherits\": \"fdmprinter\", \"settings\": {}}";
    const char *trains = "{\"metadata\": {\"machine_extruder_trains\": "
                         "{\"0\": \"x\"}}, \"settings\": {}}";

    ck_assert_int_eq(filetype_class_of("json"), FILETYPE_CONFIG);
    ck_assert_int_eq(check_buf(good, strlen(good), "json"), 0);
    ck_assert_int_eq(check_buf(inherits, strlen(inherits), "json"), -1);
    assert_err("\"inherits\" names other definition files");
    ck_assert_int_eq(check_buf(trains, strlen(trains), "json"), -1);
    assert_err("machine_extruder_trains");
    ck_assert_int_eq(check_buf("{\"a\": ", 6, "json"), -1);
    assert_err("not a slicer config (.json)");
    ck_assert_int_eq(check_buf("{\"a\": 1, \"a\": 2}", 16, "json"), -1);
    /* JSON goes by the name: a .ini or .cfg that looks like JSON is read
     * line by line as the slicers read it, and its post_process seen. */
    ck_assert_int_eq(check_buf("{\n\"a\": 1\n}\n", 11, "json"), 0);
    ck_assert_int_eq(check_buf("{\n\"a\": 1\n}\n", 11, "ini"), -1);
    assert_err("not a slicer config (.ini)");
    ck_assert_int_eq(check_buf("{\"a\": 1}\npost_process = touch\n", 30,
                               "ini"), -1);
    assert_err("post_process");
    ck_assert_int_eq(check_buf(png_head, sizeof(png_head), "json"), -1);
}
END_TEST

START_TEST(test_config_scanned_past_head)
{
    char path[] = "/tmp/rrft.XXXXXX";
    char *buf;
    size_t len = 3 * FILETYPE_HEAD_LEN;
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    buf = malloc(len);
    ck_assert_ptr_nonnull(buf);
    memset(buf, '#', len);
    for (size_t i = 79; i < len; i += 80)
        buf[i] = '\n';
    memcpy(buf + len - 40, "\npost_process = /usr/bin/touch\n", 31);
    memset(buf + len - 9, '\n', 9);
    ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
    close(fd);
    /* the head alone is harmless; the file is not */
    ck_assert_int_eq(filetype_check(ft, path, (unsigned char *)buf, FILETYPE_HEAD_LEN, len,
                                    "ini", mime, sizeof(mime), err, sizeof(err)), -1);
    assert_err("post_process");
    ck_assert_int_eq(filetype_check(ft, NULL, (unsigned char *)buf, FILETYPE_HEAD_LEN, len,
                                    "ini", mime, sizeof(mime), err, sizeof(err)), 0);
    unlink(path);
    free(buf);
}
END_TEST

START_TEST(test_obj_scad_amf)
{
    const char *obj = "# cube\no cube\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n";
    const char *scad = "// x\ncube([10, 10, 10]);\n";
    const char *amf = "<?xml version=\"1.0\"?>\n<amf unit=\"millimeter\"><object id=\"0\"/></amf>\n";

    ck_assert_int_eq(check_buf(obj, strlen(obj), "obj"), 0);
    ck_assert_int_eq(check_buf(scad, strlen(scad), "obj"), -1);
    assert_err("not an OBJ model");
    ck_assert_int_eq(check_buf(scad, strlen(scad), "scad"), 0);
    ck_assert_int_eq(check_buf(amf, strlen(amf), "amf"), 0);
    ck_assert_int_eq(check_buf(scad, strlen(scad), "amf"), -1);
}
END_TEST

START_TEST(test_empty_and_unknown)
{
    ck_assert_int_eq(check_buf("", 0, "stl"), -1);
    ck_assert_str_eq(err, "empty file");
    ck_assert_int_eq(check_buf("G1\n", 3, "exe"), -1);
    assert_err("not a known type");
}
END_TEST

START_TEST(test_data_files)
{
    static const char *const files[][2] = {
        { "cube.stl", "stl" }, { "cube_bin.stl", "stl" }, { "small.gcode", "gcode" },
        { "cube.scad", "scad" }, { "slicer.ini", "ini" }, { "cube.3mf", "3mf" },
    };

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        unsigned char head[FILETYPE_HEAD_LEN];
        char path[512];
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "%s/tests/data/%s", src_root(),
                 files[i][0]);
        fd = open(path, O_RDONLY);
        ck_assert_msg(fd >= 0, "%s missing", path);
        n = read(fd, head, sizeof(head));
        close(fd);
        ck_assert_int_gt(n, 0);
        ck_assert_msg(filetype_check(ft, path, head, (size_t)n, (unsigned long long)n,
                                     files[i][1], mime, sizeof(mime), err, sizeof(err)) == 0,
                      "%s: %s", files[i][0], err);
    }
}
END_TEST

/* One handle per thread, created concurrently (creation is serialized
 * inside filetype_new). */
static void *thread_main(void *arg)
{
    char e[256], m[64];
    struct filetype *mine = filetype_new(e, sizeof(e));
    long ok = mine != NULL;

    for (int i = 0; ok && i < 50; i++)
        ok = filetype_check(mine, NULL, (const unsigned char *)ascii_stl, strlen(ascii_stl),
                            strlen(ascii_stl), "stl", m, sizeof(m), e, sizeof(e)) == 0 &&
             filetype_check(mine, NULL, png_head, sizeof(png_head), sizeof(png_head),
                            "stl", m, sizeof(m), e, sizeof(e)) == -1;
    filetype_free(mine);
    (void)arg;
    return (void *)ok;
}

START_TEST(test_handles_per_thread)
{
    pthread_t t[4];
    void *ok;

    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, thread_main, NULL), 0);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(pthread_join(t[i], &ok), 0);
        ck_assert_ptr_eq(ok, (void *)1L);
    }
}
END_TEST

START_TEST(test_init_probe)
{
    ck_assert_int_eq(filetype_init(err, sizeof(err)), 0);
    filetype_free(NULL);
}
END_TEST

Suite *filetype_suite(void)
{
    Suite *s = suite_create("filetype");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_class_table);
    tcase_add_test(tc, test_binary_stl_good);
    tcase_add_test(tc, test_binary_stl_bad_length);
    tcase_add_test(tc, test_binary_stl_header_says_solid);
    tcase_add_test(tc, test_ascii_stl);
    tcase_add_test(tc, test_elf_rejected);
    tcase_add_test(tc, test_png_rejected);
    tcase_add_test(tc, test_scripts_rejected);
    tcase_add_test(tc, test_gcode);
    tcase_add_test(tc, test_zip_only_for_3mf);
    tcase_add_test(tc, test_config);
    tcase_add_test(tc, test_config_json);
    tcase_add_test(tc, test_config_scanned_past_head);
    tcase_add_test(tc, test_obj_scad_amf);
    tcase_add_test(tc, test_empty_and_unknown);
    tcase_add_test(tc, test_data_files);
    tcase_add_test(tc, test_handles_per_thread);
    tcase_add_test(tc, test_init_probe);
    suite_add_tcase(s, tc);
    return s;
}
