/* A module whose cleanup does a last commit: it writes COMMIT_BYTES known
 * bytes to the file named by the environment variable SD_COMMIT_FILE with
 * chained uv_fs_write requests (the same request reused from its own
 * callback), then uv_fs_fsync, then uv_fs_close, all tracked through the
 * compat header. The shim must not unload it before the close callback. */
#include <fcntl.h>
#include <stdlib.h>
#include "kr_uvshim_compat.h"

extern void sd_event(const char *fmt, ...);

#define COMMIT_BYTES (256 * 1024)
#define CHUNK (16 * 1024)

static uv_fs_t req;
static uv_file fd = -1;
static size_t written;
static char *data;

static void step(uv_fs_t *r);

static void write_next(void) {
  size_t n = COMMIT_BYTES - written;
  if (n > CHUNK) n = CHUNK;
  uv_buf_t b = uv_buf_init(data + written, (unsigned)n);
  if (uv_fs_write(uv_default_loop(), &req, fd, &b, 1, (int64_t)written, step) != 0)
    sd_event("mod_commit:write start failed");
}

static void step(uv_fs_t *r) {
  uv_fs_type t = r->fs_type;
  ssize_t res = r->result;
  uv_fs_req_cleanup(r);
  if (res < 0) {
    sd_event("mod_commit:error %d", (int)res);
    return;
  }
  switch (t) {
    case UV_FS_OPEN:
      fd = (uv_file)res;
      write_next();
      break;
    case UV_FS_WRITE:
      written += (size_t)res;
      if (written < COMMIT_BYTES) write_next();
      else uv_fs_fsync(uv_default_loop(), &req, fd, step);
      break;
    case UV_FS_FSYNC:
      uv_fs_close(uv_default_loop(), &req, fd, step);
      break;
    case UV_FS_CLOSE:
      sd_event("mod_commit:committed %zu", written);
      break;
    default:
      break;
  }
}

int mod_commit_init(kr_module_t *m) {
  (void)m;
  data = malloc(COMMIT_BYTES);
  if (!data) return UV_ENOMEM;
  for (size_t i = 0; i < COMMIT_BYTES; i++) data[i] = (char)((i * 7 + 3) & 0xff);
  return 0;
}

int mod_commit_cleanup(kr_module_t *m) {
  (void)m;
  sd_event("mod_commit:cleanup");
  const char *path = getenv("SD_COMMIT_FILE");
  if (!path) return UV_EINVAL;
  return uv_fs_open(uv_default_loop(), &req, path, O_WRONLY | O_CREAT | O_TRUNC, 0644, step);
}

int mod_commit_deinit(kr_module_t *m) {
  (void)m;
  sd_event("mod_commit:deinit");
  free(data);
  data = NULL;
  return 0;
}

__attribute__((destructor)) static void on_dlclose(void) {
  sd_event("mod_commit:dlclose");
}
