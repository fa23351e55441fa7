/* Issue 5, test 3b: a module opened with KR_MODULE_PIN goes through the
 * whole protocol (cleanup, deinit once, done 0) and is never dlclose()d:
 * it is still mapped afterwards. */
#define ASIS_COUNT_DLCLOSE
#include "asis_host.h"

static uv_loop_t loop;
static kr_host_t *host;

int main(void) {
  host_setup(&loop, &host);
  aprobe.linger_ms = 30;
  const char *path = mod_path("plain");
  ASSERT_EQ(lib_is_loaded(path), 0);

  kr_module_t *m = NULL;
  ASSERT_EQ(kr_module_open(host, path, "plain", KR_MODULE_PIN, &m), 0);
  ASSERT_EQ(aprobe.init_calls, 1);
  ASSERT_EQ(lib_is_loaded(path), 1);
  while (aprobe.timer_fires < 2) ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);

  dlclose_calls = dlclose_other_calls = 0;
  ASSERT_EQ(kr_module_cleanup(m, asis_done, &aprobe), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);

  ASSERT_EQ(aprobe.done_calls, 1);
  ASSERT_EQ(aprobe.done_status, 0);
  ASSERT_EQ(aprobe.cleanup_calls, 1);
  ASSERT_EQ(aprobe.deinit_calls, 1);
  ASSERT_EQ(aprobe.close_cbs, 2);
  ASSERT_EQ(aprobe.violations, 0);
  ASSERT_EQ(dlclose_other_calls, 0); /* never dlclose()d */
  ASSERT_EQ(lib_is_loaded(path), 1);
  ASSERT_NULL(kr_module_find(host, "plain"));

  /* The name is free again; the pinned library is reused. */
  aprobe.closed = 0;
  aprobe.done_calls = 0;
  kr_module_t *m2 = NULL;
  ASSERT_EQ(kr_module_open(host, path, "plain", 0, &m2), 0);
  ASSERT_EQ(aprobe.init_calls, 2);
  ASSERT_EQ(kr_module_cleanup(m2, asis_done, &aprobe), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(aprobe.done_calls, 1);
  ASSERT_EQ(aprobe.done_status, 0);
  ASSERT_EQ(aprobe.deinit_calls, 2);
  host_teardown(&loop, host);
  printf("ok: pinned module cleaned up, deinit once, done 0, still mapped\n");
  return 0;
}
