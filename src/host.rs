//! The host: one per `uv_loop_t`, owner of the open modules and of the two
//! libuv handles the shim needs (a service timer, a cross-thread wake-up).

use std::ffi::{c_char, c_int, c_void, CString};
use std::mem::MaybeUninit;
use std::ptr;
use std::sync::{Arc, Mutex};

use libuv_sys2 as uv;

use crate::ffi::{self, fail, guard, need};
use crate::ledger::Waker;
use crate::module::{self, Module};
use crate::shutdown::{self, Shutdown};
use crate::uverr;

/// Severity of a log message (`kr_log_fn`'s `level`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[allow(non_camel_case_types)]
pub enum kr_log_level_t {
    KR_LOG_DEBUG = 0,
    KR_LOG_INFO = 1,
    KR_LOG_WARN = 2,
    KR_LOG_ERROR = 3,
}

/// Receives the library's log messages. `msg` is valid during the call only.
#[allow(non_camel_case_types)]
pub type kr_log_fn = Option<unsafe extern "C" fn(arg: *mut c_void, level: c_int, msg: *const c_char)>;

/// How the shim's own handles stand.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Handles {
    Open,
    /// `uv_close` called on both; the count still to call back.
    Closing(usize),
    Closed,
}

pub struct Host {
    pub(crate) loop_: *mut uv::uv_loop_t,
    service: MaybeUninit<uv::uv_timer_t>,
    wake: MaybeUninit<uv::uv_async_t>,
    watchdog: MaybeUninit<uv::uv_timer_t>,
    /// `kr_host_shutdown_on_signal()` handles; boxed so they never move
    /// (libuv keeps pointers to them) when the Vec grows.
    #[allow(clippy::vec_box)]
    signals: Vec<Box<MaybeUninit<uv::uv_signal_t>>>,
    pub(crate) waker: Arc<HostWaker>,
    /// Every module not yet freed, in open order.
    pub(crate) modules: Vec<*mut Module>,
    /// Modules a watchdog gave up on: never closed, never freed (their
    /// requests may still call into them).
    pub(crate) abandoned: Vec<*mut Module>,
    pub(crate) sd: Shutdown,
    /// Armed deadline of the watchdog timer.
    watchdog_at: Option<u64>,
    handles: Handles,
    /// Loop time the service timer is armed for, if it is.
    armed_at: Option<u64>,
    /// Depth of service runs on the stack: frees are deferred past them.
    in_service: u32,
    free_requested: bool,
    log: kr_log_fn,
    log_arg: *mut c_void,
}

/// Wakes the host from a module's account (see `ledger::Waker`), and
/// carries the requests other threads make of the loop thread.
pub(crate) struct HostWaker {
    thread: libc::pthread_t,
    inner: Mutex<WakerInner>,
}

pub(crate) struct WakerInner {
    /// NULL once the host is freed (abandoned modules outlive it).
    host: *mut Host,
    /// The wake-up handle; NULL once the host closed it.
    pub(crate) async_: *mut uv::uv_async_t,
    /// Work queued for the loop thread by other threads.
    pub(crate) inbox: shutdown::Inbox,
    /// `kr_host_shutdown()` was accepted once (from any thread).
    pub(crate) shutdown_requested: bool,
}

// SAFETY: `host` is dereferenced only on the home thread; `async_` is behind
// a mutex and `uv_async_send` is thread-safe.
unsafe impl Send for HostWaker {}
unsafe impl Sync for HostWaker {}

impl Waker for HostWaker {
    fn on_home_thread(&self) -> bool {
        unsafe { libc::pthread_equal(libc::pthread_self(), self.thread) != 0 }
    }

    fn wake(&self) {
        if self.on_home_thread() {
            let host = self.lock().host;
            if !host.is_null() {
                unsafe { schedule_now(host) };
            }
        } else {
            self.signal(|_| {});
        }
    }
}

impl HostWaker {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, WakerInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues work for the loop thread and wakes it. False once the host's
    /// handles are closed (nothing will run it).
    pub(crate) fn signal(&self, queue: impl FnOnce(&mut shutdown::Inbox)) -> bool {
        let mut inner = self.lock();
        if inner.async_.is_null() {
            return false;
        }
        queue(&mut inner.inbox);
        unsafe { uv::uv_async_send(inner.async_) };
        true
    }
}

impl Host {
    fn service_handle(&mut self) -> *mut uv::uv_timer_t {
        self.service.as_mut_ptr()
    }

    fn wake_handle(&mut self) -> *mut uv::uv_async_t {
        self.wake.as_mut_ptr()
    }

    pub(crate) fn now(&self) -> u64 {
        unsafe { uv::uv_now(self.loop_) }
    }

    pub(crate) fn log(&self, level: kr_log_level_t, msg: &str) {
        let text = CString::new(msg.replace('\0', " ")).unwrap_or_default();
        match self.log {
            Some(f) => unsafe { f(self.log_arg, level as c_int, text.as_ptr()) },
            None if level >= kr_log_level_t::KR_LOG_WARN => eprintln!("kr_uvshim: {msg}"),
            None => {}
        }
    }

    /// Modules in cleanup (including failed inits draining).
    fn draining(&self) -> impl Iterator<Item = *mut Module> + '_ {
        self.modules.iter().copied().filter(|&m| unsafe { (*m).is_draining() })
    }
}

/// Validates a host pointer from C.
pub(crate) unsafe fn host_ref<'a>(host: *mut Host) -> Result<&'a mut Host, c_int> {
    need(host, "host")?;
    let h = &mut *host;
    if h.free_requested {
        return fail(uverr::EINVAL, "host is being freed");
    }
    if h.handles != Handles::Open {
        return fail(uverr::ECANCELED, "host has shut down");
    }
    Ok(h)
}

/// Validates a host pointer for calls that stay meaningful after the
/// shutdown closed the shim's handles (they answer for themselves).
pub(crate) unsafe fn host_alive<'a>(host: *mut Host) -> Result<&'a mut Host, c_int> {
    need(host, "host")?;
    let h = &mut *host;
    if h.free_requested {
        return fail(uverr::EINVAL, "host is being freed");
    }
    Ok(h)
}

/// Runs the service routine on the next loop iteration (never synchronously:
/// the caller may be module code that is about to be unmapped).
pub(crate) unsafe fn schedule_now(host: *mut Host) {
    arm(host, (*host).now());
}

unsafe fn arm(host: *mut Host, at: u64) {
    let h = &mut *host;
    if h.handles != Handles::Open {
        return;
    }
    if matches!(h.armed_at, Some(t) if t <= at) {
        return;
    }
    let now = h.now();
    h.armed_at = Some(at);
    uv::uv_timer_start(h.service_handle(), Some(on_service), at.saturating_sub(now), 0);
}

unsafe extern "C" fn on_service(t: *mut uv::uv_timer_t) {
    let host = (*t).data as *mut Host;
    (*host).armed_at = None;
    ffi::guard_callback(|| service(host));
}

unsafe extern "C" fn on_wake(a: *mut uv::uv_async_t) {
    let host = (*a).data as *mut Host;
    ffi::guard_callback(|| {
        let inbox = std::mem::take(&mut (*host).waker.lock().inbox);
        shutdown::process_inbox(host, inbox);
        service(host)
    });
}

unsafe extern "C" fn on_watchdog(t: *mut uv::uv_timer_t) {
    let host = (*t).data as *mut Host;
    (*host).watchdog_at = None;
    ffi::guard_callback(|| {
        shutdown::watchdog(host);
        update(host);
    });
}

/// Adds a signal handle owned by the host (closed with the others).
pub(crate) unsafe fn add_signal(host: *mut Host) -> *mut uv::uv_signal_t {
    let h = &mut *host;
    h.signals.push(Box::new(MaybeUninit::zeroed()));
    h.signals.last_mut().expect("just pushed").as_mut_ptr()
}

/// Forgets the signal handle just added (its init failed).
pub(crate) unsafe fn drop_last_signal(host: *mut Host) {
    (*host).signals.pop();
}

pub(crate) fn handles_open(host: &Host) -> bool {
    host.handles == Handles::Open
}

/// Advances every draining module, then re-arms for the earliest retry.
unsafe fn service(host: *mut Host) {
    (*host).in_service += 1;
    let snapshot: Vec<*mut Module> = (*host).draining().collect();
    for m in snapshot {
        // A done callback may have freed nothing but its own module, and
        // that only through this routine; every snapshot entry is still live.
        module::advance(m);
    }
    (*host).in_service -= 1;
    if (*host).in_service == 0 && (*host).free_requested {
        begin_free(host);
        return;
    }
    update(host);
}

/// Re-arms the retry timer and keeps the loop alive exactly while a module
/// drains (a thread may still hold a ref, with no libuv work to wait on).
pub(crate) unsafe fn update(host: *mut Host) {
    let h = &mut *host;
    if h.handles != Handles::Open {
        return;
    }
    let next = h.draining().filter_map(|m| (*m).retry_at()).min();
    if let Some(at) = next {
        arm(host, at);
    }
    let watch = shutdown::next_deadline(host);
    let h = &mut *host;
    if watch != h.watchdog_at {
        h.watchdog_at = watch;
        let t = h.watchdog.as_mut_ptr();
        match watch {
            Some(at) => {
                uv::uv_timer_start(t, Some(on_watchdog), at.saturating_sub(h.now()), 0);
            }
            None => {
                uv::uv_timer_stop(t);
            }
        }
    }
    let any = h.draining().next().is_some() || h.sd.is_running();
    let wake = h.wake_handle() as *mut uv::uv_handle_t;
    if any {
        uv::uv_ref(wake);
    } else {
        uv::uv_unref(wake);
    }
}

/// Removes a freed module from the host's list.
pub(crate) unsafe fn forget_module(host: *mut Host, m: *mut Module) {
    (*host).modules.retain(|&x| x != m);
}

unsafe extern "C" fn on_handle_closed(h: *mut uv::uv_handle_t) {
    let host = (*h).data as *mut Host;
    if let Handles::Closing(n) = (*host).handles {
        if n <= 1 {
            (*host).handles = Handles::Closed;
            // The shutdown reports once the shim's handles are closed: always
            // from the loop, never inside kr_host_shutdown(). A kr_host_free()
            // inside the callback is carried out after it returns.
            if let Some((done, status, arg)) = (*host).sd.take_done() {
                (*host).in_service += 1;
                done(host, status, arg);
                (*host).in_service -= 1;
            }
            if (*host).free_requested {
                free_now(host);
            }
        } else {
            (*host).handles = Handles::Closing(n - 1);
        }
    }
}

/// Closes the shim's own handles (service, wake-up, watchdog, signals);
/// after their close callbacks nothing of the shim keeps the loop alive.
pub(crate) unsafe fn close_handles(host: *mut Host) {
    let h = &mut *host;
    if h.handles != Handles::Open {
        return;
    }
    h.waker.lock().async_ = ptr::null_mut();
    let mut all: Vec<*mut uv::uv_handle_t> =
        vec![h.service_handle() as *mut _, h.wake_handle() as *mut _, h.watchdog.as_mut_ptr() as *mut _];
    all.extend(h.signals.iter_mut().map(|s| s.as_mut_ptr() as *mut uv::uv_handle_t));
    h.handles = Handles::Closing(all.len());
    for handle in all {
        uv::uv_close(handle, Some(on_handle_closed));
    }
}

/// Hosts alive in the process; the last one out releases the ledger's memory.
static HOSTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

unsafe fn free_now(host: *mut Host) {
    (*host).waker.lock().host = ptr::null_mut();
    drop(Box::from_raw(host));
    if HOSTS.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) == 1 {
        crate::ledger::release_memory_if_empty();
    }
}

unsafe fn begin_free(host: *mut Host) {
    (*host).free_requested = true;
    match (*host).handles {
        Handles::Open => close_handles(host),
        Handles::Closing(_) => {}
        Handles::Closed => free_now(host),
    }
}

/// Creates a host on `loop`, which the caller owns and must outlive it.
///
/// The host owns two libuv handles of its own (a timer and an async). They
/// keep the loop alive only while a module is being cleaned up, so a loop
/// whose modules are all idle still returns from `uv_run` by itself.
///
/// Call on the loop's thread; the host's functions are then called on that
/// thread except where marked thread-safe.
///
/// Errors: `UV_EINVAL` if `loop` or `out` is NULL; a libuv error if its
/// handles cannot be initialised. `*out` is written only on success.
#[no_mangle]
pub unsafe extern "C" fn kr_host_new(loop_: *mut uv::uv_loop_t, out: *mut *mut Host) -> c_int {
    guard(|| {
        need(loop_, "loop")?;
        need(out, "out")?;
        let host = Box::into_raw(Box::new(Host {
            loop_,
            service: MaybeUninit::zeroed(),
            wake: MaybeUninit::zeroed(),
            watchdog: MaybeUninit::zeroed(),
            signals: Vec::new(),
            waker: Arc::new(HostWaker {
                thread: libc::pthread_self(),
                inner: Mutex::new(WakerInner {
                    host: ptr::null_mut(),
                    async_: ptr::null_mut(),
                    inbox: Default::default(),
                    shutdown_requested: false,
                }),
            }),
            modules: Vec::new(),
            abandoned: Vec::new(),
            sd: Shutdown::default(),
            watchdog_at: None,
            handles: Handles::Open,
            armed_at: None,
            in_service: 0,
            free_requested: false,
            log: None,
            log_arg: ptr::null_mut(),
        }));
        HOSTS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let h = &mut *host;
        // Timer inits cannot fail; the async one can (no file descriptors).
        uv::uv_timer_init(loop_, h.service_handle());
        uv::uv_timer_init(loop_, h.watchdog.as_mut_ptr());
        (*h.service_handle()).data = host as *mut c_void;
        (*h.watchdog.as_mut_ptr()).data = host as *mut c_void;
        let rc = uv::uv_async_init(loop_, h.wake_handle(), Some(on_wake));
        if rc != 0 {
            h.free_requested = true;
            h.handles = Handles::Closing(2);
            uv::uv_close(h.service_handle() as *mut uv::uv_handle_t, Some(on_handle_closed));
            uv::uv_close(h.watchdog.as_mut_ptr() as *mut uv::uv_handle_t, Some(on_handle_closed));
            return fail(rc, "uv_async_init failed");
        }
        (*h.wake_handle()).data = host as *mut c_void;
        uv::uv_unref(h.service_handle() as *mut uv::uv_handle_t);
        uv::uv_unref(h.wake_handle() as *mut uv::uv_handle_t);
        // The watchdog never keeps the loop alive by itself.
        uv::uv_unref(h.watchdog.as_mut_ptr() as *mut uv::uv_handle_t);
        let wake = h.wake_handle();
        {
            let mut inner = h.waker.lock();
            inner.host = host;
            inner.async_ = wake;
        }
        *out = host;
        Ok(())
    })
}

/// Frees a host. Accepts NULL (returns 0).
///
/// Fails with `UV_EBUSY` while any module is open or still draining, or a
/// shutdown runs (the host's memory must outlive every module). After
/// `kr_host_shutdown()` has finished, the shim's handles are already closed
/// and the memory is released at once. Otherwise the handles are closed now
/// and the memory is released by their close callbacks: run the loop once
/// more (`uv_run(loop, UV_RUN_DEFAULT)` returns at once) before
/// `uv_loop_close()`. May be called from a module's or the shutdown's done
/// callback. Modules abandoned by a watchdog are never freed (their code
/// may still run); they do not prevent freeing the host. Once this returns 0
/// the pointer is the library's: do not use it again (a second call before
/// the memory is released answers `UV_EALREADY`).
#[no_mangle]
pub unsafe extern "C" fn kr_host_free(host: *mut Host) -> c_int {
    guard(|| {
        if host.is_null() {
            return Ok(());
        }
        let h = &mut *host;
        if h.free_requested {
            return fail(uverr::EALREADY, "kr_host_free already called");
        }
        if h.sd.is_running() {
            return fail(uverr::EBUSY, "a shutdown is running");
        }
        if !h.modules.is_empty() {
            let names: Vec<String> = h.modules.iter().map(|&m| (*m).describe()).collect();
            return fail(uverr::EBUSY, format!("modules still open: {}", names.join(", ")));
        }
        if h.in_service > 0 {
            h.free_requested = true;
        } else {
            begin_free(host);
        }
        Ok(())
    })
}

/// Routes the library's log messages (module lifecycle events, warnings) to
/// `fn(arg, level, msg)`. With no hook (the default, or `fn` NULL), warnings
/// and errors go to stderr and the rest is dropped. Loop thread only.
///
/// Errors: `UV_EINVAL` if `host` is NULL.
#[no_mangle]
pub unsafe extern "C" fn kr_host_set_log(host: *mut Host, log: kr_log_fn, arg: *mut c_void) -> c_int {
    guard(|| {
        let h = host_alive(host)?;
        h.log = log;
        h.log_arg = arg;
        Ok(())
    })
}
