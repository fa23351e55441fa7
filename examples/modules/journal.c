/*
 * journal: appends records to a file with uv_fs_write, one write in flight at
 * a time; records that arrive meanwhile are batched into the next write.
 *
 * Every line is "<seq> <text>", seq counting from 0. Records come from its
 * own heartbeat timer ("tick N") and from the host (journal_api_t, published
 * as the module's data). File: $KR_DEMO_JOURNAL, default "journal.log".
 *
 * Cleanup is the interesting part: it stops the timer, appends a last record
 * "<seq> end records=<seq>", and the write chain goes on from callbacks:
 * flush, uv_fs_fsync, uv_fs_close. The shim sees every one of those requests
 * and calls deinit only after the close callback has returned: the commit is
 * on disk before the library goes away.
 *
 * Graceful quit: if the host offers a shutdown phase named "flush"
 * (demo_host_phase, exported by the host), the journal adds a blocker to it:
 * a simulated slow commit (300 ms of "work", then a commit record, written
 * and fsynced) that must finish before the shutdown moves on.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kr_uvshim_compat.h"
#include "journal.h"

#define TICK_MS 10
#define COMMIT_MS 300

/* Offered by the demo host (linked -rdynamic); weak, so the module also
 * loads in hosts that have no such phase. */
extern kr_phase_t *demo_host_phase(const char *name) __attribute__((weak));

static kr_phase_t *flush_phase;
static kr_blocker_t *commit_blocker;
static uv_timer_t commit_timer;
static uv_fs_t commit_sync_req;
static int commit_wanted, commit_done;

static uv_timer_t timer;
static uv_fs_t write_req, sync_req, close_req;
static uv_file fd = -1;
static char *pending, *inflight; /* records not yet written / being written */
static size_t pending_len, pending_cap, inflight_len, inflight_cap, inflight_off;
static int writing, closing, syncing, closed;
static unsigned seq, ticks, writes, lost;

static void kick(void);

static int add_record(const char *text)
{
	char head[32];
	int hl = snprintf(head, sizeof(head), "%u ", seq);
	size_t tl = strlen(text), need = pending_len + (size_t)hl + tl + 1;
	if (need > pending_cap) {
		size_t cap = pending_cap ? pending_cap : 4096;
		while (cap < need)
			cap *= 2;
		char *p = realloc(pending, cap);
		if (!p)
			return UV_ENOMEM;
		pending = p;
		pending_cap = cap;
	}
	memcpy(pending + pending_len, head, (size_t)hl);
	memcpy(pending + pending_len + hl, text, tl);
	pending[need - 1] = '\n';
	pending_len = need;
	seq++;
	return 0;
}

static int journal_append(const char *text)
{
	if (closing)
		return UV_ECANCELED;
	int rc = add_record(text);
	if (rc == 0)
		kick();
	return rc;
}

static const journal_api_t api = { journal_append };

static void on_close(uv_fs_t *req)
{
	printf("    [journal] file closed (%s)\n",
	       req->result < 0 ? uv_strerror((int)req->result) : "ok");
	uv_fs_req_cleanup(req);
	fd = -1;
	closed = 1;
}

static void on_fsync(uv_fs_t *req)
{
	printf("    [journal] fsync done (%s): %u records in %u writes, %u lost\n",
	       req->result < 0 ? uv_strerror((int)req->result) : "ok", seq, writes, lost);
	uv_fs_req_cleanup(req);
	if (uv_fs_close(uv_default_loop(), &close_req, fd, on_close) != 0) {
		fd = -1;
		closed = 1;
	}
}

static void on_write(uv_fs_t *req);

static int start_write(void)
{
	uv_buf_t buf = uv_buf_init(inflight + inflight_off,
				   (unsigned)(inflight_len - inflight_off));
	int rc = uv_fs_write(uv_default_loop(), &write_req, fd, &buf, 1, -1, on_write);
	if (rc == 0) {
		writing = 1;
		writes++;
	} else {
		fprintf(stderr, "    [journal] write: %s\n", uv_strerror(rc));
		lost++;
	}
	return rc;
}

static void on_write(uv_fs_t *req)
{
	ssize_t n = req->result;
	uv_fs_req_cleanup(req);
	writing = 0;
	if (n < 0) {
		fprintf(stderr, "    [journal] write failed: %s\n", uv_strerror((int)n));
		lost++;
		n = (ssize_t)(inflight_len - inflight_off); /* drop this batch */
	}
	inflight_off += (size_t)n;
	/* Short write: the rest, reusing the same request from its callback. */
	if (inflight_off < inflight_len && start_write() == 0)
		return;
	kick();
}

static void on_commit_sync(uv_fs_t *req)
{
	printf("    [journal] commit durable (fsync %s): %u records; blocker done\n",
	       req->result < 0 ? uv_strerror((int)req->result) : "ok", seq);
	uv_fs_req_cleanup(req);
	commit_wanted = 0;
	commit_done = 1;
	kr_blocker_done(commit_blocker);
	kick();
}

/* Starts the next step: a write of what is pending, or, once closing and
 * all is written, the fsync. Called from callbacks: the chain goes on
 * without ever letting the module's live request count drop to zero. */
static void kick(void)
{
	if (writing || syncing || fd < 0)
		return;
	if (pending_len > 0) {
		/* swap the buffers: pending becomes the write, and vice versa */
		char *b = inflight;
		size_t cap = inflight_cap;
		inflight = pending;
		inflight_cap = pending_cap;
		inflight_len = pending_len;
		inflight_off = 0;
		pending = b;
		pending_cap = cap;
		pending_len = 0;
		if (start_write() == 0)
			return;
	}
	if (commit_wanted && !commit_done) {
		/* everything up to the commit record is written: make it durable */
		commit_wanted = 0;
		if (uv_fs_fsync(uv_default_loop(), &commit_sync_req, fd, on_commit_sync) == 0)
			return;
		commit_done = 1;
		kr_blocker_done(commit_blocker);
	}
	if (closing) {
		syncing = 1;
		int rc = uv_fs_fsync(uv_default_loop(), &sync_req, fd, on_fsync);
		if (rc != 0) {
			sync_req.result = rc;
			on_fsync(&sync_req);
		}
	}
}

static void on_tick(uv_timer_t *t)
{
	char text[32];
	(void)t;
	snprintf(text, sizeof(text), "tick %u", ticks++);
	journal_append(text);
}

static void on_commit_work(uv_timer_t *t)
{
	char text[64];
	uv_close((uv_handle_t *)t, NULL);
	snprintf(text, sizeof(text), "commit records=%u", seq);
	add_record(text);
	commit_wanted = 1;
	printf("    [journal] commit record queued after %d ms of work\n", COMMIT_MS);
	kick();
}

/* The "flush" phase started: commit. Done from on_commit_sync. */
static void commit_trigger(kr_blocker_t *b, void *arg)
{
	(void)b;
	(void)arg;
	printf("    [journal] flush phase: commit requested (takes %d ms)\n", COMMIT_MS);
	uv_timer_init(uv_default_loop(), &commit_timer);
	uv_timer_start(&commit_timer, on_commit_work, COMMIT_MS, 0);
}

/* What the report shows while the commit is pending. */
static int commit_state(void *arg, char *buf, size_t len)
{
	(void)arg;
	snprintf(buf, len, "commit %s; %zu bytes pending, write in flight: %s",
		 commit_wanted ? "record written, waiting for fsync" : "in progress",
		 pending_len, writing ? "yes" : "no");
	return 0;
}

int journal_init(kr_module_t *m)
{
	uv_fs_t req;
	const char *path = getenv("KR_DEMO_JOURNAL");
	if (!path)
		path = "journal.log";
	/* A NULL callback: synchronous, as in libuv, and not tracked. */
	int rc = uv_fs_open(uv_default_loop(), &req, path,
			    O_WRONLY | O_CREAT | O_APPEND, 0644, NULL);
	uv_fs_req_cleanup(&req);
	if (rc < 0)
		return rc;
	fd = rc;
	if ((rc = uv_timer_init(uv_default_loop(), &timer)) != 0 ||
	    (rc = uv_timer_start(&timer, on_tick, TICK_MS, TICK_MS)) != 0)
		return rc;
	kr_module_set_data(m, (void *)&api);
	printf("    [journal] appending to %s\n", path);
	if (demo_host_phase && (flush_phase = demo_host_phase("flush")) != NULL)
		kr_phase_add_blocker(flush_phase, "journal commit", commit_trigger,
				     commit_state, NULL, &commit_blocker);
	return 0;
}

int journal_cleanup(kr_module_t *m)
{
	char text[64];
	kr_module_set_data(m, NULL);
	/* Unloaded before a shutdown reached "flush": its trigger would point
	 * into an unmapped library. (UV_EALREADY once the commit is done.) */
	if (commit_blocker)
		kr_phase_remove_blocker(flush_phase, commit_blocker);
	uv_timer_stop(&timer);
	uv_close((uv_handle_t *)&timer, NULL);
	snprintf(text, sizeof(text), "end records=%u", seq);
	add_record(text);
	closing = 1;
	printf("    [journal] cleanup: final record queued, %zu bytes pending, "
	       "write in flight: %s\n", pending_len, writing ? "yes" : "no");
	kick();
	return 0;
}

int journal_deinit(kr_module_t *m)
{
	(void)m;
	if (!closed)
		return UV_EBUSY; /* not reached: the chain keeps a request live */
	free(pending);
	free(inflight);
	pending = inflight = NULL;
	return 0;
}
