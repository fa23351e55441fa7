/* Issue 5, test 3a: kr_module_attach adopts a library the host dlopen()ed:
 * it goes through the protocol, done 0, the shim closes the host's
 * reference (exactly once) and the library is unmapped. Bad input: NULL
 * dl handle -> UV_EINVAL; the same handle twice -> UV_EEXIST (and the
 * shim must not drop the reference the first module holds). */
#define ASIS_COUNT_DLCLOSE
#include "asis_host.h"

static uv_loop_t loop;
static kr_host_t *host;

int main(void) {
  host_setup(&loop, &host);
  aprobe.linger_ms = 30;
  const char *path = mod_path("plain");
  ASSERT_EQ(lib_is_loaded(path), 0);

  kr_module_t *m = NULL, *m2 = (kr_module_t *)0x1;
  ASSERT_EQ(kr_module_attach(host, NULL, "plain", 0, &m), UV_EINVAL);
  ASSERT_NULL(m);

  void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NOT_NULL(dl);
  dlclose_target = dl;
  ASSERT_EQ(kr_module_attach(host, dl, "plain", 0, &m), 0);
  ASSERT_NOT_NULL(m);
  ASSERT_EQ(aprobe.init_calls, 1);
  ASSERT_EQ(kr_module_state(m), KR_MODULE_ACTIVE);
  ASSERT_PTR_EQ(kr_module_find(host, "plain"), m);
  ASSERT_EQ(kr_module_live_handles(m), 1); /* its tracked tick timer */

  /* the same handle again, under another name: refused, nothing closed */
  ASSERT_EQ(kr_module_attach(host, dl, "plain2", 0, &m2), UV_EEXIST);
  ASSERT_PTR_EQ(m2, (kr_module_t *)0x1);
  ASSERT_EQ(dlclose_calls, 0);
  ASSERT_EQ(lib_is_loaded(path), 1);
  /* and under the same name */
  ASSERT_EQ(kr_module_attach(host, dl, "plain", 0, &m2), UV_EEXIST);
  ASSERT_EQ(dlclose_calls, 0);
  ASSERT_EQ(aprobe.init_calls, 1);

  /* it serves */
  while (aprobe.timer_fires < 2) ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);

  ASSERT_EQ(kr_module_cleanup(m, asis_done, &aprobe), 0);
  ASSERT_EQ(kr_module_state(m), KR_MODULE_CLEANING);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);

  ASSERT_EQ(aprobe.done_calls, 1);
  ASSERT_EQ(aprobe.done_status, 0);
  ASSERT_EQ(aprobe.cleanup_calls, 1);
  ASSERT_EQ(aprobe.deinit_calls, 1);
  ASSERT_EQ(aprobe.close_cbs, 2);
  ASSERT_EQ(aprobe.violations, 0);
  ASSERT_EQ(dlclose_calls, 1);
  ASSERT_EQ(lib_is_loaded(path), 0);
  ASSERT_NULL(kr_module_find(host, "plain"));
  host_teardown(&loop, host);
  printf("ok: attach, cleanup, done 0, unmapped; NULL -> EINVAL, twice -> EEXIST\n");
  return 0;
}
