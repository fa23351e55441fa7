/* Test 2: live counts are exact at each step: during and after init, after
 * cleanup starts, in and after each close callback, across a chained
 * request, and zero at deinit. */
#include "harness.h"

static void expect_step(int i, int tag, size_t handles, size_t requests) {
  if (i >= probe.nsteps || probe.steps[i].tag != tag ||
      probe.steps[i].handles != handles || probe.steps[i].requests != requests) {
    fprintf(stderr, "step %d: want tag %d (%zu handles, %zu requests); steps seen:\n",
            i, tag, handles, requests);
    for (int j = 0; j < probe.nsteps; j++)
      fprintf(stderr, "  [%d] tag %d: %zu handles, %zu requests\n", j, probe.steps[j].tag,
              probe.steps[j].handles, probe.steps[j].requests);
  }
  ASSERT_LT(i, probe.nsteps);
  ASSERT_EQ(probe.steps[i].tag, tag);
  ASSERT_EQ(probe.steps[i].handles, handles);
  ASSERT_EQ(probe.steps[i].requests, requests);
}

static int find_step(int tag) {
  for (int j = 0; j < probe.nsteps; j++)
    if (probe.steps[j].tag == tag) return j;
  fprintf(stderr, "no step with tag %d\n", tag);
  ASSERT(0);
  return -1;
}

int main(void) {
  uv_loop_t loop;
  kr_host_t *host;
  host_setup(&loop, &host);
  probe.loop = &loop;
  probe_tmpfile();

  kr_module_t *m = NULL;
  ASSERT_EQ(kr_module_open(host, mod_path("counts"), "counts", 0, &m), 0);
  expect_step(0, 10, 0, 0);
  expect_step(1, 11, 1, 0);
  expect_step(2, 12, 2, 0);
  expect_step(3, 13, 3, 0);
  expect_step(4, 14, 3, 0);
  expect_step(5, 15, 3, 1);
  ASSERT_EQ(kr_module_live_handles(m), 3);
  ASSERT_EQ(kr_module_live_requests(m), 1);

  /* The loop runs the first write's callback, which chains a second. */
  while (probe.fs_cbs < 1) ASSERT_NE(uv_run(&loop, UV_RUN_ONCE), 0);
  expect_step(6, 31, 3, 1); /* inside its callback: still counted */
  expect_step(7, 40, 3, 2); /* old one until it returns, plus the new */
  ASSERT_EQ(kr_module_live_handles(m), 3);
  ASSERT_EQ(kr_module_live_requests(m), 1); /* only the chained one */

  ASSERT_EQ(kr_module_cleanup(m, probe_done_cb, &probe), 0);
  ASSERT_EQ(kr_module_state(m), KR_MODULE_CLEANING);
  expect_step(8, 50, 3, 1);
  expect_step(9, 51, 3, 1);
  expect_step(10, 52, 3, 1);
  ASSERT_EQ(kr_module_live_handles(m), 3); /* closing, not closed */
  ASSERT_EQ(kr_module_live_requests(m), 1);

  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(probe.done_calls, 1);
  ASSERT_EQ(probe.done_status, 0);
  ASSERT_EQ(probe.close_cbs, 3);
  ASSERT_EQ(probe.fs_cbs, 2);
  ASSERT_EQ(probe.deinit_calls, 1);
  ASSERT_EQ(probe.timer_fires, 0);

  /* Close callbacks run in one loop phase, in order: each sees itself and
   * those after it, so each close drops the count by exactly one. */
  int c0 = find_step(20), c1 = find_step(21), c2 = find_step(22);
  ASSERT_LT(c0, c1);
  ASSERT_LT(c1, c2);
  ASSERT_EQ(probe.steps[c0].handles, 3);
  ASSERT_EQ(probe.steps[c1].handles, 2);
  ASSERT_EQ(probe.steps[c2].handles, 1);
  /* The chained write's callback sees itself only. */
  int w2 = find_step(32);
  ASSERT_EQ(probe.steps[w2].requests, 1);
  /* Deinit: nothing. */
  int d = find_step(60);
  ASSERT_EQ(d, probe.nsteps - 1);
  ASSERT_EQ(probe.steps[d].handles, 0);
  ASSERT_EQ(probe.steps[d].requests, 0);

  assert_file_pattern(probe.path, 0, "first record\nsecond record\n");
  unlink(probe.path);
  host_teardown(&loop, host);
  return 0;
}
