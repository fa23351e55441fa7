/* A module running a loop of its own on a thread: its handles there are
 * counted for the module (that loop has its own ledger), the reports list the
 * host loop's objects and give the other loop's as a count, and the unload
 * waits for the thread to close them: both close callbacks run exactly once,
 * before deinit, and nothing runs after dlclose. */
#include "harness.h"

int main(void) {
  uv_loop_t loop;
  kr_host_t *host;
  host_setup(&loop, &host);
  probe.loop = &loop;

  const char *path = mod_path("ownloop");
  kr_module_t *m = NULL;
  ASSERT_EQ(kr_module_open(host, path, "ownloop", 0, &m), 0);
  ASSERT_EQ(kr_module_live_handles(m), 2); /* timer + async on the thread's loop */
  ASSERT_EQ(kr_module_live_requests(m), 0);
  ASSERT_EQ(kr_module_refs(m), 1);

  char *text = NULL;
  ASSERT_EQ(kr_host_report(host, KR_REPORT_TEXT, &text), 0);
  ASSERT_NOT_NULL(strstr(text, "module \"ownloop\": active, 2 handles"));
  ASSERT_NOT_NULL(strstr(text, "on loops of other threads: 2 handles, 0 requests"));
  ASSERT(strstr(text, "timer:") == NULL); /* not listed from this thread */
  kr_free(text);
  char *json = NULL;
  ASSERT_EQ(kr_host_report(host, KR_REPORT_JSON, &json), 0);
  ASSERT_NOT_NULL(strstr(json, "\"on_other_loops\":{\"handles\":2,\"requests\":0}"));
  kr_free(json);
  FILE *devnull = fopen("/dev/null", "w");
  ASSERT_NOT_NULL(devnull);
  ASSERT_EQ(kr_module_dump(m, devnull), 0); /* nothing on the host's loop */
  fclose(devnull);

  ASSERT_EQ(kr_module_cleanup(m, probe_done_cb, &probe), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);

  ASSERT_EQ(probe.done_calls, 1);
  ASSERT_EQ(probe.done_status, 0);
  ASSERT_EQ(probe.cleanup_calls, 1);
  ASSERT_EQ(probe.deinit_calls, 1);
  ASSERT_EQ(__atomic_load_n(&probe.close_cbs, __ATOMIC_SEQ_CST), 2);
  ASSERT_GE(__atomic_load_n(&probe.timer_fires, __ATOMIC_SEQ_CST), 1);
  ASSERT_EQ(probe.unref_rc, 0);
  ASSERT_EQ(probe.deinit_live_handles, 0);
  ASSERT_EQ(probe.deinit_live_requests, 0);
  ASSERT_EQ(probe.deinit_refs, 0);
  ASSERT(!lib_is_loaded(path));
  host_teardown(&loop, host);
  return 0;
}
