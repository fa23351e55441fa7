/* A module that never lets go: init takes a kr_module_ref() it never drops
 * and starts a repeating timer (ref'd, so it keeps the loop alive) that its
 * cleanup does not close. Only a watchdog's FORCE policy can end this: the
 * shim must close the timer with its own close callback and must never
 * dlclose the library (the ELF destructor would log "mod_stuck:dlclose").
 * The timer callback touches module memory: if it ran after an unmap,
 * the test would crash or valgrind would see it. */
#include "kr_uvshim_compat.h"

extern void sd_event(const char *fmt, ...);

static uv_timer_t tick;
static unsigned long ticks;
static int cleanups;

static void tick_cb(uv_timer_t *t) {
  (void)t;
  ticks++;
}

int mod_stuck_init(kr_module_t *m) {
  sd_event("mod_stuck:init");
  int rc = kr_module_ref(m);
  if (rc != 0) return rc;
  rc = uv_timer_init(uv_default_loop(), &tick);
  if (rc != 0) return rc;
  return uv_timer_start(&tick, tick_cb, 5, 5);
}

int mod_stuck_cleanup(kr_module_t *m) {
  (void)m;
  cleanups++;
  sd_event("mod_stuck:cleanup");
  return 0; /* and does nothing */
}

int mod_stuck_deinit(kr_module_t *m) {
  (void)m;
  sd_event("mod_stuck:deinit");
  return 0;
}

unsigned long mod_stuck_ticks(void) { return ticks; }
int mod_stuck_timer_closing(void) { return uv_is_closing((uv_handle_t *)&tick); }

__attribute__((destructor)) static void on_dlclose(void) {
  sd_event("mod_stuck:dlclose");
}
