/* FORCE policy in the module stage: the phases finish; mod_a drains
 * normally and is dlclosed; mod_stuck never lets go and is abandoned at
 * timeout_ms (not dlclosed, its timer closed by the shim); the shutdown
 * finishes with UV_ETIMEDOUT and uv_run returns by itself. */
#include "sd_test.h"

static uv_loop_t *loop;
static kr_host_t *host;
static int done_calls, done_status = 1;

static void quick_trigger(kr_blocker_t *b, void *arg) {
  (void)arg;
  sd_event("quick:trigger");
  ASSERT_EQ(0, kr_blocker_done(b));
}

static void on_done(kr_host_t *h, int status, void *arg) {
  (void)h;
  (void)arg;
  done_calls++;
  done_status = status;
  sd_event("shutdown:done");
}

int main(void) {
  kr_phase_t *p;
  kr_module_t *ms, *ma;
  kr_shutdown_opts_t o;
  loop = uv_default_loop();
  ASSERT_EQ(0, kr_host_new(loop, &host));
  ASSERT_EQ(0, kr_host_set_log(host, sd_log_hook, NULL));
  ASSERT_EQ(0, kr_module_open(host, SD_MOD("mod_stuck"), "mod_stuck", 0, &ms));
  ASSERT_EQ(0, kr_module_open(host, SD_MOD("mod_a"), "mod_a", 0, &ma));
  ASSERT_EQ(0, kr_phase_new(host, "flush", &p));
  ASSERT_EQ(0, kr_phase_add_blocker(p, "quick", quick_trigger, NULL, NULL, NULL));
  ASSERT_EQ(0, kr_shutdown_opts_init(&o));
  o.warn_ms = 0;
  o.timeout_ms = 200;
  o.on_timeout = KR_ON_TIMEOUT_FORCE;
  ASSERT_EQ(0, kr_host_shutdown(host, &o, on_done, NULL));
  ASSERT_EQ(0, uv_run(loop, UV_RUN_DEFAULT));

  ASSERT_EQ(1, done_calls);
  ASSERT_EQ(UV_ETIMEDOUT, done_status);
  ASSERT_BEFORE("quick:trigger", "mod_stuck:cleanup");
  ASSERT_BEFORE("mod_a:cleanup", "mod_a:dlclose");
  ASSERT_BEFORE("mod_a:dlclose", "shutdown:done");
  ASSERT_EQ(-1, sd_ev_index("mod_stuck:deinit"));
  ASSERT_EQ(-1, sd_ev_index("mod_stuck:dlclose"));
  ASSERT(!sd_is_loaded(SD_MOD("mod_a")));
  ASSERT(sd_is_loaded(SD_MOD("mod_stuck")));
  ASSERT_EQ(KR_MODULE_ABANDONED, kr_module_state(ms));
  ASSERT_LOGGED("abandoned modules: mod_stuck", NULL);

  char *json = sd_report(host, KR_REPORT_JSON);
  ASSERT_JSON(json, "[a['name'] for a in d['abandoned']]==['mod_stuck'] and d['modules']==[]");
  kr_free(json);
  ASSERT_EQ(0, uv_loop_alive(loop));
  sd_teardown(loop, host);
  return 0;
}
