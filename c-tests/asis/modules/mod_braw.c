/* mod_braw: the benchmark's raw module (plain <uv.h>): one static timer,
 * closed by cleanup with a close callback in the module. */
#include <uv.h>
#include "../asis_probe.h"

static uv_timer_t t;
static void on_t(uv_timer_t *h) { (void)h; }
static void on_close(uv_handle_t *h) { (void)h; aprobe.close_cbs++; }

int braw_init(void *m) {
  (void)m;
  int rc = uv_timer_init(aprobe.loop, &t);
  if (rc == 0) rc = uv_timer_start(&t, on_t, 1000000, 0);
  return rc;
}
int braw_cleanup(void *m) {
  (void)m;
  uv_close((uv_handle_t *)&t, on_close);
  return 0;
}
