//! The tracked libuv layer: a `kr_uv_*` function for every libuv function
//! that creates a handle or starts a request with a callback.
//!
//! Only creation, close and completion pass through the ledger. The
//! callbacks that fire many times (timer, read, poll, ...) are handed to
//! libuv untouched, so the hot path pays nothing.
//!
//! The exported functions are written out one by one (cbindgen reads them to
//! make the header); they differ only in the libuv call they wrap.

use std::ffi::{c_char, c_int, c_uint, c_void};
use std::mem;
use std::ptr;
use std::sync::Arc;

use libuv_sys2 as uv;

use crate::ffi::{fail, guard, guard_int, need};
use crate::kind::Kind;
use crate::ledger::{self, Account, LoopLedger};
use crate::module::{self, Module};
use crate::uverr;

/// The account of a module that may own new work.
unsafe fn owner<'a>(m: *mut Module) -> Result<&'a Account, c_int> {
    let m = module::module_ref(m)?;
    Ok(&*Arc::as_ptr(&m.acct))
}

/// The ledger of `loop_`. The caller is on that loop's thread (libuv's rule
/// for every call that reaches here) and drops the reference before libuv
/// or user code runs.
unsafe fn ledger_of<'a>(loop_: *mut uv::uv_loop_t) -> &'a mut LoopLedger {
    &mut *ledger::of_loop(loop_ as usize)
}

/// The loop of any handle type (`uv_handle_t.loop`, public and read-only).
unsafe fn handle_loop<T>(handle: *const T) -> *mut uv::uv_loop_t {
    (*(handle as *const uv::uv_handle_t)).loop_
}

/// The loop a request runs on, from the fields libuv documents as public.
unsafe fn req_loop(req: *mut c_void) -> *mut uv::uv_loop_t {
    match (*(req as *mut uv::uv_req_t)).type_ {
        uv::uv_req_type_UV_WRITE => handle_loop((*(req as *mut uv::uv_write_t)).handle),
        uv::uv_req_type_UV_CONNECT => handle_loop((*(req as *mut uv::uv_connect_t)).handle),
        uv::uv_req_type_UV_SHUTDOWN => handle_loop((*(req as *mut uv::uv_shutdown_t)).handle),
        uv::uv_req_type_UV_UDP_SEND => handle_loop((*(req as *mut uv::uv_udp_send_t)).handle),
        uv::uv_req_type_UV_FS => (*(req as *mut uv::uv_fs_t)).loop_,
        uv::uv_req_type_UV_WORK => (*(req as *mut uv::uv_work_t)).loop_,
        uv::uv_req_type_UV_GETADDRINFO => (*(req as *mut uv::uv_getaddrinfo_t)).loop_,
        uv::uv_req_type_UV_GETNAMEINFO => (*(req as *mut uv::uv_getnameinfo_t)).loop_,
        uv::uv_req_type_UV_RANDOM => (*(req as *mut uv::uv_random_t)).loop_,
        _ => ptr::null_mut(),
    }
}

fn code(rc: c_int) -> Result<(), c_int> {
    if rc < 0 {
        Err(rc)
    } else {
        Ok(())
    }
}

unsafe fn stamp(loop_: *mut uv::uv_loop_t) -> u32 {
    uv::uv_now(loop_) as u32
}

unsafe fn enter_handle(owner: &Account, loop_: *mut uv::uv_loop_t, h: *mut uv::uv_handle_t, kind: Kind) {
    let since = stamp(loop_);
    ledger_of(loop_).enter_handle(h as usize, owner, kind, since);
}

/// Starts a request whose callback may be NULL for a synchronous call
/// (`uv_fs_*`, getaddrinfo, getnameinfo, random): only the asynchronous form
/// is tracked.
unsafe fn start_request<F: Copy>(
    owner: &Account,
    loop_: *mut uv::uv_loop_t,
    req: usize,
    kind: Kind,
    cb: Option<F>,
    trampoline: F,
    start: impl FnOnce(Option<F>) -> c_int,
) -> Result<c_int, c_int> {
    match cb {
        None => Ok(start(None)),
        Some(_) => start_completion(owner, loop_, req, kind, cb, trampoline, start),
    }
}

/// Starts a request that always completes later, even with a NULL callback.
/// A synchronous failure never calls back: the entry is dropped again.
unsafe fn start_completion<F: Copy>(
    owner: &Account,
    loop_: *mut uv::uv_loop_t,
    req: usize,
    kind: Kind,
    cb: Option<F>,
    trampoline: F,
    start: impl FnOnce(Option<F>) -> c_int,
) -> Result<c_int, c_int> {
    let user_cb = cb.map_or(0, |f| fn_addr(f));
    let since = stamp(loop_);
    ledger_of(loop_).enter_request(req, owner, kind, user_cb, since);
    let rc = start(Some(trampoline));
    if rc < 0 {
        ledger_of(loop_).forget_request(req);
        return Err(rc);
    }
    Ok(rc)
}

/// A C function pointer as a plain address, for the ledger.
fn fn_addr<F: Copy>(f: F) -> usize {
    debug_assert_eq!(mem::size_of::<F>(), mem::size_of::<usize>());
    // SAFETY: F is always an `unsafe extern "C" fn` pointer type here.
    unsafe { mem::transmute_copy(&f) }
}

/// Lets go of the ledger entry before the user's callback runs (it may reuse
/// the memory for a new request at once), and drops the count only after it
/// has returned.
unsafe fn complete(addr: usize, call: impl FnOnce(usize)) {
    let loop_ = req_loop(addr as *mut c_void);
    if loop_.is_null() {
        return;
    }
    let Some(e) = ledger_of(loop_).take_request(addr) else {
        return;
    };
    finish(e, call);
}

unsafe fn finish(e: ledger::Entry, call: impl FnOnce(usize)) {
    if e.cb != 0 {
        call(e.cb);
    }
    e.uncount();
}

unsafe extern "C" fn on_fs_done(req: *mut uv::uv_fs_t) {
    complete(req as usize, |cb| {
        let f: unsafe extern "C" fn(*mut uv::uv_fs_t) = mem::transmute(cb);
        f(req)
    });
}

/// For every request callback of the form `cb(req, status)`.
unsafe extern "C" fn on_status_done<R>(req: *mut R, status: c_int) {
    complete(req as usize, |cb| {
        let f: unsafe extern "C" fn(*mut R, c_int) = mem::transmute(cb);
        f(req, status)
    });
}

unsafe extern "C" fn on_getaddrinfo_done(req: *mut uv::uv_getaddrinfo_t, status: c_int, res: *mut uv::addrinfo) {
    let mut called = false;
    complete(req as usize, |cb| {
        called = true;
        let f: unsafe extern "C" fn(*mut uv::uv_getaddrinfo_t, c_int, *mut uv::addrinfo) = mem::transmute(cb);
        f(req, status, res)
    });
    if !called && !res.is_null() {
        uv::uv_freeaddrinfo(res);
    }
}

unsafe extern "C" fn on_getnameinfo_done(
    req: *mut uv::uv_getnameinfo_t,
    status: c_int,
    hostname: *const c_char,
    service: *const c_char,
) {
    complete(req as usize, |cb| {
        let f: unsafe extern "C" fn(*mut uv::uv_getnameinfo_t, c_int, *const c_char, *const c_char) = mem::transmute(cb);
        f(req, status, hostname, service)
    });
}

unsafe extern "C" fn on_random_done(req: *mut uv::uv_random_t, status: c_int, buf: *mut c_void, buflen: uv::size_t) {
    complete(req as usize, |cb| {
        let f: unsafe extern "C" fn(*mut uv::uv_random_t, c_int, *mut c_void, uv::size_t) = mem::transmute(cb);
        f(req, status, buf, buflen)
    });
}

/// The close callback the shim installs on tracked handles.
pub(crate) unsafe extern "C" fn on_close_done(h: *mut uv::uv_handle_t) {
    let Some(e) = ledger_of(handle_loop(h)).take_handle(h as usize) else {
        return;
    };
    finish(e, |cb| {
        let f: unsafe extern "C" fn(*mut uv::uv_handle_t) = mem::transmute(cb);
        f(h)
    });
}

/// Closes every handle `owner` still has open on `loop_` and is not already
/// closing, with the shim's own close callback (no module code runs for
/// them). Handles on other loops (a module's own thread) are left to their
/// thread: libuv handles are closed on their loop's thread only.
/// Returns how many it closed.
pub(crate) unsafe fn close_owned_handles(owner: *const Account, loop_: *mut uv::uv_loop_t) -> usize {
    let mut n = 0;
    for (addr, e) in ledger_of(loop_).owned_by(owner) {
        let h = addr as *mut uv::uv_handle_t;
        if e.kind.is_handle() && uv::uv_is_closing(h) == 0 {
            ledger_of(loop_).set_close_cb(addr, 0);
            uv::uv_close(h, Some(on_close_done));
            n += 1;
        }
    }
    n
}

/// `uv_close()` for any handle, tracked or not. For a tracked handle the
/// module stays accountable for it until `cb` (which may be NULL) has
/// returned. A NULL handle, or one already closing, is ignored (libuv would
/// abort) and `kr_last_error()` says so.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_close(handle: *mut uv::uv_handle_t, cb: uv::uv_close_cb) {
    guard(|| {
        need(handle, "handle")?;
        if uv::uv_is_closing(handle) != 0 {
            return fail(uverr::EALREADY, "kr_uv_close: handle is already closing");
        }
        // Entries start with no close callback: with a NULL one there is
        // nothing to record, and the trampoline finds an untracked handle's
        // missing entry harmlessly. This saves a lookup on a common path.
        if cb.is_none() || ledger_of(handle_loop(handle)).set_close_cb(handle as usize, cb.map_or(0, fn_addr)) {
            uv::uv_close(handle, Some(on_close_done));
        } else {
            uv::uv_close(handle, cb);
        }
        Ok(())
    });
}

/// `uv_tcp_close_reset()` for any TCP handle, tracked or not: as
/// `kr_uv_close()`, but resets the connection. It can fail without closing
/// (the handle then stays open and live).
///
/// Errors: `UV_EINVAL` if `handle` is NULL; `UV_EALREADY` if it is already
/// closing; libuv's error otherwise.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_tcp_close_reset(handle: *mut uv::uv_tcp_t, cb: uv::uv_close_cb) -> c_int {
    guard(|| {
        need(handle, "handle")?;
        let h = handle as *mut uv::uv_handle_t;
        if uv::uv_is_closing(h) != 0 {
            return fail(uverr::EALREADY, "kr_uv_tcp_close_reset: handle is already closing");
        }
        let addr = handle as usize;
        let loop_ = handle_loop(h);
        let rc = if ledger_of(loop_).set_close_cb(addr, cb.map_or(0, fn_addr)) {
            let rc = uv::uv_tcp_close_reset(handle, Some(on_close_done));
            if rc != 0 {
                ledger_of(loop_).set_close_cb(addr, 0);
            }
            rc
        } else {
            uv::uv_tcp_close_reset(handle, cb)
        };
        code(rc)
    })
}

/// Tracked `uv_timer_init`: as libuv's, with the owning module first. The handle
/// counts as live for `m` from here until its close callback has returned.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_timer_init(m: *mut Module, loop_: *mut uv::uv_loop_t, handle: *mut uv::uv_timer_t) -> c_int {
    guard(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(handle, "handle")?;
        let rc = uv::uv_timer_init(loop_, handle);
        if rc == 0 {
            enter_handle(owner, loop_, handle as *mut uv::uv_handle_t, Kind::Timer);
        }
        code(rc)
    })
}

/// Tracked `uv_prepare_init`: as libuv's, with the owning module first. The handle
/// counts as live for `m` from here until its close callback has returned.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_prepare_init(m: *mut Module, loop_: *mut uv::uv_loop_t, prepare: *mut uv::uv_prepare_t) -> c_int {
    guard(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(prepare, "prepare")?;
        let rc = uv::uv_prepare_init(loop_, prepare);
        if rc == 0 {
            enter_handle(owner, loop_, prepare as *mut uv::uv_handle_t, Kind::Prepare);
        }
        code(rc)
    })
}

/// Tracked `uv_check_init`: as libuv's, with the owning module first. The handle
/// counts as live for `m` from here until its close callback has returned.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_check_init(m: *mut Module, loop_: *mut uv::uv_loop_t, check: *mut uv::uv_check_t) -> c_int {
    guard(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(check, "check")?;
        let rc = uv::uv_check_init(loop_, check);
        if rc == 0 {
            enter_handle(owner, loop_, check as *mut uv::uv_handle_t, Kind::Check);
        }
        code(rc)
    })
}

/// Tracked `uv_idle_init`: as libuv's, with the owning module first. The handle
/// counts as live for `m` from here until its close callback has returned.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_idle_init(m: *mut Module, loop_: *mut uv::uv_loop_t, idle: *mut uv::uv_idle_t) -> c_int {
    guard(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(idle, "idle")?;
        let rc = uv::uv_idle_init(loop_, idle);
        if rc == 0 {
            enter_handle(owner, loop_, idle as *mut uv::uv_handle_t, Kind::Idle);
        }
        code(rc)
    })
}

/// Tracked `uv_async_init`: as libuv's, with the owning module first. The handle
/// counts as live for `m` from here until its close callback has returned.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_async_init(m: *mut Module, loop_: *mut uv::uv_loop_t, async_: *mut uv::uv_async_t, async_cb: uv::uv_async_cb) -> c_int {
    guard(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(async_, "async_")?;
        let rc = uv::uv_async_init(loop_, async_, async_cb);
        if rc == 0 {
            enter_handle(owner, loop_, async_ as *mut uv::uv_handle_t, Kind::Async);
        }
        code(rc)
    })
}

/// Tracked `uv_poll_init`: as libuv's, with the owning module first. The handle
/// counts as live for `m` from here until its close callback has returned.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_poll_init(m: *mut Module, loop_: *mut uv::uv_loop_t, handle: *mut uv::uv_poll_t, fd: c_int) -> c_int {
    guard(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(handle, "handle")?;
        let rc = uv::uv_poll_init(loop_, handle, fd);
        if rc == 0 {
            enter_handle(owner, loop_, handle as *mut uv::uv_handle_t, Kind::Poll);
        }
        code(rc)
    })
}

/// Tracked `uv_poll_init_socket`: as libuv's, with the owning module first. The handle
/// counts as live for `m` from here until its close callback has returned.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_poll_init_socket(m: *mut Module, loop_: *mut uv::uv_loop_t, handle: *mut uv::uv_poll_t, socket: uv::uv_os_sock_t) -> c_int {
    guard(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(handle, "handle")?;
        let rc = uv::uv_poll_init_socket(loop_, handle, socket);
        if rc == 0 {
            enter_handle(owner, loop_, handle as *mut uv::uv_handle_t, Kind::Poll);
        }
        code(rc)
    })
}

/// Tracked `uv_signal_init`: as libuv's, with the owning module first. The handle
/// counts as live for `m` from here until its close callback has returned.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_signal_init(m: *mut Module, loop_: *mut uv::uv_loop_t, handle: *mut uv::uv_signal_t) -> c_int {
    guard(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(handle, "handle")?;
        let rc = uv::uv_signal_init(loop_, handle);
        if rc == 0 {
            enter_handle(owner, loop_, handle as *mut uv::uv_handle_t, Kind::Signal);
        }
        code(rc)
    })
}

/// Tracked `uv_fs_event_init`: as libuv's, with the owning module first. The handle
/// counts as live for `m` from here until its close callback has returned.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_event_init(m: *mut Module, loop_: *mut uv::uv_loop_t, handle: *mut uv::uv_fs_event_t) -> c_int {
    guard(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(handle, "handle")?;
        let rc = uv::uv_fs_event_init(loop_, handle);
        if rc == 0 {
            enter_handle(owner, loop_, handle as *mut uv::uv_handle_t, Kind::FsEvent);
        }
        code(rc)
    })
}

/// Tracked `uv_fs_poll_init`: as libuv's, with the owning module first. The handle
/// counts as live for `m` from here until its close callback has returned.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_poll_init(m: *mut Module, loop_: *mut uv::uv_loop_t, handle: *mut uv::uv_fs_poll_t) -> c_int {
    guard(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(handle, "handle")?;
        let rc = uv::uv_fs_poll_init(loop_, handle);
        if rc == 0 {
            enter_handle(owner, loop_, handle as *mut uv::uv_handle_t, Kind::FsPoll);
        }
        code(rc)
    })
}

/// Tracked `uv_tcp_init`: as libuv's, with the owning module first. The handle
/// counts as live for `m` from here until its close callback has returned.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_tcp_init(m: *mut Module, loop_: *mut uv::uv_loop_t, handle: *mut uv::uv_tcp_t) -> c_int {
    guard(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(handle, "handle")?;
        let rc = uv::uv_tcp_init(loop_, handle);
        if rc == 0 {
            enter_handle(owner, loop_, handle as *mut uv::uv_handle_t, Kind::Tcp);
        }
        code(rc)
    })
}

/// Tracked `uv_tcp_init_ex`: as libuv's, with the owning module first. The handle
/// counts as live for `m` from here until its close callback has returned.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_tcp_init_ex(m: *mut Module, loop_: *mut uv::uv_loop_t, handle: *mut uv::uv_tcp_t, flags: c_uint) -> c_int {
    guard(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(handle, "handle")?;
        let rc = uv::uv_tcp_init_ex(loop_, handle, flags);
        if rc == 0 {
            enter_handle(owner, loop_, handle as *mut uv::uv_handle_t, Kind::Tcp);
        }
        code(rc)
    })
}

/// Tracked `uv_udp_init`: as libuv's, with the owning module first. The handle
/// counts as live for `m` from here until its close callback has returned.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_udp_init(m: *mut Module, loop_: *mut uv::uv_loop_t, handle: *mut uv::uv_udp_t) -> c_int {
    guard(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(handle, "handle")?;
        let rc = uv::uv_udp_init(loop_, handle);
        if rc == 0 {
            enter_handle(owner, loop_, handle as *mut uv::uv_handle_t, Kind::Udp);
        }
        code(rc)
    })
}

/// Tracked `uv_udp_init_ex`: as libuv's, with the owning module first. The handle
/// counts as live for `m` from here until its close callback has returned.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_udp_init_ex(m: *mut Module, loop_: *mut uv::uv_loop_t, handle: *mut uv::uv_udp_t, flags: c_uint) -> c_int {
    guard(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(handle, "handle")?;
        let rc = uv::uv_udp_init_ex(loop_, handle, flags);
        if rc == 0 {
            enter_handle(owner, loop_, handle as *mut uv::uv_handle_t, Kind::Udp);
        }
        code(rc)
    })
}

/// Tracked `uv_pipe_init`: as libuv's, with the owning module first. The handle
/// counts as live for `m` from here until its close callback has returned.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_pipe_init(m: *mut Module, loop_: *mut uv::uv_loop_t, handle: *mut uv::uv_pipe_t, ipc: c_int) -> c_int {
    guard(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(handle, "handle")?;
        let rc = uv::uv_pipe_init(loop_, handle, ipc);
        if rc == 0 {
            enter_handle(owner, loop_, handle as *mut uv::uv_handle_t, Kind::Pipe);
        }
        code(rc)
    })
}

/// Tracked `uv_tty_init`: as libuv's, with the owning module first. The handle
/// counts as live for `m` from here until its close callback has returned.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_tty_init(m: *mut Module, loop_: *mut uv::uv_loop_t, handle: *mut uv::uv_tty_t, fd: uv::uv_file, readable: c_int) -> c_int {
    guard(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(handle, "handle")?;
        let rc = uv::uv_tty_init(loop_, handle, fd, readable);
        if rc == 0 {
            enter_handle(owner, loop_, handle as *mut uv::uv_handle_t, Kind::Tty);
        }
        code(rc)
    })
}

/// Tracked `uv_spawn`: as libuv's, with the owning module first. The handle
/// counts as live for `m` from here until its close callback has returned.
/// A failed spawn still leaves the handle to close (as in libuv), so it
/// stays live until `kr_uv_close()` on it completes.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_spawn(m: *mut Module, loop_: *mut uv::uv_loop_t, handle: *mut uv::uv_process_t, options: *const uv::uv_process_options_t) -> c_int {
    guard(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(handle, "handle")?;
        need(options, "options")?;
        let rc = uv::uv_spawn(loop_, handle, options);
        enter_handle(owner, loop_, handle as *mut uv::uv_handle_t, Kind::Process);
        code(rc)
    })
}

/// Tracked `uv_fs_close`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_close(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, file: uv::uv_file, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        start_request(owner, loop_, req as usize, Kind::FsClose, cb, on_fs_done, |done| uv::uv_fs_close(loop_, req, file, done))
    })
}

/// Tracked `uv_fs_open`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_open(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, flags: c_int, mode: c_int, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        start_request(owner, loop_, req as usize, Kind::FsOpen, cb, on_fs_done, |done| uv::uv_fs_open(loop_, req, path, flags, mode, done))
    })
}

/// Tracked `uv_fs_read`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_read(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, file: uv::uv_file, bufs: *const uv::uv_buf_t, nbufs: c_uint, offset: i64, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(bufs, "bufs")?;
        start_request(owner, loop_, req as usize, Kind::FsRead, cb, on_fs_done, |done| uv::uv_fs_read(loop_, req, file, bufs, nbufs, offset, done))
    })
}

/// Tracked `uv_fs_unlink`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_unlink(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        start_request(owner, loop_, req as usize, Kind::FsUnlink, cb, on_fs_done, |done| uv::uv_fs_unlink(loop_, req, path, done))
    })
}

/// Tracked `uv_fs_write`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_write(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, file: uv::uv_file, bufs: *const uv::uv_buf_t, nbufs: c_uint, offset: i64, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(bufs, "bufs")?;
        start_request(owner, loop_, req as usize, Kind::FsWrite, cb, on_fs_done, |done| uv::uv_fs_write(loop_, req, file, bufs, nbufs, offset, done))
    })
}

/// Tracked `uv_fs_copyfile`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_copyfile(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, new_path: *const c_char, flags: c_int, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        need(new_path, "new_path")?;
        start_request(owner, loop_, req as usize, Kind::FsCopyfile, cb, on_fs_done, |done| uv::uv_fs_copyfile(loop_, req, path, new_path, flags, done))
    })
}

/// Tracked `uv_fs_mkdir`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_mkdir(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, mode: c_int, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        start_request(owner, loop_, req as usize, Kind::FsMkdir, cb, on_fs_done, |done| uv::uv_fs_mkdir(loop_, req, path, mode, done))
    })
}

/// Tracked `uv_fs_mkdtemp`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_mkdtemp(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, tpl: *const c_char, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(tpl, "tpl")?;
        start_request(owner, loop_, req as usize, Kind::FsMkdtemp, cb, on_fs_done, |done| uv::uv_fs_mkdtemp(loop_, req, tpl, done))
    })
}

/// Tracked `uv_fs_mkstemp`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_mkstemp(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, tpl: *const c_char, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(tpl, "tpl")?;
        start_request(owner, loop_, req as usize, Kind::FsMkstemp, cb, on_fs_done, |done| uv::uv_fs_mkstemp(loop_, req, tpl, done))
    })
}

/// Tracked `uv_fs_rmdir`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_rmdir(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        start_request(owner, loop_, req as usize, Kind::FsRmdir, cb, on_fs_done, |done| uv::uv_fs_rmdir(loop_, req, path, done))
    })
}

/// Tracked `uv_fs_scandir`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_scandir(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, flags: c_int, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        start_request(owner, loop_, req as usize, Kind::FsScandir, cb, on_fs_done, |done| uv::uv_fs_scandir(loop_, req, path, flags, done))
    })
}

/// Tracked `uv_fs_opendir`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_opendir(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        start_request(owner, loop_, req as usize, Kind::FsOpendir, cb, on_fs_done, |done| uv::uv_fs_opendir(loop_, req, path, done))
    })
}

/// Tracked `uv_fs_readdir`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_readdir(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, dir: *mut uv::uv_dir_t, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(dir, "dir")?;
        start_request(owner, loop_, req as usize, Kind::FsReaddir, cb, on_fs_done, |done| uv::uv_fs_readdir(loop_, req, dir, done))
    })
}

/// Tracked `uv_fs_closedir`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_closedir(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, dir: *mut uv::uv_dir_t, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(dir, "dir")?;
        start_request(owner, loop_, req as usize, Kind::FsClosedir, cb, on_fs_done, |done| uv::uv_fs_closedir(loop_, req, dir, done))
    })
}

/// Tracked `uv_fs_stat`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_stat(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        start_request(owner, loop_, req as usize, Kind::FsStat, cb, on_fs_done, |done| uv::uv_fs_stat(loop_, req, path, done))
    })
}

/// Tracked `uv_fs_fstat`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_fstat(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, file: uv::uv_file, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        start_request(owner, loop_, req as usize, Kind::FsFstat, cb, on_fs_done, |done| uv::uv_fs_fstat(loop_, req, file, done))
    })
}

/// Tracked `uv_fs_rename`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_rename(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, new_path: *const c_char, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        need(new_path, "new_path")?;
        start_request(owner, loop_, req as usize, Kind::FsRename, cb, on_fs_done, |done| uv::uv_fs_rename(loop_, req, path, new_path, done))
    })
}

/// Tracked `uv_fs_fsync`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_fsync(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, file: uv::uv_file, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        start_request(owner, loop_, req as usize, Kind::FsFsync, cb, on_fs_done, |done| uv::uv_fs_fsync(loop_, req, file, done))
    })
}

/// Tracked `uv_fs_fdatasync`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_fdatasync(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, file: uv::uv_file, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        start_request(owner, loop_, req as usize, Kind::FsFdatasync, cb, on_fs_done, |done| uv::uv_fs_fdatasync(loop_, req, file, done))
    })
}

/// Tracked `uv_fs_ftruncate`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_ftruncate(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, file: uv::uv_file, offset: i64, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        start_request(owner, loop_, req as usize, Kind::FsFtruncate, cb, on_fs_done, |done| uv::uv_fs_ftruncate(loop_, req, file, offset, done))
    })
}

/// Tracked `uv_fs_sendfile`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_sendfile(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, out_fd: uv::uv_file, in_fd: uv::uv_file, in_offset: i64, length: uv::size_t, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        start_request(owner, loop_, req as usize, Kind::FsSendfile, cb, on_fs_done, |done| uv::uv_fs_sendfile(loop_, req, out_fd, in_fd, in_offset, length, done))
    })
}

/// Tracked `uv_fs_access`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_access(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, mode: c_int, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        start_request(owner, loop_, req as usize, Kind::FsAccess, cb, on_fs_done, |done| uv::uv_fs_access(loop_, req, path, mode, done))
    })
}

/// Tracked `uv_fs_chmod`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_chmod(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, mode: c_int, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        start_request(owner, loop_, req as usize, Kind::FsChmod, cb, on_fs_done, |done| uv::uv_fs_chmod(loop_, req, path, mode, done))
    })
}

/// Tracked `uv_fs_utime`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_utime(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, atime: f64, mtime: f64, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        start_request(owner, loop_, req as usize, Kind::FsUtime, cb, on_fs_done, |done| uv::uv_fs_utime(loop_, req, path, atime, mtime, done))
    })
}

/// Tracked `uv_fs_futime`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_futime(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, file: uv::uv_file, atime: f64, mtime: f64, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        start_request(owner, loop_, req as usize, Kind::FsFutime, cb, on_fs_done, |done| uv::uv_fs_futime(loop_, req, file, atime, mtime, done))
    })
}

/// Tracked `uv_fs_lutime`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_lutime(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, atime: f64, mtime: f64, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        start_request(owner, loop_, req as usize, Kind::FsLutime, cb, on_fs_done, |done| uv::uv_fs_lutime(loop_, req, path, atime, mtime, done))
    })
}

/// Tracked `uv_fs_lstat`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_lstat(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        start_request(owner, loop_, req as usize, Kind::FsLstat, cb, on_fs_done, |done| uv::uv_fs_lstat(loop_, req, path, done))
    })
}

/// Tracked `uv_fs_link`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_link(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, new_path: *const c_char, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        need(new_path, "new_path")?;
        start_request(owner, loop_, req as usize, Kind::FsLink, cb, on_fs_done, |done| uv::uv_fs_link(loop_, req, path, new_path, done))
    })
}

/// Tracked `uv_fs_symlink`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_symlink(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, new_path: *const c_char, flags: c_int, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        need(new_path, "new_path")?;
        start_request(owner, loop_, req as usize, Kind::FsSymlink, cb, on_fs_done, |done| uv::uv_fs_symlink(loop_, req, path, new_path, flags, done))
    })
}

/// Tracked `uv_fs_readlink`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_readlink(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        start_request(owner, loop_, req as usize, Kind::FsReadlink, cb, on_fs_done, |done| uv::uv_fs_readlink(loop_, req, path, done))
    })
}

/// Tracked `uv_fs_realpath`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_realpath(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        start_request(owner, loop_, req as usize, Kind::FsRealpath, cb, on_fs_done, |done| uv::uv_fs_realpath(loop_, req, path, done))
    })
}

/// Tracked `uv_fs_fchmod`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_fchmod(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, file: uv::uv_file, mode: c_int, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        start_request(owner, loop_, req as usize, Kind::FsFchmod, cb, on_fs_done, |done| uv::uv_fs_fchmod(loop_, req, file, mode, done))
    })
}

/// Tracked `uv_fs_chown`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_chown(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, uid: uv::uv_uid_t, gid: uv::uv_gid_t, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        start_request(owner, loop_, req as usize, Kind::FsChown, cb, on_fs_done, |done| uv::uv_fs_chown(loop_, req, path, uid, gid, done))
    })
}

/// Tracked `uv_fs_fchown`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_fchown(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, file: uv::uv_file, uid: uv::uv_uid_t, gid: uv::uv_gid_t, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        start_request(owner, loop_, req as usize, Kind::FsFchown, cb, on_fs_done, |done| uv::uv_fs_fchown(loop_, req, file, uid, gid, done))
    })
}

/// Tracked `uv_fs_lchown`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_lchown(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, uid: uv::uv_uid_t, gid: uv::uv_gid_t, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        start_request(owner, loop_, req as usize, Kind::FsLchown, cb, on_fs_done, |done| uv::uv_fs_lchown(loop_, req, path, uid, gid, done))
    })
}

/// Tracked `uv_fs_statfs`: as libuv's, with the owning module first. With a
/// callback the request counts as live for `m` until `cb` has returned;
/// with `cb` NULL it runs synchronously, as in libuv (`loop` may then be
/// NULL), and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_fs_statfs(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_fs_t, path: *const c_char, cb: uv::uv_fs_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        if cb.is_some() {
            need(loop_, "loop")?;
        }
        need(req, "req")?;
        need(path, "path")?;
        start_request(owner, loop_, req as usize, Kind::FsStatfs, cb, on_fs_done, |done| uv::uv_fs_statfs(loop_, req, path, done))
    })
}

/// Tracked `uv_write`: as libuv's, with the owning module first. The request
/// counts as live for `m` until its callback has returned; a NULL callback
/// is allowed and the completion is still seen.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_write(m: *mut Module, req: *mut uv::uv_write_t, handle: *mut uv::uv_stream_t, bufs: *const uv::uv_buf_t, nbufs: c_uint, cb: uv::uv_write_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        need(req, "req")?;
        need(handle, "handle")?;
        need(bufs, "bufs")?;
        start_completion(owner, handle_loop(handle), req as usize, Kind::Write, cb, on_status_done::<uv::uv_write_t>, |done| uv::uv_write(req, handle, bufs, nbufs, done))
    })
}

/// Tracked `uv_write2`: as libuv's, with the owning module first. The request
/// counts as live for `m` until its callback has returned; a NULL callback
/// is allowed and the completion is still seen.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_write2(m: *mut Module, req: *mut uv::uv_write_t, handle: *mut uv::uv_stream_t, bufs: *const uv::uv_buf_t, nbufs: c_uint, send_handle: *mut uv::uv_stream_t, cb: uv::uv_write_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        need(req, "req")?;
        need(handle, "handle")?;
        need(bufs, "bufs")?;
        start_completion(owner, handle_loop(handle), req as usize, Kind::Write, cb, on_status_done::<uv::uv_write_t>, |done| uv::uv_write2(req, handle, bufs, nbufs, send_handle, done))
    })
}

/// Tracked `uv_shutdown`: as libuv's, with the owning module first. The request
/// counts as live for `m` until its callback has returned; a NULL callback
/// is allowed and the completion is still seen.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_shutdown(m: *mut Module, req: *mut uv::uv_shutdown_t, handle: *mut uv::uv_stream_t, cb: uv::uv_shutdown_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        need(req, "req")?;
        need(handle, "handle")?;
        start_completion(owner, handle_loop(handle), req as usize, Kind::Shutdown, cb, on_status_done::<uv::uv_shutdown_t>, |done| uv::uv_shutdown(req, handle, done))
    })
}

/// Tracked `uv_tcp_connect`: as libuv's, with the owning module first. The request
/// counts as live for `m` until its callback has returned; a NULL callback
/// is allowed and the completion is still seen.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_tcp_connect(m: *mut Module, req: *mut uv::uv_connect_t, handle: *mut uv::uv_tcp_t, addr: *const uv::sockaddr, cb: uv::uv_connect_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        need(req, "req")?;
        need(handle, "handle")?;
        need(addr, "addr")?;
        start_completion(owner, handle_loop(handle), req as usize, Kind::Connect, cb, on_status_done::<uv::uv_connect_t>, |done| uv::uv_tcp_connect(req, handle, addr, done))
    })
}

/// Tracked `uv_udp_send`: as libuv's, with the owning module first. The request
/// counts as live for `m` until its callback has returned; a NULL callback
/// is allowed and the completion is still seen.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_udp_send(m: *mut Module, req: *mut uv::uv_udp_send_t, handle: *mut uv::uv_udp_t, bufs: *const uv::uv_buf_t, nbufs: c_uint, addr: *const uv::sockaddr, send_cb: uv::uv_udp_send_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        need(req, "req")?;
        need(handle, "handle")?;
        need(bufs, "bufs")?;
        need(addr, "addr")?;
        start_completion(owner, handle_loop(handle), req as usize, Kind::UdpSend, send_cb, on_status_done::<uv::uv_udp_send_t>, |done| uv::uv_udp_send(req, handle, bufs, nbufs, addr, done))
    })
}

/// Tracked `uv_queue_work`: as libuv's, with the owning module first. The request
/// counts as live for `m` until its callback has returned; a NULL callback
/// is allowed and the completion is still seen.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_queue_work(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_work_t, work_cb: uv::uv_work_cb, after_work_cb: uv::uv_after_work_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(req, "req")?;
        if work_cb.is_none() {
            return fail(uverr::EINVAL, "work_cb is NULL");
        }
        start_completion(owner, loop_, req as usize, Kind::Work, after_work_cb, on_status_done::<uv::uv_work_t>, |done| uv::uv_queue_work(loop_, req, work_cb, done))
    })
}

/// Tracked `uv_getaddrinfo`: as libuv's, with the owning module first. The request
/// counts as live for `m` until its callback has returned; with the callback
/// NULL it runs synchronously, as in libuv, and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_getaddrinfo(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_getaddrinfo_t, getaddrinfo_cb: uv::uv_getaddrinfo_cb, node: *const c_char, service: *const c_char, hints: *const uv::addrinfo) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(req, "req")?;
        start_request(owner, loop_, req as usize, Kind::GetAddrInfo, getaddrinfo_cb, on_getaddrinfo_done, |done| uv::uv_getaddrinfo(loop_, req, done, node, service, hints))
    })
}

/// Tracked `uv_getnameinfo`: as libuv's, with the owning module first. The request
/// counts as live for `m` until its callback has returned; with the callback
/// NULL it runs synchronously, as in libuv, and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_getnameinfo(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_getnameinfo_t, getnameinfo_cb: uv::uv_getnameinfo_cb, addr: *const uv::sockaddr, flags: c_int) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(req, "req")?;
        need(addr, "addr")?;
        start_request(owner, loop_, req as usize, Kind::GetNameInfo, getnameinfo_cb, on_getnameinfo_done, |done| uv::uv_getnameinfo(loop_, req, done, addr, flags))
    })
}

/// Tracked `uv_random`: as libuv's, with the owning module first. The request
/// counts as live for `m` until its callback has returned; with the callback
/// NULL it runs synchronously, as in libuv, and is not tracked.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_random(m: *mut Module, loop_: *mut uv::uv_loop_t, req: *mut uv::uv_random_t, buf: *mut c_void, buflen: uv::size_t, flags: c_uint, cb: uv::uv_random_cb) -> c_int {
    guard_int(|| {
        let owner = owner(m)?;
        need(loop_, "loop")?;
        need(req, "req")?;
        if buf.is_null() && buflen > 0 {
            return fail(uverr::EINVAL, "buf is NULL");
        }
        start_request(owner, loop_, req as usize, Kind::Random, cb, on_random_done, |done| uv::uv_random(loop_, req, buf, buflen, flags, done))
    })
}

/// Tracked `uv_pipe_connect`: as libuv's (it returns nothing and reports
/// errors through `cb`), with the owning module first. The request counts as
/// live for `m` until `cb` has returned. With a NULL or invalid argument
/// nothing is started and `kr_last_error()` says why.
#[no_mangle]
pub unsafe extern "C" fn kr_uv_pipe_connect(m: *mut Module, req: *mut uv::uv_connect_t, handle: *mut uv::uv_pipe_t, name: *const c_char, cb: uv::uv_connect_cb) {
    guard_int(|| {
        let owner = owner(m)?;
        need(req, "req")?;
        need(handle, "handle")?;
        need(name, "name")?;
        start_completion(owner, handle_loop(handle), req as usize, Kind::Connect, cb, on_status_done::<uv::uv_connect_t>, |done| {
            uv::uv_pipe_connect(req, handle, name, done);
            0
        })
    });
}
