/* sd_test.h: helpers shared by the shutdown (issue 4) tests.
 *
 * - ASSERT_* come from ../test.h (abort() with file:line on failure).
 * - sd_event(): an event log in the host. It is exported (the host links
 *   with -rdynamic) so that modules append to the same log: each module
 *   declares `extern void sd_event(const char *fmt, ...)` and calls it from
 *   init, cleanup, its callbacks, deinit and its ELF destructor (which runs
 *   inside dlclose(), so "x:dlclose" marks the library really closed).
 * - sd_log_hook(): a kr_log_fn that keeps every message (and counts
 *   warnings); phase start/done messages are also copied into the event
 *   log as "phase:<name>:started" / "phase:<name>:done".
 * - sd_json_check(): feeds a JSON text to python3, which must parse it and
 *   find a Python expression over it (`d`) true.
 * - sd_is_loaded(): dlopen(RTLD_NOLOAD): is the library still mapped?
 *
 * Include it in exactly one translation unit (the test program). */
#ifndef SD_TEST_H
#define SD_TEST_H

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "kr_uvshim.h"
#include "../test.h"

#ifndef MODDIR
#error "MODDIR must be defined (directory of the test modules)"
#endif
#define SD_MOD(name) MODDIR "/" name ".so"

/* ---- event log -------------------------------------------------------- */
#define SD_MAX_EVENTS 512
#define SD_EVENT_LEN 96
static char sd_events[SD_MAX_EVENTS][SD_EVENT_LEN];
static __attribute__((unused)) int sd_nevents;

__attribute__((visibility("default"), used)) void sd_event(const char *fmt, ...) {
  va_list ap;
  if (sd_nevents >= SD_MAX_EVENTS) {
    fprintf(stderr, "sd_event: log full\n");
    abort();
  }
  va_start(ap, fmt);
  vsnprintf(sd_events[sd_nevents], SD_EVENT_LEN, fmt, ap);
  va_end(ap);
  if (getenv("SD_VERBOSE")) fprintf(stderr, "event %d: %s\n", sd_nevents, sd_events[sd_nevents]);
  sd_nevents++;
}

/* Index of the first event equal to `name`, or -1. */
static __attribute__((unused)) int sd_ev_index(const char *name) {
  for (int i = 0; i < sd_nevents; i++)
    if (strcmp(sd_events[i], name) == 0) return i;
  return -1;
}

static __attribute__((unused)) int sd_ev_count(const char *name) {
  int n = 0;
  for (int i = 0; i < sd_nevents; i++)
    if (strcmp(sd_events[i], name) == 0) n++;
  return n;
}

static __attribute__((unused)) void sd_ev_print(FILE *f) {
  for (int i = 0; i < sd_nevents; i++) fprintf(f, "  [%d] %s\n", i, sd_events[i]);
}

/* The whole log equals `expected` (NULL-terminated list). */
#define ASSERT_EVENTS(...)                                                   \
  do {                                                                      \
    const char *sd_exp_[] = {__VA_ARGS__, NULL};                            \
    int sd_n_ = 0;                                                          \
    while (sd_exp_[sd_n_]) sd_n_++;                                         \
    int sd_ok_ = sd_n_ == sd_nevents;                                       \
    for (int i_ = 0; sd_ok_ && i_ < sd_n_; i_++)                            \
      if (strcmp(sd_exp_[i_], sd_events[i_]) != 0) sd_ok_ = 0;              \
    if (!sd_ok_) {                                                          \
      fprintf(stderr, "event log differs; expected:\n");                    \
      for (int i_ = 0; i_ < sd_n_; i_++)                                    \
        fprintf(stderr, "  [%d] %s\n", i_, sd_exp_[i_]);                    \
      fprintf(stderr, "actual:\n");                                         \
      sd_ev_print(stderr);                                                  \
      KR_TEST_FAIL_("%s", "ASSERT_EVENTS");                                 \
    }                                                                       \
  } while (0)

/* Event `a` happened, event `b` happened, and `a` came first. */
#define ASSERT_BEFORE(a, b)                                                  \
  do {                                                                      \
    int ia_ = sd_ev_index(a), ib_ = sd_ev_index(b);                         \
    if (ia_ < 0 || ib_ < 0 || ia_ >= ib_) {                                 \
      sd_ev_print(stderr);                                                  \
      KR_TEST_FAIL_("`%s` before `%s` (index %d, %d)", a, b, ia_, ib_);     \
    }                                                                       \
  } while (0)

/* ---- log hook --------------------------------------------------------- */
#define SD_MAX_LOGS 256
static char *sd_logs[SD_MAX_LOGS];
static __attribute__((unused)) int sd_logs_level[SD_MAX_LOGS];
static __attribute__((unused)) int sd_nlogs;
static __attribute__((unused)) int sd_nwarn;

static __attribute__((unused)) void sd_log_hook(void *arg, int level, const char *msg) {
  (void)arg;
  ASSERT_NOT_NULL(msg);
  if (getenv("SD_VERBOSE")) fprintf(stderr, "log[%d]: %s\n", level, msg);
  if (level >= KR_LOG_WARN) sd_nwarn++;
  if (sd_nlogs < SD_MAX_LOGS) {
    sd_logs_level[sd_nlogs] = level;
    sd_logs[sd_nlogs++] = strdup(msg);
  }
  /* "shutdown: phase \"NAME\" started" / "... done in N ms" */
  const char *p = "shutdown: phase \"";
  if (strncmp(msg, p, strlen(p)) == 0) {
    const char *name = msg + strlen(p);
    const char *q = strchr(name, '"');
    if (q) {
      if (strstr(q, "\" started")) sd_event("phase:%.*s:started", (int)(q - name), name);
      else if (strstr(q, "\" done")) sd_event("phase:%.*s:done", (int)(q - name), name);
    }
  }
}

/* Index of the first kept log message containing `needle` (and, if
 * `needle2` is not NULL, that one too), or -1. */
static __attribute__((unused)) int sd_log_find(const char *needle, const char *needle2) {
  for (int i = 0; i < sd_nlogs; i++)
    if (strstr(sd_logs[i], needle) && (!needle2 || strstr(sd_logs[i], needle2))) return i;
  return -1;
}

static __attribute__((unused)) void sd_logs_print(FILE *f) {
  for (int i = 0; i < sd_nlogs; i++) fprintf(f, "  log[%d] %s\n", sd_logs_level[i], sd_logs[i]);
}

#define ASSERT_LOGGED(needle, needle2)                                       \
  do {                                                                      \
    if (sd_log_find((needle), (needle2)) < 0) {                             \
      sd_logs_print(stderr);                                                \
      KR_TEST_FAIL_("log has a message with `%s`%s%s", (needle),            \
                    (needle2) ? " and " : "", (needle2) ? (needle2) : "");  \
    }                                                                       \
  } while (0)

static __attribute__((unused)) void sd_logs_free(void) {
  for (int i = 0; i < sd_nlogs; i++) free(sd_logs[i]);
  sd_nlogs = 0;
}

/* ---- JSON ------------------------------------------------------------- */
/* 0 if python3 parses `json` and `pyexpr` (over `d`) is true. */
static __attribute__((unused)) int sd_json_check(const char *json, const char *pyexpr) {
  char path[] = "/tmp/kr_sd_json_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  size_t len = strlen(json);
  ASSERT_EQ(write(fd, json, len), (ssize_t)len);
  close(fd);
  char cmd[512];
  /* The expression travels in the environment: no shell quoting issues. */
  setenv("SD_PYEXPR", pyexpr ? pyexpr : "True", 1);
  snprintf(cmd, sizeof cmd,
           "python3 -c 'import json,sys,os\n"
           "d=json.load(open(sys.argv[1]))\n"
           "sys.exit(0 if eval(os.environ[\"SD_PYEXPR\"]) else 3)' %s",
           path);
  int rc = system(cmd);
  unlink(path);
  if (rc == -1 || !WIFEXITED(rc)) return -1;
  return WEXITSTATUS(rc);
}

#define ASSERT_JSON(json, pyexpr)                                            \
  do {                                                                      \
    int rc_ = sd_json_check((json), (pyexpr));                              \
    if (rc_ != 0) {                                                         \
      fprintf(stderr, "JSON was:\n%s\n", (json));                           \
      KR_TEST_FAIL_("JSON parses and `%s` (python3 exit %d)", (pyexpr), rc_); \
    }                                                                       \
  } while (0)

/* ---- misc ------------------------------------------------------------- */
/* Is the shared object at `path` still mapped (not dlclosed)? */
static __attribute__((unused)) int sd_is_loaded(const char *path) {
  void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  if (!h) return 0;
  dlclose(h);
  return 1;
}

static __attribute__((unused)) char *sd_report(kr_host_t *host, int fmt) {
  char *r = (char *)0x1;
  ASSERT_EQ(0, kr_host_report(host, fmt, &r));
  ASSERT_NOT_NULL(r);
  return r;
}

/* After uv_run returned: free the host and close the loop cleanly. */
static __attribute__((unused)) void sd_teardown(uv_loop_t *loop, kr_host_t *host) {
  ASSERT_EQ(0, kr_host_free(host));
  uv_run(loop, UV_RUN_DEFAULT); /* close callbacks, if any */
  ASSERT_EQ(0, uv_loop_close(loop));
  sd_logs_free();
}

#endif /* SD_TEST_H */
