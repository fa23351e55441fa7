/* Test 8: NULL for every pointer argument of every exported function:
 * UV_EINVAL (or NULL / 0 / KR_MODULE_INVALID where the function returns no
 * error code), no crash, nothing started: at the end the loop closes with
 * nothing left, so no failed call initialised a handle or started a
 * request. NULL callbacks are legal libuv values and are not covered here
 * (a NULL work callback is libuv's own UV_EINVAL). */
#include "harness.h"
#include <signal.h>

static uv_loop_t loop;
static kr_module_t *reg;
static uv_tcp_t tcp;
static uv_udp_t udp;
static uv_pipe_t pipe_h;
static int closes;
static int pipe_connect_cbs;

static void on_close(uv_handle_t *h) { (void)h; closes++; }
static int reg_cleanup(kr_module_t *m) {
  ASSERT_PTR_EQ(m, reg);
  kr_uv_close((uv_handle_t *)&tcp, on_close);
  kr_uv_close((uv_handle_t *)&udp, on_close);
  kr_uv_close((uv_handle_t *)&pipe_h, on_close);
  return 0;
}
static int reg_deinit(kr_module_t *m) {
  ASSERT_EQ(kr_module_live_handles(m), 0);
  ASSERT_EQ(kr_module_live_requests(m), 0);
  probe.deinit_calls++;
  return 0;
}

static void fs_cb(uv_fs_t *r) { (void)r; ASSERT(0 && "fs callback of a failed call"); }
static void async_cb(uv_async_t *a) { (void)a; }
static void write_cb(uv_write_t *r, int s) { (void)r; (void)s; ASSERT(0 && "write cb"); }
static void shutdown_cb(uv_shutdown_t *r, int s) { (void)r; (void)s; ASSERT(0 && "shutdown cb"); }
static void connect_cb(uv_connect_t *r, int s) { (void)r; (void)s; pipe_connect_cbs++; }
static void udp_send_cb(uv_udp_send_t *r, int s) { (void)r; (void)s; ASSERT(0 && "udp cb"); }
static void work_cb(uv_work_t *r) { (void)r; ASSERT(0 && "work cb"); }
static void after_work_cb(uv_work_t *r, int s) { (void)r; (void)s; ASSERT(0 && "after work"); }
static void gai_cb(uv_getaddrinfo_t *r, int s, struct addrinfo *a) {
  (void)r; (void)s; (void)a; ASSERT(0 && "getaddrinfo cb");
}
static void gni_cb(uv_getnameinfo_t *r, int s, const char *h, const char *sv) {
  (void)r; (void)s; (void)h; (void)sv; ASSERT(0 && "getnameinfo cb");
}
static void random_cb(uv_random_t *r, int s, void *b, size_t l) {
  (void)r; (void)s; (void)b; (void)l; ASSERT(0 && "random cb");
}
static void log_fn(void *arg, int level, const char *msg) { (void)arg; (void)level; (void)msg; }

#define EINVAL_(call) ASSERT_EQ((call), UV_EINVAL)

/* A handle initialiser: NULL module, NULL loop, NULL handle. */
#define HANDLE3(fn, type, ...)                                              \
  do {                                                                     \
    type h_;                                                               \
    memset(&h_, 0, sizeof h_);                                             \
    EINVAL_(fn(NULL, &loop, &h_, ##__VA_ARGS__));                          \
    EINVAL_(fn(reg, NULL, &h_, ##__VA_ARGS__));                            \
    EINVAL_(fn(reg, &loop, NULL, ##__VA_ARGS__));                          \
  } while (0)

/* An fs function: NULL module, NULL loop, NULL request. */
#define FS3(fn, ...)                                                        \
  do {                                                                     \
    uv_fs_t r_;                                                            \
    memset(&r_, 0, sizeof r_);                                             \
    EINVAL_(fn(NULL, &loop, &r_, __VA_ARGS__, fs_cb));                     \
    EINVAL_(fn(reg, NULL, &r_, __VA_ARGS__, fs_cb));                       \
    EINVAL_(fn(reg, &loop, NULL, __VA_ARGS__, fs_cb));                     \
  } while (0)
/* ...and NULL in the place of a path (or other pointer) argument. */
#define FS_ARG(fn, ...)                                                     \
  do {                                                                     \
    uv_fs_t r_;                                                            \
    memset(&r_, 0, sizeof r_);                                             \
    EINVAL_(fn(reg, &loop, &r_, __VA_ARGS__, fs_cb));                      \
  } while (0)

static void host_and_module_functions(kr_host_t *host) {
  kr_host_t *h = (kr_host_t *)&probe;
  EINVAL_(kr_host_new(NULL, &h));
  ASSERT_PTR_EQ(h, &probe);
  EINVAL_(kr_host_new(&loop, NULL));
  ASSERT_EQ(kr_host_free(NULL), 0);
  EINVAL_(kr_host_set_log(NULL, log_fn, NULL));
  EINVAL_(kr_host_set_log(NULL, NULL, NULL));
  ASSERT_EQ(kr_host_set_log(host, log_fn, NULL), 0);
  ASSERT_EQ(kr_host_set_log(host, NULL, NULL), 0); /* back to the default */

  const char *tick = mod_path("tick");
  kr_module_t *m = (kr_module_t *)&probe;
  EINVAL_(kr_module_open(NULL, tick, "tick", 0, &m));
  EINVAL_(kr_module_open(host, NULL, "tick", 0, &m));
  EINVAL_(kr_module_open(host, tick, NULL, 0, &m));
  EINVAL_(kr_module_open(host, tick, "tick", 0, NULL));
  ASSERT_PTR_EQ(m, &probe);
  ASSERT_EQ(probe.init_calls, 0); /* never got as far as init */
  ASSERT(!lib_is_loaded(tick));

  kr_module_ops_t ops = {NULL, NULL, NULL};
  EINVAL_(kr_module_register(NULL, "r2", &ops, NULL, &m));
  EINVAL_(kr_module_register(host, NULL, &ops, NULL, &m));
  EINVAL_(kr_module_register(host, "r2", NULL, NULL, &m));
  EINVAL_(kr_module_register(host, "r2", &ops, NULL, NULL));
  ASSERT_PTR_EQ(m, &probe);
  ASSERT_NULL(kr_module_find(host, "r2"));

  ASSERT_NULL(kr_module_find(NULL, "reg"));
  ASSERT_NULL(kr_module_find(host, NULL));
  ASSERT_PTR_EQ(kr_module_find(host, "reg"), reg);
  ASSERT_NULL(kr_module_name(NULL));
  ASSERT_EQ(kr_module_state(NULL), KR_MODULE_INVALID);
  ASSERT_NULL(kr_module_data(NULL));
  kr_module_set_data(NULL, &probe); /* ignored */
  ASSERT_EQ(kr_module_live_handles(NULL), 0);
  ASSERT_EQ(kr_module_live_requests(NULL), 0);
  ASSERT_EQ(kr_module_refs(NULL), 0);
  EINVAL_(kr_module_ref(NULL));
  EINVAL_(kr_module_unref(NULL));
  EINVAL_(kr_module_unref(reg)); /* no reference held */
  ASSERT_EQ(kr_module_refs(reg), 0);
  EINVAL_(kr_module_cleanup(NULL, probe_done_cb, &probe));
  EINVAL_(kr_module_cleanup(NULL, NULL, NULL));
  ASSERT_NOT_NULL(kr_last_error());
  ASSERT_EQ(kr_module_state(reg), KR_MODULE_ACTIVE);
}

static void handle_functions(void) {
  HANDLE3(kr_uv_timer_init, uv_timer_t);
  HANDLE3(kr_uv_prepare_init, uv_prepare_t);
  HANDLE3(kr_uv_check_init, uv_check_t);
  HANDLE3(kr_uv_idle_init, uv_idle_t);
  HANDLE3(kr_uv_async_init, uv_async_t, async_cb);
  HANDLE3(kr_uv_poll_init, uv_poll_t, 0);
  HANDLE3(kr_uv_poll_init_socket, uv_poll_t, 0);
  HANDLE3(kr_uv_signal_init, uv_signal_t);
  HANDLE3(kr_uv_fs_event_init, uv_fs_event_t);
  HANDLE3(kr_uv_fs_poll_init, uv_fs_poll_t);
  HANDLE3(kr_uv_tcp_init, uv_tcp_t);
  HANDLE3(kr_uv_tcp_init_ex, uv_tcp_t, AF_INET);
  HANDLE3(kr_uv_udp_init, uv_udp_t);
  HANDLE3(kr_uv_udp_init_ex, uv_udp_t, AF_INET);
  HANDLE3(kr_uv_pipe_init, uv_pipe_t, 0);
  HANDLE3(kr_uv_tty_init, uv_tty_t, 0, 0);

  char *args[] = {"/bin/true", NULL};
  uv_process_options_t opts;
  memset(&opts, 0, sizeof opts);
  opts.file = args[0];
  opts.args = args;
  HANDLE3(kr_uv_spawn, uv_process_t, &opts);
  uv_process_t proc;
  memset(&proc, 0, sizeof proc);
  EINVAL_(kr_uv_spawn(reg, &loop, &proc, NULL));

  kr_uv_close(NULL, on_close); /* ignored, no crash */
  kr_uv_close(NULL, NULL);
  ASSERT(strlen(kr_last_error()) > 0);
  EINVAL_(kr_uv_tcp_close_reset(NULL, on_close));
  EINVAL_(kr_uv_tcp_close_reset(NULL, NULL));
  ASSERT_EQ(closes, 0);
}

static void fs_functions(void) {
  char buf[16];
  uv_buf_t b = uv_buf_init(buf, sizeof buf);
  uv_dir_t dir;
  memset(&dir, 0, sizeof dir);
  const char *p = "/nonexistent/kr-uvshim-null-test";
  const char *q = "/nonexistent/kr-uvshim-null-test-2";

  FS3(kr_uv_fs_close, 0);
  FS3(kr_uv_fs_open, p, 0, 0);
  FS_ARG(kr_uv_fs_open, NULL, 0, 0);
  FS3(kr_uv_fs_read, 0, &b, 1, 0);
  FS_ARG(kr_uv_fs_read, 0, NULL, 1, 0);
  FS3(kr_uv_fs_unlink, p);
  FS_ARG(kr_uv_fs_unlink, NULL);
  FS3(kr_uv_fs_write, 1, &b, 1, 0);
  FS_ARG(kr_uv_fs_write, 1, NULL, 1, 0);
  FS3(kr_uv_fs_copyfile, p, q, 0);
  FS_ARG(kr_uv_fs_copyfile, NULL, q, 0);
  FS_ARG(kr_uv_fs_copyfile, p, NULL, 0);
  FS3(kr_uv_fs_mkdir, p, 0700);
  FS_ARG(kr_uv_fs_mkdir, NULL, 0700);
  FS3(kr_uv_fs_mkdtemp, "/nonexistent/XXXXXX");
  FS_ARG(kr_uv_fs_mkdtemp, NULL);
  FS3(kr_uv_fs_mkstemp, "/nonexistent/XXXXXX");
  FS_ARG(kr_uv_fs_mkstemp, NULL);
  FS3(kr_uv_fs_rmdir, p);
  FS_ARG(kr_uv_fs_rmdir, NULL);
  FS3(kr_uv_fs_scandir, p, 0);
  FS_ARG(kr_uv_fs_scandir, NULL, 0);
  FS3(kr_uv_fs_opendir, p);
  FS_ARG(kr_uv_fs_opendir, NULL);
  FS3(kr_uv_fs_readdir, &dir);
  FS_ARG(kr_uv_fs_readdir, NULL);
  FS3(kr_uv_fs_closedir, &dir);
  FS_ARG(kr_uv_fs_closedir, NULL);
  FS3(kr_uv_fs_stat, p);
  FS_ARG(kr_uv_fs_stat, NULL);
  FS3(kr_uv_fs_fstat, 0);
  FS3(kr_uv_fs_rename, p, q);
  FS_ARG(kr_uv_fs_rename, NULL, q);
  FS_ARG(kr_uv_fs_rename, p, NULL);
  FS3(kr_uv_fs_fsync, 0);
  FS3(kr_uv_fs_fdatasync, 0);
  FS3(kr_uv_fs_ftruncate, 0, 0);
  FS3(kr_uv_fs_sendfile, 1, 0, 0, 1);
  FS3(kr_uv_fs_access, p, 0);
  FS_ARG(kr_uv_fs_access, NULL, 0);
  FS3(kr_uv_fs_chmod, p, 0600);
  FS_ARG(kr_uv_fs_chmod, NULL, 0600);
  FS3(kr_uv_fs_utime, p, 0.0, 0.0);
  FS_ARG(kr_uv_fs_utime, NULL, 0.0, 0.0);
  FS3(kr_uv_fs_futime, 0, 0.0, 0.0);
  FS3(kr_uv_fs_lutime, p, 0.0, 0.0);
  FS_ARG(kr_uv_fs_lutime, NULL, 0.0, 0.0);
  FS3(kr_uv_fs_lstat, p);
  FS_ARG(kr_uv_fs_lstat, NULL);
  FS3(kr_uv_fs_link, p, q);
  FS_ARG(kr_uv_fs_link, NULL, q);
  FS_ARG(kr_uv_fs_link, p, NULL);
  FS3(kr_uv_fs_symlink, p, q, 0);
  FS_ARG(kr_uv_fs_symlink, NULL, q, 0);
  FS_ARG(kr_uv_fs_symlink, p, NULL, 0);
  FS3(kr_uv_fs_readlink, p);
  FS_ARG(kr_uv_fs_readlink, NULL);
  FS3(kr_uv_fs_realpath, p);
  FS_ARG(kr_uv_fs_realpath, NULL);
  FS3(kr_uv_fs_fchmod, 0, 0600);
  FS3(kr_uv_fs_chown, p, 0, 0);
  FS_ARG(kr_uv_fs_chown, NULL, 0, 0);
  FS3(kr_uv_fs_fchown, 0, 0, 0);
  FS3(kr_uv_fs_lchown, p, 0, 0);
  FS_ARG(kr_uv_fs_lchown, NULL, 0, 0);
  FS3(kr_uv_fs_statfs, p);
  FS_ARG(kr_uv_fs_statfs, NULL);
}

static void request_functions(void) {
  char data[] = "x";
  uv_buf_t b = uv_buf_init(data, 1);
  struct sockaddr_in addr;
  ASSERT_EQ(uv_ip4_addr("127.0.0.1", 9, &addr), 0);
  const struct sockaddr *sa = (const struct sockaddr *)&addr;
  uv_stream_t *s = (uv_stream_t *)&tcp;

  uv_write_t w;
  EINVAL_(kr_uv_write(NULL, &w, s, &b, 1, write_cb));
  EINVAL_(kr_uv_write(reg, NULL, s, &b, 1, write_cb));
  EINVAL_(kr_uv_write(reg, &w, NULL, &b, 1, write_cb));
  EINVAL_(kr_uv_write(reg, &w, s, NULL, 1, write_cb));
  EINVAL_(kr_uv_write2(NULL, &w, s, &b, 1, NULL, write_cb));
  EINVAL_(kr_uv_write2(reg, NULL, s, &b, 1, NULL, write_cb));
  EINVAL_(kr_uv_write2(reg, &w, NULL, &b, 1, NULL, write_cb));
  EINVAL_(kr_uv_write2(reg, &w, s, NULL, 1, NULL, write_cb));

  uv_shutdown_t sh;
  EINVAL_(kr_uv_shutdown(NULL, &sh, s, shutdown_cb));
  EINVAL_(kr_uv_shutdown(reg, NULL, s, shutdown_cb));
  EINVAL_(kr_uv_shutdown(reg, &sh, NULL, shutdown_cb));

  uv_connect_t c;
  EINVAL_(kr_uv_tcp_connect(NULL, &c, &tcp, sa, connect_cb));
  EINVAL_(kr_uv_tcp_connect(reg, NULL, &tcp, sa, connect_cb));
  EINVAL_(kr_uv_tcp_connect(reg, &c, NULL, sa, connect_cb));
  EINVAL_(kr_uv_tcp_connect(reg, &c, &tcp, NULL, connect_cb));

  uv_udp_send_t us;
  EINVAL_(kr_uv_udp_send(NULL, &us, &udp, &b, 1, sa, udp_send_cb));
  EINVAL_(kr_uv_udp_send(reg, NULL, &udp, &b, 1, sa, udp_send_cb));
  EINVAL_(kr_uv_udp_send(reg, &us, NULL, &b, 1, sa, udp_send_cb));
  EINVAL_(kr_uv_udp_send(reg, &us, &udp, NULL, 1, sa, udp_send_cb));

  uv_work_t wk;
  EINVAL_(kr_uv_queue_work(NULL, &loop, &wk, work_cb, after_work_cb));
  EINVAL_(kr_uv_queue_work(reg, NULL, &wk, work_cb, after_work_cb));
  EINVAL_(kr_uv_queue_work(reg, &loop, NULL, work_cb, after_work_cb));
  EINVAL_(kr_uv_queue_work(reg, &loop, &wk, NULL, after_work_cb));

  uv_getaddrinfo_t gai;
  EINVAL_(kr_uv_getaddrinfo(NULL, &loop, &gai, gai_cb, "localhost", NULL, NULL));
  EINVAL_(kr_uv_getaddrinfo(reg, NULL, &gai, gai_cb, "localhost", NULL, NULL));
  EINVAL_(kr_uv_getaddrinfo(reg, &loop, NULL, gai_cb, "localhost", NULL, NULL));
  EINVAL_(kr_uv_getaddrinfo(reg, &loop, &gai, gai_cb, NULL, NULL, NULL));

  uv_getnameinfo_t gni;
  EINVAL_(kr_uv_getnameinfo(NULL, &loop, &gni, gni_cb, sa, 0));
  EINVAL_(kr_uv_getnameinfo(reg, NULL, &gni, gni_cb, sa, 0));
  EINVAL_(kr_uv_getnameinfo(reg, &loop, NULL, gni_cb, sa, 0));
  EINVAL_(kr_uv_getnameinfo(reg, &loop, &gni, gni_cb, NULL, 0));

  uv_random_t rnd;
  char rbuf[16];
  EINVAL_(kr_uv_random(NULL, &loop, &rnd, rbuf, sizeof rbuf, 0, random_cb));
  EINVAL_(kr_uv_random(reg, NULL, &rnd, rbuf, sizeof rbuf, 0, random_cb));
  EINVAL_(kr_uv_random(reg, &loop, NULL, rbuf, sizeof rbuf, 0, random_cb));
  EINVAL_(kr_uv_random(reg, &loop, &rnd, NULL, sizeof rbuf, 0, random_cb));

  /* void: nothing starts, the callback never runs, the reason is told. */
  uv_connect_t pc;
  kr_uv_pipe_connect(NULL, &pc, &pipe_h, "/nonexistent/sock", connect_cb);
  ASSERT(strlen(kr_last_error()) > 0);
  kr_uv_pipe_connect(reg, NULL, &pipe_h, "/nonexistent/sock", connect_cb);
  ASSERT(strlen(kr_last_error()) > 0);
  kr_uv_pipe_connect(reg, &pc, NULL, "/nonexistent/sock", connect_cb);
  ASSERT(strlen(kr_last_error()) > 0);
  kr_uv_pipe_connect(reg, &pc, &pipe_h, NULL, connect_cb);
  ASSERT(strlen(kr_last_error()) > 0);

  ASSERT_EQ(kr_module_live_requests(reg), 0);
}

static void blocker_trigger(kr_blocker_t *b, void *arg) { (void)b; (void)arg; }

/* The graceful-shutdown API (issue 3 does not cover it, but it is exported
 * and the convention holds for every function). Nothing here may start a
 * shutdown. */
static void shutdown_functions(kr_host_t *host) {
  kr_module_t *none = NULL;
  EINVAL_(kr_module_cleanup_ex(NULL, NULL, probe_done_cb, &probe));
  EINVAL_(kr_module_depend(NULL, reg));
  EINVAL_(kr_module_depend(reg, NULL));
  EINVAL_(kr_module_depend(NULL, none));
  EINVAL_(kr_module_dump(NULL, stderr));
  EINVAL_(kr_module_dump(reg, NULL));
  char *report = (char *)&probe;
  EINVAL_(kr_host_report(NULL, KR_REPORT_TEXT, &report));
  EINVAL_(kr_host_report(host, KR_REPORT_TEXT, NULL));
  ASSERT_PTR_EQ(report, &probe);
  kr_free(NULL);
  EINVAL_(kr_shutdown_opts_init(NULL));
  EINVAL_(kr_host_shutdown(NULL, NULL, NULL, NULL));
  EINVAL_(kr_host_shutdown_on_signal(NULL, SIGTERM));

  kr_phase_t *ph = NULL, *child = (kr_phase_t *)&probe;
  EINVAL_(kr_phase_new(NULL, "p", &ph));
  EINVAL_(kr_phase_new(host, NULL, &ph));
  EINVAL_(kr_phase_new(host, "p", NULL));
  ASSERT_NULL(ph);
  ASSERT_EQ(kr_phase_new(host, "p", &ph), 0);
  ASSERT_NOT_NULL(ph);
  EINVAL_(kr_phase_new_child(NULL, "c", &child));
  EINVAL_(kr_phase_new_child(ph, NULL, &child));
  EINVAL_(kr_phase_new_child(ph, "c", NULL));
  EINVAL_(kr_phase_new_child_at(NULL, "c", &child, __FILE__, __LINE__));
  EINVAL_(kr_phase_new_child_at(ph, NULL, &child, __FILE__, __LINE__));
  EINVAL_(kr_phase_new_child_at(ph, "c", NULL, __FILE__, __LINE__));
  ASSERT_PTR_EQ(child, &probe);
  kr_blocker_t *b = (kr_blocker_t *)&probe;
  EINVAL_(kr_phase_add_blocker(NULL, "b", blocker_trigger, NULL, NULL, &b));
  EINVAL_(kr_phase_add_blocker(ph, NULL, blocker_trigger, NULL, NULL, &b));
  EINVAL_(kr_phase_add_blocker(ph, "b", NULL, NULL, NULL, &b));
  EINVAL_(kr_phase_add_blocker_at(NULL, "b", blocker_trigger, NULL, NULL, &b, __FILE__, __LINE__));
  EINVAL_(kr_phase_add_blocker_at(ph, NULL, blocker_trigger, NULL, NULL, &b, __FILE__, __LINE__));
  EINVAL_(kr_phase_add_blocker_at(ph, "b", NULL, NULL, NULL, &b, __FILE__, __LINE__));
  ASSERT_PTR_EQ(b, &probe);
  EINVAL_(kr_blocker_done(NULL));
  EINVAL_(kr_phase_remove_blocker(NULL, NULL));
  EINVAL_(kr_phase_remove_blocker(ph, NULL));
  ASSERT_EQ(kr_module_state(reg), KR_MODULE_ACTIVE);
}

int main(void) {
  kr_host_t *host;
  host_setup(&loop, &host);
  probe.loop = &loop;

  kr_module_ops_t ops = {NULL, reg_cleanup, reg_deinit};
  ASSERT_EQ(kr_module_register(host, "reg", &ops, &probe, &reg), 0);
  ASSERT_PTR_EQ(kr_module_data(reg), &probe);
  ASSERT_EQ(kr_uv_tcp_init(reg, &loop, &tcp), 0);
  ASSERT_EQ(kr_uv_udp_init(reg, &loop, &udp), 0);
  ASSERT_EQ(kr_uv_pipe_init(reg, &loop, &pipe_h, 0), 0);
  ASSERT_EQ(kr_module_live_handles(reg), 3);

  host_and_module_functions(host);
  handle_functions();
  fs_functions();
  request_functions();
  shutdown_functions(host);

  /* Nothing was created or started by any failed call. */
  ASSERT_EQ(kr_module_live_handles(reg), 3);
  ASSERT_EQ(kr_module_live_requests(reg), 0);
  ASSERT_EQ(kr_module_cleanup(reg, probe_done_cb, &probe), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(probe.done_calls, 1);
  ASSERT_EQ(probe.done_status, 0);
  ASSERT_EQ(probe.deinit_calls, 1);
  ASSERT_EQ(closes, 3);
  ASSERT_EQ(pipe_connect_cbs, 0);
  host_teardown(&loop, host); /* uv_loop_close: nothing left behind */
  return 0;
}
