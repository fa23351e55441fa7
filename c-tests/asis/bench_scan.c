/* Issue 5, scan cost (a benchmark, not a timed test): the time of one raw
 * module's unload (kr_module_cleanup -> done, which includes the reference
 * scan over every handle of the loop) with N unrelated host handles on the
 * loop (half uv_idle_t, half uv_timer_t, initialised, not started). Also
 * the time of one kr_module_dump (one scan, no dlopen/dlclose). Prints a
 * table and the per-handle cost against the N = 0 baseline; the cost
 * should grow at most linearly with N. */
#include "asis_host.h"

#define REPS 7

static uv_loop_t loop;
static kr_host_t *host;
static int done_flag;
static int deferrals;

static void count_log(void *arg, int level, const char *msg) {
  (void)arg; (void)level;
  if (strstr(msg, "dlclose deferred")) deferrals++;
}

static void on_done(kr_host_t *h, const char *name, int status, void *arg) {
  (void)h; (void)name; (void)arg;
  ASSERT_EQ(status, 0);
  done_flag = 1;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Median over REPS of: open (untimed), then cleanup -> done (timed, ns);
 * and of one dump (one scan) of an open module. */
static void measure(size_t n, uint64_t *unload_ns, uint64_t *dump_ns, double *defer_per_unload) {
  ASSERT_EQ(uv_loop_init(&loop), 0);
  ASSERT_EQ(kr_host_new(&loop, &host), 0);
  ASSERT_EQ(kr_host_set_log(host, count_log, NULL), 0);
  memset(&aprobe, 0, sizeof aprobe);
  aprobe.loop = &loop;
  size_t nidle = n / 2, ntimer = n - nidle;
  uv_idle_t *idles = calloc(nidle ? nidle : 1, sizeof *idles);
  uv_timer_t *timers = calloc(ntimer ? ntimer : 1, sizeof *timers);
  ASSERT(idles && timers);
  for (size_t i = 0; i < nidle; i++) ASSERT_EQ(uv_idle_init(&loop, &idles[i]), 0);
  for (size_t i = 0; i < ntimer; i++) ASSERT_EQ(uv_timer_init(&loop, &timers[i]), 0);

  uint64_t t_unload[REPS], t_dump[REPS];
  FILE *null = fopen("/dev/null", "w");
  ASSERT_NOT_NULL(null);
  for (int r = 0; r < REPS; r++) {
    kr_module_t *m = NULL;
    ASSERT_EQ(kr_module_open(host, mod_path("braw"), "braw", 0, &m), 0);
    uint64_t t0 = uv_hrtime();
    ASSERT_GE(kr_module_dump(m, null), 1);
    t_dump[r] = uv_hrtime() - t0;
    done_flag = 0;
    t0 = uv_hrtime();
    ASSERT_EQ(kr_module_cleanup(m, on_done, NULL), 0);
    while (!done_flag) uv_run(&loop, UV_RUN_ONCE);
    t_unload[r] = uv_hrtime() - t0;
    ASSERT_EQ(lib_is_loaded(mod_path("braw")), 0);
  }
  fclose(null);
  *defer_per_unload = (double)deferrals / REPS;
  deferrals = 0;
  qsort(t_unload, REPS, sizeof t_unload[0], cmp_u64);
  qsort(t_dump, REPS, sizeof t_dump[0], cmp_u64);
  *unload_ns = t_unload[REPS / 2];
  *dump_ns = t_dump[REPS / 2];

  for (size_t i = 0; i < nidle; i++) uv_close((uv_handle_t *)&idles[i], NULL);
  for (size_t i = 0; i < ntimer; i++) uv_close((uv_handle_t *)&timers[i], NULL);
  ASSERT_EQ(kr_host_free(host), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(uv_loop_close(&loop), 0);
  free(idles);
  free(timers);
}

int main(int argc, char **argv) {
  size_t ns[] = {0, 1000, 10000, 100000};
  size_t count = sizeof ns / sizeof ns[0];
  if (argc > 1) count = (size_t)atoi(argv[1]) < count ? (size_t)atoi(argv[1]) : count;
  uint64_t base_unload = 0, base_dump = 0;
  printf("scan cost: one raw module unload (cleanup -> done) and one dump (one scan),\n"
         "with N unrelated host handles (idle+timer, not started); median of %d\n\n", REPS);
  printf("%8s  %12s  %14s  %9s  %12s  %14s\n", "N", "unload (us)", "per handle(ns)", "deferred", "dump (us)", "per handle(ns)");
  double first_pd = 0, last_pd = 0;
  for (size_t i = 0; i < count; i++) {
    uint64_t u, d;
    double df;
    measure(ns[i], &u, &d, &df);
    if (ns[i] == 0) {
      base_unload = u;
      base_dump = d;
      printf("%8zu  %12.1f  %14s  %9.1f  %12.1f  %14s\n", ns[i], u / 1e3, "(baseline)", df, d / 1e3, "(baseline)");
    } else {
      double pu = ((double)u - (double)base_unload) / (double)ns[i];
      double pd = ((double)d - (double)base_dump) / (double)ns[i];
      printf("%8zu  %12.1f  %14.1f  %9.1f  %12.1f  %14.1f\n", ns[i], u / 1e3, pu, df, d / 1e3, pd);
      if (first_pd == 0) first_pd = pd;
      last_pd = pd;
    }
  }
  printf("\n\"deferred\": dlclose deferrals per unload (a scan that still found the\n"
         "module's closing timer: one 10 ms backoff). Per-handle scan cost (dump)\n"
         "at the largest N vs the smallest: %.2fx (1.0 = linear).\n",
         first_pd > 0 ? last_pd / first_pd : 0.0);
  return 0;
}
