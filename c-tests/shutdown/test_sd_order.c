/* Order of a graceful shutdown, from an event log.
 *
 * Phase "first": blockers b1 (done after 30 ms) and b2 (10 ms), and child
 * phase "child" with blocker cb (20 ms). Phase "second": blocker b3 (done
 * inside its trigger). Modules: mod_a (drains 20 ms) depends on mod_b
 * (10 ms); mod_c (150 ms) is independent.
 *
 * Expected: phases in creation order; b1 and b2 both triggered before
 * either completes; the child done before its parent; no module cleanup
 * before the last phase is done; mod_a and mod_c drain concurrently;
 * mod_a is dlclosed before mod_b's cleanup starts; the shutdown's done
 * callback last; uv_run returns by itself. */
#include "sd_test.h"

static uv_loop_t *loop;
static kr_host_t *host;
static int done_status = 1;
static int done_calls;

typedef struct {
  const char *name;
  uint64_t ms;
  uv_timer_t timer;
  kr_blocker_t *b;
} slow_t;

static void slow_fire(uv_timer_t *t) {
  slow_t *s = t->data;
  sd_event("%s:done", s->name);
  ASSERT_EQ(0, kr_blocker_done(s->b));
  uv_close((uv_handle_t *)t, NULL);
}

static void slow_trigger(kr_blocker_t *b, void *arg) {
  slow_t *s = arg;
  sd_event("%s:trigger", s->name);
  s->b = b;
  ASSERT_EQ(0, uv_timer_init(loop, &s->timer));
  s->timer.data = s;
  ASSERT_EQ(0, uv_timer_start(&s->timer, slow_fire, s->ms, 0));
}

static void quick_trigger(kr_blocker_t *b, void *arg) {
  sd_event("%s:trigger", (const char *)arg);
  ASSERT_EQ(0, kr_blocker_done(b));
  sd_event("%s:done", (const char *)arg);
}

static void on_done(kr_host_t *h, int status, void *arg) {
  ASSERT_PTR_EQ(h, host);
  ASSERT_PTR_EQ(arg, &done_status);
  done_status = status;
  done_calls++;
  sd_event("shutdown:done");
}

int main(void) {
  static slow_t b1 = {"first.b1", 30, {0}, NULL};
  static slow_t b2 = {"first.b2", 10, {0}, NULL};
  static slow_t cb = {"child.cb", 20, {0}, NULL};
  kr_phase_t *first, *second, *child;
  kr_module_t *ma, *mb, *mc;

  loop = uv_default_loop();
  ASSERT_EQ(0, kr_host_new(loop, &host));
  ASSERT_EQ(0, kr_host_set_log(host, sd_log_hook, NULL));

  ASSERT_EQ(0, kr_module_open(host, SD_MOD("mod_a"), "mod_a", 0, &ma));
  ASSERT_EQ(0, kr_module_open(host, SD_MOD("mod_b"), "mod_b", 0, &mb));
  ASSERT_EQ(0, kr_module_open(host, SD_MOD("mod_c"), "mod_c", 0, &mc));
  ASSERT_EQ(0, kr_module_depend(ma, mb));
  ASSERT_EQ(0, kr_module_depend(ma, mb)); /* twice is harmless */

  ASSERT_EQ(0, kr_phase_new(host, "first", &first));
  ASSERT_EQ(0, kr_phase_new(host, "second", &second));
  ASSERT_EQ(0, kr_phase_add_blocker(first, "b1", slow_trigger, NULL, &b1, NULL));
  ASSERT_EQ(0, kr_phase_add_blocker(first, "b2", slow_trigger, NULL, &b2, NULL));
  ASSERT_EQ(0, kr_phase_new_child(first, "child", &child));
  ASSERT_EQ(0, kr_phase_add_blocker(child, "cb", slow_trigger, NULL, &cb, NULL));
  ASSERT_EQ(0, kr_phase_add_blocker(second, "b3", quick_trigger, NULL, "second.b3", NULL));

  ASSERT_EQ(3, sd_nevents); /* the three inits, nothing else yet */
  sd_nevents = 0;

  uv_update_time(loop);
  uint64_t t0 = uv_now(loop);
  ASSERT_EQ(0, kr_host_shutdown(host, NULL, on_done, &done_status));
  ASSERT_EQ(0, uv_run(loop, UV_RUN_DEFAULT)); /* returns by itself */
  /* ... and promptly: the default watchdog (warn 5 s, FORCE 30 s) does not
   * keep the loop alive once the shutdown is over. */
  uv_update_time(loop);
  ASSERT_LT(uv_now(loop) - t0, 4000);
  ASSERT_EQ(1, done_calls);
  ASSERT_EQ(0, done_status);

  /* Phases: exact order. */
  ASSERT_STR_EQ(sd_events[0], "phase:first:started");
  ASSERT_STR_EQ(sd_events[1], "first.b1:trigger");
  ASSERT_STR_EQ(sd_events[2], "first.b2:trigger");
  ASSERT_STR_EQ(sd_events[3], "phase:child:started");
  ASSERT_STR_EQ(sd_events[4], "child.cb:trigger");
  ASSERT_STR_EQ(sd_events[5], "first.b2:done");
  ASSERT_STR_EQ(sd_events[6], "child.cb:done");
  ASSERT_STR_EQ(sd_events[7], "phase:child:done");
  ASSERT_STR_EQ(sd_events[8], "first.b1:done");
  ASSERT_STR_EQ(sd_events[9], "phase:first:done");
  ASSERT_STR_EQ(sd_events[10], "phase:second:started");
  ASSERT_STR_EQ(sd_events[11], "second.b3:trigger");
  ASSERT_STR_EQ(sd_events[12], "second.b3:done");
  ASSERT_STR_EQ(sd_events[13], "phase:second:done");

  /* Modules: mod_a and mod_c start together (in either order) ... */
  int a = (strcmp(sd_events[14], "mod_a:cleanup") == 0) ? 14 : 15;
  int c = a == 14 ? 15 : 14;
  ASSERT_STR_EQ(sd_events[a], "mod_a:cleanup");
  ASSERT_STR_EQ(sd_events[c], "mod_c:cleanup");
  /* ... then the exact rest: a gone before b starts; c drains meanwhile. */
  ASSERT_STR_EQ(sd_events[16], "mod_a:drained");
  ASSERT_STR_EQ(sd_events[17], "mod_a:deinit live=0/0");
  ASSERT_STR_EQ(sd_events[18], "mod_a:dlclose");
  ASSERT_STR_EQ(sd_events[19], "mod_b:cleanup");
  ASSERT_STR_EQ(sd_events[20], "mod_b:drained");
  ASSERT_STR_EQ(sd_events[21], "mod_b:deinit live=0/0");
  ASSERT_STR_EQ(sd_events[22], "mod_b:dlclose");
  ASSERT_STR_EQ(sd_events[23], "mod_c:drained");
  ASSERT_STR_EQ(sd_events[24], "mod_c:deinit live=0/0");
  ASSERT_STR_EQ(sd_events[25], "mod_c:dlclose");
  ASSERT_STR_EQ(sd_events[26], "shutdown:done");
  ASSERT_EQ(27, sd_nevents);

  ASSERT(!sd_is_loaded(SD_MOD("mod_a")));
  ASSERT(!sd_is_loaded(SD_MOD("mod_b")));
  ASSERT(!sd_is_loaded(SD_MOD("mod_c")));
  ASSERT_NULL(kr_module_find(host, "mod_a"));

  /* The report after the fact: every phase done, no module left. */
  char *json = sd_report(host, KR_REPORT_JSON);
  ASSERT_JSON(json, "d['shutdown']['stage']=='done' and "
                    "[p['name'] for p in d['shutdown']['phases']]==['first','second'] and "
                    "all(p['state']=='done' for p in d['shutdown']['phases']) and "
                    "d['shutdown']['phases'][0]['children'][0]['name']=='child' and "
                    "d['modules']==[] and d['abandoned']==[]");
  kr_free(json);

  sd_teardown(loop, host);
  return 0;
}
