/* The report, during a shutdown: blocker "sql-commit" (added here, with a
 * state function) is pending; module mod_rep has a live repeating timer
 * and an in-flight uv_fs_stat. The JSON report parses and names the
 * blocker, its location, the state text, the module, "timer" and
 * "fs_stat"; the text report says the same. Blockers whose state function
 * fails, or fills the whole buffer without a NUL, or writes quotes and
 * newlines, do not break either format. */
#include "sd_test.h"

static uv_loop_t *loop;
static kr_host_t *host;
static int commit_line, done_calls, done_status = 1, reported;
static kr_blocker_t *commit_b, *fail_b, *long_b, *quote_b;
static int long_calls;

static int commit_state(void *arg, char *buf, size_t len) {
  (void)arg;
  snprintf(buf, len, "committing, 3 rows left");
  return 0;
}

static int fail_state(void *arg, char *buf, size_t len) {
  (void)arg;
  (void)buf;
  (void)len;
  return UV_EIO;
}

static int long_state(void *arg, char *buf, size_t len) {
  (void)arg;
  long_calls++;
  ASSERT_GT(len, 1);
  memset(buf, 'x', len); /* the whole buffer, no NUL */
  return 0;
}

static int quote_state(void *arg, char *buf, size_t len) {
  (void)arg;
  snprintf(buf, len, "say \"hi\"\\\n\ttab \x01 end");
  return 0;
}

static void hold_trigger(kr_blocker_t *b, void *arg) {
  (void)b;
  (void)arg;
}

static void take_report(void) {
  int (*start_fs)(void) = NULL;
  void *dl = dlopen(SD_MOD("mod_rep"), RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NOT_NULL(dl);
  *(void **)&start_fs = dlsym(dl, "mod_rep_start_fs");
  ASSERT_NOT_NULL(start_fs);
  ASSERT_EQ(0, start_fs()); /* in flight until its callback runs on this thread */
  dlclose(dl);
  kr_module_t *m = kr_module_find(host, "mod_rep");
  ASSERT_EQ(1, kr_module_live_handles(m));
  ASSERT_EQ(1, kr_module_live_requests(m));

  char loc[64];
  snprintf(loc, sizeof loc, "test_sd_report.c:%d", commit_line);

  char *json = sd_report(host, KR_REPORT_JSON);
  fprintf(stderr, "%s\n", json);
  ASSERT_STR_CONTAINS(json, "sql-commit");
  ASSERT_STR_CONTAINS(json, loc);
  ASSERT_STR_CONTAINS(json, "committing, 3 rows left");
  ASSERT_STR_CONTAINS(json, "mod_rep");
  ASSERT_STR_CONTAINS(json, "timer");
  ASSERT_STR_CONTAINS(json, "fs_stat");
  ASSERT_JSON(json, "d['shutdown']['stage']=='phases'");
  setenv("SD_LOC", loc, 1);
  ASSERT_JSON(json,
              "[(b['location'],b['state'],b['progress']) for b in d['shutdown']['phases'][0]['blockers'] if b['name']=='sql-commit']"
              "==[(os.environ['SD_LOC'],'waiting','committing, 3 rows left')]");
  ASSERT_JSON(json, "d['shutdown']['phases'][0]['name']=='flush' and d['shutdown']['phases'][0]['state']=='running'");
  ASSERT_JSON(json, "[m['name'] for m in d['modules']]==['mod_rep'] and d['modules'][0]['state']=='active' and "
                    "[(h['type'],h['count']) for h in d['modules'][0]['handles']]==[('timer',1)] and "
                    "[(r['type'],r['count']) for r in d['modules'][0]['requests']]==[('fs_stat',1)] and "
                    "d['modules'][0]['handles'][0]['oldest_ms']>=0");
  /* The misbehaving state functions: rendered, bounded, escaped. */
  ASSERT_JSON(json, "[b['progress'] for b in d['shutdown']['phases'][0]['blockers'] if b['name']=='failing'][0].startswith('(state function failed')");
  ASSERT_JSON(json, "(lambda p: 0 < len(p) < 4096 and set(p)=={'x'})([b['progress'] for b in d['shutdown']['phases'][0]['blockers'] if b['name']=='overlong'][0])");
  ASSERT_JSON(json, "[b['progress'] for b in d['shutdown']['phases'][0]['blockers'] if b['name']=='quoting'][0]=='say \"hi\"\\\\\\n\\ttab \\x01 end'");
  kr_free(json);

  char *text = sd_report(host, KR_REPORT_TEXT);
  fprintf(stderr, "%s\n", text);
  ASSERT_STR_CONTAINS(text, "sql-commit");
  ASSERT_STR_CONTAINS(text, loc);
  ASSERT_STR_CONTAINS(text, "committing, 3 rows left");
  ASSERT_STR_CONTAINS(text, "mod_rep");
  ASSERT_STR_CONTAINS(text, "timer");
  ASSERT_STR_CONTAINS(text, "fs_stat");
  ASSERT_STR_CONTAINS(text, "failing");
  ASSERT_STR_CONTAINS(text, "overlong");
  ASSERT_STR_CONTAINS(text, "xxxxxxxx");
  kr_free(text);
  ASSERT_GE(long_calls, 2);
  reported = 1;
}

static void commit_trigger(kr_blocker_t *b, void *arg) {
  (void)arg;
  commit_b = b;
  take_report();
  ASSERT_EQ(0, kr_blocker_done(fail_b));
  ASSERT_EQ(0, kr_blocker_done(long_b));
  ASSERT_EQ(0, kr_blocker_done(quote_b));
  ASSERT_EQ(0, kr_blocker_done(commit_b));
}

static void on_done(kr_host_t *h, int status, void *arg) {
  (void)h;
  (void)arg;
  done_calls++;
  done_status = status;
}

int main(void) {
  kr_phase_t *p;
  kr_module_t *m;
  loop = uv_default_loop();
  ASSERT_EQ(0, kr_host_new(loop, &host));
  ASSERT_EQ(0, kr_host_set_log(host, sd_log_hook, NULL));
  ASSERT_EQ(0, kr_module_open(host, SD_MOD("mod_rep"), "mod_rep", 0, &m));
  ASSERT_EQ(0, kr_phase_new(host, "flush", &p));
  /* The other blockers first: the commit's trigger runs last, with them all waiting. */
  ASSERT_EQ(0, kr_phase_add_blocker(p, "failing", hold_trigger, fail_state, NULL, &fail_b));
  ASSERT_EQ(0, kr_phase_add_blocker(p, "overlong", hold_trigger, long_state, NULL, &long_b));
  ASSERT_EQ(0, kr_phase_add_blocker(p, "quoting", hold_trigger, quote_state, NULL, &quote_b));
  commit_line = __LINE__; ASSERT_EQ(0, kr_phase_add_blocker(p, "sql-commit", commit_trigger, commit_state, NULL, NULL));

  /* Before the shutdown the report works too and shows the phase pending. */
  char *json = sd_report(host, KR_REPORT_JSON);
  ASSERT_JSON(json, "d['shutdown']['stage']=='idle' and d['shutdown']['phases'][0]['state']=='pending' and "
                    "len(d['shutdown']['phases'][0]['blockers'])==4");
  kr_free(json);

  ASSERT_EQ(0, kr_host_shutdown(host, NULL, on_done, NULL));
  ASSERT_EQ(0, uv_run(loop, UV_RUN_DEFAULT));
  ASSERT_EQ(1, reported);
  ASSERT_EQ(1, done_calls);
  ASSERT_EQ(0, done_status);
  ASSERT_BEFORE("mod_rep:cleanup", "mod_rep:stat_cb 0");
  ASSERT_BEFORE("mod_rep:stat_cb 0", "mod_rep:dlclose");
  sd_teardown(loop, host);
  return 0;
}
