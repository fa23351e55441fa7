/* Module "tick": one repeating timer; the plainest module there is. */
#include "mod_common.h"

static uv_timer_t timer;

static void timer_cb(uv_timer_t *t) { (void)t; MOD_CB_ENTER(); probe.timer_fires++; }
static void close_cb(uv_handle_t *h) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(h, &timer);
  probe.close_cbs++;
}

int tick_init(kr_module_t *m) {
  (void)m;
  probe.init_calls++;
  ASSERT_EQ(uv_timer_init(probe.loop, &timer), 0);
  ASSERT_EQ(uv_timer_start(&timer, timer_cb, 5, 5), 0);
  return 0;
}

int tick_cleanup(kr_module_t *m) {
  (void)m;
  probe.cleanup_calls++;
  uv_close((uv_handle_t *)&timer, close_cb);
  return 0;
}

int tick_deinit(kr_module_t *m) {
  MOD_CB_ENTER();
  probe.deinit_calls++;
  probe.deinit_live_handles = kr_module_live_handles(m);
  probe.deinit_live_requests = kr_module_live_requests(m);
  return 0;
}
