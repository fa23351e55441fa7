/* Test 11: a module built into the host (kr_module_register with ops):
 * same accounting and cleanup protocol with a live repeating timer and a
 * request in flight, nothing to dlclose, done with status 0. */
#include "harness.h"

static uv_timer_t timer;
static uv_timer_t host_timer;
static uv_work_t work;
static kr_module_t *self;
static int data_cookie;

static void timer_cb(uv_timer_t *t) {
  ASSERT_PTR_EQ(t, &timer);
  ASSERT_EQ(probe.closed, 0);
  probe.timer_fires++;
}
static void close_cb(uv_handle_t *h) {
  ASSERT_PTR_EQ(h, &timer);
  ASSERT_EQ(probe.closed, 0);
  probe_step(self, 3); /* 1 handle (itself), 0 or 1 request */
  probe.close_cbs++;
}
static void work_cb(uv_work_t *r) { (void)r; usleep(20 * 1000); }
static void after_work_cb(uv_work_t *r, int status) {
  ASSERT_PTR_EQ(r, &work);
  ASSERT_EQ(probe.closed, 0);
  probe.after_work_cbs++;
  probe.after_work_status = status;
}

static int reg_init(kr_module_t *m) {
  self = m;
  probe.init_calls++;
  ASSERT_EQ(kr_module_state(m), KR_MODULE_LOADING);
  ASSERT_PTR_EQ(kr_module_data(m), &data_cookie);
  ASSERT_EQ(kr_uv_timer_init(m, probe.loop, &timer), 0);
  ASSERT_EQ(uv_timer_start(&timer, timer_cb, 2, 2), 0);
  return 0;
}
static int reg_cleanup(kr_module_t *m) {
  ASSERT_PTR_EQ(m, self);
  probe.cleanup_calls++;
  ASSERT_EQ(kr_uv_queue_work(m, probe.loop, &work, work_cb, after_work_cb), 0);
  kr_uv_close((uv_handle_t *)&timer, close_cb);
  probe_step(m, 2); /* 1 handle, 1 request */
  return 0;
}
static int reg_deinit(kr_module_t *m) {
  ASSERT_PTR_EQ(m, self);
  probe.deinit_calls++;
  probe.deinit_live_handles = kr_module_live_handles(m);
  probe.deinit_live_requests = kr_module_live_requests(m);
  probe.deinit_state = kr_module_state(m);
  return 0;
}

static void host_timer_cb(uv_timer_t *t) {
  /* The host decides to unload while the module's timer is live. */
  ASSERT_GE(probe.timer_fires, 1);
  ASSERT_EQ(kr_module_cleanup(self, probe_done_cb, &probe), 0);
  ASSERT_EQ(kr_module_state(self), KR_MODULE_CLEANING);
  uv_close((uv_handle_t *)t, NULL);
}

int main(void) {
  uv_loop_t loop;
  kr_host_t *host;
  host_setup(&loop, &host);
  probe.loop = &loop;

  kr_module_ops_t ops = {reg_init, reg_cleanup, reg_deinit};
  kr_module_t *m = NULL;
  ASSERT_EQ(kr_module_register(host, "builtin", &ops, &data_cookie, &m), 0);
  ASSERT_PTR_EQ(m, self);
  ASSERT_EQ(probe.init_calls, 1);
  ASSERT_EQ(kr_module_state(m), KR_MODULE_ACTIVE);
  ASSERT_STR_EQ(kr_module_name(m), "builtin");
  ASSERT_PTR_EQ(kr_module_find(host, "builtin"), m);
  ASSERT_EQ(kr_module_live_handles(m), 1);
  kr_module_t *dup = (kr_module_t *)&probe;
  ASSERT_EQ(kr_module_register(host, "builtin", &ops, NULL, &dup), UV_EEXIST);
  ASSERT_PTR_EQ(dup, &probe);
  ASSERT_EQ(probe.init_calls, 1);
  kr_module_set_data(m, &probe);
  ASSERT_PTR_EQ(kr_module_data(m), &probe);
  kr_module_set_data(m, &data_cookie);

  ASSERT_EQ(uv_timer_init(&loop, &host_timer), 0);
  ASSERT_EQ(uv_timer_start(&host_timer, host_timer_cb, 20, 0), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0); /* returns by itself */

  ASSERT_EQ(probe.done_calls, 1);
  ASSERT_EQ(probe.done_status, 0);
  ASSERT_STR_EQ(probe.done_name, "builtin");
  ASSERT_EQ(probe.cleanup_calls, 1);
  ASSERT_EQ(probe.close_cbs, 1);
  ASSERT_EQ(probe.after_work_cbs, 1);
  ASSERT_EQ(probe.after_work_status, 0);
  ASSERT_EQ(probe.deinit_calls, 1);
  ASSERT_EQ(probe.deinit_calls_at_done, 1);
  ASSERT_EQ(probe.deinit_live_handles, 0);
  ASSERT_EQ(probe.deinit_live_requests, 0);
  ASSERT_EQ(probe.deinit_state, KR_MODULE_CLEANING);
  ASSERT_EQ(probe.nsteps, 2);
  ASSERT_EQ(probe.steps[0].tag, 2);
  ASSERT_EQ(probe.steps[0].handles, 1);
  ASSERT_EQ(probe.steps[0].requests, 1);
  ASSERT_EQ(probe.steps[1].handles, 1);
  ASSERT_NULL(kr_module_find(host, "builtin"));
  int fires = probe.timer_fires;
  ASSERT_GE(fires, 1);

  /* The name can be registered again once the first is gone. */
  memset(&probe, 0, sizeof probe);
  probe.loop = &loop;
  ASSERT_EQ(kr_module_register(host, "builtin", &ops, &data_cookie, &m), 0);
  ASSERT_EQ(kr_module_cleanup(m, NULL, NULL), 0); /* done may be NULL */
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(probe.deinit_calls, 1);
  ASSERT_EQ(probe.close_cbs, 1);
  ASSERT_EQ(probe.after_work_cbs, 1);
  ASSERT_NULL(kr_module_find(host, "builtin"));

  host_teardown(&loop, host);
  return 0;
}
