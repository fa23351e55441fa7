/* linger.c: workload 6, a module whose cleanup lingers one second.
 *
 * Init creates a timer; cleanup ("wrap up as soon as you can") starts it for
 * one second, as a module would to flush or finish a last exchange, and the
 * timer closes itself when it fires. The module is therefore live for one
 * second after cleanup began. Built tracked only: both drains (the library's
 * kr_module_cleanup and the naive uv_idle poll of the live counters) need the
 * accounting. */
#include "kr_uvshim_compat.h"
#include "bench_api.h"

#include <stdio.h>
#include <stdlib.h>

#ifndef LINGER_MS
#define LINGER_MS 1000
#endif

static uv_timer_t linger_timer;
static int started;

static void linger_fire(uv_timer_t *t) { uv_close((uv_handle_t *)t, NULL); }

static int linger_cleanup_impl(kr_module_t *m) {
  (void)m;
  if (started) return 0; /* idempotent: the naive drain calls it first */
  started = 1;
  return uv_timer_start(&linger_timer, linger_fire, LINGER_MS, 0);
}

static bench_api api = {.tracked = 1, .cleanup = linger_cleanup_impl};

extern uv_loop_t *bench_loop; /* exported by the bench host (-rdynamic) */

int linger_init(kr_module_t *m) {
  started = 0;
  kr_module_set_data(m, &api);
  return uv_timer_init(bench_loop, &linger_timer);
}

int linger_cleanup(kr_module_t *m) { return linger_cleanup_impl(m); }
