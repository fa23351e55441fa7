/*
 * ticker: a timer module that also keeps the thread pool busy.
 *
 * Every 25 ms its timer fires and queues a piece of thread-pool work
 * (uv_queue_work) that blocks for 40 ms, so work is always in flight. On cleanup it stops and closes the timer; work already
 * queued finishes by itself, and the shim waits for its after-work callback
 * before deinit runs and the library is closed.
 *
 * Written against plain libuv: kr_uvshim_compat.h routes every handle init,
 * request and uv_close to the tracked kr_uv_* functions.
 */
#include <stdio.h>
#include "kr_uvshim_compat.h"

#define TICK_MS 25
#define MAX_WORK 4

typedef struct {
	uv_work_t req;
	int busy;
	unsigned long long sum; /* touched on a pool thread */
} work_t;

static uv_timer_t timer;            /* lives in this library's static memory */
static work_t work[MAX_WORK];
static unsigned ticks, works_done, works_cancelled;

static void do_work(uv_work_t *req)
{
	work_t *w = req->data;
	uv_sleep(40); /* a blocking call, as thread-pool work usually is */
	w->sum++;
}

static void after_work(uv_work_t *req, int status)
{
	work_t *w = req->data;
	w->busy = 0;
	if (status == UV_ECANCELED)
		works_cancelled++;
	else
		works_done++;
}

static void on_tick(uv_timer_t *t)
{
	(void)t;
	ticks++;
	for (int i = 0; i < MAX_WORK; i++) {
		if (work[i].busy)
			continue;
		work[i].req.data = &work[i];
		if (uv_queue_work(t->loop, &work[i].req, do_work, after_work) == 0)
			work[i].busy = 1;
		break;
	}
}

int ticker_init(kr_module_t *m)
{
	(void)m;
	int rc = uv_timer_init(uv_default_loop(), &timer);
	if (rc)
		return rc;
	return uv_timer_start(&timer, on_tick, TICK_MS, TICK_MS);
}

int ticker_cleanup(kr_module_t *m)
{
	(void)m;
	uv_timer_stop(&timer);
	uv_close((uv_handle_t *)&timer, NULL);
	return 0;
}

int ticker_deinit(kr_module_t *m)
{
	/* Called only once nothing of ours is live: the timer is closed and no
	 * after-work callback is still to come. */
	printf("    [ticker] deinit: %u ticks, %u work items done, %u cancelled "
	       "(live now: %zu handles, %zu requests)\n",
	       ticks, works_done, works_cancelled,
	       kr_module_live_handles(m), kr_module_live_requests(m));
	return 0;
}
