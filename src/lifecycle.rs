//! The module state machine of the unload protocol, in plain Rust.
//!
//! The host feeds it facts (cleanup requested, the module is idle, deinit
//! returned this, time is now) and performs the action it answers with.
//! No libuv, no dlopen: unit tests and Miri drive it directly.

use crate::uverr;

/// Where a module is in its life. Mirrors `kr_module_state_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// `<name>_init` is running.
    Loading,
    Active,
    /// Cleanup began: waiting for zero live, then asking deinit.
    Cleaning,
    /// Deinit returned (0 or an error): waiting only for what it may have
    /// started, then the library is closed. Deinit is not asked again.
    Deinited,
    /// Init failed: draining what init left, then the library is closed.
    /// Neither cleanup nor deinit runs.
    InitFailed,
    /// The watchdog gave up on it: never closed, never freed.
    Abandoned,
    /// Library closed; the host is about to report and free it.
    Closed,
}

/// What the host must do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing now; look again when the module drains, or at this loop time.
    Wait(Option<u64>),
    CallDeinit,
    CloseLibrary,
}

/// Backoff when deinit says "not yet" and nothing is outstanding: doubles
/// from the first to the cap. Never a fixed short period.
pub(crate) const BACKOFF_FIRST_MS: u64 = 2;
pub(crate) const BACKOFF_MAX_MS: u64 = 1000;

#[derive(Debug)]
pub struct Lifecycle {
    state: State,
    /// When deinit may be asked again without a completion in between.
    retry_at: Option<u64>,
    backoff_ms: u64,
    /// Times deinit answered `UV_EBUSY`.
    busy_answers: u32,
    /// First error to report in the done callback.
    status: i32,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self::new()
    }
}

impl Lifecycle {
    pub fn new() -> Self {
        Lifecycle { state: State::Loading, retry_at: None, backoff_ms: BACKOFF_FIRST_MS, busy_answers: 0, status: 0 }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn status(&self) -> i32 {
        self.status
    }

    #[cfg(test)]
    pub fn busy_answers(&self) -> u32 {
        self.busy_answers
    }

    /// A module that is open for business: loading, active or cleaning.
    pub fn is_open(&self) -> bool {
        matches!(self.state, State::Loading | State::Active)
    }

    /// Init returned `rc`.
    pub fn init_returned(&mut self, rc: i32) {
        debug_assert_eq!(self.state, State::Loading);
        if rc == 0 {
            self.state = State::Active;
        } else {
            self.state = State::InitFailed;
            self.status = rc;
        }
    }

    /// `kr_module_cleanup`: only an active module can begin it.
    pub fn begin_cleanup(&mut self) -> Result<(), i32> {
        match self.state {
            State::Active => {
                self.state = State::Cleaning;
                Ok(())
            }
            State::Loading => Err(uverr::EBUSY),
            _ => Err(uverr::EALREADY),
        }
    }

    /// What to do, given whether the module is idle (no live handles,
    /// requests or refs), whether it drained since the host last asked
    /// (`kicked`), and the loop time.
    pub fn next(&mut self, idle: bool, kicked: bool, now: u64) -> Action {
        match self.state {
            State::Cleaning if idle => match self.retry_at {
                Some(at) if !kicked && now < at => Action::Wait(Some(at)),
                _ => Action::CallDeinit,
            },
            State::Deinited | State::InitFailed if idle => Action::CloseLibrary,
            _ => Action::Wait(None),
        }
    }

    /// Deinit returned `rc` at loop time `now`.
    pub fn deinit_returned(&mut self, rc: i32, now: u64) {
        debug_assert_eq!(self.state, State::Cleaning);
        if rc == uverr::EBUSY {
            self.busy_answers += 1;
            self.retry_at = Some(now + self.backoff_ms);
            self.backoff_ms = (self.backoff_ms * 2).min(BACKOFF_MAX_MS);
        } else {
            if rc != 0 && self.status == 0 {
                self.status = rc;
            }
            self.retry_at = None;
            self.state = State::Deinited;
        }
    }

    /// Records an error to report at the end (cleanup's non-zero return).
    pub fn note_error(&mut self, rc: i32) {
        if rc != 0 && self.status == 0 {
            self.status = rc;
        }
    }

    /// The library was closed (or, for pinned and registered modules, the
    /// protocol finished); `rc` is the close's own result.
    pub fn closed(&mut self, rc: i32) {
        if rc != 0 && self.status == 0 {
            self.status = rc;
        }
        self.state = State::Closed;
    }

    /// The watchdog forced it: it will never be closed.
    pub fn abandon(&mut self) {
        self.state = State::Abandoned;
        if self.status == 0 {
            self.status = uverr::ETIMEDOUT;
        }
    }

    /// The pending retry deadline, if deinit asked to be asked later.
    pub fn retry_at(&self) -> Option<u64> {
        match self.state {
            State::Cleaning => self.retry_at,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active() -> Lifecycle {
        let mut l = Lifecycle::new();
        l.init_returned(0);
        l
    }

    #[test]
    fn happy_path() {
        let mut l = active();
        assert_eq!(l.state(), State::Active);
        assert_eq!(l.next(true, false, 0), Action::Wait(None), "active modules are left alone");
        l.begin_cleanup().unwrap();
        assert_eq!(l.next(false, false, 0), Action::Wait(None), "live work: wait");
        assert_eq!(l.next(true, true, 5), Action::CallDeinit);
        l.deinit_returned(0, 5);
        assert_eq!(l.next(true, false, 5), Action::CloseLibrary);
        l.closed(0);
        assert_eq!((l.state(), l.status()), (State::Closed, 0));
    }

    #[test]
    fn second_cleanup_and_cleanup_while_loading() {
        let mut l = Lifecycle::new();
        assert_eq!(l.begin_cleanup(), Err(uverr::EBUSY));
        l.init_returned(0);
        l.begin_cleanup().unwrap();
        assert_eq!(l.begin_cleanup(), Err(uverr::EALREADY));
        l.deinit_returned(0, 0);
        assert_eq!(l.begin_cleanup(), Err(uverr::EALREADY));
    }

    #[test]
    fn busy_deinit_backs_off_exponentially_unless_kicked() {
        let mut l = active();
        l.begin_cleanup().unwrap();
        let mut now = 100;
        let mut waits = vec![];
        for _ in 0..12 {
            assert_eq!(l.next(true, false, now), Action::CallDeinit);
            l.deinit_returned(uverr::EBUSY, now);
            let Action::Wait(Some(at)) = l.next(true, false, now) else { panic!("must wait") };
            waits.push(at - now);
            now = at;
        }
        assert_eq!(&waits[..4], &[2, 4, 8, 16]);
        assert_eq!(*waits.last().unwrap(), BACKOFF_MAX_MS);
        assert_eq!(l.busy_answers(), 12);
        // A completion in between: asked again at once.
        l.deinit_returned(uverr::EBUSY, now);
        assert_eq!(l.next(true, true, now), Action::CallDeinit);
        // Deinit started something and said busy: wait for it, no timer.
        l.deinit_returned(uverr::EBUSY, now);
        assert_eq!(l.next(false, false, now + 5000), Action::Wait(None));
    }

    #[test]
    fn failing_deinit_still_closes_and_reports_its_code() {
        let mut l = active();
        l.begin_cleanup().unwrap();
        l.deinit_returned(uverr::EIO, 0);
        assert_eq!(l.next(false, false, 0), Action::Wait(None), "waits for what deinit started");
        assert_eq!(l.next(true, false, 0), Action::CloseLibrary);
        l.closed(uverr::EINVAL);
        assert_eq!(l.status(), uverr::EIO, "first error wins");
    }

    #[test]
    fn failed_init_drains_then_closes_without_deinit() {
        let mut l = Lifecycle::new();
        l.init_returned(-12);
        assert_eq!(l.state(), State::InitFailed);
        assert_eq!(l.begin_cleanup(), Err(uverr::EALREADY));
        assert_eq!(l.next(false, true, 0), Action::Wait(None));
        assert_eq!(l.next(true, true, 0), Action::CloseLibrary);
        assert_eq!(l.status(), -12);
    }

    #[test]
    fn abandoned_is_terminal_and_timed_out() {
        let mut l = active();
        l.begin_cleanup().unwrap();
        l.abandon();
        assert_eq!(l.next(true, true, 0), Action::Wait(None));
        assert_eq!(l.status(), uverr::ETIMEDOUT);
        assert_eq!(l.retry_at(), None);
    }
}
