/* FORCE policy with a stuck blocker and a stuck module.
 *
 * mod_stuck holds a kr_module_ref() forever and a repeating timer its
 * cleanup never closes; blocker "stuck" in phase "flush" never calls
 * kr_blocker_done(). opts: warn_ms=50, timeout_ms=200, FORCE.
 *
 * Expected: the shutdown's done callback gets UV_ETIMEDOUT no earlier than
 * 200 ms; the log names the blocker given up and the module abandoned;
 * the report lists mod_stuck under "abandoned" and the blocker as
 * "forced"; the library is NOT dlclosed (dlopen RTLD_NOLOAD finds it, its
 * destructor never ran); its timer was closed by the shim, so uv_run
 * returns by itself; the host then frees and the loop closes. Under
 * valgrind: no callback into freed memory. */
#include "sd_test.h"

static uv_loop_t *loop;
static kr_host_t *host;
static kr_blocker_t *stuck_b;
static int done_calls, done_status = 1;
static uint64_t t_start, t_done;

static void stuck_trigger(kr_blocker_t *b, void *arg) {
  (void)arg;
  stuck_b = b;
  sd_event("stuck:trigger");
}

static void on_done(kr_host_t *h, int status, void *arg) {
  (void)h;
  (void)arg;
  done_calls++;
  done_status = status;
  t_done = uv_now(loop);
  /* Given up: too late to report done. */
  ASSERT_EQ(UV_EALREADY, kr_blocker_done(stuck_b));
  sd_event("shutdown:done");
}

int main(void) {
  kr_phase_t *flush;
  kr_module_t *m;
  kr_shutdown_opts_t o;
  loop = uv_default_loop();
  ASSERT_EQ(0, kr_host_new(loop, &host));
  ASSERT_EQ(0, kr_host_set_log(host, sd_log_hook, NULL));
  ASSERT_EQ(0, kr_module_open(host, SD_MOD("mod_stuck"), "mod_stuck", 0, &m));
  unsigned long (*ticks)(void) = (unsigned long (*)(void))dlsym(RTLD_DEFAULT, "mod_stuck_ticks");
  ASSERT_NULL(ticks); /* RTLD_LOCAL: not in the global scope */
  void *dl = dlopen(SD_MOD("mod_stuck"), RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NOT_NULL(dl);
  ticks = (unsigned long (*)(void))dlsym(dl, "mod_stuck_ticks");
  ASSERT_NOT_NULL(ticks);

  ASSERT_EQ(0, kr_phase_new(host, "flush", &flush));
  ASSERT_EQ(0, kr_phase_add_blocker(flush, "stuck", stuck_trigger, NULL, NULL, NULL));
  ASSERT_EQ(0, kr_shutdown_opts_init(&o));
  o.warn_ms = 50;
  o.timeout_ms = 200;
  o.on_timeout = KR_ON_TIMEOUT_FORCE;
  uv_update_time(loop);
  t_start = uv_now(loop);
  ASSERT_EQ(0, kr_host_shutdown(host, &o, on_done, NULL));
  ASSERT_EQ(0, uv_run(loop, UV_RUN_DEFAULT));

  ASSERT_EQ(1, done_calls);
  ASSERT_EQ(UV_ETIMEDOUT, done_status);
  ASSERT_GE(t_done - t_start, 195);
  ASSERT_GT(ticks(), 0); /* the module's timer did run before */
  ASSERT_GE(sd_nwarn, 2); /* the warning at 50 ms, and the timeout's */
  ASSERT_LOGGED("still running", NULL);
  ASSERT_LOGGED("gave up on blocker \"stuck\"", "test_sd_force.c:");
  ASSERT_LOGGED("mod_stuck", "abandoned");
  ASSERT_LOGGED("abandoned modules: mod_stuck", NULL);

  /* Not dlclosed: still mapped, destructor never ran. */
  ASSERT(sd_is_loaded(SD_MOD("mod_stuck")));
  ASSERT_EQ(-1, sd_ev_index("mod_stuck:dlclose"));
  ASSERT_EQ(KR_MODULE_ABANDONED, kr_module_state(m));

  char *json = sd_report(host, KR_REPORT_JSON);
  ASSERT_JSON(json, "d['shutdown']['stage']=='done' and d['modules']==[] and "
                    "[a['name'] for a in d['abandoned']]==['mod_stuck'] and "
                    "d['abandoned'][0]['state']=='abandoned' and "
                    "d['abandoned'][0]['live_handles']==0 and d['abandoned'][0]['refs']==1 and "
                    "d['shutdown']['phases'][0]['blockers'][0]['state']=='forced'");
  kr_free(json);
  char *text = sd_report(host, KR_REPORT_TEXT);
  ASSERT_STR_CONTAINS(text, "mod_stuck");
  ASSERT_STR_CONTAINS(text, "abandoned");
  kr_free(text);

  /* The shim closed the module's timer: the loop is not alive, and runs
   * no more of the module's callbacks. */
  unsigned long before = ticks();
  ASSERT_EQ(0, uv_loop_alive(loop));
  ASSERT_EQ(0, uv_run(loop, UV_RUN_NOWAIT));
  ASSERT_EQ(before, ticks());

  dlclose(dl); /* our NOLOAD reference */
  ASSERT(sd_is_loaded(SD_MOD("mod_stuck"))); /* the shim's stays */
  sd_teardown(loop, host);
  ASSERT_EQ(-1, sd_ev_index("mod_stuck:dlclose"));
  return 0;
}
