/* Test 3a: deinit answering UV_EBUSY three times, then 0: asked again (by
 * the backoff timer: nothing else is outstanding), ends cleanly, the loop
 * sleeps meanwhile and returns by itself. */
#include "harness.h"

int main(void) {
  uv_loop_t loop;
  kr_host_t *host;
  host_setup(&loop, &host);
  probe.loop = &loop;
  probe.deinit_busy_times = 3;

  const char *path = mod_path("busy");
  kr_module_t *m = NULL;
  ASSERT_EQ(kr_module_open(host, path, "busy", 0, &m), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 1);
  ASSERT_EQ(kr_module_cleanup(m, probe_done_cb, &probe), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);

  ASSERT_EQ(probe.cleanup_calls, 1);
  ASSERT_EQ(probe.close_cbs, 1);
  ASSERT_EQ(probe.deinit_calls, 4); /* 3 x UV_EBUSY, then 0 */
  ASSERT_EQ(probe.deinit_calls_at_done, 4);
  ASSERT_EQ(probe.done_calls, 1);
  ASSERT_EQ(probe.done_status, 0);
  ASSERT_EQ(probe.deinit_live_handles, 0);
  ASSERT_EQ(probe.deinit_live_requests, 0);
  ASSERT(!lib_is_loaded(path));
  host_teardown(&loop, host);
  return 0;
}
