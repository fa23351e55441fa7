/* wl.c: workloads 1-5 and 8 of issue 6, written against plain libuv.
 *
 * Built twice from this one source:
 *   raw:     gcc -DMODNAME=wl_raw                 (includes <uv.h>)
 *   tracked: gcc -DMODNAME=wl_trk -DBENCH_TRACKED (includes kr_uvshim_compat.h)
 * Nothing else differs: every uv_* call below is plain libuv in the raw build
 * and the tracked kr_uv_* call in the tracked build. */
#ifdef BENCH_TRACKED
#include "kr_uvshim_compat.h"
#else
#include <uv.h>
#endif
#include "bench_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kr_module_set_data(kr_module_t *m, void *data);

#define CHECK(x)                                                              \
  do {                                                                        \
    int rc_ = (x);                                                            \
    if (rc_ < 0) {                                                            \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x,              \
              uv_strerror(rc_));                                              \
      abort();                                                                \
    }                                                                         \
  } while (0)

/* ---------- 1. timers: libuv's million-timers pattern ---------- */

static long timer_fired, timer_closed;

static void timer_cb(uv_timer_t *t) { (void)t; timer_fired++; }
static void timer_close_cb(uv_handle_t *h) { (void)h; timer_closed++; }

static long w_timers(uv_loop_t *loop, long n) {
  uv_timer_t *timers = malloc(sizeof(*timers) * n);
  if (!timers) return UV_ENOMEM;
  timer_fired = timer_closed = 0;
  uint64_t timeout = 0;
  for (long i = 0; i < n; i++) {
    if (i % 10000 == 0) timeout++; /* libuv uses i % 1000 with 10M timers */
    CHECK(uv_timer_init(loop, timers + i));
    CHECK(uv_timer_start(timers + i, timer_cb, timeout, 0));
  }
  CHECK(uv_run(loop, UV_RUN_DEFAULT));
  for (long i = 0; i < n; i++) uv_close((uv_handle_t *)(timers + i), timer_close_cb);
  CHECK(uv_run(loop, UV_RUN_DEFAULT));
  free(timers);
  if (timer_fired != n || timer_closed != n) return UV_EIO;
  return n;
}

/* ---------- 2. TCP ping-pong over loopback ---------- */

#define PING "PING\n"
#define PINGLEN 5

typedef struct {
  uv_tcp_t tcp;
  char buf[64];
  size_t have;
  int client;
} pp_conn;

typedef struct {
  uv_write_t req;
  char data[PINGLEN];
} pp_write;

static uv_tcp_t pp_server;
static pp_conn pp_client, pp_peer;
static uv_connect_t pp_connect_req;
static long pp_left, pp_done;
static int pp_closed;

static void pp_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf) {
  pp_conn *c = (pp_conn *)h;
  (void)sz;
  *buf = uv_buf_init(c->buf + c->have, sizeof(c->buf) - c->have);
}

static void pp_close_cb(uv_handle_t *h) { (void)h; pp_closed++; }

static void pp_write_cb(uv_write_t *req, int status) {
  CHECK(status);
  free(req);
}

static void pp_send(pp_conn *c) {
  pp_write *w = malloc(sizeof(*w));
  memcpy(w->data, PING, PINGLEN);
  uv_buf_t b = uv_buf_init(w->data, PINGLEN);
  CHECK(uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, pp_write_cb));
}

static void pp_finish(void) {
  uv_close((uv_handle_t *)&pp_client.tcp, pp_close_cb);
  uv_close((uv_handle_t *)&pp_peer.tcp, pp_close_cb);
  uv_close((uv_handle_t *)&pp_server, pp_close_cb);
}

static void pp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  pp_conn *c = (pp_conn *)s;
  (void)buf;
  if (nread < 0) {
    if (nread != UV_EOF) CHECK((int)nread);
    return;
  }
  c->have += (size_t)nread;
  while (c->have >= PINGLEN) {
    memmove(c->buf, c->buf + PINGLEN, c->have - PINGLEN);
    c->have -= PINGLEN;
    if (c->client) {
      pp_done++;
      if (--pp_left == 0) {
        pp_finish();
        return;
      }
    }
    pp_send(c); /* server echoes, client pings again */
  }
}

static void pp_on_connection(uv_stream_t *server, int status) {
  CHECK(status);
  CHECK(uv_tcp_init(server->loop, &pp_peer.tcp));
  CHECK(uv_accept(server, (uv_stream_t *)&pp_peer.tcp));
  uv_tcp_nodelay(&pp_peer.tcp, 1);
  CHECK(uv_read_start((uv_stream_t *)&pp_peer.tcp, pp_alloc, pp_read));
}

static void pp_on_connect(uv_connect_t *req, int status) {
  (void)req;
  CHECK(status);
  CHECK(uv_read_start((uv_stream_t *)&pp_client.tcp, pp_alloc, pp_read));
  pp_send(&pp_client);
}

static long w_pingpong(uv_loop_t *loop, long n) {
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  int len = sizeof(bound);
  memset(&pp_client, 0, sizeof(pp_client));
  memset(&pp_peer, 0, sizeof(pp_peer));
  pp_client.client = 1;
  pp_left = n;
  pp_done = 0;
  pp_closed = 0;
  CHECK(uv_ip4_addr("127.0.0.1", 0, &addr));
  CHECK(uv_tcp_init(loop, &pp_server));
  CHECK(uv_tcp_bind(&pp_server, (const struct sockaddr *)&addr, 0));
  CHECK(uv_listen((uv_stream_t *)&pp_server, 128, pp_on_connection));
  CHECK(uv_tcp_getsockname(&pp_server, (struct sockaddr *)&bound, &len));
  CHECK(uv_tcp_init(loop, &pp_client.tcp));
  uv_tcp_nodelay(&pp_client.tcp, 1);
  CHECK(uv_tcp_connect(&pp_connect_req, &pp_client.tcp, (const struct sockaddr *)&bound, pp_on_connect));
  CHECK(uv_run(loop, UV_RUN_DEFAULT));
  if (pp_done != n || pp_closed != 3) return UV_EIO;
  return n;
}

/* ---------- 3. file writes + fsync through the thread pool ---------- */

static uv_fs_t fs_req;
static uv_file fs_fd;
static long fs_left, fs_done;
static char fs_data[4096];
static char fs_path[4096];

static void fs_after_close(uv_fs_t *req) {
  CHECK((int)req->result);
  uv_fs_req_cleanup(req);
  CHECK(uv_fs_unlink(req->loop, req, fs_path, NULL)); /* synchronous */
  uv_fs_req_cleanup(req);
}

static void fs_after_write(uv_fs_t *req);

static void fs_after_fsync(uv_fs_t *req) {
  CHECK((int)req->result);
  uv_fs_req_cleanup(req);
  fs_done++;
  if (--fs_left == 0) {
    CHECK(uv_fs_close(req->loop, req, fs_fd, fs_after_close));
    return;
  }
  uv_buf_t b = uv_buf_init(fs_data, sizeof(fs_data));
  CHECK(uv_fs_write(req->loop, req, fs_fd, &b, 1, (int64_t)(fs_done * sizeof(fs_data)), fs_after_write));
}

static void fs_after_write(uv_fs_t *req) {
  CHECK((int)req->result);
  uv_fs_req_cleanup(req);
  CHECK(uv_fs_fsync(req->loop, req, fs_fd, fs_after_fsync));
}

static void fs_after_open(uv_fs_t *req) {
  CHECK((int)req->result);
  fs_fd = (uv_file)req->result;
  uv_fs_req_cleanup(req);
  uv_buf_t b = uv_buf_init(fs_data, sizeof(fs_data));
  CHECK(uv_fs_write(req->loop, req, fs_fd, &b, 1, 0, fs_after_write));
}

static long w_fs_fsync(uv_loop_t *loop, long n, const char *dir) {
  memset(fs_data, 'x', sizeof(fs_data));
  snprintf(fs_path, sizeof(fs_path), "%s/fsync.dat", dir);
  fs_left = n;
  fs_done = 0;
  CHECK(uv_fs_open(loop, &fs_req, fs_path, UV_FS_O_CREAT | UV_FS_O_TRUNC | UV_FS_O_WRONLY, 0600, fs_after_open));
  CHECK(uv_run(loop, UV_RUN_DEFAULT));
  return fs_done == n ? n : UV_EIO;
}

/* ---------- 4. uv_queue_work round trips ---------- */

#define WORK_CHAINS 64 /* requests kept in flight: keeps the pool busy, measures throughput */

static uv_work_t work_reqs[WORK_CHAINS];
static long work_left, work_done;

static void work_cb(uv_work_t *req) { (void)req; }

static void after_work_cb(uv_work_t *req, int status) {
  CHECK(status);
  work_done++;
  if (work_left > 0) {
    work_left--;
    CHECK(uv_queue_work(req->loop, req, work_cb, after_work_cb));
  }
}

static long w_queue_work(uv_loop_t *loop, long n) {
  work_left = n;
  work_done = 0;
  for (int i = 0; i < WORK_CHAINS && work_left > 0; i++) {
    work_left--;
    CHECK(uv_queue_work(loop, &work_reqs[i], work_cb, after_work_cb));
  }
  CHECK(uv_run(loop, UV_RUN_DEFAULT));
  return work_done == n ? n : UV_EIO;
}

/* ---------- 5a. handle churn: init + close of short-lived handles ---------- */

#define CHURN_BATCH 1000

static long churn_closed;
static void churn_close_cb(uv_handle_t *h) { (void)h; churn_closed++; }

static long w_churn_init_close(uv_loop_t *loop, long n) {
  static uv_tcp_t tcp[CHURN_BATCH];
  churn_closed = 0;
  for (long done = 0; done < n; done += CHURN_BATCH) {
    long k = n - done < CHURN_BATCH ? n - done : CHURN_BATCH;
    for (long i = 0; i < k; i++) CHECK(uv_tcp_init(loop, &tcp[i]));
    for (long i = 0; i < k; i++) uv_close((uv_handle_t *)&tcp[i], churn_close_cb);
    CHECK(uv_run(loop, UV_RUN_DEFAULT));
  }
  return churn_closed == n ? n : UV_EIO;
}

/* ---------- 5b. handle churn: connect, accept, close over loopback ---------- */

#define AC_PARALLEL 4

typedef struct {
  uv_tcp_t tcp;
  uv_connect_t req;
} ac_client;

static uv_tcp_t ac_server;
static struct sockaddr_storage ac_addr;
static long ac_to_start, ac_accepted, ac_closed, ac_target;
static ac_client ac_clients[AC_PARALLEL];

static void ac_free_close_cb(uv_handle_t *h) { free(h); ac_closed++; }
static void ac_server_close_cb(uv_handle_t *h) { (void)h; }

static void ac_start(ac_client *c);

static void ac_client_close_cb(uv_handle_t *h) {
  ac_client *c = (ac_client *)h;
  ac_closed++;
  if (ac_to_start > 0) ac_start(c);
}

static void ac_on_connect(uv_connect_t *req, int status) {
  ac_client *c = (ac_client *)((char *)req - offsetof(ac_client, req));
  CHECK(status);
  uv_close((uv_handle_t *)&c->tcp, ac_client_close_cb);
}

static void ac_start(ac_client *c) {
  ac_to_start--;
  CHECK(uv_tcp_init(ac_server.loop, &c->tcp));
  CHECK(uv_tcp_connect(&c->req, &c->tcp, (const struct sockaddr *)&ac_addr, ac_on_connect));
}

static void ac_on_connection(uv_stream_t *server, int status) {
  CHECK(status);
  uv_tcp_t *peer = malloc(sizeof(*peer));
  CHECK(uv_tcp_init(server->loop, peer));
  CHECK(uv_accept(server, (uv_stream_t *)peer));
  uv_close((uv_handle_t *)peer, ac_free_close_cb);
  if (++ac_accepted == ac_target) uv_close((uv_handle_t *)&ac_server, ac_server_close_cb);
}

static long w_churn_accept_close(uv_loop_t *loop, long n) {
  struct sockaddr_in addr;
  int len = sizeof(ac_addr);
  ac_to_start = n;
  ac_target = n;
  ac_accepted = ac_closed = 0;
  CHECK(uv_ip4_addr("127.0.0.1", 0, &addr));
  CHECK(uv_tcp_init(loop, &ac_server));
  CHECK(uv_tcp_bind(&ac_server, (const struct sockaddr *)&addr, 0));
  CHECK(uv_listen((uv_stream_t *)&ac_server, 511, ac_on_connection));
  CHECK(uv_tcp_getsockname(&ac_server, (struct sockaddr *)&ac_addr, &len));
  for (int i = 0; i < AC_PARALLEL && ac_to_start > 0; i++) ac_start(&ac_clients[i]);
  CHECK(uv_run(loop, UV_RUN_DEFAULT));
  return (ac_accepted == n && ac_closed == 2 * n) ? n : UV_EIO;
}

/* ---------- 8. memory: n live handles / n requests in flight ---------- */

static uv_timer_t *mem_timers;
static long mem_closed;
static void mem_close_cb(uv_handle_t *h) { (void)h; mem_closed++; }

static long w_mem_handles(uv_loop_t *loop, long n, int phase) {
  if (phase == 0) {
    mem_timers = malloc(sizeof(*mem_timers) * n);
    for (long i = 0; i < n; i++) CHECK(uv_timer_init(loop, mem_timers + i));
    return n;
  }
  mem_closed = 0;
  for (long i = 0; i < n; i++) uv_close((uv_handle_t *)(mem_timers + i), mem_close_cb);
  CHECK(uv_run(loop, UV_RUN_DEFAULT));
  free(mem_timers);
  mem_timers = NULL;
  return mem_closed == n ? n : UV_EIO;
}

static uv_work_t *mem_works;
static long mem_after;
static void mem_after_cb(uv_work_t *r, int status) { (void)r; (void)status; mem_after++; }

static long w_mem_requests(uv_loop_t *loop, long n, int phase) {
  if (phase == 0) {
    mem_works = malloc(sizeof(*mem_works) * n);
    for (long i = 0; i < n; i++) CHECK(uv_queue_work(loop, mem_works + i, work_cb, mem_after_cb));
    return n;
  }
  mem_after = 0;
  CHECK(uv_run(loop, UV_RUN_DEFAULT));
  free(mem_works);
  mem_works = NULL;
  return mem_after == n ? n : UV_EIO;
}

static bench_api api = {
#ifdef BENCH_TRACKED
    .tracked = 1,
#endif
    .timers = w_timers,
    .pingpong = w_pingpong,
    .fs_fsync = w_fs_fsync,
    .queue_work = w_queue_work,
    .churn_init_close = w_churn_init_close,
    .churn_accept_close = w_churn_accept_close,
    .mem_handles = w_mem_handles,
    .mem_requests = w_mem_requests,
};

int BENCH_CAT(MODNAME, _init)(kr_module_t *m) {
  kr_module_set_data(m, &api);
  return 0;
}
