/* mod_raw: a module built against plain <uv.h> (NOT the compat header):
 * the ledger sees nothing it does. Static timers (one ticking, one never
 * started) and a uv_poll_t on a host-given fd, all in the module's image.
 * Its cleanup keeps them for aprobe.linger_ms, then closes them with close
 * callbacks that live in the module. */
#include <uv.h>
#include <unistd.h>
#include "../asis_probe.h"

static uv_timer_t tick;     /* started, repeating */
static uv_timer_t idle_t;   /* initialised, never started */
static uv_poll_t poll_h;    /* readable on aprobe.fd */
static uv_timer_t closer;   /* started by cleanup */

static void check_alive(void) {
  if (aprobe.closed) aprobe.violations++;
}

static void on_close(uv_handle_t *h) {
  (void)h;
  check_alive();
  aprobe.close_cbs++;
}

static void on_tick(uv_timer_t *t) {
  (void)t;
  check_alive();
  aprobe.timer_fires++;
}

static void on_poll(uv_poll_t *p, int status, int events) {
  (void)p;
  check_alive();
  if (status == 0 && (events & UV_READABLE)) {
    char c;
    if (read(aprobe.fd, &c, 1) == 1) aprobe.poll_cbs++;
  }
}

static void close_all(uv_timer_t *t) {
  (void)t;
  check_alive();
  uv_close((uv_handle_t *)&tick, on_close);
  uv_close((uv_handle_t *)&idle_t, on_close);
  uv_close((uv_handle_t *)&poll_h, on_close);
  uv_close((uv_handle_t *)&closer, on_close);
  aprobe.closes_started += 4;
}

int raw_init(void *m) {
  (void)m;
  aprobe.init_calls++;
  int rc = uv_timer_init(aprobe.loop, &tick);
  if (rc == 0) rc = uv_timer_start(&tick, on_tick, 5, 5);
  if (rc == 0) rc = uv_timer_init(aprobe.loop, &idle_t);
  if (rc == 0) rc = uv_poll_init(aprobe.loop, &poll_h, aprobe.fd);
  if (rc == 0) rc = uv_poll_start(&poll_h, UV_READABLE, on_poll);
  return rc;
}

int raw_cleanup(void *m) {
  (void)m;
  aprobe.cleanup_calls++;
  int rc = uv_timer_init(aprobe.loop, &closer);
  if (rc == 0) rc = uv_timer_start(&closer, close_all, (uint64_t)aprobe.linger_ms, 0);
  return rc;
}

int raw_deinit(void *m) {
  (void)m;
  check_alive();
  aprobe.deinit_calls++;
  return 0;
}
