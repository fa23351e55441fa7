/* A well-behaved module written against plain libuv (via the compat
 * header), built several times under different names:
 *   -DMOD=mod_a -DDRAIN_MS=20  ->  mod_a.so
 * init: logs "<MOD>:init". cleanup: logs "<MOD>:cleanup" and starts its
 * last piece of work (a timer of DRAIN_MS); when it fires: "<MOD>:drained"
 * and the timer is closed. deinit: "<MOD>:deinit". The ELF destructor runs
 * inside dlclose(): "<MOD>:dlclose". Every line goes to the host's event log
 * (sd_event, exported by the test program). */
#include "kr_uvshim_compat.h"

#ifndef MOD
#error MOD
#endif
#ifndef DRAIN_MS
#define DRAIN_MS 10
#endif
#define STR2(x) #x
#define STR(x) STR2(x)
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

extern void sd_event(const char *fmt, ...);

static uv_timer_t drain;

static void drain_closed(uv_handle_t *h) {
  (void)h;
}

static void drain_cb(uv_timer_t *t) {
  sd_event("%s:drained", STR(MOD));
  uv_close((uv_handle_t *)t, drain_closed);
}

int CAT(MOD, _init)(kr_module_t *m) {
  (void)m;
  sd_event("%s:init", STR(MOD));
  return 0;
}

int CAT(MOD, _cleanup)(kr_module_t *m) {
  (void)m;
  sd_event("%s:cleanup", STR(MOD));
  if (uv_timer_init(uv_default_loop(), &drain) != 0) return -1;
  return uv_timer_start(&drain, drain_cb, DRAIN_MS, 0);
}

int CAT(MOD, _deinit)(kr_module_t *m) {
  sd_event("%s:deinit live=%zu/%zu", STR(MOD), kr_module_live_handles(m), kr_module_live_requests(m));
  return 0;
}

__attribute__((destructor)) static void on_dlclose(void) {
  sd_event("%s:dlclose", STR(MOD));
}
