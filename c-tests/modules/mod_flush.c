/* Module "flush": appends records while active; its cleanup starts a final
 * write and, from that write's callback, an fsync (a last flush). Both must
 * complete before deinit. */
#include "mod_common.h"
#include <fcntl.h>

static uv_timer_t timer;
static uv_fs_t write_req, fsync_req;
static uv_file fd = -1;
static unsigned char *data;
static char final_record[] = "FINAL RECORD\n";

static void close_cb(uv_handle_t *h) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(h, &timer);
  probe.close_cbs++;
}

static void timer_cb(uv_timer_t *t) { (void)t; MOD_CB_ENTER(); probe.timer_fires++; }

static void fsync_cb(uv_fs_t *r) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(r, &fsync_req);
  probe.fsync_cbs++;
  probe.fsync_status = (int)r->result;
  uv_fs_req_cleanup(r);
  uv_fs_t c;
  ASSERT_EQ(uv_fs_close(probe.loop, &c, fd, NULL), 0);
  uv_fs_req_cleanup(&c);
  fd = -1;
}

static void final_write_cb(uv_fs_t *r) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(r, &write_req);
  ASSERT_EQ(r->result, sizeof final_record - 1);
  probe.fs_cbs++;
  probe.bytes_written += (size_t)r->result;
  uv_fs_req_cleanup(r);
  ASSERT_EQ(uv_fs_fsync(probe.loop, &fsync_req, fd, fsync_cb), 0);
}

static void bulk_write_cb(uv_fs_t *r) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(r, &write_req);
  ASSERT_EQ(r->result, (ssize_t)probe.nbytes);
  probe.fs_cbs++;
  probe.bytes_written += (size_t)r->result;
  uv_fs_req_cleanup(r);
  free(data);
  data = NULL;
  if (kr_module_state(kr_uvshim_self) == KR_MODULE_CLEANING) {
    /* Cleanup came while the bulk write was in flight: flush now. */
    uv_buf_t b = uv_buf_init(final_record, sizeof final_record - 1);
    ASSERT_EQ(uv_fs_write(probe.loop, &write_req, fd, &b, 1, (int64_t)probe.nbytes,
                          final_write_cb), 0);
  }
}

int flush_init(kr_module_t *m) {
  (void)m;
  probe.init_calls++;
  ASSERT_EQ(uv_timer_init(probe.loop, &timer), 0);
  ASSERT_EQ(uv_timer_start(&timer, timer_cb, 1000, 1000), 0);
  uv_fs_t o;
  fd = uv_fs_open(probe.loop, &o, probe.path, O_WRONLY | O_TRUNC, 0, NULL);
  uv_fs_req_cleanup(&o);
  ASSERT_GE(fd, 0);
  data = malloc(probe.nbytes);
  ASSERT_NOT_NULL(data);
  for (size_t i = 0; i < probe.nbytes; i++) data[i] = mod_pattern_byte(i);
  uv_buf_t b = uv_buf_init((char *)data, (unsigned)probe.nbytes);
  ASSERT_EQ(uv_fs_write(probe.loop, &write_req, fd, &b, 1, 0, bulk_write_cb), 0);
  return 0;
}

int flush_cleanup(kr_module_t *m) {
  probe.cleanup_calls++;
  uv_close((uv_handle_t *)&timer, close_cb);
  if (data == NULL) {
    /* The bulk write is done: start the final flush now. */
    uv_buf_t b = uv_buf_init(final_record, sizeof final_record - 1);
    ASSERT_EQ(uv_fs_write(probe.loop, &write_req, fd, &b, 1, (int64_t)probe.nbytes,
                          final_write_cb), 0);
  }
  probe_step(m, 1);
  return 0;
}

int flush_deinit(kr_module_t *m) {
  MOD_CB_ENTER();
  probe.deinit_calls++;
  probe.deinit_live_handles = kr_module_live_handles(m);
  probe.deinit_live_requests = kr_module_live_requests(m);
  ASSERT_EQ(probe.fs_cbs, 2);
  ASSERT_EQ(probe.fsync_cbs, 1);
  ASSERT_EQ(fd, -1);
  return 0;
}
