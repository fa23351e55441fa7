/* FORCE on a module built against plain <uv.h> (no compat header: the
 * ledger sees nothing it does) that leaves an ACTIVE repeating timer it
 * never closes (mod_rawstuck). The watchdog must abandon it and the shim
 * must close that untracked timer itself, with its own close callback:
 *
 *   - done gets UV_ETIMEDOUT, the module is KR_MODULE_ABANDONED;
 *   - uv_run RETURNS by itself (a guard timer, unref'd so that it keeps
 *     nothing alive, fails the test if the loop is still running at 3 s);
 *   - no module code runs after the abandonment: the timer's fire count
 *     stops where it was at done, the module's callbacks see
 *     aprobe.closed == 1 never (violations 0);
 *   - the library stays mapped (dlopen RTLD_NOLOAD non-NULL).
 *
 * Case 1: kr_module_cleanup_ex(m, {warn 20, timeout 100, FORCE}).
 * Case 2: the same through kr_host_shutdown(host, {20, 100, FORCE}). Case
 * 1's library stays mapped for good, so case 2 opens a copy of the file
 * (another path: a library of its own, with its own static timer). */
#include "asis_host.h"

static uv_loop_t loop;
static kr_host_t *host;
static kr_module_t *m;
/* Abandoned modules are never freed ("their code may still run"); the
 * library keeps them reachable for the life of the process, so the valgrind
 * pass would report one as definitely lost if it did not. The test keeps no
 * pointer of its own after each case. */
static uv_timer_t guard;
static int fires_at_done = -1, state_at_done = -1;
static int sd_done_calls, sd_done_status = 1;
static uint64_t t_start, t_done;

static void guard_fire(uv_timer_t *t) {
  (void)t;
  fprintf(stderr, "timer fires %d, done calls %d, state %d\n", aprobe.timer_fires, aprobe.done_calls,
          (int)kr_module_state(m));
  KR_TEST_FAIL_("%s", "uv_run still running 3 s after FORCE: the untracked timer was not closed");
}

static void guard_start(void) {
  ASSERT_EQ(uv_timer_init(&loop, &guard), 0);
  ASSERT_EQ(uv_timer_start(&guard, guard_fire, 3000, 0), 0);
  uv_unref((uv_handle_t *)&guard);
}

/* After uv_run returned: the module's timer is closed, nothing of it runs. */
static void after_run(const char *path) {
  ASSERT_EQ(kr_module_state(m), KR_MODULE_ABANDONED);
  ASSERT_EQ(fires_at_done, aprobe.timer_fires); /* stopped at the abandonment */
  ASSERT_EQ(aprobe.violations, 0);
  ASSERT_EQ(aprobe.close_cbs, 0); /* the module has no close callback; nothing called into it */
  ASSERT_EQ(lib_is_loaded(path), 1);
  uv_close((uv_handle_t *)&guard, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(uv_loop_alive(&loop), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 0);
  ASSERT_EQ(fires_at_done, aprobe.timer_fires);
  ASSERT_EQ(aprobe.violations, 0);
  char *rep = report_of(host);
  ASSERT_STR_CONTAINS(rep, "abandoned");
  kr_free(rep);
  fprintf(stderr, "fires %d, cleanup %d, deinit %d\n", aprobe.timer_fires, aprobe.cleanup_calls,
          aprobe.deinit_calls);
}

/* ---- case 1: kr_module_cleanup_ex ------------------------------------- */
static void on_module_done(kr_host_t *h, const char *name, int status, void *arg) {
  ASSERT_PTR_EQ(h, host);
  ASSERT_PTR_EQ(arg, &aprobe);
  ASSERT_STR_EQ(name, "rawstuck");
  ASSERT_EQ(aprobe.done_calls, 0);
  aprobe.done_calls++;
  aprobe.done_status = status;
  t_done = uv_now(&loop);
  state_at_done = (int)kr_module_state(m);
  fires_at_done = aprobe.timer_fires;
  aprobe.closed = 1; /* any module code from now on is a violation */
}

static void case_cleanup_ex(void) {
  const char *path = mod_path("rawstuck");
  host_setup(&loop, &host);
  ASSERT_EQ(kr_module_open(host, path, "rawstuck", 0, &m), 0);
  ASSERT_EQ(aprobe.init_calls, 1);
  ASSERT_EQ(kr_module_live_handles(m), 0); /* untracked */
  while (aprobe.timer_fires < 3) ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);

  kr_shutdown_opts_t o;
  ASSERT_EQ(kr_shutdown_opts_init(&o), 0);
  o.warn_ms = 20;
  o.timeout_ms = 100;
  o.on_timeout = KR_ON_TIMEOUT_FORCE;
  guard_start();
  uv_update_time(&loop);
  t_start = uv_now(&loop);
  ASSERT_EQ(kr_module_cleanup_ex(m, &o, on_module_done, &aprobe), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0); /* returns by itself */

  ASSERT_EQ(aprobe.done_calls, 1);
  ASSERT_EQ(aprobe.done_status, UV_ETIMEDOUT);
  ASSERT_EQ(state_at_done, KR_MODULE_ABANDONED);
  ASSERT_GE(t_done - t_start, 95);
  ASSERT_EQ(aprobe.cleanup_calls, 1);
  ASSERT_GT(fires_at_done, 3); /* it kept ticking until the timeout */
  after_run(path);
  m = NULL;
  host_teardown(&loop, host);
  ASSERT_EQ(lib_is_loaded(path), 1); /* abandoned: never dlclosed */
}

/* ---- case 2: kr_host_shutdown ----------------------------------------- */
static void on_shutdown_done(kr_host_t *h, int status, void *arg) {
  ASSERT_PTR_EQ(h, host);
  ASSERT_PTR_EQ(arg, &sd_done_calls);
  sd_done_calls++;
  sd_done_status = status;
  t_done = uv_now(&loop);
  state_at_done = (int)kr_module_state(m);
  fires_at_done = aprobe.timer_fires;
  aprobe.closed = 1;
}

/* Copies the module to a new file: dlopen maps it as another library. */
static void copy_file(const char *from, char *to_tpl) {
  int out = mkstemps(to_tpl, 3);
  ASSERT_GE(out, 0);
  FILE *in = fopen(from, "rb");
  ASSERT_NOT_NULL(in);
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0) ASSERT_EQ(write(out, buf, n), (ssize_t)n);
  ASSERT_EQ(fclose(in), 0);
  ASSERT_EQ(close(out), 0);
}

static void case_host_shutdown(void) {
  char path[] = "/tmp/kr_asis_rawstuck_XXXXXX.so";
  copy_file(mod_path("rawstuck"), path);
  ASSERT_EQ(lib_is_loaded(path), 0);
  host_setup(&loop, &host);
  fires_at_done = state_at_done = -1;
  ASSERT_EQ(kr_module_open(host, path, "rawstuck", 0, &m), 0);
  ASSERT_EQ(aprobe.init_calls, 1);
  while (aprobe.timer_fires < 3) ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);

  kr_shutdown_opts_t o;
  ASSERT_EQ(kr_shutdown_opts_init(&o), 0);
  o.warn_ms = 20;
  o.timeout_ms = 100;
  o.on_timeout = KR_ON_TIMEOUT_FORCE;
  guard_start();
  uv_update_time(&loop);
  t_start = uv_now(&loop);
  ASSERT_EQ(kr_host_shutdown(host, &o, on_shutdown_done, &sd_done_calls), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0); /* returns by itself */

  ASSERT_EQ(sd_done_calls, 1);
  ASSERT_EQ(sd_done_status, UV_ETIMEDOUT);
  ASSERT_EQ(state_at_done, KR_MODULE_ABANDONED);
  ASSERT_GE(t_done - t_start, 95);
  ASSERT_EQ(aprobe.cleanup_calls, 1);
  ASSERT_GT(fires_at_done, 3);
  after_run(path);
  m = NULL;
  host_teardown(&loop, host);
  ASSERT_EQ(lib_is_loaded(path), 1);
  ASSERT_EQ(unlink(path), 0); /* the mapping outlives the name */
}

int main(void) {
  case_cleanup_ex();
  case_host_shutdown();
  printf("ok: FORCE closes an untracked active timer; done ETIMEDOUT, abandoned, uv_run returns, still mapped\n");
  return 0;
}
