/* Module "noinit": has cleanup and deinit but no noinit_init. */
#include "mod_common.h"

int noinit_cleanup(kr_module_t *m) { (void)m; probe.cleanup_calls++; return 0; }
int noinit_deinit(kr_module_t *m) { (void)m; probe.deinit_calls++; return 0; }
