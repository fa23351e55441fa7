/* Module "echo": a TCP echo server on 127.0.0.1 (ephemeral port) and a
 * client that sends probe.nbytes of the known pattern in one uv_write and
 * checks every byte that comes back. Its cleanup closes the listener and
 * shuts the client down gracefully: the write in flight completes, the
 * server echoes everything, both sides see EOF and close. */
#include "mod_common.h"

static uv_tcp_t server, conn, client;
static uv_connect_t connect_req;
static uv_write_t client_write;
static uv_shutdown_t client_shutdown, server_shutdown;
static unsigned char *out;
static int server_open;

struct echo_write {
  uv_write_t req;
  char *base;
};

static void close_cb(uv_handle_t *h) {
  MOD_CB_ENTER();
  ASSERT(h == (uv_handle_t *)&server || h == (uv_handle_t *)&conn ||
         h == (uv_handle_t *)&client);
  probe.close_cbs++;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  MOD_CB_ENTER();
  buf->base = malloc(suggested);
  ASSERT_NOT_NULL(buf->base);
  buf->len = suggested;
}

static void server_write_cb(uv_write_t *req, int status) {
  MOD_CB_ENTER();
  struct echo_write *w = (struct echo_write *)req;
  probe.server_write_cbs++;
  if (status != 0) probe.server_write_errors++;
  free(w->base);
  free(w);
}

static void server_shutdown_cb(uv_shutdown_t *req, int status) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(req, &server_shutdown);
  ASSERT_EQ(status, 0);
  probe.shutdown_cbs++;
  uv_close((uv_handle_t *)&conn, close_cb);
}

static void server_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(s, &conn);
  if (nread > 0) {
    struct echo_write *w = malloc(sizeof *w);
    ASSERT_NOT_NULL(w);
    w->base = buf->base;
    uv_buf_t b = uv_buf_init(buf->base, (unsigned)nread);
    ASSERT_EQ(uv_write(&w->req, s, &b, 1, server_write_cb), 0);
    probe.server_writes_started++;
    return;
  }
  free(buf->base);
  if (nread == 0) return;
  ASSERT_EQ(nread, UV_EOF);
  probe.eofs++;
  ASSERT_EQ(uv_shutdown(&server_shutdown, s, server_shutdown_cb), 0);
}

static void connection_cb(uv_stream_t *s, int status) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(s, &server);
  ASSERT_EQ(status, 0);
  ASSERT_EQ(probe.accepted, 0);
  ASSERT_EQ(uv_tcp_init(probe.loop, &conn), 0);
  ASSERT_EQ(uv_accept(s, (uv_stream_t *)&conn), 0);
  ASSERT_EQ(uv_read_start((uv_stream_t *)&conn, alloc_cb, server_read_cb), 0);
  probe.accepted = 1;
  if (kr_module_state(kr_uvshim_self) == KR_MODULE_CLEANING && server_open) {
    uv_close((uv_handle_t *)&server, close_cb);
    server_open = 0;
  }
}

static void client_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(s, &client);
  if (nread > 0) {
    for (ssize_t i = 0; i < nread; i++)
      if ((unsigned char)buf->base[i] != mod_pattern_byte(probe.bytes_echoed + (size_t)i))
        probe.echo_mismatch++;
    probe.bytes_echoed += (size_t)nread;
  }
  free(buf->base);
  if (nread == UV_EOF) {
    probe.eofs++;
    uv_close((uv_handle_t *)&client, close_cb);
  } else {
    ASSERT_GE(nread, 0);
  }
}

static void client_write_cb(uv_write_t *req, int status) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(req, &client_write);
  probe.write_cbs++;
  probe.write_status = status;
  probe.bytes_written = probe.nbytes;
  free(out);
  out = NULL;
}

static void client_shutdown_cb(uv_shutdown_t *req, int status) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(req, &client_shutdown);
  ASSERT_EQ(status, 0);
  ASSERT_EQ(probe.write_cbs, 1); /* after the write it queued behind */
  probe.shutdown_cbs++;
}

static void connect_cb(uv_connect_t *req, int status) {
  MOD_CB_ENTER();
  ASSERT_PTR_EQ(req, &connect_req);
  ASSERT_EQ(status, 0);
  probe.connect_cbs++;
  ASSERT_EQ(uv_read_start((uv_stream_t *)&client, alloc_cb, client_read_cb), 0);
  out = malloc(probe.nbytes);
  ASSERT_NOT_NULL(out);
  for (size_t i = 0; i < probe.nbytes; i++) out[i] = mod_pattern_byte(i);
  uv_buf_t b = uv_buf_init((char *)out, (unsigned)probe.nbytes);
  ASSERT_EQ(uv_write(&client_write, (uv_stream_t *)&client, &b, 1, client_write_cb), 0);
  probe.write_started = 1;
  /* The host starts the unload now: this write cannot have called back. */
  if (probe.on_event) probe.on_event(1);
}

int echo_init(kr_module_t *m) {
  (void)m;
  probe.init_calls++;
  struct sockaddr_in addr;
  ASSERT_EQ(uv_ip4_addr("127.0.0.1", 0, &addr), 0);
  ASSERT_EQ(uv_tcp_init(probe.loop, &server), 0);
  server_open = 1;
  ASSERT_EQ(uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0), 0);
  ASSERT_EQ(uv_listen((uv_stream_t *)&server, 16, connection_cb), 0);
  struct sockaddr_storage name;
  int len = sizeof name;
  ASSERT_EQ(uv_tcp_getsockname(&server, (struct sockaddr *)&name, &len), 0);
  probe.port = ntohs(((struct sockaddr_in *)&name)->sin_port);
  ASSERT_GT(probe.port, 0);
  addr.sin_port = htons((uint16_t)probe.port);

  ASSERT_EQ(uv_tcp_init(probe.loop, &client), 0);
  ASSERT_EQ(uv_tcp_connect(&connect_req, &client, (const struct sockaddr *)&addr, connect_cb), 0);
  return 0;
}

int echo_cleanup(kr_module_t *m) {
  (void)m;
  probe.cleanup_calls++;
  if (probe.accepted && server_open) { /* else once it is accepted */
    uv_close((uv_handle_t *)&server, close_cb);
    server_open = 0;
  }
  ASSERT_EQ(uv_shutdown(&client_shutdown, (uv_stream_t *)&client, client_shutdown_cb), 0);
  return 0;
}

int echo_deinit(kr_module_t *m) {
  MOD_CB_ENTER();
  probe.deinit_calls++;
  probe.deinit_live_handles = kr_module_live_handles(m);
  probe.deinit_live_requests = kr_module_live_requests(m);
  ASSERT_NULL(out);
  return 0;
}
