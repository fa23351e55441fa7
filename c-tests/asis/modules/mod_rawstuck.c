/* mod_rawstuck: a module built against plain <uv.h> (NOT the compat
 * header), so the ledger sees nothing it does. Init starts a repeating
 * timer (a static in the module's image) that nothing in the module ever
 * closes: its cleanup does nothing. Only a watchdog's FORCE can end it;
 * the shim must then close the timer itself, without calling back into
 * the module, and keep the library mapped. test_force_untracked opens a
 * second copy of the file (another path: a library of its own) for its
 * second case, the first staying mapped, abandoned. */
#include <uv.h>
#include "../asis_probe.h"

static uv_timer_t tick; /* started, repeating, never closed by the module */

static void check_alive(void) {
  if (aprobe.closed) aprobe.violations++;
}

static void on_tick(uv_timer_t *t) {
  (void)t;
  check_alive();
  aprobe.timer_fires++;
}

int rawstuck_init(void *m) {
  (void)m;
  aprobe.init_calls++;
  int rc = uv_timer_init(aprobe.loop, &tick);
  if (rc == 0) rc = uv_timer_start(&tick, on_tick, 5, 5);
  return rc;
}

int rawstuck_cleanup(void *m) {
  (void)m;
  check_alive();
  aprobe.cleanup_calls++;
  return 0; /* and leaves the timer running */
}

int rawstuck_deinit(void *m) {
  (void)m;
  check_alive();
  aprobe.deinit_calls++;
  return 0;
}
