/* WAIT policy: warn_ms=50, timeout_ms=100, on_timeout=WAIT, and a blocker
 * that finishes after ~350 ms. The watchdog warns (log hook, level WARN)
 * more than once, gives up on nothing, and the shutdown completes with
 * status 0 after the blocker is done. */
#include "sd_test.h"

static uv_loop_t *loop;
static kr_host_t *host;
static kr_blocker_t *slow_b;
static uv_timer_t slow_t;
static int done_calls, done_status = 1, warns_when_done;
static uint64_t t_start, t_done;

static void slow_fire(uv_timer_t *t) {
  sd_event("slow:done");
  warns_when_done = sd_nwarn;
  ASSERT_EQ(0, kr_blocker_done(slow_b));
  uv_close((uv_handle_t *)t, NULL);
}

static void slow_trigger(kr_blocker_t *b, void *arg) {
  (void)arg;
  slow_b = b;
  ASSERT_EQ(0, uv_timer_init(loop, &slow_t));
  ASSERT_EQ(0, uv_timer_start(&slow_t, slow_fire, 350, 0));
}

static int slow_state(void *arg, char *buf, size_t len) {
  (void)arg;
  snprintf(buf, len, "waiting for the disk");
  return 0;
}

static void on_done(kr_host_t *h, int status, void *arg) {
  (void)h;
  (void)arg;
  done_calls++;
  done_status = status;
  t_done = uv_now(loop);
  sd_event("shutdown:done");
}

int main(void) {
  kr_phase_t *p;
  kr_shutdown_opts_t o;
  loop = uv_default_loop();
  ASSERT_EQ(0, kr_host_new(loop, &host));
  ASSERT_EQ(0, kr_host_set_log(host, sd_log_hook, NULL));
  ASSERT_EQ(0, kr_phase_new(host, "flush", &p));
  ASSERT_EQ(0, kr_phase_add_blocker(p, "slow-disk", slow_trigger, slow_state, NULL, NULL));
  ASSERT_EQ(0, kr_shutdown_opts_init(&o));
  o.warn_ms = 50;
  o.timeout_ms = 100;
  o.on_timeout = KR_ON_TIMEOUT_WAIT;
  uv_update_time(loop);
  t_start = uv_now(loop);
  ASSERT_EQ(0, kr_host_shutdown(host, &o, on_done, NULL));
  ASSERT_EQ(0, uv_run(loop, UV_RUN_DEFAULT));

  ASSERT_EQ(1, done_calls);
  ASSERT_EQ(0, done_status);
  ASSERT_GE(t_done - t_start, 345);
  ASSERT_BEFORE("slow:done", "shutdown:done");
  fprintf(stderr, "warnings: %d by the time the blocker finished, %d in all\n", warns_when_done, sd_nwarn);
  ASSERT_GT(warns_when_done, 1);
  /* The warnings name what is stuck. */
  ASSERT_LOGGED("slow-disk", "waiting for the disk");
  ASSERT_LOGGED("timed out", "slow-disk");
  ASSERT_EQ(-1, sd_log_find("gave up", NULL));
  ASSERT_EQ(-1, sd_log_find("abandoned", NULL));
  sd_teardown(loop, host);
  return 0;
}
