/* Issue 5, test 3d: kr_module_register with ops in the host and a live
 * tracked timer: the full protocol (init, cleanup, wait for the timer,
 * deinit, done 0), and nothing is ever dlclose()d. */
#define ASIS_COUNT_DLCLOSE
#include "asis_host.h"

static uv_loop_t loop;
static kr_host_t *host;
static kr_module_t *reg;
static uv_timer_t tick, closer;
static int data_tag;
static size_t live_at_deinit = 99;

static void on_close(uv_handle_t *h) {
  (void)h;
  ASSERT_EQ(aprobe.closed, 0);
  aprobe.close_cbs++;
}
static void on_tick(uv_timer_t *t) { (void)t; aprobe.timer_fires++; }
static void close_all(uv_timer_t *t) {
  (void)t;
  kr_uv_close((uv_handle_t *)&tick, on_close);
  kr_uv_close((uv_handle_t *)&closer, on_close);
}

static int b_init(kr_module_t *m) {
  aprobe.init_calls++;
  ASSERT_PTR_EQ(kr_module_data(m), &data_tag);
  reg = m;
  int rc = kr_uv_timer_init(m, &loop, &tick);
  if (rc == 0) rc = uv_timer_start(&tick, on_tick, 5, 5);
  return rc;
}
static int b_cleanup(kr_module_t *m) {
  aprobe.cleanup_calls++;
  ASSERT_EQ(kr_module_state(m), KR_MODULE_CLEANING);
  int rc = kr_uv_timer_init(m, &loop, &closer);
  if (rc == 0) rc = uv_timer_start(&closer, close_all, 40, 0);
  return rc;
}
static int b_deinit(kr_module_t *m) {
  aprobe.deinit_calls++;
  live_at_deinit = kr_module_live_handles(m);
  return 0;
}

int main(void) {
  host_setup(&loop, &host);
  kr_module_ops_t ops = {b_init, b_cleanup, b_deinit};
  kr_module_t *m = NULL;
  dlclose_calls = dlclose_other_calls = 0;
  ASSERT_EQ(kr_module_register(host, "builtin", &ops, &data_tag, &m), 0);
  ASSERT_NOT_NULL(m);
  ASSERT_PTR_EQ(m, reg);
  ASSERT_EQ(aprobe.init_calls, 1);
  ASSERT_STR_EQ(kr_module_name(m), "builtin");
  ASSERT_EQ(kr_module_state(m), KR_MODULE_ACTIVE);
  ASSERT_PTR_EQ(kr_module_find(host, "builtin"), m);
  ASSERT_EQ(kr_module_live_handles(m), 1);
  ASSERT_EQ(kr_module_register(host, "builtin", &ops, NULL, &m), UV_EEXIST);
  ASSERT_EQ(aprobe.init_calls, 1);
  while (aprobe.timer_fires < 2) ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);

  int lines = -1;
  char *d = dump_of(m, &lines);
  ASSERT_EQ(lines, 1);
  ASSERT_STR_CONTAINS(d, "tracked");
  ASSERT(strstr(d, "untracked") == NULL);
  free(d);

  ASSERT_EQ(kr_module_cleanup(m, asis_done, &aprobe), 0);
  ASSERT_EQ(aprobe.cleanup_calls, 1);
  ASSERT_EQ(kr_module_live_handles(m), 2);
  ASSERT_EQ(aprobe.deinit_calls, 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);

  ASSERT_EQ(aprobe.done_calls, 1);
  ASSERT_EQ(aprobe.done_status, 0);
  ASSERT_EQ(aprobe.deinit_calls, 1);
  ASSERT_EQ(live_at_deinit, 0);
  ASSERT_EQ(aprobe.close_cbs, 2);
  ASSERT_EQ(dlclose_calls + dlclose_other_calls, 0); /* never dlclose()d */
  ASSERT_NULL(kr_module_find(host, "builtin"));
  host_teardown(&loop, host);
  printf("ok: registered module: full protocol, done 0, no dlclose\n");
  return 0;
}
