/* bench_api.h: the table a benchmark module hands to the bench host.
 *
 * Every workload module is ONE source compiled twice: against plain <uv.h>
 * (raw) and with kr_uvshim_compat.h (tracked, -DBENCH_TRACKED). Both builds
 * are shared objects opened by the same host with kr_module_open(); init
 * publishes this table with kr_module_set_data() (the raw build's only kr_
 * call) and the host drives the workloads through it. */
#ifndef BENCH_API_H
#define BENCH_API_H

#include <uv.h>

typedef struct kr_module_t kr_module_t;

typedef struct bench_api {
  int tracked;
  /* Workloads 1-5: run n operations to completion on `loop` (the function
   * runs the loop itself). Returns n, or a negative error. `arg` is a
   * workload parameter (fs: a directory). */
  long (*timers)(uv_loop_t *loop, long n);
  long (*pingpong)(uv_loop_t *loop, long n);
  long (*fs_fsync)(uv_loop_t *loop, long n, const char *dir);
  long (*queue_work)(uv_loop_t *loop, long n);
  long (*churn_init_close)(uv_loop_t *loop, long n);
  long (*churn_accept_close)(uv_loop_t *loop, long n);
  /* Workload 8: phase 0 creates n objects and leaves them live; phase 1
   * closes/completes them (runs the loop) and frees their memory. */
  long (*mem_handles)(uv_loop_t *loop, long n, int phase);
  long (*mem_requests)(uv_loop_t *loop, long n, int phase);
  /* Workload 6 (linger module): the module's own cleanup hook, so that the
   * host can drive the naive polling drain itself. */
  int (*cleanup)(kr_module_t *m);
  /* Workload 7 (scale module): create h started, unref'd timers; close them
   * all (what the module's cleanup does); how many are still open. */
  long (*populate)(uv_loop_t *loop, long h);
  void (*close_all)(void);
  long (*open_count)(void);
} bench_api;

#define BENCH_CAT_(a, b) a##b
#define BENCH_CAT(a, b) BENCH_CAT_(a, b)

#endif
