/* probe.h: what a test module reports to its host.
 *
 * The host (linked with -rdynamic) defines `struct probe probe`; modules
 * declare it extern and bind to it at dlopen. Because the probe lives in the
 * host, its contents survive the module's dlclose, and the host can assert
 * on what the module saw (callback counts, live counts at each step). */
#ifndef KR_TEST_PROBE_H
#define KR_TEST_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include "kr_uvshim.h"

#define PROBE_MAX_STEPS 32

struct probe {
  /* Set by the host's done callback: the module's library is closed. Every
   * module callback asserts it is still 0. */
  int closed;
  int done_calls;
  int done_status;
  char done_name[80];
  int deinit_calls_at_done;

  /* Inputs from the host. */
  uv_loop_t *loop;          /* the loop modules use */
  char path[512];           /* a temp file the module writes */
  size_t nbytes;            /* how many bytes to write */
  int deinit_busy_times;    /* deinit answers UV_EBUSY this many times */
  int mode;                 /* module-specific variant */
  int self_clean_after;     /* timer fires before the module cleans itself */
  kr_module_done_cb done_fn;/* for modules that call kr_module_cleanup */
  void *done_arg;
  void (*on_event)(int what); /* a host hook modules call at chosen points */

  /* What the module saw. */
  int init_calls;
  int cleanup_calls;
  int deinit_calls;
  int timer_fires;
  int close_cbs;
  int fs_cbs;
  int fs_status;            /* last fs result (bytes written, or error) */
  int fsync_cbs;
  int fsync_status;
  int work_runs;            /* work_cb on the thread pool (atomic) */
  int after_work_cbs;
  int after_work_status;
  int connect_cbs;
  int accepted;
  int write_started;
  int write_cbs;
  int write_status;
  int server_writes_started;
  int server_write_cbs;
  int server_write_errors;
  int shutdown_cbs;
  int eofs;
  size_t bytes_written;
  size_t bytes_echoed;      /* bytes the client read back, verified */
  int echo_mismatch;
  int port;
  int cleanup_rc;           /* rc of kr_module_cleanup called by the module */
  int cleanup_again_rc;     /* rc of a second call */
  int unref_rc;
  volatile int thread_unrefd; /* set by a module thread right before unref */
  uint64_t cleanup_time_ms, unref_time_ms, deinit_time_ms;

  /* Live counts seen by deinit (at its last, successful call). */
  size_t deinit_live_handles;
  size_t deinit_live_requests;
  size_t deinit_refs;
  int deinit_state;

  /* Live counts at each step a module chooses to report. */
  int nsteps;
  struct {
    int tag;
    size_t handles;
    size_t requests;
  } steps[PROBE_MAX_STEPS];
};

extern struct probe probe;

/* Records the module's live counts at a step named by `tag` (a number: a
 * string of the module would be unmapped once its library is closed). */
static inline void probe_step(kr_module_t *m, int tag) {
  if (probe.nsteps < PROBE_MAX_STEPS) {
    probe.steps[probe.nsteps].tag = tag;
    probe.steps[probe.nsteps].handles = kr_module_live_handles(m);
    probe.steps[probe.nsteps].requests = kr_module_live_requests(m);
    probe.nsteps++;
  }
}

#endif /* KR_TEST_PROBE_H */
