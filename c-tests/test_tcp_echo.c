/* Test 12: a module with a TCP echo server and a client; the client's
 * uv_write is in flight when cleanup starts (the host starts it from a hook
 * the module calls right after uv_write). Every write calls back exactly
 * once and succeeds, every byte is echoed and verified, all three sockets
 * close, deinit sees nothing live, the unload is clean. */
#include "harness.h"

static kr_module_t *mod;

/* Called by the module right after its client's uv_write started. */
static void on_write_started(int what) {
  ASSERT_EQ(what, 1);
  ASSERT_EQ(probe.connect_cbs, 1);
  ASSERT_EQ(probe.write_cbs, 0);              /* in flight */
  ASSERT_GE(kr_module_live_handles(mod), 2);  /* listener, client (+ conn) */
  /* this connect (its callback is running), the write, any echoes */
  ASSERT_EQ(kr_module_live_requests(mod), 2 + probe.server_writes_started - probe.server_write_cbs);
  ASSERT_EQ(kr_module_cleanup(mod, probe_done_cb, &probe), 0);
  ASSERT_EQ(probe.cleanup_calls, 1);
  ASSERT_EQ(probe.write_cbs, 0);
}

int main(void) {
  uv_loop_t loop;
  kr_host_t *host;
  host_setup(&loop, &host);
  probe.loop = &loop;
  probe.nbytes = 2u << 20;

  const char *path = mod_path("echo");
  kr_module_t *m = NULL;
  ASSERT_EQ(kr_module_open(host, path, "echo", 0, &m), 0);
  ASSERT_EQ(kr_module_live_handles(m), 2);  /* listener, client */
  ASSERT_EQ(kr_module_live_requests(m), 1); /* connect */
  mod = m;
  probe.on_event = on_write_started;
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);

  ASSERT_EQ(probe.write_started, 1);
  ASSERT_EQ(probe.accepted, 1);
  ASSERT_EQ(probe.done_calls, 1);
  ASSERT_EQ(probe.done_status, 0);
  ASSERT_EQ(probe.cleanup_calls, 1);
  ASSERT_EQ(probe.write_cbs, 1);
  ASSERT_EQ(probe.write_status, 0);
  ASSERT_GE(probe.server_writes_started, 1);
  ASSERT_EQ(probe.server_write_cbs, probe.server_writes_started);
  ASSERT_EQ(probe.server_write_errors, 0);
  ASSERT_EQ(probe.bytes_echoed, probe.nbytes);
  ASSERT_EQ(probe.echo_mismatch, 0);
  ASSERT_EQ(probe.shutdown_cbs, 2);
  ASSERT_EQ(probe.eofs, 2);
  ASSERT_EQ(probe.close_cbs, 3);
  ASSERT_EQ(probe.deinit_calls, 1);
  ASSERT_EQ(probe.deinit_live_handles, 0);
  ASSERT_EQ(probe.deinit_live_requests, 0);
  ASSERT(!lib_is_loaded(path));
  host_teardown(&loop, host);
  return 0;
}
