/* Module "selfclean": after probe.self_clean_after timer fires it asks for
 * its own unload from inside the timer callback, with the host's done
 * callback (probe.done_fn). */
#include "mod_common.h"

static uv_timer_t timer;
static uv_fs_t stat_req;

static void close_cb(uv_handle_t *h) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(h, &timer);
  probe.close_cbs++;
}

static void stat_cb(uv_fs_t *r) {
  MOD_CB_ENTER();
  probe.fs_cbs++;
  probe.fs_status = (int)r->result;
  uv_fs_req_cleanup(r);
}

static void timer_cb(uv_timer_t *t) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(t, &timer);
  ASSERT_EQ(kr_module_state(kr_uvshim_self), KR_MODULE_ACTIVE);
  probe.timer_fires++;
  if (probe.timer_fires == probe.self_clean_after) {
    /* A request still in flight when the unload starts. */
    ASSERT_EQ(uv_fs_stat(probe.loop, &stat_req, probe.path, stat_cb), 0);
    probe.cleanup_rc = kr_module_cleanup(kr_uvshim_self, probe.done_fn, probe.done_arg);
    /* cleanup ran inside; deinit and dlclose did not (we are still here). */
    ASSERT_EQ(probe.cleanup_calls, 1);
    ASSERT_EQ(probe.deinit_calls, 0);
    ASSERT_EQ(kr_module_state(kr_uvshim_self), KR_MODULE_CLEANING);
    probe.cleanup_again_rc = kr_module_cleanup(kr_uvshim_self, probe.done_fn, probe.done_arg);
    probe_step(kr_uvshim_self, 1);
  }
}

int selfclean_init(kr_module_t *m) {
  (void)m;
  probe.init_calls++;
  ASSERT_EQ(uv_timer_init(probe.loop, &timer), 0);
  ASSERT_EQ(uv_timer_start(&timer, timer_cb, 2, 2), 0);
  return 0;
}

int selfclean_cleanup(kr_module_t *m) {
  (void)m;
  MOD_CB_ENTER();
  probe.cleanup_calls++;
  /* Closing the timer from inside its own callback. */
  uv_close((uv_handle_t *)&timer, close_cb);
  return 0;
}

int selfclean_deinit(kr_module_t *m) {
  MOD_CB_ENTER();
  probe.deinit_calls++;
  probe.deinit_live_handles = kr_module_live_handles(m);
  probe.deinit_live_requests = kr_module_live_requests(m);
  return 0;
}
