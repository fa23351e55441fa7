/* Test 3b: a module reference held by a thread: deinit runs only after the
 * thread's kr_module_unref (which wakes the sleeping loop), and the unload
 * ends cleanly. */
#include "harness.h"

int main(void) {
  uv_loop_t loop;
  kr_host_t *host;
  host_setup(&loop, &host);
  probe.loop = &loop;

  const char *path = mod_path("refthread");
  kr_module_t *m = NULL;
  ASSERT_EQ(kr_module_open(host, path, "refthread", 0, &m), 0);
  ASSERT_EQ(kr_module_refs(m), 1);
  ASSERT_EQ(kr_module_live_handles(m), 0);
  ASSERT_EQ(kr_module_live_requests(m), 0);
  ASSERT_EQ(kr_module_cleanup(m, probe_done_cb, &probe), 0);
  uint64_t t0 = now_ms();
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);

  ASSERT_EQ(probe.done_calls, 1);
  ASSERT_EQ(probe.done_status, 0);
  ASSERT_EQ(probe.unref_rc, 0);
  ASSERT_EQ(probe.deinit_calls, 1);
  ASSERT_EQ(probe.deinit_refs, 0);
  ASSERT_EQ(probe.deinit_live_handles, 0);
  ASSERT_EQ(probe.deinit_live_requests, 0);
  ASSERT_GE(probe.deinit_time_ms, probe.unref_time_ms);
  ASSERT_GE(now_ms() - t0, 90); /* slept in the loop until the unref */
  ASSERT(!lib_is_loaded(path));
  host_teardown(&loop, host);
  return 0;
}
