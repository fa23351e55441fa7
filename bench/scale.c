/* scale.c: workload 7, a module holding h long-lived handles (started,
 * unref'd timers that never fire during the benchmark) and closing them all
 * in its cleanup.
 *
 * Built twice (raw: -DPFX=r, tracked: -DPFX=t -DBENCH_TRACKED). Each build is
 * copied to N files by the host (dlopen identifies libraries by inode), and
 * exports <PFX><i>_init / _cleanup for i < SCALE_MAX_MODULES as aliases of
 * one implementation, so copy i opens as module "<PFX><i>". */
#ifdef BENCH_TRACKED
#include "kr_uvshim_compat.h"
#else
#include <uv.h>
#endif
#include "bench_api.h"

#include <stdlib.h>

void kr_module_set_data(kr_module_t *m, void *data);

static uv_timer_t *timers;
static long ntimers, nopen;

static void never(uv_timer_t *t) { (void)t; abort(); }

static void close_cb(uv_handle_t *h) {
  (void)h;
  if (--nopen == 0) {
    free(timers);
    timers = NULL;
  }
}

static long populate(uv_loop_t *loop, long h) {
  timers = malloc(sizeof(*timers) * h);
  if (!timers) return UV_ENOMEM;
  ntimers = h;
  for (long i = 0; i < h; i++) {
    int rc = uv_timer_init(loop, timers + i);
    if (rc < 0) return rc;
    uv_timer_start(timers + i, never, 3600 * 1000 + i, 0);
    uv_unref((uv_handle_t *)(timers + i));
    nopen++;
  }
  return h;
}

static void close_all(void) {
  for (long i = 0; i < ntimers; i++) uv_close((uv_handle_t *)(timers + i), close_cb);
  ntimers = 0;
}

static long open_count(void) { return nopen; }

static bench_api api = {
#ifdef BENCH_TRACKED
    .tracked = 1,
#endif
    .populate = populate,
    .close_all = close_all,
    .open_count = open_count,
};

static int scale_init_impl(kr_module_t *m) {
  kr_module_set_data(m, &api);
  return 0;
}

static int scale_cleanup_impl(kr_module_t *m) {
  (void)m;
  close_all();
  return 0;
}

#define SCALE_ALIAS(i)                                                                   \
  int BENCH_CAT(BENCH_CAT(PFX, i), _init)(kr_module_t *) __attribute__((alias("scale_init_impl")));       \
  int BENCH_CAT(BENCH_CAT(PFX, i), _cleanup)(kr_module_t *) __attribute__((alias("scale_cleanup_impl")));
#include "scale_aliases.h" /* generated: SCALE_ALIAS(0) ... SCALE_ALIAS(999) */
