/* kr_host_shutdown_on_signal(host, SIGTERM); one SIGTERM -> a graceful
 * shutdown: the blocker runs and finishes, the module is unloaded (its
 * library closed), nothing is forced or abandoned, uv_run returns. */
#include <signal.h>
#include "sd_test.h"

static uv_loop_t *loop;
static kr_host_t *host;
static uv_timer_t keepalive, work;
static kr_blocker_t *blk;
static int raised;

static void work_fire(uv_timer_t *t) {
  sd_event("flush:done");
  ASSERT_EQ(0, kr_blocker_done(blk));
  uv_close((uv_handle_t *)t, NULL);
}

static void flush_trigger(kr_blocker_t *b, void *arg) {
  (void)arg;
  blk = b;
  sd_event("flush:trigger");
  /* The shutdown has started: the host lets go of its own handle. */
  uv_close((uv_handle_t *)&keepalive, NULL);
  ASSERT_EQ(0, uv_timer_init(loop, &work));
  ASSERT_EQ(0, uv_timer_start(&work, work_fire, 20, 0));
}

static void tick(uv_timer_t *t) {
  (void)t;
  if (!raised++) {
    sd_event("raise");
    ASSERT_EQ(0, raise(SIGTERM));
  }
}

int main(void) {
  kr_phase_t *p;
  kr_module_t *m;
  loop = uv_default_loop();
  ASSERT_EQ(0, kr_host_new(loop, &host));
  ASSERT_EQ(0, kr_host_set_log(host, sd_log_hook, NULL));
  ASSERT_EQ(0, kr_module_open(host, SD_MOD("mod_a"), "mod_a", 0, &m));
  ASSERT_EQ(0, kr_phase_new(host, "flush", &p));
  ASSERT_EQ(0, kr_phase_add_blocker(p, "flush", flush_trigger, NULL, NULL, NULL));
  ASSERT_EQ(0, kr_host_shutdown_on_signal(host, SIGTERM));
  ASSERT_EQ(0, uv_timer_init(loop, &keepalive));
  ASSERT_EQ(0, uv_timer_start(&keepalive, tick, 10, 10));

  ASSERT_EQ(0, uv_run(loop, UV_RUN_DEFAULT));

  ASSERT_BEFORE("raise", "flush:trigger");
  ASSERT_BEFORE("flush:trigger", "flush:done");
  ASSERT_BEFORE("flush:done", "mod_a:cleanup");
  ASSERT_BEFORE("mod_a:cleanup", "mod_a:dlclose");
  ASSERT(!sd_is_loaded(SD_MOD("mod_a")));
  ASSERT_LOGGED("shutdown: complete", NULL);
  ASSERT_EQ(-1, sd_log_find("abandoned", NULL));
  ASSERT_EQ(-1, sd_log_find("gave up", NULL));
  ASSERT_EQ(-1, sd_log_find("forcing", NULL));
  /* It ran: a second request is refused. */
  ASSERT_EQ(UV_EALREADY, kr_host_shutdown(host, NULL, NULL, NULL));

  char *json = sd_report(host, KR_REPORT_JSON);
  ASSERT_JSON(json, "d['shutdown']['stage']=='done' and d['modules']==[] and d['abandoned']==[] and "
                    "d['shutdown']['phases'][0]['blockers'][0]['state']=='done'");
  kr_free(json);
  sd_teardown(loop, host);
  return 0;
}
