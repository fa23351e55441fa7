/* kr_host_shutdown() from another thread: it returns 0 there, the start is
 * queued to the loop thread, the blockers' triggers and the done callback
 * run on the loop thread (pthread_equal with main's pthread_self), and a
 * second request from that thread is UV_EALREADY. The blocker is finished
 * with kr_blocker_done() from yet another thread. */
#include <pthread.h>
#include <time.h>
#include "sd_test.h"

static uv_loop_t *loop;
static kr_host_t *host;
static pthread_t loop_thread, req_thread, done_thread;
static uv_timer_t keepalive;
static kr_blocker_t *blk;
static int trigger_on_loop = -1, done_on_loop = -1, done_calls, done_status = 1;
static int rc_first = 1, rc_second = 1, rc_blocker_done = 1;

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static void *request_shutdown(void *arg) {
  (void)arg;
  sleep_ms(30);
  rc_first = kr_host_shutdown(host, NULL, (kr_shutdown_done_cb)arg, &done_calls);
  rc_second = kr_host_shutdown(host, NULL, NULL, NULL);
  return NULL;
}

static void *finish_blocker(void *arg) {
  (void)arg;
  sleep_ms(20);
  rc_blocker_done = kr_blocker_done(blk);
  return NULL;
}

static void trigger(kr_blocker_t *b, void *arg) {
  (void)arg;
  trigger_on_loop = pthread_equal(pthread_self(), loop_thread);
  sd_event("trigger");
  blk = b;
  uv_close((uv_handle_t *)&keepalive, NULL);
  ASSERT_EQ(0, pthread_create(&done_thread, NULL, finish_blocker, NULL));
}

static void on_done(kr_host_t *h, int status, void *arg) {
  ASSERT_PTR_EQ(h, host);
  ASSERT_PTR_EQ(arg, &done_calls);
  done_on_loop = pthread_equal(pthread_self(), loop_thread);
  done_calls++;
  done_status = status;
  sd_event("done");
}

static void tick(uv_timer_t *t) { (void)t; }

int main(void) {
  kr_phase_t *p;
  kr_module_t *m;
  loop_thread = pthread_self();
  loop = uv_default_loop();
  ASSERT_EQ(0, kr_host_new(loop, &host));
  ASSERT_EQ(0, kr_host_set_log(host, sd_log_hook, NULL));
  ASSERT_EQ(0, kr_module_open(host, SD_MOD("mod_a"), "mod_a", 0, &m));
  ASSERT_EQ(0, kr_phase_new(host, "flush", &p));
  ASSERT_EQ(0, kr_phase_add_blocker(p, "threaded", trigger, NULL, NULL, NULL));
  /* The host's own work keeps the loop running until the shutdown starts. */
  ASSERT_EQ(0, uv_timer_init(loop, &keepalive));
  ASSERT_EQ(0, uv_timer_start(&keepalive, tick, 5, 5));
  ASSERT_EQ(0, pthread_create(&req_thread, NULL, request_shutdown, (void *)on_done));

  ASSERT_EQ(0, uv_run(loop, UV_RUN_DEFAULT));
  ASSERT_EQ(0, pthread_join(req_thread, NULL));
  ASSERT_EQ(0, pthread_join(done_thread, NULL));

  ASSERT_EQ(0, rc_first);
  ASSERT_EQ(UV_EALREADY, rc_second);
  ASSERT_EQ(0, rc_blocker_done);
  ASSERT_EQ(1, trigger_on_loop);
  ASSERT_EQ(1, done_on_loop);
  ASSERT_EQ(1, done_calls);
  ASSERT_EQ(0, done_status);
  ASSERT_BEFORE("trigger", "mod_a:cleanup");
  ASSERT_BEFORE("mod_a:dlclose", "done");
  ASSERT(!sd_is_loaded(SD_MOD("mod_a")));
  sd_teardown(loop, host);
  return 0;
}
