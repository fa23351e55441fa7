/* Bad input to the shutdown API: every NULL pointer argument is
 * UV_EINVAL (never a crash) and leaves out-parameters untouched; bad
 * policies and formats are UV_EINVAL; dependency self-loops and cycles are
 * UV_EINVAL; a blocker done twice, a shutdown requested twice and a phase
 * created after the start are UV_EALREADY; kr_module_open during the
 * shutdown is UV_ECANCELED; kr_host_free during it is UV_EBUSY. */
#include <signal.h>
#include "sd_test.h"

#define BAD ((void *)0x1)

static uv_loop_t *loop;
static kr_host_t *host;
static int triggered, done_calls, done_status = 1;

static void trig(kr_blocker_t *b, void *arg) {
  (void)b;
  (void)arg;
}

static void done_now(kr_blocker_t *b, void *arg) {
  (void)arg;
  ASSERT_EQ(0, kr_blocker_done(b));
}

static void during_trigger(kr_blocker_t *b, void *arg) {
  (void)arg;
  kr_module_t *m = BAD;
  triggered++;
  /* No new module while shutting down. */
  ASSERT_EQ(UV_ECANCELED, kr_module_open(host, SD_MOD("mod_b"), "mod_b", 0, &m));
  ASSERT_PTR_EQ(m, BAD);
  ASSERT(!sd_is_loaded(SD_MOD("mod_b")));
  ASSERT_EQ(UV_EBUSY, kr_host_free(host));
  ASSERT_EQ(UV_EALREADY, kr_host_shutdown(host, NULL, NULL, NULL));
  ASSERT_EQ(0, kr_blocker_done(b));
  ASSERT_EQ(UV_EALREADY, kr_blocker_done(b));
}

static void on_done(kr_host_t *h, int status, void *arg) {
  (void)h;
  (void)arg;
  done_calls++;
  done_status = status;
}

int main(void) {
  kr_phase_t *p, *child, *op;
  kr_blocker_t *b, *ob;
  kr_module_t *ma, *ra, *rb, *rc;
  kr_shutdown_opts_t o;
  char *out;
  kr_module_ops_t ops = {NULL, NULL, NULL};

  loop = uv_default_loop();
  ASSERT_EQ(0, kr_host_new(loop, &host));
  ASSERT_EQ(0, kr_host_set_log(host, sd_log_hook, NULL));

  /* kr_phase_new */
  op = BAD;
  ASSERT_EQ(UV_EINVAL, kr_phase_new(NULL, "x", &op));
  ASSERT_EQ(UV_EINVAL, kr_phase_new(host, NULL, &op));
  ASSERT_EQ(UV_EINVAL, kr_phase_new(host, "x", NULL));
  ASSERT_PTR_EQ(op, BAD);
  ASSERT_EQ(0, kr_phase_new(host, "p", &p));
  ASSERT_NOT_NULL(p);

  /* kr_phase_new_child: the macro, the function and the _at form */
  ASSERT_EQ(UV_EINVAL, kr_phase_new_child(NULL, "c", &op));
  ASSERT_EQ(UV_EINVAL, kr_phase_new_child(p, NULL, &op));
  ASSERT_EQ(UV_EINVAL, kr_phase_new_child(p, "c", NULL));
  ASSERT_EQ(UV_EINVAL, (kr_phase_new_child)(NULL, "c", &op));
  ASSERT_EQ(UV_EINVAL, (kr_phase_new_child)(p, NULL, &op));
  ASSERT_EQ(UV_EINVAL, (kr_phase_new_child)(p, "c", NULL));
  ASSERT_EQ(UV_EINVAL, kr_phase_new_child_at(NULL, "c", &op, __FILE__, __LINE__));
  ASSERT_EQ(UV_EINVAL, kr_phase_new_child_at(p, NULL, &op, __FILE__, __LINE__));
  ASSERT_EQ(UV_EINVAL, kr_phase_new_child_at(p, "c", NULL, __FILE__, __LINE__));
  ASSERT_EQ(UV_EINVAL, kr_phase_new_child((kr_phase_t *)host, "c", &op)); /* not a phase */
  ASSERT_PTR_EQ(op, BAD);
  ASSERT_EQ(0, (kr_phase_new_child)(p, "c", &child));

  /* kr_phase_add_blocker: the macro, the function and the _at form */
  ob = BAD;
  ASSERT_EQ(UV_EINVAL, kr_phase_add_blocker(NULL, "b", trig, NULL, NULL, &ob));
  ASSERT_EQ(UV_EINVAL, kr_phase_add_blocker(p, NULL, trig, NULL, NULL, &ob));
  ASSERT_EQ(UV_EINVAL, kr_phase_add_blocker(p, "b", NULL, NULL, NULL, &ob));
  ASSERT_EQ(UV_EINVAL, (kr_phase_add_blocker)(NULL, "b", trig, NULL, NULL, &ob));
  ASSERT_EQ(UV_EINVAL, (kr_phase_add_blocker)(p, NULL, trig, NULL, NULL, &ob));
  ASSERT_EQ(UV_EINVAL, (kr_phase_add_blocker)(p, "b", NULL, NULL, NULL, &ob));
  ASSERT_EQ(UV_EINVAL, kr_phase_add_blocker_at(NULL, "b", trig, NULL, NULL, &ob, __FILE__, __LINE__));
  ASSERT_EQ(UV_EINVAL, kr_phase_add_blocker_at(p, NULL, trig, NULL, NULL, &ob, __FILE__, __LINE__));
  ASSERT_EQ(UV_EINVAL, kr_phase_add_blocker_at(p, "b", NULL, NULL, NULL, &ob, __FILE__, __LINE__));
  ASSERT_PTR_EQ(ob, BAD);
  ASSERT_EQ(0, kr_phase_add_blocker(child, "no-out", done_now, NULL, NULL, NULL)); /* out may be NULL */
  ASSERT_EQ(0, (kr_phase_add_blocker)(p, "b", trig, NULL, NULL, &b));
  ASSERT_NOT_NULL(b);

  /* kr_blocker_done / kr_phase_remove_blocker */
  ASSERT_EQ(UV_EINVAL, kr_blocker_done(NULL));
  ASSERT_EQ(UV_EINVAL, kr_blocker_done((kr_blocker_t *)p)); /* a phase is not a blocker */
  ASSERT_EQ(UV_EINVAL, kr_phase_remove_blocker(NULL, b));
  ASSERT_EQ(UV_EINVAL, kr_phase_remove_blocker(p, NULL));
  ASSERT_EQ(UV_EINVAL, kr_phase_remove_blocker(child, b)); /* not its phase */
  ASSERT_EQ(0, kr_blocker_done(b));
  ASSERT_EQ(UV_EALREADY, kr_blocker_done(b));
  ASSERT_EQ(UV_EALREADY, kr_phase_remove_blocker(p, b));

  /* kr_shutdown_opts_init */
  ASSERT_EQ(UV_EINVAL, kr_shutdown_opts_init(NULL));
  memset(&o, 0xff, sizeof o);
  ASSERT_EQ(0, kr_shutdown_opts_init(&o));
  ASSERT_EQ(5000, o.warn_ms);
  ASSERT_EQ(30000, o.timeout_ms);
  ASSERT_EQ(KR_ON_TIMEOUT_FORCE, o.on_timeout);

  /* kr_host_shutdown_on_signal */
  ASSERT_EQ(UV_EINVAL, kr_host_shutdown_on_signal(NULL, SIGTERM));
  ASSERT_LT(kr_host_shutdown_on_signal(host, 0), 0);
  ASSERT_LT(kr_host_shutdown_on_signal(host, 100000), 0);

  /* kr_host_report */
  out = BAD;
  ASSERT_EQ(UV_EINVAL, kr_host_report(NULL, KR_REPORT_TEXT, &out));
  ASSERT_EQ(UV_EINVAL, kr_host_report(host, KR_REPORT_TEXT, NULL));
  ASSERT_EQ(UV_EINVAL, kr_host_report(host, 7, &out));
  ASSERT_EQ(UV_EINVAL, kr_host_report(host, -1, &out));
  ASSERT_PTR_EQ(out, BAD);
  kr_free(NULL);

  /* kr_module_depend */
  ASSERT_EQ(0, kr_module_register(host, "ra", &ops, NULL, &ra));
  ASSERT_EQ(0, kr_module_register(host, "rb", &ops, NULL, &rb));
  ASSERT_EQ(0, kr_module_register(host, "rc", &ops, NULL, &rc));
  ASSERT_EQ(UV_EINVAL, kr_module_depend(NULL, ra));
  ASSERT_EQ(UV_EINVAL, kr_module_depend(ra, NULL));
  ASSERT_EQ(UV_EINVAL, kr_module_depend(NULL, NULL));
  ASSERT_EQ(UV_EINVAL, kr_module_depend(ra, ra));
  ASSERT_EQ(0, kr_module_depend(ra, rb));
  ASSERT_EQ(UV_EINVAL, kr_module_depend(rb, ra)); /* direct cycle */
  ASSERT_EQ(0, kr_module_depend(rb, rc));
  ASSERT_EQ(UV_EINVAL, kr_module_depend(rc, ra)); /* cycle through rb */

  /* kr_module_cleanup_ex: bad opts leave the module active */
  ASSERT_EQ(0, kr_module_open(host, SD_MOD("mod_a"), "mod_a", 0, &ma));
  o.on_timeout = 99;
  ASSERT_EQ(UV_EINVAL, kr_module_cleanup_ex(ma, &o, NULL, NULL));
  ASSERT_EQ(UV_EINVAL, kr_module_cleanup_ex(NULL, NULL, NULL, NULL));
  ASSERT_EQ(KR_MODULE_ACTIVE, kr_module_state(ma));
  ASSERT_EQ(-1, sd_ev_index("mod_a:cleanup"));

  /* kr_host_shutdown: NULL host, bad policy (which must not use up the
   * one shutdown), then for real, then twice. */
  ASSERT_EQ(0, kr_phase_add_blocker(p, "during", during_trigger, NULL, NULL, NULL));
  ASSERT_EQ(UV_EINVAL, kr_host_shutdown(NULL, NULL, on_done, NULL));
  ASSERT_EQ(UV_EINVAL, kr_host_shutdown(host, &o, on_done, NULL));
  o.on_timeout = -1;
  ASSERT_EQ(UV_EINVAL, kr_host_shutdown(host, &o, on_done, NULL));
  ASSERT_EQ(0, triggered);
  ASSERT_EQ(0, kr_shutdown_opts_init(&o));
  ASSERT_EQ(0, kr_host_shutdown(host, &o, on_done, NULL));
  ASSERT_EQ(1, triggered); /* the first phase started at once */
  ASSERT_EQ(UV_EALREADY, kr_host_shutdown(host, &o, on_done, NULL));
  ASSERT_EQ(UV_EALREADY, kr_host_shutdown(host, NULL, NULL, NULL));
  op = BAD;
  ASSERT_EQ(UV_EALREADY, kr_phase_new(host, "late", &op));
  ASSERT_PTR_EQ(op, BAD);
  ASSERT_EQ(UV_EBUSY, kr_host_free(host));

  ASSERT_EQ(0, uv_run(loop, UV_RUN_DEFAULT));
  ASSERT_EQ(1, done_calls);
  ASSERT_EQ(0, done_status);
  ASSERT(!sd_is_loaded(SD_MOD("mod_a")));
  ASSERT_NULL(kr_module_find(host, "ra"));
  /* After it ran: still refused, with the documented code ("UV_EALREADY
   * (the shutdown has started)"), out-parameters untouched. */
  ASSERT_EQ(UV_EALREADY, kr_host_shutdown(host, NULL, NULL, NULL));
  ASSERT_EQ(UV_EALREADY, kr_phase_new(host, "later", &op));
  ASSERT_EQ(UV_EALREADY, kr_phase_add_blocker(p, "later", trig, NULL, NULL, &ob));
  ASSERT_EQ(UV_EALREADY, kr_phase_new_child(p, "later", &op));
  ASSERT_PTR_EQ(op, BAD);
  ASSERT_PTR_EQ(ob, BAD);
  sd_teardown(loop, host);
  return 0;
}
