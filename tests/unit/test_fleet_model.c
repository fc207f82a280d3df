/*
 * test_fleet_model.c - a model job's fields as rrcloud-fcgi takes them
 * (fcgi/fleet_model.c) against the shipped profiles: the profiles it may
 * be sliced for, its overrides, and the one material it is sliced with.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/fleet_model.h"
#include "fleet/profile.h"
#include "services/service.h"

Suite *fleet_model_suite(void);

static struct service_registry *services;
static struct profile_registry *shipped;
static char field[64], msg[640];

static void setup(void)
{
    const char *d = getenv("top_srcdir");
    char dir[512], err[512];

    if (d == NULL || d[0] == '\0')
        d = ".";
    snprintf(dir, sizeof(dir), "%s/services", d);
    services = service_registry_load(dir, err, sizeof(err));
    ck_assert_msg(services != NULL, "%s", err);
    snprintf(dir, sizeof(dir), "%s/profiles", d);
    shipped = profile_registry_load(dir, services, err, sizeof(err));
    ck_assert_msg(shipped != NULL, "%s", err);
}

static void teardown(void)
{
    profile_registry_free(shipped);
    service_registry_free(services);
}

static int fields(size_t n, const char *const *names,
                  const char *const *values, struct fleet_model_req *m)
{
    field[0] = msg[0] = '\0';
    return fleet_model_fields(shipped, n, names, values, m, field,
                              sizeof(field), msg, sizeof(msg));
}

START_TEST(fields_profiles_and_overrides)
{
    const char *n[] = { "copies", "override.layer_height", "profile",
                        "override.brim" };
    const char *v[] = { "2", "0.15", "VORON24-0.4, mk3s", "3" };
    const char *bad[] = { "profile" };
    const char *badv[] = { "mk3s,ender5" };
    const char *twice[] = { "override.brim", "override.brim" };
    struct fleet_model_req m;

    ck_assert_int_eq(fields(4, n, v, &m), 0);
    ck_assert_str_eq(m.profiles, "voron24-0.4,mk3s");
    ck_assert_str_eq(m.overrides, "brim=3\nlayer_height=0.15\n");
    ck_assert_int_eq(fields(1, bad, badv, &m), 400);
    ck_assert_str_eq(field, "profile");
    ck_assert_msg(strstr(msg, "profile: no printer profile 'ender5'") == msg,
                  "%s", msg);
    ck_assert_int_eq(fields(2, twice, v, &m), 400);
    ck_assert_str_eq(msg, "brim: given twice");
}
END_TEST

START_TEST(one_material)
{
    char mat[64], prof[64];

    /* none named: the first default all can slice (mk3s: pla; voron24-0.4
     * has a pla config too, though its own default is petg) */
    mat[0] = '\0';
    ck_assert_int_eq(fleet_model_material(shipped, "", mat, sizeof(mat),
                                          field, sizeof(field), msg,
                                          sizeof(msg)), 0);
    ck_assert_str_eq(mat, "pla");
    snprintf(prof, sizeof(prof), "voron24-0.4");
    mat[0] = '\0';
    ck_assert_int_eq(fleet_model_material(shipped, prof, mat, sizeof(mat),
                                          field, sizeof(field), msg,
                                          sizeof(msg)), 0);
    ck_assert_str_eq(mat, "petg");
    /* one named stays */
    snprintf(mat, sizeof(mat), "petg");
    ck_assert_int_eq(fleet_model_material(shipped, "", mat, sizeof(mat),
                                          field, sizeof(field), msg,
                                          sizeof(msg)), 0);
    ck_assert_str_eq(mat, "petg");
}
END_TEST

START_TEST(overrides_checked_per_profile)
{
    struct fleet_job_file model;
    struct fleet_job_spec spec;

    memset(&model, 0, sizeof(model));
    memset(&spec, 0, sizeof(spec));
    spec.model = &model;
    spec.overrides = "fan_speed=50\n";
    /* refused before the store is asked */
    ck_assert_int_eq(fleet_model_check(shipped, services, NULL, &spec,
                                       field, sizeof(field), msg,
                                       sizeof(msg)),
                     400);
    ck_assert_str_eq(field, "override.fan_speed");
    ck_assert_msg(strstr(msg, "override.fan_speed: profile ender3 allows "
                         "no override 'fan_speed'") == msg, "%s", msg);
}
END_TEST

/* A .scad is a source rendered first, by the openscad service: without
 * it the job is refused (422 naming model) before the store is asked. */
START_TEST(scad_needs_the_render_service)
{
    struct fleet_job_file model;
    struct fleet_job_spec spec;

    ck_assert_int_eq(fleet_model_source("cube.scad"), 1);
    ck_assert_int_eq(fleet_model_source("Cube.SCAD"), 1);
    ck_assert_int_eq(fleet_model_source("cube.stl"), 0);
    ck_assert_int_eq(fleet_model_source("scad"), 0);
    memset(&model, 0, sizeof(model));
    memset(&spec, 0, sizeof(spec));
    spec.model = &model;
    spec.render = 1;
    ck_assert_int_eq(fleet_model_check(shipped, NULL, NULL, &spec, field,
                                       sizeof(field), msg, sizeof(msg)),
                     422);
    ck_assert_str_eq(field, "model");
    ck_assert_msg(strstr(msg, "model: a .scad model is rendered by the "
                         "openscad service, which is not configured") == msg,
                  "%s", msg);
    /* variables: numbers, for a .scad only */
    {
        const char *n[] = { "define.size", "define.wall" };
        const char *v[] = { "30", "1.2" }, *bad[] = { "30", "x" };
        struct fleet_model_req m;

        ck_assert_int_eq(fields(2, n, v, &m), 0);
        ck_assert_str_eq(m.defines, "size=30\nwall=1.2\n");
        ck_assert_int_eq(fields(2, n, bad, &m), 400);
        ck_assert_str_eq(field, "define.wall");
        ck_assert_msg(strstr(msg, "define.wall: a variable is") == msg, "%s",
                      msg);
        /* a variable called "define" is still named by its own field */
        {
            const char *dn[] = { "define.define" }, *dv[] = { "x" };

            ck_assert_int_eq(fields(1, dn, dv, &m), 400);
            ck_assert_str_eq(field, "define.define");
        }
    }
    spec.defines = "size=30\n";
    /* with it, the next check speaks (an override no profile allows) */
    spec.overrides = "fan_speed=50\n";
    ck_assert_int_eq(fleet_model_check(shipped, services, NULL, &spec,
                                       field, sizeof(field), msg,
                                       sizeof(msg)),
                     400);
    ck_assert_str_eq(field, "override.fan_speed");   /* defines passed */
    /* but only a .scad takes variables */
    spec.render = 0;
    ck_assert_int_eq(fleet_model_check(shipped, services, NULL, &spec,
                                       field, sizeof(field), msg,
                                       sizeof(msg)),
                     400);
    ck_assert_str_eq(field, "define.size");
    ck_assert_str_eq(msg, "define.size: only a .scad model takes variables");
}
END_TEST

Suite *fleet_model_suite(void)
{
    Suite *s = suite_create("fleet_model");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, fields_profiles_and_overrides);
    tcase_add_test(tc, one_material);
    tcase_add_test(tc, overrides_checked_per_profile);
    tcase_add_test(tc, scad_needs_the_render_service);
    suite_add_tcase(s, tc);
    return s;
}
