/* Test 4: a module asks for its own unload (kr_module_cleanup on itself)
 * from inside its own timer callback; a request is still in flight. */
#include "harness.h"

int main(void) {
  uv_loop_t loop;
  kr_host_t *host;
  host_setup(&loop, &host);
  probe.loop = &loop;
  probe.self_clean_after = 3;
  probe.done_fn = probe_done_cb;
  probe.done_arg = &probe;
  probe_tmpfile();

  const char *path = mod_path("selfclean");
  kr_module_t *m = NULL;
  ASSERT_EQ(kr_module_open(host, path, "selfclean", 0, &m), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);

  ASSERT_EQ(probe.timer_fires, 3);
  ASSERT_EQ(probe.cleanup_rc, 0);
  ASSERT_EQ(probe.cleanup_again_rc, UV_EALREADY);
  ASSERT_EQ(probe.nsteps, 1);
  ASSERT_EQ(probe.steps[0].handles, 1);
  ASSERT_EQ(probe.steps[0].requests, 1);
  ASSERT_EQ(probe.cleanup_calls, 1);
  ASSERT_EQ(probe.close_cbs, 1);
  ASSERT_EQ(probe.fs_cbs, 1);
  ASSERT_EQ(probe.fs_status, 0);
  ASSERT_EQ(probe.deinit_calls, 1);
  ASSERT_EQ(probe.deinit_live_handles, 0);
  ASSERT_EQ(probe.deinit_live_requests, 0);
  ASSERT_EQ(probe.done_calls, 1);
  ASSERT_EQ(probe.done_status, 0);
  ASSERT_STR_EQ(probe.done_name, "selfclean");
  ASSERT(!lib_is_loaded(path));
  unlink(probe.path);
  host_teardown(&loop, host);
  return 0;
}
