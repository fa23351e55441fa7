/* Module "link": references every kr_ function the header declares (the
 * list is generated from include/kr_uvshim.h into build/kr_symbols.h), so
 * dlopen(RTLD_NOW) fails unless the host executable exports all of them. */
#include "mod_common.h"

typedef void (*any_fn)(void);

#define KR_SYM(name) (any_fn) & name,
const any_fn link_table[] = {
#include "kr_symbols.h"
};
#undef KR_SYM
#define KR_SYM(name) #name,
const char *const link_names[] = {
#include "kr_symbols.h"
};
#undef KR_SYM
const size_t link_count = sizeof link_table / sizeof link_table[0];

int link_init(kr_module_t *m) {
  probe.init_calls++;
  for (size_t i = 0; i < link_count; i++) ASSERT_NOT_NULL((void *)link_table[i]);
  ASSERT_EQ(kr_module_state(m), KR_MODULE_LOADING);
  ASSERT_STR_EQ(kr_module_name(m), "link");
  return 0;
}

int link_deinit(kr_module_t *m) {
  (void)m;
  probe.deinit_calls++;
  return 0;
}
