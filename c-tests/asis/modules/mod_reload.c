/* mod_reload (name "rl"): a compat-header module that serves: a tracked
 * timer counting ticks of this instance into aprobe.inst[idx]. `idx` and
 * `ticks` are statics: a private copy must start them afresh. Cleanup stops
 * serving and lingers aprobe.linger_ms with a second timer before closing. */
#include "kr_uvshim_compat.h"
#include "../asis_probe.h"

static int idx = -1;
static int ticks;
static uv_timer_t tick;
static uv_timer_t linger;

static void check_alive(void) {
  if (idx < 0 || aprobe.inst[idx].closed) {
    aprobe.violations++;
    if (idx >= 0) aprobe.inst[idx].violations++;
  }
}
static void on_close(uv_handle_t *h) {
  (void)h;
  check_alive();
  aprobe.inst[idx].close_cbs++;
}
static void on_tick(uv_timer_t *t) {
  (void)t;
  check_alive();
  ticks++;
  aprobe.inst[idx].ticks = ticks;
  if (aprobe.inst[idx].cleaning) aprobe.inst[idx].ticks_after_cleanup++;
}
static void on_linger(uv_timer_t *t) {
  (void)t;
  check_alive();
  uv_close((uv_handle_t *)&tick, on_close);
  uv_close((uv_handle_t *)&linger, on_close);
}

int rl_init(kr_module_t *m) {
  if (aprobe.ninst >= ASIS_MAX_INST) return UV_ENOSPC;
  int i = aprobe.ninst++;
  aprobe.inst[i].idx_at_init = idx;
  aprobe.inst[i].static_at_init = ticks;
  aprobe.inst[i].static_addr = &ticks;
  aprobe.inst[i].m = m;
  idx = i;
  int rc = uv_timer_init(aprobe.loop, &tick);
  if (rc == 0) rc = uv_timer_start(&tick, on_tick, 5, 5);
  return rc;
}
int rl_cleanup(kr_module_t *m) {
  (void)m;
  check_alive();
  aprobe.inst[idx].cleaning = 1;
  uv_timer_stop(&tick); /* stop serving; the handle stays open while lingering */
  int rc = uv_timer_init(aprobe.loop, &linger);
  if (rc == 0) rc = uv_timer_start(&linger, on_linger, (uint64_t)aprobe.linger_ms, 0);
  return rc;
}
int rl_deinit(kr_module_t *m) {
  (void)m;
  check_alive();
  aprobe.inst[idx].deinit_calls++;
  return 0;
}
