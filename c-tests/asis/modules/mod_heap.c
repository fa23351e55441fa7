/* mod_heap: plain <uv.h>, handles on the heap. The ticking timer is
 * malloc'd, its callback is in the module; cleanup closes it (and its own
 * heap closer) after aprobe.linger_ms with a close callback in the module
 * that frees them. It also mallocs a blob it lends to the host
 * (aprobe.heap_blob), which the host puts in the `data` of a host handle. */
#include <uv.h>
#include <string.h>
#include "../asis_probe.h"

static void check_alive(void) {
  if (aprobe.closed) aprobe.violations++;
}

static void on_close_free(uv_handle_t *h) {
  check_alive();
  aprobe.close_cbs++;
  free(h);
}

static void on_tick(uv_timer_t *t) {
  (void)t;
  check_alive();
  aprobe.timer_fires++;
}

static void close_all(uv_timer_t *closer) {
  check_alive();
  uv_close((uv_handle_t *)aprobe.heap_handle, on_close_free);
  uv_close((uv_handle_t *)closer, on_close_free);
  aprobe.closes_started += 2;
}

int heap_init(void *m) {
  (void)m;
  aprobe.init_calls++;
  uv_timer_t *t = malloc(sizeof *t);
  if (t == NULL) return UV_ENOMEM;
  aprobe.heap_handle = t;
  aprobe.heap_blob = malloc(64);
  if (aprobe.heap_blob == NULL) return UV_ENOMEM;
  memset(aprobe.heap_blob, 0x5a, 64);
  int rc = uv_timer_init(aprobe.loop, t);
  if (rc == 0) rc = uv_timer_start(t, on_tick, 5, 5);
  return rc;
}

int heap_cleanup(void *m) {
  (void)m;
  aprobe.cleanup_calls++;
  uv_timer_t *closer = malloc(sizeof *closer);
  if (closer == NULL) return UV_ENOMEM;
  int rc = uv_timer_init(aprobe.loop, closer);
  if (rc == 0) rc = uv_timer_start(closer, close_all, (uint64_t)aprobe.linger_ms, 0);
  return rc;
}

int heap_deinit(void *m) {
  (void)m;
  check_alive();
  aprobe.deinit_calls++;
  return 0;
}
