/* Every late-add, remove and immediate-completion case of a blocker.
 *
 * Phase "one":
 *   pre        added before the start: triggered when "one" starts; done
 *              from a timer at 30 ms.
 *   immediate  its trigger calls kr_blocker_done() before returning.
 *   early      kr_blocker_done() before the start: never triggered.
 *   removed    kr_phase_remove_blocker() before the start: never triggered.
 *   stuck      triggered, never done; removed at 40 ms: the phase proceeds.
 *   nested     added from inside pre's trigger (while "one" runs, inside
 *              the library's pump): triggered at once (before any timer)
 *              and waited for: done only after "late" (60 ms).
 *   late       added from a timer at 10 ms (outside any trigger): triggered
 *              inside kr_phase_add_blocker(), done at 60 ms; "one" waits.
 *   child "kid" with no blockers: done at once, does not hold "one".
 * Phase "empty": no blockers at all.
 * Phase "two": blocker "after", whose trigger checks that adding a blocker
 *   or child to the finished phase "one" is refused with UV_EALREADY. */
#include "sd_test.h"

static uv_loop_t *loop;
static kr_host_t *host;
static kr_phase_t *one, *two, *empty, *kid;
static kr_blocker_t *b_pre, *b_immediate, *b_early, *b_removed, *b_stuck, *b_nested, *b_late;
static uv_timer_t t_pre, t_add_late, t_late_done, t_remove;
static int done_status = 1, done_calls;

static void never_trigger(kr_blocker_t *b, void *arg) {
  (void)b;
  sd_event("%s:trigger", (const char *)arg);
  ASSERT(0 && "this blocker must never be triggered");
}

static void stuck_trigger(kr_blocker_t *b, void *arg) {
  ASSERT_PTR_EQ(b, b_stuck);
  sd_event("%s:trigger", (const char *)arg);
}

static void immediate_trigger(kr_blocker_t *b, void *arg) {
  ASSERT_PTR_EQ(b, b_immediate);
  sd_event("%s:trigger", (const char *)arg);
  ASSERT_EQ(0, kr_blocker_done(b));
  ASSERT_EQ(UV_EALREADY, kr_blocker_done(b));
  sd_event("%s:done", (const char *)arg);
}

static void nested_trigger(kr_blocker_t *b, void *arg) {
  ASSERT_PTR_EQ(b, b_nested);
  sd_event("%s:trigger", (const char *)arg);
  /* Finished later, right after "late" (see late_done_fire). */
}

static void close_cb(uv_handle_t *h) { (void)h; }

static void pre_fire(uv_timer_t *t) {
  sd_event("pre:done");
  ASSERT_EQ(0, kr_blocker_done(b_pre));
  uv_close((uv_handle_t *)t, close_cb);
}

static void pre_trigger(kr_blocker_t *b, void *arg) {
  ASSERT_PTR_EQ(b, b_pre);
  sd_event("%s:trigger", (const char *)arg);
  /* Added while "one" runs, from inside a trigger. */
  ASSERT_EQ(0, kr_phase_add_blocker(one, "nested", nested_trigger, NULL, "nested", &b_nested));
  ASSERT_EQ(0, uv_timer_init(loop, &t_pre));
  ASSERT_EQ(0, uv_timer_start(&t_pre, pre_fire, 30, 0));
}

static int late_triggered;
static void late_trigger(kr_blocker_t *b, void *arg) {
  ASSERT_PTR_EQ(b, b_late);
  late_triggered++;
  sd_event("%s:trigger", (const char *)arg);
}

static void late_done_fire(uv_timer_t *t) {
  sd_event("late:done");
  ASSERT_EQ(0, kr_blocker_done(b_late));
  /* "one" still waits for "nested", added from inside pre's trigger. */
  sd_event("nested:done");
  ASSERT_EQ(0, kr_blocker_done(b_nested));
  uv_close((uv_handle_t *)t, close_cb);
}

static void add_late_fire(uv_timer_t *t) {
  sd_event("add-late");
  ASSERT_EQ(0, late_triggered);
  ASSERT_EQ(0, kr_phase_add_blocker(one, "late", late_trigger, NULL, "late", &b_late));
  ASSERT_EQ(1, late_triggered); /* "triggered at once" */
  sd_event("add-late returned");
  ASSERT_EQ(0, uv_timer_init(loop, &t_late_done));
  ASSERT_EQ(0, uv_timer_start(&t_late_done, late_done_fire, 50, 0));
  uv_close((uv_handle_t *)t, close_cb);
}

static void remove_fire(uv_timer_t *t) {
  sd_event("remove-stuck");
  ASSERT_EQ(0, kr_phase_remove_blocker(one, b_stuck));
  ASSERT_EQ(UV_EALREADY, kr_phase_remove_blocker(one, b_stuck));
  ASSERT_EQ(UV_EALREADY, kr_blocker_done(b_stuck)); /* removed: too late */
  uv_close((uv_handle_t *)t, close_cb);
}

static void after_trigger(kr_blocker_t *b, void *arg) {
  kr_blocker_t *nb = (kr_blocker_t *)0x1;
  kr_phase_t *np = (kr_phase_t *)0x1;
  sd_event("%s:trigger", (const char *)arg);
  /* "one" is finished: too late to add anything to it. */
  ASSERT_EQ(UV_EALREADY, kr_phase_add_blocker(one, "too-late", never_trigger, NULL, "too-late", &nb));
  ASSERT_PTR_EQ(nb, (kr_blocker_t *)0x1); /* out untouched on failure */
  ASSERT_EQ(UV_EALREADY, kr_phase_new_child(one, "too-late-child", &np));
  ASSERT_PTR_EQ(np, (kr_phase_t *)0x1);
  ASSERT_EQ(UV_EALREADY, kr_blocker_done(b_pre));
  ASSERT_EQ(UV_EALREADY, kr_blocker_done(b_early));
  ASSERT_EQ(UV_EALREADY, kr_phase_remove_blocker(one, b_pre));
  ASSERT_EQ(0, kr_blocker_done(b));
}

static void on_done(kr_host_t *h, int status, void *arg) {
  (void)h;
  (void)arg;
  done_status = status;
  done_calls++;
  sd_event("shutdown:done");
}

int main(void) {
  kr_blocker_t *b_after;
  loop = uv_default_loop();
  ASSERT_EQ(0, kr_host_new(loop, &host));
  ASSERT_EQ(0, kr_host_set_log(host, sd_log_hook, NULL));

  ASSERT_EQ(0, kr_phase_new(host, "one", &one));
  ASSERT_EQ(0, kr_phase_new(host, "empty", &empty));
  ASSERT_EQ(0, kr_phase_new(host, "two", &two));
  ASSERT_EQ(0, kr_phase_add_blocker(one, "pre", pre_trigger, NULL, "pre", &b_pre));
  ASSERT_EQ(0, kr_phase_add_blocker(one, "immediate", immediate_trigger, NULL, "immediate", &b_immediate));
  ASSERT_EQ(0, kr_phase_add_blocker(one, "early", never_trigger, NULL, "early", &b_early));
  ASSERT_EQ(0, kr_phase_add_blocker(one, "removed", never_trigger, NULL, "removed", &b_removed));
  ASSERT_EQ(0, kr_phase_add_blocker(one, "stuck", stuck_trigger, NULL, "stuck", &b_stuck));
  ASSERT_EQ(0, kr_phase_new_child(one, "kid", &kid));
  ASSERT_EQ(0, kr_phase_add_blocker(two, "after", after_trigger, NULL, "after", &b_after));

  /* Done before the start: never triggered. Removed before: never either. */
  ASSERT_EQ(0, kr_blocker_done(b_early));
  ASSERT_EQ(UV_EALREADY, kr_blocker_done(b_early));
  ASSERT_EQ(0, kr_phase_remove_blocker(one, b_removed));
  ASSERT_EQ(UV_EALREADY, kr_phase_remove_blocker(one, b_removed));
  ASSERT_EQ(UV_EALREADY, kr_blocker_done(b_removed));
  ASSERT_EQ(UV_EINVAL, kr_phase_remove_blocker(two, b_stuck)); /* not its phase */
  ASSERT_EQ(0, sd_nevents);

  ASSERT_EQ(0, uv_timer_init(loop, &t_add_late));
  ASSERT_EQ(0, uv_timer_start(&t_add_late, add_late_fire, 10, 0));
  ASSERT_EQ(0, uv_timer_init(loop, &t_remove));
  ASSERT_EQ(0, uv_timer_start(&t_remove, remove_fire, 40, 0));

  ASSERT_EQ(0, kr_host_shutdown(host, NULL, on_done, NULL));
  /* The start triggers what was added before it, synchronously. */
  ASSERT_EQ(1, sd_ev_count("pre:trigger"));
  ASSERT_EQ(0, uv_run(loop, UV_RUN_DEFAULT));
  ASSERT_EQ(1, done_calls);
  ASSERT_EQ(0, done_status);

  ASSERT_EVENTS("phase:one:started",
                "pre:trigger",
                "immediate:trigger",
                "immediate:done",
                "stuck:trigger",
                "phase:kid:started",
                "phase:kid:done",
                "nested:trigger",
                "add-late",
                "late:trigger",
                "add-late returned",
                "pre:done",
                "remove-stuck",
                "late:done",
                "nested:done",
                "phase:one:done",
                "phase:empty:started",
                "phase:empty:done",
                "phase:two:started",
                "after:trigger",
                "phase:two:done",
                "shutdown:done");

  /* The final states, as the report sees them. */
  char *json = sd_report(host, KR_REPORT_JSON);
  ASSERT_JSON(json, "{b['name']:b['state'] for b in d['shutdown']['phases'][0]['blockers']} == "
                    "{'pre':'done','immediate':'done','early':'done','removed':'removed',"
                    "'stuck':'removed','nested':'done','late':'done'}");
  kr_free(json);
  sd_teardown(loop, host);
  return 0;
}
