/* host.c: the bench host of issue 6. Links libkr_uvshim.a like any host and
 * opens the raw and tracked builds of each workload module with
 * kr_module_open(). Prints; asserts nothing about time.
 *
 *   bench work                 workloads 1-5 (raw/tracked interleaved)
 *   bench drain                workload 6
 *   bench scale [H]            workload 7 (H handles per module, default 1000)
 *   bench mem handles|requests workload 8 (run each in a fresh process)
 *   bench summary              the table of every row recorded so far
 *
 * Environment: BENCH_ROUNDS (default 7), BENCH_RESULTS (default
 * <exe dir>/results.tsv), BENCH_TMPDIR (default $TMPDIR or /tmp),
 * BENCH_TARGET_S (target seconds per run, default 0.3). */
#define _GNU_SOURCE
#include "kr_uvshim.h"
#include "bench_api.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

uv_loop_t *bench_loop; /* read by the linger module */

static kr_host_t *host;
static char dir[PATH_MAX];
static char results[PATH_MAX];
static int rounds = 7;
static double target_s = 0.3;

#define DIE(...)                         \
  do {                                   \
    fprintf(stderr, "bench: " __VA_ARGS__); \
    fputc('\n', stderr);                 \
    exit(1);                             \
  } while (0)

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  double t[64];
  memcpy(t, v, sizeof(double) * n);
  qsort(t, n, sizeof(double), cmp_d);
  return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static double vmin(double *v, int n) { double m = v[0]; for (int i = 1; i < n; i++) if (v[i] < m) m = v[i]; return m; }
static double vmax(double *v, int n) { double m = v[0]; for (int i = 1; i < n; i++) if (v[i] > m) m = v[i]; return m; }

/* One row of the summary table. */
static void record(const char *workload, const char *raw, const char *tracked, const char *ratio, const char *goal, const char *met) {
  FILE *f = fopen(results, "a");
  if (!f) DIE("cannot append to %s: %s", results, strerror(errno));
  fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\n", workload, raw, tracked, ratio, goal, met);
  fclose(f);
}

static kr_module_t *open_module(const char *file, const char *name) {
  char path[PATH_MAX];
  kr_module_t *m;
  snprintf(path, sizeof(path), "%s/%s", dir, file);
  int rc = kr_module_open(host, path, name, 0, &m);
  if (rc) DIE("kr_module_open %s as %s: %s (%s)", path, name, uv_strerror(rc), kr_last_error());
  return m;
}

static int unloaded;
static double done_at;
static void on_done(kr_host_t *h, const char *name, int status, void *arg) {
  (void)h; (void)arg;
  if (status) fprintf(stderr, "bench: module %s unloaded with status %s\n", name, uv_strerror(status));
  done_at = now_s();
  unloaded++;
}

static void unload(kr_module_t *m) {
  int before = unloaded;
  int rc = kr_module_cleanup(m, on_done, NULL);
  if (rc) DIE("kr_module_cleanup: %s", uv_strerror(rc));
  while (unloaded == before) uv_run(bench_loop, UV_RUN_ONCE);
}

/* ---------------- workloads 1-5 ---------------- */

static const char *tmpdir_path;

enum { W_TIMERS, W_PINGPONG, W_FS, W_WORK, W_CHURN, W_ACCEPT };

static const struct wl {
  const char *label;
  const char *unit;  /* what n counts */
  long n0;           /* calibration size */
  long nmax;
  double goal;
} WL[] = {
    [W_TIMERS] = {"1 timers (init+start+fire+close)", "timers", 100000, 2000000, 1.05},
    [W_PINGPONG] = {"2 TCP ping-pong loopback", "round trips", 2000, 200000, 1.02},
    [W_FS] = {"3 fs write 4KiB + fsync (threadpool)", "write+fsync", 20, 2000, 1.02},
    [W_WORK] = {"4 uv_queue_work round trips", "works", 20000, 1000000, 1.02},
    [W_CHURN] = {"5a handle churn: tcp init+close", "handles", 100000, 50000000, 1.05},
    [W_ACCEPT] = {"5b handle churn: connect+accept+close", "connections", 500, 20000, 1.05},
};

static long run_wl(const bench_api *a, int w, long n) {
  switch (w) {
  case W_TIMERS: return a->timers(bench_loop, n);
  case W_PINGPONG: return a->pingpong(bench_loop, n);
  case W_FS: return a->fs_fsync(bench_loop, n, tmpdir_path);
  case W_WORK: return a->queue_work(bench_loop, n);
  case W_CHURN: return a->churn_init_close(bench_loop, n);
  case W_ACCEPT: return a->churn_accept_close(bench_loop, n);
  }
  return UV_EINVAL;
}

static double time_wl(const bench_api *a, int w, long n) {
  double t0 = now_s();
  long rc = run_wl(a, w, n);
  double t = now_s() - t0;
  if (rc != n) DIE("%s (%s) failed: %ld", WL[w].label, a->tracked ? "tracked" : "raw", rc);
  return t;
}

static void fmt_time(char *buf, size_t len, double s) {
  if (s >= 1) snprintf(buf, len, "%.3f s", s);
  else if (s >= 1e-3) snprintf(buf, len, "%.2f ms", s * 1e3);
  else snprintf(buf, len, "%.1f us", s * 1e6);
}

/* `bench one <filter> raw|tracked n`: a single run, for profilers
 * (valgrind --tool=callgrind --toggle-collect=time_wl). */
static void cmd_one(const char *only, const char *variant, long n) {
  kr_module_t *mr = open_module("wl_raw.so", "wl_raw");
  kr_module_t *mt = open_module("wl_trk.so", "wl_trk");
  const bench_api *a = kr_module_data(strcmp(variant, "raw") == 0 ? mr : mt);
  char tmpl[PATH_MAX];
  snprintf(tmpl, sizeof(tmpl), "%s/kr-uvshim-bench-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  tmpdir_path = mkdtemp(tmpl);
  for (int w = 0; w < (int)(sizeof(WL) / sizeof(WL[0])); w++) {
    if (!strstr(WL[w].label, only)) continue;
    double t = time_wl(a, w, n);
    printf("%s %s n=%ld: %.3f ms\n", WL[w].label, variant, n, t * 1e3);
    break;
  }
  rmdir(tmpdir_path);
  unload(mr);
  unload(mt);
}

static void cmd_work(const char *only) {
  kr_module_t *mr = open_module("wl_raw.so", "wl_raw");
  kr_module_t *mt = open_module("wl_trk.so", "wl_trk");
  const bench_api *raw = kr_module_data(mr), *trk = kr_module_data(mt);
  if (!raw || !trk || raw->tracked || !trk->tracked) DIE("wl modules did not publish their api");

  char tmpl[PATH_MAX];
  snprintf(tmpl, sizeof(tmpl), "%s/kr-uvshim-bench-XXXXXX", getenv("BENCH_TMPDIR") ? getenv("BENCH_TMPDIR") : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  tmpdir_path = mkdtemp(tmpl);
  if (!tmpdir_path) DIE("mkdtemp %s: %s", tmpl, strerror(errno));

  printf("== workloads 1-5: same module source, raw <uv.h> vs kr_uvshim_compat.h; %d rounds each, interleaved ==\n", rounds);
  printf("%-40s %9s %11s %11s %8s %17s %6s %s\n", "workload", "n", "raw med", "tracked med", "ratio", "[min .. max]", "goal", "met");
  for (int w = 0; w < (int)(sizeof(WL) / sizeof(WL[0])); w++) {
    if (only && !strstr(WL[w].label, only)) continue;
    /* warm up both builds and calibrate n so a raw run takes ~target_s */
    double t = time_wl(raw, w, WL[w].n0);
    time_wl(trk, w, WL[w].n0);
    long n = (long)(WL[w].n0 * target_s / (t > 1e-6 ? t : 1e-6));
    if (n < WL[w].n0) n = WL[w].n0;
    if (n > WL[w].nmax) n = WL[w].nmax;
    t = time_wl(raw, w, n); /* second step: per-item cost grows with n (caches) */
    n = (long)(n * target_s / (t > 1e-6 ? t : 1e-6));
    if (n < WL[w].n0) n = WL[w].n0;
    if (n > WL[w].nmax) n = WL[w].nmax;
    if (getenv("BENCH_N")) n = atol(getenv("BENCH_N"));
    double tr[64], tt[64], ratio[64];
    for (int r = 0; r < rounds; r++) {
      if (r % 2 == 0) {
        tr[r] = time_wl(raw, w, n);
        tt[r] = time_wl(trk, w, n);
      } else {
        tt[r] = time_wl(trk, w, n);
        tr[r] = time_wl(raw, w, n);
      }
      ratio[r] = tt[r] / tr[r];
    }
    double mr_ = median(tr, rounds), mt_ = median(tt, rounds), mq = median(ratio, rounds);
    char a[64], b[64], c[64], g[32], rawc[96], trkc[96];
    fmt_time(a, sizeof a, mr_);
    fmt_time(b, sizeof b, mt_);
    snprintf(c, sizeof c, "%.3f [%.3f .. %.3f]", mq, vmin(ratio, rounds), vmax(ratio, rounds));
    snprintf(g, sizeof g, "<= %.2f", WL[w].goal);
    printf("%-40s %9ld %11s %11s %8.3f  [%.3f .. %.3f] %6.2f %s\n", WL[w].label, n, a, b, mq, vmin(ratio, rounds), vmax(ratio, rounds), WL[w].goal,
           mq <= WL[w].goal ? "yes" : "NO");
    printf("%-40s %9s %8.0f/s %8.0f/s   (%s per second)\n", "", "", n / mr_, n / mt_, WL[w].unit);
    fflush(stdout);
    snprintf(rawc, sizeof rawc, "%s (%.0f %s/s)", a, n / mr_, WL[w].unit);
    snprintf(trkc, sizeof trkc, "%s (%.0f %s/s)", b, n / mt_, WL[w].unit);
    char lab[128];
    snprintf(lab, sizeof lab, "%s, n=%ld", WL[w].label, n);
    record(lab, rawc, trkc, c, g, mq <= WL[w].goal ? "yes" : "no");
  }
  rmdir(tmpdir_path);
  unload(mr);
  unload(mt);
}

/* ---------------- workload 6: drain CPU ---------------- */

static kr_module_t *poll_mod;
static uv_idle_t poll_idle;
static double poll_done_at;
static long poll_iterations;

static void poll_cb(uv_idle_t *h) {
  poll_iterations++;
  if (kr_module_live_handles(poll_mod) + kr_module_live_requests(poll_mod) == 0) {
    poll_done_at = now_s();
    uv_idle_stop(h);
  }
}

static void cmd_drain(void) {
  int n = rounds < 3 ? rounds : 3;
  double cpu_kr[8], cpu_poll[8], wall_kr[8], wall_poll[8], ratio[8];
  printf("== workload 6: drain CPU of a module whose cleanup lingers 1 s; %d rounds, interleaved ==\n", n);
  for (int r = 0; r < n; r++) {
    for (int k = 0; k < 2; k++) {
      int kr_first = r % 2 == 0;
      if ((k == 0) == kr_first) {
        kr_module_t *m = open_module("linger.so", "linger");
        uv_run(bench_loop, UV_RUN_NOWAIT);
        double c0 = cpu_s(), t0 = now_s();
        unload(m); /* kr_module_cleanup, then the loop until done */
        cpu_kr[r] = cpu_s() - c0;
        wall_kr[r] = done_at - t0;
      } else {
        kr_module_t *m = open_module("linger.so", "linger");
        const bench_api *a = kr_module_data(m);
        uv_run(bench_loop, UV_RUN_NOWAIT);
        poll_mod = m;
        poll_iterations = 0;
        double c0 = cpu_s(), t0 = now_s();
        /* the naive approach: call the module's cleanup, then poll the
         * counters from a uv_idle handle until nothing is live */
        a->cleanup(m);
        uv_idle_init(bench_loop, &poll_idle);
        uv_idle_start(&poll_idle, poll_cb);
        uv_run(bench_loop, UV_RUN_DEFAULT); /* returns once the idle stopped and the timer closed */
        cpu_poll[r] = cpu_s() - c0;
        wall_poll[r] = poll_done_at - t0;
        uv_close((uv_handle_t *)&poll_idle, NULL);
        uv_run(bench_loop, UV_RUN_DEFAULT);
        unload(m); /* nothing live: deinit and dlclose (not measured) */
      }
    }
    ratio[r] = cpu_kr[r] / cpu_poll[r];
    printf("  round %d: kr_module_cleanup %.3f ms CPU (%.3f s wall); uv_idle poll %.1f ms CPU (%.3f s wall, %ld polls); ratio %.5f\n", r,
           cpu_kr[r] * 1e3, wall_kr[r], cpu_poll[r] * 1e3, wall_poll[r], poll_iterations, ratio[r]);
  }
  double mk = median(cpu_kr, n), mp = median(cpu_poll, n), mq = median(ratio, n);
  printf("%-40s kr %.3f ms CPU, poll %.1f ms CPU, ratio %.5f [%.5f .. %.5f] (goal <= 0.01): %s\n", "6 drain CPU (cleanup lingers 1 s)", mk * 1e3, mp * 1e3,
         mq, vmin(ratio, n), vmax(ratio, n), mq <= 0.01 ? "yes" : "NO");
  char a[64], b[64], c[96];
  snprintf(a, sizeof a, "%.1f ms CPU (uv_idle poll)", mp * 1e3);
  snprintf(b, sizeof b, "%.3f ms CPU (kr_module_cleanup)", mk * 1e3);
  snprintf(c, sizeof c, "%.5f [%.5f .. %.5f]", mq, vmin(ratio, n), vmax(ratio, n));
  record("6 drain CPU, cleanup lingers 1 s", a, b, c, "<= 0.01", mq <= 0.01 ? "yes" : "no");
}

/* ---------------- workload 7: scale ---------------- */

#define SCALE_MAX 1000

static kr_module_t *smods[2][SCALE_MAX];

static void copy_file(const char *src, const char *dst) {
  static char *buf;
  static size_t len;
  static char last[PATH_MAX];
  if (strcmp(last, src) != 0) {
    FILE *f = fopen(src, "rb");
    if (!f) DIE("open %s: %s", src, strerror(errno));
    free(buf);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(len);
    if (fread(buf, 1, len, f) != len) DIE("read %s", src);
    fclose(f);
    snprintf(last, sizeof last, "%s", src);
  }
  FILE *g = fopen(dst, "wb");
  if (!g) DIE("create %s: %s", dst, strerror(errno));
  fwrite(buf, 1, len, g);
  fclose(g);
}

static void scale_copies(int tracked, int n) {
  char sdir[PATH_MAX], src[PATH_MAX], dst[PATH_MAX];
  snprintf(sdir, sizeof sdir, "%s/scale", dir);
  mkdir(sdir, 0755);
  snprintf(src, sizeof src, "%s/scale_%s.so", dir, tracked ? "trk" : "raw");
  struct stat st_src, st;
  stat(src, &st_src);
  for (int i = 0; i < n; i++) {
    snprintf(dst, sizeof dst, "%s/%c%d.so", sdir, tracked ? 't' : 'r', i);
    if (stat(dst, &st) == 0 && st.st_mtime >= st_src.st_mtime && st.st_size == st_src.st_size) continue;
    copy_file(src, dst);
  }
}

static long scale_h = 1000;

static kr_module_t *scale_open(int tracked, int i) {
  char file[64], name[32];
  snprintf(file, sizeof file, "scale/%c%d.so", tracked ? 't' : 'r', i);
  snprintf(name, sizeof name, "%c%d", tracked ? 't' : 'r', i);
  kr_module_t *m = open_module(file, name);
  const bench_api *a = kr_module_data(m);
  if (a->populate(bench_loop, scale_h) != scale_h) DIE("populate %s", name);
  if (tracked && kr_module_live_handles(m) != (size_t)scale_h) DIE("%s: %zu live handles", name, kr_module_live_handles(m));
  smods[tracked][i] = m;
  return m;
}

/* unload module i and open it again (not timed); returns the unload time */
static double scale_unload_one(int i) {
  double t0 = now_s();
  unload(smods[1][i]);
  double t = done_at - t0;
  scale_open(1, i);
  return t;
}

static void cmd_scale(void) {
  const int Ns[] = {10, 100, 1000};
  const int reps = 11; /* an unload takes well under a millisecond */
  double alone[16], t[16];
  scale_copies(1, SCALE_MAX);
  scale_copies(0, SCALE_MAX);
  printf("== workload 7: scale, %ld started+unref'd timers per module ==\n", scale_h);

  /* alone: one module */
  scale_open(1, 0);
  for (int r = 0; r < 3; r++) scale_unload_one(0); /* warm-up, not counted */
  for (int r = 0; r < reps; r++) alone[r] = scale_unload_one(0);
  double ma = median(alone, reps);
  printf("  unload one module, alone:        median %8.3f ms [%.3f .. %.3f]\n", ma * 1e3, vmin(alone, reps) * 1e3, vmax(alone, reps) * 1e3);
  char a[96], b[96], c[96], lab[128];
  snprintf(a, sizeof a, "%.3f ms (alone)", ma * 1e3);

  int open_n = 1;
  for (unsigned k = 0; k < sizeof(Ns) / sizeof(Ns[0]); k++) {
    int N = Ns[k];
    for (; open_n < N; open_n++) scale_open(1, open_n);
    for (int r = 0; r < reps; r++) t[r] = scale_unload_one(N / 2);
    double mt = median(t, reps), q = mt / ma;
    printf("  unload one module among %4d:    median %8.3f ms [%.3f .. %.3f]  ratio to alone %.2f (goal <= 2): %s\n", N, mt * 1e3, vmin(t, reps) * 1e3,
           vmax(t, reps) * 1e3, q, q <= 2 ? "yes" : "NO");
    fflush(stdout);
    snprintf(lab, sizeof lab, "7 unload 1 of %d modules x %ld timers", N, scale_h);
    snprintf(b, sizeof b, "%.3f ms (among %d)", mt * 1e3, N);
    snprintf(c, sizeof c, "%.2f [%.2f .. %.2f]", q, vmin(t, reps) / ma, vmax(t, reps) / ma);
    record(lab, a, b, c, "<= 2 (vs alone)", q <= 2 ? "yes" : "no");
  }

  /* shut all tracked modules down */
  int N = open_n;
  int before = unloaded;
  double t0 = now_s();
  for (int i = 0; i < N; i++) {
    int rc = kr_module_cleanup(smods[1][i], on_done, NULL);
    if (rc) DIE("cleanup: %s", uv_strerror(rc));
  }
  while (unloaded - before < N) uv_run(bench_loop, UV_RUN_ONCE);
  double t_trk = done_at - t0;

  /* raw: the same modules and handles, closed by libuv directly */
  for (int i = 0; i < N; i++) scale_open(0, i);
  t0 = now_s();
  for (int i = 0; i < N; i++) ((const bench_api *)kr_module_data(smods[0][i]))->close_all();
  uv_run(bench_loop, UV_RUN_DEFAULT);
  double t_raw = now_s() - t0;
  for (int i = 0; i < N; i++)
    if (((const bench_api *)kr_module_data(smods[0][i]))->open_count() != 0) DIE("raw close incomplete");
  /* and unloading the (now idle) raw modules: deinit + dlclose only */
  before = unloaded;
  t0 = now_s();
  for (int i = 0; i < N; i++) kr_module_cleanup(smods[0][i], on_done, NULL);
  while (unloaded - before < N) uv_run(bench_loop, UV_RUN_ONCE);
  double t_raw_unload = done_at - t0;
  double q1 = t_trk / t_raw, q2 = t_trk / (t_raw + t_raw_unload);
  printf("  shut down all %d modules (%ld handles): tracked cleanup->all done %.1f ms; raw uv_close all %.1f ms (ratio %.2f); "
         "raw close + unload the idle modules %.1f ms (ratio %.2f)\n",
         N, N * scale_h, t_trk * 1e3, t_raw * 1e3, q1, (t_raw + t_raw_unload) * 1e3, q2);
  snprintf(lab, sizeof lab, "7 shut down %d modules x %ld timers", N, scale_h);
  snprintf(a, sizeof a, "%.1f ms close; %.1f ms close+dlclose", t_raw * 1e3, (t_raw + t_raw_unload) * 1e3);
  snprintf(b, sizeof b, "%.1f ms", t_trk * 1e3);
  snprintf(c, sizeof c, "%.2f vs close; %.2f vs close+dlclose", q1, q2);
  record(lab, a, b, c, "(no goal)", "-");
}

/* ---------------- workload 8: memory ---------------- */

static size_t heap_bytes(void) {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

static size_t rss_bytes(void) {
  long size, rss;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f || fscanf(f, "%ld %ld", &size, &rss) != 2) DIE("statm");
  fclose(f);
  return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}

static void cmd_mem(const char *what, long n) {
  int handles = strcmp(what, "handles") == 0;
  if (!handles && strcmp(what, "requests") != 0) DIE("mem handles|requests");
  kr_module_t *mr = open_module("wl_raw.so", "wl_raw");
  kr_module_t *mt = open_module("wl_trk.so", "wl_trk");
  const bench_api *m[2] = {kr_module_data(mr), kr_module_data(mt)};
  /* start the thread pool outside the measurement */
  m[0]->mem_requests(bench_loop, 1, 0);
  m[0]->mem_requests(bench_loop, 1, 1);
  long d[2], rss[2];
  for (int k = 0; k < 2; k++) {
    size_t h0 = heap_bytes(), r0 = rss_bytes();
    long rc = handles ? m[k]->mem_handles(bench_loop, n, 0) : m[k]->mem_requests(bench_loop, n, 0);
    if (rc != n) DIE("mem %s", what);
    d[k] = (long)(heap_bytes() - h0);
    rss[k] = (long)(rss_bytes() - r0);
    if (k == 1 && (handles ? kr_module_live_handles(mt) : kr_module_live_requests(mt)) != (size_t)n) DIE("not all tracked");
    rc = handles ? m[k]->mem_handles(bench_loop, n, 1) : m[k]->mem_requests(bench_loop, n, 1);
    if (rc != n) DIE("mem %s close", what);
  }
  size_t after = heap_bytes();
  double per = (double)(d[1] - d[0]) / n, per_rss = (double)(rss[1] - rss[0]) / n;
  const char *obj = handles ? "live timer handles" : "uv_queue_work requests in flight";
  printf("== workload 8: memory, %ld %s (fresh process) ==\n", n, obj);
  printf("  heap (mallinfo2 uordblks+hblkhd) growth: raw %ld B, tracked %ld B -> %.1f bytes of bookkeeping per %s\n", d[0], d[1], per,
         handles ? "handle" : "request");
  printf("  RSS growth: raw %ld B, tracked %ld B -> %.1f bytes per object; heap after closing all: %zu B (the ledger keeps its capacity)\n", rss[0], rss[1],
         per_rss, after);
  char lab[96], a[64], b[64], c[64];
  snprintf(lab, sizeof lab, "8 memory per live tracked %s (%ld live)", handles ? "handle" : "request", n);
  snprintf(a, sizeof a, "%.1f MB heap", d[0] / 1e6);
  snprintf(b, sizeof b, "%.1f MB heap", d[1] / 1e6);
  snprintf(c, sizeof c, "%.1f B per %s", per, handles ? "handle" : "request");
  if (handles) record(lab, a, b, c, "<= 48 B", per <= 48 ? "yes" : "no");
  else record(lab, a, b, c, "(no goal)", "-");
  unload(mr);
  unload(mt);
}

static void cmd_summary(void) {
  FILE *f = fopen(results, "r");
  if (!f) DIE("no results in %s", results);
  char line[1024];
  printf("\n== summary (%s) ==\n", results);
  printf("| workload | raw | tracked | ratio tracked/raw, median [min .. max] | goal | met? |\n|---|---|---|---|---|---|\n");
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    printf("|");
    for (char *tok = strtok(line, "\t"); tok; tok = strtok(NULL, "\t")) printf(" %s |", tok);
    printf("\n");
  }
  fclose(f);
}

int main(int argc, char **argv) {
  if (argc < 2) DIE("usage: bench work [filter] | drain | scale [H] | mem handles|requests [n] | summary");
  char exe[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (len < 0) DIE("readlink");
  exe[len] = 0;
  snprintf(dir, sizeof dir, "%s", dirname(exe));
  if (getenv("BENCH_RESULTS")) snprintf(results, sizeof results, "%s", getenv("BENCH_RESULTS"));
  else snprintf(results, sizeof results, "%s/results.tsv", dir);
  if (getenv("BENCH_ROUNDS")) rounds = atoi(getenv("BENCH_ROUNDS"));
  if (rounds < 1) rounds = 1;
  if (rounds > 63) rounds = 63;
  if (getenv("BENCH_TARGET_S")) target_s = atof(getenv("BENCH_TARGET_S"));
  setvbuf(stdout, NULL, _IOLBF, 0);

  if (strcmp(argv[1], "summary") == 0) {
    cmd_summary();
    return 0;
  }
  bench_loop = uv_default_loop();
  int rc = kr_host_new(bench_loop, &host);
  if (rc) DIE("kr_host_new: %s", uv_strerror(rc));

  if (strcmp(argv[1], "work") == 0) cmd_work(argc > 2 ? argv[2] : NULL);
  else if (strcmp(argv[1], "drain") == 0) cmd_drain();
  else if (strcmp(argv[1], "one") == 0 && argc > 4) cmd_one(argv[2], argv[3], atol(argv[4]));
  else if (strcmp(argv[1], "scale") == 0) {
    if (argc > 2) scale_h = atol(argv[2]);
    cmd_scale();
  } else if (strcmp(argv[1], "mem") == 0) cmd_mem(argc > 2 ? argv[2] : "handles", argc > 3 ? atol(argv[3]) : 100000);
  else DIE("unknown command %s", argv[1]);

  rc = kr_host_free(host);
  if (rc) DIE("kr_host_free: %s (%s)", uv_strerror(rc), kr_last_error());
  uv_run(bench_loop, UV_RUN_DEFAULT);
  return 0;
}
