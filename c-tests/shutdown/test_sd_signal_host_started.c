/* kr_host_shutdown_on_signal(host, SIGTERM), but the host starts the
 * shutdown itself (kr_host_shutdown with its own done callback): signals
 * count from there, so only the SECOND one forces.
 *
 * Case "one": blocker "slow" finishes ~200 ms after its trigger; one
 * SIGTERM is raised at 50 ms (from a timer, during the shutdown). The
 * shutdown is not forced: the blocker is "done" (not "forced") in the
 * JSON report, nothing is given up in the log, the done callback runs
 * once with status 0, no earlier than the blocker's 200 ms.
 *
 * Case "two": blocker "stuck" never finishes (its work is a ref'd guard
 * timer, which aborts the test if nothing forced the shutdown within 5 s);
 * SIGTERM at 30 ms and again at 60 ms: forced, the blocker is "forced",
 * done status UV_ETIMEDOUT, well before the guard.
 *
 * A signal watcher of the test's own (unref'd) counts the SIGTERMs that
 * really arrived. Each case has a loop and a host of its own. */
#include <signal.h>
#include "sd_test.h"

static uv_loop_t loop;
static kr_host_t *host;
static uv_signal_t seen_sig;
static int sigterms_seen;
static uv_timer_t slow_work, guard, raise1, raise2;
static kr_blocker_t *blk;
static int done_calls, done_status;
static uint64_t t_start, t_done;
static const char *cur; /* the case: prefix of its events */

static void on_seen(uv_signal_t *s, int signum) {
  (void)s;
  ASSERT_EQ(SIGTERM, signum);
  sigterms_seen++;
  sd_event("%s:sigterm seen %d", cur, sigterms_seen);
}

static void on_done(kr_host_t *h, int status, void *arg) {
  ASSERT_PTR_EQ(h, host);
  ASSERT_PTR_EQ(arg, &done_calls);
  done_calls++;
  done_status = status;
  t_done = uv_now(&loop);
  sd_event("%s:done %d", cur, status);
  if (uv_is_active((uv_handle_t *)&guard)) uv_close((uv_handle_t *)&guard, NULL);
}

static void raise_fire(uv_timer_t *t) {
  sd_event("%s:raise %d", cur, t == &raise1 ? 1 : 2);
  ASSERT_EQ(0, raise(SIGTERM));
  uv_close((uv_handle_t *)t, NULL);
}

/* ---- case "one" ------------------------------------------------------- */
static void slow_fire(uv_timer_t *t) {
  sd_event("slow:done");
  ASSERT_EQ(0, kr_blocker_done(blk));
  uv_close((uv_handle_t *)t, NULL);
}

static void slow_trigger(kr_blocker_t *b, void *arg) {
  (void)arg;
  blk = b;
  sd_event("slow:trigger");
  ASSERT_EQ(0, uv_timer_init(&loop, &slow_work));
  ASSERT_EQ(0, uv_timer_start(&slow_work, slow_fire, 200, 0));
}

/* ---- case "two" ------------------------------------------------------- */
static void guard_fire(uv_timer_t *t) {
  (void)t;
  sd_ev_print(stderr);
  sd_logs_print(stderr);
  KR_TEST_FAIL_("%s", "two SIGTERMs during a host-started shutdown did not force it within 5 s");
}

static void stuck_trigger(kr_blocker_t *b, void *arg) {
  (void)arg;
  blk = b;
  sd_event("stuck:trigger");
  /* Work that never ends, until the shutdown is over. */
  ASSERT_EQ(0, uv_timer_init(&loop, &guard));
  ASSERT_EQ(0, uv_timer_start(&guard, guard_fire, 5000, 0));
}

static int stuck_state(void *arg, char *buf, size_t len) {
  (void)arg;
  snprintf(buf, len, "never");
  return 0;
}

static void setup(const char *blocker, kr_blocker_fn trigger, kr_blocker_state_fn state) {
  kr_phase_t *p;
  done_calls = 0;
  done_status = 1;
  sigterms_seen = 0;
  blk = NULL;
  ASSERT_EQ(0, uv_loop_init(&loop));
  ASSERT_EQ(0, kr_host_new(&loop, &host));
  ASSERT_EQ(0, kr_host_set_log(host, sd_log_hook, NULL));
  ASSERT_EQ(0, kr_phase_new(host, "flush", &p));
  ASSERT_EQ(0, kr_phase_add_blocker(p, blocker, trigger, state, NULL, NULL));
  ASSERT_EQ(0, kr_host_shutdown_on_signal(host, SIGTERM));
  ASSERT_EQ(0, uv_signal_init(&loop, &seen_sig));
  ASSERT_EQ(0, uv_signal_start(&seen_sig, on_seen, SIGTERM));
  uv_unref((uv_handle_t *)&seen_sig);
}

static void teardown(void) {
  uv_close((uv_handle_t *)&seen_sig, NULL);
  sd_teardown(&loop, host);
  host = NULL;
}

static void case_one(void) {
  kr_shutdown_opts_t o;
  cur = "one";
  setup("slow", slow_trigger, NULL);
  ASSERT_EQ(0, uv_timer_init(&loop, &raise1));
  ASSERT_EQ(0, uv_timer_start(&raise1, raise_fire, 50, 0));
  ASSERT_EQ(0, kr_shutdown_opts_init(&o));
  o.warn_ms = 0;
  o.timeout_ms = 0; /* no watchdog: only a signal could force it */
  uv_update_time(&loop);
  t_start = uv_now(&loop);
  ASSERT_EQ(0, kr_host_shutdown(host, &o, on_done, &done_calls));
  ASSERT_EQ(0, uv_run(&loop, UV_RUN_DEFAULT));

  ASSERT_EQ(1, sigterms_seen); /* the signal did arrive */
  ASSERT_EQ(1, done_calls);
  ASSERT_EQ(0, done_status);
  ASSERT_GE(t_done - t_start, 195); /* the blocker was waited for */
  ASSERT_BEFORE("slow:trigger", "one:raise 1");
  ASSERT_BEFORE("one:raise 1", "one:sigterm seen 1");
  ASSERT_BEFORE("one:sigterm seen 1", "slow:done");
  ASSERT_BEFORE("slow:done", "one:done 0");
  ASSERT_EQ(-1, sd_log_find("gave up", NULL));
  ASSERT_EQ(-1, sd_log_find("forcing", NULL));
  ASSERT_EQ(UV_EALREADY, kr_blocker_done(blk));
  char *json = sd_report(host, KR_REPORT_JSON);
  ASSERT_JSON(json, "d['shutdown']['stage']=='done' and "
                    "d['shutdown']['phases'][0]['blockers'][0]['name']=='slow' and "
                    "d['shutdown']['phases'][0]['blockers'][0]['state']=='done'");
  kr_free(json);
  teardown();
}

static void case_two(void) {
  kr_shutdown_opts_t o;
  cur = "two";
  setup("stuck", stuck_trigger, stuck_state);
  ASSERT_EQ(0, uv_timer_init(&loop, &raise1));
  ASSERT_EQ(0, uv_timer_start(&raise1, raise_fire, 30, 0));
  ASSERT_EQ(0, uv_timer_init(&loop, &raise2));
  ASSERT_EQ(0, uv_timer_start(&raise2, raise_fire, 60, 0));
  ASSERT_EQ(0, kr_shutdown_opts_init(&o));
  o.warn_ms = 0;
  o.timeout_ms = 0; /* no watchdog: only the second signal forces it */
  uv_update_time(&loop);
  t_start = uv_now(&loop);
  ASSERT_EQ(0, kr_host_shutdown(host, &o, on_done, &done_calls));
  ASSERT_EQ(0, uv_run(&loop, UV_RUN_DEFAULT));

  ASSERT_EQ(2, sigterms_seen);
  ASSERT_EQ(1, done_calls);
  ASSERT_EQ(UV_ETIMEDOUT, done_status);
  ASSERT_LT(t_done - t_start, 5000);
  ASSERT_BEFORE("stuck:trigger", "two:raise 1");
  ASSERT_BEFORE("two:raise 1", "two:sigterm seen 1");
  ASSERT_BEFORE("two:sigterm seen 1", "two:raise 2");
  ASSERT_BEFORE("two:raise 2", "two:done -110");
  ASSERT_LOGGED("gave up on blocker \"stuck\"", "test_sd_signal_host_started.c:");
  ASSERT_EQ(UV_EALREADY, kr_blocker_done(blk));
  char *json = sd_report(host, KR_REPORT_JSON);
  ASSERT_JSON(json, "d['shutdown']['stage']=='done' and "
                    "d['shutdown']['phases'][0]['blockers'][0]['name']=='stuck' and "
                    "d['shutdown']['phases'][0]['blockers'][0]['state']=='forced'");
  kr_free(json);
  teardown();
}

int main(void) {
  ASSERT_EQ(-110, UV_ETIMEDOUT); /* the event name above */
  case_one();
  case_two();
  return 0;
}
