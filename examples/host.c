/*
 * host.c: an example daemon built on kr-uvshim.
 *
 * It loads three modules (ticker, echo, journal), drives traffic through them
 * (TCP clients with writes in flight against echo, records appended to the
 * journal), unloads echo in the middle of that traffic, then unloads the rest,
 * closes its own handles and lets uv_run() return by itself: no uv_stop().
 * At the end it checks that the journal file holds every record.
 *
 * Usage: host [MODULE_DIR [JOURNAL_FILE]]
 *   MODULE_DIR   where ticker.so, echo.so, journal.so are (default: the
 *                "modules" directory next to this executable)
 *   JOURNAL_FILE default: journal.log next to this executable
 *
 * Build (see Makefile): gcc host.c libkr_uvshim.a -rdynamic -luv -ldl -lpthread -lm
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "kr_uvshim.h"
#include "modules/journal.h"

#define NCLIENTS 4
#define CHUNK (64 * 1024)
#define WRITES_PER_CLIENT 4 /* kept in flight by each client */
#define TRAFFIC_MS 250      /* of free-flowing traffic */
#define BACKLOG_MS 150      /* clients not reading: echo's writes back up */
#define AFTER_ECHO_MS 300   /* before the rest is unloaded */

enum { M_TICKER, M_ECHO, M_JOURNAL, NMODS };
static const char *const mod_names[NMODS] = { "ticker", "echo", "journal" };

static uv_loop_t *loop;
static kr_host_t *host;
static kr_module_t *mods[NMODS];
static int done_status[NMODS];
static int done_called[NMODS];
static uint64_t t0;
static uv_timer_t step_timer; /* the host's own handle */
static int step;
static int failures;

/* journal records the host submitted (each must end up in the file) */
static const journal_api_t *journal;
static unsigned host_records;

typedef struct {
	int id;
	uv_tcp_t tcp;
	uv_connect_t connect;
	struct {
		uv_write_t req;
		int busy;
	} w[WRITES_PER_CLIENT];
	char *out;                /* CHUNK bytes, the pattern for this client */
	uint64_t sent, received;  /* stream offsets */
	unsigned writes_ok, writes_failed, in_flight;
	int connected, open, stopping, mismatch;
	const char *end;          /* why the connection ended */
} client_t;

static client_t clients[NCLIENTS];

static unsigned elapsed(void)
{
	return (unsigned)(uv_now(loop) - t0);
}

static const char *state_name(kr_module_state_t s)
{
	switch (s) {
	case KR_MODULE_INVALID: return "-";
	case KR_MODULE_LOADING: return "LOADING";
	case KR_MODULE_ACTIVE: return "ACTIVE";
	case KR_MODULE_CLEANING: return "CLEANING";
	case KR_MODULE_DEINITED: return "DEINITED";
	case KR_MODULE_FAILED: return "FAILED";
	case KR_MODULE_ABANDONED: return "ABANDONED";
	case KR_MODULE_CLOSED: return "CLOSED";
	}
	return "?";
}

static void print_modules(const char *when)
{
	printf("  modules %s:\n", when);
	for (int i = 0; i < NMODS; i++) {
		kr_module_t *m = mods[i];
		if (!m) {
			printf("    %-8s %-9s %s\n", mod_names[i], "unloaded",
			       done_called[i] ? "" : "(never opened)");
			continue;
		}
		printf("    %-8s %-9s live handles %zu, live requests %zu, refs %zu\n",
		       mod_names[i], state_name(kr_module_state(m)),
		       kr_module_live_handles(m), kr_module_live_requests(m),
		       kr_module_refs(m));
	}
}

static void print_clients(void)
{
	for (int i = 0; i < NCLIENTS; i++) {
		client_t *c = &clients[i];
		printf("    client %d: sent %8llu B, echoed back %8llu B, writes ok %u, "
		       "in flight %u, failed %u%s%s\n", c->id,
		       (unsigned long long)c->sent, (unsigned long long)c->received,
		       c->writes_ok, c->in_flight, c->writes_failed,
		       c->end ? ", ended: " : "", c->end ? c->end : "");
	}
}

static void on_log(void *arg, int level, const char *msg)
{
	static const char *const lv[] = { "debug", "info", "warn", "error" };
	(void)arg;
	printf("    [shim %s] %s\n", level >= 0 && level <= 3 ? lv[level] : "?", msg);
}

static void host_record(const char *fmt, int a, unsigned long long b)
{
	char text[96];
	if (!journal)
		return;
	snprintf(text, sizeof(text), "host %u ", host_records);
	size_t l = strlen(text);
	snprintf(text + l, sizeof(text) - l, fmt, a, b);
	if (journal->append(text) == 0)
		host_records++;
}

/* ---- the host's TCP clients (plain libuv: the host's own handles) ---- */

static void client_write_more(client_t *c);

static void client_closed(uv_handle_t *h)
{
	client_t *c = h->data;
	c->open = 0;
}

static void client_close(client_t *c, const char *why)
{
	if (!c->end)
		c->end = why;
	c->stopping = 1;
	if (c->open && !uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, client_closed);
}

static void client_on_write(uv_write_t *req, int status)
{
	client_t *c = req->data;
	for (int i = 0; i < WRITES_PER_CLIENT; i++)
		if (&c->w[i].req == req)
			c->w[i].busy = 0;
	c->in_flight--;
	if (status == 0) {
		c->writes_ok++;
		host_record("client=%d bytes=%llu", c->id, (unsigned long long)c->sent);
		client_write_more(c);
	} else {
		c->writes_failed++;
		client_close(c, uv_err_name(status));
	}
}

static void client_write_more(client_t *c)
{
	for (int i = 0; i < WRITES_PER_CLIENT && !c->stopping; i++) {
		if (c->w[i].busy)
			continue;
		uv_buf_t buf = uv_buf_init(c->out + (c->sent % 256), CHUNK);
		c->w[i].req.data = c;
		int rc = uv_write(&c->w[i].req, (uv_stream_t *)&c->tcp, &buf, 1,
				  client_on_write);
		if (rc != 0) {
			client_close(c, uv_err_name(rc));
			return;
		}
		c->w[i].busy = 1;
		c->in_flight++;
		c->sent += CHUNK;
	}
}

static uint8_t pattern(int id, uint64_t off)
{
	return (uint8_t)(off * 7 + (uint64_t)id * 13);
}

static void client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char slab[64 * 1024];
	(void)h;
	(void)suggested;
	*buf = uv_buf_init(slab, sizeof(slab));
}

static void client_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	client_t *c = s->data;
	if (n < 0) {
		client_close(c, n == UV_EOF ? "EOF from server" : uv_err_name((int)n));
		return;
	}
	for (ssize_t i = 0; i < n; i++)
		if ((uint8_t)buf->base[i] != pattern(c->id, c->received + (uint64_t)i))
			c->mismatch = 1;
	c->received += (uint64_t)n;
}

static void client_on_connect(uv_connect_t *req, int status)
{
	client_t *c = req->data;
	if (status != 0) {
		client_close(c, uv_err_name(status));
		return;
	}
	c->connected = 1;
	uv_read_start((uv_stream_t *)&c->tcp, client_alloc, client_on_read);
	client_write_more(c);
}

static int clients_start(int port)
{
	struct sockaddr_in addr;
	int rc = uv_ip4_addr("127.0.0.1", port, &addr);
	if (rc)
		return rc;
	for (int i = 0; i < NCLIENTS; i++) {
		client_t *c = &clients[i];
		c->id = i;
		/* CHUNK bytes from any of 256 starting phases: out[k] = pattern(k) */
		c->out = malloc(CHUNK + 256);
		if (!c->out)
			return UV_ENOMEM;
		for (int k = 0; k < CHUNK + 256; k++)
			c->out[k] = (char)pattern(i, (uint64_t)k);
		if ((rc = uv_tcp_init(loop, &c->tcp)) != 0)
			return rc;
		c->open = 1;
		c->tcp.data = c;
		c->connect.data = c;
		if ((rc = uv_tcp_connect(&c->connect, &c->tcp,
					 (const struct sockaddr *)&addr,
					 client_on_connect)) != 0) {
			client_close(c, uv_err_name(rc));
			return rc;
		}
	}
	return 0;
}

/* ---- graceful quit: phases and blockers ---- */

static kr_phase_t *flush_phase, *conn_phase;
static kr_blocker_t *conn_blocker;
static uv_timer_t report_timer;

/* Modules find the host's phases by name (the host is linked -rdynamic). */
kr_phase_t *demo_host_phase(const char *name)
{
	return strcmp(name, "flush") == 0 ? flush_phase : NULL;
}

static int clients_open(void)
{
	int n = 0;
	for (int i = 0; i < NCLIENTS; i++)
		n += clients[i].connected && !clients[i].stopping;
	return n;
}

/* "close-connections": the host's own blocker, done at once. */
static void close_connections(kr_blocker_t *b, void *arg)
{
	(void)arg;
	printf("    [host] close-connections phase: closing %d client(s)\n", clients_open());
	for (int i = 0; i < NCLIENTS; i++)
		client_close(&clients[i], "closed by host at shutdown");
	kr_blocker_done(b);
}

static void print_report(uv_timer_t *t)
{
	char *text = NULL;
	uv_close((uv_handle_t *)t, NULL);
	if (kr_host_report(host, KR_REPORT_TEXT, &text) == 0) {
		printf("[%4u ms] report while the shutdown waits:\n%s", elapsed(), text);
		kr_free(text);
	}
}

static void on_shutdown_done(kr_host_t *h, int status, void *arg)
{
	(void)arg;
	printf("[%4u ms] shutdown done, status %d (%s): phases finished, every module "
	       "unloaded, the shim's handles closed\n", elapsed(), status,
	       status ? uv_strerror(status) : "ok");
	if (status != 0)
		failures++;
	for (int i = 0; i < NMODS; i++)
		if (mods[i] && !done_called[i]) {
			done_called[i] = 1; /* unloaded by the shutdown */
			mods[i] = NULL;
		}
	if (!uv_is_closing((uv_handle_t *)&step_timer))
		uv_close((uv_handle_t *)&step_timer, NULL);
	int rc = kr_host_free(h);
	if (rc != 0) {
		printf("  kr_host_free: %s\n", uv_strerror(rc));
		failures++;
	}
	host = NULL;
	printf("  (no uv_stop: uv_run returns once the last handle has closed)\n");
}

static void quit(void)
{
	kr_shutdown_opts_t opts;
	kr_shutdown_opts_init(&opts);
	opts.warn_ms = 2000;
	opts.timeout_ms = 5000;
	opts.on_timeout = KR_ON_TIMEOUT_FORCE;
	printf("  -> kr_host_shutdown: phases \"flush\", \"close-connections\", then "
	       "the modules\n");
	int rc = kr_host_shutdown(host, &opts, on_shutdown_done, NULL);
	if (rc != 0) {
		printf("  kr_host_shutdown: %s\n", uv_strerror(rc));
		failures++;
	}
	uv_timer_init(loop, &report_timer);
	uv_timer_start(&report_timer, print_report, 100, 0);
}

/* ---- unloading ---- */

static void all_unloaded(void);

static void on_done(kr_host_t *h, const char *name, int status, void *arg)
{
	int i = (int)(intptr_t)arg;
	(void)h;
	printf("[%4u ms] done callback: module %s unloaded, status %d (%s), state %s\n",
	       elapsed(), name, status, status ? uv_strerror(status) : "ok",
	       state_name(kr_module_state(mods[i])));
	done_status[i] = status;
	done_called[i] = 1;
	mods[i] = NULL; /* gone once this callback returns */
	if (status != 0)
		failures++;
	if (!mods[M_TICKER] && !mods[M_ECHO] && !mods[M_JOURNAL])
		all_unloaded();
}

static void unload(int i)
{
	printf("  -> kr_module_cleanup(%s)\n", mod_names[i]);
	int rc = kr_module_cleanup(mods[i], on_done, (void *)(intptr_t)i);
	if (rc != 0) {
		printf("  kr_module_cleanup(%s): %s\n", mod_names[i], uv_strerror(rc));
		failures++;
	}
}

static void all_unloaded(void)
{
	printf("[%4u ms] step 5: every module is unloaded; the host closes its own "
	       "handles and frees the host\n", elapsed());
	for (int i = 0; i < NCLIENTS; i++)
		client_close(&clients[i], "closed by host");
	if (!uv_is_closing((uv_handle_t *)&step_timer))
		uv_close((uv_handle_t *)&step_timer, NULL);
	int rc = kr_host_free(host);
	if (rc != 0) {
		printf("  kr_host_free: %s\n", uv_strerror(rc));
		failures++;
	}
	host = NULL;
	printf("  (no uv_stop: uv_run returns once the last handle has closed)\n");
}

static void on_step(uv_timer_t *t)
{
	(void)t;
	step++;
	if (step == 1) {
		printf("\n[%4u ms] step 2: traffic is flowing; the clients stop reading "
		       "for a while, so echo's replies back up\n", elapsed());
		print_clients();
		for (int i = 0; i < NCLIENTS; i++)
			if (clients[i].connected && !clients[i].stopping)
				uv_read_stop((uv_stream_t *)&clients[i].tcp);
		uv_timer_start(&step_timer, on_step, BACKLOG_MS, 0);
	} else if (step == 2) {
		printf("\n[%4u ms] step 3: unload echo mid-flight (writes queued both "
		       "ways)\n", elapsed());
		print_clients();
		print_modules("before");
		unload(M_ECHO);
		print_modules("right after kr_module_cleanup(echo) returned");
		printf("  the clients read again: echo's queued writes drain, then its "
		       "shutdowns and closes complete\n");
		for (int i = 0; i < NCLIENTS; i++)
			if (clients[i].connected && !clients[i].stopping)
				uv_read_start((uv_stream_t *)&clients[i].tcp,
					      client_alloc, client_on_read);
		uv_timer_start(&step_timer, on_step, AFTER_ECHO_MS, 0);
	} else if (step == 3) {
		printf("\n[%4u ms] step 4: quit gracefully: ticker and journal are "
		       "still loaded, the journal has a commit to finish\n", elapsed());
		print_clients();
		printf("  the host stops submitting journal records (%u submitted)\n",
		       host_records);
		journal = NULL;
		print_modules("before");
		quit();
	}
}

/* ---- the journal check ---- */

static int check_journal(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	unsigned expect_seq = 0, next_host = 0, end_records = 0;
	int ended = 0, bad = 0;

	if (!f) {
		printf("  journal: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned seq, n;
		int off = 0;
		if (ended) {
			printf("  journal: a line after the end record: %s", line);
			bad = 1;
			break;
		}
		if (sscanf(line, "%u %n", &seq, &off) != 1 || seq != expect_seq) {
			printf("  journal: expected record %u, found: %s", expect_seq, line);
			bad = 1;
			break;
		}
		expect_seq++;
		if (sscanf(line + off, "host %u ", &n) == 1) {
			if (n != next_host) {
				printf("  journal: expected host record %u, found: %s",
				       next_host, line);
				bad = 1;
				break;
			}
			next_host++;
		} else if (sscanf(line + off, "end records=%u", &n) == 1) {
			end_records = n;
			ended = 1;
		}
	}
	fclose(f);
	if (!bad && !ended) {
		printf("  journal: no end record (the final write was lost)\n");
		bad = 1;
	}
	if (!bad && end_records != expect_seq - 1) {
		printf("  journal: end record says %u records, file has %u\n",
		       end_records, expect_seq - 1);
		bad = 1;
	}
	if (!bad && next_host != host_records) {
		printf("  journal: %u of the %u host records are in the file\n",
		       next_host, host_records);
		bad = 1;
	}
	if (!bad)
		printf("  journal: %u records in order, %u of them from the host "
		       "(all %u submitted), end record present\n",
		       expect_seq, next_host, host_records);
	return bad ? -1 : 0;
}

/* ---- main ---- */

int main(int argc, char **argv)
{
	char exe_dir[4096], mod_dir[4200], journal_path[4200], path[4400];
	size_t len = sizeof(exe_dir);
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (uv_exepath(exe_dir, &len) != 0) {
		fprintf(stderr, "uv_exepath failed\n");
		return 2;
	}
	char *slash = strrchr(exe_dir, '/');
	if (slash)
		*slash = '\0';
	snprintf(mod_dir, sizeof(mod_dir), "%s", argc > 1 ? argv[1] : exe_dir);
	if (argc <= 1)
		snprintf(mod_dir, sizeof(mod_dir), "%s/modules", exe_dir);
	if (argc > 2)
		snprintf(journal_path, sizeof(journal_path), "%s", argv[2]);
	else
		snprintf(journal_path, sizeof(journal_path), "%s/journal.log", exe_dir);
	remove(journal_path);
	setenv("KR_DEMO_JOURNAL", journal_path, 1);

	loop = uv_default_loop(); /* the modules use uv_default_loop() too */
	t0 = uv_now(loop);
	if ((rc = kr_host_new(loop, &host)) != 0) {
		fprintf(stderr, "kr_host_new: %s\n", uv_strerror(rc));
		return 2;
	}
	kr_host_set_log(host, on_log, NULL);
	uv_timer_init(loop, &step_timer);
	if ((rc = kr_phase_new(host, "flush", &flush_phase)) != 0 ||
	    (rc = kr_phase_new(host, "close-connections", &conn_phase)) != 0 ||
	    (rc = kr_phase_add_blocker(conn_phase, "close clients", close_connections,
				       NULL, NULL, &conn_blocker)) != 0) {
		fprintf(stderr, "shutdown phases: %s\n", uv_strerror(rc));
		return 2;
	}

	printf("[%4u ms] step 1: load the modules from %s\n", elapsed(), mod_dir);
	for (int i = 0; i < NMODS; i++) {
		snprintf(path, sizeof(path), "%s/%s.so", mod_dir, mod_names[i]);
		rc = kr_module_open(host, path, mod_names[i], 0, &mods[i]);
		if (rc != 0) {
			fprintf(stderr, "kr_module_open(%s): %s: %s\n", path,
				uv_strerror(rc), kr_last_error());
			return 2;
		}
	}
	journal = kr_module_data(mods[M_JOURNAL]);
	int port = (int)(intptr_t)kr_module_data(mods[M_ECHO]);
	if (!journal || port <= 0) {
		fprintf(stderr, "modules did not publish their data\n");
		return 2;
	}
	print_modules("after init");
	if ((rc = clients_start(port)) != 0) {
		fprintf(stderr, "clients: %s\n", uv_strerror(rc));
		return 2;
	}
	printf("  %d TCP clients connecting to echo on port %d, %d writes of %d KiB "
	       "in flight each\n", NCLIENTS, port, WRITES_PER_CLIENT, CHUNK / 1024);
	uv_timer_start(&step_timer, on_step, TRAFFIC_MS, 0);

	rc = uv_run(loop, UV_RUN_DEFAULT);
	printf("\n[%4u ms] uv_run returned %d by itself\n", elapsed(), rc);

	printf("\nsummary:\n");
	for (int i = 0; i < NMODS; i++) {
		printf("  %-8s %s, status %d\n", mod_names[i],
		       done_called[i] ? "unloaded" : "NOT unloaded", done_status[i]);
		if (!done_called[i])
			failures++;
	}
	print_clients();
	for (int i = 0; i < NCLIENTS; i++) {
		if (clients[i].mismatch) {
			printf("  client %d: echoed data differs from what was sent\n", i);
			failures++;
		}
		if (clients[i].received == 0) {
			printf("  client %d: nothing echoed back\n", i);
			failures++;
		}
		free(clients[i].out);
	}
	if (check_journal(journal_path) != 0)
		failures++;
	rc = uv_loop_close(loop);
	if (rc != 0) {
		printf("  uv_loop_close: %s (a handle is still open)\n", uv_strerror(rc));
		failures++;
	}
	uv_library_shutdown();
	printf("%s\n", failures ? "FAIL" : "OK");
	return failures ? 1 : 0;
}
