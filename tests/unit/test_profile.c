/*
 * test_profile.c - printer profiles: the shipped ones, refusals at load
 * naming the file and key, lookups, a printer's profile name, a job's
 * overrides and the slicer options they become, the hash.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fleet/profile.h"
#include "services/service.h"

Suite *profile_suite(void);

static const char *src_root(void)
{
    const char *d = getenv("top_srcdir");

    if (d == NULL || d[0] == '\0')
        d = getenv("srcdir");
    return d != NULL && d[0] != '\0' ? d : ".";
}

static struct service_registry *services;
static struct profile_registry *shipped;
static char err[1024];
static char tmpdir[64];

static void setup(void)
{
    char dir[512];

    snprintf(dir, sizeof(dir), "%s/services", src_root());
    services = service_registry_load(dir, err, sizeof(err));
    ck_assert_msg(services != NULL, "shipped services: %s", err);
    snprintf(dir, sizeof(dir), "%s/profiles", src_root());
    shipped = profile_registry_load(dir, services, err, sizeof(err));
    ck_assert_msg(shipped != NULL, "shipped profiles: %s", err);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/rrprof.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char path[512];

    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(tmpdir);
    profile_registry_free(shipped);
    service_registry_free(services);
}

static void write_file(const char *fname, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, fname);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static void assert_err(const char *needle)
{
    ck_assert_msg(strstr(err, needle) != NULL, "'%s' not in '%s'", needle,
                  err);
}

static const struct profile *shipped_profile(const char *name)
{
    const struct profile *p = profile_find(shipped, name);

    ck_assert_msg(p != NULL, "profile %s not shipped", name);
    return p;
}

/* A good profile t.conf with its t.ini: conf lines first, then extra. */
#define T_INI "bed_shape = 0x0,200x0,200x200,0x200\nnozzle_diameter = 0.4\n"
#define T_HEAD "slicer = prusa-slicer\nconfig = t.ini\nbed = 200x200\n" \
               "height = 180\n"
#define T_GOOD T_HEAD "nozzle = 0.4\n"

/* Loading tmpdir with t.conf = conf (and t.ini = T_INI) must fail with
 * needle in err. */
static void assert_load_fails(const char *conf, const char *needle)
{
    struct profile_registry *reg;

    write_file("t.ini", T_INI);
    write_file("t.conf", conf);
    reg = profile_registry_load(tmpdir, services, err, sizeof(err));
    ck_assert_msg(reg == NULL, "loaded: %s", conf);
    assert_err(needle);
}

static struct profile_registry *load_tmp(void)
{
    struct profile_registry *reg = profile_registry_load(tmpdir, services,
                                                         err, sizeof(err));

    ck_assert_msg(reg != NULL, "%s", err);
    return reg;
}

/* ---- shipped ---------------------------------------------------------- */

START_TEST(test_shipped)
{
    const struct profile *mk3s = shipped_profile("mk3s");
    const struct profile *voron = shipped_profile("voron24-0.4");
    const struct profile *ender = shipped_profile("ender3");

    ck_assert_uint_eq(profile_count(shipped), 3);
    ck_assert_str_eq(profile_at(shipped, 0)->name, "ender3");
    ck_assert_str_eq(profile_at(shipped, 1)->name, "mk3s");
    ck_assert_str_eq(ender->slicer, "curaengine");
    ck_assert_str_eq(ender->config, "ender3.json");
    ck_assert(ender->bed_x == 220 && ender->bed_y == 220 &&
              ender->height == 250 && ender->nozzle == 0.4);
    ck_assert_str_eq(profile_material(ender, "petg")->file,
                     "ender3-petg.json");
    ck_assert_str_eq(mk3s->slicer, "prusa-slicer");
    ck_assert_str_eq(mk3s->config, "mk3s.ini");
    ck_assert(mk3s->bed_x == 250 && mk3s->bed_y == 210);
    ck_assert(voron->bed_x == 350 && voron->bed_y == 350);
    ck_assert(mk3s->nozzle == 0.4 && voron->nozzle == 0.4);
    ck_assert_uint_eq(mk3s->n_materials, 2);
    ck_assert_str_eq(mk3s->materials[0].name, "petg");     /* sorted */
    ck_assert_str_eq(profile_material(mk3s, "pla")->file, "mk3s-pla.ini");
    ck_assert_ptr_null(profile_material(mk3s, "abs"));
    ck_assert_str_eq(mk3s->default_material, "pla");
    ck_assert_uint_eq(strlen(mk3s->sha256), 64);
    ck_assert_str_ne(mk3s->sha256, voron->sha256);
    ck_assert_ptr_null(profile_find(shipped, "MK3S"));
    ck_assert_ptr_null(profile_find(shipped, NULL));
}
END_TEST

START_TEST(test_json)
{
    json_t *o = profile_json(shipped_profile("voron24-0.4"));

    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(json_string_value(json_object_get(o, "name")),
                     "voron24-0.4");
    ck_assert(json_real_value(json_object_get(json_object_get(o, "bed"),
                                              "x")) == 350);
    ck_assert(json_real_value(json_object_get(o, "nozzle")) == 0.4);
    ck_assert_uint_eq(json_array_size(json_object_get(o, "materials")), 2);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(o, "overrides"), "layer_height")),
                     "--layer-height=$value");
    ck_assert_str_eq(json_string_value(json_object_get(o, "default_material")),
                     "petg");
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(o, "sha256"))),
                      64);
    json_decref(o);
}
END_TEST

/* ---- empty, and a printer's profile name -------------------------------- */

START_TEST(test_none_configured)
{
    struct profile_registry *reg = profile_registry_load("", services, err,
                                                         sizeof(err));

    ck_assert_ptr_nonnull(reg);
    ck_assert_uint_eq(profile_count(reg), 0);
    /* not configured: printers name what they like, as before */
    ck_assert_int_eq(profile_check_name(reg, "anything", err, sizeof(err)), 0);
    profile_registry_free(reg);
    reg = load_tmp();           /* a directory without *.conf */
    ck_assert_uint_eq(profile_count(reg), 0);
    profile_registry_free(reg);
    ck_assert_ptr_null(profile_registry_load("/nonexistent/profiles",
                                             services, err, sizeof(err)));
    assert_err("/nonexistent/profiles");
}
END_TEST

START_TEST(test_check_name)
{
    ck_assert_int_eq(profile_check_name(shipped, "mk3s", err, sizeof(err)), 0);
    ck_assert_int_eq(profile_check_name(shipped, "", err, sizeof(err)), 0);
    ck_assert_int_eq(profile_check_name(shipped, "ender5", err, sizeof(err)),
                     -1);
    assert_err("no printer profile 'ender5' (profiles: ender3, mk3s, "
               "voron24-0.4)");
}
END_TEST

/* ---- refusals at load ------------------------------------------------- */

START_TEST(test_good_tmp)
{
    struct profile_registry *reg;

    /* 200 x 200 with the origin in the middle of the bed */
    write_file("t.ini", "bed_shape = -100x-100,100x-100,100x100,-100x100\n");
    write_file("t.conf", T_GOOD "override.lh = --layer-height=$value\n");
    reg = load_tmp();
    ck_assert_uint_eq(profile_count(reg), 1);
    ck_assert_str_eq(profile_at(reg, 0)->name, "t");
    ck_assert_str_eq(profile_at(reg, 0)->description, "");
    profile_registry_free(reg);
}
END_TEST

START_TEST(test_bad_slicer)
{
    assert_load_fails("slicer = cura\nconfig = t.ini\nbed = 200x200\n"
                      "height = 180\nnozzle = 0.4\n",
                      "t.conf: slicer: no slicer service 'cura' (services: ");
    assert_load_fails("slicer = openscad\nconfig = t.ini\nbed = 200x200\n"
                      "height = 180\nnozzle = 0.4\n",
                      "t.conf: slicer: service 'openscad' is no slicer");
    assert_load_fails("slicer = curaengine\nconfig = t.ini\nbed = 200x200\n"
                      "height = 180\nnozzle = 0.4\n",
                      "t.conf: config: t.ini: slicer curaengine takes no "
                      "config of type .ini");
}
END_TEST

/* CuraEngine's JSON settings: bed and nozzle checked as an .ini's; no
 * "inherits"; none of the settings an override changes (CuraEngine reads
 * the file after a job's -s options). */
#define C_HEAD "slicer = curaengine\nconfig = c.json\nbed = 220x220\n" \
               "height = 250\nnozzle = 0.4\n"
#define C_JSON(extra) "{\"settings\": {\"machine_width\": {\"default_value\"" \
                      ": 220}, \"machine_depth\": {\"default_value\": 220}" \
                      extra "}}"

START_TEST(test_curaengine_json)
{
    struct profile_registry *reg;

    write_file("c.json", C_JSON(""));
    write_file("t.conf", C_HEAD "override.layer_height = "
               "layer_height=$value\n");
    reg = load_tmp();
    ck_assert_str_eq(profile_find(reg, "t")->config, "c.json");
    profile_registry_free(reg);

    write_file("c.json", C_JSON(", \"layer_height\": {\"default_value\": "
                                "0.2}"));
    reg = profile_registry_load(tmpdir, services, err, sizeof(err));
    ck_assert_ptr_null(reg);
    assert_err("t.conf: config: sets layer_height, which "
               "override.layer_height changes");
    write_file("c.json", "{\"inherits\": \"fdmprinter\", \"settings\": {}}");
    reg = profile_registry_load(tmpdir, services, err, sizeof(err));
    ck_assert_ptr_null(reg);
    assert_err("\"inherits\" is not allowed");
    write_file("c.json", C_JSON(", \"machine_nozzle_size\": "
                                "{\"default_value\": 0.6}"));
    reg = profile_registry_load(tmpdir, services, err, sizeof(err));
    ck_assert_ptr_null(reg);
    assert_err("nozzle 0.6, but the profile says");
    write_file("c.json", "[1, 2]");
    reg = profile_registry_load(tmpdir, services, err, sizeof(err));
    ck_assert_ptr_null(reg);
    assert_err("not a JSON object with \"settings\"");
}
END_TEST

START_TEST(test_bad_overrides)
{
    assert_load_fails(T_GOOD "override.nozzle = --nozzle=$value\n",
                      "t.conf: override.nozzle: '--nozzle=$value' is not an "
                      "option slicer prusa-slicer allows");
    assert_load_fails(T_GOOD "override.pp = --post-process=$value\n",
                      "override.pp: '--post-process=$value' is not an option");
    assert_load_fails(T_GOOD "override.lh = --layer-height=$value$value\n",
                      "override.lh: one word, with $value at most once");
    assert_load_fails(T_GOOD "override.lh = --layer-height=$id\n",
                      "override.lh: one word");
    assert_load_fails(T_GOOD "override.Layer = --layer-height=$value\n",
                      "override.Layer: the name must be [a-z0-9_]");
    assert_load_fails(T_GOOD "override.lh = --layer-height=$value\n"
                      "override.lh = --layer-height=$value\n",
                      "override.lh given twice");
}
END_TEST

START_TEST(test_bad_keys)
{
    assert_load_fails(T_GOOD "bedsize = 1x1\n", "unknown key 'bedsize'");
    assert_load_fails(T_GOOD "slicer = slic3r\n", "slicer given twice");
    assert_load_fails(T_HEAD, "t.conf: missing nozzle");
    assert_load_fails(T_HEAD "nozzle = 0\n", "bad value '0' for nozzle");
    assert_load_fails("slicer = prusa-slicer\nconfig = t.ini\nbed = 200\n",
                      "bad value '200' for bed (WIDTHxDEPTH");
    assert_load_fails(T_GOOD "material.PLA = t.ini\n",
                      "material.PLA: the material must be a lowercase name");
    assert_load_fails(T_GOOD "material.pla = t.ini\ndefaultMaterial = abs\n",
                      "defaultMaterial: 'abs' has no material.abs line");
}
END_TEST

START_TEST(test_bad_files)
{
    assert_load_fails("slicer = prusa-slicer\nconfig = ../t.ini\n",
                      "config: '../t.ini' must be a file name");
    assert_load_fails("slicer = prusa-slicer\nconfig = /etc/passwd\n",
                      "must be a file name");
    assert_load_fails(T_GOOD "material.pla = nothere.ini\n",
                      "t.conf: material.pla: ");
    assert_err("nothere.ini: No such file");
    write_file("t.txt", "nozzle_diameter = 0.4\n");
    assert_load_fails(T_HEAD "nozzle = 0.4\nmaterial.pla = t.txt\n",
                      "material: t.txt: slicer prusa-slicer takes no config "
                      "of type .txt");
    write_file("pp.ini", "post_process = /bin/rm -rf /\n");
    assert_load_fails(T_GOOD "material.pla = pp.ini\n",
                      "pp.ini: line 1: post_process is not allowed");
    /* the config and the profile must agree on what the scheduler reads */
    assert_load_fails(T_HEAD "nozzle = 0.6\n",
                      "t.ini sets a bed of 200x200, height 0 or nozzle 0.4, "
                      "but the profile says bed = 200x200, height = 180, "
                      "nozzle = 0.6");
    assert_load_fails("slicer = prusa-slicer\nconfig = t.ini\nbed = 250x210\n"
                      "height = 180\nnozzle = 0.4\n", "sets a bed of 200x200");
    /* a bed with its origin inside: the span counts */
    write_file("o.ini", "bed_shape = -5x-10,200x-10,200x190,-5x190\n");
    assert_load_fails(T_GOOD "material.pla = o.ini\n",
                      "o.ini sets a bed of 205x200");
}
END_TEST

START_TEST(test_bad_name)
{
    struct profile_registry *reg;

    write_file("t.ini", T_INI);
    write_file("Big.conf", T_GOOD);
    reg = profile_registry_load(tmpdir, services, err, sizeof(err));
    ck_assert_ptr_null(reg);
    assert_err("Big.conf: the profile name (before .conf) must be a "
               "lowercase name");
}
END_TEST

/* ---- overrides -------------------------------------------------------- */

static int check1(const struct profile *p, const char *name, const char *v)
{
    const char *names[] = { name }, *values[] = { v };

    return profile_check_overrides(p, 1, names, values, err, sizeof(err));
}

START_TEST(test_overrides)
{
    const struct profile *p = shipped_profile("mk3s");
    const char *names[] = { "layer_height", "infill", "supports" };
    const char *values[] = { "0.15", "25%", "yes" };

    ck_assert_int_eq(profile_check_overrides(p, 3, names, values, err,
                                             sizeof(err)), 0);
    ck_assert_int_eq(profile_check_overrides(p, 0, NULL, NULL, err,
                                             sizeof(err)), 0);
    ck_assert_int_eq(check1(p, "nozzle", "0.6"), -1);
    assert_err("nozzle: profile mk3s allows no override 'nozzle' (allowed: "
               "brim, first_layer_height, infill, layer_height, perimeters, "
               "skirts, supports)");
    ck_assert_int_eq(check1(p, "supports", "maybe"), -1);
    assert_err("supports: must be yes or no");
    ck_assert_int_eq(check1(p, "infill", "20%;reboot"), -1);
    assert_err("infill: character ';' not allowed");
    ck_assert_int_eq(check1(p, "layer_height", ""), -1);
    assert_err("layer_height");
    /* the Voron profile allows no skirts override */
    ck_assert_int_eq(check1(shipped_profile("voron24-0.4"), "skirts", "2"),
                     -1);
    assert_err("skirts: profile voron24-0.4 allows no override 'skirts'");
}
END_TEST

START_TEST(test_override_option)
{
    const struct profile *p = shipped_profile("mk3s");
    char buf[64];

    ck_assert_int_eq(profile_override_option(p, "layer_height", "0.2", buf,
                                             sizeof(buf)), 1);
    ck_assert_str_eq(buf, "--layer-height=0.2");
    ck_assert_int_eq(profile_override_option(p, "supports", "yes", buf,
                                             sizeof(buf)), 1);
    ck_assert_str_eq(buf, "--support-material");
    ck_assert_int_eq(profile_override_option(p, "supports", "no", buf,
                                             sizeof(buf)), 0);
    ck_assert_int_eq(profile_override_option(p, "nozzle", "1", buf,
                                             sizeof(buf)), -1);
    ck_assert_int_eq(profile_override_option(p, "layer_height", "0.2", buf,
                                             8), -1);
}
END_TEST

/* ---- hash ------------------------------------------------------------- */

static void hash_of(char *out)
{
    struct profile_registry *reg = load_tmp();

    snprintf(out, FLEET_SHA256_HEX, "%s", profile_at(reg, 0)->sha256);
    profile_registry_free(reg);
}

START_TEST(test_hash)
{
    char a[FLEET_SHA256_HEX], b[FLEET_SHA256_HEX], c[FLEET_SHA256_HEX];

    write_file("t.ini", T_INI);
    write_file("m.ini", "temperature = 210\n");
    write_file("t.conf", T_GOOD "material.pla = m.ini\n");
    hash_of(a);
    hash_of(b);
    ck_assert_str_eq(a, b);                     /* stable */
    write_file("m.ini", "temperature = 215\n");
    hash_of(c);
    ck_assert_str_ne(a, c);                     /* a material file counts */
    write_file("t.ini", T_INI "layer_height = 0.1\n");
    hash_of(b);
    ck_assert_str_ne(b, c);                     /* so does the config */
}
END_TEST

Suite *profile_suite(void)
{
    Suite *s = suite_create("profile");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_shipped);
    tcase_add_test(tc, test_json);
    tcase_add_test(tc, test_none_configured);
    tcase_add_test(tc, test_check_name);
    tcase_add_test(tc, test_good_tmp);
    tcase_add_test(tc, test_bad_slicer);
    tcase_add_test(tc, test_bad_overrides);
    tcase_add_test(tc, test_bad_keys);
    tcase_add_test(tc, test_bad_files);
    tcase_add_test(tc, test_bad_name);
    tcase_add_test(tc, test_overrides);
    tcase_add_test(tc, test_override_option);
    tcase_add_test(tc, test_hash);
    tcase_add_test(tc, test_curaengine_json);
    suite_add_tcase(s, tc);
    return s;
}
