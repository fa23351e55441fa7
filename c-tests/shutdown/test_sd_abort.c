/* ABORT policy: in a forked child, a shutdown with a blocker that never
 * finishes (its work, a repeating timer, keeps the loop alive) and
 * timeout_ms=200, on_timeout=KR_ON_TIMEOUT_ABORT. The parent reads the
 * child's stderr through a pipe and asserts: the child died of SIGABRT,
 * not before ~200 ms, and stderr names the stuck blocker, its phase, the
 * state function's text and where it was added (this file and the line of
 * the kr_phase_add_blocker call). */
#include <sys/resource.h>
#include <signal.h>
#include <time.h>
#include "sd_test.h"

static uv_timer_t work;
static int blocker_line;

static void work_cb(uv_timer_t *t) { (void)t; }

static void stuck_trigger(kr_blocker_t *b, void *arg) {
  (void)b;
  (void)arg;
  ASSERT_EQ(0, uv_timer_init(uv_default_loop(), &work));
  ASSERT_EQ(0, uv_timer_start(&work, work_cb, 10, 10));
}

static int stuck_state(void *arg, char *buf, size_t len) {
  (void)arg;
  snprintf(buf, len, "still flushing 42 rows");
  return 0;
}

static void on_done(kr_host_t *h, int status, void *arg) {
  (void)h;
  (void)arg;
  fprintf(stderr, "child: shutdown done with %d: the watchdog did not abort\n", status);
  exit(3);
}

static void child(void) {
  kr_host_t *host;
  kr_phase_t *p;
  kr_shutdown_opts_t o;
  uv_loop_t *loop = uv_default_loop();
  ASSERT_EQ(0, kr_host_new(loop, &host));
  ASSERT_EQ(0, kr_phase_new(host, "profile-before-change", &p));
  blocker_line = __LINE__; ASSERT_EQ(0, kr_phase_add_blocker(p, "stuck-sql-commit", stuck_trigger, stuck_state, NULL, NULL));
  /* Tell the parent which line that was (it cannot see the child's copy). */
  fprintf(stderr, "child: added at #%d#\n", blocker_line);
  ASSERT_EQ(0, kr_shutdown_opts_init(&o));
  o.warn_ms = 0;
  o.timeout_ms = 200;
  o.on_timeout = KR_ON_TIMEOUT_ABORT;
  ASSERT_EQ(0, kr_host_shutdown(host, &o, on_done, NULL));
  uv_run(loop, UV_RUN_DEFAULT);
  fprintf(stderr, "child: uv_run returned: the watchdog did not abort\n");
  exit(4);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(void) {
  int fds[2];
  ASSERT_EQ(0, pipe(fds));
  double t0 = now_ms();
  fflush(NULL);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core); /* the abort is expected: no core file */
    close(fds[0]);
    dup2(fds[1], 2);
    close(fds[1]);
    child();
    _exit(5);
  }
  close(fds[1]);
  size_t cap = 1 << 16, len = 0;
  char *err = malloc(cap);
  ASSERT_NOT_NULL(err);
  for (;;) {
    if (len + 1024 > cap) {
      cap *= 2;
      err = realloc(err, cap);
      ASSERT_NOT_NULL(err);
    }
    ssize_t n = read(fds[0], err + len, cap - len - 1);
    if (n < 0 && errno == EINTR) continue;
    ASSERT_GE(n, 0);
    if (n == 0) break;
    len += (size_t)n;
  }
  err[len] = 0;
  close(fds[0]);
  int status;
  ASSERT_EQ(pid, waitpid(pid, &status, 0));
  double elapsed = now_ms() - t0;
  fprintf(stderr, "child stderr (%zu bytes, %.0f ms):\n%s\n", len, elapsed, err);

  ASSERT(WIFSIGNALED(status));
  ASSERT_EQ(SIGABRT, WTERMSIG(status));
  ASSERT_GE(elapsed, 190);

  /* The line of the kr_phase_add_blocker call, as the child recorded it
   * with __LINE__ on that very line; the report must say file:line. */
  const char *mark = strstr(err, "child: added at #");
  ASSERT_NOT_NULL(mark);
  int line = atoi(mark + strlen("child: added at #"));
  ASSERT_GT(line, 0);
  char loc[128];
  snprintf(loc, sizeof loc, "test_sd_abort.c:%d", line);
  ASSERT_STR_CONTAINS(err, "stuck-sql-commit");
  ASSERT_STR_CONTAINS(err, loc);
  ASSERT_STR_CONTAINS(err, "profile-before-change");
  ASSERT_STR_CONTAINS(err, "still flushing 42 rows");
  free(err);
  return 0;
}
