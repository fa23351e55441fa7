//! Modules: opening (dlopen + init), the unload protocol, and accessors.

use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::ptr;
use std::sync::Arc;

use crate::ffi::{fail, guard, guard_value, need, set_last_error};
use crate::host::{self, host_ref, kr_log_level_t as L, Host};
use crate::ledger::Account;
use crate::lifecycle::{Action, Lifecycle, State, BACKOFF_MAX_MS};
use crate::scan::{self, Found, Image};
use crate::shutdown::{self, kr_shutdown_opts_t, KR_ON_TIMEOUT_ABORT, KR_ON_TIMEOUT_FORCE};
use crate::tracked;
use crate::uverr;

/// Flag for `kr_module_open()`: never `dlclose()` the library (Go c-shared
/// libraries, libraries that must stay mapped). The protocol runs in full.
pub const KR_MODULE_PIN: c_uint = 1;
/// Flag for `kr_module_open()`: run the reference scan before `dlclose()`
/// even though the module is built with the compat header (it also calls
/// libuv directly somewhere). Modules without the compat header are always
/// scanned.
pub const KR_MODULE_SCAN: c_uint = 2;
const KNOWN_FLAGS: c_uint = KR_MODULE_PIN | KR_MODULE_SCAN;

/// The compat header's per-module variable (see `kr_uvshim_compat.h`).
pub const SELF_SYMBOL: &CStr = c"kr_uvshim_self";

const MAGIC: u64 = 0x6b72_5f6d_6f64_756c; // "kr_modul"
const NAME_MAX: usize = 64;

/// A module's entry point: `<name>_init`, `<name>_cleanup`, `<name>_deinit`.
#[allow(non_camel_case_types)]
pub type kr_module_fn = Option<unsafe extern "C" fn(m: *mut Module) -> c_int>;

/// Entry points of a module that is not a shared object of its own
/// (`kr_module_register()`). Any may be NULL.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct kr_module_ops_t {
    /// Called by `kr_module_register()`; non-zero fails the registration.
    pub init: kr_module_fn,
    /// "Wrap up as soon as you can": called by `kr_module_cleanup()`.
    pub cleanup: kr_module_fn,
    /// Called once nothing the ledger tracks for the module is live (handles,
    /// requests, refs): 0, or `UV_EBUSY` for "not yet". Untracked handles
    /// found by the reference scan defer only the `dlclose()` that follows.
    pub deinit: kr_module_fn,
}

/// Called when a module's cleanup has finished: its library is closed (or,
/// pinned or registered, the protocol is over). `status` is 0, or the first
/// error on the way (cleanup's or deinit's return value, a failed
/// `dlclose()` as `UV_EIO`). `name` is valid during the call only; the
/// module itself is gone once the callback returns.
#[allow(non_camel_case_types)]
pub type kr_module_done_cb = Option<unsafe extern "C" fn(host: *mut Host, name: *const c_char, status: c_int, arg: *mut c_void)>;

/// Where a module is in its life.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum kr_module_state_t {
    /// Returned for a NULL or freed module pointer.
    KR_MODULE_INVALID = -1,
    /// Its init function is running.
    KR_MODULE_LOADING = 0,
    KR_MODULE_ACTIVE = 1,
    /// `kr_module_cleanup()` was called: draining, then deinit.
    KR_MODULE_CLEANING = 2,
    /// Deinit has returned; the library closes once what it started is done.
    KR_MODULE_DEINITED = 3,
    /// Init failed; what it left is draining before the library closes.
    KR_MODULE_FAILED = 4,
    /// Given up by a shutdown watchdog: never closed.
    KR_MODULE_ABANDONED = 5,
    /// Library closed; seen only from inside the done callback.
    KR_MODULE_CLOSED = 6,
}

pub struct Module {
    magic: u64,
    pub(crate) host: *mut Host,
    pub(crate) acct: Arc<Account>,
    name: CString,
    life: Lifecycle,
    /// NULL for registered modules.
    dl: *mut c_void,
    flags: c_uint,
    ops: kr_module_ops_t,
    data: *mut c_void,
    done: kr_module_done_cb,
    done_arg: *mut c_void,
    /// Modules this one depends on: they are cleaned up after it at shutdown.
    depends_on: Vec<*mut Module>,
    /// The watchdog of a `kr_module_cleanup_ex()`.
    watch: Option<Watch>,
    /// Loop time cleanup began.
    cleanup_ms: u64,
    /// The library's mapped image, for the reference scan.
    image: Option<Image>,
    /// Untracked handles the last scan found referring to the image.
    pub(crate) untracked: Vec<Found>,
    /// `untracked.len()`, readable from any thread.
    untracked_n: std::sync::atomic::AtomicUsize,
    /// When to scan again while `untracked` defers the close.
    scan_at: Option<u64>,
    scan_backoff_ms: u64,
    /// A private copy of the library (a reload while the old instance
    /// drains), kept open until the library is closed; -1 if none.
    memfd: c_int,
}

/// First rescan delay while untracked handles defer a close; doubles.
const SCAN_BACKOFF_FIRST_MS: u64 = 10;

#[derive(Clone, Copy)]
struct Watch {
    opts: kr_shutdown_opts_t,
    warn_at: Option<u64>,
    timeout_at: Option<u64>,
}

impl Module {
    pub(crate) fn name(&self) -> &str {
        self.name.to_str().unwrap_or("?")
    }

    pub(crate) fn describe(&self) -> String {
        format!("{} ({})", self.name(), state_name(self.life.state()))
    }

    pub(crate) fn is_draining(&self) -> bool {
        matches!(self.life.state(), State::Cleaning | State::Deinited | State::InitFailed)
    }

    pub(crate) fn retry_at(&self) -> Option<u64> {
        [self.life.retry_at(), self.scan_at].into_iter().flatten().min()
    }

    /// Tracked live handles plus the untracked ones the last scan found.
    pub(crate) fn live_handles(&self) -> usize {
        self.acct.live_handles() + self.untracked_n.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn set_untracked(&mut self, found: Vec<Found>) {
        self.untracked_n.store(found.len(), std::sync::atomic::Ordering::Relaxed);
        self.untracked = found;
    }
}

pub(crate) unsafe fn state_name_of(m: *const Module) -> &'static str {
    state_name((*m).life.state())
}

pub(crate) fn state_name(s: State) -> &'static str {
    match s {
        State::Loading => "loading",
        State::Active => "active",
        State::Cleaning => "cleaning",
        State::Deinited => "deinited",
        State::InitFailed => "failed",
        State::Abandoned => "abandoned",
        State::Closed => "closed",
    }
}

/// Validates a module pointer from C. The magic number catches NULL-adjacent
/// garbage and most uses after the done callback.
pub(crate) unsafe fn module_ref<'a>(m: *mut Module) -> Result<&'a mut Module, c_int> {
    need(m, "module")?;
    let r = &mut *m;
    if r.magic != MAGIC {
        return fail(uverr::EINVAL, "not a live kr_module_t (already unloaded?)");
    }
    Ok(r)
}

unsafe fn module_get<'a>(m: *const Module) -> Option<&'a Module> {
    if m.is_null() || (*m).magic != MAGIC {
        set_last_error("module is NULL or not a live kr_module_t");
        None
    } else {
        Some(&*m)
    }
}

unsafe fn c_str<'a>(p: *const c_char, what: &str) -> Result<&'a str, c_int> {
    need(p, what)?;
    match CStr::from_ptr(p).to_str() {
        Ok(s) => Ok(s),
        Err(_) => fail(uverr::EINVAL, format!("{what} is not UTF-8")),
    }
}

/// Module names become symbol prefixes: a C identifier, at most 64 bytes.
fn check_name(name: &str) -> Result<(), c_int> {
    let ok_first = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !ok_first || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return fail(uverr::EINVAL, format!("module name '{name}' is not a C identifier"));
    }
    if name.len() > NAME_MAX {
        return fail(uverr::ENAMETOOLONG, format!("module name longer than {NAME_MAX} bytes"));
    }
    Ok(())
}

fn dlerror_text() -> String {
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        "unknown dlerror".into()
    } else {
        unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
    }
}

/// The module (loading, active or draining) in use under `name`, preferring
/// one that is open for business.
unsafe fn find(host: &Host, name: &str) -> Option<*mut Module> {
    let mut draining = None;
    for &m in host.modules.iter().rev() {
        if (*m).name() != name {
            continue;
        }
        match (*m).life.state() {
            State::Loading | State::Active => return Some(m),
            State::InitFailed | State::Closed => {}
            _ => draining = draining.or(Some(m)),
        }
    }
    draining
}

unsafe fn new_module(host: *mut Host, name: &str, dl: *mut c_void, flags: c_uint, ops: kr_module_ops_t, data: *mut c_void) -> *mut Module {
    let waker = (*host).waker.clone();
    let m = Box::into_raw(Box::new(Module {
        magic: MAGIC,
        host,
        acct: Account::new(waker, (*host).loop_ as usize),
        name: CString::new(name).expect("checked identifier"),
        life: Lifecycle::new(),
        dl,
        flags,
        ops,
        data,
        done: None,
        done_arg: ptr::null_mut(),
        depends_on: Vec::new(),
        watch: None,
        cleanup_ms: 0,
        image: None,
        untracked: Vec::new(),
        untracked_n: std::sync::atomic::AtomicUsize::new(0),
        scan_at: None,
        scan_backoff_ms: SCAN_BACKOFF_FIRST_MS,
        memfd: -1,
    }));
    (*host).modules.push(m);
    m
}

fn refuse_during_shutdown(h: &Host) -> Result<(), c_int> {
    if h.sd.stage != shutdown::Stage::Idle {
        return fail(uverr::ECANCELED, "the host is shutting down");
    }
    Ok(())
}

/// Runs init and, if it fails, starts draining what it left. Returns init's
/// code (a positive one is reported as `UV_EINVAL`).
unsafe fn run_init(m: *mut Module) -> c_int {
    let rc = match (*m).ops.init {
        Some(f) => f(m),
        None => 0,
    };
    let rc = if rc > 0 { uverr::EINVAL } else { rc };
    (*m).life.init_returned(rc);
    let host = (*m).host;
    if rc == 0 {
        (*host).log(L::KR_LOG_INFO, &format!("module {}: active", (*m).name()));
        return 0;
    }
    set_last_error(format!("module {}: init failed", (*m).name()));
    let closed = tracked::close_owned_handles(Arc::as_ptr(&(*m).acct), (*host).loop_);
    (*host).log(
        L::KR_LOG_WARN,
        &format!(
            "module {}: init failed ({rc}); closing {closed} handle(s) it left, {} request(s) in flight",
            (*m).name(),
            (*m).acct.live_requests()
        ),
    );
    (*m).acct.set_draining();
    if (*m).acct.is_idle() {
        finish(m);
    } else {
        host::update(host);
    }
    rc
}

/// Opens the shared object at `path` as module `name`.
///
/// `dlopen(path, RTLD_NOW | RTLD_LOCAL)`, then looks up `<name>_init`
/// (required), `<name>_cleanup` and `<name>_deinit` (optional), each
/// `int f(kr_module_t *m)`. If the library defines the compat header's
/// variable `kr_uvshim_self`, it is set to the new module before init runs,
/// so that its plain libuv calls are attributed to it.
///
/// Reload: a name can be opened again as soon as its cleanup has begun. If
/// the old instance still has the same library mapped, the new one is
/// loaded from a private copy (a memfd), so it has its own statics and its
/// own accounting while the old one drains.
///
/// A failing init (non-zero; a positive value is reported as `UV_EINVAL`)
/// is returned as this function's result. The handles init left open are
/// closed with the shim's own close callback, its requests are waited for,
/// and then the library is closed: at once if nothing was in flight,
/// otherwise when the loop has drained them (a log message says so; until
/// then `kr_host_free()` answers `UV_EBUSY`). Deinit is not called for a
/// module whose init failed.
///
/// A library that does not define `kr_uvshim_self` (built without the
/// compat header, calling libuv directly), or opened with
/// `KR_MODULE_SCAN`, gets a reference scan before its `dlclose()`: the
/// loop's handles are walked for untracked ones that live in the library
/// or whose callbacks point into it; while any exist the close is deferred
/// and the scan repeated with backoff (10 ms doubling to 1 s). The walk is
/// linear in the loop's handles; compat modules skip it.
///
/// Flags: 0, `KR_MODULE_PIN` (never `dlclose()`), `KR_MODULE_SCAN`.
///
/// Errors: `UV_EINVAL` (a NULL argument, unknown flags, a name that is not
/// a C identifier, the compat variable found in the global symbol scope,
/// where every module would share it); `UV_ENAMETOOLONG`; `UV_EEXIST`
/// (a module of that name is loading or active, or this library is already
/// open as another active module); `UV_ENOENT` (the file or `<name>_init`
/// is missing: `kr_last_error()` has the `dlerror()` text); `UV_ECANCELED`
/// (the host is shutting down); init's error. `*out` is written only on
/// success. Loop thread only.
#[no_mangle]
pub unsafe extern "C" fn kr_module_open(
    host: *mut Host,
    path: *const c_char,
    name: *const c_char,
    flags: c_uint,
    out: *mut *mut Module,
) -> c_int {
    guard(|| {
        let h = host_ref(host)?;
        refuse_during_shutdown(h)?;
        let path_s = c_str(path, "path")?;
        let name_s = c_str(name, "name")?;
        need(out, "out")?;
        check_new(h, name_s, flags)?;
        let dl = libc::dlopen(path, libc::RTLD_NOW | libc::RTLD_LOCAL);
        if dl.is_null() {
            return fail(uverr::ENOENT, dlerror_text());
        }
        let (dl, memfd) = match owner_of(h, dl) {
            None => (dl, -1),
            Some(other) => {
                libc::dlclose(dl);
                if (*other).life.is_open() {
                    return fail(uverr::EEXIST, format!("{path_s} is already open as module '{}'", (*other).name()));
                }
                // The old instance drains in this mapping: load a private copy.
                open_fresh_copy(path_s)?
            }
        };
        adopt(host, dl, memfd, name_s, flags, out)
    })
}

/// Adopts a library the host `dlopen()`ed itself (a host that keeps its
/// own loader) as module `name`: as `kr_module_open()` from the symbol
/// lookup on, `<name>_init` included. The shim takes over the host's
/// reference `dl_handle`: it closes it at the end of the unload protocol,
/// or at once when attaching fails, so the host must not `dlclose()` it.
/// One exception: when `dl_handle` already belongs to a module
/// (`UV_EEXIST`), it is left alone, because the shim cannot tell a second
/// reference the host took from the module's own; a host that `dlopen()`ed
/// the library again closes its extra reference itself. A library opened
/// with `RTLD_NODELETE` goes through the whole protocol and stays mapped.
///
/// Errors: as `kr_module_open()`; `UV_EINVAL` for a NULL `dl_handle`;
/// `UV_EEXIST` if `dl_handle` already belongs to a module.
#[no_mangle]
pub unsafe extern "C" fn kr_module_attach(
    host: *mut Host,
    dl_handle: *mut c_void,
    name: *const c_char,
    flags: c_uint,
    out: *mut *mut Module,
) -> c_int {
    guard(|| {
        need(dl_handle, "dl_handle")?;
        // Err(Ok(rc)): refused, the shim closes the reference it was given;
        // Err(Err(rc)): refused, the reference is left alone.
        let checked = (|| -> Result<&str, Result<c_int, c_int>> {
            let h = host_ref(host).map_err(Ok)?;
            // First: a handle that is a module's already must never be closed.
            if let Some(other) = owner_of(h, dl_handle) {
                set_last_error(format!("library already belongs to module '{}'", (*other).name()));
                return Err(Err(uverr::EEXIST));
            }
            refuse_during_shutdown(h).map_err(Ok)?;
            let name_s = c_str(name, "name").map_err(Ok)?;
            need(out, "out").map_err(Ok)?;
            check_new(h, name_s, flags).map_err(Ok)?;
            Ok(name_s)
        })();
        match checked {
            Ok(name_s) => adopt(host, dl_handle, -1, name_s, flags, out),
            // The handle is a module's already: the same pointer whether or
            // not the host took a reference of its own, so it stays as it is
            // (closing it could unmap a live module).
            Err(Err(rc)) => Err(rc),
            Err(Ok(rc)) => {
                libc::dlclose(dl_handle);
                Err(rc)
            }
        }
    })
}

unsafe fn check_new(h: &Host, name: &str, flags: c_uint) -> Result<(), c_int> {
    check_name(name)?;
    if flags & !KNOWN_FLAGS != 0 {
        return fail(uverr::EINVAL, format!("unknown flags {:#x}", flags & !KNOWN_FLAGS));
    }
    if let Some(m) = find(h, name) {
        if (*m).life.is_open() {
            return fail(uverr::EEXIST, format!("module '{name}' is already open"));
        }
    }
    Ok(())
}

/// The module (not yet closed) whose library is `dl`.
unsafe fn owner_of(h: &Host, dl: *mut c_void) -> Option<*mut Module> {
    h.modules.iter().copied().find(|&m| (*m).dl == dl && (*m).life.state() != State::Closed)
}

/// Loads a private copy of the library at `path` from a memfd: a mapping,
/// statics and `kr_uvshim_self` of its own. The fd stays open until the
/// library is closed, so that its `/proc/self/fd/N` name stays unique.
unsafe fn open_fresh_copy(path: &str) -> Result<(*mut c_void, c_int), c_int> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return fail(-e.raw_os_error().unwrap_or(libc::EIO), format!("{path}: {e}")),
    };
    let fd = libc::memfd_create(c"kr_uvshim_reload".as_ptr(), libc::MFD_CLOEXEC);
    if fd < 0 {
        let e = std::io::Error::last_os_error();
        return fail(-e.raw_os_error().unwrap_or(libc::EIO), format!("memfd_create: {e}"));
    }
    let mut off = 0;
    while off < bytes.len() {
        let n = libc::write(fd, bytes[off..].as_ptr() as *const c_void, bytes.len() - off);
        if n <= 0 {
            let e = std::io::Error::last_os_error();
            libc::close(fd);
            return fail(-e.raw_os_error().unwrap_or(libc::EIO), format!("copying {path}: {e}"));
        }
        off += n as usize;
    }
    let proc_path = CString::new(format!("/proc/self/fd/{fd}")).expect("no NUL");
    let dl = libc::dlopen(proc_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
    if dl.is_null() {
        libc::close(fd);
        return fail(uverr::ENOENT, dlerror_text());
    }
    Ok((dl, fd))
}

/// Looks up the entry points of `dl`, creates the module and runs init.
/// Owns `dl` (and `memfd`): closes them on failure.
unsafe fn adopt(host: *mut Host, dl: *mut c_void, memfd: c_int, name_s: &str, flags: c_uint, out: *mut *mut Module) -> Result<(), c_int> {
    let give_back = |rc: c_int| {
        libc::dlclose(dl);
        if memfd >= 0 {
            libc::close(memfd);
        }
        Err(rc)
    };
    let sym = |suffix: &str| {
        let s = CString::new(format!("{name_s}_{suffix}")).expect("identifier");
        libc::dlsym(dl, s.as_ptr())
    };
    libc::dlerror();
    let init = sym("init");
    if init.is_null() {
        set_last_error(dlerror_text());
        return give_back(uverr::ENOENT);
    }
    let ops = kr_module_ops_t {
        init: std::mem::transmute::<*mut c_void, kr_module_fn>(init),
        cleanup: std::mem::transmute::<*mut c_void, kr_module_fn>(sym("cleanup")),
        deinit: std::mem::transmute::<*mut c_void, kr_module_fn>(sym("deinit")),
    };
    let slot = libc::dlsym(dl, SELF_SYMBOL.as_ptr()) as *mut *mut Module;
    if !slot.is_null() && !libc::dlsym(libc::RTLD_DEFAULT, SELF_SYMBOL.as_ptr()).is_null() {
        set_last_error(
            "kr_uvshim_self is in the global symbol scope (the host, or a library opened with \
             RTLD_GLOBAL, includes kr_uvshim_compat.h): every module would share it",
        );
        return give_back(uverr::EINVAL);
    }
    // A module built with the compat header is fully tracked; the scan (a
    // walk over every handle of the loop) is for those that are not.
    let flags = if slot.is_null() { flags | KR_MODULE_SCAN } else { flags };
    let m = new_module(host, name_s, dl, flags, ops, ptr::null_mut());
    if flags & KR_MODULE_SCAN != 0 {
        (*m).image = Image::containing(init);
    }
    (*m).memfd = memfd;
    if !slot.is_null() {
        *slot = m;
    }
    match run_init(m) {
        0 => {
            *out = m;
            Ok(())
        }
        rc => Err(rc),
    }
}

/// Registers a module that is not a shared object of its own (built into
/// the host, a Lua or Go module): the same accounting and cleanup protocol,
/// with nothing to `dlclose()`. `ops` is copied; `ops->init`, if not NULL,
/// is called now, and its failure is handled as for `kr_module_open()`.
/// `data` is the module's initial `kr_module_data()`.
///
/// Errors: `UV_EINVAL` (NULL `host`, `name`, `ops` or `out`; a bad name),
/// `UV_ENAMETOOLONG`, `UV_EEXIST`, init's error. Loop thread only.
#[no_mangle]
pub unsafe extern "C" fn kr_module_register(
    host: *mut Host,
    name: *const c_char,
    ops: *const kr_module_ops_t,
    data: *mut c_void,
    out: *mut *mut Module,
) -> c_int {
    guard(|| {
        let h = host_ref(host)?;
        refuse_during_shutdown(h)?;
        let name_s = c_str(name, "name")?;
        need(ops, "ops")?;
        need(out, "out")?;
        check_new(h, name_s, 0)?;
        let m = new_module(host, name_s, ptr::null_mut(), 0, *ops, data);
        match run_init(m) {
            0 => {
                *out = m;
                Ok(())
            }
            rc => Err(rc),
        }
    })
}

/// The module in use under `name`: the loading or active one if any, else
/// the newest one still draining. NULL if none (or a NULL argument).
#[no_mangle]
pub unsafe extern "C" fn kr_module_find(host: *mut Host, name: *const c_char) -> *mut Module {
    guard_value(ptr::null_mut(), || {
        let Ok(h) = host_ref(host) else { return ptr::null_mut() };
        let Ok(name_s) = c_str(name, "name") else { return ptr::null_mut() };
        find(h, name_s).unwrap_or(ptr::null_mut())
    })
}

/// The module's name, owned by the module (valid until its done callback
/// returns). NULL for a NULL or unloaded module.
#[no_mangle]
pub unsafe extern "C" fn kr_module_name(m: *const Module) -> *const c_char {
    guard_value(ptr::null(), || module_get(m).map_or(ptr::null(), |m| m.name.as_ptr()))
}

/// Where the module is in its life; `KR_MODULE_INVALID` for NULL.
#[no_mangle]
pub unsafe extern "C" fn kr_module_state(m: *const Module) -> kr_module_state_t {
    use kr_module_state_t::*;
    guard_value(KR_MODULE_INVALID, || match module_get(m).map(|m| m.life.state()) {
        None => KR_MODULE_INVALID,
        Some(State::Loading) => KR_MODULE_LOADING,
        Some(State::Active) => KR_MODULE_ACTIVE,
        Some(State::Cleaning) => KR_MODULE_CLEANING,
        Some(State::Deinited) => KR_MODULE_DEINITED,
        Some(State::InitFailed) => KR_MODULE_FAILED,
        Some(State::Abandoned) => KR_MODULE_ABANDONED,
        Some(State::Closed) => KR_MODULE_CLOSED,
    })
}

/// The module's user data (NULL until set, and for a NULL module).
#[no_mangle]
pub unsafe extern "C" fn kr_module_data(m: *const Module) -> *mut c_void {
    guard_value(ptr::null_mut(), || module_get(m).map_or(ptr::null_mut(), |m| m.data))
}

/// Sets the module's user data; the library never dereferences it.
/// Ignored for a NULL module.
#[no_mangle]
pub unsafe extern "C" fn kr_module_set_data(m: *mut Module, data: *mut c_void) {
    guard_value((), || {
        if let Ok(m) = module_ref(m) {
            m.data = data;
        }
    })
}

/// Handles the module created that have not finished closing (their close
/// callback has not returned), plus, once its library is about to close,
/// untracked handles the reference scan found still pointing into it.
/// 0 for a NULL module. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn kr_module_live_handles(m: *const Module) -> usize {
    guard_value(0, || module_get(m).map_or(0, |m| m.live_handles()))
}

/// Requests the module started whose callback has not yet returned (inside
/// a request's callback, that request still counts). 0 for a NULL module.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn kr_module_live_requests(m: *const Module) -> usize {
    guard_value(0, || module_get(m).map_or(0, |m| m.acct.live_requests()))
}

/// References held with `kr_module_ref()`. 0 for a NULL module. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn kr_module_refs(m: *const Module) -> usize {
    guard_value(0, || module_get(m).map_or(0, |m| m.acct.refs()))
}

/// Takes a reference: a holder that is not libuv (a thread, a query in
/// flight) keeps the module from being deinitialised until it calls
/// `kr_module_unref()`. Thread-safe as long as the caller already holds a
/// reference or runs on the loop thread (the module cannot vanish under it).
///
/// Errors: `UV_EINVAL` for a NULL or unloaded module.
#[no_mangle]
pub unsafe extern "C" fn kr_module_ref(m: *mut Module) -> c_int {
    guard(|| {
        let m = module_ref(m)?;
        m.acct.add_ref();
        Ok(())
    })
}

/// Drops a reference taken with `kr_module_ref()`. Thread-safe. Once this
/// returns the module may already be gone: do not touch `m` after it unless
/// you hold another reference.
///
/// Errors: `UV_EINVAL` for a NULL module or one with no reference held.
#[no_mangle]
pub unsafe extern "C" fn kr_module_unref(m: *mut Module) -> c_int {
    guard(|| {
        let mr = module_ref(m)?;
        if !Account::unref(Arc::as_ptr(&mr.acct)) {
            return fail(uverr::EINVAL, "kr_module_unref: no reference held");
        }
        Ok(())
    })
}

/// Starts the unload protocol; returns at once.
///
/// 1. the state becomes `KR_MODULE_CLEANING`;
/// 2. `<name>_cleanup(m)` runs now ("wrap up as soon as you can"); it may
///    start new requests to finish its work (a last write, a commit);
/// 3. once live handles, live requests and refs are all zero,
///    `<name>_deinit(m)` is called on a later loop iteration; it returns 0,
///    or `UV_EBUSY` ("not yet") and is asked again after the module's next
///    completion, or after a backoff timer (2 ms doubling to 1 s) when
///    nothing is outstanding;
/// 4. the library is `dlclose()`d (not for pinned or registered modules);
/// 5. `done(host, name, status, arg)` is called (`done` may be NULL).
///
/// Deinit and `dlclose()` never run inside this call, so it is safe from
/// inside the module's own callbacks. While a module drains the loop stays
/// alive and sleeps: nothing polls. After `done` returns `m` is gone.
///
/// Errors: `UV_EINVAL` (NULL or unloaded module), `UV_EALREADY` (cleanup
/// already started), `UV_EBUSY` (called while its init runs).
#[no_mangle]
pub unsafe extern "C" fn kr_module_cleanup(m: *mut Module, done: kr_module_done_cb, arg: *mut c_void) -> c_int {
    guard(|| {
        module_ref(m)?;
        cleanup(m, done, arg, None)
    })
}

/// `kr_module_cleanup()` guarded by a watchdog with its own options: at
/// `warn_ms` the module's part of the report is logged; at `timeout_ms`
/// the policy applies: ABORT (report to stderr, abort()), FORCE (the shim
/// closes the handles the module left with its own close callbacks; the
/// library is never closed, the module is abandoned, and `done` gets
/// `UV_ETIMEDOUT`), WAIT (warn again every `warn_ms`). `opts` NULL means
/// the defaults of `kr_shutdown_opts_init()`.
///
/// Errors: as `kr_module_cleanup()`, and `UV_EINVAL` for bad opts.
#[no_mangle]
pub unsafe extern "C" fn kr_module_cleanup_ex(
    m: *mut Module,
    opts: *const kr_shutdown_opts_t,
    done: kr_module_done_cb,
    arg: *mut c_void,
) -> c_int {
    guard(|| {
        module_ref(m)?;
        let o = shutdown::opts_from(opts)?;
        cleanup(m, done, arg, Some(o))
    })
}

/// The unload protocol's start, shared by the C entry points and shutdown.
pub(crate) unsafe fn cleanup(m: *mut Module, done: kr_module_done_cb, arg: *mut c_void, watch: Option<kr_shutdown_opts_t>) -> Result<(), c_int> {
    let mr = &mut *m;
    if let Err(rc) = mr.life.begin_cleanup() {
        return fail(rc, format!("module {}: cleanup not possible while {}", mr.name(), state_name(mr.life.state())));
    }
    let host = mr.host;
    let now = (*host).now();
    mr.done = done;
    mr.done_arg = arg;
    mr.cleanup_ms = now;
    mr.watch = watch.map(|opts| Watch {
        opts,
        warn_at: (opts.warn_ms > 0).then(|| now + opts.warn_ms),
        timeout_at: (opts.timeout_ms > 0).then(|| now + opts.timeout_ms),
    });
    mr.acct.set_draining();
    (*host).log(
        L::KR_LOG_INFO,
        &format!("module {}: cleanup ({} handles, {} requests, {} refs live)", mr.name(), mr.acct.live_handles(), mr.acct.live_requests(), mr.acct.refs()),
    );
    if let Some(f) = mr.ops.cleanup {
        let rc = f(m);
        if rc != 0 {
            (*m).life.note_error(rc);
            (*host).log(L::KR_LOG_WARN, &format!("module {}: cleanup returned {rc}", (*m).name()));
        }
    }
    host::schedule_now(host);
    host::update(host);
    Ok(())
}

pub(crate) unsafe fn is_active(m: *mut Module) -> bool {
    (*m).life.state() == State::Active
}

/// Whether `m` declared a dependency on `on`.
pub(crate) unsafe fn depends_on(m: *mut Module, on: *mut Module) -> bool {
    (*m).depends_on.contains(&on)
}

unsafe fn depends_transitively(m: *mut Module, on: *mut Module) -> bool {
    let mut stack = vec![m];
    let mut seen = Vec::new();
    while let Some(x) = stack.pop() {
        if x == on {
            return true;
        }
        if !seen.contains(&x) {
            seen.push(x);
            stack.extend((*x).depends_on.iter().copied());
        }
    }
    false
}

/// Declares that `m` depends on `on`: at shutdown, `m` is cleaned up (and
/// gone) before `on`'s cleanup starts. Modules without a dependency between
/// them drain concurrently. Declaring it twice is harmless.
///
/// Errors: `UV_EINVAL` (NULL or unloaded module, `m == on`, modules of
/// different hosts, or a cycle: `on` already depends on `m`).
#[no_mangle]
pub unsafe extern "C" fn kr_module_depend(m: *mut Module, on: *mut Module) -> c_int {
    guard(|| {
        let a = module_ref(m)?;
        let b = module_ref(on)?;
        if m == on || a.host != b.host {
            return fail(uverr::EINVAL, "a module depends on another module of the same host");
        }
        if depends_transitively(on, m) {
            return fail(uverr::EINVAL, format!("{} already depends on {}: a cycle", b.name(), a.name()));
        }
        if !a.depends_on.contains(&on) {
            a.depends_on.push(on);
        }
        Ok(())
    })
}

/// Loop time of the module's next watchdog deadline, if watched.
pub(crate) unsafe fn watch_deadline(m: *mut Module) -> Option<u64> {
    if !(*m).is_draining() {
        return None;
    }
    let w = (*m).watch?;
    [w.warn_at, w.timeout_at].into_iter().flatten().min()
}

/// A watched cleanup reached a deadline.
pub(crate) unsafe fn watchdog(m: *mut Module, now: u64) {
    let host = (*m).host;
    let Some(mut w) = (*m).watch else { return };
    let elapsed = now.saturating_sub((*m).cleanup_ms);
    let text = crate::report::module_text(m);
    if matches!(w.timeout_at, Some(t) if now >= t) {
        match w.opts.on_timeout {
            KR_ON_TIMEOUT_ABORT => {
                eprintln!("kr_uvshim: module {} cleanup timed out after {elapsed} ms\n{text}", (*m).name());
                std::process::abort();
            }
            KR_ON_TIMEOUT_FORCE => {
                (*host).log(L::KR_LOG_WARN, &format!("module {} cleanup timed out after {elapsed} ms; abandoning it:\n{text}", (*m).name()));
                abandon(m);
                shutdown::module_gone(host);
                host::update(host);
                return;
            }
            _ => {
                w.timeout_at = Some(now + w.opts.rewarn_ms());
                (*host).log(L::KR_LOG_WARN, &format!("module {} cleanup timed out after {elapsed} ms; still waiting:\n{text}", (*m).name()));
            }
        }
    } else if matches!(w.warn_at, Some(t) if now >= t) {
        w.warn_at = None;
        (*host).log(L::KR_LOG_WARN, &format!("module {} cleanup still running after {elapsed} ms:\n{text}", (*m).name()));
    }
    (*m).watch = Some(w);
}

/// Modules abandoned by any host, kept reachable for the life of the process
/// (they are never freed: requests in flight may still call into them).
static ABANDONED: std::sync::Mutex<Vec<usize>> = std::sync::Mutex::new(Vec::new());

/// The watchdog gives up on `m`: the shim closes the handles it left (with
/// its own close callbacks), its library is never closed and its memory
/// never freed (requests in flight may still call into it), and its done
/// callback, if any, gets `UV_ETIMEDOUT`.
pub(crate) unsafe fn abandon(m: *mut Module) {
    let host = (*m).host;
    let was_failed_init = (*m).life.state() == State::InitFailed;
    let closed = tracked::close_owned_handles(Arc::as_ptr(&(*m).acct), (*host).loop_);
    // Untracked handles (found by the scan) would keep uv_run from returning.
    // Closed without a callback: nothing of the module runs for them.
    let mut untracked_closed = 0;
    for f in scan_now(m) {
        if !f.closing {
            libuv_sys2::uv_close(f.addr as *mut libuv_sys2::uv_handle_t, None);
            untracked_closed += 1;
        }
    }
    let closed = closed + untracked_closed;
    (*m).set_untracked(Vec::new());
    (*m).life.abandon();
    (*m).watch = None;
    host::forget_module(host, m);
    (*host).abandoned.push(m);
    ABANDONED.lock().unwrap_or_else(|e| e.into_inner()).push(m as usize);
    for &other in &(*host).modules {
        (*other).depends_on.retain(|&x| x != m);
    }
    (*host).log(
        L::KR_LOG_WARN,
        &format!(
            "module {}: abandoned (closed {closed} handle(s); {} request(s) and {} ref(s) still out); its library stays mapped",
            (*m).name(),
            (*m).acct.live_requests(),
            (*m).acct.refs()
        ),
    );
    if !was_failed_init {
        if let Some(done) = (*m).done.take() {
            done(host, (*m).name.as_ptr(), (*m).life.status(), (*m).done_arg);
        }
    }
}

/// One step of the protocol for a draining module (host service routine).
/// May free `m`.
pub(crate) unsafe fn advance(m: *mut Module) {
    loop {
        let host = (*m).host;
        let idle = (*m).acct.is_idle();
        let kicked = (*m).acct.take_kick();
        match (*m).life.next(idle, kicked, (*host).now()) {
            Action::Wait(_) => return,
            Action::CloseLibrary => {
                if untracked_defer(m) {
                    return;
                }
                return finish(m);
            }
            Action::CallDeinit => {
                let rc = match (*m).ops.deinit {
                    Some(f) => f(m),
                    None => 0,
                };
                (*m).life.deinit_returned(rc, (*host).now());
                if rc == uverr::EBUSY {
                    (*host).log(L::KR_LOG_DEBUG, &format!("module {}: deinit busy", (*m).name()));
                    // Asked again on the next completion or the backoff timer,
                    // never in a loop here.
                    return;
                }
                if rc != 0 {
                    (*host).log(L::KR_LOG_WARN, &format!("module {}: deinit returned {rc}", (*m).name()));
                }
                if !(*m).acct.is_idle() {
                    (*host).log(L::KR_LOG_DEBUG, &format!("module {}: waiting for what deinit started", (*m).name()));
                }
            }
        }
    }
}

/// Whether untracked handles still refer to the library about to be closed;
/// if so, a rescan is scheduled with backoff.
unsafe fn untracked_defer(m: *mut Module) -> bool {
    let mr = &mut *m;
    let Some(image) = mr.image.as_ref() else { return false };
    if mr.dl.is_null() || mr.flags & KR_MODULE_PIN != 0 {
        return false;
    }
    let host = mr.host;
    let now = (*host).now();
    if matches!(mr.scan_at, Some(at) if now < at) {
        return true;
    }
    let found = scan::scan((*host).loop_, image);
    if found.is_empty() {
        mr.set_untracked(Vec::new());
        mr.scan_at = None;
        return false;
    }
    if mr.untracked.len() != found.len() {
        let what: Vec<String> = found.iter().map(|f| format!("{} {:#x} ({})", f.type_name, f.addr, f.why)).collect();
        (*host).log(
            L::KR_LOG_WARN,
            &format!("module {}: dlclose deferred: {} untracked handle(s) refer to it: {}", mr.name(), found.len(), what.join(", ")),
        );
    }
    // Handles already closing finish their close callbacks in this loop
    // iteration: look again on the next one (1 ms: libuv 1.44 re-runs a
    // timer restarted at 0 ms within the same timer pass, before the
    // closing phase). Otherwise back off.
    let delay = if found.iter().all(|f| f.closing) {
        1
    } else {
        let d = mr.scan_backoff_ms;
        mr.scan_backoff_ms = (d * 2).min(BACKOFF_MAX_MS);
        d
    };
    mr.set_untracked(found);
    mr.scan_at = Some(now + delay);
    true
}

/// Untracked handles referring to the module's library right now (for
/// reports and dumps of modules that are not closing yet).
pub(crate) unsafe fn scan_now(m: *const Module) -> Vec<Found> {
    match (*m).image.as_ref() {
        Some(image) if !(*m).dl.is_null() && (*m).life.state() != State::Abandoned => scan::scan((*(*m).host).loop_, image),
        _ => Vec::new(),
    }
}

/// Closes the library, reports, and frees the module.
unsafe fn finish(m: *mut Module) {
    let host = (*m).host;
    let failed_init = (*m).life.state() == State::InitFailed;
    let mut rc = 0;
    if !(*m).dl.is_null() && (*m).flags & KR_MODULE_PIN == 0 && libc::dlclose((*m).dl) != 0 {
        let why = dlerror_text();
        (*host).log(L::KR_LOG_ERROR, &format!("module {}: dlclose: {why}", (*m).name()));
        rc = uverr::EIO;
    }
    if (*m).memfd >= 0 {
        libc::close((*m).memfd);
    }
    (*m).life.closed(rc);
    host::forget_module(host, m);
    for &other in &(*host).modules {
        (*other).depends_on.retain(|&x| x != m);
    }
    let status = (*m).life.status();
    if failed_init {
        (*host).log(L::KR_LOG_INFO, &format!("module {}: failed init drained ({status}), library closed", (*m).name()));
    } else {
        (*host).log(L::KR_LOG_INFO, &format!("module {}: unloaded (status {status})", (*m).name()));
        if let Some(done) = (*m).done {
            done(host, (*m).name.as_ptr(), status, (*m).done_arg);
        }
    }
    (*m).magic = 0;
    drop(Box::from_raw(m));
    // A module left: give back what its objects held in the loop's ledger.
    (*crate::ledger::of_loop((*host).loop_ as usize)).trim();
    shutdown::module_gone(host);
}
