/* A commit during shutdown: every byte is on disk when uv_run returns.
 *
 * Blocker "sql commit" (phase "flush"): its trigger opens a file and
 * writes COMMIT_BYTES known bytes with chained uv_fs_write requests on the
 * loop (the same request reused from its callback), then uv_fs_fsync, and
 * calls kr_blocker_done() from the fsync callback. Module mod_commit does
 * its own last commit from its cleanup (tracked requests, through the
 * compat header). Nothing calls uv_stop: uv_run must return by itself,
 * after which both files are read back byte for byte; kr_host_free()
 * returns 0 and uv_loop_close() returns 0. */
#include <fcntl.h>
#include "sd_test.h"

#define COMMIT_BYTES (1024 * 1024 + 123)
#define CHUNK (64 * 1024)
#define MOD_COMMIT_BYTES (256 * 1024) /* as in modules/mod_commit.c */

static uv_loop_t *loop;
static kr_host_t *host;
static kr_blocker_t *commit_b;
static uv_fs_t req;
static uv_file fd = -1;
static size_t written;
static int fsynced, done_calls, done_status = 1;
static char *data;
static char path_host[64], path_mod[64];

static void step(uv_fs_t *r);

static void write_next(void) {
  size_t n = COMMIT_BYTES - written;
  if (n > CHUNK) n = CHUNK;
  uv_buf_t b = uv_buf_init(data + written, (unsigned)n);
  ASSERT_EQ(0, uv_fs_write(loop, &req, fd, &b, 1, (int64_t)written, step));
}

static void step(uv_fs_t *r) {
  ASSERT_PTR_EQ(r, &req);
  uv_fs_type t = r->fs_type;
  ssize_t res = r->result;
  uv_fs_req_cleanup(r);
  ASSERT_GE(res, 0);
  if (t == UV_FS_WRITE) {
    written += (size_t)res;
    if (written < COMMIT_BYTES) write_next();
    else ASSERT_EQ(0, uv_fs_fsync(loop, &req, fd, step));
  } else if (t == UV_FS_FSYNC) {
    fsynced = 1;
    ASSERT_EQ(0, uv_fs_close(NULL, &req, fd, NULL)); /* synchronous */
    uv_fs_req_cleanup(&req);
    sd_event("host commit fsynced");
    ASSERT_EQ(0, kr_blocker_done(commit_b));
  } else {
    ASSERT(0 && "unexpected fs callback");
  }
}

static void commit_trigger(kr_blocker_t *b, void *arg) {
  (void)arg;
  sd_event("host commit trigger");
  commit_b = b;
  fd = uv_fs_open(NULL, &req, path_host, O_WRONLY | O_CREAT | O_TRUNC, 0644, NULL);
  uv_fs_req_cleanup(&req);
  ASSERT_GE(fd, 0);
  write_next();
}

static int commit_state(void *arg, char *buf, size_t len) {
  (void)arg;
  snprintf(buf, len, "%zu of %d bytes written", written, COMMIT_BYTES);
  return 0;
}

static void on_done(kr_host_t *h, int status, void *arg) {
  (void)h;
  (void)arg;
  /* The commit finished before the shutdown did. */
  ASSERT_EQ(1, fsynced);
  ASSERT_EQ(COMMIT_BYTES, written);
  done_status = status;
  done_calls++;
  sd_event("shutdown:done");
}

static void check_file(const char *path, size_t n, unsigned mul, unsigned add) {
  FILE *f = fopen(path, "rb");
  ASSERT_NOT_NULL(f);
  unsigned char *buf = malloc(n + 16);
  ASSERT_NOT_NULL(buf);
  size_t got = fread(buf, 1, n + 16, f);
  fclose(f);
  ASSERT_EQ(got, n);
  for (size_t i = 0; i < n; i++)
    if (buf[i] != (unsigned char)((i * mul + add) & 0xff)) {
      fprintf(stderr, "%s: byte %zu is %u\n", path, i, buf[i]);
      ASSERT(0 && "file content differs");
    }
  free(buf);
}

int main(void) {
  kr_phase_t *flush;
  kr_module_t *m;
  snprintf(path_host, sizeof path_host, "/tmp/kr_sd_commit_host_%d", (int)getpid());
  snprintf(path_mod, sizeof path_mod, "/tmp/kr_sd_commit_mod_%d", (int)getpid());
  setenv("SD_COMMIT_FILE", path_mod, 1);
  data = malloc(COMMIT_BYTES);
  ASSERT_NOT_NULL(data);
  for (size_t i = 0; i < COMMIT_BYTES; i++) data[i] = (char)((i * 13 + 5) & 0xff);

  loop = uv_default_loop();
  ASSERT_EQ(0, kr_host_new(loop, &host));
  ASSERT_EQ(0, kr_host_set_log(host, sd_log_hook, NULL));
  ASSERT_EQ(0, kr_module_open(host, SD_MOD("mod_commit"), "mod_commit", 0, &m));
  ASSERT_EQ(0, kr_phase_new(host, "flush", &flush));
  ASSERT_EQ(0, kr_phase_add_blocker(flush, "sql commit", commit_trigger, commit_state, NULL, NULL));

  ASSERT_EQ(0, kr_host_shutdown(host, NULL, on_done, NULL));
  ASSERT_EQ(0, uv_run(loop, UV_RUN_DEFAULT)); /* by itself: no uv_stop anywhere */
  ASSERT_EQ(1, done_calls);
  ASSERT_EQ(0, done_status);
  ASSERT_EQ(0, uv_loop_alive(loop));

  ASSERT_BEFORE("host commit fsynced", "mod_commit:cleanup");
  ASSERT_BEFORE("mod_commit:cleanup", "mod_commit:committed 262144");
  ASSERT_BEFORE("mod_commit:committed 262144", "mod_commit:deinit");
  ASSERT_BEFORE("mod_commit:deinit", "mod_commit:dlclose");
  ASSERT_BEFORE("mod_commit:dlclose", "shutdown:done");

  check_file(path_host, COMMIT_BYTES, 13, 5);
  check_file(path_mod, MOD_COMMIT_BYTES, 7, 3);
  unlink(path_host);
  unlink(path_mod);
  free(data);

  ASSERT_EQ(0, kr_host_free(host));
  if (uv_loop_close(loop) == UV_EBUSY) { /* close callbacks still due */
    ASSERT_EQ(0, uv_run(loop, UV_RUN_DEFAULT));
    ASSERT_EQ(0, uv_loop_close(loop));
  }
  sd_logs_free();
  return 0;
}
