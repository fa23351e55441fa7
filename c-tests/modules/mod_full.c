/* Module "full": a live repeating timer, an in-flight fs write of known
 * bytes and pending thread-pool work, all in this library's static memory
 * (a premature dlclose would crash when libuv touches them). */
#include "mod_common.h"
#include <fcntl.h>
#include <unistd.h>

static uv_timer_t timer;
static uv_fs_t write_req;
static uv_work_t work_req;
static unsigned char *data;
static uv_file fd = -1;

static void timer_cb(uv_timer_t *t) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(t, &timer);
  probe.timer_fires++;
}

static void close_cb(uv_handle_t *h) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(h, &timer);
  probe.close_cbs++;
  probe_step(kr_uvshim_self, 100); /* in the close cb: still counted */
}

static void write_cb(uv_fs_t *req) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(req, &write_req);
  probe.fs_cbs++;
  probe.fs_status = (int)req->result;
  uv_fs_req_cleanup(req);
  uv_fs_t c;
  ASSERT_EQ(uv_fs_close(probe.loop, &c, fd, NULL), 0); /* synchronous: untracked */
  uv_fs_req_cleanup(&c);
  fd = -1;
  free(data);
  data = NULL;
  probe_step(kr_uvshim_self, 200);
}

static void work_cb(uv_work_t *req) {
  ASSERT_PTR_EQ(req, &work_req);
  usleep(50 * 1000);
  __atomic_add_fetch(&probe.work_runs, 1, __ATOMIC_SEQ_CST);
}

static void after_work_cb(uv_work_t *req, int status) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(req, &work_req);
  ASSERT_EQ(__atomic_load_n(&probe.work_runs, __ATOMIC_SEQ_CST), 1);
  probe.after_work_cbs++;
  probe.after_work_status = status;
  probe_step(kr_uvshim_self, 300);
}

int full_init(kr_module_t *m) {
  ASSERT_PTR_EQ(m, kr_uvshim_self);
  ASSERT_EQ(kr_module_state(m), KR_MODULE_LOADING);
  probe.init_calls++;
  uv_loop_t *loop = probe.loop;

  ASSERT_EQ(uv_timer_init(loop, &timer), 0);
  ASSERT_EQ(uv_timer_start(&timer, timer_cb, 10, 10), 0);

  uv_fs_t o;
  fd = uv_fs_open(probe.loop, &o, probe.path, O_WRONLY | O_TRUNC, 0, NULL);
  uv_fs_req_cleanup(&o);
  ASSERT_GE(fd, 0);
  data = malloc(probe.nbytes);
  ASSERT_NOT_NULL(data);
  for (size_t i = 0; i < probe.nbytes; i++) data[i] = mod_pattern_byte(i);
  uv_buf_t buf = uv_buf_init((char *)data, (unsigned)probe.nbytes);
  ASSERT_EQ(uv_fs_write(loop, &write_req, fd, &buf, 1, 0, write_cb), 0);

  ASSERT_EQ(uv_queue_work(loop, &work_req, work_cb, after_work_cb), 0);
  probe_step(m, 1);
  return 0;
}

int full_cleanup(kr_module_t *m) {
  ASSERT_PTR_EQ(m, kr_uvshim_self);
  ASSERT_EQ(kr_module_state(m), KR_MODULE_CLEANING);
  probe.cleanup_calls++;
  ASSERT_EQ(uv_timer_stop(&timer), 0);
  uv_close((uv_handle_t *)&timer, close_cb);
  probe_step(m, 2);
  return 0;
}

int full_deinit(kr_module_t *m) {
  ASSERT_PTR_EQ(m, kr_uvshim_self);
  probe.deinit_calls++;
  probe.deinit_live_handles = kr_module_live_handles(m);
  probe.deinit_live_requests = kr_module_live_requests(m);
  probe.deinit_refs = kr_module_refs(m);
  probe.deinit_state = kr_module_state(m);
  ASSERT_EQ(probe.close_cbs, 1);
  ASSERT_EQ(probe.fs_cbs, 1);
  ASSERT_EQ(probe.after_work_cbs, 1);
  return 0;
}
