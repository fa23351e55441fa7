/* The shutdown's done callback is never called from inside
 * kr_host_shutdown(), even when there is nothing to wait for.
 *
 * Case "empty": no phases, no modules. kr_host_shutdown() returns 0 and
 * the done flag is still 0 right after; uv_run calls done exactly once;
 * kr_host_free(host) from inside done returns 0; uv_run then returns by
 * itself and uv_loop_close() is 0 (nothing of the host's left open).
 *
 * Case "immediate": one phase whose only blocker calls kr_blocker_done()
 * inside its trigger (the trigger runs inside kr_host_shutdown()): same
 * expectations. Each case has a loop of its own. */
#include "sd_test.h"

struct run {
  const char *name;
  uv_loop_t loop;
  kr_host_t *host;
  int in_shutdown;      /* 1 while kr_host_shutdown() runs */
  int done_calls;
  int done_status;
  int done_in_shutdown; /* done was called from inside kr_host_shutdown */
  int free_rc;
  int triggers;
  int trigger_in_shutdown;
  int blocker_done_rc;
};

static void on_done(kr_host_t *h, int status, void *arg) {
  struct run *r = (struct run *)arg;
  ASSERT_PTR_EQ(h, r->host);
  r->done_calls++;
  r->done_status = status;
  if (r->in_shutdown) r->done_in_shutdown++;
  sd_event("%s:done", r->name);
  /* Allowed from here: the shutdown has finished. */
  r->free_rc = kr_host_free(h);
  r->host = NULL;
}

static void immediate_trigger(kr_blocker_t *b, void *arg) {
  struct run *r = (struct run *)arg;
  r->triggers++;
  if (r->in_shutdown) r->trigger_in_shutdown++;
  sd_event("%s:trigger", r->name);
  r->blocker_done_rc = kr_blocker_done(b);
}

static void run_case(struct run *r, int with_phase) {
  kr_phase_t *p;
  r->done_status = 1;
  r->free_rc = 1;
  r->blocker_done_rc = 1;
  ASSERT_EQ(0, uv_loop_init(&r->loop));
  ASSERT_EQ(0, kr_host_new(&r->loop, &r->host));
  ASSERT_EQ(0, kr_host_set_log(r->host, sd_log_hook, NULL));
  if (with_phase) {
    ASSERT_EQ(0, kr_phase_new(r->host, "flush", &p));
    ASSERT_EQ(0, kr_phase_add_blocker(p, "immediate", immediate_trigger, NULL, r, NULL));
  }

  r->in_shutdown = 1;
  int rc = kr_host_shutdown(r->host, NULL, on_done, r);
  r->in_shutdown = 0;
  ASSERT_EQ(0, rc);
  /* Not from inside the call, whatever there was to wait for. */
  ASSERT_EQ(0, r->done_calls);
  ASSERT_EQ(0, r->done_in_shutdown);
  if (with_phase) {
    ASSERT_EQ(1, r->triggers); /* "the first phase's triggers run inside this call" */
    ASSERT_EQ(1, r->trigger_in_shutdown);
    ASSERT_EQ(0, r->blocker_done_rc);
  }

  ASSERT_EQ(0, uv_run(&r->loop, UV_RUN_DEFAULT));
  ASSERT_EQ(1, r->done_calls);
  ASSERT_EQ(0, r->done_in_shutdown);
  ASSERT_EQ(0, r->done_status);
  ASSERT_EQ(0, r->free_rc);
  ASSERT_NULL(r->host);
  /* Nothing left: the loop is not alive and closes cleanly. */
  ASSERT_EQ(0, uv_loop_alive(&r->loop));
  ASSERT_EQ(0, uv_loop_close(&r->loop));
  ASSERT_EQ(1, r->done_calls); /* and never again */
}

int main(void) {
  static struct run empty = {.name = "empty"}, immediate = {.name = "immediate"};

  run_case(&empty, 0);
  ASSERT_EQ(0, empty.triggers);

  run_case(&immediate, 1);
  ASSERT_BEFORE("immediate:trigger", "immediate:done");
  ASSERT_LOGGED("shutdown: complete", NULL);
  ASSERT_EQ(-1, sd_log_find("gave up", NULL));

  ASSERT_EVENTS("empty:done", "phase:flush:started", "immediate:trigger", "phase:flush:done",
                "immediate:done");
  sd_logs_free();
  return 0;
}
