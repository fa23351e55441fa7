/* Test 5: a module whose cleanup starts new requests (a final write, then
 * an fsync from its callback): both complete before deinit, which sees
 * nothing live; every byte is on disk. Run twice: cleanup with the bulk
 * write still in flight, and after it completed. */
#include "harness.h"

static void run_once(int let_bulk_finish) {
  uv_loop_t loop;
  kr_host_t *host;
  host_setup(&loop, &host);
  probe.loop = &loop;
  probe.nbytes = 256 * 1024;
  probe_tmpfile();

  const char *path = mod_path("flush");
  kr_module_t *m = NULL;
  ASSERT_EQ(kr_module_open(host, path, "flush", 0, &m), 0);
  if (let_bulk_finish) {
    while (probe.fs_cbs < 1) ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);
    ASSERT_EQ(kr_module_live_requests(m), 0);
  } else {
    ASSERT_EQ(kr_module_live_requests(m), 1);
  }
  ASSERT_EQ(kr_module_cleanup(m, probe_done_cb, &probe), 0);
  ASSERT_EQ(probe.nsteps, 1);
  ASSERT_EQ(probe.steps[0].handles, 1);
  ASSERT_EQ(probe.steps[0].requests, 1); /* final write, or the bulk one */
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);

  ASSERT_EQ(probe.done_calls, 1);
  ASSERT_EQ(probe.done_status, 0);
  ASSERT_EQ(probe.close_cbs, 1);
  ASSERT_EQ(probe.fs_cbs, 2);
  ASSERT_EQ(probe.fsync_cbs, 1);
  ASSERT_EQ(probe.fsync_status, 0);
  ASSERT_EQ(probe.deinit_calls, 1);
  ASSERT_EQ(probe.deinit_live_handles, 0);
  ASSERT_EQ(probe.deinit_live_requests, 0);
  ASSERT_EQ(probe.bytes_written, probe.nbytes + strlen("FINAL RECORD\n"));
  ASSERT(!lib_is_loaded(path));
  assert_file_pattern(probe.path, probe.nbytes, "FINAL RECORD\n");
  unlink(probe.path);
  host_teardown(&loop, host);
}

int main(void) {
  run_once(0);
  run_once(1);
  return 0;
}
