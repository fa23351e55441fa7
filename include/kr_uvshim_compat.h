/*
 * kr_uvshim_compat.h: compile a module written against plain libuv so that
 * every handle it creates and every request it starts is accounted to it.
 *
 * Use: in each source file of the module, include this header instead of
 * (or after) <uv.h>. Nothing else changes: `uv_timer_init(loop, &t)` becomes
 * `kr_uv_timer_init(kr_uvshim_self, loop, &t)`, `uv_close(h, cb)` becomes
 * `kr_uv_close(h, cb)`, and so on for every libuv function that creates a
 * handle or starts a request with a callback. Everything else (uv_timer_start,
 * uv_read_start, uv_now, ...) is plain libuv, untouched and unpriced.
 *
 * How it finds the module: the header defines `kr_uvshim_self`, one weak
 * variable with default visibility shared by all source files of one shared
 * object. `kr_module_open()` finds it with dlsym() and sets it before
 * `<name>_init` runs, so calls made in init, in callbacks and in after-work
 * functions are all attributed to the module.
 *
 * Rules:
 * - Only modules include it. A host (or any library in the global symbol
 *   scope) that defines `kr_uvshim_self` would capture every module's
 *   accounting; `kr_module_open()` refuses to load modules then (UV_EINVAL).
 * - The wrappers are function-like macros: taking the address of, say,
 *   `uv_fs_write` yields libuv's untracked function. Call them directly.
 * - A module that is registered with `kr_module_register()` rather than
 *   opened has no such variable: call the `kr_uv_*` functions with its
 *   `kr_module_t *` instead.
 * - Close a tracked handle with uv_close (here: kr_uv_close). A handle closed
 *   by code that does not use this header (raw uv_close) stays counted.
 */
#ifndef KR_UVSHIM_COMPAT_H
#define KR_UVSHIM_COMPAT_H

#include <uv.h>
#include "kr_uvshim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The module this shared object is; set by kr_module_open() before init. */
__attribute__((weak, visibility("default"), used)) kr_module_t *kr_uvshim_self = NULL;

#ifdef __cplusplus
}
#endif

#define uv_close(handle, cb) kr_uv_close((handle), (cb))
#define uv_tcp_close_reset(handle, cb) kr_uv_tcp_close_reset((handle), (cb))
#define uv_timer_init(...) kr_uv_timer_init(kr_uvshim_self, __VA_ARGS__)
#define uv_prepare_init(...) kr_uv_prepare_init(kr_uvshim_self, __VA_ARGS__)
#define uv_check_init(...) kr_uv_check_init(kr_uvshim_self, __VA_ARGS__)
#define uv_idle_init(...) kr_uv_idle_init(kr_uvshim_self, __VA_ARGS__)
#define uv_async_init(...) kr_uv_async_init(kr_uvshim_self, __VA_ARGS__)
#define uv_poll_init(...) kr_uv_poll_init(kr_uvshim_self, __VA_ARGS__)
#define uv_poll_init_socket(...) kr_uv_poll_init_socket(kr_uvshim_self, __VA_ARGS__)
#define uv_signal_init(...) kr_uv_signal_init(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_event_init(...) kr_uv_fs_event_init(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_poll_init(...) kr_uv_fs_poll_init(kr_uvshim_self, __VA_ARGS__)
#define uv_tcp_init(...) kr_uv_tcp_init(kr_uvshim_self, __VA_ARGS__)
#define uv_tcp_init_ex(...) kr_uv_tcp_init_ex(kr_uvshim_self, __VA_ARGS__)
#define uv_udp_init(...) kr_uv_udp_init(kr_uvshim_self, __VA_ARGS__)
#define uv_udp_init_ex(...) kr_uv_udp_init_ex(kr_uvshim_self, __VA_ARGS__)
#define uv_pipe_init(...) kr_uv_pipe_init(kr_uvshim_self, __VA_ARGS__)
#define uv_tty_init(...) kr_uv_tty_init(kr_uvshim_self, __VA_ARGS__)
#define uv_spawn(...) kr_uv_spawn(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_close(...) kr_uv_fs_close(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_open(...) kr_uv_fs_open(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_read(...) kr_uv_fs_read(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_unlink(...) kr_uv_fs_unlink(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_write(...) kr_uv_fs_write(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_copyfile(...) kr_uv_fs_copyfile(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_mkdir(...) kr_uv_fs_mkdir(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_mkdtemp(...) kr_uv_fs_mkdtemp(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_mkstemp(...) kr_uv_fs_mkstemp(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_rmdir(...) kr_uv_fs_rmdir(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_scandir(...) kr_uv_fs_scandir(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_opendir(...) kr_uv_fs_opendir(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_readdir(...) kr_uv_fs_readdir(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_closedir(...) kr_uv_fs_closedir(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_stat(...) kr_uv_fs_stat(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_fstat(...) kr_uv_fs_fstat(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_rename(...) kr_uv_fs_rename(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_fsync(...) kr_uv_fs_fsync(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_fdatasync(...) kr_uv_fs_fdatasync(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_ftruncate(...) kr_uv_fs_ftruncate(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_sendfile(...) kr_uv_fs_sendfile(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_access(...) kr_uv_fs_access(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_chmod(...) kr_uv_fs_chmod(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_utime(...) kr_uv_fs_utime(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_futime(...) kr_uv_fs_futime(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_lutime(...) kr_uv_fs_lutime(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_lstat(...) kr_uv_fs_lstat(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_link(...) kr_uv_fs_link(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_symlink(...) kr_uv_fs_symlink(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_readlink(...) kr_uv_fs_readlink(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_realpath(...) kr_uv_fs_realpath(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_fchmod(...) kr_uv_fs_fchmod(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_chown(...) kr_uv_fs_chown(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_fchown(...) kr_uv_fs_fchown(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_lchown(...) kr_uv_fs_lchown(kr_uvshim_self, __VA_ARGS__)
#define uv_fs_statfs(...) kr_uv_fs_statfs(kr_uvshim_self, __VA_ARGS__)
#define uv_write(...) kr_uv_write(kr_uvshim_self, __VA_ARGS__)
#define uv_write2(...) kr_uv_write2(kr_uvshim_self, __VA_ARGS__)
#define uv_shutdown(...) kr_uv_shutdown(kr_uvshim_self, __VA_ARGS__)
#define uv_tcp_connect(...) kr_uv_tcp_connect(kr_uvshim_self, __VA_ARGS__)
#define uv_udp_send(...) kr_uv_udp_send(kr_uvshim_self, __VA_ARGS__)
#define uv_queue_work(...) kr_uv_queue_work(kr_uvshim_self, __VA_ARGS__)
#define uv_getaddrinfo(...) kr_uv_getaddrinfo(kr_uvshim_self, __VA_ARGS__)
#define uv_getnameinfo(...) kr_uv_getnameinfo(kr_uvshim_self, __VA_ARGS__)
#define uv_random(...) kr_uv_random(kr_uvshim_self, __VA_ARGS__)
#define uv_pipe_connect(...) kr_uv_pipe_connect(kr_uvshim_self, __VA_ARGS__)

#endif /* KR_UVSHIM_COMPAT_H */
