/* Test 1: cleanup with a live repeating timer, an in-flight uv_fs_write and
 * pending uv_queue_work. Every callback runs exactly once, none after
 * dlclose, all bytes are on disk, deinit sees nothing live, done status 0,
 * uv_run returns by itself and the loop closes cleanly. */
#include "harness.h"

int main(void) {
  uv_loop_t loop;
  kr_host_t *host;
  host_setup(&loop, &host);
  probe.loop = &loop;
  probe.nbytes = 1 << 20;
  probe_tmpfile();

  const char *path = mod_path("full");
  kr_module_t *m = NULL;
  uint64_t t0 = uv_hrtime();
  ASSERT_EQ(kr_module_open(host, path, "full", 0, &m), 0);
  ASSERT_NOT_NULL(m);
  ASSERT_EQ(probe.init_calls, 1);
  ASSERT_EQ(kr_module_state(m), KR_MODULE_ACTIVE);
  ASSERT_STR_EQ(kr_module_name(m), "full");
  ASSERT_PTR_EQ(kr_module_find(host, "full"), m);
  ASSERT_EQ(kr_module_live_handles(m), 1);  /* the timer */
  ASSERT_EQ(kr_module_live_requests(m), 2); /* the write, the work */
  ASSERT_EQ(kr_module_refs(m), 0);
  ASSERT(lib_is_loaded(path));
  /* The library holds its own live host: not freeable. */
  ASSERT_EQ(kr_host_free(host), UV_EBUSY);

  /* Cleanup while everything is in flight (the loop has not run). */
  ASSERT_EQ(kr_module_cleanup(m, probe_done_cb, &probe), 0);
  ASSERT_EQ(probe.cleanup_calls, 1);
  ASSERT_EQ(probe.deinit_calls, 0); /* never inside kr_module_cleanup */
  ASSERT_EQ(kr_module_state(m), KR_MODULE_CLEANING);
  ASSERT_EQ(kr_module_cleanup(m, probe_done_cb, &probe), UV_EALREADY);

  /* Returns by itself: nothing calls uv_stop. */
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  uint64_t elapsed_ms = (uv_hrtime() - t0) / 1000000u;

  ASSERT_EQ(probe.done_calls, 1);
  ASSERT_EQ(probe.done_status, 0);
  ASSERT_STR_EQ(probe.done_name, "full");
  ASSERT_EQ(probe.cleanup_calls, 1);
  ASSERT_EQ(probe.close_cbs, 1);
  ASSERT_EQ(probe.fs_cbs, 1);
  ASSERT_EQ(probe.fs_status, (int)probe.nbytes);
  ASSERT_EQ(probe.work_runs, 1);
  ASSERT_EQ(probe.after_work_cbs, 1);
  ASSERT_EQ(probe.after_work_status, 0);
  ASSERT_EQ(probe.deinit_calls, 1);
  ASSERT_EQ(probe.deinit_calls_at_done, 1);
  ASSERT_EQ(probe.deinit_live_handles, 0);
  ASSERT_EQ(probe.deinit_live_requests, 0);
  ASSERT_EQ(probe.deinit_refs, 0);
  ASSERT_EQ(probe.deinit_state, KR_MODULE_CLEANING);
  ASSERT_GE(elapsed_ms, 50); /* waited for the 50 ms work */
  /* Library closed, module forgotten. */
  ASSERT(!lib_is_loaded(path));
  ASSERT_NULL(kr_module_find(host, "full"));

  assert_file_pattern(probe.path, probe.nbytes, NULL);
  unlink(probe.path);

  host_teardown(&loop, host);
  return 0;
}
