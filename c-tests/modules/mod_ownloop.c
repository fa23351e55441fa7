/* Module "ownloop": runs a libuv loop of its own on a thread, with a
 * repeating timer and an async handle created through the compat header, so
 * they are counted on that loop's ledger. Cleanup asks the thread to stop
 * (uv_async_send); the thread closes both handles, lets its uv_run return,
 * closes the loop and drops its reference; deinit joins it. */
#include "mod_common.h"
#include <pthread.h>
#include <unistd.h>

static kr_module_t *self;
static pthread_t thread;
static int thread_started;
static uv_loop_t tloop;
static uv_timer_t tick;
static uv_async_t stop;
static int ready;

static void on_tick(uv_timer_t *t) {
  (void)t;
  MOD_CB_ENTER();
  __atomic_add_fetch(&probe.timer_fires, 1, __ATOMIC_SEQ_CST);
  __atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
}

static void on_closed(uv_handle_t *h) {
  (void)h;
  MOD_CB_ENTER();
  __atomic_add_fetch(&probe.close_cbs, 1, __ATOMIC_SEQ_CST);
}

static void on_stop(uv_async_t *a) {
  (void)a;
  MOD_CB_ENTER();
  uv_close((uv_handle_t *)&tick, on_closed);
  uv_close((uv_handle_t *)&stop, on_closed);
}

static void *thread_main(void *arg) {
  (void)arg;
  ASSERT_EQ(uv_timer_init(&tloop, &tick), 0);
  ASSERT_EQ(uv_timer_start(&tick, on_tick, 1, 5), 0);
  ASSERT_EQ(uv_async_init(&tloop, &stop, on_stop), 0);
  ASSERT_EQ(uv_run(&tloop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(uv_loop_close(&tloop), 0);
  __atomic_store_n(&probe.thread_unrefd, 1, __ATOMIC_SEQ_CST);
  probe.unref_rc = kr_module_unref(self);
  return NULL;
}

int ownloop_init(kr_module_t *m) {
  probe.init_calls++;
  self = m;
  ASSERT_EQ(uv_loop_init(&tloop), 0);
  ASSERT_EQ(kr_module_ref(m), 0);
  ASSERT_EQ(pthread_create(&thread, NULL, thread_main, NULL), 0);
  thread_started = 1;
  /* Return once the thread's timer has fired: its handles exist. */
  while (!__atomic_load_n(&ready, __ATOMIC_SEQ_CST)) usleep(1000);
  return 0;
}

int ownloop_cleanup(kr_module_t *m) {
  (void)m;
  probe.cleanup_calls++;
  ASSERT_EQ(uv_async_send(&stop), 0);
  return 0;
}

int ownloop_deinit(kr_module_t *m) {
  MOD_CB_ENTER();
  probe.deinit_calls++;
  ASSERT_EQ(__atomic_load_n(&probe.thread_unrefd, __ATOMIC_SEQ_CST), 1);
  probe.deinit_refs = kr_module_refs(m);
  probe.deinit_live_handles = kr_module_live_handles(m);
  probe.deinit_live_requests = kr_module_live_requests(m);
  if (thread_started) {
    ASSERT_EQ(pthread_join(thread, NULL), 0);
    thread_started = 0;
  }
  return 0;
}
