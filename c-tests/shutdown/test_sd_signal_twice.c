/* kr_host_shutdown_on_signal(host, SIGTERM); a first SIGTERM starts the
 * graceful shutdown, whose blocker "stuck" never finishes; a second
 * SIGTERM forces it: the blocker is given up ("forced" in the report, a
 * warning in the log), the shutdown completes and uv_run returns. */
#include <signal.h>
#include "sd_test.h"

static uv_loop_t *loop;
static kr_host_t *host;
static uv_timer_t keepalive, work, again;
static kr_blocker_t *blk;
static int raised;

static void log_hook(void *arg, int level, const char *msg) {
  sd_log_hook(arg, level, msg);
  if (strstr(msg, "shutdown: complete")) {
    sd_event("complete");
    /* The shutdown is over: the host closes its own handles. */
    if (!uv_is_closing((uv_handle_t *)&work)) uv_close((uv_handle_t *)&work, NULL);
  }
}

static void work_tick(uv_timer_t *t) { (void)t; }

static void again_fire(uv_timer_t *t) {
  sd_event("raise 2");
  ASSERT_EQ(0, raise(SIGTERM));
  uv_close((uv_handle_t *)t, NULL);
}

static void stuck_trigger(kr_blocker_t *b, void *arg) {
  (void)arg;
  blk = b;
  sd_event("stuck:trigger");
  uv_close((uv_handle_t *)&keepalive, NULL);
  /* Work that never ends, until the host closes it. */
  ASSERT_EQ(0, uv_timer_init(loop, &work));
  ASSERT_EQ(0, uv_timer_start(&work, work_tick, 10, 10));
  ASSERT_EQ(0, uv_timer_init(loop, &again));
  ASSERT_EQ(0, uv_timer_start(&again, again_fire, 50, 0));
}

static int stuck_state(void *arg, char *buf, size_t len) {
  (void)arg;
  snprintf(buf, len, "never");
  return 0;
}

static void tick(uv_timer_t *t) {
  (void)t;
  if (!raised++) {
    sd_event("raise 1");
    ASSERT_EQ(0, raise(SIGTERM));
  }
}

int main(void) {
  kr_phase_t *p;
  loop = uv_default_loop();
  ASSERT_EQ(0, kr_host_new(loop, &host));
  ASSERT_EQ(0, kr_host_set_log(host, log_hook, NULL));
  ASSERT_EQ(0, kr_phase_new(host, "flush", &p));
  ASSERT_EQ(0, kr_phase_add_blocker(p, "stuck", stuck_trigger, stuck_state, NULL, NULL));
  ASSERT_EQ(0, kr_host_shutdown_on_signal(host, SIGTERM));
  ASSERT_EQ(0, uv_timer_init(loop, &keepalive));
  ASSERT_EQ(0, uv_timer_start(&keepalive, tick, 10, 10));

  ASSERT_EQ(0, uv_run(loop, UV_RUN_DEFAULT));

  ASSERT_BEFORE("raise 1", "stuck:trigger");
  ASSERT_BEFORE("stuck:trigger", "raise 2");
  ASSERT_BEFORE("raise 2", "complete");
  ASSERT_LOGGED("gave up on blocker \"stuck\"", "test_sd_signal_twice.c:");
  ASSERT_EQ(UV_EALREADY, kr_blocker_done(blk));

  char *json = sd_report(host, KR_REPORT_JSON);
  ASSERT_JSON(json, "d['shutdown']['stage']=='done' and "
                    "d['shutdown']['phases'][0]['blockers'][0]['name']=='stuck' and "
                    "d['shutdown']['phases'][0]['blockers'][0]['state']=='forced'");
  kr_free(json);
  sd_teardown(loop, host);
  return 0;
}
