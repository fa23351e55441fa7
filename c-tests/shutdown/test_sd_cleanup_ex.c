/* kr_module_cleanup_ex() with its own watchdog {warn_ms=50, timeout_ms=150,
 * FORCE}: mod_stuck never releases its ref. Its done callback gets
 * UV_ETIMEDOUT no earlier than 150 ms, after a warning; the module is
 * KR_MODULE_ABANDONED (kr_module_state, and in the report's "abandoned"
 * list); its library is not dlclosed; the shim closed its timer so uv_run
 * returns by itself. Alongside, mod_a under the same watchdog drains in
 * time: done 0, dlclosed, not abandoned. */
#include "sd_test.h"

static uv_loop_t *loop;
static kr_host_t *host;
static kr_module_t *ms;
static int stuck_calls, stuck_status = 1, a_calls, a_status = 1;
static uint64_t t_start, t_stuck;
static char stuck_name[32];

static void stuck_done(kr_host_t *h, const char *name, int status, void *arg) {
  ASSERT_PTR_EQ(h, host);
  ASSERT_PTR_EQ(arg, &stuck_calls);
  snprintf(stuck_name, sizeof stuck_name, "%s", name);
  stuck_calls++;
  stuck_status = status;
  t_stuck = uv_now(loop);
  sd_event("stuck:done %d", status);
}

static void a_done(kr_host_t *h, const char *name, int status, void *arg) {
  (void)h;
  (void)arg;
  ASSERT_STR_EQ(name, "mod_a");
  a_calls++;
  a_status = status;
  sd_event("a:done %d", status);
}

int main(void) {
  kr_module_t *ma;
  kr_shutdown_opts_t o;
  loop = uv_default_loop();
  ASSERT_EQ(0, kr_host_new(loop, &host));
  ASSERT_EQ(0, kr_host_set_log(host, sd_log_hook, NULL));
  ASSERT_EQ(0, kr_module_open(host, SD_MOD("mod_stuck"), "mod_stuck", 0, &ms));
  ASSERT_EQ(0, kr_module_open(host, SD_MOD("mod_a"), "mod_a", 0, &ma));
  ASSERT_EQ(0, kr_shutdown_opts_init(&o));
  o.warn_ms = 50;
  o.timeout_ms = 150;
  o.on_timeout = KR_ON_TIMEOUT_FORCE;
  uv_update_time(loop);
  t_start = uv_now(loop);
  ASSERT_EQ(0, kr_module_cleanup_ex(ms, &o, stuck_done, &stuck_calls));
  ASSERT_EQ(UV_EALREADY, kr_module_cleanup_ex(ms, &o, stuck_done, &stuck_calls));
  ASSERT_EQ(0, kr_module_cleanup_ex(ma, &o, a_done, NULL));
  ASSERT_EQ(KR_MODULE_CLEANING, kr_module_state(ms));

  ASSERT_EQ(0, uv_run(loop, UV_RUN_DEFAULT));

  ASSERT_EQ(1, a_calls);
  ASSERT_EQ(0, a_status);
  ASSERT(!sd_is_loaded(SD_MOD("mod_a")));
  ASSERT_BEFORE("mod_a:deinit live=0/0", "mod_a:dlclose");
  ASSERT_BEFORE("mod_a:dlclose", "a:done 0");

  ASSERT_EQ(1, stuck_calls);
  ASSERT_EQ(UV_ETIMEDOUT, stuck_status);
  ASSERT_STR_EQ(stuck_name, "mod_stuck");
  ASSERT_GE(t_stuck - t_start, 145);
  ASSERT_LOGGED("mod_stuck cleanup still running", NULL);
  ASSERT_LOGGED("mod_stuck", "abandon");
  ASSERT_EQ(KR_MODULE_ABANDONED, kr_module_state(ms));
  ASSERT(sd_is_loaded(SD_MOD("mod_stuck")));
  ASSERT_EQ(-1, sd_ev_index("mod_stuck:deinit"));
  ASSERT_EQ(-1, sd_ev_index("mod_stuck:dlclose"));
  ASSERT_EQ(0, kr_module_live_handles(ms)); /* the shim closed its timer */
  ASSERT_EQ(1, kr_module_refs(ms));
  ASSERT_NE(0, kr_module_cleanup(ms, NULL, NULL)); /* abandoned: no second cleanup */

  char *json = sd_report(host, KR_REPORT_JSON);
  ASSERT_JSON(json, "d['modules']==[] and [(a['name'],a['state']) for a in d['abandoned']]==[('mod_stuck','abandoned')]");
  kr_free(json);
  char *text = sd_report(host, KR_REPORT_TEXT);
  ASSERT_STR_CONTAINS(text, "mod_stuck");
  ASSERT_STR_CONTAINS(text, "abandoned");
  kr_free(text);

  ASSERT_EQ(0, uv_loop_alive(loop));
  sd_teardown(loop, host);
  ASSERT(sd_is_loaded(SD_MOD("mod_stuck")));
  return 0;
}
