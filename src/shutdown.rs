//! Graceful shutdown: phases and blockers (see `barrier`), then every module
//! through the unload protocol in dependency order, then the shim's own
//! handles, so that the host's `uv_run` returns by itself. A watchdog warns
//! and then applies the timeout policy, naming what is stuck.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;

use libuv_sys2 as uv;

use crate::barrier::{Barriers, BlockerId, BlockerState, Event, PhaseId};
use crate::ffi::{self, fail, guard, need};
use crate::host::{self, host_alive, host_ref, kr_log_level_t as L, Host};
use crate::module;
use crate::report;
use crate::uverr;

/// What a watchdog does when its timeout passes (`kr_shutdown_opts_t`).
#[allow(non_camel_case_types)]
pub type kr_on_timeout_t = c_int;
/// Write the report to stderr, naming the first pending blocker, then abort().
pub const KR_ON_TIMEOUT_ABORT: kr_on_timeout_t = 0;
/// Give up: every blocker still pending or waiting (in this phase and the
/// ones after it) is marked forced and never triggered again, and every
/// module not yet unloaded is abandoned at once (cleanup and deinit are not
/// called; the shim closes its handles with its own close callbacks; its
/// library is never dlclosed), then the shutdown finishes with
/// `UV_ETIMEDOUT`. Requests still in flight complete into the mapped code.
pub const KR_ON_TIMEOUT_FORCE: kr_on_timeout_t = 1;
/// Keep waiting; log the report again every `warn_ms` (or `timeout_ms`).
pub const KR_ON_TIMEOUT_WAIT: kr_on_timeout_t = 2;

/// Watchdog settings for `kr_host_shutdown()` and `kr_module_cleanup_ex()`.
/// Fill with `kr_shutdown_opts_init()` and change what you need.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(non_camel_case_types)]
pub struct kr_shutdown_opts_t {
    /// Log the report (level WARN) once this long after the start; 0: never.
    pub warn_ms: u64,
    /// Apply `on_timeout` this long after the start; 0: no timeout.
    pub timeout_ms: u64,
    /// `KR_ON_TIMEOUT_ABORT`, `KR_ON_TIMEOUT_FORCE` or `KR_ON_TIMEOUT_WAIT`.
    pub on_timeout: kr_on_timeout_t,
}

impl kr_shutdown_opts_t {
    /// How often WAIT warns again after the timeout passed.
    pub(crate) fn rewarn_ms(&self) -> u64 {
        let period = if self.warn_ms > 0 { self.warn_ms } else { self.timeout_ms };
        period.max(1)
    }
}

impl Default for kr_shutdown_opts_t {
    fn default() -> Self {
        kr_shutdown_opts_t { warn_ms: 5_000, timeout_ms: 30_000, on_timeout: KR_ON_TIMEOUT_FORCE }
    }
}

/// A blocker's trigger: "finish your work, then call `kr_blocker_done(b)`"
/// (before returning, or any time later).
#[allow(non_camel_case_types)]
pub type kr_blocker_fn = Option<unsafe extern "C" fn(b: *mut BlockerRef, arg: *mut c_void)>;

/// Describes a blocker's progress for the report: writes at most `len`
/// bytes (NUL included) to `buf` and returns 0, or a negative error.
#[allow(non_camel_case_types)]
pub type kr_blocker_state_fn = Option<unsafe extern "C" fn(arg: *mut c_void, buf: *mut c_char, len: usize) -> c_int>;

/// Called once the shutdown has finished: every phase done, every module
/// unloaded (or abandoned), the shim's handles closing. `status` is 0, or
/// `UV_ETIMEDOUT` when the FORCE policy gave up on something.
#[allow(non_camel_case_types)]
pub type kr_shutdown_done_cb = Option<unsafe extern "C" fn(host: *mut Host, status: c_int, arg: *mut c_void)>;

#[derive(Clone, Copy)]
pub(crate) struct BlockerFns {
    pub trigger: kr_blocker_fn,
    pub state: kr_blocker_state_fn,
    pub arg: *mut c_void,
}

const PHASE_MAGIC: u64 = 0x6b72_5f70_6861_7365;
const BLOCKER_MAGIC: u64 = 0x6b72_5f62_6c6f_636b;

/// The C face of a phase (`kr_phase_t`): valid until the host is freed.
pub struct PhaseRef {
    magic: u64,
    host: *mut Host,
    id: PhaseId,
}

/// The C face of a blocker (`kr_blocker_t`): valid until the host is freed.
pub struct BlockerRef {
    magic: u64,
    host: *mut Host,
    id: BlockerId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    Idle,
    Phases,
    Modules,
    Done,
}

/// Requests other threads make of the loop thread.
#[derive(Default)]
pub(crate) struct Inbox {
    shutdown: Option<(kr_shutdown_opts_t, kr_shutdown_done_cb, usize)>,
    done: Vec<usize>,
}

pub(crate) struct Shutdown {
    pub(crate) barriers: Barriers<BlockerFns>,
    // Boxed: C holds pointers to them while the Vecs grow.
    #[allow(clippy::vec_box)]
    phase_refs: Vec<Box<PhaseRef>>,
    #[allow(clippy::vec_box)]
    blocker_refs: Vec<Box<BlockerRef>>,
    pub(crate) stage: Stage,
    opts: kr_shutdown_opts_t,
    done: kr_shutdown_done_cb,
    done_arg: *mut c_void,
    pub(crate) started_ms: u64,
    warn_at: Option<u64>,
    timeout_at: Option<u64>,
    pub(crate) forced: bool,
    pumping: bool,
    /// How many shutdown signals arrived.
    signals_seen: u32,
    /// The done callback, due once the shim's handles have closed.
    pending_done: Option<(unsafe extern "C" fn(*mut Host, c_int, *mut c_void), c_int, *mut c_void)>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown {
            barriers: Barriers::new(),
            phase_refs: Vec::new(),
            blocker_refs: Vec::new(),
            stage: Stage::Idle,
            opts: kr_shutdown_opts_t::default(),
            done: None,
            done_arg: ptr::null_mut(),
            started_ms: 0,
            warn_at: None,
            timeout_at: None,
            forced: false,
            pumping: false,
            signals_seen: 0,
            pending_done: None,
        }
    }
}

impl Shutdown {
    pub(crate) fn is_running(&self) -> bool {
        matches!(self.stage, Stage::Phases | Stage::Modules)
    }

    pub(crate) fn take_done(&mut self) -> Option<(unsafe extern "C" fn(*mut Host, c_int, *mut c_void), c_int, *mut c_void)> {
        self.pending_done.take()
    }

    pub(crate) fn stage_name(&self) -> &'static str {
        match self.stage {
            Stage::Idle => "idle",
            Stage::Phases => "phases",
            Stage::Modules => "modules",
            Stage::Done => "done",
        }
    }
}

fn check_opts(o: &kr_shutdown_opts_t) -> Result<(), c_int> {
    if !matches!(o.on_timeout, KR_ON_TIMEOUT_ABORT | KR_ON_TIMEOUT_FORCE | KR_ON_TIMEOUT_WAIT) {
        return fail(uverr::EINVAL, format!("unknown on_timeout policy {}", o.on_timeout));
    }
    Ok(())
}

pub(crate) unsafe fn opts_from(opts: *const kr_shutdown_opts_t) -> Result<kr_shutdown_opts_t, c_int> {
    let o = if opts.is_null() { kr_shutdown_opts_t::default() } else { *opts };
    check_opts(&o)?;
    Ok(o)
}

fn location(file: *const c_char, line: c_int) -> String {
    if file.is_null() {
        return String::new();
    }
    let f = unsafe { CStr::from_ptr(file) }.to_string_lossy();
    format!("{f}:{line}")
}

unsafe fn name_arg<'a>(name: *const c_char) -> Result<&'a str, c_int> {
    need(name, "name")?;
    CStr::from_ptr(name).to_str().or_else(|_| fail(uverr::EINVAL, "name is not UTF-8"))
}

unsafe fn phase_ref<'a>(p: *mut PhaseRef) -> Result<&'a PhaseRef, c_int> {
    need(p, "phase")?;
    if (*p).magic != PHASE_MAGIC {
        return fail(uverr::EINVAL, "not a kr_phase_t");
    }
    Ok(&*p)
}

unsafe fn blocker_ref<'a>(b: *mut BlockerRef) -> Result<&'a BlockerRef, c_int> {
    need(b, "blocker")?;
    if (*b).magic != BLOCKER_MAGIC {
        return fail(uverr::EINVAL, "not a kr_blocker_t");
    }
    Ok(&*b)
}

/// Keeps the C faces in step with the barrier ids (dense, in creation order).
unsafe fn sync_refs(host: *mut Host) {
    let sd = &mut (*host).sd;
    while sd.phase_refs.len() < sd.barriers_phase_count() {
        let id = sd.phase_refs.len();
        sd.phase_refs.push(Box::new(PhaseRef { magic: PHASE_MAGIC, host, id }));
    }
    while sd.blocker_refs.len() < sd.barriers_blocker_count() {
        let id = sd.blocker_refs.len();
        sd.blocker_refs.push(Box::new(BlockerRef { magic: BLOCKER_MAGIC, host, id }));
    }
}

impl Shutdown {
    fn barriers_phase_count(&self) -> usize {
        self.barriers.phase_count()
    }
    fn barriers_blocker_count(&self) -> usize {
        self.barriers.blocker_count()
    }
    pub(crate) fn phase_ptr(&mut self, p: PhaseId) -> *mut PhaseRef {
        &mut *self.phase_refs[p]
    }
    pub(crate) fn blocker_ptr(&mut self, b: BlockerId) -> *mut BlockerRef {
        &mut *self.blocker_refs[b]
    }
}

/// Performs queued barrier events: triggers blockers, logs phases, and moves
/// to the module stage after the last phase. Re-entrant calls (a trigger
/// that adds a blocker or completes at once) leave the work to the outer run.
unsafe fn pump(host: *mut Host) {
    if (*host).sd.pumping {
        return;
    }
    (*host).sd.pumping = true;
    while let Some(ev) = (*host).sd.barriers.next_event() {
        match ev {
            Event::Trigger(b) => {
                let bl = (*host).sd.barriers.blocker(b);
                if bl.state != BlockerState::Waiting {
                    continue; // removed or finished before its turn
                }
                let fns = bl.payload;
                let ptr = (*host).sd.blocker_ptr(b);
                if let Some(trigger) = fns.trigger {
                    trigger(ptr, fns.arg);
                }
            }
            Event::PhaseStarted(p) => {
                let name = (*host).sd.barriers.phase(p).name.clone();
                (*host).log(L::KR_LOG_INFO, &format!("shutdown: phase \"{name}\" started"));
            }
            Event::PhaseDone(p) => {
                let ph = (*host).sd.barriers.phase(p);
                let ms = ph.finished_ms.unwrap_or(0).saturating_sub(ph.started_ms.unwrap_or(0));
                let name = ph.name.clone();
                (*host).log(L::KR_LOG_INFO, &format!("shutdown: phase \"{name}\" done in {ms} ms"));
            }
            Event::AllDone => {
                (*host).sd.stage = Stage::Modules;
                (*host).log(L::KR_LOG_INFO, "shutdown: phases done; unloading modules");
            }
        }
    }
    (*host).sd.pumping = false;
    if (*host).sd.stage == Stage::Modules {
        module_stage(host);
    }
}

/// After a change to the barriers: act on what it caused, then re-arm the
/// host's timers and loop reference.
unsafe fn settle(host: *mut Host) {
    pump(host);
    host::update(host);
}

/// Cleans up every module that nothing still loaded depends on; when none is
/// left, closes the shim's handles and reports.
pub(crate) unsafe fn module_stage(host: *mut Host) {
    if (*host).sd.stage != Stage::Modules {
        return;
    }
    if (*host).sd.forced {
        for m in (*host).modules.clone() {
            module::abandon(m);
        }
    }
    let live = (*host).modules.clone();
    if live.is_empty() {
        return finish(host);
    }
    for &m in &live {
        if !module::is_active(m) {
            continue; // already draining: its finish calls us again
        }
        let needed = live.iter().any(|&d| d != m && module::depends_on(d, m));
        if !needed {
            // Cannot fail: the module is active.
            let _ = module::cleanup(m, None, ptr::null_mut(), None);
        }
    }
    host::update(host);
}

/// A module finished (or was abandoned) during the module stage.
pub(crate) unsafe fn module_gone(host: *mut Host) {
    if (*host).sd.stage == Stage::Modules && !(*host).sd.pumping {
        module_stage(host);
    }
}

unsafe fn finish(host: *mut Host) {
    let sd = &mut (*host).sd;
    sd.stage = Stage::Done;
    let status = if sd.forced { uverr::ETIMEDOUT } else { 0 };
    let (done, arg) = (sd.done.take(), sd.done_arg);
    let elapsed = (*host).now().saturating_sub(sd.started_ms);
    let abandoned: Vec<String> = (*host).abandoned.iter().map(|&m| (*m).name().to_owned()).collect();
    if abandoned.is_empty() {
        (*host).log(L::KR_LOG_INFO, &format!("shutdown: complete in {elapsed} ms"));
    } else {
        (*host).log(L::KR_LOG_WARN, &format!("shutdown: complete in {elapsed} ms; abandoned modules: {}", abandoned.join(", ")));
    }
    (*host).sd.pending_done = done.map(|d| (d, status, arg));
    host::close_handles(host);
}

unsafe fn start(host: *mut Host, opts: kr_shutdown_opts_t, done: kr_shutdown_done_cb, arg: *mut c_void) {
    let now = (*host).now();
    let sd = &mut (*host).sd;
    sd.stage = Stage::Phases;
    sd.opts = opts;
    sd.done = done;
    sd.done_arg = arg;
    sd.started_ms = now;
    sd.warn_at = (opts.warn_ms > 0).then(|| now + opts.warn_ms);
    sd.timeout_at = (opts.timeout_ms > 0).then(|| now + opts.timeout_ms);
    (*host).log(L::KR_LOG_INFO, &format!("shutdown: started ({} phases)", sd.barriers.top_phases().len()));
    sd.barriers.start(now).expect("not started before");
    host::update(host);
    settle(host);
}

/// Work other threads queued (see `HostWaker::signal`).
pub(crate) unsafe fn process_inbox(host: *mut Host, inbox: Inbox) {
    if let Some((opts, done, arg)) = inbox.shutdown {
        if (*host).sd.stage == Stage::Idle {
            start(host, opts, done, arg as *mut c_void);
        }
    }
    for b in inbox.done {
        let b = b as *mut BlockerRef;
        if let Err(rc) = blocker_done_here(host, (*b).id) {
            (*host).log(L::KR_LOG_WARN, &format!("kr_blocker_done from another thread failed: {rc}"));
        }
    }
}

unsafe fn blocker_done_here(host: *mut Host, b: BlockerId) -> Result<(), c_int> {
    let now = (*host).now();
    (*host).sd.barriers.blocker_done(b, now).or_else(|rc| fail(rc, "blocker already done, removed or forced"))?;
    settle(host);
    Ok(())
}

/// The earliest watchdog deadline: the shutdown's or a module cleanup's.
pub(crate) unsafe fn next_deadline(host: *mut Host) -> Option<u64> {
    let sd = &(*host).sd;
    let own = if sd.is_running() { [sd.warn_at, sd.timeout_at].into_iter().flatten().min() } else { None };
    let modules = (*host).modules.iter().filter_map(|&m| module::watch_deadline(m)).min();
    [own, modules].into_iter().flatten().min()
}

/// The watchdog timer fired: warn, or apply the policy, for the shutdown and
/// for each watched module cleanup whose deadline has passed.
pub(crate) unsafe fn watchdog(host: *mut Host) {
    let now = (*host).now();
    if (*host).sd.is_running() {
        let sd = &mut (*host).sd;
        let elapsed = now.saturating_sub(sd.started_ms);
        if matches!(sd.timeout_at, Some(t) if now >= t) {
            let policy = sd.opts.on_timeout;
            sd.timeout_at = None;
            on_timeout(host, policy, elapsed);
        } else if matches!(sd.warn_at, Some(t) if now >= t) {
            sd.warn_at = None;
            let text = report::render(host, report::Format::Text);
            (*host).log(L::KR_LOG_WARN, &format!("shutdown still running after {elapsed} ms:\n{text}"));
        }
    }
    for m in (*host).modules.clone() {
        if matches!(module::watch_deadline(m), Some(t) if now >= t) {
            module::watchdog(m, now);
        }
    }
}

unsafe fn on_timeout(host: *mut Host, policy: kr_on_timeout_t, elapsed: u64) {
    match policy {
        KR_ON_TIMEOUT_ABORT => {
            let text = report::render(host, report::Format::Text);
            let first = first_pending(host).unwrap_or_else(|| "no blocker (modules still draining)".into());
            eprintln!("kr_uvshim: shutdown timed out after {elapsed} ms; first pending: {first}\n{text}");
            std::process::abort();
        }
        KR_ON_TIMEOUT_FORCE => force(host, &format!("timed out after {elapsed} ms")),
        _ => {
            let sd = &mut (*host).sd;
            sd.timeout_at = Some((*host).now() + sd.opts.rewarn_ms());
            let text = report::render(host, report::Format::Text);
            (*host).log(L::KR_LOG_WARN, &format!("shutdown timed out after {elapsed} ms; still waiting:\n{text}"));
        }
    }
}

/// "blocker \"name\" (file:line) in phase \"p\"" for the first waiting one.
pub(crate) unsafe fn first_pending(host: *mut Host) -> Option<String> {
    let sd = &(*host).sd;
    let b = sd.barriers.waiting().next()?;
    let bl = sd.barriers.blocker(b);
    Some(format!("blocker \"{}\" ({}) in phase \"{}\"", bl.name, bl.location, sd.barriers.phase(bl.phase).name))
}

/// FORCE: give up on every pending blocker and every module left.
pub(crate) unsafe fn force(host: *mut Host, why: &str) {
    if !(*host).sd.is_running() || (*host).sd.forced {
        return;
    }
    let now = (*host).now();
    let sd = &mut (*host).sd;
    sd.forced = true;
    let forced = sd.barriers.force_all(now);
    for &b in &forced {
        let bl = (*host).sd.barriers.blocker(b);
        let msg = format!("shutdown: {why}: gave up on blocker \"{}\" ({})", bl.name, bl.location);
        (*host).log(L::KR_LOG_WARN, &msg);
    }
    pump(host);
    module_stage(host);
    if host::handles_open(&*host) {
        host::update(host);
    }
}

unsafe extern "C" fn on_signal(s: *mut uv::uv_signal_t, signum: c_int) {
    let host = (*s).data as *mut Host;
    ffi::guard_callback(|| {
        // A shutdown another thread asked for and not yet started comes
        // first: its options and done callback must not be lost.
        let inbox = std::mem::take(&mut (*host).waker.lock().inbox);
        process_inbox(host, inbox);
        let sd = &mut (*host).sd;
        sd.signals_seen += 1;
        if sd.stage == Stage::Idle {
            (*host).log(L::KR_LOG_INFO, &format!("signal {signum}: graceful shutdown"));
            (*host).waker.lock().shutdown_requested = true;
            start(host, kr_shutdown_opts_t::default(), None, ptr::null_mut());
        } else if sd.is_running() && sd.signals_seen >= 2 {
            (*host).log(L::KR_LOG_WARN, &format!("signal {signum} again: forcing shutdown"));
            force(host, "second signal");
        } else if sd.is_running() {
            (*host).log(L::KR_LOG_INFO, &format!("signal {signum}: shutdown already running; a second one forces it"));
        }
    });
}

/// Creates a top-level shutdown phase; phases run in creation order.
///
/// The phase is owned by the host (valid until `kr_host_free()`).
/// Errors: `UV_EINVAL` (NULL argument), `UV_EALREADY` (the shutdown has
/// started). Loop thread only.
#[no_mangle]
pub unsafe extern "C" fn kr_phase_new(host: *mut Host, name: *const c_char, out: *mut *mut PhaseRef) -> c_int {
    guard(|| {
        let h = host_alive(host)?;
        let name = name_arg(name)?;
        need(out, "out")?;
        let p = h.sd.barriers.new_phase(name).or_else(|rc| fail(rc, "the shutdown has started"))?;
        sync_refs(host);
        *out = (*host).sd.phase_ptr(p);
        Ok(())
    })
}

/// `kr_phase_new_child()` with the caller's location, for the report (the
/// header's `kr_phase_new_child` macro fills it in).
#[no_mangle]
pub unsafe extern "C" fn kr_phase_new_child_at(
    parent: *mut PhaseRef,
    name: *const c_char,
    out: *mut *mut PhaseRef,
    file: *const c_char,
    line: c_int,
) -> c_int {
    guard(|| {
        let parent = phase_ref(parent)?;
        let host = parent.host;
        host_alive(host)?;
        let name = name_arg(name)?;
        need(out, "out")?;
        let now = (*host).now();
        let fns = BlockerFns { trigger: None, state: None, arg: ptr::null_mut() };
        let p = (*host)
            .sd
            .barriers
            .new_child(parent.id, name, &location(file, line), fns, now)
            .or_else(|rc| fail(rc, "the parent phase has finished"))?;
        sync_refs(host);
        *out = (*host).sd.phase_ptr(p);
        settle(host);
        Ok(())
    })
}

/// Creates a child phase of `parent`: one blocker of the parent (done when
/// all of the child's own blockers are), with blockers of its own. Same
/// timing rules as `kr_phase_add_blocker()`.
///
/// Errors: `UV_EINVAL` (NULL argument), `UV_EALREADY` (parent finished).
#[no_mangle]
pub unsafe extern "C" fn kr_phase_new_child(parent: *mut PhaseRef, name: *const c_char, out: *mut *mut PhaseRef) -> c_int {
    kr_phase_new_child_at(parent, name, out, ptr::null(), 0)
}

/// `kr_phase_add_blocker()` with the caller's location, for the report (the
/// header's `kr_phase_add_blocker` macro fills it in).
#[no_mangle]
pub unsafe extern "C" fn kr_phase_add_blocker_at(
    phase: *mut PhaseRef,
    name: *const c_char,
    trigger: kr_blocker_fn,
    state: kr_blocker_state_fn,
    arg: *mut c_void,
    out: *mut *mut BlockerRef,
    file: *const c_char,
    line: c_int,
) -> c_int {
    guard(|| {
        let p = phase_ref(phase)?;
        let host = p.host;
        host_alive(host)?;
        let name = name_arg(name)?;
        if trigger.is_none() {
            return fail(uverr::EINVAL, "trigger is NULL");
        }
        let now = (*host).now();
        let fns = BlockerFns { trigger, state, arg };
        let b = (*host)
            .sd
            .barriers
            .add_blocker(p.id, name, &location(file, line), fns, now)
            .or_else(|rc| fail(rc, "the phase has finished"))?;
        sync_refs(host);
        if !out.is_null() {
            *out = (*host).sd.blocker_ptr(b);
        }
        settle(host);
        Ok(())
    })
}

/// Adds a blocker to `phase`: `trigger(b, arg)` asks it to finish; it then
/// calls `kr_blocker_done(b)`, before returning or later. `state(arg, buf,
/// len)` (may be NULL) describes its progress for the report.
///
/// Timing: added before the phase starts, it is triggered when the phase
/// starts; added while the phase runs, it is triggered at once and waited
/// for; added after the phase finished, it is refused (`UV_EALREADY`).
/// `out` may be NULL; the blocker stays valid until `kr_host_free()`.
///
/// In C this name is a macro that records `__FILE__` and `__LINE__` for the
/// report; `(kr_phase_add_blocker)(...)` calls the function without them.
///
/// Errors: `UV_EINVAL` (NULL phase, name or trigger), `UV_EALREADY`.
#[no_mangle]
pub unsafe extern "C" fn kr_phase_add_blocker(
    phase: *mut PhaseRef,
    name: *const c_char,
    trigger: kr_blocker_fn,
    state: kr_blocker_state_fn,
    arg: *mut c_void,
    out: *mut *mut BlockerRef,
) -> c_int {
    kr_phase_add_blocker_at(phase, name, trigger, state, arg, out, ptr::null(), 0)
}

/// The blocker's work is finished. May be called before its trigger (work
/// that finished early is then never triggered). Thread-safe: from another
/// thread the call is queued to the loop thread and returns 0 (a failure
/// there is logged), or `UV_ECANCELED` once the shutdown has finished.
///
/// Errors: `UV_EINVAL` (NULL or not a blocker, or a child phase's),
/// `UV_EALREADY` (already done, removed, or given up by the watchdog).
#[no_mangle]
pub unsafe extern "C" fn kr_blocker_done(b: *mut BlockerRef) -> c_int {
    guard(|| {
        let br = blocker_ref(b)?;
        let host = br.host;
        let waker = (*host).waker.clone();
        if !crate::ledger::Waker::on_home_thread(&*waker) {
            if waker.signal(|inbox| inbox.done.push(b as usize)) {
                return Ok(());
            }
            return fail(uverr::ECANCELED, "the host has shut down");
        }
        blocker_done_here(host, br.id)
    })
}

/// Removes a blocker from its phase: never triggered if it was not yet, and
/// no longer waited for if it was.
///
/// Errors: `UV_EINVAL` (NULL, or `b` is not a blocker of `phase`),
/// `UV_EALREADY` (it is already done or removed). Loop thread only.
#[no_mangle]
pub unsafe extern "C" fn kr_phase_remove_blocker(phase: *mut PhaseRef, b: *mut BlockerRef) -> c_int {
    guard(|| {
        let p = phase_ref(phase)?;
        let br = blocker_ref(b)?;
        let host = p.host;
        if br.host != host {
            return fail(uverr::EINVAL, "blocker belongs to another host");
        }
        let now = (*host).now();
        (*host).sd.barriers.remove_blocker(p.id, br.id, now).or_else(|rc| fail(rc, "blocker not removable"))?;
        settle(host);
        Ok(())
    })
}

/// Fills `opts` with the defaults: warn after 5 s, FORCE after 30 s.
/// Errors: `UV_EINVAL` if `opts` is NULL.
#[no_mangle]
pub unsafe extern "C" fn kr_shutdown_opts_init(opts: *mut kr_shutdown_opts_t) -> c_int {
    guard(|| {
        need(opts, "opts")?;
        *opts = kr_shutdown_opts_t::default();
        Ok(())
    })
}

/// Starts the graceful shutdown; returns at once (the first phase's
/// triggers run inside this call). Phases run in creation order (the
/// blockers of each concurrently); then every module is cleaned up through
/// the unload protocol, a module only after every module that depends on it
/// (`kr_module_depend()`) is gone, independent ones concurrently; then the
/// shim closes its own handles and, once they are closed, calls
/// `done(host, status, arg)` (may be NULL) from the loop, never from inside
/// this call. `kr_host_free()` may be called from `done`. Once the host has
/// closed its own handles, `uv_run` returns by itself: nothing calls
/// `uv_stop`.
///
/// `opts` NULL means the defaults (`kr_shutdown_opts_init()`). The watchdog
/// logs the report at `warn_ms` and applies `on_timeout` at `timeout_ms`;
/// it never keeps the loop alive by itself.
///
/// Thread-safe: from another thread the start is queued to the loop thread
/// (`done` then runs there).
///
/// Errors: `UV_EINVAL` (NULL host, bad opts), `UV_EALREADY` (a shutdown was
/// already requested or has run), `UV_ECANCELED` (host being freed).
#[no_mangle]
pub unsafe extern "C" fn kr_host_shutdown(
    host: *mut Host,
    opts: *const kr_shutdown_opts_t,
    done: kr_shutdown_done_cb,
    arg: *mut c_void,
) -> c_int {
    guard(|| {
        need(host, "host")?;
        let o = opts_from(opts)?;
        let waker = (*host).waker.clone();
        {
            let mut inner = waker.lock();
            if inner.shutdown_requested {
                return fail(uverr::EALREADY, "a shutdown was already requested");
            }
            if inner.async_.is_null() {
                return fail(uverr::ECANCELED, "the host is being freed");
            }
            inner.shutdown_requested = true;
        }
        if !crate::ledger::Waker::on_home_thread(&*waker) {
            waker.signal(|inbox| inbox.shutdown = Some((o, done, arg as usize)));
            return Ok(());
        }
        start(host, o, done, arg);
        Ok(())
    })
}

/// Starts `kr_host_shutdown(host, NULL, NULL, NULL)` (default options, no
/// done callback) when `signum` (SIGTERM, SIGINT, ...) arrives, unless a
/// shutdown already runs; the second such signal during the shutdown
/// applies the FORCE policy at once. Several signal numbers may be
/// installed; they count together. The signal watcher does not keep the
/// loop alive.
///
/// Errors: `UV_EINVAL` (NULL host), libuv's error for a bad `signum`.
#[no_mangle]
pub unsafe extern "C" fn kr_host_shutdown_on_signal(host: *mut Host, signum: c_int) -> c_int {
    guard(|| {
        let h = host_ref(host)?;
        let s = host::add_signal(host);
        let rc = uv::uv_signal_init(h.loop_, s);
        if rc != 0 {
            host::drop_last_signal(host);
            return fail(rc, "uv_signal_init failed");
        }
        (*s).data = host as *mut c_void;
        let rc = uv::uv_signal_start(s, Some(on_signal), signum);
        uv::uv_unref(s as *mut uv::uv_handle_t);
        if rc != 0 {
            // Initialised, so it is closed with the others; it never fires.
            return fail(rc, format!("uv_signal_start({signum}) failed"));
        }
        Ok(())
    })
}
