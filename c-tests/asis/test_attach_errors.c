/* kr_module_attach failures and the host's reference to the library.
 *
 * The shim takes over the reference it is given, so a refused attach must
 * close it: the library, dlopen()ed once by the test, is unmapped after
 *   - a bad name ("1x")                     -> UV_EINVAL,
 *   - a NULL out                            -> UV_EINVAL,
 *   - an attach during a running shutdown   -> UV_ECANCELED
 * and init never ran (*out is left alone). The one exception: a handle
 * that already belongs to a module (the same pointer) -> UV_EEXIST, and
 * the reference is left alone, so the module keeps working: its timer
 * still fires, and its cleanup later ends with done 0 and the library
 * unmapped (the shim closed the one reference exactly once). Also with a
 * second reference of the host's own (dlopen again: the same pointer),
 * which the host then closes itself, as the header says. */
#include "asis_host.h"

static uv_loop_t loop;
static kr_host_t *host;
static struct host_timer during;
static kr_blocker_t *hold;
static int attach_rc_during = 1, loaded_after_during = -1, init_calls_during = -1;
static kr_module_t *m_during = (kr_module_t *)0x1;
static int sd_done_calls, sd_done_status = 1;

static void run_until_fires(int n) {
  while (aprobe.timer_fires < n) ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);
}

static void refused_closes(const char *path, const char *name, int with_out, int expect) {
  kr_module_t *m = (kr_module_t *)0x1;
  int inits = aprobe.init_calls;
  ASSERT_EQ(lib_is_loaded(path), 0);
  void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NOT_NULL(dl);
  ASSERT_EQ(lib_is_loaded(path), 1);
  int rc = kr_module_attach(host, dl, name, 0, with_out ? &m : NULL);
  fprintf(stderr, "attach(\"%s\", out %s): %d (%s)\n", name, with_out ? "set" : "NULL", rc, kr_last_error());
  ASSERT_EQ(rc, expect);
  ASSERT_PTR_EQ(m, (kr_module_t *)0x1);
  ASSERT_EQ(aprobe.init_calls, inits);
  ASSERT_EQ(lib_is_loaded(path), 0); /* the shim closed the reference */
}

static void hold_trigger(kr_blocker_t *b, void *arg) {
  (void)arg;
  hold = b;
}

/* 20 ms into the shutdown (phase "hold" still running). */
static void during_fn(void *arg) {
  const char *path = (const char *)arg;
  ASSERT_EQ(lib_is_loaded(path), 0);
  void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NOT_NULL(dl);
  attach_rc_during = kr_module_attach(host, dl, "plain", 0, &m_during);
  fprintf(stderr, "attach during the shutdown: %d (%s)\n", attach_rc_during, kr_last_error());
  loaded_after_during = lib_is_loaded(path);
  init_calls_during = aprobe.init_calls;
  ASSERT_EQ(kr_blocker_done(hold), 0);
}

static void on_shutdown_done(kr_host_t *h, int status, void *arg) {
  ASSERT_PTR_EQ(h, host);
  (void)arg;
  sd_done_calls++;
  sd_done_status = status;
}

int main(void) {
  host_setup(&loop, &host);
  aprobe.linger_ms = 20;
  const char *path = mod_path("plain");

  /* ---- refused: the reference is closed ---- */
  refused_closes(path, "1x", 1, UV_EINVAL);
  refused_closes(path, "plain", 0, UV_EINVAL);
  ASSERT_EQ(aprobe.init_calls, 0);
  ASSERT_NULL(kr_module_find(host, "plain"));

  /* ---- EEXIST: the module's own reference is left alone ---- */
  void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NOT_NULL(dl);
  kr_module_t *m = NULL, *m2 = (kr_module_t *)0x1;
  ASSERT_EQ(kr_module_attach(host, dl, "plain", 0, &m), 0);
  ASSERT_NOT_NULL(m);
  ASSERT_EQ(aprobe.init_calls, 1);
  run_until_fires(2);

  /* the same pointer, no extra reference: must not be closed */
  ASSERT_EQ(kr_module_attach(host, dl, "plain2", 0, &m2), UV_EEXIST);
  ASSERT_PTR_EQ(m2, (kr_module_t *)0x1);
  ASSERT_EQ(kr_module_attach(host, dl, "plain", 0, &m2), UV_EEXIST);
  ASSERT_PTR_EQ(m2, (kr_module_t *)0x1);
  ASSERT_EQ(lib_is_loaded(path), 1);
  ASSERT_EQ(kr_module_state(m), KR_MODULE_ACTIVE);
  int fires = aprobe.timer_fires;
  run_until_fires(fires + 2); /* it still serves */

  /* the host dlopen()s it again (the same pointer), is refused, and
   * closes its extra reference itself */
  void *again = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  ASSERT_PTR_EQ(again, dl);
  ASSERT_EQ(kr_module_attach(host, again, "plain3", 0, &m2), UV_EEXIST);
  ASSERT_PTR_EQ(m2, (kr_module_t *)0x1);
  ASSERT_EQ(dlclose(again), 0);
  ASSERT_EQ(lib_is_loaded(path), 1);
  fires = aprobe.timer_fires;
  run_until_fires(fires + 2);
  ASSERT_EQ(aprobe.init_calls, 1);
  ASSERT_EQ(aprobe.violations, 0);

  ASSERT_EQ(kr_module_cleanup(m, asis_done, &aprobe), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(aprobe.done_calls, 1);
  ASSERT_EQ(aprobe.done_status, 0);
  ASSERT_EQ(aprobe.deinit_calls, 1);
  ASSERT_EQ(aprobe.close_cbs, 2);
  ASSERT_EQ(aprobe.violations, 0);
  ASSERT_EQ(lib_is_loaded(path), 0); /* the one reference, closed once */
  ASSERT_NULL(kr_module_find(host, "plain"));

  /* ---- refused during a running shutdown: the reference is closed ---- */
  kr_phase_t *p;
  ASSERT_EQ(kr_phase_new(host, "hold", &p), 0);
  ASSERT_EQ(kr_phase_add_blocker(p, "hold", hold_trigger, NULL, NULL, NULL), 0);
  host_after(&loop, &during, 20, during_fn, (void *)path);
  ASSERT_EQ(kr_host_shutdown(host, NULL, on_shutdown_done, NULL), 0);
  ASSERT_NOT_NULL(hold);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(attach_rc_during, UV_ECANCELED);
  ASSERT_PTR_EQ(m_during, (kr_module_t *)0x1);
  ASSERT_EQ(init_calls_during, 1); /* no init */
  ASSERT_EQ(loaded_after_during, 0);
  ASSERT_EQ(lib_is_loaded(path), 0);
  ASSERT_EQ(sd_done_calls, 1);
  ASSERT_EQ(sd_done_status, 0);

  host_teardown(&loop, host);
  printf("ok: refused attach closes the reference (EINVAL, ECANCELED); EEXIST leaves it\n");
  return 0;
}
