/* Module "linger": its cleanup needs 500 ms (a timer it starts then), and
 * closes everything when that fires. */
#include "mod_common.h"

static uv_timer_t timer, linger;

static void timer_cb(uv_timer_t *t) { (void)t; MOD_CB_ENTER(); probe.timer_fires++; }
static void close_cb(uv_handle_t *h) {
  MOD_CB_ENTER();
  ASSERT(h == (uv_handle_t *)&timer || h == (uv_handle_t *)&linger);
  probe.close_cbs++;
}

static void linger_cb(uv_timer_t *t) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(t, &linger);
  probe.fs_cbs++; /* "the lingering work finished" */
  uv_close((uv_handle_t *)&linger, close_cb);
}

int linger_init(kr_module_t *m) {
  (void)m;
  probe.init_calls++;
  ASSERT_EQ(uv_timer_init(probe.loop, &timer), 0);
  ASSERT_EQ(uv_timer_start(&timer, timer_cb, 1000, 1000), 0);
  return 0;
}

int linger_cleanup(kr_module_t *m) {
  probe.cleanup_calls++;
  uv_close((uv_handle_t *)&timer, close_cb);
  ASSERT_EQ(uv_timer_init(probe.loop, &linger), 0);
  ASSERT_EQ(uv_timer_start(&linger, linger_cb, 500, 0), 0);
  ASSERT_EQ(kr_module_live_handles(m), 2);
  return 0;
}

int linger_deinit(kr_module_t *m) {
  MOD_CB_ENTER();
  probe.deinit_calls++;
  probe.deinit_live_handles = kr_module_live_handles(m);
  probe.deinit_live_requests = kr_module_live_requests(m);
  return 0;
}
