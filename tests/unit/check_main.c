/*
 * check_main.c - the unit test runner: one Suite per module.
 *
 * CK_RUN_SUITE=name runs one suite (Check's own variable).
 */
#include "suites.h"

#include <stdlib.h>

int main(void)
{
    Suite *(*const suites[])(void) = {
        multipart_suite,
        form_suite,
        kv_suite,
        filetype_suite,
        zipdir_suite,
        cfgscan_suite,
        service_suite,
        runner_suite,
        notify_suite,
        sim_suite,
        scheduler_suite,
        store_fleet_suite,
        loadmgr_suite,
        cli_rc_suite,
        moonraker_suite,
        reply_suite,
        status_suite,
        store_suite,
        netcheck_suite,
        authlimit_suite,
        peek_suite,
        bodyread_suite,
        taskcache_suite,
        store_keys_suite,
        profile_suite,
        chain_suite,
        gcode_meta_suite,
        hours_suite,
        store_sites_suite,
        store_fair_suite,
        sandbox_suite,
        slicing_suite,
        fleet_model_suite,
        writebehind_suite,
        slice_cache_suite,
    };
    SRunner *sr = srunner_create(NULL);
    int failed;

    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
        srunner_add_suite(sr, suites[i]());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
