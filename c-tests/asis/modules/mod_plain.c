/* mod_plain: a well-behaved module (compat header) for attach and pin: a
 * tracked ticking timer; cleanup closes it after aprobe.linger_ms. */
#include "kr_uvshim_compat.h"
#include "../asis_probe.h"

static uv_timer_t tick;
static uv_timer_t closer;

static void check_alive(void) {
  if (aprobe.closed) aprobe.violations++;
}
static void on_close(uv_handle_t *h) {
  (void)h;
  check_alive();
  aprobe.close_cbs++;
}
static void on_tick(uv_timer_t *t) {
  (void)t;
  check_alive();
  aprobe.timer_fires++;
}
static void close_all(uv_timer_t *t) {
  (void)t;
  check_alive();
  uv_close((uv_handle_t *)&tick, on_close);
  uv_close((uv_handle_t *)&closer, on_close);
  aprobe.closes_started += 2;
}

int plain_init(kr_module_t *m) {
  (void)m;
  aprobe.init_calls++;
  int rc = uv_timer_init(aprobe.loop, &tick);
  if (rc == 0) rc = uv_timer_start(&tick, on_tick, 5, 5);
  return rc;
}
int plain_cleanup(kr_module_t *m) {
  (void)m;
  aprobe.cleanup_calls++;
  int rc = uv_timer_init(aprobe.loop, &closer);
  if (rc == 0) rc = uv_timer_start(&closer, close_all, (uint64_t)aprobe.linger_ms, 0);
  return rc;
}
int plain_deinit(kr_module_t *m) {
  (void)m;
  check_alive();
  aprobe.deinit_calls++;
  return 0;
}
