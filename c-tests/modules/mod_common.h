/* mod_common.h: shared by the test modules (plain libuv via the compat
 * header, probe bound from the host). */
#ifndef KR_TEST_MOD_COMMON_H
#define KR_TEST_MOD_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kr_uvshim_compat.h"
#include "../probe.h"
#include "../test.h"

/* Every module callback starts with this: none may run once the host's
 * done callback said the library is closed. */
#define MOD_CB_ENTER() ASSERT_EQ(probe.closed, 0)

static inline unsigned char mod_pattern_byte(size_t i) {
  return (unsigned char)((i * 7u + (i >> 8)) % 251u);
}

static inline uint64_t mod_now_ms(void) { return uv_hrtime() / 1000000u; }

#endif
