/* Issue 5, test 1: a module built against plain <uv.h> (invisible to the
 * ledger) with static timers and a uv_poll_t, cleaned up while they are
 * live. dlclose must wait until the module's own close callbacks have run;
 * meanwhile the reference scan's findings show in the live count, the dump
 * ("untracked") and the report. After done the library is unmapped. */
#include "asis_host.h"
#include <sys/socket.h>

static uv_loop_t loop;
static kr_host_t *host;
static kr_module_t *m;
static int sv[2];
static struct host_timer during, poke;
static int during_checked;
static size_t live_during;

#define LINGER_MS 150

static void on_done(kr_host_t *h, const char *name, int status, void *arg) {
  ASSERT_PTR_EQ(h, host);
  ASSERT_PTR_EQ(arg, &aprobe);
  ASSERT_STR_EQ(name, "raw");
  ASSERT_EQ(aprobe.done_calls, 0);
  /* dlclose happened only after all of the module's own close callbacks */
  ASSERT_EQ(aprobe.closes_started, 4);
  ASSERT_EQ(aprobe.close_cbs, 4);
  ASSERT_EQ(aprobe.deinit_calls, 1);
  ASSERT_EQ(during_checked, 1);
  ASSERT_EQ(lib_is_loaded(mod_path("raw")), 0);
  aprobe.done_calls++;
  aprobe.done_status = status;
  aprobe.closed = 1;
}

static void poke_fn(void *arg) {
  (void)arg;
  ASSERT_EQ(write(sv[1], "x", 1), 1);
}

/* LINGER_MS/3 after cleanup: the module still holds its raw handles. */
static void during_fn(void *arg) {
  (void)arg;
  ASSERT_EQ(aprobe.close_cbs, 0);
  ASSERT_EQ(aprobe.done_calls, 0);
  ASSERT_EQ(lib_is_loaded(mod_path("raw")), 1);
  ASSERT_NE(kr_module_state(m), KR_MODULE_ACTIVE);
  live_during = kr_module_live_handles(m);
  fprintf(stderr, "live handles during the wait: %zu\n", live_during);
  /* tick, idle_t, poll_h, closer: all in the module's image, untracked */
  ASSERT_GT(live_during, 0);
  ASSERT_EQ(live_during, 4);
  ASSERT_EQ(kr_module_live_requests(m), 0);
  int lines = -1;
  char *d = dump_of(m, &lines);
  ASSERT_GE(lines, 4);
  ASSERT_GE(count_substr(d, "untracked"), 4);
  ASSERT_STR_CONTAINS(d, "poll");
  ASSERT_STR_CONTAINS(d, "timer");
  ASSERT_STR_CONTAINS(d, "raw");
  free(d);
  char *rep = report_of(host);
  ASSERT_STR_CONTAINS(rep, "untracked");
  ASSERT_STR_CONTAINS(rep, "raw");
  kr_free(rep);
  during_checked = 1;
}

int main(void) {
  host_setup(&loop, &host);
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  aprobe.fd = sv[0];
  aprobe.linger_ms = LINGER_MS;

  ASSERT_EQ(kr_module_open(host, mod_path("raw"), "raw", 0, &m), 0);
  ASSERT_EQ(aprobe.init_calls, 1);
  ASSERT_EQ(kr_module_state(m), KR_MODULE_ACTIVE);
  ASSERT_EQ(lib_is_loaded(mod_path("raw")), 1);
  /* the ledger knows nothing the module made */
  ASSERT_EQ(kr_module_live_requests(m), 0);

  /* The module serves: its poll handle reads what the host writes, its
   * timer ticks. */
  host_after(&loop, &poke, 1, poke_fn, NULL);
  while (aprobe.poll_cbs < 1 || aprobe.timer_fires < 2) ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);

  /* Before cleanup the dump already lists what the scan finds. */
  int lines = -1;
  char *d = dump_of(m, &lines);
  ASSERT_GE(count_substr(d, "untracked"), 3); /* tick, idle_t, poll_h */
  free(d);

  ASSERT_EQ(kr_module_cleanup(m, on_done, &aprobe), 0);
  ASSERT_EQ(aprobe.cleanup_calls, 1);
  ASSERT_EQ(kr_module_cleanup(m, on_done, &aprobe), UV_EALREADY);
  host_after(&loop, &during, LINGER_MS / 3, during_fn, NULL);

  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);

  ASSERT_EQ(aprobe.done_calls, 1);
  ASSERT_EQ(aprobe.done_status, 0);
  ASSERT_EQ(aprobe.close_cbs, 4);
  ASSERT_EQ(aprobe.violations, 0);
  ASSERT_EQ(lib_is_loaded(mod_path("raw")), 0);
  ASSERT_NULL(kr_module_find(host, "raw"));
  host_teardown(&loop, host);
  close(sv[0]);
  close(sv[1]);
  printf("ok: dlclose waited for %d module close callbacks; %zu untracked during the wait\n",
         aprobe.close_cbs, live_during);
  return 0;
}
