/* asis_host.h: host side of an issue-5 test. Included by exactly one file
 * per program; defines the probe the modules bind to. */
#ifndef KR_ASIS_HOST_H
#define KR_ASIS_HOST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>
#include "kr_uvshim.h"
#include "asis_probe.h"
#include "../test.h"

#ifndef MODDIR
#error "MODDIR (the directory of the built test modules) must be defined"
#endif

struct asis_probe aprobe;

static inline const char *mod_path(const char *name) {
  static char buf[4][1024];
  static int i;
  char *p = buf[i++ % 4];
  snprintf(p, sizeof buf[0], "%s/mod_%s.so", MODDIR, name);
  return p;
}

#ifdef ASIS_COUNT_DLCLOSE
/* The host interposes dlclose (the static library's calls bind to the
 * executable's definition) to count the calls on `dlclose_target`. */
static void *dlclose_target;
static int dlclose_calls, dlclose_other_calls, dlclose_ignore;
int dlclose(void *h) {
  static int (*real)(void *);
  if (real == NULL) real = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
  if (!dlclose_ignore) {
    if ((uintptr_t)h == (uintptr_t)dlclose_target && dlclose_target) dlclose_calls++;
    else dlclose_other_calls++;
  }
  return real(h);
}
#endif

/* Whether the shared object at `path` is still mapped in this process. */
static inline int lib_is_loaded(const char *path) {
  void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  if (h == NULL) return 0;
#ifdef ASIS_COUNT_DLCLOSE
  dlclose_ignore++;
#endif
  dlclose(h);
#ifdef ASIS_COUNT_DLCLOSE
  dlclose_ignore--;
#endif
  return 1;
}

/* What kr_module_dump(m) writes, as a malloc'd string; *lines gets its
 * return value. */
static inline char *dump_of(const kr_module_t *m, int *lines) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ASSERT_NOT_NULL(f);
  int rc = kr_module_dump(m, f);
  ASSERT_EQ(fclose(f), 0);
  ASSERT_NOT_NULL(buf);
  if (lines) *lines = rc;
  fprintf(stderr, "--- dump (rc %d) ---\n%s--- end dump ---\n", rc, buf);
  return buf;
}

static inline size_t count_substr(const char *hay, const char *needle) {
  size_t n = 0;
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
  return n;
}

static inline char *report_of(kr_host_t *host) {
  char *rep = NULL;
  ASSERT_EQ(kr_host_report(host, KR_REPORT_TEXT, &rep), 0);
  ASSERT_NOT_NULL(rep);
  fprintf(stderr, "--- report ---\n%s--- end report ---\n", rep);
  return rep;
}

/* A done callback that records into aprobe (arg must be &aprobe). */
static __attribute__((unused)) void asis_done(kr_host_t *h, const char *name, int status, void *arg) {
  ASSERT_NOT_NULL(h);
  ASSERT_NOT_NULL(name);
  ASSERT_PTR_EQ(arg, &aprobe);
  ASSERT_EQ(aprobe.done_calls, 0);
  aprobe.done_calls++;
  aprobe.done_status = status;
  aprobe.closed = 1;
}

static void asis_log(void *arg, int level, const char *msg) {
  (void)arg;
  fprintf(stderr, "log[%d]: %s\n", level, msg);
}

static inline void host_setup(uv_loop_t *loop, kr_host_t **host) {
  memset(&aprobe, 0, sizeof aprobe);
  aprobe.fd = -1;
  ASSERT_EQ(uv_loop_init(loop), 0);
  aprobe.loop = loop;
  *host = NULL;
  ASSERT_EQ(kr_host_new(loop, host), 0);
  ASSERT_NOT_NULL(*host);
  ASSERT_EQ(kr_host_set_log(*host, asis_log, NULL), 0);
}

static inline void host_teardown(uv_loop_t *loop, kr_host_t *host) {
  ASSERT_EQ(kr_host_free(host), 0);
  ASSERT_EQ(uv_run(loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(uv_loop_close(loop), 0);
}

/* A one-shot host timer calling fn after ms (host memory, host callback). */
struct host_timer {
  uv_timer_t t;
  void (*fn)(void *arg);
  void *arg;
};
static void host_timer_fire(uv_timer_t *t) {
  struct host_timer *ht = (struct host_timer *)t;
  ht->fn(ht->arg);
  uv_close((uv_handle_t *)t, NULL);
}
static inline void host_after(uv_loop_t *loop, struct host_timer *ht, uint64_t ms, void (*fn)(void *), void *arg) {
  ht->fn = fn;
  ht->arg = arg;
  ASSERT_EQ(uv_timer_init(loop, &ht->t), 0);
  ASSERT_EQ(uv_timer_start(&ht->t, host_timer_fire, ms, 0), 0);
}

#endif
