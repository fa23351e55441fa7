/* Issue 5, test 2: a raw handle on the module's heap whose callback is in
 * the module defers dlclose until it is closed; a host handle (host memory,
 * host callback) whose `data` merely points at the module's heap does not:
 * the module unloads while the host handle stays open. */
#include "asis_host.h"

static uv_loop_t loop;
static kr_host_t *host;
static kr_module_t *m;
static uv_timer_t host_h;      /* host memory, host callback */
static int host_ticks, host_ticks_after_done, host_h_closed;
static struct host_timer during;
static int during_checked;

#define LINGER_MS 150

static void host_tick(uv_timer_t *t) {
  ASSERT_PTR_EQ(t->data, aprobe.heap_blob);
  host_ticks++;
  if (aprobe.done_calls) {
    host_ticks_after_done++;
    if (host_ticks_after_done == 3) {
      /* the module has been gone a while; the host's handle still works */
      ASSERT_EQ(((unsigned char *)t->data)[0], 0x5a);
      uv_close((uv_handle_t *)t, NULL);
      host_h_closed = 1;
    }
  }
}

static void on_done(kr_host_t *h, const char *name, int status, void *arg) {
  ASSERT_PTR_EQ(h, host);
  ASSERT_PTR_EQ(arg, &aprobe);
  ASSERT_STR_EQ(name, "heap");
  ASSERT_EQ(aprobe.done_calls, 0);
  /* the heap handle deferred dlclose until its module close callback ran */
  ASSERT_EQ(aprobe.closes_started, 2);
  ASSERT_EQ(aprobe.close_cbs, 2);
  ASSERT_EQ(during_checked, 1);
  /* the host handle pointing at the module's heap did not defer it */
  ASSERT_EQ(uv_is_active((uv_handle_t *)&host_h), 1);
  ASSERT_EQ(uv_is_closing((uv_handle_t *)&host_h), 0);
  ASSERT_EQ(lib_is_loaded(mod_path("heap")), 0);
  aprobe.done_calls++;
  aprobe.done_status = status;
  aprobe.closed = 1;
}

static void during_fn(void *arg) {
  (void)arg;
  ASSERT_EQ(aprobe.close_cbs, 0);
  ASSERT_EQ(aprobe.done_calls, 0);
  ASSERT_EQ(lib_is_loaded(mod_path("heap")), 1);
  size_t live = kr_module_live_handles(m);
  fprintf(stderr, "live handles during the wait: %zu\n", live);
  /* the heap tick timer and the heap closer: found by their callbacks;
   * not the host's handle */
  ASSERT_EQ(live, 2);
  int lines = -1;
  char *d = dump_of(m, &lines);
  ASSERT_EQ(lines, 2);
  ASSERT_EQ(count_substr(d, "untracked"), 2);
  ASSERT_STR_CONTAINS(d, "timer_cb");
  ASSERT(strstr(d, "(memory)") == NULL);
  char addr[32];
  snprintf(addr, sizeof addr, "%p", aprobe.heap_handle);
  ASSERT_STR_CONTAINS(d, addr);
  snprintf(addr, sizeof addr, "%p", (void *)&host_h);
  ASSERT(strstr(d, addr) == NULL);
  free(d);
  during_checked = 1;
}

int main(void) {
  host_setup(&loop, &host);
  aprobe.linger_ms = LINGER_MS;
  ASSERT_EQ(kr_module_open(host, mod_path("heap"), "heap", 0, &m), 0);
  ASSERT_EQ(aprobe.init_calls, 1);
  ASSERT_NOT_NULL(aprobe.heap_blob);
  ASSERT_NOT_NULL(aprobe.heap_handle);

  ASSERT_EQ(uv_timer_init(&loop, &host_h), 0);
  host_h.data = aprobe.heap_blob;
  ASSERT_EQ(uv_timer_start(&host_h, host_tick, 5, 5), 0);

  while (aprobe.timer_fires < 2 || host_ticks < 2) ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);

  ASSERT_EQ(kr_module_cleanup(m, on_done, &aprobe), 0);
  host_after(&loop, &during, LINGER_MS / 3, during_fn, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);

  ASSERT_EQ(aprobe.done_calls, 1);
  ASSERT_EQ(aprobe.done_status, 0);
  ASSERT_EQ(aprobe.deinit_calls, 1);
  ASSERT_EQ(aprobe.violations, 0);
  ASSERT_EQ(host_h_closed, 1);
  ASSERT_EQ(host_ticks_after_done, 3);
  ASSERT_EQ(lib_is_loaded(mod_path("heap")), 0);
  free(aprobe.heap_blob); /* the module lent it; the host owns it now */
  host_teardown(&loop, host);
  printf("ok: heap handle deferred dlclose; host handle with data into the module heap did not\n");
  return 0;
}
