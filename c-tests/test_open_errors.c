/* Test 7: kr_module_open's and kr_module_cleanup's errors: a missing file
 * or init symbol (UV_ENOENT with the dlerror text), a duplicate name or
 * library (UV_EEXIST), a second cleanup (UV_EALREADY), a bad name or an
 * unknown flag (UV_EINVAL). `out` is never written on failure, and nothing
 * stays loaded. Then KR_MODULE_PIN: the protocol runs, no dlclose. */
#include "harness.h"

static kr_module_t *const SENTINEL = (kr_module_t *)&probe;

static void expect_open_fails(kr_host_t *host, const char *path, const char *name,
                              unsigned flags, int want) {
  kr_module_t *m = SENTINEL;
  int rc = kr_module_open(host, path, name, flags, &m);
  if (rc != want)
    fprintf(stderr, "kr_module_open(%s, \"%s\", %#x): %d (%s), last error \"%s\"\n", path,
            name, flags, rc, rc ? uv_err_name(rc) : "0", kr_last_error());
  ASSERT_EQ(rc, want);
  ASSERT_PTR_EQ(m, SENTINEL);
  ASSERT_NOT_NULL(kr_last_error());
}

int main(void) {
  uv_loop_t loop;
  kr_host_t *host;
  host_setup(&loop, &host);
  probe.loop = &loop;
  const char *tick = mod_path("tick");
  const char *noinit = mod_path("noinit");

  /* Missing file: UV_ENOENT, and the dlerror text. */
  const char *missing = MODDIR "/no_such_module.so";
  expect_open_fails(host, missing, "nosuch", 0, UV_ENOENT);
  ASSERT_STR_CONTAINS(kr_last_error(), "No such file");
  ASSERT_STR_CONTAINS(kr_last_error(), "no_such_module.so");

  /* Missing <name>_init: UV_ENOENT naming the symbol; library closed. */
  expect_open_fails(host, noinit, "noinit", 0, UV_ENOENT);
  ASSERT_STR_CONTAINS(kr_last_error(), "noinit_init");
  ASSERT(!lib_is_loaded(noinit));
  ASSERT_EQ(probe.cleanup_calls, 0);
  expect_open_fails(host, tick, "other", 0, UV_ENOENT);
  ASSERT_STR_CONTAINS(kr_last_error(), "other_init");
  ASSERT(!lib_is_loaded(tick));
  ASSERT_EQ(probe.init_calls, 0);

  /* Bad names: not C identifiers. */
  expect_open_fails(host, tick, "", 0, UV_EINVAL);
  expect_open_fails(host, tick, "1tick", 0, UV_EINVAL);
  expect_open_fails(host, tick, "ti-ck", 0, UV_EINVAL);
  expect_open_fails(host, tick, "ti ck", 0, UV_EINVAL);
  expect_open_fails(host, tick, "tick/x", 0, UV_EINVAL);
  expect_open_fails(host, tick, "a0123456789012345678901234567890123456789012345678901234567890123",
                    0, UV_ENAMETOOLONG);
  /* Unknown flags. */
  expect_open_fails(host, tick, "tick", 0x100, UV_EINVAL);
  expect_open_fails(host, tick, "tick", KR_MODULE_PIN | 0x80000000u, UV_EINVAL);
  ASSERT_EQ(probe.init_calls, 0);
  ASSERT(!lib_is_loaded(tick));

  /* A module of that name is open: UV_EEXIST; the first one is intact. */
  kr_module_t *m = NULL;
  ASSERT_EQ(kr_module_open(host, tick, "tick", 0, &m), 0);
  ASSERT_EQ(probe.init_calls, 1);
  expect_open_fails(host, tick, "tick", 0, UV_EEXIST);
  expect_open_fails(host, noinit, "tick", 0, UV_EEXIST);
  /* The same library under another name: UV_EEXIST too. */
  expect_open_fails(host, tick, "tock", 0, UV_EEXIST);
  ASSERT_EQ(probe.init_calls, 1);
  ASSERT_PTR_EQ(kr_module_find(host, "tick"), m);
  ASSERT_EQ(kr_module_state(m), KR_MODULE_ACTIVE);
  ASSERT_EQ(kr_module_live_handles(m), 1);
  ASSERT_EQ(kr_host_free(host), UV_EBUSY);

  /* Second cleanup: UV_EALREADY, and the first one's done is kept. */
  ASSERT_EQ(kr_module_cleanup(m, probe_done_cb, &probe), 0);
  ASSERT_EQ(kr_module_cleanup(m, NULL, NULL), UV_EALREADY);
  ASSERT_EQ(kr_module_cleanup(m, probe_done_cb, &probe), UV_EALREADY);
  ASSERT_EQ(probe.cleanup_calls, 1);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(probe.done_calls, 1);
  ASSERT_EQ(probe.done_status, 0);
  ASSERT_EQ(probe.deinit_calls, 1);
  ASSERT(!lib_is_loaded(tick));
  ASSERT_NULL(kr_module_find(host, "tick"));

  /* The name is free again once the module is gone. */
  memset(&probe, 0, sizeof probe);
  probe.loop = &loop;
  m = NULL;
  ASSERT_EQ(kr_module_open(host, tick, "tick", KR_MODULE_PIN, &m), 0);
  ASSERT_EQ(probe.init_calls, 1);
  ASSERT_EQ(kr_module_cleanup(m, probe_done_cb, &probe), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(probe.done_calls, 1);
  ASSERT_EQ(probe.done_status, 0);
  ASSERT_EQ(probe.deinit_calls, 1);
  ASSERT_EQ(probe.close_cbs, 1);
  /* Pinned: still mapped after the protocol. */
  ASSERT(lib_is_loaded(tick));

  host_teardown(&loop, host);
  return 0;
}
