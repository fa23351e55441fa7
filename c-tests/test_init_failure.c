/* Test 6: a failing init. kr_module_open returns init's code and leaves
 * `out` alone; what init started drains (the fs callback runs once, the
 * timer is closed by the shim and never fires), then the library closes;
 * kr_host_free says UV_EBUSY until then. Cleanup and deinit never run. */
#include "harness.h"

static void on_host_timer(uv_timer_t *t) { uv_close((uv_handle_t *)t, NULL); }

static void with_work_in_flight(void) {
  uv_loop_t loop;
  kr_host_t *host;
  host_setup(&loop, &host);
  probe.loop = &loop;
  probe.mode = 0;
  probe_tmpfile();

  const char *path = mod_path("initfail");
  kr_module_t *sentinel = (kr_module_t *)&probe;
  kr_module_t *m = sentinel;
  ASSERT_EQ(kr_module_open(host, path, "initfail", 0, &m), UV_ENOMEM);
  ASSERT_PTR_EQ(m, sentinel);
  ASSERT_EQ(probe.init_calls, 1);
  ASSERT(strlen(kr_last_error()) > 0);
  /* Draining: the library stays mapped for the fs callback. */
  ASSERT(lib_is_loaded(path));
  ASSERT_EQ(probe.fs_cbs, 0);
  ASSERT_EQ(kr_host_free(host), UV_EBUSY);
  ASSERT_NULL(kr_module_find(host, "initfail"));

  /* Give a 1 ms repeating timer every chance to fire. */
  uv_timer_t t;
  ASSERT_EQ(uv_timer_init(&loop, &t), 0);
  ASSERT_EQ(uv_timer_start(&t, on_host_timer, 30, 0), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);

  ASSERT_EQ(probe.fs_cbs, 1);
  ASSERT_EQ(probe.fs_status, (int)strlen("written by a failing init\n"));
  ASSERT_EQ(probe.timer_fires, 0);
  ASSERT_EQ(probe.cleanup_calls, 0);
  ASSERT_EQ(probe.deinit_calls, 0);
  ASSERT_EQ(probe.done_calls, 0);
  ASSERT(!lib_is_loaded(path));
  assert_file_pattern(probe.path, 0, "written by a failing init\n");
  unlink(probe.path);
  host_teardown(&loop, host); /* kr_host_free is 0 now */
}

static void with_nothing_in_flight(int mode, int want) {
  uv_loop_t loop;
  kr_host_t *host;
  host_setup(&loop, &host);
  probe.loop = &loop;
  probe.mode = mode;
  const char *path = mod_path("initfail");
  kr_module_t *m = NULL;
  ASSERT_EQ(kr_module_open(host, path, "initfail", 0, &m), want);
  ASSERT_NULL(m);
  ASSERT_EQ(probe.init_calls, 1);
  /* Nothing to wait for: closed at once. */
  ASSERT(!lib_is_loaded(path));
  ASSERT_EQ(probe.cleanup_calls, 0);
  ASSERT_EQ(probe.deinit_calls, 0);
  host_teardown(&loop, host);
}

int main(void) {
  with_work_in_flight();
  with_nothing_in_flight(1, UV_ENOMEM);
  with_nothing_in_flight(2, UV_EINVAL);
  return 0;
}
