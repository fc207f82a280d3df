/* suites.h - every Check suite of the unit test runner. */
#ifndef RR_SUITES_H
#define RR_SUITES_H

#include <check.h>

Suite *multipart_suite(void);
Suite *form_suite(void);
Suite *kv_suite(void);
Suite *filetype_suite(void);
Suite *zipdir_suite(void);
Suite *cfgscan_suite(void);
Suite *service_suite(void);
Suite *runner_suite(void);
Suite *notify_suite(void);
Suite *sim_suite(void);
Suite *scheduler_suite(void);
Suite *store_fleet_suite(void);
Suite *loadmgr_suite(void);
Suite *cli_rc_suite(void);
Suite *moonraker_suite(void);
Suite *reply_suite(void);
Suite *status_suite(void);
Suite *store_suite(void);
Suite *netcheck_suite(void);
Suite *authlimit_suite(void);
Suite *peek_suite(void);
Suite *bodyread_suite(void);
Suite *store_keys_suite(void);
Suite *taskcache_suite(void);
Suite *profile_suite(void);
Suite *chain_suite(void);
Suite *gcode_meta_suite(void);
Suite *hours_suite(void);
Suite *store_sites_suite(void);
Suite *store_fair_suite(void);
Suite *sandbox_suite(void);
Suite *slicing_suite(void);
Suite *fleet_model_suite(void);
Suite *writebehind_suite(void);
Suite *slice_cache_suite(void);

#endif
