/* harness.h: host side of a test. Included by exactly one file per test
 * program (it defines the probe the modules bind to). */
#ifndef KR_TEST_HARNESS_H
#define KR_TEST_HARNESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>
#include "kr_uvshim.h"
#include "probe.h"
#include "test.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define KR_HAVE_VALGRIND_H 1
#endif
#endif

#ifndef MODDIR
#error "MODDIR (the directory of the built test modules) must be defined"
#endif

struct probe probe;

static inline int under_valgrind(void) {
#ifdef KR_HAVE_VALGRIND_H
  if (RUNNING_ON_VALGRIND) return 1;
#endif
  const char *e = getenv("KR_TEST_VALGRIND");
  return e != NULL && *e != '\0' && strcmp(e, "0") != 0;
}

/* The path of the built module `name` (build/mod_<name>.so). */
static inline const char *mod_path(const char *name) {
  static char buf[4][1024];
  static int i;
  char *p = buf[i++ % 4];
  snprintf(p, sizeof buf[0], "%s/mod_%s.so", MODDIR, name);
  return p;
}

/* Whether the shared object at `path` is still mapped in this process. */
static inline int lib_is_loaded(const char *path) {
  void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  if (h == NULL) return 0;
  dlclose(h);
  return 1;
}

static inline uint64_t now_ms(void) { return uv_hrtime() / 1000000u; }

/* User + system CPU time of the whole process, in microseconds. */
static inline uint64_t cpu_us(void) {
  struct rusage ru;
  ASSERT_EQ(getrusage(RUSAGE_SELF, &ru), 0);
  return (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
         (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
}

/* The done callback: records status and name, and marks the library closed
 * (module callbacks assert it is not). `arg` must be &probe. */
static __attribute__((unused)) void probe_done_cb(kr_host_t *host, const char *name, int status, void *arg) {
  ASSERT_NOT_NULL(host);
  ASSERT_PTR_EQ(arg, &probe);
  ASSERT_EQ(probe.done_calls, 0);
  ASSERT_NOT_NULL(name);
  probe.done_calls++;
  probe.done_status = status;
  probe.deinit_calls_at_done = probe.deinit_calls;
  snprintf(probe.done_name, sizeof probe.done_name, "%s", name);
  probe.closed = 1;
}

/* A fresh temp file path in probe.path (the file exists, empty). */
static inline void probe_tmpfile(void) {
  const char *dir = getenv("TMPDIR");
  if (dir == NULL || *dir == '\0') dir = "/tmp";
  snprintf(probe.path, sizeof probe.path, "%s/kr-uvshim-test-XXXXXX", dir);
  int fd = mkstemp(probe.path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(close(fd), 0);
}

/* The byte at offset i of the known pattern modules write. */
static inline unsigned char pattern_byte(size_t i) {
  return (unsigned char)((i * 7u + (i >> 8)) % 251u);
}

/* Asserts the file at `path` holds exactly `len` bytes of the pattern
 * (starting at pattern offset `first`), then `tail` (may be NULL). */
static inline void assert_file_pattern(const char *path, size_t len, const char *tail) {
  size_t tlen = tail ? strlen(tail) : 0;
  struct stat st;
  ASSERT_EQ(stat(path, &st), 0);
  ASSERT_EQ(st.st_size, len + tlen);
  FILE *f = fopen(path, "rb");
  ASSERT_NOT_NULL(f);
  unsigned char *buf = malloc(len + tlen + 1);
  ASSERT_NOT_NULL(buf);
  ASSERT_EQ(fread(buf, 1, len + tlen, f), len + tlen);
  fclose(f);
  for (size_t i = 0; i < len; i++) {
    if (buf[i] != pattern_byte(i)) {
      fprintf(stderr, "byte %zu of %s: %u, want %u\n", i, path, buf[i], pattern_byte(i));
      ASSERT_EQ(buf[i], pattern_byte(i));
    }
  }
  if (tlen) ASSERT_EQ(memcmp(buf + len, tail, tlen), 0);
  free(buf);
}

static inline void host_setup(uv_loop_t *loop, kr_host_t **host) {
  memset(&probe, 0, sizeof probe);
  ASSERT_EQ(uv_loop_init(loop), 0);
  *host = NULL;
  ASSERT_EQ(kr_host_new(loop, host), 0);
  ASSERT_NOT_NULL(*host);
}

/* Frees the host, runs the loop once more (the host's handles close) and
 * closes the loop: it must have nothing left. */
static inline void host_teardown(uv_loop_t *loop, kr_host_t *host) {
  ASSERT_EQ(kr_host_free(host), 0);
  ASSERT_EQ(uv_run(loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(uv_loop_close(loop), 0);
}

#endif /* KR_TEST_HARNESS_H */
