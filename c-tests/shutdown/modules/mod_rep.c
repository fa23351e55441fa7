/* A module for the report test: init starts a repeating timer (live,
 * active); mod_rep_start_fs() starts a tracked uv_fs_stat (in flight until
 * its callback has run on the loop thread). cleanup closes the timer. */
#include "kr_uvshim_compat.h"

extern void sd_event(const char *fmt, ...);

static uv_timer_t tick;
static uv_fs_t stat_req;

static void tick_cb(uv_timer_t *t) { (void)t; }

static void stat_cb(uv_fs_t *req) {
  sd_event("mod_rep:stat_cb %d", (int)req->result);
  uv_fs_req_cleanup(req);
}

int mod_rep_init(kr_module_t *m) {
  (void)m;
  int rc = uv_timer_init(uv_default_loop(), &tick);
  if (rc != 0) return rc;
  return uv_timer_start(&tick, tick_cb, 1000, 1000);
}

int mod_rep_start_fs(void) {
  return uv_fs_stat(uv_default_loop(), &stat_req, "/", stat_cb);
}

int mod_rep_cleanup(kr_module_t *m) {
  (void)m;
  sd_event("mod_rep:cleanup");
  uv_close((uv_handle_t *)&tick, NULL);
  return 0;
}

__attribute__((destructor)) static void on_dlclose(void) {
  sd_event("mod_rep:dlclose");
}
