/* asis_probe.h: what the issue-5 test modules report to their host.
 *
 * The host (linked with -rdynamic) defines `struct asis_probe aprobe`
 * (asis_host.h does); modules declare it extern and bind to it at dlopen.
 * It lives in the host, so it survives the module's dlclose. Modules built
 * against plain <uv.h> include only this and <uv.h>: no kr_ symbol. */
#ifndef KR_ASIS_PROBE_H
#define KR_ASIS_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#define ASIS_MAX_INST 4

struct asis_probe {
  /* Inputs from the host. */
  uv_loop_t *loop;
  int fd;                 /* for the raw module's uv_poll_t */
  int linger_ms;          /* how long cleanup keeps handles before closing */

  /* Set by the host's done callback (library closed); every module
   * callback checks it is still 0 and counts a violation otherwise. */
  int closed;
  int done_calls;
  int done_status;
  int violations;         /* module code ran after its done: must stay 0 */

  /* What the module saw. */
  int init_calls;
  int cleanup_calls;
  int deinit_calls;
  int timer_fires;
  int poll_cbs;
  int close_cbs;          /* the module's own close callbacks */
  int closes_started;     /* uv_close calls the module made */
  void *heap_blob;        /* memory the module malloc'd, lent to the host */
  void *heap_handle;      /* a raw handle on the module's heap */

  /* Reload: one slot per instance (the module keeps its index static). */
  int ninst;
  struct {
    void *m;              /* kr_module_t * of the instance */
    void *static_addr;    /* address of a static of the instance */
    int static_at_init;   /* value of that static when init ran (must be 0) */
    int idx_at_init;      /* the instance's static index when init ran (-1) */
    int ticks;            /* serving: ticks of this instance */
    int ticks_after_cleanup;
    int cleaning;
    int close_cbs;
    int deinit_calls;
    int closed;           /* its done callback ran */
    int violations;
  } inst[ASIS_MAX_INST];
};

extern struct asis_probe aprobe;

#endif
