/* Module "initfail": init starts a repeating timer and an fs write, then
 * fails. probe.mode: 0 = UV_ENOMEM with both in flight; 1 = UV_ENOMEM with
 * nothing started; 2 = a positive return (reported as UV_EINVAL). */
#include "mod_common.h"
#include <fcntl.h>

static uv_timer_t timer;
static uv_fs_t write_req;
static uv_file fd = -1;
static char text[] = "written by a failing init\n";

static void timer_cb(uv_timer_t *t) { (void)t; MOD_CB_ENTER(); probe.timer_fires++; }

static void write_cb(uv_fs_t *r) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(r, &write_req);
  probe.fs_cbs++;
  probe.fs_status = (int)r->result;
  uv_fs_req_cleanup(r);
  uv_fs_t c;
  ASSERT_EQ(uv_fs_close(probe.loop, &c, fd, NULL), 0);
  uv_fs_req_cleanup(&c);
  fd = -1;
}

int initfail_init(kr_module_t *m) {
  (void)m;
  probe.init_calls++;
  if (probe.mode == 1) return UV_ENOMEM;
  if (probe.mode == 2) return 7;
  ASSERT_EQ(uv_timer_init(probe.loop, &timer), 0);
  ASSERT_EQ(uv_timer_start(&timer, timer_cb, 1, 1), 0);
  uv_fs_t o;
  fd = uv_fs_open(probe.loop, &o, probe.path, O_WRONLY | O_TRUNC, 0, NULL);
  uv_fs_req_cleanup(&o);
  ASSERT_GE(fd, 0);
  uv_buf_t b = uv_buf_init(text, sizeof text - 1);
  ASSERT_EQ(uv_fs_write(probe.loop, &write_req, fd, &b, 1, 0, write_cb), 0);
  return UV_ENOMEM;
}

int initfail_cleanup(kr_module_t *m) { (void)m; probe.cleanup_calls++; return 0; }
int initfail_deinit(kr_module_t *m) { (void)m; probe.deinit_calls++; return 0; }
