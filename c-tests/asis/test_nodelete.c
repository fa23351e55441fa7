/* Issue 5, test 3c: a library the host opened with RTLD_NODELETE and
 * attached goes through the whole protocol (done 0) and stays mapped. */
#include "asis_host.h"

static uv_loop_t loop;
static kr_host_t *host;

int main(void) {
  host_setup(&loop, &host);
  aprobe.linger_ms = 30;
  const char *path = mod_path("plain");
  void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  ASSERT_NOT_NULL(dl);
  kr_module_t *m = NULL;
  ASSERT_EQ(kr_module_attach(host, dl, "plain", 0, &m), 0);
  ASSERT_EQ(aprobe.init_calls, 1);
  while (aprobe.timer_fires < 2) ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);

  ASSERT_EQ(kr_module_cleanup(m, asis_done, &aprobe), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);

  ASSERT_EQ(aprobe.done_calls, 1);
  ASSERT_EQ(aprobe.done_status, 0);
  ASSERT_EQ(aprobe.cleanup_calls, 1);
  ASSERT_EQ(aprobe.deinit_calls, 1);
  ASSERT_EQ(aprobe.close_cbs, 2);
  ASSERT_EQ(aprobe.violations, 0);
  ASSERT_EQ(lib_is_loaded(path), 1);
  ASSERT_NULL(kr_module_find(host, "plain"));
  host_teardown(&loop, host);
  printf("ok: RTLD_NODELETE library attached, cleaned up, done 0, still mapped\n");
  return 0;
}
