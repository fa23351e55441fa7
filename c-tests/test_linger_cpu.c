/* Test 10: a drain that lingers 500 ms costs the process almost no CPU:
 * the loop sleeps (no idle spinning, no short polling timer). Measured with
 * getrusage (user + system CPU), plus the number of loop iterations seen
 * by a host prepare handle. Under valgrind only the CPU bound is skipped. */
#include "harness.h"

static unsigned iterations;
static void on_prepare(uv_prepare_t *p) { (void)p; iterations++; }

int main(void) {
  uv_loop_t loop;
  kr_host_t *host;
  host_setup(&loop, &host);
  probe.loop = &loop;

  uv_prepare_t prep;
  ASSERT_EQ(uv_prepare_init(&loop, &prep), 0);
  ASSERT_EQ(uv_prepare_start(&prep, on_prepare), 0);
  uv_unref((uv_handle_t *)&prep); /* counts iterations, keeps nothing alive */

  const char *path = mod_path("linger");
  kr_module_t *m = NULL;
  ASSERT_EQ(kr_module_open(host, path, "linger", 0, &m), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 1);

  iterations = 0;
  uint64_t cpu0 = cpu_us();
  uint64_t t0 = uv_hrtime();
  ASSERT_EQ(kr_module_cleanup(m, probe_done_cb, &probe), 0);
  while (probe.done_calls == 0) ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), -1);
  uint64_t wall_ms = (uv_hrtime() - t0) / 1000000u;
  uint64_t cpu = cpu_us() - cpu0;

  fprintf(stderr, "drain: %llu ms wall, %llu us CPU, %u loop iterations\n",
          (unsigned long long)wall_ms, (unsigned long long)cpu, iterations);
  ASSERT_EQ(probe.done_status, 0);
  ASSERT_EQ(probe.fs_cbs, 1);
  ASSERT_EQ(probe.close_cbs, 2);
  ASSERT_EQ(probe.deinit_calls, 1);
  ASSERT_EQ(probe.deinit_live_handles, 0);
  ASSERT_EQ(probe.deinit_live_requests, 0);
  ASSERT_GE(wall_ms, 495);
  /* A sleeping loop wakes a handful of times, a 2 ms poll would wake 250. */
  ASSERT_LE(iterations, 20);
  if (!under_valgrind()) ASSERT_LE(cpu, 50 * 1000);
  ASSERT(!lib_is_loaded(path));

  uv_close((uv_handle_t *)&prep, NULL);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  host_teardown(&loop, host);
  return 0;
}
