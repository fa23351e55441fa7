/* kr_host_shutdown() from another thread is queued to the loop thread; a
 * SIGTERM (kr_host_shutdown_on_signal) delivered right after it, before
 * the loop has processed the queue, must not drop the queued request: its
 * options and done callback are the shutdown's, and done runs exactly
 * once, on the loop thread, with status 0 (one signal does not force).
 *
 * The loop thread is held inside a timer callback (pthread_join) while the
 * other thread calls kr_host_shutdown() and then raise(SIGTERM), so both
 * the queued start and the signal are pending when the loop resumes,
 * whichever it looks at first. A test-own signal watcher (unref'd) checks
 * the signal arrived. The queued options set warn_ms = 30 (the default is
 * 5 s): the "still running" warning shows they were used. Blocker "slow"
 * finishes 100 ms after its trigger. */
#include <pthread.h>
#include <signal.h>
#include "sd_test.h"

static uv_loop_t *loop;
static kr_host_t *host;
static pthread_t loop_thread, req_thread;
static uv_timer_t keepalive, slow_work;
static uv_signal_t seen_sig;
static kr_blocker_t *blk;
static kr_shutdown_opts_t opts;
static int sigterms_seen, triggers, ticks;
static int rc_shutdown = 1, rc_raise = 1, triggers_at_raise = -1, done_at_raise = -1;
static int done_calls, done_status = 1, done_on_loop = -1;

static void on_done(kr_host_t *h, int status, void *arg) {
  ASSERT_PTR_EQ(h, host);
  ASSERT_PTR_EQ(arg, &done_calls);
  done_on_loop = pthread_equal(pthread_self(), loop_thread);
  done_calls++;
  done_status = status;
  sd_event("done %d", status);
}

static void *request_then_signal(void *arg) {
  (void)arg;
  rc_shutdown = kr_host_shutdown(host, &opts, on_done, &done_calls);
  sd_event("requested");
  rc_raise = raise(SIGTERM); /* handled before raise() returns */
  /* The loop thread is blocked in pthread_join: nothing was processed. */
  triggers_at_raise = triggers;
  done_at_raise = done_calls;
  sd_event("raised");
  return NULL;
}

static void on_seen(uv_signal_t *s, int signum) {
  (void)s;
  ASSERT_EQ(SIGTERM, signum);
  sigterms_seen++;
  sd_event("sigterm seen");
}

static void slow_fire(uv_timer_t *t) {
  sd_event("slow:done");
  ASSERT_EQ(0, kr_blocker_done(blk));
  uv_close((uv_handle_t *)t, NULL);
}

static void slow_trigger(kr_blocker_t *b, void *arg) {
  (void)arg;
  ASSERT(pthread_equal(pthread_self(), loop_thread));
  blk = b;
  triggers++;
  sd_event("slow:trigger");
  uv_close((uv_handle_t *)&keepalive, NULL);
  ASSERT_EQ(0, uv_timer_init(loop, &slow_work));
  ASSERT_EQ(0, uv_timer_start(&slow_work, slow_fire, 100, 0));
}

static void tick(uv_timer_t *t) {
  (void)t;
  if (ticks++ == 0) {
    /* Hold the loop thread while the other thread queues and signals. */
    ASSERT_EQ(0, pthread_create(&req_thread, NULL, request_then_signal, NULL));
    ASSERT_EQ(0, pthread_join(req_thread, NULL));
    sd_event("joined");
  }
}

int main(void) {
  kr_phase_t *p;
  loop_thread = pthread_self();
  loop = uv_default_loop();
  ASSERT_EQ(0, kr_host_new(loop, &host));
  ASSERT_EQ(0, kr_host_set_log(host, sd_log_hook, NULL));
  ASSERT_EQ(0, kr_phase_new(host, "flush", &p));
  ASSERT_EQ(0, kr_phase_add_blocker(p, "slow", slow_trigger, NULL, NULL, NULL));
  ASSERT_EQ(0, kr_host_shutdown_on_signal(host, SIGTERM));
  ASSERT_EQ(0, uv_signal_init(loop, &seen_sig));
  ASSERT_EQ(0, uv_signal_start(&seen_sig, on_seen, SIGTERM));
  uv_unref((uv_handle_t *)&seen_sig);
  ASSERT_EQ(0, kr_shutdown_opts_init(&opts));
  opts.warn_ms = 30;
  opts.timeout_ms = 0; /* no watchdog */
  ASSERT_EQ(0, uv_timer_init(loop, &keepalive));
  ASSERT_EQ(0, uv_timer_start(&keepalive, tick, 10, 10));

  ASSERT_EQ(0, uv_run(loop, UV_RUN_DEFAULT));

  ASSERT_EQ(0, rc_shutdown);
  ASSERT_EQ(0, rc_raise);
  ASSERT_EQ(0, triggers_at_raise); /* the queue was not processed yet */
  ASSERT_EQ(0, done_at_raise);
  ASSERT_EQ(1, sigterms_seen);
  ASSERT_EQ(1, triggers);
  ASSERT_EQ(1, done_calls);
  ASSERT_EQ(0, done_status);
  ASSERT_EQ(1, done_on_loop);
  ASSERT_BEFORE("raised", "joined");
  ASSERT_BEFORE("joined", "slow:trigger");
  ASSERT_BEFORE("slow:trigger", "slow:done");
  ASSERT_BEFORE("slow:done", "done 0");
  /* The queued options were the shutdown's: warned at 30 ms. */
  ASSERT_LOGGED("still running", NULL);
  ASSERT_EQ(-1, sd_log_find("gave up", NULL));
  ASSERT_EQ(-1, sd_log_find("forcing", NULL));
  ASSERT_EQ(UV_EALREADY, kr_host_shutdown(host, NULL, NULL, NULL));

  char *json = sd_report(host, KR_REPORT_JSON);
  ASSERT_JSON(json, "d['shutdown']['stage']=='done' and "
                    "d['shutdown']['phases'][0]['blockers'][0]['state']=='done'");
  kr_free(json);
  uv_close((uv_handle_t *)&seen_sig, NULL);
  sd_teardown(loop, host);
  ASSERT_EQ(1, done_calls);
  return 0;
}
