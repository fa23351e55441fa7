/* Module "counts": three handles of different kinds and a chained fs write;
 * reports its live counts at every step (probe.steps, by tag). */
#include "mod_common.h"
#include <fcntl.h>

static uv_timer_t timer;
static uv_check_t check;
static uv_async_t async;
static uv_fs_t req;
static uv_file fd = -1;
static char text1[] = "first record\n";
static char text2[] = "second record\n";

static void timer_cb(uv_timer_t *t) { (void)t; MOD_CB_ENTER(); probe.timer_fires++; }
static void check_cb(uv_check_t *c) { (void)c; MOD_CB_ENTER(); }
static void async_cb(uv_async_t *a) { (void)a; MOD_CB_ENTER(); }

static void close_cb(uv_handle_t *h) {
  MOD_CB_ENTER();
  ASSERT(h == (uv_handle_t *)&timer || h == (uv_handle_t *)&check ||
         h == (uv_handle_t *)&async);
  probe_step(kr_uvshim_self, 20 + probe.close_cbs); /* 20, 21, 22 */
  probe.close_cbs++;
}

static void write_cb(uv_fs_t *r) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(r, &req);
  ASSERT_GT(r->result, 0);
  probe.bytes_written += (size_t)r->result;
  probe.fs_cbs++;
  uv_fs_req_cleanup(r);
  probe_step(kr_uvshim_self, 30 + probe.fs_cbs); /* 31, 32: own entry */
  if (probe.fs_cbs == 1) {
    /* Chained: the same request, reused from inside its own callback. */
    uv_buf_t b = uv_buf_init(text2, sizeof text2 - 1);
    ASSERT_EQ(uv_fs_write(probe.loop, &req, fd, &b, 1, sizeof text1 - 1, write_cb), 0);
    probe_step(kr_uvshim_self, 40); /* old (until return) + new */
  } else {
    uv_fs_t c;
    ASSERT_EQ(uv_fs_close(probe.loop, &c, fd, NULL), 0);
    uv_fs_req_cleanup(&c);
  }
}

int counts_init(kr_module_t *m) {
  uv_loop_t *loop = probe.loop;
  probe.init_calls++;
  probe_step(m, 10); /* 0, 0 */
  ASSERT_EQ(uv_timer_init(loop, &timer), 0);
  ASSERT_EQ(uv_timer_start(&timer, timer_cb, 60000, 0), 0);
  probe_step(m, 11); /* 1, 0 */
  ASSERT_EQ(uv_check_init(loop, &check), 0);
  ASSERT_EQ(uv_check_start(&check, check_cb), 0);
  probe_step(m, 12); /* 2, 0 */
  ASSERT_EQ(uv_async_init(loop, &async, async_cb), 0);
  probe_step(m, 13); /* 3, 0 */
  uv_fs_t o;
  fd = uv_fs_open(loop, &o, probe.path, O_WRONLY | O_TRUNC, 0, NULL);
  uv_fs_req_cleanup(&o);
  ASSERT_GE(fd, 0);
  probe_step(m, 14); /* 3, 0: a synchronous call is not tracked */
  uv_buf_t b = uv_buf_init(text1, sizeof text1 - 1);
  ASSERT_EQ(uv_fs_write(loop, &req, fd, &b, 1, 0, write_cb), 0);
  probe_step(m, 15); /* 3, 1 */
  return 0;
}

int counts_cleanup(kr_module_t *m) {
  probe.cleanup_calls++;
  probe_step(m, 50); /* 3, 1 */
  uv_close((uv_handle_t *)&timer, close_cb);
  probe_step(m, 51); /* 3, 1: closing is still live */
  uv_close((uv_handle_t *)&check, close_cb);
  uv_close((uv_handle_t *)&async, close_cb);
  probe_step(m, 52); /* 3, 1 */
  return 0;
}

int counts_deinit(kr_module_t *m) {
  probe.deinit_calls++;
  probe_step(m, 60); /* 0, 0 */
  probe.deinit_live_handles = kr_module_live_handles(m);
  probe.deinit_live_requests = kr_module_live_requests(m);
  return 0;
}
