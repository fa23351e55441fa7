/*
 * echo: a TCP echo server on 127.0.0.1.
 *
 * Port: $KR_DEMO_ECHO_PORT if set, otherwise an ephemeral one. The port it
 * bound is published as the module's data (kr_module_data() in the host).
 *
 * On cleanup it closes the listener and, for each connection, stops reading
 * and asks for a uv_shutdown: the echo writes still queued are flushed
 * first, then the connection is closed. The shim counts every connection
 * handle and every write/shutdown request, so the library stays mapped until
 * the last of their callbacks has returned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kr_uvshim_compat.h"

#define QUEUE_HIGH (256 * 1024) /* stop reading above this many queued bytes */
#define QUEUE_LOW (64 * 1024)   /* read again below this */

typedef struct conn {
	uv_tcp_t tcp;
	uv_shutdown_t shutdown;
	int paused;
	struct conn *prev, *next;
} conn_t;

typedef struct {
	uv_write_t req;
	uv_buf_t buf;
} echo_write_t;

static kr_module_t *self;
static uv_tcp_t server;
static conn_t *conns;
static int closing;
static unsigned long long bytes_echoed, writes_done, writes_failed, writes_inflight;
static unsigned accepted;

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void conn_closed(uv_handle_t *h)
{
	conn_t *c = h->data;
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

static void conn_close(conn_t *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	(void)status;
	conn_close(req->data);
}

static void on_write(uv_write_t *req, int status)
{
	echo_write_t *w = (echo_write_t *)req;
	uv_stream_t *s = req->handle;
	conn_t *c = s->data;
	writes_inflight--;
	if (status == 0)
		writes_done++;
	else
		writes_failed++;
	free(w->buf.base);
	free(w);
	/* Back-pressure: a peer that does not read makes us stop reading. */
	if (c->paused && !closing && !uv_is_closing((uv_handle_t *)&c->tcp) &&
	    uv_stream_get_write_queue_size(s) < QUEUE_LOW) {
		c->paused = 0;
		uv_read_start(s, on_alloc, on_read);
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	buf->base = malloc(suggested);
	buf->len = buf->base ? suggested : 0;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	conn_t *c = s->data;
	if (n > 0) {
		echo_write_t *w = malloc(sizeof(*w));
		if (w) {
			w->buf = uv_buf_init(buf->base, (unsigned)n);
			if (uv_write(&w->req, s, &w->buf, 1, on_write) == 0) {
				bytes_echoed += (unsigned long long)n;
				writes_inflight++;
				if (uv_stream_get_write_queue_size(s) > QUEUE_HIGH) {
					c->paused = 1;
					uv_read_stop(s);
				}
				return; /* the buffer now belongs to the write */
			}
			free(w);
		}
		free(buf->base);
		conn_close(c);
		return;
	}
	free(buf->base);
	if (n < 0)
		conn_close(c); /* EOF or error: pending writes are cancelled */
}

static void on_connection(uv_stream_t *srv, int status)
{
	if (status < 0 || closing)
		return;
	conn_t *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	if (uv_tcp_init(srv->loop, &c->tcp) != 0) {
		free(c);
		return;
	}
	c->tcp.data = c;
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
	if (uv_accept(srv, (uv_stream_t *)&c->tcp) != 0 ||
	    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
		conn_close(c);
		return;
	}
	accepted++;
}

int echo_init(kr_module_t *m)
{
	struct sockaddr_in addr;
	struct sockaddr_storage bound;
	int len = sizeof(bound);
	const char *env = getenv("KR_DEMO_ECHO_PORT");
	int port = env ? atoi(env) : 0;
	int rc;

	self = m;
	if ((rc = uv_tcp_init(uv_default_loop(), &server)) != 0)
		return rc;
	if ((rc = uv_ip4_addr("127.0.0.1", port, &addr)) != 0 ||
	    (rc = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0)) != 0 ||
	    (rc = uv_listen((uv_stream_t *)&server, 64, on_connection)) != 0 ||
	    (rc = uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len)) != 0)
		return rc; /* the shim closes the server handle for us */
	port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
	kr_module_set_data(m, (void *)(uintptr_t)port);
	printf("    [echo] listening on 127.0.0.1:%d\n", port);
	return 0;
}

int echo_cleanup(kr_module_t *m)
{
	unsigned n = 0;
	(void)m;
	closing = 1;
	uv_close((uv_handle_t *)&server, NULL);
	for (conn_t *c = conns; c; c = c->next) {
		if (uv_is_closing((uv_handle_t *)&c->tcp))
			continue;
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->shutdown.data = c;
		/* Flush what is queued, then close (in on_shutdown). */
		if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) != 0)
			conn_close(c);
		n++;
	}
	printf("    [echo] cleanup: listener closing, %u connection(s) shutting "
	       "down, %llu echo write(s) still in flight\n", n, writes_inflight);
	return 0;
}

int echo_deinit(kr_module_t *m)
{
	(void)m;
	printf("    [echo] deinit: %u connections, %llu bytes echoed, %llu writes "
	       "completed, %llu failed/cancelled\n",
	       accepted, bytes_echoed, writes_done, writes_failed);
	return 0;
}
