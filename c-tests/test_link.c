/* Test 9: linked with exactly the documented plain line
 *   gcc ... test_link.c libkr_uvshim.a -rdynamic -luv -ldl -lpthread -lm
 * and calling almost nothing itself, the host must still export every kr_
 * function: a module that references them all opens with RTLD_NOW, and
 * each of its references is the host's single copy. */
#include "harness.h"

typedef void (*any_fn)(void);

#define KR_SYM(name) #name,
static const char *const header_names[] = {
#include "kr_symbols.h"
};
#undef KR_SYM

int main(void) {
  const size_t n = sizeof header_names / sizeof header_names[0];
  ASSERT_GE(n, 80); /* the generated list is not empty or truncated */

  const char *path = mod_path("link");
  void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (dl == NULL) fprintf(stderr, "dlopen: %s\n", dlerror());
  ASSERT_NOT_NULL(dl);

  const any_fn *table = (const any_fn *)dlsym(dl, "link_table");
  const char *const *names = (const char *const *)dlsym(dl, "link_names");
  const size_t *count = (const size_t *)dlsym(dl, "link_count");
  ASSERT_NOT_NULL(table);
  ASSERT_NOT_NULL(names);
  ASSERT_NOT_NULL(count);
  ASSERT_EQ(*count, n);
  for (size_t i = 0; i < n; i++) {
    ASSERT_STR_EQ(names[i], header_names[i]);
    void *host_copy = dlsym(RTLD_DEFAULT, names[i]);
    if (host_copy == NULL) fprintf(stderr, "not exported by the host: %s\n", names[i]);
    ASSERT_NOT_NULL(host_copy);
    ASSERT_PTR_EQ((void *)table[i], host_copy);
  }
  ASSERT_EQ(dlclose(dl), 0);

  /* And through the library, the whole protocol. */
  uv_loop_t loop;
  kr_host_t *host;
  host_setup(&loop, &host);
  kr_module_t *m = NULL;
  ASSERT_EQ(kr_module_open(host, path, "link", 0, &m), 0);
  ASSERT_EQ(probe.init_calls, 1);
  ASSERT_EQ(kr_module_cleanup(m, probe_done_cb, &probe), 0);
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(probe.done_calls, 1);
  ASSERT_EQ(probe.done_status, 0);
  ASSERT_EQ(probe.deinit_calls, 1);
  ASSERT(!lib_is_loaded(path));
  host_teardown(&loop, host);
  return 0;
}
