/* test_cfgscan.c - post_process in slicer configs, however they are
 * written, and inside 3MF and AMF files (services/cfgscan.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "services/cfgscan.h"
#include "services/filetype.h"
#include "services/zipdir.h"
#include "suites.h"

static char err[512], mime[128], path[64];

static void assert_err(const char *needle)
{
    ck_assert_msg(strstr(err, needle) != NULL, "'%s' not in '%s'", needle,
                  err);
}

/* The line cfgscan reports for s, fed whole and then byte by byte (the
 * two must agree). */
static unsigned long scan(const char *s, int xml)
{
    unsigned long whole = cfgscan_buf(s, strlen(s), xml);
    struct cfgscan c;

    cfgscan_init(&c, xml);
    for (size_t i = 0; s[i]; i++)
        cfgscan_feed(&c, s + i, 1);
    ck_assert_uint_eq(cfgscan_finish(&c), whole);
    return whole;
}

START_TEST(test_ini_variants)
{
    /* Each sets post_process for a reader that trims all whitespace,
     * splits lines at CR, or ignores case. */
    static const char *const evil[] = {
        "post_process = /usr/bin/touch /tmp/x\n",
        "\vpost_process = /usr/bin/touch /tmp/x\n",
        "\rpost_process = /usr/bin/touch /tmp/x\n",
        "\fpost_process=/usr/bin/touch\n",
        "layer_height = 0.2\rpost_process = /usr/bin/touch\n",
        "POST_PROCESS = touch\n",
        "Post_Process\v=\vtouch\n",
        "post_process\t \v= \f touch",
        "post-process: touch\n",
        "post process = touch\n",
        "postprocess=touch\n",
        "; post_process = /usr/bin/touch /tmp/x\n",
        "post_process = \"/usr/bin/touch\"\n",
        "post_process = \xc2\xa0touch\n",      /* a no-break space */
        "\"post_process\": [\"/usr/bin/touch\"],\n",
        "post_process =                              ; touch\n",
        "post_process = \r touch\n",     /* getline keeps the CR */
    };
    for (size_t i = 0; i < sizeof(evil) / sizeof(evil[0]); i++)
        ck_assert_msg(scan(evil[i], 0) >= 1, "not caught: %s", evil[i]);
    ck_assert_uint_eq(scan("a = 1\nb = 2\n\npost_process = x\n", 0), 4);
}
END_TEST

START_TEST(test_ini_empty_values)
{
    static const char *const ok[] = {
        "post_process = \n",
        "post_process =\r\n",
        "post_process = \v\f\r\n",
        "; post_process = \n; printer_notes = x\n",
        "post_process = \"\"\n",
        "\"post_process\": [],\n",
        "post_process",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        ck_assert_msg(scan(ok[i], 0) == 0, "refused: %s", ok[i]);
}
END_TEST

START_TEST(test_xml)
{
    ck_assert_uint_eq(scan("<config>\n<object id=\"1\">\n<metadata "
                           "type=\"object\" key=\"post_process\" "
                           "value=\"\"/>\n</object>\n</config>\n", 1), 0);
    ck_assert_uint_eq(scan("<metadata type=\"object\" key=\"post_process\" "
                           "value=\"touch x\"/>\n", 1), 1);
    /* value first, or on the next line */
    ck_assert_uint_eq(scan("<metadata value=\"touch\" key=\"post_process\""
                           "/>\n", 1), 1);
    ck_assert_uint_eq(scan("<metadata key=\"post_process\"\n  value='touch'"
                           "/>\n", 1), 2);
    /* blanks before '=' past any window, fed byte by byte too */
    ck_assert_uint_eq(scan("<metadata value\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t"
                           "\t\t\t\t =  \t'x' key='post_process'/>", 1), 1);
    /* AMF */
    ck_assert_uint_eq(scan("<amf>\n<metadata type=\"slic3r.post_process\">"
                           "</metadata>\n</amf>\n", 1), 0);
    ck_assert_uint_eq(scan("<amf>\n<metadata type=\"slic3r.post_process\">"
                           "/usr/bin/touch</metadata>\n</amf>\n", 1), 2);
    ck_assert_uint_eq(scan("<metadata type=\"slic3r.post_process\">&#47;"
                           "bin</metadata>", 1), 1);
    /* left open at the end */
    ck_assert_uint_eq(scan("<metadata type=\"slic3r.post_process\"", 1), 1);
}
END_TEST

/* ---- zips ------------------------------------------------------------- */

struct zip {
    unsigned char b[65536];
    size_t n;
};

static void zput(struct zip *z, const void *p, size_t len)
{
    ck_assert_uint_le(z->n + len, sizeof(z->b));
    memcpy(z->b + z->n, p, len);
    z->n += len;
}

static void zle(struct zip *z, unsigned long v, int bytes)
{
    for (int i = 0; i < bytes; i++) {
        unsigned char c = (unsigned char)(v >> (8 * i));
        zput(z, &c, 1);
    }
}

/* Raw deflate of s into out; returns its length. */
static size_t deflate_raw(const char *s, size_t len, unsigned char *out,
                          size_t cap)
{
    z_stream zs;

    memset(&zs, 0, sizeof(zs));
    ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 8,
                                  Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (unsigned char *)s;
    zs.avail_in = (unsigned)len;
    zs.next_out = out;
    zs.avail_out = (unsigned)cap;
    ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    deflateEnd(&zs);
    return cap - zs.avail_out;
}

/* A zip of names[i] holding texts[i], deflated; bad_crc spoils entry 0's
 * CRC. */
static void make_zip(struct zip *z, const char *const *names,
                     const char *const *texts, int bad_crc)
{
    unsigned long offs[8], crcs[8], csz[8];
    unsigned char c[16384];
    size_t i, cd;

    memset(z, 0, sizeof(*z));
    for (i = 0; names[i]; i++) {
        size_t len = strlen(texts[i]);

        csz[i] = deflate_raw(texts[i], len, c, sizeof(c));
        crcs[i] = crc32(0, (const unsigned char *)texts[i], (unsigned)len) ^
                  (i == 0 && bad_crc ? 1 : 0);
        offs[i] = (unsigned long)z->n;
        zput(z, "PK\003\004", 4);
        zle(z, 20, 2); zle(z, 0, 2); zle(z, 8, 2); zle(z, 0, 4);
        zle(z, crcs[i], 4); zle(z, csz[i], 4); zle(z, len, 4);
        zle(z, strlen(names[i]), 2); zle(z, 0, 2);
        zput(z, names[i], strlen(names[i]));
        zput(z, c, csz[i]);
    }
    cd = z->n;
    for (i = 0; names[i]; i++) {
        zput(z, "PK\001\002", 4);
        zle(z, 20, 2); zle(z, 20, 2); zle(z, 0, 2); zle(z, 8, 2);
        zle(z, 0, 4); zle(z, crcs[i], 4); zle(z, csz[i], 4);
        zle(z, strlen(texts[i]), 4); zle(z, strlen(names[i]), 2);
        zle(z, 0, 2); zle(z, 0, 2); zle(z, 0, 2); zle(z, 0, 2);
        zle(z, 0, 4); zle(z, offs[i], 4);
        zput(z, names[i], strlen(names[i]));
    }
    zput(z, "PK\005\006", 4);
    zle(z, 0, 4); zle(z, i, 2); zle(z, i, 2);
    zle(z, z->n - 4 - 8 - cd, 4);
    zle(z, cd, 4); zle(z, 0, 2);
}

static int check_zip(const struct zip *z, const char *ext)
{
    int fd, rc;

    snprintf(path, sizeof(path), "/tmp/rrcfg.XXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, z->b, z->n), (ssize_t)z->n);
    close(fd);
    rc = filetype_check(NULL, path, z->b, z->n, z->n, ext, mime,
                        sizeof(mime), err, sizeof(err));
    unlink(path);
    return rc;
}

#define MODEL "<?xml version=\"1.0\"?><model unit=\"millimeter\"></model>\n"
#define PE_EVIL "; generated by PrusaSlicer 2.5.0\n; layer_height = 0.2\n" \
                "; post_process = /usr/bin/touch /tmp/pwned\n"
#define PE_OK "; generated by PrusaSlicer 2.5.0\n; layer_height = 0.2\n" \
              "; post_process = \n"

START_TEST(test_3mf_slic3r_pe_config)
{
    const char *names[] = { "[Content_Types].xml", "3D/3dmodel.model",
                            "Metadata/Slic3r_PE.config", NULL };
    const char *ok[] = { "<Types/>", MODEL, PE_OK };
    const char *evil[] = { "<Types/>", MODEL, PE_EVIL };
    struct zip z;

    const char *d = getenv("top_srcdir");
    char src[512];
    FILE *f;
    size_t n;

    /* the shipped cube, a PrusaSlicer 3MF with Slic3r_PE_model.config */
    snprintf(src, sizeof(src), "%s/tests/data/cube.3mf", d && *d ? d : ".");
    ck_assert_msg((f = fopen(src, "rb")) != NULL, "%s missing", src);
    n = fread(z.b, 1, sizeof(z.b), f);
    fclose(f);
    ck_assert_int_eq(filetype_check(NULL, src, z.b, n, n, "3mf", mime,
                                    sizeof(mime), err, sizeof(err)), 0);
    make_zip(&z, names, ok, 0);
    ck_assert_msg(check_zip(&z, "3mf") == 0, "%s", err);
    make_zip(&z, names, evil, 0);
    ck_assert_int_eq(check_zip(&z, "3mf"), -1);
    assert_err("Metadata/Slic3r_PE.config line 3 sets post_process");
    /* a damaged part is refused, not skipped */
    make_zip(&z, names, ok, 1);
    ck_assert_int_eq(check_zip(&z, "3mf"), -1);
    assert_err("CRC");
}
END_TEST

START_TEST(test_3mf_other_configs)
{
    const char *model_cfg[] = { "3D/3dmodel.model",
                                "Metadata/Slic3r_PE_model.config", NULL };
    const char *cura[] = { "3D/3dmodel.model", "Cura/creality.global.cfg",
                           NULL };
    const char *t1[] = { MODEL, "<config><object id=\"1\"><metadata "
                         "type=\"object\" key=\"post_process\" value=\"id\"/>"
                         "</object></config>" };
    const char *t2[] = { MODEL, "[values]\nPOST_PROCESS\v= touch\n" };
    const char *t3[] = { "<model><metadata name=\"post_process\">x"
                         "</metadata></model>", "<config/>" };
    /* XML by its text, not its name: an empty attribute passes */
    const char *orca[] = { "3D/3dmodel.model",
                           "Metadata/model_settings.config", NULL };
    const char *t4[] = { MODEL, "<?xml version=\"1.0\"?>\n<config><object>"
                         "<metadata key=\"post_process\" value=\"\"/>"
                         "</object></config>\n" };
    const char *t5[] = { MODEL, "<config><metadata key=\"post_process\" "
                         "value=\"touch\"/></config>\n" };
    struct zip z;

    make_zip(&z, model_cfg, t1, 0);
    ck_assert_int_eq(check_zip(&z, "3mf"), -1);
    assert_err("Metadata/Slic3r_PE_model.config line 1");
    make_zip(&z, cura, t2, 0);
    ck_assert_int_eq(check_zip(&z, "3mf"), -1);
    assert_err("Cura/creality.global.cfg line 2");
    make_zip(&z, orca, t4, 0);
    ck_assert_msg(check_zip(&z, "3mf") == 0, "%s", err);
    make_zip(&z, orca, t5, 0);
    ck_assert_int_eq(check_zip(&z, "3mf"), -1);
    assert_err("Metadata/model_settings.config line 1");
    /* the mesh itself is not read for settings */
    make_zip(&z, model_cfg, t3, 0);
    ck_assert_msg(check_zip(&z, "3mf") == 0, "%s", err);
}
END_TEST

START_TEST(test_amf)
{
    const char *names[] = { "cube.amf", NULL };
    const char *evil[] = { "<?xml version=\"1.0\"?>\n<amf unit=\"mm\">\n"
                           "<metadata type=\"slic3r.post_process\">touch x"
                           "</metadata>\n</amf>\n" };
    const char *ok[] = { "<?xml version=\"1.0\"?>\n<amf unit=\"mm\">\n"
                         "<metadata type=\"slic3r.layer_height\">0.2"
                         "</metadata>\n</amf>\n" };
    struct zip z;
    int fd;

    make_zip(&z, names, evil, 0);
    ck_assert_int_eq(check_zip(&z, "amf"), -1);
    assert_err("AMF model's settings: cube.amf line 3 sets post_process");
    make_zip(&z, names, ok, 0);
    ck_assert_msg(check_zip(&z, "amf") == 0, "%s", err);
    /* not zipped */
    snprintf(path, sizeof(path), "/tmp/rrcfg.XXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, evil[0], strlen(evil[0])),
                     (ssize_t)strlen(evil[0]));
    close(fd);
    ck_assert_int_eq(filetype_check(NULL, path, (const unsigned char *)evil[0],
                                    strlen(evil[0]), strlen(evil[0]), "amf",
                                    mime, sizeof(mime), err, sizeof(err)), -1);
    assert_err("line 3 sets post_process");
    unlink(path);
}
END_TEST

static int want_all(void *arg, const char *name)
{
    (void)arg;
    (void)name;
    return 1;
}

static int count_bytes(void *arg, const char *name, const unsigned char *d,
                       size_t len, char *e, size_t elen)
{
    (void)name;
    (void)d;
    (void)e;
    (void)elen;
    *(size_t *)arg += len;
    return 0;
}

/* The key spelt or split in what the slicer decodes first: character
 * references, comments, CDATA, entities (XML), \u escapes (JSON). */
START_TEST(test_decoded_spellings)
{
    static const char *const xml_evil[] = {
        "<metadata type=\"slic3r.post&#95;process\">touch</metadata>",
        "<metadata type=\"slic3r.post&#x5F;process\">touch</metadata>",
        "<metadata type=\"slic3r.post&#X5f;process\">touch</metadata>",
        "<metadata type=\"slic3r.post&#0000000000095;process\">t</metadata>",
        "<metadata type=\"slic3r.&#112;ost_process\">touch</metadata>",
        "<metadata key=\"post&#45;process\" value=\"\"/>",
        "<metadata type=\"slic3r.x\">post]]><![CDATA[_process</metadata>",
        "<metadata type=\"slic3r.x\">post<!-- -->_process</metadata>",
        ("<!DOCTYPE amf [<!ENTITY k \"_process\">]><metadata "
         "type=\"slic3r.post&k;\">touch</metadata>"),
    };
    static const char *const json_evil[] = {
        "{\"post\\u005fprocess\": [\"touch\"]}",
        "{\"post\\u005Fprocess\": [\"touch\"]}",
        "{\"\\u0070ost_process\": [\"touch\"]}",
        "{\"post\\u002dprocess\": \"touch\"}",
    };
    const char *what = NULL;

    for (size_t i = 0; i < sizeof(xml_evil) / sizeof(xml_evil[0]); i++)
        ck_assert_msg(scan(xml_evil[i], 1) == 1, "not caught: %s",
                      xml_evil[i]);
    for (size_t i = 0; i < sizeof(json_evil) / sizeof(json_evil[0]); i++)
        ck_assert_msg(scan(json_evil[i], 0) == 1, "not caught: %s",
                      json_evil[i]);
    /* references to other characters, escapes of others, pass */
    ck_assert_uint_eq(scan("<config>\n<metadata key=\"notes\" value=\"a&amp;b"
                           "&#10;&#xA;&#x9;&lt;&#8364;&#47;\"/>\n</config>\n",
                           1), 0);
    ck_assert_uint_eq(scan("{\"notes\": \"caf\\u00e9\\n\\\\ \\u0009 "
                           "\\u20ac C:\\\\users\"}\n", 0), 0);
    /* the line, and what it is */
    ck_assert_uint_eq(cfgscan_buf_what("<amf>\n\n<metadata type=\"slic3r."
                                       "post&#95;process\"/>", 39, 1,
                                       &what), 3);
    ck_assert_str_eq(what, "has a character reference (&#...;) to a letter, "
                     "digit, '_' or '-', which could spell post_process");
    ck_assert_uint_eq(cfgscan_buf_what("<amf>\n<!-- x -->\n", 17, 1, &what),
                      2);
    ck_assert_ptr_nonnull(strstr(what, "XML comment, CDATA section or "
                                 "DOCTYPE"));
    ck_assert_uint_eq(cfgscan_buf_what("{\n\"a\\u0041\": 1}", 15, 0, &what),
                      2);
    ck_assert_ptr_nonnull(strstr(what, "\\u escape"));
    ck_assert_uint_eq(cfgscan_buf_what("post_process = x\n", 17, 0, &what),
                      1);
    ck_assert_str_eq(what, "sets post_process");
}
END_TEST

/* The same inside a 3MF and an AMF: refused, naming the part and line. */
START_TEST(test_decoded_in_zips)
{
    const char *model_cfg[] = { "3D/3dmodel.model",
                                "Metadata/Slic3r_PE_model.config", NULL };
    const char *bambu[] = { "3D/3dmodel.model",
                            "Metadata/project_settings.config", NULL };
    const char *amf[] = { "cube.amf", NULL };
    const char *t1[] = { MODEL, "<config>\n<object id=\"1\"><metadata "
                         "type=\"object\" key=\"post&#95;process\" "
                         "value=\"touch\"/></object></config>" };
    const char *t2[] = { MODEL, "{\n  \"layer_height\": \"0.2\",\n"
                         "  \"post\\u005fprocess\": [\"touch\"]\n}\n" };
    const char *t3[] = { "<?xml version=\"1.0\"?>\n<amf unit=\"mm\">\n"
                         "<metadata type=\"slic3r.post<!---->_process\">"
                         "touch</metadata>\n</amf>\n" };
    struct zip z;

    make_zip(&z, model_cfg, t1, 0);
    ck_assert_int_eq(check_zip(&z, "3mf"), -1);
    assert_err("Metadata/Slic3r_PE_model.config line 2 has a character "
               "reference");
    make_zip(&z, bambu, t2, 0);
    ck_assert_int_eq(check_zip(&z, "3mf"), -1);
    assert_err("Metadata/project_settings.config line 3 has a \\u escape");
    make_zip(&z, amf, t3, 0);
    ck_assert_int_eq(check_zip(&z, "amf"), -1);
    assert_err("AMF model's settings: cube.amf line 3 has an XML comment");
}
END_TEST

START_TEST(test_inflate_cap)
{
    static char zeros[20000];
    const char *names[] = { "Metadata/big.config", NULL };
    const char *texts[] = { zeros };
    struct zip z;
    size_t got = 0;
    int fd;

    memset(zeros, 'a', sizeof(zeros) - 1);
    make_zip(&z, names, texts, 0);
    snprintf(path, sizeof(path), "/tmp/rrcfg.XXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, z.b, z.n), (ssize_t)z.n);
    close(fd);
    ck_assert_int_eq(zipdir_read_entries(path, z.n, sizeof(zeros), want_all,
                                         count_bytes, &got, err,
                                         sizeof(err)), 0);
    ck_assert_uint_eq(got, sizeof(zeros) - 1);
    ck_assert_int_eq(zipdir_read_entries(path, z.n, 1000, want_all,
                                         count_bytes, &got, err,
                                         sizeof(err)), -1);
    assert_err("inflates to more than the size checked");
    unlink(path);
}
END_TEST

Suite *cfgscan_suite(void)
{
    Suite *s = suite_create("cfgscan");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_ini_variants);
    tcase_add_test(tc, test_ini_empty_values);
    tcase_add_test(tc, test_xml);
    tcase_add_test(tc, test_3mf_slic3r_pe_config);
    tcase_add_test(tc, test_3mf_other_configs);
    tcase_add_test(tc, test_amf);
    tcase_add_test(tc, test_inflate_cap);
    tcase_add_test(tc, test_decoded_spellings);
    tcase_add_test(tc, test_decoded_in_zips);
    suite_add_tcase(s, tc);
    return s;
}
