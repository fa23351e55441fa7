/* Module "refthread": a thread that is not libuv holds a module reference
 * for ~100 ms (a query in flight), then drops it. Deinit joins it. */
#include "mod_common.h"
#include <pthread.h>
#include <unistd.h>

static pthread_t thread;
static int thread_started;
static kr_module_t *self;

static void *thread_main(void *arg) {
  (void)arg;
  usleep(100 * 1000);
  __atomic_store_n(&probe.unref_time_ms, mod_now_ms(), __ATOMIC_SEQ_CST);
  __atomic_store_n(&probe.thread_unrefd, 1, __ATOMIC_SEQ_CST);
  probe.unref_rc = kr_module_unref(self);
  /* The module may be deinitialised from here on; deinit joins us, so the
   * library cannot be closed before this function has returned. */
  return NULL;
}

int refthread_init(kr_module_t *m) {
  probe.init_calls++;
  self = m;
  ASSERT_EQ(kr_module_ref(m), 0);
  ASSERT_EQ(kr_module_refs(m), 1);
  ASSERT_EQ(pthread_create(&thread, NULL, thread_main, NULL), 0);
  thread_started = 1;
  return 0;
}

int refthread_cleanup(kr_module_t *m) {
  (void)m;
  probe.cleanup_calls++;
  probe.cleanup_time_ms = mod_now_ms();
  return 0;
}

int refthread_deinit(kr_module_t *m) {
  MOD_CB_ENTER();
  probe.deinit_calls++;
  probe.deinit_time_ms = mod_now_ms();
  /* Only after the thread dropped its reference. */
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
