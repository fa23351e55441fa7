/* Issue 5, test 4: reload under load. v1 (compat header) serves (a tracked
 * timer counting its ticks); its cleanup stops serving and lingers 200 ms.
 * Right after cleanup the same path and name are opened again: the new
 * instance is found by name, has its own statics (private copy) and its
 * own accounting, serves while the old drains; then the old one's done
 * fires; finally the new one is unloaded. */
#include "asis_host.h"

static uv_loop_t loop;
static kr_host_t *host;
static kr_module_t *v1, *v2;
static struct host_timer mid;
static int mid_checked;
static int new_ticks_at_old_done = -1;
static int old_done, new_done, old_status = 1, new_status = 1;

#define LINGER_MS 200

static void on_done_old(kr_host_t *h, const char *name, int status, void *arg) {
  ASSERT_PTR_EQ(h, host);
  ASSERT_PTR_EQ(arg, &aprobe.inst[0]);
  ASSERT_STR_EQ(name, "rl");
  ASSERT_EQ(old_done, 0);
  ASSERT_EQ(new_done, 0);
  ASSERT_EQ(mid_checked, 1);
  /* the old one drained fully: its two close callbacks ran, deinit once */
  ASSERT_EQ(aprobe.inst[0].close_cbs, 2);
  ASSERT_EQ(aprobe.inst[0].deinit_calls, 1);
  /* the new one is untouched and still serving */
  ASSERT_EQ(kr_module_state(v2), KR_MODULE_ACTIVE);
  ASSERT_PTR_EQ(kr_module_find(host, "rl"), v2);
  ASSERT_EQ(kr_module_live_handles(v2), 1);
  ASSERT_EQ(aprobe.inst[1].close_cbs, 0);
  new_ticks_at_old_done = aprobe.inst[1].ticks;
  old_done = 1;
  old_status = status;
  aprobe.inst[0].closed = 1;
}

static void on_done_new(kr_host_t *h, const char *name, int status, void *arg) {
  ASSERT_PTR_EQ(h, host);
  ASSERT_PTR_EQ(arg, &aprobe.inst[1]);
  ASSERT_STR_EQ(name, "rl");
  ASSERT_EQ(old_done, 1);
  ASSERT_EQ(aprobe.inst[1].close_cbs, 2);
  ASSERT_EQ(aprobe.inst[1].deinit_calls, 1);
  new_done = 1;
  new_status = status;
  aprobe.inst[1].closed = 1;
}

/* Half-way through the old one's linger: both are there, counted apart,
 * and only the new one serves. */
static void mid_fn(void *arg) {
  (void)arg;
  ASSERT_EQ(old_done, 0);
  ASSERT_EQ(kr_module_state(v1), KR_MODULE_CLEANING);
  ASSERT_EQ(kr_module_state(v2), KR_MODULE_ACTIVE);
  ASSERT_EQ(kr_module_live_handles(v1), 2); /* stopped tick + linger */
  ASSERT_EQ(kr_module_live_handles(v2), 1); /* its tick */
  ASSERT_GE(aprobe.inst[1].ticks, 1);
  ASSERT_EQ(aprobe.inst[0].ticks_after_cleanup, 0);
  ASSERT_PTR_EQ(kr_module_find(host, "rl"), v2);
  int l1 = -1, l2 = -1;
  char *d1 = dump_of(v1, &l1), *d2 = dump_of(v2, &l2);
  ASSERT_EQ(l1, 2);
  ASSERT_EQ(l2, 1);
  ASSERT(strstr(d1, "untracked") == NULL);
  ASSERT(strstr(d2, "untracked") == NULL);
  free(d1);
  free(d2);
  mid_checked = 1;
}

int main(void) {
  host_setup(&loop, &host);
  aprobe.linger_ms = LINGER_MS;
  const char *path = mod_path("reload");

  ASSERT_EQ(kr_module_open(host, path, "rl", 0, &v1), 0);
  ASSERT_EQ(aprobe.ninst, 1);
  ASSERT_PTR_EQ(aprobe.inst[0].m, v1);
  ASSERT_EQ(aprobe.inst[0].idx_at_init, -1);
  ASSERT_EQ(aprobe.inst[0].static_at_init, 0);
  /* while v1 is active the name is taken */
  kr_module_t *x = NULL;
  ASSERT_EQ(kr_module_open(host, path, "rl", 0, &x), UV_EEXIST);
  ASSERT_EQ(aprobe.ninst, 1);

  while (aprobe.inst[0].ticks < 5) ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);
  int v1_ticks = aprobe.inst[0].ticks;

  ASSERT_EQ(kr_module_cleanup(v1, on_done_old, &aprobe.inst[0]), 0);
  ASSERT_EQ(kr_module_open(host, path, "rl", 0, &v2), 0);
  ASSERT_NOT_NULL(v2);
  ASSERT(v1 != v2);
  ASSERT_EQ(aprobe.ninst, 2);
  ASSERT_PTR_EQ(aprobe.inst[1].m, v2);
  ASSERT_PTR_EQ(kr_module_find(host, "rl"), v2);
  /* own statics: a fresh copy, not the old instance's */
  ASSERT_EQ(aprobe.inst[1].idx_at_init, -1);
  ASSERT_EQ(aprobe.inst[1].static_at_init, 0);
  ASSERT(aprobe.inst[0].static_addr != aprobe.inst[1].static_addr);
  /* own accounting */
  ASSERT_EQ(kr_module_live_handles(v1), 2);
  ASSERT_EQ(kr_module_live_handles(v2), 1);
  ASSERT_STR_EQ(kr_module_name(v1), "rl");
  ASSERT_STR_EQ(kr_module_name(v2), "rl");

  host_after(&loop, &mid, LINGER_MS / 2, mid_fn, NULL);
  while (!old_done) ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);

  ASSERT_EQ(old_status, 0);
  ASSERT_EQ(aprobe.inst[0].ticks, v1_ticks); /* v1 stopped serving at cleanup */
  ASSERT_EQ(aprobe.inst[0].ticks_after_cleanup, 0);
  ASSERT_GE(new_ticks_at_old_done, 2);       /* v2 served during the drain */
  /* the original mapping is gone; the new instance lives in its copy */
  ASSERT_EQ(lib_is_loaded(path), 0);

  /* v2 keeps serving after the old one is gone */
  while (aprobe.inst[1].ticks < new_ticks_at_old_done + 3) ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);

  aprobe.linger_ms = 20;
  ASSERT_EQ(kr_module_cleanup(v2, on_done_new, &aprobe.inst[1]), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(new_done, 1);
  ASSERT_EQ(new_status, 0);
  ASSERT_EQ(aprobe.violations, 0);
  ASSERT_NULL(kr_module_find(host, "rl"));
  host_teardown(&loop, host);
  printf("ok: reload: old drained (%d ticks, none after cleanup) while new served (%d ticks by then)\n",
         v1_ticks, new_ticks_at_old_done);
  return 0;
}
